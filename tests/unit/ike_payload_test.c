/*
 * ike/payload.c: every payload of RFC 7296 §3 (and SKF, RFC 7383 §2.5)
 * built, parsed back and compared; then, table-driven, every length field
 * of every payload made one too short and one too long, which must give the
 * documented error (never a crash: run this under SANITIZE=1 too).
 */
#include "ike/msg.h"
#include "ike/payload.h"

#include "tests/unit/test.h"

static const struct ike_hdr hdr0 = {
    .spi_i = 0x0123456789abcdefULL,
    .spi_r = 0,
    .exchange = IKE_SA_INIT,
    .flags = IKE_FLAG_I,
    .msg_id = 0,
};

static struct ike_msg m; /* ~12.5 KiB: not on the stack */

static const uint8_t nonce32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* --- one builder per payload, shared by round trips and the length table -- */

static void fill_sa_esp(struct ike_sa_pl *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->n_proposals = 1;
	sa->p[0].num = 1;
	sa->p[0].proto = IKE_PROTO_ESP;
	sa->p[0].spi_len = 4;
	memcpy(sa->p[0].spi, "\xc1\xc2\xc3\xc4", 4);
	sa->p[0].n_transforms = 2;
	sa->p[0].t[0] = (struct ike_transform){IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 256, false};
	sa->p[0].t[1] = (struct ike_transform){IKE_TRANS_ESN, IKE_ESN_NO, 0, false};
}

static int build_sa(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	static struct ike_sa_pl sa;

	fill_sa_esp(&sa);
	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_sa(&b, &sa);
	return ike_build_finish(&b, NULL);
}

/* An IKE proposal with a TLV attribute we do not know, by hand. */
static int build_sa_tlv(uint8_t *buf, size_t cap)
{
	static const uint8_t body[] = {
	    /* proposal: last, res, len 26, #1, IKE, SPI size 0, 1 transform */
	    0, 0, 0, 26, 1, IKE_PROTO_IKE, 0, 1,
	    /* transform: last, res, len 18, ENCR, res, AES_CBC */
	    0, 0, 0, 18, IKE_TRANS_ENCR, 0, 0, IKE_ENCR_AES_CBC,
	    /* TLV attribute type 1, length 2, value */
	    0x00, 0x01, 0x00, 0x02, 0xab, 0xcd,
	    /* TV Key Length 128 */
	    0x80, 0x0e, 0x00, 0x80};
	struct ike_build b;

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_raw(&b, IKE_PL_SA, false, body, sizeof(body));
	return ike_build_finish(&b, NULL);
}

static const uint8_t ke_data[32] = {0x42, 0x43, 0x44};

static int build_ke(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	struct ike_ke ke = {IKE_DH_CURVE25519, ke_data, sizeof(ke_data)};

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_ke(&b, &ke);
	return ike_build_finish(&b, NULL);
}

static int build_idi(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	struct ike_id id = {
	    .type = IKE_ID_IPV4_ADDR, .data = (const uint8_t *)"\xc0\x00\x02\x01", .len = 4};

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_id(&b, IKE_PL_IDI, &id);
	return ike_build_finish(&b, NULL);
}

static int build_cert(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	struct ike_cert c = {IKE_CERT_X509_SIG, (const uint8_t *)"\x30\x82\x01\x0a", 4};

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_cert(&b, IKE_PL_CERT, &c);
	return ike_build_finish(&b, NULL);
}

static int build_certreq(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	struct ike_cert c = {IKE_CERT_X509_SIG, nonce32, 20}; /* one SHA-1 hash */

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_cert(&b, IKE_PL_CERTREQ, &c);
	return ike_build_finish(&b, NULL);
}

static int build_auth(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	struct ike_auth a = {IKE_AUTH_PSK, nonce32, 32};

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_auth(&b, &a);
	return ike_build_finish(&b, NULL);
}

static int build_nonce(uint8_t *buf, size_t cap)
{
	struct ike_build b;

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_nonce(&b, nonce32, 32);
	return ike_build_finish(&b, NULL);
}

static int build_notify(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	struct ike_notify n = {IKE_PROTO_ESP,         4, {0xde, 0xad, 0xbe, 0xef}, IKE_N_REKEY_SA,
	                       (const uint8_t *)"xy", 2};

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_notify(&b, &n);
	return ike_build_finish(&b, NULL);
}

static int build_delete(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	struct ike_delete d = {IKE_PROTO_ESP, 4, 2,
	                       (const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08"};

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_delete(&b, &d);
	return ike_build_finish(&b, NULL);
}

static int build_vendor(uint8_t *buf, size_t cap)
{
	struct ike_build b;

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_vendor(&b, (const uint8_t *)"tunsec-vid", 10);
	return ike_build_finish(&b, NULL);
}

static void fill_ts(struct ike_ts_pl *tp)
{
	memset(tp, 0, sizeof(*tp));
	tp->n_ts = 2;
	tp->ts[0].type = IKE_TS_IPV4_ADDR_RANGE;
	tp->ts[0].proto = 17;
	tp->ts[0].start_port = 500;
	tp->ts[0].end_port = 4500;
	memcpy(tp->ts[0].start, "\x0a\x00\x00\x00", 4);
	memcpy(tp->ts[0].end, "\x0a\x00\x00\xff", 4);
	tp->ts[1].type = IKE_TS_IPV6_ADDR_RANGE;
	tp->ts[1].proto = 0;
	tp->ts[1].start_port = 0;
	tp->ts[1].end_port = 65535;
	memset(tp->ts[1].start, 0, 16);
	memset(tp->ts[1].end, 0xff, 16);
}

static int build_tsi(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	static struct ike_ts_pl tp;

	fill_ts(&tp);
	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_ts(&b, IKE_PL_TSI, &tp);
	return ike_build_finish(&b, NULL);
}

static void fill_cp(struct ike_cp *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->type = IKE_CFG_REPLY;
	cp->n_attrs = 2;
	cp->a[0] = (struct ike_cp_attr){IKE_CP_INTERNAL_IP4_ADDRESS,
	                                (const uint8_t *)"\x0a\x01\x02\x03", 4};
	cp->a[1] =
	    (struct ike_cp_attr){IKE_CP_INTERNAL_IP4_DNS, (const uint8_t *)"\x0a\x01\x00\x01", 4};
}

static int build_cp(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	static struct ike_cp cp;

	fill_cp(&cp);
	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_cp(&b, &cp);
	return ike_build_finish(&b, NULL);
}

/* EAP-Response/Identity "user" (RFC 3748 §5.1). */
static const uint8_t eap_msg[] = {2, 7, 0, 9, 1, 'u', 's', 'e', 'r'};

static int build_eap(uint8_t *buf, size_t cap)
{
	struct ike_build b;

	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_eap(&b, eap_msg, sizeof(eap_msg));
	return ike_build_finish(&b, NULL);
}

/* SK with 8 IV + 16 ciphertext + 16 ICV opaque bytes: only framing here. */
static int build_sk(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	uint8_t body[40];

	memset(body, 0x5a, sizeof(body));
	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_raw(&b, IKE_PL_SK, false, body, sizeof(body));
	buf[IKE_HDR_LEN] = IKE_PL_IDI; /* inner first payload */
	return ike_build_finish(&b, NULL);
}

static int build_skf(uint8_t *buf, size_t cap)
{
	struct ike_build b;
	uint8_t body[44];

	memset(body, 0x5a, sizeof(body));
	wire_store16(body, 2);
	wire_store16(body + 2, 3);
	ike_build_init(&b, buf, cap, &hdr0);
	ike_build_raw(&b, IKE_PL_SKF, false, body, sizeof(body));
	return ike_build_finish(&b, NULL);
}

static int parse_built(int (*build)(uint8_t *, size_t), uint8_t *buf, size_t cap)
{
	int n = build(buf, cap);

	REQUIRE(n > IKE_HDR_LEN);
	return ike_msg_parse(&m, buf, (size_t)n) == n ? n : -1;
}

/* --- round trips ---------------------------------------------------------- */

TEST(payload_rfc7296_s3_1_header_round_trip)
{
	uint8_t buf[64];
	struct ike_build b;
	struct ike_hdr h = {0x1111222233334444ULL,
	                    0x5555666677778888ULL,
	                    0,
	                    2,
	                    0,
	                    IKE_INFORMATIONAL,
	                    IKE_FLAG_R,
	                    0xfedcba98,
	                    0};
	int n;

	ike_build_init(&b, buf, sizeof(buf), &h);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(n, IKE_HDR_LEN);
	CHECK_EQ(buf[17], 0x20); /* version 2.0 */
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_HDR_LEN);
	CHECK(m.hdr.spi_i == h.spi_i);
	CHECK(m.hdr.spi_r == h.spi_r);
	CHECK_EQ(m.hdr.next_payload, IKE_PL_NONE);
	CHECK_EQ(m.hdr.major, 2);
	CHECK_EQ(m.hdr.minor, 0);
	CHECK_EQ(m.hdr.exchange, IKE_INFORMATIONAL);
	CHECK_EQ(m.hdr.flags, IKE_FLAG_R);
	CHECK_EQ(m.hdr.msg_id, 0xfedcba98);
	CHECK_EQ(m.hdr.length, IKE_HDR_LEN);
	CHECK_EQ(m.n_payloads, 0);
}

TEST(payload_rfc7296_s3_3_sa_round_trip)
{
	uint8_t buf[256];
	static struct ike_sa_pl want;
	const struct ike_proposal *p;

	fill_sa_esp(&want);
	CHECK(parse_built(build_sa, buf, sizeof(buf)) > 0);
	CHECK(ike_msg_has(&m, IKE_PL_SA));
	CHECK_EQ(m.sa.n_proposals, 1);
	p = &m.sa.p[0];
	CHECK_EQ(p->num, 1);
	CHECK_EQ(p->proto, IKE_PROTO_ESP);
	CHECK_EQ(p->spi_len, 4);
	CHECK_MEM(p->spi, want.p[0].spi, 4);
	CHECK_EQ(p->n_transforms, 2);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(p->t[i].type, want.p[0].t[i].type);
		CHECK_EQ(p->t[i].id, want.p[0].t[i].id);
		CHECK_EQ(p->t[i].key_bits, want.p[0].t[i].key_bits);
		CHECK(!p->t[i].unknown_attr);
	}
}

TEST(payload_rfc7296_s3_3_sa_many_proposals_numbered)
{
	uint8_t buf[4096];
	static struct ike_sa_pl sa;
	struct ike_build b;
	int n;

	memset(&sa, 0, sizeof(sa));
	sa.n_proposals = 3;
	for (unsigned i = 0; i < 3; i++) {
		sa.p[i].num = (uint8_t)(i + 1);
		sa.p[i].proto = IKE_PROTO_IKE;
		sa.p[i].n_transforms = 4;
		sa.p[i].t[0] = (struct ike_transform){IKE_TRANS_ENCR, IKE_ENCR_AES_CBC,
		                                      (uint16_t)(128 + 64 * i), false};
		sa.p[i].t[1] = (struct ike_transform){IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_256, 0, 0};
		sa.p[i].t[2] =
		    (struct ike_transform){IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0, 0};
		sa.p[i].t[3] = (struct ike_transform){IKE_TRANS_DH, IKE_DH_ECP_256, 0, 0};
	}
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_sa(&b, &sa);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	CHECK_EQ(m.sa.n_proposals, 3);
	CHECK_EQ(m.sa.p[2].num, 3);
	CHECK_EQ(m.sa.p[2].t[0].key_bits, 256);
	CHECK_EQ(m.sa.p[1].t[3].id, IKE_DH_ECP_256);

	/* §3.3.1: proposals count up by one; 1, 2, 2 is a syntax error. */
	sa.p[2].num = 2;
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_sa(&b, &sa);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_SYNTAX);

	/* A reply carries the chosen proposal with its own number. */
	sa.n_proposals = 1;
	sa.p[0].num = 7;
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_sa(&b, &sa);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	CHECK_EQ(m.sa.p[0].num, 7);
}

TEST(payload_rfc7296_s3_3_5_unknown_attribute_marks_transform)
{
	uint8_t buf[128];

	CHECK(parse_built(build_sa_tlv, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.sa.p[0].n_transforms, 1);
	CHECK(m.sa.p[0].t[0].unknown_attr);
	CHECK_EQ(m.sa.p[0].t[0].key_bits, 128);
}

TEST(payload_rfc7296_s3_4_ke_round_trip)
{
	uint8_t buf[128];
	int n = parse_built(build_ke, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK_EQ(m.ke.group, IKE_DH_CURVE25519);
	CHECK_EQ(m.ke.len, 32);
	CHECK(m.ke.data == buf + IKE_HDR_LEN + 8); /* points into the input */
	CHECK_MEM(m.ke.data, ke_data, 32);
}

TEST(payload_rfc7296_s3_5_id_round_trip_all_types)
{
	static const struct {
		uint8_t type;
		const char *data;
		size_t len;
	} ids[] = {
	    {IKE_ID_IPV4_ADDR, "\xc0\x00\x02\x01", 4},
	    {IKE_ID_IPV6_ADDR, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16},
	    {IKE_ID_FQDN, "vpn.example.com", 15},
	    {IKE_ID_RFC822_ADDR, "alice@example.com", 17},
	    {IKE_ID_DER_ASN1_DN, "\x30\x0d\x31\x0b\x30\x09\x06\x03\x55\x04\x03\x0c\x02\x43\x4e",
	     15},
	    {IKE_ID_KEY_ID, "\x01\x02\x03", 3},
	    {IKE_ID_NULL, "", 0},
	};
	uint8_t buf[128];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct ike_build b;
		struct ike_id id = {
		    .type = ids[i].type, .data = (const uint8_t *)ids[i].data, .len = ids[i].len};
		int n;

		ike_build_init(&b, buf, sizeof(buf), &hdr0);
		ike_build_id(&b, IKE_PL_IDR, &id);
		n = ike_build_finish(&b, NULL);
		CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
		CHECK(ike_msg_has(&m, IKE_PL_IDR));
		CHECK_EQ(m.idr.type, ids[i].type);
		CHECK_EQ(m.idr.len, ids[i].len);
		CHECK_MEM(m.idr.data, ids[i].data, ids[i].len);
		/* §2.15: AUTH covers ID Type | RESERVED | data as received. */
		CHECK_EQ(m.idr.body_len, 4 + ids[i].len);
		CHECK(m.idr.body == buf + IKE_HDR_LEN + 4);
	}
}

TEST(payload_rfc7296_s3_5_id_address_sizes_enforced)
{
	uint8_t buf[128];
	struct ike_build b;
	struct ike_id v4_long = {.type = IKE_ID_IPV4_ADDR, .data = nonce32, .len = 16};
	struct ike_id fqdn_empty = {.type = IKE_ID_FQDN, .data = nonce32, .len = 0};
	int n;

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_id(&b, IKE_PL_IDI, &v4_long);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_LENGTH);
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_id(&b, IKE_PL_IDI, &fqdn_empty);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_LENGTH);
}

TEST(payload_rfc7296_s3_6_s3_7_cert_certreq_round_trip)
{
	uint8_t buf[128];

	CHECK(parse_built(build_cert, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.n_cert, 1);
	CHECK_EQ(m.cert[0].encoding, IKE_CERT_X509_SIG);
	CHECK_EQ(m.cert[0].len, 4);
	CHECK_MEM(m.cert[0].data, "\x30\x82\x01\x0a", 4);
	CHECK(parse_built(build_certreq, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.n_certreq, 1);
	CHECK_EQ(m.certreq[0].len, 20);
	CHECK_MEM(m.certreq[0].data, nonce32, 20);
}

TEST(payload_rfc7296_s3_8_auth_round_trip)
{
	uint8_t buf[128];

	CHECK(parse_built(build_auth, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.auth.method, IKE_AUTH_PSK);
	CHECK_EQ(m.auth.len, 32);
	CHECK_MEM(m.auth.data, nonce32, 32);
}

TEST(payload_rfc7296_s3_9_nonce_16_to_256)
{
	static uint8_t big[257];
	uint8_t buf[512];
	const size_t sizes[] = {15, 16, 32, 256, 257};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct ike_build b;
		int n;

		/* The builder refuses what the parser would refuse ... */
		ike_build_init(&b, buf, sizeof(buf), &hdr0);
		ike_build_nonce(&b, big, sizes[i]);
		n = ike_build_finish(&b, NULL);
		if (sizes[i] < 16 || sizes[i] > 256) {
			CHECK_EQ(n, IKE_ERR_INVAL);
			/* ... and the parser refuses it from the wire. */
			ike_build_init(&b, buf, sizeof(buf), &hdr0);
			ike_build_raw(&b, IKE_PL_NONCE, false, big, sizes[i]);
			n = ike_build_finish(&b, NULL);
			CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_LENGTH);
			continue;
		}
		CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
		CHECK_EQ(m.nonce.len, sizes[i]);
	}
}

TEST(payload_rfc7296_s3_10_notify_round_trip)
{
	uint8_t buf[128];
	const struct ike_notify *n;

	CHECK(parse_built(build_notify, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.n_notify, 1);
	n = ike_msg_notify(&m, IKE_N_REKEY_SA);
	REQUIRE(n != NULL);
	CHECK_EQ(n->proto, IKE_PROTO_ESP);
	CHECK_EQ(n->spi_len, 4);
	CHECK_MEM(n->spi, "\xde\xad\xbe\xef", 4);
	CHECK_EQ(n->len, 2);
	CHECK_MEM(n->data, "xy", 2);
	CHECK(ike_msg_notify(&m, IKE_N_COOKIE) == NULL);
}

TEST(payload_rfc7296_s3_11_delete_round_trip_and_ike_sa_form)
{
	uint8_t buf[128];
	struct ike_build b;
	struct ike_delete ike = {IKE_PROTO_IKE, 0, 0, NULL};
	struct ike_delete bad = {IKE_PROTO_IKE, 8, 1, nonce32};
	int n;

	CHECK(parse_built(build_delete, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.n_delete, 1);
	CHECK_EQ(m.del[0].proto, IKE_PROTO_ESP);
	CHECK_EQ(m.del[0].n_spi, 2);
	CHECK_MEM(m.del[0].spis, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_delete(&b, &ike);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	CHECK_EQ(m.del[0].proto, IKE_PROTO_IKE);
	/* §3.11: deleting the IKE SA names no SPI. */
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_delete(&b, &bad);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_SYNTAX);
}

TEST(payload_rfc7296_s3_12_vendor_round_trip)
{
	uint8_t buf[128];

	CHECK(parse_built(build_vendor, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.n_vendor, 1);
	CHECK_EQ(m.vendor[0].len, 10);
	CHECK_MEM(m.vendor[0].data, "tunsec-vid", 10);
}

TEST(payload_rfc7296_s3_13_ts_round_trip_v4_v6)
{
	uint8_t buf[256];
	static struct ike_ts_pl want;

	fill_ts(&want);
	CHECK(parse_built(build_tsi, buf, sizeof(buf)) > 0);
	CHECK(ike_msg_has(&m, IKE_PL_TSI));
	CHECK(!ike_msg_has(&m, IKE_PL_TSR));
	CHECK_EQ(m.tsi.n_ts, 2);
	CHECK_EQ(m.tsi.n_skipped, 0);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(m.tsi.ts[i].type, want.ts[i].type);
		CHECK_EQ(m.tsi.ts[i].proto, want.ts[i].proto);
		CHECK_EQ(m.tsi.ts[i].start_port, want.ts[i].start_port);
		CHECK_EQ(m.tsi.ts[i].end_port, want.ts[i].end_port);
		CHECK_MEM(m.tsi.ts[i].start, want.ts[i].start, 16);
		CHECK_MEM(m.tsi.ts[i].end, want.ts[i].end, 16);
	}
}

TEST(payload_rfc7296_s3_13_1_unknown_ts_type_skipped)
{
	/* 2 selectors: a type-10 one (RFC 9478 label) and an IPv4 range. */
	static const uint8_t body[] = {2, 0,  0, 0,  10, 0,  0,  8, 'l', 'a', 'b', 'l', 7, 6,
	                               0, 16, 0, 80, 0,  80, 10, 0, 0,   1,   10,  0,   0, 1};
	uint8_t buf[128];
	struct ike_build b;
	int n;

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_raw(&b, IKE_PL_TSR, false, body, sizeof(body));
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	CHECK_EQ(m.tsr.n_ts, 1);
	CHECK_EQ(m.tsr.n_skipped, 1);
	CHECK_EQ(m.tsr.ts[0].proto, 6);
	CHECK_EQ(m.tsr.ts[0].start_port, 80);
}

TEST(payload_rfc7296_s3_15_cp_round_trip)
{
	uint8_t buf[128];
	static struct ike_cp want;

	fill_cp(&want);
	CHECK(parse_built(build_cp, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.cp.type, IKE_CFG_REPLY);
	CHECK_EQ(m.cp.n_attrs, 2);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(m.cp.a[i].type, want.a[i].type);
		CHECK_EQ(m.cp.a[i].len, 4);
		CHECK_MEM(m.cp.a[i].value, want.a[i].value, 4);
	}
}

TEST(payload_rfc7296_s3_15_1_cp_request_and_v6_attributes)
{
	uint8_t buf[256];
	static struct ike_cp cp;
	static const uint8_t v6addr[17] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1, [16] = 64};
	struct ike_build b;
	int n;

	memset(&cp, 0, sizeof(cp));
	cp.type = IKE_CFG_REQUEST;
	cp.n_attrs = 4;
	cp.a[0] = (struct ike_cp_attr){IKE_CP_INTERNAL_IP4_ADDRESS, NULL, 0};
	cp.a[1] = (struct ike_cp_attr){IKE_CP_INTERNAL_IP6_ADDRESS, v6addr, 17};
	cp.a[2] = (struct ike_cp_attr){IKE_CP_INTERNAL_IP6_DNS, NULL, 0};
	cp.a[3] = (struct ike_cp_attr){0x4242, (const uint8_t *)"opaque", 6};
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_cp(&b, &cp);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	CHECK_EQ(m.cp.n_attrs, 4);
	CHECK_EQ(m.cp.a[0].len, 0);
	CHECK_EQ(m.cp.a[1].len, 17);
	CHECK_MEM(m.cp.a[1].value, v6addr, 17);
	CHECK_EQ(m.cp.a[3].type, 0x4242);

	/* A 16-byte INTERNAL_IP6_ADDRESS lacks its prefix length. */
	cp.a[1].len = 16;
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_cp(&b, &cp);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_LENGTH);
}

TEST(payload_rfc7296_s3_16_eap_round_trip)
{
	uint8_t buf[128];

	CHECK(parse_built(build_eap, buf, sizeof(buf)) > 0);
	CHECK_EQ(m.eap.len, sizeof(eap_msg));
	CHECK_MEM(m.eap.data, eap_msg, sizeof(eap_msg));
}

TEST(payload_rfc7296_s3_14_sk_framing)
{
	uint8_t buf[128];
	int n = parse_built(build_sk, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK(ike_msg_has(&m, IKE_PL_SK));
	CHECK_EQ(m.sk.inner_np, IKE_PL_IDI);
	CHECK_EQ(m.sk.off, IKE_HDR_LEN + 4);
	CHECK_EQ(m.sk.len, 40);
}

TEST(payload_rfc7383_s2_5_skf_framing)
{
	uint8_t buf[128];
	int n = parse_built(build_skf, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK(ike_msg_has(&m, IKE_PL_SKF));
	CHECK_EQ(m.sk.frag_num, 2);
	CHECK_EQ(m.sk.frag_total, 3);
	CHECK_EQ(m.sk.off, IKE_HDR_LEN + 8);
	CHECK_EQ(m.sk.len, 40);

	/* §2.6: number above total, or zero, is malformed. */
	n = build_skf(buf, sizeof(buf));
	wire_store16(buf + IKE_HDR_LEN + 4, 4);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_SYNTAX);
	wire_store16(buf + IKE_HDR_LEN + 4, 0);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_SYNTAX);
}

TEST(payload_rfc7296_s1_2_sa_init_chain_order)
{
	uint8_t buf[1024];
	static struct ike_sa_pl sa;
	struct ike_build b;
	struct ike_ke ke = {IKE_DH_CURVE25519, ke_data, 32};
	struct ike_notify nat = {0, 0, {0}, IKE_N_NAT_DETECTION_SOURCE_IP, nonce32, 20};
	struct ike_notify frag = {0, 0, {0}, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0};
	const uint8_t want[] = {IKE_PL_SA, IKE_PL_KE, IKE_PL_NONCE, IKE_PL_NOTIFY, IKE_PL_NOTIFY};
	int n;

	fill_sa_esp(&sa);
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_sa(&b, &sa);
	ike_build_ke(&b, &ke);
	ike_build_nonce(&b, nonce32, 32);
	ike_build_notify(&b, &nat);
	ike_build_notify(&b, &frag);
	n = ike_build_finish(&b, NULL);
	CHECK(n > 0);
	/* Next Payload fields chain each payload to the next. */
	CHECK_EQ(buf[16], IKE_PL_SA);
	CHECK_EQ(wire_load32(buf + 24), (uint32_t)n);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	CHECK_EQ(m.n_payloads, 5);
	CHECK_MEM(m.order, want, 5);
	CHECK_EQ(m.n_notify, 2);
	CHECK(ike_msg_notify(&m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL);
}

/* --- rules of the chain --------------------------------------------------- */

TEST(payload_rfc7296_s2_5_unknown_payloads_skipped_or_critical)
{
	uint8_t buf[128];
	struct ike_build b;
	int n;

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_raw(&b, 200, false, (const uint8_t *)"zzz", 3);
	ike_build_nonce(&b, nonce32, 16);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	CHECK_EQ(m.n_unknown, 1);
	CHECK_EQ(m.nonce.len, 16);

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_nonce(&b, nonce32, 16);
	ike_build_raw(&b, 49, true, (const uint8_t *)"zzz", 3); /* GSPM: not ours */
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_UNSUPPORTED_CRITICAL);
	CHECK_EQ(m.unsupported_critical, 49);

	/* The critical bit on a payload we know is ignored (§2.5). */
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_raw(&b, IKE_PL_NONCE, true, nonce32, 16);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
}

TEST(payload_rfc7296_s3_duplicate_singleton_is_syntax_error)
{
	uint8_t buf[128];
	struct ike_build b;
	int n;

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_nonce(&b, nonce32, 16);
	ike_build_nonce(&b, nonce32, 16);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_SYNTAX);
}

TEST(payload_rfc7296_s3_14_sk_must_be_last)
{
	uint8_t buf[128];
	struct ike_build b;
	int n;

	/* SK followed by bytes of another payload: SK's length stops short
	 * of the message end. */
	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	ike_build_raw(&b, IKE_PL_SK, false, nonce32, 20);
	ike_build_nonce(&b, nonce32, 16);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_LENGTH);

	/* SK inside an SK's plaintext. */
	memset(&m, 0, sizeof(m));
	ike_build_chain_init(&b, buf, sizeof(buf));
	ike_build_raw(&b, IKE_PL_SK, false, nonce32, 20);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_chain_parse(&m, IKE_PL_SK, buf, (size_t)n, 0, true), IKE_ERR_SYNTAX);
}

TEST(payload_rfc7296_s1_5_version_and_header_lengths)
{
	uint8_t buf[64];
	struct ike_build b;
	int n;

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	n = ike_build_finish(&b, NULL);
	CHECK_EQ(ike_msg_parse(&m, buf, 27), IKE_ERR_SHORT);
	buf[17] = 0x30; /* IKEv3 */
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_VERSION);
	CHECK_EQ(m.hdr.major, 3);
	buf[17] = 0x10; /* IKEv1 */
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_VERSION);
	buf[17] = 0x21; /* minor versions are ignored */
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n);
	wire_store32(buf + 24, 20); /* below the header itself */
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), IKE_ERR_LENGTH);
}

TEST(payload_capacity_limits_give_too_many)
{
	uint8_t buf[2048];
	struct ike_build b;
	struct ike_notify n = {0, 0, {0}, IKE_N_INITIAL_CONTACT, NULL, 0};
	int len;

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	for (unsigned i = 0; i <= IKE_MAX_NOTIFY; i++)
		ike_build_notify(&b, &n);
	len = ike_build_finish(&b, NULL);
	CHECK(len > 0);
	CHECK_EQ(ike_msg_parse(&m, buf, (size_t)len), IKE_ERR_TOO_MANY);
}

TEST(payload_builder_capacity_is_checked)
{
	uint8_t buf[IKE_HDR_LEN + 20];
	struct ike_build b;

	ike_build_init(&b, buf, sizeof(buf), &hdr0);
	CHECK_EQ(ike_build_nonce(&b, nonce32, 16), 0);
	CHECK_EQ(ike_build_nonce(&b, nonce32, 16), IKE_ERR_NOSPACE);
	CHECK_EQ(ike_build_vendor(&b, nonce32, 1), IKE_ERR_NOSPACE);
	CHECK_EQ(ike_build_finish(&b, NULL), IKE_ERR_NOSPACE);
	ike_build_init(&b, buf, 10, &hdr0);
	CHECK_EQ(ike_build_finish(&b, NULL), IKE_ERR_NOSPACE);
}

TEST(payload_chain_builder_reports_first_type)
{
	uint8_t buf[128];
	struct ike_build b;
	uint8_t first = 0xff;
	int n;

	ike_build_chain_init(&b, buf, sizeof(buf));
	ike_build_nonce(&b, nonce32, 16);
	ike_build_vendor(&b, nonce32, 3);
	n = ike_build_finish(&b, &first);
	CHECK_EQ(n, 20 + 7);
	CHECK_EQ(first, IKE_PL_NONCE);
	CHECK_EQ(buf[0], IKE_PL_VENDOR);
	CHECK_EQ(buf[20], IKE_PL_NONE);
	memset(&m, 0, sizeof(m));
	CHECK_EQ(ike_chain_parse(&m, first, buf, (size_t)n, 0, true), n);
	CHECK_EQ(m.n_vendor, 1);
	ike_build_chain_init(&b, buf, sizeof(buf));
	CHECK_EQ(ike_build_finish(&b, &first), 0);
	CHECK_EQ(first, IKE_PL_NONE);
}

/* --- every length field, one too short and one too long -------------------- */

struct len_case {
	const char *what;
	int (*build)(uint8_t *, size_t);
	size_t off; /* of the field, from the start of the message */
	int width;  /* 1 or 2 bytes (4: the header's Length) */
	int err_minus;
	int err_plus;
};

#define P IKE_HDR_LEN /* the one payload starts here */
static const struct len_case len_cases[] = {
    {"header length", build_nonce, 24, 4, IKE_ERR_LENGTH, IKE_ERR_SHORT},
    {"SA payload length", build_sa, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"SA proposal length", build_sa, P + 6, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"SA proposal SPI size", build_sa, P + 10, 1, IKE_ERR_SYNTAX, IKE_ERR_SYNTAX},
    {"SA proposal #transforms", build_sa, P + 11, 1, IKE_ERR_SYNTAX, IKE_ERR_SYNTAX},
    {"SA transform 1 length", build_sa, P + 18, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"SA transform 2 length", build_sa, P + 30, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"SA TLV attribute length", build_sa_tlv, P + 22, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"SA TLV transform length", build_sa_tlv, P + 14, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"KE payload length", build_ke, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"IDi payload length", build_idi, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"CERT payload length", build_cert, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"CERTREQ payload length", build_certreq, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"AUTH payload length", build_auth, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"Nonce payload length", build_nonce, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"Notify payload length", build_notify, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"Notify SPI size", build_notify, P + 5, 1, IKE_ERR_SYNTAX, IKE_ERR_SYNTAX},
    {"Delete payload length", build_delete, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"Delete SPI size", build_delete, P + 5, 1, IKE_ERR_SYNTAX, IKE_ERR_SYNTAX},
    {"Delete #SPIs", build_delete, P + 6, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"Vendor ID payload length", build_vendor, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"TSi payload length", build_tsi, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"TSi #TSs", build_tsi, P + 4, 1, IKE_ERR_SYNTAX, IKE_ERR_SYNTAX},
    {"TSi selector 1 length", build_tsi, P + 10, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"TSi selector 2 length", build_tsi, P + 26, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"CP payload length", build_cp, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"CP attribute 1 length", build_cp, P + 10, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"CP attribute 2 length", build_cp, P + 18, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"EAP payload length", build_eap, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"EAP message length", build_eap, P + 6, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"SK payload length", build_sk, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
    {"SKF payload length", build_skf, P + 2, 2, IKE_ERR_LENGTH, IKE_ERR_LENGTH},
};
#undef P

static uint32_t get_field(const uint8_t *p, int width)
{
	return width == 1 ? p[0] : width == 2 ? wire_load16(p) : wire_load32(p);
}

static void set_field(uint8_t *p, int width, uint32_t v)
{
	if (width == 1)
		p[0] = (uint8_t)v;
	else if (width == 2)
		wire_store16(p, (uint16_t)v);
	else
		wire_store32(p, v);
}

TEST(payload_rfc7296_s3_every_length_field_off_by_one)
{
	for (size_t i = 0; i < sizeof(len_cases) / sizeof(len_cases[0]); i++) {
		const struct len_case *c = &len_cases[i];
		uint8_t buf[512];
		int n = c->build(buf, sizeof(buf));
		uint32_t v;
		int rc;

		if (n <= 0 || c->off + (size_t)c->width > (size_t)n) {
			test_fail(__FILE__, __LINE__, "%s: bad case", c->what);
			continue;
		}
		CHECK_EQ(ike_msg_parse(&m, buf, (size_t)n), n); /* intact: fine */
		v = get_field(buf + c->off, c->width);
		set_field(buf + c->off, c->width, v - 1);
		if ((rc = ike_msg_parse(&m, buf, (size_t)n)) != c->err_minus)
			test_fail(__FILE__, __LINE__, "%s - 1: got %s, want %s", c->what,
			          ike_err_name(rc), ike_err_name(c->err_minus));
		set_field(buf + c->off, c->width, v + 1);
		if ((rc = ike_msg_parse(&m, buf, (size_t)n)) != c->err_plus)
			test_fail(__FILE__, __LINE__, "%s + 1: got %s, want %s", c->what,
			          ike_err_name(rc), ike_err_name(c->err_plus));
		/* And the extremes of every length (a count or SPI size of 0
		 * can be legitimate: Notify without SPI). */
		if (c->width == 1)
			continue;
		set_field(buf + c->off, c->width, 0);
		CHECK(ike_msg_parse(&m, buf, (size_t)n) < 0);
		set_field(buf + c->off, c->width, c->width == 4 ? 0xffffffffu : 0xffffu);
		CHECK(ike_msg_parse(&m, buf, (size_t)n) < 0);
	}
}

TEST(payload_truncated_anywhere_never_parses)
{
	int (*const builders[])(uint8_t *, size_t) = {
	    build_sa,   build_sa_tlv, build_ke,     build_idi,    build_cert,   build_certreq,
	    build_auth, build_nonce,  build_notify, build_delete, build_vendor, build_tsi,
	    build_cp,   build_eap,    build_sk,     build_skf};

	for (size_t i = 0; i < sizeof(builders) / sizeof(builders[0]); i++) {
		uint8_t buf[512];
		int n = builders[i](buf, sizeof(buf));

		/* Cut the datagram (and the header's Length with it). */
		for (int cut = IKE_HDR_LEN; cut < n; cut++) {
			wire_store32(buf + 24, (uint32_t)cut);
			CHECK(ike_msg_parse(&m, buf, (size_t)cut) < 0);
		}
	}
}
