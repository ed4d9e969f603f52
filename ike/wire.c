/*
 * Byte cursors with a sticky error (see wire.h). Every access checks the
 * remaining length first; once the error is set the cursor stays put, so a
 * caller that ignores it still never touches memory outside its buffer.
 */
#include "ike/wire.h"

#include <string.h>

const char *ike_err_name(int err)
{
	switch (err) {
	case IKE_OK:
		return "ok";
	case IKE_ERR_SHORT:
		return "short";
	case IKE_ERR_LENGTH:
		return "length";
	case IKE_ERR_SYNTAX:
		return "syntax";
	case IKE_ERR_UNSUPPORTED_CRITICAL:
		return "unsupported-critical";
	case IKE_ERR_TOO_MANY:
		return "too-many";
	case IKE_ERR_VERSION:
		return "version";
	case IKE_ERR_NOSPACE:
		return "no-space";
	case IKE_ERR_INVAL:
		return "invalid-argument";
	case IKE_ERR_AUTH:
		return "icv";
	case IKE_ERR_FRAG:
		return "fragment";
	case IKE_ERR_PEER_SYNTAX:
		return "peer-syntax";
	case IKE_ERR_CRYPTO:
		return "crypto";
	}
	return "unknown";
}

void wire_rd_init(struct wire_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = false;
}

/* The next n bytes, or NULL with the error set. */
static const uint8_t *take(struct wire_rd *r, size_t n)
{
	const uint8_t *q;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	if (!r->p)
		return NULL; /* n == 0 on an empty reader: no pointer arithmetic on NULL */
	q = r->p + r->off;
	r->off += n;
	return q;
}

uint8_t wire_get_u8(struct wire_rd *r)
{
	const uint8_t *q = take(r, 1);

	return q ? q[0] : 0;
}

uint16_t wire_get_u16(struct wire_rd *r)
{
	const uint8_t *q = take(r, 2);

	return q ? wire_load16(q) : 0;
}

uint32_t wire_get_u32(struct wire_rd *r)
{
	const uint8_t *q = take(r, 4);

	return q ? wire_load32(q) : 0;
}

uint64_t wire_get_u64(struct wire_rd *r)
{
	const uint8_t *q = take(r, 8);

	return q ? (uint64_t)wire_load32(q) << 32 | wire_load32(q + 4) : 0;
}

const uint8_t *wire_get_bytes(struct wire_rd *r, size_t n)
{
	static const uint8_t empty[1];
	const uint8_t *q = take(r, n);

	/* A zero-length take from a NULL buffer still yields a pointer that
	 * is safe to pass to memcpy/memcmp with length 0. */
	if (q == NULL && !r->err)
		return empty;
	return q;
}

void wire_get_copy(struct wire_rd *r, void *dst, size_t n)
{
	const uint8_t *q = take(r, n);

	if (q)
		memcpy(dst, q, n);
	else if (n)
		memset(dst, 0, n);
}

void wire_skip(struct wire_rd *r, size_t n)
{
	(void)take(r, n);
}

bool wire_sub(struct wire_rd *r, size_t n, struct wire_rd *sub)
{
	const uint8_t *q = take(r, n);

	if (!q) {
		wire_rd_init(sub, NULL, 0);
		sub->err = r->err;
		return false;
	}
	wire_rd_init(sub, q, n);
	return true;
}

void wire_wr_init(struct wire_wr *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = p ? cap : 0;
	w->off = 0;
	w->err = false;
}

uint8_t *wire_reserve(struct wire_wr *w, size_t n)
{
	uint8_t *q;

	if (w->err || n > w->cap - w->off) {
		w->err = true;
		return NULL;
	}
	if (!w->p)
		return NULL; /* n == 0 on an empty writer */
	q = w->p + w->off;
	w->off += n;
	return q;
}

void wire_put_u8(struct wire_wr *w, uint8_t v)
{
	uint8_t *q = wire_reserve(w, 1);

	if (q)
		q[0] = v;
}

void wire_put_u16(struct wire_wr *w, uint16_t v)
{
	uint8_t *q = wire_reserve(w, 2);

	if (q)
		wire_store16(q, v);
}

void wire_put_u32(struct wire_wr *w, uint32_t v)
{
	uint8_t *q = wire_reserve(w, 4);

	if (q)
		wire_store32(q, v);
}

void wire_put_u64(struct wire_wr *w, uint64_t v)
{
	uint8_t *q = wire_reserve(w, 8);

	if (q) {
		wire_store32(q, (uint32_t)(v >> 32));
		wire_store32(q + 4, (uint32_t)v);
	}
}

void wire_put_bytes(struct wire_wr *w, const void *src, size_t n)
{
	uint8_t *q = wire_reserve(w, n);

	if (q && n)
		memcpy(q, src, n);
}

void wire_put_zero(struct wire_wr *w, size_t n)
{
	uint8_t *q = wire_reserve(w, n);

	if (q && n)
		memset(q, 0, n);
}

void wire_patch_u16(struct wire_wr *w, size_t off, uint16_t v)
{
	if (w->err || off > w->off || w->off - off < 2) {
		w->err = true;
		return;
	}
	wire_store16(w->p + off, v);
}

void wire_patch_u32(struct wire_wr *w, size_t off, uint32_t v)
{
	if (w->err || off > w->off || w->off - off < 4) {
		w->err = true;
		return;
	}
	wire_store32(w->p + off, v);
}
