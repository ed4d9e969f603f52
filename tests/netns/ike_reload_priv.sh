#!/bin/bash
# `tunsec reload` after the privilege drop (tunsec.user = nobody) with a
# root-only configuration: the file is 0600 root:root in a 0700 root
# folder, so only the file helper (daemon/priv.c: a process forked at start
# that keeps CAP_DAC_READ_SEARCH alone and opens only the files the
# configuration names) can read it. Two tunsecd over IKEv2 (RFC 7296).
# Checks: the daemon runs as nobody and cannot open the file itself; a
# reload with a changed esp_proposals replaces the connection (new CHILD_SA
# with the new cipher, ping through it); a reload with a broken file still
# names file, line and key; the helper ends with the daemon.
. "$(dirname "$0")/../lib.sh"
lib_init tsIp
topo3 tsIp
PSK="ike reload priv test $RANDOM$RANDOM shared secret"

client_conf() {
	TSEC_EXTRA="user = nobody" ESP_PROPOSALS=$1 ike_conf "$WORK/c.conf" c tsp0 "$C_IN4/32" \
		$C_UL "$C_PEER" moon.example sun.example "10.201.1.0/24" "10.201.2.0/24" start
	chown root:root "$WORK/c.conf"
	chmod 600 "$WORK/c.conf"
}
client_conf aes256gcm16
ESP_PROPOSALS="aes256gcm16, chacha20poly1305" ike_conf "$WORK/s.conf" s tsq0 "$S_IN4/32" \
	$S_UL "%any" sun.example moon.example "10.201.2.0/24" "10.201.1.0/24" none
chmod 700 "$WORK"

tsd_start s "$S_NS" "$WORK/s.conf" || die "server did not start"
tsd_start c "$C_NS" "$WORK/c.conf" || die "client did not start"
status() { "$TUNSEC" -s "${TSD_SOCK[$1]}" status; }
child_line() { status c | grep -o 'net{0x[^}]*}: [a-z0-9]*'; }
established() { status "$1" | grep -q "gw\[[0-9]*\]: established"; }
reload() { "$TUNSEC" -s "${TSD_SOCK[c]}" reload 2>&1; }

check "IKE SA up" wait_for 10 established c
check "the client logs the drop to nobody" grep -q "running as nobody" "${TSD_LOG[c]}"
for p in $(pgrep -x tunsecd); do
	if grep -q "$WORK/c.conf" "/proc/$p/cmdline" 2>/dev/null && [ "$(stat -c %U /proc/$p)" = nobody ]; then
		users+=" $p"
	fi
done
say "tunsecd processes running as nobody with c.conf:${users:-none}"
check "daemon and file helper both run as nobody" test "$(wc -w <<<"$users")" -ge 2
check "nobody cannot read the file itself" sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups cat '$WORK/c.conf' >/dev/null 2>&1"

client_conf chacha20poly1305
out=$(reload)
say "reload: $out"
check "changed esp_proposals read from the root-only file: replaced" grep -q '0 new, 0 removed, 1 replaced' <<<"$out"
chacha() { child_line | grep -q chacha20poly1305 && established s; }
check "a new CHILD_SA with ChaCha20-Poly1305" wait_for 10 chacha
wait_for 5 ping_n "$C_NS" $S_IN4 1 >/dev/null
check "ping through the new SA (5/5)" ping_n "$C_NS" $S_IN4 5

cp "$WORK/c.conf" "$WORK/c.good"
sed -i 's/^\(\t\tproposals = .*\)$/\1\n\t\tbogus_key = 1/' "$WORK/c.conf"
if out=$(reload); then bad "reload of a broken file must fail"; else ok "reload of a broken file fails"; fi
say "reload: $out"
check "the error names file, line and key" grep -q 'c.conf:[0-9]*: connections.gw.bogus_key: unknown key' <<<"$out"
cp "$WORK/c.good" "$WORK/c.conf"

check "client exits 0" tsd_stop c
gone() { for p in $users; do [ -d "/proc/$p" ] && return 1; done; return 0; }
check "the file helper ended with the daemon" wait_for 5 gone
check "server exits 0" tsd_stop s
lib_finish
