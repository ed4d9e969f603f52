/*
 * IKEv2 key derivation (RFC 7296 §2.13-§2.18) for the negotiated suite:
 *
 *   SKEYSEED = prf(Ni | Nr, g^ir)                                  §2.14
 *   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *            = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 *   rekeyed IKE SA: SKEYSEED = prf_old(SK_d (old), g^ir (new) | Ni | Nr)
 *                                                                   §2.18
 *   Child SA: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr)           §2.17
 *
 * Sizes: SK_d, SK_pi, SK_pr are the prf's output length (and preferred key
 * length, RFC 4868 §2.1); SK_ai/SK_ar the integrity key (RFC 4868: as long
 * as the hash output), none with an AEAD cipher; SK_ei/SK_er the cipher key
 * plus, for AES-GCM and ChaCha20-Poly1305, the 4-byte salt (RFC 5282 §7.1,
 * RFC 7634 §3). Child SA KEYMAT is cut per direction, initiator to
 * responder first, each in crypto/aead.h's aead_new() order: cipher key
 * [+ salt] then integrity key (§2.17).
 *
 * The prf key for SKEYSEED is Ni | Nr in full. §2.14 uses only the first 64
 * bits of each nonce for prfs with a fixed key size (AES-XCBC, AES-CMAC);
 * we implement only the HMAC-SHA2 prfs, which take any key length, so that
 * case does not arise (and such prfs are refused with -EINVAL).
 *
 * g^ir is passed as ke_shared() returns it: MODP padded to the modulus
 * length, ECP the x coordinate (RFC 5903 §7), X25519 32 bytes (RFC 8031).
 * Nonces: 1 to 256 bytes are accepted here; the Nonce payload's own limits
 * (16..256 bytes, at least half the prf key size, §2.10, §3.9) are the
 * payload parser's to enforce.
 *
 * Errors: -EINVAL for an unsupported prf or suite, a nonce or g^ir of bad
 * length, NULL. Every function wipes its intermediate values.
 */
#ifndef TUNSEC_IKE_KEYS_H
#define TUNSEC_IKE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "crypto/prf.h"
#include "ike/proposal.h"

#define IKE_KEYS_MAX_NONCE 256
#define IKE_KEYS_MAX_GIR   512
#define IKE_KEYS_MAX_INTEG 64       /* HMAC-SHA2-512-256 key */
#define IKE_KEYS_MAX_ENCR  (32 + 4) /* AES-256 or ChaCha20 key + salt */

struct ike_keys {
	int prf;  /* PRF_* the SA uses from now on */
	int encr; /* ENCR_* */
	unsigned key_bits;
	int integ;        /* AUTH_*, AUTH_NONE with AEAD */
	size_t prf_len;   /* bytes of SK_d, SK_pi, SK_pr */
	size_t integ_len; /* bytes of SK_ai, SK_ar (0 with AEAD) */
	size_t encr_len;  /* bytes of SK_ei, SK_er (key + salt) */
	uint8_t sk_d[PRF_MAX_OUT];
	uint8_t sk_ai[IKE_KEYS_MAX_INTEG];
	uint8_t sk_ar[IKE_KEYS_MAX_INTEG];
	uint8_t sk_ei[IKE_KEYS_MAX_ENCR];
	uint8_t sk_er[IKE_KEYS_MAX_ENCR];
	uint8_t sk_pi[PRF_MAX_OUT];
	uint8_t sk_pr[PRF_MAX_OUT];
};

/* Keying material for one Child SA: one aead_new() blob per direction. */
struct ike_child_keys {
	size_t len; /* bytes in each of i2r and r2i */
	uint8_t i2r[AEAD_MAX_KEYMAT];
	uint8_t r2i[AEAD_MAX_KEYMAT];
};

/* SKEYSEED = prf(Ni | Nr, g^ir) (§2.14); out gets prf_out_len(prf)
 * bytes. 0 or -EINVAL. */
int ike_keys_skeyseed(int prf, const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                      const uint8_t *gir, size_t gir_len, uint8_t *out);

/* SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) (§2.18), with the old
 * IKE SA's prf. 0 or -EINVAL. */
int ike_keys_rekey_skeyseed(int old_prf, const uint8_t *old_sk_d, size_t old_sk_d_len,
                            const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                            const uint8_t *nr, size_t nr_len, uint8_t *out);

/*
 * A new IKE SA's keys (§2.14) for suite s (an IKE suite: encr, key_bits,
 * integ, prf). spi_i and spi_r are the IKE header's SPIs. 0 or -EINVAL; k
 * is wiped on error.
 */
int ike_keys_derive(struct ike_keys *k, const struct ike_suite *s, const uint8_t *ni, size_t ni_len,
                    const uint8_t *nr, size_t nr_len, const uint8_t spi_i[8],
                    const uint8_t spi_r[8], const uint8_t *gir, size_t gir_len);

/*
 * Keys of the IKE SA that replaces old (§2.18): SKEYSEED from old's SK_d
 * and prf, the rest with the new suite's prf; ni/nr and the SPIs are those
 * of the rekeying CREATE_CHILD_SA exchange (new SPIs). k may not alias
 * old. 0 or -EINVAL; k is wiped on error.
 */
int ike_keys_rekey(struct ike_keys *k, const struct ike_keys *old, const struct ike_suite *s,
                   const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                   const uint8_t spi_i[8], const uint8_t spi_r[8], const uint8_t *gir,
                   size_t gir_len);

/*
 * Child SA keying material (§2.17) for child suite s (encr, key_bits,
 * integ) from the IKE SA's SK_d: gir is the new shared secret with PFS,
 * NULL (gir_len 0) without. ni/nr are the nonces of the exchange that
 * created the Child SA (IKE_SA_INIT's for the first one). 0 or -EINVAL;
 * ck is wiped on error.
 */
int ike_keys_child(struct ike_child_keys *ck, const struct ike_keys *ike, const struct ike_suite *s,
                   const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                   const uint8_t *nr, size_t nr_len);

/*
 * The aead_new() blob for the IKE SA's own SK payload in one direction:
 * SK_ei | SK_ai (initiator's sending direction) or SK_er | SK_ar. out must
 * hold AEAD_MAX_KEYMAT bytes; returns the length written.
 */
size_t ike_keys_sk_keymat(const struct ike_keys *k, bool from_initiator, uint8_t *out);

/* Bytes of cipher key (+ salt) and of integrity key for a suite; false if
 * crypto/aead.h cannot do it. */
bool ike_keys_sizes(int encr, unsigned key_bits, int integ, size_t *encr_len, size_t *integ_len);

void ike_keys_wipe(struct ike_keys *k);
void ike_child_keys_wipe(struct ike_child_keys *ck);

#endif
