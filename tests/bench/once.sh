#!/usr/bin/env bash
# Benchmark of a reconcile cycle (issue 6): a deploy repository of 1,000
# objects in 20 units referencing 50 signed images, served by a local git
# daemon, Debian's docker-registry and tests/testcluster. Measures
#   1. the first `tollgate once` (cold: fetch, verify 50 images, apply all),
#   2. a second `tollgate once` with nothing changed,
#   3. `tollgate run` (interval 5s) until RUN_CYCLES cycles (default 4) are
#      done: the first lists and starts the watches, the later ones are
#      answered from them,
#   4. the cold cycle again, on a warm server: the cluster reset, the state
#      directory emptied and the status refs deleted, in the same
#      testcluster process (its heap already grown, as kubectl's is),
#   5. `kubectl apply --server-side -f DIR --recursive` of the same objects
#      on a reset cluster (no verification at all),
# and prints wall time, CPU time and peak RSS of each. Goals (issue 20, at
# 10,000 objects): the no-change cycle under 1.0 s of CPU, every cycle
# under 64 MiB, the cold cycle at least 3 times faster than kubectl. The
# ratio is printed for both cold cycles: testcluster's first writes into
# a fresh process cost it about 1 s more CPU at 10,000 objects (its heap
# grows by 230 MB), which kubectl's run, on the reset cluster, never pays.
#
#   tests/bench/once.sh        (build first: ./tests/run.sh or cmake)
#   UNITS=100 PER_UNIT=100 IMAGES=100 tests/bench/once.sh   (10,000 objects)
# UNITS, PER_UNIT (objects per unit, Namespace included) and IMAGES come
# from the environment; the defaults are 20, 50 and 50 (1,000 objects).
# Not run by ctest.
set -euo pipefail
export TG_SOURCE_DIR=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TG_BUILD_DIR=${TG_BUILD_DIR:-$TG_SOURCE_DIR/build}
export TG_BIN=${TG_BIN:-$TG_BUILD_DIR/reconciler/tollgate}
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"

UNITS=${UNITS:-20}
PER_UNIT=${PER_UNIT:-50} # objects per unit, Namespace included
IMAGES=${IMAGES:-50}
for v in "$UNITS" "$PER_UNIT" "$IMAGES"; do
	if ! [[ $v =~ ^[1-9][0-9]{0,4}$ ]]; then
		echo "once.sh: UNITS, PER_UNIT and IMAGES must be integers from 1 to 99999 (got '$v')" >&2
		exit 2
	fi
done
if ((PER_UNIT < 2)); then
	echo "once.sh: PER_UNIT must be at least 2 (the Namespace and one object)" >&2
	exit 2
fi

# measure LABEL CMD...: run CMD, append "LABEL wall_s rss_mib rc cpu_s
# testcluster_cpu_s registry_cpu_s" to RESULTS. The servers' CPU time is
# read from /proc before and after: on a small machine the cycle competes
# with them for the same cores.
measure() {
	local label=$1
	shift
	python3 - "$label" "$TC_PID" "$TT_REGISTRY_PID" "$@" >>"$TT_TMP/results" <<'PY'
import os, resource, subprocess, sys, time
label, tc, reg, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
before = cpu(tc), cpu(reg)
t = time.monotonic()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - t
time.sleep(0.2)  # let the servers finish accounting the last requests
after = cpu(tc), cpu(reg)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{label}\t{wall:.3f}\t{ru.ru_maxrss / 1024:.1f}\t{p.returncode}\t"
      f"{ru.ru_utime + ru.ru_stime:.2f}\t{after[0] - before[0]:.2f}\t"
      f"{after[1] - before[1]:.2f}")
if p.returncode not in (0,):
    sys.stderr.write(p.stderr.decode()[-2000:])
for line in p.stderr.decode().splitlines():
    if "cycle done" in line:
        sys.stderr.write(f"{label}: {line}\n")
PY
}

# measure_run LABEL: `tollgate run` (interval 5s, the same state) until
# RUN_CYCLES cycles are done (the first lists every kind and starts the
# watches, the later ones are answered from them), then SIGTERM; appends
# a line as measure does, with the peak RSS (VmHWM) and CPU time read
# from /proc before it stops.
RUN_CYCLES=${RUN_CYCLES:-4}
measure_run() {
	sed "s|^  interval: .*|  interval: 5s|" "$W_CONFIG" >"$TT_TMP/run.yaml"
	python3 - "$1" "$TC_PID" "$TT_REGISTRY_PID" "$RUN_CYCLES" "$TT_TMP/run.log" \
		"$TG_BIN" run --config "$TT_TMP/run.yaml" --listen-addr 127.0.0.1:0 \
		--health-timeout 0 >>"$TT_TMP/results" <<'PY'
import os, signal, subprocess, sys, time
label, tc, reg, cycles, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:]
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
def hwm(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
before = cpu(tc), cpu(reg)
t = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
done = 0
while p.poll() is None and time.monotonic() - t < 900:
    done = open(log).read().count("cycle done")
    if done >= cycles:
        break
    time.sleep(0.5)
wall = time.monotonic() - t
rss, used = (hwm(p.pid), cpu(p.pid)) if p.poll() is None else (0.0, 0.0)
p.send_signal(signal.SIGTERM)
rc = p.wait()
after = cpu(tc), cpu(reg)
print(f"{label}\t{wall:.3f}\t{rss:.1f}\t{rc if done >= cycles else 'stopped early'}\t"
      f"{used:.2f}\t{after[0] - before[0]:.2f}\t{after[1] - before[1]:.2f}")
PY
}

echo "setting up: registry, git daemon, testcluster, $IMAGES signed images..." >&2
world_start
python3 "$TG_IMAGE" push-many "$REGISTRY/bench/app" --count "$IMAGES" \
	--prefix v >"$TT_TMP/images"
for ((i = 0; i < IMAGES; i++)); do
	python3 "$TG_IMAGE" sign "$REGISTRY/bench/app:v$i" --key "$W_KEY" >/dev/null
done

echo "generating $((UNITS * PER_UNIT)) objects in $UNITS units..." >&2
python3 - "$W_WORK/clusters/prod" "$REGISTRY" "$UNITS" "$PER_UNIT" "$IMAGES" <<'PY'
import os, sys
root, registry = sys.argv[1], sys.argv[2]
units, per_unit, images = map(int, sys.argv[3:6])
n = 0
for u in range(units):
    d = os.path.join(root, f"team{u:02d}")
    os.makedirs(d, exist_ok=True)
    ns = f"team{u:02d}"
    with open(os.path.join(d, "00-namespace.yaml"), "w") as f:
        f.write(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
    docs = []
    for k in range(per_unit - 1):
        kind = k % 3
        name = f"obj{k:03d}"
        if kind == 0:
            img = f"{registry}/bench/app:v{n % images}"
            n += 1
            docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}, labels: {{app: {name}}}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: {img}
          ports: [{{containerPort: 8080, name: http}}]
          env: [{{name: UNIT, value: "{ns}"}}]
""")
        elif kind == 1:
            docs.append(f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
""")
        else:
            docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}, namespace: {ns}}}
data: {{setting: "{k}", owner: "{ns}"}}
""")
    for i in range(0, len(docs), 7):
        with open(os.path.join(d, f"objects-{i // 7:02d}.yaml"), "w") as f:
            f.write("---\n".join(docs[i:i + 7]))
PY
world_commit "bench: $((UNITS * PER_UNIT)) objects"

# The first cycle waits for no rollout (kubectl does not either), so the
# second one records the workloads' health for the first time: a status
# commit. The third is the cycle with nothing to do.
measure "tollgate once (cold)" "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
measure "tollgate once (health recorded)" "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
measure "tollgate once (no change)" "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
measure_run "tollgate run ($RUN_CYCLES cycles, watches)"
tc_curl POST /testcluster/reset >/dev/null
rm -rf "${W_STATE:?}"/*
git -C "$TT_TMP/git/deploy.git" update-ref -d refs/heads/tollgate/status
git -C "$TT_TMP/git/deploy.git" update-ref -d refs/notes/tollgate
measure "tollgate once (cold, warm server)" "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
tc_curl POST /testcluster/reset >/dev/null
measure "kubectl apply --server-side" kubectl --kubeconfig "$TC_KUBECONFIG" \
	apply --server-side -R -f "$W_WORK/clusters/prod"

cold=$(awk -F'\t' 'NR==1 {print $2}' "$TT_TMP/results")
warm=$(awk -F'\t' 'NR==5 {print $2}' "$TT_TMP/results")
kube=$(awk -F'\t' 'NR==6 {print $2}' "$TT_TMP/results")
echo
echo "| run | wall (s) | peak RSS (MiB) | exit | CPU (s) | testcluster CPU (s) | registry CPU (s) |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}' "$TT_TMP/results"
echo
python3 -c "import sys; c, w, k = map(float, sys.argv[1:4]); print(f'objects: $((UNITS * PER_UNIT)), images: $IMAGES; cold tollgate cycle is {k / c:.1f}x faster than kubectl apply on a fresh testcluster, {k / w:.1f}x on a warm one (goal at 10,000 objects: 3x)')" "$cold" "$warm" "$kube"
awk -F'\t' 'NR==3 {printf "no-change cycle: %s s wall, %s s CPU (goal at 10,000 objects: under 1.0 s)\n", $2, $5}' "$TT_TMP/results"
awk -F'\t' 'NR <= 5 {printf "peak RSS, %s: %s MiB\n", $1, $3}' "$TT_TMP/results"
echo "CPU: tollgate, testcluster and docker-registry share $(nproc) cores; a cycle cannot end before their CPU time summed / cores."
