/*
 * The engine's insides, shared by its files (DESIGN.md: "one per
 * exchange"): engine.c (API, queues, SA lifecycle, receive dispatch,
 * sealing), ex_init.c, ex_auth.c (with ex_eap.c), ex_child.c, ex_rekey.c, ex_info.c,
 * timer.c, with satab.c (tables) and sa.c (one SA's state). Nothing here
 * is API: that is ike/engine.h.
 */
#ifndef TUNSEC_IKE_ENGINE_INT_H
#define TUNSEC_IKE_ENGINE_INT_H

#include "ike/engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "crypto/hmac.h"
#include "crypto/ke.h"
#include "crypto/prf.h"
#include "crypto/rand.h"
#include "ike/auth.h"
#include "ike/cert.h"
#include "ike/child.h"
#include "ike/cp.h"
#include "ike/msg.h"
#include "ike/msglog.h"
#include "ike/payload.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "ike/satab.h"
#include "ike/ts.h"

#define IKE_ENGINE_TXQ    80 /* a whole train of IKE_SA_MAX_FRAGS fragments and more */
#define KE_RETRIES_MAX    2  /* INVALID_KE_PAYLOAD rounds before giving up */
#define COOKIE_ROUNDS_MAX 2  /* COOKIE demands the initiator follows */
#define COOKIE_LEN        (1 + 32)
/* §2.6: the cookie secret changes every minute; a cookie made with the one
 * before is still taken for a few seconds after the change (the initiator
 * that got it is retrying now), never later. */
#define COOKIE_SECRET_SWITCH (60 * IKE_SEC)
#define COOKIE_PREV_VALID    (10 * IKE_SEC)

struct txq_ent {
	struct ike_path path;
	size_t len;
	uint8_t buf[IKE_ENGINE_MSG_MAX];
};

/*
 * What the rest of a responder's IKE_AUTH needs of the request once AUTH
 * verified (§1.2), kept while the exchange waits for an outside answer
 * (IKE_EV_NEED): the scratch message is gone by then.
 */
struct auth_pending {
	uint32_t msg_id;
	struct ike_path path;
	bool ic;         /* INITIAL_CONTACT */
	bool certreq;    /* a CERTREQ came */
	bool want_child; /* SA, TSi and TSr came */
	uint16_t child_err;
	struct ike_child child; /* its suite, once chosen */
	struct esp_sel tsi[ESP_MAX_SELS], tsr[ESP_MAX_SELS];
	size_t n_tsi, n_tsr;
	bool has_cp; /* CP(CFG_REQUEST) for addresses, and we assign them */
	struct ike_cp_request cp;
	/* EAP (§2.16): the IDi the peer claimed (its AUTH after EAP covers
	 * it), the rounds answered, the identity EAP proved, and whether the
	 * final AUTH is the MSK's (no IDr and CERT then) */
	bool eap;
	struct ike_identity idi;
	unsigned eap_rounds;
	struct ike_identity eap_id;
	bool eap_final;
	uint32_t auth_lifetime; /* RFC 4478, from the EAP answer; 0: none */
};

/* Our SignedOctets (§2.15): RealMessage, nonce, prf output. */
#define AUTH_OCTETS_MAX (IKE_ENGINE_MSG_MAX + IKE_NONCE_MAX + PRF_MAX_OUT)
/* AUTH data: RFC 7427 length + AlgorithmIdentifier + an RSA-8192 signature. */
#define AUTH_DATA_MAX 1200

/*
 * One configured connection (strongSwan's peer_cfg with its ike_cfg): who
 * we are and whom we accept, credentials, proposals, selectors, timers.
 * SAs point at theirs; a removed peer lives on, unmatched, until its last
 * SA is gone.
 */
struct ike_peer {
	uint32_t id;
	void *user;
	struct ike_config cfg; /* cfg.psk points at psk below */
	uint8_t psk[IKE_PSK_MAX];
	struct ike_proposal_list ike_props, esp_props;
	bool had_sa; /* an IKE SA under this peer came up before */
	bool removed;
	size_t refs;        /* SAs pointing here */
	struct ike_sa *sas; /* its SAs (sa->peer_next) */
};

struct ike_engine {
	struct ike_engine_opts opts;
	struct ike_peer **peers;
	size_t n_peers, cap_peers;
	uint32_t next_peer_id;
	uint32_t next_id;

	struct satab tab;
	struct ike_sa *dirty; /* touched by this call (sa->dirty_next) */
	struct ike_sa *grave; /* removed by this call, freed at its end */
	size_t n_reasm;       /* SAs with a reassembly buffer */

	struct txq_ent txq[IKE_ENGINE_TXQ];
	unsigned tx_head, tx_n;
	/* events, a ring that grows (never drops one: a lost CHILD_DOWN
	 * would leave keys in the data plane) */
	struct ike_event *evq;
	unsigned ev_cap, ev_head, ev_n;
	struct ike_engine_stats stats;
	/* §1.5: token bucket of unprotected one-way notifies */
	bool tb_started;
	unsigned tb_tokens;
	ike_time_t tb_at;

	/* scratch, wiped after each use */
	struct ike_msg msg;
	uint8_t rx[IKE_ENGINE_MSG_MAX];
	uint8_t plain[IKE_ENGINE_MSG_MAX];
	uint8_t out[IKE_ENGINE_MSG_MAX];
	/* §2.6: our COOKIE secret, and its version (the first cookie byte),
	 * in use since cookie_since; the one before until cookie_prev_until.
	 * Each is kept as an HMAC keyed with it once (key ^ ipad and ^ opad
	 * absorbed): under a flood every spoofed request costs one cookie, and
	 * keying is half of an HMAC-SHA-256 of it. */
	struct hmac cookie_mac;
	uint8_t cookie_version;
	bool cookie_started;
	ike_time_t cookie_since;
	struct hmac cookie_prev_mac;
	uint8_t cookie_prev_version;
	ike_time_t cookie_prev_until;
	/* payload structs too big for the stack (an SA payload is ~9 KiB) */
	struct ike_sa_pl sapl;
	struct ike_ts_pl tsi_pl, tsr_pl;
	struct esp_sel sel_i[ESP_MAX_SELS], sel_r[ESP_MAX_SELS];
	struct ike_ts_result tsres;
	uint8_t inner[IKE_FRAG_BUF];    /* a reassembled message's payloads */
	struct ike_train train;         /* the message being sent */
	char sent_line[IKE_MSGLOG_MAX]; /* its payloads, when logging */
	size_t inner_len;
	/* certificate authentication (ike/cert.h) */
	int auth_err; /* IKE_CERT_ERR_* of the last refused AUTH */
	uint8_t octets[AUTH_OCTETS_MAX];
	uint8_t authbuf[AUTH_DATA_MAX];
	uint8_t certreq[20 * 32];
};

/* Nonces and g^ir of the exchange that created a CHILD_SA (§2.17). */
struct child_keying {
	bool we_initiated;
	const uint8_t *gir, *ni, *nr;
	size_t gir_len, ni_len, nr_len;
	uint32_t rekeyed_spi_in;
	bool redundant; /* §2.8.1 loser of a simultaneous rekey */
};

void dlog(struct ike_engine *e, uint32_t sa_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Does p come before q among connections that fit equally well? */
static inline bool peer_before(const struct ike_peer *p, const struct ike_peer *q)
{
	return p->cfg.rank != q->cfg.rank ? p->cfg.rank < q->cfg.rank : p->id < q->id;
}

/* ex_init.c */
int initiate(struct ike_engine *e, struct ike_peer *p, const struct ike_path *path, ike_time_t now);
bool group_offered(const struct ike_peer *p, uint16_t g);
bool rounds_wanted(const struct ike_engine *e);
int addr_score(const struct ike_peer *p, const struct ike_path *path);
int on_init_request(struct ike_engine *e, const struct ike_path *path, size_t len, ike_time_t now);
int on_init_response(struct ike_engine *e, const struct ike_path *path, size_t len, ike_time_t now);
/* Key mac (HMAC-SHA-256) with a new random COOKIE secret (§2.6). */
void cookie_key(struct ike_engine *e, struct hmac *mac);

/* ex_auth.c */
unsigned peer_hash_set(const struct ike_msg *m);
bool certreq_seen(const struct ike_msg *m);
void sighash_add(const struct ike_peer *p, struct ike_build *b, bool send);
void certreq_add(struct ike_engine *e, const struct ike_peer *p, struct ike_build *b);
void proposal_ts(const struct ike_engine *e, const struct ike_sa *sa, struct ike_child *c);
int send_auth_request(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
void ts_policy(const struct ike_sa *sa, struct ike_ts_policy *pol,
               struct esp_sel vips[IKE_CP_MAX_ADDRS]);
bool same_identity(const struct ike_sa *a, const struct ike_sa *b);
int on_auth_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                    ike_time_t now);
int on_auth_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
/* ... and what ex_eap.c shares of it */
void certs_add(const struct ike_peer *p, struct ike_build *b, bool asked);
void id_payload(const struct ike_identity *id, struct ike_id *out, uint8_t body[4 + 255],
                size_t *body_len);
void keep_peer_id(struct ike_sa *sa, const struct ike_id *id);
bool id_matches(const struct ike_identity *want, const struct ike_id *got);
int id_fit(const struct ike_identity *want, const struct ike_id *got);
void auth_octets(const struct ike_sa *sa, bool of_initiator, const uint8_t *id_body,
                 size_t id_body_len, struct ike_auth_octets *o);
int auth_make(struct ike_engine *e, struct ike_sa *sa, const struct ike_auth_octets *o,
              struct ike_auth *a);
bool auth_verify(struct ike_engine *e, struct ike_sa *sa, bool of_initiator,
                 const struct ike_id *id);
bool suite_fit(struct ike_engine *e, const struct ike_peer *p, const struct ike_sa *sa);
struct ike_sa *twin(struct ike_engine *e, const struct ike_sa *sa);
void need_event(struct ike_engine *e, struct ike_sa *sa, enum ike_need need,
                const struct ike_cp_request *req);
int auth_finish(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa,
                const struct ike_cp_reply *ans, ike_time_t now);
bool refused(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m, uint8_t pl);
int refuse_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

/* ex_eap.c: EAP in IKE_AUTH (§2.16), EAP-only (RFC 5998), a second round
 * (RFC 4739) */
bool eap_only(const struct ike_peer *p);
int eap_begin(struct ike_engine *e, struct ike_sa *sa, const struct auth_pending *pa);
int on_eap_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                   ike_time_t now);
int on_eap_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
int eap_resume_server(struct ike_engine *e, struct ike_sa *sa, const struct ike_answer *ans);
int eap_resume_peer(struct ike_engine *e, struct ike_sa *sa, const struct ike_answer *ans,
                    ike_time_t now);
int auth_make_eap(struct ike_engine *e, struct ike_sa *sa, const struct ike_identity *id,
                  struct ike_auth *a);
bool auth_verify_eap(struct ike_engine *e, struct ike_sa *sa, bool of_initiator,
                     const struct ike_identity *id);
int round1_answer(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa);
int start_round2(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

/* ex_child.c */
bool creq_on(const struct ike_sa *sa);
bool live(const struct ike_child *c);
uint32_t new_esp_spi(struct ike_engine *e, struct ike_sa *sa);
struct ike_child *child_by_spi_in(struct ike_engine *e, uint32_t spi, struct ike_sa **owner);
void child_down(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c,
                enum ike_reason reason);
struct ike_child *child_slot(struct ike_sa *sa);
bool child_room(const struct ike_sa *sa);
int child_up_event(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c, ike_time_t now);
void child_failed_event(struct ike_engine *e, struct ike_sa *sa, uint16_t notify);
ike_time_t retry_soon(struct ike_engine *e, ike_time_t now);
int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
void nonce_min(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out,
               size_t *out_len);
int start_rekey(struct ike_engine *e, struct ike_sa *sa, struct ike_child *old, ike_time_t now);
int start_new_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
int start_recreate_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
void create_child_error(struct ike_engine *e, struct ike_sa *sa, const struct ike_hdr *rh,
                        const struct ike_path *path, uint16_t type, const uint8_t *data,
                        size_t len);
int on_create_child_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                            ike_time_t now);
int on_create_child_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

/* ex_rekey.c */
bool ireq_on(const struct ike_sa *sa);
struct ike_sa *collided_peer(struct ike_engine *e, const struct ike_sa *sa);
void collision_peer_wins(struct ike_engine *e, struct ike_sa *old, struct ike_sa *peer,
                         ike_time_t now);
int start_ike_rekey(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
int on_rekey_ike_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                         ike_time_t now);
int on_rekey_ike_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

/* ex_info.c */
int send_info(struct ike_engine *e, struct ike_sa *sa, enum ike_req_kind kind, ike_time_t now);
void run_pending(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
struct ike_child *child_by_spi_out(struct ike_sa *sa, uint32_t spi);
int on_info_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                    ike_time_t now);
int on_info_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

/* timer.c */
ike_time_t sa_due(const struct ike_sa *sa);

/* engine.c */
void log_sent(struct ike_engine *e, const struct ike_sa *sa, const struct ike_path *path,
              const uint8_t *msg, size_t len, size_t total, size_t frags);
void ev_push(struct ike_engine *e, const struct ike_event *ev);
void tx_push(struct ike_engine *e, const struct ike_path *path, const uint8_t *buf, size_t len);
void rnd(struct ike_engine *e, void *buf, size_t len);
uint64_t new_ike_spi(struct ike_engine *e);
struct ike_sa *touch(struct ike_engine *e, struct ike_sa *sa);
void peer_move(struct ike_engine *e, struct ike_sa *sa, struct ike_peer *p);
struct ike_sa *sa_alloc(struct ike_engine *e, struct ike_peer *p, bool initiator, uint64_t our_spi);
void frag_drop(struct ike_engine *e, struct ike_sa *sa);
void sa_discard(struct ike_engine *e, struct ike_sa *sa);
struct ike_sa *sa_by_id(struct ike_engine *e, uint32_t id);
void ev_base(const struct ike_sa *sa, enum ike_event_type type, struct ike_event *ev);
void refused_event(struct ike_engine *e, const struct ike_sa *sa, const struct ike_peer *p,
                   const struct ike_path *path, const struct ike_sa_pl *offer, bool ike);
void sa_remove(struct ike_engine *e, struct ike_sa *sa, enum ike_reason reason, uint16_t notify);
void hdr_for(const struct ike_sa *sa, uint8_t exchange, bool response, uint32_t msg_id,
             struct ike_hdr *h);
void notify_add(struct ike_build *b, uint16_t type, const uint8_t *data, size_t len);
ike_time_t rto(const struct ike_sa *sa, unsigned sent);
ike_time_t add_time(ike_time_t a, ike_time_t b);
void tx_push_stored(struct ike_engine *e, const struct ike_path *path, const struct ike_stored *s);
void tx_push_train(struct ike_engine *e, const struct ike_path *path, const struct ike_train *t);
int seal(struct ike_engine *e, struct ike_sa *sa, int plain_len);
int send_request(struct ike_engine *e, struct ike_sa *sa, enum ike_req_kind kind, int plain_len,
                 ike_time_t now);
int send_response(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                  int plain_len);
const struct ike_notify *first_error(const struct ike_msg *m);
void flush(struct ike_engine *e, ike_time_t now);

#endif
