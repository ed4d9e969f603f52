/*
 * ike/wire.c: big-endian cursors with a sticky error (RFC 7296 §3: all
 * multi-octet fields are in network byte order).
 */
#include "ike/wire.h"

#include "tests/unit/test.h"

TEST(wire_rfc7296_s3_reads_network_order)
{
	const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	                      0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
	struct wire_rd r;

	wire_rd_init(&r, in, sizeof(in));
	CHECK_EQ(wire_get_u8(&r), 0x01);
	CHECK_EQ(wire_get_u16(&r), 0x0203);
	CHECK_EQ(wire_get_u32(&r), 0x04050607);
	CHECK(wire_get_u64(&r) == 0x08090a0b0c0d0e0fULL);
	CHECK(!r.err);
	CHECK_EQ(wire_left(&r), 0);
}

TEST(wire_read_past_end_is_sticky_and_zero)
{
	const uint8_t in[] = {0xaa, 0xbb, 0xcc};
	uint8_t dst[4] = {1, 2, 3, 4};
	struct wire_rd r;

	wire_rd_init(&r, in, sizeof(in));
	CHECK_EQ(wire_get_u16(&r), 0xaabb);
	CHECK_EQ(wire_get_u16(&r), 0); /* one byte left: not enough */
	CHECK(r.err);
	/* Sticky: even the byte that is there is not read any more. */
	CHECK_EQ(wire_get_u8(&r), 0);
	CHECK(wire_get_bytes(&r, 0) == NULL);
	wire_get_copy(&r, dst, 4);
	CHECK_EQ(dst[0] | dst[1] | dst[2] | dst[3], 0);
	CHECK_EQ(wire_left(&r), 0);
}

TEST(wire_bytes_borrow_input_and_zero_length_is_valid)
{
	const uint8_t in[] = {1, 2, 3, 4, 5};
	struct wire_rd r, empty;

	wire_rd_init(&r, in, sizeof(in));
	CHECK(wire_get_bytes(&r, 2) == in);
	CHECK(wire_get_bytes(&r, 0) == in + 2);
	CHECK(wire_get_bytes(&r, 4) == NULL);
	CHECK(r.err);
	wire_rd_init(&empty, NULL, 0);
	CHECK(wire_get_bytes(&empty, 0) != NULL);
	CHECK(!empty.err);
	CHECK_EQ(wire_get_u8(&empty), 0);
	CHECK(empty.err);
}

TEST(wire_sub_carves_a_bounded_reader)
{
	const uint8_t in[] = {0, 6, 0xde, 0xad, 0xbe, 0xef, 0x77};
	struct wire_rd r, s, bad;

	wire_rd_init(&r, in, sizeof(in));
	CHECK_EQ(wire_get_u16(&r), 6);
	CHECK(wire_sub(&r, 4, &s));
	CHECK_EQ(wire_get_u32(&s), 0xdeadbeef);
	CHECK_EQ(wire_get_u8(&s), 0); /* the sub-reader ends at its length */
	CHECK(s.err);
	CHECK(!r.err);
	CHECK_EQ(wire_get_u8(&r), 0x77);
	CHECK(!wire_sub(&r, 1, &bad));
	CHECK(r.err);
	CHECK_EQ(wire_left(&bad), 0);
}

TEST(wire_writer_respects_capacity_and_patches)
{
	uint8_t buf[10];
	const uint8_t want[10] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x00, 0x07};
	struct wire_wr w;

	memset(buf, 0xee, sizeof(buf));
	wire_wr_init(&w, buf, sizeof(buf));
	wire_put_u64(&w, 0x123456789abcdef0ULL);
	wire_put_u16(&w, 0);
	CHECK(!w.err);
	wire_patch_u16(&w, 8, 7);
	CHECK(!w.err);
	CHECK_MEM(buf, want, 10);
	wire_put_u8(&w, 1); /* full */
	CHECK(w.err);
	CHECK_EQ(w.off, 10);
	CHECK_EQ(wire_wr_room(&w), 0);

	wire_wr_init(&w, buf, sizeof(buf));
	wire_put_u32(&w, 0x01020304);
	wire_patch_u32(&w, 0, 0x0a0b0c0d);
	CHECK_EQ(buf[0], 0x0a);
	CHECK_EQ(buf[3], 0x0d);
	wire_patch_u16(&w, 3, 1); /* only one byte written there */
	CHECK(w.err);
	CHECK_EQ(buf[3], 0x0d);
}

TEST(wire_reserve_and_zero)
{
	uint8_t buf[6] = {9, 9, 9, 9, 9, 9};
	struct wire_wr w;
	uint8_t *p;

	wire_wr_init(&w, buf, sizeof(buf));
	wire_put_zero(&w, 2);
	p = wire_reserve(&w, 3);
	CHECK(p == buf + 2);
	CHECK(wire_reserve(&w, 2) == NULL);
	CHECK(w.err);
	CHECK_EQ(buf[0] | buf[1], 0);
	CHECK_EQ(buf[5], 9);
}

TEST(wire_err_threshold_separates_drop_from_dead)
{
	const int drop[] = {
	    IKE_ERR_SHORT,    IKE_ERR_LENGTH,  IKE_ERR_SYNTAX, IKE_ERR_UNSUPPORTED_CRITICAL,
	    IKE_ERR_TOO_MANY, IKE_ERR_VERSION, IKE_ERR_AUTH,   IKE_ERR_FRAG};

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		CHECK(!ike_err_fatal(drop[i]));
		CHECK(strcmp(ike_err_name(drop[i]), "unknown") != 0);
	}
	CHECK(ike_err_fatal(IKE_ERR_PEER_SYNTAX));
	CHECK(ike_err_fatal(IKE_ERR_CRYPTO));
	CHECK(!ike_err_fatal(IKE_OK));
	CHECK(strcmp(ike_err_name(12345), "unknown") == 0);
}
