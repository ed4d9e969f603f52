/*
 * aead_bench: throughput of every AEAD suite on every backend that can do
 * it here, one thread, fixed packet size, for scripts/bench.sh and for the
 * backend order in crypto/aead.c.
 *
 *   aead_bench [-n ITERATIONS] [-b BYTES] [-s SUITE] [-o seal|open] [ITERATIONS]
 *
 * One line per suite, backend and operation:
 *
 *   suite=aes128gcm16 backend=openssl op=seal bytes=1400 value=17012 unit=Mbit/s chosen=yes
 * allocs=0
 *
 * bytes is the payload per packet (the CBC suites seal it padded to whole
 * blocks, as ESP would); value counts payload bits. seal includes
 * aead_make_iv(); open includes copying the sealed packet back into the
 * buffer (open works in place). chosen=yes marks the backend aead_new()
 * picks. allocs counts heap allocations by anyone during the timed loop
 * (malloc is wrapped in this program): it must be 0. Exit status 1 if any
 * operation fails or allocates.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/aead_impl.h"

/* ---- allocation counter (not under ASan, which owns malloc) --------------- */

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

static volatile unsigned long n_allocs;
static bool counting;

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	n_allocs++;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	n_allocs++;
	return __libc_memalign(align, n);
}
#endif

/* ---- the suites ------------------------------------------------------------- */

struct suite {
	const char *name;
	int encr;
	unsigned bits;
	int integ;
};

static const struct suite suites[] = {
    {"aes128gcm16", ENCR_AES_GCM_16, 128, AUTH_NONE},
    {"aes256gcm16", ENCR_AES_GCM_16, 256, AUTH_NONE},
    {"chacha20poly1305", ENCR_CHACHA20_POLY1305, 256, AUTH_NONE},
    {"aes128-sha256", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_256_128},
    {"aes128-sha384", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_384_192},
    {"aes128-sha512", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_512_256},
    {"aes256-sha256", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_256_128},
    {"aes256-sha384", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_384_192},
    {"aes256-sha512", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_512_256},
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Time iters operations; returns seconds, or a negative value on failure. */
static double run(struct aead *a, bool seal, unsigned long iters, uint8_t *buf,
                  const uint8_t *sealed, size_t len, const uint8_t *iv0, const uint8_t *icv0,
                  unsigned long *allocs)
{
	uint8_t iv[AEAD_MAX_IV], icv[AEAD_MAX_ICV], hdr[8] = {0x12, 0x34, 0x56, 0x78};
	unsigned long before = n_allocs;
	double t0 = now();

	for (unsigned long i = 0; i < iters; i++) {
		if (seal) {
			aead_make_iv(a, i + 1, iv);
			if (aead_seal(a, iv, hdr, sizeof(hdr), NULL, 0, buf, len, icv) != 0)
				return -1;
		} else {
			memcpy(buf, sealed, len);
			if (aead_open(a, iv0, hdr, sizeof(hdr), NULL, 0, buf, len, icv0) != 0)
				return -1;
		}
	}
	*allocs = n_allocs - before;
	return now() - t0;
}

static void usage(void)
{
	fprintf(stderr, "usage: aead_bench [-n ITERATIONS] [-b BYTES] [-s SUITE] "
	                "[-o seal|open] [ITERATIONS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long iters = 100000;
	size_t bytes = 1400;
	const char *only_suite = NULL, *only_op = NULL, *be;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "n:b:s:o:h")) != -1) {
		switch (opt) {
		case 'n':
			iters = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			bytes = strtoul(optarg, NULL, 10);
			break;
		case 's':
			only_suite = optarg;
			break;
		case 'o':
			only_op = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		iters = strtoul(argv[optind], NULL, 10);
	if (iters == 0 || bytes == 0 || bytes > 65536)
		usage();
	if (sodium_init() < 0)
		return 1;
	/* Prove the counter sees allocations at all (volatile: no elision). */
	{
		unsigned long before = n_allocs;
		void *volatile probe = malloc(16);

		free(probe);
		counting = COUNT_ALLOCS && n_allocs > before;
	}
	printf("# aead_bench: %lu packets of %zu bytes per line, one thread\n", iters, bytes);

	uint8_t *buf = malloc(bytes + 16), *sealed = malloc(bytes + 16);

	if (!buf || !sealed)
		return 1;
	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		const struct suite *su = &suites[s];
		const char *chosen = aead_backend_for(su->encr, su->bits, su->integ);
		size_t len = su->encr == ENCR_AES_CBC ? (bytes + 15) / 16 * 16 : bytes;

		if (only_suite && strcmp(only_suite, su->name) != 0)
			continue;
		for (size_t b = 0; (be = aead_backend_name(b)); b++) {
			uint8_t km[AEAD_MAX_KEYMAT], iv[AEAD_MAX_IV], icv[AEAD_MAX_ICV];
			uint8_t hdr[8] = {0x12, 0x34, 0x56, 0x78};
			struct aead *a;

			if (!aead_backend_supports(be, su->encr, su->bits, su->integ))
				continue;
			randombytes_buf(km, sizeof(km));
			if (aead_new_backend(&a, su->encr, su->bits, su->integ, km,
			                     aead_keymat_len(su->encr, su->bits, su->integ),
			                     be) != 0) {
				fprintf(stderr, "aead_bench: %s on %s: aead_new failed\n", su->name,
				        be);
				status = 1;
				continue;
			}
			/* One sealed packet for the open loop. */
			randombytes_buf(sealed, len);
			aead_make_iv(a, 1, iv);
			if (aead_seal(a, iv, hdr, sizeof(hdr), NULL, 0, sealed, len, icv) != 0)
				status = 1;
			memcpy(buf, sealed, len);
			for (int op = 0; op < 2; op++) {
				const char *opname = op == 0 ? "seal" : "open";
				unsigned long allocs = 0;
				double secs;

				if (only_op && strcmp(only_op, opname) != 0)
					continue;
				/* Warm caches and lazy library set-up first. */
				run(a, op == 0, iters / 10 + 1, buf, sealed, len, iv, icv, &allocs);
				secs = run(a, op == 0, iters, buf, sealed, len, iv, icv, &allocs);
				if (secs < 0) {
					fprintf(stderr, "aead_bench: %s on %s: %s failed\n",
					        su->name, be, opname);
					status = 1;
					continue;
				}
				if (counting && allocs)
					status = 1;
				printf("suite=%s backend=%s op=%s bytes=%zu value=%.0f unit=Mbit/s "
				       "chosen=%s allocs=%s%lu\n",
				       su->name, be, opname, bytes,
				       (double)bytes * 8 * (double)iters / secs / 1e6,
				       strcmp(be, chosen) == 0 ? "yes" : "no",
				       counting ? "" : "uncounted-", allocs);
			}
			aead_free(a);
		}
	}
	free(buf);
	free(sealed);
	return status;
}
