/*
 * One line per IKE message for a debug log, in the shape of strongSwan's
 * charon (ike = 2), so that an operator can read tunsecd's and charon's
 * logs side by side:
 *
 *	IKE_AUTH request 1 [ IDi N(INIT_CONTACT) IDr AUTH CPRQ SA TSi TSr ]
 *
 * The payload list comes from a message's plain chain (what we send,
 * before it is sealed) or from a parsed one (what we received). Nothing
 * here reads payload contents beyond a notify's type and a CP's kind: no
 * identity, nonce or key material reaches a log.
 */
#ifndef TUNSEC_IKE_MSGLOG_H
#define TUNSEC_IKE_MSGLOG_H

#include <stddef.h>
#include <stdint.h>

#include "ike/payload.h"

#define IKE_MSGLOG_MAX 320

/* "IKE_AUTH", "CREATE_CHILD_SA", ..., or "EXCHANGE(n)". */
const char *ike_exchange_name(uint8_t exchange, char *buf, size_t cap);

/* A notify type's short name as charon prints it ("INIT_CONTACT",
 * "NATD_S_IP"), or its number. */
const char *ike_notify_name(uint16_t type, char *buf, size_t cap);

/*
 * The line for a plain message (IKE header, then the payload chain as
 * ike_build_finish() made it): "EXCHANGE request|response MID [ ... ]".
 * Malformed chains end the list with "..." (never read past len).
 */
void ike_msglog_plain(const uint8_t *msg, size_t len, char out[IKE_MSGLOG_MAX]);

/* The same for a received message parsed (and decrypted) into m. */
void ike_msglog_parsed(const struct ike_msg *m, char out[IKE_MSGLOG_MAX]);

#endif
