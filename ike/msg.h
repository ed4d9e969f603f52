/*
 * Whole IKEv2 messages: parsing (header + payload chain), the Encrypted
 * payload SK (RFC 7296 §3.14, RFC 5282 §5) and IKE fragmentation with SKF
 * payloads (RFC 7383).
 *
 * A "plain message" below is what ike_build_init() .. ike_build_finish()
 * produce: an IKE header whose Next Payload is the first inner payload,
 * followed by the payloads that are to be protected. ike_msg_encrypt() turns
 * it into header + SK{payloads}; ike_frag_split() into fragments
 * header + SKF{part}. The receiver parses with ike_msg_parse(), then
 * ike_msg_decrypt() (SK) or ike_frag_add() (SKF).
 *
 * Nothing here allocates or does I/O. The only outside input is the IV:
 * each message or fragment gets a fresh random one from rand_bytes()
 * (libsodium, getrandom(2)); IKE messages are few, so the system call does
 * not matter, and a random IV suits every suite (RFC 5282 §3.1 needs only
 * uniqueness for GCM, RFC 3602 unpredictability for CBC; a counter could
 * repeat, because requests and responses of one side share a key).
 */
#ifndef TUNSEC_IKE_MSG_H
#define TUNSEC_IKE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/payload.h"
#include "ike/wire.h"

struct aead;

/*
 * Parse a received datagram: header (§3.1) and its payload chain, up to and
 * including an SK/SKF payload (whose contents stay encrypted). memsets m
 * first; m's pointers point into buf (see payload.h for lifetimes).
 *
 * Returns len (the header's Length equals the datagram's), or:
 *   IKE_ERR_SHORT    len < 28, or the header's Length > len
 *   IKE_ERR_VERSION  major version != 2 (m->hdr is filled)
 *   IKE_ERR_LENGTH   header Length < 28 or < len; any payload length error
 *   IKE_ERR_SYNTAX, IKE_ERR_UNSUPPORTED_CRITICAL, IKE_ERR_TOO_MANY: see
 *                    ike_chain_parse()
 * All of these mean "drop" (or answer a notify, see wire.h); none is fatal.
 */
int ike_msg_parse(struct ike_msg *m, const uint8_t *buf, size_t len);

/*
 * Parse a decrypted (hence authenticated) inner payload chain into m.
 * Length and syntax errors become IKE_ERR_PEER_SYNTAX (fatal, wire.h);
 * IKE_ERR_UNSUPPORTED_CRITICAL and IKE_ERR_TOO_MANY are passed on.
 * Returns len or the error.
 */
int ike_msg_parse_inner(struct ike_msg *m, uint8_t np, const uint8_t *buf, size_t len);

/* Size of the encrypted message ike_msg_encrypt() makes of a plain
 * message of plain_len bytes (header included). */
size_t ike_msg_encrypted_len(const struct aead *a, size_t plain_len);

/*
 * Encrypt a plain message (header + payloads, e.g. from ike_build_finish())
 * into out: header with Next Payload SK and the new Length, then the SK
 * payload: random IV, payloads, padding, Pad Length, ICV (§3.14). The ICV
 * covers the header and the SK generic header as associated data (combined
 * mode, RFC 5282 §5), or header .. ciphertext (CBC + HMAC, §3.14). An empty
 * payload chain (a liveness check) is fine. out must not overlap plain.
 *
 * Returns the length written, or IKE_ERR_INVAL (plain is not a message whose
 * Length matches plain_len, or the result would not fit the SK payload's
 * 16-bit length: fragment it instead), IKE_ERR_NOSPACE, IKE_ERR_CRYPTO.
 */
int ike_msg_encrypt(struct aead *a, const uint8_t *plain, size_t plain_len, uint8_t *out,
                    size_t cap);

/*
 * Check and decrypt, in place, the SK payload of msg (the buffer m was
 * parsed from by ike_msg_parse(), with an SK payload), then parse the inner
 * payloads into m; their pointers point into msg.
 *
 * Returns 0, or:
 *   IKE_ERR_INVAL    m has no SK payload, or does not describe msg
 *   IKE_ERR_LENGTH   SK body too short for IV + ICV + one block, or not
 *                    block-aligned (unauthenticated: drop)
 *   IKE_ERR_AUTH     ICV mismatch (drop; msg content unspecified)
 *   IKE_ERR_PEER_SYNTAX (fatal) bad Pad Length or inner payloads
 *   IKE_ERR_UNSUPPORTED_CRITICAL, IKE_ERR_TOO_MANY from the inner chain
 *   IKE_ERR_CRYPTO   (fatal) the cipher failed
 */
int ike_msg_decrypt(struct aead *a, uint8_t *msg, size_t len, struct ike_msg *m);

/* --- RFC 7383 fragmentation --------------------------------------------- */

#define IKE_FRAG_MAX     64    /* fragments per message we send or accept */
#define IKE_FRAG_BUF     65535 /* reassembled inner bytes we accept */
#define IKE_FRAG_HDR_LEN 8     /* SKF generic header + number + total */

/*
 * Split a plain message into encrypted fragments of at most max_len bytes
 * each (IKE header + SKF payload; the caller subtracts IP, UDP and the
 * non-ESP marker from the path MTU, RFC 7383 §2.5.1). Every fragment has
 * the plain message's header fields with Next Payload SKF, Fragment Number
 * 1..n and Total Fragments n; fragment 1's SKF Next Payload is the first
 * inner payload's type, the others' 0 (§2.5). Each is encrypted on its own
 * with associated data header .. Total Fragments (§2.5.3).
 *
 * Fragments are written back to back into out; frag_len[i] gets the length
 * of fragment i+1. Returns the number of fragments, or IKE_ERR_INVAL (bad
 * plain message, or max_len leaves no room for one byte of content),
 * IKE_ERR_TOO_MANY (more than max_frags or IKE_FRAG_MAX), IKE_ERR_NOSPACE,
 * IKE_ERR_CRYPTO.
 */
int ike_frag_split(struct aead *a, const uint8_t *plain, size_t plain_len, size_t max_len,
                   uint8_t *out, size_t cap, size_t *frag_len, unsigned max_frags);

/*
 * Reassembly of one fragmented message (RFC 7383 §2.6): bounded memory,
 * every fragment authenticated before it is kept, out-of-order and
 * duplicate fragments handled. The caller checks the Message ID against
 * its window before offering a fragment; a fragment of another Message ID
 * starts over (the previous message can no longer complete usefully).
 */
struct ike_frag_reasm {
	bool active;
	uint32_t msg_id;
	uint8_t exchange;
	uint8_t first_np;
	uint16_t total;
	uint16_t n_have;
	uint64_t have; /* bit n-1: fragment n kept */
	uint32_t off[IKE_FRAG_MAX];
	uint32_t len[IKE_FRAG_MAX];
	size_t used;
	uint8_t buf[IKE_FRAG_BUF];
};

/* Results of ike_frag_add() besides errors. */
enum {
	IKE_FRAG_WAIT = 0, /* kept; more fragments needed */
	IKE_FRAG_DONE = 1, /* all fragments present: ike_frag_assemble() */
	IKE_FRAG_DUP = 2,  /* authentic, but this one was already kept */
};

/* Forget everything collected (and wipe it). Also the initializer: call it
 * (or zero the struct) before the first ike_frag_add(). */
void ike_frag_reset(struct ike_frag_reasm *r);

/*
 * Offer one received fragment: m from ike_msg_parse(msg, len) with an SKF
 * payload. Decrypts it in place in msg and keeps its plaintext.
 *
 * A fragment with a larger Total Fragments than those kept replaces them
 * (the sender re-fragmented smaller, §2.6); one with a smaller total is
 * dropped (IKE_ERR_FRAG), as is one of another exchange type with the same
 * Message ID.
 *
 * Returns IKE_FRAG_WAIT, IKE_FRAG_DONE, IKE_FRAG_DUP, or IKE_ERR_INVAL (m
 * has no SKF), IKE_ERR_TOO_MANY (total > IKE_FRAG_MAX, or more than
 * IKE_FRAG_BUF bytes), IKE_ERR_FRAG, IKE_ERR_LENGTH, IKE_ERR_AUTH (all
 * "drop this fragment"), IKE_ERR_PEER_SYNTAX, IKE_ERR_CRYPTO (fatal).
 */
int ike_frag_add(struct ike_frag_reasm *r, struct aead *a, uint8_t *msg, size_t len,
                 const struct ike_msg *m);

/*
 * Once ike_frag_add() said IKE_FRAG_DONE: copy the inner payload chain in
 * fragment order into out and its first payload type into *first_np, ready
 * for ike_msg_parse_inner(). Returns the length, IKE_ERR_INVAL (not
 * complete), IKE_ERR_NOSPACE. r is left as is: reset it when done.
 */
int ike_frag_assemble(const struct ike_frag_reasm *r, uint8_t *out, size_t cap, uint8_t *first_np);

#endif
