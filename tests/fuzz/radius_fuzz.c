/*
 * libFuzzer target: the RADIUS decoder (daemon/radius.c) on arbitrary
 * bytes, as they come from the network before anything is verified:
 * radius_pkt_check(), radius_attr_next(), radius_answer_parse(),
 * radius_mppe_decrypt(), and the client's radius_client_recv().
 *
 * Input:
 *	[0]     flags: bit 0 the request was an Accounting-Request; bit 1 sign
 *	        the input as a response first (so that the fuzzer reaches the
 *	        parser behind both authenticators), bit 2 leave out the
 *	        Message-Authenticator when signing
 *	then    the datagram (the fuzzer's own buffer: ASan sees any read past it)
 *
 * Signing (bit 1) takes the datagram's attributes as they are, well formed
 * or not, and rewrites only the header's Length and the authenticators:
 * a malformed attribute list must still be refused by the parser.
 *
 * Besides memory safety: a packet radius_pkt_check() accepts has a Length
 * within the datagram and attributes that add up to it exactly; an answer
 * the parser accepts was checked by both authenticators (re-parsing it
 * with another secret fails), has an EAP packet whose own Length matches
 * and an MSK of 0 or 64 octets.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Included, not linked: the fuzz build links no daemon/ module (Makefile). */
#include "daemon/radius.c"

static const uint8_t fz_secret[] = "fuzz secret";
static const uint8_t fz_auth[16] = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void die(const char *what)
{
	fprintf(stderr, "radius_fuzz: %s\n", what);
	abort();
}

static void fake_rand(void *ctx, void *buf, size_t len)
{
	memcpy(buf, fz_auth, len < 16 ? len : 16);
}

/* The attributes of pkt[20..len) (whatever they are) as a response to
 * fz_auth, signed with the secret. */
static size_t sign(uint8_t *out, const uint8_t *pkt, size_t len, uint8_t code, bool with_ma)
{
	struct radius_msg *m = malloc(sizeof(*m));
	uint8_t auth[16];
	ssize_t n;
	size_t alen = len > RADIUS_HDR_LEN ? len - RADIUS_HDR_LEN : 0;

	if (!m)
		abort();
	radius_msg_init(m, code);
	m->no_msgauth = !with_ma;
	if (alen > sizeof(m->attrs) - 18)
		alen = sizeof(m->attrs) - 18;
	memcpy(m->attrs, pkt + RADIUS_HDR_LEN, alen); /* raw, unchecked */
	m->attrs_len = alen;
	memcpy(auth, fz_auth, 16);
	n = radius_encode(out, RADIUS_PKT_MAX, m, len > 1 ? pkt[1] : 0, auth, fz_secret,
	                  sizeof(fz_secret) - 1);
	free(m);
	return n > 0 ? (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t signed_pkt[RADIUS_PKT_MAX];
	struct radius_answer *a;
	const uint8_t *pkt;
	size_t len;
	uint8_t req_code, code;
	ssize_t n;
	int r;

	if (size < 1)
		return 0;
	req_code = data[0] & 1 ? RADIUS_ACCOUNTING_REQUEST : RADIUS_ACCESS_REQUEST;
	pkt = data + 1;
	len = size - 1;

	/* The framing on its own. */
	n = radius_pkt_check(pkt, len);
	if (n >= 0) {
		size_t off = RADIUS_HDR_LEN, sum = RADIUS_HDR_LEN;
		struct radius_attr at;

		if ((size_t)n > len || n < RADIUS_HDR_LEN || n > RADIUS_PKT_MAX)
			die("checked Length outside the datagram");
		while ((r = radius_attr_next(pkt, (size_t)n, &off, &at)) == 1) {
			sum += 2u + at.len;
			if (at.type == RADIUS_A_VENDOR_SPECIFIC && at.len >= 8) {
				uint8_t key[64];

				radius_mppe_decrypt(key, sizeof(key), at.val + 6, at.len - 6u, fz_auth,
				                    fz_secret, sizeof(fz_secret) - 1);
			}
		}
		if (r != 0 || sum != (size_t)n)
			die("checked attributes do not add up to Length");
	}

	if (data[0] & 2) {
		code = len > 0 ? pkt[0] : 0;
		len = sign(signed_pkt, pkt, len, code, !(data[0] & 4));
		if (!len)
			return 0;
		pkt = signed_pkt;
	}

	a = malloc(sizeof(*a));
	if (!a)
		abort();
	memset(a, 0, sizeof(*a));
	r = radius_answer_parse(a, pkt, len, req_code, fz_auth, fz_secret, sizeof(fz_secret) - 1);
	if (r == 0) {
		if (a->eap_len && (a->eap_len < 4 || ((size_t)a->eap[2] << 8 | a->eap[3]) != a->eap_len))
			die("EAP packet of a wrong length accepted");
		if (a->msk_len != 0 && a->msk_len != RADIUS_MSK_LEN)
			die("MSK of a wrong length");
		if (radius_answer_parse(a, pkt, len, req_code, fz_auth, (const uint8_t *)"other",
		                        5) == 0)
			die("answer accepted under another secret");
		radius_answer_wipe(a);
	}
	free(a);

	/* Through the client: one request in flight, identifier = the
	 * packet's (the first one the client allocates is 0). */
	{
		struct radius_client_cfg cfg;
		struct radius_client *c;
		struct radius_msg *m = malloc(sizeof(*m));
		struct radius_event ev;

		if (!m)
			abort();
		memset(&cfg, 0, sizeof(cfg));
		cfg.n_servers = 1;
		memcpy(cfg.servers[0].secret, fz_secret, sizeof(fz_secret) - 1);
		cfg.servers[0].secret_len = sizeof(fz_secret) - 1;
		cfg.rand = fake_rand;
		c = radius_client_new(&cfg);
		if (!c)
			abort();
		radius_msg_init(m, req_code);
		radius_msg_add_str(m, RADIUS_A_USER_NAME, "fuzz");
		if (radius_client_send(c, m, NULL, 0) <= 0)
			die("send failed");
		radius_client_recv(c, 0, req_code == RADIUS_ACCESS_REQUEST ? RADIUS_PORT_AUTH
		                                                           : RADIUS_PORT_ACCT,
		                   pkt, len, 1);
		while (radius_client_poll_event(c, &ev) == 1)
			radius_event_wipe(&ev);
		radius_client_free(c);
		free(m);
	}
	return 0;
}
