/*
 * CHILD_SA state and the pieces of an exchange that create one (RFC 7296
 * §1.3, §2.9, §2.17): the ESP SA payload, traffic selectors in both
 * representations (the wire's struct ike_ts, the data plane's struct
 * esp_sel), and KEYMAT cut into the two directions. Internal to ike/.
 */
#ifndef TUNSEC_IKE_CHILD_H
#define TUNSEC_IKE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/engine.h"
#include "ike/keys.h"
#include "ike/payload.h"
#include "ike/proposal.h"
#include "ike/ts.h"

#define IKE_SA_MAX_CHILD 4

enum ike_child_state {
	IKE_CHILD_FREE = 0,
	IKE_CHILD_PROPOSED, /* initiator: SA payload sent, no answer yet */
	IKE_CHILD_UP,
	IKE_CHILD_DELETING, /* our Delete is out */
};

struct ike_child {
	enum ike_child_state state;
	uint32_t spi_in, spi_out;
	struct ike_suite suite;
	struct ike_ts_list local, remote;
	bool want_delete; /* ike_engine_delete_child() while the window was busy */
	bool want_rekey;  /* a rekey waits for the window */
	bool rekeying;    /* our CREATE_CHILD_SA for it is out, or it was replaced */
	ike_time_t rekey_at;
};

/* esp_sel <-> the wire's traffic selector (§3.13.1). false when the wire
 * selector is of a type or family we cannot represent. */
void ike_child_sel_to_ts(const struct esp_sel *s, struct ike_ts *t);
bool ike_child_ts_to_sel(const struct ike_ts *t, struct esp_sel *s);

/* A TS payload from selectors (at most IKE_MAX_TS are taken). */
void ike_child_ts_payload(const struct esp_sel *s, size_t n, struct ike_ts_pl *out);

/* Selectors from a received TS payload; false if one cannot be
 * represented or there are more than ESP_MAX_SELS. */
bool ike_child_ts_from_payload(const struct ike_ts_pl *pl, struct esp_sel *out, size_t *n);

/* The initiator's ESP SA payload (IKE_AUTH: without KE transforms,
 * IKE_SELECT_NO_KE) with our SPI, one proposal per configured one. */
void ike_child_offer(const struct ike_proposal_list *esp, uint32_t spi_in, unsigned flags,
                     struct ike_sa_pl *out);

/* The responder's SA payload: the chosen suite with our SPI. */
void ike_child_reply(const struct ike_suite *s, uint32_t spi_in, struct ike_sa_pl *out);

/* The SPI an ESP proposal carries (4 bytes, §3.3.1). */
uint32_t ike_child_spi(const uint8_t spi[4]);

/*
 * Fill info for a CHILD_SA that came up: SPIs, suite, selectors, and the
 * KEYMAT (§2.17) from the IKE SA's SK_d, the new g^ir with PFS (NULL, 0
 * without) and the exchange's nonces (initiator's first), cut so that
 * key_in is the peer-to-us direction. `initiator`: we initiated the
 * exchange that created the CHILD_SA. 0 or IKE_ERR_CRYPTO.
 */
int ike_child_keys(const struct ike_child *c, const struct ike_keys *ike, bool initiator,
                   const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                   const uint8_t *nr, size_t nr_len, bool encap, struct ike_child_info *info);

/* The info of a CHILD_SA without keys (for CHILD_DOWN). */
void ike_child_describe(const struct ike_child *c, struct ike_child_info *info);

#endif
