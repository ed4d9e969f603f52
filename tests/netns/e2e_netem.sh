#!/bin/bash
# A bad network in the middle: 5% loss in each direction, duplicated and
# reordered ESP packets. Random data arrives intact (SHA-256 at both ends), a
# 100 MiB iperf3 TCP transfer through the tunnel completes, the
# receiver refuses the duplicates as replays (RFC 4303 §3.4.3) and no
# reordered packet is refused: replay drops never exceed the duplicates the
# middle injected, and there are no icv drops.
#
# With sch_netem: netem on both middle links (loss 5%, duplicate 2%, 75% of
# packets delayed 1 ms so the rest overtake them). Without it (this kernel
# has no CONFIG_NET_SCH_NETEM): iptables in the middle, random 5% DROP,
# 2% TEE (a copy sent on at once) and 5% handed to an NFQUEUE listener that
# holds each for 1-4 ms (lib.sh nfq_delay).
#   SIZE=100 (MiB, iperf3 -n; TCP still makes ~250 Mbit/s through this, so
#   100 MiB takes a few seconds)
. "$(dirname "$0")/../lib.sh"
SIZE=${SIZE:-100}
LOSS=${LOSS:-5}
DUP=${DUP:-2}
REORDER=${REORDER:-5}
lib_init tsE-netem
topo3 tsEn

# The largest replay window: a held-back packet then always lands inside it
# (65536 packets is over a second here, even if the NFQUEUE listener is
# starved of CPU), so every replay drop must be a copy. With the default
# 1024 (~10 ms at full speed) a late packet is rightly refused as well.
# udp_gso = no: the emulation drops and copies packets one by one in the
# middle, which a UDP_SEGMENT super-packet crossing the veths would defeat
# (a real link carries them split).
TSEC_EXTRA="udp_gso = no" C_EXTRA="replay_window = 65536" S_EXTRA="replay_window = 65536" \
	pair_up aes128gcm16 yes ||
	die "tunnel did not come up"
ok "tunnel up"
iperf_srv "$S_NS"

NETEM="netem loss $LOSS% duplicate $DUP% delay 1ms reorder 25%"
if nsx "$M_NS" tc qdisc add dev "$M_SIF" root $NETEM 2>/dev/null; then
	nsx "$M_NS" tc qdisc add dev "$M_CIF" root $NETEM
	IMPAIR=netem
	say "impairment: sch_netem on $M_CIF and $M_SIF"
else
	IMPAIR=iptables
	say "impairment: no sch_netem here; iptables statistic DROP/TEE and NFQUEUE delays"
	nfq_delay "$M_NS" 7 1 4 || die "NFQUEUE listener did not bind: $(cat "$WORK/nfq_delay.log")"
	ipt() { nsx "$M_NS" iptables "$@" || die "iptables $*"; }
	rnd() { echo "-m statistic --mode random --probability $(awk -v p="$1" 'BEGIN{print p/100}')"; }
	# mangle runs before filter: a packet may be copied and then lost, in
	# which case its copy is not a replay
	ipt -t mangle -A FORWARD -i "$M_CIF" -p udp --dport 4500 $(rnd $DUP) -j TEE --gateway $S_UL
	ipt -t mangle -A FORWARD -i "$M_SIF" -p udp --dport 4500 $(rnd $DUP) -j TEE --gateway $C_UL
	ipt -A FORWARD -p udp --dport 4500 $(rnd $LOSS) -j DROP
	ipt -A FORWARD -p udp --dport 4500 $(rnd $REORDER) -j NFQUEUE --queue-num 7 --queue-bypass
fi
dups() { # TEE rule N: 1 = copies towards the server, 2 = towards the client
	nsx "$M_NS" iptables -t mangle -L FORWARD -v -n -x | awk -v n="$1" 'NR == n + 2 { print $1 }'
}

out=$(nsx "$C_NS" ping -n -q -c 100 -i 0.02 -W 1 $S_IN4 2>&1 | grep 'packets transmitted')
say "ping x100 through the impaired path: $out"
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
# 100 pings, each ~10% lost (5% per direction): 80+ replies is > 4 sigma
check_ge "most pings answered" "$rx" 70

check_xfer "through loss, duplicates and reordering" "$C_NS" "$S_NS" $S_IN4 8
start=$(date +%s)
check_tcp "through loss, duplicates and reordering" "$SIZE" "$C_NS" $S_IN4 170
say "transfer took $(($(date +%s) - start)) s"

r_s=$(tstat s gw/in replay)
r_c=$(tstat c gw/in replay)
say "replay drops: server $r_s, client $r_c; retransmits $IPERF_RETR"
check_ge "server refused duplicates as replays" "$r_s" 1
check_eq "no icv drops (server)" "$(tstat s total icv)" 0
check_eq "no icv drops (client)" "$(tstat c total icv)" 0
if [ "$IMPAIR" = iptables ]; then
	lib_stop "$NFQ_PID"
	held=$(sed -n 's/^delayed \([0-9]*\) packets.*/\1/p' "$WORK/nfq_delay.log")
	d_s=$(dups 1)
	d_c=$(dups 2)
	say "middle: $d_s copies towards the server, $d_c towards the client," \
		"${held:-?} packets held 1-4 ms"
	check_ge "packets were reordered" "${held:-0}" 100
	# every replay drop is a copy: none of the held-back packets was refused
	check_ge "server: replay drops <= copies injected (reordered packets accepted)" "$d_s" "$r_s"
	check_ge "client: replay drops <= copies injected" "$d_c" "$r_c"
	check_ge "server: most copies refused as replays (the rest had their original lost)" \
		"$r_s" $((d_s * 80 / 100))
fi
check "both daemons exit 0" pair_down
lib_finish
