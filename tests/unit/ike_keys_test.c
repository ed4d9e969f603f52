/*
 * ike/keys: RFC 7296 §2.14 SKEYSEED and SK_* keys, §2.17 Child SA KEYMAT
 * (with and without PFS), §2.18 IKE SA rekeying, against values computed
 * with Python's hmac (tests/vectors/ikekeys_gen.py) for PRF_HMAC_SHA2_256
 * and _512 with AES-GCM-16-256 and AES-CBC-256 + HMAC-SHA2-256-128 key
 * sizes, and against NIST's CAVS IKEv2 KDF sample (SHA-256).
 */
#include "ike/keys.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "tests/unit/suites.h"
#include "tests/unit/test.h"

/* Field of a "[record]" in tests/vectors/<file>; bytes, or -1. */
struct kv {
	uint8_t b[512];
	int n;
};

static void get(struct kv *v, const char *file, const char *rec, const char *name)
{
	v->n = test_vector_get(file, rec, name, v->b, sizeof(v->b));
	if (v->n < 0)
		test_fail(__FILE__, __LINE__, "vector %s/%s missing", rec, name);
}

/* Compare a key of k against field prefix+name of the record. */
static void check_key(const char *rec, const char *prefix, const char *name, const uint8_t *key,
                      size_t len)
{
	char field[64];
	struct kv v;

	snprintf(field, sizeof(field), "%s%s", prefix, name);
	get(&v, "ikekeys_kat.txt", rec, field);
	if (v.n != (int)len || memcmp(v.b, key, len) != 0)
		test_fail(__FILE__, __LINE__,
		          "%s %s: %d bytes expected, %zu got, or content differs", rec, field, v.n,
		          len);
}

static void check_all(const char *rec, const char *prefix, const struct ike_keys *k)
{
	check_key(rec, prefix, "sk_d", k->sk_d, k->prf_len);
	check_key(rec, prefix, "sk_ai", k->sk_ai, k->integ_len);
	check_key(rec, prefix, "sk_ar", k->sk_ar, k->integ_len);
	check_key(rec, prefix, "sk_ei", k->sk_ei, k->encr_len);
	check_key(rec, prefix, "sk_er", k->sk_er, k->encr_len);
	check_key(rec, prefix, "sk_pi", k->sk_pi, k->prf_len);
	check_key(rec, prefix, "sk_pr", k->sk_pr, k->prf_len);
}

/* The records of ikekeys_kat.txt: a prf, and a cipher from suites.c. */
static const struct {
	const char *rec;
	int prf;
	const char *suite;
} kat[] = {
    {"prfsha256_aes256gcm16", PRF_HMAC_SHA2_256, "aes256gcm16"},
    {"prfsha256_aes256_sha256", PRF_HMAC_SHA2_256, "aes256-sha256"},
    {"prfsha512_aes256gcm16", PRF_HMAC_SHA2_512, "aes256gcm16"},
    {"prfsha512_aes256_sha256", PRF_HMAC_SHA2_512, "aes256-sha256"},
};

static struct ike_suite kat_suite(size_t i)
{
	const struct test_suite *t = test_suite(kat[i].suite);

	return (struct ike_suite){.proto = IKE_PROTO_IKE,
	                          .encr = t->encr,
	                          .key_bits = t->bits,
	                          .prf = kat[i].prf,
	                          .integ = t->integ};
}

TEST(ike_keys_rfc7296_2_14_skeyseed_and_sk_keys_python_vectors)
{
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		struct kv ni, nr, spi_i, spi_r, gir, seed;
		const struct ike_suite ike = kat_suite(i);
		const struct test_suite *t = test_suite(kat[i].suite);
		uint8_t skeyseed[PRF_MAX_OUT];
		struct ike_keys k;

		get(&ni, "ikekeys_kat.txt", kat[i].rec, "ni");
		get(&nr, "ikekeys_kat.txt", kat[i].rec, "nr");
		get(&spi_i, "ikekeys_kat.txt", kat[i].rec, "spi_i");
		get(&spi_r, "ikekeys_kat.txt", kat[i].rec, "spi_r");
		get(&gir, "ikekeys_kat.txt", kat[i].rec, "gir");
		get(&seed, "ikekeys_kat.txt", kat[i].rec, "skeyseed");
		REQUIRE(ni.n >= 0 && nr.n >= 0 && gir.n >= 0 && seed.n >= 0 && spi_i.n == 8 &&
		        spi_r.n == 8);
		CHECK_EQ(gir.b[0], 0); /* a padded g^ir: leading zero kept */
		CHECK_EQ(ike_keys_skeyseed(ike.prf, ni.b, ni.n, nr.b, nr.n, gir.b, gir.n, skeyseed),
		         0);
		CHECK_EQ(seed.n, prf_out_len(ike.prf));
		CHECK_MEM(skeyseed, seed.b, seed.n);
		CHECK_EQ(ike_keys_derive(&k, &ike, ni.b, ni.n, nr.b, nr.n, spi_i.b, spi_r.b, gir.b,
		                         gir.n),
		         0);
		CHECK_EQ(k.prf_len, prf_out_len(ike.prf));
		/* RFC 7296 §2.14: SK_e is the whole encryption keymat (with the
		 * salt, RFC 5282), SK_a the HMAC key. */
		CHECK_EQ(k.encr_len, t->encr_key);
		CHECK_EQ(k.integ_len, t->integ_key);
		check_all(kat[i].rec, "", &k);
		ike_keys_wipe(&k);
		CHECK(sodium_is_zero((const uint8_t *)&k, sizeof(k)));
	}
}

TEST(ike_keys_rfc7296_2_17_child_keymat_with_and_without_pfs)
{
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		struct kv ni, nr, spi_i, spi_r, gir, cni, cnr, cgir, i2r, r2i, pi2r, pr2i;
		const char *rec = kat[i].rec;
		const struct ike_suite ike = kat_suite(i);
		struct ike_child_keys ck;
		struct ike_suite esp = ike;
		struct ike_keys k;

		get(&ni, "ikekeys_kat.txt", rec, "ni");
		get(&nr, "ikekeys_kat.txt", rec, "nr");
		get(&spi_i, "ikekeys_kat.txt", rec, "spi_i");
		get(&spi_r, "ikekeys_kat.txt", rec, "spi_r");
		get(&gir, "ikekeys_kat.txt", rec, "gir");
		get(&cni, "ikekeys_kat.txt", rec, "child_ni");
		get(&cnr, "ikekeys_kat.txt", rec, "child_nr");
		get(&cgir, "ikekeys_kat.txt", rec, "child_gir");
		get(&i2r, "ikekeys_kat.txt", rec, "child_i2r");
		get(&r2i, "ikekeys_kat.txt", rec, "child_r2i");
		get(&pi2r, "ikekeys_kat.txt", rec, "child_pfs_i2r");
		get(&pr2i, "ikekeys_kat.txt", rec, "child_pfs_r2i");
		REQUIRE(spi_i.n == 8 && spi_r.n == 8 && cgir.n >= 0 && i2r.n >= 0 && pi2r.n >= 0);
		CHECK_EQ(ike_keys_derive(&k, &ike, ni.b, ni.n, nr.b, nr.n, spi_i.b, spi_r.b, gir.b,
		                         gir.n),
		         0);
		esp.proto = IKE_PROTO_ESP;
		esp.prf = 0;
		CHECK_EQ(ike_keys_child(&ck, &k, &esp, NULL, 0, cni.b, cni.n, cnr.b, cnr.n), 0);
		CHECK_EQ(ck.len, aead_keymat_len(esp.encr, esp.key_bits, esp.integ));
		CHECK_EQ(ck.len, i2r.n);
		CHECK_MEM(ck.i2r, i2r.b, i2r.n);
		CHECK_MEM(ck.r2i, r2i.b, r2i.n);
		CHECK_EQ(ike_keys_child(&ck, &k, &esp, cgir.b, cgir.n, cni.b, cni.n, cnr.b, cnr.n),
		         0);
		CHECK_EQ(ck.len, pi2r.n);
		CHECK_MEM(ck.i2r, pi2r.b, pi2r.n);
		CHECK_MEM(ck.r2i, pr2i.b, pr2i.n);
		ike_child_keys_wipe(&ck);
		CHECK(sodium_is_zero((const uint8_t *)&ck, sizeof(ck)));
		ike_keys_wipe(&k);
	}
}

TEST(ike_keys_rfc7296_2_18_ike_sa_rekey_same_and_other_prf)
{
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		struct kv ni, nr, spi_i, spi_r, gir, rni, rnr, rspi_i, rspi_r, rgir, rseed;
		const char *rec = kat[i].rec;
		const struct ike_suite ike = kat_suite(i);
		struct ike_suite other = ike;
		uint8_t skeyseed[PRF_MAX_OUT];
		struct ike_keys k, nk;

		get(&ni, "ikekeys_kat.txt", rec, "ni");
		get(&nr, "ikekeys_kat.txt", rec, "nr");
		get(&spi_i, "ikekeys_kat.txt", rec, "spi_i");
		get(&spi_r, "ikekeys_kat.txt", rec, "spi_r");
		get(&gir, "ikekeys_kat.txt", rec, "gir");
		get(&rni, "ikekeys_kat.txt", rec, "rekey_ni");
		get(&rnr, "ikekeys_kat.txt", rec, "rekey_nr");
		get(&rspi_i, "ikekeys_kat.txt", rec, "rekey_spi_i");
		get(&rspi_r, "ikekeys_kat.txt", rec, "rekey_spi_r");
		get(&rgir, "ikekeys_kat.txt", rec, "rekey_gir");
		get(&rseed, "ikekeys_kat.txt", rec, "rekey_skeyseed");
		REQUIRE(spi_i.n == 8 && spi_r.n == 8 && rspi_i.n == 8 && rspi_r.n == 8 &&
		        rseed.n >= 0);
		CHECK_EQ(ike_keys_derive(&k, &ike, ni.b, ni.n, nr.b, nr.n, spi_i.b, spi_r.b, gir.b,
		                         gir.n),
		         0);
		CHECK_EQ(ike_keys_rekey_skeyseed(k.prf, k.sk_d, k.prf_len, rgir.b, rgir.n, rni.b,
		                                 rni.n, rnr.b, rnr.n, skeyseed),
		         0);
		CHECK_MEM(skeyseed, rseed.b, rseed.n);
		CHECK_EQ(ike_keys_rekey(&nk, &k, &ike, rni.b, rni.n, rnr.b, rnr.n, rspi_i.b,
		                        rspi_r.b, rgir.b, rgir.n),
		         0);
		check_all(rec, "rekey_", &nk);
		/* The new SA picks the other SHA-2 prf: SKEYSEED still comes
		 * from the old one, the keys from the new one. */
		other.prf = ike.prf == PRF_HMAC_SHA2_256 ? PRF_HMAC_SHA2_512 : PRF_HMAC_SHA2_256;
		CHECK_EQ(ike_keys_rekey(&nk, &k, &other, rni.b, rni.n, rnr.b, rnr.n, rspi_i.b,
		                        rspi_r.b, rgir.b, rgir.n),
		         0);
		CHECK_EQ(nk.prf, other.prf);
		check_all(rec, "rekey_other_prf_", &nk);
		/* Rekeying needs a new g^ir (§2.18: PFS is mandatory here). */
		CHECK_EQ(ike_keys_rekey(&nk, &k, &other, rni.b, rni.n, rnr.b, rnr.n, rspi_i.b,
		                        rspi_r.b, NULL, 0),
		         -EINVAL);
		CHECK(sodium_is_zero((const uint8_t *)&nk, sizeof(nk)));
		CHECK_EQ(ike_keys_rekey(&k, &k, &other, rni.b, rni.n, rnr.b, rnr.n, rspi_i.b,
		                        rspi_r.b, rgir.b, rgir.n),
		         -EINVAL);
		ike_keys_wipe(&k);
	}
}

TEST(ike_keys_nist_cavs_ikev2_kdf_sha256_sample)
{
	static const char f[] = "ikekeys_nist_cavs.txt";
	struct kv ni, nr, spi_i, spi_r, gir, gir_new, seed, dkm, seed_rekey;
	struct ike_suite s = {.proto = IKE_PROTO_IKE,
	                      .encr = ENCR_AES_CBC,
	                      .key_bits = 256,
	                      .prf = PRF_HMAC_SHA2_256,
	                      .integ = AUTH_HMAC_SHA2_256_128};
	uint8_t out[PRF_MAX_OUT], cat[7 * 64];
	struct ike_keys k;
	size_t n = 0;

	get(&ni, f, "cavs_sha256", "ni");
	get(&nr, f, "cavs_sha256", "nr");
	get(&spi_i, f, "cavs_sha256", "spi_i");
	get(&spi_r, f, "cavs_sha256", "spi_r");
	get(&gir, f, "cavs_sha256", "gir");
	get(&gir_new, f, "cavs_sha256", "gir_new");
	get(&seed, f, "cavs_sha256", "skeyseed");
	get(&dkm, f, "cavs_sha256", "dkm");
	get(&seed_rekey, f, "cavs_sha256", "skeyseed_rekey");
	REQUIRE(spi_i.n == 8 && spi_r.n == 8 && dkm.n == 132 && seed_rekey.n == 32);
	CHECK_EQ(ike_keys_skeyseed(PRF_HMAC_SHA2_256, ni.b, ni.n, nr.b, nr.n, gir.b, gir.n, out),
	         0);
	CHECK_MEM(out, seed.b, 32);
	/* DKM is prf+'s output: our SK_* keys, end to end, start with it. */
	CHECK_EQ(ike_keys_derive(&k, &s, ni.b, ni.n, nr.b, nr.n, spi_i.b, spi_r.b, gir.b, gir.n),
	         0);
	memcpy(cat + n, k.sk_d, k.prf_len), n += k.prf_len;
	memcpy(cat + n, k.sk_ai, k.integ_len), n += k.integ_len;
	memcpy(cat + n, k.sk_ar, k.integ_len), n += k.integ_len;
	memcpy(cat + n, k.sk_ei, k.encr_len), n += k.encr_len;
	memcpy(cat + n, k.sk_er, k.encr_len), n += k.encr_len;
	CHECK(n >= 132);
	CHECK_MEM(cat, dkm.b, 132);
	/* SKEYSEED(Rekey) with SK_d (old) = DKM's first 32 bytes. */
	CHECK_EQ(ike_keys_rekey_skeyseed(PRF_HMAC_SHA2_256, dkm.b, 32, gir_new.b, gir_new.n, ni.b,
	                                 ni.n, nr.b, nr.n, out),
	         0);
	CHECK_MEM(out, seed_rekey.b, 32);
	ike_keys_wipe(&k);
}

TEST(ike_keys_rfc7296_2_14_swapped_inputs_change_everything)
{
	struct ike_suite s = kat_suite(0);
	uint8_t ni[32], nr[32], spi_i[8], spi_r[8], gir[32];
	struct ike_keys a, b;

	memset(ni, 1, sizeof(ni));
	memset(nr, 2, sizeof(nr));
	memset(spi_i, 3, 8);
	memset(spi_r, 4, 8);
	memset(gir, 5, sizeof(gir));
	CHECK_EQ(ike_keys_derive(&a, &s, ni, 32, nr, 32, spi_i, spi_r, gir, 32), 0);
	CHECK_EQ(ike_keys_derive(&b, &s, nr, 32, ni, 32, spi_i, spi_r, gir, 32), 0);
	CHECK(memcmp(a.sk_d, b.sk_d, a.prf_len) != 0);
	CHECK_EQ(ike_keys_derive(&b, &s, ni, 32, nr, 32, spi_r, spi_i, gir, 32), 0);
	CHECK(memcmp(a.sk_ei, b.sk_ei, a.encr_len) != 0);
	/* The two directions never share a key. */
	CHECK(memcmp(a.sk_ei, a.sk_er, a.encr_len) != 0);
	CHECK(memcmp(a.sk_pi, a.sk_pr, a.prf_len) != 0);
	ike_keys_wipe(&a);
	ike_keys_wipe(&b);
}

TEST(ike_keys_sk_keymat_feeds_aead_new)
{
	struct ike_suite s = kat_suite(1); /* AES-CBC-256 + HMAC-SHA2-256-128 */
	uint8_t ni[32] = {1}, nr[32] = {2}, spi_i[8] = {3}, spi_r[8] = {4}, gir[32] = {5};
	uint8_t km[AEAD_MAX_KEYMAT];
	struct ike_child_keys ck;
	struct ike_keys k;
	struct aead *a = NULL;
	size_t n;

	CHECK_EQ(ike_keys_derive(&k, &s, ni, 32, nr, 32, spi_i, spi_r, gir, 32), 0);
	n = ike_keys_sk_keymat(&k, true, km);
	CHECK_EQ(n, 64);
	CHECK_MEM(km, k.sk_ei, 32);
	CHECK_MEM(km + 32, k.sk_ai, 32);
	CHECK_EQ(aead_new(&a, s.encr, s.key_bits, s.integ, km, n), 0);
	aead_free(a);
	n = ike_keys_sk_keymat(&k, false, km);
	CHECK_MEM(km, k.sk_er, 32);
	CHECK_MEM(km + 32, k.sk_ar, 32);
	/* ChaCha20-Poly1305 child: 32-byte key + 4-byte salt, no integrity. */
	s.encr = ENCR_CHACHA20_POLY1305;
	s.key_bits = 0;
	s.integ = AUTH_NONE;
	CHECK_EQ(ike_keys_child(&ck, &k, &s, NULL, 0, ni, 32, nr, 32), 0);
	CHECK_EQ(ck.len, 36);
	a = NULL;
	CHECK_EQ(aead_new(&a, s.encr, s.key_bits, s.integ, ck.i2r, ck.len), 0);
	aead_free(a);
	ike_child_keys_wipe(&ck);
	ike_keys_wipe(&k);
}

TEST(ike_keys_bad_arguments_rejected)
{
	struct ike_suite s = kat_suite(0);
	uint8_t n32[32] = {0}, big[300] = {0}, spi[8] = {0}, gir[513] = {0};
	struct ike_child_keys ck;
	struct ike_keys k;

	/* Fixed-key-size prfs (AES-XCBC = 4, AES-CMAC = 8) and MD5 (1) are
	 * not implemented. */
	s.prf = 4;
	CHECK_EQ(ike_keys_derive(&k, &s, n32, 32, n32, 32, spi, spi, gir, 32), -EINVAL);
	s.prf = 1;
	CHECK_EQ(ike_keys_derive(&k, &s, n32, 32, n32, 32, spi, spi, gir, 32), -EINVAL);
	s = kat_suite(0);
	s.key_bits = 192; /* not in crypto/aead.c */
	CHECK_EQ(ike_keys_derive(&k, &s, n32, 32, n32, 32, spi, spi, gir, 32), -EINVAL);
	s = kat_suite(0);
	s.integ = AUTH_HMAC_SHA2_256_128; /* integrity next to GCM */
	CHECK_EQ(ike_keys_derive(&k, &s, n32, 32, n32, 32, spi, spi, gir, 32), -EINVAL);
	s = kat_suite(0);
	CHECK_EQ(ike_keys_derive(&k, &s, big, 257, n32, 32, spi, spi, gir, 32), -EINVAL);
	CHECK_EQ(ike_keys_derive(&k, &s, n32, 0, n32, 32, spi, spi, gir, 32), -EINVAL);
	CHECK_EQ(ike_keys_derive(&k, &s, n32, 32, n32, 32, spi, spi, gir, 513), -EINVAL);
	CHECK_EQ(ike_keys_derive(&k, &s, n32, 32, n32, 32, spi, spi, NULL, 0), -EINVAL);
	CHECK(sodium_is_zero((const uint8_t *)&k, sizeof(k)));
	CHECK_EQ(ike_keys_derive(&k, &s, big, 256, big, 256, spi, spi, gir, 512), 0);
	CHECK_EQ(ike_keys_child(&ck, &k, &s, gir, 513, n32, 32, n32, 32), -EINVAL);
	CHECK_EQ(ike_keys_child(&ck, &k, &s, NULL, 5, n32, 32, n32, 32), -EINVAL);
	CHECK_EQ(ike_keys_child(&ck, &k, &s, gir, 512, big, 256, big, 256), 0);
	ike_child_keys_wipe(&ck);
	ike_keys_wipe(&k);
}
