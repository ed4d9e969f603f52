/*
 * RADIUS client, sans-I/O (daemon/radius.h says what and why). Two halves:
 * the packet layer (encode, check, verify, parse; RFC 2865, 2866, 2869,
 * 3579, 2548) and the request state machine (identifiers, retransmission,
 * failover; RFC 5080 §2.2).
 */
#include "daemon/radius.h"

#include <mbedtls/md5.h>
#include <mbedtls/version.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* mbedTLS 2.28 (Debian 12) spells the MD5 calls with _ret; 3.x without. */
#if MBEDTLS_VERSION_NUMBER < 0x03000000
#define md5_starts(ctx)       mbedtls_md5_starts_ret(ctx)
#define md5_update(ctx, p, n) mbedtls_md5_update_ret(ctx, p, n)
#define md5_finish(ctx, out)  mbedtls_md5_finish_ret(ctx, out)
#else
#define md5_starts(ctx)       mbedtls_md5_starts(ctx)
#define md5_update(ctx, p, n) mbedtls_md5_update(ctx, p, n)
#define md5_finish(ctx, out)  mbedtls_md5_finish(ctx, out)
#endif

#define MD5_LEN   16
#define MD5_BLOCK 64
#define MSGAUTH_ATTR_LEN (2 + MD5_LEN)

const char *radius_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case RADIUS_ERR_INVAL:
		return "invalid argument";
	case RADIUS_ERR_NOSPACE:
		return "no space";
	case RADIUS_ERR_MALFORMED:
		return "malformed packet";
	case RADIUS_ERR_CODE:
		return "unexpected code";
	case RADIUS_ERR_AUTH:
		return "bad Response Authenticator";
	case RADIUS_ERR_NO_MSGAUTH:
		return "no Message-Authenticator";
	case RADIUS_ERR_MSGAUTH:
		return "bad Message-Authenticator";
	case RADIUS_ERR_NOMEM:
		return "out of memory";
	case RADIUS_ERR_BUSY:
		return "no free identifier";
	case RADIUS_ERR_NOTFOUND:
		return "no such request";
	}
	return "unknown error";
}

/* ---- MD5 and HMAC-MD5 (RFC 2104), on the stack, no allocation ------------- */

struct hmac_md5 {
	mbedtls_md5_context inner, outer;
};

static void hmac_md5_init(struct hmac_md5 *h, const uint8_t *key, size_t key_len)
{
	uint8_t k[MD5_BLOCK] = {0}, pad[MD5_BLOCK];

	if (key_len > MD5_BLOCK) {
		mbedtls_md5_context c;

		mbedtls_md5_init(&c);
		md5_starts(&c);
		md5_update(&c, key, key_len);
		md5_finish(&c, k);
		mbedtls_md5_free(&c);
	} else {
		memcpy(k, key, key_len);
	}
	mbedtls_md5_init(&h->inner);
	mbedtls_md5_init(&h->outer);
	for (size_t i = 0; i < MD5_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	md5_starts(&h->inner);
	md5_update(&h->inner, pad, MD5_BLOCK);
	for (size_t i = 0; i < MD5_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	md5_starts(&h->outer);
	md5_update(&h->outer, pad, MD5_BLOCK);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
}

static void hmac_md5_update(struct hmac_md5 *h, const void *p, size_t n)
{
	md5_update(&h->inner, p, n);
}

static void hmac_md5_finish(struct hmac_md5 *h, uint8_t out[MD5_LEN])
{
	uint8_t ih[MD5_LEN];

	md5_finish(&h->inner, ih);
	md5_update(&h->outer, ih, MD5_LEN);
	md5_finish(&h->outer, out);
	mbedtls_md5_free(&h->inner);
	mbedtls_md5_free(&h->outer);
	sodium_memzero(ih, sizeof(ih));
}

/* MD5(a | b | c), any of them may be empty. */
static void md5_3(uint8_t out[MD5_LEN], const void *a, size_t an, const void *b, size_t bn,
                  const void *c, size_t cn)
{
	mbedtls_md5_context m;

	mbedtls_md5_init(&m);
	md5_starts(&m);
	md5_update(&m, a, an);
	md5_update(&m, b, bn);
	md5_update(&m, c, cn);
	md5_finish(&m, out);
	mbedtls_md5_free(&m);
}

/*
 * The MD5 stream of RFC 2865 §5.2 and RFC 2548 §2.4.2, in place over
 * buf[0..len) (a multiple of 16): b(1) = MD5(S + R + A), b(i) = MD5(S +
 * c(i-1)), c(i) = p(i) xor b(i). A is the salt (none for User-Password).
 * The chain runs on the ciphertext, so decryption keeps c(i-1) aside.
 */
static void md5_stream(uint8_t *buf, size_t len, bool decrypt, const uint8_t *secret,
                       size_t secret_len, const uint8_t auth[RADIUS_AUTH_LEN], const uint8_t *salt,
                       size_t salt_len)
{
	uint8_t b[MD5_LEN], c[MD5_LEN];
	mbedtls_md5_context m;

	mbedtls_md5_init(&m);
	md5_starts(&m);
	md5_update(&m, secret, secret_len);
	md5_update(&m, auth, RADIUS_AUTH_LEN);
	md5_update(&m, salt, salt_len);
	md5_finish(&m, b);
	for (size_t off = 0; off < len; off += MD5_LEN) {
		if (decrypt)
			memcpy(c, buf + off, MD5_LEN);
		for (size_t i = 0; i < MD5_LEN; i++)
			buf[off + i] ^= b[i];
		if (!decrypt)
			memcpy(c, buf + off, MD5_LEN);
		if (off + MD5_LEN < len) {
			md5_starts(&m);
			md5_update(&m, secret, secret_len);
			md5_update(&m, c, MD5_LEN);
			md5_finish(&m, b);
		}
	}
	mbedtls_md5_free(&m);
	sodium_memzero(b, sizeof(b));
	sodium_memzero(c, sizeof(c));
}

static bool secret_ok(const uint8_t *secret, size_t len)
{
	return secret && len > 0 && len <= RADIUS_SECRET_MAX;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- building messages ----------------------------------------------------- */

static size_t hidden_len(size_t pw_len)
{
	return pw_len == 0 ? MD5_LEN : (pw_len + MD5_LEN - 1) / MD5_LEN * MD5_LEN;
}

/* The datagram's size once encoded, without a Message-Authenticator. */
static size_t msg_size(const struct radius_msg *m)
{
	return RADIUS_HDR_LEN + MSGAUTH_ATTR_LEN + m->attrs_len +
	       (m->has_password ? 2 + hidden_len(m->password_len) : 0);
}

void radius_msg_init(struct radius_msg *m, uint8_t code)
{
	m->code = code;
	m->no_msgauth = false;
	m->attrs_len = 0;
	m->password_len = 0;
	m->has_password = false;
}

void radius_msg_wipe(struct radius_msg *m)
{
	sodium_memzero(m->password, sizeof(m->password));
	sodium_memzero(m->attrs, m->attrs_len);
	m->attrs_len = 0;
	m->password_len = 0;
	m->has_password = false;
}

int radius_msg_add(struct radius_msg *m, uint8_t type, const void *val, size_t len)
{
	if (len > RADIUS_ATTR_MAX || type == 0 || type == RADIUS_A_USER_PASSWORD ||
	    type == RADIUS_A_MESSAGE_AUTHENTICATOR || (len && !val))
		return RADIUS_ERR_INVAL;
	if (msg_size(m) + 2 + len > RADIUS_PKT_MAX)
		return RADIUS_ERR_NOSPACE;
	m->attrs[m->attrs_len] = type;
	m->attrs[m->attrs_len + 1] = (uint8_t)(2 + len);
	if (len)
		memcpy(m->attrs + m->attrs_len + 2, val, len);
	m->attrs_len += 2 + len;
	return 0;
}

int radius_msg_add_str(struct radius_msg *m, uint8_t type, const char *s)
{
	return s ? radius_msg_add(m, type, s, strlen(s)) : RADIUS_ERR_INVAL;
}

int radius_msg_add_u32(struct radius_msg *m, uint8_t type, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	return radius_msg_add(m, type, b, 4);
}

int radius_msg_add_vsa(struct radius_msg *m, uint32_t vendor, uint8_t vtype, const void *val,
                       size_t len)
{
	uint8_t b[RADIUS_ATTR_MAX];

	if (len > RADIUS_ATTR_MAX - 6 || (len && !val))
		return RADIUS_ERR_INVAL;
	b[0] = (uint8_t)(vendor >> 24);
	b[1] = (uint8_t)(vendor >> 16);
	b[2] = (uint8_t)(vendor >> 8);
	b[3] = (uint8_t)vendor;
	b[4] = vtype;
	b[5] = (uint8_t)(2 + len);
	if (len)
		memcpy(b + 6, val, len);
	return radius_msg_add(m, RADIUS_A_VENDOR_SPECIFIC, b, 6 + len);
}

int radius_msg_add_eap(struct radius_msg *m, const uint8_t *eap, size_t len)
{
	size_t n = (len + RADIUS_ATTR_MAX - 1) / RADIUS_ATTR_MAX;

	if (len == 0 || !eap)
		return RADIUS_ERR_INVAL;
	/* All or nothing: never half an EAP packet in the message. */
	if (msg_size(m) + len + 2 * n > RADIUS_PKT_MAX)
		return RADIUS_ERR_NOSPACE;
	for (size_t off = 0; off < len; off += RADIUS_ATTR_MAX) {
		size_t chunk = len - off < RADIUS_ATTR_MAX ? len - off : RADIUS_ATTR_MAX;

		radius_msg_add(m, RADIUS_A_EAP_MESSAGE, eap + off, chunk);
	}
	return 0;
}

int radius_msg_add_counters(struct radius_msg *m, uint64_t in_octets, uint64_t out_octets,
                            uint64_t in_packets, uint64_t out_packets)
{
	int r = 0;

	if (msg_size(m) + 6 * 6 > RADIUS_PKT_MAX)
		return RADIUS_ERR_NOSPACE;
	r |= radius_msg_add_u32(m, RADIUS_A_ACCT_INPUT_OCTETS, (uint32_t)in_octets);
	r |= radius_msg_add_u32(m, RADIUS_A_ACCT_OUTPUT_OCTETS, (uint32_t)out_octets);
	r |= radius_msg_add_u32(m, RADIUS_A_ACCT_INPUT_GIGAWORDS, (uint32_t)(in_octets >> 32));
	r |= radius_msg_add_u32(m, RADIUS_A_ACCT_OUTPUT_GIGAWORDS, (uint32_t)(out_octets >> 32));
	r |= radius_msg_add_u32(m, RADIUS_A_ACCT_INPUT_PACKETS,
	                        in_packets > UINT32_MAX ? UINT32_MAX : (uint32_t)in_packets);
	r |= radius_msg_add_u32(m, RADIUS_A_ACCT_OUTPUT_PACKETS,
	                        out_packets > UINT32_MAX ? UINT32_MAX : (uint32_t)out_packets);
	return r ? RADIUS_ERR_NOSPACE : 0;
}

int radius_msg_set_password(struct radius_msg *m, const void *pw, size_t len)
{
	size_t old = m->has_password ? 2 + hidden_len(m->password_len) : 0;

	if (len > RADIUS_PASSWORD_MAX || (len && !pw))
		return RADIUS_ERR_INVAL;
	if (msg_size(m) - old + 2 + hidden_len(len) > RADIUS_PKT_MAX)
		return RADIUS_ERR_NOSPACE;
	sodium_memzero(m->password, sizeof(m->password));
	if (len)
		memcpy(m->password, pw, len);
	m->password_len = len;
	m->has_password = true;
	return 0;
}

ssize_t radius_password_hide(uint8_t *out, size_t cap, const uint8_t *pw, size_t len,
                             const uint8_t req_auth[static RADIUS_AUTH_LEN],
                             const uint8_t *secret, size_t secret_len)
{
	size_t n = hidden_len(len);

	if (len > RADIUS_PASSWORD_MAX || !secret_ok(secret, secret_len) || (len && !pw))
		return RADIUS_ERR_INVAL;
	if (cap < n)
		return RADIUS_ERR_NOSPACE;
	memset(out, 0, n); /* RFC 2865 §5.2: padded with nulls to a multiple of 16 */
	if (len)
		memcpy(out, pw, len);
	md5_stream(out, n, false, secret, secret_len, req_auth, NULL, 0);
	return (ssize_t)n;
}

static bool is_response(uint8_t code)
{
	return code == RADIUS_ACCESS_ACCEPT || code == RADIUS_ACCESS_REJECT ||
	       code == RADIUS_ACCESS_CHALLENGE || code == RADIUS_ACCOUNTING_RESPONSE;
}

ssize_t radius_encode(uint8_t *out, size_t cap, const struct radius_msg *m, uint8_t id,
                      uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
                      size_t secret_len)
{
	bool acct = m->code == RADIUS_ACCOUNTING_REQUEST;
	bool resp = is_response(m->code);
	size_t len = msg_size(m) - (m->no_msgauth ? MSGAUTH_ATTR_LEN : 0);
	size_t off = RADIUS_HDR_LEN, ma_off = 0;

	if ((m->code != RADIUS_ACCESS_REQUEST && !acct && !resp) || !secret_ok(secret, secret_len))
		return RADIUS_ERR_INVAL;
	if (m->has_password && m->code != RADIUS_ACCESS_REQUEST)
		return RADIUS_ERR_INVAL;
	if (len > RADIUS_PKT_MAX || len > cap)
		return RADIUS_ERR_NOSPACE;

	out[0] = m->code;
	out[1] = id;
	put16(out + 2, (uint16_t)len);
	/* The authenticator field as the MACs see it: an Accounting-Request's
	 * is zero (RFC 2866 §3, RFC 5080 §2.2.2), a response's is the
	 * Request Authenticator (RFC 2865 §3, RFC 3579 §3.2). */
	if (acct)
		memset(out + 4, 0, RADIUS_AUTH_LEN);
	else
		memcpy(out + 4, auth, RADIUS_AUTH_LEN);
	/* First attribute, as the Blast-RADIUS mitigation recommends: a
	 * chosen-prefix collision then has no attribute before it to hide in. */
	if (!m->no_msgauth) {
		ma_off = off;
		out[off] = RADIUS_A_MESSAGE_AUTHENTICATOR;
		out[off + 1] = MSGAUTH_ATTR_LEN;
		memset(out + off + 2, 0, MD5_LEN);
		off += MSGAUTH_ATTR_LEN;
	}
	memcpy(out + off, m->attrs, m->attrs_len);
	off += m->attrs_len;
	if (m->has_password) {
		ssize_t n = radius_password_hide(out + off + 2, cap - off - 2, m->password,
		                                 m->password_len, auth, secret, secret_len);

		if (n < 0)
			return n;
		out[off] = RADIUS_A_USER_PASSWORD;
		out[off + 1] = (uint8_t)(2 + n);
		off += 2 + (size_t)n;
	}
	if (ma_off) {
		struct hmac_md5 h;

		hmac_md5_init(&h, secret, secret_len);
		hmac_md5_update(&h, out, len);
		hmac_md5_finish(&h, out + ma_off + 2);
	}
	if (acct || resp) {
		uint8_t a[MD5_LEN];

		md5_3(a, out, len, secret, secret_len, NULL, 0);
		memcpy(out + 4, a, RADIUS_AUTH_LEN);
		if (acct)
			memcpy(auth, a, RADIUS_AUTH_LEN);
	}
	return (ssize_t)len;
}

/* ---- reading packets ------------------------------------------------------- */

ssize_t radius_pkt_check(const uint8_t *pkt, size_t len)
{
	size_t n, off = RADIUS_HDR_LEN;

	if (!pkt || len < RADIUS_HDR_LEN)
		return RADIUS_ERR_MALFORMED;
	n = (size_t)pkt[2] << 8 | pkt[3];
	/* RFC 2865 §3: a Length below 20 or beyond the datagram is dropped;
	 * octets past Length are padding. */
	if (n < RADIUS_HDR_LEN || n > RADIUS_PKT_MAX || n > len)
		return RADIUS_ERR_MALFORMED;
	while (off < n) {
		if (n - off < 2 || pkt[off + 1] < 2 || pkt[off + 1] > n - off)
			return RADIUS_ERR_MALFORMED;
		off += pkt[off + 1];
	}
	return (ssize_t)n;
}

int radius_attr_next(const uint8_t *pkt, size_t len, size_t *off, struct radius_attr *a)
{
	size_t o = *off;

	if (o >= len)
		return 0;
	if (len - o < 2 || pkt[o + 1] < 2 || pkt[o + 1] > len - o)
		return RADIUS_ERR_MALFORMED;
	a->type = pkt[o];
	a->len = (uint8_t)(pkt[o + 1] - 2);
	a->val = pkt + o + 2;
	*off = o + pkt[o + 1];
	return 1;
}

ssize_t radius_mppe_encrypt(uint8_t *out, size_t cap, const uint8_t *key, size_t key_len,
                            uint16_t salt, const uint8_t req_auth[static RADIUS_AUTH_LEN],
                            const uint8_t *secret, size_t secret_len)
{
	size_t n = (1 + key_len + MD5_LEN - 1) / MD5_LEN * MD5_LEN;

	if (key_len > 255 || (key_len && !key) || !secret_ok(secret, secret_len))
		return RADIUS_ERR_INVAL;
	if (cap < 2 + n)
		return RADIUS_ERR_NOSPACE;
	salt |= 0x8000; /* RFC 2548 §2.4.2: the most significant bit MUST be set */
	put16(out, salt);
	memset(out + 2, 0, n);
	out[2] = (uint8_t)key_len;
	if (key_len)
		memcpy(out + 3, key, key_len);
	md5_stream(out + 2, n, false, secret, secret_len, req_auth, out, 2);
	return (ssize_t)(2 + n);
}

ssize_t radius_mppe_decrypt(uint8_t *out, size_t cap, const uint8_t *val, size_t len,
                            const uint8_t req_auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
                            size_t secret_len)
{
	uint8_t p[RADIUS_ATTR_MAX];
	size_t n = len - 2, key_len;

	if (!secret_ok(secret, secret_len))
		return RADIUS_ERR_INVAL;
	if (len < 2 + MD5_LEN || (len - 2) % MD5_LEN || len - 2 > sizeof(p) || !(val[0] & 0x80))
		return RADIUS_ERR_MALFORMED;
	memcpy(p, val + 2, n);
	md5_stream(p, n, true, secret, secret_len, req_auth, val, 2);
	key_len = p[0];
	if (key_len > n - 1) {
		sodium_memzero(p, sizeof(p));
		return RADIUS_ERR_MALFORMED;
	}
	if (key_len > cap) {
		sodium_memzero(p, sizeof(p));
		return RADIUS_ERR_NOSPACE;
	}
	memcpy(out, p + 1, key_len);
	sodium_memzero(p, sizeof(p));
	return (ssize_t)key_len;
}

void radius_answer_wipe(struct radius_answer *a)
{
	sodium_memzero(a->msk, sizeof(a->msk));
	sodium_memzero(a->eap, a->eap_len);
	sodium_memzero(a->state, sizeof(a->state));
	a->msk_len = 0;
	a->eap_len = 0;
}

/* Finds the MS-MPPE keys of one Vendor-Specific attribute (RFC 2865 §5.26:
 * Vendor-Id, then sub-attributes; RFC 2548 puts each key in its own). */
static void mppe_keys(const struct radius_attr *at, const uint8_t req_auth[RADIUS_AUTH_LEN],
                      const uint8_t *secret, size_t secret_len, uint8_t recv[32],
                      ssize_t *recv_len, uint8_t send[32], ssize_t *send_len)
{
	size_t off = 4;

	if (at->len < 6 || get32(at->val) != RADIUS_VENDOR_MICROSOFT)
		return;
	while (at->len - off >= 2) {
		uint8_t vt = at->val[off], vl = at->val[off + 1];

		if (vl < 2 || vl > at->len - off)
			return; /* an invalid VSA: ignored (RFC 6929 §2.8) */
		if (vt == RADIUS_MS_MPPE_RECV_KEY)
			*recv_len = radius_mppe_decrypt(recv, 32, at->val + off + 2, vl - 2u, req_auth,
			                                secret, secret_len);
		else if (vt == RADIUS_MS_MPPE_SEND_KEY)
			*send_len = radius_mppe_decrypt(send, 32, at->val + off + 2, vl - 2u, req_auth,
			                                secret, secret_len);
		off += vl;
	}
}

int radius_answer_parse(struct radius_answer *a, const uint8_t *pkt, size_t len, uint8_t req_code,
                        const uint8_t req_auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
                        size_t secret_len)
{
	struct radius_answer *t;
	struct radius_attr at;
	uint8_t mac[MD5_LEN], recv[32], send[32];
	ssize_t n = radius_pkt_check(pkt, len), recv_len = -1, send_len = -1;
	size_t off = RADIUS_HDR_LEN, ma_off = 0, n_ma = 0;
	uint8_t code;
	bool access, ma_bad = false;
	int eap_run = 0, r;

	if (!secret_ok(secret, secret_len))
		return RADIUS_ERR_INVAL;
	if (n < 0)
		return (int)n;
	len = (size_t)n;
	code = pkt[0];
	if (req_code == RADIUS_ACCESS_REQUEST) {
		access = true;
		if (code != RADIUS_ACCESS_ACCEPT && code != RADIUS_ACCESS_REJECT &&
		    code != RADIUS_ACCESS_CHALLENGE)
			return RADIUS_ERR_CODE;
	} else if (req_code == RADIUS_ACCOUNTING_REQUEST) {
		access = false;
		if (code != RADIUS_ACCOUNTING_RESPONSE)
			return RADIUS_ERR_CODE;
	} else {
		return RADIUS_ERR_INVAL;
	}

	while ((r = radius_attr_next(pkt, len, &off, &at)) == 1)
		if (at.type == RADIUS_A_MESSAGE_AUTHENTICATOR) {
			n_ma++;
			ma_off = (size_t)(at.val - pkt);
			ma_bad |= at.len != MD5_LEN;
		}
	if (r < 0)
		return r;
	/* The Response Authenticator first: then a packet that passes it and
	 * fails only here is counted for what it may be, a Blast-RADIUS
	 * forgery (or a server not configured to send the attribute). */
	{
		mbedtls_md5_context m;

		mbedtls_md5_init(&m);
		md5_starts(&m);
		md5_update(&m, pkt, 4);
		md5_update(&m, req_auth, RADIUS_AUTH_LEN);
		md5_update(&m, pkt + RADIUS_HDR_LEN, len - RADIUS_HDR_LEN);
		md5_update(&m, secret, secret_len);
		md5_finish(&m, mac);
		mbedtls_md5_free(&m);
		if (sodium_memcmp(mac, pkt + 4, MD5_LEN) != 0)
			return RADIUS_ERR_AUTH;
	}

	/* Blast-RADIUS (CVE-2024-3596): the Response Authenticator is a bare
	 * MD5 that a chosen-prefix collision forges; only the HMAC is proof.
	 * So no Access-* answer counts without it. */
	if (n_ma == 0 && access)
		return RADIUS_ERR_NO_MSGAUTH;
	if (n_ma > 1 || ma_bad)
		return RADIUS_ERR_MSGAUTH;
	if (n_ma == 1) {
		struct hmac_md5 h;
		static const uint8_t zero[MD5_LEN];

		/* RFC 3579 §3.2: over the packet with the Request Authenticator
		 * in place of the Response Authenticator, the field zeroed. */
		hmac_md5_init(&h, secret, secret_len);
		hmac_md5_update(&h, pkt, 4);
		hmac_md5_update(&h, req_auth, RADIUS_AUTH_LEN);
		hmac_md5_update(&h, pkt + RADIUS_HDR_LEN, ma_off - RADIUS_HDR_LEN);
		hmac_md5_update(&h, zero, MD5_LEN);
		hmac_md5_update(&h, pkt + ma_off + MD5_LEN, len - ma_off - MD5_LEN);
		hmac_md5_finish(&h, mac);
		if (sodium_memcmp(mac, pkt + ma_off, MD5_LEN) != 0)
			return RADIUS_ERR_MSGAUTH;
	}
	/* Authentic. Parse into a scratch answer; *a only if all of it holds. */
	t = calloc(1, sizeof(*t));
	if (!t)
		return RADIUS_ERR_NOMEM;
	t->code = code;
	t->id = pkt[1];
	r = 0;
	off = RADIUS_HDR_LEN;
	while (radius_attr_next(pkt, len, &off, &at) == 1) {
		if (at.type == RADIUS_A_EAP_MESSAGE) {
			/* RFC 3579 §3.1: in order and consecutive. */
			if (eap_run == 2) {
				r = RADIUS_ERR_MALFORMED;
				break;
			}
			eap_run = 1;
			memcpy(t->eap + t->eap_len, at.val, at.len);
			t->eap_len += at.len;
			continue;
		}
		if (eap_run == 1)
			eap_run = 2;
		switch (at.type) {
		case RADIUS_A_STATE:
			if (!t->state_len) {
				memcpy(t->state, at.val, at.len);
				t->state_len = at.len;
			}
			break;
		case RADIUS_A_CLASS:
			if (!t->class_len) {
				memcpy(t->class_, at.val, at.len);
				t->class_len = at.len;
			}
			break;
		case RADIUS_A_REPLY_MESSAGE:
			if (!t->reply_len) {
				memcpy(t->reply_message, at.val, at.len);
				t->reply_message[at.len] = '\0';
				t->reply_len = at.len;
			}
			break;
		case RADIUS_A_SESSION_TIMEOUT:
			if (at.len == 4) {
				t->session_timeout = get32(at.val);
				t->has_session_timeout = true;
			}
			break;
		case RADIUS_A_FRAMED_IP_ADDRESS:
			/* 255.255.255.255 (the user may choose) and .254 (the NAS
			 * chooses) name no address (RFC 2865 §5.8). */
			if (at.len == 4 && get32(at.val) < 0xfffffffe) {
				memcpy(t->framed_ip, at.val, 4);
				t->has_framed_ip = true;
			}
			break;
		case RADIUS_A_VENDOR_SPECIFIC:
			if (code == RADIUS_ACCESS_ACCEPT)
				mppe_keys(&at, req_auth, secret, secret_len, recv, &recv_len, send,
				          &send_len);
			break;
		}
	}
	/* The joined EAP-Messages are exactly one EAP packet (RFC 3748 §4). */
	if (!r && t->eap_len && (t->eap_len < 4 || ((size_t)t->eap[2] << 8 | t->eap[3]) != t->eap_len))
		r = RADIUS_ERR_MALFORMED;
	/* strongSwan's eap-radius: MSK = Recv-Key | Send-Key, zero-padded to 64. */
	if (!r && recv_len >= 0 && send_len >= 0) {
		memcpy(t->msk, recv, (size_t)recv_len);
		memcpy(t->msk + recv_len, send, (size_t)send_len);
		t->msk_len = RADIUS_MSK_LEN;
	}
	sodium_memzero(recv, sizeof(recv));
	sodium_memzero(send, sizeof(send));
	if (!r)
		memcpy(a, t, sizeof(*t));
	sodium_memzero(t, sizeof(*t));
	free(t);
	return r;
}

/* ---- the client ------------------------------------------------------------ */

struct req {
	struct req *next;
	uint64_t handle;
	void *user;
	struct radius_msg *msg;
	int port;
	size_t server;
	size_t servers_tried;
	unsigned tries;         /* transmissions to this server */
	bool tx_pending;
	bool has_id;            /* id is ours on (server, port) */
	/* Allocated with the request, so that its TIMEOUT event cannot fail
	 * for want of memory: each request ends in exactly one event. */
	struct ev_node *timeout_ev;
	uint8_t id;
	uint8_t auth[RADIUS_AUTH_LEN];
	radius_time_t rt;       /* this try's timeout */
	radius_time_t deadline;
	size_t pkt_len;
	uint8_t pkt[RADIUS_PKT_MAX];
};

struct ev_node {
	struct ev_node *next;
	struct radius_event ev;
};

struct radius_client {
	struct radius_client_cfg cfg;
	struct req *reqs, **reqs_tail;
	struct ev_node *evs, **evs_tail;
	size_t preferred;
	size_t n_pending;
	uint64_t next_handle;
	/* Identifiers in flight per server and port (RFC 2865 §3: one
	 * identifier space per source and destination). */
	uint8_t id_used[RADIUS_MAX_SERVERS][2][256 / 8];
	uint8_t id_next[RADIUS_MAX_SERVERS][2];
	struct radius_counters ctr;
};

struct radius_client *radius_client_new(const struct radius_client_cfg *cfg)
{
	struct radius_client *c;

	if (!cfg || cfg->n_servers == 0 || cfg->n_servers > RADIUS_MAX_SERVERS || !cfg->rand)
		return NULL;
	for (size_t i = 0; i < cfg->n_servers; i++)
		if (!secret_ok(cfg->servers[i].secret, cfg->servers[i].secret_len))
			return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		if (!c->cfg.servers[i].auth_port)
			c->cfg.servers[i].auth_port = RADIUS_DEFAULT_AUTH_PORT;
		if (!c->cfg.servers[i].acct_port)
			c->cfg.servers[i].acct_port = RADIUS_DEFAULT_ACCT_PORT;
	}
	if (!c->cfg.timeout)
		c->cfg.timeout = RADIUS_DEFAULT_TIMEOUT;
	if (!c->cfg.max_timeout)
		c->cfg.max_timeout = RADIUS_DEFAULT_MAX_RT;
	if (!c->cfg.base)
		c->cfg.base = RADIUS_DEFAULT_BASE;
	if (c->cfg.base < 1000)
		c->cfg.base = 1000;
	if (!c->cfg.tries)
		c->cfg.tries = RADIUS_DEFAULT_TRIES;
	c->reqs_tail = &c->reqs;
	c->evs_tail = &c->evs;
	c->next_handle = 1;
	return c;
}

static void req_free(struct req *r)
{
	free(r->timeout_ev);
	radius_msg_wipe(r->msg);
	free(r->msg);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

void radius_client_free(struct radius_client *c)
{
	struct req *r, *rn;
	struct ev_node *e, *en;

	if (!c)
		return;
	for (r = c->reqs; r; r = rn) {
		rn = r->next;
		req_free(r);
	}
	for (e = c->evs; e; e = en) {
		en = e->next;
		radius_event_wipe(&e->ev);
		free(e);
	}
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static int id_alloc(struct radius_client *c, size_t server, int port)
{
	uint8_t *used = c->id_used[server][port];

	/* From where the last one ended, so that an identifier is reused as
	 * late as possible: a late answer to its previous request then fails
	 * the authenticator check rather than matching by luck. */
	for (int i = 0; i < 256; i++) {
		uint8_t id = (uint8_t)(c->id_next[server][port] + i);

		if (!(used[id / 8] & (1u << (id % 8)))) {
			used[id / 8] |= (uint8_t)(1u << (id % 8));
			c->id_next[server][port] = (uint8_t)(id + 1);
			return id;
		}
	}
	return RADIUS_ERR_BUSY;
}

static void id_release(struct radius_client *c, size_t server, int port, uint8_t id)
{
	c->id_used[server][port][id / 8] &= (uint8_t)~(1u << (id % 8));
}

/* The request for its current server: a fresh identifier and
 * authenticator, encoded with that server's secret. */
static int req_encode(struct radius_client *c, struct req *r, radius_time_t now)
{
	const struct radius_server_cfg *s = &c->cfg.servers[r->server];
	int id = id_alloc(c, r->server, r->port);
	ssize_t n;

	if (id < 0)
		return id;
	r->id = (uint8_t)id;
	r->has_id = true;
	if (r->port == RADIUS_PORT_AUTH)
		c->cfg.rand(c->cfg.rand_ctx, r->auth, RADIUS_AUTH_LEN);
	n = radius_encode(r->pkt, sizeof(r->pkt), r->msg, r->id, r->auth, s->secret, s->secret_len);
	if (n < 0) {
		id_release(c, r->server, r->port, r->id);
		r->has_id = false;
		return (int)n;
	}
	r->pkt_len = (size_t)n;
	r->tries = 1;
	r->rt = c->cfg.timeout < c->cfg.max_timeout ? c->cfg.timeout : c->cfg.max_timeout;
	r->deadline = now + r->rt;
	r->tx_pending = true;
	return 0;
}

int64_t radius_client_send(struct radius_client *c, const struct radius_msg *m, void *user,
                           radius_time_t now)
{
	struct req *r;
	int err;

	if (m->code != RADIUS_ACCESS_REQUEST && m->code != RADIUS_ACCOUNTING_REQUEST)
		return RADIUS_ERR_INVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return RADIUS_ERR_NOMEM;
	r->msg = malloc(sizeof(*r->msg));
	r->timeout_ev = calloc(1, sizeof(*r->timeout_ev));
	if (!r->msg || !r->timeout_ev) {
		free(r->msg);
		free(r->timeout_ev);
		free(r);
		return RADIUS_ERR_NOMEM;
	}
	memcpy(r->msg, m, sizeof(*m));
	r->msg->no_msgauth = false; /* every request carries one */
	r->user = user;
	r->port = m->code == RADIUS_ACCOUNTING_REQUEST ? RADIUS_PORT_ACCT : RADIUS_PORT_AUTH;
	r->server = c->preferred;
	r->servers_tried = 1;
	err = req_encode(c, r, now);
	if (err < 0) {
		req_free(r);
		return err;
	}
	r->handle = c->next_handle++;
	*c->reqs_tail = r;
	c->reqs_tail = &r->next;
	c->n_pending++;
	c->ctr.requests++;
	return (int64_t)r->handle;
}

/* Unlinks r (found through *pp) and frees it, its identifier released. */
static void req_remove(struct radius_client *c, struct req **pp)
{
	struct req *r = *pp;

	*pp = r->next;
	if (c->reqs_tail == &r->next)
		c->reqs_tail = pp;
	if (r->has_id)
		id_release(c, r->server, r->port, r->id);
	c->n_pending--;
	req_free(r);
}

static void event_push(struct radius_client *c, struct ev_node *e)
{
	e->next = NULL;
	*c->evs_tail = e;
	c->evs_tail = &e->next;
}

int radius_client_recv(struct radius_client *c, size_t server, int port, const uint8_t *pkt,
                       size_t len, radius_time_t now)
{
	const struct radius_server_cfg *s;
	struct radius_answer *a;
	struct ev_node *e;
	struct req **pp;
	int r;

	if (server >= c->cfg.n_servers || (port != RADIUS_PORT_AUTH && port != RADIUS_PORT_ACCT))
		return RADIUS_ERR_INVAL;
	if (!pkt || len < RADIUS_HDR_LEN) {
		c->ctr.drop_malformed++;
		return RADIUS_ERR_MALFORMED;
	}
	for (pp = &c->reqs; *pp; pp = &(*pp)->next)
		if ((*pp)->has_id && (*pp)->server == server && (*pp)->port == port &&
		    (*pp)->id == pkt[1])
			break;
	if (!*pp) {
		c->ctr.drop_unknown_id++;
		return RADIUS_ERR_NOTFOUND;
	}
	s = &c->cfg.servers[server];
	a = malloc(sizeof(*a));
	e = calloc(1, sizeof(*e));
	if (!a || !e) {
		free(a);
		free(e);
		return RADIUS_ERR_NOMEM;
	}
	r = radius_answer_parse(a, pkt, len, (*pp)->msg->code, (*pp)->auth, s->secret,
	                        s->secret_len);
	if (r < 0) {
		switch (r) {
		case RADIUS_ERR_CODE:
			c->ctr.drop_code++;
			break;
		case RADIUS_ERR_AUTH:
			c->ctr.drop_authenticator++;
			break;
		case RADIUS_ERR_NO_MSGAUTH:
			c->ctr.drop_no_msgauth++;
			break;
		case RADIUS_ERR_MSGAUTH:
			c->ctr.drop_msgauth++;
			break;
		default:
			c->ctr.drop_malformed++;
		}
		free(a);
		free(e);
		return r;
	}
	e->ev.type = RADIUS_EV_ANSWER;
	e->ev.handle = (*pp)->handle;
	e->ev.user = (*pp)->user;
	e->ev.server = server;
	e->ev.answer = a;
	event_push(c, e);
	c->preferred = server;
	c->ctr.answers++;
	req_remove(c, pp);
	return 0;
}

int radius_client_cancel(struct radius_client *c, uint64_t handle)
{
	for (struct req **pp = &c->reqs; *pp; pp = &(*pp)->next)
		if ((*pp)->handle == handle) {
			req_remove(c, pp);
			return 0;
		}
	return RADIUS_ERR_NOTFOUND;
}

ssize_t radius_client_poll_tx(struct radius_client *c, struct radius_dest *dst, uint8_t *buf,
                              size_t cap)
{
	for (struct req *r = c->reqs; r; r = r->next) {
		if (!r->tx_pending)
			continue;
		if (cap < r->pkt_len)
			return RADIUS_ERR_NOSPACE;
		memcpy(buf, r->pkt, r->pkt_len);
		dst->server = r->server;
		dst->port = r->port;
		dst->port_number = r->port == RADIUS_PORT_AUTH ? c->cfg.servers[r->server].auth_port
		                                               : c->cfg.servers[r->server].acct_port;
		r->tx_pending = false;
		return (ssize_t)r->pkt_len;
	}
	return 0;
}

int radius_client_poll_event(struct radius_client *c, struct radius_event *ev)
{
	struct ev_node *e = c->evs;

	if (!e)
		return 0;
	c->evs = e->next;
	if (!c->evs)
		c->evs_tail = &c->evs;
	*ev = e->ev;
	free(e);
	return 1;
}

void radius_event_wipe(struct radius_event *ev)
{
	if (ev->answer) {
		radius_answer_wipe(ev->answer);
		free(ev->answer);
		ev->answer = NULL;
	}
}

radius_time_t radius_client_next_expiry(const struct radius_client *c)
{
	radius_time_t t = RADIUS_TIME_NEVER;

	for (const struct req *r = c->reqs; r; r = r->next)
		if (r->deadline < t)
			t = r->deadline;
	return t;
}

/* The request goes to the next server that has an identifier free;
 * false when none is left. */
static bool failover(struct radius_client *c, struct req *r, radius_time_t now)
{
	while (r->servers_tried < c->cfg.n_servers) {
		if (r->has_id)
			id_release(c, r->server, r->port, r->id);
		r->has_id = false;
		r->server = (r->server + 1) % c->cfg.n_servers;
		r->servers_tried++;
		c->ctr.failovers++;
		/* New requests start where this one goes: the dead server is not
		 * made to time out every one of them. */
		c->preferred = r->server;
		if (req_encode(c, r, now) == 0)
			return true;
	}
	return false;
}

void radius_client_handle_expiry(struct radius_client *c, radius_time_t now)
{
	struct req **pp = &c->reqs;

	while (*pp) {
		struct req *r = *pp;

		if (r->deadline > now) {
			pp = &r->next;
			continue;
		}
		if (r->tries < c->cfg.tries) {
			/* RFC 5080 §2.2.1: the same packet again (identifier and
			 * authenticator unchanged), after a longer wait. */
			uint64_t rt = r->rt / 1000 * c->cfg.base + r->rt % 1000 * c->cfg.base / 1000;

			r->rt = rt < c->cfg.max_timeout ? rt : c->cfg.max_timeout;
			r->deadline = now + r->rt;
			r->tries++;
			r->tx_pending = true;
			c->ctr.retransmits++;
			pp = &r->next;
			continue;
		}
		if (failover(c, r, now)) {
			pp = &r->next;
			continue;
		}
		struct ev_node *e = r->timeout_ev;

		r->timeout_ev = NULL;
		c->ctr.timeouts++;
		e->ev.type = RADIUS_EV_TIMEOUT;
		e->ev.handle = r->handle;
		e->ev.user = r->user;
		e->ev.server = r->server;
		event_push(c, e);
		req_remove(c, pp);
	}
}

const struct radius_counters *radius_client_counters(const struct radius_client *c)
{
	return &c->ctr;
}

size_t radius_client_pending(const struct radius_client *c)
{
	return c->n_pending;
}
