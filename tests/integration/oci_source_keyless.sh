#!/usr/bin/env bash
# OCI sources (issue 17): an artifact signed keyless deploys under a
# keyless rule, and one signed for another identity does not. The
# certificate authority is made here with openssl (a Fulcio-style leaf:
# e-mail SAN, OIDC issuer in extension 1.3.6.1.4.1.57264.1.1, code
# signing), since no fixture signs a Flux-layout artifact; the signature
# is cosign's layout (tg-image sign with the certificate and chain
# annotations). No transparency log here (rekor and ctlog not required by
# the rule): verify_keyless.sh covers real Fulcio/Rekor material.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

D=$TT_TMP/pki
mkdir -p "$D"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$D/ca.key" -out "$D/ca.pem" -days 2 -subj "/O=test/CN=fulcio-test" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
# leaf EMAIL: a short-lived signing certificate for EMAIL
leaf() {
	local issuer_hex
	issuer_hex=$(printf 'https://accounts.example.com' | od -An -tx1 | tr -d ' \n')
	openssl ecparam -name prime256v1 -genkey -noout -out "$D/$1.key" 2>/dev/null
	openssl req -new -key "$D/$1.key" -subj "/" -out "$D/$1.csr" 2>/dev/null
	cat >"$D/$1.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=codeSigning
subjectAltName=email:$1
1.3.6.1.4.1.57264.1.1=DER:$issuer_hex
EXT
	openssl x509 -req -in "$D/$1.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
		-CAcreateserial -days 1 -extfile "$D/$1.ext" -out "$D/$1.pem" 2>/dev/null
}
leaf release@acme.example
leaf intruder@acme.example

cat >"$W_POLICY" <<POLICY
apiVersion: tollgate.dev/v1alpha1
kind: Policy
registries:
  allowed: [$REGISTRY/]
rules:
  - name: deploy-artifacts
    images: ["$REGISTRY/deploy/**"]
    signatures:
      authorities:
        - name: ci
          keyless:
            issuer: https://accounts.example.com
            subject: release@acme.example
            fulcioCerts: $D/ca.pem
            ctlog: {required: false}
          rekor: {required: false}
  - name: images
    images: ["$REGISTRY/**"]
    signatures:
      authorities:
        - name: release-key
          key: $W_PUB
POLICY

tt_git_bare "$TT_TMP/git/status.git"
ART=$REGISTRY/deploy/prod:v1
cat >"$TT_TMP/oci.yaml" <<CONFIG
source:
  url: oci://$ART
status:
  url: $TT_GIT_URL/status.git
cluster:
  kubeconfig: $TC_KUBECONFIG
policy: $W_POLICY
registries:
  insecure: [$REGISTRY]
stateDir: $W_STATE
CONFIG
# content COLOR: the artifact's files
content() {
	rm -rf "$TT_TMP/art"
	mkdir -p "$TT_TMP/art/shop"
	{ world_namespace shop
	  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config, namespace: shop}\ndata: {color: %s}\n' "$1"
	} >"$TT_TMP/art/shop/web.yaml"
}
# push_keyless EMAIL: push the artifact and sign it with EMAIL's certificate
push_keyless() {
	python3 "$TG_IMAGE" push-artifact "$ART" --dir "$TT_TMP/art" >/dev/null
	python3 "$TG_IMAGE" sign "$ART" --key "$D/$1.key" \
		--annotation "dev.sigstore.cosign/certificate=$(cat "$D/$1.pem")" \
		--annotation "dev.sigstore.cosign/chain=$(cat "$D/ca.pem")" >/dev/null
}
once() {
	tt_run OUT RC "$TG_BIN" once --config "$TT_TMP/oci.yaml" --health-timeout 0
	echo "$OUT" >>"$TT_TMP/once.log"
}
color() {
	kc get configmap web-config -n shop -o jsonpath='{.data.color}'
}

content blue
push_keyless release@acme.example
once
tt_eq "a keyless-signed artifact deploys under the keyless rule" 0 "$RC"
tt_eq "its content is applied" blue "$(color)"
doc=$(git --git-dir="$TT_TMP/git/status.git" show tollgate/status:status.json)
tt_contains "the status names the keyless identity" "$doc" "release@acme.example"
tt_contains "the status names the rule" "$doc" '"rule": "deploy-artifacts"'

content green
push_keyless intruder@acme.example
once
tt_eq "another identity's artifact is refused" 3 "$RC"
tt_contains "the reason names the identity found" "$OUT" "intruder@acme.example"
tt_eq "the cluster keeps the verified content" blue "$(color)"
tt_done
