#!/bin/bash
# Interop with strongSwan 5.9 (charon, kernel-libipsec): CHILD_SA and IKE SA
# rekeys, initiated by both sides, while traffic flows.
# tunsecd initiates the tunnel; then for 16 s, with iperf3 TCP paced at
# 50 Mbit/s and a ping every 0.1 s running through it:
#  - charon rekeys the CHILD_SA three times in the first 4 s (swanctl
#    --rekey) and the IKE SA once; afterwards tunsecd's own timers take over
#    (children rekey_time = 5s, IKE rekey_time = 9s, rand_time = 0): each
#    side initiates CREATE_CHILD_SA with N(REKEY_SA) and a KE (PFS with
#    X25519; RFC 7296 §1.3.3, §2.8) and an IKE SA rekey (§1.3.2, §2.18:
#    the CHILD_SA moves to the new IKE SA).
# Checks: >= 2 CHILD_SA rekeys initiated by each side and >= 1 IKE SA rekey
# by each, all answered at once (a retransmission by charon only where
# tunsecd answered the first copy and charon's socket dropped datagrams) and
# without error notify; the SPIs changed; at the end exactly one IKE SA and
# one CHILD_SA remain on charon and tunsecd's status names the same SPIs;
# iperf3 completes with no 0.5 s interval without data; tunsecd drops
# nothing (its counters, its namespace's UDP sockets); no ping lost but
# where charon's socket dropped datagrams (see below).
. "$(dirname "$0")/swan.lib"
ix_init ixK

T_IKE=aes256gcm16-prfsha256-x25519
W_IKE=aes256gcm16-prfsha256-x25519
T_ESP=aes256gcm16-x25519
W_ESP=aes256gcm16-x25519
T_START=start
T_CHILD_REKEY=5s
T_CHILD_EXTRA="life_time = 60s
				rand_time = 0"
T_REKEY=9s
T_CONN_EXTRA="over_time = 60s
		rand_time = 0"
ix_conf
ix_start_swan
ix_start_tsd
swan_wait_sas w 1 1 10 || die "no IKE SA + CHILD_SA at charon 10 s after tunsecd started"
ok "tunnel up (tunsecd initiated)"
spis0=$(swan_child_spis w)
ix_tunnel_pings 5 || die "no ping through the tunnel"
iperf_srv "$W_NS"

# the rekeys counted from here on
RQ_OUT='generating CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\) SA No KE TSi TSr \]'
RQ_IN='parsed CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\) SA No KE TSi TSr \]'
RS_IN='parsed CREATE_CHILD_SA response [0-9]+ \[ SA No KE TSi TSr \]'
IKE_OUT='generating CREATE_CHILD_SA request [0-9]+ \[ SA No KE \]'
IKE_IN='parsed CREATE_CHILD_SA request [0-9]+ \[ SA No KE \]'
IKE_RS='parsed CREATE_CHILD_SA response [0-9]+ \[ SA No KE \]'
for v in RQ_OUT RQ_IN RS_IN IKE_OUT IKE_IN IKE_RS; do
	eval "N0_$v=\$(swan_log_count w \"\$$v\")"
done

# charon's rekeys, early enough that tunsecd's timers (5 s since the last
# CHILD_SA rekey, 9 s since the last IKE SA rekey) have not fired yet
rekey_driver() {
	sleep 0.5
	swan_ctl w --rekey --child net
	sleep 1.5
	swan_ctl w --rekey --child net
	sleep 0.7
	swan_ctl w --rekey --ike gw
	sleep 0.8
	swan_ctl w --rekey --child net
}
# tunsecd's own drop counters at the start: whatever charon's libipsec
# does, tunsecd must drop nothing it was sent (RFC 7296 §2.8: the SA the
# peer sends on is installed before the peer can use it, and stays until
# the peer has stopped using it).
DROPS="unknown-spi no-sa replay icv"
for c in $DROPS; do eval "T0_${c//-/_}=\$(tstat t total $c)"; done
rekey_driver >"$WORK/rekey-driver.log" 2>&1 &
LIB_PIDS+=($!)
# The kernel's drop counters of both TUN devices (tunsecd's tst0, libipsec's
# ipsec0): a packet the kernel could not queue to a slow reader is counted
# there, not by either daemon.
tun_stat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3" 2>/dev/null || echo 0; }
tun_drops() {
	echo "tst0 tx_dropped $(tun_stat "$T_NS" tst0 tx_dropped), tst0 rx_dropped $(tun_stat "$T_NS" tst0 rx_dropped)," \
		"ipsec0 tx_dropped $(tun_stat "$W_NS" ipsec0 tx_dropped), ipsec0 rx_dropped $(tun_stat "$W_NS" ipsec0 rx_dropped)"
}
# ... and each namespace's UDP receive errors (a socket buffer that was
# full: tunsecd's in T_NS, charon's in W_NS; RFC 1213 udpInErrors).
udp_errs() { ip netns exec "$1" awk '/^Udp:/ { if (h) { print $4 "/" $6; exit } h = 1 }' /proc/net/snmp; }
udp_drops() { echo "UDP InErrors/RcvbufErrors: tunsecd's namespace $(udp_errs "$T_NS"), charon's $(udp_errs "$W_NS")"; }
TUN0=$(tun_drops)
UDP0=$(udp_drops)
SWAN_RCVBUF0=$(ip netns exec "$W_NS" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp)
TSD_RCVBUF0=$(ip netns exec "$T_NS" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp)
# -D -O: each reply and each missing one with its time, to set beside the
# rekeys in both logs.
lib_bg "$WORK/ping.txt" ip netns exec "$T_NS" ping -n -D -O -c 150 -i 0.1 -W 2 $W_IN4
PING=$LIB_PID
# 50 Mbit/s, not more: at 100 Mbit/s on this 2-core machine with the rest
# of the suite running, libipsec's single reader let the kernel drop 600 to
# 1000 datagrams per run at charon's socket, and each drop of an IKE
# message costs charon a 4 s retransmission that pushes its later rekeys
# out of the window. The load on tunsecd is the same kind either way.
if ix_iperf "$T_NS" $W_IN4 16 -b 50M; then
	check_eq "iperf3 over 16 s of rekeys: no 0.5 s interval without data" "$IX_IPERF_ZERO" 0
	check_ge "iperf3: intervals reported" "$IX_IPERF_N" 30
	check_ge "iperf3: lowest interval (Mbit/s)" $((IX_IPERF_MIN / 1000000)) 1
else
	bad "iperf3 through the tunnel during rekeys failed"
fi
wait_for 20 sh -c "! kill -0 $PING 2>/dev/null"
lib_stop "$PING"
grep -E 'transmitted|rtt' "$WORK/ping.txt" | sed 's/^/     /'
for c in $DROPS; do
	v=$(tstat t total $c)
	check_eq "tunsecd dropped nothing as $c across the rekeys" $((v - $(eval echo "\$T0_${c//-/_}"))) 0
done
# Every ping must come back, or its loss be charon's, shown by the kernel:
# libipsec reads its UDP socket with one thread, and on a loaded machine
# the kernel drops datagrams at that socket's full receive buffer (counted
# as RcvbufErrors in charon's namespace: hundreds in a run here, at any
# moment, not at rekeys; the missing pings' times above show it). This
# test checks tunsecd, so the stricter "150 of 150" was wrong there: it
# failed for drops tunsecd cannot see or cause. What tunsecd controls is
# still exact: its namespace's sockets and its own counters drop nothing.
received=$(sed -n 's/.* transmitted, \([0-9]*\) received.*/\1/p' "$WORK/ping.txt")
lost=$((150 - ${received:-0}))
udp_now() { ip netns exec "$1" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }
swan_rcvbuf=$(($(udp_now "$W_NS") - SWAN_RCVBUF0))
tsd_rcvbuf=$(($(udp_now "$T_NS") - TSD_RCVBUF0))
check_eq "tunsecd's namespace: no UDP datagram dropped at a socket" "$tsd_rcvbuf" 0
if [ "$lost" = 0 ]; then
	ok "ping every 0.1 s across the rekeys: 150 sent, 150 received"
elif [ "$swan_rcvbuf" -ge "$lost" ]; then
	ok "ping every 0.1 s across the rekeys: $lost of 150 lost where charon's socket dropped $swan_rcvbuf datagrams (kernel RcvbufErrors), none on tunsecd's side"
else
	bad "ping every 0.1 s across the rekeys: $lost of 150 lost, charon's socket dropped only $swan_rcvbuf"
fi
if [ "$lost" != 0 ]; then
	# Which side lost them: tunsecd's counters above (zero means it
	# dropped nothing it received), the order of its installs and
	# switches, and charon's view of the same SAs.
	say "pings without an answer (as the logs give time):"
	grep 'no answer yet' "$WORK/ping.txt" | while read -r ts rest; do
		ts=${ts#[}
		echo "     | $(date -d "@${ts%]}" +%T.%3N) $rest"
	done
	say "TUN drop counters before: $TUN0"
	say "TUN drop counters after:  $(tun_drops)"
	say "before: $UDP0"
	say "after:  $(udp_drops)"
	say "tunsecd: CHILD_SA installs, switches and deletes"
	grep -E 'CHILD_SA|sending on' "${TSD_LOG[t]}" | sed 's/^/     | /'
	say "tunsecd: packet totals"
	tsc t stats | grep -E '^total (packets|unknown-spi|no-sa|replay|icv)' | sed 's/^/     | /'
	say "charon: SA installs and deletes, ESP errors"
	grep -E 'adding (in|out)bound ESP SA|received DELETE|closing CHILD_SA|CHILD_SA .* (established|rekeyed)|ESP|SPI' \
		"${SWAN_DIR[w]}/charon.log" | tail -n 40 | sed 's/^/     | /'
fi

delta() { echo $(($(swan_log_count w "${!1}") - $(eval echo "\$N0_$1"))); }
# tunsecd's timers fire at about 8.5 s and 13.5 s (CHILD_SA) and 11.7 s
# (IKE SA) into the 16 s run; on a loaded machine give them a little longer,
# and charon's own rekeys too (one of its requests lost at its socket
# delays the next by its 4 s retransmission timeout).
wait_for 12 sh -c "[ \$(grep -cE '$RQ_IN' '${SWAN_DIR[w]}/charon.log') -ge $((N0_RQ_IN + 2)) ] &&
	[ \$(grep -cE '$IKE_IN' '${SWAN_DIR[w]}/charon.log') -ge $((N0_IKE_IN + 1)) ] &&
	[ \$(grep -cE '$RQ_OUT' '${SWAN_DIR[w]}/charon.log') -ge $((N0_RQ_OUT + 2)) ]"
check_ge "RFC 7296 §1.3.3: CHILD_SA rekeys initiated by charon (N(REKEY_SA), KE)" "$(delta RQ_OUT)" 2
check_ge "RFC 7296 §1.3.3: ... answered by tunsecd with SA No KE TSi TSr" "$(delta RS_IN)" "$(delta RQ_OUT)"
check_ge "RFC 7296 §1.3.3: CHILD_SA rekeys initiated by tunsecd (N(REKEY_SA), KE)" "$(delta RQ_IN)" 2
check_ge "RFC 7296 §1.3.2: IKE SA rekeys initiated by charon" "$(delta IKE_OUT)" 1
check_ge "RFC 7296 §1.3.2: ... answered by tunsecd" "$(delta IKE_RS)" "$(delta IKE_OUT)"
check_ge "RFC 7296 §1.3.2: IKE SA rekeys initiated by tunsecd" "$(delta IKE_IN)" 1
check "charon: IKE SA rekeyed (log)" swan_log_has w 'IKE_SA gw\[[0-9]+\] rekeyed between'
# A request charon had to retransmit: tunsecd must have answered the first
# copy at once (its rx-retransmit counts the copy it then answered from its
# cache) and the answer been lost where charon's socket dropped datagrams
# (the same overflow as above); anything else is tunsecd's failure.
if grep -q 'retransmit [0-9]* of request' "${SWAN_DIR[w]}/charon.log"; then
	grep -E -B4 -A2 'retransmit [0-9]* of request' "${SWAN_DIR[w]}/charon.log" | sed 's/^/     | /'
	rx_retr=$(tstat t ike rx-retransmit)
	if [ "${rx_retr:-0}" -ge 1 ] && [ "$swan_rcvbuf" -ge 1 ] && [ "$tsd_rcvbuf" = 0 ]; then
		ok "charon retransmitted: tunsecd had answered the first copy (rx-retransmit $rx_retr), charon's socket dropped $swan_rcvbuf datagrams"
	else
		bad "charon retransmitted a request tunsecd did not answer (rx-retransmit ${rx_retr:-?}, charon's socket drops $swan_rcvbuf, tunsecd's $tsd_rcvbuf)"
	fi
else
	ok "charon: no retransmitted request (every request answered at once)"
fi
check "charon: no CHILD_SA or IKE SA failed" sh -c \
	"! grep -qE 'failed to establish CHILD_SA|received (NO_PROPOSAL_CHOSEN|INVALID_KE_PAYLOAD|TS_UNACCEPTABLE|INVALID_SYNTAX)|IKE_SA .* failed' '${SWAN_DIR[w]}/charon.log'"

# at rest: the old SAs are gone on both sides, one of each remains
sleep 0.5
check "charon ends with exactly 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 5
swan_list_sas w | sed 's/^/     /'
spis=$(swan_child_spis w)
if [ -n "$spis" ] && [ "$spis" != "$spis0" ]; then
	ok "CHILD_SA SPIs changed: $spis0-> $spis"
else
	bad "CHILD_SA SPIs did not change ($spis0 / $spis)"
fi
ix_status | sed 's/^/     tunsec: /'
# (tunsecd's timers keep rekeying: compare both views until they agree)
if wait_for 5 ix_spis_match; then
	ok "tunsecd's CHILD_SA SPIs mirror charon's ($IX_SPIS)"
else
	bad "CHILD_SA SPIs differ: $IX_SPIS"
fi
check "ping after the rekeys (10/10)" ping_n "$T_NS" $W_IN4 10
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
