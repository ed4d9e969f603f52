/*
 * tunsecd's configuration: the tree from daemon/conftree.c checked and
 * turned into struct tunsec_config.
 *
 * Every section is a table of keys (name, required or not, parser), read in
 * table order so that a key may depend on one before it (key_in's length on
 * esp_proposals); cross-key and cross-section checks run afterwards. Adding
 * swanctl.conf's connections, secrets, pools and authorities for IKEv2 is
 * adding their tables and a loader to top_sections[].
 *
 * Key material is parsed straight into its place in the result, never into
 * a message; on error everything is wiped and freed.
 */
#include "daemon/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "daemon/conftree.h"
#include "esp/replay.h"

/* Longest element of any list we take (an IPv6 CIDR is 43 bytes). */
#define ELEM_MAX 128
/* manual.NAME.KEY with names of up to CONFTREE_NAME_MAX bytes each */
#define PATH_MAX_LEN (3 * CONFTREE_NAME_MAX + 8)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct loader {
	struct tunsec_config *c;
	char *err;
	size_t errlen;
};

/* "FILE:LINE: PATH: message" */
static int vfail(struct loader *l, const char *file, unsigned line, const char *path,
                 const char *fmt, va_list ap)
{
	int n;

	if (!l->err || l->errlen == 0)
		return -1;
	n = snprintf(l->err, l->errlen, "%s:%u: %s: ", file ? file : "?", line, path);
	if (n >= 0 && (size_t)n < l->errlen)
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	return -1;
}

static int kv_fail(struct loader *l, const struct conftree_kv *kv, const char *path,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int kv_fail(struct loader *l, const struct conftree_kv *kv, const char *path,
                   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(l, kv->file, kv->line, path, fmt, ap);
	va_end(ap);
	return -1;
}

static int sec_fail(struct loader *l, const struct conftree_section *s, const char *path,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int sec_fail(struct loader *l, const struct conftree_section *s, const char *path,
                    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(l, s->file, s->line, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* prefix.name; prefix is a different buffer. Names are bounded by the
 * tree's CONFTREE_NAME_MAX, so nothing is cut, and a cut would only shorten
 * a message. */
static void join(char *out, const char *prefix, const char *name)
{
	if (snprintf(out, PATH_MAX_LEN, "%s%s%s", prefix, prefix[0] ? "." : "", name) >=
	    PATH_MAX_LEN)
		out[PATH_MAX_LEN - 1] = '\0';
}

/* ---------------------------------------------------------------------- */
/* Key tables */

struct key_spec {
	const char *name;
	bool required;
	int (*parse)(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path);
};

/*
 * Check every key and subsection of s against the table (unknown names are
 * errors, in file order), then parse the keys in table order. path is s's
 * own ("manual.gw").
 */
static int load_keys(struct loader *l, const struct conftree_section *s, const char *path,
                     const struct key_spec *keys, size_t n, void *obj)
{
	char kpath[PATH_MAX_LEN];

	for (const struct conftree_kv *kv = s->kvs; kv; kv = kv->next) {
		size_t i;

		for (i = 0; i < n && strcmp(keys[i].name, kv->key) != 0; i++)
			;
		if (i == n) {
			join(kpath, path, kv->key);
			return kv_fail(l, kv, kpath, "unknown key");
		}
	}
	for (const struct conftree_section *sub = s->children; sub; sub = sub->next) {
		join(kpath, path, sub->name);
		return sec_fail(l, sub, kpath, "unknown section");
	}
	for (size_t i = 0; i < n; i++) {
		const struct conftree_kv *kv = conftree_kv(s, keys[i].name);

		join(kpath, path, keys[i].name);
		if (!kv) {
			if (keys[i].required)
				return sec_fail(l, s, kpath, "required but missing");
			continue;
		}
		if (keys[i].parse(l, obj, kv, kpath) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Value parsers shared by the tables */

static int get_bool(struct loader *l, const struct conftree_kv *kv, const char *path, bool *out)
{
	if (conftree_parse_bool(kv->value, out) < 0)
		return kv_fail(l, kv, path, "expected yes or no");
	return 0;
}

static int get_uint(struct loader *l, const struct conftree_kv *kv, const char *path, uint64_t min,
                    uint64_t max, uint64_t *out)
{
	if (conftree_parse_u64(kv->value, min, max, out) < 0)
		return kv_fail(l, kv, path, "expected a number in %llu..%llu",
		               (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int get_port(struct loader *l, const struct conftree_kv *kv, const char *path, uint16_t *out)
{
	uint64_t v;

	if (get_uint(l, kv, path, 1, 65535, &v) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* A list of exactly one element. */
static int get_single(struct loader *l, const struct conftree_kv *kv, const char *path,
                      const char *what, char *buf, size_t cap)
{
	struct conftree_list it;
	int rc;

	conftree_list_init(&it, kv->value);
	rc = conftree_list_next(&it, buf, cap);
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (rc == 0)
		return kv_fail(l, kv, path, "expected %s, got nothing", what);
	rc = conftree_list_next(&it, buf, cap);
	if (rc != 0)
		return kv_fail(l, kv, path, "expected exactly one %s (manual keying)", what);
	return 0; /* at the end, next left buf alone: it holds the one element */
}

/* A host address literal (no prefix) into a sockaddr, port left 0. */
static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(s, '/'))
		return -1;
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

static bool addr_unspecified(const struct sockaddr_storage *ss)
{
	static const uint8_t zero[16];

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == 0;
	return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, zero, 16) == 0;
}

/* ---------------------------------------------------------------------- */
/* tunsec { } */

static int p_interface(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;
	size_t n = strlen(kv->value);

	/* What the kernel takes as a name (dev_valid_name()): 1..15 bytes, no
	 * '/', ':' or white space, not "." or "..". "%d" picks a number. */
	if (n == 0 || n >= sizeof(c->interface) || strcmp(kv->value, ".") == 0 ||
	    strcmp(kv->value, "..") == 0 || strpbrk(kv->value, "/: \t\r\n"))
		return kv_fail(l, kv, path,
		               "expected an interface name of 1..%zu characters "
		               "without '/', ':' or spaces",
		               sizeof(c->interface) - 1);
	memcpy(c->interface, kv->value, n + 1);
	return 0;
}

/* "10.201.1.1/24": the address keeps its host bits (it is the interface's
 * own address); without a prefix it is a /32 or /128. */
static int parse_prefix(const char *s, struct cfg_prefix *p)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	p->prefix = max;
	if (slash) {
		uint64_t v;

		/* Plain decimal only: "/0x10" or "/016" are typos, not prefixes. */
		if (strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
		    (slash[1] == '0' && slash[2]) || conftree_parse_u64(slash + 1, 0, max, &v) < 0)
			return -1;
		p->prefix = (unsigned)v;
	}
	return 0;
}

static int p_addrs(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;
	struct conftree_list it;
	char buf[ELEM_MAX];
	int rc;

	c->n_addrs = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		if (c->n_addrs == CFG_MAX_ADDRS)
			return kv_fail(l, kv, path, "more than %d addresses", CFG_MAX_ADDRS);
		if (parse_prefix(buf, &c->addrs[c->n_addrs]) < 0)
			return kv_fail(l, kv, path, "'%s' is not an address/prefix", buf);
		c->n_addrs++;
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	return 0;
}

static int p_mtu(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;
	uint64_t v;

	/* The lower bound depends on the address families in use and is
	 * checked once everything is read (check_mtu). */
	if (conftree_parse_u64(kv->value, 0, 1500, &v) < 0)
		return kv_fail(l, kv, path, "expected 0 (automatic) or a number up to 1500");
	c->mtu = (unsigned)v;
	return 0;
}

/* User and group names as useradd(8) takes them, portably. */
static int get_account(struct loader *l, const struct conftree_kv *kv, const char *path, char *out,
                       size_t cap)
{
	size_t n = strlen(kv->value);

	if (n >= cap || kv->value[0] == '-' ||
	    strspn(kv->value,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return kv_fail(l, kv, path,
		               "expected a name of at most %zu characters "
		               "[A-Za-z0-9._-]",
		               cap - 1);
	memcpy(out, kv->value, n + 1);
	return 0;
}

static int p_user(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;

	return get_account(l, kv, path, c->user, sizeof(c->user));
}

static int p_group(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;

	if (get_account(l, kv, path, c->group, sizeof(c->group)) < 0)
		return -1;
	if (c->group[0] && !c->user[0])
		return kv_fail(l, kv, path,
		               "needs tunsec.user (privileges are dropped only "
		               "when a user is given)");
	return 0;
}

static int p_socket(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;
	size_t n = strlen(kv->value);

	if (kv->value[0] != '/' || n >= sizeof(c->socket_path))
		return kv_fail(l, kv, path, "expected an absolute path shorter than %zu bytes",
		               sizeof(c->socket_path));
	memcpy(c->socket_path, kv->value, n + 1);
	return 0;
}

static int p_port(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;

	return get_port(l, kv, path, &c->port);
}

static int p_port_nat_t(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;

	return get_port(l, kv, path, &c->port_nat_t);
}

static int p_keepalive(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;
	uint64_t v;

	if (conftree_parse_time(kv->value, 86400, &v) < 0)
		return kv_fail(l, kv, path, "expected a time up to 1d (e.g. 20s, 1m; 0 disables)");
	c->keepalive_sec = (unsigned)v;
	return 0;
}

static int p_mss_clamp(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;

	return get_bool(l, kv, path, &c->mss_clamp);
}

static int p_offload(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct tunsec_config *c = obj;

	return get_bool(l, kv, path, &c->offload);
}

/* user before group: group checks it. */
static const struct key_spec tunsec_keys[] = {
    {"interface", false, p_interface},
    {"addrs", false, p_addrs},
    {"mtu", false, p_mtu},
    {"user", false, p_user},
    {"group", false, p_group},
    {"socket", false, p_socket},
    {"port", false, p_port},
    {"port_nat_t", false, p_port_nat_t},
    {"keepalive", false, p_keepalive},
    {"mss_clamp", false, p_mss_clamp},
    {"offload", false, p_offload},
};

static int load_tunsec(struct loader *l, const struct conftree_section *s)
{
	const struct conftree_kv *kv;

	if (load_keys(l, s, "tunsec", tunsec_keys, ARRAY_LEN(tunsec_keys), l->c) < 0)
		return -1;
	/* RFC 3948 §2.2 tells IKE from ESP on the NAT-T port by the non-ESP
	 * marker; the plain IKE port has none, so the two cannot share. */
	if (l->c->port == l->c->port_nat_t) {
		if ((kv = conftree_kv(s, "port_nat_t")))
			return kv_fail(l, kv, "tunsec.port_nat_t", "must differ from tunsec.port");
		kv = conftree_kv(s, "port");
		return kv_fail(l, kv, "tunsec.port", "must differ from tunsec.port_nat_t");
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* manual { NAME { } } */

static int p_addr(struct loader *l, const struct conftree_kv *kv, const char *path,
                  struct sockaddr_storage *ss)
{
	char buf[ELEM_MAX];

	if (get_single(l, kv, path, "IP address", buf, sizeof(buf)) < 0)
		return -1;
	if (parse_addr(buf, ss) < 0)
		return kv_fail(l, kv, path, "'%s' is not an IPv4 or IPv6 address", buf);
	if (addr_unspecified(ss))
		return kv_fail(l, kv, path, "manual keying needs a fixed address, not '%s'", buf);
	return 0;
}

static int p_local_addrs(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	struct cfg_manual *m = obj;

	return p_addr(l, kv, path, &m->local);
}

static int p_remote_addrs(struct loader *l, void *obj, const struct conftree_kv *kv,
                          const char *path)
{
	struct cfg_manual *m = obj;

	if (p_addr(l, kv, path, &m->remote) < 0)
		return -1;
	if (m->remote.ss_family != m->local.ss_family)
		return kv_fail(l, kv, path, "%s address, but local_addrs is %s",
		               m->remote.ss_family == AF_INET6 ? "IPv6" : "IPv4",
		               m->local.ss_family == AF_INET6 ? "IPv6" : "IPv4");
	return 0;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static int p_encap(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;
	bool udp;

	if (get_bool(l, kv, path, &udp) < 0)
		return -1;
	m->encap = udp ? ESP_ENCAP_UDP : ESP_ENCAP_RAW;
	return 0;
}

/* Ports and keepalives exist only in UDP encapsulation (RFC 3948); with
 * raw ESP saying them is a mistake worth pointing at. */
static int need_udp(struct loader *l, const struct cfg_manual *m, const struct conftree_kv *kv,
                    const char *path)
{
	if (m->encap != ESP_ENCAP_UDP)
		return kv_fail(l, kv, path,
		               "meaningless with encap = no (raw ESP has no ports "
		               "or keepalives)");
	return 0;
}

static int p_local_port(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;
	uint16_t port;

	if (need_udp(l, m, kv, path) < 0 || get_port(l, kv, path, &port) < 0)
		return -1;
	set_port(&m->local, port);
	return 0;
}

static int p_remote_port(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	struct cfg_manual *m = obj;
	uint16_t port;

	if (need_udp(l, m, kv, path) < 0 || get_port(l, kv, path, &port) < 0)
		return -1;
	set_port(&m->remote, port);
	return 0;
}

static int p_esp_proposals(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct cfg_manual *m = obj;
	char buf[ELEM_MAX];

	if (get_single(l, kv, path, "proposal", buf, sizeof(buf)) < 0)
		return -1;
	if (config_parse_esp_proposal(buf, &m->encr, &m->key_bits, &m->integ, &m->esn) < 0)
		return kv_fail(l, kv, path,
		               "'%s' is not a supported proposal (aes128gcm16, aes256gcm16, "
		               "chacha20poly1305, aes128-sha256, aes256-sha256, aes128-sha384, "
		               "aes256-sha384, aes128-sha512, aes256-sha512; -esn or -noesn)",
		               buf);
	m->key_len = aead_keymat_len(m->encr, m->key_bits, m->integ);
	return 0;
}

static int get_spi(struct loader *l, const struct conftree_kv *kv, const char *path, uint32_t *out)
{
	uint64_t v;

	/* RFC 4303 §2.1: SPIs 1..255 are reserved by IANA, 0 is local use. */
	if (conftree_parse_u64(kv->value, 256, UINT32_MAX, &v) < 0)
		return kv_fail(l, kv, path,
		               "expected a 32-bit number of at least 256 "
		               "(0x100; RFC 4303 2.1 reserves 0..255)");
	*out = (uint32_t)v;
	return 0;
}

static int p_spi_in(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;

	return get_spi(l, kv, path, &m->spi_in);
}

static int p_spi_out(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;

	return get_spi(l, kv, path, &m->spi_out);
}

/* Never says anything about the value but its length. */
static int get_key(struct loader *l, const struct cfg_manual *m, const struct conftree_kv *kv,
                   const char *path, uint8_t *out)
{
	size_t len = 0;
	int rc;

	rc = conftree_parse_hex(kv->value, out, AEAD_MAX_KEYMAT, &len);
	if (rc == -1)
		return kv_fail(l, kv, path, "expected %zu bytes of hex, got malformed hex",
		               m->key_len);
	if (rc < 0 || len != m->key_len) {
		sodium_memzero(out, AEAD_MAX_KEYMAT);
		return kv_fail(l, kv, path, "expected %zu bytes of hex, got %zu", m->key_len, len);
	}
	return 0;
}

static int p_key_in(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;

	return get_key(l, m, kv, path, m->key_in);
}

static int p_key_out(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;

	if (get_key(l, m, kv, path, m->key_out) < 0)
		return -1;
	/* Both peers count sequence numbers, hence IVs, from 1: one key for
	 * both directions would reuse every GCM/ChaCha20 nonce (RFC 4106 §8.1). */
	if (sodium_memcmp(m->key_in, m->key_out, m->key_len) == 0)
		return kv_fail(l, kv, path,
		               "must differ from key_in (the same key both ways "
		               "reuses nonces)");
	return 0;
}

static int get_ts(struct loader *l, const struct conftree_kv *kv, const char *path,
                  struct esp_sel *sels, unsigned *n)
{
	struct conftree_list it;
	char buf[ELEM_MAX];
	int rc;

	*n = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		if (*n == ESP_MAX_SELS)
			return kv_fail(l, kv, path, "more than %d subnets", ESP_MAX_SELS);
		if (esp_sel_parse(&sels[*n], buf) < 0)
			return kv_fail(l, kv, path, "'%s' is not a subnet in CIDR notation", buf);
		(*n)++;
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (*n == 0)
		return kv_fail(l, kv, path, "expected at least one subnet");
	return 0;
}

static int p_local_ts(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;

	return get_ts(l, kv, path, m->local_ts, &m->n_local_ts);
}

static int p_remote_ts(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_manual *m = obj;

	return get_ts(l, kv, path, m->remote_ts, &m->n_remote_ts);
}

static int p_replay_window(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct cfg_manual *m = obj;
	uint64_t v;

	if (get_uint(l, kv, path, 0, REPLAY_MAX, &v) < 0)
		return -1;
	m->replay_window = (uint32_t)v;
	return 0;
}

static int p_nat_keepalive(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct cfg_manual *m = obj;

	if (get_bool(l, kv, path, &m->nat_keepalive) < 0)
		return -1;
	if (m->nat_keepalive)
		return need_udp(l, m, kv, path);
	return 0;
}

/* Order matters: addresses before ports, encap before what needs UDP,
 * esp_proposals before the keys whose length it fixes. */
static const struct key_spec manual_keys[] = {
    {"local_addrs", true, p_local_addrs},
    {"remote_addrs", true, p_remote_addrs},
    {"encap", false, p_encap},
    {"local_port", false, p_local_port},
    {"remote_port", false, p_remote_port},
    {"esp_proposals", true, p_esp_proposals},
    {"spi_in", true, p_spi_in},
    {"spi_out", true, p_spi_out},
    {"key_in", true, p_key_in},
    {"key_out", true, p_key_out},
    {"local_ts", true, p_local_ts},
    {"remote_ts", true, p_remote_ts},
    {"replay_window", false, p_replay_window},
    {"nat_keepalive", false, p_nat_keepalive},
};

static int load_manual(struct loader *l, const struct conftree_section *s)
{
	struct tunsec_config *c = l->c;
	char path[PATH_MAX_LEN];
	size_t n = 0;

	for (const struct conftree_kv *kv = s->kvs; kv; kv = kv->next) {
		join(path, "manual", kv->key);
		return kv_fail(l, kv, path,
		               "unknown key (each tunnel is a section: "
		               "manual { NAME { ... } })");
	}
	for (const struct conftree_section *t = s->children; t; t = t->next)
		n++;
	if (n == 0)
		return 0;
	c->manual = calloc(n, sizeof(*c->manual));
	if (!c->manual)
		return sec_fail(l, s, "manual", "out of memory");

	for (const struct conftree_section *t = s->children; t; t = t->next) {
		struct cfg_manual *m = &c->manual[c->n_manual++];

		join(path, "manual", t->name);
		if (strlen(t->name) >= sizeof(m->name))
			return sec_fail(l, t, path, "tunnel name longer than %zu characters",
			                sizeof(m->name) - 1);
		memcpy(m->name, t->name, strlen(t->name) + 1);
		m->encap = ESP_ENCAP_UDP;
		m->replay_window = REPLAY_DEFAULT;
		m->nat_keepalive = false;
		if (load_keys(l, t, path, manual_keys, ARRAY_LEN(manual_keys), m) < 0)
			return -1;
		if (m->encap == ESP_ENCAP_UDP) {
			/* Defaults where not given: RFC 3948 §2.2's port 4500. */
			if (!conftree_kv(t, "local_port"))
				set_port(&m->local, 4500);
			if (!conftree_kv(t, "remote_port"))
				set_port(&m->remote, 4500);
		} else {
			c->raw_esp = true;
		}

		/* The SAD finds inbound SAs by SPI alone (RFC 4301 §4.1). */
		for (size_t i = 0; i + 1 < c->n_manual; i++)
			if (c->manual[i].spi_in == m->spi_in) {
				char kpath[PATH_MAX_LEN];

				join(kpath, path, "spi_in");
				return kv_fail(l, conftree_kv(t, "spi_in"), kpath,
				               "0x%08x is already the spi_in of manual.%s",
				               m->spi_in, c->manual[i].name);
			}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Top level */

struct section_spec {
	const char *name;
	int (*load)(struct loader *l, const struct conftree_section *s);
	const char *what; /* without a loader: what this version lacks */
};

static const struct section_spec top_sections[] = {
    {"tunsec", load_tunsec, NULL},
    {"manual", load_manual, NULL},
    {"connections", NULL, "IKEv2 connections"},
    {"secrets", NULL, "IKEv2 secrets"},
    {"pools", NULL, "IKEv2 address pools"},
    {"authorities", NULL, "IKEv2 certification authorities"},
};

/*
 * RFC 8200 §5: IPv6 needs links of at least 1280 bytes; IPv4 hosts must
 * take 576-byte datagrams (RFC 791). IPv6 is in use if the interface has an
 * IPv6 address or a tunnel carries IPv6 traffic.
 */
static int check_mtu(struct loader *l, const struct conftree *t)
{
	const struct tunsec_config *c = l->c;
	const struct conftree_section *s = conftree_section(&t->root, "tunsec");
	const struct conftree_kv *kv = s ? conftree_kv(s, "mtu") : NULL;
	bool v6 = false;
	unsigned min;

	if (!kv || c->mtu == 0)
		return 0;
	for (unsigned i = 0; i < c->n_addrs; i++)
		v6 |= c->addrs[i].family == AF_INET6;
	for (size_t i = 0; i < c->n_manual; i++) {
		for (unsigned j = 0; j < c->manual[i].n_local_ts; j++)
			v6 |= c->manual[i].local_ts[j].family == AF_INET6;
		for (unsigned j = 0; j < c->manual[i].n_remote_ts; j++)
			v6 |= c->manual[i].remote_ts[j].family == AF_INET6;
	}
	min = v6 ? 1280 : 576;
	if (c->mtu < min)
		return kv_fail(l, kv, "tunsec.mtu", "expected 0 (automatic) or %u..1500%s", min,
		               v6 ? " (IPv6 in use)" : "");
	return 0;
}

static int load_tree(struct loader *l, const struct conftree *t)
{
	for (const struct conftree_kv *kv = t->root.kvs; kv; kv = kv->next)
		return kv_fail(l, kv, kv->key, "unknown key (settings belong in a section)");
	for (const struct conftree_section *s = t->root.children; s; s = s->next) {
		size_t i;

		for (i = 0; i < ARRAY_LEN(top_sections); i++)
			if (strcmp(top_sections[i].name, s->name) == 0)
				break;
		if (i == ARRAY_LEN(top_sections))
			return sec_fail(l, s, s->name, "unknown section");
		if (!top_sections[i].load)
			return sec_fail(l, s, s->name,
			                "%s are not supported by this version (manual keying only)",
			                top_sections[i].what);
	}
	for (size_t i = 0; i < ARRAY_LEN(top_sections); i++) {
		const struct conftree_section *s = conftree_section(&t->root, top_sections[i].name);

		if (s && top_sections[i].load(l, s) < 0)
			return -1;
	}
	return check_mtu(l, t);
}

static void set_defaults(struct tunsec_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->interface, sizeof(c->interface), "tunsec%%d");
	snprintf(c->socket_path, sizeof(c->socket_path), "/run/tunsec.sock");
	c->port = 500;
	c->port_nat_t = 4500;
	c->keepalive_sec = 20;
	c->mss_clamp = true;
	c->offload = true;
}

int config_load(struct tunsec_config *c, const char *path, char *err, size_t errlen)
{
	struct loader l = {c, err, errlen};
	struct conftree t;
	char *real;
	int rc;

	memset(c, 0, sizeof(*c));
	if (strlen(path) >= sizeof(c->path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	set_defaults(c);
	if (conftree_load(&t, path, err, errlen) < 0) {
		config_free(c);
		return -1;
	}
	rc = load_tree(&l, &t);
	conftree_free(&t);
	if (rc < 0) {
		config_free(c);
		return -1;
	}
	/* Absolute, so that a reload finds it whatever the working directory. */
	real = realpath(path, NULL);
	snprintf(c->path, sizeof(c->path), "%s",
	         real && strlen(real) < sizeof(c->path) ? real : path);
	free(real);
	return 0;
}

void config_free(struct tunsec_config *c)
{
	if (c->manual) {
		sodium_memzero(c->manual, c->n_manual * sizeof(*c->manual));
		free(c->manual);
	}
	sodium_memzero(c, sizeof(*c));
}

/* ---------------------------------------------------------------------- */
/* ESP proposals */

/* "aes128", "aes256gcm16", ...: the number after "aes". */
static bool aes_bits(const char **s, unsigned *bits)
{
	static const char *const sizes[] = {"128", "192", "256"};

	if (strncasecmp(*s, "aes", 3) != 0)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++)
		if (strncmp(*s + 3, sizes[i], 3) == 0) {
			*bits = (unsigned)atoi(sizes[i]);
			*s += 6;
			return true;
		}
	/* strongSwan: plain "aes" is AES-128. */
	*bits = 128;
	*s += 3;
	return true;
}

static int parse_encr(const char *tok, int *encr, unsigned *bits)
{
	const char *rest = tok;

	if (strcasecmp(tok, "chacha20poly1305") == 0) {
		*encr = ENCR_CHACHA20_POLY1305;
		*bits = 256;
		return 0;
	}
	if (!aes_bits(&rest, bits))
		return -1;
	if (*rest == '\0') {
		*encr = ENCR_AES_CBC;
		return 0;
	}
	/* GCM with a 16-byte ICV, in strongSwan's bytes or bits spelling
	 * (RFC 4106 §8: the 8 and 12 byte ICVs are not offered here). */
	if (strcasecmp(rest, "gcm16") == 0 || strcasecmp(rest, "gcm128") == 0) {
		*encr = ENCR_AES_GCM_16;
		return 0;
	}
	return -1;
}

static int parse_integ(const char *tok, int *integ)
{
	static const struct {
		const char *name;
		int id;
	} names[] = {
	    {"sha256", AUTH_HMAC_SHA2_256_128}, {"sha2_256", AUTH_HMAC_SHA2_256_128},
	    {"sha384", AUTH_HMAC_SHA2_384_192}, {"sha2_384", AUTH_HMAC_SHA2_384_192},
	    {"sha512", AUTH_HMAC_SHA2_512_256}, {"sha2_512", AUTH_HMAC_SHA2_512_256},
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcasecmp(tok, names[i].name) == 0) {
			*integ = names[i].id;
			return 0;
		}
	return -1;
}

int config_parse_esp_proposal(const char *s, int *encr, unsigned *key_bits, int *integ, bool *esn)
{
	char buf[ELEM_MAX], *tok, *save = NULL;
	int e = -1, i = -1, esn_seen = -1;
	unsigned bits = 0;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(buf) || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return -1;
	memcpy(buf, s, n + 1);
	for (tok = strtok_r(buf, "-", &save); tok; tok = strtok_r(NULL, "-", &save)) {
		if (e < 0) {
			/* The encryption algorithm comes first, as strongSwan writes it. */
			if (parse_encr(tok, &e, &bits) < 0)
				return -1;
		} else if (strcasecmp(tok, "esn") == 0 || strcasecmp(tok, "noesn") == 0) {
			/* Both would be a choice left to IKE; manual keys need one. */
			if (esn_seen >= 0)
				return -1;
			esn_seen = strcasecmp(tok, "esn") == 0;
		} else {
			int id;

			if (i >= 0 || parse_integ(tok, &id) < 0)
				return -1;
			i = id;
		}
	}
	if (e < 0)
		return -1;
	if (i < 0)
		i = AUTH_NONE;
	/* RFC 4106 §2 / RFC 7634 §2: combined modes take no integrity
	 * algorithm; CBC needs one (RFC 4303 §3.2 forbids ESP without). */
	if ((e == ENCR_AES_CBC) != (i != AUTH_NONE))
		return -1;
	if (aead_keymat_len(e, bits, i) == 0)
		return -1;
	*encr = e;
	*key_bits = bits;
	*integ = i;
	*esn = esn_seen == 1;
	return 0;
}
