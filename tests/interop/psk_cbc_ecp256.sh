#!/bin/bash
# Interop with strongSwan 5.9 (charon, kernel-libipsec), PSK, AES-256-CBC
# with HMAC-SHA2-256-128 (RFC 4868) and ECP 256 (group 19, RFC 5903) for
# the IKE SA and for the CHILD_SA (aes256-sha256-ecp256: PFS on rekeys).
# Checks, once with each side initiating:
#  - RFC 7296 §1.2 with a non-AEAD suite (separate SK_e/SK_a, §2.14):
#    swanctl lists AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256
#    and ESP:AES_CBC-256/HMAC_SHA2_256_128; ping both ways;
#  - RFC 7296 §1.3.3 + §2.17: a CHILD_SA rekey with a fresh ECP 256 key
#    exchange (PFS), asked for by charon (swanctl --rekey) while tunsecd
#    is the responder, and by tunsecd (children rekey_time = 3s) when charon initiated: the new
#    CHILD_SA lists ESP:.../ECP_256, has new SPIs, and carries pings;
#  - RFC 7296 §1.4.1: the Delete from the side that initiated.
. "$(dirname "$0")/swan.lib"
ix_init ixC

T_IKE=aes256-sha256-ecp256
W_IKE=aes256-sha256-ecp256
T_ESP=aes256-sha256-ecp256
W_ESP=aes256-sha256-ecp256
ix_conf
ix_start_swan
ix_start_tsd

IKE_ALGS='^  AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256$'
# the CHILD_SA of IKE_AUTH has no key exchange of its own (§1.2)...
ESP_ALGS='INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-256/HMAC_SHA2_256_128$'
# ... the one of a CREATE_CHILD_SA rekey does (§1.3.3)
ESP_PFS='INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-256/HMAC_SHA2_256_128/ECP_256$'

# rekeyed BY: the CHILD_SA's SPIs change, the new one has done ECP 256,
# and pings pass through it
check_pfs_rekey() {
	local by=$1 old=$2 new sas i
	for ((i = 0; i < 50; i++)); do
		new=$(swan_child_spis w)
		[ -n "$new" ] && [ "$new" != "$old" ] && [ "$(swan_child_count w)" = 1 ] && break
		sleep 0.2
	done
	sas=$(swan_list_sas w)
	if [ -n "$new" ] && [ "$new" != "$old" ]; then
		ok "§1.3.3 rekey by $by: CHILD_SA SPIs $old-> $new"
	else
		bad "§1.3.3 rekey by $by: CHILD_SA SPIs unchanged ($old)"
	fi
	check "§1.3.3 rekey by $by: new CHILD_SA did ECP_256 (PFS)" grep -qE "$ESP_PFS" <<<"$sas"
	check "ping through the rekeyed CHILD_SA (10/10)" ping_n "$T_NS" $W_IN4 10
}

# --- 1. tunsecd initiates (tunsec up), charon rekeys the CHILD_SA ----------
check "tunsec up gw" ix_tunsec up gw
swan_wait_sas w 1 1 10 || die "tunsec up: no IKE SA + CHILD_SA at charon after 10 s"
sas=$(swan_list_sas w)
echo "$sas" | sed 's/^/     /'
check "tunsecd initiated: IKE SA is AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256" \
	grep -q "$IKE_ALGS" <<<"$sas"
check "tunsecd initiated: CHILD_SA is ESP:AES_CBC-256/HMAC_SHA2_256_128" \
	grep -qE "$ESP_ALGS" <<<"$sas"
check "ping tunsecd -> charon (10/10)" ping_n "$T_NS" $W_IN4 10
check "ping charon -> tunsecd (10/10)" ping_n "$W_NS" $T_IN4 10
spis=$(swan_child_spis w)
check "swanctl --rekey --child net (charon initiates CREATE_CHILD_SA)" \
	swan_ctl w --rekey --child net >/dev/null
check_pfs_rekey charon "$spis"
check "charon: tunsecd answered the rekey with a KE payload" swan_log_has w \
	'parsed CREATE_CHILD_SA response [0-9]+ \[ SA No KE TSi TSr \]'
check "tunsec down gw" ix_tunsec down gw
check "charon lists no SA after tunsecd's Delete" swan_wait_sas w 0 0 5
check "tunsecd lists no SA" wait_for 5 ix_no_sa

# --- 2. charon initiates, tunsecd rekeys the CHILD_SA ----------------------
# tunsecd again, now rekeying its CHILD_SAs 3 s after they came up
check "tunsecd exits 0 on SIGTERM" tsd_stop t
T_CHILD_REKEY=3s
T_CHILD_EXTRA="life_time = 60s
				rand_time = 0"
ix_conf
ix_start_tsd
if ! swan_initiate w net gw; then
	sed 's/^/     | /' "${SWAN_DIR[w]}/initiate.out" | tail -n 15
	die "swanctl --initiate to tunsecd failed"
fi
sas=$(swan_list_sas w)
check "charon initiated: IKE SA is AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256" \
	grep -q "$IKE_ALGS" <<<"$sas"
check "charon initiated: CHILD_SA is ESP:AES_CBC-256/HMAC_SHA2_256_128" \
	grep -qE "$ESP_ALGS" <<<"$sas"
check "ping charon -> tunsecd (10/10)" ping_n "$W_NS" $T_IN4 10
spis=$(swan_child_spis w)
n0=$(swan_log_count w 'parsed CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\) SA No KE TSi TSr \]')
check_pfs_rekey tunsecd "$spis"
check_ge "charon: parsed tunsecd's rekey request with N(REKEY_SA) and KE" \
	"$(swan_log_count w 'parsed CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\) SA No KE TSi TSr \]')" \
	$((n0 + 1))
check "swanctl --terminate (charon's Delete answered)" swan_terminate w gw
check "tunsecd lists no SA after charon's Delete" wait_for 5 ix_no_sa
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
