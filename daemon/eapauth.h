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
 * The ends of cc one EAP conversation goes by: those of authentication
 * round (1, or 2: RFC 4739's second, ev.auth_round) in our role there
 * (server: we check the peer's login; else we log in). *me is ours (as the
 * peer: the method, eap_id and id we log in with; as the EAP-TLS server:
 * our certificate), *peer the other end's (as the server: the method, the
 * eap_id we ask for, groups, the users' CA; as the peer: the server's id
 * and CA). Round 1: local and remote. Round 2 has its own end only where
 * it is written: as the server remote2 (and our local: a responder
 * authenticates once), as the peer local2 (and the server's remote).
 */
void eapauth_ends(const struct cfg_conn *cc, unsigned round, bool server, const struct cfg_end **me,
                  const struct cfg_end **peer);

/* The IKE identity of an EAP user name[0..len): an e-mail address when it
 * has an @, else an FQDN-typed name (the bytes as they are). */
void eapauth_user_id(const uint8_t *name, size_t len, struct ike_identity *id);

/*
 * Answer one IKE_NEED_EAP event: *st holds the IKE SA's EAP state (NULL
 * at the first event; created here, freed once ans says SUCCESS or
 * FAILURE, or by eapauth_free()). cfg: the secrets; me, peer: the ends of
 * the event's round and role (eapauth_ends(): method, eap_id, ids).
 * Fills ans (need, status, message, MSK, identity).
 * why: a line for the log when not empty (user unknown, wrong password,
 * malformed message): on failure, once; for EAP-TLS when the server
 * refuses the peer, already with the alert that tells the peer so (RFC
 * 5216 §2.1.3: status CONTINUE; the FAILURE after it says nothing more).
 * 0, or -ENOMEM / -EINVAL (ans then says FAILURE).
 */
int eapauth_answer(struct eapauth **st, const struct tunsec_config *cfg, const struct cfg_end *me,
                   const struct cfg_end *peer, const struct eap_tls_creds *tls,
                   const struct ike_event *ev, struct ike_answer *ans, char *why, size_t why_cap);

/*
 * cc's EAP-TLS credentials for round (1 or 2) in role server (see
 * eapauth_ends(): our certificate, its key among cfg's key files, the
 * other end's CA), loaded once per connection at start, reload and
 * tunsecd -t, and lent to each conversation (eapauth_answer's tls), so
 * that an unauthenticated peer costs no file read or X.509 parse. Round 1
 * has the same files in both roles (local.certs, remote.cacerts): one set
 * for both, whatever server says; round 2 one for each role. *out is NULL
 * when that round and role has no EAP-TLS. 0, or -EINVAL with a line in
 * err.
 */
int eapauth_load(const struct tunsec_config *cfg, const struct cfg_conn *cc, unsigned round,
                 bool server, struct eap_tls_creds **out, char *err, size_t cap);
/* Free what eapauth_load() gave (NULL is fine); no conversation may hold it. */
void eapauth_creds_free(struct eap_tls_creds *c);

/* EAP-TLS conversations at once, in all (each holds a TLS context and
 * message buffers, some 40 KB, and any peer that finished IKE_SA_INIT can
 * start one): the next is refused, or eap-dynamic offers it none. */
#define EAPAUTH_TLS_MAX 256
size_t eapauth_tls_active(void);

/* After st's SUCCESS, if EAP-TLS was the method: what ran ("TLS 1.3,
 * TLS_AES_256_GCM_SHA384") into buf, and true; false for another method. */
bool eapauth_tls_summary(const struct eapauth *st, char *buf, size_t cap);

/* Wipe and free (NULL is fine). */
void eapauth_free(struct eapauth *st);

/* The secret of user name[0..len) among cfg's EAP secrets (the first
 * whose ids name it, or one without ids), or NULL. */
const struct cfg_eap_secret *eapauth_secret(const struct tunsec_config *cfg, const uint8_t *name,
                                            size_t len);

#endif
