# A whole local world for end-to-end tests of tollgate once/plan/run:
# Debian's docker-registry, a git daemon with a bare deploy repository, and
# tests/testcluster; a signing key, a policy and a tollgate config.
# Source after common.sh:
#   . "$TG_SOURCE_DIR/tests/lib/common.sh"
#   . "$TG_SOURCE_DIR/tests/lib/world.sh"
#   world_start
# Sets: REGISTRY, TC_*, TT_GIT_URL, W_WORK (a clone of the deploy repo to
# commit into; manifests go under clusters/prod/), W_KEY / W_PUB (ECDSA
# P-256 signing key), W_POLICY, W_CONFIG, W_STATE.
. "$TG_SOURCE_DIR/tests/lib/registry.sh"
. "$TG_SOURCE_DIR/tests/lib/git.sh"
. "$TG_SOURCE_DIR/tests/lib/testcluster.sh"

TG_IMAGE=${TG_IMAGE:-$TG_SOURCE_DIR/tests/tools/tg-image}

world_start() {
	tt_start_registry
	tc_start
	mkdir -p "$TT_TMP/git"
	tt_git_bare "$TT_TMP/git/deploy.git"
	tt_start_git_daemon "$TT_TMP/git"
	W_WORK=$TT_TMP/work
	git clone -q "$TT_TMP/git/deploy.git" "$W_WORK" 2>/dev/null
	mkdir -p "$W_WORK/clusters/prod"
	W_KEY=$TT_TMP/release.key
	W_PUB=$TT_TMP/release.pub
	openssl ecparam -name prime256v1 -genkey -noout -out "$W_KEY" 2>/dev/null
	openssl ec -in "$W_KEY" -pubout -out "$W_PUB" 2>/dev/null
	W_STATE=$TT_TMP/state
	mkdir -p "$W_STATE"
	W_POLICY=$TT_TMP/policy.yaml
	cat >"$W_POLICY" <<POLICY
apiVersion: tollgate.dev/v1alpha1
kind: Policy
registries:
  allowed: [$REGISTRY/]
rules:
  - name: local
    images: ["$REGISTRY/**"]
    mode: enforce
    signatures:
      authorities:
        - name: release-key
          key: $W_PUB
POLICY
	W_CONFIG=$TT_TMP/tollgate.yaml
	cat >"$W_CONFIG" <<CONFIG
source:
  url: $TT_GIT_URL/deploy.git
  branch: main
  path: clusters/prod
  interval: 30s
status:
  branch: tollgate/status
  notes: refs/notes/tollgate
  author: { name: tollgate, email: tollgate@cluster.local }
cluster:
  kubeconfig: $TC_KUBECONFIG
  inventoryNamespace: tollgate-system
  drift: correct
  prune: true
policy: $W_POLICY
registries:
  insecure: [$REGISTRY]
stateDir: $W_STATE
CONFIG
}

# world_image REPO:TAG [CONTENT]: push an image, print its digest.
world_image() {
	python3 "$TG_IMAGE" push "$REGISTRY/$1" --content "${2:-$1}" | tail -1
}

# world_sign REPO:TAG: sign it with the world's key.
world_sign() {
	python3 "$TG_IMAGE" sign "$REGISTRY/$1" --key "$W_KEY" >/dev/null
}

# world_commit MESSAGE: commit and push everything in W_WORK.
world_commit() {
	tt_git_commit "$W_WORK" "$1"
}

# kc ARGS...: kubectl against the test cluster.
kc() {
	kubectl --kubeconfig "$TC_KUBECONFIG" "$@"
}

# A Deployment manifest: world_deployment NAMESPACE NAME IMAGE
world_deployment() {
	cat <<DEPLOY
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $2
  namespace: $1
spec:
  replicas: 2
  selector:
    matchLabels: {app: $2}
  template:
    metadata:
      labels: {app: $2}
    spec:
      containers:
        - name: app
          image: $3
DEPLOY
}
