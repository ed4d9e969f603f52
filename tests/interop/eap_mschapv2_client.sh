#!/bin/bash
# asan: EAP in IKE_AUTH, the peer side, against strongSwan's EAP server
# Interop, tunsecd initiates as an EAP-MSCHAPv2 peer (RFC 7296 §2.16;
# RFC 2759) to strongSwan 5.9 (charon, eap-mschapv2 plugin) as the EAP
# server, which proves itself with the PSK. Checks:
#  - §2.16: tunsecd's IKE_AUTH carries no AUTH; charon's EAP method
#    succeeds for carol, both AUTHs with the MSK verify, CHILD_SA up;
#  - §2.19: tunsecd asks (vips = 0.0.0.0) and gets a virtual IP and a DNS
#    server from charon's pool; the address goes on its TUN device and
#    pings go from and to it;
#  - tunsecd answers no EAP before charon's AUTH verified (CVE-2021-45079's
#    lesson): with the wrong PSK for charon, charon logs no EAP response
#    from tunsecd and tunsecd ends the IKE SA saying the server's AUTH
#    did not verify;
#  - a wrong password: charon's EAP-MSCHAPv2 refuses it, no SA.
. "$(dirname "$0")/swan.lib"
ix_init ixC

IX_VIPS=1
T_START=start
ix_mschapv2_client
ix_conf
ix_start_swan
ix_start_tsd

check "charon: 1 IKE SA and 1 CHILD_SA (tunsecd started it)" swan_wait_sas w 1 1 10
check "charon: carol's EAP-MSCHAPv2 succeeded (§2.16)" swan_log_has w \
	"EAP method EAP_MSCHAPV2 succeeded, MSK established"
check "charon: tunsecd's AUTH with the MSK verified" swan_log_has w \
	"authentication of '$IX_T_ID' with EAP successful"
check "charon: tunsecd's first IKE_AUTH had no AUTH (it asked for EAP)" swan_log_has w \
	"parsed IKE_AUTH request 1 \\[ IDi( N\\(INIT_CONTACT\\))? IDr CPRQ\\(ADDR DNS\\) SA TSi TSr"
check "tunsecd: the IKE SA is up" wait_for 3 ix_ike_up
ix_vip_checks 5
check "tunsec down gw" ix_tunsec down gw
check "... the virtual IP leaves the TUN device with the IKE SA" wait_for 5 ix_vip_gone
check "tunsecd exits 0 on SIGTERM" tsd_stop t
check "charon: no SA after tunsecd's Delete" swan_wait_sas w 0 0 5

# The server's AUTH does not verify (tunsecd has the wrong PSK for it):
# tunsecd sends no EAP Response at all.
ix_mschapv2_client "carol pw" "not-$IX_PSK"
ix_conf
n0=$(grep -c "EAP/RES" "${SWAN_DIR[w]}/charon.log")
ix_start_tsd
check "tunsecd: charon's AUTH did not verify, it says so" wait_for 10 grep -q \
	"we refused the AUTH of .*: AUTH did not verify: the pre-shared keys differ" "${TSD_LOG[t]}"
check "charon: not one EAP Response came (no EAP before the server proved itself)" \
	test "$(grep -c "EAP/RES" "${SWAN_DIR[w]}/charon.log")" -eq "$n0"
check "charon: no SA" swan_wait_sas w 0 0 5
tsd_stop t >/dev/null

# A wrong password.
ix_mschapv2_client "wrong pw"
ix_conf
ix_start_tsd
check "charon refuses the wrong password (EAP-MSCHAPv2 failed)" wait_for 10 swan_log_has w \
	"EAP-MS-CHAPv2 verification failed|EAP method EAP_MSCHAPV2 failed"
check "tunsecd: EAP failed, it says so" wait_for 10 grep -q "EAP.*failed" "${TSD_LOG[t]}"
check "no password in tunsecd's log" sh -c "! grep -qE 'carol pw|wrong pw' '${TSD_LOG[t]}'"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
