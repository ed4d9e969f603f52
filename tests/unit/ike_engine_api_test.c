/*
 * The engine calls a daemon with several connections relies on: which
 * engine owns a datagram (by our SPI, RFC 7296 §2.6 / §3.1), the IKE SA
 * list for status, the suite's strongSwan name, forced UDP encapsulation
 * (RFC 3948 via §2.23's NAT detection) and fragmentation switched off
 * (RFC 7383 §2.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/aead.h"
#include "crypto/ke.h"
#include "crypto/prf.h"
#include "ike/cert.h"
#include "ike/engine.h"
#include "ike/payload.h"
#include "ike/proposal.h"
#include "tests/unit/ike_simnet.h"
#include "tests/unit/test.h"

#define SEC IKE_SEC

static void cfg(struct ike_config *c, int side)
{
	static const char psk[] = "api test secret";
	const char *me = side ? "sun.example" : "moon.example";
	const char *peer = side ? "moon.example" : "sun.example";

	memset(c, 0, sizeof(*c));
	c->local_id.type = IKE_ID_FQDN;
	c->local_id.len = (uint8_t)strlen(me);
	memcpy(c->local_id.data, me, strlen(me));
	c->remote_id.type = IKE_ID_FQDN;
	c->remote_id.len = (uint8_t)strlen(peer);
	memcpy(c->remote_id.data, peer, strlen(peer));
	c->psk = (const uint8_t *)psk;
	c->psk_len = sizeof(psk) - 1;
	c->ike_proposals = "aes256gcm16-prfsha256-x25519";
	c->esp_proposals = "aes256gcm16";
	esp_sel_parse(&c->local_ts[0], side ? "10.2.0.0/16" : "10.1.0.0/16");
	esp_sel_parse(&c->remote_ts[0], side ? "10.1.0.0/16" : "10.2.0.0/16");
	c->n_local_ts = c->n_remote_ts = 1;
	c->rand = sim_rand;
}

static void attach(struct simnet *s, int i, struct ike_config *c)
{
	c->rand_ctx = &s->node[i].rand_state;
	s->node[i].e = ike_engine_new(c);
	if (!s->node[i].e)
		test_fail(__FILE__, __LINE__, "ike_engine_new(node %d) failed", i);
}

/* The first queued datagram for node `to`, or NULL. */
static const struct sim_pkt *queued_for(const struct simnet *s, int to)
{
	for (size_t i = 0; i < s->n_q; i++)
		if (s->q[i].to == to)
			return &s->q[i];
	return NULL;
}

TEST(ike_engine_rfc7296_2_6_owns_by_our_spi)
{
	struct ike_config c0, c1, c2;
	struct sim_pkt req, resp;
	const struct sim_pkt *q;
	struct ike_engine *other;
	struct ike_path p;
	struct simnet s;

	sim_init(&s, 7, false);
	cfg(&c0, 0);
	cfg(&c1, 1);
	cfg(&c2, 1);
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	c2.rand_ctx = &s.node[1].rand_state;
	other = ike_engine_new(&c2);
	REQUIRE(other != NULL);
	sim_path(&s, 0, &p);
	CHECK(ike_engine_initiate(s.node[0].e, &p, s.now) > 0);
	sim_flush(&s);
	q = queued_for(&s, 1);
	REQUIRE(q != NULL);
	req = *q;
	/* A fresh IKE_SA_INIT request: nobody's yet (the daemon picks the
	 * connection by address); our own request is ours as initiator. */
	CHECK(!ike_engine_owns(s.node[1].e, &req.path, req.buf, req.len));
	CHECK(!ike_engine_owns(other, &req.path, req.buf, req.len));
	CHECK(!ike_engine_owns(s.node[1].e, &req.path, req.buf, 27)); /* short header */
	CHECK(sim_step(&s, 5 * SEC)); /* delivered: node 1 answers */
	sim_flush(&s);
	q = queued_for(&s, 0);
	REQUIRE(q != NULL);
	resp = *q;
	/* A retransmitted request now belongs to the half-open responder SA
	 * (from the same address), and the response to the initiator. */
	CHECK(ike_engine_owns(s.node[1].e, &req.path, req.buf, req.len));
	CHECK(!ike_engine_owns(other, &req.path, req.buf, req.len));
	CHECK(ike_engine_owns(s.node[0].e, &resp.path, resp.buf, resp.len));
	CHECK(!ike_engine_owns(s.node[1].e, &resp.path, resp.buf, resp.len));
	CHECK(!ike_engine_owns(other, &resp.path, resp.buf, resp.len));
	/* The same SPI from another address is not the half-open SA's. */
	req.path.remote.addr[3] ^= 1;
	CHECK(!ike_engine_owns(s.node[1].e, &req.path, req.buf, req.len));
	sim_run(&s, 5 * SEC);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 1);
	ike_engine_free(other);
	sim_free(&s);
}

TEST(ike_engine_sa_list_reports_established_suite_and_children)
{
	struct ike_config c0, c1;
	struct ike_sa_info a[4], b[4];
	struct ike_path p;
	struct simnet s;
	char name[128];

	sim_init(&s, 8, false);
	cfg(&c0, 0);
	cfg(&c1, 1);
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	sim_path(&s, 0, &p);
	CHECK(ike_engine_initiate(s.node[0].e, &p, s.now) > 0);
	CHECK_EQ(ike_engine_sa_list(s.node[0].e, a, 4), 1);
	CHECK(strcmp(a[0].state, "connecting") == 0);
	sim_run(&s, 5 * SEC);
	CHECK_EQ(ike_engine_sa_list(s.node[0].e, a, 4), 1);
	CHECK_EQ(ike_engine_sa_list(s.node[1].e, b, 4), 1);
	CHECK(a[0].established && b[0].established);
	CHECK(a[0].initiator && !b[0].initiator);
	CHECK_EQ(a[0].spi_i, b[0].spi_i);
	CHECK_EQ(a[0].spi_r, b[0].spi_r);
	/* each side knows the ID the other authenticated (RFC 7296 §3.5) */
	CHECK(a[0].peer_id.type == IKE_ID_FQDN && a[0].peer_id.len == 11 &&
	      memcmp(a[0].peer_id.data, "sun.example", 11) == 0);
	CHECK(b[0].peer_id.type == IKE_ID_FQDN && b[0].peer_id.len == 12 &&
	      memcmp(b[0].peer_id.data, "moon.example", 12) == 0);
	CHECK_EQ(a[0].n_children, 1);
	CHECK_EQ(b[0].n_children, 1);
	CHECK(!a[0].behind_nat && !a[0].peer_behind_nat);
	CHECK(strcmp(ike_suite_str(&a[0].suite, name, sizeof(name)),
	             "aes256gcm16-prfsha256-curve25519") == 0);
	/* cap 0: only the count */
	CHECK_EQ(ike_engine_sa_list(s.node[0].e, NULL, 0), 1);
	sim_free(&s);
}

TEST(ike_proposal_suite_str_names_like_strongswan)
{
	struct ike_suite cbc = {.encr = ENCR_AES_CBC, .key_bits = 128, .integ = AUTH_HMAC_SHA2_384_192,
	                        .prf = PRF_HMAC_SHA2_384, .ke = KE_MODP_2048};
	struct ike_suite esp = {.encr = ENCR_CHACHA20_POLY1305, .has_esn = true, .esn = true};
	char buf[128], tiny[8];

	CHECK(strcmp(ike_suite_str(&cbc, buf, sizeof(buf)), "aes128-sha384-prfsha384-modp2048") ==
	      0);
	CHECK(strcmp(ike_suite_str(&esp, buf, sizeof(buf)), "chacha20poly1305-esn") == 0);
	/* Cut at a whole keyword, always terminated. */
	CHECK(strcmp(ike_suite_str(&cbc, tiny, sizeof(tiny)), "aes128") == 0);
}

/* strongSwan's encap = yes: a NAT_DETECTION_SOURCE_IP no address matches
 * makes both sides encapsulate; the forcing side acts as the NATed one. */
TEST(ike_engine_rfc3948_forced_encapsulation)
{
	struct ike_config c0, c1;
	const struct ike_event *u0, *u1, *i0, *i1;
	struct ike_sa_info b;
	struct ike_path p;
	struct simnet s;

	sim_init(&s, 9, false);
	cfg(&c0, 0);
	cfg(&c1, 1);
	c0.force_encap = true;
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	sim_path(&s, 0, &p);
	CHECK(ike_engine_initiate(s.node[0].e, &p, s.now) > 0);
	sim_run(&s, 5 * SEC);
	i0 = sim_event(&s, 0, IKE_EV_IKE_UP, 0);
	i1 = sim_event(&s, 1, IKE_EV_IKE_UP, 0);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	CHECK(i0 && i1 && u0 && u1);
	if (i0 && i1 && u0 && u1) {
		CHECK(i0->behind_nat && !i1->behind_nat);
		CHECK(u0->child.encap && u1->child.encap);
		/* §2.23: the initiator moved to port 4500 for IKE_AUTH. */
		CHECK_EQ(i0->path.remote.port, 4500);
		CHECK_EQ(i1->path.local.port, 4500);
	}
	CHECK_EQ(ike_engine_sa_list(s.node[1].e, &b, 1), 1);
	CHECK(b.peer_behind_nat && !b.behind_nat);
	sim_free(&s);
}

/* Handshake with a 128-byte fragment size; returns node 0's datagrams. */
static size_t frag_handshake(bool disable0)
{
	struct ike_config c0, c1;
	struct ike_path p;
	struct simnet s;
	size_t n;

	sim_init(&s, 10, false);
	cfg(&c0, 0);
	cfg(&c1, 1);
	c0.fragment_len = c1.fragment_len = 128;
	c0.no_fragmentation = disable0;
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	sim_path(&s, 0, &p);
	CHECK(ike_engine_initiate(s.node[0].e, &p, s.now) > 0);
	sim_run(&s, 5 * SEC);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 1);
	n = s.node[0].n_tx + s.node[1].n_tx;
	sim_free(&s);
	return n;
}

/* RFC 7383 §2.1: fragments only when both sides announced support. */
TEST(ike_engine_rfc7383_2_1_no_fragmentation_when_disabled)
{
	/* Both announce: IKE_AUTH goes in several fragments each way. */
	CHECK(frag_handshake(false) > 4);
	/* One side does not: two requests, two whole responses. */
	CHECK_EQ(frag_handshake(true), 4);
}

static int64_t wall_2026(void *ctx)
{
	(void)ctx;
	return 1767225600; /* 2026-01-01: inside the fixtures' validity */
}

static struct ike_creds *creds(const char *cert, const char *im, const char *key,
                               const char *ca)
{
	const char *top = getenv("TUNSEC_TOP");
	char p[4][512], err[256];
	const char *certs[2] = {p[0], p[1]}, *keys[1] = {p[2]}, *cas[1] = {p[3]};
	const char *names[4] = {cert, im ? im : "", key, ca};
	struct ike_creds *c;

	for (int i = 0; i < 4; i++)
		snprintf(p[i], sizeof(p[i]), "%s/tests/vectors/certs/%s", top && *top ? top : ".",
		         names[i]);
	c = ike_creds_load(certs, im ? 2 : 1, keys, 1, cas, 1, err, sizeof(err));
	if (!c)
		test_fail(__FILE__, __LINE__, "credentials: %s", err);
	return c;
}

/* RFC 7383 §2.5: Windows' built-in client sends its certificate-carrying
 * IKE_AUTH in small fragments, more than 16 of them; reassembly must take
 * them all, also reordered and duplicated. Here the initiator's RSA
 * certificate and signature go out in 128-byte fragments. */
TEST(ike_engine_rfc7383_2_5_more_than_16_small_fragments)
{
	for (uint64_t seed = 40; seed < 43; seed++) {
		/* moon's RSA 3072 certificate and signature: ~2 KB */
		struct ike_creds *moon = creds("moon-rsa.pem", NULL, "moon-rsa.key", "ca-rsa.pem");
		struct ike_creds *sun = creds("sun-ecdsa256.pem", "ca-ecdsa.pem", "sun-ecdsa256.key",
		                              "ca-rsa.pem");
		struct ike_config c0, c1;
		struct ike_path p;
		struct simnet s;

		sim_init(&s, seed, false);
		cfg(&c0, 0);
		cfg(&c1, 1);
		c0.psk = c1.psk = NULL;
		c0.psk_len = c1.psk_len = 0;
		c0.local_auth = c0.remote_auth = c1.local_auth = c1.remote_auth = IKE_AUTHBY_PUBKEY;
		c0.local_id.len = (uint8_t)strlen("moon.tunsec.test");
		memcpy(c0.local_id.data, "moon.tunsec.test", c0.local_id.len);
		c1.remote_id = c0.local_id;
		c1.local_id.len = (uint8_t)strlen("sun.tunsec.test");
		memcpy(c1.local_id.data, "sun.tunsec.test", c1.local_id.len);
		c0.remote_id = c1.local_id;
		c0.creds = moon;
		c1.creds = sun;
		c0.send_certreq = c1.send_certreq = true;
		c0.wall_time = c1.wall_time = wall_2026;
		c0.fragment_len = 128;
		if (seed > 40)
			s.node[0].reorder_pct = s.node[0].dup_pct = 30;
		attach(&s, 0, &c0);
		attach(&s, 1, &c1);
		sim_path(&s, 0, &p);
		CHECK(ike_engine_initiate(s.node[0].e, &p, s.now) > 0);
		sim_run(&s, 10 * SEC);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), 1);
		/* IKE_SA_INIT, then IKE_AUTH in more than 16 fragments. */
		CHECK(s.node[0].n_tx > 1 + 16);
		sim_free(&s);
		ike_creds_free(sun);
		ike_creds_free(moon);
	}
}

/* RFC 8247 §2.4: MODP 1024 (group 2) only with allow_legacy, and then the
 * whole handshake works (its key exchange included); without it the
 * responder refuses the proposal. */
TEST(ike_engine_rfc8247_2_4_modp1024_only_with_legacy)
{
	for (int legacy = 0; legacy < 2; legacy++) {
		struct ike_config c0, c1;
		struct ike_path p;
		struct simnet s;

		sim_init(&s, 50, false);
		cfg(&c0, 0);
		cfg(&c1, 1);
		c0.ike_proposals = "aes256-sha256-modp1024";
		c1.ike_proposals = legacy ? "aes256-sha256-modp2048, aes256-sha256-modp1024"
		                          : "aes256-sha256-modp2048";
		c0.allow_legacy = true;
		c1.allow_legacy = legacy;
		attach(&s, 0, &c0);
		attach(&s, 1, &c1);
		sim_path(&s, 0, &p);
		CHECK(ike_engine_initiate(s.node[0].e, &p, s.now) > 0);
		sim_run(&s, 10 * SEC);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), (size_t)legacy);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), (size_t)legacy);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_REFUSED), (size_t)!legacy);
		sim_free(&s);
	}
}

/* The engine's IKE SA slots (ike/engine.c): all of them in use below. */
#define TEST_SAS 8

/* Datagrams back and forth between a and b until neither sends more;
 * nobody polls their events. */
static void shuttle(struct ike_engine *a, struct ike_engine *b, ike_time_t now)
{
	static uint8_t buf[IKE_ENGINE_MSG_MAX];
	struct ike_engine *from[2] = {a, b}, *to[2] = {b, a};
	struct ike_path p, rx;
	ssize_t n;
	bool moved = true;

	for (int round = 0; moved && round < 50; round++) {
		moved = false;
		for (int k = 0; k < 2; k++)
			while ((n = ike_engine_poll_tx(from[k], &p, buf, sizeof(buf))) > 0) {
				rx.local = p.remote;
				rx.remote = p.local;
				ike_engine_recv(to[k], &rx, buf, (size_t)n, now);
				moved = true;
			}
	}
}

/*
 * Events are never dropped, however many one stretch of calls produces:
 * the responder's queue, never drained, takes eight IKE SAs coming up
 * (IKE_UP, CHILD_UP each) and then going down (CHILD_DOWN, IKE_DOWN
 * each), 32 events, twice its first size, all in the order engine.h
 * promises. A lost CHILD_DOWN would leave keys in the data plane.
 */
TEST(ike_engine_events_never_dropped)
{
	struct ike_config c0, c1;
	struct ike_engine_stats st;
	struct ike_sa_info info[TEST_SAS];
	struct ike_event ev;
	struct ike_path p;
	struct simnet s;
	int ups = 0, downs = 0, n_ev = 0, ids[TEST_SAS];
	size_t n;

	sim_init(&s, 11, false);
	cfg(&c0, 0);
	cfg(&c1, 1);
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	REQUIRE(s.node[0].e && s.node[1].e);
	sim_path(&s, 0, &p);
	for (int i = 0; i < TEST_SAS; i++)
		REQUIRE((ids[i] = ike_engine_initiate(s.node[0].e, &p, 0)) > 0);
	shuttle(s.node[0].e, s.node[1].e, 0);
	n = ike_engine_sa_list(s.node[1].e, info, TEST_SAS);
	REQUIRE_EQ(n, TEST_SAS);
	for (int i = 0; i < TEST_SAS; i++)
		CHECK_EQ(ike_engine_delete_ike(s.node[0].e, (uint32_t)ids[i], SEC), 0);
	shuttle(s.node[0].e, s.node[1].e, SEC);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 0);
	while (ike_engine_poll_event(s.node[1].e, &ev) == 1) {
		n_ev++;
		if (ev.type == IKE_EV_IKE_UP || ev.type == IKE_EV_CHILD_UP) {
			CHECK_EQ(downs, 0); /* every up before any down here */
			ups++;
		} else if (ev.type == IKE_EV_CHILD_DOWN || ev.type == IKE_EV_IKE_DOWN) {
			downs++;
		}
		ike_event_wipe(&ev);
	}
	CHECK_EQ(n_ev, 4 * TEST_SAS);
	CHECK_EQ(ups, 2 * TEST_SAS);
	CHECK_EQ(downs, 2 * TEST_SAS);
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK_EQ(st.events_lost, 0);
	sim_free(&s);
}

/* From 10.0.0.HOST:500 to the responder at 10.0.0.1:500. */
static void initiator_path(struct ike_path *p, uint8_t host)
{
	memset(p, 0, sizeof(*p));
	p->local.family = p->remote.family = AF_INET;
	p->local.port = p->remote.port = 500;
	memcpy(p->remote.addr, "\x0a\x00\x00\x01", 4);
	memcpy(p->local.addr, "\x0a\x00\x00\x00", 4);
	p->local.addr[3] = host;
}

/* Everything x sends now, for y, received at `now`; count returned. */
static int deliver_all(struct ike_engine *x, struct ike_engine *y, ike_time_t now)
{
	static uint8_t buf[IKE_ENGINE_MSG_MAX];
	struct ike_path p, rx;
	ssize_t n;
	int k = 0;

	while ((n = ike_engine_poll_tx(x, &p, buf, sizeof(buf))) > 0) {
		rx.local = p.remote;
		rx.remote = p.local;
		ike_engine_recv(y, &rx, buf, (size_t)n, now);
		k++;
	}
	return k;
}

/*
 * RFC 7383 §2.6: each IKE SA reassembles its own fragments. Two initiators
 * send their fragmented IKE_AUTH at once, fragments interleaved at the
 * responder, and every other one of B's repeated once more (a replay by
 * B's own side): both complete on the first transmission, no
 * retransmission needed. With one reassembly buffer for the whole engine
 * each fragment of the other SA threw the first one's away.
 */
TEST(ike_engine_rfc7383_2_6_reassembly_per_sa)
{
	static uint8_t fa[64][IKE_ENGINE_MSG_MAX], fb[64][IKE_ENGINE_MSG_MAX];
	static struct ike_path pa[64], pb[64];
	size_t la[64], lb[64], na = 0, nb = 0;
	struct ike_config cr, ca, cb;
	struct ike_engine *r, *a, *b;
	struct ike_engine_stats st;
	struct ike_path path;
	struct ike_event ev;
	uint64_t ra = 1, rb = 2, rr = 3;
	int up_a = 0, up_b = 0;
	ssize_t n;

	cfg(&cr, 1);
	cfg(&ca, 0);
	cfg(&cb, 0);
	cr.fragment_len = ca.fragment_len = cb.fragment_len = 128;
	cr.rand_ctx = &rr;
	ca.rand_ctx = &ra;
	cb.rand_ctx = &rb;
	r = ike_engine_new(&cr);
	a = ike_engine_new(&ca);
	b = ike_engine_new(&cb);
	REQUIRE(r && a && b);
	initiator_path(&path, 0x0a);
	REQUIRE(ike_engine_initiate(a, &path, 0) > 0);
	initiator_path(&path, 0x0b);
	REQUIRE(ike_engine_initiate(b, &path, 0) > 0);
	/* IKE_SA_INIT both ways for each. */
	CHECK(deliver_all(a, r, 0) == 1 && deliver_all(r, a, 0) == 1);
	CHECK(deliver_all(b, r, 0) == 1 && deliver_all(r, b, 0) == 1);
	/* Their IKE_AUTH fragments, held. */
	while (na < 64 && (n = ike_engine_poll_tx(a, &pa[na], fa[na], sizeof(fa[0]))) > 0)
		la[na++] = (size_t)n;
	while (nb < 64 && (n = ike_engine_poll_tx(b, &pb[nb], fb[nb], sizeof(fb[0]))) > 0)
		lb[nb++] = (size_t)n;
	REQUIRE(na > 2 && nb > 2);
	/* Interleaved at the responder, and B's repeated. */
	for (size_t i = 0; i < na || i < nb; i++) {
		struct ike_path rx;

		if (i < na) {
			rx.local = pa[i].remote;
			rx.remote = pa[i].local;
			ike_engine_recv(r, &rx, fa[i], la[i], 0);
		}
		for (int rep = 0; i < nb && rep < 1 + (int)(i % 2); rep++) {
			rx.local = pb[i].remote;
			rx.remote = pb[i].local;
			ike_engine_recv(r, &rx, fb[i], lb[i], 0);
		}
	}
	/* The responses go back to whoever they are for. */
	{
		static uint8_t buf[IKE_ENGINE_MSG_MAX];
		struct ike_path p, rx;

		while ((n = ike_engine_poll_tx(r, &p, buf, sizeof(buf))) > 0) {
			rx.local = p.remote;
			rx.remote = p.local;
			ike_engine_recv(p.remote.addr[3] == 0x0a ? a : b, &rx, buf, (size_t)n, 0);
		}
	}
	while (ike_engine_poll_event(a, &ev) == 1) {
		up_a += ev.type == IKE_EV_CHILD_UP;
		ike_event_wipe(&ev);
	}
	while (ike_engine_poll_event(b, &ev) == 1) {
		up_b += ev.type == IKE_EV_CHILD_UP;
		ike_event_wipe(&ev);
	}
	CHECK_EQ(up_a, 1);
	CHECK_EQ(up_b, 1);
	ike_engine_get_stats(r, &st);
	CHECK_EQ(st.frag_refused, 0);
	ike_engine_free(a);
	ike_engine_free(b);
	ike_engine_free(r);
}

/* RFC 7383 §2.6: an incomplete reassembly is given up after
 * IKE_ENGINE_REASM_TIMEOUT (its memory freed, counted); the sender's
 * retransmission of all fragments then completes it. */
TEST(ike_engine_rfc7383_2_6_reassembly_times_out)
{
	static uint8_t fa[64][IKE_ENGINE_MSG_MAX];
	static struct ike_path pa[64];
	size_t la[64], na = 0;
	struct ike_config cr, ca;
	struct ike_engine *r, *a;
	struct ike_engine_stats st;
	struct ike_path path, rx;
	struct ike_event ev;
	uint64_t ra = 5, rr = 6;
	ike_time_t later = IKE_ENGINE_REASM_TIMEOUT + SEC;
	int up = 0;
	ssize_t n;

	cfg(&cr, 1);
	cfg(&ca, 0);
	cr.fragment_len = ca.fragment_len = 128;
	cr.rand_ctx = &rr;
	ca.rand_ctx = &ra;
	r = ike_engine_new(&cr);
	a = ike_engine_new(&ca);
	REQUIRE(r && a);
	initiator_path(&path, 0x0a);
	REQUIRE(ike_engine_initiate(a, &path, 0) > 0);
	CHECK(deliver_all(a, r, 0) == 1 && deliver_all(r, a, 0) == 1);
	while (na < 64 && (n = ike_engine_poll_tx(a, &pa[na], fa[na], sizeof(fa[0]))) > 0)
		la[na++] = (size_t)n;
	REQUIRE(na > 2);
	rx.local = pa[0].remote;
	rx.remote = pa[0].local;
	ike_engine_recv(r, &rx, fa[0], la[0], 0);
	CHECK(ike_engine_next_expiry(r) <= IKE_ENGINE_REASM_TIMEOUT);
	ike_engine_handle_expiry(r, later);
	ike_engine_get_stats(r, &st);
	CHECK_EQ(st.frag_timeout, 1);
	/* All of them again, as the initiator's retransmission sends them. */
	for (size_t i = 0; i < na; i++) {
		rx.local = pa[i].remote;
		rx.remote = pa[i].local;
		ike_engine_recv(r, &rx, fa[i], la[i], later);
	}
	deliver_all(r, a, later);
	while (ike_engine_poll_event(a, &ev) == 1) {
		up += ev.type == IKE_EV_CHILD_UP;
		ike_event_wipe(&ev);
	}
	CHECK_EQ(up, 1);
	ike_engine_free(a);
	ike_engine_free(r);
}
