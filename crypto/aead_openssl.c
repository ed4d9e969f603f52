/*
 * OpenSSL libcrypto (EVP) backend: AES-GCM, ChaCha20-Poly1305, AES-CBC.
 * The fastest here for all three (see the table in aead.c).
 *
 * Each context keeps two EVP_CIPHER_CTX, one keyed for encryption and one
 * for decryption, made and keyed once in init. A packet then only sets the
 * IV (EVP_*Init_ex with everything else NULL), which neither allocates nor
 * re-expands the key.
 */
#ifndef TUNSEC_NO_OPENSSL
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/aead_impl.h"

struct ossl {
	EVP_CIPHER_CTX *enc, *dec;
};

static const EVP_CIPHER *cipher_for(int encr, unsigned key_bits)
{
	switch (encr) {
	case ENCR_AES_GCM_16:
		return key_bits == 128 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
	case ENCR_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	case ENCR_AES_CBC:
		return key_bits == 128 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
	}
	return NULL;
}

static bool ossl_supports(int encr, unsigned key_bits)
{
	return cipher_for(encr, key_bits) != NULL;
}

static void ossl_free(struct aead *a)
{
	struct ossl *o = a->be;

	if (!o)
		return;
	EVP_CIPHER_CTX_free(o->enc); /* clears the key schedule */
	EVP_CIPHER_CTX_free(o->dec);
	free(o);
	a->be = NULL;
}

static EVP_CIPHER_CTX *keyed(const EVP_CIPHER *c, const uint8_t *key, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	/* The cipher first, then the key: GCM and ChaCha keep their default
	 * 12-byte IV length, which is our salt || IV. */
	if (EVP_CipherInit_ex(ctx, c, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_iv_length(ctx) !=
	        (EVP_CIPHER_CTX_mode(ctx) == EVP_CIPH_CBC_MODE ? AEAD_CBC_BLOCK : AEAD_NONCE_LEN) ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int ossl_init(struct aead *a, const uint8_t *key, size_t key_len)
{
	const EVP_CIPHER *c = cipher_for(a->encr, a->key_bits);
	struct ossl *o;

	if (!c || EVP_CIPHER_key_length(c) != (int)key_len)
		return -EIO;
	if (!(o = calloc(1, sizeof(*o))))
		return -ENOMEM;
	a->be = o;
	o->enc = keyed(c, key, 1);
	o->dec = keyed(c, key, 0);
	/* Allocation failure and an unavailable algorithm look alike here;
	 * -EIO lets aead_new() fall back to the next backend either way. */
	return o->enc && o->dec ? 0 : -EIO;
}

static int ossl_seal(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                     uint8_t *buf, size_t len, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = ((struct ossl *)a->be)->enc;
	uint8_t scratch[AEAD_CBC_BLOCK];
	int n;

	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) != 1)
		return -EIO;
	if (ad_len && EVP_EncryptUpdate(c, NULL, &n, ad, (int)ad_len) != 1)
		return -EIO;
	if (len && (EVP_EncryptUpdate(c, buf, &n, buf, (int)len) != 1 || (size_t)n != len))
		return -EIO;
	/* Stream-like modes emit nothing at the end. */
	if (EVP_EncryptFinal_ex(c, scratch, &n) != 1 || n != 0)
		return -EIO;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, tag) != 1)
		return -EIO;
	return 0;
}

static int ossl_open(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                     uint8_t *buf, size_t len, const uint8_t *tag)
{
	EVP_CIPHER_CTX *c = ((struct ossl *)a->be)->dec;
	uint8_t want[AEAD_TAG_LEN], scratch[AEAD_CBC_BLOCK];
	int n;

	memcpy(want, tag, sizeof(want)); /* the ctrl takes a non-const pointer */
	if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, want) != 1)
		goto fail;
	if (ad_len && EVP_DecryptUpdate(c, NULL, &n, ad, (int)ad_len) != 1)
		goto fail;
	if (len && (EVP_DecryptUpdate(c, buf, &n, buf, (int)len) != 1 || (size_t)n != len))
		goto fail;
	/* Final compares the tag in constant time (CRYPTO_memcmp). */
	if (EVP_DecryptFinal_ex(c, scratch, &n) != 1)
		goto fail;
	return 0;
fail:
	/* GCM and ChaCha decrypt and authenticate in one pass: what is in buf
	 * now is unauthenticated plaintext, so it does not stay there. */
	sodium_memzero(buf, len);
	return AEAD_ERR_AUTH;
}

static int ossl_cbc(EVP_CIPHER_CTX *c, int enc, const uint8_t *iv, uint8_t *buf, size_t len)
{
	uint8_t scratch[AEAD_CBC_BLOCK];
	int n;

	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc) != 1)
		return -EIO;
	if (len && (EVP_CipherUpdate(c, buf, &n, buf, (int)len) != 1 || (size_t)n != len))
		return -EIO;
	if (EVP_CipherFinal_ex(c, scratch, &n) != 1 || n != 0)
		return -EIO;
	return 0;
}

static int ossl_cbc_encrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return ossl_cbc(((struct ossl *)a->be)->enc, 1, iv, buf, len);
}

static int ossl_cbc_decrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return ossl_cbc(((struct ossl *)a->be)->dec, 0, iv, buf, len);
}

const struct aead_ops aead_openssl_ops = {
    .name = "openssl",
    .supports = ossl_supports,
    .init = ossl_init,
    .free = ossl_free,
    .seal = ossl_seal,
    .open = ossl_open,
    .cbc_encrypt = ossl_cbc_encrypt,
    .cbc_decrypt = ossl_cbc_decrypt,
};
#endif
