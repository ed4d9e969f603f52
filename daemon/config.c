/*
 * tunsecd's configuration: the tree from daemon/conftree.c checked and
 * turned into struct tunsec_config.
 *
 * Every section is a table of keys (name, required or not, parser), read in
 * table order so that a key may depend on one before it (key_in's length on
 * esp_proposals); cross-key and cross-section checks run afterwards.
 * swanctl.conf's connections, secrets and pools have loaders in
 * top_sections[]; authorities are refused there by name.
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/conftree.h"
#include "esp/replay.h"
#include "ike/id.h"
#include "ike/proposal.h"

/* Longest element of any list we take (an IPv6 CIDR is 43 bytes). */
#define ELEM_MAX 128
/* manual.NAME.KEY with names of up to CONFTREE_NAME_MAX bytes each */
#define PATH_MAX_LEN (3 * CONFTREE_NAME_MAX + 8)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct ike_secret;

struct loader {
	struct tunsec_config *c;
	char *err;
	size_t errlen;
	/* secrets.ike-*: held here until each connection has copied its PSK,
	 * then wiped (config_load()). */
	struct ike_secret *secrets;
	size_t n_secrets;
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

/* parse NULL: a yes/no key stored in the bool at offset bool_off of obj. */
struct key_spec {
	const char *name;
	bool required;
	int (*parse)(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path);
	size_t bool_off;
};

#define BOOL_KEY(name, type, field) {name, false, NULL, offsetof(type, field)}

static int get_bool(struct loader *l, const struct conftree_kv *kv, const char *path, bool *out);

/*
 * Check every key of s against the table (unknown names are errors, in file
 * order), then parse the keys in table order. Subsections are the caller's
 * business. path is s's own ("manual.gw").
 */
/* Every key of s must be in the table (file order: the first unknown one
 * is the error). */
static int check_keys(struct loader *l, const struct conftree_section *s, const char *path,
                      const struct key_spec *keys, size_t n)
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
	return 0;
}

/* Parse the keys present, in table order; a missing required one fails. */
static int parse_keys(struct loader *l, const struct conftree_section *s, const char *path,
                      const struct key_spec *keys, size_t n, void *obj)
{
	char kpath[PATH_MAX_LEN];

	for (size_t i = 0; i < n; i++) {
		const struct conftree_kv *kv = conftree_kv(s, keys[i].name);
		int rc;

		join(kpath, path, keys[i].name);
		if (!kv) {
			if (keys[i].required)
				return sec_fail(l, s, kpath, "required but missing");
			continue;
		}
		if (keys[i].parse)
			rc = keys[i].parse(l, obj, kv, kpath);
		else
			rc = get_bool(l, kv, kpath, (bool *)((char *)obj + keys[i].bool_off));
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int load_kvs_only(struct loader *l, const struct conftree_section *s, const char *path,
                         const struct key_spec *keys, size_t n, void *obj)
{
	if (check_keys(l, s, path, keys, n) < 0)
		return -1;
	return parse_keys(l, s, path, keys, n, obj);
}

/* The same for a section that has no subsections. */
static int load_keys(struct loader *l, const struct conftree_section *s, const char *path,
                     const struct key_spec *keys, size_t n, void *obj)
{
	char kpath[PATH_MAX_LEN];

	if (check_keys(l, s, path, keys, n) < 0)
		return -1;
	for (const struct conftree_section *sub = s->children; sub; sub = sub->next) {
		join(kpath, path, sub->name);
		return sec_fail(l, sub, kpath, "unknown section");
	}
	return parse_keys(l, s, path, keys, n, obj);
}

/* A section that holds only NAME { } sections (manual, pools,
 * connections, ...): a key in it is the error, naming the form expected,
 * "unknown key (each FORM)". */
static int sections_only(struct loader *l, const struct conftree_section *s, const char *path,
                         const char *form)
{
	char kpath[PATH_MAX_LEN];

	if (!s->kvs)
		return 0;
	join(kpath, path, s->kvs->key);
	return kv_fail(l, s->kvs, kpath, "unknown key (each %s)", form);
}

/* Section t's name into dst (cap bytes); what: "" or "pool " and the like,
 * for the message. */
static int section_name(struct loader *l, const struct conftree_section *t, const char *path,
                        const char *what, char *dst, size_t cap)
{
	size_t n = strlen(t->name);

	if (n >= cap)
		return sec_fail(l, t, path, "%sname longer than %zu characters", what, cap - 1);
	memcpy(dst, t->name, n + 1);
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

static int p_cookie_threshold(struct loader *l, void *obj, const struct conftree_kv *kv,
                              const char *path)
{
	struct tunsec_config *c = obj;
	uint64_t v;

	if (get_uint(l, kv, path, 0, 1000000, &v) < 0)
		return -1;
	c->cookie_threshold = (unsigned)v;
	return 0;
}

/* A decimal like strongswan.conf's "4.0" or "1.8" within [lo, hi], in
 * thousandths. */
static int get_milli(struct loader *l, const struct conftree_kv *kv, const char *path, double lo,
                     double hi, unsigned *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(kv->value, &end);
	if (errno || end == kv->value || *end || !(v >= lo && v <= hi))
		return kv_fail(l, kv, path, "expected a number from %g to %g, got '%s'", lo, hi,
		               kv->value);
	*out = (unsigned)(v * 1000.0 + 0.5);
	return 0;
}

/* strongSwan's charon.retransmit_timeout / _base / _tries (RFC 7296 §2.1) */
static int p_retransmit_timeout(struct loader *l, void *obj, const struct conftree_kv *kv,
                                const char *path)
{
	struct tunsec_config *c = obj;

	return get_milli(l, kv, path, 0.05, 600, &c->retransmit_timeout_ms);
}

static int p_retransmit_base(struct loader *l, void *obj, const struct conftree_kv *kv,
                             const char *path)
{
	struct tunsec_config *c = obj;

	return get_milli(l, kv, path, 1, 4, &c->retransmit_base);
}

static int p_retransmit_tries(struct loader *l, void *obj, const struct conftree_kv *kv,
                              const char *path)
{
	struct tunsec_config *c = obj;
	uint64_t v;

	if (get_uint(l, kv, path, 0, 20, &v) < 0)
		return -1;
	/* 0 in struct ike_config means "the default": say "none" apart */
	c->retransmit_tries = (unsigned)v;
	c->no_retransmit = v == 0;
	return 0;
}

/* user before group: group checks it. */
static const struct key_spec tunsec_keys[] = {
    {"interface", false, p_interface, 0},
    {"addrs", false, p_addrs, 0},
    {"mtu", false, p_mtu, 0},
    {"user", false, p_user, 0},
    {"group", false, p_group, 0},
    {"socket", false, p_socket, 0},
    {"port", false, p_port, 0},
    {"port_nat_t", false, p_port_nat_t, 0},
    {"keepalive", false, p_keepalive, 0},
    BOOL_KEY("mss_clamp", struct tunsec_config, mss_clamp),
    BOOL_KEY("offload", struct tunsec_config, offload),
    BOOL_KEY("udp_gso", struct tunsec_config, udp_gso),
    BOOL_KEY("udp_gro", struct tunsec_config, udp_gro),
    BOOL_KEY("legacy_groups", struct tunsec_config, legacy_groups),
    BOOL_KEY("legacy", struct tunsec_config, legacy),
    {"cookie_threshold", false, p_cookie_threshold, 0},
    {"retransmit_timeout", false, p_retransmit_timeout, 0},
    {"retransmit_base", false, p_retransmit_base, 0},
    {"retransmit_tries", false, p_retransmit_tries, 0},
};

/* ---- tunsec.radius -------------------------------------------------- */

static int get_duration(struct loader *l, const struct conftree_kv *kv, const char *path,
                        uint64_t *out);

static int p_rs_address(struct loader *l, void *obj, const struct conftree_kv *kv,
                        const char *path)
{
	struct cfg_radius_server *rs = obj;
	char buf[ELEM_MAX];

	if (get_single(l, kv, path, "IP address", buf, sizeof(buf)) < 0)
		return -1;
	/* an address, not a name: the daemon resolves nothing at run time */
	if (parse_addr(buf, &rs->addr) < 0 || addr_unspecified(&rs->addr))
		return kv_fail(l, kv, path, "'%s' is not an IPv4 or IPv6 host address", buf);
	return 0;
}

static int p_rs_secret(struct loader *l, void *obj, const struct conftree_kv *kv,
                       const char *path)
{
	struct cfg_radius_server *rs = obj;
	size_t n = strlen(kv->value);

	if (n == 0 || n > sizeof(rs->secret))
		return kv_fail(l, kv, path, "expected a secret of 1 to %zu bytes",
		               sizeof(rs->secret));
	memcpy(rs->secret, kv->value, n);
	rs->secret_len = n;
	return 0;
}

static int p_rs_auth_port(struct loader *l, void *obj, const struct conftree_kv *kv,
                          const char *path)
{
	return get_port(l, kv, path, &((struct cfg_radius_server *)obj)->auth_port);
}

static int p_rs_acct_port(struct loader *l, void *obj, const struct conftree_kv *kv,
                          const char *path)
{
	return get_port(l, kv, path, &((struct cfg_radius_server *)obj)->acct_port);
}

static const struct key_spec radius_server_keys[] = {
    {"address", true, p_rs_address, 0},
    {"secret", true, p_rs_secret, 0},
    {"auth_port", false, p_rs_auth_port, 0},
    {"acct_port", false, p_rs_acct_port, 0},
};

static int p_r_interval(struct loader *l, void *obj, const struct conftree_kv *kv,
                        const char *path)
{
	struct cfg_radius *r = obj;

	return get_duration(l, kv, path, &r->accounting_interval);
}

static int p_r_nas_id(struct loader *l, void *obj, const struct conftree_kv *kv,
                      const char *path)
{
	struct cfg_radius *r = obj;
	size_t n = strlen(kv->value);

	if (n == 0 || n >= sizeof(r->nas_identifier))
		return kv_fail(l, kv, path, "expected 1 to %zu characters",
		               sizeof(r->nas_identifier) - 1);
	memcpy(r->nas_identifier, kv->value, n + 1);
	return 0;
}

static int p_r_timeout(struct loader *l, void *obj, const struct conftree_kv *kv,
                       const char *path)
{
	return get_milli(l, kv, path, 0.05, 60, &((struct cfg_radius *)obj)->retransmit_timeout_ms);
}

static int p_r_base(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	return get_milli(l, kv, path, 1, 4, &((struct cfg_radius *)obj)->retransmit_base);
}

static int p_r_tries(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	uint64_t v;

	if (get_uint(l, kv, path, 1, 20, &v) < 0)
		return -1;
	((struct cfg_radius *)obj)->retransmit_tries = (unsigned)v;
	return 0;
}

static const struct key_spec radius_keys[] = {
    BOOL_KEY("accounting", struct cfg_radius, accounting),
    {"accounting_interval", false, p_r_interval, 0},
    {"nas_identifier", false, p_r_nas_id, 0},
    {"retransmit_timeout", false, p_r_timeout, 0},
    {"retransmit_base", false, p_r_base, 0},
    {"retransmit_tries", false, p_r_tries, 0},
};

/* tunsec.radius { servers { NAME { address, secret, ... } } accounting ... } */
static int load_radius(struct loader *l, const struct conftree_section *s)
{
	struct cfg_radius *r = &l->c->radius;
	char path[PATH_MAX_LEN];

	if (load_kvs_only(l, s, "tunsec.radius", radius_keys, ARRAY_LEN(radius_keys), r) < 0)
		return -1;
	if (!r->nas_identifier[0])
		memcpy(r->nas_identifier, "tunsec", sizeof("tunsec"));
	for (const struct conftree_section *sub = s->children; sub; sub = sub->next) {
		join(path, "tunsec.radius", sub->name);
		if (strcmp(sub->name, "servers") != 0)
			return sec_fail(l, sub, path, "unknown section (expected servers)");
		if (sections_only(l, sub, path,
		                  "server is a section: servers { NAME { address = ..., secret = "
		                  "... } })") < 0)
			return -1;
		for (const struct conftree_section *t = sub->children; t; t = t->next) {
			char spath[PATH_MAX_LEN];
			struct cfg_radius_server *rs;

			join(spath, path, t->name);
			if (r->n_servers == CFG_RADIUS_SERVERS)
				return sec_fail(l, t, spath, "more than %d RADIUS servers",
				                CFG_RADIUS_SERVERS);
			rs = &r->servers[r->n_servers++];
			if (section_name(l, t, spath, "", rs->name, sizeof(rs->name)) < 0 ||
			    load_keys(l, t, spath, radius_server_keys, ARRAY_LEN(radius_server_keys),
			              rs) < 0)
				return -1;
		}
	}
	if (r->n_servers == 0)
		return sec_fail(l, s, "tunsec.radius", "no servers { NAME { address, secret } }");
	return 0;
}

static int load_tunsec(struct loader *l, const struct conftree_section *s)
{
	const struct conftree_kv *kv;

	if (load_kvs_only(l, s, "tunsec", tunsec_keys, ARRAY_LEN(tunsec_keys), l->c) < 0)
		return -1;
	for (const struct conftree_section *sub = s->children; sub; sub = sub->next) {
		char path[PATH_MAX_LEN];

		join(path, "tunsec", sub->name);
		if (strcmp(sub->name, "radius") != 0)
			return sec_fail(l, sub, path, "unknown section");
		if (load_radius(l, sub) < 0)
			return -1;
	}
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
    {"local_addrs", true, p_local_addrs, 0},
    {"remote_addrs", true, p_remote_addrs, 0},
    {"encap", false, p_encap, 0},
    {"local_port", false, p_local_port, 0},
    {"remote_port", false, p_remote_port, 0},
    {"esp_proposals", true, p_esp_proposals, 0},
    {"spi_in", true, p_spi_in, 0},
    {"spi_out", true, p_spi_out, 0},
    {"key_in", true, p_key_in, 0},
    {"key_out", true, p_key_out, 0},
    {"local_ts", true, p_local_ts, 0},
    {"remote_ts", true, p_remote_ts, 0},
    {"replay_window", false, p_replay_window, 0},
    {"nat_keepalive", false, p_nat_keepalive, 0},
};

static int load_manual(struct loader *l, const struct conftree_section *s)
{
	struct tunsec_config *c = l->c;
	char path[PATH_MAX_LEN];
	size_t n = 0;

	if (sections_only(l, s, "manual", "tunnel is a section: manual { NAME { ... } })") < 0)
		return -1;
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
		if (section_name(l, t, path, "tunnel ", m->name, sizeof(m->name)) < 0)
			return -1;
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
/* Shared by connections { } and secrets { } */

/* strongSwan's vici also takes enabled / disabled. */
static int get_sbool(struct loader *l, const struct conftree_kv *kv, const char *path, bool *out)
{
	if (strcasecmp(kv->value, "enabled") == 0 || strcasecmp(kv->value, "disabled") == 0) {
		*out = strcasecmp(kv->value, "enabled") == 0;
		return 0;
	}
	return get_bool(l, kv, path, out);
}

/* Largest duration we take: what fits a signed 32-bit count of seconds
 * (68 years), so that defaults computed from it (110%) cannot overflow. */
#define DURATION_MAX ((uint64_t)INT32_MAX)

/*
 * swanctl.conf durations (vici's parse_time): decimal seconds, or a number
 * and a unit s, m, h or d in either case, blanks allowed between; in
 * milliseconds. Unlike strongSwan we refuse strtoul's 0x and leading-0
 * octal forms ("010m" is a typo, not 8 minutes), and we take "ms" as well:
 * DPD, rekeys and lifetimes below a second serve tests and labs (a file
 * with them does not load into strongSwan).
 */
static int parse_duration(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1000;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > DURATION_MAX * 1000)
			return -1;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s) {
		switch (*s) {
		case 's': case 'S': mult = 1000; break;
		case 'm': case 'M': mult = (s[1] == 's' || s[1] == 'S') ? 1 : 60000; break;
		case 'h': case 'H': mult = 3600000; break;
		case 'd': case 'D': mult = 86400000; break;
		default: return -1;
		}
		if (mult == 1)
			s++;
		if (s[1])
			return -1;
	}
	if (v > DURATION_MAX * 1000 / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* "90s", "1500ms": a duration as a user wrote it, for messages. */
static const char *dur_str(uint64_t ms, char *buf, size_t cap)
{
	if (ms % 1000)
		snprintf(buf, cap, "%llums", (unsigned long long)ms);
	else
		snprintf(buf, cap, "%llus", (unsigned long long)(ms / 1000));
	return buf;
}

static int get_duration(struct loader *l, const struct conftree_kv *kv, const char *path,
                        uint64_t *out)
{
	uint64_t v;

	if (parse_duration(kv->value, &v) < 0)
		return kv_fail(l, kv, path,
		               "expected a duration: seconds, or a number with ms, s, m, h or d "
		               "(e.g. 90m, 4h, 1d)");
	*out = v;
	return 0;
}

/* vici's parse_bytes: a number with an optional K, M or G (powers of 1024,
 * either case), blanks allowed between. */
static int parse_bytes(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s) {
		switch (*s) {
		case 'k': case 'K': mult = 1ull << 10; break;
		case 'm': case 'M': mult = 1ull << 20; break;
		case 'g': case 'G': mult = 1ull << 30; break;
		default: return -1;
		}
		if (s[1])
			return -1;
	}
	if (v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* The enumerations: value names in order of the enum values. */
static int get_enum(struct loader *l, const struct conftree_kv *kv, const char *path,
                    const char *const *names, size_t n, int *out)
{
	char list[128] = "";
	size_t off = 0;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(kv->value, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	for (size_t i = 0; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		                        i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	return kv_fail(l, kv, path, "expected %s", list);
}

/*
 * A file named by certs, cacerts or secrets.*.file: absolute, or relative
 * to the directory of the file that named it; failing that, for a bare
 * name, in the swanctl directory subdir (x509, x509ca, private, ...) of
 * that directory, where a swanctl.conf carried over from /etc/swanctl
 * expects it. The result is an absolute path to a readable file.
 */
static int get_file(struct loader *l, const struct conftree_kv *kv, const char *path,
                    const char *name, const char *subdir, char out[4096])
{
	const char *file = kv->file ? kv->file : ".";
	const char *slash = strrchr(file, '/');
	int dlen = slash ? (int)(slash - file) : 1;
	const char *dir = slash ? file : ".";
	char cand[2][4096];
	int n_cand = 0;
	char *real = NULL;

	if (slash == file)
		dlen = 1; /* "/x.conf": the root */
	if (name[0] == '/') {
		snprintf(cand[n_cand++], sizeof(cand[0]), "%s", name);
	} else {
		if (snprintf(cand[n_cand++], sizeof(cand[0]), "%.*s/%s", dlen, dir, name) >=
		    (int)sizeof(cand[0]))
			return kv_fail(l, kv, path, "'%s': path too long", name);
		if (!strchr(name, '/'))
			snprintf(cand[n_cand++], sizeof(cand[0]), "%.*s/%s/%s", dlen, dir, subdir,
			         name);
	}
	for (int i = 0; i < n_cand && !real; i++) {
		if (access(cand[i], R_OK) == 0)
			real = realpath(cand[i], NULL);
	}
	if (!real)
		return kv_fail(l, kv, path, "%s: %s", cand[0],
		               access(cand[0], F_OK) == 0 ? "not readable" : strerror(ENOENT));
	if (strlen(real) >= 4096) {
		free(real);
		return kv_fail(l, kv, path, "'%s': path too long", name);
	}
	memcpy(out, real, strlen(real) + 1);
	free(real);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* pools { NAME { addrs = ..., dns = ..., nbns = ..., split_include = ... } } */

static unsigned family_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* a += 1 or a -= 1 on an n-byte big-endian number; false on wrap. */
static bool addr_step(uint8_t *a, unsigned n, int dir)
{
	for (unsigned i = n; i-- > 0;) {
		uint8_t before = a[i];

		a[i] = (uint8_t)(a[i] + dir);
		if ((dir > 0 && before != 0xff) || (dir < 0 && before != 0x00))
			return true;
	}
	return false;
}

/* An address literal (no prefix) into family and 16 bytes. */
static int parse_host(const char *s, int *family, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Host bits of a prefix set: "10.0.0.1/8" is a typo for an address or
 * for a subnet, and we would have to guess which. */
static bool host_bits_set(const struct cfg_prefix *p)
{
	unsigned n = family_len(p->family);

	for (unsigned bit = p->prefix; bit < 8 * n; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
			return true;
	return false;
}

/* "A-B": both inclusive, one family, A <= B. */
static int get_pool_range(struct loader *l, const struct conftree_kv *kv, const char *path,
                          const char *s, struct cfg_pool *pl)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *dash = strchr(s, '-');
	size_t n = (size_t)(dash - s);
	int fa, fb;

	if (n == 0 || n >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return kv_fail(l, kv, path, "'%s' is not a subnet or an address range FROM-TO", s);
	memcpy(a, s, n);
	a[n] = '\0';
	memcpy(b, dash + 1, strlen(dash + 1) + 1);
	if (parse_host(a, &fa, pl->start) < 0 || parse_host(b, &fb, pl->end) < 0)
		return kv_fail(l, kv, path, "'%s' is not a subnet or an address range FROM-TO", s);
	if (fa != fb)
		return kv_fail(l, kv, path, "'%s': FROM and TO are of different address families",
		               s);
	pl->family = fa;
	if (memcmp(pl->start, pl->end, family_len(fa)) > 0)
		return kv_fail(l, kv, path, "'%s': empty range (FROM is above TO)", s);
	return 0;
}

/*
 * addrs: one subnet, one range FROM-TO, or one address (swanctl.conf(5):
 * one addrs per pool). From a subnet the network address is left out,
 * and for IPv4 the broadcast address too, as strongSwan does: a /24 gives
 * .1 to .254 (RFC 4291 section 2.6.1 makes an IPv6 subnet's first address
 * the routers' anycast address; its last is an ordinary one).
 */
static int p_pool_addrs(struct loader *l, void *obj, const struct conftree_kv *kv,
                        const char *path)
{
	struct cfg_pool *pl = obj;
	struct conftree_list it;
	struct cfg_prefix pfx;
	char buf[ELEM_MAX], more[ELEM_MAX];
	unsigned n;
	int rc;

	conftree_list_init(&it, kv->value);
	rc = conftree_list_next(&it, buf, sizeof(buf));
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (rc == 0)
		return kv_fail(l, kv, path, "expected a subnet or a range FROM-TO, got nothing");
	if (conftree_list_next(&it, more, sizeof(more)) != 0)
		return kv_fail(l, kv, path,
		               "expected one subnet or range (one addrs per pool; define "
		               "another pool for more)");
	if (strchr(buf, '-'))
		return get_pool_range(l, kv, path, buf, pl);
	if (parse_prefix(buf, &pfx) < 0)
		return kv_fail(l, kv, path, "'%s' is not a subnet or an address range FROM-TO",
		               buf);
	pl->family = pfx.family;
	n = family_len(pfx.family);
	if (!strchr(buf, '/')) {
		/* a single address: a pool of one */
		memcpy(pl->start, pfx.addr, n);
		memcpy(pl->end, pfx.addr, n);
		return 0;
	}
	if (host_bits_set(&pfx))
		return kv_fail(l, kv, path, "'%s' has host bits set; give the subnet's address",
		               buf);
	memcpy(pl->start, pfx.addr, n);
	memcpy(pl->end, pfx.addr, n);
	for (unsigned bit = pfx.prefix; bit < 8 * n; bit++)
		pl->end[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	addr_step(pl->start, n, +1);
	if (pfx.family == AF_INET)
		addr_step(pl->end, n, -1);
	if (pfx.prefix == 8 * n || memcmp(pl->start, pl->end, n) > 0)
		return kv_fail(l, kv, path,
		               "'%s' has no host address once the network%s address is left "
		               "out (give a range FROM-TO or a single address)",
		               buf, pfx.family == AF_INET ? " and broadcast" : "");
	return 0;
}

/* dns, nbns: host addresses; v4only for NBNS, which RFC 7296 section
 * 3.15.1 has only as INTERNAL_IP4_NBNS. */
static int get_hosts(struct loader *l, const struct conftree_kv *kv, const char *path, bool v4only,
                     unsigned max, struct cfg_prefix *out, unsigned *n)
{
	struct conftree_list it;
	char buf[ELEM_MAX];
	int rc;

	*n = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		struct cfg_prefix *h = &out[*n];

		if (*n == max)
			return kv_fail(l, kv, path, "more than %u addresses", max);
		memset(h, 0, sizeof(*h));
		if (parse_host(buf, &h->family, h->addr) < 0)
			return kv_fail(l, kv, path, "'%s' is not an IPv4 or IPv6 address", buf);
		if (v4only && h->family != AF_INET)
			return kv_fail(l, kv, path,
			               "'%s' is not an IPv4 address (NBNS servers are IPv4 only, "
			               "RFC 7296 section 3.15.1)",
			               buf);
		h->prefix = 8 * family_len(h->family);
		(*n)++;
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (*n == 0)
		return kv_fail(l, kv, path, "expected at least one address");
	return 0;
}

static int p_pool_dns(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_pool *pl = obj;

	return get_hosts(l, kv, path, false, CFG_POOL_MAX_DNS, pl->dns, &pl->n_dns);
}

static int p_pool_nbns(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_pool *pl = obj;

	return get_hosts(l, kv, path, true, CFG_POOL_MAX_NBNS, pl->nbns, &pl->n_nbns);
}

/* split_include: the subnets the client should send into the tunnel
 * (INTERNAL_IP4/6_SUBNET, RFC 7296 section 3.15.2), either family. */
static int p_pool_split_include(struct loader *l, void *obj, const struct conftree_kv *kv,
                                const char *path)
{
	struct cfg_pool *pl = obj;
	struct conftree_list it;
	char buf[ELEM_MAX];
	int rc;

	pl->n_split_include = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		struct cfg_prefix *p = &pl->split_include[pl->n_split_include];

		if (pl->n_split_include == CFG_POOL_MAX_SPLIT)
			return kv_fail(l, kv, path, "more than %d subnets", CFG_POOL_MAX_SPLIT);
		if (parse_prefix(buf, p) < 0)
			return kv_fail(l, kv, path, "'%s' is not a subnet in CIDR notation", buf);
		if (host_bits_set(p))
			return kv_fail(l, kv, path,
			               "'%s' has host bits set; give the subnet's address", buf);
		pl->n_split_include++;
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (pl->n_split_include == 0)
		return kv_fail(l, kv, path, "expected at least one subnet");
	return 0;
}

static const struct key_spec pool_keys[] = {
    {"addrs", true, p_pool_addrs, 0},
    {"dns", false, p_pool_dns, 0},
    {"nbns", false, p_pool_nbns, 0},
    {"split_include", false, p_pool_split_include, 0},
};

static bool pools_overlap(const struct cfg_pool *a, const struct cfg_pool *b)
{
	unsigned n = family_len(a->family);

	return a->family == b->family && memcmp(a->start, b->end, n) <= 0 &&
	       memcmp(b->start, a->end, n) <= 0;
}

static int load_pools(struct loader *l, const struct conftree_section *s)
{
	struct tunsec_config *c = l->c;
	char path[PATH_MAX_LEN];
	size_t n = 0;

	if (sections_only(l, s, "pools", "pool is a section: pools { NAME { addrs = ... } })") < 0)
		return -1;
	for (const struct conftree_section *t = s->children; t; t = t->next) {
		if (n == CFG_MAX_POOLS) {
			join(path, "pools", t->name);
			return sec_fail(l, t, path, "more than %d pools", CFG_MAX_POOLS);
		}
		n++;
	}
	if (n == 0)
		return 0;
	c->pools = calloc(n, sizeof(*c->pools));
	if (!c->pools)
		return sec_fail(l, s, "pools", "out of memory");
	for (const struct conftree_section *t = s->children; t; t = t->next) {
		struct cfg_pool *pl = &c->pools[c->n_pools++];

		join(path, "pools", t->name);
		if (section_name(l, t, path, "pool ", pl->name, sizeof(pl->name)) < 0 ||
		    load_keys(l, t, path, pool_keys, ARRAY_LEN(pool_keys), pl) < 0)
			return -1;
		/* swanctl.conf(5): pools must not overlap; a lease could
		 * otherwise be handed out twice, once by each. */
		for (size_t i = 0; i + 1 < c->n_pools; i++)
			if (pools_overlap(&c->pools[i], pl)) {
				char kpath[PATH_MAX_LEN];

				join(kpath, path, "addrs");
				return kv_fail(l, conftree_kv(t, "addrs"), kpath,
				               "overlaps pools.%s", c->pools[i].name);
			}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* connections { NAME { ... local { } remote { } children { CHILD { } } } } */

/* What a connection's parsers need besides the struct being filled. */
struct conn_ctx {
	struct loader *l;
	struct cfg_conn *conn;
	struct cfg_end *end; /* local or remote, in their tables */
	unsigned round;      /* of end: 1, or 2 (RFC 4739) */
};

static int p_c_version(struct loader *l, void *obj, const struct conftree_kv *kv,
                       const char *path)
{
	if (strcmp(kv->value, "1") == 0)
		return kv_fail(l, kv, path, "IKEv1 is not supported (version = 2 or 0)");
	if (strcmp(kv->value, "0") != 0 && strcmp(kv->value, "2") != 0)
		return kv_fail(l, kv, path, "expected 0 (any) or 2");
	return 0;
}

/* local_addrs / remote_addrs: addresses, CIDR subnets or %any. */
static int get_addr_list(struct loader *l, const struct conftree_kv *kv, const char *path,
                         struct cfg_prefix *out, unsigned *n)
{
	struct conftree_list it;
	char buf[ELEM_MAX];
	bool any = false;
	int rc;

	*n = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		if (strcasecmp(buf, "%any") == 0 || strcasecmp(buf, "%any4") == 0 ||
		    strcasecmp(buf, "%any6") == 0) {
			any = true;
			continue;
		}
		if (*n == CFG_MAX_ADDRS)
			return kv_fail(l, kv, path, "more than %d addresses", CFG_MAX_ADDRS);
		if (parse_prefix(buf, &out[*n]) == 0) {
			(*n)++;
			continue;
		}
		if (strchr(buf, '/') || strspn(buf, "0123456789abcdefABCDEF.:") == strlen(buf))
			return kv_fail(l, kv, path, "'%s' is not an address or CIDR subnet", buf);
		if (strchr(buf, '-') && strspn(buf, "0123456789abcdefABCDEF.:-") == strlen(buf))
			return kv_fail(l, kv, path,
			               "'%s': address ranges are not supported; give "
			               "addresses or CIDR subnets",
			               buf);
		return kv_fail(l, kv, path, "'%s': host names are not supported; give an address",
		               buf);
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	/* strongSwan: %any among the candidates admits any address. */
	if (any) {
		memset(out, 0, *n * sizeof(*out));
		*n = 0;
	}
	return 0;
}

static int p_c_local_addrs(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct conn_ctx *x = obj;

	return get_addr_list(l, kv, path, x->conn->local_addrs, &x->conn->n_local_addrs);
}

static int p_c_remote_addrs(struct loader *l, void *obj, const struct conftree_kv *kv,
                            const char *path)
{
	struct conn_ctx *x = obj;

	return get_addr_list(l, kv, path, x->conn->remote_addrs, &x->conn->n_remote_addrs);
}

/* Checked now with the engine's own parser, so that a proposal the engine
 * would refuse stops the load instead of the first negotiation. */
static int get_proposals(struct loader *l, const struct conftree_kv *kv, const char *path,
                         int proto, char *out, size_t cap)
{
	struct ike_proposal_list *list;
	char why[256];
	int rc;

	if (strlen(kv->value) >= cap)
		return kv_fail(l, kv, path, "longer than %zu characters", cap - 1);
	if (kv->value[0] == '\0')
		return kv_fail(l, kv, path, "expected proposals, got nothing");
	list = malloc(sizeof(*list));
	if (!list)
		return kv_fail(l, kv, path, "out of memory");
	rc = ike_proposal_parse(list, proto, kv->value, config_legacy(l->c), why, sizeof(why));
	free(list);
	if (rc < 0)
		return kv_fail(l, kv, path, "%s", why);
	memcpy(out, kv->value, strlen(kv->value) + 1);
	return 0;
}

static int p_c_proposals(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	struct conn_ctx *x = obj;

	return get_proposals(l, kv, path, IKE_PROTO_IKE, x->conn->proposals,
	                     sizeof(x->conn->proposals));
}

static int p_c_encap(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct conn_ctx *x = obj;

	return get_sbool(l, kv, path, &x->conn->encap);
}

static int p_c_fragmentation(struct loader *l, void *obj, const struct conftree_kv *kv,
                             const char *path)
{
	static const char *const names[] = {"yes", "accept", "force", "no"};
	struct conn_ctx *x = obj;
	int v;

	if (get_enum(l, kv, path, names, ARRAY_LEN(names), &v) < 0)
		return -1;
	x->conn->fragmentation = (enum cfg_frag)v;
	return 0;
}

static int p_c_dpd_delay(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->dpd_delay);
}

static int p_c_dpd_timeout(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->dpd_timeout);
}

static int p_c_rekey_time(struct loader *l, void *obj, const struct conftree_kv *kv,
                          const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->rekey_time);
}

static int p_c_reauth_time(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->reauth_time);
}

static int p_c_over_time(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->over_time);
}

static int p_c_rand_time(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->rand_time);
}

static int p_c_send_certreq(struct loader *l, void *obj, const struct conftree_kv *kv,
                            const char *path)
{
	struct conn_ctx *x = obj;

	return get_sbool(l, kv, path, &x->conn->send_certreq);
}

static int p_c_send_cert(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	static const char *const names[] = {"ifasked", "always", "never"};
	struct conn_ctx *x = obj;
	int v;

	if (get_enum(l, kv, path, names, ARRAY_LEN(names), &v) < 0)
		return -1;
	x->conn->send_cert = (enum cfg_send_cert)v;
	return 0;
}

static int p_c_mobike(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	bool on;

	if (get_sbool(l, kv, path, &on) < 0)
		return -1;
	/* strongSwan's default is yes: a carried-over file says no. */
	if (on)
		return kv_fail(l, kv, path, "MOBIKE is not supported yet (set mobike = no)");
	return 0;
}

/* pools = a, b: each a pools.NAME (pools are loaded before connections,
 * whatever the order in the file). */
static int p_c_pools(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct conn_ctx *x = obj;
	struct cfg_conn *cc = x->conn;
	struct conftree_list it;
	char buf[ELEM_MAX];
	int rc;

	cc->n_pools = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		size_t i;

		if (cc->n_pools == CFG_CONN_MAX_POOLS)
			return kv_fail(l, kv, path, "more than %d pools", CFG_CONN_MAX_POOLS);
		for (i = 0; i < l->c->n_pools && strcmp(l->c->pools[i].name, buf) != 0; i++)
			;
		if (i == l->c->n_pools)
			return kv_fail(l, kv, path, "unknown pool '%s' (no pools.%s section)", buf,
			               buf);
		for (unsigned k = 0; k < cc->n_pools; k++)
			if (cc->pools[k] == i)
				return kv_fail(l, kv, path, "pool '%s' named twice", buf);
		cc->pools[cc->n_pools++] = (unsigned)i;
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (cc->n_pools == 0)
		return kv_fail(l, kv, path, "expected pool names, got nothing");
	return 0;
}

/* vips: 0.0.0.0 and/or :: (any address of that family the server gives;
 * strongSwan's way to ask); asking for one address in particular is not
 * supported. */
static int p_c_vips(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct cfg_conn *cc = ((struct conn_ctx *)obj)->conn;
	struct conftree_list it;
	char buf[ELEM_MAX];
	int rc;

	cc->vip4 = cc->vip6 = false;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		if (strcmp(buf, "0.0.0.0") == 0)
			cc->vip4 = true;
		else if (strcmp(buf, "::") == 0)
			cc->vip6 = true;
		else
			return kv_fail(l, kv, path,
			               "'%s': only 0.0.0.0 and :: (whatever address the server "
			               "gives) are supported",
			               buf);
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (!cc->vip4 && !cc->vip6)
		return kv_fail(l, kv, path, "expected 0.0.0.0 and/or ::, got nothing");
	return 0;
}

static int p_c_unique(struct loader *l, void *obj, const struct conftree_kv *kv,
                      const char *path)
{
	/* in the order of enum cfg_unique */
	static const char *const names[] = {"no", "never", "keep", "replace"};
	struct conn_ctx *x = obj;
	int v;

	if (get_enum(l, kv, path, names, ARRAY_LEN(names), &v) < 0)
		return -1;
	x->conn->unique = (enum cfg_unique)v;
	return 0;
}

static const struct key_spec conn_keys[] = {
    {"version", false, p_c_version, 0},
    {"local_addrs", false, p_c_local_addrs, 0},
    {"remote_addrs", false, p_c_remote_addrs, 0},
    {"proposals", false, p_c_proposals, 0},
    {"encap", false, p_c_encap, 0},
    {"fragmentation", false, p_c_fragmentation, 0},
    {"dpd_delay", false, p_c_dpd_delay, 0},
    {"dpd_timeout", false, p_c_dpd_timeout, 0},
    {"rekey_time", false, p_c_rekey_time, 0},
    {"reauth_time", false, p_c_reauth_time, 0},
    {"over_time", false, p_c_over_time, 0},
    {"rand_time", false, p_c_rand_time, 0},
    {"send_certreq", false, p_c_send_certreq, 0},
    {"send_cert", false, p_c_send_cert, 0},
    {"mobike", false, p_c_mobike, 0},
    {"pools", false, p_c_pools, 0},
    {"vips", false, p_c_vips, 0},
    {"unique", false, p_c_unique, 0},
};

/* local { } / remote { } */

static int p_e_auth(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	static const struct {
		const char *name;
		enum cfg_auth auth;
	} methods[] = {
	    {"psk", CFG_AUTH_PSK},
	    {"pubkey", CFG_AUTH_PUBKEY},
	    {"eap-mschapv2", CFG_AUTH_EAP_MSCHAPV2},
	    {"eap-radius", CFG_AUTH_EAP_RADIUS},
	    {"eap-dynamic", CFG_AUTH_EAP_DYNAMIC},
	    {"eap-tls", CFG_AUTH_EAP_TLS},
	    {"eap", CFG_AUTH_EAP_ANY},
	};
	struct conn_ctx *x = obj;
	const char *v = kv->value;

	for (size_t i = 0; i < ARRAY_LEN(methods); i++) {
		if (strcasecmp(v, methods[i].name) != 0)
			continue;
		/* The engine runs a second round (RFC 4739) by EAP only: the
		 * login of a user after the machine's certificate or key. */
		if (x->round == 2 &&
		    (methods[i].auth == CFG_AUTH_PSK || methods[i].auth == CFG_AUTH_PUBKEY))
			return kv_fail(l, kv, path,
			               "%s in a second authentication round is not supported: only "
			               "EAP is (eap, eap-mschapv2, eap-tls, eap-radius or eap-dynamic)",
			               v);
		x->end->auth = methods[i].auth;
		return 0;
	}
	if (strncasecmp(v, "eap", 3) == 0)
		return kv_fail(l, kv, path,
		               "EAP method %s is not supported (eap, eap-mschapv2, eap-tls, "
		               "eap-radius and eap-dynamic are)",
		               v);
	if (strncasecmp(v, "xauth", 5) == 0)
		return kv_fail(l, kv, path, "XAuth (%s) is IKEv1 and not supported", v);
	if (strncasecmp(v, "pubkey", 6) == 0 || strncasecmp(v, "rsa", 3) == 0 ||
	    strncasecmp(v, "ecdsa", 5) == 0 || strncasecmp(v, "ike:", 4) == 0)
		return kv_fail(l, kv, path,
		               "'%s': signature scheme constraints are not supported; "
		               "use pubkey",
		               v);
	return kv_fail(l, kv, path,
	               "expected psk, pubkey, eap, eap-mschapv2, eap-tls, eap-radius or eap-dynamic");
}

static int p_e_id(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct conn_ctx *x = obj;
	char why[160];

	if (strlen(kv->value) >= sizeof(x->end->id_text))
		return kv_fail(l, kv, path, "longer than %zu characters",
		               sizeof(x->end->id_text) - 1);
	if (ike_id_parse_err(kv->value, &x->end->id, why, sizeof(why)) < 0)
		return kv_fail(l, kv, path, "%s", why);
	memcpy(x->end->id_text, kv->value, strlen(kv->value) + 1);
	return 0;
}

static int p_e_aaa_id(struct loader *l, void *obj, const struct conftree_kv *kv,
                      const char *path)
{
	struct conn_ctx *x = obj;
	char why[160];

	if (ike_id_parse_err(kv->value, &x->end->aaa_id, why, sizeof(why)) < 0)
		return kv_fail(l, kv, path, "%s", why);
	return 0;
}

static int get_cert_list(struct loader *l, const struct conftree_kv *kv, const char *path,
                         const char *subdir, struct cfg_end *e)
{
	struct conftree_list it;
	char buf[4096];
	int rc;

	e->n_certs = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		if (e->n_certs == CFG_MAX_CERTS)
			return kv_fail(l, kv, path, "more than %d files", CFG_MAX_CERTS);
		if (get_file(l, kv, path, buf, subdir, e->certs[e->n_certs]) < 0)
			return -1;
		e->n_certs++;
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	return 0;
}

static int p_e_certs(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	struct conn_ctx *x = obj;

	return get_cert_list(l, kv, path, "x509", x->end);
}

static int p_e_cacerts(struct loader *l, void *obj, const struct conftree_kv *kv,
                       const char *path)
{
	struct conn_ctx *x = obj;

	return get_cert_list(l, kv, path, "x509ca", x->end);
}

static int p_e_eap_id(struct loader *l, void *obj, const struct conftree_kv *kv,
                      const char *path)
{
	struct conn_ctx *x = obj;

	if (!kv->value[0] || strlen(kv->value) >= sizeof(x->end->eap_id))
		return kv_fail(l, kv, path, "empty or longer than %zu characters",
		               sizeof(x->end->eap_id) - 1);
	memcpy(x->end->eap_id, kv->value, strlen(kv->value) + 1);
	return 0;
}

/* remote.groups = a, b: names compared with the RADIUS Class */
static int p_e_groups(struct loader *l, void *obj, const struct conftree_kv *kv,
                      const char *path)
{
	struct conn_ctx *x = obj;
	struct conftree_list it;
	char buf[ELEM_MAX];
	int rc;

	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		if (x->end->n_groups == CFG_MAX_GROUPS)
			return kv_fail(l, kv, path, "more than %d groups", CFG_MAX_GROUPS);
		if (strlen(buf) >= sizeof(x->end->groups[0]))
			return kv_fail(l, kv, path, "group '%s' longer than %zu characters", buf,
			               sizeof(x->end->groups[0]) - 1);
		memcpy(x->end->groups[x->end->n_groups++], buf, strlen(buf) + 1);
	}
	if (rc < 0 || x->end->n_groups == 0)
		return kv_fail(l, kv, path, "expected a list of group names");
	return 0;
}

/* round = N: where the round goes among its end's (see order_rounds());
 * checked here, used there. */
static int p_e_round(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	uint64_t v;

	(void)obj;
	return get_uint(l, kv, path, 0, UINT32_MAX, &v);
}

static const struct key_spec local_keys[] = {
    {"auth", false, p_e_auth, 0},
    {"id", false, p_e_id, 0},
    {"certs", false, p_e_certs, 0},
    {"eap_id", false, p_e_eap_id, 0},
    {"round", false, p_e_round, 0},
};

static const struct key_spec remote_keys[] = {
    {"auth", false, p_e_auth, 0},
    {"id", false, p_e_id, 0},
    {"cacerts", false, p_e_cacerts, 0},
    {"eap_id", false, p_e_eap_id, 0},
    {"aaa_id", false, p_e_aaa_id, 0},
    {"groups", false, p_e_groups, 0},
    {"round", false, p_e_round, 0},
};

/*
 * Authentication rounds (swanctl.conf(5)): every section of a connection
 * whose name begins with local (remote), in any case (local, local-1,
 * local-2, localfoo), is one round of that end, in the order written
 * unless their round keys say otherwise (a stable sort, as swanctl's). RFC
 * 4739 lets the initiator follow its first round with more; the engine
 * runs one more, by EAP, so two at most: a third is refused by name.
 */
struct rounds {
	const char *kind; /* "local" / "remote" */
	const struct conftree_section *sec[2];
	unsigned n;
};

static int add_round(struct loader *l, const struct conftree_section *s, const char *path,
                     struct rounds *r)
{
	if (r->n == 2)
		return sec_fail(l, s, path,
		                "a third %s authentication round is not supported (two at most, "
		                "RFC 4739; %s and %s are the first two)",
		                r->kind, r->sec[0]->name, r->sec[1]->name);
	r->sec[r->n++] = s;
	return 0;
}

/* A round's round key, 0 without one (a bad value is refused when its
 * keys are read, by p_e_round). */
static uint64_t round_key(const struct conftree_section *s)
{
	const struct conftree_kv *kv = conftree_kv(s, "round");
	uint64_t v = 0;

	if (kv && conftree_parse_u64(kv->value, 0, UINT32_MAX, &v) < 0)
		v = 0;
	return v;
}

static void order_rounds(struct rounds *r)
{
	if (r->n == 2 && round_key(r->sec[1]) < round_key(r->sec[0])) {
		const struct conftree_section *s = r->sec[0];

		r->sec[0] = r->sec[1];
		r->sec[1] = s;
	}
}

/* Round k's (1 or 2) section name as written, or kind if there is none
 * (the first round's defaults). */
static const char *round_name(const struct rounds *r, unsigned k)
{
	return k <= r->n ? r->sec[k - 1]->name : r->kind;
}

/* Round k's section, or NULL. */
static const struct conftree_section *round_sec(const struct rounds *r, unsigned k)
{
	return k <= r->n ? r->sec[k - 1] : NULL;
}

/* kv_fail() for key (which is there) of round k's section of r. */
static int round_kv_fail(struct loader *l, const struct rounds *r, unsigned k, const char *path,
                         const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int round_kv_fail(struct loader *l, const struct rounds *r, unsigned k, const char *path,
                         const char *key, const char *fmt, ...)
{
	const struct conftree_kv *kv = conftree_kv(round_sec(r, k), key);
	char sub[PATH_MAX_LEN], kpath[PATH_MAX_LEN];
	va_list ap;

	join(sub, path, round_name(r, k));
	join(kpath, sub, key);
	va_start(ap, fmt);
	vfail(l, kv->file, kv->line, kpath, fmt, ap);
	va_end(ap);
	return -1;
}

/* EAP-TLS's files: n of them under key of round k of r; none is the
 * error, at round k's section (or the connection's when it has none). */
static int tls_needs(struct loader *l, const struct conftree_section *t, const char *path,
                     const struct rounds *r, unsigned k, unsigned n, const char *en,
                     const char *key, const char *what)
{
	const struct conftree_section *s = round_sec(r, k);
	char sub[PATH_MAX_LEN];

	if (n)
		return 0;
	join(sub, path, round_name(r, k));
	return sec_fail(l, s ? s : t, sub, "%s.auth = eap-tls needs %s.%s (%s)", en,
	                round_name(r, k), key, what);
}

/*
 * What the ends of round k need (round 2: only the ends written). The
 * messages name the sections as written. EAP-TLS takes a certificate of
 * ours and the CA of the other end's: in round 1 local.certs and
 * remote.cacerts in both roles; in round 2 the round's own end gives its
 * part (local-2.certs: the user's certificate; remote-2.cacerts: the
 * users' CA) and the first round the other (we authenticate once as a
 * server, and the server authenticates once to us).
 */
static int check_round(struct loader *l, const struct conftree_section *t, const char *path,
                       struct cfg_conn *cc, const struct rounds *lo, const struct rounds *re,
                       unsigned k)
{
	const struct cfg_end *le = k == 1 ? &cc->local : cc->has_local2 ? &cc->local2 : NULL;
	const struct cfg_end *rem = k == 1 ? &cc->remote : cc->has_remote2 ? &cc->remote2 : NULL;
	const char *ln = round_name(lo, k), *rn = round_name(re, k);

	/* eap-radius: the RADIUS server decides who the peer is, so only
	 * the server's end can use it, and only with a server to ask */
	if (le && le->auth == CFG_AUTH_EAP_RADIUS)
		return round_kv_fail(l, lo, k, path, "auth",
		                     "eap-radius is for remote.auth (we pass the peer's EAP to "
		                     "RADIUS); log in with eap-mschapv2");
	/* groups: only RADIUS says which a user is in (its Class) */
	if (rem && rem->n_groups && rem->auth != CFG_AUTH_EAP_RADIUS)
		return round_kv_fail(l, re, k, path, "groups",
		                     "groups are the RADIUS Class of the user: they need "
		                     "%s.auth = eap-radius",
		                     rn);
	/* eap-dynamic: the server picks among what it can serve */
	if (le && le->auth == CFG_AUTH_EAP_DYNAMIC)
		return round_kv_fail(l, lo, k, path, "auth",
		                     "eap-dynamic is for remote.auth (we offer methods); log in "
		                     "with eap-mschapv2 or eap-tls");
	/* RFC 5998: EAP on both ends is EAP-only authentication, where the
	 * method alone proves the server: it must be mutual and make a key
	 * (§4). Of ours only EAP-TLS is: EAP-MSCHAPv2 falls to a dictionary
	 * attack, and what a RADIUS server runs is not ours to know. */
	if (k == 1 && cfg_auth_is_eap(le->auth) && cfg_auth_is_eap(rem->auth) &&
	    (le->auth != CFG_AUTH_EAP_TLS || rem->auth != CFG_AUTH_EAP_TLS))
		return round_kv_fail(l, lo, k, path, "auth",
		                     "EAP-only authentication (EAP on both ends, RFC 5998) needs "
		                     "eap-tls on both: only a mutual, key-making method may prove "
		                     "the server alone (EAP-MSCHAPv2, eap and eap-radius are not "
		                     "known to be)");
	if (rem && rem->auth == CFG_AUTH_EAP_RADIUS && l->c->radius.n_servers == 0)
		return round_kv_fail(l, re, k, path, "auth",
		                     "eap-radius needs tunsec { radius { servers { NAME { "
		                     "address, secret } } } }");
	/* EAP-TLS, as the server (first) and as the peer */
	for (int srv = 1; srv >= 0; srv--) {
		const struct cfg_end *e = srv ? rem : le;
		const char *en = srv ? rn : ln;
		unsigned ok = srv ? 1 : k, ck = srv ? k : 1; /* rounds of our cert, of the CA */
		const struct cfg_end *own = ok == 1 ? &cc->local : &cc->local2;
		const struct cfg_end *ca = ck == 1 ? &cc->remote : &cc->remote2;

		if (!e || e->auth != CFG_AUTH_EAP_TLS)
			continue;
		if (tls_needs(l, t, path, lo, ok, own->n_certs, en, "certs",
		              srv ? "the certificate we serve EAP-TLS with"
		                  : "the user certificate we log in with") < 0 ||
		    tls_needs(l, t, path, re, ck, ca->n_certs, en, "cacerts",
		              srv ? "the CA of the users' certificates"
		                  : "the CA of the EAP-TLS server's certificate") < 0)
			return -1;
	}
	return 0;
}

/* children { CHILD { } } */

/* IP protocols by the names strongSwan's getprotobyname() would know for
 * the ones that matter in selectors. */
static int parse_ip_proto(const char *s, uint8_t *out)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {
	    {"any", 0},   {"icmp", 1},       {"tcp", 6},       {"udp", 17},   {"gre", 47},
	    {"ipv6-icmp", 58}, {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136},
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].proto;
			return 0;
		}
	if (strspn(s, "0123456789") != strlen(s) || conftree_parse_u64(s, 0, 255, &v) < 0)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
	uint64_t v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || conftree_parse_u64(s, 0, 65535, &v) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "10.1.0.0-10.1.0.9": RFC 7296 §3.13.1 selectors are ranges anyway. */
static int parse_range(const char *s, struct esp_sel *sel)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *dash = strchr(s, '-');
	size_t n = dash ? (size_t)(dash - s) : 0;

	if (!dash || n == 0 || n >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	memcpy(b, dash + 1, strlen(dash + 1) + 1);
	memset(sel, 0, sizeof(*sel));
	if (inet_pton(AF_INET, a, sel->start) == 1 && inet_pton(AF_INET, b, sel->end) == 1) {
		sel->family = AF_INET;
		n = 4;
	} else if (inet_pton(AF_INET6, a, sel->start) == 1 &&
	           inet_pton(AF_INET6, b, sel->end) == 1) {
		sel->family = AF_INET6;
		n = 16;
	} else {
		return -1;
	}
	if (memcmp(sel->start, sel->end, n) > 0)
		return -1;
	sel->port_hi = 65535;
	return 0;
}

/*
 * One element of local_ts / remote_ts: CIDR or a range, optionally with
 * swanctl.conf's [proto] or [proto/port] / [proto/lo-hi] (ports only with
 * TCP, UDP, SCTP and UDP-Lite: ICMP's "ports" are type and code in
 * strongSwan, which we do not carry). 0, or -1 with the reason in why.
 */
static int parse_ts(const char *s, struct esp_sel *sel, char *why, size_t cap)
{
	char base[ELEM_MAX], pp[ELEM_MAX];
	const char *br = strchr(s, '[');
	size_t n = br ? (size_t)(br - s) : strlen(s);
	char *slash, *port, *dash;

	memcpy(base, s, n);
	base[n] = '\0';
	if (esp_sel_parse(sel, base) < 0 && parse_range(base, sel) < 0) {
		snprintf(why, cap, "'%s' is not a subnet in CIDR notation or an address range", s);
		return -1;
	}
	if (!br)
		return 0;
	n = strlen(br + 1);
	if (n == 0 || br[n] != ']' || n - 1 >= sizeof(pp)) {
		snprintf(why, cap, "'%s': expected [protocol] or [protocol/port] at the end", s);
		return -1;
	}
	memcpy(pp, br + 1, n - 1);
	pp[n - 1] = '\0';
	slash = strchr(pp, '/');
	port = slash ? slash + 1 : NULL;
	if (slash)
		*slash = '\0';
	if (parse_ip_proto(pp, &sel->proto) < 0) {
		snprintf(why, cap, "'%s': unknown protocol '%s'", s, pp);
		return -1;
	}
	if (!port || !*port || strcasecmp(port, "any") == 0)
		return 0;
	if (sel->proto != 6 && sel->proto != 17 && sel->proto != 132 && sel->proto != 136) {
		snprintf(why, cap, "'%s': ports need tcp, udp, sctp or udplite", s);
		return -1;
	}
	dash = strchr(port, '-');
	if (dash)
		*dash = '\0';
	if (parse_port(port, &sel->port_lo) < 0 ||
	    parse_port(dash ? dash + 1 : port, &sel->port_hi) < 0 || sel->port_lo > sel->port_hi) {
		snprintf(why, cap, "'%s': expected a port number or range (opaque and service "
		         "names are not supported)", s);
		return -1;
	}
	return 0;
}

static int get_ts_list(struct loader *l, const struct conftree_kv *kv, const char *path,
                       struct esp_sel *sels, unsigned *n)
{
	struct conftree_list it;
	char buf[ELEM_MAX], why[3 * ELEM_MAX + 128];
	bool dynamic = false;
	int rc;

	*n = 0;
	conftree_list_init(&it, kv->value);
	while ((rc = conftree_list_next(&it, buf, sizeof(buf))) > 0) {
		if (strncasecmp(buf, "dynamic", 7) == 0 && (buf[7] == '\0' || buf[7] == '[')) {
			if (buf[7])
				return kv_fail(l, kv, path,
				               "'%s': protocols and ports with dynamic are not "
				               "supported; give the subnet",
				               buf);
			dynamic = true;
			continue;
		}
		if (*n == ESP_MAX_SELS)
			return kv_fail(l, kv, path, "more than %d selectors", ESP_MAX_SELS);
		if (parse_ts(buf, &sels[*n], why, sizeof(why)) < 0)
			return kv_fail(l, kv, path, "%s", why);
		(*n)++;
	}
	if (rc < 0)
		return kv_fail(l, kv, path, "malformed list");
	if (dynamic && *n)
		return kv_fail(l, kv, path,
		               "dynamic (the IKE address) cannot be combined with subnets here");
	return 0;
}

static int p_ch_local_ts(struct loader *l, void *obj, const struct conftree_kv *kv,
                         const char *path)
{
	struct conn_ctx *x = obj;

	return get_ts_list(l, kv, path, x->conn->local_ts, &x->conn->n_local_ts);
}

static int p_ch_remote_ts(struct loader *l, void *obj, const struct conftree_kv *kv,
                          const char *path)
{
	struct conn_ctx *x = obj;

	return get_ts_list(l, kv, path, x->conn->remote_ts, &x->conn->n_remote_ts);
}

static int p_ch_esp_proposals(struct loader *l, void *obj, const struct conftree_kv *kv,
                              const char *path)
{
	struct conn_ctx *x = obj;

	return get_proposals(l, kv, path, IKE_PROTO_ESP, x->conn->esp_proposals,
	                     sizeof(x->conn->esp_proposals));
}

static int p_ch_mode(struct loader *l, void *obj, const struct conftree_kv *kv, const char *path)
{
	if (strcasecmp(kv->value, "tunnel") == 0)
		return 0;
	return kv_fail(l, kv, path, "'%s' mode is not supported (tunnel only)", kv->value);
}

static int p_ch_rekey_time(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->child_rekey_time);
}

static int p_ch_life_time(struct loader *l, void *obj, const struct conftree_kv *kv,
                          const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->child_life_time);
}

static int p_ch_rand_time(struct loader *l, void *obj, const struct conftree_kv *kv,
                          const char *path)
{
	struct conn_ctx *x = obj;

	return get_duration(l, kv, path, &x->conn->child_rand_time);
}

static int get_bytes(struct loader *l, const struct conftree_kv *kv, const char *path,
                     uint64_t *out)
{
	if (parse_bytes(kv->value, out) < 0)
		return kv_fail(l, kv, path, "expected a byte count, optionally with K, M or G");
	return 0;
}

static int get_packets(struct loader *l, const struct conftree_kv *kv, const char *path,
                       uint64_t *out)
{
	if (conftree_parse_u64(kv->value, 0, UINT64_MAX, out) < 0)
		return kv_fail(l, kv, path, "expected a packet count");
	return 0;
}

static int p_ch_rekey_bytes(struct loader *l, void *obj, const struct conftree_kv *kv,
                            const char *path)
{
	struct conn_ctx *x = obj;

	return get_bytes(l, kv, path, &x->conn->rekey_bytes);
}

static int p_ch_life_bytes(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct conn_ctx *x = obj;

	return get_bytes(l, kv, path, &x->conn->life_bytes);
}

static int p_ch_rekey_packets(struct loader *l, void *obj, const struct conftree_kv *kv,
                              const char *path)
{
	struct conn_ctx *x = obj;

	return get_packets(l, kv, path, &x->conn->rekey_packets);
}

static int p_ch_life_packets(struct loader *l, void *obj, const struct conftree_kv *kv,
                             const char *path)
{
	struct conn_ctx *x = obj;

	return get_packets(l, kv, path, &x->conn->life_packets);
}

static int p_ch_start_action(struct loader *l, void *obj, const struct conftree_kv *kv,
                             const char *path)
{
	static const char *const names[] = {"none", "trap", "start"};
	struct conn_ctx *x = obj;
	int v;

	if (get_enum(l, kv, path, names, ARRAY_LEN(names), &v) < 0)
		return -1;
	x->conn->start_action = (enum cfg_start_action)v;
	return 0;
}

static int get_peer_action(struct loader *l, const struct conftree_kv *kv, const char *path,
                           enum cfg_peer_action *out)
{
	static const char *const names[] = {"clear", "none", "trap", "restart"};
	int v;

	if (get_enum(l, kv, path, names, ARRAY_LEN(names), &v) < 0)
		return -1;
	*out = (enum cfg_peer_action)v;
	return 0;
}

static int p_ch_dpd_action(struct loader *l, void *obj, const struct conftree_kv *kv,
                           const char *path)
{
	struct conn_ctx *x = obj;

	return get_peer_action(l, kv, path, &x->conn->dpd_action);
}

static int p_ch_close_action(struct loader *l, void *obj, const struct conftree_kv *kv,
                             const char *path)
{
	struct conn_ctx *x = obj;

	return get_peer_action(l, kv, path, &x->conn->close_action);
}

static int p_ch_replay_window(struct loader *l, void *obj, const struct conftree_kv *kv,
                              const char *path)
{
	struct conn_ctx *x = obj;
	uint64_t v;

	if (get_uint(l, kv, path, 0, REPLAY_MAX, &v) < 0)
		return -1;
	x->conn->replay_window = (uint32_t)v;
	return 0;
}

static const struct key_spec child_keys[] = {
    {"local_ts", false, p_ch_local_ts, 0},
    {"remote_ts", false, p_ch_remote_ts, 0},
    {"esp_proposals", false, p_ch_esp_proposals, 0},
    {"mode", false, p_ch_mode, 0},
    {"rekey_time", false, p_ch_rekey_time, 0},
    {"life_time", false, p_ch_life_time, 0},
    {"rand_time", false, p_ch_rand_time, 0},
    {"rekey_bytes", false, p_ch_rekey_bytes, 0},
    {"life_bytes", false, p_ch_life_bytes, 0},
    {"rekey_packets", false, p_ch_rekey_packets, 0},
    {"life_packets", false, p_ch_life_packets, 0},
    {"start_action", false, p_ch_start_action, 0},
    {"dpd_action", false, p_ch_dpd_action, 0},
    {"close_action", false, p_ch_close_action, 0},
    {"replay_window", false, p_ch_replay_window, 0},
};

/* rekey + 10%, saturating (strongSwan's default hard limits). */
static uint64_t plus_10pct(uint64_t v)
{
	return v > UINT64_MAX - v / 10 ? UINT64_MAX : v + v / 10;
}

/*
 * A limit pair: a hard limit given explicitly must exceed the rekey one
 * where both are on (0 is off), else the SA would expire before it is
 * replaced. (A defaulted one is 110% of rekey: always more.)
 */
static int check_life(struct loader *l, const struct conftree_section *t, const char *path,
                      const char *rekey_key, const char *life_key, uint64_t rekey, uint64_t life)
{
	const struct conftree_kv *kv = conftree_kv(t, life_key);
	char kpath[PATH_MAX_LEN], v[32];

	if (!kv || rekey == 0 || life == 0 || life > rekey)
		return 0;
	join(kpath, path, life_key);
	if (strcmp(rekey_key, "rekey_time") == 0)
		dur_str(rekey, v, sizeof(v));
	else
		snprintf(v, sizeof(v), "%llu", (unsigned long long)rekey);
	return kv_fail(l, kv, kpath, "must be more than %s (%s)", rekey_key, v);
}

/* rand_time is subtracted at random from the rekey time: it must leave
 * some of it, or a rekey could fall due at once. */
static int check_rand(struct loader *l, const struct conftree_section *t, const char *path,
                      uint64_t rand, uint64_t rekey)
{
	const struct conftree_kv *kv = conftree_kv(t, "rand_time");
	char kpath[PATH_MAX_LEN], v[32];

	if (!kv || rand == 0 || rekey == 0 || rand < rekey)
		return 0;
	join(kpath, path, "rand_time");
	return kv_fail(l, kv, kpath, "must be less than the rekey time (%s)",
	               dur_str(rekey, v, sizeof(v)));
}

static int load_child(struct loader *l, const struct conftree_section *t, const char *path,
                      struct conn_ctx *x)
{
	struct cfg_conn *cc = x->conn;

	if (section_name(l, t, path, "", cc->child_name, sizeof(cc->child_name)) < 0)
		return -1;
	cc->child_rekey_time = 3600 * 1000;
	cc->close_action = CFG_ACTION_NONE;
	/* Not strongSwan's 32: our receive path takes packets in batches
	 * and several queues may reorder them, so a window of 32 would drop
	 * good packets under load (esp/replay.h). */
	cc->replay_window = REPLAY_DEFAULT;
	if (load_keys(l, t, path, child_keys, ARRAY_LEN(child_keys), x) < 0)
		return -1;
	/* swanctl.conf(5) defaults: hard limits 10% above the rekey ones, the
	 * random part the difference. */
	if (!conftree_kv(t, "life_time"))
		cc->child_life_time = plus_10pct(cc->child_rekey_time);
	if (!conftree_kv(t, "rand_time"))
		cc->child_rand_time = cc->child_life_time > cc->child_rekey_time
		                          ? cc->child_life_time - cc->child_rekey_time
		                          : 0;
	if (!conftree_kv(t, "life_bytes"))
		cc->life_bytes = plus_10pct(cc->rekey_bytes);
	if (!conftree_kv(t, "life_packets"))
		cc->life_packets = plus_10pct(cc->rekey_packets);
	if (check_life(l, t, path, "rekey_time", "life_time", cc->child_rekey_time,
	               cc->child_life_time) < 0 ||
	    check_life(l, t, path, "rekey_bytes", "life_bytes", cc->rekey_bytes, cc->life_bytes) <
	        0 ||
	    check_life(l, t, path, "rekey_packets", "life_packets", cc->rekey_packets,
	               cc->life_packets) < 0 ||
	    check_rand(l, t, path, cc->child_rand_time, cc->child_rekey_time) < 0)
		return -1;
	return 0;
}

/* A host address (not a subnet) among the prefixes, or -1. */
static int first_host(const struct cfg_prefix *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i].prefix == (p[i].family == AF_INET ? 32u : 128u))
			return (int)i;
	return -1;
}

static int load_conn(struct loader *l, const struct conftree_section *t, struct cfg_conn *cc)
{
	char path[PATH_MAX_LEN], sub[PATH_MAX_LEN];
	struct conn_ctx x = {l, cc, NULL, 1};
	const struct conftree_section *children = NULL, *child;
	struct rounds lo = {"local", {NULL, NULL}, 0}, re = {"remote", {NULL, NULL}, 0};
	uint64_t base;

	join(path, "connections", t->name);
	if (section_name(l, t, path, "", cc->name, sizeof(cc->name)) < 0)
		return -1;
	snprintf(cc->where, sizeof(cc->where), "%s:%u", t->file ? t->file : "?", t->line);

	/* Defaults (swanctl.conf(5)); the lifetimes below, once all is read. */
	snprintf(cc->proposals, sizeof(cc->proposals), "default");
	snprintf(cc->esp_proposals, sizeof(cc->esp_proposals), "default");
	cc->send_certreq = true;
	cc->local.auth = CFG_AUTH_PUBKEY;
	cc->remote.auth = CFG_AUTH_PUBKEY;

	/* Up to two authentication rounds each way (add_round()) and one
	 * CHILD_SA config: the engine's shape. Further children are refused
	 * by name. */
	for (const struct conftree_section *s = t->children; s; s = s->next) {
		join(sub, path, s->name);
		if (strcmp(s->name, "children") == 0)
			children = s;
		else if (strncasecmp(s->name, "local", 5) == 0) {
			if (add_round(l, s, sub, &lo) < 0)
				return -1;
		} else if (strncasecmp(s->name, "remote", 6) == 0) {
			if (add_round(l, s, sub, &re) < 0)
				return -1;
		} else
			return sec_fail(l, s, sub, "unknown section");
	}
	order_rounds(&lo);
	order_rounds(&re);
	if (load_kvs_only(l, t, path, conn_keys, ARRAY_LEN(conn_keys), &x) < 0)
		return -1;

	for (unsigned k = 0; k < 2; k++) {
		const struct key_spec *lk = local_keys, *rk = remote_keys;

		x.round = k + 1;
		x.end = k ? &cc->local2 : &cc->local;
		join(sub, path, round_name(&lo, k + 1));
		if (k < lo.n && load_keys(l, lo.sec[k], sub, lk, ARRAY_LEN(local_keys), &x) < 0)
			return -1;
		x.end = k ? &cc->remote2 : &cc->remote;
		join(sub, path, round_name(&re, k + 1));
		if (k < re.n && load_keys(l, re.sec[k], sub, rk, ARRAY_LEN(remote_keys), &x) < 0)
			return -1;
	}
	/* A second round has no default method: strongSwan's, pubkey, is
	 * not one it can have here. */
	for (unsigned k = 0; k < 2; k++) {
		const struct rounds *r = k ? &re : &lo;

		if (r->n < 2 || conftree_kv(r->sec[1], "auth"))
			continue;
		join(sub, path, r->sec[1]->name);
		return sec_fail(l, r->sec[1], sub,
		                "a second authentication round needs auth = eap, eap-mschapv2, "
		                "eap-tls, eap-radius or eap-dynamic (only EAP is supported in a "
		                "second round)");
	}
	cc->has_local2 = lo.n == 2;
	cc->has_remote2 = re.n == 2;
	if (check_round(l, t, path, cc, &lo, &re, 1) < 0 ||
	    check_round(l, t, path, cc, &lo, &re, 2) < 0)
		return -1;

	join(sub, path, "children");
	if (!children || !children->children)
		return sec_fail(l, children ? children : t, children ? sub : path,
		                "needs one CHILD_SA config: children { NAME { ... } }");
	if (sections_only(l, children, sub, "CHILD_SA config is a section)") < 0)
		return -1;
	child = children->children;
	if (child->next) {
		char cpath[PATH_MAX_LEN];

		join(cpath, sub, child->next->name);
		return sec_fail(l, child->next, cpath,
		                "a second CHILD_SA config is not supported (one child per "
		                "connection; %s is the first)",
		                child->name);
	}
	{
		char cpath[PATH_MAX_LEN];

		join(cpath, sub, child->name);
		if (load_child(l, child, cpath, &x) < 0)
			return -1;
	}

	/* IKE SA lifetimes as strongSwan's vici computes them: rekey 4h only
	 * when neither rekey_time nor reauth_time is given; over_time 10% of
	 * the longer; rand_time over_time, but at most half of the shorter
	 * one in use. */
	if (!conftree_kv(t, "rekey_time") && !conftree_kv(t, "reauth_time"))
		cc->rekey_time = 4 * 3600 * 1000;
	if (!conftree_kv(t, "over_time"))
		cc->over_time = (cc->rekey_time > cc->reauth_time ? cc->rekey_time
		                                                  : cc->reauth_time) /
		                10;
	base = cc->rekey_time && cc->reauth_time
	           ? (cc->rekey_time < cc->reauth_time ? cc->rekey_time : cc->reauth_time)
	           : (cc->rekey_time > cc->reauth_time ? cc->rekey_time : cc->reauth_time);
	if (!conftree_kv(t, "rand_time"))
		cc->rand_time = cc->over_time < base / 2 ? cc->over_time : base / 2;
	else if (check_rand(l, t, path, cc->rand_time, base) < 0)
		return -1;

	/* Initiating (start) or installing a trap (which initiates on the
	 * first packet) needs someone to send IKE_SA_INIT to. */
	if (cc->start_action != CFG_START_NONE &&
	    first_host(cc->remote_addrs, cc->n_remote_addrs) < 0) {
		char kpath[PATH_MAX_LEN];

		join(kpath, sub, child->name);
		join(sub, kpath, "start_action");
		return kv_fail(l, conftree_kv(child, "start_action"), sub,
		               "%s needs a remote host address in %s.remote_addrs (not a "
		               "subnet or %%any)",
		               cc->start_action == CFG_START_START ? "start" : "trap", path);
	}
	if (!cc->encap)
		l->c->raw_esp = true;
	return 0;
}

static int load_connections(struct loader *l, const struct conftree_section *s)
{
	struct tunsec_config *c = l->c;
	size_t n = 0;

	if (sections_only(l, s, "connections",
	                  "connection is a section: connections { NAME { ... } })") < 0)
		return -1;
	for (const struct conftree_section *t = s->children; t; t = t->next)
		n++;
	if (n == 0)
		return 0;
	c->conns = calloc(n, sizeof(*c->conns));
	if (!c->conns)
		return sec_fail(l, s, "connections", "out of memory");
	for (const struct conftree_section *t = s->children; t; t = t->next)
		if (load_conn(l, t, &c->conns[c->n_conns++]) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* secrets { ike-X { id = ..., secret = ... } private-X { file = ... } } */

#define SECRET_MAX_IDS 16

/* One secrets.ike* section, until the connections have taken theirs. */
struct ike_secret {
	const struct conftree_section *sec;
	struct ike_identity ids[SECRET_MAX_IDS];
	unsigned n_ids;
	uint8_t key[IKE_PSK_MAX];
	size_t len;
};

/*
 * strongSwan's encodings of a secret (swanctl): 0x + hex, 0s + base64,
 * else the string's bytes. Never quotes the value in a message.
 */
static int get_secret(struct loader *l, const struct conftree_kv *kv, const char *path,
                      uint8_t *out, size_t *len)
{
	const char *v = kv->value;
	size_t n = 0;
	int rc;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		rc = conftree_parse_hex(v, out, IKE_PSK_MAX, &n);
		if (rc == -1)
			return kv_fail(l, kv, path, "malformed hex after 0x");
	} else if (v[0] == '0' && (v[1] == 's' || v[1] == 'S')) {
		rc = sodium_base642bin(out, IKE_PSK_MAX, v + 2, strlen(v + 2), " \t\r\n", &n, NULL,
		                       sodium_base64_VARIANT_ORIGINAL);
		if (rc < 0) {
			sodium_memzero(out, IKE_PSK_MAX);
			/* Too long or malformed: tell by the decoded size. */
			if (strlen(v + 2) / 4 * 3 > IKE_PSK_MAX + 2)
				rc = -2;
			else
				return kv_fail(l, kv, path, "malformed base64 after 0s");
		}
	} else {
		n = strlen(v);
		rc = n > IKE_PSK_MAX ? -2 : 0;
		if (rc == 0)
			memcpy(out, v, n);
	}
	if (rc == -2 || n == 0) {
		sodium_memzero(out, IKE_PSK_MAX);
		return kv_fail(l, kv, path, "expected 1..%d bytes", IKE_PSK_MAX);
	}
	*len = n;
	return 0;
}

static int load_ike_secret(struct loader *l, const struct conftree_section *t, const char *path,
                           struct ike_secret *s)
{
	const struct conftree_kv *secret = NULL;
	char kpath[PATH_MAX_LEN], why[160];

	s->sec = t;
	for (const struct conftree_section *sub = t->children; sub; sub = sub->next) {
		join(kpath, path, sub->name);
		return sec_fail(l, sub, kpath, "unknown section");
	}
	for (const struct conftree_kv *kv = t->kvs; kv; kv = kv->next) {
		join(kpath, path, kv->key);
		if (strcmp(kv->key, "secret") == 0) {
			secret = kv;
		} else if (strncasecmp(kv->key, "id", 2) == 0) {
			if (s->n_ids == SECRET_MAX_IDS)
				return kv_fail(l, kv, kpath, "more than %d ids", SECRET_MAX_IDS);
			if (ike_id_parse_err(kv->value, &s->ids[s->n_ids], why, sizeof(why)) < 0)
				return kv_fail(l, kv, kpath, "%s", why);
			s->n_ids++;
		} else {
			return kv_fail(l, kv, kpath, "unknown key");
		}
	}
	join(kpath, path, "secret");
	if (!secret)
		return sec_fail(l, t, kpath, "required but missing");
	/* No ids: the secret is for anyone (swanctl adds %any). */
	if (s->n_ids == 0)
		s->n_ids = 1;
	return get_secret(l, secret, kpath, s->key, &s->len);
}

/* secrets.eap-NAME / ntlm-NAME: ids (user names) and the secret; an NT
 * hash must be 16 bytes (0x + 32 hex digits, or 0s + base64). */
static int load_eap_secret(struct loader *l, const struct conftree_section *t, const char *path,
                           bool nt_hash)
{
	struct tunsec_config *c = l->c;
	const struct conftree_kv *secret = NULL;
	struct cfg_eap_secret *v, *s;
	char kpath[PATH_MAX_LEN];
	size_t len;

	v = realloc(c->eap_secrets, (c->n_eap_secrets + 1) * sizeof(*v));
	if (!v)
		return sec_fail(l, t, path, "out of memory");
	c->eap_secrets = v;
	s = &v[c->n_eap_secrets];
	memset(s, 0, sizeof(*s));
	for (const struct conftree_section *sub = t->children; sub; sub = sub->next) {
		join(kpath, path, sub->name);
		return sec_fail(l, sub, kpath, "unknown section");
	}
	for (const struct conftree_kv *kv = t->kvs; kv; kv = kv->next) {
		join(kpath, path, kv->key);
		if (strcmp(kv->key, "secret") == 0) {
			secret = kv;
		} else if (strncasecmp(kv->key, "id", 2) == 0) {
			if (s->n_ids == CFG_EAP_IDS)
				return kv_fail(l, kv, kpath, "more than %d ids", CFG_EAP_IDS);
			if (!kv->value[0] || (len = strlen(kv->value)) >= sizeof(s->ids[0]))
				return kv_fail(l, kv, kpath, "empty or longer than 255 characters");
			memcpy(s->ids[s->n_ids++], kv->value, len + 1);
		} else {
			return kv_fail(l, kv, kpath, "unknown key");
		}
	}
	join(kpath, path, "secret");
	if (!secret)
		return sec_fail(l, t, kpath, "required but missing");
	if (get_secret(l, secret, kpath, s->secret, &s->len) < 0)
		return -1;
	s->nt_hash = nt_hash;
	if (nt_hash && s->len != 16) {
		sodium_memzero(s, sizeof(*s));
		return kv_fail(l, secret, kpath,
		               "an NT hash is 16 bytes (0x + 32 hex digits): MD4 of the UTF-16LE "
		               "password");
	}
	c->n_eap_secrets++;
	return 0;
}

static int load_key_file(struct loader *l, const struct conftree_section *t, const char *path,
                         const char *subdir)
{
	struct tunsec_config *c = l->c;
	const struct conftree_kv *file = NULL;
	char kpath[PATH_MAX_LEN];
	char(*files)[4096];

	for (const struct conftree_section *sub = t->children; sub; sub = sub->next) {
		join(kpath, path, sub->name);
		return sec_fail(l, sub, kpath, "unknown section");
	}
	for (const struct conftree_kv *kv = t->kvs; kv; kv = kv->next) {
		join(kpath, path, kv->key);
		if (strcmp(kv->key, "file") == 0)
			file = kv;
		else if (strcmp(kv->key, "secret") == 0)
			return kv_fail(l, kv, kpath,
			               "encrypted private keys are not supported (store the key "
			               "unencrypted, readable by root only)");
		else
			return kv_fail(l, kv, kpath, "unknown key");
	}
	join(kpath, path, "file");
	if (!file)
		return sec_fail(l, t, kpath, "required but missing");
	files = realloc(c->key_files, (c->n_key_files + 1) * sizeof(*files));
	if (!files)
		return kv_fail(l, file, kpath, "out of memory");
	c->key_files = files;
	if (get_file(l, file, kpath, file->value, subdir, c->key_files[c->n_key_files]) < 0)
		return -1;
	c->n_key_files++;
	return 0;
}

static int load_secrets(struct loader *l, const struct conftree_section *s)
{
	static const struct {
		const char *prefix;
		const char *subdir; /* private key files: swanctl's directory */
		const char *refused; /* else: what is not supported */
	} types[] = {
	    {"ike", NULL, NULL},
	    {"private", "private", NULL},
	    {"rsa", "rsa", NULL},
	    {"ecdsa", "ecdsa", NULL},
	    {"pkcs8", "pkcs8", NULL},
	    {"pkcs12", NULL, "PKCS#12 containers are not supported (give the key and "
	                     "certificates as files)"},
	    {"eap", NULL, NULL},
	    {"xauth", NULL, "XAuth secrets are not supported (IKEv1)"},
	    {"ntlm", NULL, NULL},
	    {"token", NULL, "smartcard tokens are not supported"},
	    {"ppk", NULL, "postquantum preshared keys (RFC 8784) are not supported"},
	};
	char path[PATH_MAX_LEN];
	size_t n = 0;

	if (sections_only(l, s, "secrets", "secret is a section: secrets { ike-NAME { ... } })") < 0)
		return -1;
	for (const struct conftree_section *t = s->children; t; t = t->next)
		n++;
	if (n == 0)
		return 0;
	l->secrets = calloc(n, sizeof(*l->secrets));
	if (!l->secrets)
		return sec_fail(l, s, "secrets", "out of memory");
	for (const struct conftree_section *t = s->children; t; t = t->next) {
		size_t i;

		join(path, "secrets", t->name);
		for (i = 0; i < ARRAY_LEN(types); i++)
			if (strncasecmp(t->name, types[i].prefix, strlen(types[i].prefix)) == 0)
				break;
		if (i == ARRAY_LEN(types))
			return sec_fail(l, t, path, "unknown section");
		if (types[i].refused)
			return sec_fail(l, t, path, "%s", types[i].refused);
		if (types[i].subdir) {
			if (load_key_file(l, t, path, types[i].subdir) < 0)
				return -1;
		} else if (strncasecmp(t->name, "eap", 3) == 0 ||
		           strncasecmp(t->name, "ntlm", 4) == 0) {
			if (load_eap_secret(l, t, path, strncasecmp(t->name, "ntlm", 4) == 0) < 0)
				return -1;
		} else if (load_ike_secret(l, t, path, &l->secrets[l->n_secrets++]) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The identity strongSwan would look a PSK up with: the configured one,
 * else the address (local: ours, remote: the peer's) when the config
 * names exactly one host; else type 0, which only secrets for %any match. */
static void lookup_id(const struct cfg_end *e, const struct cfg_prefix *addrs, unsigned n,
                      struct ike_identity *out)
{
	int h = first_host(addrs, n);

	*out = e->id;
	if (out->type || h < 0)
		return;
	if (addrs[h].family == AF_INET) {
		out->type = IKE_ID_IPV4_ADDR;
		out->len = 4;
	} else {
		out->type = IKE_ID_IPV6_ADDR;
		out->len = 16;
	}
	memcpy(out->data, addrs[h].addr, out->len);
}

/* The best of the secret's ids for id (strongSwan's has_owner()). */
static int owner_match(const struct ike_secret *s, const struct ike_identity *id)
{
	int best = IKE_ID_MATCH_NONE;

	for (unsigned i = 0; i < s->n_ids; i++) {
		int m = ike_id_match(id, &s->ids[i]);

		if (m > best)
			best = m;
	}
	return best;
}

/*
 * Each PSK connection takes the secret whose ids match its local and
 * remote identities best, as strongSwan's credential manager picks it: the
 * sum of the two match levels, a secret matching neither skipped; ties go
 * to the first in the file. A secret without ids matches both as %any.
 */
static int match_secrets(struct loader *l, const struct conftree *t)
{
	const struct conftree_section *cs = conftree_section(&t->root, "connections");

	for (size_t i = 0; i < l->c->n_conns; i++) {
		struct cfg_conn *cc = &l->c->conns[i];
		struct ike_identity me, other;
		const struct ike_secret *best = NULL;
		int best_score = 0;

		if (cc->local.auth != CFG_AUTH_PSK && cc->remote.auth != CFG_AUTH_PSK)
			continue;
		lookup_id(&cc->local, cc->local_addrs, cc->n_local_addrs, &me);
		lookup_id(&cc->remote, cc->remote_addrs, cc->n_remote_addrs, &other);
		for (size_t k = 0; k < l->n_secrets; k++) {
			int a = owner_match(&l->secrets[k], &me);
			int b = owner_match(&l->secrets[k], &other);

			if (a == IKE_ID_MATCH_NONE && b == IKE_ID_MATCH_NONE)
				continue;
			if (a + b > best_score) {
				best_score = a + b;
				best = &l->secrets[k];
			}
		}
		if (!best) {
			char path[PATH_MAX_LEN], a[IKE_ID_STR_MAX], b[IKE_ID_STR_MAX];

			join(path, "connections", cc->name);
			return sec_fail(l, conftree_section(cs, cc->name), path,
			                "no secrets.ike-* for IDs %s and %s",
			                ike_id_str(&me, a, sizeof(a)),
			                ike_id_str(&other, b, sizeof(b)));
		}
		memcpy(cc->psk, best->key, best->len);
		cc->psk_len = best->len;
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
    /* before connections: their pools key names pools */
    {"pools", load_pools, NULL},
    {"connections", load_connections, NULL},
    {"secrets", load_secrets, NULL},
    {"authorities", NULL, "certification authority sections (give remote.cacerts)"},
};

/*
 * RFC 8200 §5: IPv6 needs links of at least 1280 bytes; IPv4 hosts must
 * take 576-byte datagrams (RFC 791). IPv6 is in use if the interface has an
 * IPv6 address or a tunnel carries IPv6 traffic (an IPv6 pool's included).
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
	for (size_t i = 0; i < c->n_conns; i++) {
		const struct cfg_conn *cc = &c->conns[i];

		for (unsigned j = 0; j < cc->n_local_ts; j++)
			v6 |= cc->local_ts[j].family == AF_INET6;
		for (unsigned j = 0; j < cc->n_remote_ts; j++)
			v6 |= cc->remote_ts[j].family == AF_INET6;
		/* virtual IPs from a pool are inner addresses */
		for (unsigned j = 0; j < cc->n_pools; j++)
			v6 |= c->pools[cc->pools[j]].family == AF_INET6;
		/* dynamic selectors: the inner addresses are the outer ones */
		if (!cc->n_local_ts || !cc->n_remote_ts) {
			for (unsigned j = 0; j < cc->n_local_addrs; j++)
				v6 |= cc->local_addrs[j].family == AF_INET6;
			for (unsigned j = 0; j < cc->n_remote_addrs; j++)
				v6 |= cc->remote_addrs[j].family == AF_INET6;
		}
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
			                "%s are not supported by this version",
			                top_sections[i].what);
	}
	for (size_t i = 0; i < ARRAY_LEN(top_sections); i++) {
		const struct conftree_section *s = conftree_section(&t->root, top_sections[i].name);

		if (s && top_sections[i].load(l, s) < 0)
			return -1;
	}
	if (match_secrets(l, t) < 0)
		return -1;
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
	c->udp_gso = true;
	c->udp_gro = true;
	c->cookie_threshold = 10;
}

int config_load(struct tunsec_config *c, const char *path, char *err, size_t errlen)
{
	struct loader l = {.c = c, .err = err, .errlen = errlen};
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
	if (l.secrets) {
		sodium_memzero(l.secrets, l.n_secrets * sizeof(*l.secrets));
		free(l.secrets);
	}
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

/* legacy: the whole Windows suite; legacy_groups (older, kept): MODP 1024
 * alone. */
unsigned config_legacy(const struct tunsec_config *c)
{
	return c->legacy ? IKE_LEGACY_MODP1024 | IKE_LEGACY_SHA1
	       : c->legacy_groups ? IKE_LEGACY_MODP1024
				  : 0;
}

void config_free(struct tunsec_config *c)
{
	if (c->manual) {
		sodium_memzero(c->manual, c->n_manual * sizeof(*c->manual));
		free(c->manual);
	}
	if (c->conns) {
		/* the PSKs */
		sodium_memzero(c->conns, c->n_conns * sizeof(*c->conns));
		free(c->conns);
	}
	free(c->key_files);
	free(c->pools);
	if (c->eap_secrets) {
		sodium_memzero(c->eap_secrets, c->n_eap_secrets * sizeof(*c->eap_secrets));
		free(c->eap_secrets);
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
