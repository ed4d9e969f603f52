/*
 * The control socket: a Unix stream socket, 0600, one command line in, one
 * answer out, then the daemon closes. Commands: status, stats, pools,
 * version, up NAME, down NAME, rekey NAME, reload. A failed command's answer starts "error:".
 *
 * `stats` is for scripts: one counter per line, "SCOPE COUNTER VALUE", with
 * SCOPE "total", "ike", "CONN/ike", then "NAME/in", "NAME/out" per SA (in
 * that order: the few totals first, the many per-SA lines last); every
 * counter is printed, zeros too, so a grep never misses a line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "crypto/ke.h"
#include "daemon/conn.h"
#include "daemon/daemon.h"
#include "daemon/eapradius.h"
#include "daemon/pool.h"
#include "ike/id.h"

/*
 * An answer grows as it is written, up to CTL_OUT_MAX: at 10 000 clients
 * `status` is some 10 MB. Nothing is cut silently: past the cap (or when
 * memory runs out) writing stops and the answer ends with a line that
 * says so, in the room kept for it.
 */
#define CTL_OUT_MAX (64u << 20)
#define CTL_OUT_TAIL 128 /* kept for the "cut" line */

struct out {
	char *buf;
	size_t cap, len;
	bool cut;
};

static bool out_room(struct out *o, size_t need)
{
	size_t cap = o->cap ? o->cap : 64 * 1024;
	char *b;

	if (o->len + need + CTL_OUT_TAIL <= o->cap)
		return true;
	while (cap < o->len + need + CTL_OUT_TAIL && cap < CTL_OUT_MAX)
		cap *= 2;
	if (cap > CTL_OUT_MAX)
		cap = CTL_OUT_MAX;
	if (o->len + need + CTL_OUT_TAIL > cap || !(b = realloc(o->buf, cap)))
		return false;
	o->buf = b;
	o->cap = cap;
	return true;
}

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (!out_room(o, (size_t)n + 1)) {
		o->cut = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
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

static void conns_status(struct out *o, struct daemon *d, uint64_t now);

static void status(struct daemon *d, struct out *o)
{
	char peer[80], sels[128];
	size_t n_ike = 0, n_child = 0;

	n_ike = d->ike ? ike_engine_sa_count(d->ike) : 0;
	for (size_t i = 0; i < d->n_conns; i++)
		for (const struct tunnel *t = d->conns[i]->children; t; t = t->next)
			n_child++;
	outf(o,
	     "tunsecd %s, up %lds, interface %s (MTU %u), %zu tunnel%s, %zu IKE SA%s, "
	     "%zu CHILD_SA%s\n",
	     TUNSEC_VERSION, (long)(time(NULL) - d->started), d->tun.name, d->mtu, d->n_tunnels,
	     d->n_tunnels == 1 ? "" : "s", n_ike, n_ike == 1 ? "" : "s", n_child,
	     n_child == 1 ? "" : "s");
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
	conns_status(o, d, conn_mono_now());
}

static void ike_addr_out(struct out *o, const struct ike_addr *a)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	outf(o, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, a->port);
}

/* Seconds from now to a monotonic deadline ("-" for none). */
static void until_out(struct out *o, const char *what, uint64_t at, uint64_t now)
{
	if (at)
		outf(o, ", %s in %llus", what,
		     (unsigned long long)(at > now ? (at - now) / 1000000000ULL : 0));
}

/* A client's virtual IPs and the DNS servers the server offered. */
static void vip_status(struct out *o, const struct ike_cp_reply *cp)
{
	char ip[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < cp->n_addrs; i++) {
		inet_ntop(cp->addrs[i].family, cp->addrs[i].addr, ip, sizeof(ip));
		outf(o, "    virtual IP %s (from the server)\n", ip);
	}
	for (size_t i = 0; i < cp->n_dns; i++) {
		inet_ntop(cp->dns[i].family, cp->dns[i].addr, ip, sizeof(ip));
		outf(o, "%s%s", i ? ", " : "    DNS ", ip);
	}
	if (cp->n_dns)
		outf(o, " (offered; not applied by tunsecd)\n");
}

static void child_status(struct out *o, const struct conn *c, const struct tunnel *t,
			 uint64_t now)
{
	char sels[128];

	outf(o, "    %s{0x%08x/0x%08x}: %s%s%s%s, %s, up %llus", c->cfg.child_name, t->in.spi,
	     t->out.spi, aead_name(t->out.aead), t->in.esn ? ", ESN" : "",
	     t->pfs ? ", PFS " : "", t->pfs ? ke_name(t->pfs) : "",
	     t->out.encap == ESP_ENCAP_UDP ? "ESP in UDP" : "raw ESP",
	     (unsigned long long)((now - t->up_at) / 1000000000ULL));
	if (t->replaced)
		outf(o, ", rekeyed (awaiting its Delete)");
	else if (t->out_pending)
		outf(o, ", the peer's rekey (we send on the old SA until the peer uses this one)");
	else if (!t->rekey_asked)
		until_out(o, "rekey", t->rekey_at, now);
	if (!t->rekey_at && !t->replaced)
		until_out(o, "expires", t->hard_at, now); /* a road warrior's: it renews */
	outf(o, "\n");
	outf(o, "      in  %llu bytes, %llu packets, %llu dropped\n",
	     (unsigned long long)ld((_Atomic uint64_t *)&t->in.stats.bytes),
	     (unsigned long long)ld((_Atomic uint64_t *)&t->in.stats.packets),
	     (unsigned long long)sa_drops(&t->in));
	outf(o, "      out %llu bytes, %llu packets, %llu dropped\n",
	     (unsigned long long)ld((_Atomic uint64_t *)&t->out.stats.bytes),
	     (unsigned long long)ld((_Atomic uint64_t *)&t->out.stats.packets),
	     (unsigned long long)sa_drops(&t->out));
	for (unsigned j = 0; j < t->in.n_local; j++)
		outf(o, "      local  %s\n", esp_sel_str(&t->in.local_sels[j], sels, sizeof(sels)));
	for (unsigned j = 0; j < t->in.n_remote; j++)
		outf(o, "      remote %s\n", esp_sel_str(&t->in.remote_sels[j], sels, sizeof(sels)));
}

/* IKE SAs by connection, then id; CHILD_SAs by IKE SA, then their list
 * order (newest first), which the index keeps. */
static int by_peer_id(const void *a, const void *b)
{
	const struct ike_sa_info *x = a, *y = b;

	if (x->peer != y->peer)
		return x->peer < y->peer ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct child_ref {
	const struct tunnel *t;
	size_t idx;
};

static int by_sa_id(const void *a, const void *b)
{
	const struct child_ref *x = a, *y = b;

	if (x->t->sa_id != y->t->sa_id)
		return x->t->sa_id < y->t->sa_id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * One connection: its IKE SAs (info[0..n), sorted by id) and under each
 * its CHILD_SAs. Sorting both by IKE SA id and walking them side by side
 * keeps this O(n log n): scanning every CHILD_SA for every IKE SA cost
 * 5 s of the daemon's time at 10 000 clients.
 */
static void conn_status(struct out *o, struct daemon *d, const struct conn *c,
			const struct ike_sa_info *info, size_t n, uint64_t now)
{
	char lid[300], rid[300], suite[128];
	struct child_ref *kids = NULL;
	size_t n_kids = 0, k = 0;

	for (const struct tunnel *t = c->children; t; t = t->next)
		n_kids++;
	if (n_kids && !(kids = calloc(n_kids, sizeof(*kids)))) {
		outf(o, "%s: out of memory\n", c->cfg.name);
		return;
	}
	n_kids = 0;
	for (const struct tunnel *t = c->children; t; t = t->next, n_kids++)
		kids[n_kids] = (struct child_ref){t, n_kids};
	if (n_kids)
		qsort(kids, n_kids, sizeof(*kids), by_sa_id);

	ike_id_str(&c->icfg.local_id, lid, sizeof(lid));
	if (c->icfg.remote_id.type)
		ike_id_str(&c->icfg.remote_id, rid, sizeof(rid));
	else
		snprintf(rid, sizeof(rid), "%%any");
	outf(o, "%s: IKEv2, %s ... %s, %zu IKE SA%s%s\n", c->cfg.name, lid, rid, n,
	     n == 1 ? "" : "s", c->trap && !n ? ", trap installed" : "");
	for (size_t i = 0; i < n; i++) {
		const struct ike_sa_info *s = &info[i];
		const struct conn_ikesa *cs = conn_ikesa_find(d, s->id);

		if (cs && (!cs->up || cs->conn != c))
			cs = NULL;
		outf(o, "  %s[%u]: %s, ", c->cfg.name, s->id, s->state);
		ike_addr_out(o, &s->path.local);
		outf(o, " ... ");
		ike_addr_out(o, &s->path.remote);
		outf(o, ", %s%s%s\n", s->initiator ? "initiator" : "responder",
		     s->behind_nat ? ", we are behind a NAT" : "",
		     s->peer_behind_nat ? ", peer behind a NAT" : "");
		if (s->peer_id.type) {
			ike_id_str(&s->peer_id, rid, sizeof(rid));
			outf(o, "    remote id %s", rid);
			/* two authentication rounds (RFC 4739): the first's too */
			if (cs && cs->peer_id1.type) {
				ike_id_str(&cs->peer_id1, rid, sizeof(rid));
				outf(o, ", first round %s", rid);
			}
			outf(o, "\n");
		}
		outf(o, "    SPIs %016llx_i %016llx_r", (unsigned long long)s->spi_i,
		     (unsigned long long)s->spi_r);
		if (s->suite.encr)
			outf(o, ", %s", ike_suite_str(&s->suite, suite, sizeof(suite)));
		if (cs) {
			outf(o, ", up %llus", (unsigned long long)((now - cs->up_at) / 1000000000ULL));
			if (!cs->rekey_asked)
				until_out(o, "rekey", cs->rekey_at, now);
			until_out(o, "reauth", cs->reauth_at, now);
			if (!cs->rekey_at && !cs->reauth_at)
				until_out(o, "expires", cs->hard_at, now);
		}
		outf(o, "\n");
		for (size_t j = 0; cs && j < cs->n_leases; j++) {
			char ip[INET6_ADDRSTRLEN] = "?";
			int fam = pool_cfg(cs->leases[j].pool)->family;

			inet_ntop(fam, cs->leases[j].addr, ip, sizeof(ip));
			outf(o, "    virtual IP %s (pool %s)\n", ip,
			     pool_cfg(cs->leases[j].pool)->name);
		}
		if (cs && cs->vip)
			vip_status(o, cs->vip);
		while (k < n_kids && kids[k].t->sa_id < s->id)
			k++;
		for (; k < n_kids && kids[k].t->sa_id == s->id; k++)
			child_status(o, c, kids[k].t, now);
	}
	free(kids);
	for (const struct tunnel *t = c->lingering; t; t = t->next)
		outf(o, "  rekeyed and deleted: 0x%08x in still decrypts late packets for %llus "
			"(%llu packets in)\n",
		     t->in.spi,
		     (unsigned long long)(t->linger_until > now
					      ? (t->linger_until - now + 999999999ULL) / 1000000000ULL
					      : 0),
		     (unsigned long long)ld((_Atomic uint64_t *)&t->in.stats.packets));
}

/* Every connection, from one list of the engine's IKE SAs. */
static void conns_status(struct out *o, struct daemon *d, uint64_t now)
{
	size_t all = d->ike ? ike_engine_sa_count(d->ike) : 0, i = 0;
	struct ike_sa_info *info = calloc(all ? all : 1, sizeof(*info));

	if (!info) {
		outf(o, "out of memory listing the IKE SAs\n");
		return;
	}
	if (all) {
		size_t got = ike_engine_sa_list(d->ike, info, all);

		all = got < all ? got : all;
		qsort(info, all, sizeof(*info), by_peer_id);
	}
	for (size_t c = 0; c < d->n_conns; c++) {
		uint32_t peer = d->conns[c]->peer;
		size_t lo = 0, hi = all;

		/* the first of this connection's (binary search: connections
		 * are few, but need not be in the engine's order) */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (info[mid].peer < peer)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < all && info[i].peer == peer; i++)
			;
		conn_status(o, d, d->conns[c], info + lo, i - lo, now);
	}
	free(info);
}

static void sa_stats(struct out *o, const char *name, const char *dir, struct esp_sa *sa)
{
	outf(o, "%s/%s packets %llu\n", name, dir, (unsigned long long)ld(&sa->stats.packets));
	outf(o, "%s/%s bytes %llu\n", name, dir, (unsigned long long)ld(&sa->stats.bytes));
	for (int i = 1; i < ESP_DROP_MAX; i++)
		outf(o, "%s/%s %s %llu\n", name, dir, esp_drop_name(i),
		     (unsigned long long)ld(&sa->stats.drops[i]));
}

/* One tunnel's SAs into the totals. */
static void tunnel_sum(struct tunnel *t, uint64_t *total, uint64_t *rx, uint64_t *tx)
{
	for (int i = 1; i < ESP_DROP_MAX; i++)
		total[i] += ld(&t->in.stats.drops[i]) + ld(&t->out.stats.drops[i]);
	*rx += ld(&t->in.stats.packets);
	*tx += ld(&t->out.stats.packets);
}

/* Per connection: its CHILD_SAs' ESP counters, SCOPE conn/SPI/dir
 * (lingering SAs still count packets: they are listed too). */
static void conn_sa_stats(struct out *o, struct conn *c)
{
	char name[CFG_NAME_MAX + 16];

	for (int pass = 0; pass < 2; pass++)
		for (struct tunnel *t = pass ? c->lingering : c->children; t; t = t->next) {
			snprintf(name, sizeof(name), "%s/%08x", c->cfg.name, t->in.spi);
			sa_stats(o, name, "in", &t->in);
			sa_stats(o, name, "out", &t->out);
		}
}

static void conn_stats(struct out *o, struct conn *c)
{
	outf(o, "%s/ike up %llu\n", c->cfg.name, (unsigned long long)c->up_count);
	outf(o, "%s/ike initiations %llu\n", c->cfg.name, (unsigned long long)c->initiations);
}

/* The engine's counters (one engine serves every connection), each under
 * the name `tunsec stats` prints: one table, so names never drift. */
#define ENGINE_STAT(name, field) {name, offsetof(struct ike_engine_stats, field)}
static const struct {
	const char *name;
	size_t off;
} engine_stats[] = {
    ENGINE_STAT("rx-malformed", rx_malformed),
    ENGINE_STAT("rx-no-sa", rx_no_sa),
    ENGINE_STAT("rx-bad-icv", rx_bad_icv),
    ENGINE_STAT("rx-old", rx_old),
    ENGINE_STAT("rx-retransmit", rx_retransmit),
    ENGINE_STAT("tx-retransmit", tx_retransmit),
    ENGINE_STAT("tx-dropped", tx_dropped),
    ENGINE_STAT("events-lost", events_lost),
    ENGINE_STAT("no-proposal", no_proposal),
    ENGINE_STAT("invalid-ke", invalid_ke),
    ENGINE_STAT("auth-failed", auth_failed),
    ENGINE_STAT("sa-full", sa_full),
    ENGINE_STAT("half-open-blocked", half_open_blocked),
    ENGINE_STAT("no-connection", no_peer),
    ENGINE_STAT("cookie-sent", cookie_sent),
    ENGINE_STAT("cert-invalid", cert_invalid),
    ENGINE_STAT("sig-invalid", sig_invalid),
    ENGINE_STAT("tx-invalid-major", tx_invalid_major),
    ENGINE_STAT("tx-invalid-spi", tx_invalid_spi),
    ENGINE_STAT("unprotected-limited", unprot_limited),
    ENGINE_STAT("tmp-failure", tmp_failure),
    ENGINE_STAT("child-not-found", child_not_found),
    ENGINE_STAT("rekey-collisions", rekey_collisions),
    ENGINE_STAT("child-rekey-collisions", child_rekey_collisions),
    ENGINE_STAT("frag-refused", frag_refused),
    ENGINE_STAT("frag-timeout", frag_timeout),
    ENGINE_STAT("unique-replaced", unique_replaced),
    ENGINE_STAT("unique-refused", unique_refused),
    ENGINE_STAT("vip-failed", vip_failed),
    ENGINE_STAT("rekey-refused", rekey_refused),
    ENGINE_STAT("internal-errors", internal_errors),
};

static void ike_stats(struct out *o, struct daemon *d)
{
	struct ike_engine_stats st;

	if (!d->ike)
		return;
	ike_engine_get_stats(d->ike, &st);
	outf(o, "ike sas %zu\n", ike_engine_sa_count(d->ike));
	for (size_t i = 0; i < sizeof(engine_stats) / sizeof(engine_stats[0]); i++)
		outf(o, "ike %s %llu\n", engine_stats[i].name,
		     (unsigned long long)*(const uint64_t *)((const char *)&st +
							    engine_stats[i].off));
}

/* The RADIUS client's counters (tunsec.radius), scope "radius". */
static void radius_stats(struct out *o, struct daemon *d)
{
	const struct radius_counters *rc;

	if (!d->radius)
		return;
	rc = radhub_counters(d->radius);
#define RADIUS_X_OUT(f, name) outf(o, "radius %s %llu\n", name, (unsigned long long)rc->f);
	RADIUS_COUNTERS(RADIUS_X_OUT)
#undef RADIUS_X_OUT
	outf(o, "radius drop-stray %llu\n", (unsigned long long)radhub_strays(d->radius));
}

/*
 * Totals and the engine's counters first, then per connection, then per
 * SA: at thousands of clients the per-SA lines are most of the answer, and
 * a reader (or a cut answer) must find the totals at the top.
 */
static void stats(struct daemon *d, struct out *o)
{
	uint64_t total[ESP_DROP_MAX] = {0};
	uint64_t rx = 0, tx = 0;
	const struct daemon_counters *c = &d->cnt;

	for (size_t i = 0; i < d->n_tunnels; i++)
		tunnel_sum(&d->tunnels[i], total, &rx, &tx);
	/* Negotiated SAs count into the totals too, and so do those that
	 * are gone (their drops must not vanish with them). */
	for (size_t i = 0; i < d->n_conns; i++)
		for (int pass = 0; pass < 2; pass++)
			for (struct tunnel *t = pass ? d->conns[i]->lingering : d->conns[i]->children;
			     t; t = t->next)
				tunnel_sum(t, total, &rx, &tx);
	for (int i = 1; i < ESP_DROP_MAX; i++)
		total[i] += c->gone_drops[i];
	rx += c->gone_packets_in;
	tx += c->gone_packets_out;
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
	outf(o, "total udp-gro-merged %llu\n", (unsigned long long)c->udp_gro_merged);
	outf(o, "total udp-gro-segments %llu\n", (unsigned long long)c->udp_gro_segments);
	outf(o, "total udp-gro-failed %llu\n", (unsigned long long)c->udp_gro_failed);
	outf(o, "total udp-gso-sent %llu\n", (unsigned long long)c->udp_gso_sent);
	outf(o, "total udp-gso-segments %llu\n", (unsigned long long)c->udp_gso_segments);
	outf(o, "total udp-gso-failed %llu\n", (unsigned long long)c->udp_gso_failed);
	outf(o, "total esp-gro-rx %llu\n", (unsigned long long)c->esp_gro_rx);
	outf(o, "total esp-gro-segments %llu\n", (unsigned long long)c->esp_gro_segments);
	outf(o, "total esp-gro-bad %llu\n", (unsigned long long)c->esp_gro_bad);
	outf(o, "total ike-in %llu\n", (unsigned long long)c->ike_rx);
	outf(o, "total ike-out %llu\n", (unsigned long long)c->ike_tx);
	outf(o, "total ike-send-failed %llu\n", (unsigned long long)c->ike_tx_failed);
	outf(o, "total acquires %llu\n", (unsigned long long)c->acquires);
	outf(o, "total ts-refused %llu\n", (unsigned long long)c->ts_refused);
	ike_stats(o, d);
	radius_stats(o, d);
	for (size_t i = 0; i < d->n_conns; i++)
		conn_stats(o, d->conns[i]);
	for (size_t i = 0; i < d->n_tunnels; i++) {
		struct tunnel *t = &d->tunnels[i];

		sa_stats(o, t->cfg->name, "in", &t->in);
		sa_stats(o, t->cfg->name, "out", &t->out);
	}
	for (size_t i = 0; i < d->n_conns; i++)
		conn_sa_stats(o, d->conns[i]);
}

/* ---- pools ---------------------------------------------------------------- */

struct lease_row {
	uint8_t addr[16];
	struct ike_identity id; /* type 0: no owner */
	bool online;
	uint64_t since_ms;
};

struct lease_rows {
	struct lease_row *v;
	size_t n, cap;
};

static int lease_take(const struct pool_lease_info *l, void *arg)
{
	struct lease_rows *r = arg;
	struct lease_row *x;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct lease_row *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	x = &r->v[r->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->addr, l->addr, 16);
	/* conn.c's lease id: the IKE ID type, then its data */
	if (l->id && l->id_len >= 1 && l->id_len - 1 <= IKE_ID_MAX) {
		x->id.type = l->id[0];
		x->id.len = (uint8_t)(l->id_len - 1);
		memcpy(x->id.data, l->id + 1, l->id_len - 1);
	}
	x->online = l->online;
	x->since_ms = l->since_ms;
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	return memcmp(((const struct lease_row *)a)->addr, ((const struct lease_row *)b)->addr, 16);
}

/* One pool: a line with its range and counters (POOL_COUNTERS' names),
 * then a line per lease by address: address, online/offline, seconds
 * since it went so, and the identity (last: a DN has spaces). */
static void pool_out(struct out *o, const struct pool *p, bool retired, uint64_t now_ms)
{
	const struct cfg_pool *pc = pool_cfg(p);
	char a[INET6_ADDRSTRLEN] = "?", b[INET6_ADDRSTRLEN] = "?", who[IKE_ID_STR_MAX];
	struct lease_rows r = {0};
	struct pool_stats st;

	pool_stats(p, &st);
	inet_ntop(pc->family, pc->start, a, sizeof(a));
	inet_ntop(pc->family, pc->end, b, sizeof(b));
	outf(o, "%s: %s %s-%s%s", pc->name, pc->family == AF_INET ? "IPv4" : "IPv6", a, b,
	     retired ? " (replaced by a reload, leases still held)" : "");
#define POOL_STAT_OUT(name, desc) outf(o, ", %s %llu", #name, (unsigned long long)st.name);
	POOL_COUNTERS(POOL_STAT_OUT)
#undef POOL_STAT_OUT
	outf(o, "\n");
	if (pool_foreach(p, lease_take, &r) < 0)
		outf(o, "  (out of memory listing the leases)\n");
	if (r.n)
		qsort(r.v, r.n, sizeof(*r.v), by_addr);
	for (size_t i = 0; i < r.n; i++) {
		const struct lease_row *x = &r.v[i];

		inet_ntop(pc->family, x->addr, a, sizeof(a));
		if (x->id.type)
			ike_id_str(&x->id, who, sizeof(who));
		else
			snprintf(who, sizeof(who), "-");
		outf(o, "  %s %s %llus %s\n", a, x->online ? "online" : "offline",
		     (unsigned long long)(now_ms > x->since_ms ? (now_ms - x->since_ms) / 1000 : 0),
		     who);
	}
	free(r.v);
}

static void pools(struct daemon *d, struct out *o)
{
	uint64_t now_ms = conn_mono_now() / 1000000; /* the pools' clock (conn.c) */

	if (!d->n_pools && !d->n_old_pools)
		outf(o, "no pools\n");
	for (size_t i = 0; i < d->n_pools; i++)
		pool_out(o, d->pools[i], false, now_ms);
	for (size_t i = 0; i < d->n_old_pools; i++)
		pool_out(o, d->old_pools[i], true, now_ms);
}

static void control(struct daemon *d, const char *cmd, struct out *o)
{
	char msg[768];
	int rc;

	if (strcmp(cmd, "reload") == 0)
		rc = conns_reload(d, conn_mono_now(), msg, sizeof(msg));
	else if (cmd[0] == 'u')
		rc = conn_up(d, cmd + 3, conn_mono_now(), msg, sizeof(msg));
	else if (cmd[0] == 'r')
		rc = conn_rekey(d, cmd + 6, conn_mono_now(), msg, sizeof(msg));
	else
		rc = conn_down(d, cmd + 5, conn_mono_now(), msg, sizeof(msg));
	outf(o, "%s%s\n", rc < 0 ? "error: " : "", msg);
}

ssize_t ctl_answer(struct daemon *d, const char *cmd, char **answer)
{
	struct out o = {0};

	*answer = NULL;
	if (strcmp(cmd, "status") == 0)
		status(d, &o);
	else if (strcmp(cmd, "stats") == 0)
		stats(d, &o);
	else if (strcmp(cmd, "pools") == 0)
		pools(d, &o);
	else if (strcmp(cmd, "version") == 0)
		outf(&o, "tunsecd %s\n", TUNSEC_VERSION);
	else if (strncmp(cmd, "up ", 3) == 0 || strncmp(cmd, "down ", 5) == 0 ||
		 strncmp(cmd, "rekey ", 6) == 0 || strcmp(cmd, "reload") == 0)
		control(d, cmd, &o);
	else
		outf(&o, "error: unknown command (try status, stats, pools, version, up, down, "
			 "rekey, reload)\n");
	if (!o.buf) {
		/* (nothing written: memory is out) */
		o.buf = malloc(CTL_OUT_TAIL);
		if (!o.buf)
			return -ENOMEM;
		o.cap = CTL_OUT_TAIL;
		o.len = 0;
	}
	if (o.cut) {
		/* CTL_OUT_TAIL bytes are always left for this line */
		int n = snprintf(o.buf + o.len, o.cap - o.len,
				 "cut: the answer reached %zu bytes (limit %u MiB, or memory "
				 "short): the rest is left out\n",
				 o.len, CTL_OUT_MAX >> 20);

		o.len += n > 0 && (size_t)n < o.cap - o.len ? (size_t)n : 0;
	}
	*answer = o.buf;
	return (ssize_t)o.len;
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
