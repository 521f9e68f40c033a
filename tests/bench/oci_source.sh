#!/usr/bin/env bash
# Benchmark of an OCI source (issue 17): a 1,000-object artifact (20 units
# of 50 ConfigMaps and a Namespace each, in Flux's layout) in Debian's
# docker-registry, signed with a cosign key, deployed to tests/testcluster.
# Measures the source step (resolve the tag, verify the artifact, fetch the
# layer, unpack it in memory, select source.path: the "fetch" phase of the
# cycle log) and the whole cycle for
#   1. cold: the first `tollgate once` (nothing cached, everything applied),
#   2. once, unchanged: a second `tollgate once` (a new process: the verdict
#      cache answers the verification, the layer is fetched and unpacked
#      again),
#   3. run, unchanged: the cycles of `tollgate run` after its first (the
#      unpacked artifact is kept: one manifest request, nothing fetched).
# Prints one row per measure: wall seconds of the whole command, the
# source step, the cycle as logged, and peak RSS.
#
#   tests/bench/oci_source.sh        (build first)
# Not run by ctest.
set -euo pipefail
export TG_SOURCE_DIR=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TG_BUILD_DIR=${TG_BUILD_DIR:-$TG_SOURCE_DIR/build}
export TG_BIN=${TG_BIN:-$TG_BUILD_DIR/reconciler/tollgate}
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"

UNITS=20
PER_UNIT=50 # objects per unit, its Namespace included

echo "setting up: registry, git daemon, testcluster..." >&2
world_start
tt_git_bare "$TT_TMP/git/status.git"
ART=$REGISTRY/bench/deploy:v1
python3 - "$TT_TMP/art/clusters/prod" "$UNITS" "$PER_UNIT" <<'PY'
import os, sys
root, units, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for u in range(units):
    d = os.path.join(root, f"team{u:02d}")
    os.makedirs(d)
    ns = f"team{u:02d}"
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"]
    for k in range(per - 1):
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                    f"  name: cm{k:03d}\n  namespace: {ns}\n"
                    f"data:\n  key: value-{u}-{k}\n  more: '{'x' * 200}'\n")
    for i in range(0, len(docs), 10):
        with open(os.path.join(d, f"part{i // 10}.yaml"), "w") as f:
            f.write("---\n".join(docs[i:i + 10]))
PY
printf 'push-artifact %s --dir %s\nsign %s --key %s\n' \
	"$ART" "$TT_TMP/art" "$ART" "$W_KEY" |
	python3 "$TG_SOURCE_DIR/tests/tools/tg-image-batch" >/dev/null
cat >"$TT_TMP/oci.yaml" <<CONFIG
source:
  url: oci://$ART
  path: clusters/prod
  interval: 1s
status:
  url: $TT_GIT_URL/status.git
cluster:
  kubeconfig: $TC_KUBECONFIG
policy: $W_POLICY
registries:
  insecure: [$REGISTRY]
stateDir: $W_STATE
CONFIG

# field NAME LINE: the value of NAME= in a cycle log line
field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}
row() { # LABEL WALL RSS LOGLINE
	printf '%-22s %8s %10s %10s %8s\n' "$1" "$2" "$(field fetch "$4")" \
		"$(field seconds "$4")" "$3"
}
once() { # LABEL: time one `tollgate once` (python3: wall and peak RSS)
	local out
	out=$(python3 - "$TG_BIN" "$TT_TMP/oci.yaml" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
p = subprocess.run([sys.argv[1], "once", "--config", sys.argv[2],
                    "--health-timeout", "0"], capture_output=True, text=True)
wall = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
if p.returncode != 0:
    sys.exit(p.stdout + p.stderr)
line = [l for l in p.stderr.splitlines() if "cycle done" in l][0]
print(f"{wall:.3f} {rss}M {line}")
PY
	)
	read -r wall rss line <<<"$out"
	row "$1" "$wall" "$rss" " $line"
}

printf '%-22s %8s %10s %10s %8s\n' measure wall_s source_s cycle_s rss
once "cold (once)"
once "unchanged (once)"
tt_bg "$TT_TMP/run.log" "$TG_BIN" run --config "$TT_TMP/oci.yaml" \
	--health-timeout 0
for ((i = 0; i < 100; i++)); do
	[ "$(grep -c 'cycle done' "$TT_TMP/run.log" || true)" -ge 4 ] && break
	sleep 0.2
done
kill -TERM "$TT_LAST_PID"
grep 'cycle done' "$TT_TMP/run.log" | sed -n '2,4p' | while read -r line; do
	row "unchanged (run)" - - "$line"
done
