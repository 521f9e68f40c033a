#!/usr/bin/env bash
# Benchmark of rendering (issue 15): the deploy repository of
# tests/bench/once.sh (1,000 objects in 20 units, 50 signed images) twice
# in one Git repository: clusters/plain as plain YAML, and clusters/kust
# where every unit is a kustomize overlay (namespace, labels, an image
# tag) over a base of its own under bases/. For each, on a fresh cluster
# and a fresh stateDir: the cold `tollgate once` (fetch, render, verify,
# apply), the one that records health, and one with nothing changed;
# kustomize runs are counted through a wrapper around `kubectl kustomize`.
# The overlays are measured twice: one renderer at a time
# (render.parallel: 1) and with the default (one per CPU).
#
#   tests/bench/render.sh        (build first)
# Not run by ctest.
set -euo pipefail
export TG_SOURCE_DIR=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TG_BUILD_DIR=${TG_BUILD_DIR:-$TG_SOURCE_DIR/build}
export TG_BIN=${TG_BIN:-$TG_BUILD_DIR/reconciler/tollgate}
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"

UNITS=20
PER_UNIT=50 # objects per unit, Namespace included
IMAGES=50

# measure LABEL CMD... (with the same figures as once.sh)
. "$TG_SOURCE_DIR/tests/lib/bench.sh"

echo "setting up: registry, git daemon, testcluster, $IMAGES signed images..." >&2
world_start
python3 "$TG_IMAGE" push-many "$REGISTRY/bench/app" --count "$IMAGES" \
	--prefix v >"$TT_TMP/images"
for ((i = 0; i < IMAGES; i++)); do
	python3 "$TG_IMAGE" sign "$REGISTRY/bench/app:v$i" --key "$W_KEY" >/dev/null
done

echo "generating $((UNITS * PER_UNIT)) objects in $UNITS units, plain and as overlays..." >&2
python3 - "$W_WORK" "$REGISTRY" "$UNITS" "$PER_UNIT" "$IMAGES" <<'PY'
import os, sys
top, registry = sys.argv[1], sys.argv[2]
units, per_unit, images = map(int, sys.argv[3:6])

def objects(ns, n0, with_ns):
    """The per_unit - 1 objects of a unit; with_ns writes the namespace
    and the final image tag (plain), else the overlay sets them."""
    meta_ns = f", namespace: {ns}" if with_ns else ""
    docs, n = [], n0
    for k in range(per_unit - 1):
        name = f"obj{k:03d}"
        if k % 3 == 0:
            img = f"{registry}/bench/app:" + (f"v{n % images}" if with_ns else "base")
            if not with_ns:
                img = f"{registry}/bench/app{n % images}:base"
            n += 1
            docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}{meta_ns}, labels: {{app: {name}}}}}
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
        elif k % 3 == 1:
            docs.append(f"""apiVersion: v1
kind: Service
metadata: {{name: {name}{meta_ns}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
""")
        else:
            docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}{meta_ns}}}
data: {{setting: "{k}", owner: "{ns}"}}
""")
    return docs, n

def write(d, docs, names):
    os.makedirs(d, exist_ok=True)
    for i in range(0, len(docs), 7):
        name = f"objects-{i // 7:02d}.yaml"
        names.append(name)
        with open(os.path.join(d, name), "w") as f:
            f.write("---\n".join(docs[i:i + 7]))

n_plain = n_kust = 0
for u in range(units):
    ns = f"team{u:02d}"
    nsdoc = f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"
    docs, n_plain = objects(ns, n_plain, True)
    d = os.path.join(top, "clusters/plain", ns)
    write(d, docs, [])
    with open(os.path.join(d, "00-namespace.yaml"), "w") as f:
        f.write(nsdoc)
    first = n_kust
    docs, n_kust = objects(ns, n_kust, False)
    names = []
    write(os.path.join(top, "bases", ns), docs, names)
    with open(os.path.join(top, "bases", ns, "kustomization.yaml"), "w") as f:
        f.write("resources: [" + ", ".join(names) + "]\n")
    d = os.path.join(top, "clusters/kust", ns)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "namespace.yaml"), "w") as f:
        f.write(nsdoc)
    imgs = "".join(
        f"  - {{name: {registry}/bench/app{i % images}, newName: {registry}/bench/app, newTag: v{i % images}}}\n"
        for i in range(first, n_kust))
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        f.write(f"namespace: {ns}\nlabels:\n  - pairs: {{team: {ns}}}\n"
                f"resources: [namespace.yaml, ../../../bases/{ns}]\nimages:\n{imgs}")
PY
world_commit "bench: $((UNITS * PER_UNIT)) objects, plain and kustomize"

CALLS=$TT_TMP/kustomize-calls
printf '#!/bin/sh\necho x >>"%s"\nexec kubectl kustomize "$@"\n' "$CALLS" >"$TT_TMP/kustomize"
chmod +x "$TT_TMP/kustomize"
: >"$CALLS"

# config MODE DIR [PARALLEL]: a copy of the world's config reading
# clusters/DIR, with a stateDir and status branch of its own (MODE), and
# render.parallel PARALLEL when given (default: one renderer per CPU).
config() {
	sed -e "s|path: clusters/prod|path: clusters/$2|" \
		-e "s|stateDir: .*|stateDir: $TT_TMP/state-$1|" \
		-e "s|branch: tollgate/status|branch: tollgate/status-$1|" \
		"$W_CONFIG" >"$TT_TMP/$1.yaml"
	printf 'render:\n  kustomize: {command: ["%s"]}\n' "$TT_TMP/kustomize" >>"$TT_TMP/$1.yaml"
	if [ -n "${3:-}" ]; then
		printf '  parallel: %s\n' "$3" >>"$TT_TMP/$1.yaml"
	fi
}
# plain YAML; kustomize one renderer at a time (render.parallel: 1, as
# before renders ran at once); kustomize with the default parallelism
for mode in plain kust-serial kust; do
	case $mode in
	plain) config plain plain ;;
	kust-serial) config kust-serial kust 1 ;;
	kust) config kust kust ;;
	esac
	tc_curl POST /testcluster/reset >/dev/null
	for run in "cold" "health recorded" "no change"; do
		before=$(wc -l <"$CALLS")
		measure "$mode: $run" "$TG_BIN" once --config "$TT_TMP/$mode.yaml" --health-timeout 0
		echo "$mode: $run: $(($(wc -l <"$CALLS") - before)) kustomize runs" >>"$TT_TMP/runs"
	done
done

echo
echo "| run | wall (s) | peak RSS (MiB) | exit | CPU (s) | testcluster CPU (s) | registry CPU (s) |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}' "$TT_TMP/results"
echo
cat "$TT_TMP/runs"
echo "objects: $((UNITS * PER_UNIT)) per repository, $UNITS units, images: $IMAGES; $(nproc) cores shared with the servers"
