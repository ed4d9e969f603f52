/*
 * EAP-TLS, both roles, as an EAP method of ike/eap.h: a TLS 1.2 (RFC
 * 5216) or TLS 1.3 (RFC 9190) handshake carried in EAP packets of Type 13,
 * both ends proving themselves with X.509 certificates, and the MSK
 * exported from the TLS session (RFC 5216 §2.3, RFC 9190 §2.3).
 *
 * The Type-Data (after the EAP Type octet 13) is (RFC 5216 §3.1, §3.2)
 *
 *	Flags(1) [TLS Message Length(4), if L] [TLS Data]
 *	Flags: L (0x80) length included, M (0x40) more fragments, S (0x20) start
 *
 *	server                                       peer
 *	Start (S, no data)                     -->
 *	                                       <--   ClientHello
 *	ServerHello .. ServerHelloDone         -->   (checks the server's chain
 *	                                              and, if set, its identity)
 *	(checks the peer's chain, and that     <--   Certificate .. Finished
 *	 its certificate names the EAP identity)
 *	ChangeCipherSpec, Finished             -->
 *	                                       <--   empty Response (an ACK)
 *	EAP-Success                            -->
 *
 * TLS 1.3 (RFC 9190 §2.1.1): the server's first flight runs from
 * ServerHello to its Finished; after the peer's Certificate .. Finished the
 * server sends the commitment message, one protected application-data
 * byte 0x00 (§2.5: no more handshake messages will come), instead of
 * ChangeCipherSpec and Finished. The peer treats the exchange as done only
 * when it has that byte: an EAP-Success before it fails (ike/eap.c takes a
 * Success only from a method that said so).
 *
 * A TLS message (a flight) longer than the fragment size goes in several
 * packets: the first with L and M, each but the last with M; the receiver
 * answers each M packet with an empty EAP-TLS packet (Flags 0: an ACK,
 * §2.1.5). A refused certificate makes the refusing end send TLS's alert:
 * the server in a Request that the peer ACKs, then EAP-Failure (§2.1.3);
 * the peer in its Response, after which only EAP-Failure comes (§2.1.4).
 *
 * Why OpenSSL's libssl: libcrypto is linked already (AEAD, ike/cert.c's
 * X.509), Debian 12's OpenSSL 3.0 has TLS 1.3 with the exporter interface
 * (RFC 8446 §7.5, SSL_export_keying_material) that RFC 9190 needs, which
 * mbedTLS 2.28 lacks, and its ECDHE and ECDSA cost a fraction of mbedTLS's
 * (scripts/bench_ike.sh's eap-tls row). It runs sans-I/O over two memory
 * BIOs: the reassembled message is written into one, the handshake is
 * stepped, and our answer is drained from the other, so a handshake step
 * is a function call on the bytes of one EAP round, with no socket,
 * thread or timer. OpenSSL draws its randomness from its own DRBG.
 *
 * TLS 1.2 and 1.3; TLS 1.0/1.1 are refused (RFC 8996). No session
 * resumption in either (no tickets, no session cache): every conversation
 * is a full handshake. libssl checks the other end's certificate purpose
 * (extendedKeyUsage, if it has one: serverAuth for the server's
 * certificate, clientAuth for the peer's).
 *
 * Every byte of a packet is bounds-checked; the reassembled TLS message is
 * capped at EAP_TLS_MSG_MAX (a TLS Message Length above it fails the
 * conversation before anything is stored). Errors are the IKE_ERR_* codes
 * of ike/wire.h.
 */
#ifndef TUNSEC_IKE_EAP_TLS_H
#define TUNSEC_IKE_EAP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ike/eap.h"

/* §3.1 Flags */
#define EAP_TLS_FLAG_L 0x80 /* TLS Message Length included */
#define EAP_TLS_FLAG_M 0x40 /* more fragments */
#define EAP_TLS_FLAG_S 0x20 /* EAP-TLS start */

/* The largest TLS message (one flight) we reassemble or send: a chain of a
 * few certificates fits many times over; a TLS Message Length above it is
 * an error, not an allocation. */
#define EAP_TLS_MSG_MAX 65536
/* The TLS Data bytes per packet we send: strongSwan's default (charon.
 * plugins.eap-tls.fragment_size = 1024) keeps each IKE message under the
 * usual path MTU; the smallest we allow makes tests fragment a lot. */
#define EAP_TLS_FRAG_DEFAULT 1024
#define EAP_TLS_FRAG_MIN     16
#define EAP_TLS_MSK_LEN      64 /* §2.3: MSK = Key_Material(0, 63) */
#define EAP_TLS_KM_LEN       128 /* Key_Material: the MSK, then the EMSK */

/* Certificates and key of one end, and the trust anchors for the other. */
struct eap_tls_creds {
	X509 *own;             /* our end entity */
	STACK_OF(X509) *chain; /* the intermediates sent after it */
	EVP_PKEY *key;
	STACK_OF(X509) *ca; /* trust anchors for the other end */
	bool have_own, have_key, have_ca;
	/* libssl's configuration of each role (0 peer, 1 server), made from
	 * the above at the first conversation and shared by all later ones;
	 * dropped when a credential is added. */
	SSL_CTX *ctx[2];
};

void eap_tls_creds_init(struct eap_tls_creds *c);
/* Free (OpenSSL wipes the private key). */
void eap_tls_creds_free(struct eap_tls_creds *c);
/* One certificate of ours (PEM or DER; PEM may hold several), appended
 * after those added already. 0, or IKE_ERR_SYNTAX (does not parse). */
int eap_tls_creds_add_cert(struct eap_tls_creds *c, const uint8_t *data, size_t len);
/* A trust anchor (PEM or DER). 0, or IKE_ERR_SYNTAX. */
int eap_tls_creds_add_ca(struct eap_tls_creds *c, const uint8_t *data, size_t len);
/* A private key (PEM or DER, unencrypted); kept if it is the key of our
 * first certificate (add that first). 0 kept, 1 another certificate's key
 * (ignored: the daemon tries every key file), IKE_ERR_SYNTAX (does not
 * parse), IKE_ERR_INVAL (no certificate yet). */
int eap_tls_creds_add_key(struct eap_tls_creds *c, const uint8_t *data, size_t len);

/* len unpredictable bytes into buf; 0 on success. Not used since the move
 * to OpenSSL (its own DRBG), kept for the callers' configurations. */
typedef int (*eap_tls_rand_fn)(void *ctx, unsigned char *buf, size_t len);
/* The identity the other end's certificate must carry, at the moment it
 * is checked (the server's comes from EAP-Identity, after init): its
 * bytes and length into *len, or NULL / *len 0 for none. */
typedef const uint8_t *(*eap_tls_identity_fn)(void *ctx, size_t *len);

struct eap_tls_cfg {
	/* own certificate, key and trust anchors required; borrowed */
	const struct eap_tls_creds *creds;
	eap_tls_rand_fn rand;
	void *rand_ctx;
	/* Server: the peer's EAP identity, required (no identity fails):
	 * its certificate must name it. Peer: the server identity to insist
	 * on, or NULL / an empty one to accept any server the CA vouches
	 * for. */
	eap_tls_identity_fn identity;
	void *identity_ctx;
	/* TLS Data bytes per packet; 0: EAP_TLS_FRAG_DEFAULT, at least
	 * EAP_TLS_FRAG_MIN. Less when the caller's buffer is smaller. */
	size_t fragment_size;
};

enum eap_tls_state {
	EAP_TLS_START, /* server: nothing sent; peer: awaiting Start */
	EAP_TLS_RECV,  /* the other end's TLS message (or its fragments) due */
	EAP_TLS_SEND,  /* fragments of ours pending: an ACK due */
	EAP_TLS_FINAL, /* server: ChangeCipherSpec and Finished (1.2) or the
	                  commitment message (1.3) sent, an ACK due */
	EAP_TLS_ALERT, /* server: its alert sent; anything answers it */
	EAP_TLS_DONE_OK,
	EAP_TLS_DONE_FAIL,
};

/* Why a conversation failed, for logs and tests. */
enum eap_tls_why {
	EAP_TLS_WHY_NONE = 0,
	EAP_TLS_WHY_MALFORMED, /* bad flags, lengths, fragments, or out of turn */
	EAP_TLS_WHY_TOO_LONG,  /* TLS Message Length over EAP_TLS_MSG_MAX */
	EAP_TLS_WHY_TLS,       /* the TLS handshake failed (tls_err says how) */
	EAP_TLS_WHY_UNTRUSTED, /* the other end's chain did not verify */
	EAP_TLS_WHY_IDENTITY,  /* its certificate does not name the identity */
	EAP_TLS_WHY_ALERT,     /* the other end sent a fatal alert */
	EAP_TLS_WHY_NO_CERT,   /* the peer sent no certificate */
};

/* One end's state. Its two message buffers grow to what the flights
 * take (a few KiB; EAP_TLS_MSG_MAX at most), so that thousands of users
 * logging in at once do not cost 128 KiB each; libssl adds its own
 * record buffers (freed between rounds: SSL_MODE_RELEASE_BUFFERS). */
struct eap_tls {
	bool server;
	enum eap_tls_state state;
	enum eap_tls_why why;
	unsigned long tls_err; /* OpenSSL's error (ERR_get_error) that ended it */
	long vrfy_err;         /* X509_V_ERR_* of the other end's chain */
	struct eap_tls_cfg cfg;
	bool id_mismatch;         /* the verify callback refused the identity */
	bool alert_in;            /* the other end sent an alert */
	bool committed;           /* peer, TLS 1.3: the server's 0x00 arrived */
	int version;              /* TLS1_2_VERSION or TLS1_3_VERSION, once agreed */
	enum eap_tls_state after; /* where SEND goes once the last fragment is out */
	SSL *ssl;
	BIO *rbio, *wbio; /* the other end's records in, ours out */
	bool have_msk;
	uint8_t msk[EAP_TLS_MSK_LEN];
	/* the other end's TLS message being reassembled (§2.1.5) */
	size_t in_total; /* its TLS Message Length, 0 until an L packet */
	size_t in_len;   /* bytes received */
	uint8_t *in;     /* grown as messages need, up to EAP_TLS_MSG_MAX */
	size_t in_cap;
	/* our TLS message being sent */
	size_t out_len, out_off;
	uint8_t *out;
	size_t out_cap;
	/* the other end's certificate: subject, for the log ("" before) */
	char peer_subject[256];
};

/* The method; st is a struct eap_tls set up by one of the two. */
extern const struct eap_method_ops eap_tls_ops;

/* A server (the authenticator), into a zeroed or freed t; cfg->creds is
 * borrowed and must outlive t. IKE_ERR_INVAL: no creds, no certificate,
 * key or trust anchor, no identity callback; IKE_ERR_CRYPTO: libssl
 * refused the configuration. */
int eap_tls_server_init(struct eap_tls *t, const struct eap_tls_cfg *cfg);

/* A peer (the client): same errors (identity optional). */
int eap_tls_peer_init(struct eap_tls *t, const struct eap_tls_cfg *cfg);

/* Free libssl's state and the buffers, wipe the keys (init'ed or zeroed
 * t; zeroed afterwards, ready for another init). */
void eap_tls_free(struct eap_tls *t);

/* A short English text for t->why. */
const char *eap_tls_strwhy(enum eap_tls_why why);

/* What ran, once t is over: "TLS 1.3, TLS_AES_256_GCM_SHA384" in buf
 * (NUL-terminated; "" before the handshake ends). */
void eap_tls_describe(const struct eap_tls *t, char *buf, size_t cap);

/* What OpenSSL said of t's failure, for the log: the X.509 verify error
 * of an untrusted certificate, else libssl's reason; "" if nothing. */
const char *eap_tls_detail(const struct eap_tls *t);

/*
 * Does crt name identity (bytes, not NUL-terminated)? A subjectAltName
 * dNSName or rfc822Name equal to it (ASCII case-insensitive), an
 * iPAddress of its 4 or 16 bytes, the subject's CN equal to it, the whole
 * subject DN as eap_tls_dn() prints it ("C=CH, O=strongSwan, CN=carol",
 * strongSwan's form too), or the subject's DER (an IKE ID_DER_ASN1_DN).
 */
bool eap_tls_cert_names(const X509 *crt, const uint8_t *identity, size_t len);

/*
 * crt's subject DN as "C=CH, O=strongSwan, CN=carol" (short attribute
 * names, ", " between them, as mbedTLS and strongSwan print it), NUL-
 * terminated in buf: its length, or -1 (no room, no certificate).
 */
int eap_tls_dn(const X509 *crt, char *buf, size_t cap);

/*
 * The §3.1 header of one packet's Type-Data, checked against what the
 * reassembly holds; exposed for the fuzzer. Fills *flags, *tls (the TLS
 * Data) and *tls_len, *msg_len (the TLS Message Length, 0 without L).
 * 0, or IKE_ERR_LENGTH (shorter than its flags say), IKE_ERR_SYNTAX (L with
 * length 0).
 */
int eap_tls_parse(const uint8_t *data, size_t len, uint8_t *flags, const uint8_t **tls,
                  size_t *tls_len, uint32_t *msg_len);

#endif
