#!/bin/bash
# asan: EAP through RADIUS (remote.auth = eap-radius), strongSwan client, FreeRADIUS
# Interop: strongSwan 5.9 (charon, eap-mschapv2) logs in with EAP-MSCHAPv2
# to tunsecd, which passes every EAP message through to a real FreeRADIUS
# 3.2 (RFC 3579) started here in tunsecd's namespace; tunsecd proves
# itself with a PSK, hands out a virtual IP (RFC 7296 §2.19) and accounts
# the session (RFC 2866). Checks:
#  - §2.16 / RFC 3579: EAP-Identity asked by tunsecd (eap_id = %any), the
#    rounds through RADIUS with State echoed, Access-Accept with
#    EAP-Success; the MSK from MS-MPPE keys (RFC 2548) is what charon's
#    AUTH uses, so both AUTHs verify only if it came through right;
#  - the first configured server is dead (nothing listens): failover to
#    FreeRADIUS, counted (`tunsec stats`: radius failovers);
#  - Framed-IP-Address (RFC 2865 §5.8) is the client's virtual IP, Class
#    (§5.25) is echoed in accounting; tunsecd knows the client as carol;
#  - ping through the CHILD_SA from that address;
#  - accounting (RFC 2866, RFC 2869 §2.1): Start, Interim-Update and Stop
#    in FreeRADIUS's detail file with User-Name, Acct-Session-Id, the
#    virtual IP, Class, and the Stop's packet counters at least the pings;
#  - Session-Timeout (RFC 2865 §5.27): charon hears it as AUTH_LIFETIME
#    (RFC 4478 §3); a client that neither reauthenticates nor leaves in
#    time (its packets dropped) is deleted by tunsecd at the timeout, with
#    Acct-Terminate-Cause Session-Timeout;
#  - remote.groups: frank's Access-Accept carries Class "guests", none of
#    the connection's groups, and no other connection's (a move to one
#    whose groups hold it: eap_radius_groups.sh): refused, and tunsecd
#    says why;
#  - a wrong password: Access-Reject, EAP-Failure, no SA, tunsecd says the
#    RADIUS server rejected carol;
#  - no Message-Authenticator dropped by FreeRADIUS (every request of ours
#    carries a valid one; its client entry requires it).
. "$(dirname "$0")/swan.lib"
ix_init ixR
SWAN_LOAD_EXTRA="eap-mschapv2 eap-identity"
SECRET="rad $RANDOM$RANDOM secret"
VIP=10.10.0.77

# --- FreeRADIUS in tunsecd's namespace, on 127.0.0.1 --------------------------
. "$(dirname "$0")/freeradius.lib"
fr_conf "$SECRET" mschapv2
RD=$FR_RD
fr_users carol "carol pw" $VIP
fr_start "$T_NS"

# --- tunsecd: eap-radius, a pool, the dead server first -------------------------
T_TSEC_EXTRA="radius {
		accounting = yes
		accounting_interval = 1s
		nas_identifier = tunsec-test
		retransmit_timeout = 0.3
		retransmit_tries = 2
		servers {
			dead {
				address = 127.0.0.3
				secret = \"$SECRET\"
			}
			freeradius {
				address = 127.0.0.1
				secret = \"$SECRET\"
				auth_port = 1812
				acct_port = 1813
			}
		}
	}"
T_AUTH_LOCAL="auth = psk
			id = $IX_T_ID"
T_AUTH_REMOTE="auth = eap-radius
			eap_id = %any
			groups = staff, admins"
T_POOL_EXTRA="dns = 10.10.9.53"
T_SECRETS="ike-any {
		secret = $IX_PSK
	}"
ix_rw_conf

# charon: USER (carol) with a password PW, asking for a virtual IP
swan_conf() {
	# reauthentication starts this long before an AUTH_LIFETIME ends
	W_CONN_EXTRA="over_time = 3s"
	ix_swan_eap_conf "${2:-carol}" "$1"
}
swan_conf "carol pw"
# a reauthentication sets up the new IKE SA before it deletes the old one
SWAN_CHARON_EXTRA="make_before_break = yes"
ix_start_swan
ix_start_tsd
stat_of() { "$TUNSEC" -s "$WORK/t.sock" stats | awk -v k="$1" '$1 " " $2 == k { print $3 }'; }

# 1. carol, through the dead server to FreeRADIUS
if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	tail -n 20 "${TSD_LOG[t]}" | sed 's/^/     tunsecd | /'
	die "RFC 7296 §2.16 / RFC 3579: carol's login through RADIUS failed"
fi
check "charon: EAP_MSCHAPV2 succeeded, MSK established (through RADIUS)" swan_log_has w \
	"EAP method EAP_MSCHAPV2 succeeded, MSK established"
check "charon: tunsecd's AUTH with the RADIUS MSK verified (RFC 2548 keys)" swan_log_has w \
	"authentication of '$IX_T_ID' with EAP successful"
check "charon: Framed-IP-Address $VIP is its virtual IP (RFC 2865 §5.8)" swan_log_has w \
	"installing new virtual IP $VIP"
check "charon: 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 3
check "tunsecd knows the client as carol (its EAP identity)" sh -c \
	"'$TUNSEC' -s '$WORK/t.sock' status | grep -q 'remote id carol'"
check_ge "radius failovers (the dead first server)" "$(stat_of 'radius failovers')" 1
check_ge "radius answers" "$(stat_of 'radius answers')" 3
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "ping through the CHILD_SA from $VIP (5/5)" ping_n "$W_NS" $T_IN4 5
DETAIL=$RD/radacct/detail
check "accounting: an Interim-Update arrives (accounting_interval = 1s)" wait_for 5 sh -c \
	"grep -q 'Acct-Status-Type = Interim-Update' '$DETAIL'"
swan_terminate w gw
check "tunsecd: no SA after carol leaves" wait_for 5 ix_no_sa rw
check "accounting: a Stop arrives" wait_for 5 sh -c "grep -q 'Acct-Status-Type = Stop' '$DETAIL'"
start=$(fr_acct_rec Start)
stop=$(fr_acct_rec Stop)
sid=$(grep -o 'Acct-Session-Id = "[^"]*"' <<<"$start")
check "Start: User-Name carol" grep -q 'User-Name = "carol"' <<<"$start"
check "Start: Framed-IP-Address $VIP" grep -q "Framed-IP-Address = $VIP" <<<"$start"
check "Start: Class echoed (RFC 2865 §5.25)" grep -qE 'Class = (0x7374616666|"staff")' <<<"$start"
check "Start: NAS-Identifier" grep -q 'NAS-Identifier = "tunsec-test"' <<<"$start"
check "Stop: the same Acct-Session-Id" grep -qF "$sid" <<<"$stop"
inp=$(grep -o 'Acct-Input-Packets = [0-9]*' <<<"$stop" | grep -o '[0-9]*$')
outp=$(grep -o 'Acct-Output-Packets = [0-9]*' <<<"$stop" | grep -o '[0-9]*$')
ino=$(grep -o 'Acct-Input-Octets = [0-9]*' <<<"$stop" | grep -o '[0-9]*$')
check_ge "Stop: Acct-Input-Packets (the 6 pings at least)" "${inp:-0}" 6
check_ge "Stop: Acct-Output-Packets (the 6 replies at least)" "${outp:-0}" 6
check_ge "Stop: Acct-Input-Octets (6 x 84 at least)" "${ino:-0}" 504
check "Stop: Acct-Session-Time" grep -q 'Acct-Session-Time = [0-9]' <<<"$stop"
check "Stop: Acct-Terminate-Cause User-Request (she left)" \
	grep -q 'Acct-Terminate-Cause = User-Request' <<<"$stop"

# 2. erin: Session-Timeout = 6 (RFC 2865 §5.27). tunsecd tells charon with
# AUTH_LIFETIME (RFC 4478 §3); charon reauthenticates 3 s before its end
# (over_time), make-before-break, but from now on its new IKE_SA_INITs are
# dropped, and so is its Delete of the old SA when its lifetime is over
# (a client that neither reauthenticates nor leaves, as one without RFC
# 4478 does not): tunsecd itself ends her session at 6 s.
swan_conf "erin pw" erin
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then ok "erin logs in"; else bad "erin logs in"; fi
check "RFC 4478 §3: charon heard the Session-Timeout as AUTH_LIFETIME of 6 s" swan_log_has w \
	"received AUTH_LIFETIME of 6s"
# IKE_SA_INIT requests (exchange type 34): on port 500, and on port 4500
# after the non-ESP marker
nsx "$W_NS" iptables -A OUTPUT -p udp --dport 500 -m u32 --u32 "0>>22&0x3C@26>>24=34" -j DROP
nsx "$W_NS" iptables -A OUTPUT -p udp --dport 4500 -m u32 \
	--u32 "0>>22&0x3C@8=0 && 0>>22&0x3C@30>>24=34" -j DROP
# INFORMATIONAL requests (37, the Response flag clear) on port 4500: its
# Delete (its answers to tunsecd's requests still go)
nsx "$W_NS" iptables -A OUTPUT -p udp --dport 4500 -m u32 \
	--u32 "0>>22&0x3C@8=0 && 0>>22&0x3C@28&0xFF20=0x2500" -j DROP
check "charon tries to reauthenticate before the end" wait_for 5 swan_log_has w \
	"reauthenticating IKE_SA|initiating IKE_SA gw"
check "Session-Timeout: tunsecd deletes erin's IKE SA at 6 s" wait_for 8 ix_no_sa rw
check "tunsecd says why" grep -q "RADIUS Session-Timeout reached" "${TSD_LOG[t]}"
# charon's reauthentication is still being retransmitted: end it before
# its IKE_SA_INITs may pass again (it would log erin in anew)
swan_ctl w --terminate --ike gw >/dev/null 2>&1
nsx "$W_NS" iptables -F OUTPUT
check "charon: no SA (nor a reauthentication under way) left" swan_wait_sas w 0 0 5
check "accounting: erin's Stop, Acct-Terminate-Cause Session-Timeout" wait_for 5 sh -c \
	"awk 'BEGIN { RS = \"\" } /User-Name = \"erin\"/ && /Acct-Status-Type = Stop/' '$DETAIL' |
	grep -q 'Acct-Terminate-Cause = Session-Timeout'"

# 3. frank: RADIUS admits him, but his Class (guests) is none of
# remote.groups (strongSwan's class_group)
swan_conf "frank pw" frank
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then bad "Class not in remote.groups: refused"; else ok "Class not in remote.groups: refused"; fi
check "Class not in remote.groups: no SA on tunsecd" wait_for 5 ix_no_sa rw
check "tunsecd says why, and which groups it tried" grep -q \
	"RADIUS admitted frank, but its Class guests is none of remote.groups: groups tried: rw (staff, admins)$" \
	"${TSD_LOG[t]}"

# 4. a wrong password
swan_conf "wrong pw"
swan_load w || die "swanctl could not reload"
if swan_initiate w net gw; then bad "wrong password: refused"; else ok "wrong password: refused"; fi
check "wrong password: no SA on tunsecd" wait_for 5 ix_no_sa rw
check "tunsecd says the RADIUS server rejected carol" grep -q "RADIUS server [0-9] rejected carol" "${TSD_LOG[t]}"
check "no password or RADIUS secret in tunsecd's log" sh -c \
	"! grep -qF -e 'carol pw' -e '$SECRET' '${TSD_LOG[t]}'"
check_eq "radius drop-bad-message-authenticator" "$(stat_of 'radius drop-bad-message-authenticator')" 0
check "freeradius still running" kill -0 "$FR_PID"
fr_verified_all
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
