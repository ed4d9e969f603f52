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
#include "ike/engine_int.h"

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
    [IKE_REASON_UNIQUE] = "replaced by a newer IKE SA of the same identity (unique = replace)",
};

static const char *addr_str(const struct ike_addr *a, char *buf, size_t cap);
static void log_received(struct ike_engine *e, const struct ike_sa *sa, const struct ike_path *path,
                         size_t len);
static void set_err(char *err, size_t cap, const char *msg, const char *detail);
static bool id_ok(const struct ike_identity *id, bool may_be_any);
static bool auth_cfg_ok(const struct ike_config *cfg, char *err, size_t err_cap);
static bool sels_ok(const struct esp_sel *s, size_t n);
static void sa_free_now(struct ike_sa *sa);
static void free_grave(struct ike_engine *e);
static int ev_grow(struct ike_engine *e);
static void peer_link(struct ike_sa *sa, struct ike_peer *p);
static void peer_unlink(struct ike_engine *e, struct ike_sa *sa);
static void peer_unref(struct ike_engine *e, struct ike_peer *p);
static struct ike_peer *peer_by_id(const struct ike_engine *e, uint32_t id);
static struct ike_peer *first_peer(const struct ike_engine *e);
static struct ike_sa *find_sa(struct ike_engine *e, const struct ike_hdr *h);
static int open_protected(struct ike_engine *e, struct ike_sa *sa, size_t len, ike_time_t now);
static int open_fragment(struct ike_engine *e, struct ike_sa *sa, struct aead *rx, size_t len,
                         ike_time_t now);
static bool unprot_allow(struct ike_engine *e, ike_time_t now);
static void send_unprotected(struct ike_engine *e, const struct ike_path *path,
                             const struct ike_hdr *req, uint16_t type);
static bool deletes_ike(const struct ike_msg *m);
static int on_protected(struct ike_engine *e, const struct ike_path *path, size_t len,
                        ike_time_t now);
static int delete_ike(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static bool sels_cover(const struct esp_sel *s, size_t n, const struct esp_sel *x);
static int acquire(struct ike_engine *e, struct ike_peer *p, const struct ike_path *path,
                   const struct esp_sel *src, const struct esp_sel *dst, ike_time_t now);
static const char *state_name(enum ike_sa_state s);

const char *ike_reason_name(enum ike_reason r)
{
	if ((unsigned)r < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[r])
		return reason_names[r];
	return "unknown";
}

void dlog(struct ike_engine *e, uint32_t sa_id, const char *fmt, ...)
{
	char line[IKE_MSGLOG_MAX + 160];
	va_list ap;

	if (!e->opts.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	e->opts.log(e->opts.log_ctx, sa_id, line);
}

/* "192.0.2.1[4500]", charon's way. */
static const char *addr_str(const struct ike_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s[%u]", ip, a->port);
	return buf;
}

/* Log a received message, parsed (and decrypted) in e->msg. */
static void log_received(struct ike_engine *e, const struct ike_sa *sa, const struct ike_path *path,
                         size_t len)
{
	char line[IKE_MSGLOG_MAX], a[64];

	if (!e->opts.log)
		return;
	ike_msglog_parsed(&e->msg, line);
	dlog(e, sa ? sa->id : 0, "received %s from %s (%zu bytes%s)", line,
	     addr_str(&path->remote, a, sizeof(a)), len,
	     ike_msg_has(&e->msg, IKE_PL_SKF) ? ", the last fragment" : "");
}

/* Log what is about to leave: e->sent_line (from seal()) or the plain
 * message msg (IKE_SA_INIT), with its size and fragments. */
void log_sent(struct ike_engine *e, const struct ike_sa *sa, const struct ike_path *path,
              const uint8_t *msg, size_t len, size_t total, size_t frags)
{
	char a[64], f[48] = "";

	if (!e->opts.log)
		return;
	if (msg)
		ike_msglog_plain(msg, len, e->sent_line);
	if (frags > 1)
		snprintf(f, sizeof(f), " in %zu fragments", frags);
	dlog(e, sa ? sa->id : 0, "sending %s to %s (%zu bytes%s)", e->sent_line,
	     addr_str(&path->remote, a, sizeof(a)), total, f);
}

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

	if (cfg->local_auth > IKE_AUTHBY_EAP || cfg->remote_auth > IKE_AUTHBY_EAP ||
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
			set_err(
			    err, err_cap,
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
	if (!id_ok(&cfg->local_id2, true) || !id_ok(&cfg->remote_id2, true)) {
		set_err(err, err_cap, "second round's identity: bad type or length", NULL);
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
	                       cfg->ike_proposals ? cfg->ike_proposals : "default",
	                       cfg->allow_legacy, perr, sizeof(perr)) < 0) {
		set_err(err, err_cap, "IKE proposals", perr);
		goto out;
	}
	if (ike_proposal_parse(l, IKE_PROTO_ESP,
	                       cfg->esp_proposals ? cfg->esp_proposals : "default",
	                       cfg->allow_legacy, perr, sizeof(perr)) < 0) {
		set_err(err, err_cap, "ESP proposals", perr);
		goto out;
	}
	rc = IKE_OK;
out:
	free(l);
	return rc;
}

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
	cookie_key(e, &e->cookie_mac);
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

void ev_push(struct ike_engine *e, const struct ike_event *ev)
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

void tx_push(struct ike_engine *e, const struct ike_path *path, const uint8_t *buf, size_t len)
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

void rnd(struct ike_engine *e, void *buf, size_t len)
{
	if (e->opts.rand)
		e->opts.rand(e->opts.rand_ctx, buf, len);
	else
		rand_bytes(buf, len);
}

uint64_t new_ike_spi(struct ike_engine *e)
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

/* Mark sa as changed by this call: its deadline is recomputed, and its
 * deferred work started, before the call returns (flush()). */
struct ike_sa *touch(struct ike_engine *e, struct ike_sa *sa)
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
void peer_move(struct ike_engine *e, struct ike_sa *sa, struct ike_peer *p)
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
struct ike_sa *sa_alloc(struct ike_engine *e, struct ike_peer *p, bool initiator, uint64_t our_spi)
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

/* Free sa's reassembly, if any (counted against IKE_ENGINE_REASM_MAX). */
void frag_drop(struct ike_engine *e, struct ike_sa *sa)
{
	if (sa->frag) {
		ike_sa_frag_free(sa);
		e->n_reasm--;
	}
}

/*
 * Take sa out of every table, wipe it (ike_sa_clear: keys, nonces) and
 * leave it, state IKE_SA_FREE, for free_grave() at the end of the API
 * call: handlers may still look at the SA they just removed.
 */
void sa_discard(struct ike_engine *e, struct ike_sa *sa)
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

struct ike_sa *sa_by_id(struct ike_engine *e, uint32_t id)
{
	return touch(e, satab_by_id(&e->tab, id));
}

void ev_base(const struct ike_sa *sa, enum ike_event_type type, struct ike_event *ev)
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
	}
	if (type == IKE_EV_IKE_UP || type == IKE_EV_IKE_DOWN)
		ev->peer_id = sa->peer_id;
}

/* NO_PROPOSAL_CHOSEN sent: say what the peer offered (sa may be NULL). */
void refused_event(struct ike_engine *e, const struct ike_sa *sa, const struct ike_peer *p,
                   const struct ike_path *path, const struct ike_sa_pl *offer, bool ike)
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
 * Remove an IKE SA: CHILD_DOWN for each of its CHILD_SAs, then IKE_DOWN.
 * A responder's SA that never authenticated anyone goes silently unless
 * the reason is worth reporting (AUTH failure), so that forged
 * IKE_SA_INITs cannot fill the event queue.
 */
void sa_remove(struct ike_engine *e, struct ike_sa *sa, enum ike_reason reason, uint16_t notify)
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
	if (!sa->redundant &&
	    (sa->initiator || sa->up || sa->told || reason == IKE_REASON_AUTH_FAILED)) {
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

void hdr_for(const struct ike_sa *sa, uint8_t exchange, bool response, uint32_t msg_id,
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

void notify_add(struct ike_build *b, uint16_t type, const uint8_t *data, size_t len)
{
	struct ike_notify n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data = data;
	n.len = len;
	ike_build_notify(b, &n);
}

ike_time_t rto(const struct ike_sa *sa, unsigned sent)
{
	const struct ike_config *c = &sa->peer->cfg;

	return ike_sa_rto(c->retransmit_timeout, c->retransmit_base, sent);
}

ike_time_t add_time(ike_time_t a, ike_time_t b)
{
	return a > IKE_TIME_NEVER - 1 - b ? IKE_TIME_NEVER - 1 : a + b;
}

/* A stored train again (a retransmission, §2.1: the same bytes). */
void tx_push_stored(struct ike_engine *e, const struct ike_path *path, const struct ike_stored *s)
{
	size_t off = 0;

	for (size_t i = 0; s && i < s->n; i++) {
		tx_push(e, path, s->buf + off, s->len[i]);
		off += s->len[i];
	}
}

void tx_push_train(struct ike_engine *e, const struct ike_path *path, const struct ike_train *t)
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
int seal(struct ike_engine *e, struct ike_sa *sa, int plain_len)
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
	if (e->opts.log)
		ike_msglog_plain(e->plain, (size_t)plain_len, e->sent_line);
	if (sa->peer_frag &&
	    ike_msg_encrypted_len(tx, (size_t)plain_len) > sa->peer->cfg.fragment_len) {
		n = ike_frag_split(tx, e->plain, (size_t)plain_len, sa->peer->cfg.fragment_len,
		                   t->buf, sizeof(t->buf), t->len, IKE_SA_MAX_FRAGS);
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

int send_request(struct ike_engine *e, struct ike_sa *sa, enum ike_req_kind kind, int plain_len,
                 ike_time_t now)
{
	int rc = seal(e, sa, plain_len);

	if (rc < 0)
		return rc;
	ike_sa_set_request(sa, kind, &e->train, now, rto(sa, 1));
	log_sent(e, sa, &sa->path, NULL, 0, e->train.total, e->train.n);
	tx_push_train(e, &sa->path, &e->train);
	return IKE_OK;
}

int send_response(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                  int plain_len)
{
	int rc = seal(e, sa, plain_len);

	if (rc < 0)
		return rc;
	ike_sa_set_response(sa, &e->train, path);
	log_sent(e, sa, path, NULL, 0, e->train.total, e->train.n);
	tx_push_train(e, path, &e->train);
	return IKE_OK;
}

/* The first error notify of m (type < 16384), or NULL. */
const struct ike_notify *first_error(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i].type < IKE_N_STATUS_MIN)
			return &m->notify[i];
	return NULL;
}

static struct ike_peer *peer_by_id(const struct ike_engine *e, uint32_t id)
{
	for (size_t i = 0; i < e->n_peers; i++)
		if (e->peers[i]->id == id && !e->peers[i]->removed)
			return e->peers[i];
	return NULL;
}

int ike_engine_peer_rank(struct ike_engine *e, uint32_t peer, unsigned rank)
{
	struct ike_peer *p = e ? peer_by_id(e, peer) : NULL;

	if (!p)
		return IKE_ERR_INVAL;
	p->cfg.rank = rank;
	return IKE_OK;
}

static struct ike_peer *first_peer(const struct ike_engine *e)
{
	for (size_t i = 0; i < e->n_peers; i++)
		if (!e->peers[i]->removed)
			return e->peers[i];
	return NULL;
}

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
	if ((n = ike_build_finish(&b, NULL)) > 0) {
		log_sent(e, NULL, path, e->out, (size_t)n, (size_t)n, 1);
		tx_push(e, path, e->out, (size_t)n);
	}
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
	log_received(e, sa, path, len);
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
		log_received(e, NULL, path, len);
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

/*
 * End of every API call: each SA the call touched gets its deferred work
 * started (run_pending(): the window may have come free) and its place in
 * the deadline heap recomputed; SAs it removed are freed. Starting work
 * may touch more SAs (a rekey's successor): the loop takes them too.
 */
void flush(struct ike_engine *e, ike_time_t now)
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

		if (live(c) && c->state == IKE_CHILD_UP &&
		    sels_cover(c->local.s, c->local.n, src) &&
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
	case IKE_SA_EAP:
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
