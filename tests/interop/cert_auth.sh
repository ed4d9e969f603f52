#!/bin/bash
# Interop with strongSwan 5.9 (charon, kernel-libipsec): public key
# authentication with X.509 certificates (RFC 7296 §2.15, §3.6 CERT, §3.7
# CERTREQ, §3.8 AUTH; RFC 7427 digital signatures; RFC 4754 / RFC 7427
# ECDSA), certificates made with strongSwan's pki in the test's own
# directory: one CA per run, an end-entity certificate for each side with
# its identity as subjectAltName.
# Checks, for RSA 2048 (tunsecd initiates) and ECDSA P-256 (charon
# initiates):
#  - charon authenticates tunsecd's signature with tunsecd's certificate
#    (its log: "authentication of 'tunsec.ix.test' with ... successful",
#    "received end entity cert") and tunsecd accepts charon's (the tunnel
#    comes up: 1 IKE SA, 1 CHILD_SA, pings both ways);
#  - RFC 7296 §3.7: tunsecd's CERTREQ names the CA (charon: "received cert
#    request for" the CA's DN);
#  - a certificate from another CA is refused (AUTHENTICATION_FAILED,
#    §2.21.2): no SA on either side.
. "$(dirname "$0")/swan.lib"
ix_init ixA

# make_certs TYPE SIZE: ix_certs (a CA, tunsecd's and charon's
# certificates and keys), and other.pem/other.key: tunsecd's name signed by
# a CA nobody trusts
make_certs() {
	local k
	ix_certs "$1" "$2"
	k=$IX_PKI
	ix_pk --gen --type "$1" --size "$2" --outform pem >"$k/other.key"
	ix_pk --gen --type "$1" --size "$2" --outform pem >"$k/rogue-ca.key"
	ix_pk --self --in "$k/rogue-ca.key" --type "$1" --ca --dn "C=CH, O=ix, CN=rogue CA" \
		--outform pem >"$k/rogue-ca.pem"
	ix_pk --issue --in "$k/other.key" --type priv --cacert "$k/rogue-ca.pem" \
		--cakey "$k/rogue-ca.key" --dn "C=CH, O=ix, CN=$IX_T_ID" --san "$IX_T_ID" \
		--outform pem >"$k/other.pem"
	chmod 600 "$k"/*.key
}

# --- RSA 2048, tunsecd initiates --------------------------------------------
make_certs rsa 2048
ix_pubkey_conf t
ix_start_swan
ix_start_tsd
check "RSA: tunsec up gw" ix_tunsec up gw
if swan_wait_sas w 1 1 10; then
	ok "RFC 7296 §2.15: RSA certificates, tunsecd initiated: 1 IKE SA + 1 CHILD_SA"
else
	bad "RFC 7296 §2.15: RSA certificates: no SA at charon after 10 s"
fi
check "RSA: charon received tunsecd's end entity certificate (§3.6)" swan_log_has w \
	"received end entity cert \"C=CH, O=ix, CN=$IX_T_ID\""
check "RSA: charon verified tunsecd's signature (§3.8)" swan_log_has w \
	"authentication of '$IX_T_ID' with RSA[A-Z0-9_]* successful"
check "RSA: tunsecd's CERTREQ names the CA (§3.7)" swan_log_has w \
	'received cert request for "C=CH, O=ix, CN=ix rsa CA"'
check "RSA: ping both ways (5/5 each)" ix_ping_both 5
check "RSA: tunsec down gw" ix_tunsec down gw
check "RSA: charon lists no SA" swan_wait_sas w 0 0 5
check "tunsecd exits 0 on SIGTERM" tsd_stop t
swan_stop w

# --- ECDSA P-256, charon initiates ------------------------------------------
rm -f "${SWAN_DIR[w]}/private/"*.key "${SWAN_DIR[w]}/charon.log"
make_certs ecdsa 256
ix_pubkey_conf t
ix_start_swan
ix_start_tsd
if swan_initiate w net gw; then
	ok "RFC 7296 §2.15: ECDSA P-256 certificates, charon initiated: tunnel up"
else
	bad "ECDSA: swanctl --initiate failed: $(grep -E 'failed|AUTH' "${SWAN_DIR[w]}/initiate.out" | head -3 | tr '\n' ' ')"
fi
check "ECDSA: charon verified tunsecd's signature (RFC 7427 / RFC 4754)" swan_log_has w \
	"authentication of '$IX_T_ID' with ECDSA[A-Z0-9_-]* (signature )?successful"
check "ECDSA: ping both ways (5/5 each)" ix_ping_both 5
check "ECDSA: swanctl --terminate" swan_terminate w gw
check "ECDSA: tunsecd lists no SA" wait_for 5 ix_no_sa
check "tunsecd exits 0 on SIGTERM" tsd_stop t

# --- a certificate from an untrusted CA is refused --------------------------
ix_pubkey_conf other
ix_start_tsd
n0=$(swan_log_count w 'generating IKE_AUTH response [0-9]+ \[ N\(AUTH_FAILED\) \]')
ix_tunsec up gw >/dev/null
check "untrusted certificate: charon answers IKE_AUTH with AUTHENTICATION_FAILED (§2.21.2)" \
	wait_for 10 sh -c "[ \$(grep -cE 'generating IKE_AUTH response [0-9]+ \\[ N\\(AUTH_FAILED\\) \\]' \
		'${SWAN_DIR[w]}/charon.log') -gt $n0 ]"
check "untrusted certificate: charon found no issuer for it" swan_log_has w \
	"no issuer certificate found for \"C=CH, O=ix, CN=$IX_T_ID\""
check "untrusted certificate: tunsecd reports the IKE SA failed, authentication failed" \
	wait_for 5 grep -qE 'gw: IKE SA #[0-9]+ failed: 10.77.0.2(:[0-9]+)? refused our AUTH' "${TSD_LOG[t]}"
check "untrusted certificate: charon lists no SA" swan_wait_sas w 0 0 3
check "untrusted certificate: tunsecd lists no SA" wait_for 5 ix_no_sa
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
