/*
 * IKEv2 connections: the engines wired to sockets and the SAD (conn.h says
 * what belongs here and what to the engine).
 */
#include "daemon/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/ke.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/eapauth.h"
#include "daemon/eapradius.h"
#include "daemon/pool.h"
#include "daemon/priv.h"
#include "esp/natt.h"
#include "esp/sad.h"
#include "ike/cert.h"
#include "ike/id.h"
#include "ike/payload.h"
#include "tun/netcfg.h"

#define NS_PER_SEC 1000000000ULL
/* dpd_action/close_action = restart: wait this long before initiating. */
#define RESTART_DELAY (2 * NS_PER_SEC)
/* At most one trap-started initiation per connection this often. */
#define ACQUIRE_GAP (NS_PER_SEC / 2)

uint64_t conn_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t secs(unsigned s)
{
	return (uint64_t)s * NS_PER_SEC;
}

static uint64_t msecs(uint64_t ms)
{
	return ms * 1000000ULL;
}

/* A deadline `base` milliseconds from now, minus up to `jitter` ms picked
 * at random (swanctl.conf's rand_time: peers that came up together must
 * not all rekey in the same second). 0 when base is 0 (never). */
static uint64_t deadline(uint64_t now, uint64_t base, uint64_t jitter)
{
	uint64_t j = 0;

	if (!base)
		return 0;
	if (jitter && jitter < base)
		/* to the millisecond, in 32 bits below ~49 days of jitter */
		j = jitter <= UINT32_MAX ? msecs(randombytes_uniform((uint32_t)jitter))
		                         : (uint64_t)randombytes_uniform((uint32_t)(jitter / 1000)) *
		                               NS_PER_SEC;
	return now + msecs(base) - j;
}

const char *conn_tunnel_name(const struct tunnel *t)
{
	return t->conn ? t->conn->cfg.name : t->cfg->name;
}

/* ---- addresses ---------------------------------------------------------- */

static size_t fam_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static char *ike_addr_str(const struct ike_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	snprintf(buf, cap, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, a->port);
	return buf;
}

static bool prefix_is_host(const struct cfg_prefix *p)
{
	return p->prefix == (p->family == AF_INET ? 32U : 128U);
}

static void ike_prefix_from(struct ike_prefix *out, const struct cfg_prefix *p)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)p->family;
	out->len = (uint8_t)p->prefix;
	memcpy(out->addr, p->addr, 16);
}

/*
 * Road-warrior responders: a connection with no host in remote_addrs
 * (%any, or subnets) can only answer. Its clients rekey and reauthenticate
 * on their own schedule, and some break when the server starts a rekey
 * (Windows' built-in client among them), so by default it starts neither
 * a CHILD_SA rekey nor an IKE rekey or reauthentication by time, accepts
 * the clients', and only deletes an SA a client failed to renew, at a hard
 * limit past every common client's interval: Windows rekeys CHILD_SAs
 * every hour and IKE SAs every 8 h, strongSwan every hour and 4 h, Apple's
 * clients (iOS, macOS: LifeTimeInMinutes) every 24 h by default. 110% of
 * the longest, as swanctl.conf's life_time is 110% of rekey_time: 26.4 h
 * for both SAs (strongSwan's own responder rekeys CHILD_SAs at 1 h and
 * IKE SAs at 4 h instead, the interval Windows trips on).
 *
 * This applies only while a connection's lifetimes are all at their
 * defaults: daemon/config.c does not record which keys were given, so a
 * setting equal to the default (rekey_time = 1h for a child, 4h with
 * over_time 24m for the IKE SA) counts as not given. Any other rekey_time,
 * life_time, rand_time, reauth_time or over_time applies as written.
 * rekey_bytes and rekey_packets always apply.
 */
#define RW_HARD_MS ((24 * 3600 * 1000ULL) * 11 / 10)
#define DEF_CHILD_REKEY_MS (3600 * 1000ULL)	  /* config.c's defaults */
#define DEF_IKE_REKEY_MS (4 * 3600 * 1000ULL)

static bool rw_responder(const struct conn *c)
{
	for (unsigned i = 0; i < c->cfg.n_remote_addrs; i++)
		if (prefix_is_host(&c->cfg.remote_addrs[i]))
			return false;
	return true;
}

static bool rw_child_defaults(const struct conn *c)
{
	const struct cfg_conn *cc = &c->cfg;

	return rw_responder(c) && cc->child_rekey_time == DEF_CHILD_REKEY_MS &&
	       cc->child_life_time == DEF_CHILD_REKEY_MS * 11 / 10 &&
	       cc->child_rand_time == DEF_CHILD_REKEY_MS / 10;
}

static bool rw_ike_defaults(const struct conn *c)
{
	const struct cfg_conn *cc = &c->cfg;

	return rw_responder(c) && cc->rekey_time == DEF_IKE_REKEY_MS && !cc->reauth_time &&
	       cc->over_time == DEF_IKE_REKEY_MS / 10 && cc->rand_time == DEF_IKE_REKEY_MS / 10;
}

/* The local address the kernel routes toward remote (no packet sent). */
static int route_source(const struct ike_addr *remote, struct ike_addr *local)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, rc = 0;

	fd = socket(remote->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (remote->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(remote->port ? remote->port : 500);
		memcpy(&s->sin_addr, remote->addr, 4);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(remote->port ? remote->port : 500);
		memcpy(&s->sin6_addr, remote->addr, 16);
		len = sizeof(*s);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0)
		return rc;
	memset(local, 0, sizeof(*local));
	local->family = (uint8_t)remote->family;
	if (remote->family == AF_INET)
		memcpy(local->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else
		memcpy(local->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	return 0;
}

/* Where we initiate to: the first host address of remote_addrs, from
 * the first host of local_addrs or the routed source. */
static int initiate_path(const struct daemon *d, const struct conn *c, struct ike_path *path)
{
	const struct cfg_conn *cc = &c->cfg;
	unsigned i;

	memset(path, 0, sizeof(*path));
	for (i = 0; i < cc->n_remote_addrs && !prefix_is_host(&cc->remote_addrs[i]); i++)
		;
	if (i == cc->n_remote_addrs)
		return -EDESTADDRREQ;
	path->remote.family = (uint8_t)cc->remote_addrs[i].family;
	memcpy(path->remote.addr, cc->remote_addrs[i].addr, 16);
	path->remote.port = d->cfg.port;
	for (i = 0; i < cc->n_local_addrs; i++)
		if (cc->local_addrs[i].family == path->remote.family &&
		    prefix_is_host(&cc->local_addrs[i])) {
			path->local.family = path->remote.family;
			memcpy(path->local.addr, cc->local_addrs[i].addr, 16);
			path->local.port = d->cfg.port;
			return 0;
		}
	if (route_source(&path->remote, &path->local) < 0)
		return -ENETUNREACH;
	path->local.port = d->cfg.port;
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

/*
 * Outgoing IKE datagrams held during one receive batch (conns_ike_hold):
 * under a flood of spoofed IKE_SA_INITs nearly every datagram is answered
 * with a COOKIE, and one sendmmsg() for the batch costs the kernel less
 * than a sendmsg() each. Fixed cells, no allocation per datagram; what does
 * not fit a cell leaves at once, after the queue, so that datagrams to one
 * peer keep their order.
 */
#define IKE_TXQ_LEN  64   /* a receive batch (daemon/loop.c BATCH) */
#define IKE_TXQ_CELL 1500 /* non-ESP marker and message; a COOKIE takes ~60 */

union ike_txq_ctl {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

struct ike_txq {
	bool held;
	unsigned n;
	int fd[IKE_TXQ_LEN];
	struct mmsghdr msgs[IKE_TXQ_LEN];
	struct iovec iov[IKE_TXQ_LEN];
	struct sockaddr_storage to[IKE_TXQ_LEN];
	union ike_txq_ctl ctl[IKE_TXQ_LEN];
	uint8_t cell[IKE_TXQ_LEN][IKE_TXQ_CELL];
};

/* The socket a datagram along p leaves from: port 4500's (behind the
 * non-ESP marker, RFC 3948 §2.2) when our side of the path is not port. */
static int ike_fd(const struct daemon *d, const struct ike_path *p, bool *natt)
{
	bool v6 = p->remote.family == AF_INET6;

	*natt = p->local.port != d->cfg.port;
	return *natt ? (v6 ? d->udp6_natt : d->udp4_natt) : (v6 ? d->udp6_ike : d->udp4_ike);
}

/*
 * Address m to the peer, from the source address the engine chose
 * (IP_PKTINFO: on a multi-homed host the reply must leave from the address
 * the request came to, or the peer's NAT detection and its socket would
 * not match). m's msg_iov is the caller's.
 */
static void ike_address(struct msghdr *m, const struct ike_path *p, struct sockaddr_storage *to,
			union ike_txq_ctl *ctl)
{
	struct cmsghdr *cm = (struct cmsghdr *)ctl->buf;

	memset(to, 0, sizeof(*to));
	memset(ctl, 0, sizeof(*ctl));
	m->msg_name = to;
	m->msg_control = ctl->buf;
	if (p->remote.family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)to;
		struct in6_pktinfo pi = {0};

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(p->remote.port);
		memcpy(&s->sin6_addr, p->remote.addr, 16);
		m->msg_namelen = sizeof(*s);
		memcpy(&pi.ipi6_addr, p->local.addr, 16);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		m->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)to;
		struct in_pktinfo pi = {0};

		s->sin_family = AF_INET;
		s->sin_port = htons(p->remote.port);
		memcpy(&s->sin_addr, p->remote.addr, 4);
		m->msg_namelen = sizeof(*s);
		memcpy(&pi.ipi_spec_dst, p->local.addr, 4);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		m->msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

/* msgs[0..n) on fd; a datagram the kernel refuses is counted and skipped
 * (sendmmsg() reports only the first error, and only if nothing left). */
static void ike_sendmmsg(struct daemon *d, int fd, struct mmsghdr *msgs, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		int r = sendmmsg(fd, msgs + i, n - i, MSG_DONTWAIT);

		if (r > 0) {
			d->cnt.ike_tx += (unsigned)r;
			i += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			d->cnt.ike_tx_failed++;
			log_debug("IKE send: %s", strerror(errno));
			i++;
		}
	}
}

/* Send the held datagrams: one sendmmsg() per run of one socket's. */
static void ike_txq_send(struct daemon *d)
{
	struct ike_txq *q = d->ike_txq;
	unsigned i = 0;

	while (i < q->n) {
		unsigned j = i + 1;

		while (j < q->n && q->fd[j] == q->fd[i])
			j++;
		ike_sendmmsg(d, q->fd[i], q->msgs + i, j - i);
		i = j;
	}
	q->n = 0;
}

/* Queue one datagram (marker and message copied into a cell); false if it
 * does not fit a cell. */
static bool ike_txq_add(struct ike_txq *q, int fd, bool natt, const struct ike_path *p,
			const uint8_t *buf, size_t n)
{
	size_t off = natt ? 4 : 0;
	unsigned k = q->n;

	if (off + n > IKE_TXQ_CELL)
		return false;
	memset(q->cell[k], 0, off); /* the non-ESP marker */
	memcpy(q->cell[k] + off, buf, n);
	q->iov[k] = (struct iovec){q->cell[k], off + n};
	memset(&q->msgs[k], 0, sizeof(q->msgs[k]));
	q->msgs[k].msg_hdr.msg_iov = &q->iov[k];
	q->msgs[k].msg_hdr.msg_iovlen = 1;
	ike_address(&q->msgs[k].msg_hdr, p, &q->to[k], &q->ctl[k]);
	q->fd[k] = fd;
	q->n++;
	return true;
}

/* One IKE datagram: queued while held, else sent now. */
static void ike_send(struct daemon *d, const struct ike_path *p, const uint8_t *buf, size_t n)
{
	static const uint8_t marker[4];
	struct ike_txq *q = d->ike_txq;
	bool natt;
	int fd = ike_fd(d, p, &natt);
	struct iovec iov[2];
	struct sockaddr_storage to;
	union ike_txq_ctl ctl;
	struct msghdr m = {0};
	int i = 0;

	if (fd < 0) {
		d->cnt.ike_tx_failed++;
		return;
	}
	if (q && q->held) {
		if (q->n == IKE_TXQ_LEN)
			ike_txq_send(d);
		if (ike_txq_add(q, fd, natt, p, buf, n))
			return;
		ike_txq_send(d); /* too large: after those queued before it */
	}
	if (natt)
		iov[i++] = (struct iovec){(void *)marker, sizeof(marker)};
	iov[i++] = (struct iovec){(void *)buf, n};
	m.msg_iov = iov;
	m.msg_iovlen = (size_t)i;
	ike_address(&m, p, &to, &ctl);
	if (sendmsg(fd, &m, MSG_DONTWAIT) < 0) {
		d->cnt.ike_tx_failed++;
		log_debug("IKE send: %s", strerror(errno));
		return;
	}
	d->cnt.ike_tx++;
}

void conns_ike_hold(struct daemon *d)
{
	/* Once, for the daemon's life; without it, datagrams leave at once. */
	if (!d->ike_txq)
		d->ike_txq = calloc(1, sizeof(*d->ike_txq));
	if (d->ike_txq)
		d->ike_txq->held = true;
}

void conns_ike_flush(struct daemon *d)
{
	if (!d->ike_txq)
		return;
	ike_txq_send(d);
	d->ike_txq->held = false;
}

/* ---- CHILD_SAs into the SAD --------------------------------------------- */

static uint64_t ld(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void path_to_peer(const struct ike_addr *a, bool encap, struct esp_sa *sa)
{
	memset(&sa->peer, 0, sizeof(sa->peer));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&sa->peer;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(encap ? a->port : 0);
		memcpy(&s->sin6_addr, a->addr, 16);
		sa->peer_len = sizeof(*s);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&sa->peer;

		s->sin_family = AF_INET;
		s->sin_port = htons(encap ? a->port : 0);
		memcpy(&s->sin_addr, a->addr, 4);
		sa->peer_len = sizeof(*s);
	}
	sa->encap = encap ? ESP_ENCAP_UDP : ESP_ENCAP_RAW;
}

static int esp_side(struct esp_sa *sa, const struct ike_child_info *ci, bool inbound,
		    uint32_t replay_window, const struct ike_addr *peer)
{
	struct aead *a;
	int rc;

	rc = aead_new(&a, ci->encr, ci->key_bits, ci->integ, inbound ? ci->key_in : ci->key_out,
		      ci->keymat_len);
	if (rc < 0)
		return rc;
	rc = esp_sa_init(sa, inbound ? ci->spi_in : ci->spi_out, inbound, ci->esn, a,
			 replay_window);
	if (rc < 0)
		return rc;
	if ((rc = esp_sa_set_sels(sa, ci->local, (unsigned)ci->n_local, ci->remote,
				  (unsigned)ci->n_remote)) < 0)
		return rc; /* (the caller destroys sa) */
	path_to_peer(peer, ci->encap, sa);
	return 0;
}

static struct conn_ikesa *ikesa_find(struct daemon *d, uint32_t id);

static void tunnel_free(struct daemon *d, struct tunnel *t)
{
	struct conn_ikesa *s = t->conn ? ikesa_find(d, t->sa_id) : NULL;

	if (s) { /* its IKE SA's accounting keeps the traffic */
		s->gone_in_octets += ld(&t->in.stats.bytes);
		s->gone_in_packets += ld(&t->in.stats.packets);
		s->gone_out_octets += ld(&t->out.stats.bytes);
		s->gone_out_packets += ld(&t->out.stats.packets);
	}
	for (int i = 1; i < ESP_DROP_MAX; i++)
		d->cnt.gone_drops[i] += ld(&t->in.stats.drops[i]) + ld(&t->out.stats.drops[i]);
	d->cnt.gone_packets_in += ld(&t->in.stats.packets);
	d->cnt.gone_packets_out += ld(&t->out.stats.packets);
	sad_remove(d->sad, &t->in);
	sad_remove(d->sad, &t->out);
	esp_sa_destroy(&t->in); /* wipes the keys */
	esp_sa_destroy(&t->out);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

static struct tunnel *child_find(struct conn *c, uint32_t spi_in)
{
	for (struct tunnel *t = c->children; t; t = t->next)
		if (t->in.spi == spi_in)
			return t;
	return NULL;
}

static void child_unlink(struct conn *c, struct tunnel *t)
{
	for (struct tunnel **pp = &c->children; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

/* Route dst/prefix into the TUN, from src (NULL: tunsec.addrs of the
 * family, if any). */
static void route_add(struct daemon *d, int family, const uint8_t *dst, unsigned prefix,
		      const uint8_t *src, const char *what)
{
	int rc;

	for (unsigned k = 0; k < d->cfg.n_addrs && !src; k++)
		if (d->cfg.addrs[k].family == family)
			src = d->cfg.addrs[k].addr;
	rc = netcfg_route_add(d->netcfg, d->tun.ifindex, family, dst, prefix, src);
	if (rc < 0 && rc != -EEXIST) {
		char ip[INET6_ADDRSTRLEN] = "?";

		inet_ntop(family, dst, ip, sizeof(ip));
		log_warn("cannot route %s/%u (%s) into %s: %s", ip, prefix, what, d->tun.name,
			 strerror(-rc));
	}
}

/* ---- pool routes ----------------------------------------------------------
 *
 * A road-warrior server routes each pool into the TUN once, rather than a
 * /32 per client CHILD_SA (a netlink round trip per client: 4.7% of the
 * server's CPU at 10 000 clients). The routes only bring packets to the
 * daemon; which client gets one is the SAD's choice by selectors.
 */

struct pool_route {
	int family;
	uint8_t lo[16], hi[16]; /* what the routes cover, inclusive */
};

typedef unsigned __int128 u128;

static u128 addr_u128(int family, const uint8_t *a)
{
	u128 v = 0;

	for (size_t i = 0; i < fam_len(family); i++)
		v = v << 8 | a[i];
	return v;
}

static void u128_addr(int family, u128 v, uint8_t *a)
{
	memset(a, 0, 16);
	for (size_t i = fam_len(family); i-- > 0; v >>= 8)
		a[i] = (uint8_t)v;
}

/* lo..hi is exactly one prefix: its length, else -1. */
static int one_prefix(unsigned width, u128 lo, u128 hi)
{
	u128 size;

	if (hi < lo)
		return -1;
	size = hi - lo + 1; /* (0 only for all of IPv6: never a pool) */
	if (!size || (size & (size - 1)) || (lo & (size - 1)))
		return -1;
	for (unsigned k = 0; k <= width; k++)
		if (((u128)1 << k) == size)
			return (int)(width - k);
	return -1;
}

/*
 * Route a pool's range: the prefix it was configured as when it is one
 * (10.10.0.0/24 gives .1 to .254: the network and broadcast addresses are
 * left out, tunsec.conf(5); fd10::/120 gives ::1 to ::ff), else the
 * fewest prefixes that cover start..end exactly. The covered range goes
 * into *r. False if no route could be added.
 */
static bool pool_route_add(struct daemon *d, const struct cfg_pool *pc, struct pool_route *r)
{
	unsigned width = pc->family == AF_INET ? 32 : 128;
	u128 lo = addr_u128(pc->family, pc->start), hi = addr_u128(pc->family, pc->end);
	u128 top = width == 32 ? 0xFFFFFFFFu : ~(u128)0;
	uint8_t a[16];
	int len = -1;

	if (pc->family == AF_INET && lo > 0 && hi < top)
		len = one_prefix(width, lo - 1, hi + 1);
	if (len >= 0) {
		lo--, hi++;
	} else if (pc->family == AF_INET6 && lo > 0 && (len = one_prefix(width, lo - 1, hi)) >= 0) {
		lo--;
	}
	r->family = pc->family;
	u128_addr(pc->family, lo, r->lo);
	u128_addr(pc->family, hi, r->hi);
	if (len >= 0) {
		route_add(d, pc->family, r->lo, (unsigned)len, NULL, pc->name);
		return true;
	}
	for (u128 x = lo;;) {
		unsigned k = 0;

		/* the largest block aligned at x that ends by hi */
		while (k < width && !(x & ((u128)1 << k)) && x + (((u128)2 << k) - 1) <= hi &&
		       x + (((u128)2 << k) - 1) > x)
			k++;
		u128_addr(pc->family, x, a);
		route_add(d, pc->family, a, width - k, NULL, pc->name);
		if (x + (((u128)1 << k) - 1) >= hi)
			break;
		x += (u128)1 << k;
	}
	return true;
}

static bool in_range(int family, const uint8_t *lo, const uint8_t *hi, const struct esp_sel *s)
{
	size_t n = fam_len(family);

	return s->family == family && memcmp(s->start, lo, n) >= 0 && memcmp(s->end, hi, n) <= 0;
}

/* Route every pool not routed yet (at start; a pool a reload added gets
 * its route when its first CHILD_SA comes up). */
static void pools_route(struct daemon *d)
{
	for (size_t i = 0; i < d->n_pools && d->netcfg; i++) {
		const struct cfg_pool *pc = pool_cfg(d->pools[i]);
		struct pool_route *v;
		struct esp_sel s = {.family = (uint8_t)pc->family};
		bool done = false;

		memcpy(s.start, pc->start, 16);
		memcpy(s.end, pc->end, 16);
		for (size_t k = 0; k < d->n_pool_routes && !done; k++)
			done = in_range(d->pool_routes[k].family, d->pool_routes[k].lo,
					d->pool_routes[k].hi, &s);
		if (done)
			continue;
		v = realloc(d->pool_routes, (d->n_pool_routes + 1) * sizeof(*v));
		if (!v)
			return;
		d->pool_routes = v;
		if (pool_route_add(d, pc, &v[d->n_pool_routes]))
			d->n_pool_routes++;
	}
}

/* Does a pool route already bring s's packets into the TUN? If s lies in
 * a pool not routed yet, route it now. */
static bool pool_routed(struct daemon *d, const struct esp_sel *s)
{
	for (int pass = 0; pass < 2; pass++) {
		bool in_pool = false;

		for (size_t k = 0; k < d->n_pool_routes; k++)
			if (in_range(d->pool_routes[k].family, d->pool_routes[k].lo,
				     d->pool_routes[k].hi, s))
				return true;
		for (size_t i = 0; i < d->n_pools && !in_pool; i++) {
			const struct cfg_pool *pc = pool_cfg(d->pools[i]);

			in_pool = in_range(pc->family, pc->start, pc->end, s);
		}
		if (!in_pool || pass)
			return false;
		pools_route(d);
	}
	return false;
}

/* The virtual IP of that family a client's IKE SA got, or NULL. */
static const uint8_t *vip_of(const struct conn_ikesa *s, int family)
{
	for (size_t i = 0; s && s->vip && i < s->vip->n_addrs; i++)
		if (s->vip->addrs[i].family == family)
			return s->vip->addrs[i].addr;
	return NULL;
}

/* Routes into the TUN for the negotiated remote selectors (already there:
 * fine; they stay until the daemon exits, so a trap still catches), but
 * for those a pool's route covers. A client's traffic leaves from its
 * virtual IP (s, the CHILD_SA's IKE SA): the route is made anew with it
 * as the source, as the address may differ from the last IKE SA's. */
static void child_routes(struct daemon *d, const struct ike_child_info *ci,
			 const struct conn_ikesa *s)
{
	for (size_t i = 0; i < ci->n_remote; i++) {
		const struct esp_sel *sel = &ci->remote[i];
		const uint8_t *vip = vip_of(s, sel->family);
		int prefix = esp_sel_prefix(sel);
		char buf[128];

		if (prefix < 0 || !d->netcfg || pool_routed(d, sel))
			continue;
		if (vip)
			netcfg_route_del(d->netcfg, d->tun.ifindex, sel->family, sel->start,
					 (unsigned)prefix);
		route_add(d, sel->family, sel->start, (unsigned)prefix, vip,
			  esp_sel_str(sel, buf, sizeof(buf)));
	}
}

/*
 * Rekeys without a lost packet (RFC 7296 §2.8). The data plane must never
 * send on an SPI the peer cannot decrypt yet, nor drop a packet the peer
 * sent on an SPI it was entitled to use:
 *
 * - The rekey's initiator has seen the response: the responder installed
 *   the new inbound SA before answering. It sends on the new SA at once.
 * - The responder cannot know when the response arrives (it may be lost,
 *   retransmitted, or overtaken by ESP: raw ESP and IKE come in on
 *   different sockets, and a GRO batch of ESP can be read before the IKE
 *   datagram that preceded it on the wire). It keeps sending on the old
 *   SA until the initiator deletes that, or sends on the new SA itself
 *   (both prove it has installed it), as strongSwan does.
 * - The loser of a simultaneous rekey (§2.8.1) never carries traffic.
 * - After its Delete, a replaced SA's inbound half lingers for a few
 *   seconds (strongSwan: charon.delete_rekeyed_delay): packets the peer
 *   sent on it before it switched may arrive after the Delete exchange,
 *   on another socket or late from the network.
 */
#define REKEYED_LINGER_NS (5 * NS_PER_SEC)

/* An SPI may be handed out again (the engine does not know that a deleted
 * SA still lingers here): the new SA wins. */
static void lingering_drop(struct daemon *d, uint32_t spi_in)
{
	for (size_t i = 0; i < d->n_conns; i++)
		for (struct tunnel **pp = &d->conns[i]->lingering; *pp; pp = &(*pp)->next)
			if ((*pp)->in.spi == spi_in) {
				struct tunnel *t = *pp;

				*pp = t->next;
				tunnel_free(d, t);
				return;
			}
}

static void lingering_expire(struct daemon *d, struct conn *c, uint64_t now, bool all)
{
	for (struct tunnel **pp = &c->lingering; *pp;) {
		struct tunnel *t = *pp;

		if (!all && now < t->linger_until) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		tunnel_free(d, t);
	}
}

/* t's outbound SA takes the selectors from the SA it replaces; any other
 * successor still waiting for them (a simultaneous rekey's loser) never
 * gets them. */
static void out_take_over(struct daemon *d, struct conn *c, struct tunnel *t, const char *why)
{
	struct tunnel *old = t->rekey_of ? child_find(c, t->rekey_of) : NULL;
	int rc = sad_add_out(d->sad, &t->out);

	if (rc < 0) {
		/* The old SA keeps sending: no traffic is lost, and the next
		 * trigger tries again. */
		log_err("%s/%s: cannot send on CHILD_SA 0x%08x: %s", c->cfg.name,
			c->cfg.child_name, t->out.spi, strerror(-rc));
		return;
	}
	t->out_pending = false;
	if (old)
		sad_remove(d->sad, &old->out);
	for (struct tunnel *o = c->children; o; o = o->next)
		if (o != t && o->out_pending && o->rekey_of == t->rekey_of)
			o->out_pending = false;
	log_info("%s/%s: sending on CHILD_SA 0x%08x (was 0x%08x): %s", c->cfg.name,
		 c->cfg.child_name, t->out.spi, old ? old->out.spi : 0, why);
}

static struct conn_ikesa *ikesa_find(struct daemon *d, uint32_t id);

static bool sel_overlap(const struct esp_sel *a, const struct esp_sel *b)
{
	size_t n = fam_len(a->family);

	return a->family == b->family && (!a->proto || !b->proto || a->proto == b->proto) &&
	       a->port_lo <= b->port_hi && b->port_lo <= a->port_hi &&
	       memcmp(a->start, b->end, n) <= 0 && memcmp(b->start, a->end, n) <= 0;
}

static bool id_same(const struct ike_identity *a, const struct ike_identity *b)
{
	return a->type && a->type == b->type && a->len == b->len &&
	       memcmp(a->data, b->data, a->len) == 0;
}

/* Each remote selector is one address leased to this IKE SA. */
static bool sels_leased(const struct conn_ikesa *s, const struct ike_child_info *ci)
{
	for (size_t i = 0; i < ci->n_remote; i++) {
		const struct esp_sel *x = &ci->remote[i];
		size_t n = fam_len(x->family);
		bool found = false;

		for (size_t k = 0; k < s->n_leases && !found; k++)
			found = pool_cfg(s->leases[k].pool)->family == x->family &&
				memcmp(x->start, s->leases[k].addr, n) == 0 &&
				memcmp(x->end, s->leases[k].addr, n) == 0;
		if (!found)
			return false;
	}
	return ci->n_remote > 0;
}

/*
 * RFC 4301 §5.1: outbound traffic goes to the SA whose selectors match it,
 * and we let the newest CHILD_SA take over selectors (make-before-break).
 * With a remote_ts shared by many peers (a road-warrior connection) any
 * authenticated client could narrow its TSi (RFC 7296 §2.9) to another
 * client's address and so receive that client's traffic. So a CHILD_SA
 * whose remote selectors overlap those of an installed CHILD_SA of another
 * IKE SA is refused unless both IKE SAs authenticated the same identity
 * (that is a client coming back without INITIAL_CONTACT, or a rekeyed or
 * reauthenticated IKE SA: the newer takes over, as always). The CHILD_SA
 * found, or NULL.
 *
 * Addresses a pool leased to this IKE SA are its own (a lease is bound to
 * one identity while online): no search for those, so that the usual
 * road-warrior CHILD_SA costs O(1) here; any other costs a pass over the
 * installed CHILD_SAs.
 */
static const struct tunnel *ts_taken(struct daemon *d, const struct ike_event *ev)
{
	const struct ike_child_info *ci = &ev->child;
	const struct conn_ikesa *me = ikesa_find(d, ev->sa_id);

	if (me && sels_leased(me, ci))
		return NULL;
	for (size_t i = 0; i < d->n_conns; i++)
		for (const struct tunnel *t = d->conns[i]->children; t; t = t->next) {
			const struct conn_ikesa *other;

			if (t->sa_id == ev->sa_id)
				continue;
			other = ikesa_find(d, t->sa_id);
			if (me && other && id_same(&me->peer_id, &other->peer_id))
				continue;
			for (size_t a = 0; a < ci->n_remote; a++)
				for (unsigned b = 0; b < t->out.n_remote; b++)
					if (sel_overlap(&ci->remote[a], &t->out.remote_sels[b]))
						return t;
		}
	return NULL;
}

static void refuse_taken(struct daemon *d, struct conn *c, const struct ike_event *ev,
			 const struct tunnel *t, uint64_t now)
{
	const struct conn_ikesa *me = ikesa_find(d, ev->sa_id), *other = ikesa_find(d, t->sa_id);
	char who[IKE_ID_STR_MAX], owner[IKE_ID_STR_MAX], sel[128], more[64] = "";
	uint64_t held = 0;

	d->cnt.ts_refused++;
	ike_engine_delete_child(c->e, ev->child.spi_in, now);
	/* any authenticated client can try this as often as it likes */
	if (!log_limit_ok(&c->ts_log, now, 1, &held))
		return;
	if (held)
		snprintf(more, sizeof(more), " (and %llu more not logged)", (unsigned long long)held);
	snprintf(who, sizeof(who), "?");
	snprintf(owner, sizeof(owner), "?");
	if (me && me->peer_id.type)
		ike_id_str(&me->peer_id, who, sizeof(who));
	if (other && other->peer_id.type)
		ike_id_str(&other->peer_id, owner, sizeof(owner));
	esp_sel_str(&ev->child.remote[0], sel, sizeof(sel));
	log_warn("%s/%s: refused CHILD_SA 0x%08x of %s (IKE SA #%u): its remote selectors (%s%s) "
		 "overlap those of %s's CHILD_SA 0x%08x (%s/%s, IKE SA #%u): traffic for one "
		 "identity never goes to another (RFC 4301 section 5.1)%s",
		 c->cfg.name, c->cfg.child_name, ev->child.spi_in, who, ev->sa_id, sel,
		 ev->child.n_remote > 1 ? ",..." : "", owner, t->in.spi, t->conn->cfg.name,
		 t->conn->cfg.child_name, t->sa_id, more);
}

static void on_child_up(struct daemon *d, struct conn *c, const struct ike_event *ev,
			uint64_t now)
{
	const struct ike_child_info *ci = &ev->child;
	const struct cfg_conn *cc = &c->cfg;
	const struct tunnel *taken = ts_taken(d, ev);
	struct tunnel *t, *old;
	char l[128], r[128];
	int rc;

	if (taken) {
		refuse_taken(d, c, ev, taken, now);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		log_err("%s: out of memory installing a CHILD_SA", cc->name);
		ike_engine_delete_child(c->e, ci->spi_in, now);
		return;
	}
	t->conn = c;
	t->sa_id = ev->sa_id;
	t->pfs = ci->ke;
	t->out_fd = -1;
	t->created = time(NULL);
	t->up_at = now;
	if (rw_child_defaults(c)) {
		/* a road warrior renews its own (RW_HARD_MS) */
		t->rekey_at = 0;
		t->hard_at = now + msecs(RW_HARD_MS);
	} else {
		t->rekey_at = deadline(now, cc->child_rekey_time, cc->child_rand_time);
		t->hard_at = cc->child_life_time ? now + msecs(cc->child_life_time) : 0;
	}
	old = ci->rekeyed_spi_in ? child_find(c, ci->rekeyed_spi_in) : NULL;
	t->rekey_of = old ? old->in.spi : 0;
	/* A rekey's SA takes the outbound selectors below (at once, or once
	 * the peer shows it has it); a new CHILD_SA gets them now. */
	t->out_pending = old && !ci->redundant;
	lingering_drop(d, ci->spi_in);
	if ((rc = esp_side(&t->in, ci, true, cc->replay_window, &ev->path.remote)) < 0 ||
	    (rc = esp_side(&t->out, ci, false, 0, &ev->path.remote)) < 0 ||
	    (rc = sad_add_in(d->sad, &t->in)) < 0 ||
	    (!old && (rc = sad_add_out(d->sad, &t->out)) < 0)) {
		log_err("%s: cannot install CHILD_SA 0x%08x: %s", cc->name, ci->spi_in,
			rc == -EEXIST ? "SPI in use" : strerror(-rc));
		tunnel_free(d, t);
		ike_engine_delete_child(c->e, ci->spi_in, now);
		return;
	}
	t->in.owner = t->out.owner = t;
	t->next = c->children;
	c->children = t;
	/* Make-before-break (RFC 7296 §2.8): the old inbound SA decrypts
	 * until its Delete (and a little longer); the old outbound one sends
	 * until the new one takes over. */
	if (old && !ci->redundant) {
		old->replaced = old->rekey_asked = true;
		/* (should that fail, it stays pending and is tried again) */
		if (ci->we_initiated)
			out_take_over(d, c, t, "we rekeyed it");
	}
	child_routes(d, ci, ikesa_find(d, ev->sa_id));
	l[0] = r[0] = '\0';
	if (ci->n_local)
		esp_sel_str(&ci->local[0], l, sizeof(l));
	if (ci->n_remote)
		esp_sel_str(&ci->remote[0], r, sizeof(r));
	log_info("%s/%s: CHILD_SA %s, SPIs 0x%08x in / 0x%08x out, %s%s%s, %s%s === %s%s%s",
		 cc->name, cc->child_name, ci->rekeyed_spi_in ? "rekeyed" : "up", ci->spi_in,
		 ci->spi_out, aead_name(t->out.aead), ci->esn ? ", ESN" : "",
		 ci->encap ? ", ESP in UDP" : ", raw ESP", l, ci->n_local > 1 ? ",..." : "", r,
		 ci->n_remote > 1 ? ",..." : "",
		 ci->redundant     ? " (lost a simultaneous rekey: deleting it)"
		 : t->out_pending ? " (the peer's rekey: sending on it once the peer does)"
				  : "");
	if (ci->integ == AUTH_HMAC_SHA1_96 || ci->ke == KE_MODP_1024)
		log_warn("%s/%s: CHILD_SA 0x%08x uses a LEGACY suite (%s: SHA-1/MODP 1024, RFC "
			 "8221), admitted by tunsec.legacy",
			 cc->name, cc->child_name, ci->spi_in, aead_name(t->out.aead));
}

static void on_child_down(struct daemon *d, struct conn *c, const struct ike_event *ev,
			  uint64_t now)
{
	struct tunnel *t = child_find(c, ev->child.spi_in);

	if (!t)
		return;
	log_info("%s/%s: CHILD_SA 0x%08x/0x%08x down (%s), %llu packets in, %llu out",
		 c->cfg.name, c->cfg.child_name, t->in.spi, t->out.spi, ike_reason_name(ev->reason),
		 (unsigned long long)t->in.stats.packets, (unsigned long long)t->out.stats.packets);
	/* The SA we still sent on is deleted: the peer has the new one. */
	for (struct tunnel *n = c->children; n; n = n->next)
		if (n->out_pending && n->rekey_of == t->in.spi)
			out_take_over(d, c, n, "the old SA is deleted");
	child_unlink(c, t);
	if (t->replaced &&
	    (ev->reason == IKE_REASON_DELETED_LOCAL || ev->reason == IKE_REASON_DELETED_PEER)) {
		sad_remove(d->sad, &t->out);
		t->linger_until = now + REKEYED_LINGER_NS;
		t->next = c->lingering;
		c->lingering = t;
		return;
	}
	tunnel_free(d, t);
}

/* ---- IKE SAs ------------------------------------------------------------- */

/* IKE SA ids are the engine's sequence numbers: a multiplicative hash
 * spreads them (nobody outside chooses them). */
static uint64_t id_hash(uint32_t id)
{
	return (uint64_t)id * 0x9E3779B97F4A7C15ULL;
}

static struct conn_ikesa *ikesa_find(struct daemon *d, uint32_t id)
{
	uint64_t h = id_hash(id);

	for (struct hlink *l = htab_first(&d->ikesas, h); l; l = htab_next(l, h)) {
		struct conn_ikesa *s = container_of(l, struct conn_ikesa, l);

		if (s->id == id)
			return s;
	}
	return NULL;
}

struct conn_ikesa *conn_ikesa_find(struct daemon *d, uint32_t id)
{
	return ikesa_find(d, id);
}

/* Into connection c's list of IKE SAs, and out of it. */
static void ikesa_link(struct conn_ikesa *s, struct conn *c)
{
	s->conn = c;
	s->prev = NULL;
	s->next = c->sas;
	if (c->sas)
		c->sas->prev = s;
	c->sas = s;
	c->n_sas++;
}

static void ikesa_unlink(struct conn_ikesa *s)
{
	struct conn *c = s->conn;

	if (s->prev)
		s->prev->next = s->next;
	else
		c->sas = s->next;
	if (s->next)
		s->next->prev = s->prev;
	c->n_sas--;
	s->prev = s->next = NULL;
}

/*
 * The engine moved s's IKE SA to connection `to` (struct ike_answer's
 * peer, after EAP), and its next events come with that one: the record
 * follows, so that its leases (NEED_CP comes next), CHILD_SAs, accounting,
 * status, a reload or `tunsec down` of either connection find it where
 * the engine has it. The engine moves an SA only within IKE_AUTH, before
 * IKE_UP: it has no CHILD_SA yet to move with it.
 */
static void ikesa_move(struct conn_ikesa *s, struct conn *to)
{
	if (s->conn == to)
		return;
	ikesa_unlink(s);
	ikesa_link(s, to);
}

static struct conn_ikesa *ikesa_new(struct daemon *d, struct conn *c, uint32_t id)
{
	struct conn_ikesa *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (htab_add(&d->ikesas, &s->l, id_hash(id)) < 0) {
		free(s);
		return NULL;
	}
	s->id = id;
	ikesa_link(s, c);
	return s;
}

/* RFC 2866 accounting of an IKE SA that RADIUS admitted: its CHILD_SAs'
 * inner traffic, those still here and those gone. */
static void account(struct daemon *d, struct conn_ikesa *s, int status, uint64_t now)
{
	struct radacct_counts n = {s->gone_in_octets, s->gone_out_octets, s->gone_in_packets,
				   s->gone_out_packets};
	const uint8_t *vip4 = NULL;
	struct tunnel *lists[2] = {s->conn->children, s->conn->lingering};

	for (int k = 0; k < 2; k++)
		for (struct tunnel *t = lists[k]; t; t = t->next) {
			if (t->sa_id != s->id)
				continue;
			n.in_octets += ld(&t->in.stats.bytes);
			n.in_packets += ld(&t->in.stats.packets);
			n.out_octets += ld(&t->out.stats.bytes);
			n.out_packets += ld(&t->out.stats.packets);
		}
	for (size_t i = 0; i < s->n_leases && !vip4; i++)
		if (pool_cfg(s->leases[i].pool)->family == AF_INET)
			vip4 = s->leases[i].addr;
	if (radsess_account(s->rad, status, vip4, &n, now,
			    s->term_cause ? s->term_cause : RADIUS_TERM_NAS_REQUEST) < 0)
		log_warn("%s: IKE SA #%u: RADIUS accounting request not sent", s->conn->cfg.name,
			 s->id);
	radhub_flush(d->radius);
}

static void leases_release(struct conn_ikesa *s, uint64_t now)
{
	for (size_t i = 0; i < s->n_leases; i++)
		pool_release(s->leases[i].pool, s->leases[i].addr, now / 1000000);
	s->n_leases = 0;
}

/* ", virtual IP a, b" (and, a client's, ", DNS x, y": what the server
 * offered; applying it to the system is not tunsecd's yet) */
static void cp_str(const struct ike_cp_reply *cp, bool dns, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < cp->n_addrs; i++) {
		char ip[INET6_ADDRSTRLEN] = "?";
		size_t n = strlen(out);

		inet_ntop(cp->addrs[i].family, cp->addrs[i].addr, ip, sizeof(ip));
		snprintf(out + n, cap - n, "%s%s", i ? ", " : ", virtual IP ", ip);
	}
	for (size_t i = 0; dns && i < cp->n_dns; i++) {
		char ip[INET6_ADDRSTRLEN] = "?";
		size_t n = strlen(out);

		inet_ntop(cp->dns[i].family, cp->dns[i].addr, ip, sizeof(ip));
		snprintf(out + n, cap - n, "%s%s", i ? ", " : ", DNS ", ip);
	}
}

/* Another client IKE SA than s that holds virtual IP a: it becomes the
 * address's owner (two IKE SAs of one connection may hold the same one;
 * the first one's end must not take it from the other). */
static bool vip_pass_on(const struct daemon *d, const struct conn_ikesa *s,
			const struct ike_addr *a)
{
	for (size_t k = 0; k < d->n_conns; k++)
		for (struct conn_ikesa *o = d->conns[k]->sas; o; o = o->next)
			for (size_t i = 0; o != s && o->vip && i < o->vip->n_addrs; i++)
				if (o->vip->addrs[i].family == a->family &&
				    memcmp(o->vip->addrs[i].addr, a->addr, 16) == 0) {
					o->vip_added |= 1u << i;
					return true;
				}
	return false;
}

/*
 * A client's virtual IPs (vips; RFC 7296 §2.19): the addresses the
 * server's CFG_REPLY gave go on the TUN device, as host addresses (the
 * routes to the remote selectors name them as source, child_routes()),
 * until the IKE SA and its rekeyed successors are gone.
 */
static void vips_take(struct daemon *d, struct conn_ikesa *s, const struct ike_cp_reply *cp)
{
	if (!cp->n_addrs || !d->netcfg)
		return;
	if (!s->vip && !(s->vip = malloc(sizeof(*s->vip)))) {
		log_err("%s: out of memory: virtual IP not taken", s->conn->cfg.name);
		return;
	}
	*s->vip = *cp;
	s->vip_added = 0;
	for (size_t i = 0; i < cp->n_addrs; i++) {
		const struct ike_addr *a = &cp->addrs[i];
		int rc = netcfg_addr_add(d->netcfg, d->tun.ifindex, a->family, a->addr,
					 a->family == AF_INET ? 32 : 128);

		/* (-EEXIST: there before us, e.g. in tunsec.addrs: not ours to
		 * remove) */
		if (rc == 0)
			s->vip_added |= 1u << i;
		if (rc < 0 && rc != -EEXIST) {
			char ip[INET6_ADDRSTRLEN] = "?";

			inet_ntop(a->family, a->addr, ip, sizeof(ip));
			log_warn("%s: cannot put the virtual IP %s on %s: %s", s->conn->cfg.name,
				 ip, d->tun.name, strerror(-rc));
		}
	}
}

static void vips_drop(struct daemon *d, struct conn_ikesa *s)
{
	if (!s->vip)
		return;
	for (size_t i = 0; d->netcfg && i < s->vip->n_addrs; i++) {
		const struct ike_addr *a = &s->vip->addrs[i];

		if ((s->vip_added & (1u << i)) && !vip_pass_on(d, s, a))
			netcfg_addr_del(d->netcfg, d->tun.ifindex, a->family, a->addr,
					a->family == AF_INET ? 32 : 128);
	}
	free(s->vip);
	s->vip = NULL;
}

static void ikesa_free(struct daemon *d, struct conn_ikesa *s, uint64_t now)
{
	if (radsess_accounting(s->rad))
		account(d, s, RADIUS_ACCT_STOP, now);
	radsess_free(s->rad);
	eapauth_free(s->eap);
	leases_release(s, now);
	vips_drop(d, s);
	htab_del(&d->ikesas, &s->l);
	ikesa_unlink(s);
	free(s);
}

/* IKE_UP after two authentication rounds (RFC 4739): who proved what,
 * both identities (a machine's certificate, then its user). */
static void log_rounds(const struct conn *c, const struct ike_event *ev)
{
	char a[IKE_ID_STR_MAX], b[IKE_ID_STR_MAX];

	if (ev->initiator) {
		const struct cfg_end *e = &c->cfg.local2;

		ike_id_str(&c->icfg.local_id, a, sizeof(a));
		if (e->eap_id[0])
			snprintf(b, sizeof(b), "%s", e->eap_id);
		else
			ike_id_str(&c->icfg.local_id2, b, sizeof(b));
		log_info("%s: IKE SA #%u: we authenticated in two rounds (RFC 4739): as %s, then "
			 "by EAP as %s",
			 c->cfg.name, ev->sa_id, a, b);
		return;
	}
	ike_id_str(&ev->peer_id1, a, sizeof(a));
	ike_id_str(&ev->peer_id, b, sizeof(b));
	log_info("%s: IKE SA #%u: the peer authenticated in two rounds (RFC 4739): as %s, then "
		 "by EAP as %s",
		 c->cfg.name, ev->sa_id, ev->peer_id1.type ? a : "(no ID)",
		 ev->peer_id.type ? b : "(no ID)");
}

/* RFC 4478 §3: the server's AUTH_LIFETIME says when it ends our IKE SA
 * (a RADIUS Session-Timeout, strongSwan's reauth_time as responder). We
 * reauthenticate at 90 % of it, if not sooner by our own reauth_time. */
static void server_auth_lifetime(const struct conn *c, struct conn_ikesa *s, uint32_t sec,
				 uint64_t now)
{
	uint64_t in = (uint64_t)sec * NS_PER_SEC / 10 * 9;

	if (!s->reauth_at || now + in < s->reauth_at)
		s->reauth_at = now + in;
	log_info("%s: IKE SA #%u: the server's AUTH_LIFETIME of %u s (RFC 4478): "
		 "reauthenticating in %llu s",
		 c->cfg.name, s->id, sec, (unsigned long long)((s->reauth_at - now) / NS_PER_SEC));
}

static void on_ike_up(struct daemon *d, struct conn *c, const struct ike_event *ev, uint64_t now)
{
	const struct cfg_conn *cc = &c->cfg;
	struct conn_ikesa *s = ikesa_find(d, ev->sa_id), *old;
	char suite[128], peer[64], vips[128] = "";
	uint64_t life;

	if (!s && !(s = ikesa_new(d, c, ev->sa_id))) {
		log_err("%s: out of memory: not tracking IKE SA #%u", cc->name, ev->sa_id);
		return;
	}
	s->up = true;
	if (ev->peer_id.type)
		s->peer_id = ev->peer_id;
	if (ev->auth_round == 2 && ev->peer_id1.type)
		s->peer_id1 = ev->peer_id1;
	s->initiator = ev->initiator;
	s->behind_nat = ev->behind_nat;
	s->path = ev->path;
	s->suite = ev->suite;
	s->spi_i = ev->spi_i;
	s->spi_r = ev->spi_r;
	s->up_at = now;
	if (rw_ike_defaults(c)) {
		/* a road warrior rekeys or reauthenticates it (RW_HARD_MS) */
		s->rekey_at = s->reauth_at = 0;
		s->hard_at = now + msecs(RW_HARD_MS);
	} else {
		s->rekey_at = deadline(now, cc->rekey_time, cc->rand_time);
		s->reauth_at = deadline(now, cc->reauth_time, cc->rand_time);
		life = cc->rekey_time > cc->reauth_time ? cc->rekey_time : cc->reauth_time;
		s->hard_at = life ? now + msecs(life) + msecs(cc->over_time) : 0;
	}
	if (ev->initiator && ev->auth_lifetime)
		server_auth_lifetime(c, s, ev->auth_lifetime, now);
	s->keepalive_at = now;
	c->up_count++;
	/* The children (and addresses) of a rekeyed IKE SA now belong to
	 * the new one. */
	if (ev->rekeyed_sa_id) {
		for (struct tunnel *t = c->children; t; t = t->next)
			if (t->sa_id == ev->rekeyed_sa_id)
				t->sa_id = ev->sa_id;
		if ((old = ikesa_find(d, ev->rekeyed_sa_id)) && old != s) {
			if (!s->peer_id.type) {
				s->peer_id = old->peer_id;
				s->peer_id1 = old->peer_id1;
			}
			memcpy(s->leases, old->leases, sizeof(s->leases));
			s->n_leases = old->n_leases;
			old->n_leases = 0;
			/* one RADIUS session (and accounting) across rekeys;
			 * the old SA's freed children's traffic with it */
			if (!s->rad) {
				s->rad = old->rad;
				old->rad = NULL;
			}
			/* a client's virtual IPs stay on the TUN device */
			if (!s->vip) {
				s->vip = old->vip;
				s->vip_added = old->vip_added;
				old->vip = NULL;
			}
			s->gone_in_octets += old->gone_in_octets;
			s->gone_out_octets += old->gone_out_octets;
			s->gone_in_packets += old->gone_in_packets;
			s->gone_out_packets += old->gone_out_packets;
			old->gone_in_octets = old->gone_out_octets = 0;
			old->gone_in_packets = old->gone_out_packets = 0;
		}
	} else if (s->rad && d->radius) {
		uint32_t st = radsess_user(s->rad)->session_timeout;

		/* RFC 2865 §5.27: the session ends then; the client logs in
		 * again (a responder cannot reauthenticate it) */
		if (st)
			s->session_end = now + (uint64_t)st * NS_PER_SEC;
		if (radhub_cfg(d->radius)->accounting && !radsess_accounting(s->rad))
			account(d, s, RADIUS_ACCT_START, now);
	}
	if (ev->initiator && !ev->rekeyed_sa_id)
		vips_take(d, s, &ev->cp);
	/* Addresses, not endpoints: no port (as tunsec status shows them). */
	cp_str(&ev->cp, ev->initiator, vips, sizeof(vips));
	log_info("%s: IKE SA #%u %s with %s as %s, %s, SPIs %016llx_i %016llx_r%s%s", cc->name,
		 ev->sa_id, ev->rekeyed_sa_id ? "rekeyed" : "established",
		 ike_addr_str(&ev->path.remote, peer, sizeof(peer)),
		 ev->initiator ? "initiator" : "responder",
		 ike_suite_str(&ev->suite, suite, sizeof(suite)), (unsigned long long)ev->spi_i,
		 (unsigned long long)ev->spi_r, ev->behind_nat ? ", we are behind a NAT" : "", vips);
	/* (an initiator's IKE_UP does not say: its second round is not
	 * optional, the SA is up only after it) */
	if (!ev->rekeyed_sa_id && (ev->initiator ? c->icfg.local_eap2 : ev->auth_round == 2))
		log_rounds(c, ev);
	if (ike_suite_legacy(&ev->suite))
		log_warn("%s: IKE SA #%u uses a LEGACY suite (%s: SHA-1/MODP 1024, RFC 8247), "
			 "admitted by tunsec.legacy", cc->name, ev->sa_id, suite);
}

/* What to do once a connection's IKE SA is gone: swanctl's dpd_action
 * (peer dead) and close_action (peer closed it). */
static void after_down(struct conn *c, enum ike_reason why, uint64_t now)
{
	enum cfg_peer_action act;

	if (why == IKE_REASON_DPD || why == IKE_REASON_TIMEOUT)
		act = c->cfg.dpd_action;
	else if (why == IKE_REASON_DELETED_PEER)
		act = c->cfg.close_action;
	else
		return;
	if (act == CFG_ACTION_RESTART)
		c->restart_at = now + RESTART_DELAY;
	else if (act == CFG_ACTION_TRAP)
		c->trap = true;
}

static void on_ike_down(struct daemon *d, struct conn *c, const struct ike_event *ev,
			uint64_t now)
{
	struct conn_ikesa *s = ikesa_find(d, ev->sa_id);
	bool was_up = s && s->up;
	struct tunnel **pp = &c->children;
	char more[64] = "", who[300], peer[64];
	uint64_t held = 0;

	if (s && !s->term_cause) /* RFC 2866 §5.10 */
		s->term_cause = ev->reason == IKE_REASON_DELETED_PEER ? RADIUS_TERM_USER_REQUEST
				: ev->reason == IKE_REASON_TIMEOUT	  ? RADIUS_TERM_LOST_SERVICE
				: ev->reason == IKE_REASON_DELETED_LOCAL ? RADIUS_TERM_ADMIN_RESET
									  : RADIUS_TERM_NAS_REQUEST;
	if (s)
		ikesa_free(d, s, now); /* its addresses go back to the pool */
	/* The engine reports each CHILD_SA's end; any left (a rekeyed IKE SA
	 * hands its children over and has none) go with their IKE SA. */
	if (ev->reason != IKE_REASON_REKEYED)
		while (*pp) {
			struct tunnel *t = *pp;

			if (t->sa_id != ev->sa_id) {
				pp = &t->next;
				continue;
			}
			*pp = t->next;
			tunnel_free(d, t);
		}
	if (ev->reason == IKE_REASON_REKEYED) {
		log_info("%s: IKE SA #%u replaced by its rekey", c->cfg.name, ev->sa_id);
		return;
	}
	/* An SA that never came up can be any sender's doing (a wrong key,
	 * a flood of half-open SAs timing out): 5 lines a second at most. */
	if (!was_up && !log_limit_ok(&c->failed_log, now, 5, &held)) {
		after_down(c, ev->reason, now);
		return;
	}
	if (held)
		snprintf(more, sizeof(more), " (and %llu more failures not logged)",
			 (unsigned long long)held);
	if (ev->peer_id.type)
		ike_id_str(&ev->peer_id, who, sizeof(who));
	else
		snprintf(who, sizeof(who), "(no ID)");
	/* Who refused whom, why, and which identity (an operator debugging
	 * a client needs all three). */
	if (ev->auth_err)
		log_warn("%s: IKE SA #%u %s: we refused the AUTH of %s from %s: %s%s", c->cfg.name,
			 ev->sa_id, was_up ? "down" : "failed", who,
			 ike_addr_str(&ev->path.remote, peer, sizeof(peer)),
			 ike_cert_strerror(ev->auth_err), more);
	else if (ev->reason == IKE_REASON_AUTH_FAILED)
		log_warn("%s: IKE SA #%u %s: %s refused our AUTH (AUTHENTICATION_FAILED): our "
			 "credentials or identity are not what it expects%s",
			 c->cfg.name, ev->sa_id, was_up ? "down" : "failed",
			 ike_addr_str(&ev->path.remote, peer, sizeof(peer)), more);
	else if (ev->notify)
		log_info("%s: IKE SA #%u %s: %s (notify %u)%s", c->cfg.name, ev->sa_id,
			 was_up ? "down" : "failed", ike_reason_name(ev->reason), ev->notify, more);
	else
		log_info("%s: IKE SA #%u %s: %s%s", c->cfg.name, ev->sa_id,
			 was_up ? "down" : "failed", ike_reason_name(ev->reason), more);
	after_down(c, ev->reason, now);
}

/*
 * A peer's proposals we refused (NO_PROPOSAL_CHOSEN): say what it offered
 * and what we accept, as strongSwan does, at most once a second per
 * connection (an unauthenticated peer can send one per datagram).
 */
static void on_refused(struct conn *c, const struct ike_event *ev, uint64_t now)
{
	char peer[64], more[64] = "";
	uint64_t held;

	if (!log_limit_ok(&c->refused_log, now, 1, &held))
		return;
	if (held)
		snprintf(more, sizeof(more), " (and %llu more refusals not logged)",
			 (unsigned long long)held);
	log_warn("%s: no acceptable %s proposal from %s: it offered %s; we accept %s%s%s",
		 c->cfg.name, ev->offered_ike ? "IKE" : "ESP",
		 ike_addr_str(&ev->path.remote, peer, sizeof(peer)),
		 ev->offered[0] ? ev->offered : "nothing",
		 ev->offered_ike ? (c->cfg.proposals[0] ? c->cfg.proposals : "default")
				 : (c->cfg.esp_proposals[0] ? c->cfg.esp_proposals : "default"),
		 /* Windows' default offer: name the option that admits it. */
		 !(c->icfg.allow_legacy & IKE_LEGACY_SHA1) &&
			 (strstr(ev->offered, "sha1") || strstr(ev->offered, "modp1024"))
		     ? " (SHA-1 and MODP 1024 are legacy: tunsec.legacy = yes admits Windows' "
		       "default suite)"
		     : "",
		 more);
}

static struct conn *conn_by_peer(struct daemon *d, uint32_t peer)
{
	for (size_t i = 0; i < d->n_conns; i++)
		if (d->conns[i]->peer == peer)
			return d->conns[i];
	return NULL;
}

/* The identity a lease is sticky to: the peer's authenticated ID, type
 * first (the same bytes as an FQDN and as a key ID are not one client). */
static size_t lease_id(const struct ike_identity *id, uint8_t out[1 + IKE_ID_MAX])
{
	out[0] = id->type;
	memcpy(out + 1, id->data, id->len);
	return 1 + (size_t)id->len;
}

static void add_addr(struct ike_addr *v, size_t *n, size_t cap, int family, const uint8_t *a)
{
	if (*n >= cap)
		return;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].family = (uint8_t)family;
	memcpy(v[*n].addr, a, family == AF_INET ? 4 : 16);
	(*n)++;
}

/* One address of family fam from c's pools (in their order), sticky to
 * the identity; its pool's servers and subnets go into ans. */
static bool lease_one(struct daemon *d, struct conn *c, struct conn_ikesa *s, int fam,
		      const uint8_t *want, const uint8_t *id, size_t id_len, uint64_t now,
		      struct ike_cp_reply *ans)
{
	for (unsigned i = 0; i < c->cfg.n_pools; i++) {
		struct pool *p = c->cfg.pools[i] < d->n_pools ? d->pools[c->cfg.pools[i]] : NULL;
		const struct cfg_pool *pc = p ? pool_cfg(p) : NULL;
		struct conn_lease *l = &s->leases[s->n_leases];

		if (!pc || pc->family != fam || s->n_leases >= IKE_CP_MAX_ADDRS ||
		    pool_acquire(p, id, id_len, want, now / 1000000, l->addr) < 0)
			continue;
		l->pool = p;
		s->n_leases++;
		add_addr(ans->addrs, &ans->n_addrs, IKE_CP_MAX_ADDRS, fam, l->addr);
		for (unsigned k = 0; k < pc->n_dns; k++)
			add_addr(ans->dns, &ans->n_dns, IKE_CP_MAX_SERVERS, pc->dns[k].family,
				 pc->dns[k].addr);
		for (unsigned k = 0; k < pc->n_nbns; k++)
			add_addr(ans->nbns, &ans->n_nbns, IKE_CP_MAX_NBNS, AF_INET, pc->nbns[k].addr);
		for (unsigned k = 0; k < pc->n_split_include && ans->n_subnets < IKE_CP_MAX_SUBNETS;
		     k++) {
			struct ike_prefix *x = &ans->subnets[ans->n_subnets++];

			x->family = (uint8_t)pc->split_include[k].family;
			x->len = (uint8_t)pc->split_include[k].prefix;
			memcpy(x->addr, pc->split_include[k].addr, 16);
		}
		return true;
	}
	return false;
}

/*
 * IKE_EV_NEED, IKE_NEED_CP (RFC 7296 §2.19): addresses for a client from
 * its connection's pools, then the engine goes on with IKE_AUTH. A pool
 * that is full (or none of the family asked) gives none: the engine
 * answers INTERNAL_ADDRESS_FAILURE, and we say so.
 */
static void on_need(struct daemon *d, struct conn *c, const struct ike_event *ev, uint64_t now)
{
	const struct ike_cp_request *rq = &ev->cp_req;
	struct conn_ikesa *s = ikesa_find(d, ev->sa_id);
	uint8_t id[1 + IKE_ID_MAX], v4[16] = {0}, v6[16];
	size_t id_len = lease_id(&ev->peer_id, id);
	struct ike_answer ans;
	char who[300];

	memset(&ans, 0, sizeof(ans));
	ans.need = IKE_NEED_CP;
	if (!s && !(s = ikesa_new(d, c, ev->sa_id))) {
		ike_engine_resume(d->ike, ev->sa_id, &ans, now); /* ok = false */
		return;
	}
	s->peer_id = ev->peer_id;
	memcpy(v4, rq->want4, 4);
	memcpy(v6, rq->want6, 16);
	/* RFC 2865 §5.8: the RADIUS server chose the address (from one of
	 * the connection's pools: they are what is routed here) */
	const struct radsess_user *ru = s->rad ? radsess_user(s->rad) : NULL;

	if (rq->v4 && ru && ru->has_framed_ip) {
		char want[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, ru->framed_ip, want, sizeof(want));
		if (!lease_one(d, c, s, AF_INET, ru->framed_ip, id, id_len, now, &ans.cp) ||
		    memcmp(s->leases[s->n_leases - 1].addr, ru->framed_ip, 4) != 0)
			log_warn("%s: IKE SA #%u: Framed-IP-Address %s from RADIUS is in none of "
				 "the connection's pools, or taken: %s",
				 c->cfg.name, ev->sa_id, want,
				 ans.cp.n_addrs ? "gave another address" : "no address");
	} else if (rq->v4)
		lease_one(d, c, s, AF_INET, rq->want4_set ? v4 : NULL, id, id_len, now, &ans.cp);
	if (rq->v6)
		lease_one(d, c, s, AF_INET6, rq->want6_set ? v6 : NULL, id, id_len, now, &ans.cp);
	ans.ok = ans.cp.n_addrs > 0;
	if (!ans.ok) {
		ike_id_str(&ev->peer_id, who, sizeof(who));
		log_warn("%s: no virtual IP for %s: %s", c->cfg.name, who,
			 c->cfg.n_pools ? "its pools are full (or of another address family)"
					: "the connection has no pools");
	}
	if (ike_engine_resume(d->ike, ev->sa_id, &ans, now) < 0)
		ikesa_free(d, s, now); /* the SA is gone: so are its leases */
}

/*
 * IKE_EV_NEED, IKE_NEED_EAP (RFC 7296 §2.16): the next EAP message, from
 * the local EAP-MSCHAPv2 server or peer (daemon/eapauth.h). A failure is
 * logged (rate-limited with the connection's failures: an unauthenticated
 * peer can cause them) and ends the IKE SA in the engine.
 */
static void eap_resume(struct daemon *d, struct conn *c, struct conn_ikesa *s,
		       struct ike_answer *ans, const char *why, uint64_t now);
static void drain(struct daemon *d, uint64_t now);

/*
 * A new authentication round's EAP (RFC 4739: a user's login after the
 * machine's certificate) is a new conversation: what the last round left
 * is wiped first. A RADIUS session that admitted the first round's user
 * stays (its attributes and accounting are the IKE SA's, as with one
 * round) unless this round asks RADIUS again: then its answer counts.
 */
static void eap_new_round(struct conn_ikesa *s, uint8_t round, bool radius)
{
	eapauth_free(s->eap);
	s->eap = NULL;
	if (radius) {
		radsess_free(s->rad);
		s->rad = NULL;
	}
	s->eap_round = round;
}

/* The EAP-TLS credentials of a round and role (eapauth_load()). */
static const struct eap_tls_creds *eap_tls_of(const struct conn *c, uint8_t round, bool server)
{
	return round == 2 ? c->eap_tls2[server] : c->eap_tls;
}

static void on_need_eap(struct daemon *d, struct conn *c, const struct ike_event *ev,
			uint64_t now)
{
	struct conn_ikesa *s = ikesa_find(d, ev->sa_id);
	/* the round's settings (0 from an engine without rounds: the first) */
	uint8_t round = ev->auth_round == 2 ? 2 : 1;
	const struct cfg_end *me, *peer;
	struct ike_answer ans;
	char why[300];

	if (!s && !(s = ikesa_new(d, c, ev->sa_id))) {
		memset(&ans, 0, sizeof(ans));
		ans.need = IKE_NEED_EAP;
		ans.eap_status = IKE_EAP_FAILURE;
		ike_engine_resume(d->ike, ev->sa_id, &ans, now);
		return;
	}
	/* who it claims to be, for the log (IKE_UP sets whom it proved) */
	if (!s->up)
		s->peer_id = ev->peer_id;
	eapauth_ends(&c->cfg, round, ev->eap_server, &me, &peer);
	if (s->eap_round != round)
		eap_new_round(s, round, ev->eap_server && peer->auth == CFG_AUTH_EAP_RADIUS);
	if (peer->auth == CFG_AUTH_EAP_RADIUS && ev->eap_server && d->radius) {
		/* 0: an Access-Request went out; RADIUS answers (radius_drain) */
		if (radsess_answer(&s->rad, d->radius, ev, peer->eap_id, s, &ans, why, sizeof(why),
				   now) == 0) {
			radhub_flush(d->radius);
			return;
		}
	} else {
		char tls[96];

		eapauth_answer(&s->eap, &d->cfg, me, peer, eap_tls_of(c, round, ev->eap_server), ev,
			       &ans, why, sizeof(why));
		if (ans.eap_status == IKE_EAP_SUCCESS && eapauth_tls_summary(s->eap, tls, sizeof(tls)))
			log_info("%s: IKE SA #%u: EAP-TLS over %s", c->cfg.name, s->id, tls);
		if (ans.eap_status != IKE_EAP_CONTINUE) {
			eapauth_free(s->eap);
			s->eap = NULL;
		}
	}
	eap_resume(d, c, s, &ans, why, now);
}

/* Hand an EAP round's answer to the engine; say why it failed. */
static void eap_resume(struct daemon *d, struct conn *c, struct conn_ikesa *s,
		       struct ike_answer *ans, const char *why, uint64_t now)
{
	char who[300], more[64] = "";
	uint64_t held;
	uint32_t sa_id = s->id;

	/* (why: a reason, which may come with a CONTINUE that carries an
	 * EAP-TLS alert to the peer; logged once) */
	if (why[0] && log_limit_ok(&c->failed_log, now, 5, &held)) {
		ike_id_str(&s->peer_id, who, sizeof(who));
		if (held)
			snprintf(more, sizeof(more), " (and %llu more failures not logged)",
				 (unsigned long long)held);
		log_warn("%s: IKE SA #%u: EAP with %s failed: %s%s", c->cfg.name, sa_id, who,
			 why, more);
	}
	/* (an SA that ends says so with IKE_DOWN, which frees s; one the
	 * engine no longer has, e.g. timed out half-open, does not) */
	if (ike_engine_resume(d->ike, sa_id, ans, now) < 0 && !s->up)
		ikesa_free(d, s, now);
	sodium_memzero(ans, sizeof(*ans)); /* the MSK */
}

/* RFC 2865 §5.25: Class is octets, compared whole with a group's name. */
static bool groups_have(const struct cfg_end *r, const struct radsess_user *u)
{
	for (unsigned i = 0; i < r->n_groups; i++)
		if (strlen(r->groups[i]) == u->class_len &&
		    memcmp(r->groups[i], u->class_, u->class_len) == 0)
			return true;
	return false;
}

/* The Class for a log line: what is not printable ASCII as '?'. */
static char *class_str(const struct radsess_user *u, char *buf, size_t cap)
{
	size_t n = u->class_len < cap - 1 ? u->class_len : cap - 1;

	for (size_t i = 0; i < n; i++)
		buf[i] = u->class_[i] >= 0x20 && u->class_[i] < 0x7f ? (char)u->class_[i] : '?';
	buf[n] = '\0';
	return buf;
}

/* "NAME (g1, g2)NOTE" at the end of buf ("; " before it unless the
 * first): a connection's groups tried. */
static void groups_tried(char *buf, size_t cap, const struct conn *c, const struct cfg_end *r,
			 const char *note)
{
	size_t n = strlen(buf);

	snprintf(buf + n, cap - n, "%s%s (", n ? "; " : "", c->cfg.name);
	for (unsigned i = 0; i < r->n_groups; i++) {
		n = strlen(buf);
		snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", r->groups[i]);
	}
	n = strlen(buf);
	snprintf(buf + n, cap - n, ")%s", note);
}

/* The same identity, or both unset (type 0: %any) */
static bool id_alike(const struct ike_identity *a, const struct ike_identity *b)
{
	return id_same(a, b) || (!a->type && !b->type);
}

/*
 * Whether an IKE SA of connection c could run under o as far as the daemon
 * can tell from the configuration: the same identities and methods each
 * way, in as many rounds, and virtual IPs alike. The engine checks the
 * rest when it moves the SA (addresses, IKE and ESP proposals: struct
 * ike_answer's peer) and answers EAP-Failure if o does not fit.
 */
static bool could_move(const struct conn *c, const struct conn *o)
{
	const struct ike_config *a = &c->icfg, *b = &o->icfg;

	/* (the configured methods: the engine knows EAP, not which) */
	return c->cfg.local.auth == o->cfg.local.auth && c->cfg.remote.auth == o->cfg.remote.auth &&
	       c->cfg.remote2.auth == o->cfg.remote2.auth && a->remote_eap2 == b->remote_eap2 &&
	       a->assign_vips == b->assign_vips && id_alike(&a->local_id, &b->local_id) &&
	       id_alike(&a->remote_id, &b->remote_id) && id_alike(&a->remote_id2, &b->remote_id2);
}

/*
 * remote.groups (of the round RADIUS answered for: remote-2's in a
 * second): the Access-Accept's Class must be one of them (strongSwan's
 * eap-radius class_group); a connection without groups admits everyone.
 * If the Class is not, strongSwan re-selects the peer config among those
 * the exchange fits, and so do we: the IKE SA moves to the first other
 * connection, in the file's order, whose remote.auth of that round is
 * eap-radius with groups that hold the Class and that could_move() to
 * (ans->peer; the engine has the last word). The connection chosen, or
 * NULL: the SA stays, or (none found) the login fails with EAP-Failure in
 * place of the Success, and why lists the groups tried.
 */
static struct conn *check_groups(struct daemon *d, struct conn_ikesa *s, struct ike_answer *ans,
				 char *why, size_t cap)
{
	const struct cfg_end *me, *r;
	const struct radsess_user *u = radsess_user(s->rad);
	struct conn *c = s->conn;
	char tried[400] = "", cls[80];

	eapauth_ends(&c->cfg, s->eap_round, true, &me, &r);
	if (!r->n_groups || groups_have(r, u))
		return NULL;
	for (size_t i = 0; i < d->n_conns; i++) {
		struct conn *o = d->conns[i];
		const struct cfg_end *orr;
		bool fits = o == c || could_move(c, o);

		/* (without a second round, eapauth_ends() gives the first's) */
		if (s->eap_round == 2 && !o->cfg.has_remote2)
			continue;
		eapauth_ends(&o->cfg, s->eap_round, true, &me, &orr);
		if (orr->auth != CFG_AUTH_EAP_RADIUS || !orr->n_groups)
			continue;
		if (o != c && fits && groups_have(orr, u)) {
			ans->peer = o->peer;
			return o;
		}
		groups_tried(tried, sizeof(tried), o, orr,
			     fits ? "" : " with other identities, methods or rounds");
	}
	snprintf(why, cap,
		 "RADIUS admitted %.200s, but its Class %s is none of %s: groups tried: %s",
		 u->name, class_str(u, cls, sizeof(cls)),
		 s->eap_round == 2 ? "the second round's groups" : "remote.groups", tried);
	sodium_memzero(ans->msk, sizeof(ans->msk));
	ans->msk_len = 0;
	ans->eap_status = IKE_EAP_FAILURE;
	ans->eap[0] = 4; /* EAP-Failure (RFC 3748 §4.2), same Identifier */
	ans->eap_len = 4;
	ans->eap[2] = 0;
	ans->eap[3] = 4;
	return NULL;
}

/*
 * After an answer that moves IKE SA id from connection `from` to `to`
 * (check_groups()) and the events it caused: the engine moved it, or it
 * found that `to` does not fit the exchange, answered EAP-Failure and
 * ended the SA (whose IKE_DOWN freed the record). The record follows the
 * SA at once: a reload that removes `from` before the SA's next event must
 * not take it along.
 */
static void groups_moved(struct daemon *d, struct conn *from, struct conn *to, uint32_t id,
			 const char *cls, uint64_t now)
{
	struct conn_ikesa *s = ikesa_find(d, id);
	uint64_t held;

	if (s) {
		ikesa_move(s, to);
		log_info("%s: IKE SA #%u: RADIUS Class %s: moved to connection %s", from->cfg.name,
			 id, cls, to->cfg.name);
	} else if (log_limit_ok(&from->failed_log, now, 5, &held)) {
		log_warn("%s: IKE SA #%u: RADIUS Class %s: connection %s does not fit the exchange "
			 "(its addresses or proposals differ): refused with EAP-Failure",
			 from->cfg.name, id, cls, to->cfg.name);
	}
}

/* What the RADIUS servers answered: the next EAP round of the IKE SA that
 * asked (its user pointer), or an accounting request's fate. */
static void radius_drain(struct daemon *d, uint64_t now)
{
	struct radius_event ev;

	radhub_flush(d->radius);
	while (radhub_poll(d->radius, &ev) == 1) {
		struct conn_ikesa *s = ev.user;
		struct conn *from, *to = NULL;
		struct ike_answer ans;
		char why[768], cls[80] = "";
		uint32_t id;

		if (!s) {
			if (ev.type == RADIUS_EV_TIMEOUT)
				log_warn("RADIUS: no server answered an Accounting-Request");
			radius_event_wipe(&ev);
			continue;
		}
		radsess_result(s->rad, &ev, &ans, why, sizeof(why));
		radius_event_wipe(&ev);
		if (ans.eap_status == IKE_EAP_SUCCESS)
			to = check_groups(d, s, &ans, why, sizeof(why));
		if (to)
			class_str(radsess_user(s->rad), cls, sizeof(cls));
		from = s->conn;
		id = s->id;
		eap_resume(d, from, s, &ans, why, now); /* (may free s) */
		drain(d, now);
		if (to)
			groups_moved(d, from, to, id, cls, now);
	}
	radhub_flush(d->radius);
}

/* Send what the engine queued and act on its events. */
static void drain(struct daemon *d, uint64_t now)
{
	uint8_t buf[IKE_ENGINE_MSG_MAX + 64];
	struct ike_path path;
	struct ike_event ev;
	ssize_t n;

	/* Events first: a CHILD_SA we answered is installed before its
	 * response leaves (the peer may send on it as soon as it has that). */
	while (ike_engine_poll_event(d->ike, &ev) == 1) {
		struct conn *c = conn_by_peer(d, ev.peer);
		struct conn_ikesa *s;

		/* A connection removed by a reload: its SAs were dropped from
		 * the data plane with it; what the engine still says of them
		 * (their Deletes being answered) concerns nobody. */
		if (!c) {
			ike_event_wipe(&ev);
			continue;
		}
		/* The engine's word on which connection an SA runs under is
		 * the last (it moves one after EAP: ike_answer's peer). */
		if (ev.sa_id && (s = ikesa_find(d, ev.sa_id)) && s->conn != c)
			ikesa_move(s, c);
		switch (ev.type) {
		case IKE_EV_IKE_UP:
			on_ike_up(d, c, &ev, now);
			break;
		case IKE_EV_IKE_DOWN:
			on_ike_down(d, c, &ev, now);
			break;
		case IKE_EV_CHILD_UP:
			on_child_up(d, c, &ev, now);
			break;
		case IKE_EV_CHILD_DOWN:
			on_child_down(d, c, &ev, now);
			break;
		case IKE_EV_REFUSED:
			on_refused(c, &ev, now);
			break;
		case IKE_EV_CHILD_FAILED:
			log_warn("%s/%s: CHILD_SA refused: %s (notify %u)", c->cfg.name,
				 c->cfg.child_name, ike_reason_name(ev.reason), ev.notify);
			break;
		case IKE_EV_NEED:
			if (ev.need == IKE_NEED_EAP)
				on_need_eap(d, c, &ev, now);
			else
				on_need(d, c, &ev, now);
			break;
		}
		ike_event_wipe(&ev);
	}
	/* (A CHILD_UP may also have queued a Delete: install failure.) */
	while ((n = ike_engine_poll_tx(d->ike, &path, buf, sizeof(buf))) > 0)
		ike_send(d, &path, buf, (size_t)n);
}

static int initiate(struct daemon *d, struct conn *c, uint64_t now)
{
	struct ike_path path;
	char peer[64];
	int rc = initiate_path(d, c, &path);

	if (rc < 0) {
		log_warn("%s: cannot initiate: %s", c->cfg.name,
			 rc == -EDESTADDRREQ ? "remote_addrs names no host address"
					     : "no route to the peer");
		return rc;
	}
	rc = ike_engine_initiate(c->e, &path, now);
	if (rc < 0) {
		log_warn("%s: cannot initiate: %s", c->cfg.name, ike_err_name(rc));
		return rc;
	}
	c->initiations++;
	log_info("%s: initiating IKE SA #%d to %s", c->cfg.name, rc,
		 ike_addr_str(&path.remote, peer, sizeof(peer)));
	drain(d, now);
	return 0;
}

/* ---- set-up ---------------------------------------------------------------- */

/* An unset local.id is our IP address (strongSwan's default). */
static int default_local_id(struct daemon *d, struct conn *c, struct ike_identity *id)
{
	struct ike_path p;

	if (initiate_path(d, c, &p) < 0) {
		const struct cfg_conn *cc = &c->cfg;
		unsigned i;

		for (i = 0; i < cc->n_local_addrs && !prefix_is_host(&cc->local_addrs[i]); i++)
			;
		if (i == cc->n_local_addrs)
			return -1;
		p.local.family = (uint8_t)cc->local_addrs[i].family;
		memcpy(p.local.addr, cc->local_addrs[i].addr, 16);
	}
	id->type = p.local.family == AF_INET ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
	id->len = (uint8_t)fam_len(p.local.family);
	memcpy(id->data, p.local.addr, id->len);
	return 0;
}

/* 0.0.0.0/0 and/or ::/0, any port and protocol. */
static void sels_any(struct esp_sel *out, size_t *n, bool v4, bool v6)
{
	*n = 0;
	for (int k = 0; k < 2; k++) {
		struct esp_sel *s;

		if (!(k ? v6 : v4))
			continue;
		s = &out[(*n)++];
		memset(s, 0, sizeof(*s));
		s->family = k ? AF_INET6 : AF_INET;
		s->port_hi = 65535;
		memset(s->end, 0xff, k ? 16 : 4);
	}
}

static void sels_default(struct esp_sel *out, size_t *n, const struct esp_sel *cfg, unsigned ncfg,
			 const struct cfg_prefix *hosts, unsigned nhosts, const struct ike_path *p,
			 bool local)
{
	*n = 0;
	if (ncfg) {
		memcpy(out, cfg, ncfg * sizeof(*cfg));
		*n = ncfg;
		return;
	}
	/* `dynamic`: the IKE address of that side. Without one known here
	 * (responder with %any), any address of the family: the initiator
	 * narrows it (RFC 7296 §2.9). */
	for (unsigned i = 0; i < nhosts && *n < ESP_MAX_SELS; i++) {
		struct esp_sel *s = &out[(*n)++];

		memset(s, 0, sizeof(*s));
		s->family = (uint8_t)hosts[i].family;
		s->port_hi = 65535;
		memcpy(s->start, hosts[i].addr, 16);
		memcpy(s->end, hosts[i].addr, 16);
		{
			unsigned bits = hosts[i].prefix, len = (unsigned)fam_len(s->family);

			for (unsigned b = 0; b < len * 8; b++)
				if (b >= bits) {
					s->start[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
					s->end[b / 8] |= (uint8_t)(0x80 >> (b % 8));
				}
		}
	}
	if (*n)
		return;
	if (p) {
		const struct ike_addr *a = local ? &p->local : &p->remote;
		struct esp_sel *s = &out[(*n)++];

		memset(s, 0, sizeof(*s));
		s->family = a->family;
		s->port_hi = 65535;
		memcpy(s->start, a->addr, 16);
		memcpy(s->end, a->addr, 16);
		return;
	}
	for (int f = 0; f < 2; f++) {
		struct esp_sel *s = &out[(*n)++];

		memset(s, 0, sizeof(*s));
		s->family = f ? AF_INET6 : AF_INET;
		s->port_hi = 65535;
		memset(s->end, 0xFF, fam_len(s->family));
	}
}

/* Files read through daemon/priv.h (root-only ones too, after the privilege
 * drop); each at most 1 MiB, as ike_creds_load() takes them. */
#define CRED_FILE_MAX (1u << 20)

static void blobs_wipe(struct ike_cred_blob *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].data) {
			sodium_memzero((void *)b[i].data, b[i].len); /* keys among them */
			free((void *)b[i].data);
		}
	free(b);
}

/* local.certs with every private key file of kc (the configuration being
 * loaded: a reload may name keys the running one did not; the one matching
 * the first certificate is kept), remote.cacerts as trust anchors. */
static int conn_creds(const struct tunsec_config *kc, struct conn *c, char *err, size_t cap)
{
	const struct cfg_conn *cc = &c->cfg;
	size_t nc = cc->local.auth == CFG_AUTH_PUBKEY ? cc->local.n_certs : 0;
	size_t nk = cc->local.auth == CFG_AUTH_PUBKEY ? kc->n_key_files : 0;
	size_t na = cc->remote.auth == CFG_AUTH_PUBKEY ? cc->remote.n_certs : 0;
	size_t n = nc + nk + na;
	struct ike_cred_blob *b;
	char lerr[256];
	const char *p = NULL;
	unsigned k;

	if (cc->local.auth != CFG_AUTH_PUBKEY && cc->remote.auth != CFG_AUTH_PUBKEY)
		return 0;
	if (!(b = calloc(n ? n : 1, sizeof(*b)))) {
		snprintf(err, cap, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = i < nc ? cc->local.certs[i]
				   : i < nc + nk ? kc->key_files[i - nc]
						 : cc->remote.certs[i - nc - nk];
		int rc = priv_read(path, (uint8_t **)&b[i].data, &b[i].len, CRED_FILE_MAX);

		if (rc < 0) {
			snprintf(err, cap, "%s: cannot read it: %s", path,
				 rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
			blobs_wipe(b, n);
			return -EINVAL;
		}
	}
	c->creds = ike_creds_load_mem(b, nc, b + nc, nk, b + nc + nk, na, lerr, sizeof(lerr));
	blobs_wipe(b, n);
	if (c->creds)
		return 0;
	/* Name the file rather than its position (as ike_creds_load()). */
	if (sscanf(lerr, "certificate %u", &k) == 1 && k >= 1 && k <= nc)
		p = cc->local.certs[k - 1];
	else if (sscanf(lerr, "private key %u", &k) == 1 && k >= 1 && k <= nk)
		p = kc->key_files[k - 1];
	else if (sscanf(lerr, "CA certificate %u", &k) == 1 && k >= 1 && k <= na)
		p = cc->remote.certs[k - 1];
	snprintf(err, cap, "%s%s%s", p ? p : "", p ? ": " : "",
		 p && strchr(lerr, ':') ? strchr(lerr, ':') + 2 : lerr);
	return -EINVAL;
}

/*
 * The IDi of our second round (RFC 4739: a new IDi comes before its
 * EAP): local-2.id; without one its eap_id, the user's name (an e-mail
 * address when it has an @, else a name: as an EAP server names its
 * users); without either, the first round's. (strongSwan takes the
 * round's id too, but defaults it to our address, which says nothing of
 * the user a second round is for.)
 */
static void round2_local_id(const struct cfg_conn *cc, const struct ike_identity *first,
			    struct ike_identity *out)
{
	const char *name = cc->local2.eap_id;

	if (cc->local2.id.type)
		*out = cc->local2.id;
	else if (name[0])
		eapauth_user_id((const uint8_t *)name, strlen(name), out);
	else
		*out = *first;
}

/* An unset local.id with a certificate is its subject (strongSwan). */
static int cert_local_id(struct conn *c, struct ike_identity *id)
{
	return c->creds && ike_creds_subject_id(c->creds, id) == 0 ? 0 : -1;
}

/*
 * A connection of cc, a peer of the engine, with its credentials loaded
 * (key files from kc) and its IKE settings checked; nothing else of the
 * daemon is touched, so conn_free(d, c, true) undoes it all. NULL with
 * "NAME: reason" in err (not logged: a reload answers with it).
 */
static uint8_t auth_method(enum cfg_auth a)
{
	if (cfg_auth_is_eap(a))
		return IKE_AUTHBY_EAP;
	return a == CFG_AUTH_PUBKEY ? IKE_AUTHBY_PUBKEY : IKE_AUTHBY_PSK;
}

static struct conn *conn_new(struct daemon *d, const struct cfg_conn *cc,
			     const struct tunsec_config *kc, char *err, size_t cap)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct ike_config *ic;
	struct ike_path p, *pp;
	char why[512];
	int rc;

	if (!c) {
		snprintf(err, cap, "%s: out of memory", cc->name);
		return NULL;
	}
	c->cfg = *cc;
	ic = &c->icfg;
	if (conn_creds(kc, c, why, sizeof(why)) < 0 ||
	    eapauth_load(kc, cc, 1, false, &c->eap_tls, why, sizeof(why)) < 0 ||
	    eapauth_load(kc, cc, 2, false, &c->eap_tls2[0], why, sizeof(why)) < 0 ||
	    eapauth_load(kc, cc, 2, true, &c->eap_tls2[1], why, sizeof(why)) < 0)
		goto fail;
	ic->local_id = cc->local.id;
	if (!ic->local_id.type && cc->local.auth == CFG_AUTH_PUBKEY)
		cert_local_id(c, &ic->local_id);
	if (!ic->local_id.type && default_local_id(d, c, &ic->local_id) < 0) {
		snprintf(why, sizeof(why), "no local.id and no local address to take it from");
		goto fail;
	}
	ic->remote_id = cc->remote.id;
	/* RFC 4739: a second round, by EAP (local-2 / remote-2) */
	ic->local_eap2 = cc->has_local2;
	ic->remote_eap2 = cc->has_remote2;
	if (cc->has_local2)
		round2_local_id(cc, &ic->local_id, &ic->local_id2);
	ic->remote_id2 = cc->remote2.id;
	ic->psk = c->cfg.psk;
	ic->psk_len = c->cfg.psk_len;
	ic->ike_proposals = cc->proposals[0] ? c->cfg.proposals : NULL;
	ic->esp_proposals = cc->esp_proposals[0] ? c->cfg.esp_proposals : NULL;
	pp = initiate_path(d, c, &p) == 0 ? &p : NULL;
	sels_default(ic->local_ts, &ic->n_local_ts, cc->local_ts, cc->n_local_ts, cc->local_addrs,
		     cc->n_local_addrs, pp, true);
	sels_default(ic->remote_ts, &ic->n_remote_ts, cc->remote_ts, cc->n_remote_ts,
		     cc->remote_addrs, cc->n_remote_addrs, pp, false);
	/* vips (RFC 7296 §2.19): ask; our traffic is then the virtual IP,
	 * not known yet: propose any address of the family, the server
	 * narrows it (§2.9; strongSwan's dynamic with vips) */
	ic->request_vip4 = cc->vip4;
	ic->request_vip6 = cc->vip6;
	if ((cc->vip4 || cc->vip6) && !cc->n_local_ts)
		sels_any(ic->local_ts, &ic->n_local_ts, cc->vip4, cc->vip6);
	ic->dpd_delay = msecs(cc->dpd_delay);
	ic->retransmit_timeout = d->cfg.retransmit_timeout_ms * 1000000ULL;
	ic->retransmit_base = d->cfg.retransmit_base;
	ic->retransmit_tries = d->cfg.retransmit_tries;
	ic->no_retransmit = d->cfg.no_retransmit;
	ic->cookie_threshold = d->cfg.cookie_threshold;
	ic->initial_contact = true;
	ic->force_encap = cc->encap;
	ic->allow_legacy = config_legacy(&d->cfg);
	ic->no_fragmentation = cc->fragmentation == CFG_FRAG_NO;
	ic->local_auth = auth_method(cc->local.auth);
	ic->remote_auth = auth_method(cc->remote.auth);
	ic->creds = c->creds;
	ic->send_certreq = cc->send_certreq;
	ic->send_cert = cc->send_cert == CFG_CERT_ALWAYS  ? IKE_SEND_CERT_ALWAYS
			: cc->send_cert == CFG_CERT_NEVER ? IKE_SEND_CERT_NEVER
							  : IKE_SEND_CERT_IFASKED;
	if (ike_config_check(ic, why, sizeof(why)) < 0)
		goto fail;
	/* Where the connection applies: the engine picks it for a new
	 * IKE_SA_INIT by these (then by IDs at IKE_AUTH). */
	for (unsigned i = 0; i < cc->n_local_addrs && i < IKE_MAX_ADDRS; i++)
		ike_prefix_from(&ic->local_addrs[ic->n_local_addrs++], &cc->local_addrs[i]);
	for (unsigned i = 0; i < cc->n_remote_addrs && i < IKE_MAX_ADDRS; i++)
		ike_prefix_from(&ic->remote_addrs[ic->n_remote_addrs++], &cc->remote_addrs[i]);
	ic->unique = cc->unique == CFG_UNIQUE_NEVER     ? IKE_UNIQUE_NEVER
		     : cc->unique == CFG_UNIQUE_KEEP    ? IKE_UNIQUE_KEEP
		     : cc->unique == CFG_UNIQUE_REPLACE ? IKE_UNIQUE_REPLACE
							: IKE_UNIQUE_NO;
	ic->assign_vips = cc->n_pools > 0;
	ic->rank = (unsigned)(cc - kc->conns);
	c->e = d->ike;
	if ((rc = ike_engine_peer_add(d->ike, ic, NULL)) < 0) {
		snprintf(why, sizeof(why), "cannot add it to the IKE engine: %s", ike_err_name(rc));
		goto fail;
	}
	c->peer = (uint32_t)rc;
	c->trap = cc->start_action == CFG_START_TRAP;
	return c;
fail:
	snprintf(err, cap, "%s: %s", cc->name, why);
	ike_creds_free(c->creds);
	eapauth_creds_free(c->eap_tls);
	eapauth_creds_free(c->eap_tls2[0]);
	eapauth_creds_free(c->eap_tls2[1]);
	sodium_memzero(c, sizeof(*c));
	free(c);
	return NULL;
}

/* Free a connection with its SAs in the data plane and its addresses.
 * The engine forgets it (its SAs' Deletes, if conn_down() sent them, run
 * on there); not at exit, where the engine itself goes next. */
static void conn_free(struct daemon *d, struct conn *c, bool leave_engine)
{
	uint64_t now = conn_mono_now();

	lingering_expire(d, c, 0, true);
	while (c->children) {
		struct tunnel *t = c->children;

		c->children = t->next;
		tunnel_free(d, t);
	}
	while (c->sas)
		ikesa_free(d, c->sas, now);
	if (leave_engine && c->peer)
		ike_engine_peer_remove(d->ike, c->peer, now);
	ike_creds_free(c->creds); /* wipes the private key */
	eapauth_creds_free(c->eap_tls); /* (its SAs' conversations went above) */
	eapauth_creds_free(c->eap_tls2[0]);
	eapauth_creds_free(c->eap_tls2[1]);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* Routes for the configured remote selectors, so that a trap sees the
 * packets (dynamic selectors get theirs when a CHILD_SA comes up). */
static void conn_routes(struct daemon *d, const struct conn *c)
{
	struct ike_child_info ci;

	memset(&ci, 0, sizeof(ci));
	memcpy(ci.remote, c->cfg.remote_ts, sizeof(c->cfg.remote_ts));
	ci.n_remote = c->cfg.n_remote_ts;
	child_routes(d, &ci, NULL);
}

/* `tunsecd -t`: our certificates must be valid now, or peers refuse them. */
static void check_own_certs(const struct conn *c)
{
	char why[160];

	for (size_t i = 0; i < ike_creds_n_certs(c->creds) && i < c->cfg.local.n_certs; i++)
		if (ike_creds_cert_validity(c->creds, i, (long long)time(NULL), why, sizeof(why)) > 0)
			log_warn("%s: certificate %s %s: peers will refuse it", c->cfg.name,
				 c->cfg.local.certs[i], why);
}

/* `tunsecd -t`: a local_addrs host address that this host does not have
 * can neither send nor receive IKE (the usual cause: a file written for
 * another host, or an address not configured yet). */
static void check_local_addrs(const struct cfg_conn *cc, const struct ifaddrs *ifa)
{
	for (unsigned k = 0; k < cc->n_local_addrs; k++) {
		const struct cfg_prefix *p = &cc->local_addrs[k];
		size_t alen = p->family == AF_INET ? 4 : 16;
		bool found = false;
		char ip[INET6_ADDRSTRLEN];

		if (!prefix_is_host(p))
			continue;
		for (const struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
			const struct sockaddr *sa = i->ifa_addr;

			if (!sa || sa->sa_family != p->family)
				continue;
			found = memcmp(p->family == AF_INET
					   ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
					   : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr,
				       p->addr, alen) == 0;
		}
		if (!found)
			log_warn("%s: local_addrs %s is not an address of this host: IKE cannot use it "
				 "until it is",
				 cc->name, inet_ntop(p->family, p->addr, ip, sizeof(ip)));
	}
}

int conns_check(const struct tunsec_config *cfg)
{
	struct ifaddrs *ifa = NULL;
	struct daemon d;
	int rc = 0;

	/* conn_new() needs only the configuration from the daemon; the
	 * default local ID falls back to a route lookup, as at start. */
	memset(&d, 0, sizeof(d));
	d.cfg = *cfg;
	if (!(d.ike = ike_engine_create(NULL)))
		return -1;
	if (getifaddrs(&ifa) < 0)
		ifa = NULL;
	for (size_t i = 0; i < cfg->n_conns; i++) {
		char err[768];
		struct conn *c = conn_new(&d, &cfg->conns[i], cfg, err, sizeof(err));

		if (!c) {
			log_err("%s", err);
			rc = -1;
			continue;
		}
		if (c->creds)
			check_own_certs(c);
		if (ifa)
			check_local_addrs(&cfg->conns[i], ifa);
		conn_free(&d, c, false);
	}
	if (ifa)
		freeifaddrs(ifa);
	ike_engine_free(d.ike);
	sodium_memzero(&d, sizeof(d)); /* the copy holds PSK pointers only */
	return rc;
}

/* The engine's debug lines (charon's ike = 2: each message, each
 * retransmission, each liveness check). */
static void ike_log(void *ctx, uint32_t sa_id, const char *line)
{
	if (sa_id)
		log_msg(LOG_DEBUG, "ike #%u: %s", sa_id, line);
	else
		log_msg(LOG_DEBUG, "ike: %s", line);
}

/* The engine-wide settings: the tunsec section's. */
static void engine_opts(const struct tunsec_config *cfg, struct ike_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (log_enabled(LOG_DEBUG))
		o->log = ike_log;
	o->no_cookies = cfg->cookie_threshold == 0;
	o->cookie_threshold = cfg->cookie_threshold;
}

/* The pools of d->cfg; an unchanged one of old (a reload) is kept with
 * its leases. */
static int pools_setup(struct daemon *d, struct pool **old, size_t n_old)
{
	d->pools = calloc(d->cfg.n_pools ? d->cfg.n_pools : 1, sizeof(*d->pools));
	if (!d->pools)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg.n_pools; i++) {
		for (size_t k = 0; k < n_old && !d->pools[i]; k++)
			if (old[k] && memcmp(pool_cfg(old[k]), &d->cfg.pools[i],
					     sizeof(d->cfg.pools[i])) == 0) {
				d->pools[i] = old[k];
				old[k] = NULL;
			}
		if (!d->pools[i] && !(d->pools[i] = pool_new(&d->cfg.pools[i]))) {
			log_err("pools.%s: cannot create it", d->cfg.pools[i].name);
			return -ENOMEM;
		}
		d->n_pools = i + 1;
	}
	return 0;
}

int conns_setup(struct daemon *d)
{
	struct ike_engine_opts o;

	engine_opts(&d->cfg, &o);
	if (!(d->ike = ike_engine_create(&o)) || pools_setup(d, NULL, 0) < 0)
		return -ENOMEM;
	if (d->cfg.radius.n_servers) {
		char err[256];

		/* (its sockets now, before the privilege drop) */
		if (!(d->radius = radhub_new(&d->cfg.radius, err, sizeof(err)))) {
			log_err("%s", err);
			return -EINVAL;
		}
	}
	if (!d->cfg.n_conns)
		return 0;
	d->conns = calloc(d->cfg.n_conns, sizeof(*d->conns));
	if (!d->conns)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg.n_conns; i++) {
		char err[768];
		struct conn *c = conn_new(d, &d->cfg.conns[i], &d->cfg, err, sizeof(err));

		if (!c) {
			log_err("%s", err);
			return -EINVAL;
		}
		d->conns[d->n_conns++] = c;
	}
	return 0;
}

void conns_start(struct daemon *d, uint64_t now)
{
	pools_route(d);
	for (size_t i = 0; i < d->n_conns; i++) {
		struct conn *c = d->conns[i];

		conn_routes(d, c);
		if (c->cfg.start_action == CFG_START_START)
			initiate(d, c, now);
	}
}

/* The ids of every IKE SA of connection c (peer 0: of all), malloc'd;
 * NULL when there are none (or memory is out). */
static uint32_t *sa_ids(struct daemon *d, uint32_t peer, size_t *n)
{
	size_t all = ike_engine_sa_count(d->ike), k = 0;
	struct ike_sa_info *info = all ? calloc(all, sizeof(*info)) : NULL;
	uint32_t *ids = all ? calloc(all, sizeof(*ids)) : NULL;

	*n = 0;
	if (!info || !ids) {
		free(info);
		free(ids);
		return NULL;
	}
	all = ike_engine_sa_list(d->ike, info, all);
	for (size_t j = 0; j < all; j++)
		if (!peer || info[j].peer == peer)
			ids[k++] = info[j].id;
	free(info);
	*n = k;
	return ids;
}

void conns_shutdown(struct daemon *d, uint64_t now)
{
	size_t n;
	uint32_t *ids = sa_ids(d, 0, &n);

	for (size_t j = 0; j < n; j++)
		ike_engine_delete_ike(d->ike, ids[j], now);
	free(ids);
	drain(d, now);
}

void conns_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_conns; i++)
		conn_free(d, d->conns[i], false);
	free(d->conns);
	d->conns = NULL;
	d->n_conns = 0;
	ike_engine_free(d->ike);
	d->ike = NULL;
	radhub_free(d->radius);
	d->radius = NULL;
	htab_free(&d->ikesas);
	for (size_t i = 0; i < d->n_pools; i++)
		pool_free(d->pools[i]);
	free(d->pools);
	d->pools = NULL;
	d->n_pools = 0;
	for (size_t i = 0; i < d->n_old_pools; i++)
		pool_free(d->old_pools[i]);
	free(d->old_pools);
	d->old_pools = NULL;
	d->n_old_pools = 0;
	free(d->pool_routes); /* (the routes themselves: netcfg's undo) */
	d->pool_routes = NULL;
	d->n_pool_routes = 0;
	free(d->ike_txq);
	d->ike_txq = NULL;
}

/* ---- input --------------------------------------------------------------- */

void conns_ike_input(struct daemon *d, const struct ike_path *path, const uint8_t *pkt,
		     size_t len, uint64_t now)
{
	/* The engine finds the SA by its SPI, or the connection a new
	 * IKE_SA_INIT is for by its addresses (and counts what fits none). */
	d->cnt.ike_rx++;
	ike_engine_recv(d->ike, path, pkt, len, now);
	drain(d, now);
}

void conns_radius_input(struct daemon *d, int fd, uint64_t now)
{
	if (!d->radius)
		return;
	radhub_input(d->radius, fd, now);
	radius_drain(d, now);
}

/* The engine's and the RADIUS client's earliest deadline. */
uint64_t conns_next_expiry(struct daemon *d)
{
	uint64_t t = d->ike ? ike_engine_next_expiry(d->ike) : IKE_TIME_NEVER;
	uint64_t r = d->radius ? radhub_next_expiry(d->radius) : IKE_TIME_NEVER;

	return r < t ? r : t;
}

void conns_expire(struct daemon *d, uint64_t now)
{
	if (d->ike && ike_engine_next_expiry(d->ike) <= now) {
		ike_engine_handle_expiry(d->ike, now);
		drain(d, now);
	}
	if (d->radius && radhub_next_expiry(d->radius) <= now) {
		radhub_expire(d->radius, now);
		radius_drain(d, now);
	}
}

/* ---- the tick (conns_tick_ms) ---------------------------------------------- */

static bool over(uint64_t v, uint64_t limit)
{
	return limit && v >= limit;
}

static void child_tick(struct daemon *d, struct conn *c, struct tunnel *t, uint64_t now)
{
	const struct cfg_conn *cc = &c->cfg;
	uint64_t pin = ld(&t->in.stats.packets), pout = ld(&t->out.stats.packets);
	uint64_t bin = ld(&t->in.stats.bytes), bout = ld(&t->out.stats.bytes);
	uint64_t bytes = bin > bout ? bin : bout, pkts = pin > pout ? pin : pout;
	const char *why;

	if (pin != t->seen_in) {
		t->seen_in = pin;
		ike_engine_child_activity(c->e, t->in.spi, now);
		/* The rekey's initiator sends on the new SA: it has it. */
		if (t->out_pending)
			out_take_over(d, c, t, "the peer sends on it");
	}
	if (t->deleting || t->replaced)
		return;
	/* Soft limits first: when both fall due in one tick, the rekey gets
	 * its chance before the hard limit deletes the SA. */
	why = over(bytes, cc->rekey_bytes) ? "rekey_bytes"
	      : over(pkts, cc->rekey_packets) ? "rekey_packets"
	      : t->rekey_at && now >= t->rekey_at ? "rekey_time" : NULL;
	if (!t->rekey_asked && why) {
		t->rekey_asked = true;
		if (ike_engine_rekey_child(c->e, t->in.spi, now) == 0)
			log_info("%s/%s: rekeying CHILD_SA 0x%08x (%s)", cc->name, cc->child_name,
				 t->in.spi, why);
		return;
	}
	why = over(bytes, cc->life_bytes) ? "life_bytes"
	      : over(pkts, cc->life_packets) ? "life_packets"
	      : t->hard_at && now >= t->hard_at ? "life_time" : NULL;
	if (why) {
		log_info("%s/%s: CHILD_SA 0x%08x reached its %s: deleting", cc->name,
			 cc->child_name, t->in.spi, why);
		t->deleting = true;
		ike_engine_delete_child(c->e, t->in.spi, now);
	}
}

static void keepalive(struct daemon *d, const struct conn_ikesa *s)
{
	static const uint8_t ka = NATT_KEEPALIVE_BYTE;
	struct sockaddr_storage to = {0};
	socklen_t len;
	int fd;

	if (s->path.remote.family == AF_INET6) {
		struct sockaddr_in6 *x = (struct sockaddr_in6 *)&to;

		x->sin6_family = AF_INET6;
		x->sin6_port = htons(s->path.remote.port);
		memcpy(&x->sin6_addr, s->path.remote.addr, 16);
		len = sizeof(*x);
		fd = d->udp6_natt;
	} else {
		struct sockaddr_in *x = (struct sockaddr_in *)&to;

		x->sin_family = AF_INET;
		x->sin_port = htons(s->path.remote.port);
		memcpy(&x->sin_addr, s->path.remote.addr, 4);
		len = sizeof(*x);
		fd = d->udp4_natt;
	}
	if (fd >= 0 && sendto(fd, &ka, 1, MSG_DONTWAIT, (struct sockaddr *)&to, len) == 1)
		d->cnt.keepalives_tx++;
}

static void ikesa_tick(struct daemon *d, struct conn *c, struct conn_ikesa *s, uint64_t now)
{
	if (s->closing)
		return;
	if (s->session_end && now >= s->session_end) {
		log_info("%s: IKE SA #%u: RADIUS Session-Timeout reached: deleting", c->cfg.name,
			 s->id);
		s->closing = true;
		s->term_cause = RADIUS_TERM_SESSION_TIMEOUT;
		ike_engine_delete_ike(c->e, s->id, now);
		return;
	}
	if (s->hard_at && now >= s->hard_at) {
		log_info("%s: IKE SA #%u past rekey_time + over_time: deleting", c->cfg.name,
			 s->id);
		s->closing = true;
		ike_engine_delete_ike(c->e, s->id, now);
		return;
	}
	if (s->reauth_at && now >= s->reauth_at) {
		/* Reauthentication (strongSwan's break-before-make): a new
		 * IKE SA with fresh authentication replaces this one. */
		log_info("%s: IKE SA #%u reauthenticating", c->cfg.name, s->id);
		s->closing = true;
		ike_engine_delete_ike(c->e, s->id, now);
		c->restart_at = now + NS_PER_SEC;
		return;
	}
	if (!s->rekey_asked && s->rekey_at && now >= s->rekey_at) {
		s->rekey_asked = true;
		if (ike_engine_rekey_ike(c->e, s->id, now) == 0)
			log_info("%s: rekeying IKE SA #%u", c->cfg.name, s->id);
	}
	/* RFC 3948 §2.3: the side behind the NAT keeps its mapping alive. */
	if (s->behind_nat && d->cfg.keepalive_sec &&
	    now >= s->keepalive_at + secs(d->cfg.keepalive_sec)) {
		s->keepalive_at = now;
		keepalive(d, s);
	}
}

static void shortest(uint64_t *min, uint64_t ms)
{
	if (ms && ms < *min)
		*min = ms;
}

unsigned conns_tick_ms(const struct daemon *d)
{
	uint64_t min = 10000;

	for (size_t i = 0; i < d->n_conns; i++) {
		const struct cfg_conn *cc = &d->conns[i]->cfg;

		shortest(&min, cc->child_rekey_time);
		shortest(&min, cc->child_life_time);
		shortest(&min, cc->rekey_time);
		shortest(&min, cc->reauth_time);
	}
	min /= 10;
	return min < 50 ? 50 : (unsigned)min;
}

void conns_tick(struct daemon *d, uint64_t now)
{
	for (size_t i = 0; i < d->n_conns; i++) {
		struct conn *c = d->conns[i];

		for (struct tunnel *t = c->children; t; t = t->next)
			child_tick(d, c, t, now);
		lingering_expire(d, c, now, false);
		for (struct conn_ikesa *s = c->sas; s; s = s->next) {
			uint64_t at = radsess_interim_at(s->rad);

			if (s->up)
				ikesa_tick(d, c, s, now);
			if (s->up && at && now >= at) /* RFC 2869 §2.1 Interim-Update */
				account(d, s, RADIUS_ACCT_INTERIM, now);
		}
		if (c->restart_at && now >= c->restart_at) {
			c->restart_at = 0;
			initiate(d, c, now);
		}
		drain(d, now);
	}
}

/* ---- traps ------------------------------------------------------------------ */

static void host_sel(struct esp_sel *s, int family, const uint8_t *addr)
{
	memset(s, 0, sizeof(*s));
	s->family = (uint8_t)family;
	s->port_hi = 65535;
	memcpy(s->start, addr, fam_len(family));
	memcpy(s->end, addr, fam_len(family));
}

static bool sels_have(const struct esp_sel *s, size_t n, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (esp_sel_has_addr(&s[i], family, addr))
			return true;
	return false;
}

bool conns_acquire(struct daemon *d, const uint8_t *ip, size_t len, uint64_t now)
{
	const uint8_t *src, *dst;
	struct esp_sel s, t;
	int family;

	if (len >= 20 && ip[0] >> 4 == 4) {
		family = AF_INET;
		src = ip + 12;
		dst = ip + 16;
	} else if (len >= 40 && ip[0] >> 4 == 6) {
		family = AF_INET6;
		src = ip + 8;
		dst = ip + 24;
	} else {
		return false;
	}
	for (size_t i = 0; i < d->n_conns; i++) {
		struct conn *c = d->conns[i];
		struct ike_path path;

		if (!c->trap || now < c->acquire_after ||
		    !sels_have(c->icfg.remote_ts, c->icfg.n_remote_ts, family, dst) ||
		    !sels_have(c->icfg.local_ts, c->icfg.n_local_ts, family, src))
			continue;
		c->acquire_after = now + ACQUIRE_GAP;
		if (initiate_path(d, c, &path) < 0)
			return false;
		host_sel(&s, family, src);
		host_sel(&t, family, dst);
		if (ike_engine_acquire(c->e, &path, &s, &t, now) > 0) {
			c->acquires++;
			d->cnt.acquires++;
		}
		drain(d, now);
		return true;
	}
	return false;
}

/* ---- control ------------------------------------------------------------------ */

static struct conn *conn_by_name(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_conns; i++)
		if (strcmp(d->conns[i]->cfg.name, name) == 0)
			return d->conns[i];
	return NULL;
}

int conn_up(struct daemon *d, const char *name, uint64_t now, char *msg, size_t cap)
{
	struct conn *c = conn_by_name(d, name);

	if (!c) {
		snprintf(msg, cap, "no connection named '%s'", name);
		return -ENOENT;
	}
	if (initiate(d, c, now) < 0) {
		snprintf(msg, cap, "%s: cannot initiate (see the daemon's log)", name);
		return -EINVAL;
	}
	snprintf(msg, cap, "%s: initiating", name);
	return 0;
}

int conn_rekey(struct daemon *d, const char *name, uint64_t now, char *msg, size_t cap)
{
	struct conn *c = conn_by_name(d, name);
	unsigned n = 0;

	if (!c) {
		snprintf(msg, cap, "no connection named '%s'", name);
		return -ENOENT;
	}
	for (struct tunnel *t = c->children; t; t = t->next) {
		if (t->replaced || t->deleting || t->out_pending || t->rekey_asked)
			continue;
		if (ike_engine_rekey_child(c->e, t->in.spi, now) == 0) {
			t->rekey_asked = true;
			log_info("%s/%s: rekeying CHILD_SA 0x%08x (tunsec rekey)", c->cfg.name,
				 c->cfg.child_name, t->in.spi);
			n++;
		}
	}
	drain(d, now);
	if (!n) {
		snprintf(msg, cap, "%s: no CHILD_SA to rekey (none up, or each already rekeying)",
			 name);
		return -EALREADY;
	}
	snprintf(msg, cap, "%s: rekeying %u CHILD_SA%s", name, n, n == 1 ? "" : "s");
	return 0;
}

int conn_down(struct daemon *d, const char *name, uint64_t now, char *msg, size_t cap)
{
	struct conn *c = conn_by_name(d, name);
	uint32_t *ids;
	size_t n;

	if (!c) {
		snprintf(msg, cap, "no connection named '%s'", name);
		return -ENOENT;
	}
	c->restart_at = 0;
	c->trap = c->cfg.start_action == CFG_START_TRAP;
	ids = sa_ids(d, c->peer, &n);
	if (!n) {
		free(ids);
		snprintf(msg, cap, "%s: no IKE SA", name);
		return -EALREADY;
	}
	for (size_t j = 0; j < n; j++) {
		struct conn_ikesa *s = ikesa_find(d, ids[j]);

		if (s)
			s->closing = true;
		ike_engine_delete_ike(d->ike, ids[j], now);
	}
	free(ids);
	drain(d, now);
	snprintf(msg, cap, "%s: deleting %zu IKE SA%s", name, n, n == 1 ? "" : "s");
	return 0;
}

/*
 * Take nc's pools: an unchanged pool keeps its object and leases; a
 * changed or removed one is retired, not freed, while IKE SAs may still
 * hold its addresses (they go back to it when those end).
 */
static int pools_reload(struct daemon *d, struct tunsec_config *nc)
{
	struct pool **old = d->pools, **retired;
	size_t n_old = d->n_pools;
	struct cfg_pool *tp = d->cfg.pools;
	size_t tn = d->cfg.n_pools;

	d->cfg.pools = nc->pools; /* nc frees the old ones */
	d->cfg.n_pools = nc->n_pools;
	nc->pools = tp;
	nc->n_pools = tn;
	d->pools = NULL;
	d->n_pools = 0;
	if (pools_setup(d, old, n_old) < 0)
		return -ENOMEM;
	retired = realloc(d->old_pools, (d->n_old_pools + n_old) * sizeof(*retired));
	if (!retired)
		return -ENOMEM;
	d->old_pools = retired;
	for (size_t k = 0; k < n_old; k++)
		if (old[k])
			d->old_pools[d->n_old_pools++] = old[k];
	free(old);
	return 0;
}

/* A connection of the running set that nc's cc leaves as it is. */
static struct conn *conn_unchanged(struct daemon *d, const struct cfg_conn *cc, bool pools_changed)
{
	struct conn *c = conn_by_name(d, cc->name);

	if (!c || memcmp(cc, &c->cfg, CFG_CONN_CMP_LEN) != 0 || (pools_changed && c->cfg.n_pools))
		return NULL;
	memcpy(c->cfg.where, cc->where, sizeof(c->cfg.where)); /* may have moved */
	return c;
}

/*
 * All or nothing, in two steps. Prepare: every new or changed connection
 * is made whole (credentials read and matched, ike_config_check(), a peer
 * of the engine) next to the running ones, which the loop cannot use
 * meanwhile (one thread). Only if all of them succeed, apply: the
 * connections gone or changed are deleted and the prepared ones take
 * their place. A failure removes what was prepared, so the running
 * connections keep their configuration and SAs, and the answer names the
 * file, line and reason (the CLI exits 1 on "error: ").
 */
int conns_reload(struct daemon *d, uint64_t now, char *msg, size_t cap)
{
	struct tunsec_config nc;
	struct conn **next;
	bool *fresh, pools_changed;
	size_t added = 0, removed = 0, changed = 0, n_next;
	char err[768];
	int rc;

	/* After the privilege drop the helper opens the files; it learns
	 * which from its own parse of the file (daemon/priv.c). */
	if ((rc = priv_reload_begin(d->cfg.path)) < 0) {
		snprintf(msg, cap, "reload failed, nothing changed: the file helper: %s",
			 strerror(-rc));
		return -1;
	}
	if (config_load(&nc, d->cfg.path, err, sizeof(err)) < 0) {
		snprintf(msg, cap, "reload failed, nothing changed: %s", err);
		return -1;
	}
	n_next = nc.n_conns;
	next = calloc(n_next ? n_next : 1, sizeof(*next));
	fresh = calloc(n_next ? n_next : 1, sizeof(*fresh));
	if (!next || !fresh) {
		free(next);
		free(fresh);
		config_free(&nc);
		snprintf(msg, cap, "reload failed, nothing changed: out of memory");
		return -1;
	}
	/* The RADIUS client has requests and accounting sessions in flight,
	 * signed with the servers' secrets: it is set up once, at start. */
	if (memcmp(&nc.radius, &d->cfg.radius, sizeof(nc.radius)) != 0) {
		snprintf(msg, cap,
			 "reload failed, nothing changed: tunsec.radius differs from the "
			 "running one; restart tunsecd to change RADIUS servers");
		log_err("%s", msg);
		free(next);
		free(fresh);
		config_free(&nc);
		return -1;
	}
	/* Pools changed: a connection naming pools is replaced (its
	 * indexes may point elsewhere now). */
	pools_changed = nc.n_pools != d->cfg.n_pools ||
			(nc.n_pools &&
			 memcmp(nc.pools, d->cfg.pools, nc.n_pools * sizeof(*nc.pools)) != 0);

	/* 1. Prepare, in the file's order. */
	for (size_t j = 0; j < n_next; j++) {
		const struct cfg_conn *cc = &nc.conns[j];

		if ((next[j] = conn_unchanged(d, cc, pools_changed)))
			continue;
		next[j] = conn_new(d, cc, &nc, err, sizeof(err));
		if (!next[j]) {
			snprintf(msg, cap, "reload failed, nothing changed: %s: connections.%s",
				 cc->where, err);
			log_err("%s", msg);
			for (size_t k = 0; k < j; k++)
				if (fresh[k])
					conn_free(d, next[k], true);
			free(next);
			free(fresh);
			config_free(&nc);
			return -1;
		}
		fresh[j] = true;
		conn_by_name(d, cc->name) ? changed++ : added++;
	}

	/* 2. Apply: connections gone or changed Delete their SAs and go. */
	for (size_t i = 0; i < d->n_conns; i++) {
		struct conn *c = d->conns[i];
		bool kept = false, named = false;

		for (size_t j = 0; j < n_next && !kept; j++) {
			kept = next[j] == c;
			named = named || strcmp(nc.conns[j].name, c->cfg.name) == 0;
		}
		if (kept)
			continue;
		if (!named)
			removed++;
		conn_down(d, c->cfg.name, now, err, sizeof(err));
		conn_free(d, c, true);
	}
	if (pools_changed && pools_reload(d, &nc) < 0) {
		/* (unlikely: out of memory) the connections left keep theirs */
		log_err("reload: cannot set up the new pools");
	}
	{
		/* The key files of the file now running (nc frees the old). */
		char(*kf)[4096] = d->cfg.key_files;
		size_t nk = d->cfg.n_key_files;

		d->cfg.key_files = nc.key_files;
		d->cfg.n_key_files = nc.n_key_files;
		nc.key_files = kf;
		nc.n_key_files = nk;
	}
	free(d->conns);
	d->conns = next;
	d->n_conns = n_next;
	/* ties between connections go by the new file's order (the engine
	 * would put re-added ones last) */
	for (size_t j = 0; j < n_next; j++)
		ike_engine_peer_rank(d->ike, next[j]->peer, (unsigned)j);
	for (size_t j = 0; j < n_next; j++) {
		if (!fresh[j])
			continue;
		conn_routes(d, next[j]);
		if (next[j]->cfg.start_action == CFG_START_START)
			initiate(d, next[j], now);
	}
	free(fresh);
	if (nc.n_manual != d->cfg.n_manual)
		log_warn("reload: manual tunnels and the tunsec section change only on restart");
	config_free(&nc);
	snprintf(msg, cap, "reloaded: %zu connection%s, %zu new, %zu removed, %zu replaced",
		 d->n_conns, d->n_conns == 1 ? "" : "s", added, removed, changed);
	log_info("%s", msg);
	return 0;
}
