/*
 * TCP MSS clamping (the iptables TCPMSS target, in user space): a SYN that
 * crosses the tunnel gets its MSS option lowered to fit the tunnel MTU, so
 * TCP never needs fragments through ESP. The checksum is fixed incrementally
 * (RFC 1624).
 */
#ifndef TUNSEC_TUN_MSS_H
#define TUNSEC_TUN_MSS_H

#include <stddef.h>
#include <stdint.h>

/* The MSS that fits an inner MTU for the packet's IP version. */
uint16_t mss_for_mtu(unsigned mtu, int ipv6);

/*
 * If the IPv4/IPv6 packet is a TCP SYN whose MSS option exceeds the MSS for
 * mtu, lower it in place. Returns 1 if changed, 0 if not, never fails on
 * malformed input (it leaves such packets alone).
 */
int mss_clamp(uint8_t *ip, size_t len, unsigned mtu);

#endif
