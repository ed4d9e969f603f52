#!/bin/bash
# tunsec in one minute: two network namespaces (tsD-l, tsD-r) joined by one
# veth pair, a tunsecd in each; the left one negotiates the SAs with IKEv2
# (pre-shared key, AES-256-GCM, Curve25519), then ping and iperf3 through
# the tunnel, the daemons' own view (`tunsec status`, `tunsec stats`), and
# a clean teardown (each side's Delete). Nothing outside the two namespaces
# is touched; everything is removed at exit.
#
#   sudo scripts/demo.sh            (builds tunsecd first if needed)
#   MODE=manual PROPOSAL=chacha20poly1305 ENCAP=no sudo -E scripts/demo.sh
#                                   (static keys instead of IKEv2)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TUNSEC_TOP=$TOP
. "$TOP/tests/lib.sh"
MODE=${MODE:-ike}
PROPOSAL=${PROPOSAL:-aes256gcm16}
# manual: yes (UDP) or no (raw ESP); ike: yes forces UDP, else raw ESP
# unless a NAT is found (RFC 7296 §2.23)
ENCAP=${ENCAP:-$([ "$MODE" = manual ] && echo yes || echo auto)}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { # show the command (without the `ip netns exec`), then run it
	local ns=$1
	shift
	printf '\033[2m[%s]$ %s\033[0m\n' "$ns" "$*"
	ip netns exec "$ns" "$@"
}

[ "$(id -u)" = 0 ] || { echo "run as root (it creates network namespaces): sudo $0"; exit 1; }
for c in iperf3 ip ping; do
	command -v $c >/dev/null || { echo "needs $c (scripts/install-deps.sh)"; exit 1; }
done
if [ ! -x "$TUNSECD" ] || [ ! -x "$TUNSEC" ]; then
	step "building tunsecd and tunsec (make B=$BUILD)"
	make -C "$TOP" -j"$(nproc)" B="$BUILD" >/dev/null ||
		{ echo "build failed: run make to see why"; exit 1; }
fi
lib_init tsD

step "two namespaces, one veth link: tsD-l 10.77.0.1 <-> tsD-r 10.77.0.2"
topo2 tsD-l tsD-r
ip -n tsD-l -br addr show dev "$C_IF"
ip -n tsD-r -br addr show dev "$S_IF"

if [ "$MODE" = manual ]; then
	step "configurations: one manual tunnel, $PROPOSAL, encap = $ENCAP, fresh random keys"
	pair_conf "$PROPOSAL" "$ENCAP"
	# show the left side's file with the keys elided (the right mirrors it)
	sed -E 's/(key_(in|out) = 0x)([0-9a-f]{8})[0-9a-f]+/\1\3... (random)/' "$WORK/c.conf" |
		grep -v '^#'
else
	step "configurations: one IKEv2 connection (swanctl.conf syntax), PSK, left initiates"
	PSK=$(head -c 24 /dev/urandom | base64)
	[ "$ENCAP" = yes ] && export CONN_EXTRA="encap = yes"
	ESP_PROPOSALS=${PROPOSAL}-curve25519 ike_conf "$WORK/c.conf" c tsc0 \
		"$C_IN4/32, $C_IN6/128" $C_UL $C_PEER left.demo right.demo \
		"10.201.1.0/24, fd01::/64" "10.201.2.0/24, fd02::/64" start
	ESP_PROPOSALS=${PROPOSAL}-curve25519 ike_conf "$WORK/s.conf" s tss0 \
		"$S_IN4/32, $S_IN6/128" $S_UL $S_PEER right.demo left.demo \
		"10.201.2.0/24, fd02::/64" "10.201.1.0/24, fd01::/64" none
	sed -E 's/(secret = ")[^"]*/\1... (random)/' "$WORK/c.conf"
fi

step "start tunsecd in each namespace"
tsd_start s tsD-r "$WORK/s.conf" || exit 1
tsd_start c tsD-l "$WORK/c.conf" || exit 1
if [ "$MODE" != manual ]; then
	wait_for 10 sh -c "'$TUNSEC' -s '${TSD_SOCK[c]}' status | grep -q 'established'" ||
		{ echo "IKE SA not established"; sed 's/^/  tsD-l | /' "${TSD_LOG[c]}"; exit 1; }
	wait_for 5 ip netns exec tsD-l ping -n -q -c 1 -W 1 $S_IN4 >/dev/null
fi
sed 's/^/  tsD-l | /' "${TSD_LOG[c]}"
echo
run tsD-l ip -br addr show dev tsc0
run tsD-l ip route show dev tsc0
run tsD-l ip -6 route show dev tsc0 proto 116

step "ping through the tunnel, IPv4 and IPv6 inside"
run tsD-l ping -n -c 3 -i 0.2 $S_IN4
run tsD-l ping -n -c 3 -i 0.2 $S_IN6

step "iperf3 through the tunnel, 3 seconds"
iperf_srv tsD-r
run tsD-l iperf3 -c $S_IN4 -t 3 -f m | grep -E 'sender|receiver|Interval' || echo "iperf3 failed"

step "what the wire carries (tcpdump on the veth, 3 packets)"
if command -v tcpdump >/dev/null; then
	timeout 5 ip netns exec tsD-r tcpdump -l -nn -i "$S_IF" -c 3 \
		"src host $C_UL and (udp port 4500 or ip proto 50)" 2>/dev/null &
	dump=$!
	sleep 0.5
	ip netns exec tsD-l ping -n -q -c 3 -i 0.1 $S_IN4 >/dev/null
	wait $dump
fi

step "tunsec status (left)"
"$TUNSEC" -s "${TSD_SOCK[c]}" status
step "tunsec stats (left, non-zero counters)"
"$TUNSEC" -s "${TSD_SOCK[c]}" stats | awk '$3 != 0'

step "stop: SIGTERM; tunsecd removes its routes, addresses and TUN device"
tsd_stop c && echo "tunsecd (left) exited 0"
tsd_stop s && echo "tunsecd (right) exited 0"
run tsD-l ip -br link show
echo
echo "done: the namespaces are deleted on exit."
