#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds into build/, runs every
# test with ctest, then builds with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-san/ and runs every test again.
#
#   ./tests/run.sh                 everything
#   ./tests/run.sh -R yaml         only tests whose name matches (ctest -R)
#   TOLLGATE_SANITIZE_RUN=0 ./tests/run.sh   skip the sanitizer pass
#
# Exits non-zero when anything fails; ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config git openssl curl ca-certificates
	libgit2-dev libssl-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
	libarchive-dev libcmocka-dev libmicrohttpd-dev
	docker-registry apache2-utils python3 python3-yaml python3-kubernetes
	openssh-server)

install_missing() {
	local missing=() p sudo=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	# kubectl: any kubectl on PATH will do; Debian's is kubernetes-client.
	command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	echo "run.sh: installing ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Debian's docker-registry package starts a system registry on :5000; tests
# start their own on free ports and do not need it.
stop_system_registry() {
	if command -v systemctl >/dev/null 2>&1; then
		systemctl stop docker-registry >/dev/null 2>&1 || true
	fi
}

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

CTEST_ARGS=("$@")
install_missing
stop_system_registry

echo "run.sh: build and test (build/)"
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [ "${TOLLGATE_SANITIZE_RUN:-1}" != 0 ]; then
	echo "run.sh: build and test with ASan and UBSan (build-san/)"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	build_and_test build-san -DCMAKE_BUILD_TYPE=Debug -DTOLLGATE_SANITIZE=ON
fi

# One closing line for both passes, counted from ctest's summaries.
echo "run.sh: $n_passed passed, $n_failed failed"
exit $status
