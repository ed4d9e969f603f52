/*
 * remote.auth = eap-radius: the peer's EAP goes to a RADIUS server
 * (RFC 3579 pass-through), which decides; accounting of the sessions it
 * admitted (RFC 2866). Two parts:
 *
 *  - the hub, one per daemon: daemon/radius.c's sans-I/O client with the
 *    socket(s) it sends from (opened before the privilege drop) and the
 *    servers' addresses;
 *  - a session per IKE SA while its EAP runs: the EAP-Identity round (ours,
 *    as strongSwan's eap-identity does it before eap-radius), then every
 *    EAP message of the peer in an Access-Request with the State of the
 *    last Access-Challenge, until Access-Accept (EAP-Success, the MSK from
 *    MS-MPPE keys) or Access-Reject.
 *
 * The engine's IKE_NEED_EAP waits meanwhile (ike_engine_resume() later):
 * radsess_answer() says whether its answer is ready or comes with a
 * RADIUS event, whose user pointer is the one given here.
 */
#ifndef TUNSEC_DAEMON_EAPRADIUS_H
#define TUNSEC_DAEMON_EAPRADIUS_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/config.h"
#include "daemon/radius.h"
#include "ike/engine.h"

struct radhub;
struct radsess;

/* The hub for cfg (n_servers > 0), its sockets open. NULL and a reason. */
struct radhub *radhub_new(const struct cfg_radius *cfg, char *err, size_t cap);
void radhub_free(struct radhub *h);
/* Its sockets (-1 where a family has no server). */
int radhub_fd(const struct radhub *h, int family);
/* Read what fd has (non-blocking), hand each datagram from a server's
 * address and port to the client; a datagram from anywhere else is
 * counted and dropped. */
void radhub_input(struct radhub *h, int fd, uint64_t now);
/* Send what the client queued. */
void radhub_flush(struct radhub *h);
uint64_t radhub_next_expiry(const struct radhub *h);
void radhub_expire(struct radhub *h, uint64_t now);
/* 1 and *ev (radius_event_wipe() it), or 0. */
int radhub_poll(struct radhub *h, struct radius_event *ev);
const struct radius_counters *radhub_counters(const struct radhub *h);
/* Requests in flight (tests). */
size_t radhub_pending(const struct radhub *h);
/* Datagrams from addresses that are no server's. */
uint64_t radhub_strays(const struct radhub *h);
const struct cfg_radius *radhub_cfg(const struct radhub *h);
/* Queue an Accounting-Request (m: its attributes; NAS-Identifier added
 * here); user for the event (NULL: none wanted). < 0 on error. */
int radhub_account(struct radhub *h, struct radius_msg *m, void *user, uint64_t now);

/*
 * One IKE_NEED_EAP event (server side): *sp is the IKE SA's session (NULL
 * at the first event; created here). eap_id: the connection's
 * remote.eap_id ("" or %any: ask with EAP-Identity). user: what the
 * RADIUS event of this session will carry.
 * Returns 1: ans is ready (an EAP-Request/Identity, or a FAILURE); 0: an
 * Access-Request is on its way, the answer comes with radsess_result().
 * why: the reason of a FAILURE.
 */
int radsess_answer(struct radsess **sp, struct radhub *h, const struct ike_event *ev,
                   const char *eap_id, void *user, struct ike_answer *ans, char *why,
                   size_t why_cap, uint64_t now);

/* The RADIUS event that answers the session's request: ans for the engine
 * (CONTINUE with the server's EAP-Request, SUCCESS with EAP-Success and
 * the MSK, FAILURE with EAP-Failure); why on FAILURE. */
void radsess_result(struct radsess *s, const struct radius_event *ev, struct ike_answer *ans,
                    char *why, size_t why_cap);

/* What the Access-Accept said of the user (valid after SUCCESS). */
struct radsess_user {
	char name[256];      /* the EAP identity, User-Name */
	bool has_framed_ip;
	uint8_t framed_ip[4]; /* Framed-IP-Address: its virtual IP */
	size_t class_len;
	uint8_t class_[RADIUS_ATTR_MAX]; /* Class: its group, echoed in accounting */
	uint32_t session_timeout;        /* seconds; 0: none */
};
const struct radsess_user *radsess_user(const struct radsess *s);

/* Accounting (RFC 2866) of an admitted session. */
struct radacct_counts {
	uint64_t in_octets, out_octets, in_packets, out_packets; /* in: from the peer */
};
/* Acct-Status-Type status (RADIUS_ACCT_START / _INTERIM / _STOP): with
 * the session's id (made at START), user, Class, vip4 (its virtual IPv4
 * address, or NULL), counters and time since START; cause: the
 * Acct-Terminate-Cause of a STOP. < 0 on error (not sent). */
int radsess_account(struct radsess *s, int status, const uint8_t *vip4,
                    const struct radacct_counts *cnt, uint64_t now, uint32_t cause);
/* Whether START was sent (and STOP is still owed). */
bool radsess_accounting(const struct radsess *s);
/* When the next Interim-Update is due (ns), 0: none. */
uint64_t radsess_interim_at(const struct radsess *s);

/* Cancels a request in flight; wipes and frees (NULL is fine). */
void radsess_free(struct radsess *s);

#endif
