/*
 * TCP MSS clamping on SYN and SYN-ACK segments (what the iptables TCPMSS
 * --clamp-mss-to-pmtu target does in the kernel). Runs on the data path:
 * no allocation, no system call, no logging; every byte read is inside the
 * lengths checked first, and anything unexpected leaves the packet as it is.
 */
#include "tun/mss.h"

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_MIN  20
#define IPPROTO_TCP_ 6

#define TCP_FLAG_SYN 0x02

/* TCP option kinds (RFC 9293 §3.2). */
#define TCPOPT_EOL     0
#define TCPOPT_NOP     1
#define TCPOPT_MSS     2
#define TCPOPT_MSS_LEN 4

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t mss_for_mtu(unsigned mtu, int ipv6)
{
	/* Fixed headers only: 20 (IPv4) or 40 (IPv6) + 20 (TCP). TCP options
	 * are not counted in the MSS (RFC 9293 §3.7.1; RFC 6691 §2). */
	unsigned hdr = ipv6 ? IPV6_HDR_LEN + TCP_HDR_MIN : IPV4_HDR_MIN + TCP_HDR_MIN;

	if (mtu <= hdr)
		return 0;
	mtu -= hdr;
	return mtu > 0xffff ? 0xffff : (uint16_t)mtu;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), in one's complement arithmetic.
 * from and to are the 16-bit values as they sit in the checksummed words.
 */
static uint16_t csum_replace16(uint16_t hc, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint32_t)(uint16_t)~hc + (uint16_t)~from + to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t bswap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/*
 * Clamp the MSS option of the TCP segment tcp[0..len). The options area
 * is bounded by the data offset, which is checked against len.
 */
static int clamp_tcp(uint8_t *tcp, size_t len, uint16_t mss)
{
	size_t doff, i;

	if (len < TCP_HDR_MIN || mss == 0)
		return 0;
	if (!(tcp[13] & TCP_FLAG_SYN))
		return 0;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > len)
		return 0;

	for (i = TCP_HDR_MIN; i < doff;) {
		size_t olen;
		uint16_t old;

		if (tcp[i] == TCPOPT_EOL)
			return 0;
		if (tcp[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= doff)
			return 0; /* a kind without its length byte */
		olen = tcp[i + 1];
		if (olen < 2 || olen > doff - i)
			return 0; /* malformed: would loop or run past the header */
		if (tcp[i] != TCPOPT_MSS) {
			i += olen;
			continue;
		}
		if (olen != TCPOPT_MSS_LEN)
			return 0;
		old = get16(tcp + i + 2);
		if (old <= mss)
			return 0;
		put16(tcp + i + 2, mss);
		/*
		 * The checksum sums 16-bit words from the start of the TCP
		 * header (the pseudo-header is a whole number of words).
		 * Options need no alignment, so the MSS value may straddle
		 * two words; its bytes then sit in the low byte of one word
		 * and the high byte of the next, which adds up to the value
		 * byte-swapped (RFC 1071 §2 (B), byte-order independence).
		 */
		if ((i + 2) & 1) {
			old = bswap16(old);
			mss = bswap16(mss);
		}
		put16(tcp + 16, csum_replace16(get16(tcp + 16), old, mss));
		return 1;
	}
	return 0;
}

int mss_clamp(uint8_t *ip, size_t len, unsigned mtu)
{
	size_t hl, tot;

	if (len < 1)
		return 0;
	switch (ip[0] >> 4) {
	case 4:
		if (len < IPV4_HDR_MIN)
			return 0;
		hl = (size_t)(ip[0] & 0x0f) * 4;
		tot = get16(ip + 2);
		if (hl < IPV4_HDR_MIN || tot < hl || tot > len)
			return 0;
		if (ip[9] != IPPROTO_TCP_)
			return 0;
		/* Fragments are never touched: a non-first fragment has no
		 * TCP header, and a first one (MF) would need the whole
		 * segment's options to be in it. A SYN is never fragmented
		 * by a sane sender. */
		if (get16(ip + 6) & 0x3fff)
			return 0;
		return clamp_tcp(ip + hl, tot - hl, mss_for_mtu(mtu, 0));
	case 6:
		if (len < IPV6_HDR_LEN)
			return 0;
		tot = get16(ip + 4);
		/* Payload length 0 is a jumbogram (RFC 2675), which needs a
		 * Hop-by-Hop header; only TCP directly after the fixed header
		 * is handled, extension headers are left alone. */
		if (tot == 0 || tot > len - IPV6_HDR_LEN || ip[6] != IPPROTO_TCP_)
			return 0;
		return clamp_tcp(ip + IPV6_HDR_LEN, tot, mss_for_mtu(mtu, 1));
	default:
		return 0;
	}
}
