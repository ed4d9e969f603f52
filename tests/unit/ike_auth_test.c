/*
 * ike/auth.c: PSK AUTH (RFC 7296 §2.15) against values computed
 * independently by Python's hmac (tests/vectors/ike_auth_gen.py) for each
 * HMAC-SHA2 prf, with short, long (> block size) PSKs and maximal nonces;
 * the signed octets laid out in the §2.15 order; verification refusing any
 * change to what is signed.
 */
#include "ike/auth.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/prf.h"
#include "tests/unit/test.h"

/* Field of a "[record]" in tests/vectors/<file>; bytes, or -1. */
struct field {
	uint8_t b[1100];
	int n;
};

struct vec {
	struct field psk, real, nonce, sk_p, id_body, maced, auth;
};

static bool load(const char *rec, struct vec *v)
{
	static const char file[] = "ike_auth_psk.txt";

	v->psk.n = test_vector_get(file, rec, "psk", v->psk.b, sizeof(v->psk.b));
	v->real.n = test_vector_get(file, rec, "real_msg", v->real.b, sizeof(v->real.b));
	v->nonce.n = test_vector_get(file, rec, "nonce", v->nonce.b, sizeof(v->nonce.b));
	v->sk_p.n = test_vector_get(file, rec, "sk_p", v->sk_p.b, sizeof(v->sk_p.b));
	v->id_body.n = test_vector_get(file, rec, "id_body", v->id_body.b, sizeof(v->id_body.b));
	v->maced.n = test_vector_get(file, rec, "maced_id", v->maced.b, sizeof(v->maced.b));
	v->auth.n = test_vector_get(file, rec, "auth", v->auth.b, sizeof(v->auth.b));
	if (v->psk.n < 1 || v->real.n < 1 || v->nonce.n < 16 || v->sk_p.n < 32 ||
	    v->id_body.n < 5 || v->maced.n < 32 || v->auth.n < 32) {
		test_fail(__FILE__, __LINE__, "vector %s missing or short", rec);
		return false;
	}
	return true;
}

static void octets_of(const struct vec *v, struct ike_auth_octets *o)
{
	o->real_msg = v->real.b;
	o->real_msg_len = (size_t)v->real.n;
	o->nonce = v->nonce.b;
	o->nonce_len = (size_t)v->nonce.n;
	o->sk_p = v->sk_p.b;
	o->sk_p_len = (size_t)v->sk_p.n;
	o->id_body = v->id_body.b;
	o->id_body_len = (size_t)v->id_body.n;
}

static const struct {
	const char *name;
	int prf;
} prfs[] = {
    {"prfsha256", PRF_HMAC_SHA2_256},
    {"prfsha384", PRF_HMAC_SHA2_384},
    {"prfsha512", PRF_HMAC_SHA2_512},
};
static const char *const cases[] = {"fqdn", "ipv4", "keyid_longpsk"};

TEST(ike_auth_rfc7296_2_15_psk_python_vectors)
{
	static struct vec v;
	static uint8_t octets[2048];
	size_t checked = 0;

	for (size_t p = 0; p < sizeof(prfs) / sizeof(prfs[0]); p++) {
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			char rec[64];
			struct ike_auth_octets o;
			uint8_t out[PRF_MAX_OUT];
			size_t mlen = prf_out_len(prfs[p].prf);
			int n;

			snprintf(rec, sizeof(rec), "%s_%s", prfs[p].name, cases[c]);
			if (!load(rec, &v))
				continue;
			octets_of(&v, &o);
			CHECK_EQ(v.auth.n, mlen);

			CHECK_EQ(ike_auth_maced_id(prfs[p].prf, &o, out), 0);
			CHECK_MEM(out, v.maced.b, mlen);

			/* RealMessage | Nonce | MACedID, in that order. */
			n = ike_auth_signed_octets(prfs[p].prf, &o, octets, sizeof(octets));
			CHECK_EQ(n, v.real.n + v.nonce.n + (int)mlen);
			if (n > 0) {
				CHECK_MEM(octets, v.real.b, (size_t)v.real.n);
				CHECK_MEM(octets + v.real.n, v.nonce.b, (size_t)v.nonce.n);
				CHECK_MEM(octets + v.real.n + v.nonce.n, v.maced.b, mlen);
			}

			memset(out, 0, sizeof(out));
			CHECK_EQ(ike_auth_psk(prfs[p].prf, v.psk.b, (size_t)v.psk.n, &o, out), 0);
			CHECK_MEM(out, v.auth.b, mlen);
			CHECK(ike_auth_psk_verify(prfs[p].prf, v.psk.b, (size_t)v.psk.n, &o,
			                          v.auth.b, mlen));
			checked++;
		}
	}
	CHECK_EQ(checked, 9);
}

/* Whatever changes in the signed octets, the PSK or the AUTH data, the
 * verification fails (§2.15 binds all of them). */
TEST(ike_auth_rfc7296_2_15_verify_refuses_any_change)
{
	static struct vec v;
	struct ike_auth_octets o;
	uint8_t bad[PRF_MAX_OUT];
	const int prf = PRF_HMAC_SHA2_256;
	size_t mlen = 32;

	if (!load("prfsha256_fqdn", &v))
		return;
	octets_of(&v, &o);
	CHECK(ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
	/* Truncated or extended AUTH data. */
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen - 1));
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, 0));
	/* One bit of AUTH. */
	memcpy(bad, v.auth.b, mlen);
	bad[mlen - 1] ^= 1;
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, bad, mlen));
	/* Another PSK, a PSK one byte shorter. */
	v.psk.b[0] ^= 0x20;
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
	v.psk.b[0] ^= 0x20;
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n - 1, &o, v.auth.b, mlen));
	/* RealMessage, nonce, SK_p, ID each changed. */
	v.real.b[100] ^= 0x80;
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
	v.real.b[100] ^= 0x80;
	v.nonce.b[0] ^= 1;
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
	v.nonce.b[0] ^= 1;
	v.sk_p.b[31] ^= 1;
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
	v.sk_p.b[31] ^= 1;
	v.id_body.b[0] = 3; /* same data, ID type RFC822 */
	CHECK(!ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
	v.id_body.b[0] = 2;
	/* Another prf. */
	CHECK(
	    !ike_auth_psk_verify(PRF_HMAC_SHA2_384, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
	/* Back to the original: still good (nothing above was sticky). */
	CHECK(ike_auth_psk_verify(prf, v.psk.b, (size_t)v.psk.n, &o, v.auth.b, mlen));
}

TEST(ike_auth_rfc7296_2_15_argument_errors)
{
	uint8_t k[32] = {1}, out[PRF_MAX_OUT], buf[8];
	struct ike_auth_octets o = {k, 32, k, 16, k, 32, k, 8};

	CHECK(ike_auth_psk(PRF_HMAC_SHA2_256, k, 0, &o, out) < 0); /* empty PSK */
	CHECK(ike_auth_psk(PRF_HMAC_SHA2_256, NULL, 4, &o, out) < 0);
	CHECK(ike_auth_psk(1 /* HMAC-MD5 */, k, 4, &o, out) < 0);
	CHECK(ike_auth_psk(PRF_HMAC_SHA2_256, k, 4, NULL, out) < 0);
	CHECK(ike_auth_signed_octets(PRF_HMAC_SHA2_256, &o, buf, sizeof(buf)) < 0); /* no room */
	o.sk_p = NULL;
	CHECK(ike_auth_maced_id(PRF_HMAC_SHA2_256, &o, out) < 0);
	CHECK(!ike_auth_psk_verify(PRF_HMAC_SHA2_256, k, 4, &o, out, 32));
}
