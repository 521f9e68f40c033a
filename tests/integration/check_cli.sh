#!/usr/bin/env bash
# `tollgate check` (issue 14): the example deploy repository under the
# example workloads policy (every violation, the exception used, exit 3),
# a tree that passes (exit 0), JSON output, the CI example script, bad
# policies (unknown control in waive, bad podSecurity value: exit 1 with
# FILE:LINE:COL) and usage errors (exit 2).
. "${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"

repo="$TG_SOURCE_DIR/examples/deploy-repo/clusters/prod"
policy="$TG_SOURCE_DIR/examples/policies/workloads.yaml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- the example repository ---------------------------------------------------
tt_run out rc "$TG_BIN" check --policy "$policy" "$repo"
tt_eq "example: exit 3 (blocked)" 3 "$rc"
tt_contains "example: root unit passes" "$out" "unit _root: pass"
tt_contains "example: frontend blocked with its count" "$out" \
	"unit frontend: blocked (7 workload violations)"
tt_contains "example: container, field path, found, allowed, control" "$out" \
	"workload (enforce): Deployment shop/web: container web: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: unset; allowed: false (restricted: allowPrivilegeEscalation)"
tt_contains "example: init container of a CronJob's nested template" "$out" \
	"CronJob payments/ledger-reconcile: container wait-for-db: spec.jobTemplate.spec.template.spec.initContainers[0].securityContext.runAsNonRoot"
tt_contains "example: namespace without default-deny" "$out" \
	"namespace payments runs pods but has no default-deny Ingress NetworkPolicy in Git"
tt_contains "example: waived control named with its exception" "$out" \
	"workload (waived): DaemonSet monitoring/node-exporter: spec.template.spec.volumes[0].hostPath: /; allowed: unset (no hostPath volume) (baseline: hostPathVolumes); waived by exception node-exporter-host"
tt_contains "example: exception used" "$out" \
	"exception used: node-exporter-host (node-exporter reads the host's /proc and /sys, ticket SEC-207; approved by security@example.com; expires 2027-03-31)"
tt_contains "example: scopes apply too" "$out" \
	"not admitted: ClusterRole prometheus"
tt_contains "example: summary" "$out" \
	"4 units: 1 would apply, 3 blocked, 0 invalid (images not verified: add --images)"

tt_run json rc "$TG_BIN" check --policy "$policy" --output json "$repo"
tt_eq "json: exit 3" 3 "$rc"
check=$(python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["blocked"] == 3 and d["pass"] == 1, d
pay = d["units"]["payments"]
assert pay["verdict"] == "blocked"
v = [w for w in pay["workloads"] if w["control"] == "runAsNonRoot"][0]
assert v["object"] == "Deployment payments/api", v
assert v["container"] == "api" and v["mode"] == "enforce", v
assert v["path"] == "spec.template.spec.containers[0].securityContext.runAsNonRoot", v
assert v["level"] == "restricted" and v["allowed"].startswith("true"), v
mon = d["units"]["monitoring"]
assert [e["name"] for e in mon["workloadExceptions"]] == ["node-exporter-host"]
assert all(w.get("waivedBy") == "node-exporter-host"
           for w in mon["workloads"] if w["control"] != "networkPolicy")
print("ok")
PY
)
tt_eq "json: violations with their fields" ok "$check"

# --- a tree that passes ---------------------------------------------------------
mkdir -p "$work/good/shop"
cat > "$work/good/shop/app.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: web
        image: registry.example.com/web:1
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
Y
tt_run out rc "$TG_BIN" check --policy "$policy" "$work/good"
tt_eq "good: exit 0" 0 "$rc"
tt_contains "good: unit passes" "$out" "unit shop: pass"

# --- a NetworkPolicy counts only when its unit is applied ---------------------
# The default-deny policy for shop sits in a unit that is blocked (its
# privileged Pod): it never reaches the cluster, so the unit that relies
# on it is blocked too. Without the Pod both pass.
mkdir -p "$work/fence/shop" "$work/fence/netpols"
cp "$work/good/shop/app.yaml" "$work/fence/shop/app.yaml"
python3 - "$work/fence/shop/app.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s[:s.index("---")])
PY
cat > "$work/fence/netpols/policies.yaml" <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
Y
tt_run out rc "$TG_BIN" check --policy "$policy" "$work/fence"
tt_eq "fence: the policy in its own unit: exit 0" 0 "$rc"
tt_contains "fence: shop passes" "$out" "unit shop: pass"
cat >> "$work/fence/netpols/policies.yaml" <<'Y'
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec:
  containers:
  - name: debug
    image: registry.example.com/web:1
    securityContext: {privileged: true}
Y
tt_run out rc "$TG_BIN" check --policy "$policy" "$work/fence"
tt_eq "fence: the policy's unit blocked: exit 3" 3 "$rc"
tt_contains "fence: that unit is blocked" "$out" "unit netpols: blocked"
tt_contains "fence: shop is blocked too" "$out" "unit shop: blocked"
tt_contains "fence: shop's reason" "$out" \
	"namespace shop runs pods but has no default-deny Ingress NetworkPolicy in Git"

# A chain: unit a (blocked: privileged Pod) holds the policy for
# namespace b; unit b runs pods in b and holds the policy for c; unit c
# runs pods in c; unit d runs pods in e with its own policy there. a
# blocked takes b's coverage away, b blocked takes c's: each is decided
# again when the coverage its pods need changes; d is not affected.
pod() { # NAME NAMESPACE [privileged]
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s}\nspec:\n' "$1" "$2"
	printf '  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n'
	printf '  containers:\n  - name: app\n    image: registry.example.com/web:1\n'
	if [ -n "${3:-}" ]; then
		printf '    securityContext: {privileged: true}\n'
	else
		printf '    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n'
	fi
}
netpol() { # NAMESPACE UNIT
	printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-%s, namespace: %s}\n' "$2" "$1"
	printf 'spec: {podSelector: {}, policyTypes: [Ingress]}\n'
}
mkdir -p "$work/chain/a" "$work/chain/b" "$work/chain/c" "$work/chain/d"
{ netpol a a; echo ---; netpol b a; echo ---; pod pa a privileged; } > "$work/chain/a/all.yaml"
{ pod pb b; echo ---; netpol c b; } > "$work/chain/b/all.yaml"
pod pc c > "$work/chain/c/all.yaml"
{ pod pd e; echo ---; netpol e d; } > "$work/chain/d/all.yaml"
tt_run out rc "$TG_BIN" check --policy "$policy" "$work/chain"
tt_eq "chain: exit 3" 3 "$rc"
tt_contains "chain: a blocked" "$out" "unit a: blocked (3 workload violations)"
tt_contains "chain: b blocked (a's policy left out)" "$out" "unit b: blocked (1 workload violation)"
tt_contains "chain: b's reason" "$out" \
	"namespace b runs pods but has no default-deny Ingress NetworkPolicy in Git"
tt_contains "chain: c blocked (b's policy left out)" "$out" "unit c: blocked (1 workload violation)"
tt_contains "chain: c's reason" "$out" \
	"namespace c runs pods but has no default-deny Ingress NetworkPolicy in Git"
tt_contains "chain: d passes with its own policy" "$out" "unit d: pass"
sed -i 's/privileged: true/allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}/' "$work/chain/a/all.yaml"
tt_run out rc "$TG_BIN" check --policy "$policy" "$work/chain"
tt_eq "chain: a fixed: exit 0" 0 "$rc"
tt_contains "chain: c passes" "$out" "unit c: pass"

# --- imagePaths: the config's custom image fields, as the agent reads them ---
# A Widget (example.com) keeps an image in spec.image. With no imagePaths
# (no --config: the agent's default) tollgate cannot place that image and
# the unit fails, as in the agent; with the config naming the field, check
# places it and the unit passes; and the image counts as one of the unit's.
mkdir -p "$work/custom/shop"
cat > "$work/custom/shop/widget.yaml" <<'Y'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
spec:
  image: registry.example.com/widget:1
Y
cat > "$work/custom/config.yaml" <<'Y'
source:
  url: ../deploy.git
policy: /etc/tollgate/policy.yaml
imagePaths:
  - group: example.com
    kind: Widget
    paths: [/spec/image]
Y
cat > "$work/custom/crd.yaml" <<'Y'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
Y
cp "$work/custom/crd.yaml" "$work/custom/shop/crd.yaml"
tt_run out rc "$TG_BIN" check --policy "$policy" "$work/custom/shop"
tt_eq "no imagePaths: exit 3" 3 "$rc"
tt_contains "no imagePaths: the unit fails as in the agent" "$out" \
	"Widget shop/w: spec.image looks like an image that tollgate cannot place; declare the kind in imagePaths"
tt_run out rc "$TG_BIN" check --policy "$policy" --config "$work/custom/config.yaml" "$work/custom/shop"
tt_eq "imagePaths from --config: exit 0" 0 "$rc"
tt_contains "imagePaths from --config: the unit passes" "$out" "unit _root: pass"
tt_run out rc "$TG_BIN" manifests --config "$work/custom/config.yaml" "$work/custom/shop"
tt_contains "imagePaths: manifests lists the placed image" "$out" "registry.example.com/widget:1"

# --- the CI example script ---------------------------------------------------------
tt_run out rc env -C "$work" TOLLGATE="$TG_BIN" TOLLGATE_POLICY="$policy" \
	DEPLOY_DIR="$repo" "$TG_SOURCE_DIR/examples/ci/tollgate-check.sh"
tt_eq "ci script: exit 3 on the example" 3 "$rc"
tt_contains "ci script: reasons in the log" "$out" "unit payments: blocked"
tt_eq "ci script: JSON artifact" blocked \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["units"]["payments"]["verdict"])' "$work/tollgate-check.json")"
tt_run out rc env -C "$work" TOLLGATE="$TG_BIN" TOLLGATE_POLICY="$policy" \
	DEPLOY_DIR="$work/good" "$TG_SOURCE_DIR/examples/ci/tollgate-check.sh"
tt_eq "ci script: exit 0 on a good tree" 0 "$rc"

# --- bad policies: exit 1 with FILE:LINE:COL -----------------------------------------
bad="$TG_SOURCE_DIR/tests/data/policy/bad"
tt_run out rc "$TG_BIN" check --policy "$bad/workloads-unknown-control.yaml" "$repo"
tt_eq "unknown control: exit 1" 1 "$rc"
tt_contains "unknown control: file:line:col and the control" "$out" \
	"workloads-unknown-control.yaml:14:37: exceptions[0].waive[1]: unknown Pod Security Standards control \"hostPathVolume\" (did you mean \"hostPathVolumes\"?)"
tt_run out rc "$TG_BIN" check --policy "$bad/workloads-bad-podsecurity.yaml" "$repo"
tt_eq "bad podSecurity: exit 1" 1 "$rc"
tt_contains "bad podSecurity: file:line:col" "$out" \
	"workloads-bad-podsecurity.yaml:14:5: workloads[0].podSecurity: unknown value \"restriced\" (did you mean \"restricted\"?"

# --- usage: exit 2 -----------------------------------------------------------------
tt_run out rc "$TG_BIN" check "$repo"
tt_eq "no --policy: exit 2" 2 "$rc"
tt_contains "no --policy: says so" "$out" "--policy FILE is missing"
tt_run out rc "$TG_BIN" check --policy "$policy"
tt_eq "no DIR: exit 2" 2 "$rc"
tt_run out rc "$TG_BIN" check --policy "$policy" --frobnicate "$repo"
tt_eq "unknown option: exit 2" 2 "$rc"
tt_run out rc "$TG_BIN" check --policy "$policy" "$work/missing"
tt_eq "missing DIR: exit 1" 1 "$rc"

tt_done
