/*
 * A deterministic in-memory network and clock for two IKE engines
 * (DESIGN.md: "tests run two engines over an in-memory network with a fake
 * clock"). Node 0 and node 1 each own one struct ike_engine and one
 * address; every datagram takes `latency` to arrive, and may be lost,
 * duplicated or delayed (reordered) by a seeded generator, or dropped by
 * index. Optionally node 0 sits behind a NAT that rewrites its address and
 * port. The clock jumps from one event (a delivery or an engine deadline)
 * to the next, so timers fire exactly at their deadlines.
 *
 * Lives in tests/unit/ because the Makefile links only the .c files of tests/unit/ into
 * the unit-test binary.
 */
#ifndef TUNSEC_TESTS_IKE_SIMNET_H
#define TUNSEC_TESTS_IKE_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/engine.h"

#define SIM_MAX_EV          128
#define SIM_MAX_TX          256
#define SIM_MAX_Q           256
#define SIM_NAT_PORT_OFFSET 30000

struct sim_node {
	struct ike_engine *e;
	struct ike_addr addr; /* its own address, port 500 */
	unsigned loss_pct;    /* datagrams it sends that are lost */
	unsigned dup_pct;     /* ... that arrive twice */
	unsigned reorder_pct; /* ... that take up to 3 latencies longer */
	bool blackhole;       /* everything it sends is lost */
	uint64_t drop_tx;     /* bit n: lose the n-th datagram it sends (0-based) */
	uint64_t rand_state;  /* its engine's deterministic random source */
	/* what happened */
	size_t n_ev;
	struct ike_event ev[SIM_MAX_EV];
	ike_time_t ev_at[SIM_MAX_EV];
	size_t n_tx;
	ike_time_t tx_at[SIM_MAX_TX];
	struct ike_path tx_path[SIM_MAX_TX];
	size_t n_rx_err; /* ike_engine_recv() < 0 */
};

struct sim_pkt {
	ike_time_t at;
	uint64_t seq;
	int to;
	struct ike_path path; /* as the receiver sees it */
	size_t len;
	uint8_t buf[IKE_ENGINE_MSG_MAX];
};

struct simnet {
	ike_time_t now;
	ike_time_t latency;
	uint64_t rng;
	struct sim_node node[2];
	bool nat;                 /* node 0 behind a NAT */
	struct ike_addr nat_addr; /* its public address */
	size_t n_q;
	struct sim_pkt *q;
	uint64_t seq;
	size_t delivered, lost, misrouted;
};

/* Deterministic bytes for an engine (ike_config.rand); ctx: uint64_t. */
void sim_rand(void *ctx, void *buf, size_t len);

/* Set up the network (addresses 192.0.2.1 / 192.0.2.2, or IPv6 when v6)
 * with a seed; engines are attached by the caller to node[i].e. */
void sim_init(struct simnet *s, uint64_t seed, bool v6);
void sim_free(struct simnet *s); /* frees engines and events' keys */

/* The path node i uses to reach the other node (for ike_engine_initiate). */
void sim_path(const struct simnet *s, int i, struct ike_path *p);

/* Collect datagrams and events of both engines. */
void sim_flush(struct simnet *s);

/* Advance to the next event if it is <= until; false (now = until) if none. */
bool sim_step(struct simnet *s, ike_time_t until);
void sim_run(struct simnet *s, ike_time_t until);

/* The n-th (0-based) event of this type at node i, or NULL. */
const struct ike_event *sim_event(const struct simnet *s, int i, enum ike_event_type type,
                                  size_t n);
size_t sim_count(const struct simnet *s, int i, enum ike_event_type type);

#endif
