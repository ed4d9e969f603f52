/*
 * The IKEv2 engine: exchanges of RFC 7296 over the state in sa.c / child.c;
 * see engine.h.
 *
 * Every datagram is copied into one scratch buffer, parsed into one scratch
 * struct ike_msg, decrypted in place, and both are wiped before
 * ike_engine_recv() returns, whatever happened (DESIGN.md: verify, then
 * commit). Handlers check everything a message must satisfy before they
 * touch the SA; AUTH in particular is verified before the IKE SA is marked
 * up or any CHILD_SA is created.
 *
 * Payload order follows what strongSwan 5.9 sends, which is also what it
 * parses most readily:
 *   IKE_SA_INIT request:  [N(COOKIE)] SA KE Ni N(NATD_S) N(NATD_D) N(FRAG_SUP)
 *   IKE_SA_INIT response: SA KE Nr N(NATD_S) N(NATD_D) N(FRAG_SUP)
 *                         [N(SIG_HASH_ALGS) CERTREQ]
 *   IKE_AUTH request:     IDi [CERT..] [N(INITIAL_CONTACT)] [CERTREQ] [IDr]
 *                         AUTH SA TSi TSr
 *   IKE_AUTH response:    IDr [CERT..] AUTH SA TSi TSr   (or N(error))
 * (the IKE_SA_INIT request ends in N(SIG_HASH_ALGS) when certificates are
 * configured: RFC 7427 §4)
 *   CREATE_CHILD_SA request:  [N(REKEY_SA)] SA Ni [KE] TSi TSr   (CHILD_SA)
 *                             SA Ni KE                          (IKE SA)
 *   CREATE_CHILD_SA response: SA Nr [KE] TSi TSr / SA Nr KE
 *
 * Requests we want to send while our window is busy (§2.3: one request
 * at a time) wait as flags on the SA and start, in run_pending(), when the
 * outstanding one is answered: Deletes first, then rekeys, then new
 * CHILD_SAs. A liveness check is due only while the window is idle.
 */
#include "ike/engine.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "crypto/ke.h"
#include "crypto/prf.h"
#include "crypto/rand.h"
#include "ike/auth.h"
#include "ike/cert.h"
#include "ike/child.h"
#include "ike/cp.h"
#include "ike/msg.h"
#include "ike/payload.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "ike/satab.h"
#include "ike/ts.h"

#define IKE_ENGINE_TXQ    80 /* a whole train of IKE_SA_MAX_FRAGS fragments and more */
#define KE_RETRIES_MAX    2 /* INVALID_KE_PAYLOAD rounds before giving up */
#define COOKIE_ROUNDS_MAX 2 /* COOKIE demands the initiator follows */
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
	size_t refs; /* SAs pointing here */
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
	 * in use since cookie_since; the one before until cookie_prev_until */
	uint8_t cookie_secret[32];
	uint8_t cookie_version;
	bool cookie_started;
	ike_time_t cookie_since;
	uint8_t cookie_prev[32];
	uint8_t cookie_prev_version;
	ike_time_t cookie_prev_until;
	/* payload structs too big for the stack (an SA payload is ~9 KiB) */
	struct ike_sa_pl sapl;
	struct ike_ts_pl tsi_pl, tsr_pl;
	struct esp_sel sel_i[ESP_MAX_SELS], sel_r[ESP_MAX_SELS];
	struct ike_ts_result tsres;
	uint8_t inner[IKE_FRAG_BUF]; /* a reassembled message's payloads */
	struct ike_train train;      /* the message being sent */
	size_t inner_len;
	/* certificate authentication (ike/cert.h) */
	int auth_err; /* IKE_CERT_ERR_* of the last refused AUTH */
	uint8_t octets[AUTH_OCTETS_MAX];
	uint8_t authbuf[AUTH_DATA_MAX];
	uint8_t certreq[20 * 32];
};

static const char *const reason_names[] = {
    [IKE_REASON_NONE] = "none",
    [IKE_REASON_DELETED_LOCAL] = "deleted",
    [IKE_REASON_DELETED_PEER] = "deleted by peer",
    [IKE_REASON_TIMEOUT] = "retransmission timeout",
    [IKE_REASON_DPD] = "peer dead (DPD)",
    [IKE_REASON_HALF_OPEN] = "half-open timeout",
    [IKE_REASON_AUTH_FAILED] = "authentication failed",
    [IKE_REASON_NO_PROPOSAL] = "no proposal chosen",
    [IKE_REASON_INVALID_KE] = "no acceptable key exchange group",
    [IKE_REASON_PEER_ERROR] = "error notify from peer",
    [IKE_REASON_PROTOCOL] = "protocol error",
    [IKE_REASON_REPLACED] = "replaced (INITIAL_CONTACT)",
    [IKE_REASON_REKEYED] = "rekeyed",
};

const char *ike_reason_name(enum ike_reason r)
{
	if ((unsigned)r < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[r])
		return reason_names[r];
	return "unknown";
}

static void rnd(struct ike_engine *e, void *buf, size_t len);

/* ---- configuration ------------------------------------------------------ */

static void set_err(char *err, size_t cap, const char *msg, const char *detail)
{
	if (err && cap)
		snprintf(err, cap, "%s%s%s", msg, detail && *detail ? ": " : "",
		         detail ? detail : "");
}

static bool id_ok(const struct ike_identity *id, bool may_be_any)
{
	switch (id->type) {
	case 0:
		return may_be_any;
	case IKE_ID_IPV4_ADDR:
		return id->len == 4;
	case IKE_ID_IPV6_ADDR:
		return id->len == 16;
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
	case IKE_ID_KEY_ID:
	case IKE_ID_DER_ASN1_DN:
		return id->len > 0;
	}
	return false;
}

/* Authentication settings (§2.15): PSK only where a side uses it; for
 * certificates, what each direction needs from cfg->creds. */
static bool auth_cfg_ok(const struct ike_config *cfg, char *err, size_t err_cap)
{
	bool psk = cfg->local_auth == IKE_AUTHBY_PSK || cfg->remote_auth == IKE_AUTHBY_PSK;

	if (cfg->local_auth > IKE_AUTHBY_PUBKEY || cfg->remote_auth > IKE_AUTHBY_PUBKEY ||
	    cfg->send_cert > IKE_SEND_CERT_NEVER) {
		set_err(err, err_cap, "authentication: unknown method or send_cert policy", NULL);
		return false;
	}
	if (psk && (!cfg->psk || cfg->psk_len == 0 || cfg->psk_len > IKE_PSK_MAX)) {
		set_err(err, err_cap, "pre-shared key missing or longer than 256 bytes", NULL);
		return false;
	}
	if (cfg->local_auth == IKE_AUTHBY_PUBKEY) {
		if (!ike_creds_can_sign(cfg->creds)) {
			set_err(err, err_cap, "public key authentication: no certificate and key",
			        NULL);
			return false;
		}
		/* RFC 7296 §3.5 (and strongSwan): our ID must be in our cert;
		 * a KEY_ID is opaque and cannot be checked here. */
		if (cfg->local_id.type != IKE_ID_KEY_ID &&
		    !ike_creds_id_ok(cfg->creds, cfg->local_id.type, cfg->local_id.data,
		                     cfg->local_id.len)) {
			set_err(err, err_cap,
			        "local identity is neither the certificate's subject nor one of its "
			        "subjectAltNames",
			        NULL);
			return false;
		}
	}
	if (cfg->remote_auth == IKE_AUTHBY_PUBKEY && ike_creds_n_cas(cfg->creds) == 0) {
		set_err(err, err_cap, "public key authentication of the peer: no CA certificate",
		        NULL);
		return false;
	}
	return true;
}

static bool sels_ok(const struct esp_sel *s, size_t n)
{
	if (n == 0 || n > ESP_MAX_SELS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i].family != AF_INET && s[i].family != AF_INET6)
			return false;
	return true;
}

int ike_config_check(const struct ike_config *cfg, char *err, size_t err_cap)
{
	struct ike_proposal_list *l;
	char perr[160];
	int rc = IKE_ERR_INVAL;

	if (err && err_cap)
		err[0] = '\0';
	if (!cfg) {
		set_err(err, err_cap, "no configuration", NULL);
		return IKE_ERR_INVAL;
	}
	if (!id_ok(&cfg->local_id, false)) {
		set_err(err, err_cap, "local identity: bad type or length", NULL);
		return IKE_ERR_INVAL;
	}
	if (!id_ok(&cfg->remote_id, true)) {
		set_err(err, err_cap, "remote identity: bad type or length", NULL);
		return IKE_ERR_INVAL;
	}
	if (!auth_cfg_ok(cfg, err, err_cap))
		return IKE_ERR_INVAL;
	if (!sels_ok(cfg->local_ts, cfg->n_local_ts) ||
	    !sels_ok(cfg->remote_ts, cfg->n_remote_ts)) {
		set_err(err, err_cap, "traffic selectors: 1 to 8 IPv4/IPv6 ranges per side", NULL);
		return IKE_ERR_INVAL;
	}
	if (cfg->fragment_len &&
	    (cfg->fragment_len < 128 || cfg->fragment_len > IKE_ENGINE_MSG_MAX)) {
		set_err(err, err_cap, "fragment length: 128 to 4096 bytes", NULL);
		return IKE_ERR_INVAL;
	}
	if (!(l = malloc(sizeof(*l))))
		return IKE_ERR_INVAL;
	if (ike_proposal_parse(l, IKE_PROTO_IKE,
	                       cfg->ike_proposals ? cfg->ike_proposals : "default", cfg->allow_legacy, perr,
	                       sizeof(perr)) < 0) {
		set_err(err, err_cap, "IKE proposals", perr);
		goto out;
	}
	if (ike_proposal_parse(l, IKE_PROTO_ESP,
	                       cfg->esp_proposals ? cfg->esp_proposals : "default", cfg->allow_legacy, perr,
	                       sizeof(perr)) < 0) {
		set_err(err, err_cap, "ESP proposals", perr);
		goto out;
	}
	rc = IKE_OK;
out:
	free(l);
	return rc;
}

static void peer_unref(struct ike_engine *e, struct ike_peer *p);

struct ike_engine *ike_engine_create(const struct ike_engine_opts *opts)
{
	struct ike_engine *e;
	uint8_t key[16];

	if (crypto_init() < 0 || !(e = calloc(1, sizeof(*e))))
		return NULL;
	if (opts)
		e->opts = *opts;
	if (!e->opts.cookie_threshold)
		e->opts.cookie_threshold = IKE_DEFAULT_COOKIE_THRESHOLD;
	if (!e->opts.cookie_threshold_ip)
		e->opts.cookie_threshold_ip = IKE_DEFAULT_COOKIE_THRESHOLD_IP;
	if (!e->opts.block_threshold)
		e->opts.block_threshold = IKE_DEFAULT_BLOCK_THRESHOLD;
	if (!e->opts.half_open_max)
		e->opts.half_open_max = IKE_DEFAULT_HALF_OPEN_MAX;
	if (!e->opts.sa_max)
		e->opts.sa_max = IKE_DEFAULT_SA_MAX;
	e->next_id = 1;
	e->next_peer_id = 1;
	rnd(e, e->cookie_secret, sizeof(e->cookie_secret));
	rnd(e, key, sizeof(key));
	satab_init(&e->tab, key);
	sodium_memzero(key, sizeof(key));
	return e;
}

int ike_engine_peer_add(struct ike_engine *e, const struct ike_config *cfg, void *user)
{
	struct ike_peer *p;

	if (!e || !cfg || ike_config_check(cfg, NULL, 0) < 0)
		return IKE_ERR_INVAL;
	if (e->n_peers == e->cap_peers) {
		size_t cap = e->cap_peers ? 2 * e->cap_peers : 8;
		struct ike_peer **v = realloc(e->peers, cap * sizeof(*v));

		if (!v)
			return IKE_ERR_NOSPACE;
		e->peers = v;
		e->cap_peers = cap;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return IKE_ERR_NOSPACE;
	p->cfg = *cfg;
	p->user = user;
	if (cfg->psk && cfg->psk_len) {
		memcpy(p->psk, cfg->psk, cfg->psk_len);
		p->cfg.psk = p->psk;
	} else {
		p->cfg.psk = NULL;
		p->cfg.psk_len = 0;
	}
	if (!p->cfg.retransmit_timeout)
		p->cfg.retransmit_timeout = IKE_DEFAULT_RETRANSMIT_TIMEOUT;
	if (!p->cfg.retransmit_base)
		p->cfg.retransmit_base = IKE_DEFAULT_RETRANSMIT_BASE;
	if (!p->cfg.retransmit_tries)
		p->cfg.retransmit_tries = IKE_DEFAULT_RETRANSMIT_TRIES;
	if (p->cfg.no_retransmit)
		p->cfg.retransmit_tries = 0;
	if (!p->cfg.half_open_timeout)
		p->cfg.half_open_timeout = IKE_DEFAULT_HALF_OPEN_TIMEOUT;
	if (!p->cfg.fragment_len)
		p->cfg.fragment_len = IKE_DEFAULT_FRAGMENT_LEN;
	p->cfg.ike_proposals = NULL; /* borrowed strings: not kept */
	p->cfg.esp_proposals = NULL;
	ike_proposal_parse(&p->ike_props, IKE_PROTO_IKE,
	                   cfg->ike_proposals ? cfg->ike_proposals : "default", cfg->allow_legacy,
	                   NULL, 0);
	ike_proposal_parse(&p->esp_props, IKE_PROTO_ESP,
	                   cfg->esp_proposals ? cfg->esp_proposals : "default", cfg->allow_legacy,
	                   NULL, 0);
	p->id = e->next_peer_id++;
	p->refs = 1; /* the engine's own, until removed */
	e->peers[e->n_peers++] = p;
	return (int)p->id;
}

struct ike_engine *ike_engine_new(const struct ike_config *cfg)
{
	struct ike_engine_opts o;
	struct ike_engine *e;

	if (ike_config_check(cfg, NULL, 0) < 0)
		return NULL;
	/* As the engine of one connection always was: COOKIE by the
	 * connection's threshold, counted over every source; no other
	 * half-open limit than the SA cap. */
	memset(&o, 0, sizeof(o));
	o.rand = cfg->rand;
	o.rand_ctx = cfg->rand_ctx;
	o.wall_time = cfg->wall_time;
	o.wall_ctx = cfg->wall_ctx;
	o.no_cookies = !cfg->cookie_threshold;
	o.cookie_threshold = o.cookie_threshold_ip = cfg->cookie_threshold;
	o.block_threshold = o.half_open_max = UINT_MAX;
	if (!(e = ike_engine_create(&o)))
		return NULL;
	if (ike_engine_peer_add(e, cfg, NULL) < 0) {
		ike_engine_free(e);
		return NULL;
	}
	return e;
}

static void sa_free_now(struct ike_sa *sa)
{
	ike_sa_clear(sa);
	free(sa);
}

static void free_grave(struct ike_engine *e)
{
	while (e->grave) {
		struct ike_sa *sa = e->grave;

		e->grave = sa->grave_next;
		free(sa);
	}
}

void ike_engine_free(struct ike_engine *e)
{
	if (!e)
		return;
	while (e->tab.all) {
		struct ike_sa *sa = e->tab.all;

		satab_remove(&e->tab, sa);
		sa_free_now(sa);
	}
	free_grave(e);
	for (size_t i = 0; i < e->n_peers; i++) {
		sodium_memzero(e->peers[i], sizeof(*e->peers[i]));
		free(e->peers[i]);
	}
	free(e->peers);
	satab_free(&e->tab);
	if (e->evq) {
		sodium_memzero(e->evq, e->ev_cap * sizeof(*e->evq));
		free(e->evq);
	}
	sodium_memzero(e, sizeof(*e));
	free(e);
}

/* ---- queues ------------------------------------------------------------- */

/* Twice the room, the events kept in order; the old ring is wiped (a
 * CHILD_UP carries keys). -1 only when memory is out. */
static int ev_grow(struct ike_engine *e)
{
	unsigned cap = e->ev_cap ? 2 * e->ev_cap : IKE_ENGINE_EVENTS;
	struct ike_event *q = malloc(cap * sizeof(*q));

	if (!q || cap > IKE_ENGINE_EVENTS_MAX) {
		free(q);
		return -1;
	}
	for (unsigned i = 0; i < e->ev_n; i++)
		q[i] = e->evq[(e->ev_head + i) % e->ev_cap];
	if (e->evq) {
		sodium_memzero(e->evq, e->ev_cap * sizeof(*e->evq));
		free(e->evq);
	}
	e->evq = q;
	e->ev_cap = cap;
	e->ev_head = 0;
	return 0;
}

static void ev_push(struct ike_engine *e, const struct ike_event *ev)
{
	if (e->ev_n == e->ev_cap && ev_grow(e) < 0) {
		e->stats.events_lost++;
		return;
	}
	e->evq[(e->ev_head + e->ev_n++) % e->ev_cap] = *ev;
}

int ike_engine_poll_event(struct ike_engine *e, struct ike_event *ev)
{
	struct ike_event *q;

	if (!e || !ev || e->ev_n == 0)
		return 0;
	q = &e->evq[e->ev_head];
	*ev = *q;
	sodium_memzero(q, sizeof(*q)); /* CHILD_UP keys */
	e->ev_head = (e->ev_head + 1) % e->ev_cap;
	e->ev_n--;
	return 1;
}

void ike_event_wipe(struct ike_event *ev)
{
	if (ev)
		sodium_memzero(ev, sizeof(*ev));
}

static void tx_push(struct ike_engine *e, const struct ike_path *path, const uint8_t *buf,
                    size_t len)
{
	struct txq_ent *t;

	if (e->tx_n == IKE_ENGINE_TXQ || len > IKE_ENGINE_MSG_MAX) {
		/* The retransmission timer sends it again. */
		e->stats.tx_dropped++;
		return;
	}
	t = &e->txq[(e->tx_head + e->tx_n++) % IKE_ENGINE_TXQ];
	t->path = *path;
	t->len = len;
	memcpy(t->buf, buf, len);
}

ssize_t ike_engine_poll_tx(struct ike_engine *e, struct ike_path *path, uint8_t *dst, size_t cap)
{
	struct txq_ent *t;

	if (!e || !path || !dst)
		return IKE_ERR_INVAL;
	if (e->tx_n == 0)
		return 0;
	t = &e->txq[e->tx_head];
	if (t->len > cap)
		return IKE_ERR_NOSPACE;
	memcpy(dst, t->buf, t->len);
	*path = t->path;
	e->tx_head = (e->tx_head + 1) % IKE_ENGINE_TXQ;
	e->tx_n--;
	return (ssize_t)t->len;
}

/* ---- helpers ------------------------------------------------------------ */

static void rnd(struct ike_engine *e, void *buf, size_t len)
{
	if (e->opts.rand)
		e->opts.rand(e->opts.rand_ctx, buf, len);
	else
		rand_bytes(buf, len);
}

static uint64_t new_ike_spi(struct ike_engine *e)
{
	uint64_t v = 0;
	uint8_t b[8];

	/* §3.1: zero means "not yet known"; ours name our SAs: unique */
	while (v == 0 || satab_by_spi(&e->tab, v)) {
		rnd(e, b, sizeof(b));
		v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | b[i];
	}
	return v;
}

/* Our CREATE_CHILD_SA and IKE SA rekey requests exist (on the heap) only
 * while they are out: 3 KiB an SA would hold for nothing otherwise. */
static bool creq_on(const struct ike_sa *sa)
{
	return sa->creq && sa->creq->active;
}

static bool ireq_on(const struct ike_sa *sa)
{
	return sa->ireq && sa->ireq->active;
}

/* A CHILD_SA slot in use (see child_free()). */
static bool live(const struct ike_child *c)
{
	return c && c->state != IKE_CHILD_FREE;
}

/* Does IKE SA sa_id still have a CHILD_SA (or one being made) whose
 * inbound SPI is spi? */
static bool esp_spi_live(void *ctx, uint32_t spi, uint32_t sa_id)
{
	struct ike_engine *e = ctx;
	const struct ike_sa *sa = satab_by_id(&e->tab, sa_id);

	if (!sa || sa->state == IKE_SA_FREE)
		return false;
	if (sa->hs && sa->hs->pending.state != IKE_CHILD_FREE && sa->hs->pending.spi_in == spi)
		return true;
	if (creq_on(sa) && sa->creq->c.spi_in == spi)
		return true;
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (live(sa->child[j]) && sa->child[j]->spi_in == spi)
			return true;
	return false;
}

static bool spi_in_use(struct ike_engine *e, uint32_t spi)
{
	uint32_t id = satab_esp_get(&e->tab, spi);

	return id && esp_spi_live(e, spi, id);
}

/* An inbound ESP SPI for a CHILD_SA of sa: RFC 4303 §2.1 reserves 1..255,
 * and it must be unique on this host (the table says in O(1)). */
static uint32_t new_esp_spi(struct ike_engine *e, struct ike_sa *sa)
{
	uint8_t b[4];
	uint32_t v;

	do {
		rnd(e, b, sizeof(b));
		v = ike_child_spi(b);
	} while (v < 256 || spi_in_use(e, v));
	/* Out of memory the SPI still works; only lookups by it scan. */
	satab_esp_put(&e->tab, v, sa->id);
	satab_esp_maybe_sweep(&e->tab, esp_spi_live, e);
	return v;
}

/* Mark sa as changed by this call: its deadline is recomputed, and its
 * deferred work started, before the call returns (flush()). */
static struct ike_sa *touch(struct ike_engine *e, struct ike_sa *sa)
{
	if (sa && !sa->dirty) {
		sa->dirty = true;
		sa->dirty_next = e->dirty;
		e->dirty = sa;
	}
	return sa;
}

static void peer_link(struct ike_sa *sa, struct ike_peer *p)
{
	sa->peer = p;
	p->refs++;
	sa->peer_prev = NULL;
	sa->peer_next = p->sas;
	if (p->sas)
		p->sas->peer_prev = sa;
	p->sas = sa;
}

static void peer_unlink(struct ike_engine *e, struct ike_sa *sa)
{
	struct ike_peer *p = sa->peer;

	if (!p)
		return;
	if (sa->peer_prev)
		sa->peer_prev->peer_next = sa->peer_next;
	else
		p->sas = sa->peer_next;
	if (sa->peer_next)
		sa->peer_next->peer_prev = sa->peer_prev;
	sa->peer_prev = sa->peer_next = NULL;
	sa->peer = NULL;
	peer_unref(e, p);
}

/* IKE_AUTH chose another connection for sa. */
static void peer_move(struct ike_engine *e, struct ike_sa *sa, struct ike_peer *p)
{
	if (sa->peer == p)
		return;
	p->refs++; /* before the unlink: p may be sa's only hold on it */
	peer_unlink(e, sa);
	peer_link(sa, p);
	p->refs--;
}

static void peer_unref(struct ike_engine *e, struct ike_peer *p)
{
	if (--p->refs)
		return;
	for (size_t i = 0; i < e->n_peers; i++)
		if (e->peers[i] == p) {
			e->peers[i] = e->peers[--e->n_peers];
			break;
		}
	sodium_memzero(p, sizeof(*p));
	free(p);
}

/*
 * A new IKE SA of connection p, in the tables under our SPI. NULL when
 * the engine holds opts.sa_max SAs or memory runs out.
 */
static struct ike_sa *sa_alloc(struct ike_engine *e, struct ike_peer *p, bool initiator,
                               uint64_t our_spi)
{
	struct ike_sa *sa;

	if (e->tab.n_sa >= e->opts.sa_max || !(sa = calloc(1, sizeof(*sa))))
		return NULL;
	sa->id = e->next_id++;
	if (e->next_id == 0)
		e->next_id = 1;
	sa->initiator = initiator;
	if (initiator)
		sa->spi_i = our_spi;
	else
		sa->spi_r = our_spi;
	sa->key_spi = our_spi;
	sa->req_deadline = IKE_TIME_NEVER;
	sa->half_open_deadline = IKE_TIME_NEVER;
	sa->rekey_at = IKE_TIME_NEVER;
	sa->tmpfail_since = IKE_TIME_NEVER;
	sa->frag_deadline = IKE_TIME_NEVER;
	sa->due = IKE_TIME_NEVER;
	if (satab_insert(&e->tab, sa) < 0) {
		free(sa);
		return NULL;
	}
	peer_link(sa, p);
	return touch(e, sa);
}

/*
 * Take sa out of every table, wipe it (ike_sa_clear: keys, nonces) and
 * leave it, state IKE_SA_FREE, for free_grave() at the end of the API
 * call: handlers may still look at the SA they just removed.
 */
/* Free sa's reassembly, if any (counted against IKE_ENGINE_REASM_MAX). */
static void frag_drop(struct ike_engine *e, struct ike_sa *sa)
{
	if (sa->frag) {
		ike_sa_frag_free(sa);
		e->n_reasm--;
	}
}

static void sa_discard(struct ike_engine *e, struct ike_sa *sa)
{
	bool dirty = sa->dirty;
	struct ike_sa *dirty_next = sa->dirty_next;

	if (!sa->in_tab)
		return;
	satab_remove(&e->tab, sa);
	peer_unlink(e, sa);
	frag_drop(e, sa);
	ike_sa_clear(sa);
	sa->dirty = dirty; /* it stays in this call's list, skipped there */
	sa->dirty_next = dirty_next;
	sa->grave_next = e->grave;
	e->grave = sa;
}

static struct ike_sa *sa_by_id(struct ike_engine *e, uint32_t id)
{
	return touch(e, satab_by_id(&e->tab, id));
}

static struct ike_child *child_by_spi_in(struct ike_engine *e, uint32_t spi, struct ike_sa **owner)
{
	struct ike_sa *sa = sa_by_id(e, satab_esp_get(&e->tab, spi));

	if (!sa)
		return NULL;
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (live(sa->child[j]) && sa->child[j]->spi_in == spi) {
			*owner = sa;
			return sa->child[j];
		}
	return NULL;
}

static void ev_base(const struct ike_sa *sa, enum ike_event_type type, struct ike_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->sa_id = sa->id;
	ev->spi_i = sa->spi_i;
	ev->spi_r = sa->spi_r;
	ev->initiator = sa->initiator;
	ev->path = sa->path;
	if (sa->peer) {
		ev->peer = sa->peer->id;
		ev->peer_user = sa->peer->user;
	}
	if (type == IKE_EV_IKE_UP) {
		ev->suite = sa->suite;
		ev->behind_nat = sa->nat_local;
		ev->peer_id = sa->peer_id;
	}
}

/* NO_PROPOSAL_CHOSEN sent: say what the peer offered (sa may be NULL). */
static void refused_event(struct ike_engine *e, const struct ike_sa *sa,
                          const struct ike_peer *p, const struct ike_path *path,
                          const struct ike_sa_pl *offer, bool ike)
{
	struct ike_event ev;

	if (sa) {
		ev_base(sa, IKE_EV_REFUSED, &ev);
	} else {
		memset(&ev, 0, sizeof(ev));
		ev.peer = p->id;
		ev.peer_user = p->user;
	}
	ev.type = IKE_EV_REFUSED;
	ev.path = *path;
	ev.reason = IKE_REASON_NO_PROPOSAL;
	ev.notify = IKE_N_NO_PROPOSAL_CHOSEN;
	ev.offered_ike = ike;
	ike_offer_str(offer, ev.offered, sizeof(ev.offered));
	ev_push(e, &ev);
}

/*
 * CHILD_SAs live on the heap, one allocation each, only while they exist
 * (4 slots of 680 bytes inline would be most of an SA's budget). A slot
 * holds NULL or a child; a child in state IKE_CHILD_FREE is a slot taken
 * by child_slot() for an exchange that then failed, free for the next.
 */
/* Take c out of sa's slots and free it, wiped (a child not in a slot is
 * only wiped). */
static void child_free(struct ike_sa *sa, struct ike_child *c)
{
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (sa->child[j] == c) {
			sodium_memzero(c, sizeof(*c));
			free(c);
			sa->child[j] = NULL;
			return;
		}
	memset(c, 0, sizeof(*c));
}

static void child_down(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c,
                       enum ike_reason reason)
{
	struct ike_event ev;

	if (c->state == IKE_CHILD_UP || c->state == IKE_CHILD_DELETING) {
		ev_base(sa, IKE_EV_CHILD_DOWN, &ev);
		ev.reason = reason;
		ike_child_describe(c, &ev.child);
		ev_push(e, &ev);
	}
	child_free(sa, c);
}

/*
 * Remove an IKE SA: CHILD_DOWN for each of its CHILD_SAs, then IKE_DOWN.
 * A responder's SA that never authenticated anyone goes silently unless
 * the reason is worth reporting (AUTH failure), so that forged
 * IKE_SA_INITs cannot fill the event queue.
 */
static struct ike_sa *collided_peer(struct ike_engine *e, const struct ike_sa *sa);

static void sa_remove(struct ike_engine *e, struct ike_sa *sa, enum ike_reason reason,
                      uint16_t notify)
{
	struct ike_event ev;
	struct ike_sa *peer;

	/* However it ends, an SA replaced by a rekey ends as "rekeyed". */
	if (sa->replaced_by)
		reason = IKE_REASON_REKEYED;
	/* §2.8.2 undecided: the peer's new SA goes with ours, unreported
	 * (it never had a CHILD_SA). */
	if ((peer = collided_peer(e, sa)))
		sa_discard(e, peer);
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (sa->child[j])
			child_down(e, sa, sa->child[j], reason);
	/* CHILD_DOWNs first, IKE_DOWN last (engine.h); a redundant SA of a
	 * rekey collision was never reported, so it ends silently too. */
	if (!sa->redundant && (sa->initiator || sa->up || reason == IKE_REASON_AUTH_FAILED)) {
		ev_base(sa, IKE_EV_IKE_DOWN, &ev);
		ev.reason = reason;
		ev.notify = notify;
		if (reason == IKE_REASON_AUTH_FAILED)
			ev.auth_err = e->auth_err;
		ev_push(e, &ev);
	}
	e->auth_err = 0;
	sa_discard(e, sa);
}

static void hdr_for(const struct ike_sa *sa, uint8_t exchange, bool response, uint32_t msg_id,
                    struct ike_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = sa->spi_i;
	h->spi_r = sa->spi_r;
	h->major = IKE_MAJOR_VERSION;
	h->exchange = exchange;
	h->flags = (uint8_t)((sa->initiator ? IKE_FLAG_I : 0) | (response ? IKE_FLAG_R : 0));
	h->msg_id = msg_id;
}

static void notify_add(struct ike_build *b, uint16_t type, const uint8_t *data, size_t len)
{
	struct ike_notify n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data = data;
	n.len = len;
	ike_build_notify(b, &n);
}

static ike_time_t rto(const struct ike_sa *sa, unsigned sent)
{
	const struct ike_config *c = &sa->peer->cfg;

	return ike_sa_rto(c->retransmit_timeout, c->retransmit_base, sent);
}

static ike_time_t add_time(ike_time_t a, ike_time_t b)
{
	return a > IKE_TIME_NEVER - 1 - b ? IKE_TIME_NEVER - 1 : a + b;
}

/* A stored train again (a retransmission, §2.1: the same bytes). */
static void tx_push_stored(struct ike_engine *e, const struct ike_path *path,
                           const struct ike_stored *s)
{
	size_t off = 0;

	for (size_t i = 0; s && i < s->n; i++) {
		tx_push(e, path, s->buf + off, s->len[i]);
		off += s->len[i];
	}
}

static void tx_push_train(struct ike_engine *e, const struct ike_path *path,
                          const struct ike_train *t)
{
	size_t off = 0;

	for (size_t i = 0; i < t->n; i++) {
		tx_push(e, path, t->buf + off, t->len[i]);
		off += t->len[i];
	}
}

/*
 * Protect the plain message in e->plain (plain_len bytes) into e->train:
 * one SK message, or, when it would exceed the fragment length and the
 * peer supports it, RFC 7383 fragments (never IKE_SA_INIT, which is not
 * encrypted). The plain text is wiped either way.
 */
static int seal(struct ike_engine *e, struct ike_sa *sa, int plain_len)
{
	struct ike_train *t = &e->train;
	struct aead *tx;
	int n;

	if (plain_len < 0)
		return plain_len;
	if ((n = ike_sa_sk(sa, true, &tx)) < 0) {
		sodium_memzero(e->plain, (size_t)plain_len);
		return n;
	}
	if (sa->peer_frag &&
	    ike_msg_encrypted_len(tx, (size_t)plain_len) > sa->peer->cfg.fragment_len) {
		n = ike_frag_split(tx, e->plain, (size_t)plain_len, sa->peer->cfg.fragment_len, t->buf,
		                   sizeof(t->buf), t->len, IKE_SA_MAX_FRAGS);
		if (n > 0) {
			t->n = (size_t)n;
			t->total = 0;
			for (size_t i = 0; i < t->n; i++)
				t->total += t->len[i];
		}
	} else {
		n = ike_msg_encrypt(tx, e->plain, (size_t)plain_len, t->buf, sizeof(t->buf));
		if (n > 0) {
			t->n = 1;
			t->len[0] = t->total = (size_t)n;
		}
	}
	aead_free(tx);
	sodium_memzero(e->plain, (size_t)plain_len);
	return n < 0 ? n : IKE_OK;
}

static int send_request(struct ike_engine *e, struct ike_sa *sa, enum ike_req_kind kind,
                        int plain_len, ike_time_t now)
{
	int rc = seal(e, sa, plain_len);

	if (rc < 0)
		return rc;
	ike_sa_set_request(sa, kind, &e->train, now, rto(sa, 1));
	tx_push_train(e, &sa->path, &e->train);
	return IKE_OK;
}

static int send_response(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                         int plain_len)
{
	int rc = seal(e, sa, plain_len);

	if (rc < 0)
		return rc;
	ike_sa_set_response(sa, &e->train, path);
	tx_push_train(e, path, &e->train);
	return IKE_OK;
}

/* An unprotected IKE_SA_INIT response carrying one error notify (§1.2,
 * §2.6); we keep no state for it. */
static void send_init_error(struct ike_engine *e, const struct ike_path *path,
                            const struct ike_hdr *req, uint16_t type, const uint8_t *data,
                            size_t len)
{
	struct ike_hdr h;
	struct ike_build b;
	int n;

	memset(&h, 0, sizeof(h));
	h.spi_i = req->spi_i;
	h.major = IKE_MAJOR_VERSION;
	h.exchange = IKE_SA_INIT;
	h.flags = IKE_FLAG_R;
	ike_build_init(&b, e->out, sizeof(e->out), &h);
	notify_add(&b, type, data, len);
	if ((n = ike_build_finish(&b, NULL)) > 0)
		tx_push(e, path, e->out, (size_t)n);
}

/* §2.23: a NAT_DETECTION_* notify of this type is present and none of
 * them hashes to addr: a NAT sits on that side. */
static bool natd_mismatch(const struct ike_msg *m, uint16_t type, uint64_t spi_i, uint64_t spi_r,
                          const struct ike_addr *addr)
{
	uint8_t want[20];
	bool seen = false;

	ike_natd_hash(spi_i, spi_r, addr, want);
	for (unsigned i = 0; i < m->n_notify; i++) {
		const struct ike_notify *n = &m->notify[i];

		if (n->type != type)
			continue;
		seen = true;
		if (n->len == 20 && memcmp(n->data, want, 20) == 0)
			return false;
	}
	return seen;
}

static void natd_add(struct ike_engine *e, struct ike_build *b, const struct ike_sa *sa)
{
	uint8_t h[20];

	/* Source: our address as we send from it; destination: the peer's
	 * as we send to it (§2.23). Forced encapsulation sends a random
	 * source hash, which no address matches. */
	if (sa->peer->cfg.force_encap)
		rnd(e, h, sizeof(h));
	else
		ike_natd_hash(sa->spi_i, sa->spi_r, &sa->path.local, h);
	notify_add(b, IKE_N_NAT_DETECTION_SOURCE_IP, h, 20);
	ike_natd_hash(sa->spi_i, sa->spi_r, &sa->path.remote, h);
	notify_add(b, IKE_N_NAT_DETECTION_DESTINATION_IP, h, 20);
}

/* The first error notify of m (type < 16384), or NULL. */
static const struct ike_notify *first_error(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i].type < IKE_N_STATUS_MIN)
			return &m->notify[i];
	return NULL;
}

/* ---- certificate authentication helpers (§2.15, §3.6-3.8, RFC 7427) ---- */

static bool uses_pubkey(const struct ike_peer *p)
{
	return p->cfg.local_auth == IKE_AUTHBY_PUBKEY || p->cfg.remote_auth == IKE_AUTHBY_PUBKEY;
}

/* RFC 7427 §4: the hash algorithms of the peer's SIGNATURE_HASH_ALGORITHMS
 * (2-byte identifiers) as a bitmask; 0 if it sent none. */
static unsigned peer_hash_set(const struct ike_msg *m)
{
	unsigned set = 0;

	for (unsigned i = 0; i < m->n_notify; i++) {
		const struct ike_notify *n = &m->notify[i];

		if (n->type != IKE_N_SIGNATURE_HASH_ALGORITHMS)
			continue;
		for (size_t j = 0; j + 2 <= n->len; j += 2) {
			uint16_t h = wire_load16(n->data + j);

			if (h < 16)
				set |= 1u << h;
		}
		/* An empty or all-unknown list still says "RFC 7427 spoken". */
		set |= 1u << 15;
	}
	return set;
}

static bool certreq_seen(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->n_certreq; i++)
		if (m->certreq[i].encoding == IKE_CERT_X509_SIG)
			return true;
	return false;
}

/* SIGNATURE_HASH_ALGORITHMS with SHA2-256/384/512 (RFC 7427 §4), only when
 * certificates are in play, so that PSK exchanges stay as they were. */
static void sighash_add(const struct ike_peer *p, struct ike_build *b, bool send)
{
	static const uint8_t h[] = {0, IKE_HASH_SHA256, 0, IKE_HASH_SHA384, 0, IKE_HASH_SHA512};

	if (send && uses_pubkey(p))
		notify_add(b, IKE_N_SIGNATURE_HASH_ALGORITHMS, h, sizeof(h));
}

/* CERTREQ (§3.7): SHA-1 of every trust anchor's SubjectPublicKeyInfo. */
static void certreq_add(struct ike_engine *e, const struct ike_peer *p, struct ike_build *b)
{
	struct ike_cert c = {IKE_CERT_X509_SIG, e->certreq, 0};
	int n;

	if (!p->cfg.send_certreq || p->cfg.remote_auth != IKE_AUTHBY_PUBKEY)
		return;
	if ((n = ike_creds_certreq(p->cfg.creds, e->certreq, sizeof(e->certreq))) <= 0)
		return;
	c.len = (size_t)n;
	ike_build_cert(b, IKE_PL_CERTREQ, &c);
}

/* Our CERT payloads (§3.6): end entity, then intermediates, X.509 DER,
 * as the send_cert policy says; asked: the peer sent a CERTREQ. */
static void certs_add(const struct ike_peer *p, struct ike_build *b, bool asked)
{
	if (p->cfg.local_auth != IKE_AUTHBY_PUBKEY || p->cfg.send_cert == IKE_SEND_CERT_NEVER ||
	    (p->cfg.send_cert == IKE_SEND_CERT_IFASKED && !asked))
		return;
	for (size_t i = 0; i < ike_creds_n_certs(p->cfg.creds); i++) {
		struct ike_cert c = {IKE_CERT_X509_SIG, NULL, 0};

		if (ike_creds_cert_der(p->cfg.creds, i, &c.data, &c.len) == 0)
			ike_build_cert(b, IKE_PL_CERT, &c);
	}
}

/* ---- IKE_SA_INIT (§1.2) ------------------------------------------------- */

static int build_init_request(struct ike_engine *e, struct ike_sa *sa)
{
	static const uint8_t no_spi[1];
	struct ike_hdr h;
	struct ike_build b;
	struct ike_sa_pl *sapl = &e->sapl;
	struct ike_ke ke;
	uint8_t pub[KE_MAX_PUBLIC];
	int n;

	memset(sapl, 0, sizeof(*sapl));
	for (size_t i = 0; i < sa->peer->ike_props.n && i < IKE_MAX_PROPOSALS; i++)
		ike_proposal_to_offer(&sa->peer->ike_props.p[i], (uint8_t)(i + 1), no_spi, 0, 0,
		                      &sapl->p[sapl->n_proposals++]);
	ke_public(&sa->hs->ke, pub);
	ke.group = sa->ke_group;
	ke.data = pub;
	ke.len = ke_public_len(&sa->hs->ke);

	hdr_for(sa, IKE_SA_INIT, false, 0, &h);
	ike_build_init(&b, e->out, sizeof(e->out), &h);
	/* §2.6: the cookie comes first. */
	if (sa->hs->cookie_len)
		notify_add(&b, IKE_N_COOKIE, sa->hs->cookie, sa->hs->cookie_len);
	ike_build_sa(&b, sapl);
	ike_build_ke(&b, &ke);
	ike_build_nonce(&b, sa->hs->ni, sa->hs->ni_len);
	natd_add(e, &b, sa);
	if (!sa->peer->cfg.no_fragmentation)
		notify_add(&b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	sighash_add(sa->peer, &b, true);
	n = ike_build_finish(&b, NULL);
	memset(sapl, 0, sizeof(*sapl));
	if (n < 0)
		return n;
	/* RealMessage1 of §2.15: the last request sent. */
	memcpy(sa->hs->init_req, e->out, (size_t)n);
	sa->hs->init_req_len = (size_t)n;
	return n;
}

static int send_init_request(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	int n = build_init_request(e, sa), rc;

	if (n < 0)
		return n;
	if ((rc = ike_train_one(&e->train, e->out, (size_t)n)) < 0)
		return rc;
	ike_sa_set_request(sa, IKE_REQ_INIT, &e->train, now, rto(sa, 1));
	tx_push(e, &sa->path, e->out, (size_t)n);
	return IKE_OK;
}

static struct ike_peer *peer_by_id(const struct ike_engine *e, uint32_t id)
{
	for (size_t i = 0; i < e->n_peers; i++)
		if (e->peers[i]->id == id && !e->peers[i]->removed)
			return e->peers[i];
	return NULL;
}

static struct ike_peer *first_peer(const struct ike_engine *e)
{
	for (size_t i = 0; i < e->n_peers; i++)
		if (!e->peers[i]->removed)
			return e->peers[i];
	return NULL;
}

static int initiate(struct ike_engine *e, struct ike_peer *p, const struct ike_path *path,
                    ike_time_t now)
{
	struct ike_sa *sa;
	int rc;

	if (!p || !path || !ike_addr_valid(&path->local) || !ike_addr_valid(&path->remote) ||
	    path->local.family != path->remote.family)
		return IKE_ERR_INVAL;
	if (!(sa = sa_alloc(e, p, true, new_ike_spi(e))))
		return IKE_ERR_TOO_MANY;
	if (!ike_sa_hs_new(sa)) {
		sa_discard(e, sa);
		return IKE_ERR_TOO_MANY;
	}
	sa->state = IKE_SA_INIT_SENT;
	sa->path = *path;
	sa->hs->ni_len = IKE_NONCE_LEN;
	rnd(e, sa->hs->ni, sa->hs->ni_len);
	/* Our first group of our first proposal; INVALID_KE_PAYLOAD may
	 * move us to another one we offered (§1.2). */
	sa->ke_group = p->ike_props.p[0].ke[0];
	sa->last_heard = now;
	if (ke_new(&sa->hs->ke, sa->ke_group, p->cfg.allow_legacy) < 0) {
		sa_discard(e, sa);
		return IKE_ERR_CRYPTO;
	}
	if ((rc = send_init_request(e, sa, now)) < 0) {
		sa_discard(e, sa);
		return rc;
	}
	return (int)sa->id;
}

static void flush(struct ike_engine *e, ike_time_t now);

int ike_engine_initiate_peer(struct ike_engine *e, uint32_t peer, const struct ike_path *path,
                             ike_time_t now)
{
	int rc;

	if (!e)
		return IKE_ERR_INVAL;
	rc = initiate(e, peer_by_id(e, peer), path, now);
	flush(e, now);
	return rc;
}

int ike_engine_initiate(struct ike_engine *e, const struct ike_path *path, ike_time_t now)
{
	int rc;

	if (!e)
		return IKE_ERR_INVAL;
	rc = initiate(e, first_peer(e), path, now);
	flush(e, now);
	return rc;
}

static bool group_offered(const struct ike_peer *p, uint16_t g)
{
	for (size_t i = 0; i < p->ike_props.n; i++)
		for (size_t j = 0; j < p->ike_props.p[i].n_ke; j++)
			if (p->ike_props.p[i].ke[j] == g)
				return true;
	return false;
}

static struct ike_sa *find_half_open(struct ike_engine *e, uint64_t spi_i,
                                     const struct ike_addr *remote)
{
	return touch(e, satab_ho_find(&e->tab, spi_i, remote));
}

/* ---- connections by address (the first of the two steps) --------------- */

static bool prefix_has(const struct ike_prefix *p, const struct ike_addr *a)
{
	unsigned bits = p->len, i;

	if (p->family != a->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (p->addr[i] != a->addr[i])
			return false;
	return bits == 0 || ((p->addr[i] ^ a->addr[i]) & (0xFF00 >> bits)) == 0;
}

/* How well a list of prefixes fits a: 0 not at all, 1 any (empty list),
 * 2 a subnet, 3 the host itself. */
static int prefixes_score(const struct ike_prefix *p, size_t n, const struct ike_addr *a)
{
	int best = n ? 0 : 1;

	for (size_t i = 0; i < n; i++) {
		int sc = p[i].len == (p[i].family == AF_INET ? 32 : 128) ? 3 : 2;

		if (prefix_has(&p[i], a) && sc > best)
			best = sc;
	}
	return best;
}

/* 0: the connection does not apply to path; else the higher the better,
 * the peer's address weighing more than ours. */
static int addr_score(const struct ike_peer *p, const struct ike_path *path)
{
	int l = prefixes_score(p->cfg.local_addrs, p->cfg.n_local_addrs, &path->local);
	int r = prefixes_score(p->cfg.remote_addrs, p->cfg.n_remote_addrs, &path->remote);

	return l && r ? r * 4 + l : 0;
}

/* The candidate connection of a new IKE_SA_INIT (strongSwan's ike_cfg
 * lookup): best address fit, the first added on a tie. */
static struct ike_peer *peer_for_init(const struct ike_engine *e, const struct ike_path *path)
{
	struct ike_peer *best = NULL;
	int best_score = 0;

	for (size_t i = 0; i < e->n_peers; i++) {
		struct ike_peer *p = e->peers[i];
		int sc = p->removed ? 0 : addr_score(p, path);

		if (sc > best_score || (sc && sc == best_score && p->id < best->id)) {
			best = p;
			best_score = sc;
		}
	}
	return best;
}

/* §2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>),
 * here with HMAC-SHA-256 keyed by the secret. */
static void make_cookie(const uint8_t secret[32], uint8_t version, const struct ike_msg *m,
                        const struct ike_path *path, uint8_t out[COOKIE_LEN])
{
	uint8_t data[IKE_NONCE_MAX + 16 + 2 + 8];
	size_t n = 0, alen = path->remote.family == AF_INET ? 4 : 16;

	memcpy(data, m->nonce.data, m->nonce.len);
	n += m->nonce.len;
	memcpy(data + n, path->remote.addr, alen);
	n += alen;
	data[n++] = (uint8_t)(path->remote.port >> 8);
	data[n++] = (uint8_t)path->remote.port;
	for (int i = 7; i >= 0; i--)
		data[n++] = (uint8_t)(m->hdr.spi_i >> (8 * i));
	out[0] = version;
	prf_compute(PRF_HMAC_SHA2_256, secret, 32, data, n, out + 1);
}

/* §2.6: "change the value of <secret> frequently, especially if under
 * attack": a cookie an attacker collected stops working within a minute. */
static void cookie_rotate(struct ike_engine *e, ike_time_t now)
{
	if (!e->cookie_started) {
		e->cookie_started = true;
		e->cookie_since = now;
		return;
	}
	if (now - e->cookie_since < COOKIE_SECRET_SWITCH)
		return;
	/* Valid for a while after it was due to retire, not after it did
	 * (with no IKE_SA_INIT for an hour, that is long ago). */
	memcpy(e->cookie_prev, e->cookie_secret, sizeof(e->cookie_prev));
	e->cookie_prev_version = e->cookie_version;
	e->cookie_prev_until = e->cookie_since + COOKIE_SECRET_SWITCH + COOKIE_PREV_VALID;
	rnd(e, e->cookie_secret, sizeof(e->cookie_secret));
	e->cookie_version++;
	e->cookie_since = now;
}

static bool cookie_ok(const struct ike_engine *e, const struct ike_msg *m,
                      const struct ike_path *path, ike_time_t now)
{
	const struct ike_notify *c = ike_msg_notify(m, IKE_N_COOKIE);
	const uint8_t *secret;
	uint8_t want[COOKIE_LEN];

	/* §2.6: the COOKIE notify must come first. */
	if (!c || c != &m->notify[0] || m->n_payloads == 0 || m->order[0] != IKE_PL_NOTIFY ||
	    c->len != COOKIE_LEN)
		return false;
	if (c->data[0] == e->cookie_version)
		secret = e->cookie_secret;
	else if (c->data[0] == e->cookie_prev_version && now < e->cookie_prev_until)
		secret = e->cookie_prev;
	else
		return false;
	make_cookie(secret, c->data[0], m, path, want);
	return sodium_memcmp(want, c->data, COOKIE_LEN) == 0;
}

/* §2.6: a responder under load answers IKE_SA_INIT with a COOKIE and keeps
 * no state. "Under load" is many half-open SAs in all, or a few from the
 * request's own address (strongSwan's cookie_threshold_ip: one host
 * flooding from its real address gets cookies before others do). */
static bool cookie_wanted(const struct ike_engine *e, const struct ike_path *path)
{
	if (e->opts.no_cookies)
		return false;
	return e->tab.n_half_open >= e->opts.cookie_threshold ||
	       satab_ho_from(&e->tab, &path->remote) >= e->opts.cookie_threshold_ip;
}

static int on_init_request(struct ike_engine *e, const struct ike_path *path, size_t len,
                           ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	const struct ike_hdr *rh = &m->hdr;
	struct ike_suite suite;
	struct ike_sa *sa;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_ke ke;
	struct ike_sa_pl *reply = &e->sapl;
	struct ike_peer *p;
	uint8_t pub[KE_MAX_PUBLIC], gir[KE_MAX_SHARED];
	size_t gir_len = 0;
	int rc, n;

	if (rh->msg_id != 0 || rh->spi_i == 0 || rh->spi_r != 0 || !(rh->flags & IKE_FLAG_I)) {
		e->stats.rx_malformed++;
		return IKE_ERR_SYNTAX;
	}
	/* A retransmitted request: replay our response (§2.1), nothing more. */
	if ((sa = find_half_open(e, rh->spi_i, &path->remote))) {
		if (sa->state == IKE_SA_INIT_ANSWERED && sa->resp_valid &&
		    len == sa->hs->init_req_len && memcmp(e->rx, sa->hs->init_req, len) == 0) {
			e->stats.rx_retransmit++;
			tx_push_stored(e, &sa->resp_path, sa->resp);
		} else {
			e->stats.rx_old++;
		}
		return IKE_OK;
	}
	if (!ike_msg_has(m, IKE_PL_SA) || !ike_msg_has(m, IKE_PL_KE) ||
	    !ike_msg_has(m, IKE_PL_NONCE)) {
		e->stats.rx_malformed++;
		return IKE_ERR_SYNTAX;
	}
	if (!(p = peer_for_init(e, path))) {
		e->stats.no_peer++;
		return IKE_OK;
	}
	cookie_rotate(e, now);
	if (cookie_wanted(e, path) && !cookie_ok(e, m, path, now)) {
		uint8_t c[COOKIE_LEN];

		/* §2.6: no state, just the cookie the retry must carry. */
		make_cookie(e->cookie_secret, e->cookie_version, m, path, c);
		e->stats.cookie_sent++;
		send_init_error(e, path, rh, IKE_N_COOKIE, c, sizeof(c));
		return IKE_OK;
	}
	/* §2.6: past the cookie, the request's source address is real;
	 * it may still hold only so many half-open SAs, and all of them
	 * together only so many (strongSwan's block_threshold and
	 * init_limit_half_open). */
	if (satab_ho_from(&e->tab, &path->remote) >= e->opts.block_threshold ||
	    e->tab.n_half_open >= e->opts.half_open_max) {
		e->stats.half_open_blocked++;
		return IKE_OK;
	}
	rc = ike_proposal_select(p->ike_props.p, p->ike_props.n, m->sa.p, m->sa.n_proposals,
	                         m->ke.group, 0, &suite);
	if (rc == IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD) {
		uint8_t g[2] = {(uint8_t)(suite.ke >> 8), (uint8_t)suite.ke};

		e->stats.invalid_ke++;
		send_init_error(e, path, rh, IKE_N_INVALID_KE_PAYLOAD, g, 2);
		return IKE_OK;
	}
	if (rc < 0) {
		e->stats.no_proposal++;
		send_init_error(e, path, rh, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		refused_event(e, NULL, p, path, &m->sa, true);
		return IKE_OK;
	}
	if (!(sa = sa_alloc(e, p, false, new_ike_spi(e)))) {
		e->stats.sa_full++;
		return IKE_OK;
	}
	sa->path = *path;
	sa->spi_i = rh->spi_i;
	if (satab_ho_add(&e->tab, sa) < 0 || satab_half_open_begin(&e->tab, sa) < 0 ||
	    !ike_sa_hs_new(sa)) {
		sa_discard(e, sa);
		e->stats.sa_full++;
		return IKE_OK;
	}
	sa->suite = suite;
	sa->ke_group = suite.ke;
	memcpy(sa->hs->ni, m->nonce.data, m->nonce.len);
	sa->hs->ni_len = m->nonce.len;
	sa->hs->nr_len = IKE_NONCE_LEN;
	rnd(e, sa->hs->nr, sa->hs->nr_len);
	if (ke_new(&sa->hs->ke, suite.ke, p->cfg.allow_legacy) < 0) {
		sa_discard(e, sa);
		return IKE_OK;
	}
	if (ke_shared(&sa->hs->ke, m->ke.data, m->ke.len, gir, &gir_len) < 0) {
		/* An invalid public value (§5): refuse, keep nothing. */
		sa_discard(e, sa);
		e->stats.rx_malformed++;
		send_init_error(e, path, rh, IKE_N_INVALID_SYNTAX, NULL, 0);
		return IKE_OK;
	}
	sa->nat_remote =
	    natd_mismatch(m, IKE_N_NAT_DETECTION_SOURCE_IP, sa->spi_i, 0, &path->remote);
	sa->peer_frag = !p->cfg.no_fragmentation &&
	                ike_msg_notify(m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	/* Forced encapsulation: we act as if behind a NAT (strongSwan). */
	sa->nat_local =
	    p->cfg.force_encap ||
	    natd_mismatch(m, IKE_N_NAT_DETECTION_DESTINATION_IP, sa->spi_i, 0, &path->local);
	memcpy(sa->hs->init_req, e->rx, len);
	sa->hs->init_req_len = len;
	sa->peer_hashes = peer_hash_set(m);

	memset(reply, 0, sizeof(*reply));
	ike_suite_to_offer(&suite, NULL, 0, &reply->p[0]);
	reply->n_proposals = 1;
	ke_public(&sa->hs->ke, pub);
	ke.group = suite.ke;
	ke.data = pub;
	ke.len = ke_public_len(&sa->hs->ke);
	hdr_for(sa, IKE_SA_INIT, true, 0, &h);
	ike_build_init(&b, e->out, sizeof(e->out), &h);
	ike_build_sa(&b, reply);
	ike_build_ke(&b, &ke);
	ike_build_nonce(&b, sa->hs->nr, sa->hs->nr_len);
	natd_add(e, &b, sa);
	if (!p->cfg.no_fragmentation)
		notify_add(&b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	/* RFC 7427 §4: answer the peer's hash list with ours; strongSwan's
	 * responder sends its CERTREQ here (ike_cert_pre.c). */
	sighash_add(sa->peer, &b, sa->peer_hashes != 0);
	certreq_add(e, sa->peer, &b);
	n = ike_build_finish(&b, NULL);
	memset(reply, 0, sizeof(*reply));
	if (n < 0 || (rc = ike_sa_derive(sa, gir, gir_len)) < 0) {
		sodium_memzero(gir, sizeof(gir));
		sa_discard(e, sa);
		return n < 0 ? n : rc;
	}
	sodium_memzero(gir, sizeof(gir));
	ke_free(&sa->hs->ke);
	memcpy(sa->hs->init_resp, e->out, (size_t)n);
	sa->hs->init_resp_len = (size_t)n;
	ike_train_one(&e->train, e->out, (size_t)n);
	ike_sa_set_response(sa, &e->train, path);
	sa->state = IKE_SA_INIT_ANSWERED;
	sa->last_heard = now;
	sa->half_open_deadline = add_time(now, p->cfg.half_open_timeout);
	tx_push(e, path, e->out, (size_t)n);
	return IKE_OK;
}

static int send_auth_request(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

static void sa_fail(struct ike_engine *e, struct ike_sa *sa, enum ike_reason r, uint16_t notify)
{
	sa_remove(e, sa, r, notify);
}

static int on_init_response(struct ike_engine *e, const struct ike_path *path, size_t len,
                            ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	const struct ike_hdr *rh = &m->hdr;
	const struct ike_notify *err;
	struct ike_suite suite;
	struct ike_sa *sa = NULL;
	uint8_t gir[KE_MAX_SHARED];
	size_t gir_len = 0;
	int rc;

	sa = touch(e, satab_by_spi(&e->tab, rh->spi_i));
	if (!sa || sa->state != IKE_SA_INIT_SENT || !sa->initiator || rh->msg_id != 0 ||
	    (rh->flags & IKE_FLAG_I)) {
		e->stats.rx_no_sa++;
		return IKE_OK;
	}
	const struct ike_notify *cookie = ike_msg_notify(m, IKE_N_COOKIE);

	if (cookie && !ike_msg_has(m, IKE_PL_SA)) {
		/* §2.6: repeat the request with the cookie in front; a
		 * responder asking again and again is ignored (the request
		 * retransmits and eventually times out). */
		if (cookie->len < 1 || cookie->len > IKE_SA_COOKIE_MAX ||
		    sa->hs->cookie_rounds >= COOKIE_ROUNDS_MAX) {
			e->stats.rx_malformed++;
			return IKE_OK;
		}
		memcpy(sa->hs->cookie, cookie->data, cookie->len);
		sa->hs->cookie_len = cookie->len;
		sa->hs->cookie_rounds++;
		return send_init_request(e, sa, now);
	}
	if ((err = ike_msg_notify(m, IKE_N_INVALID_KE_PAYLOAD))) {
		uint16_t g = err->len == 2 ? wire_load16(err->data) : 0;

		/* §1.2: retry with the group asked for, if we offered it. */
		if (g == sa->ke_group || !group_offered(sa->peer, g) || sa->hs->ke_retries >= KE_RETRIES_MAX) {
			sa_fail(e, sa, IKE_REASON_INVALID_KE, IKE_N_INVALID_KE_PAYLOAD);
			return IKE_OK;
		}
		ke_free(&sa->hs->ke);
		sa->ke_group = g;
		sa->hs->ke_retries++;
		if (ke_new(&sa->hs->ke, g, sa->peer->cfg.allow_legacy) < 0) {
			sa_fail(e, sa, IKE_REASON_INVALID_KE, IKE_N_INVALID_KE_PAYLOAD);
			return IKE_OK;
		}
		return send_init_request(e, sa, now);
	}
	if ((err = first_error(m))) {
		/* Unauthenticated, but nothing better can be done with an
		 * IKE_SA_INIT refusal (§2.21.1). */
		sa_fail(e, sa,
		        err->type == IKE_N_NO_PROPOSAL_CHOSEN ? IKE_REASON_NO_PROPOSAL
		                                              : IKE_REASON_PEER_ERROR,
		        err->type);
		return IKE_OK;
	}
	if (rh->spi_r == 0 || !ike_msg_has(m, IKE_PL_SA) || !ike_msg_has(m, IKE_PL_KE) ||
	    !ike_msg_has(m, IKE_PL_NONCE)) {
		e->stats.rx_malformed++;
		return IKE_ERR_SYNTAX;
	}
	if (ike_proposal_check_reply(sa->peer->ike_props.p, sa->peer->ike_props.n, m->sa.p, m->sa.n_proposals, 0,
	                             &suite) < 0 ||
	    suite.ke != sa->ke_group || m->ke.group != sa->ke_group) {
		sa_fail(e, sa, IKE_REASON_NO_PROPOSAL, 0);
		return IKE_OK;
	}
	if (ke_shared(&sa->hs->ke, m->ke.data, m->ke.len, gir, &gir_len) < 0) {
		e->stats.rx_malformed++;
		return IKE_ERR_SYNTAX; /* a forged response must not kill us */
	}
	sa->spi_r = rh->spi_r;
	sa->suite = suite;
	memcpy(sa->hs->nr, m->nonce.data, m->nonce.len);
	sa->hs->nr_len = m->nonce.len;
	rc = ike_sa_derive(sa, gir, gir_len);
	sodium_memzero(gir, sizeof(gir));
	ke_free(&sa->hs->ke);
	if (rc < 0) {
		sa_fail(e, sa, IKE_REASON_PROTOCOL, 0);
		return rc;
	}
	memcpy(sa->hs->init_resp, e->rx, len);
	sa->hs->init_resp_len = len;
	sa->peer_hashes = peer_hash_set(m);
	sa->certreq_seen = certreq_seen(m);
	sa->nat_remote =
	    natd_mismatch(m, IKE_N_NAT_DETECTION_SOURCE_IP, sa->spi_i, sa->spi_r, &path->remote);
	sa->peer_frag = !sa->peer->cfg.no_fragmentation &&
	                ike_msg_notify(m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	sa->nat_local = sa->peer->cfg.force_encap ||
	                natd_mismatch(m, IKE_N_NAT_DETECTION_DESTINATION_IP, sa->spi_i,
	                              sa->spi_r, &path->local);
	/* §2.23: with a NAT in between, continue on port 4500. */
	if (sa->nat_local || sa->nat_remote) {
		if (sa->path.remote.port == 500)
			sa->path.remote.port = 4500;
		if (sa->path.local.port == 500)
			sa->path.local.port = 4500;
	}
	sa->last_heard = now;
	ike_sa_request_done(sa);
	/* An IKE_AUTH we cannot build or seal (too big even in fragments)
	 * would leave the SA waiting for nothing: end it, with its event. */
	if ((rc = send_auth_request(e, sa, now)) < 0)
		sa_fail(e, sa, IKE_REASON_PROTOCOL, 0);
	return rc;
}

/* ---- IKE_AUTH (§1.2, §2.15) -------------------------------------------- */

static void id_payload(const struct ike_identity *id, struct ike_id *out, uint8_t body[4 + 255],
                       size_t *body_len)
{
	memset(out, 0, sizeof(*out));
	out->type = id->type;
	out->data = id->data;
	out->len = id->len;
	/* RestOf*IDPayload (§2.15): ID Type, RESERVED, data. */
	body[0] = id->type;
	body[1] = body[2] = body[3] = 0;
	memcpy(body + 4, id->data, id->len);
	*body_len = 4 + (size_t)id->len;
}

/* The peer's authenticated ID, for status and events (ID_MAX bytes at
 * most, as our own IDs; longer ones are cut, the type says what it is). */
static void keep_peer_id(struct ike_sa *sa, const struct ike_id *id)
{
	size_t n = id->len < IKE_ID_MAX ? id->len : IKE_ID_MAX;

	memset(&sa->peer_id, 0, sizeof(sa->peer_id));
	sa->peer_id.type = id->type;
	sa->peer_id.len = (uint8_t)n;
	if (n)
		memcpy(sa->peer_id.data, id->data, n);
}

static bool id_matches(const struct ike_identity *want, const struct ike_id *got)
{
	if (want->type == 0)
		return true;
	return got->type == want->type && got->len == want->len &&
	       memcmp(got->data, want->data, want->len) == 0;
}

/* AUTH of one side (§2.15): initiator with RealMessage1 | Nr | prf(SK_pi,
 * IDi'), responder with RealMessage2 | Ni | prf(SK_pr, IDr'). */
static void auth_octets(const struct ike_sa *sa, bool of_initiator, const uint8_t *id_body,
                        size_t id_body_len, struct ike_auth_octets *o)
{
	o->real_msg = of_initiator ? sa->hs->init_req : sa->hs->init_resp;
	o->real_msg_len = of_initiator ? sa->hs->init_req_len : sa->hs->init_resp_len;
	o->nonce = of_initiator ? sa->hs->nr : sa->hs->ni;
	o->nonce_len = of_initiator ? sa->hs->nr_len : sa->hs->ni_len;
	o->sk_p = of_initiator ? sa->keys.sk_pi : sa->keys.sk_pr;
	o->sk_p_len = sa->keys.prf_len;
	o->id_body = id_body;
	o->id_body_len = id_body_len;
}

static int64_t wall_now(const struct ike_engine *e)
{
	return e->opts.wall_time ? e->opts.wall_time(e->opts.wall_ctx) : -1;
}

/*
 * Our AUTH payload (§2.15) over o into *a (data in e->authbuf: wipe it
 * once built): the PSK prf, or a signature with our certificate's key in
 * the scheme the peer's RFC 7427 hash list allows. 0 or IKE_ERR_CRYPTO.
 */
static int auth_make(struct ike_engine *e, struct ike_sa *sa, const struct ike_auth_octets *o,
                     struct ike_auth *a)
{
	enum ike_sig_scheme sch;
	int n, rc;

	memset(a, 0, sizeof(*a));
	if (sa->peer->cfg.local_auth != IKE_AUTHBY_PUBKEY) {
		if (ike_auth_psk(sa->keys.prf, sa->peer->psk, sa->peer->cfg.psk_len, o, e->authbuf) < 0)
			return IKE_ERR_CRYPTO;
		a->method = IKE_AUTH_PSK;
		a->data = e->authbuf;
		a->len = sa->keys.prf_len;
		return IKE_OK;
	}
	sch = ike_creds_pick_scheme(sa->peer->cfg.creds, sa->peer_hashes, sa->peer->cfg.rsa_pss);
	if ((n = ike_auth_signed_octets(sa->keys.prf, o, e->octets, sizeof(e->octets))) < 0)
		return IKE_ERR_CRYPTO;
	rc = ike_creds_sign(sa->peer->cfg.creds, sch, e->octets, (size_t)n, e->authbuf,
	                    sizeof(e->authbuf));
	sodium_memzero(e->octets, (size_t)n);
	if (rc < 0)
		return IKE_ERR_CRYPTO;
	a->method = ike_sig_method(sch);
	a->data = e->authbuf;
	a->len = (size_t)rc;
	return IKE_OK;
}

/*
 * Check the peer's AUTH in e->msg (§2.15) against its ID payload id (of
 * the initiator's side or the responder's): the PSK prf, or, for
 * remote_auth pubkey, its certificate chain to our anchors (valid now),
 * the ID inside the certificate, and the signature. On failure the
 * reason goes to e->auth_err and the counters.
 */
static bool auth_verify(struct ike_engine *e, struct ike_sa *sa, bool of_initiator,
                        const struct ike_id *id)
{
	const struct ike_msg *m = &e->msg;
	struct ike_auth_octets o;
	struct ike_peer_cert *pc = NULL;
	int n, rc;

	e->auth_err = 0;
	auth_octets(sa, of_initiator, id->body, id->body_len, &o);
	if (sa->peer->cfg.remote_auth != IKE_AUTHBY_PUBKEY) {
		if (m->auth.method != IKE_AUTH_PSK) {
			e->auth_err = IKE_CERT_ERR_METHOD;
			return false;
		}
		return ike_auth_psk_verify(sa->keys.prf, sa->peer->psk, sa->peer->cfg.psk_len, &o, m->auth.data,
		                           m->auth.len);
	}
	rc = ike_peer_cert_verify(sa->peer->cfg.creds, m->cert, m->n_cert, wall_now(e), &pc);
	if (rc == 0 && !ike_peer_cert_id_ok(pc, id->type, id->data, id->len))
		rc = IKE_CERT_ERR_ID;
	if (rc < 0) {
		e->stats.cert_invalid++;
	} else if ((n = ike_auth_signed_octets(sa->keys.prf, &o, e->octets, sizeof(e->octets))) <
	           0) {
		rc = IKE_CERT_ERR_INVAL;
	} else {
		rc = ike_peer_cert_check_auth(pc, sa->peer->cfg.allow_legacy & IKE_LEGACY_SHA1,
		                              m->auth.method, m->auth.data, m->auth.len, e->octets,
		                              (size_t)n);
		sodium_memzero(e->octets, (size_t)n);
		if (rc < 0)
			e->stats.sig_invalid++;
	}
	ike_peer_cert_free(pc);
	e->auth_err = rc < 0 ? rc : 0;
	return rc == 0;
}

/* What we propose for a new CHILD_SA: the acquiring packet's selectors
 * first, if any (§2.9), then the configured ones. */
static void proposal_ts(const struct ike_engine *e, const struct ike_sa *sa, struct ike_child *c)
{
	size_t nl = 0, nr = 0;

	if (sa->has_acq) {
		c->local.s[nl++] = sa->acq_src;
		c->remote.s[nr++] = sa->acq_dst;
	}
	for (size_t i = 0; i < sa->peer->cfg.n_local_ts && nl < ESP_MAX_SELS; i++)
		c->local.s[nl++] = sa->peer->cfg.local_ts[i];
	for (size_t i = 0; i < sa->peer->cfg.n_remote_ts && nr < ESP_MAX_SELS; i++)
		c->remote.s[nr++] = sa->peer->cfg.remote_ts[i];
	c->local.n = nl;
	c->remote.n = nr;
}

static int send_auth_request(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	struct ike_hdr h;
	struct ike_build b;
	struct ike_id idi, idr;
	uint8_t body[4 + 255], idr_body[4 + 255];
	size_t body_len, idr_len;
	struct ike_auth_octets o;
	struct ike_auth a;
	struct ike_child *c = &sa->hs->pending;
	struct ike_cp cp;
	uint8_t cpbuf[IKE_CP_BUF];
	int n, rc;

	id_payload(&sa->peer->cfg.local_id, &idi, body, &body_len);
	auth_octets(sa, true, body, body_len, &o);
	if (auth_make(e, sa, &o, &a) < 0)
		return IKE_ERR_CRYPTO;

	memset(c, 0, sizeof(*c));
	c->state = IKE_CHILD_PROPOSED;
	c->spi_in = new_esp_spi(e, sa);
	proposal_ts(e, sa, c);
	ike_child_offer(&sa->peer->esp_props, c->spi_in, IKE_SELECT_NO_KE, &e->sapl);
	ike_child_ts_payload(c->local.s, c->local.n, &e->tsi_pl);
	ike_child_ts_payload(c->remote.s, c->remote.n, &e->tsr_pl);

	hdr_for(sa, IKE_AUTH, false, sa->tx_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	ike_build_id(&b, IKE_PL_IDI, &idi);
	/* strongSwan's order: IDi CERT N(INITIAL_CONTACT) CERTREQ IDr AUTH */
	certs_add(sa->peer, &b, sa->certreq_seen);
	if (sa->peer->cfg.initial_contact && !sa->peer->had_sa)
		notify_add(&b, IKE_N_INITIAL_CONTACT, NULL, 0);
	certreq_add(e, sa->peer, &b);
	if (sa->peer->cfg.remote_id.type) {
		/* §3.5: IDr in the request names whom we want to talk to. */
		id_payload(&sa->peer->cfg.remote_id, &idr, idr_body, &idr_len);
		ike_build_id(&b, IKE_PL_IDR, &idr);
	}
	ike_build_auth(&b, &a);
	/* §2.19, strongSwan's order: CP before SA */
	if (sa->peer->cfg.request_vip4 || sa->peer->cfg.request_vip6) {
		ike_cp_request_build(sa->peer->cfg.request_vip4, sa->peer->cfg.request_vip6, &cp,
		                     cpbuf);
		ike_build_cp(&b, &cp);
	}
	ike_build_sa(&b, &e->sapl);
	ike_build_ts(&b, IKE_PL_TSI, &e->tsi_pl);
	ike_build_ts(&b, IKE_PL_TSR, &e->tsr_pl);
	n = ike_build_finish(&b, NULL);
	sodium_memzero(e->authbuf, sizeof(e->authbuf));
	if ((rc = send_request(e, sa, IKE_REQ_AUTH, n, now)) < 0)
		return rc;
	sa->state = IKE_SA_AUTH_SENT;
	return IKE_OK;
}

/* A free slot's child (zeroed, state IKE_CHILD_FREE) to fill in, or NULL
 * (no room, or no memory). */
static struct ike_child *child_slot(struct ike_sa *sa)
{
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++) {
		if (sa->child[j] && sa->child[j]->state == IKE_CHILD_FREE) {
			memset(sa->child[j], 0, sizeof(*sa->child[j]));
			return sa->child[j];
		}
		if (!sa->child[j])
			return sa->child[j] = calloc(1, sizeof(*sa->child[j]));
	}
	return NULL;
}

/* Is there a free slot? (Taking none.) */
static bool child_room(const struct ike_sa *sa)
{
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (!live(sa->child[j]))
			return true;
	return false;
}

/* Nonces and g^ir of the exchange that created a CHILD_SA (§2.17). */
struct child_keying {
	bool we_initiated;
	const uint8_t *gir, *ni, *nr;
	size_t gir_len, ni_len, nr_len;
	uint32_t rekeyed_spi_in;
	bool redundant; /* §2.8.1 loser of a simultaneous rekey */
};

/* Mark c up (its rekey timer running) and report it with its keys. */
static int child_up_event_ex(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c,
                             const struct child_keying *k, ike_time_t now)
{
	struct ike_event ev;
	int rc;

	c->state = IKE_CHILD_UP;
	c->rekey_at =
	    sa->peer->cfg.child_rekey_time ? add_time(now, sa->peer->cfg.child_rekey_time) : IKE_TIME_NEVER;
	ev_base(sa, IKE_EV_CHILD_UP, &ev);
	rc = ike_child_keys(c, &sa->keys, k->we_initiated, k->gir, k->gir_len, k->ni, k->ni_len,
	                    k->nr, k->nr_len, sa->nat_local || sa->nat_remote, &ev.child);
	ev.child.rekeyed_spi_in = k->rekeyed_spi_in;
	ev.child.we_initiated = k->we_initiated;
	ev.child.redundant = k->redundant;
	if (rc == 0)
		ev_push(e, &ev);
	else
		child_free(sa, c); /* never reported: never a CHILD_DOWN */
	ike_event_wipe(&ev);
	return rc;
}

/* The first CHILD_SA, keyed from IKE_SA_INIT's nonces. */
static int child_up_event(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c,
                          ike_time_t now)
{
	struct child_keying k = {sa->initiator, NULL,       sa->hs->ni, sa->hs->nr, 0,
	                         sa->hs->ni_len,    sa->hs->nr_len, 0,      false};

	return child_up_event_ex(e, sa, c, &k, now);
}

static void ike_up_event(struct ike_engine *e, struct ike_sa *sa, const struct ike_cp_reply *cp)
{
	struct ike_event ev;

	sa->up = true;
	sa->peer->had_sa = true;
	satab_ident_add(&e->tab, sa); /* out of memory: uniqueness misses it */
	sa->rekey_at = sa->peer->cfg.ike_rekey_time ? add_time(sa->last_heard, sa->peer->cfg.ike_rekey_time)
	                                     : IKE_TIME_NEVER;
	ev_base(sa, IKE_EV_IKE_UP, &ev);
	if (cp)
		ev.cp = *cp;
	ev_push(e, &ev);
}

static void child_failed_event(struct ike_engine *e, struct ike_sa *sa, uint16_t notify)
{
	struct ike_event ev;

	ev_base(sa, IKE_EV_CHILD_FAILED, &ev);
	ev.reason =
	    notify == IKE_N_NO_PROPOSAL_CHOSEN ? IKE_REASON_NO_PROPOSAL : IKE_REASON_PEER_ERROR;
	ev.notify = notify;
	ev_push(e, &ev);
}

/*
 * The selectors a responder allows for sa's CHILD_SAs: the connection's,
 * except that with virtual IPs assigned (§2.19) the peer's side is its
 * addresses and nothing else, so that no client can send as, or receive
 * for, another one.
 */
static void ts_policy(const struct ike_sa *sa, struct ike_ts_policy *pol,
                      struct esp_sel vips[IKE_CP_MAX_ADDRS])
{
	const struct ike_config *cfg = &sa->peer->cfg;

	pol->local = cfg->local_ts;
	pol->n_local = cfg->n_local_ts;
	pol->remote = cfg->remote_ts;
	pol->n_remote = cfg->n_remote_ts;
	if (!sa->n_vip)
		return;
	for (size_t i = 0; i < sa->n_vip; i++) {
		memset(&vips[i], 0, sizeof(vips[i]));
		vips[i].family = sa->vip[i].family;
		vips[i].port_hi = 65535;
		memcpy(vips[i].start, sa->vip[i].addr, 16);
		memcpy(vips[i].end, sa->vip[i].addr, 16);
	}
	pol->remote = vips;
	pol->n_remote = sa->n_vip;
}

/* Responder: the ESP suite of an IKE_AUTH request's SA payload into *c;
 * 0 or NO_PROPOSAL_CHOSEN. */
static uint16_t child_suite(const struct ike_sa *sa, const struct ike_msg *m, struct ike_child *c)
{
	memset(c, 0, sizeof(*c));
	if (ike_proposal_select(sa->peer->esp_props.p, sa->peer->esp_props.n, m->sa.p,
	                        m->sa.n_proposals, KE_NONE, IKE_SELECT_NO_KE, &c->suite) < 0)
		return IKE_N_NO_PROPOSAL_CHOSEN;
	return 0;
}

/* Responder: narrow the peer's TSi/TSr (§2.9) into c (its suite chosen);
 * 0 or TS_UNACCEPTABLE. */
static uint16_t child_ts(struct ike_engine *e, struct ike_sa *sa, const struct esp_sel *tsi,
                         size_t n_tsi, const struct esp_sel *tsr, size_t n_tsr,
                         struct ike_child *c)
{
	struct ike_ts_result *res = &e->tsres;
	struct esp_sel vips[IKE_CP_MAX_ADDRS];
	struct ike_ts_policy pol;

	ts_policy(sa, &pol, vips);
	if (ike_ts_select(&pol, 1, tsi, n_tsi, tsr, n_tsr, res) < 0) {
		memset(c, 0, sizeof(*c));
		return IKE_N_TS_UNACCEPTABLE;
	}
	/* As responder, TSi is the peer's side, TSr ours. */
	c->remote = res->tsi;
	c->local = res->tsr;
	c->spi_out = ike_child_spi(c->suite.spi);
	c->spi_in = new_esp_spi(e, sa);
	c->state = IKE_CHILD_UP;
	return 0;
}

static void run_pending(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

/* ---- the connection an IKE_AUTH belongs to (the second step) ------------ */

/* 0: want does not accept got; 1: want is "any"; 2: the same ID. */
static int id_fit(const struct ike_identity *want, const struct ike_id *got)
{
	if (want->type == 0)
		return 1;
	return got->type == want->type && got->len == want->len &&
	               memcmp(got->data, want->data, want->len) == 0
	           ? 2
	           : 0;
}

/* Does p's remote_auth fit the AUTH method the peer used? */
static bool auth_fit(const struct ike_peer *p, uint8_t method)
{
	return (p->cfg.remote_auth == IKE_AUTHBY_PSK) == (method == IKE_AUTH_PSK);
}

/* Would p's IKE proposals have chosen the suite sa runs with? (Its keys
 * came from the candidate's proposals; another connection must admit
 * them too.) */
static bool suite_fit(struct ike_engine *e, const struct ike_peer *p, const struct ike_sa *sa)
{
	struct ike_suite out;
	bool ok;

	memset(&e->sapl.p[0], 0, sizeof(e->sapl.p[0]));
	ike_suite_to_offer(&sa->suite, NULL, 0, &e->sapl.p[0]);
	ok = ike_proposal_select(p->ike_props.p, p->ike_props.n, e->sapl.p, 1, sa->suite.ke, 0,
	                         &out) == 0;
	memset(&e->sapl.p[0], 0, sizeof(e->sapl.p[0]));
	return ok;
}

/*
 * The connection for the IKE_AUTH request in e->msg (engine.h,
 * ike_engine_peer_add(): strongSwan's peer_cfg match): addresses, IDi,
 * AUTH method and the suite decide whether one fits; among those, an
 * exact IDi beats "any", an IDr naming our local_id comes next (a hint,
 * never a reason to refuse), then the address fit, then the candidate
 * IKE_SA_INIT chose. NULL: none fits.
 */
static struct ike_peer *peer_for_auth(struct ike_engine *e, const struct ike_sa *sa,
                                      const struct ike_path *path)
{
	const struct ike_msg *m = &e->msg;
	bool has_idr = ike_msg_has(m, IKE_PL_IDR);
	struct ike_peer *best = NULL;
	long best_score = 0;

	for (size_t i = 0; i < e->n_peers; i++) {
		struct ike_peer *p = e->peers[i];
		int a = p->removed ? 0 : addr_score(p, path);
		int idf = a ? id_fit(&p->cfg.remote_id, &m->idi) : 0;
		long sc;

		if (!idf || !auth_fit(p, m->auth.method) || !suite_fit(e, p, sa))
			continue;
		sc = idf * 1000L + (has_idr && id_fit(&p->cfg.local_id, &m->idr) == 2 ? 100 : 0) +
		     a * 2L + (p == sa->peer);
		if (sc > best_score || (sc == best_score && p->id < best->id)) {
			best = p;
			best_score = sc;
		}
	}
	return best;
}

static bool same_identity(const struct ike_sa *a, const struct ike_sa *b)
{
	return a->peer_id.type == b->peer_id.type && a->peer_id.len == b->peer_id.len &&
	       memcmp(a->peer_id.data, b->peer_id.data, a->peer_id.len) == 0 &&
	       a->peer->cfg.local_id.type == b->peer->cfg.local_id.type &&
	       a->peer->cfg.local_id.len == b->peer->cfg.local_id.len &&
	       memcmp(a->peer->cfg.local_id.data, b->peer->cfg.local_id.data,
	              a->peer->cfg.local_id.len) == 0;
}

/* Another live IKE SA of sa's identity (ours and the peer's), or NULL. */
static struct ike_sa *twin(struct ike_engine *e, const struct ike_sa *sa)
{
	for (struct ike_sa *o = satab_ident_first(&e->tab, &sa->peer_id); o;
	     o = satab_ident_next(&e->tab, o))
		if (o != sa && o->up && same_identity(o, sa) && o->state != IKE_SA_REKEYED &&
		    o->state != IKE_SA_DELETING && !o->redundant)
			return o;
	return NULL;
}

/*
 * sa (authenticated, not yet in the identity index) replaces every other
 * IKE SA of its identity: INITIAL_CONTACT (§2.4: "the other IKE SAs of
 * this identity are gone on the peer's side"; never those of other
 * identities) or unique = replace. Removed at once, with events: the peer
 * lost them (INITIAL_CONTACT) or we delete them (replace, with a Delete).
 */
static void replace_twins(struct ike_engine *e, struct ike_sa *sa, bool initial_contact,
                          ike_time_t now)
{
	struct ike_sa *o, *next;

	for (o = satab_ident_first(&e->tab, &sa->peer_id); o; o = next) {
		next = satab_ident_next(&e->tab, o);
		if (o == sa || !same_identity(o, sa))
			continue;
		touch(e, o);
		e->stats.unique_replaced++;
		if (initial_contact) {
			sa_remove(e, o, IKE_REASON_REPLACED, IKE_N_INITIAL_CONTACT);
		} else if (o->state == IKE_SA_ESTABLISHED) {
			o->want_delete = true;
			o->del_reason = IKE_REASON_REPLACED;
			run_pending(e, o, now);
		}
	}
}

static int auth_finish(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa,
                       const struct ike_cp_reply *ans, ike_time_t now);

/* IKE_EV_NEED: the exchange of sa waits for ike_engine_resume(). */
static void need_event(struct ike_engine *e, const struct ike_sa *sa, enum ike_need need,
                       const struct ike_cp_request *req)
{
	struct ike_event ev;

	ev_base(sa, IKE_EV_NEED, &ev);
	ev.need = need;
	ev.peer_id = sa->peer_id;
	ev.cp_req = *req;
	ev_push(e, &ev);
}

static int on_auth_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                           ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	struct ike_hdr h;
	struct ike_build b;
	bool ok, ic = ike_msg_notify(m, IKE_N_INITIAL_CONTACT) != NULL;
	struct ike_peer *p = NULL;
	struct auth_pending pa;
	int rc;

	if (sa->state != IKE_SA_INIT_ANSWERED) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	/* Verify before anything is committed: first which connection the
	 * IDs and the AUTH method ask for, then AUTH with its credentials. */
	e->auth_err = 0;
	ok = ike_msg_has(m, IKE_PL_IDI) && ike_msg_has(m, IKE_PL_AUTH);
	if (ok && !(p = peer_for_auth(e, sa, path))) {
		e->stats.no_peer++;
		ok = false;
	}
	if (ok) {
		peer_move(e, sa, p);
		ok = auth_verify(e, sa, true, &m->idi);
	} else if (ike_msg_has(m, IKE_PL_IDI) && ike_msg_has(m, IKE_PL_AUTH)) {
		e->auth_err = IKE_CERT_ERR_NO_PEER;
	}
	if (ok)
		keep_peer_id(sa, &m->idi);
	/* unique = keep: the identity's SA stays, this one goes (unless the
	 * peer says, with INITIAL_CONTACT, that it lost the other). */
	if (ok && p->cfg.unique == IKE_UNIQUE_KEEP && !ic && twin(e, sa)) {
		e->stats.unique_refused++;
		e->auth_err = IKE_CERT_ERR_UNIQUE;
		ok = false;
	}
	hdr_for(sa, IKE_AUTH, true, m->hdr.msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	if (!ok) {
		/* §2.21.2: answer AUTHENTICATION_FAILED and forget the SA. */
		e->stats.auth_failed++;
		notify_add(&b, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
		rc = send_response(e, sa, path, ike_build_finish(&b, NULL));
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
		return rc < 0 ? rc : IKE_OK;
	}
	/* Authenticated. What the rest of the exchange needs of the
	 * request, kept, so that it may wait for an outside answer. */
	memset(&pa, 0, sizeof(pa));
	pa.msg_id = m->hdr.msg_id;
	pa.path = *path;
	pa.ic = ic;
	pa.certreq = certreq_seen(m);
	pa.want_child =
	    ike_msg_has(m, IKE_PL_SA) && ike_msg_has(m, IKE_PL_TSI) && ike_msg_has(m, IKE_PL_TSR);
	pa.child_err = IKE_N_NO_PROPOSAL_CHOSEN;
	if (pa.want_child && child_room(sa)) {
		pa.child_err = child_suite(sa, m, &pa.child);
		if (!pa.child_err && (!ike_child_ts_from_payload(&m->tsi, pa.tsi, &pa.n_tsi) ||
		                      !ike_child_ts_from_payload(&m->tsr, pa.tsr, &pa.n_tsr)))
			pa.child_err = IKE_N_TS_UNACCEPTABLE;
	}
	if (pa.want_child && pa.child_err == IKE_N_NO_PROPOSAL_CHOSEN)
		refused_event(e, sa, NULL, path, &m->sa, false);
	pa.has_cp = p->cfg.assign_vips && ike_msg_has(m, IKE_PL_CP) &&
	            ike_cp_request_parse(&m->cp, &pa.cp) && (pa.cp.v4 || pa.cp.v6);
	if (!pa.has_cp)
		return auth_finish(e, sa, &pa, NULL, now);
	/* §2.19: addresses come from the daemon's pools (or, later, a
	 * RADIUS server): pause here until ike_engine_resume(). The
	 * half-open deadline still runs, so an answer that never comes
	 * ends the SA; the peer's retransmissions meanwhile are ignored. */
	if (!(sa->pause = malloc(sizeof(*sa->pause)))) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return IKE_ERR_CRYPTO;
	}
	*sa->pause = pa;
	sa->state = IKE_SA_AUTH_WAIT;
	need_event(e, sa, IKE_NEED_CP, &pa.cp);
	return IKE_OK;
}

/* Send the IKE_AUTH response for pa and bring the SA (and its first
 * CHILD_SA) up. ans: the addresses and servers for a CP request (NULL: no
 * CP, or none could be assigned). */
static int auth_finish(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa,
                       const struct ike_cp_reply *ans, ike_time_t now)
{
	struct ike_peer *p = sa->peer;
	struct ike_auth_octets o;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_id idr;
	struct ike_auth a;
	struct ike_cp cp;
	struct ike_child *c = &pa->child;
	uint8_t body[4 + 255], cpbuf[IKE_CP_BUF];
	size_t body_len;
	bool cp_ok = false;
	int n, rc = IKE_OK;

	/* Commit. */
	sa->path = pa->path; /* it may have moved to port 4500 (§2.23) */
	sa->state = IKE_SA_ESTABLISHED;
	sa->half_open_deadline = IKE_TIME_NEVER;
	satab_half_open_end(&e->tab, sa);
	sa->last_heard = now;
	if ((pa->ic && p->cfg.unique != IKE_UNIQUE_NEVER) || p->cfg.unique == IKE_UNIQUE_REPLACE)
		replace_twins(e, sa, pa->ic && p->cfg.unique != IKE_UNIQUE_NEVER, now);
	if (pa->has_cp && ans) {
		for (size_t i = 0; i < ans->n_addrs && sa->n_vip < IKE_CP_MAX_ADDRS; i++)
			if ((ans->addrs[i].family == AF_INET && pa->cp.v4) ||
			    (ans->addrs[i].family == AF_INET6 && pa->cp.v6))
				sa->vip[sa->n_vip++] = ans->addrs[i];
		cp_ok = sa->n_vip > 0 && ike_cp_reply_build(&pa->cp, ans, &cp, cpbuf) == 0;
	}
	/* §3.15.4: no address, no CHILD_SA: INTERNAL_ADDRESS_FAILURE
	 * instead (the IKE SA stands, as the RFC and strongSwan have it). */
	if (pa->has_cp && !cp_ok) {
		e->stats.vip_failed++;
		pa->child_err = IKE_N_INTERNAL_ADDRESS_FAILURE;
		memset(c, 0, sizeof(*c));
	} else if (pa->want_child && !pa->child_err) {
		pa->child_err = child_ts(e, sa, pa->tsi, pa->n_tsi, pa->tsr, pa->n_tsr, c);
	}

	hdr_for(sa, IKE_AUTH, true, pa->msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	id_payload(&p->cfg.local_id, &idr, body, &body_len);
	auth_octets(sa, false, body, body_len, &o);
	if (auth_make(e, sa, &o, &a) < 0) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return IKE_ERR_CRYPTO;
	}
	ike_build_id(&b, IKE_PL_IDR, &idr);
	/* The initiator's CERTREQ came in this request (strongSwan). */
	certs_add(p, &b, pa->certreq);
	ike_build_auth(&b, &a);
	if (cp_ok)
		ike_build_cp(&b, &cp);
	if (pa->want_child && c->state == IKE_CHILD_UP) {
		ike_child_reply(&c->suite, c->spi_in, &e->sapl);
		ike_child_ts_payload(c->remote.s, c->remote.n, &e->tsi_pl);
		ike_child_ts_payload(c->local.s, c->local.n, &e->tsr_pl);
		ike_build_sa(&b, &e->sapl);
		ike_build_ts(&b, IKE_PL_TSI, &e->tsi_pl);
		ike_build_ts(&b, IKE_PL_TSR, &e->tsr_pl);
	} else if (pa->want_child || pa->child_err == IKE_N_INTERNAL_ADDRESS_FAILURE) {
		notify_add(&b, pa->child_err, NULL, 0);
	}
	n = ike_build_finish(&b, NULL);
	sodium_memzero(e->authbuf, sizeof(e->authbuf));
	if ((rc = send_response(e, sa, &pa->path, n)) < 0) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return rc;
	}
	ike_up_event(e, sa, cp_ok ? ans : NULL);
	if (c->state == IKE_CHILD_UP) {
		struct ike_child *slot = child_slot(sa);

		if (!slot) {
			sa_remove(e, sa, IKE_REASON_PROTOCOL, 0); /* out of memory */
			return IKE_ERR_CRYPTO;
		}
		*slot = *c;
		rc = child_up_event(e, sa, slot, now);
	} else if (pa->want_child) {
		child_failed_event(e, sa, pa->child_err);
	}
	ike_sa_hs_done(sa); /* up: the handshake's buffers go */
	return rc < 0 ? rc : IKE_OK;
}

int ike_engine_resume(struct ike_engine *e, uint32_t sa_id, const struct ike_answer *ans,
                      ike_time_t now)
{
	struct ike_sa *sa;
	struct auth_pending *pa;
	int rc;

	if (!e || !ans)
		return IKE_ERR_INVAL;
	if (!(sa = sa_by_id(e, sa_id)) || sa->state != IKE_SA_AUTH_WAIT || !sa->pause ||
	    ans->need != IKE_NEED_CP) {
		flush(e, now);
		return IKE_ERR_INVAL;
	}
	pa = sa->pause;
	sa->pause = NULL;
	rc = auth_finish(e, sa, pa, ans->ok ? &ans->cp : NULL, now);
	sodium_memzero(pa, sizeof(*pa));
	free(pa);
	flush(e, now);
	return rc;
}

static int send_info(struct ike_engine *e, struct ike_sa *sa, enum ike_req_kind kind,
                     ike_time_t now);
static void run_pending(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static int start_rekey(struct ike_engine *e, struct ike_sa *sa, struct ike_child *old,
                       ike_time_t now);
static int start_ike_rekey(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static int start_new_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static int start_recreate_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static void collision_peer_wins(struct ike_engine *e, struct ike_sa *old, struct ike_sa *peer,
                                ike_time_t now);
static int on_rekey_ike_request(struct ike_engine *e, struct ike_sa *sa,
                                const struct ike_path *path, ike_time_t now);

static int on_auth_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	const struct ike_notify *err;
	struct ike_child *c = &sa->hs->pending;
	struct ike_suite cs;
	struct esp_sel *tsi = e->sel_i, *tsr = e->sel_r;
	size_t n_tsi, n_tsr;
	bool ok, got_cp;
	struct ike_cp_reply cpr;
	uint16_t child_err = 0;
	int rc;

	if (sa->req_kind != IKE_REQ_AUTH) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	if (ike_msg_notify(m, IKE_N_AUTHENTICATION_FAILED)) {
		e->stats.auth_failed++;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
		return IKE_OK;
	}
	if (!ike_msg_has(m, IKE_PL_AUTH) && (err = first_error(m))) {
		sa_remove(e, sa, IKE_REASON_PEER_ERROR, err->type);
		return IKE_OK;
	}
	e->auth_err = 0;
	ok = ike_msg_has(m, IKE_PL_IDR) && ike_msg_has(m, IKE_PL_AUTH) &&
	     id_matches(&sa->peer->cfg.remote_id, &m->idr);
	if (ok)
		ok = auth_verify(e, sa, false, &m->idr);
	if (ok)
		keep_peer_id(sa, &m->idr);
	/* §2.19: what the server assigned us (reported in IKE_UP); its
	 * TSi narrows our CHILD_SA to it. */
	got_cp = ok && ike_msg_has(m, IKE_PL_CP) && ike_cp_reply_parse(&m->cp, &cpr);
	ike_sa_request_done(sa);
	if (!ok) {
		/* §2.21.2: tell the responder in a separate INFORMATIONAL,
		 * sent once, and drop the SA without waiting. */
		e->stats.auth_failed++;
		send_info(e, sa, IKE_REQ_NOTIFY, now);
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
		return IKE_OK;
	}
	sa->state = IKE_SA_ESTABLISHED;
	sa->last_heard = now;
	ike_up_event(e, sa, got_cp ? &cpr : NULL);

	if (!ike_msg_has(m, IKE_PL_SA) || !ike_msg_has(m, IKE_PL_TSI) ||
	    !ike_msg_has(m, IKE_PL_TSR)) {
		err = first_error(m);
		child_err = err ? err->type : IKE_N_NO_PROPOSAL_CHOSEN;
	} else if (ike_proposal_check_reply(sa->peer->esp_props.p, sa->peer->esp_props.n, m->sa.p,
	                                    m->sa.n_proposals, IKE_SELECT_NO_KE, &cs) < 0 ||
	           cs.spi_len != 4) {
		child_err = IKE_N_NO_PROPOSAL_CHOSEN;
	} else {
		/* §2.9: the responder may only narrow what we proposed. */
		if (!ike_child_ts_from_payload(&m->tsi, tsi, &n_tsi) ||
		    !ike_child_ts_from_payload(&m->tsr, tsr, &n_tsr) ||
		    !ike_ts_is_subset(tsi, n_tsi, c->local.s, c->local.n) ||
		    !ike_ts_is_subset(tsr, n_tsr, c->remote.s, c->remote.n)) {
			child_err = IKE_N_TS_UNACCEPTABLE;
		} else if (!child_room(sa)) {
			child_err = IKE_N_NO_ADDITIONAL_SAS;
		} else {
			struct ike_child *slot = child_slot(sa);

			if (!slot) {
				sa_remove(e, sa, IKE_REASON_PROTOCOL, 0); /* out of memory */
				return IKE_ERR_CRYPTO;
			}
			*slot = *c;
			slot->suite = cs;
			slot->spi_out = ike_child_spi(cs.spi);
			slot->local.n = n_tsi;
			memcpy(slot->local.s, tsi, sizeof(slot->local.s));
			slot->remote.n = n_tsr;
			memcpy(slot->remote.s, tsr, sizeof(slot->remote.s));
			slot->state = IKE_CHILD_UP;
			memset(c, 0, sizeof(*c));
			rc = child_up_event(e, sa, slot, now);
			ike_sa_hs_done(sa); /* up: the handshake's buffers go */
			if (rc < 0)
				return IKE_ERR_CRYPTO;
			run_pending(e, sa, now);
			return IKE_OK;
		}
	}
	/* The only CHILD_SA of this connection failed: report it and close
	 * the IKE SA, which also takes down whatever the responder may have
	 * installed. */
	memset(c, 0, sizeof(*c));
	ike_sa_hs_done(sa);
	child_failed_event(e, sa, child_err);
	sa->want_delete = true;
	run_pending(e, sa, now);
	return IKE_OK;
}

/* ---- INFORMATIONAL (§1.4) ---------------------------------------------- */

static int send_info(struct ike_engine *e, struct ike_sa *sa, enum ike_req_kind kind,
                     ike_time_t now)
{
	struct ike_hdr h;
	struct ike_build b;
	struct ike_delete d;
	uint8_t spi[4];
	int n, rc;

	hdr_for(sa, IKE_INFORMATIONAL, false, sa->tx_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	memset(&d, 0, sizeof(d));
	switch (kind) {
	case IKE_REQ_DELETE_IKE:
		d.proto = IKE_PROTO_IKE;
		ike_build_delete(&b, &d);
		break;
	case IKE_REQ_DELETE_CHILD:
		/* §3.11: we name our inbound SPI. */
		spi[0] = (uint8_t)(sa->req_spi >> 24);
		spi[1] = (uint8_t)(sa->req_spi >> 16);
		spi[2] = (uint8_t)(sa->req_spi >> 8);
		spi[3] = (uint8_t)sa->req_spi;
		d.proto = IKE_PROTO_ESP;
		d.spi_len = 4;
		d.n_spi = 1;
		d.spis = spi;
		ike_build_delete(&b, &d);
		break;
	case IKE_REQ_NOTIFY:
		notify_add(&b, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
		break;
	default: /* DPD: empty (§2.4) */
		break;
	}
	n = ike_build_finish(&b, NULL);
	if (kind == IKE_REQ_NOTIFY) {
		/* One-shot: the SA is dropped right after. */
		if ((rc = seal(e, sa, n)) < 0)
			return rc;
		tx_push_train(e, &sa->path, &e->train);
		return IKE_OK;
	}
	if ((rc = send_request(e, sa, kind, n, now)) < 0)
		return rc;
	if (kind == IKE_REQ_DELETE_IKE)
		sa->state = IKE_SA_DELETING;
	return IKE_OK;
}

/* Start deferred work once the window is free: deletes first, then
 * rekeys, then new CHILD_SAs. */
static void run_pending(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	if (sa->state != IKE_SA_ESTABLISHED || sa->req_kind != IKE_REQ_NONE)
		return;
	if (sa->want_delete) {
		sa->want_delete = false;
		if (send_info(e, sa, IKE_REQ_DELETE_IKE, now) < 0)
			sa_remove(e, sa, sa->del_reason ? sa->del_reason : IKE_REASON_DELETED_LOCAL,
			          0);
		return;
	}
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++) {
		struct ike_child *c = sa->child[j];

		if (live(c) && c->state == IKE_CHILD_UP && c->want_delete) {
			c->want_delete = false;
			c->state = IKE_CHILD_DELETING;
			sa->req_spi = c->spi_in;
			if (send_info(e, sa, IKE_REQ_DELETE_CHILD, now) < 0)
				child_down(e, sa, c, IKE_REASON_DELETED_LOCAL);
			return;
		}
	}
	if (sa->want_rekey) {
		start_ike_rekey(e, sa, now);
		return;
	}
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++) {
		struct ike_child *c = sa->child[j];

		if (live(c) && c->state == IKE_CHILD_UP && c->want_rekey && !c->rekeying) {
			start_rekey(e, sa, c, now);
			return;
		}
	}
	if (sa->want_recreate && !creq_on(sa)) {
		sa->want_recreate = false;
		start_recreate_child(e, sa, now);
		return;
	}
	if (sa->want_child && !creq_on(sa)) {
		sa->want_child = false;
		start_new_child(e, sa, now);
		return;
	}
}

static struct ike_child *child_by_spi_out(struct ike_sa *sa, uint32_t spi)
{
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (live(sa->child[j]) && sa->child[j]->spi_out == spi)
			return sa->child[j];
	return NULL;
}

static int on_info_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                           ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	uint8_t spis[4 * 4 * IKE_SA_MAX_CHILD];
	struct ike_hdr h;
	struct ike_build b;
	struct ike_delete d;
	uint16_t n_spi = 0;
	bool del_ike = false, auth_failed;
	int rc;

	if (sa->state == IKE_SA_INIT_ANSWERED) {
		e->stats.rx_old++; /* nothing but IKE_AUTH before IKE_AUTH */
		return IKE_OK;
	}
	auth_failed = ike_msg_notify(m, IKE_N_AUTHENTICATION_FAILED) != NULL;
	for (unsigned i = 0; i < m->n_delete; i++) {
		const struct ike_delete *dl = &m->del[i];

		if (dl->proto == IKE_PROTO_IKE) {
			del_ike = true;
			continue;
		}
		if (dl->proto != IKE_PROTO_ESP)
			continue;
		for (unsigned k = 0; k < dl->n_spi; k++) {
			uint32_t spi = wire_load32(dl->spis + 4 * k);
			struct ike_sa *owner = sa;
			struct ike_child *c = child_by_spi_out(sa, spi);

			/* §1.4: sent before the peer saw our rekey of this IKE
			 * SA complete: the CHILD_SA now lives in the successor
			 * (a chain at most as long as there are slots). */
			for (size_t hop = 0; !c && owner->replaced_by && hop < 8;
			     hop++) {
				if (!(owner = sa_by_id(e, owner->replaced_by)))
					break;
				c = child_by_spi_out(owner, spi);
			}
			if (!c)
				continue; /* §3.11: unknown SPIs are ignored */
			/* §1.4.1: answer with our inbound SPI, unless we are
			 * deleting it ourselves (the requests crossed). */
			if (c->state == IKE_CHILD_UP && n_spi < sizeof(spis) / 4) {
				wire_store32(spis + 4 * n_spi, c->spi_in);
				n_spi++;
			}
			child_down(e, owner, c, IKE_REASON_DELETED_PEER);
		}
	}
	hdr_for(sa, IKE_INFORMATIONAL, true, m->hdr.msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	if (n_spi && !del_ike) {
		memset(&d, 0, sizeof(d));
		d.proto = IKE_PROTO_ESP;
		d.spi_len = 4;
		d.n_spi = n_spi;
		d.spis = spis;
		ike_build_delete(&b, &d);
	}
	rc = send_response(e, sa, path, ike_build_finish(&b, NULL));
	if (del_ike) {
		struct ike_sa *peer = collided_peer(e, sa);

		/* §2.8.2: the peer deletes the old IKE SA while our rekey of
		 * it is out: it did not see the collision (or its new SA
		 * won); its new SA takes the CHILD_SAs and we forget ours
		 * (§2.25.2). */
		if (peer)
			collision_peer_wins(e, sa, peer, now);
		sa_remove(e, sa, IKE_REASON_DELETED_PEER, 0);
		return rc < 0 ? rc : IKE_OK;
	}
	if (auth_failed) {
		e->stats.auth_failed++;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
		return rc < 0 ? rc : IKE_OK;
	}
	run_pending(e, sa, now);
	return rc < 0 ? rc : IKE_OK;
}

static int on_info_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	enum ike_req_kind kind = sa->req_kind;
	struct ike_child *c;
	struct ike_sa *owner;

	if (kind != IKE_REQ_DPD && kind != IKE_REQ_DELETE_CHILD && kind != IKE_REQ_DELETE_IKE) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	if (kind == IKE_REQ_DELETE_IKE) {
		sa_remove(e, sa, sa->del_reason ? sa->del_reason : IKE_REASON_DELETED_LOCAL, 0);
		return IKE_OK;
	}
	if (kind == IKE_REQ_DELETE_CHILD && (c = child_by_spi_in(e, sa->req_spi, &owner)) &&
	    owner == sa)
		child_down(e, sa, c, IKE_REASON_DELETED_LOCAL);
	ike_sa_request_done(sa);
	run_pending(e, sa, now);
	return IKE_OK;
}

/* ---- CREATE_CHILD_SA (§1.3, §2.8) -------------------------------------- */

/* §2.25: after TEMPORARY_FAILURE, retry "after a short delay": 1 to 3 s,
 * random so that two peers refusing each other do not meet again. */
static ike_time_t retry_soon(struct ike_engine *e, ike_time_t now)
{
	uint8_t r;

	rnd(e, &r, 1);
	return add_time(now, IKE_SEC + (ike_time_t)r * (2 * IKE_SEC / 255));
}

/* Order nonces as §2.8.1 compares them: byte-wise, a prefix first. */
static int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

static void nonce_min(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out,
                      size_t *out_len)
{
	bool a_low = nonce_cmp(a, alen, b, blen) <= 0;

	*out_len = a_low ? alen : blen;
	memcpy(out, a_low ? a : b, *out_len);
}

static bool esp_group_offered(const struct ike_peer *p, uint16_t g)
{
	for (size_t i = 0; i < p->esp_props.n; i++)
		for (size_t j = 0; j < p->esp_props.p[i].n_ke; j++)
			if (p->esp_props.p[i].ke[j] == g)
				return true;
	return false;
}

static void creq_clear(struct ike_sa *sa)
{
	if (!sa->creq)
		return;
	ke_free(&sa->creq->ke);
	sodium_memzero(sa->creq, sizeof(*sa->creq));
	free(sa->creq);
	sa->creq = NULL;
}

static struct ike_child *child_by_spi_in_sa(struct ike_sa *sa, uint32_t spi)
{
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (live(sa->child[j]) && sa->child[j]->spi_in == spi)
			return sa->child[j];
	return NULL;
}

/* Build and send our CREATE_CHILD_SA request from sa->creq. strongSwan's
 * order: N(REKEY_SA) SA Ni [KE] TSi TSr. */
static int send_create_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	struct ike_child_req *r = sa->creq;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_notify n;
	struct ike_ke ke;
	uint8_t pub[KE_MAX_PUBLIC];

	hdr_for(sa, IKE_CREATE_CHILD_SA, false, sa->tx_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	if (r->old_spi_in) {
		memset(&n, 0, sizeof(n));
		n.proto = IKE_PROTO_ESP;
		n.spi_len = 4;
		wire_store32(n.spi, r->old_spi_in);
		n.type = IKE_N_REKEY_SA;
		ike_build_notify(&b, &n);
	}
	/* With PFS configured the offer carries the groups (§1.3.1). */
	ike_child_offer(&sa->peer->esp_props, r->c.spi_in, 0, &e->sapl);
	ike_build_sa(&b, &e->sapl);
	ike_build_nonce(&b, r->ni, r->ni_len);
	if (r->ke_group != KE_NONE) {
		ke_public(&r->ke, pub);
		ke.group = r->ke_group;
		ke.data = pub;
		ke.len = ke_public_len(&r->ke);
		ike_build_ke(&b, &ke);
	}
	ike_child_ts_payload(r->c.local.s, r->c.local.n, &e->tsi_pl);
	ike_child_ts_payload(r->c.remote.s, r->c.remote.n, &e->tsr_pl);
	ike_build_ts(&b, IKE_PL_TSI, &e->tsi_pl);
	ike_build_ts(&b, IKE_PL_TSR, &e->tsr_pl);
	return send_request(e, sa, IKE_REQ_CREATE_CHILD, ike_build_finish(&b, NULL), now);
}

/*
 * Begin our CREATE_CHILD_SA request (the window is free): a new SPI and
 * nonce, the selectors given (NULL: the configured ones, §2.9), and a key
 * exchange with the first group we name (PFS; INVALID_KE_PAYLOAD may move
 * it). 0, or IKE_ERR_CRYPTO with the request cleared.
 */
static int creq_begin(struct ike_engine *e, struct ike_sa *sa, const struct ike_ts_list *local,
                      const struct ike_ts_list *remote)
{
	struct ike_child_req *r;

	creq_clear(sa);
	if (!(r = sa->creq = calloc(1, sizeof(*r))))
		return IKE_ERR_CRYPTO; /* (out of memory: the same for the caller) */
	r->active = true;
	r->c.state = IKE_CHILD_PROPOSED;
	r->c.spi_in = new_esp_spi(e, sa);
	if (local) {
		r->c.local = *local;
		r->c.remote = *remote;
	} else {
		proposal_ts(e, sa, &r->c);
	}
	r->ni_len = IKE_NONCE_LEN;
	rnd(e, r->ni, r->ni_len);
	r->ke_group = sa->peer->esp_props.p[0].n_ke ? sa->peer->esp_props.p[0].ke[0] : KE_NONE;
	if (r->ke_group != KE_NONE && ke_new(&r->ke, r->ke_group, sa->peer->cfg.allow_legacy) < 0) {
		creq_clear(sa);
		return IKE_ERR_CRYPTO;
	}
	return 0;
}

/* Send the request begun; on failure it is cleared. */
static int creq_send(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	int rc = send_create_child(e, sa, now);

	if (rc < 0)
		creq_clear(sa);
	return rc;
}

/* Start rekeying old (the window is free). */
static int start_rekey(struct ike_engine *e, struct ike_sa *sa, struct ike_child *old,
                       ike_time_t now)
{
	int rc;

	if ((rc = creq_begin(e, sa, &old->local, &old->remote)) < 0)
		return rc;
	sa->creq->old_spi_in = old->spi_in;
	old->rekeying = true;
	old->want_rekey = false;
	old->rekey_at = IKE_TIME_NEVER;
	if ((rc = creq_send(e, sa, now)) < 0)
		old->rekeying = false;
	return rc;
}

/* A new CHILD_SA for the acquired packet (the window is free). */
static int start_new_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	int rc = creq_begin(e, sa, NULL, NULL);

	return rc < 0 ? rc : creq_send(e, sa, now);
}

/* §2.25: a CHILD_SA the peer did not know, made again from scratch with
 * the selectors it had (the window is free). */
static int start_recreate_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	int rc = creq_begin(e, sa, &sa->re_local, &sa->re_remote);

	return rc < 0 ? rc : creq_send(e, sa, now);
}

static void create_child_error(struct ike_engine *e, struct ike_sa *sa, const struct ike_hdr *rh,
                               const struct ike_path *path, uint16_t type, const uint8_t *data,
                               size_t len)
{
	struct ike_hdr h;
	struct ike_build b;

	hdr_for(sa, IKE_CREATE_CHILD_SA, true, rh->msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	notify_add(&b, type, data, len);
	send_response(e, sa, path, ike_build_finish(&b, NULL));
}

/*
 * The peer's CREATE_CHILD_SA: a new CHILD_SA or the rekey of one (REKEY_SA).
 * Everything is checked before the new SA is installed; the old one stays
 * until the peer deletes it (§2.8).
 */
static int on_create_child_request(struct ike_engine *e, struct ike_sa *sa,
                                   const struct ike_path *path, ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	const struct ike_notify *rekey = ike_msg_notify(m, IKE_N_REKEY_SA);
	struct esp_sel vips[IKE_CP_MAX_ADDRS];
	struct ike_ts_policy pol;
	struct ike_child *old = NULL, *slot, c;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_ke ke;
	struct ke k;
	uint8_t pub[KE_MAX_PUBLIC], gir[KE_MAX_SHARED], nr[IKE_NONCE_LEN];
	size_t gir_len = 0, n_tsi, n_tsr;
	uint16_t peer_ke = ike_msg_has(m, IKE_PL_KE) ? m->ke.group : KE_NONE;
	int rc;

	ts_policy(sa, &pol, vips);
	if (sa->state == IKE_SA_INIT_ANSWERED || sa->state == IKE_SA_AUTH_WAIT) {
		/* §1.2: nothing but IKE_AUTH comes first; keys from an
		 * unauthenticated IKE_SA_INIT do not make a peer. */
		e->stats.rx_old++;
		return IKE_OK;
	}
	if (sa->state != IKE_SA_ESTABLISHED) {
		/* Being deleted or replaced by a rekey: §2.25.1/§2.25.2 say
		 * TEMPORARY_FAILURE (the peer retries on the successor). */
		e->stats.tmp_failure++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return IKE_OK;
	}
	if (ike_msg_has(m, IKE_PL_SA) && m->sa.n_proposals && m->sa.p[0].proto == IKE_PROTO_IKE) {
		return on_rekey_ike_request(e, sa, path, now);
	}
	if (ireq_on(sa) || sa->want_delete) {
		/* §2.25.2: a CHILD_SA made or rekeyed now would have to move
		 * with the IKE SA we are replacing (or closing). */
		e->stats.tmp_failure++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return IKE_OK;
	}
	if (!ike_msg_has(m, IKE_PL_SA) || !ike_msg_has(m, IKE_PL_NONCE) ||
	    !ike_msg_has(m, IKE_PL_TSI) || !ike_msg_has(m, IKE_PL_TSR)) {
		create_child_error(e, sa, &m->hdr, path, IKE_N_INVALID_SYNTAX, NULL, 0);
		return IKE_OK;
	}
	if (rekey) {
		/* §3.10.1: REKEY_SA names the SA by the SPI the sender
		 * receives on, which is our outbound one. */
		if (rekey->proto == IKE_PROTO_ESP && rekey->spi_len == 4)
			old = child_by_spi_out(sa, wire_load32(rekey->spi));
		if (!old) {
			/* §2.25: we do not have it (any more); the notify
			 * names the SA as REKEY_SA did. */
			struct ike_notify nf;
			struct ike_hdr h2;
			struct ike_build b2;

			e->stats.child_not_found++;
			memset(&nf, 0, sizeof(nf));
			nf.type = IKE_N_CHILD_SA_NOT_FOUND;
			nf.proto = rekey->proto;
			nf.spi_len = rekey->spi_len <= sizeof(nf.spi) ? rekey->spi_len : 0;
			memcpy(nf.spi, rekey->spi, nf.spi_len);
			hdr_for(sa, IKE_CREATE_CHILD_SA, true, m->hdr.msg_id, &h2);
			ike_build_init(&b2, e->plain, sizeof(e->plain), &h2);
			ike_build_notify(&b2, &nf);
			return send_response(e, sa, path, ike_build_finish(&b2, NULL));
		}
		/* §2.25.1: we are closing it, or we rekeyed it already and
		 * its successor is up (§2.8.1: the peer that did not notice
		 * the collision refuses); only a rekey of ours still out
		 * makes a collision both sides resolve by nonces. */
		if (old->state != IKE_CHILD_UP || old->want_delete ||
		    (old->rekeying && !(creq_on(sa) && sa->creq->old_spi_in == old->spi_in))) {
			e->stats.tmp_failure++;
			create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
			return IKE_OK;
		}
	}
	if (!child_room(sa)) {
		create_child_error(e, sa, &m->hdr, path, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
		return IKE_OK;
	}
	memset(&c, 0, sizeof(c));
	rc = ike_proposal_select(sa->peer->esp_props.p, sa->peer->esp_props.n, m->sa.p, m->sa.n_proposals,
	                         peer_ke, 0, &c.suite);
	if (rc == IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD) {
		uint8_t g[2] = {(uint8_t)(c.suite.ke >> 8), (uint8_t)c.suite.ke};

		e->stats.invalid_ke++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_INVALID_KE_PAYLOAD, g, 2);
		return IKE_OK;
	}
	if (rc < 0) {
		e->stats.no_proposal++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		refused_event(e, sa, NULL, path, &m->sa,
		              m->sa.n_proposals && m->sa.p[0].proto == IKE_PROTO_IKE);
		return IKE_OK;
	}
	if (!ike_child_ts_from_payload(&m->tsi, e->sel_i, &n_tsi) ||
	    !ike_child_ts_from_payload(&m->tsr, e->sel_r, &n_tsr) ||
	    ike_ts_select(&pol, 1, e->sel_i, n_tsi, e->sel_r, n_tsr, &e->tsres) < 0) {
		create_child_error(e, sa, &m->hdr, path, IKE_N_TS_UNACCEPTABLE, NULL, 0);
		return IKE_OK;
	}
	memset(&k, 0, sizeof(k));
	if (c.suite.ke != KE_NONE) {
		if (ke_new(&k, c.suite.ke, sa->peer->cfg.allow_legacy) < 0 ||
		    ke_shared(&k, m->ke.data, m->ke.len, gir, &gir_len) < 0) {
			ke_free(&k);
			create_child_error(e, sa, &m->hdr, path, IKE_N_INVALID_SYNTAX, NULL, 0);
			return IKE_OK;
		}
	}
	c.remote = e->tsres.tsi;
	c.local = e->tsres.tsr;
	c.spi_out = ike_child_spi(c.suite.spi);
	c.spi_in = new_esp_spi(e, sa);
	rnd(e, nr, sizeof(nr));

	hdr_for(sa, IKE_CREATE_CHILD_SA, true, m->hdr.msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	if (!(slot = child_slot(sa))) { /* out of memory */
		ke_free(&k);
		sodium_memzero(gir, sizeof(gir));
		create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return IKE_OK;
	}
	ike_child_reply(&c.suite, c.spi_in, &e->sapl);
	ike_build_sa(&b, &e->sapl);
	ike_build_nonce(&b, nr, sizeof(nr));
	if (c.suite.ke != KE_NONE) {
		ke_public(&k, pub);
		ke.group = c.suite.ke;
		ke.data = pub;
		ke.len = ke_public_len(&k);
		ike_build_ke(&b, &ke);
	}
	ke_free(&k);
	ike_child_ts_payload(c.remote.s, c.remote.n, &e->tsi_pl);
	ike_child_ts_payload(c.local.s, c.local.n, &e->tsr_pl);
	ike_build_ts(&b, IKE_PL_TSI, &e->tsi_pl);
	ike_build_ts(&b, IKE_PL_TSR, &e->tsr_pl);
	if ((rc = send_response(e, sa, path, ike_build_finish(&b, NULL))) < 0) {
		sodium_memzero(gir, sizeof(gir));
		return rc;
	}
	*slot = c;
	{
		struct child_keying kk = {
		    false,   gir,          m->nonce.data, nr,
		    gir_len, m->nonce.len, sizeof(nr),    old ? old->spi_in : 0, false};

		rc = child_up_event_ex(e, sa, slot, &kk, now);
	}
	if (old) {
		/* The peer deletes the old SA once its exchange is done; we
		 * no longer rekey it ourselves, unless our own rekey of it
		 * already runs: then §2.8.1 decides which new SA stays. */
		old->rekey_at = IKE_TIME_NEVER;
		old->want_rekey = false;
		if (creq_on(sa) && sa->creq->old_spi_in == old->spi_in) {
			e->stats.child_rekey_collisions++;
			sa->creq->collided = true;
			nonce_min(m->nonce.data, m->nonce.len, nr, sizeof(nr), sa->creq->peer_min,
			          &sa->creq->peer_min_len);
		}
		old->rekeying = true;
	}
	sodium_memzero(gir, sizeof(gir));
	return rc < 0 ? rc : IKE_OK;
}

static int on_create_child_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	struct ike_child_req *r = sa->creq;
	const struct ike_notify *err;
	struct ike_child *old, *slot;
	struct ike_suite cs;
	uint8_t gir[KE_MAX_SHARED];
	size_t gir_len = 0, n_tsi, n_tsr;
	uint16_t fail = 0;
	int rc = IKE_OK;

	if (sa->req_kind != IKE_REQ_CREATE_CHILD || !r || !r->active) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	ike_sa_request_done(sa);
	old = r->old_spi_in ? child_by_spi_in_sa(sa, r->old_spi_in) : NULL;
	if ((err = ike_msg_notify(m, IKE_N_INVALID_KE_PAYLOAD))) {
		uint16_t g = err->len == 2 ? wire_load16(err->data) : 0;

		/* §1.3: retry with the group asked for, if we offered it. */
		if (g != r->ke_group && esp_group_offered(sa->peer, g) && r->ke_retries < KE_RETRIES_MAX &&
		    (!r->old_spi_in || old)) {
			ke_free(&r->ke);
			r->ke_group = g;
			r->ke_retries++;
			if (ke_new(&r->ke, g, sa->peer->cfg.allow_legacy) == 0)
				return send_create_child(e, sa, now);
		}
		fail = IKE_N_INVALID_KE_PAYLOAD;
	} else if ((err = first_error(m))) {
		fail = err->type;
	} else if (!ike_msg_has(m, IKE_PL_SA) || !ike_msg_has(m, IKE_PL_NONCE) ||
	           !ike_msg_has(m, IKE_PL_TSI) || !ike_msg_has(m, IKE_PL_TSR) ||
	           ike_proposal_check_reply(sa->peer->esp_props.p, sa->peer->esp_props.n, m->sa.p,
	                                    m->sa.n_proposals, 0, &cs) < 0 ||
	           cs.spi_len != 4 || cs.ke != r->ke_group) {
		fail = IKE_N_NO_PROPOSAL_CHOSEN;
	} else if (!ike_child_ts_from_payload(&m->tsi, e->sel_i, &n_tsi) ||
	           !ike_child_ts_from_payload(&m->tsr, e->sel_r, &n_tsr) ||
	           !ike_ts_is_subset(e->sel_i, n_tsi, r->c.local.s, r->c.local.n) ||
	           !ike_ts_is_subset(e->sel_r, n_tsr, r->c.remote.s, r->c.remote.n)) {
		fail = IKE_N_TS_UNACCEPTABLE;
	} else if (r->ke_group != KE_NONE &&
	           (!ike_msg_has(m, IKE_PL_KE) || m->ke.group != r->ke_group ||
	            ke_shared(&r->ke, m->ke.data, m->ke.len, gir, &gir_len) < 0)) {
		fail = IKE_N_INVALID_SYNTAX;
	} else if (!(slot = child_slot(sa))) {
		fail = IKE_N_NO_ADDITIONAL_SAS;
	} else {
		struct child_keying kk = {true,    gir,       r->ni,        m->nonce.data,
		                          gir_len, r->ni_len, m->nonce.len, r->old_spi_in, false};

		if (r->collided) {
			uint8_t mine[IKE_NONCE_MAX];
			size_t mine_len;

			/* §2.8.1: the SA made with the lowest of the four
			 * nonces is deleted by whoever made it; the other
			 * side's winner then deletes the old SA. Decided
			 * before CHILD_UP so that the daemon never sends on
			 * the loser. */
			nonce_min(r->ni, r->ni_len, m->nonce.data, m->nonce.len, mine, &mine_len);
			kk.redundant = nonce_cmp(mine, mine_len, r->peer_min, r->peer_min_len) < 0;
		}
		*slot = r->c;
		slot->suite = cs;
		slot->spi_out = ike_child_spi(cs.spi);
		slot->local.n = n_tsi;
		memcpy(slot->local.s, e->sel_i, sizeof(slot->local.s));
		slot->remote.n = n_tsr;
		memcpy(slot->remote.s, e->sel_r, sizeof(slot->remote.s));
		rc = child_up_event_ex(e, sa, slot, &kk, now);
		sa->tmpfail_since = IKE_TIME_NEVER;
		if (rc == 0 && kk.redundant)
			slot->want_delete = true;
		else if (old)
			old->want_delete = true;
	}
	sodium_memzero(gir, sizeof(gir));
	if (fail == IKE_N_CHILD_SA_NOT_FOUND && r->old_spi_in) {
		/* §2.25: the peer does not know the SA we rekeyed: drop it
		 * without a Delete and, unless it was on its way out anyway,
		 * create one with its selectors from scratch. */
		if (old && old->state == IKE_CHILD_UP && !old->want_delete) {
			sa->want_recreate = true;
			sa->re_local = old->local;
			sa->re_remote = old->remote;
		}
		if (old)
			child_down(e, sa, old, IKE_REASON_DELETED_PEER);
		fail = 0;
	} else if (fail == IKE_N_TEMPORARY_FAILURE) {
		/* §2.25: after several minutes of refusals the peers' states
		 * are out of sync: close the IKE SA. */
		if (sa->tmpfail_since == IKE_TIME_NEVER)
			sa->tmpfail_since = now;
		else if (now - sa->tmpfail_since >= IKE_ENGINE_TMPFAIL_MAX) {
			sa->want_delete = true;
			sa->del_reason = IKE_REASON_PROTOCOL;
		}
		/* §2.8.1: the peer rekeyed it too and had finished first; it
		 * deletes the old SA: nothing failed. A rekey that is merely
		 * retried soon has not failed either (and must not flood the
		 * daemon with an event every few seconds). */
		if (r->collided)
			fail = 0;
		else if (old && !sa->want_delete) {
			old->rekeying = false;
			old->rekey_at = retry_soon(e, now);
			fail = 0;
		}
	}
	if (fail) {
		struct ike_event ev;

		ev_base(sa, IKE_EV_CHILD_FAILED, &ev);
		ev.reason = fail == IKE_N_NO_PROPOSAL_CHOSEN ? IKE_REASON_NO_PROPOSAL
		                                             : IKE_REASON_PEER_ERROR;
		ev.notify = fail;
		ev.child.rekeyed_spi_in = r->old_spi_in;
		ev_push(e, &ev);
		/* A failed rekey leaves the old SA as it was; it is tried again
		 * after another lifetime, or soon if the peer was just busy. */
		if (old && !r->collided && !sa->want_delete) {
			old->rekeying = false;
			old->rekey_at = fail == IKE_N_TEMPORARY_FAILURE ? retry_soon(e, now)
			                : sa->peer->cfg.child_rekey_time
			                    ? add_time(now, sa->peer->cfg.child_rekey_time)
			                    : IKE_TIME_NEVER;
		}
	}
	creq_clear(sa);
	run_pending(e, sa, now);
	return rc < 0 ? rc : IKE_OK;
}

/* ---- IKE SA rekey (§1.3.2, §2.18) -------------------------------------- */

static uint64_t spi_load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void spi_store64(uint64_t v, uint8_t out[8])
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

/*
 * The rekeyed IKE SA nsa (keys installed) takes over old's CHILD_SAs, path
 * and deferred work; message IDs start again at 0 (§2.18). old waits for
 * its Delete.
 */
static void ike_rekey_commit(struct ike_engine *e, struct ike_sa *old, struct ike_sa *nsa,
                             ike_time_t now)
{
	struct ike_event ev;

	nsa->path = old->path;
	nsa->nat_local = old->nat_local;
	nsa->nat_remote = old->nat_remote;
	nsa->peer_frag = old->peer_frag;
	nsa->peer_id = old->peer_id;
	nsa->n_vip = old->n_vip; /* §2.19: the addresses stay the peer's */
	memcpy(nsa->vip, old->vip, sizeof(nsa->vip));
	memcpy(nsa->child, old->child, sizeof(nsa->child));
	memset(old->child, 0, sizeof(old->child));
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (live(nsa->child[j]))
			satab_esp_put(&e->tab, nsa->child[j]->spi_in, nsa->id);
	/* Work asked of the old SA is the new one's now. */
	nsa->want_delete = old->want_delete;
	nsa->del_reason = old->del_reason;
	nsa->want_child = old->want_child;
	nsa->has_acq = old->has_acq;
	nsa->acq_src = old->acq_src;
	nsa->acq_dst = old->acq_dst;
	nsa->want_recreate = old->want_recreate;
	nsa->re_local = old->re_local;
	nsa->re_remote = old->re_remote;
	old->want_delete = old->want_child = old->want_recreate = false;
	nsa->state = IKE_SA_ESTABLISHED;
	nsa->up = true;
	satab_ident_add(&e->tab, nsa);
	nsa->rekey_of = 0;
	nsa->last_heard = now;
	nsa->half_open_deadline = IKE_TIME_NEVER;
	nsa->rekey_at =
	    old->peer->cfg.ike_rekey_time ? add_time(now, old->peer->cfg.ike_rekey_time) : IKE_TIME_NEVER;
	old->state = IKE_SA_REKEYED;
	old->replaced_by = nsa->id;
	old->rekey_at = IKE_TIME_NEVER;
	old->want_rekey = false;
	/* Should the peer never delete the old SA, drop it anyway. */
	old->half_open_deadline = add_time(now, old->peer->cfg.half_open_timeout);
	ev_base(nsa, IKE_EV_IKE_UP, &ev);
	ev.rekeyed_sa_id = old->id;
	ev_push(e, &ev);
}

static int rekey_keys(struct ike_sa *nsa, const struct ike_sa *old, const uint8_t *ni,
                      size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *gir,
                      size_t gir_len)
{
	uint8_t spi_i[8], spi_r[8];

	ike_sa_spi_bytes(nsa, spi_i, spi_r);
	if (ike_keys_rekey(&nsa->keys, &old->keys, &nsa->suite, ni, ni_len, nr, nr_len, spi_i,
	                   spi_r, gir, gir_len) < 0)
		return IKE_ERR_CRYPTO;
	return ike_sa_install_sk(nsa);
}

/* §2.8.2: the undecided IKE SA the peer's rekey of sa made while ours of
 * sa was out, or NULL. */
static struct ike_sa *collided_peer(struct ike_engine *e, const struct ike_sa *sa)
{
	struct ike_sa *p;

	if (!ireq_on(sa) || !sa->ireq->peer_sa || !(p = sa_by_id(e, sa->ireq->peer_sa)))
		return NULL;
	return p->state == IKE_SA_COLLIDED && p->rekey_of == sa->id ? p : NULL;
}

/* §2.8.2: the peer's new SA survives: it takes old's CHILD_SAs (its IKE_UP
 * names old), and its initiator, the peer, deletes old. */
static void collision_peer_wins(struct ike_engine *e, struct ike_sa *old, struct ike_sa *peer,
                                ike_time_t now)
{
	if (old->ireq)
		old->ireq->peer_sa = 0;
	ike_rekey_commit(e, old, peer, now);
	run_pending(e, peer, now);
}

/* §2.8.2: nsa, made by our rekey of old, has the lowest nonce: we made it,
 * so we delete it, without a word to the daemon (it never heard of it). */
static void collision_redundant(struct ike_engine *e, const struct ike_sa *old, struct ike_sa *nsa,
                                ike_time_t now)
{
	nsa->redundant = true;
	nsa->path = old->path;
	nsa->nat_local = old->nat_local;
	nsa->nat_remote = old->nat_remote;
	nsa->peer_frag = old->peer_frag;
	nsa->peer_id = old->peer_id;
	nsa->last_heard = now;
	nsa->state = IKE_SA_ESTABLISHED;
	nsa->want_delete = true;
	run_pending(e, nsa, now);
}

static int send_rekey_ike(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	struct ike_ike_req *r = sa->ireq;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_ke ke;
	uint8_t pub[KE_MAX_PUBLIC], spi[8];

	spi_store64(r->spi, spi);
	memset(&e->sapl, 0, sizeof(e->sapl));
	for (size_t i = 0; i < sa->peer->ike_props.n && i < IKE_MAX_PROPOSALS; i++)
		ike_proposal_to_offer(&sa->peer->ike_props.p[i], (uint8_t)(i + 1), spi, 8, 0,
		                      &e->sapl.p[e->sapl.n_proposals++]);
	ke_public(&r->ke, pub);
	ke.group = r->ke_group;
	ke.data = pub;
	ke.len = ke_public_len(&r->ke);
	hdr_for(sa, IKE_CREATE_CHILD_SA, false, sa->tx_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	ike_build_sa(&b, &e->sapl);
	ike_build_nonce(&b, r->ni, r->ni_len);
	ike_build_ke(&b, &ke);
	return send_request(e, sa, IKE_REQ_REKEY_IKE, ike_build_finish(&b, NULL), now);
}

static void ireq_clear(struct ike_sa *sa)
{
	if (!sa->ireq)
		return;
	ke_free(&sa->ireq->ke);
	sodium_memzero(sa->ireq, sizeof(*sa->ireq));
	free(sa->ireq);
	sa->ireq = NULL;
}

static int start_ike_rekey(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	struct ike_ike_req *r;
	int rc;

	ireq_clear(sa);
	sa->want_rekey = false;
	sa->rekey_at = IKE_TIME_NEVER;
	if (!(r = sa->ireq = calloc(1, sizeof(*r))))
		return IKE_ERR_CRYPTO;
	r->active = true;
	r->spi = new_ike_spi(e);
	r->ni_len = IKE_NONCE_LEN;
	rnd(e, r->ni, r->ni_len);
	/* The group in use is one both sides accept. */
	r->ke_group = sa->suite.ke;
	if (ke_new(&r->ke, r->ke_group, sa->peer->cfg.allow_legacy) < 0) {
		ireq_clear(sa);
		return IKE_ERR_CRYPTO;
	}
	if ((rc = send_rekey_ike(e, sa, now)) < 0)
		ireq_clear(sa);
	return rc;
}

static int on_rekey_ike_request(struct ike_engine *e, struct ike_sa *sa,
                                const struct ike_path *path, ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	struct ike_suite suite;
	struct ike_sa *nsa;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_ke ke;
	uint8_t pub[KE_MAX_PUBLIC], gir[KE_MAX_SHARED], spi[8];
	size_t gir_len = 0;
	bool collision = sa->req_kind == IKE_REQ_REKEY_IKE && ireq_on(sa);
	int rc;

	/* §2.25.1: one of our CHILD_SA exchanges is out, or we are about
	 * to delete the IKE SA (§2.25.2), or a collision is already being
	 * resolved: not now, the peer tries again. */
	if (sa->req_kind == IKE_REQ_CREATE_CHILD || sa->req_kind == IKE_REQ_DELETE_CHILD ||
	    sa->want_delete || (collision && sa->ireq->peer_sa)) {
		e->stats.tmp_failure++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return IKE_OK;
	}
	if (!ike_msg_has(m, IKE_PL_NONCE) || !ike_msg_has(m, IKE_PL_KE)) {
		create_child_error(e, sa, &m->hdr, path, IKE_N_INVALID_SYNTAX, NULL, 0);
		return IKE_OK;
	}
	rc = ike_proposal_select(sa->peer->ike_props.p, sa->peer->ike_props.n, m->sa.p, m->sa.n_proposals,
	                         m->ke.group, 0, &suite);
	if (rc == IKE_PROPOSAL_ERR_INVALID_KE_PAYLOAD) {
		uint8_t g[2] = {(uint8_t)(suite.ke >> 8), (uint8_t)suite.ke};

		e->stats.invalid_ke++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_INVALID_KE_PAYLOAD, g, 2);
		return IKE_OK;
	}
	if (rc < 0 || suite.spi_len != 8 || spi_load64(suite.spi) == 0) {
		e->stats.no_proposal++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		refused_event(e, sa, NULL, path, &m->sa,
		              m->sa.n_proposals && m->sa.p[0].proto == IKE_PROTO_IKE);
		return IKE_OK;
	}
	if (!(nsa = sa_alloc(e, sa->peer, false, new_ike_spi(e)))) {
		e->stats.tmp_failure++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return IKE_OK;
	}
	/* §3.1: the I flag follows whoever initiated the last rekey. */
	nsa->spi_i = spi_load64(suite.spi);
	nsa->suite = suite;
	if (!ike_sa_hs_new(nsa)) { /* its nonces and key exchange, briefly */
		sa_discard(e, nsa);
		e->stats.tmp_failure++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return IKE_OK;
	}
	nsa->hs->ni_len = m->nonce.len;
	memcpy(nsa->hs->ni, m->nonce.data, m->nonce.len);
	nsa->hs->nr_len = IKE_NONCE_LEN;
	rnd(e, nsa->hs->nr, nsa->hs->nr_len);
	if (ke_new(&nsa->hs->ke, suite.ke, sa->peer->cfg.allow_legacy) < 0 ||
	    ke_shared(&nsa->hs->ke, m->ke.data, m->ke.len, gir, &gir_len) < 0 ||
	    rekey_keys(nsa, sa, nsa->hs->ni, nsa->hs->ni_len, nsa->hs->nr, nsa->hs->nr_len, gir, gir_len) < 0) {
		sodium_memzero(gir, sizeof(gir));
		sa_discard(e, nsa);
		create_child_error(e, sa, &m->hdr, path, IKE_N_INVALID_SYNTAX, NULL, 0);
		return IKE_OK;
	}
	sodium_memzero(gir, sizeof(gir));
	spi_store64(nsa->spi_r, spi);
	memset(&e->sapl, 0, sizeof(e->sapl));
	ike_suite_to_offer(&suite, spi, 8, &e->sapl.p[0]);
	e->sapl.n_proposals = 1;
	ke_public(&nsa->hs->ke, pub);
	ke.group = suite.ke;
	ke.data = pub;
	ke.len = ke_public_len(&nsa->hs->ke);
	hdr_for(sa, IKE_CREATE_CHILD_SA, true, m->hdr.msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	ike_build_sa(&b, &e->sapl);
	ike_build_nonce(&b, nsa->hs->nr, nsa->hs->nr_len);
	ike_build_ke(&b, &ke);
	ke_free(&nsa->hs->ke);
	if ((rc = send_response(e, sa, path, ike_build_finish(&b, NULL))) < 0) {
		sa_discard(e, nsa);
		return rc;
	}
	if (collision) {
		/* §2.8.2: our own rekey of sa is out. Both exchanges
		 * complete; which new SA survives is decided by the four
		 * nonces once ours is answered. Until then this one holds
		 * nothing and says nothing. */
		e->stats.rekey_collisions++;
		nsa->state = IKE_SA_COLLIDED;
		nsa->rekey_of = sa->id;
		nsa->path = sa->path;
		nsa->nat_local = sa->nat_local;
		nsa->nat_remote = sa->nat_remote;
		nsa->peer_frag = sa->peer_frag;
		nsa->last_heard = now;
		sa->ireq->peer_sa = nsa->id;
		nonce_min(nsa->hs->ni, nsa->hs->ni_len, nsa->hs->nr, nsa->hs->nr_len, sa->ireq->peer_min,
		          &sa->ireq->peer_min_len);
		ike_sa_hs_done(nsa);
		return IKE_OK;
	}
	ike_sa_hs_done(nsa);
	ike_rekey_commit(e, sa, nsa, now);
	run_pending(e, nsa, now);
	return IKE_OK;
}

static int on_rekey_ike_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	struct ike_ike_req *r = sa->ireq;
	const struct ike_notify *err;
	struct ike_suite suite;
	struct ike_sa *nsa = NULL, *peer;
	uint8_t gir[KE_MAX_SHARED], mine[IKE_NONCE_MAX];
	size_t gir_len = 0, mine_len = 0;
	bool ok = false, busy = ike_msg_notify(m, IKE_N_TEMPORARY_FAILURE) != NULL, ours_low = false;

	if (!r || !r->active) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	ike_sa_request_done(sa);
	if ((err = ike_msg_notify(m, IKE_N_INVALID_KE_PAYLOAD))) {
		uint16_t g = err->len == 2 ? wire_load16(err->data) : 0;

		if (g != r->ke_group && group_offered(sa->peer, g) && r->ke_retries < KE_RETRIES_MAX) {
			ke_free(&r->ke);
			r->ke_group = g;
			r->ke_retries++;
			if (ke_new(&r->ke, g, sa->peer->cfg.allow_legacy) == 0)
				return send_rekey_ike(e, sa, now);
		}
	} else if (!first_error(m) && ike_msg_has(m, IKE_PL_SA) && ike_msg_has(m, IKE_PL_NONCE) &&
	           ike_msg_has(m, IKE_PL_KE) &&
	           ike_proposal_check_reply(sa->peer->ike_props.p, sa->peer->ike_props.n, m->sa.p,
	                                    m->sa.n_proposals, 0, &suite) == 0 &&
	           suite.spi_len == 8 && spi_load64(suite.spi) != 0 && suite.ke == r->ke_group &&
	           m->ke.group == r->ke_group &&
	           ke_shared(&r->ke, m->ke.data, m->ke.len, gir, &gir_len) == 0 &&
	           (nsa = sa_alloc(e, sa->peer, true, r->spi))) {
		nsa->spi_r = spi_load64(suite.spi);
		nsa->suite = suite;
		ok = rekey_keys(nsa, sa, r->ni, r->ni_len, m->nonce.data, m->nonce.len, gir,
		                gir_len) == 0;
		if (!ok)
			sa_discard(e, nsa);
		else
			nonce_min(r->ni, r->ni_len, m->nonce.data, m->nonce.len, mine, &mine_len);
	}
	sodium_memzero(gir, sizeof(gir));
	peer = collided_peer(e, sa);
	if (ok && peer)
		ours_low = nonce_cmp(mine, mine_len, r->peer_min, r->peer_min_len) < 0;
	if (!busy)
		sa->tmpfail_since = IKE_TIME_NEVER;
	ireq_clear(sa);
	if (sa->state == IKE_SA_REKEYED) {
		/* The peer's new SA took over meanwhile (the peer used it):
		 * ours, if any, is redundant (§2.8.2); the peer deletes sa. */
		if (ok)
			collision_redundant(e, sa, nsa, now);
		sa->half_open_deadline = add_time(now, sa->peer->cfg.half_open_timeout);
		return IKE_OK;
	}
	if (peer && (!ok || ours_low)) {
		/* §2.8.2: the peer's SA survives (ours failed or holds the
		 * lowest nonce). */
		collision_peer_wins(e, sa, peer, now);
		if (ok)
			collision_redundant(e, sa, nsa, now);
		return IKE_OK;
	}
	if (!ok) {
		/* The old SA goes on; try again after another lifetime, or
		 * soon if the peer was just busy (§2.25), but not for ever. */
		if (busy && sa->tmpfail_since == IKE_TIME_NEVER)
			sa->tmpfail_since = now;
		if (busy && now - sa->tmpfail_since >= IKE_ENGINE_TMPFAIL_MAX) {
			sa->want_delete = true;
			sa->del_reason = IKE_REASON_PROTOCOL;
		}
		sa->rekey_at = busy                    ? retry_soon(e, now)
		               : sa->peer->cfg.ike_rekey_time ? add_time(now, sa->peer->cfg.ike_rekey_time)
		                                       : IKE_TIME_NEVER;
		run_pending(e, sa, now);
		return IKE_OK;
	}
	if (peer) {
		/* §2.8.2: ours survives; the peer made the redundant one and
		 * deletes it. It waits for that silently, not for ever. */
		peer->rekey_of = 0;
		peer->half_open_deadline = add_time(now, sa->peer->cfg.half_open_timeout);
	}
	ike_rekey_commit(e, sa, nsa, now);
	/* §2.18: the initiator of the (surviving) rekey deletes the old SA. */
	if (send_info(e, sa, IKE_REQ_DELETE_IKE, now) < 0)
		sa_remove(e, sa, IKE_REASON_REKEYED, 0);
	run_pending(e, nsa, now);
	return IKE_OK;
}

/* ---- receive ------------------------------------------------------------ */

static struct ike_sa *find_sa(struct ike_engine *e, const struct ike_hdr *h)
{
	bool we_initiated = !(h->flags & IKE_FLAG_I);
	struct ike_sa *sa = satab_by_spi(&e->tab, we_initiated ? h->spi_i : h->spi_r);

	/* Ours names the SA; the peer's must be the one it has too. */
	if (!sa || sa->initiator != we_initiated || sa->spi_i != h->spi_i ||
	    sa->spi_r != h->spi_r || !sa->sk_ready)
		return NULL;
	return touch(e, sa);
}

/*
 * Authenticate and decrypt the message in e->rx: SK in place, or SKF
 * fragments into the reassembly buffer (RFC 7383 §2.6), then parsed into
 * e->msg. IKE_FRAG_WAIT (> 0) while fragments are missing.
 */

static int open_fragment(struct ike_engine *e, struct ike_sa *sa, struct aead *rx, size_t len,
                         ike_time_t now);

static int open_protected(struct ike_engine *e, struct ike_sa *sa, size_t len, ike_time_t now)
{
	struct ike_msg *m = &e->msg;
	struct aead *rx;
	int rc;

	if (!ike_msg_has(m, IKE_PL_SK) && !ike_msg_has(m, IKE_PL_SKF))
		return IKE_ERR_SYNTAX;
	if ((rc = ike_sa_sk(sa, false, &rx)) < 0)
		return rc;
	if (ike_msg_has(m, IKE_PL_SK))
		rc = ike_msg_decrypt(rx, e->rx, len, m);
	else
		rc = open_fragment(e, sa, rx, len, now);
	aead_free(rx);
	return rc;
}

static int open_fragment(struct ike_engine *e, struct ike_sa *sa, struct aead *rx, size_t len,
                         ike_time_t now)
{
	struct ike_msg *m = &e->msg;
	uint8_t np;
	int rc, n;

	/* Each SA reassembles its own messages (RFC 7383 §2.6): a fragment,
	 * authentic or not, of one SA never touches another's. The memory
	 * is bounded: IKE_ENGINE_REASM_MAX at once, each IKE_FRAG_BUF, and
	 * each given up after IKE_ENGINE_REASM_TIMEOUT (the sender then
	 * retransmits every fragment). */
	if (!sa->frag) {
		if (e->n_reasm >= IKE_ENGINE_REASM_MAX ||
		    !(sa->frag = calloc(1, sizeof(*sa->frag)))) {
			e->stats.frag_refused++;
			return 1;
		}
		e->n_reasm++;
		ike_frag_reset(sa->frag);
		sa->frag_deadline = add_time(now, IKE_ENGINE_REASM_TIMEOUT);
	}
	rc = ike_frag_add(sa->frag, rx, e->rx, len, m);
	if (rc == IKE_FRAG_WAIT || rc == IKE_FRAG_DUP)
		return 1;
	/* A forged first fragment holds no buffer: only authentic ones
	 * keep one (for IKE_ENGINE_REASM_TIMEOUT at most). */
	if (rc < 0 && sa->frag->n_have == 0)
		frag_drop(e, sa);
	if (rc < 0)
		return rc;
	/* Complete: the inner chain replaces the fragment's content. */
	n = ike_frag_assemble(sa->frag, e->inner, sizeof(e->inner), &np);
	frag_drop(e, sa);
	if (n < 0)
		return IKE_ERR_TOO_MANY;
	e->inner_len = (size_t)n;
	rc = ike_msg_parse_inner(m, np, e->inner, (size_t)n);
	return rc < 0 ? rc : IKE_OK;
}

/*
 * §1.5: take one token of the per-engine bucket for an unprotected one-way
 * notify (IKE_ENGINE_UNPROT_BURST deep, IKE_ENGINE_UNPROT_RATE a second,
 * refilled from `now` alone); false: over the rate, send nothing.
 */
static bool unprot_allow(struct ike_engine *e, ike_time_t now)
{
	const ike_time_t step = IKE_SEC / IKE_ENGINE_UNPROT_RATE;

	if (!e->tb_started || now < e->tb_at) {
		e->tb_started = true;
		e->tb_tokens = IKE_ENGINE_UNPROT_BURST;
		e->tb_at = now;
	} else {
		ike_time_t n = (now - e->tb_at) / step;

		if (n >= IKE_ENGINE_UNPROT_BURST - e->tb_tokens) {
			e->tb_tokens = IKE_ENGINE_UNPROT_BURST;
			e->tb_at = now;
		} else {
			e->tb_tokens += (unsigned)n;
			e->tb_at += n * step;
		}
	}
	if (e->tb_tokens == 0) {
		e->stats.unprot_limited++;
		return false;
	}
	e->tb_tokens--;
	return true;
}

/*
 * §1.5: an unprotected notify answering request h outside any IKE SA: its
 * SPIs, exchange and Message ID, R set, I as the roles say, version 2.0
 * (for INVALID_MAJOR_VERSION the highest we support, §2.5).
 */
static void send_unprotected(struct ike_engine *e, const struct ike_path *path,
                             const struct ike_hdr *req, uint16_t type)
{
	struct ike_hdr h;
	struct ike_build b;
	int n;

	memset(&h, 0, sizeof(h));
	h.spi_i = req->spi_i;
	h.spi_r = req->spi_r;
	h.major = IKE_MAJOR_VERSION;
	h.minor = IKE_MINOR_VERSION;
	h.exchange = req->exchange;
	h.flags = (uint8_t)(IKE_FLAG_R | (req->flags & IKE_FLAG_I ? 0 : IKE_FLAG_I));
	h.msg_id = req->msg_id;
	ike_build_init(&b, e->out, sizeof(e->out), &h);
	notify_add(&b, type, NULL, 0);
	if ((n = ike_build_finish(&b, NULL)) > 0)
		tx_push(e, path, e->out, (size_t)n);
}

/* Does m delete the IKE SA it came under (§1.4.1)? */
static bool deletes_ike(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->n_delete; i++)
		if (m->del[i].proto == IKE_PROTO_IKE)
			return true;
	return false;
}

static int on_protected(struct ike_engine *e, const struct ike_path *path, size_t len,
                        ike_time_t now)
{
	struct ike_msg *m = &e->msg;
	struct ike_hdr h = m->hdr;
	bool response = h.flags & IKE_FLAG_R;
	struct ike_sa *sa = find_sa(e, &h);
	bool replay = false;
	int rc;

	if (!sa) {
		e->stats.rx_no_sa++;
		/* §1.5: an encrypted request for an SA we do not know (we
		 * lost it, or it is gone): say so, unprotected and
		 * rate-limited; never for a response (no loops). */
		if (!response && (ike_msg_has(m, IKE_PL_SK) || ike_msg_has(m, IKE_PL_SKF)) &&
		    unprot_allow(e, now)) {
			e->stats.tx_invalid_spi++;
			send_unprotected(e, path, &h, IKE_N_INVALID_IKE_SPI);
		}
		return IKE_OK;
	}
	if (response) {
		if (sa->req_kind == IKE_REQ_NONE || h.msg_id != sa->tx_id) {
			e->stats.rx_old++;
			return IKE_OK;
		}
	} else if (sa->resp_valid && sa->rx_id > 0 && h.msg_id == sa->rx_id - 1) {
		replay = true;
	} else if (h.msg_id != sa->rx_id) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	/* §1.5: the peer no longer knows the redundant SA of a rekey
	 * collision whose Delete we send (it dropped its copy after waiting):
	 * done. Unauthenticated, so it may only end what no event ever
	 * showed and we were ending anyway. */
	if (response && sa->redundant && sa->req_kind == IKE_REQ_DELETE_IKE &&
	    !ike_msg_has(m, IKE_PL_SK) && !ike_msg_has(m, IKE_PL_SKF) &&
	    ike_msg_notify(m, IKE_N_INVALID_IKE_SPI)) {
		sa_remove(e, sa, IKE_REASON_DELETED_LOCAL, 0);
		return IKE_OK;
	}
	/* Only authentic messages may do anything, even trigger a replay of
	 * our cached response (which would otherwise amplify forgeries). */
	rc = open_protected(e, sa, len, now);
	if (rc > 0)
		return IKE_OK;
	if (rc == IKE_ERR_AUTH) {
		e->stats.rx_bad_icv++;
		return rc;
	}
	if (ike_err_fatal(rc)) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, IKE_N_INVALID_SYNTAX);
		return rc;
	}
	if (rc < 0) {
		e->stats.rx_malformed++;
		return rc;
	}
	sa->last_heard = now;
	if (replay) {
		e->stats.rx_retransmit++;
		tx_push_stored(e, path, sa->resp);
		return IKE_OK;
	}
	/* §2.23: behind a NAT the peer's mapping may change; follow the
	 * latest authentic message. */
	if ((sa->nat_local || sa->nat_remote) && sa->state == IKE_SA_ESTABLISHED)
		sa->path = *path;
	/* §2.8.2: the peer uses the SA its rekey made while ours collided
	 * with it: for the peer it survived (it saw no collision, or its
	 * nonces won), so it does for us. Only its Delete says otherwise. */
	if (sa->state == IKE_SA_COLLIDED && sa->rekey_of && !response && !deletes_ike(m)) {
		struct ike_sa *old = sa_by_id(e, sa->rekey_of);

		if (old && collided_peer(e, old) == sa)
			collision_peer_wins(e, old, sa, now);
	}
	switch (h.exchange) {
	case IKE_AUTH:
		return response ? on_auth_response(e, sa, now) : on_auth_request(e, sa, path, now);
	case IKE_INFORMATIONAL:
		return response ? on_info_response(e, sa, now) : on_info_request(e, sa, path, now);
	case IKE_CREATE_CHILD_SA:
		if (response && sa->req_kind == IKE_REQ_REKEY_IKE)
			return on_rekey_ike_response(e, sa, now);
		return response ? on_create_child_response(e, sa, now)
		                : on_create_child_request(e, sa, path, now);
	default:
		/* An exchange we do not know (§1.5 only covers IKE_SA_INIT):
		 * refuse it without harm to the IKE SA. */
		if (!response && sa->state == IKE_SA_ESTABLISHED) {
			struct ike_hdr rh;
			struct ike_build b;

			hdr_for(sa, h.exchange, true, h.msg_id, &rh);
			ike_build_init(&b, e->plain, sizeof(e->plain), &rh);
			notify_add(&b, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
			return send_response(e, sa, path, ike_build_finish(&b, NULL));
		}
		e->stats.rx_old++;
		return IKE_OK;
	}
}

int ike_engine_recv(struct ike_engine *e, const struct ike_path *path, const uint8_t *pkt,
                    size_t len, ike_time_t now)
{
	int rc;

	if (!e || !path || !pkt)
		return IKE_ERR_INVAL;
	if (len > sizeof(e->rx)) {
		e->stats.rx_malformed++;
		return IKE_ERR_LENGTH;
	}
	memcpy(e->rx, pkt, len);
	rc = ike_msg_parse(&e->msg, e->rx, len);
	if (rc == IKE_ERR_VERSION && e->msg.hdr.major > IKE_MAJOR_VERSION &&
	    !(e->msg.hdr.flags & IKE_FLAG_R)) {
		/* §1.5, §2.5: a request of a later major version: tell the
		 * sender ours (rate-limited, a forged source costs little). */
		e->stats.rx_malformed++;
		if (unprot_allow(e, now)) {
			e->stats.tx_invalid_major++;
			send_unprotected(e, path, &e->msg.hdr, IKE_N_INVALID_MAJOR_VERSION);
		}
		goto out;
	}
	if (rc < 0) {
		e->stats.rx_malformed++;
		goto out;
	}
	if (e->msg.hdr.exchange == IKE_SA_INIT)
		rc = e->msg.hdr.flags & IKE_FLAG_R ? on_init_response(e, path, len, now)
		                                   : on_init_request(e, path, len, now);
	else
		rc = on_protected(e, path, len, now);
out:
	sodium_memzero(e->rx, len);
	sodium_memzero(&e->msg, sizeof(e->msg));
	sodium_memzero(e->plain, sizeof(e->plain));
	sodium_memzero(e->inner, e->inner_len);
	e->inner_len = 0;
	flush(e, now);
	return rc < 0 ? rc : IKE_OK;
}

/* ---- timers ------------------------------------------------------------- */

static ike_time_t dpd_deadline(const struct ike_sa *sa)
{
	if (!sa->peer->cfg.dpd_delay || sa->state != IKE_SA_ESTABLISHED ||
	    sa->req_kind != IKE_REQ_NONE)
		return IKE_TIME_NEVER;
	return add_time(sa->last_heard, sa->peer->cfg.dpd_delay);
}

static ike_time_t min_time(ike_time_t a, ike_time_t b)
{
	return a < b ? a : b;
}

/* The earliest of sa's timers, exactly as sa_expire() acts on them. */
static ike_time_t sa_due(const struct ike_sa *sa)
{
	ike_time_t t = IKE_TIME_NEVER;

	if (sa->req_kind != IKE_REQ_NONE)
		t = sa->req_deadline;
	/* A replaced SA whose rekey request is still out (§2.8.2) stays
	 * until that is answered or given up. */
	if (!ireq_on(sa))
		t = min_time(t, sa->half_open_deadline);
	if (sa->frag)
		t = min_time(t, sa->frag_deadline);
	t = min_time(t, dpd_deadline(sa));
	if (sa->state != IKE_SA_ESTABLISHED)
		return t;
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (live(sa->child[j]) && sa->child[j]->state == IKE_CHILD_UP &&
		    !sa->child[j]->rekeying)
			t = min_time(t, sa->child[j]->rekey_at);
	if (!ireq_on(sa))
		t = min_time(t, sa->rekey_at);
	return t;
}

/*
 * End of every API call: each SA the call touched gets its deferred work
 * started (run_pending(): the window may have come free) and its place in
 * the deadline heap recomputed; SAs it removed are freed. Starting work
 * may touch more SAs (a rekey's successor): the loop takes them too.
 */
static void flush(struct ike_engine *e, ike_time_t now)
{
	while (e->dirty) {
		struct ike_sa *sa = e->dirty;

		e->dirty = sa->dirty_next;
		sa->dirty = false;
		sa->dirty_next = NULL;
		if (!sa->in_tab)
			continue;
		run_pending(e, sa, now);
		if (!sa->in_tab)
			continue;
		sa->due = sa_due(sa);
		satab_sched(&e->tab, sa);
	}
	free_grave(e);
}

ike_time_t ike_engine_next_expiry(const struct ike_engine *e)
{
	const struct ike_sa *sa = e ? satab_top(&e->tab) : NULL;

	return sa ? sa->due : IKE_TIME_NEVER;
}

/* Run sa's timers that are due at now. */
static int sa_expire(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	if (now >= sa->half_open_deadline && !ireq_on(sa)) {
		sa_remove(e, sa, IKE_REASON_HALF_OPEN, 0);
		return IKE_OK;
	}
	if (sa->frag && now >= sa->frag_deadline) {
		e->stats.frag_timeout++;
		frag_drop(e, sa);
	}
	if (sa->req_kind != IKE_REQ_NONE && now >= sa->req_deadline) {
		if (sa->req_sent > sa->peer->cfg.retransmit_tries) {
			/* §2.4: no answer after all retries: the peer is
			 * gone. */
			enum ike_reason r = sa->req_kind == IKE_REQ_DPD ? IKE_REASON_DPD
			                    : sa->req_kind == IKE_REQ_DELETE_IKE
			                        ? (sa->del_reason ? sa->del_reason
			                                          : IKE_REASON_DELETED_LOCAL)
			                        : IKE_REASON_TIMEOUT;

			sa_remove(e, sa, r, 0);
			return IKE_OK;
		}
		/* §2.1: the same bytes again, the wait growing. */
		sa->req_sent++;
		sa->req_deadline = add_time(now, rto(sa, sa->req_sent));
		e->stats.tx_retransmit++;
		tx_push_stored(e, &sa->path, sa->req);
		return IKE_OK;
	}
	for (size_t j = 0; sa->state == IKE_SA_ESTABLISHED && j < IKE_SA_MAX_CHILD; j++) {
		struct ike_child *c = sa->child[j];

		if (live(c) && c->state == IKE_CHILD_UP && !c->rekeying && now >= c->rekey_at) {
			c->rekey_at = IKE_TIME_NEVER;
			c->want_rekey = true;
		}
	}
	if (sa->state == IKE_SA_ESTABLISHED && !ireq_on(sa) && now >= sa->rekey_at) {
		sa->rekey_at = IKE_TIME_NEVER;
		sa->want_rekey = true;
	}
	run_pending(e, sa, now);
	if (sa->state == IKE_SA_FREE)
		return IKE_OK;
	if (now >= dpd_deadline(sa)) {
		int rc = send_info(e, sa, IKE_REQ_DPD, now);

		if (rc < 0) {
			sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
			return rc;
		}
	}
	return IKE_OK;
}

int ike_engine_handle_expiry(struct ike_engine *e, ike_time_t now)
{
	struct ike_sa *sa;
	int ret = IKE_OK, rc;
	size_t budget;

	if (!e)
		return IKE_ERR_INVAL;
	/* Each SA due is taken off the heap's top, run, and put back by its
	 * new deadline at once, so the loop moves on; the budget only guards
	 * against an SA whose timer its own handler cannot clear. */
	for (budget = e->tab.n_sa + 16; budget && (sa = satab_top(&e->tab)) && sa->due <= now;
	     budget--) {
		touch(e, sa);
		if ((rc = sa_expire(e, sa, now)) < 0)
			ret = rc;
		if (sa->in_tab) {
			sa->due = sa_due(sa);
			satab_sched(&e->tab, sa);
		}
	}
	flush(e, now);
	return ret;
}

int ike_engine_child_activity(struct ike_engine *e, uint32_t spi_in, ike_time_t now)
{
	struct ike_sa *sa;

	if (!e || !child_by_spi_in(e, spi_in, &sa))
		return IKE_ERR_INVAL;
	if (now > sa->last_heard)
		sa->last_heard = now;
	flush(e, now);
	return IKE_OK;
}

int ike_engine_delete_child(struct ike_engine *e, uint32_t spi_in, ike_time_t now)
{
	struct ike_sa *sa;
	struct ike_child *c;

	if (!e)
		return IKE_ERR_INVAL;
	if (!(c = child_by_spi_in(e, spi_in, &sa)) || c->state != IKE_CHILD_UP) {
		flush(e, now);
		return IKE_ERR_INVAL;
	}
	c->want_delete = true;
	run_pending(e, sa, now);
	flush(e, now);
	return IKE_OK;
}

static int delete_ike(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	if (sa->state == IKE_SA_DELETING)
		return IKE_OK;
	if (sa->state != IKE_SA_ESTABLISHED) {
		sa_remove(e, sa, IKE_REASON_DELETED_LOCAL, 0);
		return IKE_OK;
	}
	sa->want_delete = true;
	run_pending(e, sa, now);
	return IKE_OK;
}

int ike_engine_delete_ike(struct ike_engine *e, uint32_t sa_id, ike_time_t now)
{
	struct ike_sa *sa;
	int rc;

	if (!e)
		return IKE_ERR_INVAL;
	rc = (sa = sa_by_id(e, sa_id)) ? delete_ike(e, sa, now) : IKE_ERR_INVAL;
	flush(e, now);
	return rc;
}

int ike_engine_peer_remove(struct ike_engine *e, uint32_t peer, ike_time_t now)
{
	struct ike_peer *p;
	struct ike_sa *sa, *next;

	if (!e || !(p = peer_by_id(e, peer)))
		return IKE_ERR_INVAL;
	p->removed = true;
	for (sa = p->sas; sa; sa = next) {
		next = sa->peer_next;
		delete_ike(e, touch(e, sa), now);
	}
	flush(e, now);
	peer_unref(e, p); /* the engine's own reference */
	return IKE_OK;
}

int ike_engine_rekey_child(struct ike_engine *e, uint32_t spi_in, ike_time_t now)
{
	struct ike_sa *sa;
	struct ike_child *c;
	int rc = IKE_ERR_INVAL;

	if (!e)
		return rc;
	if ((c = child_by_spi_in(e, spi_in, &sa)) && c->state == IKE_CHILD_UP && !c->rekeying &&
	    !c->want_delete) {
		c->want_rekey = true;
		c->rekey_at = IKE_TIME_NEVER;
		run_pending(e, sa, now);
		rc = IKE_OK;
	}
	flush(e, now);
	return rc;
}

static bool sels_cover(const struct esp_sel *s, size_t n, const struct esp_sel *x)
{
	for (size_t i = 0; i < n; i++)
		if (ike_ts_contains(&s[i], x))
			return true;
	return false;
}

static int acquire(struct ike_engine *e, struct ike_peer *p, const struct ike_path *path,
                   const struct esp_sel *src, const struct esp_sel *dst, ike_time_t now)
{
	struct ike_sa *sa = NULL;
	int id;

	if (!p || !src || !dst || !sels_cover(p->cfg.local_ts, p->cfg.n_local_ts, src) ||
	    !sels_cover(p->cfg.remote_ts, p->cfg.n_remote_ts, dst))
		return IKE_ERR_INVAL;
	for (struct ike_sa *s = p->sas; s && !sa; s = s->peer_next)
		if (s->state != IKE_SA_FREE && s->state != IKE_SA_REKEYED &&
		    s->state != IKE_SA_DELETING && s->state != IKE_SA_COLLIDED && !s->redundant)
			sa = touch(e, s);
	if (!sa) {
		if ((id = initiate(e, p, path, now)) < 0)
			return id;
		sa = sa_by_id(e, (uint32_t)id);
		sa->has_acq = true;
		sa->acq_src = *src;
		sa->acq_dst = *dst;
		return id;
	}
	/* Being set up: its first CHILD_SA is on the way. */
	if (sa->state != IKE_SA_ESTABLISHED || creq_on(sa) || sa->want_child)
		return (int)sa->id;
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++) {
		const struct ike_child *c = sa->child[j];

		if (live(c) && c->state == IKE_CHILD_UP && sels_cover(c->local.s, c->local.n, src) &&
		    sels_cover(c->remote.s, c->remote.n, dst))
			return (int)sa->id;
	}
	if (!child_room(sa))
		return IKE_ERR_TOO_MANY;
	sa->has_acq = true;
	sa->acq_src = *src;
	sa->acq_dst = *dst;
	sa->want_child = true;
	run_pending(e, sa, now);
	return (int)sa->id;
}

int ike_engine_acquire_peer(struct ike_engine *e, uint32_t peer, const struct ike_path *path,
                            const struct esp_sel *src, const struct esp_sel *dst, ike_time_t now)
{
	int rc;

	if (!e)
		return IKE_ERR_INVAL;
	rc = acquire(e, peer_by_id(e, peer), path, src, dst, now);
	flush(e, now);
	return rc;
}

int ike_engine_acquire(struct ike_engine *e, const struct ike_path *path, const struct esp_sel *src,
                       const struct esp_sel *dst, ike_time_t now)
{
	int rc;

	if (!e)
		return IKE_ERR_INVAL;
	rc = acquire(e, first_peer(e), path, src, dst, now);
	flush(e, now);
	return rc;
}

int ike_engine_rekey_ike(struct ike_engine *e, uint32_t sa_id, ike_time_t now)
{
	struct ike_sa *sa;
	int rc = IKE_ERR_INVAL;

	if (!e)
		return rc;
	if ((sa = sa_by_id(e, sa_id)) && sa->state == IKE_SA_ESTABLISHED && !ireq_on(sa) &&
	    !sa->want_rekey) {
		sa->want_rekey = true;
		sa->rekey_at = IKE_TIME_NEVER;
		run_pending(e, sa, now);
		rc = IKE_OK;
	}
	flush(e, now);
	return rc;
}

size_t ike_engine_child_count(const struct ike_engine *e)
{
	size_t n = 0;

	for (const struct ike_sa *sa = e ? e->tab.all : NULL; sa; sa = sa->all_next)
		for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
			n += live(sa->child[j]);
	return n;
}

void ike_engine_get_stats(const struct ike_engine *e, struct ike_engine_stats *out)
{
	if (e && out)
		*out = e->stats;
}

size_t ike_engine_sa_count(const struct ike_engine *e)
{
	return e ? e->tab.n_sa : 0;
}

bool ike_engine_owns(const struct ike_engine *e, const struct ike_path *path, const uint8_t *pkt,
                     size_t len)
{
	uint64_t spi_i, spi_r;
	bool we_initiated;

	if (!e || !path || !pkt || len < IKE_HDR_LEN)
		return false;
	spi_i = (uint64_t)wire_load32(pkt) << 32 | wire_load32(pkt + 4);
	spi_r = (uint64_t)wire_load32(pkt + 8) << 32 | wire_load32(pkt + 12);
	const struct ike_sa *sa;

	we_initiated = !(pkt[19] & IKE_FLAG_I);
	if ((we_initiated || spi_r != 0) &&
	    (sa = satab_by_spi(&e->tab, we_initiated ? spi_i : spi_r)) &&
	    sa->initiator == we_initiated)
		return true;
	return spi_r == 0 && !we_initiated && satab_ho_find(&e->tab, spi_i, &path->remote) != NULL;
}

static const char *state_name(enum ike_sa_state s)
{
	switch (s) {
	case IKE_SA_INIT_SENT:
	case IKE_SA_AUTH_SENT:
	case IKE_SA_INIT_ANSWERED:
	case IKE_SA_AUTH_WAIT:
		return "connecting";
	case IKE_SA_ESTABLISHED:
		return "established";
	case IKE_SA_DELETING:
		return "deleting";
	case IKE_SA_REKEYED:
		return "rekeyed";
	case IKE_SA_COLLIDED:
		return "rekeying";
	case IKE_SA_FREE:
		break;
	}
	return "free";
}

size_t ike_engine_sa_list(const struct ike_engine *e, struct ike_sa_info *out, size_t cap)
{
	size_t n = 0;

	for (const struct ike_sa *sa = e ? e->tab.all : NULL; sa; sa = sa->all_next) {
		struct ike_sa_info *o;

		if (n < cap) {
			o = &out[n];
			memset(o, 0, sizeof(*o));
			o->id = sa->id;
			o->state = state_name(sa->state);
			o->established = sa->state == IKE_SA_ESTABLISHED;
			o->initiator = sa->initiator;
			o->behind_nat = sa->nat_local;
			o->peer_behind_nat = sa->nat_remote;
			o->spi_i = sa->spi_i;
			o->spi_r = sa->spi_r;
			o->path = sa->path;
			o->suite = sa->suite;
			o->peer_id = sa->peer_id;
			o->peer = sa->peer->id;
			o->peer_user = sa->peer->user;
			for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
				o->n_children += live(sa->child[j]);
		}
		n++;
	}
	return n;
}

struct ike_sa *ike_engine_sa_slot(struct ike_engine *e, size_t i)
{
	struct ike_sa *sa = e ? e->tab.all : NULL;

	for (; sa && i; i--)
		sa = sa->all_next;
	return sa;
}
