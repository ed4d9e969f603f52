#!/bin/bash
# asan: a native client's login (EAP-MSCHAPv2, certificate, pool, IDr hint)
# Interop: strongSwan 5.9 emulates the IKEv2 client built into Android 11
# and later (the "IKEv2/IPSec MSCHAPv2" VPN type; its IKE library, not
# charon, though the strongSwan app behaves alike) logging in to tunsecd as
# a road-warrior server (tests/interop/eap_native.lib: the server's
# certificate from a test CA, remote.auth = eap-mschapv2, eap_id = %any,
# pool rw4 with dns and nbns).
#
# What Android does, and how charon is made to do it:
#  - no ECP groups in its proposals (its IKE library has MODP and
#    Curve25519 only): proposals aes256-sha256-modp2048 and
#    aes256gcm16-prfsha256-curve25519, ESP aes256gcm16 and aes256-sha256;
#  - IDi is the "IPsec identifier" the user typed, here the username
#    (local.id = dave), and its EAP-Identity answer is EMPTY, so that the
#    server keeps the IKE identity as the EAP identity (RFC 3748 §5.1).
#    charon cannot send an empty EAP-Identity: local.eap_id = "" and
#    eap_id = %any are both taken as unset, and charon answers with its IKE
#    identity (checked below, with eap_id = ""). So the test logs in with
#    the IKE identity as the EAP identity, which is the name the server
#    ends up with either way; tunsecd's handling of the empty answer is
#    covered by the unit test eap_rfc3748_5_1_empty_identity_keeps_ike_id
#    (tests/unit/ike_eap_test.c);
#  - IDr is the server's address the user typed (10.77.0.1), although the
#    server's identity is its FQDN vpn.native.test: RFC 7296 §3.5 makes
#    IDr a hint, and tunsecd must answer it (with its own IDr, certificate
#    and AUTH, and the EAP request), not refuse it. Android then accepts
#    any IDr in the answer (IKE_OPTION_ACCEPT_ANY_REMOTE_ID) and checks the
#    certificate against its CA; charon cannot: with remote.id =
#    10.77.0.1 it refuses an IDr that is not that address (its constraint
#    check, whatever the certificate's subjectAltNames). So (1) checks
#    tunsecd's side of the hint up to charon's refusal, and (2) logs in
#    with remote.id = %any (any IDr, the certificate checked against the
#    CA only), as Android accepts the server, though without sending IDr.
# Checks: RFC 7296 §3.5 (IDr a hint), §2.16 (EAP in IKE_AUTH, certificate
# then MSK AUTHs), §2.19 and §3.15 (virtual IP from the pool, DNS), the
# lease under the EAP identity, traffic from the virtual IP to the server's
# inner net, a wrong password refused.
. "$(dirname "$0")/eap_native.lib"

NV_W_ID=dave
NV_W_EAP_ID=-
NV_USER=dave
NV_PW="dave pw"
NV_IKE_W=aes256-sha256-modp2048,aes256gcm16-prfsha256-curve25519
NV_ESP_W=aes256gcm16,aes256-sha256
nv_init ixNa
NV_W_RID=$T_UL # set by nv_init
nv_conf
nv_start

# 1. IDr = the server's address
if swan_initiate w net rw; then
	bad "IDr $T_UL: charon should refuse IDr $NV_SRV_ID (its constraint check)"
else
	ok "IDr $T_UL: charon refuses tunsecd's IDr $NV_SRV_ID, as expected of charon"
fi
check "RFC 7296 §3.5: IDr $T_UL is a hint: tunsecd answered with its IDr, certificate, AUTH and EAP" \
	swan_log_has w "parsed IKE_AUTH response 1 \[ IDr CERT AUTH EAP/REQ/ID \]"
check "charon verified tunsecd's certificate signature" \
	swan_log_has w "authentication of '$NV_SRV_ID' with ECDSA_WITH_SHA256_DER successful"
check "it is charon that stops: identity '$T_UL' required" \
	swan_log_has w "constraint check failed: identity '$T_UL' required"
check "no SA left on tunsecd" wait_for 5 nv_no_sa

# 2. any IDr accepted, as Android does
NV_W_RID=%any
NV_W_EAP_ID='""' # charon: taken as unset, see above
nv_conf
swan_load w || die "swanctl could not reload"
nv_login "Android-like"
check "charon's IKE SA: no ECP group (MODP 2048 or Curve25519)" grep -qE \
	'^  (AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048|AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519)$' \
	<<<"$(swan_list_sas w)"
check "eap_id = \"\": charon still answered EAP-Identity with its IKE identity, not empty" \
	nv_log_has "server requested EAP_IDENTITY \(id 0x[0-9A-F]+\), sending 'dave'"
nv_checks dave
nv_logout
nv_wrong_password
check "no password in tunsecd's log" sh -c "! grep -qE 'dave pw|wrong pw' '${TSD_LOG[t]}'"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
