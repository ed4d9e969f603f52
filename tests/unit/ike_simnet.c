/* In-memory network and fake clock for engine tests; see ike_simnet.h. */
#include "tests/unit/ike_simnet.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

static uint64_t xs(uint64_t *st)
{
	/* xorshift64*: tiny, deterministic, good enough to pick losses. */
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void sim_rand(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(xs(ctx) >> 56);
}

void sim_init(struct simnet *s, uint64_t seed, bool v6)
{
	memset(s, 0, sizeof(*s));
	s->q = calloc(SIM_MAX_Q, sizeof(*s->q));
	s->rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	s->latency = 10000000; /* 10 ms */
	for (int i = 0; i < 2; i++) {
		struct ike_addr *a = &s->node[i].addr;

		a->family = v6 ? AF_INET6 : AF_INET;
		a->port = 500;
		if (v6) {
			a->addr[0] = 0x20, a->addr[1] = 0x01, a->addr[2] = 0x0d, a->addr[3] = 0xb8;
			a->addr[15] = (uint8_t)(i + 1);
		} else {
			a->addr[0] = 192, a->addr[1] = 0, a->addr[2] = 2,
			a->addr[3] = (uint8_t)(i + 1);
		}
		s->node[i].rand_state = seed * 7919 + (uint64_t)i * 104729 + 17;
	}
	s->nat_addr = s->node[0].addr;
	if (v6)
		s->nat_addr.addr[15] = 99;
	else
		s->nat_addr.addr[2] = 113, s->nat_addr.addr[3] = 5;
}

void sim_free(struct simnet *s)
{
	for (int i = 0; i < 2; i++) {
		ike_engine_free(s->node[i].e);
		s->node[i].e = NULL;
		sodium_memzero(s->node[i].ev, sizeof(s->node[i].ev));
	}
	if (s->q)
		sodium_memzero(s->q, SIM_MAX_Q * sizeof(*s->q));
	free(s->q);
	s->q = NULL;
}

void sim_path(const struct simnet *s, int i, struct ike_path *p)
{
	p->local = s->node[i].addr;
	p->remote = i == 1 && s->nat ? s->nat_addr : s->node[1 - i].addr;
	if (i == 1 && s->nat)
		p->remote.port = (uint16_t)(500 + SIM_NAT_PORT_OFFSET);
}

static bool addr_eq(const struct ike_addr *a, const struct ike_addr *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

static void enqueue(struct simnet *s, int to, const struct ike_path *path, const uint8_t *buf,
                    size_t len, ike_time_t delay)
{
	struct sim_pkt *p;

	if (s->n_q == SIM_MAX_Q) {
		s->lost++;
		return;
	}
	p = &s->q[s->n_q++];
	p->at = s->now + delay;
	p->seq = s->seq++;
	p->to = to;
	p->path = *path;
	p->len = len;
	memcpy(p->buf, buf, len);
}

/* Route one datagram sent by node i along path: through the NAT, to the
 * other node if addressed to it. */
static void route(struct simnet *s, int i, const struct ike_path *sent, const uint8_t *buf,
                  size_t len)
{
	struct sim_node *n = &s->node[i];
	struct ike_path rx;
	int to = 1 - i;
	uint64_t r = xs(&s->rng);
	ike_time_t delay = s->latency;

	rx.local = sent->remote;
	rx.remote = sent->local;
	if (i == 0 && s->nat) {
		/* Source NAT: address and port rewritten. */
		rx.remote.family = s->nat_addr.family;
		memcpy(rx.remote.addr, s->nat_addr.addr, 16);
		rx.remote.port = (uint16_t)(sent->local.port + SIM_NAT_PORT_OFFSET);
		if (!addr_eq(&sent->remote, &s->node[1].addr)) {
			s->misrouted++;
			return;
		}
	} else if (i == 1 && s->nat) {
		/* Back through the NAT: the mapping reverses. */
		if (!addr_eq(&sent->remote, &s->nat_addr) ||
		    sent->remote.port < SIM_NAT_PORT_OFFSET) {
			s->misrouted++;
			return;
		}
		rx.local = s->node[0].addr;
		rx.local.port = (uint16_t)(sent->remote.port - SIM_NAT_PORT_OFFSET);
	} else if (!addr_eq(&sent->remote, &s->node[to].addr) || !addr_eq(&sent->local, &n->addr)) {
		s->misrouted++;
		return;
	}
	if (n->blackhole || (n->n_tx - 1 < 64 && (n->drop_tx >> (n->n_tx - 1) & 1)) ||
	    r % 100 < n->loss_pct) {
		s->lost++;
		return;
	}
	if ((r >> 8) % 100 < n->reorder_pct)
		delay += (r >> 16) % (3 * s->latency);
	enqueue(s, to, &rx, buf, len, delay);
	if ((r >> 24) % 100 < n->dup_pct)
		enqueue(s, to, &rx, buf, len, delay + 1 + (r >> 32) % s->latency);
}

void sim_flush(struct simnet *s)
{
	static uint8_t buf[IKE_ENGINE_MSG_MAX];

	for (int i = 0; i < 2; i++) {
		struct sim_node *n = &s->node[i];
		struct ike_path path;
		ssize_t len;

		if (!n->e)
			continue;
		while ((len = ike_engine_poll_tx(n->e, &path, buf, sizeof(buf))) > 0) {
			if (n->n_tx < SIM_MAX_TX) {
				n->tx_at[n->n_tx] = s->now;
				n->tx_path[n->n_tx] = path;
			}
			n->n_tx++;
			route(s, i, &path, buf, (size_t)len);
		}
		while (n->n_ev < SIM_MAX_EV && ike_engine_poll_event(n->e, &n->ev[n->n_ev]) == 1)
			n->ev_at[n->n_ev++] = s->now;
	}
}

bool sim_step(struct simnet *s, ike_time_t until)
{
	ike_time_t next = IKE_TIME_NEVER;
	size_t best = SIZE_MAX;

	sim_flush(s);
	for (size_t k = 0; k < s->n_q; k++)
		if (s->q[k].at < next || (s->q[k].at == next && s->q[k].seq < s->q[best].seq)) {
			next = s->q[k].at;
			best = k;
		}
	for (int i = 0; i < 2; i++) {
		ike_time_t t = s->node[i].e ? ike_engine_next_expiry(s->node[i].e) : IKE_TIME_NEVER;

		if (t < next) {
			next = t;
			best = SIZE_MAX;
		}
	}
	if (next > until) {
		s->now = until;
		return false;
	}
	if (next > s->now)
		s->now = next;
	if (best != SIZE_MAX) {
		struct sim_pkt *p = &s->q[best];
		struct sim_node *n = &s->node[p->to];

		if (n->e && ike_engine_recv(n->e, &p->path, p->buf, p->len, s->now) < 0)
			n->n_rx_err++;
		s->delivered++;
		*p = s->q[--s->n_q];
	} else {
		for (int i = 0; i < 2; i++)
			if (s->node[i].e && ike_engine_next_expiry(s->node[i].e) <= s->now)
				ike_engine_handle_expiry(s->node[i].e, s->now);
	}
	sim_flush(s);
	return true;
}

void sim_run(struct simnet *s, ike_time_t until)
{
	while (sim_step(s, until))
		;
}

const struct ike_event *sim_event(const struct simnet *s, int i, enum ike_event_type type, size_t n)
{
	for (size_t k = 0; k < s->node[i].n_ev; k++)
		if (s->node[i].ev[k].type == type && n-- == 0)
			return &s->node[i].ev[k];
	return NULL;
}

size_t sim_count(const struct simnet *s, int i, enum ike_event_type type)
{
	size_t c = 0;

	for (size_t k = 0; k < s->node[i].n_ev; k++)
		c += s->node[i].ev[k].type == type;
	return c;
}
