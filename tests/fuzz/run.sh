#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, build-fuzz/) and runs
# every one for SECONDS (default 60), one after the other, niced. Fails
# when any target finds a crash, a leak, a timeout (an input taking over
# ${FUZZ_TIMEOUT:-10} s) or an out-of-memory (over ${FUZZ_RSS_MB:-2048}
# MB); the input that did it is left in tests/fuzz/crashes/. Prints one
# line per target: executions, coverage (edges), features, corpus size.
#
#   tests/fuzz/run.sh                 every target, 60 s each
#   tests/fuzz/run.sh 600 bundle x509 two targets, 10 minutes each
#   FUZZ_MERGE=1 tests/fuzz/run.sh    also merge what was found into
#                                     tests/fuzz/corpus/ (minimised)
#   FUZZ_RUNS=10000000 tests/fuzz/run.sh 1800
#                                     the campaign: each target stops at
#                                     10 M executions or 30 minutes
#
# New inputs go to build-fuzz/corpus/<parser>/ (kept between runs); the
# committed seeds in tests/fuzz/corpus/<parser>/ are read, not written.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
shift || true
build=${FUZZ_BUILD_DIR:-build-fuzz}
crashes=tests/fuzz/crashes

CC=${FUZZ_CC:-clang} cmake -S . -B "$build" -DTOLLGATE_FUZZ=ON \
	-DTOLLGATE_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
nice cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		t=$(basename "$f" .c)
		targets+=("${t#fuzz_}")
	done
fi

mkdir -p "$crashes"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
printf '%-18s %6s %12s %7s %7s %6s  %s\n' target seconds execs cov ft corpus result
for t in "${targets[@]}"; do
	bin=$build/tests/fuzz/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	work=$build/corpus/$t
	log=$build/fuzz-$t.log
	mkdir -p "$work"
	args=(-max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}"
		-rss_limit_mb="${FUZZ_RSS_MB:-2048}" -max_len=65536
		-print_final_stats=1 -artifact_prefix="$crashes/$t-")
	[ -f "tests/fuzz/dict/$t.dict" ] && args+=(-dict="tests/fuzz/dict/$t.dict")
	[ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
	start=$(date +%s)
	result=ok
	nice -n "${FUZZ_NICE:-10}" "$bin" "${args[@]}" "$work" "$seeds" \
		>"$log" 2>&1 || result=FAILED
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -1 || true)
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
	corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$done_line")
	if [ "$result" != ok ]; then
		status=1
		result="FAILED: $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" || echo see "$log")"
	elif [ "${FUZZ_MERGE:-0}" = 1 ]; then
		nice "$bin" -merge=1 -max_len=65536 "$seeds" "$work" >/dev/null 2>&1 ||
			true
	fi
	printf '%-18s %6s %12s %7s %7s %6s  %s\n' "$t" "$(($(date +%s) - start))" "${execs:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
[ $status -eq 0 ] || echo "fuzz: findings above; reproducers in $crashes/, logs in $build/fuzz-*.log"
exit $status
