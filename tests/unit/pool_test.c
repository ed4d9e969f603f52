/*
 * Virtual-IP leases (daemon/pool.c): the addresses a responder hands out in
 * CFG_REPLY (RFC 7296 section 2.19, section 3.15.1), with strongSwan's
 * mem_pool semantics: sticky per identity, shared by one identity's SAs,
 * never-used first, then the lease offline longest once its grace is over.
 */
#include "daemon/pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "tests/unit/test.h"

static struct cfg_pool mk_cfg(const char *from, const char *to)
{
	struct cfg_pool c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "test");
	c.family = strchr(from, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, from, c.start) != 1 || inet_pton(c.family, to, c.end) != 1)
		test_fail(__FILE__, __LINE__, "bad test address %s or %s", from, to);
	return c;
}

static struct pool *mk_pool(const char *from, const char *to)
{
	struct cfg_pool c = mk_cfg(from, to);
	struct pool *p = pool_new(&c);

	REQUIRE(p != NULL);
	return p;
}

/* An address as text, for comparisons that read like the RFC's examples. */
static const char *ntop(const struct pool *p, const uint8_t a[16], char *buf)
{
	return inet_ntop(pool_cfg(p)->family, a, buf, INET6_ADDRSTRLEN);
}

static void pton(const struct pool *p, const char *s, uint8_t a[16])
{
	memset(a, 0, 16);
	REQUIRE_EQ(inet_pton(pool_cfg(p)->family, s, a), 1);
}

/* Acquire for the identity given as a string; the address as text. */
static int get(struct pool *p, const char *id, const char *want, uint64_t now, char *buf)
{
	uint8_t w[16], out[16];
	int rc;

	if (want)
		pton(p, want, w);
	rc = pool_acquire(p, (const uint8_t *)id, strlen(id), want ? w : NULL, now, out);
	if (rc == 0)
		ntop(p, out, buf);
	else
		snprintf(buf, INET6_ADDRSTRLEN, "rc %d", rc);
	return rc;
}

static int put(struct pool *p, const char *addr, uint64_t now)
{
	uint8_t a[16];

	pton(p, addr, a);
	return pool_release(p, a, now);
}

#define CHECK_GET(p, id, want, now, expect)                                                        \
	do {                                                                                       \
		char got_[INET6_ADDRSTRLEN];                                                       \
		get(p, id, want, now, got_);                                                       \
		CHECK_STREQ(got_, expect);                                                         \
	} while (0)

static struct pool_stats stats(const struct pool *p)
{
	struct pool_stats s;

	pool_stats(p, &s);
	return s;
}

/* A /24 as config gives it (network and broadcast left out): .1 to .254 in
 * order, then -ENOSPC, each refusal counted. */
TEST(pool_rfc7296_2_19_slash24_one_to_254_then_enospc)
{
	struct pool *p = mk_pool("10.10.0.1", "10.10.0.254");
	char id[32], want[32], got[INET6_ADDRSTRLEN];

	CHECK_EQ(stats(p).size, 254);
	for (int i = 1; i <= 254; i++) {
		snprintf(id, sizeof(id), "peer-%d", i);
		snprintf(want, sizeof(want), "10.10.0.%d", i);
		CHECK_EQ(get(p, id, NULL, 0, got), 0);
		CHECK_STREQ(got, want);
	}
	CHECK_EQ(stats(p).online, 254);
	CHECK_EQ(get(p, "one-more", NULL, 0, got), -ENOSPC);
	CHECK_EQ(get(p, "and-another", NULL, 0, got), -ENOSPC);
	CHECK_EQ(stats(p).full, 2);
	/* an identity already online still gets its address */
	CHECK_GET(p, "peer-7", NULL, 0, "10.10.0.7");
	CHECK_EQ(stats(p).full, 2);
	pool_free(p);
}

TEST(pool_from_to_range_inclusive)
{
	struct pool *p = mk_pool("192.168.5.250", "192.168.6.1");
	char got[INET6_ADDRSTRLEN];

	CHECK_EQ(stats(p).size, 8);
	CHECK_GET(p, "a", NULL, 0, "192.168.5.250");
	for (int i = 0; i < 6; i++) {
		char id[16];

		snprintf(id, sizeof(id), "x%d", i);
		CHECK_EQ(get(p, id, NULL, 0, got), 0);
	}
	CHECK_STREQ(got, "192.168.6.0");
	CHECK_GET(p, "last", NULL, 0, "192.168.6.1");
	CHECK_EQ(get(p, "none", NULL, 0, got), -ENOSPC);
	pool_free(p);

	/* one address */
	p = mk_pool("10.0.0.9", "10.0.0.9");
	CHECK_GET(p, "a", NULL, 0, "10.0.0.9");
	CHECK_EQ(get(p, "b", NULL, 0, got), -ENOSPC);
	pool_free(p);
}

TEST(pool_sticky_reconnect_same_address)
{
	struct pool *p = mk_pool("10.0.0.1", "10.0.0.100");

	CHECK_GET(p, "alice", NULL, 1000, "10.0.0.1");
	CHECK_GET(p, "bob", NULL, 1000, "10.0.0.2");
	CHECK_EQ(put(p, "10.0.0.1", 2000), 0);
	CHECK_EQ(stats(p).offline, 1);
	CHECK_GET(p, "carol", NULL, 3000, "10.0.0.3");
	/* long after the grace period: alice's lease was never needed */
	CHECK_GET(p, "alice", NULL, 10 * 60 * 1000, "10.0.0.1");
	CHECK_EQ(stats(p).offline, 0);
	CHECK_EQ(stats(p).online, 3);
	pool_free(p);
}

/* strongSwan's default for a second SA of an identity online: the same
 * address, counted; offline only after the last release. */
TEST(pool_same_identity_twice_shares_refcounted)
{
	struct pool *p = mk_pool("10.0.0.1", "10.0.0.100");

	CHECK_GET(p, "alice", NULL, 0, "10.0.0.1");
	CHECK_GET(p, "alice", NULL, 5, "10.0.0.1");
	/* a requested address does not split them */
	CHECK_GET(p, "alice", "10.0.0.50", 6, "10.0.0.1");
	CHECK_EQ(stats(p).online, 1);
	CHECK_EQ(put(p, "10.0.0.1", 10), 0);
	CHECK_EQ(put(p, "10.0.0.1", 11), 0);
	CHECK_EQ(stats(p).online, 1);
	CHECK_EQ(stats(p).offline, 0);
	CHECK_EQ(put(p, "10.0.0.1", 12), 0);
	CHECK_EQ(stats(p).online, 0);
	CHECK_EQ(stats(p).offline, 1);
	CHECK_EQ(put(p, "10.0.0.1", 13), -ENOENT);
	CHECK_EQ(put(p, "10.0.0.2", 13), -ENOENT);  /* never given out */
	CHECK_EQ(put(p, "10.0.1.1", 13), -ENOENT);  /* outside */
	pool_free(p);
}

/* Another identity may take an offline lease only when no never-used
 * address is left, and only POOL_GRACE_MS after its release, the oldest
 * first. */
TEST(pool_grace_period_then_oldest_offline)
{
	struct pool *p = mk_pool("10.0.0.1", "10.0.0.4");
	const uint64_t t = 1000000;
	char got[INET6_ADDRSTRLEN];

	CHECK_GET(p, "a", NULL, t, "10.0.0.1");
	CHECK_GET(p, "b", NULL, t, "10.0.0.2");
	CHECK_EQ(put(p, "10.0.0.2", t + 10), 0);
	CHECK_EQ(put(p, "10.0.0.1", t + 20), 0);
	/* never-used first, even long after the grace */
	CHECK_GET(p, "c", NULL, t + 10 * POOL_GRACE_MS, "10.0.0.3");
	CHECK_GET(p, "d", NULL, t + 10 * POOL_GRACE_MS, "10.0.0.4");
	pool_free(p);

	p = mk_pool("10.0.0.1", "10.0.0.2");
	CHECK_GET(p, "a", NULL, t, "10.0.0.1");
	CHECK_GET(p, "b", NULL, t, "10.0.0.2");
	CHECK_EQ(put(p, "10.0.0.2", t + 10), 0);
	CHECK_EQ(put(p, "10.0.0.1", t + 20), 0);
	/* one millisecond short of b's grace */
	CHECK_EQ(get(p, "c", NULL, t + 10 + POOL_GRACE_MS - 1, got), -ENOSPC);
	CHECK_EQ(stats(p).full, 1);
	/* at it: b's, released first, not a's */
	CHECK_GET(p, "c", NULL, t + 10 + POOL_GRACE_MS, "10.0.0.2");
	CHECK_EQ(get(p, "d", NULL, t + 20 + POOL_GRACE_MS - 1, got), -ENOSPC);
	CHECK_GET(p, "d", NULL, t + 20 + POOL_GRACE_MS, "10.0.0.1");
	/* b lost its lease: nothing left for it */
	CHECK_EQ(get(p, "b", NULL, t + 100 * POOL_GRACE_MS, got), -ENOSPC);
	CHECK_EQ(stats(p).full, 3);
	CHECK_EQ(stats(p).online, 2);
	CHECK_EQ(stats(p).offline, 0);
	/* a lease that came back online and went offline again counts from
	 * its second release */
	CHECK_EQ(put(p, "10.0.0.1", t + 200 * POOL_GRACE_MS), 0);
	CHECK_GET(p, "d", NULL, t + 200 * POOL_GRACE_MS + 1, "10.0.0.1");
	CHECK_EQ(put(p, "10.0.0.1", t + 300 * POOL_GRACE_MS), 0);
	CHECK_EQ(get(p, "e", NULL, t + 300 * POOL_GRACE_MS + 1, got), -ENOSPC);
	pool_free(p);
}

/* RFC 7296 section 3.15.1: a client may ask for an address in its
 * CFG_REQUEST; honoured if the address is its own or free. */
TEST(pool_rfc7296_3_15_1_requested_address)
{
	struct pool *p = mk_pool("10.0.0.1", "10.0.0.3");
	char got[INET6_ADDRSTRLEN];

	/* free: honoured; the counter skips it later */
	CHECK_GET(p, "a", "10.0.0.2", 0, "10.0.0.2");
	CHECK_GET(p, "b", NULL, 0, "10.0.0.1");
	/* held online by a: ignored */
	CHECK_GET(p, "c", "10.0.0.2", 0, "10.0.0.3");
	CHECK_EQ(get(p, "d", NULL, 0, got), -ENOSPC);
	/* held offline by b, even past its grace: ignored (b keeps it
	 * until a new identity needs it) */
	CHECK_EQ(put(p, "10.0.0.1", 10), 0);
	CHECK_EQ(get(p, "d", "10.0.0.1", 10 + 10 * POOL_GRACE_MS, got), 0);
	CHECK_STREQ(got, "10.0.0.1"); /* ... but then taken as the oldest */
	pool_free(p);

	p = mk_pool("10.0.0.1", "10.0.0.9");
	/* outside the range: ignored */
	CHECK_GET(p, "a", "10.0.1.5", 0, "10.0.0.1");
	CHECK_GET(p, "b", "10.0.0.0", 0, "10.0.0.2");
	/* its own offline lease: honoured */
	CHECK_EQ(put(p, "10.0.0.1", 5), 0);
	CHECK_GET(p, "a", "10.0.0.1", 6, "10.0.0.1");
	/* another offline one's: ignored, a gets its own */
	CHECK_EQ(put(p, "10.0.0.2", 7), 0);
	CHECK_EQ(put(p, "10.0.0.1", 7), 0);
	CHECK_GET(p, "a", "10.0.0.2", 8, "10.0.0.1");
	/* a free one while it has an offline lease: a moves; its old address
	 * is nobody's but keeps its grace */
	CHECK_EQ(put(p, "10.0.0.1", 100), 0);
	CHECK_GET(p, "a", "10.0.0.9", 101, "10.0.0.9");
	CHECK_EQ(stats(p).offline, 2); /* b's and the one a left */
	CHECK_GET(p, "c", "10.0.0.1", 102, "10.0.0.3");
	CHECK_GET(p, "d", "10.0.0.1", 100 + POOL_GRACE_MS, "10.0.0.1");
	/* and a, back offline then online, stays at .9 */
	CHECK_EQ(put(p, "10.0.0.9", 200), 0);
	CHECK_GET(p, "a", NULL, 201, "10.0.0.9");
	pool_free(p);
}

/* A /64: 2^64 - 1 addresses, none of them allocated up front. */
TEST(pool_ipv6_slash64_lazy)
{
	struct pool *p = mk_pool("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff");
	char id[32], got[INET6_ADDRSTRLEN];
	uint8_t a[16];

	CHECK_EQ(stats(p).size, UINT64_MAX);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "v6-%d", i);
		REQUIRE_EQ(get(p, id, NULL, 0, got), 0);
	}
	CHECK_STREQ(got, "2001:db8:1:2::1388"); /* the 5000th */
	CHECK_GET(p, "far", "2001:db8:1:2:dead:beef:0:1", 0, "2001:db8:1:2:dead:beef:0:1");
	CHECK_GET(p, "top", "2001:db8:1:2:ffff:ffff:ffff:ffff", 0,
	          "2001:db8:1:2:ffff:ffff:ffff:ffff");
	CHECK_GET(p, "out", "2001:db8:1:3::1", 0, "2001:db8:1:2::1389");
	CHECK_EQ(stats(p).online, 5003);
	pton(p, "2001:db8:1:2:dead:beef:0:1", a);
	CHECK_EQ(pool_release(p, a, 1), 0);
	CHECK_GET(p, "v6-4999", NULL, 2, "2001:db8:1:2::1388");
	pool_free(p);

	/* the whole IPv6 space: counted as 2^64 - 1 */
	p = mk_pool("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	CHECK_EQ(stats(p).size, UINT64_MAX);
	CHECK_GET(p, "a", NULL, 0, "::");
	pool_free(p);
}

static int count_leases(const struct pool_lease_info *l, void *arg)
{
	uint64_t *n = arg;

	n[l->online ? 0 : 1]++;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10 000 leases in a /16: distinct, sticky, and O(1) each (well under a
 * second for all, ASan included). */
TEST(pool_slash16_ten_thousand_leases_fast)
{
	struct pool *p = mk_pool("10.1.0.1", "10.1.255.254");
	static uint8_t seen[65536];
	uint8_t out[16];
	uint64_t n[2] = {0, 0};
	char id[32];
	double t0 = now_s();

	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "user%05d@example.org", i);
		REQUIRE_EQ(pool_acquire(p, (uint8_t *)id, strlen(id), NULL, 0, out), 0);
		CHECK_EQ(out[0], 10);
		CHECK_EQ(out[1], 1);
		CHECK_EQ(seen[out[2] << 8 | out[3]], 0);
		seen[out[2] << 8 | out[3]] = 1;
	}
	for (int i = 0; i < 10000; i += 2) {
		snprintf(id, sizeof(id), "user%05d@example.org", i);
		REQUIRE_EQ(pool_acquire(p, (uint8_t *)id, strlen(id), NULL, 1, out), 0);
		REQUIRE_EQ(pool_release(p, out, 2), 0);
		REQUIRE_EQ(pool_release(p, out, 2), 0);
	}
	CHECK_EQ(pool_foreach(p, count_leases, n), 0);
	CHECK_EQ(n[0], 5000);
	CHECK_EQ(n[1], 5000);
	CHECK_EQ(stats(p).online, 5000);
	CHECK_EQ(stats(p).offline, 5000);
	/* each comes back to its address */
	for (int i = 0; i < 10000; i += 2) {
		snprintf(id, sizeof(id), "user%05d@example.org", i);
		REQUIRE_EQ(pool_acquire(p, (uint8_t *)id, strlen(id), NULL, 3, out), 0);
		CHECK_EQ(seen[out[2] << 8 | out[3]], 1);
		seen[out[2] << 8 | out[3]] = 2;
	}
	CHECK_EQ(stats(p).online, 10000);
	CHECK(now_s() - t0 < 2.0);
	pool_free(p);
}

TEST(pool_identity_255_bytes_and_bad_input)
{
	struct pool *p = mk_pool("10.0.0.1", "10.0.0.10");
	uint8_t id[POOL_ID_MAX + 1], out[16], a1[16], a2[16];
	struct cfg_pool c;

	memset(id, 0xab, sizeof(id));
	CHECK_EQ(pool_acquire(p, id, POOL_ID_MAX, NULL, 0, a1), 0);
	id[POOL_ID_MAX - 1] ^= 1; /* differs only in its last byte */
	CHECK_EQ(pool_acquire(p, id, POOL_ID_MAX, NULL, 0, a2), 0);
	CHECK(memcmp(a1, a2, 16) != 0);
	/* a prefix of an identity is another identity */
	CHECK_EQ(pool_acquire(p, id, POOL_ID_MAX - 1, NULL, 0, out), 0);
	CHECK(memcmp(out, a2, 16) != 0);
	CHECK_EQ(pool_acquire(p, id, POOL_ID_MAX + 1, NULL, 0, out), -EINVAL);
	CHECK_EQ(pool_acquire(p, NULL, 5, NULL, 0, out), -EINVAL);
	CHECK_EQ(pool_acquire(p, NULL, 0, NULL, 0, out), -EINVAL);
	CHECK_EQ(pool_acquire(p, id, 0, NULL, 0, out), -EINVAL);
	CHECK_EQ(pool_acquire(p, id, 1, NULL, 0, NULL), -EINVAL);
	CHECK_EQ(pool_acquire(NULL, id, 1, NULL, 0, out), -EINVAL);
	CHECK_EQ(stats(p).online, 3);
	CHECK_EQ(stats(p).full, 0);
	CHECK_EQ(pool_release(p, NULL, 0), -ENOENT);
	pool_free(p);
	pool_free(NULL);

	CHECK(pool_new(NULL) == NULL);
	c = mk_cfg("10.0.0.2", "10.0.0.1"); /* inverted */
	CHECK(pool_new(&c) == NULL);
	c = mk_cfg("10.0.0.1", "10.0.0.2");
	c.family = AF_UNIX;
	CHECK(pool_new(&c) == NULL);
}

struct listing {
	int n;
	bool found;
};

static int find_bob(const struct pool_lease_info *l, void *arg)
{
	struct listing *x = arg;

	x->n++;
	if (l->id_len == 3 && memcmp(l->id, "bob", 3) == 0) {
		x->found = !l->online && l->refs == 0 && l->since_ms == 77 && l->addr[3] == 2 &&
		           l->addr[0] == 10 && l->addr[4] == 0;
		return 42;
	}
	return 0;
}

/* What `tunsec pools` lists: address, identity, state and since when. */
TEST(pool_foreach_lists_leases)
{
	struct pool *p = mk_pool("10.0.0.1", "10.0.0.10");
	struct listing x = {0, false};

	CHECK_GET(p, "alice", NULL, 5, "10.0.0.1");
	CHECK_GET(p, "bob", NULL, 6, "10.0.0.2");
	CHECK_EQ(put(p, "10.0.0.2", 77), 0);
	CHECK_EQ(pool_foreach(p, find_bob, &x), 42);
	CHECK(x.found);
	CHECK_EQ(strcmp(pool_cfg(p)->name, "test"), 0);
	pool_free(p);
}
