#!/usr/bin/python3
"""Known answers for ike/keys.c (RFC 7296 §2.13, §2.14, §2.17, §2.18),
computed with Python's hmac and hashlib only. Writes ikekeys_kat.txt.

Inputs are fixed byte strings of different lengths (so that swapping Ni and
Nr, or the SPIs, changes every output), and g^ir starts with a zero byte as
a padded MODP value may. For each prf (HMAC-SHA2-256, -512) and IKE suite
(AES-GCM-16-256: 32-byte key + 4-byte salt, no integrity key;
AES-CBC-256 + HMAC-SHA2-256-128: 32-byte key, 32-byte integrity key):
SKEYSEED, the seven SK_* keys, Child SA KEYMAT per direction without and
with PFS for the same cipher suite, and a rekeyed IKE SA (same suite, and
one switching to the other prf).
"""
import hashlib
import hmac
import os

HASH = {5: hashlib.sha256, 6: hashlib.sha384, 7: hashlib.sha512}
PRF_NAME = {5: "sha256", 7: "sha512"}


def prf(alg, key, data):
    return hmac.new(key, data, HASH[alg]).digest()


def prf_plus(alg, key, seed, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(alg, key, t + seed + bytes([i]))
        out += t
        i += 1
    return out[:n]


def det(label, n):
    out, c = b"", 0
    while len(out) < n:
        out += hashlib.sha256(b"tunsec ikekeys " + label.encode() + bytes([c])).digest()
        c += 1
    return out[:n]


# (name, encr key+salt bytes, integ key bytes)
SUITES = {"aes256gcm16": (36, 0), "aes256_sha256": (32, 32)}

NI, NR = det("Ni", 32), det("Nr", 48)
SPII, SPIR = det("SPIi", 8), det("SPIr", 8)
GIR = b"\x00" + det("g^ir", 255)
NI2, NR2 = det("Ni rekey", 40), det("Nr rekey", 32)
SPII2, SPIR2 = det("SPIi rekey", 8), det("SPIr rekey", 8)
GIR2 = det("g^ir new", 32)
NI3, NR3 = det("Ni child", 24), det("Nr child", 36)


def ike_keys(alg, skeyseed, ni, nr, spii, spir, e, a):
    p = HASH[alg]().digest_size
    km = prf_plus(alg, skeyseed, ni + nr + spii + spir, 3 * p + 2 * a + 2 * e)
    names = [("sk_d", p), ("sk_ai", a), ("sk_ar", a), ("sk_ei", e), ("sk_er", e),
             ("sk_pi", p), ("sk_pr", p)]
    out, off = [], 0
    for name, n in names:
        out.append((name, km[off:off + n]))
        off += n
    return out


def records():
    recs = []
    for alg in (5, 7):
        for suite, (e, a) in SUITES.items():
            fields = [("ni", NI), ("nr", NR), ("spi_i", SPII), ("spi_r", SPIR), ("gir", GIR)]
            skeyseed = prf(alg, NI + NR, GIR)
            fields.append(("skeyseed", skeyseed))
            keys = ike_keys(alg, skeyseed, NI, NR, SPII, SPIR, e, a)
            fields += keys
            sk_d = keys[0][1]
            # Child SA: KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr), i2r then r2i.
            km = prf_plus(alg, sk_d, NI3 + NR3, 2 * (e + a))
            fields += [("child_ni", NI3), ("child_nr", NR3),
                       ("child_i2r", km[:e + a]), ("child_r2i", km[e + a:])]
            km = prf_plus(alg, sk_d, GIR2 + NI3 + NR3, 2 * (e + a))
            fields += [("child_gir", GIR2), ("child_pfs_i2r", km[:e + a]),
                       ("child_pfs_r2i", km[e + a:])]
            # Rekeyed IKE SA: SKEYSEED = prf_old(SK_d, g^ir | Ni | Nr).
            rs = prf(alg, sk_d, GIR2 + NI2 + NR2)
            fields += [("rekey_ni", NI2), ("rekey_nr", NR2), ("rekey_spi_i", SPII2),
                       ("rekey_spi_r", SPIR2), ("rekey_gir", GIR2), ("rekey_skeyseed", rs)]
            fields += [("rekey_" + n, v) for n, v in ike_keys(alg, rs, NI2, NR2, SPII2, SPIR2, e, a)]
            # The new SA switches prf: the old one still makes SKEYSEED.
            other = 7 if alg == 5 else 5
            fields += [("rekey_other_prf_" + n, v)
                       for n, v in ike_keys(other, rs, NI2, NR2, SPII2, SPIR2, e, a)]
            recs.append(("prf%s_%s" % (PRF_NAME[alg], suite), fields))
    return recs


def hexlines(b):
    h = b.hex()
    return "\n".join(" ".join(h[i + j:i + j + 2] for j in range(0, 32, 2) if i + j < len(h))
                     for i in range(0, len(h), 32))


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ikekeys_kat.txt")
    with open(path, "w") as f:
        f.write("# Written by tests/vectors/ikekeys_gen.py (Python hmac/hashlib); see there.\n")
        for name, fields in records():
            f.write("\n[%s]\n" % name)
            for k, v in fields:
                f.write("%s:\n%s\n" % (k, hexlines(v)) if v else "%s:\n" % k)
