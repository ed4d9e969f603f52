#!/bin/bash
# asan: the IKE engine and the data path, end to end, with rekeys
# Two tunsecd negotiate their SAs with IKEv2 (RFC 7296), through a routing
# middle namespace, or through a real NAT (iptables MASQUERADE) when run
# as NAT=yes (that is ike_nat.sh).
# Checks: the client initiates at start (start_action = start, §1.2/§1.3);
# `tunsec status` on both sides shows the IKE SA established with the
# configured suite and one CHILD_SA; ping and an iperf3 transfer through
# it; without a NAT ESP goes raw (protocol 50), behind one it moves to UDP
# 4500 (§2.23, RFC 3948) and the client sends keepalives; CHILD_SA rekeys
# every few seconds (§2.8) lose no ping; `tunsec down` deletes both sides'
# SAs (§1.4.1), `tunsec up` brings them back; a Delete on shutdown removes
# the peer's SAs at once; keys never appear in logs; with -d, one line per
# IKE message in charon's shape (exchange, request/response, Message ID,
# payloads, size).
. "$(dirname "$0")/../lib.sh"
NAT=${NAT:-no}
if [ "$NAT" = yes ]; then TAG=tsIx; else TAG=tsIp; fi
lib_init "$TAG"
if [ "$NAT" = yes ]; then
	topo3 "$TAG" nat
	nsx "$M_NS" iptables -t nat -A POSTROUTING -o "$M_SIF" -s 10.77.1.0/24 -j MASQUERADE
else
	topo3 "$TAG"
fi
PSK="ike pair test $RANDOM$RANDOM shared secret"
# Behind the NAT the client also drops privileges (tunsecd(8)): routes for
# each new CHILD_SA are then added with CAP_NET_ADMIN alone.
CLIENT_EXTRA="keepalive = 2s"
[ "$NAT" = yes ] && CLIENT_EXTRA=$'keepalive = 2s\nuser = nobody'
# Behind the NAT the CHILD_SA also rekeys by volume (rekey_bytes).
# Rekeys every 1 to 1.5 s (milliseconds: a tunsec extension of swanctl.conf).
CHILD_LIMITS=$'rekey_time = 1500ms\nlife_time = 3s\nrand_time = 500ms'
[ "$NAT" = yes ] && CHILD_LIMITS=$'rekey_time = 1500ms\nlife_time = 3s\nrand_time = 500ms\nrekey_bytes = 8M\nlife_bytes = 2G'

TSEC_EXTRA=$CLIENT_EXTRA CHILD_EXTRA=$CHILD_LIMITS \
	ike_conf "$WORK/c.conf" c tsc0 "$C_IN4/32" $C_UL "$C_PEER" moon.example sun.example \
	"10.201.1.0/24" "10.201.2.0/24" start
TSEC_EXTRA="keepalive = 2s" ike_conf "$WORK/s.conf" s tss0 "$S_IN4/32" $S_UL "%any" sun.example moon.example \
	"10.201.2.0/24" "10.201.1.0/24" none

TSD_DEBUG=1 # the debug log's IKE lines are checked below (no PSK in them either)
tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"

tsc_down() { "$TUNSEC" -s "${TSD_SOCK[$1]}" down gw; }
up_unknown_fails() {
	local out
	out=$("$TUNSEC" -s "$WORK/c.sock" up nosuch 2>&1) && return 1
	echo "     $out"
	echo "$out" | grep -q "no connection named 'nosuch'"
}
established() { tsc "$1" status | grep -q "gw\[[0-9]*\]: established"; }
no_ike_sa() { tsc "$1" status | grep -q "gw: IKEv2.*, 0 IKE SAs"; }

check "client: IKE SA established (start_action = start)" wait_for 10 established c
check "server: IKE SA established" wait_for 5 established s
tsc c status | sed 's/^/     /'
check "status names the suite" sh -c "'$TUNSEC' -s '$WORK/c.sock' status | grep -q aes256gcm16-prfsha256-curve25519"

wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping client -> server through the negotiated tunnel (20/20)" ping_n "$C_NS" $S_IN4 20
check "ping server -> client (5/5)" ping_n "$S_NS" $C_IN4 5
if [ "$NAT" = yes ]; then
	check "client behind the NAT (NAT_DETECTION, RFC 7296 §2.23)" \
		sh -c "'$TUNSEC' -s '$WORK/c.sock' status | grep -q 'we are behind a NAT'"
	check "ESP in UDP (RFC 3948)" sh -c "'$TUNSEC' -s '$WORK/c.sock' status | grep -q 'ESP in UDP'"
	check_stat "client sends NAT keepalives" c total keepalives-out 1
else
	check "no NAT: raw ESP" sh -c "'$TUNSEC' -s '$WORK/c.sock' status | grep -q 'raw ESP'"
fi

iperf_srv "$S_NS"
check_tcp "IPv4 over IKE-negotiated SAs" 30 "$C_NS" $S_IN4 60
if [ "$NAT" = yes ]; then
	by_bytes() { grep -q "rekeying CHILD_SA 0x.* (rekey_bytes)" "${TSD_LOG[c]}"; }
	check "30 MiB through an 8M rekey_bytes CHILD_SA: rekeyed by volume" wait_for 3 by_bytes
fi

# CHILD_SA rekeys every 1 to 1.5 s: 5 s of pings at 50 ms must not lose
# one (make-before-break, §2.8).
before=$(grep -c "CHILD_SA rekeyed" "${TSD_LOG[c]}" "${TSD_LOG[s]}" | awk -F: '{ n += $2 } END { print n }')
check "no ping lost across CHILD_SA rekeys (100/100)" ping_n "$C_NS" $S_IN4 100
after=$(grep -c "CHILD_SA rekeyed" "${TSD_LOG[c]}" "${TSD_LOG[s]}" | awk -F: '{ n += $2 } END { print n }')
check_ge "CHILD_SA rekeys during the pings (both logs)" "$((after - before))" 2
check "a rekeyed CHILD_SA ran a new key exchange (PFS, §1.3.1)" sh -c "'$TUNSEC' -s '$WORK/s.sock' status | grep -q 'net{0x.*aes256gcm16, PFS '"
check "old CHILD_SAs deleted after their rekey" sh -c "[ \$(grep -c 'CHILD_SA 0x.* down' '${TSD_LOG[s]}') -ge 1 ]"

check "tunsec down gw" tsc_down c
check "client: no IKE SA after down" wait_for 5 no_ike_sa c
check "server: peer's Delete removed its SAs (§1.4.1)" wait_for 5 no_ike_sa s
check "tunsec up gw" "$TUNSEC" -s "$WORK/c.sock" up gw
check "IKE SA back after up" wait_for 10 established s
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping after up (5/5)" ping_n "$C_NS" $S_IN4 5
check "tunsec up of an unknown connection fails with a clear error" up_unknown_fails

check "client exits 0 on SIGTERM" tsd_stop c
check "server: Delete on the client's shutdown removed its SAs" wait_for 3 no_ike_sa s
check "the PSK is in no log" sh -c "! grep -qF '$PSK' '${TSD_LOG[c]}' '${TSD_LOG[s]}'"
check "debug: server logs the IKE_SA_INIT request it received, payloads named" \
	grep -qE 'ike: received IKE_SA_INIT request 0 \[ SA KE No N\(NATD_S_IP\) N\(NATD_D_IP\) N\(FRAG_SUP\) \] from 10\.77\.[0-9.]+\[500\] \([0-9]+ bytes\)' "${TSD_LOG[s]}"
check "debug: client logs its IKE_AUTH request (§1.2 payloads)" \
	grep -qE 'ike #[0-9]+: sending IKE_AUTH request 1 \[ IDi N\(INIT_CONTACT\) IDr AUTH SA TSi TSr \] to ' "${TSD_LOG[c]}"
check "debug: client logs the IKE_AUTH response" \
	grep -qE 'ike #[0-9]+: received IKE_AUTH response 1 \[ IDr AUTH SA TSi TSr \]' "${TSD_LOG[c]}"
check "debug: CHILD_SA rekeys logged as CREATE_CHILD_SA with N(REKEY_SA)" \
	grep -qE 'CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\) SA No( KE)? TSi TSr \]' "${TSD_LOG[c]}" "${TSD_LOG[s]}"
check "server exits 0 on SIGTERM" tsd_stop s
lib_finish
