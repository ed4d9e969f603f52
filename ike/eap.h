/*
 * EAP (RFC 3748) as IKEv2 carries it (RFC 7296 §2.16): the packet format
 * (§4, §5), and the two ends of a conversation around one method, sans
 * I/O, driven one round at a time.
 *
 * In IKEv2 the server (the IKE responder) sends each EAP Request in an
 * IKE_AUTH response and the client answers each in the next IKE_AUTH
 * request; the IKE exchange is reliable and ordered, so there are no EAP
 * retransmissions or duplicates here (RFC 3748 §4.1's timers are IKE's).
 * A packet that is malformed or out of turn therefore comes from a broken
 * or hostile peer that already holds the IKE SA's keys: it ends the
 * conversation (an EAP-Failure from the server, a failed client) instead
 * of being dropped as §4.1 says for a lossy link, where the authenticator
 * would resend its Request.
 *
 *	server                                  client (peer)
 *	eap_server_start()  -- Request/Identity -->  eap_peer_process()
 *	eap_server_process() <-- Response/Identity --
 *	                     -- Request/method ...
 *	                     <-- Response/method ...
 *	                     -- Success -->          EAP_SUCCESS
 *	eap_server_msk()                        eap_peer_msk()
 *
 * Nothing here allocates; every packet is built into the caller's buffer.
 * Errors are the IKE_ERR_* codes of ike/wire.h.
 */
#ifndef TUNSEC_IKE_EAP_H
#define TUNSEC_IKE_EAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* §4: Code */
enum {
	EAP_CODE_REQUEST = 1,
	EAP_CODE_RESPONSE = 2,
	EAP_CODE_SUCCESS = 3,
	EAP_CODE_FAILURE = 4,
};

/* §5 and the IANA registry: the Types we name */
enum {
	EAP_TYPE_IDENTITY = 1,
	EAP_TYPE_NOTIFICATION = 2,
	EAP_TYPE_NAK = 3, /* legacy Nak, §5.3.1: Responses only */
	EAP_TYPE_MD5 = 4,
	EAP_TYPE_TLS = 13,      /* RFC 5216 */
	EAP_TYPE_MSCHAPV2 = 26, /* draft-kamath-pppext-eap-mschapv2-02 */
	EAP_TYPE_EXPANDED = 254, /* §5.7 */
};

#define EAP_HDR_LEN 4 /* Code, Identifier, Length */
/* Request and Response carry a Type octet after the header (§4.1). */
#define EAP_MIN_REQ_LEN 5
/* §5.7: Type 254, Vendor-Id (3), Vendor-Type (4) */
#define EAP_EXPANDED_HDR 7
/* The MSK is at least 64 bytes (§7.10); every method here derives 64. */
#define EAP_MSK_MAX 64
/* The longest identity kept (EAP-Identity or the IKE identity standing in
 * for an empty one); longer ones fail the conversation. */
#define EAP_IDENTITY_MAX 256
/* How many methods one end offers (eap-dynamic: a preference list). */
#define EAP_METHODS_MAX 4

/* One parsed packet; data borrows from the buffer given to eap_parse(). */
struct eap_pkt {
	uint8_t code;     /* EAP_CODE_* */
	uint8_t id;       /* Identifier */
	uint16_t len;     /* the Length field: bytes this packet takes */
	uint8_t type;     /* EAP_TYPE_*; 0 for Success and Failure */
	const uint8_t *data; /* Type-Data (after the Type octet) */
	size_t data_len;
};

/*
 * Parse one EAP packet at the start of buf (§4). Returns the bytes it
 * takes (its Length field; bytes after it are link padding, §4.1, which
 * the caller may refuse: IKE's EAP payload already requires Length to
 * equal the payload, RFC 7296 §3.16), or
 *   IKE_ERR_SHORT   len < 4, or Length > len
 *   IKE_ERR_LENGTH  Length < 4; a Request or Response without a Type;
 *                   Success or Failure with anything after the header
 *                   (§4.2: Length is 4); an Expanded Type shorter than its
 *                   header (§5.7); a Nak listing no Type (§5.3.1); a
 *                   Notification Request with no message or a Response
 *                   with one (§5.2)
 *   IKE_ERR_SYNTAX  a Code other than 1..4 (§4: silently discarded); a
 *                   Nak in a Request (§5.3.1); Type 0 (unassigned)
 * On error *out is zeroed.
 */
int eap_parse(const uint8_t *buf, size_t len, struct eap_pkt *out);

/*
 * Build a Request or Response of type with data_len bytes of Type-Data
 * into out (which may not overlap data). Returns the length, or
 * IKE_ERR_NOSPACE (cap too small), IKE_ERR_INVAL (another code, or
 * Length would exceed 65535).
 */
int eap_build(uint8_t *out, size_t cap, uint8_t code, uint8_t id, uint8_t type,
              const uint8_t *data, size_t data_len);

/* Success (success true) or Failure, 4 bytes (§4.2). Returns 4 or
 * IKE_ERR_NOSPACE. */
int eap_build_result(uint8_t *out, size_t cap, bool success, uint8_t id);

/* Whether a parsed Nak (§5.3.1) lists type as acceptable. */
bool eap_nak_lists(const struct eap_pkt *nak, uint8_t type);

/* ---- methods ------------------------------------------------------------ */

/* What a method and the two drivers below return (negative: IKE_ERR_*). */
enum {
	/* Send what was written to out and wait for the next packet. */
	EAP_SEND = 1,
	/* Done, authenticated. A server method has written nothing: the
	 * server sends EAP-Success. A peer method is satisfied that the
	 * server is genuine (mutual methods: it verified the server's
	 * proof) and may have written a last Response to send. */
	EAP_SUCCESS = 2,
	/* Done, not authenticated. A server method has written nothing: the
	 * server sends EAP-Failure. A peer method may have written a last
	 * Response (MSCHAPv2's Failure Response); only EAP-Failure follows. */
	EAP_FAILURE = 3,
};

/*
 * A method, in either role, with the state it keeps in st. The drivers
 * below own the EAP header (Code, Identifier, Length, Type): a method
 * reads and writes Type-Data only.
 *
 * process: in is a packet of the method's type (a Response at the server,
 *   a Request at the peer) or NULL for the server's first Request. Writes
 *   the Type-Data of the next packet to out (at most cap bytes, its length
 *   in *out_len) and returns EAP_SEND, EAP_SUCCESS or EAP_FAILURE (see
 *   there); or a negative IKE_ERR_* when in is malformed or out of turn
 *   (the conversation fails), IKE_ERR_NOSPACE when cap is too small.
 * msk: the Master Session Key (§7.10) into msk; its length (> 0) once the
 *   method succeeded, else IKE_ERR_INVAL (not done, failed, or a method
 *   that derives none: RFC 7296 §2.16 then uses SK_pi / SK_pr).
 */
struct eap_method_ops {
	uint8_t type; /* EAP_TYPE_* */
	const char *name;
	int (*process)(void *st, const struct eap_pkt *in, uint8_t *out, size_t cap,
	               size_t *out_len);
	int (*msk)(void *st, uint8_t msk[EAP_MSK_MAX]);
};

struct eap_method {
	const struct eap_method_ops *ops;
	void *st;
};

/* ---- the server (authenticator) ------------------------------------------ */

enum eap_server_state {
	EAP_SRV_IDLE,     /* initialised, nothing sent */
	EAP_SRV_IDENTITY, /* Request/Identity sent */
	EAP_SRV_METHOD,   /* a method's Request sent */
	EAP_SRV_DONE,     /* Success or Failure sent */
};

struct eap_server {
	struct eap_method methods[EAP_METHODS_MAX]; /* in our order of preference */
	size_t n_methods;
	size_t cur;            /* the method running (EAP_SRV_METHOD, _DONE) */
	uint8_t tried;         /* bit i: methods[i] was offered */
	bool answered;         /* the peer answered methods[cur] once: no Nak now */
	bool ask_identity;
	enum eap_server_state state;
	uint8_t id;            /* Identifier of our outstanding Request */
	int result;            /* EAP_SUCCESS / EAP_FAILURE once DONE */
	int why;               /* a failure's reason (IKE_ERR_*), for the log */
	uint8_t identity[EAP_IDENTITY_MAX];
	size_t identity_len;
};

/*
 * Set up a server offering methods (n of them, the first preferred; the
 * peer's Nak picks another, §5.3.1). ask_identity: begin with
 * Request/Identity (§5.1; strongSwan's eap_id = %any); an empty answer
 * (Android sends one) and ask_identity false both leave the identity as
 * ike_id, the peer's IKE identity. first_id: the first Identifier (any
 * value; random is what §4.1 suggests). 0, or IKE_ERR_INVAL (no methods,
 * more than EAP_METHODS_MAX, a method without process, ike_id longer
 * than EAP_IDENTITY_MAX).
 */
int eap_server_init(struct eap_server *s, const struct eap_method *methods, size_t n,
                    bool ask_identity, const uint8_t *ike_id, size_t ike_id_len,
                    uint8_t first_id);

/* The first Request into out (its length in *out_len): EAP_SEND, or
 * EAP_FAILURE (the method could not start; out holds EAP-Failure),
 * IKE_ERR_INVAL (already started), IKE_ERR_NOSPACE. */
int eap_server_start(struct eap_server *s, uint8_t *out, size_t cap, size_t *out_len);

/*
 * The peer's packet (the EAP payload of its IKE_AUTH request) in; the
 * next packet to send out:
 *   EAP_SEND      out holds the next Request
 *   EAP_SUCCESS   out holds EAP-Success; eap_server_msk() has the key and
 *                 eap_server_identity() who authenticated
 *   EAP_FAILURE   out holds EAP-Failure (why in s->why)
 * or IKE_ERR_INVAL (not waiting for a Response), IKE_ERR_NOSPACE (cap;
 * nothing changed: call again with room). A malformed packet, a
 * Response that is not ours (Identifier, Type), a Nak for no method we
 * have: EAP_FAILURE.
 */
int eap_server_process(struct eap_server *s, const uint8_t *in, size_t in_len, uint8_t *out,
                       size_t cap, size_t *out_len);

/* The MSK after EAP_SUCCESS: its length, or IKE_ERR_INVAL (not done, or
 * the method derives none). */
int eap_server_msk(const struct eap_server *s, uint8_t msk[EAP_MSK_MAX]);

/* The peer's EAP identity (never empty unless the IKE identity was). */
const uint8_t *eap_server_identity(const struct eap_server *s, size_t *len);

/* The method that ran, or NULL before one started. */
const struct eap_method *eap_server_method(const struct eap_server *s);

/* ---- the peer (client) ---------------------------------------------------- */

enum eap_peer_state {
	EAP_PEER_IDLE,     /* no method Request yet */
	EAP_PEER_METHOD,   /* methods[cur] running */
	EAP_PEER_SATISFIED, /* methods[cur] returned EAP_SUCCESS: Success may come */
	EAP_PEER_FAILING,  /* methods[cur] failed: only Failure may come */
	EAP_PEER_DONE,
};

struct eap_peer {
	struct eap_method methods[EAP_METHODS_MAX];
	size_t n_methods;
	size_t cur;
	enum eap_peer_state state;
	int result; /* EAP_SUCCESS / EAP_FAILURE once DONE */
	int why;
	uint8_t identity[EAP_IDENTITY_MAX];
	size_t identity_len;
};

/* Set up a peer that answers Request/Identity with identity (may be
 * empty) and runs one of methods (a Request for another type is Nak'ed
 * with these). 0, or IKE_ERR_INVAL (as eap_server_init()). */
int eap_peer_init(struct eap_peer *p, const struct eap_method *methods, size_t n,
                  const uint8_t *identity, size_t identity_len);

/*
 * The server's packet in (the EAP payload of an IKE_AUTH response):
 *   EAP_SEND      out holds the Response to send
 *   EAP_SUCCESS   EAP-Success accepted: the method finished and, being
 *                 mutual, verified the server; eap_peer_msk() has the key
 *   EAP_FAILURE   EAP-Failure, a method failure, or an EAP-Success before
 *                 the method was satisfied (anyone on the path of an
 *                 unprotected EAP can send a Success, and inside IKE a
 *                 server that skipped the method has proven nothing:
 *                 strongSwan's CVE-2021-45079); nothing to send
 * or IKE_ERR_INVAL (the conversation is over), IKE_ERR_NOSPACE.
 */
int eap_peer_process(struct eap_peer *p, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t cap, size_t *out_len);

/* The MSK after EAP_SUCCESS: its length, or IKE_ERR_INVAL. */
int eap_peer_msk(const struct eap_peer *p, uint8_t msk[EAP_MSK_MAX]);

#endif
