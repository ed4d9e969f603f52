/*
 * libFuzzer target for ike/eap and ike/eap_mschapv2: the input is
 *
 *	mode(1) { len(2, big-endian) packet(len) }...
 *
 * Every packet goes through eap_parse(); then, by mode:
 *   bit 0 clear  the packets are the peer's Responses to an EAP-MSCHAPv2
 *                server (bit 1: which asks for the identity first),
 *   bit 0 set    the server's Requests to an EAP-MSCHAPv2 peer;
 *   bit 2        instead, a genuine server <-> peer conversation in which
 *                each packet's bytes are XORed into the message in flight
 *                (reaching the Success and Failure states with bytes
 *                that are nearly right).
 * Nothing may read out of bounds, and the drivers' promises must hold:
 * Success only with an MSK, the peer's only after the method is done.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/eap.h"
#include "ike/eap_mschapv2.h"
#include "ike/wire.h"

#define MAX_PKTS 12

static void frand(void *ctx, uint8_t *buf, size_t len)
{
	uint8_t *seed = ctx;

	for (size_t i = 0; i < len; i++)
		buf[i] = (*seed)++;
}

static int lookup(void *ctx, const uint8_t *name, size_t len, struct eap_mschapv2_secret *sec)
{
	static const uint8_t hash[16] = {0x44, 0xeb, 0xba, 0x8d, 0x53, 0x12, 0xb8, 0xd6,
	                                 0x11, 0x47, 0x44, 0x11, 0xf5, 0x69, 0x89, 0xae};

	if (len == 4 && memcmp(name, "User", 4) == 0) {
		*sec = (struct eap_mschapv2_secret){false, (const uint8_t *)"clientPass", 10};
		return 0;
	}
	if (len > 0 && name[0] == 'h') {
		*sec = (struct eap_mschapv2_secret){true, hash, 16};
		return 0;
	}
	return -1;
}

struct ends {
	uint8_t srand, prand;
	struct eap_mschapv2 sm, pm;
	struct eap_server s;
	struct eap_peer p;
};

static void setup(struct ends *e, uint8_t mode)
{
	struct eap_mschapv2_server_cfg cfg = {
	    .lookup = lookup,
	    .rand = frand,
	    .rand_ctx = &e->srand,
	    .retries = mode >> 4 & 3,
	    .final_r0 = mode & 0x40,
	};
	struct eap_mschapv2_secret sec = {false, (const uint8_t *)"clientPass", 10};
	struct eap_method sm = {&eap_mschapv2_ops, &e->sm}, pm = {&eap_mschapv2_ops, &e->pm};

	memset(e, 0, sizeof(*e));
	if (eap_mschapv2_server_init(&e->sm, &cfg) ||
	    eap_mschapv2_peer_init(&e->pm, (const uint8_t *)"User", 4, &sec, frand, &e->prand) ||
	    eap_server_init(&e->s, &sm, 1, mode & 2, (const uint8_t *)"ike-id", 6, 1) ||
	    eap_peer_init(&e->p, &pm, 1, (const uint8_t *)"User", 4))
		abort();
}

static void check_server(const struct eap_server *s, int rc)
{
	uint8_t msk[EAP_MSK_MAX];

	if (rc == EAP_SUCCESS && eap_server_msk(s, msk) != 64)
		abort();
	if (rc != EAP_SUCCESS && eap_server_msk(s, msk) >= 0)
		abort();
}

static void check_peer(const struct eap_peer *p, const struct eap_mschapv2 *pm, int rc)
{
	uint8_t msk[EAP_MSK_MAX];

	if (rc == EAP_SUCCESS && (pm->state != MSCHAPV2_S_DONE_OK || eap_peer_msk(p, msk) != 64))
		abort();
	if (rc != EAP_SUCCESS && eap_peer_msk(p, msk) >= 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ends e;
	static uint8_t out[1024], msg[1024];
	const uint8_t *pkt[MAX_PKTS];
	size_t plen[MAX_PKTS], n = 0, pos = 1, out_len, msg_len;
	struct eap_pkt p;
	uint8_t mode;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0];
	while (n < MAX_PKTS && pos + 2 <= size) {
		size_t l = wire_load16(data + pos);

		pos += 2;
		if (l > size - pos)
			l = size - pos;
		pkt[n] = data + pos;
		plen[n++] = l;
		pos += l;
		rc = eap_parse(pkt[n - 1], l, &p);
		if (rc > (int)l || (rc >= 0 && (p.len != rc || p.data_len + (p.type ? 5 : 4) != p.len)))
			abort();
	}
	setup(&e, mode);

	if (mode & 4) {
		/* A real conversation with the fuzzer's bytes XORed in. */
		rc = eap_server_start(&e.s, msg, sizeof(msg), &msg_len);
		for (size_t i = 0; rc == EAP_SEND && i < 8; i++) {
			if (i < n)
				for (size_t k = 0; k < plen[i] && k < msg_len; k++)
					msg[k] ^= pkt[i][k];
			if (i % 2 == 0) {
				rc = eap_peer_process(&e.p, msg, msg_len, out, sizeof(out), &out_len);
				check_peer(&e.p, &e.pm, rc);
			} else {
				rc = eap_server_process(&e.s, msg, msg_len, out, sizeof(out),
				                        &out_len);
				check_server(&e.s, rc);
				if (rc == EAP_SUCCESS || rc == EAP_FAILURE) {
					rc = eap_peer_process(&e.p, out, out_len, msg, sizeof(msg),
					                      &msg_len);
					check_peer(&e.p, &e.pm, rc);
					break;
				}
			}
			memcpy(msg, out, out_len);
			msg_len = out_len;
		}
	} else if (mode & 1) {
		for (size_t i = 0; i < n; i++) {
			rc = eap_peer_process(&e.p, pkt[i], plen[i], out, sizeof(out), &out_len);
			check_peer(&e.p, &e.pm, rc);
			if (rc != EAP_SEND)
				break;
		}
	} else {
		rc = eap_server_start(&e.s, out, sizeof(out), &out_len);
		for (size_t i = 0; rc == EAP_SEND && i < n; i++) {
			rc = eap_server_process(&e.s, pkt[i], plen[i], out, sizeof(out), &out_len);
			check_server(&e.s, rc);
		}
	}
	eap_mschapv2_wipe(&e.sm);
	eap_mschapv2_wipe(&e.pm);
	return 0;
}
