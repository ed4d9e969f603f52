/* The shared cipher-suite table; see suites.h. */
#include "tests/unit/suites.h"

#include "tests/unit/test.h"

const struct test_suite test_suites[] = {
    {"aes128gcm16", ENCR_AES_GCM_16, 128, AUTH_NONE, 16 + 4, 0, 8, 16, 4},
    {"aes256gcm16", ENCR_AES_GCM_16, 256, AUTH_NONE, 32 + 4, 0, 8, 16, 4},
    {"chacha20poly1305", ENCR_CHACHA20_POLY1305, 256, AUTH_NONE, 32 + 4, 0, 8, 16, 4},
    {"aes128-sha256", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_256_128, 16, 32, 16, 16, 16},
    {"aes128-sha384", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_384_192, 16, 48, 16, 24, 16},
    {"aes128-sha512", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_512_256, 16, 64, 16, 32, 16},
    {"aes256-sha256", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_256_128, 32, 32, 16, 16, 16},
    {"aes256-sha384", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_384_192, 32, 48, 16, 24, 16},
    {"aes256-sha512", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_512_256, 32, 64, 16, 32, 16},
    {NULL},
};

const struct test_suite *test_suite(const char *name)
{
	for (const struct test_suite *s = test_suites; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	test_fail(__FILE__, __LINE__, "no suite \"%s\" in tests/unit/suites.c", name);
	test_abort();
}
