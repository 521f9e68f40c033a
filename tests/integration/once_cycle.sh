#!/usr/bin/env bash
# End to end: tollgate once against a real git daemon, Debian's
# docker-registry and tests/testcluster (issue 6). One deploy repository is
# taken through several commits; after each `once` the cluster is checked
# through the API and the status branch through git.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

once() {
	tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 10
	echo "$OUT" >>"$TT_TMP/once.log"
}
status_log() {
	git --git-dir="$TT_TMP/git/deploy.git" log --format='%s%n%b%n---' \
		tollgate/status
}

good=$(world_image shop/web:1.0)
world_sign shop/web:1.0
world_image pay/api:2.0 >/dev/null # pushed, never signed

P=$W_WORK/clusters/prod
mkdir -p "$P/shop" "$P/payments"
cat >"$P/shop/ns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: shop}
data: {greeting: hello}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret, namespace: shop}
stringData: {password: SUPER-SECRET-VALUE-42}
YAML
world_deployment shop web "$REGISTRY/shop/web:1.0" >"$P/shop/web.yaml"
world_deployment shop api "$REGISTRY/pay/api:2.0" >"$P/payments/api.yaml"
world_commit "shop and payments"
commit1=$(git -C "$W_WORK" rev-parse HEAD)

# 1. An unsigned image blocks its unit; the other unit is applied.
tc_curl DELETE /testcluster/requests >/dev/null
once
requests1=$(tc_curl GET /testcluster/requests)
tt_eq "once exits 3 when a unit is blocked" 3 "$RC"
tt_contains "output names the blocked unit" "$OUT" "unit payments: blocked"
img=$(kc get deployment web -n shop -o jsonpath='{.spec.template.spec.containers[0].image}')
tt_eq "the applied image is pinned to the verified digest" \
	"$REGISTRY/shop/web:1.0@$good" "$img"
tt_eq "managed-by label" tollgate \
	"$(kc get deployment web -n shop -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}')"
tt_eq "unit label" shop \
	"$(kc get deployment web -n shop -o jsonpath='{.metadata.labels.tollgate\.dev/unit}')"
tt_eq "source-commit annotation" "$commit1" \
	"$(kc get deployment web -n shop -o jsonpath='{.metadata.annotations.tollgate\.dev/source-commit}')"
tt_run X RC2 kc get deployment api -n shop
tt_eq "nothing of the blocked unit reaches the cluster" 1 "$RC2"
tt_contains "the inventory ConfigMap exists" \
	"$(kc get configmap -n tollgate-system -o name)" "tollgate-inventory-shop-"
slog=$(status_log)
tt_contains "status commit subject says what was blocked" "$slog" \
	"blocked: payments at ${commit1:0:7}"
tt_contains "status commit has the Source-Commit trailer" "$slog" \
	"Source-Commit: $commit1"
tt_contains "status body gives the reason" "$slog" "pay/api:2.0"
notes=$(git --git-dir="$TT_TMP/git/deploy.git" log --notes=tollgate \
	--format='%N' -1 main)
tt_contains "a note on the source commit carries the verdicts" "$notes" \
	"payments"
tt_run MB RC3 git --git-dir="$TT_TMP/git/deploy.git" merge-base main \
	tollgate/status
tt_eq "the status branch shares no history with main" 1 "$RC3"

# Answers tollgate does not read (its applies and dry runs) are asked for
# as metadata alone, as client-go's metadata client asks; the ones it
# reads (lists, gets) whole.
accepts=$(echo "$requests1" | python3 -c '
import json, sys
reqs = json.load(sys.stdin)["requests"]
meta = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
shop = [r for r in reqs if r["method"] == "PATCH"
        and r["contentType"] == "application/apply-patch+yaml"
        and "/namespaces/shop/" in r["path"]]
reads = [r for r in reqs if r["method"] == "GET"]
print(len(shop), all(r["accept"] == meta for r in shop),
      len(reads) > 0, all(r["accept"] == "application/json" for r in reads))')
tt_eq "applies ask for metadata alone, reads for the whole object" \
	"3 True True True" "$accepts"

# 2. A second run with nothing changed changes nothing and commits nothing.
before=$(git --git-dir="$TT_TMP/git/deploy.git" rev-parse tollgate/status)
once
tt_eq "no-change once still exits 3 (payments still blocked)" 3 "$RC"
tt_contains "shop is unchanged" "$OUT" "unit shop: unchanged"
tt_eq "no new status commit when nothing changed" "$before" \
	"$(git --git-dir="$TT_TMP/git/deploy.git" rev-parse tollgate/status)"
# The parse cache (stateDir/manifest-cache, issue 20): unchanged files are
# not parsed again.
tt_contains "a no-change cycle parses no manifest file" "$OUT" \
	"filesParsed=0"
tt_contains "its 3 files come from the parse cache" "$OUT" "filesCached=3"

# 3. A fix commit unblocks the unit.
world_sign pay/api:2.0
sed -i 's/namespace: shop/namespace: pay/' "$P/payments/api.yaml"
cat >"$P/payments/ns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: pay}
YAML
world_commit "sign payments"
once
tt_eq "once exits 0 when everything is allowed" 0 "$RC"
tt_contains "payments is applied" "$OUT" "unit payments: applied"
tt_contains "payments deployment exists, pinned" \
	"$(kc get deployment api -n pay -o jsonpath='{.spec.template.spec.containers[0].image}')" \
	"@sha256:"
tt_contains "status subject says applied" "$(status_log)" "applied: payments"
tt_contains "the changed and the new file are parsed, not taken from the cache" \
	"$OUT" "filesParsed=2"

# 4. An object removed from Git is pruned; one marked prune: disabled stays.
kc annotate configmap web-config -n shop tollgate.dev/prune=disabled >/dev/null
cat >"$P/shop/ns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret, namespace: shop}
stringData: {password: SUPER-SECRET-VALUE-42}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: extra, namespace: shop}
data: {a: b}
YAML
world_commit "drop web-config, add extra"
once
tt_eq "once after a removal exits 0" 0 "$RC"
tt_run X RC2 kc get configmap web-config -n shop
tt_eq "an object marked prune: disabled is kept" 0 "$RC2"
git -C "$W_WORK" rm -q "$P/shop/ns.yaml"
cat >"$P/shop/ns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret, namespace: shop}
stringData: {password: SUPER-SECRET-VALUE-42}
YAML
world_commit "drop extra"
# a parse cache changed by hand (or torn) is dropped whole, with a warning
printf 'X' | dd of="$W_STATE/manifest-cache" bs=1 seek=200 conv=notrunc \
	2>/dev/null
once
tt_contains "a tampered parse cache is dropped with a warning" "$OUT" \
	"manifest cache not used: malformed"
tt_contains "then every file is parsed" "$OUT" "filesCached=0"
tt_run X RC2 kc get configmap extra -n shop
tt_eq "an object removed from Git is pruned" 1 "$RC2"

# 5. Drift made with kubectl patch is reported with its manager and corrected.
kc patch deployment web -n shop --type merge -p '{"spec":{"replicas":5}}' >/dev/null
once
tt_contains "drift is reported" "$OUT" "drift Deployment shop/web in unit shop (corrected)"
tt_eq "drift is corrected" 2 \
	"$(kc get deployment web -n shop -o jsonpath='{.spec.replicas}')"
tt_contains "the status commit says the drift was corrected" "$(status_log)" \
	"drift corrected: 1 object in shop"
tt_contains "the status names the manager that drifted it" \
	"$(git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json)" \
	"kubectl-patch"

# 5b. The drift memo (stateDir/drift-memo): objects compared clean and not
# written since are not compared again, yet an edit by another writer after
# such a cycle is still seen (its resourceVersion changed) and corrected.
kc patch deployment api -n pay --type merge -p '{"spec":{"replicas":7}}' >/dev/null
tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 10 --log-level debug
echo "$OUT" >>"$TT_TMP/once.log"
skipped=$(sed -n 's/.*drift memo: objects not compared again skipped=\([0-9]*\).*/\1/p' <<<"$OUT")
tt_eq "the 3 other objects compared clean last cycle are not compared again" 3 "$skipped"
tt_contains "an edit after a remembered clean compare is drift" "$OUT" \
	"drift Deployment pay/api in unit payments (corrected)"
tt_eq "and it is corrected" 2 \
	"$(kc get deployment api -n pay -o jsonpath='{.spec.replicas}')"
tt_contains "the status commit says so" "$(status_log)" \
	"drift corrected: 1 object in payments"

# 6. A CRD and its custom resource in one commit.
mkdir -p "$P/widgets"
cat >"$P/widgets/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: sprocket, namespace: shop}
spec: {size: 3}
YAML
world_commit "a CRD and a widget"
once
tt_eq "CRD and CR in one commit: exit 0" 0 "$RC"
tt_eq "the custom resource exists" 3 \
	"$(kc get widgets.example.com sprocket -n shop -o jsonpath='{.spec.size}')"

# 7. A namespace missing from Git gives a clear error and applies nothing.
mkdir -p "$P/ghost"
world_deployment ghost-ns svc "$REGISTRY/shop/web:1.0" >"$P/ghost/d.yaml"
cat >"$P/ghost/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: ghost-cm, namespace: default}
data: {x: y}
YAML
world_commit "ghost"
once
tt_eq "a unit the cluster refuses makes once exit 1" 1 "$RC"
tt_contains "the error names the missing namespace" "$OUT" 'namespaces "ghost-ns" not found'
tt_contains "the status commit gives the cluster's reason" "$(status_log)" \
	'namespaces "ghost-ns" not found'
tt_run X RC2 kc get configmap ghost-cm -n default
tt_eq "nothing of the refused unit was applied" 1 "$RC2"
git -C "$W_WORK" rm -rq "$P/ghost"
world_commit "no ghost"

# 8. Secret values never appear in status or logs.
everything="$(cat "$TT_TMP/once.log") $(git --git-dir="$TT_TMP/git/deploy.git" \
	log -p tollgate/status) $(git --git-dir="$TT_TMP/git/deploy.git" \
	log --notes=tollgate --format=%N)"
tt_not_contains "the Secret value is in no status, note or log" \
	"$everything" "SUPER-SECRET-VALUE-42"
tt_not_contains "nor its base64" "$everything" \
	"$(printf SUPER-SECRET-VALUE-42 | base64)"

# 9. plan writes nothing (checked with the test cluster's request log).
kc patch deployment web -n shop --type merge -p '{"spec":{"replicas":4}}' >/dev/null
sed -i 's/replicas: 2/replicas: 3/' "$P/shop/web.yaml"
world_commit "scale web"
tc_curl DELETE /testcluster/requests >/dev/null
tt_run OUT RC "$TG_BIN" plan --config "$W_CONFIG"
tt_contains "plan shows the update with the changed field" "$OUT" "/spec/replicas"
writes=$(tc_curl GET /testcluster/requests | python3 -c '
import json, sys
reqs = json.load(sys.stdin)["requests"]
print(sum(1 for r in reqs if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
          and r.get("query", {}).get("dryRun") != "All"))')
tt_eq "plan made no write to the cluster" 0 "$writes"
tt_eq "plan left the cluster as it was" 4 \
	"$(kc get deployment web -n shop -o jsonpath='{.spec.replicas}')"

tc_stop_check
tt_done
