/* SAD: inbound by SPI (hash), outbound by longest prefix over the remote
 * selectors (trie), ranges split into covering CIDR blocks. */
#include "esp/sad.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "esp/esp.h"
#include "tests/unit/test.h"

/* The SAs here never go through esp_sa_init()/esp_sa_destroy(): their
 * selectors live in this static store (room for two each), not on the
 * heap, so that nothing is leaked. */
static struct esp_sel sel_store[64][2];
static unsigned sel_used;

static void sa_sel(struct esp_sa *sa, uint32_t spi, const char *remote)
{
	memset(sa, 0, sizeof(*sa));
	sa->spi = spi;
	sa->remote_sels = sel_store[sel_used++ % 64];
	memset(sa->remote_sels, 0, sizeof(sel_store[0]));
	if (remote) {
		CHECK_EQ(esp_sel_parse(&sa->remote_sels[0], remote), 0);
		sa->n_remote = 1;
	}
}

static struct esp_sa *out4(struct sad *s, const char *addr)
{
	uint8_t a[4];

	CHECK_EQ(inet_pton(AF_INET, addr, a), 1);
	return sad_lookup_out(s, AF_INET, a);
}

static struct esp_sa *out6(struct sad *s, const char *addr)
{
	uint8_t a[16];

	CHECK_EQ(inet_pton(AF_INET6, addr, a), 1);
	return sad_lookup_out(s, AF_INET6, a);
}

TEST(sad_in_by_spi_10000)
{
	enum { N = 10000 };
	struct esp_sa *sas = calloc(N, sizeof(*sas));
	struct sad *s = sad_new();
	unsigned misses = 0;

	REQUIRE(sas && s);
	/* Sequential and scattered SPIs alike. */
	for (uint32_t i = 0; i < N; i++) {
		sas[i].spi = i % 2 ? 0x100 + i : (i * 2654435761u) | 1;
		CHECK_EQ(sad_add_in(s, &sas[i]), 0);
	}
	CHECK_EQ(sad_count(s), N);
	for (uint32_t i = 0; i < N; i++)
		misses += sad_lookup_in(s, sas[i].spi) != &sas[i];
	CHECK_EQ(misses, 0);
	CHECK(sad_lookup_in(s, 0) == NULL);
	CHECK(sad_lookup_in(s, 0xfffffffe) == NULL);

	/* Taken SPI. */
	struct esp_sa dup = {.spi = sas[77].spi};

	CHECK_EQ(sad_add_in(s, &dup), -EEXIST);

	/* Remove every third; the rest must still be found (backward-shift
	 * deletion keeps probe runs intact). */
	for (uint32_t i = 0; i < N; i += 3)
		sad_remove(s, &sas[i]);
	misses = 0;
	for (uint32_t i = 0; i < N; i++) {
		struct esp_sa *want = i % 3 ? &sas[i] : NULL;

		misses += sad_lookup_in(s, sas[i].spi) != want;
	}
	CHECK_EQ(misses, 0);
	CHECK_EQ(sad_count(s), N - (N + 2) / 3);
	/* Removing again is a no-op; re-adding works. */
	sad_remove(s, &sas[0]);
	CHECK_EQ(sad_add_in(s, &sas[0]), 0);
	CHECK(sad_lookup_in(s, sas[0].spi) == &sas[0]);
	sad_free(s);
	free(sas);
}

TEST(sad_out_longest_prefix_v4)
{
	struct sad *s = sad_new();
	struct esp_sa any, wide, narrow, host;

	sa_sel(&any, 1, "0.0.0.0/0");
	sa_sel(&wide, 2, "10.0.0.0/8");
	sa_sel(&narrow, 3, "10.1.0.0/16");
	sa_sel(&host, 4, "10.1.2.3/32");
	/* Insertion order must not matter. */
	CHECK_EQ(sad_add_out(s, &narrow), 0);
	CHECK_EQ(sad_add_out(s, &host), 0);
	CHECK_EQ(sad_add_out(s, &any), 0);
	CHECK_EQ(sad_add_out(s, &wide), 0);
	CHECK(out4(s, "10.1.2.3") == &host);
	CHECK(out4(s, "10.1.2.4") == &narrow);
	CHECK(out4(s, "10.1.255.255") == &narrow);
	CHECK(out4(s, "10.2.0.0") == &wide);
	CHECK(out4(s, "11.0.0.0") == &any);
	CHECK(out6(s, "::1") == NULL); /* no IPv6 SA */
	CHECK_EQ(sad_count(s), 4);

	sad_remove(s, &narrow);
	CHECK(out4(s, "10.1.2.4") == &wide);
	CHECK(out4(s, "10.1.2.3") == &host);
	sad_remove(s, &host);
	CHECK(out4(s, "10.1.2.3") == &wide);
	sad_remove(s, &any);
	CHECK(out4(s, "11.0.0.0") == NULL);
	CHECK_EQ(sad_count(s), 1);
	sad_free(s);
}

TEST(sad_out_longest_prefix_v6)
{
	struct sad *s = sad_new();
	struct esp_sa a, b, c;

	sa_sel(&a, 1, "fd00::/8");
	sa_sel(&b, 2, "fd00:1::/32");
	sa_sel(&c, 3, "fd00:1:2:3::/64");
	CHECK_EQ(sad_add_out(s, &c), 0);
	CHECK_EQ(sad_add_out(s, &a), 0);
	CHECK_EQ(sad_add_out(s, &b), 0);
	CHECK(out6(s, "fd00:1:2:3::99") == &c);
	CHECK(out6(s, "fd00:1:2:4::1") == &b);
	CHECK(out6(s, "fdff::1") == &a);
	CHECK(out6(s, "fe80::1") == NULL);
	CHECK(out4(s, "10.0.0.1") == NULL);
	sad_remove(s, &c);
	CHECK(out6(s, "fd00:1:2:3::99") == &b);
	sad_free(s);
}

/* Make-before-break: the SA entered last under a prefix wins; removing
 * either one leaves the other in place. */
TEST(sad_out_replacement_on_rekey)
{
	struct sad *s = sad_new();
	struct esp_sa old, new;

	sa_sel(&old, 1, "10.9.0.0/16");
	sa_sel(&new, 2, "10.9.0.0/16");
	CHECK_EQ(sad_add_out(s, &old), 0);
	CHECK(out4(s, "10.9.1.1") == &old);
	CHECK_EQ(sad_add_out(s, &new), 0);
	CHECK(out4(s, "10.9.1.1") == &new);
	sad_remove(s, &old);
	CHECK(out4(s, "10.9.1.1") == &new);
	CHECK_EQ(sad_add_out(s, &old), 0); /* old is newest again */
	CHECK(out4(s, "10.9.1.1") == &old);
	sad_remove(s, &old);
	CHECK(out4(s, "10.9.1.1") == &new);
	sad_remove(s, &new);
	CHECK(out4(s, "10.9.1.1") == NULL);
	CHECK_EQ(sad_count(s), 0);
	sad_free(s);
}

/* A range that is no CIDR block is entered as the blocks covering it
 * exactly: nothing outside it, everything inside. */
TEST(sad_out_range_split_into_cidr)
{
	struct sad *s = sad_new();
	struct esp_sa r, any;

	sa_sel(&r, 1, "10.0.0.5");
	r.remote_sels[0].end[3] = 20; /* 10.0.0.5 - 10.0.0.20 */
	sa_sel(&any, 2, "10.0.0.0/24");
	CHECK_EQ(sad_add_out(s, &any), 0);
	CHECK_EQ(sad_add_out(s, &r), 0);
	for (int i = 0; i < 256; i++) {
		uint8_t a[4] = {10, 0, 0, (uint8_t)i};
		struct esp_sa *want = i >= 5 && i <= 20 ? &r : &any;

		if (sad_lookup_out(s, AF_INET, a) != want)
			test_fail(__FILE__, __LINE__, "10.0.0.%d: wrong SA", i);
	}
	/* A v6 range across a /64 boundary, and one to the very top. */
	struct esp_sa r6, top;

	sa_sel(&r6, 3, "fd00::ffff");
	memcpy(r6.remote_sels[0].end, r6.remote_sels[0].start, 16);
	r6.remote_sels[0].end[7] = 1; /* fd00:0:0:1:: */
	memset(r6.remote_sels[0].end + 8, 0, 8);
	r6.remote_sels[0].end[15] = 0x10; /* .. fd00:0:0:1::10 */
	sa_sel(&top, 4, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0");
	memset(top.remote_sels[0].end, 0xff, 16);
	CHECK_EQ(sad_add_out(s, &r6), 0);
	CHECK_EQ(sad_add_out(s, &top), 0);
	CHECK(out6(s, "fd00::fffe") == NULL);
	CHECK(out6(s, "fd00::ffff") == &r6);
	CHECK(out6(s, "fd00::1:0") == &r6);
	CHECK(out6(s, "fd00::ffff:ffff:ffff:ffff") == &r6);
	CHECK(out6(s, "fd00:0:0:1::10") == &r6);
	CHECK(out6(s, "fd00:0:0:1::11") == NULL);
	CHECK(out6(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == &top);
	CHECK(out6(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffef") == NULL);
	/* start > end is refused, all or nothing. */
	struct esp_sa bad;

	sa_sel(&bad, 5, "10.0.0.9");
	bad.remote_sels[0].end[3] = 1;
	CHECK_EQ(sad_add_out(s, &bad), -EINVAL);
	CHECK_EQ(sad_count(s), 4);
	sad_free(s);
}

static void count_cb(struct esp_sa *sa, void *arg)
{
	unsigned *seen = arg;

	seen[sa->spi]++;
}

TEST(sad_foreach_each_once)
{
	struct sad *s = sad_new();
	struct esp_sa in1, in2, out1;
	unsigned seen[8] = {0};

	sa_sel(&in1, 1, NULL);
	sa_sel(&in2, 2, NULL);
	sa_sel(&out1, 3, "10.0.0.0/8");
	/* Two selectors: still one SA. */
	CHECK_EQ(esp_sel_parse(&out1.remote_sels[1], "fd00::/8"), 0);
	out1.n_remote = 2;
	CHECK_EQ(sad_add_in(s, &in1), 0);
	CHECK_EQ(sad_add_in(s, &in2), 0);
	CHECK_EQ(sad_add_out(s, &out1), 0);
	CHECK_EQ(sad_add_out(s, &out1), 0); /* entering again does not double it */
	CHECK(out6(s, "fd00::1") == &out1);
	sad_foreach(s, count_cb, seen);
	CHECK_EQ(seen[1], 1);
	CHECK_EQ(seen[2], 1);
	CHECK_EQ(seen[3], 1);
	CHECK_EQ(sad_count(s), 3);
	sad_remove(s, &out1);
	CHECK(out6(s, "fd00::1") == NULL);
	CHECK_EQ(sad_count(s), 2);
	sad_free(s);
}
