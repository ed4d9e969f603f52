#!/bin/bash
# asan: remote.groups re-selects the connection (strongSwan's eap-radius class_group), FreeRADIUS
# Interop: strongSwan 5.9 (charon, eap-mschapv2) logs in to tunsecd, which
# passes the EAP through to a real FreeRADIUS 3.2 (RFC 3579). One server
# address, one pair of IKE identities, three connections that differ in
# pools, selectors, remote.groups and (contractors) remote_addrs:
#   rw           groups staff        pool rw4 (10.10.0.0/24)    local_ts 10.201.1.0/24
#   guests       groups guests       pool guest4 (10.10.99.0/24) local_ts 10.201.1.0/25
#   contractors  groups contractors  remote_addrs 192.0.2.0/24 (not charon's)
# The engine takes rw at IKE_AUTH (its remote_addrs, charon's subnet, fit
# best). When the Access-Accept's Class (RFC 2865 §5.25) is none of rw's
# groups, tunsecd moves the IKE SA to the connection whose groups hold it,
# as strongSwan re-selects its peer config after EAP (eap-radius
# class_group; ike_auth's update_cfg_candidates). Checks:
#  1. carol (Class staff) stays in rw: her Framed-IP-Address (RFC 2865
#     §5.8) from rw4, rw's selectors at charon (RFC 7296 §2.9), nothing
#     moved;
#  2. frank (Class guests) moves to guests: tunsecd says so, `tunsec
#     status` lists him under guests with a virtual IP from guest4 (RFC
#     7296 §2.19) and guests' selectors; charon's CHILD_SA has guests'
#     narrower local_ts (§2.9: 10.201.1.0/25); ping from his address;
#     accounting (RFC 2866) Start with that address and Class guests; a
#     reload that replaces rw leaves his session alone (still up, no
#     Stop); `tunsec down guests` ends it, with a Stop (Admin-Reset, the
#     pings counted);
#  3. mallory (Class contractors): contractors does not fit the exchange
#     (charon's address): the engine refuses the move, she gets an
#     EAP-Failure (RFC 3748 §4.2), no SA, tunsecd says why;
#  4. oscar (Class outsiders, in no connection's groups): refused as
#     before, tunsecd names the groups it tried;
#  5. reloads while frank's EAP waits for FreeRADIUS (stopped): he moves
#     to the connection running when the Access-Accept comes: guests
#     replaced (local_ts 10.201.1.0/26): he lands in the new one; guests
#     removed: refused, guests not among the groups tried;
#  6. a reload that replaces rw after the move but before the SA's next
#     event (charon's AUTH after EAP held back): frank's SA, its record and
#     RADIUS session (accounting Start) end up in guests all the same.
. "$(dirname "$0")/swan.lib"
ix_init ixG
SWAN_LOAD_EXTRA="eap-mschapv2 eap-identity"
SECRET="rad $RANDOM$RANDOM secret"
VIP=10.10.0.77

# --- FreeRADIUS in tunsecd's namespace ---------------------------------------
. "$(dirname "$0")/freeradius.lib"
fr_conf "$SECRET" mschapv2
fr_users carol "carol pw" $VIP
cat >>"$FR_RD/users" <<EOF

mallory	Cleartext-Password := "mallory pw"
	Class = "contractors"

oscar	Cleartext-Password := "oscar pw"
	Class = "outsiders"
EOF
fr_start "$T_NS"
DETAIL=$FR_RD/radacct/detail

# --- tunsecd: rw, guests, contractors ------------------------------------------
T_TSEC_EXTRA=$(fr_tsec_radius "$SECRET" "accounting = yes
		retransmit_timeout = 1
		retransmit_tries = 4")
T_AUTH_LOCAL="auth = psk
			id = $IX_T_ID"
T_SECRETS="ike-any {
		secret = $IX_PSK
	}"
T_POOLS_EXTRA="guest4 {
		addrs = 10.10.99.0/24
	}"

# rw for the clients of one subnet (charon's, 10.77.0.0/24): the engine
# prefers it to guests (%any) at IKE_SA_INIT and at IKE_AUTH alike (a
# subnet beats none), whatever order reloads leave the connections in
T_RW_REMOTE_ADDRS=${W_UL%.*}.0/24

# another connection with rw's identities, methods and IKE proposals:
# NAME GROUPS LOCAL_TS POOL [REMOTE_ADDRS]
conn_like_rw() {
	echo "$1 {
		local_addrs = $T_UL
		remote_addrs = ${5:-%any}
		pools = $4
		proposals = aes256gcm16-prfsha256-x25519
		local {
			$T_AUTH_LOCAL
		}
		remote {
			auth = eap-radius
			eap_id = %any
			groups = $2
		}
		children {
			net {
				local_ts = $3
				esp_proposals = aes256gcm16
			}
		}
	}"
}

# server_conf RW_GROUPS GUESTS_TS (none: no guests connection)
server_conf() {
	T_AUTH_REMOTE="auth = eap-radius
			eap_id = %any
			groups = $1"
	T_CONNS_EXTRA=""
	[ "$2" != none ] && T_CONNS_EXTRA="$(conn_like_rw guests guests "$2" guest4)
	"
	T_CONNS_EXTRA="$T_CONNS_EXTRA$(conn_like_rw contractors contractors 10.201.1.0/24 rw4 \
		192.0.2.0/24)"
	ix_rw_conf
}
server_conf staff 10.201.1.0/25
ix_swan_eap_conf carol "carol pw"
SWAN_CHARON_EXTRA="retransmit_timeout = 1"  # (6.: the AUTH held back comes again soon)
ix_start_swan
ix_start_tsd
tsd_mark() { wc -l <"${TSD_LOG[t]}"; }
tsd_since() { tail -n +$(($1 + 1)) "${TSD_LOG[t]}" | grep -qE "$2"; }
# the `tunsec status` lines of connection $1, and whether one matches $2
conn_status() { ix_status | awk -v c="$1:" '$1 == c { p = 1; print; next } /^[^ ]/ { p = 0 } p'; }
conn_has() { conn_status "$1" | grep -qE "$2"; }
# the virtual IP connection $1 leased from pool $2
vip_of() { conn_status "$1" | sed -nE "s/^    virtual IP ([0-9.]+) \\(pool $2\\)\$/\\1/p"; }
# tunsecd answers and has no IKE SA in any connection
no_sas() {
	local st
	st=$(ix_status) || return 1
	! grep -qE '^  [a-z]+\[[0-9]+\]:|^ +net\{' <<<"$st"
}
# the last accounting record TYPE (Start, Stop) of USER
acct_of() {
	awk -v u="User-Name = \"$1\"" -v t="Acct-Status-Type = $2" \
		'BEGIN { RS = "" } index($0, u) && index($0, t) { r = $0 } END { print r }' "$DETAIL"
}
acct_has() { [ -n "$(acct_of "$1" "$2")" ]; }
acct_count() {
	awk -v u="User-Name = \"$1\"" -v t="Acct-Status-Type = $2" \
		'BEGIN { RS = "" } index($0, u) && index($0, t) { n++ } END { print n + 0 }' "$DETAIL"
}
radius_requests() { "$TUNSEC" -s "$WORK/t.sock" stats | awk '$1 " " $2 == "radius requests" { print $3 }'; }
login() {
	ix_swan_eap_conf "$1" "$2"
	swan_load w || die "swanctl could not reload"
	swan_initiate w net gw
}
logout() {
	swan_terminate w gw
	check "$1: no SA on tunsecd after logout" wait_for 5 no_sas
}

# 1. carol: Class staff, rw's group: she stays
tm=$(tsd_mark)
if login carol "carol pw"; then ok "carol logs in"; else bad "carol logs in"; fi
check "carol: tunsecd lists her under rw" conn_has rw 'remote id carol'
check_eq "carol: her Framed-IP-Address, from rw4" "$(vip_of rw rw4)" $VIP
check "carol: charon has rw's selectors (10.201.1.0/24)" swan_has_ts w remote 10.201.1.0/24
check "carol: nothing moved" eval "! tsd_since $tm 'moved to connection'"
logout carol

# 2. frank: Class guests: moved to guests
tm=$(tsd_mark)
if login frank "frank pw"; then ok "frank logs in"; else
	bad "frank logs in"
	tail -n 15 "${TSD_LOG[t]}" | sed 's/^/     tunsecd | /'
fi
check "frank: tunsecd moved him (strongSwan's re-selection by Class)" tsd_since "$tm" \
	"rw: IKE SA #[0-9]+: RADIUS Class guests: moved to connection guests$"
check "frank: tunsecd lists him under guests" conn_has guests 'remote id frank'
check "frank: ... and not under rw" eval "! conn_has rw 'remote id frank'"
FVIP=$(vip_of guests guest4)
check "frank: a virtual IP from guest4 (${FVIP:-none})" grep -qE '^10\.10\.99\.[0-9]+$' <<<"$FVIP"
check "frank: guests' selectors at tunsecd (local 10.201.1.0/25)" conn_has guests \
	'^ +local +10\.201\.1\.0/25$'
check "frank: charon's CHILD_SA has guests' selectors (RFC 7296 §2.9: 10.201.1.0/25)" \
	swan_has_ts w remote 10.201.1.0/25
check "frank: charon installed ${FVIP:-his address}" swan_log_has w \
	"installing new virtual IP ${FVIP:-none}$"
wait_for 5 ping_n "$W_NS" $T_IN4 1 >/dev/null
check "frank: ping from ${FVIP:-his address} through the CHILD_SA (5/5)" ping_n "$W_NS" $T_IN4 5
check "accounting: frank's Start" wait_for 5 acct_has frank Start
start=$(acct_of frank Start)
check "Start: Framed-IP-Address ${FVIP:-none} (guest4's)" grep -q \
	"Framed-IP-Address = ${FVIP:-none}$" <<<"$start"
check "Start: Class guests echoed (RFC 2865 §5.25)" grep -qE 'Class = (0x677565737473|"guests")' \
	<<<"$start"
# a reload that replaces rw (other groups) must not take frank along
server_conf "staff, admins" 10.201.1.0/25
check "reload replaces rw" sh -c "'$TUNSEC' -s '$WORK/t.sock' reload | grep -q '1 replaced'"
check "after rw's reload: frank still under guests with ${FVIP:-his address}" conn_has guests \
	"virtual IP ${FVIP:-none} \\(pool guest4\\)"
check "after rw's reload: charon still has 1 IKE SA and 1 CHILD_SA" swan_wait_sas w 1 1 2
check "after rw's reload: ping (3/3)" ping_n "$W_NS" $T_IN4 3
check "after rw's reload: no Stop for frank yet" eval "! acct_has frank Stop"
check "tunsec down guests: his IKE SA" ix_tunsec down guests
check "tunsec down guests: charon has no SA left" swan_wait_sas w 0 0 5
check "tunsec down guests: no SA on tunsecd" wait_for 5 no_sas
check "accounting: frank's Stop" wait_for 5 acct_has frank Stop
stop=$(acct_of frank Stop)
sid=$(grep -o 'Acct-Session-Id = "[^"]*"' <<<"$start")
check "Stop: the Start's Acct-Session-Id" grep -qF "${sid:-none}" <<<"$stop"
check "Stop: Framed-IP-Address ${FVIP:-none}" grep -q "Framed-IP-Address = ${FVIP:-none}$" <<<"$stop"
inp=$(grep -o 'Acct-Input-Packets = [0-9]*' <<<"$stop" | grep -o '[0-9]*$')
check_ge "Stop: Acct-Input-Packets (the 9 pings at least)" "${inp:-0}" 9
check "Stop: Acct-Terminate-Cause Admin-Reset (tunsec down)" \
	grep -q 'Acct-Terminate-Cause = Admin-Reset' <<<"$stop"

# 3. mallory: Class contractors; contractors fits the daemon's look (same
# identities and methods) but not the exchange (its remote_addrs are not
# charon's): the engine refuses the move
tm=$(tsd_mark)
if login mallory "mallory pw"; then bad "mallory: refused"; else ok "mallory: refused"; fi
check "mallory: charon got EAP-Failure" swan_log_has w "received EAP_FAILURE"
check "mallory: no SA on tunsecd" wait_for 5 no_sas
check "mallory: tunsecd says contractors does not fit" wait_for 3 tsd_since "$tm" \
	"RADIUS Class contractors: connection contractors does not fit the exchange"

# 4. oscar: Class outsiders, nobody's group
tm=$(tsd_mark)
if login oscar "oscar pw"; then bad "oscar: refused"; else ok "oscar: refused"; fi
check "oscar: no SA on tunsecd" wait_for 5 no_sas
check "oscar: tunsecd says why, with the groups it tried" wait_for 3 tsd_since "$tm" \
	"RADIUS admitted oscar, but its Class outsiders is none of remote.groups: groups tried: rw \\(staff, admins\\); guests \\(guests\\); contractors \\(contractors\\)$"

# 5. reloads while frank's EAP waits for FreeRADIUS (stopped): he moves
# to the connection running when the Access-Accept comes.
# paused_login GUESTS_TS: frank logs in; tunsecd reloads with guests'
# local_ts GUESTS_TS (none: no guests) once his Access-Request is out
paused_login() {
	local n lpid
	n=$(radius_requests)
	kill -STOP "$FR_PID"
	login frank "frank pw" &
	lpid=$!
	wait_for 5 eval "[ \"\$(radius_requests)\" -gt $n ]" || bad "frank's Access-Request did not go out"
	server_conf "staff, admins" "$1"
	ix_tunsec reload
	kill -CONT "$FR_PID"
	wait "$lpid"
}
tm=$(tsd_mark)
if paused_login 10.201.1.0/26; then ok "guests replaced while frank waited: he logs in"; else
	bad "guests replaced while frank waited: he logs in"
fi
check "guests replaced: moved to the new guests" tsd_since "$tm" \
	"RADIUS Class guests: moved to connection guests$"
check "guests replaced: the new guests' selectors at charon (10.201.1.0/26)" \
	swan_has_ts w remote 10.201.1.0/26
check "guests replaced: tunsecd lists him under guests" conn_has guests 'remote id frank'
logout "guests replaced: frank"
tm=$(tsd_mark)
if paused_login none; then bad "guests removed while frank waited: refused"; else
	ok "guests removed while frank waited: refused"
fi
check "guests removed: tunsecd says why, guests not tried" wait_for 3 tsd_since "$tm" \
	"RADIUS admitted frank, but its Class guests is none of remote.groups: groups tried: rw \\(staff, admins\\); contractors \\(contractors\\)$"
check "guests removed: no SA on tunsecd" wait_for 5 no_sas

# 6. a reload between the move and the SA's next event (charon's last
# IKE_AUTH request, its AUTH, held back): the record of frank's SA, with
# his RADIUS session, went with it to guests and stays when rw goes
server_conf "staff, admins" 10.201.1.0/25
ix_tunsec reload
starts=$(acct_count frank Start)
# IKE_AUTH (35) requests with Message ID 5 on port 4500, after the non-ESP
# marker: the AUTH after EAP-MSCHAPv2's 4 rounds
HOLD=(OUTPUT -p udp --dport 4500 -m u32 --u32 "0>>22&0x3C@8=0 && 0>>22&0x3C@30>>24=35 && 0>>22&0x3C@32=5" -j DROP)
nsx "$W_NS" iptables -A "${HOLD[@]}"
tm=$(tsd_mark)
login frank "frank pw" &
lpid=$!
check "held AUTH: frank moved to guests" wait_for 5 tsd_since "$tm" \
	"RADIUS Class guests: moved to connection guests$"
server_conf "staff, admins, ops" 10.201.1.0/25
check "held AUTH: reload replaces rw" sh -c "'$TUNSEC' -s '$WORK/t.sock' reload | grep -q '1 replaced'"
nsx "$W_NS" iptables -D "${HOLD[@]}"
if wait "$lpid"; then ok "held AUTH: frank logs in once charon resends it"; else
	bad "held AUTH: frank logs in once charon resends it"
fi
check "held AUTH: tunsecd lists him under guests with a guest4 address" conn_has guests \
	'virtual IP 10\.10\.99\.[0-9]+ \(pool guest4\)'
check "held AUTH: accounting Start for this session (his RADIUS session kept)" wait_for 5 \
	eval "[ \"\$(acct_count frank Start)\" -gt $starts ]"
logout "held AUTH: frank"

check "no password or RADIUS secret in tunsecd's log" sh -c \
	"! grep -qF -e 'frank pw' -e 'carol pw' -e '$SECRET' '${TSD_LOG[t]}'"
check "freeradius still running" kill -0 "$FR_PID"
fr_verified_all
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
