/*
 * esptool: one packet through esp/, for cross-implementation tests.
 *
 *   esptool encap --suite S --spi X --key HEX [--seq N] [--esn] < inner > esp
 *   esptool decap --suite S --spi X --key HEX [--esn] [--window W] [--top N]
 *                 [--local CIDR]... [--remote CIDR]... < esp > inner
 *
 * S is a proposal name (aes128gcm16, aes256gcm16, chacha20poly1305,
 * aes128-sha256, aes256-sha256, aes256-sha384, aes256-sha512). HEX is the
 * whole key material in RFC 7296 §2.17 order (encryption key, salt for the
 * AEADs, then the integrity key). encap gives the packet sequence number N
 * (default 1). decap first marks --top N as seen (so that ESN inference has
 * a high half to start from); without selectors it accepts any address.
 *
 * Exit: 0 done; 2 the packet was dropped ("drop: REASON" on stderr); 1 usage
 * or setup error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "esp/esp.h"

static const struct {
	const char *name;
	int encr;
	unsigned bits;
	int integ;
} suites[] = {
    {"aes128gcm16", ENCR_AES_GCM_16, 128, AUTH_NONE},
    {"aes256gcm16", ENCR_AES_GCM_16, 256, AUTH_NONE},
    {"chacha20poly1305", ENCR_CHACHA20_POLY1305, 256, AUTH_NONE},
    {"aes128-sha256", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_256_128},
    {"aes256-sha256", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_256_128},
    {"aes128-sha384", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_384_192},
    {"aes256-sha384", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_384_192},
    {"aes128-sha512", ENCR_AES_CBC, 128, AUTH_HMAC_SHA2_512_256},
    {"aes256-sha512", ENCR_AES_CBC, 256, AUTH_HMAC_SHA2_512_256},
};

static void usage(void)
{
	fprintf(stderr, "usage: esptool encap|decap --suite S --spi X --key HEX [--seq N] "
	                "[--esn] [--window W] [--top N] [--local CIDR]... [--remote CIDR]...\n");
	exit(1);
}

static int unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static uint8_t cell[PKT_CELL];
	uint8_t key[AEAD_MAX_KEYMAT];
	const char *suite = NULL, *locals[ESP_MAX_SELS], *remotes[ESP_MAX_SELS];
	unsigned n_local = 0, n_remote = 0;
	int keylen = -1, rc, si = -1;
	uint64_t seq = 1, top = 0, spi = 0;
	uint32_t window = REPLAY_DEFAULT;
	bool esn = false, decap;
	struct aead *a;
	struct esp_sa sa;
	struct esp_sel lsel[ESP_MAX_SELS], rsel[ESP_MAX_SELS];
	struct pkt p;
	ssize_t n;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "encap") == 0)
		decap = false;
	else if (strcmp(argv[1], "decap") == 0)
		decap = true;
	else
		usage();
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--esn") == 0) {
			esn = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (strcmp(o, "--suite") == 0)
			suite = v;
		else if (strcmp(o, "--spi") == 0)
			spi = num(v);
		else if (strcmp(o, "--key") == 0)
			keylen = unhex(v, key, sizeof(key));
		else if (strcmp(o, "--seq") == 0)
			seq = num(v);
		else if (strcmp(o, "--top") == 0)
			top = num(v);
		else if (strcmp(o, "--window") == 0)
			window = (uint32_t)num(v);
		else if (strcmp(o, "--local") == 0 && n_local < ESP_MAX_SELS)
			locals[n_local++] = v;
		else if (strcmp(o, "--remote") == 0 && n_remote < ESP_MAX_SELS)
			remotes[n_remote++] = v;
		else
			usage();
	}
	for (size_t i = 0; suite && i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strcmp(suite, suites[i].name) == 0)
			si = (int)i;
	if (si < 0 || keylen < 0 || spi == 0 || spi > UINT32_MAX || seq == 0) {
		fprintf(stderr, "esptool: need a known --suite, --key HEX, --spi and --seq > 0\n");
		return 1;
	}
	rc = aead_new(&a, suites[si].encr, suites[si].bits, suites[si].integ, key, (size_t)keylen);
	if (rc < 0) {
		fprintf(stderr, "esptool: aead_new: %s (key material must be %zu bytes)\n",
		        strerror(-rc),
		        aead_keymat_len(suites[si].encr, suites[si].bits, suites[si].integ));
		return 1;
	}
	rc = esp_sa_init(&sa, (uint32_t)spi, decap, esn, a, window);
	if (rc < 0) {
		fprintf(stderr, "esptool: esp_sa_init: %s\n", strerror(-rc));
		return 1;
	}
	for (unsigned i = 0; i < n_local; i++)
		if (esp_sel_parse(&lsel[i], locals[i]) < 0)
			usage();
	for (unsigned i = 0; i < n_remote; i++)
		if (esp_sel_parse(&rsel[i], remotes[i]) < 0)
			usage();
	if (!n_local) {
		esp_sel_parse(&lsel[0], "0.0.0.0/0");
		esp_sel_parse(&lsel[1], "::/0");
		n_local = 2;
	}
	if (!n_remote) {
		esp_sel_parse(&rsel[0], "0.0.0.0/0");
		esp_sel_parse(&rsel[1], "::/0");
		n_remote = 2;
	}
	if (esp_sa_set_sels(&sa, lsel, n_local, rsel, n_remote) < 0) {
		fprintf(stderr, "esptool: out of memory\n");
		return 1;
	}

	pkt_init(&p, cell, sizeof(cell), PKT_HEADROOM);
	for (;;) {
		size_t room = PKT_CELL - PKT_HEADROOM - PKT_TAILROOM - p.len;

		if (room == 0) {
			fprintf(stderr, "esptool: input larger than one packet cell\n");
			return 1;
		}
		n = read(0, p.data + p.len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("esptool: read");
			return 1;
		}
		if (n == 0)
			break;
		p.len += (size_t)n;
	}

	if (decap) {
		if (top)
			replay_update(&sa.replay, top);
		rc = esp_decap(&sa, &p);
	} else {
		esp_sa_set_seq(&sa, seq - 1);
		rc = esp_encap(&sa, &p);
	}
	if (rc < 0) {
		fprintf(stderr, "drop: %s\n", esp_drop_name((enum esp_drop) - rc));
		esp_sa_destroy(&sa);
		return 2;
	}
	if (fwrite(p.data, 1, p.len, stdout) != p.len || fflush(stdout) != 0) {
		perror("esptool: write");
		return 1;
	}
	esp_sa_destroy(&sa);
	return 0;
}
