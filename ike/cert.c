/*
 * X.509 credentials and AUTH signatures (RFC 7296 §2.15, §3.6-3.8; RFC 4754;
 * RFC 7427) on OpenSSL libcrypto; see cert.h. All OpenSSL types stay here.
 */
#include "ike/cert.h"
#include "ike/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#define CREDS_MAX_CERTS 8   /* our end entity + intermediates */
#define CREDS_MAX_CAS   32  /* trust anchors */
#define CRED_FILE_MAX   (1 << 20)

struct ike_creds {
	EVP_PKEY *key; /* NULL when n_certs == 0 */
	size_t n_certs;
	X509 *cert[CREDS_MAX_CERTS];
	uint8_t *der[CREDS_MAX_CERTS];
	size_t der_len[CREDS_MAX_CERTS];
	size_t n_cas;
	X509 *ca[CREDS_MAX_CAS];
	X509_STORE *store;
};

struct ike_peer_cert {
	X509 *cert;
};

static const char *const err_names[] = {
    "ok",
    "invalid argument",
    "no certificate from the peer",
    "certificate does not parse",
    "certificate not trusted (no chain to a trust anchor)",
    "certificate expired",
    "certificate not yet valid",
    "identity not in the certificate",
    "authentication method unusable with the key",
    "signature does not verify",
    "no certificate and private key to sign with",
    "crypto library failure",
    "buffer too small",
    "no connection accepts these identities and this AUTH method",
    "refused by the connection's uniqueness policy (unique = keep)",
    "AUTH did not verify: the pre-shared keys differ",
    "the responder's ID is not the remote id configured",
    "EAP failed",
    "the AUTH after EAP does not verify with the EAP key (MSK)",
    "the authentication rounds do not fit the connection's (RFC 4739)",
    "EAP-only authentication (RFC 5998) without a key from the EAP method",
    "EAP-only authentication (RFC 5998) on one side only: the server's AUTH before EAP is "
    "missing or unwanted",
    "AUTH method 1 is RSA with SHA-1, a legacy method (RFC 8247 section 3.2): "
    "tunsec.legacy = yes admits it",
};

const char *ike_cert_strerror(int err)
{
	if (err <= 0 && -err < (int)(sizeof(err_names) / sizeof(err_names[0])))
		return err_names[-err];
	return "unknown certificate error";
}

/* ---- signature schemes -------------------------------------------------- */

/* RFC 7427 Appendix A encodings (A.1.2-4, A.3.2-4; PSS as in its errata). */
static const uint8_t aid_rsa256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t aid_rsa384[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00};
static const uint8_t aid_rsa512[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00};
static const uint8_t aid_ec256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                    0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t aid_ec384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                    0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t aid_ec512[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                    0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
/* RSASSA-PSS { hashAlgorithm [0] h, maskGenAlgorithm [1] MGF1(h),
 * saltLength [2] len(h) }, hash OIDs 2.16.840.1.101.3.4.2.{1,2,3}. */
#define PSS_AID(h, salt)                                                                           \
	{0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30,       \
	 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,       \
	 0x02, (h),  0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,       \
	 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,       \
	 0x03, 0x04, 0x02, (h),  0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, (salt)}
static const uint8_t aid_pss256[] = PSS_AID(0x01, 32);
static const uint8_t aid_pss384[] = PSS_AID(0x02, 48);
static const uint8_t aid_pss512[] = PSS_AID(0x03, 64);

enum key_kind { KEY_RSA = 1, KEY_EC };

struct scheme_info {
	uint8_t method;
	enum key_kind kind;
	int hash; /* IKE_HASH_* */
	bool pss;
	bool raw; /* RFC 4754 r || s */
	unsigned ec_bits; /* methods 9-11: the curve */
	const uint8_t *aid;
	size_t aid_len;
};

static const struct scheme_info schemes[] = {
    [IKE_SIG_RSA_SHA1] = {IKE_AUTH_RSA_SIG, KEY_RSA, IKE_HASH_SHA1, false, false, 0, NULL, 0},
    [IKE_SIG_ECDSA_256] = {IKE_AUTH_ECDSA_256, KEY_EC, IKE_HASH_SHA256, false, true, 256, NULL, 0},
    [IKE_SIG_ECDSA_384] = {IKE_AUTH_ECDSA_384, KEY_EC, IKE_HASH_SHA384, false, true, 384, NULL, 0},
    [IKE_SIG_ECDSA_521] = {IKE_AUTH_ECDSA_521, KEY_EC, IKE_HASH_SHA512, false, true, 521, NULL, 0},
#define DS(kind, h, pss, aid) {IKE_AUTH_DIGITAL_SIGNATURE, kind, h, pss, false, 0, aid, sizeof(aid)}
    [IKE_SIG_DS_RSA_SHA256] = DS(KEY_RSA, IKE_HASH_SHA256, false, aid_rsa256),
    [IKE_SIG_DS_RSA_SHA384] = DS(KEY_RSA, IKE_HASH_SHA384, false, aid_rsa384),
    [IKE_SIG_DS_RSA_SHA512] = DS(KEY_RSA, IKE_HASH_SHA512, false, aid_rsa512),
    [IKE_SIG_DS_PSS_SHA256] = DS(KEY_RSA, IKE_HASH_SHA256, true, aid_pss256),
    [IKE_SIG_DS_PSS_SHA384] = DS(KEY_RSA, IKE_HASH_SHA384, true, aid_pss384),
    [IKE_SIG_DS_PSS_SHA512] = DS(KEY_RSA, IKE_HASH_SHA512, true, aid_pss512),
    [IKE_SIG_DS_ECDSA_SHA256] = DS(KEY_EC, IKE_HASH_SHA256, false, aid_ec256),
    [IKE_SIG_DS_ECDSA_SHA384] = DS(KEY_EC, IKE_HASH_SHA384, false, aid_ec384),
    [IKE_SIG_DS_ECDSA_SHA512] = DS(KEY_EC, IKE_HASH_SHA512, false, aid_ec512),
#undef DS
};
#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static const struct scheme_info *scheme(enum ike_sig_scheme s)
{
	if ((unsigned)s == IKE_SIG_NONE || (unsigned)s >= N_SCHEMES)
		return NULL;
	return &schemes[s];
}

uint8_t ike_sig_method(enum ike_sig_scheme s)
{
	const struct scheme_info *i = scheme(s);

	return i ? i->method : 0;
}

const uint8_t *ike_sig_algid(enum ike_sig_scheme s, size_t *len)
{
	const struct scheme_info *i = scheme(s);

	if (len)
		*len = i ? i->aid_len : 0;
	return i ? i->aid : NULL;
}

static const EVP_MD *hash_md(int h)
{
	switch (h) {
	case IKE_HASH_SHA1:
		return EVP_sha1();
	case IKE_HASH_SHA256:
		return EVP_sha256();
	case IKE_HASH_SHA384:
		return EVP_sha384();
	case IKE_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

static int key_kind(const EVP_PKEY *k)
{
	switch (EVP_PKEY_base_id(k)) {
	case EVP_PKEY_RSA:
		return KEY_RSA;
	case EVP_PKEY_EC:
		return KEY_EC;
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

static void set_err(char *err, size_t cap, const char *what, const char *detail)
{
	if (err && cap)
		snprintf(err, cap, "%s: %s", what, detail);
}

/* PEM: a "-----BEGIN" line anywhere (OpenSSL's reader skips what comes
 * before it, such as the "Bag Attributes" of a PKCS#12 export); else DER. */
static bool is_pem(const uint8_t *d, size_t len)
{
	return memmem(d, len, "-----BEGIN", 10) != NULL;
}

/* Never prompt for a passphrase: encrypted keys simply fail to load. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

static X509 *cert_parse(const uint8_t *d, size_t len)
{
	X509 *x = NULL;

	if (!d || len == 0 || len > CRED_FILE_MAX)
		return NULL;
	if (is_pem(d, len)) {
		BIO *b = BIO_new_mem_buf(d, (int)len);

		if (b)
			x = PEM_read_bio_X509(b, NULL, no_pass, NULL);
		BIO_free(b);
	} else {
		const uint8_t *p = d;

		x = d2i_X509(NULL, &p, (long)len);
		if (x && p != d + len) { /* trailing garbage */
			X509_free(x);
			x = NULL;
		}
	}
	ERR_clear_error();
	return x;
}

EVP_PKEY *ike_key_parse(const uint8_t *d, size_t len)
{
	EVP_PKEY *k = NULL;

	if (!d || len == 0 || len > CRED_FILE_MAX)
		return NULL;
	if (is_pem(d, len)) {
		BIO *b = BIO_new_mem_buf(d, (int)len);

		if (b)
			k = PEM_read_bio_PrivateKey(b, NULL, no_pass, NULL);
		BIO_free(b);
	} else {
		const uint8_t *p = d;

		k = d2i_AutoPrivateKey(NULL, &p, (long)len);
	}
	ERR_clear_error();
	return k;
}

void ike_creds_free(struct ike_creds *c)
{
	if (!c)
		return;
	EVP_PKEY_free(c->key); /* clears the private components */
	for (size_t i = 0; i < c->n_certs; i++) {
		X509_free(c->cert[i]);
		OPENSSL_free(c->der[i]);
	}
	for (size_t i = 0; i < c->n_cas; i++)
		X509_free(c->ca[i]);
	X509_STORE_free(c->store);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

struct ike_creds *ike_creds_load_mem(const struct ike_cred_blob *certs, size_t n_certs,
                                     const struct ike_cred_blob *keys, size_t n_keys,
                                     const struct ike_cred_blob *cacerts, size_t n_cas,
                                     char *err, size_t errcap)
{
	struct ike_creds *c;
	char what[64];

	if (err && errcap)
		err[0] = '\0';
	if (n_certs > CREDS_MAX_CERTS || n_cas > CREDS_MAX_CAS || (n_certs && !certs) ||
	    (n_keys && !keys) || (n_cas && !cacerts)) {
		set_err(err, errcap, "credentials", "too many certificates or bad arguments");
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))) || !(c->store = X509_STORE_new())) {
		set_err(err, errcap, "credentials", "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n_certs; i++) {
		int n;

		snprintf(what, sizeof(what), "certificate %zu", i + 1);
		if (!(c->cert[i] = cert_parse(certs[i].data, certs[i].len))) {
			set_err(err, errcap, what, "not an X.509 certificate (PEM or DER)");
			goto fail;
		}
		c->n_certs = i + 1;
		c->der[i] = NULL;
		if ((n = i2d_X509(c->cert[i], &c->der[i])) <= 0) {
			set_err(err, errcap, what, "cannot encode");
			goto fail;
		}
		c->der_len[i] = (size_t)n;
	}
	/* The key that belongs to our end-entity certificate. */
	for (size_t i = 0; n_certs && i < n_keys && !c->key; i++) {
		EVP_PKEY *k = ike_key_parse(keys[i].data, keys[i].len);

		snprintf(what, sizeof(what), "private key %zu", i + 1);
		if (!k) {
			set_err(err, errcap, what, "not an unencrypted RSA or EC private key");
			goto fail;
		}
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		if (EVP_PKEY_eq(X509_get0_pubkey(c->cert[0]), k) == 1 && key_kind(k))
#else
		if (EVP_PKEY_cmp(X509_get0_pubkey(c->cert[0]), k) == 1 && key_kind(k))
#endif
			c->key = k;
		else
			EVP_PKEY_free(k);
	}
	if (n_certs && !c->key) {
		set_err(err, errcap, "certificate 1",
		        "no RSA or EC private key given matches its public key");
		goto fail;
	}
	for (size_t i = 0; i < n_cas; i++) {
		snprintf(what, sizeof(what), "CA certificate %zu", i + 1);
		if (!(c->ca[i] = cert_parse(cacerts[i].data, cacerts[i].len))) {
			set_err(err, errcap, what, "not an X.509 certificate (PEM or DER)");
			goto fail;
		}
		c->n_cas = i + 1;
		if (X509_check_ca(c->ca[i]) == 0) {
			set_err(err, errcap, what, "not a CA certificate");
			goto fail;
		}
		if (X509_STORE_add_cert(c->store, c->ca[i]) != 1) {
			ERR_clear_error(); /* a duplicate: harmless */
		}
	}
	return c;
fail:
	ERR_clear_error();
	ike_creds_free(c);
	return NULL;
}

static int read_file(const char *path, struct ike_cred_blob *b, char *err, size_t errcap)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		set_err(err, errcap, path, "cannot open");
		return -1;
	}
	if (!(buf = malloc(CRED_FILE_MAX))) {
		fclose(f);
		set_err(err, errcap, path, "out of memory");
		return -1;
	}
	n = fread(buf, 1, CRED_FILE_MAX, f);
	if (ferror(f) || n == 0 || n == CRED_FILE_MAX) {
		fclose(f);
		sodium_memzero(buf, n);
		free(buf);
		set_err(err, errcap, path, n == CRED_FILE_MAX ? "larger than 1 MiB" : "cannot read");
		return -1;
	}
	fclose(f);
	b->data = buf;
	b->len = n;
	return 0;
}

static void blobs_free(struct ike_cred_blob *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i].data) {
			sodium_memzero((void *)b[i].data, b[i].len); /* keys among them */
			free((void *)b[i].data);
		}
	}
	free(b);
}

struct ike_creds *ike_creds_load(const char *const *certs, size_t n_certs,
                                 const char *const *key_files, size_t n_keys,
                                 const char *const *cacerts, size_t n_cas, char *err,
                                 size_t errcap)
{
	size_t n = n_certs + n_keys + n_cas;
	struct ike_cred_blob *b;
	struct ike_creds *c = NULL;
	char lerr[160];

	if (err && errcap)
		err[0] = '\0';
	if ((n_certs && !certs) || (n_keys && !key_files) || (n_cas && !cacerts) ||
	    n > CREDS_MAX_CERTS + CREDS_MAX_CAS + 64) {
		set_err(err, errcap, "credentials", "bad arguments");
		return NULL;
	}
	if (!(b = calloc(n ? n : 1, sizeof(*b)))) {
		set_err(err, errcap, "credentials", "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = i < n_certs            ? certs[i]
		                : i < n_certs + n_keys ? key_files[i - n_certs]
		                                       : cacerts[i - n_certs - n_keys];

		if (!p || read_file(p, &b[i], err, errcap) < 0)
			goto out;
	}
	c = ike_creds_load_mem(b, n_certs, b + n_certs, n_keys, b + n_certs + n_keys, n_cas, lerr,
	                       sizeof(lerr));
	if (!c) {
		/* Name the file rather than its position. */
		const char *p = NULL;
		unsigned k;

		if (sscanf(lerr, "certificate %u", &k) == 1 && k >= 1 && k <= n_certs)
			p = certs[k - 1];
		else if (sscanf(lerr, "private key %u", &k) == 1 && k >= 1 && k <= n_keys)
			p = key_files[k - 1];
		else if (sscanf(lerr, "CA certificate %u", &k) == 1 && k >= 1 && k <= n_cas)
			p = cacerts[k - 1];
		if (err && errcap)
			snprintf(err, errcap, "%s%s%s", p ? p : "", p ? ": " : "",
			         p && strchr(lerr, ':') ? strchr(lerr, ':') + 2 : lerr);
	}
out:
	blobs_free(b, n);
	return c;
}

bool ike_creds_can_sign(const struct ike_creds *c)
{
	return c && c->key && c->n_certs > 0;
}

size_t ike_creds_n_cas(const struct ike_creds *c)
{
	return c ? c->n_cas : 0;
}

static void asn1_time_str(const ASN1_TIME *t, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = b && ASN1_TIME_print(b, t) ? BIO_read(b, buf, (int)cap - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

int ike_creds_cert_validity(const struct ike_creds *c, size_t i, long long now, char *why,
                            size_t cap)
{
	time_t t = (time_t)now;
	char when[64];

	if (!c || i >= c->n_certs)
		return -1;
	if (X509_cmp_time(X509_get0_notAfter(c->cert[i]), &t) < 0) {
		asn1_time_str(X509_get0_notAfter(c->cert[i]), when, sizeof(when));
		snprintf(why, cap, "expired on %s", when);
		return 1;
	}
	if (X509_cmp_time(X509_get0_notBefore(c->cert[i]), &t) > 0) {
		asn1_time_str(X509_get0_notBefore(c->cert[i]), when, sizeof(when));
		snprintf(why, cap, "not valid before %s", when);
		return 1;
	}
	return 0;
}

size_t ike_creds_n_certs(const struct ike_creds *c)
{
	return c ? c->n_certs : 0;
}

int ike_creds_cert_der(const struct ike_creds *c, size_t i, const uint8_t **der, size_t *len)
{
	if (!c || i >= c->n_certs || !der || !len)
		return IKE_CERT_ERR_INVAL;
	*der = c->der[i];
	*len = c->der_len[i];
	return IKE_CERT_OK;
}

static bool spki_sha1(X509 *x, uint8_t out[20])
{
	uint8_t *der = NULL;
	unsigned int mlen = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	bool ok = n > 0 && EVP_Digest(der, (size_t)n, out, &mlen, EVP_sha1(), NULL) == 1 &&
	          mlen == 20;

	OPENSSL_free(der);
	return ok;
}

int ike_creds_certreq(const struct ike_creds *c, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (!c)
		return 0;
	for (size_t i = 0; i < c->n_cas; i++) {
		if (n + 20 > cap)
			return IKE_CERT_ERR_NOSPACE;
		if (!spki_sha1(c->ca[i], out + n))
			return IKE_CERT_ERR_CRYPTO;
		n += 20;
	}
	return (int)n;
}

/* ---- identities (RFC 7296 §3.5) ----------------------------------------- */

static bool cert_has_id(X509 *x, uint8_t type, const uint8_t *id, size_t len)
{
	GENERAL_NAMES *names;
	bool found = false;
	int want;

	if (!x || !id || len == 0)
		return false;
	if (type == IKE_ID_DER_ASN1_DN) {
		uint8_t *der = NULL;
		int n = i2d_X509_NAME(X509_get_subject_name(x), &der);

		found = n > 0 && (size_t)n == len && memcmp(der, id, len) == 0;
		OPENSSL_free(der);
		return found;
	}
	switch (type) {
	case IKE_ID_FQDN:
		want = GEN_DNS;
		break;
	case IKE_ID_RFC822_ADDR:
		want = GEN_EMAIL;
		break;
	case IKE_ID_IPV4_ADDR:
	case IKE_ID_IPV6_ADDR:
		if (len != (type == IKE_ID_IPV4_ADDR ? 4u : 16u))
			return false;
		want = GEN_IPADD;
		break;
	default:
		return false;
	}
	if (!(names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL))) {
		ERR_clear_error();
		return false;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s;

		if (g->type != want)
			continue;
		s = want == GEN_DNS ? g->d.dNSName : want == GEN_EMAIL ? g->d.rfc822Name : g->d.iPAddress;
		if (!s || (size_t)ASN1_STRING_length(s) != len)
			continue;
		if (want == GEN_IPADD)
			found = memcmp(ASN1_STRING_get0_data(s), id, len) == 0;
		else /* DNS names and mail domains compare case-insensitively */
			found = strncasecmp((const char *)ASN1_STRING_get0_data(s), (const char *)id,
			                    len) == 0 &&
			        memchr(id, 0, len) == NULL;
	}
	GENERAL_NAMES_free(names);
	return found;
}

int ike_creds_subject_id(const struct ike_creds *c, struct ike_identity *id)
{
	const X509_NAME *name;
	unsigned char *der = NULL;
	int n;

	if (!c || !c->n_certs || !id || !(name = X509_get_subject_name(c->cert[0])))
		return IKE_CERT_ERR_NO_CERT;
	n = i2d_X509_NAME((X509_NAME *)name, &der);
	if (n <= 0 || n > IKE_ID_MAX) {
		OPENSSL_free(der);
		return IKE_CERT_ERR_NOSPACE;
	}
	memset(id, 0, sizeof(*id));
	id->type = IKE_ID_DER_ASN1_DN;
	id->len = (uint8_t)n;
	memcpy(id->data, der, (size_t)n);
	OPENSSL_free(der);
	return IKE_CERT_OK;
}

bool ike_creds_id_ok(const struct ike_creds *c, uint8_t id_type, const uint8_t *id, size_t len)
{
	return c && c->n_certs && cert_has_id(c->cert[0], id_type, id, len);
}

bool ike_peer_cert_id_ok(const struct ike_peer_cert *p, uint8_t id_type, const uint8_t *id,
                         size_t len)
{
	return p && cert_has_id(p->cert, id_type, id, len);
}

/* ---- signing ------------------------------------------------------------ */

enum ike_sig_scheme ike_creds_sig_scheme(const struct ike_creds *c, unsigned peer_hashes,
                                         bool rsa_pss, bool allow_sha1)
{
	static const int order[] = {IKE_HASH_SHA256, IKE_HASH_SHA384, IKE_HASH_SHA512};
	enum ike_sig_scheme rsa = rsa_pss ? IKE_SIG_DS_PSS_SHA256 : IKE_SIG_DS_RSA_SHA256;
	int kind;

	if (!ike_creds_can_sign(c))
		return IKE_SIG_NONE;
	kind = key_kind(c->key);
	if (kind == KEY_EC) {
		int bits = EVP_PKEY_bits(c->key);
		int own = bits <= 256 ? IKE_HASH_SHA256 : bits <= 384 ? IKE_HASH_SHA384
		                                                      : IKE_HASH_SHA512;

		if (!peer_hashes) /* RFC 4754 */
			return own == IKE_HASH_SHA256   ? IKE_SIG_ECDSA_256
			       : own == IKE_HASH_SHA384 ? IKE_SIG_ECDSA_384
			                                : IKE_SIG_ECDSA_521;
		if (peer_hashes & (1u << own))
			return (enum ike_sig_scheme)(IKE_SIG_DS_ECDSA_SHA256 + own - IKE_HASH_SHA256);
		for (size_t i = 0; i < 3; i++)
			if (peer_hashes & (1u << order[i]))
				return (enum ike_sig_scheme)(IKE_SIG_DS_ECDSA_SHA256 + i);
		return (enum ike_sig_scheme)(IKE_SIG_DS_ECDSA_SHA256 + own - IKE_HASH_SHA256);
	}
	/* RFC 7427 §4: no notify, no method 14 the peer is sure to verify;
	 * method 1 only where SHA-1 is allowed (see cert.h). */
	if (!peer_hashes && allow_sha1)
		return IKE_SIG_RSA_SHA1;
	for (size_t i = 0; i < 3; i++)
		if (peer_hashes & (1u << order[i]))
			return (enum ike_sig_scheme)(rsa + i);
	return rsa;
}

static int md_size(int hash)
{
	return EVP_MD_size(hash_md(hash));
}

/* Set up a digest-sign/verify context for scheme i (PSS: MGF1 with the
 * same hash, salt = salt_len). */
static EVP_MD_CTX *sig_ctx(EVP_PKEY *k, int hash, bool pss, int salt_len, int mgf_hash,
                           bool sign)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;
	int rc;

	if (!m)
		return NULL;
	rc = sign ? EVP_DigestSignInit(m, &p, hash_md(hash), NULL, k)
	          : EVP_DigestVerifyInit(m, &p, hash_md(hash), NULL, k);
	if (rc != 1)
		goto fail;
	if (pss && (EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) != 1 ||
	            EVP_PKEY_CTX_set_rsa_mgf1_md(p, hash_md(mgf_hash)) != 1 ||
	            EVP_PKEY_CTX_set_rsa_pss_saltlen(p, salt_len) != 1))
		goto fail;
	if (!pss && key_kind(k) == KEY_RSA && EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PADDING) != 1)
		goto fail;
	return m;
fail:
	EVP_MD_CTX_free(m);
	return NULL;
}

int ike_creds_sign(const struct ike_creds *c, enum ike_sig_scheme s, const uint8_t *octets,
                   size_t octets_len, uint8_t *out, size_t cap)
{
	const struct scheme_info *i = scheme(s);
	EVP_MD_CTX *m = NULL;
	uint8_t *sig = NULL;
	size_t sig_len = 0, hdr = 0;
	int rc = IKE_CERT_ERR_CRYPTO;

	if (!ike_creds_can_sign(c))
		return IKE_CERT_ERR_NO_KEY;
	if (!i || !octets || !out || key_kind(c->key) != (int)i->kind ||
	    (i->raw && (unsigned)EVP_PKEY_bits(c->key) != i->ec_bits))
		return IKE_CERT_ERR_METHOD;
	if (!(m = sig_ctx(c->key, i->hash, i->pss, md_size(i->hash), i->hash, true)))
		goto out;
	if (EVP_DigestSign(m, NULL, &sig_len, octets, octets_len) != 1 ||
	    !(sig = OPENSSL_malloc(sig_len)) ||
	    EVP_DigestSign(m, sig, &sig_len, octets, octets_len) != 1)
		goto out;
	if (i->aid) { /* RFC 7427 §3: length, AlgorithmIdentifier, signature */
		hdr = 1 + i->aid_len;
		if (cap < hdr) {
			rc = IKE_CERT_ERR_NOSPACE;
			goto out;
		}
		out[0] = (uint8_t)i->aid_len;
		memcpy(out + 1, i->aid, i->aid_len);
	}
	if (i->raw) {
		/* RFC 4754 §7: r and s, each padded to the field size. */
		size_t fl = (i->ec_bits + 7) / 8;
		const uint8_t *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
		const BIGNUM *r, *sv;

		if (!es)
			goto out;
		if (cap < 2 * fl) {
			ECDSA_SIG_free(es);
			rc = IKE_CERT_ERR_NOSPACE;
			goto out;
		}
		ECDSA_SIG_get0(es, &r, &sv);
		if (BN_bn2binpad(r, out, (int)fl) < 0 || BN_bn2binpad(sv, out + fl, (int)fl) < 0) {
			ECDSA_SIG_free(es);
			goto out;
		}
		ECDSA_SIG_free(es);
		rc = (int)(2 * fl);
		goto out;
	}
	if (cap - hdr < sig_len) {
		rc = IKE_CERT_ERR_NOSPACE;
		goto out;
	}
	memcpy(out + hdr, sig, sig_len);
	rc = (int)(hdr + sig_len);
out:
	ERR_clear_error();
	OPENSSL_free(sig);
	EVP_MD_CTX_free(m);
	return rc;
}

/* ---- the peer's certificate --------------------------------------------- */

void ike_peer_cert_free(struct ike_peer_cert *p)
{
	if (!p)
		return;
	X509_free(p->cert);
	free(p);
}

int ike_peer_cert_verify(const struct ike_creds *trust, const struct ike_cert *certs, size_t n,
                         int64_t now, struct ike_peer_cert **out)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *ee = NULL;
	int rc = IKE_CERT_ERR_CRYPTO;

	if (out)
		*out = NULL;
	if (!trust || !out || (n && !certs))
		return IKE_CERT_ERR_INVAL;
	if (!(chain = sk_X509_new_null()))
		goto out;
	for (size_t i = 0; i < n; i++) {
		X509 *x;

		/* §3.6: only X.509 signature certificates are used. */
		if (certs[i].encoding != IKE_CERT_X509_SIG)
			continue;
		if (is_pem(certs[i].data, certs[i].len) ||
		    !(x = cert_parse(certs[i].data, certs[i].len))) {
			rc = IKE_CERT_ERR_PARSE;
			goto out;
		}
		if (!ee) {
			ee = x;
		} else if (!sk_X509_push(chain, x)) {
			X509_free(x);
			goto out;
		}
	}
	if (!ee) {
		rc = IKE_CERT_ERR_NO_CERT;
		goto out;
	}
	if (!(ctx = X509_STORE_CTX_new()) || X509_STORE_CTX_init(ctx, trust->store, ee, chain) != 1)
		goto out;
	/* Every configured CA certificate is an anchor, root or not. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	if (now >= 0)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
	if (X509_verify_cert(ctx) != 1) {
		switch (X509_STORE_CTX_get_error(ctx)) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			rc = IKE_CERT_ERR_EXPIRED;
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			rc = IKE_CERT_ERR_NOT_YET;
			break;
		default:
			rc = IKE_CERT_ERR_UNTRUSTED;
		}
		goto out;
	}
	if (!(*out = calloc(1, sizeof(**out))))
		goto out;
	(*out)->cert = ee;
	ee = NULL;
	rc = IKE_CERT_OK;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_free(ee);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/* The IKE_HASH_* of a hash AlgorithmIdentifier (absent: SHA-1, RFC 4055
 * defaults), or 0. */
static int algor_hash(const X509_ALGOR *a)
{
	if (!a)
		return IKE_HASH_SHA1;
	switch (OBJ_obj2nid(a->algorithm)) {
	case NID_sha1:
		return IKE_HASH_SHA1;
	case NID_sha256:
		return IKE_HASH_SHA256;
	case NID_sha384:
		return IKE_HASH_SHA384;
	case NID_sha512:
		return IKE_HASH_SHA512;
	}
	return 0;
}

struct ds_params {
	enum key_kind kind;
	int hash;
	bool pss;
	int mgf_hash;
	int salt;
};

/* RFC 7427 §3: parse the AlgorithmIdentifier of a method 14 AUTH. */
static bool ds_parse(const uint8_t *aid, size_t len, struct ds_params *d)
{
	const uint8_t *p = aid;
	X509_ALGOR *a = d2i_X509_ALGOR(NULL, &p, (long)len);
	RSA_PSS_PARAMS *pss = NULL;
	bool ok = false;
	int nid;

	memset(d, 0, sizeof(*d));
	if (!a || p != aid + len)
		goto out;
	nid = OBJ_obj2nid(a->algorithm);
	switch (nid) {
	case NID_sha256WithRSAEncryption:
	case NID_sha384WithRSAEncryption:
	case NID_sha512WithRSAEncryption:
		d->kind = KEY_RSA;
		d->hash = nid == NID_sha256WithRSAEncryption   ? IKE_HASH_SHA256
		          : nid == NID_sha384WithRSAEncryption ? IKE_HASH_SHA384
		                                               : IKE_HASH_SHA512;
		ok = true;
		break;
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
	case NID_ecdsa_with_SHA512:
		d->kind = KEY_EC;
		d->hash = nid == NID_ecdsa_with_SHA256   ? IKE_HASH_SHA256
		          : nid == NID_ecdsa_with_SHA384 ? IKE_HASH_SHA384
		                                         : IKE_HASH_SHA512;
		ok = true;
		break;
	case NID_rsassaPss: {
		X509_ALGOR *mgf_h = NULL;
		int64_t salt = 20;

		if (!a->parameter || a->parameter->type != V_ASN1_SEQUENCE ||
		    !(pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), a->parameter)))
			goto out;
		d->kind = KEY_RSA;
		d->pss = true;
		d->hash = algor_hash(pss->hashAlgorithm);
		d->mgf_hash = IKE_HASH_SHA1;
		if (pss->maskGenAlgorithm) {
			if (OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1 ||
			    !pss->maskGenAlgorithm->parameter ||
			    pss->maskGenAlgorithm->parameter->type != V_ASN1_SEQUENCE ||
			    !(mgf_h = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
			                                        pss->maskGenAlgorithm->parameter)))
				goto out;
			d->mgf_hash = algor_hash(mgf_h);
			X509_ALGOR_free(mgf_h);
		}
		if (pss->saltLength && (!ASN1_INTEGER_get_int64(&salt, pss->saltLength) ||
		                        salt < 0 || salt > 1024))
			goto out;
		if (pss->trailerField && ASN1_INTEGER_get(pss->trailerField) != 1)
			goto out;
		d->salt = (int)salt;
		ok = d->mgf_hash != 0;
		break;
	}
	}
	/* RFC 8247: SHA-1 no longer in signatures we accept under method 14. */
	ok = ok && d->hash >= IKE_HASH_SHA256 && d->hash <= IKE_HASH_SHA512;
out:
	ERR_clear_error();
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(a);
	return ok;
}

static int verify_sig(EVP_PKEY *k, const struct ds_params *d, const uint8_t *sig, size_t sig_len,
                      const uint8_t *octets, size_t octets_len)
{
	EVP_MD_CTX *m = sig_ctx(k, d->hash, d->pss, d->salt, d->mgf_hash, false);
	int rc;

	if (!m)
		return IKE_CERT_ERR_METHOD;
	rc = EVP_DigestVerify(m, sig, sig_len, octets, octets_len) == 1 ? IKE_CERT_OK
	                                                                  : IKE_CERT_ERR_SIGNATURE;
	EVP_MD_CTX_free(m);
	ERR_clear_error();
	return rc;
}

int ike_peer_cert_verify_auth(const struct ike_peer_cert *p, uint8_t method, const uint8_t *auth,
                              size_t auth_len, const uint8_t *octets, size_t octets_len)
{
	EVP_PKEY *k;
	struct ds_params d;
	int kind;

	if (!p || !auth || !octets)
		return IKE_CERT_ERR_INVAL;
	if (!(k = X509_get0_pubkey(p->cert)) || !(kind = key_kind(k)))
		return IKE_CERT_ERR_METHOD;
	memset(&d, 0, sizeof(d));
	switch (method) {
	case IKE_AUTH_RSA_SIG:
		if (kind != KEY_RSA)
			return IKE_CERT_ERR_METHOD;
		d.kind = KEY_RSA;
		d.hash = IKE_HASH_SHA1;
		return verify_sig(k, &d, auth, auth_len, octets, octets_len);
	case IKE_AUTH_ECDSA_256:
	case IKE_AUTH_ECDSA_384:
	case IKE_AUTH_ECDSA_521: {
		unsigned bits = method == IKE_AUTH_ECDSA_256 ? 256 : method == IKE_AUTH_ECDSA_384 ? 384
		                                                                                 : 521;
		size_t fl = (bits + 7) / 8;
		ECDSA_SIG *es;
		BIGNUM *r, *s;
		uint8_t *der = NULL;
		int n, rc;

		if (kind != KEY_EC || (unsigned)EVP_PKEY_bits(k) != bits)
			return IKE_CERT_ERR_METHOD;
		if (auth_len != 2 * fl)
			return IKE_CERT_ERR_SIGNATURE;
		/* RFC 4754 §7: r || s back into the DER form OpenSSL checks. */
		r = BN_bin2bn(auth, (int)fl, NULL);
		s = BN_bin2bn(auth + fl, (int)fl, NULL);
		if (!r || !s || !(es = ECDSA_SIG_new())) {
			BN_free(r);
			BN_free(s);
			return IKE_CERT_ERR_CRYPTO;
		}
		ECDSA_SIG_set0(es, r, s);
		n = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (n <= 0)
			return IKE_CERT_ERR_CRYPTO;
		d.kind = KEY_EC;
		d.hash = bits == 256 ? IKE_HASH_SHA256 : bits == 384 ? IKE_HASH_SHA384 : IKE_HASH_SHA512;
		rc = verify_sig(k, &d, der, (size_t)n, octets, octets_len);
		OPENSSL_free(der);
		return rc;
	}
	case IKE_AUTH_DIGITAL_SIGNATURE:
		/* RFC 7427 §3: ASN.1 Length, AlgorithmIdentifier, Signature. */
		if (auth_len < 1 || auth[0] == 0 || (size_t)auth[0] + 1 >= auth_len)
			return IKE_CERT_ERR_SIGNATURE;
		if (!ds_parse(auth + 1, auth[0], &d) || (int)d.kind != kind)
			return IKE_CERT_ERR_METHOD;
		return verify_sig(k, &d, auth + 1 + auth[0], auth_len - 1 - auth[0], octets,
		                  octets_len);
	}
	return IKE_CERT_ERR_METHOD;
}

int ike_peer_cert_check_auth(const struct ike_peer_cert *p, bool allow_sha1, uint8_t method,
                             const uint8_t *auth, size_t auth_len, const uint8_t *octets,
                             size_t octets_len)
{
	if (method == IKE_AUTH_RSA_SIG && !allow_sha1)
		return IKE_CERT_ERR_SHA1;
	return ike_peer_cert_verify_auth(p, method, auth, auth_len, octets, octets_len);
}
