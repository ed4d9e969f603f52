/*
 * CHILD_SAs (RFC 7296 §1.3, §2.8, §2.17): their slots and events, and
 * CREATE_CHILD_SA for new ones and rekeys, both roles, with PFS, the
 * §2.8.1 collision rule and the §2.25 answers.
 * Part of the engine (ike/engine_int.h); the API is ike/engine.h.
 */
#include "ike/engine_int.h"

static bool esp_spi_live(void *ctx, uint32_t spi, uint32_t sa_id);
static bool spi_in_use(struct ike_engine *e, uint32_t spi);
static void child_free(struct ike_sa *sa, struct ike_child *c);
static int child_up_event_ex(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c,
                             const struct child_keying *k, ike_time_t now);
static bool esp_group_offered(const struct ike_peer *p, uint16_t g);
static void creq_clear(struct ike_sa *sa);
static struct ike_child *child_by_spi_in_sa(struct ike_sa *sa, uint32_t spi);
static int send_create_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static int creq_begin(struct ike_engine *e, struct ike_sa *sa, const struct ike_ts_list *local,
                      const struct ike_ts_list *remote);
static int creq_send(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

/* Our CREATE_CHILD_SA and IKE SA rekey requests exist (on the heap) only
 * while they are out: 3 KiB an SA would hold for nothing otherwise. */
bool creq_on(const struct ike_sa *sa)
{
	return sa->creq && sa->creq->active;
}

/* A CHILD_SA slot in use (see child_free()). */
bool live(const struct ike_child *c)
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
uint32_t new_esp_spi(struct ike_engine *e, struct ike_sa *sa)
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

struct ike_child *child_by_spi_in(struct ike_engine *e, uint32_t spi, struct ike_sa **owner)
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

/*
 * CHILD_SAs live on the heap, one allocation each, only while they exist
 * (4 slots of 680 bytes inline would be most of an SA's budget). A slot
 * holds NULL or a child; a child in state IKE_CHILD_FREE is a slot taken
 * by child_slot() for an exchange that then failed, free for the next.
 * child_free() takes c out of sa's slots and frees it, wiped (a child not
 * in a slot is only wiped).
 */
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

void child_down(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c,
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

/* A free slot's child (zeroed, state IKE_CHILD_FREE) to fill in, or NULL
 * (no room, or no memory). */
struct ike_child *child_slot(struct ike_sa *sa)
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
bool child_room(const struct ike_sa *sa)
{
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (!live(sa->child[j]))
			return true;
	return false;
}

/* Mark c up (its rekey timer running) and report it with its keys. */
static int child_up_event_ex(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c,
                             const struct child_keying *k, ike_time_t now)
{
	struct ike_event ev;
	int rc;

	c->state = IKE_CHILD_UP;
	c->rekey_at = sa->peer->cfg.child_rekey_time ? add_time(now, sa->peer->cfg.child_rekey_time)
	                                             : IKE_TIME_NEVER;
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
int child_up_event(struct ike_engine *e, struct ike_sa *sa, struct ike_child *c, ike_time_t now)
{
	struct child_keying k = {sa->initiator,  NULL,           sa->hs->ni, sa->hs->nr, 0,
	                         sa->hs->ni_len, sa->hs->nr_len, 0,          false};

	return child_up_event_ex(e, sa, c, &k, now);
}

void child_failed_event(struct ike_engine *e, struct ike_sa *sa, uint16_t notify)
{
	struct ike_event ev;

	ev_base(sa, IKE_EV_CHILD_FAILED, &ev);
	ev.reason =
	    notify == IKE_N_NO_PROPOSAL_CHOSEN ? IKE_REASON_NO_PROPOSAL : IKE_REASON_PEER_ERROR;
	ev.notify = notify;
	ev_push(e, &ev);
}

/* §2.25: after TEMPORARY_FAILURE, retry "after a short delay": 1 to 3 s,
 * random so that two peers refusing each other do not meet again. */
ike_time_t retry_soon(struct ike_engine *e, ike_time_t now)
{
	uint8_t r;

	rnd(e, &r, 1);
	return add_time(now, IKE_SEC + (ike_time_t)r * (2 * IKE_SEC / 255));
}

/* Order nonces as §2.8.1 compares them: byte-wise, a prefix first. */
int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

void nonce_min(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out,
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
int start_rekey(struct ike_engine *e, struct ike_sa *sa, struct ike_child *old, ike_time_t now)
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
int start_new_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	int rc = creq_begin(e, sa, NULL, NULL);

	return rc < 0 ? rc : creq_send(e, sa, now);
}

/* §2.25: a CHILD_SA the peer did not know, made again from scratch with
 * the selectors it had (the window is free). */
int start_recreate_child(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	int rc = creq_begin(e, sa, &sa->re_local, &sa->re_remote);

	return rc < 0 ? rc : creq_send(e, sa, now);
}

void create_child_error(struct ike_engine *e, struct ike_sa *sa, const struct ike_hdr *rh,
                        const struct ike_path *path, uint16_t type, const uint8_t *data, size_t len)
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
int on_create_child_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                            ike_time_t now)
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
	if (sa->state == IKE_SA_INIT_ANSWERED || sa->state == IKE_SA_AUTH_WAIT ||
	    sa->state == IKE_SA_EAP) {
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
	rc = ike_proposal_select(sa->peer->esp_props.p, sa->peer->esp_props.n, m->sa.p,
	                         m->sa.n_proposals, peer_ke, 0, &c.suite);
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
		    false,        gir,        m->nonce.data,         nr,   gir_len,
		    m->nonce.len, sizeof(nr), old ? old->spi_in : 0, false};

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

int on_create_child_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
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
		if (g != r->ke_group && esp_group_offered(sa->peer, g) &&
		    r->ke_retries < KE_RETRIES_MAX && (!r->old_spi_in || old)) {
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
		struct child_keying kk = {true,          gir,           r->ni,
		                          m->nonce.data, gir_len,       r->ni_len,
		                          m->nonce.len,  r->old_spi_in, false};

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
