/*
 * The few mbedTLS calls whose names or types differ between 2.28 (what
 * Debian 12 ships) and 3.x, so that crypto/ builds against both.
 *
 * 2.x spells the hash functions mbedtls_sha*_{starts,update,finish}_ret()
 * and marks the old void-returning names deprecated (a warning, so an error
 * under -Werror); 3.0 removed the _ret suffix. 3.x also moved the build
 * configuration from mbedtls/config.h to mbedtls/build_info.h, which
 * mbedtls/version.h pulls in either way, so include this header before
 * testing any MBEDTLS_*_C feature macro.
 *
 * The GCM one-shot calls (mbedtls_gcm_crypt_and_tag, _auth_decrypt), the
 * ChaCha20-Poly1305 one-shot calls and mbedtls_aes_crypt_{ecb,cbc} have the
 * same signatures in both, so they need nothing here.
 */
#ifndef TUNSEC_CRYPTO_MBEDTLS_COMPAT_H
#define TUNSEC_CRYPTO_MBEDTLS_COMPAT_H

#include <mbedtls/version.h>

#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#if MBEDTLS_VERSION_NUMBER < 0x03000000
#define compat_sha1_starts(ctx)          mbedtls_sha1_starts_ret(ctx)
#define compat_sha1_update(ctx, p, n)    mbedtls_sha1_update_ret(ctx, p, n)
#define compat_sha1_finish(ctx, out)     mbedtls_sha1_finish_ret(ctx, out)
#define compat_sha256_starts(ctx, is224) mbedtls_sha256_starts_ret(ctx, is224)
#define compat_sha256_update(ctx, p, n)  mbedtls_sha256_update_ret(ctx, p, n)
#define compat_sha256_finish(ctx, out)   mbedtls_sha256_finish_ret(ctx, out)
#define compat_sha512_starts(ctx, is384) mbedtls_sha512_starts_ret(ctx, is384)
#define compat_sha512_update(ctx, p, n)  mbedtls_sha512_update_ret(ctx, p, n)
#define compat_sha512_finish(ctx, out)   mbedtls_sha512_finish_ret(ctx, out)
#else
#define compat_sha1_starts(ctx)          mbedtls_sha1_starts(ctx)
#define compat_sha1_update(ctx, p, n)    mbedtls_sha1_update(ctx, p, n)
#define compat_sha1_finish(ctx, out)     mbedtls_sha1_finish(ctx, out)
#define compat_sha256_starts(ctx, is224) mbedtls_sha256_starts(ctx, is224)
#define compat_sha256_update(ctx, p, n)  mbedtls_sha256_update(ctx, p, n)
#define compat_sha256_finish(ctx, out)   mbedtls_sha256_finish(ctx, out)
#define compat_sha512_starts(ctx, is384) mbedtls_sha512_starts(ctx, is384)
#define compat_sha512_update(ctx, p, n)  mbedtls_sha512_update(ctx, p, n)
#define compat_sha512_finish(ctx, out)   mbedtls_sha512_finish(ctx, out)
#endif

#endif
