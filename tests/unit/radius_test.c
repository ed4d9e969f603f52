/*
 * daemon/radius.c: the packet layer against RFC 2865 §7.1 and packets made
 * by tests/vectors/radius_gen.py (hashlib/hmac, not tunsec), the
 * Blast-RADIUS rule (no Access-* answer without a valid
 * Message-Authenticator), EAP-Message split and join at the 253-octet
 * boundaries, and the client's retransmission and failover on a fake
 * clock.
 */
#include "tests/unit/test.h"

#include <stdlib.h>

#include "daemon/radius.h"

#define VEC "radius.txt"

static int vec(const char *rec, const char *name, uint8_t *out, size_t cap)
{
	int n = test_vector_get(VEC, rec, name, out, cap);

	if (n < 0) {
		test_fail(__FILE__, __LINE__, "no field %s in [%s] of %s", name, rec, VEC);
		test_abort();
	}
	return n;
}

/* The attributes of attrs[0..len) appended to m one by one. */
static void add_raw(struct radius_msg *m, const uint8_t *attrs, size_t len)
{
	size_t off = 0;
	struct radius_attr a;

	while (off < len) {
		REQUIRE_EQ(radius_attr_next(attrs, len, &off, &a), 1);
		REQUIRE_EQ(radius_msg_add(m, a.type, a.val, a.len), 0);
	}
}

/* ---- RFC 2865 §7.1 ---------------------------------------------------------- */

static const uint8_t rfc_secret[] = "xyzzy5461";
static const char rfc_req_auth[] = "0f403f9473978057bd83d5cb98f4227a";
/* The Access-Accept of §7.1 (Service-Type Login, Login-Service Telnet,
 * Login-IP-Host 192.168.1.3): no Message-Authenticator, as in 2000. */
static const char rfc_accept[] = "02000026 86fe220e7624ba2a1005f6bf9b55e0b2"
                                 "060600000001 0f0600000000 0e06c0a80103";

TEST(radius_rfc2865_7_1_user_password_hidden)
{
	uint8_t auth[16], out[128], want[16];

	test_unhex(rfc_req_auth, auth, sizeof(auth));
	test_unhex("0dbe708d93d413ce3196e43f782a0aee", want, sizeof(want));
	CHECK_EQ(radius_password_hide(out, sizeof(out), (const uint8_t *)"arctangent", 10, auth,
	                              rfc_secret, 9),
	         16);
	CHECK_MEM(out, want, 16);
}

TEST(radius_rfc2865_7_1_accept_authentic_but_refused_without_msgauth)
{
	uint8_t auth[16], pkt[64];
	struct radius_answer *a = calloc(1, sizeof(*a));
	int n = test_unhex(rfc_accept, pkt, sizeof(pkt));

	REQUIRE(a);
	test_unhex(rfc_req_auth, auth, sizeof(auth));
	REQUIRE_EQ(n, 38);
	/* The Response Authenticator holds (else RADIUS_ERR_AUTH): what is
	 * missing is only the HMAC (RFC 2869 §5.14, Blast-RADIUS). */
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, rfc_secret, 9),
	         RADIUS_ERR_NO_MSGAUTH);
	pkt[37] ^= 1;
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, rfc_secret, 9),
	         RADIUS_ERR_AUTH);
	free(a);
}

/* ---- the encoder against Python ------------------------------------------ */

TEST(radius_encode_access_request_pap_vector)
{
	uint8_t secret[64], id, auth[16], attrs[512], pw[128], want[600], out[RADIUS_PKT_MAX];
	struct radius_msg *m = calloc(1, sizeof(*m));
	int sl = vec("access_request_pap", "secret", secret, sizeof(secret));
	int al = vec("access_request_pap", "attrs", attrs, sizeof(attrs));
	int pl = vec("access_request_pap", "password", pw, sizeof(pw));
	int wl = vec("access_request_pap", "packet", want, sizeof(want));

	REQUIRE(m);
	vec("access_request_pap", "id", &id, 1);
	vec("access_request_pap", "auth", auth, sizeof(auth));
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	add_raw(m, attrs, (size_t)al);
	REQUIRE_EQ(radius_msg_set_password(m, pw, (size_t)pl), 0);
	REQUIRE_EQ(radius_encode(out, sizeof(out), m, id, auth, secret, (size_t)sl), wl);
	CHECK_MEM(out, want, (size_t)wl);
	/* Message-Authenticator is the first attribute (Blast-RADIUS). */
	CHECK_EQ(out[20], RADIUS_A_MESSAGE_AUTHENTICATOR);
	CHECK_EQ(out[21], 18);
	/* A password is for Access-Request only. */
	m->code = RADIUS_ACCOUNTING_REQUEST;
	CHECK_EQ(radius_encode(out, sizeof(out), m, id, auth, secret, (size_t)sl), RADIUS_ERR_INVAL);
	radius_msg_wipe(m);
	free(m);
}

TEST(radius_encode_accounting_request_rfc2866_3_vector)
{
	uint8_t secret[64], id, auth[16], want_auth[16], attrs[512], want[600], out[RADIUS_PKT_MAX];
	struct radius_msg *m = calloc(1, sizeof(*m));
	int sl = vec("accounting_request_stop", "secret", secret, sizeof(secret));
	int al = vec("accounting_request_stop", "attrs", attrs, sizeof(attrs));
	int wl = vec("accounting_request_stop", "packet", want, sizeof(want));

	REQUIRE(m);
	vec("accounting_request_stop", "id", &id, 1);
	vec("accounting_request_stop", "auth", want_auth, sizeof(want_auth));
	radius_msg_init(m, RADIUS_ACCOUNTING_REQUEST);
	add_raw(m, attrs, (size_t)al);
	memset(auth, 0xee, sizeof(auth));
	REQUIRE_EQ(radius_encode(out, sizeof(out), m, id, auth, secret, (size_t)sl), wl);
	CHECK_MEM(out, want, (size_t)wl);
	CHECK_MEM(auth, want_auth, 16); /* handed back for the response check */
	free(m);
}

TEST(radius_msg_add_counters_gigawords_rfc2869_5_1)
{
	struct radius_msg *m = calloc(1, sizeof(*m));
	struct radius_attr a;
	size_t off = 0;
	uint32_t got[64] = {0};

	REQUIRE(m);
	radius_msg_init(m, RADIUS_ACCOUNTING_REQUEST);
	REQUIRE_EQ(radius_msg_add_counters(m, 0x500000007ULL, 9, 0x1ffffffffULL, 3), 0);
	while (radius_attr_next(m->attrs, m->attrs_len, &off, &a) == 1) {
		REQUIRE_EQ(a.len, 4);
		got[a.type] = (uint32_t)a.val[0] << 24 | (uint32_t)a.val[1] << 16 |
		              (uint32_t)a.val[2] << 8 | a.val[3];
	}
	CHECK_EQ(got[RADIUS_A_ACCT_INPUT_OCTETS], 7u);
	CHECK_EQ(got[RADIUS_A_ACCT_INPUT_GIGAWORDS], 5u);
	CHECK_EQ(got[RADIUS_A_ACCT_OUTPUT_OCTETS], 9u);
	CHECK_EQ(got[RADIUS_A_ACCT_OUTPUT_GIGAWORDS], 0u);
	CHECK_EQ(got[RADIUS_A_ACCT_INPUT_PACKETS], 0xffffffffu); /* saturated */
	CHECK_EQ(got[RADIUS_A_ACCT_OUTPUT_PACKETS], 3u);
	free(m);
}

/* ---- the decoder against Python ------------------------------------------ */

TEST(radius_parse_access_accept_vector_msk_rfc2548)
{
	uint8_t secret[64], auth[16], pkt[1024], eap[16], cls[32], ip[4], msk[64];
	struct radius_answer *a = calloc(1, sizeof(*a));
	int sl = vec("access_accept", "secret", secret, sizeof(secret));
	int n = vec("access_accept", "packet", pkt, sizeof(pkt));
	int el = vec("access_accept", "eap", eap, sizeof(eap));
	int cl = vec("access_accept", "cls", cls, sizeof(cls));

	REQUIRE(a);
	vec("access_accept", "req_auth", auth, sizeof(auth));
	vec("access_accept", "framed_ip", ip, sizeof(ip));
	REQUIRE_EQ(vec("access_accept", "msk", msk, sizeof(msk)), 64);
	REQUIRE_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, secret,
	                               (size_t)sl),
	           0);
	CHECK_EQ(a->code, RADIUS_ACCESS_ACCEPT);
	CHECK_EQ(a->id, 7);
	CHECK_EQ(a->eap_len, (size_t)el);
	CHECK_MEM(a->eap, eap, (size_t)el);
	CHECK_EQ(a->class_len, (size_t)cl);
	CHECK_MEM(a->class_, cls, (size_t)cl);
	CHECK(a->has_framed_ip);
	CHECK_MEM(a->framed_ip, ip, 4);
	CHECK(a->has_session_timeout);
	CHECK_EQ(a->session_timeout, 3600u);
	CHECK_STREQ(a->reply_message, "Welcome, alice");
	/* strongSwan's eap-radius order: MS-MPPE-Recv-Key, then Send-Key. */
	CHECK_EQ(a->msk_len, 64);
	CHECK_MEM(a->msk, msk, 64);
	radius_answer_wipe(a);
	CHECK_EQ(a->msk_len, 0);

	/* Every bit is covered: a flipped one anywhere is refused. The last
	 * 18 octets are the Message-Authenticator (RFC 3579 §3.2), the
	 * header's 4..20 the Response Authenticator. */
	for (int i = 0; i < n; i++) {
		int r;

		pkt[i] ^= 0x40;
		r = radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, secret,
		                        (size_t)sl);
		pkt[i] ^= 0x40;
		if (r == 0) {
			test_fail(__FILE__, __LINE__, "octet %d flipped and accepted", i);
			break;
		}
	}
	/* The wrong request, the wrong secret, the wrong kind of request. */
	auth[0] ^= 1;
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, secret,
	                             (size_t)sl),
	         RADIUS_ERR_AUTH);
	auth[0] ^= 1;
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, secret,
	                             (size_t)sl - 1),
	         RADIUS_ERR_AUTH);
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCOUNTING_REQUEST, auth, secret,
	                             (size_t)sl),
	         RADIUS_ERR_CODE);
	/* Padding past Length is ignored (RFC 2865 §3). */
	pkt[n] = 0xaa;
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n + 1, RADIUS_ACCESS_REQUEST, auth, secret,
	                             (size_t)sl),
	         0);
	radius_answer_wipe(a);
	free(a);
}

TEST(radius_parse_blast_radius_no_msgauth_refused)
{
	uint8_t secret[64], auth[16], pkt[256];
	struct radius_answer *a = calloc(1, sizeof(*a));
	int sl = vec("access_accept_no_ma", "secret", secret, sizeof(secret));
	int n = vec("access_accept_no_ma", "packet", pkt, sizeof(pkt));

	REQUIRE(a);
	vec("access_accept_no_ma", "req_auth", auth, sizeof(auth));
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, secret,
	                             (size_t)sl),
	         RADIUS_ERR_NO_MSGAUTH);
	CHECK_EQ(a->code, 0); /* nothing written */
	free(a);
}

TEST(radius_parse_accounting_response_without_msgauth_accepted)
{
	uint8_t secret[64], auth[16], pkt[64];
	struct radius_answer *a = calloc(1, sizeof(*a));
	int sl = vec("accounting_response", "secret", secret, sizeof(secret));
	int n = vec("accounting_response", "packet", pkt, sizeof(pkt));

	REQUIRE(a);
	vec("accounting_response", "req_auth", auth, sizeof(auth));
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCOUNTING_REQUEST, auth, secret,
	                             (size_t)sl),
	         0);
	CHECK_EQ(a->code, RADIUS_ACCOUNTING_RESPONSE);
	free(a);
}

TEST(radius_parse_challenge_eap_600_joined_rfc3579_3_1)
{
	uint8_t secret[64], auth[16], pkt[1024], eap[600], state[32];
	struct radius_answer *a = calloc(1, sizeof(*a));
	int sl = vec("access_challenge_600", "secret", secret, sizeof(secret));
	int n = vec("access_challenge_600", "packet", pkt, sizeof(pkt));
	int stl = vec("access_challenge_600", "state", state, sizeof(state));

	REQUIRE(a);
	vec("access_challenge_600", "req_auth", auth, sizeof(auth));
	REQUIRE_EQ(vec("access_challenge_600", "eap", eap, sizeof(eap)), 600);
	REQUIRE_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, secret,
	                               (size_t)sl),
	           0);
	CHECK_EQ(a->code, RADIUS_ACCESS_CHALLENGE);
	CHECK_EQ(a->eap_len, 600);
	CHECK_MEM(a->eap, eap, 600);
	CHECK_EQ(a->state_len, (size_t)stl);
	CHECK_MEM(a->state, state, (size_t)stl);
	CHECK_EQ(a->msk_len, 0); /* keys only in an Access-Accept */
	radius_answer_wipe(a);
	free(a);
}

TEST(radius_parse_long_secret_hmac_key_hashed)
{
	uint8_t secret[128], auth[16], pkt[128];
	struct radius_answer *a = calloc(1, sizeof(*a));
	int sl = vec("access_accept_long_secret", "secret", secret, sizeof(secret));
	int n = vec("access_accept_long_secret", "packet", pkt, sizeof(pkt));

	REQUIRE(a);
	REQUIRE_EQ(sl, 100);
	vec("access_accept_long_secret", "req_auth", auth, sizeof(auth));
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, secret,
	                             (size_t)sl),
	         0);
	CHECK_EQ(a->session_timeout, 60u);
	free(a);
}

TEST(radius_mppe_rfc2548_2_4_2_vectors_and_round_trip)
{
	static const char *recs[] = {"mppe_16", "mppe_32"};

	for (size_t i = 0; i < 2; i++) {
		uint8_t secret[64], auth[16], key[64], salt[2], want[128], out[128], back[64];
		int sl = vec(recs[i], "secret", secret, sizeof(secret));
		int kl = vec(recs[i], "key", key, sizeof(key));
		int wl = vec(recs[i], "value", want, sizeof(want));

		vec(recs[i], "req_auth", auth, sizeof(auth));
		vec(recs[i], "salt", salt, sizeof(salt));
		CHECK_EQ(radius_mppe_encrypt(out, sizeof(out), key, (size_t)kl,
		                             (uint16_t)(salt[0] << 8 | salt[1]), auth, secret,
		                             (size_t)sl),
		         wl);
		CHECK_MEM(out, want, (size_t)wl);
		CHECK_EQ(radius_mppe_decrypt(back, sizeof(back), want, (size_t)wl, auth, secret,
		                             (size_t)sl),
		         kl);
		CHECK_MEM(back, key, (size_t)kl);
		/* Salt without its high bit; a length not 2 + 16k. */
		want[0] &= 0x7f;
		CHECK_EQ(radius_mppe_decrypt(back, sizeof(back), want, (size_t)wl, auth, secret,
		                             (size_t)sl),
		         RADIUS_ERR_MALFORMED);
		want[0] |= 0x80;
		CHECK_EQ(radius_mppe_decrypt(back, sizeof(back), want, (size_t)wl - 1, auth, secret,
		                             (size_t)sl),
		         RADIUS_ERR_MALFORMED);
		/* Too small an output buffer. */
		CHECK_EQ(radius_mppe_decrypt(back, (size_t)kl - 1, want, (size_t)wl, auth, secret,
		                             (size_t)sl),
		         RADIUS_ERR_NOSPACE);
	}
}

/* ---- EAP-Message split and join at 253 ------------------------------------- */

static const uint8_t sec[] = "split-join secret";

/* A response answering req_auth, of code with m's attributes, encoded by
 * us (the encoder's response mode is what a fake server uses). */
static ssize_t make_response(uint8_t *out, struct radius_msg *m, uint8_t code, uint8_t id,
                             const uint8_t req_auth[16])
{
	uint8_t auth[16];

	memcpy(auth, req_auth, 16);
	m->code = code;
	return radius_encode(out, RADIUS_PKT_MAX, m, id, auth, sec, sizeof(sec) - 1);
}

TEST(radius_eap_split_join_253_boundaries)
{
	/* len, EAP-Message attributes expected */
	static const struct {
		size_t len, attrs;
	} rows[] = {
		{4, 1}, {252, 1}, {253, 1}, {254, 2}, {506, 2}, {507, 3}, {1500, 6}, {3000, 12},
	};
	struct radius_msg *m = calloc(1, sizeof(*m));
	struct radius_answer *a = calloc(1, sizeof(*a));
	uint8_t *eap = malloc(4096), *pkt = malloc(RADIUS_PKT_MAX), auth[16] = {1, 2, 3};

	REQUIRE(m && a && eap && pkt);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t len = rows[r].len, off = RADIUS_HDR_LEN, n_eap = 0, joined = 0;
		struct radius_attr at;
		ssize_t n;

		for (size_t i = 0; i < len; i++)
			eap[i] = (uint8_t)(i * 13 + r);
		eap[0] = 1;
		eap[2] = (uint8_t)(len >> 8);
		eap[3] = (uint8_t)len;
		radius_msg_init(m, RADIUS_ACCESS_REQUEST);
		radius_msg_add_str(m, RADIUS_A_USER_NAME, "bob");
		REQUIRE_EQ(radius_msg_add_eap(m, eap, len), 0);
		radius_msg_add(m, RADIUS_A_STATE, "st", 2);
		n = radius_encode(pkt, RADIUS_PKT_MAX, m, 1, auth, sec, sizeof(sec) - 1);
		REQUIRE(n > 0);
		REQUIRE_EQ(radius_pkt_check(pkt, (size_t)n), n);
		while (radius_attr_next(pkt, (size_t)n, &off, &at) == 1)
			if (at.type == RADIUS_A_EAP_MESSAGE) {
				n_eap++;
				CHECK(at.len <= 253);
				CHECK_MEM(at.val, eap + joined, at.len);
				joined += at.len;
			}
		CHECK_EQ(n_eap, rows[r].attrs);
		CHECK_EQ(joined, len);

		/* And back: the same attributes as an Access-Challenge. */
		n = make_response(pkt, m, RADIUS_ACCESS_CHALLENGE, 1, auth);
		REQUIRE(n > 0);
		memset(a, 0, sizeof(*a));
		CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
		                             sizeof(sec) - 1),
		         0);
		CHECK_EQ(a->eap_len, len);
		CHECK_MEM(a->eap, eap, len);
	}
	/* The largest that fits, and one more octet. */
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	{
		size_t room = RADIUS_PKT_MAX - RADIUS_HDR_LEN - 18, max = room / 255 * 253;

		room -= room / 255 * 255;
		if (room > 2)
			max += room - 2;
		CHECK_EQ(radius_msg_add_eap(m, eap, max + 1), RADIUS_ERR_NOSPACE);
		CHECK_EQ(m->attrs_len, 0); /* all or nothing */
		CHECK_EQ(radius_msg_add_eap(m, eap, max), 0);
		CHECK_EQ(radius_encode(pkt, RADIUS_PKT_MAX, m, 1, auth, sec, sizeof(sec) - 1),
		         RADIUS_PKT_MAX);
	}
	free(m);
	free(a);
	free(eap);
	free(pkt);
}

TEST(radius_parse_eap_not_consecutive_or_bad_length_refused)
{
	struct radius_msg *m = calloc(1, sizeof(*m));
	struct radius_answer *a = calloc(1, sizeof(*a));
	uint8_t pkt[RADIUS_PKT_MAX], auth[16] = {9}, eap[8] = {1, 1, 0, 8, 1, 'a', 'b', 'c'};
	ssize_t n;

	REQUIRE(m && a);
	/* EAP, State, EAP: RFC 3579 §3.1 wants them consecutive. */
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	radius_msg_add(m, RADIUS_A_EAP_MESSAGE, eap, 4);
	radius_msg_add(m, RADIUS_A_STATE, "s", 1);
	radius_msg_add(m, RADIUS_A_EAP_MESSAGE, eap + 4, 4);
	n = make_response(pkt, m, RADIUS_ACCESS_CHALLENGE, 3, auth);
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
	                             sizeof(sec) - 1),
	         RADIUS_ERR_MALFORMED);
	/* Consecutive, but the EAP Length says 9. */
	eap[3] = 9;
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	radius_msg_add_eap(m, eap, 8);
	n = make_response(pkt, m, RADIUS_ACCESS_CHALLENGE, 3, auth);
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
	                             sizeof(sec) - 1),
	         RADIUS_ERR_MALFORMED);
	eap[3] = 8;
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	radius_msg_add_eap(m, eap, 8);
	n = make_response(pkt, m, RADIUS_ACCESS_CHALLENGE, 3, auth);
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
	                             sizeof(sec) - 1),
	         0);
	free(m);
	free(a);
}

/* ---- Message-Authenticator: required, single, 16 octets, correct ---------- */

TEST(radius_parse_msgauth_required_refused_cases_rfc3579_3_2)
{
	struct radius_msg *m = calloc(1, sizeof(*m));
	struct radius_answer *a = calloc(1, sizeof(*a));
	uint8_t pkt[RADIUS_PKT_MAX], auth[16] = {4, 5, 6}, z[16] = {0};
	ssize_t n;

	REQUIRE(m && a);
	static const uint8_t codes[] = {RADIUS_ACCESS_ACCEPT, RADIUS_ACCESS_REJECT,
	                                RADIUS_ACCESS_CHALLENGE};
	for (size_t i = 0; i < 3; i++) {
		radius_msg_init(m, RADIUS_ACCESS_REQUEST);
		radius_msg_add_str(m, RADIUS_A_REPLY_MESSAGE, "hi");
		n = make_response(pkt, m, codes[i], 1, auth);
		CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
		                             sizeof(sec) - 1),
		         0);
		m->no_msgauth = true;
		n = make_response(pkt, m, codes[i], 1, auth);
		CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
		                             sizeof(sec) - 1),
		         RADIUS_ERR_NO_MSGAUTH);
	}
	/* Two of them (the second one zero, as a sloppy encoder might leave
	 * it): refused whatever they hold. */
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	m->attrs[0] = RADIUS_A_MESSAGE_AUTHENTICATOR;
	m->attrs[1] = 18;
	memcpy(m->attrs + 2, z, 16);
	m->attrs_len = 18;
	n = make_response(pkt, m, RADIUS_ACCESS_ACCEPT, 1, auth);
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
	                             sizeof(sec) - 1),
	         RADIUS_ERR_MSGAUTH);
	/* One, but 15 octets. */
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	m->no_msgauth = true;
	m->attrs[0] = RADIUS_A_MESSAGE_AUTHENTICATOR;
	m->attrs[1] = 17;
	m->attrs_len = 17;
	n = make_response(pkt, m, RADIUS_ACCESS_ACCEPT, 1, auth);
	CHECK_EQ(radius_answer_parse(a, pkt, (size_t)n, RADIUS_ACCESS_REQUEST, auth, sec,
	                             sizeof(sec) - 1),
	         RADIUS_ERR_MSGAUTH);
	/* The encoder refuses to take the two attributes it owns. */
	CHECK_EQ(radius_msg_add(m, RADIUS_A_MESSAGE_AUTHENTICATOR, z, 16), RADIUS_ERR_INVAL);
	CHECK_EQ(radius_msg_add(m, RADIUS_A_USER_PASSWORD, z, 16), RADIUS_ERR_INVAL);
	free(m);
	free(a);
}

TEST(radius_pkt_check_lengths_rfc2865_3_table)
{
	static const struct {
		const char *hex;
		ssize_t want;
	} rows[] = {
		/* too short a datagram */
		{"0b01001300000000000000000000000000000000", -1},
		{"0b0100130000000000000000000000000000", RADIUS_ERR_MALFORMED},
		/* Length 19 */
		{"0b01001300000000000000000000000000000000", RADIUS_ERR_MALFORMED},
		/* Length beyond the datagram */
		{"0b01001500000000000000000000000000000000", RADIUS_ERR_MALFORMED},
		/* header only */
		{"0b01001400000000000000000000000000000000", 20},
		/* padding past Length ignored */
		{"0b01001400000000000000000000000000000000ffff", 20},
		/* attribute of length 0, 1 */
		{"0b0100160000000000000000000000000000000001 00", RADIUS_ERR_MALFORMED},
		{"0b0100160000000000000000000000000000000001 01", RADIUS_ERR_MALFORMED},
		/* attribute running past Length */
		{"0b0100170000000000000000000000000000000001 0461ff", RADIUS_ERR_MALFORMED},
		/* one attribute's header cut by Length */
		{"0b0100170000000000000000000000000000000001 026100", RADIUS_ERR_MALFORMED},
		/* two good attributes */
		{"0b01001a0000000000000000000000000000000001 02 18 04 6162", 26},
		/* Length 4097 */
		{"0b01100100000000000000000000000000000000", RADIUS_ERR_MALFORMED},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t pkt[64];
		int n = test_unhex(rows[i].hex, pkt, sizeof(pkt));

		if (rows[i].want == -1) { /* exactly 20 octets, Length 19 */
			CHECK_EQ(radius_pkt_check(pkt, (size_t)n), RADIUS_ERR_MALFORMED);
			continue;
		}
		if (radius_pkt_check(pkt, (size_t)n) != rows[i].want)
			test_fail(__FILE__, __LINE__, "row %zu: got %zd, want %zd", i,
			          radius_pkt_check(pkt, (size_t)n), rows[i].want);
	}
	CHECK_EQ(radius_pkt_check(NULL, 0), RADIUS_ERR_MALFORMED);
}

/* ---- the client ---------------------------------------------------------- */

static void fake_rand(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf, *ctr = ctx;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(++*ctr * 31);
}

static uint8_t rand_ctr;

static struct radius_client *client_two(unsigned tries, radius_time_t timeout, uint32_t base)
{
	struct radius_client_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.n_servers = 2;
	for (size_t i = 0; i < 2; i++) {
		snprintf(cfg.servers[i].address, sizeof(cfg.servers[i].address), "192.0.2.%zu",
		         i + 1);
		memcpy(cfg.servers[i].secret, i ? "secret-B" : "secret-A", 8);
		cfg.servers[i].secret_len = 8;
	}
	cfg.servers[1].auth_port = 11812;
	cfg.tries = tries;
	cfg.timeout = timeout;
	cfg.base = base;
	cfg.max_timeout = 5 * RADIUS_SEC;
	cfg.rand = fake_rand;
	cfg.rand_ctx = &rand_ctr;
	return radius_client_new(&cfg);
}

static struct radius_msg *access_req(const char *user)
{
	struct radius_msg *m = calloc(1, sizeof(*m));

	REQUIRE(m);
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	radius_msg_add_str(m, RADIUS_A_USER_NAME, user);
	radius_msg_set_password(m, "pw", 2);
	return m;
}

/* The server's answer to the request req[0..len): code, its secret. */
static ssize_t answer(uint8_t *out, const uint8_t *req, uint8_t code, const char *secret,
                      bool with_ma)
{
	struct radius_msg *m = calloc(1, sizeof(*m));
	uint8_t auth[16];
	ssize_t n;

	REQUIRE(m);
	memcpy(auth, req + 4, 16);
	radius_msg_init(m, code);
	m->no_msgauth = !with_ma;
	radius_msg_add_u32(m, RADIUS_A_SESSION_TIMEOUT, 7200);
	n = radius_encode(out, RADIUS_PKT_MAX, m, req[1], auth, (const uint8_t *)secret,
	                  strlen(secret));
	free(m);
	return n;
}

TEST(radius_client_retransmit_failover_timeout_fake_clock_rfc5080_2_2_1)
{
	struct radius_client *c = client_two(3, RADIUS_SEC, 2000);
	struct radius_msg *m = access_req("carol");
	struct radius_dest d;
	struct radius_event ev;
	uint8_t first[RADIUS_PKT_MAX], pkt[RADIUS_PKT_MAX];
	ssize_t n0, n;
	int64_t h;
	/* when, what goes out then (server, or -1 for the timeout event):
	 * server 0 at 0 s, 1 s, 3 s (timeouts 1, 2, 4 s), server 1 at 7 s,
	 * 8 s, 10 s, the end at 14 s; max_timeout 5 s caps nothing here. */
	static const struct {
		radius_time_t at;
		int server;
		bool same_packet;
	} rows[] = {
		{1, 0, true}, {3, 0, true}, {7, 1, false}, {8, 1, true}, {10, 1, true}, {14, -1, false},
	};

	REQUIRE(c);
	h = radius_client_send(c, m, (void *)0x1234, 0);
	REQUIRE(h > 0);
	n0 = radius_client_poll_tx(c, &d, first, sizeof(first));
	REQUIRE(n0 > 0);
	CHECK_EQ(d.server, 0);
	CHECK_EQ(d.port, RADIUS_PORT_AUTH);
	CHECK_EQ(d.port_number, 1812);
	CHECK_EQ(radius_client_poll_tx(c, &d, pkt, sizeof(pkt)), 0);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		radius_time_t at = rows[i].at * RADIUS_SEC;

		CHECK_EQ(radius_client_next_expiry(c), at);
		/* Not one nanosecond early. */
		radius_client_handle_expiry(c, at - 1);
		CHECK_EQ(radius_client_poll_tx(c, &d, pkt, sizeof(pkt)), 0);
		CHECK_EQ(radius_client_poll_event(c, &ev), 0);
		radius_client_handle_expiry(c, at);
		if (rows[i].server < 0) {
			REQUIRE_EQ(radius_client_poll_event(c, &ev), 1);
			CHECK_EQ(ev.type, RADIUS_EV_TIMEOUT);
			CHECK_EQ(ev.handle, (uint64_t)h);
			CHECK_EQ(ev.user, (void *)0x1234);
			CHECK_EQ(ev.server, 1);
			radius_event_wipe(&ev);
			break;
		}
		n = radius_client_poll_tx(c, &d, pkt, sizeof(pkt));
		REQUIRE(n > 0);
		CHECK_EQ(d.server, (size_t)rows[i].server);
		if (rows[i].server == 1)
			CHECK_EQ(d.port_number, 11812);
		if (rows[i].same_packet) {
			/* Retransmission: identical bytes (RFC 5080 §2.2.1). */
			CHECK_EQ(n, n0);
			CHECK_MEM(pkt, first, (size_t)n0);
		} else {
			/* Failover: a new Request Authenticator and the other
			 * server's secret (the hidden password differs). */
			CHECK(memcmp(pkt + 4, first + 4, 16) != 0);
			memcpy(first, pkt, (size_t)n);
			n0 = n;
		}
	}
	CHECK_EQ(radius_client_next_expiry(c), RADIUS_TIME_NEVER);
	CHECK_EQ(radius_client_pending(c), 0);
	CHECK_EQ(radius_client_counters(c)->retransmits, 4);
	CHECK_EQ(radius_client_counters(c)->failovers, 1);
	CHECK_EQ(radius_client_counters(c)->timeouts, 1);

	/* The failover moved the preference: the next request starts at 1. */
	h = radius_client_send(c, m, NULL, 20 * RADIUS_SEC);
	REQUIRE(h > 0);
	REQUIRE(radius_client_poll_tx(c, &d, pkt, sizeof(pkt)) > 0);
	CHECK_EQ(d.server, 1);
	radius_msg_wipe(m);
	free(m);
	radius_client_free(c);
}

TEST(radius_client_backoff_capped_by_max_timeout)
{
	struct radius_client *c = client_two(5, 2 * RADIUS_SEC, 3000);
	struct radius_msg *m = access_req("dave");
	radius_time_t t = 0;
	/* 2, 5 (cap; 6 uncapped), 5, 5 s */
	static const radius_time_t waits[] = {2, 5, 5, 5};

	REQUIRE(c);
	REQUIRE(radius_client_send(c, m, NULL, 0) > 0);
	for (size_t i = 0; i < 4; i++) {
		t += waits[i] * RADIUS_SEC;
		CHECK_EQ(radius_client_next_expiry(c), t);
		radius_client_handle_expiry(c, t);
	}
	free(m);
	radius_client_free(c);
}

TEST(radius_client_answer_verified_forgeries_dropped_and_counted)
{
	struct radius_client *c = client_two(3, RADIUS_SEC, 2000);
	struct radius_msg *m = access_req("erin");
	struct radius_dest d;
	struct radius_event ev;
	uint8_t req[RADIUS_PKT_MAX], pkt[RADIUS_PKT_MAX];
	ssize_t n;
	int64_t h;

	REQUIRE(c);
	h = radius_client_send(c, m, NULL, 0);
	REQUIRE(radius_client_poll_tx(c, &d, req, sizeof(req)) > 0);
	/* No Message-Authenticator, though the Response Authenticator holds. */
	n = answer(pkt, req, RADIUS_ACCESS_ACCEPT, "secret-A", false);
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_AUTH, pkt, (size_t)n, 1),
	         RADIUS_ERR_NO_MSGAUTH);
	/* The wrong secret (the other server's). */
	n = answer(pkt, req, RADIUS_ACCESS_ACCEPT, "secret-B", true);
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_AUTH, pkt, (size_t)n, 1), RADIUS_ERR_AUTH);
	/* The right answer from the wrong server, the wrong port. */
	n = answer(pkt, req, RADIUS_ACCESS_ACCEPT, "secret-A", true);
	CHECK_EQ(radius_client_recv(c, 1, RADIUS_PORT_AUTH, pkt, (size_t)n, 1),
	         RADIUS_ERR_NOTFOUND);
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_ACCT, pkt, (size_t)n, 1),
	         RADIUS_ERR_NOTFOUND);
	/* An Accounting-Response to an Access-Request. */
	n = answer(pkt, req, RADIUS_ACCOUNTING_RESPONSE, "secret-A", true);
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_AUTH, pkt, (size_t)n, 1), RADIUS_ERR_CODE);
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_AUTH, pkt, 5, 1), RADIUS_ERR_MALFORMED);
	/* None of that ended the request. */
	CHECK_EQ(radius_client_poll_event(c, &ev), 0);
	CHECK_EQ(radius_client_pending(c), 1);

	n = answer(pkt, req, RADIUS_ACCESS_ACCEPT, "secret-A", true);
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_AUTH, pkt, (size_t)n, 1), 0);
	REQUIRE_EQ(radius_client_poll_event(c, &ev), 1);
	CHECK_EQ(ev.type, RADIUS_EV_ANSWER);
	CHECK_EQ(ev.handle, (uint64_t)h);
	REQUIRE(ev.answer);
	CHECK_EQ(ev.answer->code, RADIUS_ACCESS_ACCEPT);
	CHECK_EQ(ev.answer->session_timeout, 7200u);
	radius_event_wipe(&ev);
	CHECK_EQ(radius_client_pending(c), 0);
	CHECK_EQ(radius_client_next_expiry(c), RADIUS_TIME_NEVER);
	/* A duplicate of that answer now matches no request. */
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_AUTH, pkt, (size_t)n, 2),
	         RADIUS_ERR_NOTFOUND);

	const struct radius_counters *k = radius_client_counters(c);

	CHECK_EQ(k->drop_no_msgauth, 1);
	CHECK_EQ(k->drop_authenticator, 1);
	CHECK_EQ(k->drop_unknown_id, 3);
	CHECK_EQ(k->drop_code, 1);
	CHECK_EQ(k->drop_malformed, 1);
	CHECK_EQ(k->answers, 1);
	free(m);
	radius_client_free(c);
}

TEST(radius_client_identifiers_256_per_server_port)
{
	struct radius_client *c = client_two(3, RADIUS_SEC, 2000);
	struct radius_msg *m = access_req("frank"), *acct = calloc(1, sizeof(*acct));
	struct radius_dest d;
	struct radius_event ev;
	uint8_t pkt[RADIUS_PKT_MAX], seen[256] = {0}, last[RADIUS_PKT_MAX];
	ssize_t n;

	REQUIRE(c && acct);
	radius_msg_init(acct, RADIUS_ACCOUNTING_REQUEST);
	radius_msg_add_u32(acct, RADIUS_A_ACCT_STATUS_TYPE, RADIUS_ACCT_START);
	for (int i = 0; i < 256; i++) {
		REQUIRE(radius_client_send(c, m, NULL, 0) > 0);
		REQUIRE(radius_client_poll_tx(c, &d, pkt, sizeof(pkt)) > 0);
		CHECK_EQ(seen[pkt[1]], 0);
		seen[pkt[1]] = 1;
		memcpy(last, pkt, sizeof(pkt));
	}
	CHECK_EQ(radius_client_send(c, m, NULL, 0), RADIUS_ERR_BUSY);
	/* The accounting port has its own identifier space. */
	CHECK(radius_client_send(c, acct, NULL, 0) > 0);
	n = radius_client_poll_tx(c, &d, pkt, sizeof(pkt));
	CHECK(n > 0);
	CHECK_EQ(d.port, RADIUS_PORT_ACCT);
	CHECK_EQ(d.port_number, 1813);
	/* One answered: its identifier is free again. */
	n = answer(pkt, last, RADIUS_ACCESS_REJECT, "secret-A", true);
	CHECK_EQ(radius_client_recv(c, 0, RADIUS_PORT_AUTH, pkt, (size_t)n, 1), 0);
	REQUIRE_EQ(radius_client_poll_event(c, &ev), 1);
	CHECK_EQ(ev.answer->code, RADIUS_ACCESS_REJECT);
	radius_event_wipe(&ev);
	CHECK(radius_client_send(c, m, NULL, 0) > 0);
	REQUIRE(radius_client_poll_tx(c, &d, pkt, sizeof(pkt)) > 0);
	CHECK_EQ(pkt[1], last[1]);
	CHECK_EQ(radius_client_pending(c), 257);
	free(m);
	free(acct);
	radius_client_free(c); /* frees the 257 pending requests (ASan: no leak) */
}

TEST(radius_client_cancel_no_event_and_bad_input)
{
	struct radius_client *c = client_two(1, RADIUS_SEC, 1000);
	struct radius_msg *m = access_req("gina");
	struct radius_event ev;
	struct radius_client_cfg cfg;
	int64_t h;

	REQUIRE(c);
	h = radius_client_send(c, m, NULL, 0);
	REQUIRE(h > 0);
	CHECK_EQ(radius_client_cancel(c, (uint64_t)h), 0);
	CHECK_EQ(radius_client_cancel(c, (uint64_t)h), RADIUS_ERR_NOTFOUND);
	radius_client_handle_expiry(c, 100 * RADIUS_SEC);
	CHECK_EQ(radius_client_poll_event(c, &ev), 0);
	m->code = RADIUS_ACCESS_ACCEPT;
	CHECK_EQ(radius_client_send(c, m, NULL, 0), RADIUS_ERR_INVAL);
	CHECK_EQ(radius_client_recv(c, 2, RADIUS_PORT_AUTH, (const uint8_t *)"x", 1, 0),
	         RADIUS_ERR_INVAL);
	free(m);
	radius_client_free(c);

	memset(&cfg, 0, sizeof(cfg));
	cfg.rand = fake_rand;
	CHECK(radius_client_new(&cfg) == NULL); /* no server */
	cfg.n_servers = 1;
	CHECK(radius_client_new(&cfg) == NULL); /* empty secret */
}
