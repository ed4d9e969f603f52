#!/bin/bash
# Interop, tunsecd initiates to strongSwan 5.9 (charon, kernel-libipsec),
# PSK authentication (RFC 7296 §2.15), AES-256-GCM-16 + PRF-HMAC-SHA256 +
# Curve25519 for the IKE SA (RFC 8031), AES-256-GCM-16 for the CHILD_SA.
# Checks:
#  - RFC 7296 §1.2: start_action = start brings up IKE_SA_INIT + IKE_AUTH;
#    charon logs the IKE SA established between our two identities and the
#    CHILD_SA with the configured selectors, and swanctl lists the expected
#    algorithms for both SAs;
#  - RFC 7296 §2.23 / RFC 3948: charon (kernel-libipsec) claims to be
#    behind a NAT, so tunsecd floats IKE and ESP to port 4500;
#  - RFC 4303 through the CHILD_SA: ping both ways, iperf3 both ways, and
#    charon's CHILD_SA counters show the traffic;
#  - RFC 7296 §1.4.1: `tunsec down gw` sends a Delete for the IKE SA: charon
#    logs it and lists no SA; tunsecd lists none; `tunsec up gw` brings the
#    tunnel back.
. "$(dirname "$0")/swan.lib"
ix_init ixI

T_IKE=aes256gcm16-prfsha256-x25519
W_IKE=aes256gcm16-prfsha256-x25519
T_ESP=aes256gcm16
W_ESP=aes256gcm16
T_START=start
ix_conf
ix_start_swan
ix_start_tsd

swan_wait_sas w 1 1 10 || die "no IKE SA + CHILD_SA at charon 10 s after tunsecd started"
ok "RFC 7296 §1.2: tunsecd initiated, charon lists 1 IKE SA and 1 CHILD_SA"
sas=$(swan_list_sas w)
echo "$sas" | sed 's/^/     /'
check "charon: IKE SA established between the PSK identities" swan_log_has w \
	"IKE_SA gw\[[0-9]+\] established between $W_UL\[$IX_W_ID\]\.\.\.$T_UL\[$IX_T_ID\]"
check "charon: authenticated tunsecd with the pre-shared key (§2.15)" swan_log_has w \
	"authentication of '$IX_T_ID' with pre-shared key successful"
check "charon: IKE SA uses AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519" \
	grep -q '^  AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519$' <<<"$sas"
check "charon: CHILD_SA uses ESP:AES_GCM_16-256 in UDP" \
	grep -qE 'net: #[0-9]+, reqid [0-9]+, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256$' <<<"$sas"
check "charon: CHILD_SA selectors $W_NET4 === $T_NET4" swan_log_has w \
	"CHILD_SA net\{[0-9]+\} established with SPIs [0-9a-f]{8}_i [0-9a-f]{8}_o and TS $W_NET4 === $T_NET4"
check "RFC 7296 §2.23: tunsecd moved to port 4500 (charon sees it at $T_UL[4500])" \
	grep -qF "remote '$IX_T_ID' @ $T_UL[4500]" <<<"$sas"
check "tunsecd: status shows the IKE SA established" ix_ike_up
st=$(ix_status)
echo "$st" | sed 's/^/     tunsec: /'
check "tunsecd: IKE SA aes256gcm16-prfsha256-curve25519, initiator" \
	grep -qE '^    SPIs [0-9a-f]{16}_i [0-9a-f]{16}_r, aes256gcm16-prfsha256-curve25519,' <<<"$st"
if ix_spis_match; then
	ok "tunsecd's CHILD_SA SPIs mirror charon's ($IX_SPIS)"
else
	bad "CHILD_SA SPIs differ: $IX_SPIS"
fi

check "ping tunsecd -> charon through the CHILD_SA (20/20)" ping_n "$T_NS" $W_IN4 20
check "ping charon -> tunsecd through the CHILD_SA (20/20)" ping_n "$W_NS" $T_IN4 20

iperf_srv "$W_NS"
if ix_iperf "$T_NS" $W_IN4 3; then
	check_ge "iperf3 tunsecd -> charon: MiB received" $((IX_IPERF_BYTES / 1048576)) 1
	check_eq "iperf3 tunsecd -> charon: no interval without data" "$IX_IPERF_ZERO" 0
else
	bad "iperf3 tunsecd -> charon failed"
fi
if ix_iperf "$T_NS" $W_IN4 2 -R; then
	check_ge "iperf3 charon -> tunsecd: MiB received" $((IX_IPERF_BYTES / 1048576)) 1
else
	bad "iperf3 charon -> tunsecd (-R) failed"
fi
inb=$(swan_list_sas w | awk '$1 == "in" { gsub(/,/, ""); print $3; exit }')
check_ge "charon's CHILD_SA decrypted >= 1 MiB (inbound bytes)" "$((${inb:-0} / 1048576))" 1

# RFC 7296 §1.4.1: closing the IKE SA closes its CHILD_SAs with it
n0=$(swan_log_count w 'received DELETE for IKE_SA gw')
check "tunsec down gw" ix_tunsec down gw
check "charon received the DELETE for the IKE SA" wait_for 5 sh -c \
	"[ \$(grep -c 'received DELETE for IKE_SA gw' '${SWAN_DIR[w]}/charon.log') -gt $n0 ]"
check "charon lists no IKE SA and no CHILD_SA after the Delete" swan_wait_sas w 0 0 5
check "tunsecd lists no SA after down" wait_for 5 ix_no_sa
check "no ping through the closed tunnel" sh -c "! ip netns exec $T_NS ping -n -c 1 -W 1 $W_IN4 >/dev/null"

check "tunsec up gw" ix_tunsec up gw
check "tunnel back up after tunsec up: charon lists 1 IKE SA + 1 CHILD_SA" swan_wait_sas w 1 1 10
check "ping through the new CHILD_SA (5/5)" ping_n "$T_NS" $W_IN4 5

check "tunsecd exits 0 on SIGTERM" tsd_stop t
check "charon got tunsecd's Delete at shutdown (no SA left)" swan_wait_sas w 0 0 5
lib_finish
