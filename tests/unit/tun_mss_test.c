/*
 * MSS clamping (tun/mss.c). Every SYN here is built by hand; after a clamp
 * its TCP checksum is checked by a full recomputation over the pseudo-header
 * and segment, done byte by byte in this file (not the word-wise incremental
 * update of RFC 1624 that mss.c uses), and every byte other than the MSS
 * value and the checksum must be unchanged.
 */
#include "tests/unit/test.h"
#include "tun/mss.h"

#include <stdlib.h>

#define OFF_V4 20
#define OFF_V6 40

/* Independent checksum: the one's complement sum (RFC 1071 §1) of a byte
 * stream, even offsets being high-order bytes; carries folded at the end. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n, size_t *pos)
{
	for (size_t i = 0; i < n; i++, (*pos)++)
		sum += (*pos & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Sum of pseudo-header (RFC 9293 §3.1; RFC 8200 §8.1) and the segment. */
static uint16_t tcp_sum(const uint8_t *ip)
{
	uint8_t ph[40] = {0};
	size_t phlen, pos = 0, hl, tlen;
	uint32_t sum;

	if ((ip[0] >> 4) == 4) {
		hl = (size_t)(ip[0] & 15) * 4;
		tlen = (size_t)(ip[2] << 8 | ip[3]) - hl;
		memcpy(ph, ip + 12, 8);
		ph[9] = 6;
		ph[10] = (uint8_t)(tlen >> 8);
		ph[11] = (uint8_t)tlen;
		phlen = 12;
	} else {
		hl = OFF_V6;
		tlen = (size_t)(ip[4] << 8 | ip[5]);
		memcpy(ph, ip + 8, 32);
		ph[34] = (uint8_t)(tlen >> 8);
		ph[35] = (uint8_t)tlen;
		ph[39] = 6;
		phlen = 40;
	}
	sum = sum_bytes(0, ph, phlen, &pos);
	sum = sum_bytes(sum, ip + hl, tlen, &pos);
	return fold(sum);
}

/* Fill in the checksum from scratch. */
static void tcp_csum_set(uint8_t *ip)
{
	uint8_t *tcp = ip + ((ip[0] >> 4) == 4 ? (size_t)(ip[0] & 15) * 4 : OFF_V6);

	tcp[16] = tcp[17] = 0;
	uint16_t c = (uint16_t)~tcp_sum(ip);
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
}

/* A segment with a correct checksum sums to all ones. */
static int tcp_csum_ok(const uint8_t *ip)
{
	return tcp_sum(ip) == 0xffff;
}

static unsigned rng_state = 0x9e3779b9u;

static uint8_t rnd8(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (uint8_t)(rng_state >> 11);
}

/*
 * A SYN (or whatever flags) with the given options (padded with EOL to a
 * multiple of 4) and payload bytes, addresses/ports/sequence from the
 * generator. Returns the packet length.
 */
static size_t build(uint8_t *buf, int v6, uint8_t flags, const uint8_t *opt, size_t optlen,
                    size_t payload)
{
	size_t hl = v6 ? OFF_V6 : OFF_V4;
	size_t doff = 20 + ((optlen + 3) & ~(size_t)3);
	size_t tlen = doff + payload;
	uint8_t *tcp = buf + hl;

	memset(buf, 0, hl + tlen);
	if (v6) {
		buf[0] = 0x60;
		buf[4] = (uint8_t)(tlen >> 8);
		buf[5] = (uint8_t)tlen;
		buf[6] = 6;
		buf[7] = 64;
		buf[8] = 0xfd;
		buf[24] = 0xfd;
		for (int i = 9; i < 24; i++)
			buf[i] = rnd8();
		for (int i = 25; i < 40; i++)
			buf[i] = rnd8();
	} else {
		buf[0] = 0x45;
		buf[2] = (uint8_t)((hl + tlen) >> 8);
		buf[3] = (uint8_t)(hl + tlen);
		buf[4] = rnd8();
		buf[5] = rnd8();
		buf[6] = 0x40; /* DF: not a fragment */
		buf[8] = 64;
		buf[9] = 6;
		buf[12] = 10;
		buf[16] = 10;
		for (int i = 13; i < 16; i++)
			buf[i] = rnd8();
		for (int i = 17; i < 20; i++)
			buf[i] = rnd8();
	}
	for (int i = 0; i < 12; i++)
		tcp[i] = rnd8(); /* ports, sequence, acknowledgment */
	tcp[12] = (uint8_t)(doff / 4) << 4;
	tcp[13] = flags;
	tcp[14] = 0xfa;
	tcp[15] = 0xf0;
	if (optlen)
		memcpy(tcp + 20, opt, optlen);
	for (size_t i = 0; i < payload; i++)
		tcp[doff + i] = rnd8();
	tcp_csum_set(buf);
	return hl + tlen;
}

/* Clamp and check: returns mss_clamp's result; verifies that the packet's
 * checksum is right afterwards and that only the two MSS bytes and the two
 * checksum bytes may differ from the original. */
static int clamp_checked(uint8_t *pkt, size_t len, unsigned mtu, size_t mss_at)
{
	uint8_t before[256];
	size_t tcp = (pkt[0] >> 4) == 4 ? OFF_V4 : OFF_V6;
	int rc;

	memcpy(before, pkt, len);
	rc = mss_clamp(pkt, len, mtu);
	CHECK(tcp_csum_ok(pkt));
	for (size_t i = 0; i < len; i++) {
		if (rc == 1 && (i == mss_at || i == mss_at + 1 || i == tcp + 16 || i == tcp + 17))
			continue;
		if (pkt[i] != before[i])
			test_fail(__FILE__, __LINE__, "byte %zu changed (rc %d)", i, rc);
	}
	return rc;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

/* Linux's SYN options: MSS, SACK permitted, timestamps, NOP, window scale. */
static const uint8_t linux_opts[] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0x12, 0x34,
                                     0x56, 0x78, 0,    0,    0, 0, 1, 3,  3,    7};

TEST(mss_rfc9293_3_7_1_for_mtu)
{
	/* MSS = MTU minus the fixed IP and TCP headers (RFC 9293 §3.7.1). */
	CHECK_EQ(mss_for_mtu(1500, 0), 1500 - 20 - 20);
	CHECK_EQ(mss_for_mtu(1500, 1), 1500 - 40 - 20);
	CHECK_EQ(mss_for_mtu(1280, 1), 1280 - 60);
	CHECK_EQ(mss_for_mtu(68, 0), 68 - 40);
	CHECK_EQ(mss_for_mtu(40, 0), 0);
	CHECK_EQ(mss_for_mtu(60, 1), 0);
	CHECK_EQ(mss_for_mtu(0, 0), 0);
	CHECK_EQ(mss_for_mtu(100000, 0), 0xffff);
}

/* The packet our own checksum routine is trusted on: a SYN written by
 * scapy (10.0.0.1:40000 -> 10.0.0.2:80, MSS 1460, window scale 7), whose
 * checksum scapy computed. */
TEST(mss_rfc1071_test_checksum_matches_scapy)
{
	uint8_t pkt[64];
	int n = test_unhex("4500003000010000400666c50a0000010a0000029c400050000003e8000000007002"
	                   "2000af9d0000020405b401030307",
	                   pkt, sizeof(pkt));

	CHECK_EQ(n, 48);
	CHECK(tcp_csum_ok(pkt));
	pkt[30] ^= 1;
	CHECK(!tcp_csum_ok(pkt));
	pkt[30] ^= 1;
	CHECK_EQ(clamp_checked(pkt, 48, 1400, 42), 1);
	CHECK_EQ(get16(pkt + 42), 1360);
}

TEST(mss_rfc1624_v4_syn_first_option)
{
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x02, linux_opts, sizeof(linux_opts), 0);

	CHECK_EQ(clamp_checked(pkt, len, 1400, OFF_V4 + 22), 1);
	CHECK_EQ(get16(pkt + OFF_V4 + 22), 1360);
	/* Once clamped, a second pass has nothing to do. */
	CHECK_EQ(clamp_checked(pkt, len, 1400, OFF_V4 + 22), 0);
}

TEST(mss_rfc1624_v4_synack_option_late)
{
	/* SYN-ACK, MSS after other options at an even offset. */
	static const uint8_t opt[] = {1, 1, 4, 2, 2, 4, 0x23, 0x28};
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x12, opt, sizeof(opt), 0);

	CHECK_EQ(clamp_checked(pkt, len, 1280, OFF_V4 + 26), 1);
	CHECK_EQ(get16(pkt + OFF_V4 + 26), 1240);
}

TEST(mss_rfc1071_v4_option_at_odd_offset)
{
	/* Window scale (3 bytes) first: the MSS value straddles two 16-bit
	 * words of the checksum. */
	static const uint8_t opt[] = {3, 3, 7, 2, 4, 0xff, 0xd7, 0};
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x02, opt, sizeof(opt), 0);

	CHECK_EQ(clamp_checked(pkt, len, 1500, OFF_V4 + 25), 1);
	CHECK_EQ(get16(pkt + OFF_V4 + 25), 1460);
}

TEST(mss_rfc1624_v6_syn)
{
	uint8_t pkt[128];
	size_t len = build(pkt, 1, 0x02, linux_opts, sizeof(linux_opts), 0);

	CHECK_EQ(clamp_checked(pkt, len, 1400, OFF_V6 + 22), 1);
	CHECK_EQ(get16(pkt + OFF_V6 + 22), 1340);
}

TEST(mss_rfc1071_v6_synack_odd_offset)
{
	static const uint8_t opt[] = {1, 3, 3, 7, 1, 2, 4, 0x3f, 0xc4, 0, 0, 0};
	uint8_t pkt[128];
	size_t len = build(pkt, 1, 0x12, opt, sizeof(opt), 0);

	CHECK_EQ(clamp_checked(pkt, len, 1280, OFF_V6 + 27), 1);
	CHECK_EQ(get16(pkt + OFF_V6 + 27), 1220);
}

TEST(mss_rfc1624_random_positions_and_values)
{
	/* Random MSS values, NOP/window-scale runs before the option (every
	 * alignment), random addresses and ports, some payload (SYN data,
	 * RFC 7413): the checksum must always verify afterwards. */
	unsigned clamped = 0;

	for (int round = 0; round < 2000; round++) {
		uint8_t opt[40], pkt[256];
		size_t o = 0, len, at;
		int v6 = round & 1;
		unsigned mtu = 576 + (unsigned)(rnd8() << 8 | rnd8()) % 9000;
		unsigned mss = (unsigned)(rnd8() << 8 | rnd8());
		unsigned want = mss_for_mtu(mtu, v6);
		int rc;

		for (int k = rnd8() % 6; k > 0; k--) {
			if (rnd8() & 1) {
				opt[o++] = 1;
			} else {
				opt[o++] = 3;
				opt[o++] = 3;
				opt[o++] = rnd8() % 15;
			}
		}
		at = (v6 ? OFF_V6 : OFF_V4) + 20 + o + 2;
		opt[o++] = 2;
		opt[o++] = 4;
		opt[o++] = (uint8_t)(mss >> 8);
		opt[o++] = (uint8_t)mss;
		len = build(pkt, v6, rnd8() & 1 ? 0x12 : 0x02, opt, o, rnd8() % 64);
		rc = clamp_checked(pkt, len, mtu, at);
		CHECK_EQ(rc, mss > want);
		CHECK_EQ(get16(pkt + at), mss > want ? want : mss);
		clamped += (unsigned)rc;
	}
	CHECK(clamped > 500); /* the table above did exercise the clamp */
}

TEST(mss_rfc9293_3_2_no_mss_option)
{
	static const uint8_t opt[] = {1, 1, 4, 2, 1, 3, 3, 7};
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x02, opt, sizeof(opt), 0);

	CHECK_EQ(clamp_checked(pkt, len, 1280, 0), 0);
	len = build(pkt, 1, 0x02, NULL, 0, 0);
	CHECK_EQ(clamp_checked(pkt, len, 1280, 0), 0);
}

TEST(mss_rfc9293_3_7_1_already_small)
{
	static const uint8_t opt536[] = {2, 4, 0x02, 0x18};
	static const uint8_t opt1360[] = {2, 4, 0x05, 0x50};
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x02, opt536, 4, 0);

	CHECK_EQ(clamp_checked(pkt, len, 1400, 0), 0);
	/* Exactly the clamp value: unchanged too. */
	len = build(pkt, 0, 0x02, opt1360, 4, 0);
	CHECK_EQ(clamp_checked(pkt, len, 1400, 0), 0);
	len = build(pkt, 1, 0x02, opt536, 4, 0);
	CHECK_EQ(clamp_checked(pkt, len, 1400, 0), 0);
}

TEST(mss_rfc9293_3_1_only_syn_segments)
{
	/* An ACK (or RST) carrying an MSS option is not a SYN: left alone. */
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x10, linux_opts, sizeof(linux_opts), 0);

	CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
	len = build(pkt, 1, 0x04, linux_opts, sizeof(linux_opts), 0);
	CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
}

TEST(mss_rfc9293_3_2_eol_ends_options)
{
	/* After End of Option List the rest is padding, even if it looks
	 * like an MSS option. */
	static const uint8_t opts[][8] = {
	    {1, 0, 2, 4, 0x05, 0xb4, 0, 0},
	    {0, 2, 4, 0x05, 0xb4, 0, 0, 0}, /* read as NOP, an MSS would follow */
	    {0, 2, 2, 4, 0x05, 0xb4, 0, 0}, /* read as kind 0 length 2, too */
	};
	uint8_t pkt[128];

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t len = build(pkt, (int)(i & 1), 0x02, opts[i], sizeof(opts[i]), 0);

		CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
	}
}

TEST(mss_rfc9293_3_2_malformed_options)
{
	static const struct {
		uint8_t opt[12];
		size_t len;
	} bad[] = {
	    {{2, 3, 0x05, 0xb4}, 4},        /* MSS with length 3 */
	    {{2, 5, 0x05, 0xb4, 0}, 8},     /* MSS with length 5 */
	    {{8, 0, 2, 4, 0x05, 0xb4}, 8},  /* length 0: would not advance */
	    {{8, 1, 2, 4, 0x05, 0xb4}, 8},  /* length 1 */
	    {{1, 1, 1, 8, 20, 0, 0, 0}, 8}, /* runs past the data offset */
	    {{1, 1, 1, 2}, 4},              /* MSS kind as the last byte */
	    {{1, 1, 2, 4}, 4},              /* MSS value past the header */
	};
	uint8_t pkt[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int v6 = 0; v6 < 2; v6++) {
			size_t len = build(pkt, v6, 0x02, bad[i].opt, bad[i].len, 0);
			/* exactly sized, so AddressSanitizer sees a read past
			 * the options (there is no payload) */
			uint8_t *b = malloc(len);

			CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
			REQUIRE(b != NULL);
			memcpy(b, pkt, len);
			CHECK_EQ(mss_clamp(b, len, 1000), 0);
			free(b);
		}
}

TEST(mss_rfc9293_3_2_option_ends_at_data_offset)
{
	/* The MSS kind and length are the last two bytes of the header and
	 * the payload starts with what would be its value: the option is cut
	 * by the data offset, and the payload is never read as options. */
	static const uint8_t opt[] = {1, 1, 2, 4};
	uint8_t pkt[128];

	for (int v6 = 0; v6 < 2; v6++) {
		size_t len = build(pkt, v6, 0x02, opt, sizeof(opt), 8);
		size_t pay = (v6 ? OFF_V6 : OFF_V4) + 24;

		pkt[pay] = 0x05;
		pkt[pay + 1] = 0xb4;
		pkt[pay + 2] = 2;
		pkt[pay + 3] = 4;
		pkt[pay + 4] = 0x05;
		pkt[pay + 5] = 0xb4;
		tcp_csum_set(pkt);
		CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
	}
}

TEST(mss_rfc9293_3_2_doff_bounds)
{
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x02, linux_opts, sizeof(linux_opts), 0);

	/* Data offset below the minimum header, and beyond the segment. */
	pkt[OFF_V4 + 12] = 4 << 4;
	tcp_csum_set(pkt);
	CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
	pkt[OFF_V4 + 12] = 15 << 4;
	tcp_csum_set(pkt);
	CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
}

TEST(mss_truncated_packets_untouched)
{
	/* Every prefix of a valid SYN, in a buffer of exactly that size (so
	 * that AddressSanitizer sees any read past it), headers still
	 * claiming the full length. */
	for (int v6 = 0; v6 < 2; v6++) {
		uint8_t pkt[128];
		size_t len = build(pkt, v6, 0x02, linux_opts, sizeof(linux_opts), 0);

		for (size_t k = 0; k < len; k++) {
			uint8_t *b = malloc(k ? k : 1);

			REQUIRE(b != NULL);
			memcpy(b, pkt, k);
			CHECK_EQ(mss_clamp(b, k, 1000), 0);
			CHECK(k == 0 || memcmp(b, pkt, k) == 0);
			free(b);
		}
		/* The full packet in the same kind of buffer is clamped. */
		uint8_t *b = malloc(len);

		REQUIRE(b != NULL);
		memcpy(b, pkt, len);
		CHECK_EQ(mss_clamp(b, len, 1000), 1);
		CHECK(tcp_csum_ok(b));
		free(b);
	}
}

TEST(mss_rfc791_ip_lengths)
{
	uint8_t pkt[160];
	size_t len = build(pkt, 0, 0x02, linux_opts, sizeof(linux_opts), 0);

	/* Trailing bytes beyond the IP total length (link padding) do not
	 * matter: the total length bounds the segment. */
	memset(pkt + len, 0xee, 20);
	CHECK_EQ(clamp_checked(pkt, len + 20, 1000, OFF_V4 + 22), 1);

	len = build(pkt, 0, 0x02, linux_opts, sizeof(linux_opts), 0);
	pkt[0] = 0x44; /* IHL 16 bytes: below the minimum */
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
	pkt[0] = 0x4f; /* IHL 60 > total length of 60 minus TCP: data offset beyond */
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
	pkt[0] = 0x45;
	pkt[2] = 0;
	pkt[3] = 19; /* total length below the header */
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
	pkt[3] = (uint8_t)(len + 1); /* total length beyond the buffer */
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
	pkt[3] = (uint8_t)len;
	pkt[9] = 17; /* UDP */
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
	pkt[9] = 6;
	pkt[0] = 0x55; /* not IPv4 or IPv6 */
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
	pkt[0] = 0x45;
	CHECK_EQ(mss_clamp(pkt, len, 1000), 1);
}

TEST(mss_rfc791_fragments_untouched)
{
	uint8_t pkt[128];
	size_t len = build(pkt, 0, 0x02, linux_opts, sizeof(linux_opts), 0);

	pkt[6] = 0x00;
	pkt[7] = 0x01; /* offset 8: no TCP header here, whatever it looks like */
	CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
	pkt[6] = 0x20;
	pkt[7] = 0x00; /* first fragment (MF) */
	CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
	pkt[6] = 0x1f;
	pkt[7] = 0xff; /* last fragment, largest offset */
	CHECK_EQ(clamp_checked(pkt, len, 1000, 0), 0);
	pkt[6] = 0x40; /* DF only: a whole datagram */
	pkt[7] = 0x00;
	CHECK_EQ(clamp_checked(pkt, len, 1000, OFF_V4 + 22), 1);
}

TEST(mss_rfc8200_4_extension_headers_untouched)
{
	uint8_t pkt[192], seg[128];
	size_t len = build(pkt, 1, 0x02, linux_opts, sizeof(linux_opts), 0);
	size_t tlen = len - OFF_V6;

	/*
	 * A 24-byte Hop-by-Hop or Destination Options header (one PadN
	 * option) in front of the same segment. Its padding is chosen so that,
	 * read as a TCP header, it would be a SYN (byte 13) with a data
	 * offset of 24 (byte 12) and an MSS option of 1460 (bytes 20-23).
	 */
	memcpy(seg, pkt + OFF_V6, tlen);
	for (int nh = 0; nh <= 60; nh += 60) {
		uint8_t *ext = pkt + OFF_V6;

		memset(ext, 0, 24);
		ext[0] = 6;  /* next header: TCP */
		ext[1] = 2;  /* (2 + 1) * 8 bytes */
		ext[2] = 1;  /* PadN */
		ext[3] = 20; /* to the end of the header */
		ext[12] = 6 << 4;
		ext[13] = 0x02;
		ext[20] = 2;
		ext[21] = 4;
		ext[22] = 0x05;
		ext[23] = 0xb4;
		memcpy(ext + 24, seg, tlen);
		pkt[4] = (uint8_t)((tlen + 24) >> 8);
		pkt[5] = (uint8_t)(tlen + 24);
		pkt[6] = (uint8_t)nh;
		CHECK_EQ(mss_clamp(pkt, len + 24, 1000), 0);
		CHECK_EQ(ext[22], 0x05);
		CHECK_EQ(ext[23], 0xb4);
		CHECK_MEM(ext + 24, seg, tlen);
	}

	/* IPv6 lengths: payload beyond the buffer, and a jumbogram's 0. */
	len = build(pkt, 1, 0x02, linux_opts, sizeof(linux_opts), 0);
	pkt[5]++;
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
	pkt[4] = pkt[5] = 0;
	CHECK_EQ(mss_clamp(pkt, len, 1000), 0);
}
