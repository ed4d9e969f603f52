/*
 * IKE_SA_INIT (RFC 7296 §1.2): both roles, COOKIE (§2.6), NAT detection
 * (§2.23), INVALID_KE_PAYLOAD, and the first of the two steps that choose
 * the connection (by addresses).
 * Part of the engine (ike/engine_int.h); the API is ike/engine.h.
 */
#include "ike/engine_int.h"

static void send_init_error(struct ike_engine *e, const struct ike_path *path,
                            const struct ike_hdr *req, uint16_t type, const uint8_t *data,
                            size_t len);
static bool natd_mismatch(const struct ike_msg *m, uint16_t type, uint64_t spi_i, uint64_t spi_r,
                          const struct ike_addr *addr);
static void natd_add(struct ike_engine *e, struct ike_build *b, const struct ike_sa *sa);
static int build_init_request(struct ike_engine *e, struct ike_sa *sa);
static int send_init_request(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);
static struct ike_sa *find_half_open(struct ike_engine *e, uint64_t spi_i,
                                     const struct ike_addr *remote);
static bool prefix_has(const struct ike_prefix *p, const struct ike_addr *a);
static int prefixes_score(const struct ike_prefix *p, size_t n, const struct ike_addr *a);
static struct ike_peer *peer_for_init(const struct ike_engine *e, const struct ike_path *path);
static void make_cookie(struct hmac *mac, uint8_t version, const struct ike_msg *m,
                        const struct ike_path *path, uint8_t out[COOKIE_LEN]);
static void cookie_rotate(struct ike_engine *e, ike_time_t now);
static bool cookie_ok(struct ike_engine *e, const struct ike_msg *m,
                      const struct ike_path *path, ike_time_t now);
static bool cookie_wanted(const struct ike_engine *e, const struct ike_path *path);
static void sa_fail(struct ike_engine *e, struct ike_sa *sa, enum ike_reason r, uint16_t notify);

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
	if ((n = ike_build_finish(&b, NULL)) > 0) {
		log_sent(e, NULL, path, e->out, (size_t)n, (size_t)n, 1);
		tx_push(e, path, e->out, (size_t)n);
	}
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
	log_sent(e, sa, &sa->path, e->out, (size_t)n, (size_t)n, 1);
	tx_push(e, &sa->path, e->out, (size_t)n);
	return IKE_OK;
}

int initiate(struct ike_engine *e, struct ike_peer *p, const struct ike_path *path, ike_time_t now)
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

/* RFC 4739 §3.1: a responder announces MULTIPLE_AUTH_SUPPORTED in its
 * IKE_SA_INIT response. Only while some connection demands a second round:
 * which connection an SA ends under is known at IKE_AUTH, and a client
 * that sees no announcement does one round, which every other connection
 * wants. */
bool rounds_wanted(const struct ike_engine *e)
{
	for (size_t i = 0; i < e->n_peers; i++)
		if (!e->peers[i]->removed && e->peers[i]->cfg.remote_eap2)
			return true;
	return false;
}

bool group_offered(const struct ike_peer *p, uint16_t g)
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
int addr_score(const struct ike_peer *p, const struct ike_path *path)
{
	int l = prefixes_score(p->cfg.local_addrs, p->cfg.n_local_addrs, &path->local);
	int r = prefixes_score(p->cfg.remote_addrs, p->cfg.n_remote_addrs, &path->remote);

	return l && r ? r * 4 + l : 0;
}

/* The candidate connection of a new IKE_SA_INIT (strongSwan's ike_cfg
 * lookup): best address fit, on a tie the lower rank, then the first added. */
static struct ike_peer *peer_for_init(const struct ike_engine *e, const struct ike_path *path)
{
	struct ike_peer *best = NULL;
	int best_score = 0;

	for (size_t i = 0; i < e->n_peers; i++) {
		struct ike_peer *p = e->peers[i];
		int sc = p->removed ? 0 : addr_score(p, path);

		if (sc > best_score || (sc && sc == best_score && peer_before(p, best))) {
			best = p;
			best_score = sc;
		}
	}
	return best;
}

/* §2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>),
 * here with HMAC-SHA-256 keyed by the secret. */
static void make_cookie(struct hmac *mac, uint8_t version, const struct ike_msg *m,
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
	hmac_start(mac);
	hmac_update(mac, data, n);
	hmac_finish(mac, out + 1);
}

void cookie_key(struct ike_engine *e, struct hmac *mac)
{
	uint8_t secret[32];

	rnd(e, secret, sizeof(secret));
	(void)hmac_init(mac, PRF_HMAC_SHA2_256, secret, sizeof(secret));
	sodium_memzero(secret, sizeof(secret));
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
	e->cookie_prev_mac = e->cookie_mac;
	e->cookie_prev_version = e->cookie_version;
	e->cookie_prev_until = e->cookie_since + COOKIE_SECRET_SWITCH + COOKIE_PREV_VALID;
	cookie_key(e, &e->cookie_mac);
	e->cookie_version++;
	e->cookie_since = now;
}

static bool cookie_ok(struct ike_engine *e, const struct ike_msg *m,
                      const struct ike_path *path, ike_time_t now)
{
	const struct ike_notify *c = ike_msg_notify(m, IKE_N_COOKIE);
	struct hmac *mac;
	uint8_t want[COOKIE_LEN];

	/* §2.6: the COOKIE notify must come first. */
	if (!c || c != &m->notify[0] || m->n_payloads == 0 || m->order[0] != IKE_PL_NOTIFY ||
	    c->len != COOKIE_LEN)
		return false;
	if (c->data[0] == e->cookie_version)
		mac = &e->cookie_mac;
	else if (c->data[0] == e->cookie_prev_version && now < e->cookie_prev_until)
		mac = &e->cookie_prev_mac;
	else
		return false;
	make_cookie(mac, c->data[0], m, path, want);
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

int on_init_request(struct ike_engine *e, const struct ike_path *path, size_t len, ike_time_t now)
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
		make_cookie(&e->cookie_mac, e->cookie_version, m, path, c);
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
	sa->nat_local = p->cfg.force_encap || natd_mismatch(m, IKE_N_NAT_DETECTION_DESTINATION_IP,
	                                                    sa->spi_i, 0, &path->local);
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
	if (rounds_wanted(e))
		notify_add(&b, IKE_N_MULTIPLE_AUTH_SUPPORTED, NULL, 0);
	/* RFC 7427 §4: answer the peer's hash list with ours; strongSwan's
	 * responder sends its CERTREQ here (ike_cert_pre.c). */
	sighash_add(sa->peer, &b, sa->peer_hashes != 0);
	certreq_add(e, sa->peer, &b);
	n = ike_build_finish(&b, NULL);
	memset(reply, 0, sizeof(*reply));
	if (n < 0 || (rc = ike_sa_derive(sa, gir, gir_len)) < 0) {
		/* Ours, not the peer's fault (a suite the keys code cannot
		 * size, memory): counted and said, never silent. */
		e->stats.internal_errors++;
		dlog(e, sa->id, "IKE_SA_INIT dropped: %s",
		     n < 0 ? "response too big" : "key derivation failed");
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
	log_sent(e, sa, path, e->out, (size_t)n, (size_t)n, 1);
	tx_push(e, path, e->out, (size_t)n);
	return IKE_OK;
}

static void sa_fail(struct ike_engine *e, struct ike_sa *sa, enum ike_reason r, uint16_t notify)
{
	sa_remove(e, sa, r, notify);
}

int on_init_response(struct ike_engine *e, const struct ike_path *path, size_t len, ike_time_t now)
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
		if (g == sa->ke_group || !group_offered(sa->peer, g) ||
		    sa->hs->ke_retries >= KE_RETRIES_MAX) {
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
	if (ike_proposal_check_reply(sa->peer->ike_props.p, sa->peer->ike_props.n, m->sa.p,
	                             m->sa.n_proposals, 0, &suite) < 0 ||
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
	sa->hs->multi_auth = ike_msg_notify(m, IKE_N_MULTIPLE_AUTH_SUPPORTED) != NULL;
	sa->nat_remote =
	    natd_mismatch(m, IKE_N_NAT_DETECTION_SOURCE_IP, sa->spi_i, sa->spi_r, &path->remote);
	sa->peer_frag = !sa->peer->cfg.no_fragmentation &&
	                ike_msg_notify(m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	sa->nat_local =
	    sa->peer->cfg.force_encap || natd_mismatch(m, IKE_N_NAT_DETECTION_DESTINATION_IP,
	                                               sa->spi_i, sa->spi_r, &path->local);
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
