/*
 * daemon/eapradius.c: one IKE SA's EAP through RADIUS, against a fake
 * RADIUS server on a loopback socket of this test (the hub sends real
 * datagrams; the answers are made with daemon/radius.c's server-side
 * helpers). RFC 3579 §2.1 (EAP-Response/Identity first, User-Name), §2.6.3
 * (State echoed, EAP-Message of a Challenge/Accept/Reject), RFC 2548 (MSK
 * from MS-MPPE keys), RFC 2865 §5.8/§5.25/§5.27 (Framed-IP, Class,
 * Session-Timeout kept), RFC 2866 (an Accounting-Request).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/eapradius.h"
#include "ike/eap.h"
#include "tests/unit/test.h"

static const char secret[] = "eapradius test secret";

struct fake {
	int fd;
	struct sockaddr_in from; /* the hub's socket */
	uint8_t req[RADIUS_PKT_MAX];
	size_t req_len;
};

static void fake_open(struct fake *f, struct cfg_radius *cfg)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	struct sockaddr_in *sa = (struct sockaddr_in *)&cfg->servers[0].addr;

	memset(f, 0, sizeof(*f));
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE(f->fd >= 0);
	REQUIRE_EQ(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	REQUIRE_EQ(getsockname(f->fd, (struct sockaddr *)&a, &al), 0);
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_servers = 1;
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg->servers[0].auth_port = ntohs(a.sin_port);
	cfg->servers[0].acct_port = ntohs(a.sin_port);
	cfg->servers[0].secret_len = strlen(secret);
	memcpy(cfg->servers[0].secret, secret, strlen(secret));
	memcpy(cfg->nas_identifier, "ut", 3);
}

/* The next request the hub sent (1), or 0 after 1 s. */
static int fake_recv(struct fake *f)
{
	struct pollfd p = {.fd = f->fd, .events = POLLIN};
	socklen_t fl = sizeof(f->from);
	ssize_t n;

	if (poll(&p, 1, 1000) != 1)
		return 0;
	n = recvfrom(f->fd, f->req, sizeof(f->req), 0, (struct sockaddr *)&f->from, &fl);
	if (n < RADIUS_HDR_LEN)
		return 0;
	f->req_len = (size_t)n;
	return 1;
}

/* Attribute type of the last request: its value's length, or -1. */
static int req_attr(const struct fake *f, uint8_t type, const uint8_t **val)
{
	size_t off = RADIUS_HDR_LEN;
	struct radius_attr a;
	ssize_t len = radius_pkt_check(f->req, f->req_len);

	if (len < 0)
		return -1;
	while (radius_attr_next(f->req, (size_t)len, &off, &a) == 1)
		if (a.type == type) {
			if (val)
				*val = a.val;
			return a.len;
		}
	return -1;
}

/* Answer the last request with m (code set), signed with sec. */
static void fake_answer(struct fake *f, struct radius_msg *m, const char *sec)
{
	uint8_t out[RADIUS_PKT_MAX], auth[RADIUS_AUTH_LEN];
	ssize_t n;

	memcpy(auth, f->req + 4, RADIUS_AUTH_LEN);
	n = radius_encode(out, sizeof(out), m, f->req[1], auth, (const uint8_t *)sec, strlen(sec));
	REQUIRE(n > 0);
	REQUIRE_EQ(sendto(f->fd, out, (size_t)n, 0, (struct sockaddr *)&f->from, sizeof(f->from)),
	           n);
}

/* MS-MPPE-Recv-Key and -Send-Key for the last request (RFC 2548). */
static void add_keys(struct fake *f, struct radius_msg *m, const uint8_t recv[32],
                     const uint8_t send[32])
{
	uint8_t v[64];
	ssize_t n;

	n = radius_mppe_encrypt(v, sizeof(v), recv, 32, 0x8001, f->req + 4, (const uint8_t *)secret,
	                        strlen(secret));
	REQUIRE(n > 0);
	REQUIRE_EQ(radius_msg_add_vsa(m, RADIUS_VENDOR_MICROSOFT, RADIUS_MS_MPPE_RECV_KEY, v,
	                              (size_t)n),
	           0);
	n = radius_mppe_encrypt(v, sizeof(v), send, 32, 0x8002, f->req + 4, (const uint8_t *)secret,
	                        strlen(secret));
	REQUIRE(n > 0);
	REQUIRE_EQ(radius_msg_add_vsa(m, RADIUS_VENDOR_MICROSOFT, RADIUS_MS_MPPE_SEND_KEY, v,
	                              (size_t)n),
	           0);
}

/* Let the hub read its socket; the one event (1) into *ev, or 0. */
static int hub_event(struct radhub *h, struct radius_event *ev)
{
	struct pollfd p = {.fd = radhub_fd(h, AF_INET), .events = POLLIN};

	if (poll(&p, 1, 1000) != 1)
		return 0;
	radhub_input(h, p.fd, 1);
	return radhub_poll(h, ev);
}

static void ev_init(struct ike_event *ev, const uint8_t *eap, size_t len)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = IKE_EV_NEED;
	ev->need = IKE_NEED_EAP;
	ev->eap_server = true;
	ev->peer_id.type = IKE_ID_IPV4_ADDR;
	ev->peer_id.len = 4;
	memcpy(ev->peer_id.data, "\x0a\x00\x00\x02", 4);
	if (len)
		memcpy(ev->eap, eap, len);
	ev->eap_len = len;
}

static struct fake F;
static struct radhub *H;
static struct radsess *S;
static int user_tag;

static void setup(void)
{
	struct cfg_radius cfg;
	char err[128];

	fake_open(&F, &cfg);
	H = radhub_new(&cfg, err, sizeof(err));
	REQUIRE(H != NULL);
	S = NULL;
}

static void teardown(void)
{
	radsess_free(S);
	radhub_free(H);
	close(F.fd);
}

/* Identity round: the Request/Identity ours, the peer's answer goes out
 * as the first Access-Request. Returns the Request's identifier. */
static uint8_t identity_round(const char *name)
{
	struct ike_event ev;
	struct ike_answer ans;
	struct eap_pkt p;
	uint8_t rsp[300];
	char why[200];
	int n;

	ev_init(&ev, NULL, 0);
	REQUIRE_EQ(radsess_answer(&S, H, &ev, "%any", &user_tag, &ans, why, sizeof(why), 1), 1);
	REQUIRE_EQ(ans.eap_status, IKE_EAP_CONTINUE);
	REQUIRE(eap_parse(ans.eap, ans.eap_len, &p) > 0);
	CHECK_EQ(p.code, EAP_CODE_REQUEST);
	CHECK_EQ(p.type, EAP_TYPE_IDENTITY);
	n = eap_build(rsp, sizeof(rsp), EAP_CODE_RESPONSE, p.id, EAP_TYPE_IDENTITY,
	              (const uint8_t *)name, strlen(name));
	REQUIRE(n > 0);
	ev_init(&ev, rsp, (size_t)n);
	REQUIRE_EQ(radsess_answer(&S, H, &ev, "%any", &user_tag, &ans, why, sizeof(why), 1), 0);
	radhub_flush(H);
	REQUIRE_EQ(fake_recv(&F), 1);
	return p.id;
}

TEST(eapradius_rfc3579_challenge_state_accept_msk)
{
	static const uint8_t recv[32] = {1, 2, 3}, send[32] = {9, 8, 7};
	const uint8_t *v;
	uint8_t req[8], eapmsg[64], id;
	struct radius_msg m;
	struct radius_event rev;
	struct ike_answer ans;
	struct ike_event ev;
	char why[200];
	int n;

	setup();
	id = identity_round("alice");
	/* §2.1: User-Name and the peer's own Response/Identity */
	CHECK_EQ(req_attr(&F, RADIUS_A_USER_NAME, &v), 5);
	CHECK_MEM(v, "alice", 5);
	n = req_attr(&F, RADIUS_A_EAP_MESSAGE, &v);
	REQUIRE_EQ(n, 10);
	CHECK_EQ(v[0], EAP_CODE_RESPONSE);
	CHECK_EQ(v[1], id);
	CHECK_EQ(req_attr(&F, RADIUS_A_MESSAGE_AUTHENTICATOR, NULL), 16);
	CHECK_EQ(req_attr(&F, RADIUS_A_STATE, NULL), -1);

	/* Access-Challenge: an MD5-Challenge request and a State */
	n = eap_build(req, sizeof(req), EAP_CODE_REQUEST, (uint8_t)(id + 1), EAP_TYPE_MD5,
	              (const uint8_t *)"\x01x", 2);
	radius_msg_init(&m, RADIUS_ACCESS_CHALLENGE);
	REQUIRE_EQ(radius_msg_add_eap(&m, req, (size_t)n), 0);
	REQUIRE_EQ(radius_msg_add(&m, RADIUS_A_STATE, "st-1", 4), 0);
	fake_answer(&F, &m, secret);
	REQUIRE_EQ(hub_event(H, &rev), 1);
	CHECK(rev.user == &user_tag);
	radsess_result(S, &rev, &ans, why, sizeof(why));
	radius_event_wipe(&rev);
	REQUIRE_EQ(ans.eap_status, IKE_EAP_CONTINUE);
	CHECK_EQ(ans.eap_len, (size_t)n);
	CHECK_MEM(ans.eap, req, (size_t)n);

	/* the peer answers: State echoed (RFC 2865 §5.24) */
	n = eap_build(eapmsg, sizeof(eapmsg), EAP_CODE_RESPONSE, (uint8_t)(id + 1), EAP_TYPE_MD5,
	              (const uint8_t *)"\x01y", 2);
	ev_init(&ev, eapmsg, (size_t)n);
	REQUIRE_EQ(radsess_answer(&S, H, &ev, "%any", &user_tag, &ans, why, sizeof(why), 1), 0);
	radhub_flush(H);
	REQUIRE_EQ(fake_recv(&F), 1);
	CHECK_EQ(req_attr(&F, RADIUS_A_STATE, &v), 4);
	CHECK_MEM(v, "st-1", 4);

	/* Access-Accept: EAP-Success, keys, Framed-IP, Class, Session-Timeout */
	radius_msg_init(&m, RADIUS_ACCESS_ACCEPT);
	n = eap_build_result(req, sizeof(req), true, (uint8_t)(id + 1));
	REQUIRE_EQ(radius_msg_add_eap(&m, req, (size_t)n), 0);
	add_keys(&F, &m, recv, send);
	REQUIRE_EQ(radius_msg_add(&m, RADIUS_A_FRAMED_IP_ADDRESS, "\x0a\x0a\x00\x07", 4), 0);
	REQUIRE_EQ(radius_msg_add(&m, RADIUS_A_CLASS, "grp", 3), 0);
	REQUIRE_EQ(radius_msg_add_u32(&m, RADIUS_A_SESSION_TIMEOUT, 3600), 0);
	fake_answer(&F, &m, secret);
	REQUIRE_EQ(hub_event(H, &rev), 1);
	radsess_result(S, &rev, &ans, why, sizeof(why));
	radius_event_wipe(&rev);
	REQUIRE_EQ(ans.eap_status, IKE_EAP_SUCCESS);
	CHECK_EQ(ans.eap_len, 4u);
	CHECK_EQ(ans.eap[0], EAP_CODE_SUCCESS);
	/* strongSwan's order: Recv-Key | Send-Key */
	REQUIRE_EQ(ans.msk_len, 64u);
	CHECK_MEM(ans.msk, recv, 32);
	CHECK_MEM(ans.msk + 32, send, 32);
	CHECK_EQ(ans.eap_id.type, IKE_ID_FQDN);
	CHECK_EQ(ans.eap_id.len, 5);
	CHECK_MEM(ans.eap_id.data, "alice", 5);
	{
		const struct radsess_user *u = radsess_user(S);

		CHECK(u->has_framed_ip);
		CHECK_MEM(u->framed_ip, "\x0a\x0a\x00\x07", 4);
		CHECK_EQ(u->class_len, 3u);
		CHECK_MEM(u->class_, "grp", 3);
		CHECK_EQ(u->session_timeout, 3600u);
	}

	/* accounting Start (RFC 2866 §5.1): session id, user, Class */
	{
		struct radacct_counts c = {0};

		REQUIRE_EQ(radsess_account(S, RADIUS_ACCT_START, (const uint8_t *)"\x0a\x0a\x00\x07",
		                           &c, 2, 0),
		           0);
		CHECK(radsess_accounting(S));
		radhub_flush(H);
		REQUIRE_EQ(fake_recv(&F), 1);
		CHECK_EQ(F.req[0], RADIUS_ACCOUNTING_REQUEST);
		CHECK_EQ(req_attr(&F, RADIUS_A_ACCT_SESSION_ID, NULL), 16);
		CHECK_EQ(req_attr(&F, RADIUS_A_CLASS, &v), 3);
		CHECK_EQ(req_attr(&F, RADIUS_A_FRAMED_IP_ADDRESS, NULL), 4);
		CHECK_EQ(req_attr(&F, RADIUS_A_ACCT_INPUT_OCTETS, NULL), -1);
	}
	teardown();
}

TEST(eapradius_accept_without_keys_refused)
{
	struct radius_msg m;
	struct radius_event rev;
	struct ike_answer ans;
	char why[200];

	setup();
	identity_round("bob");
	radius_msg_init(&m, RADIUS_ACCESS_ACCEPT);
	fake_answer(&F, &m, secret);
	REQUIRE_EQ(hub_event(H, &rev), 1);
	radsess_result(S, &rev, &ans, why, sizeof(why));
	radius_event_wipe(&rev);
	CHECK_EQ(ans.eap_status, IKE_EAP_FAILURE);
	CHECK_EQ(ans.eap_len, 4u);
	CHECK_EQ(ans.eap[0], EAP_CODE_FAILURE);
	CHECK(strstr(why, "without MS-MPPE keys") != NULL);
	CHECK_EQ(ans.msk_len, 0u);
	teardown();
}

TEST(eapradius_reject_says_why)
{
	struct radius_msg m;
	struct radius_event rev;
	struct ike_answer ans;
	char why[200];

	setup();
	identity_round("carol");
	radius_msg_init(&m, RADIUS_ACCESS_REJECT);
	REQUIRE_EQ(radius_msg_add_str(&m, RADIUS_A_REPLY_MESSAGE, "account\nlocked"), 0);
	fake_answer(&F, &m, secret);
	REQUIRE_EQ(hub_event(H, &rev), 1);
	radsess_result(S, &rev, &ans, why, sizeof(why));
	radius_event_wipe(&rev);
	CHECK_EQ(ans.eap_status, IKE_EAP_FAILURE);
	CHECK_EQ(ans.eap[0], EAP_CODE_FAILURE);
	/* (its newline would have split the log line) */
	CHECK_STREQ(why, "RADIUS server 1 rejected carol: account?locked");
	teardown();
}

/* A forged answer (wrong secret) is dropped and counted; the request
 * keeps waiting for the real one (Blast-RADIUS: it must not end it). */
TEST(eapradius_forged_answer_dropped_request_waits)
{
	static const uint8_t k[32] = {5};
	struct radius_msg m;
	struct radius_event rev;
	struct ike_answer ans;
	char why[200];

	setup();
	identity_round("dave");
	radius_msg_init(&m, RADIUS_ACCESS_ACCEPT);
	add_keys(&F, &m, k, k);
	fake_answer(&F, &m, "not the secret");
	CHECK_EQ(hub_event(H, &rev), 0);
	CHECK_EQ(radhub_counters(H)->drop_authenticator + radhub_counters(H)->drop_msgauth, 1u);
	radius_msg_init(&m, RADIUS_ACCESS_REJECT);
	fake_answer(&F, &m, secret);
	REQUIRE_EQ(hub_event(H, &rev), 1);
	radsess_result(S, &rev, &ans, why, sizeof(why));
	radius_event_wipe(&rev);
	CHECK_EQ(ans.eap_status, IKE_EAP_FAILURE);
	teardown();
}

/* An empty EAP identity (Android) stands for the IKE identity, and we
 * send a Response/Identity with it. */
TEST(eapradius_empty_identity_uses_ike_id)
{
	const uint8_t *v;

	setup();
	identity_round("");
	/* (an address ID as text, as strongSwan prints it) */
	REQUIRE_EQ(req_attr(&F, RADIUS_A_USER_NAME, &v), 8);
	CHECK_MEM(v, "10.0.0.2", 8);
	REQUIRE_EQ(req_attr(&F, RADIUS_A_EAP_MESSAGE, &v), 13);
	CHECK_MEM(v + 5, "10.0.0.2", 8);
	teardown();
}

TEST(eapradius_bad_peer_messages_fail_without_request)
{
	static const char *bad_names[] = {"a\nb", "x\x7f"};
	struct ike_event ev;
	struct ike_answer ans;
	struct eap_pkt p;
	uint8_t rsp[64];
	char why[200];
	int n;

	for (size_t i = 0; i < 2; i++) {
		setup();
		ev_init(&ev, NULL, 0);
		REQUIRE_EQ(radsess_answer(&S, H, &ev, "", NULL, &ans, why, sizeof(why), 1), 1);
		REQUIRE(eap_parse(ans.eap, ans.eap_len, &p) > 0);
		n = eap_build(rsp, sizeof(rsp), EAP_CODE_RESPONSE, p.id, EAP_TYPE_IDENTITY,
		              (const uint8_t *)bad_names[i], strlen(bad_names[i]));
		ev_init(&ev, rsp, (size_t)n);
		CHECK_EQ(radsess_answer(&S, H, &ev, "", NULL, &ans, why, sizeof(why), 1), 1);
		CHECK_EQ(ans.eap_status, IKE_EAP_FAILURE);
		radhub_flush(H);
		CHECK_EQ(radhub_pending(H), 0u);
		teardown();
	}
	/* a Response to another Identifier, and a Request from the peer */
	for (int k = 0; k < 2; k++) {
		setup();
		ev_init(&ev, NULL, 0);
		REQUIRE_EQ(radsess_answer(&S, H, &ev, "%any", NULL, &ans, why, sizeof(why), 1), 1);
		REQUIRE(eap_parse(ans.eap, ans.eap_len, &p) > 0);
		n = eap_build(rsp, sizeof(rsp), k ? EAP_CODE_REQUEST : EAP_CODE_RESPONSE,
		              (uint8_t)(p.id + (k ? 0 : 1)), EAP_TYPE_IDENTITY,
		              (const uint8_t *)"eve", 3);
		ev_init(&ev, rsp, (size_t)n);
		CHECK_EQ(radsess_answer(&S, H, &ev, "%any", NULL, &ans, why, sizeof(why), 1), 1);
		CHECK_EQ(ans.eap_status, IKE_EAP_FAILURE);
		CHECK_EQ(radhub_pending(H), 0u);
		teardown();
	}
}

/* A session freed while its request is out (the IKE SA went): the
 * request is forgotten, its late answer dropped as unknown. */
TEST(eapradius_free_cancels_request)
{
	struct radius_msg m;
	struct radius_event rev;

	setup();
	identity_round("frank");
	CHECK_EQ(radhub_pending(H), 1u);
	radsess_free(S);
	S = NULL;
	CHECK_EQ(radhub_pending(H), 0u);
	radius_msg_init(&m, RADIUS_ACCESS_REJECT);
	fake_answer(&F, &m, secret);
	CHECK_EQ(hub_event(H, &rev), 0);
	CHECK_EQ(radhub_counters(H)->drop_unknown_id, 1u);
	teardown();
}

/* The requests one server can have in flight are capped (256 Identifiers,
 * RFC 2865 §3): peers that start EAP and never finish (no authentication
 * is needed to start) fill them; the next peer is refused at once, with
 * the reason, and no request is queued for it. */
TEST(eapradius_in_flight_cap_filled_next_refused)
{
	struct radsess *many[256] = {0};
	struct ike_event ev;
	struct ike_answer ans;
	char why[200];

	setup();
	ev_init(&ev, NULL, 0);
	for (int i = 0; i < 256; i++)
		REQUIRE_EQ(radsess_answer(&many[i], H, &ev, "someone", NULL, &ans, why, sizeof(why),
		                          1),
		           0);
	CHECK_EQ(radhub_pending(H), 256u);
	CHECK_EQ(radsess_answer(&S, H, &ev, "someone", NULL, &ans, why, sizeof(why), 1), 1);
	CHECK_EQ(ans.eap_status, IKE_EAP_FAILURE);
	CHECK_STREQ(why, "cannot send an Access-Request: 256 requests in flight to the RADIUS "
	                 "server already");
	CHECK_EQ(radhub_pending(H), 256u);
	/* one ends: room for the next */
	radsess_free(many[0]);
	many[0] = NULL;
	radsess_free(S);
	S = NULL;
	CHECK_EQ(radsess_answer(&S, H, &ev, "someone", NULL, &ans, why, sizeof(why), 1), 0);
	for (int i = 1; i < 256; i++)
		radsess_free(many[i]);
	CHECK_EQ(radhub_pending(H), 1u);
	teardown();
}
