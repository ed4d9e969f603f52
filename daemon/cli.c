/*
 * tunsec: the command-line client. Sends one command to tunsecd's control
 * socket and prints the answer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tunsec [-s SOCKET] COMMAND\n"
		   "commands:\n"
		   "  status   tunnels, SAs, ciphers and backends, peers, traffic\n"
		   "  stats    every counter, one per line: SCOPE COUNTER VALUE\n"
		   "  version  versions of the CLI and the daemon\n"
		   "  -s SOCKET  control socket (default /run/tunsec.sock)\n");
}

static int ask(const char *path, const char *cmd)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char buf[4096];
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
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "tunsec: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = "/run/tunsec.sock";
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
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "version") == 0)
		printf("tunsec %s\n", TUNSEC_VERSION);
	if (strcmp(argv[optind], "status") && strcmp(argv[optind], "stats") &&
	    strcmp(argv[optind], "version")) {
		fprintf(stderr, "tunsec: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return ask(path, argv[optind]);
}
