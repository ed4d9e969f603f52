/*
 * EAP in IKE_AUTH (RFC 7296 §2.16) for ex_auth.c, both roles: the rounds
 * with their pauses for the daemon's answers (IKE_EV_NEED, IKE_NEED_EAP),
 * the AUTHs made with the MSK, EAP-only authentication (RFC 5998), a
 * second authentication round (RFC 4739), and the move to another
 * connection an EAP answer may ask for. Part of the engine
 * (ike/engine_int.h); the API is ike/engine.h.
 */
#include "ike/engine_int.h"

static const struct ike_identity *our_round_id(const struct ike_sa *sa);
static int round2_begin(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa);

/* RFC 5998: EAP proves both sides, the server sends no AUTH before it. */
bool eap_only(const struct ike_peer *p)
{
	return p->cfg.local_auth == IKE_AUTHBY_EAP && p->cfg.remote_auth == IKE_AUTHBY_EAP;
}

/* ---- EAP in IKE_AUTH (§2.16) --------------------------------------------- */

/* IKE_EV_NEED for the next EAP message: the peer's (none: begin). */
static void need_eap_event(struct ike_engine *e, struct ike_sa *sa, const uint8_t *eap, size_t len)
{
	struct ike_event ev;

	ev_base(sa, IKE_EV_NEED, &ev);
	sa->told = true;
	ev.need = IKE_NEED_EAP;
	ev.peer_id = sa->peer_id; /* claimed, not yet proven */
	ev.eap_server = !sa->initiator;
	ev.auth_round = sa->hs->round2 ? 2 : 1;
	if (len > sizeof(ev.eap))
		len = sizeof(ev.eap); /* (callers refuse longer ones first) */
	if (len)
		memcpy(ev.eap, eap, len);
	ev.eap_len = len;
	sa->hs->eap_waiting = true;
	ev_push(e, &ev);
}

/* The key AUTH uses once EAP is done (§2.16): the MSK, or SK_pi / SK_pr
 * when the method made none. */
static void eap_key(const struct ike_sa *sa, bool of_initiator, const uint8_t **key, size_t *len)
{
	if (sa->hs->msk_len) {
		*key = sa->hs->msk;
		*len = sa->hs->msk_len;
	} else {
		*key = of_initiator ? sa->keys.sk_pi : sa->keys.sk_pr;
		*len = sa->keys.prf_len;
	}
}

/* Our AUTH after EAP: the shared-key MIC (method 2) keyed with the EAP
 * key, over our side's octets. Data in e->authbuf (wipe it). */
int auth_make_eap(struct ike_engine *e, struct ike_sa *sa, const struct ike_identity *id,
                  struct ike_auth *a)
{
	struct ike_auth_octets o;
	struct ike_id pl;
	uint8_t body[4 + 255];
	size_t body_len, klen;
	const uint8_t *key;

	id_payload(id, &pl, body, &body_len);
	auth_octets(sa, sa->initiator, body, body_len, &o);
	eap_key(sa, sa->initiator, &key, &klen);
	memset(a, 0, sizeof(*a));
	if (ike_auth_psk(sa->keys.prf, key, klen, &o, e->authbuf) < 0)
		return IKE_ERR_CRYPTO;
	a->method = IKE_AUTH_PSK;
	a->data = e->authbuf;
	a->len = sa->keys.prf_len;
	return IKE_OK;
}

/* The peer's AUTH after EAP, over its side's octets with its ID id. */
bool auth_verify_eap(struct ike_engine *e, struct ike_sa *sa, bool of_initiator,
                     const struct ike_identity *id)
{
	const struct ike_msg *m = &e->msg;
	struct ike_auth_octets o;
	struct ike_id pl;
	uint8_t body[4 + 255];
	size_t body_len, klen;
	const uint8_t *key;

	if (!ike_msg_has(m, IKE_PL_AUTH) || m->auth.method != IKE_AUTH_PSK) {
		e->auth_err = IKE_CERT_ERR_METHOD;
		return false;
	}
	id_payload(id, &pl, body, &body_len);
	auth_octets(sa, of_initiator, body, body_len, &o);
	eap_key(sa, of_initiator, &key, &klen);
	if (ike_auth_psk_verify(sa->keys.prf, key, klen, &o, m->auth.data, m->auth.len))
		return true;
	e->auth_err = IKE_CERT_ERR_EAP_AUTH;
	return false;
}

/* Responder: the peer asked for EAP (no AUTH in its first IKE_AUTH). Keep
 * the request's rest and ask the daemon for the first EAP Request. */
int eap_begin(struct ike_engine *e, struct ike_sa *sa, const struct auth_pending *pa)
{
	if (!(sa->pause = malloc(sizeof(*sa->pause)))) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return IKE_ERR_CRYPTO;
	}
	*sa->pause = *pa;
	sa->pause->eap = true;
	sa->pause->idi = sa->peer_id;
	sa->state = IKE_SA_EAP;
	sa->hs->eap_phase = IKE_EAP_ROUNDS;
	need_eap_event(e, sa, NULL, 0);
	return IKE_OK;
}

/* Answer the IKE_AUTH request with pa's header, wipe, end the SA on
 * failure: AUTHENTICATION_FAILED (§2.21.2). */
static int auth_refuse(struct ike_engine *e, struct ike_sa *sa, const struct auth_pending *pa)
{
	struct ike_hdr h;
	struct ike_build b;
	int rc;

	e->stats.auth_failed++;
	hdr_for(sa, IKE_AUTH, true, pa->msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	notify_add(&b, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
	rc = send_response(e, sa, &pa->path, ike_build_finish(&b, NULL));
	sa->path = pa->path; /* (its IKE_DOWN names where it came from) */
	sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
	return rc < 0 ? rc : IKE_OK;
}

/* Responder, IKE_SA_EAP: the peer's next EAP message, or, once the
 * method succeeded, its AUTH made with the MSK. */
int on_eap_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                   ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	struct auth_pending *pa = sa->pause;
	int rc;

	/* its retransmission while the daemon still thinks: nothing new */
	if (!pa || sa->hs->eap_waiting) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	pa->msg_id = m->hdr.msg_id;
	pa->path = *path;
	if (sa->hs->eap_phase == IKE_EAP_NEXT_ROUND)
		return round2_begin(e, sa, pa);
	if (sa->hs->eap_phase == IKE_EAP_ROUNDS) {
		if (!ike_msg_has(m, IKE_PL_EAP) || m->eap.len < 4 || m->eap.len > IKE_EAP_MAX) {
			e->auth_err = IKE_CERT_ERR_EAP;
			return auth_refuse(e, sa, pa);
		}
		need_eap_event(e, sa, m->eap.data, m->eap.len);
		return IKE_OK;
	}
	/* IKE_EAP_SUCCEEDED: the AUTH over IDi as it was claimed (§2.16) */
	e->auth_err = 0;
	if (eap_only(sa->peer) && !sa->hs->msk_len) {
		e->auth_err = IKE_CERT_ERR_EAP_ONLY;
		return auth_refuse(e, sa, pa);
	}
	if (!auth_verify_eap(e, sa, true, &pa->idi))
		return auth_refuse(e, sa, pa);
	if (pa->eap_id.type)
		sa->peer_id = pa->eap_id;
	/* RFC 4739: as many rounds as the connection wants, no more */
	if (!sa->hs->round2 && sa->peer->cfg.remote_eap2 &&
	    ike_msg_notify(m, IKE_N_ANOTHER_AUTH_FOLLOWS))
		return round1_answer(e, sa, pa);
	if ((!sa->hs->round2 && sa->peer->cfg.remote_eap2) ||
	    ike_msg_notify(m, IKE_N_ANOTHER_AUTH_FOLLOWS)) {
		e->auth_err = IKE_CERT_ERR_ROUNDS;
		return auth_refuse(e, sa, pa);
	}
	if (sa->peer->cfg.unique == IKE_UNIQUE_KEEP && !pa->ic && twin(e, sa)) {
		e->stats.unique_refused++;
		e->auth_err = IKE_CERT_ERR_UNIQUE;
		return auth_refuse(e, sa, pa);
	}
	pa->eap_final = true;
	if (pa->has_cp) {
		sa->state = IKE_SA_AUTH_WAIT;
		need_event(e, sa, IKE_NEED_CP, &pa->cp);
		return IKE_OK;
	}
	sa->pause = NULL;
	rc = auth_finish(e, sa, pa, NULL, now);
	sodium_memzero(pa, sizeof(*pa));
	free(pa);
	return rc;
}

/* Would the ESP proposals of p choose suite s as the peer's offer? */
static bool esp_suite_fit(struct ike_engine *e, const struct ike_peer *p, const struct ike_suite *s)
{
	struct ike_suite out;
	bool ok;

	memset(&e->sapl.p[0], 0, sizeof(e->sapl.p[0]));
	ike_suite_to_offer(s, s->spi, s->spi_len, &e->sapl.p[0]);
	ok = ike_proposal_select(p->esp_props.p, p->esp_props.n, e->sapl.p, 1, KE_NONE,
	                         IKE_SELECT_NO_KE, &out) == 0;
	memset(&e->sapl.p[0], 0, sizeof(e->sapl.p[0]));
	return ok;
}

static bool same_id(const struct ike_identity *a, const struct ike_identity *b)
{
	return a->type == b->type && a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* The connection of id to move sa to after EAP (ike_answer.peer), or NULL
 * if the exchange could not have run under it. */
static struct ike_peer *move_target(struct ike_engine *e, const struct ike_sa *sa,
                                    const struct auth_pending *pa, uint32_t id)
{
	const struct ike_config *now = &sa->peer->cfg, *to;
	struct ike_peer *p = NULL;

	for (size_t i = 0; i < e->n_peers && !p; i++)
		if (e->peers[i]->id == id && !e->peers[i]->removed)
			p = e->peers[i];
	if (!p)
		return NULL;
	to = &p->cfg;
	if (to->local_auth != now->local_auth || to->remote_auth != now->remote_auth ||
	    to->remote_eap2 != now->remote_eap2 || to->assign_vips != now->assign_vips ||
	    !same_id(&to->local_id, &now->local_id) || !same_id(&to->remote_id, &now->remote_id) ||
	    !same_id(&to->remote_id2, &now->remote_id2) || !addr_score(p, &pa->path) ||
	    !suite_fit(e, p, sa))
		return NULL;
	if (pa->want_child && !pa->child_err && !esp_suite_fit(e, p, &pa->child.suite))
		return NULL;
	return p;
}

/* Responder: the daemon's next EAP message for the peer. The first goes
 * with our IDr, certificates and AUTH (§2.16: the server proves itself
 * before the peer says anything about its credentials). */
int eap_resume_server(struct ike_engine *e, struct ike_sa *sa, const struct ike_answer *ans)
{
	struct auth_pending *pa = sa->pause;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_auth_octets o;
	struct ike_auth a;
	struct ike_id idr;
	uint8_t body[4 + 255];
	size_t body_len;
	/* the first message of round one carries our IDr (and AUTH) */
	bool first = pa->eap_rounds++ == 0 && !sa->hs->round2;
	enum ike_eap_status status = ans->eap_status;
	const uint8_t *eap = ans->eap;
	uint8_t failure[4] = {4, ans->eap[1], 0, 4}; /* RFC 3748 §4.2 */
	struct ike_peer *to = NULL;
	int n, rc;

	if (ans->eap_len < 4 || ans->eap_len > IKE_EAP_MAX || ans->msk_len > IKE_EAP_MSK_MAX)
		return IKE_ERR_INVAL;
	sa->hs->eap_waiting = false;
	if (status == IKE_EAP_SUCCESS && ans->peer && ans->peer != sa->peer->id &&
	    !(to = move_target(e, sa, pa, ans->peer))) {
		status = IKE_EAP_FAILURE;
		eap = failure;
	}
	hdr_for(sa, IKE_AUTH, true, pa->msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	if (first && eap_only(sa->peer)) {
		/* RFC 5998 §3: our IDr, no AUTH: the method proves us */
		id_payload(&sa->peer->cfg.local_id, &idr, body, &body_len);
		ike_build_id(&b, IKE_PL_IDR, &idr);
	} else if (first) {
		id_payload(&sa->peer->cfg.local_id, &idr, body, &body_len);
		auth_octets(sa, false, body, body_len, &o);
		if (auth_make(e, sa, &o, &a) < 0) {
			sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
			return IKE_ERR_CRYPTO;
		}
		ike_build_id(&b, IKE_PL_IDR, &idr);
		/* An EAP peer counts as asking (send_cert = ifasked): it
		 * has no certificate exchange of its own and checks this
		 * AUTH against our certificate, yet Apple's IKEv2 client
		 * (macOS, iOS) sends no CERTREQ (tests/interop/
		 * eap_native_apple.sh). never still sends none. */
		certs_add(sa->peer, &b, true);
		ike_build_auth(&b, &a);
	}
	ike_build_eap(&b, eap, eap == failure ? sizeof(failure) : ans->eap_len);
	n = ike_build_finish(&b, NULL);
	sodium_memzero(e->authbuf, sizeof(e->authbuf));
	if ((rc = send_response(e, sa, &pa->path, n)) < 0) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return rc;
	}
	if (status == IKE_EAP_FAILURE) {
		/* the peer has its EAP-Failure; §2.16: the exchange ends */
		e->stats.auth_failed++;
		e->auth_err = eap == failure ? IKE_CERT_ERR_NO_PEER : IKE_CERT_ERR_EAP;
		if (eap == failure)
			e->stats.no_peer++;
		sa->path = pa->path;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, 0);
	} else if (status == IKE_EAP_SUCCESS) {
		if (to)
			peer_move(e, sa, to);
		memcpy(sa->hs->msk, ans->msk, ans->msk_len);
		sa->hs->msk_len = ans->msk_len;
		pa->eap_id = ans->eap_id;
		/* two rounds, two lifetimes: the shorter holds */
		if (ans->auth_lifetime &&
		    (!pa->auth_lifetime || ans->auth_lifetime < pa->auth_lifetime))
			pa->auth_lifetime = ans->auth_lifetime;
		sa->hs->eap_phase = IKE_EAP_SUCCEEDED;
	}
	return IKE_OK;
}

/* Initiator: the daemon's EAP Response (or, after the server's Success,
 * the MSK: our AUTH goes next). */
int eap_resume_peer(struct ike_engine *e, struct ike_sa *sa, const struct ike_answer *ans,
                    ike_time_t now)
{
	struct ike_hdr h;
	struct ike_build b;
	struct ike_auth a;
	int n, rc;

	if (ans->eap_len > IKE_EAP_MAX || ans->msk_len > IKE_EAP_MSK_MAX ||
	    (ans->eap_status == IKE_EAP_CONTINUE && ans->eap_len < 4))
		return IKE_ERR_INVAL;
	sa->hs->eap_waiting = false;
	if (ans->eap_status == IKE_EAP_FAILURE) {
		e->stats.auth_failed++;
		e->auth_err = IKE_CERT_ERR_EAP;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, 0);
		return IKE_OK;
	}
	/* RFC 5998 §4: without a key the server proved nothing */
	if (ans->eap_status == IKE_EAP_SUCCESS && !ans->msk_len && eap_only(sa->peer)) {
		e->stats.auth_failed++;
		e->auth_err = IKE_CERT_ERR_EAP_ONLY;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, 0);
		return IKE_OK;
	}
	hdr_for(sa, IKE_AUTH, false, sa->tx_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	if (ans->eap_status == IKE_EAP_SUCCESS) {
		memcpy(sa->hs->msk, ans->msk, ans->msk_len);
		sa->hs->msk_len = ans->msk_len;
		if (auth_make_eap(e, sa, our_round_id(sa), &a) < 0) {
			sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
			return IKE_ERR_CRYPTO;
		}
		ike_build_auth(&b, &a);
		if (sa->peer->cfg.local_eap2 && !sa->hs->round2)
			notify_add(&b, IKE_N_ANOTHER_AUTH_FOLLOWS, NULL, 0);
		sa->hs->eap_phase = IKE_EAP_AUTH_SENT;
	} else {
		ike_build_eap(&b, ans->eap, ans->eap_len);
	}
	n = ike_build_finish(&b, NULL);
	sodium_memzero(e->authbuf, sizeof(e->authbuf));
	if ((rc = send_request(e, sa, IKE_REQ_AUTH, n, now)) < 0) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return rc;
	}
	sa->state = IKE_SA_AUTH_SENT;
	return IKE_OK;
}

/* ---- a second authentication round (RFC 4739) --------------------------- */

/* The IDi of the initiator's current round. */
static const struct ike_identity *our_round_id(const struct ike_sa *sa)
{
	const struct ike_config *cfg = &sa->peer->cfg;

	return sa->hs->round2 && cfg->local_id2.type ? &cfg->local_id2 : &cfg->local_id;
}

/* Initiator: round one is done (the server's AUTH verified). Round two
 * starts with our second IDi and no AUTH: EAP follows (§3 of RFC 4739;
 * SA and TS went in the first IKE_AUTH, the server answers them last). */
int start_round2(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	struct ike_hdr h;
	struct ike_build b;
	struct ike_id idi;
	uint8_t body[4 + 255];
	size_t body_len;
	int rc;

	sa->hs->round2 = true;
	sodium_memzero(sa->hs->msk, sizeof(sa->hs->msk));
	sa->hs->msk_len = 0;
	/* the server proved itself in round one: no IDr or AUTH expected */
	sa->hs->eap_phase = IKE_EAP_ROUNDS;
	id_payload(our_round_id(sa), &idi, body, &body_len);
	hdr_for(sa, IKE_AUTH, false, sa->tx_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	ike_build_id(&b, IKE_PL_IDI, &idi);
	if ((rc = send_request(e, sa, IKE_REQ_AUTH, ike_build_finish(&b, NULL), now)) < 0) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return rc;
	}
	sa->state = IKE_SA_AUTH_SENT;
	return IKE_OK;
}

/*
 * Responder: the peer's first round verified, and a second one follows.
 * Answer with our IDr, certificates and AUTH (after EAP, only the AUTH
 * made with the MSK), keep the request's rest (its CHILD_SA and CP are
 * answered at the end) and wait for round two's IDi.
 */
int round1_answer(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa)
{
	bool after_eap = pa->eap;
	struct ike_auth_octets o;
	struct ike_hdr h;
	struct ike_build b;
	struct ike_auth a;
	struct ike_id idr;
	uint8_t body[4 + 255];
	size_t body_len;
	int rc;

	if (!sa->pause) {
		if (!(sa->pause = malloc(sizeof(*sa->pause)))) {
			sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
			return IKE_ERR_CRYPTO;
		}
		*sa->pause = *pa;
		pa = sa->pause;
	}
	hdr_for(sa, IKE_AUTH, true, pa->msg_id, &h);
	ike_build_init(&b, e->plain, sizeof(e->plain), &h);
	if (after_eap) {
		rc = auth_make_eap(e, sa, &sa->peer->cfg.local_id, &a);
	} else {
		id_payload(&sa->peer->cfg.local_id, &idr, body, &body_len);
		auth_octets(sa, false, body, body_len, &o);
		rc = auth_make(e, sa, &o, &a);
		ike_build_id(&b, IKE_PL_IDR, &idr);
		certs_add(sa->peer, &b, pa->certreq);
	}
	if (rc < 0) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return IKE_ERR_CRYPTO;
	}
	ike_build_auth(&b, &a);
	rc = send_response(e, sa, &pa->path, ike_build_finish(&b, NULL));
	sodium_memzero(e->authbuf, sizeof(e->authbuf));
	if (rc < 0) {
		sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
		return rc;
	}
	sa->hs->id1 = sa->peer_id;
	sodium_memzero(sa->hs->msk, sizeof(sa->hs->msk));
	sa->hs->msk_len = 0;
	sa->hs->eap_phase = IKE_EAP_NEXT_ROUND;
	sa->state = IKE_SA_EAP;
	return IKE_OK;
}

/* Responder: round two's first request: its IDi (fitting remote_id2) and
 * no AUTH, for EAP (the only second round we take). */
static int round2_begin(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa)
{
	const struct ike_msg *m = &e->msg;

	if (!ike_msg_has(m, IKE_PL_IDI) || ike_msg_has(m, IKE_PL_AUTH)) {
		e->auth_err = IKE_CERT_ERR_ROUNDS;
		return auth_refuse(e, sa, pa);
	}
	keep_peer_id(sa, &m->idi);
	if (!id_fit(&sa->peer->cfg.remote_id2, &m->idi)) {
		e->auth_err = IKE_CERT_ERR_NO_PEER;
		return auth_refuse(e, sa, pa);
	}
	sa->hs->round2 = true;
	pa->eap = true;
	pa->idi = sa->peer_id;
	memset(&pa->eap_id, 0, sizeof(pa->eap_id));
	pa->eap_rounds = 0;
	sa->hs->eap_phase = IKE_EAP_ROUNDS;
	need_eap_event(e, sa, NULL, 0);
	return IKE_OK;
}

/* Initiator: a response while EAP runs. The first must prove the server
 * (IDr and AUTH, verified as without EAP) before its EAP is looked at;
 * the later ones carry EAP only. */
int on_eap_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	bool ok = true;

	if (refused(e, sa, m, IKE_PL_EAP))
		return IKE_OK;
	e->auth_err = 0;
	if (sa->hs->eap_phase == IKE_EAP_STARTED) {
		if (ike_msg_has(m, IKE_PL_IDR))
			keep_peer_id(sa, &m->idr);
		/* No EAP before the server's AUTH verified, unless EAP-only
		 * is configured (RFC 5998: then no AUTH, which we could not
		 * check anyway; the method and the MSK prove the server) */
		ok = ike_msg_has(m, IKE_PL_IDR);
		if (ok && ike_msg_has(m, IKE_PL_AUTH) == eap_only(sa->peer)) {
			e->auth_err = IKE_CERT_ERR_EAP_ONLY_ONE;
			ok = false;
		}
		if (ok && !id_matches(&sa->peer->cfg.remote_id, &m->idr)) {
			e->auth_err = IKE_CERT_ERR_IDR;
			ok = false;
		}
		if (ok && !eap_only(sa->peer))
			ok = auth_verify(e, sa, false, &m->idr);
	}
	if (ok && (!ike_msg_has(m, IKE_PL_EAP) || m->eap.len < 4 || m->eap.len > IKE_EAP_MAX)) {
		e->auth_err = IKE_CERT_ERR_EAP;
		ok = false;
	}
	ike_sa_request_done(sa);
	if (!ok)
		return refuse_response(e, sa, now);
	sa->hs->eap_phase = IKE_EAP_ROUNDS;
	sa->state = IKE_SA_EAP;
	/* the daemon answers, or the wait ends with the SA */
	sa->half_open_deadline = add_time(now, sa->peer->cfg.half_open_timeout);
	need_eap_event(e, sa, m->eap.data, m->eap.len);
	return IKE_OK;
}
