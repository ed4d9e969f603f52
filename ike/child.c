/* CHILD_SA payloads, selectors and keys; see child.h. */
#include "ike/child.h"

#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

void ike_child_sel_to_ts(const struct esp_sel *s, struct ike_ts *t)
{
	size_t n = s->family == AF_INET ? 4 : 16;

	memset(t, 0, sizeof(*t));
	t->type = s->family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
	t->proto = s->proto;
	t->start_port = s->port_lo;
	t->end_port = s->port_hi;
	memcpy(t->start, s->start, n);
	memcpy(t->end, s->end, n);
}

bool ike_child_ts_to_sel(const struct ike_ts *t, struct esp_sel *s)
{
	size_t n;

	memset(s, 0, sizeof(*s));
	if (t->type == IKE_TS_IPV4_ADDR_RANGE) {
		s->family = AF_INET;
		n = 4;
	} else if (t->type == IKE_TS_IPV6_ADDR_RANGE) {
		s->family = AF_INET6;
		n = 16;
	} else {
		return false;
	}
	s->proto = t->proto;
	s->port_lo = t->start_port;
	s->port_hi = t->end_port;
	memcpy(s->start, t->start, n);
	memcpy(s->end, t->end, n);
	return true;
}

void ike_child_ts_payload(const struct esp_sel *s, size_t n, struct ike_ts_pl *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && i < IKE_MAX_TS; i++)
		ike_child_sel_to_ts(&s[i], &out->ts[out->n_ts++]);
}

bool ike_child_ts_from_payload(const struct ike_ts_pl *pl, struct esp_sel *out, size_t *n)
{
	*n = 0;
	if (pl->n_ts > ESP_MAX_SELS)
		return false;
	for (unsigned i = 0; i < pl->n_ts; i++)
		if (!ike_child_ts_to_sel(&pl->ts[i], &out[(*n)++]))
			return false;
	return true;
}

static void spi_put(uint32_t spi, uint8_t out[4])
{
	out[0] = (uint8_t)(spi >> 24);
	out[1] = (uint8_t)(spi >> 16);
	out[2] = (uint8_t)(spi >> 8);
	out[3] = (uint8_t)spi;
}

uint32_t ike_child_spi(const uint8_t spi[4])
{
	return (uint32_t)spi[0] << 24 | (uint32_t)spi[1] << 16 | (uint32_t)spi[2] << 8 | spi[3];
}

void ike_child_offer(const struct ike_proposal_list *esp, uint32_t spi_in, unsigned flags,
                     struct ike_sa_pl *out)
{
	uint8_t spi[4];

	spi_put(spi_in, spi);
	memset(out, 0, sizeof(*out));
	/* Every proposal carries the same SPI (§3.3.1) and, through the
	 * proposal module, an ESN transform: strongSwan refuses ESP
	 * proposals without one. */
	for (size_t i = 0; i < esp->n && i < IKE_MAX_PROPOSALS; i++)
		ike_proposal_to_offer(&esp->p[i], (uint8_t)(i + 1), spi, 4, flags,
		                      &out->p[out->n_proposals++]);
}

void ike_child_reply(const struct ike_suite *s, uint32_t spi_in, struct ike_sa_pl *out)
{
	uint8_t spi[4];

	spi_put(spi_in, spi);
	memset(out, 0, sizeof(*out));
	ike_suite_to_offer(s, spi, 4, &out->p[0]);
	out->n_proposals = 1;
}

void ike_child_describe(const struct ike_child *c, struct ike_child_info *info)
{
	memset(info, 0, sizeof(*info));
	info->spi_in = c->spi_in;
	info->spi_out = c->spi_out;
	info->encr = c->suite.encr;
	/* ChaCha20-Poly1305 negotiates no Key Length (RFC 7634 §2); its key
	 * is 256 bits, which is what aead_new() wants to hear. */
	info->key_bits = c->suite.encr == ENCR_CHACHA20_POLY1305 ? 256 : c->suite.key_bits;
	info->integ = c->suite.integ;
	info->esn = c->suite.esn;
	info->ke = c->suite.ke;
	info->n_local = c->local.n;
	memcpy(info->local, c->local.s, sizeof(info->local));
	info->n_remote = c->remote.n;
	memcpy(info->remote, c->remote.s, sizeof(info->remote));
}

int ike_child_keys(const struct ike_child *c, const struct ike_keys *ike, bool initiator,
                   const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                   const uint8_t *nr, size_t nr_len, bool encap, struct ike_child_info *info)
{
	struct ike_child_keys ck;
	struct ike_suite s = c->suite;

	ike_child_describe(c, info);
	info->encap = encap;
	s.key_bits = (uint16_t)info->key_bits;
	if (ike_keys_child(&ck, ike, &s, gir, gir_len, ni, ni_len, nr, nr_len) < 0)
		return IKE_ERR_CRYPTO;
	/* §2.17: the first half is initiator to responder. */
	info->keymat_len = ck.len;
	memcpy(info->key_in, initiator ? ck.r2i : ck.i2r, ck.len);
	memcpy(info->key_out, initiator ? ck.i2r : ck.r2i, ck.len);
	ike_child_keys_wipe(&ck);
	return IKE_OK;
}
