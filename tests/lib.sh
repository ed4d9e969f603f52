# Shared helpers for tunsec's end-to-end scripts (tests/netns/*.sh,
# scripts/bench.sh, scripts/demo.sh). Source it, then call lib_init.
#
# Everything a script creates is recorded here and removed by one EXIT trap:
# the processes it started (killed one PID at a time, never by name), the
# network namespaces it added (deleted by name) and its scratch directory
# $WORK. Each script names its namespaces with its own prefix (tsE..., tsB,
# tsD) and works only inside them.
#
# Output: one line per check, "ok   ..." or "FAIL ...", "--   ..." for
# context, and a last line "all N checks passed" or "N of M checks failed".
#
# Environment: TUNSEC_TOP (repo root), BUILD (build dir, default "build"),
# KEEP_WORK=1 keeps $WORK (configs, daemon logs, captures) after the run,
# KEEP_ON_FAIL=1 only when the script fails; TSD_DEBUG=1 runs tunsecd -d.

set -u

TUNSEC_TOP=${TUNSEC_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) BUILD_DIR=$BUILD ;; *) BUILD_DIR=$TUNSEC_TOP/$BUILD ;; esac
TUNSECD=$BUILD_DIR/tunsecd
TUNSEC=$BUILD_DIR/tunsec
PY=/usr/bin/python3

LIB_PIDS=()	# processes started through lib_bg
LIB_NS=()	# namespaces added through ns_add
LIB_CLEANUP=()	# extra commands to run first at exit (a test's own teardown)
WORK=""
FAILED=0
CHECKS=0
declare -A TSD_PID=()	# tunsecd per side name: its PID
declare -A TSD_SOCK=()	# ... its control socket
declare -A TSD_NS=()	# ... its namespace
declare -A TSD_LOG=()	# ... its log (stderr)

# --- reporting --------------------------------------------------------------

ok() { CHECKS=$((CHECKS + 1)); echo "ok   $*"; }
bad() { CHECKS=$((CHECKS + 1)); FAILED=$((FAILED + 1)); echo "FAIL $*"; }
say() { echo "--   $*"; }
die() { echo "FAIL $*"; FAILED=$((FAILED + 1)); lib_dump_logs; exit 1; }

# check "what" cmd...: the command succeeds (returns 1 if not, so that a
# test can print what explains a failure: `check ... || say ...`)
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; return 1; fi
}

# check_ge "what" A B: integer A >= B (prints both)
check_ge() {
	if [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null; then
		ok "$1 ($2 >= $3)"
	else
		bad "$1 ($2, want >= $3)"
	fi
}

# check_eq "what" A B
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else bad "$1 (got '$2', want '$3')"; fi
}

# lib_finish: last line of every test; exit status 0 only if nothing failed.
lib_finish() {
	if [ "$FAILED" = 0 ]; then
		echo "all $CHECKS checks passed"
		exit 0
	fi
	lib_dump_logs
	echo "$FAILED of $CHECKS checks failed"
	exit 1
}

lib_dump_logs() {
	local n
	for n in "${!TSD_LOG[@]}"; do
		[ -s "${TSD_LOG[$n]}" ] || continue
		echo "--   last lines of tunsecd ($n):"
		tail -n 8 "${TSD_LOG[$n]}" | sed 's/^/     | /'
	done
}

# --- set-up and teardown ----------------------------------------------------

# lib_init TAG [no-daemon]: root, binaries, scratch dir, traps.
lib_init() {
	[ "$(id -u)" = 0 ] || { echo "SKIP/FAIL: needs root"; exit 1; }
	if [ "${2:-}" != no-daemon ]; then
		[ -x "$TUNSECD" ] || { echo "FAIL no $TUNSECD (make B=$BUILD)"; exit 1; }
		[ -x "$TUNSEC" ] || { echo "FAIL no $TUNSEC (make B=$BUILD)"; exit 1; }
	fi
	WORK=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	trap lib_cleanup EXIT
	trap 'echo "interrupted"; exit 130' INT TERM HUP
}

lib_cleanup() {
	local rc=$? pid i c
	for c in "${LIB_CLEANUP[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	for pid in "${LIB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${LIB_PIDS[@]}"; do
		for ((i = 0; i < 30; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	LIB_PIDS=()
	for ((i = ${#LIB_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${LIB_NS[$i]}" 2>/dev/null
	done
	LIB_NS=()
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ -n "${KEEP_WORK:-}" ] || { [ "$rc" != 0 ] && [ -n "${KEEP_ON_FAIL:-}" ]; }; then
			echo "--   kept $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	return "$rc"
}

# lib_bg LOGFILE cmd...: start cmd in the background, remember its PID in
# LIB_PID (and for cleanup). `ip netns exec` execs the command, so the PID
# is the command's own.
lib_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	LIB_PID=$!
	LIB_PIDS+=("$LIB_PID")
}

# lib_stop PID: SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit status.
lib_stop() {
	local pid=$1 i rc
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	local keep=() p
	for p in "${LIB_PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
	LIB_PIDS=("${keep[@]}")
	return $rc
}

# wait_for SECONDS cmd...: poll every 0.1 s until the command succeeds.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ns_add NAME: a fresh namespace with lo up. One of that name that exists
# already belongs to another run (or one that was killed): never touch it.
ns_add() {
	if [ -e "/run/netns/$1" ]; then
		die "namespace $1 exists (another run, or a killed one: ip netns del $1)"
	fi
	ip netns add "$1" || die "ip netns add $1"
	LIB_NS+=("$1")
	ip -n "$1" link set lo up
}

# veth_add NS1 IF1 ADDR1 NS2 IF2 ADDR2 (addresses with prefix length)
veth_add() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || die "veth $2/$5"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# --- topology ---------------------------------------------------------------
#
#	client C           middle M                   server S
#	C_IF 10.77.1.2 -- M_CIF 10.77.1.1   M_SIF 10.77.2.1 -- S_IF 10.77.2.2
#
# M routes between its two links (and may NAT). Inner (tunnel) addresses live
# on the TUN devices: client 10.201.1.1/32 + fd01::1/128, server 10.201.2.1/32
# + fd02::1/128; each side routes the other's /24 and /64 into its TUN.

C_UL=10.77.1.2
M_CUL=10.77.1.1
M_SUL=10.77.2.1
S_UL=10.77.2.2
C_IN4=10.201.1.1
C_IN6=fd01::1
S_IN4=10.201.2.1
S_IN6=fd02::1

# topo3 PREFIX [nat]: namespaces PREFIX-PID-c, -m, -s (the PID so that two
# runs of the suite at once do not meet) and the two links; interface names
# need no PID, they live inside the namespaces. With "nat", S gets no route
# back to 10.77.1.0/24: it only ever sees M's address.
topo3() {
	local p=$1 nat=${2:-}
	C_NS=$p-$$-c
	M_NS=$p-$$-m
	S_NS=$p-$$-s
	C_IF=${p}c0
	M_CIF=${p}m0
	M_SIF=${p}m1
	S_IF=${p}s0
	ns_add "$C_NS"
	ns_add "$M_NS"
	ns_add "$S_NS"
	veth_add "$C_NS" "$C_IF" $C_UL/24 "$M_NS" "$M_CIF" $M_CUL/24
	veth_add "$M_NS" "$M_SIF" $M_SUL/24 "$S_NS" "$S_IF" $S_UL/24
	nsx "$M_NS" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$C_NS" route add default via $M_CUL
	[ -z "$nat" ] && ip -n "$S_NS" route add default via $M_SUL
	# The server's remote_addrs: the client itself, or the NAT's outside.
	C_PEER=$S_UL
	if [ -n "$nat" ]; then S_PEER=$M_SUL; else S_PEER=$C_UL; fi
	wait_for 5 nsx "$C_NS" ping -c 1 -W 1 $M_CUL || die "no link C-M"
	wait_for 5 nsx "$S_NS" ping -c 1 -W 1 $M_SUL || die "no link M-S"
	[ -n "$nat" ] || wait_for 5 nsx "$C_NS" ping -c 1 -W 1 $S_UL || die "no route C-S"
}

# topo2 LEFT RIGHT: two namespaces joined by one veth pair, left 10.77.0.1,
# right 10.77.0.2 (the bench and the demo). The left side plays the client
# (C_*), the right the server (S_*), so pair_conf/pair_up work unchanged.
topo2() {
	C_NS=$1
	S_NS=$2
	C_IF=${1//-/}0
	S_IF=${2//-/}0
	C_UL=10.77.0.1
	S_UL=10.77.0.2
	ns_add "$C_NS"
	ns_add "$S_NS"
	veth_add "$C_NS" "$C_IF" $C_UL/24 "$S_NS" "$S_IF" $S_UL/24
	C_PEER=$S_UL
	S_PEER=$C_UL
	wait_for 5 nsx "$C_NS" ping -c 1 -W 1 $S_UL || die "no link $C_NS-$S_NS"
}

# --- keys and configs -------------------------------------------------------

# keymat_len PROPOSAL: bytes of key_in/key_out (RFC 7296 §2.17 order: cipher
# key, 4-byte salt for GCM/ChaCha20-Poly1305, then the HMAC key).
keymat_len() {
	local p=${1%-esn}
	p=${p%-noesn}
	case $p in
	aes128gcm16 | aes128gcm) echo 20 ;;
	aes192gcm16 | aes192gcm) echo 28 ;;
	aes256gcm16 | aes256gcm) echo 36 ;;
	chacha20poly1305) echo 36 ;;
	aes*-sha*)
		local enc=${p%%-*} mac=${p#*-} e m
		e=$((${enc#aes} / 8))
		case $mac in
		sha256 | sha2_256) m=32 ;;
		sha384 | sha2_384) m=48 ;;
		sha512 | sha2_512) m=64 ;;
		*) return 1 ;;
		esac
		echo $((e + m))
		;;
	*) return 1 ;;
	esac
}

# rand_hex N: N random bytes as 0x-prefixed hex
rand_hex() {
	echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

# conf_side FILE SIDE IFNAME ADDRS LOCAL REMOTE PROPOSAL ENCAP SPI_IN SPI_OUT
#           KEY_IN KEY_OUT LOCAL_TS REMOTE_TS
# writes one tunsecd config; the control socket is $WORK/SIDE.sock. Extra
# lines: $TSEC_EXTRA (tunsec section), $MAN_EXTRA (the manual tunnel).
conf_side() {
	# (not <<-: the file keeps its tabs, the demo shows it)
	cat >"$1" <<EOF
# generated by tests/lib.sh for side $2
tunsec {
	interface = $3
	addrs = $4
	socket = $WORK/$2.sock${TSEC_EXTRA:+
	$TSEC_EXTRA}
}
manual {
	gw {
		local_addrs = $5
		remote_addrs = $6
		encap = $8
		esp_proposals = $7
		spi_in = $9
		spi_out = ${10}
		key_in = ${11}
		key_out = ${12}
		local_ts = ${13}
		remote_ts = ${14}${MAN_EXTRA:+
		$MAN_EXTRA}
	}
}
EOF
	chmod 600 "$1"
}

# pair_conf PROPOSAL ENCAP: configs for both sides, $WORK/c.conf and
# $WORK/s.conf, with fresh random keys and SPIs; the server mirrors the
# client. C_EXTRA / S_EXTRA: extra manual lines for one side only;
# TSEC_EXTRA for both tunsec sections.
pair_conf() {
	local prop=$1 encap=$2 len k1 k2 s1 s2
	len=$(keymat_len "$prop") || die "keymat_len: unknown proposal $prop"
	k1=$(rand_hex "$len")
	k2=$(rand_hex "$len")
	# SPIs >= 256 (RFC 4303 §2.1), fresh per run so a stale capture never
	# matches a new SA by accident
	s1=$(printf '0x%08x' $((0x10000 + RANDOM)))
	s2=$(printf '0x%08x' $((0x20000 + RANDOM)))
	MAN_EXTRA=${C_EXTRA:-} conf_side "$WORK/c.conf" c tsc0 "$C_IN4/32, $C_IN6/128" \
		$C_UL "$C_PEER" "$prop" "$encap" "$s1" "$s2" "$k1" "$k2" \
		"10.201.1.0/24, fd01::/64" "10.201.2.0/24, fd02::/64"
	MAN_EXTRA=${S_EXTRA:-} conf_side "$WORK/s.conf" s tss0 "$S_IN4/32, $S_IN6/128" \
		$S_UL "$S_PEER" "$prop" "$encap" "$s2" "$s1" "$k2" "$k1" \
		"10.201.2.0/24, fd02::/64" "10.201.1.0/24, fd01::/64"
	SPI_C_IN=$s1
	SPI_S_IN=$s2
}

# ike_conf FILE SIDE IF ADDRS LOCAL REMOTE LID RID LTS RTS START: an IKEv2
# PSK connection "gw" with child "net" (swanctl.conf key names). $PSK is the
# secret; IKE_PROPOSALS and ESP_PROPOSALS pick the suites (default
# aes256gcm16-prfsha256-curve25519 and aes256gcm16-curve25519, PFS on
# rekeys); TSEC_EXTRA, CONN_EXTRA and CHILD_EXTRA add lines (newline-
# separated) to the tunsec section, the connection and the child.
ike_conf() {
	cat >"$1" <<EOF
tunsec {
	interface = $3
	addrs = $4
	socket = $WORK/$2.sock${TSEC_EXTRA:+
$TSEC_EXTRA}
}
connections {
	gw {
		local_addrs = $5
		remote_addrs = $6
		proposals = ${IKE_PROPOSALS:-aes256gcm16-prfsha256-curve25519}${CONN_EXTRA:+
$CONN_EXTRA}
		local {
			auth = psk
			id = $7
		}
		remote {
			auth = psk
			id = $8
		}
		children {
			net {
				local_ts = $9
				remote_ts = ${10}
				esp_proposals = ${ESP_PROPOSALS:-aes256gcm16-curve25519}
				start_action = ${11}${CHILD_EXTRA:+
$CHILD_EXTRA}
			}
		}
	}
}
secrets {
	ike-gw {
		id = $8
		secret = "$PSK"
	}
}
EOF
	chmod 600 "$1"
}

# --- the daemon -------------------------------------------------------------

# tsd_start SIDE NS CONF: run tunsecd in NS, wait until its control socket
# answers. Fails (returns 1, with the log) if it exits or never answers.
tsd_start() {
	local side=$1 ns=$2 conf=$3 sock
	sock=$(sed -n 's/^[[:space:]]*socket = //p' "$conf" | head -1)
	TSD_LOG[$side]=$WORK/tunsecd-$side.log
	TSD_SOCK[$side]=$sock
	TSD_NS[$side]=$ns
	lib_bg "${TSD_LOG[$side]}" ip netns exec "$ns" "$TUNSECD" -c "$conf" ${TSD_DEBUG:+-d}
	TSD_PID[$side]=$LIB_PID
	if ! wait_for 10 tsd_alive "$side"; then
		echo "--   tunsecd ($side) did not come up:"
		sed 's/^/     | /' "${TSD_LOG[$side]}" | tail -n 15
		return 1
	fi
}

tsd_alive() {
	kill -0 "${TSD_PID[$1]}" 2>/dev/null && "$TUNSEC" -s "${TSD_SOCK[$1]}" version >/dev/null 2>&1
}

# tsd_stop SIDE: SIGTERM; returns tunsecd's exit status.
tsd_stop() {
	[ -n "${TSD_PID[$1]:-}" ] || return 0
	lib_stop "${TSD_PID[$1]}"
	local rc=$?
	TSD_PID[$1]=""
	return $rc
}

# tsc SIDE COMMAND: the CLI against that side's daemon
tsc() { "$TUNSEC" -s "${TSD_SOCK[$1]}" "$2"; }

# tstat SIDE SCOPE COUNTER: one counter from `tunsec stats` (empty if absent)
tstat() {
	"$TUNSEC" -s "${TSD_SOCK[$1]}" stats 2>/dev/null |
		awk -v s="$2" -v c="$3" '$1 == s && $2 == c { print $3; exit }'
}

# check_stat "what" SIDE SCOPE COUNTER MIN: the counter reaches MIN within
# 5 s (packets may still be in flight)
check_stat() {
	local i v
	for ((i = 0; i < 50; i++)); do
		v=$(tstat "$2" "$3" "$4")
		[ -n "$v" ] && [ "$v" -ge "$5" ] && break
		sleep 0.1
	done
	check_ge "$1" "$v" "$5"
}

# tsum SIDE SCOPE COUNTER...: the sum of several counters (empty if any is
# missing, so that a check on it fails rather than passes)
tsum() {
	local side=$1 scope=$2 c v sum=0
	shift 2
	for c in "$@"; do
		v=$(tstat "$side" "$scope" "$c")
		[ -n "$v" ] || { echo ""; return; }
		sum=$((sum + v))
	done
	echo $sum
}

# pair_up PROPOSAL ENCAP: configs, both daemons, and the first ping through
# the tunnel (each side's SA is static, so no handshake: the first packet
# already flows).
pair_up() {
	pair_conf "$1" "$2"
	tsd_start s "$S_NS" "$WORK/s.conf" || return 1
	tsd_start c "$C_NS" "$WORK/c.conf" || return 1
	wait_for 5 nsx "$C_NS" ping -n -c 1 -W 1 $S_IN4 ||
		{ echo "--   no ping through the tunnel"; return 1; }
}

pair_down() {
	local rc=0
	tsd_stop c || rc=1
	tsd_stop s || rc=1
	return $rc
}

# --- traffic ----------------------------------------------------------------

# ping_n NS DST COUNT: quiet ping; prints ping's summary lines; 0 if all
# replies came back.
ping_n() {
	local out
	# -w, not -W: once one reply is in, -W waits only two round trips
	# for the rest, so on a loaded machine a late reply counted as lost;
	# with -w every reply has until the deadline (a lost one is still lost)
	out=$(nsx "$1" ping -n -q -c "$3" -i 0.05 -w $((2 + ($3 + 19) / 20)) "$2" 2>&1)
	echo "$out" | grep -E 'packets transmitted|rtt' | sed 's/^/     /'
	echo "$out" | grep -q " $3 received"
}

# iperf_srv NS: one iperf3 server on :: (IPv4 and IPv6) for the whole test.
iperf_srv() {
	lib_bg "$WORK/iperf3-srv.log" ip netns exec "$1" iperf3 -s -p 5201
	IPERF_SRV=$LIB_PID
	wait_for 5 sh -c "ip netns exec $1 ss -ltnH 'sport = :5201' | grep -q ." ||
		die "iperf3 server did not start: $(cat "$WORK/iperf3-srv.log")"
}

# iperf_c NS DST TIMEOUT iperf3-args...: run a client with -J, print one
# summary line; sets IPERF_SENT (bytes the sender wrote), IPERF_BYTES (what
# the server's iperf3 counted), IPERF_TUN (bytes the server's tunsecd
# decrypted meanwhile, if one runs as side "s"), IPERF_MBPS, IPERF_RETR,
# IPERF_SECS. Returns 0 if iperf3 succeeded.
iperf_c() {
	local ns=$1 dst=$2 to=$3 j t0=""
	shift 3
	j=$WORK/iperf3-$RANDOM.json
	[ -n "${TSD_PID[s]:-}" ] && t0=$(tstat s gw/in bytes)
	timeout "$to" ip netns exec "$ns" iperf3 -c "$dst" -p 5201 -J "$@" >"$j" 2>"$j.err"
	local rc=$?
	IPERF_TUN=""
	[ -n "$t0" ] && IPERF_TUN=$(($(tstat s gw/in bytes) - t0))
	IPERF_BYTES=$(jq -r '.end.sum_received.bytes // empty' "$j" 2>/dev/null)
	IPERF_SENT=$(jq -r '.end.sum_sent.bytes // empty' "$j" 2>/dev/null)
	IPERF_MBPS=$(jq -r '.end.sum_received.bits_per_second // empty' "$j" 2>/dev/null |
		awk '{printf "%.0f", $1 / 1e6}')
	IPERF_RETR=$(jq -r '.end.sum_sent.retransmits // empty' "$j" 2>/dev/null)
	IPERF_SECS=$(jq -r '.end.sum_received.seconds // empty' "$j" 2>/dev/null |
		awk '{printf "%.1f", $1}')
	if [ $rc != 0 ] || [ -z "$IPERF_BYTES" ]; then
		echo "--   iperf3 -c $dst $* failed (rc $rc):" \
			"$(jq -r '.error // empty' "$j" 2>/dev/null) $(head -c 300 "$j.err")"
		return 1
	fi
	local tun=${IPERF_TUN:+, server tunnel decrypted $IPERF_TUN bytes}
	say "iperf3 -c $dst $*: $IPERF_SENT bytes sent, $IPERF_BYTES received in" \
		"${IPERF_SECS}s, $IPERF_MBPS Mbit/s, $IPERF_RETR retransmits$tun"
}

# check_tcp WHAT MIB NS DST TIMEOUT [iperf3-args]: an iperf3 TCP transfer
# of MIB MiB (-n) completes in time, and the server's tunsecd decrypted at
# least what the server's iperf3 counted. (iperf3 closes the data stream as
# soon as its sender is done, so the server never reads the last in-flight
# window: for whole delivery see check_xfer.)
check_tcp() {
	local what=$1 n=$2
	shift 2
	if ! iperf_c "$1" "$2" "$3" -n "${n}M" "${@:4}"; then
		bad "$what: iperf3 TCP ${n} MiB did not complete"
		return 1
	fi
	check_ge "$what: iperf3 sent ${n} MiB and completed" "$IPERF_SENT" "$(mib "$n")"
	[ -n "$IPERF_TUN" ] && check_ge "$what: server tunnel decrypted >= what iperf3 received" \
		"$IPERF_TUN" "$IPERF_BYTES"
	return 0
}

# check_xfer WHAT SRC_NS DST_NS DST MIB: MIB MiB of random bytes over one TCP
# connection from SRC_NS to DST:5301 in DST_NS arrive whole and intact (byte
# count and SHA-256 on both ends).
check_xfer() {
	cat >"$WORK/xfer.py" <<-'PYEOF'
	import hashlib, os, socket, sys
	h = hashlib.sha256()
	n = 0
	if sys.argv[1] == "recv":
	    fam = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
	    ls = socket.socket(fam, socket.SOCK_STREAM)
	    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    ls.bind((sys.argv[2], 5301))
	    ls.listen(1)
	    print("listening", flush=True)
	    ls.settimeout(30)
	    c, _ = ls.accept()
	    c.settimeout(30)
	    while True:
	        b = c.recv(1 << 16)
	        if not b:
	            break
	        h.update(b)
	        n += len(b)
	else:
	    c = socket.create_connection((sys.argv[2], 5301), timeout=30)
	    left = int(sys.argv[3])
	    while left:
	        b = os.urandom(min(left, 1 << 16))
	        c.sendall(b)
	        h.update(b)
	        n += len(b)
	        left -= len(b)
	    c.shutdown(socket.SHUT_WR)
	    c.recv(1)  # the receiver closes after EOF: everything was read
	c.close()
	print(n, h.hexdigest(), flush=True)
	PYEOF
	local what=$1 src=$2 dst=$3 addr=$4 bytes rx tx pid out
	bytes=$(mib "$5")
	# a new file each time: the background job creates it only later, and an
	# old one would already say "listening"
	out=$(mktemp "$WORK/xfer-rx.XXXXXX")
	lib_bg "$out" ip netns exec "$dst" "$PY" "$WORK/xfer.py" recv "$addr"
	pid=$LIB_PID
	wait_for 5 grep -q listening "$out" ||
		{ bad "$what: receiver did not start"; return 1; }
	tx=$(timeout 60 ip netns exec "$src" "$PY" "$WORK/xfer.py" send "$addr" "$bytes" 2>&1 | tail -1)
	wait "$pid" 2>/dev/null
	rx=$(tail -1 "$out")
	if [ -n "$tx" ] && [ "$tx" = "$rx" ] && [ "${tx%% *}" = "$bytes" ]; then
		local sum=${tx#* }
		ok "$what: $5 MiB of random data arrived intact (sha256 ${sum:0:16}...)"
	else
		bad "$what: $5 MiB transfer: sent '$tx', received '$rx'"
	fi
}

# mib N: N MiB in bytes (iperf3 -n 100M is 100 * 2^20)
mib() { echo $(($1 * 1048576)); }

# --- impairments without sch_netem -------------------------------------------
#
# Some kernels (this project's CI among them) lack sch_netem. Loss and
# duplication then come from iptables (statistic match, TEE target) and
# reordering from nfq_delay: a small NFQUEUE listener that holds each packet
# it is given for a random MIN..MAX ms before accepting it, so the packets
# not queued overtake it.

# nfq_delay NS QUEUE MIN_MS MAX_MS: start the listener in NS (PID in LIB_PID);
# it prints "bound" once the queue is bound and, at exit, how many packets
# it delayed.
nfq_delay() {
	cat >"$WORK/nfq_delay.py" <<-'PYEOF'
	# nfnetlink_queue (linux/netfilter/nfnetlink_queue.h) spoken directly,
	# metadata only: the verdict needs just the packet id.
	import heapq, os, random, select, signal, socket, struct, sys, time
	queue, lo, hi = int(sys.argv[1]), float(sys.argv[2]) / 1e3, float(sys.argv[3]) / 1e3
	NETLINK_NETFILTER = 12
	SUBSYS_QUEUE = 3
	MSG_PACKET, MSG_VERDICT, MSG_CONFIG = 0, 1, 2
	NLM_F_REQUEST = 1
	CFG_CMD, CFG_PARAMS = 1, 2
	CMD_BIND = 1
	COPY_META = 1
	PACKET_HDR, VERDICT_HDR = 1, 2
	NF_ACCEPT = 1
	s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
	s.bind((0, 0))
	seq = 0
	def attr(t, payload):
	    a = struct.pack("=HH", 4 + len(payload), t) + payload
	    return a + b"\0" * (-len(a) % 4)
	def send(msg, payload, flags=0):
	    global seq
	    seq += 1
	    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + payload
	    hdr = struct.pack("=IHHII", 16 + len(body), SUBSYS_QUEUE << 8 | msg,
	                      NLM_F_REQUEST | flags, seq, 0)
	    s.send(hdr + body)
	def config(payload):
	    # with an acknowledgement: a queue we could not bind is an error,
	    # not a listener that never sees a packet
	    NLM_F_ACK, NLMSG_ERROR = 4, 2
	    send(MSG_CONFIG, payload, NLM_F_ACK)
	    buf = s.recv(65536)
	    ln, typ = struct.unpack_from("=IH", buf, 0)
	    err = struct.unpack_from("=i", buf, 16)[0] if typ == NLMSG_ERROR else 0
	    if err:
	        print("config failed: %s" % os.strerror(-err), flush=True)
	        sys.exit(1)
	CFG_MASK, CFG_FLAGS, F_FAIL_OPEN = 4, 5, 1  # NFQA_CFG_MASK, NFQA_CFG_FLAGS
	config(attr(CFG_CMD, struct.pack("!BxH", CMD_BIND, 0)))
	config(attr(CFG_PARAMS, struct.pack("!IB", 0, COPY_META)))
	# Fail open: a packet the queue cannot take goes on undelayed, never
	# dropped (the tests count every packet; the listener must lose none).
	config(attr(CFG_FLAGS, struct.pack("!I", F_FAIL_OPEN)) +
	       attr(CFG_MASK, struct.pack("!I", F_FAIL_OPEN)))
	held, n, released, overflows = [], 0, 0, 0
	def verdict(pid):
	    global released
	    send(MSG_VERDICT, attr(VERDICT_HDR, struct.pack("!II", NF_ACCEPT, pid)))
	    released += 1
	# SIGTERM only raises a flag (through the wakeup pipe, so that select
	# returns): a handler that released packets itself could run between
	# a recv() and the loop that queues what it received, and those would
	# never get a verdict.
	stop = False
	def on_term(*_):
	    global stop
	    stop = True
	wr, ww = os.pipe()
	os.set_blocking(ww, False)
	signal.set_wakeup_fd(ww)
	def finish():
	    # The caller removed its NFQUEUE rule first. Packets still waiting
	    # in the socket would be dropped by the kernel when it closes (a
	    # loss the test did not ask for): take them, then release all.
	    while select.select([s], [], [], 0.05)[0]:
	        take()
	    for _, pid in held:
	        verdict(pid)
	    print("delayed %d packets, released %d, socket overflows %d" % (n, released, overflows),
	          flush=True)
	    os._exit(0)
	def take():
	    global n, overflows
	    while True:
	        try:
	            buf = s.recv(65536, socket.MSG_DONTWAIT)
	        except BlockingIOError:
	            break
	        except OSError:  # ENOBUFS: fail-open let those through
	            overflows += 1
	            continue
	        off = 0
	        while off + 16 <= len(buf):
	            ln, typ = struct.unpack_from("=IH", buf, off)
	            if ln < 16:
	                break
	            if typ == SUBSYS_QUEUE << 8 | MSG_PACKET:
	                a = off + 20
	                while a + 4 <= off + ln:
	                    alen, atyp = struct.unpack_from("=HH", buf, a)
	                    if alen < 4:
	                        break
	                    if atyp & 0x7fff == PACKET_HDR:
	                        pid = struct.unpack_from("!I", buf, a + 4)[0]
	                        heapq.heappush(held, (time.monotonic() + random.uniform(lo, hi), pid))
	                        n += 1
	                    a += (alen + 3) & ~3
	            off += (ln + 3) & ~3
	signal.signal(signal.SIGTERM, on_term)
	signal.signal(signal.SIGINT, on_term)
	print("bound", flush=True)
	while True:
	    if stop:
	        finish()
	    now = time.monotonic()
	    while held and held[0][0] <= now:
	        verdict(heapq.heappop(held)[1])
	    wait = max(0.0, held[0][0] - now) if held else 1.0
	    ready = select.select([s, wr], [], [], wait)[0]
	    if wr in ready:
	        os.read(wr, 64)
	    if s in ready:
	        take()
	PYEOF
	lib_bg "$WORK/nfq_delay.log" ip netns exec "$1" "$PY" -u "$WORK/nfq_delay.py" "$2" "$3" "$4"
	NFQ_PID=$LIB_PID
	wait_for 5 grep -q bound "$WORK/nfq_delay.log"
}
