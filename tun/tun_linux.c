/*
 * The Linux TUN backend: /dev/net/tun in IFF_TUN | IFF_NO_PI mode, so every
 * read and write is exactly one bare IPv4 or IPv6 packet; with
 * tun_open_offload() (IFF_VNET_HDR) each is preceded by a virtio-net header
 * and may be a TCP/UDP super-packet (tun/offload.h).
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
#include <linux/virtio_net.h>

#include "tun/offload.h"

#define TUN_CLONE_DEV "/dev/net/tun"

/* UDP segmentation offload (Linux 6.2); older uapi headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

/* tun/offload.h mirrors the virtio-net header without depending on Linux
 * headers; make sure the two agree. */
_Static_assert(sizeof(struct virtio_net_hdr) == OFFLOAD_VNET_HDR_LEN, "virtio_net_hdr size");
_Static_assert(VIRTIO_NET_HDR_F_NEEDS_CSUM == OFFLOAD_F_NEEDS_CSUM, "NEEDS_CSUM");
_Static_assert(VIRTIO_NET_HDR_F_DATA_VALID == OFFLOAD_F_DATA_VALID, "DATA_VALID");
_Static_assert(VIRTIO_NET_HDR_GSO_TCPV4 == OFFLOAD_GSO_TCPV4, "GSO_TCPV4");
_Static_assert(VIRTIO_NET_HDR_GSO_TCPV6 == OFFLOAD_GSO_TCPV6, "GSO_TCPV6");
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4 /* uapi headers older than 6.2 lack it */
_Static_assert(VIRTIO_NET_HDR_GSO_UDP_L4 == OFFLOAD_GSO_UDP_L4, "GSO_UDP_L4");
#endif
_Static_assert(VIRTIO_NET_HDR_GSO_ECN == OFFLOAD_GSO_ECN, "GSO_ECN");

static int open_dev(struct tun *t, const char *name, short flags)
{
	struct ifreq ifr;
	size_t n = name ? strlen(name) : 0;
	unsigned idx;
	int fd, err;

	t->fd = -1;
	t->ifindex = 0;
	t->name[0] = '\0';
	t->offload = 0;
	t->vnet_hdr_len = 0;
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
	ifr.ifr_flags = flags;
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

int tun_open(struct tun *t, const char *name)
{
	return open_dev(t, name, IFF_TUN | IFF_NO_PI);
}

/*
 * IFF_VNET_HDR puts a struct virtio_net_hdr in front of every packet (in
 * the legacy, host-endian layout: we never set TUNSETVNETLE/BE).
 * TUNSETOFFLOAD then says what we can take: partial checksums and TCP
 * super-packets; UDP ones (TUN_F_USO4/6) only from Linux 6.2 on, so a
 * refusal of those is retried without them. The kernel only hands us TSO
 * packets once TUN_F_CSUM is set as well.
 */
int tun_open_offload(struct tun *t, const char *name)
{
	const unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int hdrsz = (int)sizeof(struct virtio_net_hdr);
	int rc, err;

	rc = open_dev(t, name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
	if (rc < 0)
		return rc;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdrsz) < 0)
		goto fail;
	t->offload = TUN_OFFLOAD_CSUM | TUN_OFFLOAD_TSO | TUN_OFFLOAD_USO;
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(base | TUN_F_USO4 | TUN_F_USO6)) < 0) {
		t->offload = TUN_OFFLOAD_CSUM | TUN_OFFLOAD_TSO;
		if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)base) < 0)
			goto fail;
	}
	t->vnet_hdr_len = (size_t)hdrsz;
	return 0;
fail:
	err = -errno;
	close(t->fd);
	t->fd = -1;
	t->ifindex = 0;
	t->offload = 0;
	t->name[0] = '\0';
	return err;
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

ssize_t tun_writev(struct tun *t, const struct iovec *iov, int n)
{
	ssize_t r;

	do
		r = writev(t->fd, iov, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

void tun_close(struct tun *t)
{
	/* A non-persistent device disappears with its last fd, and with it
	 * every address and route still on it. */
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->ifindex = 0;
	t->offload = 0;
	t->vnet_hdr_len = 0;
}
