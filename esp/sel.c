/*
 * Traffic selectors: CIDR parsing, prefix detection, matching an inner
 * packet's address, protocol and ports (RFC 4301 §4.4.1.1), printing.
 */
#include "esp/sel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define IPPROTO_NUM_ICMP    1
#define IPPROTO_NUM_TCP     6
#define IPPROTO_NUM_UDP     17
#define IPPROTO_NUM_ICMPV6  58
#define IPPROTO_NUM_SCTP    132
#define IPPROTO_NUM_UDPLITE 136

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int esp_sel_parse(struct esp_sel *s, const char *cidr)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t alen, n;
	long prefix;
	int family;

	if (!cidr)
		return -EINVAL;
	n = strlen(cidr);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, cidr, n + 1);
	slash = strchr(cidr, '/');
	if (slash)
		buf[slash - cidr] = '\0';

	memset(s, 0, sizeof(*s));
	if (inet_pton(AF_INET, buf, s->start) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, buf, s->start) == 1)
		family = AF_INET6;
	else
		return -EINVAL;
	alen = addr_len(family);

	prefix = (long)alen * 8;
	if (slash) {
		char *end;

		/* Digits only: strtol would take "+8", " 8" or "0x8". */
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		prefix = strtol(slash + 1, &end, 10);
		if (*end != '\0' || prefix < 0 || prefix > (long)alen * 8 || end - slash > 4)
			return -EINVAL;
	}

	/* Host bits below the prefix are cleared ("10.1.2.3/16" is 10.1/16),
	 * as the range is what the selector means. */
	for (size_t i = 0; i < alen; i++) {
		long bits = prefix - (long)i * 8;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));

		s->start[i] &= mask;
		s->end[i] = s->start[i] | (uint8_t)~mask;
	}
	s->family = (uint8_t)family;
	s->proto = 0;
	s->port_lo = 0;
	s->port_hi = 65535;
	return 0;
}

int esp_sel_prefix(const struct esp_sel *s)
{
	size_t alen = addr_len(s->family);
	size_t bit = 0, nbits = alen * 8;

	if (!alen)
		return -1;
	/* Common leading bits of start and end ... */
	while (bit < nbits) {
		uint8_t m = (uint8_t)(0x80 >> (bit & 7));

		if ((s->start[bit / 8] & m) != (s->end[bit / 8] & m))
			break;
		bit++;
	}
	/* ... then start all zeros and end all ones. */
	for (size_t b = bit; b < nbits; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b & 7));

		if ((s->start[b / 8] & m) || !(s->end[b / 8] & m))
			return -1;
	}
	return (int)bit;
}

bool esp_sel_has_addr(const struct esp_sel *s, int family, const uint8_t *addr)
{
	size_t alen = addr_len(family);

	if (!alen || s->family != family)
		return false;
	return memcmp(s->start, addr, alen) <= 0 && memcmp(addr, s->end, alen) <= 0;
}

static bool ports_any(const struct esp_sel *s)
{
	return s->port_lo == 0 && s->port_hi == 65535;
}

/*
 * The upper-layer protocol and where its header starts. For IPv6 the
 * extension headers that may precede it are walked (bounded). *frag is set
 * for a non-first fragment: its ports are unknown (RFC 4301 §4.4.1.1
 * OPAQUE).
 */
static bool l4_locate(const uint8_t *ip, size_t len, int family, uint8_t *proto, size_t *off,
                      bool *frag)
{
	*frag = false;
	if (family == AF_INET) {
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

		if (ihl < 20 || ihl > len)
			return false;
		*proto = ip[9];
		*off = ihl;
		*frag = ((ip[6] & 0x1f) << 8 | ip[7]) != 0;
		return true;
	}
	uint8_t nh = ip[6];
	size_t o = 40;

	for (int hops = 0; hops < 8; hops++) {
		switch (nh) {
		case 0:  /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (o + 8 > len)
				return false;
			nh = ip[o];
			o += ((size_t)ip[o + 1] + 1) * 8;
			continue;
		case 44: /* fragment: fixed 8 bytes */
			if (o + 8 > len)
				return false;
			if (((ip[o + 2] << 8 | ip[o + 3]) & 0xfff8) != 0)
				*frag = true;
			nh = ip[o];
			o += 8;
			continue;
		default:
			*proto = nh;
			*off = o;
			return o <= len;
		}
	}
	return false;
}

bool esp_sel_match_pkt(const struct esp_sel *s, const uint8_t *ip, size_t len, bool use_src)
{
	int family;
	const uint8_t *addr;
	uint8_t proto;
	size_t off;
	bool frag;
	unsigned port;

	if (!ip || len < 1)
		return false;
	if (ip[0] >> 4 == 4 && len >= 20) {
		family = AF_INET;
		addr = ip + (use_src ? 12 : 16);
	} else if (ip[0] >> 4 == 6 && len >= 40) {
		family = AF_INET6;
		addr = ip + (use_src ? 8 : 24);
	} else {
		return false;
	}
	if (!esp_sel_has_addr(s, family, addr))
		return false;
	if (s->proto == 0 && ports_any(s))
		return true;
	if (!l4_locate(ip, len, family, &proto, &off, &frag))
		return false;
	if (s->proto != 0 && proto != s->proto)
		return false;
	if (ports_any(s))
		return true;

	switch (proto) {
	case IPPROTO_NUM_TCP:
	case IPPROTO_NUM_UDP:
	case IPPROTO_NUM_SCTP:
	case IPPROTO_NUM_UDPLITE:
		if (frag || off + 4 > len)
			return false;
		port = use_src ? (unsigned)(ip[off] << 8 | ip[off + 1])
		               : (unsigned)(ip[off + 2] << 8 | ip[off + 3]);
		break;
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		/* RFC 4301 §4.4.1.1: ICMP type in the high byte, code in the low
		 * byte of the "port"; one value for both directions. */
		if (frag || off + 2 > len)
			return false;
		port = (unsigned)(ip[off] << 8 | ip[off + 1]);
		break;
	default:
		return false; /* no ports to match a restricted range */
	}
	return port >= s->port_lo && port <= s->port_hi;
}

static const char *proto_name(uint8_t p, char *buf, size_t cap)
{
	switch (p) {
	case IPPROTO_NUM_ICMP:
		return "icmp";
	case IPPROTO_NUM_TCP:
		return "tcp";
	case IPPROTO_NUM_UDP:
		return "udp";
	case IPPROTO_NUM_ICMPV6:
		return "icmpv6";
	case IPPROTO_NUM_SCTP:
		return "sctp";
	default:
		snprintf(buf, cap, "%u", p);
		return buf;
	}
}

const char *esp_sel_str(const struct esp_sel *s, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pn[8], ports[16] = "";
	int prefix = esp_sel_prefix(s);
	int n;

	if (!buf || cap == 0)
		return buf;
	if (!addr_len(s->family)) {
		snprintf(buf, cap, "(family %u)", s->family);
		return buf;
	}
	inet_ntop(s->family, s->start, a, sizeof(a));
	if (prefix >= 0) {
		n = snprintf(buf, cap, "%s/%d", a, prefix);
	} else {
		inet_ntop(s->family, s->end, b, sizeof(b));
		n = snprintf(buf, cap, "%s-%s", a, b);
	}
	if (n < 0 || (size_t)n >= cap || (s->proto == 0 && ports_any(s)))
		return buf;
	if (!ports_any(s)) {
		if (s->port_lo == s->port_hi)
			snprintf(ports, sizeof(ports), "/%u", s->port_lo);
		else
			snprintf(ports, sizeof(ports), "/%u-%u", s->port_lo, s->port_hi);
	}
	snprintf(buf + n, cap - (size_t)n, "[%s%s]",
	         s->proto ? proto_name(s->proto, pn, sizeof(pn)) : "any", ports);
	return buf;
}
