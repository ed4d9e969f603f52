/*
 * ike/eap: the packet format of RFC 3748 §4 and §5 and the server / peer
 * conversations around a method (RFC 7296 §2.16), with a toy method that
 * takes one round: the server asks, the peer answers "ok" or "no".
 */
#include "tests/unit/test.h"

#include "ike/eap.h"
#include "ike/wire.h"

/* ---- §4 framing ------------------------------------------------------------ */

TEST(eap_rfc3748_4_parse_request_and_response)
{
	static const uint8_t req[] = {1, 7, 0, 9, EAP_TYPE_IDENTITY, 'u', 's', 'e', 'r'};
	static const uint8_t padded[] = {2, 8, 0, 5, EAP_TYPE_IDENTITY, 0xee, 0xee};
	struct eap_pkt p;

	REQUIRE_EQ(eap_parse(req, sizeof(req), &p), 9);
	CHECK_EQ(p.code, EAP_CODE_REQUEST);
	CHECK_EQ(p.id, 7);
	CHECK_EQ(p.len, 9);
	CHECK_EQ(p.type, EAP_TYPE_IDENTITY);
	CHECK_EQ(p.data_len, 4);
	CHECK_MEM(p.data, "user", 4);

	/* §4.1: bytes past Length are link padding: not part of it. */
	REQUIRE_EQ(eap_parse(padded, sizeof(padded), &p), 5);
	CHECK_EQ(p.code, EAP_CODE_RESPONSE);
	CHECK_EQ(p.data_len, 0); /* an empty Identity is well-formed (§5.1) */
}

TEST(eap_rfc3748_4_length_errors)
{
	/* { bytes, len, expected } */
	static const struct {
		uint8_t b[8];
		size_t len;
		int rc;
	} rows[] = {
	    {{1, 1, 0}, 3, IKE_ERR_SHORT},                   /* shorter than the header */
	    {{1, 1, 0, 9, 1, 'a'}, 6, IKE_ERR_SHORT},        /* Length > buffer */
	    {{1, 1, 0, 3, 1}, 5, IKE_ERR_LENGTH},            /* Length < 4 */
	    {{1, 1, 0, 0}, 4, IKE_ERR_LENGTH},               /* Length 0 */
	    {{1, 1, 0, 4}, 4, IKE_ERR_LENGTH},               /* Request without Type */
	    {{2, 1, 0, 4}, 4, IKE_ERR_LENGTH},               /* Response without Type */
	    {{3, 1, 0, 5, 26}, 5, IKE_ERR_LENGTH},           /* Success with a Type (§4.2) */
	    {{4, 1, 0, 6, 0, 0}, 6, IKE_ERR_LENGTH},         /* Failure with data */
	    {{5, 1, 0, 4}, 4, IKE_ERR_SYNTAX},               /* Code 5: unknown here */
	    {{0, 1, 0, 5, 1}, 5, IKE_ERR_SYNTAX},            /* Code 0 */
	    {{2, 1, 0, 5, 0}, 5, IKE_ERR_SYNTAX},            /* Type 0 */
	    {{2, 1, 0, 5, 3}, 5, IKE_ERR_LENGTH},            /* Nak listing nothing (§5.3.1) */
	    {{1, 1, 0, 6, 3, 26}, 6, IKE_ERR_SYNTAX},        /* Nak in a Request */
	    {{1, 1, 0, 5, 2}, 5, IKE_ERR_LENGTH},            /* Notification Request, no text (§5.2) */
	    {{2, 1, 0, 6, 2, 'x'}, 6, IKE_ERR_LENGTH},       /* Notification Response with text */
	    {{1, 1, 0, 8, 254, 0, 0, 0}, 8, IKE_ERR_LENGTH}, /* Expanded, short header (§5.7) */
	};
	struct eap_pkt p;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = eap_parse(rows[i].b, rows[i].len, &p);

		if (rc != rows[i].rc)
			test_fail(__FILE__, __LINE__, "row %zu: %d, want %d", i, rc, rows[i].rc);
		CHECK_EQ(p.len, 0); /* zeroed on error */
	}
}

TEST(eap_rfc3748_4_2_success_failure)
{
	static const uint8_t ok[] = {3, 9, 0, 4}, fail[] = {4, 9, 0, 4};
	struct eap_pkt p;
	uint8_t out[4];

	REQUIRE_EQ(eap_parse(ok, 4, &p), 4);
	CHECK_EQ(p.code, EAP_CODE_SUCCESS);
	CHECK_EQ(p.type, 0);
	CHECK_EQ(p.data_len, 0);
	REQUIRE_EQ(eap_parse(fail, 4, &p), 4);
	CHECK_EQ(p.code, EAP_CODE_FAILURE);

	CHECK_EQ(eap_build_result(out, 3, true, 9), IKE_ERR_NOSPACE);
	REQUIRE_EQ(eap_build_result(out, 4, true, 9), 4);
	CHECK_MEM(out, ok, 4);
	REQUIRE_EQ(eap_build_result(out, 4, false, 9), 4);
	CHECK_MEM(out, fail, 4);
}

TEST(eap_rfc3748_5_build_and_nak)
{
	static const uint8_t types[] = {EAP_TYPE_TLS, EAP_TYPE_MSCHAPV2};
	uint8_t out[16];
	struct eap_pkt p;

	CHECK_EQ(eap_build(out, sizeof(out), EAP_CODE_SUCCESS, 1, 0, NULL, 0), IKE_ERR_INVAL);
	CHECK_EQ(eap_build(out, 6, EAP_CODE_RESPONSE, 1, EAP_TYPE_NAK, types, 2), IKE_ERR_NOSPACE);
	REQUIRE_EQ(eap_build(out, 7, EAP_CODE_RESPONSE, 1, EAP_TYPE_NAK, types, 2), 7);
	REQUIRE_EQ(eap_parse(out, 7, &p), 7);
	CHECK(eap_nak_lists(&p, EAP_TYPE_MSCHAPV2));
	CHECK(eap_nak_lists(&p, EAP_TYPE_TLS));
	CHECK(!eap_nak_lists(&p, EAP_TYPE_MD5));
	CHECK(!eap_nak_lists(&p, 0));
}

/* ---- a toy method -------------------------------------------------------- */

struct toy {
	uint8_t type;
	bool server, answer_ok, done, ok;
	int rounds;
};

static int toy_process(void *st, const struct eap_pkt *in, uint8_t *out, size_t cap,
                       size_t *out_len)
{
	struct toy *t = st;

	*out_len = 0;
	if (cap < 2)
		return IKE_ERR_NOSPACE;
	t->rounds++;
	if (t->server) {
		if (!in) {
			memcpy(out, "?", 1);
			*out_len = 1;
			return EAP_SEND;
		}
		if (in->data_len != 2)
			return IKE_ERR_LENGTH;
		t->done = true;
		t->ok = memcmp(in->data, "ok", 2) == 0;
		return t->ok ? EAP_SUCCESS : EAP_FAILURE;
	}
	if (!in || in->data_len != 1 || in->data[0] != '?')
		return IKE_ERR_SYNTAX;
	memcpy(out, t->answer_ok ? "ok" : "no", 2);
	*out_len = 2;
	t->done = true;
	return t->answer_ok ? EAP_SUCCESS : EAP_FAILURE;
}

static int toy_msk(void *st, uint8_t msk[EAP_MSK_MAX])
{
	struct toy *t = st;

	if (!t->done || (t->server && !t->ok) || (!t->server && !t->answer_ok))
		return IKE_ERR_INVAL;
	memset(msk, t->type, EAP_MSK_MAX);
	return EAP_MSK_MAX;
}

static const struct eap_method_ops toy_tls = {EAP_TYPE_TLS, "toy-tls", toy_process, toy_msk};
static const struct eap_method_ops toy_ms = {EAP_TYPE_MSCHAPV2, "toy-ms", toy_process, toy_msk};

/* One round trip: the server's packet to the peer, the answer back. */
struct conv {
	struct eap_server s;
	struct eap_peer p;
	uint8_t req[256], resp[256];
	size_t req_len, resp_len;
};

TEST(eap_rfc7296_2_16_identity_then_method)
{
	struct toy st = {.type = EAP_TYPE_MSCHAPV2, .server = true};
	struct toy pt = {.type = EAP_TYPE_MSCHAPV2, .answer_ok = true};
	struct eap_method sm = {&toy_ms, &st}, pm = {&toy_ms, &pt};
	struct conv c;
	uint8_t msk1[EAP_MSK_MAX], msk2[EAP_MSK_MAX];
	const uint8_t *id;
	size_t id_len;

	REQUIRE_EQ(eap_server_init(&c.s, &sm, 1, true, (const uint8_t *)"10.0.0.2", 8, 200), 0);
	REQUIRE_EQ(eap_peer_init(&c.p, &pm, 1, (const uint8_t *)"carol", 5), 0);
	CHECK_EQ(eap_server_method(&c.s), NULL);

	REQUIRE_EQ(eap_server_start(&c.s, c.req, sizeof(c.req), &c.req_len), EAP_SEND);
	CHECK_EQ(eap_server_start(&c.s, c.resp, sizeof(c.resp), &c.resp_len), IKE_ERR_INVAL);
	/* Request/Identity, Identifier 200, no prompt */
	static const uint8_t idreq[] = {1, 200, 0, 5, 1};
	REQUIRE_EQ(c.req_len, 5);
	CHECK_MEM(c.req, idreq, 5);

	REQUIRE_EQ(eap_peer_process(&c.p, c.req, c.req_len, c.resp, sizeof(c.resp), &c.resp_len),
	           EAP_SEND);
	static const uint8_t idresp[] = {2, 200, 0, 10, 1, 'c', 'a', 'r', 'o', 'l'};
	REQUIRE_EQ(c.resp_len, 10);
	CHECK_MEM(c.resp, idresp, 10);

	REQUIRE_EQ(eap_server_process(&c.s, c.resp, c.resp_len, c.req, sizeof(c.req), &c.req_len),
	           EAP_SEND);
	static const uint8_t mreq[] = {1, 201, 0, 6, 26, '?'};
	REQUIRE_EQ(c.req_len, 6);
	CHECK_MEM(c.req, mreq, 6);
	id = eap_server_identity(&c.s, &id_len);
	REQUIRE_EQ(id_len, 5);
	CHECK_MEM(id, "carol", 5);

	REQUIRE_EQ(eap_peer_process(&c.p, c.req, c.req_len, c.resp, sizeof(c.resp), &c.resp_len),
	           EAP_SEND);
	CHECK_EQ(c.p.state, EAP_PEER_SATISFIED);
	CHECK_EQ(eap_peer_msk(&c.p, msk2), IKE_ERR_INVAL); /* not before Success */
	REQUIRE_EQ(eap_server_process(&c.s, c.resp, c.resp_len, c.req, sizeof(c.req), &c.req_len),
	           EAP_SUCCESS);
	static const uint8_t success[] = {3, 201, 0, 4};
	REQUIRE_EQ(c.req_len, 4);
	CHECK_MEM(c.req, success, 4);
	CHECK_EQ(eap_server_process(&c.s, c.resp, c.resp_len, c.resp, sizeof(c.resp), &id_len),
	         IKE_ERR_INVAL);

	REQUIRE_EQ(eap_peer_process(&c.p, c.req, c.req_len, c.resp, sizeof(c.resp), &c.resp_len),
	           EAP_SUCCESS);
	CHECK_EQ(c.resp_len, 0);
	REQUIRE_EQ(eap_server_msk(&c.s, msk1), EAP_MSK_MAX);
	REQUIRE_EQ(eap_peer_msk(&c.p, msk2), EAP_MSK_MAX);
	CHECK_MEM(msk1, msk2, EAP_MSK_MAX);
	CHECK_EQ(eap_server_method(&c.s), &c.s.methods[0]);
}

/* Android answers Request/Identity with nothing: the IKE identity stays. */
TEST(eap_rfc3748_5_1_empty_identity_keeps_ike_id)
{
	struct toy st = {.type = EAP_TYPE_MSCHAPV2, .server = true};
	struct eap_method sm = {&toy_ms, &st};
	static const uint8_t empty[] = {2, 1, 0, 5, 1};
	static const uint8_t nul_end[] = {2, 1, 0, 7, 1, 'a', 0};
	static const uint8_t nul_mid[] = {2, 1, 0, 7, 1, 0, 'a'};
	struct eap_server s;
	uint8_t out[64];
	size_t n, id_len;
	const uint8_t *id;

	REQUIRE_EQ(eap_server_init(&s, &sm, 1, true, (const uint8_t *)"android@x", 9, 1), 0);
	REQUIRE_EQ(eap_server_start(&s, out, sizeof(out), &n), EAP_SEND);
	REQUIRE_EQ(eap_server_process(&s, empty, sizeof(empty), out, sizeof(out), &n), EAP_SEND);
	id = eap_server_identity(&s, &id_len);
	REQUIRE_EQ(id_len, 9);
	CHECK_MEM(id, "android@x", 9);

	/* A trailing NUL is dropped; one inside is refused. */
	REQUIRE_EQ(eap_server_init(&s, &sm, 1, true, NULL, 0, 1), 0);
	REQUIRE_EQ(eap_server_start(&s, out, sizeof(out), &n), EAP_SEND);
	REQUIRE_EQ(eap_server_process(&s, nul_end, sizeof(nul_end), out, sizeof(out), &n),
	           EAP_SEND);
	id = eap_server_identity(&s, &id_len);
	REQUIRE_EQ(id_len, 1);
	CHECK_EQ(id[0], 'a');
	REQUIRE_EQ(eap_server_init(&s, &sm, 1, true, NULL, 0, 1), 0);
	REQUIRE_EQ(eap_server_start(&s, out, sizeof(out), &n), EAP_SEND);
	CHECK_EQ(eap_server_process(&s, nul_mid, sizeof(nul_mid), out, sizeof(out), &n),
	         EAP_FAILURE);
	CHECK_EQ(s.why, IKE_ERR_SYNTAX);
}

/* The server offers TLS first; a peer with MSCHAPv2 only Naks it (§5.3.1). */
TEST(eap_rfc3748_5_3_1_nak_picks_the_next_method)
{
	struct toy s_tls = {.type = EAP_TYPE_TLS, .server = true};
	struct toy s_ms = {.type = EAP_TYPE_MSCHAPV2, .server = true};
	struct toy pt = {.type = EAP_TYPE_MSCHAPV2, .answer_ok = true};
	struct eap_method sm[2] = {{&toy_tls, &s_tls}, {&toy_ms, &s_ms}}, pm = {&toy_ms, &pt};
	struct conv c;
	uint8_t msk[EAP_MSK_MAX];

	REQUIRE_EQ(eap_server_init(&c.s, sm, 2, false, (const uint8_t *)"c", 1, 40), 0);
	REQUIRE_EQ(eap_peer_init(&c.p, &pm, 1, NULL, 0), 0);
	REQUIRE_EQ(eap_server_start(&c.s, c.req, sizeof(c.req), &c.req_len), EAP_SEND);
	CHECK_EQ(c.req[4], EAP_TYPE_TLS);
	REQUIRE_EQ(eap_peer_process(&c.p, c.req, c.req_len, c.resp, sizeof(c.resp), &c.resp_len),
	           EAP_SEND);
	static const uint8_t nak[] = {2, 40, 0, 6, EAP_TYPE_NAK, EAP_TYPE_MSCHAPV2};
	REQUIRE_EQ(c.resp_len, 6);
	CHECK_MEM(c.resp, nak, 6);
	CHECK_EQ(pt.rounds, 0);

	REQUIRE_EQ(eap_server_process(&c.s, c.resp, c.resp_len, c.req, sizeof(c.req), &c.req_len),
	           EAP_SEND);
	CHECK_EQ(c.req[1], 41);
	CHECK_EQ(c.req[4], EAP_TYPE_MSCHAPV2);
	REQUIRE_EQ(eap_peer_process(&c.p, c.req, c.req_len, c.resp, sizeof(c.resp), &c.resp_len),
	           EAP_SEND);
	REQUIRE_EQ(eap_server_process(&c.s, c.resp, c.resp_len, c.req, sizeof(c.req), &c.req_len),
	           EAP_SUCCESS);
	REQUIRE_EQ(eap_peer_process(&c.p, c.req, c.req_len, c.resp, sizeof(c.resp), &c.resp_len),
	           EAP_SUCCESS);
	REQUIRE_EQ(eap_server_msk(&c.s, msk), EAP_MSK_MAX);
	CHECK_EQ(msk[0], EAP_TYPE_MSCHAPV2);
	CHECK_EQ(eap_server_method(&c.s)->ops, &toy_ms);
}

TEST(eap_rfc3748_5_3_1_nak_for_nothing_we_have_fails)
{
	struct toy st = {.type = EAP_TYPE_MSCHAPV2, .server = true};
	struct eap_method sm = {&toy_ms, &st};
	static const uint8_t nak_tls[] = {2, 1, 0, 6, EAP_TYPE_NAK, EAP_TYPE_TLS};
	static const uint8_t nak_none[] = {2, 1, 0, 6, EAP_TYPE_NAK, 0};
	static const uint8_t nak_same[] = {2, 1, 0, 6, EAP_TYPE_NAK, EAP_TYPE_MSCHAPV2};
	const uint8_t *naks[] = {nak_tls, nak_none, nak_same};
	struct eap_server s;
	uint8_t out[64];
	size_t n;

	for (size_t i = 0; i < 3; i++) {
		REQUIRE_EQ(eap_server_init(&s, &sm, 1, false, NULL, 0, 1), 0);
		REQUIRE_EQ(eap_server_start(&s, out, sizeof(out), &n), EAP_SEND);
		CHECK_EQ(eap_server_process(&s, naks[i], 6, out, sizeof(out), &n), EAP_FAILURE);
		CHECK_EQ(n, 4);
		CHECK_EQ(out[0], EAP_CODE_FAILURE);
		CHECK_EQ(out[1], 1);
		CHECK_EQ(eap_server_msk(&s, (uint8_t[EAP_MSK_MAX]){0}), IKE_ERR_INVAL);
	}
}

/* Responses out of turn end the conversation with EAP-Failure. */
TEST(eap_rfc3748_4_1_server_refuses_responses_out_of_turn)
{
	struct toy st = {.type = EAP_TYPE_MSCHAPV2, .server = true};
	struct eap_method sm = {&toy_ms, &st};
	static const struct {
		uint8_t b[8];
		size_t len;
	} rows[] = {
	    {{2, 9, 0, 7, 26, 'o', 'k'}, 7},    /* wrong Identifier */
	    {{1, 1, 0, 7, 26, 'o', 'k'}, 7},    /* a Request */
	    {{2, 1, 0, 7, 13, 'o', 'k'}, 7},    /* another Type */
	    {{2, 1, 0, 7, 26, 'o', 'k', 0}, 8}, /* trailing bytes */
	    {{2, 1, 0, 9, 26, 'o', 'k'}, 7},    /* Length > buffer */
	    {{3, 1, 0, 4}, 4},                  /* a Success */
	    {{2, 1, 0, 6, 2}, 5},               /* truncated */
	};
	struct eap_server s;
	uint8_t out[64];
	size_t n;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		REQUIRE_EQ(eap_server_init(&s, &sm, 1, false, NULL, 0, 1), 0);
		REQUIRE_EQ(eap_server_start(&s, out, sizeof(out), &n), EAP_SEND);
		if (eap_server_process(&s, rows[i].b, rows[i].len, out, sizeof(out), &n) !=
		    EAP_FAILURE)
			test_fail(__FILE__, __LINE__, "row %zu not refused", i);
		CHECK_EQ(n, 4);
		CHECK_EQ(out[0], EAP_CODE_FAILURE);
		CHECK(s.why < 0);
	}
	/* cap too small for even a Failure: nothing happens */
	REQUIRE_EQ(eap_server_init(&s, &sm, 1, false, NULL, 0, 1), 0);
	REQUIRE_EQ(eap_server_start(&s, out, sizeof(out), &n), EAP_SEND);
	CHECK_EQ(eap_server_process(&s, rows[0].b, rows[0].len, out, 3, &n), IKE_ERR_NOSPACE);
	CHECK_EQ(s.state, EAP_SRV_METHOD);
}

/* The peer trusts Success only after its method is satisfied. */
TEST(eap_peer_refuses_premature_success)
{
	struct toy pt = {.type = EAP_TYPE_MSCHAPV2, .answer_ok = true};
	struct eap_method pm = {&toy_ms, &pt};
	static const uint8_t success[] = {3, 1, 0, 4};
	static const uint8_t idreq[] = {1, 1, 0, 5, 1};
	static const uint8_t mreq[] = {1, 2, 0, 6, 26, '?'};
	struct eap_peer p;
	uint8_t out[64];
	size_t n;

	/* straight away */
	REQUIRE_EQ(eap_peer_init(&p, &pm, 1, NULL, 0), 0);
	CHECK_EQ(eap_peer_process(&p, success, 4, out, sizeof(out), &n), EAP_FAILURE);
	CHECK_EQ(n, 0);
	CHECK_EQ(eap_peer_process(&p, success, 4, out, sizeof(out), &n), IKE_ERR_INVAL);

	/* after Identity, before the method */
	REQUIRE_EQ(eap_peer_init(&p, &pm, 1, NULL, 0), 0);
	REQUIRE_EQ(eap_peer_process(&p, idreq, 5, out, sizeof(out), &n), EAP_SEND);
	CHECK_EQ(eap_peer_process(&p, success, 4, out, sizeof(out), &n), EAP_FAILURE);
	CHECK_EQ(p.why, IKE_ERR_AUTH);

	/* a method that is not satisfied (toy says "no") */
	pt.answer_ok = false;
	REQUIRE_EQ(eap_peer_init(&p, &pm, 1, NULL, 0), 0);
	REQUIRE_EQ(eap_peer_process(&p, mreq, 6, out, sizeof(out), &n), EAP_SEND);
	CHECK_EQ(p.state, EAP_PEER_FAILING);
	CHECK_EQ(eap_peer_process(&p, success, 4, out, sizeof(out), &n), EAP_FAILURE);
	CHECK_EQ(eap_peer_msk(&p, out), IKE_ERR_INVAL);
}

TEST(eap_peer_notification_and_method_switch)
{
	struct toy pt = {.type = EAP_TYPE_MSCHAPV2, .answer_ok = true};
	struct eap_method pm = {&toy_ms, &pt};
	static const uint8_t note[] = {1, 5, 0, 7, 2, 'h', 'i'};
	static const uint8_t mreq[] = {1, 6, 0, 6, 26, '?'};
	static const uint8_t tlsreq[] = {1, 7, 0, 6, 13, 0};
	static const uint8_t idreq[] = {1, 7, 0, 5, 1};
	static const uint8_t failure[] = {4, 6, 0, 4};
	struct eap_peer p;
	uint8_t out[64];
	size_t n;

	REQUIRE_EQ(eap_peer_init(&p, &pm, 1, NULL, 0), 0);
	REQUIRE_EQ(eap_peer_process(&p, note, sizeof(note), out, sizeof(out), &n), EAP_SEND);
	static const uint8_t ack[] = {2, 5, 0, 5, 2};
	REQUIRE_EQ(n, 5);
	CHECK_MEM(out, ack, 5);
	REQUIRE_EQ(eap_peer_process(&p, mreq, sizeof(mreq), out, sizeof(out), &n), EAP_SEND);
	/* §2.1: no other method once one finished, no Identity either */
	CHECK_EQ(eap_peer_process(&p, tlsreq, sizeof(tlsreq), out, sizeof(out), &n), EAP_FAILURE);
	REQUIRE_EQ(eap_peer_init(&p, &pm, 1, NULL, 0), 0);
	REQUIRE_EQ(eap_peer_process(&p, mreq, sizeof(mreq), out, sizeof(out), &n), EAP_SEND);
	CHECK_EQ(eap_peer_process(&p, idreq, sizeof(idreq), out, sizeof(out), &n), EAP_FAILURE);
	/* EAP-Failure ends it */
	REQUIRE_EQ(eap_peer_init(&p, &pm, 1, NULL, 0), 0);
	REQUIRE_EQ(eap_peer_process(&p, mreq, sizeof(mreq), out, sizeof(out), &n), EAP_SEND);
	CHECK_EQ(eap_peer_process(&p, failure, 4, out, sizeof(out), &n), EAP_FAILURE);
	CHECK_EQ(p.result, EAP_FAILURE);
}

TEST(eap_init_bounds)
{
	struct toy st = {.type = EAP_TYPE_MSCHAPV2, .server = true};
	struct eap_method sm[EAP_METHODS_MAX + 1], bad = {NULL, NULL};
	struct eap_server s;
	struct eap_peer p;
	uint8_t big[EAP_IDENTITY_MAX + 1] = {0};

	for (size_t i = 0; i <= EAP_METHODS_MAX; i++)
		sm[i] = (struct eap_method){&toy_ms, &st};
	CHECK_EQ(eap_server_init(&s, sm, 0, false, NULL, 0, 1), IKE_ERR_INVAL);
	CHECK_EQ(eap_server_init(&s, sm, EAP_METHODS_MAX + 1, false, NULL, 0, 1), IKE_ERR_INVAL);
	CHECK_EQ(eap_server_init(&s, &bad, 1, false, NULL, 0, 1), IKE_ERR_INVAL);
	CHECK_EQ(eap_server_init(&s, sm, 1, false, big, sizeof(big), 1), IKE_ERR_INVAL);
	CHECK_EQ(eap_server_init(&s, sm, EAP_METHODS_MAX, false, big, EAP_IDENTITY_MAX, 1), 0);
	CHECK_EQ(eap_peer_init(&p, sm, 1, big, sizeof(big)), IKE_ERR_INVAL);
	CHECK_EQ(eap_peer_init(&p, sm, 0, NULL, 0), IKE_ERR_INVAL);
}
