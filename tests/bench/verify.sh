#!/usr/bin/env bash
# Benchmark of tollgate verify (not run by ctest): pushes N distinct signed
# images (default 500) to a local Debian docker-registry, then verifies all
# of them in one process twice (--repeat 2): round 1 cold (empty registry
# and verdict caches), round 2 warm (tags resolved again, verdicts from the
# cache). Prints images per second per round and the peak RSS.
#
#   tests/bench/verify.sh [N]        (build first: cmake --build build)
# Target: at least 200 images/s cold on loopback.
set -euo pipefail
export TG_SOURCE_DIR=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"
N=${1:-500}
PARALLEL=${PARALLEL:-16}

tt_start_registry
R=$REGISTRY
openssl ecparam -name prime256v1 -genkey -noout -out "$TT_TMP/k.pem" 2>/dev/null
openssl ec -in "$TT_TMP/k.pem" -pubout -out "$TT_TMP/k.pub" 2>/dev/null
cat >"$TT_TMP/policy.yaml" <<YML
apiVersion: tollgate.dev/v1alpha1
kind: Policy
registries:
  allowed: [$R/]
rules:
  - name: bench
    images: ["$R/**"]
    signatures:
      authorities:
        - {name: release, key: k.pub}
YML

echo "bench: pushing and signing $N images to $R ..." >&2
t0=$(date +%s.%N)
# One python process for all of it (tg-image-batch), not one per image.
for ((i = 0; i < N; i++)); do
	ref="$R/bench/app$((i % 50)):v$i"
	echo "push $ref --content 'bench image $i'"
	echo "sign $ref --key $TT_TMP/k.pem"
	echo "$ref" >>"$TT_TMP/refs"
done | python3 "$TG_SOURCE_DIR/tests/tools/tg-image-batch" >/dev/null
t1=$(date +%s.%N)
echo "bench: setup took $(python3 -c "print(round($t1 - $t0, 1))") s" >&2

mapfile -t refs <"$TT_TMP/refs"
python3 - "$TG_BIN" "$TT_TMP/policy.yaml" "$R" "$PARALLEL" "${refs[@]}" <<'PY'
import re, resource, subprocess, sys, json
tg, policy, reg, parallel, refs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
cmd = [tg, "verify", "--policy", policy, "--insecure-registry", reg,
       "--parallel", parallel, "--repeat", "2", "--output", "json"] + refs
p = subprocess.run(cmd, capture_output=True, text=True)
rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
rounds = re.findall(r"round (\d+): (\d+) images in ([0-9.]+) s \(([0-9.]+) images/s\)", p.stderr)
verdicts = json.loads(p.stdout)["verdicts"] if p.stdout else []
allowed = sum(1 for v in verdicts if v["verdict"] == "allowed")
if p.returncode != 0 or len(rounds) != 2 or allowed != len(refs):
    sys.stderr.write(p.stderr[-4000:])
    sys.exit("bench: tollgate verify failed (exit %d, %d of %d allowed)" %
             (p.returncode, allowed, len(refs)))
print("| round | images | seconds | images/s |")
print("|---|---|---|---|")
for r, n, s, ips in rounds:
    print("| %s | %s | %s | %s |" % ("1 (cold)" if r == "1" else "2 (warm)", n, s, ips))
print("")
print("peak RSS: %.1f MiB (parallel %s, %d of %d allowed)" %
      (rss_kib / 1024.0, parallel, allowed, len(refs)))
cold = float(rounds[0][3])
print("target >= 200 images/s cold: %s" % ("met" if cold >= 200 else "NOT met"))
PY
