#!/bin/bash
# `tunsec reload` (tunsec(8)): the connections of a re-read file replace the
# running ones without a restart. Two tunsecd over IKEv2 (RFC 7296).
# Checks: an unchanged file keeps the IKE SA and CHILD_SA (same SPIs); a
# file with an error changes nothing and the answer names file, line and
# key; a reload onto credentials that fail (PSK -> a certificate whose
# private key is missing, or does not match) is refused as a whole: the CLI
# exits non-zero naming file, line and reason, and the running connection
# keeps its IKE SA (same SPIs), CHILD_SA and traffic; a changed
# esp_proposals replaces the connection (Delete, §1.4.1, then a new SA with
# the new cipher); a removed connection is deleted on both sides.
. "$(dirname "$0")/../lib.sh"
lib_init tsIr
topo3 tsIr
PSK="ike reload test $RANDOM$RANDOM shared secret"

client_conf() {
	ESP_PROPOSALS=$1 ike_conf "$WORK/c.conf" c tsc0 "$C_IN4/32" $C_UL "$C_PEER" \
		moon.example sun.example "10.201.1.0/24" "10.201.2.0/24" start
}
client_conf aes256gcm16
ESP_PROPOSALS="aes256gcm16, chacha20poly1305" ike_conf "$WORK/s.conf" s tss0 "$S_IN4/32" \
	$S_UL "%any" sun.example moon.example "10.201.2.0/24" "10.201.1.0/24" none

tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"
status() { "$TUNSEC" -s "${TSD_SOCK[$1]}" status; }
child_line() { status c | grep -o 'net{0x[^}]*}: [a-z0-9]*'; }
established() { status "$1" | grep -q "gw\[[0-9]*\]: established"; }
no_ike_sa() { status "$1" | grep -q "gw: IKEv2.*, 0 IKE SAs"; }
reload() { "$TUNSEC" -s "${TSD_SOCK[c]}" reload 2>&1; }

check "IKE SA up" wait_for 10 established c
before=$(child_line)
out=$(reload)
say "reload: $out"
check "unchanged file: nothing replaced" sh -c "echo '$out' | grep -q '0 new, 0 removed, 0 replaced'"
check "unchanged file: the same CHILD_SA (SPIs) stays" test "$(child_line)" = "$before"

cp "$WORK/c.conf" "$WORK/c.good"
sed -i 's/^\(\t\tproposals = .*\)$/\1\n\t\tbogus_key = 1/' "$WORK/c.conf"
if out=$(reload); then bad "reload of a broken file must fail"; else ok "reload of a broken file fails"; fi
say "reload: $out"
check "the error names file, line and key" sh -c "echo '$out' | grep -q 'c.conf:[0-9]*: connections.gw.bogus_key: unknown key'"
check "nothing changed after the failed reload" test "$(child_line)" = "$before"
if out=$("$TUNSECD" -t -c "$WORK/c.conf" 2>&1); then bad "tunsecd -t must refuse the broken file"; else ok "tunsecd -t refuses the broken file"; fi
check "tunsecd -t names file, line and key" grep -q 'c.conf:[0-9]*: connections.gw.bogus_key: unknown key' <<<"$out"
check "tunsecd -t accepts the good file" "$TUNSECD" -t -c "$WORK/c.good"

# PSK -> certificate, with a key that is missing, then one that does not
# match: the old connection stays as it was.
ike_spis() { status c | grep -o 'SPIs [0-9a-f]*_i [0-9a-f]*_r'; }
ike_before=$(ike_spis)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=moon.example -keyout "$WORK/moon.key" -out "$WORK/moon.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/other.key" 2>/dev/null
[ -s "$WORK/moon.pem" ] && [ -s "$WORK/other.key" ] || die "openssl made no certificate"
to_cert() { # KEYFILE: local auth = pubkey with moon.pem, KEYFILE as the key
	sed "0,/auth = psk/s||auth = pubkey\n\t\t\tcerts = $WORK/moon.pem|" "$WORK/c.good" |
		sed "s|^secrets {|secrets {\n\tprivate-moon {\n\t\tfile = $1\n\t}|" >"$WORK/c.conf"
}
gw_line() { grep -n "^$(printf '\t')gw {" "$WORK/c.conf" | cut -d: -f1; }
for key in missing.key other.key; do
	to_cert "$WORK/$key"
	if out=$(reload); then bad "reload onto $key must fail"; else ok "reload onto $key: the CLI exits non-zero"; fi
	say "reload: $out"
	check "$key: the answer names file and line" grep -q "c.conf:[0-9][0-9]*: " <<<"$out"
	check "$key: the answer names the key file or the certificate" grep -q "$WORK/\(moon.pem\|$key\)" <<<"$out"
	check "$key: the answer says nothing changed" grep -q "nothing changed" <<<"$out"
done
check "mismatching key: the line is the connection's" grep -q "c.conf:$(gw_line): connections.gw: " <<<"$out"
check "mismatching key: the reason is given" grep -q "private key" <<<"$out"
check "the old IKE SA stays (same SPIs)" test "$(ike_spis)" = "$ike_before"
check "the old CHILD_SA stays (same SPIs)" test "$(child_line)" = "$before"
check "traffic still flows through it (3/3)" ping_n "$C_NS" $S_IN4 3
cp "$WORK/c.good" "$WORK/c.conf"

sa_num() { status c | grep -o 'gw\[[0-9]*\]: established' | grep -o '[0-9]\+' | tail -1; }
num_before=$(sa_num)
client_conf chacha20poly1305
out=$(reload)
say "reload: $out"
check "changed esp_proposals: the connection is replaced" sh -c "echo '$out' | grep -q '0 new, 0 removed, 1 replaced'"
chacha() { child_line | grep -q chacha20poly1305 && established s; }
check "a new CHILD_SA with ChaCha20-Poly1305" wait_for 10 chacha
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping through the new SA (5/5)" ping_n "$C_NS" $S_IN4 5
# One engine for the daemon's life: IKE SA numbers go on across reloads
# (a log or a status read before and after never sees #1 twice).
check "the new IKE SA's number follows the old one's (#$num_before < #$(sa_num))" \
	test "$(sa_num)" -gt "$num_before"

sed -n '/^tunsec {/,/^}/p' "$WORK/c.good" >"$WORK/c.conf"
out=$(reload)
say "reload: $out"
check "connection removed from the file: deleted" sh -c "echo '$out' | grep -q '0 connections, 0 new, 1 removed'"
check "server: the Delete removed its SAs" wait_for 5 no_ike_sa s
check "client exits 0" tsd_stop c
check "server exits 0" tsd_stop s
lib_finish
