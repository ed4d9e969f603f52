#!/bin/bash
# IKEv2 with X.509 certificates between two tunsecd (RFC 7296 §2.15, §3.6,
# §3.7; RFC 7427), certificates made by strongSwan's `pki`: an ECDSA P-256
# CA, the client an RSA 3072 end entity with subjectAltName moon.example
# (ID FQDN), the server ECDSA P-256 identified by its subject DN.
# Checks: both sides established with the expected IDs; ping through; a
# client whose trust anchor is another CA refuses the server's certificate
# (AUTHENTICATION_FAILED, no SA on either side); private keys, like PSKs,
# never reach a log.
. "$(dirname "$0")/../lib.sh"
lib_init tsIc
topo3 tsIc
command -v pki >/dev/null || die "pki (strongswan-pki) is not installed"
pki() { command pki "$@" 2>/dev/null; } # its plugin loader is chatty

P=$WORK/pki
mkdir -p "$P"
pki --gen --type ecdsa --size 256 --outform pem >"$P/ca.key"
pki --self --in "$P/ca.key" --type ecdsa --ca --lifetime 30 --dn "C=CH, O=tunsec, CN=test CA" \
	--outform pem >"$P/ca.pem"
pki --gen --type ecdsa --size 256 --outform pem >"$P/other.key"
pki --self --in "$P/other.key" --type ecdsa --ca --lifetime 30 --dn "C=CH, O=elsewhere, CN=other CA" \
	--outform pem >"$P/other.pem"
pki --gen --type rsa --size 3072 --outform pem >"$P/moon.key"
pki --issue --in "$P/moon.key" --type priv --cacert "$P/ca.pem" --cakey "$P/ca.key" \
	--lifetime 30 --dn "C=CH, O=tunsec, CN=moon.example" --san moon.example \
	--outform pem >"$P/moon.pem"
pki --gen --type ecdsa --size 256 --outform pem >"$P/sun.key"
pki --issue --in "$P/sun.key" --type priv --cacert "$P/ca.pem" --cakey "$P/ca.key" \
	--lifetime 30 --dn "C=CH, O=tunsec, CN=sun.example" --san sun.example \
	--outform pem >"$P/sun.pem"
[ -s "$P/moon.pem" ] && [ -s "$P/sun.pem" ] || die "pki made no certificates"
SUN_DN="C=CH, O=tunsec, CN=sun.example"

# cert_conf FILE SIDE IF ADDRS LOCAL REMOTE LID RID CERT KEY CA LTS RTS START
cert_conf() {
	cat >"$1" <<CONF
tunsec {
	interface = $3
	addrs = $4
	socket = $WORK/$2.sock
	retransmit_timeout = 0.5
	retransmit_tries = 2
}
connections {
	gw {
		local_addrs = $5
		remote_addrs = $6
		proposals = aes256gcm16-prfsha384-ecp256
		local {
			auth = pubkey
			id = "$7"
			certs = $9
		}
		remote {
			auth = pubkey
			id = "$8"
			cacerts = ${11}
		}
		children {
			net {
				local_ts = ${12}
				remote_ts = ${13}
				esp_proposals = aes256gcm16
				start_action = ${14}
			}
		}
	}
}
secrets {
	private-me {
		file = ${10}
	}
}
CONF
	chmod 600 "$1"
}

cert_conf "$WORK/s.conf" s tss0 "$S_IN4/32" $S_UL "%any" "$SUN_DN" moon.example \
	"$P/sun.pem" "$P/sun.key" "$P/ca.pem" 10.201.2.0/24 10.201.1.0/24 none
cert_conf "$WORK/c.conf" c tsc0 "$C_IN4/32" $C_UL "$C_PEER" moon.example "$SUN_DN" \
	"$P/moon.pem" "$P/moon.key" "$P/ca.pem" 10.201.1.0/24 10.201.2.0/24 start

tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"
established() { "$TUNSEC" -s "${TSD_SOCK[$1]}" status | grep -q "gw\[[0-9]*\]: established"; }
check "client: IKE SA established with certificates" wait_for 10 established c
check "server: IKE SA established" wait_for 5 established s
tsc c status | sed 's/^/     /'
check "client status shows the ID the server authenticated" sh -c "'$TUNSEC' -s '$WORK/c.sock' status | grep -q '    remote id C=CH, O=tunsec, CN=sun.example'"
check "client status names both IDs" sh -c "'$TUNSEC' -s '$WORK/c.sock' status | grep -q 'moon.example ... C=CH, O=tunsec, CN=sun.example'"
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping through the certificate-authenticated tunnel (10/10)" ping_n "$C_NS" $S_IN4 10
check "client exits 0" tsd_stop c

# The same client trusting another CA: the server's certificate does not
# chain (§2.21.2: AUTHENTICATION_FAILED), nothing is installed.
cert_conf "$WORK/c2.conf" c tsc0 "$C_IN4/32" $C_UL "$C_PEER" moon.example "$SUN_DN" \
	"$P/moon.pem" "$P/moon.key" "$P/other.pem" 10.201.1.0/24 10.201.2.0/24 start
mv "${TSD_LOG[c]}" "$WORK/tunsecd-c-first.log"
tsd_start c "$C_NS" "$WORK/c2.conf" || die "client did not restart"
refused() { grep -q "gw: IKE SA #1 failed: we refused the AUTH of .*: certificate not trusted" "${TSD_LOG[c]}"; }
check "client refuses a certificate from an untrusted CA (and says why)" wait_for 10 refused
check_stat "client counts the refusal" c ike auth-failed 1
check "no IKE SA left on the client" sh -c "'$TUNSEC' -s '$WORK/c.sock' status | grep -q 'gw: IKEv2.*, 0 IKE SAs'"
gone() { "$TUNSEC" -s "${TSD_SOCK[s]}" status | grep -q 'gw: IKEv2.*, 0 IKE SAs'; }
check "no IKE SA left on the server" wait_for 10 gone
keyb64=$(sed -n 2p "$P/moon.key")
check "no private key material in any log" sh -c "! grep -qF '$keyb64' '$WORK'/tunsecd-*.log"
check "client exits 0" tsd_stop c
check "server exits 0" tsd_stop s
lib_finish
