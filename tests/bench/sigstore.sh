#!/usr/bin/env bash
# Sigstore bundle verifications per second (every check), per kind of
# bundle, next to the limit the CPU sets: the time of the signature checks
# that kind needs, from `openssl speed` run in the same invocation, and the
# ratio of the two (1.0 would be a verifier doing nothing but those checks).
# Both sides are measured in CPU time of one thread (openssl speed counts
# user time; the bench counts its process's CPU time), so a busy machine
# slows both alike.
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

# The signature checks of each kind: P-256, P-384 and Ed25519 verifications.
#   happy-path-v0.3 (Rekor v1, public good): the message, the SET, the
#     checkpoint and the SCT (P-256); the leaf by the Fulcio intermediate
#     (P-384). The intermediate against its root is checked once per process.
#   rekor2-happy-path (Rekor v2, staging): the message and the SCT (P-256);
#     the leaf and the RFC 3161 token, both by P-384 keys; the checkpoint
#     (Ed25519).
#   happy-path-intoto-in-dsse-v3 (Rekor v1 dsse entry): as happy-path-v0.3,
#     the DSSE envelope in place of the message.
#   rekor2-dsse-attestation (tests/data/bundles/rekor2, dsse 0.0.2): the
#     envelope and the RFC 3161 token (P-256); the leaf (P-384); the
#     checkpoint (Ed25519); no SCT.
checks() {
	case $1 in
	happy-path-v0.3) echo "4 1 0" ;;
	rekor2-happy-path) echo "2 2 1" ;;
	happy-path-intoto-in-dsse-v3) echo "4 1 0" ;;
	rekor2-dsse-attestation) echo "2 1 1" ;;
	*) echo "unknown kind $1" >&2; exit 1 ;;
	esac
}

echo "== tollgate (all checks, one thread, CPU time)"
"$out/sigstore_bench" "$fixtures" "$secs" | tee "$out/sigstore_bench.txt"
echo "== openssl speed -seconds $secs ecdsap256 ecdsap384 ed25519 (one thread)"
openssl speed -seconds "$secs" ecdsap256 ecdsap384 ed25519 2>/dev/null | awk '
	/ecdsa \(nistp256\)/ { print "p256", $NF }
	/ecdsa \(nistp384\)/ { print "p384", $NF }
	/EdDSA \(Ed25519\)/ { print "ed25519", $NF }' | tee "$out/openssl_speed.txt"
p256=$(awk '$1 == "p256" { print $2 }' "$out/openssl_speed.txt")
p384=$(awk '$1 == "p384" { print $2 }' "$out/openssl_speed.txt")
ed=$(awk '$1 == "ed25519" { print $2 }' "$out/openssl_speed.txt")

echo "== bundles/s against the limit of their signature checks"
printf '%-30s %10s %10s %6s  %s\n' kind bundles/s limit/s ratio checks
while read -r name rate _; do
	read -r n256 n384 ned < <(checks "$name")
	awk -v name="$name" -v rate="$rate" -v a="$n256" -v b="$n384" \
		-v c="$ned" -v p256="$p256" -v p384="$p384" -v ed="$ed" 'BEGIN {
		limit = 1 / (a / p256 + b / p384 + c / ed)
		printf "%-30s %10.0f %10.0f %6.2f  %d P-256 + %d P-384 + %d Ed25519\n",
			name, rate, limit, rate / limit, a, b, c }'
done < "$out/sigstore_bench.txt"
