/*
 * daemon/eapauth.c: the cap on EAP-TLS conversations at once. Starting one
 * takes no authentication (a peer that finished IKE_SA_INIT sends an
 * IKE_AUTH without AUTH), and each holds a TLS context and buffers of
 * some 40 KB: EAPAUTH_TLS_MAX of them at most (RFC 5216 over RFC 7296
 * §2.16), the next refused at once with the reason. The credentials are
 * the connection's, loaded once and lent (tests/vectors/certs).
 * RFC 4739's second authentication round: its conversation goes by
 * local-2 / remote-2 (eapauth_ends()), never by round 1's settings, and
 * its EAP-TLS files are its own in each role (eapauth_load()).
 */
#include <stdlib.h>

#include <sodium.h>

#include "daemon/eapauth.h"
#include "ike/eap.h"
#include "ike/eap_tls.h"
#include "tests/unit/test.h"

static void add_fx(int (*fn)(struct eap_tls_creds *, const uint8_t *, size_t),
                   struct eap_tls_creds *c, const char *name)
{
	const char *top = getenv("TUNSEC_TOP");
	char path[512];
	uint8_t *b = malloc(1 << 16);
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/vectors/certs/%s", top && *top ? top : ".", name);
	f = fopen(path, "rb");
	REQUIRE(f && b);
	n = fread(b, 1, 1 << 16, f);
	fclose(f);
	REQUIRE_EQ(fn(c, b, n), 0);
	free(b);
}

static struct ike_event *server_event(void)
{
	struct ike_event *ev = calloc(1, sizeof(*ev));

	REQUIRE(ev);
	ev->type = IKE_EV_NEED;
	ev->need = IKE_NEED_EAP;
	ev->eap_server = true;
	ev->peer_id.type = IKE_ID_FQDN;
	ev->peer_id.len = 5;
	memcpy(ev->peer_id.data, "carol", 5);
	return ev;
}

TEST(eapauth_rfc5216_tls_conversations_capped)
{
	static struct eapauth *many[EAPAUTH_TLS_MAX];
	struct tunsec_config *cfg = calloc(1, sizeof(*cfg));
	struct cfg_conn *cc = calloc(1, sizeof(*cc));
	struct ike_answer *ans = calloc(1, sizeof(*ans));
	struct ike_event *ev = server_event();
	struct eap_tls_creds creds;
	struct eapauth *next = NULL;
	char why[200];

	REQUIRE(cfg && cc && ans);
	eap_tls_creds_init(&creds);
	add_fx(eap_tls_creds_add_cert, &creds, "sun-ecdsa256.pem");
	add_fx(eap_tls_creds_add_key, &creds, "sun-ecdsa256.key");
	add_fx(eap_tls_creds_add_ca, &creds, "ca-ecdsa.pem");
	cc->local.auth = CFG_AUTH_PUBKEY;
	cc->remote.auth = CFG_AUTH_EAP_TLS;
	CHECK_EQ(eapauth_tls_active(), 0u);
	for (size_t i = 0; i < EAPAUTH_TLS_MAX; i++) {
		REQUIRE_EQ(eapauth_answer(&many[i], cfg, &cc->local, &cc->remote, &creds, ev, ans,
		                          why, sizeof(why)),
		           0);
		REQUIRE_EQ(ans->eap_status, IKE_EAP_CONTINUE);
	}
	CHECK_EQ(eapauth_tls_active(), (size_t)EAPAUTH_TLS_MAX);
	/* the next: refused at once, said why, no TLS context made */
	CHECK(eapauth_answer(&next, cfg, &cc->local, &cc->remote, &creds, ev, ans, why,
	                     sizeof(why)) < 0);
	CHECK_EQ(ans->eap_status, IKE_EAP_FAILURE);
	CHECK_STREQ(why, "256 EAP-TLS conversations at once already");
	CHECK_EQ(eapauth_tls_active(), (size_t)EAPAUTH_TLS_MAX);
	eapauth_free(next);
	next = NULL;
	/* one ends: room for one more */
	eapauth_free(many[0]);
	many[0] = NULL;
	CHECK_EQ(
	    eapauth_answer(&next, cfg, &cc->local, &cc->remote, &creds, ev, ans, why, sizeof(why)),
	    0);
	CHECK_EQ(ans->eap_status, IKE_EAP_CONTINUE);
	eapauth_free(next);
	for (size_t i = 1; i < EAPAUTH_TLS_MAX; i++)
		eapauth_free(many[i]);
	CHECK_EQ(eapauth_tls_active(), 0u);
	eap_tls_creds_free(&creds);
	free(ev);
	free(ans);
	free(cc);
	free(cfg);
}

/* Which ends a conversation goes by: round 1 local/remote in both roles;
 * round 2 its own end (remote-2 as the server, local-2 as the peer) and
 * round 1's other one; a round 2 nobody wrote falls back to round 1's. */
TEST(eapauth_rfc4739_round_ends)
{
	struct cfg_conn *cc = calloc(1, sizeof(*cc));
	const struct cfg_end *me, *peer;

	REQUIRE(cc);
	eapauth_ends(cc, 1, true, &me, &peer);
	CHECK(me == &cc->local && peer == &cc->remote);
	eapauth_ends(cc, 1, false, &me, &peer);
	CHECK(me == &cc->local && peer == &cc->remote);
	eapauth_ends(cc, 2, true, &me, &peer);
	CHECK(me == &cc->local && peer == &cc->remote);
	cc->has_local2 = cc->has_remote2 = true;
	eapauth_ends(cc, 2, true, &me, &peer);
	CHECK(me == &cc->local && peer == &cc->remote2);
	eapauth_ends(cc, 2, false, &me, &peer);
	CHECK(me == &cc->local2 && peer == &cc->remote);
	eapauth_ends(cc, 1, false, &me, &peer);
	CHECK(me == &cc->local && peer == &cc->remote);
	free(cc);
}

static void add_secret(struct tunsec_config *cfg, const char *user, const char *pw)
{
	struct cfg_eap_secret *s;

	cfg->eap_secrets = realloc(cfg->eap_secrets, (cfg->n_eap_secrets + 1) * sizeof(*s));
	REQUIRE(cfg->eap_secrets);
	s = &cfg->eap_secrets[cfg->n_eap_secrets++];
	memset(s, 0, sizeof(*s));
	snprintf(s->ids[0], sizeof(s->ids[0]), "%s", user);
	s->n_ids = 1;
	s->len = strlen(pw);
	memcpy(s->secret, pw, s->len);
}

/*
 * A second round's EAP-MSCHAPv2 from start to end, server and peer each
 * an eapauth with the same connection: both go by local-2 / remote-2
 * (alice's name, remote-2's eap_id = %any: EAP-Identity asked), although
 * round 1 would be EAP-TLS with another user (which has no secret and no
 * credentials here, so that a slip into round 1 fails). Returns the
 * server's final status; sets the user it proved.
 */
static int round2_login(const char *server_pw, const char *peer_pw, struct ike_identity *who)
{
	struct tunsec_config *scfg = calloc(1, sizeof(*scfg)), *pcfg = calloc(1, sizeof(*pcfg));
	struct cfg_conn *cc = calloc(1, sizeof(*cc));
	struct ike_event *sev = server_event(), *pev = calloc(1, sizeof(*pev));
	struct ike_answer *sans = calloc(1, sizeof(*sans)), *pans = calloc(1, sizeof(*pans));
	struct eapauth *srv = NULL, *cli = NULL;
	const struct cfg_end *me, *peer;
	int status = IKE_EAP_CONTINUE, pstatus = IKE_EAP_CONTINUE;
	char why[200];

	REQUIRE(scfg && pcfg && cc && pev && sans && pans);
	add_secret(scfg, "alice", server_pw);
	add_secret(pcfg, "alice", peer_pw);
	cc->local.auth = CFG_AUTH_EAP_TLS;
	snprintf(cc->local.eap_id, sizeof(cc->local.eap_id), "mallory");
	cc->remote.auth = CFG_AUTH_EAP_TLS;
	snprintf(cc->remote.eap_id, sizeof(cc->remote.eap_id), "mallory");
	cc->has_local2 = cc->has_remote2 = true;
	cc->local2.auth = CFG_AUTH_EAP_MSCHAPV2;
	snprintf(cc->local2.eap_id, sizeof(cc->local2.eap_id), "alice");
	cc->remote2.auth = CFG_AUTH_EAP_MSCHAPV2;
	snprintf(cc->remote2.eap_id, sizeof(cc->remote2.eap_id), "%%any");
	sev->auth_round = 2;
	pev->type = IKE_EV_NEED;
	pev->need = IKE_NEED_EAP;
	pev->auth_round = 2;
	/* the server begins (no message yet), then the two take turns */
	for (int turn = 0; turn < 12 && status == IKE_EAP_CONTINUE; turn++) {
		eapauth_ends(cc, 2, true, &me, &peer);
		REQUIRE_EQ(eapauth_answer(&srv, scfg, me, peer, NULL, sev, sans, why, sizeof(why)),
		           0);
		status = sans->eap_status;
		if (status == IKE_EAP_FAILURE)
			break;
		memcpy(pev->eap, sans->eap, sans->eap_len);
		pev->eap_len = sans->eap_len;
		eapauth_ends(cc, 2, false, &me, &peer);
		REQUIRE_EQ(eapauth_answer(&cli, pcfg, me, peer, NULL, pev, pans, why, sizeof(why)),
		           0);
		pstatus = pans->eap_status;
		if (pstatus != IKE_EAP_CONTINUE)
			break;
		memcpy(sev->eap, pans->eap, pans->eap_len);
		sev->eap_len = pans->eap_len;
	}
	if (status == IKE_EAP_SUCCESS) {
		/* both hold the same MSK: the AUTH payloads would verify */
		CHECK_EQ(pstatus, IKE_EAP_SUCCESS);
		CHECK_EQ(sans->msk_len, pans->msk_len);
		CHECK(sans->msk_len > 0 && memcmp(sans->msk, pans->msk, sans->msk_len) == 0);
		*who = sans->eap_id;
	}
	eapauth_free(srv);
	eapauth_free(cli);
	free(sans);
	free(pans);
	free(sev);
	free(pev);
	free(cc);
	config_free(scfg);
	config_free(pcfg);
	free(scfg);
	free(pcfg);
	return status;
}

TEST(eapauth_rfc4739_round2_mschapv2_by_its_own_settings)
{
	struct ike_identity who;

	memset(&who, 0, sizeof(who));
	CHECK_EQ(round2_login("alice pw", "alice pw", &who), IKE_EAP_SUCCESS);
	CHECK_EQ(who.type, IKE_ID_FQDN);
	CHECK_EQ(who.len, 5);
	CHECK(memcmp(who.data, "alice", 5) == 0);
	/* a wrong password: the round fails */
	CHECK_EQ(round2_login("alice pw", "wrong pw", &who), IKE_EAP_FAILURE);
}

static const char *vec(const char *name, char *buf, size_t cap)
{
	const char *top = getenv("TUNSEC_TOP");

	snprintf(buf, cap, "%s/tests/vectors/certs/%s", top && *top ? top : ".", name);
	return buf;
}

/* An end with method a and one certificate file (a vector). */
static void end_with(struct cfg_end *e, enum cfg_auth a, const char *cert)
{
	e->auth = a;
	vec(cert, e->certs[0], sizeof(e->certs[0]));
	e->n_certs = 1;
}

/* The subject CN of a certificate mbedTLS parsed, for the checks. */
static bool names(const X509 *crt, const char *what)
{
	char dn[256];

	return eap_tls_dn(crt, dn, sizeof(dn)) > 0 && strstr(dn, what);
}

/*
 * EAP-TLS credentials of round 2, one set per role: as the server our
 * round-1 certificate with remote-2's CA (the users'), as the peer
 * local-2's user certificate with round 1's remote CA (the server's);
 * round 1 needs none here (pubkey), so it gets none.
 */
TEST(eapauth_rfc4739_round2_eap_tls_files_per_role)
{
	struct tunsec_config *cfg = calloc(1, sizeof(*cfg));
	struct cfg_conn *cc = calloc(1, sizeof(*cc));
	struct eap_tls_creds *r1 = NULL, *srv = NULL, *cli = NULL;
	char err[512] = "";

	REQUIRE(cfg && cc);
	cfg->key_files = calloc(2, sizeof(*cfg->key_files));
	REQUIRE(cfg->key_files);
	vec("sun-ecdsa256.key", cfg->key_files[0], sizeof(cfg->key_files[0]));
	vec("moon-ecdsa384.key", cfg->key_files[1], sizeof(cfg->key_files[1]));
	cfg->n_key_files = 2;
	end_with(&cc->local, CFG_AUTH_PUBKEY, "sun-ecdsa256.pem");
	end_with(&cc->remote, CFG_AUTH_PUBKEY, "ca-rsa.pem");
	CHECK_EQ(eapauth_load(cfg, cc, 2, true, &srv, err, sizeof(err)), 0);
	CHECK(srv == NULL); /* no round 2 written */
	cc->has_local2 = cc->has_remote2 = true;
	end_with(&cc->local2, CFG_AUTH_EAP_TLS, "moon-ecdsa384.pem");
	end_with(&cc->remote2, CFG_AUTH_EAP_TLS, "ca-other.pem");
	CHECK_EQ(eapauth_load(cfg, cc, 1, false, &r1, err, sizeof(err)), 0);
	CHECK(r1 == NULL);
	REQUIRE_EQ(eapauth_load(cfg, cc, 2, true, &srv, err, sizeof(err)), 0);
	REQUIRE(srv != NULL);
	CHECK(srv->have_key);
	CHECK(names(srv->own, "sun.tunsec.test"));
	CHECK(names(sk_X509_value(srv->ca, 0), "other CA"));
	REQUIRE_EQ(eapauth_load(cfg, cc, 2, false, &cli, err, sizeof(err)), 0);
	REQUIRE(cli != NULL);
	CHECK(cli->have_key);
	CHECK(names(cli->own, "moon.tunsec.test"));
	CHECK(names(sk_X509_value(cli->ca, 0), "RSA CA"));
	eapauth_creds_free(srv);
	eapauth_creds_free(cli);
	/* remote-2 eap-dynamic with nothing to offer: said at load */
	cc->remote2.auth = CFG_AUTH_EAP_DYNAMIC;
	cc->remote2.n_certs = 0;
	CHECK(eapauth_load(cfg, cc, 2, true, &srv, err, sizeof(err)) < 0);
	CHECK(strstr(err, "the second remote round's auth = eap-dynamic has no method") != NULL);
	free(cfg->key_files);
	free(cfg);
	free(cc);
}
