#!/bin/bash
# ESP against scapy: every suite, inner IPv4/IPv6, ESN off/on, both
# directions (tests/cross/scapy_esp.py prints one line per case).
# Run by tests/run.sh with BUILD set to the build directory.
set -eu
cd "${TUNSEC_TOP:-$(dirname "$0")/../..}"
BUILD=${BUILD:-build}
tool=$BUILD/esptool
if [ ! -x "$tool" ]; then
	echo "FAIL: $tool not built (make build-tests)"
	exit 1
fi
if ! /usr/bin/python3 -c 'import scapy.layers.ipsec' 2>/dev/null; then
	echo "FAIL: python3-scapy is not installed (scripts/install-deps.sh)"
	exit 1
fi
exec /usr/bin/python3 tests/cross/scapy_esp.py "$tool"
