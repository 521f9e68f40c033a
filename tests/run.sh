#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds into build/ (gcc, -O3
# as in a Release build, with debug info), runs every test with ctest,
# compiles the whole tree with clang as a Release build into build-clang/
# (warnings are errors there too) and runs its unit tests and fuzz corpus
# replays (code whose behaviour depends on the compiler,
# such as the order arguments are evaluated in, shows there), then builds
# with AddressSanitizer and UndefinedBehaviorSanitizer into build-san/ and
# runs every test again.
#
#   ./tests/run.sh                 everything
#   ./tests/run.sh -R yaml         only tests whose name matches (ctest -R)
#   TOLLGATE_SANITIZE_RUN=0 ./tests/run.sh   skip the sanitizer pass
#   TOLLGATE_CLANG_BUILD=0 ./tests/run.sh    skip the clang Release build
#
# Exits non-zero when anything fails; ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

# packages=(...), install_missing, stop_system_registry
. tests/lib/packages.sh

jobs=$(nproc 2>/dev/null || echo 2)
status=0
n_passed=0
n_failed=0

build_and_test() {
	local dir=$1
	shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	local log
	log=$(mktemp)
	ctest --test-dir "$dir" --output-on-failure -j"$jobs" \
		${CTEST_LABEL:+-L "$CTEST_LABEL"} \
		${CTEST_ARGS[@]+"${CTEST_ARGS[@]}"} 2>&1 | tee "$log" ||
		status=1
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
	# "100% tests passed, 0 tests failed out of 12"
	local line failed total
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -1)
	failed=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
	total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
	if [ -n "$line" ]; then
		n_failed=$((n_failed + failed))
		n_passed=$((n_passed + total - failed))
	else
		status=1
	fi
	rm -f "$log"
}

# The clang Release build, then its unit tests and fuzz corpus replays
# (seconds; the integration tests run in the other two passes). gcc and
# clang warn about different things, and some warnings (maybe-uninitialized,
# string-plus-int) appear only with optimisation, so both stay clean; and
# what is unspecified in C (argument evaluation order) differs between them.
clang_release_build() {
	echo "run.sh: build with clang, Release, and run unit and fuzz replays (build-clang/)"
	if ! CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release \
		>/dev/null || ! cmake --build build-clang -j"$jobs"; then
		echo "run.sh: the clang Release build failed"
		n_failed=$((n_failed + 1))
		status=1
		return 0
	fi
	CTEST_LABEL='^(unit|fuzz)$' build_and_test build-clang \
		-DCMAKE_BUILD_TYPE=Release
}

CTEST_ARGS=("$@")
install_missing
stop_system_registry

echo "run.sh: build and test (build/)"
# Release's -O3, with debug info for backtraces: some of gcc's warnings
# that need its optimiser (maybe-uninitialized, dangling-pointer) show at
# -O3 and not at RelWithDebInfo's -O2, and a Release build must be as
# warning-free as the others.
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O3 -g -DNDEBUG"

if [ "${TOLLGATE_CLANG_BUILD:-1}" != 0 ] && [ $# -eq 0 ]; then
	clang_release_build
fi

if [ "${TOLLGATE_SANITIZE_RUN:-1}" != 0 ]; then
	echo "run.sh: build and test with ASan and UBSan (build-san/)"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	build_and_test build-san -DCMAKE_BUILD_TYPE=Debug -DTOLLGATE_SANITIZE=ON
fi

# One closing line for both passes, counted from ctest's summaries.
echo "run.sh: $n_passed passed, $n_failed failed"
exit $status
