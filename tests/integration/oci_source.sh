#!/usr/bin/env bash
# OCI sources end to end (issue 17): the deploy manifests pushed to Debian's
# docker-registry in Flux's layout (tg-image push-artifact), signed with a
# cosign key, deployed by `tollgate once` to tests/testcluster with the
# status in a separate bare repository served by git daemon. Then, with
# the same tag moved each time, artifacts that must not deploy: unsigned,
# signed by another key, a layer that does not match its digest; each is
# refused naming why, nothing of it is applied and the cluster keeps the
# verified content. Hostile archives: oci_source_archives.sh.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

tt_git_bare "$TT_TMP/git/status.git"
ART=$REGISTRY/deploy/prod:v1
CONFIG=$TT_TMP/oci.yaml
cat >"$CONFIG" <<CONFIG
source:
  url: oci://$ART
  path: clusters/prod
status:
  url: $TT_GIT_URL/status.git
  branch: tollgate/status
cluster:
  kubeconfig: $TC_KUBECONFIG
  inventoryNamespace: tollgate-system
policy: $W_POLICY
registries:
  insecure: [$REGISTRY]
stateDir: $W_STATE
CONFIG

once() {
	tt_run OUT RC "$TG_BIN" once --config "$CONFIG" --health-timeout 10
	echo "$OUT" >>"$TT_TMP/once.log"
}
color() {
	kc get configmap web-config -n shop -o jsonpath='{.data.color}'
}
# content DIR COLOR: the deploy tree, shop's ConfigMap of that color and
# the signed web image.
content() {
	mkdir -p "$1/clusters/prod/shop"
	{ world_namespace shop
	  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config, namespace: shop}\ndata: {color: %s}\n---\n' "$2"
	  world_deployment shop web "$REGISTRY/shop/web:1.0"
	} >"$1/clusters/prod/shop/web.yaml"
	printf '# not a manifest\n' >"$1/clusters/prod/README.md"
	# a unit rendered by kustomize from the artifact's files
	mkdir -p "$1/clusters/prod/kust" "$1/base"
	printf 'resources: [../../../base]\nnamespace: shop\n' \
		>"$1/clusters/prod/kust/kustomization.yaml"
	printf 'resources: [cm.yaml]\n' >"$1/base/kustomization.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kust-config}\ndata: {color: %s}\n' \
		"$2" >"$1/base/cm.yaml"
}
push() { # push-artifact options...: prints the digest
	python3 "$TG_IMAGE" push-artifact "$ART" "$@" | tail -1
}
sign() { # KEY
	python3 "$TG_IMAGE" sign "$ART" --key "$1" >/dev/null
}
push_signed() { # DIR: push and sign with the world's key in one go
	printf 'push-artifact %s --dir %s\nsign %s --key %s\n' \
		"$ART" "$1" "$ART" "$W_KEY" >"$TT_TMP/batch"
	python3 "$TG_SOURCE_DIR/tests/tools/tg-image-batch" <"$TT_TMP/batch" \
		>"$TT_TMP/batch.out"
	head -1 "$TT_TMP/batch.out"
}
status_git() {
	git --git-dir="$TT_TMP/git/status.git" "$@"
}

web=$(world_image shop/web:1.0)
world_sign shop/web:1.0

# 1. A signed artifact deploys, pinned; the status names its digest.
content "$TT_TMP/a" blue
D1=$(push --dir "$TT_TMP/a" --source https://github.com/acme/deploy \
	--revision main@sha1:0123456789abcdef0123456789abcdef01234567)
sign "$W_KEY"
once
tt_eq "a signed artifact deploys" 0 "$RC"
tt_eq "its ConfigMap is applied" blue "$(color)"
tt_eq "a kustomization in the artifact is rendered from its files" blue \
	"$(kc get configmap kust-config -n shop -o jsonpath='{.data.color}')"
tt_eq "the image is pinned to its verified digest" "$REGISTRY/shop/web:1.0@$web" \
	"$(kc get deployment web -n shop -o jsonpath='{.spec.template.spec.containers[0].image}')"
tt_eq "the objects name the artifact digest" "$D1" \
	"$(kc get configmap web-config -n shop -o jsonpath='{.metadata.annotations.tollgate\.dev/source-commit}')"
tt_eq "Source-Digest trailer" "$D1" \
	"$(status_git log -1 --format='%(trailers:key=Source-Digest,valueonly)' tollgate/status)"
tt_eq "Source-Ref trailer" "oci://$ART" \
	"$(status_git log -1 --format='%(trailers:key=Source-Ref,valueonly)' tollgate/status)"
tt_eq "no Source-Commit trailer" "" \
	"$(status_git log -1 --format='%(trailers:key=Source-Commit,valueonly)' tollgate/status)"
doc=$(status_git show tollgate/status:status.json)
tt_contains "status.json: the artifact's source annotation" "$doc" \
	'"source": "https://github.com/acme/deploy"'
tt_contains "status.json: its revision annotation" "$doc" \
	'"revision": "main@sha1:0123456789abcdef0123456789abcdef01234567"'
tt_contains "status.json: the artifact verdict" "$doc" '"verdict": "allowed"'
tt_eq "no notes for an OCI source" "" "$(status_git for-each-ref refs/notes)"
tt_run X RC2 git --git-dir="$TT_TMP/git/deploy.git" rev-parse -q --verify refs/heads/tollgate/status
tt_eq "nothing written to another repository" 1 "$RC2"

# 2. Unchanged: nothing new to write.
once
tt_eq "unchanged artifact: once exits 0" 0 "$RC"
tt_eq "unchanged artifact: no new status commit" 1 \
	"$(status_git rev-list --count tollgate/status)"

# refused WHAT WANT: the new artifact is refused, naming WANT; nothing of
# it applied (the ConfigMap stays blue) and the status says so.
refused() {
	once
	tt_eq "$1: once exits 3" 3 "$RC"
	tt_contains "$1: the reason is named" "$OUT" "$2"
	tt_eq "$1: the cluster keeps the verified content" blue "$(color)"
}

# 3. Unsigned, then signed by another key.
content "$TT_TMP/b" green
D2=$(push --dir "$TT_TMP/b")
refused "unsigned artifact" "signature"
tt_contains "the status commit tells the refused artifact" \
	"$(status_git log -1 --format=%B tollgate/status)" "Artifact not deployed: $REGISTRY/deploy/prod:v1@$D2"
tt_eq "the status still names the deployed digest" "$D1" \
	"$(status_git log -1 --format='%(trailers:key=Source-Digest,valueonly)' tollgate/status)"
openssl ecparam -name prime256v1 -genkey -noout -out "$TT_TMP/other.key" 2>/dev/null
sign "$TT_TMP/other.key"
refused "artifact signed by another key" "signature"

# 4. A layer whose bytes do not match its digest (altered in storage).
content "$TT_TMP/c" red
D3=$(push_signed "$TT_TMP/c")
layer=$(python3 "$TG_IMAGE" get-manifest "$REGISTRY/deploy/prod@$D3" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
hex=${layer#sha256:}
cp "$TT_TMP/b/clusters/prod/shop/web.yaml" \
	"$TT_REGISTRY_DATA/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
refused "layer not matching its digest" "digest mismatch"

# 5. A new signed artifact deploys again.
D4=$(push_signed "$TT_TMP/b")
once
tt_eq "a new signed artifact deploys" 0 "$RC"
tt_eq "its content is applied" green "$(color)"
tt_eq "the status names the new digest" "$D4" \
	"$(status_git log -1 --format='%(trailers:key=Source-Digest,valueonly)' tollgate/status)"
tt_done
