/*
 * crypto/ke: RFC 7748 §6.1 X25519 (Alice and Bob), RFC 5903 §8 ECP vectors
 * for groups 19, 20, 21, MODP known answers computed with Python integers
 * (tests/vectors/ke_gen.py), all on every library that does the group;
 * agreement across libraries; the MODP primes against OpenSSL's and
 * mbedTLS's copies; and every kind of invalid peer value RFC 7296 §5, NIST
 * SP 800-56A and RFC 8031 tell us to refuse.
 */
#include "crypto/ke.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <mbedtls/dhm.h>
#include <openssl/bn.h>
#include <sodium.h>

#include "tests/unit/test.h"

static const char *const ecp_libs[] = {"openssl", "mbedtls"};

/* Field of a "[record]" in tests/vectors/<file>, hex lines under "name:";
 * bytes, or -1. */
TEST(ke_rfc7748_6_1_x25519_alice_bob)
{
	uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32], k[32], out[KE_MAX_SHARED], pub[32];
	struct ke ka, kb;
	size_t out_len = 0;

	test_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a_priv, 32);
	test_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", a_pub, 32);
	test_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b_priv, 32);
	test_unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", b_pub, 32);
	test_unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k, 32);

	CHECK_EQ(ke_new_private(&ka, KE_CURVE25519, false, NULL, a_priv, 32), 0);
	CHECK_EQ(ke_new_private(&kb, KE_CURVE25519, false, "libsodium", b_priv, 32), 0);
	CHECK_EQ(ke_public_len(&ka), 32);
	ke_public(&ka, pub);
	CHECK_MEM(pub, a_pub, 32);
	ke_public(&kb, pub);
	CHECK_MEM(pub, b_pub, 32);
	CHECK_EQ(ke_shared(&ka, b_pub, 32, out, &out_len), 0);
	CHECK_EQ(out_len, 32);
	CHECK_MEM(out, k, 32);
	memset(out, 0, sizeof(out));
	CHECK_EQ(ke_shared(&kb, a_pub, 32, out, &out_len), 0);
	CHECK_MEM(out, k, 32);
	CHECK(strcmp(ke_lib(&ka), "libsodium") == 0);
	ke_free(&ka);
	ke_free(&kb);
	/* X25519 is libsodium's alone here. */
	CHECK_EQ(ke_new_private(&ka, KE_CURVE25519, false, "mbedtls", a_priv, 32), -ENOENT);
}

TEST(ke_rfc8031_2_1_x25519_low_order_and_bad_length_rejected)
{
	/* Points of order 1, 2 (well, 0 and 1 as u), 4 and 8 on Curve25519 or
	 * its twist: X25519 with any scalar gives all zeros. */
	static const char *const low_order[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t peer[33], out[KE_MAX_SHARED];
	size_t out_len = 99;
	struct ke k, other;

	CHECK_EQ(ke_new(&k, KE_CURVE25519, false), 0);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		test_unhex(low_order[i], peer, 32);
		memset(out, 0xaa, sizeof(out));
		CHECK_EQ(ke_shared(&k, peer, 32, out, &out_len), -EBADMSG);
		CHECK_EQ(out_len, 0);
		CHECK(sodium_is_zero(out, 32)); /* nothing usable left behind */
	}
	CHECK_EQ(ke_new(&other, KE_CURVE25519, false), 0);
	ke_public(&other, peer);
	peer[32] = 0;
	CHECK_EQ(ke_shared(&k, peer, 31, out, &out_len), -EBADMSG);
	CHECK_EQ(ke_shared(&k, peer, 33, out, &out_len), -EBADMSG);
	CHECK_EQ(ke_shared(&k, peer, 32, out, &out_len), 0);
	ke_free(&k);
	ke_free(&other);
}

TEST(ke_rfc5903_8_ecp_vectors_each_library)
{
	static const int grps[] = {KE_ECP_256, KE_ECP_384, KE_ECP_521};

	for (size_t g = 0; g < 3; g++) {
		uint8_t i[66], r[66], gi[132], gr[132], gir[66], pub[132], out[KE_MAX_SHARED];
		char rec[16];
		int flen, n;

		snprintf(rec, sizeof(rec), "ecp_%d", grps[g]);
		flen = test_vector_get("ke_rfc5903.txt", rec, "i", i, sizeof(i));
		REQUIRE(flen == 32 || flen == 48 || flen == 66);
		CHECK_EQ(test_vector_get("ke_rfc5903.txt", rec, "r", r, sizeof(r)), flen);
		CHECK_EQ(test_vector_get("ke_rfc5903.txt", rec, "gi", gi, sizeof(gi)), 2 * flen);
		CHECK_EQ(test_vector_get("ke_rfc5903.txt", rec, "gr", gr, sizeof(gr)), 2 * flen);
		CHECK_EQ(test_vector_get("ke_rfc5903.txt", rec, "gir", gir, sizeof(gir)), flen);
		CHECK_EQ(ke_group_public_len(grps[g]), 2 * flen);
		CHECK_EQ(ke_group_shared_len(grps[g]), flen);
		for (size_t l = 0; l < 2; l++) {
			struct ke ki, kr;
			size_t out_len = 0;

			CHECK_EQ(ke_new_private(&ki, grps[g], false, ecp_libs[l], i, flen), 0);
			CHECK_EQ(ke_new_private(&kr, grps[g], false, ecp_libs[l], r, flen), 0);
			CHECK(strcmp(ke_lib(&ki), ecp_libs[l]) == 0);
			CHECK_EQ(ke_public_len(&ki), 2 * flen);
			ke_public(&ki, pub);
			CHECK_MEM(pub, gi, 2 * flen);
			ke_public(&kr, pub);
			CHECK_MEM(pub, gr, 2 * flen);
			n = ke_shared(&ki, gr, 2 * flen, out, &out_len);
			CHECK_EQ(n, 0);
			CHECK_EQ(out_len, flen);
			CHECK_MEM(out, gir, flen);
			memset(out, 0, sizeof(out));
			CHECK_EQ(ke_shared(&kr, gi, 2 * flen, out, &out_len), 0);
			CHECK_MEM(out, gir, flen);
			ke_free(&ki);
			ke_free(&kr);
		}
	}
}

TEST(ke_rfc5903_ecp_invalid_points_rejected_each_library)
{
	static const int grps[] = {KE_ECP_256, KE_ECP_384, KE_ECP_521};

	for (size_t g = 0; g < 3; g++) {
		uint8_t i[66], gr[133], off[132], p[66], bad[133], out[KE_MAX_SHARED];
		char rec[16];
		int flen;

		snprintf(rec, sizeof(rec), "ecp_%d", grps[g]);
		flen = test_vector_get("ke_rfc5903.txt", rec, "i", i, sizeof(i));
		if (flen <= 0 || test_vector_get("ke_rfc5903.txt", rec, "gr", gr, sizeof(gr)) != 2 * flen ||
		    test_vector_get("ke_rfc5903.txt", rec, "gr_off_curve", off, sizeof(off)) != 2 * flen ||
		    test_vector_get("ke_rfc5903.txt", rec, "p", p, sizeof(p)) != flen) {
			CHECK(!"vectors missing");
			continue;
		}
		for (size_t l = 0; l < 2; l++) {
			struct ke k;
			size_t out_len = 7;

			CHECK_EQ(ke_new_private(&k, grps[g], false, ecp_libs[l], i, flen), 0);
			/* Off the curve (RFC 5903 §2 / SP 800-56A §5.6.2.3.3). */
			CHECK_EQ(ke_shared(&k, off, 2 * flen, out, &out_len), -EBADMSG);
			CHECK_EQ(out_len, 0);
			/* (0, 0): not on the curve, and a naive encoding of infinity. */
			memset(bad, 0, sizeof(bad));
			CHECK_EQ(ke_shared(&k, bad, 2 * flen, out, &out_len), -EBADMSG);
			/* x = p, i.e. x reduced would be 0: coordinates must be < p. */
			memcpy(bad, p, flen);
			memcpy(bad + flen, gr + flen, flen);
			CHECK_EQ(ke_shared(&k, bad, 2 * flen, out, &out_len), -EBADMSG);
			/* Wrong lengths, including SEC1's 0x04 | x | y (RFC 5903 §7
			 * has no prefix) and x alone. */
			bad[0] = 0x04;
			memcpy(bad + 1, gr, 2 * flen);
			CHECK_EQ(ke_shared(&k, bad, 2 * flen + 1, out, &out_len), -EBADMSG);
			CHECK_EQ(ke_shared(&k, gr, flen, out, &out_len), -EBADMSG);
			CHECK_EQ(ke_shared(&k, gr, 2 * flen - 1, out, &out_len), -EBADMSG);
			CHECK_EQ(ke_shared(&k, NULL, 0, out, &out_len), -EBADMSG);
			/* And the good one still works after all that. */
			CHECK_EQ(ke_shared(&k, gr, 2 * flen, out, &out_len), 0);
			CHECK_EQ(out_len, flen);
			ke_free(&k);
		}
		/* Private keys: 0 and n are out of range. */
		memset(bad, 0, sizeof(bad));
		for (size_t l = 0; l < 2; l++) {
			struct ke k;

			CHECK_EQ(ke_new_private(&k, grps[g], false, ecp_libs[l], bad, flen),
			         -EINVAL);
			CHECK_EQ(ke_new_private(&k, grps[g], false, ecp_libs[l], i, flen - 1),
			         -EINVAL);
		}
	}
}

TEST(ke_ecp_and_modp_libraries_agree_on_random_keys)
{
	static const int grps[] = {KE_ECP_256, KE_ECP_384, KE_ECP_521, KE_MODP_2048};

	for (size_t g = 0; g < 4; g++) {
		uint8_t pa[KE_MAX_PUBLIC], pb[KE_MAX_PUBLIC], sa[KE_MAX_SHARED], sb[KE_MAX_SHARED];
		size_t la = 0, lb = 0;
		struct ke a, b;

		CHECK_EQ(ke_new_lib(&a, grps[g], false, "openssl"), 0);
		CHECK_EQ(ke_new_lib(&b, grps[g], false, "mbedtls"), 0);
		ke_public(&a, pa);
		ke_public(&b, pb);
		CHECK(memcmp(pa, pb, ke_public_len(&a)) != 0);
		CHECK_EQ(ke_shared(&a, pb, ke_public_len(&b), sa, &la), 0);
		CHECK_EQ(ke_shared(&b, pa, ke_public_len(&a), sb, &lb), 0);
		CHECK_EQ(la, ke_group_shared_len(grps[g]));
		CHECK_EQ(la, lb);
		CHECK_MEM(sa, sb, la);
		ke_free(&a);
		ke_free(&b);
	}
}

TEST(ke_rfc3526_modp_python_known_answers_each_library)
{
	static const struct {
		const char *rec;
		int group;
	} recs[] = {
	    {"modp_2", KE_MODP_1024},
	    {"modp_14", KE_MODP_2048},
	    {"modp_15", KE_MODP_3072},
	    {"modp_16", KE_MODP_4096},
	    {"modp_14_leading_zero", KE_MODP_2048},
	};
	static uint8_t xi[64], yi[512], xr[64], yr[512], s[512], pub[512], out[KE_MAX_SHARED];

	for (size_t v = 0; v < sizeof(recs) / sizeof(recs[0]); v++) {
		int xl = test_vector_get("ke_modp.txt", recs[v].rec, "xi", xi, sizeof(xi));
		int xrl = test_vector_get("ke_modp.txt", recs[v].rec, "xr", xr, sizeof(xr));
		int pl = (int)ke_group_public_len(recs[v].group);

		REQUIRE(xl > 0 && xrl > 0);
		CHECK_EQ(test_vector_get("ke_modp.txt", recs[v].rec, "yi", yi, sizeof(yi)), pl);
		CHECK_EQ(test_vector_get("ke_modp.txt", recs[v].rec, "yr", yr, sizeof(yr)), pl);
		CHECK_EQ(test_vector_get("ke_modp.txt", recs[v].rec, "shared", s, sizeof(s)), pl);
		for (size_t l = 0; l < 2; l++) {
			struct ke ki, kr;
			size_t out_len = 0;

			CHECK_EQ(ke_new_private(&ki, recs[v].group, true, ecp_libs[l], xi, xl), 0);
			CHECK_EQ(ke_new_private(&kr, recs[v].group, true, ecp_libs[l], xr, xrl), 0);
			CHECK_EQ(ke_public_len(&ki), pl);
			ke_public(&ki, pub);
			CHECK_MEM(pub, yi, pl);
			ke_public(&kr, pub);
			CHECK_MEM(pub, yr, pl);
			CHECK_EQ(ke_shared(&ki, yr, pl, out, &out_len), 0);
			CHECK_EQ(out_len, pl);
			CHECK_MEM(out, s, pl);
			CHECK_EQ(ke_shared(&kr, yi, pl, out, &out_len), 0);
			CHECK_MEM(out, s, pl);
			ke_free(&ki);
			ke_free(&kr);
		}
	}
	/* The leading-zero record is what it says: RFC 7296 §3.4 wants the
	 * value padded to the modulus length, not stripped. */
	CHECK_EQ(test_vector_get("ke_modp.txt", "modp_14_leading_zero", "yi", yi, sizeof(yi)), 256);
	CHECK_EQ(yi[0], 0);
	CHECK_EQ(test_vector_get("ke_modp.txt", "modp_14_leading_zero", "shared", s, sizeof(s)), 256);
	CHECK_EQ(s[0], 0);
}

TEST(ke_rfc3526_modp2048_two_parties_agree_full_length)
{
	/* Enough fresh pairs that some public value or shared secret very
	 * likely starts with a zero byte; lengths must never shrink. */
	for (int round = 0; round < 24; round++) {
		uint8_t pa[256], pb[256], sa[KE_MAX_SHARED], sb[KE_MAX_SHARED];
		size_t la = 0, lb = 0;
		struct ke a, b;

		CHECK_EQ(ke_new(&a, KE_MODP_2048, false), 0);
		CHECK_EQ(ke_new(&b, KE_MODP_2048, false), 0);
		CHECK_EQ(ke_public_len(&a), 256);
		CHECK_EQ(ke_public_len(&b), 256);
		ke_public(&a, pa);
		ke_public(&b, pb);
		CHECK_EQ(ke_shared(&a, pb, 256, sa, &la), 0);
		CHECK_EQ(ke_shared(&b, pa, 256, sb, &lb), 0);
		CHECK_EQ(la, 256);
		CHECK_EQ(lb, 256);
		CHECK_MEM(sa, sb, 256);
		CHECK(memcmp(pa, pb, 256) != 0);
		ke_free(&a);
		ke_free(&b);
	}
}

/* p of a MODP group as OpenSSL has it, big-endian in len bytes. */
static void ossl_prime(int group, uint8_t *out, int len)
{
	BIGNUM *p = group == KE_MODP_1024   ? BN_get_rfc2409_prime_1024(NULL)
	            : group == KE_MODP_2048 ? BN_get_rfc3526_prime_2048(NULL)
	            : group == KE_MODP_3072 ? BN_get_rfc3526_prime_3072(NULL)
	                                    : BN_get_rfc3526_prime_4096(NULL);

	CHECK(p && BN_bn2binpad(p, out, len) == len);
	BN_free(p);
}

/* Big-endian n -= 1 (n > 0). */
static void be_dec(uint8_t *n, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (n[i]-- != 0)
			break;
}

TEST(ke_rfc7296_5_modp_invalid_peer_values_rejected)
{
	static const int grps[] = {KE_MODP_1024, KE_MODP_2048, KE_MODP_3072, KE_MODP_4096};
	static uint8_t p[513], y[513], out[KE_MAX_SHARED];

	for (size_t g = 0; g < 4; g++) {
		size_t pl = ke_group_public_len(grps[g]);

		ossl_prime(grps[g], p, (int)pl);
		for (size_t l = 0; l < 2; l++) {
			size_t out_len = 5;
			struct ke k;

			CHECK_EQ(ke_new_lib(&k, grps[g], true, ecp_libs[l]), 0);
			memset(y, 0, pl);
			CHECK_EQ(ke_shared(&k, y, pl, out, &out_len), -EBADMSG); /* 0 */
			CHECK_EQ(out_len, 0);
			y[pl - 1] = 1;
			CHECK_EQ(ke_shared(&k, y, pl, out, &out_len), -EBADMSG); /* 1 */
			memcpy(y, p, pl);
			CHECK_EQ(ke_shared(&k, y, pl, out, &out_len), -EBADMSG); /* p */
			be_dec(y, pl);
			CHECK_EQ(ke_shared(&k, y, pl, out, &out_len), -EBADMSG); /* p-1 */
			memset(y, 0xff, pl);
			CHECK_EQ(ke_shared(&k, y, pl, out, &out_len), -EBADMSG); /* > p */
			/* p-2 and 2 are fine: with p-1 refused, this pins our p to
			 * exactly OpenSSL's copy of RFC 3526's prime. */
			memcpy(y, p, pl);
			be_dec(y, pl);
			be_dec(y, pl);
			CHECK_EQ(ke_shared(&k, y, pl, out, &out_len), 0);
			CHECK_EQ(out_len, pl);
			memset(y, 0, pl);
			y[pl - 1] = 2;
			CHECK_EQ(ke_shared(&k, y, pl, out, &out_len), 0);
			/* Wrong lengths: stripped leading zeros are not accepted. */
			CHECK_EQ(ke_shared(&k, y + 1, pl - 1, out, &out_len), -EBADMSG);
			CHECK_EQ(ke_shared(&k, y, pl + 1, out, &out_len), -EBADMSG);
			ke_free(&k);
		}
	}
}

TEST(ke_rfc3526_primes_match_mbedtls_copies)
{
	static const uint8_t m2048[] = MBEDTLS_DHM_RFC3526_MODP_2048_P_BIN;
	static const uint8_t m3072[] = MBEDTLS_DHM_RFC3526_MODP_3072_P_BIN;
	static const uint8_t m4096[] = MBEDTLS_DHM_RFC3526_MODP_4096_P_BIN;
	static uint8_t o[512];

	/* OpenSSL's and mbedTLS's tables agree with each other, and the test
	 * above ties ours to OpenSSL's. */
	CHECK_EQ(sizeof(m2048), 256);
	ossl_prime(KE_MODP_2048, o, 256);
	CHECK_MEM(o, m2048, 256);
	ossl_prime(KE_MODP_3072, o, 384);
	CHECK_MEM(o, m3072, 384);
	ossl_prime(KE_MODP_4096, o, 512);
	CHECK_MEM(o, m4096, 512);
}

TEST(ke_rfc8247_2_4_modp1024_only_with_legacy_flag)
{
	struct ke k;

	CHECK(!ke_supported(KE_MODP_1024, false));
	CHECK(ke_supported(KE_MODP_1024, true));
	CHECK_EQ(ke_new(&k, KE_MODP_1024, false), -ENOTSUP);
	CHECK(sodium_is_zero((const uint8_t *)&k, sizeof(k)));
	CHECK_EQ(ke_new(&k, KE_MODP_1024, true), 0);
	CHECK_EQ(ke_public_len(&k), 128);
	ke_free(&k);
}

TEST(ke_rfc7296_3_3_2_unknown_groups_refused)
{
	static const int bad[] = {KE_NONE, 1, 5, 17, 18, 22, 24, 30, 32, 35, -1, 65535};
	struct ke k;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!ke_supported(bad[i], true));
		CHECK_EQ(ke_new(&k, bad[i], true), -ENOTSUP);
		CHECK_EQ(ke_group_public_len(bad[i]), 0);
		CHECK(ke_name(bad[i]) == NULL);
	}
	CHECK(strcmp(ke_name(KE_CURVE25519), "curve25519") == 0);
	CHECK(strcmp(ke_name(KE_ECP_384), "ecp384") == 0);
	CHECK(strcmp(ke_name(KE_MODP_4096), "modp4096") == 0);
	CHECK_EQ(ke_new_lib(&k, KE_ECP_256, false, "nosuchlib"), -ENOENT);
	CHECK_EQ(ke_new_lib(&k, KE_MODP_2048, false, "libsodium"), -ENOENT);
}

TEST(ke_free_wipes_private_key)
{
	static const int grps[] = {KE_MODP_2048, KE_ECP_256, KE_CURVE25519};

	for (size_t g = 0; g < 3; g++) {
		struct ke k;

		CHECK_EQ(ke_new(&k, grps[g], false), 0);
		CHECK(!sodium_is_zero(k.priv, k.priv_len));
		ke_free(&k);
		CHECK(sodium_is_zero((const uint8_t *)&k, sizeof(k)));
		ke_free(&k); /* twice is fine */
	}
	ke_free(NULL);
}
