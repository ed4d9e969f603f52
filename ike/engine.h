/*
 * The IKEv2 engine (RFC 7296): a pure, sans-I/O state machine in the shape
 * of ngtcp2. No sockets, no clock, no globals, no I/O: datagrams, time and
 * randomness come in; datagrams, deadlines and events go out.
 *
 *	e = ike_engine_new(&cfg);
 *	ike_engine_initiate(e, &path, now);          (or wait for the peer)
 *	loop:
 *		ike_engine_recv(e, &path, pkt, len, now);      for each datagram
 *		if (ike_engine_next_expiry(e) <= now)
 *			ike_engine_handle_expiry(e, now);
 *		while ((n = ike_engine_poll_tx(e, &path, buf, cap)) > 0)
 *			send buf[0..n) from path.local to path.remote;
 *		while (ike_engine_poll_event(e, &ev) == 1)
 *			act on ev (install CHILD_SA keys, ...); ike_event_wipe(&ev);
 *		re-arm the one timer at ike_engine_next_expiry(e);
 *	ike_engine_free(e);
 *
 * Time is a uint64_t in nanoseconds from any fixed origin (CLOCK_MONOTONIC);
 * UINT64_MAX means "no timer". A deadline fires when now >= deadline, never
 * one nanosecond earlier.
 *
 * One engine serves every configured connection (ike_engine_peer_add():
 * identities, credentials, proposals, selectors, addresses it applies to),
 * as initiator, responder, or both, with any number of IKE SAs (up to
 * ike_engine_opts.sa_max) and several CHILD_SAs per IKE SA; ike_engine_new()
 * makes an engine of one connection. Each IKE SA has an engine-wide id
 * (never 0, never reused while the engine lives) that events carry and that
 * the delete calls take. The insides: ike/engine_int.h.
 *
 * Exchanges (RFC 7296): IKE_SA_INIT with INVALID_KE_PAYLOAD retry, COOKIE
 * (§2.6) both ways and NAT detection (§2.23); IKE_AUTH with a pre-shared
 * key or X.509 certificates (§2.15, §3.6-3.8, RFC 4754, RFC 7427; see
 * ike/cert.h) and the first CHILD_SA; CREATE_CHILD_SA for new CHILD_SAs,
 * CHILD_SA rekeys (optional PFS, §2.8.1 collisions) and IKE SA rekeys
 * (§2.18, §2.8.2 collisions), exchange collisions (§2.25: TEMPORARY_FAILURE,
 * CHILD_SA_NOT_FOUND); INFORMATIONAL Delete and liveness checks (§1.4,
 * §2.4); unprotected INVALID_MAJOR_VERSION / INVALID_IKE_SPI (§1.5); RFC
 * 7383 fragmentation of encrypted messages, both ways.
 *
 * Ports and NAT traversal (RFC 7296 §2.23, RFC 3948): a path names both
 * ends with ports. The engine never adds or expects the four-byte non-ESP
 * marker: the daemon strips it on port 4500 before ike_engine_recv() and
 * prepends it when poll_tx's path.local.port is not 500 (natt_classify()).
 * When NAT is detected, the initiator moves its IKE SA from port 500 to
 * 4500 at both ends from IKE_AUTH on, as §2.23 asks; responses always go
 * back along the path their request came in on.
 *
 * Errors: negative IKE_ERR_* codes of ike/wire.h; "fatal" codes
 * (ike_err_fatal()) from ike_engine_recv() mean the IKE SA the datagram
 * belonged to was torn down (the events say so), never that the engine is
 * unusable. Every function below documents its codes.
 */
#ifndef TUNSEC_IKE_ENGINE_H
#define TUNSEC_IKE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/aead.h"
#include "esp/sel.h"
#include "ike/proposal.h"
#include "ike/wire.h"

typedef uint64_t ike_time_t;

#define IKE_TIME_NEVER UINT64_MAX
#define IKE_SEC        1000000000ULL

/* Largest IKE message the engine sends or accepts (unfragmented). */
#define IKE_ENGINE_MSG_MAX 4096
#define IKE_PSK_MAX        256
#define IKE_ID_MAX         255

/* Defaults of struct ike_config's zero fields (strongSwan's). */
#define IKE_DEFAULT_RETRANSMIT_TIMEOUT (4 * IKE_SEC) /* charon.retransmit_timeout */
#define IKE_DEFAULT_RETRANSMIT_BASE    1800          /* 1.8, in thousandths */
#define IKE_DEFAULT_RETRANSMIT_TRIES   5
#define IKE_DEFAULT_HALF_OPEN_TIMEOUT  (30 * IKE_SEC)
#define IKE_DEFAULT_FRAGMENT_LEN       (1280 - 40 - 8 - 4)

/* One end of a path: AF_INET / AF_INET6, address in network order (IPv4
 * in the first 4 bytes), UDP port in host order. */
struct ike_addr {
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
};

/* An address prefix (family AF_INET / AF_INET6, address in network order,
 * len bits). */
struct ike_prefix {
	uint8_t family;
	uint8_t len;
	uint8_t addr[16];
};

/* Where a datagram came in (local: our address it was sent to, remote:
 * its source) or where one is to go (local: send from, remote: to). */
struct ike_path {
	struct ike_addr local;
	struct ike_addr remote;
};

/* ---- configuration payload (RFC 7296 §3.15; ike/cp.h) ---- */
#define IKE_CP_MAX_ADDRS   2 /* one IPv4, one IPv6 */
#define IKE_CP_MAX_SERVERS 8
#define IKE_CP_MAX_NBNS    4
#define IKE_CP_MAX_SUBNETS 16

/* Addresses and servers for a client (a server's answer to a request; what
 * a client got). Addresses: family and addr only (no port). */
struct ike_cp_reply {
	size_t n_addrs;
	struct ike_addr addrs[IKE_CP_MAX_ADDRS];
	size_t n_dns;
	struct ike_addr dns[IKE_CP_MAX_SERVERS];
	size_t n_nbns;
	struct ike_addr nbns[IKE_CP_MAX_NBNS];
	size_t n_subnets;
	struct ike_prefix subnets[IKE_CP_MAX_SUBNETS];
};

/* An identity (RFC 7296 §3.5): IKE_ID_FQDN, IKE_ID_RFC822_ADDR,
 * IKE_ID_IPV4_ADDR (4 bytes), IKE_ID_IPV6_ADDR (16), IKE_ID_KEY_ID,
 * IKE_ID_DER_ASN1_DN (the DER of an X.501 Name, compared as bytes).
 * type 0 as remote_id: accept whatever identity the peer names. */
struct ike_identity {
	uint8_t type;
	uint8_t len;
	uint8_t data[IKE_ID_MAX];
};

/* Our random source: fill buf with len unpredictable bytes. */
typedef void (*ike_rand_fn)(void *ctx, void *buf, size_t len);

/* Wall-clock time, seconds since 1970 UTC (certificate validity). */
typedef int64_t (*ike_wall_fn)(void *ctx);

/* How one side authenticates (ike_config.local_auth / remote_auth). */
enum {
	IKE_AUTHBY_PSK = 0,    /* pre-shared key, AUTH method 2 */
	IKE_AUTHBY_PUBKEY = 1, /* X.509 certificate signature (§2.15, RFC 7427) */
	/* EAP (§2.16, RFC 3748), run by the daemon round by round
	 * (IKE_EV_NEED with IKE_NEED_EAP, ike_engine_resume()): as
	 * remote_auth we are the EAP server and prove ourselves with
	 * local_auth first; as local_auth we are the EAP peer, and the
	 * server must prove itself with remote_auth (PSK or certificate)
	 * before any EAP is answered (CVE-2021-45079's lesson). The AUTH
	 * after EAP uses the method's MSK (SK_pi/SK_pr if it has none).
	 * Both local_auth and remote_auth EAP: EAP-only authentication (RFC
	 * 5998): the server sends no AUTH of its own before EAP; the method
	 * proves both sides. The initiator announces EAP_ONLY_AUTHENTICATION
	 * and takes a first response without AUTH (and none with one: it
	 * has nothing to check it with, IKE_CERT_ERR_EAP_ONLY_ONE, as a
	 * client that is not EAP-only refuses a response without AUTH); a
	 * responder's such connection fits
	 * only a request with the announcement. The method must make an MSK
	 * (without one the SA fails, IKE_CERT_ERR_EAP_ONLY) and must be
	 * mutual (RFC 5998 §4: EAP-TLS is; EAP-MSCHAPv2, weak against
	 * dictionaries, is not taken): choosing it is the caller's. */
	IKE_AUTHBY_EAP = 2,
};

/* When we send our certificates (ike_config.send_cert; strongSwan's
 * send_cert). */
enum {
	IKE_SEND_CERT_IFASKED = 0, /* the peer sent a CERTREQ */
	IKE_SEND_CERT_ALWAYS = 1,
	IKE_SEND_CERT_NEVER = 2,
};

struct ike_creds; /* ike/cert.h */


/* What a client's CP(CFG_REQUEST) asked for. */
struct ike_cp_request {
	bool v4, v6;               /* INTERNAL_IP4/6_ADDRESS */
	bool want4_set, want6_set; /* ... naming the address it would like */
	uint8_t want4[4], want6[16];
	bool dns4, dns6, nbns;     /* INTERNAL_IP4/6_DNS, INTERNAL_IP4_NBNS */
	bool subnet4, subnet6;     /* INTERNAL_IP4/6_SUBNET */
};


#define IKE_MAX_ADDRS 8

/* What a new IKE SA of an identity that already has one does
 * (ike_config.unique; swanctl.conf's connections.<name>.unique). */
enum ike_unique {
	IKE_UNIQUE_NO = 0,  /* both stay, unless the new one says INITIAL_CONTACT */
	IKE_UNIQUE_NEVER,   /* both stay, INITIAL_CONTACT too is ignored */
	IKE_UNIQUE_REPLACE, /* the old ones are deleted */
	IKE_UNIQUE_KEEP,    /* the new one is refused (unless INITIAL_CONTACT) */
};

struct ike_config {
	struct ike_identity local_id;
	struct ike_identity remote_id;
	const uint8_t *psk; /* copied by ike_engine_new() */
	size_t psk_len;     /* 1 .. IKE_PSK_MAX; only if one side uses PSK */
	/* Authentication of each side (IKE_AUTHBY_*): local_auth how we
	 * prove ourselves, remote_auth what we demand of the peer. With
	 * IKE_AUTHBY_PUBKEY, creds holds (local) our certificate and key,
	 * local_id must be in that certificate (DN = its subject, others in
	 * its subjectAltName), and (remote) the trust anchors the peer's
	 * certificate must chain to; the peer's ID must be in its
	 * certificate. */
	uint8_t local_auth, remote_auth;
	const struct ike_creds *creds; /* borrowed: must outlive the engine */
	/* Send CERTREQ (§3.7) for our trust anchors: in the IKE_SA_INIT
	 * response as responder, the IKE_AUTH request as initiator (as
	 * strongSwan does; its default is yes). */
	bool send_certreq;
	uint8_t send_cert; /* IKE_SEND_CERT_* */
	/* Sign with RSASSA-PSS rather than PKCS#1 v1.5 (RSA keys, RFC 7427;
	 * strongSwan's charon.rsa_pss). */
	bool rsa_pss;
	/* Wall clock for certificate validity; NULL: ike/cert.c reads the
	 * system clock (the engine itself reads no clock). */
	ike_wall_fn wall_time;
	void *wall_ctx;
	/* strongSwan proposal strings (ike/proposal.h); NULL: "default". */
	const char *ike_proposals;
	const char *esp_proposals;
	/* The CHILD_SA's selectors: as initiator what we propose (TSi =
	 * local, TSr = remote), as responder what we allow. */
	struct esp_sel local_ts[ESP_MAX_SELS];
	size_t n_local_ts;
	struct esp_sel remote_ts[ESP_MAX_SELS];
	size_t n_remote_ts;
	/* Retransmission (§2.1): try n (0 = the first send) waits
	 * timeout * (base/1000)^n; after `tries` retransmissions the next
	 * timeout gives up on the IKE SA. 0 picks the defaults above; to
	 * disable retransmission set no_retransmit. */
	ike_time_t retransmit_timeout;
	unsigned retransmit_base; /* thousandths: 1800 = 1.8 */
	unsigned retransmit_tries;
	bool no_retransmit;
	/* Liveness check (§2.4): an empty INFORMATIONAL after this long
	 * without inbound IKE or ESP traffic; 0 disables DPD. */
	ike_time_t dpd_delay;
	/* A responder's IKE SA that sees no IKE_AUTH this long after
	 * IKE_SA_INIT is dropped; an IKE SA replaced by a rekey waits this
	 * long for the peer's Delete. 0: the default. */
	ike_time_t half_open_timeout;
	/* Rekey each CHILD_SA this long after it came up (CREATE_CHILD_SA
	 * with REKEY_SA, §2.8; PFS when the ESP proposals name a group).
	 * 0: never on our own; the peer may still rekey. */
	ike_time_t child_rekey_time;
	/* Rekey the IKE SA this long after it came up (§2.18); 0: never on
	 * our own. */
	ike_time_t ike_rekey_time;
	/* RFC 7383: largest IKE datagram we send (IKE header on, IP and UDP
	 * headers and non-ESP marker off) before encrypted messages are
	 * fragmented, when both sides announced support. 0: 1228, which
	 * keeps IPv6 packets within 1280 bytes. */
	size_t fragment_len;
	/* Demand a COOKIE (§2.6) in IKE_SA_INIT while at least this many
	 * half-open IKE SAs exist (an anti-DoS measure); 0: never. */
	unsigned cookie_threshold;
	/* Send INITIAL_CONTACT in IKE_AUTH (§2.4) when we are the
	 * initiator of the first IKE SA with this peer. */
	bool initial_contact;
	/* RFC 3948 / strongSwan's encap=yes: UDP-encapsulate ESP even
	 * without a NAT, by sending a NAT_DETECTION_SOURCE_IP that cannot
	 * match (the peer then sees "us behind a NAT", §2.23). */
	bool force_encap;
	/* IKE_LEGACY_* (ike/proposal.h): accept and propose MODP 1024
	 * (group 2) and/or SHA-1 (HMAC-SHA1-96, PRF_HMAC_SHA1, and AUTH
	 * method 1, RSA PKCS#1 v1.5 with SHA-1) where the proposals name
	 * them; 0 by default (RFC 8247 §2.2-2.4, §3.2). */
	unsigned allow_legacy;
	/* RFC 7383: do not announce IKEV2_FRAGMENTATION_SUPPORTED (so
	 * neither side fragments). */
	bool no_fragmentation;
	/* Randomness for SPIs and nonces; NULL: rand_bytes(). Key exchange
	 * private keys and SK IVs always come from crypto/. */
	ike_rand_fn rand;
	void *rand_ctx;
	/* Where this connection applies (an engine with several peers,
	 * ike_engine_peer_add()): our address and the peer's must each fall
	 * in one of these prefixes; none: any address. */
	struct ike_prefix local_addrs[IKE_MAX_ADDRS];
	size_t n_local_addrs;
	struct ike_prefix remote_addrs[IKE_MAX_ADDRS];
	size_t n_remote_addrs;
	enum ike_unique unique;
	/* Responder: this connection assigns addresses (§2.19). An IKE_AUTH
	 * request with CP(CFG_REQUEST) for addresses waits, once its AUTH
	 * verified, for ike_engine_resume() (IKE_EV_NEED, IKE_NEED_CP); the
	 * peer's CHILD_SAs are then narrowed to the addresses given. */
	bool assign_vips;
	/* Initiator: ask for a virtual IPv4 and/or IPv6 address (CP
	 * CFG_REQUEST); what came is in IKE_UP's ev.cp. */
	bool request_vip4, request_vip6;
	/* RFC 4739 (strongSwan's local-2 / remote-2 sections): a second
	 * authentication round of the initiator, by EAP, after the first
	 * (local_auth / remote_auth, any method). Both ends must announce
	 * MULTIPLE_AUTH_SUPPORTED: we do in IKE_SA_INIT responses while some
	 * connection has remote_eap2, and in the first IKE_AUTH request of
	 * one with local_eap2.
	 * local_eap2 (initiator): once the first round is done (the
	 * server's AUTH verified), a new IDi, local_id2 (type 0: local_id
	 * again), and EAP as it (IKE_EV_NEED with ev.auth_round 2); a server
	 * that did not announce support fails the IKE SA.
	 * remote_eap2 (responder): the peer must follow its first round
	 * (with ANOTHER_AUTH_FOLLOWS) by a second one by EAP, its IDi there
	 * fitting remote_id2 (type 0: any). A request that announces no
	 * second round does not fit such a connection, nor one that
	 * announces it a connection without remote_eap2. The identity the
	 * second round proves (its EAP identity, else its IDi) is the peer's
	 * for uniqueness, leases and events; IKE_UP's ev.peer_id1 says the
	 * first round's. */
	bool local_eap2, remote_eap2;
	struct ike_identity local_id2, remote_id2;
	/* Between connections that fit a peer equally well, the lower rank
	 * wins, then the first added (a caller that re-adds connections, as
	 * a reload does, keeps its own order with it: the file's). */
	unsigned rank;
};

/*
 * Engine-wide settings (ike_engine_create()). Zero fields take the
 * defaults below. The half-open limits are strongSwan's charon settings
 * of the same meaning (cookie_threshold, cookie_threshold_ip,
 * block_threshold, init_limit_half_open), with the same defaults where
 * strongSwan has one.
 */
#define IKE_DEFAULT_COOKIE_THRESHOLD    10    /* half-open SAs in all */
#define IKE_DEFAULT_COOKIE_THRESHOLD_IP 3     /* ... from one address */
#define IKE_DEFAULT_BLOCK_THRESHOLD     5     /* refused beyond, per address */
#define IKE_DEFAULT_HALF_OPEN_MAX       4096  /* refused beyond, in all */
#define IKE_DEFAULT_SA_MAX              65536 /* IKE SAs in all */

struct ike_engine_opts {
	ike_rand_fn rand;
	void *rand_ctx;
	ike_wall_fn wall_time;
	void *wall_ctx;
	/* §2.6: demand a COOKIE in IKE_SA_INIT while at least this many
	 * half-open IKE SAs exist, in all or from the request's address */
	unsigned cookie_threshold;
	unsigned cookie_threshold_ip;
	bool no_cookies; /* never demand one */
	/* refuse a new half-open IKE SA (no answer) beyond these */
	unsigned block_threshold;
	unsigned half_open_max;
	size_t sa_max;
	/* Debug lines (NULL: none, and no work spent on them): one per IKE
	 * message sent or received (exchange, request/response, Message ID,
	 * payloads, size, fragments, the peer's address), retransmissions
	 * and liveness checks (ike/msglog.h). sa_id 0: no SA (a refused
	 * IKE_SA_INIT). Never secrets. */
	void (*log)(void *ctx, uint32_t sa_id, const char *line);
	void *log_ctx;
};

enum ike_event_type {
	IKE_EV_IKE_UP = 1,   /* IKE SA authenticated both ways */
	IKE_EV_IKE_DOWN,     /* IKE SA gone (or never came up): reason */
	IKE_EV_CHILD_UP,     /* a CHILD_SA to install: ev.child */
	IKE_EV_CHILD_DOWN,   /* remove the CHILD_SA ev.child.spi_in/out */
	IKE_EV_CHILD_FAILED, /* the CHILD_SA was refused: ev.notify says why */
	/* We refused what a peer offered (NO_PROPOSAL_CHOSEN sent; reason
	 * NO_PROPOSAL): ev.path, ev.offered; sa_id 0 for IKE_SA_INIT. For
	 * a log line: an unauthenticated peer can cause one per datagram,
	 * so rate-limit what you log. */
	IKE_EV_REFUSED,
	/* An exchange of sa_id waits for an outside answer: ev.need says
	 * which, ev.peer_id who asks (authenticated), ev.cp_req what for.
	 * Answer with ike_engine_resume(), now or later (the IKE SA's
	 * half-open timeout bounds the wait). */
	IKE_EV_NEED,
};

enum ike_need {
	IKE_NEED_NONE = 0,
	IKE_NEED_CP,  /* addresses and servers for ev.cp_req (struct ike_cp_reply) */
	IKE_NEED_EAP, /* the next EAP message, for ev.eap (the peer's; empty: begin) */
};

/* An EAP message carried in one IKE_AUTH (EAP-TLS sends fragments of some
 * 1 400 bytes), and the largest MSK (RFC 3748 §7.10: at least 64 bytes). */
#define IKE_EAP_MAX     1600
#define IKE_EAP_MSK_MAX 64

enum ike_eap_status {
	IKE_EAP_CONTINUE = 0, /* answer.eap goes to the peer; more rounds follow */
	IKE_EAP_SUCCESS,      /* the method succeeded: msk (and eap_id) set */
	IKE_EAP_FAILURE,      /* it failed: the IKE SA ends (AUTH_FAILED) */
};

/* The answer ike_engine_resume() takes. */
struct ike_answer {
	enum ike_need need; /* the ev.need it answers */
	bool ok;            /* IKE_NEED_CP; false: none (a full pool): INTERNAL_ADDRESS_FAILURE */
	struct ike_cp_reply cp;
	/* IKE_NEED_EAP: the EAP message to send (server: a Request, or the
	 * Success or Failure that ends the method; peer: a Response, none
	 * after the server's Success), what the round came to, on success
	 * the MSK and (server) the identity the peer proved with EAP, which
	 * then replaces its IKE ID for uniqueness, leases and logs (type 0:
	 * keep the IKE ID) */
	enum ike_eap_status eap_status;
	uint8_t eap[IKE_EAP_MAX];
	size_t eap_len;
	uint8_t msk[IKE_EAP_MSK_MAX];
	size_t msk_len;
	struct ike_identity eap_id;
	/* IKE_NEED_EAP, server, on success: seconds after which the peer
	 * must authenticate again (a RADIUS Session-Timeout), sent as
	 * AUTH_LIFETIME (RFC 4478) in our last IKE_AUTH response; 0: none.
	 * Enforcing it (deleting the IKE SA then) is the caller's. */
	uint32_t auth_lifetime;
	/* IKE_NEED_EAP, server, on success: move the IKE SA to this
	 * connection (ike_engine_peer_add()'s id; 0 or the current one:
	 * stay), as strongSwan re-selects its peer config by the groups a
	 * RADIUS server gave. It must be one the exchange could have chosen
	 * from the start: the same local and remote identities and
	 * authentication (rounds included), the IKE_SA_INIT's addresses and
	 * suite, the CHILD_SA suite already chosen, and virtual IPs alike.
	 * Otherwise the peer gets an EAP-Failure instead of the answer's
	 * message (auth_err IKE_CERT_ERR_NO_PEER). */
	uint32_t peer;
};

enum ike_reason {
	IKE_REASON_NONE = 0,
	IKE_REASON_DELETED_LOCAL, /* we asked for it (ike_engine_delete_*) */
	IKE_REASON_DELETED_PEER,  /* the peer sent a Delete */
	IKE_REASON_TIMEOUT,       /* a request was retransmitted in vain */
	IKE_REASON_DPD,           /* a liveness check went unanswered */
	IKE_REASON_HALF_OPEN,     /* no IKE_AUTH after IKE_SA_INIT */
	IKE_REASON_AUTH_FAILED,   /* AUTH wrong, either direction (§2.21.2) */
	IKE_REASON_NO_PROPOSAL,   /* NO_PROPOSAL_CHOSEN */
	IKE_REASON_INVALID_KE,    /* no group both sides accept (§1.2) */
	IKE_REASON_PEER_ERROR,    /* another error notify, ev.notify */
	IKE_REASON_PROTOCOL,      /* malformed authenticated message (§2.21) */
	IKE_REASON_REPLACED,      /* INITIAL_CONTACT from the peer (§2.4) */
	IKE_REASON_REKEYED,       /* replaced by a rekeyed IKE SA (§2.18) */
	IKE_REASON_UNIQUE,        /* a newer IKE SA of the identity, unique = replace */
};

/* What the data plane needs of a CHILD_SA. Keys are aead_new()'s blob:
 * cipher key [+ salt] then integrity key (RFC 7296 §2.17). */
struct ike_child_info {
	uint32_t spi_in;  /* ours: the peer sends with it */
	uint32_t spi_out; /* the peer's: we send with it */
	int encr;         /* ENCR_* (crypto/aead.h) */
	unsigned key_bits;
	int integ; /* AUTH_* */
	bool esn;
	uint16_t ke; /* PFS group of this CHILD_SA's exchange, or 0 */
	bool encap; /* NAT detected: UDP-encapsulate ESP (RFC 3948) */
	/* CHILD_UP of a rekey (§2.8): the spi_in of the CHILD_SA this one
	 * replaces (send with the new one from now on; the old one goes
	 * with its own CHILD_DOWN once deleted); 0 for a new CHILD_SA. */
	uint32_t rekeyed_spi_in;
	/* Who made it (§2.8): true if we initiated the CREATE_CHILD_SA (or
	 * IKE_AUTH) exchange. A rekey's responder cannot know when the
	 * initiator has installed the new SA (its response may still be in
	 * flight, and ESP may overtake it): it should keep sending on the old
	 * SA until the initiator deletes that or uses the new one. */
	bool we_initiated;
	/* §2.8.1: a simultaneous rekey made this SA with the lowest nonce: we
	 * delete it at once; never send on it. */
	bool redundant;
	size_t keymat_len;
	uint8_t key_in[AEAD_MAX_KEYMAT];
	uint8_t key_out[AEAD_MAX_KEYMAT];
	/* Negotiated selectors: local = our side's traffic. */
	size_t n_local;
	struct esp_sel local[ESP_MAX_SELS];
	size_t n_remote;
	struct esp_sel remote[ESP_MAX_SELS];
};

struct ike_event {
	enum ike_event_type type;
	uint32_t sa_id; /* engine-wide IKE SA handle */
	uint64_t spi_i; /* IKE SPIs (host order) */
	uint64_t spi_r;
	bool initiator;         /* we initiated the IKE SA */
	enum ike_reason reason; /* IKE_DOWN, CHILD_DOWN, CHILD_FAILED */
	uint16_t notify;        /* the error notify involved, or 0 */
	struct ike_path path;   /* IKE_UP: where the IKE SA runs */
	/* IKE_UP of a rekeyed IKE SA (§2.18): the id of the SA it replaces,
	 * whose CHILD_SAs it took over (no CHILD events for them); the old
	 * one's IKE_DOWN (reason REKEYED) follows. 0 otherwise. */
	uint32_t rekeyed_sa_id;
	/* IKE_UP: the IKE SA's suite (ike_suite_str() names it) and whether
	 * we are behind a NAT (so we send keepalives, RFC 3948 §2.3). */
	struct ike_suite suite;
	bool behind_nat;
	/* IKE_UP: the ID the peer authenticated; IKE_DOWN: that one, or the
	 * one it claimed in a refused IKE_AUTH (type 0: none seen) */
	struct ike_identity peer_id;
	/* IKE_EV_REFUSED: the peer's proposals (ike_offer_str()), and
	 * whether they were for the IKE SA (else a CHILD_SA) */
	char offered[200];
	bool offered_ike;
	/* IKE_DOWN with reason AUTH_FAILED: why we refused the peer's AUTH,
	 * an IKE_CERT_ERR_* of ike/cert.h (ike_cert_strerror() names it);
	 * 0 when the peer refused ours (its AUTHENTICATION_FAILED). */
	int auth_err;
	struct ike_child_info child; /* CHILD_* (keys only in CHILD_UP) */
	/* The connection (ike_engine_peer_add()) the SA runs under: its id
	 * and user pointer. An IKE SA may move to another connection when
	 * IKE_AUTH names identities that fit that one better: IKE_UP says
	 * which one it ended with. */
	uint32_t peer;
	void *peer_user;
	/* IKE_EV_NEED */
	enum ike_need need;
	struct ike_cp_request cp_req;
	/* IKE_EV_NEED with IKE_NEED_EAP: the peer's EAP message (0 bytes:
	 * begin: the server sends its first Request), and our role; peer_id
	 * is then the IKE ID the peer claimed, not yet proven */
	uint8_t eap[IKE_EAP_MAX];
	size_t eap_len;
	bool eap_server;
	/* IKE_NEED_EAP: the authentication round the EAP is for: 1, or 2
	 * for the second round of RFC 4739 (local_eap2 / remote_eap2, whose
	 * settings then apply; the round's first event begins a new
	 * conversation). A responder's IKE_UP after two rounds: 2, and
	 * peer_id1 the identity the first round proved (a machine's
	 * certificate, say). */
	uint8_t auth_round;
	struct ike_identity peer_id1;
	/* IKE_UP, initiator: the server's AUTH_LIFETIME (RFC 4478) in
	 * seconds: reauthenticate before it ends; 0: it sent none */
	uint32_t auth_lifetime;
	/* IKE_UP: the addresses and servers the CP exchange gave the peer
	 * (responder) or us (initiator); empty without one */
	struct ike_cp_reply cp;
};

/* Counters of what the engine dropped or refused (never per-packet logs). */
struct ike_engine_stats {
	uint64_t rx_malformed;  /* did not parse (unauthenticated) */
	uint64_t rx_no_sa;      /* unknown SPI */
	uint64_t rx_bad_icv;    /* SK integrity failed */
	uint64_t rx_old;        /* outside the window / unexpected response */
	uint64_t rx_retransmit; /* retransmitted request: cached response resent */
	uint64_t tx_retransmit; /* our requests sent again */
	uint64_t tx_dropped;    /* tx queue full */
	uint64_t events_lost;   /* event queue full */
	uint64_t no_proposal;   /* NO_PROPOSAL_CHOSEN sent */
	uint64_t invalid_ke;    /* INVALID_KE_PAYLOAD sent */
	uint64_t auth_failed;   /* AUTHENTICATION_FAILED sent or received */
	uint64_t cert_invalid;  /* peer certificate missing, untrusted, expired, or not its ID */
	uint64_t sig_invalid;   /* peer AUTH signature wrong or of an unusable method */
	uint64_t sa_full;       /* IKE_SA_INIT refused: no room for an SA */
	uint64_t half_open_blocked; /* IKE_SA_INIT refused: too many half-open (block_threshold, half_open_max) */
	uint64_t no_peer;       /* IKE_SA_INIT or IKE_AUTH fitting no connection */
	uint64_t unique_replaced; /* IKE SAs deleted for a newer one of the same identity */
	uint64_t unique_refused;  /* IKE SAs refused: unique = keep */
	uint64_t vip_failed;      /* no address to assign: INTERNAL_ADDRESS_FAILURE sent */
	uint64_t internal_errors; /* IKE SAs dropped by our own failure (keys, memory) */
	uint64_t rekey_refused;   /* IKE SA rekeys refused: the identity holds
	                           * IKE_ENGINE_REKEYED_MAX undeleted predecessors */
	uint64_t cookie_sent;   /* IKE_SA_INIT answered with a COOKIE (§2.6) */
	/* Unprotected one-way notifies (§1.5), for requests only, together
	 * limited to IKE_ENGINE_UNPROT_BURST at once and
	 * IKE_ENGINE_UNPROT_RATE a second (a token bucket on `now`): */
	uint64_t tx_invalid_major; /* INVALID_MAJOR_VERSION sent (§2.5) */
	uint64_t tx_invalid_spi;   /* INVALID_IKE_SPI sent: unknown SA */
	uint64_t unprot_limited;   /* one of those not sent: over the rate */
	uint64_t tmp_failure;      /* TEMPORARY_FAILURE sent (§2.25) */
	uint64_t child_not_found;  /* CHILD_SA_NOT_FOUND sent (§2.25) */
	uint64_t rekey_collisions; /* simultaneous IKE SA rekeys (§2.8.2) */
	uint64_t child_rekey_collisions; /* simultaneous CHILD_SA rekeys (§2.8.1) */
	uint64_t frag_refused;  /* a fragmented message not taken: reassemblies full */
	uint64_t frag_timeout;  /* a reassembly given up, incomplete */
};

#define IKE_ENGINE_UNPROT_BURST 10
#define IKE_ENGINE_UNPROT_RATE  10 /* per second */

struct ike_engine;

/*
 * Check a configuration as ike_engine_new() will: proposals parse,
 * identities have a valid type and length, a PSK is set if either side
 * uses one, creds hold our certificate and key (local pubkey, with
 * local_id in the certificate) and trust anchors (remote pubkey),
 * selectors on both sides. 0, or IKE_ERR_INVAL with a message in err (NUL-terminated when
 * err_cap > 0).
 */
int ike_config_check(const struct ike_config *cfg, char *err, size_t err_cap);

/*
 * An engine without connections (add them with ike_engine_peer_add());
 * opts may be NULL (all defaults). NULL when memory runs out.
 */
struct ike_engine *ike_engine_create(const struct ike_engine_opts *opts);

/*
 * Add a connection (cfg copied; cfg may be freed afterwards); user comes
 * back in every event of its SAs. Returns its id (> 0), or IKE_ERR_INVAL
 * (ike_config_check() refuses cfg), IKE_ERR_NOSPACE (memory).
 *
 * Which connection an IKE SA runs under (strongSwan's two steps): a new
 * IKE_SA_INIT request goes to the connection whose local_addrs and
 * remote_addrs fit the datagram best (a host beats a subnet beats none,
 * the peer's address weighing more; ties: the lower rank, then the first
 * added); at IKE_AUTH
 * the final one is chosen among those whose addresses fit and whose IKE
 * proposals admit the suite already negotiated: remote_id must fit IDi
 * (exact beats "any"), remote_auth the AUTH method; the IDr the peer
 * names is a hint (it counts when it matches local_id, never against):
 * clients name the server's address or a name of their own there.
 */
int ike_engine_peer_add(struct ike_engine *e, const struct ike_config *cfg, void *user);

/* Set connection peer's rank (ike_config.rank): its place among equal
 * fits from now on. 0, or IKE_ERR_INVAL (no such connection). */
int ike_engine_peer_rank(struct ike_engine *e, uint32_t peer, unsigned rank);

/*
 * Remove a connection: its established IKE SAs are deleted (an
 * INFORMATIONAL Delete each, with events as ike_engine_delete_ike()),
 * half-open ones dropped; new IKE SAs no longer choose it. 0 or
 * IKE_ERR_INVAL (no such connection).
 */
int ike_engine_peer_remove(struct ike_engine *e, uint32_t peer, ike_time_t now);

/*
 * Answer the IKE_EV_NEED of IKE SA sa_id: the exchange goes on (the
 * IKE_AUTH response is sent, IKE_UP and CHILD_UP follow). 0, or
 * IKE_ERR_INVAL (no such SA waiting for this answer: it timed out, or was
 * answered already), IKE_ERR_CRYPTO (the SA could not go on; its IKE_DOWN
 * follows).
 */
int ike_engine_resume(struct ike_engine *e, uint32_t sa_id, const struct ike_answer *ans,
                      ike_time_t now);

/* Start an IKE SA of connection `peer`: as ike_engine_initiate(). */
int ike_engine_initiate_peer(struct ike_engine *e, uint32_t peer, const struct ike_path *path,
                             ike_time_t now);

/*
 * One engine with one connection, cfg (the engine-wide settings from cfg
 * too: rand, wall_time, cookie_threshold with 0 = never; no per-address
 * limits): what a site-to-site peer or a test needs. NULL if
 * ike_config_check() refuses cfg or memory runs out.
 */
struct ike_engine *ike_engine_new(const struct ike_config *cfg);

/* Wipe every key and free. Emits nothing. NULL is fine. */
void ike_engine_free(struct ike_engine *e);

/*
 * Start an IKE SA (and its first CHILD_SA) with the peer along path: queues
 * the IKE_SA_INIT request, for the engine's first connection (see
 * ike_engine_initiate_peer() for others). Returns the new IKE SA's id
 * (> 0), or IKE_ERR_TOO_MANY (no room for another IKE SA), IKE_ERR_INVAL
 * (bad path), IKE_ERR_CRYPTO (the key exchange could not start).
 */
int ike_engine_initiate(struct ike_engine *e, const struct ike_path *path, ike_time_t now);

/*
 * A packet from src to dst (host selectors, e.g. from esp_sel_parse() of
 * its addresses, or with protocol and ports) found no CHILD_SA (DESIGN.md:
 * the SAD miss). Starts an IKE SA if there is none (its IKE_AUTH proposes
 * the packet's selectors first, then the configured ones, §2.9), or a
 * CREATE_CHILD_SA on the established one (§1.3), unless a CHILD_SA or an
 * exchange under way already covers the packet. Returns the IKE SA's id
 * (> 0), or IKE_ERR_INVAL (src/dst outside the configured selectors, bad
 * path), IKE_ERR_TOO_MANY (no room for an IKE SA or CHILD_SA),
 * IKE_ERR_CRYPTO.
 */
int ike_engine_acquire(struct ike_engine *e, const struct ike_path *path, const struct esp_sel *src,
                       const struct esp_sel *dst, ike_time_t now);
/* The same for connection `peer` of an engine with several. */
int ike_engine_acquire_peer(struct ike_engine *e, uint32_t peer, const struct ike_path *path,
                            const struct esp_sel *src, const struct esp_sel *dst, ike_time_t now);

/*
 * Hand in one IKE datagram (without non-ESP marker) that arrived along
 * path. Returns 0 when processed (or deliberately ignored: duplicates,
 * retransmissions, unknown SPIs, which the stats count), else a negative
 * IKE_ERR_* saying why it was dropped: IKE_ERR_SHORT, _LENGTH, _SYNTAX,
 * _VERSION, _TOO_MANY, _UNSUPPORTED_CRITICAL (malformed; nothing changes),
 * IKE_ERR_AUTH (integrity check failed), IKE_ERR_INVAL (bad arguments).
 * Fatal codes (IKE_ERR_PEER_SYNTAX, IKE_ERR_CRYPTO) mean the IKE SA was
 * removed; its IKE_DOWN event is queued.
 *
 * Unprotected answers (§1.5): a request with a major version above 2 gets
 * INVALID_MAJOR_VERSION (header version 2.0, SPIs, exchange and Message
 * ID copied, R set) and returns IKE_ERR_VERSION; an encrypted request for
 * an IKE SA we do not have gets INVALID_IKE_SPI the same way and returns
 * 0. Both are rate-limited (IKE_ENGINE_UNPROT_*), never sent for a
 * response, and counted in the stats. A daemon with several engines
 * should hand a datagram no engine owns to at most one of them.
 */
int ike_engine_recv(struct ike_engine *e, const struct ike_path *path, const uint8_t *pkt,
                    size_t len, ike_time_t now);

/*
 * Next datagram to send: copies it to dst and its path to *path. Returns
 * its length, 0 when nothing is queued, IKE_ERR_NOSPACE when cap is too
 * small (the datagram stays queued).
 */
ssize_t ike_engine_poll_tx(struct ike_engine *e, struct ike_path *path, uint8_t *dst, size_t cap);

/*
 * Next event: 1 with *ev filled, 0 when none. CHILD_UP events carry keys:
 * wipe them with ike_event_wipe() once installed. Drain after every call
 * into the engine. The queue starts with room for IKE_ENGINE_EVENTS and
 * grows as one call needs (a peer's Delete of many SAs, INITIAL_CONTACT):
 * no event is ever dropped, unless memory runs out (then events_lost).
 *
 * Order, which a daemon may rely on:
 * - IKE_UP of an IKE SA comes before any CHILD_UP, CHILD_DOWN or
 *   CHILD_FAILED carrying its sa_id.
 * - When an IKE SA ends, for whatever reason (Delete either way, DPD,
 *   retransmission give-up, half-open timeout, INITIAL_CONTACT, a
 *   protocol error), a CHILD_DOWN for each of its CHILD_SAs comes first,
 *   then its IKE_DOWN; nothing carries its sa_id afterwards. By then the
 *   engine has wiped (sodium_memzero) every key of that SA.
 * - A rekeyed CHILD_SA: CHILD_UP of the new one (rekeyed_spi_in set),
 *   later CHILD_DOWN of the old one.
 * - A rekeyed IKE SA: IKE_UP of the new one (rekeyed_sa_id = the old
 *   one's id; the CHILD_SAs are the new one's from then on, without
 *   CHILD events), later IKE_DOWN of the old one with reason REKEYED.
 *   When both peers rekeyed at once (§2.8.2), only the surviving new IKE
 *   SA is reported; the redundant one never shows up in any event. A
 *   daemon following IKE_UP.rekeyed_sa_id therefore always ends with
 *   exactly one IKE SA owning all CHILD_SAs.
 */
/* RFC 7383 reassemblies at once (each up to IKE_FRAG_BUF, allocated only
 * while a fragmented message is arriving), and how long one may take. */
#define IKE_ENGINE_REASM_MAX     64 /* 4 MiB at most */
#define IKE_ENGINE_REASM_TIMEOUT (15 * IKE_SEC)

#define IKE_ENGINE_EVENTS     16
#define IKE_ENGINE_EVENTS_MAX (1u << 20) /* far beyond any one call */
int ike_engine_poll_event(struct ike_engine *e, struct ike_event *ev);

void ike_event_wipe(struct ike_event *ev);

/* The earliest deadline of any timer (retransmission, liveness check,
 * half-open SA), or IKE_TIME_NEVER. */
ike_time_t ike_engine_next_expiry(const struct ike_engine *e);

/*
 * Run every timer whose deadline is <= now: retransmit, give up (the IKE
 * SA goes, with an IKE_DOWN event), start a liveness check, drop half-open
 * SAs. Returns 0; IKE_ERR_CRYPTO if a message could not be sealed (that
 * SA was removed).
 */
int ike_engine_handle_expiry(struct ike_engine *e, ike_time_t now);

/*
 * The data plane saw authentic inbound ESP on this CHILD_SA (by our
 * spi_in): the peer is alive, so the liveness check waits (§2.4 only
 * needs one when nothing was heard). Call it at most once a second or so,
 * not per packet. 0, or IKE_ERR_INVAL if no CHILD_SA has that SPI.
 */
int ike_engine_child_activity(struct ike_engine *e, uint32_t spi_in, ike_time_t now);

/*
 * Close a CHILD_SA (by our spi_in) with an INFORMATIONAL Delete (§1.4.1);
 * CHILD_DOWN follows when the peer answered (or the IKE SA died). 0, or
 * IKE_ERR_INVAL (no such CHILD_SA).
 */
int ike_engine_delete_child(struct ike_engine *e, uint32_t spi_in, ike_time_t now);

/*
 * Close an IKE SA and its CHILD_SAs with an INFORMATIONAL Delete (§1.4.1);
 * IKE_DOWN (reason DELETED_LOCAL) follows when the peer answered or gave
 * up answering. A half-open SA is dropped at once. 0, or IKE_ERR_INVAL.
 */
int ike_engine_delete_ike(struct ike_engine *e, uint32_t sa_id, ike_time_t now);

/*
 * Rekey a CHILD_SA (by our spi_in) now (§2.8): CREATE_CHILD_SA with
 * REKEY_SA, a fresh nonce and, if the ESP proposals name a group, a new key
 * exchange. CHILD_UP with rekeyed_spi_in follows, then the old SA is
 * deleted (CHILD_DOWN). Simultaneous rekeys by both peers are resolved as
 * §2.8.1 says (the SA with the lowest nonce is deleted by its creator).
 * 0, or IKE_ERR_INVAL (no such CHILD_SA, or it is already being rekeyed
 * or deleted).
 */
int ike_engine_rekey_child(struct ike_engine *e, uint32_t spi_in, ike_time_t now);

void ike_engine_get_stats(const struct ike_engine *e, struct ike_engine_stats *out);

/*
 * Rekey an IKE SA now (§2.18): CREATE_CHILD_SA with a new SA payload, nonce
 * and key exchange; its CHILD_SAs move to the new IKE SA (IKE_UP with
 * rekeyed_sa_id), then the old one is deleted (IKE_DOWN, reason REKEYED).
 * If the peer rekeys the same IKE SA at the same time, both exchanges
 * complete and §2.8.2 decides: the new SA made with the lowest of the four
 * nonces is deleted by its initiator, the other one takes the CHILD_SAs
 * and its initiator deletes the old SA; only the survivor is reported.
 * 0, or IKE_ERR_INVAL (no such established IKE SA, or a rekey is under
 * way).
 *
 * Collisions (§2.25): the engine answers TEMPORARY_FAILURE to a request
 * to rekey the IKE SA while one of our CHILD_SA exchanges is out, to
 * create or rekey a CHILD_SA while our IKE SA rekey is out or the IKE SA
 * is being deleted or replaced, and to rekey a CHILD_SA we are closing or
 * have already rekeyed; CHILD_SA_NOT_FOUND to a rekey of a CHILD_SA it
 * does not have. Told TEMPORARY_FAILURE, it retries after 1 to 3 s, and
 * after IKE_ENGINE_TMPFAIL_MAX of nothing else deletes the IKE SA (its
 * IKE_DOWN then says IKE_REASON_PROTOCOL). Told CHILD_SA_NOT_FOUND, it
 * drops the CHILD_SA without a Delete (CHILD_DOWN, reason DELETED_PEER)
 * and creates a new one with the same selectors (CHILD_UP, rekeyed_spi_in
 * 0).
 */
#define IKE_ENGINE_TMPFAIL_MAX (300 * IKE_SEC)
/* A peer that rekeys its IKE SA (§2.18) must delete the old one; the old
 * one waits for that Delete (half_open_timeout) and costs memory meanwhile.
 * An identity holding this many replaced IKE SAs not yet deleted gets
 * TEMPORARY_FAILURE for its next IKE SA rekey, so that a peer rekeying in
 * a loop cannot pile them up. */
#define IKE_ENGINE_REKEYED_MAX 4

int ike_engine_rekey_ike(struct ike_engine *e, uint32_t sa_id, ike_time_t now);

/* Number of CHILD_SAs installed (up or being deleted), over all IKE SAs. */
size_t ike_engine_child_count(const struct ike_engine *e);

/* Number of IKE SAs in any state. */
size_t ike_engine_sa_count(const struct ike_engine *e);

/*
 * Does this datagram (IKE header first, no non-ESP marker) belong to one
 * of e's IKE SAs? By our SPI (§2.6: each side picks its own), or for an
 * IKE_SA_INIT request (responder SPI zero) by the initiator's SPI and
 * address of a half-open SA we answered. A daemon with several engines
 * hands a datagram to the engine that owns it, and a new IKE_SA_INIT
 * request to the connection its addresses select.
 */
bool ike_engine_owns(const struct ike_engine *e, const struct ike_path *path, const uint8_t *pkt,
                     size_t len);

/* One IKE SA, for status displays. */
struct ike_sa_info {
	uint32_t id;
	const char *state; /* "connecting", "established", "deleting", ... */
	bool established;
	bool initiator;
	bool behind_nat, peer_behind_nat;
	uint64_t spi_i, spi_r;
	struct ike_path path;
	struct ike_suite suite;
	struct ike_identity peer_id; /* type 0 until authenticated */
	size_t n_children;
	uint32_t peer; /* its connection */
	void *peer_user;
};

/* Up to cap IKE SAs into out; returns how many there are in all. */
size_t ike_engine_sa_list(const struct ike_engine *e, struct ike_sa_info *out, size_t cap);

const char *ike_reason_name(enum ike_reason r);

#endif
