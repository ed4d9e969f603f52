/*
 * Anti-replay window (RFC 4303 §3.4.3, RFC 6479) and ESN inference
 * (RFC 4303 Appendix A2). Tables of (sequence number, expected verdict), as
 * WireGuard tests its counter; every accepted row is then marked seen, as a
 * packet whose ICV verified would be.
 */
#include "esp/replay.h"

#include <errno.h>
#include <stdlib.h>

#include "tests/unit/test.h"

struct row {
	uint64_t seq;
	int ok; /* 1: accepted, 0: rejected */
};

static void run_rows(struct replay *r, const struct row *rows, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		int got = replay_check(r, rows[i].seq) == 0;

		if (got != rows[i].ok)
			test_fail(__FILE__, __LINE__, "%s row %zu: seq %llu %s, expected %s", what,
			          i, (unsigned long long)rows[i].seq, got ? "accepted" : "rejected",
			          rows[i].ok ? "accepted" : "rejected");
		if (got)
			replay_update(r, rows[i].seq);
	}
}

/* The same table for each window size W: edges expressed in W. */
static void window_table(uint32_t w)
{
	struct replay r;
	const struct row rows[] = {
	    {0, 0}, /* never sent (§3.3.3) */
	    {1, 1},
	    {1, 0}, /* duplicate */
	    {9, 1},
	    {8, 1},
	    {7, 1},
	    {7, 0},
	    {2, 1},
	    {3, 1},
	    {9, 0},
	    {w + 9, 1}, /* window now [10, w + 9] */
	    {9, 0},     /* just left of it */
	    {10, 1},    /* its oldest slot */
	    {10, 0},
	    {w + 8, 1},
	    {w + 8, 0},
	    {w + 9, 0},
	    {11, 1},
	    {2 * w + 20, 1}, /* jump: window [w + 21, 2w + 20] */
	    {w + 20, 0},
	    {w + 21, 1},
	    {w + 21, 0},
	    {2 * w + 19, 1},
	    {2 * w + 20, 0},
	    {2 * w + 21, 1},
	    {w + 21, 0},                  /* now left of the window */
	    {w + 22, 1},                  /* still inside */
	    {10 * (uint64_t)w, 1},        /* jump far beyond the whole ring */
	    {9 * (uint64_t)w, 0},         /* exactly w behind: out */
	    {9 * (uint64_t)w + 1, 1},     /* w - 1 behind: in */
	    {9 * (uint64_t)w + w / 2, 1}, /* mid-window */
	    {2 * w + 21, 0},              /* from before the jump: gone */
	    {10 * (uint64_t)w - 1, 1},
	    {10 * (uint64_t)w + 1, 1},
	    {10 * (uint64_t)w + 1, 0},
	};

	CHECK_EQ(replay_init(&r, w), 0);
	CHECK_EQ(r.size, w);
	run_rows(&r, rows, sizeof(rows) / sizeof(rows[0]), "window");
	replay_free(&r);
}

TEST(replay_rfc4303_3_4_3_window_64)
{
	window_table(64);
}

TEST(replay_rfc4303_3_4_3_window_default_1024)
{
	window_table(REPLAY_DEFAULT);
}

TEST(replay_rfc4303_3_4_3_window_4096)
{
	window_table(4096);
}

TEST(replay_rfc4303_3_4_3_window_max)
{
	window_table(REPLAY_MAX);
}

TEST(replay_init_sizes)
{
	struct replay r;

	CHECK_EQ(replay_init(&r, 1000), 0);
	CHECK_EQ(r.size, 1024); /* rounded up to whole words */
	CHECK_EQ(r.words, 17);
	replay_free(&r);
	CHECK_EQ(replay_init(&r, 1), 0);
	CHECK_EQ(r.size, 64);
	replay_free(&r);
	CHECK_EQ(replay_init(&r, REPLAY_MAX + 1), -EINVAL);
	CHECK_EQ(replay_init(&r, UINT32_MAX), -EINVAL);
}

/* RFC 4303 §3.4.3 lets a receiver turn the service off: then only 0 is
 * refused, duplicates pass. */
TEST(replay_rfc4303_3_4_3_disabled)
{
	struct replay r;
	const struct row rows[] = {{0, 0}, {5, 1}, {5, 1}, {1, 1}, {100000, 1}, {1, 1}};

	CHECK_EQ(replay_init(&r, 0), 0);
	run_rows(&r, rows, sizeof(rows) / sizeof(rows[0]), "disabled");
	CHECK_EQ(r.top, 100000);
	replay_free(&r);
}

/* Every number of a stretch seen once: each is a replay afterwards, and
 * sliding by whole words forgets exactly what left the window. */
TEST(replay_rfc6479_ring_words_cleared)
{
	struct replay r;
	const uint32_t w = 256;

	CHECK_EQ(replay_init(&r, w), 0);
	for (uint64_t s = 1; s <= 1000; s++) {
		CHECK_EQ(replay_check(&r, s), 0);
		replay_update(&r, s);
	}
	for (uint64_t s = 1; s <= 1000; s++)
		CHECK_EQ(replay_check(&r, s), -1);
	/* Jump 130 ahead (crossing two word boundaries): 1001..1129 were never
	 * seen and are still inside the window [875, 1130]. */
	replay_update(&r, 1130);
	for (uint64_t s = 1001; s < 1130; s++)
		CHECK_EQ(replay_check(&r, s), 0);
	for (uint64_t s = 875; s <= 1000; s++)
		CHECK_EQ(replay_check(&r, s), -1);
	CHECK_EQ(replay_check(&r, 874), -1);
	replay_free(&r);
}

/* The ring against a plain reference (a set of seen numbers and the
 * window rule) over a long pseudo-random walk of reorders, duplicates and
 * jumps, for several sizes. */
TEST(replay_rfc6479_matches_reference_model)
{
	static const uint32_t sizes[] = {64, 128, 1024, 4096};

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		const uint32_t w = sizes[z];
		const uint64_t span = 1 << 20;
		struct replay r;
		uint8_t *seen = calloc(span + 2 * (size_t)w, 1);
		uint64_t top = 0, x = 0x9e3779b97f4a7c15ull + w;
		unsigned mismatches = 0;

		REQUIRE(seen != NULL);
		CHECK_EQ(replay_init(&r, w), 0);
		for (int i = 0; i < 200000; i++) {
			uint64_t s;
			int want, got;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			switch (x % 8) {
			case 0: /* jump ahead up to 2 windows */
				s = top + 1 + (x >> 8) % (2 * w);
				break;
			case 1: /* anywhere near the window's left edge */
				s = top > w + 8 ? top - w - 8 + (x >> 8) % 17 : 1 + (x >> 8) % 17;
				break;
			default: /* reordered inside (or just outside) the window */
				s = top + 4 > (x >> 8) % (w + 8) ? top + 4 - (x >> 8) % (w + 8) : 1;
				break;
			}
			if (s >= span)
				break;
			want = s != 0 && !(s <= top && top - s >= w) && !seen[s];
			got = replay_check(&r, s) == 0;
			if (want != got && mismatches++ < 5)
				test_fail(__FILE__, __LINE__,
				          "w %u: seq %llu top %llu: ring %d, model %d", w,
				          (unsigned long long)s, (unsigned long long)top, got,
				          want);
			if (want) {
				replay_update(&r, s);
				seen[s] = 1;
				if (s > top)
					top = s;
			}
		}
		CHECK_EQ(mismatches, 0);
		CHECK(r.top == top);
		CHECK(top > 4 * (uint64_t)w); /* the walk did move the window */
		replay_free(&r);
		free(seen);
	}
}

/* ---- ESN (RFC 4303 Appendix A2) ---------------------------------------- */

struct infer_row {
	uint64_t top;
	uint32_t seq_lo;
	uint64_t want;
};

TEST(replay_rfc4303_a2_2_infer_cases)
{
	const uint32_t w = 64;
	const struct infer_row rows[] = {
	    /* Case A: Tl >= W - 1, window inside one high half. */
	    {0x00000000fffffff0ull, 0xffffffc0u, 0x00000000ffffffc0ull}, /* in window */
	    {0x00000000fffffff0ull, 0xffffffb1u, 0x00000000ffffffb1ull}, /* bottom edge */
	    {0x00000000fffffff0ull, 0xfffffff5u, 0x00000000fffffff5ull}, /* ahead */
	    {0x00000000fffffff0ull, 0x00000003u, 0x0000000100000003ull}, /* wrapped */
	    {0x00000000fffffff0ull, 0xffffffb0u, 0x00000001ffffffb0ull}, /* below: next half */
	    {0x0000000700000100ull, 0x000000c1u, 0x00000007000000c1ull},
	    {0x0000000700000100ull, 0x000000c0u, 0x00000008000000c0ull},
	    /* Case B: Tl < W - 1, window reaches into the previous half. */
	    {0x0000000100000010ull, 0xfffffff0u, 0x00000000fffffff0ull},
	    {0x0000000100000010ull, 0xffffffd1u, 0x00000000ffffffd1ull}, /* bottom edge */
	    {0x0000000100000010ull, 0xffffffd0u, 0x00000001ffffffd0ull}, /* below it */
	    {0x0000000100000010ull, 0x00000005u, 0x0000000100000005ull},
	    {0x0000000100000010ull, 0x00000020u, 0x0000000100000020ull},
	    /* Nothing received yet: high half 0, never -1. */
	    {0, 1, 1},
	    {0, 0xfffffff0u, 0x00000000fffffff0ull},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct replay r;
		uint64_t got;

		CHECK_EQ(replay_init(&r, w), 0);
		if (rows[i].top)
			replay_update(&r, rows[i].top);
		got = replay_infer(&r, rows[i].seq_lo, true);
		if (got != rows[i].want)
			test_fail(__FILE__, __LINE__,
			          "row %zu: infer(%08x) = %016llx, want %016llx", i, rows[i].seq_lo,
			          (unsigned long long)got, (unsigned long long)rows[i].want);
		/* Without ESN the number is the low half, always. */
		CHECK_EQ(replay_infer(&r, rows[i].seq_lo, false), rows[i].seq_lo);
		replay_free(&r);
	}
}

/* Packets as they arrive on the wire (low halves only) across a high-half
 * change, with ESN: each is inferred, checked, and marked seen. */
struct wire_row {
	uint32_t seq_lo;
	uint64_t want_seq; /* what inference must give */
	int ok;
};

static void run_wire(uint32_t w, uint64_t start, const struct wire_row *rows, size_t n)
{
	struct replay r;

	CHECK_EQ(replay_init(&r, w), 0);
	if (start)
		replay_update(&r, start);
	for (size_t i = 0; i < n; i++) {
		uint64_t s = replay_infer(&r, rows[i].seq_lo, true);
		int got = replay_check(&r, s) == 0;

		if (s != rows[i].want_seq || got != rows[i].ok)
			test_fail(__FILE__, __LINE__,
			          "w %u row %zu: lo %08x -> %016llx %s; want %016llx %s", w, i,
			          rows[i].seq_lo, (unsigned long long)s, got ? "ok" : "drop",
			          (unsigned long long)rows[i].want_seq, rows[i].ok ? "ok" : "drop");
		if (got)
			replay_update(&r, s);
	}
	replay_free(&r);
}

TEST(replay_rfc4303_a2_esn_wrap)
{
	const struct wire_row rows[] = {
	    {0xfffffffeu, 0x00000000fffffffeull, 1},
	    {0xffffffffu, 0x00000000ffffffffull, 1},
	    {0x00000000u, 0x0000000100000000ull, 1}, /* low half 0 is fine with ESN */
	    {0x00000001u, 0x0000000100000001ull, 1},
	    {0xffffffffu, 0x00000000ffffffffull, 0}, /* late duplicate: old half */
	    {0xfffffffdu, 0x00000000fffffffdull, 1}, /* late, unseen, in window */
	    {0x00000000u, 0x0000000100000000ull, 0}, /* duplicate in the new half */
	    {0x00000005u, 0x0000000100000005ull, 1},
	    {0x00000002u, 0x0000000100000002ull, 1},
	    {0xfffffffcu, 0x00000000fffffffcull, 1},
	};

	run_wire(64, 0xfffffff0ull, rows, sizeof(rows) / sizeof(rows[0]));
	run_wire(1024, 0xfffffff0ull, rows, sizeof(rows) / sizeof(rows[0]));
	run_wire(4096, 0xfffffff0ull, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Several wraps in a row, with reordering across each boundary, and a late
 * packet from two halves ago that must not be mistaken for a new one. */
TEST(replay_rfc4303_a2_esn_many_halves)
{
	const uint32_t w = 1024;
	struct replay r;

	CHECK_EQ(replay_init(&r, w), 0);
	replay_update(&r, 0x00000004fffffc00ull);
	for (uint64_t hi = 4; hi < 9; hi++) {
		uint64_t base = hi << 32;

		/* Arrive: 0xfffffffe, 0x00000003 (next half), 0xffffffff, 0x00000001. */
		const uint32_t lo[] = {0xfffffffeu, 0x00000003u, 0xffffffffu, 0x00000001u};
		const uint64_t want[] = {base + 0xfffffffeull, base + 0x100000003ull,
		                         base + 0xffffffffull, base + 0x100000001ull};

		for (int i = 0; i < 4; i++) {
			uint64_t s = replay_infer(&r, lo[i], true);

			CHECK(s == want[i]);
			CHECK_EQ(replay_check(&r, s), 0);
			replay_update(&r, s);
			CHECK_EQ(replay_check(&r, s), -1);
		}
		/* Move well into the next half before the next round. */
		replay_update(&r, base + 0x1fffffc00ull);
		CHECK(r.top == base + 0x1fffffc00ull);
	}
	/* A low half from far left of the window is read as the next half (the
	 * RFC's rule); its ICV then fails, so it never moves the window. */
	CHECK(replay_infer(&r, 0x00000010u, true) == (10ull << 32 | 0x10));
	replay_free(&r);
}

/* Without ESN a 32-bit counter cannot pass 2^32 - 1: a low half of 0 after
 * it is seq 0, which is refused. */
TEST(replay_rfc4303_3_4_3_no_esn_no_wrap)
{
	struct replay r;

	CHECK_EQ(replay_init(&r, 64), 0);
	replay_update(&r, 0xffffffffull);
	CHECK_EQ(replay_check(&r, replay_infer(&r, 0, false)), -1);
	CHECK_EQ(replay_check(&r, replay_infer(&r, 1, false)), -1);
	CHECK_EQ(replay_check(&r, replay_infer(&r, 0xfffffffeu, false)), 0);
	replay_free(&r);
}
