#!/bin/bash
# ESP over an IPv6 underlay (RFC 4303 tunnel mode, outer IPv6): two
# namespaces joined by a veth pair carrying only IPv6 (fd77::1, fd77::2),
# inner IPv4 and IPv6 through the tunnel, ESP in UDP and raw ESP (RFC 4303
# §2, IPv6 next header 50). Checks: pings both inner families, a 20 MiB TCP
# transfer, the wire really is IPv6 carrying ESP (tcpdump), and no drops.
. "$(dirname "$0")/../lib.sh"
lib_init tsE6

for ENCAP in yes no; do
	C_NS=tsE6-$$-$ENCAP-c
	S_NS=tsE6-$$-$ENCAP-s
	ns_add "$C_NS"
	ns_add "$S_NS"
	C_UL=fd77::1
	S_UL=fd77::2
	ip link add tsE6c0 netns "$C_NS" type veth peer name tsE6s0 netns "$S_NS" || die veth
	ip -n "$C_NS" addr add $C_UL/64 dev tsE6c0 nodad
	ip -n "$S_NS" addr add $S_UL/64 dev tsE6s0 nodad
	ip -n "$C_NS" link set tsE6c0 up
	ip -n "$S_NS" link set tsE6s0 up
	C_PEER=$S_UL
	S_PEER=$C_UL
	wait_for 5 nsx "$C_NS" ping -6 -c 1 -W 1 $S_UL || die "no IPv6 link"
	mode=$([ $ENCAP = yes ] && echo "ESP in UDP" || echo "raw ESP")
	say "outer IPv6, $mode"
	pair_up aes128gcm16 $ENCAP || die "$mode over IPv6: tunnel did not come up"
	lib_bg "$WORK/wire-$ENCAP.txt" ip netns exec "$C_NS" tcpdump -l -nn -i tsE6c0 -c 5 \
		"ip6 and src host $C_UL"
	DUMP=$LIB_PID
	sleep 0.5
	check "$mode over IPv6: ping inner IPv4 (10/10)" ping_n "$C_NS" $S_IN4 10
	check "$mode over IPv6: ping inner IPv6 (10/10)" ping_n "$C_NS" $S_IN6 10
	wait_for 3 sh -c "[ \$(grep -c ESP $WORK/wire-$ENCAP.txt) -ge 5 ]"
	lib_stop "$DUMP"
	if [ $ENCAP = yes ]; then
		n=$(grep -c "IP6 $C_UL\.4500 > $S_UL\.4500: UDP-encap: ESP" "$WORK/wire-$ENCAP.txt")
	else
		n=$(grep -c "IP6 $C_UL > $S_UL: ESP(" "$WORK/wire-$ENCAP.txt")
	fi
	check_eq "$mode over IPv6: tcpdump sees 5 of 5 packets as IPv6 ESP" "$n" 5
	iperf_srv "$S_NS"
	check_tcp "$mode over IPv6" 20 "$C_NS" $S_IN4 60
	for side in c s; do
		for ctr in icv replay unknown-spi send; do
			check_eq "$mode over IPv6: $side $ctr drops" "$(tstat $side total $ctr)" 0
		done
	done
	pair_down
	lib_stop "$IPERF_SRV"
done
lib_finish
