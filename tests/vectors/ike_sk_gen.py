#!/usr/bin/python3
"""Independent IKEv2 SK payloads (RFC 7296 §3.14) for tests/unit/ike_msg_test.c.

Sealed with the "cryptography" package, not with tunsec: combined modes use
AAD = IKE header + SK generic header (RFC 5282 §5, RFC 7634 §3 for
ChaCha20-Poly1305, nonce = 4-byte salt || 8-byte IV); AES-CBC + HMAC-SHA2 has
ICV = HMAC(header || SK header || IV || ciphertext) truncated (RFC 4868).
Key material is one blob as crypto/aead.h wants it: encryption key (+ salt),
then the integrity key. Padding is deliberately non-zero and, for the
combined modes, not 4-aligned: a receiver must accept any (§3.14).

    /usr/bin/python3 tests/vectors/ike_sk_gen.py > tests/vectors/ike_sk.txt
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

ENCR_AES_CBC, ENCR_AES_GCM_16, ENCR_CHACHA = 12, 20, 28
SUITES = [
    # name, encr, bits, integ id, enc key len, salt len, integ key len, icv len, hash
    ("aes128gcm16", ENCR_AES_GCM_16, 128, 0, 16, 4, 0, 16, None),
    ("aes256gcm16", ENCR_AES_GCM_16, 256, 0, 32, 4, 0, 16, None),
    ("chacha20poly1305", ENCR_CHACHA, 256, 0, 32, 4, 0, 16, None),
    ("aes128-sha256", ENCR_AES_CBC, 128, 12, 16, 0, 32, 16, hashlib.sha256),
    ("aes256-sha512", ENCR_AES_CBC, 256, 14, 32, 0, 64, 32, hashlib.sha512),
]


def det(n, seed):
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%d" % (seed.encode(), i)).digest()
        i += 1
    return out[:n]


def payload(np, body):
    return struct.pack("!BBH", np, 0, 4 + len(body)) + body


def main():
    idi = payload(40, struct.pack("!B3x", 2) + b"peer.example")  # IDi(FQDN) -> Nonce
    nonce = payload(0, det(32, "nonce"))
    inner = idi + nonce
    for name, encr, bits, integ, ekl, sl, ikl, icvl, h in SUITES:
        km = det(ekl + sl + ikl, name)
        ek, salt, ik = km[:ekl], km[ekl:ekl + sl], km[ekl + sl:]
        ivl = 16 if encr == ENCR_AES_CBC else 8
        iv = det(ivl, name + "-iv")
        if encr == ENCR_AES_CBC:
            padlen = (-(len(inner) + 1)) % 16
        else:
            padlen = 3  # any length is fine for combined modes
        plain = inner + bytes(range(0xa0, 0xa0 + padlen)) + bytes([padlen])
        sk_len = 4 + ivl + len(plain) + icvl
        total = 28 + sk_len
        hdr = struct.pack("!8s8sBBBBII", det(8, "spii"), det(8, "spir"), 46, 0x20, 35,
                          0x08, 1, total)
        ad = hdr + struct.pack("!BBH", 35, 0, sk_len)
        if encr == ENCR_AES_GCM_16:
            sealed = AESGCM(ek).encrypt(salt + iv, plain, ad)
        elif encr == ENCR_CHACHA:
            sealed = ChaCha20Poly1305(ek).encrypt(salt + iv, plain, ad)
        else:
            enc = Cipher(algorithms.AES(ek), modes.CBC(iv)).encryptor()
            ct = enc.update(plain) + enc.finalize()
            sealed = ct + hmac.new(ik, ad + iv + ct, h).digest()[:icvl]
        msg = ad + iv + sealed
        assert len(msg) == total
        print("[%s]" % name)
        print("suite: %04x%04x%04x" % (encr, bits, integ))
        print("keymat: " + km.hex())
        print("inner: " + inner.hex())
        print("message: " + msg.hex())
        print()


if __name__ == "__main__":
    main()
