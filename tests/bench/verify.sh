#!/usr/bin/env bash
# Benchmark of tollgate verify (not run by ctest): pushes N distinct signed
# images (default 500) to a local Debian docker-registry, then verifies all
# of them in one process twice (--repeat 2): round 1 cold (empty registry
# and verdict caches), round 2 warm (tags resolved again, verdicts from the
# cache). Prints images per second per round and the peak RSS.
#
#   tests/bench/verify.sh [N]        (build first: cmake --build build)
# Target: at least 200 images/s cold on loopback.
#
# For scale it also times curl fetching the same URLs tollgate fetched in
# round 1 (tag, .sig manifest, signature blob per image) with the same
# parallelism: the registry's own ceiling on this machine.
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
python3 - "$TG_BIN" "$TT_TMP/policy.yaml" "$R" "$PARALLEL" "$TT_REGISTRY_LOG" "$TT_TMP" "${refs[@]}" <<'PY'
import re, resource, subprocess, sys, json, time
tg, policy, reg, parallel, reglog, tmp = sys.argv[1:7]
refs = sys.argv[7:]
log_start = sum(1 for _ in open(reglog))
cmd = [tg, "verify", "--policy", policy, "--insecure-registry", reg,
       "--parallel", parallel, "--repeat", "2", "--output", "json"] + refs
p = subprocess.run(cmd, capture_output=True, text=True)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
rss_kib = ru.ru_maxrss
cpu = ru.ru_utime + ru.ru_stime
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
print("tollgate CPU time: %.2f s for both rounds (%.0f images per CPU-second)" %
      (cpu, 2 * len(refs) / cpu if cpu > 0 else 0))

# The registry's ceiling: curl on the URLs of round 1, same parallelism.
paths = []
for line in list(open(reglog))[log_start:]:
    m = re.search(r'"GET (/v2/[^ ]+) HTTP/1.1" 200 .*"tollgate/', line)
    if m and m.group(1) not in paths:
        paths.append(m.group(1))
with open(tmp + "/curl.cfg", "w") as f:
    for p_ in paths:
        f.write('url = "http://%s%s"\noutput = /dev/null\n' % (reg, p_))
        f.write('header = "Accept: application/vnd.oci.image.manifest.v1+json"\n')
t = time.monotonic()
subprocess.run(["curl", "-s", "--parallel", "--parallel-max", parallel,
                "-K", tmp + "/curl.cfg"], check=True,
               stderr=subprocess.DEVNULL)
dt = time.monotonic() - t
per_image = len(paths) / float(len(refs))
print("curl baseline: %d requests in %.3f s (%.0f requests/s); at %.1f "
      "requests per image that is %.1f images/s" %
      (len(paths), dt, len(paths) / dt, per_image, len(paths) / dt / per_image))
PY
