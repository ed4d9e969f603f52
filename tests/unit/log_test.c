/*
 * daemon/log.c: the rate limit of lines an unauthenticated peer can cause.
 * At most `burst` lines in one second; the first line allowed after held
 * ones says how many were held, so none is lost without a trace.
 */
#include "daemon/log.h"

#include "tests/unit/test.h"

#define SEC 1000000000ULL

TEST(log_limit_burst_then_count_of_held_lines)
{
	struct log_limit l = {0};
	uint64_t held = 99;
	int allowed = 0;

	/* 100 lines in the first second: 5 go, 95 are held. */
	for (int i = 0; i < 100; i++)
		allowed += log_limit_ok(&l, 10 * SEC + (uint64_t)i * 1000, 5, &held);
	CHECK_EQ(allowed, 5);
	CHECK_EQ(held, 0); /* the 5th line: nothing held before it */
	/* Half a second on: still the same second, still held. */
	CHECK_EQ(log_limit_ok(&l, 10 * SEC + SEC / 2, 5, &held), 0);
	/* The next second: a line goes and says 96 were held; then none. */
	REQUIRE_EQ(log_limit_ok(&l, 11 * SEC, 5, &held), 1);
	CHECK_EQ(held, 96);
	REQUIRE_EQ(log_limit_ok(&l, 11 * SEC + 1, 5, &held), 1);
	CHECK_EQ(held, 0);
}

TEST(log_limit_one_per_second_and_clock_jumps)
{
	struct log_limit l = {0};
	uint64_t held = 0;

	CHECK_EQ(log_limit_ok(&l, 5 * SEC, 1, &held), 1);
	CHECK_EQ(log_limit_ok(&l, 5 * SEC + 1, 1, &held), 0);
	CHECK_EQ(log_limit_ok(&l, 5 * SEC + SEC - 1, 1, &held), 0);
	CHECK_EQ(log_limit_ok(&l, 6 * SEC, 1, &held), 1);
	CHECK_EQ(held, 2);
	/* A clock that goes back (a new monotonic base) opens a new window
	 * rather than holding lines for ever. */
	CHECK_EQ(log_limit_ok(&l, 1 * SEC, 1, &held), 1);
	CHECK_EQ(held, 0);
}
