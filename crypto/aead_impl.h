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
	/* Bytes of backend state for encr (ENCR_*): aead.c allocates them
	 * zeroed, 16-aligned, with the struct aead, at a->be. */
	size_t (*state_len)(int encr);
	/* Set a->be up for a->encr / a->key_bits with the cipher key (no salt).
	 * 0, -ENOMEM, or -EIO when the library refuses. */
	int (*init)(struct aead *a, const uint8_t *key, size_t key_len);
	/* Release what the library allocated for a->be and wipe its keys
	 * (aead.c then wipes and frees the memory itself); called also after
	 * a failed init, and must not be confused by a half-made state. */
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

/* Classic mode only: the HMAC key and the random key that turns the
 * sequence number into an unpredictable IV (RFC 3602 §2.4). */
struct aead_cbc {
	struct hmac mac;
	mbedtls_aes_context iv_key;
	bool have_iv_key;
};

/*
 * One allocation per context, sized for its suite and backend (a CHILD_SA
 * has two, so every byte here counts twice per road warrior):
 *
 *	struct aead | backend state (ops->state_len) | struct aead_cbc (CBC only)
 *
 * The combined-mode suites carry neither HMAC state nor an IV key.
 */
struct aead {
	const struct aead_ops *ops;
	void *be;             /* backend state, in this allocation */
	struct aead_cbc *cbc; /* classic mode, in this allocation; else NULL */
	const char *name;
	int encr, integ;
	unsigned key_bits;
	uint8_t iv_len, icv_len, block_len;
	uint8_t salt[AEAD_SALT_LEN]; /* combined mode */
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
