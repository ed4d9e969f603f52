/*
 * A small test registry. Each TEST() registers itself at load time; the
 * runner (tests/unit/main.c) runs them all, or those whose name contains a
 * filter, and ends with "N passed, N failed".
 *
 *	TEST(replay_rfc4303_a2_window_slides)
 *	{
 *		CHECK(replay_check(&w, 5) == 0);
 *		CHECK_EQ(x, 3);
 *		CHECK_MEM(out, expected, 16);
 *	}
 *
 * A CHECK that fails reports file:line and marks the test failed; the test
 * goes on so that one run shows every broken assertion.
 */
#ifndef TUNSEC_TEST_H
#define TUNSEC_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Hex string (whitespace ignored) to bytes; returns the byte count or -1. */
int test_unhex(const char *hex, uint8_t *out, size_t cap);

/*
 * Field `name` of record `[rec]` in tests/vectors/FILE (under $TUNSEC_TOP,
 * else the working directory): a line "name:" followed by hex lines up to
 * the next field or record; '#' lines are comments. Returns the byte count
 * or -1 (no file, no such field, bad hex, more than cap bytes).
 */
int test_vector_get(const char *file, const char *rec, const char *name, uint8_t *out, size_t cap);

#define TEST(name)                                                                                 \
	static void test_fn_##name(void);                                                          \
	static struct test_case test_case_##name = {#name, test_fn_##name, NULL};                  \
	__attribute__((constructor)) static void test_reg_##name(void)                             \
	{                                                                                          \
		test_register(&test_case_##name);                                                  \
	}                                                                                          \
	static void test_fn_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b);                      \
		if (test_a_ != test_b_)                                                            \
			test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, test_a_,   \
				  test_b_);                                                        \
	} while (0)

#define CHECK_MEM(a, b, n)                                                                         \
	do {                                                                                       \
		if (memcmp((a), (b), (n)) != 0)                                                    \
			test_fail(__FILE__, __LINE__, "memory %s != %s (%zu bytes)", #a, #b,       \
				  (size_t)(n));                                                    \
	} while (0)

#endif
