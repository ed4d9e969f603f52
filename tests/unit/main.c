/* Runner for the tests registered with TEST(); see test.h. */
#include "tests/unit/test.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

static struct test_case *tests;
static int current_failed;

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
		tc->fn();
		printf("%s unit/%s\n", current_failed ? "FAIL" : "ok  ", tc->name);
		if (current_failed)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
