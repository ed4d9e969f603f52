#!/bin/bash
# tunsec against its anchors, in one run, on one pair of network namespaces
# (tsB-l 10.77.0.1, tsB-r 10.77.0.2, one veth pair):
#
#   plain                    the veth itself (the link limit)
#   tunsec-<esp>             tunsecd, ESP in UDP, for each of $TS_ESP
#   tunsec-<esp>-raw         tunsecd, raw ESP (IP protocol 50), for $TS_RAW
#   strongswan-<esp>         strongSwan 5.9 charon with kernel-libipsec
#                            (user-space ESP, always in UDP), IKEv2 PSK
#   wireguard-go             user-space WireGuard
#   openvpn                  OpenVPN 2.6, UDP, TLS (pinned self-signed EC
#                            certificates), AES-256-GCM, no DCO
#
# Each, from tsB-l to tsB-r: single-stream TCP iperf3 for $DUR s, UDP
# iperf3 paced at $UDP_RATE with $UDP_LEN-byte datagrams (received rate and
# loss), and ping RTT (median of $PING_N). One line per measurement:
#
#   name=tunsec-aes128gcm16 test=tcp value=1234.5 unit=Mbit/s rep=1
#
# then the medians over $REPS repetitions (all variants are interleaved per
# repetition, so drift hits them alike), a ratio table (tunsec's TCP and UDP
# against the best anchor and against strongSwan with the same cipher; ping
# as the difference to plain veth), and the per-core cipher limits from
# $BUILD/aead_bench when it was built (make build-tests).
#
# Knobs: DUR (10), REPS (3), UDP_RATE (1G), UDP_LEN (1300), PING_N (50),
#        TS_ESP ("aes128gcm16 aes256gcm16 chacha20poly1305"), TS_RAW
#        (aes128gcm16; empty for none), ONLY (space-separated subset of:
#        plain tunsec strongswan wireguard openvpn ike; ike: the IKEv2
#        handshake rates of scripts/bench_ike.sh), OUT (results file,
#        default /tmp/tunsec-bench-<date>.txt), BUILD (build).
# Needs root, iperf3, jq, and for the anchors strongswan-charon
# strongswan-swanctl (kernel-libipsec), wireguard-go wireguard-tools,
# openvpn; a missing anchor is reported and skipped.
#
# The numbers are for comparing within one run: both tunnel ends and iperf3
# share this machine's cores.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TUNSEC_TOP=$TOP
. "$TOP/tests/lib.sh"

DUR=${DUR:-10}
REPS=${REPS:-3}
UDP_RATE=${UDP_RATE:-1G}
UDP_LEN=${UDP_LEN:-1300}
PING_N=${PING_N:-50}
TS_ESP=${TS_ESP:-aes128gcm16 aes256gcm16 chacha20poly1305}
TS_RAW=${TS_RAW-aes128gcm16}
ONLY=${ONLY:-plain tunsec strongswan wireguard openvpn ike}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-/tmp/tunsec-bench-$STAMP.txt}
CHARON=${CHARON:-/usr/lib/ipsec/charon}

L=tsB-l
R=tsB-r
# inner addresses per tunnel kind, each its own pair so that nothing left by
# one can route the next one's traffic
SS_L=10.204.1.1 SS_R=10.204.2.1
WG_L=10.202.0.1 WG_R=10.202.0.2
OV_L=10.203.0.1 OV_R=10.203.0.2
WG_IFL=tsBwgl WG_IFR=tsBwgr

want() { [[ " $ONLY " == *" $1 "* ]]; }
note() { echo "# $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "run as root"; exit 1; }
for c in iperf3 jq; do command -v $c >/dev/null || { echo "needs $c"; exit 1; }; done
if want tunsec && { [ ! -x "$TUNSECD" ] || [ ! -x "$TUNSEC" ]; }; then
	echo "no $TUNSECD: make B=$BUILD (or ONLY without tunsec)"
	exit 1
fi
lib_init tsB no-daemon
LIB_CLEANUP+=("rm -f /var/run/wireguard/$WG_IFL.sock /var/run/wireguard/$WG_IFR.sock")
topo2 $L $R
: >"$OUT"
REP=0

emit() { # name test value unit
	local line="name=$1 test=$2 value=$3 unit=$4 rep=$REP"
	echo "$line"
	echo "$line" >>"$OUT"
}

{
	echo "# tunsec bench $STAMP: $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "# DUR=$DUR REPS=$REPS UDP_RATE=$UDP_RATE UDP_LEN=$UDP_LEN PING_N=$PING_N"
	echo "# $("$TUNSECD" -V 2>&1 | head -1)," \
		"strongSwan $("$CHARON" --version 2>/dev/null | awk '{print $NF}')," \
		"wireguard-go $(wireguard-go --version 2>/dev/null | awk 'NR == 1 {print $2}')," \
		"OpenVPN $(openvpn --version 2>/dev/null | awk 'NR == 1 {print $2}')," \
		"iperf3 $(iperf3 --version | awk 'NR == 1 {print $2}')"
} | tee -a "$OUT"

# one iperf3 server on every address of tsB-r, for the whole run
iperf_srv $R

# --- measurements -------------------------------------------------------------

# measure NAME DST [SRC]: TCP, UDP, ping from tsB-l to DST
measure() {
	local n=$1 dst=$2 src=${3:-} j bps out
	# warm-up: neighbour entries, first-packet paths
	nsx $L ping -n -q -c 3 -i 0.1 -W 1 ${src:+-I $src} "$dst" >/dev/null 2>&1
	j=$WORK/tcp.json
	timeout $((DUR + 30)) ip netns exec $L iperf3 -c "$dst" ${src:+-B $src} -p 5201 -t "$DUR" -J >"$j" 2>/dev/null
	bps=$(jq -r '.end.sum_received.bits_per_second // empty' "$j" 2>/dev/null)
	if [ -n "$bps" ]; then
		emit "$n" tcp "$(awk -v b="$bps" 'BEGIN{printf "%.1f", b / 1e6}')" Mbit/s
		emit "$n" tcp_retrans "$(jq -r '.end.sum_sent.retransmits' "$j")" segments
	else
		note "$n: TCP failed: $(jq -r '.error // empty' "$j" 2>/dev/null)"
		emit "$n" tcp NaN Mbit/s
	fi
	sleep 0.5
	j=$WORK/udp.json
	timeout $((DUR + 30)) ip netns exec $L iperf3 -c "$dst" ${src:+-B $src} -p 5201 -u -b "$UDP_RATE" \
		-l "$UDP_LEN" -t "$DUR" -J >"$j" 2>/dev/null
	# iperf3 3.12, UDP: end.sum is the receiver's view (received bits/s
	# and lost_percent); end.streams[0].udp the sender's
	bps=$(jq -r '(.end.sum_received.bits_per_second // .end.sum.bits_per_second) // empty' "$j" 2>/dev/null)
	if [ -n "$bps" ]; then
		emit "$n" udp_rx "$(awk -v b="$bps" 'BEGIN{printf "%.1f", b / 1e6}')" Mbit/s
		emit "$n" udp_loss "$(jq -r '(.end.sum_received.lost_percent // .end.sum.lost_percent)' "$j" |
			awk '{printf "%.2f", $1}')" %
	else
		note "$n: UDP failed: $(jq -r '.error // empty' "$j" 2>/dev/null)"
		emit "$n" udp_rx NaN Mbit/s
	fi
	sleep 0.5
	out=$(nsx $L ping -n -c "$PING_N" -i 0.02 -W 2 ${src:+-I $src} "$dst" 2>&1)
	emit "$n" ping "$(echo "$out" | sed -n 's/.* time=\([0-9.]*\) ms/\1/p' | sort -n |
		awk '{a[NR] = $1} END {if (NR) printf "%.3f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; else print "NaN"}')" ms
}

# --- tunsec -------------------------------------------------------------------

bench_tunsec() { # PROPOSAL ENCAP NAME
	if ! pair_up "$1" "$2"; then
		note "$3: tunnel did not come up"
		lib_dump_logs >&2
		pair_down
		return 1
	fi
	measure "$3" $S_IN4
	pair_down || note "$3: tunsecd did not exit 0"
}

# --- strongSwan with kernel-libipsec -------------------------------------------
#
# Each charon: its own strongswan.conf (STRONGSWAN_CONF) and its own mount
# namespace with a private directory bound over /run (pid file and vici
# socket would collide otherwise). Explicit plugin list: kdf is needed for
# prf+ in 5.9.8, and kernel-libipsec must load before kernel-netlink so
# that it, not the kernel, does ESP. swanctl takes --uri after the command.

ss_conf() { # side local remote local_ts remote_ts id peer_id psk
	local d=$WORK/ss-$1 c esp children=""
	mkdir -p "$d/run"
	cat >"$d/strongswan.conf" <<-EOF
	swanctl {
		load = random
	}
	charon {
		load = random nonce openssl kdf hmac sha2 kernel-libipsec kernel-netlink socket-default vici
		install_routes = yes
		filelog {
			log {
				path = $d/charon.log
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
	# the initiator has one child per proposal, to pick the cipher; the
	# responder one child accepting all of them (it picks its child by
	# traffic selectors first, and would refuse a proposal of another one)
	if [ "$1" = l ]; then
		for esp in $TS_ESP; do
			children+="
			c-$esp {
				local_ts = $4
				remote_ts = $5
				esp_proposals = $esp
			}"
		done
	else
		children="
			c {
				local_ts = $4
				remote_ts = $5
				esp_proposals = $(echo $TS_ESP | tr ' ' ',')
			}"
	fi
	cat >"$d/swanctl.conf" <<-EOF
	connections {
		b {
			version = 2
			local_addrs = $2
			remote_addrs = $3
			proposals = aes128gcm16-prfsha256-x25519
			dpd_delay = 0
			local {
				auth = psk
				id = $6
			}
			remote {
				auth = psk
				id = $7
			}
			children {$children
			}
		}
	}
	secrets {
		ike-b {
			id-a = tsB-l
			id-b = tsB-r
			secret = $8
		}
	}
	EOF
}

ss_start() { # side ns
	local d=$WORK/ss-$1
	# the last repetition's socket and pid file would fool the wait below
	rm -f "$d/run/charon.vici" "$d/run/charon.pid"
	lib_bg "$d/charon.out" ip netns exec "$2" unshare -m --propagation private sh -c \
		"mount --bind '$d/run' /run && exec env STRONGSWAN_CONF='$d/strongswan.conf' '$CHARON'"
	SS_PID[$1]=$LIB_PID
	wait_for 10 test -S "$d/run/charon.vici" || { note "charon ($1) did not start: $(tail -3 "$d/charon.out")"; return 1; }
	sw "$1" --load-all --file "$d/swanctl.conf" >"$d/load.out" 2>&1 ||
		{ note "swanctl --load-all ($1): $(tail -3 "$d/load.out")"; return 1; }
}

sw() { # side command args...
	local d=$WORK/ss-$1 cmd=$2
	shift 2
	STRONGSWAN_CONF=$d/strongswan.conf swanctl "$cmd" --uri "unix://$d/run/charon.vici" "$@"
}

declare -A SS_PID=()
bench_strongswan() {
	[ -x "$CHARON" ] && command -v swanctl >/dev/null || { note "strongSwan not installed: skipped"; return 1; }
	local psk esp rc=0
	psk=$(rand_hex 24)
	ip -n $L addr add $SS_L/32 dev lo
	ip -n $R addr add $SS_R/32 dev lo
	ss_conf l $C_UL $S_UL 10.204.1.0/24 10.204.2.0/24 tsB-l tsB-r "$psk"
	ss_conf r $S_UL $C_UL 10.204.2.0/24 10.204.1.0/24 tsB-r tsB-l "$psk"
	if ss_start r $R && ss_start l $L; then
		for esp in $TS_ESP; do
			if sw l --initiate --ike b --child "c-$esp" --timeout 10 >"$WORK/ss-l/init.out" 2>&1; then
				measure "strongswan-$esp" $SS_R $SS_L
			else
				note "strongswan-$esp: initiate failed: $(grep -iE 'fail|error' "$WORK/ss-l/init.out" | head -3)"
				rc=1
			fi
			sw l --terminate --ike b --timeout 10 >/dev/null 2>&1
		done
	else
		rc=1
	fi
	[ -n "${SS_PID[l]:-}" ] && lib_stop "${SS_PID[l]}"
	[ -n "${SS_PID[r]:-}" ] && lib_stop "${SS_PID[r]}"
	SS_PID=()
	ip -n $L addr del $SS_L/32 dev lo
	ip -n $R addr del $SS_R/32 dev lo
	return $rc
}

# --- wireguard-go --------------------------------------------------------------
#
# -f keeps it in the foreground (so the PID is the daemon's); its UAPI
# socket is /var/run/wireguard/<ifname>.sock, a host path: the interface
# names are ours (tsBwg*) and the files are removed at exit.
bench_wireguard() {
	command -v wireguard-go >/dev/null && command -v wg >/dev/null || { note "wireguard-go/wg not installed: skipped"; return 1; }
	local kl kr pl pr ifn ns p1 p2 rc=0
	kl=$(wg genkey)
	kr=$(wg genkey)
	pl=$(wg pubkey <<<"$kl")
	pr=$(wg pubkey <<<"$kr")
	lib_bg "$WORK/wg-l.log" ip netns exec $L env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go -f $WG_IFL
	p1=$LIB_PID
	lib_bg "$WORK/wg-r.log" ip netns exec $R env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go -f $WG_IFR
	p2=$LIB_PID
	if wait_for 10 test -S /var/run/wireguard/$WG_IFL.sock && wait_for 10 test -S /var/run/wireguard/$WG_IFR.sock; then
		nsx $L wg set $WG_IFL private-key <(echo "$kl") listen-port 51820 \
			peer "$pr" endpoint $S_UL:51820 allowed-ips $WG_R/32
		nsx $R wg set $WG_IFR private-key <(echo "$kr") listen-port 51820 \
			peer "$pl" endpoint $C_UL:51820 allowed-ips $WG_L/32
		ip -n $L addr add $WG_L/24 dev $WG_IFL
		ip -n $R addr add $WG_R/24 dev $WG_IFR
		ip -n $L link set $WG_IFL up
		ip -n $R link set $WG_IFR up
		if wait_for 5 nsx $L ping -n -c 1 -W 1 $WG_R; then
			measure wireguard-go $WG_R
		else
			note "wireguard-go: no traffic through the tunnel"
			rc=1
		fi
	else
		note "wireguard-go did not start: $(tail -2 "$WORK/wg-l.log")"
		rc=1
	fi
	lib_stop $p1
	lib_stop $p2
	return $rc
}

# --- OpenVPN --------------------------------------------------------------------
#
# Static-key mode cannot do AEAD in 2.6, so TLS: one self-signed EC
# certificate per side, pinned with --peer-fingerprint (no CA). DCO off.
bench_openvpn() {
	command -v openvpn >/dev/null || { note "openvpn not installed: skipped"; return 1; }
	local s fp_l fp_r p1 p2 rc=0
	for s in l r; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
			-subj "/CN=tsB-$s" -keyout "$WORK/ov-$s.key" -out "$WORK/ov-$s.crt" >/dev/null 2>&1 ||
			{ note "openssl req failed"; return 1; }
	done
	fp_l=$(openssl x509 -in "$WORK/ov-l.crt" -noout -fingerprint -sha256 | cut -d= -f2)
	fp_r=$(openssl x509 -in "$WORK/ov-r.crt" -noout -fingerprint -sha256 | cut -d= -f2)
	ov_conf() { # side role local remote ifc_local ifc_remote peer_fp
		cat >"$WORK/ov-$1.conf" <<-EOF
		dev tsBov$1
		dev-type tun
		proto udp
		local $3
		remote $4
		port 1194
		$2
		dh none
		cert $WORK/ov-$1.crt
		key $WORK/ov-$1.key
		peer-fingerprint $7
		ifconfig $5 $6
		data-ciphers AES-256-GCM
		disable-dco
		verb 3
		EOF
	}
	ov_conf r tls-server $S_UL $C_UL $OV_R $OV_L "$fp_l"
	ov_conf l tls-client $C_UL $S_UL $OV_L $OV_R "$fp_r"
	# the wait below reads the log: none from the last repetition
	rm -f "$WORK/ov-l.log" "$WORK/ov-r.log"
	lib_bg "$WORK/ov-r.log" ip netns exec $R openvpn --config "$WORK/ov-r.conf"
	p2=$LIB_PID
	lib_bg "$WORK/ov-l.log" ip netns exec $L openvpn --config "$WORK/ov-l.conf"
	p1=$LIB_PID
	if wait_for 20 grep -q 'Initialization Sequence Completed' "$WORK/ov-l.log" &&
		wait_for 5 nsx $L ping -n -c 1 -W 1 $OV_R; then
		measure openvpn $OV_R
	else
		note "openvpn: tunnel did not come up: $(grep -iE 'error|fatal' "$WORK/ov-l.log" | head -3)"
		rc=1
	fi
	lib_stop $p1
	lib_stop $p2
	return $rc
}

# --- the run ----------------------------------------------------------------------

status=0
for ((REP = 1; REP <= REPS; REP++)); do
	note "repetition $REP of $REPS"
	if want plain; then measure plain $S_UL; fi
	if want tunsec; then
		for esp in $TS_ESP; do bench_tunsec "$esp" yes "tunsec-$esp" || status=1; done
		for esp in $TS_RAW; do bench_tunsec "$esp" no "tunsec-$esp-raw" || status=1; done
	fi
	if want strongswan; then bench_strongswan || status=1; fi
	if want wireguard; then bench_wireguard || status=1; fi
	if want openvpn; then bench_openvpn || status=1; fi
done

# --- medians, ratios, cipher limits ----------------------------------------------

median_lines() {
	grep '^name=' "$OUT" | awk '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		  k = f["name"] " " f["test"] " " f["unit"]
		  if (!(k in n)) { n[k] = 0; order[++m] = k }
		  if (f["value"] != "NaN") v[k, ++n[k]] = f["value"] + 0 }
		END {
			for (i = 1; i <= m; i++) {
				k = order[i]; c = n[k]
				for (x = 1; x <= c; x++) s[x] = v[k, x]
				for (x = 2; x <= c; x++) { y = s[x]; j = x - 1
					while (j > 0 && s[j] > y) { s[j + 1] = s[j]; j-- } s[j + 1] = y }
				med = "NaN"
				if (c % 2) med = s[(c + 1) / 2]; else if (c) med = (s[c / 2] + s[c / 2 + 1]) / 2
				split(k, p, " ")
				printf "median name=%s test=%s value=%s unit=%s n=%d\n", p[1], p[2], med, p[3], c
			}
		}'
}
{
	echo
	echo "# medians over $REPS repetitions"
	median_lines
} | tee -a "$OUT"

# ratio table from the medians
{
	echo
	echo "# tunsec / anchor (medians): TCP and UDP throughput ratios, ping difference to plain veth"
	grep '^median ' "$OUT" | awk '
		{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		  val[f["name"], f["test"]] = f["value"]
		  if (!(f["name"] in names)) { names[f["name"]] = 1; list[++n] = f["name"] } }
		function num(x) { return x != "" && x != "NaN" }
		END {
			best = ""; bestu = ""
			for (a in names) if (a !~ /^tunsec/ && a != "plain") {
				t = val[a, "tcp"]; u = val[a, "udp_rx"]
				if (num(t) && (best == "" || t + 0 > val[best, "tcp"] + 0)) best = a
				if (num(u) && (bestu == "" || u + 0 > val[bestu, "udp_rx"] + 0)) bestu = a
			}
			pp = val["plain", "ping"]
			printf "%-28s %10s %8s %10s %10s %8s %9s %9s\n", "name", "tcp", "x best", "x ss same", "udp_rx", "x best", "ping ms", "+ vs veth"
			for (i = 1; i <= n; i++) {
				a = list[i]; t = val[a, "tcp"]; u = val[a, "udp_rx"]; p = val[a, "ping"]
				rb = (num(t) && best != "") ? sprintf("%.2f", t / val[best, "tcp"]) : "-"
				ss = a; sub(/^tunsec-/, "strongswan-", ss); sub(/-raw$/, "", ss)
				rs = (a ~ /^tunsec/ && num(t) && num(val[ss, "tcp"])) ? sprintf("%.2f", t / val[ss, "tcp"]) : "-"
				ru = (num(u) && bestu != "") ? sprintf("%.2f", u / val[bestu, "udp_rx"]) : "-"
				dp = (num(p) && num(pp)) ? sprintf("%+.3f", p - pp) : "-"
				printf "%-28s %10s %8s %10s %10s %8s %9s %9s\n", a, t, rb, rs, u, ru, p, dp
				if (a ~ /^tunsec/) {
					if (rb != "-") printf "ratio name=%s test=tcp_vs_best_anchor value=%s unit=x anchor=%s\n", a, rb, best > "/dev/stderr"
					if (rs != "-") printf "ratio name=%s test=tcp_vs_strongswan value=%s unit=x anchor=%s\n", a, rs, ss > "/dev/stderr"
					if (ru != "-") printf "ratio name=%s test=udp_rx_vs_best_anchor value=%s unit=x anchor=%s\n", a, ru, bestu > "/dev/stderr"
					if (dp != "-") printf "ratio name=%s test=ping_minus_plain value=%s unit=ms\n", a, dp > "/dev/stderr"
				}
			}
			printf "best anchor: TCP %s, UDP %s\n", best, bestu
		}' 2>"$WORK/ratios"
	cat "$WORK/ratios"
} | tee -a "$OUT"

# per-core cipher limit of the backend aead_new() chooses (aead_bench)
if [ -x "$BUILD_DIR/aead_bench" ]; then
	{
		echo
		echo "# cipher limit, one core, 1400-byte packets ($BUILD/aead_bench, the chosen backend)"
		"$BUILD_DIR/aead_bench" 2>/dev/null | awk '/chosen=yes/ {
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			printf "name=cipher-limit test=%s-%s value=%s unit=%s backend=%s\n", f["suite"], f["op"], f["value"], f["unit"], f["backend"] }'
	} | tee -a "$OUT"
fi
# IKEv2 handshakes: tunsec's engines against strongSwan (scripts/bench_ike.sh)
if want ike; then
	{
		echo
		echo "# IKEv2 handshakes (scripts/bench_ike.sh)"
		ONLY="tunsec strongswan" BUILD=$BUILD "$TUNSEC_TOP/scripts/bench_ike.sh" 2>&1 || status=1
	} | tee -a "$OUT"
fi
echo "results: $OUT" >&2
exit $status
