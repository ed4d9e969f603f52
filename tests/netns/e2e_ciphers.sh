#!/bin/bash
# Every ESP suite end to end (ESP in UDP): for each proposal bring both
# tunsecd up with fresh random keys of the suite's length, check `tunsec
# status` names the suite (and ESN where asked), ping over IPv4 and IPv6,
# send 4 MiB of random data and compare SHA-256 at the far end, move
# 10 MiB with iperf3, check the counters and that nothing was dropped
# for icv/pad/replay, and take the pair down again.
#   PROPOSALS="aes128gcm16 ..." narrows the list.
. "$(dirname "$0")/../lib.sh"
PROPOSALS=${PROPOSALS:-aes128gcm16 aes256gcm16 chacha20poly1305 aes256-sha256 aes128-sha512
	aes256gcm16-esn}
lib_init tsE-ciphers
topo3 tsEc
iperf_srv "$S_NS"

for p in $PROPOSALS; do
	say "=== $p"
	if ! pair_up "$p" yes; then
		bad "$p: tunnel did not come up"
		pair_down
		continue
	fi
	st=$(tsc c status)
	echo "$st" | sed -n '2p' | sed 's/^/     /'
	name=${p%-esn}
	check "$p: status names the suite ($name)" grep -q "manual gw: $name via " <<<"$st"
	if [ "$p" != "$name" ]; then
		check "$p: inbound SA uses ESN" grep -q "in  spi .*, ESN" <<<"$st"
	fi
	check "$p: ping IPv4 (5/5)" ping_n "$C_NS" $S_IN4 5
	check "$p: ping IPv6 (5/5)" ping_n "$C_NS" $S_IN6 5
	check_xfer "$p" "$C_NS" "$S_NS" $S_IN4 4
	check_tcp "$p" 10 "$C_NS" $S_IN4 60
	check_stat "$p: server gw/in packets" s gw/in packets 5000
	check_stat "$p: client gw/in packets (ACKs; GRO coalesces)" c gw/in packets 100
	for side in c s; do
		d=$(tsum $side total icv pad replay)
		check_eq "$p: $side: no icv/pad/replay drops" "$d" 0
	done
	check "$p: both daemons exit 0" pair_down
done
lib_finish
