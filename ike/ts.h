/*
 * Traffic selector narrowing (RFC 7296 §2.9) over the data plane's
 * struct esp_sel (esp/sel.h): address range, IP protocol (0 = any), port
 * range, IPv4 or IPv6. Ports follow §3.13.1: 0..65535 is any, and
 * start 65535 / end 0 is OPAQUE (ports unavailable, e.g. fragments),
 * matched only by OPAQUE or by any; for ICMP the fields carry type/code
 * (RFC 4301 §4.4.1.1) and intersect the same way.
 *
 * As responder, TSi is the initiator's side (our remote selectors) and TSr
 * ours (our local ones). The result lists the non-empty intersections of
 * each offered selector with each of ours, in the offered order, so the
 * first, packet-specific selectors of an ACQUIRE-driven request come first
 * whenever our policy allows them (§2.9: the responder must then include
 * them). An intersection already covered by an earlier one is left out.
 * An empty side means TS_UNACCEPTABLE.
 */
#ifndef TUNSEC_IKE_TS_H
#define TUNSEC_IKE_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/sel.h"

#define IKE_TS_ERR_UNACCEPTABLE (-38) /* TS_UNACCEPTABLE, RFC 7296 §3.10.1 */

struct ike_ts_list {
	size_t n;
	struct esp_sel s[ESP_MAX_SELS];
};

/* One configured Child SA policy: what we allow on each side. */
struct ike_ts_policy {
	const struct esp_sel *local;
	size_t n_local;
	const struct esp_sel *remote;
	size_t n_remote;
};

struct ike_ts_result {
	size_t policy;          /* index of the policy chosen */
	struct ike_ts_list tsi; /* narrowed TSi (initiator's side) */
	struct ike_ts_list tsr; /* narrowed TSr (responder's side) */
	bool narrowed;          /* a strict subset of the offer: the engine may
	                           add ADDITIONAL_TS_POSSIBLE (§2.9) */
	bool first_kept;        /* TSi[0] and TSr[0] are in the result as offered */
};

/* a ∩ b into out; false (out zeroed) if empty or of different families. */
bool ike_ts_intersect(const struct esp_sel *a, const struct esp_sel *b, struct esp_sel *out);

/* Is all traffic of inner also traffic of outer? */
bool ike_ts_contains(const struct esp_sel *outer, const struct esp_sel *inner);

/*
 * Narrow one side: the offered selectors against ours, as described above.
 * Results beyond ESP_MAX_SELS are dropped (and *narrowed set). 0, or
 * IKE_TS_ERR_UNACCEPTABLE if nothing is left. narrowed may be NULL.
 */
int ike_ts_narrow(const struct esp_sel *ours, size_t n_ours, const struct esp_sel *offered,
                  size_t n_offered, struct ike_ts_list *out, bool *narrowed);

/*
 * Responder: pick a policy for the offered TSi/TSr and narrow both sides.
 * The first policy that allows TSi[0] and TSr[0] entirely wins (§2.9: those
 * are the packet's selectors when the request came from an ACQUIRE); else
 * the first whose narrowing leaves both sides non-empty. 0 with *out
 * filled, IKE_TS_ERR_UNACCEPTABLE, or -EINVAL.
 */
int ike_ts_select(const struct ike_ts_policy *pol, size_t n_pol, const struct esp_sel *tsi,
                  size_t n_tsi, const struct esp_sel *tsr, size_t n_tsr, struct ike_ts_result *out);

/*
 * Initiator: is every selector the responder returned inside one of those
 * we proposed (§2.9: the responder may only narrow)? A returned selector
 * that is covered only by the union of several proposed ones is refused,
 * which errs on the safe side.
 */
bool ike_ts_is_subset(const struct esp_sel *got, size_t n_got, const struct esp_sel *proposed,
                      size_t n_proposed);

#endif
