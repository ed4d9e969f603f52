/* IKEv2 key derivation (RFC 7296 §2.13-§2.18); see keys.h. */
#include "ike/keys.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

/* Largest seed or prf input: g^ir (new) | Ni | Nr. */
#define SEED_MAX (IKE_KEYS_MAX_GIR + 2 * IKE_KEYS_MAX_NONCE + 16)

bool ike_keys_sizes(int encr, unsigned key_bits, int integ, size_t *encr_len, size_t *integ_len)
{
	size_t total = aead_keymat_len(encr, key_bits, integ), e, i;

	if (total == 0)
		return false;
	switch (encr) {
	case ENCR_AES_GCM_16: /* RFC 5282 §7.1: key then 4-byte salt */
		e = key_bits / 8 + 4;
		break;
	case ENCR_CHACHA20_POLY1305: /* RFC 7634 §3: 256-bit key, 4-byte salt */
		e = 32 + 4;
		break;
	case ENCR_AES_CBC:
		e = key_bits / 8;
		break;
	default:
		return false;
	}
	/* RFC 4868 §2.1.1: the HMAC-SHA2 integrity key is the hash's size;
	 * RFC 2404 §3: HMAC-SHA1-96's is 160 bits (legacy only). */
	i = integ == AUTH_HMAC_SHA1_96        ? 20
	    : integ == AUTH_HMAC_SHA2_256_128 ? 32
	    : integ == AUTH_HMAC_SHA2_384_192 ? 48
	    : integ == AUTH_HMAC_SHA2_512_256 ? 64
	                                      : 0;
	/* Agree with aead.c, which is what the keys are cut for. */
	if (e + i != total || e > IKE_KEYS_MAX_ENCR || i > IKE_KEYS_MAX_INTEG)
		return false;
	*encr_len = e;
	*integ_len = i;
	return true;
}

static bool nonces_ok(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	return ni && nr && ni_len > 0 && nr_len > 0 && ni_len <= IKE_KEYS_MAX_NONCE &&
	       nr_len <= IKE_KEYS_MAX_NONCE;
}

int ike_keys_skeyseed(int prf, const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                      const uint8_t *gir, size_t gir_len, uint8_t *out)
{
	uint8_t key[2 * IKE_KEYS_MAX_NONCE];
	int rc;

	if (prf_out_len(prf) == 0 || !nonces_ok(ni, ni_len, nr, nr_len) || !out ||
	    (!gir && gir_len) || gir_len > IKE_KEYS_MAX_GIR)
		return -EINVAL;
	memcpy(key, ni, ni_len);
	memcpy(key + ni_len, nr, nr_len);
	rc = prf_compute(prf, key, ni_len + nr_len, gir, gir_len, out);
	sodium_memzero(key, sizeof(key));
	return rc < 0 ? -EINVAL : 0;
}

int ike_keys_rekey_skeyseed(int old_prf, const uint8_t *old_sk_d, size_t old_sk_d_len,
                            const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                            const uint8_t *nr, size_t nr_len, uint8_t *out)
{
	uint8_t data[SEED_MAX];
	int rc;

	if (prf_out_len(old_prf) == 0 || !old_sk_d || old_sk_d_len == 0 ||
	    !nonces_ok(ni, ni_len, nr, nr_len) || !gir || gir_len == 0 ||
	    gir_len > IKE_KEYS_MAX_GIR || !out)
		return -EINVAL;
	memcpy(data, gir, gir_len);
	memcpy(data + gir_len, ni, ni_len);
	memcpy(data + gir_len + ni_len, nr, nr_len);
	rc = prf_compute(old_prf, old_sk_d, old_sk_d_len, data, gir_len + ni_len + nr_len, out);
	sodium_memzero(data, sizeof(data));
	return rc < 0 ? -EINVAL : 0;
}

/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} from SKEYSEED. */
static int expand(struct ike_keys *k, const struct ike_suite *s, const uint8_t *skeyseed,
                  size_t skeyseed_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                  size_t nr_len, const uint8_t spi_i[8], const uint8_t spi_r[8])
{
	uint8_t seed[2 * IKE_KEYS_MAX_NONCE + 16];
	uint8_t out[3 * PRF_MAX_OUT + 2 * IKE_KEYS_MAX_INTEG + 2 * IKE_KEYS_MAX_ENCR];
	size_t seed_len = ni_len + nr_len + 16, n, p, a, e;
	uint8_t *c = out;
	int rc;

	memcpy(seed, ni, ni_len);
	memcpy(seed + ni_len, nr, nr_len);
	memcpy(seed + ni_len + nr_len, spi_i, 8);
	memcpy(seed + ni_len + nr_len + 8, spi_r, 8);
	p = k->prf_len;
	a = k->integ_len;
	e = k->encr_len;
	n = 3 * p + 2 * a + 2 * e;
	rc = prf_plus(s->prf, skeyseed, skeyseed_len, seed, seed_len, out, n);
	if (rc == 0) {
		memcpy(k->sk_d, c, p), c += p;
		memcpy(k->sk_ai, c, a), c += a;
		memcpy(k->sk_ar, c, a), c += a;
		memcpy(k->sk_ei, c, e), c += e;
		memcpy(k->sk_er, c, e), c += e;
		memcpy(k->sk_pi, c, p), c += p;
		memcpy(k->sk_pr, c, p);
	}
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(out, sizeof(out));
	return rc < 0 ? -EINVAL : 0;
}

/* Fill the sizes of k for an IKE suite; false if unsupported. */
static bool setup(struct ike_keys *k, const struct ike_suite *s)
{
	sodium_memzero(k, sizeof(*k));
	if (!s || prf_out_len(s->prf) == 0 ||
	    !ike_keys_sizes(s->encr, s->key_bits, s->integ, &k->encr_len, &k->integ_len))
		return false;
	k->prf = s->prf;
	k->encr = s->encr;
	k->key_bits = s->key_bits;
	k->integ = s->integ;
	k->prf_len = prf_out_len(s->prf);
	return true;
}

int ike_keys_derive(struct ike_keys *k, const struct ike_suite *s, const uint8_t *ni, size_t ni_len,
                    const uint8_t *nr, size_t nr_len, const uint8_t spi_i[8],
                    const uint8_t spi_r[8], const uint8_t *gir, size_t gir_len)
{
	uint8_t skeyseed[PRF_MAX_OUT];
	int rc = -EINVAL;

	if (!k)
		return -EINVAL;
	if (!setup(k, s) || !spi_i || !spi_r || !gir || gir_len == 0)
		goto out;
	rc = ike_keys_skeyseed(s->prf, ni, ni_len, nr, nr_len, gir, gir_len, skeyseed);
	if (rc == 0)
		rc = expand(k, s, skeyseed, k->prf_len, ni, ni_len, nr, nr_len, spi_i, spi_r);
out:
	sodium_memzero(skeyseed, sizeof(skeyseed));
	if (rc < 0)
		ike_keys_wipe(k);
	return rc;
}

int ike_keys_rekey(struct ike_keys *k, const struct ike_keys *old, const struct ike_suite *s,
                   const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                   const uint8_t spi_i[8], const uint8_t spi_r[8], const uint8_t *gir,
                   size_t gir_len)
{
	uint8_t skeyseed[PRF_MAX_OUT];
	int rc = -EINVAL;

	if (!k || !old || k == old)
		return -EINVAL;
	if (!setup(k, s) || !spi_i || !spi_r)
		goto out;
	/* §2.18: the rekeying exchange belongs to the old SA, so the old prf
	 * makes SKEYSEED (its output length keys the new prf+); the new SA's
	 * prf does the rest. */
	rc = ike_keys_rekey_skeyseed(old->prf, old->sk_d, old->prf_len, gir, gir_len, ni, ni_len,
	                             nr, nr_len, skeyseed);
	if (rc == 0)
		rc = expand(k, s, skeyseed, prf_out_len(old->prf), ni, ni_len, nr, nr_len, spi_i,
		            spi_r);
out:
	sodium_memzero(skeyseed, sizeof(skeyseed));
	if (rc < 0)
		ike_keys_wipe(k);
	return rc;
}

int ike_keys_child(struct ike_child_keys *ck, const struct ike_keys *ike, const struct ike_suite *s,
                   const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                   const uint8_t *nr, size_t nr_len)
{
	uint8_t seed[SEED_MAX], out[2 * AEAD_MAX_KEYMAT];
	size_t e, a, seed_len;
	int rc = -EINVAL;

	if (!ck)
		return -EINVAL;
	sodium_memzero(ck, sizeof(*ck));
	if (!ike || !s || prf_out_len(ike->prf) == 0 || !nonces_ok(ni, ni_len, nr, nr_len) ||
	    (!gir && gir_len) || gir_len > IKE_KEYS_MAX_GIR ||
	    !ike_keys_sizes(s->encr, s->key_bits, s->integ, &e, &a))
		return -EINVAL;
	/* KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr). */
	if (gir_len)
		memcpy(seed, gir, gir_len);
	memcpy(seed + gir_len, ni, ni_len);
	memcpy(seed + gir_len + ni_len, nr, nr_len);
	seed_len = gir_len + ni_len + nr_len;
	ck->len = e + a;
	/* §2.17: all keys for initiator-to-responder traffic come first, and
	 * within each direction the encryption key precedes the integrity
	 * key, which is aead_new()'s keymat layout. */
	if (prf_plus(ike->prf, ike->sk_d, ike->prf_len, seed, seed_len, out, 2 * ck->len) == 0) {
		memcpy(ck->i2r, out, ck->len);
		memcpy(ck->r2i, out + ck->len, ck->len);
		rc = 0;
	}
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(out, sizeof(out));
	if (rc < 0)
		ike_child_keys_wipe(ck);
	return rc;
}

size_t ike_keys_sk_keymat(const struct ike_keys *k, bool from_initiator, uint8_t *out)
{
	const uint8_t *e = from_initiator ? k->sk_ei : k->sk_er;
	const uint8_t *a = from_initiator ? k->sk_ai : k->sk_ar;

	memcpy(out, e, k->encr_len);
	memcpy(out + k->encr_len, a, k->integ_len);
	return k->encr_len + k->integ_len;
}

void ike_keys_wipe(struct ike_keys *k)
{
	if (k)
		sodium_memzero(k, sizeof(*k));
}

void ike_child_keys_wipe(struct ike_child_keys *ck)
{
	if (ck)
		sodium_memzero(ck, sizeof(*ck));
}
