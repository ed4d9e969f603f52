#!/bin/sh
# Every build, test and benchmark dependency of tunsec, from Debian 12's
# archive. Idempotent: run it as often as you like (as root).
#
#   scripts/install-deps.sh           install (apt-get), then --check
#   scripts/install-deps.sh --check   install nothing; fail, naming each
#                                     miss, if a package or a capability the
#                                     tests use is absent
#
# --check looks past package names at what the tests actually load: the
# strongSwan plugins charon is started with, the Python modules, the
# commands. A package that pulls a plugin only as a "Recommends" (charon's
# openssl plugin comes with libstrongswan-standard-plugins, which
# --no-install-recommends skips) is a miss here, not a red interop suite.
set -e
export DEBIAN_FRONTEND=noninteractive

# Why each group is here:
#   build: compiler, pkg-config, clang for the libFuzzer targets and its
#     sanitizer runtime; the three libraries the customer fixed, OpenSSL for
#     X.509 (README says why)
#   netns tests: ip, iptables (MASQUERADE in the NAT tests), conntrack,
#     ping, iperf3, tcpdump, tshark (IKE/ESP dissection), jq (stats JSON)
#   cross tests: scapy's ESP, python3-cryptography for tests/vectors
#   interop: charon with kernel-libipsec (extra plugins), the openssl, kdf,
#     pem, pkcs1, x509 plugins (standard plugins), eap-* (extauth, for EAP),
#     pki for test certificates, swanctl
#   RADIUS: FreeRADIUS 3.2 as the real server of tests/netns/radius_freeradius.sh
#   benchmark anchors: wireguard-go, openvpn; stress-ng for the soak under
#     load; debootstrap for scripts/fresh-check.sh (the README on a fresh system)
PKGS="
	build-essential pkg-config clang libclang-rt-14-dev
	libsodium-dev libmbedtls-dev libuv1-dev libssl-dev
	iproute2 iptables conntrack openssl iputils-ping iperf3 tcpdump tshark jq procps
	python3 python3-scapy python3-cryptography
	strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
	libcharon-extra-plugins libcharon-extauth-plugins strongswan-pki
	freeradius
	wireguard-go wireguard-tools openvpn stress-ng debootstrap
"

# Commands the scripts run, and the files behind the features they use.
CMDS="cc clang pkg-config ip iptables conntrack ping iperf3 tcpdump tshark jq
	pgrep openssl /usr/bin/python3 swanctl pki wireguard-go wg openvpn stress-ng debootstrap
	timeout unshare ss freeradius"
SWAN_PLUGINS="random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey constraints
	kernel-libipsec kernel-netlink socket-default vici"
PY_MODULES="scapy.layers.ipsec cryptography"
# The FreeRADIUS modules tests/netns/radius_freeradius.sh configures.
RADIUS_MODULES="rlm_pap rlm_files rlm_detail rlm_eap rlm_eap_md5"

check() {
	miss=0
	for p in $PKGS; do
		s=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$s" = installed ] || { echo "missing package: $p"; miss=1; }
	done
	for c in $CMDS; do
		command -v "$c" >/dev/null 2>&1 || { echo "missing command: $c"; miss=1; }
	done
	for p in $SWAN_PLUGINS; do
		[ -f "/usr/lib/ipsec/plugins/libstrongswan-$p.so" ] ||
			{ echo "missing strongSwan plugin: $p"; miss=1; }
	done
	for m in $RADIUS_MODULES; do
		[ -f "/usr/lib/freeradius/$m.so" ] || { echo "missing FreeRADIUS module: $m"; miss=1; }
	done
	for m in $PY_MODULES; do
		/usr/bin/python3 -c "import $m" 2>/dev/null ||
			{ echo "missing Python module (/usr/bin/python3): $m"; miss=1; }
	done
	for l in libsodium libuv libcrypto; do
		pkg-config --exists "$l" 2>/dev/null || { echo "missing pkg-config: $l"; miss=1; }
	done
	[ -f /usr/include/mbedtls/md4.h ] || { echo "missing mbedTLS headers"; miss=1; }
	[ -c /dev/net/tun ] || { echo "missing /dev/net/tun (TUN devices)"; miss=1; }
	if [ $miss = 0 ]; then
		echo "install-deps.sh --check: every dependency present"
	fi
	return $miss
}

if [ "${1:-}" = --check ]; then
	check
	exit
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
apt-get update -q
# tshark asks whether non-root users may capture: answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PKGS
check
