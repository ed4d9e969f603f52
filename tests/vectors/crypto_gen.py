#!/usr/bin/python3
"""Known-answer data for tests/unit/crypto_aead_test.c and crypto_prf_test.c.

Run from the repository root with Debian's /usr/bin/python3 (needs
python3-cryptography); it rewrites tests/vectors/crypto_*.txt.

Two kinds of records:
  * published vectors (RFC 8439 §2.8.2, the GCM specification's test cases,
    RFC 4231), typed in from those documents and *checked* here against
    Python's own AES-GCM, ChaCha20-Poly1305 and hmac before being written;
  * vectors this script *computes* with Python's cryptography (AES-CBC) and
    hmac modules, independently of our C code: AES-CBC + HMAC-SHA2 as ESP
    uses it (RFC 3602, RFC 4868, RFC 4303 §2.2.1 for the ESN trailer), and
    prf+ (RFC 7296 §2.13). Inputs come from a fixed seed, so reruns give the
    same files.

File format: "[record]" starts a record, "field:" starts a field, hex on
the following lines (none for an empty field), "#" comments.
"""
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305


def h(s):
    return bytes.fromhex("".join(s.split()))


def det(label, n):
    """n reproducible pseudo-random bytes for label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"tunsec-crypto-vectors|%s|%d" % (label.encode(), i)).digest()
        i += 1
    return out[:n]


def field(name, data):
    lines = [name + ":"]
    for i in range(0, len(data), 16):
        lines.append(" ".join("%02x" % b for b in data[i:i + 16]))
    return "\n".join(lines)


def record(name, fields, comment=None):
    out = []
    if comment:
        out += ["# " + c for c in comment.split("\n")]
    out.append("[%s]" % name)
    out += [field(k, v) for k, v in fields]
    return "\n".join(out) + "\n"


# ---- published AEAD vectors -------------------------------------------------

SUNSCREEN = (b"Ladies and Gentlemen of the class of '99: If I could offer you only "
             b"one tip for the future, sunscreen would be it.")

RFC8439 = dict(
    key=h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"),
    nonce=h("070000004041424344454647"),
    aad=h("50515253c0c1c2c3c4c5c6c7"),
    pt=SUNSCREEN,
    ct=h("""d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
            3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
            92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
            3ff4def08e4b7a9de576d26586cec64b6116"""),
    tag=h("1ae10b594f09e26a7e902ecbd0600691"),
)

GCM_P = h("""d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255""")
GCM_A = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_IV = h("cafebabefacedbaddecaf888")
GCM_K128 = h("feffe9928665731c6d6a8f9467308308")
GCM_K256 = GCM_K128 * 2
# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases.
GCM = [
    ("gcm_spec_tc3", GCM_K128, b"", GCM_P,
     h("""42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
          21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"""),
     h("4d5c2af327cd64a62cf35abd2ba6fab4")),
    ("gcm_spec_tc4", GCM_K128, GCM_A, GCM_P[:60],
     h("""42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
          21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"""),
     h("5bc94fbc3221a5db94fae95ae7121a47")),
    ("gcm_spec_tc15", GCM_K256, b"", GCM_P,
     h("""522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
          8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"""),
     h("b094dac5d93471bdec1a502270e3cc6c")),
    ("gcm_spec_tc16", GCM_K256, GCM_A, GCM_P[:60],
     h("""522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
          8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"""),
     h("76fc6ece0f4e1768cddf8853bb2d551b")),
]


def aead_records():
    out = []
    v = RFC8439
    assert ChaCha20Poly1305(v["key"]).encrypt(v["nonce"], v["pt"], v["aad"]) == v["ct"] + v["tag"]
    out.append(record("rfc8439_2_8_2", [
        ("keymat", v["key"] + v["nonce"][:4]), ("iv", v["nonce"][4:]), ("ad", v["aad"]),
        ("trailer", b""), ("pt", v["pt"]), ("ct", v["ct"]), ("icv", v["tag"])],
        "RFC 8439 §2.8.2: key || salt (the nonce's first 4 bytes), IV = the rest."))
    for name, k, a, p, c, t in GCM:
        assert AESGCM(k).encrypt(GCM_IV, p, a) == c + t, name
        out.append(record(name, [
            ("keymat", k + GCM_IV[:4]), ("iv", GCM_IV[4:]), ("ad", a), ("trailer", b""),
            ("pt", p), ("ct", c), ("icv", t)],
            "GCM spec %s: 96-bit IV split as salt (4) || IV (8)." % name[9:].upper()))
    return out


# ---- AES-CBC + HMAC-SHA2, computed here ------------------------------------

CBC = [  # record name, AES key bytes, hash, ICV bytes
    ("aes128-sha256", 16, hashlib.sha256, 16),
    ("aes128-sha384", 16, hashlib.sha384, 24),
    ("aes128-sha512", 16, hashlib.sha512, 32),
    ("aes256-sha256", 32, hashlib.sha256, 16),
    ("aes256-sha384", 32, hashlib.sha384, 24),
    ("aes256-sha512", 32, hashlib.sha512, 32),
]


def cbc_records():
    out = []
    for i, (name, klen, md, icvlen) in enumerate(CBC):
        ilen = md().digest_size  # RFC 4868 §2.1.1: key = hash output size
        ek, ik = det(name + "/enc", klen), det(name + "/integ", ilen)
        iv = det(name + "/iv", 16)
        ad = det(name + "/ad", 8)  # ESP: SPI || sequence number
        trailer = det(name + "/esn", 4) if i % 2 else b""  # ESN high half
        pt = det(name + "/pt", 16 * (3 + i))
        enc = Cipher(algorithms.AES(ek), modes.CBC(iv)).encryptor()
        ct = enc.update(pt) + enc.finalize()
        icv = hmac.new(ik, ad + iv + ct + trailer, md).digest()[:icvlen]
        out.append(record("cbc_" + name, [
            ("keymat", ek + ik), ("iv", iv), ("ad", ad), ("trailer", trailer), ("pt", pt),
            ("ct", ct), ("icv", icv)],
            "%s: AES-CBC (RFC 3602), HMAC over ad || iv || ct || trailer (RFC 4868)." % name))
    return out


# ---- RFC 4231 and prf+ -----------------------------------------------------

RFC4231 = [  # key, data, (sha256, sha384, sha512), truncated to 16 bytes?
    (b"\x0b" * 20, b"Hi There", False),
    (b"Jefe", b"what do ya want for nothing?", False),
    (b"\xaa" * 20, b"\xdd" * 50, False),
    (bytes(range(1, 26)), b"\xcd" * 50, False),
    (b"\x0c" * 20, b"Test With Truncation", True),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First", False),
    (b"\xaa" * 131, b"This is a test using a larger than block-size key and a larger than "
     b"block-size data. The key needs to be hashed before being used by the HMAC "
     b"algorithm.", False),
]
# Outputs as RFC 4231 §4 prints them, to check Python's hmac against.
RFC4231_SPOT = {
    (1, "sha256"): "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    (2, "sha384"): "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                   "8e2240ca5e69e2c78b3239ecfab21649",
    (5, "sha256"): "a3b6167473100ee06e0c796c2955552b",
    (5, "sha512"): "415fad6271580a531d4179bc891d87a6",
    (7, "sha512"): "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
                   "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
}


def hmac_records():
    out = []
    for n, (k, d, trunc) in enumerate(RFC4231, 1):
        fields = [("key", k), ("data", d)]
        for md in ("sha256", "sha384", "sha512"):
            mac = hmac.new(k, d, md).digest()
            if trunc:
                mac = mac[:16]
            if (n, md) in RFC4231_SPOT:
                assert mac.hex() == RFC4231_SPOT[(n, md)], (n, md)
            fields.append((md, mac))
        out.append(record("rfc4231_tc%d" % n, fields,
                          "RFC 4231 §4.%d%s" % (n + 1, " (output truncated to 128 bits)"
                                                 if trunc else "")))
    return out


def prf_plus(md, key, seed, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(key, t + seed + bytes([i]), md).digest()
        out += t
        i += 1
    return out[:n]


def prf_records():
    out = []
    cases = [  # name, hash, key length, seed length, output length
        ("sha256_skeyseed_like", "sha256", 32, 64, 100),
        ("sha384_exact_blocks", "sha384", 48, 40, 48 * 3),
        ("sha512_long_key", "sha512", 150, 72, 200),
        ("sha256_one_byte", "sha256", 16, 8, 1),
    ]
    for name, md, klen, slen, olen in cases:
        key, seed = det("prf/" + name + "/key", klen), det("prf/" + name + "/seed", slen)
        out.append(record("prf_plus_" + name, [
            ("key", key), ("seed", seed), ("out", prf_plus(md, key, seed, olen))],
            "prf+ (RFC 7296 §2.13) with HMAC-%s, Python's hmac." % md.upper()))
    return out


def write(path, head, recs):
    with open(path, "w") as f:
        f.write("# " + head + "\n# Written by tests/vectors/crypto_gen.py; see there.\n\n")
        f.write("\n".join(recs))


write("tests/vectors/crypto_aead_kat.txt",
      "AEAD known answers: RFC 8439, GCM spec, AES-CBC + HMAC-SHA2.",
      aead_records() + cbc_records())
write("tests/vectors/crypto_hmac_rfc4231.txt", "HMAC-SHA2 test cases 1-7 of RFC 4231.",
      hmac_records())
write("tests/vectors/crypto_prf_plus.txt", "prf+ outputs computed with Python's hmac.",
      prf_records())
