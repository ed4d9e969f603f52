/*
 * OpenSSL libcrypto (EVP) backend: AES-GCM, ChaCha20-Poly1305, AES-CBC.
 * The fastest here for all three (see the table in aead.c).
 *
 * Each context keeps one EVP_CIPHER_CTX (about 1.1 KiB of OpenSSL's heap
 * for AES-GCM), made and keyed once in init. A packet then only sets the IV
 * and the direction (EVP_CipherInit_ex with everything else NULL), which
 * neither allocates nor re-expands the key.
 *
 * One context does both directions: an ESP SA only ever seals (outbound)
 * or only ever opens (inbound), and a second context would be 1.1 KiB of
 * keys never used. GCM and ChaCha20-Poly1305 use the same key schedule
 * both ways (GCM runs AES forward only, NIST SP 800-38D §7), so switching
 * direction costs nothing. AES-CBC decrypts with the inverse schedule: the
 * context keeps the raw key and re-expands it when the direction changes,
 * which for one SA happens at most once (IKE's SK contexts, made per
 * message, likewise); a caller alternating seal and open on one CBC
 * context pays a key expansion per switch, still without allocating.
 */
#ifndef TUNSEC_NO_OPENSSL
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/aead_impl.h"

struct ossl {
	EVP_CIPHER_CTX *ctx;
	/* AES-CBC only: the direction ctx's key schedule is for, and the
	 * key to expand the other one from. */
	int keyed_enc;
	uint8_t key[32];
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

static size_t ossl_state_len(int encr)
{
	/* The combined modes never re-key: no copy of the key. */
	return encr == ENCR_AES_CBC ? sizeof(struct ossl) : offsetof(struct ossl, keyed_enc);
}

static void ossl_free(struct aead *a)
{
	struct ossl *o = a->be;

	EVP_CIPHER_CTX_free(o->ctx); /* clears the key schedule; NULL is fine */
	o->ctx = NULL;
}

static int ossl_init(struct aead *a, const uint8_t *key, size_t key_len)
{
	const EVP_CIPHER *c = cipher_for(a->encr, a->key_bits);
	struct ossl *o = a->be;
	EVP_CIPHER_CTX *ctx;

	if (!c || EVP_CIPHER_key_length(c) != (int)key_len || key_len > sizeof(o->key))
		return -EIO;
	/* Allocation failure and an unavailable algorithm look alike here;
	 * -EIO lets aead_new() fall back to the next backend either way. */
	if (!(ctx = o->ctx = EVP_CIPHER_CTX_new()))
		return -EIO;
	/* The cipher first, then the key: GCM and ChaCha keep their default
	 * 12-byte IV length, which is our salt || IV. Keyed for encryption,
	 * which is all that GCM and ChaCha ever need. */
	if (EVP_CipherInit_ex(ctx, c, NULL, NULL, NULL, 1) != 1 ||
	    EVP_CIPHER_CTX_iv_length(ctx) !=
	        (EVP_CIPHER_CTX_mode(ctx) == EVP_CIPH_CBC_MODE ? AEAD_CBC_BLOCK : AEAD_NONCE_LEN) ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, 1) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
		return -EIO;
	if (a->encr == ENCR_AES_CBC) {
		o->keyed_enc = 1;
		memcpy(o->key, key, key_len);
	}
	return 0;
}

static int ossl_seal(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                     uint8_t *buf, size_t len, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = ((struct ossl *)a->be)->ctx;
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
	EVP_CIPHER_CTX *c = ((struct ossl *)a->be)->ctx;
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

static int ossl_cbc(struct ossl *o, int enc, const uint8_t *iv, uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *c = o->ctx;
	uint8_t scratch[AEAD_CBC_BLOCK];
	int n;

	/* The key again only when the direction changes (see the top). */
	if (EVP_CipherInit_ex(c, NULL, NULL, o->keyed_enc == enc ? NULL : o->key, iv, enc) != 1)
		return -EIO;
	o->keyed_enc = enc;
	if (len && (EVP_CipherUpdate(c, buf, &n, buf, (int)len) != 1 || (size_t)n != len))
		return -EIO;
	if (EVP_CipherFinal_ex(c, scratch, &n) != 1 || n != 0)
		return -EIO;
	return 0;
}

static int ossl_cbc_encrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return ossl_cbc(a->be, 1, iv, buf, len);
}

static int ossl_cbc_decrypt(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return ossl_cbc(a->be, 0, iv, buf, len);
}

const struct aead_ops aead_openssl_ops = {
    .name = "openssl",
    .supports = ossl_supports,
    .state_len = ossl_state_len,
    .init = ossl_init,
    .free = ossl_free,
    .seal = ossl_seal,
    .open = ossl_open,
    .cbc_encrypt = ossl_cbc_encrypt,
    .cbc_decrypt = ossl_cbc_decrypt,
};
#endif
