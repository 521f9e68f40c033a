#!/usr/bin/env bash
# What checking the workload rules (issue 14) adds to a cycle: a deploy
# tree of 10,000 objects in 50 units (per unit: Deployments with an init
# container, DaemonSets with a hostPath volume, StatefulSets, CronJobs,
# bare Pods, Services, ConfigMaps and a default-deny NetworkPolicy; some
# compliant with restricted, some not), a policy with restricted
# everywhere, a baseline warn rule, a default-deny requirement and an
# exception; tests/bench/workloads_bench.c loads it once and times, 21
# rounds, in CPU time: the workload rules over every unit, and the plan's
# decision of every unit as a cycle makes it (NetworkPolicy coverage
# settled, every unit decided, violations counted by control) with and
# without the workload rules. What is measured is only what the rules
# add to a cycle: the tree is parsed (the manifests stage, which a cycle
# runs either way) and the policies loaded once before the rounds and
# not counted; each round makes the decision from scratch with an empty
# NetworkPolicy cache, as each cycle does, and builds every violation's
# JSON (object, container, field path, control, value found, value
# allowed, message) as the status gets it.
# Target: the workload rules add under 50 ms to a cycle for the 10,000
# objects. CPU time on a loaded machine varies from run to run: compare
# the figures of one run, and with IR=1 (needs valgrind) get the
# instructions the rules add as well, which the load does not change
# (callgrind counts the instructions of one plan decision with and
# without the workload rules). Not run by ctest.
#   tests/bench/workloads.sh [BUILD_DIR]   (default build/; built if needed)
#   ROUNDS=N (default 21), IR=1, KEEP=1 (keep the trees in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
out=tests/bench/out
mkdir -p "$out"
if [ ! -f "$build/reconciler/libtollgate-reconciler.a" ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j2 --target tollgate >/dev/null
fi
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude \
	-Ireconciler/include -o "$out/workloads_bench" \
	tests/bench/workloads_bench.c "$build/reconciler/libtollgate-reconciler.a" \
	"$build/verify/libtollgate-verify.a" \
	$(pkg-config --libs libgit2 openssl jansson libcurl yaml-0.1 libarchive libmicrohttpd) -lpthread

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
gen() { # DIR MODE: mode "clean" (every object passes) or "dirty"
python3 - "$1" "$2" <<'PY'
import os, sys
root, dirty = sys.argv[1], sys.argv[2] == "dirty"
GOOD_POD = """    spec:
      securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}
      initContainers:
      - name: migrate
        image: registry.example.com/{ns}/migrate:1.{i}
        securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
      containers:
      - name: app
        image: registry.example.com/{ns}/app:2.{i}
        ports: [{{containerPort: 8080}}]
        securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
      - name: proxy
        image: registry.example.com/{ns}/proxy:1.{i}
        securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
"""
def workload(kind, ns, i, extra=""):
    head = f"apiVersion: {'batch/v1' if kind == 'Job' else 'apps/v1'}\nkind: {kind}\n"
    head += f"metadata: {{name: w{i}, namespace: {ns}}}\nspec:\n  template:\n"
    return head + GOOD_POD.format(ns=ns, i=i) + extra
docs = 0
for u in range(50):
    ns = f"team-{u:02d}"
    d = os.path.join(root, ns)
    os.makedirs(d)
    for f in range(20):
        out = []
        for k in range(10):
            i = f * 10 + k
            if k == 0:
                out.append(workload("Deployment", ns, i))
            elif k == 1:
                out.append(workload("DaemonSet", ns, i,
                    "      volumes:\n      - {name: logs, hostPath: {path: /var/log}}\n"))
            elif k == 2:
                out.append(workload("StatefulSet", ns, i).replace(
                    "runAsNonRoot: true", "runAsNonRoot: false" if dirty else "runAsNonRoot: true"))
            elif k == 3:
                out.append(f"apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: c{i}, namespace: {ns}}}\n"
                           f"spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n"
                           + "\n".join("    " + l if l else l for l in GOOD_POD.format(ns=ns, i=i).split("\n")))
            elif k == 4 and dirty:
                out.append(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {ns}}}\n"
                           f"spec:\n  hostNetwork: true\n  containers:\n  - {{name: a, image: registry.example.com/{ns}/a:{i}}}\n")
            elif k == 4:
                out.append(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {ns}}}\n"
                           + "\n".join(l[4:] for l in GOOD_POD.format(ns=ns, i=i).split("\n")))
            elif k == 5 and f == 0:
                out.append(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny, namespace: {ns}}}\n"
                           "spec: {podSelector: {}, policyTypes: [Ingress]}\n")
            elif k in (5, 6, 7):
                out.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: {ns}}}\ndata: {{k: v}}\n")
            else:
                out.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: {ns}}}\n"
                           f"spec: {{selector: {{app: w{i}}}, ports: [{{port: 80}}]}}\n")
            docs += 1
        with open(os.path.join(d, f"f{f:02d}.yaml"), "w") as fh:
            fh.write("---\n".join(out))
print(f"{docs} objects written ({sys.argv[2]})", file=sys.stderr)
PY
}
cat >"$tmp/policy.yaml" <<'Y'
apiVersion: tollgate.dev/v1alpha1
kind: Policy
rules:
  - name: all
    images: ["**"]
    signatures:
      authorities:
        - {name: release, key: KEY}
exceptions:
  - name: daemonsets-logs
    objects: ["DaemonSet/*/*"]
    waive: [podSecurity/hostPathVolumes, podSecurity/restrictedVolumes]
    reason: bench
    approvedBy: bench@example.com
    expires: 2099-12-31
workloads:
  - name: legacy
    namespaces: ["team-4*"]
    podSecurity: baseline
    mode: warn
  - name: all
    namespaces: ["*"]
    podSecurity: restricted
    networkPolicy: required
Y
sed -i "s|KEY|$PWD/tests/data/policy/good/keys/release.pub|" "$tmp/policy.yaml"
# the same policy without workload rules: what a cycle costs without them
sed '/^exceptions:/,$d' "$tmp/policy.yaml" >"$tmp/base.yaml"
for mode in clean dirty; do
	gen "$tmp/$mode" "$mode"
	echo "== $mode: $( [ $mode = clean ] && echo 'every pod spec passes (DaemonSets by their exception)' || echo 'a StatefulSet and a bare Pod of every ten objects violate restricted')"
	${BENCH_WRAP:-} "$out/workloads_bench" "$tmp/policy.yaml" "$tmp/base.yaml" "$tmp/$mode" "${ROUNDS:-21}"
	if [ -n "${IR:-}" ]; then
		for w in with without; do
			valgrind --tool=callgrind --toggle-collect=tg_plan_decide_all \
				--callgrind-out-file="$tmp/cg.$mode.$w" \
				"$out/workloads_bench" "$tmp/policy.yaml" "$tmp/base.yaml" \
				"$tmp/$mode" 1 "$w" >/dev/null 2>&1
			eval "ir_$w=$(sed -n 's/^summary: //p' "$tmp/cg.$mode.$w")"
		done
		# shellcheck disable=SC2154
		echo "instructions of one plan decision (callgrind): with workload rules $ir_with, without $ir_without; added by the rules: $((ir_with - ir_without))"
	fi
	echo
done
