# A whole local world for end-to-end tests of tollgate once/plan/run:
# Debian's docker-registry, a git daemon with a bare deploy repository, and
# tests/testcluster; a signing key, a policy and a tollgate config.
# Source after common.sh:
#   . "$TG_SOURCE_DIR/tests/lib/common.sh"
#   . "$TG_SOURCE_DIR/tests/lib/world.sh"
#   world_start
# Sets: REGISTRY, TC_*, TT_GIT_URL, W_WORK (a clone of the deploy repo to
# commit into; manifests go under clusters/prod/), W_KEY / W_PUB (ECDSA
# P-256 signing key), W_POLICY, W_CONFIG, W_STATE. examples/quickstart/run.sh
# builds on the same world (world_policy, world_attested_image).
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
	world_policy
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

# world_policy [RULE-LINES]: write W_POLICY: images of REGISTRY only,
# signed by the world's key (release-key); RULE-LINES (YAML indented for
# the rule, e.g. an attestations: block) are added to the rule. The
# quickstart and the tests share this one policy.
world_policy() {
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
	if [ -n "${1:-}" ]; then
		printf '%s\n' "$1" >>"$W_POLICY"
	fi
}

# The attestations the quickstart's policy asks for (world_policy
# "$WORLD_ATTESTATIONS"): a CycloneDX or SPDX SBOM and a scan with
# nothing above high, at most 7 days old.
WORLD_ATTESTATIONS='    attestations:
      sbom: {required: true, formats: [spdx, cyclonedx]}
      vulnerabilities: {required: true, maxSeverity: high, maxScanAge: 7d}'

# world_scan FILE [CVE SEVERITY PACKAGE VERSION FIXED]: a Trivy-style scan
# result made now, clean or with one finding.
world_scan() {
	local vulns="[]" now
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	if [ $# -gt 1 ]; then
		vulns="[{\"VulnerabilityID\": \"$2\", \"PkgName\": \"$4\",
		  \"InstalledVersion\": \"$5\", \"FixedVersion\": \"$6\",
		  \"Severity\": \"$3\", \"Title\": \"example finding\"}]"
	fi
	cat >"$1" <<-JSON
	{"invocation": {"uri": "", "event_id": "", "builder.id": ""},
	 "scanner": {"uri": "pkg:github/aquasecurity/trivy@0.45.0", "version": "0.45.0",
	   "db": {"uri": "", "version": ""},
	   "result": {"SchemaVersion": 2, "ArtifactType": "container_image",
	     "Results": [{"Target": "app", "Class": "os-pkgs", "Type": "debian",
	       "Vulnerabilities": $vulns}]}},
	 "metadata": {"scanStartedOn": "$now", "scanFinishedOn": "$now"}}
	JSON
}

# world_attested_image REPO:TAG SCAN-FILE: push, sign with the world's
# key, attest a CycloneDX SBOM and the scan; prints the digest.
world_attested_image() {
	python3 "$TG_SOURCE_DIR/tests/tools/tg-image-batch" <<-BATCH | sed -n 1p
	push $REGISTRY/$1 --content $1
	sign $REGISTRY/$1 --key $W_KEY
	attest $REGISTRY/$1 --key $W_KEY --predicate-type https://cyclonedx.org/bom --predicate $TG_SOURCE_DIR/tests/data/sbom/good/cyclonedx-1.6-maven.json
	attest $REGISTRY/$1 --key $W_KEY --predicate-type https://cosign.sigstore.dev/attestation/vuln/v1 --predicate $2
	BATCH
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

# A Namespace manifest and a document separator: world_namespace NAME
world_namespace() {
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n---\n' "$1"
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
