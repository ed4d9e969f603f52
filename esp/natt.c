/*
 * What a datagram on UDP port 4500 carries (RFC 3948 §2), and how a
 * coalesced receive of several of them (UDP_GRO) is cut apart again.
 */
#include "esp/natt.h"

#include <netinet/udp.h>
#include <string.h>

enum natt_kind natt_classify(const uint8_t *p, size_t len)
{
	/* §2.3: the NAT-keepalive is exactly one octet, 0xFF. */
	if (len == 1 && p[0] == NATT_KEEPALIVE_BYTE)
		return NATT_KEEPALIVE;
	/* §2.2: a zero SPI is the non-ESP marker; IKE follows it (the IKE
	 * engine checks the rest). ESP never sends SPI 0 (RFC 4303 §2.1). */
	if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0)
		return NATT_IKE;
	/* §2.1: ESP needs at least SPI and sequence number. */
	if (len < 8)
		return NATT_INVALID;
	return NATT_ESP;
}

int natt_gro_size(const struct msghdr *m, size_t *gso_size)
{
	int found = 0;

	/* A truncated control buffer may have lost the UDP_GRO message:
	 * taking the receive as one datagram would glue several together. */
	if (m->msg_flags & MSG_CTRUNC)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		int v;

		if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO)
			continue;
		if (c->cmsg_len < CMSG_LEN(sizeof(v)))
			return -1;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		if (v <= 0)
			return -1;
		*gso_size = (size_t)v;
		found = 1;
	}
	return found;
}

long natt_gro_init(struct natt_gro *g, uint8_t *buf, size_t len, size_t seg)
{
	if (seg == 0 || len == 0 || seg > len)
		return -1;
	g->buf = buf;
	g->len = len;
	g->seg = seg;
	g->off = 0;
	return (long)((len + seg - 1) / seg);
}

size_t natt_gro_next(struct natt_gro *g, uint8_t **p)
{
	size_t n;

	if (g->off >= g->len)
		return 0;
	n = g->len - g->off < g->seg ? g->len - g->off : g->seg;
	*p = g->buf + g->off;
	g->off += n;
	return n;
}
