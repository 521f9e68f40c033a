#!/usr/bin/env bash
# Every manifest under deploy/kubernetes loads as tollgate loads a deploy
# tree (tollgate manifests): no errors, every object there, and the
# Deployment runs tollgate's own image with the run command.
. "$TG_SOURCE_DIR/tests/lib/common.sh"

dir=$TG_SOURCE_DIR/deploy/kubernetes
tt_run OUT RC "$TG_BIN" manifests "$dir" --output text
tt_eq "deploy/kubernetes loads with exit 0" 0 "$RC"
tt_contains "no errors, one valid unit" "$OUT" "1 unit (0 invalid), 14 objects, 1 image, 0 errors"
for obj in "Namespace tollgate-system" "ServiceAccount tollgate-system/tollgate" \
	"ClusterRole tollgate-cluster" "Role tollgate-system/tollgate-self" \
	"Lease tollgate-system/tollgate-leader" "ConfigMap tollgate-system/tollgate-config" \
	"Secret tollgate-system/tollgate-credentials" \
	"Deployment tollgate-system/tollgate" \
	"ValidatingAdmissionPolicy tollgate-sole-writer" \
	"ValidatingAdmissionPolicyBinding tollgate-sole-writer"; do
	tt_contains "$obj is there" "$OUT" "  $obj  "
done
# Every YAML file under deploy/ parses (python3-yaml, as kubectl would read it).
tt_run OUT RC python3 - "$TG_SOURCE_DIR/deploy" <<'PY'
import pathlib, sys, yaml
n = 0
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    docs = [d for d in yaml.safe_load_all(p.read_text()) if d is not None]
    for d in docs:
        assert d.get("apiVersion") and d.get("kind"), p
    n += len(docs)
cm = yaml.safe_load((pathlib.Path(sys.argv[1]) / "kubernetes/configmap.yaml").read_text())
for key in ("tollgate.yaml", "policy.yaml"):
    assert isinstance(yaml.safe_load(cm["data"][key]), dict), key
print(n, "documents")
PY
tt_eq "every YAML document under deploy/ parses" "0 14 documents" "$RC $OUT"

# The ConfigMap's tollgate.yaml and policy.yaml and the Secret's files are
# accepted by tollgate as they are (paths moved under a scratch directory,
# a real public key in place of the placeholder): plan gets past config,
# policy and registry credentials and stops only at the cluster, which it
# looks for in-cluster.
mkdir -p "$TT_TMP/etc/secret"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
	openssl ec -pubout -out "$TT_TMP/etc/release.pub" 2>/dev/null
python3 - "$dir" "$TT_TMP" <<'PY2'
import pathlib, sys, yaml
d, tmp = pathlib.Path(sys.argv[1]), sys.argv[2]
def moved(text):
    return (text.replace("/etc/tollgate", tmp + "/etc")
            .replace("/var/lib/tollgate", tmp + "/state")
            .replace("https://git.example.com/platform/deploy.git",
                     "file://" + tmp + "/none.git"))
cm = yaml.safe_load((d / "configmap.yaml").read_text())["data"]
for k in ("tollgate.yaml", "policy.yaml"):
    pathlib.Path(tmp, "etc", k).write_text(moved(cm[k]))
sec = yaml.safe_load((d / "secret.yaml").read_text())["stringData"]
for k, v in sec.items():
    pathlib.Path(tmp, "etc/secret", k).write_text(v)
PY2
tt_run OUT RC env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
	"$TG_BIN" plan --config "$TT_TMP/etc/tollgate.yaml"
tt_eq "plan with the shipped config: exit 1 (no cluster here)" 1 "$RC"
tt_contains "config, policy and credentials load; it stops at the cluster" \
	"$OUT" "not running in a cluster: KUBERNETES_SERVICE_HOST"
tt_done
