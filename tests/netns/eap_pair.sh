#!/bin/bash
# asan: a tunsecd client's EAP logins to a tunsecd server, through a NAT
# Two tunsecd, a road-warrior server (remote_addrs = %any, pool rw4) and a
# laptop client behind a real NAT (iptables MASQUERADE in the middle
# namespace, as ike_nat.sh); one topology, both daemons restarted with new
# configurations for each login kind. Certificates made with strongSwan's
# pki in the test's own directory (ECDSA P-256: one CA; the server
# vpn.eap.test with serverAuth; carol@eap.test with clientAuth; the
# laptop's machine certificate laptop.eap.test).
# For each case: `tunsec up` on the client, the IKE SA is up on both ends
# (the client behind the NAT, ESP in UDP), `tunsec status` on the server
# names the user (not the client's IKE identity); the client asked for a
# virtual IP (vips = 0.0.0.0, RFC 7296 §2.19) and has the one the
# server's pool leased it, on its TUN device, with the pool's DNS server;
# ping from that address to the server's inner one through the CHILD_SA;
# `tunsec down` removes the SAs (and the address) on both ends, both
# daemons exit 0 on SIGTERM.
#  1. RFC 7296 §2.16: EAP-MSCHAPv2, the server proving itself with its
#     certificate first: the client's first IKE_AUTH request has no AUTH;
#     a wrong password is refused (no SA on either end, the server's log
#     says EAP failed, no password in any log); an ntlm- secret made with
#     `tunsec nthash` (the server does not keep the password) works;
#  2. RFC 5216: EAP-TLS, carol's certificate in TLS inside EAP; the
#     server knows her by her EAP identity; both logs say TLS 1.3 ran
#     (RFC 9190; TLS 1.2 against strongSwan: tests/interop/eap_tls.sh);
#  3. RFC 5998 §3: EAP-only, eap-tls on both ends of both daemons: the
#     client announces EAP_ONLY_AUTHENTICATION, the server's first
#     IKE_AUTH response carries no AUTH; TLS 1.3 again;
#  4. RFC 4739: two rounds, the laptop's certificate, then carol by
#     EAP-MSCHAPv2: ANOTHER_AUTH_FOLLOWS, both logs and the server's
#     status name both identities;
#  5. RFC 3748 §5.3.1: local.auth = eap against remote.auth = eap-dynamic
#     (which offers EAP-TLS first): a client with only a password Naks
#     EAP-TLS for EAP-MSCHAPv2 (one IKE_AUTH exchange more than case 1's);
#     a client with carol's certificate answers EAP-TLS (its password is
#     wrong, so a Nak to EAP-MSCHAPv2 would fail).
. "$(dirname "$0")/../lib.sh"
TAG=tsEa
lib_init "$TAG"
topo3 "$TAG" nat
nsx "$M_NS" iptables -t nat -A POSTROUTING -o "$M_SIF" -s 10.77.1.0/24 -j MASQUERADE

# --- certificates -------------------------------------------------------------
K=$WORK/certs
mkdir -p "$K"
pk() { pki "$@" 2>"$K/pki.err" || die "pki $1 failed: $(tail -n 2 "$K/pki.err")"; }
pk --gen --type ecdsa --size 256 --outform pem >"$K/ca.key"
pk --self --in "$K/ca.key" --type ecdsa --ca --dn "C=CH, O=tunsec, CN=eap pair CA" \
	--outform pem >"$K/ca.pem"
issue() { # NAME ID [FLAG]
	pk --gen --type ecdsa --size 256 --outform pem >"$K/$1.key"
	pk --issue --in "$K/$1.key" --type priv --cacert "$K/ca.pem" --cakey "$K/ca.key" \
		--dn "C=CH, O=tunsec, CN=$2" --san "$2" ${3:+--flag "$3"} --outform pem >"$K/$1.pem"
}
S_ID=vpn.eap.test
M_ID=laptop.eap.test
U_TLS=carol@eap.test
issue vpn $S_ID serverAuth
issue carol $U_TLS clientAuth
issue laptop $M_ID
chmod 600 "$K"/*.key
PW="carol pw $RANDOM$RANDOM"

# --- configurations -----------------------------------------------------------

# sec INDENT NAME LINE...: a section NAME { LINE... } at INDENT tabs
sec() {
	local t l
	t=$(printf '%*s' "$1" '' | tr ' ' '\t')
	echo "$t$2 {"
	shift 2
	for l in "$@"; do echo "$t	$l"; done
	echo "$t}"
}

# srv_conf AUTH SECRETS: the server's file. AUTH: its rounds' sections
# (sec 2 ...), SECRETS: the secrets' sections (sec 1 ...).
srv_conf() {
	cat >"$WORK/s.conf" <<EOF
tunsec {
	interface = tss0
	addrs = $S_IN4/32
	socket = $WORK/s.sock
}
connections {
	rw {
		local_addrs = $S_UL
		remote_addrs = %any
		pools = rw4
		proposals = aes256gcm16-prfsha256-curve25519
$1
		children {
			net {
				local_ts = 10.201.2.0/24
				# remote_ts: dynamic, the client's virtual IP
				esp_proposals = aes256gcm16
			}
		}
	}
}
pools {
	rw4 {
		addrs = 10.10.0.0/24
		dns = 10.201.2.53
	}
}
secrets {
$2
}
EOF
	chmod 600 "$WORK/s.conf"
}

# cli_conf AUTH SECRETS: the client's file, as srv_conf
cli_conf() {
	cat >"$WORK/c.conf" <<EOF
tunsec {
	interface = tsc0
	addrs = $C_IN4/32
	socket = $WORK/c.sock
	keepalive = 2s
}
connections {
	gw {
		local_addrs = $C_UL
		remote_addrs = $S_UL
		proposals = aes256gcm16-prfsha256-curve25519
		vips = 0.0.0.0
$1
		children {
			net {
				# local_ts: dynamic, our virtual IP
				remote_ts = 10.201.2.0/24
				esp_proposals = aes256gcm16
				start_action = none
			}
		}
	}
}
secrets {
$2
}
EOF
	chmod 600 "$WORK/c.conf"
}

# the ends' usual sections
SRV_CERT=$(sec 2 local "auth = pubkey" "id = $S_ID" "certs = $K/vpn.pem")
SRV_KEY=$(sec 1 private-s "file = $K/vpn.key")
CLI_CHECKS_SRV=$(sec 2 remote "auth = pubkey" "id = $S_ID" "cacerts = $K/ca.pem")
CAROL_KEY=$(sec 1 private-c "file = $K/carol.key")
eap_secret() { sec 1 eap-carol "id = carol" "secret = \"$1\""; }

# --- running one case ---------------------------------------------------------

TSD_DEBUG=1 # the IKE lines of the debug log are checked
status() { timeout 5 "$TUNSEC" -s "${TSD_SOCK[$1]}" status 2>&1; }
# established SIDE CONN: an established IKE SA of CONN
established() { status "$1" | grep -qE "^  $2\[[0-9]+\]: established"; }
# no_sa SIDE CONN: the daemon answers and lists CONN with no IKE SA
no_sa() { status "$1" | grep -qE "^$2: IKEv2, .*, 0 IKE SAs"; }
status_has() { status "$1" | grep -qE "$2"; }
log_has() { grep -qE "$2" "${TSD_LOG[$1]}"; }
# msg_is SIDE WHAT WORD...: the first IKE message SIDE's debug log says it
# sent or received as WHAT ("sending IKE_AUTH request 1") has each WORD
# among its payloads, and none of those given as !WORD
msg_is() {
	local list w
	list=$(grep -m 1 -F "$2 [" "${TSD_LOG[$1]}" | sed -E 's/.*\[ (.*) \].*/ \1 /')
	[ -n "$list" ] || return 1
	shift 2
	for w in "$@"; do
		case $w in
		!*) [[ $list != *" ${w#!} "* ]] || return 1 ;;
		*) [[ $list == *" $w "* ]] || return 1 ;;
		esac
	done
}
# nat_encap: the client knows it is behind the NAT, and its ESP goes in UDP
nat_encap() {
	local st
	st=$(status c)
	grep -q 'we are behind a NAT' <<<"$st" && grep -q 'ESP in UDP' <<<"$st"
}
# auth_exchanges: the highest Message ID of the client's IKE_AUTH requests
auth_exchanges() {
	sed -nE 's/.*sending IKE_AUTH request ([0-9]+) .*/\1/p' "${TSD_LOG[c]}" | sort -n | tail -1
}

# Each start of the two daemons is a run; its logs are kept in $WORK/logs
# (KEEP_WORK=1), and shown here when one of its checks failed.
mkdir -p "$WORK/logs"
RUN_N=0
RUN_FAILED=0
run_end() {
	local n
	for n in "${!TSD_LOG[@]}"; do
		if [ "$FAILED" != "$RUN_FAILED" ]; then
			echo "--   run $RUN_N, last lines of tunsecd ($n):"
			tail -n 25 "${TSD_LOG[$n]}" | sed 's/^/     | /'
		fi
		mv "${TSD_LOG[$n]}" "$WORK/logs/$RUN_N-$n.log"
	done
	TSD_LOG=()
}
start_both() {
	run_end
	RUN_N=$((RUN_N + 1))
	RUN_FAILED=$FAILED
	tsd_start s "$S_NS" "$WORK/s.conf" || die "$1: the server did not start"
	tsd_start c "$C_NS" "$WORK/c.conf" || die "$1: the client did not start"
}

tsc_quiet() { timeout 5 "$TUNSEC" -s "${TSD_SOCK[$1]}" "${@:2}" >/dev/null; }

# login: tunsec up on the client; 0 once both ends have the IKE SA
login() {
	tsc_quiet c up gw || return 1
	wait_for 10 established c gw && wait_for 3 established s rw
}

# tls13_checks WHAT: both tunsecd ran EAP-TLS over TLS 1.3 (RFC 9190: the
# server's commitment message, the MSK from TLS 1.3's exporter)
tls13_checks() {
	check "$1: RFC 9190: the server's EAP-TLS ran TLS 1.3" \
		grep -q "EAP-TLS over TLS 1.3, TLS_" "${TSD_LOG[s]}"
	check "$1: RFC 9190: the client's EAP-TLS ran TLS 1.3" \
		grep -q "EAP-TLS over TLS 1.3, TLS_" "${TSD_LOG[c]}"
}

# up_checks WHAT USER: the SA is up on both ends, the server names USER,
# ping through the CHILD_SA
up_checks() {
	if login; then
		ok "$1: tunsec up: the IKE SA is up on both ends"
	else
		bad "$1: tunsec up: the IKE SA is up on both ends"
		return 1
	fi
	check "$1: the client is behind the NAT, ESP in UDP (RFC 3948)" nat_encap
	check "$1: the server's status names the user $2" status_has s "^    remote id $2(,|$)"
	vip=$(status c | sed -n 's/^    virtual IP \(10\.10\.0\.[0-9]*\) (from the server)$/\1/p')
	check "$1: RFC 7296 §2.19: the client has a virtual IP from the pool (${vip:-none})" \
		test -n "$vip"
	check "$1: ... the server leased that one" status_has s "^    virtual IP ${vip:-none} \(pool rw4\)"
	check "$1: ... it is on the client's TUN device" sh -c \
		"ip -n '$C_NS' -4 addr show dev tsc0 | grep -q 'inet ${vip:-none}/32'"
	check "$1: ... with the pool's DNS server" status_has c "^    DNS 10\.201\.2\.53 "
	wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
	check "$1: ping from the virtual IP to the server through the CHILD_SA (5/5)" \
		ping_n "$C_NS" $S_IN4 5
	check "$1: ... and back to it (5/5)" ping_n "$S_NS" "${vip:-none}" 5
}

# down_checks WHAT: tunsec down removes both ends' SAs; both exit 0
down_checks() {
	check "$1: tunsec down gw" tsc_quiet c down gw
	check "$1: no SA on the client after down" wait_for 5 no_sa c gw
	check "$1: no SA on the server after the client's Delete" wait_for 5 no_sa s rw
	check "$1: the client exits 0 on SIGTERM" tsd_stop c
	check "$1: the server exits 0 on SIGTERM" tsd_stop s
}

# --- 1. EAP-MSCHAPv2 (RFC 7296 §2.16) -------------------------------------------
W="1 EAP-MSCHAPv2"
srv_conf "$SRV_CERT
$(sec 2 remote "auth = eap-mschapv2")" "$SRV_KEY
$(eap_secret "$PW")"
CLI_MSCHAP=$(sec 2 local "auth = eap-mschapv2" "id = $M_ID" "eap_id = carol")
cli_conf "$CLI_MSCHAP
$CLI_CHECKS_SRV" "$(eap_secret "$PW")"
start_both "$W"
up_checks "$W" carol
check "$W: §2.16: the client's first IKE_AUTH request has no AUTH (it asks for EAP)" \
	msg_is c "sending IKE_AUTH request 1" IDi IDr SA '!AUTH'
check "$W: §2.16: the server's first response: its certificate, AUTH and EAP" \
	msg_is c "received IKE_AUTH response 1" IDr CERT AUTH EAP
MSCHAP_EXCHANGES=$(auth_exchanges)
down_checks "$W"

# a wrong password
cli_conf "$CLI_MSCHAP
$CLI_CHECKS_SRV" "$(eap_secret "not $PW")"
start_both "$W"
tsc_quiet c up gw
check "$W: wrong password: the server says why" wait_for 10 log_has s \
	'rw: IKE SA #[0-9]+: EAP with .* failed: EAP-MSCHAPv2 refused user carol '
check "$W: wrong password: the server refused the AUTH, EAP failed" wait_for 3 log_has s \
	'rw: IKE SA #[0-9]+ failed: we refused the AUTH of .* from [0-9.]+:4500: EAP failed'
check "$W: wrong password: the client says EAP-MSCHAPv2 failed" wait_for 3 log_has c \
	'gw: IKE SA #[0-9]+: EAP with .* failed: EAP-MSCHAPv2 failed'
check "$W: wrong password: no SA on the server" wait_for 5 no_sa s rw
check "$W: wrong password: no SA on the client" wait_for 5 no_sa c gw
check "$W: no password in either log" sh -c \
	"! grep -qF -e '$PW' '${TSD_LOG[c]}' '${TSD_LOG[s]}'"
check "$W: wrong password: the client exits 0 on SIGTERM" tsd_stop c
check "$W: wrong password: the server exits 0 on SIGTERM" tsd_stop s

# the server keeps only the NT hash (RFC 2759 §8.3)
NT=$(printf '%s\n' "$PW" | "$TUNSEC" nthash)
check "$W: tunsec nthash prints an NT hash" grep -qE '^0x[0-9a-f]{32}$' <<<"$NT"
srv_conf "$SRV_CERT
$(sec 2 remote "auth = eap-mschapv2")" "$SRV_KEY
$(sec 1 ntlm-carol "id = carol" "secret = $NT")"
cli_conf "$CLI_MSCHAP
$CLI_CHECKS_SRV" "$(eap_secret "$PW")"
start_both "$W"
up_checks "$W, ntlm- secret" carol
check "$W, ntlm- secret: neither the password nor its hash in either log" sh -c \
	"! grep -qF -e '$PW' -e '${NT#0x}' '${TSD_LOG[c]}' '${TSD_LOG[s]}'"
down_checks "$W, ntlm- secret"

# --- 2. EAP-TLS (RFC 5216) ------------------------------------------------------
W="2 EAP-TLS"
srv_conf "$SRV_CERT
$(sec 2 remote "auth = eap-tls" "cacerts = $K/ca.pem")" "$SRV_KEY"
cli_conf "$(sec 2 local "auth = eap-tls" "id = $M_ID" "eap_id = $U_TLS" "certs = $K/carol.pem")
$CLI_CHECKS_SRV" "$CAROL_KEY"
start_both "$W"
up_checks "$W" "$U_TLS"
tls13_checks "$W"
down_checks "$W"

# --- 3. EAP-only (RFC 5998 §3) ----------------------------------------------------
W="3 EAP-only"
srv_conf "$(sec 2 local "auth = eap-tls" "id = $S_ID" "certs = $K/vpn.pem")
$(sec 2 remote "auth = eap-tls" "cacerts = $K/ca.pem")" "$SRV_KEY"
cli_conf "$(sec 2 local "auth = eap-tls" "id = $M_ID" "eap_id = $U_TLS" "certs = $K/carol.pem")
$(sec 2 remote "auth = eap-tls" "id = $S_ID" "cacerts = $K/ca.pem")" "$CAROL_KEY"
start_both "$W"
up_checks "$W" "$U_TLS"
check "$W: the client announces EAP_ONLY_AUTHENTICATION" \
	msg_is c "sending IKE_AUTH request 1" IDi 'N(EAP_ONLY)' '!AUTH'
check "$W: the server's first IKE_AUTH response: EAP, no AUTH (nor CERT)" \
	msg_is c "received IKE_AUTH response 1" IDr EAP '!AUTH' '!CERT'
tls13_checks "$W"
down_checks "$W"

# --- 4. two rounds (RFC 4739) ---------------------------------------------------
W="4 two rounds"
srv_conf "$SRV_CERT
$(sec 2 remote "auth = pubkey" "cacerts = $K/ca.pem")
$(sec 2 remote-2 "auth = eap-mschapv2")" "$SRV_KEY
$(eap_secret "$PW")"
cli_conf "$(sec 2 local "auth = pubkey" "id = $M_ID" "certs = $K/laptop.pem")
$(sec 2 local-2 "auth = eap-mschapv2" "eap_id = carol")
$CLI_CHECKS_SRV" "$(sec 1 private-l "file = $K/laptop.key")
$(eap_secret "$PW")"
start_both "$W"
up_checks "$W" carol
check "$W: §3.1: the server's IKE_SA_INIT response announces MULTIPLE_AUTH_SUPPORTED" \
	msg_is c "received IKE_SA_INIT response 0" 'N(MULT_AUTH)'
check "$W: §3.1: so does the client's first IKE_AUTH request" \
	msg_is c "sending IKE_AUTH request 1" 'N(MULT_AUTH)'
check "$W: §3.2: round 2 starts with a new IDi, no AUTH" \
	msg_is c "sending IKE_AUTH request 2" IDi '!AUTH'
check "$W: §3.2: the client's first IKE_AUTH request: its AUTH, ANOTHER_AUTH_FOLLOWS" \
	msg_is c "sending IKE_AUTH request 1" IDi CERT AUTH 'N(AUTH_FOLLOWS)'
check "$W: the server's status: carol, after $M_ID" status_has s \
	"^    remote id carol, first round $M_ID$"
check "$W: the server's log names both identities" log_has s \
	"rw: IKE SA #[0-9]+: the peer authenticated in two rounds \(RFC 4739\): as $M_ID, then by EAP as carol"
check "$W: the client's log names both identities" log_has c \
	"gw: IKE SA #[0-9]+: we authenticated in two rounds \(RFC 4739\): as $M_ID, then by EAP as carol"
down_checks "$W"

# --- 5. auth = eap against eap-dynamic (RFC 3748 §5.3.1) ---------------------------
W="5 auth = eap"
srv_conf "$SRV_CERT
$(sec 2 remote "auth = eap-dynamic" "cacerts = $K/ca.pem")" "$SRV_KEY
$(eap_secret "$PW")"
# a password only: the client Naks the server's EAP-TLS for EAP-MSCHAPv2
cli_conf "$(sec 2 local "auth = eap" "id = $M_ID" "eap_id = carol")
$CLI_CHECKS_SRV" "$(eap_secret "$PW")"
start_both "$W"
up_checks "$W, a password only" carol
n=$(auth_exchanges)
check_eq "$W: §5.3.1: the Nak cost one IKE_AUTH exchange more than case 1's" \
	"$n" "$((MSCHAP_EXCHANGES + 1))"
down_checks "$W, a password only"
# carol's certificate and a wrong password: she answers EAP-TLS, the
# method the server starts (a Nak for EAP-MSCHAPv2 would fail)
cli_conf "$(sec 2 local "auth = eap" "id = $M_ID" "eap_id = $U_TLS" "certs = $K/carol.pem")
$CLI_CHECKS_SRV" "$CAROL_KEY
$(sec 1 eap-carol "id = $U_TLS" "secret = \"not $PW\"")"
start_both "$W"
up_checks "$W, a certificate" "$U_TLS"
down_checks "$W, a certificate"
run_end
lib_finish
