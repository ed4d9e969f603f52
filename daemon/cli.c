/*
 * tunsec: the command-line client. Sends one command to tunsecd's control
 * socket and prints the answer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/daemon.h"
#include "ike/eap_mschapv2.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tunsec [-s SOCKET] COMMAND [NAME]\n"
		   "commands:\n"
		   "  status     tunnels, IKE SAs and CHILD_SAs: peers, IDs, algorithms,\n"
		   "             SPIs, traffic, time to the next rekey\n"
		   "  stats      every counter, one per line: SCOPE COUNTER VALUE\n"
		   "  pools      virtual-IP pools: counters, each lease with its identity\n"
		   "  up NAME    initiate connection NAME\n"
		   "  down NAME  delete connection NAME's IKE SAs (and CHILD_SAs)\n"
		   "  rekey NAME rekey connection NAME's CHILD_SAs now\n"
		   "  reload     re-read the configuration file\n"
		   "  version    versions of the CLI and the daemon\n"
		   "  nthash     read a password on stdin, print its NT hash (MD4 of its\n"
		   "             UTF-16LE form) for secrets { ntlm-NAME { secret = ... } }\n"
		   "  -s SOCKET  control socket (default /run/tunsec.sock)\n");
}

/* `tunsec nthash`: an EAP-MSCHAPv2 user's secret for a server that must
 * not keep the password (RFC 2759 §8.3: MD4 of the UTF-16LE password).
 * The password comes on stdin, never on the command line (ps would show
 * it); one line, the newline not part of it. */
static int nthash(void)
{
	char pw[1024];
	uint8_t h[MSCHAPV2_NT_HASH_LEN];
	size_t n;

	if (!fgets(pw, sizeof(pw), stdin)) {
		fprintf(stderr, "tunsec nthash: no password on stdin\n");
		return 1;
	}
	n = strcspn(pw, "\r\n");
	if (eap_mschapv2_nt_hash((const uint8_t *)pw, n, h) < 0) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "tunsec nthash: not UTF-8, or longer than 256 characters\n");
		return 1;
	}
	sodium_memzero(pw, sizeof(pw));
	printf("0x");
	for (size_t i = 0; i < sizeof(h); i++)
		printf("%02x", h[i]);
	printf("\n");
	sodium_memzero(h, sizeof(h));
	return 0;
}

static int ask(const char *path, const char *cmd)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char buf[4096];
	bool first = true, failed = false;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tunsec: socket path too long: %s\n", path);
		return 1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "tunsec: cannot reach tunsecd at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	snprintf(buf, sizeof(buf), "%s\n", cmd);
	if (write(fd, buf, strlen(buf)) < 0) {
		fprintf(stderr, "tunsec: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first)
			failed = n >= 6 && memcmp(buf, "error:", 6) == 0;
		first = false;
		fwrite(buf, 1, (size_t)n, failed ? stderr : stdout);
	}
	close(fd);
	if (n < 0) {
		fprintf(stderr, "tunsec: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *path = "/run/tunsec.sock";
	const char *cmd;
	char line[200];
	int opt;

	while ((opt = getopt(argc, argv, "s:h")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "up") || !strcmp(cmd, "down") || !strcmp(cmd, "rekey")) {
		/* A name is one word of the config's syntax: no spaces, no
		 * newline that could smuggle a second command. */
		if (optind + 2 != argc || !argv[optind + 1][0] ||
		    strcspn(argv[optind + 1], " \t\r\n") != strlen(argv[optind + 1])) {
			fprintf(stderr, "tunsec: %s needs one connection name\n", cmd);
			return 2;
		}
		snprintf(line, sizeof(line), "%s %s", cmd, argv[optind + 1]);
		return ask(path, line);
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "nthash") == 0)
		return nthash();
	if (strcmp(cmd, "version") == 0)
		printf("tunsec %s\n", TUNSEC_VERSION);
	if (strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "pools") &&
	    strcmp(cmd, "version") && strcmp(cmd, "reload")) {
		fprintf(stderr, "tunsec: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	return ask(path, cmd);
}
