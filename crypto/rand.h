/*
 * Randomness and library start-up for crypto/.
 *
 * Everything random in tunsec (SPIs, nonces, IKE SPIs, the per-context CBC
 * IV key) comes from libsodium's randombytes_buf(), i.e. getrandom(2): it
 * never blocks once the kernel pool is ready and never fails.
 */
#ifndef TUNSEC_CRYPTO_RAND_H
#define TUNSEC_CRYPTO_RAND_H

#include <stddef.h>

/*
 * Start libsodium (sodium_init()) once; safe to call from any thread, any
 * number of times; cheap after the first. aead_new() and rand_bytes() call
 * it themselves. 0, or -EIO if libsodium cannot start.
 */
int crypto_init(void);

/* Fill buf with len unpredictable bytes. */
void rand_bytes(void *buf, size_t len);

#endif
