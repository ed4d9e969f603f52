/*
 * daemon/eapauth.c: the cap on EAP-TLS conversations at once. Starting one
 * takes no authentication (a peer that finished IKE_SA_INIT sends an
 * IKE_AUTH without AUTH), and each holds a TLS context and buffers of
 * some 40 KB: EAPAUTH_TLS_MAX of them at most (RFC 5216 over RFC 7296
 * §2.16), the next refused at once with the reason. The credentials are
 * the connection's, loaded once and lent (tests/vectors/certs).
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
		REQUIRE_EQ(eapauth_answer(&many[i], cfg, cc, &creds, ev, ans, why, sizeof(why)), 0);
		REQUIRE_EQ(ans->eap_status, IKE_EAP_CONTINUE);
	}
	CHECK_EQ(eapauth_tls_active(), (size_t)EAPAUTH_TLS_MAX);
	/* the next: refused at once, said why, no TLS context made */
	CHECK(eapauth_answer(&next, cfg, cc, &creds, ev, ans, why, sizeof(why)) < 0);
	CHECK_EQ(ans->eap_status, IKE_EAP_FAILURE);
	CHECK_STREQ(why, "256 EAP-TLS conversations at once already");
	CHECK_EQ(eapauth_tls_active(), (size_t)EAPAUTH_TLS_MAX);
	eapauth_free(next);
	next = NULL;
	/* one ends: room for one more */
	eapauth_free(many[0]);
	many[0] = NULL;
	CHECK_EQ(eapauth_answer(&next, cfg, cc, &creds, ev, ans, why, sizeof(why)), 0);
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
