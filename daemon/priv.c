/*
 * Privilege dropping: root -> user, keeping CAP_NET_ADMIN (see priv.h).
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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "daemon/log.h"

/* Bits of CAP_NET_ADMIN in the two-word capability sets. */
#define KEEP_WORD (CAP_NET_ADMIN / 32)
#define KEEP_BIT  (1u << (CAP_NET_ADMIN % 32))

static int caps_get(struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};

	memset(data, 0, sizeof(*data) * _LINUX_CAPABILITY_U32S_3);
	return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

static int caps_keep_net_admin(void)
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
 * but CAP_NET_ADMIN. PR_CAPBSET_DROP fails with EINVAL past the kernel's
 * last capability, which ends the loop. */
static int bounding_set_cut(void)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		if (cap == CAP_NET_ADMIN)
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
		uint32_t want = i == KEEP_WORD ? KEEP_BIT : 0;

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
	rc = caps_keep_net_admin();
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
