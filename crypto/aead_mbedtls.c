/*
 * mbedTLS backend: AES-GCM (128/256), AES-CBC, and ChaCha20-Poly1305 where
 * the library was built with it. Slower than the others (see aead.c), but
 * it needs no CPU feature, so every suite always has a backend.
 *
 * The one-shot GCM and ChaCha-Poly calls have the same signature in 2.28
 * and 3.x. Their decrypt calls compare the tag in constant time and zero
 * the output when it does not match.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mbedtls_compat.h"

#include <mbedtls/aes.h>
#include <mbedtls/gcm.h>
#ifdef MBEDTLS_CHACHAPOLY_C
#include <mbedtls/chachapoly.h>
#endif
#include <sodium.h>

#include "crypto/aead_impl.h"

struct mbed {
	union {
		mbedtls_gcm_context gcm;
#ifdef MBEDTLS_CHACHAPOLY_C
		mbedtls_chachapoly_context chachapoly;
#endif
		struct {
			mbedtls_aes_context enc, dec;
		} cbc;
	} u;
};

static bool mbed_supports(int encr, unsigned key_bits)
{
	switch (encr) {
	case ENCR_AES_GCM_16:
	case ENCR_AES_CBC:
		return key_bits == 128 || key_bits == 256;
#ifdef MBEDTLS_CHACHAPOLY_C
	case ENCR_CHACHA20_POLY1305:
		return true;
#endif
	}
	return false;
}

static void mbed_free(struct aead *a)
{
	struct mbed *m = a->be;

	if (!m)
		return;
	/* The *_free calls zeroize their contexts. */
	switch (a->encr) {
	case ENCR_AES_GCM_16:
		mbedtls_gcm_free(&m->u.gcm);
		break;
#ifdef MBEDTLS_CHACHAPOLY_C
	case ENCR_CHACHA20_POLY1305:
		mbedtls_chachapoly_free(&m->u.chachapoly);
		break;
#endif
	case ENCR_AES_CBC:
		mbedtls_aes_free(&m->u.cbc.enc);
		mbedtls_aes_free(&m->u.cbc.dec);
		break;
	}
	sodium_memzero(m, sizeof(*m));
	free(m);
	a->be = NULL;
}

static int mbed_init(struct aead *a, const uint8_t *key, size_t key_len)
{
	unsigned bits = (unsigned)key_len * 8;
	struct mbed *m;
	int rc = -1;

	if (!mbed_supports(a->encr, a->key_bits))
		return -EIO;
	if (!(m = calloc(1, sizeof(*m))))
		return -ENOMEM;
	a->be = m;
	switch (a->encr) {
	case ENCR_AES_GCM_16:
		mbedtls_gcm_init(&m->u.gcm);
		rc = mbedtls_gcm_setkey(&m->u.gcm, MBEDTLS_CIPHER_ID_AES, key, bits);
		break;
#ifdef MBEDTLS_CHACHAPOLY_C
	case ENCR_CHACHA20_POLY1305:
		mbedtls_chachapoly_init(&m->u.chachapoly);
		rc = mbedtls_chachapoly_setkey(&m->u.chachapoly, key);
		break;
#endif
	case ENCR_AES_CBC:
		mbedtls_aes_init(&m->u.cbc.enc);
		mbedtls_aes_init(&m->u.cbc.dec);
		rc = mbedtls_aes_setkey_enc(&m->u.cbc.enc, key, bits);
		if (rc == 0)
			rc = mbedtls_aes_setkey_dec(&m->u.cbc.dec, key, bits);
		break;
	}
	return rc == 0 ? 0 : -EIO;
}

static int mbed_seal(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                     uint8_t *buf, size_t len, uint8_t *tag)
{
	struct mbed *m = a->be;
	int rc = -1;

	if (a->encr == ENCR_AES_GCM_16)
		rc = mbedtls_gcm_crypt_and_tag(&m->u.gcm, MBEDTLS_GCM_ENCRYPT, len, nonce,
		                               AEAD_NONCE_LEN, ad, ad_len, buf, buf, AEAD_TAG_LEN,
		                               tag);
#ifdef MBEDTLS_CHACHAPOLY_C
	else
		rc = mbedtls_chachapoly_encrypt_and_tag(&m->u.chachapoly, len, nonce, ad, ad_len,
		                                        buf, buf, tag);
#endif
	return rc == 0 ? 0 : -EIO;
}

static int mbed_open(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                     uint8_t *buf, size_t len, const uint8_t *tag)
{
	struct mbed *m = a->be;
	int rc = -1;

	if (a->encr == ENCR_AES_GCM_16)
		rc = mbedtls_gcm_auth_decrypt(&m->u.gcm, len, nonce, AEAD_NONCE_LEN, ad, ad_len,
		                              tag, AEAD_TAG_LEN, buf, buf);
#ifdef MBEDTLS_CHACHAPOLY_C
	else
		rc = mbedtls_chachapoly_auth_decrypt(&m->u.chachapoly, len, nonce, ad, ad_len, tag,
		                                     buf, buf);
#endif
	if (rc != 0) {
		sodium_memzero(buf, len); /* already zeroed on a tag mismatch */
		return AEAD_ERR_AUTH;
	}
	return 0;
}

static int mbed_cbc(mbedtls_aes_context *ctx, int mode, const uint8_t *iv, uint8_t *buf, size_t len)
{
	uint8_t chain[AEAD_CBC_BLOCK];
	int rc;

	if (len == 0)
		return 0;
	memcpy(chain, iv, sizeof(chain)); /* mbedTLS advances the IV in place */
	rc = mbedtls_aes_crypt_cbc(ctx, mode, len, chain, buf, buf);
	return rc == 0 ? 0 : -EIO;
}

static int mbed_cbc_encrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return mbed_cbc(&((struct mbed *)a->be)->u.cbc.enc, MBEDTLS_AES_ENCRYPT, iv, buf, len);
}

static int mbed_cbc_decrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return mbed_cbc(&((struct mbed *)a->be)->u.cbc.dec, MBEDTLS_AES_DECRYPT, iv, buf, len);
}

const struct aead_ops aead_mbedtls_ops = {
    .name = "mbedtls",
    .supports = mbed_supports,
    .init = mbed_init,
    .free = mbed_free,
    .seal = mbed_seal,
    .open = mbed_open,
    .cbc_encrypt = mbed_cbc_encrypt,
    .cbc_decrypt = mbed_cbc_decrypt,
};
