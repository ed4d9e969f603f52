/*
 * Virtual-IP leases; see pool.h.
 *
 * A lease exists for every address ever given out, and only for those:
 * offsets from next_unused on have never been used (strongSwan's "unused"
 * counter), except those a client asked for by address (pool_acquire's
 * want), which the counter skips when it gets there. Each lease is in up to
 * three places: the address table (always), the identity table (while it
 * has an owner) and the offline list (while no SA holds it), oldest release
 * first, so that the lease a new identity may take is always the head.
 *
 * Both tables chain and are keyed with SipHash (crypto_shorthash) under a
 * random key per pool: identities come from peers, and a peer that could
 * predict buckets could make every lookup walk one long chain.
 */
#include "daemon/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "crypto/rand.h"

#define BUCKETS_MIN 64

struct lease {
	struct lease *id_next;		 /* identity table chain */
	struct lease *addr_next;	 /* address table chain */
	struct lease *off_prev, *off_next; /* offline list, while refs == 0 */
	uint64_t offset;		 /* from the start of the range */
	uint64_t since_ms;
	uint32_t refs;
	uint8_t id_len;			 /* 0: no owner (its owner moved on) */
	uint8_t id[];
};

struct pool {
	struct cfg_pool cfg;
	unsigned alen;			/* 4 or 16 bytes of address */
	unsigned __int128 start;	/* cfg.start as a number */
	uint64_t size;			/* addresses in the range */
	uint64_t next_unused;
	struct lease **by_id, **by_addr;
	size_t n_buckets;		/* a power of two */
	size_t n_leases;
	struct lease *off_head, *off_tail;
	uint64_t online, offline, full;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

/* ---- addresses ------------------------------------------------------------ */

static unsigned __int128 addr_num(unsigned alen, const uint8_t *a)
{
	unsigned __int128 n = 0;

	for (unsigned i = 0; i < alen; i++)
		n = n << 8 | a[i];
	return n;
}

static void num_addr(unsigned alen, unsigned __int128 n, uint8_t out[16])
{
	memset(out, 0, 16);
	for (unsigned i = alen; i-- > 0; n >>= 8)
		out[i] = (uint8_t)n;
}

/* addr's offset in the range, or false if it is outside. */
static bool addr_offset(const struct pool *p, const uint8_t *addr, uint64_t *off)
{
	unsigned __int128 n = addr_num(p->alen, addr);

	if (n < p->start || n - p->start >= p->size)
		return false;
	*off = (uint64_t)(n - p->start);
	return true;
}

static void offset_addr(const struct pool *p, uint64_t off, uint8_t out[16])
{
	num_addr(p->alen, p->start + off, out);
}

/* ---- tables --------------------------------------------------------------- */

static size_t hash_id(const struct pool *p, const uint8_t *id, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, id, len, p->key);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (p->n_buckets - 1));
}

static size_t hash_off(const struct pool *p, uint64_t off)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const uint8_t *)&off, sizeof(off), p->key);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (p->n_buckets - 1));
}

static struct lease *find_id(const struct pool *p, const uint8_t *id, size_t len)
{
	struct lease *l = p->by_id[hash_id(p, id, len)];

	for (; l; l = l->id_next)
		if (l->id_len == len && memcmp(l->id, id, len) == 0)
			return l;
	return NULL;
}

static struct lease *find_off(const struct pool *p, uint64_t off)
{
	struct lease *l = p->by_addr[hash_off(p, off)];

	for (; l; l = l->addr_next)
		if (l->offset == off)
			return l;
	return NULL;
}

static void unlink_id(struct pool *p, struct lease *l)
{
	struct lease **pp = &p->by_id[hash_id(p, l->id, l->id_len)];

	while (*pp != l)
		pp = &(*pp)->id_next;
	*pp = l->id_next;
	l->id_next = NULL;
}

static void unlink_addr(struct pool *p, struct lease *l)
{
	struct lease **pp = &p->by_addr[hash_off(p, l->offset)];

	while (*pp != l)
		pp = &(*pp)->addr_next;
	*pp = l->addr_next;
	l->addr_next = NULL;
}

static void insert(struct pool *p, struct lease *l)
{
	size_t h = hash_off(p, l->offset);

	l->addr_next = p->by_addr[h];
	p->by_addr[h] = l;
	if (l->id_len) {
		h = hash_id(p, l->id, l->id_len);
		l->id_next = p->by_id[h];
		p->by_id[h] = l;
	}
}

/* Twice the buckets once there are more leases than buckets: chains stay
 * short, and the rehash is paid for by the leases that caused it. */
static int grow(struct pool *p)
{
	struct lease **old = p->by_addr, **old_id = p->by_id;
	size_t n = p->n_buckets;

	if (p->n_leases < p->n_buckets)
		return 0;
	p->by_addr = calloc(2 * n, sizeof(*p->by_addr));
	p->by_id = calloc(2 * n, sizeof(*p->by_id));
	if (!p->by_addr || !p->by_id) {
		free(p->by_addr);
		free(p->by_id);
		p->by_addr = old;
		p->by_id = old_id;
		return -ENOMEM;
	}
	p->n_buckets = 2 * n;
	for (size_t i = 0; i < n; i++)
		for (struct lease *l = old[i], *next; l; l = next) {
			next = l->addr_next;
			insert(p, l);
		}
	free(old);
	free(old_id);
	return 0;
}

/* ---- the offline list ----------------------------------------------------- */

static void offline_append(struct pool *p, struct lease *l)
{
	l->off_next = NULL;
	l->off_prev = p->off_tail;
	if (p->off_tail)
		p->off_tail->off_next = l;
	else
		p->off_head = l;
	p->off_tail = l;
	p->offline++;
}

static void offline_remove(struct pool *p, struct lease *l)
{
	if (l->off_prev)
		l->off_prev->off_next = l->off_next;
	else
		p->off_head = l->off_next;
	if (l->off_next)
		l->off_next->off_prev = l->off_prev;
	else
		p->off_tail = l->off_prev;
	l->off_prev = l->off_next = NULL;
	p->offline--;
}

/* ---- leases --------------------------------------------------------------- */

static bool past_grace(const struct lease *l, uint64_t now_ms)
{
	return now_ms >= l->since_ms && now_ms - l->since_ms >= POOL_GRACE_MS;
}

/* Only ever an offline lease is dropped: to be rebound to another identity
 * (a lease's identity lives in its own allocation). */
static void lease_drop(struct pool *p, struct lease *l)
{
	offline_remove(p, l);
	unlink_addr(p, l);
	if (l->id_len)
		unlink_id(p, l);
	p->n_leases--;
	sodium_memzero(l->id, l->id_len);
	free(l);
}

/* A new online lease of id at off. */
static int lease_add(struct pool *p, uint64_t off, const uint8_t *id, size_t id_len,
                     uint64_t now_ms)
{
	struct lease *l;

	if (grow(p) < 0)
		return -ENOMEM;
	l = calloc(1, sizeof(*l) + id_len);
	if (!l)
		return -ENOMEM;
	l->offset = off;
	l->since_ms = now_ms;
	l->refs = 1;
	l->id_len = (uint8_t)id_len;
	memcpy(l->id, id, id_len);
	insert(p, l);
	p->n_leases++;
	p->online++;
	return 0;
}

/* id's offline lease l comes back online. */
static void lease_revive(struct pool *p, struct lease *l, uint64_t now_ms)
{
	offline_remove(p, l);
	l->refs = 1;
	l->since_ms = now_ms;
	p->online++;
}

/* id's lease l (offline) gives up its owner: id moves to another address.
 * It keeps its place in the offline list, so its grace still runs from its
 * release. */
static void lease_disown(struct pool *p, struct lease *l)
{
	unlink_id(p, l);
	sodium_memzero(l->id, l->id_len);
	l->id_len = 0;
}

/* The next never-used offset, skipping those taken by request. */
static bool next_unused(struct pool *p, uint64_t *off)
{
	while (p->next_unused < p->size && find_off(p, p->next_unused))
		p->next_unused++;
	if (p->next_unused >= p->size)
		return false;
	*off = p->next_unused;
	return true;
}

/*
 * Rebind the offline lease l (any owner, or none) to id: a fresh lease in
 * its place. On -ENOMEM l is gone but the address is not lost: with no
 * lease at it, a request for it finds it free.
 */
static int lease_rebind(struct pool *p, struct lease *l, const uint8_t *id, size_t id_len,
                        uint64_t now_ms)
{
	uint64_t off = l->offset;

	lease_drop(p, l);
	return lease_add(p, off, id, id_len, now_ms);
}

/* ---- API ------------------------------------------------------------------ */

struct pool *pool_new(const struct cfg_pool *cfg)
{
	unsigned __int128 s, e;
	struct pool *p;

	if (!cfg || (cfg->family != AF_INET && cfg->family != AF_INET6))
		return NULL;
	if (crypto_init() < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->alen = cfg->family == AF_INET ? 4 : 16;
	s = addr_num(p->alen, cfg->start);
	e = addr_num(p->alen, cfg->end);
	if (s > e) {
		free(p);
		return NULL;
	}
	p->start = s;
	/* e - s + 1 overflows only for the whole IPv6 space */
	p->size = e - s >= UINT64_MAX ? UINT64_MAX : (uint64_t)(e - s) + 1;
	p->n_buckets = BUCKETS_MIN;
	p->by_addr = calloc(p->n_buckets, sizeof(*p->by_addr));
	p->by_id = calloc(p->n_buckets, sizeof(*p->by_id));
	if (!p->by_addr || !p->by_id) {
		pool_free(p);
		return NULL;
	}
	rand_bytes(p->key, sizeof(p->key));
	return p;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->by_addr && i < p->n_buckets; i++)
		for (struct lease *l = p->by_addr[i], *next; l; l = next) {
			next = l->addr_next;
			sodium_memzero(l->id, l->id_len);
			free(l);
		}
	free(p->by_addr);
	free(p->by_id);
	sodium_memzero(p->key, sizeof(p->key));
	free(p);
}

const struct cfg_pool *pool_cfg(const struct pool *p)
{
	return &p->cfg;
}

int pool_acquire(struct pool *p, const uint8_t *id, size_t id_len, const uint8_t *want,
                 uint64_t now_ms, uint8_t out[16])
{
	struct lease *mine, *l;
	uint64_t off;
	int rc;

	if (!p || !out || !id || id_len == 0 || id_len > POOL_ID_MAX)
		return -EINVAL;
	mine = find_id(p, id, id_len);

	/* 1. A second SA of an identity that is online shares its address. */
	if (mine && mine->refs > 0) {
		mine->refs++;
		offset_addr(p, mine->offset, out);
		return 0;
	}

	/* 2. The address the client asked for (RFC 7296 section 3.15.1: a
	 * non-empty INTERNAL_IP4_ADDRESS in the CFG_REQUEST), if it is its
	 * own or nobody's. */
	if (want && addr_offset(p, want, &off)) {
		l = find_off(p, off);
		if (l && l == mine) {
			lease_revive(p, l, now_ms);
			offset_addr(p, off, out);
			return 0;
		}
		if (!l || (l->id_len == 0 && past_grace(l, now_ms))) {
			if (mine)
				lease_disown(p, mine);
			rc = l ? lease_rebind(p, l, id, id_len, now_ms)
			       : lease_add(p, off, id, id_len, now_ms);
			if (rc < 0)
				return rc;
			offset_addr(p, off, out);
			return 0;
		}
	}

	/* 3. Sticky: the address it had. */
	if (mine) {
		lease_revive(p, mine, now_ms);
		offset_addr(p, mine->offset, out);
		return 0;
	}

	/* 4. A never-used address. */
	if (next_unused(p, &off)) {
		if ((rc = lease_add(p, off, id, id_len, now_ms)) < 0)
			return rc;
		offset_addr(p, off, out);
		return 0;
	}

	/* 5. The lease offline longest, once its grace has passed; the head of
	 * the list is the oldest, so if it is too young, all are. */
	l = p->off_head;
	if (l && past_grace(l, now_ms)) {
		off = l->offset;
		if ((rc = lease_rebind(p, l, id, id_len, now_ms)) < 0)
			return rc;
		offset_addr(p, off, out);
		return 0;
	}
	p->full++;
	return -ENOSPC;
}

int pool_release(struct pool *p, const uint8_t addr[16], uint64_t now_ms)
{
	struct lease *l;
	uint64_t off;

	if (!p || !addr || !addr_offset(p, addr, &off) || !(l = find_off(p, off)) || l->refs == 0)
		return -ENOENT;
	if (--l->refs > 0)
		return 0;
	l->since_ms = now_ms;
	p->online--;
	offline_append(p, l);
	return 0;
}

void pool_stats(const struct pool *p, struct pool_stats *out)
{
	out->size = p->size;
	out->online = p->online;
	out->offline = p->offline;
	out->full = p->full;
}

int pool_foreach(const struct pool *p, int (*fn)(const struct pool_lease_info *l, void *arg),
                 void *arg)
{
	for (size_t i = 0; i < p->n_buckets; i++)
		for (const struct lease *l = p->by_addr[i]; l; l = l->addr_next) {
			struct pool_lease_info info = {
			    .id = l->id_len ? l->id : NULL,
			    .id_len = l->id_len,
			    .online = l->refs > 0,
			    .refs = l->refs,
			    .since_ms = l->since_ms,
			};
			int rc;

			offset_addr(p, l->offset, info.addr);
			if ((rc = fn(&info, arg)) != 0)
				return rc;
		}
	return 0;
}
