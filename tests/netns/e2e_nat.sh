#!/bin/bash
# The client behind a NAT (iptables SNAT in the middle; the server has no
# route to the client's network and is configured with the NAT's outside
# address and the default port 4500, which is not where the client's
# packets come from):
#   - the client sends NAT-T keepalives (RFC 3948 §2.3: one 0xFF byte)
#     every 2 s: seen on the wire and counted by both daemons;
#   - the server follows the client's mapped port (24500) from the first
#     authenticated ESP packet, and traffic flows both ways;
#   - the NAT re-maps (new SNAT port 34500, conntrack flushed): a keepalive
#     from the new port alone does not move the server (it is not
#     authenticated), the next ESP packet does, and ping still works.
. "$(dirname "$0")/../lib.sh"
lib_init tsE-nat
topo3 tsEx nat
command -v conntrack >/dev/null || die "needs conntrack (apt-get install conntrack)"

snat() { # PORT: the (only) SNAT rule maps the client's port 4500 to PORT
	nsx "$M_NS" iptables -t nat -F POSTROUTING
	nsx "$M_NS" iptables -t nat -A POSTROUTING -o "$M_SIF" -s $C_UL -p udp --sport 4500 \
		-j SNAT --to-source $M_SUL:$1
	nsx "$M_NS" iptables -t nat -A POSTROUTING -o "$M_SIF" -s 10.77.1.0/24 -j MASQUERADE
}
snat 24500

# keepalives, as the server sees them on its link: UDP of 1 byte, 0xFF
lib_bg "$WORK/ka.txt" ip netns exec "$M_NS" tcpdump -l -n -i "$M_SIF" -c 2 \
	"udp and src host $M_SUL and dst host $S_UL and dst port 4500 and udp[4:2] = 9 and udp[8] = 0xff"
KA=$LIB_PID
sleep 0.3

TSEC_EXTRA="keepalive = 2s" C_EXTRA="nat_keepalive = yes" pair_conf aes128gcm16 yes
tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"

# before any data: only keepalives, and the server still has its configured peer
if wait_for 6 sh -c "! kill -0 $KA 2>/dev/null"; then
	grep ' > ' "$WORK/ka.txt" | sed 's/^/     wire: /'
	ok "two keepalives on the wire"
	check "they come from the mapped port 24500" grep -q "$M_SUL\.24500 > $S_UL\.4500" "$WORK/ka.txt"
else
	bad "no keepalives on the wire within 6 s"
fi
check_stat "client counted keepalives out" c total keepalives-out 2
check_stat "server counted keepalives in" s total keepalives-in 2
check "server still has the configured peer $M_SUL:4500 (keepalives do not move it)" \
	grep -q "peer $M_SUL:4500 " <<<"$(tsc s status)"

check "ping client -> server through the NAT (10/10)" ping_n "$C_NS" $S_IN4 10
st=$(tsc s status)
echo "$st" | grep -E 'peer' | sed 's/^/     /'
check "server follows the client to $M_SUL:24500" grep -q "peer $M_SUL:24500 " <<<"$st"
check "server -> client ping over the learned mapping (5/5)" ping_n "$S_NS" $C_IN4 5
check "IPv6 inside, through the NAT (5/5)" ping_n "$C_NS" $S_IN6 5
iperf_srv "$S_NS"
check_tcp "through the NAT" 10 "$C_NS" $S_IN4 60

# --- the NAT re-maps the client ---------------------------------------------
say "NAT re-mapping: SNAT to port 34500, conntrack -F"
lib_bg "$WORK/ka2.txt" ip netns exec "$M_NS" tcpdump -l -n -i "$M_SIF" -c 1 \
	"udp and src host $M_SUL and src port 34500 and dst port 4500 and udp[4:2] = 9 and udp[8] = 0xff"
KA=$LIB_PID
sleep 0.3
ka0=$(tstat s total keepalives-in)
snat 34500
nsx "$M_NS" conntrack -F >/dev/null 2>&1
if wait_for 5 sh -c "! kill -0 $KA 2>/dev/null"; then
	grep ' > ' "$WORK/ka2.txt" | sed 's/^/     wire: /'
	ok "a keepalive from the new port 34500 on the wire"
else
	bad "no keepalive from port 34500 within 5 s"
fi
check_stat "server counted it" s total keepalives-in $((ka0 + 1))
check "server did not move on a keepalive alone (still :24500)" \
	grep -q "peer $M_SUL:24500 " <<<"$(tsc s status)"
check "ping client -> server after the re-mapping (10/10)" ping_n "$C_NS" $S_IN4 10
st=$(tsc s status)
echo "$st" | grep -E 'peer' | sed 's/^/     /'
check "server follows the client to $M_SUL:34500" grep -q "peer $M_SUL:34500 " <<<"$st"
check "status counts two peer moves" grep -q "peer moved 2 times" <<<"$st"
check "server -> client ping over the new mapping (5/5)" ping_n "$S_NS" $C_IN4 5
check_eq "no icv drops (server)" "$(tstat s total icv)" 0
check "both daemons exit 0" pair_down
lib_finish
