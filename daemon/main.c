/*
 * tunsecd: set up (config, TUN, addresses and routes, sockets, SAs), drop
 * privileges, run the loop, tear down. Every step that fails says why and
 * the daemon does not start half-configured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "daemon/conn.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/priv.h"
#include "esp/sad.h"
#include "tun/netcfg.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tunsecd [-d] [-t] [-c FILE]\n"
		   "  -c FILE  configuration (default /etc/tunsec.conf), see tunsec.conf(5)\n"
		   "  -d       debug logging\n"
		   "  -t       check the configuration (and the certificates and keys it\n"
		   "           names) and exit: 0 if tunsecd would start with it\n"
		   "  -V       print the version and exit\n");
}

static int set_sockopt_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/*
 * Receive buffers. Port 4500 carries ESP: a big buffer absorbs the bursts
 * a batch-oriented reader leaves. Port 500 carries only IKE, where a
 * bigger buffer buys nothing: under a flood of IKE_SA_INITs it is full
 * whatever its size, the kernel drops the same share of what comes, and
 * what it keeps waits longer (a real initiator's request sat behind ~8 MiB
 * of flood, up to a quarter of a second on a busy 2-CPU host, and timed
 * out: tests/netns/ike_flood.sh). 1 MiB (2 MiB as the kernel counts it)
 * still holds thousands of peers' requests arriving at once.
 */
#define ESP_RCVBUF (4 << 20)
#define IKE_RCVBUF (1 << 20)

/* A UDP socket on the wildcard address; -errno. EAFNOSUPPORT for IPv6 on a
 * host without it is not an error to the caller. */
static int udp_open(int family, uint16_t port, int rcvbuf)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, err;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		set_sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
		/* IKE needs the address a datagram came to (our side of
		 * its path, for NAT detection and the reply's source). */
		set_sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
		set_sockopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
	}
	set_sockopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	set_sockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int raw_esp_open(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);

	if (fd < 0)
		return -errno;
	set_sockopt_int(fd, SOL_SOCKET, SO_RCVBUF, ESP_RCVBUF);
	set_sockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
	return fd;
}

static int open_sockets(struct daemon *d)
{
	struct {
		int *fd;
		int family;
		int port;
		int rcvbuf;
	} want[] = {
		{&d->udp4_natt, AF_INET, d->cfg.port_nat_t, ESP_RCVBUF},
		{&d->udp6_natt, AF_INET6, d->cfg.port_nat_t, ESP_RCVBUF},
		{&d->udp4_ike, AF_INET, d->cfg.port, IKE_RCVBUF},
		{&d->udp6_ike, AF_INET6, d->cfg.port, IKE_RCVBUF},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int fd = udp_open(want[i].family, (uint16_t)want[i].port, want[i].rcvbuf);

		if (fd == -EAFNOSUPPORT && want[i].family == AF_INET6) {
			log_info("no IPv6 on this host: UDP port %d on IPv4 only", want[i].port);
			continue;
		}
		if (fd < 0) {
			log_err("cannot open UDP port %d (%s): %s", want[i].port,
				want[i].family == AF_INET ? "IPv4" : "IPv6", strerror(-fd));
			return fd;
		}
		*want[i].fd = fd;
	}
	if (!d->cfg.raw_esp)
		return 0;
	d->raw4 = raw_esp_open(AF_INET);
	if (d->raw4 < 0) {
		log_err("cannot open a raw ESP socket: %s", strerror(-d->raw4));
		return d->raw4;
	}
	d->raw6 = raw_esp_open(AF_INET6);
	if (d->raw6 == -EAFNOSUPPORT)
		d->raw6 = -1;
	else if (d->raw6 < 0) {
		log_err("cannot open a raw ESP socket (IPv6): %s", strerror(-d->raw6));
		return d->raw6;
	}
	return 0;
}

static int sa_setup(struct esp_sa *sa, const struct cfg_manual *m, bool inbound)
{
	struct aead *a;
	int rc;

	rc = aead_new(&a, m->encr, m->key_bits, m->integ, inbound ? m->key_in : m->key_out,
		      m->key_len);
	if (rc < 0)
		return rc;
	rc = esp_sa_init(sa, inbound ? m->spi_in : m->spi_out, inbound, m->esn, a,
			 m->replay_window);
	if (rc < 0)
		return rc;
	if ((rc = esp_sa_set_sels(sa, m->local_ts, m->n_local_ts, m->remote_ts,
				  m->n_remote_ts)) < 0)
		return rc;
	sa->encap = m->encap;
	sa->peer = m->remote;
	sa->peer_len = m->remote.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in);
	return 0;
}

static int out_fd_for(const struct daemon *d, const struct cfg_manual *m)
{
	bool v6 = m->remote.ss_family == AF_INET6;

	if (m->encap == ESP_ENCAP_RAW)
		return v6 ? d->raw6 : d->raw4;
	return v6 ? d->udp6_natt : d->udp4_natt;
}

static int tunnels_setup(struct daemon *d)
{
	d->tunnels = calloc(d->cfg.n_manual ? d->cfg.n_manual : 1, sizeof(*d->tunnels));
	if (!d->tunnels)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg.n_manual; i++) {
		const struct cfg_manual *m = &d->cfg.manual[i];
		struct tunnel *t = &d->tunnels[i];
		int rc;

		t->cfg = m;
		t->created = time(NULL);
		if ((rc = sa_setup(&t->in, m, true)) < 0 || (rc = sa_setup(&t->out, m, false)) < 0) {
			log_err("manual.%s: cannot create its SAs: %s", m->name, strerror(-rc));
			return rc;
		}
		d->n_tunnels++;
		t->in.owner = t->out.owner = t;
		t->out_fd = out_fd_for(d, m);
		if (t->out_fd < 0) {
			log_err("manual.%s: no socket for its address family", m->name);
			return -EAFNOSUPPORT;
		}
		if ((rc = sad_add_in(d->sad, &t->in)) < 0 || (rc = sad_add_out(d->sad, &t->out)) < 0) {
			log_err("manual.%s: cannot enter its SAs: %s", m->name,
				rc == -EEXIST ? "SPI in use" : strerror(-rc));
			return rc;
		}
		log_info("manual.%s: %s (%s), in 0x%08x out 0x%08x, %s%s", m->name,
			 aead_name(t->out.aead), aead_backend(t->out.aead), m->spi_in, m->spi_out,
			 m->encap == ESP_ENCAP_UDP ? "ESP in UDP" : "raw ESP", m->esn ? ", ESN" : "");
	}
	return 0;
}

/* The TUN MTU: configured, or the largest inner packet every SA can carry
 * over a 1500-byte path (esp_inner_mtu documents the formula). */
static unsigned pick_mtu(const struct daemon *d)
{
	unsigned mtu = PKT_MAX_INNER;

	if (d->cfg.mtu)
		return d->cfg.mtu;
	/* Negotiated SAs are not known yet: 1400 leaves room for ESP in UDP
	 * over IPv6 with any AEAD suite (strongSwan's libipsec uses the same). */
	if (d->cfg.n_conns)
		mtu = 1400;
	for (size_t i = 0; i < d->n_tunnels; i++) {
		const struct tunnel *t = &d->tunnels[i];
		int fam = t->cfg->remote.ss_family;
		unsigned m = esp_inner_mtu(&t->out, 1500, fam);

		if (m < mtu)
			mtu = m;
	}
	return mtu;
}

static int net_setup(struct daemon *d)
{
	const struct tunsec_config *c = &d->cfg;
	int rc;

	rc = -1;
	if (c->offload) {
		/* Segmentation offload saves most per-packet system calls;
		 * without it the data path is the same, one packet a time. */
		rc = tun_open_offload(&d->tun, c->interface);
		if (rc < 0)
			log_warn("TUN offloads refused (%s): one packet per read and write",
				 strerror(-rc));
		else
			log_info("%s: offloads on (checksum, TSO%s, GRO)", d->tun.name,
				 d->tun.offload & TUN_OFFLOAD_USO ? ", USO" : "");
	}
	if (rc < 0)
		rc = tun_open(&d->tun, c->interface);
	if (rc < 0) {
		log_err("cannot create TUN device %s: %s", c->interface, strerror(-rc));
		return rc;
	}
	rc = netcfg_open(&d->netcfg);
	if (rc < 0) {
		log_err("rtnetlink: %s", strerror(-rc));
		return rc;
	}
	d->mtu = pick_mtu(d);
	rc = netcfg_link_set(d->netcfg, d->tun.ifindex, d->mtu, 1);
	if (rc < 0) {
		log_err("%s: cannot set MTU %u and bring it up: %s", d->tun.name, d->mtu,
			strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < c->n_addrs; i++) {
		rc = netcfg_addr_add(d->netcfg, d->tun.ifindex, c->addrs[i].family,
				     c->addrs[i].addr, c->addrs[i].prefix);
		if (rc < 0) {
			log_err("%s: cannot add address #%u: %s", d->tun.name, i + 1,
				strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < c->n_manual; i++)
		for (unsigned j = 0; j < c->manual[i].n_remote_ts; j++) {
			const struct esp_sel *s = &c->manual[i].remote_ts[j];
			const uint8_t *src = NULL;
			int prefix = esp_sel_prefix(s);

			if (prefix < 0)
				continue; /* ranges: packets still match; no route */
			for (unsigned k = 0; k < c->n_addrs && !src; k++)
				if (c->addrs[k].family == s->family)
					src = c->addrs[k].addr;
			rc = netcfg_route_add(d->netcfg, d->tun.ifindex, s->family, s->start,
					      (unsigned)prefix, src);
			if (rc < 0 && rc != -EEXIST) {
				char buf[128];

				log_err("cannot route %s into %s: %s",
					esp_sel_str(s, buf, sizeof(buf)), d->tun.name,
					strerror(-rc));
				return rc;
			}
		}
	log_info("%s up, MTU %u", d->tun.name, d->mtu);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void teardown(struct daemon *d)
{
	conns_free(d);
	for (size_t i = 0; i < d->n_tunnels; i++) {
		sad_remove(d->sad, &d->tunnels[i].in);
		sad_remove(d->sad, &d->tunnels[i].out);
		esp_sa_destroy(&d->tunnels[i].in);
		esp_sa_destroy(&d->tunnels[i].out);
	}
	free(d->tunnels);
	sad_free(d->sad);
	if (d->netcfg)
		netcfg_close(d->netcfg); /* removes our routes and addresses */
	if (d->tun.fd >= 0)
		tun_close(&d->tun);
	close_fd(&d->udp4_natt);
	close_fd(&d->udp6_natt);
	close_fd(&d->udp4_ike);
	close_fd(&d->udp6_ike);
	close_fd(&d->raw4);
	close_fd(&d->raw6);
	close_fd(&d->ctl_fd);
	config_free(&d->cfg);
}

/* `tunsecd -t`: what would stop the daemon at start although the file is
 * well-formed. The control socket's folder must exist (the daemon creates
 * the socket, not its folder). */
static int check_start(const struct tunsec_config *cfg)
{
	char dir[sizeof(cfg->socket_path)];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", cfg->socket_path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	if (stat(dir, &st) < 0) {
		log_err("control socket %s: folder %s: %s", cfg->socket_path, dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err("control socket %s: %s is not a folder", cfg->socket_path, dir);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = "/etc/tunsec.conf";
	bool check_only = false;
	struct daemon d;
	char err[512];
	int opt, rc;

	memset(&d, 0, sizeof(d));
	d.tun.fd = d.udp4_natt = d.udp6_natt = d.udp4_ike = d.udp6_ike = -1;
	d.raw4 = d.raw6 = d.ctl_fd = -1;
	while ((opt = getopt(argc, argv, "c:dtVh")) != -1) {
		switch (opt) {
		case 't':
			check_only = true;
			break;
		case 'c':
			path = optarg;
			break;
		case 'd':
			log_set_level(LOG_DEBUG);
			break;
		case 'V':
			printf("tunsecd %s\n", TUNSEC_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return 1;
	}
	if (config_load(&d.cfg, path, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	if (check_only) {
		rc = conns_check(&d.cfg);
		if (check_start(&d.cfg) < 0)
			rc = -1;
		if (rc == 0)
			printf("%s: configuration OK: %zu connection%s, %zu static-key tunnel%s\n",
			       path, d.cfg.n_conns, d.cfg.n_conns == 1 ? "" : "s", d.cfg.n_manual,
			       d.cfg.n_manual == 1 ? "" : "s");
		config_free(&d.cfg);
		return rc == 0 ? 0 : 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* First, while nothing is open: the helper that lets a reload read
	 * root-only files after the drop (daemon/priv.c says why). */
	if (d.cfg.user[0] && (rc = priv_helper_start(d.cfg.user, d.cfg.group)) < 0) {
		log_err("cannot start the file helper: %s", strerror(-rc));
		config_free(&d.cfg);
		return 1;
	}
	d.started = time(NULL);
	d.sad = sad_new();
	rc = d.sad ? 0 : -ENOMEM;
	if (rc == 0)
		rc = open_sockets(&d);
	if (rc == 0)
		rc = tunnels_setup(&d);
	if (rc == 0)
		rc = conns_setup(&d);
	if (rc == 0)
		rc = net_setup(&d);
	if (rc == 0) {
		d.ctl_fd = ctl_listen(d.cfg.socket_path);
		if (d.ctl_fd < 0) {
			log_err("control socket %s: %s", d.cfg.socket_path, strerror(-d.ctl_fd));
			rc = d.ctl_fd;
		}
	}
	if (rc == 0 && d.cfg.user[0]) {
		rc = priv_drop(d.cfg.user, d.cfg.group);
		if (rc < 0)
			log_err("cannot drop privileges to %s: %s", d.cfg.user, strerror(-rc));
		else
			log_info("running as %s, keeping CAP_NET_ADMIN only", d.cfg.user);
	}
	if (rc == 0)
		rc = loop_run(&d);
	teardown(&d);
	if (rc == 0)
		log_info("stopped");
	return rc == 0 ? 0 : 1;
}
