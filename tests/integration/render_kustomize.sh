#!/usr/bin/env bash
# Rendering end to end (issue 15): tollgate once against a git daemon,
# Debian's docker-registry and tests/testcluster, with the real kustomize
# inside kubectl. An overlay over a base elsewhere in the repository
# (images, configMapGenerator with a hashed name, strategic merge and JSON
# 6902 patches, a component, namespace, labels) is applied and pinned; a
# remote base, an absolute path and a path escaping the repository are
# refused with the file and field named, nothing of those units applied;
# a broken kustomization fails its unit only; a second cycle with nothing
# changed runs no renderer (calls counted through a wrapper command); a
# render plugin renders a unit.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

CALLS=$TT_TMP/kustomize-calls
cat >"$TT_TMP/kustomize" <<WRAP
#!/bin/sh
echo "\$*" >>"$CALLS"
exec kubectl kustomize "\$@"
WRAP
chmod +x "$TT_TMP/kustomize"
: >"$CALLS"
cat >>"$W_CONFIG" <<CONFIG
render:
  kustomize: {command: ["$TT_TMP/kustomize"], timeout: 20s}
  plugins:
    - {name: script, detect: [generate.sh], command: [sh, generate.sh], timeout: 10s}
CONFIG

once() {
	tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 10
	echo "$OUT" >>"$TT_TMP/once.log"
}
calls() {
	wc -l <"$CALLS" | tr -d ' '
}
status_log() {
	git --git-dir="$TT_TMP/git/deploy.git" log --format='%s%n%b%n---' \
		tollgate/status
}

digest=$(world_image shop/web:1.0)
world_sign shop/web:1.0

R=$W_WORK
P=$R/clusters/prod
mkdir -p "$R/bases/web" "$R/components/probe" "$P/web" "$P/remote" \
	"$P/abs" "$P/escape" "$P/broken" "$P/report"
cat >"$R/bases/web/kustomization.yaml" <<'YAML'
resources: [deploy.yaml, svc.yaml]
YAML
cat >"$R/bases/web/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:0.1
          envFrom: [{configMapRef: {name: web-config}}]
YAML
cat >"$R/bases/web/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
YAML
cat >"$R/components/probe/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target: {kind: Deployment, name: web}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/readinessProbe
        value: {httpGet: {path: /ready, port: 8080}}
YAML
cat >"$P/web/kustomization.yaml" <<YAML
namespace: shop
labels:
  - pairs: {team: shop}
resources: [ns.yaml, ../../../bases/web]
components: [../../../components/probe]
images:
  - name: registry.example.com/web
    newName: $REGISTRY/shop/web
    newTag: "1.0"
configMapGenerator:
  - name: web-config
    files: [app.properties]
patches:
  - path: replicas.yaml
patchesJson6902:
  - target: {version: v1, kind: Service, name: web}
    path: port.json
YAML
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' >"$P/web/ns.yaml"
echo "mode=prod" >"$P/web/app.properties"
cat >"$P/web/replicas.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 3}
YAML
echo '[{"op": "replace", "path": "/spec/ports/0/port", "value": 8080}]' >"$P/web/port.json"

# Refused before kustomize runs; each unit has a ConfigMap of its own
# that must never reach the cluster.
for u in remote abs escape broken; do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: shop}\n' \
		"$u" >"$P/$u/cm.yaml"
done
printf 'resources:\n  - cm.yaml\n  - github.com/acme/base//web?ref=v1\n' >"$P/remote/kustomization.yaml"
printf 'resources: [cm.yaml]\nconfigMapGenerator:\n  - name: x\n    files: [/etc/passwd]\n' >"$P/abs/kustomization.yaml"
printf 'resources: [cm.yaml, ../../../../outside.yaml]\n' >"$P/escape/kustomization.yaml"
# passes the pre-check, kustomize itself refuses it
printf 'resources: [cm.yaml]\nnamePrefix: {not: a-string}\n' >"$P/broken/kustomization.yaml"

# A render plugin: generate.sh selects it; stdout is the unit's YAML.
cat >"$P/report/generate.sh" <<'SH'
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-plugin, namespace: shop}\ndata: {rendered: "%s"}\n' "$(cat value.txt)"
SH
echo "by-plugin" >"$P/report/value.txt"
# A failing plugin that prints a Secret's values on stderr: its message
# reaches the log and the status with the values masked.
mkdir -p "$P/leak"
LEAK_TOKEN_B64=$(printf 'Leak-Token-9Zx' | base64)
cat >"$P/leak/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
data:
  token: $LEAK_TOKEN_B64
stringData:
  password: Leak-Pw-7Hq2xZ
YAML
cat >"$P/leak/generate.sh" <<'SH'
echo "rendering failed; input was:" >&2
cat secret.yaml >&2
sed -n 's/^  token: //p' secret.yaml | base64 -d >&2
exit 2
SH
world_commit "kustomize overlays"
commit1=$(git -C "$W_WORK" rev-parse HEAD)

once
tt_eq "once exits 1: units failed to render" 1 "$RC"
tt_contains "the overlay is applied" "$OUT" "unit web: applied"
tt_contains "the plugin unit is applied" "$OUT" "unit report: applied"
# One read of the namespace, one python3 to pick the fields (V[...]).
kc get deployments,services,configmaps -n shop -o json >"$TT_TMP/shop.json"
declare -A V
while IFS='=' read -r k v; do V[$k]=$v; done < <(python3 - "$TT_TMP/shop.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
obj = {(o["kind"], o["metadata"]["name"]): o for o in items}
d = obj.get(("Deployment", "web"), {})
c = d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0]
s = obj.get(("Service", "web"), {})
cm = (c.get("envFrom") or [{}])[0].get("configMapRef", {}).get("name", "")
out = {
    "image": c.get("image"),
    "replicas": d.get("spec", {}).get("replicas"),
    "probe": c.get("readinessProbe", {}).get("httpGet", {}).get("path"),
    "port": s.get("spec", {}).get("ports", [{}])[0].get("port"),
    "portname": s.get("spec", {}).get("ports", [{}])[0].get("name"),
    "team": d.get("metadata", {}).get("labels", {}).get("team"),
    "unitlabel": s.get("metadata", {}).get("labels", {}).get("tollgate.dev/unit"),
    "cm": cm,
    "cmdata": json.dumps(obj.get(("ConfigMap", cm), {}).get("data")),
    "plugin": obj.get(("ConfigMap", "from-plugin"), {}).get("data", {}).get("rendered"),
    "names": " ".join(sorted(n for k, n in obj if k == "ConfigMap")),
}
for k, v in out.items():
    print(f"{k}={v}")
PY
)
tt_eq "images: rewritten by kustomize, then pinned to the verified digest" \
	"$REGISTRY/shop/web:1.0@$digest" "${V[image]}"
tt_eq "strategic merge patch applied (replicas)" 3 "${V[replicas]}"
tt_eq "component applied (readiness probe)" /ready "${V[probe]}"
tt_eq "JSON 6902 patch applied (service port)" 8080 "${V[port]}"
tt_eq "labels applied" shop "${V[team]}"
case ${V[cm]} in
web-config-??????????) tt_pass "the Deployment refers to the hashed ConfigMap (${V[cm]})" ;;
*) tt_fail "configMapRef not rewritten to a hashed name: ${V[cm]}" ;;
esac
tt_contains "the hashed ConfigMap exists with the file's content" \
	"${V[cmdata]}" "mode=prod"
tt_eq "tollgate's unit label on rendered objects" web "${V[unitlabel]}"
tt_eq "the plugin's output is applied" by-plugin "${V[plugin]}"
names=" ${V[names]} "
for u in remote abs escape broken; do
	tt_contains "unit $u failed" "$OUT" "unit $u: failed"
	tt_not_contains "nothing of unit $u reaches the cluster" "$names" " $u "
done
tt_contains "the other ConfigMaps are there" "$names" " from-plugin "
tt_contains "remote base refused, file and field named" "$OUT" \
	'clusters/prod/remote/kustomization.yaml:3: resources[1]: \"github.com/acme/base//web?ref=v1\": a URL or Git reference'
tt_contains "absolute path refused, file and field named" "$OUT" \
	'clusters/prod/abs/kustomization.yaml:4: configMapGenerator[0].files[0]: \"/etc/passwd\": an absolute path'
tt_contains "escaping path refused, file and field named" "$OUT" \
	'clusters/prod/escape/kustomization.yaml:1: resources[1]: \"../../../../outside.yaml\": the path leaves the repository'
tt_contains "kustomize's own error for the broken unit" "$OUT" \
	"clusters/prod/broken (kustomize): kustomize failed (exit status 1):"
slog=$(status_log)
tt_contains "the status commit names the refusal" "$slog" \
	"clusters/prod/remote (kustomize): clusters/prod/remote/kustomization.yaml:3: resources[1]"
tt_eq "kustomize ran for web and broken only (refused units never run)" 2 "$(calls)"
tt_contains "the leaking plugin's unit failed" "$OUT" "unit leak: failed"
tt_contains "its stderr is in the message, values masked" "$OUT" \
	"clusters/prod/leak (script): script failed (exit status 2): rendering failed; input was: apiVersion: v1 kind: Secret"
tt_contains "the status commit carries the masked message" "$slog" \
	"password: [redacted]"
status_all=$(git --git-dir="$TT_TMP/git/deploy.git" log -p --format='%s%n%b' \
	tollgate/status refs/notes/tollgate)
tt_contains "status.json of the status branch holds the leak unit's message" \
	"$status_all" '"clusters/prod/leak (script): script failed (exit status 2): rendering failed'
tt_contains "STATUS.md names the leak unit" "$status_all" "+| leak |"
tt_contains "the note names the leak unit" "$status_all" "+leak: failed"
for v in Leak-Pw-7Hq2xZ Leak-Token-9Zx "$LEAK_TOKEN_B64"; do
	tt_not_contains "no Secret value in tollgate's log ($v)" "$OUT" "$v"
	tt_not_contains "no Secret value in status.json, STATUS.md, units/, commits, notes ($v)" \
		"$status_all" "$v"
	tt_not_contains "no Secret value in the stateDir ($v)" \
		"$(grep -rl -- "$v" "$W_STATE" || true)" "$W_STATE"
done
tt_contains "kustomize was given the unit and the load restrictor" \
	"$(cat "$CALLS")" "clusters/prod/web --load-restrictor LoadRestrictionsNone"

# A second cycle with nothing changed runs no renderer.
before=$(git --git-dir="$TT_TMP/git/deploy.git" rev-parse tollgate/status)
once
tt_eq "no-change cycle: no kustomize run" 2 "$(calls)"
tt_contains "no-change cycle: web unchanged" "$OUT" "unit web: unchanged"
tt_contains "no-change cycle: broken still failed, from the cache" "$OUT" \
	"clusters/prod/broken (kustomize): kustomize failed (exit status 1):"
tt_eq "no-change cycle: no new status commit" "$before" \
	"$(git --git-dir="$TT_TMP/git/deploy.git" rev-parse tollgate/status)"

# A change in the shared base (outside the unit) renders the unit again.
sed -i 's/replicas: 1/replicas: 2/; s/port: 80}/port: 80, name: http}/' \
	"$R/bases/web/deploy.yaml" "$R/bases/web/svc.yaml"
world_commit "base: name the port"
once
tt_eq "a base change re-renders web only" 3 "$(calls)"
tt_eq "the base change reached the cluster" http \
	"$(kc get service web -n shop -o jsonpath='{.spec.ports[0].name}')"

# The overlay turns hostile: refused, and what it had applied stays.
sed -i 's|^resources: \[ns.yaml, |resources: [ns.yaml, https://evil.example/x.yaml, |' "$P/web/kustomization.yaml"
world_commit "web: a remote resource"
once
tt_contains "a refused overlay fails its unit" "$OUT" "unit web: failed"
tt_eq "its objects stay (nothing pruned, nothing applied)" \
	"$REGISTRY/shop/web:1.0@$digest" \
	"$(kc get deployment web -n shop -o jsonpath='{.spec.template.spec.containers[0].image}')"

# A kustomization directly in source.path renders the unit _root like any
# other unit (read as plain YAML it was an invalid object); the files it
# names at the root are its, the directories under it stay units.
cat >"$P/kustomization.yaml" <<'YAML'
namespace: shop
resources: [root-cm.yaml]
configMapGenerator:
  - name: root-generated
    literals: [where=root]
YAML
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: root-plain}\ndata: {k: v}\n' >"$P/root-cm.yaml"
world_commit "a kustomization at the root"
once
tt_contains "the root kustomization renders unit _root" "$OUT" "unit _root: applied"
tt_not_contains "no invalid object at the root" "$OUT" "clusters/prod/kustomization.yaml"
tt_eq "kustomize ran for _root (web stays refused)" 4 "$(calls)"
tt_contains "kustomize was given the root directory" "$(tail -1 "$CALLS")" \
	"clusters/prod --load-restrictor LoadRestrictionsNone"
tt_eq "the root's resource is applied in the kustomization's namespace" v \
	"$(kc get configmap root-plain -n shop -o jsonpath='{.data.k}')"
case $(kc get configmaps -n shop -o name) in
*configmap/root-generated-??????????*) tt_pass "the root's generator ran (hashed name)" ;;
*) tt_fail "no root-generated-<hash> ConfigMap in shop" ;;
esac
tt_contains "the plugin unit under the root is still its own unit" "$OUT" "unit report: unchanged"

tt_done
