#!/bin/bash
# asan: EAP-TLS 1.3 (RFC 9190) of a tunsecd client against FreeRADIUS 3.2
# tunsec's EAP-TLS peer (ike/eap_tls.c, libssl) against an independent
# EAP-TLS server: FreeRADIUS 3.2 (Debian's freeradius, on OpenSSL 3),
# reached through a tunsecd road-warrior server that passes the EAP
# through to it (remote.auth = eap-radius, RFC 3579: EAP-Message,
# State, Message-Authenticator; the MSK back as MS-MPPE keys, RFC 2548).
# So the TLS conversation is our peer code against FreeRADIUS's server
# code. (tests/netns/eap_pair.sh runs TLS 1.3 between two tunsecd;
# strongSwan 5.9 has no RFC 9190; tests/interop/eap_radius_tls.sh has
# charon, TLS 1.2, as the client.)
#
#	client C: tunsecd, local.auth = eap-tls  --  server S: tunsecd,
#	remote.auth = eap-radius; FreeRADIUS -X on S's 127.0.0.1:1812
#
# One CA (pki, ECDSA P-256) for the gateway's IKE certificate
# vpn.rt.test, FreeRADIUS's TLS certificate and carol@rt.test's. The
# client checks the gateway's IKE certificate first (RFC 7296 §2.16),
# then, inside EAP, the TLS server's against the same remote.cacerts and
# remote.id (tunsec has no separate name for the TLS server, as
# strongSwan's aaa_id: tunsec.conf(5), eap-tls), so FreeRADIUS's
# certificate names the gateway too (subjectAltName vpn.rt.test besides
# radius.rt.test). Each case starts FreeRADIUS and both tunsecd afresh:
#  1. FreeRADIUS with tls_min_version "1.2", tls_max_version "1.3":
#     the IKE SA and CHILD_SA come up. They do only if both AUTH payloads
#     verify with the MSK (RFC 7296 §2.16), the client's from its own
#     TLS session, the server's from FreeRADIUS's MS-MPPE keys: so
#     FreeRADIUS derived the same MSK as we did (RFC 9190 §2.3:
#     TLS-Exporter("EXPORTER_EAP_TLS_Key_Material", 0x0D, 128)). Both
#     ends say TLS 1.3 with the same cipher suite (the client's log
#     "EAP-TLS over TLS 1.3, TLS_...", FreeRADIUS's TLS-Session-Version
#     and -Cipher-Suite); FreeRADIUS asked for a P-256 key share (its
#     ecdh_curve) instead of our X25519 one (HelloRetryRequest, RFC 9190
#     §2.1.6: two ClientHellos); after our Finished it sent the
#     commitment message (RFC 9190 §2.1.1, §2.5: "EAP Sending final
#     Commitment Message", one TLS 1.3 application_data record with one
#     byte of content), we answered with an empty EAP-TLS response, and
#     it ended with EAP-Success; the server's status names carol, a
#     virtual IP from the pool (RFC 7296 §2.19), ping through the
#     CHILD_SA;
#  2. FreeRADIUS limited to TLS 1.2 (tls_max_version "1.2"): the login
#     works the same with RFC 5216's MSK (§2.3, TLS-PRF-128 with "client
#     EAP encryption"); both ends say TLS 1.2 and the same suite, no
#     commitment message;
#  3. FreeRADIUS with a certificate that does not name the gateway (only
#     radius.rt.test): our peer refuses it (RFC 9190 §2.2, RFC 5216
#     §5.2), the client's log says why, FreeRADIUS got our alert and
#     rejected the login, no SA on either end;
#  4. the same certificate with remote.aaa_id = radius.rt.test on the
#     client (strongSwan's key for an EAP server that is not the gateway):
#     the login works;
# and FreeRADIUS verified every request of ours (Message-Authenticator).
. "$(dirname "$0")/../lib.sh"
TAG=tsEt
lib_init "$TAG"
topo3 "$TAG"
. "$(dirname "$0")/../interop/freeradius.lib"
SECRET="rad $RANDOM$RANDOM secret"
say "$("$FREERADIUS" -v 2>/dev/null | head -n 1)"

# --- certificates -------------------------------------------------------------
K=$WORK/certs
mkdir -p "$K"
pk() { pki "$@" 2>"$K/pki.err" || die "pki $1 failed: $(tail -n 2 "$K/pki.err")"; }
pk --gen --type ecdsa --size 256 --outform pem >"$K/ca.key"
pk --self --in "$K/ca.key" --type ecdsa --ca --dn "C=CH, O=tunsec, CN=eap radius CA" \
	--outform pem >"$K/ca.pem"
# issue NAME CN FLAG SAN...
issue() {
	local n=$1 cn=$2 flag=$3 s sans=()
	shift 3
	for s in "$@"; do sans+=(--san "$s"); done
	pk --gen --type ecdsa --size 256 --outform pem >"$K/$n.key"
	pk --issue --in "$K/$n.key" --type priv --cacert "$K/ca.pem" --cakey "$K/ca.key" \
		--dn "C=CH, O=tunsec, CN=$cn" "${sans[@]}" --flag "$flag" --outform pem >"$K/$n.pem"
}
S_ID=vpn.rt.test
U_ID=carol@rt.test
issue vpn $S_ID serverAuth $S_ID
issue carol $U_ID clientAuth $U_ID
# FreeRADIUS's: freeradius.lib reads FR_TLS_DIR/{ca,server}.pem, server.key
mkdir -p "$K/fr" "$K/fr-noname"
issue fr/server radius.rt.test serverAuth radius.rt.test $S_ID
issue fr-noname/server radius.rt.test serverAuth radius.rt.test
cp "$K/ca.pem" "$K/fr/"
cp "$K/ca.pem" "$K/fr-noname/"
chmod 600 "$K"/*.key "$K"/*/*.key

# --- FreeRADIUS ---------------------------------------------------------------

# fr_run DIR MAX: FreeRADIUS with EAP-TLS (freeradius.lib's tls-config
# with the certificates of DIR), TLS 1.2 up to MAX
fr_run() {
	FR_TLS_DIR=$1
	fr_conf "$SECRET" tls
	sed -i "s/tls_max_version = \"1.2\"/tls_max_version = \"$2\"/" "$FR_RD/radiusd.conf"
	grep -q "tls_max_version = \"$2\"" "$FR_RD/radiusd.conf" ||
		die "freeradius.lib's tls-config has no tls_max_version to set"
	fr_start "$S_NS"
}
FRLOG=$WORK/freeradius.log
fr_log_has() { grep -qE "$1" "$FRLOG"; }
# fr_session NAME: FreeRADIUS's TLS-Session-NAME of the login
fr_session() {
	sed -n "s/^([0-9]*) eap_tls:   TLS-Session-$1 = \"\(.*\)\"\$/\1/p" "$FRLOG" | head -n 1
}
# fr_after_commitment: the EAP-Messages after FreeRADIUS's commitment, one
# a line: the Access-Challenge's that carried it, the next
# Access-Request's (our answer), the final reply's ("Access-Accept 0x03...")
fr_after_commitment() {
	awk '/EAP Sending final Commitment Message/ { f = 1 }
		f == 1 && /Sent Access-Challenge/ { f = 2 }
		f == 2 && /EAP-Message = / { print $NF; f = 3 }
		f == 3 && /Received Access-Request/ { f = 4 }
		f == 4 && /EAP-Message = / { print $NF; f = 5 }
		f == 5 && /Sent Access-/ { t = $3; f = 6 }
		f == 6 && /EAP-Message = / { print t " " $NF; exit }' "$FRLOG"
}

# --- tunsecd ------------------------------------------------------------------
cat >"$WORK/s.conf" <<EOF
tunsec {
	interface = tss0
	addrs = $S_IN4/32
	socket = $WORK/s.sock
	$(fr_tsec_radius "$SECRET")
}
connections {
	rw {
		local_addrs = $S_UL
		remote_addrs = %any
		pools = rw4
		proposals = aes256gcm16-prfsha256-curve25519
		local {
			auth = pubkey
			id = $S_ID
			certs = $K/vpn.pem
		}
		remote {
			auth = eap-radius
			eap_id = %any
		}
		children {
			net {
				local_ts = 10.201.2.0/24
				esp_proposals = aes256gcm16
			}
		}
	}
}
pools {
	rw4 {
		addrs = 10.10.0.0/24
	}
}
secrets {
	private-s {
		file = $K/vpn.key
	}
}
EOF
cat >"$WORK/c.conf" <<EOF
tunsec {
	interface = tsc0
	addrs = $C_IN4/32
	socket = $WORK/c.sock
}
connections {
	gw {
		local_addrs = $C_UL
		remote_addrs = $S_UL
		proposals = aes256gcm16-prfsha256-curve25519
		vips = 0.0.0.0
		local {
			auth = eap-tls
			id = $U_ID
			eap_id = $U_ID
			certs = $K/carol.pem
		}
		remote {
			# the gateway's IKE certificate, then FreeRADIUS's TLS one
			auth = pubkey
			id = $S_ID
			cacerts = $K/ca.pem
		}
		children {
			net {
				remote_ts = 10.201.2.0/24
				esp_proposals = aes256gcm16
				start_action = none
			}
		}
	}
}
secrets {
	private-c {
		file = $K/carol.key
	}
}
EOF
chmod 600 "$WORK/s.conf" "$WORK/c.conf"

TSD_DEBUG=1
status() { timeout 5 "$TUNSEC" -s "${TSD_SOCK[$1]}" status 2>&1; }
established() { status "$1" | grep -qE "^  $2\[[0-9]+\]: established"; }
no_sa() { status "$1" | grep -qE "^$2: IKEv2, .*, 0 IKE SAs"; }
status_has() { status "$1" | grep -qE "$2"; }
log_has() { grep -qE "$2" "${TSD_LOG[$1]}"; }
tsc_quiet() { timeout 5 "$TUNSEC" -s "${TSD_SOCK[$1]}" "${@:2}" >/dev/null; }
# cli_tls: "TLS 1.x SUITE" from the client's log line of the login
cli_tls() {
	sed -nE 's/.* gw: IKE SA #[0-9]+: EAP-TLS over (TLS 1\.[0-9]), (TLS_[0-9A-Z_]+)$/\1 \2/p' \
		"${TSD_LOG[c]}" | head -n 1
}
# stdname SUITE: the RFC name of an OpenSSL cipher suite name
stdname() { openssl ciphers -stdname ALL 2>/dev/null | awk -v n="$1" '$3 == n { print $1; exit }'; }

# start CASE DIR MAX: FreeRADIUS (fr_run DIR MAX), both tunsecd, tunsec up
start() {
	fr_run "$2" "$3"
	tsd_start s "$S_NS" "$WORK/s.conf" || die "$1: the server did not start"
	tsd_start c "$C_NS" "$WORK/c.conf" || die "$1: the client did not start"
	tsc_quiet c up gw
}

# login CASE VERSION: the checks of a login that succeeds with TLS VERSION
login() {
	local w=$1 v=$2 vip tls fr_suite
	if wait_for 15 established c gw && wait_for 3 established s rw; then
		ok "$w: the IKE SA is up on both ends:" \
			"both AUTHs verified with the MSK FreeRADIUS sent"
	else
		bad "$w: the IKE SA is up on both ends"
		say "freeradius:"
		grep -E "TLS\)|Auth:|Sent Access|rror" "$FRLOG" | tail -n 25 | sed 's/^/     | /'
		return 1
	fi
	check "$w: FreeRADIUS: Login OK for $U_ID" fr_log_has "Login OK: \[$U_ID\]"
	check "$w: FreeRADIUS: Access-Accept with MS-MPPE-Recv-Key and -Send-Key (RFC 2548)" sh -c \
		"grep -A8 'Sent Access-Accept' '$FRLOG' | grep -q 'MS-MPPE-Recv-Key = 0x' &&
		grep -A8 'Sent Access-Accept' '$FRLOG' | grep -q 'MS-MPPE-Send-Key = 0x'"
	tls=$(cli_tls)
	check_eq "$w: the client's log: EAP-TLS over TLS $v" "${tls% *}" "TLS $v"
	check_eq "$w: FreeRADIUS: TLS-Session-Version" "$(fr_session Version)" "TLS $v"
	fr_suite=$(fr_session Cipher-Suite)
	check_eq "$w: the same cipher suite on both ends (FreeRADIUS: ${fr_suite:-none})" \
		"$(stdname "$fr_suite")" "${tls##* }"
	check "$w: the server's status names the user $U_ID" \
		status_has s "^    remote id $U_ID(,|$)"
	vip=$(status c | sed -n 's/^    virtual IP \(10\.10\.0\.[0-9]*\) (from the server)$/\1/p')
	check "$w: RFC 7296 §2.19: a virtual IP from the pool (${vip:-none}) on the client's TUN" \
		sh -c "ip -n '$C_NS' -4 addr show dev tsc0 | grep -q 'inet ${vip:-none}/32'"
	wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
	check "$w: ping from the virtual IP through the CHILD_SA (5/5)" ping_n "$C_NS" $S_IN4 5
}

# stop CASE [up]: (up: tunsec down first) both tunsecd exit 0; FreeRADIUS
# verified our requests and stops; the logs kept as $WORK/*-N.log
stop() {
	local w=$1 n=${1%% *}
	if [ "${2:-}" = up ]; then
		check "$w: tunsec down gw" tsc_quiet c down gw
		check "$w: no SA on the server after the client's Delete" wait_for 5 no_sa s rw
	fi
	check "$w: the client exits 0 on SIGTERM" tsd_stop c
	check "$w: the server exits 0 on SIGTERM" tsd_stop s
	fr_verified_all
	lib_stop "$FR_PID"
	cp "$FRLOG" "$WORK/freeradius-$n.log"
	cp "${TSD_LOG[c]}" "$WORK/tunsecd-c-$n.log"
	cp "${TSD_LOG[s]}" "$WORK/tunsecd-s-$n.log"
}

# --- 1. TLS 1.3 (RFC 9190) --------------------------------------------------------
W="1 TLS 1.3"
start "$W" "$K/fr" 1.3
login "$W" 1.3
check_eq "$W: RFC 9190 §2.1.6: HelloRetryRequest for FreeRADIUS's P-256: two ClientHellos" \
	"$(grep -c '^([0-9]*) eap_tls: (TLS) recv TLS 1.3 Handshake, ClientHello$' "$FRLOG")" 2
check "$W: RFC 9190 §2.1.1, §2.5: FreeRADIUS sent the commitment message" \
	fr_log_has "EAP Sending final Commitment Message"
mapfile -t AFTER < <(fr_after_commitment)
# EAP-Request (1), length 33, EAP-TLS (13), L flag, TLS length 23: one
# record, application_data (23) TLS 1.2 (0303) of 18 bytes: one byte of
# content, its content type, a 16-byte AEAD tag
check "$W: ... in an EAP-TLS request of one application_data record, one byte of content" \
	grep -qE '^0x01[0-9a-f]{2}00210d80000000171703030012[0-9a-f]{36}$' <<<"${AFTER[0]:-}"
check "$W: ... our EAP-TLS response to it is empty (no TLS data)" \
	grep -qE '^0x02[0-9a-f]{2}00060d00$' <<<"${AFTER[1]:-}"
check "$W: ... then Access-Accept with EAP-Success" \
	grep -qE '^Access-Accept 0x03[0-9a-f]{2}0004$' <<<"${AFTER[2]:-}"
stop "$W" up

# --- 2. TLS 1.2 (RFC 5216) --------------------------------------------------------
W="2 TLS 1.2"
start "$W" "$K/fr" 1.2
login "$W" 1.2
check "$W: FreeRADIUS sent no commitment message" sh -c "! grep -q 'Commitment Message' '$FRLOG'"
stop "$W" up

# --- 3. a TLS server certificate that does not name the gateway ----------------
W="3 wrong name"
start "$W" "$K/fr-noname" 1.3
check "$W: the client refuses FreeRADIUS's certificate: it does not name $S_ID" \
	wait_for 15 log_has c "gw: IKE SA #[0-9]+: EAP with $S_ID failed: EAP-TLS: \
certificate does not name the identity \(C=CH, O=tunsec, CN=radius\.rt\.test\)"
check "$W: FreeRADIUS got our alert (TLS 1.3, bad_certificate)" \
	wait_for 3 fr_log_has "eap_tls: \(TLS\) recv TLS 1\.3 Alert, fatal bad_certificate$"
check "$W: FreeRADIUS rejected the login for it" \
	wait_for 3 fr_log_has "Login incorrect \(eap_tls: .*bad certificate\): \[$U_ID\]"
check "$W: no SA on the client" wait_for 5 no_sa c gw
check "$W: no SA on the server" wait_for 5 no_sa s rw
stop "$W"

# --- 4. remote.aaa_id names the RADIUS server's certificate ---------------------
# (strongSwan's key: the EAP server is not the gateway): the certificate
# of case 3 is now the one the client insists on
W="4 aaa_id"
sed -i "s|^\(\t*\)id = $S_ID\$|&\n\1aaa_id = radius.rt.test|" "$WORK/c.conf"
check "$W: the client's file names it" grep -q "aaa_id = radius.rt.test" "$WORK/c.conf"
start "$W" "$K/fr-noname" 1.3
login "$W" 1.3
stop "$W" up
lib_finish
