#!/bin/bash
# asan: a CHILD_SA refused for another identity's selectors
# One client must not take another's traffic. RFC 4301 §5.1: outbound
# traffic goes to the SA whose selectors match it; RFC 7296 §2.9: an
# initiator may narrow its selectors to any part of what the responder
# allows. With a remote_ts shared by all clients (a road-warrior server
# without pools), client B, authenticated as itself, narrows TSi to client
# A's address 10.99.1.1: tunsecd must refuse B's CHILD_SA (it overlaps an
# installed CHILD_SA of another IKE SA whose peer has another identity),
# count it (total ts-refused), log it, and keep sending A's traffic to A.
#
#	A 10.77.1.2 -- 10.77.1.1  S  10.77.2.1 -- 10.77.2.2 B
#	TUN 10.99.1.1/32     TUN 10.201.2.1/32     TUN 10.99.1.1/32 (the thief)
#
# S: connection rw, remote_addrs = %any, no pools, local_ts 10.201.2.0/24,
# remote_ts 10.99.0.0/16 (shared), one PSK for every client identity.
# A (id a.test) and B (id b.test): local_ts 10.99.1.1/32, start_action
# start. Checks: A's CHILD_SA up, S pings 10.99.1.1 through it; B's IKE SA
# comes up, its CHILD_SA is refused and deleted (B holds none); S's pings
# to 10.99.1.1 still reach A (A's inbound ESP packets grow, B's do not).
. "$(dirname "$0")/../lib.sh"
lib_init tsSt
P=tsSt-$$
S_NS=$P-s
A_NS=$P-a
B_NS=$P-b
ns_add "$S_NS"
ns_add "$A_NS"
ns_add "$B_NS"
veth_add "$S_NS" sta0 10.77.1.1/24 "$A_NS" sta1 10.77.1.2/24
veth_add "$S_NS" stb0 10.77.2.1/24 "$B_NS" stb1 10.77.2.2/24
wait_for 5 nsx "$A_NS" ping -c 1 -W 1 10.77.1.1 || die "no link A-S"
wait_for 5 nsx "$B_NS" ping -c 1 -W 1 10.77.2.1 || die "no link B-S"
PSK="rw steal test $RANDOM$RANDOM shared secret"
STOLEN=10.99.1.1

cat >"$WORK/s.conf" <<E2
tunsec {
	interface = sts0
	addrs = 10.201.2.1/32
	socket = $WORK/s.sock
}
connections {
	rw {
		remote_addrs = %any
		proposals = aes256gcm16-prfsha256-curve25519
		local {
			auth = psk
			id = s.test
		}
		remote {
			auth = psk
		}
		children {
			net {
				local_ts = 10.201.2.0/24
				remote_ts = 10.99.0.0/16
				esp_proposals = aes256gcm16
			}
		}
	}
}
secrets {
	ike-rw {
		id = s.test
		secret = "$PSK"
	}
}
E2

# client_conf SIDE UPLINK ID
client_conf() {
	cat >"$WORK/$1.conf" <<E2
tunsec {
	interface = st${1}0
	addrs = $STOLEN/32
	socket = $WORK/$1.sock
}
connections {
	gw {
		local_addrs = $2
		remote_addrs = ${2%.2}.1
		proposals = aes256gcm16-prfsha256-curve25519
		local {
			auth = psk
			id = $3
		}
		remote {
			auth = psk
			id = s.test
		}
		children {
			net {
				local_ts = $STOLEN/32
				remote_ts = 10.201.2.0/24
				esp_proposals = aes256gcm16
				start_action = start
			}
		}
	}
}
secrets {
	ike-gw {
		id = s.test
		secret = "$PSK"
	}
}
E2
}
client_conf a 10.77.1.2 a.test
client_conf b 10.77.2.2 b.test
chmod 600 "$WORK"/*.conf

child_up() { tsc "$1" status | grep -q "net{0x"; }
established() { tsc "$1" status | grep -q "gw\[[0-9]*\]: established"; }
in_pkts() { tstat "$1" total packets-in; }

tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start a "$A_NS" "$WORK/a.conf" || die "client A did not start"
check "A: CHILD_SA up (TSi $STOLEN/32)" wait_for 10 child_up a
wait_for 5 ping_n "$S_NS" $STOLEN 1 >/dev/null
check "S pings A at $STOLEN (5/5)" ping_n "$S_NS" $STOLEN 5

tsd_start b "$B_NS" "$WORK/b.conf" || die "client B did not start"
check "B: IKE SA established (it authenticated as b.test)" wait_for 10 established b
check_stat "S refused B's CHILD_SA (total ts-refused)" s total ts-refused 1
check "S logs the refusal, naming both identities (RFC 4301 §5.1)" grep -qE \
	"rw/net: refused CHILD_SA 0x[0-9a-f]+ of b\.test .*overlap those of a\.test's CHILD_SA" \
	"${TSD_LOG[s]}"
no_child() { ! child_up "$1"; }
check "B holds no CHILD_SA (S deleted it)" wait_for 5 no_child b
tsc s status | sed 's/^/     S: /'
check_eq "S: one CHILD_SA (A's)" "$(tsc s status | grep -c 'net{0x')" 1

a0=$(in_pkts a)
b0=$(in_pkts b)
check "S pings $STOLEN again (5/5)" ping_n "$S_NS" $STOLEN 5
check_ge "A received them (its inbound ESP packets grew)" "$(($(in_pkts a) - a0))" 5
check_eq "B received none of them" "$(($(in_pkts b) - b0))" 0
check "the PSK is in no log" sh -c "! grep -qF '$PSK' '$WORK'/tunsecd-*.log"
check "B exits 0 on SIGTERM" tsd_stop b
check "A exits 0 on SIGTERM" tsd_stop a
check "S exits 0 on SIGTERM" tsd_stop s
lib_finish
