/*
 * Incremental HMAC-SHA2 (RFC 2104 over FIPS 180-4), with the keyed inner
 * and outer hash states computed once so that each message costs only the
 * hashing of its own bytes: that is what the AES-CBC + HMAC ESP suites do per
 * packet (RFC 4868 §2), and what prf+ does per block (RFC 7296 §2.13).
 *
 *	struct hmac h;
 *	hmac_init(&h, PRF_HMAC_SHA2_256, key, key_len);
 *	hmac_start(&h); hmac_update(&h, a, n); ...; hmac_finish(&h, out);
 *	hmac_start(&h); ...                  (same key, next message)
 *	hmac_wipe(&h);
 *
 * Two hash libraries: OpenSSL's SHA-2 (SHA-NI / AVX2 code, about five times
 * mbedTLS's on this project's machines; see aead.c) through its low-level
 * SHA*_CTX calls, which are deprecated in 3.0 but are the only OpenSSL
 * hashes that can be copied without an allocation (EVP_MD_CTX_copy_ex and
 * EVP_MAC_init both allocate per message in 3.0); and mbedTLS, always there.
 * No allocation and no system call either way. A struct hmac is used by one
 * thread at a time.
 */
#ifndef TUNSEC_CRYPTO_HMAC_H
#define TUNSEC_CRYPTO_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/mbedtls_compat.h"

#ifndef TUNSEC_NO_OPENSSL
#include <openssl/opensslconf.h>
#ifndef OPENSSL_NO_DEPRECATED_3_0
#define HMAC_HAVE_OPENSSL 1
#include <openssl/sha.h>
#endif
#endif

union hmac_md {
	mbedtls_sha1_context s1; /* legacy: HMAC-SHA1 (RFC 2404), tunsec.legacy only */
	mbedtls_sha256_context s256;
	mbedtls_sha512_context s512; /* also SHA-384 */
#ifdef HMAC_HAVE_OPENSSL
	SHA_CTX o1;
	SHA256_CTX o256;
	SHA512_CTX o512; /* also SHA-384 */
#endif
};

struct hmac {
	int prf;                    /* PRF_HMAC_* (crypto/prf.h) */
	size_t out_len;             /* 20 (SHA-1), 32, 48, 64 */
	bool openssl;               /* which library hashes */
	union hmac_md inner, outer; /* after absorbing key ^ ipad, key ^ opad */
	union hmac_md work;
};

/*
 * Key an HMAC for prf (PRF_HMAC_SHA2_256/384/512) with the fastest library
 * built in. Keys longer than the hash block are hashed first (RFC 2104 §2).
 * 0, or -EINVAL for an unsupported prf (h is then zeroed).
 */
int hmac_init(struct hmac *h, int prf, const uint8_t *key, size_t key_len);

/* The same with the library named: "openssl", "mbedtls", or NULL for the
 * fastest. -ENOENT if that library is not built in. */
int hmac_init_lib(struct hmac *h, int prf, const uint8_t *key, size_t key_len, const char *lib);

/* "openssl" or "mbedtls". */
const char *hmac_lib(const struct hmac *h);

/* Begin a new message under the key from hmac_init(). */
void hmac_start(struct hmac *h);

/* Absorb len bytes; data may be NULL when len is 0. */
void hmac_update(struct hmac *h, const void *data, size_t len);

/* Write the full h->out_len bytes of the tag; wipes the message state. */
void hmac_finish(struct hmac *h, uint8_t *out);

/* Wipe keys and state. */
void hmac_wipe(struct hmac *h);

#endif
