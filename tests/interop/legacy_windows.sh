#!/bin/bash
# Interop, strongSwan 5.9 offers exactly the default suite of the IKEv2
# client built into Windows: IKE aes256-sha1-modp1024 (AES-CBC-256,
# HMAC-SHA1-96, PRF_HMAC_SHA1, MODP 1024), ESP aes256-sha1. RFC 8247
# §2.2-2.4 and RFC 8221 §6 say SHOULD NOT; tunsecd admits that suite only
# with tunsec.legacy = yes (tunsec.conf(5)), and logs every SA using it.
# Checks:
#  - without the option (proposals = default), tunsecd answers
#    NO_PROPOSAL_CHOSEN (RFC 7296 §2.7), and its log line names what was
#    offered and the option that would admit it; no SA on either side;
#  - with tunsec.legacy = yes and proposals still `default`, the same
#    request succeeds: charon shows AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/
#    MODP_1024 and an ESP AES_CBC-256/HMAC_SHA1_96 CHILD_SA, tunsecd warns
#    LEGACY for the IKE SA and the CHILD_SA, and pings pass through.
. "$(dirname "$0")/swan.lib"
ix_init ixW

T_IKE=default
W_IKE=aes256-sha1-modp1024
T_ESP=default
W_ESP=aes256-sha1
ix_conf
ix_start_swan
ix_start_tsd

if swan_initiate w net gw; then
	bad "without tunsec.legacy the Windows suite must be refused"
else
	ok "without tunsec.legacy: charon's Windows suite refused"
fi
check "charon: received NO_PROPOSAL_CHOSEN" swan_log_has w "NO_PROPOSAL_CHOSEN"
check "tunsecd: the refusal names the offer and tunsec.legacy" grep -q \
	"gw: no acceptable IKE proposal from $W_UL:[0-9]*: it offered .*sha1.*modp1024.*tunsec.legacy = yes" \
	"${TSD_LOG[t]}"
check "tunsecd lists no SA" ix_no_sa
check "tunsecd exits 0" tsd_stop t

mv "${TSD_LOG[t]}" "$WORK/tunsecd-t-strict.log"
T_TSEC_EXTRA="legacy = yes"
ix_conf
ix_start_tsd
if swan_initiate w net gw; then
	ok "with tunsec.legacy = yes: the Windows suite accepted"
else
	bad "with tunsec.legacy = yes the initiate failed"
fi
sas=$(swan_list_sas w)
say "charon: $(grep -E 'AES_CBC' <<<"$sas" | tr -s ' ' | tr '\n' ';')"
check "charon: IKE SA AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024" \
	grep -q '^  AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024$' <<<"$sas"
check "charon: CHILD_SA AES_CBC-256/HMAC_SHA1_96" grep -q 'ESP:AES_CBC-256/HMAC_SHA1_96$' <<<"$sas"
check "tunsecd: warns LEGACY for the IKE SA" grep -q "gw: IKE SA #[0-9]* uses a LEGACY suite" "${TSD_LOG[t]}"
check "tunsecd: warns LEGACY for the CHILD_SA" grep -q "CHILD_SA 0x[0-9a-f]* uses a LEGACY suite (aes256-sha1" "${TSD_LOG[t]}"
check "tunsecd: status names the suite" sh -c "'$TUNSEC' -s '${TSD_SOCK[t]}' status | grep -q 'aes256-sha1-prfsha1-modp1024'"
check "ping charon -> tunsecd (10/10)" ping_n "$W_NS" $T_IN4 10
check "tunsecd exits 0" tsd_stop t
lib_finish
