/*
 * What a datagram on UDP port 4500 carries (RFC 3948 §2).
 */
#include "esp/natt.h"

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
