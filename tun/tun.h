/*
 * The TUN device, behind a small interface so that other systems' backends
 * (macOS utun, BSD tun) slot in beside tun_linux.c without touching esp/ or
 * daemon/. Packets are bare IPv4/IPv6 (Linux: IFF_TUN | IFF_NO_PI).
 * Functions return -errno on failure.
 */
#ifndef TUNSEC_TUN_TUN_H
#define TUNSEC_TUN_TUN_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#define TUN_NAME_MAX 16

/* Offloads in force (struct tun.offload), see tun_open_offload(). */
#define TUN_OFFLOAD_CSUM 0x1 /* packets may carry partial checksums */
#define TUN_OFFLOAD_TSO	 0x2 /* TCP super-packets, IPv4 and IPv6 */
#define TUN_OFFLOAD_USO	 0x4 /* UDP super-packets (GSO_UDP_L4) */

struct tun {
	int fd; /* non-blocking */
	int ifindex;
	char name[TUN_NAME_MAX];
	unsigned offload;    /* TUN_OFFLOAD_*; 0: plain packets */
	size_t vnet_hdr_len; /* bytes in front of every packet read or written */
};

/* Create (or attach to) the device; name may be a pattern like "tunsec%d"
 * or empty for the system's choice. */
int tun_open(struct tun *t, const char *name);
/*
 * tun_open() with segmentation offload: every packet read or written is
 * preceded by a virtio-net header of t->vnet_hdr_len bytes (tun/offload.h),
 * reads may return TCP (and, where the kernel has it, UDP) super-packets of
 * up to 64 KB, and writes may be coalesced TCP super-packets. t->offload
 * says which offloads the kernel accepted. On failure (-errno, e.g. -EINVAL
 * from a kernel without IFF_VNET_HDR or TUNSETOFFLOAD) no device is left
 * open: the caller may fall back to tun_open().
 */
int tun_open_offload(struct tun *t, const char *name);
/* One packet into buf; -EAGAIN when none is waiting. */
ssize_t tun_read(struct tun *t, void *buf, size_t cap);
/* One packet out. */
ssize_t tun_write(struct tun *t, const void *buf, size_t len);
/* One packet out, gathered from n pieces. */
ssize_t tun_writev(struct tun *t, const struct iovec *iov, int n);
void tun_close(struct tun *t);

#endif
