/*
 * libFuzzer target: the inbound ESP data path, esp_decap() and what runs
 * around it in daemon/loop.c (natt_classify, sad_lookup_in, mss_clamp), on a
 * packet laid out exactly as the daemon lays it out: one PKT_CELL buffer,
 * data PKT_HEADROOM bytes in, everything outside the datagram poisoned so
 * that ASan reports a read past the packet even though it is inside the cell.
 *
 * Random bytes never pass an ICV, so only the checks before it (length,
 * alignment, SPI, replay) would ever see fuzzed data. Two of the four modes
 * therefore seal the fuzzer's bytes with the matching outbound keys first,
 * so that everything after the ICV (padding, next header, inner IP header,
 * selectors, MSS clamping) gets fuzzed too.
 *
 * Input:
 *	[0]     mode (bits 7-6) | suite (bits 2-0)
 *	[1]     flags: bits 1-0 replay window (1024, 0, 64, 128),
 *	        bit 2 narrow selectors (protocols, ports) instead of any
 *	[2..9]  replay top to preload (big endian), 0: none
 *	[10..]  body, by mode:
 *	  0 raw:      an ESP packet (SPI ..ICV) for the suite's SA
 *	  1 seal:     seq_lo(4) | plaintext: inner packet + padding + pad length +
 *	              next header as the fuzzer wrote them (truncated to the
 *	              suite's block), sealed with aead_seal() as RFC 4303 says
 *	  2 encap:    seq_lo(4) | inner IP packet, through esp_encap() and back;
 *	              a round trip that must give the packet back
 *	  3 datagram: a UDP payload on port 4500: classified, the SA looked up
 *	              by its SPI among all suites' SAs, then decapsulated
 *
 * The replay window is re-created for every input (same flags, same
 * outcome: libFuzzer needs inputs to be independent of each other).
 *
 * The seed corpus in tests/fuzz/corpus/esp_decap/ was written by this file
 * built as a plain program with -DESP_DECAP_FUZZ_SEEDS (and the sources of
 * FUZZ_LIB_esp_decap_fuzz in the Makefile, without -fsanitize=fuzzer), run
 * as `seeds tests/fuzz/corpus/esp_decap`.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "esp/esp.h"
#include "esp/natt.h"
#include "esp/replay.h"
#include "esp/sad.h"
#include "esp/sel.h"
#include "tun/mss.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef POISON
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define HDR_LEN       10 /* mode/suite, flags, top */
#define TUN_MTU       1400
#define SPI_BASE      0x7e570100u
#define MODE_RAW      0
#define MODE_SEAL     1
#define MODE_ENCAP    2
#define MODE_DATAGRAM 3

struct suite {
	const char *name;
	int encr;
	unsigned bits;
	int integ;
	bool esn;
};

/* Index = low three bits of byte 0. */
static const struct suite suites[8] = {
    {"aes128gcm16", ENCR_AES_GCM_16, 128, AUTH_NONE, false},
    {"aes256gcm16", ENCR_AES_GCM_16, 256, AUTH_NONE, false},
    {"chacha20poly1305", ENCR_CHACHA20_POLY1305, 256, AUTH_NONE, false},
    {"aes128-sha256", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_256_128, false},
    {"aes128gcm16-esn", ENCR_AES_GCM_16, 128, AUTH_NONE, true},
    {"aes256gcm16-esn", ENCR_AES_GCM_16, 256, AUTH_NONE, true},
    {"chacha20poly1305-esn", ENCR_CHACHA20_POLY1305, 256, AUTH_NONE, true},
    {"aes256-sha256-esn", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_256_128, true},
};

static const uint32_t windows[4] = {REPLAY_DEFAULT, 0, 64, 128};

static struct esp_sa sa_in[8], sa_out[8];
static struct esp_sel any_local[2], any_remote[2];
static struct esp_sel narrow_local[3], narrow_remote[4];
static struct sad *sad;
static uint8_t *cell;
/* ESP_DECAP_FUZZ_VERBOSE=1: one line per input saying what became of it,
 * for reading a reproducer or checking what the seeds reach. */
static bool verbose;

static void die(const char *what)
{
	fprintf(stderr, "esp_decap_fuzz: %s\n", what);
	abort();
}

static struct esp_sel sel(const char *cidr, uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct esp_sel s;

	if (esp_sel_parse(&s, cidr) < 0)
		die("bad selector in the fuzz target");
	s.proto = proto;
	s.port_lo = lo;
	s.port_hi = hi;
	return s;
}

static struct aead *mk_aead(unsigned i)
{
	const struct suite *s = &suites[i];
	uint8_t km[AEAD_MAX_KEYMAT];
	size_t n = aead_keymat_len(s->encr, s->bits, s->integ);
	struct aead *a;

	if (n == 0 || n > sizeof(km))
		die("suite not supported");
	for (size_t k = 0; k < n; k++)
		km[k] = (uint8_t)(0x40 + 7 * k + 31 * i);
	if (aead_new(&a, s->encr, s->bits, s->integ, km, n) < 0)
		die("aead_new");
	return a;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		die("sodium_init");
	verbose = getenv("ESP_DECAP_FUZZ_VERBOSE") != NULL;
	any_local[0] = sel("0.0.0.0/0", 0, 0, 65535);
	any_local[1] = sel("::/0", 0, 0, 65535);
	any_remote[0] = any_local[0];
	any_remote[1] = any_local[1];
	/* Remote (inner source): TCP from unprivileged ports, ICMP echo
	 * request (type 8 in the port's high byte, RFC 4301 §4.4.1.1), IKE
	 * over UDP, any from a documentation prefix. */
	narrow_remote[0] = sel("10.0.0.0/8", 6, 1024, 65535);
	narrow_remote[1] = sel("192.168.1.0/24", 1, 0x0800, 0x08ff);
	narrow_remote[2] = sel("fd00::/8", 17, 500, 500);
	narrow_remote[3] = sel("2001:db8::/32", 0, 0, 65535);
	/* Local (inner destination). */
	narrow_local[0] = sel("0.0.0.0/0", 17, 0, 65535);
	narrow_local[1] = sel("10.1.0.0/16", 0, 0, 65535);
	narrow_local[2] = sel("::/0", 58, 0, 65535);

	sad = sad_new();
	if (!sad)
		die("sad_new");
	for (unsigned i = 0; i < 8; i++) {
		if (esp_sa_init(&sa_in[i], SPI_BASE + i, true, suites[i].esn, mk_aead(i),
		                REPLAY_DEFAULT) < 0 ||
		    esp_sa_init(&sa_out[i], SPI_BASE + i, false, suites[i].esn, mk_aead(i), 0) < 0)
			die("esp_sa_init");
		if (sad_add_in(sad, &sa_in[i]) < 0)
			die("sad_add_in");
	}
	/* Heap, not static: ASan then also catches anything past the cell. */
	cell = malloc(PKT_CELL);
	if (!cell)
		die("malloc");
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The state an input starts from: a fresh window (optionally advanced to
 * top, for ESN inference) and the selectors the flags ask for. */
static void sa_reset(struct esp_sa *sa, uint8_t flags, uint64_t top)
{
	replay_free(&sa->replay);
	if (replay_init(&sa->replay, windows[flags & 3]) < 0)
		die("replay_init");
	if (top)
		replay_update(&sa->replay, top);
	if (flags & 4) {
		if (esp_sa_set_sels(sa, narrow_local, 3, narrow_remote, 4) < 0)
			die("esp_sa_set_sels");
	} else {
		if (esp_sa_set_sels(sa, any_local, 2, any_remote, 2) < 0)
			die("esp_sa_set_sels");
	}
}

/* esp_decap() with only [p->data, p->data + p->len) addressable. */
static int decap_fenced(struct esp_sa *sa, struct pkt *p)
{
	size_t off = pkt_headroom(p), end = off + p->len;
	int rc;

	POISON(cell, off);
	POISON(cell + end, PKT_CELL - end);
	rc = esp_decap(sa, p);
	UNPOISON(cell, PKT_CELL);
	if (verbose)
		fprintf(stderr, "esp_decap_fuzz: spi %08x: %s, inner %zu bytes\n", sa->spi,
		        esp_drop_name((enum esp_drop) - rc), rc == 0 ? p->len : 0);
	return rc;
}

/* What the daemon does with a decapsulated packet before the TUN write. */
static void deliver(struct pkt *p)
{
	size_t off = pkt_headroom(p), end = off + p->len;

	POISON(cell, off);
	POISON(cell + end, PKT_CELL - end);
	mss_clamp(p->data, p->len, TUN_MTU);
	UNPOISON(cell, PKT_CELL);
}

/* The inner packet's own length as RFC 791 / RFC 8200 put it, 0 if its
 * header is not one esp_decap() may hand on. Written independently of
 * esp.c, as the oracle for the round trip. */
static size_t ip_total(const uint8_t *ip, size_t len)
{
	if (len >= 20 && ip[0] >> 4 == 4) {
		size_t ihl = (size_t)(ip[0] & 15) * 4, tot = (size_t)ip[2] << 8 | ip[3];

		return ihl >= 20 && tot >= ihl && tot <= len ? tot : 0;
	}
	if (len >= 40 && ip[0] >> 4 == 6) {
		size_t tot = 40 + ((size_t)ip[4] << 8 | ip[5]);

		return tot <= len ? tot : 0;
	}
	return 0;
}

static int run_raw(struct esp_sa *sa, const uint8_t *body, size_t n)
{
	struct pkt p;

	if (n > PKT_CELL - PKT_HEADROOM)
		return 0; /* the daemon drops it as truncated */
	pkt_init(&p, cell, PKT_CELL, PKT_HEADROOM);
	memcpy(p.data, body, n);
	p.len = n;
	if (decap_fenced(sa, &p) == 0)
		deliver(&p);
	return 0;
}

static int run_datagram(uint8_t flags, uint64_t top, const uint8_t *body, size_t n)
{
	struct esp_sa *sa;
	struct pkt p;

	if (n > PKT_CELL - PKT_HEADROOM)
		return 0;
	if (natt_classify(body, n) != NATT_ESP)
		return 0;
	pkt_init(&p, cell, PKT_CELL, PKT_HEADROOM);
	memcpy(p.data, body, n);
	p.len = n;
	sa = sad_lookup_in(sad, esp_peek_spi(&p));
	if (!sa)
		return 0;
	if (sa->spi != esp_peek_spi(&p))
		die("sad_lookup_in returned an SA with another SPI");
	sa_reset(sa, flags, top);
	if (decap_fenced(sa, &p) == 0)
		deliver(&p);
	return 0;
}

/* The full 64-bit number the receiver will infer for seq_lo. */
static uint64_t seq_for(const struct esp_sa *in, uint32_t seq_lo)
{
	return replay_infer(&in->replay, seq_lo, in->esn);
}

static int run_seal(unsigned si, uint8_t flags, const uint8_t *body, size_t n)
{
	struct esp_sa *in = &sa_in[si], *out = &sa_out[si];
	uint8_t aad[12], seq_hi[4], *hdr, *iv, *ct, *icv;
	const uint8_t *ad, *trailer = NULL, *pt;
	size_t ad_len = ESP_HDR_LEN, trailer_len = 0, ct_len, pad, len;
	uint64_t seq;
	struct pkt p;
	bool fresh;
	int rc;

	if (n < 4)
		return 0;
	seq = seq_for(in, get32(body));
	fresh = replay_check(&in->replay, seq) == 0;
	pt = body + 4;
	ct_len = (n - 4) / in->block * in->block;
	if (ESP_HDR_LEN + in->iv_len + ct_len + in->icv_len > PKT_CELL - PKT_HEADROOM)
		return 0;

	pkt_init(&p, cell, PKT_CELL, PKT_HEADROOM);
	hdr = p.data;
	iv = hdr + ESP_HDR_LEN;
	ct = iv + in->iv_len;
	icv = ct + ct_len;
	put32(hdr, in->spi);
	put32(hdr + 4, (uint32_t)seq);
	aead_make_iv(out->aead, seq, iv);
	memcpy(ct, pt, ct_len);
	/* What the ICV covers, RFC 4303 §2.2.1 (classic, ESN high half as
	 * an implicit trailer), RFC 4106 §5 / RFC 7634 §2.1 (AEAD AAD). */
	ad = hdr;
	if (in->classic && in->esn) {
		put32(seq_hi, (uint32_t)(seq >> 32));
		trailer = seq_hi;
		trailer_len = 4;
	} else if (!in->classic && in->esn) {
		put32(aad, in->spi);
		put32(aad + 4, (uint32_t)(seq >> 32));
		put32(aad + 8, (uint32_t)seq);
		ad = aad;
		ad_len = 12;
	}
	if (aead_seal(out->aead, iv, ad, ad_len, trailer, trailer_len, ct, ct_len, icv) < 0)
		die("aead_seal failed on a block-aligned buffer");
	p.len = ESP_HDR_LEN + in->iv_len + ct_len + in->icv_len;

	rc = decap_fenced(in, &p);
	if (rc == 0)
		deliver(&p);

	/* Oracle: what RFC 4303 §2.4 / §2.6 and RFC 4301 §5.2 allow. */
	if (ct_len < 2) {
		if (rc != -ESP_DROP_SHORT)
			die("seal: too short for a trailer, yet not dropped as short");
		return 0;
	}
	if (!fresh) {
		if (rc != -ESP_DROP_REPLAY)
			die("seal: replayed sequence number not dropped as replay");
		return 0;
	}
	if (rc == -ESP_DROP_ICV || rc == -ESP_DROP_SHORT || rc == -ESP_DROP_REPLAY)
		die("seal: a correctly sealed packet was dropped before decryption");
	pad = pt[ct_len - 2];
	bool pad_ok = pad + 2 <= ct_len;

	for (size_t i = 0; pad_ok && i < pad; i++)
		pad_ok = pt[ct_len - 2 - pad + i] == (uint8_t)(i + 1);
	if (!pad_ok) {
		if (rc != -ESP_DROP_PAD)
			die("seal: bad padding accepted");
		return 0;
	}
	if (rc == -ESP_DROP_PAD)
		die("seal: good padding rejected");
	len = ct_len - 2 - pad;
	if (pt[ct_len - 1] == ESP_NH_NONE) {
		if (rc != -ESP_DROP_DUMMY)
			die("seal: dummy packet (next header 59) not discarded");
		return 0;
	}
	uint8_t nh = pt[ct_len - 1];
	size_t total = ip_total(pt, len);
	bool hdr_ok = total && ((nh == ESP_NH_IPV4 && pt[0] >> 4 == 4) ||
	                        (nh == ESP_NH_IPV6 && pt[0] >> 4 == 6));

	if (rc == 0 && (!hdr_ok || p.data != ct || p.len != total))
		die("seal: accepted an inner packet that does not fit its trailer");
	if (rc == -ESP_DROP_NEXT_HDR && hdr_ok)
		die("seal: a well-formed inner packet was dropped as next-header");
	if (rc == -ESP_DROP_SELECTOR && (!hdr_ok || !(flags & 4)))
		die("seal: selector drop of a malformed packet or with any/any selectors");
	if (rc != 0 && rc != -ESP_DROP_NEXT_HDR && rc != -ESP_DROP_SELECTOR)
		die("seal: unexpected drop reason after a good ICV and padding");
	return 0;
}

static int run_encap(unsigned si, uint8_t flags, const uint8_t *body, size_t n)
{
	struct esp_sa *in = &sa_in[si], *out = &sa_out[si];
	const uint8_t *inner;
	uint64_t seq;
	size_t len, want;
	struct pkt p;
	bool fresh;
	int rc;

	if (n < 4)
		return 0;
	seq = seq_for(in, get32(body));
	fresh = replay_check(&in->replay, seq) == 0;
	inner = body + 4;
	len = n - 4;
	/* The TUN read leaves room for the trailer (daemon/loop.c). */
	if (len > PKT_CELL - PKT_HEADROOM - PKT_TAILROOM || seq == 0)
		return 0;
	pkt_init(&p, cell, PKT_CELL, PKT_HEADROOM);
	memcpy(p.data, inner, len);
	p.len = len;
	mss_clamp(p.data, p.len, TUN_MTU); /* outbound, as the daemon does */
	/* The clamped packet is what must come back. */
	uint8_t *sent = malloc(len ? len : 1);

	if (!sent)
		die("malloc");
	memcpy(sent, p.data, len);
	esp_sa_set_seq(out, seq - 1);
	rc = esp_encap(out, &p);
	if (rc < 0) {
		if (rc != -ESP_DROP_NOT_IP && rc != -ESP_DROP_TOO_BIG)
			die("encap: unexpected drop");
		if (rc == -ESP_DROP_NOT_IP &&
		    ((len >= 20 && sent[0] >> 4 == 4) || (len >= 40 && sent[0] >> 4 == 6)))
			die("encap: an IP packet was called not IP");
		free(sent);
		return 0;
	}
	rc = decap_fenced(in, &p);
	if (rc == 0)
		deliver(&p);

	if (!fresh) {
		if (rc != -ESP_DROP_REPLAY)
			die("encap: replayed sequence number not dropped as replay");
	} else if (rc == 0) {
		want = ip_total(sent, len);
		if (p.len != want || memcmp(p.data, sent, want) != 0) {
			/* mss_clamp in deliver() may have rewritten it
			 * again, which must be a no-op on a clamped SYN. */
			die("encap: round trip changed the packet");
		}
	} else if (rc == -ESP_DROP_NEXT_HDR) {
		if (ip_total(sent, len) != 0)
			die("encap: a well-formed inner packet was dropped as next-header");
	} else if (rc == -ESP_DROP_SELECTOR) {
		if (!(flags & 4))
			die("encap: selector drop with any/any selectors");
	} else {
		die("encap: round trip dropped a packet esp_encap() made");
	}
	free(sent);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode, si;
	uint8_t flags;
	uint64_t top;

	if (size < HDR_LEN)
		return 0;
	mode = data[0] >> 6;
	si = data[0] & 7;
	flags = data[1];
	top = get64(data + 2);
	data += HDR_LEN;
	size -= HDR_LEN;

	if (mode == MODE_DATAGRAM)
		return run_datagram(flags, top, data, size);
	sa_reset(&sa_in[si], flags, top);
	switch (mode) {
	case MODE_RAW:
		return run_raw(&sa_in[si], data, size);
	case MODE_SEAL:
		return run_seal(si, flags, data, size);
	default:
		return run_encap(si, flags, data, size);
	}
}

#ifdef ESP_DECAP_FUZZ_SEEDS
/* ---- seed corpus writer (not part of the fuzz target) ----------------- */

static const char *outdir;

static void emit(const char *name, uint8_t mode_suite, uint8_t flags, uint64_t top,
                 const uint8_t *body, size_t n)
{
	char path[4096];
	uint8_t hdr[HDR_LEN];
	FILE *f;

	hdr[0] = mode_suite;
	hdr[1] = flags;
	put32(hdr + 2, (uint32_t)(top >> 32));
	put32(hdr + 6, (uint32_t)top);
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(hdr, 1, HDR_LEN, f) != HDR_LEN || fwrite(body, 1, n, f) != n ||
	    fclose(f) != 0)
		die(path);
}

static void csum_fix(uint8_t *ip)
{
	uint32_t s = 0;

	ip[10] = ip[11] = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	ip[10] = (uint8_t)(~s >> 8);
	ip[11] = (uint8_t)~s;
}

/* 10.1.2.3 -> 10.1.0.1 ICMP echo request, 28 bytes. */
static size_t v4_icmp(uint8_t *b)
{
	/* clang-format off */
	static const uint8_t pkt[28] = {
	    0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 1, 2, 3, 10, 1, 0, 1,	/* IPv4 */
	    8, 0, 0xf7, 0xfe, 0, 1, 0, 0};					/* echo */
	/* clang-format on */
	memcpy(b, pkt, sizeof(pkt));
	csum_fix(b);
	return sizeof(pkt);
}

/* 10.9.8.7:40000 -> 10.1.0.1:80 TCP SYN with MSS 1460 (clamped to fit). */
static size_t v4_syn(uint8_t *b)
{
	/* clang-format off */
	static const uint8_t pkt[44] = {
	    0x45, 0, 0, 44, 0, 2, 0x40, 0, 64, 6, 0, 0, 10, 9, 8, 7, 10, 1, 0, 1,	/* IPv4 */
	    0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0xff, 0xff, 0, 0, 0, 0, /* TCP */
	    2, 4, 0x05, 0xb4};							/* MSS */
	/* clang-format on */
	memcpy(b, pkt, sizeof(pkt));
	csum_fix(b);
	return sizeof(pkt);
}

/* fd00::2:500 -> fd01::1:500 UDP with 4 bytes of payload, 52 bytes;
 * with ext, a hop-by-hop header and a fragment header (first fragment)
 * in front of the UDP header, 68 bytes. */
static size_t v6_udp(uint8_t *b, bool ext)
{
	size_t o = 40;

	memset(b, 0, 80);
	b[0] = 0x60;
	b[6] = ext ? 0 : 17;
	b[7] = 64;
	b[8] = 0xfd;
	b[23] = 2;
	b[24] = 0xfd;
	b[25] = 0x01;
	b[39] = 1;
	if (ext) {
		b[o] = 44; /* hop-by-hop, PadN filling its 8 bytes */
		b[o + 2] = 1;
		b[o + 3] = 4;
		o += 8;
		b[o] = 17; /* fragment: offset 0, M=1 */
		b[o + 3] = 1;
		b[o + 4] = 0x12;
		o += 8;
	}
	b[o] = 0x01; /* 500 -> 500 */
	b[o + 1] = 0xf4;
	b[o + 2] = 0x01;
	b[o + 3] = 0xf4;
	b[o + 5] = 12;
	memcpy(b + o + 8, "ping", 4);
	o += 12;
	b[5] = (uint8_t)(o - 40);
	return o;
}

/* A real ESP packet of suite si carrying inner, sequence number seq. */
static size_t sealed(unsigned si, uint64_t seq, const uint8_t *inner, size_t n, uint8_t *out)
{
	struct pkt p;

	pkt_init(&p, cell, PKT_CELL, PKT_HEADROOM);
	memcpy(p.data, inner, n);
	p.len = n;
	esp_sa_set_seq(&sa_out[si], seq - 1);
	if (esp_encap(&sa_out[si], &p) < 0)
		die("esp_encap while writing seeds");
	memcpy(out, p.data, p.len);
	return p.len;
}

/* seq_lo | inner | 1,2,.. | pad length | next header, aligned to block. */
static size_t trailer_body(uint32_t seq_lo, const uint8_t *inner, size_t n, uint8_t nh,
                           unsigned block, uint8_t *out)
{
	size_t pad = (block - (n + 2) % block) % block, o = 4;

	put32(out, seq_lo);
	if (n)
		memcpy(out + o, inner, n);
	o += n;
	for (size_t i = 0; i < pad; i++)
		out[o++] = (uint8_t)(i + 1);
	out[o++] = (uint8_t)pad;
	out[o++] = nh;
	return o;
}

int main(int argc, char **argv)
{
	uint8_t v4[64], syn[64], v6[96], v6x[96], buf[512], body[512];
	size_t n4, nsyn, n6, n6x, n;
	char name[96];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 1;
	}
	outdir = argv[1];
	LLVMFuzzerInitialize(&argc, &argv);
	n4 = v4_icmp(v4);
	nsyn = v4_syn(syn);
	n6 = v6_udp(v6, false);
	n6x = v6_udp(v6x, true);

	/* Mode 0: one valid packet per suite, IPv4 on even, IPv6 on odd. */
	for (unsigned si = 0; si < 8; si++) {
		n = si & 1 ? sealed(si, 1, v6, n6, buf) : sealed(si, 1, v4, n4, buf);
		snprintf(name, sizeof(name), "raw-%s-%s", suites[si].name, si & 1 ? "v6" : "v4");
		emit(name, (uint8_t)(MODE_RAW << 6 | si), 0, 0, buf, n);
	}
	/* ESN across a high-half boundary: top 2^32 - 2, packet 2^32 + 1. */
	n = sealed(4, (1ull << 32) + 1, v4, n4, buf);
	emit("raw-aes128gcm16-esn-wrap", MODE_RAW << 6 | 4, 0, (1ull << 32) - 2, buf, n);
	n = sealed(7, (1ull << 32) + 1, v6, n6, buf);
	emit("raw-aes256-sha256-esn-wrap", MODE_RAW << 6 | 7, 2, (1ull << 32) - 2, buf, n);

	/* Mode 1: plaintext and trailer, for both block sizes. */
	n = trailer_body(1, v4, n4, ESP_NH_IPV4, 4, body);
	emit("seal-gcm-v4", MODE_SEAL << 6 | 0, 0, 0, body, n);
	n = trailer_body(7, v6x, n6x, ESP_NH_IPV6, 4, body);
	emit("seal-chacha-v6-ext-narrow", MODE_SEAL << 6 | 2, 4, 0, body, n);
	n = trailer_body(3, syn, nsyn, ESP_NH_IPV4, 16, body);
	emit("seal-cbc-v4-syn", MODE_SEAL << 6 | 3, 0, 0, body, n);
	n = trailer_body(1, v6, n6, ESP_NH_IPV6, 16, body);
	emit("seal-cbc-esn-v6", MODE_SEAL << 6 | 7, 1, 0x100000000ull, body, n);
	n = trailer_body(2, NULL, 0, ESP_NH_NONE, 4, body);
	emit("seal-gcm-esn-dummy", MODE_SEAL << 6 | 4, 0, 0, body, n);
	n = trailer_body(9, v4, n4, ESP_NH_IPV4, 4, body);
	body[n - 2] = 3; /* pad length past the padding written */
	emit("seal-gcm-badpad", MODE_SEAL << 6 | 1, 0, 0, body, n);

	/* Mode 2: inner packets through esp_encap() and back. */
	put32(body, 1);
	memcpy(body + 4, syn, nsyn);
	emit("encap-gcm-v4-syn-narrow", MODE_ENCAP << 6 | 0, 4, 0, body, 4 + nsyn);
	memcpy(body + 4, v4, n4);
	emit("encap-cbc-v4-icmp-narrow", MODE_ENCAP << 6 | 3, 6, 0, body, 4 + n4);
	memcpy(body + 4, v6, n6);
	emit("encap-chacha-esn-v6-narrow", MODE_ENCAP << 6 | 6, 4, 5, body, 4 + n6);
	memcpy(body + 4, v6x, n6x);
	emit("encap-cbc-esn-v6-ext", MODE_ENCAP << 6 | 7, 0, 0, body, 4 + n6x);
	put32(body, 0);
	memcpy(body + 4, v4, n4);
	emit("encap-gcm-esn-v4-wrap", MODE_ENCAP << 6 | 5, 3, 0xffffffffull, body, 4 + n4);

	/* Mode 3: what arrives on port 4500. */
	body[0] = NATT_KEEPALIVE_BYTE;
	emit("dgram-keepalive", MODE_DATAGRAM << 6, 0, 0, body, 1);
	memset(body, 0, 12);
	emit("dgram-ike-marker", MODE_DATAGRAM << 6, 0, 0, body, 12);
	n = sealed(2, 5, syn, nsyn, buf);
	emit("dgram-chacha-v4-syn", MODE_DATAGRAM << 6, 0, 0, buf, n);
	n = sealed(5, 3, v6x, n6x, buf);
	emit("dgram-gcm256-esn-v6-ext", MODE_DATAGRAM << 6, 0, 0, buf, n);
	return 0;
}
#endif
