/*
 * libsodium backend: ChaCha20-Poly1305 (IETF, RFC 8439) everywhere, and
 * AES-256-GCM where the CPU has AES-NI and PCLMULQDQ (libsodium has no
 * AES-128-GCM and no portable AES). No AES-CBC.
 *
 * Both one-shot calls work in place; the decrypt calls verify the tag
 * (constant time) before writing any plaintext (ChaCha20-Poly1305), or wipe
 * the output when it does not verify (AES-GCM).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/aead_impl.h"

/*
 * The state at a->be: for AES-256-GCM the expanded key (512 bytes,
 * 16-aligned as libsodium wants: aead.c allocates it so); for ChaCha20 only
 * the raw 32-byte key.
 */
static crypto_aead_aes256gcm_state *gcm_state(struct aead *a)
{
	return a->be;
}

static uint8_t *chacha_key(struct aead *a)
{
	return a->be;
}

static bool sod_supports(int encr, unsigned key_bits)
{
	if (encr == ENCR_CHACHA20_POLY1305)
		return true;
	/* Needs sodium_init() to have probed the CPU: aead_new does that. */
	return encr == ENCR_AES_GCM_16 && key_bits == 256 && crypto_aead_aes256gcm_is_available();
}

static size_t sod_state_len(int encr)
{
	return encr == ENCR_CHACHA20_POLY1305 ? crypto_aead_chacha20poly1305_ietf_KEYBYTES
	                                      : sizeof(crypto_aead_aes256gcm_state);
}

static void sod_free(struct aead *a)
{
	/* Nothing the library allocated; aead.c wipes the keys with a. */
}

static int sod_init(struct aead *a, const uint8_t *key, size_t key_len)
{
	if (!sod_supports(a->encr, a->key_bits) || key_len != 32)
		return -EIO;
	if (a->encr == ENCR_CHACHA20_POLY1305) {
		memcpy(chacha_key(a), key, key_len);
		return 0;
	}
	return crypto_aead_aes256gcm_beforenm(gcm_state(a), key) == 0 ? 0 : -EIO;
}

static int sod_seal(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                    uint8_t *buf, size_t len, uint8_t *tag)
{
	int rc;

	if (a->encr == ENCR_CHACHA20_POLY1305)
		rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		    buf, tag, NULL, buf, len, ad, ad_len, NULL, nonce, chacha_key(a));
	else
		rc = crypto_aead_aes256gcm_encrypt_detached_afternm(
		    buf, tag, NULL, buf, len, ad, ad_len, NULL, nonce, gcm_state(a));
	return rc == 0 ? 0 : -EIO;
}

static int sod_open(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                    uint8_t *buf, size_t len, const uint8_t *tag)
{
	int rc;

	if (a->encr == ENCR_CHACHA20_POLY1305)
		rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		    buf, NULL, buf, len, tag, ad, ad_len, nonce, chacha_key(a));
	else
		rc = crypto_aead_aes256gcm_decrypt_detached_afternm(buf, NULL, buf, len, tag, ad,
		                                                    ad_len, nonce, gcm_state(a));
	return rc == 0 ? 0 : AEAD_ERR_AUTH;
}

static int sod_no_cbc(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return -EIO; /* never reached: sod_supports() refuses CBC */
}

const struct aead_ops aead_sodium_ops = {
    .name = "libsodium",
    .supports = sod_supports,
    .state_len = sod_state_len,
    .init = sod_init,
    .free = sod_free,
    .seal = sod_seal,
    .open = sod_open,
    .cbc_encrypt = sod_no_cbc,
    .cbc_decrypt = sod_no_cbc,
};
