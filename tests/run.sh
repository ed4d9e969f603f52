#!/bin/bash
# The whole suite: unit tests, then every script test under tests/cross,
# tests/netns and tests/interop (one script = one test; exit 0 = pass).
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
#
#   BUILDS="build build-asan" tests/run.sh [FILTER]
#       each build dir in turn (the second is the ASan + UBSan build);
#       FILTER: substring of test names
#   KEEP_LOGS=1      keep each script's log on success
set -u
cd "$(dirname "$0")/.."
BUILDS=${BUILDS:-${BUILD:-build}}
FILTER=${1:-}
export TUNSEC_TOP=$PWD
LOGDIR=$(mktemp -d /tmp/tunsec-tests.XXXXXX)
passed=0
failed=0
failures=()

run_suite() {
local tag=$1
unit_out="$LOGDIR/${tag}unit.log"
"$BUILD/unit_tests" $FILTER >"$unit_out" 2>&1
unit_rc=$?
grep -E '^(ok|FAIL)|^  ' "$unit_out" | sed "s/^\(ok  \|FAIL\) /&$tag/"
summary=$(tail -n 1 "$unit_out")
if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
	[ "${BASH_REMATCH[2]}" = 0 ] || failures+=("${tag}unit")
else
	echo "FAIL ${tag}unit runner (exit $unit_rc): $(tail -n 5 "$unit_out" | tr '\n' ' ')"
	failed=$((failed + 1))
	failures+=("${tag}unit-runner")
fi

for t in tests/cross/*.sh tests/netns/*.sh tests/interop/*.sh; do
	[ -f "$t" ] || continue
	name=${t#tests/}
	name=$tag${name%.sh}
	[ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && continue
	log="$LOGDIR/${name//\//_}.log"
	start=$(date +%s)
	timeout --kill-after=10 "${TEST_TIMEOUT:-300}" bash "$t" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "ok   $name (${secs}s)"
		passed=$((passed + 1))
		[ -n "${KEEP_LOGS:-}" ] || rm -f "$log"
	else
		echo "FAIL $name (exit $rc, ${secs}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/  | /'
		failed=$((failed + 1))
		failures+=("$name")
	fi
done
}

for BUILD in $BUILDS; do
	export BUILD
	case $BUILD in *asan*) run_suite asan: ;; *) run_suite "" ;; esac
done

[ $failed -eq 0 ] && [ -z "${KEEP_LOGS:-}" ] && rm -rf "$LOGDIR"
[ $failed -gt 0 ] && echo "failed: ${failures[*]} (logs in $LOGDIR)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
