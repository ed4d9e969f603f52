#!/bin/bash
# asan: CHILD_SA rekeys in every ordering of IKE and ESP on the wire
# No packet is lost across a CHILD_SA rekey (RFC 7296 §2.8, make-before-
# break), whichever way IKE and ESP are reordered between two tunsecd.
# `tunsec rekey` starts each rekey at a chosen moment; an NFQUEUE listener in
# the middle namespace holds back one class of packets so that each ordering
# happens on every run, not once in a while:
#   A  the client rekeys; the server's IKE to the client is held 200-300 ms:
#      ESP from the server overtakes its CREATE_CHILD_SA response. The
#      responder must not send on the new SA before the initiator has it.
#   B  the same with the roles swapped.
#   C  the client rekeys; the server's ESP to the client is held 100-250 ms:
#      packets on the old SA arrive after the Delete exchange. The old
#      inbound SA must still take them (it lingers after its Delete).
#   D  the same with the roles swapped.
#   E  both rekey at once while IKE is held both ways: a simultaneous rekey
#      (§2.8.1); the redundant SA never carries traffic and is deleted.
# Each phase: pings every 10 ms for 5 s both ways through the tunnel (the
# packets are held only until the rekey has settled); checks that
# every ping came back, that neither side counted unknown-spi, no-sa,
# replay or icv drops (per side, so a failure says who dropped what), that
# the rekey happened (new SPIs, one CHILD_SA left) and that the ordering
# was forced (packets held). On failure both daemons' CHILD_SA lines (SPIs,
# install and switch order) are printed.
. "$(dirname "$0")/../lib.sh"
lib_init tsIr
topo3 tsIr
PSK="rekey order test $RANDOM$RANDOM"
# Only `tunsec rekey` rekeys; the default replay window takes the
# reordering of the held packets (at most ~25 at 10 ms intervals).
LIMITS=$'rekey_time = 1h\nlife_time = 2h\nrand_time = 0'
TSEC_EXTRA="udp_gso = no" CHILD_EXTRA=$LIMITS \
	ike_conf "$WORK/c.conf" c tsc0 "$C_IN4/32" $C_UL "$C_PEER" moon.example sun.example \
	"10.201.1.0/24" "10.201.2.0/24" start
TSEC_EXTRA="udp_gso = no" CHILD_EXTRA=$LIMITS \
	ike_conf "$WORK/s.conf" s tss0 "$S_IN4/32" $S_UL "%any" sun.example moon.example \
	"10.201.2.0/24" "10.201.1.0/24" none
tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"

children() { tsc "$1" status | grep -c 'net{0x'; }
spis() { tsc "$1" status | sed -n 's/.*net{\(0x[0-9a-f]*\/0x[0-9a-f]*\)}.*/\1/p' | sort | tr '\n' ' '; }
settled() { # SIDE OLD_SPIS: one CHILD_SA, not the old one, nothing pending
	[ "$(children "$1")" = 1 ] && [ "$(spis "$1")" != "$2" ] &&
		! tsc "$1" status | grep -q "awaiting its Delete\|the peer's rekey"
}
check "client: CHILD_SA up" wait_for 10 sh -c "[ \"\$('$TUNSEC' -s '$WORK/c.sock' status | grep -c 'net{0x')\" = 1 ]"
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null || die "no ping through the tunnel"
check "status header counts the negotiated SAs" \
	sh -c "'$TUNSEC' -s '$WORK/s.sock' status | head -n 1 | grep -q '0 tunnels, 1 IKE SA, 1 CHILD_SA\$'"

rekey() { "$TUNSEC" -s "${TSD_SOCK[$1]}" rekey gw >/dev/null; }
same_count() { [ "$(tstat "$1" total "$2")" = "$(tstat "$3" total "$4")" ]; }
DROPS="unknown-spi no-sa replay icv"
snap() { # SIDE -> "v1 v2 ..." for $DROPS
	local c out=""
	for c in $DROPS; do out="$out $(tstat "$1" total "$c")"; done
	echo "$out"
}

# hold WHAT MIN MAX iptables-match...: NFQUEUE those forwarded packets in M
# (--queue-bypass: with no listener bound, packets pass rather than drop;
# every iptables change is checked, a failed one ends the test: a rule left
# behind would drop or delay packets in the phases after it.)
hold() {
	nfq_delay "$M_NS" 7 "$2" "$3" || die "the NFQUEUE listener did not start"
	HOLD_RULE=("${@:4}" -j NFQUEUE --queue-num 7 --queue-bypass)
	nsx "$M_NS" iptables -w -A FORWARD "${HOLD_RULE[@]}" || die "iptables -A failed"
}
unhold() {
	nsx "$M_NS" iptables -w -D FORWARD "${HOLD_RULE[@]}" || die "iptables -D failed"
	! nsx "$M_NS" iptables -w -C FORWARD "${HOLD_RULE[@]}" 2>/dev/null ||
		die "the NFQUEUE rule is still there after its delete"
	# The listener releases what it holds on time (at most 300 ms) before
	# it is stopped: nothing can be left in the kernel's queue, which drops
	# whatever is still there when its listener goes.
	sleep 0.5
	lib_stop "$NFQ_PID"
	HELD=$(sed -n 's/^delayed \([0-9]*\) packets.*/\1/p' "$WORK/nfq_delay.log")
	RELEASED=$(sed -n 's/^delayed .* released \([0-9]*\),.*/\1/p' "$WORK/nfq_delay.log")
}

# phase NAME WHO_REKEYS(c|s|both) WHAT_IS_HELD MIN MAX iptables-match...
phase() {
	local name=$1 who=$2 what=$3 min=$4 max=$5 c0 s0 c1 s1 old_c old_s i failed0=$FAILED
	shift 5
	old_c=$(spis c)
	old_s=$(spis s)
	c0=($(snap c))
	s0=($(snap s))
	hold "$what" "$min" "$max" "$@"
	lib_bg "$WORK/ping-$name-c.txt" ip netns exec "$C_NS" ping -n -q -i 0.01 -c 500 $S_IN4
	local pc=$LIB_PID
	lib_bg "$WORK/ping-$name-s.txt" ip netns exec "$S_NS" ping -n -q -i 0.01 -c 500 $C_IN4
	local ps=$LIB_PID
	sleep 0.5
	case $who in
	c) rekey c ;;
	s) rekey s ;;
	both) rekey c & rekey s; wait $! ;;
	esac
	if wait_for 8 settled c "$old_c" && wait_for 8 settled s "$old_s"; then
		ok "$name: rekeyed: client $old_c-> $(spis c), server $old_s-> $(spis s)"
		# The old inbound SAs linger a few seconds after their Delete.
		check "$name: client status: ${old_c%%/*} lingers for late packets" \
			sh -c "'$TUNSEC' -s '${TSD_SOCK[c]}' status | grep -q 'rekeyed and deleted: ${old_c%%/*} in'"
		check "$name: server status: ${old_s%%/*} lingers for late packets" \
			sh -c "'$TUNSEC' -s '${TSD_SOCK[s]}' status | grep -q 'rekeyed and deleted: ${old_s%%/*} in'"
	else
		bad "$name: rekey did not settle: client $(spis c)($(children c) CHILD_SAs), server $(spis s)($(children s))"
	fi
	# Released while the pings still run (5 s), so that ping's own wait
	# for the last replies (twice the largest RTT) is never cut short by
	# a held packet: a missing reply is a lost packet.
	unhold
	check_ge "$name: $what held back (the ordering was forced)" "${HELD:-0}" 1
	check_eq "$name: every held packet released (the harness lost none)" "${RELEASED:-}" "${HELD:-}"
	wait_for 20 sh -c "! kill -0 $pc 2>/dev/null && ! kill -0 $ps 2>/dev/null"
	# Every ESP packet one side sent, the other decrypted.
	check "$name: ESP packets sent by the client = decrypted by the server" \
		wait_for 3 same_count c packets-out s packets-in
	check "$name: ESP packets sent by the server = decrypted by the client" \
		wait_for 3 same_count s packets-out c packets-in
	check "$name: client -> server pings: 500 sent, 500 back" \
		grep -q '500 packets transmitted, 500 received' "$WORK/ping-$name-c.txt"
	check "$name: server -> client pings: 500 sent, 500 back" \
		grep -q '500 packets transmitted, 500 received' "$WORK/ping-$name-s.txt"
	c1=($(snap c))
	s1=($(snap s))
	i=0
	for d in $DROPS; do
		check_eq "$name: client dropped no packet as $d" $((c1[i] - c0[i])) 0
		check_eq "$name: server dropped no packet as $d" $((s1[i] - s0[i])) 0
		i=$((i + 1))
	done
	if [ "$FAILED" != "$failed0" ]; then
		grep -h transmitted "$WORK/ping-$name-c.txt" "$WORK/ping-$name-s.txt" | sed 's/^/     | /'
		# The kernel's drops: raw sockets (the last column of
		# /proc/net/raw), UDP sockets, IP discards, per namespace.
		for ns in "$C_NS" "$M_NS" "$S_NS"; do
			say "$ns: raw socket drops $(nsx "$ns" awk 'NR > 1 { d += $NF } END { print d + 0 }' /proc/net/raw),"\
				"UDP InErrors/RcvbufErrors $(nsx "$ns" awk '/^Udp:/ { if (h) { print $4 "/" $6; exit } h = 1 }' /proc/net/snmp)," \
				"IP InDiscards $(nsx "$ns" awk '/^Ip:/ { if (h) { print $9; exit } h = 1 }' /proc/net/snmp)," \
				"links (rx/tx dropped): $(nsx "$ns" ip -s -o link | awk '{ for (i = 1; i <= NF; i++) if ($i == "RX:") rx = $(i + 11); else if ($i == "TX:") tx = $(i + 11); printf "%s %s/%s ", $2, rx, tx }')"
		done
		local sn=0 a b rest
		while read -r a b rest; do sn=$((sn + 16#$b)); done </proc/net/softnet_stat
		say "kernel backlog drops (all CPUs, /proc/net/softnet_stat): $sn"
		say "$(esp_path $S_UL $C_UL "$C_NS") (the client decrypted $(tstat c total packets-in))"
		say "$(esp_path $C_UL $S_UL "$S_NS") (the server decrypted $(tstat s total packets-in))"
		for side in c s; do
			say "$side: CHILD_SA lines of this run"
			grep -E 'CHILD_SA|sending on' "${TSD_LOG[$side]}" | tail -n 12 | sed 's/^/     | /'
			tsc "$side" stats | grep -E '^total|rekey-collisions' | grep -v ' 0$' | sed 's/^/     | /'
		done
	fi
}

# Where an ESP packet could be lost, counted by the kernel: entering the
# middle (mangle PREROUTING), leaving it (mangle POSTROUTING, after the
# delayer) and arriving at each end (mangle INPUT); printed on a failure.
for dir in "$S_UL $C_UL" "$C_UL $S_UL"; do
	set -- $dir
	nsx "$M_NS" iptables -t mangle -A PREROUTING -s "$1" -d "$2" -p esp
	nsx "$M_NS" iptables -t mangle -A POSTROUTING -s "$1" -d "$2" -p esp
done
nsx "$C_NS" iptables -t mangle -A INPUT -s $S_UL -p esp
nsx "$S_NS" iptables -t mangle -A INPUT -s $C_UL -p esp
esp_path() { # FROM_UL TO_UL TO_NS
	local m_in m_out end
	m_in=$(nsx "$M_NS" iptables -t mangle -nvxL PREROUTING | awk -v s="$1" -v d="$2" '$3 == "50" && $7 == s && $8 == d { print $1 }')
	m_out=$(nsx "$M_NS" iptables -t mangle -nvxL POSTROUTING | awk -v s="$1" -v d="$2" '$3 == "50" && $7 == s && $8 == d { print $1 }')
	end=$(nsx "$3" iptables -t mangle -nvxL INPUT | awk -v s="$1" '$3 == "50" && $7 == s { print $1 }')
	echo "ESP $1 -> $2: into the middle $m_in, out of it $m_out, into the receiver's stack $end"
}
IKE_S2C=(-s $S_UL -d $C_UL -p udp -m multiport --sports 500,4500)
IKE_C2S=(-s $C_UL -d $S_UL -p udp -m multiport --sports 500,4500)
phase A c "server's IKE" 200 300 "${IKE_S2C[@]}"
phase B s "client's IKE" 200 300 "${IKE_C2S[@]}"
phase C c "server's ESP" 100 250 -s $S_UL -d $C_UL -p esp
phase D s "client's ESP" 100 250 -s $C_UL -d $S_UL -p esp
coll0=$(($(tstat c ike child-rekey-collisions) + $(tstat s ike child-rekey-collisions)))
phase E both "IKE both ways" 200 300 -p udp -m multiport --sports 500,4500
coll1=$(($(tstat c ike child-rekey-collisions) + $(tstat s ike child-rekey-collisions)))
check_ge "E: the rekeys collided (child-rekey-collisions, both sides)" $((coll1 - coll0)) 1
check "E: the redundant SA never carried traffic (deleted unused)" \
	grep -q "lost a simultaneous rekey" "${TSD_LOG[c]}" "${TSD_LOG[s]}"
# The kernel's own IPv6 traffic on the TUN devices (router solicitations,
# MLD reports) went on through all phases: counted apart from no-sa.
check_ge "the kernel's link-scope IPv6 on the TUN counted as link-scope" \
	"$(($(tstat c total link-scope) + $(tstat s total link-scope)))" 1
lib_finish
