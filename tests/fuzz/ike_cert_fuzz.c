/*
 * ike/cert.c on hostile input: the peer's CERT payloads (X.509 DER, RFC
 * 7296 §3.6) and its AUTH data (RFC 4754 r||s, RFC 7427 AlgorithmIdentifier
 * + signature). Input: one byte AUTH method, two bytes certificate length,
 * the certificate, the AUTH data. The certificate goes through chain
 * verification against tests/vectors/certs/ca-rsa.pem; the AUTH data is
 * checked against moon-rsa's and sun-ecdsa256's keys whatever happened.
 */
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/cert.h"

static struct ike_creds *trust, *rsa, *ec;
static struct ike_peer_cert *prsa, *pec;

/* The fixtures' folder: $TUNSEC_TOP, else the repository above the
 * binary's build directory (fuzz_smoke.sh runs it from a scratch folder). */
static char top[4096];

static const char *fixture(const char *name, char *buf, size_t cap)
{
	if (!name)
		return NULL;
	snprintf(buf, cap, "%s/tests/vectors/certs/%s", top, name);
	return buf;
}

static struct ike_creds *load(const char *cert, const char *key, const char *ca)
{
	char pc[4200], pk[4200], pa[4200];
	const char *c[1] = {fixture(cert, pc, sizeof(pc))}, *k[1] = {fixture(key, pk, sizeof(pk))},
		   *a[1] = {fixture(ca, pa, sizeof(pa))};

	return ike_creds_load(c, cert ? 1 : 0, k, key ? 1 : 0, a, ca ? 1 : 0, NULL, 0);
}

static struct ike_peer_cert *peer(const struct ike_creds *c)
{
	struct ike_cert p = {IKE_CERT_X509_SIG, NULL, 0};
	struct ike_peer_cert *pc = NULL;

	if (c && ike_creds_cert_der(c, 0, &p.data, &p.len) == 0)
		ike_peer_cert_verify(trust, &p, 1, 1767225600, &pc);
	return pc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("TUNSEC_TOP");
	char self[4096];

	if (env) {
		snprintf(top, sizeof(top), "%s", env);
	} else if (*argc > 0 && realpath((*argv)[0], self)) {
		/* <top>/build-fuzz/ike_cert_fuzz */
		snprintf(top, sizeof(top), "%s", dirname(dirname(self)));
	} else {
		snprintf(top, sizeof(top), ".");
	}
	trust = load(NULL, NULL, "ca-rsa.pem");
	rsa = load("moon-rsa.pem", "moon-rsa.key", NULL);
	ec = load("sun-ecdsa256.pem", "sun-ecdsa256.key", NULL);
	if (!trust || !rsa || !ec) {
		fprintf(stderr, "ike_cert_fuzz: no fixtures under %s (set TUNSEC_TOP)\n", top);
		abort();
	}
	prsa = peer(rsa);
	pec = peer(ec);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t octets[] = "signed octets";
	struct ike_cert c;
	struct ike_peer_cert *pc = NULL;
	size_t clen;

	if (size < 3)
		return 0;
	clen = (size_t)data[1] << 8 | data[2];
	if (clen > size - 3)
		clen = size - 3;
	c.encoding = IKE_CERT_X509_SIG;
	c.data = data + 3;
	c.len = clen;
	if (ike_peer_cert_verify(trust, &c, 1, 1767225600, &pc) == 0) {
		ike_peer_cert_id_ok(pc, IKE_ID_FQDN, data + 3, clen > 64 ? 64 : clen);
		ike_peer_cert_free(pc);
	}
	ike_peer_cert_verify_auth(prsa, data[0], data + 3 + clen, size - 3 - clen, octets,
	                          sizeof(octets));
	ike_peer_cert_verify_auth(pec, data[0], data + 3 + clen, size - 3 - clen, octets,
	                          sizeof(octets));
	return 0;
}
