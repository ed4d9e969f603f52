#!/bin/bash
# Interop matrix, tunsecd initiates (RFC 7296 §1.2) against strongSwan 5.9
# for the suites the other tests do not cover: AES-GCM-128, AES-CBC-128/256
# with HMAC-SHA2-384/512 (RFC 4868 truncations 192/256), PRF-HMAC-SHA2-384/
# 512, and groups 15, 16, 20, 21 (RFC 3526 MODP 3072/4096, RFC 5903 ECP
# 384/521); each with a CHILD_SA rekey with PFS in the same group (§1.3.3).
# Per suite: charon lists the IKE SA and CHILD_SA with exactly those
# algorithms, ping passes before and after tunsecd's rekey, and tunsec
# down leaves no SA on either side.
. "$(dirname "$0")/swan.lib"
ix_init ixM

# tunsec IKE | ESP (tunsec and strongSwan names) | charon's IKE line | charon's ESP line
SUITES=(
	"aes128gcm16-prfsha384-ecp384|aes128gcm16-ecp384|AES_GCM_16-128/PRF_HMAC_SHA2_384/ECP_384|ESP:AES_GCM_16-128"
	"aes256-sha384-prfsha384-ecp521|aes256-sha384-ecp521|AES_CBC-256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/ECP_521|ESP:AES_CBC-256/HMAC_SHA2_384_192"
	"aes128-sha512-prfsha512-modp3072|aes128-sha512-modp3072|AES_CBC-128/HMAC_SHA2_512_256/PRF_HMAC_SHA2_512/MODP_3072|ESP:AES_CBC-128/HMAC_SHA2_512_256"
	"aes256gcm16-prfsha512-modp4096|aes256gcm16-modp4096|AES_GCM_16-256/PRF_HMAC_SHA2_512/MODP_4096|ESP:AES_GCM_16-256"
)
T_START=start
T_CHILD_REKEY=3
ix_conf
ix_start_swan
for s in "${SUITES[@]}"; do
	IFS='|' read -r ike esp ike_line esp_line <<<"$s"
	T_IKE=$ike W_IKE=$ike T_ESP=$esp W_ESP=$esp
	ix_conf
	swan_load w || die "swanctl could not load $ike"
	n0=$(swan_log_count w "CHILD_SA net\{[0-9]+\} established")
	ix_start_tsd
	check "$ike: IKE SA and CHILD_SA up (charon lists them)" swan_wait_sas w 1 1 10
	sas=$(swan_list_sas w)
	check "$ike: charon's IKE SA is $ike_line" grep -qF "  $ike_line" <<<"$sas"
	check "$ike: charon's CHILD_SA is $esp_line" grep -qE "INSTALLED, TUNNEL-in-UDP, ${esp_line//\//\\/}\$" <<<"$sas"
	wait_for 5 ping_n "$T_NS" $W_IN4 1 >/dev/null
	check "$ike: ping (5/5)" ping_n "$T_NS" $W_IN4 5
	spi=$(ix_status | grep -o 'net{0x[0-9a-f]*' | head -1)
	rekeyed() { [ "$(ix_status | grep -o 'net{0x[0-9a-f]*' | head -1)" != "$spi" ] &&
		ix_status | grep -q 'net{0x.*PFS'; }
	check "$ike: tunsecd rekeyed the CHILD_SA with PFS (§1.3.3)" wait_for 10 rekeyed
	check_ge "$ike: charon installed the first and the rekeyed CHILD_SA" \
		"$(($(swan_log_count w "CHILD_SA net\{[0-9]+\} established") - n0))" 2
	wait_for 5 ping_n "$T_NS" $W_IN4 1 >/dev/null
	check "$ike: ping after the rekey (5/5)" ping_n "$T_NS" $W_IN4 5
	ix_tunsec down gw >/dev/null
	check "$ike: tunsec down: no SA on either side" swan_wait_sas w 0 0 5
	check "tunsecd exits 0" tsd_stop t
	mv "${TSD_LOG[t]}" "$WORK/tunsecd-t-$ike.log"
done
lib_finish
