/*
 * ike/ts: traffic selector narrowing per RFC 7296 §2.9 (intersection with
 * our policy, the packet's selectors first, TS_UNACCEPTABLE), selector
 * algebra per §3.13.1 (protocol, port ranges, OPAQUE ports, IPv4 and
 * IPv6), table-driven.
 */
#include "ike/ts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "tests/unit/test.h"

/*
 * "10.0.0.0/24", "10.0.0.5-10.0.0.9", "fd00::/64", each optionally with
 * "|PROTO|LO-HI" or "|PROTO|opaque".
 */
static struct esp_sel mk(const char *spec)
{
	char buf[128], *bar, *dash;
	struct esp_sel s;

	snprintf(buf, sizeof(buf), "%s", spec);
	bar = strchr(buf, '|');
	if (bar)
		*bar = '\0';
	dash = strchr(buf, '-');
	memset(&s, 0, sizeof(s));
	if (dash) {
		*dash = '\0';
		s.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(s.family, buf, s.start) != 1 ||
		    inet_pton(s.family, dash + 1, s.end) != 1)
			abort();
		s.port_hi = 65535;
	} else if (esp_sel_parse(&s, buf) != 0) {
		abort();
	}
	if (bar) {
		char *ports = strchr(bar + 1, '|');
		unsigned lo, hi;

		s.proto = (uint8_t)atoi(bar + 1);
		if (ports && strcmp(ports + 1, "opaque") == 0) {
			s.port_lo = 65535;
			s.port_hi = 0;
		} else if (ports && sscanf(ports + 1, "%u-%u", &lo, &hi) == 2) {
			s.port_lo = (uint16_t)lo;
			s.port_hi = (uint16_t)hi;
		}
	}
	return s;
}

/* ";"-separated selectors into out; the count. */
static size_t mk_list(const char *spec, struct esp_sel *out, size_t cap)
{
	char buf[512], *save = NULL, *t;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (t = strtok_r(buf, ";", &save); t && n < cap; t = strtok_r(NULL, ";", &save))
		out[n++] = mk(t);
	return n;
}

static bool sel_eq(const struct esp_sel *a, const struct esp_sel *b)
{
	return a->family == b->family && a->proto == b->proto && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi && memcmp(a->start, b->start, 16) == 0 &&
	       memcmp(a->end, b->end, 16) == 0;
}

static const struct {
	const char *name, *a, *b, *want; /* want NULL: empty */
} isect_rows[] = {
    {"v4 nested", "10.0.0.0/16", "10.0.1.0/24", "10.0.1.0/24"},
    {"v4 overlap", "10.0.0.0-10.0.0.20", "10.0.0.10-10.0.0.30", "10.0.0.10-10.0.0.20"},
    {"v4 disjoint", "10.0.0.0/24", "10.0.1.0/24", NULL},
    {"v4 touching one address", "10.0.0.0-10.0.0.10", "10.0.0.10-10.0.0.20", "10.0.0.10-10.0.0.10"},
    {"v6 nested", "fd00::/16", "fd00:1::/64", "fd00:1::/64"},
    {"v6 disjoint", "fd00::/64", "fd01::/64", NULL},
    {"families differ", "10.0.0.0/8", "fd00::/8", NULL},
    {"any proto meets tcp", "10.0.0.0/24", "10.0.0.0/24|6|0-65535", "10.0.0.0/24|6|0-65535"},
    {"tcp vs udp", "10.0.0.0/24|6|0-65535", "10.0.0.0/24|17|0-65535", NULL},
    {"port ranges", "10.0.0.0/24|6|80-443", "10.0.0.0/24|6|400-8080", "10.0.0.0/24|6|400-443"},
    {"port ranges disjoint", "10.0.0.0/24|6|80-80", "10.0.0.0/24|6|443-443", NULL},
    {"opaque meets any", "10.0.0.0/24|17|opaque", "10.0.0.0/24|17|0-65535",
     "10.0.0.0/24|17|opaque"},
    {"opaque meets a range", "10.0.0.0/24|17|opaque", "10.0.0.0/24|17|53-53", NULL},
    {"opaque meets opaque", "10.0.0.0/24|17|opaque", "10.0.0.0/24|0|opaque",
     "10.0.0.0/24|17|opaque"},
    {"icmp type/code", "10.0.0.0/24|1|2048-2048", "10.0.0.0/24|1|0-65535",
     "10.0.0.0/24|1|2048-2048"},
    {"malformed range is empty", "10.0.0.9-10.0.0.1", "10.0.0.0/24", NULL},
};

TEST(ike_ts_rfc7296_3_13_1_intersection_table)
{
	for (size_t i = 0; i < sizeof(isect_rows) / sizeof(isect_rows[0]); i++) {
		struct esp_sel a = mk(isect_rows[i].a), b = mk(isect_rows[i].b), r, r2, w;
		bool got = ike_ts_intersect(&a, &b, &r), got2 = ike_ts_intersect(&b, &a, &r2);

		if (got != (isect_rows[i].want != NULL) || got2 != got) {
			test_fail(__FILE__, __LINE__, "%s: got %d/%d", isect_rows[i].name, got,
			          got2);
			continue;
		}
		if (!got)
			continue;
		w = mk(isect_rows[i].want);
		if (!sel_eq(&r, &w) || !sel_eq(&r2, &w))
			test_fail(__FILE__, __LINE__, "%s: wrong intersection", isect_rows[i].name);
		/* The intersection lies inside both. */
		CHECK(ike_ts_contains(&a, &r) && ike_ts_contains(&b, &r));
	}
}

static const struct {
	const char *name;
	const char *remote, *local; /* our policy */
	const char *tsi, *tsr;      /* offered */
	int rc;
	const char *want_tsi, *want_tsr; /* narrowed */
	bool narrowed, first_kept;
} narrow_rows[] = {
    {"identical: nothing to narrow", "10.1.0.0/16", "10.2.0.0/16", "10.1.0.0/16", "10.2.0.0/16", 0,
     "10.1.0.0/16", "10.2.0.0/16", false, true},
    {"offer wider than policy", "10.1.0.0/16", "10.2.0.0/16", "10.0.0.0/8", "10.0.0.0/8", 0,
     "10.1.0.0/16", "10.2.0.0/16", true, false},
    {"packet selectors first and kept (§2.9)", "10.1.0.0/16", "10.2.0.0/16",
     "10.1.2.3/32|6|40000-40000;10.0.0.0/8", "10.2.0.9/32|6|443-443;10.0.0.0/8", 0,
     "10.1.2.3/32|6|40000-40000;10.1.0.0/16", "10.2.0.9/32|6|443-443;10.2.0.0/16", true, true},
    {"packet outside policy: narrow the rest (§2.9)", "10.1.0.0/16", "10.2.0.0/16",
     "10.9.9.9/32;10.0.0.0/8", "10.2.0.9/32;10.0.0.0/8", 0, "10.1.0.0/16",
     "10.2.0.9/32;10.2.0.0/16", true, false},
    {"nothing in common: TS_UNACCEPTABLE", "10.1.0.0/16", "10.2.0.0/16", "192.168.0.0/16",
     "10.2.0.0/16", IKE_TS_ERR_UNACCEPTABLE, NULL, NULL, false, false},
    {"protocol narrowed", "10.1.0.0/16|17|0-65535", "10.2.0.0/16", "10.1.0.0/16", "10.2.0.0/16", 0,
     "10.1.0.0/16|17|0-65535", "10.2.0.0/16", true, false},
    {"ports narrowed", "10.1.0.0/16", "10.2.0.0/16|6|443-443", "10.1.0.0/16",
     "10.2.0.0/16|6|0-65535", 0, "10.1.0.0/16", "10.2.0.0/16|6|443-443", true, false},
    {"ipv6", "fd00:1::/64", "fd00:2::/64", "fd00::/16", "fd00:2::/64", 0, "fd00:1::/64",
     "fd00:2::/64", true, false},
    {"ipv4 and ipv6 offered, v6 only allowed", "fd00:1::/64", "fd00:2::/64",
     "10.1.0.0/16;fd00:1::/64", "10.2.0.0/16;fd00:2::/64", 0, "fd00:1::/64", "fd00:2::/64", true,
     false},
    {"several of ours within one offer", "10.1.1.0/24;10.1.3.0/24", "10.2.0.0/16", "10.1.0.0/16",
     "10.2.0.0/16", 0, "10.1.1.0/24;10.1.3.0/24", "10.2.0.0/16", true, false},
    {"empty offer", "10.1.0.0/16", "10.2.0.0/16", "", "10.2.0.0/16", IKE_TS_ERR_UNACCEPTABLE, NULL,
     NULL, false, false},
};

TEST(ike_ts_rfc7296_2_9_narrowing_table)
{
	for (size_t i = 0; i < sizeof(narrow_rows) / sizeof(narrow_rows[0]); i++) {
		struct esp_sel rem[8], loc[8], tsi[8], tsr[8], w[8];
		struct ike_ts_policy pol;
		struct ike_ts_result res;
		size_t n, n_tsi, n_tsr;
		int rc;

		pol.remote = rem;
		pol.n_remote = mk_list(narrow_rows[i].remote, rem, 8);
		pol.local = loc;
		pol.n_local = mk_list(narrow_rows[i].local, loc, 8);
		n_tsi = mk_list(narrow_rows[i].tsi, tsi, 8);
		n_tsr = mk_list(narrow_rows[i].tsr, tsr, 8);
		rc = ike_ts_select(&pol, 1, tsi, n_tsi, tsr, n_tsr, &res);
		if (rc != narrow_rows[i].rc) {
			test_fail(__FILE__, __LINE__, "%s: rc %d", narrow_rows[i].name, rc);
			continue;
		}
		if (rc != 0)
			continue;
		n = mk_list(narrow_rows[i].want_tsi, w, 8);
		if (res.tsi.n != n)
			test_fail(__FILE__, __LINE__, "%s: %zu TSi, want %zu", narrow_rows[i].name,
			          res.tsi.n, n);
		for (size_t k = 0; k < n && k < res.tsi.n; k++)
			if (!sel_eq(&res.tsi.s[k], &w[k]))
				test_fail(__FILE__, __LINE__, "%s: TSi[%zu] differs",
				          narrow_rows[i].name, k);
		n = mk_list(narrow_rows[i].want_tsr, w, 8);
		if (res.tsr.n != n)
			test_fail(__FILE__, __LINE__, "%s: %zu TSr, want %zu", narrow_rows[i].name,
			          res.tsr.n, n);
		for (size_t k = 0; k < n && k < res.tsr.n; k++)
			if (!sel_eq(&res.tsr.s[k], &w[k]))
				test_fail(__FILE__, __LINE__, "%s: TSr[%zu] differs",
				          narrow_rows[i].name, k);
		if (res.narrowed != narrow_rows[i].narrowed ||
		    (narrow_rows[i].first_kept && !res.first_kept))
			test_fail(__FILE__, __LINE__, "%s: narrowed %d first_kept %d",
			          narrow_rows[i].name, res.narrowed, res.first_kept);
		/* Whatever we return, the initiator accepts as a subset of its
		 * offer. */
		CHECK(ike_ts_is_subset(res.tsi.s, res.tsi.n, tsi, n_tsi));
		CHECK(ike_ts_is_subset(res.tsr.s, res.tsr.n, tsr, n_tsr));
	}
}

TEST(ike_ts_rfc7296_2_9_policy_chosen_by_packet_selectors)
{
	struct esp_sel a_rem = mk("10.1.0.0/16"), a_loc = mk("10.2.0.0/16");
	struct esp_sel b_rem = mk("10.1.0.0/16"), b_loc = mk("10.3.0.0/16");
	struct esp_sel tsi[2], tsr[2];
	struct ike_ts_policy pol[2] = {{&a_loc, 1, &a_rem, 1}, {&b_loc, 1, &b_rem, 1}};
	struct ike_ts_result res;

	/* Both policies overlap the broad offer; the packet is for 10.3/16,
	 * so the second one must be chosen. */
	tsi[0] = mk("10.1.0.7/32");
	tsi[1] = mk("10.0.0.0/8");
	tsr[0] = mk("10.3.0.1/32");
	tsr[1] = mk("10.0.0.0/8");
	CHECK_EQ(ike_ts_select(pol, 2, tsi, 2, tsr, 2, &res), 0);
	CHECK_EQ(res.policy, 1);
	CHECK(res.first_kept);
	CHECK(sel_eq(&res.tsr.s[0], &tsr[0]));
	/* Without the packet selectors, the first policy that fits. */
	CHECK_EQ(ike_ts_select(pol, 2, tsi + 1, 1, tsr + 1, 1, &res), 0);
	CHECK_EQ(res.policy, 0);
	CHECK(res.narrowed);
	CHECK_EQ(ike_ts_select(NULL, 0, tsi, 1, tsr, 1, &res), -EINVAL);
}

TEST(ike_ts_rfc7296_2_9_result_capped_first_kept)
{
	struct esp_sel ours[16], tsi[2];
	struct ike_ts_list out;
	char buf[32];
	bool narrowed = false;

	for (int i = 0; i < 16; i++) {
		snprintf(buf, sizeof(buf), "10.1.%d.0/24", i * 2);
		ours[i] = mk(buf);
	}
	tsi[0] = mk("10.1.4.1/32");
	tsi[1] = mk("10.1.0.0/16");
	CHECK_EQ(ike_ts_narrow(ours, 16, tsi, 2, &out, &narrowed), 0);
	CHECK_EQ(out.n, ESP_MAX_SELS);
	CHECK(narrowed);
	CHECK(sel_eq(&out.s[0], &tsi[0]));
}

TEST(ike_ts_rfc7296_2_9_initiator_checks_subset)
{
	struct esp_sel proposed[2], got[2];

	proposed[0] = mk("10.1.0.0/16");
	proposed[1] = mk("fd00::/64");
	got[0] = mk("10.1.2.0/24|6|80-80");
	got[1] = mk("fd00::1/128");
	CHECK(ike_ts_is_subset(got, 2, proposed, 2));
	got[1] = mk("fd01::1/128");
	CHECK(!ike_ts_is_subset(got, 2, proposed, 2));
	CHECK(!ike_ts_is_subset(got, 0, proposed, 2));
	/* Protocol "any" is wider than what we proposed for tcp only. */
	proposed[0] = mk("10.1.0.0/16|6|0-65535");
	got[0] = mk("10.1.0.0/16");
	CHECK(!ike_ts_is_subset(got, 1, proposed, 1));
}
