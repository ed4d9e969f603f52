/* Runner for the tests registered with TEST(); see test.h. */
#include "tests/unit/test.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

static struct test_case *tests;
static int current_failed;
/* Where test_abort() returns to: the runner, between two tests. */
static jmp_buf test_end;
static bool in_test;

void test_register(struct test_case *tc)
{
	tc->next = tests;
	tests = tc;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	current_failed = 1;
	fprintf(stdout, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void test_abort(void)
{
	/* A REQUIRE in a constructor or after main's loop has no test to end. */
	if (!in_test) {
		fputs("REQUIRE outside a test\n", stdout);
		abort();
	}
	longjmp(test_end, 1);
}

/* ---- messages ------------------------------------------------------------ */

/* A report is built here first, so that test_fail() prints it in one go. */
struct msg {
	char b[2048];
	size_t n;
};

__attribute__((format(printf, 2, 3))) static void msg_add(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (m->n >= sizeof(m->b) - 1)
		return;
	va_start(ap, fmt);
	r = vsnprintf(m->b + m->n, sizeof(m->b) - m->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		m->n += (size_t)r < sizeof(m->b) - m->n ? (size_t)r : sizeof(m->b) - 1 - m->n;
}

/* ---- CHECK_EQ / CHECK_NE -------------------------------------------------- */

/* Unsigned in hex too from 10 up: flags, SPIs and bytes read better so. */
static void val_add(struct msg *m, const struct test_val *v)
{
	switch (v->kind) {
	case TEST_SIGNED:
		msg_add(m, "%lld", v->s);
		break;
	case TEST_UNSIGNED:
		if (v->u >= 10)
			msg_add(m, "%llu (0x%llx)", v->u, v->u);
		else
			msg_add(m, "%llu", v->u);
		break;
	case TEST_FLOAT:
		msg_add(m, "%g", v->f);
		break;
	case TEST_PTR:
		msg_add(m, "%p", (void *)(uintptr_t)v->p);
		break;
	}
}

void test_report_eq(const char *file, int line, const char *what, const char *sa, const char *sb,
                    struct test_val a, struct test_val b, bool want_equal)
{
	struct msg m = {.n = 0};

	msg_add(&m, "%s(%s, %s): ", what, sa, sb);
	val_add(&m, &a);
	if (want_equal) {
		msg_add(&m, " != ");
		val_add(&m, &b);
	} else {
		msg_add(&m, " on both sides");
	}
	test_fail(file, line, "%s", m.b);
}

/* ---- CHECK_STREQ ------------------------------------------------------------ */

/* Quoted, control bytes escaped, cut short past a screenful. */
static void str_add(struct msg *m, const char *s)
{
	size_t i;

	if (!s) {
		msg_add(m, "NULL");
		return;
	}
	msg_add(m, "\"");
	for (i = 0; s[i] && i < 200; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			msg_add(m, "\\%c", c);
		else if (c == '\n')
			msg_add(m, "\\n");
		else if (isprint(c))
			msg_add(m, "%c", c);
		else
			msg_add(m, "\\x%02x", c);
	}
	msg_add(m, s[i] ? "\"..." : "\"");
}

bool test_check_streq(const char *file, int line, const char *what, const char *sa, const char *sb,
                      const char *a, const char *b)
{
	struct msg m = {.n = 0};
	size_t i = 0;

	if (a && b ? strcmp(a, b) == 0 : a == b)
		return true;
	msg_add(&m, "%s(%s, %s): ", what, sa, sb);
	str_add(&m, a);
	msg_add(&m, " != ");
	str_add(&m, b);
	if (a && b) {
		while (a[i] == b[i])
			i++;
		msg_add(&m, ", first difference at offset %zu", i);
	}
	test_fail(file, line, "%s", m.b);
	return false;
}

/* ---- CHECK_MEM -------------------------------------------------------------- */

enum { MEM_ROW = 16 };

/* One side of the window: its name (cut to width), then the row's bytes. */
static void mem_row(struct msg *m, int width, const char *name, const uint8_t *p, size_t from,
                    size_t to)
{
	msg_add(m, "\n    %-*.*s +%-4zu", width, width, name, from);
	for (size_t i = from; i < to; i++)
		msg_add(m, " %02x", p[i]);
}

bool test_check_mem(const char *file, int line, const char *what, const char *sa, const char *sb,
                    const char *sn, const void *a, const void *b, size_t n)
{
	const uint8_t *pa = a, *pb = b;
	struct msg m = {.n = 0};
	size_t first = n, differ = 0, from, to;
	int width;

	/* memcmp() with NULL is undefined even for 0 bytes; UBSan says so. */
	if (n == 0)
		return true;
	if (!pa || !pb) {
		test_fail(file, line, "%s(%s, %s, %s): NULL pointer for %zu bytes", what, sa, sb,
		          sn, n);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (pa[i] != pb[i]) {
			if (first == n)
				first = i;
			differ++;
		}
	if (!differ)
		return true;
	/* The row of 16 that holds the first difference, and a caret line
	 * under every differing byte in it. */
	from = first / MEM_ROW * MEM_ROW;
	to = from + MEM_ROW < n ? from + MEM_ROW : n;
	width = (int)(strlen(sa) > strlen(sb) ? strlen(sa) : strlen(sb));
	if (width > 40)
		width = 40;
	msg_add(&m,
	        "%s(%s, %s, %s): %zu of %zu bytes differ, first at offset %zu: 0x%02x != 0x%02x",
	        what, sa, sb, sn, differ, n, first, pa[first], pb[first]);
	mem_row(&m, width, sa, pa, from, to);
	mem_row(&m, width, sb, pb, from, to);
	msg_add(&m, "\n    %-*s  %-4s", width, "", "");
	while (pa[to - 1] == pb[to - 1])
		to--;
	for (size_t i = from; i < to; i++)
		msg_add(&m, pa[i] != pb[i] ? " ^^" : "   ");
	test_fail(file, line, "%s", m.b);
	return false;
}

int test_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;
		char c = *hex;

		if (c == ' ' || c == '\n' || c == '\t' || c == ':')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (int)n : -1;
}

int test_vector_get(const char *file, const char *rec, const char *name, uint8_t *out, size_t cap)
{
	char path[512], line[512], want_rec[128], *hex;
	const char *top = getenv("TUNSEC_TOP");
	size_t hex_len = 0, hex_cap = 16384;
	bool in_rec = false, in_field = false, found = false;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/tests/vectors/%s", top && *top ? top : ".", file);
	snprintf(want_rec, sizeof(want_rec), "[%s]", rec);
	if (!(f = fopen(path, "r")))
		return -1;
	hex = calloc(1, hex_cap);
	while (hex && fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\r\n");

		line[len] = '\0';
		if (line[0] == '#')
			continue;
		if (line[0] == '[') {
			in_rec = strcmp(line, want_rec) == 0;
			in_field = false;
			continue;
		}
		if (len > 0 && line[len - 1] == ':') {
			line[len - 1] = '\0';
			in_field = in_rec && strcmp(line, name) == 0;
			found |= in_field;
			continue;
		}
		if (in_field && hex_len + len + 1 < hex_cap) {
			memcpy(hex + hex_len, line, len);
			hex_len += len;
			hex[hex_len++] = ' ';
		}
	}
	fclose(f);
	n = found && hex ? test_unhex(hex, out, cap) : -1;
	free(hex);
	return n;
}

/* Registration runs in reverse link order; restore file order. */
static void reverse(void)
{
	struct test_case *prev = NULL, *tc = tests, *next;

	for (; tc; tc = next) {
		next = tc->next;
		tc->next = prev;
		prev = tc;
	}
	tests = prev;
}

/*
 * One test, ended by its return or by a REQUIRE's longjmp(). Alone in its
 * own function so that no local of main() lives across the setjmp().
 */
static void run(const struct test_case *tc)
{
	in_test = true;
	if (setjmp(test_end) == 0)
		tc->fn();
	in_test = false;
}

#if defined(__SANITIZE_ADDRESS__)
/* GCC ships the ASan runtime but not this header (clang does): the one
 * declaration we need is stable, so say it ourselves where it is missing. */
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#else
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

size_t test_heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>

size_t test_heap_in_use(void)
{
	return mallinfo2().uordblks;
}
#endif

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	reverse();
	for (struct test_case *tc = tests; tc; tc = tc->next) {
		if (filter && !strstr(tc->name, filter))
			continue;
		current_failed = 0;
		run(tc);
		printf("%s unit/%s\n", current_failed ? "FAIL" : "ok  ", tc->name);
		if (current_failed)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
