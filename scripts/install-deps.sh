#!/bin/sh
# Every build and test dependency of tunsec, from Debian 12's archive.
# Idempotent: run it as often as you like (as root).
set -e
export DEBIAN_FRONTEND=noninteractive

PKGS="
	build-essential pkg-config clang
	libsodium-dev libmbedtls-dev libuv1-dev libssl-dev
	iproute2 iptables conntrack openssl iputils-ping iperf3 tcpdump tshark jq procps
	python3 python3-scapy
	strongswan-charon strongswan-swanctl libcharon-extra-plugins strongswan-pki
	wireguard-go wireguard-tools openvpn
"

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
apt-get update -q
# tshark asks whether non-root users may capture: answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PKGS
