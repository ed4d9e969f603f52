#!/bin/bash
# asan: the RADIUS client core on real sockets against FreeRADIUS
# The RADIUS client core (daemon/radius.c, through tests/tools/radclient_t)
# against a real FreeRADIUS 3.2 (Debian's freeradius), in a namespace of
# its own, with a configuration this script writes into $WORK.
# Checks:
#  - PAP (RFC 2865 §5.2 User-Password hiding): Access-Accept with Class,
#    Framed-IP-Address, Session-Timeout, Reply-Message and MS-MPPE keys
#    that FreeRADIUS encrypts (RFC 2548) and we decrypt to the MSK in
#    strongSwan's order (Recv-Key | Send-Key); FreeRADIUS's client entry
#    requires Message-Authenticator, so ours is right (RFC 3579 §3.2); a
#    wrong password gets an Access-Reject;
#  - EAP (RFC 3579): EAP-Response/Identity answered by an Access-Challenge
#    with EAP-Message, State and Message-Authenticator; EAP-MD5 completed
#    with the State echoed, ending in Access-Accept + EAP-Success;
#  - accounting (RFC 2866): Start and Stop, the octet (with Gigawords),
#    packet and time counters as FreeRADIUS's detail file records them;
#  - Blast-RADIUS: an Access-Accept without Message-Authenticator (a
#    FreeRADIUS user whose reply has none, and a fake server in Python) is
#    dropped and counted, and so is one with a wrong Message-Authenticator;
#  - failover: a dead first server (no listener) and a server that answers
#    only forgeries both give way to the next server.
. "$(dirname "$0")/../lib.sh"
TAG=tsRd
lib_init "$TAG" no-daemon
RADCLIENT=$BUILD_DIR/radclient_t
[ -x "$RADCLIENT" ] || die "no $RADCLIENT (make B=$BUILD build-tests)"
FREERADIUS=$(command -v freeradius || command -v radiusd) || die "no freeradius (scripts/install-deps.sh)"
NS=${TAG}$$
ns_add "$NS"
# All on lo: FreeRADIUS on 127.0.0.1, the fake server on 127.0.0.2,
# nothing on 127.0.0.3 (the dead server).
SECRET="radius test $RANDOM$RANDOM secret"
RD=$WORK/raddb
mkdir -p "$RD/log" "$RD/run" "$RD/radacct"

# MS-MPPE keys the users file hands out; FreeRADIUS encrypts them with the
# Request Authenticator and the secret (RFC 2548 §2.4.2).
RECV_KEY=$(rand_hex 32 | sed "s/^0x//")
SEND_KEY=$(rand_hex 32 | sed "s/^0x//")

cat >"$RD/radiusd.conf" <<EOF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $RD/log
raddbdir = $RD
radacctdir = $RD/radacct
name = freeradius
confdir = $RD
modconfdir = $RD/mods-config
certdir = $RD
cadir = $RD
run_dir = $RD/run
db_dir = $RD
libdir = /usr/lib/freeradius
pidfile = $RD/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
	destination = stdout
	auth = yes
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}
proxy_requests = no
client lo {
	ipaddr = 127.0.0.0/8
	secret = "$SECRET"
	require_message_authenticator = yes
}
thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 2
}
modules {
	pap {
		normalise = yes
	}
	files {
		filename = $RD/users
	}
	detail {
		filename = $RD/radacct/detail
		permissions = 0600
		header = "%t"
	}
	eap {
		default_eap_type = md5
		timer_expire = 60
		ignore_unknown_eap_types = no
		max_sessions = 64
		md5 {
		}
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = 1812
	}
	listen {
		type = acct
		ipaddr = 127.0.0.1
		port = 1813
	}
	authorize {
		files
		eap {
			ok = return
		}
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		eap
	}
	preacct {
	}
	accounting {
		detail
	}
	post-auth {
	}
}
EOF
# Message-Authenticator = 0x00 asks FreeRADIUS 3.2.1 to sign a PAP
# Access-Accept (its EAP replies are signed anyway); "plain" gets none.
cat >"$RD/users" <<EOF
alice	Cleartext-Password := "alice-pw"
	Class = "engineering",
	Framed-IP-Address = 10.9.8.7,
	Session-Timeout = 3600,
	Reply-Message = "hello alice",
	MS-MPPE-Recv-Key = 0x$RECV_KEY,
	MS-MPPE-Send-Key = 0x$SEND_KEY,
	Message-Authenticator = 0x00

plain	Cleartext-Password := "plain-pw"
	Class = "unsigned"

bob	Cleartext-Password := "bob-pw"
	Class = "eap-users"
EOF
: >"$RD/dictionary"

# A fake server that answers every Access-Request with an Access-Accept
# whose Response Authenticator is right: without Message-Authenticator
# ("none"), or with a wrong one ("bad").
cat >"$WORK/fake.py" <<'EOF'
import hashlib, hmac, socket, struct, sys
addr, secret, mode = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 1812))
print("listening", flush=True)
while True:
    req, peer = s.recvfrom(4096)
    if len(req) < 20 or req[0] != 1:
        continue
    attrs = bytes([25, 8]) + b"forged"
    if mode == "bad":
        attrs = bytes([80, 18]) + bytes(16) + attrs
    pkt = struct.pack(">BBH", 2, req[1], 20 + len(attrs)) + req[4:20] + attrs
    if mode == "bad":
        mac = bytearray(hmac.new(secret, pkt, hashlib.md5).digest())
        mac[0] ^= 1
        pkt = pkt[:22] + bytes(mac) + pkt[38:]
    auth = hashlib.md5(pkt + secret).digest()
    s.sendto(pkt[:4] + auth + pkt[20:], peer)
    print("answered", req[1], flush=True)
EOF

lib_bg "$WORK/freeradius.log" ip netns exec "$NS" "$FREERADIUS" -d "$RD" -X
FR_PID=$LIB_PID
fr_ready() { grep -q "Ready to process requests" "$WORK/freeradius.log"; }
if ! wait_for 15 fr_ready; then
	tail -n 30 "$WORK/freeradius.log" | sed 's/^/     | /'
	die "freeradius did not start"
fi
say "$("$FREERADIUS" -v 2>/dev/null | head -n 1)"
lib_bg "$WORK/fake-none.log" ip netns exec "$NS" "$PY" "$WORK/fake.py" 127.0.0.2 "$SECRET" none
lib_bg "$WORK/fake-bad.log" ip netns exec "$NS" "$PY" "$WORK/fake.py" 127.0.0.4 "$SECRET" bad
fake_ready() { grep -q listening "$WORK/fake-none.log" && grep -q listening "$WORK/fake-bad.log"; }
wait_for 10 fake_ready || die "fake servers did not start"

FR="127.0.0.1:$SECRET"
OUT=$WORK/out
# rc CMD...: radclient_t in the namespace; output in $OUT, exit status echoed
rc() {
	nsx "$NS" "$RADCLIENT" "$@" >"$OUT" 2>&1
	echo $?
}
field() { grep -o " $1=[^ ]*" "$OUT" | tail -n 1 | cut -d= -f2-; }
counter() { grep "^counter $1=" "$OUT" | cut -d= -f2; }
show() { sed 's/^/     | /' "$OUT"; }

# --- PAP -----------------------------------------------------------------------
check_eq "PAP: Access-Accept from FreeRADIUS (it requires our Message-Authenticator)" \
	"$(rc -s "$FR" pap alice alice-pw)" 0 || show
check_eq "Class as the group" "$(field class)" engineering
check_eq "Framed-IP-Address as the virtual IP" "$(field framed_ip)" 10.9.8.7
check_eq "Session-Timeout" "$(field session_timeout)" 3600
check_eq "MSK = MS-MPPE-Recv-Key | Send-Key (RFC 2548, FreeRADIUS-encrypted)" "$(field msk)" \
	"$RECV_KEY$SEND_KEY"
check "Reply-Message" grep -q 'reply="hello alice"' "$OUT"
check_eq "wrong password: Access-Reject" "$(rc -s "$FR" pap alice wrong)" 1 || show
if grep -q "code=reject" "$OUT"; then
	ok "the Access-Reject carried a valid Message-Authenticator"
else
	bad "no Access-Reject parsed"
	show
fi

# --- EAP -----------------------------------------------------------------------
check_eq "EAP-MD5: Identity, Challenge, Accept" "$(rc -s "$FR" eap-md5 bob bob-pw)" 0 || show
ch=$(grep "round=1" "$OUT")
case $ch in
*code=challenge*eap=01*state=*) ok "round 1: Access-Challenge with EAP-Request, State, Message-Authenticator" ;;
*) bad "round 1: no Access-Challenge with EAP-Message and State: $ch" ;;
esac
case $(grep "round=2" "$OUT") in
*code=accept*eap=03*) ok "round 2 (State echoed): Access-Accept with EAP-Success" ;;
*) bad "round 2: $(grep "round=2" "$OUT")" ;;
esac
check_eq "EAP-MD5 with a wrong password: Access-Reject" "$(rc -s "$FR" eap-md5 bob nope)" 1 || show

# --- accounting ----------------------------------------------------------------
SID=tunsec-$RANDOM
check_eq "Accounting-Request Start answered" "$(rc -s "$FR" acct start "$SID" alice 0 0 0 0 0)" 0 ||
	show
# 5 * 2^32 + 1234 octets in: Acct-Input-Gigawords 5 (RFC 2869 §5.1).
check_eq "Accounting-Request Stop answered" \
	"$(rc -s "$FR" acct stop "$SID" alice 21474837714 987654 4321 1234 77)" 0 || show
DETAIL=$RD/radacct/detail
detail_has() { grep -A40 "Acct-Status-Type = $1" "$DETAIL" | sed '/^$/q' | grep -q "$2"; }
if [ -f "$DETAIL" ]; then
	check "detail: Start for the session" detail_has Start "Acct-Session-Id = \"$SID\""
	check "detail: Stop Acct-Input-Octets = 1234" detail_has Stop "Acct-Input-Octets = 1234"
	check "detail: Stop Acct-Input-Gigawords = 5" detail_has Stop "Acct-Input-Gigawords = 5"
	check "detail: Stop Acct-Output-Octets = 987654" detail_has Stop "Acct-Output-Octets = 987654"
	check "detail: Stop Acct-Input-Packets = 4321" detail_has Stop "Acct-Input-Packets = 4321"
	check "detail: Stop Acct-Output-Packets = 1234" detail_has Stop "Acct-Output-Packets = 1234"
	check "detail: Stop Acct-Session-Time = 77" detail_has Stop "Acct-Session-Time = 77"
	check "detail: NAS-Port-Type Virtual" detail_has Stop "NAS-Port-Type = Virtual"
else
	bad "no detail file $DETAIL"
fi

# --- Blast-RADIUS: answers without or with a wrong Message-Authenticator ---------
check_eq "FreeRADIUS Accept without Message-Authenticator: refused (timeout)" \
	"$(rc -t 300 -r 2 -s "$FR" pap plain plain-pw)" 2 || show
check_eq "  counted as drop-no-message-authenticator" "$(counter drop-no-message-authenticator)" 2
check_eq "fake server, no Message-Authenticator: refused" \
	"$(rc -t 300 -r 2 -s "127.0.0.2:$SECRET" pap alice alice-pw)" 2 || show
check_eq "  counted as drop-no-message-authenticator" "$(counter drop-no-message-authenticator)" 2
check "  the fake server did answer" grep -q answered "$WORK/fake-none.log"
check_eq "fake server, wrong Message-Authenticator: refused" \
	"$(rc -t 300 -r 2 -s "127.0.0.4:$SECRET" pap alice alice-pw)" 2 || show
check_eq "  counted as drop-bad-message-authenticator" "$(counter drop-bad-message-authenticator)" 2

# --- failover ------------------------------------------------------------------
check_eq "dead first server: failover to FreeRADIUS" \
	"$(rc -t 300 -r 2 -s "127.0.0.3:$SECRET" -s "$FR" pap alice alice-pw)" 0 || show
check "  answered by the second server" grep -q "code=accept server=1" "$OUT"
check_eq "  one failover" "$(counter failovers)" 1
check_eq "  one retransmission to the dead server" "$(counter retransmits)" 1
check_eq "forging first server: its answers dropped, failover to FreeRADIUS" \
	"$(rc -t 300 -r 2 -s "127.0.0.2:$SECRET" -s "$FR" pap alice alice-pw)" 0 || show
check "  answered by the second server" grep -q "code=accept server=1" "$OUT"
check_eq "  the forgeries counted" "$(counter drop-no-message-authenticator)" 2
check_eq "dead server for accounting too: failover" \
	"$(rc -t 300 -r 2 -s "127.0.0.3:$SECRET" -s "$FR" acct start "$SID-2" alice 0 0 0 0 0)" 0 ||
	show
check_eq "all servers dead: timeout" "$(rc -t 200 -r 2 -s "127.0.0.3:$SECRET" \
	-s "127.0.0.5:$SECRET" pap alice alice-pw)" 2 || show
check_eq "  after 2 tries on each" "$(counter retransmits)" 2

check "freeradius still running" kill -0 "$FR_PID"
if grep -qi "invalid Message-Authenticator\|Dropping packet without response" "$WORK/freeradius.log"; then
	bad "freeradius dropped a request of ours:"
	grep -i "invalid Message-Authenticator\|Dropping packet" "$WORK/freeradius.log" | head -n 5 |
		sed 's/^/     | /'
else
	ok "freeradius verified every request of ours (no drop in its log)"
fi
lib_finish
