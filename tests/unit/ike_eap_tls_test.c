/*
 * ike/eap_tls: whole EAP-TLS conversations (RFC 5216) through ike/eap's
 * server and peer, in memory, with the certificates of tests/vectors/certs
 * (see ike_cert_test.c; made once with openssl, valid 2025-2035):
 *
 *	server: moon-ecdsa384 (CN and DNS moon.tunsec.test), by ca-rsa
 *	peer:   sun-ecdsa256 (DNS sun.tunsec.test, email sun@tunsec.test),
 *	        by ca-ecdsa (an intermediate of ca-rsa, trusted as an anchor)
 *	ca-other and moon-other: a CA that vouches for nobody here
 *
 * Checked: §2.1.1 the conversation (Start, flights, the final ACK) and
 * §2.3 the MSK, equal at both ends and 64 bytes; §2.1.5 fragmentation
 * with L on the first fragment, M on all but the last, an ACK for each;
 * §2.1.3 / §2.1.4 a refused certificate at either end fails both; §5.2
 * the peer's identity must be in its certificate, in any of the forms
 * eap_tls_cert_names() takes; §3.1 malformed flags and lengths and the
 * cap on the TLS Message Length fail cleanly, truncated and garbled
 * packets of a real conversation too (under ASan in the suite). Both ends
 * offer TLS 1.3, so the conversations above run RFC 9190; the last tests
 * check its commitment message (§2.1.1, §2.5) and exporter MSK (§2.3),
 * and RFC 5216 §2.3's MSK by hand with a TLS 1.2-only peer.
 */
#include "tests/unit/test.h"

#include <stdlib.h>

#include <sodium.h>

#include "ike/eap.h"
#include "ike/eap_tls.h"
#include "ike/wire.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>

static const char *fx(const char *name)
{
	static char buf[8][512];
	static unsigned k;
	const char *top = getenv("TUNSEC_TOP");
	char *p = buf[k++ % 8];

	snprintf(p, 512, "%s/tests/vectors/certs/%s", top && *top ? top : ".", name);
	return p;
}

static uint8_t *slurp(const char *name, size_t *len)
{
	FILE *f = fopen(fx(name), "rb");
	uint8_t *b = malloc(1 << 16);
	size_t n;

	REQUIRE(f && b);
	n = fread(b, 1, 1 << 16, f);
	fclose(f);
	*len = n;
	return b;
}

static void add(int (*fn)(struct eap_tls_creds *, const uint8_t *, size_t), struct eap_tls_creds *c,
                const char *name)
{
	size_t n;
	uint8_t *b = slurp(name, &n);

	REQUIRE_EQ(fn(c, b, n), 0);
	free(b);
}

static void creds(struct eap_tls_creds *c, const char *cert, const char *im, const char *key,
                  const char *ca)
{
	eap_tls_creds_init(c);
	add(eap_tls_creds_add_cert, c, cert);
	if (im)
		add(eap_tls_creds_add_cert, c, im);
	add(eap_tls_creds_add_key, c, key);
	add(eap_tls_creds_add_ca, c, ca);
}

static int rnd(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
	return 0;
}

struct world {
	struct eap_tls_creds sc, pc;
	struct eap_tls st, pt;
	struct eap_server s;
	struct eap_peer p;
	const char *peer_id;   /* the EAP identity the peer gives */
	const char *server_id; /* the server name the peer insists on */
	uint8_t req[1600], resp[1600];
	size_t req_len, resp_len;
	/* what went over the wire */
	unsigned rounds, frags, acks, req_l;
	int srv_rc, peer_rc;
};

static const uint8_t *server_identity(void *ctx, size_t *len)
{
	return eap_server_identity(ctx, len);
}

static const uint8_t *want_server(void *ctx, size_t *len)
{
	const struct world *w = ctx;

	*len = w->server_id ? strlen(w->server_id) : 0;
	return (const uint8_t *)w->server_id;
}

static struct world *setup(const char *srv_ca, const char *peer_ca, const char *peer_id,
                           size_t frag)
{
	struct world *w = calloc(1, sizeof(*w));
	struct eap_tls_cfg sc = {
	    .creds = &w->sc, .rand = rnd, .identity = server_identity, .fragment_size = frag};
	struct eap_tls_cfg pc = {
	    .creds = &w->pc, .rand = rnd, .identity = want_server, .fragment_size = frag};
	struct eap_method sm = {&eap_tls_ops, &w->st}, pm = {&eap_tls_ops, &w->pt};

	REQUIRE(w);
	REQUIRE_EQ(sodium_init() >= 0, 1);
	w->peer_id = peer_id;
	creds(&w->sc, "moon-ecdsa384.pem", NULL, "moon-ecdsa384.key", srv_ca);
	creds(&w->pc, "sun-ecdsa256.pem", NULL, "sun-ecdsa256.key", peer_ca);
	sc.identity_ctx = &w->s;
	pc.identity_ctx = w;
	REQUIRE_EQ(eap_tls_server_init(&w->st, &sc), 0);
	REQUIRE_EQ(eap_tls_peer_init(&w->pt, &pc), 0);
	REQUIRE_EQ(eap_server_init(&w->s, &sm, 1, true, (const uint8_t *)"192.0.2.9", 9, 7), 0);
	REQUIRE_EQ(eap_peer_init(&w->p, &pm, 1, (const uint8_t *)peer_id, strlen(peer_id)), 0);
	return w;
}

static void teardown(struct world *w)
{
	eap_tls_free(&w->st);
	eap_tls_free(&w->pt);
	eap_tls_creds_free(&w->sc);
	eap_tls_creds_free(&w->pc);
	free(w);
}

/* Count fragments (M) and ACKs (Flags 0, nothing else) of one packet. */
static void tally(struct world *w, const uint8_t *pkt, size_t len, bool req)
{
	if (len < 6 || pkt[4] != EAP_TYPE_TLS)
		return;
	if (pkt[5] & EAP_TLS_FLAG_M) {
		w->frags++;
		/* §3.1: L is on the first fragment; we put it on no other. */
		CHECK(!(pkt[5] & EAP_TLS_FLAG_L) || len >= 10);
	}
	if (pkt[5] == 0 && len == 6)
		w->acks++;
	if (req && (pkt[5] & EAP_TLS_FLAG_L))
		w->req_l++;
}

/* Run until either side is done (or 200 rounds: a loop is a failure). */
static void run(struct world *w)
{
	w->srv_rc = eap_server_start(&w->s, w->req, sizeof(w->req), &w->req_len);
	REQUIRE_EQ(w->srv_rc, EAP_SEND);
	for (w->rounds = 0; w->rounds < 200; w->rounds++) {
		tally(w, w->req, w->req_len, true);
		w->peer_rc = eap_peer_process(&w->p, w->req, w->req_len, w->resp, sizeof(w->resp),
		                              &w->resp_len);
		if (w->peer_rc != EAP_SEND)
			return;
		tally(w, w->resp, w->resp_len, false);
		w->srv_rc = eap_server_process(&w->s, w->resp, w->resp_len, w->req, sizeof(w->req),
		                               &w->req_len);
		if (w->srv_rc != EAP_SEND) {
			/* Success or Failure to the peer. */
			w->peer_rc = eap_peer_process(&w->p, w->req, w->req_len, w->resp,
			                              sizeof(w->resp), &w->resp_len);
			return;
		}
	}
	CHECK(!"the conversation did not end");
}

static void check_success(struct world *w)
{
	uint8_t m1[EAP_MSK_MAX], m2[EAP_MSK_MAX], zero[EAP_MSK_MAX] = {0};

	CHECK_EQ(w->srv_rc, EAP_SUCCESS);
	CHECK_EQ(w->peer_rc, EAP_SUCCESS);
	/* §2.3: Key_Material(0, 63), the same at both ends */
	CHECK_EQ(eap_server_msk(&w->s, m1), EAP_TLS_MSK_LEN);
	CHECK_EQ(eap_peer_msk(&w->p, m2), EAP_TLS_MSK_LEN);
	CHECK_MEM(m1, m2, EAP_TLS_MSK_LEN);
	CHECK(memcmp(m1, zero, EAP_TLS_MSK_LEN) != 0);
}

TEST(eaptls_rfc5216_2_1_1_success_email_identity_equal_msk)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", 0);

	run(w);
	check_success(w);
	/* At 1024 bytes a packet only the server's certificate flight may
	 * take two; one ACK each, and the peer's for the server's Finished
	 * (§2.1.1). */
	CHECK(w->frags <= 2);
	CHECK_EQ(w->acks, w->frags + 1);
	CHECK(w->req_l >= 2);
	CHECK_STREQ(w->st.peer_subject, "C=CH, O=tunsec test, CN=sun.tunsec.test");
	teardown(w);
}

TEST(eaptls_rfc5216_5_2_identity_dns_cn_dn_and_server_name)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", "SUN.tunsec.test", 0);

	w->server_id = "moon.tunsec.test";
	run(w);
	check_success(w);
	teardown(w);

	w = setup("ca-ecdsa.pem", "ca-rsa.pem", "C=CH, O=tunsec test, CN=sun.tunsec.test", 0);
	run(w);
	check_success(w);
	teardown(w);
}

TEST(eaptls_rfc5216_2_1_5_fragments_and_acks)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", EAP_TLS_FRAG_MIN);
	struct world *w2;

	run(w);
	check_success(w);
	/* Hundreds of 16-byte fragments both ways, each but the last of a
	 * message ACKed. */
	CHECK(w->frags > 40);
	CHECK_EQ(w->acks, w->frags + 1);
	teardown(w);

	/* Uneven sizes: each end fragments at its own size. */
	w2 = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", 100);
	w2->pt.cfg.fragment_size = 333;
	run(w2);
	check_success(w2);
	CHECK(w2->frags > 5);
	teardown(w2);
}

TEST(eaptls_rfc5216_2_1_4_peer_refuses_untrusted_server)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-other.pem", "sun@tunsec.test", 0);
	uint8_t msk[EAP_MSK_MAX];

	run(w);
	/* The peer sends its alert; the server answers with EAP-Failure. */
	CHECK_EQ(w->srv_rc, EAP_FAILURE);
	CHECK_EQ(w->peer_rc, EAP_FAILURE);
	CHECK_EQ(w->pt.why, EAP_TLS_WHY_UNTRUSTED);
	CHECK_EQ(w->st.why, EAP_TLS_WHY_ALERT);
	CHECK_EQ(w->pt.vrfy_err, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	CHECK_EQ(eap_server_msk(&w->s, msk), IKE_ERR_INVAL);
	CHECK_EQ(eap_peer_msk(&w->p, msk), IKE_ERR_INVAL);
	teardown(w);

	/* A server name that is not in the server's certificate */
	w = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", 0);
	w->server_id = "mars.tunsec.test";
	run(w);
	CHECK_EQ(w->srv_rc, EAP_FAILURE);
	CHECK_EQ(w->peer_rc, EAP_FAILURE);
	CHECK_EQ(w->pt.why, EAP_TLS_WHY_IDENTITY);
	teardown(w);
}

TEST(eaptls_rfc5216_2_1_3_server_refuses_untrusted_peer)
{
	struct world *w = setup("ca-other.pem", "ca-rsa.pem", "sun@tunsec.test", 0);
	uint8_t msk[EAP_MSK_MAX];

	run(w);
	/* The server's alert, the peer's ACK of it, EAP-Failure. */
	CHECK_EQ(w->srv_rc, EAP_FAILURE);
	CHECK_EQ(w->peer_rc, EAP_FAILURE);
	CHECK_EQ(w->st.why, EAP_TLS_WHY_UNTRUSTED);
	CHECK_EQ(w->pt.why, EAP_TLS_WHY_ALERT);
	CHECK_EQ(eap_server_msk(&w->s, msk), IKE_ERR_INVAL);
	CHECK_EQ(eap_peer_msk(&w->p, msk), IKE_ERR_INVAL);
	teardown(w);
}

TEST(eaptls_rfc5216_5_2_identity_not_in_certificate_fails)
{
	static const char *bad[] = {"carol@tunsec.test", "sun@tunsec.tes", "tunsec test", "sun"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", bad[i], 0);

		run(w);
		CHECK_EQ(w->srv_rc, EAP_FAILURE);
		CHECK_EQ(w->peer_rc, EAP_FAILURE);
		CHECK_EQ(w->st.why, EAP_TLS_WHY_IDENTITY);
		teardown(w);
	}
}

/* A server that has sent its Start, and the peer's ClientHello. */
static struct world *started(void)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", 0);

	REQUIRE_EQ(eap_server_start(&w->s, w->req, sizeof(w->req), &w->req_len), EAP_SEND);
	REQUIRE_EQ(
	    eap_peer_process(&w->p, w->req, w->req_len, w->resp, sizeof(w->resp), &w->resp_len),
	    EAP_SEND);
	REQUIRE_EQ(
	    eap_server_process(&w->s, w->resp, w->resp_len, w->req, sizeof(w->req), &w->req_len),
	    EAP_SEND);
	/* now the server waits for the peer's Identity... answered: the
	 * Start is in w->req */
	REQUIRE_EQ(w->req_len, 6);
	REQUIRE_EQ(w->req[5], EAP_TLS_FLAG_S);
	return w;
}

/* The server's answer to one hand-made Response (Type-Data d). */
static int srv_feed(struct world *w, const uint8_t *d, size_t n)
{
	uint8_t pkt[1600];
	int len = eap_build(pkt, sizeof(pkt), EAP_CODE_RESPONSE, w->s.id, EAP_TYPE_TLS, d, n);

	REQUIRE(len > 0);
	return eap_server_process(&w->s, pkt, (size_t)len, w->req, sizeof(w->req), &w->req_len);
}

TEST(eaptls_rfc5216_3_1_malformed_packets_fail_cleanly)
{
	static const struct {
		uint8_t d[12];
		size_t n;
		enum eap_tls_why why;
		bool alert; /* TLS answers with its alert first (§2.1.3) */
	} bad[] = {
	    {{0}, 0, EAP_TLS_WHY_MALFORMED, false},                            /* no Flags */
	    {{0x80, 0, 0}, 3, EAP_TLS_WHY_MALFORMED, false},                   /* L, short length */
	    {{0x80, 0, 0, 0, 0, 0x16}, 6, EAP_TLS_WHY_MALFORMED, false},       /* L = 0 */
	    {{0x40, 0x16, 3, 3}, 4, EAP_TLS_WHY_MALFORMED, false},             /* M without L */
	    {{0x20}, 1, EAP_TLS_WHY_MALFORMED, false},                         /* S from the peer */
	    {{0x00}, 1, EAP_TLS_WHY_MALFORMED, false},                         /* an ACK, nothing sent */
	    {{0x80, 0, 0, 0, 9, 0x16, 3, 3}, 8, EAP_TLS_WHY_MALFORMED, false}, /* L = 9, 3 bytes */
	    {{0x80, 0, 0, 0, 2, 0x16, 3, 3}, 8, EAP_TLS_WHY_MALFORMED, false}, /* L = 2, 3 bytes */
	    {{0xc0, 0, 1, 0, 1, 0x16}, 6, EAP_TLS_WHY_TOO_LONG, false},        /* L = 65537 */
	    {{0xc0, 0xff, 0xff, 0xff, 0xff, 0x16}, 6, EAP_TLS_WHY_TOO_LONG, false},
	    {{0x80, 0, 0, 0, 3, 0x16, 3, 3}, 8, EAP_TLS_WHY_MALFORMED, false},  /* half a record */
	    {{0x80, 0, 0, 0, 6, 0x99, 3, 3, 0, 1, 0}, 11, EAP_TLS_WHY_TLS, true}, /* not TLS */
	    /* an alert where the ClientHello is due: libssl takes none
	     * there (unexpected message; an alert later is the
	     * untrusted-server test's) */
	    {{0x00, 0x15, 3, 3, 0, 2, 2, 40}, 8, EAP_TLS_WHY_TLS, true},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct world *w = started();
		static const uint8_t ack = 0;

		if (bad[i].alert) {
			/* the server's alert (a TLS record of type 21), then
			 * Failure whatever the peer answers */
			CHECK_EQ(srv_feed(w, bad[i].d, bad[i].n), EAP_SEND);
			CHECK(w->req_len > 10 && w->req[10] == 0x15);
			CHECK_EQ(srv_feed(w, &ack, 1), EAP_FAILURE);
		} else {
			CHECK_EQ(srv_feed(w, bad[i].d, bad[i].n), EAP_FAILURE);
		}
		CHECK_EQ(w->req_len, 4);
		CHECK_EQ(w->req[0], EAP_CODE_FAILURE);
		if (w->st.why != bad[i].why)
			fprintf(stderr, "case %zu: why %d\n", i, w->st.why);
		CHECK_EQ(w->st.why, bad[i].why);
		teardown(w);
	}
}

TEST(eaptls_rfc5216_2_1_5_reassembly_cap_and_lengths)
{
	struct world *w = started();
	uint8_t d[1100];
	unsigned sent = 0;

	/* Announce exactly the cap: fragments are taken up to it, one byte
	 * beyond is refused (TOO_LONG never stores past the buffer). */
	memset(d, 0x16, sizeof(d));
	d[0] = EAP_TLS_FLAG_L | EAP_TLS_FLAG_M;
	wire_store32(d + 1, EAP_TLS_MSG_MAX);
	CHECK_EQ(srv_feed(w, d, 5 + 1000), EAP_SEND);
	CHECK_EQ(w->req_len, 6); /* an ACK */
	CHECK_EQ(w->req[5], 0);
	sent = 1000;
	d[0] = EAP_TLS_FLAG_M;
	while (sent + 1000 <= EAP_TLS_MSG_MAX) {
		REQUIRE_EQ(srv_feed(w, d, 1 + 1000), EAP_SEND);
		sent += 1000;
	}
	CHECK_EQ(w->st.in_len, sent);
	/* 536 left; 1000 more overflows the announced length */
	CHECK_EQ(srv_feed(w, d, 1 + 1000), EAP_FAILURE);
	CHECK_EQ(w->st.why, EAP_TLS_WHY_MALFORMED);
	teardown(w);

	/* A later fragment may not change the TLS Message Length. */
	w = started();
	d[0] = EAP_TLS_FLAG_L | EAP_TLS_FLAG_M;
	wire_store32(d + 1, 3000);
	CHECK_EQ(srv_feed(w, d, 5 + 1000), EAP_SEND);
	wire_store32(d + 1, 2999);
	CHECK_EQ(srv_feed(w, d, 5 + 1000), EAP_FAILURE);
	teardown(w);

	/* An empty fragment with M would be ACKed forever. */
	w = started();
	d[0] = EAP_TLS_FLAG_L | EAP_TLS_FLAG_M;
	wire_store32(d + 1, 3000);
	CHECK_EQ(srv_feed(w, d, 5 + 1000), EAP_SEND);
	d[0] = EAP_TLS_FLAG_M;
	CHECK_EQ(srv_feed(w, d, 1), EAP_FAILURE);
	teardown(w);

	/* The last fragment short of the announced length */
	w = started();
	d[0] = EAP_TLS_FLAG_L | EAP_TLS_FLAG_M;
	wire_store32(d + 1, 3000);
	CHECK_EQ(srv_feed(w, d, 5 + 1000), EAP_SEND);
	d[0] = 0;
	CHECK_EQ(srv_feed(w, d, 1 + 1000), EAP_FAILURE);
	CHECK_EQ(w->st.why, EAP_TLS_WHY_MALFORMED);
	teardown(w);
}

/* Every prefix of every packet of a genuine conversation, and each with a
 * byte flipped, delivered in its place: an error or a failure, never a
 * crash (ASan) nor a success. */
TEST(eaptls_rfc5216_3_1_truncated_and_garbled_packets)
{
	for (int mode = 0; mode < 2; mode++) {
		for (unsigned victim = 0; victim < 12; victim++) {
			struct world *w =
			    setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", mode ? 64 : 0);
			unsigned round = 0;
			bool done = false;

			REQUIRE_EQ(eap_server_start(&w->s, w->req, sizeof(w->req), &w->req_len),
			           EAP_SEND);
			while (!done && round < 400) {
				int rc;

				if (round == victim) {
					if (w->req_len > 6) {
						w->req[w->req_len / 2] ^= 0x5a;
					} else {
						w->req_len = w->req_len > 5 ? 5 : w->req_len;
					}
				}
				rc = eap_peer_process(&w->p, w->req, w->req_len, w->resp,
				                      sizeof(w->resp), &w->resp_len);
				if (rc != EAP_SEND) {
					done = true;
					break;
				}
				round++;
				if (round == victim + 100 && w->resp_len > 6)
					w->resp_len -= 3; /* truncated: Length now lies */
				if (round == victim + 100 && w->resp_len > 6)
					w->resp[w->resp_len - 1] ^= 0xff;
				rc = eap_server_process(&w->s, w->resp, w->resp_len, w->req,
				                        sizeof(w->req), &w->req_len);
				if (rc != EAP_SEND)
					done = true;
				round++;
			}
			CHECK(done);
			teardown(w);
		}
	}
}

TEST(eaptls_init_refuses_incomplete_credentials)
{
	struct eap_tls_creds c;
	struct eap_tls *t = calloc(1, sizeof(*t));
	struct eap_tls_cfg cfg = {.creds = &c, .rand = rnd};
	size_t n;
	uint8_t *b;

	REQUIRE(t);
	eap_tls_creds_init(&c);
	CHECK_EQ(eap_tls_peer_init(t, &cfg), IKE_ERR_INVAL);
	b = slurp("moon-ecdsa384.key", &n);
	CHECK_EQ(eap_tls_creds_add_key(&c, b, n), IKE_ERR_INVAL); /* no certificate yet */
	free(b);
	add(eap_tls_creds_add_cert, &c, "sun-ecdsa256.pem");
	b = slurp("moon-ecdsa384.key", &n);
	CHECK_EQ(eap_tls_creds_add_key(&c, b, n), 1); /* another certificate's key */
	free(b);
	add(eap_tls_creds_add_key, &c, "sun-ecdsa256.key");
	CHECK_EQ(eap_tls_peer_init(t, &cfg), IKE_ERR_INVAL); /* no CA */
	add(eap_tls_creds_add_ca, &c, "ca-rsa.pem");
	CHECK_EQ(eap_tls_server_init(t, &cfg), IKE_ERR_INVAL); /* server: identity needed */
	cfg.fragment_size = EAP_TLS_FRAG_MIN - 1;
	CHECK_EQ(eap_tls_peer_init(t, &cfg), IKE_ERR_INVAL);
	cfg.fragment_size = 0;
	CHECK_EQ(eap_tls_peer_init(t, &cfg), 0);
	eap_tls_free(t);
	CHECK_EQ(eap_tls_creds_add_cert(&c, (const uint8_t *)"garbage", 7), IKE_ERR_SYNTAX);
	eap_tls_creds_free(&c);
	free(t);
}

/* RFC 5216 §5.2 and RFC 7296 §3.5: the forms of identity a certificate
 * may carry (sun-ecdsa256: DNS sun.tunsec.test, email sun@tunsec.test,
 * IP 192.0.2.2, CN sun.tunsec.test). */
TEST(eaptls_rfc5216_5_2_cert_names_identity_forms)
{
	static const struct {
		const char *id;
		bool ok;
	} rows[] = {
	    {"sun.tunsec.test", true},     {"SUN.Tunsec.TEST", true}, /* DNS names ignore case */
	    {"sun@tunsec.test", true},     {"C=CH, O=tunsec test, CN=sun.tunsec.test", true},
	    {"CN=sun.tunsec.test", false}, {"sun.tunsec.tes", false},
	    {"sun.tunsec.test.", false},   {"moon.tunsec.test", false},
	    {"tunsec test", false}, /* O is not a name */
	};
	static const uint8_t ip[4] = {192, 0, 2, 2}, ip2[4] = {192, 0, 2, 3};
	struct eap_tls_creds c;
	const unsigned char *der;
	size_t der_len;

	eap_tls_creds_init(&c);
	add(eap_tls_creds_add_cert, &c, "sun-ecdsa256.pem");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (eap_tls_cert_names(c.own, (const uint8_t *)rows[i].id, strlen(rows[i].id)) !=
		    rows[i].ok)
			test_fail(__FILE__, __LINE__, "'%s': expected %s", rows[i].id,
			          rows[i].ok ? "a match" : "no match");
	/* an IKE ID_IPV4_ADDR and ID_DER_ASN1_DN, as bytes */
	CHECK(eap_tls_cert_names(c.own, ip, 4));
	CHECK(!eap_tls_cert_names(c.own, ip2, 4));
	REQUIRE_EQ(X509_NAME_get0_der(X509_get_subject_name(c.own), &der, &der_len), 1);
	CHECK(eap_tls_cert_names(c.own, der, der_len));
	CHECK(!eap_tls_cert_names(c.own, der, der_len - 1));
	CHECK(!eap_tls_cert_names(c.own, (const uint8_t *)"", 0));
	CHECK(!eap_tls_cert_names(NULL, ip, 4));
	eap_tls_creds_free(&c);
}

/* RFC 9190 §2.1.1: both ends capable, TLS 1.3 is what runs; the server
 * ends with the commitment message, the peer's ACK of it earns Success,
 * and §2.3's MSK is the first 64 bytes of the 128-byte exporter output
 * (a 64-byte export differs: the length is an input of TLS 1.3's
 * exporter). */
TEST(eaptls_rfc9190_2_1_1_tls13_commitment_and_msk)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", 0);
	uint8_t km[EAP_TLS_KM_LEN], km64[EAP_TLS_MSK_LEN];
	static const uint8_t ctx = EAP_TYPE_TLS;
	static const char label[] = "EXPORTER_EAP_TLS_Key_Material";

	run(w);
	check_success(w);
	CHECK_EQ(w->st.version, TLS1_3_VERSION);
	CHECK_EQ(w->pt.version, TLS1_3_VERSION);
	CHECK(w->pt.committed);
	REQUIRE_EQ(SSL_export_keying_material(w->pt.ssl, km, sizeof(km), label, sizeof(label) - 1,
	                                      &ctx, 1, 1),
	           1);
	CHECK_MEM(w->pt.msk, km, EAP_TLS_MSK_LEN);
	REQUIRE_EQ(SSL_export_keying_material(w->pt.ssl, km64, sizeof(km64), label,
	                                      sizeof(label) - 1, &ctx, 1, 1),
	           1);
	CHECK(memcmp(km64, km, EAP_TLS_MSK_LEN) != 0);
	/* The server's flight and the commitment: two Requests with TLS
	 * data (L), the peer's final ACK answering the latter. */
	CHECK(w->req_l >= 2);
	teardown(w);
}

/* RFC 9190 §2.5: a peer that has sent its Finished but not seen the
 * commitment message may not take an EAP-Success. */
TEST(eaptls_rfc9190_2_5_success_before_commitment_fails)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", 0);
	uint8_t succ[4], msk[EAP_MSK_MAX];
	int rc;

	REQUIRE_EQ(eap_server_start(&w->s, w->req, sizeof(w->req), &w->req_len), EAP_SEND);
	/* until the server's commitment is the Request in hand */
	for (w->rounds = 0; w->rounds < 20 && w->st.state != EAP_TLS_FINAL; w->rounds++) {
		REQUIRE_EQ(eap_peer_process(&w->p, w->req, w->req_len, w->resp, sizeof(w->resp),
		                            &w->resp_len),
		           EAP_SEND);
		REQUIRE_EQ(eap_server_process(&w->s, w->resp, w->resp_len, w->req, sizeof(w->req),
		                              &w->req_len),
		           EAP_SEND);
	}
	REQUIRE_EQ(w->st.state, EAP_TLS_FINAL);
	CHECK_EQ(w->pt.version, TLS1_3_VERSION);
	CHECK(!w->pt.committed);
	/* an EAP-Success in its place */
	succ[0] = EAP_CODE_SUCCESS;
	succ[1] = w->req[1];
	wire_store16(succ + 2, 4);
	rc = eap_peer_process(&w->p, succ, 4, w->resp, sizeof(w->resp), &w->resp_len);
	CHECK(rc != EAP_SUCCESS && rc != EAP_SEND);
	CHECK_EQ(eap_peer_msk(&w->p, msk), IKE_ERR_INVAL);
	teardown(w);
}

/* RFC 5216 §2.3 by hand: MSK = TLS-PRF(master secret, "client EAP
 * encryption", client.random || server.random)[0..63], with the PRF hash
 * of the suite; a TLS 1.2-only peer and the 1.3-capable server agree on
 * 1.2 and on this MSK. */
TEST(eaptls_rfc5216_2_3_tls12_peer_msk_known_answer)
{
	struct world *w = setup("ca-ecdsa.pem", "ca-rsa.pem", "sun@tunsec.test", 0);
	static const char label[] = "client EAP encryption";
	uint8_t ms[48], seed[64], want[EAP_TLS_MSK_LEN];
	const SSL_SESSION *sess;
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5];
	const EVP_MD *md;

	REQUIRE_EQ(SSL_set_max_proto_version(w->pt.ssl, TLS1_2_VERSION), 1);
	run(w);
	check_success(w);
	CHECK_EQ(w->st.version, TLS1_2_VERSION);
	CHECK_EQ(w->pt.version, TLS1_2_VERSION);
	CHECK(!w->pt.committed);
	REQUIRE((sess = SSL_get_session(w->pt.ssl)) != NULL);
	REQUIRE_EQ(SSL_SESSION_get_master_key(sess, ms, sizeof(ms)), sizeof(ms));
	REQUIRE_EQ(SSL_get_client_random(w->pt.ssl, seed, 32), 32);
	REQUIRE_EQ(SSL_get_server_random(w->pt.ssl, seed + 32, 32), 32);
	REQUIRE((md = SSL_CIPHER_get_handshake_digest(SSL_get_current_cipher(w->pt.ssl))) != NULL);
	REQUIRE((kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL)) != NULL);
	REQUIRE((kctx = EVP_KDF_CTX_new(kdf)) != NULL);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_octet_string("secret", ms, sizeof(ms));
	params[2] = OSSL_PARAM_construct_octet_string("seed", (void *)label, sizeof(label) - 1);
	params[3] = OSSL_PARAM_construct_octet_string("seed", seed, sizeof(seed));
	params[4] = OSSL_PARAM_construct_end();
	REQUIRE_EQ(EVP_KDF_derive(kctx, want, sizeof(want), params), 1);
	CHECK_MEM(w->pt.msk, want, EAP_TLS_MSK_LEN);
	CHECK_MEM(w->st.msk, want, EAP_TLS_MSK_LEN);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	teardown(w);
}
