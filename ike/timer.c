/*
 * Timers: each SA's earliest deadline in the engine's heap (satab.h),
 * and what happens when one is due: retransmissions (§2.1), give-up,
 * half-open timeouts, reassembly timeouts, rekeys, liveness checks (§2.4).
 * Part of the engine (ike/engine_int.h); the API is ike/engine.h.
 */
#include "ike/engine_int.h"

static ike_time_t dpd_deadline(const struct ike_sa *sa);
static ike_time_t min_time(ike_time_t a, ike_time_t b);
static int sa_expire(struct ike_engine *e, struct ike_sa *sa, ike_time_t now);

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
ike_time_t sa_due(const struct ike_sa *sa)
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
			enum ike_reason r =
			    sa->req_kind == IKE_REQ_DPD ? IKE_REASON_DPD
			    : sa->req_kind == IKE_REQ_DELETE_IKE
			        ? (sa->del_reason ? sa->del_reason : IKE_REASON_DELETED_LOCAL)
			        : IKE_REASON_TIMEOUT;

			sa_remove(e, sa, r, 0);
			return IKE_OK;
		}
		/* §2.1: the same bytes again, the wait growing. */
		sa->req_sent++;
		sa->req_deadline = add_time(now, rto(sa, sa->req_sent));
		e->stats.tx_retransmit++;
		dlog(e, sa->id, "retransmit %u of request %u", sa->req_sent - 1,
		     sa->req_kind == IKE_REQ_INIT ? 0 : sa->tx_id);
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
		int rc;

		dlog(e, sa->id, "liveness check (§2.4): nothing heard for %llu ms",
		     (unsigned long long)((now - sa->last_heard) / 1000000));
		rc = send_info(e, sa, IKE_REQ_DPD, now);

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
