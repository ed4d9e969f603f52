/*
 * crypto/prf and crypto/hmac: RFC 4231 test cases 1-7 for HMAC-SHA-256,
 * -384 and -512 (case 5 truncated, cases 6-7 with keys longer than a
 * block) on both hash libraries, incremental HMAC against one-shot and
 * the two libraries against each other, and prf+ (RFC 7296 §2.13)
 * against vectors from Python's hmac and against T1 | T2 | T3 recomputed
 * by hand.
 */
#include "crypto/prf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/hmac.h"
#include "tests/unit/test.h"

static const int prfs[] = {PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512};
static const char *const prf_field[] = {"sha256", "sha384", "sha512"};
static const char *const libs[] = {"openssl", "mbedtls"};

/* "[record]", "field:", hex lines; bytes of field, or -1. */
TEST(prf_hmac_sha2_rfc4231_tc1_to_tc7)
{
	static const char file[] = "crypto_hmac_rfc4231.txt";
	uint8_t key[256], data[256], want[64], out[PRF_MAX_OUT];
	char rec[32];
	int ran = 0;

	for (int tc = 1; tc <= 7; tc++) {
		snprintf(rec, sizeof(rec), "rfc4231_tc%d", tc);
		int kl = test_vector_get(file, rec, "key", key, sizeof(key));
		int dl = test_vector_get(file, rec, "data", data, sizeof(data));

		REQUIRE(kl > 0 && dl > 0);
		if (tc >= 6)
			CHECK_EQ(kl, 131); /* longer than even SHA-512's block */
		for (int p = 0; p < 3; p++) {
			int wl = test_vector_get(file, rec, prf_field[p], want, sizeof(want));

			/* §4.6: case 5 lists only the leftmost 128 bits. */
			REQUIRE_EQ(wl, tc == 5 ? 16 : prf_out_len(prfs[p]));
			CHECK_EQ(prf_compute(prfs[p], key, (size_t)kl, data, (size_t)dl, out), 0);
			CHECK_MEM(out, want, (size_t)wl);
			/* And each hash library on its own. */
			for (size_t l = 0; l < sizeof(libs) / sizeof(libs[0]); l++) {
				struct hmac h;

				if (hmac_init_lib(&h, prfs[p], key, (size_t)kl, libs[l]) == -ENOENT)
					continue;
				CHECK(strcmp(hmac_lib(&h), libs[l]) == 0);
				hmac_start(&h);
				hmac_update(&h, data, (size_t)dl);
				hmac_finish(&h, out);
				hmac_wipe(&h);
				CHECK_MEM(out, want, (size_t)wl);
				if (memcmp(out, want, (size_t)wl) != 0)
					printf("  (test case %d, %s, %s)\n", tc, prf_field[p],
					       libs[l]);
				ran++;
			}
		}
	}
	CHECK(ran >= 7 * 3); /* mbedTLS always; OpenSSL where built in */
}

TEST(hmac_incremental_matches_oneshot_both_libs_rfc2104)
{
	uint8_t key[200], msg[300], one[PRF_MAX_OUT], inc[PRF_MAX_OUT];
	struct hmac h;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 13 + 7);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 3);
	for (int p = 0; p < 3; p++) {
		size_t klens[] = {0, 1, 64, 65, 128, 129, 200};

		for (size_t k = 0; k < 2 * sizeof(klens) / sizeof(klens[0]); k++) {
			const char *lib = libs[k & 1];
			size_t kl = klens[k / 2];

			if (hmac_init_lib(&h, prfs[p], key, kl, lib) == -ENOENT)
				continue;
			CHECK_EQ(h.out_len, prf_out_len(prfs[p]));
			CHECK_EQ(prf_compute(prfs[p], key, kl, msg, sizeof(msg), one), 0);
			/* Split at many points, the same keyed state each time. */
			for (size_t cut = 0; cut <= sizeof(msg); cut += 23) {
				hmac_start(&h);
				hmac_update(&h, msg, cut);
				hmac_update(&h, NULL, 0);
				hmac_update(&h, msg + cut, sizeof(msg) - cut);
				hmac_finish(&h, inc);
				CHECK_MEM(inc, one, h.out_len);
			}
			hmac_wipe(&h);
		}
	}
	CHECK_EQ(hmac_init(&h, 1 /* PRF_HMAC_MD5: never */, key, 20), -EINVAL);
	CHECK_EQ(hmac_init_lib(&h, PRF_HMAC_SHA2_256, key, 20, "nosuchlib"), -ENOENT);
}

TEST(prf_plus_rfc7296_2_13_python_vectors)
{
	static const char file[] = "crypto_prf_plus.txt";
	static const struct {
		const char *rec;
		int prf;
	} cases[] = {
	    {"prf_plus_sha256_skeyseed_like", PRF_HMAC_SHA2_256},
	    {"prf_plus_sha384_exact_blocks", PRF_HMAC_SHA2_384},
	    {"prf_plus_sha512_long_key", PRF_HMAC_SHA2_512},
	    {"prf_plus_sha256_one_byte", PRF_HMAC_SHA2_256},
	};
	uint8_t key[256], seed[256], want[512], out[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int kl = test_vector_get(file, cases[i].rec, "key", key, sizeof(key));
		int sl = test_vector_get(file, cases[i].rec, "seed", seed, sizeof(seed));
		int wl = test_vector_get(file, cases[i].rec, "out", want, sizeof(want));

		REQUIRE(kl > 0 && sl > 0 && wl > 0);
		memset(out, 0xee, sizeof(out));
		CHECK_EQ(prf_plus(cases[i].prf, key, (size_t)kl, seed, (size_t)sl, out, (size_t)wl),
		         0);
		CHECK_MEM(out, want, (size_t)wl);
		CHECK_EQ(out[wl], 0xee); /* not a byte more */
	}
}

TEST(prf_plus_rfc7296_2_13_t1_t2_t3_by_hand)
{
	uint8_t key[48], seed[40], in[PRF_MAX_OUT + sizeof(seed) + 1];
	uint8_t t[3][PRF_MAX_OUT], out[3 * PRF_MAX_OUT];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 5);
	for (int p = 0; p < 3; p++) {
		size_t ol = prf_out_len(prfs[p]), n;

		/* T1 = prf(K, S | 0x01) */
		memcpy(in, seed, sizeof(seed));
		in[sizeof(seed)] = 1;
		CHECK_EQ(prf_compute(prfs[p], key, sizeof(key), in, sizeof(seed) + 1, t[0]), 0);
		/* Tn = prf(K, Tn-1 | S | n) */
		for (int k = 1; k < 3; k++) {
			memcpy(in, t[k - 1], ol);
			memcpy(in + ol, seed, sizeof(seed));
			in[ol + sizeof(seed)] = (uint8_t)(k + 1);
			n = ol + sizeof(seed) + 1;
			CHECK_EQ(prf_compute(prfs[p], key, sizeof(key), in, n, t[k]), 0);
		}
		/* A length that ends inside T3. */
		n = 2 * ol + 5;
		CHECK_EQ(prf_plus(prfs[p], key, sizeof(key), seed, sizeof(seed), out, n), 0);
		CHECK_MEM(out, t[0], ol);
		CHECK_MEM(out + ol, t[1], ol);
		CHECK_MEM(out + 2 * ol, t[2], 5);
	}
}

TEST(prf_plus_rfc7296_2_13_at_most_255_blocks)
{
	static uint8_t out[255 * 64 + 1];
	uint8_t key[32] = {1};

	CHECK_EQ(prf_plus(PRF_HMAC_SHA2_256, key, 32, NULL, 0, out, 255 * 32), 0);
	CHECK_EQ(prf_plus(PRF_HMAC_SHA2_256, key, 32, NULL, 0, out, 255 * 32 + 1), -EINVAL);
	CHECK_EQ(prf_plus(PRF_HMAC_SHA2_512, key, 32, NULL, 0, out, 255 * 64), 0);
	CHECK_EQ(prf_plus(PRF_HMAC_SHA2_512, key, 32, NULL, 0, out, 255 * 64 + 1), -EINVAL);
	CHECK_EQ(prf_plus(1, key, 32, NULL, 0, out, 32), -EINVAL);
	CHECK_EQ(prf_plus(PRF_HMAC_SHA2_384, key, 32, NULL, 0, out, 0), 0);
}

TEST(prf_out_len_rfc4868_2_1)
{
	uint8_t out[PRF_MAX_OUT];

	CHECK_EQ(prf_out_len(PRF_HMAC_SHA2_256), 32);
	CHECK_EQ(prf_out_len(PRF_HMAC_SHA2_384), 48);
	CHECK_EQ(prf_out_len(PRF_HMAC_SHA2_512), 64);
	CHECK_EQ(prf_out_len(1), 0); /* HMAC-MD5 */
	CHECK_EQ(prf_compute(4 /* AES128_XCBC */, out, 16, out, 16, out), -EINVAL);
}

/* RFC 2202 §3 test cases 1, 2 and 6 (a key longer than the block): the
 * legacy PRF_HMAC_SHA1 on both hash libraries. */
TEST(prf_hmac_sha1_rfc2202_tc1_tc2_tc6_legacy)
{
	uint8_t k1[20], k6[80], out[PRF_MAX_OUT], w[20];
	static const char d6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	struct {
		const uint8_t *key;
		size_t klen;
		const char *data;
		const char *want;
	} tc[] = {
	    {k1, 20, "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
	    {(const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
	     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
	    {k6, 80, d6, "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
	};

	memset(k1, 0x0b, sizeof(k1));
	memset(k6, 0xaa, sizeof(k6));
	CHECK_EQ(prf_out_len(PRF_HMAC_SHA1), 20);
	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		REQUIRE_EQ(test_unhex(tc[i].want, w, sizeof(w)), 20);
		CHECK_EQ(prf_compute(PRF_HMAC_SHA1, tc[i].key, tc[i].klen,
				     (const uint8_t *)tc[i].data, strlen(tc[i].data), out),
			 0);
		CHECK_MEM(out, w, 20);
		for (size_t l = 0; l < sizeof(libs) / sizeof(libs[0]); l++) {
			struct hmac h;

			if (hmac_init_lib(&h, PRF_HMAC_SHA1, tc[i].key, tc[i].klen, libs[l]) ==
			    -ENOENT)
				continue;
			hmac_start(&h);
			hmac_update(&h, tc[i].data, strlen(tc[i].data));
			hmac_finish(&h, out);
			hmac_wipe(&h);
			CHECK_MEM(out, w, 20);
		}
	}
}
