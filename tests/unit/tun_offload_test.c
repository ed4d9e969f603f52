/*
 * TUN offloads (tun/offload.c): segmentation of TSO/USO super-packets,
 * checksum completion, receive coalescing, and refusal of malformed input.
 *
 * Every checksum is verified by a full recomputation done here byte by byte
 * (RFC 1071 §1, pseudo-headers of RFC 9293 §3.1 / RFC 8200 §8.1 / RFC 768),
 * independent of the word-wise sums offload.c uses. Packets are built by
 * hand; each malformed case gets a buffer of exactly its length from
 * malloc, so that the sanitizer build catches any read beyond it.
 */
#include "tests/unit/test.h"
#include "tun/offload.h"

#include <stdlib.h>

#define MSS4 1398
#define MSS6 1378
#define CAP  1888 /* a packet cell's room, as daemon/loop.c passes it */

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void p16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void p32(uint8_t *p, uint32_t v)
{
	p16(p, v >> 16);
	p16(p + 2, v & 0xffff);
}

/* The one's complement sum of bytes, even offsets high-order. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static size_t l4_off(const uint8_t *ip)
{
	return (ip[0] >> 4) == 4 ? (size_t)(ip[0] & 15) * 4 : 40;
}

static uint8_t l4_proto(const uint8_t *ip)
{
	return (ip[0] >> 4) == 4 ? ip[9] : ip[6];
}

/* Pseudo-header sum for an upper-layer length of l4len. */
static uint32_t pseudo(const uint8_t *ip, size_t l4len)
{
	uint8_t ph[40] = {0};

	if ((ip[0] >> 4) == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = ip[9];
		p16(ph + 10, (unsigned)l4len);
		return sum_bytes(0, ph, 12);
	}
	memcpy(ph, ip + 8, 32);
	p32(ph + 32, (uint32_t)l4len);
	ph[39] = ip[6];
	return sum_bytes(0, ph, 40);
}

/* A packet's L4 checksum is right if everything sums to all ones. */
static int l4_ok(const uint8_t *ip, size_t len)
{
	size_t off = l4_off(ip);

	return fold(sum_bytes(pseudo(ip, len - off), ip + off, len - off)) == 0xffff;
}

static int ip4_ok(const uint8_t *ip)
{
	return fold(sum_bytes(0, ip, l4_off(ip))) == 0xffff;
}

static void set_l4_csum(uint8_t *ip, size_t len)
{
	size_t off = l4_off(ip);
	uint8_t *c = ip + off + (l4_proto(ip) == 17 ? 6 : 16);

	c[0] = c[1] = 0;
	p16(c, (uint16_t)~fold(sum_bytes(pseudo(ip, len - off), ip + off, len - off)));
}

static void set_ip4_csum(uint8_t *ip)
{
	ip[10] = ip[11] = 0;
	p16(ip + 10, (uint16_t)~fold(sum_bytes(0, ip, l4_off(ip))));
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 8)) ^ (i >> 3));
}

/*
 * An IPv4 or IPv6 TCP segment: DF, TTL 64, ports 40000 -> 5201, ACK
 * 0x01020304, window 501, a timestamp option (12 bytes: doff 8), the given
 * flags, payload and sequence number. Checksums complete.
 */
static size_t build_tcp(uint8_t *b, int v6, const uint8_t *payload, size_t plen, uint32_t seq,
			uint8_t flags)
{
	static const uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78};
	size_t ip = v6 ? 40 : 20, len = ip + 32 + plen;
	uint8_t *t = b + ip;

	memset(b, 0, ip + 32);
	if (v6) {
		b[0] = 0x60;
		b[1] = 0x01; /* flow label 0x12345 */
		b[2] = 0x23;
		b[3] = 0x45;
		p16(b + 4, (unsigned)(len - 40));
		b[6] = 6;
		b[7] = 64;
		b[8] = 0xfd;
		b[9] = 0x01;
		b[23] = 1;
		b[24] = 0xfd;
		b[25] = 0x02;
		b[39] = 1;
	} else {
		b[0] = 0x45;
		p16(b + 2, (unsigned)len);
		p16(b + 4, 0x4242);
		p16(b + 6, 0x4000);
		b[8] = 64;
		b[9] = 6;
		b[12] = 10, b[13] = 201, b[14] = 1, b[15] = 1;
		b[16] = 10, b[17] = 201, b[18] = 2, b[19] = 1;
	}
	p16(t, 40000);
	p16(t + 2, 5201);
	p32(t + 4, seq);
	p32(t + 8, 0x01020304);
	t[12] = 8 << 4;
	t[13] = flags;
	p16(t + 14, 501);
	memcpy(t + 20, opts, sizeof(opts));
	memcpy(b + ip + 32, payload, plen);
	if (!v6)
		set_ip4_csum(b);
	set_l4_csum(b, len);
	return len;
}

/* Turn a complete L4 checksum into a partial one (the pseudo-header sum),
 * as the kernel hands packets with NEEDS_CSUM. */
static void make_partial(uint8_t *ip, size_t len)
{
	size_t off = l4_off(ip);
	uint8_t *c = ip + off + (l4_proto(ip) == 17 ? 6 : 16);

	p16(c, fold(pseudo(ip, len - off)));
}

static struct offload_vnet tso_hdr(int v6, int udp, unsigned mss)
{
	struct offload_vnet v = {
	    .flags = OFFLOAD_F_NEEDS_CSUM,
	    .gso_type = udp ? OFFLOAD_GSO_UDP_L4 : v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4,
	    .hdr_len = (uint16_t)((v6 ? 40 : 20) + (udp ? 8 : 32)),
	    .gso_size = (uint16_t)mss,
	    .csum_start = (uint16_t)(v6 ? 40 : 20),
	    .csum_offset = udp ? 6 : 16,
	};
	return v;
}

/* ---- segmentation ------------------------------------------------------ */

/*
 * Cut a 64 KB TSO packet and check every segment against the original:
 * headers as RFC 9293 §3.1 / RFC 791 / RFC 8200 want them (lengths, IPv4 ID
 * + i, sequence numbers, FIN/PSH on the last only, CWR on the first only,
 * RFC 3168 §6.1.2), payload slices in order, and the checksums.
 */
static void check_tso(int v6)
{
	const size_t ip = v6 ? 40 : 20, hdr = ip + 32, mss = v6 ? MSS6 : MSS4;
	const size_t plen = 65535 - hdr; /* the largest read the TUN gives */
	const uint32_t seq0 = 0xfffff000u; /* wraps within the packet */
	uint8_t *payload = malloc(plen), *big = malloc(65535), out[CAP];
	struct offload_vnet v = tso_hdr(v6, 0, (unsigned)mss);
	struct offload_gso g;
	size_t len, got = 0;
	unsigned n;

	if (!payload || !big) {
		test_fail(__FILE__, __LINE__, "malloc");
		free(payload);
		free(big);
		return;
	}
	fill(payload, plen, v6 ? 6 : 4);
	len = build_tcp(big, v6, payload, plen, seq0, 0x10 | 0x08 | 0x01 | 0x80);
	make_partial(big, len);
	CHECK_EQ(offload_tun_in(&g, &v, big, len, CAP), 1);
	n = (unsigned)((len - hdr + mss - 1) / mss);
	CHECK_EQ(g.n, n);
	CHECK_EQ(g.hdr_len, hdr);
	CHECK_EQ(g.l4_off, ip);
	CHECK_EQ(g.mss, mss);
	for (unsigned i = 0; i < g.n && i < n; i++) {
		size_t want = len - hdr - (size_t)i * mss;
		size_t slen;

		if (want > mss)
			want = mss;
		memset(out, 0xee, sizeof(out));
		slen = offload_gso_segment(&g, i, out, sizeof(out));
		REQUIRE_EQ(slen, hdr + want);
		if (v6) {
			CHECK_MEM(out, big, 4);
			CHECK_EQ(g16(out + 4), slen - 40);
			CHECK_MEM(out + 6, big + 6, 34);
		} else {
			CHECK_EQ(out[0], 0x45);
			CHECK_EQ(g16(out + 2), slen);
			CHECK_EQ(g16(out + 4), 0x4242 + i);
			CHECK_EQ(g16(out + 6), 0x4000);
			CHECK_MEM(out + 8, big + 8, 2); /* TTL, protocol */
			CHECK_MEM(out + 12, big + 12, 8);
			CHECK(ip4_ok(out));
		}
		CHECK_MEM(out + ip, big + ip, 4); /* ports */
		CHECK_EQ(g32(out + ip + 4), (uint32_t)(seq0 + i * mss));
		CHECK_MEM(out + ip + 8, big + ip + 8, 5); /* ack, doff */
		CHECK_EQ(out[ip + 13], i == 0 ? 0x90 : i + 1 == n ? 0x19 : 0x10);
		CHECK_MEM(out + ip + 14, big + ip + 14, 2);   /* window */
		CHECK_MEM(out + ip + 18, big + ip + 18, 14);  /* urg, options */
		CHECK_MEM(out + hdr, payload + (size_t)i * mss, want);
		CHECK(l4_ok(out, slen));
		got += want;
	}
	CHECK_EQ(got, len - hdr);
	CHECK_EQ(offload_gso_segment(&g, n, out, sizeof(out)), 0);
	CHECK_EQ(offload_gso_segment(&g, 0, out, hdr + mss - 1), 0);
	free(payload);
	free(big);
}

TEST(offload_tso4_rfc9293_segments_64k)
{
	check_tso(0);
}

TEST(offload_tso6_rfc8200_segments_64k)
{
	check_tso(1);
}

/* USO (GSO_UDP_L4): RFC 768 lengths and checksums per datagram. */
TEST(offload_uso4_rfc768_segments)
{
	uint8_t big[20 + 8 + 5000], out[CAP];
	struct offload_vnet v = tso_hdr(0, 1, 1200);
	struct offload_gso g;
	size_t len = sizeof(big);

	memset(big, 0, 28);
	big[0] = 0x45;
	p16(big + 2, (unsigned)len);
	p16(big + 4, 7);
	big[8] = 64;
	big[9] = 17;
	big[12] = 10, big[15] = 1, big[16] = 10, big[19] = 2;
	set_ip4_csum(big);
	p16(big + 20, 1000);
	p16(big + 22, 2000);
	p16(big + 24, (unsigned)(len - 20));
	fill(big + 28, 5000, 3);
	make_partial(big, len);
	CHECK_EQ(offload_tun_in(&g, &v, big, len, CAP), 1);
	CHECK_EQ(g.n, 5);
	for (unsigned i = 0; i < g.n; i++) {
		size_t want = i < 4 ? 1200 : 200, slen = offload_gso_segment(&g, i, out, sizeof(out));

		CHECK_EQ(slen, 28 + want);
		CHECK_EQ(g16(out + 2), slen);
		CHECK_EQ(g16(out + 4), 7 + i);
		CHECK(ip4_ok(out));
		CHECK_EQ(g16(out + 24), 8 + want);
		CHECK(g16(out + 26) != 0);
		CHECK(l4_ok(out, slen));
		CHECK_MEM(out + 28, big + 28 + i * 1200, want);
	}
}

/* NEEDS_CSUM without GSO: the partial checksum is completed in place
 * (TCP over IPv6, UDP over IPv4), nothing else changes. */
TEST(offload_needs_csum_completed)
{
	uint8_t pl[333], b[40 + 32 + sizeof(pl)], ref[sizeof(b)];
	struct offload_vnet v = {.flags = OFFLOAD_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 16};
	struct offload_gso g;
	size_t len;

	fill(pl, sizeof(pl), 9);
	len = build_tcp(b, 1, pl, sizeof(pl), 77, 0x18);
	memcpy(ref, b, len);
	make_partial(b, len);
	CHECK(!l4_ok(b, len));
	CHECK_EQ(offload_tun_in(&g, &v, b, len, CAP), 0);
	CHECK(l4_ok(b, len));
	CHECK_MEM(b, ref, len);

	/* UDP over IPv4, where the sum comes out 0 it must be sent as
	 * 0xffff (RFC 768); the packet is tuned so that it does. */
	uint8_t u[20 + 8 + 2];

	memset(u, 0, sizeof(u));
	u[0] = 0x45;
	p16(u + 2, sizeof(u));
	u[8] = 64;
	u[9] = 17;
	u[12] = 10, u[15] = 1, u[16] = 10, u[19] = 2;
	p16(u + 20, 1);
	p16(u + 22, 2);
	p16(u + 24, 10);
	/* choose the 2 data bytes so that the full sum is 0xffff */
	p16(u + 28, (uint16_t)~fold(pseudo(u, 10) + sum_bytes(0, u + 20, 8)));
	make_partial(u, sizeof(u));
	v.csum_start = 20;
	v.csum_offset = 6;
	CHECK_EQ(offload_tun_in(&g, &v, u, sizeof(u), CAP), 0);
	CHECK_EQ(g16(u + 26), 0xffff);
	CHECK(l4_ok(u, sizeof(u)));

	/* No NEEDS_CSUM: untouched. */
	memcpy(ref, b, len);
	v.flags = 0;
	CHECK_EQ(offload_tun_in(&g, &v, b, len, CAP), 0);
	CHECK_MEM(b, ref, len);
}

/* ---- malformed virtio headers and super-packets ------------------------ */

enum mut {
	M_NONE,
	M_GSO_SIZE_0,
	M_CSUM_START_PAST,
	M_CSUM_START_NOT_L4,
	M_CSUM_OFFSET,
	M_HDR_LEN_PAST,
	M_TYPE_UNKNOWN,
	M_TYPE_UFO,
	M_TYPE_V6_ON_V4,
	M_NOT_TCP,
	M_NO_NEEDS_CSUM,
	M_TRUNCATED,
	M_TRUNCATED_HDR,
	M_IHL_SHORT,
	M_FRAGMENT,
	M_NO_PAYLOAD,
	M_SEG_TOO_BIG,
	M_NONE_CSUM_PAST,
	M_NONE_ECN,
	M_DOFF_PAST,
	M_EMPTY,
};

TEST(offload_malformed_vnet_refused_and_counted)
{
	static const struct {
		enum mut m;
		int want;
	} cases[] = {
	    {M_NONE, 1},
	    {M_GSO_SIZE_0, -OFFLOAD_BAD_GSO_SIZE},
	    {M_CSUM_START_PAST, -OFFLOAD_BAD_CSUM_FIELDS},
	    {M_CSUM_START_NOT_L4, -OFFLOAD_BAD_CSUM_FIELDS},
	    {M_CSUM_OFFSET, -OFFLOAD_BAD_CSUM_FIELDS},
	    {M_HDR_LEN_PAST, -OFFLOAD_BAD_HDR_LEN},
	    {M_TYPE_UNKNOWN, -OFFLOAD_BAD_GSO_TYPE},
	    {M_TYPE_UFO, -OFFLOAD_BAD_GSO_TYPE},
	    {M_TYPE_V6_ON_V4, -OFFLOAD_BAD_GSO_TYPE},
	    {M_NOT_TCP, -OFFLOAD_BAD_L4},
	    {M_NO_NEEDS_CSUM, -OFFLOAD_BAD_CSUM_FIELDS},
	    {M_TRUNCATED, -OFFLOAD_BAD_IP},
	    {M_TRUNCATED_HDR, -OFFLOAD_BAD_SHORT},
	    {M_IHL_SHORT, -OFFLOAD_BAD_SHORT},
	    {M_FRAGMENT, -OFFLOAD_BAD_IP},
	    {M_NO_PAYLOAD, -OFFLOAD_BAD_SHORT},
	    {M_SEG_TOO_BIG, -OFFLOAD_BAD_GSO_SIZE},
	    {M_NONE_CSUM_PAST, -OFFLOAD_BAD_CSUM_FIELDS},
	    {M_NONE_ECN, -OFFLOAD_BAD_GSO_TYPE},
	    {M_DOFF_PAST, -OFFLOAD_BAD_SHORT},
	    {M_EMPTY, -OFFLOAD_BAD_SHORT},
	};
	uint8_t pl[3000], full[20 + 32 + sizeof(pl)];
	size_t flen;

	fill(pl, sizeof(pl), 1);
	flen = build_tcp(full, 0, pl, sizeof(pl), 1000, 0x10);
	make_partial(full, flen);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct offload_vnet v = tso_hdr(0, 0, MSS4);
		struct offload_gso g;
		size_t len = flen, cap = CAP;
		uint8_t *b, *ref;
		int rc;

		switch (cases[i].m) {
		case M_TRUNCATED: len = 1000; break; /* a short read: tot_len disagrees */
		case M_TRUNCATED_HDR: len = 30; break;
		case M_NO_PAYLOAD: len = 52; break;
		case M_EMPTY: len = 0; break;
		default: break;
		}
		b = malloc(len ? len : 1);
		ref = malloc(len ? len : 1);
		if (!b || !ref) {
			test_fail(__FILE__, __LINE__, "malloc");
			free(b);
			free(ref);
			return;
		}
		memcpy(b, full, len);
		switch (cases[i].m) {
		case M_GSO_SIZE_0: v.gso_size = 0; break;
		case M_CSUM_START_PAST: v.csum_start = 0xfff0; break;
		case M_CSUM_START_NOT_L4: v.csum_start = 24; break;
		case M_CSUM_OFFSET: v.csum_offset = 6; break;
		case M_HDR_LEN_PAST: v.hdr_len = (uint16_t)(len + 1); break;
		case M_TYPE_UNKNOWN: v.gso_type = 7; break;
		case M_TYPE_UFO: v.gso_type = OFFLOAD_GSO_UDP; break;
		case M_TYPE_V6_ON_V4: v.gso_type = OFFLOAD_GSO_TCPV6; break;
		case M_NOT_TCP: b[9] = 17; break; /* TSO over a UDP packet */
		case M_NO_NEEDS_CSUM: v.flags = 0; break;
		case M_TRUNCATED_HDR:
		case M_NO_PAYLOAD: v.hdr_len = 0; p16(b + 2, (unsigned)len); break;
		case M_EMPTY: v.hdr_len = 0; break;
		case M_IHL_SHORT: b[0] = 0x44; break;
		case M_FRAGMENT: p16(b + 6, 0x2000); break;
		case M_SEG_TOO_BIG: cap = 52 + MSS4 - 1; break;
		case M_NONE_CSUM_PAST:
			v.gso_type = OFFLOAD_GSO_NONE;
			v.csum_offset = (uint16_t)(len - 20 - 1);
			break;
		case M_NONE_ECN: v.gso_type = OFFLOAD_GSO_ECN; break;
		case M_DOFF_PAST: b[20 + 12] = 0xf0; v.hdr_len = 0; p16(b + 2, 70); len = 70; break;
		default: break;
		}
		memcpy(ref, b, len);
		rc = offload_tun_in(&g, &v, b, len, cap);
		if (rc != cases[i].want)
			test_fail(__FILE__, __LINE__, "case %zu: got %d, want %d", i, rc,
				  cases[i].want);
		if (rc < 0 && len && memcmp(b, ref, len) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: refused packet was changed", i);
		free(b);
		free(ref);
	}
}

/* A segment length that does not fit 16 bits of gso_size count: a 1-byte
 * MSS makes one segment per payload byte and each is still right. */
TEST(offload_tso_tiny_mss)
{
	uint8_t pl[40], b[20 + 32 + sizeof(pl)], out[CAP];
	struct offload_vnet v = tso_hdr(0, 0, 1);
	struct offload_gso g;
	size_t len;

	fill(pl, sizeof(pl), 2);
	len = build_tcp(b, 0, pl, sizeof(pl), 5, 0x11);
	make_partial(b, len);
	CHECK_EQ(offload_tun_in(&g, &v, b, len, CAP), 1);
	CHECK_EQ(g.n, sizeof(pl));
	for (unsigned i = 0; i < g.n; i++) {
		CHECK_EQ(offload_gso_segment(&g, i, out, sizeof(out)), 53);
		CHECK_EQ(out[52], pl[i]);
		CHECK_EQ(g32(out + 24), 5 + i);
		CHECK_EQ(out[33], i + 1 == g.n ? 0x11 : 0x10);
		CHECK(l4_ok(out, 53));
	}
}

/* ---- coalescing -------------------------------------------------------- */

/*
 * Merge a run (all MSS-sized but a shorter last one with PSH) and check the
 * super-packet: the merged headers, the virtio header the kernel needs for
 * a partial checksum (TCPV4/TCPV6, gso_size, NEEDS_CSUM at csum_start +
 * 16), the pseudo-header sum in the checksum field, and that completing
 * the checksum gives a valid segment equal to the original byte stream.
 */
static void check_gro(int v6, unsigned nseg)
{
	const size_t ip = v6 ? 40 : 20, hdr = ip + 32, mss = v6 ? MSS6 : MSS4;
	const size_t total_pl = (nseg - 1) * mss + 100;
	uint8_t *pl = malloc(total_pl), *segs = malloc((size_t)nseg * CAP), *whole = malloc(65536);
	struct offload_gro r;
	struct offload_vnet v;
	size_t lens[64], pos;
	uint8_t first[CAP];

	if (!pl || !segs || !whole || nseg > 64) {
		test_fail(__FILE__, __LINE__, "set-up");
		goto out;
	}
	fill(pl, total_pl, 5);
	for (unsigned i = 0; i < nseg; i++) {
		size_t n = i + 1 < nseg ? mss : 100;
		struct offload_seg s;

		lens[i] = build_tcp(segs + (size_t)i * CAP, v6, pl + i * mss, n, 0x7fffff00u + i * (uint32_t)mss,
				    i + 1 < nseg ? 0x10 : 0x18);
		CHECK_EQ(offload_gro_parse(&s, segs + (size_t)i * CAP, lens[i]), OFFLOAD_GRO_OK);
		if (i == 0)
			offload_gro_start(&r, &s);
		else
			CHECK_EQ(offload_gro_append(&r, &s), OFFLOAD_GRO_OK);
	}
	CHECK_EQ(r.n, nseg);
	CHECK(r.closed);
	memcpy(first, segs, lens[0]); /* finish() rewrites it in place */
	offload_gro_finish(&r, &v);
	/* the writev the daemon does: first segment whole, then payloads */
	memcpy(whole, segs, lens[0]);
	pos = lens[0];
	for (unsigned i = 1; i < nseg; i++) {
		memcpy(whole + pos, segs + (size_t)i * CAP + hdr, lens[i] - hdr);
		pos += lens[i] - hdr;
	}
	CHECK_EQ(pos, hdr + total_pl);
	CHECK_EQ(r.len, pos);
	CHECK_MEM(whole + hdr, pl, total_pl);
	CHECK_EQ(v.flags, OFFLOAD_F_NEEDS_CSUM);
	CHECK_EQ(v.gso_type, v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4);
	CHECK_EQ(v.gso_size, mss);
	CHECK_EQ(v.hdr_len, hdr);
	CHECK_EQ(v.csum_start, ip);
	CHECK_EQ(v.csum_offset, 16);
	if (v6) {
		CHECK_EQ(g16(whole + 4), pos - 40);
	} else {
		CHECK_EQ(g16(whole + 2), pos);
		CHECK(ip4_ok(whole));
	}
	CHECK_EQ(whole[ip + 13], 0x18); /* PSH from the last segment */
	CHECK_EQ(g32(whole + ip + 4), 0x7fffff00u);
	CHECK_EQ(g16(whole + ip + 16), fold(pseudo(whole, pos - ip)));
	/* complete it as the kernel would, then verify from scratch */
	p16(whole + ip + 16, (uint16_t)~fold(sum_bytes(0, whole + ip, pos - ip)));
	CHECK(l4_ok(whole, pos));

	/* the wire bytes round-trip: cut it again with what finish() said */
	{
		struct offload_gso g;
		uint8_t out[CAP];

		make_partial(whole, pos);
		CHECK_EQ(offload_tun_in(&g, &v, whole, pos, CAP), 1);
		CHECK_EQ(g.n, nseg);
		memcpy(segs, first, lens[0]);
		for (unsigned i = 0; i < g.n && i < nseg; i++) {
			size_t n = offload_gso_segment(&g, i, out, sizeof(out));

			CHECK_EQ(n, lens[i]);
			/* identical but for the IPv4 ID, which the super-packet's
			 * first segment set for all */
			if (!v6)
				CHECK_MEM(out + 12, segs + (size_t)i * CAP + 12, n - 12);
			else
				CHECK_MEM(out, segs + (size_t)i * CAP, n);
		}
	}
out:
	free(pl);
	free(segs);
	free(whole);
}

TEST(offload_gro4_merges_run)
{
	check_gro(0, 12);
	check_gro(0, 46); /* 45 * 1398 + 100 + 52 < 65535 */
}

TEST(offload_gro6_merges_run)
{
	check_gro(1, 12);
}

/* A run of one is written as it is, with a zero virtio header. */
TEST(offload_gro_single_unchanged)
{
	uint8_t pl[500], b[20 + 32 + sizeof(pl)], ref[sizeof(b)];
	struct offload_seg s;
	struct offload_gro r;
	struct offload_vnet v, zero = {0};
	size_t len;

	fill(pl, sizeof(pl), 8);
	len = build_tcp(b, 0, pl, sizeof(pl), 1, 0x10);
	memcpy(ref, b, len);
	CHECK_EQ(offload_gro_parse(&s, b, len), OFFLOAD_GRO_OK);
	offload_gro_start(&r, &s);
	offload_gro_finish(&r, &v);
	CHECK_MEM(&v, &zero, sizeof(v));
	CHECK_MEM(b, ref, len);
}

/* Append segments of plen bytes until refused; returns the run's count. */
static unsigned fill_run(size_t plen)
{
	uint8_t a[20 + 32 + 1200], b[sizeof(a)], pl[1200];
	struct offload_seg s;
	struct offload_gro r;
	size_t la, lb;
	unsigned i;

	fill(pl, plen, 4);
	la = build_tcp(a, 0, pl, plen, 0, 0x10);
	CHECK_EQ(offload_gro_parse(&s, a, la), OFFLOAD_GRO_OK);
	offload_gro_start(&r, &s);
	for (i = 1; i < 200; i++) {
		enum offload_gro_why why;

		lb = build_tcp(b, 0, pl, plen, i * (uint32_t)plen, 0x10);
		CHECK_EQ(offload_gro_parse(&s, b, lb), OFFLOAD_GRO_OK);
		why = offload_gro_append(&r, &s);
		if (why != OFFLOAD_GRO_OK) {
			CHECK_EQ(why, OFFLOAD_GRO_FULL);
			break;
		}
	}
	CHECK(r.len <= OFFLOAD_MAX_PKT);
	CHECK_EQ(r.n, i);
	return r.n;
}

/* The limits: OFFLOAD_GRO_MAX_SEGS segments, 65535 bytes in all. */
TEST(offload_gro_full)
{
	CHECK_EQ(fill_run(100), OFFLOAD_GRO_MAX_SEGS);
	CHECK_EQ(fill_run(1200), (OFFLOAD_MAX_PKT - 52) / 1200);
}

enum gmut {
	G_OK,
	G_SRC,
	G_DPORT,
	G_TOS,
	G_TTL,
	G_NO_DF,
	G_IP_OPTS,
	G_FRAG,
	G_SYN,
	G_FIN,
	G_RST,
	G_URG,
	G_ECE,
	G_CWR,
	G_NO_ACK,
	G_PURE_ACK,
	G_SEQ_GAP,
	G_SEQ_DUP,
	G_ACK_NUM,
	G_WINDOW,
	G_OPTS,
	G_OPTLEN,
	G_BIGGER,
	G_AFTER_SHORT,
	G_AFTER_PSH,
	G_BAD_TCP_CSUM,
	G_BAD_IP_CSUM,
	G_LEN_MISMATCH,
	G_NOT_IP,
	G_UDP,
	G_V6_FLOWLABEL,
	G_V6_HOPLIMIT,
	G_V6_EXTHDR,
	G_V6_DST,
	G_V6_VS_V4,
};

/*
 * Table-driven: a run of one MSS-sized segment, then a second one changed
 * in exactly one way; each change must be refused with its reason (from
 * parse or from append), and the run must stay as it was.
 */
TEST(offload_gro_refuses_each_mismatch)
{
	static const struct {
		enum gmut m;
		int v6;
		enum offload_gro_why want;
	} cases[] = {
	    {G_OK, 0, OFFLOAD_GRO_OK},
	    {G_OK, 1, OFFLOAD_GRO_OK},
	    {G_SRC, 0, OFFLOAD_GRO_FLOW},
	    {G_DPORT, 0, OFFLOAD_GRO_FLOW},
	    {G_DPORT, 1, OFFLOAD_GRO_FLOW},
	    {G_TOS, 0, OFFLOAD_GRO_IP_FIELDS},
	    {G_TTL, 0, OFFLOAD_GRO_IP_FIELDS},
	    {G_NO_DF, 0, OFFLOAD_GRO_IP_FIELDS},
	    {G_IP_OPTS, 0, OFFLOAD_GRO_NOT_TCP},
	    {G_FRAG, 0, OFFLOAD_GRO_NOT_TCP},
	    {G_SYN, 0, OFFLOAD_GRO_FLAGS},
	    {G_FIN, 0, OFFLOAD_GRO_FLAGS},
	    {G_RST, 1, OFFLOAD_GRO_FLAGS},
	    {G_URG, 0, OFFLOAD_GRO_FLAGS},
	    {G_ECE, 0, OFFLOAD_GRO_FLAGS},
	    {G_CWR, 1, OFFLOAD_GRO_FLAGS},
	    {G_NO_ACK, 0, OFFLOAD_GRO_FLAGS},
	    {G_PURE_ACK, 0, OFFLOAD_GRO_NO_DATA},
	    {G_SEQ_GAP, 0, OFFLOAD_GRO_SEQ},
	    {G_SEQ_DUP, 1, OFFLOAD_GRO_SEQ},
	    {G_ACK_NUM, 0, OFFLOAD_GRO_TCP_FIELDS},
	    {G_WINDOW, 1, OFFLOAD_GRO_TCP_FIELDS},
	    {G_OPTS, 0, OFFLOAD_GRO_TCP_FIELDS},
	    {G_OPTLEN, 0, OFFLOAD_GRO_TCP_FIELDS},
	    {G_BIGGER, 0, OFFLOAD_GRO_SIZE},
	    {G_AFTER_SHORT, 0, OFFLOAD_GRO_SIZE},
	    {G_AFTER_PSH, 1, OFFLOAD_GRO_SIZE},
	    {G_BAD_TCP_CSUM, 0, OFFLOAD_GRO_MALFORMED},
	    {G_BAD_TCP_CSUM, 1, OFFLOAD_GRO_MALFORMED},
	    {G_BAD_IP_CSUM, 0, OFFLOAD_GRO_MALFORMED},
	    {G_LEN_MISMATCH, 0, OFFLOAD_GRO_MALFORMED},
	    {G_LEN_MISMATCH, 1, OFFLOAD_GRO_MALFORMED},
	    {G_NOT_IP, 0, OFFLOAD_GRO_NOT_TCP},
	    {G_UDP, 0, OFFLOAD_GRO_NOT_TCP},
	    {G_V6_FLOWLABEL, 1, OFFLOAD_GRO_IP_FIELDS},
	    {G_V6_HOPLIMIT, 1, OFFLOAD_GRO_IP_FIELDS},
	    {G_V6_EXTHDR, 1, OFFLOAD_GRO_NOT_TCP},
	    {G_V6_DST, 1, OFFLOAD_GRO_FLOW},
	    {G_V6_VS_V4, 1, OFFLOAD_GRO_FLOW},
	};
	uint8_t pl[2 * MSS4 + 8];

	fill(pl, sizeof(pl), 7);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const int v6 = cases[i].v6;
		const size_t ip = v6 ? 40 : 20, mss = v6 ? MSS6 : MSS4;
		uint8_t a[40 + 32 + MSS4 + 8], *b;
		size_t la, lb, n2 = mss;
		uint32_t seq2 = 1000 + (uint32_t)mss;
		uint8_t fl1 = 0x10, fl2 = 0x10;
		struct offload_seg s;
		struct offload_gro r, before;
		enum offload_gro_why why;
		int fix = 1;

		switch (cases[i].m) {
		case G_BIGGER: n2 = mss + 4; break;
		case G_AFTER_PSH: fl1 = 0x18; break;
		case G_SEQ_GAP: seq2 += 1; break;
		case G_SEQ_DUP: seq2 = 1000; break;
		default: break;
		}
		la = build_tcp(a, v6, pl, mss, 1000, fl1);
		if (cases[i].m == G_AFTER_SHORT)
			seq2 = 1000 + 2 * (uint32_t)mss - 10;
		b = malloc(ip + 32 + n2 + 4);
		if (!b) {
			test_fail(__FILE__, __LINE__, "malloc");
			return;
		}
		lb = build_tcp(b, v6, pl + mss, n2, seq2, fl2);
		switch (cases[i].m) {
		case G_SRC: b[15] ^= 1; break;
		case G_DPORT: b[ip + 3] ^= 1; break;
		case G_TOS: b[1] = 0x10; break;
		case G_TTL: b[8] = 63; break;
		case G_NO_DF: p16(b + 6, 0); break;
		case G_IP_OPTS: b[0] = 0x46; break;
		case G_FRAG: p16(b + 6, 0x2000); break;
		case G_SYN: b[ip + 13] |= 0x02; break;
		case G_FIN: b[ip + 13] |= 0x01; break;
		case G_RST: b[ip + 13] |= 0x04; break;
		case G_URG: b[ip + 13] |= 0x20; break;
		case G_ECE: b[ip + 13] |= 0x40; break;
		case G_CWR: b[ip + 13] |= 0x80; break;
		case G_NO_ACK: b[ip + 13] = 0x08; break;
		case G_PURE_ACK:
			lb = ip + 32;
			if (v6)
				p16(b + 4, 32);
			else
				p16(b + 2, (unsigned)lb);
			break;
		case G_ACK_NUM: b[ip + 11] ^= 1; break;
		case G_WINDOW: b[ip + 15] ^= 1; break;
		case G_OPTS: b[ip + 31] ^= 1; break; /* TSecr */
		case G_OPTLEN:
			/* the same segment with 8 bytes of options (doff 7) */
			memmove(b + ip + 28, b + ip + 32, n2);
			b[ip + 12] = 7 << 4;
			lb -= 4;
			p16(b + 2, (unsigned)lb);
			break;
		case G_BAD_TCP_CSUM: b[ip + 40] ^= 0x55; fix = 0; break;
		case G_BAD_IP_CSUM: b[10] ^= 1; fix = 0; break;
		case G_LEN_MISMATCH: lb -= 1; fix = 0; break;
		case G_NOT_IP: b[0] = 0x20 | (b[0] & 0x0f); fix = 0; break;
		case G_UDP: b[9] = 17; break;
		case G_V6_FLOWLABEL: b[3] ^= 1; break;
		case G_V6_HOPLIMIT: b[7] = 1; break;
		case G_V6_EXTHDR: b[6] = 0; break; /* hop-by-hop options */
		case G_V6_DST: b[39] ^= 1; break;
		case G_V6_VS_V4: lb = build_tcp(b, 0, pl + mss, n2, seq2, fl2); break;
		default: break;
		}
		if (fix) {
			if ((b[0] >> 4) == 4 && (b[0] & 15) == 5)
				set_ip4_csum(b);
			if (cases[i].m != G_UDP && cases[i].m != G_V6_EXTHDR && cases[i].m != G_IP_OPTS)
				set_l4_csum(b, lb);
		}
		CHECK_EQ(offload_gro_parse(&s, a, la), OFFLOAD_GRO_OK);
		offload_gro_start(&r, &s);
		if (cases[i].m == G_AFTER_SHORT) {
			/* a shorter second segment joins, and closes the run */
			uint8_t c[40 + 32 + MSS4];
			size_t lc = build_tcp(c, v6, pl + mss, mss - 10, 1000 + (uint32_t)mss, 0x10);

			CHECK_EQ(offload_gro_parse(&s, c, lc), OFFLOAD_GRO_OK);
			CHECK_EQ(offload_gro_append(&r, &s), OFFLOAD_GRO_OK);
			CHECK(r.closed);
			la += mss - 10;
		}
		before = r;
		why = offload_gro_parse(&s, b, lb);
		if (why == OFFLOAD_GRO_OK)
			why = offload_gro_append(&r, &s);
		if (why != cases[i].want)
			test_fail(__FILE__, __LINE__, "case %zu (mutation %d): got %d, want %d", i,
				  cases[i].m, why, cases[i].want);
		if (why != OFFLOAD_GRO_OK && memcmp(&r, &before, sizeof(r)) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: refused but the run changed", i);
		if (why == OFFLOAD_GRO_OK && cases[i].m == G_OK) {
			CHECK_EQ(r.n, 2);
			CHECK_EQ(r.len, la + n2);
		}
		free(b);
	}
}

/* Checksum helpers against RFC 1071 §3's worked example: the words
 * 0001 f203 f4f5 f6f7 sum to 0xddf2 after folding. */
TEST(offload_csum_rfc1071_example)
{
	static const uint8_t d[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint16_t s = offload_csum_fold(offload_csum_add(0, d, sizeof(d)));
	uint8_t be[2];

	memcpy(be, &s, 2); /* host order as stored: the bytes on the wire */
	CHECK_EQ(g16(be), 0xddf2);
	/* odd length: a trailing byte counts as the high half of a word */
	s = offload_csum_fold(offload_csum_add(0, d, 7));
	memcpy(be, &s, 2);
	CHECK_EQ(g16(be), fold(sum_bytes(0, d, 7)));
}

/* ---- UDP coalescing (USO into the TUN) --------------------------------- */

/*
 * An IPv4 or IPv6 UDP datagram, ports 40000 -> 5201, DF, TTL 64, IPv4 ID
 * id, the given payload; checksums complete (RFC 768 over the pseudo-header
 * of RFC 791 / RFC 8200 §8.1).
 */
static size_t build_udp(uint8_t *b, int v6, const uint8_t *payload, size_t plen, unsigned id)
{
	size_t ip = v6 ? 40 : 20, len = ip + 8 + plen;
	uint8_t *u = b + ip;

	memset(b, 0, ip + 8);
	if (v6) {
		b[0] = 0x60;
		p16(b + 4, (unsigned)(len - 40));
		b[6] = 17;
		b[7] = 64;
		b[8] = 0xfd;
		b[9] = 0x01;
		b[23] = 1;
		b[24] = 0xfd;
		b[25] = 0x02;
		b[39] = 1;
	} else {
		b[0] = 0x45;
		p16(b + 2, (unsigned)len);
		p16(b + 4, id);
		p16(b + 6, 0x4000);
		b[8] = 64;
		b[9] = 17;
		b[12] = 10, b[13] = 201, b[14] = 1, b[15] = 1;
		b[16] = 10, b[17] = 201, b[18] = 2, b[19] = 1;
	}
	p16(u, 40000);
	p16(u + 2, 5201);
	p16(u + 4, (unsigned)(len - ip));
	memcpy(b + ip + 8, payload, plen);
	if (!v6)
		set_ip4_csum(b);
	set_l4_csum(b, len);
	return len;
}

/*
 * A run of nseg datagrams of dlen bytes and a last of `last` bytes: merged
 * into one GSO_UDP_L4 super-packet (lengths, partial checksum, virtio
 * header), and cut again by offload_tun_in/offload_gso_segment, which
 * stand in for the kernel's __udp_gso_segment, it gives back exactly the
 * datagrams that went in (RFC 768: boundaries are the application's).
 */
static void check_ugro(int v6, unsigned nseg, size_t dlen, size_t last)
{
	const size_t ip = v6 ? 40 : 20, hdr = ip + 8;
	const size_t total_pl = (nseg - 1) * dlen + last;
	uint8_t *pl = malloc(total_pl), *segs = malloc((size_t)nseg * CAP), *whole = malloc(65536);
	struct offload_gro r;
	struct offload_vnet v;
	size_t lens[64], pos;
	uint8_t first[CAP];

	if (!pl || !segs || !whole || nseg > 64 || nseg < 2) {
		test_fail(__FILE__, __LINE__, "set-up");
		goto out;
	}
	fill(pl, total_pl, 9);
	for (unsigned i = 0; i < nseg; i++) {
		size_t n = i + 1 < nseg ? dlen : last;
		struct offload_seg s;

		lens[i] = build_udp(segs + (size_t)i * CAP, v6, pl + i * dlen, n, 0x1000 + i);
		CHECK_EQ(offload_gro_parse(&s, segs + (size_t)i * CAP, lens[i]), OFFLOAD_GRO_NOT_TCP);
		CHECK_EQ(offload_gro_parse_udp(&s, segs + (size_t)i * CAP, lens[i]), OFFLOAD_GRO_OK);
		CHECK(s.udp);
		CHECK_EQ(s.payload, n);
		if (i == 0)
			offload_gro_start(&r, &s);
		else
			CHECK_EQ(offload_gro_append(&r, &s), OFFLOAD_GRO_OK);
	}
	CHECK_EQ(r.n, nseg);
	CHECK(r.udp);
	CHECK_EQ(r.closed, last < dlen);
	memcpy(first, segs, lens[0]);
	offload_gro_finish(&r, &v);
	memcpy(whole, segs, lens[0]);
	pos = lens[0];
	for (unsigned i = 1; i < nseg; i++) {
		memcpy(whole + pos, segs + (size_t)i * CAP + hdr, lens[i] - hdr);
		pos += lens[i] - hdr;
	}
	CHECK_EQ(pos, hdr + total_pl);
	CHECK_EQ(r.len, pos);
	CHECK_MEM(whole + hdr, pl, total_pl);
	CHECK_EQ(v.flags, OFFLOAD_F_NEEDS_CSUM);
	CHECK_EQ(v.gso_type, OFFLOAD_GSO_UDP_L4);
	CHECK_EQ(v.gso_size, dlen);
	CHECK_EQ(v.hdr_len, hdr);
	CHECK_EQ(v.csum_start, ip);
	CHECK_EQ(v.csum_offset, 6);
	if (v6) {
		CHECK_EQ(g16(whole + 4), pos - 40);
	} else {
		CHECK_EQ(g16(whole + 2), pos);
		CHECK(ip4_ok(whole));
	}
	CHECK_EQ(g16(whole + ip + 4), pos - ip);
	CHECK_EQ(g16(whole + ip + 6), fold(pseudo(whole, pos - ip)));
	{
		struct offload_gso g;
		uint8_t out[CAP];

		CHECK_EQ(offload_tun_in(&g, &v, whole, pos, CAP), 1);
		CHECK(g.udp);
		CHECK_EQ(g.n, nseg);
		memcpy(segs, first, lens[0]);
		for (unsigned i = 0; i < g.n && i < nseg; i++) {
			size_t n = offload_gso_segment(&g, i, out, sizeof(out));

			CHECK_EQ(n, lens[i]);
			CHECK_MEM(out, segs + (size_t)i * CAP, n);
		}
	}
out:
	free(pl);
	free(segs);
	free(whole);
}

TEST(offload_ugro4_rfc768_merges_run)
{
	check_ugro(0, 2, 1300, 1300);
	check_ugro(0, 12, 1300, 17);  /* a shorter last one closes it */
	check_ugro(0, 50, 1300, 1300); /* 50 * 1300 + 28 < 65535 */
	check_ugro(0, 64, 100, 1);
}

TEST(offload_ugro6_rfc8200_merges_run)
{
	check_ugro(1, 12, 1232, 1232);
	check_ugro(1, 3, 1, 1); /* one-byte datagrams */
}

/* Limits: OFFLOAD_GRO_MAX_SEGS datagrams, 65535 bytes. */
static unsigned fill_urun(size_t plen)
{
	uint8_t a[20 + 8 + 1300], pl[1300];
	struct offload_seg s;
	struct offload_gro r;
	unsigned i;

	fill(pl, plen, 2);
	CHECK_EQ(offload_gro_parse_udp(&s, a, build_udp(a, 0, pl, plen, 1)), OFFLOAD_GRO_OK);
	offload_gro_start(&r, &s);
	for (i = 1; i < 200; i++) {
		uint8_t *b = malloc(28 + plen);
		enum offload_gro_why why;

		if (!b)
			break;
		CHECK_EQ(offload_gro_parse_udp(&s, b, build_udp(b, 0, pl, plen, 1 + i)),
			 OFFLOAD_GRO_OK);
		why = offload_gro_append(&r, &s);
		free(b);
		if (why != OFFLOAD_GRO_OK) {
			CHECK_EQ(why, OFFLOAD_GRO_FULL);
			break;
		}
	}
	CHECK(r.len <= OFFLOAD_MAX_PKT);
	CHECK_EQ(r.n, i);
	return r.n;
}

TEST(offload_ugro_full)
{
	CHECK_EQ(fill_urun(100), OFFLOAD_GRO_MAX_SEGS);
	CHECK_EQ(fill_urun(1300), (OFFLOAD_MAX_PKT - 28) / 1300);
}

enum umut {
	U_OK,
	U_SHORTER_OK, /* a shorter datagram joins (and closes the run) */
	U_BIGGER,
	U_AFTER_SHORT,
	U_SPORT,
	U_DST,
	U_TCP_RUN,
	U_TTL,
	U_TOS,
	U_NO_DF,
	U_FRAG,
	U_IP_OPTS,
	U_ZERO_CSUM,
	U_BAD_CSUM,
	U_BAD_IP_CSUM,
	U_UDP_LEN_SHORT,
	U_UDP_LEN_LONG,
	U_IP_LEN,
	U_NO_PAYLOAD,
	U_TRUNC_HDR,
	U_V6_FLOWLABEL,
	U_V6_EXTHDR,
	U_V6_ZERO_CSUM,
	U_V6_VS_V4,
};

/*
 * Table-driven: a one-datagram run, then a second datagram changed in
 * exactly one way; each change is refused with its reason (by
 * offload_gro_parse_udp or by offload_gro_append) and leaves the run as it
 * was, or, for the two that may join, is taken.
 */
TEST(offload_ugro_refuses_each_mismatch)
{
	static const struct {
		enum umut m;
		int v6;
		enum offload_gro_why want;
	} cases[] = {
	    {U_OK, 0, OFFLOAD_GRO_OK},
	    {U_OK, 1, OFFLOAD_GRO_OK},
	    {U_SHORTER_OK, 0, OFFLOAD_GRO_OK},
	    {U_BIGGER, 0, OFFLOAD_GRO_SIZE},
	    {U_BIGGER, 1, OFFLOAD_GRO_SIZE},
	    {U_AFTER_SHORT, 0, OFFLOAD_GRO_SIZE},
	    {U_SPORT, 0, OFFLOAD_GRO_FLOW},
	    {U_DST, 0, OFFLOAD_GRO_FLOW},
	    {U_DST, 1, OFFLOAD_GRO_FLOW},
	    {U_TCP_RUN, 0, OFFLOAD_GRO_FLOW},
	    {U_TTL, 0, OFFLOAD_GRO_IP_FIELDS},
	    {U_TTL, 1, OFFLOAD_GRO_IP_FIELDS},
	    {U_TOS, 0, OFFLOAD_GRO_IP_FIELDS},
	    {U_NO_DF, 0, OFFLOAD_GRO_IP_FIELDS},
	    {U_FRAG, 0, OFFLOAD_GRO_NOT_UDP},
	    {U_IP_OPTS, 0, OFFLOAD_GRO_NOT_UDP},
	    {U_ZERO_CSUM, 0, OFFLOAD_GRO_MALFORMED},
	    {U_BAD_CSUM, 0, OFFLOAD_GRO_MALFORMED},
	    {U_BAD_CSUM, 1, OFFLOAD_GRO_MALFORMED},
	    {U_BAD_IP_CSUM, 0, OFFLOAD_GRO_MALFORMED},
	    {U_UDP_LEN_SHORT, 0, OFFLOAD_GRO_MALFORMED},
	    {U_UDP_LEN_LONG, 1, OFFLOAD_GRO_MALFORMED},
	    {U_IP_LEN, 0, OFFLOAD_GRO_MALFORMED},
	    {U_NO_PAYLOAD, 0, OFFLOAD_GRO_NO_DATA},
	    {U_NO_PAYLOAD, 1, OFFLOAD_GRO_NO_DATA},
	    {U_TRUNC_HDR, 0, OFFLOAD_GRO_MALFORMED},
	    {U_TRUNC_HDR, 1, OFFLOAD_GRO_MALFORMED},
	    {U_V6_FLOWLABEL, 1, OFFLOAD_GRO_IP_FIELDS},
	    {U_V6_EXTHDR, 1, OFFLOAD_GRO_NOT_UDP},
	    {U_V6_ZERO_CSUM, 1, OFFLOAD_GRO_MALFORMED},
	    {U_V6_VS_V4, 0, OFFLOAD_GRO_FLOW},
	};
	const size_t dlen = 600;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const int v6 = cases[c].v6;
		const size_t ip = v6 ? 40 : 20;
		uint8_t pl[700], a[40 + 8 + 700], ref[sizeof(a)], *b;
		struct offload_seg sa, sb;
		struct offload_gro r, r0;
		enum offload_gro_why why;
		size_t la, lb, plen = dlen;
		int second_v6 = v6;

		fill(pl, sizeof(pl), (unsigned)c);
		la = build_udp(a, v6, pl, dlen, 1);
		memcpy(ref, a, la);
		CHECK_EQ(offload_gro_parse_udp(&sa, a, la), OFFLOAD_GRO_OK);
		offload_gro_start(&r, &sa);
		if (cases[c].m == U_AFTER_SHORT) {
			uint8_t s[40 + 8 + 100];
			struct offload_seg ss;

			CHECK_EQ(offload_gro_parse_udp(&ss, s, build_udp(s, v6, pl, 100, 2)),
				 OFFLOAD_GRO_OK);
			CHECK_EQ(offload_gro_append(&r, &ss), OFFLOAD_GRO_OK);
			CHECK(r.closed);
		}
		if (cases[c].m == U_SHORTER_OK)
			plen = dlen - 1;
		if (cases[c].m == U_BIGGER)
			plen = dlen + 1;
		if (cases[c].m == U_NO_PAYLOAD)
			plen = 0;
		if (cases[c].m == U_V6_VS_V4)
			second_v6 = 1;
		b = malloc(40 + 8 + 700);
		if (!b) {
			test_fail(__FILE__, __LINE__, "malloc");
			return;
		}
		lb = build_udp(b, second_v6, pl, plen, 3);
		switch (cases[c].m) {
		case U_SPORT:
			b[ip] ^= 1;
			set_l4_csum(b, lb);
			break;
		case U_DST:
			b[v6 ? 39 : 19] ^= 2;
			if (!v6)
				set_ip4_csum(b);
			set_l4_csum(b, lb);
			break;
		case U_TCP_RUN: {
			/* a TCP segment of the same addresses and ports */
			struct offload_seg st;

			lb = build_tcp(b, 0, pl, 100, 1, 0x10);
			CHECK_EQ(offload_gro_parse(&st, b, lb), OFFLOAD_GRO_OK);
			r0 = r;
			CHECK_EQ(offload_gro_append(&r, &st), OFFLOAD_GRO_FLOW);
			CHECK_MEM(&r, &r0, sizeof(r));
			free(b);
			CHECK_MEM(a, ref, la);
			continue;
		}
		case U_TTL:
			b[v6 ? 7 : 8] = 63;
			if (!v6)
				set_ip4_csum(b);
			break;
		case U_TOS:
			b[1] = 0x10;
			set_ip4_csum(b);
			break;
		case U_NO_DF:
			p16(b + 6, 0);
			set_ip4_csum(b);
			break;
		case U_FRAG:
			p16(b + 6, 0x2000);
			set_ip4_csum(b);
			break;
		case U_IP_OPTS:
			b[0] = 0x46;
			set_ip4_csum(b);
			break;
		case U_ZERO_CSUM:
			p16(b + ip + 6, 0);
			break;
		case U_BAD_CSUM:
			b[lb - 1] ^= 0x40;
			break;
		case U_BAD_IP_CSUM:
			b[10] ^= 1;
			break;
		case U_UDP_LEN_SHORT:
			p16(b + ip + 4, (unsigned)(lb - ip - 1));
			set_l4_csum(b, lb);
			break;
		case U_UDP_LEN_LONG:
			p16(b + ip + 4, (unsigned)(lb - ip + 1));
			set_l4_csum(b, lb);
			break;
		case U_IP_LEN:
			lb--; /* the IP header says one byte more than was read */
			break;
		case U_TRUNC_HDR:
			lb = ip + 7; /* the IP header claims the rest */
			p16(b + (v6 ? 4 : 2), v6 ? 7 : (unsigned)lb);
			if (!v6)
				set_ip4_csum(b);
			break;
		case U_V6_FLOWLABEL:
			b[3] = 0x99;
			break;
		case U_V6_EXTHDR:
			b[6] = 0; /* hop-by-hop options first */
			break;
		case U_V6_ZERO_CSUM:
			p16(b + ip + 6, 0);
			break;
		default:
			break;
		}
		why = offload_gro_parse_udp(&sb, b, lb);
		if (why == OFFLOAD_GRO_OK) {
			r0 = r;
			why = offload_gro_append(&r, &sb);
			if (why != OFFLOAD_GRO_OK)
				CHECK_MEM(&r, &r0, sizeof(r));
			else
				CHECK_EQ(r.len, r0.len + plen);
		}
		if (why != cases[c].want)
			test_fail(__FILE__, __LINE__, "case %zu (mutation %d, v6 %d): %d, want %d", c,
				  (int)cases[c].m, v6, (int)why, (int)cases[c].want);
		free(b);
		CHECK_MEM(a, ref, la); /* the run's first datagram is untouched */
	}
}
