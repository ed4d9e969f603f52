#!/bin/bash
# asan: a foreign initiator (charon) through the responder path
# Interop, strongSwan 5.9 (charon, kernel-libipsec) initiates, tunsecd
# responds; PSK (RFC 7296 §2.15); ChaCha20-Poly1305 (RFC 7634) with
# PRF-HMAC-SHA256 and MODP 2048 (group 14, RFC 3526) for the IKE SA,
# ChaCha20-Poly1305 for the CHILD_SA.
# Checks:
#  - RFC 7296 §1.2: tunsecd answers IKE_SA_INIT and IKE_AUTH: swanctl
#    --initiate succeeds, the algorithms are the configured ones, and
#    tunsecd's status shows the IKE SA;
#  - RFC 7296 §2.23: charon (behind its "NAT") moved to port 4500 and
#    tunsecd answers there;
#  - RFC 4303 / RFC 7634 through the CHILD_SA: ping both ways;
#  - charon's own swanctl.conf passes `tunsecd -t` unchanged;
#  - RFC 7296 §1.4.1: charon deletes the IKE SA (swanctl --terminate):
#    tunsecd answers the INFORMATIONAL (charon logs "IKE_SA deleted" after
#    its request is answered, not after a timeout), lists no SA afterwards
#    and passes no traffic.
. "$(dirname "$0")/swan.lib"
ix_init ixR

T_IKE=chacha20poly1305-prfsha256-modp2048
W_IKE=chacha20poly1305-prfsha256-modp2048
T_ESP=chacha20poly1305
W_ESP=chacha20poly1305
ix_conf
ix_start_swan
ix_start_tsd

# The issue's promise: a strongSwan configuration that uses only what
# tunsec supports loads unchanged. Charon's own swanctl.conf, included as
# is after a tunsec section, passes `tunsecd -t`.
printf 'tunsec {\n\tsocket = %s/check.sock\n}\ninclude %s\n' "$WORK" \
	"${SWAN_DIR[w]}/swanctl.conf" >"$WORK/swanctl-as-tunsec.conf"
out=$("$TUNSECD" -t -c "$WORK/swanctl-as-tunsec.conf" 2>&1)
say "tunsecd -t: $out"
check "charon's swanctl.conf loads unchanged in tunsecd (-t)" grep -q "configuration OK: 1 connection" <<<"$out"

if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	die "RFC 7296 §1.2: swanctl --initiate to tunsecd failed"
fi
ok "RFC 7296 §1.2: charon initiated, tunsecd responded (IKE_SA_INIT + IKE_AUTH)"
sas=$(swan_list_sas w)
echo "$sas" | sed 's/^/     /'
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 2
check "charon: authenticated tunsecd with the pre-shared key (§2.15)" swan_log_has w \
	"authentication of '$IX_T_ID' with pre-shared key successful"
check "charon: IKE SA uses CHACHA20_POLY1305/PRF_HMAC_SHA2_256/MODP_2048" \
	grep -q '^  CHACHA20_POLY1305/PRF_HMAC_SHA2_256/MODP_2048$' <<<"$sas"
check "charon: CHILD_SA uses ESP:CHACHA20_POLY1305 in UDP" \
	grep -qE 'net: #[0-9]+, reqid [0-9]+, INSTALLED, TUNNEL-in-UDP, ESP:CHACHA20_POLY1305$' <<<"$sas"
check "charon: CHILD_SA selectors $W_NET4 === $T_NET4" swan_log_has w \
	"CHILD_SA net\{[0-9]+\} established with SPIs [0-9a-f]{8}_i [0-9a-f]{8}_o and TS $W_NET4 === $T_NET4"
check "RFC 7296 §2.23: IKE_AUTH on port 4500 (charon: tunsecd at $T_UL[4500])" \
	grep -qF "remote '$IX_T_ID' @ $T_UL[4500]" <<<"$sas"
check "tunsecd: status shows the IKE SA established" wait_for 3 ix_ike_up
st=$(ix_status)
echo "$st" | sed 's/^/     tunsec: /'
check "tunsecd: it is the responder of the IKE SA" \
	grep -qE '^  gw\[[0-9]+\]: established, .*, responder' <<<"$st"
check "tunsecd: IKE SA chacha20poly1305-prfsha256-modp2048" \
	grep -qE '^    SPIs [0-9a-f]{16}_i [0-9a-f]{16}_r, chacha20poly1305-prfsha256-modp2048,' <<<"$st"
if ix_spis_match; then
	ok "tunsecd's CHILD_SA SPIs mirror charon's ($IX_SPIS)"
else
	bad "CHILD_SA SPIs differ: $IX_SPIS"
fi

check "ping charon -> tunsecd through the CHILD_SA (20/20)" ping_n "$W_NS" $T_IN4 20
check "ping tunsecd -> charon through the CHILD_SA (20/20)" ping_n "$T_NS" $W_IN4 20

# RFC 7296 §1.4.1: Delete from the peer; the responder answers it
if swan_terminate w gw; then
	ok "swanctl --terminate: charon's Delete was answered"
else
	bad "swanctl --terminate failed: $(tail -n 3 "${SWAN_DIR[w]}/terminate.out" | tr '\n' ' ')"
fi
check "charon: IKE_SA deleted" swan_log_has w 'IKE_SA deleted'
check "charon: no retransmission of its Delete" sh -c \
	"! grep -q 'retransmit .* of request with message ID' '${SWAN_DIR[w]}/charon.log'"
check "charon lists no SA" swan_wait_sas w 0 0 3
check "tunsecd lists no SA after the peer's Delete" wait_for 5 ix_no_sa
ix_status | sed 's/^/     tunsec: /'
check "no ping through the deleted tunnel" sh -c "! ip netns exec $T_NS ping -n -c 1 -W 1 $W_IN4 >/dev/null"
check "tunsecd still running" kill -0 "${TSD_PID[t]}"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
