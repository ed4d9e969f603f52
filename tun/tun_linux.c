/*
 * The Linux TUN backend: /dev/net/tun in IFF_TUN | IFF_NO_PI mode, so every
 * read and write is exactly one bare IPv4 or IPv6 packet.
 *
 * Everything Linux-specific about the device stays in this file. The other
 * systems get their own backend beside it, behind the same tun.h: macOS
 * utun (a PF_SYSTEM control socket with a 4-byte address-family prefix per
 * packet) and the BSDs' /dev/tunN (IFHEAD mode); neither is written yet.
 */
#include "tun/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#define TUN_CLONE_DEV "/dev/net/tun"

int tun_open(struct tun *t, const char *name)
{
	struct ifreq ifr;
	size_t n = name ? strlen(name) : 0;
	unsigned idx;
	int fd, err;

	t->fd = -1;
	t->ifindex = 0;
	t->name[0] = '\0';
	/* IFNAMSIZ counts the NUL; the kernel would silently truncate. */
	if (n >= IFNAMSIZ || n >= TUN_NAME_MAX)
		return -ENAMETOOLONG;

	/* O_NONBLOCK: the fd joins the event loop (uv_poll) and is drained in
	 * bounded batches until -EAGAIN. */
	do
		fd = open(TUN_CLONE_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	/* IFF_NO_PI: no 4-byte packet-information prefix; the IP version
	 * nibble tells IPv4 from IPv6. A name with "%d" is a pattern the
	 * kernel completes with the first free number; an empty name lets it
	 * choose ("tun%d"). An existing persistent device of that name is
	 * attached to instead of created. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (n)
		memcpy(ifr.ifr_name, name, n);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ < TUN_NAME_MAX ? IFNAMSIZ : TUN_NAME_MAX);
	t->name[TUN_NAME_MAX - 1] = '\0';

	idx = if_nametoindex(t->name);
	if (idx == 0) {
		err = errno ? -errno : -ENODEV;
		close(fd);
		t->name[0] = '\0';
		return err;
	}
	t->fd = fd;
	t->ifindex = (int)idx;
	return 0;
}

ssize_t tun_read(struct tun *t, void *buf, size_t cap)
{
	ssize_t n;

	do
		n = read(t->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t tun_write(struct tun *t, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(t->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

void tun_close(struct tun *t)
{
	/* A non-persistent device disappears with its last fd, and with it
	 * every address and route still on it. */
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->ifindex = 0;
}
