/* Traffic selectors: CIDR parsing, prefixes, packet matching (RFC 4301
 * §4.4.1.1, RFC 7296 §3.13.1), printing. */
#include "esp/sel.h"

#include <errno.h>
#include <sys/socket.h>

#include "tests/unit/test.h"

static const uint8_t *v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	static uint8_t buf[4];

	buf[0] = a, buf[1] = b, buf[2] = c, buf[3] = d;
	return buf;
}

TEST(sel_parse_cidr_v4)
{
	struct esp_sel s;
	char buf[96];

	CHECK_EQ(esp_sel_parse(&s, "10.1.0.0/16"), 0);
	CHECK_EQ(s.family, AF_INET);
	CHECK_EQ(s.proto, 0);
	CHECK_EQ(s.port_lo, 0);
	CHECK_EQ(s.port_hi, 65535);
	CHECK_MEM(s.start, v4(10, 1, 0, 0), 4);
	CHECK_MEM(s.end, v4(10, 1, 255, 255), 4);
	CHECK_EQ(esp_sel_prefix(&s), 16);
	CHECK(strcmp(esp_sel_str(&s, buf, sizeof(buf)), "10.1.0.0/16") == 0);

	/* A bare address is a /32. */
	CHECK_EQ(esp_sel_parse(&s, "10.1.2.3"), 0);
	CHECK_EQ(esp_sel_prefix(&s), 32);
	CHECK_MEM(s.start, s.end, 4);

	/* Host bits below the prefix are cleared. */
	CHECK_EQ(esp_sel_parse(&s, "10.1.2.3/20"), 0);
	CHECK_MEM(s.start, v4(10, 1, 0, 0), 4);
	CHECK_MEM(s.end, v4(10, 1, 15, 255), 4);

	CHECK_EQ(esp_sel_parse(&s, "0.0.0.0/0"), 0);
	CHECK_EQ(esp_sel_prefix(&s), 0);
	CHECK_MEM(s.end, v4(255, 255, 255, 255), 4);
}

TEST(sel_parse_cidr_v6)
{
	struct esp_sel s;
	char buf[96];
	uint8_t want_end[16] = {0xfd, 0,    0,    0,    0,    0,    0,    0x0f,
	                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	CHECK_EQ(esp_sel_parse(&s, "fd00:0:0:f::/64"), 0);
	CHECK_EQ(s.family, AF_INET6);
	CHECK_EQ(esp_sel_prefix(&s), 64);
	CHECK_MEM(s.end, want_end, 16);
	CHECK(strcmp(esp_sel_str(&s, buf, sizeof(buf)), "fd00:0:0:f::/64") == 0);
	CHECK_EQ(esp_sel_parse(&s, "::/0"), 0);
	CHECK_EQ(esp_sel_prefix(&s), 0);
	CHECK_EQ(esp_sel_parse(&s, "2001:db8::1"), 0);
	CHECK_EQ(esp_sel_prefix(&s), 128);
}

TEST(sel_parse_rejects_malformed)
{
	struct esp_sel s;
	static const char *const bad[] = {
	    "",          "10.1.0.0/33", "10.1.0.0/",  "10.1.0.0/-1", "10.1.0.0/+8", "10.1.0.0/ 8",
	    "10.1.0/16", "10.1.0.0/8x", "fd00::/129", "fd00::/0128", "example",     "1.2.3.4.5",
	    "::g/64",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = esp_sel_parse(&s, bad[i]);

		if (rc != -EINVAL)
			test_fail(__FILE__, __LINE__, "\"%s\" parsed (rc %d)", bad[i], rc);
	}
	CHECK_EQ(esp_sel_parse(&s, NULL), -EINVAL);
}

TEST(sel_prefix_of_ranges)
{
	struct esp_sel s;
	char buf[96];

	/* 10.1.0.5 - 10.1.0.9 is no single CIDR block. */
	CHECK_EQ(esp_sel_parse(&s, "10.1.0.5"), 0);
	s.end[3] = 9;
	CHECK_EQ(esp_sel_prefix(&s), -1);
	s.proto = 6;
	s.port_lo = s.port_hi = 80;
	CHECK(strcmp(esp_sel_str(&s, buf, sizeof(buf)), "10.1.0.5-10.1.0.9[tcp/80]") == 0);
	s.port_lo = 1024;
	s.port_hi = 2047;
	s.proto = 17;
	CHECK(strcmp(esp_sel_str(&s, buf, sizeof(buf)), "10.1.0.5-10.1.0.9[udp/1024-2047]") == 0);
	/* 10.1.0.4 - 10.1.0.7 is a /30. */
	s.start[3] = 4;
	s.end[3] = 7;
	CHECK_EQ(esp_sel_prefix(&s), 30);
	/* start > end in the last bits: no block. */
	s.start[3] = 8;
	CHECK_EQ(esp_sel_prefix(&s), -1);
	/* A tiny buffer is truncated, still terminated. */
	CHECK(strlen(esp_sel_str(&s, buf, 5)) == 4);
}

TEST(sel_has_addr_bounds)
{
	struct esp_sel s;
	uint8_t a6[16] = {0xfd, 0};

	CHECK_EQ(esp_sel_parse(&s, "192.0.2.0/24"), 0);
	CHECK(esp_sel_has_addr(&s, AF_INET, v4(192, 0, 2, 0)));
	CHECK(esp_sel_has_addr(&s, AF_INET, v4(192, 0, 2, 255)));
	CHECK(!esp_sel_has_addr(&s, AF_INET, v4(192, 0, 3, 0)));
	CHECK(!esp_sel_has_addr(&s, AF_INET, v4(192, 0, 1, 255)));
	CHECK(!esp_sel_has_addr(&s, AF_INET6, a6));
	CHECK_EQ(esp_sel_parse(&s, "fd00::/8"), 0);
	CHECK(esp_sel_has_addr(&s, AF_INET6, a6));
	a6[0] = 0xfe;
	CHECK(!esp_sel_has_addr(&s, AF_INET6, a6));
	CHECK(!esp_sel_has_addr(&s, AF_INET, v4(253, 0, 0, 0)));
}

/* IPv4 header + 8 bytes of L4 header. */
static size_t ip4_pkt(uint8_t *b, uint8_t proto, const uint8_t *src, const uint8_t *dst,
                      uint16_t sport, uint16_t dport)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	b[3] = 28;
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, src, 4);
	memcpy(b + 16, dst, 4);
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	return 28;
}

TEST(sel_match_pkt_rfc4301_4_4_1_1_ports)
{
	struct esp_sel s;
	uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 1, 7}, pkt[64];
	size_t n = ip4_pkt(pkt, 6, src, dst, 40000, 443);

	CHECK_EQ(esp_sel_parse(&s, "10.0.1.0/24"), 0);
	CHECK(esp_sel_match_pkt(&s, pkt, n, false));
	CHECK(!esp_sel_match_pkt(&s, pkt, n, true));
	s.proto = 6;
	CHECK(esp_sel_match_pkt(&s, pkt, n, false));
	s.port_lo = s.port_hi = 443;
	CHECK(esp_sel_match_pkt(&s, pkt, n, false));
	s.port_lo = s.port_hi = 80;
	CHECK(!esp_sel_match_pkt(&s, pkt, n, false));
	s.proto = 17; /* wrong protocol */
	s.port_lo = 0;
	s.port_hi = 65535;
	CHECK(!esp_sel_match_pkt(&s, pkt, n, false));

	/* Source side: the source port is checked. */
	CHECK_EQ(esp_sel_parse(&s, "10.0.0.0/24"), 0);
	s.proto = 6;
	s.port_lo = 32768;
	s.port_hi = 60999;
	CHECK(esp_sel_match_pkt(&s, pkt, n, true));
	s.port_hi = 39999;
	CHECK(!esp_sel_match_pkt(&s, pkt, n, true));

	/* Truncated before the ports: no match when ports are asked for. */
	s.port_hi = 65000;
	CHECK(!esp_sel_match_pkt(&s, pkt, 21, true));
	/* A non-first fragment has no ports. */
	pkt[6] = 0x00;
	pkt[7] = 0x10;
	CHECK(!esp_sel_match_pkt(&s, pkt, n, true));
	pkt[7] = 0;
	CHECK(esp_sel_match_pkt(&s, pkt, n, true));
	/* Too short for an IPv4 header at all. */
	CHECK(!esp_sel_match_pkt(&s, pkt, 19, true));
	/* Not IP. */
	pkt[0] = 0x35;
	CHECK(!esp_sel_match_pkt(&s, pkt, n, true));
}

TEST(sel_match_pkt_rfc4301_4_4_1_1_icmp_type_code)
{
	struct esp_sel s;
	uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 1, 7}, pkt[64];
	/* ICMP echo request: type 8, code 0 -> "port" 0x0800. */
	size_t n = ip4_pkt(pkt, 1, src, dst, 0x0800, 0);

	CHECK_EQ(esp_sel_parse(&s, "10.0.1.7"), 0);
	s.proto = 1;
	s.port_lo = s.port_hi = 0x0800;
	CHECK(esp_sel_match_pkt(&s, pkt, n, false));
	s.port_lo = s.port_hi = 0x0000; /* echo reply only */
	CHECK(!esp_sel_match_pkt(&s, pkt, n, false));
	/* Restricted ports on a protocol that has none: no match. */
	pkt[9] = 47; /* GRE */
	s.proto = 0;
	s.port_lo = 1;
	s.port_hi = 2;
	CHECK(!esp_sel_match_pkt(&s, pkt, n, false));
}

TEST(sel_match_pkt_ipv6_ext_headers)
{
	struct esp_sel s;
	uint8_t pkt[128] = {0};
	size_t n = 40 + 8 + 8;

	pkt[0] = 0x60;
	pkt[5] = 16;
	pkt[6] = 0; /* hop-by-hop */
	pkt[8] = 0xfd;
	pkt[23] = 1; /* src fd00::1 */
	pkt[24] = 0xfd;
	pkt[39] = 2;  /* dst fd00::2 */
	pkt[40] = 17; /* hop-by-hop: next UDP, length 0 (8 bytes) */
	pkt[48] = 0x12;
	pkt[49] = 0x34; /* sport 4660 */
	pkt[50] = 0x00;
	pkt[51] = 0x35; /* dport 53 */

	CHECK_EQ(esp_sel_parse(&s, "fd00::/16"), 0);
	CHECK(esp_sel_match_pkt(&s, pkt, n, true));
	CHECK(esp_sel_match_pkt(&s, pkt, n, false));
	s.proto = 17;
	s.port_lo = s.port_hi = 53;
	CHECK(esp_sel_match_pkt(&s, pkt, n, false));
	CHECK(!esp_sel_match_pkt(&s, pkt, n, true));
	s.port_lo = s.port_hi = 4660;
	CHECK(esp_sel_match_pkt(&s, pkt, n, true));
	/* Extension header cut short. */
	CHECK(!esp_sel_match_pkt(&s, pkt, 44, true));
	/* IPv6 packet under an IPv4 selector. */
	CHECK_EQ(esp_sel_parse(&s, "0.0.0.0/0"), 0);
	CHECK(!esp_sel_match_pkt(&s, pkt, n, true));
}
