/*
 * IKE SA rekeys (RFC 7296 §1.3.2, §2.18): both roles, and the §2.8.2
 * collision rule (the lowest of four nonces loses).
 * Part of the engine (ike/engine_int.h); the API is ike/engine.h.
 */
#include "ike/engine_int.h"

static size_t rekeyed_held(const struct ike_engine *e, const struct ike_sa *sa);
static uint64_t spi_load64(const uint8_t *p);
static void spi_store64(uint64_t v, uint8_t out[8]);
static int rekey_keys(struct ike_sa *nsa, const struct ike_sa *old, const uint8_t *ni,
                      size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *gir,
                      size_t gir_len);
static void collision_redundant(struct ike_engine *e, const struct ike_sa *old, struct ike_sa *nsa,
                                ike_time_t now);
static int send_rekey_ike(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static void ireq_clear(struct ike_sa *sa);

bool ireq_on(const struct ike_sa *sa)
{
	return sa->ireq && sa->ireq->active;
}

/* How many IKE SAs of sa's identity were replaced by a rekey and still
 * wait for their Delete (IKE_ENGINE_REKEYED_MAX). */
static size_t rekeyed_held(const struct ike_engine *e, const struct ike_sa *sa)
{
	size_t n = 0;

	for (struct ike_sa *o = satab_ident_first(&e->tab, &sa->peer_id); o;
	     o = satab_ident_next(&e->tab, o))
		n += o->state == IKE_SA_REKEYED && same_identity(o, sa);
	return n;
}

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
	nsa->rekey_at = old->peer->cfg.ike_rekey_time ? add_time(now, old->peer->cfg.ike_rekey_time)
	                                              : IKE_TIME_NEVER;
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
struct ike_sa *collided_peer(struct ike_engine *e, const struct ike_sa *sa)
{
	struct ike_sa *p;

	if (!ireq_on(sa) || !sa->ireq->peer_sa || !(p = sa_by_id(e, sa->ireq->peer_sa)))
		return NULL;
	return p->state == IKE_SA_COLLIDED && p->rekey_of == sa->id ? p : NULL;
}

/* §2.8.2: the peer's new SA survives: it takes old's CHILD_SAs (its IKE_UP
 * names old), and its initiator, the peer, deletes old. */
void collision_peer_wins(struct ike_engine *e, struct ike_sa *old, struct ike_sa *peer,
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

int start_ike_rekey(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
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

int on_rekey_ike_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                         ike_time_t now)
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
	/* A peer rekeying in a loop without deleting what it replaced. */
	if (rekeyed_held(e, sa) >= IKE_ENGINE_REKEYED_MAX) {
		e->stats.rekey_refused++;
		e->stats.tmp_failure++;
		create_child_error(e, sa, &m->hdr, path, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return IKE_OK;
	}
	if (!ike_msg_has(m, IKE_PL_NONCE) || !ike_msg_has(m, IKE_PL_KE)) {
		create_child_error(e, sa, &m->hdr, path, IKE_N_INVALID_SYNTAX, NULL, 0);
		return IKE_OK;
	}
	rc = ike_proposal_select(sa->peer->ike_props.p, sa->peer->ike_props.n, m->sa.p,
	                         m->sa.n_proposals, m->ke.group, 0, &suite);
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
	    rekey_keys(nsa, sa, nsa->hs->ni, nsa->hs->ni_len, nsa->hs->nr, nsa->hs->nr_len, gir,
	               gir_len) < 0) {
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
		nonce_min(nsa->hs->ni, nsa->hs->ni_len, nsa->hs->nr, nsa->hs->nr_len,
		          sa->ireq->peer_min, &sa->ireq->peer_min_len);
		ike_sa_hs_done(nsa);
		return IKE_OK;
	}
	ike_sa_hs_done(nsa);
	ike_rekey_commit(e, sa, nsa, now);
	run_pending(e, nsa, now);
	return IKE_OK;
}

int on_rekey_ike_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	struct ike_ike_req *r = sa->ireq;
	const struct ike_notify *err;
	struct ike_suite suite;
	struct ike_sa *nsa = NULL, *peer;
	uint8_t gir[KE_MAX_SHARED], mine[IKE_NONCE_MAX];
	size_t gir_len = 0, mine_len = 0;
	bool ok = false, busy = ike_msg_notify(m, IKE_N_TEMPORARY_FAILURE) != NULL,
	     ours_low = false;

	if (!r || !r->active) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	ike_sa_request_done(sa);
	if ((err = ike_msg_notify(m, IKE_N_INVALID_KE_PAYLOAD))) {
		uint16_t g = err->len == 2 ? wire_load16(err->data) : 0;

		if (g != r->ke_group && group_offered(sa->peer, g) &&
		    r->ke_retries < KE_RETRIES_MAX) {
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
		sa->rekey_at = busy ? retry_soon(e, now)
		               : sa->peer->cfg.ike_rekey_time
		                   ? add_time(now, sa->peer->cfg.ike_rekey_time)
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
