/*
 * The daemon's side of EAP in IKE_AUTH (RFC 7296 §2.16): the engine hands
 * each EAP message over (IKE_EV_NEED, IKE_NEED_EAP) and this module answers
 * with the next one, as the local EAP server (EAP-MSCHAPv2, users from
 * secrets eap-NAME / ntlm-NAME; EAP-TLS, users with a certificate from
 * remote.cacerts that names their EAP identity) or as the EAP peer (our
 * own user and secret, or certificate). One struct eapauth per IKE SA while its EAP runs; ike/eap.c
 * and ike/eap_mschapv2.c do the protocol. No I/O here: RADIUS, which answers the same events
 * asynchronously, comes next to it.
 */
#ifndef TUNSEC_DAEMON_EAPAUTH_H
#define TUNSEC_DAEMON_EAPAUTH_H

#include <stdbool.h>

#include "daemon/config.h"
#include "ike/engine.h"

struct eapauth;
struct eap_tls_creds;

/*
 * Answer one IKE_NEED_EAP event: *st holds the IKE SA's EAP state (NULL
 * at the first event; created here, freed once ans says SUCCESS or
 * FAILURE, or by eapauth_free()). cfg: the secrets; cc: the connection
 * (its eap_id settings). Fills ans (need, status, message, MSK, identity).
 * why: a line for the log when not empty (user unknown, wrong password,
 * malformed message): on failure, once; for EAP-TLS when the server
 * refuses the peer, already with the alert that tells the peer so (RFC
 * 5216 §2.1.3: status CONTINUE; the FAILURE after it says nothing more).
 * 0, or -ENOMEM / -EINVAL (ans then says FAILURE).
 */
int eapauth_answer(struct eapauth **st, const struct tunsec_config *cfg, const struct cfg_conn *cc,
                   const struct eap_tls_creds *tls, const struct ike_event *ev,
                   struct ike_answer *ans, char *why, size_t why_cap);

/*
 * cc's EAP-TLS credentials (local.certs with a key among cfg's key files,
 * remote.cacerts), loaded once per connection at start, reload and
 * tunsecd -t, and lent to each conversation (eapauth_answer's tls), so
 * that an unauthenticated peer costs no file read or X.509 parse. *out is
 * NULL when cc has no EAP-TLS. 0, or -EINVAL with a line in err.
 */
int eapauth_load(const struct tunsec_config *cfg, const struct cfg_conn *cc,
                 struct eap_tls_creds **out, char *err, size_t cap);
/* Free what eapauth_load() gave (NULL is fine); no conversation may hold it. */
void eapauth_creds_free(struct eap_tls_creds *c);

/* EAP-TLS conversations at once, in all (each holds a TLS context and
 * message buffers, some 40 KB, and any peer that finished IKE_SA_INIT can
 * start one): the next is refused, or eap-dynamic offers it none. */
#define EAPAUTH_TLS_MAX 256
size_t eapauth_tls_active(void);

/* Wipe and free (NULL is fine). */
void eapauth_free(struct eapauth *st);

/* The secret of user name[0..len) among cfg's EAP secrets (the first
 * whose ids name it, or one without ids), or NULL. */
const struct cfg_eap_secret *eapauth_secret(const struct tunsec_config *cfg, const uint8_t *name,
                                            size_t len);

#endif
