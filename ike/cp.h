/*
 * The configuration payload (RFC 7296 §3.15, §2.19): what a road-warrior
 * client asks for in CP(CFG_REQUEST) and what a server answers in
 * CP(CFG_REPLY). The engine never owns address pools (DESIGN.md): it turns
 * a request into struct ike_cp_request for the daemon, and the daemon's
 * answer (struct ike_cp_reply, ike/engine.h) into the reply's attributes.
 *
 * Unknown attributes and vendor-private ones (Windows asks for 23456 and
 * 23457) are ignored, as §3.15.1 allows: a request is a wish list, never a
 * reason to fail. A known attribute of a length §3.15.1 does not allow
 * makes the whole message malformed (ike/payload.c, as strongSwan has it).
 */
#ifndef TUNSEC_IKE_CP_H
#define TUNSEC_IKE_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/engine.h"
#include "ike/payload.h"

/* Parse a CFG_REQUEST's attributes (cp->type must be IKE_CFG_REQUEST:
 * else false and *out empty). */
bool ike_cp_request_parse(const struct ike_cp *cp, struct ike_cp_request *out);

/* A CFG_REQUEST for the addresses and servers a client wants: v4 and/or
 * v6 (empty values: "any address"). buf holds the attribute values (at
 * least IKE_CP_BUF bytes); it must live as long as out. */
#define IKE_CP_BUF 512
void ike_cp_request_build(bool v4, bool v6, struct ike_cp *out, uint8_t buf[IKE_CP_BUF]);

/*
 * The CFG_REPLY to req from the answer: every address of ans whose family
 * was asked for, DNS and NBNS servers of the families asked for (or all,
 * if the request named none: strongSwan answers that way too), and split
 * include subnets (INTERNAL_IP4/6_SUBNET). 0, or IKE_ERR_NOSPACE when the
 * attributes do not fit IKE_MAX_CP_ATTRS or buf.
 */
int ike_cp_reply_build(const struct ike_cp_request *req, const struct ike_cp_reply *ans,
                       struct ike_cp *out, uint8_t buf[IKE_CP_BUF]);

/* A CFG_REPLY's attributes into *out (initiator side); well-formed
 * attributes only. false: not a CFG_REPLY. */
bool ike_cp_reply_parse(const struct ike_cp *cp, struct ike_cp_reply *out);

#endif
