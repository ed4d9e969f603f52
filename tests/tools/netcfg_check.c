/*
 * netcfg_check: drives tun/ and daemon/priv.c inside a network namespace for
 * tests/netns/tun_netcfg.sh, which checks each step from outside with
 * `ip -n NS ...`. Run as root in a namespace of the test's own.
 *
 * Protocol (stdout, one line per step; the script answers "go" on stdin
 * after checking):
 *	CONFIGURED <ifname>  TUN up with MTU 1400, addresses and routes added
 *	RESTORED             netcfg_restore() done
 *	DROPPED              (--drop USER) privileges dropped, one more route
 *	                     and address added as USER
 *	CLOSED               netcfg_close() done as USER
 * Failures are explained on stderr ("FAIL ..."); the exit status is 0 only
 * if every check passed.
 *
 *	netcfg_check [--drop USER]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/priv.h"
#include "tun/netcfg.h"
#include "tun/tun.h"

#define TEST_MTU 1400

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	fputs("FAIL ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report a step and wait for the script's "go". */
static int step(const char *what)
{
	char line[64];

	printf("%s\n", what);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || strncmp(line, "go", 2) != 0) {
		fail("after %s: the script did not answer", what);
		return -1;
	}
	return 0;
}

static void expect_rc(const char *what, int rc, int want, struct netcfg *nc)
{
	if (rc != want)
		fail("%s: got %d (%s), want %d (%s) [%s]", what, rc, strerror(-rc), want,
		     strerror(-want), nc ? netcfg_strerror(nc) : "");
	else
		fprintf(stderr, "ok   %s\n", what);
}

static void ip(int family, const char *text, uint8_t *out)
{
	if (inet_pton(family, text, out) != 1) {
		fprintf(stderr, "bad address %s\n", text);
		exit(2);
	}
}

/* Wait for one packet on the TUN device: the kernel routed it to us. */
static ssize_t tun_wait(struct tun *t, uint8_t *buf, size_t cap)
{
	struct pollfd p = {.fd = t->fd, .events = POLLIN};

	for (int i = 0; i < 20; i++) {
		ssize_t n = tun_read(t, buf, cap);

		if (n != -EAGAIN)
			return n;
		poll(&p, 1, 100);
	}
	return -ETIMEDOUT;
}

/*
 * The routes work: a datagram to a routed IPv4/IPv6 destination comes out
 * of the TUN device, from the preferred source we configured. IPv6
 * Neighbour Discovery and MLD packets may come first; they are skipped.
 */
static void check_route_to_tun(struct tun *t, int family, const char *dst, const char *src)
{
	struct sockaddr_storage ss = {0};
	uint8_t buf[2048], want_src[16];
	socklen_t slen;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	ip(family, src, want_src);
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(9);
		ip(AF_INET, dst, (uint8_t *)&s->sin_addr);
		slen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(9);
		ip(AF_INET6, dst, (uint8_t *)&s->sin6_addr);
		slen = sizeof(*s);
	}
	if (fd < 0 || sendto(fd, "tunsec", 6, 0, (struct sockaddr *)&ss, slen) != 6) {
		fail("send to %s: %s", dst, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	for (int tries = 0; tries < 10; tries++) {
		n = tun_wait(t, buf, sizeof(buf));
		if (n < 0) {
			fail("no packet for %s on %s: %s", dst, t->name, strerror((int)-n));
			return;
		}
		if (family == AF_INET && n >= 28 && buf[0] == 0x45 && buf[9] == IPPROTO_UDP) {
			if (memcmp(buf + 12, want_src, 4) != 0)
				fail("IPv4 packet to %s: source is not %s", dst, src);
			else
				fprintf(stderr, "ok   %s -> %s read from %s (%zd bytes)\n", src,
				        dst, t->name, n);
			return;
		}
		if (family == AF_INET6 && n >= 48 && (buf[0] >> 4) == 6 && buf[6] == IPPROTO_UDP) {
			if (memcmp(buf + 8, want_src, 16) != 0)
				fail("IPv6 packet to %s: source is not %s", dst, src);
			else
				fprintf(stderr, "ok   %s -> %s read from %s (%zd bytes)\n", src,
				        dst, t->name, n);
			return;
		}
	}
	fail("no UDP packet for %s among the first 10 on %s", dst, t->name);
}

/* A packet written into the TUN device reaches a local socket. */
static void check_tun_to_socket(struct tun *t)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(4242)};
	uint8_t pkt[32] = {0x45, 0, 0, 32, 0, 1, 0x40, 0, 64, IPPROTO_UDP};
	struct pollfd p;
	uint32_t sum = 0;
	char got[8];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	ip(AF_INET, "10.201.0.1", (uint8_t *)&sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fail("bind 10.201.0.1:4242: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	/* 10.202.0.5:5555 -> 10.201.0.1:4242, "tunsec" + 2, UDP checksum 0. */
	ip(AF_INET, "10.202.0.5", pkt + 12);
	ip(AF_INET, "10.201.0.1", pkt + 16);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	pkt[10] = (uint8_t)(~sum >> 8);
	pkt[11] = (uint8_t)~sum;
	pkt[20] = 5555 >> 8;
	pkt[21] = 5555 & 0xff;
	pkt[22] = 4242 >> 8;
	pkt[23] = 4242 & 0xff;
	pkt[25] = 12;
	memcpy(pkt + 28, "tuns", 4);
	n = tun_write(t, pkt, sizeof(pkt));
	if (n != (ssize_t)sizeof(pkt)) {
		fail("tun_write: %zd", n);
		close(fd);
		return;
	}
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 2000) != 1 || recv(fd, got, sizeof(got), MSG_DONTWAIT) != 4 ||
	    memcmp(got, "tuns", 4) != 0)
		fail("packet written to %s did not reach 10.201.0.1:4242", t->name);
	else
		fprintf(stderr, "ok   tun_write reaches a local socket\n");
	close(fd);
}

static void check_tun_fd(struct tun *t)
{
	int fl = fcntl(t->fd, F_GETFL), fdfl = fcntl(t->fd, F_GETFD);
	uint8_t buf[64];
	ssize_t n;

	if (fl < 0 || !(fl & O_NONBLOCK))
		fail("TUN fd is not non-blocking");
	if (fdfl < 0 || !(fdfl & FD_CLOEXEC))
		fail("TUN fd is not close-on-exec");
	if (t->ifindex <= 0 || strncmp(t->name, "tsTchk", 6) != 0)
		fail("TUN name %s ifindex %d", t->name, t->ifindex);
	/* Down and without addresses, nothing is waiting. */
	n = tun_read(t, buf, sizeof(buf));
	if (n != -EAGAIN)
		fail("tun_read on an idle device: %zd, want -EAGAIN", n);
}

/* The "Key: value" line of /proc/self/status. */
static int status_field(const char *key, char *out, size_t cap)
{
	char line[256];
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			const char *v = line + kl + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(out, cap, "%.*s", (int)strcspn(v, "\n"), v);
			found = 1;
		}
	fclose(f);
	return found;
}

static void expect_status(const char *key, const char *want)
{
	char v[64];

	if (!status_field(key, v, sizeof(v)) || strcmp(v, want) != 0)
		fail("/proc/self/status %s: %s, want %s", key, v, want);
	else
		fprintf(stderr, "ok   %s %s\n", key, v);
}

/* Drop to user; add a route through nc (opened as root) and an address and
 * route through *nc2, opened afterwards. */
static int phase_drop(struct netcfg *nc, struct netcfg **nc2, struct tun *t, const char *user)
{
	struct passwd *pw = getpwnam(user);
	uint8_t a4[4], v6[16];
	struct tun t2;
	char want_uid[64];
	int rc, fd;

	if (!pw) {
		fail("no user %s", user);
		return -1;
	}
	snprintf(want_uid, sizeof(want_uid), "%u\t%u\t%u\t%u", (unsigned)pw->pw_uid,
	         (unsigned)pw->pw_uid, (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	/* Errors that must come before anything changes. */
	expect_rc("priv_drop to an unknown user", priv_drop("tsT-no-such-user", NULL), -ENOENT,
	          NULL);
	expect_rc("priv_drop to root", priv_drop("root", NULL), -EINVAL, NULL);
	expect_rc("priv_drop(\"\") stays root", priv_drop("", NULL), 0, NULL);
	if (geteuid() != 0)
		fail("priv_drop(\"\") changed the uid");

	rc = priv_drop(user, NULL);
	expect_rc("priv_drop to the user", rc, 0, NULL);
	if (rc < 0)
		return -1;

	expect_status("Uid", want_uid);
	expect_status("CapEff", "0000000000001000");
	expect_status("CapPrm", "0000000000001000");
	expect_status("CapInh", "0000000000000000");
	expect_status("CapBnd", "0000000000001000");
	expect_status("CapAmb", "0000000000000000");
	expect_status("NoNewPrivs", "1");

	/* The TUN clone device is root's (mode 0600 here): no longer ours. */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		fail("opened /dev/net/tun after dropping privileges");
		close(fd);
	} else {
		expect_rc("open /dev/net/tun after the drop", -errno, -EACCES, NULL);
	}
	expect_rc("tun_open after the drop", tun_open(&t2, "tsTchk%d"), -EACCES, NULL);
	/* CAP_NET_RAW is gone, so no new raw ESP socket. */
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP);
	if (fd >= 0) {
		fail("opened a raw socket after dropping privileges");
		close(fd);
	} else {
		expect_rc("raw socket after the drop", -errno, -EPERM, NULL);
	}
	if (setuid(0) == 0)
		fail("setuid(0) succeeded after the drop");

	/* CAP_NET_ADMIN stays: routes and addresses can still be changed, both
	 * through the netcfg opened as root and a new one. */
	ip(AF_INET, "10.205.0.0", a4);
	expect_rc("route 10.205.0.0/24 as the user",
	          netcfg_route_add(nc, t->ifindex, AF_INET, a4, 24, NULL), 0, nc);
	rc = netcfg_open(nc2);
	expect_rc("netcfg_open as the user", rc, 0, NULL);
	if (rc < 0)
		return -1;
	ip(AF_INET, "10.206.0.1", a4);
	expect_rc("address 10.206.0.1/32 as the user",
	          netcfg_addr_add(*nc2, t->ifindex, AF_INET, a4, 32), 0, *nc2);
	ip(AF_INET6, "fd00:206::", v6);
	expect_rc("route fd00:206::/64 as the user",
	          netcfg_route_add(*nc2, t->ifindex, AF_INET6, v6, 64, NULL), 0, *nc2);
	return 0;
}

int main(int argc, char **argv)
{
	const char *drop = argc == 3 && strcmp(argv[1], "--drop") == 0 ? argv[2] : NULL;
	struct netcfg *nc = NULL, *nc2 = NULL;
	struct tun t;
	uint8_t a[16], s[16];
	char line[64];
	int rc;

	if (argc != 1 && !drop) {
		fprintf(stderr, "usage: netcfg_check [--drop USER]\n");
		return 2;
	}
	setvbuf(stderr, NULL, _IONBF, 0);

	expect_rc("tun_open with a 16-byte name", tun_open(&t, "tsTchk0123456789"), -ENAMETOOLONG,
	          NULL);
	rc = tun_open(&t, "tsTchk%d");
	expect_rc("tun_open tsTchk%d", rc, 0, NULL);
	if (rc < 0)
		return 1;
	check_tun_fd(&t);
	rc = netcfg_open(&nc);
	expect_rc("netcfg_open", rc, 0, NULL);
	if (rc < 0)
		return 1;

	expect_rc("link MTU 1400 up", netcfg_link_set(nc, t.ifindex, TEST_MTU, 1), 0, nc);
	expect_rc("link on ifindex 0", netcfg_link_set(nc, 0, TEST_MTU, 1), -EINVAL, nc);
	ip(AF_INET, "10.201.0.1", a);
	expect_rc("address 10.201.0.1/24", netcfg_addr_add(nc, t.ifindex, AF_INET, a, 24), 0, nc);
	expect_rc("the same address again", netcfg_addr_add(nc, t.ifindex, AF_INET, a, 24), -EEXIST,
	          nc);
	expect_rc("address with prefix 33", netcfg_addr_add(nc, t.ifindex, AF_INET, a, 33), -EINVAL,
	          nc);
	expect_rc("address of family AF_UNIX", netcfg_addr_add(nc, t.ifindex, AF_UNIX, a, 8),
	          -EAFNOSUPPORT, nc);
	ip(AF_INET6, "fd00:201::1", a);
	expect_rc("address fd00:201::1/64", netcfg_addr_add(nc, t.ifindex, AF_INET6, a, 64), 0, nc);

	ip(AF_INET, "10.202.0.0", a);
	ip(AF_INET, "10.201.0.1", s);
	expect_rc("route 10.202.0.0/16 src 10.201.0.1",
	          netcfg_route_add(nc, t.ifindex, AF_INET, a, 16, s), 0, nc);
	expect_rc("the same route again", netcfg_route_add(nc, t.ifindex, AF_INET, a, 16, s),
	          -EEXIST, nc);
	ip(AF_INET, "10.204.1.2", a);
	expect_rc("route 10.204.1.2/16 (host bits cleared)",
	          netcfg_route_add(nc, t.ifindex, AF_INET, a, 16, NULL), 0, nc);
	ip(AF_INET, "10.207.0.0", a);
	ip(AF_INET, "192.0.2.99", s);
	rc = netcfg_route_add(nc, t.ifindex, AF_INET, a, 16, s);
	expect_rc("route with a source that is not ours", rc, -EINVAL, nc);
	fprintf(stderr, "     (kernel says: \"%s\")\n", netcfg_strerror(nc));
	ip(AF_INET6, "fd00:202::", a);
	ip(AF_INET6, "fd00:201::1", s);
	expect_rc("route fd00:202::/48 src fd00:201::1",
	          netcfg_route_add(nc, t.ifindex, AF_INET6, a, 48, s), 0, nc);
	ip(AF_INET, "10.203.0.0", a);
	expect_rc("route 10.203.0.0/24", netcfg_route_add(nc, t.ifindex, AF_INET, a, 24, NULL), 0,
	          nc);
	expect_rc("delete route 10.203.0.0/24", netcfg_route_del(nc, t.ifindex, AF_INET, a, 24), 0,
	          nc);
	expect_rc("delete it again", netcfg_route_del(nc, t.ifindex, AF_INET, a, 24), -ESRCH, nc);
	/* a client's virtual IP comes and goes with its IKE SA */
	ip(AF_INET, "10.205.0.7", a);
	expect_rc("address 10.205.0.7/32", netcfg_addr_add(nc, t.ifindex, AF_INET, a, 32), 0, nc);
	expect_rc("delete address 10.205.0.7/32", netcfg_addr_del(nc, t.ifindex, AF_INET, a, 32),
	          0, nc);
	expect_rc("delete it again", netcfg_addr_del(nc, t.ifindex, AF_INET, a, 32),
	          -EADDRNOTAVAIL, nc);

	check_route_to_tun(&t, AF_INET, "10.202.3.4", "10.201.0.1");
	check_route_to_tun(&t, AF_INET6, "fd00:202::9", "fd00:201::1");
	check_tun_to_socket(&t);

	snprintf(line, sizeof(line), "CONFIGURED %s", t.name);
	if (step(line) < 0)
		return 1;
	netcfg_restore(nc);
	if (step("RESTORED") < 0)
		return 1;

	if (drop) {
		if (phase_drop(nc, &nc2, &t, drop) < 0 || step("DROPPED") < 0)
			return 1;
		netcfg_close(nc2);
		netcfg_close(nc);
		nc = NULL;
		if (step("CLOSED") < 0)
			return 1;
	}
	netcfg_close(nc);
	tun_close(&t);
	if (t.fd != -1)
		fail("tun_close left fd %d", t.fd);
	fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
