#!/bin/bash
# Our IKEv2 datagrams as Wireshark's dissector sees them. $BUILD/ike_pcap
# (tests/tools/ike_pcap.c) runs two engines in memory through IKE_SA_INIT,
# IKE_AUTH, a CHILD_SA rekey and its Delete, an IKE SA rekey and its Delete,
# liveness checks and the final Delete, and writes every datagram to a pcap
# file; this script decodes it with tshark three times over: plain (port
# 500), with the initiator behind a NAT (port 4500 with the non-ESP marker,
# RFC 3948 §2.2, from IKE_AUTH on, RFC 7296 §2.23) and with a fragment length
# small enough for RFC 7383 fragments. For each it checks:
#   - every frame is ISAKMP version 2.0;
#   - the exchanges come in the expected order (type and request/response);
#   - nothing is Malformed, and tshark's expert info has no error or warning
#     (IPv4 header checksums verified);
#   - both IKE_SA_INIT messages carry SA, KE, Nonce, NAT_DETECTION_SOURCE_IP
#     and NAT_DETECTION_DESTINATION_IP;
#   - every other frame starts with an Encrypted and Authenticated payload
#     (or its Fragment form, where fragmenting);
#   - the ports: 500 throughout, or 4500 after IKE_SA_INIT behind the NAT.
# One line per check; exit 0 only if all pass.
#
# tests/run.sh exports BUILD (build directory) and TUNSEC_TOP (repository).
set -u
top=${TUNSEC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${BUILD:-build}
tool=$top/$build/ike_pcap

failures=0
pass() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	failures=$((failures + 1))
}

command -v tshark >/dev/null || {
	echo "FAIL tshark is not installed"
	exit 1
}
[ -x "$tool" ] || {
	echo "FAIL $tool missing (make build-tests)"
	exit 1
}

work=$(mktemp -d /tmp/tunsec-tshark-ike.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
# tshark wants a writable home for its profile; keep it in the temp dir.
export HOME=$work

# The messages in order, "exchange type:R flag" (34 IKE_SA_INIT, 35
# IKE_AUTH, 36 CREATE_CHILD_SA, 37 INFORMATIONAL), one per message (the
# fragments of one message count once).
expected="34:0 34:1 35:0 35:1 36:0 36:1 37:0 37:1 36:0 36:1 37:0 37:1 37:0 37:0 37:1 37:1 37:0 37:1"

check_capture() {
	local name=$1 flags=$2 pcap=$work/$1.pcap
	local tsv got frames v20 n_sk n_init ports

	if ! "$tool" $flags "$pcap" >"$work/$name.log" 2>&1; then
		bad "$name: ike_pcap failed: $(tail -n 1 "$work/$name.log")"
		return
	fi
	pass "$name: ike_pcap wrote $(grep -c 'bytes$' "$work/$name.log") datagrams"

	tsv=$(tshark -r "$pcap" -o ip.check_checksum:TRUE -T fields -E separator='|' \
		-e frame.number -e udp.srcport -e udp.dstport -e isakmp.version \
		-e isakmp.exchangetype -e isakmp.flag_r -e isakmp.frag.number \
		-e isakmp.typepayload -e isakmp.notify.msgtype 2>"$work/$name.err")
	frames=$(capinfos -c -M "$pcap" 2>/dev/null | sed -n 's/^Number of packets: *//p')
	[ -n "$frames" ] || frames=$(wc -l <<<"$tsv")

	# 1. every frame ISAKMP 2.0
	v20=$(awk -F'|' '$4 == "0x20"' <<<"$tsv" | wc -l)
	if [ "$frames" -gt 0 ] && [ "$v20" = "$frames" ]; then
		pass "$name: all $frames frames decode as ISAKMP version 2.0"
	else
		bad "$name: $v20 of $frames frames decode as ISAKMP version 2.0"
	fi

	# 2. exchange order (fragments 2..n of a message skipped)
	got=$(awk -F'|' '$7 == "" || $7 == "1" { printf "%s%s:%s", sep, $5, $6; sep = " " }' <<<"$tsv")
	if [ "$got" = "$expected" ]; then
		pass "$name: exchanges in order (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, ...)"
	else
		bad "$name: exchanges: got '$got', expected '$expected'"
	fi

	# 3. nothing malformed, no expert errors or warnings
	tshark -r "$pcap" -o ip.check_checksum:TRUE -V >"$work/$name.txt" 2>>"$work/$name.err"
	if grep -qi 'malformed' "$work/$name.txt"; then
		bad "$name: tshark reports a malformed packet: $(grep -i -m1 malformed "$work/$name.txt")"
	else
		pass "$name: no malformed packet"
	fi
	tshark -r "$pcap" -o ip.check_checksum:TRUE -q -z expert,warn >"$work/$name.expert" 2>&1
	if grep -qE '^(Errors|Warns) \(' "$work/$name.expert"; then
		bad "$name: expert info: $(grep -A3 -E '^(Errors|Warns) \(' "$work/$name.expert" | tr '\n' ' ')"
	else
		pass "$name: no expert-info error or warning"
	fi

	# 4. IKE_SA_INIT payloads, request and response
	n_init=$(awk -F'|' '$5 == 34 && ("," $8 ",") ~ /,33,/ && ("," $8 ",") ~ /,34,/ &&
		("," $8 ",") ~ /,40,/ && ("," $9 ",") ~ /,16388,/ && ("," $9 ",") ~ /,16389,/' \
		<<<"$tsv" | wc -l)
	if [ "$n_init" = 2 ] && grep -q 'Payload: Notify (41) - NAT_DETECTION_SOURCE_IP' "$work/$name.txt"; then
		pass "$name: both IKE_SA_INIT messages carry SA, KE, Nonce, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)"
	else
		bad "$name: $n_init of 2 IKE_SA_INIT messages carry SA, KE, Nonce and both NAT_DETECTION notifies"
	fi

	# 5. everything after IKE_SA_INIT is SK (46) or SKF (53)
	n_sk=$(awk -F'|' '$5 != 34 && ($8 == "46" || $8 == "53")' <<<"$tsv" | wc -l)
	local n_enc=$(awk -F'|' '$5 != 34' <<<"$tsv" | wc -l)
	local n_text=$(grep -cE '^    Payload: Encrypted and Authenticated( Fragment)? \((46|53)\)' "$work/$name.txt")
	if [ "$n_enc" -gt 0 ] && [ "$n_sk" = "$n_enc" ] && [ "$n_text" = "$n_enc" ]; then
		pass "$name: all $n_enc frames after IKE_SA_INIT are one Encrypted and Authenticated payload"
	else
		bad "$name: $n_sk/$n_text of $n_enc frames after IKE_SA_INIT show an Encrypted and Authenticated payload"
	fi
	if [ "$flags" = -f ]; then
		if grep -q 'Payload: Encrypted and Authenticated Fragment (53)' "$work/$name.txt"; then
			pass "$name: RFC 7383 fragments (SKF) present"
		else
			bad "$name: no Encrypted and Authenticated Fragment payload although fragmenting"
		fi
	fi

	# 6. ports
	if [ "$flags" = -n ]; then
		ports=$(awk -F'|' '$5 != 34 && $2 != 4500 && $3 != 4500' <<<"$tsv" | wc -l)
		local marker=$(grep -c '^UDP Encapsulation of IPsec Packets' "$work/$name.txt")
		if [ "$ports" = 0 ] && [ "$marker" = "$n_enc" ]; then
			pass "$name: after IKE_SA_INIT all on port 4500 with the non-ESP marker"
		else
			bad "$name: $ports frames after IKE_SA_INIT off port 4500, $marker of $n_enc decoded via the non-ESP marker"
		fi
	else
		ports=$(awk -F'|' '$2 != 500 || $3 != 500' <<<"$tsv" | wc -l)
		if [ "$ports" = 0 ]; then
			pass "$name: all on port 500"
		else
			bad "$name: $ports frames off port 500"
		fi
	fi
}

check_capture plain ""
check_capture nat -n
check_capture frag -f

if [ "$failures" -gt 0 ]; then
	echo "FAIL tshark_ike: $failures checks failed"
	exit 1
fi
echo "ok   tshark_ike: all checks passed"
