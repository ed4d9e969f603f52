/*
 * The configuration: strongSwan's settings syntax (strongswan.conf(5),
 * swanctl.conf(5)) read by daemon/conftree.c, and tunsecd's keys checked by
 * daemon/config.c. Good and bad example files live in tests/vectors/conf/;
 * include trees are built in a temporary directory.
 */
#include "daemon/config.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/conftree.h"
#include "daemon/pool.h"
#include "esp/replay.h"
#include "tests/unit/test.h"

/* snprintf whose truncation (never expected here: paths are short) the
 * compiler does not second-guess with -Wformat-truncation. */
static int fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, cap, f, ap);
	va_end(ap);
	return n;
}

static const char *conf_dir(char *buf, size_t cap)
{
	const char *top = getenv("TUNSEC_TOP");

	fmt(buf, cap, "%s/tests/vectors/conf", top && *top ? top : ".");
	return buf;
}

static const char *conf_path(const char *file, char *buf, size_t cap)
{
	char dir[PATH_MAX];

	fmt(buf, cap, "%s/%s", conf_dir(dir, sizeof(dir)), file);
	return buf;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* No run of 16 or more hex digits: what a leaked key would look like. */
static bool has_hex_run(const char *s)
{
	size_t run = 0;

	for (; *s; s++) {
		bool hex = (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		           (*s >= 'A' && *s <= 'F');

		run = hex ? run + 1 : 0;
		if (run >= 16)
			return true;
	}
	return false;
}

/* A scratch directory; its name holds glob characters, which the include
 * code must escape when it joins it with a relative pattern. */
struct scratch {
	char dir[64];
};

static int scratch_make(struct scratch *s)
{
	fmt(s->dir, sizeof(s->dir), "/tmp/tunsec-conf[*]XXXXXX");
	return mkdtemp(s->dir) ? 0 : -1;
}

static void scratch_write(const struct scratch *s, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	fmt(path, sizeof(path), "%s/%s", s->dir, name);
	f = fopen(path, "w");
	if (!f) {
		test_fail(__FILE__, __LINE__, "cannot write %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void scratch_mkdir(const struct scratch *s, const char *name)
{
	char path[PATH_MAX];

	fmt(path, sizeof(path), "%s/%s", s->dir, name);
	mkdir(path, 0700);
}

static const char *scratch_path(const struct scratch *s, const char *name, char *buf, size_t cap)
{
	fmt(buf, cap, "%s/%s", s->dir, name);
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void scratch_remove(const struct scratch *s)
{
	nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------------- */
/* The syntax */

TEST(conftree_strongswan_conf5_syntax_sections_keys_quotes)
{
	static const char text[] = "# comment line\n"
	                           "a {\n"
	                           "\tplain = some value  \t# trailing comment, blanks trimmed\n"
	                           "\tquoted = \"x # not a comment { } \\\"q\\\" \\\\ \\t\"\n"
	                           "\tmulti = \"line1\n"
	                           "line2\"\n"
	                           "\tempty =\n"
	                           "\tb { c = 1 }\n"
	                           "\tnext_line\n"
	                           "\t{\n"
	                           "\t\td = 2\n"
	                           "\t}\n"
	                           "}\n"
	                           "a { plain = later wins\n"
	                           "\tnew = 3 }\n"
	                           "z{y=\"}\"}\n";
	struct conftree t;
	const struct conftree_section *a, *b, *nl, *z;
	const struct conftree_kv *kv;
	char err[256] = "";

	CHECK_EQ(conftree_load_buf(&t, "mem.conf", text, sizeof(text) - 1, err, sizeof(err)), 0);
	CHECK(err[0] == '\0');
	a = conftree_section(&t.root, "a");
	REQUIRE(a != NULL);
	CHECK_EQ(a->line, 2);
	CHECK(strcmp(a->file, "mem.conf") == 0);

	kv = conftree_kv(a, "plain");
	CHECK(kv && strcmp(kv->value, "later wins") == 0);
	CHECK(kv && kv->line == 14);
	/* The reopened key keeps its first position. */
	CHECK(a->kvs == kv);
	kv = conftree_kv(a, "quoted");
	CHECK(kv && strcmp(kv->value, "x # not a comment { } \"q\" \\ \t") == 0);
	kv = conftree_kv(a, "multi");
	CHECK(kv && strcmp(kv->value, "line1\nline2") == 0);
	CHECK(kv && kv->line == 5);
	kv = conftree_kv(a, "empty");
	CHECK(kv && kv->value[0] == '\0' && kv->line == 7);
	kv = conftree_kv(a, "new");
	CHECK(kv && strcmp(kv->value, "3") == 0 && kv->line == 15);

	b = conftree_section(a, "b");
	CHECK(b && b->line == 8);
	kv = b ? conftree_kv(b, "c") : NULL;
	CHECK(kv && strcmp(kv->value, "1") == 0);
	nl = conftree_section(a, "next_line");
	CHECK(nl && nl->line == 9);
	kv = nl ? conftree_kv(nl, "d") : NULL;
	CHECK(kv && strcmp(kv->value, "2") == 0 && kv->line == 11);

	z = conftree_section(&t.root, "z");
	kv = z ? conftree_kv(z, "y") : NULL;
	CHECK(kv && strcmp(kv->value, "}") == 0 && kv->line == 16);
	/* Two top-level sections, in order of first appearance. */
	CHECK(t.root.children == a && a->next == z && z->next == NULL);
	conftree_free(&t);
	conftree_free(&t); /* harmless twice */
}

TEST(conftree_syntax_errors_name_file_and_line)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	    {"a {\n\tb = 1\n", "m.conf:1: section a is not closed (missing '}')"},
	    {"a {\n\tb {\n}\n", "m.conf:1: section a is not closed (missing '}')"},
	    {"a = 1\n}\n", "m.conf:2: '}' without an open section"},
	    {"\n\nthis is garbage\n", "m.conf:3: syntax error: expected '=' or '{' after a name"},
	    {"a\n", "m.conf:1: syntax error: expected '=' or '{' after a name"},
	    {"a = \"open\nb = 2\n", "m.conf:1: unterminated quoted string"},
	    {"a = \"x\" y\n", "m.conf:1: unexpected text after a quoted string"},
	    {"a = \"\\q\"\n", "m.conf:1: unknown escape sequence in a quoted string "
	                      "(known: \\\" \\\\ \\n \\t \\r)"},
	    {"a = x{y\n", "m.conf:1: '{' inside an unquoted value (quote the value)"},
	    {"a = x\"y\"\n", "m.conf:1: '\"' inside an unquoted value (quote the value)"},
	    {"\n{\n", "m.conf:2: '{' without a section name"},
	    {"= 3\n", "m.conf:1: '=' without a key name"},
	    {"a.b = 3\n", "m.conf:1: '.' is not allowed in names"},
	    {"conn : base {\n}\n",
	     "m.conf:1: section templates (name : template { }) are not supported"},
	    {"!x = 1\n", "m.conf:1: syntax error: unexpected '!' where a name was expected"},
	    {"a = 1\n\xc3\xa9 = 2\n",
	     "m.conf:2: syntax error: unexpected byte 0xc3 where a name was expected"},
	    {"include \"\"\n", "m.conf:1: include without a file name"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conftree t;
		char err[256] = "";

		CHECK_EQ(conftree_load_buf(&t, "m.conf", cases[i].text, strlen(cases[i].text), err,
		                           sizeof(err)),
		         -1);
		if (strcmp(err, cases[i].err) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: got \"%s\", want \"%s\"", i, err,
			          cases[i].err);
		/* Left empty: nothing to free, nothing half-built. */
		CHECK(t.root.children == NULL && t.root.kvs == NULL && t.files == NULL);
	}

	/* A NUL byte, found at its line. */
	{
		static const char nul[] = "a = 1\nb = 2\0\n";
		struct conftree t;
		char err[256] = "";

		CHECK_EQ(conftree_load_buf(&t, "m.conf", nul, sizeof(nul) - 1, err, sizeof(err)),
		         -1);
		CHECK(strcmp(err, "m.conf:2: NUL byte in the file") == 0);
	}

	/* Sections nested deeper than CONFTREE_MAX_NESTING. */
	{
		char deep[4 * (CONFTREE_MAX_NESTING + 2) + 1] = "";
		struct conftree t;
		char err[256] = "";

		for (int i = 0; i <= CONFTREE_MAX_NESTING; i++)
			strcat(deep, "a {\n");
		CHECK_EQ(conftree_load_buf(&t, "m.conf", deep, strlen(deep), err, sizeof(err)), -1);
		CHECK(strstr(err, ": sections nested deeper than 32") != NULL);
	}
}

TEST(conftree_values_bool_number_time_hex_list)
{
	static const struct {
		const char *s;
		int rc;
		bool v;
	} bools[] = {
	    {"yes", 0, true},    {"no", 0, false}, {"TRUE", 0, true}, {"false", 0, false},
	    {"1", 0, true},      {"0", 0, false},  {"on", 0, true},   {"off", 0, false},
	    {"yess", -1, false}, {"", -1, false},  {"2", -1, false},
	};
	static const struct {
		const char *s;
		uint64_t min, max;
		int rc;
		uint64_t v;
	} nums[] = {
	    {"0", 0, 10, 0, 0},
	    {"10", 0, 10, 0, 10},
	    {"11", 0, 10, -1, 0},
	    {"0x100", 256, 0xffffffff, 0, 256},
	    {"0XfF", 0, 1000, 0, 255},
	    {"0xffffffff", 256, 0xffffffff, 0, 0xffffffff},
	    {"0x100000000", 256, 0xffffffff, -1, 0},
	    {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
	    {"18446744073709551616", 0, UINT64_MAX, -1, 0},
	    {"", 0, 10, -1, 0},
	    {"0x", 0, 10, -1, 0},
	    {"-1", 0, 10, -1, 0},
	    {"+1", 0, 10, -1, 0},
	    {"1 ", 0, 10, -1, 0},
	    {"12a", 0, 100, -1, 0},
	};
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} times[] = {
	    {"20", 0, 20},    {"20s", 0, 20}, {"2m", 0, 120}, {"1h", 0, 3600},
	    {"1d", 0, 86400}, {"2d", -1, 0},  {"20x", -1, 0}, {"s", -1, 0},
	    {"20ss", -1, 0},  {"", -1, 0},    {"0", 0, 0},
	};
	uint8_t out[4];
	size_t len;
	bool b;
	uint64_t v;

	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		b = !bools[i].v;
		CHECK_EQ(conftree_parse_bool(bools[i].s, &b), bools[i].rc);
		if (bools[i].rc == 0)
			CHECK_EQ(b, bools[i].v);
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		v = 12345;
		if (conftree_parse_u64(nums[i].s, nums[i].min, nums[i].max, &v) != nums[i].rc)
			test_fail(__FILE__, __LINE__, "number case %zu (\"%s\")", i, nums[i].s);
		else if (nums[i].rc == 0)
			CHECK(v == nums[i].v);
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		v = 12345;
		if (conftree_parse_time(times[i].s, 86400, &v) != times[i].rc)
			test_fail(__FILE__, __LINE__, "time case %zu (\"%s\")", i, times[i].s);
		else if (times[i].rc == 0)
			CHECK(v == times[i].v);
	}

	CHECK_EQ(conftree_parse_hex("0x0aBc", out, sizeof(out), &len), 0);
	CHECK_EQ(len, 2);
	CHECK_MEM(out, "\x0a\xbc", 2);
	CHECK_EQ(conftree_parse_hex("deadbeef", out, sizeof(out), &len), 0);
	CHECK_EQ(len, 4);
	CHECK_MEM(out, "\xde\xad\xbe\xef", 4);
	CHECK_EQ(conftree_parse_hex("deadbeef00", out, sizeof(out), &len), -2);
	CHECK_EQ(len, 5);
	CHECK_EQ(conftree_parse_hex("abc", out, sizeof(out), &len), -1);
	CHECK_EQ(conftree_parse_hex("0xzz", out, sizeof(out), &len), -1);
	CHECK_EQ(conftree_parse_hex("", out, sizeof(out), &len), -1);
	CHECK_EQ(conftree_parse_hex("0x", out, sizeof(out), &len), -1);
	CHECK_EQ(conftree_parse_hex("ab cd", out, sizeof(out), &len), -1);

	{
		static const struct {
			const char *s;
			int n; /* elements, or -1: malformed */
		} lists[] = {
		    {"", 0},    {"  ", 0},    {"a", 1},      {"a, b ,c", 3},         {",a", -1},
		    {"a,", -1}, {"a,,b", -1}, {"a, ,b", -1}, {"toolongelement", -1},
		};

		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			struct conftree_list l;
			char buf[8];
			int rc, n = 0;

			conftree_list_init(&l, lists[i].s);
			while ((rc = conftree_list_next(&l, buf, sizeof(buf))) > 0)
				n++;
			if ((rc < 0 ? -1 : n) != lists[i].n)
				test_fail(__FILE__, __LINE__, "list case %zu (\"%s\")", i,
				          lists[i].s);
		}
	}
	{
		struct conftree_list l;
		char buf[16];

		conftree_list_init(&l, " 10.0.0.0/8 ,fd00::/8");
		CHECK_EQ(conftree_list_next(&l, buf, sizeof(buf)), 1);
		CHECK(strcmp(buf, "10.0.0.0/8") == 0);
		CHECK_EQ(conftree_list_next(&l, buf, sizeof(buf)), 1);
		CHECK(strcmp(buf, "fd00::/8") == 0);
		CHECK_EQ(conftree_list_next(&l, buf, sizeof(buf)), 0);
		CHECK_EQ(conftree_list_next(&l, buf, sizeof(buf)), 0);
	}
}

/* Globs sorted, relative to the including file (not the working
 * directory), inside sections, nothing matched, nested. */
TEST(conftree_strongswan_conf5_include_glob_relative)
{
	struct scratch s;
	struct conftree t;
	const struct conftree_section *a, *sub;
	const struct conftree_kv *kv;
	char path[PATH_MAX], err[512] = "", cwd[PATH_MAX];

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	scratch_mkdir(&s, "d");
	scratch_write(&s, "main.conf",
	              "a {\n"
	              "\tinclude d/*.conf\n"
	              "\tinclude nothing-matches-*.conf\n"
	              "}\n"
	              "include \"d/late.inc\"\n");
	/* glob(3) sorts: 1.conf then 2.conf, so 2.conf's x wins. */
	scratch_write(&s, "d/2.conf", "x = two\ninclude ../top.inc\n");
	scratch_write(&s, "d/1.conf", "x = one\ny = one\nsub { z = 1 }\n");
	scratch_write(&s, "top.inc", "from_top = yes\n");
	scratch_write(&s, "d/late.inc", "a { y = late }\n");

	/* From another working directory: includes must not care. */
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_EQ(chdir("/"), 0);
	CHECK_EQ(
	    conftree_load(&t, scratch_path(&s, "main.conf", path, sizeof(path)), err, sizeof(err)),
	    0);
	CHECK_EQ(chdir(cwd), 0);
	if (err[0])
		test_fail(__FILE__, __LINE__, "%s", err);

	a = conftree_section(&t.root, "a");
	CHECK(a != NULL);
	if (a) {
		kv = conftree_kv(a, "x");
		CHECK(kv && strcmp(kv->value, "two") == 0);
		CHECK(kv && strstr(kv->file, "/d/2.conf") && kv->line == 1);
		kv = conftree_kv(a, "y");
		CHECK(kv && strcmp(kv->value, "late") == 0);
		CHECK(kv && strstr(kv->file, "/d/late.inc") != NULL);
		kv = conftree_kv(a, "from_top");
		CHECK(kv && strcmp(kv->value, "yes") == 0);
		CHECK(kv && strstr(kv->file, "/d/../top.inc") != NULL);
		sub = conftree_section(a, "sub");
		CHECK(sub && strstr(sub->file, "/d/1.conf") && sub->line == 3);
	}
	CHECK(t.root.kvs == NULL);
	conftree_free(&t);

	/* An included file cannot close the includer's section. */
	scratch_write(&s, "close.conf", "a {\ninclude closer.inc\n}\n");
	scratch_write(&s, "closer.inc", "b = 1\n}\n");
	CHECK_EQ(
	    conftree_load(&t, scratch_path(&s, "close.conf", path, sizeof(path)), err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "closer.inc:2: '}' without an open section") != NULL);

	/* A directory is not a config file. */
	scratch_write(&s, "dir.conf", "include d\n");
	CHECK_EQ(
	    conftree_load(&t, scratch_path(&s, "dir.conf", path, sizeof(path)), err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "dir.conf:1: include ") && strstr(err, "/d: not a regular file"));

	/* The main file missing. */
	CHECK_EQ(
	    conftree_load(&t, scratch_path(&s, "none.conf", path, sizeof(path)), err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "none.conf: No such file or directory") != NULL);

	/* Bigger than CONFTREE_MAX_FILE: refused before it is read. */
	{
		char *big = malloc(CONFTREE_MAX_FILE + 2);

		if (big) {
			memset(big, '#', CONFTREE_MAX_FILE + 1);
			big[CONFTREE_MAX_FILE + 1] = '\0';
			scratch_write(&s, "big.conf", big);
			free(big);
			CHECK_EQ(conftree_load(&t, scratch_path(&s, "big.conf", path, sizeof(path)),
			                       err, sizeof(err)),
			         -1);
			CHECK(strstr(err, "big.conf: larger than 1048576 bytes") != NULL);
		}
	}
	scratch_remove(&s);
}

/* strongSwan stops at a depth of 10 includes; a chain of 11 fails where the
 * eleventh include is made. */
TEST(conftree_include_nesting_limit)
{
	struct scratch s;
	struct conftree t;
	char path[PATH_MAX], err[512] = "", name[32], text[64];

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	for (int i = 0; i <= CONFTREE_MAX_DEPTH + 1; i++) {
		fmt(name, sizeof(name), "f%d.conf", i);
		fmt(text, sizeof(text), "k%d = %d\ninclude f%d.conf\n", i, i, i + 1);
		scratch_write(&s, name, text);
	}
	/* f0 .. f10: ten nested includes are fine when f11 ends the chain. */
	fmt(name, sizeof(name), "f%d.conf", CONFTREE_MAX_DEPTH);
	scratch_write(&s, name, "last = yes\n");
	CHECK_EQ(
	    conftree_load(&t, scratch_path(&s, "f0.conf", path, sizeof(path)), err, sizeof(err)),
	    0);
	CHECK(conftree_kv(&t.root, "last") != NULL);
	conftree_free(&t);

	fmt(text, sizeof(text), "include f%d.conf\n", CONFTREE_MAX_DEPTH + 1);
	scratch_write(&s, name, text);
	CHECK_EQ(
	    conftree_load(&t, scratch_path(&s, "f0.conf", path, sizeof(path)), err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "f10.conf:1: include ") && strstr(err, "nested deeper than 10"));
	scratch_remove(&s);
}

/* ---------------------------------------------------------------------- */
/* The loader */

static void check_sockaddr(const struct sockaddr_storage *ss, int family, const char *addr,
                           uint16_t port, int line)
{
	uint8_t want[16];

	if (ss->ss_family != family) {
		test_fail(__FILE__, line, "family %d, want %d", ss->ss_family, family);
		return;
	}
	inet_pton(family, addr, want);
	if (family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		if (memcmp(&in->sin_addr, want, 4) != 0 || ntohs(in->sin_port) != port)
			test_fail(__FILE__, line, "address or port differs from %s:%u", addr, port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		if (memcmp(&in6->sin6_addr, want, 16) != 0 || ntohs(in6->sin6_port) != port)
			test_fail(__FILE__, line, "address or port differs from [%s]:%u", addr,
			          port);
	}
}

static void check_sel(const struct esp_sel *s, const char *cidr, int line)
{
	char buf[96];

	esp_sel_str(s, buf, sizeof(buf));
	if (strcmp(buf, cidr) != 0)
		test_fail(__FILE__, line, "selector %s, want %s", buf, cidr);
}

static void check_key(const uint8_t *key, size_t len, const char *hex, int line)
{
	uint8_t want[AEAD_MAX_KEYMAT];
	int n = test_unhex(hex, want, sizeof(want));

	if (n < 0 || (size_t)n != len || memcmp(key, want, len) != 0)
		test_fail(__FILE__, line, "key differs");
}

TEST(config_good_full_every_key)
{
	struct tunsec_config c;
	const struct cfg_manual *m;
	char path[PATH_MAX], err[512] = "";
	uint8_t a4[4], a6[16];

	if (config_load(&c, conf_path("good_full.conf", path, sizeof(path)), err, sizeof(err)) <
	    0) {
		test_fail(__FILE__, __LINE__, "%s", err);
		return;
	}
	CHECK(c.path[0] == '/' && strstr(c.path, "good_full.conf"));
	CHECK(strcmp(c.interface, "tsec0") == 0);
	CHECK_EQ(c.n_addrs, 2);
	inet_pton(AF_INET, "10.201.1.1", a4);
	inet_pton(AF_INET6, "fd01::1", a6);
	CHECK_EQ(c.addrs[0].family, AF_INET);
	CHECK_MEM(c.addrs[0].addr, a4, 4);
	CHECK_EQ(c.addrs[0].prefix, 24);
	CHECK_EQ(c.addrs[1].family, AF_INET6);
	CHECK_MEM(c.addrs[1].addr, a6, 16);
	CHECK_EQ(c.addrs[1].prefix, 128);
	CHECK_EQ(c.mtu, 1400);
	CHECK(strcmp(c.user, "nobody") == 0);
	CHECK(strcmp(c.group, "nogroup") == 0);
	CHECK(strcmp(c.socket_path, "/run/tunsec test.sock") == 0);
	CHECK_EQ(c.port, 5500);
	CHECK_EQ(c.port_nat_t, 4501);
	CHECK_EQ(c.keepalive_sec, 120);
	CHECK_EQ(c.mss_clamp, false);
	CHECK_EQ(c.raw_esp, true);
	REQUIRE_EQ(c.n_manual, 3);

	m = &c.manual[0];
	CHECK(strcmp(m->name, "gw") == 0);
	check_sockaddr(&m->local, AF_INET, "192.0.2.1", 4600, __LINE__);
	check_sockaddr(&m->remote, AF_INET, "198.51.100.7", 4700, __LINE__);
	CHECK_EQ(m->encap, ESP_ENCAP_UDP);
	CHECK_EQ(m->encr, ENCR_AES_GCM_16);
	CHECK_EQ(m->key_bits, 256);
	CHECK_EQ(m->integ, AUTH_NONE);
	CHECK_EQ(m->esn, true);
	CHECK_EQ(m->spi_in, 0x1000);
	CHECK_EQ(m->spi_out, 4097);
	/* RFC 4106 §8.1: 32 key bytes and a 4-byte salt. */
	CHECK_EQ(m->key_len, 36);
	CHECK_EQ(m->key_len, aead_keymat_len(ENCR_AES_GCM_16, 256, AUTH_NONE));
	check_key(m->key_in, m->key_len,
	          "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223",
	          __LINE__);
	check_key(m->key_out, m->key_len,
	          "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263",
	          __LINE__);
	CHECK_EQ(m->n_local_ts, 1);
	check_sel(&m->local_ts[0], "10.201.1.0/24", __LINE__);
	CHECK_EQ(m->n_remote_ts, 2);
	check_sel(&m->remote_ts[0], "10.202.0.0/16", __LINE__);
	check_sel(&m->remote_ts[1], "10.203.1.5/32", __LINE__);
	/* 4096 in good_full.conf, 8192 in the file included after it. */
	CHECK_EQ(m->replay_window, 8192);
	CHECK_EQ(m->nat_keepalive, true);

	m = &c.manual[1];
	CHECK(strcmp(m->name, "v6") == 0);
	check_sockaddr(&m->local, AF_INET6, "2001:db8::1", 0, __LINE__);
	check_sockaddr(&m->remote, AF_INET6, "2001:db8::2", 0, __LINE__);
	CHECK_EQ(m->encap, ESP_ENCAP_RAW);
	CHECK_EQ(m->encr, ENCR_CHACHA20_POLY1305);
	CHECK_EQ(m->key_bits, 256);
	CHECK_EQ(m->integ, AUTH_NONE);
	CHECK_EQ(m->esn, false);
	CHECK_EQ(m->spi_in, 0x2000);
	CHECK_EQ(m->spi_out, 0x2001);
	/* RFC 7634 §2: a 32-byte key and a 4-byte salt. */
	CHECK_EQ(m->key_len, 36);
	check_key(m->key_in, m->key_len,
	          "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
	          __LINE__);
	check_key(m->key_out, m->key_len,
	          "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3",
	          __LINE__);
	CHECK_EQ(m->n_local_ts, 1);
	check_sel(&m->local_ts[0], "fd01::/64", __LINE__);
	CHECK_EQ(m->n_remote_ts, 2);
	check_sel(&m->remote_ts[0], "fd02::/64", __LINE__);
	check_sel(&m->remote_ts[1], "10.204.0.0/16", __LINE__);
	CHECK_EQ(m->replay_window, REPLAY_DEFAULT);
	CHECK_EQ(m->nat_keepalive, false);

	m = &c.manual[2];
	CHECK(strcmp(m->name, "cbc") == 0);
	check_sockaddr(&m->remote, AF_INET, "203.0.113.9", 4500, __LINE__);
	CHECK_EQ(m->encr, ENCR_AES_CBC);
	CHECK_EQ(m->key_bits, 128);
	CHECK_EQ(m->integ, AUTH_HMAC_SHA2_256_128);
	CHECK_EQ(m->esn, false);
	CHECK_EQ(m->spi_in, 0x3000);
	CHECK_EQ(m->spi_out, 0x3000);
	/* RFC 7296 §2.17 order: 16 bytes AES key, then 32 bytes HMAC key. */
	CHECK_EQ(m->key_len, 48);
	check_key(m->key_in, m->key_len,
	          "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
	          "303132333435363738393a3b3c3d3e3f",
	          __LINE__);
	check_key(m->key_out, m->key_len,
	          "505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f"
	          "707172737475767778797a7b7c7d7e7f",
	          __LINE__);
	check_sel(&m->local_ts[0], "0.0.0.0/0", __LINE__);
	CHECK_EQ(m->replay_window, 0);

	config_free(&c);
	CHECK(c.manual == NULL && c.n_manual == 0);
	CHECK(all_zero(&c, sizeof(c)));
}

TEST(config_good_minimal_defaults)
{
	struct tunsec_config c;
	const struct cfg_manual *m;
	char path[PATH_MAX], err[512] = "";

	if (config_load(&c, conf_path("good_minimal.conf", path, sizeof(path)), err, sizeof(err)) <
	    0) {
		test_fail(__FILE__, __LINE__, "%s", err);
		return;
	}
	CHECK(strcmp(c.interface, "tunsec%d") == 0);
	CHECK_EQ(c.n_addrs, 0);
	CHECK_EQ(c.mtu, 0);
	CHECK(c.user[0] == '\0' && c.group[0] == '\0');
	CHECK(strcmp(c.socket_path, "/run/tunsec.sock") == 0);
	CHECK_EQ(c.port, 500);
	CHECK_EQ(c.port_nat_t, 4500);
	CHECK_EQ(c.keepalive_sec, 20);
	CHECK_EQ(c.mss_clamp, true);
	CHECK_EQ(c.offload, true);
	CHECK_EQ(c.raw_esp, false);
	CHECK_EQ(c.n_manual, 1);
	m = &c.manual[0];
	/* RFC 3948 §2.2: UDP port 4500 both ends. */
	check_sockaddr(&m->local, AF_INET, "192.0.2.1", 4500, __LINE__);
	check_sockaddr(&m->remote, AF_INET, "198.51.100.7", 4500, __LINE__);
	CHECK_EQ(m->encap, ESP_ENCAP_UDP);
	CHECK_EQ(m->encr, ENCR_AES_GCM_16);
	CHECK_EQ(m->key_bits, 128);
	CHECK_EQ(m->esn, false);
	CHECK_EQ(m->key_len, 20);
	CHECK_EQ(m->spi_in, 0x100);
	CHECK_EQ(m->replay_window, REPLAY_DEFAULT);
	CHECK_EQ(m->nat_keepalive, false);
	config_free(&c);
}

/*
 * Every bad example, with the exact one-line error. "$DIR" stands for the
 * vectors directory (the include errors name the full path).
 */
static const struct {
	const char *file;  /* in tests/vectors/conf */
	const char *where; /* file the error is in, if not file */
	unsigned line;
	const char *msg;
} bad_cases[] = {
    {"bad_unknown_key.conf", NULL, 13, "manual.gw.kye_in: unknown key"},
    {"bad_hex_len.conf", NULL, 9, "manual.gw.key_in: expected 36 bytes of hex, got 32"},
    {"bad_hex_chars.conf", NULL, 10,
     "manual.gw.key_out: expected 36 bytes of hex, got malformed hex"},
    {"bad_cidr.conf", NULL, 12,
     "manual.gw.remote_ts: '10.3.0.0/33' is not a subnet in CIDR notation"},
    {"bad_missing_key.conf", NULL, 3, "manual.gw.key_out: required but missing"},
    {"bad_spi_small.conf", NULL, 7,
     "manual.gw.spi_in: expected a 32-bit number of at least 256 (0x100; RFC 4303 2.1 "
     "reserves 0..255)"},
    {"bad_spi_dup.conf", NULL, 18, "manual.b.spi_in: 0x00001000 is already the spi_in of manual.a"},
    {"bad_include_missing.conf", NULL, 2, "include does-not-exist.conf: No such file or directory"},
    {"bad_include_cycle.conf", "cycle_b.conf", 2,
     "include $DIR/bad_include_cycle.conf: include cycle (the file is already being read)"},
    {"bad_unterminated.conf", NULL, 2, "section manual is not closed (missing '}')"},
    {"bad_garbage.conf", NULL, 4, "syntax error: expected '=' or '{' after a name"},
    {"bad_range.conf", NULL, 13, "manual.gw.replay_window: expected a number in 0..65536"},
    {"bad_family.conf", NULL, 5, "manual.gw.remote_addrs: IPv6 address, but local_addrs is IPv4"},
    {"bad_connections.conf", NULL, 16,
     "connections.home: needs one CHILD_SA config: children { NAME { ... } }"},
    {"bad_unknown_section.conf", NULL, 5, "plugins: unknown section"},
    {"bad_proposal.conf", NULL, 6,
     "manual.gw.esp_proposals: 'aes256gcm16-sha256' is not a supported proposal "
     "(aes128gcm16, aes256gcm16, chacha20poly1305, aes128-sha256, aes256-sha256, "
     "aes128-sha384, aes256-sha384, aes128-sha512, aes256-sha512; -esn or -noesn)"},
    {"bad_mtu_v6.conf", NULL, 4, "tunsec.mtu: expected 0 (automatic) or 1280..1500 (IPv6 in use)"},
    {"bad_same_key.conf", NULL, 10,
     "manual.gw.key_out: must differ from key_in (the same key both ways reuses nonces)"},
    {"bad_raw_port.conf", NULL, 14,
     "manual.gw.remote_port: meaningless with encap = no (raw ESP has no ports or "
     "keepalives)"},
    {"bad_quote.conf", NULL, 3, "unterminated quoted string"},
    {"bad_close.conf", NULL, 15, "'}' without an open section"},
    {"bad_bool.conf", NULL, 13, "manual.gw.nat_keepalive: expected yes or no"},
    {"bad_time.conf", NULL, 3,
     "tunsec.keepalive: expected a time up to 1d (e.g. 20s, 1m; 0 disables)"},
    {"bad_top_key.conf", NULL, 2, "mtu: unknown key (settings belong in a section)"},
    {"bad_two_proposals.conf", NULL, 6,
     "manual.gw.esp_proposals: expected exactly one proposal (manual keying)"},
};

static void expand_dir(const char *msg, const char *dir, char *out, size_t cap)
{
	const char *d = strstr(msg, "$DIR");

	if (d)
		fmt(out, cap, "%.*s%s%s", (int)(d - msg), msg, dir, d + 4);
	else
		fmt(out, cap, "%s", msg);
}

TEST(config_bad_vectors_exact_error_line)
{
	char dir[PATH_MAX];

	conf_dir(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct tunsec_config c;
		char path[PATH_MAX], msg[512], want[PATH_MAX + 600], err[1024] = "";
		int rc;

		fmt(path, sizeof(path), "%s/%s", dir, bad_cases[i].file);
		memset(&c, 0xa5, sizeof(c));
		rc = config_load(&c, path, err, sizeof(err));
		expand_dir(bad_cases[i].msg, dir, msg, sizeof(msg));
		fmt(want, sizeof(want), "%s/%s:%u: %s", dir,
		    bad_cases[i].where ? bad_cases[i].where : bad_cases[i].file, bad_cases[i].line,
		    msg);
		if (rc != -1 || strcmp(err, want) != 0)
			test_fail(__FILE__, __LINE__, "%s: rc %d, got \"%s\", want \"%s\"",
			          bad_cases[i].file, rc, err, want);
		/* Nothing half loaded, no key left behind. */
		if (!all_zero(&c, sizeof(c)))
			test_fail(__FILE__, __LINE__, "%s: config not emptied", bad_cases[i].file);
		/* Never key material in a message. */
		if (has_hex_run(err + strlen(dir)))
			test_fail(__FILE__, __LINE__, "%s: hex in the message", bad_cases[i].file);
	}
}

/* No bad example goes untested. */
TEST(config_bad_vectors_all_listed)
{
	char dir[PATH_MAX], pattern[PATH_MAX + 16];
	glob_t g;

	fmt(pattern, sizeof(pattern), "%s/bad_*.conf", conf_dir(dir, sizeof(dir)));
	CHECK_EQ(glob(pattern, 0, NULL, &g), 0);
	CHECK_EQ(g.gl_pathc, sizeof(bad_cases) / sizeof(bad_cases[0]));
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		size_t j;

		for (j = 0; j < sizeof(bad_cases) / sizeof(bad_cases[0]); j++)
			if (strcmp(bad_cases[j].file, base) == 0)
				break;
		if (j == sizeof(bad_cases) / sizeof(bad_cases[0]))
			test_fail(__FILE__, __LINE__, "%s has no case", base);
	}
	globfree(&g);
}

TEST(config_esp_proposal_strongswan_names)
{
	static const struct {
		const char *s;
		int encr;
		unsigned bits;
		int integ;
		bool esn;
	} good[] = {
	    {"aes128gcm16", ENCR_AES_GCM_16, 128, AUTH_NONE, false},
	    {"aes256gcm16", ENCR_AES_GCM_16, 256, AUTH_NONE, false},
	    {"aes128gcm128", ENCR_AES_GCM_16, 128, AUTH_NONE, false},
	    {"aes256gcm128-esn", ENCR_AES_GCM_16, 256, AUTH_NONE, true},
	    {"aes256gcm16-noesn", ENCR_AES_GCM_16, 256, AUTH_NONE, false},
	    {"chacha20poly1305", ENCR_CHACHA20_POLY1305, 256, AUTH_NONE, false},
	    {"chacha20poly1305-esn", ENCR_CHACHA20_POLY1305, 256, AUTH_NONE, true},
	    {"aes128-sha256", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_256_128, false},
	    {"aes256-sha256", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_256_128, false},
	    {"aes128-sha384", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_384_192, false},
	    {"aes256-sha384-esn", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_384_192, true},
	    {"aes128-sha512", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_512_256, false},
	    {"aes256-sha512", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_512_256, false},
	    {"aes256-sha2_512-esn", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_512_256, true},
	    {"aes-sha256", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_256_128, false},
	    {"AES256GCM16-ESN", ENCR_AES_GCM_16, 256, AUTH_NONE, true},
	};
	static const char *const bad[] = {
	    "",
	    "aes256gcm8", /* 8-byte ICV: not offered */
	    "aes256gcm12",
	    "aes128",             /* CBC without integrity (RFC 4303 §3.2) */
	    "aes128gcm16-sha256", /* combined mode plus integrity */
	    "chacha20poly1305-sha256",
	    "aes128-sha1",
	    "aes128-sha256-sha384",
	    "aes128gcm16-esn-noesn", /* both: a choice for IKE, not for manual keys */
	    "aes128gcm16-x25519",
	    "3des-sha256",
	    "aes128gcm16-",
	    "-aes128gcm16",
	    "aes128gcm16--esn",
	    "esn",
	    "aes512gcm16",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int encr = -1, integ = -1;
		unsigned bits = 0;
		bool esn = !good[i].esn;

		if (config_parse_esp_proposal(good[i].s, &encr, &bits, &integ, &esn) != 0 ||
		    encr != good[i].encr || bits != good[i].bits || integ != good[i].integ ||
		    esn != good[i].esn)
			test_fail(__FILE__, __LINE__, "%s: %d/%u/%d/%d", good[i].s, encr, bits,
			          integ, esn);
		else if (aead_keymat_len(encr, bits, integ) == 0)
			test_fail(__FILE__, __LINE__, "%s: no keymat length", good[i].s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int encr, integ;
		unsigned bits;
		bool esn;

		if (config_parse_esp_proposal(bad[i], &encr, &bits, &integ, &esn) != -1)
			test_fail(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
	}
}

/* A tunnel body with the required keys; spi and key bytes vary. */
static void tunnel_text(char *buf, size_t cap, const char *name, unsigned spi, unsigned k,
                        const char *extra)
{
	fmt(buf, cap,
	    "\t%s {\n"
	    "\t\tlocal_addrs = 192.0.2.1\n"
	    "\t\tremote_addrs = 198.51.100.%u\n"
	    "\t\tesp_proposals = aes128gcm16\n"
	    "\t\tspi_in = %u\n"
	    "\t\tspi_out = %u\n"
	    "\t\tkey_in = 0x%02x0102030405060708090a0b0c0d0e0f10111213\n"
	    "\t\tkey_out = 0x%02x4142434445464748494a4b4c4d4e4f50515253\n"
	    "\t\tlocal_ts = 10.1.0.0/16\n"
	    "\t\tremote_ts = 10.2.%u.0/24\n"
	    "%s"
	    "\t}\n",
	    name, k, spi, spi, k, k, k, extra);
}

/* strongswan.conf(5): a section given twice is one section, the later
 * value of a key wins; tunnels keep the order they first appeared in. */
TEST(config_duplicate_tunnels_merge_later_wins)
{
	struct scratch s;
	struct tunsec_config c;
	char t1[1024], t2[1024], text[4096], path[PATH_MAX], err[512] = "";

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	tunnel_text(t1, sizeof(t1), "one", 0x500, 1, "\t\treplay_window = 64\n");
	tunnel_text(t2, sizeof(t2), "two", 0x600, 2, "");
	fmt(text, sizeof(text),
	    "manual {\n%s%s}\n"
	    "manual {\n\tone {\n\t\tspi_in = 0x501\n\t\tencap = no\n\t}\n}\n",
	    t1, t2);
	scratch_write(&s, "merge.conf", text);
	if (config_load(&c, scratch_path(&s, "merge.conf", path, sizeof(path)), err, sizeof(err)) <
	    0) {
		test_fail(__FILE__, __LINE__, "%s", err);
	} else {
		CHECK_EQ(c.n_manual, 2);
		CHECK(strcmp(c.manual[0].name, "one") == 0);
		CHECK(strcmp(c.manual[1].name, "two") == 0);
		CHECK_EQ(c.manual[0].spi_in, 0x501);
		CHECK_EQ(c.manual[0].spi_out, 0x500);
		CHECK_EQ(c.manual[0].replay_window, 64);
		CHECK_EQ(c.manual[0].encap, ESP_ENCAP_RAW);
		CHECK_EQ(c.manual[1].encap, ESP_ENCAP_UDP);
		CHECK_EQ(c.raw_esp, true);
		config_free(&c);
	}
	scratch_remove(&s);
}

/* RFC 791: IPv4 hosts take 576-byte datagrams; RFC 8200 §5: IPv6 links
 * carry at least 1280. IPv6 is in use if an address or a selector is. */
TEST(config_mtu_rfc791_rfc8200_5_bounds)
{
	static const struct {
		const char *addrs;
		const char *remote_ts;
		const char *mtu;
		int rc;
	} cases[] = {
	    {"10.0.0.1/24", "10.2.0.0/16", "576", 0},
	    {"10.0.0.1/24", "10.2.0.0/16", "575", -1},
	    {"10.0.0.1/24", "10.2.0.0/16", "1500", 0},
	    {"10.0.0.1/24", "10.2.0.0/16", "1501", -1},
	    {"10.0.0.1/24", "10.2.0.0/16", "0", 0},
	    {"10.0.0.1/24, fd00::1/64", "10.2.0.0/16", "1280", 0},
	    {"10.0.0.1/24, fd00::1/64", "10.2.0.0/16", "1279", -1},
	    {"10.0.0.1/24", "fd02::/64", "1279", -1},
	    {"10.0.0.1/24", "fd02::/64", "0", 0},
	};
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tunsec_config c;
		char text[2048], path[PATH_MAX], err[512] = "";
		int rc;

		fmt(text, sizeof(text),
		    "tunsec {\n\taddrs = %s\n\tmtu = %s\n}\n"
		    "manual { gw {\n"
		    "\tlocal_addrs = 192.0.2.1\n\tremote_addrs = 192.0.2.2\n"
		    "\tesp_proposals = aes128gcm16\n\tspi_in = 0x100\n\tspi_out = 0x100\n"
		    "\tkey_in = 0x000102030405060708090a0b0c0d0e0f10111213\n"
		    "\tkey_out = 0x404142434445464748494a4b4c4d4e4f50515253\n"
		    "\tlocal_ts = 0.0.0.0/0\n\tremote_ts = %s\n} }\n",
		    cases[i].addrs, cases[i].mtu, cases[i].remote_ts);
		scratch_write(&s, "mtu.conf", text);
		rc = config_load(&c, scratch_path(&s, "mtu.conf", path, sizeof(path)), err,
		                 sizeof(err));
		if (rc != cases[i].rc)
			test_fail(__FILE__, __LINE__, "case %zu: rc %d (%s)", i, rc, err);
		else if (rc < 0 &&
		         !strstr(err, "mtu.conf:3: tunsec.mtu: expected 0 (automatic) or "))
			test_fail(__FILE__, __LINE__, "case %zu: %s", i, err);
		else if (rc == 0)
			config_free(&c);
	}
	scratch_remove(&s);
}

/* The tunsec { } checks that the vectors do not show. */
TEST(config_tunsec_section_checks)
{
	static const struct {
		const char *body;
		const char *err; /* NULL: accepted */
	} cases[] = {
	    {"interface = tun-with-a-long-name", "tunsec.interface: expected an interface name"},
	    {"interface = a/b", "tunsec.interface: expected an interface name"},
	    {"interface = ..", "tunsec.interface: expected an interface name"},
	    {"interface = wan%d", NULL},
	    {"addrs = 10.0.0.1/33", "tunsec.addrs: '10.0.0.1/33' is not an address/prefix"},
	    {"addrs = 10.0.0.1/0x10", "tunsec.addrs: '10.0.0.1/0x10' is not an address/prefix"},
	    {"addrs = 10.0.0.1/", "tunsec.addrs: '10.0.0.1/' is not an address/prefix"},
	    {"addrs = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
	     "tunsec.addrs: more than 8 addresses"},
	    {"user = -x", "tunsec.user: expected a name"},
	    {"group = tunsec", "tunsec.group: needs tunsec.user"},
	    {"user = tunsec\n\tgroup = tunsec", NULL},
	    {"socket = run/x.sock", "tunsec.socket: expected an absolute path"},
	    {"port = 0", "tunsec.port: expected a number in 1..65535"},
	    {"port = 4500", "tunsec.port: must differ from tunsec.port_nat_t"},
	    {"port = 4501\n\tport_nat_t = 4501", "tunsec.port_nat_t: must differ from tunsec.port"},
	    {"port_nat_t = 65536", "tunsec.port_nat_t: expected a number in 1..65535"},
	    {"keepalive = 0", NULL},
	    {"keepalive = 25h", "tunsec.keepalive: expected a time up to 1d"},
	    {"mss_clamp = nope", "tunsec.mss_clamp: expected yes or no"},
	    {"offload = no", NULL},
	    {"offload = maybe", "tunsec.offload: expected yes or no"},
	    {"sub { }", "tunsec.sub: unknown section"},
	};
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tunsec_config c;
		char text[512], path[PATH_MAX], err[512] = "";
		int rc;

		fmt(text, sizeof(text), "tunsec {\n\t%s\n}\n", cases[i].body);
		scratch_write(&s, "t.conf", text);
		rc = config_load(&c, scratch_path(&s, "t.conf", path, sizeof(path)), err,
		                 sizeof(err));
		if (!cases[i].err) {
			if (rc != 0)
				test_fail(__FILE__, __LINE__, "case %zu: %s", i, err);
			else
				config_free(&c);
		} else if (rc != -1 || !strstr(err, "t.conf:") || !strstr(err, cases[i].err)) {
			test_fail(__FILE__, __LINE__, "case %zu: got \"%s\", want \"%s\"", i, err,
			          cases[i].err);
		}
	}
	scratch_remove(&s);
}

/* The manual { } checks that the vectors do not show. */
TEST(config_manual_section_checks)
{
	static const struct {
		const char *extra;
		const char *err;
	} cases[] = {
	    {"\t\tlocal_port = 0x1194\n", NULL},
	    {"\t\tnat_keepalive = no\n\t\tencap = no\n", NULL},
	    {"\t\tnat_keepalive = yes\n\t\tencap = no\n",
	     "manual.gw.nat_keepalive: meaningless with encap = no"},
	    {"\t\tencap = udp\n", "manual.gw.encap: expected yes or no"},
	    {"\t\treplay_window = 65536\n", NULL},
	    {"\t\tsub { }\n", "manual.gw.sub: unknown section"},
	};
	static const struct {
		const char *key, *value, *err;
	} replace[] = {
	    {"local_addrs", "192.0.2.1, 192.0.2.3",
	     "manual.gw.local_addrs: expected exactly one IP address (manual keying)"},
	    {"local_addrs", "0.0.0.0", "manual.gw.local_addrs: manual keying needs a fixed"},
	    {"local_addrs", "%any", "manual.gw.local_addrs: '%any' is not an IPv4 or IPv6"},
	    {"remote_addrs", "192.0.2.0/24", "manual.gw.remote_addrs: '192.0.2.0/24' is not an"},
	    {"remote_addrs", "", "manual.gw.remote_addrs: expected IP address, got nothing"},
	    {"spi_out", "0x100000000", "manual.gw.spi_out: expected a 32-bit number"},
	    {"spi_out", "0", "manual.gw.spi_out: expected a 32-bit number"},
	    {"key_in", "0x0001", "manual.gw.key_in: expected 20 bytes of hex, got 2"},
	    {"key_in", "0x000102030405060708090a0b0c0d0e0f1011121", "got malformed hex"},
	    {"key_in", "\"0x000102030405060708090a0b0c0d0e0f10111213\"", NULL},
	    {"local_ts", "", "manual.gw.local_ts: expected at least one subnet"},
	    {"local_ts", "10.0.0.0/8,", "manual.gw.local_ts: malformed list"},
	    {"local_ts", "10.0.0.0/8[tcp/80]", "manual.gw.local_ts: '10.0.0.0/8[tcp/80]' is not"},
	    {"local_ts",
	     "1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,7.0.0.0/8,"
	     "8.0.0.0/8,9.0.0.0/8",
	     "manual.gw.local_ts: more than 8 subnets"},
	    {"esp_proposals", "", "manual.gw.esp_proposals: expected proposal, got nothing"},
	};
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	for (size_t i = 0;
	     i < sizeof(cases) / sizeof(cases[0]) + sizeof(replace) / sizeof(replace[0]); i++) {
		static const char *const keys[][2] = {
		    {"local_addrs", "192.0.2.1"},
		    {"remote_addrs", "198.51.100.7"},
		    {"esp_proposals", "aes128gcm16"},
		    {"spi_in", "0x100"},
		    {"spi_out", "0x101"},
		    {"key_in", "0x000102030405060708090a0b0c0d0e0f10111213"},
		    {"key_out", "0x404142434445464748494a4b4c4d4e4f50515253"},
		    {"local_ts", "10.1.0.0/16"},
		    {"remote_ts", "10.2.0.0/16"},
		};
		size_t n_cases = sizeof(cases) / sizeof(cases[0]);
		const char *want;
		struct tunsec_config c;
		char text[2048], path[PATH_MAX], err[512] = "";
		size_t off;
		int rc;

		off = (size_t)fmt(text, sizeof(text), "manual {\n\tgw {\n");
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			const char *v = keys[k][1];

			if (i >= n_cases && strcmp(replace[i - n_cases].key, keys[k][0]) == 0)
				v = replace[i - n_cases].value;
			off += (size_t)fmt(text + off, sizeof(text) - off, "\t\t%s = %s\n",
			                   keys[k][0], v);
		}
		fmt(text + off, sizeof(text) - off, "%s\t}\n}\n",
		    i < n_cases ? cases[i].extra : "");
		want = i < n_cases ? cases[i].err : replace[i - n_cases].err;
		scratch_write(&s, "m.conf", text);
		rc = config_load(&c, scratch_path(&s, "m.conf", path, sizeof(path)), err,
		                 sizeof(err));
		if (!want) {
			if (rc != 0)
				test_fail(__FILE__, __LINE__, "case %zu: %s", i, err);
			else
				config_free(&c);
		} else if (rc != -1 || !strstr(err, want) || has_hex_run(err)) {
			test_fail(__FILE__, __LINE__, "case %zu: got \"%s\", want \"%s\"", i, err,
			          want);
		}
	}
	scratch_remove(&s);
}

/* The shipped example must stay loadable, with the values it claims. */
TEST(config_example_file_loads)
{
	const char *top = getenv("TUNSEC_TOP");
	struct tunsec_config c;
	char path[PATH_MAX], err[512] = "";

	fmt(path, sizeof(path), "%s/daemon/tunsec.conf.example", top && *top ? top : ".");
	if (config_load(&c, path, err, sizeof(err)) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err);
		return;
	}
	CHECK(strcmp(c.interface, "tunsec%d") == 0);
	CHECK_EQ(c.n_addrs, 2);
	CHECK_EQ(c.n_manual, 2);
	CHECK_EQ(c.raw_esp, true);
	CHECK(strcmp(c.manual[0].name, "site-b") == 0);
	CHECK_EQ(c.manual[0].key_len, 36);
	CHECK_EQ(c.manual[0].esn, true);
	CHECK_EQ(c.manual[0].n_local_ts, 2);
	CHECK(strcmp(c.manual[1].name, "site-c") == 0);
	CHECK_EQ(c.manual[1].key_len, 48);
	CHECK_EQ(c.manual[1].encap, ESP_ENCAP_RAW);
	CHECK_EQ(c.n_conns, 1);
	CHECK(strcmp(c.conns[0].name, "site-d") == 0);
	CHECK_EQ(c.conns[0].local.auth, CFG_AUTH_PSK);
	CHECK_EQ(c.conns[0].remote.id.type, IKE_ID_FQDN);
	CHECK_EQ(c.conns[0].psk_len, 33);
	CHECK_EQ(c.conns[0].start_action, CFG_START_TRAP);
	CHECK_EQ(c.conns[0].n_remote_ts, 1);
	config_free(&c);
}

/* ---------------------------------------------------------------------- */
/* connections { } and secrets { } (swanctl.conf(5)) */

static int load_text(const struct scratch *s, const char *text, struct tunsec_config *c,
                     char *err, size_t cap)
{
	char path[PATH_MAX];

	scratch_write(s, "ike.conf", text);
	return config_load(c, scratch_path(s, "ike.conf", path, sizeof(path)), err, cap);
}

/* A strongSwan site-to-site PSK connection, as swanctl.conf(5) writes it,
 * with every key we take. */
static const char full_conn[] =
    "tunsec {\n"
    "\tlegacy_groups = yes\n"
    "\tcookie_threshold = 0\n"
    "}\n"
    "connections {\n"
    "\tgw {\n"
    "\t\tversion = 2\n"
    "\t\tlocal_addrs = 192.0.2.1\n"
    "\t\tremote_addrs = 198.51.100.0/24, 2001:db8::9\n"
    "\t\tproposals = aes256gcm16-prfsha384-ecp384, aes128-sha256-modp1024\n"
    "\t\tencap = yes\n"
    "\t\tfragmentation = force\n"
    "\t\tdpd_delay = 30s\n"
    "\t\tdpd_timeout = 2m\n"
    "\t\trekey_time = 2h\n"
    "\t\treauth_time = 1d\n"
    "\t\tover_time = 15 m\n"
    "\t\trand_time = 300\n"
    "\t\tsend_certreq = no\n"
    "\t\tsend_cert = never\n"
    "\t\tmobike = no\n"
    "\t\tlocal {\n"
    "\t\t\tauth = psk\n"
    "\t\t\tid = @sun.strongswan.org\n"
    "\t\t}\n"
    "\t\tremote {\n"
    "\t\t\tauth = psk\n"
    "\t\t\tid = C=CH, O=strongSwan, CN=moon.strongswan.org\n"
    "\t\t}\n"
    "\t\tchildren {\n"
    "\t\t\tnet {\n"
    "\t\t\t\tlocal_ts = 10.1.0.0/16, fd01::/64\n"
    "\t\t\t\tremote_ts = 10.2.0.0/16[tcp/1024-2047], 10.3.0.1-10.3.0.9[udp]\n"
    "\t\t\t\tesp_proposals = aes128gcm16-esn, aes256-sha512-modp3072\n"
    "\t\t\t\tmode = tunnel\n"
    "\t\t\t\trekey_time = 20m\n"
    "\t\t\t\tlife_time = 30m\n"
    "\t\t\t\trand_time = 1m\n"
    "\t\t\t\trekey_bytes = 500M\n"
    "\t\t\t\tlife_bytes = 1g\n"
    "\t\t\t\trekey_packets = 1000000\n"
    "\t\t\t\tlife_packets = 2000000\n"
    "\t\t\t\tstart_action = none\n"
    "\t\t\t\tdpd_action = restart\n"
    "\t\t\t\tclose_action = trap\n"
    "\t\t\t\treplay_window = 4096\n"
    "\t\t\t}\n"
    "\t\t}\n"
    "\t}\n"
    "}\n"
    "secrets {\n"
    "\tike-other {\n"
    "\t\tid = @venus.strongswan.org\n"
    "\t\tsecret = wrong\n"
    "\t}\n"
    "\tike-moon {\n"
    "\t\tid-a = C=CH, O=strongSwan, CN=moon.strongswan.org\n"
    "\t\tsecret = \"This is a strong secret\"\n"
    "\t}\n"
    "}\n";

TEST(config_swanctl_conf5_connection_every_key)
{
	struct tunsec_config c;
	struct scratch s;
	char err[512] = "";
	const struct cfg_conn *cc;
	struct esp_sel sel;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	if (load_text(&s, full_conn, &c, err, sizeof(err)) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err);
		scratch_remove(&s);
		return;
	}
	CHECK_EQ(c.legacy_groups, true);
	CHECK_EQ(c.cookie_threshold, 0);
	CHECK_EQ(c.n_conns, 1);
	cc = &c.conns[0];
	CHECK(strcmp(cc->name, "gw") == 0);
	CHECK(strcmp(cc->child_name, "net") == 0);
	CHECK_EQ(cc->n_local_addrs, 1);
	CHECK_EQ(cc->local_addrs[0].family, AF_INET);
	CHECK_EQ(cc->local_addrs[0].prefix, 32);
	CHECK_EQ(cc->n_remote_addrs, 2);
	CHECK_EQ(cc->remote_addrs[0].prefix, 24);
	CHECK_EQ(cc->remote_addrs[1].family, AF_INET6);
	CHECK(strcmp(cc->proposals, "aes256gcm16-prfsha384-ecp384, aes128-sha256-modp1024") == 0);
	CHECK(strcmp(cc->esp_proposals, "aes128gcm16-esn, aes256-sha512-modp3072") == 0);
	CHECK_EQ(cc->encap, true);
	CHECK_EQ(c.raw_esp, false); /* encap = yes: UDP only */
	CHECK_EQ(cc->fragmentation, CFG_FRAG_FORCE);
	CHECK_EQ(cc->dpd_delay, 30 * 1000);
	CHECK_EQ(cc->dpd_timeout, 120 * 1000);
	CHECK_EQ(cc->rekey_time, 7200 * 1000);
	CHECK_EQ(cc->reauth_time, 86400 * 1000);
	CHECK_EQ(cc->over_time, 900 * 1000);
	CHECK_EQ(cc->rand_time, 300 * 1000);
	CHECK_EQ(cc->send_certreq, false);
	CHECK_EQ(cc->send_cert, CFG_CERT_NEVER);
	CHECK_EQ(cc->local.auth, CFG_AUTH_PSK);
	CHECK_EQ(cc->local.id.type, IKE_ID_FQDN);
	CHECK_EQ(cc->local.id.len, 18);
	CHECK_MEM(cc->local.id.data, "sun.strongswan.org", 18);
	CHECK(strcmp(cc->local.id_text, "@sun.strongswan.org") == 0);
	CHECK_EQ(cc->remote.id.type, IKE_ID_DER_ASN1_DN);
	CHECK_EQ(cc->remote.id.len, 0x42);
	/* The secret whose id is the remote DN, not the other one. */
	CHECK_EQ(cc->psk_len, 23);
	CHECK_MEM(cc->psk, "This is a strong secret", 23);
	CHECK_EQ(cc->n_local_ts, 2);
	check_sel(&cc->local_ts[0], "10.1.0.0/16", __LINE__);
	check_sel(&cc->local_ts[1], "fd01::/64", __LINE__);
	CHECK_EQ(cc->n_remote_ts, 2);
	CHECK_EQ(cc->remote_ts[0].proto, 6);
	CHECK_EQ(cc->remote_ts[0].port_lo, 1024);
	CHECK_EQ(cc->remote_ts[0].port_hi, 2047);
	CHECK_EQ(cc->remote_ts[1].proto, 17);
	CHECK_EQ(cc->remote_ts[1].port_lo, 0);
	CHECK_EQ(cc->remote_ts[1].port_hi, 65535);
	CHECK(esp_sel_parse(&sel, "10.3.0.1") == 0);
	CHECK_MEM(cc->remote_ts[1].start, sel.start, 4);
	CHECK(esp_sel_parse(&sel, "10.3.0.9") == 0);
	CHECK_MEM(cc->remote_ts[1].end, sel.start, 4);
	CHECK_EQ(cc->child_rekey_time, 1200 * 1000);
	CHECK_EQ(cc->child_life_time, 1800 * 1000);
	CHECK_EQ(cc->child_rand_time, 60 * 1000);
	CHECK_EQ(cc->rekey_bytes, 500ull << 20);
	CHECK_EQ(cc->life_bytes, 1ull << 30);
	CHECK_EQ(cc->rekey_packets, 1000000);
	CHECK_EQ(cc->life_packets, 2000000);
	CHECK_EQ(cc->start_action, CFG_START_NONE);
	CHECK_EQ(cc->dpd_action, CFG_ACTION_RESTART);
	CHECK_EQ(cc->close_action, CFG_ACTION_TRAP);
	CHECK_EQ(cc->replay_window, 4096);
	config_free(&c);
	CHECK(all_zero(&c, sizeof(c)));
	scratch_remove(&s);
}

/* swanctl.conf(5)'s defaults (and vici's arithmetic), with our replay
 * window. */
TEST(config_swanctl_conf5_connection_defaults)
{
	static const char text[] = "connections {\n"
	                           "\tgw {\n"
	                           "\t\tremote_addrs = 198.51.100.7\n"
	                           "\t\tlocal { auth = psk }\n"
	                           "\t\tremote { auth = psk }\n"
	                           "\t\tchildren { net { } }\n"
	                           "\t}\n"
	                           "\tpk {\n"
	                           "\t\treauth_time = 10h\n"
	                           "\t\tchildren { net {\n"
	                           "\t\t\trekey_bytes = 1000\n"
	                           "\t\t\trekey_packets = 100\n"
	                           "\t\t} }\n"
	                           "\t}\n"
	                           "}\n"
	                           "secrets { ike { secret = x } }\n";
	struct tunsec_config c;
	struct scratch s;
	char err[512] = "";
	const struct cfg_conn *cc;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	if (load_text(&s, text, &c, err, sizeof(err)) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err);
		scratch_remove(&s);
		return;
	}
	CHECK_EQ(c.legacy_groups, false);
	CHECK_EQ(c.cookie_threshold, 10);
	CHECK_EQ(c.n_conns, 2);
	cc = &c.conns[0];
	CHECK_EQ(cc->n_local_addrs, 0); /* %any */
	CHECK(strcmp(cc->proposals, "default") == 0);
	CHECK(strcmp(cc->esp_proposals, "default") == 0);
	CHECK_EQ(cc->encap, false);
	CHECK_EQ(c.raw_esp, true); /* encap = no: raw ESP where no NAT */
	CHECK_EQ(cc->fragmentation, CFG_FRAG_YES);
	CHECK_EQ(cc->dpd_delay, 0);
	CHECK_EQ(cc->rekey_time, 4 * 3600 * 1000);
	CHECK_EQ(cc->reauth_time, 0);
	CHECK_EQ(cc->over_time, 4 * 360 * 1000);   /* 10% of rekey_time */
	CHECK_EQ(cc->rand_time, 4 * 360 * 1000);   /* over_time (< half of rekey_time) */
	CHECK_EQ(cc->send_certreq, true);
	CHECK_EQ(cc->send_cert, CFG_CERT_IFASKED);
	CHECK_EQ(cc->local.id.type, 0);
	CHECK_EQ(cc->remote.id.type, 0);
	CHECK_EQ(cc->psk_len, 1);
	CHECK_EQ(cc->n_local_ts, 0); /* dynamic */
	CHECK_EQ(cc->n_remote_ts, 0);
	CHECK_EQ(cc->child_rekey_time, 3600 * 1000);
	CHECK_EQ(cc->child_life_time, 3960 * 1000); /* 110% */
	CHECK_EQ(cc->child_rand_time, 360 * 1000);  /* life - rekey */
	CHECK_EQ(cc->rekey_bytes, 0);
	CHECK_EQ(cc->life_bytes, 0);
	CHECK_EQ(cc->start_action, CFG_START_NONE);
	CHECK_EQ(cc->dpd_action, CFG_ACTION_CLEAR);
	CHECK_EQ(cc->close_action, CFG_ACTION_NONE);
	CHECK_EQ(cc->replay_window, REPLAY_DEFAULT);
	/* auth defaults to pubkey, as in strongSwan: no secret needed. */
	cc = &c.conns[1];
	CHECK_EQ(cc->local.auth, CFG_AUTH_PUBKEY);
	CHECK_EQ(cc->remote.auth, CFG_AUTH_PUBKEY);
	CHECK_EQ(cc->psk_len, 0);
	/* reauth_time alone: no rekeying; over_time 10% of it; rand_time at
	 * most half of it. */
	CHECK_EQ(cc->rekey_time, 0);
	CHECK_EQ(cc->reauth_time, 36000 * 1000);
	CHECK_EQ(cc->over_time, 3600 * 1000);
	CHECK_EQ(cc->rand_time, 3600 * 1000);
	CHECK_EQ(cc->life_bytes, 1100);
	CHECK_EQ(cc->life_packets, 110);
	config_free(&c);
	scratch_remove(&s);
}

/*
 * One connection with a psk secret, and body replacing or adding lines:
 * KEY=VALUE in a section given by a prefix: "c:" the connection, "l:"
 * local, "r:" remote, "ch:" the child, "t:" tunsec, "s:" the secret,
 * "x:" raw text after everything.
 */
static void conn_text(char *buf, size_t cap, const char *extra)
{
	const char *c = "", *lo = "", *re = "", *ch = "", *t = "", *sec = "", *x = "";
	const char *colon = strchr(extra, ':');

	if (colon) {
		const char *v = colon + 1;
		size_t n = (size_t)(colon - extra);

		if (n == 1 && extra[0] == 'c')
			c = v;
		else if (n == 1 && extra[0] == 'l')
			lo = v;
		else if (n == 1 && extra[0] == 'r')
			re = v;
		else if (n == 2 && extra[0] == 'c')
			ch = v;
		else if (n == 1 && extra[0] == 't')
			t = v;
		else if (n == 1 && extra[0] == 's')
			sec = v;
		else
			x = v;
	}
	fmt(buf, cap,
	    "tunsec {\n\t%s\n}\n"
	    "connections {\n"
	    "\tgw {\n"
	    "\t\tremote_addrs = 198.51.100.7\n"
	    "\t\t%s\n"
	    "\t\tlocal {\n\t\t\tauth = psk\n\t\t\t%s\n\t\t}\n"
	    "\t\tremote {\n\t\t\tauth = psk\n\t\t\t%s\n\t\t}\n"
	    "\t\tchildren {\n\t\t\tnet {\n\t\t\t\t%s\n\t\t\t}\n\t\t}\n"
	    "\t}\n"
	    "}\n"
	    "secrets {\n\tike-1 {\n\t\tsecret = 0x00112233\n\t\t%s\n\t}\n}\n"
	    "%s\n",
	    t, c, lo, re, ch, sec, x);
}

/* Every error names file:line and the key; nothing is left loaded. */
static void check_conn_error(const struct scratch *s, const char *extra, const char *want,
                             int line)
{
	struct tunsec_config c;
	char text[4096], err[1024] = "";
	int rc;

	conn_text(text, sizeof(text), extra);
	memset(&c, 0xa5, sizeof(c));
	rc = load_text(s, text, &c, err, sizeof(err));
	if (!want) {
		if (rc != 0)
			test_fail(__FILE__, line, "'%s': %s", extra, err);
		else
			config_free(&c);
		return;
	}
	if (rc != -1 || !strstr(err, "ike.conf:") || !strstr(err, want))
		test_fail(__FILE__, line, "'%s': got \"%s\", want \"%s\"", extra, err, want);
	else if (!all_zero(&c, sizeof(c)))
		test_fail(__FILE__, line, "'%s': config not emptied", extra);
	else if (strstr(err, "00112233"))
		test_fail(__FILE__, line, "'%s': the secret in the message", extra);
}

/* One conn_text() variant and the error it must give (NULL: none). */
struct conn_case {
	const char *extra, *err;
};

/* check_conn_error() for each of n cases, in a scratch directory of
 * their own. */
static void check_conn_cases(const struct conn_case *cases, size_t n, int line)
{
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, line, "mkdtemp failed");
		return;
	}
	for (size_t i = 0; i < n; i++)
		check_conn_error(&s, cases[i].extra, cases[i].err, line);
	scratch_remove(&s);
}

/* What swanctl.conf has and tunsec does not: refused by name. */
TEST(config_swanctl_conf5_unsupported_rejected_by_name)
{
	static const struct conn_case cases[] = {
	    {"c:version = 1", "connections.gw.version: IKEv1 is not supported"},
	    {"c:version = 3", "connections.gw.version: expected 0 (any) or 2"},
	    {"c:mobike = yes", "connections.gw.mobike: MOBIKE is not supported yet"},
	    {"c:aggressive = yes", "connections.gw.aggressive: unknown key"},
	    {"c:vips = 10.0.0.1", "connections.gw.vips: '10.0.0.1': only 0.0.0.0 and :: (whatever "
	     "address the server gives) are supported"},
	    {"c:vips = 0.0.0.0, ::", NULL},
	    {"c:pools = p", "connections.gw.pools: unknown pool 'p' (no pools.p section)"},
	    {"c:local_port = 4500", "connections.gw.local_port: unknown key"},
	    /* local-1 written first is the first round: local, after it,
	     * the second, where psk is no method (swanctl's order) */
	    {"c:local-1 { auth = psk }",
	     "connections.gw.local.auth: psk in a second authentication round is not supported"},
	    {"x:connections { gw { remote3 { auth = eap-mschapv2 }\n remote4 { auth = eap-tls } } "
	     "}",
	     "connections.gw.remote4: a third remote authentication round is not supported (two "
	     "at most, RFC 4739; remote and remote3 are the first two)"},
	    {"c:other { }", "connections.gw.other: unknown section"},
	    {"l:auth = eap-ttls", "connections.gw.local.auth: EAP method eap-ttls is not supported"},
	    /* EAP-TLS: our certificate and the other end's CA, both roles */
	    {"l:auth = eap-tls",
	     "connections.gw.local: local.auth = eap-tls needs local.certs (the user certificate"},
	    {"r:auth = eap-tls", "connections.gw.local: remote.auth = eap-tls needs local.certs"},
	    /* remote.aaa_id (strongSwan's): the EAP server's identity */
	    {"r:aaa_id = radius.example.org", NULL},
	    {"r:aaa_id = XY=1", "connections.gw.remote.aaa_id: unknown DN attribute 'XY'"},
	    {"l:aaa_id = radius.example.org", "connections.gw.local.aaa_id: unknown key"},
	    {"r:auth = eap-radius",
	     "connections.gw.remote.auth: eap-radius needs tunsec { radius { servers"},
	    {"l:auth = eap-radius", "connections.gw.local.auth: eap-radius is for remote.auth"},
	    {"l:auth = eap-dynamic", "connections.gw.local.auth: eap-dynamic is for remote.auth"},
	    {"r:groups = staff", "connections.gw.remote.groups: groups are the RADIUS Class of the "
	                         "user: they need remote.auth = eap-radius"},
	    {"l:groups = staff", "connections.gw.local.groups: unknown key"},
	    {"r:auth = xauth", "connections.gw.remote.auth: XAuth (xauth) is IKEv1"},
	    {"r:auth = rsa/pss", "signature scheme constraints are not supported; use pubkey"},
	    {"l:eap_ids = x", "connections.gw.local.eap_ids: unknown key"},
	    {"l:cacerts = x", "connections.gw.local.cacerts: unknown key"},
	    {"r:certs = x", "connections.gw.remote.certs: unknown key"},
	    {"r:revocation = strict", "connections.gw.remote.revocation: unknown key"},
	    {"ch:updown = /bin/true", "connections.gw.children.net.updown: unknown key"},
	    {"ch:mode = transport",
	     "connections.gw.children.net.mode: 'transport' mode is not supported (tunnel only)"},
	    {"ch:ah_proposals = sha256", "connections.gw.children.net.ah_proposals: unknown key"},
	    {"ch:rand_bytes = 10", "connections.gw.children.net.rand_bytes: unknown key"},
	    {"ch:start_action = trap|start",
	     "connections.gw.children.net.start_action: expected none, trap or start"},
	    {"ch:sub { }", "connections.gw.children.net.sub: unknown section"},
	    {"x:connections { gw { children { net2 { } } } }",
	     "connections.gw.children.net2: a second CHILD_SA config is not supported"},
	    {"x:authorities { ca { } }", "authorities: certification authority sections"},
	    {"x:secrets { eap-carol { id = carol } }", "secrets.eap-carol.secret: required but missing"},
	    {"x:secrets { eap-carol { user = carol\n secret = x } }", "secrets.eap-carol.user: unknown key"},
	    {"x:secrets { xauth { secret = x } }", "secrets.xauth: XAuth secrets are not supported"},
	    {"x:secrets { ntlm-1 { secret = x } }",
	     "secrets.ntlm-1.secret: an NT hash is 16 bytes (0x + 32 hex digits)"},
	    {"x:secrets { token-1 { handle = 01 } }", "secrets.token-1: smartcard tokens"},
	    {"x:secrets { pkcs12 { file = x } }", "secrets.pkcs12: PKCS#12 containers"},
	    {"x:secrets { ppk { secret = x } }", "secrets.ppk: postquantum preshared keys"},
	    {"x:secrets { foo { } }", "secrets.foo: unknown section"},
	    {"x:secrets { private-a { file = x\n secret = pw } }",
	     "secrets.private-a.secret: encrypted private keys are not supported"},
	    {"s:flags = 1", "secrets.ike-1.flags: unknown key"},
	    {"x:connections { key = v }", "connections.key: unknown key (each connection is a"},
	    {"x:connections { nochild { } }",
	     "connections.nochild: needs one CHILD_SA config: children { NAME { ... } }"},
	    {"x:connections { gw { children { k = v } } }",
	     "connections.gw.children.k: unknown key"},
	};
	static const struct conn_case plain = {"", NULL};

	check_conn_cases(&plain, 1, __LINE__);
	check_conn_cases(cases, sizeof(cases) / sizeof(cases[0]), __LINE__);
}

/*
 * Authentication rounds (swanctl.conf(5), RFC 4739 multiple
 * authentication): every local* / remote* section is one round of its end,
 * in the order written or by round keys; the engine runs a second one by
 * EAP. Layouts that load, and what each round holds.
 */
TEST(config_swanctl_conf5_auth_rounds_rfc4739_layouts)
{
	static const char text[] =
	    "tunsec {\n"
	    "\tradius {\n"
	    "\t\tservers {\n"
	    "\t\t\tr {\n\t\t\t\taddress = 127.0.0.1\n\t\t\t\tsecret = s\n\t\t\t}\n"
	    "\t\t}\n"
	    "\t}\n"
	    "}\n"
	    "connections {\n"
	    /* a client: the machine's certificate, then alice's password */
	    "\tclient {\n"
	    "\t\tremote_addrs = 198.51.100.7\n"
	    "\t\tlocal-1 {\n\t\t\tauth = pubkey\n\t\t\tcerts = m.pem\n"
	    "\t\t\tid = machine.example\n\t\t}\n"
	    "\t\tlocal-2 {\n\t\t\tauth = eap-mschapv2\n\t\t\teap_id = alice\n\t\t}\n"
	    "\t\tremote-1 {\n\t\t\tauth = pubkey\n\t\t\tcacerts = ca.pem\n"
	    "\t\t\tid = vpn.example\n\t\t}\n"
	    "\t\tchildren { net { } }\n"
	    "\t}\n"
	    /* its server: the machine's certificate, then a RADIUS user */
	    "\tserver {\n"
	    "\t\tlocal {\n\t\t\tauth = pubkey\n\t\t\tcerts = m.pem\n\t\t}\n"
	    "\t\tremote {\n\t\t\tauth = pubkey\n\t\t\tcacerts = ca.pem\n\t\t}\n"
	    "\t\tremote-2 {\n\t\t\tauth = eap-radius\n\t\t\teap_id = %any\n"
	    "\t\t\tid = \"C=CH, O=Example, CN=*\"\n\t\t\tgroups = staff\n\t\t}\n"
	    "\t\tchildren { net { } }\n"
	    "\t}\n"
	    /* EAP-TLS in round 2 both ways: the user's certificate
	     * (local-2.certs) checked against round 1's remote.cacerts; the
	     * users' CA (remote-2.cacerts) with round 1's local.certs */
	    "\ttls {\n"
	    "\t\tlocal {\n\t\t\tauth = pubkey\n\t\t\tcerts = m.pem\n\t\t}\n"
	    "\t\tlocal-2 {\n\t\t\tauth = eap-tls\n\t\t\tcerts = u.pem\n\t\t}\n"
	    "\t\tremote {\n\t\t\tauth = pubkey\n\t\t\tcacerts = ca.pem\n\t\t}\n"
	    "\t\tremote-2 {\n\t\t\tauth = eap-dynamic\n\t\t\tcacerts = users.pem\n\t\t}\n"
	    "\t\tchildren { net { } }\n"
	    "\t}\n"
	    /* names as swanctl takes them (any case, any suffix), ordered by
	     * their round keys, not as written */
	    "\torder {\n"
	    "\t\tLocalB {\n\t\t\tround = 2\n\t\t\tauth = eap-tls\n\t\t\tcerts = u.pem\n\t\t}\n"
	    "\t\tlocalA {\n\t\t\tround = 1\n\t\t\tauth = psk\n\t\t}\n"
	    "\t\tremote {\n\t\t\tauth = psk\n\t\t\tcacerts = ca.pem\n\t\t}\n"
	    "\t\tchildren { net { } }\n"
	    "\t}\n"
	    /* one section named local-2 is the first round */
	    "\tone {\n"
	    "\t\tlocal-2 {\n\t\t\tauth = psk\n\t\t}\n"
	    "\t\tremote {\n\t\t\tauth = psk\n\t\t}\n"
	    "\t\tchildren { net { } }\n"
	    "\t}\n"
	    "}\n"
	    "secrets {\n\tike-1 {\n\t\tsecret = 0x00112233\n\t}\n}\n";
	struct tunsec_config c, c2;
	const struct cfg_conn *cc;
	struct scratch s;
	char err[1024] = "";

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	scratch_write(&s, "m.pem", "-\n");
	scratch_write(&s, "u.pem", "-\n");
	scratch_write(&s, "ca.pem", "-\n");
	scratch_write(&s, "users.pem", "-\n");
	if (load_text(&s, text, &c, err, sizeof(err)) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err);
		scratch_remove(&s);
		return;
	}
	CHECK_EQ(c.n_conns, 5);
	cc = &c.conns[0];
	CHECK_EQ(cc->local.auth, CFG_AUTH_PUBKEY);
	CHECK_EQ(cc->local.id.type, IKE_ID_FQDN);
	CHECK_EQ(cc->local.n_certs, 1);
	CHECK(cc->has_local2);
	CHECK(!cc->has_remote2);
	CHECK_EQ(cc->local2.auth, CFG_AUTH_EAP_MSCHAPV2);
	CHECK(strcmp(cc->local2.eap_id, "alice") == 0);
	CHECK_EQ(cc->local2.id.type, 0); /* conn.c: the eap_id then */
	CHECK_EQ(cc->local2.n_certs, 0);
	CHECK_EQ(cc->remote.auth, CFG_AUTH_PUBKEY);
	CHECK(all_zero(&cc->remote2, sizeof(cc->remote2)));
	cc = &c.conns[1];
	CHECK(!cc->has_local2);
	CHECK(cc->has_remote2);
	CHECK(all_zero(&cc->local2, sizeof(cc->local2)));
	CHECK_EQ(cc->remote.auth, CFG_AUTH_PUBKEY);
	CHECK_EQ(cc->remote.n_groups, 0);
	CHECK_EQ(cc->remote2.auth, CFG_AUTH_EAP_RADIUS);
	CHECK(strcmp(cc->remote2.eap_id, "%any") == 0);
	CHECK_EQ(cc->remote2.id.type, IKE_ID_DER_ASN1_DN);
	CHECK_EQ(cc->remote2.n_groups, 1);
	CHECK(strcmp(cc->remote2.groups[0], "staff") == 0);
	cc = &c.conns[2];
	CHECK(cc->has_local2 && cc->has_remote2);
	CHECK_EQ(cc->local2.auth, CFG_AUTH_EAP_TLS);
	CHECK_EQ(cc->local2.n_certs, 1);
	CHECK(strstr(cc->local2.certs[0], "/u.pem") != NULL);
	CHECK_EQ(cc->remote2.auth, CFG_AUTH_EAP_DYNAMIC);
	CHECK_EQ(cc->remote2.n_certs, 1);
	CHECK(strstr(cc->remote2.certs[0], "/users.pem") != NULL);
	cc = &c.conns[3];
	CHECK_EQ(cc->local.auth, CFG_AUTH_PSK);
	CHECK(cc->has_local2);
	CHECK_EQ(cc->local2.auth, CFG_AUTH_EAP_TLS);
	CHECK_EQ(cc->psk_len, 4);
	cc = &c.conns[4];
	CHECK_EQ(cc->local.auth, CFG_AUTH_PSK);
	CHECK(!cc->has_local2 && !cc->has_remote2);

	/* a reload compares what the rounds say: the same file is the same
	 * connection; another remote-2.eap_id is a changed one */
	if (load_text(&s, text, &c2, err, sizeof(err)) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err);
	} else {
		CHECK(memcmp(&c.conns[1], &c2.conns[1], CFG_CONN_CMP_LEN) == 0);
		config_free(&c2);
	}
	{
		char text2[sizeof(text) + 16];
		char *p;

		fmt(text2, sizeof(text2), "%s", text);
		p = strstr(text2, "eap_id = %any");
		memcpy(p, "eap_id = carl", 13);
		if (load_text(&s, text2, &c2, err, sizeof(err)) < 0) {
			test_fail(__FILE__, __LINE__, "%s", err);
		} else {
			CHECK(memcmp(&c.conns[1], &c2.conns[1], CFG_CONN_CMP_LEN) != 0);
			CHECK(memcmp(&c.conns[0], &c2.conns[0], CFG_CONN_CMP_LEN) == 0);
			config_free(&c2);
		}
	}
	config_free(&c);
	scratch_remove(&s);
}

/* What a round may not be, refused by name with file:line (RFC 4739: the
 * engine's second round is EAP). The rounds are added after gw's local and
 * remote (psk), merged into it. */
TEST(config_swanctl_conf5_auth_rounds_rfc4739_refused)
{
#define GW(body)                                                                                   \
	"x:tunsec { radius { servers { r { address = ::1\n secret = s } } } }\n"                   \
	"connections { gw { " body " } }"
	static const struct conn_case cases[] = {
	    {GW("local-2 { auth = eap-mschapv2\n eap_id = alice }"), NULL},
	    {GW("remote-2 { auth = eap-mschapv2 }"), NULL},
	    {GW("remote-2 { auth = eap-radius\n groups = staff }"), NULL},
	    /* a third round of either end */
	    {GW("local-2 { auth = eap-mschapv2 }\n local-3 { auth = eap-mschapv2 }"),
	     "connections.gw.local-3: a third local authentication round is not supported (two at "
	     "most, RFC 4739; local and local-2 are the first two)"},
	    {GW("remote-x { auth = eap-mschapv2 }\n remote-y { auth = eap-mschapv2 }"),
	     "connections.gw.remote-y: a third remote authentication round is not supported"},
	    /* only EAP in round 2 */
	    {GW("local-2 { auth = pubkey }"),
	     "connections.gw.local-2.auth: pubkey in a second authentication round is not "
	     "supported: only EAP is (eap, eap-mschapv2, eap-tls, eap-radius or eap-dynamic)"},
	    {GW("remote-2 { auth = psk }"),
	     "connections.gw.remote-2.auth: psk in a second authentication round is not supported"},
	    {GW("remote-2 { auth = PubKey }"), "connections.gw.remote-2.auth: PubKey in a second"},
	    {GW("local-2 { eap_id = alice }"),
	     "connections.gw.local-2: a second authentication round needs auth = eap, eap-mschapv2, "
	     "eap-tls, eap-radius or eap-dynamic (only EAP is supported in a second round)"},
	    {GW("local-2 { auth = eap-ttls }"),
	     "connections.gw.local-2.auth: EAP method eap-ttls is not supported"},
	    /* the keys of a round are those of round 1's end */
	    {GW("local-2 { auth = eap-mschapv2\n cacerts = ca.pem }"),
	     "connections.gw.local-2.cacerts: unknown key"},
	    {GW("remote-2 { auth = eap-mschapv2\n aaa = 1 }"),
	     "connections.gw.remote-2.aaa: unknown key"},
	    {GW("remote-2 { auth = eap-mschapv2\n sub { } }"),
	     "connections.gw.remote-2.sub: unknown section"},
	    {GW("remote-2 { auth = eap-mschapv2\n round = first }"),
	     "connections.gw.remote-2.round: expected a number in 0..4294967295"},
	    {GW("local-2 { auth = eap-mschapv2\n id = XY=1 }"),
	     "connections.gw.local-2.id: unknown DN attribute 'XY'"},
	    /* each method where it can be, as in round 1 */
	    {GW("local-2 { auth = eap-radius }"),
	     "connections.gw.local-2.auth: eap-radius is for remote.auth"},
	    {GW("local-2 { auth = eap-dynamic }"),
	     "connections.gw.local-2.auth: eap-dynamic is for remote.auth"},
	    {GW("remote-2 { auth = eap-mschapv2\n groups = staff }"),
	     "connections.gw.remote-2.groups: groups are the RADIUS Class of the user: they need "
	     "remote-2.auth = eap-radius"},
	    {"x:connections { gw { remote-2 { auth = eap-radius } } }",
	     "connections.gw.remote-2.auth: eap-radius needs tunsec { radius { servers"},
	    /* EAP-TLS: the round's own end, and round 1's other one */
	    {GW("remote-2 { auth = eap-tls }"),
	     "connections.gw.local: remote-2.auth = eap-tls needs local.certs (the certificate we "
	     "serve EAP-TLS with)"},
	    {GW("local-2 { auth = eap-tls }"),
	     "connections.gw.local-2: local-2.auth = eap-tls needs local-2.certs (the user "
	     "certificate we log in with)"},
	    /* auth = eap: any method, both ends */
	    {GW("local-2 { auth = eap }"), NULL},
	    {GW("remote-2 { auth = EAP }"), NULL},
	    /* RFC 5998 §4: EAP on both ends of round 1 (EAP-only) with a
	     * mutual, key-making method only: EAP-TLS (accepted in
	     * tests/interop/eap_only.sh, with certificates) */
	    {GW("local { auth = eap-mschapv2 }\n remote { auth = eap-mschapv2 }"),
	     "connections.gw.local.auth: EAP-only authentication (EAP on both ends, RFC 5998) "
	     "needs eap-tls on both"},
	    {GW("local { auth = eap-tls }\n remote { auth = eap }"),
	     "connections.gw.local.auth: EAP-only authentication"},
	    {GW("local { auth = eap-tls }\n remote { auth = eap-radius }"),
	     "connections.gw.local.auth: EAP-only authentication"},
	};
#undef GW

	check_conn_cases(cases, sizeof(cases) / sizeof(cases[0]), __LINE__);
}

/* The exact file:line of a third round: its own section's. */
TEST(config_swanctl_conf5_auth_rounds_third_file_line)
{
	static const char text[] = "connections {\n"
	                           "\tgw {\n"
	                           "\t\tlocal { auth = psk }\n"
	                           "\t\tremote { auth = psk }\n"
	                           "\t\tlocal2 { auth = eap-mschapv2 }\n"
	                           "\t\tlocalfoo {\n"
	                           "\t\t\tauth = eap-mschapv2\n"
	                           "\t\t}\n"
	                           "\t\tchildren { net { } }\n"
	                           "\t}\n"
	                           "}\n";
	struct tunsec_config c;
	struct scratch s;
	char want[PATH_MAX + 256], path[PATH_MAX], err[1024] = "";

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	CHECK_EQ(load_text(&s, text, &c, err, sizeof(err)), -1);
	fmt(want, sizeof(want),
	    "%s:6: connections.gw.localfoo: a third local authentication round is not supported "
	    "(two at most, RFC 4739; local and local2 are the first two)",
	    scratch_path(&s, "ike.conf", path, sizeof(path)));
	if (strcmp(err, want) != 0)
		test_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"", err, want);
	scratch_remove(&s);
}

/* EAP-TLS in round 2 needs the first round's other end: the server's CA
 * when we log in with a certificate (local-2), which round 1's psk does
 * not give. */
TEST(config_swanctl_conf5_auth_rounds_eap_tls_cross_round)
{
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	scratch_write(&s, "u.pem", "-\n");
	scratch_write(&s, "users.pem", "-\n");
	check_conn_error(&s, "x:connections { gw { local-2 { auth = eap-tls\n certs = u.pem } } }",
	                 "connections.gw.remote: local-2.auth = eap-tls needs remote.cacerts (the CA "
	                 "of the EAP-TLS server's certificate)",
	                 __LINE__);
	check_conn_error(&s,
	                 "x:connections { gw { remote-2 { auth = eap-tls\n cacerts = users.pem } } }",
	                 "connections.gw.local: remote-2.auth = eap-tls needs local.certs", __LINE__);
	check_conn_error(&s,
	                 "x:connections { gw { local { certs = users.pem }\n remote-2 { auth = eap-tls\n "
	                 "cacerts = users.pem } } }",
	                 NULL, __LINE__);
	scratch_remove(&s);
}

/* Malformed values, each with file:line and the key. */
TEST(config_swanctl_conf5_bad_values_file_line)
{
	static const struct conn_case cases[] = {
	    /* durations: swanctl.conf(5) "time" values */
	    {"c:rekey_time = 4x", "connections.gw.rekey_time: expected a duration"},
	    {"c:dpd_delay = -1", "connections.gw.dpd_delay: expected a duration"},
	    {"c:over_time = 1hh", "connections.gw.over_time: expected a duration"},
	    {"c:rand_time = 0x10", "connections.gw.rand_time: expected a duration"},
	    {"c:rekey_time = 99999999999", "connections.gw.rekey_time: expected a duration"},
	    {"c:rekey_time = 1H", NULL},
	    /* milliseconds: ours, not strongSwan's (tests, labs) */
	    {"c:dpd_delay = 500ms", NULL},
	    {"c:dpd_delay = 500 MS", NULL},
	    {"c:dpd_delay = 500mss", "connections.gw.dpd_delay: expected a duration"},
	    {"c:dpd_delay = 5m5", "connections.gw.dpd_delay: expected a duration"},
	    {"ch:rekey_time = 1500ms\n life_time = 1s",
	     "connections.gw.children.net.life_time: must be more than rekey_time (1500ms)"},
	    {"ch:life_time = 30d", NULL},
	    {"ch:rekey_bytes = 1T", "connections.gw.children.net.rekey_bytes: expected a byte"},
	    {"ch:rekey_bytes = 99999999999G", "rekey_bytes: expected a byte count"},
	    {"ch:rekey_packets = 1k", "rekey_packets: expected a packet count"},
	    {"ch:replay_window = 65537", "replay_window: expected a number in 0..65536"},
	    /* lifetimes: hard above soft; rand below rekey */
	    {"ch:rekey_time = 1h\n life_time = 1h",
	     "connections.gw.children.net.life_time: must be more than rekey_time (3600s)"},
	    {"ch:rekey_bytes = 2M\n life_bytes = 1M", "life_bytes: must be more than rekey_bytes"},
	    {"ch:rekey_packets = 5\n life_packets = 5", "life_packets: must be more than"},
	    {"ch:rekey_time = 1h\n rand_time = 1h",
	     "connections.gw.children.net.rand_time: must be less than the rekey time (3600s)"},
	    {"c:rekey_time = 1h\n rand_time = 2h", "connections.gw.rand_time: must be less than"},
	    {"ch:rekey_time = 0\n life_time = 10m", NULL},
	    /* addresses: literals, subnets and %any only */
	    {"c:local_addrs = vpn.example.org",
	     "connections.gw.local_addrs: 'vpn.example.org': host names are not supported; "
	     "give an address"},
	    {"c:local_addrs = 10.0.0.1-10.0.0.5", "address ranges are not supported"},
	    {"c:local_addrs = 10.0.0.0/33", "'10.0.0.0/33' is not an address or CIDR subnet"},
	    {"c:local_addrs = 10.0.0.1,", "connections.gw.local_addrs: malformed list"},
	    {"c:local_addrs = %any, 192.0.2.1", NULL},
	    /* ids ('#' starts a comment: quote @#hex, as in strongSwan) */
	    {"r:id = @#0102", "connections.gw.remote.id: empty identity"},
	    {"r:id = \"@#0102\"", NULL},
	    {"l:id = XY=1", "connections.gw.local.id: unknown DN attribute 'XY'"},
	    {"r:id = \"@#12345\"", "connections.gw.remote.id: expected an even number of hex"},
	    {"r:id = 10.0.0.0/8", "connections.gw.remote.id: '10.0.0.0/8': address ranges"},
	    {"s:id = \"@#zz\"", "secrets.ike-1.id: expected hex digits"},
	    /* proposals, by the engine's parser */
	    {"c:proposals = 3des-sha256-modp2048", "connections.gw.proposals: 3des"},
	    {"c:proposals = aes128-sha256-modp1024", "connections.gw.proposals: modp1024"},
	    {"t:legacy_groups = yes\n}\nconnections { gw { proposals = aes128-sha256-modp1024 } }\n"
	     "tunsec {",
	     NULL},
	    {"ch:esp_proposals = aes128-md5", "connections.gw.children.net.esp_proposals: md5"},
	    /* SHA-1 never dropped silently: an error naming it and the option
	     * (tunsec.legacy), or taken with tunsec.legacy = yes */
	    {"c:proposals = aes256-sha256-sha1-modp1024",
	     "connections.gw.proposals: sha1: refused: HMAC-SHA1-96 is being phased out (RFC 8247 "
	     "§2.3, RFC 8221 §6); allowed only with tunsec.legacy = yes"},
	    {"ch:esp_proposals = aes256-sha1", "esp_proposals: sha1: refused"},
	    {"t:legacy_groups = yes\n}\nconnections { gw { proposals = aes256-sha1-modp1024 } }\n"
	     "tunsec {",
	     "sha1: refused"},
	    {"t:legacy = yes\n}\nconnections { gw { proposals = aes256-sha256-sha1-modp1024\n"
	     "children { net { esp_proposals = aes256-sha1 } } } }\ntunsec {",
	     NULL},
	    {"t:legacy = yes\n}\nconnections { gw { proposals = 3des-sha1-modp1024 } }\ntunsec {",
	     "3des: refused"},
	    {"c:proposals =", "connections.gw.proposals: expected proposals, got nothing"},
	    /* enumerations */
	    {"c:fragmentation = maybe",
	     "connections.gw.fragmentation: expected yes, accept, force or no"},
	    {"c:send_cert = sometimes", "connections.gw.send_cert: expected ifasked, always or never"},
	    {"c:encap = perhaps", "connections.gw.encap: expected yes or no"},
	    {"c:send_certreq = disabled", NULL},
	    {"ch:dpd_action = hold",
	     "connections.gw.children.net.dpd_action: expected clear, none, trap or restart"},
	    {"ch:close_action = start", "close_action: expected clear, none, trap or restart"},
	    {"l:auth = none",
	     "connections.gw.local.auth: expected psk, pubkey, eap, eap-mschapv2, eap-tls, eap-radius or "
	     "eap-dynamic"},
	    /* traffic selectors */
	    {"ch:local_ts = 10.0.0.0/8, dynamic", "dynamic (the IKE address) cannot be combined"},
	    {"ch:local_ts = dynamic[tcp/80]", "protocols and ports with dynamic are not supported"},
	    {"ch:local_ts = 10.0.0.0/8[tcp/80", "expected [protocol] or [protocol/port]"},
	    {"ch:local_ts = 10.0.0.0/8[foo]", "unknown protocol 'foo'"},
	    {"ch:local_ts = 10.0.0.0/8[icmp/8]", "ports need tcp, udp, sctp or udplite"},
	    {"ch:local_ts = 10.0.0.0/8[tcp/http]", "service names are not supported"},
	    {"ch:local_ts = 10.0.0.0/8[tcp/90-80]", "expected a port number or range"},
	    {"ch:local_ts = 10.0.0.9-10.0.0.1", "is not a subnet in CIDR notation or an address"},
	    {"ch:local_ts = 0.0.0.0/0, ::/0", NULL},
	    {"ch:local_ts = dynamic\n remote_ts = 10.0.0.0/8[47]", NULL},
	    /* start/trap initiate: a host to send to */
	    {"c:remote_addrs = 198.51.100.0/24\n children { net { start_action = start } }",
	     "connections.gw.children.net.start_action: start needs a remote host address in "
	     "connections.gw.remote_addrs"},
	    {"c:remote_addrs = %any\n children { net { start_action = trap } }",
	     "start_action: trap needs a remote host"},
	    {"ch:start_action = start", NULL},
	    /* tunsec */
	    {"t:cookie_threshold = many", "tunsec.cookie_threshold: expected a number"},
	    {"t:legacy_groups = 2", "tunsec.legacy_groups: expected yes or no"},
	    /* tunsec.radius (strongSwan's eap-radius keys) */
	    {"t:other { }", "tunsec.other: unknown section"},
	    {"t:radius { }", "tunsec.radius: no servers { NAME { address, secret } }"},
	    {"t:radius { foo = 1 }", "tunsec.radius.foo: unknown key"},
	    {"t:radius { servers { a = 1 } }", "tunsec.radius.servers.a: unknown key (each server"},
	    {"t:radius { servers { a { address = rad.example\n secret = s } } }",
	     "tunsec.radius.servers.a.address: 'rad.example' is not an IPv4 or IPv6 host address"},
	    {"t:radius { servers { a { address = 0.0.0.0\n secret = s } } }",
	     "is not an IPv4 or IPv6 host address"},
	    {"t:radius { servers { a { address = 127.0.0.1 } } }",
	     "tunsec.radius.servers.a.secret: required but missing"},
	    {"t:radius { retransmit_tries = 0\n servers { a { address = ::1\n secret = s } } }",
	     "tunsec.radius.retransmit_tries: expected a number in 1..20"},
	    {"t:radius { accounting_interval = soon\n servers { a { address = ::1\n secret = s } "
	     "} }",
	     "tunsec.radius.accounting_interval: expected a duration"},
	    {"t:radius { accounting = yes\n accounting_interval = 10m\n servers { a { address = "
	     "127.0.0.1\n secret = s\n auth_port = 18120 } b { address = ::1\n secret = t } } "
	     "}\n}\nconnections { gw { remote { auth = eap-radius } } }\ntunsec {",
	     NULL},
	    /* secrets */
	    {"s:secret = 0x0g", "secrets.ike-1.secret: malformed hex after 0x"},
	    {"s:secret = 0s!!!!", "secrets.ike-1.secret: malformed base64 after 0s"},
	    {"s:secret = \"\"", "secrets.ike-1.secret: expected 1..256 bytes"},
	    {"x:secrets { ike-2 { id = a } }", "secrets.ike-2.secret: required but missing"},
	};

	check_conn_cases(cases, sizeof(cases) / sizeof(cases[0]), __LINE__);
}

/* The exact file:line of one error, to show the line is the key's own. */
TEST(config_swanctl_conf5_error_line_is_the_keys)
{
	struct tunsec_config c;
	struct scratch s;
	char text[4096], want[PATH_MAX + 128], path[PATH_MAX], err[512] = "";
	unsigned line = 0;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	fmt(text, sizeof(text), "%s", full_conn);
	/* the line of "proposals = ..." in full_conn */
	for (const char *p = text; p < strstr(text, "\t\tproposals"); p++)
		line += *p == '\n';
	line++;
	memcpy(strstr(text, "aes256gcm16-prfsha384"), "3des-sha256-modp2048", 20);
	CHECK_EQ(load_text(&s, text, &c, err, sizeof(err)), -1);
	fmt(want, sizeof(want), "%s:%u: connections.gw.proposals: 3des",
	    scratch_path(&s, "ike.conf", path, sizeof(path)), line);
	if (strncmp(err, want, strlen(want)) != 0)
		test_fail(__FILE__, __LINE__, "got \"%s\", want \"%s...\"", err, want);
	scratch_remove(&s);
}

static void check_psk(const struct scratch *s, const char *conn_extra, const char *secrets,
                      const char *want, size_t want_len, int line)
{
	struct tunsec_config c;
	char text[4096], err[512] = "";

	fmt(text, sizeof(text),
	    "connections {\n"
	    "\tgw {\n"
	    "\t\tlocal_addrs = 192.0.2.1\n"
	    "\t\tremote_addrs = 198.51.100.7\n"
	    "\t\t%s\n"
	    "\t\tchildren { net { } }\n"
	    "\t}\n"
	    "}\n"
	    "secrets {\n%s\n}\n",
	    conn_extra, secrets);
	if (load_text(s, text, &c, err, sizeof(err)) < 0) {
		test_fail(__FILE__, line, "%s", err);
		return;
	}
	if (c.conns[0].psk_len != want_len || memcmp(c.conns[0].psk, want, want_len) != 0)
		test_fail(__FILE__, line, "wrong PSK (%zu bytes)", c.conns[0].psk_len);
	config_free(&c);
}

/*
 * Which secrets.ike-* a connection takes: strongSwan's best match of the
 * secret's ids against our and the peer's identity (an unset id is the
 * address), a secret without ids matching anything at the lowest rank.
 */
TEST(config_secrets_ike_best_match_as_strongswan)
{
	static const char psk_ids[] = "local { auth = psk\n id = @sun.example.org }\n"
	                              "remote { auth = psk\n id = carol@example.org }";
	struct tunsec_config c;
	struct scratch s;
	char text[2048], err[512] = "";

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	/* by remote id, over one without ids */
	check_psk(&s, psk_ids,
	          "ike-any { secret = any }\n"
	          "ike-carol { id = carol@example.org\n secret = carol }\n"
	          "ike-dave { id = dave@example.org\n secret = dave }",
	          "carol", 5, __LINE__);
	/* by local id */
	check_psk(&s, psk_ids,
	          "ike-any { secret = any }\n"
	          "ike-sun { id = @sun.example.org\n secret = sun }",
	          "sun", 3, __LINE__);
	/* both ids beat one (first of two equal ones wins) */
	check_psk(&s, psk_ids,
	          "ike-carol { id = carol@example.org\n secret = carol }\n"
	          "ike-both { id = @sun.example.org\n id-2 = carol@example.org\n secret = both }",
	          "both", 4, __LINE__);
	/* a wildcard id; an exact one is better */
	check_psk(&s, psk_ids,
	          "ike-wc { id = *@example.org\n secret = wc }\n"
	          "ike-other { id = *@example.com\n secret = other }",
	          "wc", 2, __LINE__);
	check_psk(&s, psk_ids,
	          "ike-wc { id = *@example.org\n secret = wc }\n"
	          "ike-carol { id = carol@example.org\n secret = carol }",
	          "carol", 5, __LINE__);
	/* no ids configured: the addresses are the ids */
	check_psk(&s, "local { auth = psk }\n remote { auth = psk }",
	          "ike-any { secret = any }\n"
	          "ike-peer { id = 198.51.100.7\n secret = peer }",
	          "peer", 4, __LINE__);
	/* without ids: matches anything */
	check_psk(&s, psk_ids, "ike { secret = any }", "any", 3, __LINE__);
	/* strongSwan's encodings: 0x hex, 0s base64 */
	check_psk(&s, psk_ids, "ike { secret = 0x0001fffe }", "\x00\x01\xff\xfe", 4, __LINE__);
	check_psk(&s, psk_ids, "ike { secret = 0sAAH//g== }", "\x00\x01\xff\xfe", 4, __LINE__);
	check_psk(&s, psk_ids, "ike { secret = \"0 spaces # kept\" }", "0 spaces # kept", 15,
	          __LINE__);
	/* only one end psk: a secret is still needed */
	check_psk(&s, "local { auth = pubkey }\n remote { auth = psk }", "ike { secret = one }",
	          "one", 3, __LINE__);

	/* nothing matches: the connection and both ids are named */
	fmt(text, sizeof(text),
	    "connections {\n\tgw {\n\t\t%s\n\t\tchildren { net { } }\n\t}\n}\n"
	    "secrets {\n\tike-dave { id = dave@example.org\n secret = dave }\n}\n",
	    psk_ids);
	CHECK_EQ(load_text(&s, text, &c, err, sizeof(err)), -1);
	if (!strstr(err, "ike.conf:2: connections.gw: no secrets.ike-* for IDs sun.example.org "
	                 "and carol@example.org"))
		test_fail(__FILE__, __LINE__, "%s", err);
	/* no secrets section at all */
	fmt(text, sizeof(text), "connections {\n\tgw {\n\t\t%s\n\t\tchildren { net { } }\n\t}\n}\n",
	    "local { auth = psk }");
	CHECK_EQ(load_text(&s, text, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "connections.gw: no secrets.ike-* for IDs %any and %any") != NULL);
	/* too long for IKE_PSK_MAX */
	{
		char big[400];

		memset(big, 'k', 300);
		big[300] = '\0';
		fmt(text, sizeof(text),
		    "connections {\n\tgw {\n\t\tlocal { auth = psk }\n\t\tchildren { net { } }\n"
		    "\t}\n}\nsecrets {\n\tike { secret = %s }\n}\n",
		    big);
		CHECK_EQ(load_text(&s, text, &c, err, sizeof(err)), -1);
		CHECK(strstr(err, "secrets.ike.secret: expected 1..256 bytes") != NULL);
		CHECK(strstr(err, "kkkk") == NULL);
	}
	scratch_remove(&s);
}

/*
 * certs / cacerts / secrets.private*.file: relative to the file that names
 * them (an included one: its own directory), or in swanctl's x509, x509ca,
 * private... subdirectory there; must exist.
 */
TEST(config_cert_and_key_paths_resolved_and_checked)
{
	struct tunsec_config c;
	struct scratch s;
	char path[PATH_MAX], want[PATH_MAX], real_dir[PATH_MAX], err[1024] = "";

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	scratch_mkdir(&s, "conf.d");
	scratch_mkdir(&s, "conf.d/x509ca");
	scratch_mkdir(&s, "certs");
	scratch_mkdir(&s, "private");
	scratch_write(&s, "certs/sun.pem", "-\n");
	scratch_write(&s, "conf.d/x509ca/ca.pem", "-\n");
	scratch_write(&s, "conf.d/ca2.pem", "-\n");
	scratch_write(&s, "private/sun.key", "-\n");
	scratch_write(&s, "abs.pem", "-\n");
	scratch_write(&s, "conf.d/gw.conf",
	              "gw {\n"
	              "\tremote_addrs = 198.51.100.7\n"
	              "\tlocal { certs = ../certs/sun.pem }\n"
	              "\tremote { cacerts = ca.pem, ca2.pem }\n"
	              "\tchildren { net { } }\n"
	              "}\n");
	fmt(path, sizeof(path), "%s/abs.pem", s.dir);
	{
		char text[PATH_MAX + 256];

		fmt(text, sizeof(text),
		    "connections {\n\tinclude conf.d/*.conf\n}\n"
		    "secrets {\n\tprivate-sun { file = sun.key }\n\tecdsa-x { file = %s }\n}\n",
		    path);
		if (load_text(&s, text, &c, err, sizeof(err)) < 0) {
			test_fail(__FILE__, __LINE__, "%s", err);
			scratch_remove(&s);
			return;
		}
	}
	if (!realpath(s.dir, real_dir)) {
		test_fail(__FILE__, __LINE__, "realpath");
		config_free(&c);
		scratch_remove(&s);
		return;
	}
	CHECK_EQ(c.conns[0].local.n_certs, 1);
	fmt(want, sizeof(want), "%s/certs/sun.pem", real_dir);
	CHECK(strcmp(c.conns[0].local.certs[0], want) == 0);
	CHECK_EQ(c.conns[0].remote.n_certs, 2);
	fmt(want, sizeof(want), "%s/conf.d/x509ca/ca.pem", real_dir);
	CHECK(strcmp(c.conns[0].remote.certs[0], want) == 0);
	fmt(want, sizeof(want), "%s/conf.d/ca2.pem", real_dir);
	CHECK(strcmp(c.conns[0].remote.certs[1], want) == 0);
	CHECK_EQ(c.n_key_files, 2);
	fmt(want, sizeof(want), "%s/private/sun.key", real_dir);
	CHECK(strcmp(c.key_files[0], want) == 0);
	fmt(want, sizeof(want), "%s/abs.pem", real_dir);
	CHECK(strcmp(c.key_files[1], want) == 0);
	config_free(&c);

	/* a missing file: named, with file:line of the key */
	scratch_write(&s, "conf.d/gw.conf",
	              "gw {\n"
	              "\tlocal { certs = ../certs/sun.pem, nope.pem }\n"
	              "\tchildren { net { } }\n"
	              "}\n");
	CHECK_EQ(load_text(&s, "connections {\n\tinclude conf.d/*.conf\n}\n", &c, err,
	                   sizeof(err)),
	         -1);
	fmt(want, sizeof(want), "%s/conf.d/gw.conf:2: connections.gw.local.certs: %s/conf.d/nope.pem: "
	    "No such file or directory", s.dir, s.dir);
	if (strcmp(err, want) != 0)
		test_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"", err, want);
	CHECK_EQ(load_text(&s, "secrets {\n\trsa { file = gone.key }\n}\n", &c, err, sizeof(err)),
	         -1);
	CHECK(strstr(err, "ike.conf:2: secrets.rsa.file: ") && strstr(err, "gone.key: No such"));
	CHECK_EQ(load_text(&s, "secrets {\n\tpkcs8 { }\n}\n", &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "ike.conf:2: secrets.pkcs8.file: required but missing") != NULL);
	scratch_remove(&s);
}

/* RFC 8200 §5's 1280 bytes once a connection carries IPv6 inside, given
 * or (dynamic selectors) through its IPv6 addresses. */
TEST(config_mtu_rfc8200_5_connections)
{
	static const struct {
		const char *extra;
		bool ok;
	} cases[] = {
	    {"ch:local_ts = 10.0.0.0/8\n remote_ts = 10.1.0.0/16", true},
	    {"ch:local_ts = 10.0.0.0/8\n remote_ts = fd00::/64", false},
	    {"c:remote_addrs = 2001:db8::1", false},
	    {"c:remote_addrs = 2001:db8::1\n children { net { local_ts = 10.0.0.0/8\n "
	     "remote_ts = 10.1.0.0/16 } }",
	     true},
	};
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tunsec_config c;
		char text[4096], body[1024], err[512] = "";
		int rc;

		conn_text(body, sizeof(body), cases[i].extra);
		fmt(text, sizeof(text), "%s\ntunsec {\n\tmtu = 1000\n}\n", body);
		rc = load_text(&s, text, &c, err, sizeof(err));
		if (cases[i].ok) {
			if (rc != 0)
				test_fail(__FILE__, __LINE__, "case %zu: %s", i, err);
			else
				config_free(&c);
		} else if (rc != -1 || !strstr(err, "tunsec.mtu: expected 0 (automatic) or "
		                                     "1280..1500 (IPv6 in use)")) {
			test_fail(__FILE__, __LINE__, "case %zu: %s", i, err);
		}
	}
	scratch_remove(&s);
}

/* strongswan.conf(5)'s charon.retransmit_* as tunsec keys (RFC 7296 §2.1). */
TEST(config_tunsec_retransmit_rfc7296_2_1)
{
	static const struct {
		const char *text;
		const char *err; /* NULL: loads */
		unsigned timeout_ms, base, tries;
		bool none;
	} cases[] = {
	    {"tunsec {\n}\n", NULL, 0, 0, 0, false},
	    {"tunsec {\n retransmit_timeout = 0.5\n retransmit_base = 1.5\n retransmit_tries = 3\n}\n",
	     NULL, 500, 1500, 3, false},
	    {"tunsec {\n retransmit_tries = 0\n}\n", NULL, 0, 0, 0, true},
	    {"tunsec {\n retransmit_timeout = 0.01\n}\n", "tunsec.retransmit_timeout", 0, 0, 0,
	     false},
	    {"tunsec {\n retransmit_base = 5\n}\n", "tunsec.retransmit_base", 0, 0, 0, false},
	    {"tunsec {\n retransmit_timeout = 2s\n}\n", "tunsec.retransmit_timeout", 0, 0, 0,
	     false},
	    {"tunsec {\n retransmit_tries = 21\n}\n", "tunsec.retransmit_tries", 0, 0, 0, false},
	};
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tunsec_config c;
		char err[512] = "";
		int rc = load_text(&s, cases[i].text, &c, err, sizeof(err));

		if (cases[i].err) {
			CHECK(rc < 0);
			if (!strstr(err, cases[i].err))
				test_fail(__FILE__, __LINE__, "case %zu: '%s'", i, err);
			continue;
		}
		REQUIRE_EQ(rc, 0);
		CHECK_EQ(c.retransmit_timeout_ms, cases[i].timeout_ms);
		CHECK_EQ(c.retransmit_base, cases[i].base);
		CHECK_EQ(c.retransmit_tries, cases[i].tries);
		CHECK_EQ(c.no_retransmit, cases[i].none);
		config_free(&c);
	}
	scratch_remove(&s);
}

/* ---------------------------------------------------------------------- */
/* pools { } and connections.NAME.pools / unique (swanctl.conf(5)) */

static const char rw_conf[] =
    "connections {\n"
    "\trw {\n"
    "\t\tremote_addrs = %any\n"
    "\t\tpools = rw4, rw6, lab\n"
    "\t\tunique = replace\n"
    "\t\tlocal { auth = psk }\n"
    "\t\tremote { auth = psk }\n"
    "\t\tchildren { net { local_ts = 0.0.0.0/0, ::/0 } }\n"
    "\t}\n"
    "\tplain {\n"
    "\t\tremote_addrs = 198.51.100.7\n"
    "\t\tlocal { auth = psk }\n"
    "\t\tremote { auth = psk }\n"
    "\t\tchildren { net { } }\n"
    "\t}\n"
    "}\n"
    "secrets { ike-1 { secret = 0x00112233 } }\n"
    "# pools after the connections that name them\n"
    "pools {\n"
    "\trw4 {\n"
    "\t\taddrs = 10.10.0.0/24\n"
    "\t\tdns = 10.10.0.1, 2001:db8::53\n"
    "\t\tnbns = 10.10.0.2\n"
    "\t\tsplit_include = 10.0.0.0/8, 192.168.1.0/24, 2001:db8::/32\n"
    "\t}\n"
    "\trw6 {\n"
    "\t\taddrs = fd00:10::/64\n"
    "\t\tdns = fd00:10::53\n"
    "\t}\n"
    "\tlab { addrs = 10.20.0.10-10.20.0.100 }\n"
    "}\n";

static bool addr_is(int family, const uint8_t *a, const char *text)
{
	uint8_t want[16] = {0};

	return inet_pton(family, text, want) == 1 &&
	       memcmp(a, want, family == AF_INET ? 4 : 16) == 0;
}

/* RFC 7296 section 2.19: the addresses a road warrior gets, and section
 * 3.15.1 attributes pushed with them. */
TEST(config_swanctl_conf5_pools_rfc7296_2_19)
{
	struct tunsec_config c;
	struct scratch s;
	struct pool_stats st;
	struct pool *p;
	char err[512] = "";
	const struct cfg_pool *pl;
	const struct cfg_conn *cc;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	if (load_text(&s, rw_conf, &c, err, sizeof(err)) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err);
		scratch_remove(&s);
		return;
	}
	REQUIRE_EQ(c.n_pools, 3);
	pl = &c.pools[0];
	CHECK_STREQ(pl->name, "rw4");
	CHECK_EQ(pl->family, AF_INET);
	/* strongSwan: a /24 without its network and broadcast addresses */
	CHECK(addr_is(AF_INET, pl->start, "10.10.0.1"));
	CHECK(addr_is(AF_INET, pl->end, "10.10.0.254"));
	CHECK_EQ(pl->n_dns, 2);
	CHECK_EQ(pl->dns[0].family, AF_INET);
	CHECK(addr_is(AF_INET, pl->dns[0].addr, "10.10.0.1"));
	CHECK_EQ(pl->dns[1].family, AF_INET6);
	CHECK(addr_is(AF_INET6, pl->dns[1].addr, "2001:db8::53"));
	CHECK_EQ(pl->n_nbns, 1);
	CHECK(addr_is(AF_INET, pl->nbns[0].addr, "10.10.0.2"));
	CHECK_EQ(pl->n_split_include, 3);
	CHECK_EQ(pl->split_include[1].prefix, 24);
	CHECK(addr_is(AF_INET, pl->split_include[1].addr, "192.168.1.0"));
	CHECK_EQ(pl->split_include[2].family, AF_INET6);
	/* the pool made from it: .1 first, 254 in all */
	p = pool_new(pl);
	REQUIRE(p != NULL);
	pool_stats(p, &st);
	CHECK_EQ(st.size, 254);
	pool_free(p);

	pl = &c.pools[1];
	CHECK_STREQ(pl->name, "rw6");
	CHECK_EQ(pl->family, AF_INET6);
	/* IPv6: only the subnet-router anycast address is left out */
	CHECK(addr_is(AF_INET6, pl->start, "fd00:10::1"));
	CHECK(addr_is(AF_INET6, pl->end, "fd00:10::ffff:ffff:ffff:ffff"));
	CHECK_EQ(pl->n_nbns, 0);
	CHECK_EQ(pl->n_split_include, 0);
	pl = &c.pools[2];
	CHECK(addr_is(AF_INET, pl->start, "10.20.0.10"));
	CHECK(addr_is(AF_INET, pl->end, "10.20.0.100"));
	CHECK_EQ(pl->n_dns, 0);

	REQUIRE_EQ(c.n_conns, 2);
	cc = &c.conns[0];
	CHECK_EQ(cc->n_pools, 3);
	CHECK_EQ(cc->pools[0], 0);
	CHECK_EQ(cc->pools[1], 1);
	CHECK_EQ(cc->pools[2], 2);
	CHECK_EQ(cc->unique, CFG_UNIQUE_REPLACE);
	/* defaults */
	cc = &c.conns[1];
	CHECK_EQ(cc->n_pools, 0);
	CHECK_EQ(cc->unique, CFG_UNIQUE_NO);
	config_free(&c);
	scratch_remove(&s);
}

TEST(config_swanctl_conf5_pools_and_unique_errors)
{
	static const struct {
		const char *extra, *err;
	} cases[] = {
	    /* unique: swanctl.conf(5)'s four values */
	    {"c:unique = never", NULL},
	    {"c:unique = KEEP", NULL},
	    {"c:unique = sometimes", "connections.gw.unique: expected no, never, keep or replace"},
	    /* addrs: one subnet, range or address */
	    {"x:pools { p { addrs = 10.9.0.5 } }", NULL},
	    {"x:pools { p { addrs = 10.9.0.0/30 } }", NULL},
	    {"x:pools { p { addrs = 0.0.0.0/0 } }", NULL},
	    {"x:pools { p { addrs = 2001:db8::/127 } }", NULL},
	    {"x:pools { p { addrs = 10.0.0.7-10.0.0.7 } }", NULL},
	    {"x:pools { p { addrs = 10.0.0.0/24\n foo = 1 } }", "pools.p.foo: unknown key"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n netmask = 255.255.255.0 } }",
	     "pools.p.netmask: unknown key"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n sub { } } }", "pools.p.sub: unknown section"},
	    {"x:pools { p { dns = 10.0.0.1 } }", "pools.p.addrs: required but missing"},
	    {"x:pools { k = v }", "pools.k: unknown key (each pool is a section"},
	    {"x:pools { p { addrs = 10.0.0.9-10.0.0.1 } }",
	     "pools.p.addrs: '10.0.0.9-10.0.0.1': empty range (FROM is above TO)"},
	    {"x:pools { p { addrs = 10.0.0.1-2001:db8::1 } }",
	     "pools.p.addrs: '10.0.0.1-2001:db8::1': FROM and TO are of different address "
	     "families"},
	    {"x:pools { p { addrs = 10.0.0.1- } }", "is not a subnet or an address range FROM-TO"},
	    {"x:pools { p { addrs = 10.0.0.0/31 } }",
	     "pools.p.addrs: '10.0.0.0/31' has no host address once the network and broadcast "
	     "address is left out"},
	    {"x:pools { p { addrs = 10.0.0.1/32 } }", "'10.0.0.1/32' has no host address"},
	    {"x:pools { p { addrs = 2001:db8::1/128 } }",
	     "'2001:db8::1/128' has no host address once the network address is left out"},
	    {"x:pools { p { addrs = 10.0.0.5/24 } }",
	     "pools.p.addrs: '10.0.0.5/24' has host bits set"},
	    {"x:pools { p { addrs = 10.0.0.0/24, 10.1.0.0/24 } }",
	     "pools.p.addrs: expected one subnet or range"},
	    {"x:pools { p { addrs = vpn.example.org } }",
	     "pools.p.addrs: 'vpn.example.org' is not a subnet or an address range FROM-TO"},
	    {"x:pools { p { addrs = 10.0.0.0/33 } }", "'10.0.0.0/33' is not a subnet"},
	    {"x:pools { p { addrs = } }", "pools.p.addrs: expected a subnet or a range FROM-TO, "
	                                  "got nothing"},
	    /* swanctl.conf(5): pools must not overlap */
	    {"x:pools { a { addrs = 10.0.0.0/24 }\n b { addrs = 10.0.0.200-10.0.1.5 } }",
	     "pools.b.addrs: overlaps pools.a"},
	    {"x:pools { a { addrs = 10.0.0.0/24 }\n b { addrs = 10.0.1.0/24 } }", NULL},
	    {"x:pools { a { addrs = 10.0.0.0/24 }\n b { addrs = ::a00:0/120 } }", NULL},
	    /* attributes */
	    {"x:pools { p { addrs = 10.0.0.0/24\n dns = 10.0.0.1, bogus } }",
	     "pools.p.dns: 'bogus' is not an IPv4 or IPv6 address"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n dns = 10.0.0.1/32 } }",
	     "pools.p.dns: '10.0.0.1/32' is not an IPv4 or IPv6 address"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n dns = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,"
	     "1.1.1.5,1.1.1.6,1.1.1.7,::8 } }",
	     NULL},
	    {"x:pools { p { addrs = 10.0.0.0/24\n dns = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,"
	     "1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9 } }",
	     "pools.p.dns: more than 8 addresses"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n dns = } }",
	     "pools.p.dns: expected at least one address"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n nbns = 2001:db8::1 } }",
	     "pools.p.nbns: '2001:db8::1' is not an IPv4 address (NBNS servers are IPv4 only"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n nbns = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,"
	     "1.1.1.5 } }",
	     "pools.p.nbns: more than 4 addresses"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n split_include = 10.0.0.1/8 } }",
	     "pools.p.split_include: '10.0.0.1/8' has host bits set"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n split_include = 10.0.0.0/8[tcp] } }",
	     "pools.p.split_include: '10.0.0.0/8[tcp]' is not a subnet in CIDR notation"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n split_include = 10.0.0.0/8,, } }",
	     "pools.p.split_include: malformed list"},
	    {"x:pools { p { addrs = 10.0.0.0/24\n split_include = 1.0.0.0/8,2.0.0.0/8,"
	     "3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,7.0.0.0/8,8.0.0.0/8,9.0.0.0/8,"
	     "11.0.0.0/8,12.0.0.0/8,13.0.0.0/8,14.0.0.0/8,15.0.0.0/8,16.0.0.0/8,17.0.0.0/8,"
	     "18.0.0.0/8 } }",
	     "pools.p.split_include: more than 16 subnets"},
	    /* connections.NAME.pools */
	    {"c:pools = nope", "connections.gw.pools: unknown pool 'nope' (no pools.nope section)"},
	    {"x:pools { p { addrs = 10.9.0.0/24 } }\nconnections { gw { pools = p, q } }",
	     "connections.gw.pools: unknown pool 'q'"},
	    {"x:pools { p { addrs = 10.9.0.0/24 } }\nconnections { gw { pools = p, p } }",
	     "connections.gw.pools: pool 'p' named twice"},
	    {"x:pools { a { addrs = 10.1.0.1 }\n b { addrs = 10.2.0.1 }\n c { addrs = 10.3.0.1 }\n"
	     " d { addrs = 10.4.0.1 }\n e { addrs = 10.5.0.1 } }\n"
	     "connections { gw { pools = a, b, c, d, e } }",
	     "connections.gw.pools: more than 4 pools"},
	    {"x:pools { a { addrs = 10.1.0.1 }\n b { addrs = 10.2.0.1 }\n c { addrs = 10.3.0.1 }\n"
	     " d { addrs = 10.4.0.1 } }\nconnections { gw { pools = a, b, c, d } }",
	     NULL},
	    {"c:pools =", "connections.gw.pools: expected pool names, got nothing"},
	    /* RFC 8200 section 5: an IPv6 pool puts IPv6 in the tunnel */
	    {"x:pools { p { addrs = fd00::/64 } }\nconnections { gw { pools = p } }\n"
	     "tunsec { mtu = 1000 }",
	     "tunsec.mtu: expected 0 (automatic) or 1280..1500 (IPv6 in use)"},
	    {"x:pools { p { addrs = 10.9.0.0/24 } }\nconnections { gw { pools = p } }\n"
	     "tunsec { mtu = 1000 }",
	     NULL},
	};
	struct scratch s;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_conn_error(&s, cases[i].extra, cases[i].err, __LINE__);
	scratch_remove(&s);
}

/* Errors in pools name the file and the key's own line; at most
 * CFG_MAX_POOLS pools. */
TEST(config_pools_error_file_line_and_limit)
{
	static char text[CFG_MAX_POOLS * 64 + 256];
	struct tunsec_config c;
	struct scratch s;
	char want[PATH_MAX + 128], path[PATH_MAX], err[512] = "";
	size_t off = 0;

	if (scratch_make(&s) < 0) {
		test_fail(__FILE__, __LINE__, "mkdtemp failed");
		return;
	}
	CHECK_EQ(load_text(&s,
	                   "pools {\n"
	                   "\tok { addrs = 10.0.0.0/24 }\n"
	                   "\tbad {\n"
	                   "\t\tdns = 10.0.0.1\n"
	                   "\t\taddrs = 10.1.0.9-10.1.0.1\n"
	                   "\t}\n"
	                   "}\n",
	                   &c, err, sizeof(err)),
	         -1);
	fmt(want, sizeof(want),
	    "%s:5: pools.bad.addrs: '10.1.0.9-10.1.0.1': empty range (FROM is above TO)",
	    scratch_path(&s, "ike.conf", path, sizeof(path)));
	CHECK_STREQ(err, want);

	off += (size_t)fmt(text + off, sizeof(text) - off, "pools {\n");
	for (int i = 0; i < CFG_MAX_POOLS; i++)
		off += (size_t)fmt(text + off, sizeof(text) - off, "\tp%d { addrs = 10.%d.0.0/16 }\n",
		                   i, i);
	fmt(text + off, sizeof(text) - off, "}\n");
	if (load_text(&s, text, &c, err, sizeof(err)) < 0)
		test_fail(__FILE__, __LINE__, "%s", err);
	else
		config_free(&c);
	fmt(text + off, sizeof(text) - off, "\textra { addrs = 10.200.0.1 }\n}\n");
	CHECK_EQ(load_text(&s, text, &c, err, sizeof(err)), -1);
	fmt(want, sizeof(want), "%s:%d: pools.extra: more than %d pools",
	    scratch_path(&s, "ike.conf", path, sizeof(path)), CFG_MAX_POOLS + 2, CFG_MAX_POOLS);
	CHECK_STREQ(err, want);
	scratch_remove(&s);
}
