/*
 * ESP (RFC 4303), tunnel mode: esp_encap() and esp_decap() are pure
 * functions over (SA, packet) working in place in a struct pkt. They do no
 * I/O and take no lock shared across SAs: the outbound sequence number is a
 * per-SA atomic, the replay window belongs to its inbound SA.
 *
 * Errors are negative enum esp_drop values: the reason a packet was dropped,
 * already counted in the SA's statistics.
 */
#ifndef TUNSEC_ESP_ESP_H
#define TUNSEC_ESP_ESP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "esp/pkt.h"
#include "esp/replay.h"
#include "esp/sel.h"

struct aead;

#define ESP_HDR_LEN 8
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_NH_NONE 59 /* dummy packet, RFC 4303 §2.6 */

/* Drop reasons, each a named counter (`tunsec stats`). */
enum esp_drop {
	ESP_OK = 0,
	ESP_DROP_SHORT,		/* shorter than header + IV + ICV, or not block-aligned */
	ESP_DROP_UNKNOWN_SPI,	/* no inbound SA has this SPI */
	ESP_DROP_REPLAY,	/* seen before or left of the window */
	ESP_DROP_ICV,		/* integrity check failed */
	ESP_DROP_PAD,		/* bad padding or pad length (RFC 4303 §2.4) */
	ESP_DROP_NEXT_HDR,	/* next header not IPv4/IPv6 (or inner header broken) */
	ESP_DROP_SELECTOR,	/* inner packet outside the SA's traffic selectors */
	ESP_DROP_NO_SA,		/* outbound: no SA covers the destination */
	ESP_DROP_SEQ_EXHAUSTED, /* outbound: counter would wrap (RFC 4303 §3.3.3) */
	ESP_DROP_TOO_BIG,	/* no room for ESP overhead in the buffer */
	ESP_DROP_NOT_IP,	/* from TUN: not an IPv4/IPv6 packet */
	ESP_DROP_TUN_WRITE,	/* decrypted fine but the TUN write failed */
	ESP_DROP_SEND,		/* encrypted fine but the socket send failed */
	ESP_DROP_DUMMY,		/* next header 59: discarded by design */
	ESP_DROP_LINK_SCOPE,	/* outbound: IPv6 link-local or link-scope multicast
				   (the kernel's RS, MLD, ND on the TUN): never tunnelled */
	ESP_DROP_MAX
};

/* "unknown-spi", "replay", ... */
const char *esp_drop_name(enum esp_drop d);

enum esp_encap_mode {
	ESP_ENCAP_UDP = 0, /* RFC 3948, port 4500 */
	ESP_ENCAP_RAW = 1, /* IP protocol 50 */
};

struct esp_stats {
	_Atomic uint64_t packets;
	_Atomic uint64_t bytes; /* inner bytes */
	_Atomic uint64_t drops[ESP_DROP_MAX];
};

/*
 * One direction of a tunnel. Inbound SAs own a replay window and check the
 * decrypted packet's source against remote_sels and its destination against
 * local_sels; outbound SAs own the sequence counter.
 */
struct esp_sa {
	uint32_t spi; /* host order */
	bool inbound;
	bool esn;
	/* Cached from aead by esp_sa_init(), so the data path makes no calls
	 * to learn them: IV and ICV length, padding block, CBC+HMAC or not.
	 * (Small members share one word: there are two of these per CHILD_SA,
	 * so padding counts; see esp_memory_per_child_sa_in_out_pair.) */
	uint8_t iv_len, icv_len, block;
	bool classic;
	struct aead *aead; /* owned: freed and wiped by esp_sa_destroy() */
	_Atomic uint64_t seq; /* outbound: last sequence number used */
	struct replay replay; /* inbound; its bitmap sized to the window */
	/* Traffic selectors (RFC 4301 §4.4.1), set by esp_sa_set_sels(): one
	 * allocation of exactly n_local + n_remote, not ESP_MAX_SELS of each
	 * inline (a road warrior has one of each, and a server holds ten
	 * thousand of these pairs: 1.2 KB a CHILD_SA saved). NULL: none. */
	struct esp_sel *local_sels, *remote_sels;
	unsigned n_local, n_remote;

	/* Where to send (outbound) / where it came from last (inbound). */
	enum esp_encap_mode encap;
	socklen_t peer_len;
	struct sockaddr_storage peer;

	struct esp_stats stats;
	void *owner; /* the daemon's tunnel, for status and lookup */
};

/*
 * Fill sa for one direction; takes ownership of aead (also on failure).
 * replay_window only matters inbound. 0, -EINVAL, -ENOMEM.
 */
int esp_sa_init(struct esp_sa *sa, uint32_t spi, bool inbound, bool esn, struct aead *aead,
		uint32_t replay_window);

/*
 * The SA's selectors (copied; any earlier ones freed): local are our side's
 * traffic, remote the peer's. 0, -EINVAL (more than ESP_MAX_SELS of
 * either), -ENOMEM (the SA keeps its earlier ones).
 */
int esp_sa_set_sels(struct esp_sa *sa, const struct esp_sel *local, unsigned n_local,
                    const struct esp_sel *remote, unsigned n_remote);

/* Wipe keys and free what the SA owns; the struct itself stays the caller's. */
void esp_sa_destroy(struct esp_sa *sa);

/*
 * Bytes ESP adds to an inner packet of len bytes, not counting UDP/IP:
 *
 *	overhead(L) = 8 (SPI, seq) + IV + pad(L) + 2 (pad length, next header) + ICV
 *	pad(L)      = (B - (L + 2) mod B) mod B
 *
 * with B the padding block: 4 for AES-GCM and ChaCha20-Poly1305 (RFC 4303
 * §2.4 alignment), 16 for AES-CBC. IV is 8 (GCM, ChaCha) or 16 (CBC); ICV is
 * 16 for the AEADs, 16/24/32 for HMAC-SHA2-256/384/512.
 */
size_t esp_overhead(const struct esp_sa *sa, size_t len);

/*
 * Largest inner packet L with outer + L + overhead(L) <= path_mtu, where
 * outer = 20 (IPv4) or 40 (IPv6) + 8 when sa->encap is ESP_ENCAP_UDP
 * (RFC 3948). In closed form:
 *
 *	avail = path_mtu - outer - 8 - IV - ICV
 *	L     = floor(avail / B) * B - 2
 *
 * E.g. UDP over IPv4, AES-GCM: avail = 1500 - 28 - 8 - 8 - 16 = 1440,
 * L = 1440 - 2 = 1438 (1438 + 2 = 1440 is 4-aligned, no padding).
 * AES-256-CBC + HMAC-SHA2-256-128 over the same path: avail = 1500 - 28 - 8 -
 * 16 - 16 = 1432, floor(1432 / 16) * 16 = 1424, L = 1422.
 * Returns 0 if not even an empty payload fits. Not capped at PKT_MAX_INNER:
 * the caller takes the minimum.
 */
unsigned esp_inner_mtu(const struct esp_sa *sa, unsigned path_mtu, int outer_family);

/* Set the outbound counter to the last sequence number used: the next
 * packet carries last_used + 1. For tests of the limits (§3.3.3) and for
 * restoring state; not for the data path. */
void esp_sa_set_seq(struct esp_sa *sa, uint64_t last_used);

/*
 * Protect the inner IP packet at p->data in place: on return p->data points
 * at the SPI and p->len covers SPI .. ICV. Returns 0 or -ESP_DROP_*
 * (SEQ_EXHAUSTED, TOO_BIG, NOT_IP).
 */
int esp_encap(struct esp_sa *sa, struct pkt *p);

/*
 * esp_encap() with the sequence number and IV given by the caller, for
 * known-answer tests (RFC 7634 Appendix A uses an IV unrelated to its
 * sequence number). Never for traffic: a repeated (key, IV) pair destroys
 * GCM's and ChaCha20-Poly1305's security. Does not touch the SA's counter.
 * Errors as esp_encap() (never SEQ_EXHAUSTED).
 */
int esp_encap_test_iv(struct esp_sa *sa, struct pkt *p, uint64_t seq, const uint8_t *iv);

/*
 * Read the SPI of the ESP packet at p (0 if too short); the caller looks the
 * SA up with it.
 */
uint32_t esp_peek_spi(const struct pkt *p);

/*
 * Verify and decrypt the ESP packet at p->data (starting at the SPI) in
 * place: on return p->data is the inner IP packet. Replay check, ICV, replay
 * update (only after the ICV verified), padding, next header, selectors.
 * Returns 0 or -ESP_DROP_*. A dummy packet returns -ESP_DROP_DUMMY (counted,
 * and it does advance the replay window: it was authentic).
 */
int esp_decap(struct esp_sa *sa, struct pkt *p);

/* Count a drop in st (an SA's stats, or the daemon's table for packets
 * that have no SA). */
void esp_count_drop(struct esp_stats *st, enum esp_drop d);

#endif
