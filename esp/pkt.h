/*
 * Packet buffers: one fixed-size cell per packet, data placed PKT_HEADROOM
 * bytes in, so that ESP (and UDP/IP where we build them) can be pushed in
 * front and padding + ICV put behind without a copy.
 *
 *	head                data           data+len                 head+cap
 *	|<--- headroom ---->|<---- len ---->|<------ tailroom ------->|
 *
 * push/pull/put/trim return NULL (or -1) when there is no room: callers turn
 * that into a counted drop, never an overflow.
 */
#ifndef TUNSEC_ESP_PKT_H
#define TUNSEC_ESP_PKT_H

#include <stddef.h>
#include <stdint.h>

/* Outer IPv6 (40) + UDP (8) + ESP header (8) + IV (16), rounded up. */
#define PKT_HEADROOM 96
/* Largest inner packet we carry; the TUN MTU never exceeds it. */
#define PKT_MAX_INNER 1500
/* ESP trailer: padding (<= 255, we use < 16) + 2 + ICV (<= 32). */
#define PKT_TAILROOM 64
/* One cell; received datagrams larger than cap - PKT_HEADROOM are dropped. */
#define PKT_CELL 2048

struct pkt {
	uint8_t *head;
	uint8_t *data;
	size_t len;
	size_t cap;
};

static inline void pkt_init(struct pkt *p, uint8_t *buf, size_t cap, size_t headroom)
{
	p->head = buf;
	p->cap = cap;
	p->data = buf + (headroom <= cap ? headroom : cap);
	p->len = 0;
}

static inline size_t pkt_headroom(const struct pkt *p)
{
	return (size_t)(p->data - p->head);
}

static inline size_t pkt_tailroom(const struct pkt *p)
{
	return p->cap - pkt_headroom(p) - p->len;
}

/* Prepend n bytes; returns the new start of data. */
static inline uint8_t *pkt_push(struct pkt *p, size_t n)
{
	if (n > pkt_headroom(p))
		return NULL;
	p->data -= n;
	p->len += n;
	return p->data;
}

/* Remove n bytes from the front; returns the new start of data. */
static inline uint8_t *pkt_pull(struct pkt *p, size_t n)
{
	if (n > p->len)
		return NULL;
	p->data += n;
	p->len -= n;
	return p->data;
}

/* Append n bytes; returns where they start. */
static inline uint8_t *pkt_put(struct pkt *p, size_t n)
{
	uint8_t *tail = p->data + p->len;

	if (n > pkt_tailroom(p))
		return NULL;
	p->len += n;
	return tail;
}

/* Remove n bytes from the end. */
static inline int pkt_trim(struct pkt *p, size_t n)
{
	if (n > p->len)
		return -1;
	p->len -= n;
	return 0;
}

#endif
