/*
 * IKEv2 prf and prf+ (RFC 7296 §2.13) over HMAC-SHA2 (RFC 4868 §2.1:
 * PRF_HMAC_SHA2_256/384/512 are plain, untruncated HMAC).
 */
#include "crypto/prf.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "crypto/hmac.h"

size_t prf_out_len(int prf)
{
	switch (prf) {
	case PRF_HMAC_SHA1:
		return 20;
	case PRF_HMAC_SHA2_256:
		return 32;
	case PRF_HMAC_SHA2_384:
		return 48;
	case PRF_HMAC_SHA2_512:
		return 64;
	}
	return 0;
}

int prf_compute(int prf, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                uint8_t *out)
{
	struct hmac h;

	if (hmac_init(&h, prf, key, key_len) < 0)
		return -EINVAL;
	hmac_start(&h);
	hmac_update(&h, data, len);
	hmac_finish(&h, out);
	hmac_wipe(&h);
	return 0;
}

int prf_plus(int prf, const uint8_t *key, size_t key_len, const uint8_t *seed, size_t seed_len,
             uint8_t *out, size_t out_len)
{
	size_t olen = prf_out_len(prf), done = 0;
	uint8_t t[PRF_MAX_OUT];
	struct hmac h;

	/* §2.13: the counter is one octet, so at most 255 blocks. */
	if (olen == 0 || out_len > 255 * olen)
		return -EINVAL;
	if (hmac_init(&h, prf, key, key_len) < 0)
		return -EINVAL;
	for (unsigned n = 1; done < out_len; n++) {
		uint8_t ctr = (uint8_t)n;
		size_t take = out_len - done < olen ? out_len - done : olen;

		/* T1 = prf(K, S | 0x01); Tn = prf(K, Tn-1 | S | n). */
		hmac_start(&h);
		if (n > 1)
			hmac_update(&h, t, olen);
		hmac_update(&h, seed, seed_len);
		hmac_update(&h, &ctr, 1);
		hmac_finish(&h, t);
		memcpy(out + done, t, take);
		done += take;
	}
	sodium_memzero(t, sizeof(t));
	hmac_wipe(&h);
	return 0;
}
