#!/bin/bash
# asan: EAP-only authentication (RFC 5998) with EAP-TLS, both roles, against strongSwan
# Interop, strongSwan 5.9 (charon, eap-tls): EAP-only authentication (RFC
# 5998): the server sends no AUTH of its own before EAP; EAP-TLS (mutual
# and key-generating, §4) proves both sides and the AUTHs made with its
# MSK end IKE_AUTH. Certificates made with strongSwan's pki in the test's
# own directory (ECDSA P-256: one CA, the gateways' TLS certificates, a
# user certificate for carol@ix.test).
# Checks:
#  1. charon as the client (it always announces EAP_ONLY_AUTHENTICATION),
#     tunsecd an EAP-only server (local.auth = eap-tls): charon allows
#     "mutual EAP-only authentication", the tunnel comes up, ping;
#  2. tunsecd as an EAP-only client (local.auth and remote.auth eap-tls)
#     against charon as an EAP-only server: the tunnel comes up with a
#     virtual IP and DNS server from charon's pool, pings from and to it;
#  3. tunsecd as an EAP-only client against a server that proves itself
#     with a certificate AUTH: refused (tunsecd has nothing to check that
#     AUTH with, and the configuration asks for EAP-TLS), and it says why;
#  4. an EAP-only connection with EAP-MSCHAPv2 does not load (§4: not a
#     safe EAP-only method), with the reason.
. "$(dirname "$0")/swan.lib"
ix_init ixO

ix_certs ecdsa 256
ix_issue carol carol@ix.test clientAuth
K=$IX_PKI
SWAN_LOAD_EXTRA="eap-tls eap-identity"
swan_key() { # NAME: charon's only private key
	rm -f "${SWAN_DIR[w]}/private/"*
	cp "$K/$1.key" "${SWAN_DIR[w]}/private/$1.key"
	chmod 600 "${SWAN_DIR[w]}/private/$1.key"
}

# --- 1: charon the client, tunsecd an EAP-only server ------------------------
T_AUTH_LOCAL="auth = eap-tls
			id = $IX_T_ID
			certs = $K/t.pem"
T_AUTH_REMOTE="auth = eap-tls
			cacerts = $K/ca.pem"
T_SECRETS="private-t {
		file = $K/t.key
	}"
swan_key carol
W_AUTH_LOCAL="auth = eap-tls
			id = carol@ix.test
			certs = $K/carol.pem"
# (the CA in x509ca/: its EAP-TLS checks tunsecd's TLS certificate with
# it; remote.cacerts would ask for a certificate AUTH, which EAP-only has
# none of)
cp "$K/ca.pem" "${SWAN_DIR[w]}/x509ca/ca.pem"
W_AUTH_REMOTE="id = $IX_T_ID"
W_SECRETS=""
ix_conf
ix_start_swan
ix_start_tsd
if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	die "RFC 5998: charon's EAP-only login to tunsecd failed"
fi
ok "RFC 5998 §3: charon logs in to an EAP-only tunsecd with EAP-TLS"
check "charon: no AUTH came before EAP, and it took that as EAP-only" swan_log_has w \
	"allow mutual EAP-only authentication"
check "charon: EAP method EAP_TLS succeeded, MSK established" swan_log_has w \
	"EAP method EAP_TLS succeeded, MSK established"
check "charon: tunsecd's AUTH with the MSK verified" swan_log_has w \
	"authentication of '$IX_T_ID' with EAP successful"
check "tunsecd: the IKE SA is up" wait_for 3 ix_ike_up
check "tunsecd knows the client as carol@ix.test" sh -c \
	"'$TUNSEC' -s '$WORK/t.sock' status | grep -q 'remote id carol@ix.test'"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "ping through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
swan_ctl w --terminate --ike gw >/dev/null 2>&1
check "tunsecd: no SA after carol leaves" wait_for 5 ix_no_sa
check "tunsecd exits 0 on SIGTERM" tsd_stop t
swan_stop w

# --- 2: tunsecd an EAP-only client, charon an EAP-only server ----------------
rm -f "${SWAN_DIR[w]}/charon.log"
swan_key w
W_AUTH_LOCAL="auth = eap-tls
			id = $IX_W_ID
			certs = $K/w.pem"
W_AUTH_REMOTE="auth = eap-tls
			id = %any
			eap_id = %any
			cacerts = $K/ca.pem"
W_SECRETS=""
T_AUTH_LOCAL="auth = eap-tls
			id = carol@ix.test
			certs = $K/carol.pem"
T_AUTH_REMOTE="auth = eap-tls
			id = $IX_W_ID
			cacerts = $K/ca.pem"
T_SECRETS="private-c {
		file = $K/carol.key
	}"
IX_VIPS=1 # with a virtual IP and DNS from charon's pool (RFC 7296 §2.19)
ix_conf
ix_start_swan
ix_start_tsd
check "tunsec up gw" ix_tunsec up gw
if swan_wait_sas w 1 1 10; then
	ok "RFC 5998: tunsecd logs in EAP-only to charon: 1 IKE SA + 1 CHILD_SA"
else
	bad "RFC 5998: tunsecd logs in EAP-only to charon: no SA at charon"
fi
check "charon: EAP-only, its EAP_TLS succeeded" swan_log_has w \
	"EAP method EAP_TLS succeeded, MSK established"
check "tunsecd: the IKE SA is up" wait_for 3 ix_ike_up
ix_vip_checks 5
check "tunsec down gw" ix_tunsec down gw
check "charon lists no SA" swan_wait_sas w 0 0 5
check "tunsecd exits 0 on SIGTERM" tsd_stop t
swan_stop w

# --- 3: tunsecd EAP-only against a server that sends a certificate AUTH -----
rm -f "${SWAN_DIR[w]}/charon.log"
W_AUTH_LOCAL="auth = pubkey
			id = $IX_W_ID
			certs = $K/w.pem"
IX_VIPS=
ix_conf
ix_start_swan
ix_start_tsd
ix_tunsec up gw >/dev/null
check "a server AUTH is refused by an EAP-only client: no SA at tunsecd" wait_for 10 ix_no_sa
check "... nor at charon" swan_wait_sas w 0 0 5
check "tunsecd says why" grep -q "EAP-only authentication (RFC 5998) on one side only" \
	"${TSD_LOG[t]}"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
swan_stop w

# --- 4: EAP-only with EAP-MSCHAPv2 does not load ------------------------------
T_AUTH_LOCAL="auth = eap-mschapv2
			id = carol@ix.test"
T_AUTH_REMOTE="auth = eap-mschapv2
			id = $IX_W_ID"
T_SECRETS=""
ix_conf
if "$TUNSECD" -t -c "$WORK/t.conf" >"$WORK/check.out" 2>&1; then
	bad "RFC 5998 §4: an EAP-only connection with EAP-MSCHAPv2 is refused"
else
	ok "RFC 5998 §4: an EAP-only connection with EAP-MSCHAPv2 is refused"
fi
check "... with the reason" grep -q "EAP-only" "$WORK/check.out"
lib_finish
