/*
 * IKE_AUTH (RFC 7296 §1.2, §2.15): both roles, PSK and certificate AUTH,
 * the second step of the connection choice (by IDs and AUTH method),
 * uniqueness and INITIAL_CONTACT (§2.4), the configuration payload
 * (§2.19) with its pause for an outside answer, and the first CHILD_SA.
 * EAP rounds are ex_eap.c's. Part of the engine (ike/engine_int.h); the
 * API is ike/engine.h.
 */
#include "ike/engine_int.h"

static bool uses_pubkey(const struct ike_peer *p);
static int64_t wall_now(const struct ike_engine *e);
static uint16_t child_suite(const struct ike_sa *sa, const struct ike_msg *m, struct ike_child *c);
static uint16_t child_ts(struct ike_engine *e, struct ike_sa *sa, const struct esp_sel *tsi,
                         size_t n_tsi, const struct esp_sel *tsr, size_t n_tsr,
                         struct ike_child *c);
static bool auth_fit(const struct ike_peer *p, bool has_auth, uint8_t method, bool eap_only_ok);
static struct ike_peer *peer_for_auth(struct ike_engine *e, const struct ike_sa *sa,
                                      const struct ike_path *path);
static void replace_twins(struct ike_engine *e, struct ike_sa *sa, bool initial_contact,
                          ike_time_t now);

static bool uses_pubkey(const struct ike_peer *p)
{
	return p->cfg.local_auth == IKE_AUTHBY_PUBKEY || p->cfg.remote_auth == IKE_AUTHBY_PUBKEY;
}

/* RFC 7427 §4: the hash algorithms of the peer's SIGNATURE_HASH_ALGORITHMS
 * (2-byte identifiers) as a bitmask; 0 if it sent none. */
unsigned peer_hash_set(const struct ike_msg *m)
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

bool certreq_seen(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->n_certreq; i++)
		if (m->certreq[i].encoding == IKE_CERT_X509_SIG)
			return true;
	return false;
}

/* SIGNATURE_HASH_ALGORITHMS with SHA2-256/384/512 (RFC 7427 §4), only when
 * certificates are in play, so that PSK exchanges stay as they were. */
void sighash_add(const struct ike_peer *p, struct ike_build *b, bool send)
{
	static const uint8_t h[] = {0, IKE_HASH_SHA256, 0, IKE_HASH_SHA384, 0, IKE_HASH_SHA512};

	if (send && uses_pubkey(p))
		notify_add(b, IKE_N_SIGNATURE_HASH_ALGORITHMS, h, sizeof(h));
}

/* CERTREQ (§3.7): SHA-1 of every trust anchor's SubjectPublicKeyInfo. */
void certreq_add(struct ike_engine *e, const struct ike_peer *p, struct ike_build *b)
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
void certs_add(const struct ike_peer *p, struct ike_build *b, bool asked)
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

void id_payload(const struct ike_identity *id, struct ike_id *out, uint8_t body[4 + 255],
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
void keep_peer_id(struct ike_sa *sa, const struct ike_id *id)
{
	size_t n = id->len < IKE_ID_MAX ? id->len : IKE_ID_MAX;

	memset(&sa->peer_id, 0, sizeof(sa->peer_id));
	sa->peer_id.type = id->type;
	sa->peer_id.len = (uint8_t)n;
	if (n)
		memcpy(sa->peer_id.data, id->data, n);
}

bool id_matches(const struct ike_identity *want, const struct ike_id *got)
{
	if (want->type == 0)
		return true;
	return got->type == want->type && got->len == want->len &&
	       memcmp(got->data, want->data, want->len) == 0;
}

/* AUTH of one side (§2.15): initiator with RealMessage1 | Nr | prf(SK_pi,
 * IDi'), responder with RealMessage2 | Ni | prf(SK_pr, IDr'). */
void auth_octets(const struct ike_sa *sa, bool of_initiator, const uint8_t *id_body,
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
int auth_make(struct ike_engine *e, struct ike_sa *sa, const struct ike_auth_octets *o,
              struct ike_auth *a)
{
	enum ike_sig_scheme sch;
	int n, rc;

	memset(a, 0, sizeof(*a));
	if (sa->peer->cfg.local_auth != IKE_AUTHBY_PUBKEY) {
		if (ike_auth_psk(sa->keys.prf, sa->peer->psk, sa->peer->cfg.psk_len, o,
		                 e->authbuf) < 0)
			return IKE_ERR_CRYPTO;
		a->method = IKE_AUTH_PSK;
		a->data = e->authbuf;
		a->len = sa->keys.prf_len;
		return IKE_OK;
	}
	sch = ike_creds_sig_scheme(sa->peer->cfg.creds, sa->peer_hashes, sa->peer->cfg.rsa_pss,
	                           sa->peer->cfg.allow_legacy & IKE_LEGACY_SHA1);
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
bool auth_verify(struct ike_engine *e, struct ike_sa *sa, bool of_initiator,
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
		if (ike_auth_psk_verify(sa->keys.prf, sa->peer->psk, sa->peer->cfg.psk_len, &o,
		                        m->auth.data, m->auth.len))
			return true;
		e->auth_err = IKE_CERT_ERR_PSK;
		return false;
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
void proposal_ts(const struct ike_engine *e, const struct ike_sa *sa, struct ike_child *c)
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

int send_auth_request(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
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
	bool eap = sa->peer->cfg.local_auth == IKE_AUTHBY_EAP;
	bool two = sa->peer->cfg.local_eap2;
	int n, rc;

	/* RFC 4739 §3.1: a second round only with a server that said it
	 * takes one; not silently one round less than configured */
	if (two && !sa->hs->multi_auth) {
		e->stats.auth_failed++;
		e->auth_err = IKE_CERT_ERR_ROUNDS;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, 0);
		return IKE_OK;
	}
	id_payload(&sa->peer->cfg.local_id, &idi, body, &body_len);
	auth_octets(sa, true, body, body_len, &o);
	/* §2.16: we are the EAP peer: no AUTH now, EAP rounds follow */
	if (eap)
		sa->hs->eap_phase = IKE_EAP_STARTED;
	else if (auth_make(e, sa, &o, &a) < 0)
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
	if (eap_only(sa->peer))
		notify_add(&b, IKE_N_EAP_ONLY_AUTHENTICATION, NULL, 0);
	certreq_add(e, sa->peer, &b);
	if (sa->peer->cfg.remote_id.type) {
		/* §3.5: IDr in the request names whom we want to talk to. */
		id_payload(&sa->peer->cfg.remote_id, &idr, idr_body, &idr_len);
		ike_build_id(&b, IKE_PL_IDR, &idr);
	}
	if (!eap)
		ike_build_auth(&b, &a);
	/* RFC 4739 §3: ANOTHER_AUTH_FOLLOWS goes with the round's AUTH
	 * (after EAP, with the AUTH made with the MSK) */
	if (two)
		notify_add(&b, IKE_N_MULTIPLE_AUTH_SUPPORTED, NULL, 0);
	if (two && !eap)
		notify_add(&b, IKE_N_ANOTHER_AUTH_FOLLOWS, NULL, 0);
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

static void ike_up_event(struct ike_engine *e, struct ike_sa *sa, const struct ike_cp_reply *cp,
                         uint32_t auth_lifetime)
{
	struct ike_event ev;

	sa->up = true;
	sa->peer->had_sa = true;
	satab_ident_add(&e->tab, sa); /* out of memory: uniqueness misses it */
	sa->rekey_at = sa->peer->cfg.ike_rekey_time
	                   ? add_time(sa->last_heard, sa->peer->cfg.ike_rekey_time)
	                   : IKE_TIME_NEVER;
	ev_base(sa, IKE_EV_IKE_UP, &ev);
	if (cp)
		ev.cp = *cp;
	ev.auth_lifetime = auth_lifetime;
	if (!sa->initiator && sa->hs && sa->hs->round2) {
		ev.auth_round = 2;
		ev.peer_id1 = sa->hs->id1;
	}
	ev_push(e, &ev);
}

/*
 * The selectors a responder allows for sa's CHILD_SAs: the connection's,
 * except that with virtual IPs assigned (§2.19) the peer's side is its
 * addresses and nothing else, so that no client can send as, or receive
 * for, another one.
 */
void ts_policy(const struct ike_sa *sa, struct ike_ts_policy *pol,
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
                         size_t n_tsi, const struct esp_sel *tsr, size_t n_tsr, struct ike_child *c)
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

/* 0: want does not accept got; 1: want is "any"; 2: the same ID. */
int id_fit(const struct ike_identity *want, const struct ike_id *got)
{
	if (want->type == 0)
		return 1;
	return got->type == want->type && got->len == want->len &&
	               memcmp(got->data, want->data, want->len) == 0
	           ? 2
	           : 0;
}

/* Does p's remote_auth fit what the peer sent: an AUTH of this method, or
 * none (it wants EAP, §2.16)? An EAP-only connection also needs the
 * peer's EAP_ONLY_AUTHENTICATION (eap_only_ok; RFC 5998 §3). */
static bool auth_fit(const struct ike_peer *p, bool has_auth, uint8_t method, bool eap_only_ok)
{
	if (eap_only(p))
		return !has_auth && eap_only_ok;
	if (p->cfg.remote_auth == IKE_AUTHBY_EAP)
		return !has_auth;
	return has_auth && (p->cfg.remote_auth == IKE_AUTHBY_PSK) == (method == IKE_AUTH_PSK);
}

/* Would p's IKE proposals have chosen the suite sa runs with? (Its keys
 * came from the candidate's proposals; another connection must admit
 * them too.) */
bool suite_fit(struct ike_engine *e, const struct ike_peer *p, const struct ike_sa *sa)
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
	bool has_auth = ike_msg_has(m, IKE_PL_AUTH);
	/* RFC 4739: a round by AUTH says whether another follows; one by
	 * EAP says so only with its last AUTH (checked then) */
	bool another = ike_msg_notify(m, IKE_N_ANOTHER_AUTH_FOLLOWS) != NULL;
	struct ike_peer *best = NULL;
	long best_score = 0;

	for (size_t i = 0; i < e->n_peers; i++) {
		struct ike_peer *p = e->peers[i];
		int a = p->removed ? 0 : addr_score(p, path);
		int idf = a ? id_fit(&p->cfg.remote_id, &m->idi) : 0;
		long sc;

		if (!idf ||
		    !auth_fit(p, has_auth, m->auth.method,
		              ike_msg_notify(m, IKE_N_EAP_ONLY_AUTHENTICATION) != NULL) ||
		    (has_auth && p->cfg.remote_eap2 != another) || !suite_fit(e, p, sa))
			continue;
		sc = idf * 1000L + (has_idr && id_fit(&p->cfg.local_id, &m->idr) == 2 ? 100 : 0) +
		     a * 2L + (p == sa->peer);
		if (sc > best_score || (sc == best_score && peer_before(p, best))) {
			best = p;
			best_score = sc;
		}
	}
	return best;
}

bool same_identity(const struct ike_sa *a, const struct ike_sa *b)
{
	return a->peer_id.type == b->peer_id.type && a->peer_id.len == b->peer_id.len &&
	       memcmp(a->peer_id.data, b->peer_id.data, a->peer_id.len) == 0 &&
	       a->peer->cfg.local_id.type == b->peer->cfg.local_id.type &&
	       a->peer->cfg.local_id.len == b->peer->cfg.local_id.len &&
	       memcmp(a->peer->cfg.local_id.data, b->peer->cfg.local_id.data,
	              a->peer->cfg.local_id.len) == 0;
}

/* Another live IKE SA of sa's identity (ours and the peer's), or NULL. */
struct ike_sa *twin(struct ike_engine *e, const struct ike_sa *sa)
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
			o->del_reason = IKE_REASON_UNIQUE;
			run_pending(e, o, now);
		}
	}
}

/* IKE_EV_NEED: the exchange of sa waits for ike_engine_resume(). */
void need_event(struct ike_engine *e, struct ike_sa *sa, enum ike_need need,
                const struct ike_cp_request *req)
{
	struct ike_event ev;

	ev_base(sa, IKE_EV_NEED, &ev);
	sa->told = true; /* the daemon holds state for it now: its end is said */
	ev.need = need;
	ev.peer_id = sa->peer_id;
	ev.cp_req = *req;
	ev_push(e, &ev);
}

/* The responder's IKE_AUTH answer refuses us: AUTHENTICATION_FAILED, or
 * an error notify without the payload (pl) that would carry on. Removes
 * the SA and says so (true). */
bool refused(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m, uint8_t pl)
{
	const struct ike_notify *err;

	if (ike_msg_notify(m, IKE_N_AUTHENTICATION_FAILED)) {
		e->stats.auth_failed++;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
		return true;
	}
	if (!ike_msg_has(m, pl) && (err = first_error(m))) {
		sa_remove(e, sa, IKE_REASON_PEER_ERROR, err->type);
		return true;
	}
	return false;
}

int on_auth_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
                    ike_time_t now)
{
	const struct ike_msg *m = &e->msg;
	struct ike_hdr h;
	struct ike_build b;
	bool ok, ic = ike_msg_notify(m, IKE_N_INITIAL_CONTACT) != NULL;
	/* §2.16: an IKE_AUTH without AUTH asks for EAP */
	bool eap = ike_msg_has(m, IKE_PL_IDI) && !ike_msg_has(m, IKE_PL_AUTH);
	struct ike_peer *p = NULL;
	struct auth_pending pa;
	int rc;

	if (sa->state == IKE_SA_EAP)
		return on_eap_request(e, sa, path, now);
	if (sa->state != IKE_SA_INIT_ANSWERED) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	/* Verify before anything is committed: first which connection the
	 * IDs and the AUTH method ask for, then AUTH with its credentials. */
	e->auth_err = 0;
	ok = ike_msg_has(m, IKE_PL_IDI) && (ike_msg_has(m, IKE_PL_AUTH) || eap);
	if (ok && !(p = peer_for_auth(e, sa, path))) {
		e->stats.no_peer++;
		ok = false;
	}
	/* The claimed ID, for the failure's event too (who was refused). */
	if (ike_msg_has(m, IKE_PL_IDI))
		keep_peer_id(sa, &m->idi);
	if (ok) {
		peer_move(e, sa, p);
		/* with EAP, the peer proves itself in the rounds to come */
		ok = eap || auth_verify(e, sa, true, &m->idi);
	} else if (ike_msg_has(m, IKE_PL_IDI)) {
		e->auth_err = IKE_CERT_ERR_NO_PEER;
	}
	/* unique = keep: the identity's SA stays, this one goes (unless the
	 * peer says, with INITIAL_CONTACT, that it lost the other). With EAP
	 * the identity is the one EAP (or a second round) proves: checked
	 * after it. */
	if (ok && !eap && !p->cfg.remote_eap2 && p->cfg.unique == IKE_UNIQUE_KEEP && !ic &&
	    twin(e, sa)) {
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
		sa->path = *path; /* (its IKE_DOWN names where it came from) */
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
	if (eap)
		return eap_begin(e, sa, &pa);
	if (p->cfg.remote_eap2)
		return round1_answer(e, sa, &pa);
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
int auth_finish(struct ike_engine *e, struct ike_sa *sa, struct auth_pending *pa,
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
	if (pa->eap_final) {
		/* §2.16: after EAP, only our AUTH made with the MSK */
		if (auth_make_eap(e, sa, &p->cfg.local_id, &a) < 0) {
			sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
			return IKE_ERR_CRYPTO;
		}
	} else {
		id_payload(&p->cfg.local_id, &idr, body, &body_len);
		auth_octets(sa, false, body, body_len, &o);
		if (auth_make(e, sa, &o, &a) < 0) {
			sa_remove(e, sa, IKE_REASON_PROTOCOL, 0);
			return IKE_ERR_CRYPTO;
		}
		ike_build_id(&b, IKE_PL_IDR, &idr);
		/* The initiator's CERTREQ came in this request (strongSwan). */
		certs_add(p, &b, pa->certreq);
	}
	ike_build_auth(&b, &a);
	if (pa->auth_lifetime) {
		uint8_t lt[4];

		wire_store32(lt, pa->auth_lifetime);
		notify_add(&b, IKE_N_AUTH_LIFETIME, lt, sizeof(lt));
	}
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
	ike_up_event(e, sa, cp_ok ? ans : NULL, 0);
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
	sa = sa_by_id(e, sa_id);
	if (sa && sa->state == IKE_SA_EAP && sa->hs && sa->hs->eap_waiting &&
	    ans->need == IKE_NEED_EAP) {
		rc = sa->initiator ? eap_resume_peer(e, sa, ans, now)
		                   : eap_resume_server(e, sa, ans);
		flush(e, now);
		return rc;
	}
	if (!sa || sa->state != IKE_SA_AUTH_WAIT || !sa->pause || ans->need != IKE_NEED_CP) {
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

/* Initiator: we refuse the responder's IKE_AUTH answer (its AUTH, or what
 * came in place of it): §2.21.2, tell it in a separate INFORMATIONAL,
 * sent once, and drop the SA without waiting. */
int refuse_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
{
	e->stats.auth_failed++;
	send_info(e, sa, IKE_REQ_NOTIFY, now);
	sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
	return IKE_OK;
}

/* RFC 4478 §3: the AUTH_LIFETIME in m, seconds (4 bytes); 0: none or
 * malformed. */
static uint32_t auth_lifetime(const struct ike_msg *m)
{
	const struct ike_notify *n = ike_msg_notify(m, IKE_N_AUTH_LIFETIME);

	return n && n->len == 4 ? wire_load32(n->data) : 0;
}

int on_auth_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
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

	bool eap_final = sa->hs->eap_phase == IKE_EAP_AUTH_SENT;

	if (sa->req_kind != IKE_REQ_AUTH) {
		e->stats.rx_old++;
		return IKE_OK;
	}
	if (sa->hs->eap_phase == IKE_EAP_STARTED || sa->hs->eap_phase == IKE_EAP_ROUNDS)
		return on_eap_response(e, sa, now);
	if (refused(e, sa, m, IKE_PL_AUTH))
		return IKE_OK;
	e->auth_err = 0;
	if (eap_final) {
		/* §2.16: the server's AUTH made with the MSK, over the IDr
		 * its first response proved */
		ok = auth_verify_eap(e, sa, false, &sa->peer_id);
	} else {
		if (ike_msg_has(m, IKE_PL_IDR))
			keep_peer_id(sa, &m->idr);
		ok = ike_msg_has(m, IKE_PL_IDR) && ike_msg_has(m, IKE_PL_AUTH);
		if (ok && !id_matches(&sa->peer->cfg.remote_id, &m->idr)) {
			e->auth_err = IKE_CERT_ERR_IDR;
			ok = false;
		}
		if (ok)
			ok = auth_verify(e, sa, false, &m->idr);
	}
	/* §2.19: what the server assigned us (reported in IKE_UP); its
	 * TSi narrows our CHILD_SA to it. */
	got_cp = ok && ike_msg_has(m, IKE_PL_CP) && ike_cp_reply_parse(&m->cp, &cpr);
	ike_sa_request_done(sa);
	if (!ok)
		return refuse_response(e, sa, now);
	if (sa->peer->cfg.local_eap2 && !sa->hs->round2)
		return start_round2(e, sa, now);
	sa->state = IKE_SA_ESTABLISHED;
	sa->half_open_deadline = IKE_TIME_NEVER; /* (EAP's wait) */
	sa->last_heard = now;
	ike_up_event(e, sa, got_cp ? &cpr : NULL, auth_lifetime(m));

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
