/*
 * Traffic selectors as the data plane sees them: an address range, an IP
 * protocol (0 = any) and a port range, per RFC 7296 §3.13.1. IKE's narrowing
 * (ike/ts.c) produces these; the manual config produces them from CIDR.
 */
#ifndef TUNSEC_ESP_SEL_H
#define TUNSEC_ESP_SEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct esp_sel {
	uint8_t family;	    /* AF_INET or AF_INET6 */
	uint8_t proto;	    /* 0: any */
	uint16_t port_lo;   /* host order; 0..65535 = any */
	uint16_t port_hi;
	uint8_t start[16];  /* network order; IPv4 in the first 4 bytes */
	uint8_t end[16];
};

#define ESP_MAX_SELS 8

/* "10.1.0.0/16", "fd00::/64", "10.1.2.3" (a /32); 0 or -EINVAL. Any port,
 * any protocol. */
int esp_sel_parse(struct esp_sel *s, const char *cidr);

/* Prefix length if the range is one CIDR block, else -1. */
int esp_sel_prefix(const struct esp_sel *s);

/* Does address addr (of family) fall inside s's address range? */
bool esp_sel_has_addr(const struct esp_sel *s, int family, const uint8_t *addr);

/*
 * Does the inner IP packet's (src or dst, chosen by use_src) address, and
 * its protocol and port when s restricts them, match s? Packets too short
 * for the fields asked for do not match.
 */
bool esp_sel_match_pkt(const struct esp_sel *s, const uint8_t *ip, size_t len, bool use_src);

/* "10.1.0.0/16" or "10.1.0.5-10.1.0.9[tcp/80]"; returns buf. */
const char *esp_sel_str(const struct esp_sel *s, char *buf, size_t cap);

#endif
