#!/bin/bash
# Runs the whole suite N times (as `make check` does, after one build) and
# reports, per test, how often it passed and failed, and each run's wall
# time: the way to show that the suite is deterministic, not just green once.
#
#   scripts/soak-tests.sh N [FILTER]
#   LOAD="stress-ng --cpu 1"   run that in the background the whole time
#                              (started here, killed here by its PID)
#   OUT=DIR                    keep each run's output there (default: a
#                              new directory under /tmp, kept if any failed)
#
# Last lines: a table of every test that failed at least once (with the
# runs it failed in), then "N runs: K clean, M with failures; wall s:
# min/median/max".
set -u
cd "$(dirname "$0")/.."
N=${1:?usage: $0 N [FILTER]}
FILTER=${2:-}
OUT=${OUT:-$(mktemp -d /tmp/tunsec-soak.XXXXXX)}
mkdir -p "$OUT"
load_pid=""
stop_load() {
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
	load_pid=""
}
trap stop_load EXIT

echo "building (normal, ASan + UBSan, fuzz targets)"
{ make -j2 build-tests && make -j2 build-tests SANITIZE=1 && make -j2 fuzz; } >"$OUT/build.log" 2>&1 ||
	{ tail -n 30 "$OUT/build.log"; exit 1; }
if [ -n "${LOAD:-}" ]; then
	# shellcheck disable=SC2086
	$LOAD >"$OUT/load.log" 2>&1 &
	load_pid=$!
	echo "load: $LOAD (pid $load_pid)"
fi

clean=0
times=()
for ((k = 1; k <= N; k++)); do
	t0=$(date +%s)
	BUILD=build ASAN_BUILD=build-asan tests/run.sh $FILTER >"$OUT/run-$k.log" 2>&1
	rc=$?
	t=$(($(date +%s) - t0))
	times+=("$t")
	summary=$(tail -n 1 "$OUT/run-$k.log")
	echo "run $k/$N: $summary (${t}s)"
	[ $rc = 0 ] && clean=$((clean + 1))
done
stop_load

echo
echo "per test, over $N runs (only tests that failed at least once):"
awk '
	FNR == 1 { run++ }
	/^ok   / { name = $2; pass[name]++ }
	/^FAIL / { name = $2; fail[name]++; where[name] = where[name] " " run }
	END {
		n = 0
		for (t in fail) { printf "  %-45s %3d passed %3d failed (runs%s)\n", t, pass[t], fail[t], where[t]; n++ }
		if (!n) print "  (none)"
		for (t in pass) tests++
		printf "%d tests seen\n", tests
	}' $(for ((k = 1; k <= N; k++)); do echo "$OUT/run-$k.log"; done)
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "$N runs: $clean clean, $((N - clean)) with failures; wall s: ${sorted[0]}/${sorted[$((N / 2))]}/${sorted[$((N - 1))]} (min/median/max)${LOAD:+; under load: $LOAD}"
if [ $clean = "$N" ] && [ -z "${KEEP:-}" ]; then
	rm -rf "$OUT"
else
	echo "outputs in $OUT"
fi
[ $clean = "$N" ]
