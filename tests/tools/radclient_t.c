/*
 * radclient_t: daemon/radius.c over real UDP sockets, for
 * tests/netns/radius_freeradius.sh. A test tool, not the daemon: a poll()
 * loop stands in for libuv, CLOCK_MONOTONIC for the loop's clock.
 *
 *	radclient_t [-t MS] [-r TRIES] [-n NAS-ID] -s ADDR:SECRET[:AUTH[:ACCT]]... CMD
 *	  pap USER PASSWORD                 Access-Request with User-Password
 *	  eap-md5 USER PASSWORD             EAP-Response/Identity, then the
 *	                                    MD5-Challenge (RFC 3748 §5.4) with
 *	                                    State echoed (RFC 2865 §5.24)
 *	  acct start|interim|stop SESSION USER IN_OCT OUT_OCT IN_PKT OUT_PKT SECS
 *
 * One line per answer: "answer round=N code=accept server=I" then what it
 * carried ("class=...", "framed_ip=...", "session_timeout=...",
 * "msk=HEX", "eap=HEX", "state=HEX", "reply=..."); "timeout" if no server
 * answered; the client's counters last, one "counter NAME=N" each.
 * Exit: 0 Access-Accept or Accounting-Response, 1 Access-Reject, 2
 * timeout, 3 usage or system error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/md5.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/radius.h"

static struct radius_client_cfg cfg;
static struct sockaddr_in addrs[RADIUS_MAX_SERVERS];
static int fds[RADIUS_MAX_SERVERS][2];
static const char *nas_id = "tunsec-test";

static void sys_rand(void *ctx, void *buf, size_t len)
{
	if (getrandom(buf, len, 0) != (ssize_t)len)
		abort();
}

static radius_time_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (radius_time_t)ts.tv_sec * RADIUS_SEC + (radius_time_t)ts.tv_nsec;
}

static void hex(const char *name, const uint8_t *p, size_t n)
{
	printf(" %s=", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int usage(void)
{
	fprintf(stderr, "usage: radclient_t [-t MS] [-r TRIES] [-n NAS-ID] "
	                "-s ADDR:SECRET[:AUTH[:ACCT]]... pap|eap-md5|acct ...\n");
	return 3;
}

static int add_server(const char *arg)
{
	struct radius_server_cfg *s = &cfg.servers[cfg.n_servers];
	char buf[256], *secret, *auth, *acct;

	if (cfg.n_servers >= RADIUS_MAX_SERVERS || strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	secret = strchr(buf, ':');
	if (!secret)
		return -1;
	*secret++ = '\0';
	auth = strchr(secret, ':');
	acct = NULL;
	if (auth) {
		*auth++ = '\0';
		acct = strchr(auth, ':');
		if (acct)
			*acct++ = '\0';
	}
	if (strlen(buf) >= sizeof(s->address))
		return -1;
	memcpy(s->address, buf, strlen(buf) + 1);
	s->secret_len = strlen(secret);
	if (s->secret_len == 0 || s->secret_len > RADIUS_SECRET_MAX)
		return -1;
	memcpy(s->secret, secret, s->secret_len);
	s->auth_port = auth ? (uint16_t)atoi(auth) : 0;
	s->acct_port = acct ? (uint16_t)atoi(acct) : 0;
	memset(&addrs[cfg.n_servers], 0, sizeof(addrs[0]));
	addrs[cfg.n_servers].sin_family = AF_INET;
	if (inet_pton(AF_INET, buf, &addrs[cfg.n_servers].sin_addr) != 1)
		return -1;
	cfg.n_servers++;
	return 0;
}

/* Sends what the client has queued. */
static void flush(struct radius_client *c)
{
	static uint8_t buf[RADIUS_PKT_MAX];
	struct radius_dest d;
	ssize_t n;

	while ((n = radius_client_poll_tx(c, &d, buf, sizeof(buf))) > 0) {
		struct sockaddr_in to = addrs[d.server];

		to.sin_port = htons(d.port_number);
		if (sendto(fds[d.server][d.port], buf, (size_t)n, 0, (struct sockaddr *)&to,
		           sizeof(to)) < 0)
			fprintf(stderr, "radclient_t: sendto: %s\n", strerror(errno));
	}
}

/* Runs the loop until request h ends; its event into *ev. */
static int run(struct radius_client *c, int64_t h, struct radius_event *ev)
{
	struct pollfd pfd[RADIUS_MAX_SERVERS * 2];
	size_t n = cfg.n_servers * 2;

	for (size_t i = 0; i < n; i++) {
		pfd[i].fd = fds[i / 2][i % 2];
		pfd[i].events = POLLIN;
	}
	flush(c);
	for (;;) {
		radius_time_t t = now_ns(), exp = radius_client_next_expiry(c);
		int ms = exp == RADIUS_TIME_NEVER ? 1000
		         : exp <= t               ? 0
		                                  : (int)((exp - t + RADIUS_MSEC - 1) / RADIUS_MSEC);

		if (poll(pfd, n, ms) < 0 && errno != EINTR)
			return -1;
		for (size_t i = 0; i < n; i++) {
			uint8_t buf[RADIUS_PKT_MAX + 16];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t len;
			int r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			len = recvfrom(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT,
			               (struct sockaddr *)&from, &fl);
			if (len < 0)
				continue;
			/* Only the server's own address and port may answer. */
			if (from.sin_addr.s_addr != addrs[i / 2].sin_addr.s_addr ||
			    ntohs(from.sin_port) != (i % 2 ? cfg.servers[i / 2].acct_port
			                                   : cfg.servers[i / 2].auth_port))
				continue;
			r = radius_client_recv(c, i / 2, (int)(i % 2), buf, (size_t)len, now_ns());
			if (r < 0)
				printf("dropped server=%zu reason=\"%s\"\n", i / 2, radius_strerror(r));
		}
		if (radius_client_next_expiry(c) <= now_ns())
			radius_client_handle_expiry(c, now_ns());
		flush(c);
		while (radius_client_poll_event(c, ev) == 1) {
			if (ev->handle == (uint64_t)h)
				return 0;
			radius_event_wipe(ev);
		}
	}
}

static const char *code_name(uint8_t code)
{
	switch (code) {
	case RADIUS_ACCESS_ACCEPT:
		return "accept";
	case RADIUS_ACCESS_REJECT:
		return "reject";
	case RADIUS_ACCESS_CHALLENGE:
		return "challenge";
	case RADIUS_ACCOUNTING_RESPONSE:
		return "accounting-response";
	}
	return "?";
}

static void print_answer(int round, const struct radius_event *ev)
{
	const struct radius_answer *a = ev->answer;

	printf("answer round=%d code=%s server=%zu", round, code_name(a->code), ev->server);
	if (a->class_len)
		printf(" class=%.*s", (int)a->class_len, (const char *)a->class_);
	if (a->has_framed_ip)
		printf(" framed_ip=%u.%u.%u.%u", a->framed_ip[0], a->framed_ip[1], a->framed_ip[2],
		       a->framed_ip[3]);
	if (a->has_session_timeout)
		printf(" session_timeout=%u", a->session_timeout);
	if (a->reply_len)
		printf(" reply=\"%s\"", a->reply_message);
	if (a->eap_len)
		hex("eap", a->eap, a->eap_len);
	if (a->state_len)
		hex("state", a->state, a->state_len);
	if (a->msk_len)
		hex("msk", a->msk, a->msk_len);
	printf("\n");
}

static void access_attrs(struct radius_msg *m, const char *user)
{
	radius_msg_add_str(m, RADIUS_A_USER_NAME, user);
	radius_msg_add_str(m, RADIUS_A_NAS_IDENTIFIER, nas_id);
	radius_msg_add_u32(m, RADIUS_A_SERVICE_TYPE, RADIUS_SERVICE_FRAMED);
	radius_msg_add_u32(m, RADIUS_A_NAS_PORT_TYPE, RADIUS_NAS_PORT_VIRTUAL);
	radius_msg_add_str(m, RADIUS_A_CALLED_STATION_ID, "192.0.2.1[4500]");
	radius_msg_add_str(m, RADIUS_A_CALLING_STATION_ID, "198.51.100.7[4500]");
}

/* One request, its answer printed. Returns the answer's code, 0 on timeout. */
static int exchange(struct radius_client *c, struct radius_msg *m, int round,
                    struct radius_answer *out)
{
	struct radius_event ev;
	int64_t h = radius_client_send(c, m, NULL, now_ns());
	int code;

	if (h < 0) {
		fprintf(stderr, "radclient_t: send: %s\n", radius_strerror((int)h));
		return -1;
	}
	if (run(c, h, &ev) < 0)
		return -1;
	if (ev.type == RADIUS_EV_TIMEOUT) {
		printf("timeout round=%d server=%zu\n", round, ev.server);
		return 0;
	}
	print_answer(round, &ev);
	code = ev.answer->code;
	if (out)
		memcpy(out, ev.answer, sizeof(*out));
	radius_event_wipe(&ev);
	return code;
}

static int cmd_pap(struct radius_client *c, struct radius_msg *m, char **argv)
{
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	access_attrs(m, argv[0]);
	radius_msg_set_password(m, argv[1], strlen(argv[1]));
	return exchange(c, m, 1, NULL);
}

/* EAP-MD5 (RFC 3748 §5.4): Identity, then MD5(id | password | challenge). */
static int cmd_eap_md5(struct radius_client *c, struct radius_msg *m, char **argv)
{
	struct radius_answer *a = calloc(1, sizeof(*a));
	uint8_t eap[300];
	size_t ul = strlen(argv[0]), pl = strlen(argv[1]);
	int code;

	if (!a || ul > 200)
		return -1;
	eap[0] = 2; /* Response */
	eap[1] = 0;
	eap[2] = 0;
	eap[3] = (uint8_t)(5 + ul);
	eap[4] = 1; /* Identity */
	memcpy(eap + 5, argv[0], ul);
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	access_attrs(m, argv[0]);
	radius_msg_add_eap(m, eap, 5 + ul);
	code = exchange(c, m, 1, a);
	if (code != RADIUS_ACCESS_CHALLENGE)
		goto out;
	/* EAP-Request/MD5-Challenge: code 1, type 4, value size, value. */
	if (a->eap_len < 6 || a->eap[0] != 1 || a->eap[4] != 4 || a->eap[5] < 1 ||
	    6u + a->eap[5] > a->eap_len) {
		printf("not an MD5-Challenge\n");
		code = -1;
		goto out;
	}
	{
		mbedtls_md5_context md;
		uint8_t id = a->eap[1], digest[16];

		mbedtls_md5_init(&md);
		mbedtls_md5_starts_ret(&md);
		mbedtls_md5_update_ret(&md, &id, 1);
		mbedtls_md5_update_ret(&md, (const uint8_t *)argv[1], pl);
		mbedtls_md5_update_ret(&md, a->eap + 6, a->eap[5]);
		mbedtls_md5_finish_ret(&md, digest);
		mbedtls_md5_free(&md);
		eap[0] = 2;
		eap[1] = id;
		eap[2] = 0;
		eap[3] = 6 + 16;
		eap[4] = 4;
		eap[5] = 16;
		memcpy(eap + 6, digest, 16);
	}
	radius_msg_init(m, RADIUS_ACCESS_REQUEST);
	access_attrs(m, argv[0]);
	radius_msg_add_eap(m, eap, 22);
	radius_msg_add(m, RADIUS_A_STATE, a->state, a->state_len);
	code = exchange(c, m, 2, NULL);
out:
	radius_answer_wipe(a);
	free(a);
	return code;
}

static int cmd_acct(struct radius_client *c, struct radius_msg *m, char **argv)
{
	uint32_t type = strcmp(argv[0], "start") == 0     ? RADIUS_ACCT_START
	                : strcmp(argv[0], "interim") == 0 ? RADIUS_ACCT_INTERIM
	                                                  : RADIUS_ACCT_STOP;

	radius_msg_init(m, RADIUS_ACCOUNTING_REQUEST);
	radius_msg_add_u32(m, RADIUS_A_ACCT_STATUS_TYPE, type);
	radius_msg_add_str(m, RADIUS_A_ACCT_SESSION_ID, argv[1]);
	radius_msg_add_str(m, RADIUS_A_USER_NAME, argv[2]);
	radius_msg_add_str(m, RADIUS_A_NAS_IDENTIFIER, nas_id);
	radius_msg_add_u32(m, RADIUS_A_NAS_PORT_TYPE, RADIUS_NAS_PORT_VIRTUAL);
	radius_msg_add_u32(m, RADIUS_A_ACCT_AUTHENTIC, RADIUS_ACCT_AUTHENTIC_RADIUS);
	if (type != RADIUS_ACCT_START) {
		radius_msg_add_counters(m, strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
		                        strtoull(argv[5], NULL, 0), strtoull(argv[6], NULL, 0));
		radius_msg_add_u32(m, RADIUS_A_ACCT_SESSION_TIME,
		                   (uint32_t)strtoul(argv[7], NULL, 0));
	}
	if (type == RADIUS_ACCT_STOP)
		radius_msg_add_u32(m, RADIUS_A_ACCT_TERMINATE_CAUSE, RADIUS_TERM_USER_REQUEST);
	return exchange(c, m, 1, NULL);
}

int main(int argc, char **argv)
{
	struct radius_client *c;
	struct radius_msg *m;
	int opt, code, rc;

	cfg.timeout = 500 * RADIUS_MSEC;
	cfg.tries = 2;
	cfg.base = 1000;
	cfg.rand = sys_rand;
	while ((opt = getopt(argc, argv, "s:t:r:n:")) != -1) {
		switch (opt) {
		case 's':
			if (add_server(optarg) < 0)
				return usage();
			break;
		case 't':
			cfg.timeout = (radius_time_t)atoi(optarg) * RADIUS_MSEC;
			break;
		case 'r':
			cfg.tries = (unsigned)atoi(optarg);
			break;
		case 'n':
			nas_id = optarg;
			break;
		default:
			return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || cfg.n_servers == 0)
		return usage();
	if ((strcmp(argv[0], "pap") == 0 || strcmp(argv[0], "eap-md5") == 0) ? argc != 3
	    : strcmp(argv[0], "acct") == 0                                     ? argc != 9
	                                                                       : 1)
		return usage();
	c = radius_client_new(&cfg);
	m = calloc(1, sizeof(*m));
	if (!c || !m)
		return 3;
	for (size_t s = 0; s < cfg.n_servers; s++)
		for (int p = 0; p < 2; p++) {
			fds[s][p] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fds[s][p] < 0)
				return 3;
		}
	/* The ports the client settled on (defaults filled in). */
	for (size_t s = 0; s < cfg.n_servers; s++) {
		if (!cfg.servers[s].auth_port)
			cfg.servers[s].auth_port = RADIUS_DEFAULT_AUTH_PORT;
		if (!cfg.servers[s].acct_port)
			cfg.servers[s].acct_port = RADIUS_DEFAULT_ACCT_PORT;
	}

	if (strcmp(argv[0], "pap") == 0)
		code = cmd_pap(c, m, argv + 1);
	else if (strcmp(argv[0], "eap-md5") == 0)
		code = cmd_eap_md5(c, m, argv + 1);
	else
		code = cmd_acct(c, m, argv + 1);

	{
		const struct radius_counters *k = radius_client_counters(c);
#define PRINT_COUNTER(f, s) printf("counter %s=%llu\n", s, (unsigned long long)k->f);
		RADIUS_COUNTERS(PRINT_COUNTER)
#undef PRINT_COUNTER
	}
	rc = code == RADIUS_ACCESS_ACCEPT || code == RADIUS_ACCOUNTING_RESPONSE ? 0
	     : code == RADIUS_ACCESS_REJECT                                    ? 1
	     : code == 0                                                       ? 2
	                                                                       : 3;
	radius_msg_wipe(m);
	free(m);
	radius_client_free(c);
	return rc;
}
