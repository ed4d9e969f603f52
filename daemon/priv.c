/*
 * Privilege dropping: root -> user, keeping CAP_NET_ADMIN (see priv.h),
 * and the file helper that lets `tunsec reload` read root-only files.
 *
 * Why a helper and not CAP_DAC_READ_SEARCH in the daemon: that capability
 * reads every file of the host, so whoever takes over the daemon (it parses
 * packets from the Internet) would read /etc/shadow and every other
 * secret. The helper is forked before anything else happens, holds only
 * that capability (as tunsec.user, no_new_privs, bounding set cut), never
 * parses a packet, and answers one question over a socketpair: "open this
 * file read-only" with a descriptor (SCM_RIGHTS) or an errno. It opens only
 * what the configuration names: at every reload it first parses the main
 * file itself (the parser that already ran as root at start, on the same
 * root-owned file) and records the files that parse opened (includes) and
 * the certificate and key files it names; any other path is EPERM. So a
 * compromised daemon gains nothing the configuration did not already give
 * it. A descriptor rather than the bytes: the reader keeps its checks
 * (fstat: regular file, size, include cycles by device and inode) and the
 * helper copies nothing; it opens regular files only, O_RDONLY.
 *
 * capset(2) is called directly with linux/capability.h rather than through
 * libcap: we need one fixed capability set, which is two 32-bit words, and
 * that does not justify another run-time dependency (and link flag) for a
 * daemon that runs as root; the kernel ABI (version 3) has been stable
 * since Linux 2.6.26.
 *
 * The order matters (capabilities(7), "Effect of user ID changes"):
 *  1. PR_SET_KEEPCAPS, or changing all uids away from 0 clears the
 *     permitted set too;
 *  2. the bounding set is cut while we still have CAP_SETPCAP;
 *  3. groups before uid: after setresuid() we may no longer change them;
 *  4. capset() to CAP_NET_ADMIN only: after the uid change the effective
 *     set is empty and the permitted set still holds everything;
 *  5. no_new_privs last, so no exec (of a setuid binary, or one with file
 *     capabilities) can ever raise privileges again.
 */
#include "daemon/priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "daemon/config.h"
#include "daemon/conftree.h"
#include "daemon/log.h"

#include <sodium.h>

/* The one capability kept: CAP_NET_ADMIN (the daemon), CAP_DAC_READ_SEARCH
 * (the file helper). */
static unsigned keep_cap = CAP_NET_ADMIN;
#define KEEP_WORD (keep_cap / 32)
#define KEEP_BIT  (1u << (keep_cap % 32))

static int caps_get(struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};

	memset(data, 0, sizeof(*data) * _LINUX_CAPABILITY_U32S_3);
	return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

static int caps_keep_one(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	data[KEEP_WORD].effective = KEEP_BIT;
	data[KEEP_WORD].permitted = KEEP_BIT;
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* 1 if this process has exactly one thread, 0 if more, -errno if unknown. */
static int single_threaded(void)
{
	char line[128];
	int threads = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &threads) == 1)
			break;
	fclose(f);
	if (threads < 1)
		return -ENOENT;
	return threads == 1;
}

static int lookup(const char *user, const char *group, uid_t *uid, gid_t *gid)
{
	char buf[16384];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	int rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
	if (rc != 0)
		return -rc;
	if (!pwp)
		return -ENOENT;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	if (group && group[0]) {
		rc = getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
		if (rc != 0)
			return -rc;
		if (!grp)
			return -ENOENT;
		*gid = gr.gr_gid;
	}
	return 0;
}

/* The bounding set limits what any later exec could ever gain; drop all
 * but the one kept. PR_CAPBSET_DROP fails with EINVAL past the kernel's
 * last capability, which ends the loop. */
static int bounding_set_cut(void)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		if (cap == keep_cap)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL && cap > CAP_NET_ADMIN)
				break;
			return -errno;
		}
	}
	return 0;
}

/* After the drop: could anything come back? */
static int verify(uid_t uid, gid_t gid)
{
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid)
		return -ENOTRECOVERABLE;
	if (getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
		return -ENOTRECOVERABLE;
	if (setuid(0) == 0 || (gid != 0 && setgid(0) == 0))
		return -ENOTRECOVERABLE;
	if (caps_get(data) < 0)
		return -ENOTRECOVERABLE;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t want = (unsigned)i == KEEP_WORD ? KEEP_BIT : 0;

		if (data[i].effective != want || data[i].permitted != want ||
		    data[i].inheritable != 0)
			return -ENOTRECOVERABLE;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -ENOTRECOVERABLE;
	return 0;
}

int priv_drop(const char *user, const char *group)
{
	uid_t uid;
	gid_t gid;
	int rc;

	if (!user || !user[0]) {
		log_info("no user configured: staying root, with every privilege");
		return 0;
	}
	rc = lookup(user, group, &uid, &gid);
	if (rc < 0)
		return rc;
	if (uid == 0)
		return -EINVAL; /* "root" is not a drop; "" says stay root */
	if (geteuid() != 0)
		return -EPERM;
	rc = single_threaded();
	if (rc == 0)
		return -EBUSY;
	/* rc < 0: no /proc (a chroot, say); the caller promised one thread. */

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	rc = bounding_set_cut();
	if (rc < 0)
		return rc;
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	rc = caps_keep_one();
	if (rc < 0)
		return rc;
	/* Ambient capabilities (Linux 4.3) would survive an exec; we hold
	 * none, but make sure. EINVAL: a kernel without them. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return verify(uid, gid);
}

/* ---- the file helper ------------------------------------------------------ */

#define REQ_MAX 4097 /* 'C' or 'F', then a path */

static int helper_fd = -1; /* the daemon's end; -1: open(2) ourselves */

/* The helper's allowlist: what its own parse of the file opened or names. */
static char **allowed;
static size_t n_allowed;

static void allow(const char *path)
{
	char **a = realloc(allowed, (n_allowed + 1) * sizeof(*a));

	if (!a)
		return;
	allowed = a;
	if ((allowed[n_allowed] = strdup(path)))
		n_allowed++;
}

static void allow_clear(void)
{
	for (size_t i = 0; i < n_allowed; i++)
		free(allowed[i]);
	free(allowed);
	allowed = NULL;
	n_allowed = 0;
}

static int open_regular(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* In the helper, while it parses: open and remember. */
static int recording_open(const char *path)
{
	int fd = open_regular(path);

	if (fd >= 0)
		allow(path);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

/* 'C' path: parse it as the daemon will, to learn which files it may ask
 * for. Its errors are the daemon's to report, from its own parse. */
static void helper_config(const char *path)
{
	struct tunsec_config c;
	char err[512];

	allow_clear();
	allow(path);
	conftree_open = recording_open;
	if (config_load(&c, path, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < c.n_key_files; i++)
			allow(c.key_files[i]);
		for (size_t i = 0; i < c.n_conns; i++) {
			/* both authentication rounds' (round 2: EAP-TLS) */
			const struct cfg_end *ends[] = {&c.conns[i].local, &c.conns[i].remote,
							&c.conns[i].local2, &c.conns[i].remote2};

			for (size_t e = 0; e < sizeof(ends) / sizeof(ends[0]); e++)
				for (unsigned k = 0; k < ends[e]->n_certs; k++)
					allow(ends[e]->certs[k]);
		}
		config_free(&c);
	}
	conftree_open = NULL;
}

static void reply(int sock, int err, int fd)
{
	struct msghdr m = {0};
	struct iovec iov = {&err, sizeof(err)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;

	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	(void)sendmsg(sock, &m, MSG_NOSIGNAL);
	if (fd >= 0)
		close(fd);
}

static void helper_main(int sock)
{
	char req[REQ_MAX + 1];
	ssize_t n;

	while ((n = recv(sock, req, REQ_MAX, 0)) > 0 || (n < 0 && errno == EINTR)) {
		bool ok = false;
		int fd;

		if (n <= 1)
			continue;
		req[n] = '\0';
		if (strlen(req) != (size_t)n) {
			reply(sock, EINVAL, -1);
			continue;
		}
		if (req[0] == 'C') {
			helper_config(req + 1);
			reply(sock, 0, -1);
			continue;
		}
		for (size_t i = 0; i < n_allowed && !ok; i++)
			ok = strcmp(allowed[i], req + 1) == 0;
		if (req[0] != 'F' || !ok) {
			reply(sock, EPERM, -1);
			continue;
		}
		fd = open_regular(req + 1);
		reply(sock, fd < 0 ? -fd : 0, fd);
	}
	_exit(0);
}

static int daemon_open(const char *path);

int priv_helper_start(const char *user, const char *group)
{
	int sv[2], rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (pid == 0) {
		/* Nothing of the daemon's but stderr (the log) and our end. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() == 1)
			_exit(0);
		keep_cap = CAP_DAC_READ_SEARCH;
		if ((rc = priv_drop(user, group)) < 0) {
			log_err("file helper: cannot drop privileges to %s: %s", user,
				strerror(-rc));
			_exit(1);
		}
		helper_main(sv[1]);
	}
	close(sv[1]);
	helper_fd = sv[0];
	conftree_open = daemon_open;
	/* It ends with us (its end of the socket reads EOF); no zombie. */
	signal(SIGCHLD, SIG_IGN);
	return 0;
}

static int ask(char kind, const char *path, int *fd_out)
{
	char req[REQ_MAX];
	int err = EIO;
	size_t len = strlen(path);
	struct msghdr m = {0};
	struct iovec iov = {&err, sizeof(err)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	ssize_t n;

	*fd_out = -1;
	if (len + 1 > sizeof(req))
		return -ENAMETOOLONG;
	req[0] = kind;
	memcpy(req + 1, path, len);
	if (send(helper_fd, req, len + 1, MSG_NOSIGNAL) < 0)
		return -errno;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(helper_fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(err))
		return -EIO;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd_out, CMSG_DATA(c), sizeof(int));
	if (kind == 'F' && err == 0 && *fd_out < 0)
		return -EIO;
	return -err;
}

int priv_open(const char *path)
{
	int fd, rc;

	/* Still root (set-up, before the drop): no need to ask. */
	if (helper_fd < 0 || geteuid() == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	rc = ask('F', path, &fd);
	return rc < 0 ? rc : fd;
}

int priv_reload_begin(const char *path)
{
	int fd;

	return helper_fd < 0 || geteuid() == 0 ? 0 : ask('C', path, &fd);
}

/* conftree's opener in the daemon. */
static int daemon_open(const char *path)
{
	int fd = priv_open(path);

	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

int priv_read(const char *path, uint8_t **buf, size_t *len, size_t max)
{
	int fd = priv_open(path), rc = 0;
	uint8_t *b;
	size_t n = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	if (!(b = malloc(max))) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, b + n, max - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc < 0 || n == 0) {
		sodium_memzero(b, max);
		free(b);
		return rc < 0 ? rc : -ENODATA;
	}
	*buf = b;
	*len = n;
	return 0;
}
