#!/usr/bin/env bash
# Sigstore bundle verifications per second (every check) next to OpenSSL's
# raw ECDSA P-256 verifications per second on the same machine.
#   tests/bench/sigstore.sh [BUILD_DIR]   (default build/; built if needed)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
fixtures=${TG_FIXTURES:-../shared/fixtures}
secs=${BENCH_SECONDS:-3}
out=tests/bench/out
mkdir -p "$out"
if [ ! -f "$build/verify/libtollgate-verify.a" ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j2 --target tollgate-verify >/dev/null
fi
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude \
	-o "$out/sigstore_bench" tests/bench/sigstore_bench.c \
	"$build/verify/libtollgate-verify.a" \
	$(pkg-config --libs openssl jansson libcurl yaml-0.1 libarchive) -lpthread
echo "== tollgate (all checks, one thread)"
"$out/sigstore_bench" "$fixtures" "$secs"
echo "== openssl speed -seconds $secs ecdsap256 (one thread)"
openssl speed -seconds "$secs" ecdsap256 2>/dev/null | awk '
	/ecdsa \(nistp256\)/ { printf "%-32s %8.0f ECDSA P-256 verifications/s\n", "openssl", $NF }'
