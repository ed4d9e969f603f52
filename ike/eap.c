/* EAP framing and the server / peer conversations; see eap.h. */
#include "ike/eap.h"

#include <string.h>

#include <sodium.h>

#include "ike/wire.h"

int eap_parse(const uint8_t *buf, size_t len, struct eap_pkt *out)
{
	size_t plen;

	memset(out, 0, sizeof(*out));
	if (len < EAP_HDR_LEN)
		return IKE_ERR_SHORT;
	plen = wire_load16(buf + 2);
	if (plen < EAP_HDR_LEN)
		return IKE_ERR_LENGTH;
	if (plen > len)
		return IKE_ERR_SHORT;

	switch (buf[0]) {
	case EAP_CODE_SUCCESS:
	case EAP_CODE_FAILURE:
		/* §4.2: nothing but the header. */
		if (plen != EAP_HDR_LEN)
			return IKE_ERR_LENGTH;
		break;
	case EAP_CODE_REQUEST:
	case EAP_CODE_RESPONSE:
		if (plen < EAP_MIN_REQ_LEN)
			return IKE_ERR_LENGTH;
		break;
	default:
		return IKE_ERR_SYNTAX;
	}

	out->code = buf[0];
	out->id = buf[1];
	out->len = (uint16_t)plen;
	if (plen == EAP_HDR_LEN)
		return (int)plen;
	out->type = buf[4];
	out->data = buf + EAP_MIN_REQ_LEN;
	out->data_len = plen - EAP_MIN_REQ_LEN;

	switch (out->type) {
	case 0:
		/* Unassigned (IANA), and 0 is what eap_pkt says for
		 * Success and Failure. */
		goto syntax;
	case EAP_TYPE_NAK:
		/* §5.3.1: only in a Response, and it lists at least one Type
		 * (0 alone: "no viable alternative"). */
		if (out->code != EAP_CODE_RESPONSE)
			goto syntax;
		if (out->data_len == 0)
			goto length;
		break;
	case EAP_TYPE_NOTIFICATION:
		/* §5.2: the Request's message is "greater than zero octets",
		 * the Response's Type-Data zero octets. */
		if ((out->code == EAP_CODE_REQUEST) != (out->data_len > 0))
			goto length;
		break;
	case EAP_TYPE_EXPANDED:
		if (out->data_len < EAP_EXPANDED_HDR - 1)
			goto length;
		break;
	default:
		break;
	}
	return (int)plen;

length:
	memset(out, 0, sizeof(*out));
	return IKE_ERR_LENGTH;
syntax:
	memset(out, 0, sizeof(*out));
	return IKE_ERR_SYNTAX;
}

int eap_build(uint8_t *out, size_t cap, uint8_t code, uint8_t id, uint8_t type,
              const uint8_t *data, size_t data_len)
{
	size_t n = EAP_MIN_REQ_LEN + data_len;

	if ((code != EAP_CODE_REQUEST && code != EAP_CODE_RESPONSE) || data_len > 0xffff - 5)
		return IKE_ERR_INVAL;
	if (n > cap)
		return IKE_ERR_NOSPACE;
	out[0] = code;
	out[1] = id;
	wire_store16(out + 2, (uint16_t)n);
	out[4] = type;
	if (data_len)
		memcpy(out + EAP_MIN_REQ_LEN, data, data_len);
	return (int)n;
}

int eap_build_result(uint8_t *out, size_t cap, bool success, uint8_t id)
{
	if (cap < EAP_HDR_LEN)
		return IKE_ERR_NOSPACE;
	out[0] = success ? EAP_CODE_SUCCESS : EAP_CODE_FAILURE;
	out[1] = id;
	wire_store16(out + 2, EAP_HDR_LEN);
	return EAP_HDR_LEN;
}

bool eap_nak_lists(const struct eap_pkt *nak, uint8_t type)
{
	if (nak->type != EAP_TYPE_NAK || type == 0)
		return false;
	for (size_t i = 0; i < nak->data_len; i++)
		if (nak->data[i] == type)
			return true;
	return false;
}

static int check_methods(const struct eap_method *methods, size_t n)
{
	if (n == 0 || n > EAP_METHODS_MAX)
		return IKE_ERR_INVAL;
	for (size_t i = 0; i < n; i++)
		if (!methods[i].ops || !methods[i].ops->process)
			return IKE_ERR_INVAL;
	return IKE_OK;
}

/* ---- server --------------------------------------------------------------- */

int eap_server_init(struct eap_server *s, const struct eap_method *methods, size_t n,
                    bool ask_identity, const uint8_t *ike_id, size_t ike_id_len,
                    uint8_t first_id)
{
	memset(s, 0, sizeof(*s));
	if (check_methods(methods, n) < 0 || ike_id_len > EAP_IDENTITY_MAX)
		return IKE_ERR_INVAL;
	memcpy(s->methods, methods, n * sizeof(*methods));
	s->n_methods = n;
	if (ike_id_len)
		memcpy(s->identity, ike_id, ike_id_len);
	s->identity_len = ike_id_len;
	s->ask_identity = ask_identity;
	/* The Identifier is incremented before each Request we send. */
	s->id = (uint8_t)(first_id - 1);
	s->state = EAP_SRV_IDLE;
	return IKE_OK;
}

/* End the conversation: Success or Failure into out. */
static int server_finish(struct eap_server *s, bool success, int why, uint8_t *out, size_t cap,
                         size_t *out_len)
{
	/* §4.2: the Identifier of the Response being answered. */
	int n = eap_build_result(out, cap, success, s->id);

	if (n < 0)
		return n;
	*out_len = (size_t)n;
	s->state = EAP_SRV_DONE;
	s->result = success ? EAP_SUCCESS : EAP_FAILURE;
	s->why = success ? IKE_OK : why;
	return s->result;
}

/*
 * Start methods[i]: its first Request. The method writes its Type-Data
 * behind the header we reserve, so that nothing is copied.
 */
static int server_begin(struct eap_server *s, size_t i, uint8_t *out, size_t cap,
                        size_t *out_len)
{
	const struct eap_method *m = &s->methods[i];
	size_t tlen = 0;
	int rc;

	if (cap < EAP_MIN_REQ_LEN)
		return IKE_ERR_NOSPACE;
	rc = m->ops->process(m->st, NULL, out + EAP_MIN_REQ_LEN, cap - EAP_MIN_REQ_LEN, &tlen);
	if (rc == IKE_ERR_NOSPACE)
		return rc;
	s->cur = i;
	s->tried |= (uint8_t)(1u << i);
	s->answered = false;
	if (rc != EAP_SEND)
		return server_finish(s, false, rc < 0 ? rc : IKE_ERR_INVAL, out, cap, out_len);
	s->id++;
	s->state = EAP_SRV_METHOD;
	rc = eap_build(out, cap, EAP_CODE_REQUEST, s->id, m->ops->type, out + EAP_MIN_REQ_LEN,
	               tlen);
	if (rc < 0)
		return server_finish(s, false, rc, out, cap, out_len);
	*out_len = (size_t)rc;
	return EAP_SEND;
}

int eap_server_start(struct eap_server *s, uint8_t *out, size_t cap, size_t *out_len)
{
	int rc;

	*out_len = 0;
	if (s->state != EAP_SRV_IDLE || s->n_methods == 0)
		return IKE_ERR_INVAL;
	if (s->ask_identity) {
		/* §5.1: an empty Request/Identity (no displayable prompt). */
		rc = eap_build(out, cap, EAP_CODE_REQUEST, (uint8_t)(s->id + 1), EAP_TYPE_IDENTITY,
		               NULL, 0);
		if (rc < 0)
			return rc;
		s->id++;
		s->state = EAP_SRV_IDENTITY;
		*out_len = (size_t)rc;
		return EAP_SEND;
	}
	return server_begin(s, 0, out, cap, out_len);
}

/* §5.1: the identity the peer gave; an empty one keeps the IKE identity. */
static int take_identity(struct eap_server *s, const struct eap_pkt *p)
{
	size_t n = p->data_len;

	/* Some peers terminate it with NULs; none belongs in an identity. */
	while (n > 0 && p->data[n - 1] == 0)
		n--;
	if (n > EAP_IDENTITY_MAX)
		return IKE_ERR_LENGTH;
	if (memchr(p->data, 0, n))
		return IKE_ERR_SYNTAX;
	if (n == 0)
		return IKE_OK;
	memcpy(s->identity, p->data, n);
	s->identity_len = n;
	return IKE_OK;
}

/* §5.3.1: the first of our methods not offered yet that the Nak lists. */
static int server_nak(struct eap_server *s, const struct eap_pkt *p, uint8_t *out, size_t cap,
                      size_t *out_len)
{
	if (s->answered)
		/* §2.1: once the peer answered a method, it may not back out. */
		return server_finish(s, false, IKE_ERR_SYNTAX, out, cap, out_len);
	for (size_t i = 0; i < s->n_methods; i++) {
		if (s->tried & (1u << i) || !eap_nak_lists(p, s->methods[i].ops->type))
			continue;
		return server_begin(s, i, out, cap, out_len);
	}
	return server_finish(s, false, IKE_ERR_AUTH, out, cap, out_len);
}

int eap_server_process(struct eap_server *s, const uint8_t *in, size_t in_len, uint8_t *out,
                       size_t cap, size_t *out_len)
{
	const struct eap_method *m;
	struct eap_pkt p;
	size_t tlen = 0;
	int rc;

	*out_len = 0;
	if (s->state != EAP_SRV_IDENTITY && s->state != EAP_SRV_METHOD)
		return IKE_ERR_INVAL;
	/* Whatever happens next, Success or Failure must fit. */
	if (cap < EAP_HDR_LEN)
		return IKE_ERR_NOSPACE;

	rc = eap_parse(in, in_len, &p);
	if (rc < 0)
		return server_finish(s, false, rc, out, cap, out_len);
	if ((size_t)rc != in_len || p.code != EAP_CODE_RESPONSE || p.id != s->id)
		/* §4.1: a Response answers the outstanding Request, by
		 * Identifier; IKE never delivers an old one twice. */
		return server_finish(s, false, IKE_ERR_SYNTAX, out, cap, out_len);

	if (s->state == EAP_SRV_IDENTITY) {
		/* A Nak too: §5.3.1 allows it only against a method. */
		if (p.type != EAP_TYPE_IDENTITY)
			return server_finish(s, false, IKE_ERR_SYNTAX, out, cap, out_len);
		rc = take_identity(s, &p);
		if (rc < 0)
			return server_finish(s, false, rc, out, cap, out_len);
		return server_begin(s, 0, out, cap, out_len);
	}

	m = &s->methods[s->cur];
	if (p.type == EAP_TYPE_NAK)
		return server_nak(s, &p, out, cap, out_len);
	if (p.type != m->ops->type)
		return server_finish(s, false, IKE_ERR_SYNTAX, out, cap, out_len);
	if (cap < EAP_MIN_REQ_LEN)
		return IKE_ERR_NOSPACE;
	rc = m->ops->process(m->st, &p, out + EAP_MIN_REQ_LEN, cap - EAP_MIN_REQ_LEN, &tlen);
	if (rc == IKE_ERR_NOSPACE)
		return rc;
	s->answered = true;
	switch (rc) {
	case EAP_SEND:
		s->id++;
		rc = eap_build(out, cap, EAP_CODE_REQUEST, s->id, m->ops->type,
		               out + EAP_MIN_REQ_LEN, tlen);
		if (rc < 0)
			return server_finish(s, false, rc, out, cap, out_len);
		*out_len = (size_t)rc;
		return EAP_SEND;
	case EAP_SUCCESS:
		return server_finish(s, true, IKE_OK, out, cap, out_len);
	case EAP_FAILURE:
		return server_finish(s, false, IKE_ERR_AUTH, out, cap, out_len);
	default:
		return server_finish(s, false, rc < 0 ? rc : IKE_ERR_INVAL, out, cap, out_len);
	}
}

int eap_server_msk(const struct eap_server *s, uint8_t msk[EAP_MSK_MAX])
{
	const struct eap_method *m = &s->methods[s->cur];

	if (s->state != EAP_SRV_DONE || s->result != EAP_SUCCESS || !m->ops->msk)
		return IKE_ERR_INVAL;
	return m->ops->msk(m->st, msk);
}

const uint8_t *eap_server_identity(const struct eap_server *s, size_t *len)
{
	*len = s->identity_len;
	return s->identity;
}

const struct eap_method *eap_server_method(const struct eap_server *s)
{
	if (!(s->tried & (1u << s->cur)))
		return NULL;
	return &s->methods[s->cur];
}

/* ---- peer ----------------------------------------------------------------- */

int eap_peer_init(struct eap_peer *p, const struct eap_method *methods, size_t n,
                  const uint8_t *identity, size_t identity_len)
{
	memset(p, 0, sizeof(*p));
	if (check_methods(methods, n) < 0 || identity_len > EAP_IDENTITY_MAX)
		return IKE_ERR_INVAL;
	memcpy(p->methods, methods, n * sizeof(*methods));
	p->n_methods = n;
	if (identity_len)
		memcpy(p->identity, identity, identity_len);
	p->identity_len = identity_len;
	p->state = EAP_PEER_IDLE;
	return IKE_OK;
}

static int peer_fail(struct eap_peer *p, int why)
{
	p->state = EAP_PEER_DONE;
	p->result = EAP_FAILURE;
	p->why = why;
	return EAP_FAILURE;
}

static int peer_respond(uint8_t type, uint8_t id, const uint8_t *data, size_t len, uint8_t *out,
                        size_t cap, size_t *out_len)
{
	int rc = eap_build(out, cap, EAP_CODE_RESPONSE, id, type, data, len);

	if (rc < 0)
		return rc;
	*out_len = (size_t)rc;
	return EAP_SEND;
}

/* A Request for a method we do not run: §5.3.1's Nak with ours. */
static int peer_nak(struct eap_peer *p, uint8_t id, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t types[EAP_METHODS_MAX];

	for (size_t i = 0; i < p->n_methods; i++)
		types[i] = p->methods[i].ops->type;
	return peer_respond(EAP_TYPE_NAK, id, types, p->n_methods, out, cap, out_len);
}

static int peer_method(struct eap_peer *p, const struct eap_pkt *r, uint8_t *out, size_t cap,
                       size_t *out_len)
{
	const struct eap_method *m;
	size_t tlen = 0;
	int rc;

	if (p->state == EAP_PEER_IDLE) {
		size_t i;

		for (i = 0; i < p->n_methods; i++)
			if (p->methods[i].ops->type == r->type)
				break;
		if (i == p->n_methods)
			return peer_nak(p, r->id, out, cap, out_len);
		p->cur = i;
		p->state = EAP_PEER_METHOD;
	} else if (p->state != EAP_PEER_METHOD || r->type != p->methods[p->cur].ops->type) {
		/* §2.1: no switching methods once one is under way; after the
		 * method ended only Success or Failure may come. */
		return peer_fail(p, IKE_ERR_SYNTAX);
	}

	m = &p->methods[p->cur];
	if (cap < EAP_MIN_REQ_LEN)
		return IKE_ERR_NOSPACE;
	rc = m->ops->process(m->st, r, out + EAP_MIN_REQ_LEN, cap - EAP_MIN_REQ_LEN, &tlen);
	if (rc == IKE_ERR_NOSPACE)
		return rc;
	if (rc < 0)
		return peer_fail(p, rc);
	if (rc == EAP_SUCCESS)
		p->state = EAP_PEER_SATISFIED;
	else if (rc == EAP_FAILURE)
		p->state = EAP_PEER_FAILING;
	if (rc != EAP_SEND && tlen == 0)
		/* Every Request wants a Response (§4.1): a method that ends
		 * without one has failed, whatever it says. */
		return peer_fail(p, rc == EAP_FAILURE ? IKE_ERR_AUTH : IKE_ERR_INVAL);
	rc = eap_build(out, cap, EAP_CODE_RESPONSE, r->id, m->ops->type, out + EAP_MIN_REQ_LEN,
	               tlen);
	if (rc < 0)
		return peer_fail(p, rc);
	*out_len = (size_t)rc;
	return EAP_SEND;
}

int eap_peer_process(struct eap_peer *p, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t cap, size_t *out_len)
{
	struct eap_pkt r;
	int rc;

	*out_len = 0;
	if (p->state == EAP_PEER_DONE)
		return IKE_ERR_INVAL;
	rc = eap_parse(in, in_len, &r);
	if (rc < 0)
		return peer_fail(p, rc);
	if ((size_t)rc != in_len)
		return peer_fail(p, IKE_ERR_LENGTH);

	switch (r.code) {
	case EAP_CODE_SUCCESS:
		/* Only a method that verified the server earns Success. The
		 * Identifier is not checked: IKE pairs the messages already,
		 * and an unearned Success fails whatever its Identifier. */
		if (p->state != EAP_PEER_SATISFIED)
			return peer_fail(p, IKE_ERR_AUTH);
		p->state = EAP_PEER_DONE;
		p->result = EAP_SUCCESS;
		return EAP_SUCCESS;
	case EAP_CODE_FAILURE:
		return peer_fail(p, IKE_ERR_AUTH);
	case EAP_CODE_REQUEST:
		break;
	default:
		/* A Response sent to the peer. */
		return peer_fail(p, IKE_ERR_SYNTAX);
	}

	switch (r.type) {
	case EAP_TYPE_IDENTITY:
		/* §5.1; once a method runs, the server knows who we are. */
		if (p->state != EAP_PEER_IDLE)
			return peer_fail(p, IKE_ERR_SYNTAX);
		return peer_respond(EAP_TYPE_IDENTITY, r.id, p->identity, p->identity_len, out, cap,
		                    out_len);
	case EAP_TYPE_NOTIFICATION:
		/* §5.2: acknowledged with an empty Response, in any state. */
		return peer_respond(EAP_TYPE_NOTIFICATION, r.id, NULL, 0, out, cap, out_len);
	default:
		/* An Expanded Type (§5.7) too: we run none, so it is Nak'ed. */
		return peer_method(p, &r, out, cap, out_len);
	}
}

int eap_peer_msk(const struct eap_peer *p, uint8_t msk[EAP_MSK_MAX])
{
	const struct eap_method *m = &p->methods[p->cur];

	if (p->state != EAP_PEER_DONE || p->result != EAP_SUCCESS || !m->ops->msk)
		return IKE_ERR_INVAL;
	return m->ops->msk(m->st, msk);
}
