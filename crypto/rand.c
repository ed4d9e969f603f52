/* libsodium start-up and randomness; see rand.h. */
#include "crypto/rand.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <sodium.h>

static atomic_bool started;

int crypto_init(void)
{
	/* sodium_init() is thread-safe and idempotent but takes a lock, so
	 * remember success and skip it afterwards. */
	if (atomic_load_explicit(&started, memory_order_acquire))
		return 0;
	if (sodium_init() < 0)
		return -EIO;
	atomic_store_explicit(&started, true, memory_order_release);
	return 0;
}

void rand_bytes(void *buf, size_t len)
{
	(void)crypto_init();
	randombytes_buf(buf, len);
}
