/*
 * libFuzzer target for ike/: the input is parsed as a received IKE message
 * (header + payload chain); if it carries SK it is decrypted, if SKF offered
 * to a reassembly, both under a fixed test key, as a peer would see them.
 *
 * Random bytes never pass an ICV, so the input is also used the other way
 * round: taken as a plain message (header Length fixed up), encrypted and
 * decrypted again, and split into fragments (size from the input) that are
 * reassembled in an input-chosen order with duplicates. Whatever parses in
 * the clear must parse identically after the round trip, and the reassembled
 * chain must equal the original bytes; anything else aborts.
 *
 * Whatever parsed also goes through what the engine does with a parsed
 * message before anything is verified: the debug line (ike/msglog.h,
 * over the parsed message and over the raw chain) and the configuration
 * payload's interpretation (ike/cp.h, both as a request and a reply,
 * whose answer is then built back).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "ike/cp.h"
#include "ike/msg.h"
#include "ike/msglog.h"

static struct aead *gcm, *cbc;
static struct ike_msg m, m2;
static struct ike_frag_reasm reasm, reasm2;
static uint8_t work[70000], enc[70000], frags[IKE_FRAG_MAX * 1500], out[IKE_FRAG_BUF];
static size_t frag_len[IKE_FRAG_MAX], frag_off[IKE_FRAG_MAX];

static struct aead *make(int encr, unsigned bits, int integ)
{
	uint8_t km[AEAD_MAX_KEYMAT];
	size_t n = aead_keymat_len(encr, bits, integ);
	struct aead *a = NULL;

	for (size_t i = 0; i < n; i++)
		km[i] = (uint8_t)(0x40 + i);
	if (aead_new(&a, encr, bits, integ, km, n) != 0)
		abort();
	return a;
}

static void init_once(void)
{
	if (gcm)
		return;
	gcm = make(ENCR_AES_GCM_16, 256, AUTH_NONE);
	cbc = make(ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_256_128);
	ike_frag_reset(&reasm);
	ike_frag_reset(&reasm2);
}

/* The parsed message as the engine reads it for logs and CP. */
static void interpret(const uint8_t *raw, size_t size)
{
	char line[IKE_MSGLOG_MAX];
	struct ike_cp_request rq;
	struct ike_cp_reply rp;
	struct ike_cp cp;
	uint8_t buf[IKE_CP_BUF];

	ike_msglog_parsed(&m, line);
	ike_msglog_plain(raw, size, line);
	if (!ike_msg_has(&m, IKE_PL_CP))
		return;
	if (ike_cp_request_parse(&m.cp, &rq)) {
		memset(&rp, 0, sizeof(rp));
		rp.n_addrs = 1;
		rp.addrs[0].family = 2; /* AF_INET */
		if (ike_cp_reply_build(&rq, &rp, &cp, buf) < 0)
			abort(); /* one address always fits */
	}
	(void)ike_cp_reply_parse(&m.cp, &rp);
}

/* As a peer sees it: parse, then SK or SKF with the fixed key. */
static void as_received(const uint8_t *data, size_t size)
{
	if (size > sizeof(work))
		return;
	memcpy(work, data, size);
	if (ike_msg_parse(&m, work, size) < 0)
		return;
	interpret(data, size);
	if (ike_msg_has(&m, IKE_PL_SK)) {
		(void)ike_msg_decrypt(gcm, work, size, &m);
	} else if (ike_msg_has(&m, IKE_PL_SKF)) {
		if (ike_frag_add(&reasm, cbc, work, size, &m) == IKE_FRAG_DONE) {
			uint8_t np;
			int n = ike_frag_assemble(&reasm, out, sizeof(out), &np);

			if (n < 0)
				abort();
			(void)ike_msg_parse_inner(&m, np, out, (size_t)n);
			ike_frag_reset(&reasm);
		}
	}
}

/* The same message through SK and through fragments must come back equal. */
static void round_trip(const uint8_t *data, size_t size)
{
	struct aead *a = size > 0 && data[size - 1] & 1 ? cbc : gcm;
	size_t max_len, pos, k;
	uint8_t np;
	int rc, en, n;

	if (size < IKE_HDR_LEN || size > 20000)
		return;
	memcpy(work, data, size);
	work[17] = 0x20; /* version 2.0 */
	wire_store32(work + 24, (uint32_t)size);
	rc = ike_msg_parse(&m, work, size);
	if (rc < 0 || ike_msg_has(&m, IKE_PL_SK) || ike_msg_has(&m, IKE_PL_SKF))
		return;

	en = ike_msg_encrypt(a, work, size, enc, sizeof(enc));
	if (en == IKE_ERR_INVAL)
		goto frag; /* too big for one SK payload */
	if (en < 0)
		abort();
	if (ike_msg_parse(&m2, enc, (size_t)en) != en || ike_msg_decrypt(a, enc, (size_t)en, &m2))
		abort();
	/* m2 holds SK plus the inner payloads; m the same minus SK. */
	if (m2.n_payloads != m.n_payloads + 1 || memcmp(m2.order + 1, m.order, m.n_payloads) ||
	    m2.n_notify != m.n_notify || m2.n_unknown != m.n_unknown)
		abort();

frag:
	max_len = 100 + (size_t)data[0] * 8;
	n = ike_frag_split(a, work, size, max_len, frags, sizeof(frags), frag_len, IKE_FRAG_MAX);
	if (n == IKE_ERR_TOO_MANY)
		return;
	if (n <= 0)
		abort();
	pos = 0;
	for (int i = 0; i < n; i++) {
		frag_off[i] = pos;
		pos += frag_len[i];
	}
	ike_frag_reset(&reasm2);
	/* Offer in an order the input picks, with repeats, until done. */
	rc = IKE_FRAG_WAIT;
	for (k = 0; rc != IKE_FRAG_DONE && k < 4 * (size_t)n + 8; k++) {
		int i = (int)((k < size ? data[k] : k) % (unsigned)n);

		if (k >= 2 * (size_t)n)
			i = (int)(k % (unsigned)n); /* then sweep so it completes */
		memcpy(enc, frags + frag_off[i], frag_len[i]);
		if (ike_msg_parse(&m2, enc, frag_len[i]) != (int)frag_len[i])
			abort();
		rc = ike_frag_add(&reasm2, a, enc, frag_len[i], &m2);
		if (rc < 0)
			abort();
	}
	if (rc != IKE_FRAG_DONE)
		abort();
	rc = ike_frag_assemble(&reasm2, out, sizeof(out), &np);
	if (rc != (int)(size - IKE_HDR_LEN) || np != work[16] ||
	    memcmp(out, work + IKE_HDR_LEN, (size_t)rc))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	as_received(data, size);
	round_trip(data, size);
	return 0;
}
