/*
 * Dropping root once everything privileged has been opened.
 *
 * tunsecd starts as root to create the TUN device, bind its sockets
 * (raw ESP needs CAP_NET_RAW, which is not kept: the sockets stay open)
 * and configure addresses and routes. Afterwards it needs exactly one
 * privilege: CAP_NET_ADMIN, to add and remove routes and addresses while
 * running (IKE virtual IPs, CHILD_SAs coming and going) and to restore the
 * routing table on exit. Everything else goes.
 */
#ifndef TUNSEC_DAEMON_PRIV_H
#define TUNSEC_DAEMON_PRIV_H

#include <stddef.h>
#include <stdint.h>

/*
 * Become user (and group, or the user's primary group when group is NULL or
 * "") keeping only CAP_NET_ADMIN, effective and permitted; nothing
 * inheritable or ambient, the bounding set cut down to CAP_NET_ADMIN, and
 * no_new_privs set so that no exec can ever gain privileges again. The
 * supplementary groups become just that group. user "" (or NULL) means
 * "stay root": nothing changes, and this is logged.
 *
 * Call it from the main thread before any other thread is started:
 * capabilities are per thread (capset(2) changes only the caller's).
 * On success it checks its own work: uid and gid 0 can no longer be
 * regained and no other capability is left.
 *
 * Returns 0, or:
 *   -ENOENT          no such user or group
 *   -EINVAL          user is uid 0 (say "" to stay root)
 *   -EPERM           not running as root (euid != 0), nothing to drop from
 *   -EBUSY           more than one thread in the process
 *   -ENOTRECOVERABLE the check after the drop failed (a privilege could
 *                    still be regained); the caller must exit
 *   another -errno   from the failing system call (prctl, setgroups,
 *                    setresgid, setresuid, capset); the process may be
 *                    half-way, so the caller must exit, not carry on
 */
int priv_drop(const char *user, const char *group);

/*
 * The file helper (see priv.c's header for why a helper): fork a process
 * that becomes user/group keeping CAP_DAC_READ_SEARCH only and opens, on
 * request, the files the configuration names. Call it before anything is
 * opened (it closes every descriptor but stdio) and before priv_drop();
 * tunsecd does so only when tunsec.user is set. 0 or -errno.
 */
int priv_helper_start(const char *user, const char *group);

/* Before a reload's config_load(path): the helper re-parses path to learn
 * what it may open. 0 (also without a helper) or -errno. */
int priv_reload_begin(const char *path);

/* open(path, O_RDONLY), by the helper if there is one. fd or -errno
 * (-EPERM: a file the configuration does not name). */
int priv_open(const char *path);

/* A whole file of at most max - 1 bytes into *buf (malloc'd; the caller
 * wipes and frees it). 0, or -errno: -EFBIG too large, -ENODATA empty. */
int priv_read(const char *path, uint8_t **buf, size_t *len, size_t max);

#endif
