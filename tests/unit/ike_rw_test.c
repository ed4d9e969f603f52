/*
 * The engine as a road-warrior server (RFC 7296 §2.4, §2.6, §2.19, §3.15):
 * one server engine and many client engines over an in-memory network
 * with a fake clock (DESIGN.md), each client at its own address. A small
 * fake address pool answers the server's IKE_EV_NEED, at once or later,
 * sticky per identity as daemon/pool.c is.
 *
 * Every attack the road-warrior issue lists has a test here that failed
 * on the engine of one connection with 8 SA slots: a flood of spoofed
 * IKE_SA_INITs, INITIAL_CONTACT from one client, a client narrowing its
 * selectors onto another's address.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "esp/sel.h"
#include "ike/cert.h"
#include "ike/id.h"
#include "ike/payload.h"
#include "tests/unit/ike_simnet.h"
#include "tests/unit/test.h"

#define PSK    "road-warrior-secret-0123456789"
#define LAT    (5 * 1000000ULL) /* 5 ms each way */
#define SERVER 0xFFFFFFFFu      /* "to the server" */

struct rw_pkt {
	ike_time_t at;
	uint32_t to; /* client index, or SERVER */
	struct ike_path path;
	size_t len;
	uint8_t buf[IKE_ENGINE_MSG_MAX];
};

struct rw_client {
	struct ike_engine *e;
	struct ike_addr addr;
	uint64_t rnd;
	char id[64];
	size_t up, down, child_up, child_failed;
	uint32_t sa_id; /* the last IKE SA that came up */
	uint16_t child_notify;
	struct ike_cp_reply cp;
	enum ike_reason down_reason;
	struct ike_child_info child; /* the last CHILD_UP (keys wiped) */
	/* EAP peer role */
	const char *eap_user, *eap_pw;
	bool eap_no_msk; /* its method makes no key */
	uint8_t eap_ch[16];
	size_t eap_rounds;
	int auth_err;           /* of the last IKE_DOWN */
	uint32_t auth_lifetime; /* of the last IKE_UP */
};

/* A pending IKE_EV_NEED of the server. */
struct rw_need {
	uint32_t sa_id;
	struct ike_identity id;
	struct ike_cp_request req;
};

struct rw {
	ike_time_t now;
	uint64_t rng, srv_rnd;
	unsigned loss_pct;
	bool drop_auth;     /* lose every IKE_AUTH request to the server */
	bool drop_info;     /* ... every INFORMATIONAL request (Deletes) */
	unsigned dup_frags; /* RFC 7383 fragments to the server: extra copies */
	size_t frags_seen;
	bool defer_need; /* keep IKE_EV_NEEDs for the test to answer */
	bool pool_empty; /* the fake pool has nothing */
	struct ike_engine *srv;
	struct ike_addr srv_addr;
	size_t n;
	struct rw_client *c;
	/* the packet queues: FIFOs (one latency each keeps time order);
	 * ring 1 takes the RFC 7383 fragments after the first of a message,
	 * one millisecond later, so that clients' fragments interleave */
	struct rw_ring {
		struct rw_pkt *q;
		size_t head, n, cap;
	} ring[2];
	/* server events */
	size_t srv_up, srv_down, srv_child_up, srv_need, srv_replaced;
	struct rw_need need[64];
	size_t n_need;
	/* EAP: the server's password, its NEED events, one held back */
	const char *eap_pw_server;
	uint32_t eap_lifetime; /* the server's answers' auth_lifetime */
	uint32_t eap_move_to;  /* ... and the connection they name */
	uint32_t srv_up_peer;  /* the connection of the last IKE_UP */
	size_t srv_eap_need;
	bool eap_hold;
	struct ike_event held_eap;
	struct ike_identity srv_up_id; /* the peer ID of the last IKE_UP */
	/* RFC 4739: the last IKE_UP's round count and first identity, and
	 * the rounds of the server's EAP events */
	uint8_t srv_up_round;
	struct ike_identity srv_up_id1;
	size_t srv_eap_round2;
	/* the fake pool: identity -> 10.96.x.y, sticky */
	char pool_id[2048][64];
	size_t pool_n;
};

static uint64_t xs(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void v4(struct ike_addr *a, unsigned i)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->port = 500;
	a->addr[0] = 198;
	a->addr[1] = 18;
	a->addr[2] = (uint8_t)(i >> 8);
	a->addr[3] = (uint8_t)i;
}

static void sel(struct esp_sel *s, const char *cidr)
{
	REQUIRE_EQ(esp_sel_parse(s, cidr), 0);
}

static void server_cfg(struct ike_config *c, struct rw *w)
{
	memset(c, 0, sizeof(*c));
	REQUIRE_EQ(ike_id_parse("server.rw.test", &c->local_id), 0);
	c->psk = (const uint8_t *)PSK;
	c->psk_len = strlen(PSK);
	c->ike_proposals = "aes128gcm16-prfsha256-x25519";
	c->esp_proposals = "aes128gcm16";
	sel(&c->local_ts[0], "10.250.0.0/16");
	c->n_local_ts = 1;
	sel(&c->remote_ts[0], "0.0.0.0/0");
	c->n_remote_ts = 1;
	c->assign_vips = true;
	c->rand = sim_rand;
	c->rand_ctx = &w->srv_rnd;
}

static void client_cfg(struct ike_config *c, struct rw_client *cl)
{
	memset(c, 0, sizeof(*c));
	REQUIRE_EQ(ike_id_parse(cl->id, &c->local_id), 0);
	c->psk = (const uint8_t *)PSK;
	c->psk_len = strlen(PSK);
	c->ike_proposals = "aes128gcm16-prfsha256-x25519";
	c->esp_proposals = "aes128gcm16";
	sel(&c->local_ts[0], "0.0.0.0/0");
	c->n_local_ts = 1;
	sel(&c->remote_ts[0], "10.250.0.0/16");
	c->n_remote_ts = 1;
	c->request_vip4 = true;
	c->initial_contact = true;
	c->rand = sim_rand;
	c->rand_ctx = &cl->rnd;
}

static struct ike_engine *server_engine(struct rw *w, const struct ike_engine_opts *o)
{
	struct ike_engine_opts d;
	struct ike_config c;
	struct ike_engine *e;

	if (!o) {
		memset(&d, 0, sizeof(d));
		o = &d;
	}
	d = *o;
	d.rand = sim_rand;
	d.rand_ctx = &w->srv_rnd;
	e = ike_engine_create(&d);
	REQUIRE(e != NULL);
	server_cfg(&c, w);
	REQUIRE(ike_engine_peer_add(e, &c, NULL) > 0);
	return e;
}

static void rw_client_new(struct rw *w, size_t i, const char *id)
{
	struct rw_client *cl = &w->c[i];
	struct ike_config c;

	ike_engine_free(cl->e);
	memset(cl, 0, sizeof(*cl));
	v4(&cl->addr, (unsigned)i + 10);
	cl->rnd = 1000003ULL * (i + 1) + w->now;
	snprintf(cl->id, sizeof(cl->id), "%s", id);
	client_cfg(&c, cl);
	cl->e = ike_engine_new(&c);
	REQUIRE(cl->e != NULL);
}

static void rw_init(struct rw *w, size_t n, const struct ike_engine_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->rng = 0x1234567;
	w->srv_rnd = 42;
	w->now = 1000 * 1000000ULL;
	v4(&w->srv_addr, 1);
	w->srv_addr.addr[0] = 203;
	w->n = n;
	w->c = calloc(n, sizeof(*w->c));
	for (int r = 0; r < 2; r++) {
		w->ring[r].cap = r ? 1024 : 16384;
		w->ring[r].q = calloc(w->ring[r].cap, sizeof(struct rw_pkt));
		REQUIRE(w->ring[r].q != NULL);
	}
	REQUIRE(w->c != NULL);
	w->srv = server_engine(w, o);
	for (size_t i = 0; i < n; i++) {
		char id[64];

		snprintf(id, sizeof(id), "c%zu.rw.test", i);
		rw_client_new(w, i, id);
	}
}

static void rw_free(struct rw *w)
{
	for (size_t i = 0; i < w->n; i++)
		ike_engine_free(w->c[i].e);
	ike_engine_free(w->srv);
	free(w->c);
	free(w->ring[0].q);
	free(w->ring[1].q);
}

/* The server anew, without connections (the test adds its own); wall: its
 * clock for certificates (NULL: the system's). */
static void srv_empty(struct rw *w, ike_wall_fn wall)
{
	struct ike_engine_opts o;

	ike_engine_free(w->srv);
	memset(&o, 0, sizeof(o));
	o.rand = sim_rand;
	o.rand_ctx = &w->srv_rnd;
	o.wall_time = wall;
	w->srv = ike_engine_create(&o);
	REQUIRE(w->srv != NULL);
}

static void push(struct rw *w, uint32_t to, const struct ike_path *sent, const uint8_t *buf,
                 size_t len)
{
	struct rw_ring *r;
	struct rw_pkt *p;

	if (w->loss_pct && xs(&w->rng) % 100 < w->loss_pct)
		return;
	/* IKE_AUTH requests to the server (exchange 35, I flag, no R) */
	if (w->drop_auth && to == SERVER && len > 19 && buf[18] == IKE_AUTH && !(buf[19] & 0x20))
		return;
	if (w->drop_info && to == SERVER && len > 19 && buf[18] == IKE_INFORMATIONAL &&
	    !(buf[19] & 0x20))
		return;
	/* a fragment (SKF, payload 53 first) to the server: again and again */
	if (w->dup_frags && to == SERVER && len > 16 && buf[16] == IKE_PL_SKF) {
		unsigned k = w->dup_frags;

		w->frags_seen++;
		w->dup_frags = 0; /* the copies are not copied again */
		for (unsigned i = 0; i < k; i++)
			push(w, to, sent, buf, len);
		w->dup_frags = k;
	}
	/* fragment number (SKF header, §2.5) above 1: the late ring */
	r = &w->ring[len > 33 && buf[16] == IKE_PL_SKF && (buf[32] << 8 | buf[33]) > 1];
	REQUIRE(r->n < r->cap);
	p = &r->q[(r->head + r->n++) % r->cap];
	p->at = w->now + LAT + (r == &w->ring[1] ? 1000000 : 0);
	p->to = to;
	p->path.local = sent->remote; /* as the receiver sees it */
	p->path.remote = sent->local;
	p->len = len;
	memcpy(p->buf, buf, len);
}

/* The fake pool: 10.96.0.0/16, one address per identity, forever. */
static void pool_answer(struct rw *w, const struct rw_need *nd)
{
	struct ike_answer a;
	char who[64];
	size_t k;

	memset(&a, 0, sizeof(a));
	a.need = IKE_NEED_CP;
	snprintf(who, sizeof(who), "%.*s", nd->id.len, (const char *)nd->id.data);
	for (k = 0; k < w->pool_n && strcmp(w->pool_id[k], who) != 0; k++)
		;
	if (k == w->pool_n && k < 2048)
		snprintf(w->pool_id[w->pool_n++], sizeof(w->pool_id[0]), "%s", who);
	if (!w->pool_empty && nd->req.v4 && k < 2048) {
		a.ok = true;
		a.cp.n_addrs = 1;
		a.cp.addrs[0].family = AF_INET;
		a.cp.addrs[0].addr[0] = 10;
		a.cp.addrs[0].addr[1] = 96;
		a.cp.addrs[0].addr[2] = (uint8_t)((k + 1) >> 8);
		a.cp.addrs[0].addr[3] = (uint8_t)(k + 1);
		a.cp.n_dns = 1;
		a.cp.dns[0].family = AF_INET;
		a.cp.dns[0].addr[0] = 10, a.cp.dns[0].addr[1] = 250, a.cp.dns[0].addr[3] = 53;
	}
	ike_engine_resume(w->srv, nd->sa_id, &a, w->now);
}

static void drain_server(struct rw *w);

/*
 * A test EAP method (type 254, RFC 3748's experimental type), for the
 * engine's EAP rounds (§2.16) without a real method: the server sends a
 * 16-byte challenge; the peer answers BLAKE2b-256(password | challenge)
 * followed by its identity; both derive a 64-byte MSK from the password
 * and the challenge. Success (code 3) or Failure (code 4) ends it.
 */
#define EAP_TEST_TYPE 254

static void eap_msk(const char *pw, const uint8_t ch[16], uint8_t msk[64])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, (const uint8_t *)"msk", 3, 64);
	crypto_generichash_update(&st, (const uint8_t *)pw, strlen(pw));
	crypto_generichash_update(&st, ch, 16);
	crypto_generichash_final(&st, msk, 64);
}

static void eap_mac(const char *pw, const uint8_t ch[16], uint8_t mac[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)pw, strlen(pw));
	crypto_generichash_update(&st, ch, 16);
	crypto_generichash_final(&st, mac, 32);
}

static void eap_hdr(uint8_t *p, uint8_t code, uint8_t id, size_t len)
{
	p[0] = code;
	p[1] = id;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
}

/* The server side of the test method, answering IKE_NEED_EAP. */
static void eap_server(struct rw *w, const struct ike_event *ev)
{
	struct ike_answer a;
	uint8_t ch[16], mac[32];

	memset(&a, 0, sizeof(a));
	a.need = IKE_NEED_EAP;
	memset(ch, 0, sizeof(ch));
	memcpy(ch, &ev->sa_id, sizeof(ev->sa_id)); /* the challenge: this SA's */
	if (ev->eap_len == 0) {
		eap_hdr(a.eap, 1, 1, 4 + 1 + 16);
		a.eap[4] = EAP_TEST_TYPE;
		memcpy(a.eap + 5, ch, 16);
		a.eap_len = 21;
		a.eap_status = IKE_EAP_CONTINUE;
	} else {
		eap_mac(w->eap_pw_server, ch, mac);
		if (ev->eap_len >= 4 + 1 + 32 && ev->eap[0] == 2 && ev->eap[4] == EAP_TEST_TYPE &&
		    sodium_memcmp(ev->eap + 5, mac, 32) == 0) {
			eap_hdr(a.eap, 3, ev->eap[1], 4);
			a.eap_status = IKE_EAP_SUCCESS;
			a.auth_lifetime = w->eap_lifetime;
			a.peer = w->eap_move_to;
			eap_msk(w->eap_pw_server, ch, a.msk);
			a.msk_len = 64;
			a.eap_id.type = IKE_ID_RFC822_ADDR;
			a.eap_id.len = (uint8_t)(ev->eap_len - 37);
			memcpy(a.eap_id.data, ev->eap + 37, a.eap_id.len);
		} else {
			eap_hdr(a.eap, 4, ev->eap[1], 4);
			a.eap_status = IKE_EAP_FAILURE;
		}
		a.eap_len = 4;
	}
	ike_engine_resume(w->srv, ev->sa_id, &a, w->now);
}

/* The peer side, on a client. */
static void eap_peer(struct rw *w, struct rw_client *cl, const struct ike_event *ev)
{
	struct ike_answer a;
	size_t idl = strlen(cl->eap_user);

	memset(&a, 0, sizeof(a));
	a.need = IKE_NEED_EAP;
	cl->eap_rounds++;
	if (ev->eap_len >= 21 && ev->eap[0] == 1 && ev->eap[4] == EAP_TEST_TYPE) {
		memcpy(cl->eap_ch, ev->eap + 5, 16);
		eap_hdr(a.eap, 2, ev->eap[1], 37 + idl);
		a.eap[4] = EAP_TEST_TYPE;
		eap_mac(cl->eap_pw, cl->eap_ch, a.eap + 5);
		memcpy(a.eap + 37, cl->eap_user, idl);
		a.eap_len = 37 + idl;
		a.eap_status = IKE_EAP_CONTINUE;
	} else if (ev->eap_len >= 4 && ev->eap[0] == 3) {
		a.eap_status = IKE_EAP_SUCCESS;
		eap_msk(cl->eap_pw, cl->eap_ch, a.msk);
		a.msk_len = cl->eap_no_msk ? 0 : 64;
	} else {
		a.eap_status = IKE_EAP_FAILURE;
	}
	ike_engine_resume(cl->e, ev->sa_id, &a, w->now);
}

static void srv_event(struct rw *w, const struct ike_event *ev)
{
	switch (ev->type) {
	case IKE_EV_IKE_UP:
		w->srv_up++;
		w->srv_up_id = ev->peer_id;
		w->srv_up_round = ev->auth_round;
		w->srv_up_peer = ev->peer;
		w->srv_up_id1 = ev->peer_id1;
		break;
	case IKE_EV_IKE_DOWN:
		w->srv_down++;
		w->srv_replaced += ev->reason == IKE_REASON_REPLACED;
		break;
	case IKE_EV_CHILD_UP:
		w->srv_child_up++;
		break;
	case IKE_EV_NEED: {
		struct rw_need nd = {ev->sa_id, ev->peer_id, ev->cp_req};

		if (ev->need == IKE_NEED_EAP) {
			w->srv_eap_need++;
			w->srv_eap_round2 += ev->auth_round == 2;
			if (!w->eap_hold)
				eap_server(w, ev);
			else
				w->held_eap = *ev;
			break;
		}
		w->srv_need++;
		if (w->defer_need && w->n_need < 64)
			w->need[w->n_need++] = nd;
		else if (!w->defer_need)
			pool_answer(w, &nd);
		break;
	}
	default:
		break;
	}
}

/* Which client has this address and port (a linear search is fine at
 * 1000). */
static uint32_t client_at(const struct rw *w, const struct ike_addr *a)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->c[i].e && memcmp(w->c[i].addr.addr, a->addr, 4) == 0 &&
		    w->c[i].addr.port == a->port)
			return (uint32_t)i;
	return SERVER;
}

static void drain_server(struct rw *w)
{
	uint8_t buf[IKE_ENGINE_MSG_MAX];
	struct ike_path p;
	struct ike_event ev;
	ssize_t n;

	while (ike_engine_poll_event(w->srv, &ev) == 1) {
		srv_event(w, &ev);
		ike_event_wipe(&ev);
	}
	while ((n = ike_engine_poll_tx(w->srv, &p, buf, sizeof(buf))) > 0) {
		uint32_t to = client_at(w, &p.remote);

		if (to != SERVER)
			push(w, to, &p, buf, (size_t)n);
	}
}

static void drain_client(struct rw *w, size_t i)
{
	struct rw_client *cl = &w->c[i];
	uint8_t buf[IKE_ENGINE_MSG_MAX];
	struct ike_path p;
	struct ike_event ev;
	ssize_t n;

	while (ike_engine_poll_event(cl->e, &ev) == 1) {
		if (ev.type == IKE_EV_IKE_UP) {
			cl->up++;
			cl->sa_id = ev.sa_id;
			cl->auth_lifetime = ev.auth_lifetime;
			if (!ev.rekeyed_sa_id)
				cl->cp = ev.cp;
		} else if (ev.type == IKE_EV_IKE_DOWN) {
			cl->down++;
			cl->down_reason = ev.reason;
			cl->auth_err = ev.auth_err;
		} else if (ev.type == IKE_EV_NEED && ev.need == IKE_NEED_EAP) {
			eap_peer(w, cl, &ev);
		} else if (ev.type == IKE_EV_CHILD_UP) {
			cl->child_up++;
			cl->child = ev.child;
			sodium_memzero(cl->child.key_in, sizeof(cl->child.key_in));
			sodium_memzero(cl->child.key_out, sizeof(cl->child.key_out));
		} else if (ev.type == IKE_EV_CHILD_FAILED) {
			cl->child_failed++;
			cl->child_notify = ev.notify;
		}
		ike_event_wipe(&ev);
	}
	while ((n = ike_engine_poll_tx(cl->e, &p, buf, sizeof(buf))) > 0)
		push(w, SERVER, &p, buf, (size_t)n);
}

static void rw_initiate(struct rw *w, size_t i)
{
	struct ike_path p = {w->c[i].addr, w->srv_addr};

	REQUIRE(ike_engine_initiate(w->c[i].e, &p, w->now) > 0);
	drain_client(w, i);
}

/* Run until `until`: deliveries in order, timers at their deadlines. */
static void rw_run(struct rw *w, ike_time_t until)
{
	for (;;) {
		struct rw_ring *r = &w->ring[0];
		ike_time_t t, te = ike_engine_next_expiry(w->srv);
		size_t who = SIZE_MAX;

		if (!r->n || (w->ring[1].n && w->ring[1].q[w->ring[1].head].at < r->q[r->head].at))
			r = &w->ring[1];
		t = r->n ? r->q[r->head].at : IKE_TIME_NEVER;
		if (te < t)
			t = te;
		for (size_t i = 0; i < w->n; i++) {
			ike_time_t ti = w->c[i].e ? ike_engine_next_expiry(w->c[i].e) : IKE_TIME_NEVER;

			if (ti < t) {
				t = ti;
				who = i;
			}
		}
		if (t > until)
			break;
		if (t > w->now)
			w->now = t;
		if (r->n && r->q[r->head].at <= w->now) {
			struct rw_pkt *p = &r->q[r->head];

			r->head = (r->head + 1) % r->cap;
			r->n--;
			if (p->to == SERVER) {
				ike_engine_recv(w->srv, &p->path, p->buf, p->len, w->now);
				drain_server(w);
			} else if (w->c[p->to].e) {
				ike_engine_recv(w->c[p->to].e, &p->path, p->buf, p->len, w->now);
				drain_client(w, p->to);
			}
			continue;
		}
		if (ike_engine_next_expiry(w->srv) <= w->now) {
			ike_engine_handle_expiry(w->srv, w->now);
			drain_server(w);
		}
		if (who != SIZE_MAX && ike_engine_next_expiry(w->c[who].e) <= w->now) {
			ike_engine_handle_expiry(w->c[who].e, w->now);
			drain_client(w, who);
		}
	}
	w->now = until;
}

static uint32_t vip_of(const struct rw_client *cl)
{
	const uint8_t *a = cl->cp.addrs[0].addr;

	return cl->cp.n_addrs ? (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]
	                      : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* §2.19, §3.15: a thousand clients over a lossy network each get an IKE
 * SA, a CHILD_SA narrowed to its own virtual IP, and distinct addresses;
 * §2.4: one restarting with INITIAL_CONTACT replaces only its own SA. */
TEST(ike_rw_rfc7296_2_19_thousand_clients_distinct_vips)
{
	struct rw w;
	uint32_t *vips;
	size_t up = 0, narrowed = 0;
	uint32_t before;

	rw_init(&w, 1000, NULL);
	w.loss_pct = 2;
	for (size_t i = 0; i < w.n; i++)
		rw_initiate(&w, i);
	rw_run(&w, w.now + 120 * IKE_SEC);
	vips = calloc(w.n, sizeof(*vips));
	REQUIRE(vips != NULL);
	for (size_t i = 0; i < w.n; i++) {
		struct rw_client *cl = &w.c[i];

		up += cl->up == 1 && cl->child_up == 1 && cl->down == 0;
		vips[i] = vip_of(cl);
		/* TSi = its address alone (§2.9 narrowing to the VIP) */
		narrowed += cl->child.n_local == 1 && vips[i] &&
		            memcmp(cl->child.local[0].start, cl->cp.addrs[0].addr, 4) == 0 &&
		            memcmp(cl->child.local[0].end, cl->cp.addrs[0].addr, 4) == 0;
	}
	CHECK_EQ(up, w.n);
	CHECK_EQ(narrowed, w.n);
	CHECK_EQ(ike_engine_sa_count(w.srv), w.n);
	CHECK_EQ(ike_engine_child_count(w.srv), w.n);
	qsort(vips, w.n, sizeof(*vips), cmp_u32);
	for (size_t i = 1; i < w.n; i++)
		if (vips[i] == vips[i - 1] || !vips[i])
			CHECK(!"two clients share a virtual IP, or one has none");
	free(vips);

	/* Client 7 restarts: a new engine, same identity, INITIAL_CONTACT. */
	before = vip_of(&w.c[7]);
	w.loss_pct = 0;
	w.srv_down = 0;
	rw_client_new(&w, 7, "c7.rw.test");
	rw_initiate(&w, 7);
	rw_run(&w, w.now + 5 * IKE_SEC);
	CHECK_EQ(w.c[7].up, 1);
	CHECK_EQ(vip_of(&w.c[7]), before); /* sticky */
	CHECK_EQ(w.srv_replaced, 1);       /* its old SA, nobody else's */
	CHECK_EQ(w.srv_down, 1);
	CHECK_EQ(ike_engine_sa_count(w.srv), w.n);
	for (size_t i = 0; i < w.n; i++)
		if (i != 7 && w.c[i].down)
			CHECK(!"another client lost its IKE SA");
	rw_free(&w);
}

/* §2.6: spoofed IKE_SA_INITs from many addresses (never completed) make
 * the server demand cookies once 10 are half-open; a real client still
 * gets in. Before: 8 spoofed requests filled every slot for 30 s. */
TEST(ike_rw_rfc7296_2_6_cookie_under_spoofed_flood)
{
	struct ike_engine_stats st;
	struct rw w;

	rw_init(&w, 301, NULL);
	/* clients 0..299 are the "spoofed" ones: their traffic to the
	 * server arrives, the server's answers never reach them (they are
	 * dropped by the test as if sent to addresses nobody owns) */
	for (size_t i = 0; i < 300; i++) {
		struct ike_path p = {w.c[i].addr, w.srv_addr};
		uint8_t buf[IKE_ENGINE_MSG_MAX];
		struct ike_path sent;
		ssize_t n;

		REQUIRE(ike_engine_initiate(w.c[i].e, &p, w.now) > 0);
		n = ike_engine_poll_tx(w.c[i].e, &sent, buf, sizeof(buf));
		REQUIRE(n > 0);
		push(&w, SERVER, &sent, buf, (size_t)n);
		ike_engine_free(w.c[i].e);
		w.c[i].e = NULL;
	}
	rw_run(&w, w.now + 100 * 1000000ULL);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(ike_engine_sa_count(w.srv), IKE_DEFAULT_COOKIE_THRESHOLD);
	CHECK_EQ(st.cookie_sent, 300 - IKE_DEFAULT_COOKIE_THRESHOLD);
	/* the real one, while the half-open SAs still stand */
	rw_initiate(&w, 300);
	rw_run(&w, w.now + IKE_SEC);
	CHECK_EQ(w.c[300].up, 1);
	CHECK_EQ(w.c[300].child_up, 1);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(st.cookie_sent, 300 - IKE_DEFAULT_COOKIE_THRESHOLD + 1);
	/* the spoofed ones time out; nothing is left of them */
	rw_run(&w, w.now + 40 * IKE_SEC);
	CHECK_EQ(ike_engine_sa_count(w.srv), 1);
	rw_free(&w);
}

/* §2.6 and strongSwan's block_threshold: one address that does answer
 * cookies holds at most 5 half-open SAs; the 6th gets no answer. */
TEST(ike_rw_rfc7296_2_6_half_open_cap_per_source)
{
	struct ike_engine_stats st;
	struct rw w;

	rw_init(&w, 8, NULL);
	w.drop_auth = true; /* they stay half-open */
	for (size_t i = 0; i < 8; i++) {
		w.c[i].addr = w.c[0].addr; /* one host, 8 ports */
		w.c[i].addr.port = (uint16_t)(40000 + i);
	}
	for (size_t i = 0; i < 8; i++)
		rw_initiate(&w, i);
	rw_run(&w, w.now + 2 * IKE_SEC);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(ike_engine_sa_count(w.srv), IKE_DEFAULT_BLOCK_THRESHOLD);
	CHECK(st.half_open_blocked > 0);
	CHECK(st.cookie_sent > 0); /* from the 4th on (cookie_threshold_ip 3) */
	rw_free(&w);
}

/* §2.19 with an outside answer: IKE_AUTH waits for IKE_EV_NEED's answer
 * (the hook RADIUS will use); the client's retransmissions meanwhile
 * change nothing, and the exchange completes once answered. */
TEST(ike_rw_rfc7296_2_19_pause_for_an_asynchronous_answer)
{
	struct ike_engine_stats st;
	struct rw w;

	rw_init(&w, 2, NULL);
	w.defer_need = true;
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 6 * IKE_SEC); /* past the first retransmission (4 s) */
	CHECK_EQ(w.n_need, 1);
	CHECK_EQ(w.c[0].up, 0);
	CHECK_EQ(w.srv_up, 0);
	ike_engine_get_stats(w.srv, &st);
	CHECK(st.rx_old >= 1); /* the retransmitted IKE_AUTH, ignored */
	CHECK_EQ(w.need[0].req.v4, true);
	CHECK_EQ(w.need[0].id.len, strlen("c0.rw.test"));
	pool_answer(&w, &w.need[0]);
	drain_server(&w);
	rw_run(&w, w.now + IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].child_up, 1);
	CHECK_EQ(w.c[0].cp.n_addrs, 1);
	CHECK_EQ(w.c[0].cp.n_dns, 1);
	/* an answer twice, or for nobody: refused */
	{
		struct ike_answer a = {.need = IKE_NEED_CP, .ok = true};

		CHECK_EQ(ike_engine_resume(w.srv, w.need[0].sa_id, &a, w.now), IKE_ERR_INVAL);
		CHECK_EQ(ike_engine_resume(w.srv, 999, &a, w.now), IKE_ERR_INVAL);
	}
	/* never answered: the half-open timeout (30 s) ends the wait */
	w.n_need = 0;
	rw_initiate(&w, 1);
	rw_run(&w, w.now + 31 * IKE_SEC);
	CHECK_EQ(w.n_need, 1);
	CHECK_EQ(ike_engine_sa_count(w.srv), 1);
	CHECK_EQ(w.c[1].up, 0);
	rw_free(&w);
}

/* §3.15.4: no address to give: INTERNAL_ADDRESS_FAILURE, no CHILD_SA. */
TEST(ike_rw_rfc7296_3_15_4_internal_address_failure)
{
	struct ike_engine_stats st;
	struct rw w;

	rw_init(&w, 1, NULL);
	w.pool_empty = true;
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].child_up, 0);
	CHECK_EQ(w.c[0].child_failed, 1);
	CHECK_EQ(w.c[0].child_notify, IKE_N_INTERNAL_ADDRESS_FAILURE);
	CHECK_EQ(ike_engine_child_count(w.srv), 0);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(st.vip_failed, 1);
	rw_free(&w);
}

/* swanctl's unique: replace deletes the identity's older SA, keep refuses
 * the newer, never keeps both even with INITIAL_CONTACT. */
static size_t unique_run(enum ike_unique u, bool ic, size_t *first_down, size_t *second_up)
{
	struct ike_config c;
	struct rw w;
	size_t n;

	rw_init(&w, 2, NULL);
	ike_engine_free(w.srv);
	{
		struct ike_engine_opts o;

		memset(&o, 0, sizeof(o));
		o.rand = sim_rand;
		o.rand_ctx = &w.srv_rnd;
		w.srv = ike_engine_create(&o);
	}
	server_cfg(&c, &w);
	c.unique = u;
	REQUIRE(ike_engine_peer_add(w.srv, &c, NULL) > 0);
	rw_client_new(&w, 1, "c0.rw.test"); /* the same identity as client 0 */
	if (!ic) {
		struct ike_config cc;

		client_cfg(&cc, &w.c[1]);
		cc.initial_contact = false;
		ike_engine_free(w.c[1].e);
		w.c[1].e = ike_engine_new(&cc);
	}
	rw_initiate(&w, 0);
	rw_run(&w, w.now + IKE_SEC);
	rw_initiate(&w, 1);
	rw_run(&w, w.now + 3 * IKE_SEC);
	*first_down = w.c[0].down;
	*second_up = w.c[1].up;
	n = ike_engine_sa_count(w.srv);
	rw_free(&w);
	return n;
}

TEST(ike_rw_unique_replace_keep_never_no)
{
	size_t down, up;

	CHECK_EQ(unique_run(IKE_UNIQUE_REPLACE, false, &down, &up), 1);
	CHECK_EQ(down, 1); /* deleted by the server */
	CHECK_EQ(up, 1);
	CHECK_EQ(unique_run(IKE_UNIQUE_KEEP, false, &down, &up), 1);
	CHECK_EQ(down, 0);
	CHECK_EQ(up, 0); /* refused: AUTHENTICATION_FAILED */
	CHECK_EQ(unique_run(IKE_UNIQUE_NEVER, true, &down, &up), 2);
	CHECK_EQ(down, 0);
	CHECK_EQ(up, 1);
	CHECK_EQ(unique_run(IKE_UNIQUE_NO, false, &down, &up), 2);
	CHECK_EQ(up, 1);
	/* no + INITIAL_CONTACT: the old one is gone on the server (the
	 * client that "lost" it is not told: it restarted, §2.4) */
	CHECK_EQ(unique_run(IKE_UNIQUE_NO, true, &down, &up), 1);
	CHECK_EQ(up, 1);
}

/* Two connections on one engine told apart at IKE_AUTH by the peer's ID
 * (strongSwan's peer_cfg choice), each with its own PSK; IDr from the
 * client is a hint only (Android names the server's address there). */
TEST(ike_rw_two_connections_chosen_by_identity)
{
	struct ike_config a, b, cc;
	struct rw w;

	rw_init(&w, 3, NULL);
	ike_engine_free(w.srv);
	w.srv = ike_engine_create(NULL);
	REQUIRE(w.srv != NULL);
	server_cfg(&a, &w);
	REQUIRE_EQ(ike_id_parse("alice@rw.test", &a.remote_id), 0);
	a.psk = (const uint8_t *)"alice-secret-alice-secret";
	a.psk_len = strlen("alice-secret-alice-secret");
	server_cfg(&b, &w); /* anyone else, with the shared PSK */
	REQUIRE(ike_engine_peer_add(w.srv, &b, NULL) > 0);
	REQUIRE(ike_engine_peer_add(w.srv, &a, NULL) > 0);
	/* alice with her own PSK */
	rw_client_new(&w, 0, "alice@rw.test");
	client_cfg(&cc, &w.c[0]);
	cc.psk = a.psk;
	cc.psk_len = a.psk_len;
	ike_engine_free(w.c[0].e);
	w.c[0].e = ike_engine_new(&cc);
	/* bob with the shared PSK */
	rw_initiate(&w, 0);
	rw_initiate(&w, 1);
	/* mallory claims to be alice with the shared PSK: alice's
	 * connection is chosen by the ID, its PSK does not match */
	rw_client_new(&w, 2, "alice@rw.test");
	rw_initiate(&w, 2);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[1].up, 1);
	CHECK_EQ(w.c[2].up, 0);
	CHECK_EQ(w.c[2].down_reason, IKE_REASON_AUTH_FAILED);
	rw_free(&w);
}

/* IDr naming the server's address (Android) with a server whose own ID
 * is an FQDN: the connection is still found (the hint does not refuse). */
TEST(ike_rw_rfc7296_3_5_idr_is_a_hint)
{
	struct ike_config cc;
	struct rw w;

	rw_init(&w, 1, NULL);
	client_cfg(&cc, &w.c[0]);
	cc.remote_id.type = IKE_ID_IPV4_ADDR;
	cc.remote_id.len = 4;
	memcpy(cc.remote_id.data, w.srv_addr.addr, 4);
	ike_engine_free(w.c[0].e);
	w.c[0].e = ike_engine_new(&cc);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	/* the server accepted the client (IKE_UP there); the client then
	 * refuses the server's IDr, as it asked for another one */
	CHECK_EQ(w.srv_up, 1);
	CHECK_EQ(w.c[0].up, 0);
	rw_free(&w);
}

/* DESIGN.md's budget: an established IKE SA with one CHILD_SA costs at
 * most 4 KiB in the engine (measured on the heap, allocator overhead
 * included) once the handshake's buffers are gone. */
TEST(ike_rw_memory_per_established_sa)
{
	struct rw w;
	size_t empty, with, without, per;

	rw_init(&w, 500, NULL);
	/* an engine with its connection and no SA */
	with = test_heap_in_use();
	ike_engine_free(w.srv);
	without = test_heap_in_use();
	empty = with - without;
	w.srv = server_engine(&w, NULL);
	for (size_t i = 0; i < w.n; i++)
		rw_initiate(&w, i);
	rw_run(&w, w.now + 10 * IKE_SEC);
	for (size_t i = 0; i < w.n; i++)
		REQUIRE_EQ(w.c[i].up, 1);
	/* what freeing the server gives back, less its empty self */
	with = test_heap_in_use();
	ike_engine_free(w.srv);
	w.srv = NULL;
	without = test_heap_in_use();
	REQUIRE(with - without > empty);
	per = (with - without - empty) / w.n;
	printf("    server engine: %zu bytes per established IKE SA with one CHILD_SA\n", per);
	CHECK(per <= 4096);
	CHECK(per >= 512); /* a measurement that sees nothing would pass */
	rw_free(&w);
}

/* §2.18: a peer that rekeys its IKE SA must delete the one it replaced;
 * one that never does (here its Deletes are lost) cannot pile up replaced
 * SAs on the server: past IKE_ENGINE_REKEYED_MAX it gets
 * TEMPORARY_FAILURE (§2.25), and the server holds a bounded number. */
TEST(ike_rw_rfc7296_2_18_rekey_loop_is_bounded)
{
	struct ike_engine_stats st;
	struct rw w;
	size_t most = 0;

	rw_init(&w, 1, NULL);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + IKE_SEC);
	REQUIRE_EQ(w.c[0].up, 1);
	w.drop_info = true;
	for (int i = 0; i < 12; i++) {
		ike_engine_rekey_ike(w.c[0].e, w.c[0].sa_id, w.now);
		drain_client(&w, 0);
		rw_run(&w, w.now + IKE_SEC / 2);
		if (ike_engine_sa_count(w.srv) > most)
			most = ike_engine_sa_count(w.srv);
	}
	ike_engine_get_stats(w.srv, &st);
	printf("    most %zu SAs on the server, %llu rekeys refused, %llu tmp-failures\n", most,
	       (unsigned long long)st.rekey_refused, (unsigned long long)st.tmp_failure);
	CHECK(st.rekey_refused > 0);
	CHECK(most <= 1 + IKE_ENGINE_REKEYED_MAX);
	/* and once the replaced ones time out, rekeys go through again */
	w.drop_info = false;
	rw_run(&w, w.now + 40 * IKE_SEC);
	CHECK(ike_engine_sa_count(w.srv) >= 1);
	rw_free(&w);
}

/* RFC 7383 §2.6: each IKE SA reassembles its own fragments. Five clients
 * send their IKE_AUTH in small fragments at once (they interleave at the
 * server), and every fragment arrives three times (a replay of one's own
 * authentic fragments): all five come up. One reassembly buffer per
 * engine, reset by another SA's fragment, failed this. */
TEST(ike_rw_rfc7383_2_6_concurrent_fragmented_ike_auth)
{
	struct ike_engine_stats st;
	struct ike_config c;
	struct rw w;

	rw_init(&w, 5, NULL);
	w.dup_frags = 2;
	for (size_t i = 0; i < w.n; i++) {
		client_cfg(&c, &w.c[i]);
		c.fragment_len = 160;
		ike_engine_free(w.c[i].e);
		w.c[i].e = ike_engine_new(&c);
		REQUIRE(w.c[i].e != NULL);
	}
	for (size_t i = 0; i < w.n; i++)
		rw_initiate(&w, i);
	rw_run(&w, w.now + 3 * IKE_SEC);
	for (size_t i = 0; i < w.n; i++)
		CHECK_EQ(w.c[i].up, 1);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(st.frag_refused, 0);
	CHECK_EQ(st.rx_bad_icv, 0);
	CHECK(w.frags_seen >= 2 * w.n); /* it did fragment: 2 a client */
	rw_free(&w);
}

/* Client 0 anew with configuration c, an EAP peer as carol@rw.test with
 * password pw. */
static void eap_client(struct rw *w, const struct ike_config *c, const char *pw)
{
	ike_engine_free(w->c[0].e);
	w->c[0].e = ike_engine_new(c);
	REQUIRE(w->c[0].e != NULL);
	w->c[0].eap_user = "carol@rw.test";
	w->c[0].eap_pw = pw;
}

/* ---- EAP in IKE_AUTH (RFC 7296 §2.16) -------------------------------------- */

/* A server whose connection authenticates clients with EAP and itself
 * with the PSK; client 0 an EAP peer checking the server by that PSK. */
static void eap_setup(struct rw *w, const char *srv_pw, const char *cli_pw, const char *cli_psk)
{
	struct ike_config c;

	rw_init(w, 1, NULL);
	srv_empty(w, NULL);
	server_cfg(&c, w);
	c.remote_auth = IKE_AUTHBY_EAP;
	REQUIRE(ike_engine_peer_add(w->srv, &c, NULL) > 0);
	w->eap_pw_server = srv_pw;
	client_cfg(&c, &w->c[0]);
	c.local_auth = IKE_AUTHBY_EAP;
	c.psk = (const uint8_t *)cli_psk;
	c.psk_len = strlen(cli_psk);
	eap_client(w, &c, cli_pw);
}

/* §2.16 end to end: IKE_AUTH without AUTH, the server's IDr and AUTH
 * first, EAP rounds, AUTH with the MSK both ways, then the CHILD_SA and
 * the virtual IP (the CP pause after EAP); the server knows the client by
 * the identity EAP proved, not by its IKE ID. */
TEST(ike_rw_rfc7296_2_16_eap_success)
{
	struct rw w;
	char want[] = "carol@rw.test";

	eap_setup(&w, "pw-1234", "pw-1234", PSK);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].child_up, 1);
	CHECK_EQ(w.c[0].cp.n_addrs, 1);
	CHECK_EQ(w.c[0].eap_rounds, 2); /* the Request, then the Success */
	CHECK_EQ(w.srv_eap_need, 2);    /* begin, then the Response */
	CHECK_EQ(w.srv_up, 1);
	CHECK_EQ(w.srv_up_id.type, IKE_ID_RFC822_ADDR);
	CHECK_EQ(w.srv_up_id.len, strlen(want));
	CHECK_MEM(w.srv_up_id.data, want, strlen(want));
	CHECK_EQ(ike_engine_child_count(w.srv), 1);
	rw_free(&w);
}

/* RFC 4478 §3: a lifetime the EAP answer gives (a RADIUS Session-Timeout)
 * reaches the client as AUTH_LIFETIME in the last IKE_AUTH response;
 * without one, none is sent. */
TEST(ike_rw_rfc4478_3_auth_lifetime_after_eap)
{
	struct rw w;

	eap_setup(&w, "pw-1234", "pw-1234", PSK);
	w.eap_lifetime = 3600;
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].auth_lifetime, 3600);
	rw_free(&w);

	eap_setup(&w, "pw-1234", "pw-1234", PSK);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].auth_lifetime, 0);
	rw_free(&w);
}

/* After EAP the server may move the SA to another connection (as
 * strongSwan re-selects by RADIUS groups): one the exchange fits, whose
 * selectors then apply (here a narrower local side); one with another
 * identity of ours is refused with an EAP-Failure. */
TEST(ike_rw_rfc7296_2_16_eap_moves_to_another_connection)
{
	struct ike_engine_stats st;
	struct ike_config c;
	struct rw w;
	int to;

	eap_setup(&w, "pw-1234", "pw-1234", PSK);
	server_cfg(&c, &w);
	c.remote_auth = IKE_AUTHBY_EAP;
	sel(&c.local_ts[0], "10.250.7.0/24");
	REQUIRE((to = ike_engine_peer_add(w.srv, &c, NULL)) > 0);
	w.eap_move_to = (uint32_t)to;
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].child_up, 1);
	CHECK_EQ(w.srv_up_peer, (uint32_t)to);
	CHECK_EQ(w.c[0].child.remote[0].start[2], 7);
	CHECK_EQ(w.c[0].child.remote[0].end[2], 7);
	rw_free(&w);

	eap_setup(&w, "pw-1234", "pw-1234", PSK);
	server_cfg(&c, &w);
	c.remote_auth = IKE_AUTHBY_EAP;
	REQUIRE_EQ(ike_id_parse("other.rw.test", &c.local_id), 0);
	REQUIRE((to = ike_engine_peer_add(w.srv, &c, NULL)) > 0);
	w.eap_move_to = (uint32_t)to;
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 0);
	CHECK_EQ(w.c[0].down_reason, IKE_REASON_AUTH_FAILED);
	CHECK_EQ(w.srv_up, 0);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(st.no_peer, 1);
	rw_free(&w);
}

/* A wrong password: EAP-Failure, both sides end the IKE SA. */
TEST(ike_rw_rfc7296_2_16_eap_failure)
{
	struct rw w;

	eap_setup(&w, "pw-1234", "wrong", PSK);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 0);
	CHECK_EQ(w.c[0].down, 1);
	CHECK_EQ(w.c[0].down_reason, IKE_REASON_AUTH_FAILED);
	CHECK_EQ(w.c[0].auth_err, IKE_CERT_ERR_EAP);
	CHECK_EQ(w.srv_up, 0);
	CHECK_EQ(ike_engine_sa_count(w.srv), 0);
	rw_free(&w);
}

/* The client answers no EAP before the server proved itself (CVE-2021-
 * 45079's lesson): a server whose AUTH does not verify gets no EAP
 * Response, and the client ends the SA. */
TEST(ike_rw_rfc7296_2_16_eap_needs_the_servers_auth_first)
{
	struct rw w;

	eap_setup(&w, "pw-1234", "pw-1234", "not-the-servers-psk-at-all");
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 0);
	CHECK_EQ(w.c[0].eap_rounds, 0);
	CHECK_EQ(w.c[0].down_reason, IKE_REASON_AUTH_FAILED);
	CHECK_EQ(w.c[0].auth_err, IKE_CERT_ERR_PSK);
	CHECK_EQ(w.srv_eap_need, 1); /* only the begin: no Response came */
	rw_free(&w);
}

/* The server's EAP answer comes late (RADIUS): the client's
 * retransmissions meanwhile change nothing, then it completes. */
TEST(ike_rw_rfc7296_2_16_eap_slow_answer)
{
	struct ike_engine_stats st;
	struct rw w;

	eap_setup(&w, "pw-1234", "pw-1234", PSK);
	w.eap_hold = true;
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 5 * IKE_SEC); /* past a retransmission (4 s) */
	CHECK_EQ(w.srv_eap_need, 1);
	ike_engine_get_stats(w.srv, &st);
	CHECK(st.rx_old >= 1);
	w.eap_hold = false;
	eap_server(&w, &w.held_eap);
	drain_server(&w);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	rw_free(&w);
}

/* A client asking for EAP from a server without an EAP connection gets
 * AUTHENTICATION_FAILED (no connection fits an IKE_AUTH without AUTH). */
TEST(ike_rw_rfc7296_2_16_eap_no_connection)
{
	struct ike_engine_stats st;
	struct ike_config c;
	struct rw w;

	rw_init(&w, 1, NULL); /* the server: PSK clients only */
	client_cfg(&c, &w.c[0]);
	c.local_auth = IKE_AUTHBY_EAP;
	ike_engine_free(w.c[0].e);
	w.c[0].e = ike_engine_new(&c);
	w.c[0].eap_user = "carol@rw.test";
	w.c[0].eap_pw = "pw";
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 0);
	CHECK_EQ(w.c[0].down_reason, IKE_REASON_AUTH_FAILED);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(st.no_peer, 1);
	rw_free(&w);
}

/* tests/vectors/certs/ credentials: one certificate and its key, one CA
 * (as ike_sim_test.c's fixture_creds). */
static struct ike_creds *rw_creds(const char *cert, const char *ca)
{
	static char path[3][512];
	const char *top = getenv("TUNSEC_TOP");
	const char *certs[1], *keys[1], *cas[1];
	char err[256];
	struct ike_creds *c;

	top = top && *top ? top : ".";
	snprintf(path[0], 512, "%s/tests/vectors/certs/%s", top, cert);
	snprintf(path[1], 512, "%s/tests/vectors/certs/%.*s.key", top, (int)(strlen(cert) - 4),
	         cert);
	snprintf(path[2], 512, "%s/tests/vectors/certs/%s", top, ca);
	certs[0] = path[0];
	keys[0] = path[1];
	cas[0] = path[2];
	c = ike_creds_load(certs, 1, keys, 1, cas, 1, err, sizeof(err));
	if (!c)
		test_fail(__FILE__, __LINE__, "credentials: %s", err);
	return c;
}

static int64_t rw_wall_2026(void *ctx)
{
	(void)ctx;
	return 1767225600LL; /* inside the fixtures' validity */
}

/* Apple's IKEv2 client (macOS, iOS) logs in with EAP and sends no CERTREQ;
 * it checks the server's AUTH against the server's certificate, which it
 * has only if the server sends it. The server proves itself with its
 * certificate (moon-rsa), send_cert at strongSwan's default, ifasked; the
 * client trusts the CA, asks for nothing. §2.16 then needs the
 * certificate in the first IKE_AUTH response all the same: an EAP peer
 * counts as asking. send_cert = never still sends none (the client then
 * cannot verify the server and ends the SA). */
static void eap_certreq_run(uint8_t send_cert, bool want_up)
{
	struct ike_creds *moon = rw_creds("moon-rsa.pem", "ca-rsa.pem");
	struct ike_creds *trust = rw_creds("moon-rsa.pem", "ca-rsa.pem");
	struct ike_config c;
	struct rw w;

	rw_init(&w, 1, NULL);
	srv_empty(&w, rw_wall_2026);
	server_cfg(&c, &w);
	REQUIRE_EQ(ike_id_parse("moon.tunsec.test", &c.local_id), 0);
	c.psk = NULL;
	c.psk_len = 0;
	c.local_auth = IKE_AUTHBY_PUBKEY;
	c.remote_auth = IKE_AUTHBY_EAP;
	c.creds = moon;
	c.send_certreq = true;
	c.send_cert = send_cert;
	c.wall_time = rw_wall_2026;
	REQUIRE(ike_engine_peer_add(w.srv, &c, NULL) > 0);
	w.eap_pw_server = "pw-1234";
	client_cfg(&c, &w.c[0]);
	REQUIRE_EQ(ike_id_parse("moon.tunsec.test", &c.remote_id), 0);
	c.psk = NULL;
	c.psk_len = 0;
	c.local_auth = IKE_AUTHBY_EAP;
	c.remote_auth = IKE_AUTHBY_PUBKEY;
	c.creds = trust;
	c.send_certreq = false; /* Apple's */
	c.wall_time = rw_wall_2026;
	eap_client(&w, &c, "pw-1234");
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, want_up ? 1 : 0);
	CHECK_EQ(w.c[0].child_up, want_up ? 1 : 0);
	CHECK_EQ(w.srv_up, want_up ? 1 : 0);
	if (!want_up) {
		CHECK_EQ(w.c[0].down_reason, IKE_REASON_AUTH_FAILED);
		CHECK_EQ(w.c[0].eap_rounds, 0); /* no EAP for an unverified server */
	}
	rw_free(&w);
	ike_creds_free(moon);
	ike_creds_free(trust);
}

TEST(ike_rw_rfc7296_2_16_eap_peer_without_certreq_gets_the_cert)
{
	eap_certreq_run(IKE_SEND_CERT_IFASKED, true);
	eap_certreq_run(IKE_SEND_CERT_ALWAYS, true);
	eap_certreq_run(IKE_SEND_CERT_NEVER, false);
}

/* ---- a second authentication round (RFC 4739) ------------------------------ */

/* A server demanding two rounds of its clients (round one remote_auth,
 * round two EAP), and client 0 doing local_auth then EAP as
 * "carol@rw.test". srv2 / cli2: whether each side has the second round. */
static void rounds_setup(struct rw *w, uint8_t auth1, bool srv2, bool cli2, const char *cli_pw)
{
	struct ike_config c;

	rw_init(w, 1, NULL);
	srv_empty(w, NULL);
	server_cfg(&c, w);
	c.remote_auth = auth1;
	c.remote_eap2 = srv2;
	REQUIRE(ike_engine_peer_add(w->srv, &c, NULL) > 0);
	w->eap_pw_server = "pw-1234";
	client_cfg(&c, &w->c[0]);
	c.local_auth = auth1;
	c.local_eap2 = cli2;
	REQUIRE_EQ(ike_id_parse("carol@rw.test", &c.local_id2), 0);
	eap_client(w, &c, cli_pw);
}

/* §2 and §3 of RFC 4739: round one by PSK (with ANOTHER_AUTH_FOLLOWS, the
 * server answers IDr and AUTH only), round two by EAP under the second
 * IDi, the server's AUTH with the MSK last, with SA, TS and the CP reply.
 * The server knows the client by round two's identity and says round
 * one's. */
TEST(ike_rw_rfc4739_2_psk_then_eap)
{
	struct rw w;
	struct ike_identity first;

	rounds_setup(&w, IKE_AUTHBY_PSK, true, true, "pw-1234");
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].child_up, 1);
	CHECK_EQ(w.c[0].cp.n_addrs, 1);
	CHECK_EQ(w.c[0].eap_rounds, 2);
	CHECK_EQ(w.srv_eap_need, 2);
	CHECK_EQ(w.srv_eap_round2, 2);
	CHECK_EQ(w.srv_up, 1);
	CHECK_EQ(w.srv_up_round, 2);
	CHECK_EQ(w.srv_up_id.type, IKE_ID_RFC822_ADDR);
	CHECK_MEM(w.srv_up_id.data, "carol@rw.test", 13);
	REQUIRE_EQ(ike_id_parse("c0.rw.test", &first), 0);
	CHECK_EQ(w.srv_up_id1.type, first.type);
	CHECK_EQ(w.srv_up_id1.len, first.len);
	CHECK_MEM(w.srv_up_id1.data, first.data, first.len);
	CHECK_EQ(ike_engine_child_count(w.srv), 1);
	rw_free(&w);
}

/* Both rounds by EAP: the first ends with the AUTHs made with its MSK
 * (and ANOTHER_AUTH_FOLLOWS), the second begins a new conversation. */
TEST(ike_rw_rfc4739_2_eap_then_eap)
{
	struct rw w;

	rounds_setup(&w, IKE_AUTHBY_EAP, true, true, "pw-1234");
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].child_up, 1);
	CHECK_EQ(w.c[0].eap_rounds, 4);
	CHECK_EQ(w.srv_eap_need, 4);
	CHECK_EQ(w.srv_eap_round2, 2);
	CHECK_EQ(w.srv_up, 1);
	CHECK_EQ(w.srv_up_round, 2);
	rw_free(&w);
}

/* What two rounds refuse: no SA on either side, the client says why
 * (auth_err; 0: the server refused it), the server counts no_peer. */
TEST(ike_rw_rfc4739_refusals)
{
	static const struct {
		uint8_t auth1;
		bool srv2, cli2;
		const char *pw;
		int auth_err;
		unsigned no_peer;
		size_t round2;  /* the server's round-two EAP events */
		size_t srv_sas; /* left on the server (a half-open one times out) */
	} rows[] = {
	    /* one round where the connection wants two: no connection fits,
	     * AUTHENTICATION_FAILED before any EAP */
	    {IKE_AUTHBY_PSK, true, false, "pw-1234", 0, 1, 0, 0},
	    /* after an EAP first round, the missing ANOTHER_AUTH_FOLLOWS
	     * shows with its AUTH: refused then */
	    {IKE_AUTHBY_EAP, true, false, "pw-1234", 0, 0, 0, 0},
	    /* §3.1: no quiet single round with a server that did not
	     * announce MULTIPLE_AUTH_SUPPORTED */
	    {IKE_AUTHBY_PSK, false, true, "pw-1234", IKE_CERT_ERR_ROUNDS, 0, 0, 1},
	    /* a wrong password in round two: EAP-Failure */
	    {IKE_AUTHBY_PSK, true, true, "wrong", IKE_CERT_ERR_EAP, 0, 2, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ike_engine_stats st;
		struct rw w;

		rounds_setup(&w, rows[i].auth1, rows[i].srv2, rows[i].cli2, rows[i].pw);
		rw_initiate(&w, 0);
		rw_run(&w, w.now + 2 * IKE_SEC);
		ike_engine_get_stats(w.srv, &st);
		if (w.c[0].up || w.c[0].down_reason != IKE_REASON_AUTH_FAILED || w.srv_up ||
		    w.srv_eap_round2 != rows[i].round2 ||
		    ike_engine_sa_count(w.srv) != rows[i].srv_sas ||
		    (rows[i].auth_err && w.c[0].auth_err != rows[i].auth_err) ||
		    st.no_peer != rows[i].no_peer)
			test_fail(__FILE__, __LINE__,
			          "row %zu: up %zu reason %d srv_up %zu round2 %zu sas %zu err %d "
			          "no_peer %llu",
			          i, w.c[0].up, (int)w.c[0].down_reason, w.srv_up, w.srv_eap_round2,
			          ike_engine_sa_count(w.srv), w.c[0].auth_err,
			          (unsigned long long)st.no_peer);
		rw_free(&w);
	}
}

/* Round two's IDi must fit remote_id2. */
TEST(ike_rw_rfc4739_second_identity_checked)
{
	struct ike_config c;
	struct rw w;

	rounds_setup(&w, IKE_AUTHBY_PSK, true, true, "pw-1234");
	srv_empty(&w, NULL);
	server_cfg(&c, &w);
	c.remote_eap2 = true;
	REQUIRE_EQ(ike_id_parse("dave@rw.test", &c.remote_id2), 0);
	REQUIRE(ike_engine_peer_add(w.srv, &c, NULL) > 0);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 0);
	CHECK_EQ(w.c[0].down_reason, IKE_REASON_AUTH_FAILED);
	CHECK_EQ(w.srv_eap_need, 0);
	CHECK_EQ(w.srv_up, 0);
	rw_free(&w);
}

/* Client 0 initiates and is refused: no SA on either side, for the
 * reason want (an IKE_CERT_ERR_*). */
static void refused_run(struct rw *w, int want)
{
	rw_initiate(w, 0);
	rw_run(w, w->now + 2 * IKE_SEC);
	CHECK_EQ(w->c[0].up, 0);
	CHECK_EQ(w->c[0].down_reason, IKE_REASON_AUTH_FAILED);
	CHECK_EQ(w->c[0].auth_err, want);
	CHECK_EQ(w->srv_up, 0);
}

/* ---- EAP-only authentication (RFC 5998) ------------------------------------ */

/* srv_only / cli_only: each side's connection is EAP-only (local_auth
 * and remote_auth EAP); otherwise the server proves itself by PSK. */
static void eap_only_setup(struct rw *w, bool srv_only, bool cli_only)
{
	struct ike_config c;

	rw_init(w, 1, NULL);
	srv_empty(w, NULL);
	server_cfg(&c, w);
	c.remote_auth = IKE_AUTHBY_EAP;
	c.local_auth = srv_only ? IKE_AUTHBY_EAP : IKE_AUTHBY_PSK;
	REQUIRE(ike_engine_peer_add(w->srv, &c, NULL) > 0);
	w->eap_pw_server = "pw-1234";
	client_cfg(&c, &w->c[0]);
	c.local_auth = IKE_AUTHBY_EAP;
	c.remote_auth = cli_only ? IKE_AUTHBY_EAP : IKE_AUTHBY_PSK;
	eap_client(w, &c, "pw-1234");
}

/* §3: the client announces EAP_ONLY_AUTHENTICATION, the server answers
 * with its IDr and EAP, no AUTH; the AUTHs made with the MSK prove both. */
TEST(ike_rw_rfc5998_3_eap_only)
{
	struct rw w;

	eap_only_setup(&w, true, true);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 1);
	CHECK_EQ(w.c[0].child_up, 1);
	CHECK_EQ(w.srv_up, 1);
	rw_free(&w);
}

/* An EAP-only connection fits only a client that announced it. */
TEST(ike_rw_rfc5998_3_server_needs_the_announcement)
{
	struct ike_engine_stats st;
	struct rw w;

	eap_only_setup(&w, true, false);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.c[0].up, 0);
	CHECK_EQ(w.c[0].down_reason, IKE_REASON_AUTH_FAILED);
	ike_engine_get_stats(w.srv, &st);
	CHECK_EQ(st.no_peer, 1);
	rw_free(&w);
}

/* An EAP-only client has nothing to check a server's AUTH with: it
 * refuses it, and answers no EAP. */
TEST(ike_rw_rfc5998_client_refuses_an_auth_it_cannot_check)
{
	struct rw w;

	eap_only_setup(&w, false, true);
	refused_run(&w, IKE_CERT_ERR_EAP_ONLY_ONE);
	CHECK_EQ(w.c[0].eap_rounds, 0);
	rw_free(&w);
}

/* §4: a method without a key proves no server: refused. */
TEST(ike_rw_rfc5998_4_method_without_key_refused)
{
	struct rw w;

	eap_only_setup(&w, true, true);
	w.c[0].eap_no_msk = true;
	refused_run(&w, IKE_CERT_ERR_EAP_ONLY);
	rw_free(&w);
}

/* Between connections that fit equally, the lower rank wins, then the
 * first added; ike_engine_peer_rank() changes it (a reload re-adds a
 * changed connection last, yet the file's order holds). */
TEST(ike_rw_equal_fits_go_by_rank)
{
	struct ike_config c;
	struct rw w;
	int x, y;

	rw_init(&w, 2, NULL);
	srv_empty(&w, NULL);
	server_cfg(&c, &w);
	c.rank = 5;
	REQUIRE((x = ike_engine_peer_add(w.srv, &c, NULL)) > 0);
	c.rank = 1;
	REQUIRE((y = ike_engine_peer_add(w.srv, &c, NULL)) > 0);
	rw_initiate(&w, 0);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.srv_up, 1);
	CHECK_EQ(w.srv_up_peer, (uint32_t)y);
	CHECK_EQ(ike_engine_peer_rank(w.srv, (uint32_t)y, 9), 0);
	CHECK_EQ(ike_engine_peer_rank(w.srv, 12345, 0), IKE_ERR_INVAL);
	rw_initiate(&w, 1);
	rw_run(&w, w.now + 2 * IKE_SEC);
	CHECK_EQ(w.srv_up, 2);
	CHECK_EQ(w.srv_up_peer, (uint32_t)x);
	rw_free(&w);
}
