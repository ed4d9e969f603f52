/*
 * IKEv2 payloads (RFC 7296 §3, RFC 7383 §2.5): constants, plain C structs for
 * a parsed message, the payload-chain parser and the message builder.
 *
 * Parsing fills one fixed-capacity struct ike_msg (no allocation): fixed
 * fields are copied, variable data (KE data, IDs, nonces, notify data, ...)
 * point into the input buffer and stay valid as long as it does and is not
 * modified (ike_msg_decrypt() decrypts in place: pointers then see the
 * plaintext). struct ike_msg is ~12.5 KiB: a per-engine scratch, fine on a
 * thread's default stack but not on a small one.
 *
 * Each payload is validated before anything is committed: its length is
 * checked against the bytes left in its container and against its minimum,
 * every nested length (proposal, transform, attribute, selector, CP
 * attribute, EAP) likewise, through the bounds-checked cursor of wire.h; the
 * result is written to the message only once the whole payload passed.
 * Unknown payload types are skipped unless critical (RFC 7296 §2.5).
 */
#ifndef TUNSEC_IKE_PAYLOAD_H
#define TUNSEC_IKE_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/wire.h"

#define IKE_HDR_LEN       28 /* RFC 7296 §3.1 */
#define IKE_GEN_HDR_LEN   4  /* generic payload header, §3.2 */
#define IKE_MAJOR_VERSION 2
#define IKE_MINOR_VERSION 0

/* Header flags (§3.1). */
#define IKE_FLAG_I   0x08 /* sent by the original initiator */
#define IKE_FLAG_V   0x10 /* higher version supported */
#define IKE_FLAG_R   0x20 /* response */
#define IKE_CRITICAL 0x80 /* generic header, §3.2 */

/* Exchange types (§3.1; RFC 5723, RFC 9242, RFC 9370). */
enum {
	IKE_SA_INIT = 34,
	IKE_AUTH = 35,
	IKE_CREATE_CHILD_SA = 36,
	IKE_INFORMATIONAL = 37,
	IKE_SESSION_RESUME = 38,
	IKE_INTERMEDIATE = 43,
	IKE_FOLLOWUP_KE = 44,
};

/* Payload types (§3.2, RFC 7383 §2.5). */
enum {
	IKE_PL_NONE = 0,
	IKE_PL_SA = 33,
	IKE_PL_KE = 34,
	IKE_PL_IDI = 35,
	IKE_PL_IDR = 36,
	IKE_PL_CERT = 37,
	IKE_PL_CERTREQ = 38,
	IKE_PL_AUTH = 39,
	IKE_PL_NONCE = 40,
	IKE_PL_NOTIFY = 41,
	IKE_PL_DELETE = 42,
	IKE_PL_VENDOR = 43,
	IKE_PL_TSI = 44,
	IKE_PL_TSR = 45,
	IKE_PL_SK = 46,
	IKE_PL_CP = 47,
	IKE_PL_EAP = 48,
	IKE_PL_SKF = 53,
};

/* Protocol IDs (§3.3.1). */
enum {
	IKE_PROTO_IKE = 1,
	IKE_PROTO_AH = 2,
	IKE_PROTO_ESP = 3,
};

/* Transform types (§3.3.2). */
enum {
	IKE_TRANS_ENCR = 1,
	IKE_TRANS_PRF = 2,
	IKE_TRANS_INTEG = 3,
	IKE_TRANS_DH = 4, /* "Key Exchange Method" since RFC 9370 */
	IKE_TRANS_ESN = 5,
};

/* Transform type 1 IDs (IANA; the values crypto/aead.h uses). */
enum {
	IKE_ENCR_3DES = 3,
	IKE_ENCR_NULL = 11,
	IKE_ENCR_AES_CBC = 12,
	IKE_ENCR_AES_CTR = 13,
	IKE_ENCR_AES_CCM_8 = 14,
	IKE_ENCR_AES_CCM_12 = 15,
	IKE_ENCR_AES_CCM_16 = 16,
	IKE_ENCR_AES_GCM_8 = 18,
	IKE_ENCR_AES_GCM_12 = 19,
	IKE_ENCR_AES_GCM_16 = 20,
	IKE_ENCR_NULL_AUTH_AES_GMAC = 21,
	IKE_ENCR_CAMELLIA_CBC = 23,
	IKE_ENCR_CHACHA20_POLY1305 = 28,
};

/* Transform type 2 IDs. */
enum {
	IKE_PRF_HMAC_MD5 = 1,
	IKE_PRF_HMAC_SHA1 = 2,
	IKE_PRF_AES128_XCBC = 4,
	IKE_PRF_HMAC_SHA2_256 = 5,
	IKE_PRF_HMAC_SHA2_384 = 6,
	IKE_PRF_HMAC_SHA2_512 = 7,
	IKE_PRF_AES128_CMAC = 8,
};

/* Transform type 3 IDs. */
enum {
	IKE_INTEG_NONE = 0,
	IKE_INTEG_HMAC_MD5_96 = 1,
	IKE_INTEG_HMAC_SHA1_96 = 2,
	IKE_INTEG_AES_XCBC_96 = 5,
	IKE_INTEG_AES_CMAC_96 = 8,
	IKE_INTEG_HMAC_SHA2_256_128 = 12,
	IKE_INTEG_HMAC_SHA2_384_192 = 13,
	IKE_INTEG_HMAC_SHA2_512_256 = 14,
};

/* Transform type 4 IDs (key exchange groups). */
enum {
	IKE_DH_NONE = 0,
	IKE_DH_MODP_1024 = 2,
	IKE_DH_MODP_1536 = 5,
	IKE_DH_MODP_2048 = 14,
	IKE_DH_MODP_3072 = 15,
	IKE_DH_MODP_4096 = 16,
	IKE_DH_MODP_6144 = 17,
	IKE_DH_MODP_8192 = 18,
	IKE_DH_ECP_256 = 19,
	IKE_DH_ECP_384 = 20,
	IKE_DH_ECP_521 = 21,
	IKE_DH_CURVE25519 = 31,
	IKE_DH_CURVE448 = 32,
};

/* Transform type 5 IDs. */
enum {
	IKE_ESN_NO = 0,
	IKE_ESN_YES = 1,
};

/* Transform attribute types (§3.3.5). */
#define IKE_ATTR_KEY_LENGTH 14
#define IKE_ATTR_AF         0x8000 /* TV format */

/* ID types (§3.5, RFC 7619). */
enum {
	IKE_ID_IPV4_ADDR = 1,
	IKE_ID_FQDN = 2,
	IKE_ID_RFC822_ADDR = 3,
	IKE_ID_IPV6_ADDR = 5,
	IKE_ID_DER_ASN1_DN = 9,
	IKE_ID_DER_ASN1_GN = 10,
	IKE_ID_KEY_ID = 11,
	IKE_ID_NULL = 13,
};

/* Certificate encodings (§3.6, RFC 7670). */
enum {
	IKE_CERT_PKCS7 = 1,
	IKE_CERT_X509_SIG = 4,
	IKE_CERT_CRL = 7,
	IKE_CERT_HASH_URL_X509 = 12,
	IKE_CERT_HASH_URL_BUNDLE = 13,
	IKE_CERT_RAW_PUBLIC_KEY = 15,
};

/* Authentication methods (§3.8, RFC 4754, RFC 7427). */
enum {
	IKE_AUTH_RSA_SIG = 1,
	IKE_AUTH_PSK = 2,
	IKE_AUTH_DSS_SIG = 3,
	IKE_AUTH_ECDSA_256 = 9,
	IKE_AUTH_ECDSA_384 = 10,
	IKE_AUTH_ECDSA_521 = 11,
	IKE_AUTH_DIGITAL_SIGNATURE = 14,
};

/* Notify message types (§3.10.1; RFC 4555, 5685, 5723, 7383, 7427, 9242). */
enum {
	/* errors: 1..16383 */
	IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
	IKE_N_INVALID_IKE_SPI = 4,
	IKE_N_INVALID_MAJOR_VERSION = 5,
	IKE_N_INVALID_SYNTAX = 7,
	IKE_N_INVALID_MESSAGE_ID = 9,
	IKE_N_INVALID_SPI = 11,
	IKE_N_NO_PROPOSAL_CHOSEN = 14,
	IKE_N_INVALID_KE_PAYLOAD = 17,
	IKE_N_AUTHENTICATION_FAILED = 24,
	IKE_N_SINGLE_PAIR_REQUIRED = 34,
	IKE_N_NO_ADDITIONAL_SAS = 35,
	IKE_N_INTERNAL_ADDRESS_FAILURE = 36,
	IKE_N_FAILED_CP_REQUIRED = 37,
	IKE_N_TS_UNACCEPTABLE = 38,
	IKE_N_INVALID_SELECTORS = 39,
	IKE_N_UNACCEPTABLE_ADDRESSES = 40,
	IKE_N_UNEXPECTED_NAT_DETECTED = 41,
	IKE_N_USE_ASSIGNED_HOA = 42,
	IKE_N_TEMPORARY_FAILURE = 43,
	IKE_N_CHILD_SA_NOT_FOUND = 44,
	/* status: 16384.. */
	IKE_N_INITIAL_CONTACT = 16384,
	IKE_N_SET_WINDOW_SIZE = 16385,
	IKE_N_ADDITIONAL_TS_POSSIBLE = 16386,
	IKE_N_IPCOMP_SUPPORTED = 16387,
	IKE_N_NAT_DETECTION_SOURCE_IP = 16388,
	IKE_N_NAT_DETECTION_DESTINATION_IP = 16389,
	IKE_N_COOKIE = 16390,
	IKE_N_USE_TRANSPORT_MODE = 16391,
	IKE_N_HTTP_CERT_LOOKUP_SUPPORTED = 16392,
	IKE_N_REKEY_SA = 16393,
	IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
	IKE_N_NON_FIRST_FRAGMENTS_ALSO = 16395,
	IKE_N_MOBIKE_SUPPORTED = 16396,
	IKE_N_ADDITIONAL_IP4_ADDRESS = 16397,
	IKE_N_ADDITIONAL_IP6_ADDRESS = 16398,
	IKE_N_NO_ADDITIONAL_ADDRESSES = 16399,
	IKE_N_UPDATE_SA_ADDRESSES = 16400,
	IKE_N_COOKIE2 = 16401,
	IKE_N_NO_NATS_ALLOWED = 16402,
	IKE_N_AUTH_LIFETIME = 16403,
	IKE_N_MULTIPLE_AUTH_SUPPORTED = 16404,
	IKE_N_ANOTHER_AUTH_FOLLOWS = 16405,
	IKE_N_REDIRECT_SUPPORTED = 16406,
	IKE_N_REDIRECT = 16407,
	IKE_N_REDIRECTED_FROM = 16408,
	IKE_N_EAP_ONLY_AUTHENTICATION = 16417,
	IKE_N_CHILDLESS_IKEV2_SUPPORTED = 16418,
	IKE_N_IKEV2_FRAGMENTATION_SUPPORTED = 16430,
	IKE_N_SIGNATURE_HASH_ALGORITHMS = 16431,
	IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED = 16438,
};
/* Notify types below this are errors (§3.10.1). */
#define IKE_N_STATUS_MIN 16384

/* Traffic selector types (§3.13.1). */
enum {
	IKE_TS_IPV4_ADDR_RANGE = 7,
	IKE_TS_IPV6_ADDR_RANGE = 8,
};

/* Configuration payload types and attributes (§3.15, §3.15.1). */
enum {
	IKE_CFG_REQUEST = 1,
	IKE_CFG_REPLY = 2,
	IKE_CFG_SET = 3,
	IKE_CFG_ACK = 4,
};

enum {
	IKE_CP_INTERNAL_IP4_ADDRESS = 1,
	IKE_CP_INTERNAL_IP4_NETMASK = 2,
	IKE_CP_INTERNAL_IP4_DNS = 3,
	IKE_CP_INTERNAL_IP4_NBNS = 4,
	IKE_CP_INTERNAL_IP4_DHCP = 6,
	IKE_CP_APPLICATION_VERSION = 7,
	IKE_CP_INTERNAL_IP6_ADDRESS = 8,
	IKE_CP_INTERNAL_IP6_DNS = 10,
	IKE_CP_INTERNAL_IP6_DHCP = 12,
	IKE_CP_INTERNAL_IP4_SUBNET = 13,
	IKE_CP_SUPPORTED_ATTRIBUTES = 14,
	IKE_CP_INTERNAL_IP6_SUBNET = 15,
};

#define IKE_NONCE_MIN 16 /* §3.9 */
#define IKE_NONCE_MAX 256

/* Capacities of struct ike_msg; more on the wire is IKE_ERR_TOO_MANY. */
#define IKE_MAX_PAYLOADS   64
#define IKE_MAX_PROPOSALS  16
#define IKE_MAX_TRANSFORMS 64 /* per proposal; strongSwan's defaults send ~30 */
#define IKE_MAX_TS         16 /* per TSi / TSr */
#define IKE_MAX_NOTIFY     32
#define IKE_MAX_CERT       8
#define IKE_MAX_CERTREQ    8
#define IKE_MAX_DELETE     8
#define IKE_MAX_VENDOR     16
#define IKE_MAX_CP_ATTRS   32
#define IKE_MAX_SPI        8 /* proposal / notify SPI */

/* §3.1. SPIs are kept as the host-order value of the 8 big-endian bytes. */
struct ike_hdr {
	uint64_t spi_i;
	uint64_t spi_r;
	uint8_t next_payload;
	uint8_t major;
	uint8_t minor;
	uint8_t exchange;
	uint8_t flags; /* IKE_FLAG_* */
	uint32_t msg_id;
	uint32_t length; /* whole message, header included */
};

/* §3.3.2; the only attribute we know is Key Length (§3.3.5). */
struct ike_transform {
	uint8_t type;
	uint16_t id;
	uint16_t key_bits; /* Key Length attribute; 0: none */
	bool unknown_attr; /* carried an unknown attribute: §3.3.6 says the
	                    * transform must then not be selected */
};

/* §3.3.1 */
struct ike_proposal {
	uint8_t num;
	uint8_t proto;   /* IKE_PROTO_* */
	uint8_t spi_len; /* 0 or 8 for IKE, 4 for AH/ESP */
	uint8_t spi[IKE_MAX_SPI];
	unsigned n_transforms;
	struct ike_transform t[IKE_MAX_TRANSFORMS];
};

struct ike_sa_pl {
	unsigned n_proposals;
	struct ike_proposal p[IKE_MAX_PROPOSALS];
};

/* §3.4 */
struct ike_ke {
	uint16_t group;
	const uint8_t *data;
	size_t len;
};

/* §3.5. body/body_len: everything after the generic header as received
 * (ID Type, RESERVED, data), what AUTH covers (§2.15); unset when built. */
struct ike_id {
	uint8_t type;
	const uint8_t *data;
	size_t len;
	const uint8_t *body;
	size_t body_len;
};

/* §3.6 CERT and §3.7 CERTREQ (data: the Certification Authority field). */
struct ike_cert {
	uint8_t encoding;
	const uint8_t *data;
	size_t len;
};

/* §3.8 */
struct ike_auth {
	uint8_t method;
	const uint8_t *data;
	size_t len;
};

/* §3.9, §3.12, §3.16: opaque bytes (EAP: the whole EAP message). */
struct ike_blob {
	const uint8_t *data;
	size_t len;
};

/* §3.10 */
struct ike_notify {
	uint8_t proto;
	uint8_t spi_len;
	uint8_t spi[IKE_MAX_SPI];
	uint16_t type;
	const uint8_t *data;
	size_t len;
};

/* §3.11: n_spi SPIs of spi_len bytes each at spis. */
struct ike_delete {
	uint8_t proto;
	uint8_t spi_len;
	uint16_t n_spi;
	const uint8_t *spis;
};

/* §3.13.1; addresses are 4 (type 7) or 16 (type 8) bytes, network order. */
struct ike_ts {
	uint8_t type;
	uint8_t proto; /* 0: any */
	uint16_t start_port;
	uint16_t end_port;
	uint8_t start[16];
	uint8_t end[16];
};

/* §3.13. Selectors of unknown types are skipped and counted. */
struct ike_ts_pl {
	unsigned n_ts;
	unsigned n_skipped;
	struct ike_ts ts[IKE_MAX_TS];
};

/* §3.15.1 */
struct ike_cp_attr {
	uint16_t type; /* IKE_CP_*, R bit cleared */
	const uint8_t *value;
	uint16_t len;
};

struct ike_cp {
	uint8_t type; /* IKE_CFG_* */
	unsigned n_attrs;
	struct ike_cp_attr a[IKE_MAX_CP_ATTRS];
};

/*
 * §3.14 SK and RFC 7383 §2.5 SKF. off: offset of the IV from the start of the
 * message, so that message[0..off) is the associated data (header, anything
 * before, the SK/SKF header: RFC 5282 §5, RFC 7383 §2.5.3); len: IV +
 * ciphertext + ICV. inner_np: the payload type of the first inner payload
 * (for SKF only meaningful in fragment 1).
 */
struct ike_sk {
	uint8_t inner_np;
	uint16_t frag_num; /* SKF only */
	uint16_t frag_total;
	size_t off;
	size_t len;
};

struct ike_msg {
	struct ike_hdr hdr;
	uint64_t seen; /* bit (type - 32) for each payload type present */

	struct ike_sa_pl sa;
	struct ike_ke ke;
	struct ike_id idi, idr;
	struct ike_auth auth;
	struct ike_blob nonce;
	struct ike_ts_pl tsi, tsr;
	struct ike_cp cp;
	struct ike_blob eap;
	struct ike_sk sk; /* SK or SKF, whichever is present */

	unsigned n_notify, n_cert, n_certreq, n_delete, n_vendor;
	struct ike_notify notify[IKE_MAX_NOTIFY];
	struct ike_cert cert[IKE_MAX_CERT];
	struct ike_cert certreq[IKE_MAX_CERTREQ];
	struct ike_delete del[IKE_MAX_DELETE];
	struct ike_blob vendor[IKE_MAX_VENDOR];

	/* Payload types in wire order (outer, then inner once decrypted),
	 * unknown skipped ones included. */
	unsigned n_payloads;
	uint8_t order[IKE_MAX_PAYLOADS];
	unsigned n_unknown;           /* non-critical unknown payloads skipped */
	uint8_t unsupported_critical; /* type behind IKE_ERR_UNSUPPORTED_CRITICAL */
};

/* True if a payload of this type was parsed into m. */
static inline bool ike_msg_has(const struct ike_msg *m, uint8_t type)
{
	return type >= 32 && type < 96 && (m->seen >> (type - 32) & 1);
}

/* The first notify of this type, or NULL. */
const struct ike_notify *ike_msg_notify(const struct ike_msg *m, uint16_t type);

/*
 * Parse the 28-byte header at buf (§3.1). Checks only the header itself:
 * IKE_ERR_SHORT (len < 28), IKE_ERR_VERSION (major != 2). The caller
 * compares h->length with the datagram (ike_msg_parse() does).
 */
int ike_hdr_parse(struct ike_hdr *h, const uint8_t *buf, size_t len);

/*
 * Parse a payload chain whose first payload has type np from buf[0..len)
 * into m, adding to what m holds (memset it before the first call). base is
 * the offset of buf inside the message (for ike_sk.off); inner says the
 * chain came out of an SK payload (where SK/SKF may not appear).
 *
 * An SK or SKF payload ends the chain: it must be the last payload and run
 * to the end of buf (§3.14); its Next Payload becomes sk.inner_np.
 *
 * Returns len (every byte consumed), or IKE_ERR_LENGTH, IKE_ERR_SYNTAX,
 * IKE_ERR_UNSUPPORTED_CRITICAL (m->unsupported_critical set),
 * IKE_ERR_TOO_MANY. m may be partly filled on error: discard it.
 */
int ike_chain_parse(struct ike_msg *m, uint8_t np, const uint8_t *buf, size_t len, size_t base,
                    bool inner);

/*
 * Message builder: writes the header, then one payload per ike_build_*()
 * call, chaining Next Payload fields; ike_build_finish() patches the header's
 * length. Errors are sticky: check once at finish.
 *
 *	struct ike_build b;
 *	ike_build_init(&b, buf, sizeof(buf), &hdr);
 *	ike_build_sa(&b, &sa);
 *	ike_build_ke(&b, &ke);
 *	ike_build_nonce(&b, nonce, 32);
 *	len = ike_build_finish(&b);
 *
 * A chain without header (ike_build_chain_init) is what goes inside SK.
 */
struct ike_build {
	struct wire_wr w;
	size_t np_off; /* offset of the Next Payload field to patch next */
	bool has_hdr;
	uint8_t first_np; /* chain only: type of the first payload */
	int err;
};

/* hdr->next_payload and hdr->length are ignored (filled in by the builder). */
void ike_build_init(struct ike_build *b, uint8_t *buf, size_t cap, const struct ike_hdr *hdr);
void ike_build_chain_init(struct ike_build *b, uint8_t *buf, size_t cap);

/*
 * Each appends one payload, returning 0 or (sticky) IKE_ERR_NOSPACE, or
 * IKE_ERR_INVAL when the struct cannot be encoded (a payload over 65535
 * bytes, an SPI over 8 bytes, a nonce outside 16..256, an unknown selector
 * type, more than 255 transforms or selectors).
 */
int ike_build_sa(struct ike_build *b, const struct ike_sa_pl *sa);
int ike_build_ke(struct ike_build *b, const struct ike_ke *ke);
/* type: IKE_PL_IDI or IKE_PL_IDR */
int ike_build_id(struct ike_build *b, uint8_t type, const struct ike_id *id);
/* type: IKE_PL_CERT or IKE_PL_CERTREQ */
int ike_build_cert(struct ike_build *b, uint8_t type, const struct ike_cert *c);
int ike_build_auth(struct ike_build *b, const struct ike_auth *a);
int ike_build_nonce(struct ike_build *b, const uint8_t *nonce, size_t len);
int ike_build_notify(struct ike_build *b, const struct ike_notify *n);
int ike_build_delete(struct ike_build *b, const struct ike_delete *d);
int ike_build_vendor(struct ike_build *b, const uint8_t *vid, size_t len);
/* type: IKE_PL_TSI or IKE_PL_TSR */
int ike_build_ts(struct ike_build *b, uint8_t type, const struct ike_ts_pl *ts);
int ike_build_cp(struct ike_build *b, const struct ike_cp *cp);
int ike_build_eap(struct ike_build *b, const uint8_t *eap, size_t len);
/* Any payload from its body (after the generic header). */
int ike_build_raw(struct ike_build *b, uint8_t type, bool critical, const uint8_t *body,
                  size_t len);

/*
 * Finish: patch the header length. Returns the total length (header
 * included, or the chain's length) or the first error of any call.
 * For a chain, *first_np (if not NULL) gets the first payload's type
 * (IKE_PL_NONE when empty).
 */
int ike_build_finish(struct ike_build *b, uint8_t *first_np);

#endif
