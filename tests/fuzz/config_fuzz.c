/*
 * libFuzzer target: the configuration reader, config_load() over
 * daemon/conftree.c (swanctl.conf syntax) and daemon/config.c (key names,
 * values, cross-checks).
 *
 * config_load() takes a path, and includes resolve against the including
 * file's directory, so every input is written to files in a private
 * directory made once per process:
 *
 *	DIR/tunsec.conf           the input up to its first NUL byte
 *	DIR/conf.d/extra.conf     the rest after it, if there is a NUL (else
 *	                          the file does not exist), so that includes
 *	                          of it or of a glob over conf.d/ have
 *	                          something to read
 *
 * (conftree rejects NUL bytes, so NUL is free to serve as the separator.)
 * The directory is under $TMPDIR (tests/cross/fuzz_smoke.sh points that at
 * its own work directory) and removed at exit.
 *
 * Besides memory safety and leaks, a configuration that loads must be one
 * the daemon can use: every manual tunnel's keys fit its proposal and make
 * an SA (esp_sa_init() accepts them), SPIs are >= 256 (RFC 4303 §2.1), and
 * counts and strings stay within their arrays.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "daemon/config.h"
#include "esp/esp.h"
#include "esp/replay.h"

static char dir[4096], main_path[4200], sub_dir[4200], extra_path[4300];
/* CONFIG_FUZZ_VERBOSE=1: print the outcome of every input (the error line,
 * or how many tunnels loaded), for reading reproducers and seeds. */
static bool verbose;

static void die(const char *what)
{
	fprintf(stderr, "config_fuzz: %s\n", what);
	abort();
}

static void cleanup(void)
{
	unlink(extra_path);
	rmdir(sub_dir);
	unlink(main_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	if (sodium_init() < 0)
		die("sodium_init");
	verbose = getenv("CONFIG_FUZZ_VERBOSE") != NULL;
	snprintf(dir, sizeof(dir), "%s/config_fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(main_path, sizeof(main_path), "%s/tunsec.conf", dir);
	snprintf(sub_dir, sizeof(sub_dir), "%s/conf.d", dir);
	snprintf(extra_path, sizeof(extra_path), "%s/extra.conf", sub_dir);
	if (mkdir(sub_dir, 0700) < 0)
		die("mkdir");
	atexit(cleanup);
	return 0;
}

static void put_file(const char *path, const uint8_t *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		die("open");
	while (n > 0) {
		ssize_t w = write(fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		data += w;
		n -= (size_t)w;
	}
	if (close(fd) < 0)
		die("close");
}

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool sel_ok(const struct esp_sel *s)
{
	return s->family == AF_INET || s->family == AF_INET6;
}

static bool addr_ok(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

/* What the daemon relies on in a configuration config_load() accepted. */
static void check_config(const struct tunsec_config *c)
{
	if (!terminated(c->path, sizeof(c->path)) ||
	    !terminated(c->interface, sizeof(c->interface)) ||
	    !terminated(c->user, sizeof(c->user)) || !terminated(c->group, sizeof(c->group)) ||
	    !terminated(c->socket_path, sizeof(c->socket_path)))
		die("a string setting is not NUL-terminated within its array");
	if (c->n_addrs > CFG_MAX_ADDRS)
		die("more tunsec.addrs than CFG_MAX_ADDRS");
	for (unsigned i = 0; i < c->n_addrs; i++) {
		const struct cfg_prefix *p = &c->addrs[i];

		if (!(p->family == AF_INET && p->prefix <= 32) &&
		    !(p->family == AF_INET6 && p->prefix <= 128))
			die("tunsec.addrs entry of no family or an impossible prefix");
	}
	if (c->n_manual && !c->manual)
		die("manual tunnels counted but not allocated");
	for (size_t i = 0; i < c->n_manual; i++) {
		const struct cfg_manual *m = &c->manual[i];
		size_t klen = aead_keymat_len(m->encr, m->key_bits, m->integ);
		struct aead *a;
		struct esp_sa sa;

		if (!terminated(m->name, sizeof(m->name)) || m->name[0] == '\0')
			die("manual tunnel without a proper name");
		if (m->spi_in < 256 || m->spi_out < 256)
			die("SPI below 256 accepted (RFC 4303 §2.1 reserves them)");
		if (klen == 0 || m->key_len != klen || m->key_len > AEAD_MAX_KEYMAT)
			die("key length does not fit the proposal");
		if (!addr_ok(&m->local) || !addr_ok(&m->remote))
			die("tunnel endpoint of no family");
		if (m->n_local_ts == 0 || m->n_local_ts > ESP_MAX_SELS || m->n_remote_ts == 0 ||
		    m->n_remote_ts > ESP_MAX_SELS)
			die("traffic selector count out of range");
		for (unsigned k = 0; k < m->n_local_ts; k++)
			if (!sel_ok(&m->local_ts[k]))
				die("local_ts of no family");
		for (unsigned k = 0; k < m->n_remote_ts; k++)
			if (!sel_ok(&m->remote_ts[k]))
				die("remote_ts of no family");
		if (m->replay_window > REPLAY_MAX)
			die("replay_window above REPLAY_MAX");
		/* The daemon builds both SAs from exactly these fields. */
		if (aead_new(&a, m->encr, m->key_bits, m->integ, m->key_in, m->key_len) < 0)
			die("aead_new rejects key_in of an accepted tunnel");
		if (esp_sa_init(&sa, m->spi_in, true, m->esn, a, m->replay_window) < 0)
			die("esp_sa_init rejects an accepted inbound tunnel");
		esp_sa_destroy(&sa);
		if (aead_new(&a, m->encr, m->key_bits, m->integ, m->key_out, m->key_len) < 0)
			die("aead_new rejects key_out of an accepted tunnel");
		if (esp_sa_init(&sa, m->spi_out, false, m->esn, a, 0) < 0)
			die("esp_sa_init rejects an accepted outbound tunnel");
		esp_sa_destroy(&sa);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tunsec_config c; /* large (paths): not on the stack */
	const uint8_t *nul = memchr(data, '\0', size);
	char err[512];
	size_t n = nul ? (size_t)(nul - data) : size;

	put_file(main_path, data, n);
	if (nul)
		put_file(extra_path, nul + 1, size - n - 1);
	else if (unlink(extra_path) < 0 && errno != ENOENT)
		die("unlink");

	err[0] = '\0';
	if (config_load(&c, main_path, err, sizeof(err)) == 0) {
		if (verbose)
			fprintf(stderr, "config_fuzz: loaded, %zu manual tunnels\n", c.n_manual);
		check_config(&c);
		config_free(&c);
	} else {
		if (err[0] == '\0' || !terminated(err, sizeof(err)))
			die("config_load failed without a message");
		if (verbose)
			fprintf(stderr, "config_fuzz: rejected: %s\n", err);
	}
	return 0;
}
