/*
 * ESP tunnel mode (RFC 4303) over one struct aead: encap and decap in place.
 *
 * Packet layout, as sealed and opened here:
 *
 *	SPI(4) | seq_lo(4) | IV | inner IP packet | pad 1,2,3.. | padlen | nh | ICV
 *	                          |<-------------- encrypted ----------------->|
 *
 * What the ICV authenticates besides the ciphertext:
 *   AES-GCM (RFC 4106 §5), ChaCha20-Poly1305 (RFC 7634 §2.1): AAD is
 *     SPI || seq_lo, or SPI || seq_hi || seq_lo with ESN (built on the stack).
 *   AES-CBC + HMAC (RFC 4303 §2.2.1, §3.3.2.1): the header and IV are in the
 *     MAC as they stand in the packet; with ESN seq_hi is appended after the
 *     ciphertext for the MAC only, never sent.
 */
#include "esp/esp.h"

#include <errno.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "crypto/aead.h"

#define ESP_TRAILER 2 /* pad length + next header */

static const char *const drop_names[ESP_DROP_MAX] = {
    [ESP_OK] = "ok",
    [ESP_DROP_SHORT] = "short",
    [ESP_DROP_UNKNOWN_SPI] = "unknown-spi",
    [ESP_DROP_REPLAY] = "replay",
    [ESP_DROP_ICV] = "icv",
    [ESP_DROP_PAD] = "pad",
    [ESP_DROP_NEXT_HDR] = "next-header",
    [ESP_DROP_SELECTOR] = "selector",
    [ESP_DROP_NO_SA] = "no-sa",
    [ESP_DROP_SEQ_EXHAUSTED] = "seq-exhausted",
    [ESP_DROP_TOO_BIG] = "too-big",
    [ESP_DROP_NOT_IP] = "not-ip",
    [ESP_DROP_TUN_WRITE] = "tun-write",
    [ESP_DROP_SEND] = "send",
    [ESP_DROP_DUMMY] = "dummy",
    [ESP_DROP_LINK_SCOPE] = "link-scope",
};

const char *esp_drop_name(enum esp_drop d)
{
	if ((unsigned)d >= ESP_DROP_MAX || !drop_names[d])
		return "unknown";
	return drop_names[d];
}

void esp_count_drop(struct esp_stats *st, enum esp_drop d)
{
	if ((unsigned)d < ESP_DROP_MAX)
		atomic_fetch_add_explicit(&st->drops[d], 1, memory_order_relaxed);
}

/* Count and return the negative reason, so that callers can `return drop()`. */
static int drop(struct esp_sa *sa, enum esp_drop d)
{
	esp_count_drop(&sa->stats, d);
	return -(int)d;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int esp_sa_init(struct esp_sa *sa, uint32_t spi, bool inbound, bool esn, struct aead *aead,
                uint32_t replay_window)
{
	int rc;

	memset(sa, 0, sizeof(*sa));
	/* RFC 4303 §2.1: SPI 0 is never sent. */
	if (!aead || spi == 0) {
		aead_free(aead);
		return -EINVAL;
	}
	sa->spi = spi;
	sa->inbound = inbound;
	sa->esn = esn;
	sa->aead = aead;
	sa->iv_len = (uint8_t)aead_iv_len(aead);
	sa->icv_len = (uint8_t)aead_icv_len(aead);
	sa->block = (uint8_t)aead_block_len(aead);
	/* Classic (CBC + HMAC) is the only kind with a 16-byte IV. */
	sa->classic = sa->iv_len == 16;
	if (sa->block == 0 || sa->iv_len > AEAD_MAX_IV || sa->icv_len > AEAD_MAX_ICV) {
		esp_sa_destroy(sa);
		return -EINVAL;
	}
	atomic_init(&sa->seq, 0);
	if (inbound && (rc = replay_init(&sa->replay, replay_window)) < 0) {
		esp_sa_destroy(sa);
		return rc;
	}
	return 0;
}

int esp_sa_set_sels(struct esp_sa *sa, const struct esp_sel *local, unsigned n_local,
                    const struct esp_sel *remote, unsigned n_remote)
{
	struct esp_sel *v;

	if (n_local > ESP_MAX_SELS || n_remote > ESP_MAX_SELS)
		return -EINVAL;
	if (n_local + n_remote == 0) {
		v = NULL;
	} else if (!(v = malloc((n_local + n_remote) * sizeof(*v)))) {
		return -ENOMEM;
	}
	if (n_local)
		memcpy(v, local, n_local * sizeof(*v));
	if (n_remote)
		memcpy(v + n_local, remote, n_remote * sizeof(*v));
	free(sa->local_sels);
	sa->local_sels = v;
	sa->remote_sels = v ? v + n_local : NULL;
	sa->n_local = n_local;
	sa->n_remote = n_remote;
	return 0;
}

void esp_sa_destroy(struct esp_sa *sa)
{
	aead_free(sa->aead);
	replay_free(&sa->replay);
	free(sa->local_sels);
	sodium_memzero(sa, sizeof(*sa));
}

void esp_sa_set_seq(struct esp_sa *sa, uint64_t last_used)
{
	atomic_store_explicit(&sa->seq, last_used, memory_order_relaxed);
}

/* Padding so that payload + pad + 2 is a multiple of the block (§2.4). */
static size_t pad_len(const struct esp_sa *sa, size_t len)
{
	return (sa->block - (len + ESP_TRAILER) % sa->block) % sa->block;
}

size_t esp_overhead(const struct esp_sa *sa, size_t len)
{
	return ESP_HDR_LEN + sa->iv_len + pad_len(sa, len) + ESP_TRAILER + sa->icv_len;
}

unsigned esp_inner_mtu(const struct esp_sa *sa, unsigned path_mtu, int outer_family)
{
	unsigned outer =
	    (outer_family == AF_INET6 ? 40 : 20) + (sa->encap == ESP_ENCAP_UDP ? 8 : 0);
	unsigned fixed = outer + ESP_HDR_LEN + sa->iv_len + sa->icv_len;
	unsigned avail, l;

	if (path_mtu < fixed + sa->block)
		return 0;
	/* L + 2 rounded up to the block must fit in what is left. */
	avail = path_mtu - fixed;
	l = avail / sa->block * sa->block;
	return l >= ESP_TRAILER ? l - ESP_TRAILER : 0;
}

uint32_t esp_peek_spi(const struct pkt *p)
{
	return p->len >= 4 ? get32(p->data) : 0;
}

/* Next header for the inner packet, 0 if it is not IP. */
static uint8_t inner_nh(const uint8_t *ip, size_t len)
{
	if (len >= 20 && ip[0] >> 4 == 4)
		return ESP_NH_IPV4;
	if (len >= 40 && ip[0] >> 4 == 6)
		return ESP_NH_IPV6;
	return 0;
}

/* Take the next sequence number, never wrapping (RFC 4303 §3.3.3): without
 * ESN the last one is 2^32 - 1, with ESN 2^64 - 1. Lock-free: a CAS loop so
 * that concurrent senders never both pass the limit. */
static int next_seq(struct esp_sa *sa, uint64_t *seq)
{
	uint64_t limit = sa->esn ? UINT64_MAX : UINT32_MAX;
	uint64_t cur = atomic_load_explicit(&sa->seq, memory_order_relaxed);

	do {
		if (cur >= limit)
			return -1;
	} while (!atomic_compare_exchange_weak_explicit(
	    &sa->seq, &cur, cur + 1, memory_order_relaxed, memory_order_relaxed));
	*seq = cur + 1;
	return 0;
}

static int encap(struct esp_sa *sa, struct pkt *p, bool have_seq, uint64_t seq,
                 const uint8_t *fixed_iv)
{
	uint8_t nh = inner_nh(p->data, p->len);
	size_t inner = p->len, pad = pad_len(sa, p->len);
	uint8_t aad[12], *hdr, *iv, *trl, *icv;
	const uint8_t *ad, *trailer = NULL;
	size_t ad_len, trailer_len = 0;
	uint8_t seq_hi[4];

	if (!nh)
		return drop(sa, ESP_DROP_NOT_IP);
	if (pkt_headroom(p) < (size_t)ESP_HDR_LEN + sa->iv_len ||
	    pkt_tailroom(p) < pad + ESP_TRAILER + sa->icv_len)
		return drop(sa, ESP_DROP_TOO_BIG);
	if (!have_seq && next_seq(sa, &seq) < 0)
		return drop(sa, ESP_DROP_SEQ_EXHAUSTED);

	trl = pkt_put(p, pad + ESP_TRAILER);
	for (size_t i = 0; i < pad; i++)
		trl[i] = (uint8_t)(i + 1); /* §2.4: 1, 2, 3, ... */
	trl[pad] = (uint8_t)pad;
	trl[pad + 1] = nh;
	icv = pkt_put(p, sa->icv_len);
	hdr = pkt_push(p, ESP_HDR_LEN + sa->iv_len);
	iv = hdr + ESP_HDR_LEN;
	put32(hdr, sa->spi);
	put32(hdr + 4, (uint32_t)seq);
	if (fixed_iv)
		memcpy(iv, fixed_iv, sa->iv_len);
	else
		aead_make_iv(sa->aead, seq, iv);

	if (sa->classic) {
		ad = hdr;
		ad_len = ESP_HDR_LEN;
		if (sa->esn) {
			put32(seq_hi, (uint32_t)(seq >> 32));
			trailer = seq_hi;
			trailer_len = sizeof(seq_hi);
		}
	} else if (sa->esn) {
		put32(aad, sa->spi);
		put32(aad + 4, (uint32_t)(seq >> 32));
		put32(aad + 8, (uint32_t)seq);
		ad = aad;
		ad_len = 12;
	} else {
		ad = hdr;
		ad_len = ESP_HDR_LEN;
	}
	if (aead_seal(sa->aead, iv, ad, ad_len, trailer, trailer_len, iv + sa->iv_len,
	              inner + pad + ESP_TRAILER, icv) < 0) {
		/* Cannot happen with a valid context and aligned length; the
		 * packet is garbage now, so it must not go out. */
		return drop(sa, ESP_DROP_TOO_BIG);
	}
	atomic_fetch_add_explicit(&sa->stats.packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sa->stats.bytes, inner, memory_order_relaxed);
	return 0;
}

int esp_encap(struct esp_sa *sa, struct pkt *p)
{
	return encap(sa, p, false, 0, NULL);
}

int esp_encap_test_iv(struct esp_sa *sa, struct pkt *p, uint64_t seq, const uint8_t *iv)
{
	return encap(sa, p, true, seq, iv);
}

/* Inner header sanity; returns the inner packet's own length or 0. */
static size_t inner_len(uint8_t nh, const uint8_t *ip, size_t len)
{
	if (nh == ESP_NH_IPV4) {
		size_t ihl, total;

		if (len < 20 || ip[0] >> 4 != 4)
			return 0;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		total = (size_t)ip[2] << 8 | ip[3];
		if (ihl < 20 || total < ihl || total > len)
			return 0;
		return total;
	}
	if (len < 40 || ip[0] >> 4 != 6)
		return 0;
	size_t total = 40 + ((size_t)ip[4] << 8 | ip[5]);

	return total <= len ? total : 0;
}

static bool sels_match(const struct esp_sel *sels, unsigned n, const uint8_t *ip, size_t len,
                       bool use_src)
{
	for (unsigned i = 0; i < n && i < ESP_MAX_SELS; i++)
		if (esp_sel_match_pkt(&sels[i], ip, len, use_src))
			return true;
	return false;
}

int esp_decap(struct esp_sa *sa, struct pkt *p)
{
	size_t hl = ESP_HDR_LEN + sa->iv_len, ct_len, pad, len;
	uint8_t aad[12], seq_hi[4], *hdr = p->data, *ct, *icv;
	const uint8_t *ad = hdr, *trailer = NULL;
	size_t ad_len = ESP_HDR_LEN, trailer_len = 0;
	uint64_t seq;
	uint8_t nh;

	/* Header, IV, ICV and at least pad length + next header; ciphertext
	 * in whole blocks (§2.4: 4-byte alignment even for stream-like AEADs). */
	if (p->len < hl + sa->icv_len + ESP_TRAILER)
		return drop(sa, ESP_DROP_SHORT);
	ct_len = p->len - hl - sa->icv_len;
	if (ct_len % sa->block)
		return drop(sa, ESP_DROP_SHORT);
	if (get32(hdr) != sa->spi)
		return drop(sa, ESP_DROP_UNKNOWN_SPI);

	/* §3.4.3: the cheap replay check comes before the ICV, read-only. */
	seq = replay_infer(&sa->replay, get32(hdr + 4), sa->esn);
	if (replay_check(&sa->replay, seq) < 0)
		return drop(sa, ESP_DROP_REPLAY);

	if (sa->classic) {
		if (sa->esn) {
			put32(seq_hi, (uint32_t)(seq >> 32));
			trailer = seq_hi;
			trailer_len = sizeof(seq_hi);
		}
	} else if (sa->esn) {
		memcpy(aad, hdr, 4);
		put32(aad + 4, (uint32_t)(seq >> 32));
		memcpy(aad + 8, hdr + 4, 4);
		ad = aad;
		ad_len = sizeof(aad);
	}
	ct = hdr + hl;
	icv = ct + ct_len;
	if (aead_open(sa->aead, hdr + ESP_HDR_LEN, ad, ad_len, trailer, trailer_len, ct, ct_len,
	              icv) < 0)
		return drop(sa, ESP_DROP_ICV);
	/* Authentic: only now may the window move (§3.4.3, Appendix A2.3). */
	replay_update(&sa->replay, seq);

	nh = ct[ct_len - 1];
	pad = ct[ct_len - 2];
	if (pad + ESP_TRAILER > ct_len)
		return drop(sa, ESP_DROP_PAD);
	len = ct_len - ESP_TRAILER - pad;
	/* §2.4: the default padding is 1, 2, 3, ...; we check it as the RFC
	 * asks a receiver to when the default scheme is in use. */
	for (size_t i = 0; i < pad; i++)
		if (ct[len + i] != (uint8_t)(i + 1))
			return drop(sa, ESP_DROP_PAD);

	if (nh == ESP_NH_NONE)
		return drop(sa, ESP_DROP_DUMMY); /* §2.6: discard silently */
	if (nh != ESP_NH_IPV4 && nh != ESP_NH_IPV6)
		return drop(sa, ESP_DROP_NEXT_HDR);
	len = inner_len(nh, ct, len);
	if (!len)
		return drop(sa, ESP_DROP_NEXT_HDR);

	/* RFC 4301 §5.2: the inner packet must be one this SA may carry. */
	if (!sels_match(sa->remote_sels, sa->n_remote, ct, len, true) ||
	    !sels_match(sa->local_sels, sa->n_local, ct, len, false))
		return drop(sa, ESP_DROP_SELECTOR);

	p->data = ct;
	p->len = len;
	atomic_fetch_add_explicit(&sa->stats.packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sa->stats.bytes, len, memory_order_relaxed);
	return 0;
}
