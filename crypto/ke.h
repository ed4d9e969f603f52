/*
 * IKEv2 key exchange (RFC 7296 §1.2, §3.4), groups named by their IKEv2
 * Transform Type 4 IDs:
 *   14, 15, 16  MODP 2048, 3072, 4096 (RFC 3526), generator 2
 *   19, 20, 21  NIST P-256, P-384, P-521 (RFC 5903): the KE payload carries
 *               x | y, each the size of the field, without SEC1's 0x04
 *               prefix; the shared secret g^ir is x alone (RFC 5903 §7)
 *   31          Curve25519 (RFC 8031): 32-byte values, RFC 7748 X25519
 *   2           MODP 1024 (RFC 2409 §6.2): only when the caller passes
 *               allow_legacy (RFC 8247 §2.4: SHOULD NOT), refused otherwise
 *
 * Monocypher-style: the caller owns struct ke (no allocation in the API),
 * ke_new() makes a fresh private key and the public value, ke_shared()
 * checks the peer's value in full before using it, ke_free() wipes.
 *
 *	struct ke k;
 *	if (ke_new(&k, KE_CURVE25519, false) < 0) ...
 *	ke_public(&k, ke_data);                 (ke_public_len(&k) bytes)
 *	rc = ke_shared(&k, peer, peer_len, gir, &gir_len);
 *	ke_free(&k);
 *
 * Backends: libsodium for Curve25519; OpenSSL libcrypto (BIGNUM and
 * EC_POINT, none of it deprecated in 3.0) or mbedTLS (bignum, ecp) for MODP
 * and ECP. OpenSSL is the default where built in because it is several
 * times faster on the operations that bound the handshake rate (figures in
 * crypto/ke.c and tests/tools/ke_bench.c); mbedTLS is kept as the fallback
 * for builds without OpenSSL and as a cross-check in the tests.
 *
 * Errors (negative errno):
 *   -ENOTSUP  group not supported, or MODP 1024 without allow_legacy
 *   -ENOENT   ke_new_lib(): the named library is not built in or does not
 *             do this group
 *   -EINVAL   bad argument (NULL, a private key out of range)
 *   -EBADMSG  the peer's public value is invalid: wrong length for the
 *             group, out of range (MODP: not 1 < y < p-1), not on the curve,
 *             or an all-zero X25519 result (a low-order point)
 *   -EIO      the crypto library failed (e.g. out of memory)
 * A struct ke is used by one thread at a time.
 */
#ifndef TUNSEC_CRYPTO_KE_H
#define TUNSEC_CRYPTO_KE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	KE_NONE = 0,
	KE_MODP_1024 = 2,
	KE_MODP_2048 = 14,
	KE_MODP_3072 = 15,
	KE_MODP_4096 = 16,
	KE_ECP_256 = 19,
	KE_ECP_384 = 20,
	KE_ECP_521 = 21,
	KE_CURVE25519 = 31,
};

#define KE_MAX_PUBLIC  512 /* MODP 4096 */
#define KE_MAX_SHARED  512
#define KE_MAX_PRIVATE 66 /* a P-521 scalar */

struct ke {
	int group;                    /* KE_* */
	uint8_t lib;                  /* backend, internal */
	size_t priv_len;              /* bytes of priv in use */
	size_t pub_len;               /* ke_public_len() */
	uint8_t priv[KE_MAX_PRIVATE]; /* big-endian scalar / exponent; X25519 raw */
	uint8_t pub[KE_MAX_PUBLIC];   /* the KE payload's Key Exchange Data */
};

/* Is the group implemented (and, for MODP 1024, allowed)? */
bool ke_supported(int group, bool allow_legacy);

/* strongSwan-style name: "modp2048", "ecp256", "curve25519"; NULL if
 * unknown. */
const char *ke_name(int group);

/* Length of the KE payload data for a group (RFC 7296 §3.4: MODP values are
 * padded to the modulus length); 0 if unknown. */
size_t ke_group_public_len(int group);

/* Length of the shared secret g^ir (MODP: modulus length; ECP: field
 * length; X25519: 32); 0 if unknown. */
size_t ke_group_shared_len(int group);

/*
 * Fresh private key and public value for group, with the fastest library.
 * 0, -ENOTSUP, -EIO. On error k is wiped.
 */
int ke_new(struct ke *k, int group, bool allow_legacy);

/* The same with the library named: "openssl", "mbedtls", "libsodium", or
 * NULL for the default. -ENOENT if it cannot do this group. */
int ke_new_lib(struct ke *k, int group, bool allow_legacy, const char *lib);

/*
 * Known-answer tests only: take the private key from the caller (big-endian
 * scalar for ECP, 1 <= d < n, exactly the order's byte length; exponent of
 * 1..KE_MAX_PRIVATE bytes for MODP, not zero; 32 raw bytes for X25519).
 * 0, -ENOTSUP, -ENOENT, -EINVAL (out of range), -EIO.
 */
int ke_new_private(struct ke *k, int group, bool allow_legacy, const char *lib, const uint8_t *priv,
                   size_t priv_len);

/* Bytes of ke_public()'s output. */
size_t ke_public_len(const struct ke *k);

/* Copy the public value (Key Exchange Data of the KE payload) to out. */
void ke_public(const struct ke *k, uint8_t *out);

/*
 * Check the peer's Key Exchange Data and compute g^ir into out, which must
 * hold ke_group_shared_len(k->group) bytes; *out_len gets that length.
 * Checks (RFC 7296 §5, NIST SP 800-56A rev3 §5.6.2.3): the exact length
 * for the group; MODP: 1 < y < p-1 (p is a safe prime, so this excludes
 * the only small subgroup, {1, p-1}); ECP: both coordinates below p and
 * the point on the curve (cofactor 1: every such point has prime order);
 * X25519: the result is not all zero. 0, -EBADMSG, -EINVAL, -EIO; out is
 * wiped on error.
 */
int ke_shared(struct ke *k, const uint8_t *peer, size_t peer_len, uint8_t *out, size_t *out_len);

/* Which library does the work for k: "libsodium", "openssl", "mbedtls". */
const char *ke_lib(const struct ke *k);

/* Wipe the private key (and the rest of k). Safe on a wiped k. */
void ke_free(struct ke *k);

#endif
