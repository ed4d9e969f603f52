#!/bin/bash
# asan: a native client's login (EAP-MSCHAPv2, certificate, pool, fragments)
# Interop: strongSwan 5.9 emulates the IKEv2 client built into Windows
# (the "IKEv2" VPN type with "Secured password (EAP-MSCHAP v2)") logging in
# to tunsecd as a road-warrior server (tests/interop/eap_native.lib: the
# server's certificate from a test CA, remote.auth = eap-mschapv2,
# eap_id = %any, pool rw4 with dns and nbns).
#
# What Windows does, and how charon is made to do it:
#  - IDi is its IP address, not the user: local.id = its address
#    (10.77.0.2), and the username comes in EAP-Identity, which the server
#    asks for (eap-identity plugin; local.eap_id = carol);
#  - no IDr (Windows sends none): remote.id is what charon checks the
#    server's IDr and certificate against (vpn.native.test), and charon
#    sends it as IDr; the Android profile covers a differing IDr;
#  - CFG_REQUEST for INTERNAL_IP4_ADDRESS, INTERNAL_IP4_DNS,
#    INTERNAL_IP4_NBNS and Microsoft's private 23456 (vips = 0.0.0.0,
#    the resolve plugin asks for DNS). charon 5.9 cannot be made to ASK for
#    NBNS or 23456: a CFG_REQUEST's attributes come from its attribute
#    handlers, and none of charon's plugins in 5.9 (resolve: DNS; unity:
#    Cisco Unity, IKEv1 only; osx-attr, android-dns: platform DNS) asks
#    for either (the attr plugin only serves them, as a server); only
#    charon-nm, NetworkManager's backend (a daemon of its own on NM's
#    D-Bus, not installed here), asks for INTERNAL_IP4_NBNS. tunsecd sends
#    the pool's NBNS unasked (ike/cp.c), so the check is that charon
#    received it in the CFG_REPLY (it logs it as an attribute no handler
#    of its wants); 23456 is not checked at all;
#  - IKE fragmentation (RFC 7383), which Windows 10 and later announce and
#    use: fragmentation = yes, charon's own fragments small
#    (fragment_size = 576). Windows' IKE_AUTH request is large because its
#    CERTREQ names every root CA it trusts: charon trusts 25 (NV_EXTRA_CAS,
#    no remote.cacerts), so its request (about 800 bytes) goes in
#    fragments; the server's certificate is RSA 3072 (as a Windows
#    server's typically is), so tunsecd's IKE_AUTH response with it does
#    not fit its 1280 bytes and goes in fragments too;
#  - its default suite, once as in Windows 10/11 with the registry set to
#    something modern (a modern proposal, tunsecd's default proposals),
#    once Windows' default IKE aes256-sha1-modp1024 / ESP aes256-sha1,
#    which tunsecd admits only with tunsec.legacy = yes
#    (tests/interop/legacy_windows.sh).
# Checks, per suite: RFC 7296 §2.16 (EAP in IKE_AUTH, server's certificate
# then the MSK AUTHs), §2.19 and §3.15 (virtual IP from the pool, DNS and
# NBNS in the CFG_REPLY), RFC 7383 (fragments both ways), the lease under
# the EAP username, traffic from the virtual IP to the server's inner net,
# and a wrong password refused (§2.16, EAP Failure).
. "$(dirname "$0")/eap_native.lib"

NV_SRV_KEY=rsa
NV_FRAG_SIZE=576
NV_EXTRA_CAS=24
NV_W_ID=   # its address
NV_IKE_W=aes256gcm16-prfsha384-ecp384,aes256-sha256-modp2048
NV_ESP_W=aes256gcm16,aes256-sha256
nv_init ixNw
nv_conf
nv_start

# fragments: charon splits its IKE_AUTH requests, reassembles tunsecd's
frag_checks() { # WHAT (charon's log since nv_login)
	check "RFC 7383: $1: charon sent its IKE_AUTH request in fragments (fragment_size 576)" \
		nv_log_has 'splitting IKE message .* into [2-9] fragments'
	check "RFC 7383: $1: tunsecd's IKE_AUTH response (certificate) came in fragments, reassembled" \
		nv_log_has 'reassembled fragmented IKE message'
}
nbns_check() {
	# charon logs the attribute, not its value, and that no handler
	# of its wants it
	check "§3.15.1: $1: tunsecd's CFG_REPLY has INTERNAL_IP4_NBNS (pool rw4's nbns), unasked" \
		nv_log_has 'parsed IKE_AUTH response [0-9]+ \[ AUTH CPRP\(ADDR DNS NBNS\)'
}

# 1. a modern suite
nv_login "Windows-like, modern suite"
check "tunsecd asked for the EAP identity, charon answered carol" nv_log_has \
	"server requested EAP_IDENTITY \\(id 0x[0-9A-F]+\\), sending 'carol'"
swan_list_sas w | sed 's/^/     swanctl: /'
check "charon's IKE identity (IDi) is its address $W_UL" grep -qE \
	"^  local  '$W_UL' @ $W_UL\\[4500\\] \\[$NV_POOL_RE\\]\$" <<<"$(swan_list_sas w)"
nv_checks carol
frag_checks "modern suite"
nbns_check "modern suite"
nv_logout
nv_wrong_password

# 2. Windows' default suite, with tunsec.legacy = yes
NV_LEGACY=yes
NV_IKE_W=aes256-sha1-modp1024
NV_ESP_W=aes256-sha1
tsd_stop t || bad "tunsecd exits 0"
mv "${TSD_LOG[t]}" "$WORK/tunsecd-t-modern.log"
nv_conf
swan_load w || die "swanctl could not reload"
ix_start_tsd
nv_login "Windows-like, legacy suite (tunsec.legacy = yes)"
sas=$(swan_list_sas w)
check "charon: IKE SA AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024" \
	grep -q '^  AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024$' <<<"$sas"
check "charon: CHILD_SA ESP AES_CBC-256/HMAC_SHA1_96" grep -q 'ESP:AES_CBC-256/HMAC_SHA1_96$' <<<"$sas"
check "tunsecd: warns LEGACY for the IKE SA" grep -q "rw: IKE SA #[0-9]* uses a LEGACY suite" "${TSD_LOG[t]}"
nv_checks carol
frag_checks "legacy suite"
nbns_check "legacy suite"
nv_logout
nv_wrong_password
check "no password in tunsecd's logs" sh -c "! grep -qE 'carol pw|wrong pw' '$WORK'/tunsecd-*.log '${TSD_LOG[t]}'"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
