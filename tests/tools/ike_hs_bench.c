/*
 * ike_hs_bench: full IKEv2 handshakes per second on one core, for
 * scripts/bench_ike.sh. Two sans-I/O engines (ike/engine.h) live in this
 * one process; their datagrams go from one to the other in memory, and
 * "now" is CLOCK_MONOTONIC. One handshake is what RFC 7296 §1.2 calls the
 * initial exchanges: IKE_SA_INIT and IKE_AUTH with the first CHILD_SA,
 * from ike_engine_initiate() until both engines have emitted CHILD_UP
 * (keys derived on both sides, checked crosswise after the clock stops).
 *
 *   ike_hs_bench [-n COUNT] [-r RUNS] [-g GROUP] [-p IKE_PROPOSALS]
 *                [-e ESP_PROPOSALS] [-a psk|ecdsa|eap-mschapv2|eap-tls] [-C DIR]
 *                [-m reuse|new] [-v]
 *
 * -a psk (default): a pre-shared key (§2.15). -a ecdsa: X.509 certificate
 * signatures both ways (ike/cert.h; ECDSA P-256 keys, RFC 7427 as the
 * engine picks), from DIR (-C, default "."): ca.crt the trust anchor of
 * both sides, l.crt + l.key the initiator's (subjectAltName moon.hsb),
 * r.crt + r.key the responder's (sun.hsb), as scripts/bench_ike.sh makes
 * them with strongSwan's pki. Each side sends its certificate when asked
 * by a CERTREQ, which each side sends (strongSwan's defaults), and checks
 * the peer's chain; loading the files is outside the timing.
 *
 * -a eap-mschapv2, -a eap-tls: a road-warrior login (§2.16). The
 * responder, the server sun.hsb, proves itself with r.crt as above; the
 * initiator logs in with EAP, checking the server's certificate against
 * ca.crt: EAP-MSCHAPv2 as IKE ID carol.hsb, EAP user carol, password
 * "carol pw"; EAP-TLS as dave.hsb with c.crt + c.key (subjectAltName
 * dave.hsb). The server asks for the EAP identity (remote.eap_id = %any).
 * Each EAP round (IKE_EV_NEED, IKE_NEED_EAP) is answered by the daemon's
 * own code, daemon/eapauth.c's eapauth_answer(), from what each side's
 * tunsecd would hold (a tunsec_config with the EAP secret or key file, a
 * cfg_conn's local and remote ends), as daemon/conn.c's on_need_eap()
 * does: the timing includes the method's work (MD4, DES, SHA-1 and the
 * MSK of MSCHAPv2; the TLS handshake of EAP-TLS) on both sides.
 *
 * Modes, both counting the work of both ends:
 *   reuse  (default) one engine pair for the whole run, as a daemon keeps
 *          one engine per connection: each handshake is followed by
 *          ike_engine_delete_ike() and its INFORMATIONAL exchange, timed
 *          apart as the teardown.
 *   new    a fresh engine pair per handshake (ike_engine_new() parses the
 *          proposals and copies the PSK; ike_engine_free() wipes): the
 *          teardown figure is then new + free of both engines.
 *
 * Every call into an engine is timed and charged to that engine's side,
 * so the initiator's and the responder's CPU time come out separately;
 * the memcpy of the in-memory "network" is charged to neither. SPIs,
 * nonces and key pairs come from the real random sources (getrandom()),
 * as in the daemon. hs_per_s
 * is COUNT divided by the wall time of the whole run (handshakes,
 * teardowns, shuttling and timing overhead), i.e. the sustained rate of
 * one core doing both ends. Output: with -v one line per run, then always
 * the medians over the runs:
 *
 *   run=1 group=curve25519 auth=psk mode=reuse n=1000 us_hs=170.2
 *     us_init=85.0 us_resp=85.2 us_teardown=10.1 hs_per_s=5400 dgrams=4
 *   median group=curve25519 auth=psk mode=reuse runs=5 n=1000 us_hs=...
 *
 * us_* are microseconds per handshake (means over the run); dgrams is the
 * number of datagrams a handshake took. Pin it with taskset for a
 * one-core figure. Exit status 1 if a handshake or teardown fails.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/config.h"
#include "daemon/eapauth.h"
#include "ike/cert.h"
#include "ike/engine.h"

#define MAX_RUNS 64

enum side_id { INIT = 0, RESP = 1 };

enum auth_kind { AUTH_PSK, AUTH_ECDSA, AUTH_EAP_MSCHAPV2, AUTH_EAP_TLS };

static const char *const auth_names[] = {"psk", "ecdsa", "eap-mschapv2", "eap-tls"};

/* The EAP user's password (secrets eap-carol on both sides). */
#define EAP_PASSWORD "carol pw"

/* What one side's tunsecd holds for EAP: its configuration (the EAP
 * secret, its private key file), the connection's two ends, EAP-TLS
 * credentials (eapauth_load()), and the IKE SA's EAP state while it runs. */
struct eap_side {
	struct tunsec_config dcfg;
	struct cfg_conn cc;
	struct cfg_eap_secret secret;
	char key_file[1][4096];
	struct eap_tls_creds *tls;
	struct eapauth *st;
};

struct side {
	struct ike_engine *e;
	struct ike_addr addr;
	uint64_t ns;    /* time inside this engine's calls */
	bool child_up;  /* CHILD_UP seen in this handshake */
	bool ike_down;  /* IKE_DOWN seen */
	uint32_t sa_id; /* from CHILD_UP */
	struct ike_child_info child;
	struct eap_side *eap; /* -a eap-*: this side's EAP, else NULL */
};

struct bench {
	struct side s[2];
	struct ike_config cfg[2];
	struct eap_side eap[2];
	bool failed;
	unsigned dgrams;
	uint8_t buf[IKE_ENGINE_MSG_MAX];
};

struct result {
	double us_hs, us_init, us_resp, us_teardown, hs_per_s;
	unsigned dgrams;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void set_fqdn(struct ike_identity *id, const char *name)
{
	memset(id, 0, sizeof(*id));
	id->type = IKE_ID_FQDN;
	id->len = (uint8_t)strlen(name);
	memcpy(id->data, name, id->len);
}

static bool is_eap(enum auth_kind auth)
{
	return auth == AUTH_EAP_MSCHAPV2 || auth == AUTH_EAP_TLS;
}

/* The initiator's IKE ID: an EAP client has its own (the server's ECDSA
 * connection would otherwise fit it better, as in charon). */
static const char *init_id(enum auth_kind auth)
{
	return auth == AUTH_EAP_MSCHAPV2 ? "carol.hsb"
	       : auth == AUTH_EAP_TLS    ? "dave.hsb"
	                                 : "moon.hsb";
}

/* Mirror-image configurations: side 0 "moon" 10.1.0.0/16, side 1 "sun"
 * 10.2.0.0/16, as in ike_sim_test.c; retransmission off, since nothing
 * is lost in memory and a timer must not fire in the middle of a run.
 * EAP: the initiator logs in (local_auth EAP), the responder proves
 * itself with its certificate (local_auth PUBKEY, remote_auth EAP). */
static int make_cfg(struct ike_config *c, int side, enum auth_kind auth, const char *ike,
                    const char *esp, const char *psk, const struct ike_creds *creds)
{
	bool eap = is_eap(auth);

	memset(c, 0, sizeof(*c));
	set_fqdn(&c->local_id, side == INIT ? init_id(auth) : "sun.hsb");
	set_fqdn(&c->remote_id, side == INIT ? "sun.hsb" : init_id(auth));
	if (creds) {
		c->local_auth = eap && side == INIT ? IKE_AUTHBY_EAP : IKE_AUTHBY_PUBKEY;
		c->remote_auth = eap && side == RESP ? IKE_AUTHBY_EAP : IKE_AUTHBY_PUBKEY;
		c->creds = creds;
		c->send_certreq = true;
		c->send_cert = IKE_SEND_CERT_IFASKED;
	} else {
		c->local_auth = IKE_AUTHBY_PSK;
		c->remote_auth = IKE_AUTHBY_PSK;
		c->psk = (const uint8_t *)psk;
		c->psk_len = strlen(psk);
	}
	c->ike_proposals = ike;
	c->esp_proposals = esp;
	if (esp_sel_parse(&c->local_ts[0], side == INIT ? "10.1.0.0/16" : "10.2.0.0/16") < 0 ||
	    esp_sel_parse(&c->remote_ts[0], side == INIT ? "10.2.0.0/16" : "10.1.0.0/16") < 0)
		return -1;
	c->n_local_ts = 1;
	c->n_remote_ts = 1;
	c->no_retransmit = true;
	c->initial_contact = true;
	return 0;
}

/* One EAP round, as daemon/conn.c's on_need_eap() answers it:
 * eapauth_answer() with this side's ends of the round, then
 * ike_engine_resume(). -1 if the round failed. */
static int eap_round(struct side *s, const struct ike_event *ev)
{
	struct eap_side *x = s->eap;
	const struct cfg_end *me, *peer;
	struct ike_answer ans;
	enum ike_eap_status status;
	char why[300];
	int rc;

	if (!x || ev->need != IKE_NEED_EAP) {
		fprintf(stderr, "ike_hs_bench: unexpected IKE_EV_NEED %d\n", (int)ev->need);
		return -1;
	}
	eapauth_ends(&x->cc, ev->auth_round == 2 ? 2 : 1, ev->eap_server, &me, &peer);
	eapauth_answer(&x->st, &x->dcfg, me, peer, x->tls, ev, &ans, why, sizeof(why));
	if (ans.eap_status != IKE_EAP_CONTINUE) {
		eapauth_free(x->st);
		x->st = NULL;
	}
	if (why[0])
		fprintf(stderr, "ike_hs_bench: EAP (%s): %s\n", ev->eap_server ? "server" : "peer",
		        why);
	status = ans.eap_status;
	rc = ike_engine_resume(s->e, ev->sa_id, &ans, now_ns());
	sodium_memzero(&ans, sizeof(ans)); /* the MSK */
	if (rc < 0)
		fprintf(stderr, "ike_hs_bench: resume: %s\n", ike_err_name(rc));
	return rc < 0 || status == IKE_EAP_FAILURE ? -1 : 0;
}

/* This side's events; true if it answered an EAP round (a datagram to
 * send then waits). */
static bool drain_events(struct bench *b, int i)
{
	struct side *s = &b->s[i];
	struct ike_event ev;
	uint64_t t0 = now_ns();
	bool answered = false;

	while (ike_engine_poll_event(s->e, &ev) == 1) {
		if (ev.type == IKE_EV_NEED) {
			answered = true;
			if (eap_round(s, &ev) < 0)
				b->failed = true;
		} else if (ev.type == IKE_EV_CHILD_UP) {
			s->child_up = true;
			s->sa_id = ev.sa_id;
			s->child = ev.child;
		} else if (ev.type == IKE_EV_IKE_DOWN) {
			s->ike_down = true;
			if (ev.reason != IKE_REASON_DELETED_LOCAL &&
			    ev.reason != IKE_REASON_DELETED_PEER) {
				fprintf(stderr, "ike_hs_bench: %s: IKE_DOWN %s notify %u\n",
				        i == INIT ? "initiator" : "responder",
				        ike_reason_name(ev.reason), ev.notify);
				b->failed = true;
			}
		} else if (ev.type == IKE_EV_CHILD_FAILED) {
			fprintf(stderr, "ike_hs_bench: CHILD_SA refused, notify %u\n", ev.notify);
			b->failed = true;
		}
		ike_event_wipe(&ev);
	}
	s->ns += now_ns() - t0;
	return answered;
}

/* Shuttle datagrams both ways until neither engine has one to send. A
 * datagram goes to the other engine as soon as it is polled; the time of
 * poll_tx is its sender's, that of recv its receiver's. */
static void pump(struct bench *b)
{
	bool moved;

	do {
		moved = false;
		for (int i = 0; i < 2; i++) {
			struct side *tx = &b->s[i], *rx = &b->s[1 - i];
			struct ike_path path, in;
			uint64_t t0, t1, t2;
			ssize_t n;
			int rc;

			for (;;) {
				t0 = now_ns();
				n = ike_engine_poll_tx(tx->e, &path, b->buf, sizeof(b->buf));
				t1 = now_ns();
				tx->ns += t1 - t0;
				if (n <= 0)
					break;
				moved = true;
				b->dgrams++;
				in.local = path.remote;
				in.remote = path.local;
				t1 = now_ns();
				rc = ike_engine_recv(rx->e, &in, b->buf, (size_t)n, t1);
				t2 = now_ns();
				rx->ns += t2 - t1;
				if (rc < 0) {
					fprintf(stderr, "ike_hs_bench: recv: %s\n",
					        ike_err_name(rc));
					b->failed = true;
				}
				if (drain_events(b, 1 - i))
					moved = true;
			}
			if (n < 0) {
				fprintf(stderr, "ike_hs_bench: poll_tx: %s\n",
				        ike_err_name((int)n));
				b->failed = true;
			}
			if (drain_events(b, i))
				moved = true;
		}
	} while (moved && !b->failed);
}

static int engines_new(struct bench *b)
{
	for (int i = 0; i < 2; i++) {
		uint64_t t0 = now_ns();

		b->s[i].e = ike_engine_new(&b->cfg[i]);
		b->s[i].ns += now_ns() - t0;
		if (!b->s[i].e) {
			char err[160];

			ike_config_check(&b->cfg[i], err, sizeof(err));
			fprintf(stderr, "ike_hs_bench: ike_engine_new: %s\n", err);
			return -1;
		}
	}
	return 0;
}

static void engines_free(struct bench *b)
{
	for (int i = 0; i < 2; i++) {
		uint64_t t0 = now_ns();

		ike_engine_free(b->s[i].e);
		b->s[i].e = NULL;
		b->s[i].ns += now_ns() - t0;
		if (b->s[i].eap) { /* a failed handshake's */
			eapauth_free(b->s[i].eap->st);
			b->s[i].eap->st = NULL;
		}
	}
}

/* One handshake on the engines in b; its CPU time is added to each
 * side's ns. The keys are compared after the clock stopped. */
static int handshake(struct bench *b)
{
	struct ike_path path;
	uint64_t t0;
	int rc;

	for (int i = 0; i < 2; i++) {
		b->s[i].child_up = false;
		b->s[i].ike_down = false;
	}
	path.local = b->s[INIT].addr;
	path.remote = b->s[RESP].addr;
	t0 = now_ns();
	rc = ike_engine_initiate(b->s[INIT].e, &path, t0);
	b->s[INIT].ns += now_ns() - t0;
	if (rc < 0) {
		fprintf(stderr, "ike_hs_bench: initiate: %s\n", ike_err_name(rc));
		return -1;
	}
	pump(b);
	if (b->failed || !b->s[INIT].child_up || !b->s[RESP].child_up) {
		fprintf(stderr, "ike_hs_bench: handshake did not complete\n");
		return -1;
	}
	/* The two CHILD_UPs describe one SA pair, crosswise. */
	rc = b->s[INIT].child.spi_in == b->s[RESP].child.spi_out &&
	     b->s[INIT].child.keymat_len == b->s[RESP].child.keymat_len &&
	     sodium_memcmp(b->s[INIT].child.key_out, b->s[RESP].child.key_in,
	                   b->s[INIT].child.keymat_len) == 0 &&
	     sodium_memcmp(b->s[INIT].child.key_in, b->s[RESP].child.key_out,
	                   b->s[INIT].child.keymat_len) == 0;
	for (int i = 0; i < 2; i++)
		sodium_memzero(&b->s[i].child, sizeof(b->s[i].child));
	if (!rc) {
		fprintf(stderr, "ike_hs_bench: CHILD_SA keys differ between the sides\n");
		return -1;
	}
	return 0;
}

/* reuse mode: delete the IKE SA from the initiator, run the INFORMATIONAL
 * exchange, and check that both engines are empty again. */
static int teardown(struct bench *b)
{
	uint64_t t0 = now_ns();
	int rc = ike_engine_delete_ike(b->s[INIT].e, b->s[INIT].sa_id, t0);

	b->s[INIT].ns += now_ns() - t0;
	if (rc < 0) {
		fprintf(stderr, "ike_hs_bench: delete_ike: %s\n", ike_err_name(rc));
		return -1;
	}
	pump(b);
	if (b->failed || ike_engine_sa_count(b->s[INIT].e) != 0 ||
	    ike_engine_sa_count(b->s[RESP].e) != 0) {
		fprintf(stderr, "ike_hs_bench: teardown left IKE SAs (%zu, %zu)\n",
		        ike_engine_sa_count(b->s[INIT].e), ike_engine_sa_count(b->s[RESP].e));
		return -1;
	}
	return 0;
}

static int run(struct bench *b, bool reuse, unsigned n, struct result *r)
{
	uint64_t hs_init = 0, hs_resp = 0, t_start;
	unsigned dgrams_hs = 0;

	for (int i = 0; i < 2; i++)
		b->s[i].ns = 0;
	b->dgrams = 0;
	t_start = now_ns();
	if (reuse && engines_new(b) < 0)
		return -1;
	for (unsigned k = 0; k < n; k++) {
		uint64_t i0, r0;

		if (!reuse && engines_new(b) < 0)
			return -1;
		i0 = b->s[INIT].ns;
		r0 = b->s[RESP].ns;
		b->dgrams = 0;
		if (handshake(b) < 0) {
			engines_free(b);
			return -1;
		}
		hs_init += b->s[INIT].ns - i0;
		hs_resp += b->s[RESP].ns - r0;
		dgrams_hs = b->dgrams;
		if (!reuse) {
			engines_free(b);
		} else if (teardown(b) < 0) {
			engines_free(b);
			return -1;
		}
	}
	r->hs_per_s = (double)n / ((double)(now_ns() - t_start) / 1e9);
	if (reuse)
		engines_free(b);
	r->us_init = (double)hs_init / 1e3 / n;
	r->us_resp = (double)hs_resp / 1e3 / n;
	r->us_hs = r->us_init + r->us_resp;
	/* Everything else charged to the sides: delete exchanges (reuse) or
	 * engine new + free (new); the one-off new/free of reuse mode is
	 * spread over the run and negligible. */
	r->us_teardown = (double)(b->s[INIT].ns + b->s[RESP].ns - hs_init - hs_resp) / 1e3 / n;
	r->dgrams = dgrams_hs;
	return 0;
}

/* -a ecdsa: each side's certificate and key, both trusting ca.crt; -a
 * eap-*: the server's (r), and the client only the trust anchor. */
static int load_creds(const char *dir, enum auth_kind auth, struct ike_creds *out[2])
{
	const char *names[2] = {auth == AUTH_ECDSA ? "l" : NULL, "r"};
	char cert[4096], key[4096], ca[4096], err[256];

	for (int i = 0; i < 2; i++) {
		const char *certs[1] = {cert}, *keys[1] = {key}, *cas[1] = {ca};
		size_t n = names[i] ? 1 : 0;

		snprintf(cert, sizeof(cert), "%s/%s.crt", dir, names[i] ? names[i] : "");
		snprintf(key, sizeof(key), "%s/%s.key", dir, names[i] ? names[i] : "");
		snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
		out[i] = ike_creds_load(certs, n, keys, n, cas, 1, err, sizeof(err));
		if (!out[i]) {
			fprintf(stderr, "ike_hs_bench: %s\n", err);
			ike_creds_free(out[0]);
			out[0] = NULL;
			return -1;
		}
	}
	return 0;
}

static void set_end(struct cfg_end *end, enum cfg_auth auth, const char *id)
{
	end->auth = auth;
	set_fqdn(&end->id, id);
	snprintf(end->id_text, sizeof(end->id_text), "%s", id);
}

/*
 * -a eap-*: what each side's tunsecd would load from its tunsec.conf:
 *   client  local { auth = eap-mschapv2  id = carol.hsb  eap_id = carol }
 *             or  { auth = eap-tls  id = dave.hsb  certs = c.crt }
 *           remote { auth = pubkey  id = sun.hsb  cacerts = ca.crt }
 *   server  local { auth = pubkey  id = sun.hsb  certs = r.crt }
 *           remote { auth = eap-mschapv2 (or eap-tls  cacerts = ca.crt)
 *                    id = the client's  eap_id = %any }
 *   secrets { eap-carol { id = carol  secret = "carol pw" }
 *             private-X { file = X.key } } (X: the side's certificate)
 * and the EAP-TLS credentials loaded as a connection's start does
 * (eapauth_load(), outside the timing).
 */
static int eap_setup(struct bench *b, enum auth_kind auth, const char *dir)
{
	enum cfg_auth method = auth == AUTH_EAP_TLS ? CFG_AUTH_EAP_TLS : CFG_AUTH_EAP_MSCHAPV2;
	char err[256];

	for (int i = 0; i < 2; i++) {
		struct eap_side *x = &b->eap[i];
		struct cfg_end *me = &x->cc.local, *peer = &x->cc.remote;
		bool server = i == RESP;
		const char *cert = server ? "r" : auth == AUTH_EAP_TLS ? "c" : NULL;

		memset(x, 0, sizeof(*x));
		snprintf(x->secret.ids[0], sizeof(x->secret.ids[0]), "carol");
		x->secret.n_ids = 1;
		x->secret.len = strlen(EAP_PASSWORD);
		memcpy(x->secret.secret, EAP_PASSWORD, x->secret.len);
		x->dcfg.eap_secrets = &x->secret;
		x->dcfg.n_eap_secrets = 1;
		set_end(me, server ? CFG_AUTH_PUBKEY : method, server ? "sun.hsb" : init_id(auth));
		set_end(peer, server ? method : CFG_AUTH_PUBKEY,
		        server ? init_id(auth) : "sun.hsb");
		if (server)
			snprintf(peer->eap_id, sizeof(peer->eap_id), "%%any");
		else if (auth == AUTH_EAP_MSCHAPV2)
			snprintf(me->eap_id, sizeof(me->eap_id), "carol");
		if (cert) {
			snprintf(me->certs[0], sizeof(me->certs[0]), "%s/%s.crt", dir, cert);
			me->n_certs = 1;
			snprintf(x->key_file[0], sizeof(x->key_file[0]), "%s/%s.key", dir, cert);
			x->dcfg.key_files = x->key_file;
			x->dcfg.n_key_files = 1;
		}
		if (!server || auth == AUTH_EAP_TLS) {
			snprintf(peer->certs[0], sizeof(peer->certs[0]), "%s/ca.crt", dir);
			peer->n_certs = 1;
		}
		if (eapauth_load(&x->dcfg, &x->cc, 1, server, &x->tls, err, sizeof(err)) < 0) {
			fprintf(stderr, "ike_hs_bench: %s\n", err);
			return -1;
		}
		b->s[i].eap = x;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: ike_hs_bench [-n COUNT] [-r RUNS] [-g GROUP] [-p IKE_PROPOSALS]\n"
	        "                    [-e ESP_PROPOSALS] [-a psk|ecdsa|eap-mschapv2|eap-tls]\n"
	        "                    [-C DIR] [-m reuse|new] [-v]\n");
}

int main(int argc, char **argv)
{
	static struct bench b;
	static char ike_buf[256];
	const char *group = "curve25519", *ike = NULL, *esp = "aes128gcm16", *auth = "psk";
	const char *psk = "a pre-shared key of benchmark length, 32+ bytes";
	const char *cert_dir = ".";
	struct ike_creds *creds[2] = {NULL, NULL};
	enum auth_kind kind = AUTH_PSK;
	int status = 0;
	struct result res[MAX_RUNS];
	double col[MAX_RUNS];
	unsigned n = 1000, runs = 5;
	bool reuse = true, verbose = false;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:g:p:e:a:C:m:v")) != -1) {
		switch (opt) {
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'g':
			group = optarg;
			break;
		case 'p':
			ike = optarg;
			break;
		case 'e':
			esp = optarg;
			break;
		case 'a':
			auth = optarg;
			break;
		case 'C':
			cert_dir = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "reuse") && strcmp(optarg, "new")) {
				usage();
				return 2;
			}
			reuse = strcmp(optarg, "reuse") == 0;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (n == 0 || runs == 0 || runs > MAX_RUNS) {
		fprintf(stderr, "ike_hs_bench: -n must be > 0, -r 1..%d\n", MAX_RUNS);
		return 2;
	}
	while (kind <= AUTH_EAP_TLS && strcmp(auth, auth_names[kind]) != 0)
		kind++;
	if (kind > AUTH_EAP_TLS) {
		usage();
		return 2;
	}
	if (!ike) {
		snprintf(ike_buf, sizeof(ike_buf), "aes128gcm16-prfsha256-%s", group);
		ike = ike_buf;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "ike_hs_bench: sodium_init failed\n");
		return 1;
	}
	if (kind != AUTH_PSK && load_creds(cert_dir, kind, creds) < 0)
		return 1;
	if (is_eap(kind) && eap_setup(&b, kind, cert_dir) < 0) {
		status = 1;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		struct ike_addr *a = &b.s[i].addr;

		if (make_cfg(&b.cfg[i], i, kind, ike, esp, psk, creds[i]) < 0) {
			fprintf(stderr, "ike_hs_bench: bad selectors\n");
			status = 1;
			goto out;
		}
		a->family = AF_INET;
		a->port = 500;
		a->addr[0] = 192, a->addr[1] = 0, a->addr[2] = 2, a->addr[3] = (uint8_t)(i + 1);
	}
	/* Warm-up: caches, lazily built library tables, CPU frequency. */
	if (run(&b, reuse, n / 10 + 1, &res[0]) < 0) {
		status = 1;
		goto out;
	}
	for (unsigned k = 0; k < runs; k++) {
		struct result *r = &res[k];

		if (run(&b, reuse, n, r) < 0) {
			status = 1;
			goto out;
		}
		if (verbose)
			printf("run=%u group=%s auth=%s mode=%s n=%u us_hs=%.1f us_init=%.1f "
			       "us_resp=%.1f us_teardown=%.1f hs_per_s=%.0f dgrams=%u\n",
			       k + 1, group, auth, reuse ? "reuse" : "new", n, r->us_hs, r->us_init,
			       r->us_resp, r->us_teardown, r->hs_per_s, r->dgrams);
	}
	printf("median group=%s auth=%s mode=%s runs=%u n=%u", group, auth, reuse ? "reuse" : "new",
	       runs, n);
#define MEDIAN_OF(field, fmt)                                                                      \
	do {                                                                                       \
		for (unsigned k = 0; k < runs; k++)                                                \
			col[k] = res[k].field;                                                     \
		printf(" " #field "=" fmt, median(col, runs));                                     \
	} while (0)
	MEDIAN_OF(us_hs, "%.1f");
	MEDIAN_OF(us_init, "%.1f");
	MEDIAN_OF(us_resp, "%.1f");
	MEDIAN_OF(us_teardown, "%.1f");
	MEDIAN_OF(hs_per_s, "%.0f");
	printf(" dgrams=%u ike=%s esp=%s\n", res[0].dgrams, ike, esp);
out:
	ike_creds_free(creds[0]);
	ike_creds_free(creds[1]);
	eapauth_creds_free(b.eap[0].tls);
	eapauth_creds_free(b.eap[1].tls);
	return status;
}
