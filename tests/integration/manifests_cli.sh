#!/usr/bin/env bash
# `tollgate manifests` on the example deploy repository (text and JSON), on
# a broken copy of it (every problem reported, valid units still printed,
# exit 1), and its usage errors.
. "${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"

repo="$TG_SOURCE_DIR/examples/deploy-repo/clusters/prod"

# --- the example repository, text -----------------------------------------
tt_run out rc "$TG_BIN" manifests "$repo" --output text
tt_eq "example: exit 0" 0 "$rc"
tt_contains "example: frontend unit" "$out" "unit frontend: valid, 5 objects, 2 images"
tt_contains "example: payments unit" "$out" "unit payments: valid, 7 objects, 5 images"
tt_contains "example: monitoring unit" "$out" "unit monitoring: valid, 8 objects, 3 images"
tt_contains "example: root unit" "$out" "unit _root: valid, 3 objects, 0 images"
tt_contains "example: summary" "$out" "4 units (0 invalid), 23 objects, 10 images, 0 errors"
tt_contains "example: CronJob with file:line" "$out" \
	"CronJob payments/ledger-reconcile  payments/jobs/reconcile.yaml:3"
tt_contains "example: initContainer image of the CronJob" "$out" \
	"image busybox:1.36 -> docker.io/library/busybox:1.36  (/spec/jobTemplate/spec/template/spec/initContainers/0/image)"
tt_contains "example: tag and digest kept" "$out" \
	"image ghcr.io/acme/payments-api:2.3.0@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270 -> ghcr.io/acme/payments-api:2.3.0@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"
tt_contains "example: List items expanded with their lines" "$out" \
	"ServiceMonitor monitoring/payments-api  monitoring/servicemonitors.yaml:19"
tt_contains "example: cluster-scoped object without namespace" "$out" \
	"ClusterRole prometheus  monitoring/prometheus.yaml:"
tt_contains "example: JSON manifest read" "$out" \
	"NetworkPolicy payments/api-ingress  payments/network-policy.json:1"

# --- the example repository, JSON (the default) ------------------------------
tt_run json rc "$TG_BIN" manifests "$repo"
tt_eq "json: exit 0" 0 "$rc"
check=$(python3 - "$json" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] is True, d["valid"]
assert d["summary"] == {"units": 4, "invalidUnits": 0, "objects": 23,
                        "images": 10, "errors": 0}, d["summary"]
assert [u["name"] for u in d["units"]] == ["_root", "frontend", "monitoring", "payments"]
pay = [u for u in d["units"] if u["name"] == "payments"][0]
dep = [o for o in pay["objects"] if o["kind"] == "Deployment"][0]
assert dep["file"] == "payments/api.yaml" and dep["line"] == 2, dep
imgs = {i["pointer"]: i for i in dep["images"]}
mig = imgs["/spec/template/spec/initContainers/0/image"]
assert mig["written"] == "ghcr.io/acme/payments-migrations:2.3.0"
assert mig["registry"] == "ghcr.io" and mig["repository"] == "acme/payments-migrations"
assert mig["tag"] == "2.3.0" and mig["digest"] is None
pg = [o for o in pay["objects"] if o["kind"] == "StatefulSet"][0]["images"][0]
assert pg["normalized"] == "docker.io/library/postgres:16.2", pg
print("ok")
EOF
)
tt_eq "json: documented fields and values" ok "$check"

# --- the second cluster of the same repository --------------------------------
tt_run out rc "$TG_BIN" manifests --output text \
	"$TG_SOURCE_DIR/examples/deploy-repo/clusters/staging"
tt_eq "staging: exit 0" 0 "$rc"
tt_contains "staging: units" "$out" "2 units (0 invalid), 2 objects, 1 image, 0 errors"
tt_contains "staging: release candidate image" "$out" \
	"image registry.example.com/acme/web:1.5.0-rc.1 -> registry.example.com/acme/web:1.5.0-rc.1"

# --- a broken copy: every problem reported, valid units still printed -------
broken="$TT_TMP/prod"
cp -r "$repo" "$broken"
# an uppercase repository name and a duplicate in payments
sed -i 's|image: ghcr.io/acme/ledger-tools:0.9.1|image: ghcr.io/Acme/ledger-tools:0.9.1|' \
	"$broken/payments/jobs/reconcile.yaml"
cat >>"$broken/payments/postgres.yaml" <<'EOF'
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: payments
EOF
# a YAML syntax error in monitoring
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n' \
	>"$broken/monitoring/broken.yaml"
# a symlink out of the tree in _root
ln -s /etc/passwd "$broken/passwd.yaml"

tt_run out rc "$TG_BIN" manifests --output=text "$broken"
tt_eq "broken: exit 1" 1 "$rc"
tt_contains "broken: frontend still valid and printed" "$out" \
	"unit frontend: valid, 5 objects, 2 images"
tt_contains "broken: payments invalid" "$out" "unit payments: INVALID (2 errors)"
tt_contains "broken: monitoring invalid" "$out" "unit monitoring: INVALID (1 error)"
tt_contains "broken: _root invalid" "$out" "unit _root: INVALID (1 error)"
tt_contains "broken: bad image named with file, line, object and field" "$out" \
	"$broken/payments/jobs/reconcile.yaml:3: CronJob payments/ledger-reconcile: /spec/jobTemplate/spec/template/spec/containers/0/image: invalid image reference \"ghcr.io/Acme/ledger-tools:0.9.1\": uppercase letters in repository name"
tt_contains "broken: duplicate names both files" "$out" \
	"$broken/payments/postgres.yaml:44: Service payments/api is defined twice: also at $broken/payments/api.yaml:26"
tt_contains "broken: YAML error names the file" "$out" "$broken/monitoring/broken.yaml:"
tt_contains "broken: symlink out of the tree refused" "$out" \
	"$broken/passwd.yaml: symlink points outside the tree"
tt_not_contains "broken: nothing read through the symlink" "$out" "root:x:0"
tt_contains "broken: summary on stderr" "$out" \
	"tollgate manifests: 4 errors in 3 units; those units would be blocked"

tt_run json rc "$TG_BIN" manifests --output=json "$broken"
tt_eq "broken json: exit 1" 1 "$rc"
json=$("$TG_BIN" manifests --output=json "$broken" 2>/dev/null || true)
check=$(python3 - "$json" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] is False
assert d["summary"]["errors"] == 4 and d["summary"]["invalidUnits"] == 3, d["summary"]
units = {u["name"]: u for u in d["units"]}
assert units["frontend"]["valid"] and units["frontend"]["errors"] == []
assert not units["payments"]["valid"] and len(units["payments"]["errors"]) == 2
assert len(d["errors"]) == 4
print("ok")
EOF
)
tt_eq "broken json: errors per unit" ok "$check"

# --- usage ------------------------------------------------------------------
tt_run out rc "$TG_BIN" manifests
tt_eq "usage: no DIR is exit 2" 2 "$rc"
tt_contains "usage: message" "$out" "DIR is missing"
tt_run out rc "$TG_BIN" manifests "$repo" --bogus
tt_eq "usage: unknown option is exit 2" 2 "$rc"
tt_run out rc "$TG_BIN" manifests "$repo" --output yaml
tt_eq "usage: bad --output is exit 2" 2 "$rc"
tt_run out rc "$TG_BIN" manifests "$TT_TMP/does-not-exist"
tt_eq "missing directory: exit 1" 1 "$rc"
tt_contains "missing directory: message" "$out" "does-not-exist"

tt_done
