/*
 * The event loop and the data path. All libuv code lives here.
 *
 * We watch raw file descriptors with uv_poll rather than using uv_udp:
 * uv_udp hands out one datagram per callback through an allocation
 * callback, while the data path wants whole batches: recvmmsg() on the
 * sockets, a bounded read loop on the TUN fd, one sendmmsg() per socket per
 * batch. Every wake-up handles at most BATCH packets per descriptor so one
 * busy descriptor cannot starve the others (libuv's own rule).
 *
 * Packet memory: two fixed arrays of PKT_CELL-sized cells allocated once
 * (one for TUN reads, one for socket reads); no allocation per packet. A
 * cell is reused only after the batch that holds it has been sent.
 *
 * With TUN offloads (tun_open_offload, tun/offload.h) a TUN read is a
 * virtio-net header and up to 64 KB: it lands in one fixed read buffer and
 * is cut into segments, one TUN cell each, which take the path a plain
 * packet takes (SA lookup, MSS clamp, ESP, sendmmsg). The TUN cell pool is
 * therefore larger than a batch; when it runs out, the queued datagrams are
 * sent and the pool starts over. The other way, decrypted TCP segments of
 * one connection within one recvmmsg batch are written to the TUN as one
 * super-packet with a writev() of the first segment and the others'
 * payloads, straight from the socket cells.
 *
 * On the port-4500 sockets the kernel may coalesce ESP-in-UDP datagrams of
 * one sender (UDP_GRO): a receive is then up to 64 KB, so those sockets
 * read into a second array of 64 KB buffers, and each datagram is cut out
 * (natt_gro_next) and decrypted where it lies: ESP decapsulation only
 * shrinks a packet, so it needs no headroom, and the TUN coalescing keeps
 * pointing into the buffers until the batch ends, as with the cells.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "daemon/conn.h"
#include "daemon/daemon.h"
#include "daemon/eapradius.h"
#include "daemon/log.h"
#include "esp/natt.h"
#include "esp/sad.h"
#include "tun/mss.h"
#include "tun/offload.h"

#define BATCH 64
/* TUN cells: several 64 KB super-packets of ~1400-byte segments (47 each)
 * per wake-up before the queues must be flushed to free them. */
#define TUN_CELLS 256
/* One TUN read with offloads: the virtio-net header and a super-packet. */
#define TUN_READ_BUF (OFFLOAD_VNET_HDR_LEN + OFFLOAD_MAX_PKT + 1)
/* Runs of segments being coalesced at once (distinct connections). */
#define GRO_RUNS 8
/* One UDP_GRO receive: the most a UDP datagram can carry (the kernel's
 * coalescing stops there as well), and one byte to see anything larger. */
#define RX_GRO_BUF 65536
/* Buffers this far apart: 64 KB plus 17 cache lines, so that the first
 * bytes of the buffers, where plain datagrams land, do not all fall into the
 * same cache sets. */
#define RX_GRO_STRIDE (RX_GRO_BUF + 17 * 64)
/* The largest datagram we take, as the cells take them (PKT_CELL). */
#define RX_MAX_DGRAM (PKT_CELL - PKT_HEADROOM)

struct gro_run {
	struct offload_gro r;
	struct esp_sa *sa;
	uint8_t vnet[OFFLOAD_VNET_HDR_LEN];
	unsigned n_iov;
	struct iovec iov[OFFLOAD_GRO_MAX_SEGS + 1]; /* vnet header, segments */
};

/* One send of several ESP datagrams (UDP_SEGMENT): at most this many
 * bytes of UDP payload (IPv4 allows 65507, IPv6 65527) and the kernel's
 * UDP_MAX_SEGMENTS (64 before Linux 6.5, 128 since). */
#define GSO_MAX_BYTES 65000
#define GSO_MAX_SEGS  64

/*
 * Datagrams queued for one socket. They are put into messages only at
 * flush time: one per datagram, or, on a UDP socket that takes
 * UDP_SEGMENT (gso), one per run of consecutive datagrams to the same peer
 * of one length (the last may be shorter), which the kernel carries as one
 * buffer through the stack and cuts at the end (or never, over a veth).
 */
struct txq {
	int fd;
	bool gso;
	unsigned n;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct esp_sa *sa[BATCH];
	unsigned first[BATCH]; /* per message: its first datagram */
	unsigned segs[BATCH];  /* per message: datagrams in it */
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[BATCH];
};

enum { TXQ_UDP4, TXQ_UDP6, TXQ_RAW4, TXQ_RAW6, TXQ_MAX };

struct sock_watch {
	uv_poll_t poll;
	int fd;
	enum { SOCK_NATT, SOCK_IKE, SOCK_RAW4, SOCK_RAW6 } kind;
	bool gro; /* UDP_GRO on: receives into gro_cells, may be coalesced */
};

struct ctl_conn {
	uv_pipe_t pipe;
	uv_write_t wr;
	char in[256];
	size_t in_len;
	char *out;
};

struct loop {
	uv_loop_t uv;
	struct daemon *d;
	uv_poll_t tun_poll;
	struct sock_watch socks[6];
	unsigned n_socks;
	uv_signal_t sigint, sigterm;
	uv_timer_t keepalive;
	uv_timer_t ike_timer; /* the engines' earliest deadline */
	uv_poll_t radius_poll[2]; /* the RADIUS client's sockets (IPv4, IPv6) */
	uv_timer_t tick;      /* once a second: lifetimes, activity, keepalives */
	bool ike_seen;        /* an IKE datagram went to an engine this batch */
	uv_pipe_t ctl;
	bool ctl_open;
	uint8_t *tun_cells;
	unsigned tun_used; /* TUN cells holding queued packets */
	uint8_t *tun_buf;  /* TUN_READ_BUF, offloads only */
	uint8_t *sock_cells;
	uint8_t *gro_cells; /* BATCH x RX_GRO_STRIDE, when a socket has UDP_GRO */
	struct gro_run gro[GRO_RUNS];
	unsigned n_gro;
	bool udp_gro; /* inner UDP runs coalesced into the TUN (it took USO) */
	struct txq txq[TXQ_MAX];
	struct mmsghdr rx_msgs[BATCH];
	struct iovec rx_iov[BATCH];
	struct sockaddr_storage rx_addr[BATCH];
	/* IP_PKTINFO / IPV6_PKTINFO: the address an IKE datagram came to;
	 * UDP_GRO: the size of the datagrams a coalesced receive holds */
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rx_ctl[BATCH];
};

static void ike_rearm(struct loop *l);

static uint64_t bump(uint64_t *c)
{
	return ++*c;
}

static void count(struct esp_stats *st, enum esp_drop why)
{
	esp_count_drop(st, why);
}

/* ---- sending ---------------------------------------------------------- */

static struct txq *txq_for(struct loop *l, const struct esp_sa *sa)
{
	bool v6 = sa->peer.ss_family == AF_INET6;

	if (sa->encap == ESP_ENCAP_RAW)
		return &l->txq[v6 ? TXQ_RAW6 : TXQ_RAW4];
	return &l->txq[v6 ? TXQ_UDP6 : TXQ_UDP4];
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* How many datagrams from i on can go in one UDP_SEGMENT send. */
static unsigned gso_run(const struct txq *q, unsigned i)
{
	size_t seg = q->iov[i].iov_len, total = seg;
	const struct esp_sa *sa = q->sa[i];
	unsigned j = i + 1;

	while (j < q->n && j - i < GSO_MAX_SEGS) {
		size_t len = q->iov[j].iov_len;

		if (len > seg || total + len > GSO_MAX_BYTES ||
		    (q->sa[j] != sa && !same_peer(&q->sa[j]->peer, &sa->peer)))
			break;
		total += len;
		j++;
		if (len < seg)
			break; /* a shorter one ends the send */
	}
	return j - i;
}

/* Message k: datagrams first .. first + segs - 1, with UDP_SEGMENT if more
 * than one. */
static void txq_msg(struct txq *q, unsigned k, unsigned first, unsigned segs)
{
	struct msghdr *m = &q->msgs[k].msg_hdr;
	struct esp_sa *sa = q->sa[first];

	memset(m, 0, sizeof(*m));
	m->msg_name = &sa->peer;
	m->msg_namelen = sa->peer_len;
	m->msg_iov = &q->iov[first];
	m->msg_iovlen = segs;
	q->first[k] = first;
	q->segs[k] = segs;
	if (segs > 1) {
		struct cmsghdr *c;
		uint16_t size = (uint16_t)q->iov[first].iov_len;

		m->msg_control = q->ctl[k].buf;
		m->msg_controllen = sizeof(q->ctl[k].buf);
		c = CMSG_FIRSTHDR(m);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(size));
		memcpy(CMSG_DATA(c), &size, sizeof(size));
	}
}

/* A UDP_SEGMENT send the kernel refused: its datagrams one by one. */
static void gso_resend(struct loop *l, struct txq *q, unsigned k, int err)
{
	struct daemon *d = l->d;

	bump(&d->cnt.udp_gso_failed);
	/* EINVAL / EIO: a segment larger than the route's MTU, an xfrm
	 * policy on the path, no checksum offload: no use trying again. */
	if ((err == EINVAL || err == EIO) && q->gso) {
		q->gso = false;
		log_warn("UDP_SEGMENT refused (%s): ESP datagrams sent one by one from now on",
			 strerror(err));
	}
	for (unsigned i = q->first[k]; i < q->first[k] + q->segs[k]; i++) {
		struct esp_sa *sa = q->sa[i];
		ssize_t n;

		do
			n = sendto(q->fd, q->iov[i].iov_base, q->iov[i].iov_len, MSG_DONTWAIT,
				   (struct sockaddr *)&sa->peer, sa->peer_len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			count(&sa->stats, ESP_DROP_SEND);
	}
}

static void txq_flush(struct loop *l, struct txq *q)
{
	struct daemon *d = l->d;
	unsigned done = 0, nmsg = 0;

	for (unsigned i = 0; i < q->n; nmsg++) {
		unsigned segs = q->gso ? gso_run(q, i) : 1;

		txq_msg(q, nmsg, i, segs);
		i += segs;
	}
	while (done < nmsg) {
		int n = sendmmsg(q->fd, q->msgs + done, nmsg - done, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The first message failed (full buffer, unreachable
			 * peer): count it and go on with the rest. */
			if (q->segs[done] > 1)
				gso_resend(l, q, done, n < 0 ? errno : EIO);
			else
				count(&q->sa[q->first[done]]->stats, ESP_DROP_SEND);
			done++;
			continue;
		}
		for (int k = 0; k < n; k++)
			if (q->segs[done + (unsigned)k] > 1) {
				bump(&d->cnt.udp_gso_sent);
				d->cnt.udp_gso_segments += q->segs[done + (unsigned)k];
			}
		done += (unsigned)n;
	}
	q->n = 0;
}

static void txq_add(struct loop *l, struct esp_sa *sa, struct pkt *p)
{
	struct txq *q = txq_for(l, sa);

	if (q->fd < 0) {
		count(&sa->stats, ESP_DROP_SEND);
		return;
	}
	q->iov[q->n].iov_base = p->data;
	q->iov[q->n].iov_len = p->len;
	q->sa[q->n] = sa;
	if (++q->n == BATCH)
		txq_flush(l, q);
}

static void txq_flush_all(struct loop *l)
{
	for (int i = 0; i < TXQ_MAX; i++)
		if (l->txq[i].n)
			txq_flush(l, &l->txq[i]);
}

/* ---- TUN -> ESP -> network -------------------------------------------- */

/* Destination of an inner packet, or 0 if it is not IPv4/IPv6. */
static int inner_dst(const uint8_t *ip, size_t len, const uint8_t **dst)
{
	if (len >= 20 && ip[0] >> 4 == 4) {
		*dst = ip + 16;
		return AF_INET;
	}
	if (len >= 40 && ip[0] >> 4 == 6) {
		*dst = ip + 24;
		return AF_INET6;
	}
	return 0;
}

static bool sels_allow(const struct esp_sel *sels, unsigned n, const struct pkt *p, bool src)
{
	for (unsigned i = 0; i < n && i < ESP_MAX_SELS; i++)
		if (esp_sel_match_pkt(&sels[i], p->data, p->len, src))
			return true;
	return false;
}

static void tun_outbound(struct loop *l, struct pkt *p)
{
	struct daemon *d = l->d;
	const uint8_t *dst;
	struct esp_sa *sa;
	int family = inner_dst(p->data, p->len, &dst);

	if (!family) {
		count(&d->cnt.esp, ESP_DROP_NOT_IP);
		return;
	}
	/* RFC 4291 §2.5.6, §2.7: link-scope traffic the kernel sends on
	 * the TUN (router solicitations, MLD reports) ends at this link; it
	 * has its own counter so that no-sa counts only packets that wanted
	 * a tunnel (and never starts one). */
	if (family == AF_INET6 &&
	    ((dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80) || (dst[0] == 0xff && (dst[1] & 0x0f) <= 2))) {
		count(&d->cnt.esp, ESP_DROP_LINK_SCOPE);
		return;
	}
	sa = sad_lookup_out(d->sad, family, dst);
	if (!sa) {
		count(&d->cnt.esp, ESP_DROP_NO_SA);
		if (d->n_conns && conns_acquire(d, p->data, p->len, conn_mono_now()))
			ike_rearm(l);
		return;
	}
	/* RFC 4301 §5.1: the SA found by destination carries the packet only
	 * if all its selectors allow it, the source included: the kernel's
	 * ICMPv6 redirects from a link-local address, or a packet from a
	 * virtual IP to another client, are not this client's traffic. */
	if (!sels_allow(sa->remote_sels, sa->n_remote, p, false) ||
	    !sels_allow(sa->local_sels, sa->n_local, p, true)) {
		count(&sa->stats, ESP_DROP_SELECTOR);
		return;
	}
	if (d->cfg.mss_clamp && mss_clamp(p->data, p->len, d->mtu) > 0)
		bump(&d->cnt.mss_clamped);
	if (esp_encap(sa, p) < 0)
		return; /* counted on the SA */
	txq_add(l, sa, p);
}

/* The next free TUN cell; when all hold queued packets, send them first. */
static uint8_t *tun_cell(struct loop *l)
{
	if (l->tun_used == TUN_CELLS) {
		txq_flush_all(l);
		l->tun_used = 0;
	}
	return l->tun_cells + (size_t)l->tun_used++ * PKT_CELL;
}

/*
 * One read with offloads: check the virtio-net header, complete a partial
 * checksum or cut a super-packet into segments. Returns the packets it
 * queued.
 */
static unsigned tun_offload_in(struct loop *l, uint8_t *buf, size_t n)
{
	struct daemon *d = l->d;
	const size_t cap = PKT_CELL - PKT_HEADROOM - PKT_TAILROOM;
	struct offload_vnet v;
	struct offload_gso g;
	struct pkt p;
	size_t len;
	int rc;

	if (n < OFFLOAD_VNET_HDR_LEN) {
		bump(&d->cnt.offload_bad);
		return 0;
	}
	offload_vnet_get(&v, buf);
	len = n - OFFLOAD_VNET_HDR_LEN;
	rc = offload_tun_in(&g, &v, buf + OFFLOAD_VNET_HDR_LEN, len, cap);
	if (rc < 0) {
		bump(&d->cnt.offload_bad);
		return 0;
	}
	if (rc == 0) {
		if (len > cap) {
			count(&d->cnt.esp, ESP_DROP_TOO_BIG);
			return 0;
		}
		pkt_init(&p, tun_cell(l), PKT_CELL, PKT_HEADROOM);
		memcpy(p.data, buf + OFFLOAD_VNET_HDR_LEN, len);
		p.len = len;
		tun_outbound(l, &p);
		return 1;
	}
	bump(&d->cnt.tso_split);
	for (unsigned i = 0; i < g.n; i++) {
		pkt_init(&p, tun_cell(l), PKT_CELL, PKT_HEADROOM);
		p.len = offload_gso_segment(&g, i, p.data, cap);
		if (p.len) /* always: offload_tun_in() checked the sizes */
			tun_outbound(l, &p);
	}
	d->cnt.tso_segments += g.n;
	return g.n;
}

static void on_tun(uv_poll_t *h, int status, int events)
{
	struct loop *l = h->data;
	struct daemon *d = l->d;
	const size_t cap = PKT_CELL - PKT_HEADROOM - PKT_TAILROOM;
	unsigned queued = 0;

	if (status < 0) {
		log_err("TUN poll: %s", uv_strerror(status));
		return;
	}
	/* At most BATCH reads and about one pool of packets per wake-up. */
	for (unsigned i = 0; i < BATCH && queued < TUN_CELLS; i++) {
		struct pkt p;
		ssize_t n;

		if (d->tun.vnet_hdr_len)
			n = tun_read(&d->tun, l->tun_buf, TUN_READ_BUF);
		else {
			if (l->tun_used == TUN_CELLS) {
				txq_flush_all(l);
				l->tun_used = 0;
			}
			pkt_init(&p, l->tun_cells + (size_t)l->tun_used * PKT_CELL, PKT_CELL,
				 PKT_HEADROOM);
			n = tun_read(&d->tun, p.data, cap);
		}
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			log_warn("TUN read: %s", strerror((int)-n));
			break;
		}
		if (d->tun.vnet_hdr_len) {
			queued += tun_offload_in(l, l->tun_buf, (size_t)n);
			continue;
		}
		l->tun_used++;
		queued++;
		p.len = (size_t)n;
		tun_outbound(l, &p);
	}
	txq_flush_all(l);
	l->tun_used = 0;
}

/* ---- network -> ESP -> TUN -------------------------------------------- */

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
		snprintf(buf, cap, "[%s]:%u", ip, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
		snprintf(buf, cap, "%s:%u", ip, port);
	}
	return buf;
}

/*
 * RFC 3948 §3.5 / RFC 7296 §2.23: only an authenticated packet may move the
 * peer's address (a NAT that re-mapped the port, a client that roamed).
 */
static void follow_peer(struct tunnel *t, const struct sockaddr_storage *from)
{
	struct sockaddr_storage now = *from;
	char a[64], b[64];

	if (t->out.encap == ESP_ENCAP_RAW) {
		if (now.ss_family == AF_INET)
			((struct sockaddr_in *)&now)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&now)->sin6_port = 0;
	}
	if (same_peer(&t->out.peer, &now))
		return;
	log_info("%s: peer moved from %s to %s", conn_tunnel_name(t),
		 addr_str(&t->out.peer, a, sizeof(a)), addr_str(&now, b, sizeof(b)));
	t->out.peer = now;
	t->out.peer_len = now.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						    : sizeof(struct sockaddr_in);
	t->peer_moves++;
}

/* ---- coalescing into the TUN (offloads only) ------------------------- */

/* Write run i (one segment: as it is, behind a zero virtio header) and
 * remove it from the table. */
static void gro_write(struct loop *l, unsigned i)
{
	struct daemon *d = l->d;
	struct gro_run *g = &l->gro[i];
	struct offload_vnet v;
	ssize_t n;

	offload_gro_finish(&g->r, &v);
	offload_vnet_put(g->vnet, &v);
	g->iov[0].iov_base = g->vnet;
	g->iov[0].iov_len = sizeof(g->vnet);
	n = tun_writev(&d->tun, g->iov, (int)g->n_iov);
	if (n < 0) {
		for (unsigned k = 0; k < g->r.n; k++)
			count(&g->sa->stats, ESP_DROP_TUN_WRITE);
		if (g->r.udp && g->r.n > 1) {
			bump(&d->cnt.udp_gro_failed);
			/* A kernel that took USO but cannot parse a UDP_L4
			 * write (it never should): stop merging, once. */
			if (n == -EINVAL && l->udp_gro) {
				l->udp_gro = false;
				log_warn("%s: UDP super-packet refused (%s): inner UDP written "
					 "one datagram at a time from now on",
					 d->tun.name, strerror((int)-n));
			}
		}
	} else if (g->r.n > 1 && g->r.udp) {
		bump(&d->cnt.udp_gro_merged);
		d->cnt.udp_gro_segments += g->r.n;
	} else if (g->r.n > 1) {
		bump(&d->cnt.gro_merged);
		d->cnt.gro_segments += g->r.n;
	}
	if (i != --l->n_gro)
		l->gro[i] = l->gro[l->n_gro];
}

static void gro_flush(struct loop *l)
{
	while (l->n_gro)
		gro_write(l, l->n_gro - 1);
}

/* A packet that joins no run: written alone, zero virtio header. */
static void tun_write_alone(struct loop *l, struct esp_sa *sa, struct pkt *p)
{
	static const uint8_t zero[OFFLOAD_VNET_HDR_LEN];
	struct iovec iov[2] = {{(void *)zero, sizeof(zero)}, {p->data, p->len}};

	if (tun_writev(&l->d->tun, iov, 2) < 0)
		count(&sa->stats, ESP_DROP_TUN_WRITE);
}

/*
 * Add a decrypted packet: append it to its connection's run, or start one.
 * Order within a connection is kept: a segment of a connection that cannot
 * continue its run has the run written first; a packet that cannot be
 * coalesced at all (we cannot tell its connection cheaply) has every open
 * run written first.
 */
static void gro_add(struct loop *l, struct esp_sa *sa, struct pkt *p)
{
	struct offload_seg s;
	struct gro_run *g;
	enum offload_gro_why why = offload_gro_parse(&s, p->data, p->len);

	if (why == OFFLOAD_GRO_NOT_TCP && l->udp_gro)
		why = offload_gro_parse_udp(&s, p->data, p->len);
	if (why != OFFLOAD_GRO_OK) {
		gro_flush(l);
		tun_write_alone(l, sa, p);
		return;
	}
	for (unsigned i = 0; i < l->n_gro; i++) {
		why = offload_gro_append(&l->gro[i].r, &s);

		if (why == OFFLOAD_GRO_FLOW)
			continue;
		g = &l->gro[i];
		if (why == OFFLOAD_GRO_OK) {
			g->iov[g->n_iov].iov_base = s.pkt + s.hdr_len;
			g->iov[g->n_iov].iov_len = s.payload;
			g->n_iov++;
			if (g->r.closed || g->r.n == OFFLOAD_GRO_MAX_SEGS)
				gro_write(l, i);
			return;
		}
		gro_write(l, i); /* same connection, cannot continue: start anew */
		break;
	}
	if (l->n_gro == GRO_RUNS)
		gro_write(l, 0);
	g = &l->gro[l->n_gro++];
	offload_gro_start(&g->r, &s);
	g->sa = sa;
	g->iov[1].iov_base = s.pkt;
	g->iov[1].iov_len = s.len;
	g->n_iov = 2;
	if (g->r.closed)
		gro_write(l, l->n_gro - 1);
}

static void esp_inbound(struct loop *l, struct pkt *p, const struct sockaddr_storage *from)
{
	struct daemon *d = l->d;
	struct esp_sa *sa;
	uint64_t top;
	ssize_t n;

	if (p->len < ESP_HDR_LEN) {
		count(&d->cnt.esp, ESP_DROP_SHORT);
		return;
	}
	sa = sad_lookup_in(d->sad, esp_peek_spi(p));
	if (!sa) {
		count(&d->cnt.esp, ESP_DROP_UNKNOWN_SPI);
		return;
	}
	top = sa->replay.top;
	if (esp_decap(sa, p) < 0)
		return; /* counted on the SA (dummy packets too) */
	/* Only the newest packet may move the peer: an attacker who delays an
	 * authentic packet and sends it from elsewhere must not redirect the
	 * tunnel (the same rule as MOBIKE's, RFC 4555 §3.5). */
	if (sa->replay.top > top)
		follow_peer(sa->owner, from);
	if (d->cfg.mss_clamp && mss_clamp(p->data, p->len, d->mtu) > 0)
		bump(&d->cnt.mss_clamped);
	if (d->tun.vnet_hdr_len) {
		gro_add(l, sa, p);
		return;
	}
	n = tun_write(&d->tun, p->data, p->len);
	if (n < 0)
		count(&sa->stats, ESP_DROP_TUN_WRITE);
}

/* Raw IPv4 sockets hand us the IP header; strip it (bounds-checked). */
static bool strip_ipv4(struct pkt *p)
{
	size_t ihl;

	if (p->len < 20 || p->data[0] >> 4 != 4)
		return false;
	ihl = (size_t)(p->data[0] & 0x0f) * 4;
	return ihl >= 20 && pkt_pull(p, ihl) != NULL;
}

/* Our address (from IP_PKTINFO) and port, the peer's from the socket. */
static void ike_path_of(struct ike_path *path, const struct msghdr *m, uint16_t port,
			const struct sockaddr_storage *from)
{
	memset(path, 0, sizeof(*path));
	path->local.port = port;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(path->local.addr, &pi.ipi_addr, 4);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(path->local.addr, &pi.ipi6_addr, 16);
		}
	}
	if (from->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)from;

		path->local.family = path->remote.family = AF_INET6;
		path->remote.port = ntohs(s->sin6_port);
		memcpy(path->remote.addr, &s->sin6_addr, 16);
	} else {
		const struct sockaddr_in *s = (const void *)from;

		path->local.family = path->remote.family = AF_INET;
		path->remote.port = ntohs(s->sin_port);
		memcpy(path->remote.addr, &s->sin_addr, 4);
	}
}

/* An IKE datagram (marker stripped): to its connection, if any. */
static void ike_input(struct loop *l, const struct msghdr *m, uint16_t port, struct pkt *p,
		      const struct sockaddr_storage *from)
{
	struct daemon *d = l->d;
	struct ike_path path;

	if (!d->n_conns) {
		bump(&d->cnt.ike_ignored);
		return;
	}
	/* The engine may delete SAs that open coalescing runs point to. */
	gro_flush(l);
	ike_path_of(&path, m, port, from);
	conns_ike_input(d, &path, p->data, p->len, conn_mono_now());
	l->ike_seen = true;
}

static void sock_datagram(struct loop *l, struct sock_watch *w, struct pkt *p,
			  const struct msghdr *m, const struct sockaddr_storage *from)
{
	struct daemon *d = l->d;

	switch (w->kind) {
	case SOCK_IKE:
		ike_input(l, m, d->cfg.port, p, from);
		return;
	case SOCK_RAW4:
		if (!strip_ipv4(p)) {
			count(&d->cnt.esp, ESP_DROP_SHORT);
			return;
		}
		esp_inbound(l, p, from);
		return;
	case SOCK_RAW6:
		esp_inbound(l, p, from);
		return;
	case SOCK_NATT:
		break;
	}
	switch (natt_classify(p->data, p->len)) {
	case NATT_ESP:
		esp_inbound(l, p, from);
		break;
	case NATT_KEEPALIVE:
		bump(&d->cnt.keepalives_rx);
		break;
	case NATT_IKE:
		pkt_pull(p, 4); /* the non-ESP marker (RFC 3948 §2.2) */
		ike_input(l, m, d->cfg.port_nat_t, p, from);
		break;
	case NATT_INVALID:
		bump(&d->cnt.natt_invalid);
		break;
	}
}

/*
 * Receive i on a UDP_GRO socket: one datagram, or several coalesced ones,
 * each taken on its own where it lies. A receive whose control data cannot
 * be trusted is dropped whole: cutting it at a guessed size would hand
 * pieces of datagrams to ESP and IKE.
 */
static void sock_gro(struct loop *l, struct sock_watch *w, unsigned i)
{
	struct daemon *d = l->d;
	const struct msghdr *m = &l->rx_msgs[i].msg_hdr;
	uint8_t *buf = l->gro_cells + (size_t)i * RX_GRO_STRIDE, *dgram;
	size_t len = l->rx_msgs[i].msg_len, seg = len, n;
	struct natt_gro g;
	struct pkt p;
	int rc = natt_gro_size(m, &seg);
	long segs;

	if (rc == 0 && len == 0) {
		/* An empty datagram, as a cell would have it (invalid). */
		pkt_init(&p, buf, 0, 0);
		sock_datagram(l, w, &p, m, &l->rx_addr[i]);
		return;
	}
	if (rc < 0 || (segs = natt_gro_init(&g, buf, len, seg)) < 0) {
		bump(&d->cnt.esp_gro_bad);
		return;
	}
	if (rc > 0) {
		bump(&d->cnt.esp_gro_rx);
		d->cnt.esp_gro_segments += (uint64_t)segs;
	}
	while ((n = natt_gro_next(&g, &dgram)) != 0) {
		/* What a cell could not have taken, as without coalescing. */
		if (n > RX_MAX_DGRAM) {
			bump(&d->cnt.rx_truncated);
			continue;
		}
		pkt_init(&p, dgram, n, 0);
		p.len = n;
		sock_datagram(l, w, &p, m, &l->rx_addr[i]);
	}
}

static void on_sock(uv_poll_t *h, int status, int events)
{
	struct sock_watch *w = (struct sock_watch *)h;
	struct loop *l = h->data;
	const size_t cap = PKT_CELL - PKT_HEADROOM;
	int n;

	if (status < 0) {
		log_err("socket poll: %s", uv_strerror(status));
		return;
	}
	for (unsigned i = 0; i < BATCH; i++) {
		struct msghdr *m = &l->rx_msgs[i].msg_hdr;

		if (w->gro) {
			l->rx_iov[i].iov_base = l->gro_cells + (size_t)i * RX_GRO_STRIDE;
			l->rx_iov[i].iov_len = RX_GRO_BUF;
		} else {
			l->rx_iov[i].iov_base = l->sock_cells + (size_t)i * PKT_CELL + PKT_HEADROOM;
			l->rx_iov[i].iov_len = cap;
		}
		memset(m, 0, sizeof(*m));
		m->msg_name = &l->rx_addr[i];
		m->msg_namelen = sizeof(l->rx_addr[i]);
		m->msg_iov = &l->rx_iov[i];
		m->msg_iovlen = 1;
		if (w->kind == SOCK_NATT || w->kind == SOCK_IKE) {
			m->msg_control = l->rx_ctl[i].buf;
			m->msg_controllen = sizeof(l->rx_ctl[i].buf);
		}
	}
	do
		n = recvmmsg(w->fd, l->rx_msgs, BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN)
			log_debug("recvmmsg: %s", strerror(errno));
		return;
	}
	/* The batch's IKE answers leave together (a flood's COOKIEs). */
	conns_ike_hold(l->d);
	for (int i = 0; i < n; i++) {
		struct pkt p;

		if (l->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			bump(&l->d->cnt.rx_truncated);
			continue;
		}
		if (w->gro) {
			sock_gro(l, w, (unsigned)i);
			continue;
		}
		pkt_init(&p, l->sock_cells + (size_t)i * PKT_CELL, PKT_CELL, PKT_HEADROOM);
		p.len = l->rx_msgs[i].msg_len;
		sock_datagram(l, w, &p, &l->rx_msgs[i].msg_hdr, &l->rx_addr[i]);
	}
	/* The runs point into the socket cells (or the UDP_GRO buffers): out
	 * before the next batch. */
	gro_flush(l);
	conns_ike_flush(l->d);
	/* The engines' deadlines move only when one of them got a datagram. */
	if (l->ike_seen) {
		l->ike_seen = false;
		ike_rearm(l);
	}
}

/* A RADIUS server answered (daemon/eapradius.h). */
static void on_radius(uv_poll_t *h, int status, int events)
{
	struct loop *l = h->data;
	uv_os_fd_t fd;

	if (status < 0 || uv_fileno((uv_handle_t *)h, &fd) < 0)
		return;
	conns_radius_input(l->d, fd, conn_mono_now());
	ike_rearm(l);
}

static int watch_radius(struct loop *l)
{
	int fams[2] = {AF_INET, AF_INET6}, rc;

	if (!l->d->radius)
		return 0;
	for (int i = 0; i < 2; i++) {
		int fd = radhub_fd(l->d->radius, fams[i]);

		if (fd < 0)
			continue;
		if ((rc = uv_poll_init(&l->uv, &l->radius_poll[i], fd)) < 0)
			return rc;
		l->radius_poll[i].data = l;
		if ((rc = uv_poll_start(&l->radius_poll[i], UV_READABLE, on_radius)) < 0)
			return rc;
	}
	return 0;
}

/* ---- timers, signals -------------------------------------------------- */

/* RFC 3948 §2.3: from behind a NAT, a lone 0xFF keeps the mapping alive. */
static void on_keepalive(uv_timer_t *h)
{
	struct loop *l = h->data;
	struct daemon *d = l->d;
	static const uint8_t ka = NATT_KEEPALIVE_BYTE;

	for (size_t i = 0; i < d->n_tunnels; i++) {
		struct tunnel *t = &d->tunnels[i];

		if (!t->cfg->nat_keepalive || t->out.encap != ESP_ENCAP_UDP)
			continue;
		if (sendto(t->out_fd, &ka, 1, MSG_DONTWAIT, (struct sockaddr *)&t->out.peer,
			   t->out.peer_len) == 1)
			bump(&d->cnt.keepalives_tx);
	}
}

/* ---- IKE timers -------------------------------------------------------- */

static void on_ike_timer(uv_timer_t *h)
{
	struct loop *l = h->data;

	conns_expire(l->d, conn_mono_now());
	ike_rearm(l);
}

/* One timer at the engines' earliest deadline, rounded up to libuv's
 * milliseconds (a deadline fires at now >= deadline, never before). */
static void ike_rearm(struct loop *l)
{
	uint64_t next = conns_next_expiry(l->d), now;

	if (next == IKE_TIME_NEVER) {
		uv_timer_stop(&l->ike_timer);
		return;
	}
	now = conn_mono_now();
	uv_timer_start(&l->ike_timer, on_ike_timer, next > now ? (next - now + 999999) / 1000000 : 0,
		       0);
}

static void on_tick(uv_timer_t *h)
{
	struct loop *l = h->data;

	conns_tick(l->d, conn_mono_now());
	/* (a reload may have brought shorter lifetimes) */
	uv_timer_set_repeat(&l->tick, conns_tick_ms(l->d));
	ike_rearm(l);
}

static void ctl_closed(uv_handle_t *h);

/* Close every handle; control connections free their state on close. */
static void close_walk(uv_handle_t *h, void *arg)
{
	struct loop *l = arg;

	if (uv_is_closing(h))
		return;
	if (h->type == UV_NAMED_PIPE && h != (uv_handle_t *)&l->ctl)
		uv_close(h, ctl_closed);
	else
		uv_close(h, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct loop *l = h->data;

	log_info("signal %d: shutting down", signum);
	/* RFC 7296 §1.4.1: tell the peers; we do not wait for their answers. */
	conns_shutdown(l->d, conn_mono_now());
	uv_walk(&l->uv, close_walk, l);
}

/* ---- control socket --------------------------------------------------- */

static void ctl_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;

	free(c->out);
	free(c);
}

static void ctl_written(uv_write_t *wr, int status)
{
	struct ctl_conn *c = wr->data;

	uv_close((uv_handle_t *)&c->pipe, ctl_closed);
}

static void ctl_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ctl_conn *c = h->data;

	buf->base = c->in + c->in_len;
	buf->len = sizeof(c->in) - 1 - c->in_len;
}

static void ctl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct ctl_conn *c = s->data;
	struct loop *l = s->loop->data;
	char *nl;
	uv_buf_t out;
	ssize_t len;

	if (n < 0 || (n == 0 && c->in_len == sizeof(c->in) - 1)) {
		uv_close((uv_handle_t *)s, ctl_closed);
		return;
	}
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	nl = strchr(c->in, '\n');
	if (!nl) {
		if (c->in_len == sizeof(c->in) - 1)
			uv_close((uv_handle_t *)s, ctl_closed);
		return;
	}
	*nl = '\0';
	uv_read_stop(s);
	/* (the answer grows as it is written: ctl.c bounds it) */
	len = ctl_answer(l->d, c->in, &c->out);
	if (len < 0) {
		uv_close((uv_handle_t *)s, ctl_closed);
		return;
	}
	out = uv_buf_init(c->out, (unsigned)len);
	if (l->d->n_conns || strcmp(c->in, "reload") == 0)
		ike_rearm(l);
	c->wr.data = c;
	if (uv_write(&c->wr, s, &out, 1, ctl_written) < 0)
		uv_close((uv_handle_t *)s, ctl_closed);
}

/* Only root and our own user may talk to us (the socket is 0600 as well). */
static bool ctl_peer_ok(uv_pipe_t *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)p, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void on_ctl(uv_stream_t *server, int status)
{
	struct ctl_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	uv_pipe_init(server->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 || !ctl_peer_ok(&c->pipe) ||
	    uv_read_start((uv_stream_t *)&c->pipe, ctl_alloc, ctl_read) < 0)
		uv_close((uv_handle_t *)&c->pipe, ctl_closed);
}

/* ---- set-up ----------------------------------------------------------- */

/*
 * UDP_GRO on a port-4500 socket (Linux 5.0+): the kernel may then hand us
 * up to 64 KB of one sender's datagrams per receive instead of cutting a
 * UDP_SEGMENT super-packet (a peer's, over virtual links, or one coalesced
 * by the network card's driver) into datagrams first. Not on the IKE port:
 * its traffic is a few messages a minute. Returns whether it is on.
 */
static bool gro_on(struct loop *l, int fd)
{
	static bool said;
	int one = 1;

	if (!l->d->cfg.udp_gro)
		return false; /* tunsec.udp_gro = no */
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0) {
		if (!said)
			log_info("no UDP_GRO (%s): ESP datagrams received one by one",
				 strerror(errno));
		said = true;
		return false;
	}
	/* Allocated once, for both sockets (they are read one at a time);
	 * pages the kernel never writes to are never backed. */
	if (!l->gro_cells && !(l->gro_cells = calloc(BATCH, RX_GRO_STRIDE))) {
		one = 0;
		setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
		log_warn("no memory for UDP_GRO buffers: ESP datagrams received one by one");
		return false;
	}
	return true;
}

static int watch_sock(struct loop *l, int fd, int kind)
{
	struct sock_watch *w;
	int rc;

	if (fd < 0)
		return 0;
	w = &l->socks[l->n_socks++];
	w->fd = fd;
	w->kind = kind;
	w->gro = kind == SOCK_NATT && gro_on(l, fd);
	rc = uv_poll_init(&l->uv, &w->poll, fd);
	if (rc < 0)
		return rc;
	w->poll.data = l;
	return uv_poll_start(&w->poll, UV_READABLE, on_sock);
}

static int loop_setup(struct loop *l, struct daemon *d)
{
	int rc;

	l->d = d;
	l->uv.data = l;
	l->tun_cells = calloc(TUN_CELLS, PKT_CELL);
	l->sock_cells = calloc(BATCH, PKT_CELL);
	if (!l->tun_cells || !l->sock_cells)
		return -ENOMEM;
	if (d->tun.vnet_hdr_len && !(l->tun_buf = malloc(TUN_READ_BUF)))
		return -ENOMEM;
	/* GSO_UDP_L4 writes are understood by the kernels whose TUN offers
	 * USO (6.2+): that acceptance is the test. */
	l->udp_gro = d->tun.vnet_hdr_len && (d->tun.offload & TUN_OFFLOAD_USO);
	if (d->tun.vnet_hdr_len && !l->udp_gro)
		log_info("%s: no USO: inner UDP written one datagram at a time", d->tun.name);
	l->txq[TXQ_UDP4].fd = d->udp4_natt;
	l->txq[TXQ_UDP6].fd = d->udp6_natt;
	l->txq[TXQ_RAW4].fd = d->raw4;
	l->txq[TXQ_RAW6].fd = d->raw6;
	/* Raw ESP sockets cannot segment; the UDP ones can from Linux 4.18. */
	for (int i = TXQ_UDP4; i <= TXQ_UDP6; i++) {
		int v = 0;
		socklen_t vl = sizeof(v);

		if (l->txq[i].fd < 0)
			continue;
		if (!d->cfg.udp_gso)
			continue; /* tunsec.udp_gso = no */
		l->txq[i].gso = getsockopt(l->txq[i].fd, SOL_UDP, UDP_SEGMENT, &v, &vl) == 0;
		if (!l->txq[i].gso)
			log_info("no UDP_SEGMENT (%s): one ESP datagram per message", strerror(errno));
	}

	if ((rc = uv_poll_init(&l->uv, &l->tun_poll, d->tun.fd)) < 0)
		return rc;
	l->tun_poll.data = l;
	if ((rc = uv_poll_start(&l->tun_poll, UV_READABLE, on_tun)) < 0)
		return rc;
	if ((rc = watch_sock(l, d->udp4_natt, SOCK_NATT)) < 0 ||
	    (rc = watch_sock(l, d->udp6_natt, SOCK_NATT)) < 0 ||
	    (rc = watch_sock(l, d->udp4_ike, SOCK_IKE)) < 0 ||
	    (rc = watch_sock(l, d->udp6_ike, SOCK_IKE)) < 0 ||
	    (rc = watch_sock(l, d->raw4, SOCK_RAW4)) < 0 ||
	    (rc = watch_sock(l, d->raw6, SOCK_RAW6)) < 0 || (rc = watch_radius(l)) < 0)
		return rc;

	uv_signal_init(&l->uv, &l->sigint);
	uv_signal_init(&l->uv, &l->sigterm);
	l->sigint.data = l->sigterm.data = l;
	uv_signal_start(&l->sigint, on_signal, SIGINT);
	uv_signal_start(&l->sigterm, on_signal, SIGTERM);

	uv_timer_init(&l->uv, &l->keepalive);
	l->keepalive.data = l;
	if (d->cfg.keepalive_sec) {
		uint64_t ms = (uint64_t)d->cfg.keepalive_sec * 1000;

		uv_timer_start(&l->keepalive, on_keepalive, ms, ms);
	}

	uv_timer_init(&l->uv, &l->ike_timer);
	uv_timer_init(&l->uv, &l->tick);
	l->ike_timer.data = l->tick.data = l;
	uv_timer_start(&l->tick, on_tick, conns_tick_ms(d), conns_tick_ms(d));
	conns_start(d, conn_mono_now());
	ike_rearm(l);

	if ((rc = uv_pipe_init(&l->uv, &l->ctl, 0)) < 0 ||
	    (rc = uv_pipe_open(&l->ctl, d->ctl_fd)) < 0)
		return rc;
	l->ctl_open = true;
	d->ctl_fd = -1; /* libuv owns it now */
	return uv_listen((uv_stream_t *)&l->ctl, 8, on_ctl);
}

int loop_run(struct daemon *d)
{
	struct loop *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return -ENOMEM;
	rc = uv_loop_init(&l->uv);
	if (rc < 0) {
		free(l);
		return rc;
	}
	d->loop = l;
	rc = loop_setup(l, d);
	if (rc < 0)
		log_err("event loop set-up: %s", uv_strerror(rc));
	else
		uv_run(&l->uv, UV_RUN_DEFAULT);
	/* Close whatever is still open (set-up failure) and let the close
	 * callbacks run before the memory goes. */
	uv_walk(&l->uv, close_walk, l);
	uv_run(&l->uv, UV_RUN_DEFAULT);
	uv_loop_close(&l->uv);
	free(l->tun_cells);
	free(l->tun_buf);
	free(l->sock_cells);
	free(l->gro_cells);
	free(l);
	d->loop = NULL;
	return rc < 0 ? rc : 0;
}
