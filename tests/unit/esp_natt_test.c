/* Port-4500 demultiplexing (RFC 3948 §2). */
#include "esp/natt.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/unit/test.h"

TEST(natt_rfc3948_2_classify)
{
	static const struct {
		const char *hex;
		enum natt_kind want;
	} rows[] = {
	    {"ff", NATT_KEEPALIVE}, /* §2.3 */
	    {"ff00", NATT_INVALID}, /* keepalive is one octet */
	    {"", NATT_INVALID},
	    {"01", NATT_INVALID},
	    {"00000000", NATT_IKE}, /* §2.2 non-ESP marker */
	    {"00000000 11223344 55667788", NATT_IKE},
	    {"00000001 00000001", NATT_ESP},   /* §2.1: SPI, seq */
	    {"00000001 000000", NATT_INVALID}, /* < 8 and not a keepalive */
	    {"c0ffee00 00000001 0102030405060708", NATT_ESP},
	    {"000000ff", NATT_INVALID},
	    {"00000100 00000000", NATT_ESP},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t buf[64];
		int n = test_unhex(rows[i].hex, buf, sizeof(buf));

		CHECK(n >= 0);
		if (natt_classify(buf, (size_t)n) != rows[i].want)
			test_fail(__FILE__, __LINE__, "row %zu (%s): got %d, want %d", i,
			          rows[i].hex, natt_classify(buf, (size_t)n), rows[i].want);
	}
}

/*
 * UDP_GRO receives: every datagram of a coalesced buffer comes back with
 * its own boundaries (RFC 3948 §2: each is one ESP packet, IKE message or
 * keepalive; RFC 768: a datagram is delivered whole or not at all).
 */
TEST(natt_rfc3948_2_gro_split)
{
	static const struct {
		size_t len, seg;
		long want; /* datagrams, -1: not a UDP_GRO buffer */
	} rows[] = {
	    {1400, 1400, 1},  /* one full datagram */
	    {2800, 1400, 2},  /* two full */
	    {2801, 1400, 3},  /* a last one of 1 byte */
	    {4199, 1400, 3},  /* a last one of 1399 */
	    {65000, 1000, 65},
	    {64 * 1422, 1422, 64},
	    {7, 1, 7},
	    {1, 1, 1},
	    {1399, 1400, -1}, /* gso_size larger than the buffer */
	    {1400, 0, -1},    /* gso_size 0 */
	    {0, 1400, -1},    /* empty */
	    {0, 0, -1},
	};
	static uint8_t buf[65536];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct natt_gro g;
		long n = natt_gro_init(&g, buf, rows[i].len, rows[i].seg);
		size_t total = 0, len;
		long k = 0;
		uint8_t *p;

		if (n != rows[i].want) {
			test_fail(__FILE__, __LINE__, "row %zu: %ld datagrams, want %ld", i, n,
			          rows[i].want);
			continue;
		}
		if (n < 0)
			continue;
		while ((len = natt_gro_next(&g, &p)) != 0) {
			size_t want = rows[i].len - total < rows[i].seg ? rows[i].len - total
			                                                : rows[i].seg;

			/* back to back: each starts where the previous ended */
			CHECK(p == buf + total);
			CHECK_EQ(len, want);
			total += len;
			k++;
			if (k > n)
				break;
		}
		CHECK_EQ(k, n);
		CHECK_EQ(total, rows[i].len);
		CHECK_EQ(natt_gro_next(&g, &p), 0); /* stays at the end */
	}
}

/* §2.1-2.3: the kinds are told apart per datagram, never per buffer: a
 * keepalive or an IKE message that ends a coalesced run is still one. */
TEST(natt_rfc3948_2_gro_kinds_per_datagram)
{
	uint8_t buf[8 + 8 + 8 + 1];
	enum natt_kind want[] = {NATT_ESP, NATT_IKE, NATT_ESP, NATT_KEEPALIVE};
	struct natt_gro g;
	size_t len, k = 0;
	uint8_t *p;

	CHECK(test_unhex("00000101 00000001"   /* ESP, SPI 0x101, seq 1 */
	                 "00000000 aabbccdd"   /* non-ESP marker: IKE */
	                 "00000101 00000002"   /* ESP, seq 2 */
	                 "ff",                 /* keepalive */
	                 buf, sizeof(buf)) == (int)sizeof(buf));
	CHECK_EQ(natt_gro_init(&g, buf, sizeof(buf), 8), 4);
	/* as one buffer it would be taken for a single ESP packet */
	CHECK_EQ(natt_classify(buf, sizeof(buf)), NATT_ESP);
	while ((len = natt_gro_next(&g, &p)) != 0 && k < 4) {
		CHECK_EQ(natt_classify(p, len), want[k]);
		k++;
	}
	CHECK_EQ(k, 4);
}

/* Control data of one receive: `n` messages of (level, type, payload). */
struct cmsg_row {
	int level, type;
	size_t len; /* payload bytes */
	int val;
};

static void build_ctl(struct msghdr *m, void *ctl, size_t cap, const struct cmsg_row *rows,
                      size_t n, int flags)
{
	struct cmsghdr *c;
	size_t used = 0;

	memset(ctl, 0, cap);
	memset(m, 0, sizeof(*m));
	m->msg_control = ctl;
	m->msg_controllen = cap;
	c = CMSG_FIRSTHDR(m);
	for (size_t i = 0; i < n && c; i++) {
		c->cmsg_level = rows[i].level;
		c->cmsg_type = rows[i].type;
		c->cmsg_len = CMSG_LEN(rows[i].len);
		memcpy(CMSG_DATA(c), &rows[i].val,
		       rows[i].len < sizeof(rows[i].val) ? rows[i].len : sizeof(rows[i].val));
		used += CMSG_SPACE(rows[i].len);
		c = CMSG_NXTHDR(m, c);
	}
	m->msg_controllen = used;
	m->msg_flags = flags;
}

/* The UDP_GRO message is trusted only whole and sane: anything else drops
 * the receive rather than glue or cut datagrams (RFC 3948 §2). */
TEST(natt_rfc3948_2_gro_cmsg)
{
	static const struct cmsg_row pktinfo = {IPPROTO_IP, IP_PKTINFO, sizeof(struct in_pktinfo), 0};
	static const struct {
		struct cmsg_row c[2];
		size_t n;
		int flags;
		int want;
		size_t size;
	} rows[] = {
	    {{{0}}, 0, 0, 0, 0},                                   /* no control data */
	    {{pktinfo}, 1, 0, 0, 0},                               /* IKE's PKTINFO only */
	    {{pktinfo, {SOL_UDP, UDP_GRO, sizeof(int), 1422}}, 2, 0, 1, 1422},
	    {{{SOL_UDP, UDP_GRO, sizeof(int), 1422}, pktinfo}, 2, 0, 1, 1422},
	    {{{SOL_UDP, UDP_GRO, sizeof(int), 1}}, 1, 0, 1, 1},
	    {{pktinfo, {SOL_UDP, UDP_GRO, sizeof(int), 1422}}, 2, MSG_CTRUNC, -1, 0},
	    {{pktinfo}, 1, MSG_CTRUNC, -1, 0},                      /* may have lost it */
	    {{{SOL_UDP, UDP_GRO, sizeof(int), 0}}, 1, 0, -1, 0},   /* size 0 */
	    {{{SOL_UDP, UDP_GRO, sizeof(int), -1400}}, 1, 0, -1, 0},
	    {{{SOL_UDP, UDP_GRO, 2, 1422}}, 1, 0, -1, 0},          /* shorter than an int */
	    {{{SOL_UDP, UDP_SEGMENT, sizeof(int), 1422}}, 1, 0, 0, 0}, /* not ours */
	    {{{SOL_SOCKET, UDP_GRO, sizeof(int), 1422}}, 1, 0, 0, 0},  /* other level */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		union {
			char buf[256];
			struct cmsghdr align;
		} ctl;
		struct msghdr m;
		size_t size = 7777;
		int rc;

		build_ctl(&m, ctl.buf, sizeof(ctl.buf), rows[i].c, rows[i].n, rows[i].flags);
		rc = natt_gro_size(&m, &size);
		if (rc != rows[i].want)
			test_fail(__FILE__, __LINE__, "row %zu: %d, want %d", i, rc, rows[i].want);
		else if (rc == 1 && size != rows[i].size)
			test_fail(__FILE__, __LINE__, "row %zu: size %zu, want %zu", i, size,
			          rows[i].size);
	}
}
