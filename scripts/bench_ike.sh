#!/bin/bash
# IKEv2 handshake speed: tunsec's engine against strongSwan 5.9's charon.
# One handshake = IKE_SA_INIT + IKE_AUTH with the first CHILD_SA (RFC 7296
# §1.2), both ends' work.
#
#   tunsec      $BUILD/ike_hs_bench (tests/tools/ike_hs_bench.c): both
#               engines in one process pinned to CPU $CPU, datagrams
#               passed in memory; PSK with each group of $IKE_GROUPS. Figures:
#               µs of CPU per handshake (initiator + responder) and
#               handshakes/s sustained on that one core (each handshake
#               followed by its IKE SA's Delete exchange).
#   strongSwan  two charons (hsb-<pid>-l, hsb-<pid>-r, one veth pair), both
#               pinned to CPU $SS_CPU, SAs installed by $SS_KERNEL; $SS_N
#               handshakes per repetition, each `swanctl --initiate` then
#               `--terminate`. Figures: charon's own log on the initiator
#               ("initiating IKE_SA" -> "CHILD_SA ... established", ms
#               resolution; median), swanctl --initiate wall time (median;
#               includes swanctl's start-up and vici), and the CPU time of
#               both charons over the whole loop per handshake (all
#               threads, /proc/<pid>/task/*/schedstat; includes the Delete
#               exchange and vici, as tunsec's hs/s includes the Delete).
#               PSK with each group of $IKE_GROUPS, and ECDSA P-256
#               certificates made by `pki` (with curve25519).
#   EAP rows    a road-warrior server's real cost, a login (RFC 7296 §2.16;
#               curve25519 both): the responder proves itself with its ECDSA
#               certificate, the initiator logs in with each EAP method of
#               $EAP_METHODS: eap-mschapv2 (user carol, a password) or
#               eap-tls (the client's own ECDSA certificate); the server
#               asks for the EAP identity (eap_id = %any). tunsec's EAP
#               rounds are answered by the daemon's code (daemon/eapauth.c),
#               charon's by its eap-identity, eap-mschapv2, eap-tls plugins.
#
# One line per measurement, then medians over $RUNS repetitions and a table
# with the ratios strongSwan / tunsec: log/ts is charon's handshake latency
# over tunsec's CPU time per handshake (us_hs); cpu/ts is both charons' CPU
# per handshake + Delete over tunsec's time per handshake + Delete on its
# one core (1 / hs_per_s), i.e. how many tunsec cycles fit in one of
# strongSwan's.
#
#   name=tunsec-psk-curve25519 test=us_hs value=210.3 unit=us rep=1
#   name=tunsec-eap-mschapv2 test=us_hs value=686.3 unit=us rep=1
#
# Knobs: RUNS (3), HS_N (1000 tunsec handshakes per run; a fifth of it for
#        MODP groups, a tenth for eap-tls), SS_N (30), IKE_GROUPS
#        ("curve25519 ecp256 modp2048"), EAP_METHODS ("eap-mschapv2
#        eap-tls"; "" for none),
#        CPU (1), SS_CPU (the charons' CPU: $CPU; "all" leaves them
#        unpinned, as the anchors' ~5 ms figure was taken), ONLY ("tunsec strongswan"), SS_KERNEL (libipsec, as
#        /work/shared/anchors does, or netlink: kernel XFRM in the
#        namespace), BUILD (build), OUT (/tmp/tunsec-bench-ike-<date>.txt),
#        KEEP_WORK=1 keeps the charon configs and logs.
# The ECDSA and EAP rows need strongSwan's pki for the certificates (both
# sides use the same ones); tunsec's say "n/a" if ike_hs_bench -a fails.
# Needs root for strongSwan (strongswan-charon strongswan-swanctl
# strongswan-pki, libstrongswan-standard-plugins); a missing strongSwan is
# reported and skipped.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
HS_N=${HS_N:-1000}
SS_N=${SS_N:-30}
IKE_GROUPS=${IKE_GROUPS:-curve25519 ecp256 modp2048}
EAP_METHODS=${EAP_METHODS-eap-mschapv2 eap-tls}
EAP_PW="carol pw" # the EAP user carol's password, as in ike_hs_bench.c
CPU=${CPU:-1}
SS_CPU=${SS_CPU:-$CPU}
ONLY=${ONLY:-tunsec strongswan}
SS_KERNEL=${SS_KERNEL:-libipsec}
BUILD=${BUILD:-build}
KEEP_WORK=${KEEP_WORK:-}
CHARON=${CHARON:-/usr/lib/ipsec/charon}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-/tmp/tunsec-bench-ike-$STAMP.txt}
case $BUILD in /*) BUILD_DIR=$BUILD ;; *) BUILD_DIR=$TOP/$BUILD ;; esac
BENCH=$BUILD_DIR/ike_hs_bench

NS_L=hsb-$$-l
NS_R=hsb-$$-r
UL_L=10.78.0.1
UL_R=10.78.0.2
WORK=""
PIDS=()
NSS=()

want() { [[ " $ONLY " == *" $1 "* ]]; }
note() { echo "# $*" >&2; }
median() { sort -g | awk '{a[NR]=$1} END{if (NR) print a[int((NR+1)/2)]; else print "NaN"}'; }

cleanup() {
	local pid ns
	# only the charons this script started, one PID at a time
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	for ns in "${NSS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$WORK" ]; then
		if [ -n "$KEEP_WORK" ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$OUT"
REP=0
emit() { # name test value unit
	local line="name=$1 test=$2 value=$3 unit=$4 rep=$REP"
	echo "$line"
	echo "$line" >>"$OUT"
}

# --- tunsec ------------------------------------------------------------------

# A handshake count: MODP is ~10x slower than the curves, EAP-TLS (its TLS
# handshake in mbedTLS) ~100x.
hs_n() { # group auth
	local d=1
	case $1 in modp*) d=5 ;; esac
	[ "$2" = eap-tls ] && d=10
	echo $((HS_N / d > 0 ? HS_N / d : 1))
}

# The one line of ike_hs_bench's medians, or nothing.
tunsec_run() { # group auth
	taskset -c "$CPU" "$BENCH" -n "$(hs_n "$1" "$2")" -r 1 -g "$1" -a "$2" -C "$WORK/pki" \
		2>"$WORK/bench.err" |
		grep '^median '
}

field() { # line key
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

# One run of ike_hs_bench, emitted as row NAME.
tunsec_emit() { # name group auth
	local line t
	line=$(tunsec_run "$2" "$3")
	if [ -z "$line" ]; then
		note "ike_hs_bench -g $2 -a $3 failed: $(tail -3 "$WORK/bench.err" | tr '\n' ' ')"
		return 1
	fi
	for t in us_hs us_init us_resp; do
		emit "$1" $t "$(field "$line" $t)" us
	done
	emit "$1" hs_per_s "$(field "$line" hs_per_s)" 1/s
}

TS_ECDSA=""
TS_EAP=""
if want tunsec; then
	if [ ! -x "$BENCH" ]; then
		note "building $BENCH"
		make -C "$TOP" B="$BUILD" "$BUILD/ike_hs_bench" >/dev/null ||
			{ echo "make $BUILD/ike_hs_bench failed"; exit 1; }
	fi
fi

# --- strongSwan --------------------------------------------------------------

SS_OK=""
ss_conf() { # side
	local side=$1 d="$WORK/$1" load
	local kernel="kernel-libipsec kernel-netlink" eap=""
	[ "$SS_KERNEL" = netlink ] && kernel="kernel-netlink"
	[ -n "$EAP_METHODS" ] && eap=" eap-identity $EAP_METHODS"
	mkdir -p "$d/run"
	cat >"$d/strongswan.conf" <<-EOF
	swanctl {
		load = pem pkcs1 pkcs8 x509 openssl random
	}
	charon {
		# explicit list: kdf is needed (5.9.8 prf+); kernel-libipsec
		# before kernel-netlink; the rest parses and checks certificates
		# (EAP-MSCHAPv2's MD4 and DES: openssl's legacy provider)
		load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey constraints kdf hmac sha2 $kernel socket-default vici$eap
		install_routes = yes
		port = 500
		port_nat_t = 4500
		filelog {
			log {
				path = $d/charon.log
				time_format = %T
				time_add_ms = yes
				flush_line = yes
				default = 1
			}
		}
		syslog {
		}
		plugins {
			vici {
				socket = unix:///run/charon.vici
			}
		}
	}
	EOF
}

# ss_conn NAME PROPOSALS SIDE: one swanctl.conf connection as SIDE (l or
# r) sees it; AUTH (psk, pubkey, eap-mschapv2 or eap-tls) picks the
# authentication.
ss_conn() {
	local me=$UL_L peer=$UL_R id=vl.hsb pid=vr.hsb net=10.211.1.0/24 pnet=10.211.2.0/24
	local cert=l.crt local remote
	if [ "$3" = r ]; then
		me=$UL_R peer=$UL_L id=vr.hsb pid=vl.hsb net=10.211.2.0/24 pnet=10.211.1.0/24
		cert=r.crt
	fi
	if [ "$AUTH" = pubkey ]; then
		# the certificates name moon.hsb (l) and sun.hsb (r)
		[ "$3" = r ] && id=sun.hsb pid=moon.hsb || { id=moon.hsb pid=sun.hsb; }
		local="auth = pubkey
				certs = $cert
				id = $id"
		remote="auth = pubkey
				cacerts = ca.crt
				id = $pid"
	elif [ "$AUTH" != psk ]; then
		# a login: the client (l) has an IKE ID of its own, which no
		# other connection of r fits (carol.hsb; for EAP-TLS dave.hsb,
		# whom c.crt names: charon's EAP identity is then its IKE ID)
		local cid=carol.hsb login="eap_id = carol"
		[ "$AUTH" = eap-tls ] && cid=dave.hsb login="certs = c.crt"
		if [ "$3" = r ]; then
			local="auth = pubkey
				certs = r.crt
				id = sun.hsb"
			remote="auth = $AUTH
				id = $cid
				eap_id = %any"
			[ "$AUTH" = eap-tls ] && remote+="
				cacerts = ca.crt"
		else
			local="auth = $AUTH
				id = $cid
				$login"
			remote="auth = pubkey
				cacerts = ca.crt
				id = sun.hsb"
		fi
	else
		local="auth = psk
				id = $id"
		remote="auth = psk
				id = $pid"
	fi
	cat <<-EOF
		$1 {
			version = 2
			local_addrs = $me
			remote_addrs = $peer
			proposals = $2
			dpd_delay = 0
			local { $local }
			remote { $remote }
			children { net { local_ts = $net
					remote_ts = $pnet
					esp_proposals = aes128gcm16 } }
		}
	EOF
}

# swanctl.conf of both sides. Initiator (l): one connection per group, one
# ECDSA connection and one per EAP method; responder (r): one PSK, one
# ECDSA and one per EAP method, that accept every group (charon picks the
# peer config by identity).
ss_swanctl() {
	local g m all="" side conns
	for g in $IKE_GROUPS; do
		all+="-$g"
	done
	for side in l r; do
		conns=""
		if [ $side = l ]; then
			for g in $IKE_GROUPS; do
				conns+=$(AUTH=psk ss_conn "psk-$g" "aes128gcm16-prfsha256-$g" l)$'\n'
			done
			conns+=$(AUTH=pubkey ss_conn ecdsa aes128gcm16-prfsha256-curve25519 l)
			for m in $EAP_METHODS; do
				conns+=$'\n'$(AUTH=$m ss_conn "$m" aes128gcm16-prfsha256-curve25519 l)
			done
		else
			conns+=$(AUTH=psk ss_conn psk "aes128gcm16-prfsha256$all" r)$'\n'
			conns+=$(AUTH=pubkey ss_conn ecdsa "aes128gcm16-prfsha256$all" r)
			for m in $EAP_METHODS; do
				conns+=$'\n'$(AUTH=$m ss_conn "$m" "aes128gcm16-prfsha256$all" r)
			done
		fi
		cat >"$WORK/$side/swanctl.conf" <<-EOF
		connections {
		$conns
		}
		secrets {
			ike-psk { id-a = vl.hsb
				id-b = vr.hsb
				secret = 0x$PSK }
			eap-carol { id = carol
				secret = "$EAP_PW" }
		}
		EOF
	done
}

# ECDSA P-256 with strongSwan's pki, into $WORK/pki: a CA (ca.crt) and one
# certificate per side, subjectAltName = the identity (l: moon.hsb, r:
# sun.hsb; c: dave.hsb, the EAP-TLS client), as ike_hs_bench -a ecdsa and
# -a eap-tls -C want them.
make_pki() {
	local p="$WORK/pki" s cn
	command -v pki >/dev/null || return 1
	mkdir -p "$p"
	pki --gen --type ecdsa --size 256 --outform pem >"$p/ca.key" 2>>"$p/pki.err" &&
		pki --self --ca --lifetime 2 --in "$p/ca.key" --type ecdsa \
			--dn "CN=tunsec bench CA" --outform pem >"$p/ca.crt" 2>>"$p/pki.err" || return 1
	for s in l r c; do
		cn=moon.hsb
		[ $s = r ] && cn=sun.hsb
		[ $s = c ] && cn=dave.hsb
		pki --gen --type ecdsa --size 256 --outform pem >"$p/$s.key" 2>>"$p/pki.err" &&
			pki --pub --in "$p/$s.key" --type ecdsa 2>>"$p/pki.err" |
			pki --issue --lifetime 2 --cacert "$p/ca.crt" --cakey "$p/ca.key" \
				--type pub --dn "CN=$cn" --san "$cn" --outform pem \
				>"$p/$s.crt" 2>>"$p/pki.err" || return 1
	done
}

# The same certificates in the swanctl directory layout next to each side's
# swanctl.conf (x509/, x509ca/, ecdsa/), where swanctl --load-all finds them.
ss_pki() {
	local s
	[ -s "$WORK/pki/r.crt" ] || return 1
	for s in l r; do
		mkdir -p "$WORK/$s/x509" "$WORK/$s/x509ca" "$WORK/$s/ecdsa"
		cp "$WORK/pki/ca.crt" "$WORK/$s/x509ca/ca.crt"
		cp "$WORK/pki/$s.crt" "$WORK/$s/x509/$s.crt"
		cp "$WORK/pki/$s.key" "$WORK/$s/ecdsa/$s.key"
	done
	cp "$WORK/pki/c.crt" "$WORK/l/x509/c.crt"
	cp "$WORK/pki/c.key" "$WORK/l/ecdsa/c.key"
}

ss_start() { # side ns
	local d="$WORK/$1" pid
	local pin=(taskset -c "$SS_CPU")
	[ "$SS_CPU" = all ] && pin=()
	"${pin[@]}" ip netns exec "$2" unshare -m --propagation private sh -c \
		"mount --bind '$d/run' /run && exec env STRONGSWAN_CONF='$d/strongswan.conf' '$CHARON'" \
		>"$d/charon.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	eval "PID_$1=$pid"
	for _ in $(seq 100); do
		[ -S "$d/run/charon.vici" ] && return 0
		sleep 0.1
	done
	note "charon in $2 did not open vici: $(tail -3 "$d/charon.out" "$d/charon.log" 2>/dev/null | tr '\n' ' ')"
	return 1
}

sw() { # side --command [args...]   (swanctl wants --uri after the command)
	local d="$WORK/$1" cmd=$2
	shift 2
	STRONGSWAN_CONF="$d/strongswan.conf" swanctl "$cmd" --uri "unix://$d/run/charon.vici" "$@"
}

# CPU time in ns of every thread of a process so far.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END{printf "%.0f", s}'
}

# ms from "initiating IKE_SA" to "CHILD_SA ... established" in the
# initiator's log lines after line $1: charon's own view of one handshake.
log_hs_ms() {
	tail -n +"$(($1 + 1))" "$WORK/l/charon.log" | awk '
		function t(s,  a) { split(s, a, /[:.]/); return ((a[1]*60 + a[2])*60 + a[3])*1000 + a[4] }
		/initiating IKE_SA/ && !s { s = t($1) }
		/CHILD_SA .* established/ && s { printf "%d", t($1) - s; exit }'
}

ss_setup() {
	local ns
	command -v swanctl >/dev/null && command -v pki >/dev/null && [ -x "$CHARON" ] ||
		{ note "strongSwan (charon, swanctl, pki) not installed: skipped"; return 1; }
	[ "$(id -u)" = 0 ] || { note "strongSwan needs root: skipped"; return 1; }
	for ns in "$NS_L" "$NS_R"; do
		ip netns add "$ns" || return 1
		NSS+=("$ns")
		ip -n "$ns" link set lo up
	done
	ip link add "hsb$$l" netns "$NS_L" type veth peer name "hsb$$r" netns "$NS_R" || return 1
	ip -n "$NS_L" addr add $UL_L/24 dev "hsb$$l"
	ip -n "$NS_R" addr add $UL_R/24 dev "hsb$$r"
	ip -n "$NS_L" link set "hsb$$l" up
	# inner addresses as /32 on lo (this kernel has no dummy links), so
	# that charon finds a source for the routes it installs
	ip -n "$NS_L" addr add 10.211.1.1/32 dev lo
	ip -n "$NS_R" addr add 10.211.2.1/32 dev lo
	ip -n "$NS_R" link set "hsb$$r" up
	ip netns exec "$NS_L" ping -q -c 1 -W 2 $UL_R >/dev/null 2>&1 ||
		ip netns exec "$NS_L" ping -q -c 1 -W 2 $UL_R >/dev/null 2>&1 ||
		{ note "veth link did not come up"; return 1; }
	PSK=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	ss_pki || { note "no certificates (pki failed)"; return 1; }
	ss_conf l
	ss_conf r
	ss_swanctl
	ss_start l "$NS_L" && ss_start r "$NS_R" || return 1
	for s in l r; do
		sw $s --load-all --file "$WORK/$s/swanctl.conf" >"$WORK/$s/load.out" 2>&1 ||
			{ note "swanctl --load-all ($s) failed: $(tail -5 "$WORK/$s/load.out" | tr '\n' ' ')"; return 1; }
	done
}

# SS_N handshakes of connection $2; emits under name $1.
ss_run() { # name conn
	local name=$1 conn=$2 i n0 t0 t1 c0 c1 hs=() hl=() ms
	c0=$(($(cpu_ns "$PID_l") + $(cpu_ns "$PID_r")))
	for ((i = 0; i < SS_N; i++)); do
		n0=$(wc -l <"$WORK/l/charon.log")
		t0=$(date +%s%N)
		if ! sw l --initiate --ike "$conn" --child net --timeout 10 >"$WORK/l/init.out" 2>&1; then
			note "$name: initiate failed: $(grep -iE 'fail|error|no ' "$WORK/l/init.out" | head -3 | tr '\n' ' ')"
			return 1
		fi
		t1=$(date +%s%N)
		hs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1e6}')")
		ms=$(log_hs_ms "$n0")
		[ -n "$ms" ] && hl+=("$ms")
		sw l --terminate --ike "$conn" --timeout 10 >/dev/null 2>&1
	done
	c1=$(($(cpu_ns "$PID_l") + $(cpu_ns "$PID_r")))
	emit "$name" log_ms "$(printf '%s\n' "${hl[@]}" | median)" ms
	emit "$name" wall_ms "$(printf '%s\n' "${hs[@]}" | median)" ms
	emit "$name" cpu_ms "$(awk -v a="$c0" -v b="$c1" -v n="$SS_N" 'BEGIN{printf "%.3f", (b-a)/1e6/n}')" ms
}

WORK=$(mktemp -d /tmp/hsb-$$-XXXXXX)
make_pki || note "pki (strongswan-pki) failed or missing: no ECDSA rows"
# tunsec's ECDSA and EAP rows: once each authenticates (-a ecdsa, -a eap-*)
ts_can() { # auth
	[ -s "$WORK/pki/c.crt" ] && "$BENCH" -n 1 -r 1 -a "$1" -C "$WORK/pki" \
		>/dev/null 2>"$WORK/bench.err" && return 0
	note "ike_hs_bench -a $1 unavailable: $(tail -1 "$WORK/bench.err" 2>/dev/null)"
	return 1
}
if want tunsec; then
	ts_can ecdsa && TS_ECDSA=1
	for m in $EAP_METHODS; do
		ts_can "$m" && TS_EAP+=" $m"
	done
fi
if want strongswan; then
	ss_setup && SS_OK=1
fi

# --- the runs, interleaved so that drift hits all alike ----------------------

for ((REP = 1; REP <= RUNS; REP++)); do
	if want tunsec; then
		for g in $IKE_GROUPS; do
			tunsec_emit "tunsec-psk-$g" "$g" psk
		done
		[ -n "$TS_ECDSA" ] && tunsec_emit tunsec-ecdsa-curve25519 curve25519 ecdsa
		for m in $TS_EAP; do
			tunsec_emit "tunsec-$m" curve25519 "$m"
		done
	fi
	if [ -n "$SS_OK" ]; then
		for g in $IKE_GROUPS; do
			ss_run "strongswan-psk-$g" "psk-$g"
		done
		ss_run strongswan-ecdsa-curve25519 ecdsa
		for m in $EAP_METHODS; do
			ss_run "strongswan-$m" "$m"
		done
	fi
done

# --- medians and ratios ------------------------------------------------------

med() { # name test
	awk -v n="name=$1" -v t="test=$2" '$1 == n && $2 == t {sub("value=", "", $3); print $3}' \
		"$OUT" | median
}
num() { [[ $1 =~ ^[0-9.]+$ ]]; }
ratio() { # a b -> a/b
	if num "$1" && num "$2" && [ "$2" != 0 ]; then
		awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1fx", a/b}'
	else
		echo n/a
	fi
}
orna() { [ -n "$1" ] && [ "$1" != NaN ] && echo "$1" || echo n/a; }

echo
echo "IKEv2 handshake (IKE_SA_INIT + IKE_AUTH + 1 CHILD_SA), medians of $RUNS runs;"
echo "tunsec: both ends in one process on CPU $CPU; strongSwan: 2 charons on CPU $SS_CPU, SAs via $SS_KERNEL"
printf '%-18s %9s %9s %9s %9s | %8s %8s %8s | %8s %8s\n' \
	"auth-group" "ts us/hs" "ts init" "ts resp" "ts hs/s" "ss log" "ss wall" "ss cpu" \
	"log/ts" "cpu/ts"
printf '%-18s %9s %9s %9s %9s | %8s %8s %8s | %8s %8s\n' \
	"" "cpu,both" "us" "us" "1 core" "ms" "ms" "ms" "" ""
for row in $(for g in $IKE_GROUPS; do echo psk-$g; done) ecdsa-curve25519 $EAP_METHODS; do
	us=$(orna "$(med tunsec-$row us_hs)")
	hps=$(orna "$(med tunsec-$row hs_per_s)")
	ui=$(orna "$(med tunsec-$row us_init)")
	ur=$(orna "$(med tunsec-$row us_resp)")
	sl=$(orna "$(med strongswan-$row log_ms)")
	sw_=$(orna "$(med strongswan-$row wall_ms)")
	sc=$(orna "$(med strongswan-$row cpu_ms)")
	usms=n/a cyms=n/a
	num "$us" && usms=$(awk -v u="$us" 'BEGIN{printf "%.4f", u/1000}')
	num "$hps" && cyms=$(awk -v h="$hps" 'BEGIN{if (h > 0) printf "%.4f", 1000/h; else print "n/a"}')
	printf '%-18s %9s %9s %9s %9s | %8s %8s %8s | %8s %8s\n' "$row" "$us" "$ui" "$ur" "$hps" \
		"$sl" "$sw_" "$sc" "$(ratio "$sl" "$usms")" "$(ratio "$sc" "$cyms")"
done
echo "ss log: charon's log, initiating IKE_SA -> CHILD_SA established (ms resolution);"
echo "ss cpu: both charons' CPU per handshake incl. its Delete and vici; ratios = strongSwan / tunsec"
echo "(log/ts: ss log / ts us/hs; cpu/ts: ss cpu / (1 s / ts hs/s), both sides of each with Delete)."
[ -n "$EAP_METHODS" ] && echo "eap-*: a login with curve25519: the server's ECDSA certificate, then the client's" \
	"EAP (mschapv2: a password; tls: its ECDSA certificate), EAP-Identity first."
[ -n "$TS_ECDSA" ] || echo "tunsec ecdsa: n/a (ike_hs_bench -a ecdsa failed or no pki)."
echo "results: $OUT"
