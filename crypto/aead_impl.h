/*
 * Inside crypto/aead: the backend vtable, the context layout, and the hooks
 * that tests and tests/tools/aead_bench use to pick a backend by name.
 * Not for use outside crypto/ and tests/.
 *
 * A backend does only the cipher: the combined-mode AEADs with a 12-byte
 * nonce and a 16-byte tag, and raw AES-CBC without padding. aead.c owns
 * everything that is the same for all backends: the suite table, nonce
 * construction (salt || IV), the CBC IV generator, and HMAC for the
 * classic suites (crypto/hmac.c).
 */
#ifndef TUNSEC_CRYPTO_AEAD_IMPL_H
#define TUNSEC_CRYPTO_AEAD_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/aes.h>

#include "crypto/aead.h"
#include "crypto/hmac.h"

#define AEAD_NONCE_LEN 12 /* salt (4) || IV (8): RFC 4106 §4, RFC 7634 §2 */
#define AEAD_SALT_LEN  4
#define AEAD_TAG_LEN   16
#define AEAD_CBC_BLOCK 16

struct aead;

struct aead_ops {
	const char *name; /* "openssl", "libsodium", "mbedtls" */
	/* Whether this library, on this CPU, does encr (ENCR_*) with this
	 * key size. */
	bool (*supports)(int encr, unsigned key_bits);
	/* Set a->be up for a->encr / a->key_bits with the cipher key (no salt).
	 * 0, -ENOMEM, or -EIO when the library refuses. */
	int (*init)(struct aead *a, const uint8_t *key, size_t key_len);
	/* Wipe and free a->be; called also after a failed init. */
	void (*free)(struct aead *a);
	/* Combined mode, in place, detached 16-byte tag. seal: 0 or -EIO.
	 * open: 0, or AEAD_ERR_AUTH without having released plaintext. */
	int (*seal)(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
	            uint8_t *buf, size_t len, uint8_t *tag);
	int (*open)(struct aead *a, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
	            uint8_t *buf, size_t len, const uint8_t *tag);
	/* AES-CBC, no padding, len a multiple of 16, in place. 0 or -EIO. */
	int (*cbc_encrypt)(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len);
	int (*cbc_decrypt)(struct aead *a, const uint8_t *iv, uint8_t *buf, size_t len);
};

struct aead {
	const struct aead_ops *ops;
	void *be; /* backend state */
	int encr, integ;
	unsigned key_bits;
	uint8_t iv_len, icv_len, block_len;
	const char *name;
	uint8_t salt[AEAD_SALT_LEN]; /* combined mode */
	/* Classic mode: the HMAC key and the random key that turns the
	 * sequence number into an unpredictable IV (RFC 3602 §2.4). */
	struct hmac mac;
	mbedtls_aes_context iv_key;
	bool have_iv_key;
};

#ifndef TUNSEC_NO_OPENSSL
extern const struct aead_ops aead_openssl_ops;
#endif
extern const struct aead_ops aead_sodium_ops;
extern const struct aead_ops aead_mbedtls_ops;

/*
 * aead_new() with the backend named ("openssl", "libsodium", "mbedtls"), or
 * the automatic choice when backend is NULL. Errors as aead_new(), plus
 * -ENOENT for a backend not built in and -ENOTSUP for one that cannot do
 * this suite here (e.g. libsodium AES-GCM without AES-NI, or AES-128-GCM).
 */
int aead_new_backend(struct aead **out, int encr, unsigned key_bits, int integ,
                     const uint8_t *keymat, size_t keymat_len, const char *backend);

/* Name of the i-th backend built in (0, 1, ...); NULL past the last. */
const char *aead_backend_name(size_t i);

/* Whether the named backend can do the suite on this machine. */
bool aead_backend_supports(const char *backend, int encr, unsigned key_bits, int integ);

#endif
