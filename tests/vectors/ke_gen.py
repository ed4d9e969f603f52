#!/usr/bin/python3
"""Known answers for crypto/ke.c, computed with nothing but Python integers.

  ke_gen.py            write tests/vectors/ke_modp.txt and ke_rfc5903.txt
  ke_gen.py --c        print the MODP primes as C arrays (for crypto/ke.c)

The MODP primes are rebuilt from their defining formula
p = 2^N - 2^(N-64) - 1 + 2^64 * (floor(2^(N-130) * pi) + k)  (RFC 2409 §6.2,
RFC 3526 §2-§5), with pi from Machin's formula, and checked to be safe primes,
so that crypto/ke.c's tables do not come from any library it is then tested
against. The RFC 5903 §8 vectors are re-verified here with affine point
arithmetic before they are written out.
"""
import hashlib
import os
import random
import sys

MODP = {2: (1024, 129093), 14: (2048, 124476), 15: (3072, 1690314), 16: (4096, 240904)}
# Private exponent sizes in crypto/ke.c (bytes).
MODP_XLEN = {2: 32, 14: 40, 15: 56, 16: 64}


def arctan_inv(x, one):
    s = t = one // x
    x2, n, sign = x * x, 1, -1
    while t:
        t //= x2
        n += 2
        s += sign * (t // n)
        sign = -sign
    return s


def pi_fixed(bits):
    """floor(pi * 2^bits), with guard bits."""
    g = 64
    one = 1 << (bits + g)
    return (16 * arctan_inv(5, one) - 4 * arctan_inv(239, one)) >> g


def is_prime(n, rounds=16):
    if n < 2:
        return False
    for sp in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % sp == 0:
            return n == sp
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    rng = random.Random(7)
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def modp_prime(group):
    n, k = MODP[group]
    p = 2**n - 2**(n - 64) - 1 + 2**64 * (pi_fixed(n - 130) + k)
    assert p.bit_length() == n and is_prime(p) and is_prime((p - 1) // 2), group
    return p


def i2b(v, n):
    return v.to_bytes(n, "big")


def hexlines(b):
    h = b.hex()
    return "\n".join(" ".join(h[i + j:i + j + 2] for j in range(0, 32, 2) if i + j < len(h))
                     for i in range(0, len(h), 32))


def det_bytes(label, n):
    out, ctr = b"", 0
    while len(out) < n:
        out += hashlib.sha256(b"tunsec ke_gen " + label.encode() + bytes([ctr])).digest()
        ctr += 1
    return out[:n]


def modp_records():
    recs = []
    for group in (2, 14, 15, 16):
        p = modp_prime(group)
        plen, xlen = MODP[group][0] // 8, MODP_XLEN[group]
        xi = int.from_bytes(det_bytes("%d i" % group, xlen), "big")
        xr = int.from_bytes(det_bytes("%d r" % group, xlen), "big")
        yi, yr = pow(2, xi, p), pow(2, xr, p)
        s = pow(yr, xi, p)
        assert s == pow(yi, xr, p)
        recs.append(("modp_%d" % group,
                     "# RFC 3526 / RFC 2409 group %d: y = 2^x mod p, shared = yr^xi mod p." % group,
                     [("xi", i2b(xi, xlen)), ("yi", i2b(yi, plen)), ("xr", i2b(xr, xlen)),
                      ("yr", i2b(yr, plen)), ("shared", i2b(s, plen))]))
    # MODP 2048 values whose big-endian form starts with a zero byte: the KE
    # payload and g^ir keep the full modulus length (RFC 7296 §3.4, §2.14).
    group, p = 14, modp_prime(14)
    ctr = 0
    while True:
        x = int.from_bytes(det_bytes("lz pub %d" % ctr, 40), "big")
        if pow(2, x, p) < 2**(2048 - 8):
            break
        ctr += 1
    ctr2 = 0
    while True:
        xr = int.from_bytes(det_bytes("lz peer %d" % ctr2, 40), "big")
        if pow(pow(2, xr, p), x, p) < 2**(2048 - 8):
            break
        ctr2 += 1
    recs.append(("modp_14_leading_zero",
                 "# MODP 2048: y and the shared value both start with a 0x00 byte.",
                 [("xi", i2b(x, 40)), ("yi", i2b(pow(2, x, p), 256)), ("xr", i2b(xr, 40)),
                  ("yr", i2b(pow(2, xr, p), 256)), ("shared", i2b(pow(pow(2, xr, p), x, p), 256))]))
    return recs


# NIST curves (FIPS 186-4 D.1.2), a = -3.
CURVES = {
    19: (2**256 - 2**224 + 2**192 + 2**96 - 1,
         0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
         0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
         0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5, 32),
    20: (2**384 - 2**128 - 2**96 + 2**32 - 1,
         0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef,
         0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7,
         0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f, 48),
    21: (2**521 - 1,
         0x051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00,
         0xc6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66,
         0x11839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650, 66),
}


def ec_add(P, Q, p):
    if P is None:
        return Q
    if Q is None:
        return P
    if P[0] == Q[0]:
        if (P[1] + Q[1]) % p == 0:
            return None
        lam = (3 * P[0] * P[0] - 3) * pow(2 * P[1], -1, p) % p
    else:
        lam = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (lam * lam - P[0] - Q[0]) % p
    return (x, (lam * (P[0] - x) - P[1]) % p)


def ec_mul(k, P, p):
    R = None
    for bit in bin(k)[2:]:
        R = ec_add(R, R, p)
        if bit == "1":
            R = ec_add(R, P, p)
    return R


# RFC 5903 §8.1-§8.3: i, g^i (x, y), r, g^r (x, y), g^ir (x, y).
RFC5903 = {
    19: ("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
         "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
         "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
         "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
         "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
         "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
         "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de",
         "522bde0af0d8585b8def9c183b5ae38f50235206a8674ecb5d98edb20eb153a2"),
    20: ("099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
         "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa",
         "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
         "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
         "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571",
         "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
         "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746",
         "a2a9f38ef5cafbe2347cf7ec24bdd5e624bc93bfa82771f40d1b65d06256a852c983135d4669f8792f2c1d55718afbb4"),
    21: ("0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d4a52",
         "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176ced3e",
         "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f9582",
         "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb151685eb9",
         "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9460f",
         "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0fc56a",
         "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3ddea",
         "01b901e6b17db2947ac017d853ef1c1674e5cfe59cda18d078e05d1b5242adaa9ffc3c63ea05edb1e13ce5b3a8e50c3eb622e8da1b38e0bdd1f88569d6c99baffa43"),
}


def rfc5903_records():
    recs = []
    for group, v in RFC5903.items():
        p, b, gx, gy, flen = CURVES[group]
        i, gix, giy, r, grx, gry, girx, giry = (int(h, 16) for h in v)
        G = (gx, gy)
        assert (gy * gy - (gx**3 - 3 * gx + b)) % p == 0
        assert ec_mul(i, G, p) == (gix, giy) and ec_mul(r, G, p) == (grx, gry)
        assert ec_mul(i, (grx, gry), p) == (girx, giry) == ec_mul(r, (gix, giy), p)
        # A point off the curve: g^r with y + 1.
        assert ((gry + 1)**2 - (grx**3 - 3 * grx + b)) % p != 0
        recs.append(("ecp_%d" % group,
                     "# RFC 5903 §8 (group %d): KE payload data is x | y; g^ir is x only (§7)." % group,
                     [("i", i2b(i, flen)), ("gi", i2b(gix, flen) + i2b(giy, flen)),
                      ("r", i2b(r, flen)), ("gr", i2b(grx, flen) + i2b(gry, flen)),
                      ("gir", i2b(girx, flen)),
                      ("gr_off_curve", i2b(grx, flen) + i2b(gry + 1, flen)),
                      ("p", i2b(p, flen))]))
    return recs


def write(path, head, recs):
    with open(path, "w") as f:
        f.write(head)
        for name, comment, fields in recs:
            f.write("\n%s\n[%s]\n" % (comment, name))
            for k, b in fields:
                f.write("%s:\n%s\n" % (k, hexlines(b)))


def c_primes():
    for group in (2, 14, 15, 16):
        b = i2b(modp_prime(group), MODP[group][0] // 8)
        print("static const uint8_t modp%d_p[%d] = {" % (MODP[group][0], len(b)))
        for i in range(0, len(b), 12):
            print("\t" + " ".join("0x%02x," % c for c in b[i:i + 12]))
        print("};")


if __name__ == "__main__":
    if sys.argv[1:] == ["--c"]:
        c_primes()
        sys.exit(0)
    here = os.path.dirname(os.path.abspath(__file__))
    head = "# Written by tests/vectors/ke_gen.py (Python integers only); see there.\n"
    write(os.path.join(here, "ke_modp.txt"), head, modp_records())
    write(os.path.join(here, "ke_rfc5903.txt"), head, rfc5903_records())
