/*
 * IKE identities (RFC 7296 §3.5) from and to text, with strongSwan's
 * conventions (its identification_t), so that the ids of a swanctl.conf
 * mean the same here:
 *
 *	%any, *, "" (also %any6, 0.0.0.0, ::)   type 0: any identity
 *	192.0.2.1, 2001:db8::1                   IKE_ID_IPV4_ADDR / IKE_ID_IPV6_ADDR
 *	@#0123abcd                               IKE_ID_KEY_ID, the bytes in hex
 *	@moon.example.org                        IKE_ID_FQDN "moon.example.org"
 *	@@carol@example.org                      IKE_ID_RFC822_ADDR "carol@example.org"
 *	carol@example.org                        IKE_ID_RFC822_ADDR
 *	C=CH, O=strongSwan, CN=moon              IKE_ID_DER_ASN1_DN (DER of the Name)
 *	moon.example.org (anything else)         IKE_ID_FQDN
 *
 * and the explicit prefixes ipv4:, ipv6:, fqdn:, dns:, email:, rfc822:,
 * keyid: (text; keyid:#HEX for bytes) and asn1dn: / dn:.
 *
 * A DN is "ATTR=value" parts separated by ',' (or by '/' if the string
 * starts with '/'), encoded in the order written, one RDN per part, as
 * strongSwan's atodn() and `pki --dn` do: the same text gives the same DER
 * as the subject of a certificate made with pki. Values are PrintableString
 * where the characters allow, else UTF8String; E/Email/emailAddress and
 * UN are IA5String.
 *
 * The ID types themselves (IKE_ID_*) live in ike/payload.h.
 */
#ifndef TUNSEC_IKE_ID_H
#define TUNSEC_IKE_ID_H

#include <stddef.h>

#include "ike/engine.h"
#include "ike/payload.h"

/* How well an identity matches a configured one (strongSwan's id_match_t):
 * higher is better; NONE is no match. */
#define IKE_ID_MATCH_NONE          0
#define IKE_ID_MATCH_ANY           1  /* the pattern is %any */
#define IKE_ID_MATCH_MAX_WILDCARDS 2  /* DN with many '*' RDNs */
#define IKE_ID_MATCH_ONE_WILDCARD  19 /* "*.example.org", a DN with one '*' */
#define IKE_ID_MATCH_PERFECT       20

/* Longest text ike_id_str() writes for any identity (a DN of 255 bytes of
 * DER prints in fewer characters than this). */
#define IKE_ID_STR_MAX 1024

/*
 * Parse s into *out (zeroed first). 0, or
 *   -EINVAL  malformed (bad address, bad hex after @#, unknown DN attribute,
 *            empty FQDN, an address range or subnet, which IKE cannot send)
 *   -E2BIG   the encoding exceeds IKE_ID_MAX bytes
 *   -ENOMEM
 * On error *out is zero (type 0).
 */
int ike_id_parse(const char *s, struct ike_identity *out);

/* The same, with a one-line reason in err (cap bytes, NUL-terminated when
 * cap > 0) on error, e.g. "unknown DN attribute 'XY'". */
int ike_id_parse_err(const char *s, struct ike_identity *out, char *err, size_t cap);

/*
 * id as text, as strongSwan prints it: "%any", "192.0.2.1", "moon.example.org"
 * (FQDN without '@'), "carol@example.org", "C=CH, O=strongSwan, CN=moon",
 * "#0123abcd" for a binary key id (a printable one prints as text).
 * Unprintable bytes become '?'. Writes at most cap bytes, NUL-terminated
 * (cut if cap is too small); returns buf.
 */
char *ike_id_str(const struct ike_identity *id, char *buf, size_t cap);

/*
 * How well id (what a peer is or says it is) matches pattern (a configured
 * identity, possibly %any or with wildcards), by strongSwan's rules:
 * pattern type 0: ANY; same type and bytes: PERFECT (FQDN and RFC822 compare
 * case-insensitively, DNs by RDN with case-insensitive PrintableStrings);
 * FQDN/RFC822 pattern "*suffix": ONE_WILDCARD when id ends with suffix
 * ("*" alone: ANY); DN pattern with RDN values "*": PERFECT minus the
 * number of wildcards (at least MAX_WILDCARDS). Else NONE.
 */
int ike_id_match(const struct ike_identity *id, const struct ike_identity *pattern);

#endif
