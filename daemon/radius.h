/*
 * A RADIUS client (RFC 2865 access, RFC 2866 accounting, RFC 2869 / RFC 3579
 * EAP and Message-Authenticator, RFC 2548 MS-MPPE keys), sans-I/O in the
 * shape of the IKE engine (ike/engine.h): no sockets, no clock, no libuv.
 * Messages, datagrams and time come in; datagrams, one deadline and events
 * go out. Debian 12's radcli blocks and does not check
 * Message-Authenticator, hence this small client of our own.
 *
 *	c = radius_client_new(&cfg);
 *	radius_msg_init(&m, RADIUS_ACCESS_REQUEST);  radius_msg_add_*(&m, ...);
 *	h = radius_client_send(c, &m, user, now);
 *	loop:
 *		radius_client_recv(c, server, port, pkt, len, now);  per datagram
 *		if (radius_client_next_expiry(c) <= now)
 *			radius_client_handle_expiry(c, now);
 *		while ((n = radius_client_poll_tx(c, &dst, buf, cap)) > 0)
 *			send buf[0..n) to server dst.server's dst.port;
 *		while (radius_client_poll_event(c, &ev) == 1)
 *			act on ev; radius_event_wipe(&ev);
 *		re-arm the one timer at radius_client_next_expiry(c);
 *	radius_client_free(c);
 *
 * Time is a uint64_t in nanoseconds (CLOCK_MONOTONIC); RADIUS_TIME_NEVER
 * means no timer; a deadline fires when now >= deadline, never earlier.
 *
 * Blast-RADIUS (CVE-2024-3596): every request we send carries a
 * Message-Authenticator as its first attribute, and every Access-Accept,
 * -Reject and -Challenge must carry a valid one: one without it, or with a
 * wrong one, is dropped and counted, exactly as one with a wrong Response
 * Authenticator. The MD5 Response Authenticator alone can be forged by a
 * chosen-prefix collision; the HMAC-MD5 cannot.
 *
 * Errors: negative RADIUS_ERR_* codes; every function says which.
 */
#ifndef TUNSEC_DAEMON_RADIUS_H
#define TUNSEC_DAEMON_RADIUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint64_t radius_time_t;

#define RADIUS_TIME_NEVER UINT64_MAX
#define RADIUS_SEC        1000000000ULL
#define RADIUS_MSEC       1000000ULL

/* RFC 2865 §3: 20 to 4096 octets; an attribute's value 0 to 253. */
#define RADIUS_HDR_LEN     20
#define RADIUS_AUTH_LEN    16
#define RADIUS_PKT_MAX     4096
#define RADIUS_ATTR_MAX    253
#define RADIUS_PASSWORD_MAX 128 /* RFC 2865 §5.2 */
#define RADIUS_SECRET_MAX  128
#define RADIUS_EAP_MAX     (RADIUS_PKT_MAX - RADIUS_HDR_LEN)
#define RADIUS_MSK_LEN     64 /* Recv-Key | Send-Key, zero-padded (strongSwan) */
#define RADIUS_MAX_SERVERS 8

/* Defaults of zero radius_client_cfg fields: strongSwan's eap-radius
 * (retransmit_timeout = 2.0, retransmit_base = 1.4, retransmit_tries = 4),
 * ports of RFC 2865 / 2866. */
#define RADIUS_DEFAULT_TIMEOUT  (2 * RADIUS_SEC)
#define RADIUS_DEFAULT_BASE     1400 /* thousandths */
#define RADIUS_DEFAULT_TRIES    4
#define RADIUS_DEFAULT_MAX_RT   (16 * RADIUS_SEC) /* RFC 5080 §2.2.1 MRT */
#define RADIUS_DEFAULT_AUTH_PORT 1812
#define RADIUS_DEFAULT_ACCT_PORT 1813

/* Packet codes (RFC 2865 §3, RFC 2866 §3). */
enum {
	RADIUS_ACCESS_REQUEST = 1,
	RADIUS_ACCESS_ACCEPT = 2,
	RADIUS_ACCESS_REJECT = 3,
	RADIUS_ACCOUNTING_REQUEST = 4,
	RADIUS_ACCOUNTING_RESPONSE = 5,
	RADIUS_ACCESS_CHALLENGE = 11,
};

/* Attribute types (RFC 2865 §5, RFC 2866 §5, RFC 2869 §5). */
enum {
	RADIUS_A_USER_NAME = 1,
	RADIUS_A_USER_PASSWORD = 2,
	RADIUS_A_NAS_IP_ADDRESS = 4,
	RADIUS_A_NAS_PORT = 5,
	RADIUS_A_SERVICE_TYPE = 6,
	RADIUS_A_FRAMED_IP_ADDRESS = 8,
	RADIUS_A_REPLY_MESSAGE = 18,
	RADIUS_A_STATE = 24,
	RADIUS_A_CLASS = 25,
	RADIUS_A_VENDOR_SPECIFIC = 26,
	RADIUS_A_SESSION_TIMEOUT = 27,
	RADIUS_A_CALLED_STATION_ID = 30,
	RADIUS_A_CALLING_STATION_ID = 31,
	RADIUS_A_NAS_IDENTIFIER = 32,
	RADIUS_A_ACCT_STATUS_TYPE = 40,
	RADIUS_A_ACCT_DELAY_TIME = 41,
	RADIUS_A_ACCT_INPUT_OCTETS = 42,
	RADIUS_A_ACCT_OUTPUT_OCTETS = 43,
	RADIUS_A_ACCT_SESSION_ID = 44,
	RADIUS_A_ACCT_AUTHENTIC = 45,
	RADIUS_A_ACCT_SESSION_TIME = 46,
	RADIUS_A_ACCT_INPUT_PACKETS = 47,
	RADIUS_A_ACCT_OUTPUT_PACKETS = 48,
	RADIUS_A_ACCT_TERMINATE_CAUSE = 49,
	RADIUS_A_ACCT_INPUT_GIGAWORDS = 52,
	RADIUS_A_ACCT_OUTPUT_GIGAWORDS = 53,
	RADIUS_A_NAS_PORT_TYPE = 61,
	RADIUS_A_EAP_MESSAGE = 79,
	RADIUS_A_MESSAGE_AUTHENTICATOR = 80,
	RADIUS_A_NAS_PORT_ID = 87,
};

/* Values. */
enum {
	RADIUS_SERVICE_FRAMED = 2,       /* Service-Type, RFC 2865 §5.6 */
	RADIUS_NAS_PORT_VIRTUAL = 5,     /* NAS-Port-Type, RFC 2865 §5.41 */
	RADIUS_ACCT_START = 1,           /* Acct-Status-Type, RFC 2866 §5.1 */
	RADIUS_ACCT_STOP = 2,
	RADIUS_ACCT_INTERIM = 3,
	RADIUS_ACCT_AUTHENTIC_RADIUS = 1,
	RADIUS_TERM_USER_REQUEST = 1,    /* Acct-Terminate-Cause, §5.10 */
	RADIUS_TERM_IDLE_TIMEOUT = 4,
	RADIUS_TERM_SESSION_TIMEOUT = 5,
	RADIUS_TERM_ADMIN_RESET = 6,
	RADIUS_TERM_LOST_SERVICE = 3,
	RADIUS_TERM_NAS_REQUEST = 10,
	RADIUS_VENDOR_MICROSOFT = 311,   /* RFC 2548 */
	RADIUS_MS_MPPE_SEND_KEY = 16,    /* RFC 2548 §2.4.2 */
	RADIUS_MS_MPPE_RECV_KEY = 17,    /* RFC 2548 §2.4.3 */
};

/* Error codes: all negative. */
enum {
	RADIUS_ERR_INVAL = -1,      /* bad argument (length, code, empty list) */
	RADIUS_ERR_NOSPACE = -2,    /* the packet would pass 4096 octets / buffer too small */
	RADIUS_ERR_MALFORMED = -3,  /* header or attribute lengths do not add up */
	RADIUS_ERR_CODE = -4,       /* a code that does not answer the request */
	RADIUS_ERR_AUTH = -5,       /* Response Authenticator wrong */
	RADIUS_ERR_NO_MSGAUTH = -6, /* Access-* response without Message-Authenticator */
	RADIUS_ERR_MSGAUTH = -7,    /* Message-Authenticator wrong (or two, or short) */
	RADIUS_ERR_NOMEM = -8,
	RADIUS_ERR_BUSY = -9,       /* 256 requests in flight to the server already */
	RADIUS_ERR_NOTFOUND = -10,  /* no request of that handle / identifier */
};

/* Short name of an error code ("bad Message-Authenticator"). */
const char *radius_strerror(int err);

/* ---- the packet layer ---------------------------------------------------- */

/*
 * A message before it goes on the wire: its code and attributes, without
 * the identifier, the authenticator, the Message-Authenticator and the
 * User-Password (all of which depend on the server's secret or on the
 * transmission): radius_encode() adds them. This is what the client keeps
 * to re-encode a request for the next server on failover.
 */
struct radius_msg {
	uint8_t code;
	bool no_msgauth; /* tests and fake servers only: leave Message-Authenticator out */
	size_t attrs_len;
	size_t password_len;
	bool has_password;
	uint8_t password[RADIUS_PASSWORD_MAX];
	uint8_t attrs[RADIUS_PKT_MAX - RADIUS_HDR_LEN];
};

/* Room for attributes the encoder adds itself: Message-Authenticator
 * (18) and the largest User-Password (2 + 128). */
#define RADIUS_MSG_RESERVED (18 + 2 + RADIUS_PASSWORD_MAX)

void radius_msg_init(struct radius_msg *m, uint8_t code);
/* Wipes the password and the attributes (EAP-Messages, State). */
void radius_msg_wipe(struct radius_msg *m);

/*
 * Appends one attribute of len bytes (0..253). Message-Authenticator and
 * User-Password are refused here (the encoder adds them).
 * Errors: RADIUS_ERR_INVAL (len > 253, or one of those two types),
 * RADIUS_ERR_NOSPACE (the packet would exceed 4096 octets with what the
 * encoder adds).
 */
int radius_msg_add(struct radius_msg *m, uint8_t type, const void *val, size_t len);
/* The same for a NUL-terminated string and a 32-bit integer (network order). */
int radius_msg_add_str(struct radius_msg *m, uint8_t type, const char *s);
int radius_msg_add_u32(struct radius_msg *m, uint8_t type, uint32_t v);
/* A Vendor-Specific attribute (RFC 2865 §5.26) with one sub-attribute. */
int radius_msg_add_vsa(struct radius_msg *m, uint32_t vendor, uint8_t vtype, const void *val,
                       size_t len);
/*
 * An EAP packet as consecutive EAP-Message attributes of at most 253 octets
 * each (RFC 3579 §3.1). Errors: RADIUS_ERR_INVAL (len 0), RADIUS_ERR_NOSPACE.
 */
int radius_msg_add_eap(struct radius_msg *m, const uint8_t *eap, size_t len);
/*
 * Octet counters as RFC 2866 §5.3/§5.4 (low 32 bits) plus RFC 2869
 * §5.1/§5.2 Gigawords (the bits above), and packet counters (§5.8/§5.9,
 * saturated at 2^32-1). in = received from the client.
 */
int radius_msg_add_counters(struct radius_msg *m, uint64_t in_octets, uint64_t out_octets,
                            uint64_t in_packets, uint64_t out_packets);
/*
 * The User-Password, hidden by radius_encode() with the server's secret
 * (RFC 2865 §5.2). Access-Request only. Errors: RADIUS_ERR_INVAL (over 128).
 */
int radius_msg_set_password(struct radius_msg *m, const void *pw, size_t len);

/*
 * The datagram for m with identifier id, at most cap bytes into out.
 *
 * auth (16 bytes) is in and out by code:
 *  - Access-Request: in, the random Request Authenticator (RFC 2865 §3);
 *  - Accounting-Request: out, MD5(Code+ID+Length+16 zeros+Attributes+Secret)
 *    (RFC 2866 §3);
 *  - a response (Accept, Reject, Challenge, Accounting-Response): in, the
 *    Request Authenticator of the request it answers; the packet carries
 *    MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
 * Message-Authenticator (RFC 3579 §3.2) comes first of the attributes
 * unless m->no_msgauth: HMAC-MD5 keyed with the secret over the packet with
 * the field zeroed (and, for an Accounting-Request, the authenticator
 * zeroed, RFC 5080 §2.2.2; for a response, the Request Authenticator in
 * its place).
 * Returns the length, or RADIUS_ERR_INVAL (unknown code, password in a
 * packet other than Access-Request, secret empty or over 128),
 * RADIUS_ERR_NOSPACE.
 */
ssize_t radius_encode(uint8_t *out, size_t cap, const struct radius_msg *m, uint8_t id,
                      uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
                      size_t secret_len);

/* One attribute of a received packet: its value points into the packet. */
struct radius_attr {
	uint8_t type;
	uint8_t len; /* of the value */
	const uint8_t *val;
};

/*
 * The packet's length if its header and attributes are well formed: at
 * least 20 octets, a Length field of 20..4096 not beyond len (octets past
 * it are padding and ignored, RFC 2865 §3), attributes of length >= 2 that
 * end exactly at Length. Errors: RADIUS_ERR_MALFORMED.
 */
ssize_t radius_pkt_check(const uint8_t *pkt, size_t len);

/*
 * The next attribute of a checked packet (radius_pkt_check()'s length as
 * len) from *off (start at RADIUS_HDR_LEN). Returns 1 and advances *off, 0
 * at the end, RADIUS_ERR_MALFORMED if the attribute runs past len.
 */
int radius_attr_next(const uint8_t *pkt, size_t len, size_t *off, struct radius_attr *a);

/*
 * What an answer says, verified (radius_answer_parse()).
 */
struct radius_answer {
	uint8_t code;
	uint8_t id;
	bool has_session_timeout;
	bool has_framed_ip;
	uint32_t session_timeout;     /* seconds: reauthenticate after it */
	uint8_t framed_ip[4];         /* the client's virtual IP; not 255.255.255.254/255 */
	size_t eap_len;               /* EAP-Messages joined (0: none) */
	size_t state_len;
	size_t class_len;             /* the first Class (the client's group) */
	size_t reply_len;             /* the first Reply-Message */
	size_t msk_len;               /* 0 or RADIUS_MSK_LEN */
	uint8_t state[RADIUS_ATTR_MAX];
	uint8_t class_[RADIUS_ATTR_MAX];
	char reply_message[RADIUS_ATTR_MAX + 1];
	uint8_t msk[RADIUS_MSK_LEN];
	uint8_t eap[RADIUS_EAP_MAX];
};

/*
 * Verifies the response pkt[0..len) to a request of code req_code sent with
 * authenticator req_auth, then parses it into *a (written only when every
 * check passed: verify, then commit).
 *
 * Checks, in this order: lengths (radius_pkt_check()); the code answers
 * req_code (Accept/Reject/Challenge an Access-Request,
 * Accounting-Response an Accounting-Request); the Response Authenticator
 * (RFC 2865 §3); the Message-Authenticator, required for Access-*,
 * verified when present in an Accounting-Response (one, 16 octets,
 * HMAC-MD5 as RFC 3579 §3.2); both compared in constant time. So
 * RADIUS_ERR_NO_MSGAUTH / _MSGAUTH mean an answer whose MD5 held but whose
 * HMAC did not: what a Blast-RADIUS forgery looks like. EAP-Messages consecutive
 * (RFC 3579 §3.1) and their join exactly one EAP packet by its own Length;
 * MS-MPPE keys (Access-Accept only) decrypted.
 *
 * A Framed-IP-Address, Session-Timeout or MS-MPPE key of the wrong length is
 * ignored as an invalid attribute (RFC 6929 §2.8), as is a key pair of
 * which one half is missing (no MSK then).
 *
 * Errors: RADIUS_ERR_MALFORMED, RADIUS_ERR_CODE, RADIUS_ERR_NO_MSGAUTH,
 * RADIUS_ERR_MSGAUTH, RADIUS_ERR_AUTH, RADIUS_ERR_INVAL (secret).
 */
int radius_answer_parse(struct radius_answer *a, const uint8_t *pkt, size_t len, uint8_t req_code,
                        const uint8_t req_auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
                        size_t secret_len);
void radius_answer_wipe(struct radius_answer *a);

/*
 * RFC 2548 §2.4.2: the value of an MS-MPPE-Send/Recv-Key sub-attribute
 * (salt, then the encrypted string) for a key of key_len bytes (<= 255),
 * in the answer to a request of authenticator req_auth. salt: its high bit
 * is set here. Returns the value's length (2 + the string padded to 16
 * with its length byte) or RADIUS_ERR_INVAL / RADIUS_ERR_NOSPACE.
 * (The server's side: for tests and fake servers.)
 */
ssize_t radius_mppe_encrypt(uint8_t *out, size_t cap, const uint8_t *key, size_t key_len,
                            uint16_t salt, const uint8_t req_auth[static RADIUS_AUTH_LEN],
                            const uint8_t *secret, size_t secret_len);
/*
 * The inverse: the key from the value val[0..len) into out (cap bytes).
 * Returns the key's length, or RADIUS_ERR_MALFORMED (length not 2 + a
 * multiple of 16, salt without its high bit, key length past the data),
 * RADIUS_ERR_NOSPACE.
 */
ssize_t radius_mppe_decrypt(uint8_t *out, size_t cap, const uint8_t *val, size_t len,
                            const uint8_t req_auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
                            size_t secret_len);

/* The hidden User-Password value (RFC 2865 §5.2) for pw[0..len) (len <=
 * 128) into out (cap >= 128); returns its length (a multiple of 16, at
 * least 16), or RADIUS_ERR_INVAL / RADIUS_ERR_NOSPACE. */
ssize_t radius_password_hide(uint8_t *out, size_t cap, const uint8_t *pw, size_t len,
                             const uint8_t req_auth[static RADIUS_AUTH_LEN],
                             const uint8_t *secret, size_t secret_len);

/* ---- the client ---------------------------------------------------------- */

/* Every count the client keeps, named once (X-macro): the struct, the
 * names and any future `tunsec stats` output come from this list. */
#define RADIUS_COUNTERS(X)                                                                         \
	X(requests, "requests")                                                                    \
	X(retransmits, "retransmits")                                                              \
	X(failovers, "failovers")                                                                  \
	X(timeouts, "timeouts")                                                                    \
	X(answers, "answers")                                                                      \
	X(drop_malformed, "drop-malformed")                                                        \
	X(drop_unknown_id, "drop-unknown-id")                                                      \
	X(drop_code, "drop-bad-code")                                                              \
	X(drop_authenticator, "drop-bad-authenticator")                                            \
	X(drop_no_msgauth, "drop-no-message-authenticator")                                        \
	X(drop_msgauth, "drop-bad-message-authenticator")

struct radius_counters {
#define RADIUS_X_FIELD(f, s) uint64_t f;
	RADIUS_COUNTERS(RADIUS_X_FIELD)
#undef RADIUS_X_FIELD
};

/* Which of a server's two ports (RFC 2865 auth, RFC 2866 accounting). */
enum { RADIUS_PORT_AUTH = 0, RADIUS_PORT_ACCT = 1 };

struct radius_server_cfg {
	char address[64]; /* for the caller (the daemon resolves it); not read here */
	uint16_t auth_port; /* 0: 1812 */
	uint16_t acct_port; /* 0: 1813 */
	size_t secret_len;
	uint8_t secret[RADIUS_SECRET_MAX];
};

typedef void (*radius_rand_fn)(void *ctx, void *buf, size_t len);

struct radius_client_cfg {
	size_t n_servers; /* 1..RADIUS_MAX_SERVERS, in order of preference */
	struct radius_server_cfg servers[RADIUS_MAX_SERVERS];
	/* Retransmission (RFC 5080 §2.2.1): the k-th try (from 0) waits
	 * min(timeout * base^k, max_timeout); after tries, the next server. */
	radius_time_t timeout;     /* 0: 2 s */
	radius_time_t max_timeout; /* 0: 16 s */
	uint32_t base;             /* thousandths; 0: 1.4; below 1000: 1000 */
	unsigned tries;            /* 0: 4 */
	radius_rand_fn rand;       /* Request Authenticators (RFC 2865 §3) */
	void *rand_ctx;
};

enum {
	RADIUS_EV_ANSWER = 1,  /* a verified answer: ev.answer */
	RADIUS_EV_TIMEOUT = 2, /* no server answered after all tries */
};

/*
 * Events, in the order things happened. Each request ends in exactly one
 * event (ANSWER or TIMEOUT), unless cancelled first; nothing carries its
 * handle afterwards.
 */
struct radius_event {
	int type;
	uint64_t handle;       /* radius_client_send()'s */
	void *user;            /* radius_client_send()'s */
	size_t server;         /* the one that answered, or the last one tried */
	struct radius_answer *answer; /* ANSWER: owned by the event, freed by wipe */
};
void radius_event_wipe(struct radius_event *ev);

struct radius_client;

/* Where poll_tx's datagram goes: servers[server], auth or acct port. */
struct radius_dest {
	size_t server;
	int port; /* RADIUS_PORT_AUTH / RADIUS_PORT_ACCT */
	uint16_t port_number;
};

/* A client, or NULL (no server, more than RADIUS_MAX_SERVERS, a secret
 * empty or too long, no rand, no memory). */
struct radius_client *radius_client_new(const struct radius_client_cfg *cfg);
/* Frees the client and its requests (no events), wiping secrets. */
void radius_client_free(struct radius_client *c);

/*
 * Queues m (an Access-Request or Accounting-Request; copied, the caller
 * may wipe it at once) to the preferred server: the first one, or the one
 * the last failover moved to. Returns a handle (> 0) for the request's
 * event and radius_client_cancel(), or RADIUS_ERR_INVAL (code),
 * RADIUS_ERR_NOSPACE, RADIUS_ERR_BUSY, RADIUS_ERR_NOMEM.
 */
int64_t radius_client_send(struct radius_client *c, const struct radius_msg *m, void *user,
                           radius_time_t now);

/*
 * A datagram that came from servers[server]'s port (RADIUS_PORT_*):
 * matched to the request in flight there by identifier, verified with that
 * request's authenticator and the server's secret (radius_answer_parse()),
 * and on success queued as an ANSWER event. Anything else is dropped and
 * counted, and the request keeps waiting (a forged answer must not end
 * it). Returns 0, or the drop's reason: RADIUS_ERR_NOTFOUND (no request of
 * that identifier), or radius_answer_parse()'s codes; RADIUS_ERR_INVAL for
 * a server or port out of range.
 */
int radius_client_recv(struct radius_client *c, size_t server, int port, const uint8_t *pkt,
                       size_t len, radius_time_t now);

/* Forgets a request: no event, its identifier free. RADIUS_ERR_NOTFOUND. */
int radius_client_cancel(struct radius_client *c, uint64_t handle);

/* The next datagram to send (1 per transmission or retransmission) into
 * dst[0..cap): its length, 0 when none, RADIUS_ERR_NOSPACE (cap < 4096
 * may not fit; the datagram stays queued). */
ssize_t radius_client_poll_tx(struct radius_client *c, struct radius_dest *dst, uint8_t *buf,
                              size_t cap);
/* 1 and *ev, or 0 when none is queued. */
int radius_client_poll_event(struct radius_client *c, struct radius_event *ev);
radius_time_t radius_client_next_expiry(const struct radius_client *c);
/* Retransmits what timed out, fails over to the next server after the
 * tries, times out a request after the last server. */
void radius_client_handle_expiry(struct radius_client *c, radius_time_t now);
const struct radius_counters *radius_client_counters(const struct radius_client *c);
/* Requests in flight (tests). */
size_t radius_client_pending(const struct radius_client *c);

#endif
