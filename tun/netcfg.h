/*
 * Interface addresses, MTU and routes through rtnetlink (no shelling out to
 * ip(8)). Everything added through a struct netcfg is remembered and removed
 * again by netcfg_restore(), also when the daemon exits on a signal.
 * Functions return 0 or -errno (the kernel's netlink error).
 */
#ifndef TUNSEC_TUN_NETCFG_H
#define TUNSEC_TUN_NETCFG_H

#include <stdint.h>

struct netcfg;

int netcfg_open(struct netcfg **out);
/* Remove every address and route this netcfg added, then close it. */
void netcfg_close(struct netcfg *nc);

int netcfg_link_set(struct netcfg *nc, int ifindex, unsigned mtu, int up);
/* family AF_INET/AF_INET6; addr in network order. */
int netcfg_addr_add(struct netcfg *nc, int ifindex, int family, const uint8_t *addr,
		    unsigned prefix);
/* Remove an address netcfg_addr_add() added (the kernel also drops the
 * routes that had it as their source); -EADDRNOTAVAIL if it is not there. */
int netcfg_addr_del(struct netcfg *nc, int ifindex, int family, const uint8_t *addr,
		    unsigned prefix);
/* Route dst/prefix through the interface (src: preferred source, or NULL). */
int netcfg_route_add(struct netcfg *nc, int ifindex, int family, const uint8_t *dst,
		     unsigned prefix, const uint8_t *src);
int netcfg_route_del(struct netcfg *nc, int ifindex, int family, const uint8_t *dst,
		     unsigned prefix);
/* The kernel's extended-ack text explaining the last failed call (e.g.
 * "Invalid prefix for given prefix length"), or "" when it gave none. */
const char *netcfg_strerror(const struct netcfg *nc);
/* Undo all that was added (in reverse order); errors are ignored: the
 * interface may be gone already. */
void netcfg_restore(struct netcfg *nc);

#endif
