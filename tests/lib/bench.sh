# The world of the cycle benchmarks (tests/bench/once.sh, cold_ab.sh),
# sourced after tests/lib/common.sh and world.sh:
#   bench_world_setup   registry, git daemon, testcluster, IMAGES signed
#                       images and a deploy repository of UNITS units of
#                       PER_UNIT objects (Namespace, Deployments, Services,
#                       ConfigMaps), committed
#   measure LABEL CMD   run CMD, append a line of figures to $TT_TMP/results
#   bench_cold_reset    the cluster reset, the state directory emptied and
#                       the status refs deleted: the next `tollgate once`
#                       is a cold cycle, in the same testcluster process
# UNITS, PER_UNIT and IMAGES come from the environment (defaults 20, 50, 50).

UNITS=${UNITS:-20}
PER_UNIT=${PER_UNIT:-50} # objects per unit, Namespace included
IMAGES=${IMAGES:-50}
for v in "$UNITS" "$PER_UNIT" "$IMAGES"; do
	if ! [[ $v =~ ^[1-9][0-9]{0,4}$ ]]; then
		echo "${0##*/}: UNITS, PER_UNIT and IMAGES must be integers from 1 to 99999 (got '$v')" >&2
		exit 2
	fi
done
if ((PER_UNIT < 2)); then
	echo "${0##*/}: PER_UNIT must be at least 2 (the Namespace and one object)" >&2
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

# (the here-documents below are not indented: they end at "PY")
bench_world_setup() {
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
}

# A commit that changes every unit: one ConfigMap value and the pod
# template of every Deployment (their env), so each unit is dry-run and
# applied again and each Deployment rolls out. Called again, it changes
# them back.
bench_change_every_unit() {
	local from='"team' to='"changed-team'
	if grep -rqs 'owner: "changed-team' "$W_WORK/clusters/prod"; then
		from='"changed-team' to='"team'
	fi
	find "$W_WORK/clusters/prod" -name 'objects-*.yaml' -exec \
		sed -i -e "s/owner: $from/owner: $to/" \
		-e "s/value: $from/value: $to/" {} +
	world_commit "bench: change every unit"
}

bench_cold_reset() {
	tc_curl POST /testcluster/reset >/dev/null
	rm -rf "${W_STATE:?}"/*
	git -C "$TT_TMP/git/deploy.git" update-ref -d refs/heads/tollgate/status 2>/dev/null || true
	git -C "$TT_TMP/git/deploy.git" update-ref -d refs/notes/tollgate 2>/dev/null || true
}
