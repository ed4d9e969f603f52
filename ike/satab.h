/*
 * The engine's tables of IKE SAs (DESIGN.md "an engine that serves a
 * thousand clients"), in the shape of strongSwan's ike_sa_manager and
 * iked's SA trees: every lookup the engine makes on a datagram or a timer
 * is O(1) (or O(log n) for the deadline heap), never a scan of every SA.
 *
 *   by our SPI    every IKE SA (each side picks its own SPI, §2.6, so ours
 *                 alone names the SA; the engine checks the peer's too)
 *   by id         the engine-wide handle events and the API use
 *   half-open     a responder's SA by the initiator's SPI and address, so
 *                 that a retransmitted IKE_SA_INIT finds its answer (§2.1)
 *   by source     how many half-open SAs each peer address holds (caps and
 *                 COOKIE, §2.6)
 *   by identity   established SAs by the peer's authenticated ID
 *                 (uniqueness, INITIAL_CONTACT §2.4)
 *   ESP SPIs      our inbound CHILD_SA SPIs -> IKE SA id (unique SPIs,
 *                 O(1) activity and delete calls from the data plane)
 *   deadlines     a binary heap of SAs by their earliest timer
 *
 * Peers choose the initiator SPI, their addresses and their identities, so
 * every bucket index is SipHash-2-4 (crypto_shorthash) under a random key:
 * nobody outside can aim entries at one bucket.
 *
 * Internal to ike/; nothing here allocates per lookup, and each table
 * grows by doubling (amortised O(1) inserts).
 */
#ifndef TUNSEC_IKE_SATAB_H
#define TUNSEC_IKE_SATAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/engine.h"

/* One entry of an intrusive hash chain; h is the full 64-bit hash. */
struct hlink {
	struct hlink *next;
	uint64_t h;
};

struct htab {
	struct hlink **b;
	size_t cap; /* power of two, or 0 before the first insert */
	size_t n;
};

/* Insert (the caller ensures it is not in already). -1: out of memory. */
int htab_add(struct htab *t, struct hlink *l, uint64_t h);
/* Remove; a link that is not in the table is ignored. */
void htab_del(struct htab *t, struct hlink *l);
/* The first entry with hash h, then the next ones (compare your key: two
 * keys may share a hash). */
struct hlink *htab_first(const struct htab *t, uint64_t h);
struct hlink *htab_next(const struct hlink *l, uint64_t h);
void htab_free(struct htab *t);

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct ike_sa;

/* Half-open SAs of one source address (the SA points at its own). */
struct satab_src {
	struct hlink l;
	uint8_t family;
	uint8_t addr[16];
	unsigned n;
};

/* One of our inbound ESP SPIs and the IKE SA it was made under. */
struct satab_esp {
	struct hlink l;
	uint32_t spi;
	uint32_t sa_id;
};

struct satab {
	uint8_t key[16]; /* SipHash key, random */
	struct htab by_spi, by_id, by_ho, by_ident, by_src, by_esp;
	size_t n_sa, n_half_open;
	size_t esp_live_mark; /* by_esp size after its last sweep */
	/* deadlines: a min-heap on sa->due */
	struct ike_sa **heap;
	size_t heap_n, heap_cap;
	/* every SA, for status lists */
	struct ike_sa *all;
};

void satab_init(struct satab *t, const uint8_t key[16]);
/* Free the tables (not the SAs: the engine frees those first). */
void satab_free(struct satab *t);

/*
 * Every SA: by our SPI (sa->key_spi, set by the engine: spi_i if we
 * initiated, else spi_r) and by id, in the status list, in the heap if
 * sa->due is set. -1 (nothing added) when memory is out.
 */
int satab_insert(struct satab *t, struct ike_sa *sa);
/* Out of every table and index it is in (half-open, identity too). */
void satab_remove(struct satab *t, struct ike_sa *sa);
struct ike_sa *satab_by_spi(const struct satab *t, uint64_t our_spi);
struct ike_sa *satab_by_id(const struct satab *t, uint32_t id);

/* A responder's SA by the (spi_i, remote address, any port: it may move
 * to 4500, §2.23) of the IKE_SA_INIT that made it, for as long as it
 * lives. */
int satab_ho_add(struct satab *t, struct ike_sa *sa);
void satab_ho_del(struct satab *t, struct ike_sa *sa);
/* Half-open (a responder's SA before IKE_AUTH): counted in all and per
 * source address (the path's remote address when it began). */
int satab_half_open_begin(struct satab *t, struct ike_sa *sa);
void satab_half_open_end(struct satab *t, struct ike_sa *sa);
struct ike_sa *satab_ho_find(const struct satab *t, uint64_t spi_i, const struct ike_addr *remote);
unsigned satab_ho_from(const struct satab *t, const struct ike_addr *remote);

/* Established SAs by (peer's identity); iterate every SA of one
 * identity with first/next (compare sa->peer_id yourself: hashes may
 * collide). */
int satab_ident_add(struct satab *t, struct ike_sa *sa);
void satab_ident_del(struct satab *t, struct ike_sa *sa);
struct ike_sa *satab_ident_first(const struct satab *t, const struct ike_identity *id);
struct ike_sa *satab_ident_next(const struct satab *t, const struct ike_sa *sa);

/* ESP SPIs: put (or move) spi to an IKE SA; get its IKE SA id, 0 if
 * none. An entry may outlive its CHILD_SA (the engine checks the SA
 * still has it); satab_esp_sweep() drops those for which still() says no,
 * and runs by itself only when the table has doubled since the last
 * sweep, so its cost is amortised O(1) per put. */
int satab_esp_put(struct satab *t, uint32_t spi, uint32_t sa_id);
uint32_t satab_esp_get(const struct satab *t, uint32_t spi);
void satab_esp_del(struct satab *t, uint32_t spi);
typedef bool (*satab_esp_still_fn)(void *ctx, uint32_t spi, uint32_t sa_id);
void satab_esp_maybe_sweep(struct satab *t, satab_esp_still_fn still, void *ctx);

/* The deadline heap: after changing sa->due (IKE_TIME_NEVER: no timer),
 * call satab_sched(). satab_top(): the SA due first, or NULL. */
void satab_sched(struct satab *t, struct ike_sa *sa);
struct ike_sa *satab_top(const struct satab *t);

#endif
