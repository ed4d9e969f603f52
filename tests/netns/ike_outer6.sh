#!/bin/bash
# IKEv2 over an IPv6 underlay (RFC 7296 over UDP/IPv6, §2.23 NAT detection
# hashes over IPv6 addresses): two namespaces joined by a veth pair that
# carries only IPv6 (fd78::1, fd78::2); inner IPv4 and IPv6 through the
# negotiated CHILD_SA, once with raw ESP (no NAT found) and once with
# `encap = yes` (ESP in UDP forced, the initiator acting as if NATed: IKE
# moves to port 4500).
# Checks: IKE SA established, ESP mode on the wire (tcpdump), pings of both
# inner families, clean exits.
. "$(dirname "$0")/../lib.sh"
lib_init tsI6
PSK="ike outer6 test $RANDOM$RANDOM shared secret"

for ENCAP in no yes; do
	C_NS=tsI6-$$-$ENCAP-c
	S_NS=tsI6-$$-$ENCAP-s
	ns_add "$C_NS"
	ns_add "$S_NS"
	C_UL=fd78::1
	S_UL=fd78::2
	ip link add tsI6c0 netns "$C_NS" type veth peer name tsI6s0 netns "$S_NS" || die veth
	ip -n "$C_NS" addr add $C_UL/64 dev tsI6c0 nodad
	ip -n "$S_NS" addr add $S_UL/64 dev tsI6s0 nodad
	ip -n "$C_NS" link set tsI6c0 up
	ip -n "$S_NS" link set tsI6s0 up
	wait_for 5 nsx "$C_NS" ping -6 -c 1 -W 1 $S_UL || die "no IPv6 link"
	mode=$([ $ENCAP = yes ] && echo "ESP in UDP" || echo "raw ESP")
	say "outer IPv6, $mode"
	extra=""
	[ $ENCAP = yes ] && extra="encap = yes"
	CONN_EXTRA=$extra ike_conf "$WORK/c.conf" c tsc0 "$C_IN4/32, $C_IN6/128" $C_UL $S_UL \
		moon.example sun.example "10.201.1.0/24, fd01::/64" "10.201.2.0/24, fd02::/64" start
	ike_conf "$WORK/s.conf" s tss0 "$S_IN4/32, $S_IN6/128" $S_UL "%any" sun.example \
		moon.example "10.201.2.0/24, fd02::/64" "10.201.1.0/24, fd01::/64" none
	tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
	tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"
	up() { "$TUNSEC" -s "${TSD_SOCK[c]}" status | grep -q "gw\[[0-9]*\]: established, \[$C_UL\]"; }
	check "$mode: IKE SA established over IPv6" wait_for 10 up
	lib_bg "$WORK/wire-$ENCAP.txt" ip netns exec "$C_NS" tcpdump -l -nn -i tsI6c0 -c 5 \
		"ip6 and src host $C_UL and (udp port 4500 or ip6 proto 50)"
	DUMP=$LIB_PID
	sleep 0.5
	wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
	check "$mode: ping inner IPv4 (10/10)" ping_n "$C_NS" $S_IN4 10
	check "$mode: ping inner IPv6 (10/10)" ping_n "$C_NS" $S_IN6 10
	wait_for 3 sh -c "[ \$(grep -c ESP $WORK/wire-$ENCAP.txt) -ge 5 ]"
	lib_stop "$DUMP"
	if [ $ENCAP = yes ]; then
		n=$(grep -c "IP6 $C_UL\.4500 > $S_UL\.4500: UDP-encap: ESP" "$WORK/wire-$ENCAP.txt")
	else
		n=$(grep -c "IP6 $C_UL > $S_UL: ESP(" "$WORK/wire-$ENCAP.txt")
	fi
	check_eq "$mode: 5 of 5 captured packets are $mode over IPv6" "$n" 5
	check "client exits 0" tsd_stop c
	check "server exits 0" tsd_stop s
	mv "${TSD_LOG[c]}" "$WORK/tunsecd-c-$ENCAP.log"
	mv "${TSD_LOG[s]}" "$WORK/tunsecd-s-$ENCAP.log"
done
lib_finish
