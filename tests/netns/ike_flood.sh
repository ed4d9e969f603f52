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
# cookies sent (`ike cookie-sent`: COOKIE engaged); the server survives.
# For information, not asserted: the flood rate (ikeflood's line), the
# server's CPU time meanwhile, what share of the flood its socket took in
# (the rest the kernel dropped: UDP RcvbufErrors), and how long the client
# took from its start to its CHILD_SA. The server's CPU includes the flood
# namespace taking in the COOKIE answers (a veth delivers in the sender's
# context): about a fifth of it, which a real NIC would not cost.
#
# At full rate the server's socket overflows (about 40 % of the flood is
# dropped on a 2-core machine), so the client's requests are lost as often,
# and each loss costs it a retransmission timeout (§2.1). So that a run of
# losses cannot make the test flaky, the client retransmits after 0.25 s,
# then 1.2 times longer each time, up to 20 times (not strongSwan's 4 s,
# 1.8, 5): about 15 tries per request within FLOOD_SECS, so even at 50 %
# loss each of its three requests (IKE_SA_INIT, again with the COOKIE,
# IKE_AUTH) fails them all with odds of 2^-15. The flood lasts up to
# FLOOD_SECS but stops as soon as the client is up.
#
#	flood F 10.76.1.2 -- 10.76.1.1 server S 10.76.2.1 -- 10.76.2.2 client C
#
# Fails on a responder whose half-open SAs are capped below the point
# where it asks for cookies (as tunsecd was with 8 SA slots per
# connection): the flood takes every slot, new requests are dropped
# (sa-full), and the client's retransmissions meet a full table. Today the
# engine asks for cookies from 10 half-open SAs in all (cookie_threshold,
# strongSwan's default), far below its caps (half_open_max 4096).
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
TSEC_EXTRA=$'retransmit_timeout = 0.25\nretransmit_base = 1.2\nretransmit_tries = 20' ike_conf "$WORK/c.conf" c tsc0 "10.201.1.1/32" 10.76.2.2 10.76.2.1 client.example \
	server.example "10.201.1.0/24" "10.201.2.0/24" start
tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
SPID=${TSD_PID[s]}
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# datagrams the server's namespace dropped for a full socket buffer
rcvbuf_errors() { nsx "$S_NS" awk '$1 == "Udp:" && n++ { print $6 }' /proc/net/snmp; }
now_s() { date +%s.%N; }
t0=$(cpu_ticks "$SPID")
w0=$(now_s)

lib_bg "$WORK/flood.out" ip netns exec "$F_NS" "$IKEFLOOD" --dst 10.76.2.1 \
	--src-net 10.98.0.0/16 --seconds "$FLOOD_SECS"
FLOOD_PID=$LIB_PID
flooding() { kill -0 "$FLOOD_PID" 2>/dev/null; }
# the flood has the server's attention before the client starts
sleep 1
flooding || die "ikeflood ended at once: $(cat "$WORK/flood.out")"
c0=$(now_s)
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"

established() { tsc "$1" status | grep -q "gw\[[0-9]*\]: established"; }
child_up() { tsc "$1" status | grep -q "net{0x"; }
# Poll while the flood lasts; what counts is where the client got before
# it ended.
up=no
while flooding; do
	if established c && child_up c; then
		up=yes
		c1=$(now_s)
		break
	fi
	sleep 0.1
done
check_eq "client: IKE SA and CHILD_SA established while the flood ran" "$up" yes
[ "$up" = yes ] || tsc c status | sed 's/^/     /'
lib_stop "$FLOOD_PID" # SIGTERM: ikeflood prints its line and exits
t1=$(cpu_ticks "$SPID")
w1=$(now_s)
say "ikeflood: $(tail -n 1 "$WORK/flood.out")"
say "server CPU during the flood: $(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" \
	-v w="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" \
	'BEGIN { printf "%.2f s in %.2f s (%.0f %% of one core)", (b - a) / hz, w, 100 * (b - a) / hz / w }')"
say "server: took in $(tstat s total ike-in) IKE datagrams, its socket dropped $(rcvbuf_errors)"
[ "$up" = yes ] && say "client: CHILD_SA up $(awk -v a="$c0" -v b="$c1" \
	'BEGIN { printf "%.2f", b - a }') s after its start (tx-retransmit $(tstat c ike tx-retransmit))"
say "server ike: cookie-sent $(tstat s ike cookie-sent), sas $(tstat s ike sas)," \
	"half-open-blocked $(tstat s ike half-open-blocked), sa-full $(tstat s ike sa-full)"
check "server: the client's IKE SA is there" wait_for 3 established s
check_stat "server answered with COOKIEs (RFC 7296 §2.6)" s ike cookie-sent 1
check "server still running" tsd_alive s
lib_finish
