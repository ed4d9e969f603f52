#!/bin/bash
# asan: a native client's login (EAP-MSCHAPv2, certificate unasked, pool)
# Interop: strongSwan 5.9 emulates the IKEv2 client built into macOS and
# iOS (the IKEv2 VPN type, user authentication "Username"; or a .
# mobileconfig with AuthenticationMethod Certificate for the server,
# ExtendedAuthEnabled 1) logging in to tunsecd as a road-warrior server
# (tests/interop/eap_native.lib: the server's certificate from a test CA,
# remote.auth = eap-mschapv2, eap_id = %any, pool rw4 with dns and nbns).
#
# What Apple's client does, and how charon is made to do it:
#  - no CERTREQ at all, although it needs the server's certificate to
#    check the server's AUTH (RFC 7296 §3.7 lets a peer send one unasked):
#    send_certreq = no. The server must send its certificate anyway:
#    tunsecd does so for every EAP peer, also with send_cert at its
#    default, ifasked (strongSwan's gateways need send_cert = always for
#    these clients); the test keeps that default;
#  - ECP 256 with AES-GCM (its default since iOS 13 / macOS 10.15 with
#    the profile's "DiffieHellmanGroup 19", EncryptionAlgorithm AES-256-
#    GCM): IKE aes256gcm16-prfsha256-ecp256, ESP aes256gcm16;
#  - IDi the "Local ID" the user typed (here erin@apple.test, an RFC 822
#    ID), its EAP-Identity the username (local.eap_id = carol), asked by
#    the server; IDr the "Remote ID", which must match the server's
#    identity (remote.id = vpn.native.test, sent as IDr);
#  - a CFG_REQUEST for an IPv4 address and DNS (vips = 0.0.0.0).
# Checks: no CERTREQ sent, the server's certificate received and checked
# (RFC 7296 §3.6, §3.7), §2.16 (EAP in IKE_AUTH, certificate then MSK
# AUTHs), the ECP-256/AES-GCM suite, §2.19 and §3.15 (virtual IP from the
# pool, DNS), the lease under the EAP username carol (not erin@apple.test,
# the IKE ID), traffic from the virtual IP to the server's inner net, and
# a wrong password refused. And the regression tunsecd had: send_cert =
# never leaves the client without the certificate, which then refuses the
# server (so the test does see what the certificate is for).
. "$(dirname "$0")/eap_native.lib"

NV_W_ID=erin@apple.test
NV_W_EAP_ID=carol
NV_CERTREQ=no
NV_IKE_W=aes256gcm16-prfsha256-ecp256
NV_ESP_W=aes256gcm16
nv_init ixNp
nv_conf
nv_start

nv_login "Apple-like"
no_certreq() { nv_log_has 'generating IKE_AUTH request 1 \[ IDi ' && ! nv_log_has 'CERTREQ'; }
check "RFC 7296 §3.7: charon sent no CERTREQ (IKE_SA_INIT, IKE_AUTH)" no_certreq
check "§3.6: tunsecd sent its certificate unasked (IDr CERT AUTH EAP)" \
	nv_log_has "parsed IKE_AUTH response 1 \[ IDr CERT AUTH EAP/REQ/ID \]"
check "charon received and checked the certificate" \
	nv_log_has "received end entity cert \"C=CH, O=tunsec, CN=$NV_SRV_ID\""
check "charon's IKE SA: AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256" grep -q \
	'^  AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256$' <<<"$(swan_list_sas w)"
check "charon's CHILD_SA: ESP AES_GCM_16-256" grep -q 'ESP:AES_GCM_16-256$' <<<"$(swan_list_sas w)"
check "charon's IKE identity is erin@apple.test, its EAP identity carol" grep -qE \
	"^  local  'erin@apple.test' @ $W_UL\\[4500\\] \\[$NV_POOL_RE\\]\$" <<<"$(swan_list_sas w)"
nv_checks carol
nv_logout
nv_wrong_password

# send_cert = never: no certificate, and the client refuses the server
sed -i 's/^\t\trekey_time = 0$/&\n\t\tsend_cert = never/' "$WORK/t.conf"
grep -q '^		send_cert = never$' "$WORK/t.conf" || die "could not set send_cert = never"
ix_tunsec reload >/dev/null || die "tunsec reload failed"
# charon keeps the certificates it verified: forget the server's
swan_ctl w --flush-certs >/dev/null || die "swanctl --flush-certs failed"
nv_mark
if swan_initiate w net rw; then
	bad "send_cert = never: charon should refuse a server it cannot verify"
else
	ok "send_cert = never: charon cannot verify the server and refuses it"
fi
check "send_cert = never: tunsecd sent no certificate" \
	nv_log_has 'parsed IKE_AUTH response 1 \[ IDr AUTH EAP/REQ/ID \]'
check "send_cert = never: charon has no key for $NV_SRV_ID" \
	nv_log_has "no trusted ECDSA public key found for '$NV_SRV_ID'"
check "send_cert = never: no SA on tunsecd" wait_for 5 nv_no_sa
check "no password in tunsecd's log" sh -c "! grep -qE 'carol pw|wrong pw' '${TSD_LOG[t]}'"
check "tunsecd exits 0 on SIGTERM" tsd_stop t
lib_finish
