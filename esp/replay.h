/*
 * Anti-replay window (RFC 4303 §3.4.3) as a ring bitmap of 64-bit words
 * (RFC 6479): advancing the window clears whole words, so the cost does not
 * grow with the window size. With ESN the high 32 bits are inferred from the
 * low half on the wire (RFC 4303 Appendix A2).
 *
 * Order on receive: seq = replay_infer(); replay_check(seq) (read-only);
 * verify the ICV; only then replay_update(seq). A forged packet can thus
 * never move the window.
 */
#ifndef TUNSEC_ESP_REPLAY_H
#define TUNSEC_ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_DEFAULT 1024
#define REPLAY_MAX 65536

struct replay {
	uint64_t top;	    /* highest sequence number accepted; 0: none yet */
	uint32_t size;	    /* window size in packets (a multiple of 64) */
	uint32_t words;	    /* bitmap words: size / 64 + 1 */
	uint64_t *bitmap;
};

/* window 0 disables replay protection (RFC 4303 §3.4.3 allows it; counted
 * as such in status). Sizes are rounded up to a multiple of 64.
 * -EINVAL above REPLAY_MAX, -ENOMEM. */
int replay_init(struct replay *r, uint32_t window);
void replay_free(struct replay *r);

/* Full 64-bit sequence number for seq_lo (RFC 4303 Appendix A2.2). Without
 * ESN it is seq_lo itself. */
uint64_t replay_infer(const struct replay *r, uint32_t seq_lo, bool esn);

/* 0 if seq may be accepted; -1 if it is zero, too old or already seen. */
int replay_check(const struct replay *r, uint64_t seq);

/* Mark seq as seen; call only after the ICV verified and check passed. */
void replay_update(struct replay *r, uint64_t seq);

#endif
