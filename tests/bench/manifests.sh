#!/usr/bin/env bash
# Benchmark of `tollgate manifests`: generates a deploy tree of 10,000
# objects in 1,000 files (50 units of 20 files, 10 documents each:
# Deployments with two containers and an initContainer, CronJobs,
# Services, ConfigMaps, a kind: List) in a temporary directory, runs the
# command on it (text and JSON output) three times each, and prints a
# table of the median wall time and peak RSS. Target: under 1 s and under
# 100 MiB.
#
#   tests/bench/manifests.sh            uses build/reconciler/tollgate
#   TG_BIN=path/to/tollgate tests/bench/manifests.sh
#
# Not run by ctest. Build without sanitizers first (./tests/run.sh or
# cmake -S . -B build && cmake --build build).
set -euo pipefail
cd "$(dirname "$0")/../.."
TG_BIN=${TG_BIN:-build/reconciler/tollgate}
if [ ! -x "$TG_BIN" ]; then
	echo "manifests.sh: $TG_BIN not found; build first" >&2
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp/tree" <<'EOF'
import os, sys
root = sys.argv[1]
DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}, tier: backend}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/{name}-migrate:1.{i}.0
      containers:
        - name: app
          image: registry.example.com/acme/{name}:2.{i}.1@sha256:{digest}
          ports: [{{containerPort: 8080, name: http}}]
          env:
            - {{name: LOG_LEVEL, value: info}}
            - {{name: UNIT, value: "{ns}"}}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
        - name: proxy
          image: docker.io/envoyproxy/envoy:v1.29.{i}
"""
CRON = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}-nightly
  namespace: {ns}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          initContainers:
            - name: wait
              image: busybox:1.36
          containers:
            - name: job
              image: ghcr.io/acme/{name}-job:0.{i}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector: {{app: {name}}}
  ports:
    - {{name: http, port: 80, targetPort: http}}
"""
CONFIG = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config-{k}
  namespace: {ns}
data:
  settings.yaml: |
    retries: 3
    timeout: 30s
    features: [a, b, c]
  region: "eu-west-1"
"""
LIST = """apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ServiceAccount
    metadata: {{name: {name}, namespace: {ns}}}
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {{name: {name}, namespace: {ns}}}
    roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {name}}}
    subjects: [{{kind: ServiceAccount, name: {name}}}]
"""
n_objects = 0
for u in range(50):
    ns = "unit%02d" % u
    for f in range(20):
        name = "svc%02d" % f
        i = (u * 20 + f) % 97
        digest = ("%064x" % (u * 1000 + f))
        args = dict(name=name, ns=ns, i=i, digest=digest)
        # 10 objects per file: Deployment, CronJob, Service, 5 ConfigMaps,
        # a List of 2
        docs = [DEPLOY.format(**args), CRON.format(**args),
                SERVICE.format(**args)]
        docs += [CONFIG.format(k=k, **args) for k in range(5)]
        docs.append(LIST.format(**args))
        n_objects += 10
        sub = "apps" if f % 2 else "jobs"
        d = os.path.join(root, ns, sub)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name + ".yaml"), "w") as fh:
            fh.write("---\n".join(docs))
assert n_objects == 10000
EOF

files=$(find "$tmp/tree" -name '*.yaml' | wc -l)
bytes=$(du -sb "$tmp/tree" | cut -f1)

# Run the command 3 times; print "median_wall_s median_cpu_s peak_rss_kib
# objects images" (CPU = user + system, telling a loaded machine apart).
measure() {
	python3 - "$@" <<'EOF'
import json, resource, subprocess, sys, time
cmd = sys.argv[1:]
walls, rss, cpus = [], [], []
for _ in range(3):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    walls.append(time.monotonic() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    if p.returncode != 0:
        sys.exit("tollgate failed (%d): %s" % (p.returncode,
                 p.stderr.decode()[-2000:]))
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far (KiB); each
    # run is the same size, so the maximum is this command's peak.
    rss.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
out = p.stdout.decode()
if cmd[-1] == "json":
    s = json.loads(out)["summary"]
    objs, imgs = s["objects"], s["images"]
else:
    last = out.strip().splitlines()[-1].split()
    objs, imgs = last[4], last[6]
walls.sort()
cpus.sort()
print("%.3f %.3f %d %s %s" % (walls[1], cpus[1], max(rss), objs, imgs))
EOF
}

text=$(measure "$TG_BIN" manifests "$tmp/tree" --output text)
json=$(measure "$TG_BIN" manifests "$tmp/tree" --output json)

status=0
printf '\ntollgate manifests: %s files, %s bytes of YAML (%s)\n\n' \
	"$files" "$bytes" "$TG_BIN"
printf '| %-6s | %7s | %6s | %8s | %7s | %14s | %-6s |\n' \
	output objects images "wall (s)" "CPU (s)" "peak RSS (MiB)" target
printf '|%s|%s|%s|%s|%s|%s|%s|\n' -------- --------- -------- \
	---------- --------- ---------------- --------
for row in "text:$text" "json:$json"; do
	name=${row%%:*}
	read -r wall cpu rss objs imgs <<<"${row#*:}"
	mib=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
	ok=$(awk -v w="$wall" -v k="$rss" \
		'BEGIN { print (w < 1.0 && k < 100 * 1024) ? "met" : "MISSED" }')
	[ "$ok" = met ] || status=1
	printf '| %-6s | %7s | %6s | %8s | %7s | %14s | %-6s |\n' \
		"$name" "$objs" "$imgs" "$wall" "$cpu" "$mib" "$ok"
done
echo
echo "(median of 3 runs; target: wall < 1 s and peak RSS < 100 MiB; load"
echo " average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs)"
exit $status
