/*
 * ke_bench: IKEv2 key exchange speed per group on one core, for the backend
 * choice in crypto/ke.c and for scripts/bench.sh. One "op" is what one side
 * does per handshake: make a key pair (ke_new) and compute g^ir from the
 * peer's value (ke_shared, with its validation).
 *
 *   ke_bench [-t SECONDS] [-a] [-g GROUP]
 *
 * One line per group, with the library ke_new() picks:
 *
 *   group=31 op=keygen+shared value=9100 unit=ops/s
 *
 * -a adds a line per library that can do the group, with lib=NAME after
 * group=. -t sets the time per measurement (default 1 s), -g one group.
 * Exit status 1 if any operation fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ke.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ops/s for group on lib (NULL: default), or a negative errno. */
static double measure(int group, const char *lib, double seconds)
{
	uint8_t peer_pub[KE_MAX_PUBLIC], gir[KE_MAX_SHARED];
	struct ke peer, k;
	size_t gir_len;
	double t0, t;
	long n = 0;
	int rc;

	rc = ke_new_lib(&peer, group, true, lib);
	if (rc < 0)
		return rc;
	ke_public(&peer, peer_pub);
	t0 = now_s();
	do {
		/* A batch between clock reads keeps the clock out of the figure. */
		for (int i = 0; i < 4; i++, n++) {
			rc = ke_new_lib(&k, group, true, lib);
			if (rc == 0)
				rc = ke_shared(&k, peer_pub, ke_public_len(&peer), gir, &gir_len);
			ke_free(&k);
			if (rc < 0) {
				ke_free(&peer);
				return rc;
			}
		}
		t = now_s() - t0;
	} while (t < seconds);
	ke_free(&peer);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	static const int all_groups[] = {KE_MODP_1024, KE_MODP_2048, KE_MODP_3072, KE_MODP_4096,
	                                 KE_ECP_256,   KE_ECP_384,   KE_ECP_521,   KE_CURVE25519};
	static const char *const libs[] = {"openssl", "mbedtls", "libsodium"};
	double seconds = 1.0;
	bool each_lib = false;
	int only = -1, opt, status = 0;

	while ((opt = getopt(argc, argv, "t:ag:")) != -1) {
		switch (opt) {
		case 't':
			seconds = atof(optarg);
			break;
		case 'a':
			each_lib = true;
			break;
		case 'g':
			only = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: ke_bench [-t SECONDS] [-a] [-g GROUP]\n");
			return 2;
		}
	}
	for (size_t i = 0; i < sizeof(all_groups) / sizeof(all_groups[0]); i++) {
		int g = all_groups[i];
		double v;

		if (only >= 0 && g != only)
			continue;
		v = measure(g, NULL, seconds);
		if (v < 0) {
			fprintf(stderr, "ke_bench: group %d: %s\n", g, strerror((int)-v));
			status = 1;
			continue;
		}
		printf("group=%d op=keygen+shared value=%.0f unit=ops/s\n", g, v);
		for (size_t l = 0; each_lib && l < sizeof(libs) / sizeof(libs[0]); l++) {
			v = measure(g, libs[l], seconds);
			if (v == -ENOENT)
				continue;
			if (v < 0) {
				fprintf(stderr, "ke_bench: group %d lib %s: %s\n", g, libs[l],
				        strerror((int)-v));
				status = 1;
				continue;
			}
			printf("group=%d lib=%s op=keygen+shared value=%.0f unit=ops/s\n", g,
			       libs[l], v);
		}
	}
	return status;
}
