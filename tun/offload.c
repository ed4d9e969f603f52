/*
 * TUN offloads: segmentation of the kernel's TSO/USO super-packets and
 * coalescing of received TCP segments into one (see offload.h). Runs on the
 * data path: no allocation, no system call, no logging. Every length is
 * checked before a byte is read, and a packet that is not exactly what the
 * code understands is refused rather than guessed at.
 *
 * Checksums are summed in the host's byte order (RFC 1071 §2(B): the one's
 * complement sum is byte-order independent) and stored with memcpy, so no
 * swap is needed; every summed chunk starts at an even offset from the
 * checksummed area's start.
 */
#include "tun/offload.h"

#include <string.h>

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_MIN  20
#define UDP_HDR_LEN  8
#define PROTO_TCP    6
#define PROTO_UDP    17

#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6

/* TCP flags (RFC 9293 §3.1, RFC 3168 §6.1) */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_CWR 0x80

/* IPv4 flags/fragment offset word (RFC 791 §3.1) */
#define IP4_DF	    0x4000
#define IP4_MF	    0x2000
#define IP4_OFFMASK 0x1fff

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void offload_vnet_get(struct offload_vnet *v, const uint8_t b[static OFFLOAD_VNET_HDR_LEN])
{
	v->flags = b[0];
	v->gso_type = b[1];
	memcpy(&v->hdr_len, b + 2, 2);
	memcpy(&v->gso_size, b + 4, 2);
	memcpy(&v->csum_start, b + 6, 2);
	memcpy(&v->csum_offset, b + 8, 2);
}

void offload_vnet_put(uint8_t b[static OFFLOAD_VNET_HDR_LEN], const struct offload_vnet *v)
{
	b[0] = v->flags;
	b[1] = v->gso_type;
	memcpy(b + 2, &v->hdr_len, 2);
	memcpy(b + 4, &v->gso_size, 2);
	memcpy(b + 6, &v->csum_start, 2);
	memcpy(b + 8, &v->csum_offset, 2);
}

/* ---- checksums (RFC 1071) --------------------------------------------- */

uint64_t offload_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint32_t w[8];
	uint16_t h;

	/* 32-bit words into a 64-bit accumulator: 2^16 = 1 (mod 2^16 - 1), so
	 * folding later gives the 16-bit one's complement sum; no carry can be
	 * lost below 2^32 words. */
	while (n >= sizeof(w)) {
		memcpy(w, p, sizeof(w));
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
		p += sizeof(w);
		n -= sizeof(w);
	}
	while (n >= 4) {
		memcpy(w, p, 4);
		sum += w[0];
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = {p[0], 0};

		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

uint16_t offload_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum: RFC 9293 §3.1 (IPv4), RFC 8200 §8.1 (IPv6). */
static uint64_t pseudo_sum(const uint8_t *ip, bool v6, uint8_t proto, size_t l4_len)
{
	uint8_t tail[4] = {0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len};
	uint64_t sum;

	if (v6)
		sum = offload_csum_add(0, ip + 8, 32);
	else
		sum = offload_csum_add(0, ip + 12, 8);
	/* IPv6's upper-layer length is 32 bits, but its high half is zero
	 * here: the same words as IPv4's zero, protocol, 16-bit length. */
	return offload_csum_add(sum, tail, sizeof(tail));
}

static void put_csum(uint8_t *field, uint16_t c)
{
	memcpy(field, &c, 2);
}

static void ipv4_hdr_csum(uint8_t *ip, size_t ihl)
{
	ip[10] = ip[11] = 0;
	put_csum(ip + 10, (uint16_t)~offload_csum_fold(offload_csum_add(0, ip, ihl)));
}

/* ---- out of the TUN: checksum completion and segmentation ------------- */

int offload_tun_in(struct offload_gso *g, const struct offload_vnet *v, uint8_t *pkt, size_t len,
		   size_t seg_cap)
{
	unsigned type = v->gso_type & (uint8_t)~OFFLOAD_GSO_ECN;
	size_t l4_off, hdr_len, payload, first;
	uint8_t proto;
	bool v6;

	if (v->hdr_len > len)
		return -OFFLOAD_BAD_HDR_LEN;
	if (type == OFFLOAD_GSO_NONE) {
		size_t end = (size_t)v->csum_start + v->csum_offset + 2;
		uint16_t c;

		if (v->gso_type & OFFLOAD_GSO_ECN)
			return -OFFLOAD_BAD_GSO_TYPE;
		if (!(v->flags & OFFLOAD_F_NEEDS_CSUM))
			return 0;
		if (end > len)
			return -OFFLOAD_BAD_CSUM_FIELDS;
		/* The field holds the pseudo-header sum: summing it with the
		 * rest completes the checksum (skb_checksum_help). A result of
		 * zero is sent as 0xffff, its other representation, which UDP
		 * needs (RFC 768: zero means "no checksum"). */
		c = (uint16_t)~offload_csum_fold(
			offload_csum_add(0, pkt + v->csum_start, len - v->csum_start));
		put_csum(pkt + v->csum_start + v->csum_offset, c ? c : 0xffff);
		return 0;
	}
	if (type != OFFLOAD_GSO_TCPV4 && type != OFFLOAD_GSO_TCPV6 && type != OFFLOAD_GSO_UDP_L4)
		return -OFFLOAD_BAD_GSO_TYPE;
	if (len < 1)
		return -OFFLOAD_BAD_SHORT;
	v6 = pkt[0] >> 4 == 6;
	if ((pkt[0] >> 4 != 4 && !v6) || (type == OFFLOAD_GSO_TCPV4 && v6) ||
	    (type == OFFLOAD_GSO_TCPV6 && !v6))
		return -OFFLOAD_BAD_GSO_TYPE;
	if (v->gso_size == 0)
		return -OFFLOAD_BAD_GSO_SIZE;
	if (!(v->flags & OFFLOAD_F_NEEDS_CSUM))
		return -OFFLOAD_BAD_CSUM_FIELDS;

	if (v6) {
		if (len < IPV6_HDR_LEN)
			return -OFFLOAD_BAD_SHORT;
		if ((size_t)get16(pkt + 4) + IPV6_HDR_LEN != len)
			return -OFFLOAD_BAD_IP;
		l4_off = IPV6_HDR_LEN;
		proto = pkt[6]; /* extension headers: refused below as not L4 */
	} else {
		if (len < IPV4_HDR_MIN)
			return -OFFLOAD_BAD_SHORT;
		l4_off = (size_t)(pkt[0] & 0x0f) * 4;
		if (l4_off < IPV4_HDR_MIN || l4_off > len)
			return -OFFLOAD_BAD_SHORT;
		if (get16(pkt + 2) != len || (get16(pkt + 6) & (IP4_MF | IP4_OFFMASK)))
			return -OFFLOAD_BAD_IP;
		proto = pkt[9];
	}
	if (proto != (type == OFFLOAD_GSO_UDP_L4 ? PROTO_UDP : PROTO_TCP))
		return -OFFLOAD_BAD_L4;
	if (v->csum_start != l4_off ||
	    v->csum_offset != (proto == PROTO_UDP ? UDP_CSUM_OFF : TCP_CSUM_OFF))
		return -OFFLOAD_BAD_CSUM_FIELDS;
	if (proto == PROTO_TCP) {
		if (l4_off + TCP_HDR_MIN > len)
			return -OFFLOAD_BAD_SHORT;
		hdr_len = l4_off + (size_t)(pkt[l4_off + 12] >> 4) * 4;
		if (hdr_len < l4_off + TCP_HDR_MIN || hdr_len > len)
			return -OFFLOAD_BAD_SHORT;
	} else {
		hdr_len = l4_off + UDP_HDR_LEN;
		if (hdr_len > len)
			return -OFFLOAD_BAD_SHORT;
	}
	payload = len - hdr_len;
	if (payload == 0)
		return -OFFLOAD_BAD_SHORT;
	first = payload < v->gso_size ? payload : v->gso_size;
	if (hdr_len + first > seg_cap)
		return -OFFLOAD_BAD_GSO_SIZE;

	g->pkt = pkt;
	g->len = len;
	g->l4_off = l4_off;
	g->hdr_len = hdr_len;
	g->mss = v->gso_size;
	g->n = (unsigned)((payload + g->mss - 1) / g->mss);
	g->v6 = v6;
	g->udp = proto == PROTO_UDP;
	return 1;
}

size_t offload_gso_segment(const struct offload_gso *g, unsigned i, uint8_t *out, size_t cap)
{
	size_t off, seg, total, l4 = g->l4_off, l4_len;
	uint8_t *csum;
	uint16_t c;

	if (i >= g->n)
		return 0;
	off = (size_t)i * g->mss;
	seg = g->len - g->hdr_len - off;
	if (seg > g->mss)
		seg = g->mss;
	total = g->hdr_len + seg;
	if (total > cap)
		return 0;
	memcpy(out, g->pkt, g->hdr_len);
	memcpy(out + g->hdr_len, g->pkt + g->hdr_len + off, seg);
	l4_len = total - l4;

	/* IP: lengths; IPv4 IDs count up from the super-packet's, as the
	 * kernel's own segmentation does for TSO (not FIXEDID). */
	if (g->v6) {
		put16(out + 4, (uint16_t)l4_len);
	} else {
		put16(out + 2, (uint16_t)total);
		put16(out + 4, (uint16_t)(get16(g->pkt + 4) + i));
		ipv4_hdr_csum(out, l4);
	}

	if (g->udp) {
		put16(out + l4 + 4, (uint16_t)l4_len);
		csum = out + l4 + UDP_CSUM_OFF;
	} else {
		uint8_t fl = out[l4 + 13];

		put32(out + l4 + 4, get32(g->pkt + l4 + 4) + (uint32_t)off);
		/* RFC 3168 §6.1.2: CWR once, on the first segment; FIN and
		 * PSH belong to the end of the data, the last segment. */
		if (i + 1 < g->n)
			fl &= (uint8_t)~(TH_FIN | TH_PSH);
		if (i > 0)
			fl &= (uint8_t)~TH_CWR;
		out[l4 + 13] = fl;
		csum = out + l4 + TCP_CSUM_OFF;
	}
	csum[0] = csum[1] = 0;
	c = (uint16_t)~offload_csum_fold(
		offload_csum_add(pseudo_sum(out, g->v6, g->udp ? PROTO_UDP : PROTO_TCP, l4_len),
				 out + l4, l4_len));
	if (g->udp && c == 0)
		c = 0xffff; /* RFC 768: zero would mean "no checksum" */
	put_csum(csum, c);
	return total;
}

/* ---- into the TUN: coalescing ----------------------------------------- */

/*
 * The IP header of a packet that may join a run: IPv4 without options or
 * fragments, with DF (without it the IDs would have to follow each other
 * exactly for the kernel to cut the same packets again) and a right
 * header checksum, or IPv6 without extension headers; the length field
 * must be the packet's. The layer-4 offset in *l4; not_mine when it is not
 * of that protocol.
 */
static enum offload_gro_why gro_ip(struct offload_seg *s, const uint8_t *pkt, size_t len,
				   uint8_t proto, enum offload_gro_why not_mine, size_t *l4)
{
	if (len < IPV4_HDR_MIN)
		return not_mine;
	if (pkt[0] >> 4 == 4) {
		uint16_t frag = get16(pkt + 6);

		s->v6 = false;
		if ((pkt[0] & 0x0f) != 5 || pkt[9] != proto || (frag & (IP4_MF | IP4_OFFMASK)))
			return not_mine;
		if (get16(pkt + 2) != len)
			return OFFLOAD_GRO_MALFORMED;
		if (offload_csum_fold(offload_csum_add(0, pkt, IPV4_HDR_MIN)) != 0xffff)
			return OFFLOAD_GRO_MALFORMED;
		if (!(frag & IP4_DF))
			return OFFLOAD_GRO_IP_FIELDS;
		*l4 = IPV4_HDR_MIN;
		return OFFLOAD_GRO_OK;
	}
	if (pkt[0] >> 4 != 6)
		return not_mine;
	s->v6 = true;
	if (len < IPV6_HDR_LEN || pkt[6] != proto)
		return not_mine;
	if ((size_t)get16(pkt + 4) + IPV6_HDR_LEN != len)
		return OFFLOAD_GRO_MALFORMED;
	*l4 = IPV6_HDR_LEN;
	return OFFLOAD_GRO_OK;
}

enum offload_gro_why offload_gro_parse(struct offload_seg *s, uint8_t *pkt, size_t len)
{
	enum offload_gro_why why;
	size_t l4;
	uint8_t fl;

	s->pkt = pkt;
	s->len = len;
	s->udp = false;
	why = gro_ip(s, pkt, len, PROTO_TCP, OFFLOAD_GRO_NOT_TCP, &l4);
	if (why != OFFLOAD_GRO_OK)
		return why;
	if (l4 + TCP_HDR_MIN > len)
		return OFFLOAD_GRO_MALFORMED;
	s->l4_off = l4;
	s->hdr_len = l4 + (size_t)(pkt[l4 + 12] >> 4) * 4;
	if (s->hdr_len < l4 + TCP_HDR_MIN || s->hdr_len > len)
		return OFFLOAD_GRO_MALFORMED;
	fl = pkt[l4 + 13];
	if ((fl & (uint8_t)~(TH_ACK | TH_PSH)) || !(fl & TH_ACK) || (pkt[l4 + 12] & 0x0f))
		return OFFLOAD_GRO_FLAGS;
	s->flags = fl;
	s->payload = len - s->hdr_len;
	if (s->payload == 0)
		return OFFLOAD_GRO_NO_DATA;
	s->seq = get32(pkt + l4 + 4);
	/* The kernel will trust the merged packet's checksum (it gets a
	 * partial one), so each segment's must be right before it joins. */
	if (offload_csum_fold(offload_csum_add(pseudo_sum(pkt, s->v6, PROTO_TCP, len - l4),
					       pkt + l4, len - l4)) != 0xffff)
		return OFFLOAD_GRO_MALFORMED;
	return OFFLOAD_GRO_OK;
}

/*
 * The UDP twin of offload_gro_parse(): the same IP rules (a run is cut
 * again by the kernel's UDP segmentation, __udp_gso_segment, which gives
 * every IPv4 segment the next ID: DF makes the IDs irrelevant), then the
 * UDP header (RFC 768): its length must be the IP payload's, and the
 * checksum must be present and right, because the merged packet only
 * carries a partial one that the kernel completes without looking back.
 */
enum offload_gro_why offload_gro_parse_udp(struct offload_seg *s, uint8_t *pkt, size_t len)
{
	enum offload_gro_why why;
	size_t l4;

	s->pkt = pkt;
	s->len = len;
	s->udp = true;
	s->seq = 0;
	s->flags = 0;
	why = gro_ip(s, pkt, len, PROTO_UDP, OFFLOAD_GRO_NOT_UDP, &l4);
	if (why != OFFLOAD_GRO_OK)
		return why;
	if (l4 + UDP_HDR_LEN > len || get16(pkt + l4 + 4) != len - l4)
		return OFFLOAD_GRO_MALFORMED;
	s->l4_off = l4;
	s->hdr_len = l4 + UDP_HDR_LEN;
	s->payload = len - s->hdr_len;
	if (s->payload == 0)
		return OFFLOAD_GRO_NO_DATA;
	/* RFC 768: zero is "no checksum" (IPv4 only; RFC 8200 §8.1 forbids
	 * it over IPv6, where the sum below refuses it). */
	if (get16(pkt + l4 + UDP_CSUM_OFF) == 0 ||
	    offload_csum_fold(offload_csum_add(pseudo_sum(pkt, s->v6, PROTO_UDP, len - l4),
					       pkt + l4, len - l4)) != 0xffff)
		return OFFLOAD_GRO_MALFORMED;
	return OFFLOAD_GRO_OK;
}

void offload_gro_start(struct offload_gro *r, const struct offload_seg *s)
{
	r->pkt = s->pkt;
	r->len = s->len;
	r->l4_off = s->l4_off;
	r->hdr_len = s->hdr_len;
	r->mss = s->payload;
	r->next_seq = s->seq + (uint32_t)s->payload;
	r->n = 1;
	r->v6 = s->v6;
	r->udp = s->udp;
	r->closed = !s->udp && (s->flags & TH_PSH) != 0;
	r->last_flags = s->flags;
}

enum offload_gro_why offload_gro_append(struct offload_gro *r, const struct offload_seg *s)
{
	const uint8_t *a = r->pkt, *pkt = s->pkt;
	size_t l4 = r->l4_off;

	if (s->v6 != r->v6 || s->udp != r->udp)
		return OFFLOAD_GRO_FLOW;
	if (s->v6) {
		if (memcmp(a + 8, pkt + 8, 32) != 0)
			return OFFLOAD_GRO_FLOW;
		/* version, traffic class, flow label; hop limit */
		if (memcmp(a, pkt, 4) != 0 || a[7] != pkt[7])
			return OFFLOAD_GRO_IP_FIELDS;
	} else {
		if (memcmp(a + 12, pkt + 12, 8) != 0)
			return OFFLOAD_GRO_FLOW;
		if (a[1] != pkt[1] || a[8] != pkt[8])
			return OFFLOAD_GRO_IP_FIELDS;
	}
	if (memcmp(a + l4, pkt + l4, 4) != 0) /* ports */
		return OFFLOAD_GRO_FLOW;
	if (r->udp) {
		/* Datagrams of one size, a shorter one last (the kernel's
		 * udp_gro_receive_segment): the size is the gso_size that
		 * splits them again, so boundaries are kept exactly. */
		if (r->closed || s->payload > r->mss)
			return OFFLOAD_GRO_SIZE;
		if (r->n >= OFFLOAD_GRO_MAX_SEGS || r->len + s->payload > OFFLOAD_MAX_PKT)
			return OFFLOAD_GRO_FULL;
		r->len += s->payload;
		r->n++;
		if (s->payload < r->mss)
			r->closed = true;
		return OFFLOAD_GRO_OK;
	}
	/* ACK number, header length, window, and every option byte (the
	 * timestamps too): what the kernel's tcp_gro_receive compares. */
	if (s->hdr_len != r->hdr_len || memcmp(a + l4 + 8, pkt + l4 + 8, 4) != 0 ||
	    memcmp(a + l4 + 14, pkt + l4 + 14, 2) != 0 ||
	    memcmp(a + l4 + TCP_HDR_MIN, pkt + l4 + TCP_HDR_MIN, r->hdr_len - l4 - TCP_HDR_MIN) != 0)
		return OFFLOAD_GRO_TCP_FIELDS;
	if (s->seq != r->next_seq)
		return OFFLOAD_GRO_SEQ;
	if (r->closed || s->payload > r->mss)
		return OFFLOAD_GRO_SIZE;
	if (r->n >= OFFLOAD_GRO_MAX_SEGS || r->len + s->payload > OFFLOAD_MAX_PKT)
		return OFFLOAD_GRO_FULL;
	r->len += s->payload;
	r->next_seq += (uint32_t)s->payload;
	r->n++;
	r->last_flags = s->flags;
	if (s->payload < r->mss || (s->flags & TH_PSH))
		r->closed = true;
	return OFFLOAD_GRO_OK;
}

void offload_gro_finish(struct offload_gro *r, struct offload_vnet *v)
{
	uint8_t *p = r->pkt;
	size_t l4 = r->l4_off;

	memset(v, 0, sizeof(*v));
	if (r->n < 2)
		return;
	if (r->v6) {
		put16(p + 4, (uint16_t)(r->len - IPV6_HDR_LEN));
	} else {
		put16(p + 2, (uint16_t)r->len);
		ipv4_hdr_csum(p, l4);
	}
	v->flags = OFFLOAD_F_NEEDS_CSUM;
	v->hdr_len = (uint16_t)r->hdr_len;
	v->gso_size = (uint16_t)r->mss;
	v->csum_start = (uint16_t)l4;
	if (r->udp) {
		/* The UDP length covers the whole; the kernel's segmentation
		 * swaps it for each datagram's in the partial checksum
		 * (which must therefore be summed with the same length). */
		put16(p + l4 + 4, (uint16_t)(r->len - l4));
		put_csum(p + l4 + UDP_CSUM_OFF,
			 offload_csum_fold(pseudo_sum(p, r->v6, PROTO_UDP, r->len - l4)));
		v->gso_type = OFFLOAD_GSO_UDP_L4;
		v->csum_offset = UDP_CSUM_OFF;
		return;
	}
	p[l4 + 13] |= r->last_flags & TH_PSH;
	p[l4 + 16] = p[l4 + 17] = 0;
	put_csum(p + l4 + TCP_CSUM_OFF,
		 offload_csum_fold(pseudo_sum(p, r->v6, PROTO_TCP, r->len - l4)));
	v->gso_type = r->v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4;
	v->csum_offset = TCP_CSUM_OFF;
}
