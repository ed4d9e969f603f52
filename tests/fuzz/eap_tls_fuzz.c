/*
 * libFuzzer target for ike/eap_tls (RFC 5216, RFC 9190) under ike/eap's
 * drivers: the input is
 *
 *	mode(1) { len(2, big-endian) packet(len) }...
 *
 * Every packet first goes through eap_tls_parse() (its TLS Data must lie
 * inside the packet). Then, by mode:
 *   bit 0 clear  the packets are the Type-Data of Responses to an EAP-TLS
 *                server that sent its Start (the EAP header is built
 *                around them with the right Identifier, so that every
 *                byte reaches the fragment parser and the reassembly);
 *   bit 0 set    the Type-Data of Requests to an EAP-TLS peer;
 *   bit 1        the packets are whole EAP packets instead (framing too);
 *   bit 2        instead, a genuine server <-> peer conversation in which
 *                each packet's bytes are XORed into the message in flight
 *                (a real TLS handshake, nearly right);
 *   bit 3        fragments of EAP_TLS_FRAG_MIN bytes rather than 1024.
 * Nothing may read or write out of bounds, nor leak; Success comes only
 * with a 64-byte MSK, and no MSK without Success.
 * The credentials are tests/vectors/certs' (eap_tls_certs.h). libssl
 * draws its randomness from OpenSSL's own DRBG, not from the counter
 * stream given as cfg.rand, so a crash in a TLS-dependent path may take a
 * few replays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/eap.h"
#include "ike/eap_tls.h"
#include "ike/wire.h"

#include "tests/fuzz/eap_tls_certs.h"

#define MAX_PKTS 24
#define BUF      1600 /* IKE_EAP_MAX: what the engine carries */

static int frand(void *ctx, unsigned char *buf, size_t len)
{
	uint32_t *s = ctx;

	for (size_t i = 0; i < len; i++) {
		*s = *s * 1103515245u + 12345u;
		buf[i] = (uint8_t)(*s >> 16);
	}
	return 0;
}

static struct eap_tls_creds srv_creds, peer_creds;

static void add(int (*fn)(struct eap_tls_creds *, const uint8_t *, size_t), struct eap_tls_creds *c,
                const char *pem)
{
	if (fn(c, (const uint8_t *)pem, strlen(pem)) != 0)
		abort();
}

static void load_creds(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	eap_tls_creds_init(&srv_creds);
	add(eap_tls_creds_add_cert, &srv_creds, fx_moon_ecdsa384_pem);
	add(eap_tls_creds_add_key, &srv_creds, fx_moon_ecdsa384_key);
	add(eap_tls_creds_add_ca, &srv_creds, fx_ca_ecdsa_pem);
	eap_tls_creds_init(&peer_creds);
	add(eap_tls_creds_add_cert, &peer_creds, fx_sun_ecdsa256_pem);
	add(eap_tls_creds_add_key, &peer_creds, fx_sun_ecdsa256_key);
	add(eap_tls_creds_add_ca, &peer_creds, fx_ca_rsa_pem);
}

struct ends {
	uint32_t srand, prand;
	struct eap_tls st, pt;
	struct eap_server s;
	struct eap_peer p;
};

static const uint8_t *srv_identity(void *ctx, size_t *len)
{
	return eap_server_identity(ctx, len);
}

static void setup(struct ends *e, uint8_t mode)
{
	struct eap_tls_cfg sc = {.creds = &srv_creds,
	                         .rand = frand,
	                         .rand_ctx = &e->srand,
	                         .identity = srv_identity,
	                         .identity_ctx = &e->s,
	                         .fragment_size = mode & 8 ? EAP_TLS_FRAG_MIN : 0};
	struct eap_tls_cfg pc = {.creds = &peer_creds,
	                         .rand = frand,
	                         .rand_ctx = &e->prand,
	                         .fragment_size = mode & 8 ? EAP_TLS_FRAG_MIN : 0};
	struct eap_method sm = {&eap_tls_ops, &e->st}, pm = {&eap_tls_ops, &e->pt};

	e->srand = 1;
	e->prand = 2;
	if (eap_tls_server_init(&e->st, &sc) || eap_tls_peer_init(&e->pt, &pc) ||
	    eap_server_init(&e->s, &sm, 1, false, (const uint8_t *)"sun@tunsec.test", 15, 1) ||
	    eap_peer_init(&e->p, &pm, 1, (const uint8_t *)"sun@tunsec.test", 15))
		abort();
}

static void check_server(const struct eap_server *s, int rc)
{
	uint8_t msk[EAP_MSK_MAX];

	if (rc == EAP_SUCCESS && eap_server_msk(s, msk) != EAP_TLS_MSK_LEN)
		abort();
	if (rc != EAP_SUCCESS && eap_server_msk(s, msk) >= 0)
		abort();
}

static void check_peer(const struct eap_peer *p, int rc)
{
	uint8_t msk[EAP_MSK_MAX];

	if (rc == EAP_SUCCESS && eap_peer_msk(p, msk) != EAP_TLS_MSK_LEN)
		abort();
	if (rc != EAP_SUCCESS && eap_peer_msk(p, msk) >= 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ends *e;
	static uint8_t out[BUF], msg[BUF], wrap[70000];
	const uint8_t *pkt[MAX_PKTS];
	size_t plen[MAX_PKTS], n = 0, pos = 1, out_len = 0, msg_len = 0;
	uint8_t mode;
	int rc;

	if (size < 1)
		return 0;
	load_creds();
	if (!e && !(e = calloc(1, sizeof(*e))))
		abort();
	mode = data[0];
	while (n < MAX_PKTS && pos + 2 <= size) {
		size_t l = wire_load16(data + pos), tls_len;
		const uint8_t *tls;
		uint32_t msg_len32;
		uint8_t flags;

		pos += 2;
		if (l > size - pos)
			l = size - pos;
		pkt[n] = data + pos;
		plen[n++] = l;
		pos += l;
		if (eap_tls_parse(pkt[n - 1], l, &flags, &tls, &tls_len, &msg_len32) == 0 &&
		    (tls < pkt[n - 1] || tls + tls_len != pkt[n - 1] + l))
			abort();
	}
	setup(e, mode);

	if (mode & 4) {
		/* A real conversation with the fuzzer's bytes XORed in. */
		rc = eap_server_start(&e->s, msg, sizeof(msg), &msg_len);
		for (size_t i = 0; rc == EAP_SEND && i < 400; i++) {
			if (i < n)
				for (size_t k = 0; k < plen[i] && k < msg_len; k++)
					msg[k] ^= pkt[i][k];
			if (i % 2 == 0) {
				rc = eap_peer_process(&e->p, msg, msg_len, out, sizeof(out),
				                      &out_len);
				check_peer(&e->p, rc);
			} else {
				rc = eap_server_process(&e->s, msg, msg_len, out, sizeof(out),
				                        &out_len);
				check_server(&e->s, rc);
				if (rc == EAP_SUCCESS || rc == EAP_FAILURE) {
					rc = eap_peer_process(&e->p, out, out_len, msg, sizeof(msg),
					                      &msg_len);
					check_peer(&e->p, rc);
					break;
				}
			}
			memcpy(msg, out, out_len);
			msg_len = out_len;
		}
	} else if (mode & 1) {
		uint8_t id = 1;

		for (size_t i = 0; i < n; i++) {
			const uint8_t *p = pkt[i];
			size_t l = plen[i];

			if (!(mode & 2)) {
				int w = eap_build(wrap, sizeof(wrap), EAP_CODE_REQUEST, id++,
				                  EAP_TYPE_TLS, pkt[i], plen[i]);

				if (w < 0)
					break;
				p = wrap, l = (size_t)w;
			}
			rc = eap_peer_process(&e->p, p, l, out, sizeof(out), &out_len);
			check_peer(&e->p, rc);
			if (rc != EAP_SEND)
				break;
		}
	} else {
		rc = eap_server_start(&e->s, out, sizeof(out), &out_len);
		for (size_t i = 0; rc == EAP_SEND && i < n; i++) {
			const uint8_t *p = pkt[i];
			size_t l = plen[i];

			if (!(mode & 2)) {
				int w = eap_build(wrap, sizeof(wrap), EAP_CODE_RESPONSE, e->s.id,
				                  EAP_TYPE_TLS, pkt[i], plen[i]);

				if (w < 0)
					break;
				p = wrap, l = (size_t)w;
			}
			rc = eap_server_process(&e->s, p, l, out, sizeof(out), &out_len);
			check_server(&e->s, rc);
		}
	}
	eap_tls_free(&e->st);
	eap_tls_free(&e->pt);
	return 0;
}
