#!/bin/bash
# The whole suite, in parallel: the unit tests, then every script test
# under tests/cross, tests/netns and tests/interop (one script = one test;
# exit 0 = pass), each on the normal build; the unit tests again and the
# scripts marked "# asan: ..." again on the ASan + UBSan build.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
#
#   BUILD=build ASAN_BUILD=build-asan tests/run.sh [FILTER]
#       FILTER: substring of test names ("asan:" names the ASan runs);
#       ASAN_BUILD= (empty) leaves the ASan runs out
#   JOBS=N           tests at once (default: 2 per CPU; most of a network
#                    test's time is spent waiting on timers and peers)
#   TEST_TIMEOUT=S   seconds before a script is killed (default 240)
#   KEEP_LOGS=1      keep each script's log on success
#
# Every script names its namespaces with its own prefix and its PID
# (tests/lib.sh, tests/interop/swan.lib), works in its own scratch
# directory and kills only what it started, so scripts do not see each
# other. A script's output goes to its own log; the runner prints it whole,
# after the result line, only when the script failed: outputs never
# interleave. Longest first (durations of the last run kept in $TIMES) so
# that the slowest tests do not start last.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD-build-asan}
FILTER=${1:-}
JOBS=${JOBS:-$((2 * $(nproc 2>/dev/null || echo 2)))}
TIMES=${TUNSEC_TEST_TIMES:-/var/tmp/tunsec-test-times}
export TUNSEC_TOP=$PWD
LOGDIR=$(mktemp -d /tmp/tunsec-tests.XXXXXX)
passed=0
failed=0
failures=()
start_all=$(date +%s)

# --- the job list: "name build command..." ----------------------------------

jobs_names=()
declare -A job_build=() job_script=()

add_job() { # name build script|unit
	[ -n "$FILTER" ] && [[ $1 != *"$FILTER"* ]] && return
	jobs_names+=("$1")
	job_build[$1]=$2
	job_script[$1]=$3
}

add_job unit "$BUILD" unit
[ -n "$ASAN_BUILD" ] && add_job asan:unit "$ASAN_BUILD" unit
for t in tests/cross/*.sh tests/netns/*.sh tests/interop/*.sh; do
	[ -f "$t" ] || continue
	name=${t#tests/}
	name=${name%.sh}
	add_job "$name" "$BUILD" "$t"
	# "# asan: why" in a script's header: it runs on the ASan build too.
	if [ -n "$ASAN_BUILD" ] && grep -q '^# asan:' "$t"; then
		add_job "asan:$name" "$ASAN_BUILD" "$t"
	fi
done

# Longest first, by the last recorded durations (unknown ones first: they
# may be long, and they are new).
declare -A last=()
if [ -r "$TIMES" ]; then
	while read -r n s; do last[$n]=$s; done <"$TIMES"
fi
order=$(for n in "${jobs_names[@]}"; do echo "${last[$n]:-9999} $n"; done |
	sort -k1,1nr -k2 | cut -d' ' -f2)

# --- running one job --------------------------------------------------------

log_of() { echo "$LOGDIR/${1//[:\/]/_}.log"; }

run_job() { # name: runs in a subshell; writes its log, rc and seconds
	local name=$1 log rc t0
	log=$(log_of "$name")
	t0=$(date +%s)
	export BUILD=${job_build[$name]}
	if [ "${job_script[$name]}" = unit ]; then
		"$BUILD/unit_tests" >"$log" 2>&1
	else
		timeout --kill-after=10 "${TEST_TIMEOUT:-240}" bash "${job_script[$name]}" >"$log" 2>&1
	fi
	rc=$?
	echo "$rc $(($(date +%s) - t0))" >"$log.rc"
}

report_unit() { # name log rc
	local name=$1 log=$2 rc=$3 tag=${1%unit} summary
	grep -E '^(ok|FAIL)|^  ' "$log" | sed "s/^\(ok  \|FAIL\) /&$tag/"
	summary=$(tail -n 1 "$log")
	if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		[ "${BASH_REMATCH[2]}" = 0 ] || failures+=("$name")
	else
		echo "FAIL $name runner (exit $rc): $(tail -n 5 "$log" | tr '\n' ' ')"
		failed=$((failed + 1))
		failures+=("$name-runner")
	fi
}

report() { # name
	local name=$1 log rc secs
	log=$(log_of "$name")
	read -r rc secs <"$log.rc" || { rc=255; secs=0; }
	echo "$name $secs" >>"$LOGDIR/times"
	if [ "${job_script[$name]}" = unit ]; then
		report_unit "$name" "$log" "$rc"
	elif [ "$rc" -eq 0 ]; then
		echo "ok   $name (${secs}s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name (exit $rc$([ "$rc" = 124 ] && echo ", timed out"), ${secs}s); its output:"
		sed 's/^/  | /' "$log"
		failed=$((failed + 1))
		failures+=("$name")
		return
	fi
	[ -n "${KEEP_LOGS:-}" ] || rm -f "$log" "$log.rc"
}

# --- the scheduler ----------------------------------------------------------

declare -A running=() # pid -> name
for name in $order; do
	while [ ${#running[@]} -ge "$JOBS" ]; do
		wait -n -p done_pid "${!running[@]}"
		report "${running[$done_pid]}"
		unset "running[$done_pid]"
	done
	run_job "$name" &
	running[$!]=$name
done
while [ ${#running[@]} -gt 0 ]; do
	wait -n -p done_pid "${!running[@]}"
	report "${running[$done_pid]}"
	unset "running[$done_pid]"
done

# Durations for the next run's order (a partial run updates its own rows).
if [ -s "$LOGDIR/times" ]; then
	awk '{ t[$1] = $2 } END { for (n in t) print n, t[n] }' \
		$([ -r "$TIMES" ] && echo "$TIMES") "$LOGDIR/times" >"$TIMES.new" 2>/dev/null &&
		mv "$TIMES.new" "$TIMES"
fi

echo "-- $((${#jobs_names[@]})) jobs, $JOBS at once, $(($(date +%s) - start_all)) s"
[ $failed -eq 0 ] && [ -z "${KEEP_LOGS:-}" ] && rm -rf "$LOGDIR"
[ $failed -gt 0 ] && echo "failed: ${failures[*]} (logs in $LOGDIR)"
[ ${#jobs_names[@]} -gt 0 ] || { echo "no test matches '$FILTER'"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
