#!/bin/bash
# asan: two authentication rounds (RFC 4739), both roles, against strongSwan
# Interop, strongSwan 5.9 (charon, eap-mschapv2, eap-identity, eap-radius):
# a machine's certificate, then its user's login, in one IKE SA (RFC 4739,
# strongSwan's local-N / remote-N rounds). Certificates made with
# strongSwan's pki (swan.lib's ix_certs: ECDSA P-256, one CA).
# RFC 4739 §2: the exchanges; §3.1: both ends announce
# MULTIPLE_AUTH_SUPPORTED (the responder in IKE_SA_INIT, the initiator in
# its first IKE_AUTH); §3.2: the initiator sends ANOTHER_AUTH_FOLLOWS with
# its first round's AUTH; the second round is a new IDi followed by EAP
# (RFC 7296 §2.16).
# Checks:
#  a. charon initiates: local-1 pubkey, local-2 eap-mschapv2 as alice;
#     tunsecd requires remote-1 pubkey and remote-2 eap-mschapv2: charon
#     sees MULTIPLE_AUTH_SUPPORTED in tunsecd's IKE_SA_INIT response and
#     sends ANOTHER_AUTH_FOLLOWS, EAP-MSCHAPv2 succeeds, tunsecd's AUTH
#     with the MSK verifies, charon gets a virtual IP from tunsecd's pool
#     (RFC 7296 §2.19) leased to alice (tunsec pools), tunsecd's log and
#     status name both identities, ping from the virtual IP;
#  b. a wrong password in round 2: charon's round 1 was verified, round 2
#     fails (EAP-MSCHAPv2 refused), no SA on either side, tunsecd says it
#     refused the AUTH because EAP failed;
#  c. a charon that announces no second round (no local-2) is refused by
#     the server that requires one (AUTHENTICATION_FAILED, no CHILD_SA);
#  d. round 2 by eap-radius: tunsecd passes alice's EAP-MSCHAPv2 to a
#     FreeRADIUS 3.2 it started (RFC 3579): Framed-IP-Address (RFC 2865
#     §5.8) is her virtual IP, Class (§5.25) one of remote-2.groups,
#     accounting Start and Stop (RFC 2866) for alice; erin's
#     Session-Timeout (§5.27) reaches charon as AUTH_LIFETIME (RFC 4478
#     §3); frank, whose Class is none of remote-2.groups, is refused;
#     with a connection guests whose remote-2.groups hold it (else like
#     rw, but for its pool and local_ts), round 2's Class moves frank's
#     IKE SA there (strongSwan's re-selection by eap-radius class_group):
#     its pool, its selectors at charon, both identities in its status;
#  e. tunsecd initiates (local-1 pubkey, local-2 eap-mschapv2) to charon
#     requiring remote-1 pubkey and remote-2 eap-mschapv2: charon parses
#     ANOTHER_AUTH_FOLLOWS in tunsecd's first IKE_AUTH request, verifies
#     tunsecd's certificate, then alice's EAP; round 2's IDi is alice
#     (local-2.eap_id, no local-2.id), which charon then lists as the
#     peer's identity; CHILD_SA up with a virtual IP and DNS from charon's
#     pool (RFC 7296 §2.19), pings from and to it; tunsecd's log names
#     both of its identities;
#  f. tunsecd with a wrong round-2 password is refused by charon.
. "$(dirname "$0")/swan.lib"
ix_init ixM

ix_certs ecdsa 256
K=$IX_PKI
SWAN_LOAD_EXTRA="eap-mschapv2 eap-identity"
VIP=10.10.0.77
RSECRET="rad $RANDOM$RANDOM secret"

# charon's log from line N on (the lines one case wrote)
mark() { wc -l <"${SWAN_DIR[w]}/charon.log" 2>/dev/null || echo 0; }
since() { tail -n +$(($1 + 1)) "${SWAN_DIR[w]}/charon.log" 2>/dev/null | grep -qE "$2"; }
tsd_mark() { wc -l <"${TSD_LOG[t]}"; }
tsd_since() { tail -n +$(($1 + 1)) "${TSD_LOG[t]}" | grep -qE "$2"; }

# tunsecd the server: its certificate, then REMOTE2 (the lines of its
# remote-2 section), with a RADIUS section when RADIUS=1
server_conf() {
	T_TSEC_EXTRA=""
	[ "${2:-0}" = 1 ] && T_TSEC_EXTRA=$(fr_tsec_radius "$RSECRET" "accounting = yes")
	T_AUTH_LOCAL="auth = pubkey
			id = $IX_T_ID
			certs = $K/t.pem"
	T_AUTH_REMOTE="auth = pubkey
			id = $IX_W_ID
			cacerts = $K/ca.pem
		}
		remote-2 {
			$1"
	T_SECRETS="private-t {
		file = $K/t.key
	}
	eap-alice {
		id = alice
		secret = \"alice pw\"
	}"
	ix_rw_conf
}

# charon the client as USER with password PW (ROUNDS=1: no local-2)
client_conf() {
	local user=$1 pw=$2 rounds=${3:-2}
	# reauthentication (an AUTH_LIFETIME's) starts this long before the end
	W_CONN_EXTRA="over_time = 3s"
	W_AUTH_LOCAL="auth = pubkey
			id = $IX_W_ID
			certs = $K/w.pem"
	[ "$rounds" = 2 ] && W_AUTH_LOCAL+="
		}
		local-2 {
			auth = eap-mschapv2
			eap_id = $user"
	W_AUTH_REMOTE="auth = pubkey
			id = $IX_T_ID
			cacerts = $K/ca.pem"
	W_SECRETS="eap-me {
		id = $user
		secret = \"$pw\"
	}"
	ix_swan_rw_conf
}

# login USER PW [ROUNDS]: charon initiates with that configuration; 0 if
# the CHILD_SA came up
login() {
	client_conf "$@"
	swan_load w || die "swanctl could not load the configuration"
	swan_initiate w net gw
}

pools_have() { "$TUNSEC" -s "$WORK/t.sock" pools | grep -qE "$1"; }
swan_remote_id() { swan_ctl w --list-sas --raw 2>/dev/null | grep -q "remote-id=$1 "; }
status_has() { ix_status | grep -qE "$1"; }

# --- a. charon initiates, tunsecd requires two rounds --------------------------
server_conf "auth = eap-mschapv2
			eap_id = %any"
client_conf alice "alice pw"
ix_start_swan
ix_start_tsd
m=$(mark)
if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	bad "charon (local-1 pubkey, local-2 eap-mschapv2) initiates: the CHILD_SA comes up"
else
	ok "charon (local-1 pubkey, local-2 eap-mschapv2) initiates: the CHILD_SA comes up"
fi
check "§3.1: tunsecd's IKE_SA_INIT response announces MULTIPLE_AUTH_SUPPORTED" since "$m" \
	"parsed IKE_SA_INIT response 0 \[.*N\(MULT_AUTH\)"
check "§3.2: charon's first IKE_AUTH request says ANOTHER_AUTH_FOLLOWS" since "$m" \
	"generating IKE_AUTH request 1 \[.*N\(AUTH_FOLLOWS\)"
check "round 1: charon verified tunsecd's certificate AUTH" since "$m" \
	"authentication of '$IX_T_ID' with ECDSA.* successful"
check "round 2: EAP method EAP_MSCHAPV2 succeeded, MSK established (RFC 7296 §2.16)" \
	since "$m" "EAP method EAP_MSCHAPV2 succeeded, MSK established"
check "round 2: charon verified tunsecd's AUTH with the MSK" since "$m" \
	"authentication of '$IX_T_ID' with EAP successful"
check "charon: virtual IP from tunsecd's pool (RFC 7296 §2.19)" since "$m" \
	"installing new virtual IP 10\.10\.0\.[0-9]+"
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 5
check "tunsecd: the IKE SA is up" wait_for 3 status_has "^  rw\[[0-9]+\]: established"
check "tunsecd's log names both identities (the machine, then alice)" wait_for 3 grep -qE \
	"rw: IKE SA #[0-9]+: the peer authenticated in two rounds \(RFC 4739\): as $IX_W_ID, then by EAP as alice" \
	"${TSD_LOG[t]}"
check "tunsec status: the peer is alice, after $IX_W_ID" status_has \
	"remote id alice, first round $IX_W_ID"
check "tunsec pools: the lease is alice's (the identity round 2 proved)" pools_have \
	"^ *10\.10\.0\.[0-9]+ +online +[0-9]+s +alice$"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "ping from the virtual IP through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
swan_terminate w gw
check "tunsecd: no SA after alice leaves" wait_for 5 ix_no_sa rw

# --- b. a wrong password in round 2 -------------------------------------------
m=$(mark)
tm=$(tsd_mark)
if login alice "wrong pw"; then
	bad "round 2 with a wrong password: refused"
else
	ok "round 2 with a wrong password: refused"
fi
check "wrong password: round 1 was verified first (tunsecd's certificate AUTH)" since "$m" \
	"authentication of '$IX_T_ID' with ECDSA.* successful"
check "wrong password: charon's EAP-MSCHAPv2 failed" since "$m" \
	"EAP-MS-CHAPv2 failed with error ERROR_AUTHENTICATION_FAILURE|EAP_MSCHAPV2 method failed|received EAP_FAILURE"
check "wrong password: no SA on charon" swan_wait_sas w 0 0 5
check "wrong password: no SA on tunsecd" wait_for 5 ix_no_sa rw
check "wrong password: tunsecd says it refused the AUTH: EAP failed" wait_for 3 tsd_since "$tm" \
	"rw: IKE SA #[0-9]+ failed: we refused the AUTH of .*: EAP failed"
check "no password in tunsecd's log" sh -c "! grep -qE 'alice pw|wrong pw' '${TSD_LOG[t]}'"

# --- c. no second round offered -------------------------------------------------
# (a fresh tunsecd: its failure log is rate-limited per connection)
tsd_stop t
ix_start_tsd
m=$(mark)
if login alice "alice pw" 1; then
	bad "a client without a second round is refused by a server that requires one"
else
	ok "a client without a second round is refused by a server that requires one"
fi
check "one round: charon got AUTHENTICATION_FAILED" since "$m" \
	"received AUTHENTICATION_FAILED notify error"
check "one round: tunsecd logs the failed IKE SA" wait_for 3 grep -qE "rw: IKE SA #[0-9]+ failed" \
	"${TSD_LOG[t]}"
check "one round: no SA on charon" swan_wait_sas w 0 0 5
check "one round: no SA on tunsecd" wait_for 5 ix_no_sa rw
check "tunsecd exits 0 on SIGTERM" tsd_stop t

# --- d. round 2 by eap-radius -------------------------------------------------
. "$(dirname "$0")/freeradius.lib"
fr_conf "$RSECRET" mschapv2
fr_users alice "alice pw" $VIP
fr_start "$T_NS"
server_conf "auth = eap-radius
			eap_id = %any
			groups = staff, admins" 1
ix_start_tsd
m=$(mark)
if login alice "alice pw"; then
	ok "RADIUS round 2: charon initiates as the machine, then alice: the CHILD_SA comes up"
else
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	bad "RADIUS round 2: charon initiates as the machine, then alice: the CHILD_SA comes up"
fi
check "RADIUS round 2: EAP_MSCHAPV2 succeeded through RADIUS (RFC 3579)" since "$m" \
	"EAP method EAP_MSCHAPV2 succeeded, MSK established"
check "RADIUS round 2: Framed-IP-Address $VIP is the virtual IP (RFC 2865 §5.8)" since "$m" \
	"installing new virtual IP $VIP"
check "tunsecd's log names both identities" wait_for 3 grep -qE \
	"the peer authenticated in two rounds \(RFC 4739\): as $IX_W_ID, then by EAP as alice" \
	"${TSD_LOG[t]}"
check "tunsec pools: $VIP is alice's" pools_have "^ *${VIP//./\\.} +online +[0-9]+s +alice$"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "ping from $VIP through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
DETAIL=$FR_RD/radacct/detail
check "accounting: Start for alice (RFC 2866)" wait_for 5 sh -c \
	"grep -q 'Acct-Status-Type = Start' '$DETAIL'"
start=$(fr_acct_rec Start)
check "Start: User-Name alice" grep -q 'User-Name = "alice"' <<<"$start"
check "Start: Framed-IP-Address $VIP" grep -q "Framed-IP-Address = $VIP" <<<"$start"
check "Start: Class echoed (RFC 2865 §5.25)" grep -qE 'Class = (0x7374616666|"staff")' <<<"$start"
swan_terminate w gw
check "tunsecd: no SA after alice leaves" wait_for 5 ix_no_sa rw
check "accounting: Stop for alice" wait_for 5 sh -c \
	"awk 'BEGIN { RS = \"\" } /User-Name = \"alice\"/ && /Acct-Status-Type = Stop/' '$DETAIL' | grep -q ."
tm=$(tsd_mark)
m=$(mark)
if login erin "erin pw"; then ok "RADIUS round 2: erin logs in"; else bad "RADIUS round 2: erin logs in"; fi
check "Session-Timeout (RFC 2865 §5.27) of round 2's user reaches charon as AUTH_LIFETIME (RFC 4478)" \
	since "$m" "received AUTH_LIFETIME of 6s"
swan_terminate w gw
check "erin: no SA after she leaves" wait_for 5 ix_no_sa rw
tm=$(tsd_mark)
if login frank "frank pw"; then
	bad "RADIUS round 2: frank's Class is none of remote-2.groups: refused"
else
	ok "RADIUS round 2: frank's Class is none of remote-2.groups: refused"
fi
check "frank: no SA on tunsecd" wait_for 5 ix_no_sa rw
check "frank: tunsecd says why" wait_for 3 tsd_since "$tm" \
	"RADIUS admitted frank, but its Class guests is none of the second round's groups: groups tried: rw \\(staff, admins\\)$"
# frank again, with a connection guests alike but for remote-2.groups
# (guests), its pool and local_ts: round 2's Class moves the IKE SA there
# (strongSwan's re-selection by eap-radius class_group). rw takes charon's
# subnet, so that the engine starts with it (a subnet beats none).
server_conf "auth = eap-radius
			eap_id = %any
			groups = guests" 1
T_CONNS_EXTRA="guests {
		local_addrs = $T_UL
		remote_addrs = %any
		pools = guest4
		proposals = aes256gcm16-prfsha256-x25519
		local {
			$T_AUTH_LOCAL
		}
		remote {
			$T_AUTH_REMOTE
		}
		children {
			net {
				local_ts = 10.201.1.0/25
				esp_proposals = aes256gcm16
			}
		}
	}"
T_POOLS_EXTRA="guest4 {
		addrs = 10.10.99.0/24
	}"
T_RW_REMOTE_ADDRS=${W_UL%.*}.0/24
server_conf "auth = eap-radius
			eap_id = %any
			groups = staff, admins" 1
ix_tunsec reload || bad "tunsec reload (guests added)"
tm=$(tsd_mark)
if login frank "frank pw"; then ok "RADIUS round 2: frank logs in to guests"; else
	bad "RADIUS round 2: frank logs in to guests"
fi
check "frank: round 2's Class moved the IKE SA to guests" tsd_since "$tm" \
	"rw: IKE SA #[0-9]+: RADIUS Class guests: moved to connection guests$"
check "frank: guests' log names both identities" tsd_since "$tm" \
	"guests: IKE SA #[0-9]+: the peer authenticated in two rounds \(RFC 4739\): as $IX_W_ID, then by EAP as frank"
check "frank: tunsec status: under guests" status_has \
	"^  guests\[[0-9]+\]: established"
check "frank: tunsec status: both rounds' identities" status_has \
	"remote id frank, first round $IX_W_ID$"
check "frank: tunsec status: a virtual IP from guest4" status_has \
	"virtual IP 10\.10\.99\.[0-9]+ \(pool guest4\)"
check "frank: guests' selectors at charon (10.201.1.0/25)" swan_has_ts w remote 10.201.1.0/25
swan_terminate w gw
check "frank: no SA after he leaves" wait_for 5 ix_no_sa guests
T_CONNS_EXTRA="" T_POOLS_EXTRA="" T_RW_REMOTE_ADDRS=""
check "no password or RADIUS secret in tunsecd's log" sh -c \
	"! grep -qF -e 'alice pw' -e 'frank pw' -e '$RSECRET' '${TSD_LOG[t]}'"
fr_verified_all
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_stop "$FR_PID"

# --- e. tunsecd initiates, charon requires two rounds ------------------------
T_TSEC_EXTRA=""
W_CONN_EXTRA=""
swan_stop w
rm -f "${SWAN_DIR[w]}/charon.log"
W_AUTH_LOCAL="auth = pubkey
			id = $IX_W_ID
			certs = $K/w.pem"
W_AUTH_REMOTE="auth = pubkey
			id = $IX_T_ID
			cacerts = $K/ca.pem
		}
		remote-2 {
			auth = eap-mschapv2
			eap_id = %any"
W_SECRETS="eap-alice {
		id = alice
		secret = \"alice pw\"
	}"
me() { # PASSWORD: tunsecd's end, its machine certificate, then alice
	T_AUTH_LOCAL="auth = pubkey
			id = $IX_T_ID
			certs = $K/t.pem
		}
		local-2 {
			auth = eap-mschapv2
			eap_id = alice"
	T_AUTH_REMOTE="auth = pubkey
			id = $IX_W_ID
			cacerts = $K/ca.pem"
	T_SECRETS="private-t {
		file = $K/t.key
	}
	eap-alice {
		id = alice
		secret = \"$1\"
	}"
}
T_START=start
IX_VIPS=1 # with a virtual IP and DNS from charon's pool (RFC 7296 §2.19)
me "alice pw"
ix_conf
ix_start_swan
ix_start_tsd
check "charon: 1 IKE SA and 1 CHILD_SA (tunsecd started it)" swan_wait_sas w 1 1 10
check "§3.2: tunsecd's first IKE_AUTH request says ANOTHER_AUTH_FOLLOWS" swan_log_has w \
	"parsed IKE_AUTH request 1 \[.*N\(AUTH_FOLLOWS\)"
check "§3.1: tunsecd announces MULTIPLE_AUTH_SUPPORTED" swan_log_has w \
	"parsed IKE_(SA_INIT|AUTH) request [01] \[.*N\(MULT_AUTH\)"
check "round 1: charon verified tunsecd's certificate" swan_log_has w \
	"authentication of '$IX_T_ID' with ECDSA.* successful"
check "round 2: charon's EAP_MSCHAPV2 succeeded for alice (RFC 7296 §2.16)" swan_log_has w \
	"EAP method EAP_MSCHAPV2 succeeded, MSK established"
check "round 2: charon verified tunsecd's AUTH with the MSK" swan_log_has w \
	"authentication of '.*' with EAP successful"
check "charon: the IKE SA's remote identity is alice (round 2's IDi: local-2.eap_id)" \
	swan_remote_id alice
check "tunsecd: the IKE SA is up" wait_for 3 ix_ike_up
check "tunsecd's log: we authenticated in two rounds, as $IX_T_ID, then alice" grep -qE \
	"gw: IKE SA #[0-9]+: we authenticated in two rounds \(RFC 4739\): as $IX_T_ID, then by EAP as alice" \
	"${TSD_LOG[t]}"
ix_vip_checks 5
check "tunsecd exits 0 on SIGTERM" tsd_stop t
check "charon: no SA after tunsecd's Delete" swan_wait_sas w 0 0 5

# --- f. tunsecd with a wrong round-2 password ---------------------------------
me "wrong pw"
ix_conf
ix_start_tsd
check "charon refuses tunsecd's round 2 (EAP-MSCHAPv2 failed)" wait_for 10 swan_log_has w \
	"EAP-MS-CHAPv2 verification failed|EAP method EAP_MSCHAPV2 failed"
check "tunsecd: EAP failed, it says so" wait_for 10 grep -q "EAP.*failed" "${TSD_LOG[t]}"
check "charon: no SA" swan_wait_sas w 0 0 5
check "no password in tunsecd's log" sh -c "! grep -qE 'alice pw|wrong pw' '${TSD_LOG[t]}'"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
