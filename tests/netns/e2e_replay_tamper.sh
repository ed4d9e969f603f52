#!/bin/bash
# asan: tampered and replayed ESP through the data path
# Replay and tampering from the wire (RFC 4303 §3.4.3, §3.4.4): the middle
# holds back three ESP packets the client sends (captured, dropped), lets
# traffic move the server's window past them, then injects them with scapy:
#   A with one bit flipped in the ciphertext -> icv drop, nothing delivered
#   A verbatim                               -> accepted: a failed ICV must
#                                               not mark the number as seen
#   B verbatim, late but inside the window   -> accepted
#   B again                                  -> replay drop
#   C again after a replay of B              -> accepted
#   an old, already delivered packet         -> replay drop
# and checks each counter moved by exactly that; then data still flows.
. "$(dirname "$0")/../lib.sh"
lib_init tsE-tamper
topo3 tsEt

pair_up aes256gcm16 yes || die "tunnel did not come up"
ok "tunnel up"
check "ping before (5/5)" ping_n "$C_NS" $S_IN4 5

# ESP only (not a keepalive, not IKE): longer than 9 bytes, non-zero SPI
ESP_FILTER="udp and src host $C_UL and dst host $S_UL and dst port 4500"
ESP_FILTER+=" and udp[4:2] > 9 and udp[8:4] != 0"

# an old packet, delivered normally (captured on the way)
lib_bg "$WORK/old.log" ip netns exec "$M_NS" tcpdump -n -U -i "$M_SIF" -c 1 \
	-w "$WORK/old.pcap" "$ESP_FILTER"
cap=$LIB_PID
sleep 0.5
ping_n "$C_NS" $S_IN4 1 >/dev/null
wait "$cap" 2>/dev/null

# three packets held back: captured on the client side of M, dropped in M
nsx "$M_NS" iptables -I FORWARD -i "$M_CIF" -p udp --dport 4500 -m length --length 30:65535 -j DROP
lib_bg "$WORK/held.log" ip netns exec "$M_NS" tcpdump -n -U -i "$M_CIF" -c 3 \
	-w "$WORK/held.pcap" "$ESP_FILTER"
cap=$LIB_PID
sleep 0.5
nsx "$C_NS" ping -n -q -c 3 -i 0.1 -W 1 $S_IN4 >/dev/null 2>&1
wait "$cap" 2>/dev/null
nsx "$M_NS" iptables -D FORWARD 1
n=$(nsx "$M_NS" tcpdump -r "$WORK/held.pcap" -n 2>/dev/null | grep -c ESP)
check_eq "held back ESP packets" "$n" 3
# move the window past them (still far inside its 1024 packets)
check "ping after the hold (10/10)" ping_n "$C_NS" $S_IN4 10

cat >"$WORK/inject.py" <<'PYEOF'
# inject.py PCAP INDEX [flip]: send packet INDEX of PCAP again, from its IP
# header on, or with one bit of its ciphertext flipped. The UDP checksum is
# recomputed in both cases: captured on a veth with checksum offload, it is
# only the pseudo-header sum, and the ESP packet is what we replay.
import sys
from scapy.all import IP, UDP, rdpcap, send, conf
conf.verb = 0
raw = bytearray(bytes(rdpcap(sys.argv[1])[int(sys.argv[2])][IP]))
if len(sys.argv) > 3:
    udp = (raw[0] & 0x0F) * 4
    # UDP 8 | SPI 4 | seq 4 | IV 8 | ciphertext: flip a bit 5 bytes into it
    raw[udp + 8 + 4 + 4 + 8 + 5] ^= 0x10
ip = IP(bytes(raw))
del ip[UDP].chksum
send(IP(bytes(ip)))
PYEOF
inject() { nsx "$M_NS" "$PY" "$WORK/inject.py" "$@" || bad "scapy inject $*"; }
snap() { P=$(tstat s gw/in packets); R=$(tstat s gw/in replay); I=$(tstat s gw/in icv); }
# expect WHAT DPACKETS DREPLAY DICV: the server's gw/in counters moved by
# exactly that (wait until they moved at all, then a little more)
expect() {
	local p0=$P r0=$R i0=$I k
	for ((k = 0; k < 20; k++)); do
		snap
		[ $((P - p0 + R - r0 + I - i0)) -ge $(($2 + $3 + $4)) ] && break
		sleep 0.1
	done
	sleep 0.3
	snap
	check_eq "$1: packets +$2, replay +$3, icv +$4" \
		"+$((P - p0)) +$((R - r0)) +$((I - i0))" "+$2 +$3 +$4"
}

snap
inject "$WORK/held.pcap" 0 flip
expect "held packet A, one ciphertext bit flipped" 0 0 1
inject "$WORK/held.pcap" 0
expect "held packet A verbatim after the forgery" 1 0 0
inject "$WORK/held.pcap" 1
expect "held packet B, late but in the window" 1 0 0
inject "$WORK/held.pcap" 1
expect "held packet B again" 0 1 0
inject "$WORK/held.pcap" 2
expect "held packet C" 1 0 0
inject "$WORK/old.pcap" 0
expect "an old, delivered packet re-sent verbatim" 0 1 0

check "ping after the attacks (10/10)" ping_n "$C_NS" $S_IN4 10
iperf_srv "$S_NS"
check_tcp "after the attacks" 10 "$C_NS" $S_IN4 60
check_eq "client saw no icv drops" "$(tstat c total icv)" 0
check "both daemons exit 0" pair_down
lib_finish
