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

#define TUN_NAME_MAX 16

struct tun {
	int fd; /* non-blocking */
	int ifindex;
	char name[TUN_NAME_MAX];
};

/* Create (or attach to) the device; name may be a pattern like "tunsec%d"
 * or empty for the system's choice. */
int tun_open(struct tun *t, const char *name);
/* One packet into buf; -EAGAIN when none is waiting. */
ssize_t tun_read(struct tun *t, void *buf, size_t cap);
/* One packet out. */
ssize_t tun_write(struct tun *t, const void *buf, size_t len);
void tun_close(struct tun *t);

#endif
