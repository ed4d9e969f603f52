/* EAP through RADIUS, and accounting; see eapradius.h. */
#include "daemon/eapradius.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/rand.h"
#include "daemon/log.h"
#include "ike/eap.h"
#include "ike/id.h"

struct radhub {
	struct cfg_radius cfg; /* own copy: the secrets live as long as the hub */
	struct radius_client *client;
	int fd4, fd6;
	uint64_t strays;
};

enum radsess_phase {
	RS_IDENTITY, /* our EAP-Request/Identity is with the peer */
	RS_RADIUS,   /* an Access-Request is in flight */
	RS_PEER,     /* the server's EAP-Request is with the peer */
	RS_DONE,
};

struct radsess {
	struct radhub *hub;
	enum radsess_phase phase;
	int64_t handle; /* the request in flight (RS_RADIUS), else 0 */
	uint8_t last_id; /* Identifier of the last EAP-Request the peer got */
	struct ike_identity ike_id;
	size_t state_len;
	uint8_t state[RADIUS_ATTR_MAX];
	struct radsess_user user;
	bool acct_started;
	uint64_t acct_start;  /* ns */
	uint64_t interim_at;  /* ns; 0: none */
	char acct_sid[24];    /* Acct-Session-Id */
};

/* ---- the hub --------------------------------------------------------------- */

static void rand_cb(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	rand_bytes(buf, len);
}

static int open_sock(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* (an ephemeral port: RADIUS answers to whatever port asked) */
	return fd;
}

struct radhub *radhub_new(const struct cfg_radius *cfg, char *err, size_t cap)
{
	struct radhub *h = calloc(1, sizeof(*h));
	struct radius_client_cfg rc;
	bool want4 = false, want6 = false;

	if (!h) {
		snprintf(err, cap, "RADIUS: out of memory");
		return NULL;
	}
	h->cfg = *cfg;
	h->fd4 = h->fd6 = -1;
	memset(&rc, 0, sizeof(rc));
	rc.n_servers = cfg->n_servers;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		const struct cfg_radius_server *s = &cfg->servers[i];

		snprintf(rc.servers[i].address, sizeof(rc.servers[i].address), "%s", s->name);
		rc.servers[i].auth_port = s->auth_port;
		rc.servers[i].acct_port = s->acct_port;
		rc.servers[i].secret_len = s->secret_len;
		memcpy(rc.servers[i].secret, s->secret, s->secret_len);
		if (s->addr.ss_family == AF_INET)
			want4 = true;
		else
			want6 = true;
	}
	rc.timeout = (uint64_t)cfg->retransmit_timeout_ms * RADIUS_MSEC;
	rc.base = cfg->retransmit_base;
	rc.tries = cfg->retransmit_tries;
	rc.rand = rand_cb;
	h->client = radius_client_new(&rc);
	sodium_memzero(&rc, sizeof(rc));
	if (!h->client) {
		snprintf(err, cap, "RADIUS: cannot set up the client");
		radhub_free(h);
		return NULL;
	}
	if ((want4 && (h->fd4 = open_sock(AF_INET)) < 0) ||
	    (want6 && (h->fd6 = open_sock(AF_INET6)) < 0)) {
		snprintf(err, cap, "RADIUS: socket: %s", strerror(-(h->fd4 < 0 ? h->fd4 : h->fd6)));
		if (h->fd4 < 0)
			h->fd4 = -1;
		if (h->fd6 < 0)
			h->fd6 = -1;
		radhub_free(h);
		return NULL;
	}
	return h;
}

void radhub_free(struct radhub *h)
{
	if (!h)
		return;
	radius_client_free(h->client);
	if (h->fd4 >= 0)
		close(h->fd4);
	if (h->fd6 >= 0)
		close(h->fd6);
	sodium_memzero(h, sizeof(*h));
	free(h);
}

int radhub_fd(const struct radhub *h, int family)
{
	return family == AF_INET ? h->fd4 : h->fd6;
}

const struct cfg_radius *radhub_cfg(const struct radhub *h)
{
	return &h->cfg;
}

static uint16_t port_of(const struct cfg_radius_server *s, int port)
{
	if (port == RADIUS_PORT_AUTH)
		return s->auth_port ? s->auth_port : RADIUS_DEFAULT_AUTH_PORT;
	return s->acct_port ? s->acct_port : RADIUS_DEFAULT_ACCT_PORT;
}

/* Which server and port a datagram came from, or -1. */
static int from_server(const struct radhub *h, const struct sockaddr_storage *ss, size_t *server,
                       int *port)
{
	for (size_t i = 0; i < h->cfg.n_servers; i++) {
		const struct cfg_radius_server *s = &h->cfg.servers[i];
		uint16_t p;

		if (s->addr.ss_family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)ss, *b = (const void *)&s->addr;

			if (a->sin_addr.s_addr != b->sin_addr.s_addr)
				continue;
			p = ntohs(a->sin_port);
		} else {
			const struct sockaddr_in6 *a = (const void *)ss, *b = (const void *)&s->addr;

			if (memcmp(&a->sin6_addr, &b->sin6_addr, 16) != 0)
				continue;
			p = ntohs(a->sin6_port);
		}
		for (int k = RADIUS_PORT_AUTH; k <= RADIUS_PORT_ACCT; k++)
			if (p == port_of(s, k)) {
				*server = i;
				*port = k;
				return 0;
			}
	}
	return -1;
}

void radhub_input(struct radhub *h, int fd, uint64_t now)
{
	uint8_t buf[RADIUS_PKT_MAX + 1];

	/* a bounded batch: one busy server cannot starve the loop */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		size_t server;
		int port;

		if (n < 0)
			return;
		if (from_server(h, &ss, &server, &port) < 0) {
			h->strays++;
			continue;
		}
		/* (a drop is counted by the client; the request keeps waiting) */
		radius_client_recv(h->client, server, port, buf, (size_t)n, now);
	}
}

void radhub_flush(struct radhub *h)
{
	uint8_t buf[RADIUS_PKT_MAX];
	struct radius_dest dst;
	ssize_t n;

	while ((n = radius_client_poll_tx(h->client, &dst, buf, sizeof(buf))) > 0) {
		const struct cfg_radius_server *s = &h->cfg.servers[dst.server];
		struct sockaddr_storage to = s->addr;
		socklen_t tl;
		int fd;

		if (to.ss_family == AF_INET) {
			((struct sockaddr_in *)&to)->sin_port = htons(port_of(s, dst.port));
			tl = sizeof(struct sockaddr_in);
			fd = h->fd4;
		} else {
			((struct sockaddr_in6 *)&to)->sin6_port = htons(port_of(s, dst.port));
			tl = sizeof(struct sockaddr_in6);
			fd = h->fd6;
		}
		/* A lost datagram is retransmitted by the client's timer. */
		if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&to, tl) < 0)
			log_debug("RADIUS server %s: send: %s", s->name, strerror(errno));
	}
}

uint64_t radhub_next_expiry(const struct radhub *h)
{
	radius_time_t t = radius_client_next_expiry(h->client);

	return t == RADIUS_TIME_NEVER ? UINT64_MAX : t;
}

void radhub_expire(struct radhub *h, uint64_t now)
{
	if (radius_client_next_expiry(h->client) <= now)
		radius_client_handle_expiry(h->client, now);
}

int radhub_poll(struct radhub *h, struct radius_event *ev)
{
	return radius_client_poll_event(h->client, ev);
}

const struct radius_counters *radhub_counters(const struct radhub *h)
{
	return radius_client_counters(h->client);
}

size_t radhub_pending(const struct radhub *h)
{
	return radius_client_pending(h->client);
}

uint64_t radhub_strays(const struct radhub *h)
{
	return h->strays;
}

int radhub_account(struct radhub *h, struct radius_msg *m, void *user, uint64_t now)
{
	int rc = radius_msg_add_str(m, RADIUS_A_NAS_IDENTIFIER, h->cfg.nas_identifier);
	int64_t hd;

	if (rc < 0)
		return rc;
	hd = radius_client_send(h->client, m, user, now);
	return hd < 0 ? (int)hd : 0;
}

/* ---- a session ------------------------------------------------------------ */

/* The Access-Request for the peer's EAP message eap[0..len). */
static int send_eap(struct radsess *s, const uint8_t *eap, size_t len, void *user, uint64_t now)
{
	struct radius_msg m;
	int64_t hd;
	int rc;

	radius_msg_init(&m, RADIUS_ACCESS_REQUEST);
	rc = radius_msg_add_str(&m, RADIUS_A_USER_NAME, s->user.name);
	if (rc == 0)
		rc = radius_msg_add_u32(&m, RADIUS_A_SERVICE_TYPE, RADIUS_SERVICE_FRAMED);
	if (rc == 0)
		rc = radius_msg_add_u32(&m, RADIUS_A_NAS_PORT_TYPE, RADIUS_NAS_PORT_VIRTUAL);
	if (rc == 0)
		rc = radius_msg_add_str(&m, RADIUS_A_NAS_IDENTIFIER, s->hub->cfg.nas_identifier);
	if (rc == 0)
		rc = radius_msg_add_eap(&m, eap, len);
	/* RFC 2865 §5.24: the State of the last Challenge, unchanged */
	if (rc == 0 && s->state_len)
		rc = radius_msg_add(&m, RADIUS_A_STATE, s->state, s->state_len);
	hd = rc == 0 ? radius_client_send(s->hub->client, &m, user, now) : rc;
	radius_msg_wipe(&m);
	if (hd < 0)
		return (int)hd;
	s->handle = hd;
	s->phase = RS_RADIUS;
	return 0;
}

/* The user name from an EAP-Response/Identity (empty: the IKE identity,
 * as an Android client expects). */
static int take_identity(struct radsess *s, const struct eap_pkt *p)
{
	const uint8_t *name = p->data;
	size_t len = p->data_len;
	char text[IKE_ID_STR_MAX];

	if (len == 0) {
		/* as strongSwan prints it: "10.0.0.2", "C=CH, ..." (an
		 * address or a DN is binary in the ID payload) */
		ike_id_str(&s->ike_id, text, sizeof(text));
		name = (const uint8_t *)text;
		len = strlen(text);
	}
	if (len == 0 || len >= sizeof(s->user.name))
		return -EINVAL;
	/* it goes into logs and RADIUS as text: no control characters */
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] == 0x7f)
			return -EINVAL;
	memcpy(s->user.name, name, len);
	s->user.name[len] = '\0';
	return 0;
}

/* Our Response/Identity in the peer's stead (an empty answer, or no
 * EAP-Identity round at all): what the RADIUS server starts from. */
static int identity_eap(const struct radsess *s, uint8_t id, uint8_t *out, size_t cap)
{
	return eap_build(out, cap, EAP_CODE_RESPONSE, id, EAP_TYPE_IDENTITY,
	                 (const uint8_t *)s->user.name, strlen(s->user.name));
}

static int fail(struct ike_answer *ans, char *why, size_t cap, const char *msg)
{
	ans->eap_status = IKE_EAP_FAILURE;
	snprintf(why, cap, "%s", msg);
	return 1;
}

/* An Access-Request that could not be queued: why (256 in flight to the
 * server already is what a crowd of unauthenticated peers can cause). */
static int send_failed(struct ike_answer *ans, char *why, size_t cap, int rc)
{
	ans->eap_status = IKE_EAP_FAILURE;
	snprintf(why, cap, "cannot send an Access-Request: %s",
	         rc == RADIUS_ERR_BUSY ? "256 requests in flight to the RADIUS server already"
	                               : radius_strerror(rc));
	return 1;
}

static int begin(struct radsess *s, const char *eap_id, void *user, struct ike_answer *ans,
                 char *why, size_t why_cap, uint64_t now)
{
	uint8_t id, rsp[8 + sizeof(s->user.name)];
	int n, rc;

	rand_bytes(&id, 1);
	if (!eap_id[0] || strcmp(eap_id, "%any") == 0) {
		/* ask who it is (Windows' IKE ID is only its address) */
		n = eap_build(ans->eap, sizeof(ans->eap), EAP_CODE_REQUEST, id, EAP_TYPE_IDENTITY,
		              NULL, 0);
		if (n < 0)
			return fail(ans, why, why_cap, "cannot build EAP-Request/Identity");
		ans->eap_len = (size_t)n;
		ans->eap_status = IKE_EAP_CONTINUE;
		s->last_id = id;
		s->phase = RS_IDENTITY;
		return 1;
	}
	/* remote.eap_id names no one in particular here: the IKE identity is
	 * the user name (the RADIUS server checks it) */
	struct eap_pkt none = {0};

	if (take_identity(s, &none) < 0)
		return fail(ans, why, why_cap, "the peer's IKE identity cannot be a RADIUS User-Name");
	n = identity_eap(s, id, rsp, sizeof(rsp));
	if (n < 0)
		return fail(ans, why, why_cap, "cannot build an EAP-Response/Identity");
	if ((rc = send_eap(s, rsp, (size_t)n, user, now)) < 0)
		return send_failed(ans, why, why_cap, rc);
	return 0;
}

int radsess_answer(struct radsess **sp, struct radhub *h, const struct ike_event *ev,
                   const char *eap_id, void *user, struct ike_answer *ans, char *why,
                   size_t why_cap, uint64_t now)
{
	struct radsess *s = *sp;
	uint8_t rsp[8 + sizeof(((struct radsess *)0)->user.name)];
	struct eap_pkt p;
	int n, rc;

	memset(ans, 0, sizeof(*ans));
	ans->need = IKE_NEED_EAP;
	ans->eap_status = IKE_EAP_FAILURE;
	why[0] = '\0';
	if (!ev->eap_server)
		return fail(ans, why, why_cap, "eap-radius is for the EAP server's end");
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return fail(ans, why, why_cap, "out of memory");
		s->hub = h;
		s->ike_id = ev->peer_id;
		*sp = s;
		return begin(s, eap_id, user, ans, why, why_cap, now);
	}
	if (s->phase != RS_IDENTITY && s->phase != RS_PEER)
		return fail(ans, why, why_cap, "EAP message while RADIUS was still asked");
	/* RFC 3748 §4.1: a Response answers the Request of the same
	 * Identifier; anything else ends it (IKE carries one at a time) */
	if (eap_parse(ev->eap, ev->eap_len, &p) < 0 || p.code != EAP_CODE_RESPONSE ||
	    p.id != s->last_id)
		return fail(ans, why, why_cap, "malformed or unexpected EAP Response");
	if (s->phase == RS_IDENTITY) {
		if (p.type != EAP_TYPE_IDENTITY)
			return fail(ans, why, why_cap, "no EAP-Response/Identity");
		if (take_identity(s, &p) < 0)
			return fail(ans, why, why_cap, "the EAP identity cannot be a RADIUS User-Name");
		if (p.data_len == 0) {
			n = identity_eap(s, p.id, rsp, sizeof(rsp));
			if (n < 0)
				return fail(ans, why, why_cap, "cannot build an EAP-Response/Identity");
			if ((rc = send_eap(s, rsp, (size_t)n, user, now)) < 0)
				return send_failed(ans, why, why_cap, rc);
			return 0;
		}
	}
	if ((rc = send_eap(s, ev->eap, p.len, user, now)) < 0)
		return send_failed(ans, why, why_cap, rc);
	return 0;
}

/* The answer's EAP, or a Success/Failure of ours when the server sent
 * none (RFC 3579 §2.6.3 lets an Accept or Reject omit it). */
static void result_eap(const struct radius_answer *a, bool success, uint8_t id,
                       struct ike_answer *ans)
{
	struct eap_pkt p;

	if (a->eap_len && a->eap_len <= sizeof(ans->eap) && eap_parse(a->eap, a->eap_len, &p) > 0 &&
	    p.code == (success ? EAP_CODE_SUCCESS : EAP_CODE_FAILURE)) {
		memcpy(ans->eap, a->eap, a->eap_len);
		ans->eap_len = a->eap_len;
		return;
	}
	ans->eap_len = (size_t)eap_build_result(ans->eap, sizeof(ans->eap), success, id);
}

static void accepted(struct radsess *s, const struct radius_answer *a, struct ike_answer *ans,
                     char *why, size_t why_cap)
{
	size_t len = strlen(s->user.name);

	/* Without keys the AUTH would fall back to SK_pi/SK_pr: a RADIUS
	 * server that gives none ran a method without MSK, or is
	 * misconfigured; strongSwan refuses it too. */
	if (a->msk_len != RADIUS_MSK_LEN) {
		result_eap(a, false, s->last_id, ans);
		fail(ans, why, why_cap, "Access-Accept without MS-MPPE keys (no MSK)");
		return;
	}
	result_eap(a, true, s->last_id, ans);
	ans->eap_status = IKE_EAP_SUCCESS;
	memcpy(ans->msk, a->msk, RADIUS_MSK_LEN);
	ans->msk_len = RADIUS_MSK_LEN;
	memset(&ans->eap_id, 0, sizeof(ans->eap_id));
	ans->eap_id.type = memchr(s->user.name, '@', len) ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
	ans->eap_id.len = (uint8_t)(len > IKE_ID_MAX ? IKE_ID_MAX : len);
	memcpy(ans->eap_id.data, s->user.name, ans->eap_id.len);
	s->user.has_framed_ip = a->has_framed_ip;
	memcpy(s->user.framed_ip, a->framed_ip, 4);
	s->user.class_len = a->class_len;
	memcpy(s->user.class_, a->class_, a->class_len);
	s->user.session_timeout = a->has_session_timeout ? a->session_timeout : 0;
	/* RFC 4478: the client hears of it, and can log in again in time */
	ans->auth_lifetime = s->user.session_timeout;
}

void radsess_result(struct radsess *s, const struct radius_event *ev, struct ike_answer *ans,
                    char *why, size_t why_cap)
{
	const struct radius_answer *a = ev->answer;
	struct eap_pkt p;

	memset(ans, 0, sizeof(*ans));
	ans->need = IKE_NEED_EAP;
	ans->eap_status = IKE_EAP_FAILURE;
	why[0] = '\0';
	s->handle = 0;
	s->phase = RS_DONE;
	if (ev->type != RADIUS_EV_ANSWER || !a) {
		result_eap(&(struct radius_answer){0}, false, s->last_id, ans);
		fail(ans, why, why_cap, "no RADIUS server answered");
		return;
	}
	switch (a->code) {
	case RADIUS_ACCESS_CHALLENGE:
		/* RFC 3579 §2.6.3: the next EAP-Request, and State to echo */
		if (a->eap_len > sizeof(ans->eap) || eap_parse(a->eap, a->eap_len, &p) <= 0 ||
		    p.code != EAP_CODE_REQUEST) {
			fail(ans, why, why_cap, "Access-Challenge without an EAP-Request");
			return;
		}
		memcpy(ans->eap, a->eap, a->eap_len);
		ans->eap_len = a->eap_len;
		ans->eap_status = IKE_EAP_CONTINUE;
		s->state_len = a->state_len;
		memcpy(s->state, a->state, a->state_len);
		s->last_id = p.id;
		s->phase = RS_PEER;
		return;
	case RADIUS_ACCESS_ACCEPT:
		accepted(s, a, ans, why, why_cap);
		return;
	default:
		result_eap(a, false, s->last_id, ans);
		snprintf(why, why_cap, "RADIUS server %zu rejected %s%s%s", ev->server + 1,
		         s->user.name, a->reply_message[0] ? ": " : "", a->reply_message);
		/* Reply-Message is the server's free text: one log line, no
		 * control characters in it */
		for (char *c = why; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		ans->eap_status = IKE_EAP_FAILURE;
		return;
	}
}

bool radsess_accounting(const struct radsess *s)
{
	return s && s->acct_started;
}

uint64_t radsess_interim_at(const struct radsess *s)
{
	return s && s->acct_started ? s->interim_at : 0;
}

int radsess_account(struct radsess *s, int status, const uint8_t *vip4,
                    const struct radacct_counts *cnt, uint64_t now, uint32_t cause)
{
	const struct cfg_radius *cfg = &s->hub->cfg;
	struct radius_msg m;
	uint64_t secs;
	int rc;

	if (status == RADIUS_ACCT_START) {
		uint8_t r[8];

		/* RFC 2866 §5.5: unique per NAS; random, so that it is also
		 * unique across restarts */
		rand_bytes(r, sizeof(r));
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(s->acct_sid + 2 * i, 3, "%02x", r[i]);
		s->acct_start = now;
		s->acct_started = true;
	} else if (!s->acct_started) {
		return -EINVAL;
	}
	secs = (now - s->acct_start) / 1000000000ULL;
	radius_msg_init(&m, RADIUS_ACCOUNTING_REQUEST);
	rc = radius_msg_add_u32(&m, RADIUS_A_ACCT_STATUS_TYPE, (uint32_t)status);
	if (rc == 0)
		rc = radius_msg_add_str(&m, RADIUS_A_ACCT_SESSION_ID, s->acct_sid);
	if (rc == 0)
		rc = radius_msg_add_str(&m, RADIUS_A_USER_NAME, s->user.name);
	if (rc == 0)
		rc = radius_msg_add_u32(&m, RADIUS_A_ACCT_AUTHENTIC, RADIUS_ACCT_AUTHENTIC_RADIUS);
	if (rc == 0)
		rc = radius_msg_add_u32(&m, RADIUS_A_NAS_PORT_TYPE, RADIUS_NAS_PORT_VIRTUAL);
	/* RFC 2865 §5.25: Class as the server gave it */
	if (rc == 0 && s->user.class_len)
		rc = radius_msg_add(&m, RADIUS_A_CLASS, s->user.class_, s->user.class_len);
	if (rc == 0 && vip4)
		rc = radius_msg_add(&m, RADIUS_A_FRAMED_IP_ADDRESS, vip4, 4);
	if (rc == 0 && status != RADIUS_ACCT_START) {
		rc = radius_msg_add_counters(&m, cnt->in_octets, cnt->out_octets, cnt->in_packets,
		                             cnt->out_packets);
		if (rc == 0)
			rc = radius_msg_add_u32(&m, RADIUS_A_ACCT_SESSION_TIME,
			                        secs > UINT32_MAX ? UINT32_MAX : (uint32_t)secs);
	}
	if (rc == 0 && status == RADIUS_ACCT_STOP)
		rc = radius_msg_add_u32(&m, RADIUS_A_ACCT_TERMINATE_CAUSE, cause);
	if (rc == 0)
		rc = radhub_account(s->hub, &m, NULL, now);
	radius_msg_wipe(&m);
	if (status == RADIUS_ACCT_STOP)
		s->acct_started = false;
	else if (cfg->accounting_interval)
		s->interim_at = now + cfg->accounting_interval * 1000000ULL;
	return rc;
}

const struct radsess_user *radsess_user(const struct radsess *s)
{
	return &s->user;
}

void radsess_free(struct radsess *s)
{
	if (!s)
		return;
	if (s->handle > 0)
		radius_client_cancel(s->hub->client, (uint64_t)s->handle);
	sodium_memzero(s, sizeof(*s));
	free(s);
}
