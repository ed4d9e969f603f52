/*
 * UDP encapsulation of ESP (RFC 3948) on port 4500: what a datagram on that
 * port is, and the keepalive we send from behind a NAT.
 */
#ifndef TUNSEC_ESP_NATT_H
#define TUNSEC_ESP_NATT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum natt_kind {
	NATT_ESP,	/* starts with a non-zero SPI */
	NATT_IKE,	/* non-ESP marker: four zero bytes, IKE follows (RFC 3948 §2.2) */
	NATT_KEEPALIVE, /* a single 0xFF byte (RFC 3948 §2.3) */
	NATT_INVALID,	/* too short to be any of them */
};

/* What the datagram p[0..len) is; never reads past len. */
enum natt_kind natt_classify(const uint8_t *p, size_t len);

/*
 * Receive offload on the port-4500 socket (Linux UDP_GRO, 5.0 and later):
 * the kernel may hand one receive holding several ESP-in-UDP datagrams of
 * one sender, back to back, each exactly gso_size bytes but the last, which
 * may be shorter, and says gso_size in a SOL_UDP / UDP_GRO control message
 * (an int). Each datagram is still one ESP packet, keepalive or IKE message
 * (RFC 3948 §2) and must be taken on its own.
 */

/*
 * The gso_size of a receive on a UDP_GRO socket, from its control data.
 * Returns 1 and sets *gso_size if the receive carries a UDP_GRO message,
 * 0 if it carries none (one datagram), -1 if the control data cannot be
 * trusted: the kernel truncated it (MSG_CTRUNC in msg_flags, so a UDP_GRO
 * message may be missing), or a UDP_GRO message is shorter than an int or
 * says 0 or a negative size.
 */
int natt_gro_size(const struct msghdr *m, size_t *gso_size);

/* Cuts one UDP_GRO receive back into its datagrams. */
struct natt_gro {
	uint8_t *buf;
	size_t len;
	size_t seg;
	size_t off; /* where the next datagram starts */
};

/*
 * Start cutting buf[0..len), received with gso_size seg. Returns how many
 * datagrams it holds (len / seg rounded up, at least 1), or -1 if seg and
 * len cannot describe one: seg 0, len 0, or seg larger than len (the
 * kernel always coalesces a full first datagram).
 */
long natt_gro_init(struct natt_gro *g, uint8_t *buf, size_t len, size_t seg);

/* The next datagram: sets *p and returns its length, or 0 after the last. */
size_t natt_gro_next(struct natt_gro *g, uint8_t **p);

#define NATT_KEEPALIVE_BYTE 0xFF
#define NATT_DEFAULT_KEEPALIVE_SEC 20
#define NATT_PORT 4500
#define IKE_PORT 500

#endif
