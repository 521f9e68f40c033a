#!/usr/bin/env bash
# Keyless verification through the registry path: the containers/image
# fixture dir-img-cosign-fulcio-rekor-valid (signed by real cosign with a
# Fulcio certificate and a Rekor bundle) is put unchanged into Debian's
# docker-registry and verified by `tollgate verify` under a keyless
# authority: the right identity is allowed and the evidence names it;
# another identity, another issuer or another CA is blocked.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

FX=$TG_FIXTURES/containers-image
tt_start_registry
R=$REGISTRY
python3 "$TG_SOURCE_DIR/tests/tools/tg-image" seed-fixture \
	"$FX/dir-img-cosign-fulcio-rekor-valid" "$R/cosign-signed/fulcio-rekor-1" \
	--storage "$TT_REGISTRY_DATA" --tag latest >/dev/null
IMG=$R/cosign-signed/fulcio-rekor-1:latest

policy() { # ISSUER SUBJECT CA
	cat <<EOF2
apiVersion: tollgate.dev/v1alpha1
kind: Policy
registries:
  allowed: ["$R/"]
rules:
  - name: keyless
    images: ["$R/**"]
    signatures:
      authorities:
        - name: fulcio
          keyless:
            issuer: $1
            subject: $2
            fulcioCerts: $3
EOF2
}
verify() {
	tt_run OUT RC "$TG_BIN" verify --policy "$TT_TMP/policy.yaml" \
		--insecure-registry "$R" --output json "$IMG"
}

policy https://github.com/login/oauth mitr@redhat.com "$FX/fulcio_v1.crt.pem" \
	>"$TT_TMP/policy.yaml"
verify
tt_eq "a keyless signature by the right identity is allowed" 0 "$RC"
tt_contains "the verdict is allowed" "$OUT" '"verdict": "allowed"'
tt_contains "the evidence names the identity" "$OUT" "mitr@redhat.com"

policy https://github.com/login/oauth someone@example.com "$FX/fulcio_v1.crt.pem" \
	>"$TT_TMP/policy.yaml"
verify
tt_eq "another identity is blocked" 3 "$RC"
tt_contains "the reason names the identity found" "$OUT" "mitr@redhat.com"

policy https://accounts.google.com mitr@redhat.com "$FX/fulcio_v1.crt.pem" \
	>"$TT_TMP/policy.yaml"
verify
tt_eq "another issuer is blocked" 3 "$RC"

# A CA that did not issue the certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TT_TMP/ca.key" -out "$TT_TMP/ca.pem" -days 1 \
	-subj "/CN=not-fulcio" 2>/dev/null
policy https://github.com/login/oauth mitr@redhat.com "$TT_TMP/ca.pem" \
	>"$TT_TMP/policy.yaml"
verify
tt_eq "a certificate from an untrusted CA is blocked" 3 "$RC"
tt_done
