#!/bin/bash
# Interop with a strongSwan 5.9 that does not speak RFC 7427: charon with
# `charon.signature_authentication = no` sends no SIGNATURE_HASH_ALGORITHMS
# in IKE_SA_INIT and signs with the classic AUTH methods of RFC 7296 §3.8
# (1: RSA PKCS#1 v1.5 with SHA-1) and RFC 4754 (9/10/11: ECDSA), as old
# Windows and other peers without RFC 7427 do. RFC 7427 §4 allows the
# Digital Signature method (14) only with a hash the peer announced, so
# tunsecd signs for such a peer with a classic method where it may
# (ike_creds_sig_scheme() in ike/cert.c).
#
# The AUTH method is read off the wire: tcpdump records the exchange in
# tunsecd's namespace, charon's IKE keys come from its own log (ike = 4 into
# a separate file, $WORK/NAME.keys; throw-away keys), and tshark
# decrypts the IKE_AUTH messages with them (its ikev2_decryption_table) and
# prints isakmp.auth.method. charon's "authentication of '...' with ...
# successful" says the same from its side ("ECDSA-256 signature" is method
# 9, "RSA signature" method 1, a signature scheme name such as
# RSA_EMSA_PKCS1_SHA2_256 method 14).
#
#  (a) ECDSA P-256 certificates, charon initiates, tunsecd answers: neither
#      IKE_SA_INIT carries SIGNATURE_HASH_ALGORITHMS; both AUTHs are method
#      9; the tunnel comes up and carries pings.
#  (b) RSA certificates, tunsec.legacy = yes, tunsecd initiates (its own
#      notify goes unanswered): both AUTHs are method 1, the tunnel comes up.
#  (c) RSA certificates without legacy, what really happens:
#      - tunsecd initiates: its AUTH is method 14 with SHA-256 (no SHA-1
#        without legacy), which charon 5.9 verifies although it announced
#        nothing; charon answers with method 1, and tunsecd refuses that
#        (RFC 8247 §3.2, our SHA-1 rule) with a log line naming the reason
#        and the option; no SA stays on either side.
#      - charon initiates (a Windows client's case): tunsecd refuses
#        charon's method 1 AUTH the same way and answers
#        AUTHENTICATION_FAILED (RFC 7296 §2.21.2); no SA on either side.
. "$(dirname "$0")/swan.lib"
ix_init ixS
command -v tshark >/dev/null || die "tshark is not installed"
export HOME=$WORK # tshark wants a writable home for its profile

# start NAME: both configured for ix_certs' certificates; charon without
# RFC 7427 (its IKE keys into $WORK/NAME.keys) and tunsecd up, tcpdump
# recording IKE in tunsecd's namespace into $WORK/NAME.pcap (in immediate
# mode: nothing may wait in a buffer when it is stopped)
start() {
	PCAP=$WORK/$1.pcap
	KEYLOG=$WORK/$1.keys
	SWAN_CHARON_EXTRA="signature_authentication = no
	filelog {
		keys {
			path = $KEYLOG
			default = -1
			ike = 4
		}
	}"
	rm -f "${SWAN_DIR[w]}/charon.log"
	ix_pubkey_conf
	lib_bg "$WORK/$1.tcpdump" ip netns exec "$T_NS" tcpdump --immediate-mode -U -n \
		-i "$C_IF" -w "$PCAP" udp port 500 or udp port 4500
	DUMP=$LIB_PID
	wait_for 5 test -s "$WORK/$1.tcpdump" || die "tcpdump did not start"
	ix_start_swan
	ix_start_tsd
}

# stop: tunsecd, charon and tcpdump down (tunsecd first: it must exit 0)
stop() {
	check "tunsecd exits 0 on SIGTERM" tsd_stop t
	swan_stop w
	lib_stop "$DUMP"
}

# swan_key NAME: charon's key NAME ("Sk_ei", "Sk_er") in hex, from its
# hexdump in $KEYLOG ("10[IKE] Sk_ei secret => 36 bytes @ 0x...", then
# lines "10[IKE]    0: 0F 1E ... (16 bytes)  ascii"), the byte count read
# first so that the ascii column is never taken for bytes
swan_key() {
	awk -v k="$1 secret" '
		index($0, k " =>") { n = $(NF - 3); on = 1; next }
		on && $2 ~ /^[0-9]+:$/ {
			for (i = 3; i <= NF && i < 19 && got < n; i++) { h = h $i; got++ }
			if (got == n) exit
			next
		}
		on { exit }
		END { if (got == n) print tolower(h) }' "$KEYLOG"
}

# auth_methods: "request:response" AUTH methods of the IKE_AUTH exchange in
# $PCAP, decrypted with charon's keys ("" where tshark could not)
auth_methods() {
	local ispi rspi ei er uat
	read -r ispi rspi < <(tshark -r "$PCAP" \
		-Y 'isakmp.exchangetype == 34 && isakmp.flag_r == 1' \
		-T fields -e isakmp.ispi -e isakmp.rspi 2>/dev/null | tail -n 1)
	ei=$(swan_key Sk_ei)
	er=$(swan_key Sk_er)
	[ -n "$rspi" ] && [ -n "$ei" ] && [ -n "$er" ] || return 0
	# a UAT record: hex fields bare, the algorithms' names quoted (ix_conf's
	# default proposal, aes256gcm16-prfsha256-x25519: no SK_ai/SK_ar)
	uat="$ispi,$rspi,$ei,$er,\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\""
	tshark -r "$PCAP" -o "uat:ikev2_decryption_table:$uat" \
		-Y 'isakmp.exchangetype == 35 && isakmp.auth.method' \
		-T fields -e isakmp.flag_r -e isakmp.auth.method 2>/dev/null |
		awk '{ m[$1 == "True" || $1 == "1" ? "r" : "q"] = $2 } END { print m["q"] ":" m["r"] }'
}

# no_sighash: neither IKE_SA_INIT message carries SIGNATURE_HASH_ALGORITHMS
# (16431): charon does not send it, so tunsecd as responder does not either
no_sighash() {
	! tshark -r "$PCAP" -Y 'isakmp.exchangetype == 34 && isakmp.notify.msgtype == 16431' \
		2>/dev/null | grep -q .
}

# sighash_only_from_tunsecd: the IKE_SA_INIT request (tunsecd's) carries
# SIGNATURE_HASH_ALGORITHMS, the response (charon's) does not
sighash_only_from_tunsecd() {
	[ "$(tshark -r "$PCAP" -Y 'isakmp.exchangetype == 34 && isakmp.notify.msgtype == 16431' \
		-T fields -e ip.src 2>/dev/null | sort -u)" = "$T_UL" ]
}

# refused_sha1: tunsecd's log has the refusal of charon's method 1 AUTH,
# with the reason and the option that admits it
REFUSED_SHA1="gw: IKE SA #[0-9]+ failed: we refused the AUTH of $IX_W_ID from $W_UL(:[0-9]+)?: \
AUTH method 1 is RSA with SHA-1, a legacy method \\(RFC 8247 section 3.2\\): \
tunsec.legacy = yes admits it"
refused_sha1() { grep -qE "$REFUSED_SHA1" "${TSD_LOG[t]}"; }

# --- (a) ECDSA P-256, charon initiates, tunsecd answers ---------------------
ix_certs ecdsa 256
start ecdsa
if swan_initiate w net gw; then
	ok "(a) ECDSA P-256, charon without RFC 7427 initiated: tunnel up"
else
	bad "(a) swanctl --initiate failed: $(grep -E 'failed|AUTH' "${SWAN_DIR[w]}/initiate.out" | head -3 | tr '\n' ' ')"
fi
check "(a) ping both ways (5/5 each)" ix_ping_both 5
check "(a) charon verified tunsecd's AUTH as an ECDSA-256 signature (RFC 4754, method 9)" \
	swan_log_has w "authentication of '$IX_T_ID' with ECDSA-256 signature successful"
stop
check "(a) no SIGNATURE_HASH_ALGORITHMS in either IKE_SA_INIT (RFC 7427 §4)" no_sighash
check_eq "(a) RFC 7427 §4, RFC 7296 §3.8: AUTH methods on the wire, charon's:tunsecd's" \
	"$(auth_methods)" "9:9"

# --- (b) RSA with tunsec.legacy = yes, tunsecd initiates --------------------
ix_certs rsa 2048
T_TSEC_EXTRA="legacy = yes"
start rsa-legacy
check "(b) RSA, tunsec.legacy = yes: tunsec up gw" ix_tunsec up gw
if swan_wait_sas w 1 1 10; then
	ok "(b) RSA with legacy, tunsecd initiated: 1 IKE SA + 1 CHILD_SA at charon"
else
	bad "(b) RSA with legacy: no SA at charon after 10 s"
fi
check "(b) ping both ways (5/5 each)" ix_ping_both 5
check "(b) charon verified tunsecd's AUTH as an RSA signature (method 1)" \
	swan_log_has w "authentication of '$IX_T_ID' with RSA signature successful"
stop
check "(b) tunsecd's IKE_SA_INIT request announces its hashes, charon's response does not" \
	sighash_only_from_tunsecd
m=$(auth_methods)
check_eq "(b) RFC 7427 §4, RFC 8247 §3.2 under legacy: AUTH methods, tunsecd's:charon's" "$m" "1:1"

# --- (c) RSA without legacy -------------------------------------------------
# tunsecd initiates: charon verifies our method 14 (SHA-256), we refuse its
# method 1 (SHA-1)
T_TSEC_EXTRA=""
start rsa-tsd
ix_tunsec up gw >/dev/null
check "(c) RSA without legacy, tunsecd initiated: charon verified tunsecd's method 14 AUTH (RSA_EMSA_PKCS1_SHA2_256)" \
	wait_for 10 swan_log_has w "authentication of '$IX_T_ID' with RSA_EMSA_PKCS1_SHA2_256 successful"
check "(c) tunsecd refused charon's method 1 AUTH, its log names the reason and tunsec.legacy" \
	wait_for 10 refused_sha1
check "(c) charon lists no SA" swan_wait_sas w 0 0 10
check "(c) tunsecd lists no SA" wait_for 5 ix_no_sa
grep -E "we refused the AUTH" "${TSD_LOG[t]}" | head -n 1 | sed 's/^/     tunsecd: /'
stop
check_eq "(c) AUTH methods on the wire, tunsecd's:charon's" "$(auth_methods)" "14:1"

# charon initiates (a Windows client's case): refused at once
start rsa-swan
if swan_initiate w net gw; then
	bad "(c) charon's method 1 AUTH accepted without tunsec.legacy"
else
	ok "(c) charon initiated with a method 1 AUTH: refused"
fi
check "(c) tunsecd answered AUTHENTICATION_FAILED (RFC 7296 §2.21.2)" \
	swan_log_has w "received AUTHENTICATION_FAILED notify error"
check "(c) tunsecd's log names the reason and tunsec.legacy" wait_for 5 refused_sha1
check "(c) charon lists no SA" swan_wait_sas w 0 0 5
check "(c) tunsecd lists no SA" wait_for 5 ix_no_sa
stop
check_eq "(c) AUTH methods on the wire, charon's:tunsecd's (none in AUTHENTICATION_FAILED)" \
	"$(auth_methods)" "1:"
lib_finish
