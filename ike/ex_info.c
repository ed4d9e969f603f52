/*
 * INFORMATIONAL (RFC 7296 §1.4): Deletes and liveness checks both ways,
 * and the deferred work that waits for a free window (§2.3).
 * Part of the engine (ike/engine_int.h); the API is ike/engine.h.
 */
#include "ike/engine_int.h"

int send_info(struct ike_engine *e, struct ike_sa *sa, enum ike_req_kind kind, ike_time_t now)
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
void run_pending(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
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

struct ike_child *child_by_spi_out(struct ike_sa *sa, uint32_t spi)
{
	for (size_t j = 0; j < IKE_SA_MAX_CHILD; j++)
		if (live(sa->child[j]) && sa->child[j]->spi_out == spi)
			return sa->child[j];
	return NULL;
}

int on_info_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_path *path,
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
			for (size_t hop = 0; !c && owner->replaced_by && hop < 8; hop++) {
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
		/* An EAP peer that gives up mid-method (a wrong password, a
		 * Failure Request it will not retry) says so this way: ours
		 * to report as EAP's failure, not as our AUTH refused. */
		if (!sa->initiator && sa->hs && sa->hs->eap_phase != IKE_EAP_NONE)
			e->auth_err = IKE_CERT_ERR_EAP;
		sa_remove(e, sa, IKE_REASON_AUTH_FAILED, IKE_N_AUTHENTICATION_FAILED);
		return rc < 0 ? rc : IKE_OK;
	}
	run_pending(e, sa, now);
	return rc < 0 ? rc : IKE_OK;
}

int on_info_response(struct ike_engine *e, struct ike_sa *sa, ike_time_t now)
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
