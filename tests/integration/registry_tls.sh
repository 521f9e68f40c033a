#!/usr/bin/env bash
# TLS is on by default: a registry serving HTTPS with a private CA is
# reached when the CA file is given, refused (certificate check) without
# it, and listing it as insecure does not turn certificate checks off (it
# only allows plain HTTP, which this registry does not speak).
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

P=$TG_BUILD_DIR/tests/tools/tg-registry-probe
T=$TG_SOURCE_DIR/tests/tools/tg-image
tt_start_registry --tls
D=$($T push "$REGISTRY/app:v1" --tls-ca "$TT_REGISTRY_CA")

tt_run out rc "$P" --ca "$TT_REGISTRY_CA" manifest "$REGISTRY" app v1
tt_eq "HTTPS with the CA file" 0 "$rc"
tt_contains "HTTPS manifest digest" "$out" "digest $D"
tt_run out rc "$P" --ca "$TT_REGISTRY_CA" ping "$REGISTRY"
tt_eq "HTTPS ping" 0 "$rc"

tt_run out rc "$P" manifest "$REGISTRY" app v1
tt_eq "unknown CA: network error" 8 "$rc"
tt_contains "certificate problem reported" "$out" "certificate"
tt_contains "the URL is named" "$out" "https://$REGISTRY/v2/app/manifests/v1"
tt_contains "not retried: a certificate error is not transient" "$out" "1 attempt)"

# A CA that did not issue the certificate.
tt_registry_make_tls "$TT_TMP"
tt_run out rc "$P" --ca "$TT_TMP/ca.crt" manifest "$REGISTRY" app v1
tt_eq "wrong CA: refused" 8 "$rc"

tt_run out rc "$P" --insecure "$REGISTRY" manifest "$REGISTRY" app v1
tt_eq "listed insecure: plain HTTP to a TLS port fails" 8 "$rc"
tt_contains "plain HTTP was spoken (the TLS port answers 400)" "$out" "unexpected answer from http://$REGISTRY/v2/app/manifests/v1 (HTTP 400"

tt_done
