#!/bin/bash
# Inner UDP through the coalescing paths: two tunsecd with one static-key
# tunnel (aes256gcm16, ESP in UDP, RFC 3948) through a routing middle.
# A sender writes bursts of datagrams (15 of 1200 bytes and a shorter last
# one, so that runs end in a short datagram as RFC 768 boundaries allow),
# each carrying its sequence number and a SHA-256 of the rest; the receiver
# checks that every datagram that arrives is intact (hash), whole (its own
# length, boundaries kept), in order and not duplicated, and that at most
# 1 % went missing. IPv4 and IPv6. Then the counters prove the paths were
# taken: the client sent ESP with UDP_SEGMENT (udp-gso-sent), the server
# received those runs whole on its UDP_GRO port-4500 sockets, IPv4 and IPv6,
# and cut them back into the ESP datagrams (esp-gro-rx, esp-gro-segments),
# wrote inner UDP super-packets into its TUN (udp-gro-merged, when its
# kernel's TUN took USO), and neither side refused one (udp-gso-failed,
# udp-gro-failed, esp-gro-bad stay 0); no icv or replay drops; both daemons
# exit 0. Last, with tunsec.udp_gro = no on both sides, the same traffic
# arrives as intact, and the kernel, not tunsecd, cuts the runs apart
# (esp-gro-rx stays 0).
. "$(dirname "$0")/../lib.sh"
lib_init pf2
topo3 pf2

pair_up aes256gcm16 yes || die "tunnel did not come up"
ok "tunnel up: first ping $C_IN4 -> $S_IN4"

cat >"$WORK/udp.py" <<'PYEOF'
import hashlib, os, socket, struct, sys, time
# recv ADDR PORT N | send ADDR PORT N
mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
BURST, BIG, SMALL = 16, 1200, 333
def size(i):
    return SMALL if i % BURST == BURST - 1 else BIG
if mode == "recv":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    print("listening", flush=True)
    s.settimeout(5)
    got, bad, order, last = 0, 0, 0, -1
    seen = set()
    try:
        while True:
            d = s.recv(65536)
            if len(d) < 40:
                bad += 1
                continue
            seq = struct.unpack("!Q", d[:8])[0]
            if hashlib.sha256(d[40:]).digest() != d[8:40] or len(d) != size(seq):
                bad += 1
                continue
            if seq in seen:
                bad += 1
                continue
            seen.add(seq)
            if seq <= last:
                order += 1
            last = seq
            got += 1
            if got == n:
                break
    except socket.timeout:
        pass
    print(got, bad, order, flush=True)
else:
    for i in range(n):
        body = os.urandom(size(i) - 40)
        s.sendto(struct.pack("!Q", i) + hashlib.sha256(body).digest() + body, (addr, port))
        if i % BURST == BURST - 1:
            time.sleep(0.0005)
    print("sent", n, flush=True)
PYEOF

# udp_xfer WHAT DST N: N datagrams from the client to DST:5302
udp_xfer() {
	local what=$1 dst=$2 n=$3 out res got bad order
	out=$(mktemp "$WORK/udp-rx.XXXXXX")
	lib_bg "$out" ip netns exec "$S_NS" "$PY" "$WORK/udp.py" recv "$dst" 5302 "$n"
	local pid=$LIB_PID
	wait_for 5 grep -q listening "$out" || { bad "$what: receiver did not start"; return 1; }
	timeout 60 ip netns exec "$C_NS" "$PY" "$WORK/udp.py" send "$dst" 5302 "$n" >/dev/null
	wait "$pid" 2>/dev/null
	res=$(tail -1 "$out")
	read -r got bad order <<<"$res"
	say "$what: $n datagrams sent, receiver: $res (received, damaged, out of order)"
	check_ge "$what: at least 99 % of $n datagrams arrived" "${got:-0}" $((n * 99 / 100))
	check_eq "$what: none damaged, cut or duplicated (SHA-256, length)" "${bad:-x}" 0
	check_eq "$what: none out of order" "${order:-x}" 0
}

udp_xfer "IPv4" $S_IN4 40000
gro4=$(tstat s total esp-gro-rx)
check_ge "server received coalesced ESP over IPv4 (UDP_GRO)" "${gro4:-0}" 1
udp_xfer "IPv6" $S_IN6 20000
check_ge "server received coalesced ESP over IPv6 (UDP_GRO) as well" \
	"$(tstat s total esp-gro-rx)" $((${gro4:-0} + 1))

tsc c stats | grep -E 'total (udp-g|esp-gro)' | sed 's/^/     client: /'
tsc s stats | grep -E 'total (udp-g|esp-gro)' | sed 's/^/     server: /'
check_stat "client sent ESP with UDP_SEGMENT" c total udp-gso-sent 1
check_stat "server received ESP runs whole (UDP_GRO)" s total esp-gro-rx 1
# every run the client sent held 2 datagrams or more, and so does every
# coalesced receive; nearly all of what was sent in runs came in runs
check_ge "... cut into at least 2 ESP datagrams each" "$(tstat s total esp-gro-segments)" \
	$((2 * $(tstat s total esp-gro-rx)))
check_ge "... 95 % of the datagrams the client sent in runs" \
	"$(tstat s total esp-gro-segments)" $(($(tstat c total udp-gso-segments) * 95 / 100))
check "server's kernel took UDP_GRO" sh -c "! grep -q 'no UDP_GRO' '${TSD_LOG[s]}'"
# tunsecd logs "USO" among its offloads when the kernel's TUN took it (6.2+)
if grep -q 'offloads on (.*USO' "${TSD_LOG[s]}"; then
	check_stat "server wrote inner UDP super-packets into its TUN" s total udp-gro-merged 1
	check_stat "... holding at least 2 datagrams each" s total udp-gro-segments \
		$((2 * $(tstat s total udp-gro-merged)))
else
	say "the server's TUN took no USO (kernel $(uname -r)): no UDP coalescing expected"
fi
for side in c s; do
	check_eq "$side: no refused UDP super-packets" "$(tstat $side total udp-gro-failed)" 0
	check_eq "$side: no refused UDP_SEGMENT sends" "$(tstat $side total udp-gso-failed)" 0
	check_eq "$side: no bad UDP_GRO receives" "$(tstat $side total esp-gro-bad)" 0
	check_eq "$side: no icv drops" "$(tstat $side total icv)" 0
	check_eq "$side: no replay drops" "$(tstat $side total replay)" 0
done

check "client tunsecd exits 0 on SIGTERM" tsd_stop c
check "server tunsecd exits 0 on SIGTERM" tsd_stop s

# tunsec.udp_gro = no: the receive path of before, one datagram per entry
TSEC_EXTRA="udp_gro = no" pair_up aes256gcm16 yes || die "tunnel (udp_gro = no) did not come up"
ok "tunnel up again with udp_gro = no"
udp_xfer "IPv4, udp_gro = no" $S_IN4 20000
check_stat "client still sent ESP with UDP_SEGMENT" c total udp-gso-sent 1
check_eq "server took no coalesced receive" "$(tstat s total esp-gro-rx)" 0
check_eq "server: no bad UDP_GRO receives" "$(tstat s total esp-gro-bad)" 0
check_eq "server: no icv drops" "$(tstat s total icv)" 0
check "client tunsecd exits 0 on SIGTERM" tsd_stop c
check "server tunsecd exits 0 on SIGTERM" tsd_stop s
lib_finish
