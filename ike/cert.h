/*
 * X.509 credentials for IKEv2 public key authentication (RFC 7296 §2.15,
 * §3.6-3.8; RFC 4754; RFC 7427): our certificate chain and private key,
 * the trust anchors, chain and identity checks of the peer's certificate,
 * and the AUTH signatures of the signed octets (ike/auth.h).
 *
 * OpenSSL's libcrypto does the X.509 and signature work; every OpenSSL
 * type stays inside cert.c, so the structs here are opaque. Loading from
 * files is the only I/O (the engine itself stays sans-I/O and only calls
 * the in-memory functions). A loaded struct ike_creds is read-only and may
 * be shared by several engines.
 *
 * Errors are negative IKE_CERT_ERR_* codes, never log lines: the engine
 * reports them in its IKE_DOWN event and the daemon logs
 * ike_cert_strerror() of them.
 */
#ifndef TUNSEC_IKE_CERT_H
#define TUNSEC_IKE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "ike/payload.h"

struct ike_identity;

enum {
	IKE_CERT_OK = 0,
	IKE_CERT_ERR_INVAL = -1,     /* bad arguments */
	IKE_CERT_ERR_NO_CERT = -2,   /* the peer sent no usable CERT payload */
	IKE_CERT_ERR_PARSE = -3,     /* a certificate did not parse */
	IKE_CERT_ERR_UNTRUSTED = -4, /* no chain to a trust anchor */
	IKE_CERT_ERR_EXPIRED = -5,   /* a certificate of the chain expired */
	IKE_CERT_ERR_NOT_YET = -6,   /* ... is not yet valid */
	IKE_CERT_ERR_ID = -7,        /* the ID is not in the certificate */
	IKE_CERT_ERR_METHOD = -8,    /* AUTH method / algorithm unusable with the key */
	IKE_CERT_ERR_SIGNATURE = -9, /* the signature does not verify */
	IKE_CERT_ERR_NO_KEY = -10,   /* we have no certificate and key to sign with */
	IKE_CERT_ERR_CRYPTO = -11,   /* signing failed / out of memory */
	IKE_CERT_ERR_NOSPACE = -12,  /* output buffer too small */
	/* not about certificates, but why the engine refused an IKE_AUTH */
	IKE_CERT_ERR_NO_PEER = -13, /* no connection fits IDi, IDr, AUTH method */
	IKE_CERT_ERR_UNIQUE = -14,  /* unique = keep, and the identity has an SA */
	IKE_CERT_ERR_PSK = -15,     /* a PSK AUTH did not verify (the keys differ) */
	IKE_CERT_ERR_IDR = -16,     /* the responder's ID is not the one configured */
	IKE_CERT_ERR_EAP = -17,     /* EAP failed (the method, or a message missing) */
	IKE_CERT_ERR_EAP_AUTH = -18, /* the AUTH after EAP did not verify with the MSK */
	IKE_CERT_ERR_ROUNDS = -19,   /* the authentication rounds (RFC 4739) do not fit */
	IKE_CERT_ERR_EAP_ONLY = -20, /* EAP-only (RFC 5998) without a key-generating method */
	IKE_CERT_ERR_EAP_ONLY_ONE = -21, /* EAP-only on one side: a server AUTH missing / unwanted */
	IKE_CERT_ERR_SHA1 = -22,     /* AUTH method 1 (SHA-1) without tunsec.legacy */
};

/* A short English text for an IKE_CERT_ERR_* code (never NULL). */
const char *ike_cert_strerror(int err);

/* RFC 7427 §4 hash algorithm identifiers (SIGNATURE_HASH_ALGORITHMS), and
 * the bitmask of them, bit (1 << id), that we keep of a peer's notify. */
enum {
	IKE_HASH_SHA1 = 1,
	IKE_HASH_SHA256 = 2,
	IKE_HASH_SHA384 = 3,
	IKE_HASH_SHA512 = 4,
	IKE_HASH_IDENTITY = 5,
};

/*
 * Signature schemes, each with its AUTH method (§3.8). The engine signs
 * with the RFC 7427 ones (method 14) when the peer announced RFC 7427, with
 * the classic ones otherwise: RFC 4754 ECDSA (9-11), and the PKCS#1 v1.5
 * SHA-1 scheme (method 1) only where SHA-1 is allowed (RFC 8247 §3.2,
 * tunsec.legacy = yes); see ike_creds_sig_scheme().
 */
enum ike_sig_scheme {
	IKE_SIG_NONE = 0,
	IKE_SIG_RSA_SHA1,       /* method 1 */
	IKE_SIG_ECDSA_256,      /* method 9: P-256 + SHA-256, r||s */
	IKE_SIG_ECDSA_384,      /* method 10: P-384 + SHA-384 */
	IKE_SIG_ECDSA_521,      /* method 11: P-521 + SHA-512 */
	IKE_SIG_DS_RSA_SHA256,  /* method 14, sha256WithRSAEncryption */
	IKE_SIG_DS_RSA_SHA384,  /* method 14, sha384WithRSAEncryption */
	IKE_SIG_DS_RSA_SHA512,  /* method 14, sha512WithRSAEncryption */
	IKE_SIG_DS_PSS_SHA256,  /* method 14, RSASSA-PSS SHA-256 MGF1-SHA-256 salt 32 */
	IKE_SIG_DS_PSS_SHA384,  /* ... SHA-384, salt 48 */
	IKE_SIG_DS_PSS_SHA512,  /* ... SHA-512, salt 64 */
	IKE_SIG_DS_ECDSA_SHA256, /* method 14, ecdsa-with-SHA256 (DER signature) */
	IKE_SIG_DS_ECDSA_SHA384,
	IKE_SIG_DS_ECDSA_SHA512,
};

/* The AUTH method of a scheme (IKE_AUTH_*), 0 for IKE_SIG_NONE. */
uint8_t ike_sig_method(enum ike_sig_scheme s);

/*
 * The DER AlgorithmIdentifier RFC 7427 §3 puts in front of a method 14
 * signature (the encodings of RFC 7427 Appendix A, PSS as corrected by its
 * errata: explicit hash, MGF1 and salt, no trailer field); NULL for the
 * other schemes. *len gets its length.
 */
const uint8_t *ike_sig_algid(enum ike_sig_scheme s, size_t *len);

/* Our certificates and key, and the trust anchors. Opaque. */
struct ike_creds;

/*
 * Load credentials from files, each PEM or DER (detected by content):
 * certs[0] is our end-entity certificate, certs[1..] intermediates we send
 * with it; key_files are private keys (RSA or EC, PKCS#1, SEC1 or PKCS#8,
 * unencrypted), of which the one matching certs[0]'s public key is kept and
 * the others ignored (an error if none matches); cacerts are trust anchors
 * (any CA certificate listed is trusted as such, strongSwan's semantics).
 * n_certs may be 0 (no key then), for a side that only verifies its peer.
 *
 * Returns the credentials, or NULL with a message in err (NUL-terminated
 * when errcap > 0) naming the file and the problem.
 */
struct ike_creds *ike_creds_load(const char *const *certs, size_t n_certs,
                                 const char *const *key_files, size_t n_keys,
                                 const char *const *cacerts, size_t n_cas, char *err,
                                 size_t errcap);

/* One file's content, for ike_creds_load_mem(). */
struct ike_cred_blob {
	const uint8_t *data;
	size_t len;
};

/* The same from memory (PEM or DER each). */
struct ike_creds *ike_creds_load_mem(const struct ike_cred_blob *certs, size_t n_certs,
                                     const struct ike_cred_blob *keys, size_t n_keys,
                                     const struct ike_cred_blob *cacerts, size_t n_cas,
                                     char *err, size_t errcap);

/* Wipe the private key and free. NULL is fine. */
void ike_creds_free(struct ike_creds *c);

/* A private key from PEM or DER bytes (unencrypted: a passphrase is never
 * asked for), as ike_creds_load_mem() reads keys (EAP-TLS's too): the key,
 * or NULL if it does not parse. */
EVP_PKEY *ike_key_parse(const uint8_t *d, size_t len);

/* Do we hold an end-entity certificate with its private key? */
bool ike_creds_can_sign(const struct ike_creds *c);

/* Number of trust anchors. */
size_t ike_creds_n_cas(const struct ike_creds *c);

/*
 * Our certificate i at time `now` (UNIX seconds): 0 if valid, else 1 and a
 * line for the operator in why ("expired on ...", "not valid before ...").
 * -1 if there is no such certificate. (A peer refuses an expired
 * certificate; `tunsecd -t` says so before it happens.)
 */
int ike_creds_cert_validity(const struct ike_creds *c, size_t i, long long now, char *why,
                            size_t cap);

/* Our certificates: 0 the end entity, then intermediates. Their DER into
 * *der and *len (borrowed from c). 0, or IKE_CERT_ERR_INVAL (no such cert). */
size_t ike_creds_n_certs(const struct ike_creds *c);
int ike_creds_cert_der(const struct ike_creds *c, size_t i, const uint8_t **der, size_t *len);

/*
 * The CERTREQ Certification Authority field (RFC 7296 §3.7): the SHA-1
 * hashes of the trust anchors' SubjectPublicKeyInfo, concatenated, into
 * out. Returns the length (20 per anchor; 0 without anchors), or
 * IKE_CERT_ERR_NOSPACE.
 */
int ike_creds_certreq(const struct ike_creds *c, uint8_t *out, size_t cap);

/*
 * Our end-entity certificate's subject as an IKE_ID_DER_ASN1_DN identity
 * (strongSwan's default local id with a certificate). IKE_CERT_OK, or
 * IKE_CERT_ERR_NO_CERT, IKE_CERT_ERR_NOSPACE (subject over IKE_ID_MAX).
 */
int ike_creds_subject_id(const struct ike_creds *c, struct ike_identity *id);

/*
 * Does our end-entity certificate carry this identity (§3.5)?
 * IKE_ID_DER_ASN1_DN: equal to the subject's DER; IKE_ID_FQDN,
 * IKE_ID_RFC822_ADDR (case-insensitive), IKE_ID_IPV4_ADDR,
 * IKE_ID_IPV6_ADDR: a subjectAltName of that kind. Other types: false.
 */
bool ike_creds_id_ok(const struct ike_creds *c, uint8_t id_type, const uint8_t *id, size_t len);

/*
 * The scheme we sign our AUTH with. peer_hashes: the peer's
 * SIGNATURE_HASH_ALGORITHMS as a bitmask of (1 << IKE_HASH_*), with bit 15
 * set whenever it sent the notify (even empty), 0 if it sent none; rsa_pss:
 * RSA keys sign with PSS; allow_sha1: SHA-1 is allowed (tunsec.legacy =
 * yes, the engine's IKE_LEGACY_SHA1).
 *
 * The peer sent the notify: method 14, as strongSwan 5.9 picks it. RSA
 * keys with the first of SHA-256/384/512 the peer takes (PKCS#1 v1.5 or
 * PSS), EC keys with their curve's hash, else another announced one (SHA-256
 * or the curve's hash when it announced none of ours).
 *
 * It sent none: it does not speak RFC 7427, whose §4 allows method 14 only
 * with a hash the peer announced (old Windows, strongSwan with
 * charon.signature_authentication = no), so the classic methods of RFC 7296
 * §3.8, as strongSwan's sign_classic(): EC keys RFC 4754's method 9, 10 or
 * 11 by their curve (P-256, P-384, P-521); RSA keys method 1 (PKCS#1 v1.5
 * with SHA-1) when allow_sha1, whatever rsa_pss says (PSS exists only in
 * method 14). Without allow_sha1 RSA keys still sign with method 14 and
 * SHA-256 (PSS if rsa_pss): RFC 8247 §3.2 keeps method 1 only for
 * interoperability, a SHA-1 signature over a transcript the peer helps
 * choose is weak, and our verifier refuses method 1 without legacy too
 * (ike_peer_cert_check_auth()); strongSwan 5.9 verifies method 14 whatever
 * it announced, a peer that cannot refuses our AUTH.
 *
 * IKE_SIG_NONE without a key.
 */
enum ike_sig_scheme ike_creds_sig_scheme(const struct ike_creds *c, unsigned peer_hashes,
                                         bool rsa_pss, bool allow_sha1);

/*
 * Sign the signed octets (ike_auth_signed_octets()) with our key in scheme
 * s: writes the AUTH payload's Authentication Data to out (for method 14
 * the AlgorithmIdentifier length byte and AlgorithmIdentifier first).
 * Returns its length, or IKE_CERT_ERR_NO_KEY, _METHOD (s does not fit the
 * key), _NOSPACE, _CRYPTO.
 */
int ike_creds_sign(const struct ike_creds *c, enum ike_sig_scheme s, const uint8_t *octets,
                   size_t octets_len, uint8_t *out, size_t cap);

/* A peer's end-entity certificate whose chain verified. Opaque. */
struct ike_peer_cert;

/*
 * Verify the peer's certificates: certs[0..n) are its CERT payloads (only
 * encoding IKE_CERT_X509_SIG counts; the first is the end entity, the rest
 * untrusted intermediates), chained to one of trust's anchors, every
 * certificate valid at unix time `now` (seconds; now < 0: the system
 * clock). On success *out gets the end-entity certificate (free it with
 * ike_peer_cert_free()).
 *
 * Returns 0, or IKE_CERT_ERR_NO_CERT, _PARSE, _UNTRUSTED, _EXPIRED,
 * _NOT_YET, _INVAL, _CRYPTO.
 */
int ike_peer_cert_verify(const struct ike_creds *trust, const struct ike_cert *certs, size_t n,
                         int64_t now, struct ike_peer_cert **out);

void ike_peer_cert_free(struct ike_peer_cert *p);

/* Does the peer's certificate carry this identity? As ike_creds_id_ok(). */
bool ike_peer_cert_id_ok(const struct ike_peer_cert *p, uint8_t id_type, const uint8_t *id,
                         size_t len);

/*
 * Verify an AUTH payload (method and Authentication Data) over the signed
 * octets with the peer's public key. Method 14 takes any AlgorithmIdentifier
 * of ike_sig_algid()'s schemes (PSS with any hash, MGF1 hash and salt
 * length; the original RFC 7427 A.4.3 encoding with trailer field too).
 * 0, or IKE_CERT_ERR_METHOD (unknown method or algorithm, or one the key
 * cannot do), IKE_CERT_ERR_SIGNATURE.
 */
int ike_peer_cert_verify_auth(const struct ike_peer_cert *p, uint8_t method, const uint8_t *auth,
                              size_t auth_len, const uint8_t *octets, size_t octets_len);

/*
 * What the engine calls: ike_peer_cert_verify_auth() under our SHA-1 rule.
 * Method 14 refuses SHA-1 (ds_parse() knows no SHA-1 AlgorithmIdentifier),
 * and so, unless allow_sha1 (tunsec.legacy = yes), does method 1, which is
 * RSA PKCS#1 v1.5 with SHA-1 and nothing else (RFC 8247 §3.2: SHOULD NOT):
 * one rule for both, not a weaker door next to a locked one. Same returns;
 * IKE_CERT_ERR_SHA1 for method 1 refused (its text names the option, for
 * the operator of a server whose old clients sign so).
 */
int ike_peer_cert_check_auth(const struct ike_peer_cert *p, bool allow_sha1, uint8_t method,
                             const uint8_t *auth, size_t auth_len, const uint8_t *octets,
                             size_t octets_len);

#endif
