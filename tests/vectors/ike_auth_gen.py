#!/usr/bin/python3
"""Independent PSK AUTH values (RFC 7296 §2.15) for tests/unit/ike_auth_test.c.

Computed with Python's hmac/hashlib only, straight from the RFC's formulas:

    InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
    MACedIDForI           = prf(SK_pi, RestOfInitIDPayload)
    AUTH                  = prf(prf(Shared Secret, "Key Pad for IKEv2"),
                                <InitiatorSignedOctets>)

(the responder's the same with RealMessage2, NonceIData, SK_pr, IDr).
Inputs are deterministic (SHA-256 counter streams), so the file is
reproducible:

    /usr/bin/python3 tests/vectors/ike_auth_gen.py > tests/vectors/ike_auth_psk.txt
"""
import hashlib
import hmac

PRFS = [("prfsha256", hashlib.sha256), ("prfsha384", hashlib.sha384),
        ("prfsha512", hashlib.sha512)]


def stream(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def hexlines(b):
    h = b.hex()
    return "\n".join(" ".join(h[i + j:i + j + 2] for j in range(0, 64, 2)
                              if i + j < len(h))
                     for i in range(0, len(h), 64))


def rec(name, fields):
    print(f"[{name}]")
    for k, v in fields:
        print(f"{k}:")
        print(hexlines(v))
    print()


print("# Written by tests/vectors/ike_auth_gen.py (Python hmac/hashlib); see there.")
print()
CASES = [
    # name suffix, PSK, ID type, ID data, real message length, nonce length
    ("fqdn", b"a shared secret of some length", 2, b"moon.example", 312, 32),
    ("ipv4", b"x", 1, bytes([192, 0, 2, 1]), 500, 16),
    ("keyid_longpsk", bytes(range(200)), 11, b"\x01\x02\x03\xff", 1024, 256),
]
for pname, h in PRFS:
    mlen = h().digest_size
    for cname, psk, idtype, iddata, rlen, nlen in CASES:
        real = stream(f"{pname}/{cname}/real", rlen)
        nonce = stream(f"{pname}/{cname}/nonce", nlen)
        sk_p = stream(f"{pname}/{cname}/skp", mlen)
        id_body = bytes([idtype, 0, 0, 0]) + iddata
        maced = hmac.new(sk_p, id_body, h).digest()
        octets = real + nonce + maced
        pad_key = hmac.new(psk, b"Key Pad for IKEv2", h).digest()
        auth = hmac.new(pad_key, octets, h).digest()
        rec(f"{pname}_{cname}", [("psk", psk), ("real_msg", real), ("nonce", nonce),
                                 ("sk_p", sk_p), ("id_body", id_body),
                                 ("maced_id", maced), ("auth", auth)])
