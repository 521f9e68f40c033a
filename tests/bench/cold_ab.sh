#!/usr/bin/env bash
# Paired comparison of tollgate builds on the cold cycle, in one world of
# tests/bench/once.sh: after one warm-up cycle, ROUNDS rounds (default 5),
# each running the cold `tollgate once` of every binary in TG_BINS one
# after the other (the cluster reset, the state directory emptied and the
# status refs deleted before each, in the same testcluster process), then
# `kubectl apply --server-side` of the same objects on the reset cluster.
# Prints each binary's wall times, its ratio to kubectl's run of the same
# round, and the medians. On a shared machine whose speed drifts by tens
# of percent from minute to minute, rounds side by side compare builds
# where separate once.sh runs cannot.
#
#   TG_BINS="old/reconciler/tollgate build/reconciler/tollgate" \
#     UNITS=100 PER_UNIT=100 IMAGES=100 tests/bench/cold_ab.sh
# TG_BINS defaults to the build's tollgate alone (its ratio to kubectl).
# Not run by ctest.
set -euo pipefail
export TG_SOURCE_DIR=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TG_BUILD_DIR=${TG_BUILD_DIR:-$TG_SOURCE_DIR/build}
export TG_BIN=${TG_BIN:-$TG_BUILD_DIR/reconciler/tollgate}
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
. "$TG_SOURCE_DIR/tests/lib/bench.sh"

ROUNDS=${ROUNDS:-5}
if ! [[ $ROUNDS =~ ^[1-9][0-9]?$ ]]; then
	echo "cold_ab.sh: ROUNDS must be an integer from 1 to 99 (got '$ROUNDS')" >&2
	exit 2
fi
read -r -a bins <<<"${TG_BINS:-$TG_BIN}"
for b in "${bins[@]}"; do
	if [ ! -x "$b" ]; then
		echo "cold_ab.sh: $b is not an executable" >&2
		exit 2
	fi
done

bench_world_setup
# The first cycle of a fresh testcluster pays for growing its heap (see
# once.sh); kubectl's runs never do, and neither do the rounds.
bench_cold_reset
measure warm-up "${bins[0]}" once --config "$W_CONFIG" --health-timeout 0
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < ${#bins[@]}; i++)); do
		bench_cold_reset
		measure "$i" "${bins[$i]}" once --config "$W_CONFIG" --health-timeout 0
	done
	tc_curl POST /testcluster/reset >/dev/null
	measure kubectl kubectl --kubeconfig "$TC_KUBECONFIG" \
		apply --server-side -R -f "$W_WORK/clusters/prod"
done

python3 - "$TT_TMP/results" "$((UNITS * PER_UNIT))" "$IMAGES" "${bins[@]}" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
bins = sys.argv[4:]
by = {}
for r in rows:
    if r[3] != "0":
        sys.exit(f"cold_ab.sh: {r[0]} exited with {r[3]}")
    by.setdefault(r[0], []).append(float(r[1]))
kube = by["kubectl"]
print(f"objects: {sys.argv[2]}, images: {sys.argv[3]}; cold cycles on a warm testcluster")
print("| binary | wall per round (s) | median | ratio to kubectl per round | median ratio |")
print("|---|---|---|---|---|")
for i, b in enumerate(bins):
    w = by[str(i)]
    ratios = [k / x for x, k in zip(w, kube)]
    print(f"| {b} | {' '.join(f'{x:.2f}' for x in w)} | {statistics.median(w):.2f} "
          f"| {' '.join(f'{x:.2f}' for x in ratios)} | {statistics.median(ratios):.2f} |")
print(f"| kubectl apply --server-side | {' '.join(f'{x:.2f}' for x in kube)} "
      f"| {statistics.median(kube):.2f} | | |")
if len(bins) > 1:
    base = statistics.median(by["0"])
    for i in range(1, len(bins)):
        pairs = [x / y for x, y in zip(by[str(i)], by["0"])]
        print(f"{bins[i]}: median wall {statistics.median(by[str(i)]) / base:.3f} of "
              f"{bins[0]}'s; per round {' '.join(f'{p:.2f}' for p in pairs)}")
PY
