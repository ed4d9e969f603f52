#!/bin/bash
# Road-warrior load on tunsecd as an IKEv2 responder: how fast N clients
# get their IKE SA and CHILD_SA (RFC 7296 §1.2), and what that costs the
# server in memory and CPU. A benchmark, not a test: it prints numbers and
# asserts nothing about them.
#
#   scripts/bench_rw.sh [N clients, default 10000]
#
# Namespaces rw-srv-<pid> (tunsecd, one connection "rw" with remote_addrs
# = %any, one PSK for every client identity, local_ts 0.0.0.0/0) and
# rw-cli-<pid> ($BUILD/rwload, tests/tools/rwload.c: one initiator engine
# per client), one veth pair, server 10.0.0.1/24, clients 10.0.0.2/24.
# The clients' addresses, 10.99.0.0/16, are all local in rw-cli (AnyIP:
# `ip route add local 10.99.0.0/16 dev lo`) and routed there from rw-srv.
#
# Each client asks for a virtual IPv4 address (rwload --vip: CP
# CFG_REQUEST, RFC 7296 §2.19) from the server's pool rw4, 10.96.0.0/16
# (65 534 addresses), and proposes TSi 0.0.0.0/0, which the server narrows
# to that address; rwload checks that every client got its own. VIP=0
# runs without pools: each client then proposes TSi = its host in
# 10.97.0.0/16 (rwload --inner-net), not its outer address: tunsecd routes
# a CHILD_SA's remote selector into its TUN device, and routing the
# client's own outer address there would loop the server's IKE and ESP
# datagrams to it back into the tunnel.
#
# The server keeps its defaults, strongSwan's: from 10 half-open IKE SAs
# on (cookie_threshold) every IKE_SA_INIT is answered with a COOKIE first
# (§2.6), so with CONCURRENCY 200 nearly every client pays that round trip
# (`ike cookie-sent` says how many did).
#
# Measured on the server (tunsecd's PID): VmRSS and VmHWM of
# /proc/PID/status once every client is up (before, for reference, too),
# and utime + stime of /proc/PID/stat over rwload's run, in seconds (CLK_TCK;
# sched_cpu_ms is the same from /proc/PID/task/*/schedstat, in ms, and what
# cpu_ms_per_hs divides by the handshakes). One line per measurement, the
# server's engine counters that explain refusals (`tunsec stats`' "ike"
# lines; they come last, after the per-SA lines, and today's control
# socket answers at most 256 KiB, so beyond ~250 CHILD_SAs they are cut
# off: "server_ike: (cut off)"), then cpu_ms_per_hs, then exactly
#
#   clients=N established=N failed=N hs_per_s=R rss_mb=M cpu_s=C
#
# (with VIP=1, rwload's vips=N distinct=N follow on its own line).
#
# hs_per_s is rwload's (established / time from the first initiation to
# the last CHILD_SA up). rwload and tunsecd share the machine's CPUs, so
# cpu_ms_per_hs (the server's CPU alone) is the figure to compare with
# scripts/bench_ike.sh's strongSwan. Knobs: VIP (1), CONCURRENCY (rwload
# --concurrency, 200), TIMEOUT (rwload --timeout, 300), BUILD (build),
# KEEP_WORK=1 keeps the config and the daemon log. Needs root. Everything
# it starts is stopped, and its namespaces deleted, on exit (tests/lib.sh's
# trap).
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib.sh"
N=${1:-10000}
CONCURRENCY=${CONCURRENCY:-200}
VIP=${VIP:-1}
TIMEOUT=${TIMEOUT:-300}
RWLOAD=$BUILD_DIR/rwload
case $N in '' | *[!0-9]*) echo "usage: $0 [N clients]"; exit 2 ;; esac
[ -x "$RWLOAD" ] || { echo "no $RWLOAD (make build-tests)"; exit 1; }
lib_init tsRW

NS_S=rw-srv-$$
NS_C=rw-cli-$$
ns_add "$NS_S"
ns_add "$NS_C"
veth_add "$NS_S" rwsrv0 10.0.0.1/24 "$NS_C" rwcli0 10.0.0.2/24
ip -n "$NS_C" route add local 10.99.0.0/16 dev lo
ip -n "$NS_S" route add 10.99.0.0/16 via 10.0.0.2
wait_for 5 nsx "$NS_S" ping -c 1 -W 1 10.0.0.2 || die "no link $NS_S-$NS_C"

PSK="road warrior bench $RANDOM$RANDOM$RANDOM"
printf '%s\n' "$PSK" >"$WORK/psk"
chmod 600 "$WORK/psk"
if [ "$VIP" = 1 ]; then
	CONN_POOLS="pools = rw4"
	CHILD_REMOTE=""
	POOLS=$'pools {\n\trw4 {\n\t\taddrs = 10.96.0.0/16\n\t}\n}'
	RW_TS=(--vip)
else
	CONN_POOLS=""
	CHILD_REMOTE="remote_ts = 10.97.0.0/16"
	POOLS=""
	RW_TS=(--inner-net 10.97.0.0/16)
fi
cat >"$WORK/s.conf" <<EOF
tunsec {
	interface = rwtun0
	addrs = 10.200.0.1/32
	socket = $WORK/s.sock
}
connections {
	rw {
		local_addrs = 10.0.0.1
		remote_addrs = %any
		proposals = aes256gcm16-prfsha256-x25519
		$CONN_POOLS
		local {
			auth = psk
			id = server.rw.test
		}
		remote {
			auth = psk
		}
		children {
			net {
				local_ts = 0.0.0.0/0
				$CHILD_REMOTE
				esp_proposals = aes256gcm16
			}
		}
	}
}
$POOLS
secrets {
	ike-rw {
		secret = "$PSK"
	}
}
EOF
chmod 600 "$WORK/s.conf"
tsd_start s "$NS_S" "$WORK/s.conf" || die "tunsecd did not start"
SPID=${TSD_PID[s]}
HZ=$(getconf CLK_TCK)

# utime + stime of PID in clock ticks (fields 14 and 15 of /proc/PID/stat;
# the command name may hold spaces, so count from its closing paren)
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# the same in ns, from the scheduler (all threads): finer than a tick
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ n += $1 } END { print n + 0 }'; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

echo "server_pid=$SPID idle_rss_kb=$(status_kb "$SPID" VmRSS)"
t0=$(cpu_ticks "$SPID")
n0=$(cpu_ns "$SPID")
nsx "$NS_C" "$RWLOAD" --server 10.0.0.1 --src-net 10.99.0.0/16 "${RW_TS[@]}" \
	--clients "$N" --psk-file "$WORK/psk" --server-id server.rw.test \
	--concurrency "$CONCURRENCY" --timeout "$TIMEOUT" >"$WORK/rwload.out"
t1=$(cpu_ticks "$SPID")
n1=$(cpu_ns "$SPID")
kill -0 "$SPID" 2>/dev/null || die "tunsecd exited during the run"
LINE=$(tail -n 1 "$WORK/rwload.out")
echo "rwload $LINE"
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$LINE"; }
EST=$(field established)
FAILED_N=$(field failed)
HS=$(field hs_per_s)
[ -n "$EST" ] || die "no result line from rwload"

RSS=$(status_kb "$SPID" VmRSS)
HWM=$(status_kb "$SPID" VmHWM)
SAS=$("$TUNSEC" -s "$WORK/s.sock" status | sed -n '1s/.* \([0-9]*\) IKE SAs\{0,1\},.*/\1/p')
CPU_S=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
echo "server_ike_sas=${SAS:-?}"
# what the engine refused or asked for (tunsec stats: "ike NAME VALUE")
"$TUNSEC" -s "$WORK/s.sock" stats >"$WORK/stats" 2>&1
awk '$1 == "ike" && $2 ~ /^(sas|cookie-sent|half-open-blocked|sa-full|no-connection|vip-failed|auth-failed|rx-retransmit|tx-retransmit|rx-malformed|rx-no-sa)$/ {
		printf "%s%s=%s", sep, $2, $3; sep = " " } END { print "" }' "$WORK/stats" |
	sed 's/^/server_ike: /; s/: $/: (cut off)/'
echo "rss_kb=$RSS hwm_kb=$HWM"
SCHED_MS=$(awk -v a="$n0" -v b="$n1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
echo "cpu_s=$CPU_S sched_cpu_ms=$SCHED_MS"
# per handshake from the scheduler's figure: ticks are too coarse for small N
echo "cpu_ms_per_hs=$(awk -v c="$SCHED_MS" -v n="$EST" 'BEGIN { if (n > 0) printf "%.3f", c / n; else print "n/a" }')"
[ "$VIP" = 1 ] && echo "vips=$(field vips) distinct=$(field distinct)"
echo "clients=$N established=$EST failed=$FAILED_N hs_per_s=$HS" \
	"rss_mb=$(awk -v k="$RSS" 'BEGIN { printf "%.1f", k / 1024 }') cpu_s=$CPU_S"
