#!/bin/sh
# Regenerate the X.509 fixtures of tests/vectors/certs/ with strongSwan's
# pki (strongswan-pki), the tool whose certificates tunsec must accept
# (RFC 7296 §3.6). Validity is pinned to fixed dates (ten years from
# 2025-01-01) so that committed fixtures keep working; the tests read the
# wall clock through ike_config.wall_time and pin it to 2026-01-01.
#
#   scripts/gen-test-certs.sh [outdir]     (default: tests/vectors/certs)
#
# Besides the PEM files it writes certreq.txt: SHA-1 of each CA's
# SubjectPublicKeyInfo as openssl(1) computes it, the CERTREQ value of
# RFC 7296 §3.7, for the unit tests to compare with ike/cert.c's.
set -eu
out=${1:-tests/vectors/certs}
mkdir -p "$out"
cd "$out"
pki() { command pki "$@" 2>/dev/null; }
D='%Y-%m-%d %H:%M:%S'
NB='2025-01-01 00:00:00'
NA='2035-01-01 00:00:00'
O='C=CH, O=tunsec test'

gen() { pki --gen --type "$1" --size "$2" --outform pem >"$3.key"; }
# issue NAME ISSUER [pki options...]: a certificate for NAME.key
issue() {
	n=$1 ca=$2
	shift 2
	pki --issue --in "$n.key" --type priv --cacert "$ca.pem" --cakey "$ca.key" \
		--dateform "$D" --outform pem "$@" >"$n.pem"
}

# Trust anchors: an RSA 3072 root, an ECDSA P-256 intermediate under it,
# and an unrelated ECDSA root for negative tests.
gen rsa 3072 ca-rsa
pki --self --in ca-rsa.key --type rsa --ca --dn "$O, CN=tunsec RSA CA" \
	--dateform "$D" --not-before "$NB" --not-after "$NA" --outform pem >ca-rsa.pem
gen ecdsa 256 ca-ecdsa
issue ca-ecdsa ca-rsa --type ecdsa --ca --dn "$O, CN=tunsec ECDSA intermediate" \
	--not-before "$NB" --not-after "$NA"
gen ecdsa 256 ca-other
pki --self --in ca-other.key --type ecdsa --ca --dn "C=CH, O=elsewhere, CN=other CA" \
	--dateform "$D" --not-before "$NB" --not-after "$NA" --outform pem >ca-other.pem

# End entities.
gen rsa 2048 moon-rsa
issue moon-rsa ca-rsa --type rsa --dn "$O, CN=moon.tunsec.test" \
	--san moon.tunsec.test --san moon@tunsec.test --san 192.0.2.1 --san 2001:db8::1 \
	--flag serverAuth --flag clientAuth --not-before "$NB" --not-after "$NA"
gen rsa 3072 sun-rsa-pss
issue sun-rsa-pss ca-rsa --type rsa --rsa-padding pss --dn "$O, CN=sun.tunsec.test" \
	--san sun.tunsec.test --san 192.0.2.2 --not-before "$NB" --not-after "$NA"
gen ecdsa 256 sun-ecdsa256
issue sun-ecdsa256 ca-ecdsa --type ecdsa --dn "$O, CN=sun.tunsec.test" \
	--san sun.tunsec.test --san sun@tunsec.test --san 192.0.2.2 \
	--not-before "$NB" --not-after "$NA"
gen ecdsa 384 moon-ecdsa384
issue moon-ecdsa384 ca-rsa --type ecdsa --dn "$O, CN=moon.tunsec.test" \
	--san moon.tunsec.test --san 192.0.2.1 --not-before "$NB" --not-after "$NA"
gen ecdsa 521 moon-ecdsa521
issue moon-ecdsa521 ca-rsa --type ecdsa --dn "$O, CN=moon.tunsec.test" \
	--san moon.tunsec.test --not-before "$NB" --not-after "$NA"
# Negative cases: expired, not yet valid, issued by the other CA.
gen ecdsa 256 expired
issue expired ca-rsa --type ecdsa --dn "$O, CN=expired.tunsec.test" \
	--san expired.tunsec.test --not-before '2015-01-01 00:00:00' --not-after '2016-01-01 00:00:00'
gen ecdsa 256 future
issue future ca-rsa --type ecdsa --dn "$O, CN=future.tunsec.test" \
	--san future.tunsec.test --not-before '2090-01-01 00:00:00' --not-after '2095-01-01 00:00:00'
gen ecdsa 256 moon-other
issue moon-other ca-other --type ecdsa --dn "C=CH, O=elsewhere, CN=moon.tunsec.test" \
	--san moon.tunsec.test --not-before "$NB" --not-after "$NA"

# DER copies for the format auto-detection tests.
openssl x509 -in moon-rsa.pem -outform DER -out moon-rsa.der
openssl pkey -in moon-rsa.key -outform DER -out moon-rsa.key.der
chmod 644 ./*.key ./*.der

{
	echo "# SHA-1 of each CA's DER SubjectPublicKeyInfo (RFC 7296 §3.7), by openssl(1)"
	for ca in ca-rsa ca-ecdsa ca-other; do
		echo "[$ca]"
		echo "spki_sha1:"
		openssl x509 -in $ca.pem -noout -pubkey | openssl pkey -pubin -outform DER |
			openssl dgst -sha1 -r | cut -d' ' -f1
	done
	echo "# DER subject Name of moon-rsa.pem (an ID_DER_ASN1_DN, RFC 7296 §3.5)"
	echo "[moon-rsa]"
	echo "subject:"
	openssl x509 -in moon-rsa.pem -outform DER | /usr/bin/python3 -c '
import sys
d = sys.stdin.buffer.read()
def tlv(b, i):
    l = b[i + 1]; h = 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i + 2:i + 2 + n], "big"); h = 2 + n
    return i + h, l
s, _ = tlv(d, 0)           # Certificate
i, _ = tlv(d, s)           # tbsCertificate contents
fields = []
while len(fields) < 6:
    c, l = tlv(d, i); fields.append((i, c + l)); i = c + l
a, b = fields[5] if d[fields[0][0]] == 0xa0 else fields[4]
print(d[a:b].hex())'
} >certreq.txt
