#!/bin/bash
# Interop, strongSwan 5.9 initiates with MODP 1024 (group 2), as the IKEv2
# client built into Windows does by default. RFC 8247 §2.4 says SHOULD NOT;
# tunsec accepts it only with tunsec.legacy_groups = yes.
# Checks:
#  - without legacy_groups, tunsecd answers NO_PROPOSAL_CHOSEN (RFC 7296
#    §2.7): charon's initiate fails and logs the notify, tunsecd logs what
#    was offered and counts the refusal, no SA on either side;
#  - with legacy_groups = yes (and modp1024 in its proposals), the same
#    request succeeds: aes256-sha256-modp1024, ping through the CHILD_SA.
. "$(dirname "$0")/swan.lib"
ix_init ixL

T_IKE=aes256-sha256-modp2048
W_IKE=aes256-sha256-modp1024
T_ESP=aes256gcm16
W_ESP=aes256gcm16
ix_conf
ix_start_swan
ix_start_tsd

if swan_initiate w net gw; then
	bad "RFC 8247 §2.4: MODP 1024 must be refused without legacy_groups"
else
	ok "RFC 8247 §2.4: charon's MODP 1024 proposal refused"
fi
check "charon: received NO_PROPOSAL_CHOSEN" swan_log_has w "NO_PROPOSAL_CHOSEN"
check "tunsecd: logs what was offered" grep -q \
	"gw: no acceptable IKE proposal from $W_UL:[0-9]*: it offered .*modp1024" "${TSD_LOG[t]}"
check_stat "tunsecd: counts the refusal" t ike no-proposal 1
check "tunsecd lists no SA" ix_no_sa
check "tunsecd exits 0" tsd_stop t

# The same peer, tunsecd with the legacy option.
mv "${TSD_LOG[t]}" "$WORK/tunsecd-t-strict.log"
T_IKE=aes256-sha256-modp2048,aes256-sha256-modp1024
T_TSEC_EXTRA="legacy_groups = yes"
ix_conf
ix_start_tsd
if swan_initiate w net gw; then
	ok "with legacy_groups = yes: charon's MODP 1024 proposal accepted"
else
	bad "with legacy_groups = yes the initiate failed"
fi
sas=$(swan_list_sas w)
check "charon: IKE SA uses AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_1024" \
	grep -q '^  AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_1024$' <<<"$sas"
check "tunsecd: status names modp1024" sh -c "'$TUNSEC' -s '${TSD_SOCK[t]}' status | grep -q 'aes256-sha256-prfsha256-modp1024'"
check "ping charon -> tunsecd (10/10)" ping_n "$W_NS" $T_IN4 10
check "tunsecd exits 0" tsd_stop t
lib_finish
