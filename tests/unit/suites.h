/*
 * The cipher suites of crypto/aead.h, one table for every unit test that
 * runs a suite (crypto/aead, ESP, the IKE SK payload, IKE key derivation,
 * proposal strings, the IKE simulator), so that a suite added here is
 * tested everywhere and the tests cannot drift apart. Sizes are written
 * out from the RFCs, not asked of crypto/aead, so that they check it:
 *
 *   AES-GCM-16          RFC 4106 §8.1: key + 4-byte salt; 8-byte IV, 16-byte ICV
 *   ChaCha20-Poly1305   RFC 7634 §2: 32-byte key + 4-byte salt; 8-byte IV, 16-byte ICV
 *   AES-CBC + HMAC-SHA2 RFC 3602 §2.4: 16-byte IV and block; RFC 4868 §2.1:
 *                       the HMAC key as long as the hash, the ICV half of it
 *
 * A test runs them all, or picks a subset by a field (`s->integ ==
 * AUTH_NONE` for the combined-mode ones), or names the one it needs with
 * test_suite().
 */
#ifndef TUNSEC_TEST_SUITES_H
#define TUNSEC_TEST_SUITES_H

#include <stddef.h>

#include "crypto/aead.h"

struct test_suite {
	/* aead_name(); also the strongSwan proposal keyword (ESP, and IKE
	 * with a prf and group added) and the record name in vector files */
	const char *name;
	int encr;         /* ENCR_* */
	unsigned bits;    /* key bits: ChaCha20 has only 256 */
	int integ;        /* AUTH_*, AUTH_NONE for combined mode */
	size_t encr_key;  /* encryption keymat: key and salt (SK_e, RFC 7296 §2.14) */
	size_t integ_key; /* integrity key (SK_a), 0 for combined mode */
	size_t iv, icv;
	size_t block; /* padding unit (RFC 4303 §2.4): 4 for the stream-like */
};

/*
 * Ends with a zeroed entry (name NULL), so that a loop needs no count:
 *
 *	for (const struct test_suite *s = test_suites; s->name; s++)
 */
extern const struct test_suite test_suites[];

/* aead_keymat_len() as the RFCs give it: encryption keymat, then integrity. */
static inline size_t test_suite_keymat(const struct test_suite *s)
{
	return s->encr_key + s->integ_key;
}

/* The suite of that name; a name not in the table ends the test (REQUIRE). */
const struct test_suite *test_suite(const char *name);

#endif
