# Shared helpers for integration tests (bash). Source it first:
#   . "$TG_SOURCE_DIR/tests/lib/common.sh"
# It makes a temporary directory $TT_TMP, tracks servers started with
# tt_bg so the EXIT trap stops them by PID, and counts assertions. End a
# test with tt_done, which prints "N passed, N failed" and sets the exit code.
set -euo pipefail

TG_SOURCE_DIR=${TG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TG_BUILD_DIR=${TG_BUILD_DIR:-$TG_SOURCE_DIR/build}
TG_FIXTURES=${TG_FIXTURES:-$TG_SOURCE_DIR/../shared/fixtures}
TG_BIN=${TG_BIN:-$TG_BUILD_DIR/reconciler/tollgate}
TT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-it-XXXXXX")
TT_PIDS=()
TT_PASSED=0
TT_FAILED=0

tt_cleanup() {
	local pid
	for pid in ${TT_PIDS[@]+"${TT_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in ${TT_PIDS[@]+"${TT_PIDS[@]}"}; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${TT_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TT_TMP" >&2
	else
		rm -rf "$TT_TMP"
	fi
}
trap tt_cleanup EXIT

# Debian's python3, for which packages.sh installs python3-yaml and the
# rest, comes first on PATH. A version manager's shim earlier on PATH (pyenv
# runs some 200 processes per call) made python3 cost more CPU than
# everything else in a test.
if [ -x /usr/bin/python3 ]; then
	mkdir -p "$TT_TMP/bin"
	ln -s /usr/bin/python3 "$TT_TMP/bin/python3"
	PATH=$TT_TMP/bin:$PATH
fi

# A free TCP port on 127.0.0.1 (bound and released; tiny race accepted).
tt_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Run a command in the background, remember its PID for cleanup, and set
# TT_LAST_PID. Output goes to the file named by the first argument.
tt_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	TT_LAST_PID=$!
	TT_PIDS+=("$TT_LAST_PID")
}

# Wait until something listens on 127.0.0.1:PORT (up to SECONDS, default 20).
tt_wait_port() {
	local port=$1 limit=${2:-20} i
	for ((i = 0; i < limit * 10; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "nothing listens on 127.0.0.1:$port after ${limit}s" >&2
	return 1
}

tt_pass() {
	TT_PASSED=$((TT_PASSED + 1))
	echo "ok - $1"
}

tt_fail() {
	TT_FAILED=$((TT_FAILED + 1))
	echo "FAIL - $1" >&2
}

# tt_eq DESCRIPTION EXPECTED ACTUAL
tt_eq() {
	if [ "$2" = "$3" ]; then
		tt_pass "$1"
	else
		tt_fail "$1: expected [$2], got [$3]"
	fi
}

# tt_contains DESCRIPTION HAYSTACK NEEDLE
tt_contains() {
	if [[ "$2" == *"$3"* ]]; then
		tt_pass "$1"
	else
		tt_fail "$1: expected to find [$3] in: $2"
	fi
}

# tt_not_contains DESCRIPTION HAYSTACK NEEDLE
tt_not_contains() {
	if [[ "$2" != *"$3"* ]]; then
		tt_pass "$1"
	else
		tt_fail "$1: did not expect [$3] in: $2"
	fi
}

# tt_run VAR_OUT VAR_RC command...: run, capture stdout+stderr and status.
tt_run() {
	local __out=$1 __rc=$2 __o __r
	shift 2
	set +e
	__o=$("$@" 2>&1)
	__r=$?
	set -e
	printf -v "$__out" '%s' "$__o"
	printf -v "$__rc" '%s' "$__r"
}

# Print the count line and exit non-zero when anything failed or nothing ran.
tt_done() {
	echo "$TT_PASSED passed, $TT_FAILED failed"
	if [ "$TT_FAILED" -ne 0 ] || [ "$TT_PASSED" -eq 0 ]; then
		exit 1
	fi
	exit 0
}
