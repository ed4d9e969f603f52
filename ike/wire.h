/*
 * Bounds-checked byte cursors for IKEv2 messages (network byte order), and
 * the IKE_ERR_* codes every ike/ function returns.
 *
 * A reader (struct wire_rd) and a writer (struct wire_wr) carry a sticky
 * error: the first access past the end sets it and every later access is a
 * no-op that reads zeros / writes nothing. A parser can therefore read a
 * whole fixed header and test the error once, as WireGuard checks a length
 * once per message type; nothing is ever read or written out of bounds.
 *
 * Nothing here allocates. Readers borrow the input: pointers they return
 * point into it and live as long as it does.
 */
#ifndef TUNSEC_IKE_WIRE_H
#define TUNSEC_IKE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Errors of ike/. Codes above IKE_ERR_FATAL mean "drop this message, the SA
 * lives on" (ngtcp2's split): an unauthenticated datagram can be forged by
 * anyone, so nothing it contains may hurt an SA. Codes at or below
 * IKE_ERR_FATAL mean "this IKE SA is dead": see each code.
 */
enum {
	IKE_OK = 0,
	/* The datagram is shorter than the IKE header, or than the length
	 * the header declares (truncated in transit). */
	IKE_ERR_SHORT = -1,
	/* A length field (message, payload, proposal, transform, attribute,
	 * selector, CP attribute, EAP) is below its minimum, runs past its
	 * container, leaves bytes of its container unaccounted for, or
	 * disagrees with the size its type implies (IPv4 ID = 4 bytes,
	 * Nonce 16..256, ...). */
	IKE_ERR_LENGTH = -2,
	/* A value is out of range: bad numbering, SPI size, count field,
	 * a payload twice that may appear once, SK not last (RFC 7296 §3). */
	IKE_ERR_SYNTAX = -3,
	/* A payload type we do not know has the critical bit set: answer
	 * UNSUPPORTED_CRITICAL_PAYLOAD with the type (RFC 7296 §2.5); the
	 * type is in struct ike_msg.unsupported_critical. */
	IKE_ERR_UNSUPPORTED_CRITICAL = -4,
	/* More proposals, transforms, selectors, notifies, ... than the
	 * fixed-capacity struct ike_msg holds (IKE_MAX_* in payload.h), or
	 * more fragments than IKE_FRAG_MAX. */
	IKE_ERR_TOO_MANY = -5,
	/* Major version is not 2: answer INVALID_MAJOR_VERSION (RFC 7296
	 * §1.5, §2.5) if it was an IKE_SA_INIT request, else drop. */
	IKE_ERR_VERSION = -6,
	/* Serialization: the output buffer is too small. */
	IKE_ERR_NOSPACE = -7,
	/* The caller passed something impossible (a bug, not network input). */
	IKE_ERR_INVAL = -8,
	/* SK/SKF integrity check failed: forged or corrupted, drop silently
	 * (RFC 7296 §2.21: no notify for an unauthenticated message). */
	IKE_ERR_AUTH = -9,
	/* A fragment does not fit what was collected so far: Total Fragments
	 * went down, number > total, another exchange (RFC 7383 §2.6). */
	IKE_ERR_FRAG = -10,

	IKE_ERR_FATAL = -100,
	/* The message authenticated (ICV good) but its protected content is
	 * malformed: bad pad length or an inner payload that does not parse.
	 * Only the peer holding the keys can have sent it, so its IKE stack is
	 * broken or out of sync: answer a request with INVALID_SYNTAX (RFC
	 * 7296 §3.10.1 allows it once the ICV checked out) and delete the IKE
	 * SA, as §2.21.3 suggests when the peers' states disagree. */
	IKE_ERR_PEER_SYNTAX = -100,
	/* The crypto library failed on a call that cannot fail with good
	 * keys (aead_seal returned an error): the SA's keys are unusable. */
	IKE_ERR_CRYPTO = -101,
};

/* True if err means the IKE SA must be torn down. */
/* The value of hex digit c (either case), or -1. */
static inline int wire_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline bool ike_err_fatal(int err)
{
	return err <= IKE_ERR_FATAL;
}

/* "short", "length", ...; "unknown" for anything else. Never NULL. */
const char *ike_err_name(int err);

struct wire_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err; /* sticky: set by the first read past the end */
};

struct wire_wr {
	uint8_t *p;
	size_t cap;
	size_t off;
	bool err; /* sticky: set by the first write past cap */
};

void wire_rd_init(struct wire_rd *r, const uint8_t *p, size_t len);

static inline size_t wire_left(const struct wire_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* Each returns 0 (and sets r->err) when fewer bytes are left than asked. */
uint8_t wire_get_u8(struct wire_rd *r);
uint16_t wire_get_u16(struct wire_rd *r);
uint32_t wire_get_u32(struct wire_rd *r);
uint64_t wire_get_u64(struct wire_rd *r);
/* A pointer to the next n bytes, borrowed from the input; NULL (and err
 * set) if fewer are left. n == 0 gives a valid pointer to the position. */
const uint8_t *wire_get_bytes(struct wire_rd *r, size_t n);
/* Copy n bytes out; on error dst is zero-filled. */
void wire_get_copy(struct wire_rd *r, void *dst, size_t n);
void wire_skip(struct wire_rd *r, size_t n);
/*
 * Carve the next n bytes into their own reader (for a length-prefixed
 * structure) and advance past them. false (err set on r, sub empty) if fewer
 * are left.
 */
bool wire_sub(struct wire_rd *r, size_t n, struct wire_rd *sub);

void wire_wr_init(struct wire_wr *w, uint8_t *p, size_t cap);

static inline size_t wire_wr_room(const struct wire_wr *w)
{
	return w->err ? 0 : w->cap - w->off;
}

void wire_put_u8(struct wire_wr *w, uint8_t v);
void wire_put_u16(struct wire_wr *w, uint16_t v);
void wire_put_u32(struct wire_wr *w, uint32_t v);
void wire_put_u64(struct wire_wr *w, uint64_t v);
/* n == 0 with src == NULL is fine. */
void wire_put_bytes(struct wire_wr *w, const void *src, size_t n);
void wire_put_zero(struct wire_wr *w, size_t n);
/* Reserve n bytes and return them for the caller to fill; NULL on error. */
uint8_t *wire_reserve(struct wire_wr *w, size_t n);
/* Overwrite a 16-/32-bit field already written at off (length patching);
 * sets err if the field lies beyond what was written. */
void wire_patch_u16(struct wire_wr *w, size_t off, uint16_t v);
void wire_patch_u32(struct wire_wr *w, size_t off, uint32_t v);

/* Big-endian loads and stores on raw pointers the caller has bounded. */
static inline uint16_t wire_load16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t wire_load32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_store16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
