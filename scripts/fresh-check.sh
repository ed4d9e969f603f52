#!/bin/bash
# The README's two commands on a really fresh Debian 12: a minimal system
# made by debootstrap in a scratch directory, this tree copied in as a
# clean clone would have it (git archive of HEAD, or the working tree with
# --worktree), then inside it, as root:
#   scripts/install-deps.sh && make && scripts/demo.sh
#   scripts/install-deps.sh && make check
# A package the tests need but install-deps.sh forgets fails here, however
# much the host has installed by hand (it happened: strongSwan's openssl
# plugin). The last line is make check's "N passed, N failed".
#
#   scripts/fresh-check.sh [--worktree] [--keep]
#     --worktree  copy the working tree (uncommitted changes too), not HEAD
#     --keep      leave the system in place (its path is printed)
#   MIRROR=URL    Debian mirror (default: the host's, else deb.debian.org)
#
# Needs root and debootstrap (scripts/install-deps.sh installs it). The
# chroot shares the host's kernel: its tests make their network
# namespaces as on the host. Everything started inside is killed at the
# end, found by its root directory (only this run's processes have it).
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
worktree=0
keep=0
for a in "$@"; do
	case $a in
	--worktree) worktree=1 ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--worktree] [--keep]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "fresh-check: run as root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "fresh-check: no debootstrap (scripts/install-deps.sh)" >&2; exit 1; }

MIRROR=${MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ROOT=$(mktemp -d /var/tmp/tunsec-fresh.XXXXXX) || exit 1
# It becomes /: mktemp's 0700 would stop every unprivileged lookup (the
# daemon after its privilege drop reads /proc/self like any process).
chmod 755 "$ROOT"
MOUNTS=()

cleanup() {
	local rc=$? pid i m
	# Processes whose root is our chroot are ours (started in it).
	for ((i = 0; i < 3; i++)); do
		for pid in $(ls /proc | grep -E '^[0-9]+$'); do
			[ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "$pid" 2>/dev/null
		done
		sleep 0.2
	done
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${MOUNTS[$i]}
		umount -R "$m" 2>/dev/null || umount -lR "$m" 2>/dev/null
	done
	if [ "$keep" = 1 ]; then
		echo "fresh-check: kept $ROOT"
	else
		rm -rf --one-file-system "$ROOT"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

step() { echo "== fresh-check: $* ($(date +%T))"; }

step "debootstrap bookworm (minbase) from $MIRROR into $ROOT"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || {
	tail -n 20 "$ROOT.log"
	rm -f "$ROOT.log"
	echo "fresh-check: debootstrap failed"
	echo "0 passed, 1 failed"
	exit 1
}
rm -f "$ROOT.log"
# The host's archive list (updates and security too), and no service
# starts from a package's postinst: nothing runs a chroot's services.
[ -f /etc/apt/sources.list.d/debian.sources ] && rm -f "$ROOT/etc/apt/sources.list" &&
	cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

step "the tree ($([ $worktree = 1 ] && echo "working tree" || echo "HEAD $(git rev-parse --short HEAD 2>/dev/null)"))"
mkdir -p "$ROOT/src"
if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	# not a git checkout (an unpacked tarball): the files as they are
	tar --exclude='./build*' --exclude=./tunsecd --exclude=./tunsec -cf - . | tar -xf - -C "$ROOT/src"
elif [ $worktree = 1 ]; then
	git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C "$ROOT/src"
else
	git archive HEAD | tar -xf - -C "$ROOT/src"
fi

# ip netns exec remounts / as a slave: / must be a mount point in there.
mount --bind "$ROOT" "$ROOT" && MOUNTS+=("$ROOT")
for m in proc sys dev run; do
	mkdir -p "$ROOT/$m"
	case $m in
	proc) mount -t proc proc "$ROOT/proc" ;;
	sys) mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys" ;;
	dev) mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev" ;;
	run) mount -t tmpfs tmpfs "$ROOT/run" ;;
	esac
	MOUNTS+=("$ROOT/$m")
done

inside() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LANG=C.UTF-8 /bin/bash -c "cd /src && $1"; }

step "README command 1: scripts/install-deps.sh && make && scripts/demo.sh"
if ! inside "scripts/install-deps.sh >/tmp/deps.log 2>&1 || { tail -n 30 /tmp/deps.log; exit 1; }
	make -j2 >/tmp/make.log 2>&1 || { tail -n 30 /tmp/make.log; exit 1; }
	scripts/demo.sh"; then
	echo "fresh-check: the README's first command failed on a fresh system"
	echo "0 passed, 1 failed"
	exit 1
fi
step "README command 2: scripts/install-deps.sh && make check"
inside "scripts/install-deps.sh >/tmp/deps2.log 2>&1 || { tail -n 30 /tmp/deps2.log; exit 1; }
	make -j2 check"
