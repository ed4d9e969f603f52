/* Debug lines for IKE messages (ike/msglog.h): charon's shape, bounded. */
#include <string.h>

#include "ike/msglog.h"
#include "ike/wire.h"
#include "tests/unit/test.h"

static int build(uint8_t *buf, size_t cap, bool response)
{
	struct ike_hdr h = {.spi_i = 1, .major = 2, .exchange = IKE_AUTH, .msg_id = 1};
	struct ike_notify n = {.type = IKE_N_INITIAL_CONTACT};
	struct ike_build b;
	static const uint8_t nonce[32];

	h.flags = response ? IKE_FLAG_R : IKE_FLAG_I;
	ike_build_init(&b, buf, cap, &h);
	ike_build_notify(&b, &n);
	ike_build_nonce(&b, nonce, sizeof(nonce));
	ike_build_vendor(&b, nonce, 4);
	return ike_build_finish(&b, NULL);
}

/* RFC 7296 §3.2: the generic payload headers alone give the list. */
TEST(ike_msglog_rfc7296_3_2_payload_list)
{
	uint8_t buf[512];
	char line[IKE_MSGLOG_MAX];
	int n = build(buf, sizeof(buf), false);

	REQUIRE(n > 0);
	ike_msglog_plain(buf, (size_t)n, line);
	CHECK_STREQ(line, "IKE_AUTH request 1 [ N(INIT_CONTACT) No V ]");
	n = build(buf, sizeof(buf), true);
	ike_msglog_plain(buf, (size_t)n, line);
	CHECK_STREQ(line, "IKE_AUTH response 1 [ N(INIT_CONTACT) No V ]");
}

/* A chain cut short or lying about a length ends in "...", never a read
 * past the buffer (ASan watches). */
TEST(ike_msglog_truncated_and_bad_lengths)
{
	uint8_t buf[512];
	char line[IKE_MSGLOG_MAX];
	int n = build(buf, sizeof(buf), false);

	REQUIRE(n > 40);
	ike_msglog_plain(buf, IKE_HDR_LEN + 10, line);
	CHECK(strstr(line, "...") != NULL);
	buf[IKE_HDR_LEN + 2] = 0; /* first payload length 0 */
	buf[IKE_HDR_LEN + 3] = 2;
	ike_msglog_plain(buf, (size_t)n, line);
	CHECK_STREQ(line, "IKE_AUTH request 1 [ ... ]");
	ike_msglog_plain(buf, 10, line); /* not even a header */
	CHECK_STREQ(line, "");
}
