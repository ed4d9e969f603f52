#!/bin/bash
# `tunsecd -t` (tunsecd(8)) catches, before a start, what would stop the
# daemon or make its peers refuse it, though the file itself is well-formed:
#  - a control socket in a folder that does not exist: refused (exit 1,
#    naming the folder), as the daemon's start would fail;
#  - a local_addrs host address this host does not have: a warning (IKE
#    cannot use it until it is configured), exit 0;
#  - our own certificate expired, or not valid yet: a warning naming the
#    file and the date (peers refuse it, RFC 5280 §4.1.2.5), exit 0;
# and a file without any of these passes without a warning. Run in a
# namespace of its own, so that "this host's addresses" are the test's.
. "$(dirname "$0")/../lib.sh"
lib_init tsTk
NS=tsTk-$$-h
ns_add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.77.9.1/32 dev lo
command -v pki >/dev/null || die "pki (strongswan-pki) is not installed"
pki() { command pki "$@" 2>/dev/null; } # its plugin loader is chatty

P=$WORK/pki
mkdir -p "$P"
pki --gen --type ecdsa --size 256 --outform pem >"$P/ca.key"
pki --self --in "$P/ca.key" --type ecdsa --ca --lifetime 30 --dn "CN=check CA" --outform pem >"$P/ca.pem"
pki --gen --type ecdsa --size 256 --outform pem >"$P/gw.key"
issue() { # NAME NOT_BEFORE NOT_AFTER
	pki --issue --in "$P/gw.key" --type priv --cacert "$P/ca.pem" --cakey "$P/ca.key" \
		--dn "CN=gw.example" --san gw.example --not-before "$2" --not-after "$3" \
		--dateform "%Y-%m-%d" --outform pem >"$P/$1.pem"
}
issue good "$(date -u -d '-1 day' +%F)" "$(date -u -d '+30 days' +%F)"
issue expired 2020-01-01 2021-01-01
issue future "$(date -u -d '+10 days' +%F)" "$(date -u -d '+40 days' +%F)"
for c in good expired future; do [ -s "$P/$c.pem" ] || die "pki made no $c certificate"; done

conf() { # FILE SOCKET LOCAL_ADDR CERT
	cat >"$1" <<EOF
tunsec {
	interface = tsk0
	socket = $2
}
connections {
	gw {
		local_addrs = $3
		remote_addrs = 10.77.9.2
		local {
			auth = pubkey
			id = gw.example
			certs = $4
		}
		remote {
			auth = pubkey
			cacerts = $P/ca.pem
		}
		children {
			net {
				local_ts = 10.201.9.0/24
				remote_ts = 10.201.8.0/24
			}
		}
	}
}
secrets {
	private-gw {
		file = $P/gw.key
	}
}
EOF
}

# tcheck "what" WANT_RC PATTERN|- CONF: tunsecd -t exits WANT_RC, and its
# output has PATTERN (or, with -, no warning at all)
tcheck() {
	local out rc
	out=$(nsx "$NS" "$TUNSECD" -t -c "$4" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/     | /'
	if [ "$rc" != "$2" ]; then
		bad "$1 (exit $rc, want $2)"
	elif [ "$3" = - ] && echo "$out" | grep -qiE 'warn|error'; then
		bad "$1 (a warning or error where none was due)"
	elif [ "$3" != - ] && ! echo "$out" | grep -qE "$3"; then
		bad "$1 (no line matching '$3')"
	else
		ok "$1"
	fi
}

conf "$WORK/good.conf" "$WORK/ok.sock" 10.77.9.1 "$P/good.pem"
tcheck "a sound file passes without a warning" 0 - "$WORK/good.conf"
conf "$WORK/nodir.conf" "$WORK/missing/ctl.sock" 10.77.9.1 "$P/good.pem"
tcheck "a control socket in a missing folder fails, naming it" 1 \
	"control socket $WORK/missing/ctl.sock: folder $WORK/missing: No such file" "$WORK/nodir.conf"
conf "$WORK/addr.conf" "$WORK/ok.sock" 10.77.9.77 "$P/good.pem"
tcheck "a local_addrs this host does not have: a warning" 0 \
	"local_addrs 10.77.9.77 is not an address of this host" "$WORK/addr.conf"
conf "$WORK/expired.conf" "$WORK/ok.sock" 10.77.9.1 "$P/expired.pem"
tcheck "our certificate expired: a warning with file and date" 0 \
	"certificate $P/expired.pem expired on Jan +1 [0-9:]+ 2021" "$WORK/expired.conf"
conf "$WORK/future.conf" "$WORK/ok.sock" 10.77.9.1 "$P/future.pem"
tcheck "our certificate not valid yet: a warning" 0 \
	"certificate $P/future.pem not valid before" "$WORK/future.conf"
lib_finish
