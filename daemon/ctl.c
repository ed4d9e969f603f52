/*
 * The control socket: a Unix stream socket, 0600, one command line in, one
 * answer out, then the daemon closes. Commands: status, stats, version.
 *
 * `stats` is for scripts: one counter per line, "SCOPE COUNTER VALUE", with
 * SCOPE "total" or "NAME/in", "NAME/out"; every counter is printed, zeros
 * too, so a grep never misses a line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "daemon/daemon.h"

struct out {
	char *buf;
	size_t cap, len;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

static uint64_t ld(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static const char *peer_str(const struct esp_sa *sa, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&sa->peer;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
		snprintf(buf, cap, sa->encap == ESP_ENCAP_UDP ? "[%s]:%u" : "%s", ip, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)&sa->peer;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
		snprintf(buf, cap, sa->encap == ESP_ENCAP_UDP ? "%s:%u" : "%s", ip, port);
	}
	return buf;
}

static uint64_t sa_drops(const struct esp_sa *sa)
{
	uint64_t n = 0;

	for (int i = 1; i < ESP_DROP_MAX; i++)
		n += ld((_Atomic uint64_t *)&sa->stats.drops[i]);
	return n;
}

static void status(struct daemon *d, struct out *o)
{
	char peer[80], sels[128];

	outf(o, "tunsecd %s, up %lds, interface %s (MTU %u), %zu tunnel%s\n", TUNSEC_VERSION,
	     (long)(time(NULL) - d->started), d->tun.name, d->mtu, d->n_tunnels,
	     d->n_tunnels == 1 ? "" : "s");
	for (size_t i = 0; i < d->n_tunnels; i++) {
		struct tunnel *t = &d->tunnels[i];

		outf(o, "manual %s: %s via %s, peer %s%s\n", t->cfg->name, aead_name(t->out.aead),
		     aead_backend(t->out.aead), peer_str(&t->out, peer, sizeof(peer)),
		     t->out.encap == ESP_ENCAP_UDP ? " (ESP in UDP)" : " (raw ESP)");
		for (unsigned j = 0; j < t->in.n_local; j++)
			outf(o, "  local  %s\n", esp_sel_str(&t->in.local_sels[j], sels, sizeof(sels)));
		for (unsigned j = 0; j < t->in.n_remote; j++)
			outf(o, "  remote %s\n", esp_sel_str(&t->in.remote_sels[j], sels, sizeof(sels)));
		outf(o, "  in  spi 0x%08x  %llu packets, %llu bytes, %llu dropped%s\n", t->in.spi,
		     (unsigned long long)ld(&t->in.stats.packets),
		     (unsigned long long)ld(&t->in.stats.bytes),
		     (unsigned long long)sa_drops(&t->in), t->in.esn ? ", ESN" : "");
		outf(o, "  out spi 0x%08x  %llu packets, %llu bytes, %llu dropped, seq %llu\n",
		     t->out.spi, (unsigned long long)ld(&t->out.stats.packets),
		     (unsigned long long)ld(&t->out.stats.bytes),
		     (unsigned long long)sa_drops(&t->out), (unsigned long long)ld(&t->out.seq));
		if (t->peer_moves)
			outf(o, "  peer moved %llu time%s\n", (unsigned long long)t->peer_moves,
			     t->peer_moves == 1 ? "" : "s");
	}
}

static void sa_stats(struct out *o, const char *name, const char *dir, struct esp_sa *sa,
		     uint64_t *total)
{
	outf(o, "%s/%s packets %llu\n", name, dir, (unsigned long long)ld(&sa->stats.packets));
	outf(o, "%s/%s bytes %llu\n", name, dir, (unsigned long long)ld(&sa->stats.bytes));
	for (int i = 1; i < ESP_DROP_MAX; i++) {
		uint64_t v = ld(&sa->stats.drops[i]);

		outf(o, "%s/%s %s %llu\n", name, dir, esp_drop_name(i), (unsigned long long)v);
		total[i] += v;
	}
}

static void stats(struct daemon *d, struct out *o)
{
	uint64_t total[ESP_DROP_MAX] = {0};
	uint64_t rx = 0, tx = 0;
	const struct daemon_counters *c = &d->cnt;

	for (size_t i = 0; i < d->n_tunnels; i++) {
		struct tunnel *t = &d->tunnels[i];

		sa_stats(o, t->cfg->name, "in", &t->in, total);
		sa_stats(o, t->cfg->name, "out", &t->out, total);
		rx += ld(&t->in.stats.packets);
		tx += ld(&t->out.stats.packets);
	}
	outf(o, "total packets-in %llu\n", (unsigned long long)rx);
	outf(o, "total packets-out %llu\n", (unsigned long long)tx);
	for (int i = 1; i < ESP_DROP_MAX; i++)
		outf(o, "total %s %llu\n", esp_drop_name(i),
		     (unsigned long long)(total[i] + ld((_Atomic uint64_t *)&c->esp.drops[i])));
	outf(o, "total keepalives-in %llu\n", (unsigned long long)c->keepalives_rx);
	outf(o, "total keepalives-out %llu\n", (unsigned long long)c->keepalives_tx);
	outf(o, "total ike-ignored %llu\n", (unsigned long long)c->ike_ignored);
	outf(o, "total natt-invalid %llu\n", (unsigned long long)c->natt_invalid);
	outf(o, "total truncated %llu\n", (unsigned long long)c->rx_truncated);
	outf(o, "total mss-clamped %llu\n", (unsigned long long)c->mss_clamped);
	outf(o, "total tso-split %llu\n", (unsigned long long)c->tso_split);
	outf(o, "total tso-segments %llu\n", (unsigned long long)c->tso_segments);
	outf(o, "total gro-merged %llu\n", (unsigned long long)c->gro_merged);
	outf(o, "total gro-segments %llu\n", (unsigned long long)c->gro_segments);
	outf(o, "total offload-bad %llu\n", (unsigned long long)c->offload_bad);
}

size_t ctl_answer(struct daemon *d, const char *cmd, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0};

	buf[0] = '\0';
	if (strcmp(cmd, "status") == 0)
		status(d, &o);
	else if (strcmp(cmd, "stats") == 0)
		stats(d, &o);
	else if (strcmp(cmd, "version") == 0)
		outf(&o, "tunsecd %s\n", TUNSEC_VERSION);
	else
		outf(&o, "error: unknown command (try status, stats, version)\n");
	return o.len;
}

/* A live daemon answers on the path: refuse to steal it. A stale socket
 * file (a crash) is removed. */
static int path_in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return -errno;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

int ctl_listen(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	rc = path_in_use(&sun);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return -EADDRINUSE;
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177); /* the socket file is born 0600 */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, 8) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}
