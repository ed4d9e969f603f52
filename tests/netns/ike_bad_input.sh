#!/bin/bash
# asan: hostile IKE input reaching the parsers through the sockets
# Hostile IKE datagrams at a running tunsecd (RFC 7296 §1.5, §2.5, §3.1):
# from the client namespace a script sends, to ports 500 and 4500 (behind
# the non-ESP marker, RFC 3948 §2.2): garbage, truncated headers, a length
# field larger than the datagram, a request with major version 3, requests
# for IKE SAs that do not exist, a burst of 300 of those, and an
# IKE_SA_INIT offering only 3DES, SHA-1 and MODP 1024 (RFC 8247).
# Checks: each is dropped and counted, never logged per datagram;
# INVALID_MAJOR_VERSION and INVALID_IKE_SPI answers come back unprotected
# with the offending SPIs and a 2.0 header, at most at the engine's rate
# (the burst is limited and counted); a real peer then still gets its SA.
. "$(dirname "$0")/../lib.sh"
lib_init tsIb
topo3 tsIb
PSK="ike bad input $RANDOM$RANDOM shared secret"

ike_conf "$WORK/s.conf" s tss0 "$S_IN4/32" $S_UL "%any" sun.example moon.example \
	"10.201.2.0/24" "10.201.1.0/24" none
tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"

cat >"$WORK/bad.py" <<'PY'
import os, socket, struct, sys
dst = sys.argv[1]
def hdr(spi_i, spi_r, np, ver, exch, flags, mid, length):
    return struct.pack("!QQBBBBII", spi_i, spi_r, np, ver, exch, flags, mid, length)
def rnd64():
    return struct.unpack("!Q", os.urandom(8))[0] | 1
def ask(port, payload, marker=False, wait=True):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.bind(("0.0.0.0", 0))
    s.sendto((b"\0" * 4 if marker else b"") + payload, (dst, port))
    if not wait:
        s.close()
        return None
    try:
        data, _ = s.recvfrom(4096)
    except socket.timeout:
        data = None
    s.close()
    if data is not None and marker:
        data = data[4:] if data[:4] == b"\0" * 4 else None
    return data
def notify_of(resp):
    # header then one Notify payload: np(1) crit(1) len(2) proto(1) spisize(1) type(2)
    if resp is None or len(resp) < 36 or resp[16] != 41:
        return None
    return struct.unpack("!H", resp[34:36])[0], resp[17], resp[:16], resp[19]
fails = 0
def check(what, ok):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += 0 if ok else 1
# garbage, short, lying length: no answer
for port, marker in ((500, False), (4500, True)):
    # random bytes, but not by chance a request of a future major
    # version (which would rightly get INVALID_MAJOR_VERSION)
    g = bytearray(os.urandom(50)); g[17] = 0x20; g[19] = 0x20
    check("garbage to %d: no answer" % port, ask(port, bytes(g), marker) is None)
    check("17-byte header to %d: no answer" % port, ask(port, os.urandom(17), marker) is None)
    h = hdr(rnd64(), rnd64(), 46, 0x20, 37, 0x08, 0, 500) + os.urandom(20)
    check("length 500 in a 48-byte datagram to %d: no answer" % port, ask(port, h, marker) is None)
# major version 3: INVALID_MAJOR_VERSION (17... type 5), version 2.0, our SPIs
for port, marker in ((500, False), (4500, True)):
    i, r = rnd64(), rnd64()
    n = notify_of(ask(port, hdr(i, r, 0, 0x30, 37, 0x08, 7, 28), marker))
    check("major version 3 to %d: INVALID_MAJOR_VERSION" % port, n is not None and n[0] == 5)
    check("... answered with version 2.0 and the request's SPIs",
          n is not None and n[1] == 0x20 and n[2] == struct.pack("!QQ", i, r) and n[3] & 0x20)
# unknown IKE SA (encrypted request): INVALID_IKE_SPI (type 4)
for port, marker in ((500, False), (4500, True)):
    i, r = rnd64(), rnd64()
    sk = struct.pack("!BBH", 0, 0, 36) + os.urandom(32)
    n = notify_of(ask(port, hdr(i, r, 46, 0x20, 37, 0x08, 1, 28 + len(sk)) + sk, marker))
    check("request for an unknown IKE SA to %d: INVALID_IKE_SPI" % port, n is not None and n[0] == 4)
# a response for an unknown SA gets nothing (no loops)
sk = struct.pack("!BBH", 0, 0, 36) + os.urandom(32)
check("response for an unknown IKE SA: no answer",
      ask(500, hdr(rnd64(), rnd64(), 46, 0x20, 37, 0x20, 1, 28 + len(sk)) + sk) is None)
# an IKE_SA_INIT offering only 3DES/SHA-1/MODP-1024 (RFC 8247: refused):
# NO_PROPOSAL_CHOSEN (type 14), and the daemon logs what was offered
def transform(last, ttype, tid):
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8, ttype, 0, tid)
trans = transform(0, 1, 3) + transform(0, 2, 2) + transform(0, 3, 2) + transform(1, 4, 2)
prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(trans), 1, 1, 0, 4) + trans
sa = struct.pack("!BBH", 34, 0, 4 + len(prop)) + prop
ke = struct.pack("!BBHHH", 40, 0, 8 + 128, 2, 0) + os.urandom(128)
nonce = struct.pack("!BBH", 0, 0, 4 + 32) + os.urandom(32)
body = sa + ke + nonce
n = notify_of(ask(500, hdr(rnd64(), 0, 33, 0x20, 34, 0x08, 0, 28 + len(body)) + body))
check("IKE_SA_INIT with only 3des-sha1-modp1024: NO_PROPOSAL_CHOSEN", n is not None and n[0] == 14)
# a burst: answers limited
for k in range(300):
    ask(500, hdr(rnd64(), rnd64(), 46, 0x20, 37, 0x08, 1, 28 + len(sk)) + sk, wait=False)
sys.exit(1 if fails else 0)
PY
out=$(nsx "$C_NS" /usr/bin/python3 "$WORK/bad.py" $S_UL 2>&1)
rc=$?
echo "$out" | sed 's/^/     /'
check_eq "hostile datagrams: every expectation met" "$rc" 0
check_stat "server counted malformed datagrams" s ike rx-malformed 4
check "the refusal is logged with what was offered (RFC 8247)" \
	grep -q "gw: no acceptable IKE proposal from $C_UL:[0-9]*: it offered 3des-prfsha1-sha1-modp1024; we accept" "${TSD_LOG[s]}"
check_stat "server sent INVALID_MAJOR_VERSION" s ike tx-invalid-major 2
check_stat "server sent INVALID_IKE_SPI" s ike tx-invalid-spi 3
check_stat "the burst hit the rate limit" s ike unprotected-limited 100
check "no log line per datagram" sh -c "[ \$(wc -l <'${TSD_LOG[s]}') -lt 20 ]"
check "server still running" kill -0 "${TSD_PID[s]}"

ike_conf "$WORK/c.conf" c tsc0 "$C_IN4/32" $C_UL "$C_PEER" moon.example sun.example \
	"10.201.1.0/24" "10.201.2.0/24" start
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"
up() { "$TUNSEC" -s "${TSD_SOCK[s]}" status | grep -q "gw\[[0-9]*\]: established"; }
check "a real peer still gets its IKE SA" wait_for 10 up
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping through it (5/5)" ping_n "$C_NS" $S_IN4 5
check "client exits 0" tsd_stop c
check "server exits 0" tsd_stop s
lib_finish
