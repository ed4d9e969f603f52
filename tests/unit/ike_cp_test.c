/* The configuration payload (RFC 7296 §3.15; ike/cp.h). */
#include <string.h>
#include <sys/socket.h>

#include "ike/cp.h"
#include "tests/unit/test.h"

static void attr(struct ike_cp *cp, uint16_t type, const uint8_t *v, uint16_t len)
{
	cp->a[cp->n_attrs].type = type;
	cp->a[cp->n_attrs].value = v;
	cp->a[cp->n_attrs].len = len;
	cp->n_attrs++;
}

static void v4(struct ike_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->addr[0] = x, a->addr[1] = y, a->addr[2] = z, a->addr[3] = w;
}

/* §3.15.1: what Windows asks for (its own attributes 23456 and 23457
 * among them, ignored), with a requested address that is not all zero. */
TEST(ike_cp_rfc7296_3_15_1_windows_request)
{
	static const uint8_t want[4] = {10, 10, 0, 9}, zero16[17];
	struct ike_cp cp = {.type = IKE_CFG_REQUEST};
	struct ike_cp_request rq;

	attr(&cp, IKE_CP_INTERNAL_IP4_ADDRESS, want, 4);
	attr(&cp, IKE_CP_INTERNAL_IP4_DNS, NULL, 0);
	attr(&cp, IKE_CP_INTERNAL_IP4_NBNS, NULL, 0);
	attr(&cp, 23456, NULL, 0);
	attr(&cp, 23457, NULL, 0);
	attr(&cp, IKE_CP_INTERNAL_IP6_ADDRESS, zero16, 17); /* "any" */
	REQUIRE(ike_cp_request_parse(&cp, &rq));
	CHECK(rq.v4 && rq.want4_set && memcmp(rq.want4, want, 4) == 0);
	CHECK(rq.v6 && !rq.want6_set);
	CHECK(rq.dns4 && rq.nbns && !rq.dns6 && !rq.subnet4);
	cp.type = IKE_CFG_REPLY;
	CHECK(!ike_cp_request_parse(&cp, &rq)); /* not a request */
	CHECK(!rq.v4);
}

/* A server's answer: address 10.10.0.7, DNS servers 10.250.0.53 and
 * fd00::53, NBNS 10.250.0.2. */
static void answer(struct ike_cp_reply *ans)
{
	memset(ans, 0, sizeof(*ans));
	ans->n_addrs = 1;
	v4(&ans->addrs[0], 10, 10, 0, 7);
	ans->n_dns = 2;
	v4(&ans->dns[0], 10, 250, 0, 53);
	ans->dns[1].family = AF_INET6;
	ans->dns[1].addr[0] = 0xfd;
	ans->dns[1].addr[15] = 0x53;
	ans->n_nbns = 1;
	v4(&ans->nbns[0], 10, 250, 0, 2);
}

/* A reply carries the addresses of the families asked for, the DNS
 * servers of those (or all when none was asked), NBNS, and split-include
 * subnets as address + netmask (IPv4) or address + prefix length (IPv6). */
TEST(ike_cp_rfc7296_3_15_1_reply_attributes)
{
	struct ike_cp_request rq = {.v4 = true, .dns4 = true, .nbns = true};
	struct ike_cp_reply ans, back;
	struct ike_cp cp;
	uint8_t buf[IKE_CP_BUF];

	answer(&ans);
	ans.n_addrs = 2;
	ans.addrs[1].family = AF_INET6;
	ans.addrs[1].addr[0] = 0xfd;
	ans.addrs[1].addr[15] = 7;
	ans.n_subnets = 2;
	ans.subnets[0].family = AF_INET;
	ans.subnets[0].len = 8;
	ans.subnets[0].addr[0] = 10;
	ans.subnets[1].family = AF_INET6;
	ans.subnets[1].len = 48;
	ans.subnets[1].addr[0] = 0xfd;
	REQUIRE_EQ(ike_cp_reply_build(&rq, &ans, &cp, buf), 0);
	CHECK_EQ(cp.type, IKE_CFG_REPLY);
	/* v4 address, v4 DNS, NBNS, two subnets: no IPv6 address or DNS */
	REQUIRE_EQ(cp.n_attrs, 5);
	CHECK_EQ(cp.a[0].type, IKE_CP_INTERNAL_IP4_ADDRESS);
	CHECK_EQ(cp.a[1].type, IKE_CP_INTERNAL_IP4_DNS);
	CHECK_EQ(cp.a[2].type, IKE_CP_INTERNAL_IP4_NBNS);
	CHECK_EQ(cp.a[3].type, IKE_CP_INTERNAL_IP4_SUBNET);
	CHECK_EQ(cp.a[3].len, 8);
	CHECK_MEM(cp.a[3].value + 4, "\xff\x00\x00\x00", 4); /* /8 as a netmask */
	CHECK_EQ(cp.a[4].type, IKE_CP_INTERNAL_IP6_SUBNET);
	CHECK_EQ(cp.a[4].value[16], 48);
	/* and the client reads back what the server meant */
	REQUIRE(ike_cp_reply_parse(&cp, &back));
	CHECK_EQ(back.n_addrs, 1);
	CHECK_MEM(back.addrs[0].addr, ans.addrs[0].addr, 4);
	CHECK_EQ(back.n_dns, 1);
	CHECK_EQ(back.n_nbns, 1);
	CHECK_EQ(back.n_subnets, 2);
	CHECK_EQ(back.subnets[0].len, 8);
	CHECK_EQ(back.subnets[1].len, 48);
	/* no DNS family asked for: every server goes */
	rq.dns4 = false;
	REQUIRE_EQ(ike_cp_reply_build(&rq, &ans, &cp, buf), 0);
	REQUIRE(ike_cp_reply_parse(&cp, &back));
	CHECK_EQ(back.n_dns, 2);
}

/* Values of the wrong length, and a netmask with holes, are ignored on the
 * way in (§3.15.1: a wish list, never a reason to fail). */
TEST(ike_cp_malformed_values_ignored)
{
	static const uint8_t three[3] = {1, 2, 3}, holes[8] = {10, 0, 0, 0, 255, 0, 255, 0};
	struct ike_cp cp = {.type = IKE_CFG_REPLY};
	struct ike_cp_reply back;

	attr(&cp, IKE_CP_INTERNAL_IP4_ADDRESS, three, 3);
	attr(&cp, IKE_CP_INTERNAL_IP4_DNS, three, 3);
	attr(&cp, IKE_CP_INTERNAL_IP4_SUBNET, holes, 8);
	attr(&cp, IKE_CP_INTERNAL_IP6_ADDRESS, three, 3);
	REQUIRE(ike_cp_reply_parse(&cp, &back));
	CHECK_EQ(back.n_addrs, 0);
	CHECK_EQ(back.n_dns, 0);
	CHECK_EQ(back.n_subnets, 0);
}

/* A client's request: both families, empty values and their DNS. */
TEST(ike_cp_request_build_both_families)
{
	struct ike_cp cp;
	struct ike_cp_request rq;
	uint8_t buf[IKE_CP_BUF];

	ike_cp_request_build(true, true, &cp, buf);
	CHECK_EQ(cp.type, IKE_CFG_REQUEST);
	CHECK_EQ(cp.n_attrs, 4);
	REQUIRE(ike_cp_request_parse(&cp, &rq));
	CHECK(rq.v4 && rq.v6 && rq.dns4 && rq.dns6 && !rq.want4_set && !rq.want6_set);
}

/* A CP payload (generic header, CFG type, RESERVED, attributes) of type cfg
 * with attributes types[i], each of lens[i] bytes of 0x0a, 0x0b, ... */
static size_t cp_wire(uint8_t cfg, const uint16_t *types, const uint16_t *lens, size_t n,
                      uint8_t *buf, size_t cap)
{
	size_t off = 8;

	memset(buf, 0, cap);
	buf[4] = cfg;
	for (size_t i = 0; i < n && off + 4 + lens[i] <= cap; i++) {
		buf[off] = (uint8_t)(types[i] >> 8);
		buf[off + 1] = (uint8_t)types[i];
		buf[off + 2] = (uint8_t)(lens[i] >> 8);
		buf[off + 3] = (uint8_t)lens[i];
		for (uint16_t j = 0; j < lens[i]; j++)
			buf[off + 4 + j] = (uint8_t)(0x0a + j);
		off += 4 + lens[i];
	}
	buf[2] = (uint8_t)(off >> 8);
	buf[3] = (uint8_t)off;
	return off;
}

/*
 * RFC 7296 §3.15, §3.15.1 from the wire: the CFG_REQUEST of the client built
 * into Windows. It asks for INTERNAL_IP4_ADDRESS, INTERNAL_IP4_DNS,
 * INTERNAL_IP4_NBNS and Microsoft's private 23456 (strongSwan names it
 * INTERNAL_IP4_SERVER), newer versions also INTERNAL_IP6_ADDRESS,
 * INTERNAL_IP6_DNS and 23457, every value empty; strongSwan cannot be made
 * to send that, so the bytes are built here. A private attribute may carry
 * a value of any length (strongSwan accepts any) without breaking the
 * parse. The CFG_REPLY carries the address, DNS and NBNS, and nothing of
 * the private attributes (we have no answer for them: §3.15.1 lets a
 * responder leave out what it does not support).
 */
TEST(ike_cp_rfc7296_3_15_1_windows_request_from_the_wire)
{
	enum {
		IP4 = IKE_CP_INTERNAL_IP4_ADDRESS,
		DNS4 = IKE_CP_INTERNAL_IP4_DNS,
		NBNS = IKE_CP_INTERNAL_IP4_NBNS,
		IP6 = IKE_CP_INTERNAL_IP6_ADDRESS,
		DNS6 = IKE_CP_INTERNAL_IP6_DNS,
		MS4 = 23456,
		MS6 = 23457
	};
	static const struct {
		size_t n;
		uint16_t types[8], lens[8];
		bool v6; /* asks for IPv6 too (so gets the IPv6 DNS server) */
	} rows[] = {
	    {4, {IP4, DNS4, NBNS, MS4}, {0}, false},                   /* Windows 7 */
	    {7, {IP4, DNS4, NBNS, MS4, IP6, DNS6, MS6}, {0}, true},    /* Windows 10, 11 */
	    {4, {IP4, DNS4, NBNS, MS4}, {0, 0, 0, 4}, false},          /* 23456 with a value */
	    {5, {MS4, IP4, DNS4, NBNS, MS6}, {5, 0, 0, 0, 16}, false}, /* ... odd, first */
	};
	struct ike_cp_reply ans;
	const struct {
		uint16_t type, len;
		const uint8_t *value; /* in ans */
	} want[4] = {
	    {IP4, 4, ans.addrs[0].addr},
	    {DNS4, 4, ans.dns[0].addr},
	    {NBNS, 4, ans.nbns[0].addr},
	    {DNS6, 16, ans.dns[1].addr},
	};
	uint8_t wire[256], buf[IKE_CP_BUF];

	answer(&ans);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = cp_wire(IKE_CFG_REQUEST, rows[i].types, rows[i].lens, rows[i].n, wire,
		                     sizeof(wire));
		struct ike_msg m;
		struct ike_cp_request rq;
		struct ike_cp cp;
		unsigned seen = 0;

		memset(&m, 0, sizeof(m));
		REQUIRE_EQ(ike_chain_parse(&m, IKE_PL_CP, wire, len, 0, true), (int)len);
		CHECK_EQ(m.cp.n_attrs, rows[i].n);
		REQUIRE(ike_cp_request_parse(&m.cp, &rq));
		CHECK(rq.v4 && !rq.want4_set && rq.dns4 && rq.nbns);
		CHECK_EQ(rq.v6, rows[i].v6);
		CHECK_EQ(rq.dns6, rows[i].v6);
		CHECK(!rq.subnet4 && !rq.subnet6);
		REQUIRE_EQ(ike_cp_reply_build(&rq, &ans, &cp, buf), 0);
		CHECK_EQ(cp.type, IKE_CFG_REPLY);
		CHECK_EQ(cp.n_attrs, rows[i].v6 ? 4u : 3u);
		for (unsigned k = 0; k < cp.n_attrs; k++) {
			const struct ike_cp_attr *a = &cp.a[k];

			CHECK(a->type != MS4 && a->type != MS6);
			for (unsigned w = 0; w < 4; w++)
				if (a->type == want[w].type && a->len == want[w].len &&
				    memcmp(a->value, want[w].value, a->len) == 0)
					seen |= 1u << w;
		}
		/* address, DNS and NBNS; the IPv6 DNS server if asked for */
		CHECK_EQ(seen, rows[i].v6 ? 15u : 7u);
	}
}

/*
 * A CFG_REQUEST of nothing but attributes we do not know (§3.15.1: ignored,
 * a wish list is never a reason to fail) parses to an empty wish. What the
 * engine then does (ike/ex_auth.c takes a CP only if it asks for an
 * address, pa.has_cp): it answers as to an IKE_AUTH without CP, no lease
 * asked of the daemon, no CFG_REPLY, no INTERNAL_ADDRESS_FAILURE; the
 * CHILD_SA is set up as usual. A reply built for it anyway carries no
 * address and none of the unknown types.
 */
TEST(ike_cp_rfc7296_3_15_1_only_unknown_attributes)
{
	static const uint16_t types[3] = {23456, 23457, 28672}, lens[3] = {0, 4, 3};
	struct ike_cp_request rq, none;
	struct ike_cp_reply ans;
	struct ike_cp cp;
	struct ike_msg m;
	uint8_t wire[64], buf[IKE_CP_BUF];
	size_t len = cp_wire(IKE_CFG_REQUEST, types, lens, 3, wire, sizeof(wire));

	memset(&m, 0, sizeof(m));
	memset(&none, 0, sizeof(none));
	REQUIRE_EQ(ike_chain_parse(&m, IKE_PL_CP, wire, len, 0, true), (int)len);
	CHECK_EQ(m.cp.n_attrs, 3);
	REQUIRE(ike_cp_request_parse(&m.cp, &rq));
	CHECK_MEM(&rq, &none, sizeof(rq));
	CHECK(!rq.v4 && !rq.v6); /* what ex_auth.c tests */
	answer(&ans);
	REQUIRE_EQ(ike_cp_reply_build(&rq, &ans, &cp, buf), 0);
	for (unsigned k = 0; k < cp.n_attrs; k++)
		CHECK(cp.a[k].type != IKE_CP_INTERNAL_IP4_ADDRESS && cp.a[k].type < 23456);
}
