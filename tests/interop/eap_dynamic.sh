#!/bin/bash
# asan: remote.auth = eap-dynamic: the server offers EAP-TLS, a peer's Nak picks EAP-MSCHAPv2
# Interop, strongSwan 5.9: tunsecd serves remote.auth = eap-dynamic with
# both of its methods configured (EAP-TLS: local.certs and the users' CA
# in remote.cacerts; EAP-MSCHAPv2: secrets eap-NAME). It offers EAP-TLS
# first. Checks:
#  1. a charon peer configured for EAP-TLS takes the first offer: EAP-TLS
#     succeeds, tunnel up, ping;
#  2. a charon peer configured for EAP-MSCHAPv2 only answers the EAP-TLS
#     Request with a Nak listing EAP-MSCHAPv2 (RFC 3748 §5.3.1), tunsecd
#     switches to it: login, tunnel up, ping; tunsecd knows the user by
#     the name MSCHAPv2 verified;
#  3. the same peer with a wrong password is refused (EAP-MSCHAPv2's
#     failure after the switch: no second switch, no SA);
#  4. tunsecd -t refuses eap-dynamic with nothing to offer, and
#     local.auth = eap-dynamic;
#  5. auth = eap (swanctl's "any EAP method"): as remote.auth tunsecd
#     serves it as eap-dynamic (charon's Nak picks EAP-MSCHAPv2); as
#     local.auth, with both a certificate and an EAP secret, tunsecd
#     answers whichever method charon's server starts: EAP-MSCHAPv2, then
#     EAP-TLS.
. "$(dirname "$0")/swan.lib"
ix_init ixD

K=$WORK/certs
mkdir -p "$K"
pk() { pki "$@" 2>"$K/pki.err" || die "pki $1 failed: $(tail -n 2 "$K/pki.err")"; }
pk --gen --type ecdsa --size 256 --outform pem >"$K/ca.key"
pk --self --in "$K/ca.key" --type ecdsa --ca --dn "C=CH, O=ix, CN=ix dynamic CA" \
	--outform pem >"$K/ca.pem"
issue() { # NAME ID FLAG
	pk --gen --type ecdsa --size 256 --outform pem >"$K/$1.key"
	pk --issue --in "$K/$1.key" --type priv --cacert "$K/ca.pem" --cakey "$K/ca.key" \
		--dn "C=CH, O=ix, CN=$2" --san "$2" --flag "$3" --outform pem >"$K/$1.pem"
}
issue t $IX_T_ID serverAuth
issue w $IX_W_ID serverAuth
issue carol carol@ix.test clientAuth
chmod 600 "$K"/*.key
SWAN_LOAD_EXTRA="eap-tls eap-mschapv2 eap-identity"

T_AUTH_LOCAL="auth = pubkey
			id = $IX_T_ID
			certs = $K/t.pem"
T_AUTH_REMOTE="auth = eap-dynamic
			cacerts = $K/ca.pem"
T_SECRETS="private-t {
		file = $K/t.key
	}
	eap-dave {
		id = dave
		secret = \"dave pw\"
	}"
W_AUTH_REMOTE="auth = pubkey
			id = $IX_T_ID
			cacerts = $K/ca.pem"
tls_client() {
	rm -f "${SWAN_DIR[w]}/private/"*
	cp "$K/carol.key" "${SWAN_DIR[w]}/private/carol.key"
	chmod 600 "${SWAN_DIR[w]}/private/carol.key"
	W_AUTH_LOCAL="auth = eap-tls
			id = carol@ix.test
			certs = $K/carol.pem"
	W_SECRETS=""
}
mschap_client() { # PASSWORD
	rm -f "${SWAN_DIR[w]}/private/"*
	W_AUTH_LOCAL="auth = eap-mschapv2
			id = $IX_W_ID
			eap_id = dave"
	W_SECRETS="eap-dave {
		id = dave
		secret = \"$1\"
	}"
}
login() { # WHAT: initiate; say how it went
	if swan_initiate w net gw; then
		ok "$1: logged in"
	else
		bad "$1: logged in"
		sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 10
	fi
}

# 1. EAP-TLS, the first offer
tls_client
ix_conf
ix_start_swan
ix_start_tsd
login "EAP-TLS peer"
check "charon: EAP_TLS succeeded" swan_log_has w "EAP method EAP_TLS succeeded, MSK established"
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 3
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "EAP-TLS: ping through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
swan_ctl w --terminate --ike gw >/dev/null 2>&1
check "tunsecd: no SA after carol leaves" wait_for 5 ix_no_sa

# 2. EAP-MSCHAPv2 only: Nak, then the second method
mschap_client "dave pw"
ix_conf
: >"${SWAN_DIR[w]}/charon.log"
swan_load w || die "swanctl could not reload"
login "EAP-MSCHAPv2 peer (after its Nak)"
check "charon: Naks EAP-TLS for EAP-MSCHAPv2 (RFC 3748 §5.3.1)" swan_log_has w \
	"requesting EAP_MSCHAPV2 authentication, sending EAP_NAK"
check "charon: EAP_MSCHAPV2 succeeded" swan_log_has w \
	"EAP method EAP_MSCHAPV2 succeeded, MSK established"
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 3
check "tunsecd knows the client as dave" sh -c \
	"'$TUNSEC' -s '$WORK/t.sock' status | grep -q 'remote id dave'"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "EAP-MSCHAPv2: ping through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
swan_ctl w --terminate --ike gw >/dev/null 2>&1
check "tunsecd: no SA after dave leaves" wait_for 5 ix_no_sa

# 3. the switch does not help a wrong password
mschap_client "wrong pw"
ix_conf
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then bad "wrong password: refused"; else ok "wrong password: refused"; fi
check "wrong password: no SA on tunsecd" wait_for 5 ix_no_sa
check "tunsecd says why: EAP failed, for whom" grep -q "we refused the AUTH of .* from .*: EAP failed" \
	"${TSD_LOG[t]}"
check "tunsecd exits 0 on SIGTERM" tsd_stop t

# 4. configurations tunsecd -t refuses
sed -e "s|cacerts = $K/ca.pem|id = %any|" -e '/eap-dave {/,/^\t}/d' "$WORK/t.conf" \
	>"$WORK/none.conf"
chmod 600 "$WORK/none.conf"
check "eap-dynamic with nothing to offer: tunsecd -t says so" sh -c \
	"'$TUNSECD' -t -c '$WORK/none.conf' 2>&1 | grep -q 'eap-dynamic has no method to offer'"
sed -e '0,/auth = pubkey/s//auth = eap-dynamic/' "$WORK/t.conf" >"$WORK/local.conf"
chmod 600 "$WORK/local.conf"
check "local.auth = eap-dynamic: tunsecd -t refuses it" sh -c \
	"'$TUNSECD' -t -c '$WORK/local.conf' 2>&1 | grep -q 'eap-dynamic is for remote.auth'"

# 5a. remote.auth = eap: the server offers what it can, as eap-dynamic
T_AUTH_REMOTE="auth = eap
			cacerts = $K/ca.pem"
mschap_client "dave pw"
ix_conf
: >"${SWAN_DIR[w]}/charon.log"
swan_load w || die "swanctl could not reload"
ix_start_tsd
login "remote.auth = eap: EAP-MSCHAPv2 peer"
check "remote.auth = eap: charon Naks EAP-TLS for EAP-MSCHAPv2" swan_log_has w \
	"requesting EAP_MSCHAPV2 authentication, sending EAP_NAK"
check "remote.auth = eap: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 3
swan_ctl w --terminate --ike gw >/dev/null 2>&1
check "tunsecd: no SA after dave leaves" wait_for 5 ix_no_sa
check "tunsecd exits 0 on SIGTERM" tsd_stop t
swan_stop w

# 5b. local.auth = eap: tunsecd the client, with carol's certificate and
# her secret (one EAP identity: EAP-TLS checks that her certificate names
# it); charon the server, with one method, then the other
rm -f "${SWAN_DIR[w]}/private/"*
cp "$K/w.key" "${SWAN_DIR[w]}/private/w.key"
chmod 600 "${SWAN_DIR[w]}/private/w.key"
W_AUTH_LOCAL="auth = pubkey
			id = $IX_W_ID
			certs = $K/w.pem"
W_SECRETS="eap-carol {
		id = carol@ix.test
		secret = \"carol pw\"
	}"
T_AUTH_LOCAL="auth = eap
			id = $IX_T_ID
			eap_id = carol@ix.test
			certs = $K/carol.pem"
T_AUTH_REMOTE="auth = pubkey
			id = $IX_W_ID
			cacerts = $K/ca.pem"
T_SECRETS="private-c {
		file = $K/carol.key
	}
	eap-carol {
		id = carol@ix.test
		secret = \"carol pw\"
	}"
IX_VIPS=1 # with a virtual IP and DNS from charon's pool (RFC 7296 §2.19)
for m in mschapv2 tls; do
	# (charon checks remote.cacerts as a constraint: EAP-TLS only)
	W_AUTH_REMOTE="auth = eap-$m
			id = %any
			eap_id = %any"
	[ $m = tls ] && W_AUTH_REMOTE="$W_AUTH_REMOTE
			cacerts = $K/ca.pem"
	ix_conf
	: >"${SWAN_DIR[w]}/charon.log" 2>/dev/null
	ix_start_swan
	ix_start_tsd
	M=$(echo $m | tr a-z A-Z)
	check "local.auth = eap, charon serves EAP-$M: tunsec up gw" ix_tunsec up gw
	check "... charon: EAP_$M succeeded" wait_for 10 swan_log_has w \
		"EAP method EAP_$M succeeded, MSK established"
	check "... 1 IKE SA and 1 CHILD_SA at charon" swan_wait_sas w 1 1 5
	ix_vip_checks 3
	check "tunsecd exits 0 on SIGTERM" tsd_stop t
	swan_stop w
done
lib_finish
