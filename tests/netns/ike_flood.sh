#!/bin/bash
# A road-warrior responder under a flood of spoofed IKE_SA_INIT requests
# still lets a real client in: RFC 7296 §2.6 (COOKIE). Once too many
# half-open IKE SAs exist, the responder answers new requests with a
# COOKIE and keeps no state; a spoofing sender never sees the cookie, a
# real initiator repeats its request with it and gets its IKE SA.
#
# Namespaces: server (tunsecd, connection "gw" with remote_addrs = %any,
# any peer identity, one PSK), flood ($BUILD/ikeflood, tests/tools/
# ikeflood.c: spoofed sources from 10.98.0.0/16, full rate, ~6 s), client
# (tunsecd, start_action = start), each on its own link to the server.
# Checks: the client's IKE SA and CHILD_SA come up while the flood still
# runs (the outcome is asserted, not a duration); the server's stats show
# cookies sent (COOKIE engaged); the server survives. For information:
# the flood rate (ikeflood's line) and the server's CPU time meanwhile.
#
# At full rate the server's socket overflows, so some of the client's
# datagrams are lost too, and each loss costs it a retransmission timeout
# (§2.1): the client retransmits after 0.5 s, then 1.5 times longer each
# time, up to 10 times (not strongSwan's 4 s, 1.8, 5), and the flood lasts
# up to FLOOD_SECS but stops as soon as the client is up.
#
#	flood F 10.76.1.2 -- 10.76.1.1 server S 10.76.2.1 -- 10.76.2.2 client C
#
# Fails on a responder whose half-open SAs are capped below the point
# where it asks for cookies: the flood takes every slot, new requests are
# dropped (sa-full), and the client's retransmissions meet a full table.
. "$(dirname "$0")/../lib.sh"
lib_init tsFl
IKEFLOOD=$BUILD_DIR/ikeflood
[ -x "$IKEFLOOD" ] || die "no $IKEFLOOD (make build-tests)"
FLOOD_SECS=20

S_NS=tsFl-$$-s
F_NS=tsFl-$$-f
C_NS=tsFl-$$-c
ns_add "$S_NS"
ns_add "$F_NS"
ns_add "$C_NS"
veth_add "$F_NS" tsflf0 10.76.1.2/24 "$S_NS" tsfls0 10.76.1.1/24
veth_add "$C_NS" tsflc0 10.76.2.2/24 "$S_NS" tsfls1 10.76.2.1/24
ip -n "$F_NS" route add 10.76.2.0/24 via 10.76.1.1
# the spoofed sources route back towards the flood (where nothing answers)
ip -n "$S_NS" route add 10.98.0.0/16 via 10.76.1.2
wait_for 5 nsx "$C_NS" ping -c 1 -W 1 10.76.2.1 || die "no link client-server"
wait_for 5 nsx "$F_NS" ping -c 1 -W 1 10.76.2.1 || die "no route flood-server"

PSK="ike flood test $RANDOM$RANDOM shared secret"
ike_conf "$WORK/s.conf" s tss0 "10.201.2.1/32" 10.76.2.1 %any server.example %any \
	"10.201.2.0/24" "10.201.1.0/24" none
TSEC_EXTRA=$'retransmit_timeout = 0.5\nretransmit_base = 1.5\nretransmit_tries = 10' ike_conf "$WORK/c.conf" c tsc0 "10.201.1.1/32" 10.76.2.2 10.76.2.1 client.example \
	server.example "10.201.1.0/24" "10.201.2.0/24" start
tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
SPID=${TSD_PID[s]}
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
t0=$(cpu_ticks "$SPID")

lib_bg "$WORK/flood.out" ip netns exec "$F_NS" "$IKEFLOOD" --dst 10.76.2.1 \
	--src-net 10.98.0.0/16 --seconds "$FLOOD_SECS"
FLOOD_PID=$LIB_PID
flooding() { kill -0 "$FLOOD_PID" 2>/dev/null; }
# the flood has the server's attention before the client starts
sleep 1
flooding || die "ikeflood ended at once: $(cat "$WORK/flood.out")"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"

established() { tsc "$1" status | grep -q "gw\[[0-9]*\]: established"; }
child_up() { tsc "$1" status | grep -q "net{0x"; }
# Poll while the flood lasts; what counts is where the client got before
# it ended.
up=no
while flooding; do
	if established c && child_up c; then
		up=yes
		break
	fi
	sleep 0.1
done
check_eq "client: IKE SA and CHILD_SA established while the flood ran" "$up" yes
[ "$up" = yes ] || tsc c status | sed 's/^/     /'
lib_stop "$FLOOD_PID" # SIGTERM: ikeflood prints its line and exits
t1=$(cpu_ticks "$SPID")
say "ikeflood: $(tail -n 1 "$WORK/flood.out")"
say "server CPU during the run: $(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" \
	'BEGIN { printf "%.2f s", (b - a) / hz }')"
say "server gw/ike: sa-full $(tstat s gw/ike sa-full), cookie-sent $(tstat s gw/ike cookie-sent)"
check "server: the client's IKE SA is there" wait_for 3 established s
check_stat "server answered with COOKIEs (RFC 7296 §2.6)" s gw/ike cookie-sent 1
check "server still running" tsd_alive s
lib_finish
