/*
 * UDP encapsulation of ESP (RFC 3948) on port 4500: what a datagram on that
 * port is, and the keepalive we send from behind a NAT.
 */
#ifndef TUNSEC_ESP_NATT_H
#define TUNSEC_ESP_NATT_H

#include <stddef.h>
#include <stdint.h>

enum natt_kind {
	NATT_ESP,	/* starts with a non-zero SPI */
	NATT_IKE,	/* non-ESP marker: four zero bytes, IKE follows (RFC 3948 §2.2) */
	NATT_KEEPALIVE, /* a single 0xFF byte (RFC 3948 §2.3) */
	NATT_INVALID,	/* too short to be any of them */
};

enum natt_kind natt_classify(const uint8_t *p, size_t len);

#define NATT_KEEPALIVE_BYTE 0xFF
#define NATT_DEFAULT_KEEPALIVE_SEC 20
#define NATT_PORT 4500
#define IKE_PORT 500

#endif
