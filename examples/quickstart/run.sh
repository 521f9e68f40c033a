#!/usr/bin/env bash
# tollgate quickstart: a whole GitOps loop on this machine, loopback only.
#
#   ./examples/quickstart/run.sh
#
# Installs the Debian packages that are missing, builds tollgate into build/
# when it is not built yet, then starts Debian's docker-registry, a git
# daemon and tests/testcluster (a small Kubernetes API server) on free
# 127.0.0.1 ports, pushes two signed images with SBOM and vulnerability-scan
# attestations (one scan finds a critical CVE), commits a deploy repository
# with one unit per image, runs `tollgate once`, shows what was applied and
# what was blocked and why, pushes a fix and runs again. Everything it
# started is stopped at the end (also on Ctrl-C or an error).
#
# Environment: QUICKSTART_SKIP_BUILD=1 uses the binaries already in
# $TG_BUILD_DIR (default build/); TT_KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
TG_SOURCE_DIR=$(pwd)
export TG_SOURCE_DIR

step() { printf '==> %s\n' "$*"; }

. tests/lib/packages.sh
if [ "${QUICKSTART_SKIP_BUILD:-0}" != 1 ]; then
	step "checking packages"
	install_missing quickstart
fi
stop_system_registry

TG_BUILD_DIR=${TG_BUILD_DIR:-$TG_SOURCE_DIR/build}
TG_BIN=${TG_BIN:-$TG_BUILD_DIR/reconciler/tollgate}
if [ "${QUICKSTART_SKIP_BUILD:-0}" != 1 ] &&
	{ [ ! -x "$TG_BIN" ] || [ ! -x "$TG_BUILD_DIR/tests/testcluster/testcluster" ]; }; then
	step "building tollgate into $TG_BUILD_DIR (once; takes a few minutes)"
	cmake -S . -B "$TG_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$TG_BUILD_DIR" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
export TG_BUILD_DIR TG_BIN

# common.sh: scratch directory, servers tracked by PID and stopped by its
# EXIT trap. Turn Ctrl-C and TERM into a normal exit so that trap runs.
. tests/lib/common.sh
. tests/lib/world.sh
trap 'echo; echo "quickstart: interrupted, stopping everything" >&2; exit 130' INT TERM
trap 'rc=$?; [ $rc -eq 0 ] || echo "quickstart: failed (exit $rc); stopping everything" >&2' ERR

step "starting docker-registry, git daemon and test cluster on 127.0.0.1"
world_start
echo "    registry   $REGISTRY"
echo "    git        $TT_GIT_URL/deploy.git"
echo "    cluster    $TC_URL (kubeconfig $TC_KUBECONFIG)"
echo "    signing key $W_PUB (ECDSA P-256, made just now)"

world_scan "$TT_TMP/scan-clean.json"
world_scan "$TT_TMP/scan-critical.json" CVE-2024-6387 CRITICAL openssh-server \
	1:9.2p1-2+deb12u2 1:9.2p1-2+deb12u3

web=$(world_attested_image shop/web:1.0 "$TT_TMP/scan-clean.json")
step "pushed $REGISTRY/shop/web:1.0: signed, SBOM, scan clean (${web:0:19}...)"
api=$(world_attested_image pay/api:2.0 "$TT_TMP/scan-critical.json")
step "pushed $REGISTRY/pay/api:2.0: signed, SBOM, scan finds CRITICAL CVE-2024-6387 (${api:0:19}...)"

# tests/lib/world.sh: the tests' policy plus SBOM and scan requirements.
world_policy "$WORLD_ATTESTATIONS"
step "policy $W_POLICY: signature by release-key, an SBOM, a scan with nothing above high"

P=$W_WORK/clusters/prod
mkdir -p "$P/shop" "$P/payments"
{ world_namespace shop; world_deployment shop web "$REGISTRY/shop/web:1.0"; } >"$P/shop/web.yaml"
{ world_namespace payments; world_deployment payments api "$REGISTRY/pay/api:2.0"; } >"$P/payments/api.yaml"
world_commit "deploy shop/web 1.0 and payments/api 2.0"
step "committed clusters/prod/shop and clusters/prod/payments to $TT_GIT_URL/deploy.git"

once() {
	step "tollgate once --config $W_CONFIG"
	local rc=0
	"$TG_BIN" once --config "$W_CONFIG" --health-timeout 20 2>&1 |
		sed 's/^/    /' || rc=${PIPESTATUS[0]}
	echo "    (exit $rc: 0 = all applied, 3 = a unit was blocked)"
}
image_of() {
	kc get deploy "$2" -n "$1" -o jsonpath='{.spec.template.spec.containers[0].image}'
}
status_log() {
	git -C "$W_WORK" fetch -q origin \
		'+refs/heads/tollgate/status:refs/remotes/origin/tollgate/status'
	git -C "$W_WORK" log -1 --format='%h %s%n%n%b' origin/tollgate/status |
		sed -e '/^$/d' -e 's/^/    /'
}

once
step "applied: deploy/web in shop runs $(image_of shop web)"
echo "    (kubectl --kubeconfig $TC_KUBECONFIG get deploy web -n shop -o jsonpath='{..image}')"
if kc get deploy api -n payments >/dev/null 2>&1; then
	step "unexpected: payments/api reached the cluster"
	exit 1
fi
step "blocked: deploy/api in payments is not in the cluster"
step "status branch: git log -1 origin/tollgate/status"
status_log

fix=$(world_attested_image pay/api:2.1 "$TT_TMP/scan-clean.json")
step "pushed the fix $REGISTRY/pay/api:2.1: signed, SBOM, scan clean (${fix:0:19}...)"
sed -i "s|$REGISTRY/pay/api:2.0|$REGISTRY/pay/api:2.1|" "$P/payments/api.yaml"
world_commit "payments/api: 2.1 fixes CVE-2024-6387"
step "committed payments/api 2.1 to the deploy repository"
once
img=$(image_of payments api)
step "applied after the fix: deploy/api in payments runs $img"
step "status branch: git log -1 origin/tollgate/status"
status_log

step "done; stopping registry, git daemon and test cluster"
cat <<'NEXT'

What to try next:
  * tollgate verify --policy POLICY IMAGE      one image's verdict, check by check
  * tollgate plan --config tollgate.yaml       what once would change, writing nothing
  * TT_KEEP_TMP=1 ./examples/quickstart/run.sh keep the config, policy and repos
  * README.md: Policy (exceptions, warn mode, provenance), tollgate once and plan
NEXT
