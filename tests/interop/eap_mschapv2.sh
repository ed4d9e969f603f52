#!/bin/bash
# asan: EAP in IKE_AUTH, the server side, against strongSwan's EAP peer
# Interop, strongSwan 5.9 (charon, eap-mschapv2 plugin) initiates with
# EAP-MSCHAPv2 (RFC 7296 §2.16; draft-kamath-pppext-eap-mschapv2, RFC
# 2759), tunsecd is the EAP server with its users in its own secrets
# (eap-NAME: a password; ntlm-NAME: only the NT hash, MD4 of the UTF-16LE
# password) and proves itself with the PSK. Checks:
#  - §2.16: carol logs in with her password: charon reports the EAP method
#    succeeded and the MSK, both AUTHs after it verify, CHILD_SA up, ping;
#  - tunsecd knows her by the EAP identity (carol), not by her IKE ID;
#  - dave's secret is only an NT hash on the server (`tunsec nthash`
#    made it): he logs in too;
#  - a wrong password: EAP-MSCHAPv2 failure (E=691), no SA on either side,
#    and tunsecd says why;
#  - an unknown user: refused the same way.
. "$(dirname "$0")/swan.lib"
ix_init ixE

SWAN_LOAD_EXTRA="eap-mschapv2 eap-identity"
T_AUTH_REMOTE="auth = eap-mschapv2"
# the NT hash of "dave pw", as the docs tell users to make one
DAVE_NT=$(printf 'dave pw\n' | "$TUNSEC" nthash) || die "tunsec nthash failed"
T_SECRETS="ike-any {
		secret = $IX_PSK
	}
	eap-carol {
		id = carol
		secret = \"carol pw\"
	}
	ntlm-dave {
		id = dave
		secret = $DAVE_NT
	}"
client() { # USER PASSWORD: charon's end as that user
	W_AUTH_LOCAL="auth = eap-mschapv2
			id = $IX_W_ID
			eap_id = $1"
	W_AUTH_REMOTE="auth = psk
			id = $IX_T_ID"
	W_SECRETS="ike-t {
		id = $IX_T_ID
		secret = $IX_PSK
	}
	eap-me {
		id = $1
		secret = \"$2\"
	}"
}
client carol "carol pw"
ix_conf
ix_start_swan
ix_start_tsd

# 1. carol
if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	die "RFC 7296 §2.16: carol's EAP-MSCHAPv2 login failed"
fi
check "charon: EAP method EAP_MSCHAPV2 succeeded, MSK established (§2.16)" swan_log_has w \
	"EAP method EAP_MSCHAPV2 succeeded, MSK established"
check "charon: tunsecd's AUTH with the MSK verified" swan_log_has w \
	"authentication of '$IX_T_ID' with EAP successful"
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 3
check "tunsecd: the IKE SA is up" wait_for 3 ix_ike_up
check "tunsecd knows the client as carol, its EAP identity" sh -c \
	"'$TUNSEC' -s '$WORK/t.sock' status | grep -q 'remote id carol'"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "ping through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
swan_ctl w --terminate --ike gw >/dev/null 2>&1
check "tunsecd: no SA after carol leaves" wait_for 5 ix_no_sa

# 2. dave: the server holds only his NT hash
client dave "dave pw"
ix_conf
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then
	ok "dave logs in with the server holding only his NT hash (ntlm-dave)"
else
	bad "dave logs in with the server holding only his NT hash (ntlm-dave)"
fi
check "tunsecd knows the client as dave" wait_for 3 sh -c \
	"'$TUNSEC' -s '$WORK/t.sock' status | grep -q 'remote id dave'"
swan_ctl w --terminate --ike gw >/dev/null 2>&1
wait_for 5 ix_no_sa

# 3. a wrong password, 4. an unknown user
for who in "carol:wrong pw:wrong password" "mallory:x:unknown user"; do
	IFS=: read -r user pw what <<<"$who"
	client "$user" "$pw"
	ix_conf
	swan_load w || die "swanctl could not reload"
	if swan_initiate w net gw; then
		bad "$what: refused"
	else
		ok "$what: refused"
	fi
	check "$what: charon got EAP-MSCHAPv2 failure" swan_log_has w \
		"EAP-MS-CHAPv2 failed with error ERROR_AUTHENTICATION_FAILURE|EAP_MSCHAPV2 method failed"
	check "$what: no SA on tunsecd" wait_for 5 ix_no_sa
done
check "tunsecd says why: EAP failed, for whom" grep -q "we refused the AUTH of .* from .*: EAP failed" "${TSD_LOG[t]}"
check "no password in tunsecd's log" sh -c "! grep -qE 'carol pw|dave pw' '${TSD_LOG[t]}'"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
