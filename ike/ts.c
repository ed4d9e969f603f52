/* Traffic selector narrowing (RFC 7296 §2.9); see ts.h. */
#include "ike/ts.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static size_t alen(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* §3.13.1: start 65535, end 0. */
static bool opaque(const struct esp_sel *s)
{
	return s->port_lo == 65535 && s->port_hi == 0;
}

static bool any_port(const struct esp_sel *s)
{
	return s->port_lo == 0 && s->port_hi == 65535;
}

/* A selector that denotes no traffic at all (malformed ranges). */
static bool empty(const struct esp_sel *s)
{
	size_t n = alen(s->family);

	return n == 0 || memcmp(s->start, s->end, n) > 0 || (!opaque(s) && s->port_lo > s->port_hi);
}

bool ike_ts_intersect(const struct esp_sel *a, const struct esp_sel *b, struct esp_sel *out)
{
	size_t n = alen(a->family);
	struct esp_sel r;

	memset(out, 0, sizeof(*out));
	if (a->family != b->family || empty(a) || empty(b))
		return false;
	memset(&r, 0, sizeof(r));
	r.family = a->family;
	if (a->proto && b->proto && a->proto != b->proto)
		return false;
	r.proto = a->proto ? a->proto : b->proto;
	if (opaque(a) || opaque(b)) {
		/* OPAQUE meets only OPAQUE or "any port". */
		if (!(opaque(a) || any_port(a)) || !(opaque(b) || any_port(b)))
			return false;
		r.port_lo = 65535;
		r.port_hi = 0;
	} else {
		r.port_lo = a->port_lo > b->port_lo ? a->port_lo : b->port_lo;
		r.port_hi = a->port_hi < b->port_hi ? a->port_hi : b->port_hi;
		if (r.port_lo > r.port_hi)
			return false;
	}
	/* Big-endian bytes compare like the numbers they hold. */
	memcpy(r.start, memcmp(a->start, b->start, n) >= 0 ? a->start : b->start, n);
	memcpy(r.end, memcmp(a->end, b->end, n) <= 0 ? a->end : b->end, n);
	if (memcmp(r.start, r.end, n) > 0)
		return false;
	*out = r;
	return true;
}

bool ike_ts_contains(const struct esp_sel *outer, const struct esp_sel *inner)
{
	size_t n = alen(outer->family);

	if (outer->family != inner->family || empty(outer) || empty(inner))
		return false;
	if (outer->proto && outer->proto != inner->proto)
		return false;
	if (opaque(inner)) {
		if (!opaque(outer) && !any_port(outer))
			return false;
	} else if (opaque(outer) || inner->port_lo < outer->port_lo ||
	           inner->port_hi > outer->port_hi) {
		return false;
	}
	return memcmp(outer->start, inner->start, n) <= 0 && memcmp(inner->end, outer->end, n) <= 0;
}

static bool covered(const struct esp_sel *sels, size_t n, const struct esp_sel *s)
{
	for (size_t i = 0; i < n; i++)
		if (ike_ts_contains(&sels[i], s))
			return true;
	return false;
}

/* Append r unless an earlier result already covers it; no room: *cut. */
static void add(struct ike_ts_list *out, const struct esp_sel *r, bool *cut)
{
	if (covered(out->s, out->n, r))
		return;
	if (out->n == ESP_MAX_SELS) {
		*cut = true;
		return;
	}
	out->s[out->n++] = *r;
}

int ike_ts_narrow(const struct esp_sel *ours, size_t n_ours, const struct esp_sel *offered,
                  size_t n_offered, struct ike_ts_list *out, bool *narrowed)
{
	bool cut = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n_offered; i++) {
		struct esp_sel r;

		/* Allowed in full: keep it exactly as offered (this is how the
		 * packet's selectors stay first, §2.9). */
		if (covered(ours, n_ours, &offered[i])) {
			add(out, &offered[i], &cut);
			continue;
		}
		cut = true;
		for (size_t j = 0; j < n_ours; j++)
			if (ike_ts_intersect(&offered[i], &ours[j], &r))
				add(out, &r, &cut);
	}
	if (narrowed)
		*narrowed = cut;
	return out->n ? 0 : IKE_TS_ERR_UNACCEPTABLE;
}

int ike_ts_select(const struct ike_ts_policy *pol, size_t n_pol, const struct esp_sel *tsi,
                  size_t n_tsi, const struct esp_sel *tsr, size_t n_tsr, struct ike_ts_result *out)
{
	size_t fallback = n_pol;

	if (!pol || !out || (!tsi && n_tsi) || (!tsr && n_tsr))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (n_tsi == 0 || n_tsr == 0)
		return IKE_TS_ERR_UNACCEPTABLE;
	for (size_t p = 0; p < n_pol; p++) {
		struct ike_ts_list li, lr;

		if (covered(pol[p].remote, pol[p].n_remote, &tsi[0]) &&
		    covered(pol[p].local, pol[p].n_local, &tsr[0])) {
			bool ni = false, nr = false;

			ike_ts_narrow(pol[p].remote, pol[p].n_remote, tsi, n_tsi, &out->tsi, &ni);
			ike_ts_narrow(pol[p].local, pol[p].n_local, tsr, n_tsr, &out->tsr, &nr);
			out->policy = p;
			out->narrowed = ni || nr;
			out->first_kept = true;
			return 0;
		}
		if (fallback == n_pol &&
		    ike_ts_narrow(pol[p].remote, pol[p].n_remote, tsi, n_tsi, &li, NULL) == 0 &&
		    ike_ts_narrow(pol[p].local, pol[p].n_local, tsr, n_tsr, &lr, NULL) == 0)
			fallback = p;
	}
	if (fallback == n_pol)
		return IKE_TS_ERR_UNACCEPTABLE;
	/* §2.9, last case: the first selectors are not allowed, so narrow to
	 * whatever subset is. */
	ike_ts_narrow(pol[fallback].remote, pol[fallback].n_remote, tsi, n_tsi, &out->tsi, NULL);
	ike_ts_narrow(pol[fallback].local, pol[fallback].n_local, tsr, n_tsr, &out->tsr, NULL);
	out->policy = fallback;
	out->narrowed = true;
	out->first_kept = false;
	return 0;
}

bool ike_ts_is_subset(const struct esp_sel *got, size_t n_got, const struct esp_sel *proposed,
                      size_t n_proposed)
{
	if (n_got == 0)
		return false;
	for (size_t i = 0; i < n_got; i++)
		if (!covered(proposed, n_proposed, &got[i]))
			return false;
	return true;
}
