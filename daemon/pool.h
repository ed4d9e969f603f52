/*
 * Virtual-IP address pools for road warriors: the addresses a responder
 * hands out in CFG_REPLY's INTERNAL_IP4/6_ADDRESS (RFC 7296 section 2.19,
 * section 3.15.1), with strongSwan's lease semantics (its mem_pool, the
 * swanctl.conf(5) pools section):
 *
 *   - A lease binds an address to an identity (the peer's IKE identity, as
 *     bytes the caller chooses). It is online while at least one SA holds
 *     it (a reference count: a second SA of the same identity gets the same
 *     address again), offline afterwards, and stays bound to the identity:
 *     the identity gets it back when it returns ("sticky").
 *   - A new identity gets a never-used address first; when there is none,
 *     the offline lease that has been offline longest, once POOL_GRACE_MS
 *     have passed since its release; else -ENOSPC.
 *
 * No I/O, no clock of its own: time is the caller's now_ms, which must
 * never go backwards (a monotonic clock), since leases are ordered by the
 * time of their release. Every operation is O(1) (expected; keyed hash
 * tables). Leases are created when first given out, never per address of
 * the range, so a /64 costs nothing until it is used: memory is about
 * 72 bytes per lease (56 and the allocator's share) plus its identity, and
 * at most four bucket pointers per lease (two tables, each at most twice
 * as many buckets as leases).
 *
 * Addresses are 16 bytes in network byte order, an IPv4 address in the
 * first 4 (the rest ignored on input, zero on output).
 */
#ifndef TUNSEC_DAEMON_POOL_H
#define TUNSEC_DAEMON_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"

#define POOL_ID_MAX 255 /* bytes of identity (an IKE ID's data is shorter in practice) */

/*
 * How long an offline lease stays reserved for its identity before another
 * identity may take it. strongSwan reassigns at once when the pool is
 * exhausted; we wait, for two reasons: a client that lost its path
 * (roaming, a NAT rebinding, a reauthentication that broke before make)
 * comes back within seconds and should find its address, so that its TCP
 * sessions survive; and traffic still on its way to the old owner (remote
 * servers' retransmissions, stale neighbour and route caches) must not be
 * delivered to a stranger. A minute covers TCP's first retransmissions and
 * typical reconnect times while costing little under pressure.
 */
#define POOL_GRACE_MS (60 * 1000)

/* Counters of a pool, for `tunsec pools`: X(name, description). */
#define POOL_COUNTERS(X)                                                                           \
	X(size, "addresses in the range")                                                          \
	X(online, "leases held by at least one SA")                                                \
	X(offline, "leases released, kept for their identity")                                     \
	X(full, "acquisitions refused: no free address (ENOSPC)")

struct pool_stats {
#define POOL_STAT_FIELD(name, desc) uint64_t name;
	POOL_COUNTERS(POOL_STAT_FIELD)
#undef POOL_STAT_FIELD
};

/* One lease as pool_foreach() shows it; valid during the callback only. */
struct pool_lease_info {
	uint8_t addr[16];
	const uint8_t *id; /* NULL with id_len 0: no owner (see pool_acquire's want) */
	size_t id_len;
	bool online;
	unsigned refs;    /* SAs holding it; 0 when offline */
	uint64_t since_ms; /* online: first acquired this time; offline: released */
};

struct pool;

/*
 * A pool for cfg (copied: cfg need not outlive the pool). The range is
 * cfg->start..cfg->end inclusive; ranges of more than 2^64 - 1 addresses
 * (an IPv6 prefix shorter than /64) use their first 2^64 - 1. NULL if cfg
 * is NULL, its family is neither AF_INET nor AF_INET6, start > end, or
 * memory is short.
 */
struct pool *pool_new(const struct cfg_pool *cfg);

/* Free the pool and every lease (identities wiped). NULL is fine. */
void pool_free(struct pool *p);

/* The configuration it was made from (its name, family, attributes). */
const struct cfg_pool *pool_cfg(const struct pool *p);

/*
 * An address for identity id (id_len bytes, 1..POOL_ID_MAX) into out.
 * In order:
 *   1. id holds a lease online: the same address, one more reference
 *      (want is ignored: strongSwan's default for a second SA).
 *   2. want (NULL, or an address of the pool's family) is honoured if it is
 *      in the range and either id's own offline lease or free: never given
 *      out, or left by an identity that moved to another address, past its
 *      grace. If id had another offline lease, id moves: that address is
 *      left unowned, still reserved until its grace has passed.
 *   3. id holds a lease offline: that address.
 *   4. a never-used address.
 *   5. the lease offline longest, if POOL_GRACE_MS have passed since its
 *      release: it is taken from its identity.
 * Returns 0; -EINVAL for a NULL p or out, id NULL or id_len 0 or more than
 * POOL_ID_MAX; -ENOSPC when nothing is free (the full counter counts it);
 * -ENOMEM.
 */
int pool_acquire(struct pool *p, const uint8_t *id, size_t id_len, const uint8_t *want,
                 uint64_t now_ms, uint8_t out[16]);

/*
 * Drop one reference to the lease of addr. At zero it goes offline at
 * now_ms, still bound to its identity. 0; -ENOENT if addr holds no online
 * lease (never given out, or already released as often as acquired).
 */
int pool_release(struct pool *p, const uint8_t addr[16], uint64_t now_ms);

/* The counters, at this moment. */
void pool_stats(const struct pool *p, struct pool_stats *out);

/*
 * Call fn for every lease, in no particular order, until it returns
 * non-zero (which pool_foreach then returns; else 0). fn must not acquire
 * or release in this pool.
 */
int pool_foreach(const struct pool *p, int (*fn)(const struct pool_lease_info *l, void *arg),
                 void *arg);

#endif
