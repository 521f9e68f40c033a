#!/usr/bin/env bash
# Issue 13, "Done when": a deploy repository with an honest unit and one
# unit per attack on the gate, two `tollgate once` cycles against the real
# registry, git daemon and testcluster. The honest unit is applied; every
# attacking unit is blocked with its reason in the status commit; nothing
# foreign is deleted; tollgate's namespace, Lease and inventories stay as
# they were.
# A second run with a scope granting the ClusterRoleBinding applies it.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

# Each cycle keeps the last status commit's status.json in a file: the
# checks below read it some forty times.
once() {
	tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 10
	echo "$OUT" >>"$TT_TMP/once.log"
	git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json \
		>"$TT_TMP/status.json" 2>/dev/null || : >"$TT_TMP/status.json"
}
status_log() {
	git --git-dir="$TT_TMP/git/deploy.git" log --format='%s%n%b%n---' tollgate/status
}
# unit_field UNIT FIELD...: each field of a unit in the last status
# commit's status.json, as JSON, separated by spaces.
unit_field() {
	python3 -c 'import json, sys
u = json.load(sys.stdin)["units"].get(sys.argv[1], {})
print(" ".join(json.dumps(u.get(f, "")) for f in sys.argv[2:]))' "$@" \
		<"$TT_TMP/status.json"
}

web=$(world_image shop/web:1.0)
world_sign shop/web:1.0
world_image evil/data:1.0 >/dev/null   # pushed, never signed
world_image evil/widget:1.0 >/dev/null # pushed, never signed
P=$W_WORK/clusters/prod

# What exists before: tollgate's namespace with its config and Lease (as
# deploy/ makes them), another team's namespace, a Widget CRD.
kc apply --server-side -f "$TG_SOURCE_DIR/deploy/kubernetes/namespace.yaml" >/dev/null
kc apply --server-side -f "$TG_SOURCE_DIR/deploy/kubernetes/configmap.yaml" >/dev/null
kc apply --server-side -f "$TG_SOURCE_DIR/deploy/kubernetes/lease.yaml" >/dev/null
kc apply --server-side -f "$TG_SOURCE_DIR/deploy/kubernetes/rbac.yaml" >/dev/null
own_rbac() { # tollgate's own ClusterRole and ClusterRoleBinding as the API shows them
	kc get clusterrole tollgate-cluster -o jsonpath='{.rules}'
	kc get clusterrolebinding tollgate-cluster -o jsonpath='{.subjects}'
}
rbac_before=$(own_rbac)
kc create -f - >/dev/null <<'EOF'
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other-team"}}
EOF
kc -n other-team create -f - >/dev/null <<'EOF'
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "their-data"}, "data": {"k": "v"}}
EOF
kc apply --server-side -f - >/dev/null <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions: [{name: v1, served: true, storage: true}]
EOF
# An inventory forged with kubectl under the name tollgate derives for a
# unit "ghost2", listing the other team's objects.
ghost2=tollgate-inventory-ghost2-$(printf ghost2 | sha256sum | cut -c1-8)
kc -n tollgate-system create -f - >/dev/null <<EOF
{"apiVersion": "v1", "kind": "ConfigMap",
 "metadata": {"name": "$ghost2", "labels": {"tollgate.dev/inventory": "true", "app.kubernetes.io/managed-by": "tollgate"}},
 "data": {"unit": "ghost2", "hash": "x", "commit": "x",
          "objects": "[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"name\":\"other-team\"},{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"other-team\",\"name\":\"their-data\"}]"}}
EOF

# The honest unit.
mkdir -p "$P/shop"
{ world_namespace shop; world_deployment shop web "$REGISTRY/shop/web:1.0"; } >"$P/shop/app.yaml"
unit() { mkdir -p "$P/$1" && cat >"$P/$1/$1.yaml"; }
# 1. A forged inventory for a unit "ghost" listing the other team's objects.
unit ghost <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: tollgate-inventory-ghost
  namespace: tollgate-system
  labels: {tollgate.dev/inventory: "true"}
data:
  unit: ghost
  objects: '[{"apiVersion":"v1","kind":"Namespace","name":"other-team"}]'
EOF
# 2. tollgate's own namespace: the policy ConfigMap and the Lease.
unit policy-rewrite <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: tollgate-config, namespace: tollgate-system}
data: {policy.yaml: "rules: []"}
EOF
unit lease-grab <<'EOF'
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: tollgate-leader, namespace: tollgate-system}
spec: {holderIdentity: attacker, leaseDurationSeconds: 999999999}
EOF
# 3. Images the gate must see: an image volume, a custom kind's spec.image.
unit image-volume <<EOF
apiVersion: v1
kind: Pod
metadata: {name: reader, namespace: shop}
spec:
  containers: [{name: app, image: "$REGISTRY/shop/web:1.0"}]
  volumes: [{name: data, image: {reference: "$REGISTRY/evil/data:1.0"}}]
EOF
unit widget <<EOF
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
spec: {image: "$REGISTRY/evil/widget:1.0"}
EOF
# 4. Cluster power without an image.
unit cluster-admin <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
EOF
# ... or by rewriting tollgate's own ClusterRole and its binding.
unit rbac-grab <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: tollgate-cluster}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tollgate-cluster}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
EOF
unit webhook <<'EOF'
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: rewrite-images}
webhooks:
- name: rewrite.images.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {url: "https://hook.example.com/mutate"}
EOF
# 5. The same ConfigMap twice: no namespace, and namespace default.
unit dup-a <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: shared}
data: {from: a}
EOF
unit dup-b <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: shared, namespace: default}
data: {from: b}
EOF
world_commit "shop and the attacks"

snapshot() { # tollgate's namespace as the API shows it
	kc -n tollgate-system get configmaps,leases -o json | python3 -c 'import json, sys
for o in json.load(sys.stdin)["items"]:
    m = o["metadata"]
    print(o["kind"], m["name"], json.dumps(o.get("data"), sort_keys=True), json.dumps(o.get("spec"), sort_keys=True))'
}
before=$(snapshot)

once
# 1: units failed (invalid manifests) besides blocked ones.
tt_eq "first cycle: exit 1 (units blocked and failed)" 1 "$RC"
once
tt_eq "second cycle: exit 1" 1 "$RC"

tt_eq "the honest unit is applied, pinned" "$REGISTRY/shop/web:1.0@$web" \
	"$(kc get deployment web -n shop -o jsonpath='{.spec.template.spec.containers[0].image}')"
slog=$(status_log)
tt_contains "the status commit names shop" "$slog" "shop"
tt_contains "shop is applied in status.json" '"applied" "unchanged"' "$(unit_field shop verdict)"

blocked() { # UNIT REASON-PART...: blocked, the reason in the status commit
	local u=$1 part reason
	shift
	# "failed" is tollgate's verdict for a unit with invalid manifests.
	tt_contains "$u is blocked" '"blocked" "failed"' "$(unit_field "$u" verdict)"
	tt_contains "the status commit subject names $u" "$slog" "$u"
	reason=$(unit_field "$u" message errors images admission)
	for part in "$@"; do
		tt_contains "$u: the reason says $part" "$reason" "$part"
	done
}
blocked image-volume "evil/data:1.0"
blocked widget "spec.image" "imagePaths"
blocked dup-a "defined twice"
blocked dup-b "defined twice"
tt_run X RC2 kc get pod reader -n shop
tt_eq "the image-volume pod is not in the cluster" 1 "$RC2"
tt_run X RC2 kc get widget w -n shop
tt_eq "the widget is not in the cluster" 1 "$RC2"
tt_run X RC2 kc get configmap shared -n default
tt_eq "neither duplicate is in the cluster" 1 "$RC2"

tt_run X RC2 kc get namespace other-team
tt_eq "the other team's namespace is still there" 0 "$RC2"
tt_run X RC2 kc get configmap their-data -n other-team
tt_eq "the other team's ConfigMap is still there" 0 "$RC2"
tt_contains "the forged inventory is reported as ignored" "$(cat "$TT_TMP/once.log")" \
	"inventory tollgate-system/$ghost2 ignored"

# Reserved namespaces and scopes.
{
	blocked ghost "tollgate-system"
	blocked policy-rewrite "ConfigMap tollgate-system/tollgate-config"
	blocked lease-grab "Lease tollgate-system/tollgate-leader"
	blocked cluster-admin "ClusterRoleBinding" "everyone-admin" "default scope"
	blocked webhook "MutatingWebhookConfiguration" "rewrite-images" "default scope"
	blocked rbac-grab "ClusterRole tollgate-cluster" "ClusterRoleBinding tollgate-cluster"
	tt_eq "tollgate's namespace, Lease and inventories are unchanged" \
		"$before" "$(snapshot | grep -v "tollgate-inventory-shop-")"
	tt_run X RC2 kc get clusterrolebinding everyone-admin
	tt_eq "no cluster-admin binding" 1 "$RC2"
	tt_run X RC2 kc get mutatingwebhookconfiguration rewrite-images
	tt_eq "no mutating webhook" 1 "$RC2"
	cat >>"$W_POLICY" <<'POLICY'
scopes:
  - name: platform-rbac
    units: [cluster-admin, rbac-grab]
    clusterKinds: ["rbac.authorization.k8s.io/*"]
POLICY
	once
	tt_eq "with a scope granting it, the binding is applied" "system:authenticated" \
		"$(kc get clusterrolebinding everyone-admin -o jsonpath='{.subjects[0].name}')"
	tt_contains "tollgate's own RBAC stays reserved under a scope granting all RBAC" \
		"$(unit_field rbac-grab admission)" \
		"tollgate's own ClusterRole (cluster.clusterRoles); no unit may write it, under any scope"
	tt_eq "tollgate's own ClusterRole and binding are unchanged" \
		"$rbac_before" "$(own_rbac)"
}

tc_stop_check
tt_done
