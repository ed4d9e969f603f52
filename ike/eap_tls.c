/* EAP-TLS (RFC 5216), both roles, on mbedTLS 2.28; see eap_tls.h. */
#include "ike/eap_tls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/version.h>

#include "ike/wire.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 || !defined(MBEDTLS_SSL_EXPORT_KEYS) ||                   \
    !defined(MBEDTLS_SSL_PROTO_TLS1_2)
#error "EAP-TLS needs mbedTLS 2.x with MBEDTLS_SSL_EXPORT_KEYS and TLS 1.2"
#endif

/* §2.3: the label of the key material, client.random || server.random
 * its seed. Key_Material(0, 63) is the MSK, (64, 127) the EMSK. */
static const char msk_label[] = "client EAP encryption";

/* ---- credentials ---------------------------------------------------------- */

void eap_tls_creds_init(struct eap_tls_creds *c)
{
	memset(c, 0, sizeof(*c));
	mbedtls_x509_crt_init(&c->own);
	mbedtls_pk_init(&c->key);
	mbedtls_x509_crt_init(&c->ca);
}

void eap_tls_creds_free(struct eap_tls_creds *c)
{
	mbedtls_x509_crt_free(&c->own);
	mbedtls_pk_free(&c->key);
	mbedtls_x509_crt_free(&c->ca);
	memset(c, 0, sizeof(*c));
}

/* mbedTLS takes PEM only NUL-terminated (the NUL counted in the length):
 * a copy with one, wiped afterwards since keys pass through here. */
static uint8_t *nul_copy(const uint8_t *data, size_t len, size_t *n)
{
	uint8_t *b;

	if (len == 0 || len > (1u << 20) || !(b = malloc(len + 1)))
		return NULL;
	memcpy(b, data, len);
	b[len] = 0;
	*n = memmem(data, len, "-----BEGIN", 10) ? len + 1 : len;
	return b;
}

static void wipe_free(uint8_t *b, size_t len)
{
	if (b) {
		sodium_memzero(b, len + 1);
		free(b);
	}
}

static int add_crt(mbedtls_x509_crt *chain, const uint8_t *data, size_t len)
{
	size_t n;
	uint8_t *b = nul_copy(data, len, &n);
	int rc;

	if (!b)
		return IKE_ERR_SYNTAX;
	rc = mbedtls_x509_crt_parse(chain, b, n);
	wipe_free(b, len);
	/* > 0: some PEM certificates of several did not parse. */
	return rc == 0 ? IKE_OK : IKE_ERR_SYNTAX;
}

int eap_tls_creds_add_cert(struct eap_tls_creds *c, const uint8_t *data, size_t len)
{
	int rc = add_crt(&c->own, data, len);

	if (rc == IKE_OK)
		c->have_own = true;
	return rc;
}

int eap_tls_creds_add_ca(struct eap_tls_creds *c, const uint8_t *data, size_t len)
{
	int rc = add_crt(&c->ca, data, len);

	if (rc == IKE_OK)
		c->have_ca = true;
	return rc;
}

int eap_tls_creds_add_key(struct eap_tls_creds *c, const uint8_t *data, size_t len)
{
	mbedtls_pk_context k;
	size_t n;
	uint8_t *b;
	int rc;

	if (!c->have_own)
		return IKE_ERR_INVAL;
	if (c->have_key)
		return 1;
	if (!(b = nul_copy(data, len, &n)))
		return IKE_ERR_SYNTAX;
	mbedtls_pk_init(&k);
	rc = mbedtls_pk_parse_key(&k, b, n, NULL, 0);
	wipe_free(b, len);
	if (rc != 0) {
		mbedtls_pk_free(&k);
		return IKE_ERR_SYNTAX;
	}
	if (mbedtls_pk_check_pair(&c->own.pk, &k) != 0) {
		mbedtls_pk_free(&k);
		return 1;
	}
	mbedtls_pk_free(&c->key);
	c->key = k; /* moved: k is not freed */
	c->have_key = true;
	return IKE_OK;
}

/* ---- identities ------------------------------------------------------------ */

static bool eq_nocase(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

bool eap_tls_cert_names(const mbedtls_x509_crt *crt, const uint8_t *identity, size_t len)
{
	char dn[1024];
	int n;

	if (!crt || len == 0)
		return false;
	/* subjectAltName: the raw GeneralNames mbedTLS keeps; rfc822Name [1]
	 * and dNSName [2] are IA5Strings, iPAddress [7] 4 or 16 bytes (RFC
	 * 5280 §4.2.1.6), as an IKE ID_IPV4_ADDR / ID_IPV6_ADDR carries. */
	for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
		int tag = s->buf.tag & ~(MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED);

		if (!(s->buf.tag & MBEDTLS_ASN1_CONTEXT_SPECIFIC))
			continue;
		if ((tag == 1 || tag == 2) && eq_nocase(s->buf.p, s->buf.len, identity, len))
			return true;
		if (tag == 7 && s->buf.len == len && memcmp(s->buf.p, identity, len) == 0)
			return true;
	}
	/* An IKE ID_DER_ASN1_DN: the subject's DER */
	if (crt->subject_raw.len == len && memcmp(crt->subject_raw.p, identity, len) == 0)
		return true;
	for (const mbedtls_x509_name *a = &crt->subject; a && a->oid.p; a = a->next)
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &a->oid) == 0 && a->val.len == len &&
		    memcmp(a->val.p, identity, len) == 0)
			return true;
	n = mbedtls_x509_dn_gets(dn, sizeof(dn), &crt->subject);
	return n > 0 && (size_t)n == len && memcmp(dn, identity, len) == 0;
}

/* ---- mbedTLS callbacks -------------------------------------------------------- */

/* The TLS records of the other end's reassembled message. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct eap_tls *t = ctx;
	size_t n = t->in_len - t->in_off;

	if (n == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n > len)
		n = len;
	memcpy(buf, t->in + t->in_off, n);
	t->in_off += n;
	return (int)n;
}

/* *buf big enough for need bytes (at most EAP_TLS_MSG_MAX): 0 or -1. */
static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	uint8_t *b;

	if (need <= *cap)
		return 0;
	if (need > EAP_TLS_MSG_MAX)
		return -1;
	while (n < need)
		n *= 2;
	if (n > EAP_TLS_MSG_MAX)
		n = EAP_TLS_MSG_MAX;
	if (!(b = realloc(*buf, n)))
		return -1;
	*buf = b;
	*cap = n;
	return 0;
}

/* Our TLS message, sent once the handshake step is over. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct eap_tls *t = ctx;

	if (len > EAP_TLS_MSG_MAX - t->out_len || grow(&t->out, &t->out_cap, t->out_len + len) < 0)
		return MBEDTLS_ERR_SSL_ALLOC_FAILED;
	memcpy(t->out + t->out_len, buf, len);
	t->out_len += len;
	return (int)len;
}

/* §2.3 from the master secret, once both randoms are known. */
static int export_keys(void *ctx, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                       size_t keylen, size_t ivlen, const unsigned char client_random[32],
                       const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
	struct eap_tls *t = ctx;
	uint8_t seed[64], km[2 * EAP_TLS_MSK_LEN];
	int rc;

	memcpy(seed, client_random, 32);
	memcpy(seed + 32, server_random, 32);
	rc = mbedtls_ssl_tls_prf(prf, ms, 48, msk_label, seed, sizeof(seed), km, sizeof(km));
	if (rc == 0)
		memcpy(t->msk, km, EAP_TLS_MSK_LEN);
	sodium_memzero(km, sizeof(km));
	/* Not usable until the handshake is over (and, at the server, the
	 * peer acknowledged its end): have_msk is set there. */
	return rc;
}

/*
 * The other end's certificate, after mbedTLS checked its chain: the end
 * entity (depth 0) must name the identity. Setting a BADCERT flag, rather
 * than failing here, makes mbedTLS answer with the bad_certificate alert
 * the other end expects (§2.1.3, §2.1.4).
 */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct eap_tls *t = ctx;
	const uint8_t *id = NULL;
	size_t len = 0;

	if (depth != 0)
		return 0;
	if (mbedtls_x509_dn_gets(t->peer_subject, sizeof(t->peer_subject), &crt->subject) < 0)
		t->peer_subject[0] = '\0';
	if (t->cfg.identity)
		id = t->cfg.identity(t->cfg.identity_ctx, &len);
	if (!id)
		len = 0;
	/* The server always checks (the peer says who it is, and RFC 5216
	 * §5.2 has the server check that the certificate says the same);
	 * the peer only when configured with the server's name. */
	if ((t->server || len) && !eap_tls_cert_names(crt, id, len)) {
		t->id_mismatch = true;
		*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	}
	return 0;
}

/* ---- setup ------------------------------------------------------------------ */

/*
 * The (EC)DHE groups, preferred first: X25519, P-256, P-384, then the rest
 * of mbedTLS's (its own order puts P-521 first, which made a login cost
 * some 40 % more CPU for no gain: scripts/bench_ike.sh's eap-tls row).
 * All the library has stay listed: 2.28 also checks a peer certificate's
 * curve against this list.
 */
static const mbedtls_ecp_group_id *curves(void)
{
	static const mbedtls_ecp_group_id first[] = {
	    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1};
	static mbedtls_ecp_group_id list[MBEDTLS_ECP_DP_MAX + 1];
	size_t n = 0;

	if (list[0] != MBEDTLS_ECP_DP_NONE)
		return list;
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		if (mbedtls_ecp_curve_info_from_grp_id(first[i]))
			list[n++] = first[i];
	for (const mbedtls_ecp_group_id *g = mbedtls_ecp_grp_id_list();
	     *g != MBEDTLS_ECP_DP_NONE && n < MBEDTLS_ECP_DP_MAX; g++) {
		bool dup = false;

		for (size_t i = 0; i < n; i++)
			dup |= list[i] == *g;
		if (!dup)
			list[n++] = *g;
	}
	list[n] = MBEDTLS_ECP_DP_NONE;
	return list;
}

static int tls_init(struct eap_tls *t, const struct eap_tls_cfg *cfg, bool server)
{
	const struct eap_tls_creds *c = cfg->creds;

	memset(t, 0, sizeof(*t));
	if (!c || !c->have_own || !c->have_key || !c->have_ca || !cfg->rand ||
	    (server && !cfg->identity))
		return IKE_ERR_INVAL;
	if (cfg->fragment_size && cfg->fragment_size < EAP_TLS_FRAG_MIN)
		return IKE_ERR_INVAL;
	t->server = server;
	t->cfg = *cfg;
	if (!t->cfg.fragment_size)
		t->cfg.fragment_size = EAP_TLS_FRAG_DEFAULT;
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ssl_init(&t->ssl);
	t->tls_ready = true;

	if (mbedtls_ssl_config_defaults(&t->conf,
	                                server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
	                                MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT))
		goto fail;
	/* TLS 1.2 and nothing older (RFC 8996); 1.3: see eap_tls.h. */
	mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	                             MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	                             MBEDTLS_SSL_MINOR_VERSION_3);
	/* Both ends prove themselves (§2.1: the server requests the peer's
	 * certificate; the peer checks the server's). */
	mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&t->conf, (mbedtls_x509_crt *)&c->ca, NULL);
	if (mbedtls_ssl_conf_own_cert(&t->conf, (mbedtls_x509_crt *)&c->own,
	                              (mbedtls_pk_context *)&c->key))
		goto fail;
	mbedtls_ssl_conf_rng(&t->conf, cfg->rand, cfg->rand_ctx);
	mbedtls_ssl_conf_verify(&t->conf, verify_cb, t);
	mbedtls_ssl_conf_export_keys_ext_cb(&t->conf, export_keys, t);
	/* Every conversation a full handshake: no resumption to keep. */
	mbedtls_ssl_conf_session_tickets(&t->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	mbedtls_ssl_conf_curves(&t->conf, curves());
	if (mbedtls_ssl_setup(&t->ssl, &t->conf))
		goto fail;
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	t->state = EAP_TLS_START;
	return IKE_OK;
fail:
	eap_tls_free(t);
	return IKE_ERR_CRYPTO;
}

int eap_tls_server_init(struct eap_tls *t, const struct eap_tls_cfg *cfg)
{
	return tls_init(t, cfg, true);
}

int eap_tls_peer_init(struct eap_tls *t, const struct eap_tls_cfg *cfg)
{
	return tls_init(t, cfg, false);
}

void eap_tls_free(struct eap_tls *t)
{
	if (t->tls_ready) {
		mbedtls_ssl_free(&t->ssl);
		mbedtls_ssl_config_free(&t->conf);
	}
	if (t->in) {
		sodium_memzero(t->in, t->in_cap);
		free(t->in);
	}
	if (t->out) {
		sodium_memzero(t->out, t->out_cap);
		free(t->out);
	}
	sodium_memzero(t, sizeof(*t));
}

const char *eap_tls_strwhy(enum eap_tls_why why)
{
	switch (why) {
	case EAP_TLS_WHY_NONE:
		return "no error";
	case EAP_TLS_WHY_MALFORMED:
		return "malformed or out-of-turn EAP-TLS packet";
	case EAP_TLS_WHY_TOO_LONG:
		return "TLS message longer than 64 KiB";
	case EAP_TLS_WHY_TLS:
		return "TLS handshake failed";
	case EAP_TLS_WHY_UNTRUSTED:
		return "certificate not trusted (chain, validity or key usage)";
	case EAP_TLS_WHY_IDENTITY:
		return "certificate does not name the identity";
	case EAP_TLS_WHY_ALERT:
		return "the other end refused the handshake (TLS alert)";
	case EAP_TLS_WHY_NO_CERT:
		return "the peer sent no certificate";
	}
	return "?";
}

/* ---- §3.1 packets -------------------------------------------------------------- */

int eap_tls_parse(const uint8_t *data, size_t len, uint8_t *flags, const uint8_t **tls,
                  size_t *tls_len, uint32_t *msg_len)
{
	size_t hdr = 1;

	*flags = 0, *tls = NULL, *tls_len = 0, *msg_len = 0;
	if (len < 1)
		return IKE_ERR_LENGTH;
	if (data[0] & EAP_TLS_FLAG_L) {
		if (len < 5)
			return IKE_ERR_LENGTH;
		*msg_len = wire_load32(data + 1);
		if (*msg_len == 0)
			return IKE_ERR_SYNTAX;
		hdr = 5;
	}
	/* The reserved bits are ignored (§3.1: "set to zero", nothing said
	 * of receiving them). */
	*flags = data[0] & (EAP_TLS_FLAG_L | EAP_TLS_FLAG_M | EAP_TLS_FLAG_S);
	*tls = data + hdr;
	*tls_len = len - hdr;
	return IKE_OK;
}

static int fail(struct eap_tls *t, enum eap_tls_why why, int rc)
{
	t->why = why;
	t->state = EAP_TLS_DONE_FAIL;
	return rc;
}

/* Flags 0 and nothing else: the acknowledgement of a fragment (§2.1.5). */
static bool is_ack(uint8_t flags, size_t tls_len, uint32_t msg_len)
{
	return flags == 0 && tls_len == 0 && msg_len == 0;
}

/*
 * One packet of the other end's TLS message into t->in (§2.1.5): 1 when
 * the message is complete, 0 when more fragments follow (M), or a
 * negative error having failed t.
 */
static int reassemble(struct eap_tls *t, uint8_t flags, const uint8_t *tls, size_t tls_len,
                      uint32_t msg_len)
{
	size_t limit;

	if (flags & EAP_TLS_FLAG_S)
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
	if (msg_len > EAP_TLS_MSG_MAX)
		return fail(t, EAP_TLS_WHY_TOO_LONG, IKE_ERR_LENGTH);
	if (t->in_len == 0 && t->in_total == 0) {
		/* The first fragment: "The L bit MUST be set for the first
		 * fragment of a fragmented TLS message" (§3.1). */
		if ((flags & EAP_TLS_FLAG_M) && !(flags & EAP_TLS_FLAG_L))
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
		t->in_total = msg_len;
	} else if ((flags & EAP_TLS_FLAG_L) && msg_len != t->in_total) {
		/* A later fragment may repeat the length, not change it. */
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
	}
	/* A fragment that adds nothing would make us ACK forever. */
	if ((flags & EAP_TLS_FLAG_M) && tls_len == 0)
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
	limit = t->in_total ? t->in_total : EAP_TLS_MSG_MAX;
	if (tls_len > limit - t->in_len)
		return fail(t, t->in_total ? EAP_TLS_WHY_MALFORMED : EAP_TLS_WHY_TOO_LONG,
		            IKE_ERR_LENGTH);
	/* The whole announced message at once (bounded above), else as it
	 * comes. */
	if (grow(&t->in, &t->in_cap, t->in_total ? t->in_total : t->in_len + tls_len) < 0)
		return fail(t, EAP_TLS_WHY_TLS, IKE_ERR_CRYPTO);
	if (tls_len)
		memcpy(t->in + t->in_len, tls, tls_len);
	t->in_len += tls_len;
	if (flags & EAP_TLS_FLAG_M)
		return 0;
	if (t->in_total && t->in_len != t->in_total)
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_LENGTH);
	if (t->in_len == 0)
		/* A complete message of nothing where TLS records are due. */
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
	return 1;
}

/* The next packet of our TLS message (§2.1.5): L and the length on the
 * first, M on all but the last. */
static int send_next(struct eap_tls *t, uint8_t *out, size_t frag, size_t *out_len)
{
	size_t rem = t->out_len - t->out_off, p = 1, n;

	out[0] = 0;
	if (t->out_off == 0) {
		/* L on every first packet, fragmented or not (§3.1 allows it;
		 * strongSwan does the same). */
		out[0] |= EAP_TLS_FLAG_L;
		wire_store32(out + 1, (uint32_t)t->out_len);
		p = 5;
	}
	n = rem < frag ? rem : frag;
	if (n < rem)
		out[0] |= EAP_TLS_FLAG_M;
	memcpy(out + p, t->out + t->out_off, n);
	t->out_off += n;
	*out_len = p + n;
	if (t->out_off < t->out_len) {
		t->state = EAP_TLS_SEND;
	} else {
		t->state = t->after;
		t->out_len = t->out_off = 0;
	}
	return EAP_SEND;
}

static void ack(uint8_t *out, size_t *out_len)
{
	out[0] = 0;
	*out_len = 1;
}

/* Why the handshake stopped with mbedTLS error rc. */
static enum eap_tls_why tls_why(struct eap_tls *t, int rc)
{
	t->tls_err = rc;
	if (rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)
		return EAP_TLS_WHY_ALERT;
	if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		t->vrfy_flags = mbedtls_ssl_get_verify_result(&t->ssl);
		if (t->id_mismatch && t->vrfy_flags == MBEDTLS_X509_BADCERT_CN_MISMATCH)
			return EAP_TLS_WHY_IDENTITY;
		return EAP_TLS_WHY_UNTRUSTED;
	}
	if (rc == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE)
		return EAP_TLS_WHY_NO_CERT;
	if (rc == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE || rc == MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED)
		return EAP_TLS_WHY_UNTRUSTED;
	return EAP_TLS_WHY_TLS;
}

/*
 * Feed the reassembled message to TLS and run the handshake until it
 * wants the other end's next message or is over: 0 (more to come), 1
 * (over), or a negative mbedTLS error (t->out may hold our alert).
 */
static int tls_step(struct eap_tls *t)
{
	int rc;

	t->in_off = 0;
	rc = mbedtls_ssl_handshake(&t->ssl);
	if (rc == 0 || rc == MBEDTLS_ERR_SSL_WANT_READ) {
		/* Every byte must have been a record of this step: what is
		 * left after the handshake is over would be ignored. */
		if (t->in_off != t->in_len)
			rc = MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	}
	t->in_len = t->in_total = t->in_off = 0;
	if (rc == 0)
		return 1;
	if (rc == MBEDTLS_ERR_SSL_WANT_READ)
		return 0;
	return rc < 0 ? rc : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* ---- the server ------------------------------------------------------------------ */

static int server_process(struct eap_tls *t, const struct eap_pkt *in, uint8_t *out, size_t frag,
                          size_t *out_len)
{
	const uint8_t *tls;
	size_t tls_len;
	uint32_t msg_len;
	uint8_t flags;
	int rc;

	if (!in) {
		if (t->state != EAP_TLS_START)
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_INVAL);
		/* §2.1.1: Start, with no data. */
		out[0] = EAP_TLS_FLAG_S;
		*out_len = 1;
		t->state = EAP_TLS_RECV;
		return EAP_SEND;
	}
	if (eap_tls_parse(in->data, in->data_len, &flags, &tls, &tls_len, &msg_len) < 0)
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_LENGTH);

	switch (t->state) {
	case EAP_TLS_SEND:
		if (!is_ack(flags, tls_len, msg_len))
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
		return send_next(t, out, frag, out_len);
	case EAP_TLS_FINAL:
		/* §2.1.1: the peer acknowledges our Finished with an empty
		 * Response; anything else (its alert) fails. */
		if (!is_ack(flags, tls_len, msg_len))
			return fail(t, EAP_TLS_WHY_ALERT, EAP_FAILURE);
		t->have_msk = true;
		t->state = EAP_TLS_DONE_OK;
		return EAP_SUCCESS;
	case EAP_TLS_ALERT:
		/* §2.1.3: whatever the peer says to our alert, Failure. */
		return fail(t, t->why, EAP_FAILURE);
	case EAP_TLS_RECV:
		break;
	default:
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_INVAL);
	}

	rc = reassemble(t, flags, tls, tls_len, msg_len);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		ack(out, out_len);
		return EAP_SEND;
	}
	rc = tls_step(t);
	if (rc < 0) {
		enum eap_tls_why why = tls_why(t, rc);

		if (t->out_len == 0 || why == EAP_TLS_WHY_ALERT)
			return fail(t, why, EAP_FAILURE);
		/* Our alert goes to the peer first (§2.1.3). */
		t->why = why;
		t->after = EAP_TLS_ALERT;
		return send_next(t, out, frag, out_len);
	}
	if (t->out_len == 0)
		/* The peer's message left TLS with nothing to say: it was
		 * not a whole flight. */
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
	t->after = rc == 1 ? EAP_TLS_FINAL : EAP_TLS_RECV;
	return send_next(t, out, frag, out_len);
}

/* ---- the peer ---------------------------------------------------------------------- */

static int peer_process(struct eap_tls *t, const struct eap_pkt *in, uint8_t *out, size_t frag,
                        size_t *out_len)
{
	const uint8_t *tls;
	size_t tls_len;
	uint32_t msg_len;
	uint8_t flags;
	int rc;

	if (!in || eap_tls_parse(in->data, in->data_len, &flags, &tls, &tls_len, &msg_len) < 0)
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_LENGTH);

	switch (t->state) {
	case EAP_TLS_START:
		/* §2.1.1: Start and nothing else begins the conversation. */
		if (!(flags & EAP_TLS_FLAG_S) || (flags & EAP_TLS_FLAG_M) || tls_len)
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
		rc = tls_step(t);
		if (rc != 0 || t->out_len == 0)
			return fail(t, tls_why(t, rc < 0 ? rc : MBEDTLS_ERR_SSL_INTERNAL_ERROR),
			            IKE_ERR_CRYPTO);
		t->after = EAP_TLS_RECV;
		return send_next(t, out, frag, out_len);
	case EAP_TLS_SEND:
		if (!is_ack(flags, tls_len, msg_len))
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
		return send_next(t, out, frag, out_len);
	case EAP_TLS_RECV:
		break;
	default:
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_INVAL);
	}

	rc = reassemble(t, flags, tls, tls_len, msg_len);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		ack(out, out_len);
		return EAP_SEND;
	}
	rc = tls_step(t);
	if (rc < 0) {
		/* §2.1.4: our alert in the Response if TLS wrote one (we
		 * refused the server), else an empty one (it refused us);
		 * only EAP-Failure may follow. */
		t->why = tls_why(t, rc);
		t->state = EAP_TLS_DONE_FAIL;
		if (t->out_len && t->out_len <= frag) {
			out[0] = EAP_TLS_FLAG_L;
			wire_store32(out + 1, (uint32_t)t->out_len);
			memcpy(out + 5, t->out, t->out_len);
			*out_len = 5 + t->out_len;
		} else {
			ack(out, out_len);
		}
		t->out_len = t->out_off = 0;
		return EAP_FAILURE;
	}
	if (rc == 1) {
		/* The server's Finished verified: acknowledge it (§2.1.1)
		 * and wait for EAP-Success. A TLS 1.2 full handshake leaves
		 * the client nothing more to send. */
		if (t->out_len)
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
		t->have_msk = true;
		t->state = EAP_TLS_DONE_OK;
		ack(out, out_len);
		return EAP_SUCCESS;
	}
	if (t->out_len == 0)
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
	t->after = EAP_TLS_RECV;
	return send_next(t, out, frag, out_len);
}

/* ---- the method ---------------------------------------------------------------------- */

static int process(void *st, const struct eap_pkt *in, uint8_t *out, size_t cap, size_t *out_len)
{
	struct eap_tls *t = st;
	size_t frag = t->cfg.fragment_size;

	*out_len = 0;
	/* Flags and TLS Message Length, and a fragment of at least the
	 * minimum; checked before anything changes (IKE_ERR_NOSPACE: call
	 * again with room). */
	if (cap < 5 + EAP_TLS_FRAG_MIN)
		return IKE_ERR_NOSPACE;
	if (frag > cap - 5)
		frag = cap - 5;
	if (t->state == EAP_TLS_DONE_OK || t->state == EAP_TLS_DONE_FAIL)
		return IKE_ERR_INVAL;
	return t->server ? server_process(t, in, out, frag, out_len)
	                 : peer_process(t, in, out, frag, out_len);
}

static int msk(void *st, uint8_t out[EAP_MSK_MAX])
{
	struct eap_tls *t = st;

	if (t->state != EAP_TLS_DONE_OK || !t->have_msk)
		return IKE_ERR_INVAL;
	memcpy(out, t->msk, EAP_TLS_MSK_LEN);
	return EAP_TLS_MSK_LEN;
}

const struct eap_method_ops eap_tls_ops = {
    .type = EAP_TYPE_TLS,
    .name = "EAP-TLS",
    .process = process,
    .msk = msk,
};
