#!/usr/bin/env bash
# tests/testcluster driven by the real kubectl: discovery, get, server-side
# apply with conflicts and forced ownership, merge patch, delete, watch,
# rollout status, the admissionregistration kinds, and the error messages
# kubectl prints.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/testcluster.sh"

tc_start
export KUBECONFIG=$TC_KUBECONFIG
D=$TT_TMP/manifests
mkdir -p "$D"

cat >"$D/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example/web:1.0
        ports: [{containerPort: 8080}]
EOF

# Discovery -----------------------------------------------------------------
tt_run out rc kubectl get namespaces -o name
tt_eq "get namespaces exits 0" 0 "$rc"
tt_contains "default namespace exists" "$out" "namespace/default"
tt_contains "kube-system exists" "$out" "namespace/kube-system"

tt_run out rc kubectl api-resources --no-headers
tt_eq "api-resources exits 0" 0 "$rc"
line=$(grep -E '^deployments ' <<<"$out" | tr -s ' ')
tt_eq "deployments row" "deployments deploy apps/v1 true Deployment" "$line"
line=$(grep -E '^leases ' <<<"$out" | tr -s ' ')
tt_eq "leases row" "leases coordination.k8s.io/v1 true Lease" "$line"
line=$(grep -E '^customresourcedefinitions ' <<<"$out" | tr -s ' ')
tt_eq "crd row" \
	"customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition" \
	"$line"

# Server-side apply ------------------------------------------------------------
tt_run out rc kubectl apply --server-side -f "$D/web.yaml"
tt_eq "apply --server-side exits 0" 0 "$rc"
tt_eq "apply output" "deployment.apps/web serverside-applied" "$out"
tt_run out rc kubectl get deploy web -o \
	jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}'
tt_eq "applied object" "2 registry.example/web:1.0 1" "$out"
tt_run out rc kubectl get deploy web -o \
	jsonpath='{.spec.strategy.type} {.spec.revisionHistoryLimit} {.spec.template.spec.containers[0].imagePullPolicy} {.spec.template.spec.containers[0].ports[0].protocol} {.spec.template.spec.dnsPolicy}'
tt_eq "defaults filled in like kube-apiserver" \
	"RollingUpdate 10 IfNotPresent TCP ClusterFirst" "$out"
tt_run out rc kubectl get deploy web --show-managed-fields -o \
	jsonpath='{range .metadata.managedFields[*]}{.manager}/{.operation};{end}'
tt_contains "kubectl owns the applied fields" "$out" "kubectl/Apply;"
tt_run out rc kubectl get deploy web --show-managed-fields -o \
	jsonpath='{.metadata.managedFields[?(@.manager=="kubectl")].fieldsV1.f:spec.f:replicas}'
tt_eq "kubectl owns spec.replicas" "{}" "$out"

# Status written by the controller, so rollout checks work.
tt_run out rc kubectl rollout status deploy/web --timeout=10s
tt_eq "rollout status exits 0" 0 "$rc"
tt_contains "rollout status" "$out" 'deployment "web" successfully rolled out'
tt_run out rc kubectl get deploy web -o \
	jsonpath='{.status.observedGeneration} {.status.availableReplicas} {.status.conditions[?(@.type=="Available")].status}'
tt_eq "deployment status" "1 2 True" "$out"

# Server-side printing (Table), as kubectl shows it.
tt_run out rc kubectl get deploy web
tt_eq "kubectl get columns" "NAME READY UP-TO-DATE AVAILABLE AGE" \
	"$(head -1 <<<"$out" | tr -s ' ')"
tt_contains "kubectl get row" "$(tail -1 <<<"$out" | tr -s ' ')" "web 2/2 2 2 "
tt_run out rc kubectl get namespaces default --show-labels
tt_contains "namespace row with labels" "$(tail -1 <<<"$out" | tr -s ' ')" \
	"default Active "
tt_contains "labels from the row metadata" "$out" \
	"kubernetes.io/metadata.name=default"

# Merge patch by another manager, then a conflicting apply.
tt_run out rc kubectl patch deploy web --type merge -p '{"spec":{"replicas":5}}'
tt_eq "patch --type merge" "deployment.apps/web patched" "$out"
tt_run out rc kubectl get deploy web --show-managed-fields -o \
	jsonpath='{.spec.replicas} {.metadata.generation} {.metadata.managedFields[?(@.manager=="kubectl-patch")].operation}'
tt_eq "patched replicas, generation, kubectl-patch Update" "5 2 Update" "$out"

tt_run out rc kubectl apply --server-side -f "$D/web.yaml"
tt_eq "conflicting apply exits 1" 1 "$rc"
tt_contains "conflict message" "$out" \
	'Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas'
tt_run out rc kubectl get deploy web -o jsonpath='{.spec.replicas}'
tt_eq "conflict changed nothing" "5" "$out"

tt_run out rc kubectl apply --server-side --force-conflicts -f "$D/web.yaml"
tt_eq "forced apply exits 0" 0 "$rc"
tt_run out rc kubectl get deploy web --show-managed-fields -o \
	jsonpath='{.spec.replicas};{.metadata.managedFields[?(@.manager=="kubectl-patch")].manager}'
tt_eq "forced apply took spec.replicas from kubectl-patch" "2;" "$out"

# Fields left out of the next apply are removed.
cat >"$D/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {a: "1", b: "2"}}
data: {one: "1", two: "2"}
EOF
kubectl apply --server-side -f "$D/cm.yaml" >/dev/null
cat >"$D/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {a: "1"}}
data: {one: "1"}
EOF
tt_run out rc kubectl apply --server-side -f "$D/cm.yaml"
tt_eq "second apply" "configmap/settings serverside-applied" "$out"
tt_run out rc kubectl get cm settings -o jsonpath='{.data} {.metadata.labels}'
tt_eq "dropped fields removed" '{"one":"1"} {"a":"1"}' "$out"

# kubectl create -f sends JSON (kubectl create configmap would send
# protobuf, which the test cluster does not decode).
cm() {
	printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"k":"v"}}' "$1"
}

# Dry run writes nothing.
tt_run out rc kubectl create --dry-run=server -o name -f <(cm dry)
tt_eq "server dry run answers" "configmap/dry" "$out"
tt_run out rc kubectl get cm dry
tt_contains "dry run stored nothing" "$out" 'configmaps "dry" not found'

# Errors as kubectl prints them ------------------------------------------------
tt_run out rc kubectl create -f <(cm Bad_Name)
tt_eq "bad name exits 1" 1 "$rc"
tt_contains "bad name message" "$out" \
	'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'
tt_run out rc kubectl -n nowhere create -f <(cm x)
tt_contains "missing namespace" "$out" 'namespaces "nowhere" not found'
tt_run out rc kubectl create -f <(cm settings)
tt_contains "already exists" "$out" 'configmaps "settings" already exists'

# Watch ------------------------------------------------------------------------
watch_out=$TT_TMP/watch.out
timeout 5 kubectl get configmaps --watch -o name >"$watch_out" 2>&1 &
watch_pid=$!
for _ in $(seq 50); do
	grep -q settings "$watch_out" 2>/dev/null && break
	sleep 0.1
done
kubectl create -f <(cm watched) >/dev/null
for _ in $(seq 50); do
	grep -q watched "$watch_out" 2>/dev/null && break
	sleep 0.1
done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
tt_contains "watch lists existing objects" "$(cat "$watch_out")" "configmap/settings"
tt_contains "watch sees a new object" "$(cat "$watch_out")" "configmap/watched"

# Delete -------------------------------------------------------------------------
tt_run out rc kubectl delete configmap watched
tt_eq "delete output" 'configmap "watched" deleted' "$out"
tt_run out rc kubectl get configmap watched
tt_eq "deleted object is gone" \
	'Error from server (NotFound): configmaps "watched" not found' "$out"

kubectl create -f <(echo '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"doomed"}}') >/dev/null
kubectl -n doomed create -f <(cm inside) >/dev/null
tt_run out rc kubectl delete namespace doomed --timeout=10s
tt_eq "namespace delete exits 0" 0 "$rc"
tt_run out rc kubectl -n doomed get configmap inside
tt_contains "namespace delete removed its objects" "$out" 'not found'

# admissionregistration.k8s.io/v1: stored cluster-scoped objects -------------------
tt_run out rc kubectl api-resources --api-group=admissionregistration.k8s.io --no-headers
tt_eq "admissionregistration api-resources exits 0" 0 "$rc"
tt_eq "admissionregistration rows" \
	"mutatingwebhookconfigurations admissionregistration.k8s.io/v1 false MutatingWebhookConfiguration
validatingadmissionpolicies admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicy
validatingadmissionpolicybindings admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicyBinding
validatingwebhookconfigurations admissionregistration.k8s.io/v1 false ValidatingWebhookConfiguration" \
	"$(tr -s ' ' <<<"$out")"

cat >"$D/webhooks.yaml" <<'EOF'
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: rewrite-images}
webhooks:
- name: rewrite.images.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {url: "https://hook.example.com/mutate"}
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: check-pods}
webhooks:
- name: check.pods.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {url: "https://hook.example.com/validate"}
EOF
tt_run out rc kubectl apply --server-side -f "$D/webhooks.yaml"
tt_eq "apply webhook configurations" \
	"mutatingwebhookconfiguration.admissionregistration.k8s.io/rewrite-images serverside-applied
validatingwebhookconfiguration.admissionregistration.k8s.io/check-pods serverside-applied" \
	"$out"
# tollgate's own admission policy and binding, as shipped in deploy/.
tt_run out rc kubectl apply --server-side -f "$TG_SOURCE_DIR/deploy/kubernetes/admission.yaml"
tt_eq "apply deploy/kubernetes/admission.yaml" \
	"validatingadmissionpolicy.admissionregistration.k8s.io/tollgate-sole-writer serverside-applied
validatingadmissionpolicybinding.admissionregistration.k8s.io/tollgate-sole-writer serverside-applied" \
	"$out"
tt_run out rc kubectl get mutatingwebhookconfigurations,validatingwebhookconfigurations,validatingadmissionpolicies,validatingadmissionpolicybindings -o name
tt_eq "get lists the four kinds" \
	"mutatingwebhookconfiguration.admissionregistration.k8s.io/rewrite-images
validatingwebhookconfiguration.admissionregistration.k8s.io/check-pods
validatingadmissionpolicy.admissionregistration.k8s.io/tollgate-sole-writer
validatingadmissionpolicybinding.admissionregistration.k8s.io/tollgate-sole-writer" \
	"$out"
tt_run out rc kubectl get mutatingwebhookconfiguration rewrite-images -o \
	jsonpath='{.webhooks[0].clientConfig.url} {.metadata.generation} [{.metadata.namespace}]'
tt_eq "stored webhook, cluster-scoped" "https://hook.example.com/mutate 1 []" "$out"
tt_run out rc kubectl get validatingadmissionpolicybinding tollgate-sole-writer -o \
	jsonpath='{.spec.policyName} {.spec.validationActions[0]}'
tt_eq "stored binding" "tollgate-sole-writer Deny" "$out"
tt_run out rc kubectl get validatingadmissionpolicies
tt_eq "kubectl get columns (Name/Age)" "NAME AGE" "$(head -1 <<<"$out" | tr -s ' ')"
tt_contains "kubectl get row" "$out" "tollgate-sole-writer"

# Webhooks merge by name (as the real schema keys them), and a change to
# them bumps the generation.
tt_run out rc kubectl patch mutatingwebhookconfiguration rewrite-images --type strategic \
	-p '{"webhooks":[{"name":"rewrite.images.example.com","clientConfig":{"url":"https://evil.example.com/"}}]}'
tt_eq "strategic patch of a webhook" \
	"mutatingwebhookconfiguration.admissionregistration.k8s.io/rewrite-images patched" "$out"
tt_run out rc kubectl get mutatingwebhookconfiguration rewrite-images -o \
	jsonpath='{.webhooks[0].clientConfig.url} {.webhooks[0].sideEffects} {.metadata.generation}'
tt_eq "patched by key, generation 2" "https://evil.example.com/ None 2" "$out"
tt_run out rc kubectl -n default get validatingadmissionpolicy tollgate-sole-writer -o name
tt_eq "a namespace flag does not matter for cluster-scoped kinds" \
	"validatingadmissionpolicy.admissionregistration.k8s.io/tollgate-sole-writer" "$out"
tt_run out rc kubectl get --raw /apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/tollgate-sole-writer/status
tt_contains "validatingadmissionpolicies have a status subresource" "$out" \
	'"kind":"ValidatingAdmissionPolicy"'

tt_run out rc kubectl delete -f "$D/webhooks.yaml"
tt_eq "delete webhook configurations" \
	'mutatingwebhookconfiguration.admissionregistration.k8s.io "rewrite-images" deleted
validatingwebhookconfiguration.admissionregistration.k8s.io "check-pods" deleted' "$out"
tt_run out rc kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy tollgate-sole-writer
tt_eq "delete policy and binding exits 0" 0 "$rc"
tt_run out rc kubectl get mutatingwebhookconfiguration rewrite-images
tt_eq "deleted webhook is gone" \
	'Error from server (NotFound): mutatingwebhookconfigurations.admissionregistration.k8s.io "rewrite-images" not found' "$out"
tt_run out rc kubectl get validatingadmissionpolicies,validatingadmissionpolicybindings -o name
tt_eq "policy and binding are gone" "" "$out"

# A rollout that never becomes available --------------------------------------------
sed -e 's/name: web$/name: broken/' -e 's#web:1.0#web:fail-rollout#' \
	"$D/web.yaml" >"$D/broken.yaml"
kubectl apply --server-side -f "$D/broken.yaml" >/dev/null
tt_run out rc kubectl rollout status deploy/broken --timeout=2s
tt_eq "failing rollout exits 1" 1 "$rc"
tt_contains "failing rollout waits" "$out" "timed out waiting for the condition"

# DELETE with DeleteOptions preconditions (issue 13: prune deletes only the
# object it checked), through kubectl's raw DELETE with a body.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pre, namespace: default}\ndata: {k: v}\n' >"$TT_TMP/pre.yaml"
kubectl apply --server-side -f "$TT_TMP/pre.yaml" >/dev/null
uid=$(kubectl get configmap pre -n default -o jsonpath='{.metadata.uid}')
printf '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"not-%s"}}' "$uid" >"$TT_TMP/pre-bad.json"
tt_run out rc kubectl delete --raw /api/v1/namespaces/default/configmaps/pre -f "$TT_TMP/pre-bad.json"
tt_eq "delete with another uid: refused" 1 "$rc"
tt_contains "409 names both uids" "$out" "Precondition failed: UID in precondition: not-$uid, UID in object meta: $uid"
tt_run out rc kubectl get configmap pre -n default -o name
tt_eq "the object stays" "configmap/pre" "$out"
printf '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"%s"}}' "$uid" >"$TT_TMP/pre-ok.json"
tt_run out rc kubectl delete --raw /api/v1/namespaces/default/configmaps/pre -f "$TT_TMP/pre-ok.json"
tt_eq "delete with its uid: done" 0 "$rc"
tt_run out rc kubectl get configmap pre -n default -o name
tt_eq "the object is gone" 1 "$rc"

# HTTPS and the token -------------------------------------------------------------
tc_start --tls
tt_run out rc kubectl --kubeconfig "$TC_KUBECONFIG" get ns default -o name
tt_eq "kubectl over HTTPS with the generated CA" "namespace/default" "$out"
tt_run out rc curl -sS --cacert /dev/null -k "$TC_URL/api/v1/namespaces"
tt_contains "no token: 401" "$out" '"reason":"Unauthorized","code":401'
tt_run out rc curl -sS -k -H "Authorization: Bearer wrong" "$TC_URL/api/v1/namespaces"
tt_contains "wrong token: 401" "$out" '"code":401'

tc_stop_check
tt_done
