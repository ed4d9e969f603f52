/* IKE SA state, retransmission and response cache, NAT detection; see sa.h. */
#include "ike/sa.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/sha1.h>
#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/mbedtls_compat.h"

void ike_sa_frag_free(struct ike_sa *sa)
{
	if (!sa->frag)
		return;
	ike_frag_reset(sa->frag); /* decrypted payloads */
	free(sa->frag);
	sa->frag = NULL;
	sa->frag_deadline = IKE_TIME_NEVER;
}

struct ike_hs *ike_sa_hs_new(struct ike_sa *sa)
{
	ike_sa_hs_done(sa);
	return sa->hs = calloc(1, sizeof(*sa->hs));
}

void ike_sa_hs_done(struct ike_sa *sa)
{
	if (!sa->hs)
		return;
	ke_free(&sa->hs->ke);
	sodium_memzero(sa->hs, sizeof(*sa->hs)); /* nonces, IKE_AUTH's plain text */
	free(sa->hs);
	sa->hs = NULL;
}

void ike_sa_clear(struct ike_sa *sa)
{
	ike_sa_frag_free(sa);
	free(sa->req);
	free(sa->resp);
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++) {
		if (sa->child[j]) {
			sodium_memzero(sa->child[j], sizeof(*sa->child[j]));
			free(sa->child[j]);
		}
	}
	ike_sa_hs_done(sa);
	if (sa->creq) {
		ke_free(&sa->creq->ke);
		sodium_memzero(sa->creq, sizeof(*sa->creq));
		free(sa->creq);
	}
	if (sa->ireq) {
		ke_free(&sa->ireq->ke);
		sodium_memzero(sa->ireq, sizeof(*sa->ireq));
		free(sa->ireq);
	}
	if (sa->pause) {
		/* struct auth_pending is engine.c's; its size is not known
		 * here, and it holds no key: freed, the SA wiped below */
		free(sa->pause);
	}
	/* Nonces, keys, IKE_AUTH plaintext never leave a trace. */
	sodium_memzero(sa, sizeof(*sa));
}

static void spi_store(uint64_t v, uint8_t out[8])
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

void ike_sa_spi_bytes(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8])
{
	spi_store(sa->spi_i, spi_i);
	spi_store(sa->spi_r, spi_r);
}

int ike_sa_derive(struct ike_sa *sa, const uint8_t *gir, size_t gir_len)
{
	uint8_t spi_i[8], spi_r[8];

	ike_sa_spi_bytes(sa, spi_i, spi_r);
	if (ike_keys_derive(&sa->keys, &sa->suite, sa->hs->ni, sa->hs->ni_len, sa->hs->nr, sa->hs->nr_len, spi_i,
	                    spi_r, gir, gir_len) < 0)
		return IKE_ERR_CRYPTO;
	return ike_sa_install_sk(sa);
}

int ike_sa_sk(const struct ike_sa *sa, bool tx, struct aead **out)
{
	uint8_t km[AEAD_MAX_KEYMAT];
	size_t n;
	int rc;

	/* The initiator sends with SK_ei/SK_ai, the responder with
	 * SK_er/SK_ar (§2.14). */
	*out = NULL;
	n = ike_keys_sk_keymat(&sa->keys, tx ? sa->initiator : !sa->initiator, km);
	rc = aead_new(out, sa->keys.encr, sa->keys.key_bits, sa->keys.integ, km, n);
	sodium_memzero(km, sizeof(km));
	return rc < 0 ? IKE_ERR_CRYPTO : IKE_OK;
}

int ike_sa_install_sk(struct ike_sa *sa)
{
	struct aead *a;

	sa->sk_ready = false;
	for (int tx = 0; tx < 2; tx++) {
		if (ike_sa_sk(sa, tx, &a) < 0)
			return IKE_ERR_CRYPTO;
		aead_free(a);
	}
	sa->sk_ready = true;
	return IKE_OK;
}

ike_time_t ike_sa_rto(ike_time_t timeout, unsigned base, unsigned sent)
{
	ike_time_t t = timeout;

	for (unsigned i = 1; i < sent && i < IKE_SA_RTO_MAX_EXP; i++) {
		/* Saturate rather than wrap: a silly configuration must not
		 * turn a long wait into a short one. */
		if (t > UINT64_MAX / (base ? base : 1))
			return UINT64_MAX / 2;
		t = t * base / 1000;
	}
	return t;
}

struct ike_stored *ike_stored_new(const struct ike_train *t)
{
	struct ike_stored *s = malloc(sizeof(*s) + t->total);

	if (!s)
		return NULL;
	s->n = t->n;
	for (size_t i = 0; i < t->n && i < IKE_SA_MAX_FRAGS; i++)
		s->len[i] = (uint16_t)t->len[i];
	s->buf = (uint8_t *)(s + 1);
	memcpy(s->buf, t->buf, t->total);
	return s;
}

int ike_train_one(struct ike_train *t, const uint8_t *msg, size_t len)
{
	if (len > sizeof(t->buf))
		return IKE_ERR_NOSPACE;
	memcpy(t->buf, msg, len);
	t->n = 1;
	t->len[0] = len;
	t->total = len;
	return IKE_OK;
}

int ike_sa_set_request(struct ike_sa *sa, enum ike_req_kind kind, const struct ike_train *t,
                       ike_time_t now, ike_time_t rto)
{
	/* Out of memory, the request still leaves now; it just cannot be
	 * retransmitted, and times out as a lost one would. */
	free(sa->req);
	sa->req = ike_stored_new(t);
	sa->req_kind = kind;
	sa->req_sent = 1;
	sa->req_deadline = now > UINT64_MAX - rto ? UINT64_MAX - 1 : now + rto;
	return IKE_OK;
}

void ike_sa_request_done(struct ike_sa *sa)
{
	sa->req_kind = IKE_REQ_NONE;
	free(sa->req);
	sa->req = NULL;
	sa->req_sent = 0;
	sa->req_spi = 0;
	sa->req_deadline = IKE_TIME_NEVER;
	sa->tx_id++;
}

int ike_sa_set_response(struct ike_sa *sa, const struct ike_train *t, const struct ike_path *path)
{
	free(sa->resp);
	sa->resp = ike_stored_new(t);
	sa->resp_path = *path;
	sa->resp_valid = sa->resp != NULL;
	sa->rx_id++;
	return IKE_OK;
}

bool ike_addr_valid(const struct ike_addr *a)
{
	return a && (a->family == AF_INET || a->family == AF_INET6);
}

bool ike_addr_equal(const struct ike_addr *a, const struct ike_addr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, n) == 0;
}

void ike_natd_hash(uint64_t spi_i, uint64_t spi_r, const struct ike_addr *a, uint8_t out[20])
{
	uint8_t buf[8 + 8 + 16 + 2];
	size_t alen = a->family == AF_INET ? 4 : 16;

	spi_store(spi_i, buf);
	spi_store(spi_r, buf + 8);
	memcpy(buf + 16, a->addr, alen);
	buf[16 + alen] = (uint8_t)(a->port >> 8);
	buf[17 + alen] = (uint8_t)a->port;
	/* §2.23 fixes SHA-1 here; it hides addresses, it does not protect. */
#if MBEDTLS_VERSION_NUMBER < 0x03000000
	mbedtls_sha1_ret(buf, 18 + alen, out);
#else
	mbedtls_sha1(buf, 18 + alen, out);
#endif
}
