/*
 * HMAC-SHA2 and IKEv2's prf / prf+ (RFC 7296 §2.13), PRFs named by their
 * IKEv2 transform IDs (RFC 4868). Used by IKE key derivation and, through
 * struct hmac, by the AES-CBC + HMAC-SHA2 suites in crypto/aead.c.
 */
#ifndef TUNSEC_CRYPTO_PRF_H
#define TUNSEC_CRYPTO_PRF_H

#include <stddef.h>
#include <stdint.h>

enum {
	PRF_HMAC_SHA1 = 2, /* legacy only (RFC 8247 §2.3: SHOULD NOT); tunsec.legacy */
	PRF_HMAC_SHA2_256 = 5,
	PRF_HMAC_SHA2_384 = 6,
	PRF_HMAC_SHA2_512 = 7,
};

#define PRF_MAX_OUT 64

/* Output (and preferred key) length: 32, 48, 64; 0 if unsupported. */
size_t prf_out_len(int prf);

/* out = prf(key, data). 0, or -EINVAL for an unsupported prf. */
int prf_compute(int prf, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
		uint8_t *out);

/*
 * prf+ (RFC 7296 §2.13): T1 | T2 | ... with Tn = prf(K, Tn-1 | S | n).
 * -EINVAL if out_len needs more than 255 blocks or the prf is unsupported.
 */
int prf_plus(int prf, const uint8_t *key, size_t key_len, const uint8_t *seed, size_t seed_len,
	     uint8_t *out, size_t out_len);

#endif
