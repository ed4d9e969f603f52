/*
 * IKEv2 payloads: validate and parse (RFC 7296 §3, RFC 7383 §2.5), build.
 *
 * Each payload body is parsed through its own wire_rd carved to the length
 * its generic header declares, so no parser can read into the next payload.
 * A payload is parsed into its slot of struct ike_msg, and only counted
 * (n_*, seen) once every check passed: a failed payload leaves no trace but
 * the error. Reading past the end of a carved body means a length field was
 * too small for its contents: IKE_ERR_LENGTH.
 */
#include "ike/payload.h"

#include <string.h>

/* Bit for a payload type in ike_msg.seen. */
static uint64_t type_bit(uint8_t type)
{
	return (uint64_t)1 << (type - 32);
}

const struct ike_notify *ike_msg_notify(const struct ike_msg *m, uint16_t type)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i].type == type)
			return &m->notify[i];
	return NULL;
}

int ike_hdr_parse(struct ike_hdr *h, const uint8_t *buf, size_t len)
{
	struct wire_rd r;
	uint8_t ver;

	if (len < IKE_HDR_LEN)
		return IKE_ERR_SHORT;
	wire_rd_init(&r, buf, len);
	h->spi_i = wire_get_u64(&r);
	h->spi_r = wire_get_u64(&r);
	h->next_payload = wire_get_u8(&r);
	ver = wire_get_u8(&r);
	h->major = ver >> 4;
	h->minor = ver & 0x0f;
	h->exchange = wire_get_u8(&r);
	h->flags = wire_get_u8(&r);
	h->msg_id = wire_get_u32(&r);
	h->length = wire_get_u32(&r);
	/* §1.5/§2.5: a higher major version is answered with
	 * INVALID_MAJOR_VERSION, a lower one (IKEv1) is not ours either. */
	if (h->major != IKE_MAJOR_VERSION)
		return IKE_ERR_VERSION;
	return IKE_OK;
}

/* --- §3.3 Security Association ------------------------------------------- */

/* §3.3.5: attributes; only Key Length (TV format) is known. */
static int parse_attrs(struct wire_rd *r, struct ike_transform *t)
{
	bool have_keylen = false;

	while (wire_left(r) > 0) {
		uint16_t at = wire_get_u16(r);
		uint16_t val = wire_get_u16(r);

		if (r->err)
			return IKE_ERR_LENGTH;
		if (!(at & IKE_ATTR_AF)) {
			/* TLV: val is the length of the value that follows. */
			wire_skip(r, val);
			if (r->err)
				return IKE_ERR_LENGTH;
			if (at == IKE_ATTR_KEY_LENGTH)
				return IKE_ERR_SYNTAX; /* §3.3.5: Key Length is TV */
			t->unknown_attr = true;
			continue;
		}
		if ((at & ~IKE_ATTR_AF) != IKE_ATTR_KEY_LENGTH) {
			t->unknown_attr = true;
			continue;
		}
		if (have_keylen || val == 0)
			return IKE_ERR_SYNTAX;
		have_keylen = true;
		t->key_bits = val;
	}
	return IKE_OK;
}

/* §3.3.2: the transforms of one proposal, exactly n of them. */
static int parse_transforms(struct wire_rd *r, struct ike_proposal *p, unsigned n)
{
	unsigned i = 0;
	int rc;

	while (wire_left(r) > 0) {
		struct wire_rd body;
		struct ike_transform *t;
		uint8_t last = wire_get_u8(r);
		uint16_t tlen;

		wire_skip(r, 1);
		tlen = wire_get_u16(r);
		if (r->err || tlen < 8 || !wire_sub(r, tlen - 4, &body))
			return IKE_ERR_LENGTH;
		if (i == IKE_MAX_TRANSFORMS)
			return IKE_ERR_TOO_MANY;
		t = &p->t[i];
		memset(t, 0, sizeof(*t));
		t->type = wire_get_u8(&body);
		wire_skip(&body, 1);
		t->id = wire_get_u16(&body);
		if ((rc = parse_attrs(&body, t)) < 0)
			return rc;
		/* "Last Substruc": 3 if more transforms follow, else 0. */
		if (last != (wire_left(r) > 0 ? 3 : 0))
			return IKE_ERR_SYNTAX;
		i++;
	}
	if (i != n)
		return IKE_ERR_SYNTAX;
	p->n_transforms = i;
	return IKE_OK;
}

static int parse_sa(struct wire_rd *r, struct ike_msg *m)
{
	struct ike_sa_pl *sa = &m->sa;
	unsigned i = 0;
	int rc;

	if (wire_left(r) < 8)
		return IKE_ERR_LENGTH; /* at least one proposal header */
	while (wire_left(r) > 0) {
		struct wire_rd body;
		struct ike_proposal *p;
		uint8_t last = wire_get_u8(r), n_trans;
		uint16_t plen;

		wire_skip(r, 1);
		plen = wire_get_u16(r);
		if (r->err || plen < 8 || !wire_sub(r, plen - 4, &body))
			return IKE_ERR_LENGTH;
		if (i == IKE_MAX_PROPOSALS)
			return IKE_ERR_TOO_MANY;
		p = &sa->p[i];
		p->num = wire_get_u8(&body);
		p->proto = wire_get_u8(&body);
		p->spi_len = wire_get_u8(&body);
		n_trans = wire_get_u8(&body);
		if (p->spi_len > wire_left(&body))
			return IKE_ERR_LENGTH;
		/* §3.3.1: IKE: 0 (IKE_SA_INIT) or 8 (rekey); AH/ESP: 4. */
		if (p->proto == IKE_PROTO_IKE ? p->spi_len != 0 && p->spi_len != 8
		    : p->proto == IKE_PROTO_AH || p->proto == IKE_PROTO_ESP
		        ? p->spi_len != 4
		        : p->spi_len > IKE_MAX_SPI)
			return IKE_ERR_SYNTAX;
		wire_get_copy(&body, p->spi, p->spi_len);
		/* Numbered 1, 2, ... in a request; a reply holds the one chosen
		 * with its original number, so only the sequence is checked. */
		if (p->num == 0 || (i > 0 && p->num != sa->p[i - 1].num + 1))
			return IKE_ERR_SYNTAX;
		if ((rc = parse_transforms(&body, p, n_trans)) < 0)
			return rc;
		if (last != (wire_left(r) > 0 ? 2 : 0))
			return IKE_ERR_SYNTAX;
		i++;
	}
	sa->n_proposals = i;
	return IKE_OK;
}

/* --- §3.4 .. §3.12 -------------------------------------------------------- */

static int parse_ke(struct wire_rd *r, struct ike_msg *m)
{
	uint16_t group = wire_get_u16(r);

	wire_skip(r, 2);
	if (r->err || wire_left(r) == 0)
		return IKE_ERR_LENGTH;
	m->ke.group = group;
	m->ke.len = wire_left(r);
	m->ke.data = wire_get_bytes(r, m->ke.len);
	return IKE_OK;
}

static int parse_id(struct wire_rd *r, struct ike_id *id)
{
	const uint8_t *body = r->p;
	size_t body_len = r->len, dlen;
	uint8_t type = wire_get_u8(r);

	wire_skip(r, 3);
	if (r->err)
		return IKE_ERR_LENGTH;
	dlen = wire_left(r);
	switch (type) {
	case IKE_ID_IPV4_ADDR:
		if (dlen != 4)
			return IKE_ERR_LENGTH;
		break;
	case IKE_ID_IPV6_ADDR:
		if (dlen != 16)
			return IKE_ERR_LENGTH;
		break;
	case IKE_ID_NULL: /* RFC 7619 §3: empty by definition */
		if (dlen != 0)
			return IKE_ERR_LENGTH;
		break;
	default:
		if (dlen == 0)
			return IKE_ERR_LENGTH;
	}
	id->type = type;
	id->len = dlen;
	id->data = wire_get_bytes(r, dlen);
	id->body = body;
	id->body_len = body_len;
	return IKE_OK;
}

/* CERT needs data; a CERTREQ's CA list may be empty (§3.7). */
static int parse_cert(struct wire_rd *r, struct ike_cert *c, bool req)
{
	uint8_t enc = wire_get_u8(r);

	if (r->err || (!req && wire_left(r) == 0))
		return IKE_ERR_LENGTH;
	c->encoding = enc;
	c->len = wire_left(r);
	c->data = wire_get_bytes(r, c->len);
	return IKE_OK;
}

static int parse_auth(struct wire_rd *r, struct ike_msg *m)
{
	uint8_t method = wire_get_u8(r);

	wire_skip(r, 3);
	if (r->err || wire_left(r) == 0)
		return IKE_ERR_LENGTH;
	m->auth.method = method;
	m->auth.len = wire_left(r);
	m->auth.data = wire_get_bytes(r, m->auth.len);
	return IKE_OK;
}

static int parse_nonce(struct wire_rd *r, struct ike_msg *m)
{
	size_t n = wire_left(r);

	if (n < IKE_NONCE_MIN || n > IKE_NONCE_MAX) /* §3.9 */
		return IKE_ERR_LENGTH;
	m->nonce.len = n;
	m->nonce.data = wire_get_bytes(r, n);
	return IKE_OK;
}

static int parse_notify(struct wire_rd *r, struct ike_notify *n)
{
	uint8_t proto = wire_get_u8(r), spi_len = wire_get_u8(r);
	uint16_t type = wire_get_u16(r);

	if (r->err || spi_len > wire_left(r))
		return IKE_ERR_LENGTH;
	/* §3.10: 0 for the IKE SA, 4 for AH/ESP; 8 is an IKE SPI (seen in
	 * the wild for REKEY_SA of an IKE SA). */
	if (spi_len != 0 && spi_len != 4 && spi_len != 8)
		return IKE_ERR_SYNTAX;
	n->proto = proto;
	n->spi_len = spi_len;
	n->type = type;
	wire_get_copy(r, n->spi, spi_len);
	n->len = wire_left(r);
	n->data = wire_get_bytes(r, n->len);
	return IKE_OK;
}

static int parse_delete(struct wire_rd *r, struct ike_delete *d)
{
	uint8_t proto = wire_get_u8(r), spi_len = wire_get_u8(r);
	uint16_t n = wire_get_u16(r);

	if (r->err)
		return IKE_ERR_LENGTH;
	/* §3.11: deleting the IKE SA carries no SPI; AH/ESP SPIs are 4. */
	if (proto == IKE_PROTO_IKE) {
		if (spi_len != 0 || n != 0)
			return IKE_ERR_SYNTAX;
	} else if (proto == IKE_PROTO_AH || proto == IKE_PROTO_ESP) {
		if (spi_len != 4)
			return IKE_ERR_SYNTAX;
	} else {
		return IKE_ERR_SYNTAX;
	}
	if (wire_left(r) != (size_t)spi_len * n)
		return IKE_ERR_LENGTH;
	d->proto = proto;
	d->spi_len = spi_len;
	d->n_spi = n;
	d->spis = wire_get_bytes(r, wire_left(r));
	return IKE_OK;
}

static int parse_blob(struct wire_rd *r, struct ike_blob *b, size_t min)
{
	if (wire_left(r) < min)
		return IKE_ERR_LENGTH;
	b->len = wire_left(r);
	b->data = wire_get_bytes(r, b->len);
	return IKE_OK;
}

/* --- §3.13 Traffic Selectors ---------------------------------------------- */

static int parse_ts(struct wire_rd *r, struct ike_ts_pl *tp)
{
	uint8_t n = wire_get_u8(r);
	unsigned seen = 0;

	wire_skip(r, 3);
	if (r->err)
		return IKE_ERR_LENGTH;
	if (n == 0)
		return IKE_ERR_SYNTAX;
	tp->n_ts = 0;
	tp->n_skipped = 0;
	while (wire_left(r) > 0) {
		struct wire_rd sel;
		uint8_t type = wire_get_u8(r), proto = wire_get_u8(r);
		uint16_t slen = wire_get_u16(r);
		size_t alen;
		struct ike_ts *t;

		if (r->err || slen < 8 || !wire_sub(r, slen - 4, &sel))
			return IKE_ERR_LENGTH;
		seen++;
		if (type == IKE_TS_IPV4_ADDR_RANGE)
			alen = 4;
		else if (type == IKE_TS_IPV6_ADDR_RANGE)
			alen = 16;
		else {
			tp->n_skipped++; /* e.g. RFC 9478 security labels */
			continue;
		}
		if (slen != 8 + 2 * alen)
			return IKE_ERR_LENGTH;
		if (tp->n_ts == IKE_MAX_TS)
			return IKE_ERR_TOO_MANY;
		t = &tp->ts[tp->n_ts];
		memset(t, 0, sizeof(*t));
		t->type = type;
		t->proto = proto;
		t->start_port = wire_get_u16(&sel);
		t->end_port = wire_get_u16(&sel);
		wire_get_copy(&sel, t->start, alen);
		wire_get_copy(&sel, t->end, alen);
		tp->n_ts++;
	}
	if (seen != n)
		return IKE_ERR_SYNTAX;
	return IKE_OK;
}

/* --- §3.15 Configuration ------------------------------------------------- */

/* §3.15.1: the lengths each known attribute may have (0: a request). */
static bool cp_len_ok(uint16_t type, uint16_t len)
{
	switch (type) {
	case IKE_CP_INTERNAL_IP4_ADDRESS:
	case IKE_CP_INTERNAL_IP4_NETMASK:
	case IKE_CP_INTERNAL_IP4_DNS:
	case IKE_CP_INTERNAL_IP4_NBNS:
	case IKE_CP_INTERNAL_IP4_DHCP:
		return len == 0 || len == 4;
	case IKE_CP_INTERNAL_IP6_ADDRESS:
	case IKE_CP_INTERNAL_IP6_SUBNET:
		return len == 0 || len == 17;
	case IKE_CP_INTERNAL_IP6_DNS:
	case IKE_CP_INTERNAL_IP6_DHCP:
		return len == 0 || len == 16;
	case IKE_CP_INTERNAL_IP4_SUBNET:
		return len == 0 || len == 8;
	case IKE_CP_SUPPORTED_ATTRIBUTES:
		return len % 2 == 0;
	}
	return true;
}

static int parse_cp(struct wire_rd *r, struct ike_cp *cp)
{
	uint8_t type = wire_get_u8(r);

	wire_skip(r, 3);
	if (r->err)
		return IKE_ERR_LENGTH;
	if (type < IKE_CFG_REQUEST || type > IKE_CFG_ACK)
		return IKE_ERR_SYNTAX;
	cp->type = type;
	cp->n_attrs = 0;
	while (wire_left(r) > 0) {
		uint16_t at = wire_get_u16(r) & 0x7fff; /* R bit: reserved */
		uint16_t len = wire_get_u16(r);
		const uint8_t *v;

		if (r->err || !(v = wire_get_bytes(r, len)))
			return IKE_ERR_LENGTH;
		if (!cp_len_ok(at, len))
			return IKE_ERR_LENGTH;
		if (cp->n_attrs == IKE_MAX_CP_ATTRS)
			return IKE_ERR_TOO_MANY;
		cp->a[cp->n_attrs].type = at;
		cp->a[cp->n_attrs].len = len;
		cp->a[cp->n_attrs].value = v;
		cp->n_attrs++;
	}
	return IKE_OK;
}

/* §3.16: the EAP message's own Length must equal the payload's. */
static int parse_eap(struct wire_rd *r, struct ike_msg *m)
{
	size_t n = wire_left(r);
	const uint8_t *p = wire_get_bytes(r, n);

	if (n < 4 || wire_load16(p + 2) != n)
		return IKE_ERR_LENGTH;
	m->eap.data = p;
	m->eap.len = n;
	return IKE_OK;
}

/* --- §3.14 SK, RFC 7383 §2.5 SKF ------------------------------------------ */

static int parse_skf(struct wire_rd *r, struct ike_sk *sk)
{
	uint16_t num = wire_get_u16(r), total = wire_get_u16(r);

	if (r->err)
		return IKE_ERR_LENGTH;
	/* RFC 7383 §2.6: number 1..total, total never 0. */
	if (num == 0 || total == 0 || num > total)
		return IKE_ERR_SYNTAX;
	sk->frag_num = num;
	sk->frag_total = total;
	return IKE_OK;
}

/* --- chain ---------------------------------------------------------------- */

/* Payloads that may appear at most once per message. */
static bool singleton(uint8_t type)
{
	switch (type) {
	case IKE_PL_SA:
	case IKE_PL_KE:
	case IKE_PL_IDI:
	case IKE_PL_IDR:
	case IKE_PL_AUTH:
	case IKE_PL_NONCE:
	case IKE_PL_TSI:
	case IKE_PL_TSR:
	case IKE_PL_CP:
	case IKE_PL_EAP:
	case IKE_PL_SK:
	case IKE_PL_SKF:
		return true;
	}
	return false;
}

/* Parse one known payload body; 1 if the type is unknown. */
static int parse_one(struct ike_msg *m, uint8_t type, struct wire_rd *r)
{
	int rc;

	switch (type) {
	case IKE_PL_SA:
		return parse_sa(r, m);
	case IKE_PL_KE:
		return parse_ke(r, m);
	case IKE_PL_IDI:
		return parse_id(r, &m->idi);
	case IKE_PL_IDR:
		return parse_id(r, &m->idr);
	case IKE_PL_CERT:
		if (m->n_cert == IKE_MAX_CERT)
			return IKE_ERR_TOO_MANY;
		if ((rc = parse_cert(r, &m->cert[m->n_cert], false)) == 0)
			m->n_cert++;
		return rc;
	case IKE_PL_CERTREQ:
		if (m->n_certreq == IKE_MAX_CERTREQ)
			return IKE_ERR_TOO_MANY;
		if ((rc = parse_cert(r, &m->certreq[m->n_certreq], true)) == 0)
			m->n_certreq++;
		return rc;
	case IKE_PL_AUTH:
		return parse_auth(r, m);
	case IKE_PL_NONCE:
		return parse_nonce(r, m);
	case IKE_PL_NOTIFY:
		if (m->n_notify == IKE_MAX_NOTIFY)
			return IKE_ERR_TOO_MANY;
		if ((rc = parse_notify(r, &m->notify[m->n_notify])) == 0)
			m->n_notify++;
		return rc;
	case IKE_PL_DELETE:
		if (m->n_delete == IKE_MAX_DELETE)
			return IKE_ERR_TOO_MANY;
		if ((rc = parse_delete(r, &m->del[m->n_delete])) == 0)
			m->n_delete++;
		return rc;
	case IKE_PL_VENDOR:
		if (m->n_vendor == IKE_MAX_VENDOR)
			return IKE_ERR_TOO_MANY;
		if ((rc = parse_blob(r, &m->vendor[m->n_vendor], 1)) == 0)
			m->n_vendor++;
		return rc;
	case IKE_PL_TSI:
		return parse_ts(r, &m->tsi);
	case IKE_PL_TSR:
		return parse_ts(r, &m->tsr);
	case IKE_PL_CP:
		return parse_cp(r, &m->cp);
	case IKE_PL_EAP:
		return parse_eap(r, m);
	}
	return 1;
}

int ike_chain_parse(struct ike_msg *m, uint8_t np, const uint8_t *buf, size_t len, size_t base,
                    bool inner)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	while (np != IKE_PL_NONE) {
		struct wire_rd body;
		size_t start = r.off;
		uint8_t next = wire_get_u8(&r), flags = wire_get_u8(&r);
		uint16_t plen = wire_get_u16(&r);
		int rc;

		/* The previous Next Payload promised a payload: its generic
		 * header must be there, and its length within the chain. */
		if (r.err || plen < IKE_GEN_HDR_LEN || !wire_sub(&r, plen - IKE_GEN_HDR_LEN, &body))
			return IKE_ERR_LENGTH;
		if (m->n_payloads == IKE_MAX_PAYLOADS)
			return IKE_ERR_TOO_MANY;
		m->order[m->n_payloads++] = np;

		if (np == IKE_PL_SK || np == IKE_PL_SKF) {
			/* §3.14: SK is the last payload; nested SK is
			 * nonsense; SK and SKF never share a message. */
			if (inner || ike_msg_has(m, IKE_PL_SK) || ike_msg_has(m, IKE_PL_SKF))
				return IKE_ERR_SYNTAX;
			if (wire_left(&r) != 0)
				return IKE_ERR_LENGTH;
			memset(&m->sk, 0, sizeof(m->sk));
			if (np == IKE_PL_SKF && (rc = parse_skf(&body, &m->sk)) < 0)
				return rc;
			m->sk.inner_np = next;
			m->sk.off = base + start + IKE_GEN_HDR_LEN + body.off;
			m->sk.len = wire_left(&body);
			m->seen |= type_bit(np);
			return (int)len;
		}
		if (np >= 32 && np < 96 && singleton(np) && ike_msg_has(m, np))
			return IKE_ERR_SYNTAX;
		rc = parse_one(m, np, &body);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			/* §2.5: unknown and critical → reject the message with
			 * UNSUPPORTED_CRITICAL_PAYLOAD; otherwise skip it. */
			if (flags & IKE_CRITICAL) {
				m->unsupported_critical = np;
				return IKE_ERR_UNSUPPORTED_CRITICAL;
			}
			m->n_unknown++;
		} else {
			/* A known payload must use every byte it declared. */
			if (wire_left(&body) != 0)
				return IKE_ERR_LENGTH;
			m->seen |= type_bit(np);
		}
		np = next;
	}
	if (wire_left(&r) != 0)
		return IKE_ERR_LENGTH; /* bytes after the last payload */
	return (int)len;
}

/* --- building ------------------------------------------------------------- */

static void set_err(struct ike_build *b, int err)
{
	if (!b->err)
		b->err = err;
}

static int sticky(struct ike_build *b)
{
	if (b->w.err)
		set_err(b, IKE_ERR_NOSPACE);
	return b->err;
}

void ike_build_init(struct ike_build *b, uint8_t *buf, size_t cap, const struct ike_hdr *h)
{
	memset(b, 0, sizeof(*b));
	wire_wr_init(&b->w, buf, cap);
	b->has_hdr = true;
	wire_put_u64(&b->w, h->spi_i);
	wire_put_u64(&b->w, h->spi_r);
	b->np_off = b->w.off;
	wire_put_u8(&b->w, IKE_PL_NONE);
	wire_put_u8(&b->w, (uint8_t)(IKE_MAJOR_VERSION << 4 | (h->minor & 0x0f)));
	wire_put_u8(&b->w, h->exchange);
	wire_put_u8(&b->w, h->flags);
	wire_put_u32(&b->w, h->msg_id);
	wire_put_u32(&b->w, 0); /* patched by ike_build_finish() */
	(void)sticky(b);
}

void ike_build_chain_init(struct ike_build *b, uint8_t *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	wire_wr_init(&b->w, buf, cap);
	b->np_off = SIZE_MAX; /* the first type goes to first_np */
}

/* Start a payload: chain it behind the previous one. Returns its offset. */
static size_t begin(struct ike_build *b, uint8_t type, bool critical)
{
	size_t start = b->w.off;

	if (b->np_off == SIZE_MAX)
		b->first_np = type;
	else if (!b->w.err)
		b->w.p[b->np_off] = type;
	b->np_off = start;
	wire_put_u8(&b->w, IKE_PL_NONE);
	wire_put_u8(&b->w, critical ? IKE_CRITICAL : 0);
	wire_put_u16(&b->w, 0);
	return start;
}

static int end(struct ike_build *b, size_t start)
{
	if (sticky(b))
		return b->err;
	if (b->w.off - start > 0xffff) {
		set_err(b, IKE_ERR_INVAL);
		return b->err;
	}
	wire_patch_u16(&b->w, start + 2, (uint16_t)(b->w.off - start));
	return sticky(b);
}

int ike_build_raw(struct ike_build *b, uint8_t type, bool critical, const uint8_t *body, size_t len)
{
	size_t s;

	if (b->err)
		return b->err;
	s = begin(b, type, critical);
	wire_put_bytes(&b->w, body, len);
	return end(b, s);
}

int ike_build_sa(struct ike_build *b, const struct ike_sa_pl *sa)
{
	size_t s;

	if (b->err)
		return b->err;
	if (sa->n_proposals == 0 || sa->n_proposals > IKE_MAX_PROPOSALS) {
		set_err(b, IKE_ERR_INVAL);
		return b->err;
	}
	s = begin(b, IKE_PL_SA, false);
	for (unsigned i = 0; i < sa->n_proposals; i++) {
		const struct ike_proposal *p = &sa->p[i];
		size_t ps = b->w.off;

		if (p->spi_len > IKE_MAX_SPI || p->n_transforms > IKE_MAX_TRANSFORMS) {
			set_err(b, IKE_ERR_INVAL);
			return b->err;
		}
		wire_put_u8(&b->w, i + 1 < sa->n_proposals ? 2 : 0);
		wire_put_u8(&b->w, 0);
		wire_put_u16(&b->w, 0);
		wire_put_u8(&b->w, p->num);
		wire_put_u8(&b->w, p->proto);
		wire_put_u8(&b->w, p->spi_len);
		wire_put_u8(&b->w, (uint8_t)p->n_transforms);
		wire_put_bytes(&b->w, p->spi, p->spi_len);
		for (unsigned j = 0; j < p->n_transforms; j++) {
			const struct ike_transform *t = &p->t[j];

			wire_put_u8(&b->w, j + 1 < p->n_transforms ? 3 : 0);
			wire_put_u8(&b->w, 0);
			wire_put_u16(&b->w, t->key_bits ? 12 : 8);
			wire_put_u8(&b->w, t->type);
			wire_put_u8(&b->w, 0);
			wire_put_u16(&b->w, t->id);
			if (t->key_bits) {
				wire_put_u16(&b->w, IKE_ATTR_AF | IKE_ATTR_KEY_LENGTH);
				wire_put_u16(&b->w, t->key_bits);
			}
		}
		if (!b->w.err && b->w.off - ps > 0xffff) {
			set_err(b, IKE_ERR_INVAL);
			return b->err;
		}
		wire_patch_u16(&b->w, ps + 2, (uint16_t)(b->w.off - ps));
	}
	return end(b, s);
}

int ike_build_ke(struct ike_build *b, const struct ike_ke *ke)
{
	size_t s;

	if (b->err)
		return b->err;
	s = begin(b, IKE_PL_KE, false);
	wire_put_u16(&b->w, ke->group);
	wire_put_u16(&b->w, 0);
	wire_put_bytes(&b->w, ke->data, ke->len);
	return end(b, s);
}

/* Type byte, three reserved, data: ID and AUTH share this shape. */
static int build_typed(struct ike_build *b, uint8_t pl, uint8_t type, const uint8_t *data,
                       size_t len)
{
	size_t s;

	if (b->err)
		return b->err;
	s = begin(b, pl, false);
	wire_put_u8(&b->w, type);
	wire_put_zero(&b->w, 3);
	wire_put_bytes(&b->w, data, len);
	return end(b, s);
}

int ike_build_id(struct ike_build *b, uint8_t type, const struct ike_id *id)
{
	if (type != IKE_PL_IDI && type != IKE_PL_IDR)
		set_err(b, IKE_ERR_INVAL);
	return build_typed(b, type, id->type, id->data, id->len);
}

int ike_build_auth(struct ike_build *b, const struct ike_auth *a)
{
	return build_typed(b, IKE_PL_AUTH, a->method, a->data, a->len);
}

int ike_build_cert(struct ike_build *b, uint8_t type, const struct ike_cert *c)
{
	size_t s;

	if (type != IKE_PL_CERT && type != IKE_PL_CERTREQ)
		set_err(b, IKE_ERR_INVAL);
	if (b->err)
		return b->err;
	s = begin(b, type, false);
	wire_put_u8(&b->w, c->encoding);
	wire_put_bytes(&b->w, c->data, c->len);
	return end(b, s);
}

int ike_build_nonce(struct ike_build *b, const uint8_t *nonce, size_t len)
{
	if (len < IKE_NONCE_MIN || len > IKE_NONCE_MAX)
		set_err(b, IKE_ERR_INVAL);
	return ike_build_raw(b, IKE_PL_NONCE, false, nonce, len);
}

int ike_build_notify(struct ike_build *b, const struct ike_notify *n)
{
	size_t s;

	if (n->spi_len > IKE_MAX_SPI)
		set_err(b, IKE_ERR_INVAL);
	if (b->err)
		return b->err;
	s = begin(b, IKE_PL_NOTIFY, false);
	wire_put_u8(&b->w, n->proto);
	wire_put_u8(&b->w, n->spi_len);
	wire_put_u16(&b->w, n->type);
	wire_put_bytes(&b->w, n->spi, n->spi_len);
	wire_put_bytes(&b->w, n->data, n->len);
	return end(b, s);
}

int ike_build_delete(struct ike_build *b, const struct ike_delete *d)
{
	size_t s;

	if (b->err)
		return b->err;
	s = begin(b, IKE_PL_DELETE, false);
	wire_put_u8(&b->w, d->proto);
	wire_put_u8(&b->w, d->spi_len);
	wire_put_u16(&b->w, d->n_spi);
	wire_put_bytes(&b->w, d->spis, (size_t)d->spi_len * d->n_spi);
	return end(b, s);
}

int ike_build_vendor(struct ike_build *b, const uint8_t *vid, size_t len)
{
	return ike_build_raw(b, IKE_PL_VENDOR, false, vid, len);
}

int ike_build_ts(struct ike_build *b, uint8_t type, const struct ike_ts_pl *tp)
{
	size_t s;

	if ((type != IKE_PL_TSI && type != IKE_PL_TSR) || tp->n_ts == 0 || tp->n_ts > IKE_MAX_TS)
		set_err(b, IKE_ERR_INVAL);
	if (b->err)
		return b->err;
	s = begin(b, type, false);
	wire_put_u8(&b->w, (uint8_t)tp->n_ts);
	wire_put_zero(&b->w, 3);
	for (unsigned i = 0; i < tp->n_ts; i++) {
		const struct ike_ts *t = &tp->ts[i];
		size_t alen;

		if (t->type == IKE_TS_IPV4_ADDR_RANGE)
			alen = 4;
		else if (t->type == IKE_TS_IPV6_ADDR_RANGE)
			alen = 16;
		else {
			set_err(b, IKE_ERR_INVAL);
			return b->err;
		}
		wire_put_u8(&b->w, t->type);
		wire_put_u8(&b->w, t->proto);
		wire_put_u16(&b->w, (uint16_t)(8 + 2 * alen));
		wire_put_u16(&b->w, t->start_port);
		wire_put_u16(&b->w, t->end_port);
		wire_put_bytes(&b->w, t->start, alen);
		wire_put_bytes(&b->w, t->end, alen);
	}
	return end(b, s);
}

int ike_build_cp(struct ike_build *b, const struct ike_cp *cp)
{
	size_t s;

	if (cp->n_attrs > IKE_MAX_CP_ATTRS)
		set_err(b, IKE_ERR_INVAL);
	if (b->err)
		return b->err;
	s = begin(b, IKE_PL_CP, false);
	wire_put_u8(&b->w, cp->type);
	wire_put_zero(&b->w, 3);
	for (unsigned i = 0; i < cp->n_attrs; i++) {
		wire_put_u16(&b->w, cp->a[i].type & 0x7fff);
		wire_put_u16(&b->w, cp->a[i].len);
		wire_put_bytes(&b->w, cp->a[i].value, cp->a[i].len);
	}
	return end(b, s);
}

int ike_build_eap(struct ike_build *b, const uint8_t *eap, size_t len)
{
	return ike_build_raw(b, IKE_PL_EAP, false, eap, len);
}

int ike_build_finish(struct ike_build *b, uint8_t *first_np)
{
	if (sticky(b))
		return b->err;
	if (b->has_hdr) {
		wire_patch_u32(&b->w, 24, (uint32_t)b->w.off);
	} else if (first_np) {
		*first_np = b->first_np;
	}
	if (sticky(b))
		return b->err;
	if (b->w.off > INT32_MAX)
		return IKE_ERR_INVAL;
	return (int)b->w.off;
}
