/* Port-4500 demultiplexing (RFC 3948 §2). */
#include "esp/natt.h"

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
