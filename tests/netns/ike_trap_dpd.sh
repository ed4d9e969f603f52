#!/bin/bash
# IKEv2 started by traffic and restarted after a dead peer (RFC 7296 §1.4,
# §2.4, RFC 4301 §5.2's acquire): two tunsecd through a routing middle
# namespace, the client with start_action = trap, dpd_delay = 300ms and
# dpd_action = restart, short retransmission timers.
# Checks: before any traffic the client has no IKE SA and a trap; a ping
# into the remote subnet starts the SA (acquires counter) and then gets
# through; the server is killed with SIGKILL (no Delete): the client's
# liveness check goes unanswered and it removes the SAs (reason dead
# peer), then re-initiates on its own until the server is back; traffic
# flows again; both exit 0 on SIGTERM.
. "$(dirname "$0")/../lib.sh"
lib_init tsIt
topo3 tsIt
PSK="ike trap test $RANDOM$RANDOM shared secret"

# Short timers: a liveness check after 300 ms of silence (milliseconds: a
# tunsec extension), given up after 0.2 + 0.24 + 0.29 s (RFC 7296 §2.1
# backoff, strongSwan's key names).
export TSEC_EXTRA=$'retransmit_timeout = 0.2\nretransmit_base = 1.2\nretransmit_tries = 2'
export CONN_EXTRA="dpd_delay = 300ms"
CHILD_EXTRA="dpd_action = restart" ike_conf "$WORK/c.conf" c tsc0 "$C_IN4/32" $C_UL "$C_PEER" moon.example sun.example \
	"10.201.1.0/24" "10.201.2.0/24" trap
ike_conf "$WORK/s.conf" s tss0 "$S_IN4/32" $S_UL "%any" sun.example moon.example \
	"10.201.2.0/24" "10.201.1.0/24" none

tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"

established() { "$TUNSEC" -s "${TSD_SOCK[$1]}" status | grep -q "gw\[[0-9]*\]: established"; }
trap_only() { "$TUNSEC" -s "${TSD_SOCK[c]}" status | grep -q "gw: IKEv2.*, 0 IKE SAs, trap installed"; }
poke() { nsx "$C_NS" ping -n -q -c 1 -W 1 $S_IN4 >/dev/null 2>&1; established c; }

check "before traffic: a trap, no IKE SA" trap_only
check "a packet into the remote subnet starts the IKE SA (acquire)" wait_for 10 poke
check_stat "acquire counted" c total acquires 1
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping through the trap-started tunnel (10/10)" ping_n "$C_NS" $S_IN4 10

kill -KILL "${TSD_PID[s]}" 2>/dev/null
wait_for 5 sh -c "! kill -0 ${TSD_PID[s]} 2>/dev/null"
TSD_PID[s]=""
dead() { grep -q "gw: IKE SA #1 down: peer dead" "${TSD_LOG[c]}"; }
check "client: unanswered liveness checks remove the IKE SA (dead peer)" wait_for 15 dead
check "client: the CHILD_SA went with it" sh -c "grep -q 'CHILD_SA .* down' '${TSD_LOG[c]}'"
check "client: dpd_action = restart re-initiates" \
	wait_for 10 sh -c "[ \$(grep -c 'initiating IKE SA' '${TSD_LOG[c]}') -ge 2 ]"

mv "${TSD_LOG[s]}" "$WORK/tunsecd-s-first.log"
tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not restart"
check "the restarted server gets an IKE SA from the client's retries" wait_for 20 established s
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping after the restart (10/10)" ping_n "$C_NS" $S_IN4 10
check "client exits 0 on SIGTERM" tsd_stop c
check "server exits 0 on SIGTERM" tsd_stop s
lib_finish
