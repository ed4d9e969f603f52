/*
 * rwload: many road-warrior clients against one IKEv2 responder, for
 * scripts/bench_rw.sh. Each client is its own initiator engine
 * (ike/engine.h) with its own source address, and runs the initial
 * exchanges of RFC 7296 §1.2 (IKE_SA_INIT, IKE_AUTH with the first
 * CHILD_SA) over real UDP; COOKIE (§2.6) and INVALID_KE (§1.2) rounds are
 * the engine's own.
 *
 *   rwload --server ADDR --src-net NET/LEN --clients N
 *          [--psk S | --psk-file F] [--id-fmt 'client%u@rw.test']
 *          [--server-id ID] [--proposals P] [--esp-proposals P]
 *          [--concurrency C] [--timeout S] [--port 500] [--natt-port 4500]
 *          [--vip | --inner-net NET/LEN] [--initial-contact] [--keep]
 *
 * Client i (1-based) sends from the i-th usable host address of --src-net
 * (consecutive; addresses ending in .0 or .255 are skipped), identifies
 * itself as --id-fmt with i (an RFC822 address if it has an '@' that is
 * not its first character, else an FQDN), proposes its own address /32 as
 * TSi and 0.0.0.0/0 as TSr, without DPD or rekeys. --server-id is what the
 * server must prove (an IPv4 address, an e-mail address or an FQDN;
 * default: whatever it names).
 *
 * --vip: ask for a virtual IPv4 address (CP(CFG_REQUEST) with
 * INTERNAL_IP4_ADDRESS, RFC 7296 §2.19) and propose TSi 0.0.0.0/0, which
 * the server narrows to the address it assigns (§2.9), as strongSwan's
 * clients do. A client counts as established only with its CHILD_SA;
 * `vips` counts those that also got an address and whose CHILD_SA's TSi
 * is exactly that address, `distinct` how many different addresses they
 * got (a pool must never hand one address to two clients at once).
 *
 * --inner-net (without --vip, for servers without pools): propose as TSi
 * the address at client i's offset in this net instead of its own. A
 * responder that routes the client's TSi into a TUN device (tunsecd)
 * would otherwise route its own IKE and ESP datagrams to the client into
 * the tunnel as well: a loop (with --vip the server routes the virtual
 * address there, never the outer one). Clients send
 * no INITIAL_CONTACT (§2.4) unless --initial-contact: a responder that
 * does not tell its peers apart by identity would take each client's for
 * "every earlier IKE SA is gone" and delete the others'.
 *
 * All clients share two UDP sockets bound to INADDR_ANY: --port (500) and
 * --natt-port (4500, used only if the engine moves there on NAT, §2.23;
 * the four-byte non-ESP marker is added and stripped here, RFC 3948). A
 * datagram's client is its destination address (IP_PKTINFO); a client's
 * datagrams leave from its own address (IP_PKTINFO's ipi_spec_dst). The
 * whole --src-net must therefore be local, e.g. `ip route add local
 * 10.99.0.0/16 dev lo`, and the server must route it back here.
 * Datagrams go in and out in batches (recvmmsg / sendmmsg).
 *
 * At most --concurrency (200) handshakes are in flight; a client that
 * finishes makes room for the next. Each engine's one timer sits in a
 * binary min-heap over the clients (O(log n) per timer). An established
 * client's engine is freed (it sends nothing on being freed, so the
 * server keeps its SAs) unless --keep: 10 000 engines would hold GBs.
 * The run ends when every client is established or failed, or after
 * --timeout (120) seconds; clients unfinished then count as failed.
 *
 * Output: once a second to stderr
 *   t=3.0 established=1200 failed=0 inflight=200
 * and at the end one line to stdout
 *   clients=N established=N failed=N seconds=S hs_per_s=R [vips=N distinct=N]
 * seconds runs from the first initiation to the end; hs_per_s is
 * established / (last established - first initiation). Exit status 0 if
 * every client was established (with --vip: and got its own address), 1
 * if not, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/rand.h"
#include "esp/sel.h"
#include "ike/engine.h"
#include "ike/payload.h"

#define BATCH       64
#define DGRAM_MAX   (IKE_ENGINE_MSG_MAX + 4) /* + non-ESP marker */
#define RX_ROUNDS   8                        /* recvmmsg batches per socket per wake-up */
#define FAIL_LOGGED 10                       /* failures explained on stderr */

enum cstate { C_IDLE, C_RUNNING, C_UP, C_FAILED };

struct client {
	struct ike_engine *e;
	uint32_t addr; /* host order */
	uint8_t state; /* enum cstate */
	bool ike_up;
	uint32_t vip; /* --vip: the address IKE_UP brought (host order), or 0 */
	size_t hpos; /* index in the heap, or SIZE_MAX */
	ike_time_t deadline;
};

/* One outgoing batch per socket. */
struct txbatch {
	int fd;
	unsigned n;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl[BATCH];
	uint8_t data[BATCH][DGRAM_MAX];
};

struct rxbatch {
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl[BATCH];
	uint8_t data[BATCH][DGRAM_MAX];
};

static struct client *cl;
static uint32_t inner_base, inner_size; /* --inner-net */
static unsigned n_clients;
static uint32_t *heap; /* client indices, earliest deadline first */
static size_t heap_n;
static int32_t *by_host; /* host offset in --src-net -> client index, or -1 */
static uint32_t net_base, net_size;
static struct txbatch tx[2]; /* [0] --port, [1] --natt-port */
static uint16_t port_ike = 500, port_natt = 4500;
static unsigned established, failed, inflight, fail_logged, down_after_up;
static uint64_t rx_dropped, tx_errors;
static ike_time_t t_first, t_last_up;
static bool keep, want_vip;
static unsigned vip_bad; /* --vip: no address, or a CHILD_SA not narrowed to it */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static ike_time_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IKE_SEC + (uint64_t)ts.tv_nsec;
}

/* --- the timer heap ---------------------------------------------------- */

static void hset(size_t i, uint32_t c)
{
	heap[i] = c;
	cl[c].hpos = i;
}

static void sift_up(size_t i)
{
	uint32_t c = heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (cl[heap[p]].deadline <= cl[c].deadline)
			break;
		hset(i, heap[p]);
		i = p;
	}
	hset(i, c);
}

static void sift_down(size_t i)
{
	uint32_t c = heap[i];

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= heap_n)
			break;
		if (k + 1 < heap_n && cl[heap[k + 1]].deadline < cl[heap[k]].deadline)
			k++;
		if (cl[c].deadline <= cl[heap[k]].deadline)
			break;
		hset(i, heap[k]);
		i = k;
	}
	hset(i, c);
}

static void heap_remove(uint32_t c)
{
	size_t i = cl[c].hpos;

	if (i == SIZE_MAX)
		return;
	cl[c].hpos = SIZE_MAX;
	if (i == --heap_n)
		return;
	hset(i, heap[heap_n]);
	sift_down(i);
	sift_up(cl[heap[i]].hpos);
}

/* Re-file client c under its engine's next deadline. */
static void heap_update(uint32_t c)
{
	ike_time_t d = cl[c].e ? ike_engine_next_expiry(cl[c].e) : IKE_TIME_NEVER;

	if (d == IKE_TIME_NEVER) {
		heap_remove(c);
		return;
	}
	cl[c].deadline = d;
	if (cl[c].hpos == SIZE_MAX) {
		heap[heap_n] = c;
		cl[c].hpos = heap_n++;
	}
	sift_up(cl[c].hpos);
	sift_down(cl[c].hpos);
}

/* --- datagrams ------------------------------------------------------- */

static void tx_flush(struct txbatch *b)
{
	unsigned done = 0;

	while (done < b->n) {
		int r = sendmmsg(b->fd, b->m + done, b->n - done, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS) {
				struct pollfd p = {.fd = b->fd, .events = POLLOUT};

				poll(&p, 1, 10);
				continue;
			}
			/* one bad datagram (e.g. no route): skip it */
			tx_errors++;
			done++;
			continue;
		}
		done += (unsigned)r;
	}
	b->n = 0;
}

/* Queue a datagram from client address `from` along path. */
static void tx_queue(uint32_t from, const struct ike_path *path, const uint8_t *pkt, size_t len)
{
	bool natt = path->local.port != port_ike;
	struct txbatch *b = &tx[natt];
	unsigned i;
	struct cmsghdr *cm;
	struct in_pktinfo pi = {0};

	if (b->n == BATCH)
		tx_flush(b);
	i = b->n++;
	if (natt) {
		memset(b->data[i], 0, 4); /* non-ESP marker (RFC 3948 §2.2) */
		memcpy(b->data[i] + 4, pkt, len);
		len += 4;
	} else {
		memcpy(b->data[i], pkt, len);
	}
	b->iov[i].iov_base = b->data[i];
	b->iov[i].iov_len = len;
	b->to[i].sin_family = AF_INET;
	b->to[i].sin_port = htons(path->remote.port);
	memcpy(&b->to[i].sin_addr, path->remote.addr, 4);
	memset(&b->m[i], 0, sizeof(b->m[i]));
	b->m[i].msg_hdr.msg_name = &b->to[i];
	b->m[i].msg_hdr.msg_namelen = sizeof(b->to[i]);
	b->m[i].msg_hdr.msg_iov = &b->iov[i];
	b->m[i].msg_hdr.msg_iovlen = 1;
	b->m[i].msg_hdr.msg_control = b->ctl[i].buf;
	b->m[i].msg_hdr.msg_controllen = sizeof(b->ctl[i].buf);
	cm = CMSG_FIRSTHDR(&b->m[i].msg_hdr);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	pi.ipi_spec_dst.s_addr = htonl(from);
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
}

/* --- clients ----------------------------------------------------------- */

static void client_done(uint32_t c, enum cstate st)
{
	cl[c].state = (uint8_t)st;
	inflight--;
	if (st == C_UP)
		established++;
	else
		failed++;
}

static void client_fail_log(uint32_t c, const char *what, const struct ike_event *ev)
{
	if (fail_logged++ >= FAIL_LOGGED)
		return;
	fprintf(stderr, "rwload: client %u (%u.%u.%u.%u): %s: %s, notify %u\n", c + 1,
	        cl[c].addr >> 24, cl[c].addr >> 16 & 255, cl[c].addr >> 8 & 255, cl[c].addr & 255,
	        what, ike_reason_name(ev->reason), ev->notify);
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --vip: the CHILD_SA's TSi (our side) is exactly the virtual IP, any
 * protocol and port (§2.9: the server narrowed 0.0.0.0/0 to it). */
static bool vip_narrowed(const struct client *k, const struct ike_child_info *ch)
{
	const struct esp_sel *s = &ch->local[0];

	return k->vip && ch->n_local == 1 && s->family == AF_INET && s->proto == 0 &&
	       s->port_lo == 0 && s->port_hi == 65535 && load_be32(s->start) == k->vip &&
	       load_be32(s->end) == k->vip;
}

/* After every call into client c's engine: send what it queued, act on
 * its events, re-file its timer; free it once it is finished. */
static void service(uint32_t c, ike_time_t now)
{
	static uint8_t buf[IKE_ENGINE_MSG_MAX];
	struct client *k = &cl[c];
	struct ike_path path;
	struct ike_event ev;
	ssize_t n;

	while ((n = ike_engine_poll_tx(k->e, &path, buf, sizeof(buf))) > 0)
		tx_queue(k->addr, &path, buf, (size_t)n);
	while (ike_engine_poll_event(k->e, &ev) == 1) {
		switch (ev.type) {
		case IKE_EV_IKE_UP:
			k->ike_up = true;
			for (size_t i = 0; i < ev.cp.n_addrs && !k->vip; i++)
				if (ev.cp.addrs[i].family == AF_INET)
					k->vip = load_be32(ev.cp.addrs[i].addr);
			break;
		case IKE_EV_CHILD_UP:
			if (k->state == C_RUNNING) {
				if (want_vip && !vip_narrowed(k, &ev.child)) {
					client_fail_log(c, k->vip ? "CHILD_SA not narrowed to its virtual IP"
					                          : "no virtual IP",
					                &ev);
					vip_bad++;
					k->vip = 0;
				}
				client_done(c, C_UP);
				t_last_up = now;
			}
			break;
		case IKE_EV_CHILD_FAILED:
			if (k->state == C_RUNNING) {
				client_fail_log(c, "CHILD_SA refused", &ev);
				client_done(c, C_FAILED);
			}
			break;
		case IKE_EV_IKE_DOWN:
			if (k->state == C_RUNNING) {
				client_fail_log(c, "IKE SA failed", &ev);
				client_done(c, C_FAILED);
			} else if (k->state == C_UP) {
				down_after_up++;
			}
			break;
		default:
			break;
		}
		ike_event_wipe(&ev);
	}
	if (k->state != C_RUNNING && !(keep && k->state == C_UP)) {
		heap_remove(c);
		ike_engine_free(k->e);
		k->e = NULL;
		return;
	}
	heap_update(c);
}

static int client_start(uint32_t c, struct ike_config *tmpl, const char *id_fmt,
                        const uint8_t server[4], ike_time_t now)
{
	struct client *k = &cl[c];
	struct ike_config cfg = *tmpl;
	struct ike_path path = {0};
	char id[IKE_ID_MAX + 1], ts[32];
	const char *at;
	int rc;

	snprintf(id, sizeof(id), id_fmt, c + 1);
	at = strchr(id, '@');
	cfg.local_id.type = at && at != id ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
	if (at == id)
		memmove(id, id + 1, strlen(id));
	cfg.local_id.len = (uint8_t)strlen(id);
	memcpy(cfg.local_id.data, id, cfg.local_id.len);
	if (!want_vip) {
		/* our own address, or the same host offset in --inner-net */
		uint32_t in = inner_base + (k->addr - net_base);

		snprintf(ts, sizeof(ts), "%u.%u.%u.%u/32", in >> 24, in >> 16 & 255,
		         in >> 8 & 255, in & 255);
		if (esp_sel_parse(&cfg.local_ts[0], ts) < 0)
			return -1;
	} /* else the template's 0.0.0.0/0 */
	cfg.n_local_ts = 1;
	k->e = ike_engine_new(&cfg);
	if (!k->e) {
		char err[200];

		ike_config_check(&cfg, err, sizeof(err));
		fprintf(stderr, "rwload: ike_engine_new: %s\n", err);
		return -1;
	}
	path.local.family = AF_INET;
	path.local.port = port_ike;
	path.local.addr[0] = (uint8_t)(k->addr >> 24);
	path.local.addr[1] = (uint8_t)(k->addr >> 16);
	path.local.addr[2] = (uint8_t)(k->addr >> 8);
	path.local.addr[3] = (uint8_t)k->addr;
	path.remote.family = AF_INET;
	path.remote.port = port_ike;
	memcpy(path.remote.addr, server, 4);
	k->state = C_RUNNING;
	inflight++;
	rc = ike_engine_initiate(k->e, &path, now);
	if (rc < 0) {
		fprintf(stderr, "rwload: initiate: %s\n", ike_err_name(rc));
		client_done(c, C_FAILED);
		ike_engine_free(k->e);
		k->e = NULL;
		return 0;
	}
	service(c, now);
	return 0;
}

/* Hand every datagram waiting on socket `which` to its client. */
static void rx_drain(int fd, int which, struct rxbatch *b, ike_time_t now)
{
	for (int round = 0; round < RX_ROUNDS; round++) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			b->iov[i].iov_base = b->data[i];
			b->iov[i].iov_len = sizeof(b->data[i]);
			memset(&b->m[i].msg_hdr, 0, sizeof(b->m[i].msg_hdr));
			b->m[i].msg_hdr.msg_name = &b->from[i];
			b->m[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
			b->m[i].msg_hdr.msg_iov = &b->iov[i];
			b->m[i].msg_hdr.msg_iovlen = 1;
			b->m[i].msg_hdr.msg_control = b->ctl[i].buf;
			b->m[i].msg_hdr.msg_controllen = sizeof(b->ctl[i].buf);
		}
		n = recvmmsg(fd, b->m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &b->m[i].msg_hdr;
			const uint8_t *pkt = b->data[i];
			size_t len = b->m[i].msg_len;
			struct ike_path path = {0};
			uint32_t dst = 0, off;
			bool have_dst = false;
			int32_t c;

			for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
				if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
					struct in_pktinfo pi;

					memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
					dst = ntohl(pi.ipi_addr.s_addr);
					have_dst = true;
				}
			}
			if (h->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
				rx_dropped++; /* larger than any IKE message */
				continue;
			}
			off = dst - net_base;
			if (!have_dst || off >= net_size || (c = by_host[off]) < 0 || !cl[c].e) {
				rx_dropped++;
				continue;
			}
			if (which == 1) {
				/* port 4500: IKE behind a zero marker, else ESP */
				if (len < 4 || memcmp(pkt, "\0\0\0\0", 4) != 0) {
					rx_dropped++;
					continue;
				}
				pkt += 4;
				len -= 4;
			}
			path.local.family = AF_INET;
			path.local.port = which ? port_natt : port_ike;
			memcpy(path.local.addr, &(uint32_t){htonl(dst)}, 4);
			path.remote.family = AF_INET;
			path.remote.port = ntohs(b->from[i].sin_port);
			memcpy(path.remote.addr, &b->from[i].sin_addr, 4);
			ike_engine_recv(cl[c].e, &path, pkt, len, now);
			service((uint32_t)c, now);
		}
		if (n < BATCH)
			return;
	}
}

static int udp_socket(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	int sz = 8 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	/* as root past rmem_max; else what the sysctls allow */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

/* An identity in strongSwan's forms: an IPv4 address, an e-mail address,
 * a host name ("@" first: a host name without it). */
static int parse_id(struct ike_identity *id, const char *s)
{
	struct in_addr a;

	memset(id, 0, sizeof(*id));
	if (inet_pton(AF_INET, s, &a) == 1) {
		id->type = IKE_ID_IPV4_ADDR;
		id->len = 4;
		memcpy(id->data, &a, 4);
		return 0;
	}
	if (s[0] == '@')
		id->type = IKE_ID_FQDN, s++;
	else
		id->type = strchr(s, '@') ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
	if (strlen(s) == 0 || strlen(s) > IKE_ID_MAX)
		return -1;
	id->len = (uint8_t)strlen(s);
	memcpy(id->data, s, id->len);
	return 0;
}

/* A whole decimal number in [lo, hi]; 0, or -1 with a message. */
static int parse_uint(const char *opt, const char *s, unsigned long lo, unsigned long hi,
                      unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "rwload: --%s: a number from %lu to %lu, not '%s'\n", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* A finite decimal number in (0, hi]; 0, or -1 with a message. */
static int parse_secs(const char *opt, const char *s, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v <= 0 || v > hi) {
		fprintf(stderr, "rwload: --%s: more than 0, at most %g, not '%s'\n", opt, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* "A.B.C.D/LEN", LEN 8..30 (host bits are cleared). */
static int parse_net(const char *opt, const char *s, uint32_t *base, unsigned *bits)
{
	char tmp[64], *slash;
	struct in_addr a;
	unsigned long b;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s", s);
	slash = strchr(tmp, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (parse_uint(opt, slash + 1, 8, 30, &b) < 0)
		return -1;
	if (inet_pton(AF_INET, tmp, &a) != 1)
		return -1;
	*bits = (unsigned)b;
	*base = ntohl(a.s_addr) & ~((1u << (32 - b)) - 1);
	return 0;
}

static int read_psk(const char *file, char *out, size_t cap)
{
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
	/* a NUL inside would cut the key short without a word */
	return n && memchr(out, '\0', n) == NULL ? 0 : -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* --vip: how many established clients got an address, and how many
 * different ones (sorted, then counted). */
static void count_vips(unsigned *vips, unsigned *distinct)
{
	uint32_t *v = malloc((size_t)n_clients * sizeof(*v));
	unsigned n = 0;

	*vips = *distinct = 0;
	for (unsigned c = 0; c < n_clients; c++)
		if (cl[c].state == C_UP && cl[c].vip)
			n++;
	*vips = n;
	if (!v) {
		fprintf(stderr, "rwload: out of memory counting addresses\n");
		return;
	}
	n = 0;
	for (unsigned c = 0; c < n_clients; c++)
		if (cl[c].state == C_UP && cl[c].vip)
			v[n++] = cl[c].vip;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (unsigned i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			(*distinct)++;
	free(v);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: rwload --server ADDR --src-net NET/LEN --clients N\n"
	        "              [--psk S | --psk-file F] [--id-fmt 'client%%u@rw.test']\n"
	        "              [--server-id ID] [--proposals P] [--esp-proposals P]\n"
	        "              [--concurrency C] [--timeout S] [--port 500] [--natt-port 4500]\n"
	        "              [--vip | --inner-net NET/LEN] [--initial-contact] [--keep]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 'S'},
	    {"src-net", required_argument, NULL, 'n'},
	    {"clients", required_argument, NULL, 'N'},
	    {"psk", required_argument, NULL, 'k'},
	    {"psk-file", required_argument, NULL, 'K'},
	    {"id-fmt", required_argument, NULL, 'i'},
	    {"server-id", required_argument, NULL, 'I'},
	    {"proposals", required_argument, NULL, 'p'},
	    {"esp-proposals", required_argument, NULL, 'e'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 't'},
	    {"port", required_argument, NULL, 'P'},
	    {"natt-port", required_argument, NULL, 'T'},
	    {"keep", no_argument, NULL, 'x'},
	    {"inner-net", required_argument, NULL, 'j'},
	    {"vip", no_argument, NULL, 'v'},
	    {"initial-contact", no_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	static struct rxbatch rxb;
	static char psk[IKE_PSK_MAX + 2];
	static struct ike_config tmpl;
	const char *server_s = NULL, *net_s = NULL, *psk_file = NULL, *inner_s = NULL;
	bool initial_contact = false;
	const char *id_fmt = "client%u@rw.test", *server_id = NULL;
	const char *ike_props = "aes256gcm16-prfsha256-x25519", *esp_props = "aes256gcm16";
	unsigned concurrency = 200, bits = 0, next = 0;
	unsigned long v;
	double timeout = 120;
	uint8_t server[4];
	struct pollfd pfd[2];
	ike_time_t t_end, next_progress;
	double secs;
	unsigned vips = 0, distinct = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			server_s = optarg;
			break;
		case 'n':
			net_s = optarg;
			break;
		case 'N':
			/* one per host of a /8 at most */
			if (parse_uint("clients", optarg, 1, 1u << 24, &v) < 0)
				return 2;
			n_clients = (unsigned)v;
			break;
		case 'k':
			if (strlen(optarg) > IKE_PSK_MAX) {
				fprintf(stderr, "rwload: --psk: at most %d bytes\n", IKE_PSK_MAX);
				return 2;
			}
			snprintf(psk, sizeof(psk), "%s", optarg);
			break;
		case 'K':
			psk_file = optarg;
			break;
		case 'i':
			id_fmt = optarg;
			break;
		case 'I':
			server_id = optarg;
			break;
		case 'p':
			ike_props = optarg;
			break;
		case 'e':
			esp_props = optarg;
			break;
		case 'c':
			if (parse_uint("concurrency", optarg, 1, 1u << 24, &v) < 0)
				return 2;
			concurrency = (unsigned)v;
			break;
		case 't':
			if (parse_secs("timeout", optarg, 86400, &timeout) < 0)
				return 2;
			break;
		case 'P':
			if (parse_uint("port", optarg, 1, 65535, &v) < 0)
				return 2;
			port_ike = (uint16_t)v;
			break;
		case 'T':
			if (parse_uint("natt-port", optarg, 1, 65535, &v) < 0)
				return 2;
			port_natt = (uint16_t)v;
			break;
		case 'v':
			want_vip = true;
			break;
		case 'x':
			keep = true;
			break;
		case 'j':
			inner_s = optarg;
			break;
		case 'C':
			initial_contact = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind < argc || !server_s || !net_s || n_clients == 0 ||
	    inet_pton(AF_INET, server_s, server) != 1 ||
	    parse_net("src-net", net_s, &net_base, &bits) < 0 || port_ike == port_natt ||
	    (want_vip && inner_s)) {
		usage();
		return 2;
	}
	inner_base = net_base;
	inner_size = 1u << (32 - bits);
	if (inner_s) {
		unsigned ib;

		if (parse_net("inner-net", inner_s, &inner_base, &ib) < 0) {
			usage();
			return 2;
		}
		inner_size = 1u << (32 - ib);
	}
	if (psk_file && read_psk(psk_file, psk, sizeof(psk)) < 0) {
		fprintf(stderr, "rwload: cannot read a PSK from %s\n", psk_file);
		return 2;
	}
	if (!psk[0] || strlen(psk) > IKE_PSK_MAX) {
		fprintf(stderr, "rwload: --psk or --psk-file: 1..%d bytes\n", IKE_PSK_MAX);
		return 2;
	}
	/* %u exactly once, nothing else that printf would read */
	{
		const char *p = strchr(id_fmt, '%');

		if (!p || p[1] != 'u' || strchr(p + 2, '%')) {
			fprintf(stderr, "rwload: --id-fmt needs exactly one %%u\n");
			return 2;
		}
	}
	if (crypto_init() < 0)
		return 1;

	/* Addresses: consecutive host addresses, without .0 and .255. */
	net_size = 1u << (32 - bits);
	cl = calloc(n_clients, sizeof(*cl));
	heap = calloc(n_clients, sizeof(*heap));
	by_host = malloc(net_size * sizeof(*by_host));
	if (!cl || !heap || !by_host) {
		fprintf(stderr, "rwload: out of memory\n");
		return 1;
	}
	memset(by_host, 0xff, net_size * sizeof(*by_host));
	{
		uint32_t off = 1;

		for (unsigned c = 0; c < n_clients; c++, off++) {
			while (off < net_size - 1 && ((off & 255) == 0 || (off & 255) == 255))
				off++;
			if (off >= net_size - 1) {
				fprintf(stderr, "rwload: %s has room for %u clients, not %u\n",
				        net_s, c, n_clients);
				return 2;
			}
			if (off >= inner_size - 1) {
				fprintf(stderr, "rwload: --inner-net is smaller than --src-net\n");
				return 2;
			}
			cl[c].addr = net_base + off;
			cl[c].hpos = SIZE_MAX;
			by_host[off] = (int32_t)c;
		}
	}

	/* What every client has in common. */
	tmpl.psk = (const uint8_t *)psk;
	tmpl.psk_len = strlen(psk);
	tmpl.local_auth = IKE_AUTHBY_PSK;
	tmpl.remote_auth = IKE_AUTHBY_PSK;
	if (server_id && parse_id(&tmpl.remote_id, server_id) < 0) {
		fprintf(stderr, "rwload: bad --server-id %s\n", server_id);
		return 2;
	}
	tmpl.ike_proposals = ike_props;
	tmpl.esp_proposals = esp_props;
	if (esp_sel_parse(&tmpl.remote_ts[0], "0.0.0.0/0") < 0)
		return 1;
	tmpl.n_remote_ts = 1;
	if (want_vip) {
		/* §2.19: the server narrows TSi to the address it assigns */
		if (esp_sel_parse(&tmpl.local_ts[0], "0.0.0.0/0") < 0)
			return 1;
		tmpl.request_vip4 = true;
	}
	tmpl.initial_contact = initial_contact;

	for (int i = 0; i < 2; i++) {
		int fd = udp_socket(i ? port_natt : port_ike);

		if (fd < 0) {
			fprintf(stderr, "rwload: UDP port %u: %s\n", i ? port_natt : port_ike,
			        strerror(errno));
			return 1;
		}
		tx[i].fd = fd;
		pfd[i].fd = fd;
		pfd[i].events = POLLIN;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	t_first = now_ns();
	t_end = t_first + (ike_time_t)(timeout * 1e9);
	next_progress = t_first + IKE_SEC;
	for (;;) {
		ike_time_t now = now_ns(), wake;
		int ms;

		while (next < n_clients && inflight < concurrency) {
			if (client_start(next, &tmpl, id_fmt, server, now) < 0)
				return 1;
			next++;
		}
		for (int i = 0; i < 2; i++)
			tx_flush(&tx[i]);
		if (established + failed == n_clients || now >= t_end || stop)
			break;

		wake = next_progress < t_end ? next_progress : t_end;
		if (heap_n && cl[heap[0]].deadline < wake)
			wake = cl[heap[0]].deadline;
		ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		if (poll(pfd, 2, ms) < 0 && errno != EINTR) {
			perror("rwload: poll");
			return 1;
		}
		now = now_ns();
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				rx_drain(pfd[i].fd, i, &rxb, now);
		while (heap_n && cl[heap[0]].deadline <= now) {
			uint32_t c = heap[0];

			ike_engine_handle_expiry(cl[c].e, now);
			service(c, now);
		}
		if (now >= next_progress) {
			fprintf(stderr, "t=%.1f established=%u failed=%u inflight=%u\n",
			        (double)(now - t_first) / 1e9, established, failed, inflight);
			next_progress += IKE_SEC;
		}
	}
	secs = (double)(now_ns() - t_first) / 1e9;
	if (established + failed < n_clients)
		fprintf(stderr, "rwload: %u clients unfinished at the end (counted as failed)\n",
		        n_clients - established - failed);
	if (down_after_up || rx_dropped || tx_errors)
		fprintf(stderr, "rwload: %u IKE SAs went down after they were up, %llu datagrams "
		                "for no client dropped, %llu send errors\n",
		        down_after_up, (unsigned long long)rx_dropped,
		        (unsigned long long)tx_errors);
	failed = n_clients - established;
	if (want_vip)
		count_vips(&vips, &distinct);
	printf("clients=%u established=%u failed=%u seconds=%.2f hs_per_s=%.1f", n_clients,
	       established, failed, secs,
	       established && t_last_up > t_first
	           ? (double)established / ((double)(t_last_up - t_first) / 1e9)
	           : 0.0);
	if (want_vip)
		printf(" vips=%u distinct=%u", vips, distinct);
	printf("\n");
	if (want_vip && vip_bad)
		fprintf(stderr, "rwload: %u established clients without their own virtual IP "
		                "(none, or a CHILD_SA not narrowed to it)\n", vip_bad);
	for (unsigned c = 0; c < n_clients; c++)
		ike_engine_free(cl[c].e);
	sodium_memzero(psk, sizeof(psk));
	return established == n_clients && (!want_vip || distinct == n_clients) ? 0 : 1;
}
