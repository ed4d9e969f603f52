#!/bin/bash
# asan: EAP-TLS in IKE_AUTH, both roles, against strongSwan's eap-tls plugin
# Interop, strongSwan 5.9 (charon, eap-tls): EAP-TLS (RFC 5216) inside
# IKEv2's EAP (RFC 7296 §2.16), the gateway proving itself with its
# certificate (§2.15), certificates made with strongSwan's pki in the
# test's own directory (ECDSA P-256: one CA, the gateways' certificates,
# a user certificate for carol@ix.test, and one from a CA nobody trusts).
# Checks:
#  1. charon as the EAP-TLS peer, tunsecd the server: carol logs in with
#     her certificate (charon: "EAP method EAP_TLS succeeded, MSK
#     established", both AUTHs with the MSK verify, CHILD_SA up, ping),
#     tunsecd knows her by her EAP identity;
#  2. a peer that sends no certificate (an EAP identity charon has no
#     certificate for) is refused, and tunsecd says why;
#  3. RFC 5216 §5.2, with remote.eap_id naming the user the peer must be:
#     carol's certificate passes as carol@ix.test, and is refused as
#     mallory@ix.test (tunsecd says why);
#  4. a user certificate from an untrusted CA is refused (§2.1.3: the
#     server's alert, then EAP-Failure), and tunsecd says why;
#  5. tunsecd as the EAP-TLS peer, charon the server: tunsecd logs in with
#     carol's certificate, checking charon's (TLS) certificate against its
#     CA and its name (remote.id); it gets a virtual IP and DNS server from
#     charon's pool (RFC 7296 §2.19), pings go from and to it;
#  6. tunsecd with the untrusted certificate is refused by charon.
. "$(dirname "$0")/swan.lib"
ix_init ixT

K=$WORK/certs
mkdir -p "$K"
pk() { pki "$@" 2>"$K/pki.err" || die "pki $1 failed: $(tail -n 2 "$K/pki.err")"; }

# CA, the two gateways (IKE and TLS server certificates), carol, and
# carol again from a rogue CA
pk --gen --type ecdsa --size 256 --outform pem >"$K/ca.key"
pk --self --in "$K/ca.key" --type ecdsa --ca --dn "C=CH, O=ix, CN=ix EAP-TLS CA" \
	--outform pem >"$K/ca.pem"
pk --gen --type ecdsa --size 256 --outform pem >"$K/rogue-ca.key"
pk --self --in "$K/rogue-ca.key" --type ecdsa --ca --dn "C=CH, O=ix, CN=rogue CA" \
	--outform pem >"$K/rogue-ca.pem"
issue() { # NAME ID CA FLAG
	pk --gen --type ecdsa --size 256 --outform pem >"$K/$1.key"
	pk --issue --in "$K/$1.key" --type priv --cacert "$K/$3.pem" --cakey "$K/$3.key" \
		--dn "C=CH, O=ix, CN=$2" --san "$2" --flag "$4" --outform pem >"$K/$1.pem"
}
issue t $IX_T_ID ca serverAuth
issue w $IX_W_ID ca serverAuth
issue carol carol@ix.test ca clientAuth
issue rogue carol@ix.test rogue-ca clientAuth
chmod 600 "$K"/*.key
SWAN_LOAD_EXTRA="eap-tls eap-identity"

# --- 1-3: charon is the EAP-TLS peer, tunsecd the server --------------------
T_AUTH_LOCAL="auth = pubkey
			id = $IX_T_ID
			certs = $K/t.pem"
T_AUTH_REMOTE="auth = eap-tls
			cacerts = $K/ca.pem"
T_SECRETS="private-t {
		file = $K/t.key
	}"
client() { # CERT EAP_ID: charon's end as carol with that certificate
	rm -f "${SWAN_DIR[w]}/private/"*
	cp "$K/$1.key" "${SWAN_DIR[w]}/private/$1.key"
	chmod 600 "${SWAN_DIR[w]}/private/$1.key"
	W_AUTH_LOCAL="auth = eap-tls
			id = carol@ix.test
			eap_id = $2
			certs = $K/$1.pem"
	W_AUTH_REMOTE="auth = pubkey
			id = $IX_T_ID
			cacerts = $K/ca.pem"
	W_SECRETS=""
}
client carol carol@ix.test
ix_conf
ix_start_swan
ix_start_tsd

if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	die "RFC 7296 §2.16: carol's EAP-TLS login failed"
fi
ok "RFC 5216: charon logs in with EAP-TLS to tunsecd"
check "charon: EAP method EAP_TLS succeeded, MSK established (RFC 5216 §2.3)" swan_log_has w \
	"EAP method EAP_TLS succeeded, MSK established"
check "charon: tunsecd's AUTH with the MSK verified (§2.16)" swan_log_has w \
	"authentication of '$IX_T_ID' with EAP successful"
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 3
check "tunsecd: the IKE SA is up" wait_for 3 ix_ike_up
check "tunsecd knows the client as carol@ix.test, its EAP identity" sh -c \
	"'$TUNSEC' -s '$WORK/t.sock' status | grep -q 'remote id carol@ix.test'"
# charon 5.9.8's TLS stops at 1.2 by default (charon.tls.version_max), and
# its EAP-TLS has no RFC 9190 before 5.9.10: 1.3 is tests/netns/eap_pair.sh's
check "tunsecd: EAP-TLS over TLS 1.2 (RFC 5216)" grep -q "EAP-TLS over TLS 1.2, TLS_" \
	"${TSD_LOG[t]}"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "ping through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
swan_ctl w --terminate --ike gw >/dev/null 2>&1
check "tunsecd: no SA after carol leaves" wait_for 5 ix_no_sa

# 2. an EAP identity charon has no certificate for: it sends none (charon
# picks its certificate by identity, so it never sends one that does not
# name it: the mismatch itself is in tests/unit/ike_eap_tls_test.c)
client carol mallory@ix.test
ix_conf
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then
	bad "a peer without a certificate is refused"
else
	ok "a peer without a certificate is refused"
fi
check "no certificate: charon found none for mallory@ix.test" swan_log_has w \
	"no usable TLS client certificate found for 'mallory@ix.test'"
check "no certificate: no SA on tunsecd" wait_for 5 ix_no_sa
check "no certificate: tunsecd says why" grep -q "EAP-TLS: the peer sent no certificate" \
	"${TSD_LOG[t]}"

# 3. remote.eap_id names the user the peer must be (no EAP-Identity is
# asked): carol's certificate passes for carol@ix.test and is refused
# (RFC 5216 §5.2) for mallory@ix.test
client carol carol@ix.test
for user in carol mallory; do
	T_AUTH_REMOTE="auth = eap-tls
			eap_id = $user@ix.test
			cacerts = $K/ca.pem"
	ix_conf
	swan_load w || die "swanctl could not reload"
	tsd_stop t
	ix_start_tsd
	if swan_initiate w net gw; then
		r=up
		swan_ctl w --terminate --ike gw >/dev/null 2>&1
	else
		r=refused
	fi
	if [ $user = carol ]; then
		check "remote.eap_id = carol@ix.test: carol's certificate is accepted" [ $r = up ]
	else
		check "RFC 5216 §5.2: remote.eap_id = mallory@ix.test: carol's certificate refused" \
			[ $r = refused ]
		check "identity: tunsecd says why" grep -q \
			"EAP-TLS: certificate does not name the identity" "${TSD_LOG[t]}"
	fi
	check "remote.eap_id = $user@ix.test: no SA left on tunsecd" wait_for 5 ix_no_sa
done
T_AUTH_REMOTE="auth = eap-tls
			cacerts = $K/ca.pem"

# 4. carol's name, but from a CA tunsecd does not trust (a fresh tunsecd:
# its log of failures is rate-limited per connection)
tsd_stop t
ix_start_tsd
client rogue carol@ix.test
ix_conf
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then
	bad "RFC 5216 §2.1.3: a user certificate from an untrusted CA is refused"
else
	ok "RFC 5216 §2.1.3: a user certificate from an untrusted CA is refused"
fi
check "untrusted: charon got tunsecd's alert / EAP-Failure" swan_log_has w \
	"received (fatal )?TLS alert|received EAP_FAILURE|EAP method EAP_TLS failed"
check "untrusted: no SA on tunsecd" wait_for 5 ix_no_sa
check "untrusted: tunsecd says why" grep -q "EAP-TLS: certificate not trusted" "${TSD_LOG[t]}"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
swan_stop w

# --- 5-6: tunsecd is the EAP-TLS peer, charon the server -------------------
rm -f "${SWAN_DIR[w]}/private/"* "${SWAN_DIR[w]}/charon.log"
cp "$K/w.key" "${SWAN_DIR[w]}/private/w.key"
chmod 600 "${SWAN_DIR[w]}/private/w.key"
W_AUTH_LOCAL="auth = pubkey
			id = $IX_W_ID
			certs = $K/w.pem"
W_AUTH_REMOTE="auth = eap-tls
			id = %any
			eap_id = %any
			cacerts = $K/ca.pem"
W_SECRETS=""
me() { # CERT: tunsecd's end as carol with that certificate
	T_AUTH_LOCAL="auth = eap-tls
			id = carol@ix.test
			certs = $K/$1.pem"
	T_AUTH_REMOTE="auth = pubkey
			id = $IX_W_ID
			cacerts = $K/ca.pem"
	T_SECRETS="private-c {
		file = $K/$1.key
	}"
}
me carol
IX_VIPS=1 # with a virtual IP and DNS from charon's pool (RFC 7296 §2.19)
ix_conf
ix_start_swan
ix_start_tsd
check "tunsec up gw" ix_tunsec up gw
if swan_wait_sas w 1 1 10; then
	ok "RFC 5216: tunsecd logs in with EAP-TLS to charon: 1 IKE SA + 1 CHILD_SA"
else
	bad "RFC 5216: tunsecd logs in with EAP-TLS to charon: no SA at charon"
fi
check "charon: EAP method EAP_TLS succeeded (RFC 5216 §2.3)" swan_log_has w \
	"EAP method EAP_TLS succeeded, MSK established"
check "tunsecd: the IKE SA is up" wait_for 3 ix_ike_up
check "tunsecd as the peer: EAP-TLS over TLS 1.2 (RFC 5216)" grep -q \
	"EAP-TLS over TLS 1.2, TLS_" "${TSD_LOG[t]}"
ix_vip_checks 5
check "tunsec down gw" ix_tunsec down gw
check "charon lists no SA" swan_wait_sas w 0 0 5
check "tunsecd exits 0 on SIGTERM" tsd_stop t

# 6. tunsecd with the untrusted certificate
me rogue
ix_conf
ix_start_tsd
ix_tunsec up gw >/dev/null
check "untrusted: charon's EAP-TLS refuses tunsecd's certificate" wait_for 10 swan_log_has w \
	"EAP method EAP_TLS failed|no issuer certificate found|TLS certificate verification failed|sending fatal TLS alert"
check "untrusted: charon lists no SA" swan_wait_sas w 0 0 5
check "untrusted: tunsecd lists no SA" wait_for 10 ix_no_sa
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
