/*
 * The suite layer of crypto/aead.h: key material layout (RFC 7296 §2.17),
 * nonces (RFC 4106 §4, RFC 7634 §2), IVs (RFC 4106 §3.1, RFC 3602 §2.4),
 * encrypt-then-MAC for the classic suites (RFC 4303 §3.3.2, RFC 4868), and
 * the choice of backend per suite. The ciphers themselves are in
 * aead_openssl.c, aead_sodium.c and aead_mbedtls.c.
 *
 * A context is used by one thread at a time (the OpenSSL backend keeps a
 * cipher context per struct aead, so per-packet work needs no lock); a
 * worker per queue needs its own struct aead for the same keys.
 *
 * Memory: a context is one allocation (struct aead, the backend's state,
 * and for CBC the HMAC and IV keys; see aead_impl.h) plus what the library
 * allocates for itself: one cipher context per struct aead, which serves
 * both directions, since an ESP SA only ever seals or only ever opens
 * (tests/unit/crypto_aead_test.c prints the bytes per suite and backend).
 */
#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/aead_impl.h"
#include "crypto/prf.h"
#include "crypto/rand.h"

/*
 * Backend preference per suite: the fastest first, as measured with
 * tests/tools/aead_bench (-n 200000) on the project's build machine (AMD
 * EPYC, AES-NI, PCLMULQDQ, SHA-NI, AVX-512; OpenSSL 3.0, libsodium 1.0.18,
 * mbedTLS 2.28; 1400-byte packets with an 8-byte AD, one core, Mbit/s, a
 * whole aead_seal / aead_open per packet):
 *
 *   suite             backend     seal   open
 *   aes128gcm16       openssl    21900  21100
 *                     mbedtls     2090   2050
 *   aes256gcm16       openssl    20750  19200
 *                     libsodium  12830  10710
 *                     mbedtls     1860   1890
 *   chacha20poly1305  openssl    10060   9510
 *                     libsodium   6550   6530
 *                     mbedtls     3330   3300
 *   aes128-sha256     openssl     5100   8270   (HMAC: OpenSSL SHA-NI)
 *                     mbedtls     1800   2210   (HMAC: mbedTLS SHA-256)
 *   aes256-sha512     openssl     3360   5250
 *                     mbedtls     1780   2300
 *
 * Per-packet EVP overhead (setting the IV, AAD, final, tag ctrl) does not
 * let libsodium catch up for AES-256-GCM. OpenSSL's ChaCha20-Poly1305 is
 * ~10 Gbit/s here as a per-packet AEAD ("openssl speed" streams and shows
 * ~15), still well ahead of libsodium. libsodium has no AES-128-GCM and
 * needs AES-NI and PCLMUL at run time for AES-256-GCM; mbedTLS does every
 * suite everywhere and is the fallback. Only OpenSSL and mbedTLS do AES-CBC.
 */
#ifndef TUNSEC_NO_OPENSSL
#define OPENSSL_OPS (&aead_openssl_ops)
#else
#define OPENSSL_OPS NULL /* skipped below */
#endif
#define N_PREF 3
static const struct aead_ops *const pref_gcm128[N_PREF] = {OPENSSL_OPS, &aead_mbedtls_ops};
static const struct aead_ops *const pref_gcm256[N_PREF] = {OPENSSL_OPS, &aead_sodium_ops,
                                                           &aead_mbedtls_ops};
static const struct aead_ops *const pref_chacha[N_PREF] = {OPENSSL_OPS, &aead_sodium_ops,
                                                           &aead_mbedtls_ops};
static const struct aead_ops *const pref_cbc[N_PREF] = {OPENSSL_OPS, &aead_mbedtls_ops};
static const struct aead_ops *const all_backends[N_PREF] = {OPENSSL_OPS, &aead_sodium_ops,
                                                            &aead_mbedtls_ops};

/* One suite: key lengths and what the caller sees. */
struct suite {
	size_t enc_len;   /* cipher key, without salt */
	size_t salt_len;  /* 4 for combined mode */
	size_t integ_len; /* HMAC key */
	int prf;          /* HMAC hash, classic mode */
	uint8_t iv_len, icv_len, block_len;
	const char *name;
};

static const char *cbc_name(unsigned bits, int integ)
{
	static const char *const names[2][3] = {
	    {"aes128-sha256", "aes128-sha384", "aes128-sha512"},
	    {"aes256-sha256", "aes256-sha384", "aes256-sha512"},
	};

	if (integ == AUTH_HMAC_SHA1_96)
		return bits == 256 ? "aes256-sha1" : "aes128-sha1";
	return names[bits == 256][integ - AUTH_HMAC_SHA2_256_128];
}

/* Fill s for a supported suite; false for anything else. */
static bool suite_get(int encr, unsigned key_bits, int integ, struct suite *s)
{
	memset(s, 0, sizeof(*s));
	switch (encr) {
	case ENCR_AES_GCM_16:
		/* RFC 4106 §8.1: 128, 192 or 256; we do not offer 192. */
		if (integ != AUTH_NONE || (key_bits != 128 && key_bits != 256))
			return false;
		s->enc_len = key_bits / 8;
		s->salt_len = AEAD_SALT_LEN;
		s->iv_len = 8;
		s->icv_len = AEAD_TAG_LEN;
		s->block_len = 4;
		s->name = key_bits == 128 ? "aes128gcm16" : "aes256gcm16";
		return true;
	case ENCR_CHACHA20_POLY1305:
		/* RFC 7634 §4: a fixed 256-bit key, so IKE sends no Key Length
		 * attribute; accept 0 for "the only size" as well. */
		if (integ != AUTH_NONE || (key_bits != 256 && key_bits != 0))
			return false;
		s->enc_len = 32;
		s->salt_len = AEAD_SALT_LEN;
		s->iv_len = 8;
		s->icv_len = AEAD_TAG_LEN;
		s->block_len = 4;
		s->name = "chacha20poly1305";
		return true;
	case ENCR_AES_CBC:
		if (key_bits != 128 && key_bits != 256)
			return false;
		/* RFC 4868 §2.1.1 (key = full hash length) and §2.3
		 * (ICV = half of it). */
		switch (integ) {
		case AUTH_HMAC_SHA1_96:
			s->prf = PRF_HMAC_SHA1;
			break;
		case AUTH_HMAC_SHA2_256_128:
			s->prf = PRF_HMAC_SHA2_256;
			break;
		case AUTH_HMAC_SHA2_384_192:
			s->prf = PRF_HMAC_SHA2_384;
			break;
		case AUTH_HMAC_SHA2_512_256:
			s->prf = PRF_HMAC_SHA2_512;
			break;
		default:
			return false; /* CBC alone gives no integrity */
		}
		s->enc_len = key_bits / 8;
		s->integ_len = prf_out_len(s->prf);
		s->iv_len = AEAD_CBC_BLOCK;
		/* RFC 2404 §2: HMAC-SHA1 truncated to 96 bits. */
		s->icv_len = (uint8_t)(integ == AUTH_HMAC_SHA1_96 ? 12 : s->integ_len / 2);
		s->block_len = AEAD_CBC_BLOCK;
		s->name = cbc_name(key_bits, integ);
		return true;
	}
	return false;
}

static const struct aead_ops *const *prefs(int encr, unsigned key_bits)
{
	switch (encr) {
	case ENCR_AES_GCM_16:
		return key_bits == 128 ? pref_gcm128 : pref_gcm256;
	case ENCR_CHACHA20_POLY1305:
		return pref_chacha;
	default:
		return pref_cbc;
	}
}

size_t aead_keymat_len(int encr, unsigned key_bits, int integ)
{
	struct suite s;

	if (!suite_get(encr, key_bits, integ, &s))
		return 0;
	return s.enc_len + s.salt_len + s.integ_len;
}

static const struct aead_ops *find_backend(const char *name)
{
	for (size_t i = 0; i < N_PREF; i++)
		if (all_backends[i] && strcmp(all_backends[i]->name, name) == 0)
			return all_backends[i];
	return NULL;
}

const char *aead_backend_name(size_t i)
{
	for (size_t k = 0; k < N_PREF; k++)
		if (all_backends[k] && i-- == 0)
			return all_backends[k]->name;
	return NULL;
}

bool aead_backend_supports(const char *backend, int encr, unsigned key_bits, int integ)
{
	const struct aead_ops *ops = find_backend(backend);
	struct suite s;

	if (!ops || !suite_get(encr, key_bits, integ, &s) || crypto_init() < 0)
		return false;
	return ops->supports(encr, key_bits ? key_bits : 256);
}

const char *aead_backend_for(int encr, unsigned key_bits, int integ)
{
	const struct aead_ops *const *p;
	struct suite s;

	if (!suite_get(encr, key_bits, integ, &s) || crypto_init() < 0)
		return "none";
	p = prefs(encr, key_bits);
	for (size_t i = 0; i < N_PREF; i++)
		if (p[i] && p[i]->supports(encr, key_bits ? key_bits : 256))
			return p[i]->name;
	return "none";
}

/* Offsets of the parts of a context's one allocation (aead_impl.h). */
#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

static size_t be_offset(void)
{
	return ALIGN16(sizeof(struct aead));
}

static size_t cbc_offset(const struct aead_ops *ops, int encr)
{
	return be_offset() + ALIGN16(ops->state_len(encr));
}

static size_t alloc_len(const struct aead_ops *ops, int encr)
{
	return cbc_offset(ops, encr) +
	       (encr == ENCR_AES_CBC ? ALIGN16(sizeof(struct aead_cbc)) : 0);
}

void aead_free(struct aead *a)
{
	if (!a)
		return;
	a->ops->free(a);
	if (a->cbc) {
		if (a->cbc->have_iv_key)
			mbedtls_aes_free(&a->cbc->iv_key); /* zeroizes the round keys */
		hmac_wipe(&a->cbc->mac);
	}
	sodium_memzero(a, alloc_len(a->ops, a->encr));
	free(a);
}

static int build(struct aead **out, const struct aead_ops *ops, int encr, unsigned key_bits,
                 int integ, const struct suite *s, const uint8_t *keymat)
{
	size_t n = alloc_len(ops, encr);
	/* 16: what libsodium's AES-GCM state asks for (CRYPTO_ALIGN). */
	struct aead *a = aligned_alloc(16, n);
	int rc;

	if (!a)
		return -ENOMEM;
	memset(a, 0, n);
	a->encr = encr;
	a->key_bits = key_bits ? key_bits : 256;
	a->integ = integ;
	a->iv_len = s->iv_len;
	a->icv_len = s->icv_len;
	a->block_len = s->block_len;
	a->name = s->name;
	a->ops = ops;
	a->be = (uint8_t *)a + be_offset();
	if (encr == ENCR_AES_CBC)
		a->cbc = (struct aead_cbc *)((uint8_t *)a + cbc_offset(ops, encr));
	rc = ops->init(a, keymat, s->enc_len);
	if (rc < 0)
		goto fail;
	/* RFC 7296 §2.17 order: cipher key, salt, then integrity key. */
	memcpy(a->salt, keymat + s->enc_len, s->salt_len);
	if (encr == ENCR_AES_CBC) {
		struct aead_cbc *c = a->cbc;
		uint8_t k[32];

		/* The mbedTLS backend hashes with mbedTLS too, so that forcing
		 * it checks a second, independent HMAC as well. */
		rc = hmac_init_lib(&c->mac, s->prf, keymat + s->enc_len, s->integ_len,
		                   ops == &aead_mbedtls_ops ? "mbedtls" : NULL);
		if (rc < 0)
			goto fail;
		rand_bytes(k, sizeof(k));
		mbedtls_aes_init(&c->iv_key);
		c->have_iv_key = true;
		rc = mbedtls_aes_setkey_enc(&c->iv_key, k, 256);
		sodium_memzero(k, sizeof(k));
		if (rc != 0) {
			rc = -EIO;
			goto fail;
		}
	}
	*out = a;
	return 0;
fail:
	aead_free(a);
	return rc;
}

int aead_new_backend(struct aead **out, int encr, unsigned key_bits, int integ,
                     const uint8_t *keymat, size_t keymat_len, const char *backend)
{
	const struct aead_ops *const *p;
	struct suite s;
	int rc;

	*out = NULL;
	if (!suite_get(encr, key_bits, integ, &s) || !keymat ||
	    keymat_len != s.enc_len + s.salt_len + s.integ_len)
		return -EINVAL;
	if ((rc = crypto_init()) < 0)
		return rc;
	if (backend) {
		const struct aead_ops *ops = find_backend(backend);

		if (!ops)
			return -ENOENT;
		if (!ops->supports(encr, key_bits ? key_bits : 256))
			return -ENOTSUP;
		return build(out, ops, encr, key_bits, integ, &s, keymat);
	}
	/* The fastest that works; a library that refuses at run time (say, a
	 * FIPS-only OpenSSL without ChaCha) hands over to the next one. */
	rc = -ENOTSUP;
	p = prefs(encr, key_bits);
	for (size_t i = 0; i < N_PREF; i++) {
		if (!p[i] || !p[i]->supports(encr, key_bits ? key_bits : 256))
			continue;
		rc = build(out, p[i], encr, key_bits, integ, &s, keymat);
		if (rc == 0 || rc == -ENOMEM)
			return rc;
	}
	return rc;
}

int aead_new(struct aead **out, int encr, unsigned key_bits, int integ, const uint8_t *keymat,
             size_t keymat_len)
{
	return aead_new_backend(out, encr, key_bits, integ, keymat, keymat_len, NULL);
}

size_t aead_iv_len(const struct aead *a)
{
	return a->iv_len;
}

size_t aead_icv_len(const struct aead *a)
{
	return a->icv_len;
}

size_t aead_block_len(const struct aead *a)
{
	return a->block_len;
}

const char *aead_name(const struct aead *a)
{
	return a->name;
}

const char *aead_backend(const struct aead *a)
{
	return a->ops->name;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void aead_make_iv(struct aead *a, uint64_t seq, uint8_t *iv)
{
	uint8_t block[AEAD_CBC_BLOCK] = {0};

	if (a->encr != ENCR_AES_CBC) {
		/* RFC 4106 §3.1, RFC 7634 §2: the counter is a fine IV. */
		put64(iv, seq);
		return;
	}
	/* RFC 3602 §2.4 wants an IV the attacker cannot predict: AES under a
	 * key nobody else has, of a block that never repeats for this
	 * context, is a permutation of distinct inputs. */
	put64(block + 8, seq);
	(void)mbedtls_aes_crypt_ecb(&a->cbc->iv_key, MBEDTLS_AES_ENCRYPT, block, iv);
}

/* HMAC(ad || iv || ciphertext || trailer), RFC 4303 §3.3.2 / §2.2.1. */
static void classic_mac(struct aead *a, const uint8_t *iv, const uint8_t *ad, size_t ad_len,
                        const uint8_t *buf, size_t len, const uint8_t *trailer, size_t trailer_len,
                        uint8_t *tag)
{
	struct hmac *h = &a->cbc->mac;

	hmac_start(h);
	hmac_update(h, ad, ad_len);
	hmac_update(h, iv, AEAD_CBC_BLOCK);
	hmac_update(h, buf, len);
	hmac_update(h, trailer, trailer_len);
	hmac_finish(h, tag);
}

static bool args_ok(const struct aead *a, size_t ad_len, size_t trailer_len, size_t len)
{
	/* OpenSSL counts in int; nothing we seal comes near. */
	if (len > INT_MAX || ad_len > INT_MAX || trailer_len > INT_MAX)
		return false;
	if (a->encr == ENCR_AES_CBC)
		return len % AEAD_CBC_BLOCK == 0;
	return trailer_len == 0;
}

int aead_seal(struct aead *a, const uint8_t *iv, const uint8_t *ad, size_t ad_len,
              const uint8_t *trailer, size_t trailer_len, uint8_t *buf, size_t len, uint8_t *icv)
{
	uint8_t nonce[AEAD_NONCE_LEN], tag[PRF_MAX_OUT];
	int rc;

	if (!args_ok(a, ad_len, trailer_len, len))
		return -EINVAL;
	if (a->encr != ENCR_AES_CBC) {
		memcpy(nonce, a->salt, AEAD_SALT_LEN);
		memcpy(nonce + AEAD_SALT_LEN, iv, 8);
		return a->ops->seal(a, nonce, ad, ad_len, buf, len, icv);
	}
	/* Encrypt, then MAC the ciphertext (RFC 4303 §3.3.2). */
	if ((rc = a->ops->cbc_encrypt(a, iv, buf, len)) < 0)
		return rc;
	classic_mac(a, iv, ad, ad_len, buf, len, trailer, trailer_len, tag);
	memcpy(icv, tag, a->icv_len); /* RFC 4868 §2.3: leftmost half */
	return 0;
}

int aead_open(struct aead *a, const uint8_t *iv, const uint8_t *ad, size_t ad_len,
              const uint8_t *trailer, size_t trailer_len, uint8_t *buf, size_t len,
              const uint8_t *icv)
{
	uint8_t nonce[AEAD_NONCE_LEN], tag[PRF_MAX_OUT];

	if (!args_ok(a, ad_len, trailer_len, len))
		return -EINVAL;
	if (a->encr != ENCR_AES_CBC) {
		memcpy(nonce, a->salt, AEAD_SALT_LEN);
		memcpy(nonce + AEAD_SALT_LEN, iv, 8);
		return a->ops->open(a, nonce, ad, ad_len, buf, len, icv);
	}
	/* RFC 4303 §3.4.4.1: check the ICV first; a forged packet is never
	 * decrypted. */
	classic_mac(a, iv, ad, ad_len, buf, len, trailer, trailer_len, tag);
	if (sodium_memcmp(tag, icv, a->icv_len) != 0)
		return AEAD_ERR_AUTH;
	return a->ops->cbc_decrypt(a, iv, buf, len);
}
