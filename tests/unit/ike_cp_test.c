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

/* A reply carries the addresses of the families asked for, the DNS
 * servers of those (or all when none was asked), NBNS, and split-include
 * subnets as address + netmask (IPv4) or address + prefix length (IPv6). */
TEST(ike_cp_rfc7296_3_15_1_reply_attributes)
{
	struct ike_cp_request rq = {.v4 = true, .dns4 = true, .nbns = true};
	struct ike_cp_reply ans, back;
	struct ike_cp cp;
	uint8_t buf[IKE_CP_BUF];

	memset(&ans, 0, sizeof(ans));
	ans.n_addrs = 2;
	v4(&ans.addrs[0], 10, 10, 0, 7);
	ans.addrs[1].family = AF_INET6;
	ans.addrs[1].addr[0] = 0xfd;
	ans.addrs[1].addr[15] = 7;
	ans.n_dns = 2;
	v4(&ans.dns[0], 10, 250, 0, 53);
	ans.dns[1].family = AF_INET6;
	ans.dns[1].addr[0] = 0xfd;
	ans.dns[1].addr[15] = 0x53;
	ans.n_nbns = 1;
	v4(&ans.nbns[0], 10, 250, 0, 2);
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
