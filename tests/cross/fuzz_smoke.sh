#!/bin/bash
# Every libFuzzer target (tests/fuzz/*_fuzz.c), built by `make fuzz` into
# build-fuzz/ (clang, -fsanitize=fuzzer,address,undefined), then run for
# FUZZ_SECONDS each on a copy of its seed corpus tests/fuzz/corpus/<name>/
# (the repository is never written to), as many at once as there are CPUs.
# Fails on any crash, leak, timeout or out-of-memory and prints the path of
# the reproducer, which is kept (with the fuzzer's log) in a directory under
# /tmp; on success nothing is left behind.
#
# The fuzz binaries carry ASan and UBSan themselves, so tests/run.sh runs
# this script once, on the normal build only. Each target first replays its
# whole seed corpus (every file a regression input), then fuzzes for the
# rest of its time.
#
#   FUZZ_SECONDS=N    seconds per target (default 8: the suite's budget is
#                     five minutes for everything; every corpus file is still
#                     replayed in full, and long campaigns run as
#                     FUZZ_SECONDS=600 tests/cross/fuzz_smoke.sh)
#   FUZZ_TARGETS="a b" only these targets (names without _fuzz)
#   FUZZ_JOBS=N       targets run at once (default: the number of CPUs)
set -u
cd "${TUNSEC_TOP:-$(dirname "$0")/../..}"

secs=${FUZZ_SECONDS:-8}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

fail() {
	echo "FAIL: $*"
	exit 1
}

# No clang or no libFuzzer runtime is a broken setup, not a reason to skip.
command -v clang >/dev/null ||
	fail "clang is not installed (scripts/install-deps.sh installs it)"

work=$(mktemp -d /tmp/tunsec-fuzz.XXXXXX) || fail "mktemp"
keep=0
cleanup() {
	if [ "$keep" = 0 ]; then
		rm -rf "$work"
	else
		echo "logs and reproducers kept in $work"
	fi
}
trap cleanup EXIT

printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{\n\treturn 0;\n}\n' \
	>"$work/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$work/probe" "$work/probe.c" \
	>"$work/probe.log" 2>&1; then
	cat "$work/probe.log"
	fail "clang cannot build a libFuzzer target (libFuzzer runtime missing?)"
fi

targets=()
for src in tests/fuzz/*_fuzz.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" ${name%_fuzz} "* ]]; then
		continue
	fi
	targets+=("$name")
done
[ ${#targets[@]} -gt 0 ] || fail "no fuzz targets in tests/fuzz/"

# One build at a time even if two runs of this script overlap.
mkdir -p build-fuzz || fail "mkdir build-fuzz"
echo "building ${targets[*]}"
if ! flock build-fuzz/.lock make -j"$jobs" "${targets[@]/#/build-fuzz/}" \
	>"$work/build.log" 2>&1; then
	keep=1
	tail -n 40 "$work/build.log"
	fail "make fuzz failed"
fi

run_one() {
	local name=$1 dir=$work/$1 seeds=tests/fuzz/corpus/${1%_fuzz}

	mkdir -p "$dir/corpus" "$dir/tmp"
	if [ -d "$seeds" ]; then
		cp -R "$seeds/." "$dir/corpus/"
	fi
	# TMPDIR: where a target keeps scratch files (config_fuzz), so they
	# go with the work directory whatever happens to the process.
	(cd "$dir" && TMPDIR=$dir/tmp exec "$OLDPWD/build-fuzz/$name" \
		-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/" corpus) >"$dir/log" 2>&1
	echo $? >"$dir/rc"
}

echo "running each for ${secs}s, $jobs at once"
running=0
for name in "${targets[@]}"; do
	run_one "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

failed=0
for name in "${targets[@]}"; do
	dir=$work/$name
	rc=$(cat "$dir/rc" 2>/dev/null || echo missing)
	repros=$(find "$dir" -maxdepth 1 -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
		2>/dev/null)
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -n 1)
	if [ "$rc" = 0 ] && [ -z "$repros" ] && [ -n "$done_line" ]; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
		cov=$(sed -n 's/.*DONE *cov: \([0-9]*\).*/\1/p' <<<"$done_line")
		echo "ok   $name: $runs runs, $rate exec/s, cov $cov"
		continue
	fi
	failed=$((failed + 1))
	keep=1
	echo "FAIL $name (exit $rc)"
	grep -E 'ERROR:|SUMMARY:|runtime error:|_fuzz: |Test unit written' "$dir/log" |
		head -n 20 | sed 's/^/  | /'
	[ -n "$done_line" ] || tail -n 15 "$dir/log" | sed 's/^/  | /'
	for r in $repros; do
		echo "  reproducer: $r"
		echo "  replay:     build-fuzz/$name $r"
	done
done
[ "$failed" = 0 ] || fail "$failed of ${#targets[@]} fuzz targets failed"
echo "all ${#targets[@]} fuzz targets passed"
