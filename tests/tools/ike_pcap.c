/*
 * ike_pcap: two IKEv2 engines ("moon" 192.0.2.1 initiating, "sun"
 * 192.0.2.2 responding; PSK, aes256gcm16-prfsha256-x25519) talk in memory
 * through IKE_SA_INIT, IKE_AUTH, a CHILD_SA rekey (CREATE_CHILD_SA), an
 * IKE SA rekey, a liveness check and a Delete of the IKE SA (INFORMATIONAL),
 * and every datagram they exchange is written to a classic pcap file
 * (LINKTYPE_RAW: IPv4 + UDP + IKE), for tshark to judge the wire format
 * (tests/cross/tshark_ike.sh).
 *
 *	ike_pcap [-n] [-f] FILE
 *
 *	-n  moon sits behind a NAT (198.51.100.5, ports + 30000): NAT detection
 *	    moves the IKE SA to port 4500 from IKE_AUTH on, and datagrams on
 *	    port 4500 carry the four-byte non-ESP marker (RFC 3948 §2.2)
 *	-f  a small fragment length, so that encrypted messages go as RFC 7383
 *	    fragments (SKF)
 *
 * Prints one line per datagram (number, direction, ports, length) and the
 * events each engine reported. Exit status 0 only if the whole sequence
 * happened as planned.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp/sel.h"
#include "ike/engine.h"
#include "ike/payload.h"

#define MS           1000000ULL
#define LATENCY      (10 * MS)
#define NAT_OFFSET   30000
#define LINKTYPE_RAW 101
#define T0_SEC       1700000000U /* the capture's first timestamp */
#define MAX_Q        64

struct pkt {
	int to;
	struct ike_path path; /* as the receiver sees it */
	size_t len;
	uint8_t buf[IKE_ENGINE_MSG_MAX];
};

struct net {
	struct ike_engine *e[2];
	uint64_t rnd[2];
	struct ike_addr addr[2]; /* own addresses, port 500 */
	struct ike_addr nat_addr;
	bool nat;
	ike_time_t now;
	FILE *out;
	unsigned n_pkt;
	uint16_t ip_id;
	size_t nq;
	struct pkt q[MAX_Q];
	/* what each side saw */
	unsigned ike_up[2], child_up[2], child_down[2], ike_down[2];
	uint32_t child_spi[2], sa_id[2];
};

static struct net N;

static void die(const char *msg)
{
	fprintf(stderr, "ike_pcap: %s\n", msg);
	exit(1);
}

/* Deterministic SPIs and nonces, so that two runs differ only in the key
 * exchange and IVs (which come from crypto/). */
static void det_rand(void *ctx, void *buf, size_t len)
{
	uint64_t *st = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		uint64_t x = *st;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		*st = x;
		p[i] = (uint8_t)((x * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* RFC 791 header checksum: one's complement sum of 16-bit words. */
static uint16_t ip_csum(const uint8_t *h, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void pcap_header(FILE *f)
{
	uint8_t h[24];

	put32le(h, 0xa1b2c3d4); /* microsecond timestamps, our byte order: LE */
	h[4] = 2, h[5] = 0;     /* version 2.4 */
	h[6] = 4, h[7] = 0;
	put32le(h + 8, 0);  /* thiszone */
	put32le(h + 12, 0); /* sigfigs */
	put32le(h + 16, 65535);
	put32le(h + 20, LINKTYPE_RAW);
	if (fwrite(h, sizeof(h), 1, f) != 1)
		die("cannot write the pcap header");
}

/* One IKE datagram from src to dst as it travels on the wire: IPv4, UDP,
 * the non-ESP marker when either port is 4500 (RFC 3948 §2.2), IKE. */
static void pcap_write(const struct ike_addr *src, const struct ike_addr *dst, const uint8_t *ike,
                       size_t len)
{
	uint8_t rec[16], hdr[20 + 8 + 4];
	bool marker = src->port == 4500 || dst->port == 4500;
	size_t udp_len = 8 + (marker ? 4 : 0) + len, ip_len = 20 + udp_len;
	ike_time_t usec = N.now / 1000;

	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 0x45;
	put16(hdr + 2, (uint16_t)ip_len);
	put16(hdr + 4, N.ip_id++);
	put16(hdr + 6, 0x4000); /* DF */
	hdr[8] = 64;
	hdr[9] = 17; /* UDP */
	memcpy(hdr + 12, src->addr, 4);
	memcpy(hdr + 16, dst->addr, 4);
	put16(hdr + 10, ip_csum(hdr, 20));
	put16(hdr + 20, src->port);
	put16(hdr + 22, dst->port);
	put16(hdr + 24, (uint16_t)udp_len);
	/* UDP checksum 0: none (RFC 768), fine over IPv4 */
	put32le(rec, T0_SEC + (uint32_t)(usec / 1000000));
	put32le(rec + 4, (uint32_t)(usec % 1000000));
	put32le(rec + 8, (uint32_t)(ip_len));
	put32le(rec + 12, (uint32_t)(ip_len));
	if (fwrite(rec, sizeof(rec), 1, N.out) != 1 ||
	    fwrite(hdr, 28 + (marker ? 4 : 0), 1, N.out) != 1 || fwrite(ike, len, 1, N.out) != 1)
		die("cannot write a pcap record");
}

/* The sender's path on the wire (after the NAT, if any) and as the
 * receiver sees it. */
static void route(int from, const struct ike_path *sent, const uint8_t *buf, size_t len)
{
	struct ike_path rx;
	struct pkt *p;

	rx.local = sent->remote;
	rx.remote = sent->local;
	if (N.nat && from == 0) {
		rx.remote = N.nat_addr;
		rx.remote.port = (uint16_t)(sent->local.port + NAT_OFFSET);
	} else if (N.nat && from == 1) {
		rx.local = N.addr[0];
		rx.local.port = (uint16_t)(sent->remote.port - NAT_OFFSET);
	}
	/* The capture is taken between the NAT and the responder. */
	if (from == 0)
		pcap_write(&rx.remote, &rx.local, buf, len);
	else
		pcap_write(&sent->local, &sent->remote, buf, len);
	N.n_pkt++;
	printf("%3u %s %5u -> %5u  %4zu bytes\n", N.n_pkt, from == 0 ? "moon->sun" : "sun->moon",
	       sent->local.port, sent->remote.port, len);
	if (N.nq == MAX_Q)
		die("too many datagrams in flight");
	p = &N.q[N.nq++];
	p->to = 1 - from;
	p->path = rx;
	p->len = len;
	memcpy(p->buf, buf, len);
}

static void flush(void)
{
	static uint8_t buf[IKE_ENGINE_MSG_MAX];
	struct ike_event ev;
	struct ike_path path;
	ssize_t n;

	for (int i = 0; i < 2; i++) {
		while ((n = ike_engine_poll_tx(N.e[i], &path, buf, sizeof(buf))) > 0)
			route(i, &path, buf, (size_t)n);
		if (n < 0)
			die("poll_tx failed");
		while (ike_engine_poll_event(N.e[i], &ev) == 1) {
			switch (ev.type) {
			case IKE_EV_IKE_UP:
				N.ike_up[i]++;
				N.sa_id[i] = ev.sa_id;
				break;
			case IKE_EV_IKE_DOWN:
				N.ike_down[i]++;
				break;
			case IKE_EV_CHILD_UP:
				N.child_up[i]++;
				N.child_spi[i] = ev.child.spi_in;
				break;
			case IKE_EV_CHILD_DOWN:
				N.child_down[i]++;
				break;
			default:
				break;
			}
			printf("    event at %s: type %d sa %u%s%s\n", i == 0 ? "moon" : "sun",
			       (int)ev.type, ev.sa_id, ev.reason ? ", " : "",
			       ev.reason ? ike_reason_name(ev.reason) : "");
			ike_event_wipe(&ev);
		}
	}
}

/* Deliver everything in order (one latency per hop) until quiet. */
static void run(void)
{
	static struct pkt p;

	flush();
	while (N.nq > 0) {
		p = N.q[0];
		memmove(&N.q[0], &N.q[1], (N.nq - 1) * sizeof(N.q[0]));
		N.nq--;
		N.now += LATENCY;
		if (ike_engine_recv(N.e[p.to], &p.path, p.buf, p.len, N.now) < 0)
			die("an engine refused a datagram of its peer");
		flush();
	}
}

static struct ike_engine *make(int side, size_t frag_len)
{
	static const char psk[] = "tshark checks the wire format";
	struct ike_config c;
	const char *me = side ? "sun.example" : "moon.example";
	const char *peer = side ? "moon.example" : "sun.example";

	memset(&c, 0, sizeof(c));
	c.local_id.type = c.remote_id.type = IKE_ID_FQDN;
	c.local_id.len = (uint8_t)strlen(me);
	memcpy(c.local_id.data, me, c.local_id.len);
	c.remote_id.len = (uint8_t)strlen(peer);
	memcpy(c.remote_id.data, peer, c.remote_id.len);
	c.psk = (const uint8_t *)psk;
	c.psk_len = sizeof(psk) - 1;
	c.ike_proposals = "aes256gcm16-prfsha256-x25519";
	c.esp_proposals = "aes256gcm16-x25519";
	if (esp_sel_parse(&c.local_ts[0], side ? "10.2.0.0/16" : "10.1.0.0/16") < 0 ||
	    esp_sel_parse(&c.remote_ts[0], side ? "10.1.0.0/16" : "10.2.0.0/16") < 0)
		die("selectors");
	c.n_local_ts = c.n_remote_ts = 1;
	c.initial_contact = true;
	c.dpd_delay = 30 * IKE_SEC;
	c.fragment_len = frag_len;
	c.rand = det_rand;
	N.rnd[side] = 0xC0FFEE + (uint64_t)side * 0x9E3779B97F4A7C15ULL;
	c.rand_ctx = &N.rnd[side];
	return ike_engine_new(&c);
}

static void set_addr(struct ike_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->port = 500;
	a->addr[0] = b0, a->addr[1] = b1, a->addr[2] = b2, a->addr[3] = b3;
}

static void expect(bool ok, const char *what)
{
	if (!ok)
		die(what);
}

int main(int argc, char **argv)
{
	struct ike_path path;
	size_t frag_len = 0;
	int opt;

	while ((opt = getopt(argc, argv, "nf")) != -1) {
		if (opt == 'n')
			N.nat = true;
		else if (opt == 'f')
			frag_len = 128;
		else
			return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: ike_pcap [-n] [-f] FILE.pcap\n");
		return 2;
	}
	N.out = fopen(argv[optind], "wb");
	if (!N.out)
		die("cannot open the output file");
	pcap_header(N.out);
	set_addr(&N.addr[0], 192, 0, 2, 1);
	set_addr(&N.addr[1], 192, 0, 2, 2);
	set_addr(&N.nat_addr, 198, 51, 100, 5);
	N.e[0] = make(0, frag_len);
	N.e[1] = make(1, frag_len);
	expect(N.e[0] && N.e[1], "ike_engine_new failed");

	/* IKE_SA_INIT, IKE_AUTH (with the first CHILD_SA) */
	path.local = N.addr[0];
	path.remote = N.addr[1];
	expect(ike_engine_initiate(N.e[0], &path, N.now) > 0, "initiate failed");
	run();
	expect(N.ike_up[0] == 1 && N.ike_up[1] == 1 && N.child_up[0] == 1 && N.child_up[1] == 1,
	       "the handshake did not complete");

	/* CREATE_CHILD_SA: rekey the CHILD_SA (with PFS), then the INFORMATIONAL
	 * Delete of the old one */
	N.now += IKE_SEC;
	expect(ike_engine_rekey_child(N.e[0], N.child_spi[0], N.now) == 0, "rekey_child failed");
	run();
	expect(N.child_up[0] == 2 && N.child_up[1] == 2 && N.child_down[0] == 1 &&
	           N.child_down[1] == 1,
	       "the CHILD_SA rekey did not complete");

	/* CREATE_CHILD_SA: rekey the IKE SA, from the responder this time */
	N.now += IKE_SEC;
	expect(ike_engine_rekey_ike(N.e[1], N.sa_id[1], N.now) == 0, "rekey_ike failed");
	run();
	expect(N.ike_up[0] == 2 && N.ike_up[1] == 2 && N.ike_down[0] == 1 && N.ike_down[1] == 1,
	       "the IKE SA rekey did not complete");

	/* An empty INFORMATIONAL: the liveness check (§2.4) after dpd_delay */
	N.now += 31 * IKE_SEC;
	for (int i = 0; i < 2; i++)
		if (ike_engine_next_expiry(N.e[i]) <= N.now)
			ike_engine_handle_expiry(N.e[i], N.now);
	run();

	/* INFORMATIONAL: Delete of the IKE SA */
	N.now += IKE_SEC;
	expect(ike_engine_delete_ike(N.e[0], N.sa_id[0], N.now) == 0, "delete_ike failed");
	run();
	expect(N.ike_down[0] == 2 && N.ike_down[1] == 2, "the Delete did not complete");
	expect(ike_engine_sa_count(N.e[0]) == 0 && ike_engine_sa_count(N.e[1]) == 0,
	       "IKE SAs left over");

	ike_engine_free(N.e[0]);
	ike_engine_free(N.e[1]);
	if (fclose(N.out) != 0)
		die("cannot close the output file");
	printf("%u datagrams written to %s\n", N.n_pkt, argv[optind]);
	return 0;
}
