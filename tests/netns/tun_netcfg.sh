#!/bin/bash
# tun/ and daemon/priv.c end to end, in a network namespace of our own:
# netcfg_check opens a TUN device and configures it through rtnetlink; this
# script checks each step from outside with `ip -n NS` (MTU, up, IPv4 and
# IPv6 addresses, routes with their preferred source and our protocol 116),
# then that netcfg_restore() removed all of it; then that after priv_drop to
# nobody the process cannot open /dev/net/tun but can still add a route and
# an address (CAP_NET_ADMIN kept), and that netcfg_close() as nobody removes
# them again. Exit 0 only if every check passed.
#
# /dev/net/tun: Debian's node is 0666 (anyone may open it; creating a device
# needs CAP_NET_ADMIN, which tunsecd keeps). The check runs in a private
# mount namespace where /dev/net/tun is a 0600 root node, as on systems that
# restrict it, so that "cannot open it after the drop" is something the
# dropped process can be tested for: it proves uid 0 and CAP_DAC_OVERRIDE
# are gone.
#
#	BUILD=build-tun bash tests/netns/tun_netcfg.sh
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TOOL=$PWD/$BUILD/netcfg_check
NS=tsTnetcfg$$
USER_DROP=nobody
failed=0
chk_pid=

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
[ -x "$TOOL" ] || { echo "no $TOOL (make B=$BUILD build-tests)"; exit 1; }
id "$USER_DROP" >/dev/null 2>&1 || { echo "no user $USER_DROP"; exit 1; }

cleanup() {
	if [ -n "$chk_pid" ] && kill -0 "$chk_pid" 2>/dev/null; then
		kill "$chk_pid" 2>/dev/null
		wait "$chk_pid" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT

pass() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=1; }

# has "what" "text" "pattern": the ip(8) output contains the pattern.
has() {
	if grep -Eq -- "$3" <<<"$2"; then pass "$1"; else bad "$1: no /$3/ in:"; echo "$2" | sed 's/^/     | /'; fi
}
hasnt() {
	if grep -Eq -- "$3" <<<"$2"; then bad "$1: /$3/ still in:"; echo "$2" | sed 's/^/     | /'; else pass "$1"; fi
}

# Wait for the tool's next line; it must start with $1.
expect() {
	local line
	if ! read -r -t 30 -u "${CHK[0]}" line; then
		bad "no '$1' from netcfg_check (it failed or hung; see above)"
		exit 1
	fi
	case $line in
	"$1"*) REPLY_LINE=$line ;;
	*) bad "netcfg_check said '$line', want '$1'"; exit 1 ;;
	esac
}
go() { echo go >&"${CHK[1]}"; }

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up

# netcfg_check's stderr (its own ok/FAIL lines) goes to our output.
coproc CHK {
	exec ip netns exec "$NS" unshare --mount --propagation private -- sh -c '
		mount -t tmpfs -o mode=0755,size=64k tsTdevnet /dev/net &&
		mknod -m 0600 /dev/net/tun c 10 200 &&
		exec "$0" --drop "$1"' "$TOOL" "$USER_DROP"
}
chk_pid=$CHK_PID

# --- 1. configured ------------------------------------------------------
expect CONFIGURED
IF=${REPLY_LINE#CONFIGURED }
echo "     device $IF"
link=$(ip -n "$NS" link show dev "$IF")
has "link $IF is up" "$link" "<[^>]*[,<]UP[,>]"
has "link $IF has MTU 1400" "$link" "mtu 1400 "
a4=$(ip -n "$NS" -4 addr show dev "$IF")
a6=$(ip -n "$NS" -6 addr show dev "$IF")
has "IPv4 address" "$a4" "inet 10\.201\.0\.1/24 "
has "IPv6 address" "$a6" "inet6 fd00:201::1/64 "
# A TUN device is IFF_NOARP, so the kernel skips DAD on it anyway; the flag
# matters for the day the daemon configures some other kind of device.
has "IPv6 address carries IFA_F_NODAD" "$a6" "inet6 fd00:201::1/64 .*nodad"
hasnt "IPv6 address is not tentative" "$a6" "fd00:201::1/64.*tentative"
r4=$(ip -n "$NS" -4 route show table main)
r6=$(ip -n "$NS" -6 route show table main)
has "route 10.202.0.0/16 via $IF, scope link, source 10.201.0.1" "$r4" \
	"^10\.202\.0\.0/16 dev $IF proto 116 scope link src 10\.201\.0\.1"
has "route 10.204.0.0/16 (host bits cleared)" "$r4" "^10\.204\.0\.0/16 dev $IF proto 116 scope link"
hasnt "deleted route 10.203.0.0/24 is gone" "$r4" "^10\.203\.0\.0/24"
hasnt "refused route 10.207.0.0/16 is absent" "$r4" "^10\.207\."
has "route fd00:202::/48 via $IF, source fd00:201::1" "$r6" \
	"^fd00:202::/48 dev $IF proto 116 src fd00:201::1"
go

# --- 2. restored ----------------------------------------------------------
expect RESTORED
a=$(ip -n "$NS" addr show dev "$IF")
r4=$(ip -n "$NS" -4 route show table main)
r6=$(ip -n "$NS" -6 route show table main)
hasnt "IPv4 address removed" "$a" "10\.201\.0\.1"
hasnt "IPv6 address removed" "$a" "fd00:201::1"
hasnt "no route of ours left (IPv4)" "$r4" "proto 116"
hasnt "no route of ours left (IPv6)" "$r6" "proto 116"
hasnt "no route to 10.201.0.0/24 left" "$r4" "^10\.201\."
hasnt "no route to fd00:201::/64 left" "$r6" "^fd00:201:"
go

# --- 3. privileges dropped --------------------------------------------------
expect DROPPED
uid=$(awk '/^Uid:/ {print $2}' "/proc/$(pgrep -P "$chk_pid" -x netcfg_check || echo "$chk_pid")/status" 2>/dev/null)
[ "$uid" = "$(id -u "$USER_DROP")" ] && pass "netcfg_check runs as $USER_DROP" ||
	bad "netcfg_check uid is '$uid', want $(id -u "$USER_DROP")"
a=$(ip -n "$NS" -4 addr show dev "$IF")
r4=$(ip -n "$NS" -4 route show table main)
r6=$(ip -n "$NS" -6 route show table main)
has "route 10.205.0.0/24 added by $USER_DROP" "$r4" "^10\.205\.0\.0/24 dev $IF proto 116 scope link"
has "address 10.206.0.1/32 added by $USER_DROP" "$a" "inet 10\.206\.0\.1/32 "
has "route fd00:206::/64 added by $USER_DROP" "$r6" "^fd00:206::/64 dev $IF proto 116"
go

# --- 4. closed as the user ------------------------------------------------
expect CLOSED
a=$(ip -n "$NS" addr show dev "$IF")
r4=$(ip -n "$NS" -4 route show table main)
r6=$(ip -n "$NS" -6 route show table main)
hasnt "address 10.206.0.1 removed by $USER_DROP" "$a" "10\.206\.0\.1"
hasnt "routes removed by $USER_DROP (IPv4)" "$r4" "proto 116"
hasnt "routes removed by $USER_DROP (IPv6)" "$r6" "proto 116"
go

wait "$chk_pid"
rc=$?
chk_pid=
[ $rc = 0 ] && pass "netcfg_check's own checks" || bad "netcfg_check exited $rc"
hasnt "$IF is gone with its last fd" "$(ip -n "$NS" link show 2>&1)" "$IF"

[ $failed = 0 ] && echo "all passed" || echo "some checks failed"
exit $failed
