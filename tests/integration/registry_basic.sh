#!/usr/bin/env bash
# Registry client against a real docker-registry, anonymous access:
# manifests by tag and digest (OCI and Docker v2), an index with platforms,
# blobs and the digest cache, a missing .sig tag, the referrers fallback,
# and plain HTTP only for registries listed as insecure.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

P=$TG_BUILD_DIR/tests/tools/tg-registry-probe
T=$TG_SOURCE_DIR/tests/tools/tg-image
tt_start_registry
I=(--insecure "$REGISTRY")

D=$($T push "$REGISTRY/team/app:v1" --content one)
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" team/app v1
tt_eq "manifest by tag" 0 "$rc"
tt_contains "digest of the tag is the pushed one" "$out" "digest $D"
tt_contains "OCI media type" "$out" "mediaType application/vnd.oci.image.manifest.v1+json"
tt_contains "one layer" "$out" "layer sha256:"

tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" team/app "$D"
tt_eq "manifest by digest" 0 "$rc"
tt_contains "same digest by digest" "$out" "digest $D"

DD=$($T push "$REGISTRY/team/app:docker" --format docker --content two)
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" team/app docker
tt_contains "Docker v2 manifest" "$out" "mediaType application/vnd.docker.distribution.manifest.v2+json"
tt_contains "Docker v2 digest" "$out" "digest $DD"

mapfile -t idx < <($T push-index "$REGISTRY/team/multi:v1" --print-children)
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" team/multi v1
tt_eq "index fetched" 0 "$rc"
tt_contains "index digest" "$out" "digest ${idx[0]}"
tt_contains "index kind" "$out" "kind index"
tt_contains "amd64 platform manifest" "$out" "manifest ${idx[1]% *} application/vnd.oci.image.manifest.v1+json"
tt_contains "amd64 platform" "$out" "platform=linux/amd64"
tt_contains "arm64 platform" "$out" "platform=linux/arm64"
mapfile -t idx2 < <($T push-index "$REGISTRY/team/multi:docker" --format docker)
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" team/multi docker
tt_contains "Docker manifest list" "$out" "mediaType application/vnd.docker.distribution.manifest.list.v2+json"

cfg=$("$P" "${I[@]}" manifest "$REGISTRY" team/app v1 | awk '/^config/ {print $2}')
tt_run out rc "$P" "${I[@]}" --stats --twice blob "$REGISTRY" team/app "$cfg"
tt_eq "blob fetched twice" 0 "$rc"
tt_contains "blob digest" "$out" "digest $cfg"
tt_contains "second fetch served from the cache (one request)" "$out" "stats requests=1 "
tt_run out rc "$P" "${I[@]}" blob "$REGISTRY" team/app "$cfg" 10
tt_eq "blob over the caller's max: TG_ETOOBIG" 4 "$rc"
tt_contains "size limit message" "$out" "limit of 10 bytes"

missing=sha256:$(printf x | sha256sum | cut -d' ' -f1)
tt_run out rc "$P" "${I[@]}" blob "$REGISTRY" team/app "$missing"
tt_eq "missing blob: TG_ENOTFOUND" 2 "$rc"
tt_contains "missing blob names registry/repo@digest" "$out" "$REGISTRY/team/app@$missing: not found (HTTP 404"

tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" team/app "sha256-${D#sha256:}.sig"
tt_eq "no signatures: TG_ENOTFOUND" 2 "$rc"
tt_contains "not found names the .sig tag" "$out" "team/app:sha256-${D#sha256:}.sig: not found (HTTP 404: MANIFEST_UNKNOWN"

# Referrers: docker-registry 2.8 has no referrers API (404), so the client
# falls back to the index at tag sha256-<hex>.
tt_run out rc "$P" "${I[@]}" referrers "$REGISTRY" team/app "$D"
tt_eq "referrers without any: empty" 0 "$rc"
tt_contains "no referrers" "$out" "count 0"
tt_contains "tag schema fallback used" "$out" "fallback yes"
cat >"$TT_TMP/referrers.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$DD","size":1,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$D","size":1,"artifactType":"application/spdx+json","annotations":{"org.example":"sbom"}}]}
JSON
$T put-manifest "$REGISTRY/team/app:sha256-${D#sha256:}" "$TT_TMP/referrers.json" >/dev/null
tt_run out rc "$P" "${I[@]}" referrers "$REGISTRY" team/app "$D"
tt_contains "fallback index: two referrers" "$out" "count 2"
tt_run out rc "$P" "${I[@]}" referrers "$REGISTRY" team/app "$D" application/spdx+json
tt_contains "artifactType filter: one referrer" "$out" "count 1"
tt_contains "filtered referrer kept its annotations" "$out" "artifactType=application/spdx+json org.example=sbom"

# Plain HTTP only for registries listed as insecure: without the listing
# the client speaks TLS to the plain-HTTP registry and fails.
tt_run out rc "$P" manifest "$REGISTRY" team/app v1
tt_eq "unlisted plain-HTTP registry: network error" 8 "$rc"
tt_contains "TLS was attempted" "$out" "GET https://$REGISTRY/v2/team/app/manifests/v1"
tt_contains "hint to list the registry as insecure" "$out" "if $REGISTRY serves plain HTTP, list it as an insecure registry"
tt_run out rc "$P" --insecure 127.0.0.2 manifest "$REGISTRY" team/app v1
tt_eq "another host listed: still TLS" 8 "$rc"

tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" team/nothere v1
tt_eq "unknown repository: not found" 2 "$rc"
tt_contains "unknown repository message" "$out" "team/nothere:v1: not found (HTTP 404"

tt_done
