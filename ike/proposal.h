/*
 * IKEv2 proposals: our configuration from strongSwan-style strings, the
 * peer's offered SA payload (as ike/payload.h parses it), and the responder's choice
 * (RFC 7296 §2.7, §3.3, §3.3.6).
 *
 * Configuration strings are what swanctl.conf's `proposals` /
 * `esp_proposals` hold: algorithms joined by '-', proposals separated by
 * ',', and the word `default`:
 *   IKE: aes256gcm16-prfsha256-x25519, aes256-sha256-modp2048,
 *        chacha20poly1305-prfsha384-curve25519-ecp256, default
 *   ESP: aes256gcm16-esn, aes256-sha256-modp2048 (PFS group), default
 * Tokens: aes128 aes256 (CBC), aes128gcm16 aes256gcm16 (also ...gcm128),
 * chacha20poly1305; sha256 sha384 sha512 (HMAC-SHA2, RFC 4868);
 * prfsha256 prfsha384 prfsha512; modp2048 modp3072 modp4096 ecp256 ecp384
 * ecp521 curve25519 (= x25519); esn noesn; legacy only (IKE_LEGACY_*):
 * modp1024, sha1 (= sha, HMAC-SHA1-96, RFC 2404), prfsha1.
 * An IKE proposal without a prf takes the prfs matching its integrity
 * algorithms, as strongSwan does. A proposal naming both AEAD and non-AEAD
 * ciphers is split in two, because RFC 7296 §3.3 forbids an integrity
 * algorithm next to a combined-mode cipher. Refused with a message naming
 * the token: DES, 3DES, NULL encryption, MD5, SHA-1 as the only integrity
 * or prf algorithm (RFC 8247 §2, RFC 8221 §5-§6), and anything we do not
 * implement; MODP 1024 and SHA-1 without their legacy flag. No keyword is
 * ever dropped silently: it is taken or the string is refused.
 *
 * Errors are negative; those that the engine answers with a Notify carry
 * its type (RFC 7296 §3.10.1) so that -rc is what to send.
 */
#ifndef TUNSEC_IKE_PROPOSAL_H
#define TUNSEC_IKE_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/payload.h"

#define IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN (-14) /* NO_PROPOSAL_CHOSEN */
#define IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD (-17) /* INVALID_KE_PAYLOAD */

#define IKE_PROPOSAL_MAX_ALGS 8  /* per transform type in one proposal */
#define IKE_PROPOSAL_MAX      16 /* proposals from one string */

/* One of our configured proposals: the acceptable transforms per type. */
struct ike_proposal_conf {
	uint8_t proto; /* IKE_PROTO_IKE or IKE_PROTO_ESP */
	uint8_t n_encr, n_prf, n_integ, n_ke, n_esn;
	struct {
		uint16_t id;       /* ENCR_* (crypto/aead.h) */
		uint16_t key_bits; /* Key Length attribute; 0 = none (ChaCha20) */
	} encr[IKE_PROPOSAL_MAX_ALGS];
	uint16_t prf[IKE_PROPOSAL_MAX_ALGS];   /* PRF_* (crypto/prf.h); IKE only */
	uint16_t integ[IKE_PROPOSAL_MAX_ALGS]; /* AUTH_*; empty with AEAD */
	uint16_t ke[IKE_PROPOSAL_MAX_ALGS];    /* KE_* (crypto/ke.h); ESP: PFS */
	uint16_t esn[2];                       /* ESP only */
};

struct ike_proposal_list {
	size_t n;
	struct ike_proposal_conf p[IKE_PROPOSAL_MAX];
};

/*
 * The peer's offers are the SA payload parser's own structs (ike/payload.h):
 * struct ike_proposal per proposal substructure (num, proto, SPI, and its
 * struct ike_transform list with type, id, Key Length in key_bits, and
 * unknown_attr for a transform with any other attribute, which §3.3.6
 * forbids choosing). Protocol IDs IKE_PROTO_*, transform types IKE_TRANS_*
 * and ESN IDs IKE_ESN_* come from there too.
 */

/*
 * The chosen transform set: one of each type, with the proposal number
 * and SPI of the peer's proposal it came from (the responder echoes the
 * number, RFC 7296 §3.3.1). integ is AUTH_NONE for AEAD ciphers; ke is
 * KE_NONE when no group applies (ESP without PFS, or IKE_SELECT_NO_KE);
 * has_esn is false for IKE.
 */
struct ike_suite {
	uint8_t num;
	uint8_t proto;
	uint8_t spi_len;
	uint8_t spi[8];
	uint16_t encr;
	uint16_t key_bits; /* as negotiated: 0 for ChaCha20-Poly1305 */
	uint16_t prf;
	uint16_t integ;
	uint16_t ke;
	bool has_esn;
	bool esn;
};

/*
 * Legacy algorithms, admitted only by these flags (tunsec.legacy = yes sets
 * both; tunsec.legacy_groups = yes only the first):
 *   IKE_LEGACY_MODP1024  group 2 (RFC 8247 §2.4: SHOULD NOT)
 *   IKE_LEGACY_SHA1      HMAC-SHA1-96 and PRF_HMAC_SHA1, with AES-CBC only
 *                        (RFC 8247 §2.2-2.3); `default` then ends with
 *                        Windows' default suite, aes256-aes128-sha1-prfsha1-
 *                        modp1024 (IKE) and aes256-aes128-sha1 (ESP).
 * DES, 3DES and MD5 stay refused whatever the flags.
 */
#define IKE_LEGACY_MODP1024 0x1u
#define IKE_LEGACY_SHA1     0x2u

/* ike_proposal_select() flags. */
#define IKE_SELECT_NO_KE                                                                           \
	0x1 /* IKE_AUTH's Child SA: KE transforms are not                                          \
	        used (RFC 7296 §1.2); ignore them */

/*
 * Parse a proposals string for proto (IKE_PROTO_IKE or IKE_PROTO_ESP).
 * allow_legacy: IKE_LEGACY_* flags (true = IKE_LEGACY_MODP1024, as
 * before). 0, or -EINVAL with a message in err (always NUL-terminated when
 * err_cap > 0) naming the keyword, e.g.
 *   "3des: refused: 64-bit block cipher, deprecated (RFC 8247 §2.1)",
 *   "sha1: refused: ...; allowed only with tunsec.legacy = yes".
 */
int ike_proposal_parse(struct ike_proposal_list *out, int proto, const char *str, unsigned allow_legacy,
                       char *err, size_t err_cap);

/* The IKE_LEGACY_* flags a negotiated suite needed (0: none), so that the
 * user can say so loudly for every SA that uses one. */
unsigned ike_suite_legacy(const struct ike_suite *s);

/*
 * Responder's choice (RFC 7296 §2.7, §3.3.6): the first of the peer's
 * offers, in the peer's order, that one of ours accepts, taking from it
 * one transform of each type, again in the peer's order. An offer is
 * unacceptable if its protocol or SPI size is wrong, if it has a transform
 * type we do not know or that does not belong to the protocol, or if it
 * lacks a mandatory type (IKE: ENCR, PRF, KE, and INTEG unless the cipher
 * is AEAD; ESP: ENCR, ESN, and INTEG unless AEAD). An AEAD cipher is
 * only taken from an offer whose integrity transforms are all NONE.
 * AES must carry a Key Length attribute; ChaCha20-Poly1305 must not
 * (RFC 7634 §2).
 *
 * peer_ke is the group of the peer's KE payload (KE_NONE if it sent
 * none). Among the acceptable groups of the chosen offer, that one is
 * preferred; if it is not acceptable there, the first acceptable group is
 * chosen and -IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD returned with *out
 * filled: out->ke is the group to name in INVALID_KE_PAYLOAD (§1.2).
 *
 * 0 with *out filled; IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN;
 * IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD; -EINVAL (NULL arguments).
 */
int ike_proposal_select(const struct ike_proposal_conf *ours, size_t n_ours,
                        const struct ike_proposal *offers, size_t n_offers, uint16_t peer_ke,
                        unsigned flags, struct ike_suite *out);

/*
 * Initiator's check of the responder's SA payload (RFC 7296 §2.7): exactly
 * one proposal, with exactly one transform of each type it has, which must
 * be acceptable to one of our proposals (what we offered), by the rules of
 * ike_proposal_select(). 0 with *out filled, or
 * IKE_PROPOSAL_ERR_NO_PROPOSAL_CHOSEN.
 */
int ike_proposal_check_reply(const struct ike_proposal_conf *ours, size_t n_ours,
                             const struct ike_proposal *reply, size_t n_reply, unsigned flags,
                             struct ike_suite *out);

/*
 * Our proposal as an offer (to build the initiator's SA payload), with
 * Proposal Num num and the given SPI: transforms in the order ENCR, PRF,
 * INTEG, KE, ESN. With IKE_SELECT_NO_KE the KE transforms are left out.
 */
void ike_proposal_to_offer(const struct ike_proposal_conf *p, uint8_t num, const uint8_t *spi,
                           size_t spi_len, unsigned flags, struct ike_proposal *out);

/* The responder's reply proposal for a chosen suite (one transform per
 * type), with our SPI. */
void ike_suite_to_offer(const struct ike_suite *s, const uint8_t *spi, size_t spi_len,
                        struct ike_proposal *out);

/* Is this ENCR transform ID a combined-mode (AEAD) cipher? */
bool ike_encr_is_aead(int encr);

/*
 * A negotiated suite as a strongSwan proposal string, e.g.
 * "aes256gcm16-prfsha256-curve25519" or "aes256-sha256-modp2048-esn" (the
 * first keyword of each transform; absent transforms left out). Writes at
 * most cap bytes, NUL-terminated; returns out.
 */
char *ike_suite_str(const struct ike_suite *s, char *out, size_t cap);

/*
 * What a peer offered, in strongSwan's notation, for the log line of a
 * refusal: proposals separated by ", ", transforms by "-", each named by
 * its keyword ("aes256gcm16", "3des", "sha1", "prfsha1", "modp1024",
 * "esn"; unknown ones as "encr99", "integ99", ...). Whole transforms
 * only: cut at cap. Returns out.
 */
struct ike_sa_pl;
char *ike_offer_str(const struct ike_sa_pl *sa, char *out, size_t cap);

#endif
