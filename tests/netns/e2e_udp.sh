#!/bin/bash
# End to end through a routing middle namespace: two tunsecd with one
# static-key tunnel (aes256gcm16), ESP in UDP on port 4500 (RFC 3948), or
# raw ESP, IP protocol 50, when run as ENCAP=no (that is e2e_raw.sh).
# Checks: IPv4 and IPv6 ping through the tunnel; 16 MiB (IPv4) and 4 MiB
# (IPv6) of random data arrive intact (SHA-256 at both ends); a 100 MiB
# iperf3 TCP transfer over IPv4 and a 20 MiB one over IPv6 complete; the
# tunnel's packet and byte counters moved on both sides; what the middle
# forwards is what the mode says (its iptables counters for UDP/4500 and
# for protocol 50, and a tcpdump sample showing the SPI on the wire); no
# icv, replay or unknown-spi drops; both daemons exit 0 on SIGTERM and
# remove their TUN device and routes.
. "$(dirname "$0")/../lib.sh"
ENCAP=${ENCAP:-yes}
if [ "$ENCAP" = yes ]; then
	TAG=tsEu; MODE="ESP in UDP"
else
	TAG=tsEr; MODE="raw ESP"
fi
lib_init "$TAG"
topo3 "$TAG"
say "mode: $MODE (encap = $ENCAP)"

# what M forwards: rule 1 ESP in UDP, rule 2 raw ESP
nsx "$M_NS" iptables -A FORWARD -p udp --dport 4500
nsx "$M_NS" iptables -A FORWARD -p esp
fwd_pkts() {
	nsx "$M_NS" iptables -L FORWARD -v -n -x | awk -v n="$1" 'NR == n + 2 { print $1 }'
}
# bytes: UDP_SEGMENT sends cross the veths as one packet per run
fwd_bytes() {
	nsx "$M_NS" iptables -L FORWARD -v -n -x | awk -v n="$1" 'NR == n + 2 { print $2 }'
}

pair_up aes256gcm16 "$ENCAP" || die "tunnel did not come up"
ok "tunnel up: first ping $C_IN4 -> $S_IN4"
tsc c status | sed 's/^/     /'

# a sample of the wire while pinging: client -> server packets
lib_bg "$WORK/wire.txt" ip netns exec "$M_NS" tcpdump -l -nn -i "$M_SIF" -c 10 \
	"src host $C_UL and dst host $S_UL"
DUMP=$LIB_PID
sleep 0.5
check "ping IPv4 through the tunnel (20/20)" ping_n "$C_NS" $S_IN4 20
check "ping IPv6 through the tunnel (20/20)" ping_n "$C_NS" $S_IN6 20
check "ping IPv4 server -> client (5/5)" ping_n "$S_NS" $C_IN4 5
wait_for 3 sh -c "[ \$(grep -c ESP $WORK/wire.txt) -ge 10 ]"
lib_stop "$DUMP"
grep ESP "$WORK/wire.txt" | sed -n '1,3p' | sed 's/^/     wire: /'
spi=$(printf '0x%08x' "$SPI_S_IN")
if [ "$ENCAP" = yes ]; then
	n=$(grep -c "\.4500 > $S_UL\.4500: UDP-encap: ESP(spi=$spi," "$WORK/wire.txt")
	check_eq "tcpdump: 10 of 10 packets are UDP 4500 -> 4500 carrying ESP spi $spi" "$n" 10
else
	n=$(grep -c "$C_UL > $S_UL: ESP(spi=$spi," "$WORK/wire.txt")
	check_eq "tcpdump: 10 of 10 packets are IP protocol 50, ESP spi $spi" "$n" 10
fi

iperf_srv "$S_NS"
check_xfer "IPv4" "$C_NS" "$S_NS" $S_IN4 16
check_xfer "IPv6" "$C_NS" "$S_NS" $S_IN6 4
check_tcp "IPv4" 100 "$C_NS" $S_IN4 120
check_tcp "IPv6" 20 "$C_NS" $S_IN6 60

# ~110 MiB of TCP counted by iperf3 = at least ~80k ESP packets of <= 1438 B
check_stat "client gw/out packets" c gw/out packets 70000
check_stat "server gw/in packets" s gw/in packets 70000
check_stat "server gw/in bytes" s gw/in bytes "$(mib 100)"
# With GRO the receiver acknowledges one coalesced super-packet at a time:
# ~1 ACK per 40 KB, so only a floor that proves the return path works.
check_stat "server gw/out packets (ACKs)" s gw/out packets 500
check_stat "client gw/in packets (ACKs)" c gw/in packets 500
for side in c s; do
	check_eq "$side: no icv drops" "$(tstat $side total icv)" 0
	check_eq "$side: no replay drops" "$(tstat $side total replay)" 0
	check_eq "$side: no unknown-spi drops" "$(tstat $side total unknown-spi)" 0
done
if [ "$ENCAP" = yes ]; then
	check_ge "middle forwarded UDP/4500 bytes (140 MiB sent)" "$(fwd_bytes 1)" 100000000
	check_eq "middle forwarded no raw ESP" "$(fwd_pkts 2)" 0
else
	check_ge "middle forwarded IP protocol 50 packets" "$(fwd_pkts 2)" 70000
	check_eq "middle forwarded no UDP/4500" "$(fwd_pkts 1)" 0
fi

check "client tunsecd exits 0 on SIGTERM" tsd_stop c
check "server tunsecd exits 0 on SIGTERM" tsd_stop s
check "client TUN device removed" sh -c "! ip -n $C_NS link show tsc0 2>/dev/null"
check "client routes into the tunnel removed" sh -c "! ip -n $C_NS route | grep -q '^10\.201\.2\.'"
check "server IPv6 route removed" sh -c "! ip -n $S_NS -6 route | grep -q '^fd01:'"
lib_finish
