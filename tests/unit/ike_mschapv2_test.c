/*
 * ike/eap_mschapv2: RFC 2759 §9.2's and RFC 3079 §3.5.3's known answers
 * (tests/vectors/eap_mschapv2_rfc.txt), then whole conversations through
 * ike/eap's server and peer: success, wrong passwords with retries and
 * E=691, a forged Authenticator Response, an NT-hash secret, a Nak.
 */
#include "tests/unit/test.h"

#include "ike/eap.h"
#include "ike/eap_mschapv2.h"
#include "ike/wire.h"

#define VEC "eap_mschapv2_rfc.txt"

struct rfc2759 {
	uint8_t user[4], auth_ch[16], peer_ch[16], challenge[8], hash[16], nt_resp[24], hh[16],
	    auth[20];
};

static void load(struct rfc2759 *v)
{
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "user_name", v->user, 4), 4);
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "auth_challenge", v->auth_ch, 16), 16);
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "peer_challenge", v->peer_ch, 16), 16);
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "challenge", v->challenge, 8), 8);
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "password_hash", v->hash, 16), 16);
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "nt_response", v->nt_resp, 24), 24);
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "password_hash_hash", v->hh, 16), 16);
	REQUIRE_EQ(test_vector_get(VEC, "rfc2759_9_2", "auth_response", v->auth, 20), 20);
}

TEST(mschapv2_rfc2759_9_2_known_answers)
{
	struct rfc2759 v;
	uint8_t h[16], ch[8], r[24], a[20];

	load(&v);
	REQUIRE_EQ(eap_mschapv2_nt_hash((const uint8_t *)"clientPass", 10, h), 0);
	CHECK_MEM(h, v.hash, 16);
	eap_mschapv2_challenge_hash(v.peer_ch, v.auth_ch, v.user, 4, ch);
	CHECK_MEM(ch, v.challenge, 8);
	eap_mschapv2_nt_response(v.auth_ch, v.peer_ch, v.user, 4, v.hash, r);
	CHECK_MEM(r, v.nt_resp, 24);
	eap_mschapv2_auth_response(v.hash, v.nt_resp, v.peer_ch, v.auth_ch, v.user, 4, a);
	CHECK_MEM(a, v.auth, 20);

	/* §8.2: a "DOMAIN\" prefix is not hashed. */
	eap_mschapv2_nt_response(v.auth_ch, v.peer_ch, (const uint8_t *)"CORP\\User", 9, v.hash, r);
	CHECK_MEM(r, v.nt_resp, 24);
}

TEST(mschapv2_rfc3079_3_5_3_master_key_and_msk)
{
	struct rfc2759 v;
	uint8_t mk[16], want_mk[16], send[16], msk[64], zero[32] = {0};

	load(&v);
	REQUIRE_EQ(test_vector_get(VEC, "rfc3079_3_5_3", "master_key", want_mk, 16), 16);
	REQUIRE_EQ(test_vector_get(VEC, "rfc3079_3_5_3", "send_start_key", send, 16), 16);
	eap_mschapv2_master_key(v.hash, v.nt_resp, mk);
	CHECK_MEM(mk, want_mk, 16);
	/* MSK = MasterReceiveKey | MasterSendKey | 32 zeros, the server's
	 * view: RFC 3079's SendStartKey128 is its second half. */
	eap_mschapv2_derive_msk(v.hash, v.nt_resp, msk);
	CHECK_MEM(msk + 16, send, 16);
	CHECK_MEM(msk + 32, zero, 32);
	CHECK(memcmp(msk, msk + 16, 16) != 0);
}

TEST(mschapv2_rfc2759_utf16_password_bounds)
{
	/* "é" (U+00E9) and "😀" (U+1F600, a surrogate pair) */
	static const uint8_t e_acute[] = {0xc3, 0xa9}, emoji[] = {0xf0, 0x9f, 0x98, 0x80};
	static const uint8_t bad[][4] = {
	    {0xc0, 0xaf},             /* overlong '/' */
	    {0xed, 0xa0, 0x80},       /* a surrogate */
	    {0xf4, 0x90, 0x80, 0x80}, /* past U+10FFFF */
	    {0xe2, 0x82},             /* truncated */
	    {0xff},
	};
	static const size_t bad_len[] = {2, 3, 4, 2, 1};
	uint8_t pw[MSCHAPV2_PASSWORD_MAX + 3], h[16], h2[16];

	CHECK_EQ(eap_mschapv2_nt_hash(e_acute, 2, h), 0);
	CHECK_EQ(eap_mschapv2_nt_hash(emoji, 4, h), 0);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ(eap_mschapv2_nt_hash(bad[i], bad_len[i], h), IKE_ERR_INVAL);

	memset(pw, 'a', sizeof(pw));
	CHECK_EQ(eap_mschapv2_nt_hash(pw, MSCHAPV2_PASSWORD_MAX, h), 0);
	CHECK_EQ(eap_mschapv2_nt_hash(pw, MSCHAPV2_PASSWORD_MAX + 1, h), IKE_ERR_INVAL);
	/* 255 units and one pair: 257 units */
	memcpy(pw + MSCHAPV2_PASSWORD_MAX - 1, emoji, 4);
	CHECK_EQ(eap_mschapv2_nt_hash(pw, MSCHAPV2_PASSWORD_MAX + 3, h), IKE_ERR_INVAL);

	/* The secret as a hash is the same secret. */
	CHECK_EQ(eap_mschapv2_secret_hash(
	             &(struct eap_mschapv2_secret){false, (const uint8_t *)"clientPass", 10}, h),
	         0);
	CHECK_EQ(eap_mschapv2_secret_hash(&(struct eap_mschapv2_secret){true, h, 16}, h2), 0);
	CHECK_MEM(h, h2, 16);
	CHECK_EQ(eap_mschapv2_secret_hash(&(struct eap_mschapv2_secret){true, h, 15}, h2),
	         IKE_ERR_INVAL);
}

/* ---- conversations ----------------------------------------------------------- */

/* A counter stream: unpredictable it is not, reproducible it is. */
static void test_rand(void *ctx, uint8_t *buf, size_t len)
{
	uint8_t *seed = ctx;

	for (size_t i = 0; i < len; i++)
		buf[i] = (*seed)++;
}

/* The server's users: carol / "clientPass", and dave by NT hash of "s3cret". */
static uint8_t dave_hash[16];

static int lookup(void *ctx, const uint8_t *name, size_t len, struct eap_mschapv2_secret *sec)
{
	int *calls = ctx;

	(*calls)++;
	if (len == 5 && memcmp(name, "carol", 5) == 0) {
		*sec = (struct eap_mschapv2_secret){false, (const uint8_t *)"clientPass", 10};
		return 0;
	}
	if (len == 4 && memcmp(name, "dave", 4) == 0) {
		*sec = (struct eap_mschapv2_secret){true, dave_hash, 16};
		return 0;
	}
	return -1;
}

struct world {
	uint8_t srand, prand;
	int lookups;
	struct eap_mschapv2 sm, pm;
	struct eap_server s;
	struct eap_peer p;
	uint8_t req[512], resp[512];
	size_t req_len, resp_len;
};

static void setup(struct world *w, const char *user, const char *password, unsigned retries,
                  bool final_r0)
{
	struct eap_mschapv2_server_cfg cfg = {
	    .lookup = lookup,
	    .lookup_ctx = &w->lookups,
	    .rand = test_rand,
	    .rand_ctx = &w->srand,
	    .retries = retries,
	    .final_r0 = final_r0,
	};
	struct eap_mschapv2_secret sec = {false, (const uint8_t *)password, strlen(password)};
	struct eap_method sm = {&eap_mschapv2_ops, &w->sm}, pm = {&eap_mschapv2_ops, &w->pm};

	memset(w, 0, sizeof(*w));
	w->srand = 0x10;
	w->prand = 0x80;
	REQUIRE_EQ(eap_mschapv2_nt_hash((const uint8_t *)"s3cret", 6, dave_hash), 0);
	REQUIRE_EQ(eap_mschapv2_server_init(&w->sm, &cfg), 0);
	REQUIRE_EQ(eap_mschapv2_peer_init(&w->pm, (const uint8_t *)user, strlen(user), &sec,
	                                  test_rand, &w->prand),
	           0);
	REQUIRE_EQ(eap_server_init(&w->s, &sm, 1, true, (const uint8_t *)"192.0.2.9", 9, 1), 0);
	REQUIRE_EQ(eap_peer_init(&w->p, &pm, 1, (const uint8_t *)user, strlen(user)), 0);
	REQUIRE_EQ(eap_server_start(&w->s, w->req, sizeof(w->req), &w->req_len), EAP_SEND);
}

static int to_peer(struct world *w)
{
	return eap_peer_process(&w->p, w->req, w->req_len, w->resp, sizeof(w->resp), &w->resp_len);
}

static int to_server(struct world *w)
{
	return eap_server_process(&w->s, w->resp, w->resp_len, w->req, sizeof(w->req),
	                          &w->req_len);
}

/* The message of a Success / Failure Request, as a C string. */
static const char *message(const struct world *w, char *buf, size_t cap)
{
	size_t n = w->req_len > 9 ? w->req_len - 9 : 0;

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, w->req + 9, n);
	buf[n] = 0;
	return buf;
}

static void converse_ok(const char *user, const char *password)
{
	struct world w;
	uint8_t m1[EAP_MSK_MAX], m2[EAP_MSK_MAX];
	const uint8_t *name;
	size_t n;

	setup(&w, user, password, 2, false);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);   /* Identity */
	REQUIRE_EQ(to_server(&w), EAP_SEND); /* Challenge */
	/* EAP Request, type 26, OpCode 1, MS-Length = Length - 5,
	 * Value-Size 16, our rand, "tunsec" */
	REQUIRE_EQ(w.req_len, 5 + 4 + 1 + 16 + 6);
	CHECK_EQ(w.req[4], EAP_TYPE_MSCHAPV2);
	CHECK_EQ(w.req[5], MSCHAPV2_OP_CHALLENGE);
	CHECK_EQ(wire_load16(w.req + 7), w.req_len - 5);
	CHECK_EQ(w.req[9], 16);
	CHECK_EQ(w.req[10], 0x10);
	CHECK_MEM(w.req + 26, "tunsec", 6);

	REQUIRE_EQ(to_peer(&w), EAP_SEND); /* Response */
	REQUIRE_EQ(w.resp_len, 5 + 4 + 1 + 49 + strlen(user));
	CHECK_EQ(w.resp[5], MSCHAPV2_OP_RESPONSE);
	CHECK_EQ(w.resp[6], w.req[6]); /* MS-CHAPv2-ID echoed */
	CHECK_EQ(w.resp[9], 49);

	REQUIRE_EQ(to_server(&w), EAP_SEND); /* Success Request */
	CHECK_EQ(w.req[5], MSCHAPV2_OP_SUCCESS);
	CHECK_EQ(w.req[9], 'S');
	CHECK_EQ(w.req[10], '=');
	REQUIRE_EQ(to_peer(&w), EAP_SEND); /* Success Response */
	REQUIRE_EQ(w.resp_len, 6);
	CHECK_EQ(w.resp[5], MSCHAPV2_OP_SUCCESS);
	REQUIRE_EQ(to_server(&w), EAP_SUCCESS);
	REQUIRE_EQ(to_peer(&w), EAP_SUCCESS);

	REQUIRE_EQ(eap_server_msk(&w.s, m1), 64);
	REQUIRE_EQ(eap_peer_msk(&w.p, m2), 64);
	CHECK_MEM(m1, m2, 64);
	name = eap_mschapv2_name(&w.sm, &n);
	REQUIRE_EQ(n, strlen(user));
	CHECK_MEM(name, user, n);
	CHECK_EQ(w.lookups, 1);
	eap_mschapv2_wipe(&w.sm);
	eap_mschapv2_wipe(&w.pm);
	CHECK_EQ(w.sm.msk[0] | w.pm.msk[0] | w.pm.nt_hash[0], 0);
}

TEST(mschapv2_conversation_password_and_nt_hash)
{
	converse_ok("carol", "clientPass");
	converse_ok("dave", "s3cret"); /* the server holds only the NT hash */
}

/* RFC 2759 §6: a wrong password gets E=691 R=1 and a new challenge while
 * retries are left, then EAP-Failure. The peer gives up at once, so the
 * retries are played by hand, as Windows would after asking its user. */
TEST(mschapv2_rfc2759_6_wrong_password_retries_then_failure)
{
	struct world w;
	char buf[128];
	uint8_t hash[16], new_ch[16];
	size_t n;

	setup(&w, "carol", "wrong", 2, false);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND); /* Failure Request, R=1 */
	CHECK_EQ(w.req[5], MSCHAPV2_OP_FAILURE);
	CHECK_EQ(wire_load16(w.req + 7), w.req_len - 5);
	message(&w, buf, sizeof(buf));
	CHECK(strncmp(buf, "E=691 R=1 C=", 12) == 0);
	CHECK(strstr(buf, " V=3 M=") != NULL);
	CHECK_EQ(w.sm.failures, 1);

	/* Retries by hand (Windows asks its user again). */
	REQUIRE_EQ(eap_mschapv2_nt_hash((const uint8_t *)"clientPass", 10, hash), 0);
	{
		uint8_t r[5 + 4 + 1 + 49 + 5] = {2, w.req[1], 0, sizeof(r), 26, 2, w.req[6], 0,
		                                 sizeof(r) - 5, 49};
		uint8_t wrong_ch[16] = {0};

		memset(r + 10, 0x55, 16);
		memcpy(r + 59, "carol", 5);
		/* first: answered against the old challenge: wrong again */
		eap_mschapv2_nt_response(wrong_ch, r + 10, (const uint8_t *)"carol", 5, hash, r + 34);
		memcpy(w.resp, r, sizeof(r));
		w.resp_len = sizeof(r);
		REQUIRE_EQ(to_server(&w), EAP_SEND); /* R=1 again */
		message(&w, buf, sizeof(buf));
		CHECK(strncmp(buf, "E=691 R=1 C=", 12) == 0);
		CHECK_EQ(w.sm.failures, 2);
		/* third wrong answer: retries (2) used up, EAP-Failure */
		r[1] = w.req[1];
		r[6] = w.req[6];
		memcpy(w.resp, r, sizeof(r));
		REQUIRE_EQ(to_server(&w), EAP_FAILURE);
		REQUIRE_EQ(w.req_len, 4);
		CHECK_EQ(w.req[0], EAP_CODE_FAILURE);
		CHECK_EQ(eap_server_msk(&w.s, (uint8_t[EAP_MSK_MAX]){0}), IKE_ERR_INVAL);
		(void)eap_mschapv2_name(&w.sm, &n);
		CHECK_EQ(n, 0); /* nobody authenticated */
		/* who tried, for the log only */
		const uint8_t *name = eap_mschapv2_claimed_name(&w.sm, &n);
		CHECK_EQ(n, 5);
		CHECK_MEM(name, "carol", 5);
	}

	/* The same retry answered right is accepted. */
	setup(&w, "carol", "wrong", 1, false);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	message(&w, buf, sizeof(buf));
	for (int i = 0; i < 16; i++)
		new_ch[i] = (uint8_t)((buf[12 + 2 * i] <= '9' ? buf[12 + 2 * i] - '0'
		                                              : buf[12 + 2 * i] - 'A' + 10)
		                          << 4 |
		                      (buf[13 + 2 * i] <= '9' ? buf[13 + 2 * i] - '0'
		                                              : buf[13 + 2 * i] - 'A' + 10));
	CHECK_MEM(new_ch, w.sm.auth_challenge, 16);
	{
		uint8_t r[5 + 4 + 1 + 49 + 5] = {2, w.req[1], 0, sizeof(r), 26, 2, w.req[6], 0,
		                                 sizeof(r) - 5, 49};

		memset(r + 10, 0x55, 16);
		memcpy(r + 59, "carol", 5);
		eap_mschapv2_nt_response(new_ch, r + 10, (const uint8_t *)"carol", 5, hash, r + 34);
		memcpy(w.resp, r, sizeof(r));
		w.resp_len = sizeof(r);
		REQUIRE_EQ(to_server(&w), EAP_SEND);
		CHECK_EQ(w.req[5], MSCHAPV2_OP_SUCCESS);
	}
}

/* final_r0: the last wrong answer gets "E=691 R=0", the peer's Failure
 * Response, then EAP-Failure; the peer reports 691. */
TEST(mschapv2_rfc2759_6_final_r0_and_peer_failure_response)
{
	struct world w;
	char buf[128];

	setup(&w, "carol", "wrong", 0, true);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	message(&w, buf, sizeof(buf));
	CHECK(strncmp(buf, "E=691 R=0 C=", 12) == 0);
	REQUIRE_EQ(to_peer(&w), EAP_SEND); /* Failure Response */
	REQUIRE_EQ(w.resp_len, 6);
	CHECK_EQ(w.resp[5], MSCHAPV2_OP_FAILURE);
	CHECK_EQ(w.pm.error, MSCHAPV2_ERROR_AUTHENTICATION_FAILURE);
	CHECK_EQ(w.p.state, EAP_PEER_FAILING);
	REQUIRE_EQ(to_server(&w), EAP_FAILURE);
	REQUIRE_EQ(to_peer(&w), EAP_FAILURE);
	CHECK_EQ(eap_peer_msk(&w.p, (uint8_t[EAP_MSK_MAX]){0}), IKE_ERR_INVAL);

	/* an unknown user is treated exactly as a wrong password */
	setup(&w, "mallory", "clientPass", 0, false);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_FAILURE);
	CHECK_EQ(w.lookups, 1);
}

/* The peer accepts Success only with the right Authenticator Response. */
TEST(mschapv2_peer_refuses_forged_authenticator_response)
{
	static const char *forged[] = {
	    "S=0000000000000000000000000000000000000000 M=Welcome",
	    "S=407A5589115FD0D6209F510FE9C04566932CDA5", /* short */
	    "M=Welcome",
	    "S=ZZ7A5589115FD0D6209F510FE9C04566932CDA56",
	    "", /* no message at all */
	};
	struct world w;

	for (size_t i = 0; i < 6; i++) {
		size_t len;

		setup(&w, "carol", "clientPass", 2, false);
		REQUIRE_EQ(to_peer(&w), EAP_SEND);
		REQUIRE_EQ(to_server(&w), EAP_SEND);
		REQUIRE_EQ(to_peer(&w), EAP_SEND);
		REQUIRE_EQ(to_server(&w), EAP_SEND); /* the genuine Success Request */
		if (i < 5) {
			len = strlen(forged[i]);
			memcpy(w.req + 9, forged[i], len);
		} else {
			/* the genuine value with one bit flipped, lower case */
			len = w.req_len - 9;
			for (size_t k = 11; k < 51; k++)
				if (w.req[k] >= 'A' && w.req[k] <= 'F')
					w.req[k] = (uint8_t)(w.req[k] - 'A' + 'a');
			w.req[50] ^= 1;
		}
		w.req_len = 9 + len;
		wire_store16(w.req + 2, (uint16_t)w.req_len);
		wire_store16(w.req + 7, (uint16_t)(w.req_len - 5));
		if (to_peer(&w) != EAP_FAILURE)
			test_fail(__FILE__, __LINE__, "forgery %zu accepted", i);
		CHECK_EQ(w.resp_len, 0);
		/* and an EAP-Success after it changes nothing */
		w.req_len = 4;
		memcpy(w.req, (uint8_t[]){3, w.req[1], 0, 4}, 4);
		CHECK_EQ(to_peer(&w), IKE_ERR_INVAL);
		CHECK_EQ(eap_peer_msk(&w.p, (uint8_t[EAP_MSK_MAX]){0}), IKE_ERR_INVAL);
	}

	/* lower-case hex of the genuine value is fine (RFC 2759 says upper) */
	setup(&w, "carol", "clientPass", 2, false);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	for (size_t k = 11; k < 51; k++)
		if (w.req[k] >= 'A' && w.req[k] <= 'F')
			w.req[k] = (uint8_t)(w.req[k] - 'A' + 'a');
	CHECK_EQ(to_peer(&w), EAP_SEND);
}

/* A peer that knows only MSCHAPv2 Naks TLS; the server falls back. */
TEST(mschapv2_nak_from_tls_to_mschapv2)
{
	struct world w;
	struct eap_method sm[2];
	struct eap_method_ops tls_ops = eap_mschapv2_ops;
	struct eap_mschapv2 unused;
	struct eap_mschapv2_server_cfg cfg;
	uint8_t m1[EAP_MSK_MAX], m2[EAP_MSK_MAX];

	/* The server's first choice is a TLS stand-in (an MSCHAPv2 server
	 * under type 13), which the peer Naks. */
	setup(&w, "carol", "clientPass", 2, false);
	cfg = w.sm.cfg;
	tls_ops.type = EAP_TYPE_TLS;
	REQUIRE_EQ(eap_mschapv2_server_init(&unused, &cfg), 0);
	sm[0] = (struct eap_method){&tls_ops, &unused};
	sm[1] = (struct eap_method){&eap_mschapv2_ops, &w.sm};
	REQUIRE_EQ(eap_server_init(&w.s, sm, 2, false, (const uint8_t *)"carol", 5, 77), 0);
	REQUIRE_EQ(eap_server_start(&w.s, w.req, sizeof(w.req), &w.req_len), EAP_SEND);
	CHECK_EQ(w.req[4], EAP_TYPE_TLS);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	CHECK_EQ(w.resp[4], EAP_TYPE_NAK);
	CHECK_EQ(w.resp[5], EAP_TYPE_MSCHAPV2);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	CHECK_EQ(w.req[4], EAP_TYPE_MSCHAPV2);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SEND);
	REQUIRE_EQ(to_peer(&w), EAP_SEND);
	REQUIRE_EQ(to_server(&w), EAP_SUCCESS);
	REQUIRE_EQ(to_peer(&w), EAP_SUCCESS);
	REQUIRE_EQ(eap_server_msk(&w.s, m1), 64);
	REQUIRE_EQ(eap_peer_msk(&w.p, m2), 64);
	CHECK_MEM(m1, m2, 64);
	eap_mschapv2_wipe(&unused);
}

/* Malformed method packets fail the conversation at either end. */
TEST(mschapv2_malformed_packets)
{
	struct world w;
	size_t len;

	/* server: Response with nonzero Flags; MS-Length wrong; wrong ID */
	for (int i = 0; i < 4; i++) {
		setup(&w, "carol", "clientPass", 2, false);
		REQUIRE_EQ(to_peer(&w), EAP_SEND);
		REQUIRE_EQ(to_server(&w), EAP_SEND);
		REQUIRE_EQ(to_peer(&w), EAP_SEND);
		if (i == 0)
			w.resp[10 + 48] = 1; /* Flags */
		else if (i == 1)
			w.resp[8]++; /* MS-Length */
		else if (i == 2)
			w.resp[6]++; /* MS-CHAPv2-ID */
		else
			w.resp[9] = 48; /* Value-Size */
		CHECK_EQ(to_server(&w), EAP_FAILURE);
		CHECK(w.s.why < 0);
	}
	/* peer: Challenge with Value-Size 8, a truncated one, a Success first */
	for (int i = 0; i < 3; i++) {
		setup(&w, "carol", "clientPass", 2, false);
		REQUIRE_EQ(to_peer(&w), EAP_SEND);
		REQUIRE_EQ(to_server(&w), EAP_SEND);
		if (i == 0) {
			w.req[9] = 8;
		} else if (i == 1) {
			len = 5 + 4 + 1 + 10;
			w.req_len = len;
			wire_store16(w.req + 2, (uint16_t)len);
			wire_store16(w.req + 7, (uint16_t)(len - 5));
		} else {
			w.req[5] = MSCHAPV2_OP_SUCCESS;
		}
		CHECK_EQ(to_peer(&w), EAP_FAILURE);
	}
	/* init bounds */
	{
		struct eap_mschapv2 m;
		uint8_t name[MSCHAPV2_NAME_MAX + 1] = {0};
		struct eap_mschapv2_secret sec = {false, (const uint8_t *)"x", 1};
		struct eap_mschapv2_server_cfg cfg = {0};

		CHECK_EQ(eap_mschapv2_peer_init(&m, name, sizeof(name), &sec, test_rand, NULL),
		         IKE_ERR_INVAL);
		CHECK_EQ(eap_mschapv2_peer_init(&m, name, 1, &sec, NULL, NULL), IKE_ERR_INVAL);
		sec = (struct eap_mschapv2_secret){false, (const uint8_t *)"\xff", 1};
		CHECK_EQ(eap_mschapv2_peer_init(&m, name, 1, &sec, test_rand, NULL), IKE_ERR_INVAL);
		CHECK_EQ(eap_mschapv2_server_init(&m, &cfg), IKE_ERR_INVAL);
	}
}
