/*
 * IKEv2 messages: parse, SK encrypt/decrypt (RFC 7296 §3.14, RFC 5282 §5),
 * fragments (RFC 7383). See msg.h.
 *
 * SK layout, after the IKE header and the SK generic header:
 *	IV | payloads | padding | Pad Length | ICV
 * with IV .. Pad Length encrypted and the ICV over:
 *	combined mode (GCM, ChaCha20-Poly1305): AAD = message[0 .. IV)
 *	CBC + HMAC: HMAC(message[0 .. IV) || IV || ciphertext)
 * which is what crypto/aead.h computes with ad = message[0 .. IV) and no
 * trailer. SKF is the same with Fragment Number and Total Fragments between
 * the generic header and the IV, inside the associated data.
 */
#include "ike/msg.h"

#include <string.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/rand.h"

int ike_msg_parse(struct ike_msg *m, const uint8_t *buf, size_t len)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = ike_hdr_parse(&m->hdr, buf, len)) < 0)
		return rc;
	if (m->hdr.length > len)
		return IKE_ERR_SHORT;
	/* §3.1: Length is the whole message; a datagram carries exactly
	 * one, so extra bytes mean a lying header. */
	if (m->hdr.length < IKE_HDR_LEN || m->hdr.length < len)
		return IKE_ERR_LENGTH;
	rc = ike_chain_parse(m, m->hdr.next_payload, buf + IKE_HDR_LEN, len - IKE_HDR_LEN,
	                     IKE_HDR_LEN, false);
	if (rc < 0)
		return rc;
	return (int)len;
}

int ike_msg_parse_inner(struct ike_msg *m, uint8_t np, const uint8_t *buf, size_t len)
{
	int rc = ike_chain_parse(m, np, buf, len, 0, true);

	if (rc == IKE_ERR_LENGTH || rc == IKE_ERR_SYNTAX || rc == IKE_ERR_SHORT)
		return IKE_ERR_PEER_SYNTAX;
	return rc;
}

/* Payloads + padding + Pad Length, rounded up to the cipher's block. */
static size_t padded_len(const struct aead *a, size_t inner_len)
{
	size_t blk = aead_block_len(a);

	return (inner_len + 1 + blk - 1) / blk * blk;
}

size_t ike_msg_encrypted_len(const struct aead *a, size_t plain_len)
{
	size_t inner = plain_len > IKE_HDR_LEN ? plain_len - IKE_HDR_LEN : 0;

	return IKE_HDR_LEN + IKE_GEN_HDR_LEN + aead_iv_len(a) + padded_len(a, inner) +
	       aead_icv_len(a);
}

/*
 * out[0 .. ad_len) holds the associated data (header .. SK/SKF header);
 * append IV, inner, padding, Pad Length, ICV and seal. The caller checked
 * that ad_len + iv + padded + icv <= cap. Returns the total length.
 */
static int sk_seal(struct aead *a, uint8_t *out, size_t ad_len, const uint8_t *inner,
                   size_t inner_len)
{
	size_t iv_len = aead_iv_len(a), padded = padded_len(a, inner_len);
	uint8_t *iv = out + ad_len, *ct = iv + iv_len;
	size_t pad = padded - inner_len - 1;

	rand_bytes(iv, iv_len);
	if (inner_len)
		memcpy(ct, inner, inner_len);
	/* §3.14: padding may be anything; zeros tell nothing. */
	memset(ct + inner_len, 0, pad);
	ct[padded - 1] = (uint8_t)pad;
	if (aead_seal(a, iv, out, ad_len, NULL, 0, ct, padded, ct + padded) < 0)
		return IKE_ERR_CRYPTO;
	return (int)(ad_len + iv_len + padded + aead_icv_len(a));
}

/* The header of a plain message, checked against its length. */
static int plain_hdr(struct ike_hdr *h, const uint8_t *plain, size_t plain_len)
{
	if (ike_hdr_parse(h, plain, plain_len) < 0 || h->length != plain_len)
		return IKE_ERR_INVAL;
	return IKE_OK;
}

int ike_msg_encrypt(struct aead *a, const uint8_t *plain, size_t plain_len, uint8_t *out,
                    size_t cap)
{
	struct ike_hdr h;
	size_t total, sk_len;

	if (plain_hdr(&h, plain, plain_len) < 0)
		return IKE_ERR_INVAL;
	total = ike_msg_encrypted_len(a, plain_len);
	sk_len = total - IKE_HDR_LEN;
	if (sk_len > 0xffff)
		return IKE_ERR_INVAL;
	if (total > cap)
		return IKE_ERR_NOSPACE;
	memcpy(out, plain, IKE_HDR_LEN);
	out[16] = IKE_PL_SK;
	wire_store32(out + 24, (uint32_t)total);
	out[IKE_HDR_LEN] = h.next_payload;
	out[IKE_HDR_LEN + 1] = 0;
	wire_store16(out + IKE_HDR_LEN + 2, (uint16_t)sk_len);
	return sk_seal(a, out, IKE_HDR_LEN + IKE_GEN_HDR_LEN, plain + IKE_HDR_LEN,
	               plain_len - IKE_HDR_LEN);
}

/*
 * Verify and decrypt the SK/SKF body at msg[off .. off + body_len) in place.
 * On success *inner / *inner_len locate the payloads inside msg.
 */
static int sk_open(struct aead *a, uint8_t *msg, size_t off, size_t body_len, uint8_t **inner,
                   size_t *inner_len)
{
	size_t iv_len = aead_iv_len(a), icv_len = aead_icv_len(a), blk = aead_block_len(a);
	size_t ct_len;
	uint8_t *iv = msg + off, *ct, pad;
	int rc;

	if (body_len < iv_len + icv_len + 1)
		return IKE_ERR_LENGTH;
	ct_len = body_len - iv_len - icv_len;
	/* A block cipher (CBC) needs whole blocks; the 4 combined modes
	 * report is ESP's alignment, which IKE does not impose (RFC 5282
	 * §3: any length), so peers may send unaligned GCM. */
	if (blk >= 8 && ct_len % blk != 0)
		return IKE_ERR_LENGTH;
	ct = iv + iv_len;
	rc = aead_open(a, iv, msg, off, NULL, 0, ct, ct_len, ct + ct_len);
	if (rc == AEAD_ERR_AUTH)
		return IKE_ERR_AUTH;
	if (rc < 0)
		return IKE_ERR_CRYPTO;
	pad = ct[ct_len - 1];
	if ((size_t)pad + 1 > ct_len)
		return IKE_ERR_PEER_SYNTAX;
	*inner = ct;
	*inner_len = ct_len - 1 - pad;
	return IKE_OK;
}

int ike_msg_decrypt(struct aead *a, uint8_t *msg, size_t len, struct ike_msg *m)
{
	uint8_t *inner;
	size_t inner_len;
	int rc;

	if (!ike_msg_has(m, IKE_PL_SK) || m->sk.off > len || m->sk.len != len - m->sk.off)
		return IKE_ERR_INVAL;
	if ((rc = sk_open(a, msg, m->sk.off, m->sk.len, &inner, &inner_len)) < 0)
		return rc;
	rc = ike_msg_parse_inner(m, m->sk.inner_np, inner, inner_len);
	return rc < 0 ? rc : IKE_OK;
}

/* --- RFC 7383 ------------------------------------------------------------- */

int ike_frag_split(struct aead *a, const uint8_t *plain, size_t plain_len, size_t max_len,
                   uint8_t *out, size_t cap, size_t *frag_len, unsigned max_frags)
{
	size_t iv_len = aead_iv_len(a), icv_len = aead_icv_len(a), blk = aead_block_len(a);
	size_t fixed = IKE_HDR_LEN + IKE_FRAG_HDR_LEN + iv_len + icv_len;
	size_t chunk, inner_len, n, pos = 0, used = 0;
	const uint8_t *inner;
	struct ike_hdr h;

	if (plain_hdr(&h, plain, plain_len) < 0 || max_len > 0xffff || max_len < fixed + blk)
		return IKE_ERR_INVAL;
	/* Content per fragment: whole blocks less the Pad Length byte, so a
	 * full fragment needs no padding. */
	chunk = (max_len - fixed) / blk * blk - 1;
	if (chunk == 0)
		return IKE_ERR_INVAL;
	inner = plain + IKE_HDR_LEN;
	inner_len = plain_len - IKE_HDR_LEN;
	n = inner_len ? (inner_len + chunk - 1) / chunk : 1;
	if (n > IKE_FRAG_MAX || n > max_frags)
		return IKE_ERR_TOO_MANY;
	for (size_t i = 0; i < n; i++) {
		size_t part = inner_len - pos < chunk ? inner_len - pos : chunk;
		size_t flen = fixed + padded_len(a, part);
		uint8_t *f = out + used;
		int rc;

		if (flen > cap - used)
			return IKE_ERR_NOSPACE;
		memcpy(f, plain, IKE_HDR_LEN);
		f[16] = IKE_PL_SKF;
		wire_store32(f + 24, (uint32_t)flen);
		/* §2.5: only the first fragment names the first payload. */
		f[IKE_HDR_LEN] = i == 0 ? h.next_payload : IKE_PL_NONE;
		f[IKE_HDR_LEN + 1] = 0;
		wire_store16(f + IKE_HDR_LEN + 2, (uint16_t)(flen - IKE_HDR_LEN));
		wire_store16(f + IKE_HDR_LEN + 4, (uint16_t)(i + 1));
		wire_store16(f + IKE_HDR_LEN + 6, (uint16_t)n);
		rc = sk_seal(a, f, IKE_HDR_LEN + IKE_FRAG_HDR_LEN, inner + pos, part);
		if (rc < 0)
			return rc;
		frag_len[i] = flen;
		used += flen;
		pos += part;
	}
	return (int)n;
}

void ike_frag_reset(struct ike_frag_reasm *r)
{
	/* Inner payloads can carry identities and EAP exchanges. */
	sodium_memzero(r->buf, r->used < sizeof(r->buf) ? r->used : sizeof(r->buf));
	r->active = false;
	r->msg_id = 0;
	r->exchange = 0;
	r->first_np = IKE_PL_NONE;
	r->total = 0;
	r->n_have = 0;
	r->have = 0;
	r->used = 0;
	memset(r->off, 0, sizeof(r->off));
	memset(r->len, 0, sizeof(r->len));
}

int ike_frag_add(struct ike_frag_reasm *r, struct aead *a, uint8_t *msg, size_t len,
                 const struct ike_msg *m)
{
	uint16_t num = m->sk.frag_num, total = m->sk.frag_total;
	bool same = r->active && r->msg_id == m->hdr.msg_id;
	uint8_t *inner;
	size_t inner_len;
	int rc;

	if (!ike_msg_has(m, IKE_PL_SKF) || m->sk.off > len || m->sk.len != len - m->sk.off ||
	    num == 0 || num > total)
		return IKE_ERR_INVAL;
	if (total > IKE_FRAG_MAX)
		return IKE_ERR_TOO_MANY;
	if (same && (m->hdr.exchange != r->exchange || total < r->total))
		return IKE_ERR_FRAG;
	/* Authenticate before the fragment may change any state (§2.6). */
	if ((rc = sk_open(a, msg, m->sk.off, m->sk.len, &inner, &inner_len)) < 0)
		return rc;
	if (!same || total > r->total) {
		/* A new message, or the sender re-fragmented smaller after
		 * retransmissions failed: start over (§2.6). */
		ike_frag_reset(r);
		r->active = true;
		r->msg_id = m->hdr.msg_id;
		r->exchange = m->hdr.exchange;
		r->total = total;
	}
	if (r->have >> (num - 1) & 1)
		return IKE_FRAG_DUP;
	if (inner_len > sizeof(r->buf) - r->used)
		return IKE_ERR_TOO_MANY;
	if (inner_len)
		memcpy(r->buf + r->used, inner, inner_len);
	r->off[num - 1] = (uint32_t)r->used;
	r->len[num - 1] = (uint32_t)inner_len;
	r->used += inner_len;
	r->have |= (uint64_t)1 << (num - 1);
	r->n_have++;
	if (num == 1)
		r->first_np = m->sk.inner_np;
	return r->n_have == r->total ? IKE_FRAG_DONE : IKE_FRAG_WAIT;
}

int ike_frag_assemble(const struct ike_frag_reasm *r, uint8_t *out, size_t cap, uint8_t *first_np)
{
	size_t pos = 0;

	if (!r->active || r->total == 0 || r->n_have != r->total)
		return IKE_ERR_INVAL;
	if (r->used > cap)
		return IKE_ERR_NOSPACE;
	for (unsigned i = 0; i < r->total; i++) {
		if (r->len[i])
			memcpy(out + pos, r->buf + r->off[i], r->len[i]);
		pos += r->len[i];
	}
	*first_np = r->first_np;
	return (int)pos;
}
