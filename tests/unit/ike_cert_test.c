/*
 * ike/cert.c: X.509 credentials, chains, identities and AUTH signatures
 * (RFC 7296 §2.15, §3.5-3.8; RFC 4754; RFC 7427). Fixtures come from
 * scripts/gen-test-certs.sh (strongSwan's pki); the clock is pinned to
 * 2026-01-01, inside the fixtures' validity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "ike/cert.h"
#include "ike/payload.h"
#include "tests/unit/test.h"

#define NOW_2026 1767225600LL /* 2026-01-01T00:00:00Z */
#define NOW_2040 2208988800LL

static const char *fx(const char *name)
{
	static char buf[8][512];
	static unsigned k;
	const char *top = getenv("TUNSEC_TOP");
	char *p = buf[k++ % 8];

	snprintf(p, 512, "%s/tests/vectors/certs/%s", top && *top ? top : ".", name);
	return p;
}

/* Credentials: cert (+ optional intermediate) with its key, and one CA. */
static struct ike_creds *load(const char *cert, const char *im, const char *key, const char *ca)
{
	const char *certs[2] = {cert ? fx(cert) : NULL, im ? fx(im) : NULL};
	const char *keys[1] = {key ? fx(key) : NULL};
	const char *cas[1] = {ca ? fx(ca) : NULL};
	char err[256];
	struct ike_creds *c = ike_creds_load(certs, cert ? (im ? 2 : 1) : 0, keys, key ? 1 : 0, cas,
	                                     ca ? 1 : 0, err, sizeof(err));

	if (!c)
		fprintf(stderr, "load: %s\n", err);
	return c;
}

/* The CERT payloads a peer holding c would send (RFC 7296 §3.6). */
static size_t cert_payloads(const struct ike_creds *c, struct ike_cert *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < ike_creds_n_certs(c) && n < cap; i++, n++) {
		out[n].encoding = IKE_CERT_X509_SIG;
		if (ike_creds_cert_der(c, i, &out[n].data, &out[n].len) < 0)
			return 0;
	}
	return n;
}

static int verify_chain(const struct ike_creds *trust, const struct ike_creds *peer, int64_t now,
                        struct ike_peer_cert **pc)
{
	struct ike_cert certs[4];
	size_t n = cert_payloads(peer, certs, 4);
	struct ike_peer_cert *tmp = NULL;
	int rc = ike_peer_cert_verify(trust, certs, n, now, pc ? pc : &tmp);

	ike_peer_cert_free(tmp);
	return rc;
}

TEST(ike_cert_rfc7296_3_6_load_pem_and_der)
{
	const char *certs_der[1] = {fx("moon-rsa.der")}, *keys_der[1] = {fx("moon-rsa.key.der")};
	const char *cas[1] = {fx("ca-rsa.pem")};
	struct ike_creds *pem = load("moon-rsa.pem", NULL, "moon-rsa.key", "ca-rsa.pem");
	struct ike_creds *der = ike_creds_load(certs_der, 1, keys_der, 1, cas, 1, NULL, 0);
	const uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	CHECK(pem && der);
	CHECK(ike_creds_can_sign(pem) && ike_creds_can_sign(der));
	CHECK_EQ(ike_creds_n_certs(pem), 1);
	CHECK_EQ(ike_creds_n_cas(pem), 1);
	CHECK_EQ(ike_creds_cert_der(pem, 0, &a, &alen), 0);
	CHECK_EQ(ike_creds_cert_der(der, 0, &b, &blen), 0);
	CHECK(alen > 500 && alen == blen);
	if (a && b && alen == blen)
		CHECK_MEM(a, b, alen);
	CHECK_EQ(ike_creds_cert_der(pem, 1, &a, &alen), IKE_CERT_ERR_INVAL);
	ike_creds_free(pem);
	ike_creds_free(der);
}

/* A PEM key with text before its block (a PKCS#12 export's "Bag
 * Attributes") loads; so does DER; junk does not. */
TEST(ike_cert_key_pem_after_text)
{
	static const char bag[] = "Bag Attributes\n    localKeyID: 01 02 03\nKey Attributes: "
	                          "<No Attributes>\n";
	uint8_t buf[8192];
	FILE *f = fopen(fx("moon-rsa.key"), "rb");
	size_t n = 0;
	EVP_PKEY *k;

	REQUIRE(f != NULL);
	memcpy(buf, bag, sizeof(bag) - 1);
	n = fread(buf + sizeof(bag) - 1, 1, sizeof(buf) - sizeof(bag), f);
	fclose(f);
	REQUIRE(n > 100);
	k = ike_key_parse(buf, n + sizeof(bag) - 1);
	CHECK(k != NULL);
	EVP_PKEY_free(k);
	CHECK(ike_key_parse((const uint8_t *)bag, sizeof(bag) - 1) == NULL);
	sodium_memzero(buf, sizeof(buf));
}

TEST(ike_cert_rfc7296_3_6_key_must_match_cert)
{
	const char *certs[1] = {fx("moon-rsa.pem")};
	const char *two[2] = {fx("sun-ecdsa256.key"), fx("moon-rsa.key")};
	const char *wrong[1] = {fx("sun-ecdsa256.key")};
	const char *cas[1] = {fx("ca-rsa.pem")};
	const char *notca[1] = {fx("moon-rsa.pem")};
	const char *missing[1] = {fx("no-such-file.pem")};
	char err[256];
	struct ike_creds *c;

	/* The matching key is picked among others. */
	c = ike_creds_load(certs, 1, two, 2, cas, 1, err, sizeof(err));
	CHECK(c && ike_creds_can_sign(c));
	ike_creds_free(c);
	/* None matches: refused, the error names the certificate. */
	c = ike_creds_load(certs, 1, wrong, 1, cas, 1, err, sizeof(err));
	CHECK(c == NULL);
	CHECK(strstr(err, "moon-rsa.pem") != NULL);
	/* No certificate: a verifying-only side. */
	c = ike_creds_load(NULL, 0, NULL, 0, cas, 1, err, sizeof(err));
	CHECK(c && !ike_creds_can_sign(c) && ike_creds_n_cas(c) == 1);
	ike_creds_free(c);
	/* An end-entity certificate is no trust anchor; missing files fail. */
	CHECK(ike_creds_load(NULL, 0, NULL, 0, notca, 1, err, sizeof(err)) == NULL);
	CHECK(ike_creds_load(missing, 1, two, 2, cas, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no-such-file.pem") != NULL);
}

TEST(ike_cert_rfc7296_3_7_certreq_is_sha1_of_spki)
{
	const char *cas[2] = {fx("ca-rsa.pem"), fx("ca-ecdsa.pem")};
	struct ike_creds *c = ike_creds_load(NULL, 0, NULL, 0, cas, 2, NULL, 0);
	uint8_t want[40], got[64];

	CHECK(c);
	CHECK_EQ(test_vector_get("certs/certreq.txt", "ca-rsa", "spki_sha1", want, 20), 20);
	CHECK_EQ(test_vector_get("certs/certreq.txt", "ca-ecdsa", "spki_sha1", want + 20, 20), 20);
	CHECK_EQ(ike_creds_certreq(c, got, sizeof(got)), 40);
	CHECK_MEM(got, want, 40);
	CHECK_EQ(ike_creds_certreq(c, got, 39), IKE_CERT_ERR_NOSPACE);
	ike_creds_free(c);
}

TEST(ike_cert_rfc5280_6_chain_verification)
{
	struct ike_creds *root = load(NULL, NULL, NULL, "ca-rsa.pem");
	struct ike_creds *inter = load(NULL, NULL, NULL, "ca-ecdsa.pem");
	struct ike_creds *other = load(NULL, NULL, NULL, "ca-other.pem");
	struct ike_creds *sun = load("sun-ecdsa256.pem", "ca-ecdsa.pem", "sun-ecdsa256.key", NULL);
	struct ike_creds *sun_alone = load("sun-ecdsa256.pem", NULL, "sun-ecdsa256.key", NULL);
	struct ike_creds *moon = load("moon-rsa.pem", NULL, "moon-rsa.key", NULL);
	struct ike_creds *pss = load("sun-rsa-pss.pem", NULL, "sun-rsa-pss.key", NULL);
	struct ike_creds *foreign = load("moon-other.pem", NULL, "moon-other.key", NULL);
	struct ike_creds *expired = load("expired.pem", NULL, "expired.key", NULL);
	struct ike_creds *future = load("future.pem", NULL, "future.key", NULL);
	struct ike_cert junk = {IKE_CERT_X509_SIG, (const uint8_t *)"\x30\x03\x02\x01\x01", 5};
	struct ike_cert other_enc = {IKE_CERT_CRL, (const uint8_t *)"x", 1};
	struct ike_peer_cert *pc = NULL;

	CHECK(root && inter && other && sun && sun_alone && moon && pss && foreign && expired &&
	      future);
	CHECK_EQ(verify_chain(root, moon, NOW_2026, NULL), 0);
	CHECK_EQ(verify_chain(root, pss, NOW_2026, NULL), 0); /* RSASSA-PSS signed cert */
	/* Intermediate from the CERT payloads; or as the configured anchor. */
	CHECK_EQ(verify_chain(root, sun, NOW_2026, NULL), 0);
	CHECK_EQ(verify_chain(root, sun_alone, NOW_2026, NULL), IKE_CERT_ERR_UNTRUSTED);
	CHECK_EQ(verify_chain(inter, sun_alone, NOW_2026, NULL), 0);
	/* Wrong CA, expired, not yet valid, the clock past the end. */
	CHECK_EQ(verify_chain(root, foreign, NOW_2026, NULL), IKE_CERT_ERR_UNTRUSTED);
	CHECK_EQ(verify_chain(other, moon, NOW_2026, NULL), IKE_CERT_ERR_UNTRUSTED);
	CHECK_EQ(verify_chain(other, foreign, NOW_2026, NULL), 0);
	CHECK_EQ(verify_chain(root, expired, NOW_2026, NULL), IKE_CERT_ERR_EXPIRED);
	CHECK_EQ(verify_chain(root, future, NOW_2026, NULL), IKE_CERT_ERR_NOT_YET);
	CHECK_EQ(verify_chain(root, moon, NOW_2040, NULL), IKE_CERT_ERR_EXPIRED);
	/* Nothing usable, or garbage. */
	CHECK_EQ(ike_peer_cert_verify(root, NULL, 0, NOW_2026, &pc), IKE_CERT_ERR_NO_CERT);
	CHECK_EQ(ike_peer_cert_verify(root, &other_enc, 1, NOW_2026, &pc), IKE_CERT_ERR_NO_CERT);
	CHECK_EQ(ike_peer_cert_verify(root, &junk, 1, NOW_2026, &pc), IKE_CERT_ERR_PARSE);
	CHECK(pc == NULL);
	ike_creds_free(root);
	ike_creds_free(inter);
	ike_creds_free(other);
	ike_creds_free(sun);
	ike_creds_free(sun_alone);
	ike_creds_free(moon);
	ike_creds_free(pss);
	ike_creds_free(foreign);
	ike_creds_free(expired);
	ike_creds_free(future);
}

TEST(ike_cert_rfc7296_3_5_identity_in_certificate)
{
	struct ike_creds *root = load(NULL, NULL, NULL, "ca-rsa.pem");
	struct ike_creds *moon = load("moon-rsa.pem", NULL, "moon-rsa.key", NULL);
	struct ike_peer_cert *pc = NULL;
	uint8_t dn[256], v4[4] = {192, 0, 2, 1}, v4b[4] = {192, 0, 2, 2};
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	int dn_len = test_vector_get("certs/certreq.txt", "moon-rsa", "subject", dn, sizeof(dn));
	static const struct {
		uint8_t type;
		const char *id;
		bool ok;
	} rows[] = {
	    {IKE_ID_FQDN, "moon.tunsec.test", true},
	    {IKE_ID_FQDN, "MOON.Tunsec.Test", true},
	    {IKE_ID_FQDN, "sun.tunsec.test", false},
	    {IKE_ID_FQDN, "moon.tunsec.tes", false},
	    {IKE_ID_RFC822_ADDR, "moon@tunsec.test", true},
	    {IKE_ID_RFC822_ADDR, "sun@tunsec.test", false},
	    {IKE_ID_FQDN, "moon@tunsec.test", false}, /* right name, wrong kind */
	    {IKE_ID_KEY_ID, "moon.tunsec.test", false},
	};

	CHECK(root && moon && dn_len > 20);
	CHECK_EQ(verify_chain(root, moon, NOW_2026, &pc), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const uint8_t *id = (const uint8_t *)rows[i].id;
		size_t len = strlen(rows[i].id);

		CHECK_EQ(ike_peer_cert_id_ok(pc, rows[i].type, id, len), rows[i].ok);
		CHECK_EQ(ike_creds_id_ok(moon, rows[i].type, id, len), rows[i].ok);
	}
	CHECK(ike_peer_cert_id_ok(pc, IKE_ID_IPV4_ADDR, v4, 4));
	CHECK(!ike_peer_cert_id_ok(pc, IKE_ID_IPV4_ADDR, v4b, 4));
	CHECK(ike_peer_cert_id_ok(pc, IKE_ID_IPV6_ADDR, v6, 16));
	CHECK(!ike_peer_cert_id_ok(pc, IKE_ID_IPV4_ADDR, v6, 16));
	/* DN: the subject's DER exactly (from openssl), one byte off fails. */
	CHECK(ike_peer_cert_id_ok(pc, IKE_ID_DER_ASN1_DN, dn, (size_t)dn_len));
	CHECK(ike_creds_id_ok(moon, IKE_ID_DER_ASN1_DN, dn, (size_t)dn_len));
	dn[dn_len - 1] ^= 1;
	CHECK(!ike_peer_cert_id_ok(pc, IKE_ID_DER_ASN1_DN, dn, (size_t)dn_len));
	CHECK(!ike_peer_cert_id_ok(pc, IKE_ID_DER_ASN1_DN, dn, (size_t)dn_len - 1));
	ike_peer_cert_free(pc);
	ike_creds_free(root);
	ike_creds_free(moon);
}

/* RFC 7427 Appendix A, as printed (PSS: the errata's DER form, without the
 * default trailer field and with corrected lengths). */
TEST(ike_cert_rfc7427_appendix_a_algorithm_identifiers)
{
	static const struct {
		enum ike_sig_scheme s;
		const char *hex;
	} rows[] = {
	    {IKE_SIG_DS_RSA_SHA256, "300d06092a864886f70d01010b0500"},
	    {IKE_SIG_DS_RSA_SHA384, "300d06092a864886f70d01010c0500"},
	    {IKE_SIG_DS_RSA_SHA512, "300d06092a864886f70d01010d0500"},
	    {IKE_SIG_DS_ECDSA_SHA256, "300a06082a8648ce3d040302"},
	    {IKE_SIG_DS_ECDSA_SHA384, "300a06082a8648ce3d040303"},
	    {IKE_SIG_DS_ECDSA_SHA512, "300a06082a8648ce3d040304"},
	    {IKE_SIG_DS_PSS_SHA256, "304106092a864886f70d01010a3034a00f300d06096086480165030402"
	                            "010500a11c301a06092a864886f70d010108300d060960864801650304"
	                            "02010500a203020120"},
	};
	uint8_t want[128];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = 0;
		const uint8_t *aid = ike_sig_algid(rows[i].s, &len);
		int n = test_unhex(rows[i].hex, want, sizeof(want));

		CHECK(aid != NULL);
		CHECK_EQ(len, n);
		if (aid && len == (size_t)n)
			CHECK_MEM(aid, want, len);
		CHECK_EQ(ike_sig_method(rows[i].s), IKE_AUTH_DIGITAL_SIGNATURE);
	}
	CHECK(ike_sig_algid(IKE_SIG_ECDSA_256, NULL) == NULL);
	CHECK_EQ(ike_sig_method(IKE_SIG_RSA_SHA1), IKE_AUTH_RSA_SIG);
	CHECK_EQ(ike_sig_method(IKE_SIG_ECDSA_256), IKE_AUTH_ECDSA_256);
	CHECK_EQ(ike_sig_method(IKE_SIG_ECDSA_384), IKE_AUTH_ECDSA_384);
	CHECK_EQ(ike_sig_method(IKE_SIG_ECDSA_521), IKE_AUTH_ECDSA_521);
}

struct signer {
	const char *cert, *key;
	enum ike_sig_scheme s;
	int raw_len; /* RFC 4754 r||s length, or 0 */
};

/* Sign, verify, then tamper with signature and octets (RFC 7296 §2.15,
 * RFC 4754 §7, RFC 7427 §3). */
TEST(ike_cert_rfc7427_3_sign_verify_every_method)
{
	static const struct signer rows[] = {
	    {"moon-rsa.pem", "moon-rsa.key", IKE_SIG_RSA_SHA1, 0},
	    {"moon-rsa.pem", "moon-rsa.key", IKE_SIG_DS_RSA_SHA256, 0},
	    {"moon-rsa.pem", "moon-rsa.key", IKE_SIG_DS_RSA_SHA384, 0},
	    {"moon-rsa.pem", "moon-rsa.key", IKE_SIG_DS_RSA_SHA512, 0},
	    {"sun-rsa-pss.pem", "sun-rsa-pss.key", IKE_SIG_DS_PSS_SHA256, 0},
	    {"sun-rsa-pss.pem", "sun-rsa-pss.key", IKE_SIG_DS_PSS_SHA384, 0},
	    {"moon-rsa.pem", "moon-rsa.key", IKE_SIG_DS_PSS_SHA512, 0},
	    {"sun-ecdsa256.pem", "sun-ecdsa256.key", IKE_SIG_ECDSA_256, 64},
	    {"moon-ecdsa384.pem", "moon-ecdsa384.key", IKE_SIG_ECDSA_384, 96},
	    {"moon-ecdsa521.pem", "moon-ecdsa521.key", IKE_SIG_ECDSA_521, 132},
	    {"sun-ecdsa256.pem", "sun-ecdsa256.key", IKE_SIG_DS_ECDSA_SHA256, 0},
	    {"moon-ecdsa384.pem", "moon-ecdsa384.key", IKE_SIG_DS_ECDSA_SHA384, 0},
	    {"moon-ecdsa521.pem", "moon-ecdsa521.key", IKE_SIG_DS_ECDSA_SHA512, 0},
	    {"sun-ecdsa256.pem", "sun-ecdsa256.key", IKE_SIG_DS_ECDSA_SHA384, 0},
	};
	struct ike_creds *trust = load(NULL, NULL, NULL, "ca-ecdsa.pem");
	const char *cas[2] = {fx("ca-rsa.pem"), fx("ca-ecdsa.pem")};
	uint8_t octets[300], sig[1200];

	ike_creds_free(trust);
	trust = ike_creds_load(NULL, 0, NULL, 0, cas, 2, NULL, 0);
	CHECK(trust);
	for (size_t i = 0; i < sizeof(octets); i++)
		octets[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ike_creds *c = load(rows[i].cert, NULL, rows[i].key, NULL);
		struct ike_peer_cert *pc = NULL;
		uint8_t m = ike_sig_method(rows[i].s);
		int n;

		CHECK(c);
		CHECK_EQ(verify_chain(trust, c, NOW_2026, &pc), 0);
		n = ike_creds_sign(c, rows[i].s, octets, sizeof(octets), sig, sizeof(sig));
		REQUIRE(n > 0);
		if (rows[i].raw_len)
			CHECK_EQ(n, rows[i].raw_len);
		CHECK_EQ(ike_peer_cert_verify_auth(pc, m, sig, (size_t)n, octets, sizeof(octets)),
		         0);
		octets[5] ^= 0x40;
		CHECK_EQ(ike_peer_cert_verify_auth(pc, m, sig, (size_t)n, octets, sizeof(octets)),
		         IKE_CERT_ERR_SIGNATURE);
		octets[5] ^= 0x40;
		sig[n - 1] ^= 1;
		CHECK(ike_peer_cert_verify_auth(pc, m, sig, (size_t)n, octets, sizeof(octets)) < 0);
		sig[n - 1] ^= 1;
		/* A truncated signature fails too. */
		CHECK(ike_peer_cert_verify_auth(pc, m, sig, (size_t)n - 1, octets, sizeof(octets)) <
		      0);
		ike_peer_cert_free(pc);
		ike_creds_free(c);
	}
	ike_creds_free(trust);
}

TEST(ike_cert_rfc4754_rfc7427_method_must_fit_key)
{
	struct ike_creds *trust = load(NULL, NULL, NULL, "ca-rsa.pem");
	struct ike_creds *rsa = load("moon-rsa.pem", NULL, "moon-rsa.key", NULL);
	struct ike_creds *ec384 = load("moon-ecdsa384.pem", NULL, "moon-ecdsa384.key", NULL);
	struct ike_peer_cert *prsa = NULL, *pec = NULL;
	uint8_t octets[64] = {1, 2, 3}, sig[1200], ds[1200];
	int n;

	CHECK(trust && rsa && ec384);
	CHECK_EQ(verify_chain(trust, rsa, NOW_2026, &prsa), 0);
	CHECK_EQ(verify_chain(trust, ec384, NOW_2026, &pec), 0);
	/* Signing: ECDSA with an RSA key, or the wrong curve's method. */
	CHECK_EQ(ike_creds_sign(rsa, IKE_SIG_ECDSA_256, octets, 64, sig, sizeof(sig)),
	         IKE_CERT_ERR_METHOD);
	CHECK_EQ(ike_creds_sign(ec384, IKE_SIG_ECDSA_256, octets, 64, sig, sizeof(sig)),
	         IKE_CERT_ERR_METHOD);
	CHECK_EQ(ike_creds_sign(ec384, IKE_SIG_DS_RSA_SHA256, octets, 64, sig, sizeof(sig)),
	         IKE_CERT_ERR_METHOD);
	CHECK_EQ(ike_creds_sign(trust, IKE_SIG_DS_RSA_SHA256, octets, 64, sig, sizeof(sig)),
	         IKE_CERT_ERR_NO_KEY);
	CHECK_EQ(ike_creds_sign(rsa, IKE_SIG_DS_RSA_SHA256, octets, 64, sig, 100),
	         IKE_CERT_ERR_NOSPACE);
	/* Verifying: P-384 r||s presented as method 9; PSK method; an RSA
	 * AlgorithmIdentifier over an EC key. */
	n = ike_creds_sign(ec384, IKE_SIG_ECDSA_384, octets, 64, sig, sizeof(sig));
	CHECK_EQ(n, 96);
	CHECK_EQ(ike_peer_cert_verify_auth(pec, IKE_AUTH_ECDSA_256, sig, 96, octets, 64),
	         IKE_CERT_ERR_METHOD);
	CHECK_EQ(ike_peer_cert_verify_auth(pec, IKE_AUTH_PSK, sig, 96, octets, 64),
	         IKE_CERT_ERR_METHOD);
	n = ike_creds_sign(ec384, IKE_SIG_DS_ECDSA_SHA384, octets, 64, ds, sizeof(ds));
	REQUIRE(n > 13);
	size_t alen;
	const uint8_t *rsa_aid = ike_sig_algid(IKE_SIG_DS_RSA_SHA256, &alen);
	uint8_t forged[1200];
	size_t flen = 1 + alen + (size_t)(n - 1 - ds[0]);

	forged[0] = (uint8_t)alen;
	memcpy(forged + 1, rsa_aid, alen);
	memcpy(forged + 1 + alen, ds + 1 + ds[0], (size_t)(n - 1 - ds[0]));
	CHECK_EQ(
	    ike_peer_cert_verify_auth(pec, IKE_AUTH_DIGITAL_SIGNATURE, forged, flen, octets, 64),
	    IKE_CERT_ERR_METHOD);
	/* An AlgorithmIdentifier length past the data. */
	ds[0] = (uint8_t)n;
	CHECK(ike_peer_cert_verify_auth(pec, IKE_AUTH_DIGITAL_SIGNATURE, ds, (size_t)n, octets,
	                                64) < 0);
	ike_peer_cert_free(prsa);
	ike_peer_cert_free(pec);
	ike_creds_free(trust);
	ike_creds_free(rsa);
	ike_creds_free(ec384);
}

/* RFC 7427 A.4.3 as originally printed (with the default trailerField and
 * the longer lengths) names the same PSS parameters: a signature made under
 * our errata encoding verifies under it too, as strongSwan parses both. */
TEST(ike_cert_rfc7427_a_4_3_original_pss_encoding_accepted)
{
	static const char orig[] = "304606092a864886f70d01010a3039a00f300d0609608648016503040201"
	                           "0500a11c301a06092a864886f70d010108300d06096086480165030402"
	                           "010500a203020120a303020101";
	struct ike_creds *trust = load(NULL, NULL, NULL, "ca-rsa.pem");
	struct ike_creds *rsa = load("sun-rsa-pss.pem", NULL, "sun-rsa-pss.key", NULL);
	struct ike_peer_cert *pc = NULL;
	uint8_t octets[40] = {9}, sig[1200], alt[1300], aid[100];
	int n, alen = test_unhex(orig, aid, sizeof(aid));

	REQUIRE(trust && rsa && alen == 72);
	CHECK_EQ(verify_chain(trust, rsa, NOW_2026, &pc), 0);
	n = ike_creds_sign(rsa, IKE_SIG_DS_PSS_SHA256, octets, 40, sig, sizeof(sig));
	REQUIRE(n > 100);
	size_t slen = (size_t)(n - 1 - sig[0]);

	alt[0] = (uint8_t)alen;
	memcpy(alt + 1, aid, (size_t)alen);
	memcpy(alt + 1 + alen, sig + 1 + sig[0], slen);
	CHECK_EQ(ike_peer_cert_verify_auth(pc, IKE_AUTH_DIGITAL_SIGNATURE, alt,
	                                   1 + (size_t)alen + slen, octets, 40),
	         0);
	/* Salt 0 in the parameters: the signature (salt 32) fails. */
	alt[1 + 66] = 0x00;
	CHECK_EQ(ike_peer_cert_verify_auth(pc, IKE_AUTH_DIGITAL_SIGNATURE, alt,
	                                   1 + (size_t)alen + slen, octets, 40),
	         IKE_CERT_ERR_SIGNATURE);
	ike_peer_cert_free(pc);
	ike_creds_free(trust);
	ike_creds_free(rsa);
}

/* What we sign with when the peer sent SIGNATURE_HASH_ALGORITHMS, as
 * strongSwan 5.9 picks (RFC 7427 §4): method 14 from its hashes, the legacy
 * flag has no say. */
TEST(ike_cert_rfc7427_4_scheme_choice)
{
	struct ike_creds *rsa = load("moon-rsa.pem", NULL, "moon-rsa.key", NULL);
	struct ike_creds *p256 = load("sun-ecdsa256.pem", NULL, "sun-ecdsa256.key", NULL);
	struct ike_creds *p384 = load("moon-ecdsa384.pem", NULL, "moon-ecdsa384.key", NULL);
	struct ike_creds *p521 = load("moon-ecdsa521.pem", NULL, "moon-ecdsa521.key", NULL);
	struct ike_creds *none = load(NULL, NULL, NULL, "ca-rsa.pem");
	unsigned all = 1u << IKE_HASH_SHA256 | 1u << IKE_HASH_SHA384 | 1u << IKE_HASH_SHA512;

	CHECK(rsa && p256 && p384 && p521 && none);
	for (int sha1 = 0; sha1 <= 1; sha1++) {
		CHECK_EQ(ike_creds_sig_scheme(rsa, all, false, sha1), IKE_SIG_DS_RSA_SHA256);
		CHECK_EQ(ike_creds_sig_scheme(rsa, all, true, sha1), IKE_SIG_DS_PSS_SHA256);
		CHECK_EQ(ike_creds_sig_scheme(rsa, 1u << IKE_HASH_SHA512, false, sha1),
		         IKE_SIG_DS_RSA_SHA512);
		CHECK_EQ(ike_creds_sig_scheme(p256, all, false, sha1), IKE_SIG_DS_ECDSA_SHA256);
		CHECK_EQ(ike_creds_sig_scheme(p384, all, false, sha1), IKE_SIG_DS_ECDSA_SHA384);
		CHECK_EQ(ike_creds_sig_scheme(p384, 1u << IKE_HASH_SHA256, false, sha1),
		         IKE_SIG_DS_ECDSA_SHA256);
		CHECK_EQ(ike_creds_sig_scheme(none, all, false, sha1), IKE_SIG_NONE);
		CHECK_EQ(ike_creds_sig_scheme(none, 0, false, sha1), IKE_SIG_NONE);
	}
	/* Without legacy, never SHA-1; ECDSA's classic methods are SHA-2. */
	CHECK_EQ(ike_creds_sig_scheme(rsa, 0, false, false), IKE_SIG_DS_RSA_SHA256);
	CHECK_EQ(ike_creds_sig_scheme(p384, 0, false, false), IKE_SIG_ECDSA_384);
	CHECK(strcmp(ike_cert_strerror(IKE_CERT_ERR_EXPIRED), "certificate expired") == 0);
	ike_creds_free(rsa);
	ike_creds_free(p256);
	ike_creds_free(p384);
	ike_creds_free(p521);
	ike_creds_free(none);
}

/*
 * RFC 7427 §4: without the peer's SIGNATURE_HASH_ALGORITHMS, no Digital
 * Signature method (14) where a classic one of RFC 7296 §3.8 exists: ECDSA
 * keys sign with RFC 4754's method 9, 10 or 11 by their curve, RSA keys
 * with method 1 (SHA-1) if legacy allows SHA-1, else still with method 14
 * and SHA-256 (RFC 8247 §3.2). A peer that sent the notify, even empty or
 * with SHA-1 alone, keeps method 14 (bit 15 says "sent"). Each row is then
 * signed and checked by our own verifier under the same legacy flag: what
 * we choose, we accept.
 */
TEST(ike_cert_rfc7427_4_rfc7296_3_8_classic_methods_without_notify)
{
	static const struct {
		const char *cert, *key;
		unsigned hashes; /* the peer's notify, 0: none */
		bool pss, sha1;  /* rsa_pss, allow_sha1 */
		enum ike_sig_scheme want;
	} rows[] = {
	    {"sun-ecdsa256.pem", "sun-ecdsa256.key", 0, false, false, IKE_SIG_ECDSA_256},
	    {"sun-ecdsa256.pem", "sun-ecdsa256.key", 0, false, true, IKE_SIG_ECDSA_256},
	    {"moon-ecdsa384.pem", "moon-ecdsa384.key", 0, false, false, IKE_SIG_ECDSA_384},
	    {"moon-ecdsa384.pem", "moon-ecdsa384.key", 0, true, true, IKE_SIG_ECDSA_384},
	    {"moon-ecdsa521.pem", "moon-ecdsa521.key", 0, false, false, IKE_SIG_ECDSA_521},
	    {"moon-ecdsa521.pem", "moon-ecdsa521.key", 0, false, true, IKE_SIG_ECDSA_521},
	    {"moon-rsa.pem", "moon-rsa.key", 0, false, true, IKE_SIG_RSA_SHA1},
	    {"moon-rsa.pem", "moon-rsa.key", 0, true, true, IKE_SIG_RSA_SHA1},
	    {"moon-rsa.pem", "moon-rsa.key", 0, false, false, IKE_SIG_DS_RSA_SHA256},
	    {"sun-rsa-pss.pem", "sun-rsa-pss.key", 0, true, false, IKE_SIG_DS_PSS_SHA256},
	    /* the notify sent: method 14, legacy or not */
	    {"moon-rsa.pem", "moon-rsa.key", 1u << 15, false, true, IKE_SIG_DS_RSA_SHA256},
	    {"moon-rsa.pem", "moon-rsa.key", 1u << 15 | 1u << IKE_HASH_SHA1, false, true,
	     IKE_SIG_DS_RSA_SHA256},
	    {"moon-rsa.pem", "moon-rsa.key", 1u << 15 | 1u << IKE_HASH_SHA384, false, true,
	     IKE_SIG_DS_RSA_SHA384},
	    {"sun-ecdsa256.pem", "sun-ecdsa256.key", 1u << 15, false, true,
	     IKE_SIG_DS_ECDSA_SHA256},
	    {"moon-ecdsa521.pem", "moon-ecdsa521.key", 1u << 15 | 1u << IKE_HASH_SHA512, false,
	     false, IKE_SIG_DS_ECDSA_SHA512},
	};
	const char *cas[2] = {fx("ca-rsa.pem"), fx("ca-ecdsa.pem")};
	struct ike_creds *trust = ike_creds_load(NULL, 0, NULL, 0, cas, 2, NULL, 0);
	uint8_t octets[200], sig[1200];

	REQUIRE(trust);
	for (size_t i = 0; i < sizeof(octets); i++)
		octets[i] = (uint8_t)(i * 5 + 3);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ike_creds *c = load(rows[i].cert, NULL, rows[i].key, NULL);
		struct ike_peer_cert *pc = NULL;
		enum ike_sig_scheme s;
		int n;

		REQUIRE(c);
		REQUIRE_EQ(verify_chain(trust, c, NOW_2026, &pc), 0);
		s = ike_creds_sig_scheme(c, rows[i].hashes, rows[i].pss, rows[i].sha1);
		CHECK_EQ(s, rows[i].want);
		n = ike_creds_sign(c, s, octets, sizeof(octets), sig, sizeof(sig));
		CHECK(n > 0);
		if (n > 0)
			CHECK_EQ(ike_peer_cert_check_auth(pc, rows[i].sha1, ike_sig_method(s), sig,
			                                  (size_t)n, octets, sizeof(octets)),
			         0);
		ike_peer_cert_free(pc);
		ike_creds_free(c);
	}
	ike_creds_free(trust);
}

/* RFC 8247 §3.2: AUTH method 1 is RSA PKCS#1 v1.5 with SHA-1 only. The
 * engine's check refuses it as method 14 refuses SHA-1, with its own
 * reason, unless the legacy option allows SHA-1; a valid method 1
 * signature then verifies. */
TEST(ike_cert_rfc8247_3_2_method1_sha1_only_with_legacy)
{
	const char *cas[2] = {fx("ca-rsa.pem"), fx("ca-ecdsa.pem")};
	struct ike_creds *trust = ike_creds_load(NULL, 0, NULL, 0, cas, 2, NULL, 0);
	struct ike_creds *c = load("moon-rsa.pem", NULL, "moon-rsa.key", NULL);
	struct ike_peer_cert *pc = NULL;
	uint8_t octets[64], sig[1200];
	int n;

	REQUIRE(trust && c);
	for (size_t i = 0; i < sizeof(octets); i++)
		octets[i] = (uint8_t)(i * 3 + 1);
	REQUIRE_EQ(verify_chain(trust, c, NOW_2026, &pc), 0);
	n = ike_creds_sign(c, IKE_SIG_RSA_SHA1, octets, sizeof(octets), sig, sizeof(sig));
	REQUIRE(n > 0);
	CHECK_EQ(ike_peer_cert_check_auth(pc, false, IKE_AUTH_RSA_SIG, sig, (size_t)n, octets,
	                                  sizeof(octets)),
	         IKE_CERT_ERR_SHA1);
	/* the log line says why, and what admits it */
	CHECK(strstr(ike_cert_strerror(IKE_CERT_ERR_SHA1), "SHA-1") != NULL);
	CHECK(strstr(ike_cert_strerror(IKE_CERT_ERR_SHA1), "tunsec.legacy = yes") != NULL);
	CHECK_EQ(ike_peer_cert_check_auth(pc, true, IKE_AUTH_RSA_SIG, sig, (size_t)n, octets,
	                                  sizeof(octets)),
	         0);
	/* Method 14 is unaffected by the flag. */
	n = ike_creds_sign(c, IKE_SIG_DS_RSA_SHA256, octets, sizeof(octets), sig, sizeof(sig));
	REQUIRE(n > 0);
	CHECK_EQ(ike_peer_cert_check_auth(pc, false, IKE_AUTH_DIGITAL_SIGNATURE, sig, (size_t)n,
	                                  octets, sizeof(octets)),
	         0);
	ike_peer_cert_free(pc);
	ike_creds_free(c);
	ike_creds_free(trust);
}
