#!/bin/bash
# Interop with strongSwan 5.9 (charon, kernel-libipsec): liveness checks
# (dead peer detection, RFC 7296 §2.4: an empty INFORMATIONAL request when
# nothing came from the peer for dpd_delay; §2.1: a request retransmitted
# in vain means the peer is dead and its IKE SA and CHILD_SAs go away).
# Retransmission is shortened on both sides (1 s, factor 1.4, 2 tries).
# Checks:
#  1. tunsecd (dpd_delay = 2s) sends empty INFORMATIONAL requests to a live
#     charon when idle, and charon answers them (the tunnel stays up);
#  2. charon killed (SIGKILL, no Delete): tunsecd's liveness check goes
#     unanswered, it retransmits (seen on the wire), gives up and removes
#     the IKE SA and the CHILD_SA (dpd_action = clear): its status lists no
#     SA;
#  3. the converse: charon (dpd_delay = 2s) with a tunnel to tunsecd, and
#     tunsecd killed (SIGKILL): charon sends DPD requests, gives up after
#     its retransmissions and lists no SA.
. "$(dirname "$0")/swan.lib"
ix_init ixD

T_IKE=aes256gcm16-prfsha256-x25519
W_IKE=aes256gcm16-prfsha256-x25519
T_START=start
T_DPD=2s
T_DPD_ACTION=clear
# tunsec.conf(5): charon.retransmit_* of strongswan.conf, in the tunsec section
T_TSEC_EXTRA="retransmit_timeout = 1
	retransmit_base = 1.4
	retransmit_tries = 2"
# Phase 1 and 2: no DPD at charon. With both sides checking every 2 s,
# charon's requests alone would keep tunsecd's timer reset (§2.4: a
# request heard is proof of life), and tunsecd's own check would never be
# seen. Charon checks in phase 3.
W_DPD=0
SWAN_CHARON_EXTRA="retransmit_timeout = 1
	retransmit_base = 1.4
	retransmit_tries = 2"
ix_conf
ix_start_swan
ix_start_tsd
swan_wait_sas w 1 1 10 || die "no IKE SA + CHILD_SA at charon 10 s after tunsecd started"
ok "tunnel up (tunsecd initiated)"
check "ping through the tunnel (5/5)" ping_n "$T_NS" $W_IN4 5

# --- 1. liveness checks answered --------------------------------------------
# an empty INFORMATIONAL request: "parsed INFORMATIONAL request 2 [ ]".
DPD_IN='parsed INFORMATIONAL request [0-9]+ \[ \]'
check "RFC 7296 §2.4: tunsecd sent an empty INFORMATIONAL (liveness check), charon answered" \
	wait_for 8 swan_log_has w "$DPD_IN"
check "tunnel still up after the liveness checks" swan_wait_sas w 1 1 2
check "tunsecd still lists its IKE SA" ix_ike_up

# --- 2. charon dies: tunsecd detects it -------------------------------------
lib_bg "$WORK/dpd-t.txt" ip netns exec "$T_NS" tcpdump -l -nn -i "$C_IF" \
	"udp and src host $T_UL and dst host $W_UL"
DUMP=$LIB_PID
sleep 0.5
swan_kill w
ok "charon killed (SIGKILL)"
if wait_for 30 ix_no_sa; then
	ok "RFC 7296 §2.4: tunsecd declared charon dead and removed the IKE SA and CHILD_SA"
else
	bad "RFC 7296 §2.4: tunsecd still lists SAs 30 s after charon died"
fi
check "tunsecd logs the reason: IKE SA down, peer dead (DPD)" \
	grep -qE 'gw: IKE SA #[0-9]+ down: peer dead \(DPD\)' "${TSD_LOG[t]}"
lib_stop "$DUMP"
# the liveness check and its 2 retransmissions: INFORMATIONAL requests on
# port 4500 (tcpdump: "NONESP-encap: isakmp: child_sa  inf2[I]")
n=$(grep -cE "$T_UL\.4500 > $W_UL\.4500: NONESP-encap: isakmp: .* inf2\[I\]" "$WORK/dpd-t.txt")
grep inf2 "$WORK/dpd-t.txt" | sed -n '1,4p' | sed 's/^/     wire: /'
check_ge "§2.1: tunsecd sent its liveness check and retransmitted it (packets to 4500)" "$n" 3
check "no ping through the tunnel to the dead peer" sh -c \
	"! ip netns exec $T_NS ping -n -c 1 -W 1 $W_IN4 >/dev/null"
check "tunsecd still running" kill -0 "${TSD_PID[t]}"

# --- 3. tunsecd dies: charon detects it -------------------------------------
mv "${SWAN_DIR[w]}/charon.log" "${SWAN_DIR[w]}/charon-1.log"
W_DPD=2s
ix_conf
ix_start_swan
check "tunsec up gw (to the new charon)" ix_tunsec up gw
swan_wait_sas w 1 1 10 || die "no IKE SA + CHILD_SA at the new charon"
check "ping through the new tunnel (5/5)" ping_n "$T_NS" $W_IN4 5
kill -9 "${TSD_PID[t]}"
lib_stop "${TSD_PID[t]}"
TSD_PID[t]=""
ok "tunsecd killed (SIGKILL)"
if swan_wait_sas w 0 0 25; then
	ok "RFC 7296 §2.4: charon declared tunsecd dead and removed its SAs"
else
	bad "RFC 7296 §2.4: charon still lists SAs 25 s after tunsecd died"
fi
check "charon sent DPD requests that went unanswered" swan_log_has w \
	'retransmit [0-9]+ of request with message ID'
check "charon gave up after its retransmissions" swan_log_has w 'giving up after 2 retransmits'
lib_finish
