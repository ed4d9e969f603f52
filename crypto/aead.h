/*
 * One authenticated-encryption interface for ESP and IKE's SK payload.
 *
 * Algorithms are named by their IKEv2 transform IDs (RFC 7296 §3.3.2, IANA
 * "IKEv2 Transform Type 1/3"), so IKE proposals map onto it directly:
 *   combined mode: ENCR_AES_GCM_16 (RFC 4106/5282), ENCR_CHACHA20_POLY1305
 *                  (RFC 7634); integ must be AUTH_NONE.
 *   classic:       ENCR_AES_CBC (RFC 3602) with AUTH_HMAC_SHA2_256_128,
 *                  _384_192 or _512_256 (RFC 4868); AUTH_HMAC_SHA1_96
 *                  (RFC 2404) for the legacy suite Windows offers by
 *                  default (the daemon admits it only with tunsec.legacy).
 *
 * Key material is one blob, in RFC 7296 §2.17 order: encryption key (for
 * GCM and ChaCha20-Poly1305 followed by the 4-byte salt), then the integrity
 * key. aead_keymat_len() says how long it must be.
 *
 * Sealing and opening work in place on [buf, buf+len) with a detached ICV.
 * What the ICV covers:
 *   combined mode: AAD = ad[0..ad_len); trailer must be empty.
 *   classic:       HMAC(ad || iv || ciphertext || trailer), truncated. The
 *                  trailer carries ESP's implicit ESN high half (RFC 4303
 *                  §2.2.1), which is authenticated but never sent.
 * For classic mode len must be a multiple of 16 (the caller pads).
 *
 * No function allocates except aead_new(). Errors: negative errno values
 * from aead_new(); AEAD_ERR_AUTH from aead_open() when the ICV is wrong
 * (the buffer content is then unspecified and must be dropped).
 */
#ifndef TUNSEC_CRYPTO_AEAD_H
#define TUNSEC_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

enum {
	ENCR_AES_CBC = 12,
	ENCR_AES_GCM_16 = 20,
	ENCR_CHACHA20_POLY1305 = 28,
};

enum {
	AUTH_NONE = 0,
	AUTH_HMAC_SHA1_96 = 2, /* RFC 2404; legacy only (Windows' default), with AES-CBC */
	AUTH_HMAC_SHA2_256_128 = 12,
	AUTH_HMAC_SHA2_384_192 = 13,
	AUTH_HMAC_SHA2_512_256 = 14,
};

#define AEAD_ERR_AUTH (-1)
#define AEAD_MAX_KEYMAT (32 + 4 + 64)
#define AEAD_MAX_IV 16
#define AEAD_MAX_ICV 32

struct aead;

/* Bytes of key material for this suite; 0 if the suite is not supported. */
size_t aead_keymat_len(int encr, unsigned key_bits, int integ);

/*
 * Build a context. -EINVAL: unsupported suite or wrong keymat_len;
 * -ENOMEM. The context keeps its own copy of the keys.
 */
int aead_new(struct aead **out, int encr, unsigned key_bits, int integ, const uint8_t *keymat,
	     size_t keymat_len);

/* Wipe every key and free. NULL is fine. */
void aead_free(struct aead *a);

size_t aead_iv_len(const struct aead *a);    /* 8 (GCM, ChaCha), 16 (CBC) */
size_t aead_icv_len(const struct aead *a);   /* 16, or 16/24/32 (HMAC) */
size_t aead_block_len(const struct aead *a); /* padding unit: 4 or 16 */
/* strongSwan-style proposal name: "aes256gcm16", "chacha20poly1305",
 * "aes128-sha256", ... */
const char *aead_name(const struct aead *a);
/* Which library does the work: "libsodium", "openssl", "mbedtls". */
const char *aead_backend(const struct aead *a);

/*
 * Write a fresh IV for the packet with this sequence number. Combined mode:
 * the 64-bit counter itself (RFC 4106 §3.1: unique per key is all it needs).
 * CBC: unpredictable (RFC 3602 §2.4), derived by encrypting the counter under
 * a per-context random key, so no system call per packet.
 */
void aead_make_iv(struct aead *a, uint64_t seq, uint8_t *iv);

int aead_seal(struct aead *a, const uint8_t *iv, const uint8_t *ad, size_t ad_len,
	      const uint8_t *trailer, size_t trailer_len, uint8_t *buf, size_t len, uint8_t *icv);

int aead_open(struct aead *a, const uint8_t *iv, const uint8_t *ad, size_t ad_len,
	      const uint8_t *trailer, size_t trailer_len, uint8_t *buf, size_t len,
	      const uint8_t *icv);

/* Backend per suite on this CPU, for `tunsec status`; never NULL. */
const char *aead_backend_for(int encr, unsigned key_bits, int integ);

#endif
