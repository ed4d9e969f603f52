#!/bin/bash
# Interop, strongSwan 5.9: AUTH_LIFETIME (RFC 4478) to tunsecd as the client
# A responder cannot reauthenticate an IKE SA itself; it tells the
# initiator how long its authentication lasts with AUTH_LIFETIME in the
# IKE_AUTH response (RFC 4478 §3), and deletes the SA if the initiator has
# not reauthenticated by then. charon does so for a connection with
# reauth_time when it cannot reauthenticate the client itself (an EAP
# client here) and, as tunsecd does, for a RADIUS Session-Timeout, which
# tests/interop/eap_radius.sh checks from the other side.
# Checks:
#  1. charon (responder, reauth_time = 24s) sends AUTH_LIFETIME; tunsecd
#     logs it and schedules its reauthentication at 90 % of it;
#  2. tunsecd reauthenticates before charon's deadline: a new IKE SA
#     comes up, charon never says "initiator did not reauthenticate";
#  3. traffic flows over the new SAs.
. "$(dirname "$0")/swan.lib"
ix_init ixL

# charon's IKE SA number ("gw: #N"), and whether another one is up now
ike_id_at_charon() { swan_list_sas w | grep -oE 'gw: #[0-9]+' | head -n 1; }
new_ike_at_charon() {
	local cur
	cur=$(ike_id_at_charon)
	[ -n "$cur" ] && [ "$cur" != "$first" ] && swan_wait_sas w 1 1 1
}

# charon reauthenticates an IKE SA itself unless it cannot: a client
# logged in with EAP (or given a virtual IP) it can only tell
ix_mschapv2_client
W_CONN_EXTRA="reauth_time = 24s
		rand_time = 0s
		over_time = 4s"
ix_conf
ix_start_swan
ix_start_tsd
check "tunsec up gw" ix_tunsec up gw
check "the tunnel is up: 1 IKE SA + 1 CHILD_SA at charon" swan_wait_sas w 1 1 10
check "RFC 4478 §3: tunsecd got charon's AUTH_LIFETIME and schedules reauthentication" \
	wait_for 3 grep -qE "AUTH_LIFETIME of 2[0-4] s \(RFC 4478\): reauthenticating in (1[89]|2[0-2]) s" \
	"${TSD_LOG[t]}"
check "ping both ways before (3/3 each)" ix_ping_both 3
first=$(ike_id_at_charon)
check "tunsecd reauthenticates before charon's deadline" wait_for 25 grep -q \
	"IKE SA #1 reauthenticating" "${TSD_LOG[t]}"
check "a new IKE SA comes up at charon" wait_for 10 new_ike_at_charon
check "charon: no 'initiator did not reauthenticate'" sh -c \
	"! grep -q 'did not reauthenticate' '${SWAN_DIR[w]}/charon.log'"
check "tunsecd: the new IKE SA is up" wait_for 5 ix_ike_up
wait_for 5 ix_ping_both 1 >/dev/null
check "ping both ways over the new SAs (3/3 each)" ix_ping_both 3
lib_finish
