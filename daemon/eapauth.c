/* EAP for the engine's IKE_NEED_EAP, locally; see eapauth.h. */
#include "daemon/eapauth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/rand.h"
#include "daemon/priv.h"
#include "ike/eap.h"
#include "ike/eap_mschapv2.h"
#include "ike/eap_tls.h"

struct eapauth {
	bool server;
	bool asked;     /* server: the identity is the peer's EAP-Identity */
	bool told;      /* the refusal went to the log already (EAP-TLS's alert) */
	char user[256]; /* server, EAP-TLS: remote.eap_id other than %any */
	const struct tunsec_config *cfg;
	struct eap_mschapv2 ms;
	struct eap_tls *tls; /* EAP-TLS (large: allocated on its own) */
	const struct eap_tls_creds *tls_creds; /* the connection's, lent */
	struct ike_identity server_id; /* peer, EAP-TLS: remote.aaa_id or .id, if set */
	struct eap_method method;
	/* server, eap-dynamic: the methods offered, preferred first */
	struct eap_method offer[2];
	size_t n_offer;
	struct eap_server srv;
	struct eap_peer peer;
};

/* Files read through daemon/priv.h, as daemon/conn.c reads the IKE ones
 * (root-only keys too, after the privilege drop); at most 1 MiB each. */
#define TLS_FILE_MAX (1u << 20)

static int add_file(int (*add)(struct eap_tls_creds *, const uint8_t *, size_t),
                    struct eap_tls_creds *c, const char *path, bool key, char *err, size_t cap)
{
	uint8_t *b = NULL;
	size_t len = 0;
	int rc = priv_read(path, &b, &len, TLS_FILE_MAX);

	if (rc < 0) {
		snprintf(err, cap, "%s: cannot read it: %s", path,
		         rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		return -EINVAL;
	}
	rc = add(c, b, len);
	sodium_memzero(b, len);
	free(b);
	if (rc < 0) {
		snprintf(err, cap, "%s: not a %s OpenSSL can read (PEM or DER%s)", path,
		         key ? "private key" : "certificate", key ? ", unencrypted" : "");
		return -EINVAL;
	}
	return rc;
}

/*
 * EAP-TLS credentials of one round and role (eapauth_ends()): me's certs
 * (ours: the server's, or the user's), the key among the private key
 * files that matches the first, peer's cacerts (the CA of the other end).
 * 0, or -EINVAL with a line in err.
 */
static int tls_creds(const struct tunsec_config *cfg, const struct cfg_end *me,
                     const struct cfg_end *peer, struct eap_tls_creds *c, char *err, size_t cap)
{
	eap_tls_creds_init(c);
	for (unsigned i = 0; i < me->n_certs; i++)
		if (add_file(eap_tls_creds_add_cert, c, me->certs[i], false, err, cap) < 0)
			goto fail;
	for (size_t i = 0; i < cfg->n_key_files && !c->have_key; i++)
		if (add_file(eap_tls_creds_add_key, c, cfg->key_files[i], true, err, cap) < 0)
			goto fail;
	for (unsigned i = 0; i < peer->n_certs; i++)
		if (add_file(eap_tls_creds_add_ca, c, peer->certs[i], false, err, cap) < 0)
			goto fail;
	if (!c->have_own || !c->have_ca) {
		snprintf(err, cap, "EAP-TLS needs local.certs and remote.cacerts");
		goto fail;
	}
	if (!c->have_key) {
		snprintf(err, cap, "%s: no private key file (secrets) holds its key", me->certs[0]);
		goto fail;
	}
	return 0;
fail:
	eap_tls_creds_free(c);
	return -EINVAL;
}

static size_t tls_active; /* conversations holding an EAP-TLS context */

size_t eapauth_tls_active(void)
{
	return tls_active;
}

void eapauth_creds_free(struct eap_tls_creds *c)
{
	if (!c)
		return;
	eap_tls_creds_free(c);
	free(c);
}

/* remote.auth = eap-dynamic, or eap (strongSwan's "any method"): the
 * server offers what it can serve, the peer picks. */
static bool offers_many(enum cfg_auth a)
{
	return a == CFG_AUTH_EAP_DYNAMIC || a == CFG_AUTH_EAP_ANY;
}

/* local.auth = eap-tls, or eap with a certificate to log in with and the
 * server's CA: the peer needs EAP-TLS credentials. */
static bool peer_tls(const struct cfg_end *me, const struct cfg_end *peer)
{
	return me->auth == CFG_AUTH_EAP_TLS ||
	       (me->auth == CFG_AUTH_EAP_ANY && me->n_certs && peer->n_certs);
}

void eapauth_ends(const struct cfg_conn *cc, unsigned round, bool server, const struct cfg_end **me,
                  const struct cfg_end **peer)
{
	bool two = round == 2;

	*me = two && !server && cc->has_local2 ? &cc->local2 : &cc->local;
	*peer = two && server && cc->has_remote2 ? &cc->remote2 : &cc->remote;
}

int eapauth_load(const struct tunsec_config *cfg, const struct cfg_conn *cc, unsigned round,
                 bool server, struct eap_tls_creds **out, char *err, size_t cap)
{
	const struct cfg_end *me, *peer;
	struct eap_tls_creds *c;
	bool srv, cli, dyn_tls;

	*out = NULL;
	if (round == 2 && !(server ? cc->has_remote2 : cc->has_local2))
		return 0;
	eapauth_ends(cc, round, server, &me, &peer);
	/* the roles these files are for: round 1's serve both */
	srv = round == 1 || server;
	cli = round == 1 || !server;
	dyn_tls = me->n_certs && peer->n_certs;
	if (srv && offers_many(peer->auth) && !dyn_tls && !cfg->n_eap_secrets) {
		snprintf(err, cap, "%s",
		         round == 2
		             ? "the second remote round's auth = eap-dynamic has no method "
		               "to offer: EAP-TLS needs local.certs and that round's cacerts, "
		               "EAP-MSCHAPv2 secrets eap-NAME"
		             : "remote.auth = eap-dynamic has no method to offer: EAP-TLS "
		               "needs local.certs and remote.cacerts, EAP-MSCHAPv2 secrets "
		               "eap-NAME");
		return -EINVAL;
	}
	if (!(srv && (peer->auth == CFG_AUTH_EAP_TLS || (offers_many(peer->auth) && dyn_tls))) &&
	    !(cli && peer_tls(me, peer)))
		return 0;
	if (!(c = calloc(1, sizeof(*c)))) {
		snprintf(err, cap, "out of memory");
		return -ENOMEM;
	}
	if (tls_creds(cfg, me, peer, c, err, cap) < 0) {
		free(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

static int tls_rand(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	rand_bytes(buf, len);
	return 0;
}

/* The server: the identity the peer's certificate must name: the
 * configured remote.eap_id (as strongSwan: the user it must be), else the
 * peer's EAP-Identity, else its IKE ID. */
static const uint8_t *srv_identity(void *ctx, size_t *len)
{
	struct eapauth *st = ctx;

	if (st->user[0]) {
		*len = strlen(st->user);
		return (const uint8_t *)st->user;
	}
	return eap_server_identity(&st->srv, len);
}

/* The peer: the server's name to insist on (remote.id), or none. */
static const uint8_t *peer_server_id(void *ctx, size_t *len)
{
	const struct ike_identity *id = ctx;

	*len = id->type ? id->len : 0;
	return id->type ? id->data : NULL;
}

/* Set up st->method as EAP-TLS in either role; -EINVAL, -ENOMEM. */
static int tls_begin(struct eapauth *st, const struct cfg_end *peer, bool server)
{
	struct eap_tls_cfg tc = {.creds = st->tls_creds, .rand = tls_rand};

	if (!st->tls_creds)
		return -EINVAL;
	if (tls_active >= EAPAUTH_TLS_MAX)
		return -EBUSY;
	if (!(st->tls = calloc(1, sizeof(*st->tls))))
		return -ENOMEM;
	tls_active++;
	if (server) {
		if (peer->eap_id[0] && strcmp(peer->eap_id, "%any") != 0)
			snprintf(st->user, sizeof(st->user), "%s", peer->eap_id);
		tc.identity = srv_identity;
		tc.identity_ctx = st;
	} else {
		/* remote.aaa_id: a RADIUS server behind the gateway */
		st->server_id = peer->aaa_id.type ? peer->aaa_id : peer->id;
		tc.identity = peer_server_id;
		tc.identity_ctx = &st->server_id;
	}
	if ((server ? eap_tls_server_init : eap_tls_peer_init)(st->tls, &tc) < 0)
		return -EINVAL;
	st->method.ops = &eap_tls_ops;
	st->method.st = st->tls;
	return 0;
}

/* Whether EAP-TLS is what ran (or runs): the one method, or eap-dynamic's
 * choice after the peer's Nak. */
static bool tls_running(const struct eapauth *st)
{
	if (!st->tls)
		return false;
	if (st->server && st->n_offer)
		return st->srv.methods[st->srv.cur].ops == &eap_tls_ops;
	if (!st->server && st->n_offer)
		return st->peer.methods[st->peer.cur].ops == &eap_tls_ops;
	return true;
}

static void rand_cb(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	rand_bytes(buf, len);
}

const struct cfg_eap_secret *eapauth_secret(const struct tunsec_config *cfg, const uint8_t *name,
                                            size_t len)
{
	for (size_t i = 0; i < cfg->n_eap_secrets; i++) {
		const struct cfg_eap_secret *s = &cfg->eap_secrets[i];

		if (s->n_ids == 0)
			return s;
		for (unsigned k = 0; k < s->n_ids; k++)
			if (strlen(s->ids[k]) == len && memcmp(s->ids[k], name, len) == 0)
				return s;
	}
	return NULL;
}

/* EAP-MSCHAPv2's user lookup (the Name of the peer's Response). */
static int lookup(void *ctx, const uint8_t *name, size_t len, struct eap_mschapv2_secret *sec)
{
	const struct eapauth *st = ctx;
	const struct cfg_eap_secret *s = eapauth_secret(st->cfg, name, len);

	if (!s)
		return -ENOENT;
	sec->nt_hash = s->nt_hash;
	sec->data = s->secret;
	sec->len = s->len;
	return 0;
}

void eapauth_user_id(const uint8_t *name, size_t len, struct ike_identity *id)
{
	memset(id, 0, sizeof(*id));
	if (len > IKE_ID_MAX)
		len = IKE_ID_MAX;
	id->type = memchr(name, '@', len) ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
	id->len = (uint8_t)len;
	memcpy(id->data, name, len);
}

/*
 * remote.auth = eap-dynamic (strongSwan's plugin of that name): offer
 * EAP-TLS first where the connection can serve it (local.certs and the
 * users' CA in remote.cacerts), then EAP-MSCHAPv2 where secrets hold EAP
 * users; a peer that Naks the first gets the next one it lists (RFC 3748
 * §5.3.1), and one that answered a method cannot switch any more.
 */
static int dynamic_begin(struct eapauth *st, const struct cfg_end *peer, const struct ike_event *ev,
                         struct ike_answer *ans)
{
	struct eap_mschapv2_server_cfg mc = {
	    .lookup = lookup, .lookup_ctx = st, .rand = rand_cb, .retries = 2};
	uint8_t first;
	int rc;

	if (st->tls_creds && tls_begin(st, peer, true) == 0)
		st->offer[st->n_offer++] = st->method;
	if (st->cfg->n_eap_secrets && eap_mschapv2_server_init(&st->ms, &mc) == 0)
		st->offer[st->n_offer++] = (struct eap_method){&eap_mschapv2_ops, &st->ms};
	if (!st->n_offer)
		return -EINVAL;
	rand_bytes(&first, 1);
	if (eap_server_init(&st->srv, st->offer, st->n_offer, st->asked, ev->peer_id.data,
	                    ev->peer_id.len, first) < 0)
		return -EINVAL;
	rc = eap_server_start(&st->srv, ans->eap, sizeof(ans->eap), &ans->eap_len);
	return rc == EAP_SEND ? 0 : -EINVAL;
}

static int server_begin(struct eapauth *st, const struct cfg_end *peer, const struct ike_event *ev,
                        struct ike_answer *ans)
{
	struct eap_mschapv2_server_cfg mc = {
	    .lookup = lookup, .lookup_ctx = st, .rand = rand_cb, .retries = 2};
	/* remote.eap_id = %any (the default): ask the peer who it is */
	bool ask = !peer->eap_id[0] || strcmp(peer->eap_id, "%any") == 0;
	uint8_t first;
	int rc;

	st->server = true;
	st->asked = ask;
	if (offers_many(peer->auth))
		return dynamic_begin(st, peer, ev, ans);
	if (peer->auth == CFG_AUTH_EAP_TLS) {
		if ((rc = tls_begin(st, peer, true)) < 0)
			return rc;
	} else {
		if (eap_mschapv2_server_init(&st->ms, &mc) < 0)
			return -EINVAL;
		st->method.ops = &eap_mschapv2_ops;
		st->method.st = &st->ms;
	}
	rand_bytes(&first, 1);
	if (eap_server_init(&st->srv, &st->method, 1, ask, ev->peer_id.data, ev->peer_id.len,
	                    first) < 0)
		return -EINVAL;
	rc = eap_server_start(&st->srv, ans->eap, sizeof(ans->eap), &ans->eap_len);
	return rc == EAP_SEND ? 0 : -EINVAL;
}

/* EAP-MSCHAPv2 as the peer me, with its secret eap-NAME. */
static int mschapv2_peer(struct eapauth *st, const char *me)
{
	const struct cfg_eap_secret *s = eapauth_secret(st->cfg, (const uint8_t *)me, strlen(me));
	struct eap_mschapv2_secret sec;

	if (!s)
		return -ENOENT;
	sec.nt_hash = s->nt_hash;
	sec.data = s->secret;
	sec.len = s->len;
	if (eap_mschapv2_peer_init(&st->ms, (const uint8_t *)me, strlen(me), &sec, rand_cb, NULL) <
	    0)
		return -EINVAL;
	return 0;
}

/* The peer's methods: EAP-TLS with our certificate, EAP-MSCHAPv2 with
 * our secret; local.auth = eap takes each it can, and answers whichever
 * the server starts (a Nak names them, RFC 3748 §5.3.1). */
static int peer_begin(struct eapauth *st, const struct cfg_end *mine, const struct cfg_end *peer,
                      struct ike_answer *ans)
{
	const char *me = mine->eap_id[0] ? mine->eap_id : mine->id_text;
	bool any = mine->auth == CFG_AUTH_EAP_ANY;
	char dn[EAP_IDENTITY_MAX];
	int rc = -ENOENT;

	(void)ans;
	st->n_offer = 0;
	if (peer_tls(mine, peer) && st->tls_creds) {
		if ((rc = tls_begin(st, peer, false)) < 0)
			return rc;
		st->offer[st->n_offer++] = st->method;
		/* Without eap_id or id, the EAP identity is our certificate's
		 * subject, which the server will find in it. */
		if (!me[0] && eap_tls_dn(st->tls_creds->own, dn, sizeof(dn)) > 0)
			me = dn;
	}
	if ((mine->auth == CFG_AUTH_EAP_MSCHAPV2 || any) && (rc = mschapv2_peer(st, me)) == 0)
		st->offer[st->n_offer++] = (struct eap_method){&eap_mschapv2_ops, &st->ms};
	if (!st->n_offer)
		return rc;
	return eap_peer_init(&st->peer, st->offer, st->n_offer, (const uint8_t *)me, strlen(me)) < 0
	           ? -EINVAL
	           : 0;
}

/* What a driver's result means for the engine; the MSK and identity on
 * success. */
static void result(struct eapauth *st, int rc, struct ike_answer *ans)
{
	uint8_t msk[EAP_MSK_MAX];
	const uint8_t *name;
	size_t len = 0;
	int n;

	if (rc == EAP_SEND) {
		ans->eap_status = IKE_EAP_CONTINUE;
		return;
	}
	if (rc != EAP_SUCCESS) {
		ans->eap_status = IKE_EAP_FAILURE;
		return;
	}
	n = st->server ? eap_server_msk(&st->srv, msk) : eap_peer_msk(&st->peer, msk);
	if (n < 0 || (size_t)n > sizeof(ans->msk)) {
		ans->eap_status = IKE_EAP_FAILURE;
		return;
	}
	ans->eap_status = IKE_EAP_SUCCESS;
	memcpy(ans->msk, msk, (size_t)n);
	ans->msk_len = (size_t)n;
	sodium_memzero(msk, sizeof(msk));
	/* The user is the one MSCHAPv2 verified (the Name it looked up),
	 * never a Windows client's IKE ID (its IP address); EAP-TLS's is the
	 * identity its certificate names (the IKE ID, if that was it, stays). */
	if (st->server && tls_running(st)) {
		if (st->user[0])
			eapauth_user_id((const uint8_t *)st->user, strlen(st->user), &ans->eap_id);
		else if (st->asked && (name = eap_server_identity(&st->srv, &len)) && len)
			eapauth_user_id(name, len, &ans->eap_id);
	} else if (st->server && (name = eap_mschapv2_name(&st->ms, &len)) && len) {
		eapauth_user_id(name, len, &ans->eap_id);
	}
}

/* "user NAME" for a log line (the Name the peer's MSCHAPv2 Response gave:
 * the user, not the IKE ID, is who failed), what is not printable ASCII
 * as '?'; "the peer" when none came. */
static const char *ms_user(const struct eapauth *st, char *buf, size_t cap)
{
	size_t len = 0, n;
	const uint8_t *name = eap_mschapv2_claimed_name(&st->ms, &len);

	if (!name || !len || cap < 8)
		return "the peer";
	n = len < cap - 6 ? len : cap - 6;
	memcpy(buf, "user ", 5);
	for (size_t i = 0; i < n; i++)
		buf[5 + i] = name[i] >= 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
	buf[5 + n] = '\0';
	return buf;
}

int eapauth_answer(struct eapauth **stp, const struct tunsec_config *cfg, const struct cfg_end *me,
                   const struct cfg_end *peer, const struct eap_tls_creds *tls,
                   const struct ike_event *ev, struct ike_answer *ans, char *why, size_t why_cap)
{
	struct eapauth *st = *stp;
	int rc = 0;

	memset(ans, 0, sizeof(*ans));
	ans->need = IKE_NEED_EAP;
	ans->eap_status = IKE_EAP_FAILURE;
	why[0] = '\0';
	if (!st) {
		if (!(st = calloc(1, sizeof(*st)))) {
			snprintf(why, why_cap, "out of memory");
			return -ENOMEM;
		}
		st->cfg = cfg;
		st->tls_creds = tls;
		*stp = st;
		if (ev->eap_server) {
			rc = server_begin(st, peer, ev, ans);
			if (rc == 0) {
				ans->eap_status = IKE_EAP_CONTINUE;
				return 0;
			}
		} else {
			rc = peer_begin(st, me, peer, ans);
		}
		if (rc < 0) {
			if (rc == -EBUSY)
				snprintf(why, why_cap, "%d EAP-TLS conversations at once already",
				         EAPAUTH_TLS_MAX);
			else
				snprintf(why, why_cap, "%s",
				         rc == -ENOENT ? "no EAP secret for our identity"
				                       : "EAP could not start (its certificates or keys?)");
			ans->eap_status = IKE_EAP_FAILURE;
			return rc;
		}
	}
	if (st->server) {
		rc = eap_server_process(&st->srv, ev->eap, ev->eap_len, ans->eap, sizeof(ans->eap),
		                        &ans->eap_len);
	} else {
		rc = eap_peer_process(&st->peer, ev->eap, ev->eap_len, ans->eap, sizeof(ans->eap),
		                      &ans->eap_len);
	}
	result(st, rc, ans);
	if (tls_running(st) && !st->told &&
	    (ans->eap_status == IKE_EAP_FAILURE ||
	     (ans->eap_status == IKE_EAP_CONTINUE && st->tls->state == EAP_TLS_ALERT))) {
		/* Said when the server refuses, as its alert goes out (RFC 5216
		 * §2.1.3): a peer may answer it with an ACK and get the
		 * EAP-Failure, or (strongSwan) give up at once, and then
		 * nothing more comes through here. */
		const char *detail = eap_tls_detail(st->tls);

		snprintf(why, why_cap, "EAP-TLS: %s%s%s%s%s%s", eap_tls_strwhy(st->tls->why),
		         detail[0] ? ": " : "", detail, st->tls->peer_subject[0] ? " (" : "", st->tls->peer_subject,
		         st->tls->peer_subject[0] ? ")" : "");
		st->told = true;
	} else if (tls_running(st)) {
		/* told already, or nothing to tell */
	} else if (ans->eap_status == IKE_EAP_FAILURE && st->server) {
		char user[80];

		snprintf(why, why_cap,
		         "EAP-MSCHAPv2 refused %s (unknown user, wrong password, or a malformed "
		         "message)",
		         ms_user(st, user, sizeof(user)));
	} else if (ans->eap_status == IKE_EAP_FAILURE) {
		snprintf(why, why_cap, "%s",
		         "EAP-MSCHAPv2 failed (refused by the server, or its Authenticator "
		         "Response did not verify)");
	}
	return 0;
}

bool eapauth_tls_summary(const struct eapauth *st, char *buf, size_t cap)
{
	if (!st || !tls_running(st) || st->tls->state != EAP_TLS_DONE_OK)
		return false;
	eap_tls_describe(st->tls, buf, cap);
	return buf[0] != '\0';
}

void eapauth_free(struct eapauth *st)
{
	if (!st)
		return;
	eap_mschapv2_wipe(&st->ms);
	if (st->tls) {
		eap_tls_free(st->tls);
		free(st->tls);
		tls_active--;
	}
	sodium_memzero(st, sizeof(*st));
	free(st);
}
