/*
 * strongSwan settings syntax into a tree (see conftree.h for the grammar).
 *
 * A hand-written scanner over the whole file in memory: statements are
 * recognised by their first token (a name, '}' or the include keyword), so
 * newlines matter only where they end an unquoted value. Everything read
 * may hold key material, so file buffers and values are wiped before they
 * are freed.
 */
#include "daemon/conftree.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ike/wire.h"

struct conftree_file {
	struct conftree_file *next;
	char name[];
};

struct parser {
	struct conftree *t;
	char *err;
	size_t errlen;
	/* Files being read, outermost first: for cycles and the depth limit. */
	struct {
		dev_t dev;
		ino_t ino;
	} open[CONFTREE_MAX_DEPTH + 1];
	unsigned n_open;
};

struct lexer {
	const char *p, *end;
	const char *file;
	unsigned line;
};

static int fail(struct parser *ps, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct parser *ps, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!ps->err || ps->errlen == 0)
		return -1;
	if (file && line)
		n = snprintf(ps->err, ps->errlen, "%s:%u: ", file, line);
	else if (file)
		n = snprintf(ps->err, ps->errlen, "%s: ", file);
	if (n < 0)
		n = 0;
	if ((size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *intern_file(struct parser *ps, const char *name)
{
	size_t n = strlen(name);
	struct conftree_file *f = malloc(sizeof(*f) + n + 1);

	if (!f)
		return NULL;
	memcpy(f->name, name, n + 1);
	f->next = ps->t->files;
	ps->t->files = f;
	return f->name;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Blanks, newlines and comments. */
static void skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (is_blank(c)) {
			lx->p++;
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}
}

static void skip_blanks(struct lexer *lx)
{
	while (lx->p < lx->end && is_blank(*lx->p))
		lx->p++;
}

static struct conftree_section *section_get(struct conftree_section *parent, const char *name,
                                            size_t len, const char *file, unsigned line)
{
	struct conftree_section *s;

	for (s = parent->children; s; s = s->next)
		if (strlen(s->name) == len && memcmp(s->name, name, len) == 0)
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->name = strndup(name, len);
	if (!s->name) {
		free(s);
		return NULL;
	}
	s->file = file;
	s->line = line;
	s->parent = parent;
	if (parent->last_child)
		parent->last_child->next = s;
	else
		parent->children = s;
	parent->last_child = s;
	return s;
}

static void value_free(char *v)
{
	if (v) {
		sodium_memzero(v, strlen(v));
		free(v);
	}
}

/* Takes ownership of value, also on failure. */
static int kv_set(struct conftree_section *s, const char *key, size_t len, char *value,
                  const char *file, unsigned line)
{
	struct conftree_kv *kv;

	for (kv = s->kvs; kv; kv = kv->next)
		if (strlen(kv->key) == len && memcmp(kv->key, key, len) == 0)
			break;
	if (!kv) {
		kv = calloc(1, sizeof(*kv));
		if (!kv || !(kv->key = strndup(key, len))) {
			free(kv);
			value_free(value);
			return -1;
		}
		if (s->last_kv)
			s->last_kv->next = kv;
		else
			s->kvs = kv;
		s->last_kv = kv;
	}
	/* strongSwan semantics: the later assignment wins. */
	value_free(kv->value);
	kv->value = value;
	kv->file = file;
	kv->line = line;
	return 0;
}

/*
 * A value after '=' (or an include's file name): a quoted string, or the
 * rest of the line up to a comment or '}', trimmed. The cursor is left on
 * what ends it. Unescaping only shrinks, so one allocation of the raw
 * length suffices and no copy of a secret is left behind by a realloc.
 */
static int parse_value(struct parser *ps, struct lexer *lx, char **out)
{
	const char *start;
	char *v;
	size_t n = 0;

	skip_blanks(lx);
	if (lx->p < lx->end && *lx->p == '"') {
		unsigned open_line = lx->line;
		const char *q;

		lx->p++;
		for (q = lx->p; q < lx->end && *q != '"'; q++)
			if (*q == '\\' && q + 1 < lx->end)
				q++;
		if (q >= lx->end)
			return fail(ps, lx->file, open_line, "unterminated quoted string");
		v = malloc((size_t)(q - lx->p) + 1);
		if (!v)
			return fail(ps, lx->file, open_line, "out of memory");
		while (lx->p < q) {
			char c = *lx->p++;

			if (c == '\n')
				lx->line++;
			if (c == '\\') {
				c = *lx->p++;
				switch (c) {
				case '"':
				case '\\':
					break;
				case 'n':
					c = '\n';
					break;
				case 't':
					c = '\t';
					break;
				case 'r':
					c = '\r';
					break;
				default:
					v[n] = '\0';
					value_free(v);
					return fail(ps, lx->file, lx->line,
					            "unknown escape sequence in a quoted string "
					            "(known: \\\" \\\\ \\n \\t \\r)");
				}
			}
			v[n++] = c;
		}
		v[n] = '\0';
		lx->p = q + 1;
		skip_blanks(lx);
		if (lx->p < lx->end && *lx->p != '\n' && *lx->p != '#' && *lx->p != '}') {
			value_free(v);
			return fail(ps, lx->file, lx->line,
			            "unexpected text after a quoted string");
		}
		*out = v;
		return 0;
	}

	start = lx->p;
	while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '#' && *lx->p != '}') {
		if (*lx->p == '{' || *lx->p == '"')
			return fail(ps, lx->file, lx->line,
			            "'%c' inside an unquoted value (quote the value)", *lx->p);
		lx->p++;
	}
	n = (size_t)(lx->p - start);
	while (n > 0 && is_blank(start[n - 1]))
		n--;
	v = malloc(n + 1);
	if (!v)
		return fail(ps, lx->file, lx->line, "out of memory");
	memcpy(v, start, n);
	v[n] = '\0';
	*out = v;
	return 0;
}

static int load_file(struct parser *ps, const char *path, struct conftree_section *base,
                     const char *from_file, unsigned from_line);

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/*
 * include PATTERN: relative patterns are taken from the including file's
 * directory (strongswan.conf(5)), whose name is escaped so that glob(3)
 * does not read it as a pattern.
 */
static int do_include(struct parser *ps, struct lexer *lx, unsigned line, const char *pattern,
                      struct conftree_section *cur)
{
	const char *slash = strrchr(lx->file, '/');
	size_t dlen = slash && pattern[0] != '/' ? (size_t)(slash - lx->file) + 1 : 0;
	size_t plen = strlen(pattern);
	char *full;
	size_t n = 0;
	glob_t g;
	int rc;

	full = malloc(2 * dlen + plen + 1);
	if (!full)
		return fail(ps, lx->file, line, "out of memory");
	for (size_t i = 0; i < dlen; i++) {
		if (strchr("*?[]\\", lx->file[i]))
			full[n++] = '\\';
		full[n++] = lx->file[i];
	}
	memcpy(full + n, pattern, plen + 1);

	rc = glob(full, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		globfree(&g);
		free(full);
		/* As in strongSwan: a pattern may match nothing (an empty
		 * conf.d), a plain file name must exist. */
		if (has_glob_chars(pattern))
			return 0;
		return fail(ps, lx->file, line, "include %s: %s", pattern, strerror(ENOENT));
	}
	free(full);
	if (rc != 0) {
		globfree(&g);
		return fail(ps, lx->file, line, "include %s: %s", pattern,
		            rc == GLOB_NOSPACE ? "out of memory" : "cannot read the directory");
	}
	rc = 0;
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = load_file(ps, g.gl_pathv[i], cur, lx->file, line);
	globfree(&g);
	return rc;
}

static unsigned section_depth(const struct conftree_section *s)
{
	unsigned d = 0;

	for (; s->parent; s = s->parent)
		d++;
	return d;
}

/* Statements of one file (or buffer) into base; file is interned. */
static int parse_buf(struct parser *ps, const char *file, const char *buf, size_t len,
                     struct conftree_section *base)
{
	struct lexer lx = {buf, buf + len, file, 1};
	struct conftree_section *cur = base;
	/* Lines where this file opened the sections still open, for the
	 * message about a missing '}' (a reopened section's own line may be
	 * in another file). */
	unsigned open_line[CONFTREE_MAX_NESTING + 1];
	unsigned n_open = 0;

	if (memchr(buf, '\0', len)) {
		const char *z = memchr(buf, '\0', len);
		unsigned line = 1;

		for (const char *q = buf; q < z; q++)
			line += *q == '\n';
		return fail(ps, file, line, "NUL byte in the file");
	}

	for (;;) {
		const char *name;
		size_t nlen;
		unsigned line;
		char c;

		skip_space(&lx);
		if (lx.p >= lx.end) {
			if (cur != base)
				return fail(ps, file, open_line[n_open - 1],
				            "section %s is not closed (missing '}')", cur->name);
			return 0;
		}
		c = *lx.p;
		if (c == '}') {
			if (cur == base)
				return fail(ps, file, lx.line, "'}' without an open section");
			cur = cur->parent;
			n_open--;
			lx.p++;
			continue;
		}
		if (!is_name_char(c)) {
			if (c == '{')
				return fail(ps, file, lx.line, "'{' without a section name");
			if (c == '=')
				return fail(ps, file, lx.line, "'=' without a key name");
			if (c > ' ' && c < 0x7f)
				return fail(
				    ps, file, lx.line,
				    "syntax error: unexpected '%c' where a name was expected", c);
			return fail(
			    ps, file, lx.line,
			    "syntax error: unexpected byte 0x%02x where a name was expected",
			    (unsigned char)c);
		}

		name = lx.p;
		line = lx.line;
		while (lx.p < lx.end && is_name_char(*lx.p))
			lx.p++;
		nlen = (size_t)(lx.p - name);
		if (nlen > CONFTREE_NAME_MAX)
			return fail(ps, file, line, "name longer than %d bytes", CONFTREE_NAME_MAX);

		if (nlen == 7 && memcmp(name, "include", 7) == 0 && lx.p < lx.end &&
		    is_blank(*lx.p)) {
			const char *save = lx.p;

			skip_blanks(&lx);
			if (lx.p < lx.end && *lx.p != '=' && *lx.p != '{' && *lx.p != '\n' &&
			    *lx.p != '#') {
				char *pattern;
				int rc;

				if (parse_value(ps, &lx, &pattern) < 0)
					return -1;
				if (!pattern[0]) {
					value_free(pattern);
					return fail(ps, file, line, "include without a file name");
				}
				rc = do_include(ps, &lx, line, pattern, cur);
				value_free(pattern);
				if (rc < 0)
					return -1;
				continue;
			}
			lx.p = save;
		}

		skip_space(&lx);
		if (lx.p >= lx.end)
			return fail(ps, file, line,
			            "syntax error: expected '=' or '{' after a name");
		c = *lx.p;
		if (c == '{') {
			lx.p++;
			if (section_depth(cur) >= CONFTREE_MAX_NESTING)
				return fail(ps, file, line, "sections nested deeper than %d",
				            CONFTREE_MAX_NESTING);
			cur = section_get(cur, name, nlen, file, line);
			if (!cur)
				return fail(ps, file, line, "out of memory");
			open_line[n_open++] = line;
		} else if (c == '=') {
			char *value;

			lx.p++;
			if (parse_value(ps, &lx, &value) < 0)
				return -1;
			if (kv_set(cur, name, nlen, value, file, line) < 0)
				return fail(ps, file, line, "out of memory");
		} else if (c == ':') {
			return fail(ps, file, line,
			            "section templates (name : template { }) are not supported");
		} else if (c == '.') {
			return fail(ps, file, line, "'.' is not allowed in names");
		} else {
			return fail(ps, file, line,
			            "syntax error: expected '=' or '{' after a name");
		}
	}
}

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return 0;
}

int (*conftree_open)(const char *path);

static int load_file(struct parser *ps, const char *path, struct conftree_section *base,
                     const char *from_file, unsigned from_line)
{
	const char *name;
	struct stat st;
	char *buf;
	size_t cap, len = 0;
	int fd, rc;

	if (ps->n_open > CONFTREE_MAX_DEPTH)
		return fail(ps, from_file, from_line, "include %s: includes nested deeper than %d",
		            path, CONFTREE_MAX_DEPTH);
	fd = conftree_open ? conftree_open(path) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (from_file)
			return fail(ps, from_file, from_line, "include %s: %s", path,
			            strerror(errno));
		return fail(ps, path, 0, "%s", strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(ps, from_file ? from_file : path, from_line, "%s%s: not a regular file",
		            from_file ? "include " : "", path);
	}
	for (unsigned i = 0; i < ps->n_open; i++)
		if (ps->open[i].dev == st.st_dev && ps->open[i].ino == st.st_ino) {
			close(fd);
			return fail(ps, from_file, from_line,
			            "include %s: include cycle (the file is already being read)",
			            path);
		}
	if (st.st_size > (off_t)CONFTREE_MAX_FILE) {
		close(fd);
		return fail(ps, path, 0, "larger than %u bytes", CONFTREE_MAX_FILE);
	}
	/* One byte more than its size, to notice a file that grew meanwhile
	 * (we would otherwise parse a cut-off copy). */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return fail(ps, path, 0, "out of memory");
	}
	rc = read_all(fd, buf, cap, &len);
	close(fd);
	if (rc < 0 || len == cap) {
		sodium_memzero(buf, cap);
		free(buf);
		if (rc < 0)
			return fail(ps, path, 0, "%s", strerror(-rc));
		return fail(ps, path, 0, "changed while being read");
	}
	name = intern_file(ps, path);
	if (!name) {
		rc = fail(ps, path, 0, "out of memory");
	} else {
		ps->open[ps->n_open].dev = st.st_dev;
		ps->open[ps->n_open].ino = st.st_ino;
		ps->n_open++;
		rc = parse_buf(ps, name, buf, len, base);
		ps->n_open--;
	}
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int conftree_load(struct conftree *t, const char *path, char *err, size_t errlen)
{
	struct parser ps = {.t = t, .err = err, .errlen = errlen};

	memset(t, 0, sizeof(*t));
	t->root.name = "";
	if (load_file(&ps, path, &t->root, NULL, 0) < 0) {
		conftree_free(t);
		return -1;
	}
	return 0;
}

int conftree_load_buf(struct conftree *t, const char *name, const char *buf, size_t len, char *err,
                      size_t errlen)
{
	struct parser ps = {.t = t, .err = err, .errlen = errlen};
	const char *file;

	memset(t, 0, sizeof(*t));
	t->root.name = "";
	file = intern_file(&ps, name);
	if (!file) {
		fail(&ps, name, 0, "out of memory");
		return -1;
	}
	if (len > CONFTREE_MAX_FILE) {
		fail(&ps, name, 0, "larger than %u bytes", CONFTREE_MAX_FILE);
		conftree_free(t);
		return -1;
	}
	if (parse_buf(&ps, file, buf, len, &t->root) < 0) {
		conftree_free(t);
		return -1;
	}
	return 0;
}

static void section_free_contents(struct conftree_section *s)
{
	struct conftree_section *c, *cn;
	struct conftree_kv *kv, *kn;

	for (kv = s->kvs; kv; kv = kn) {
		kn = kv->next;
		value_free(kv->value);
		free(kv->key);
		free(kv);
	}
	for (c = s->children; c; c = cn) {
		cn = c->next;
		section_free_contents(c);
		free(c->name);
		free(c);
	}
}

void conftree_free(struct conftree *t)
{
	struct conftree_file *f, *fn;

	section_free_contents(&t->root);
	for (f = t->files; f; f = fn) {
		fn = f->next;
		free(f);
	}
	memset(t, 0, sizeof(*t));
	t->root.name = "";
}

const struct conftree_section *conftree_section(const struct conftree_section *s, const char *name)
{
	for (const struct conftree_section *c = s->children; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct conftree_kv *conftree_kv(const struct conftree_section *s, const char *key)
{
	for (const struct conftree_kv *kv = s->kvs; kv; kv = kv->next)
		if (strcmp(kv->key, key) == 0)
			return kv;
	return NULL;
}

int conftree_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "enabled", "1"};
	static const char *const no[] = {"no", "false", "off", "disabled", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Digits of base 10 or 16 up to the first non-digit; -1 on overflow or if
 * there are none. */
static int parse_digits(const char **sp, unsigned base, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int d;

	if ((d = wire_hex_digit(*s)) < 0 || (unsigned)d >= base)
		return -1;
	while ((d = wire_hex_digit(*s)) >= 0 && (unsigned)d < base) {
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return -1;
		v = v * base + (unsigned)d;
		s++;
	}
	*sp = s;
	*out = v;
	return 0;
}

int conftree_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (parse_digits(&s, base, &v) < 0 || *s != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int conftree_parse_time(const char *s, uint64_t max, uint64_t *secs)
{
	uint64_t v, mult = 1;

	if (parse_digits(&s, 10, &v) < 0)
		return -1;
	switch (*s) {
	case '\0':
		break;
	case 's':
		mult = 1;
		s++;
		break;
	case 'm':
		mult = 60;
		s++;
		break;
	case 'h':
		mult = 3600;
		s++;
		break;
	case 'd':
		mult = 86400;
		s++;
		break;
	default:
		return -1;
	}
	if (*s != '\0' || v > max / mult)
		return -1;
	*secs = v * mult;
	return 0;
}

int conftree_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t digits, n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	digits = strlen(s);
	if (digits == 0 || digits % 2)
		return -1;
	for (size_t i = 0; i < digits; i++)
		if (wire_hex_digit(s[i]) < 0)
			return -1;
	n = digits / 2;
	*len = n;
	if (n > cap)
		return -2;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(wire_hex_digit(s[2 * i]) << 4 | wire_hex_digit(s[2 * i + 1]));
	return 0;
}

void conftree_list_init(struct conftree_list *l, const char *value)
{
	l->next = value;
	l->first = true;
	l->done = false;
}

int conftree_list_next(struct conftree_list *l, char *buf, size_t cap)
{
	const char *p, *e, *comma;
	bool first = l->first;
	size_t n;

	if (l->done)
		return 0;
	l->first = false;
	p = l->next;
	comma = strchr(p, ',');
	e = comma ? comma : p + strlen(p);
	l->next = comma ? comma + 1 : e;
	l->done = !comma;
	while (p < e && (is_blank(*p) || *p == '\n'))
		p++;
	while (e > p && (is_blank(e[-1]) || e[-1] == '\n'))
		e--;
	n = (size_t)(e - p);
	if (n == 0) {
		if (first && !comma)
			return 0; /* an empty value: an empty list */
		return -1;
	}
	if (n >= cap)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 1;
}
