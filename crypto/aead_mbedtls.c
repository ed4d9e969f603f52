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

/*
 * The state at a->be, one of these by a->encr, each allocated at its own
 * size. AES-CBC keeps one AES context and the raw key, and re-expands the
 * key when the direction changes (an SA only ever goes one way; see
 * aead_openssl.c), instead of a second 288-byte context.
 */
struct mbed_cbc {
	mbedtls_aes_context aes;
	int keyed_enc; /* the direction aes is keyed for */
	unsigned bits;
	uint8_t key[32];
};

static mbedtls_gcm_context *gcm_ctx(struct aead *a)
{
	return a->be;
}

#ifdef MBEDTLS_CHACHAPOLY_C
static mbedtls_chachapoly_context *chachapoly_ctx(struct aead *a)
{
	return a->be;
}
#endif

static struct mbed_cbc *cbc_ctx(struct aead *a)
{
	return a->be;
}

static size_t mbed_state_len(int encr)
{
	switch (encr) {
	case ENCR_AES_GCM_16:
		return sizeof(mbedtls_gcm_context);
#ifdef MBEDTLS_CHACHAPOLY_C
	case ENCR_CHACHA20_POLY1305:
		return sizeof(mbedtls_chachapoly_context);
#endif
	}
	return sizeof(struct mbed_cbc);
}

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

/* aead.c allocated the state zeroed, which every *_free below takes as an
 * empty context; each zeroizes what it frees. */
static void mbed_free(struct aead *a)
{
	switch (a->encr) {
	case ENCR_AES_GCM_16:
		mbedtls_gcm_free(gcm_ctx(a));
		break;
#ifdef MBEDTLS_CHACHAPOLY_C
	case ENCR_CHACHA20_POLY1305:
		mbedtls_chachapoly_free(chachapoly_ctx(a));
		break;
#endif
	case ENCR_AES_CBC:
		mbedtls_aes_free(&cbc_ctx(a)->aes);
		break;
	}
}

static int mbed_init(struct aead *a, const uint8_t *key, size_t key_len)
{
	unsigned bits = (unsigned)key_len * 8;
	int rc = -1;

	if (!mbed_supports(a->encr, a->key_bits))
		return -EIO;
	switch (a->encr) {
	case ENCR_AES_GCM_16:
		mbedtls_gcm_init(gcm_ctx(a));
		rc = mbedtls_gcm_setkey(gcm_ctx(a), MBEDTLS_CIPHER_ID_AES, key, bits);
		break;
#ifdef MBEDTLS_CHACHAPOLY_C
	case ENCR_CHACHA20_POLY1305:
		mbedtls_chachapoly_init(chachapoly_ctx(a));
		rc = mbedtls_chachapoly_setkey(chachapoly_ctx(a), key);
		break;
#endif
	case ENCR_AES_CBC: {
		struct mbed_cbc *c = cbc_ctx(a);

		if (key_len > sizeof(c->key))
			return -EIO;
		mbedtls_aes_init(&c->aes);
		memcpy(c->key, key, key_len);
		c->bits = bits;
		c->keyed_enc = 1;
		rc = mbedtls_aes_setkey_enc(&c->aes, key, bits);
		break;
	}
	}
	return rc == 0 ? 0 : -EIO;
}

static int mbed_seal(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                     uint8_t *buf, size_t len, uint8_t *tag)
{
	int rc = -1;

	if (a->encr == ENCR_AES_GCM_16)
		rc = mbedtls_gcm_crypt_and_tag(gcm_ctx(a), MBEDTLS_GCM_ENCRYPT, len, nonce,
		                               AEAD_NONCE_LEN, ad, ad_len, buf, buf, AEAD_TAG_LEN,
		                               tag);
#ifdef MBEDTLS_CHACHAPOLY_C
	else
		rc = mbedtls_chachapoly_encrypt_and_tag(chachapoly_ctx(a), len, nonce, ad, ad_len,
		                                        buf, buf, tag);
#endif
	return rc == 0 ? 0 : -EIO;
}

static int mbed_open(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                     uint8_t *buf, size_t len, const uint8_t *tag)
{
	int rc = -1;

	if (a->encr == ENCR_AES_GCM_16)
		rc = mbedtls_gcm_auth_decrypt(gcm_ctx(a), len, nonce, AEAD_NONCE_LEN, ad, ad_len,
		                              tag, AEAD_TAG_LEN, buf, buf);
#ifdef MBEDTLS_CHACHAPOLY_C
	else
		rc = mbedtls_chachapoly_auth_decrypt(chachapoly_ctx(a), len, nonce, ad, ad_len, tag,
		                                     buf, buf);
#endif
	if (rc != 0) {
		sodium_memzero(buf, len); /* already zeroed on a tag mismatch */
		return AEAD_ERR_AUTH;
	}
	return 0;
}

static int mbed_cbc(struct mbed_cbc *c, int mode, const uint8_t *iv, uint8_t *buf, size_t len)
{
	int enc = mode == MBEDTLS_AES_ENCRYPT;
	uint8_t chain[AEAD_CBC_BLOCK];
	int rc;

	if (len == 0)
		return 0;
	if (c->keyed_enc != enc) {
		rc = enc ? mbedtls_aes_setkey_enc(&c->aes, c->key, c->bits)
		         : mbedtls_aes_setkey_dec(&c->aes, c->key, c->bits);
		if (rc != 0)
			return -EIO;
		c->keyed_enc = enc;
	}
	memcpy(chain, iv, sizeof(chain)); /* mbedTLS advances the IV in place */
	rc = mbedtls_aes_crypt_cbc(&c->aes, mode, len, chain, buf, buf);
	return rc == 0 ? 0 : -EIO;
}

static int mbed_cbc_encrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return mbed_cbc(cbc_ctx(a), MBEDTLS_AES_ENCRYPT, iv, buf, len);
}

static int mbed_cbc_decrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return mbed_cbc(cbc_ctx(a), MBEDTLS_AES_DECRYPT, iv, buf, len);
}

const struct aead_ops aead_mbedtls_ops = {
    .name = "mbedtls",
    .supports = mbed_supports,
    .state_len = mbed_state_len,
    .init = mbed_init,
    .free = mbed_free,
    .seal = mbed_seal,
    .open = mbed_open,
    .cbc_encrypt = mbed_cbc_encrypt,
    .cbc_decrypt = mbed_cbc_decrypt,
};
