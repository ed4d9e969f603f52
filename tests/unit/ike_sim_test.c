/*
 * ike/engine.c end to end: two engines over tests/unit/ike_simnet.c's
 * in-memory network and fake clock. Handshakes with every suite of
 * tests/unit/suites.c, the failure paths of IKE_SA_INIT and IKE_AUTH,
 * loss, duplication and reordering, exact retransmission times, Delete
 * from either side, DPD, narrowing, NAT detection. Keys are checked by
 * use: what one side seals with its outbound CHILD_SA key the other opens
 * with its inbound one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/aead.h"
#include "crypto/ke.h"
#include "ike/child.h"
#include "ike/engine.h"
#include "ike/msg.h"
#include "ike/payload.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "tests/unit/ike_simnet.h"
#include "tests/unit/suites.h"
#include "tests/unit/test.h"

#define MS  1000000ULL
#define SEC IKE_SEC

static void set_id(struct ike_identity *id, uint8_t type, const void *data, size_t len)
{
	memset(id, 0, sizeof(*id));
	id->type = type;
	id->len = (uint8_t)len;
	memcpy(id->data, data, len);
}

static void fqdn(struct ike_identity *id, const char *name)
{
	set_id(id, IKE_ID_FQDN, name, strlen(name));
}

static void sel(struct esp_sel *s, const char *cidr)
{
	if (esp_sel_parse(s, cidr) < 0)
		test_fail(__FILE__, __LINE__, "bad selector %s", cidr);
}

/*
 * Node 0 ("moon", 10.1.0.0/16) and node 1 ("sun", 10.2.0.0/16), as in
 * strongSwan's test network; each side's selectors mirror the other's.
 */
static void base_cfg(struct ike_config *c, int side, const char *ike, const char *esp,
                     const char *psk)
{
	memset(c, 0, sizeof(*c));
	fqdn(&c->local_id, side == 0 ? "moon.example" : "sun.example");
	fqdn(&c->remote_id, side == 0 ? "sun.example" : "moon.example");
	c->psk = (const uint8_t *)psk;
	c->psk_len = strlen(psk);
	c->ike_proposals = ike;
	c->esp_proposals = esp;
	sel(&c->local_ts[0], side == 0 ? "10.1.0.0/16" : "10.2.0.0/16");
	c->n_local_ts = 1;
	sel(&c->remote_ts[0], side == 0 ? "10.2.0.0/16" : "10.1.0.0/16");
	c->n_remote_ts = 1;
	c->initial_contact = true;
	c->rand = sim_rand;
}

static void attach(struct simnet *s, int i, struct ike_config *c)
{
	c->rand_ctx = &s->node[i].rand_state;
	s->node[i].e = ike_engine_new(c);
	if (!s->node[i].e)
		test_fail(__FILE__, __LINE__, "ike_engine_new(node %d) failed", i);
}

/* Both engines from one pair of configs, node 0 initiating at t = 0. */
static int start(struct simnet *s, struct ike_config *c0, struct ike_config *c1)
{
	struct ike_path p;

	attach(s, 0, c0);
	attach(s, 1, c1);
	if (!s->node[0].e || !s->node[1].e)
		return -1;
	sim_path(s, 0, &p);
	return ike_engine_initiate(s->node[0].e, &p, s->now);
}

static bool sel_eq(const struct esp_sel *a, size_t na, const struct esp_sel *b, size_t nb)
{
	return na == nb && memcmp(a, b, na * sizeof(*a)) == 0;
}

/* What a sends with its outbound key, b opens with its inbound key. */
static bool keys_work(const struct ike_child_info *a, const struct ike_child_info *b)
{
	struct aead *tx = NULL, *rx = NULL;
	uint8_t iv[AEAD_MAX_IV], icv[AEAD_MAX_ICV], buf[64], ad[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	bool ok = false;

	memset(buf, 0x5a, sizeof(buf));
	if (aead_new(&tx, a->encr, a->key_bits, a->integ, a->key_out, a->keymat_len) == 0 &&
	    aead_new(&rx, b->encr, b->key_bits, b->integ, b->key_in, b->keymat_len) == 0) {
		aead_make_iv(tx, 1, iv);
		ok = aead_seal(tx, iv, ad, sizeof(ad), NULL, 0, buf, sizeof(buf), icv) == 0 &&
		     aead_open(rx, iv, ad, sizeof(ad), NULL, 0, buf, sizeof(buf), icv) == 0 &&
		     buf[0] == 0x5a && buf[63] == 0x5a;
	}
	aead_free(tx);
	aead_free(rx);
	return ok;
}

/* The CHILD_SA events of both sides describe one SA pair, crosswise. */
static void check_child_pair(const struct ike_child_info *i, const struct ike_child_info *r,
                             const struct test_suite *t)
{
	CHECK_EQ(i->spi_in, r->spi_out);
	CHECK_EQ(i->spi_out, r->spi_in);
	CHECK(i->spi_in >= 256 && i->spi_out >= 256);
	CHECK_EQ(i->encr, t->encr);
	CHECK_EQ(r->encr, t->encr);
	CHECK_EQ(i->key_bits, t->bits);
	CHECK_EQ(i->integ, t->integ);
	CHECK_EQ(r->integ, t->integ);
	CHECK_EQ(i->keymat_len, test_suite_keymat(t));
	CHECK_EQ(r->keymat_len, i->keymat_len);
	CHECK_MEM(i->key_out, r->key_in, i->keymat_len);
	CHECK_MEM(i->key_in, r->key_out, i->keymat_len);
	/* Different keys per direction (§2.17). */
	CHECK(memcmp(i->key_in, i->key_out, i->keymat_len) != 0);
	CHECK(sel_eq(i->local, i->n_local, r->remote, r->n_remote));
	CHECK(sel_eq(i->remote, i->n_remote, r->local, r->n_local));
	CHECK(keys_work(i, r));
	CHECK(keys_work(r, i));
}

static void handshake(const char *ike, const char *esp, const struct test_suite *t)
{
	struct ike_config c0, c1;
	struct simnet s;
	const struct ike_event *u0, *u1, *i0, *i1;

	sim_init(&s, 1, false);
	base_cfg(&c0, 0, ike, esp, "a shared secret of some length");
	base_cfg(&c1, 1, ike, esp, "a shared secret of some length");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	i0 = sim_event(&s, 0, IKE_EV_IKE_UP, 0);
	i1 = sim_event(&s, 1, IKE_EV_IKE_UP, 0);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	CHECK(i0 && i1 && u0 && u1);
	if (i0 && i1 && u0 && u1) {
		CHECK(i0->initiator && !i1->initiator);
		CHECK_EQ(i0->spi_i, i1->spi_i);
		CHECK_EQ(i0->spi_r, i1->spi_r);
		CHECK(i0->spi_r != 0);
		check_child_pair(&u0->child, &u1->child, t);
		CHECK(!u0->child.encap && !u1->child.encap);
		/* No narrowing configured: what each side asked for. */
		CHECK(sel_eq(u0->child.local, u0->child.n_local, c0.local_ts, 1));
		CHECK(sel_eq(u0->child.remote, u0->child.n_remote, c0.remote_ts, 1));
	}
	/* Four messages, no retransmission, nothing else. */
	CHECK_EQ(s.node[0].n_tx, 2);
	CHECK_EQ(s.node[1].n_tx, 2);
	CHECK_EQ(s.node[0].n_rx_err + s.node[1].n_rx_err, 0);
	CHECK_EQ(s.misrouted, 0);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
	sim_free(&s);
}

TEST(ike_sim_rfc7296_1_2_psk_aes256gcm16_prfsha256_x25519)
{
	handshake("aes256gcm16-prfsha256-x25519", "aes256gcm16-esn", test_suite("aes256gcm16"));
}

TEST(ike_sim_rfc7296_1_2_psk_aes256_sha256_modp2048)
{
	handshake("aes256-sha256-modp2048", "aes256-sha256-noesn", test_suite("aes256-sha256"));
}

TEST(ike_sim_rfc7296_1_2_psk_chacha20poly1305_prfsha384_ecp256)
{
	handshake("chacha20poly1305-prfsha384-ecp256", "chacha20poly1305",
	          test_suite("chacha20poly1305"));
}

/* Every suite of tests/unit/suites.c, for the IKE SA and the CHILD_SA. */
TEST(ike_sim_rfc7296_1_2_psk_every_suite)
{
	char ike[64];

	for (const struct test_suite *t = test_suites; t->name; t++) {
		snprintf(ike, sizeof(ike), "%s-prfsha256-x25519", t->name);
		handshake(ike, t->name, t);
	}
}

/* §3.5 ID types, and a configured remote ID the peer does not match. */
TEST(ike_sim_rfc7296_3_5_id_types_and_mismatch)
{
	static const uint8_t v4[4] = {198, 51, 100, 7};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
	struct {
		uint8_t type;
		const void *data;
		size_t len;
	} ids[] = {
	    {IKE_ID_FQDN, "gw.example.org", 14},
	    {IKE_ID_RFC822_ADDR, "alice@example.org", 17},
	    {IKE_ID_IPV4_ADDR, v4, 4},
	    {IKE_ID_IPV6_ADDR, v6, 16},
	    {IKE_ID_KEY_ID, "\x01\x02\x03\xff", 4},
	};

	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		struct ike_config c0, c1;
		struct simnet s;

		sim_init(&s, 2 + k, k == 3);
		base_cfg(&c0, 0, "aes128gcm16-prfsha256-x25519", "aes128gcm16", "psk-psk-psk-psk");
		base_cfg(&c1, 1, "aes128gcm16-prfsha256-x25519", "aes128gcm16", "psk-psk-psk-psk");
		sel(&c0.local_ts[0], k == 3 ? "fd01::/64" : "10.1.0.0/16");
		sel(&c0.remote_ts[0], k == 3 ? "fd02::/64" : "10.2.0.0/16");
		sel(&c1.local_ts[0], k == 3 ? "fd02::/64" : "10.2.0.0/16");
		sel(&c1.remote_ts[0], k == 3 ? "fd01::/64" : "10.1.0.0/16");
		set_id(&c0.local_id, ids[k].type, ids[k].data, ids[k].len);
		set_id(&c1.remote_id, ids[k].type, ids[k].data, ids[k].len);
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 5 * SEC);
		CHECK(sim_event(&s, 0, IKE_EV_CHILD_UP, 0) != NULL);
		CHECK(sim_event(&s, 1, IKE_EV_CHILD_UP, 0) != NULL);
		sim_free(&s);
	}

	/* The responder expects another identity: AUTHENTICATION_FAILED. */
	{
		struct ike_config c0, c1;
		struct simnet s;
		const struct ike_event *d0, *d1;

		sim_init(&s, 9, false);
		base_cfg(&c0, 0, "aes128gcm16-prfsha256-x25519", "aes128gcm16", "psk-psk-psk-psk");
		base_cfg(&c1, 1, "aes128gcm16-prfsha256-x25519", "aes128gcm16", "psk-psk-psk-psk");
		fqdn(&c1.remote_id, "mars.example");
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 5 * SEC);
		d0 = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
		d1 = sim_event(&s, 1, IKE_EV_IKE_DOWN, 0);
		CHECK(d0 && d0->reason == IKE_REASON_AUTH_FAILED);
		CHECK(d1 && d1->reason == IKE_REASON_AUTH_FAILED);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_UP) + sim_count(&s, 1, IKE_EV_IKE_UP), 0);
		sim_free(&s);
	}
}

/* §1.2, §2.7: the responder wants another group; the initiator retries
 * with it and both sides end up on it. */
TEST(ike_sim_rfc7296_1_2_invalid_ke_payload_retry)
{
	struct ike_config c0, c1;
	struct simnet s;
	struct ike_engine_stats st;

	sim_init(&s, 3, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519-ecp256", "aes256gcm16", "secret!secret!");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-ecp256", "aes256gcm16", "secret!secret!");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK_EQ(st.invalid_ke, 1);
	CHECK(sim_event(&s, 0, IKE_EV_CHILD_UP, 0) != NULL);
	CHECK(sim_event(&s, 1, IKE_EV_CHILD_UP, 0) != NULL);
	/* INIT (x25519), INIT (ecp256), AUTH. */
	CHECK_EQ(s.node[0].n_tx, 3);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);

	/* No group in common: the responder has no group to ask for, so it
	 * is NO_PROPOSAL_CHOSEN (ike_proposal_select()). */
	sim_free(&s);
	sim_init(&s, 4, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "secret!secret!");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-ecp384", "aes256gcm16", "secret!secret!");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	{
		const struct ike_event *d = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);

		CHECK(d && d->reason == IKE_REASON_NO_PROPOSAL);
	}
	CHECK_EQ(ike_engine_sa_count(s.node[0].e) + ike_engine_sa_count(s.node[1].e), 0);
	sim_free(&s);
}

/* An INVALID_KE_PAYLOAD response naming the group we used, or one we never
 * offered, cannot be followed (§1.2): the initiator gives up at once. */
static int forged_invalid_ke(uint16_t group)
{
	struct ike_config c0;
	struct simnet s;
	struct ike_engine *e;
	struct ike_path p, tp;
	struct ike_msg *m = calloc(1, sizeof(*m));
	static uint8_t req[IKE_ENGINE_MSG_MAX], resp[256];
	struct ike_build b;
	struct ike_hdr h;
	struct ike_notify n;
	struct ike_event ev;
	uint8_t g[2] = {(uint8_t)(group >> 8), (uint8_t)group};
	ssize_t len;
	int rc = -1;

	sim_init(&s, 11, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519-ecp256", "aes256gcm16", "forged");
	c0.rand_ctx = &s.node[0].rand_state;
	e = ike_engine_new(&c0);
	sim_path(&s, 0, &p);
	if (!e || !m || ike_engine_initiate(e, &p, 0) <= 0)
		goto out;
	len = ike_engine_poll_tx(e, &tp, req, sizeof(req));
	if (len <= 0 || ike_msg_parse(m, req, (size_t)len) < 0)
		goto out;
	memset(&h, 0, sizeof(h));
	h.spi_i = m->hdr.spi_i;
	h.exchange = IKE_SA_INIT;
	h.major = 2;
	h.flags = IKE_FLAG_R;
	memset(&n, 0, sizeof(n));
	n.type = IKE_N_INVALID_KE_PAYLOAD;
	n.data = g;
	n.len = 2;
	ike_build_init(&b, resp, sizeof(resp), &h);
	ike_build_notify(&b, &n);
	len = ike_build_finish(&b, NULL);
	tp.local = p.remote;
	tp.remote = p.local;
	if (len <= 0 || ike_engine_recv(e, &tp, resp, (size_t)len, 1000) != 0)
		goto out;
	if (ike_engine_poll_event(e, &ev) == 1 && ev.type == IKE_EV_IKE_DOWN)
		rc = ev.reason;
	else if (ike_engine_poll_tx(e, &tp, req, sizeof(req)) > 0)
		rc = 0; /* retried */
out:
	free(m);
	ike_engine_free(e);
	sim_free(&s);
	return rc;
}

TEST(ike_sim_rfc7296_1_2_invalid_ke_payload_unusable)
{
	CHECK_EQ(forged_invalid_ke(KE_CURVE25519), IKE_REASON_INVALID_KE); /* the one we sent */
	CHECK_EQ(forged_invalid_ke(KE_MODP_2048), IKE_REASON_INVALID_KE);  /* never offered */
	CHECK_EQ(forged_invalid_ke(KE_ECP_256), 0);                        /* offered: retry */
}

/* §2.7: nothing in common: NO_PROPOSAL_CHOSEN, no state on the responder. */
TEST(ike_sim_rfc7296_2_7_no_proposal_chosen)
{
	struct ike_config c0, c1;
	struct simnet s;
	struct ike_engine_stats st;
	const struct ike_event *d;

	sim_init(&s, 5, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "secret!secret!");
	base_cfg(&c1, 1, "aes128-sha256-x25519", "aes256gcm16", "secret!secret!");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	d = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
	CHECK(d && d->reason == IKE_REASON_NO_PROPOSAL && d->notify == IKE_N_NO_PROPOSAL_CHOSEN);
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK_EQ(st.no_proposal, 1);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e), 0);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 0);
	/* The responder's one event says what was offered (for its log). */
	CHECK_EQ(s.node[1].n_ev, 1);
	d = sim_event(&s, 1, IKE_EV_REFUSED, 0);
	CHECK(d && d->sa_id == 0 && d->offered_ike && d->reason == IKE_REASON_NO_PROPOSAL);
	CHECK(d && strcmp(d->offered, "aes256gcm16-prfsha256-curve25519") == 0);
	sim_free(&s);

	/* IKE agrees, ESP does not: the IKE SA comes up, the CHILD_SA is
	 * refused on both sides, and the initiator closes the IKE SA. */
	sim_init(&s, 6, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "secret!secret!");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes128-sha256", "secret!secret!");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	d = sim_event(&s, 0, IKE_EV_CHILD_FAILED, 0);
	CHECK(d && d->notify == IKE_N_NO_PROPOSAL_CHOSEN);
	d = sim_event(&s, 1, IKE_EV_CHILD_FAILED, 0);
	CHECK(d && d->notify == IKE_N_NO_PROPOSAL_CHOSEN);
	d = sim_event(&s, 1, IKE_EV_REFUSED, 0);
	CHECK(d && !d->offered_ike && d->sa_id != 0 && strcmp(d->offered, "aes256gcm16-noesn") == 0);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP) + sim_count(&s, 1, IKE_EV_CHILD_UP), 0);
	d = sim_event(&s, 1, IKE_EV_IKE_DOWN, 0);
	CHECK(d && d->reason == IKE_REASON_DELETED_PEER);
	d = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
	CHECK(d && d->reason == IKE_REASON_DELETED_LOCAL);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e) + ike_engine_sa_count(s.node[1].e), 0);
	sim_free(&s);
}

/* §2.15, §2.21.2: a wrong PSK is refused with AUTHENTICATION_FAILED, and
 * both sides report it; nothing comes up. */
TEST(ike_sim_rfc7296_2_21_2_wrong_psk_authentication_failed)
{
	struct ike_config c0, c1;
	struct simnet s;
	struct ike_engine_stats st0, st1;
	const struct ike_event *d0, *d1;

	sim_init(&s, 7, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "the right secret");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "the wrong secret");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 200 * SEC);
	d0 = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
	d1 = sim_event(&s, 1, IKE_EV_IKE_DOWN, 0);
	CHECK(d0 && d0->reason == IKE_REASON_AUTH_FAILED &&
	      d0->notify == IKE_N_AUTHENTICATION_FAILED);
	CHECK(d1 && d1->reason == IKE_REASON_AUTH_FAILED);
	/* Reported at once, not after a retransmission timeout. */
	CHECK(d0 && s.node[0].ev_at[0] < 1 * SEC);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_UP) + sim_count(&s, 1, IKE_EV_IKE_UP), 0);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP) + sim_count(&s, 1, IKE_EV_CHILD_UP), 0);
	ike_engine_get_stats(s.node[0].e, &st0);
	ike_engine_get_stats(s.node[1].e, &st1);
	CHECK_EQ(st0.auth_failed, 1);
	CHECK_EQ(st1.auth_failed, 1);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e) + ike_engine_sa_count(s.node[1].e), 0);
	sim_free(&s);
}

/* §2.1: with 30% of datagrams lost each way, retransmissions still get
 * every seed through, and exactly one CHILD_SA pair results. */
TEST(ike_sim_rfc7296_2_1_loss_30pct_converges)
{
	size_t lost = 0, retransmitted = 0;

	for (uint64_t seed = 100; seed < 132; seed++) {
		struct ike_config c0, c1;
		struct simnet s;
		const struct ike_event *u0, *u1;

		sim_init(&s, seed, false);
		base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "lossy-lossy");
		base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "lossy-lossy");
		c0.retransmit_tries = 10;
		s.node[0].loss_pct = 30;
		s.node[1].loss_pct = 30;
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 600 * SEC);
		u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
		u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
		CHECK(u0 && u1);
		if (u0 && u1)
			check_child_pair(&u0->child, &u1->child, test_suite("aes256gcm16"));
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), 1);
		lost += s.lost;
		retransmitted += s.node[0].n_tx - 2;
		sim_free(&s);
	}
	/* The loss really happened, and was repaired by retransmission. */
	CHECK(lost >= 20);
	CHECK(retransmitted >= 10);
}

/* §2.1: duplicated and reordered datagrams: duplicates of a request get
 * the cached response, nothing happens twice. */
TEST(ike_sim_rfc7296_2_1_duplication_and_reordering)
{
	size_t replays = 0;

	for (uint64_t seed = 200; seed < 208; seed++) {
		struct ike_config c0, c1;
		struct simnet s;
		struct ike_engine_stats st;
		const struct ike_event *u0, *u1;

		sim_init(&s, seed, false);
		base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "dup-dup-dup");
		base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "dup-dup-dup");
		for (int i = 0; i < 2; i++) {
			s.node[i].dup_pct = 60;
			s.node[i].reorder_pct = 50;
		}
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 60 * SEC);
		u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
		u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
		CHECK(u0 && u1);
		if (u0 && u1)
			check_child_pair(&u0->child, &u1->child, test_suite("aes256gcm16"));
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), 1);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_UP), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_IKE_UP), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		ike_engine_get_stats(s.node[1].e, &st);
		replays += st.rx_retransmit;
		sim_free(&s);
	}
	CHECK(replays > 0);
}

/* §2.1: a lost IKE_AUTH response: the initiator retransmits the identical
 * request after exactly the timeout, the responder replays its cached
 * response instead of processing the request again. */
TEST(ike_sim_rfc7296_2_1_cached_response_replayed)
{
	struct ike_config c0, c1;
	struct simnet s;
	struct ike_engine_stats st;

	sim_init(&s, 8, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "cache-cache");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "cache-cache");
	s.node[1].drop_tx = 1u << 1; /* its second datagram: the IKE_AUTH response */
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 10 * SEC);
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK_EQ(st.rx_retransmit, 1);
	CHECK_EQ(s.node[0].n_tx, 3);
	CHECK_EQ(s.node[1].n_tx, 3);
	/* IKE_AUTH went out at 1 latency (after the INIT round trip: 2),
	 * again exactly 4 s later. */
	CHECK_EQ(s.node[0].tx_at[2] - s.node[0].tx_at[1], 4 * SEC);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 1);
	CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), 1);
	sim_free(&s);
}

/*
 * §2.1 and strongSwan's defaults: transmission n waits 4 s * 1.8^n; after
 * 5 retransmissions the next timeout removes the IKE SA (165.06112 s after
 * the first send). Each deadline fires exactly at its nanosecond.
 */
TEST(ike_sim_rfc7296_2_1_retransmit_exact_times_and_give_up)
{
	static const ike_time_t waits[] = {4000 * MS,  7200 * MS,      12960 * MS,
	                                   23328 * MS, 41990400000ULL, 75582720000ULL};
	struct ike_config c0;
	struct simnet s;
	struct ike_engine *e;
	struct ike_path p, tp;
	struct ike_event ev;
	static uint8_t first[IKE_ENGINE_MSG_MAX], buf[IKE_ENGINE_MSG_MAX];
	ssize_t first_len, n;
	ike_time_t t0 = 1000, t;

	sim_init(&s, 10, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "lonely-lonely");
	c0.rand_ctx = &s.node[0].rand_state;
	e = ike_engine_new(&c0);
	REQUIRE(e != NULL);
	sim_path(&s, 0, &p);
	CHECK_EQ(ike_engine_next_expiry(e), IKE_TIME_NEVER);
	CHECK(ike_engine_initiate(e, &p, t0) > 0);
	first_len = ike_engine_poll_tx(e, &tp, first, sizeof(first));
	CHECK(first_len > IKE_HDR_LEN);
	t = t0;
	for (size_t k = 0; k < sizeof(waits) / sizeof(waits[0]); k++) {
		t += waits[k];
		CHECK_EQ(ike_engine_next_expiry(e), t);
		/* One nanosecond early: nothing. */
		CHECK_EQ(ike_engine_handle_expiry(e, t - 1), 0);
		CHECK_EQ(ike_engine_poll_tx(e, &tp, buf, sizeof(buf)), 0);
		CHECK_EQ(ike_engine_poll_event(e, &ev), 0);
		CHECK_EQ(ike_engine_sa_count(e), 1);
		CHECK_EQ(ike_engine_handle_expiry(e, t), 0);
		n = ike_engine_poll_tx(e, &tp, buf, sizeof(buf));
		if (k + 1 < sizeof(waits) / sizeof(waits[0])) {
			/* A retransmission is the same datagram (§2.1). */
			CHECK_EQ(n, first_len);
			CHECK(n == first_len && memcmp(buf, first, (size_t)n) == 0);
			CHECK(ike_addr_equal(&tp.remote, &p.remote));
		} else {
			CHECK_EQ(n, 0);
		}
	}
	CHECK_EQ(t - t0, 165061120000ULL);
	CHECK_EQ(ike_engine_poll_event(e, &ev), 1);
	CHECK_EQ(ev.type, IKE_EV_IKE_DOWN);
	CHECK_EQ(ev.reason, IKE_REASON_TIMEOUT);
	CHECK_EQ(ike_engine_sa_count(e), 0);
	CHECK_EQ(ike_engine_next_expiry(e), IKE_TIME_NEVER);
	ike_engine_free(e);

	/* Configured otherwise: 1 s, base 2.0, 2 retries: 1 + 2 + 4 s. */
	c0.retransmit_timeout = SEC;
	c0.retransmit_base = 2000;
	c0.retransmit_tries = 2;
	e = ike_engine_new(&c0);
	REQUIRE(e != NULL);
	CHECK(ike_engine_initiate(e, &p, 0) > 0);
	CHECK_EQ(ike_engine_next_expiry(e), SEC);
	ike_engine_handle_expiry(e, SEC);
	CHECK_EQ(ike_engine_next_expiry(e), 3 * SEC);
	ike_engine_handle_expiry(e, 3 * SEC);
	CHECK_EQ(ike_engine_next_expiry(e), 7 * SEC);
	ike_engine_handle_expiry(e, 7 * SEC - 1);
	CHECK_EQ(ike_engine_sa_count(e), 1);
	ike_engine_handle_expiry(e, 7 * SEC);
	CHECK_EQ(ike_engine_sa_count(e), 0);
	ike_engine_free(e);
	sim_free(&s);
}

static void up(struct simnet *s, uint64_t seed, ike_time_t dpd)
{
	struct ike_config c0, c1;

	sim_init(s, seed, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "delete-me-soon");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "delete-me-soon");
	c0.dpd_delay = dpd;
	c1.dpd_delay = dpd;
	CHECK(start(s, &c0, &c1) > 0);
	sim_run(s, 1 * SEC);
	CHECK(sim_event(s, 0, IKE_EV_CHILD_UP, 0) && sim_event(s, 1, IKE_EV_CHILD_UP, 0));
}

/* §1.4.1: either side deletes the CHILD_SA; both remove it; the IKE SA
 * stays. */
TEST(ike_sim_rfc7296_1_4_1_delete_child_from_either_side)
{
	for (int side = 0; side < 2; side++) {
		struct simnet s;
		const struct ike_event *u, *d0, *d1;

		up(&s, 20 + (uint64_t)side, 0);
		u = sim_event(&s, side, IKE_EV_CHILD_UP, 0);
		REQUIRE(u != NULL);
		CHECK_EQ(ike_engine_delete_child(s.node[side].e, u->child.spi_in, s.now), 0);
		CHECK_EQ(ike_engine_delete_child(s.node[side].e, 12345, s.now), IKE_ERR_INVAL);
		sim_run(&s, 2 * SEC);
		d0 = sim_event(&s, side, IKE_EV_CHILD_DOWN, 0);
		d1 = sim_event(&s, 1 - side, IKE_EV_CHILD_DOWN, 0);
		CHECK(d0 && d0->reason == IKE_REASON_DELETED_LOCAL);
		CHECK(d1 && d1->reason == IKE_REASON_DELETED_PEER);
		if (d0 && d1) {
			CHECK_EQ(d0->child.spi_in, d1->child.spi_out);
			CHECK_EQ(d0->child.spi_out, d1->child.spi_in);
		}
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_DOWN) + sim_count(&s, 1, IKE_EV_IKE_DOWN), 0);
		CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		sim_free(&s);
	}
}

/* §1.4.1: either side deletes the IKE SA; its CHILD_SA goes with it. */
TEST(ike_sim_rfc7296_1_4_1_delete_ike_from_either_side)
{
	for (int side = 0; side < 2; side++) {
		struct simnet s;
		const struct ike_event *i, *d0, *d1;

		up(&s, 30 + (uint64_t)side, 0);
		i = sim_event(&s, side, IKE_EV_IKE_UP, 0);
		REQUIRE(i != NULL);
		CHECK_EQ(ike_engine_delete_ike(s.node[side].e, i->sa_id, s.now), 0);
		sim_run(&s, 2 * SEC);
		d0 = sim_event(&s, side, IKE_EV_IKE_DOWN, 0);
		d1 = sim_event(&s, 1 - side, IKE_EV_IKE_DOWN, 0);
		CHECK(d0 && d0->reason == IKE_REASON_DELETED_LOCAL);
		CHECK(d1 && d1->reason == IKE_REASON_DELETED_PEER);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_DOWN), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_DOWN), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[0].e) + ike_engine_sa_count(s.node[1].e), 0);
		CHECK_EQ(ike_engine_next_expiry(s.node[0].e), IKE_TIME_NEVER);
		CHECK_EQ(ike_engine_next_expiry(s.node[1].e), IKE_TIME_NEVER);
		sim_free(&s);
	}
}

/*
 * §2.4: with nothing heard for dpd_delay, an empty INFORMATIONAL checks
 * the peer; answered, the SA lives on; ESP activity postpones it; a peer
 * that went silent is declared dead after the retransmissions.
 */
TEST(ike_sim_rfc7296_2_4_dpd_liveness_and_dead_peer)
{
	struct simnet s;
	const struct ike_event *u, *d;
	ike_time_t t_up, t_dead;
	size_t tx0;

	up(&s, 40, 30 * SEC);
	u = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	t_up = s.node[0].ev_at[0];
	tx0 = s.node[0].n_tx;
	CHECK_EQ(tx0, 2);
	/* Node 1 heard node 0 last (the IKE_AUTH request) before node 0
	 * heard node 1, so node 1's check comes first; each check answered
	 * counts as hearing from the peer. */
	sim_run(&s, 100 * SEC);
	CHECK(s.node[0].n_tx > tx0 || s.node[1].n_tx > 2);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_DOWN) + sim_count(&s, 1, IKE_EV_IKE_DOWN), 0);

	/* ESP activity reported to both nodes moves their checks to exactly
	 * dpd_delay from then. */
	if (u) {
		const struct ike_event *u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);

		CHECK_EQ(ike_engine_child_activity(s.node[0].e, u->child.spi_in, s.now), 0);
		CHECK(u1 && ike_engine_child_activity(s.node[1].e, u1->child.spi_in, s.now) == 0);
		CHECK_EQ(ike_engine_next_expiry(s.node[0].e), s.now + 30 * SEC);
		CHECK_EQ(ike_engine_next_expiry(s.node[1].e), s.now + 30 * SEC);
		tx0 = s.node[0].n_tx + s.node[1].n_tx;
		sim_run(&s, s.now + 30 * SEC - 1);
		CHECK_EQ(s.node[0].n_tx + s.node[1].n_tx, tx0);
	}
	CHECK_EQ(ike_engine_child_activity(s.node[1].e, 7, s.now), IKE_ERR_INVAL);

	/* Node 1 goes silent: node 0 declares it dead. */
	s.node[1].blackhole = true;
	sim_run(&s, s.now + 400 * SEC);
	d = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
	CHECK(d && d->reason == IKE_REASON_DPD);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_DOWN), 1);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e), 0);
	if (d) {
		t_dead = s.node[0].ev_at[s.node[0].n_ev - 1];
		CHECK(t_dead > t_up + 30 * SEC + 165 * SEC);
	}
	sim_free(&s);
}

/* §2.9: the responder narrows; both events show the narrowed selectors. */
TEST(ike_sim_rfc7296_2_9_narrowing_visible_in_events)
{
	struct ike_config c0, c1;
	struct simnet s;
	const struct ike_event *u0, *u1;
	struct esp_sel want_r, want_l;

	sim_init(&s, 50, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "narrow-narrow");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "narrow-narrow");
	sel(&c0.remote_ts[0], "10.0.0.0/8"); /* initiator asks for more */
	sel(&c1.local_ts[0], "10.2.3.0/24"); /* responder allows less */
	sel(&c1.remote_ts[0], "10.1.0.0/16");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	CHECK(u0 && u1);
	sel(&want_r, "10.2.3.0/24");
	sel(&want_l, "10.1.0.0/16");
	if (u0 && u1) {
		CHECK(sel_eq(u0->child.remote, u0->child.n_remote, &want_r, 1));
		CHECK(sel_eq(u0->child.local, u0->child.n_local, &want_l, 1));
		CHECK(sel_eq(u1->child.local, u1->child.n_local, &want_r, 1));
		CHECK(sel_eq(u1->child.remote, u1->child.n_remote, &want_l, 1));
	}
	sim_free(&s);

	/* Disjoint: TS_UNACCEPTABLE, the CHILD_SA fails on both sides. */
	sim_init(&s, 51, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "narrow-narrow");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "narrow-narrow");
	sel(&c1.local_ts[0], "172.16.0.0/12");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_FAILED, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_FAILED, 0);
	CHECK(u0 && u0->notify == IKE_N_TS_UNACCEPTABLE);
	CHECK(u1 && u1->notify == IKE_N_TS_UNACCEPTABLE);
	sim_free(&s);
}

/* §2.23: node 0 behind a NAT: both detect it, IKE_AUTH moves to port 4500
 * and the CHILD_SAs say "encapsulate". */
TEST(ike_sim_rfc7296_2_23_nat_detected_moves_to_4500)
{
	struct ike_config c0, c1;
	struct simnet s;
	const struct ike_event *u0, *u1, *i1;

	sim_init(&s, 60, false);
	s.nat = true;
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "behind-nat");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "behind-nat");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	i1 = sim_event(&s, 1, IKE_EV_IKE_UP, 0);
	CHECK(u0 && u1 && i1);
	if (u0 && u1 && i1) {
		CHECK(u0->child.encap && u1->child.encap);
		check_child_pair(&u0->child, &u1->child, test_suite("aes256gcm16"));
		CHECK_EQ(i1->path.local.port, 4500);
		CHECK_EQ(i1->path.remote.port, 4500 + SIM_NAT_PORT_OFFSET);
	}
	CHECK_EQ(s.node[0].tx_path[0].remote.port, 500);
	CHECK_EQ(s.node[0].tx_path[1].remote.port, 4500);
	CHECK_EQ(s.node[0].tx_path[1].local.port, 4500);
	CHECK_EQ(s.misrouted, 0);

	/* The responder's own requests follow the NAT mapping. */
	if (i1) {
		CHECK_EQ(ike_engine_delete_ike(s.node[1].e, i1->sa_id, s.now), 0);
		sim_run(&s, 10 * SEC);
		CHECK(sim_event(&s, 0, IKE_EV_IKE_DOWN, 0) != NULL);
		CHECK_EQ(s.misrouted, 0);
	}
	sim_free(&s);
}

/* A responder's IKE SA that never sees IKE_AUTH is dropped after the
 * half-open timeout, exactly. */
TEST(ike_sim_rfc7296_half_open_timeout)
{
	struct ike_config c0, c1;
	struct simnet s;
	ike_time_t t_init;

	sim_init(&s, 70, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "half-open");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "half-open");
	c1.half_open_timeout = 30 * SEC;
	s.node[0].drop_tx = ~1ULL; /* only its IKE_SA_INIT gets through */
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 1 * SEC);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
	t_init = s.latency; /* the request arrived after one latency */
	CHECK_EQ(ike_engine_next_expiry(s.node[1].e), t_init + 30 * SEC);
	sim_run(&s, t_init + 30 * SEC - 1);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
	sim_run(&s, t_init + 30 * SEC);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 0);
	CHECK_EQ(s.node[1].n_ev, 0);
	sim_free(&s);
}

/* Forged and corrupted datagrams change nothing (§2.21: drop silently). */
TEST(ike_sim_rfc7296_2_21_corrupted_messages_dropped)
{
	struct simnet s;
	struct ike_path p, rx;
	struct ike_engine_stats st;
	static uint8_t buf[IKE_ENGINE_MSG_MAX];
	ssize_t n;

	up(&s, 80, 0);
	/* Capture node 0's next request (a DPD-like Delete of its child),
	 * corrupt it, and hand it to node 1 directly. */
	{
		const struct ike_event *u = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);

		REQUIRE(u != NULL);
		CHECK_EQ(ike_engine_delete_child(s.node[0].e, u->child.spi_in, s.now), 0);
	}
	n = ike_engine_poll_tx(s.node[0].e, &p, buf, sizeof(buf));
	REQUIRE(n > IKE_HDR_LEN + 20);
	rx = (struct ike_path){.local = p.remote, .remote = p.local};
	buf[n - 3] ^= 0x40; /* inside the ICV */
	CHECK_EQ(ike_engine_recv(s.node[1].e, &rx, buf, (size_t)n, s.now), IKE_ERR_AUTH);
	buf[n - 3] ^= 0x40;
	CHECK_EQ(ike_engine_recv(s.node[1].e, &rx, buf, 20, s.now), IKE_ERR_SHORT);
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK_EQ(st.rx_bad_icv, 1);
	CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_DOWN), 0);
	/* The genuine one still works. */
	CHECK_EQ(ike_engine_recv(s.node[1].e, &rx, buf, (size_t)n, s.now), 0);
	sim_flush(&s);
	CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_DOWN), 1);
	sim_free(&s);
}

/* The IKE_AUTH CHILD_SA offer: every proposal has ESN (strongSwan refuses
 * ESP proposals without it) and no KE transform (§1.2: IKE_AUTH's keys
 * come from the IKE SA); ESP SPI in each. */
TEST(ike_sim_rfc7296_3_3_ike_auth_child_offer_shape)
{
	struct ike_proposal_list l;
	static struct ike_sa_pl sa;
	char err[128];

	CHECK_EQ(ike_proposal_parse(&l, IKE_PROTO_ESP,
	                            "aes256gcm16-modp2048,aes128-sha256-esn-noesn", false, err,
	                            sizeof(err)),
	         0);
	ike_child_offer(&l, 0xc0ffee01, IKE_SELECT_NO_KE, &sa);
	CHECK_EQ(sa.n_proposals, 2);
	for (unsigned i = 0; i < sa.n_proposals; i++) {
		unsigned esn = 0, ke = 0;

		CHECK_EQ(sa.p[i].num, i + 1);
		CHECK_EQ(sa.p[i].proto, IKE_PROTO_ESP);
		CHECK_EQ(sa.p[i].spi_len, 4);
		CHECK_EQ(ike_child_spi(sa.p[i].spi), 0xc0ffee01);
		for (unsigned t = 0; t < sa.p[i].n_transforms; t++) {
			esn += sa.p[i].t[t].type == IKE_TRANS_ESN;
			ke += sa.p[i].t[t].type == IKE_TRANS_DH;
		}
		CHECK(esn >= 1);
		CHECK_EQ(ke, 0);
	}
}

/* Configuration errors are refused with a message. */
TEST(ike_sim_engine_config_check)
{
	struct ike_config c;
	char err[160];

	base_cfg(&c, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "ok-ok-ok");
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), 0);
	c.ike_proposals = "3des-sha1-modp1024";
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	CHECK(strstr(err, "IKE proposals") != NULL);
	CHECK(ike_engine_new(&c) == NULL);
	base_cfg(&c, 0, NULL, NULL, "ok-ok-ok"); /* NULL: default */
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), 0);
	c.psk_len = 0;
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	base_cfg(&c, 0, NULL, NULL, "ok-ok-ok");
	c.local_id.type = IKE_ID_IPV4_ADDR;
	c.local_id.len = 5;
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	base_cfg(&c, 0, NULL, NULL, "ok-ok-ok");
	c.n_remote_ts = 0;
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
}

/* The CHILD_UP at node i whose SA is still installed (no CHILD_DOWN). */
static const struct ike_event *live_child(const struct simnet *s, int i)
{
	const struct ike_event *found = NULL;
	size_t n = 0;

	for (size_t k = 0; k < s->node[i].n_ev; k++) {
		const struct ike_event *u = &s->node[i].ev[k];
		bool down = false;

		if (u->type != IKE_EV_CHILD_UP)
			continue;
		for (size_t j = 0; j < s->node[i].n_ev; j++)
			down |= s->node[i].ev[j].type == IKE_EV_CHILD_DOWN &&
			        s->node[i].ev[j].child.spi_in == u->child.spi_in;
		if (!down) {
			found = u;
			n++;
		}
	}
	return n == 1 ? found : NULL;
}

static void rekey_once(uint64_t seed, int side, const char *esp0, const char *esp1,
                       unsigned want_invalid_ke)
{
	struct ike_config c0, c1;
	struct simnet s;
	const struct ike_event *old0, *old1, *n0, *n1;
	struct ike_engine_stats st;

	sim_init(&s, seed, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", esp0, "rekey-rekey");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", esp1, "rekey-rekey");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 1 * SEC);
	old0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	old1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	REQUIRE(old0 && old1);
	CHECK_EQ(ike_engine_rekey_child(s.node[side].e, (side ? old1 : old0)->child.spi_in, s.now),
	         0);
	CHECK_EQ(ike_engine_rekey_child(s.node[side].e, (side ? old1 : old0)->child.spi_in, s.now),
	         IKE_ERR_INVAL); /* already under way */
	sim_run(&s, 3 * SEC);
	n0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 1);
	n1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 1);
	CHECK(n0 && n1);
	if (n0 && n1) {
		CHECK_EQ(n0->child.rekeyed_spi_in, old0->child.spi_in);
		CHECK_EQ(n1->child.rekeyed_spi_in, old1->child.spi_in);
		check_child_pair(&n0->child, &n1->child, test_suite("aes256gcm16"));
		/* §2.17: fresh nonces, fresh keys. */
		CHECK(memcmp(n0->child.key_out, old0->child.key_out, n0->child.keymat_len) != 0);
		CHECK(n0->child.spi_in != old0->child.spi_in);
	}
	/* The old pair is gone on both sides, the new one alone remains. */
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_DOWN), 1);
	CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_DOWN), 1);
	CHECK(sim_event(&s, 0, IKE_EV_CHILD_DOWN, 0) &&
	      sim_event(&s, 0, IKE_EV_CHILD_DOWN, 0)->child.spi_in == old0->child.spi_in);
	CHECK_EQ(ike_engine_child_count(s.node[0].e), 1);
	CHECK_EQ(ike_engine_child_count(s.node[1].e), 1);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_FAILED) + sim_count(&s, 1, IKE_EV_CHILD_FAILED), 0);
	ike_engine_get_stats(s.node[1 - side].e, &st);
	CHECK_EQ(st.invalid_ke, want_invalid_ke);
	sim_free(&s);
}

/* §2.8: rekeying a CHILD_SA from either side, without and with PFS, and
 * with an INVALID_KE_PAYLOAD round in CREATE_CHILD_SA (§1.3). */
TEST(ike_sim_rfc7296_2_8_child_rekey_either_side_pfs)
{
	rekey_once(90, 0, "aes256gcm16", "aes256gcm16", 0);
	rekey_once(91, 1, "aes256gcm16", "aes256gcm16", 0);
	rekey_once(92, 0, "aes256gcm16-modp2048", "aes256gcm16-modp2048", 0);
	rekey_once(93, 1, "aes256gcm16-ecp256", "aes256gcm16-ecp256", 0);
	rekey_once(94, 0, "aes256gcm16-x25519-ecp256", "aes256gcm16-ecp256", 1);
}

/* child_rekey_time: the rekey starts exactly that long after the CHILD_SA
 * came up, and again after the new one's lifetime. */
TEST(ike_sim_rfc7296_2_8_child_rekey_lifetime_exact)
{
	struct ike_config c0, c1;
	struct simnet s;
	ike_time_t up_at;

	sim_init(&s, 95, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "lifetime");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "lifetime");
	c0.child_rekey_time = 3600 * SEC;
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 1 * SEC);
	CHECK_EQ(s.node[0].n_tx, 2);
	up_at = 4 * s.latency; /* the IKE_AUTH response arrived */
	CHECK_EQ(ike_engine_next_expiry(s.node[0].e), up_at + 3600 * SEC);
	sim_run(&s, up_at + 3600 * SEC - 1);
	CHECK_EQ(s.node[0].n_tx, 2);
	sim_run(&s, up_at + 3600 * SEC);
	CHECK_EQ(s.node[0].n_tx, 3);
	CHECK_EQ(s.node[0].tx_at[2], up_at + 3600 * SEC);
	sim_run(&s, 2 * 3600 * SEC + 10 * SEC);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 3);
	CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), 3);
	CHECK_EQ(ike_engine_child_count(s.node[0].e), 1);
	CHECK_EQ(ike_engine_child_count(s.node[1].e), 1);
	sim_free(&s);
}

/* §2.8.1: both peers rekey the same CHILD_SA at the same instant. Both
 * exchanges complete; the SA made with the lowest of the four nonces is
 * deleted by its maker, the old one by the other side; one pair remains,
 * and it matches crosswise. Several seeds so that either side wins. */
TEST(ike_sim_rfc7296_2_8_1_simultaneous_child_rekey)
{
	unsigned winners[2] = {0, 0};

	for (uint64_t seed = 300; seed < 308; seed++) {
		struct ike_config c0, c1;
		struct simnet s;
		const struct ike_event *l0, *l1;

		sim_init(&s, seed, false);
		base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "collide");
		base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "collide");
		/* Node 1's CHILD_SA came up one latency earlier: equal
		 * deadlines need node 0's lifetime one latency shorter. */
		c1.child_rekey_time = 100 * SEC;
		c0.child_rekey_time = 100 * SEC - s.latency;
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 100 * SEC + 5 * SEC);
		/* Both sent a CREATE_CHILD_SA at the same instant. */
		CHECK(s.node[0].n_tx >= 3 && s.node[1].n_tx >= 3);
		CHECK_EQ(s.node[0].tx_at[2], s.node[1].tx_at[2]);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 3);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), 3);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_DOWN), 2);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_DOWN), 2);
		CHECK_EQ(ike_engine_child_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_child_count(s.node[1].e), 1);
		l0 = live_child(&s, 0);
		l1 = live_child(&s, 1);
		CHECK(l0 && l1);
		if (l0 && l1) {
			check_child_pair(&l0->child, &l1->child, test_suite("aes256gcm16"));
			/* Whoever initiated the surviving exchange: its CHILD_UP
			 * is the second at that node (the first was the
			 * original). */
			winners[l0 == sim_event(&s, 0, IKE_EV_CHILD_UP, 2) ? 1 : 0]++;
		}
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_DOWN) + sim_count(&s, 1, IKE_EV_IKE_DOWN), 0);
		sim_free(&s);
	}
	/* Nonces are random: over the seeds each side won at least once. */
	CHECK(winners[0] > 0 && winners[1] > 0);
	CHECK_EQ(winners[0] + winners[1], 8);
}

/* §2.18: either side rekeys the IKE SA; the CHILD_SA moves to the new one
 * without CHILD events, the old IKE SA is deleted, and the new one works:
 * the side that did not rekey deletes the CHILD_SA through it, then a
 * liveness check runs over it. */
TEST(ike_sim_rfc7296_2_18_ike_rekey_either_side)
{
	for (int side = 0; side < 2; side++) {
		struct ike_config c0, c1;
		struct simnet s;
		const struct ike_event *old_up, *n0, *n1, *d0, *d1, *u;

		sim_init(&s, 400 + (uint64_t)side, false);
		base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "rekey-ike");
		base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "rekey-ike");
		c0.dpd_delay = c1.dpd_delay = 60 * SEC;
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 1 * SEC);
		old_up = sim_event(&s, side, IKE_EV_IKE_UP, 0);
		REQUIRE(old_up != NULL);
		CHECK_EQ(ike_engine_rekey_ike(s.node[side].e, old_up->sa_id, s.now), 0);
		CHECK_EQ(ike_engine_rekey_ike(s.node[side].e, old_up->sa_id, s.now), IKE_ERR_INVAL);
		sim_run(&s, 2 * SEC);
		n0 = sim_event(&s, 0, IKE_EV_IKE_UP, 1);
		n1 = sim_event(&s, 1, IKE_EV_IKE_UP, 1);
		d0 = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
		d1 = sim_event(&s, 1, IKE_EV_IKE_DOWN, 0);
		REQUIRE(n0 && n1 && d0 && d1);
		CHECK_EQ(n0->rekeyed_sa_id, sim_event(&s, 0, IKE_EV_IKE_UP, 0)->sa_id);
		CHECK_EQ(n1->rekeyed_sa_id, sim_event(&s, 1, IKE_EV_IKE_UP, 0)->sa_id);
		CHECK_EQ(d0->reason, IKE_REASON_REKEYED);
		CHECK_EQ(d1->reason, IKE_REASON_REKEYED);
		CHECK_EQ(d0->sa_id, n0->rekeyed_sa_id);
		/* New SPIs, agreed; the rekey's initiator is the new SA's. */
		CHECK_EQ(n0->spi_i, n1->spi_i);
		CHECK_EQ(n0->spi_r, n1->spi_r);
		CHECK(n0->spi_i != old_up->spi_i && n0->spi_r != old_up->spi_r);
		CHECK_EQ(n0->initiator, side == 0);
		CHECK_EQ(n1->initiator, side == 1);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_DOWN) + sim_count(&s, 1, IKE_EV_CHILD_DOWN),
		         0);
		CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		CHECK_EQ(ike_engine_child_count(s.node[0].e), 1);

		/* A liveness check over the new IKE SA, answered. */
		sim_run(&s, 70 * SEC);
		CHECK(s.node[0].n_tx + s.node[1].n_tx > 8);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_DOWN) + sim_count(&s, 1, IKE_EV_IKE_DOWN), 2);

		/* The other side deletes the CHILD_SA through the new SA. */
		u = sim_event(&s, 1 - side, IKE_EV_CHILD_UP, 0);
		CHECK(u &&
		      ike_engine_delete_child(s.node[1 - side].e, u->child.spi_in, s.now) == 0);
		sim_run(&s, 72 * SEC);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_DOWN), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_DOWN), 1);
		if (sim_event(&s, 0, IKE_EV_CHILD_DOWN, 0))
			CHECK_EQ(sim_event(&s, 0, IKE_EV_CHILD_DOWN, 0)->sa_id, n0->sa_id);
		CHECK_EQ(s.node[0].n_rx_err + s.node[1].n_rx_err, 0);
		sim_free(&s);
	}
}

/* ike_rekey_time: the IKE SA rekeys itself, again and again, with the
 * CHILD_SA carried along. */
TEST(ike_sim_rfc7296_2_18_ike_rekey_lifetime)
{
	struct ike_config c0, c1;
	struct simnet s;

	sim_init(&s, 410, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "rekey-ike");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "rekey-ike");
	c1.ike_rekey_time = 4 * 3600 * SEC;
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 3 * 4 * 3600 * SEC + 60 * SEC);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_UP), 4);
	CHECK_EQ(sim_count(&s, 1, IKE_EV_IKE_UP), 4);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_DOWN), 3);
	CHECK_EQ(sim_count(&s, 1, IKE_EV_IKE_DOWN), 3);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
	CHECK_EQ(ike_engine_child_count(s.node[1].e), 1);
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_DOWN), 0);
	/* The first rekey at exactly the lifetime after IKE_AUTH completed
	 * at node 1 (it received the IKE_AUTH request at 3 latencies). */
	CHECK_EQ(s.node[1].tx_at[2], 3 * s.latency + 4 * 3600 * SEC);
	sim_free(&s);
}

/* Hand node 1 one datagram from address 192.0.2.<host> and return the
 * first datagram it answers with (in buf), 0 if none. */
static ssize_t from_third(struct simnet *s, uint8_t host, const uint8_t *pkt, size_t len,
                          uint8_t *buf, size_t cap)
{
	struct ike_path rx, tx;
	ssize_t n, first = 0;

	rx.local = s->node[1].addr;
	rx.remote = s->node[1].addr;
	rx.remote.addr[3] = host;
	if (ike_engine_recv(s->node[1].e, &rx, pkt, len, s->now) < 0)
		return -1;
	while ((n = ike_engine_poll_tx(s->node[1].e, &tx, buf, cap)) > 0)
		if (!first)
			first = n;
	return first;
}

/*
 * §2.6: with half-open SAs at the threshold, the responder answers
 * IKE_SA_INIT with a COOKIE and keeps no state; the initiator repeats its
 * request with the COOKIE first and gets through; a wrong cookie gets
 * another COOKIE, not an SA.
 */
TEST(ike_sim_rfc7296_2_6_cookie)
{
	struct ike_config c0, c1, cx;
	struct simnet s;
	struct ike_engine *x;
	struct ike_engine_stats st;
	struct ike_path px, tp;
	static uint8_t req[IKE_ENGINE_MSG_MAX], resp[IKE_ENGINE_MSG_MAX], bad[IKE_ENGINE_MSG_MAX];
	uint64_t xstate = 99;
	struct ike_msg *m = calloc(1, sizeof(*m));
	ssize_t n, r;

	sim_init(&s, 500, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "cookie-cookie");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "cookie-cookie");
	c1.cookie_threshold = 1;
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	cx = c0;
	cx.rand_ctx = &xstate;
	x = ike_engine_new(&cx);
	REQUIRE(x && m && s.node[0].e && s.node[1].e);

	/* A third party leaves one half-open SA behind (no cookie yet). */
	px.local = s.node[1].addr;
	px.local.addr[3] = 77;
	px.remote = s.node[1].addr;
	CHECK(ike_engine_initiate(x, &px, 0) > 0);
	n = ike_engine_poll_tx(x, &tp, req, sizeof(req));
	CHECK(n > 0);
	CHECK(from_third(&s, 77, req, (size_t)n, resp, sizeof(resp)) > 0);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
	ike_engine_free(x);

	/* Another one now: a COOKIE, and still one SA. */
	xstate = 1234;
	x = ike_engine_new(&cx);
	px.local.addr[3] = 78;
	CHECK(x && ike_engine_initiate(x, &px, 0) > 0);
	n = x ? ike_engine_poll_tx(x, &tp, req, sizeof(req)) : 0;
	r = from_third(&s, 78, req, (size_t)n, resp, sizeof(resp));
	CHECK(r > 0 && ike_msg_parse(m, resp, (size_t)r) == r);
	CHECK(ike_msg_notify(m, IKE_N_COOKIE) && !ike_msg_has(m, IKE_PL_SA));
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
	/* The initiator repeats with the cookie first. */
	tp.local = px.local;
	tp.remote = px.remote;
	{
		struct ike_path back = {.local = px.local, .remote = px.remote};

		CHECK(x && ike_engine_recv(x, &back, resp, (size_t)r, 0) == 0);
	}
	n = x ? ike_engine_poll_tx(x, &tp, req, sizeof(req)) : 0;
	CHECK(n > 0 && ike_msg_parse(m, req, (size_t)n) == n);
	CHECK(m->n_payloads > 0 && m->order[0] == IKE_PL_NOTIFY &&
	      m->notify[0].type == IKE_N_COOKIE);
	/* A wrong cookie: another COOKIE, no SA. */
	if (n > 40) {
		memcpy(bad, req, (size_t)n);
		bad[IKE_HDR_LEN + 8 + 5] ^= 1; /* inside the cookie data */
		r = from_third(&s, 78, bad, (size_t)n, resp, sizeof(resp));
		CHECK(r > 0 && ike_msg_parse(m, resp, (size_t)r) == r &&
		      ike_msg_notify(m, IKE_N_COOKIE));
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		/* From another address the right cookie is wrong too. */
		r = from_third(&s, 79, req, (size_t)n, resp, sizeof(resp));
		CHECK(r > 0 && ike_msg_parse(m, resp, (size_t)r) == r &&
		      ike_msg_notify(m, IKE_N_COOKIE));
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		/* The genuine retry: an SA. */
		r = from_third(&s, 78, req, (size_t)n, resp, sizeof(resp));
		CHECK(r > 0 && ike_msg_parse(m, resp, (size_t)r) == r && ike_msg_has(m, IKE_PL_SA));
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 2);
	}
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK_EQ(st.cookie_sent, 3);

	/* Node 0 meets the cookie demand in the simulation and gets its
	 * CHILD_SA, one round trip later. */
	{
		struct ike_path p;

		sim_path(&s, 0, &p);
		CHECK(ike_engine_initiate(s.node[0].e, &p, s.now) > 0);
		sim_run(&s, 5 * SEC);
		CHECK_EQ(s.node[0].n_tx, 3);
		CHECK(sim_event(&s, 0, IKE_EV_CHILD_UP, 0) && sim_event(&s, 1, IKE_EV_CHILD_UP, 0));
		ike_engine_get_stats(s.node[1].e, &st);
		CHECK_EQ(st.cookie_sent, 4);
	}
	ike_engine_free(x);
	free(m);
	sim_free(&s);
}

/* A third party at .host asks node 1 for an IKE SA at the simulation's
 * time: its first request (answered with a COOKIE), then, into retry, the
 * request it repeats with that cookie. Returns the cookie's version byte,
 * or -1. */
static int cookie_for(struct simnet *s, const struct ike_config *cx, uint64_t *xstate,
                      uint8_t host, uint8_t *retry, ssize_t *retry_len)
{
	static uint8_t req[IKE_ENGINE_MSG_MAX], resp[IKE_ENGINE_MSG_MAX];
	struct ike_path px, tp;
	struct ike_engine *x;
	struct ike_msg *m = calloc(1, sizeof(*m));
	const struct ike_notify *c;
	int version = -1;
	ssize_t n, r;

	*xstate += host;
	x = ike_engine_new(cx);
	px.local = s->node[1].addr;
	px.local.addr[3] = host;
	px.remote = s->node[1].addr;
	if (m && x && ike_engine_initiate(x, &px, s->now) > 0 &&
	    (n = ike_engine_poll_tx(x, &tp, req, sizeof(req))) > 0 &&
	    (r = from_third(s, host, req, (size_t)n, resp, sizeof(resp))) > 0 &&
	    ike_msg_parse(m, resp, (size_t)r) == r && (c = ike_msg_notify(m, IKE_N_COOKIE)) &&
	    c->len > 0) {
		struct ike_path back = {.local = px.local, .remote = px.remote};

		version = c->data[0];
		if (ike_engine_recv(x, &back, resp, (size_t)r, s->now) != 0 ||
		    (*retry_len = ike_engine_poll_tx(x, &tp, retry, IKE_ENGINE_MSG_MAX)) <= 0)
			version = -1;
	}
	ike_engine_free(x);
	free(m);
	return version;
}

/*
 * §2.6: the cookie secret changes every minute. A cookie made with the
 * previous one is still taken for 10 s after it was due to change (its
 * initiator is retrying just then), never later: a cookie collected by an
 * attacker stops opening SAs.
 */
TEST(ike_sim_rfc7296_2_6_cookie_secret_rotates)
{
	static uint8_t retry78[IKE_ENGINE_MSG_MAX], retry79[IKE_ENGINE_MSG_MAX];
	static uint8_t resp[IKE_ENGINE_MSG_MAX], req[IKE_ENGINE_MSG_MAX];
	struct ike_config c0, c1, cx;
	struct ike_path px, tp;
	struct simnet s;
	struct ike_engine *x;
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint64_t xstate = 4242;
	ssize_t n78 = 0, n79 = 0, n, r;
	int v0, v1, v2;

	sim_init(&s, 500, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "cookie-cookie");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "cookie-cookie");
	c1.cookie_threshold = 1;
	c1.half_open_timeout = 600 * SEC; /* the half-open SA below stays */
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	cx = c0;
	cx.rand_ctx = &xstate;
	REQUIRE(m && s.node[1].e);

	/* One half-open SA: from now on IKE_SA_INIT needs a cookie. */
	x = ike_engine_new(&cx);
	px.local = s.node[1].addr;
	px.local.addr[3] = 77;
	px.remote = s.node[1].addr;
	REQUIRE(x && ike_engine_initiate(x, &px, 0) > 0);
	n = ike_engine_poll_tx(x, &tp, req, sizeof(req));
	REQUIRE(n > 0 && from_third(&s, 77, req, (size_t)n, resp, sizeof(resp)) > 0);
	ike_engine_free(x);
	REQUIRE_EQ(ike_engine_sa_count(s.node[1].e), 1);

	v0 = cookie_for(&s, &cx, &xstate, 78, retry78, &n78);
	REQUIRE(v0 >= 0);
	/* 65 s later the secret has changed; the cookie of 0 s is taken
	 * (it was due to change at 60 s: 5 s ago). */
	s.now = 65 * SEC;
	v1 = cookie_for(&s, &cx, &xstate, 79, retry79, &n79);
	REQUIRE(v1 >= 0);
	CHECK_NE(v1, v0);
	r = from_third(&s, 78, retry78, (size_t)n78, resp, sizeof(resp));
	REQUIRE(r > 0 && ike_msg_parse(m, resp, (size_t)r) == r);
	CHECK(ike_msg_has(m, IKE_PL_SA));
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 2);
	/* The cookie of 65 s, tried at 136 s: its secret was due to change
	 * at 125 s, 11 s ago: another COOKIE (a newer version), no SA. */
	s.now = 136 * SEC;
	r = from_third(&s, 79, retry79, (size_t)n79, resp, sizeof(resp));
	REQUIRE(r > 0 && ike_msg_parse(m, resp, (size_t)r) == r);
	CHECK(!ike_msg_has(m, IKE_PL_SA));
	REQUIRE(ike_msg_notify(m, IKE_N_COOKIE) && ike_msg_notify(m, IKE_N_COOKIE)->len > 0);
	v2 = ike_msg_notify(m, IKE_N_COOKIE)->data[0];
	CHECK(v2 != v1 && v2 != v0);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 2);
	free(m);
	sim_free(&s);
}

/* RFC 7383: with a small fragment length both sides fragment IKE_AUTH
 * (and nothing unencrypted); with loss the fragments are retransmitted as
 * a whole and reassembled; the CHILD_SA keys agree. */
TEST(ike_sim_rfc7383_fragmented_ike_auth)
{
	for (uint64_t seed = 600; seed < 606; seed++) {
		struct ike_config c0, c1;
		struct simnet s;
		const struct ike_event *u0, *u1;

		sim_init(&s, seed, false);
		base_cfg(&c0, 0, "aes256-sha256-modp2048", "aes256-sha256", "fragments");
		base_cfg(&c1, 1, "aes256-sha256-modp2048", "aes256-sha256", "fragments");
		c0.fragment_len = c1.fragment_len = 160;
		c0.retransmit_tries = 10;
		if (seed >= 603) {
			s.node[0].loss_pct = s.node[1].loss_pct = 20;
			s.node[0].dup_pct = s.node[1].reorder_pct = 30;
		}
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 600 * SEC);
		u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
		u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
		CHECK(u0 && u1);
		if (u0 && u1)
			check_child_pair(&u0->child, &u1->child, test_suite("aes256-sha256"));
		/* IKE_SA_INIT (1 datagram) + IKE_AUTH in >= 2 fragments. */
		if (seed < 603) {
			CHECK(s.node[0].n_tx >= 3);
			CHECK(s.node[1].n_tx >= 3);
		}
		CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_UP), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_CHILD_UP), 1);
		sim_free(&s);
	}
}

/* §2.8.2: both peers rekey the IKE SA at the same instant (without loss:
 * the many-seed, lossy variant is ike_sim_rfc7296_2_8_2_simultaneous_ike_rekey);
 * both exchanges complete, the redundant new SA is deleted silently, and
 * each side reports exactly one rekeyed IKE SA, the same one. */
TEST(ike_sim_rfc7296_2_8_2_simultaneous_ike_rekey_same_instant)
{
	for (uint64_t seed = 700; seed < 704; seed++) {
		struct simnet s;
		const struct ike_event *i0, *i1, *n0, *n1;

		up(&s, seed, 0);
		i0 = sim_event(&s, 0, IKE_EV_IKE_UP, 0);
		i1 = sim_event(&s, 1, IKE_EV_IKE_UP, 0);
		REQUIRE(i0 && i1);
		CHECK_EQ(ike_engine_rekey_ike(s.node[0].e, i0->sa_id, s.now), 0);
		CHECK_EQ(ike_engine_rekey_ike(s.node[1].e, i1->sa_id, s.now), 0);
		sim_run(&s, s.now + 20 * SEC);
		n0 = sim_event(&s, 0, IKE_EV_IKE_UP, 1);
		n1 = sim_event(&s, 1, IKE_EV_IKE_UP, 1);
		CHECK(n0 && n1);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_UP), 2);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_IKE_UP), 2);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_DOWN), 1);
		CHECK_EQ(sim_count(&s, 1, IKE_EV_IKE_DOWN), 1);
		if (n0 && n1) {
			CHECK_EQ(n0->spi_i, n1->spi_i);
			CHECK_EQ(n0->spi_r, n1->spi_r);
			CHECK(n0->initiator != n1->initiator);
		}
		CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		CHECK_EQ(ike_engine_child_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_child_count(s.node[1].e), 1);
		sim_free(&s);
	}
}

/* DESIGN.md's SAD miss: an acquire starts the IKE SA with the packet's
 * selectors first (§2.9); once its CHILD_SA is gone another acquire
 * creates a new one with CREATE_CHILD_SA (§1.3); a covered packet or one
 * outside the policy starts nothing. */
TEST(ike_sim_rfc7296_2_9_acquire_packet_selectors_first)
{
	struct ike_config c0, c1;
	struct simnet s;
	struct esp_sel src, dst, other;
	struct ike_path p;
	const struct ike_event *u0, *u1, *n0, *n1;
	size_t tx;
	int id;

	sim_init(&s, 800, false);
	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "acquire");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "acquire");
	attach(&s, 0, &c0);
	attach(&s, 1, &c1);
	sel(&src, "10.1.2.3");
	sel(&dst, "10.2.4.5");
	sel(&other, "192.168.7.7");
	sim_path(&s, 0, &p);
	if (!s.node[0].e || !s.node[1].e) {
		sim_free(&s);
		return;
	}
	CHECK_EQ(ike_engine_acquire(s.node[0].e, &p, &other, &dst, 0), IKE_ERR_INVAL);
	id = ike_engine_acquire(s.node[0].e, &p, &src, &dst, 0);
	CHECK(id > 0);
	/* A second packet while the IKE SA is being set up: nothing new. */
	CHECK_EQ(ike_engine_acquire(s.node[0].e, &p, &src, &dst, 0), id);
	sim_run(&s, 1 * SEC);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	REQUIRE(u0 && u1);
	CHECK(u0->child.n_local >= 1 && memcmp(&u0->child.local[0], &src, sizeof(src)) == 0);
	CHECK(u0->child.n_remote >= 1 && memcmp(&u0->child.remote[0], &dst, sizeof(dst)) == 0);
	check_child_pair(&u0->child, &u1->child, test_suite("aes256gcm16"));
	CHECK_EQ(s.node[0].n_tx, 2);

	/* Covered by the CHILD_SA: nothing is sent. */
	tx = s.node[0].n_tx;
	CHECK_EQ(ike_engine_acquire(s.node[0].e, &p, &src, &dst, s.now), id);
	sim_run(&s, 2 * SEC);
	CHECK_EQ(s.node[0].n_tx, tx);

	/* The peer deletes it; the next packet brings a new one. */
	CHECK_EQ(ike_engine_delete_child(s.node[1].e, u1->child.spi_in, s.now), 0);
	sim_run(&s, 3 * SEC);
	CHECK_EQ(ike_engine_child_count(s.node[0].e), 0);
	CHECK_EQ(ike_engine_acquire(s.node[0].e, &p, &src, &dst, s.now), id);
	sim_run(&s, 4 * SEC);
	n0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 1);
	n1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 1);
	CHECK(n0 && n1);
	if (n0 && n1) {
		CHECK_EQ(n0->child.rekeyed_spi_in, 0);
		CHECK(memcmp(&n0->child.local[0], &src, sizeof(src)) == 0);
		check_child_pair(&n0->child, &n1->child, test_suite("aes256gcm16"));
	}
	CHECK_EQ(ike_engine_child_count(s.node[0].e), 1);
	CHECK_EQ(ike_engine_child_count(s.node[1].e), 1);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
	sim_free(&s);
}

/* ---- certificate authentication (RFC 7296 §2.15, §3.6-3.8; RFC 7427) ---- */

#include "ike/cert.h"

#define WALL_2026 1767225600LL /* inside the fixtures' validity */

static int64_t wall_2026(void *ctx)
{
	(void)ctx;
	return WALL_2026;
}

/* tests/vectors/certs/ credentials: cert [+ intermediate] + key, one CA. */
static struct ike_creds *fixture_creds(const char *cert, const char *im, const char *ca)
{
	static char path[4][512];
	const char *top = getenv("TUNSEC_TOP");
	const char *certs[2], *keys[1], *cas[1];
	char err[256], key[128];
	struct ike_creds *c;

	snprintf(key, sizeof(key), "%.*s.key", (int)(strlen(cert) - 4), cert);
	snprintf(path[0], 512, "%s/tests/vectors/certs/%s", top && *top ? top : ".", cert);
	snprintf(path[1], 512, "%s/tests/vectors/certs/%s", top && *top ? top : ".", im ? im : "");
	snprintf(path[2], 512, "%s/tests/vectors/certs/%s", top && *top ? top : ".", key);
	snprintf(path[3], 512, "%s/tests/vectors/certs/%s", top && *top ? top : ".", ca);
	certs[0] = path[0];
	certs[1] = path[1];
	keys[0] = path[2];
	cas[0] = path[3];
	c = ike_creds_load(certs, im ? 2 : 1, keys, 1, cas, 1, err, sizeof(err));
	if (!c)
		test_fail(__FILE__, __LINE__, "credentials: %s", err);
	return c;
}

/* Both directions by certificate, peers named by FQDN (strongSwan's
 * defaults: CERTREQ sent, certificates sent if asked). */
static void pk_cfg(struct ike_config *c, int side, const struct ike_creds *cr, const char *id,
                   const char *peer)
{
	base_cfg(c, side, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "");
	c->psk = NULL;
	c->psk_len = 0;
	fqdn(&c->local_id, id);
	if (peer)
		fqdn(&c->remote_id, peer);
	else
		memset(&c->remote_id, 0, sizeof(c->remote_id));
	c->local_auth = c->remote_auth = IKE_AUTHBY_PUBKEY;
	c->creds = cr;
	c->send_certreq = true;
	c->send_cert = IKE_SEND_CERT_IFASKED;
	c->wall_time = wall_2026;
}

static void check_up(struct simnet *s)
{
	const struct ike_event *u0 = sim_event(s, 0, IKE_EV_CHILD_UP, 0);
	const struct ike_event *u1 = sim_event(s, 1, IKE_EV_CHILD_UP, 0);
	struct ike_engine_stats st0, st1;

	CHECK(sim_event(s, 0, IKE_EV_IKE_UP, 0) && sim_event(s, 1, IKE_EV_IKE_UP, 0));
	CHECK(u0 && u1);
	if (u0 && u1)
		check_child_pair(&u0->child, &u1->child, test_suite("aes256gcm16"));
	ike_engine_get_stats(s->node[0].e, &st0);
	ike_engine_get_stats(s->node[1].e, &st1);
	CHECK_EQ(st0.auth_failed + st1.auth_failed + st0.cert_invalid + st1.cert_invalid +
	             st0.sig_invalid + st1.sig_invalid,
	         0);
}

TEST(ike_sim_rfc7296_2_15_rsa_certificates_pkcs1_and_pss)
{
	struct ike_creds *moon = fixture_creds("moon-rsa.pem", NULL, "ca-rsa.pem");
	struct ike_creds *sun = fixture_creds("sun-rsa-pss.pem", NULL, "ca-rsa.pem");
	struct ike_config c0, c1;
	struct simnet s;

	sim_init(&s, 31, false);
	pk_cfg(&c0, 0, moon, "moon.tunsec.test", "sun.tunsec.test");
	pk_cfg(&c1, 1, sun, "sun.tunsec.test", "moon.tunsec.test");
	c1.rsa_pss = true; /* sun signs RSASSA-PSS, moon PKCS#1 v1.5 (RFC 7427) */
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	check_up(&s);
	/* Two RSA certificates exceed 1228 bytes: IKE_AUTH in fragments
	 * (RFC 7383), each sent once. */
	CHECK(s.node[0].n_tx >= 3 && s.node[1].n_tx >= 3);
	{
		struct ike_engine_stats st0, st1;

		ike_engine_get_stats(s.node[0].e, &st0);
		ike_engine_get_stats(s.node[1].e, &st1);
		CHECK_EQ(st0.tx_retransmit + st1.tx_retransmit, 0);
	}
	sim_free(&s);
	ike_creds_free(moon);
	ike_creds_free(sun);
}

TEST(ike_sim_rfc7427_ecdsa_certificates_with_intermediate)
{
	struct ike_creds *moon = fixture_creds("moon-ecdsa384.pem", NULL, "ca-rsa.pem");
	struct ike_creds *sun = fixture_creds("sun-ecdsa256.pem", "ca-ecdsa.pem", "ca-rsa.pem");
	struct ike_config c0, c1;
	struct simnet s;

	sim_init(&s, 32, true);
	pk_cfg(&c0, 0, moon, "moon.tunsec.test", NULL); /* any peer the CA vouches for */
	pk_cfg(&c1, 1, sun, "sun.tunsec.test", "moon.tunsec.test");
	/* sun sends its certificates unasked, moon requests none. */
	c1.send_cert = IKE_SEND_CERT_ALWAYS;
	c0.send_certreq = false;
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	check_up(&s);
	sim_free(&s);
	ike_creds_free(moon);
	ike_creds_free(sun);
}

/* A DER_ASN1_DN identity (§3.5) against the subject, and mixed key types. */
TEST(ike_sim_rfc7296_3_5_dn_identity_rsa_and_ecdsa)
{
	struct ike_creds *moon = fixture_creds("moon-rsa.pem", NULL, "ca-rsa.pem");
	struct ike_creds *sun = fixture_creds("sun-ecdsa256.pem", "ca-ecdsa.pem", "ca-rsa.pem");
	struct ike_config c0, c1;
	struct simnet s;
	uint8_t dn[255];
	int n = test_vector_get("certs/certreq.txt", "moon-rsa", "subject", dn, sizeof(dn));

	CHECK(n > 0);
	sim_init(&s, 33, false);
	pk_cfg(&c0, 0, moon, "moon.tunsec.test", "sun.tunsec.test");
	pk_cfg(&c1, 1, sun, "sun.tunsec.test", NULL);
	set_id(&c0.local_id, IKE_ID_DER_ASN1_DN, dn, (size_t)(n > 0 ? n : 0));
	c1.remote_id = c0.local_id;
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	check_up(&s);
	sim_free(&s);
	ike_creds_free(moon);
	ike_creds_free(sun);
}

/* Each direction authenticated its own way (§2.15 allows it; strongSwan
 * configures it as leftauth=pubkey, rightauth=psk). */
TEST(ike_sim_rfc7296_2_15_asymmetric_pubkey_and_psk)
{
	struct ike_creds *moon = fixture_creds("moon-rsa.pem", NULL, "ca-rsa.pem");
	struct ike_creds *trust = fixture_creds("moon-rsa.pem", NULL, "ca-rsa.pem");
	struct ike_config c0, c1;
	struct simnet s;

	sim_init(&s, 34, false);
	pk_cfg(&c0, 0, moon, "moon.tunsec.test", "sun.example");
	pk_cfg(&c1, 1, trust, "sun.example", "moon.tunsec.test");
	c0.remote_auth = IKE_AUTHBY_PSK;
	c1.local_auth = IKE_AUTHBY_PSK;
	c0.psk = c1.psk = (const uint8_t *)"one way only";
	c0.psk_len = c1.psk_len = 12;
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 5 * SEC);
	check_up(&s);
	sim_free(&s);
	ike_creds_free(moon);
	ike_creds_free(trust);
}

/* A refused certificate: AUTHENTICATION_FAILED (§2.21.2) on both sides,
 * IKE_DOWN with reason AUTH_FAILED, the why in auth_err and counters. */
static void refused(const char *cert0, const char *cert1, uint8_t id_type0, int want_err,
                    int refuser)
{
	struct ike_creds *a = fixture_creds(cert0, NULL, "ca-rsa.pem");
	struct ike_creds *b = fixture_creds(cert1, NULL, "ca-rsa.pem");
	struct ike_config c0, c1;
	struct ike_engine_stats st;
	const struct ike_event *d0, *d1, *dr;
	struct simnet s;

	sim_init(&s, 35, false);
	pk_cfg(&c0, 0, a, "moon.tunsec.test", NULL);
	pk_cfg(&c1, 1, b, "sun.tunsec.test", NULL);
	if (id_type0 == IKE_ID_KEY_ID) /* an ID no certificate can vouch for */
		set_id(&c0.local_id, IKE_ID_KEY_ID, "moon", 4);
	if (strcmp(cert1, "expired.pem") == 0)
		fqdn(&c1.local_id, "expired.tunsec.test");
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 60 * SEC);
	d0 = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
	d1 = sim_event(&s, 1, IKE_EV_IKE_DOWN, 0);
	dr = refuser == 0 ? d0 : d1;
	CHECK(d0 && d0->reason == IKE_REASON_AUTH_FAILED);
	CHECK(d1 && d1->reason == IKE_REASON_AUTH_FAILED);
	CHECK(dr && dr->auth_err == want_err);
	CHECK(d0 && d1 && (refuser == 0 ? d1 : d0)->auth_err == 0);
	CHECK(d0 && s.node[0].ev_at[0] < 1 * SEC); /* at once, no timeout */
	/* The refuser never comes up; a responder refused by the initiator
	 * had answered (and come up) before the INFORMATIONAL told it. */
	CHECK_EQ(sim_count(&s, refuser, IKE_EV_IKE_UP), 0);
	CHECK_EQ(sim_count(&s, refuser, IKE_EV_CHILD_UP), 0);
	if (refuser == 1)
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_UP), 0);
	ike_engine_get_stats(s.node[refuser].e, &st);
	CHECK_EQ(st.auth_failed, 1);
	CHECK_EQ(st.cert_invalid, 1);
	ike_engine_get_stats(s.node[!refuser].e, &st);
	CHECK_EQ(st.auth_failed, 1);
	CHECK_EQ(st.cert_invalid, 0);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e) + ike_engine_sa_count(s.node[1].e), 0);
	sim_free(&s);
	ike_creds_free(a);
	ike_creds_free(b);
}

TEST(ike_sim_rfc7296_2_21_2_untrusted_certificate_refused)
{
	/* The initiator's certificate comes from a CA the responder does not
	 * trust; the responder's has expired. */
	refused("moon-other.pem", "sun-rsa-pss.pem", IKE_ID_FQDN, IKE_CERT_ERR_UNTRUSTED, 1);
	refused("moon-rsa.pem", "expired.pem", IKE_ID_FQDN, IKE_CERT_ERR_EXPIRED, 0);
}

TEST(ike_sim_rfc7296_3_5_id_not_in_certificate_refused)
{
	refused("moon-rsa.pem", "sun-rsa-pss.pem", IKE_ID_KEY_ID, IKE_CERT_ERR_ID, 1);
}

/* RFC 7383: an IKE_AUTH with a certificate chain goes out in fragments;
 * one fragment is lost, the whole message is retransmitted (§2.6). */
TEST(ike_sim_rfc7383_fragmented_cert_chain_with_lost_fragment)
{
	struct ike_creds *moon = fixture_creds("moon-rsa.pem", NULL, "ca-rsa.pem");
	struct ike_creds *sun = fixture_creds("sun-ecdsa256.pem", "ca-ecdsa.pem", "ca-rsa.pem");
	struct ike_config c0, c1;
	struct ike_engine_stats st0;
	struct simnet s;

	sim_init(&s, 36, false);
	pk_cfg(&c0, 0, sun, "sun.tunsec.test", "moon.tunsec.test");
	pk_cfg(&c1, 1, moon, "moon.tunsec.test", "sun.tunsec.test");
	c0.fragment_len = c1.fragment_len = 500;
	s.node[0].drop_tx = 1u << 2; /* IKE_SA_INIT, fragment 1, [fragment 2 lost] */
	CHECK(start(&s, &c0, &c1) > 0);
	sim_run(&s, 30 * SEC);
	check_up(&s);
	ike_engine_get_stats(s.node[0].e, &st0);
	CHECK(st0.tx_retransmit >= 1);
	/* Two certificates (~1.5 KB) in 500-byte fragments: at least 4, twice. */
	CHECK(s.node[0].n_tx >= 1 + 2 * 4);
	CHECK(s.node[1].n_tx >= 1 + 2); /* moon's RSA certificate fragments too */
	sim_free(&s);
	ike_creds_free(moon);
	ike_creds_free(sun);
}

TEST(ike_sim_rfc7296_2_15_pubkey_config_check)
{
	struct ike_creds *moon = fixture_creds("moon-rsa.pem", NULL, "ca-rsa.pem");
	const char *cas[1] = {"tests/vectors/certs/ca-rsa.pem"};
	struct ike_creds *verify_only = ike_creds_load(NULL, 0, NULL, 0, cas, 1, NULL, 0);
	struct ike_config c;
	char err[200];

	pk_cfg(&c, 0, moon, "moon.tunsec.test", NULL);
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), 0); /* no PSK needed */
	fqdn(&c.local_id, "sun.tunsec.test");                 /* not in our cert */
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	CHECK(strstr(err, "subjectAltName") != NULL);
	fqdn(&c.local_id, "moon.tunsec.test");
	c.creds = NULL;
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	c.creds = verify_only; /* anchors, but nothing to sign with */
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	c.local_auth = IKE_AUTHBY_PSK; /* ... fine when we use a PSK, if set */
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	c.psk = (const uint8_t *)"k";
	c.psk_len = 1;
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), 0);
	c.creds = NULL; /* the peer's certificate needs anchors */
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	c.remote_auth = 7;
	CHECK_EQ(ike_config_check(&c, err, sizeof(err)), IKE_ERR_INVAL);
	ike_creds_free(moon);
	ike_creds_free(verify_only);
}

/* ---- RFC 7296 §2.8.2, §2.25, §1.5, §2.4: collisions, one-way notifies,
 * event order ---------------------------------------------------------- */

/*
 * A daemon that believes the events (daemon/conn.c does this): IKE SAs
 * from IKE_UP to IKE_DOWN, CHILD_SAs owned by an IKE SA, moved by
 * IKE_UP.rekeyed_sa_id. false if an event contradicts what came before:
 * an IKE SA up twice or down unknown, an IKE_DOWN while CHILD_SAs it owns
 * are still up (engine.h: CHILD_DOWNs come first), a CHILD event for an
 * unknown IKE SA or with the wrong owner.
 */
struct ev_model {
	size_t n_sa, n_ch;
	uint32_t sa[16];
	uint32_t ch_spi[32], ch_sa[32];
};

static bool model_follow(const struct sim_node *n, struct ev_model *md)
{
	memset(md, 0, sizeof(*md));
	for (size_t k = 0; k < n->n_ev; k++) {
		const struct ike_event *ev = &n->ev[k];
		size_t i, j;

		for (i = 0; i < md->n_sa && md->sa[i] != ev->sa_id; i++)
			;
		switch (ev->type) {
		case IKE_EV_IKE_UP:
			if (i < md->n_sa || md->n_sa == 16)
				return false;
			md->sa[md->n_sa++] = ev->sa_id;
			if (ev->rekeyed_sa_id) {
				for (j = 0; j < md->n_sa && md->sa[j] != ev->rekeyed_sa_id; j++)
					;
				if (j == md->n_sa)
					return false;
				for (j = 0; j < md->n_ch; j++)
					if (md->ch_sa[j] == ev->rekeyed_sa_id)
						md->ch_sa[j] = ev->sa_id;
			}
			break;
		case IKE_EV_IKE_DOWN:
			if (i == md->n_sa)
				return false;
			for (j = 0; j < md->n_ch; j++)
				if (md->ch_sa[j] == ev->sa_id)
					return false;
			md->sa[i] = md->sa[--md->n_sa];
			break;
		case IKE_EV_CHILD_UP:
			if (i == md->n_sa || md->n_ch == 32)
				return false;
			md->ch_spi[md->n_ch] = ev->child.spi_in;
			md->ch_sa[md->n_ch++] = ev->sa_id;
			break;
		case IKE_EV_CHILD_DOWN:
			for (j = 0; j < md->n_ch && md->ch_spi[j] != ev->child.spi_in; j++)
				;
			if (j == md->n_ch || md->ch_sa[j] != ev->sa_id)
				return false;
			md->ch_spi[j] = md->ch_spi[--md->n_ch];
			md->ch_sa[j] = md->ch_sa[md->n_ch];
			break;
		case IKE_EV_REFUSED: /* IKE_SA_INIT refusals name no SA */
		case IKE_EV_NEED:    /* comes before the SA is up */
			break;
		case IKE_EV_CHILD_FAILED:
			if (i == md->n_sa)
				return false;
			break;
		}
	}
	return true;
}

/* The one IKE SA of e (established), in *out; false if not exactly one. */
static bool only_sa(const struct ike_engine *e, struct ike_sa_info *out)
{
	struct ike_sa_info l[8];

	memset(out, 0, sizeof(*out));
	if (ike_engine_sa_list(e, l, 8) != 1 || !l[0].established)
		return false;
	*out = l[0];
	return true;
}

/*
 * §2.8.2: both peers rekey the IKE SA at the same instant, or a few
 * milliseconds apart (latency 10 ms), over several seeds, some with loss.
 * Both exchanges complete; the new SA with the lowest of the four nonces
 * is deleted by its initiator; the CHILD_SA moves to the survivor; the
 * events leave a daemon with exactly one IKE SA owning the CHILD_SA; the
 * engines agree on its SPIs, keep no other SA, and the CHILD_SA's keys
 * still match. Afterwards liveness checks run over the survivor.
 */
TEST(ike_sim_rfc7296_2_8_2_simultaneous_ike_rekey)
{
	static const ike_time_t offs[] = {0, 1 * MS, 4 * MS, 9 * MS};
	unsigned collisions = 0, survivor_init[2] = {0, 0};

	for (uint64_t seed = 800; seed < 848; seed++) {
		ike_time_t off = offs[seed % 4];
		bool lossy = seed >= 808;
		int first = (int)(seed / 4) % 2;
		struct ike_config c0, c1;
		struct simnet s;
		const struct ike_event *i0, *i1, *l0, *l1;
		struct ike_sa_info a0, a1;
		struct ike_engine_stats st0, st1;
		struct ev_model md0, md1;
		size_t tx;

		sim_init(&s, seed, false);
		base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "collide-ike");
		base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "collide-ike");
		c0.dpd_delay = c1.dpd_delay = 30 * SEC;
		c0.retransmit_tries = c1.retransmit_tries = 10;
		CHECK(start(&s, &c0, &c1) > 0);
		sim_run(&s, 1 * SEC);
		i0 = sim_event(&s, 0, IKE_EV_IKE_UP, 0);
		i1 = sim_event(&s, 1, IKE_EV_IKE_UP, 0);
		REQUIRE(i0 && i1);
		if (lossy)
			s.node[0].loss_pct = s.node[1].loss_pct = 20;
		CHECK_EQ(ike_engine_rekey_ike(s.node[first].e, (first ? i1 : i0)->sa_id, s.now), 0);
		if (off)
			sim_run(&s, s.now + off);
		CHECK_EQ(ike_engine_rekey_ike(s.node[1 - first].e, (first ? i0 : i1)->sa_id, s.now),
		         0);
		sim_run(&s, s.now + 200 * SEC);
		s.node[0].loss_pct = s.node[1].loss_pct = 0;
		sim_run(&s, s.now + 60 * SEC);

		ike_engine_get_stats(s.node[0].e, &st0);
		ike_engine_get_stats(s.node[1].e, &st1);
		collisions += st0.rekey_collisions + st1.rekey_collisions > 0;
		CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		CHECK(only_sa(s.node[0].e, &a0) && only_sa(s.node[1].e, &a1));
		CHECK_EQ(a0.spi_i, a1.spi_i);
		CHECK_EQ(a0.spi_r, a1.spi_r);
		CHECK(a0.initiator != a1.initiator);
		CHECK(a0.spi_i != i0->spi_i);
		survivor_init[a0.initiator]++;
		CHECK_EQ(a0.n_children, 1);
		CHECK_EQ(a1.n_children, 1);
		/* No IKE SA ever went down for a reason other than rekeying. */
		for (int n = 0; n < 2; n++)
			for (size_t k = 0; k < s.node[n].n_ev; k++) {
				CHECK(s.node[n].ev[k].type != IKE_EV_CHILD_DOWN);
				if (s.node[n].ev[k].type == IKE_EV_IKE_DOWN)
					CHECK_EQ(s.node[n].ev[k].reason, IKE_REASON_REKEYED);
			}
		CHECK(model_follow(&s.node[0], &md0) && model_follow(&s.node[1], &md1));
		CHECK_EQ(md0.n_sa, 1);
		CHECK_EQ(md1.n_sa, 1);
		CHECK_EQ(md0.sa[0], a0.id);
		CHECK_EQ(md1.sa[0], a1.id);
		CHECK(md0.n_ch == 1 && md0.ch_sa[0] == a0.id);
		CHECK(md1.n_ch == 1 && md1.ch_sa[0] == a1.id);
		l0 = live_child(&s, 0);
		l1 = live_child(&s, 1);
		CHECK(l0 && l1);
		if (l0 && l1)
			check_child_pair(&l0->child, &l1->child, test_suite("aes256gcm16"));

		/* Liveness checks over the survivor, answered. */
		tx = s.node[0].n_tx + s.node[1].n_tx;
		sim_run(&s, s.now + 100 * SEC);
		CHECK(s.node[0].n_tx + s.node[1].n_tx >= tx + 4);
		CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		CHECK(model_follow(&s.node[0], &md0) && md0.n_sa == 1);
		/* ... and a dead peer is still found dead. */
		s.node[1].blackhole = true;
		sim_run(&s, s.now + 4000 * SEC); /* 10 retransmissions at 1.8 */
		CHECK_EQ(ike_engine_sa_count(s.node[0].e), 0);
		CHECK(s.node[0].n_ev > 0 && s.node[0].ev[s.node[0].n_ev - 1].type == IKE_EV_IKE_DOWN &&
		      s.node[0].ev[s.node[0].n_ev - 1].reason == IKE_REASON_DPD);
		CHECK(model_follow(&s.node[0], &md0) && md0.n_sa == 0 && md0.n_ch == 0);
		sim_free(&s);
	}
	/* Most runs collided, and each side's rekey survived sometimes. */
	CHECK(collisions >= 8);
	CHECK(survivor_init[0] > 0 && survivor_init[1] > 0);
}

/* §2.25.1: one side rekeys a CHILD_SA while the other deletes it: the
 * rekey is refused with TEMPORARY_FAILURE (the SA is being closed), the
 * Delete goes through, nothing is left and nothing is retried. */
TEST(ike_sim_rfc7296_2_25_1_rekey_child_being_deleted_temporary_failure)
{
	for (int side = 0; side < 2; side++) {
		struct simnet s;
		const struct ike_event *u0, *u1;
		struct ike_engine_stats st;
		struct ev_model md;

		up(&s, 820 + (uint64_t)side, 0);
		u0 = sim_event(&s, side, IKE_EV_CHILD_UP, 0);
		u1 = sim_event(&s, 1 - side, IKE_EV_CHILD_UP, 0);
		REQUIRE(u0 && u1);
		CHECK_EQ(ike_engine_rekey_child(s.node[side].e, u0->child.spi_in, s.now), 0);
		CHECK_EQ(ike_engine_delete_child(s.node[1 - side].e, u1->child.spi_in, s.now), 0);
		sim_run(&s, s.now + 30 * SEC);
		ike_engine_get_stats(s.node[1 - side].e, &st);
		CHECK_EQ(st.tmp_failure, 1);
		CHECK_EQ(ike_engine_child_count(s.node[0].e), 0);
		CHECK_EQ(ike_engine_child_count(s.node[1].e), 0);
		CHECK_EQ(sim_count(&s, side, IKE_EV_CHILD_UP), 1);
		CHECK_EQ(sim_count(&s, 1 - side, IKE_EV_CHILD_UP), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
		CHECK_EQ(ike_engine_sa_count(s.node[1].e), 1);
		CHECK_EQ(sim_count(&s, 0, IKE_EV_IKE_DOWN) + sim_count(&s, 1, IKE_EV_IKE_DOWN), 0);
		CHECK(model_follow(&s.node[0], &md) && md.n_ch == 0 && md.n_sa == 1);
		CHECK(model_follow(&s.node[1], &md) && md.n_ch == 0 && md.n_sa == 1);
		sim_free(&s);
	}
}

/* The CHILD_SA slot of node i's first IKE SA with our spi_in (white box). */
static struct ike_child *peer_child(struct simnet *s, int i, uint32_t spi_in)
{
	struct ike_sa *sa;

	for (size_t k = 0; (sa = ike_engine_sa_slot(s->node[i].e, k)); k++)
		for (size_t j = 0; sa->state != IKE_SA_FREE && j < IKE_SA_MAX_CHILD; j++)
			if (sa->child[j] && sa->child[j]->state != IKE_CHILD_FREE &&
			    sa->child[j]->spi_in == spi_in)
				return sa->child[j];
	return NULL;
}

/*
 * §2.25: a rekey names a CHILD_SA the peer does not have (here: node 1
 * lost it without a word): CHILD_SA_NOT_FOUND; the requester drops its
 * CHILD_SA without a Delete and creates a new one with the same selectors
 * from scratch, whose keys match.
 */
TEST(ike_sim_rfc7296_2_25_child_sa_not_found_recreates)
{
	struct simnet s;
	const struct ike_event *u0, *u1, *d0, *n0, *n1;
	struct ike_child *lost;
	struct ike_engine_stats st;
	struct ev_model md;

	up(&s, 830, 0);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	REQUIRE(u0 && u1);
	lost = peer_child(&s, 1, u1->child.spi_in);
	REQUIRE(lost != NULL);
	memset(lost, 0, sizeof(*lost));
	CHECK_EQ(ike_engine_child_count(s.node[1].e), 0);
	CHECK_EQ(ike_engine_rekey_child(s.node[0].e, u0->child.spi_in, s.now), 0);
	sim_run(&s, s.now + 10 * SEC);
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK_EQ(st.child_not_found, 1);
	d0 = sim_event(&s, 0, IKE_EV_CHILD_DOWN, 0);
	CHECK(d0 && d0->child.spi_in == u0->child.spi_in && d0->reason == IKE_REASON_DELETED_PEER);
	n0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 1);
	n1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 1);
	CHECK(n0 && n1);
	if (n0 && n1) {
		CHECK_EQ(n0->child.rekeyed_spi_in, 0);
		CHECK(sel_eq(n0->child.local, n0->child.n_local, u0->child.local, u0->child.n_local));
		CHECK(sel_eq(n0->child.remote, n0->child.n_remote, u0->child.remote,
		             u0->child.n_remote));
		check_child_pair(&n0->child, &n1->child, test_suite("aes256gcm16"));
	}
	CHECK_EQ(sim_count(&s, 0, IKE_EV_CHILD_FAILED), 0);
	CHECK_EQ(ike_engine_child_count(s.node[0].e), 1);
	CHECK_EQ(ike_engine_child_count(s.node[1].e), 1);
	CHECK(model_follow(&s.node[0], &md) && md.n_ch == 1 && md.n_sa == 1);
	sim_free(&s);
}

/*
 * §2.25: a peer that keeps answering TEMPORARY_FAILURE (here: node 1
 * believes it is closing the CHILD_SA but never does) gets retries 1 to 3 s
 * apart, and after IKE_ENGINE_TMPFAIL_MAX the IKE SA is closed as out of
 * sync; node 0's CHILD_DOWN comes before its IKE_DOWN.
 */
TEST(ike_sim_rfc7296_2_25_temporary_failure_for_minutes_closes_ike_sa)
{
	struct simnet s;
	const struct ike_event *u0, *u1, *d;
	struct ike_child *stuck;
	struct ike_engine_stats st;
	struct ev_model md;
	ike_time_t t0;

	up(&s, 840, 0);
	u0 = sim_event(&s, 0, IKE_EV_CHILD_UP, 0);
	u1 = sim_event(&s, 1, IKE_EV_CHILD_UP, 0);
	if (!u0 || !u1 || !(stuck = peer_child(&s, 1, u1->child.spi_in))) {
		CHECK(0);
		sim_free(&s);
		return;
	}
	stuck->state = IKE_CHILD_DELETING;
	t0 = s.now;
	CHECK_EQ(ike_engine_rekey_child(s.node[0].e, u0->child.spi_in, s.now), 0);
	sim_run(&s, t0 + IKE_ENGINE_TMPFAIL_MAX - 5 * SEC);
	ike_engine_get_stats(s.node[1].e, &st);
	CHECK(st.tmp_failure >= IKE_ENGINE_TMPFAIL_MAX / (3 * SEC));
	CHECK(st.tmp_failure <= IKE_ENGINE_TMPFAIL_MAX / SEC);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e), 1);
	sim_run(&s, t0 + IKE_ENGINE_TMPFAIL_MAX + 10 * SEC);
	CHECK_EQ(ike_engine_sa_count(s.node[0].e), 0);
	CHECK_EQ(ike_engine_sa_count(s.node[1].e), 0);
	d = sim_event(&s, 0, IKE_EV_IKE_DOWN, 0);
	CHECK(d && d->reason == IKE_REASON_PROTOCOL);
	CHECK(sim_event(&s, 1, IKE_EV_IKE_DOWN, 0) &&
	      sim_event(&s, 1, IKE_EV_IKE_DOWN, 0)->reason == IKE_REASON_DELETED_PEER);
	CHECK(model_follow(&s.node[0], &md) && md.n_sa == 0 && md.n_ch == 0);
	CHECK(model_follow(&s.node[1], &md) && md.n_sa == 0 && md.n_ch == 0);
	sim_free(&s);
}

/* One IKE_SA_INIT request and the IKE_AUTH request that follows, from a
 * fresh initiator against a fresh responder, outside the simulation. */
static ssize_t auth_request(struct ike_config *c0, struct ike_config *c1, uint8_t *init,
                            ssize_t *init_len, uint8_t *out, size_t cap)
{
	uint64_t r0 = 5, r1 = 6;
	struct ike_engine *e0, *e1;
	struct ike_path p, tp;
	static uint8_t buf[IKE_ENGINE_MSG_MAX];
	ssize_t n = -1, k;

	c0->rand_ctx = &r0;
	c1->rand_ctx = &r1;
	e0 = ike_engine_new(c0);
	e1 = ike_engine_new(c1);
	p.local = p.remote = (struct ike_addr){.family = AF_INET, .port = 500};
	p.local.addr[3] = 1;
	p.remote.addr[3] = 2;
	if (e0 && e1 && ike_engine_initiate(e0, &p, 0) > 0 &&
	    (*init_len = ike_engine_poll_tx(e0, &tp, init, IKE_ENGINE_MSG_MAX)) > 0) {
		struct ike_path rp = {.local = p.remote, .remote = p.local};

		ike_engine_recv(e1, &rp, init, (size_t)*init_len, 0);
		if ((k = ike_engine_poll_tx(e1, &tp, buf, sizeof(buf))) > 0 &&
		    ike_engine_recv(e0, &p, buf, (size_t)k, 0) == 0)
			n = ike_engine_poll_tx(e0, &tp, out, cap);
	}
	ike_engine_free(e0);
	ike_engine_free(e1);
	return n;
}

/*
 * §1.5, §2.5: a request of major version 3 gets an unprotected
 * INVALID_MAJOR_VERSION with version 2.0 in the header, its SPIs, exchange
 * and Message ID; an encrypted request for an unknown IKE SA gets
 * INVALID_IKE_SPI the same way; responses get nothing; both together are
 * held to IKE_ENGINE_UNPROT_BURST at once, refilled at
 * IKE_ENGINE_UNPROT_RATE a second.
 */
TEST(ike_sim_rfc7296_1_5_invalid_major_version_and_ike_spi)
{
	struct ike_config c0, c1;
	static uint8_t init[IKE_ENGINE_MSG_MAX], auth[IKE_ENGINE_MSG_MAX], out[IKE_ENGINE_MSG_MAX];
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct ike_engine *e;
	struct ike_engine_stats st;
	struct ike_path p = {.local = {.family = AF_INET, .port = 500, .addr = {192, 0, 2, 2}},
	                     .remote = {.family = AF_INET, .port = 500, .addr = {192, 0, 2, 1}}};
	struct ike_path tp;
	ssize_t init_len = 0, auth_len, n;
	uint64_t rs = 9;
	size_t sent = 0;

	base_cfg(&c0, 0, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "versions");
	base_cfg(&c1, 1, "aes256gcm16-prfsha256-x25519", "aes256gcm16", "versions");
	auth_len = auth_request(&c0, &c1, init, &init_len, auth, sizeof(auth));
	REQUIRE(m && init_len > IKE_HDR_LEN && auth_len > IKE_HDR_LEN);
	c1.rand_ctx = &rs;
	e = ike_engine_new(&c1);
	REQUIRE(e != NULL);

	/* Version 3.0 IKE_SA_INIT request. */
	init[17] = 0x30;
	CHECK_EQ(ike_engine_recv(e, &p, init, (size_t)init_len, 1000), IKE_ERR_VERSION);
	n = ike_engine_poll_tx(e, &tp, out, sizeof(out));
	CHECK(n > IKE_HDR_LEN && ike_msg_parse(m, out, (size_t)n) == n);
	CHECK_EQ(m->hdr.major, 2);
	CHECK_EQ(m->hdr.minor, 0);
	CHECK_EQ(m->hdr.spi_i, wire_load32(init) * 0x100000000ULL + wire_load32(init + 4));
	CHECK_EQ(m->hdr.spi_r, 0);
	CHECK_EQ(m->hdr.exchange, IKE_SA_INIT);
	CHECK_EQ(m->hdr.msg_id, 0);
	CHECK_EQ(m->hdr.flags, IKE_FLAG_R);
	CHECK(m->n_payloads == 1 && ike_msg_notify(m, IKE_N_INVALID_MAJOR_VERSION));
	CHECK(ike_addr_equal(&tp.remote, &p.remote));
	CHECK_EQ(ike_engine_sa_count(e), 0);
	/* A version 3 response, and IKEv1 (major 1): nothing. */
	init[19] |= IKE_FLAG_R;
	ike_engine_recv(e, &p, init, (size_t)init_len, 1000);
	init[19] &= (uint8_t)~IKE_FLAG_R;
	init[17] = 0x10;
	ike_engine_recv(e, &p, init, (size_t)init_len, 1000);
	CHECK_EQ(ike_engine_poll_tx(e, &tp, out, sizeof(out)), 0);

	/* An IKE_AUTH request for an SA this engine never had. */
	CHECK_EQ(ike_engine_recv(e, &p, auth, (size_t)auth_len, 1000), 0);
	n = ike_engine_poll_tx(e, &tp, out, sizeof(out));
	CHECK(n > IKE_HDR_LEN && ike_msg_parse(m, out, (size_t)n) == n);
	CHECK_EQ(m->hdr.spi_i, wire_load32(auth) * 0x100000000ULL + wire_load32(auth + 4));
	CHECK_EQ(m->hdr.spi_r, wire_load32(auth + 8) * 0x100000000ULL + wire_load32(auth + 12));
	CHECK(m->hdr.spi_r != 0);
	CHECK_EQ(m->hdr.exchange, IKE_AUTH);
	CHECK_EQ(m->hdr.msg_id, 1);
	CHECK_EQ(m->hdr.flags, IKE_FLAG_R); /* the request came from the initiator */
	CHECK(m->n_payloads == 1 && ike_msg_notify(m, IKE_N_INVALID_IKE_SPI));
	/* That answer fed back (a response): no answer to it. */
	CHECK_EQ(ike_engine_recv(e, &p, out, (size_t)n, 1000), 0);
	CHECK_EQ(ike_engine_poll_tx(e, &tp, out, sizeof(out)), 0);
	/* The same request as a response: nothing. */
	auth[19] |= IKE_FLAG_R;
	ike_engine_recv(e, &p, auth, (size_t)auth_len, 1000);
	auth[19] &= (uint8_t)~IKE_FLAG_R;
	CHECK_EQ(ike_engine_poll_tx(e, &tp, out, sizeof(out)), 0);

	/* Rate: two tokens went; a flood at one instant gets the rest of
	 * the burst, then nothing; each 1/RATE s later one more. */
	init[17] = 0x30;
	for (int i = 0; i < 100; i++) {
		ike_engine_recv(e, &p, i % 2 ? init : auth, (size_t)(i % 2 ? init_len : auth_len),
		                1000);
		while (ike_engine_poll_tx(e, &tp, out, sizeof(out)) > 0)
			sent++;
	}
	CHECK_EQ(sent, IKE_ENGINE_UNPROT_BURST - 2);
	ike_engine_recv(e, &p, auth, (size_t)auth_len, 1000 + IKE_SEC / IKE_ENGINE_UNPROT_RATE - 1);
	CHECK_EQ(ike_engine_poll_tx(e, &tp, out, sizeof(out)), 0);
	ike_engine_recv(e, &p, auth, (size_t)auth_len, 1000 + IKE_SEC / IKE_ENGINE_UNPROT_RATE);
	CHECK(ike_engine_poll_tx(e, &tp, out, sizeof(out)) > 0);
	ike_engine_recv(e, &p, auth, (size_t)auth_len, 1000 + IKE_SEC / IKE_ENGINE_UNPROT_RATE);
	CHECK_EQ(ike_engine_poll_tx(e, &tp, out, sizeof(out)), 0);
	/* A long silence refills the bucket, never beyond the burst. */
	sent = 0;
	for (int i = 0; i < 50; i++) {
		ike_engine_recv(e, &p, init, (size_t)init_len, 3600 * IKE_SEC);
		while (ike_engine_poll_tx(e, &tp, out, sizeof(out)) > 0)
			sent++;
	}
	CHECK_EQ(sent, IKE_ENGINE_UNPROT_BURST);
	ike_engine_get_stats(e, &st);
	CHECK_EQ(st.tx_invalid_major, 1 + 4 + 10);
	CHECK_EQ(st.tx_invalid_spi, 1 + 4 + 1);
	CHECK_EQ(st.unprot_limited, 92 + 1 + 1 + 40);
	CHECK_EQ(ike_engine_sa_count(e), 0);
	ike_engine_free(e);
	free(m);
}

static bool slot_wiped(struct ike_engine *e, uint32_t id)
{
	struct ike_sa *sa;
	bool seen = false;

	for (size_t k = 0; (sa = ike_engine_sa_slot(e, k)); k++) {
		const uint8_t *b = (const uint8_t *)sa;

		if (sa->id == id)
			seen = true;
		if (sa->state != IKE_SA_FREE)
			continue;
		for (size_t i = 0; i < sizeof(*sa); i++)
			if (b[i])
				return false;
	}
	return !seen;
}

/*
 * §2.4, engine.h's order: when an IKE SA goes (retransmissions given up,
 * liveness check unanswered, Delete received), every CHILD_DOWN comes
 * before its IKE_DOWN, nothing follows, and the SA's slot is all zeros
 * (keys wiped).
 */
TEST(ike_sim_rfc7296_2_4_child_down_before_ike_down_and_wiped)
{
	for (int how = 0; how < 3; how++) {
		struct simnet s;
		const struct ike_event *iu;
		const struct sim_node *n;
		struct ev_model md;
		size_t k, last_child = 0, ike_down = 0, n_down = 0;
		int node = how == 2 ? 1 : 0;

		up(&s, 850 + (uint64_t)how, how == 1 ? 20 * SEC : 0);
		iu = sim_event(&s, node, IKE_EV_IKE_UP, 0);
		REQUIRE(iu != NULL);
		if (how == 0) {
			/* A rekey request never answered: TIMEOUT. */
			s.node[1].blackhole = true;
			CHECK_EQ(ike_engine_rekey_child(s.node[0].e,
			                                sim_event(&s, 0, IKE_EV_CHILD_UP, 0)->child.spi_in,
			                                s.now),
			         0);
		} else if (how == 1) {
			s.node[1].blackhole = true; /* DPD */
		} else {
			/* Node 0 deletes: node 1 receives the Delete. */
			CHECK_EQ(ike_engine_delete_ike(s.node[0].e,
			                               sim_event(&s, 0, IKE_EV_IKE_UP, 0)->sa_id, s.now),
			         0);
		}
		sim_run(&s, s.now + 600 * SEC);
		n = &s.node[node];
		for (k = 0; k < n->n_ev; k++) {
			if (n->ev[k].type == IKE_EV_CHILD_DOWN) {
				last_child = k;
				n_down++;
				CHECK_EQ(n->ev[k].sa_id, iu->sa_id);
			}
			if (n->ev[k].type == IKE_EV_IKE_DOWN)
				ike_down = k;
		}
		CHECK_EQ(n_down, 1);
		CHECK(ike_down > last_child);
		CHECK_EQ(ike_down, n->n_ev - 1);
		CHECK_EQ(n->ev[ike_down].reason, how == 0   ? IKE_REASON_TIMEOUT
		                                 : how == 1 ? IKE_REASON_DPD
		                                            : IKE_REASON_DELETED_PEER);
		CHECK(model_follow(n, &md) && md.n_sa == 0 && md.n_ch == 0);
		CHECK_EQ(ike_engine_sa_count(n->e), 0);
		CHECK(slot_wiped(n->e, iu->sa_id));
		sim_free(&s);
	}
}

/* Retransmission schedule with a silly configuration: the cost of
 * computing a wait is bounded (the exponent stops growing), it never
 * wraps, and the give-up still comes. */
TEST(ike_sim_rfc7296_2_1_rto_bounded)
{
	CHECK_EQ(ike_sa_rto(SEC, 1000, 4000000000u), SEC);
	CHECK_EQ(ike_sa_rto(SEC, 1000, IKE_SA_RTO_MAX_EXP + 1), SEC);
	CHECK_EQ(ike_sa_rto(SEC, 2000, 3), 4 * SEC);
	CHECK_EQ(ike_sa_rto(SEC, 2000, 200), UINT64_MAX / 2);
	CHECK_EQ(ike_sa_rto(SEC, 1001, 4000000000u), ike_sa_rto(SEC, 1001, IKE_SA_RTO_MAX_EXP));
}
