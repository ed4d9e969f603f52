/*
 * HMAC-SHA2 (RFC 2104), and HMAC-SHA1 for the legacy suite, over OpenSSL's or mbedTLS's SHA-2; see hmac.h for
 * why the OpenSSL side uses the low-level (3.0-deprecated) SHA*_CTX calls.
 * The inner and outer states are keyed once in hmac_init(); a message then
 * costs a struct copy plus the hashing of its own bytes.
 */
/* Before any OpenSSL header: we use SHA256_Init & co. on purpose. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/hmac.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "crypto/prf.h"

#define MAX_BLOCK 128 /* SHA-384/512 block; SHA-256 uses 64 */

static void md_start(const struct hmac *h, union hmac_md *m)
{
#ifdef HMAC_HAVE_OPENSSL
	if (h->openssl) {
		if (h->prf == PRF_HMAC_SHA1)
			SHA1_Init(&m->o1);
		else if (h->prf == PRF_HMAC_SHA2_256)
			SHA256_Init(&m->o256);
		else if (h->prf == PRF_HMAC_SHA2_384)
			SHA384_Init(&m->o512);
		else
			SHA512_Init(&m->o512);
		return;
	}
#endif
	if (h->prf == PRF_HMAC_SHA1) {
		mbedtls_sha1_init(&m->s1);
		(void)compat_sha1_starts(&m->s1);
	} else if (h->prf == PRF_HMAC_SHA2_256) {
		mbedtls_sha256_init(&m->s256);
		(void)compat_sha256_starts(&m->s256, 0);
	} else {
		mbedtls_sha512_init(&m->s512);
		(void)compat_sha512_starts(&m->s512, h->prf == PRF_HMAC_SHA2_384);
	}
}

static void md_update(const struct hmac *h, union hmac_md *m, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
#ifdef HMAC_HAVE_OPENSSL
	if (h->openssl) {
		/* SHA384_Update is SHA512_Update. */
		if (h->prf == PRF_HMAC_SHA1)
			SHA1_Update(&m->o1, p, n);
		else if (h->prf == PRF_HMAC_SHA2_256)
			SHA256_Update(&m->o256, p, n);
		else
			SHA512_Update(&m->o512, p, n);
		return;
	}
#endif
	if (h->prf == PRF_HMAC_SHA1)
		(void)compat_sha1_update(&m->s1, p, n);
	else if (h->prf == PRF_HMAC_SHA2_256)
		(void)compat_sha256_update(&m->s256, p, n);
	else
		(void)compat_sha512_update(&m->s512, p, n);
}

/* Writes h->out_len bytes; out must hold 64 (mbedTLS 2.x's SHA-384
 * prototype names a 64-byte output). */
static void md_finish(const struct hmac *h, union hmac_md *m, uint8_t out[64])
{
#ifdef HMAC_HAVE_OPENSSL
	if (h->openssl) {
		if (h->prf == PRF_HMAC_SHA1)
			SHA1_Final(out, &m->o1);
		else if (h->prf == PRF_HMAC_SHA2_256)
			SHA256_Final(out, &m->o256);
		else if (h->prf == PRF_HMAC_SHA2_384)
			SHA384_Final(out, &m->o512);
		else
			SHA512_Final(out, &m->o512);
		return;
	}
#endif
	if (h->prf == PRF_HMAC_SHA1)
		(void)compat_sha1_finish(&m->s1, out);
	else if (h->prf == PRF_HMAC_SHA2_256)
		(void)compat_sha256_finish(&m->s256, out);
	else
		(void)compat_sha512_finish(&m->s512, out);
}

int hmac_init_lib(struct hmac *h, int prf, const uint8_t *key, size_t key_len, const char *lib)
{
	uint8_t pad[MAX_BLOCK], hashed[64];
	size_t block;

	memset(h, 0, sizeof(*h));
	switch (prf) {
	case PRF_HMAC_SHA1: /* legacy (tunsec.legacy): RFC 2104 with SHA-1 */
		block = 64;
		h->out_len = 20;
		break;
	case PRF_HMAC_SHA2_256:
		block = 64;
		h->out_len = 32;
		break;
	case PRF_HMAC_SHA2_384:
		block = 128;
		h->out_len = 48;
		break;
	case PRF_HMAC_SHA2_512:
		block = 128;
		h->out_len = 64;
		break;
	default:
		return -EINVAL;
	}
#ifdef HMAC_HAVE_OPENSSL
	h->openssl = !lib || strcmp(lib, "openssl") == 0;
	if (lib && !h->openssl && strcmp(lib, "mbedtls") != 0)
		return -ENOENT;
#else
	if (lib && strcmp(lib, "mbedtls") != 0)
		return -ENOENT;
#endif
	h->prf = prf;

	/* RFC 2104 §2: a key longer than the block is replaced by its hash. */
	if (key_len > block) {
		md_start(h, &h->work);
		md_update(h, &h->work, key, key_len);
		md_finish(h, &h->work, hashed);
		key = hashed;
		key_len = h->out_len;
	}
	memset(pad, 0x36, block);
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	md_start(h, &h->inner);
	md_update(h, &h->inner, pad, block);
	for (size_t i = 0; i < block; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	md_start(h, &h->outer);
	md_update(h, &h->outer, pad, block);

	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(hashed, sizeof(hashed));
	sodium_memzero(&h->work, sizeof(h->work));
	return 0;
}

int hmac_init(struct hmac *h, int prf, const uint8_t *key, size_t key_len)
{
	return hmac_init_lib(h, prf, key, key_len, NULL);
}

const char *hmac_lib(const struct hmac *h)
{
	return h->openssl ? "openssl" : "mbedtls";
}

void hmac_start(struct hmac *h)
{
	h->work = h->inner;
}

void hmac_update(struct hmac *h, const void *data, size_t len)
{
	md_update(h, &h->work, data, len);
}

void hmac_finish(struct hmac *h, uint8_t *out)
{
	uint8_t ih[64], full[64];

	md_finish(h, &h->work, ih);
	h->work = h->outer;
	md_update(h, &h->work, ih, h->out_len);
	md_finish(h, &h->work, full);
	memcpy(out, full, h->out_len);
	sodium_memzero(ih, sizeof(ih));
	sodium_memzero(full, sizeof(full));
	sodium_memzero(&h->work, sizeof(h->work));
}

void hmac_wipe(struct hmac *h)
{
	sodium_memzero(h, sizeof(*h));
}
