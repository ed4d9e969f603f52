#!/bin/bash
# EAP-TLS through RADIUS: strongSwan client, tunsecd (eap-radius), FreeRADIUS
# Interop: strongSwan 5.9 (charon, eap-tls) logs in with a user
# certificate (EAP-TLS, RFC 5216) to tunsecd, which passes the EAP through
# to FreeRADIUS 3.2 (RFC 3579); FreeRADIUS runs the TLS server. EAP-TLS's
# messages are large (certificates): each is several EAP-Message
# attributes (RFC 3579 §3.1) and EAP-TLS fragments (RFC 5216 §2.1.5), so
# this is the test of our RADIUS framing with big EAP packets. Checks:
#  - carol's certificate from the test CA: EAP-TLS succeeds, both AUTHs
#    verify with the MSK FreeRADIUS derived (RFC 5216 §2.3, sent as
#    MS-MPPE keys), a virtual IP, ping through the CHILD_SA; tunsecd knows
#    her by her EAP identity;
#  - mallory's certificate from a CA FreeRADIUS does not trust: refused,
#    no SA, tunsecd says the RADIUS server rejected her;
#  - FreeRADIUS verified every request of ours (Message-Authenticator).
. "$(dirname "$0")/swan.lib"
ix_init ixRT
SWAN_LOAD_EXTRA="eap-tls eap-identity"
SECRET="rad $RANDOM$RANDOM secret"

K=$WORK/certs
mkdir -p "$K"
pk() { pki "$@" 2>"$K/pki.err" || die "pki $1 failed: $(tail -n 2 "$K/pki.err")"; }
# ca NAME: a CA; leaf NAME CA ID: a key and certificate for ID from CA
ca() {
	pk --gen --type ecdsa --size 256 --outform pem >"$K/$1.key"
	pk --self --in "$K/$1.key" --type ecdsa --ca --dn "C=CH, O=ix, CN=$1" --outform pem \
		>"$K/$1.pem"
}
leaf() {
	pk --gen --type ecdsa --size 256 --outform pem >"$K/$1.key"
	pk --issue --in "$K/$1.key" --type priv --cacert "$K/$2.pem" --cakey "$K/$2.key" \
		--dn "C=CH, O=ix, CN=$3" --san "$3" --outform pem >"$K/$1.pem"
}
ca ca
ca rogue
leaf server ca radius.ix.test
leaf carol ca carol@ix.test
leaf mallory rogue mallory@ix.test
chmod 600 "$K"/*.key

. "$(dirname "$0")/freeradius.lib"
FR_TLS_DIR=$K
fr_conf "$SECRET" tls
fr_start "$T_NS"

T_TSEC_EXTRA=$(fr_tsec_radius "$SECRET")
T_AUTH_LOCAL="auth = psk
			id = $IX_T_ID"
T_AUTH_REMOTE="auth = eap-radius"
T_SECRETS="ike-any {
		secret = $IX_PSK
	}"
ix_rw_conf

# charon: USER (carol or mallory) with its certificate; it trusts the CA
# for FreeRADIUS's TLS server certificate (aaa_id)
swan_conf() {
	cp "$K/$1.key" "${SWAN_DIR[w]}/private/user.key"
	chmod 600 "${SWAN_DIR[w]}/private/user.key"
	cp "$K/ca.pem" "${SWAN_DIR[w]}/x509ca/ca.pem"
	W_AUTH_LOCAL="auth = eap-tls
			id = $1@ix.test
			certs = $K/$1.pem
			# the TLS server's identity (FreeRADIUS's certificate), not
			# the IKE server's (strongSwan's default)
			aaa_id = radius.ix.test"
	W_AUTH_REMOTE="auth = psk
			id = $IX_T_ID"
	W_SECRETS="ike-t {
		id-a = $IX_T_ID
		id-b = $1@ix.test
		secret = $IX_PSK
	}"
	ix_swan_rw_conf
}

swan_conf carol
ix_start_swan
ix_start_tsd

if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	tail -n 20 "${TSD_LOG[t]}" | sed 's/^/     tunsecd | /'
	grep -A12 "parsed IKE_AUTH response 1" "${SWAN_DIR[w]}/charon.log" | sed "s/^/     charon | /"
	die "RFC 5216 / RFC 3579: carol's EAP-TLS login through RADIUS failed"
fi
check "charon: EAP_TLS succeeded, MSK established (through RADIUS)" swan_log_has w \
	"EAP method EAP_TLS succeeded, MSK established"
check "charon: tunsecd's AUTH with FreeRADIUS's MSK verified" swan_log_has w \
	"authentication of '$IX_T_ID' with EAP successful"
check "charon: a virtual IP from the pool" swan_log_has w "installing new virtual IP 10\.10\.0\."
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 3
check "tunsecd knows the client by its EAP identity" sh -c \
	"'$TUNSEC' -s '$WORK/t.sock' status | grep -q 'remote id carol@ix.test'"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "ping through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
check "EAP-TLS took several RADIUS rounds (fragments)" sh -c \
	"[ \$('$TUNSEC' -s '$WORK/t.sock' stats | awk '\$1 \" \" \$2 == \"radius answers\" { print \$3 }') -ge 4 ]"
swan_terminate w gw
check "tunsecd: no SA after carol leaves" wait_for 5 ix_no_sa rw

swan_conf mallory
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then
	bad "a certificate from an untrusted CA: refused"
else
	ok "a certificate from an untrusted CA: refused"
fi
check "untrusted CA: no SA on tunsecd" wait_for 5 ix_no_sa rw
check "tunsecd says the RADIUS server rejected mallory" \
	grep -q "RADIUS server 1 rejected mallory@ix.test" "${TSD_LOG[t]}"
check "freeradius still running" kill -0 "$FR_PID"
fr_verified_all
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
