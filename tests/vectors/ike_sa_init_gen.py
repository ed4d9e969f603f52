#!/usr/bin/python3
"""A hand-built IKE_SA_INIT request (RFC 7296 §1.2) for
tests/unit/ike_msg_test.c, assembled field by field with struct.pack (not with
tunsec's builder), then decoded by tshark's ISAKMP dissector to check that
it is a well-formed message meaning what the unit test expects.

    HDR, SAi1 (2 proposals), KEi (Curve25519), Ni,
    N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
    N(IKEV2_FRAGMENTATION_SUPPORTED), N(SIGNATURE_HASH_ALGORITHMS)

    /usr/bin/python3 tests/vectors/ike_sa_init_gen.py > tests/vectors/ike_sa_init.txt
    /usr/bin/python3 tests/vectors/ike_sa_init_gen.py --tshark   # cross-check
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

SA, KE, NONCE, NOTIFY = 33, 34, 40, 41


def det(n, seed):
    return (hashlib.sha512(seed.encode()).digest() * 4)[:n]


def transform(last, ttype, tid, keylen=None):
    attrs = struct.pack("!HH", 0x8000 | 14, keylen) if keylen else b""
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs


def proposal(last, num, transforms):
    body = b"".join(transform(i == len(transforms) - 1, *t) for i, t in enumerate(transforms))
    return struct.pack("!BBHBBBB", 0 if last else 2, 0, 8 + len(body), num, 1, 0,
                       len(transforms)) + body


def notify(ntype, data=b""):
    return struct.pack("!BBH", 0, 0, ntype) + data


def message():
    p1 = proposal(False, 1, [(1, 20, 256), (2, 5), (4, 31), (4, 19)])
    p2 = proposal(True, 2, [(1, 12, 128), (3, 12), (2, 5), (4, 31)])
    payloads = [
        (SA, p1 + p2),
        (KE, struct.pack("!HH", 31, 0) + det(32, "ke")),
        (NONCE, det(32, "nonce")),
        (NOTIFY, notify(16388, det(20, "nat-src"))),
        (NOTIFY, notify(16389, det(20, "nat-dst"))),
        (NOTIFY, notify(16430)),
        (NOTIFY, notify(16431, struct.pack("!HHH", 2, 3, 4))),
    ]
    body = b""
    for i, (_, pl) in enumerate(payloads):
        np = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        body += struct.pack("!BBH", np, 0, 4 + len(pl)) + pl
    hdr = struct.pack("!QQBBBBII", 0x5E1E9A2B7C3D4F60, 0, SA, 0x20, 34, 0x08, 0,
                      28 + len(body))
    return hdr + body


EXPECT = [
    "Exchange type: IKE_SA_INIT (34)",
    "Initiator: Initiator",
    "Transform ID (ENCR): AES-GCM with a 16 octet ICV (20)",
    "Key Length: 256",
    "Transform ID (ENCR): ENCR_AES_CBC (12)",
    "Transform ID (D-H): Curve25519 (31)",
    "Transform ID (D-H): 256-bit random ECP group (19)",
    "Transform ID (INTEG): AUTH_HMAC_SHA2_256_128 (12)",
    "Transform ID (PRF): PRF_HMAC_SHA2_256 (5)",
    "Key Exchange Data: ",
    "Nonce DATA: ",
    "Notify Message Type: NAT_DETECTION_SOURCE_IP (16388)",
    "Notify Message Type: NAT_DETECTION_DESTINATION_IP (16389)",
    "Notify Message Type: IKEV2_FRAGMENTATION_SUPPORTED (16430)",
    "Notify Message Type: SIGNATURE_HASH_ALGORITHMS (16431)",
]


def tshark_check(msg):
    from scapy.all import IP, UDP, Raw, wrpcap
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "sa_init.pcap")
        wrpcap(pcap, [IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=500, dport=500) /
                      Raw(msg)])
        out = subprocess.run(["tshark", "-r", pcap, "-V"], capture_output=True, text=True,
                             check=True).stdout
    bad = [e for e in EXPECT if e not in out]
    if "Malformed" in out or "Expert Info" in out or bad:
        sys.stdout.write(out)
        sys.exit("tshark disagrees: %s" % bad)
    print("tshark: all %d expectations found, no malformed/expert info" % len(EXPECT))


if __name__ == "__main__":
    msg = message()
    if "--tshark" in sys.argv:
        tshark_check(msg)
    else:
        print("[ike_sa_init]")
        print("message: " + msg.hex())
