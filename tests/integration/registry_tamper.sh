#!/usr/bin/env bash
# Bytes that do not match their digest are refused: a manifest altered in
# the registry's storage (by digest and by tag, where the registry still
# sends the old Docker-Content-Digest) and an altered blob. Also a moved
# tag: fetching by the old digest still gives the old bytes.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

P=$TG_BUILD_DIR/tests/tools/tg-registry-probe
T=$TG_SOURCE_DIR/tests/tools/tg-image
tt_start_registry
I=(--insecure "$REGISTRY")

blob_path() {
	local hex=${1#sha256:}
	echo "$TT_REGISTRY_DATA/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

D=$($T push "$REGISTRY/app:v1" --content original)
cfg=$("$P" "${I[@]}" manifest "$REGISTRY" app v1 | awk '/^config/ {print $2}')

# Alter the stored manifest: still valid JSON, other bytes, same path.
python3 - "$(blob_path "$D")" <<'PY'
import json, sys
p = sys.argv[1]
doc = json.load(open(p, "rb"))
doc["annotations"] = {"org.example.tampered": "yes"}
open(p, "w").write(json.dumps(doc, separators=(",", ":"), sort_keys=True))
PY
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" app "$D"
tt_eq "altered manifest by digest: TG_EUNTRUSTED" 5 "$rc"
tt_contains "mismatch names registry/repo@digest" "$out" "$REGISTRY/app@$D: digest mismatch"
tt_contains "mismatch says what was asked" "$out" "not $D (the digest asked for)"
tt_not_contains "tampered content not printed as a manifest" "$out" "kind image"

tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" app v1
tt_eq "altered manifest by tag: TG_EUNTRUSTED" 5 "$rc"
tt_contains "tag mismatch against Docker-Content-Digest" "$out" "(the Docker-Content-Digest header)"

# Alter a blob (the image config).
printf '{"tampered":true}' >"$(blob_path "$cfg")"
tt_run out rc "$P" "${I[@]}" blob "$REGISTRY" app "$cfg"
tt_eq "altered blob: TG_EUNTRUSTED" 5 "$rc"
tt_contains "blob mismatch message" "$out" "$REGISTRY/app@$cfg: digest mismatch: the blob bytes received hash to"

# A moved tag: v2 first points at one image, then at another; fetching by
# the first digest keeps giving the first image's bytes.
A=$($T push "$REGISTRY/app:v2" --content first)
B=$($T push "$REGISTRY/app:v2" --content second)
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" app v2
tt_contains "moved tag resolves to the new digest" "$out" "digest $B"
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" app "$A"
tt_eq "old digest still fetchable" 0 "$rc"
tt_contains "old digest verified" "$out" "digest $A"

# A manifest whose bytes match its digest but whose shape is hostile. The
# registry refuses to store such a manifest through its API, so it is
# written into the storage directly (blob data plus revision link).
bad='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"'$cfg'","size":-1},"layers":[]}'
printf '%s' "$bad" >"$TT_TMP/bad.json"
BD=sha256:$(sha256sum "$TT_TMP/bad.json" | cut -d' ' -f1)
mkdir -p "$(dirname "$(blob_path "$BD")")"
cp "$TT_TMP/bad.json" "$(blob_path "$BD")"
mkdir -p "$TT_REGISTRY_DATA/docker/registry/v2/repositories/app/_manifests/revisions/sha256/${BD#sha256:}"
printf '%s' "$BD" >"$TT_REGISTRY_DATA/docker/registry/v2/repositories/app/_manifests/revisions/sha256/${BD#sha256:}/link"
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" app "$BD"
tt_eq "hostile manifest shape: TG_EPARSE" 3 "$rc"
tt_contains "hostile shape message" "$out" "$REGISTRY/app@$BD: config.size missing or not a non-negative integer"

tt_done
