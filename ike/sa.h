/*
 * IKE SA state (RFC 7296) for ike/engine.c: states, keys, message IDs with
 * the window of one (§2.3), our outstanding request and its retransmission
 * schedule (§2.1), the cached response for a retransmitted request (§2.1),
 * and NAT detection hashes (§2.23). Internal to ike/: the public API is
 * ike/engine.h.
 *
 * iked's lesson: retransmission and response caching are one small module,
 * independent of what the messages say. Nothing here does I/O or reads a
 * clock: deadlines are computed from the `now` the caller passes.
 */
#ifndef TUNSEC_IKE_SA_H
#define TUNSEC_IKE_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ke.h"
#include "ike/child.h"
#include "ike/engine.h"
#include "ike/keys.h"
#include "ike/msg.h"
#include "ike/proposal.h"
#include "ike/satab.h"

#define IKE_NONCE_LEN 32
#define IKE_SA_COOKIE_MAX                                                                          \
	64 /* §2.6: 1..64 bytes */ /* ours: §2.10 wants >= half the prf key, >= 16 */

/*
 * One message as it goes on the wire: a single datagram, or the RFC 7383
 * fragments it was split into, back to back. A retransmission repeats
 * them all, byte for byte (§2.1, RFC 7383 §2.6).
 */
/* RFC 7383 fragments of one message we send: up to 64 (what we accept,
 * IKE_FRAG_MAX), so a small fragment_len still carries a certificate
 * chain; the train buffer holds 64 fragments of the minimum 128 bytes. */
#define IKE_SA_MAX_FRAGS 64
#define IKE_SA_TRAIN_MAX (2 * IKE_ENGINE_MSG_MAX)

struct ike_train {
	size_t n;
	size_t len[IKE_SA_MAX_FRAGS];
	size_t total;
	uint8_t buf[IKE_SA_TRAIN_MAX];
};

/* A train of the one datagram msg[0..len); IKE_ERR_NOSPACE if too big. */
int ike_train_one(struct ike_train *t, const uint8_t *msg, size_t len);

/* A train as an SA keeps it (our request until answered, our last
 * response): one allocation of its exact size, not struct ike_train's
 * 8.5 KiB. len[] gives each datagram's length, buf their bytes. */
struct ike_stored {
	size_t n;
	uint16_t len[IKE_SA_MAX_FRAGS];
	uint8_t *buf; /* points just past the struct */
};

/* A stored copy of t (malloc'd), or NULL when memory is out. */
struct ike_stored *ike_stored_new(const struct ike_train *t);

/*
 * The handshake's state (IKE_SA_INIT and IKE_AUTH, §1.2): allocated with
 * the SA, freed (wiped) once it is up, so that an established SA keeps
 * its keys and not 10 KiB of messages, nonces and key exchange.
 */
struct ike_hs {
	struct ke ke;
	unsigned ke_retries;               /* INVALID_KE_PAYLOAD rounds so far */
	uint8_t cookie[IKE_SA_COOKIE_MAX]; /* §2.6: the responder's COOKIE */
	size_t cookie_len;
	unsigned cookie_rounds;
	uint8_t ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t ni_len, nr_len;
	/* RealMessage1/2 for AUTH (§2.15) */
	uint8_t init_req[IKE_ENGINE_MSG_MAX], init_resp[IKE_ENGINE_MSG_MAX];
	size_t init_req_len, init_resp_len;
	/* the first CHILD_SA, proposed in IKE_AUTH (initiator) */
	struct ike_child pending;
	/* EAP (§2.16), either role: the phase, whether the daemon's answer
	 * is awaited, and the MSK the method made (the AUTH key after it) */
	uint8_t eap_phase;
	bool eap_waiting;
	uint8_t msk[IKE_EAP_MSK_MAX];
	size_t msk_len;
	/* RFC 4739: initiator, the server announced MULTIPLE_AUTH_SUPPORTED;
	 * either role, the second authentication round runs; responder, the
	 * identity the peer's first round proved */
	bool multi_auth;
	bool round2;
	struct ike_identity id1;
};

/* struct ike_hs.eap_phase */
enum {
	IKE_EAP_NONE = 0,
	IKE_EAP_STARTED,   /* initiator: IKE_AUTH without AUTH sent */
	IKE_EAP_ROUNDS,    /* EAP messages going back and forth */
	IKE_EAP_AUTH_SENT, /* initiator: the AUTH made with the MSK sent */
	IKE_EAP_SUCCEEDED, /* responder: EAP-Success sent, the MSK AUTH awaited */
	IKE_EAP_NEXT_ROUND, /* responder: round one done, round two's IDi awaited */
};

/* A zeroed handshake state for sa (NULL: out of memory); free (wipe) it
 * with ike_sa_hs_done(). */
struct ike_hs *ike_sa_hs_new(struct ike_sa *sa);
void ike_sa_hs_done(struct ike_sa *sa);

enum ike_sa_state {
	IKE_SA_FREE = 0,
	IKE_SA_INIT_SENT,     /* initiator: IKE_SA_INIT request out */
	IKE_SA_AUTH_SENT,     /* initiator: IKE_AUTH request out */
	IKE_SA_INIT_ANSWERED, /* responder: waiting for IKE_AUTH */
	/* responder: IKE_AUTH verified, waiting for an outside answer
	 * (IKE_EV_NEED, ike_engine_resume()); sa->pause holds the rest */
	IKE_SA_AUTH_WAIT,
	/* either role: IKE_AUTH carries EAP rounds (§2.16); hs->eap_phase
	 * says where, sa->pause (responder) holds the request's rest */
	IKE_SA_EAP,
	IKE_SA_ESTABLISHED,
	IKE_SA_DELETING, /* our Delete of the IKE SA is out */
	IKE_SA_REKEYED,  /* replaced by a rekey (§2.18), awaiting its Delete */
	/* §2.8.2: made by the peer's rekey of an IKE SA while ours of the
	 * same SA was out. Keys installed, no CHILD_SAs, nothing reported:
	 * which of the two new SAs survives is decided once our own rekey
	 * is answered (rekey_of != 0), or it lost and awaits the peer's
	 * Delete (rekey_of == 0, half-open deadline). */
	IKE_SA_COLLIDED,
};

/* What our outstanding request is, for the response and for give-up. */
enum ike_req_kind {
	IKE_REQ_NONE = 0,
	IKE_REQ_INIT,
	IKE_REQ_AUTH,
	IKE_REQ_DPD,
	IKE_REQ_DELETE_CHILD,
	IKE_REQ_DELETE_IKE,
	IKE_REQ_NOTIFY, /* one-shot error notify: no answer awaited */
	IKE_REQ_CREATE_CHILD,
	IKE_REQ_REKEY_IKE,
};

/* Our CREATE_CHILD_SA exchange rekeying the IKE SA (§1.3.2, §2.18). */
struct ike_ike_req {
	bool active;
	uint64_t spi; /* our SPI in the new IKE SA */
	uint8_t ni[IKE_NONCE_MAX];
	size_t ni_len;
	struct ke ke;
	uint16_t ke_group;
	unsigned ke_retries;
	/* §2.8.2: the peer rekeyed this IKE SA meanwhile: the id of the
	 * IKE_SA_COLLIDED SA its exchange made, and the lower of the nonces
	 * of that exchange */
	uint32_t peer_sa;
	uint8_t peer_min[IKE_NONCE_MAX];
	size_t peer_min_len;
};

/* Our CREATE_CHILD_SA exchange for a CHILD_SA (§1.3, §2.8). */
struct ike_child_req {
	bool active;
	struct ike_child c;  /* the new SA: spi_in, proposed selectors */
	uint32_t old_spi_in; /* REKEY_SA: the SA it replaces */
	uint8_t ni[IKE_NONCE_MAX];
	size_t ni_len;
	struct ke ke;      /* PFS */
	uint16_t ke_group; /* KE_NONE: no PFS */
	unsigned ke_retries;
	/* §2.8.1: the peer rekeyed the same SA meanwhile; the lower of the
	 * nonces of its exchange */
	bool collided;
	uint8_t peer_min[IKE_NONCE_MAX];
	size_t peer_min_len;
};

struct ike_peer; /* engine.c: one configured connection */

struct ike_sa {
	enum ike_sa_state state;
	uint32_t id;
	/* The connection this SA runs under: at IKE_SA_INIT the candidate its
	 * addresses chose, from IKE_AUTH on the one the IDs chose. */
	struct ike_peer *peer;
	/* satab.c's indexes (the engine's tables; see satab.h) */
	uint64_t key_spi; /* ours: spi_i if we initiated, else spi_r */
	struct hlink l_spi, l_id, l_ho, l_ident;
	bool in_ho, in_ident, in_tab;
	struct satab_src *half_open; /* counted half-open from there */
	struct ike_sa *all_prev, *all_next;
	size_t heap_i;  /* SIZE_MAX: not in the heap */
	ike_time_t due; /* earliest timer (IKE_TIME_NEVER: none) */
	bool dirty;     /* touched by this call: reschedule at its end */
	struct ike_sa *dirty_next;
	bool initiator;
	bool up; /* IKE_UP was reported */
	uint64_t spi_i, spi_r;
	struct ike_path path; /* where our requests go */
	bool nat_local, nat_remote;
	bool peer_frag; /* the peer sent IKEV2_FRAGMENTATION_SUPPORTED */
	/* RFC 7383 §2.6: the fragments of the peer's message being
	 * reassembled, this SA's own (allocated at the first fragment, freed
	 * when complete, at frag_deadline, or with the SA). */
	struct ike_frag_reasm *frag;
	ike_time_t frag_deadline;
	struct ike_identity peer_id; /* as authenticated in IKE_AUTH */
	/* certificate authentication: what the peer said in IKE_SA_INIT */
	unsigned peer_hashes; /* RFC 7427 §4: bit (1 << IKE_HASH_*) */
	bool certreq_seen;    /* a CERTREQ came (strongSwan's COND_CERTREQ_SEEN) */
	/* the peer's SAs (ike_peer.sas) */
	struct ike_sa *peer_prev, *peer_next;
	struct ike_sa *grave_next;
	struct auth_pending *pause; /* IKE_SA_AUTH_WAIT (engine.c) */
	bool told; /* an IKE_EV_NEED named it: its end is reported too */
	/* §2.19: the virtual IPs assigned to the peer (responder), which
	 * its CHILD_SAs are narrowed to */
	uint8_t n_vip;
	struct ike_addr vip[IKE_CP_MAX_ADDRS];

	/* IKE_SA_INIT */
	struct ike_suite suite;
	uint16_t ke_group;
	/* what IKE_SA_INIT and IKE_AUTH need, only until the SA is up */
	struct ike_hs *hs;

	/* keys */
	struct ike_keys keys;
	/* SK_e/SK_a are in keys; a cipher context is made for each message
	 * (ike_sa_sk()), not kept: two would cost 7 KiB an SA with OpenSSL,
	 * more than the whole SA may (DESIGN.md), for a few messages an
	 * hour. */
	bool sk_ready;

	/* our requests (§2.3) */
	uint32_t tx_id; /* Message ID of the outstanding / next request */
	enum ike_req_kind req_kind;
	uint32_t req_spi; /* IKE_REQ_DELETE_CHILD: the child's spi_in */
	struct ike_stored *req; /* NULL while none is outstanding */
	unsigned req_sent; /* transmissions so far (1 = only the first) */
	ike_time_t req_deadline;

	/* the peer's requests */
	uint32_t rx_id;  /* Message ID expected next */
	bool resp_valid; /* resp answers rx_id - 1 */
	struct ike_stored *resp;
	struct ike_path resp_path;

	ike_time_t last_heard; /* last authentic IKE message or ESP */
	ike_time_t half_open_deadline;

	/* deferred work, started when the window is free */
	bool want_delete;
	bool want_child; /* an acquire needs a new CHILD_SA (CREATE_CHILD_SA) */
	/* the packet behind an acquire: its selectors go first (§2.9) */
	bool has_acq;
	struct esp_sel acq_src, acq_dst;

	/* our CREATE_CHILD_SA in flight */
	struct ike_child_req *creq; /* NULL unless out (engine.c) */
	struct ike_ike_req *ireq;
	bool want_rekey;      /* rekey the IKE SA when the window is free */
	ike_time_t rekey_at;  /* ... or at this time (ike_rekey_time) */
	uint32_t replaced_by; /* IKE_SA_REKEYED: the new SA's id */
	/* §2.8.2: a new IKE SA we made that lost a simultaneous rekey: never
	 * reported, deleted by us without events */
	bool redundant;
	uint32_t rekey_of; /* IKE_SA_COLLIDED: the SA whose rekey made it */
	/* §2.25: when TEMPORARY_FAILURE answers began (IKE_TIME_NEVER:
	 * none since the last exchange that went through) */
	ike_time_t tmpfail_since;
	/* how the IKE_DOWN of our own Delete reads (0: DELETED_LOCAL) */
	enum ike_reason del_reason;
	/* §2.25: CHILD_SA_NOT_FOUND answered our rekey: create a CHILD_SA
	 * with these selectors from scratch when the window is free */
	bool want_recreate;
	struct ike_ts_list re_local, re_remote;

	struct ike_child *child[IKE_SA_MAX_CHILD]; /* NULL: free (engine.c) */
};

/* Wipe keys, free the SK contexts and zero the SA (state IKE_SA_FREE). */
void ike_sa_clear(struct ike_sa *sa);
/* Free (wiped) the SA's fragment reassembly, if any. */
void ike_sa_frag_free(struct ike_sa *sa);

/* The SA's SPIs as their 8 wire bytes each. */
void ike_sa_spi_bytes(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8]);

/*
 * Derive SK_* from the finished key exchange (g^ir) and set up both SK
 * contexts (§2.14). 0, or IKE_ERR_CRYPTO.
 */
int ike_sa_derive(struct ike_sa *sa, const uint8_t *gir, size_t gir_len);

/* The SK keys in sa->keys are ready to use (both directions checked to
 * make a context). 0, or IKE_ERR_CRYPTO. */
int ike_sa_install_sk(struct ike_sa *sa);

/* A new SK context for our sending (tx) or receiving direction, from
 * sa->keys; the caller aead_free()s it. 0 or IKE_ERR_CRYPTO. */
int ike_sa_sk(const struct ike_sa *sa, bool tx, struct aead **out);

/*
 * Retransmission schedule: the wait after transmission number `sent`
 * (1 = the first), timeout * (base/1000)^(sent-1), in integer arithmetic
 * so that every run gives the same nanoseconds. The exponent stops growing
 * at IKE_SA_RTO_MAX_EXP, so that the cost of a call is bounded whatever
 * the configuration.
 */
#define IKE_SA_RTO_MAX_EXP 64
ike_time_t ike_sa_rto(ike_time_t timeout, unsigned base, unsigned sent);

/*
 * Record our request (the exact bytes: a retransmission is identical,
 * §2.1) and arm its timer from now. 0 (it cannot fail: trains are
 * bounded).
 */
int ike_sa_set_request(struct ike_sa *sa, enum ike_req_kind kind, const struct ike_train *t,
                       ike_time_t now, ike_time_t rto);

/* The request was answered: the window moves on (§2.3). */
void ike_sa_request_done(struct ike_sa *sa);

/* Record the response to the peer's request rx_id and move rx_id on. */
int ike_sa_set_response(struct ike_sa *sa, const struct ike_train *t, const struct ike_path *path);

/*
 * NAT_DETECTION_*_IP data (§2.23): SHA-1(SPIi | SPIr | IP | Port) into
 * out[20]. spi_r is 0 in the IKE_SA_INIT request.
 */
void ike_natd_hash(uint64_t spi_i, uint64_t spi_r, const struct ike_addr *a, uint8_t out[20]);

/* Does the address belong to a valid family, and is its length right? */
bool ike_addr_valid(const struct ike_addr *a);

bool ike_addr_equal(const struct ike_addr *a, const struct ike_addr *b);

/*
 * White-box access for tests and the fuzzer (ike/engine.c): the i-th IKE
 * SA slot of e, in any state, or NULL past the last one. Not for the
 * daemon: the public API is ike/engine.h.
 */
struct ike_sa *ike_engine_sa_slot(struct ike_engine *e, size_t i);

#endif
