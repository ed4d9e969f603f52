/*
 * libFuzzer target for the whole IKEv2 engine (ike/engine.c), two engines
 * ("moon" initiating, "sun" responding; PSK, aes256gcm16-prfsha256-x25519)
 * with deterministic SPIs and nonces. The first input byte picks a mode:
 *
 *   0  the rest is one datagram to a fresh responder (unauthenticated path:
 *      IKE_SA_INIT parsing, COOKIE demand when bit 2 asks for a threshold
 *      of 1 and bit 3 has a real IKE_SA_INIT make one SA half-open first),
 *      then its timers run at a time from the input's last bytes;
 *   1  the rest is an IKE_SA_INIT response to a real request of ours
 *      (its SPIi patched in): on_init_response without a responder;
 *   2, 3 a handshake is run to completion (bit 2: a small fragment_len, so
 *      that IKE_AUTH and later messages go as RFC 7383 fragments), then the
 *      rest is a program of operations on the two engines and the datagrams
 *      between them: deliver, drop, duplicate, corrupt the ciphertext,
 *      mutate the *plain text* of a real message and re-seal it with the
 *      SA's own keys (so that authenticated handlers see it), inject a
 *      sealed message whose payload chain is the input's, inject raw bytes
 *      with the right SPIs, call the API (rekeys, deletes, acquire, a second
 *      initiate) and move the clock for handle_expiry().
 *
 * Random bytes never pass an ICV, so to reach what lies behind SK this file
 * includes ike/engine.c itself (the Makefile builds this target without
 * linking it again): it reads the SA's SK contexts and, through the two
 * macros below, sees every plain message the engine seals. Nothing is
 * cached between inputs: both engines are made and freed per input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/msg.h"

/* The engine's seal() calls go through these, which remember the plain
 * text of every datagram they produce (see record_plain()). */
static int fz_msg_encrypt(struct aead *a, const uint8_t *plain, size_t plain_len, uint8_t *out,
                          size_t cap);
static int fz_frag_split(struct aead *a, const uint8_t *plain, size_t plain_len, size_t max_len,
                         uint8_t *out, size_t cap, size_t *frag_len, unsigned max_frags);
#define ike_msg_encrypt fz_msg_encrypt
#define ike_frag_split  fz_frag_split
#include "ike/engine.c"
#undef ike_msg_encrypt
#undef ike_frag_split

#define MS      1000000ULL
#define NPLAIN  48
#define NQ      48
#define MAXSTEP 400

/* Ciphertext -> plain text, for the plain-text mutation operation. */
struct plain_rec {
	size_t clen, plen;
	uint8_t c[64]; /* the datagram's first bytes, enough to tell them apart */
	uint8_t p[IKE_ENGINE_MSG_MAX];
};

struct qpkt {
	int to;
	struct ike_path path; /* as the receiver sees it */
	size_t len;
	uint8_t buf[IKE_ENGINE_MSG_MAX];
};

struct fz {
	struct ike_engine *e[2];
	uint64_t rnd[2];
	struct ike_path path[2]; /* node i to the other */
	ike_time_t now;
	size_t nq;
	struct qpkt q[NQ];
	uint32_t child_spi[2]; /* spi_in of the latest CHILD_UP per side */
	uint32_t sa_id[2];     /* id of the latest IKE_UP per side */
	const uint8_t *in;
	size_t in_len, pos;
};

static struct plain_rec plains[NPLAIN];
static unsigned n_plain;
static struct fz F;
static uint8_t scratch[IKE_SA_TRAIN_MAX + IKE_ENGINE_MSG_MAX], plainbuf[IKE_ENGINE_MSG_MAX];

static void record_plain(const uint8_t *c, size_t clen, const uint8_t *p, size_t plen)
{
	struct plain_rec *r = &plains[n_plain++ % NPLAIN];

	r->clen = clen;
	memcpy(r->c, c, clen < sizeof(r->c) ? clen : sizeof(r->c));
	r->plen = plen;
	memcpy(r->p, p, plen);
}

static int fz_msg_encrypt(struct aead *a, const uint8_t *plain, size_t plain_len, uint8_t *out,
                          size_t cap)
{
	int n = ike_msg_encrypt(a, plain, plain_len, out, cap);

	if (n > 0 && plain_len <= IKE_ENGINE_MSG_MAX)
		record_plain(out, (size_t)n, plain, plain_len);
	return n;
}

static int fz_frag_split(struct aead *a, const uint8_t *plain, size_t plain_len, size_t max_len,
                         uint8_t *out, size_t cap, size_t *frag_len, unsigned max_frags)
{
	int n = ike_frag_split(a, plain, plain_len, max_len, out, cap, frag_len, max_frags);
	size_t off = 0;

	for (int i = 0; i < n && plain_len <= IKE_ENGINE_MSG_MAX; i++) {
		record_plain(out + off, frag_len[i], plain, plain_len);
		off += frag_len[i];
	}
	return n;
}

static const struct plain_rec *plain_of(const uint8_t *c, size_t clen)
{
	for (unsigned k = 0; k < NPLAIN; k++) {
		const struct plain_rec *r = &plains[k];

		if (r->plen && r->clen == clen &&
		    memcmp(r->c, c, clen < sizeof(r->c) ? clen : sizeof(r->c)) == 0)
			return r;
	}
	return NULL;
}

/* --- input reader: zeros once exhausted ---------------------------------- */

static uint8_t in8(void)
{
	return F.pos < F.in_len ? F.in[F.pos++] : 0;
}

static uint16_t in16(void)
{
	uint16_t v = in8();

	return (uint16_t)(v << 8 | in8());
}

static uint32_t in32(void)
{
	uint32_t v = in16();

	return v << 16 | in16();
}

static const uint8_t *in_bytes(size_t *n)
{
	const uint8_t *p = F.in + F.pos;

	if (*n > F.in_len - F.pos)
		*n = F.in_len - F.pos;
	F.pos += *n;
	return p;
}

/* --- the two engines ----------------------------------------------------- */

static void fz_rand(void *ctx, void *buf, size_t len)
{
	uint64_t *st = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		uint64_t x = *st;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		*st = x;
		p[i] = (uint8_t)((x * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

static void set_addr(struct ike_addr *a, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->port = 500;
	a->addr[0] = 192, a->addr[1] = 0, a->addr[2] = 2, a->addr[3] = last;
}

static struct ike_engine *make_engine(int side, unsigned cookie_threshold, size_t frag_len)
{
	static const char psk[] = "fuzzing the engine, not the key";
	struct ike_config c;

	memset(&c, 0, sizeof(c));
	c.local_id.type = c.remote_id.type = IKE_ID_FQDN;
	c.local_id.len = (uint8_t)strlen(side ? "sun.example" : "moon.example");
	memcpy(c.local_id.data, side ? "sun.example" : "moon.example", c.local_id.len);
	c.remote_id.len = (uint8_t)strlen(side ? "moon.example" : "sun.example");
	memcpy(c.remote_id.data, side ? "moon.example" : "sun.example", c.remote_id.len);
	c.psk = (const uint8_t *)psk;
	c.psk_len = sizeof(psk) - 1;
	c.ike_proposals = "aes256gcm16-prfsha256-x25519";
	c.esp_proposals = side ? "aes256gcm16-x25519,aes128gcm16" : "aes256gcm16-x25519";
	if (esp_sel_parse(&c.local_ts[0], side ? "10.2.0.0/16" : "10.1.0.0/16") < 0 ||
	    esp_sel_parse(&c.remote_ts[0], side ? "10.1.0.0/16" : "10.2.0.0/16") < 0)
		abort();
	c.n_local_ts = c.n_remote_ts = 1;
	c.initial_contact = true;
	c.dpd_delay = 30 * IKE_SEC;
	c.child_rekey_time = side ? 0 : 600 * IKE_SEC;
	c.ike_rekey_time = side ? 900 * IKE_SEC : 0;
	c.cookie_threshold = cookie_threshold;
	c.fragment_len = frag_len;
	c.rand = fz_rand;
	F.rnd[side] = 0x1234567 + (uint64_t)side * 0x9E3779B97F4A7C15ULL;
	c.rand_ctx = &F.rnd[side];
	return ike_engine_new(&c);
}

static void fz_setup(unsigned cookie_threshold, size_t frag_len)
{
	F.now = 0;
	F.nq = 0;
	memset(F.child_spi, 0, sizeof(F.child_spi));
	memset(F.sa_id, 0, sizeof(F.sa_id));
	F.e[0] = make_engine(0, 0, frag_len);
	F.e[1] = make_engine(1, cookie_threshold, frag_len);
	if (!F.e[0] || !F.e[1])
		abort();
	set_addr(&F.path[0].local, 1);
	set_addr(&F.path[0].remote, 2);
	F.path[1].local = F.path[0].remote;
	F.path[1].remote = F.path[0].local;
}

static void fz_teardown(void)
{
	struct ike_event ev;

	for (int i = 0; i < 2; i++) {
		if (!F.e[i])
			continue;
		while (ike_engine_poll_event(F.e[i], &ev) == 1)
			ike_event_wipe(&ev);
		ike_engine_free(F.e[i]);
		F.e[i] = NULL;
	}
	sodium_memzero(F.q, sizeof(F.q[0]) * F.nq);
	F.nq = 0;
	memset(plains, 0, sizeof(plains[0]) * (n_plain < NPLAIN ? n_plain : NPLAIN));
	n_plain = 0;
}

static void enqueue(int to, const struct ike_path *rx, const uint8_t *buf, size_t len)
{
	struct qpkt *p;

	if (F.nq == NQ || len > IKE_ENGINE_MSG_MAX)
		return;
	p = &F.q[F.nq++];
	p->to = to;
	p->path = *rx;
	p->len = len;
	memcpy(p->buf, buf, len);
}

/* Collect datagrams and events of both engines; the engine's paths are
 * what it chose (ports 500/4500), mirrored for the receiver. */
static void fz_flush(void)
{
	struct ike_event ev;
	struct ike_path p, rx;
	ssize_t n;

	for (int i = 0; i < 2; i++) {
		if (!F.e[i])
			continue;
		while ((n = ike_engine_poll_tx(F.e[i], &p, scratch, sizeof(scratch))) > 0) {
			rx.local = p.remote;
			rx.remote = p.local;
			enqueue(1 - i, &rx, scratch, (size_t)n);
		}
		if (n != 0)
			abort(); /* the engine's datagrams fit IKE_ENGINE_MSG_MAX */
		while (ike_engine_poll_event(F.e[i], &ev) == 1) {
			if (ev.type == IKE_EV_CHILD_UP)
				F.child_spi[i] = ev.child.spi_in;
			if (ev.type == IKE_EV_IKE_UP)
				F.sa_id[i] = ev.sa_id;
			ike_event_wipe(&ev);
		}
	}
}

static void deliver(const struct qpkt *p)
{
	int rc = ike_engine_recv(F.e[p->to], &p->path, p->buf, p->len, F.now);

	if (rc > 0)
		abort(); /* 0 or a negative code, nothing else */
	fz_flush();
}

static void pop(size_t k, struct qpkt *out)
{
	*out = F.q[k];
	F.q[k] = F.q[--F.nq];
}

/* Deliver everything in flight, then run due timers, a bounded number of
 * times (a retransmission storm must not run forever). */
static void settle(unsigned steps)
{
	static struct qpkt p;

	fz_flush();
	while (steps-- > 0 && F.nq > 0) {
		pop(0, &p);
		deliver(&p);
	}
}

static struct ike_sa *sa_by_spis(struct ike_engine *e, uint64_t spi_i, uint64_t spi_r)
{
	struct ike_sa *sa;

	for (size_t k = 0; (sa = ike_engine_sa_slot(e, k)); k++)
		if (sa->spi_i == spi_i && sa->spi_r == spi_r)
			return sa;
	return NULL;
}

/* The SA an engine would seal a message to its peer with: the first one
 * with SK keys, in the order the input picks. */
static struct ike_sa *sa_with_keys(struct ike_engine *e, uint8_t pick)
{
	size_t n = ike_engine_sa_count(e);
	struct ike_sa *sa;

	for (size_t k = 0; k < n; k++)
		if ((sa = ike_engine_sa_slot(e, (k + pick) % n)) && sa->sk_ready)
			return sa;
	return NULL;
}

/* Seal plain (header Length fixed up here) with sa's SK and deliver it. */
static void seal_deliver(struct ike_sa *sa, int to, uint8_t *plain, size_t plen, bool frag)
{
	size_t flen[IKE_SA_MAX_FRAGS];
	static struct qpkt pkt;
	struct qpkt *p = &pkt;
	struct aead *tx;
	int n;

	if (plen < IKE_HDR_LEN || ike_sa_sk(sa, true, &tx) < 0)
		return;
	wire_store32(plain + 24, (uint32_t)plen);
	p->to = to;
	p->path = sa->path; /* the SA's own path, mirrored */
	p->path.local = sa->path.remote;
	p->path.remote = sa->path.local;
	if (frag) {
		n = ike_frag_split(tx, plain, plen, 200, scratch, sizeof(scratch), flen,
		                   IKE_SA_MAX_FRAGS);
		aead_free(tx);
		for (int i = 0, off = 0; i < n; off += (int)flen[i], i++) {
			memcpy(p->buf, scratch + off, flen[i]);
			p->len = flen[i];
			deliver(p);
		}
		return;
	}
	n = ike_msg_encrypt(tx, plain, plen, p->buf, sizeof(p->buf));
	aead_free(tx);
	if (n > 0) {
		p->len = (size_t)n;
		deliver(p);
	}
}

/* --- operations ------------------------------------------------------------ */

static void op_plain_mutate(void)
{
	static struct qpkt p;
	const struct plain_rec *r;
	struct ike_hdr h;
	struct ike_sa *sa;
	size_t plen;
	unsigned nx;

	if (F.nq == 0)
		return;
	pop(in8() % F.nq, &p);
	r = plain_of(p.buf, p.len);
	if (!r || ike_hdr_parse(&h, r->p, r->plen) < 0 ||
	    !(sa = sa_by_spis(F.e[1 - p.to], h.spi_i, h.spi_r)) || !sa->sk_ready)
		return;
	plen = r->plen;
	memcpy(plainbuf, r->p, plen);
	nx = in8() % 8 + 1;
	for (unsigned k = 0; k < nx; k++) {
		uint16_t at = in16();
		uint8_t v = in8();

		plainbuf[16 + at % (plen - 16)] ^= v;
	}
	if (in8() & 1) { /* truncate the chain */
		size_t cut = in16() % (plen - IKE_HDR_LEN + 1);

		plen = IKE_HDR_LEN + cut;
	}
	seal_deliver(sa, p.to, plainbuf, plen, in8() & 1);
}

static void op_inject_sealed(void)
{
	int from = in8() & 1;
	struct ike_sa *sa = F.e[from] ? sa_with_keys(F.e[from], in8()) : NULL;
	uint8_t exch = in8(), flags = in8(), idmode = in8(), np = in8();
	uint32_t msg_id = in32();
	size_t n = in16() % (IKE_ENGINE_MSG_MAX - IKE_HDR_LEN);
	const uint8_t *body = in_bytes(&n);
	uint8_t si[8], sr[8];

	if (!sa)
		return;
	/* Mostly the exchange types and Message IDs that get past the
	 * window check, so that the handlers behind it are reached. */
	if (exch & 0x80)
		exch = (uint8_t)(IKE_SA_INIT + exch % 4);
	switch (idmode % 4) {
	case 0:
		msg_id = sa->tx_id; /* a request in the window */
		break;
	case 1:
		msg_id = sa->rx_id ? sa->rx_id - 1 : 0; /* the response due */
		break;
	case 2:
		msg_id = sa->tx_id - 1;
		break;
	default:
		break;
	}
	ike_sa_spi_bytes(sa, si, sr);
	memcpy(plainbuf, si, 8);
	memcpy(plainbuf + 8, sr, 8);
	plainbuf[16] = np;
	plainbuf[17] = 0x20;
	plainbuf[18] = exch;
	plainbuf[19] = (uint8_t)((sa->initiator ? IKE_FLAG_I : 0) | (flags & 1 ? IKE_FLAG_R : 0));
	if (flags & 2)
		plainbuf[19] ^= flags & 0xf0;
	wire_store32(plainbuf + 20, msg_id);
	memcpy(plainbuf + IKE_HDR_LEN, body, n);
	seal_deliver(sa, 1 - from, plainbuf, IKE_HDR_LEN + n, flags & 4);
}

static void op_inject_raw(void)
{
	int to = in8() & 1;
	uint8_t mode = in8();
	size_t n = in16() % IKE_ENGINE_MSG_MAX;
	const uint8_t *body = in_bytes(&n);
	struct ike_sa *sa = F.e[to] ? sa_with_keys(F.e[to], mode) : NULL;
	static struct qpkt pkt;
	struct qpkt *p = &pkt;

	memcpy(p->buf, body, n);
	p->len = n;
	if (sa && n >= IKE_HDR_LEN && (mode & 0x80)) {
		uint8_t si[8], sr[8];

		ike_sa_spi_bytes(sa, si, sr);
		memcpy(p->buf, si, 8);
		memcpy(p->buf + 8, sr, 8);
		p->buf[17] = 0x20;
		wire_store32(p->buf + 24, (uint32_t)n);
	}
	p->to = to;
	p->path = F.path[1 - to];
	p->path.local = F.path[1 - to].remote;
	p->path.remote = F.path[1 - to].local;
	deliver(p);
}

static void op_api(void)
{
	int s = in8() & 1;
	uint8_t what = in8();
	struct ike_engine *e = F.e[s];
	struct esp_sel src, dst;

	switch (what % 8) {
	case 0:
		ike_engine_rekey_child(e, F.child_spi[s], F.now);
		break;
	case 1:
		ike_engine_rekey_ike(e, F.sa_id[s], F.now);
		break;
	case 2:
		ike_engine_delete_child(e, F.child_spi[s], F.now);
		break;
	case 3:
		ike_engine_delete_ike(e, what & 0x80 ? F.sa_id[s] : in8() % 12, F.now);
		break;
	case 4:
		memset(&src, 0, sizeof(src));
		memset(&dst, 0, sizeof(dst));
		if (esp_sel_parse(&src, s ? "10.2.0.7" : "10.1.0.7") < 0 ||
		    esp_sel_parse(&dst, s ? "10.1.3.4" : "10.2.3.4") < 0)
			abort();
		ike_engine_acquire(e, &F.path[s], &src, &dst, F.now);
		break;
	case 5:
		ike_engine_initiate(e, &F.path[s], F.now);
		break;
	case 6:
		ike_engine_child_activity(e, F.child_spi[s], F.now);
		break;
	default:
		ike_engine_rekey_child(e, in32(), F.now);
		break;
	}
	fz_flush();
}

static void op_time(void)
{
	uint32_t d = in32();

	/* Milliseconds up to ~50 days, or exactly the next deadline. */
	if (d & 1) {
		ike_time_t t0 = ike_engine_next_expiry(F.e[0]), t1 = ike_engine_next_expiry(F.e[1]);
		ike_time_t t = t0 < t1 ? t0 : t1;

		if (t != IKE_TIME_NEVER && t > F.now)
			F.now = t;
	} else {
		F.now += (ike_time_t)(d >> 1) * MS;
	}
	for (int i = 0; i < 2; i++)
		if (ike_engine_handle_expiry(F.e[i], F.now) > 0)
			abort();
	fz_flush();
}

static void run_program(void)
{
	static struct qpkt p;
	unsigned steps = 0;

	while (F.pos < F.in_len && steps++ < MAXSTEP) {
		uint8_t op = in8();

		switch (op % 10) {
		case 0: /* deliver one in flight */
			if (F.nq) {
				pop(in8() % F.nq, &p);
				deliver(&p);
			}
			break;
		case 1: /* lose one */
			if (F.nq)
				pop(in8() % F.nq, &p);
			break;
		case 2: /* duplicate one: deliver a copy, keep it in flight */
			if (F.nq) {
				p = F.q[in8() % F.nq];
				deliver(&p);
			}
			break;
		case 3: /* corrupt the ciphertext */
			if (F.nq) {
				pop(in8() % F.nq, &p);
				p.buf[in16() % p.len] ^= (uint8_t)(in8() | 1);
				deliver(&p);
			}
			break;
		case 4:
			op_plain_mutate();
			break;
		case 5:
			op_inject_sealed();
			break;
		case 6:
			op_inject_raw();
			break;
		case 7:
			op_api();
			break;
		case 8:
			op_time();
			break;
		default:
			settle(in8() % 32 + 1);
			break;
		}
	}
	settle(64);
	op_time();
	settle(64);
}

/* --- modes ----------------------------------------------------------------- */

static void mode_responder(uint8_t sel, const uint8_t *d, size_t n)
{
	static struct qpkt p;
	ike_time_t t = 0;

	fz_setup(sel & 4 ? 1 : 0, 0);
	if (sel & 8) {
		ike_engine_initiate(F.e[0], &F.path[0], 0);
		fz_flush();
		if (F.nq) {
			pop(0, &p);
			deliver(&p);
		}
	}
	if (n >= 4)
		t = (ike_time_t)wire_load32(d + n - 4) * MS;
	ike_engine_recv(F.e[1], &F.path[1], d, n, 0);
	fz_flush();
	ike_engine_handle_expiry(F.e[1], t);
	fz_flush();
}

static void mode_init_response(const uint8_t *d, size_t n)
{
	uint8_t *buf = plainbuf;
	struct ike_sa *sa;

	fz_setup(0, 0);
	if (n > sizeof(plainbuf) || ike_engine_initiate(F.e[0], &F.path[0], 0) <= 0)
		return;
	fz_flush();
	memcpy(buf, d, n);
	sa = sa_with_keys(F.e[0], 0);
	for (size_t k = 0; !sa && ike_engine_sa_slot(F.e[0], k); k++)
		if (ike_engine_sa_slot(F.e[0], k)->state == IKE_SA_INIT_SENT)
			sa = ike_engine_sa_slot(F.e[0], k);
	if (sa && n >= 8) {
		uint8_t si[8], sr[8];

		ike_sa_spi_bytes(sa, si, sr);
		memcpy(buf, si, 8);
	}
	ike_engine_recv(F.e[0], &F.path[0], buf, n, 10 * MS);
	fz_flush();
	settle(8);
	ike_engine_handle_expiry(F.e[0], 60 * IKE_SEC);
	fz_flush();
}

static void mode_established(uint8_t sel)
{
	fz_setup(0, sel & 4 ? 300 : 0);
	if (ike_engine_initiate(F.e[0], &F.path[0], 0) <= 0)
		abort();
	settle(16);
	/* The handshake must complete: everything after relies on it. */
	if (!F.child_spi[0] || !F.child_spi[1] || !F.sa_id[0] || !F.sa_id[1])
		abort();
	run_program();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;

	if (size < 1)
		return 0;
	F.in = data;
	F.in_len = size;
	F.pos = 1;
	sel = data[0];
	switch (sel & 3) {
	case 0:
		mode_responder(sel, data + 1, size - 1);
		break;
	case 1:
		mode_init_response(data + 1, size - 1);
		break;
	default:
		mode_established(sel);
		break;
	}
	fz_teardown();
	return 0;
}
