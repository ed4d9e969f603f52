/*
 * Anti-replay window, RFC 4303 §3.4.3, kept as the ring of bitmap words of
 * RFC 6479: the bit for sequence number s lives in word (s / 64) mod words,
 * bit s mod 64. The window covers [top - size + 1, top]; one word more than
 * size / 64 is kept so that the word holding top can be partly ahead of the
 * window without aliasing the oldest word still in it. Moving the window
 * clears only the words passed over.
 */
#include "esp/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64u

int replay_init(struct replay *r, uint32_t window)
{
	uint64_t size;

	memset(r, 0, sizeof(*r));
	if (window > REPLAY_MAX)
		return -EINVAL;
	if (window == 0)
		return 0;
	size = ((uint64_t)window + WORD_BITS - 1) / WORD_BITS * WORD_BITS;
	r->size = (uint32_t)size;
	r->words = (uint32_t)(size / WORD_BITS + 1);
	r->bitmap = calloc(r->words, sizeof(*r->bitmap));
	if (!r->bitmap) {
		r->size = r->words = 0;
		return -ENOMEM;
	}
	return 0;
}

void replay_free(struct replay *r)
{
	free(r->bitmap);
	memset(r, 0, sizeof(*r));
}

/*
 * RFC 4303 Appendix A2.2: with Tl/Th the low/high halves of the highest
 * number seen and W the window, a low half at or above the window's bottom
 * (computed mod 2^32) belongs to the same high half as the window's bottom;
 * otherwise to the next one. With no window we still infer, as if W were 1.
 */
uint64_t replay_infer(const struct replay *r, uint32_t seq_lo, bool esn)
{
	uint32_t tl = (uint32_t)r->top, th = (uint32_t)(r->top >> 32);
	uint32_t w = r->size ? r->size : 1;
	uint32_t bottom = tl - w + 1; /* mod 2^32 on purpose */
	uint32_t seqh;

	if (!esn)
		return seq_lo;
	if (tl >= w - 1) {
		/* Case A: the window lies within one high half. */
		seqh = seq_lo >= bottom ? th : th + 1;
	} else {
		/* Case B: the window spans the previous high half. Nothing
		 * precedes high half 0, so there it stays 0. */
		if (seq_lo >= bottom)
			seqh = th ? th - 1 : 0;
		else
			seqh = th;
	}
	return (uint64_t)seqh << 32 | seq_lo;
}

static uint64_t *bit_word(const struct replay *r, uint64_t seq)
{
	return &r->bitmap[(seq / WORD_BITS) % r->words];
}

int replay_check(const struct replay *r, uint64_t seq)
{
	if (seq == 0)
		return -1; /* never sent: the first packet carries 1 (§3.3.3) */
	if (r->size == 0)
		return 0;
	if (seq > r->top)
		return 0;
	if (r->top - seq >= r->size)
		return -1;
	return (*bit_word(r, seq) >> (seq % WORD_BITS)) & 1 ? -1 : 0;
}

void replay_update(struct replay *r, uint64_t seq)
{
	if (r->size == 0) {
		if (seq > r->top)
			r->top = seq; /* still tracked: ESN inference needs it */
		return;
	}
	if (seq > r->top) {
		uint64_t from = r->top / WORD_BITS, to = seq / WORD_BITS;

		if (to - from >= r->words) {
			memset(r->bitmap, 0, (size_t)r->words * sizeof(*r->bitmap));
		} else {
			for (uint64_t w = from + 1; w <= to; w++)
				r->bitmap[w % r->words] = 0;
		}
		r->top = seq;
	} else if (r->top - seq >= r->size) {
		return; /* left of the window: its word now holds newer bits */
	}
	*bit_word(r, seq) |= (uint64_t)1 << (seq % WORD_BITS);
}
