/*
 * A small test registry. Each TEST() registers itself at load time; the
 * runner (tests/unit/main.c) runs them all, or those whose name contains a
 * filter, and ends with "N passed, N failed".
 *
 *	TEST(replay_rfc4303_a2_window_slides)
 *	{
 *		struct aead *a = NULL;
 *
 *		REQUIRE_EQ(aead_new(&a, ENCR_AES_GCM_16, 128, AUTH_NONE, km, 20), 0);
 *		CHECK(replay_check(&w, 5) == 0);
 *		CHECK_EQ(x, 3);
 *		CHECK_STREQ(aead_name(a), "aes128gcm16");
 *		CHECK_MEM(out, expected, 16);
 *	}
 *
 * Two kinds of assertion:
 *
 *   CHECK*    reports file:line and marks the test failed; the test goes on,
 *             so that one run shows every broken assertion.
 *   REQUIRE*  reports the same way, then ends the test at once: for what
 *             the rest of the test stands on (a NULL it would dereference,
 *             a length it would copy, a set-up that did not happen), where
 *             going on would crash or only repeat the one failure.
 *
 * REQUIRE works from any depth of helper the test calls: it longjmp()s back
 * to the runner, which then reports the test and starts the next one. So
 * nothing after it runs, cleanup included: what the test allocated is
 * leaked (under ASan a failed REQUIRE may bring leak reports along; the
 * first failure is the one to read). Use CHECK where the test can go on.
 *
 * The comparisons print both values in their own type: signed as %lld,
 * unsigned as %llu (and in hex from 10 up), pointers as %p, floating point
 * as %g. Signed against unsigned compares the values, as arithmetic does
 * on paper: -1 never equals UINT64_MAX, and no -Wsign-compare.
 *
 *   CHECK_EQ(a, b)       REQUIRE_EQ(a, b)       a == b, integers, pointers
 *   CHECK_NE(a, b)       REQUIRE_NE(a, b)       a != b
 *   CHECK_STREQ(a, b)    REQUIRE_STREQ(a, b)    C strings, NULL equals only NULL
 *   CHECK_MEM(a, b, n)   REQUIRE_MEM(a, b, n)   n bytes; a failure shows the
 *                                               first differing offset, both
 *                                               bytes and a hex window
 */
#ifndef TUNSEC_TEST_H
#define TUNSEC_TEST_H

#include <stdbool.h>
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
/* Ends the running test (after a test_fail() that said why); see REQUIRE. */
void test_abort(void) __attribute__((noreturn));
/* Hex string (whitespace ignored) to bytes; returns the byte count or -1. */
int test_unhex(const char *hex, uint8_t *out, size_t cap);

/* Bytes the process has allocated on the heap now (glibc's mallinfo2,
 * or ASan's own count under ASan, whose allocator glibc cannot see). */
size_t test_heap_in_use(void);

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

/* ---- a value in its own type, for CHECK_EQ and friends ------------------- */

enum test_kind { TEST_SIGNED, TEST_UNSIGNED, TEST_FLOAT, TEST_PTR };

struct test_val {
	enum test_kind kind;
	union {
		long long s;
		unsigned long long u;
		double f;
		const volatile void *p;
	};
};

static inline struct test_val test_val_s(long long v)
{
	return (struct test_val){.kind = TEST_SIGNED, .s = v};
}

static inline struct test_val test_val_u(unsigned long long v)
{
	return (struct test_val){.kind = TEST_UNSIGNED, .u = v};
}

static inline struct test_val test_val_f(double v)
{
	return (struct test_val){.kind = TEST_FLOAT, .f = v};
}

static inline struct test_val test_val_p(const volatile void *v)
{
	return (struct test_val){.kind = TEST_PTR, .p = v};
}

/* Plain char is signed or not by ABI; take it as it is here. */
static inline struct test_val test_val_char(char v)
{
	return (char)-1 < 0 ? test_val_s(v) : test_val_u((unsigned char)v);
}

/*
 * _Generic picks the converter by the operand's type (enums by their
 * compatible integer type), so that the operand is evaluated once and each
 * converter only ever sees its own type; anything else is a pointer.
 */
/* clang-format cannot lay out a _Generic association list. */
/* clang-format off */
#define TEST_VAL(x)                                                                                \
	_Generic((x),                                                                              \
		_Bool: test_val_u,                                                                 \
		char: test_val_char,                                                               \
		signed char: test_val_s,                                                           \
		short: test_val_s,                                                                 \
		int: test_val_s,                                                                   \
		long: test_val_s,                                                                  \
		long long: test_val_s,                                                             \
		unsigned char: test_val_u,                                                         \
		unsigned short: test_val_u,                                                        \
		unsigned int: test_val_u,                                                          \
		unsigned long: test_val_u,                                                         \
		unsigned long long: test_val_u,                                                    \
		float: test_val_f,                                                                 \
		double: test_val_f,                                                                \
		long double: test_val_f,                                                           \
		default: test_val_p)(x)
/* clang-format on */

/*
 * Equal as numbers, whatever the types: a negative value never equals an
 * unsigned one (the common type that C's == would convert both to is what
 * lets a -1 meet UINT64_MAX); a pointer equals an integer of its address.
 * Inline, so that after a REQUIRE_EQ the compiler too knows the two equal
 * (its bounds checks see that a length was required to be 84).
 */
static inline bool test_val_equal(struct test_val a, struct test_val b)
{
	if (a.kind == TEST_FLOAT || b.kind == TEST_FLOAT) {
		double fa = a.kind == TEST_FLOAT    ? a.f
		            : a.kind == TEST_SIGNED ? (double)a.s
		            : a.kind == TEST_PTR    ? (double)(uintptr_t)a.p
		                                    : (double)a.u;
		double fb = b.kind == TEST_FLOAT    ? b.f
		            : b.kind == TEST_SIGNED ? (double)b.s
		            : b.kind == TEST_PTR    ? (double)(uintptr_t)b.p
		                                    : (double)b.u;

		return fa == fb;
	}
	if (a.kind == TEST_PTR || b.kind == TEST_PTR) {
		uintptr_t pa = a.kind == TEST_PTR      ? (uintptr_t)a.p
		               : a.kind == TEST_SIGNED ? (uintptr_t)a.s
		                                       : (uintptr_t)a.u;
		uintptr_t pb = b.kind == TEST_PTR      ? (uintptr_t)b.p
		               : b.kind == TEST_SIGNED ? (uintptr_t)b.s
		                                       : (uintptr_t)b.u;

		return pa == pb;
	}
	if (a.kind == TEST_SIGNED && b.kind == TEST_SIGNED)
		return a.s == b.s;
	if (a.kind == TEST_UNSIGNED && b.kind == TEST_UNSIGNED)
		return a.u == b.u;
	if (a.kind == TEST_SIGNED)
		return a.s >= 0 && (unsigned long long)a.s == b.u;
	return b.s >= 0 && (unsigned long long)b.s == a.u;
}

/* The report of a failed CHECK_EQ / CHECK_NE (what names the macro). */
void test_report_eq(const char *file, int line, const char *what, const char *sa, const char *sb,
                    struct test_val a, struct test_val b, bool want_equal);

/* True when the values are (want_equal) or are not equal, else a report. */
static inline bool test_check_eq(const char *file, int line, const char *what, const char *sa,
                                 const char *sb, struct test_val a, struct test_val b,
                                 bool want_equal)
{
	if (test_val_equal(a, b) == want_equal)
		return true;
	test_report_eq(file, line, what, sa, sb, a, b, want_equal);
	return false;
}

/* The same for strings and memory: true, or a report and false. */
bool test_check_streq(const char *file, int line, const char *what, const char *sa, const char *sb,
                      const char *a, const char *b);
bool test_check_mem(const char *file, int line, const char *what, const char *sa, const char *sb,
                    const char *sn, const void *a, const void *b, size_t n);

/* ---- non-fatal: report, mark the test failed, go on ----------------------- */

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	((void)test_check_eq(__FILE__, __LINE__, "CHECK_EQ", #a, #b, TEST_VAL(a), TEST_VAL(b),     \
	                     true))

#define CHECK_NE(a, b)                                                                             \
	((void)test_check_eq(__FILE__, __LINE__, "CHECK_NE", #a, #b, TEST_VAL(a), TEST_VAL(b),     \
	                     false))

#define CHECK_STREQ(a, b) ((void)test_check_streq(__FILE__, __LINE__, "CHECK_STREQ", #a, #b, a, b))

#define CHECK_MEM(a, b, n)                                                                         \
	((void)test_check_mem(__FILE__, __LINE__, "CHECK_MEM", #a, #b, #n, a, b, n))

/* ---- fatal: report, then end the test (see the top of this file) --------- */

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                       \
			test_abort();                                                              \
		}                                                                                  \
	} while (0)

#define REQUIRE_EQ(a, b)                                                                           \
	do {                                                                                       \
		if (!test_check_eq(__FILE__, __LINE__, "REQUIRE_EQ", #a, #b, TEST_VAL(a),          \
		                   TEST_VAL(b), true))                                             \
			test_abort();                                                              \
	} while (0)

#define REQUIRE_NE(a, b)                                                                           \
	do {                                                                                       \
		if (!test_check_eq(__FILE__, __LINE__, "REQUIRE_NE", #a, #b, TEST_VAL(a),          \
		                   TEST_VAL(b), false))                                            \
			test_abort();                                                              \
	} while (0)

#define REQUIRE_STREQ(a, b)                                                                        \
	do {                                                                                       \
		if (!test_check_streq(__FILE__, __LINE__, "REQUIRE_STREQ", #a, #b, a, b))          \
			test_abort();                                                              \
	} while (0)

#define REQUIRE_MEM(a, b, n)                                                                       \
	do {                                                                                       \
		if (!test_check_mem(__FILE__, __LINE__, "REQUIRE_MEM", #a, #b, #n, a, b, n))       \
			test_abort();                                                              \
	} while (0)

#endif
