/* EAP-TLS (RFC 5216, RFC 9190), both roles, on OpenSSL 3's libssl; see
 * eap_tls.h. */
#include "ike/eap_tls.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ike/cert.h"
#include "ike/wire.h"

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "EAP-TLS needs OpenSSL 3 (TLS 1.3, SSL_export_keying_material)"
#endif

/* RFC 5216 §2.3: TLS-PRF-128(master secret, this label, client.random ||
 * server.random), which is TLS 1.2's exporter (RFC 5705) with no context. */
static const char label_12[] = "client EAP encryption";
/* RFC 9190 §2.3: TLS-Exporter(this label, 0x0D, 128). The length is part
 * of TLS 1.3's exporter input: 128 bytes are derived, the MSK is the
 * first 64, not a 64-byte export. */
static const char label_13[] = "EXPORTER_EAP_TLS_Key_Material";
static const uint8_t context_13[] = {EAP_TYPE_TLS};

/* ---- credentials ---------------------------------------------------------- */

void eap_tls_creds_init(struct eap_tls_creds *c)
{
	memset(c, 0, sizeof(*c));
}

static void free_certs(STACK_OF(X509) *sk)
{
	sk_X509_pop_free(sk, X509_free);
}

static void drop_ctx(struct eap_tls_creds *c)
{
	for (int i = 0; i < 2; i++) {
		SSL_CTX_free(c->ctx[i]);
		c->ctx[i] = NULL;
	}
}

void eap_tls_creds_free(struct eap_tls_creds *c)
{
	drop_ctx(c);
	X509_free(c->own);
	free_certs(c->chain);
	EVP_PKEY_free(c->key);
	free_certs(c->ca);
	memset(c, 0, sizeof(*c));
}

static bool is_pem(const uint8_t *data, size_t len)
{
	return memmem(data, len, "-----BEGIN", 10) != NULL;
}

/* Every certificate of data (PEM, one or several; or one DER), appended
 * to *sk: 0, or -1 if any does not parse (then none is kept). */
static int parse_certs(STACK_OF(X509) **sk, const uint8_t *data, size_t len)
{
	STACK_OF(X509) *got = sk_X509_new_null();
	X509 *x = NULL;
	int rc = -1;

	ERR_clear_error(); /* the end of the PEM text is told by its error */
	if (!got || len == 0 || len > INT_MAX)
		goto out;
	if (is_pem(data, len)) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);

		while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
			if (!sk_X509_push(got, x)) {
				X509_free(x);
				break;
			}
		/* The loop ends at the end of the text, or at one that does
		 * not parse: only the former may leave no error behind but
		 * "no start line". */
		rc = bio && !x && ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE &&
		             sk_X509_num(got) > 0
		         ? 0
		         : -1;
		BIO_free(bio);
	} else {
		const uint8_t *p = data;

		x = d2i_X509(NULL, &p, (long)len);
		if (x && p == data + len && sk_X509_push(got, x))
			rc = 0;
		else
			X509_free(x);
	}
	if (rc == 0 && !*sk && !(*sk = sk_X509_new_null()))
		rc = -1;
	while (rc == 0 && sk_X509_num(got) > 0) {
		x = sk_X509_shift(got);
		if (!sk_X509_push(*sk, x)) {
			X509_free(x);
			rc = -1;
		}
	}
out:
	free_certs(got);
	ERR_clear_error();
	return rc;
}

int eap_tls_creds_add_cert(struct eap_tls_creds *c, const uint8_t *data, size_t len)
{
	STACK_OF(X509) *sk = NULL;

	if (parse_certs(&sk, data, len) < 0)
		return IKE_ERR_SYNTAX;
	drop_ctx(c);
	/* The first ever is the end entity, the rest its intermediates. */
	if (!c->own)
		c->own = sk_X509_shift(sk);
	while (sk_X509_num(sk) > 0) {
		X509 *x = sk_X509_shift(sk);

		if ((!c->chain && !(c->chain = sk_X509_new_null())) || !sk_X509_push(c->chain, x)) {
			X509_free(x);
			free_certs(sk);
			return IKE_ERR_SYNTAX;
		}
	}
	sk_X509_free(sk);
	c->have_own = true;
	return IKE_OK;
}

int eap_tls_creds_add_ca(struct eap_tls_creds *c, const uint8_t *data, size_t len)
{
	if (parse_certs(&c->ca, data, len) < 0)
		return IKE_ERR_SYNTAX;
	drop_ctx(c);
	c->have_ca = true;
	return IKE_OK;
}

int eap_tls_creds_add_key(struct eap_tls_creds *c, const uint8_t *data, size_t len)
{
	EVP_PKEY *k = NULL;

	if (!c->have_own)
		return IKE_ERR_INVAL;
	if (c->have_key)
		return 1;
	if (!(k = ike_key_parse(data, len)))
		return IKE_ERR_SYNTAX;
	if (X509_check_private_key(c->own, k) != 1) {
		ERR_clear_error();
		EVP_PKEY_free(k);
		return 1;
	}
	drop_ctx(c);
	c->key = k;
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

int eap_tls_dn(const X509 *crt, char *buf, size_t cap)
{
	/* Short names, ", " between the attributes, UTF-8 as it is, control
	 * characters escaped: "C=CH, O=tunsec test, CN=sun.tunsec.test". */
	const unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
	                            ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_ESC_CTRL;
	BIO *bio;
	int n = -1;

	if (!crt || cap == 0 || cap > INT_MAX || !(bio = BIO_new(BIO_s_mem())))
		return -1;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(crt), 0, flags) >= 0) {
		n = BIO_read(bio, buf, (int)cap);
		if (n < 0)
			n = 0;
		if ((size_t)n >= cap)
			n = -1;
		else
			buf[n] = '\0';
	}
	BIO_free(bio);
	return n;
}

/* A subjectAltName entry naming identity: rfc822Name and dNSName are
 * IA5Strings, iPAddress 4 or 16 bytes (RFC 5280 §4.2.1.6), as an IKE
 * ID_IPV4_ADDR / ID_IPV6_ADDR carries. */
static bool alt_names(const X509 *crt, const uint8_t *identity, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(crt, NID_subject_alt_name, NULL, NULL);
	bool found = false;

	for (int i = 0; !found && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *v = g->type == GEN_EMAIL   ? g->d.rfc822Name
		                       : g->type == GEN_DNS   ? g->d.dNSName
		                       : g->type == GEN_IPADD ? g->d.iPAddress
		                                              : NULL;

		if (!v)
			continue;
		if (g->type == GEN_IPADD)
			found = (size_t)ASN1_STRING_length(v) == len &&
			        memcmp(ASN1_STRING_get0_data(v), identity, len) == 0;
		else
			found = eq_nocase(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
			                  identity, len);
	}
	GENERAL_NAMES_free(gens);
	return found;
}

bool eap_tls_cert_names(const X509 *crt, const uint8_t *identity, size_t len)
{
	const X509_NAME *subj;
	const unsigned char *der;
	size_t der_len;
	char dn[1024];
	int n;

	if (!crt || len == 0)
		return false;
	if (alt_names(crt, identity, len))
		return true;
	/* An IKE ID_DER_ASN1_DN: the subject's DER */
	subj = X509_get_subject_name(crt);
	if (X509_NAME_get0_der(subj, &der, &der_len) == 1 && der_len == len &&
	    memcmp(der, identity, len) == 0)
		return true;
	for (int i = -1; (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;) {
		const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));

		if ((size_t)ASN1_STRING_length(cn) == len &&
		    memcmp(ASN1_STRING_get0_data(cn), identity, len) == 0)
			return true;
	}
	n = eap_tls_dn(crt, dn, sizeof(dn));
	return n > 0 && (size_t)n == len && memcmp(dn, identity, len) == 0;
}

/* ---- libssl callbacks ------------------------------------------------------ */

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

/*
 * The other end's certificate, as libssl checks its chain: the end entity
 * (depth 0) must name the identity. Refusing it here, with an X.509 error,
 * makes libssl answer with the certificate alert the other end expects
 * (§2.1.3, §2.1.4).
 */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct eap_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
	const X509 *crt = X509_STORE_CTX_get0_cert(x);
	const uint8_t *id = NULL;
	size_t len = 0;

	if (!t)
		return 0;
	if (!t->peer_subject[0] && eap_tls_dn(crt, t->peer_subject, sizeof(t->peer_subject)) < 0)
		t->peer_subject[0] = '\0';
	if (!ok || X509_STORE_CTX_get_error_depth(x) != 0)
		return ok;
	if (t->cfg.identity)
		id = t->cfg.identity(t->cfg.identity_ctx, &len);
	if (!id)
		len = 0;
	/* The server always checks (the peer says who it is, and RFC 5216
	 * §5.2 has the server check that the certificate says the same);
	 * the peer only when configured with the server's name. */
	if ((t->server || len) && !eap_tls_cert_names(crt, id, len)) {
		t->id_mismatch = true;
		X509_STORE_CTX_set_error(x, X509_V_ERR_HOSTNAME_MISMATCH);
		return 0;
	}
	return 1;
}

/* An alert from the other end, other than close_notify, ends it. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	struct eap_tls *t = SSL_get_app_data(ssl);

	if (t && (where & SSL_CB_ALERT) && (where & SSL_CB_READ) &&
	    (ret & 0xff) != SSL_AD_CLOSE_NOTIFY)
		t->alert_in = true;
}

/* ---- setup ------------------------------------------------------------------ */

/*
 * One role's libssl configuration from the credentials. The (EC)DHE groups,
 * preferred first: X25519, P-256, P-384 (P-521 last, which cost a login
 * some 40 % more CPU for no gain when it came first: scripts/bench_ike.sh's
 * eap-tls row); TLS 1.2 also checks an ECDSA certificate's curve against
 * them.
 */
static SSL_CTX *make_ctx(const struct eap_tls_creds *c, bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	X509_STORE *store = X509_STORE_new();
	bool ok = ctx && store;

	/* TLS 1.2 and 1.3, nothing older (RFC 8996). */
	ok = ok && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) &&
	     SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) &&
	     SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384:P-521");
	/* Every conversation a full handshake: no tickets (RFC 9190 §2.1.2
	 * makes resumption optional), no cache, no renegotiation. */
	if (ok) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
		                             SSL_OP_NO_COMPRESSION);
		/* A server without RFC 5746's renegotiation_info (strongSwan's
		 * TLS stack) is safe to talk to when neither end may
		 * renegotiate; OpenSSL 3 refuses it by default. */
		if (!server)
			SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
		ok = SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		/* Our chain as configured, not completed from the anchors
		 * meant for the other end; record buffers freed between
		 * rounds (a login waits for the network most of its time). */
		SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS);
	}
	ok = ok && SSL_CTX_use_certificate(ctx, c->own) == 1 &&
	     (!c->chain || SSL_CTX_set1_chain(ctx, c->chain) == 1) &&
	     SSL_CTX_use_PrivateKey(ctx, c->key) == 1;
	/* The anchors may be intermediates (mbedTLS took any certificate
	 * as one, strongSwan does too): a chain may end at any of them. */
	for (int i = 0; ok && i < sk_X509_num(c->ca); i++) {
		X509 *a = sk_X509_value(c->ca, i);

		ok = X509_STORE_add_cert(store, a) == 1 &&
		     (!server || SSL_CTX_add_client_CA(ctx, a) == 1);
	}
	ok = ok && X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN) == 1;
	if (ok) {
		SSL_CTX_set_cert_store(ctx, store); /* owned by ctx now */
		store = NULL;
		/* Both ends prove themselves (§2.1: the server requests the
		 * peer's certificate; the peer checks the server's). */
		SSL_CTX_set_verify(ctx,
		                   SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		                   verify_cb);
		SSL_CTX_set_info_callback(ctx, info_cb);
	}
	X509_STORE_free(store);
	if (!ok) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	ERR_clear_error();
	return ctx;
}

static int tls_init(struct eap_tls *t, const struct eap_tls_cfg *cfg, bool server)
{
	/* The context cache is the one thing of the credentials a
	 * conversation changes: made once, shared after (single thread). */
	struct eap_tls_creds *c = (struct eap_tls_creds *)cfg->creds;

	memset(t, 0, sizeof(*t));
	if (!c || !c->have_own || !c->have_key || !c->have_ca || (server && !cfg->identity))
		return IKE_ERR_INVAL;
	if (cfg->fragment_size && cfg->fragment_size < EAP_TLS_FRAG_MIN)
		return IKE_ERR_INVAL;
	t->server = server;
	t->cfg = *cfg;
	if (!t->cfg.fragment_size)
		t->cfg.fragment_size = EAP_TLS_FRAG_DEFAULT;
	if (!c->ctx[server] && !(c->ctx[server] = make_ctx(c, server)))
		goto fail;
	if (!(t->ssl = SSL_new(c->ctx[server])) || !(t->rbio = BIO_new(BIO_s_mem())) ||
	    !(t->wbio = BIO_new(BIO_s_mem()))) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		t->rbio = t->wbio = NULL;
		goto fail;
	}
	/* An empty input is "more to come", not the end of the stream. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_app_data(t->ssl, t);
	if (server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	t->state = EAP_TLS_START;
	return IKE_OK;
fail:
	ERR_clear_error();
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
	SSL_free(t->ssl); /* and its BIOs */
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

void eap_tls_describe(const struct eap_tls *t, char *buf, size_t cap)
{
	const SSL_CIPHER *c = t->ssl && t->version ? SSL_get_current_cipher(t->ssl) : NULL;

	if (cap)
		buf[0] = '\0';
	if (c)
		snprintf(buf, cap, "TLS 1.%d, %s", t->version == TLS1_3_VERSION ? 3 : 2,
		         SSL_CIPHER_standard_name(c));
}

const char *eap_tls_detail(const struct eap_tls *t)
{
	const char *s = NULL;

	if (t->why == EAP_TLS_WHY_UNTRUSTED && t->vrfy_err != X509_V_OK)
		s = X509_verify_cert_error_string(t->vrfy_err);
	else if (t->why == EAP_TLS_WHY_TLS && t->tls_err)
		s = ERR_reason_error_string(t->tls_err);
	return s ? s : "";
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

/* A fragment in (reassemble()): while more are to come, our ACK goes out
 * in out and 0 comes back; 1: the whole message is in; < 0: refused. */
static int take(struct eap_tls *t, uint8_t flags, const uint8_t *tls, size_t tls_len,
                uint32_t msg_len, uint8_t *out, size_t *out_len)
{
	int rc = reassemble(t, flags, tls, tls_len, msg_len);

	if (rc == 0)
		ack(out, out_len);
	return rc;
}

/* Why the handshake stopped (libssl's error queue and verify result). */
static enum eap_tls_why tls_why(struct eap_tls *t)
{
	unsigned long e = ERR_peek_error();

	if (e)
		t->tls_err = e;
	if (t->alert_in)
		return EAP_TLS_WHY_ALERT;
	t->vrfy_err = t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
	if (t->vrfy_err != X509_V_OK)
		return t->id_mismatch && t->vrfy_err == X509_V_ERR_HOSTNAME_MISMATCH
		           ? EAP_TLS_WHY_IDENTITY
		           : EAP_TLS_WHY_UNTRUSTED;
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		return EAP_TLS_WHY_NO_CERT;
	return EAP_TLS_WHY_TLS;
}

/* §2.3 of either RFC, once the handshake is over. */
static int export_msk(struct eap_tls *t)
{
	uint8_t km[EAP_TLS_KM_LEN];
	int ok;

	t->version = SSL_version(t->ssl);
	if (t->version == TLS1_3_VERSION)
		ok = SSL_export_keying_material(t->ssl, km, sizeof(km), label_13,
		                                sizeof(label_13) - 1, context_13,
		                                sizeof(context_13), 1);
	else
		ok = SSL_export_keying_material(t->ssl, km, sizeof(km), label_12,
		                                sizeof(label_12) - 1, NULL, 0, 0);
	if (ok == 1)
		memcpy(t->msk, km, EAP_TLS_MSK_LEN);
	sodium_memzero(km, sizeof(km));
	/* Not usable until the exchange is over (the peer's ACK at the
	 * server, the commitment at a TLS 1.3 peer): have_msk is set there. */
	return ok == 1 ? 0 : -1;
}

/* Our records, drained from libssl into t->out: 0 or -1. */
static int drain(struct eap_tls *t)
{
	size_t n = BIO_ctrl_pending(t->wbio);

	if (n == 0)
		return 0;
	if (n > EAP_TLS_MSG_MAX - t->out_len || grow(&t->out, &t->out_cap, t->out_len + n) < 0 ||
	    BIO_read(t->wbio, t->out + t->out_len, (int)n) != (int)n)
		return -1;
	t->out_len += n;
	return 0;
}

/*
 * The TLS 1.3 peer after its Finished: the server's commitment message,
 * application data of one byte 0x00 (RFC 9190 §2.5), and nothing else.
 * 1 had it, 0 more to come, -1 anything else.
 */
static int read_commitment(struct eap_tls *t)
{
	uint8_t b[16];
	int n = SSL_read(t->ssl, b, sizeof(b));

	if (n == 1 && b[0] == 0x00) {
		t->committed = true;
		return 1;
	}
	/* Whole records only: a part of one would wait for the next. */
	if (n <= 0 && SSL_get_error(t->ssl, n) == SSL_ERROR_WANT_READ && !SSL_has_pending(t->ssl))
		return 0;
	return -1;
}

/*
 * Feed the reassembled message to TLS and run the handshake until it
 * wants the other end's next message or is over: 0 (more to come), 1
 * (the handshake is over, or a TLS 1.3 peer has the commitment), or -1
 * (failed; t->out may hold our alert; tls_why() says why). A TLS 1.3
 * server ends its handshake with the commitment message.
 */
static int tls_step(struct eap_tls *t)
{
	static const uint8_t commitment = 0x00;
	bool was_done = SSL_is_init_finished(t->ssl);
	int rc;

	ERR_clear_error();
	if (t->in_len && BIO_write(t->rbio, t->in, (int)t->in_len) != (int)t->in_len)
		rc = -1;
	else if (!was_done)
		rc = SSL_do_handshake(t->ssl);
	else if (!t->server && t->version == TLS1_3_VERSION && !t->committed)
		rc = read_commitment(t);
	else
		rc = -1; /* nothing is due after the end */
	t->in_len = t->in_total = 0;
	if (rc <= 0 && !was_done)
		rc = SSL_get_error(t->ssl, rc) == SSL_ERROR_WANT_READ ? 0 : -1;
	if (rc == 1 && !was_done) {
		if (export_msk(t) < 0)
			rc = -1;
		else if (t->server && t->version == TLS1_3_VERSION &&
		         SSL_write(t->ssl, &commitment, 1) != 1)
			rc = -1;
	}
	/* Every byte must have been a record of this step: what is left
	 * after the handshake is over would be ignored. */
	if (rc == 1 && (BIO_ctrl_pending(t->rbio) || SSL_has_pending(t->ssl)))
		rc = -1;
	if (drain(t) < 0)
		rc = -1;
	if (rc < 0)
		t->why = tls_why(t);
	ERR_clear_error();
	return rc;
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

	if ((rc = take(t, flags, tls, tls_len, msg_len, out, out_len)) <= 0)
		return rc ? rc : EAP_SEND;
	rc = tls_step(t);
	if (rc < 0) {
		if (t->out_len == 0 || t->why == EAP_TLS_WHY_ALERT)
			return fail(t, t->why, EAP_FAILURE);
		/* Our alert goes to the peer first (§2.1.3). */
		t->after = EAP_TLS_ALERT;
		return send_next(t, out, frag, out_len);
	}
	if (t->out_len == 0)
		/* The peer's message left TLS with nothing to say: it was
		 * not a whole flight. */
		return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
	/* Over: ChangeCipherSpec and Finished (1.2) or the commitment
	 * message (1.3) go out, and the peer's ACK of them is due. */
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
			return fail(t, rc < 0 ? t->why : EAP_TLS_WHY_TLS, IKE_ERR_CRYPTO);
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

	if ((rc = take(t, flags, tls, tls_len, msg_len, out, out_len)) <= 0)
		return rc ? rc : EAP_SEND;
	rc = tls_step(t);
	if (rc < 0) {
		/* §2.1.4: our alert in the Response if TLS wrote one (we
		 * refused the server), else an empty one (it refused us);
		 * only EAP-Failure may follow. */
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
	if (rc == 1 && t->version == TLS1_3_VERSION && !t->committed) {
		/* RFC 9190 §2.1.1: our Certificate .. Finished go out, and
		 * the server's commitment message is due before anything
		 * counts as done; an EAP-Success now fails (ike/eap.c). */
		if (t->out_len == 0)
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
		t->after = EAP_TLS_RECV;
		return send_next(t, out, frag, out_len);
	}
	if (rc == 1) {
		/* The server's Finished verified (1.2) or its commitment
		 * came (1.3): acknowledge it (§2.1.1) and wait for
		 * EAP-Success. Neither leaves the client more to send. */
		if (t->out_len)
			return fail(t, EAP_TLS_WHY_MALFORMED, IKE_ERR_SYNTAX);
		t->have_msk = true;
		t->state = EAP_TLS_DONE_OK;
		ack(out, out_len);
		return EAP_SUCCESS;
	}
	if (t->out_len == 0 && t->committed == false && SSL_is_init_finished(t->ssl)) {
		/* A TLS 1.3 server's post-handshake message on its own (a
		 * NewSessionTicket we did not ask for): acknowledged, the
		 * commitment still due. */
		ack(out, out_len);
		return EAP_SEND;
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
