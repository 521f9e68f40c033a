#!/usr/bin/env bash
# tollgate verify against Debian's docker-registry: signed, unsigned,
# wrong key, tampered payload, payload for another digest, moved tag,
# index images, threshold, registry not allowed, JSON output, exit codes.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

TGI=("python3" "$TG_SOURCE_DIR/tests/tools/tg-image")
TGB=("python3" "$TG_SOURCE_DIR/tests/tools/tg-image-batch")
tt_start_registry
R=$REGISTRY

keygen() { # NAME CURVE
	openssl ecparam -name "$2" -genkey -noout -out "$TT_TMP/$1.pem" 2>/dev/null
	openssl ec -in "$TT_TMP/$1.pem" -pubout -out "$TT_TMP/$1.pub" 2>/dev/null
}
keygen release prime256v1
keygen ci secp384r1
keygen stranger prime256v1

cat >"$TT_TMP/policy.yaml" <<EOF
apiVersion: tollgate.dev/v1alpha1
kind: Policy
registries:
  allowed: [$R/acme/]
rules:
  - name: two-keys
    images: ["$R/acme/both"]
    signatures:
      threshold: 2
      authorities:
        - {name: release, key: release.pub}
        - {name: ci, key: ci.pub}
  - name: acme
    images: ["$R/**"]
    signatures:
      authorities:
        - {name: release, key: release.pub}
EOF

# Most images in one go (tg-image-batch: one python process for all).
mapfile -t D < <("${TGB[@]}" <<EOF
push $R/acme/api:v1 --content api
push $R/acme/unsigned:v1 --content unsigned
push $R/acme/wrongkey:v1 --content wrongkey
push $R/acme/tampered:v1 --content tampered
push $R/acme/other:v1 --content other
push $R/acme/moved:v1 --content first
push $R/acme/both:v1 --content both
push $R/evil/api:v1 --content evil
push-index $R/acme/multi:v1 --content multi --print-children
EOF
)
[ "${#D[@]}" -eq 11 ] || { echo "setup failed: ${D[*]}" >&2; exit 1; }
d_api=${D[0]} d_un=${D[1]} d_wk=${D[2]} d_t=${D[3]} d_o=${D[4]} d_m1=${D[5]}
d_idx=${D[8]} child=${D[9]%% *}
"${TGB[@]}" >/dev/null <<EOF
sign $R/acme/api:v1 --key $TT_TMP/release.pem
sign $R/acme/wrongkey:v1 --key $TT_TMP/stranger.pem
sign $R/acme/tampered:v1 --key $TT_TMP/release.pem
sign $R/acme/other:v1 --key $TT_TMP/release.pem --payload-digest $d_api
sign $R/acme/moved:v1 --key $TT_TMP/release.pem
sign $R/acme/both:v1 --key $TT_TMP/release.pem
sign $R/evil/api:v1 --key $TT_TMP/release.pem
EOF

verify() { # OUT RC args...
	tt_run "$1" "$2" "$TG_BIN" verify --policy "$TT_TMP/policy.yaml" \
		--insecure-registry "$R" "${@:3}"
}

# Signed with the policy's key: allowed, with the signer named.
verify out rc "$R/acme/api:v1"
tt_eq "signed image: exit 0" 0 "$rc"
tt_contains "signed image: allowed with its digest" "$out" \
	"$R/acme/api:v1: allowed $d_api (rule acme, enforce)"
tt_contains "signed image: names the authority" "$out" 'signed by "release" (sha256:'

# The payload cosign writes (no annotations) is made here, its size and
# SHA-256 checked against the layer's, instead of fetched; a payload with
# annotations is fetched. Each is allowed.
sig_layer() { # IMAGE: the digest of the first layer of its .sig manifest
	"${TGI[@]}" get-manifest "$R/acme/$1:sha256-${2#sha256:}.sig" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])'
}
blob_gets() { grep -c "\"GET /v2/acme/$1/blobs/$2 " "$TT_REGISTRY_LOG" || true; }
layer_api=$(sig_layer api "$d_api")
tt_eq "canonical payload: not fetched" 0 "$(blob_gets api "$layer_api")"
d_ann=$("${TGI[@]}" push "$R/acme/annotated:v1" --content annotated | tail -1)
"${TGI[@]}" sign "$R/acme/annotated:v1" --key "$TT_TMP/release.pem" \
	--optional creator=ci >/dev/null
verify out rc "$R/acme/annotated:v1"
tt_eq "payload with annotations: allowed" 0 "$rc"
tt_eq "payload with annotations: fetched once" 1 \
	"$(blob_gets annotated "$(sig_layer annotated "$d_ann")")"

# Unsigned: blocked, exit 3, says there is no signature.
verify out rc "$R/acme/unsigned:v1"
tt_eq "unsigned image: exit 3" 3 "$rc"
tt_contains "unsigned image: no signature" "$out" \
	"$R/acme/unsigned@$d_un: signature: no signatures found (no tag sha256-${d_un#sha256:}.sig"

# Signed by a key the policy does not know.
verify out rc "$R/acme/wrongkey:v1"
tt_eq "unknown key: exit 3" 3 "$rc"
tt_contains "unknown key: summary" "$out" \
	"$R/acme/wrongkey@$d_wk: signature: 0 of 1 signatures verify with key \"release\"; re-sign or add the signer to the policy"
tt_contains "unknown key: per-signature reason" "$out" \
	"signature 1: does not verify (key \"release\""

# One valid signature among invalid ones is enough (as cosign).
"${TGI[@]}" sign "$R/acme/wrongkey:v1" --key "$TT_TMP/release.pem" >/dev/null
verify out rc "$R/acme/wrongkey:v1"
tt_eq "one valid among invalid: exit 0" 0 "$rc"
verify out rc --output json "$R/acme/wrongkey:v1"
seen=$(python3 -c 'import json,sys; c=[c for c in json.load(sys.stdin)["verdicts"][0]["checks"] if c["name"]=="signature"][0]; print(c["result"], c["evidence"]["seen"], c["evidence"]["valid"])' <<<"$out")
tt_eq "one valid among invalid: seen 2, valid 1" "pass 2 1" "$seen"

# Tampered payload: the signature stays, the payload blob changes.
sigtag="sha256-${d_t#sha256:}.sig"
"${TGI[@]}" get-manifest "$R/acme/tampered:$sigtag" >"$TT_TMP/sig.json"
python3 - "$TT_TMP/sig.json" "$TT_TMP" "$R" <<'PY'
import json, sys, hashlib, subprocess
path, tmp, reg = sys.argv[1:4]
m = json.load(open(path))
tgi = ["python3", __import__("os").environ["TG_SOURCE_DIR"] + "/tests/tools/tg-image"]
layer = m["layers"][0]
payload = json.dumps({"critical": {"identity": {"docker-reference": "%s/acme/tampered" % reg},
                      "image": {"docker-manifest-digest": "sha256:" + "0" * 64},
                      "type": "cosign container image signature"}, "optional": {"x": 1}},
                     separators=(",", ":")).encode()
open(tmp + "/payload", "wb").write(payload)
d = subprocess.run(tgi + ["put-blob", "%s/acme/tampered" % reg, tmp + "/payload"],
                   capture_output=True, text=True, check=True).stdout.strip()
layer["digest"] = d
layer["size"] = len(payload)
open(tmp + "/sig2.json", "w").write(json.dumps(m))
PY
"${TGI[@]}" put-manifest "$R/acme/tampered:$sigtag" "$TT_TMP/sig2.json" >/dev/null
verify out rc "$R/acme/tampered:v1"
tt_eq "tampered payload: exit 3" 3 "$rc"
tt_contains "tampered payload: does not verify" "$out" \
	"$R/acme/tampered@$d_t: signature: signature 1: does not verify"

# A valid signature whose payload names another digest.
verify out rc "$R/acme/other:v1"
tt_eq "payload for another digest: exit 3" 3 "$rc"
tt_contains "payload for another digest: reason" "$out" \
	"$R/acme/other@$d_o: signature: signature 1: payload is for $d_api, not this image"

# Moved tag: v1 signed, then v1 pushed again with other content.
verify out rc "$R/acme/moved:v1"
tt_eq "moved tag: before the move, allowed" 0 "$rc"
d_m2=$("${TGI[@]}" push "$R/acme/moved:v1" --content second)
verify out rc "$R/acme/moved:v1"
tt_eq "moved tag: after the move, blocked" 3 "$rc"
tt_contains "moved tag: verdict names the new digest" "$out" \
	"$R/acme/moved:v1: blocked $d_m2"
# ... and copying the old signature to the new digest does not help.
"${TGI[@]}" get-manifest "$R/acme/moved:sha256-${d_m1#sha256:}.sig" >"$TT_TMP/old.json"
"${TGI[@]}" put-manifest "$R/acme/moved:sha256-${d_m2#sha256:}.sig" "$TT_TMP/old.json" >/dev/null
verify out rc "$R/acme/moved:v1"
tt_eq "moved tag with copied signature: blocked" 3 "$rc"
tt_contains "moved tag with copied signature: reason" "$out" \
	"payload is for $d_m1, not this image (a signature of another image, or the tag moved after signing)"
# The old digest, pinned, is still allowed.
verify out rc "$R/acme/moved@$d_m1"
tt_eq "moved tag: the signed digest pinned is allowed" 0 "$rc"

# Index image: signed at the index digest; platforms reported.
verify out rc "$R/acme/multi:v1"
tt_eq "unsigned index: blocked" 3 "$rc"
"${TGI[@]}" sign "$R/acme/multi@$child" --key "$TT_TMP/release.pem" >/dev/null
verify out rc "$R/acme/multi:v1"
tt_eq "index with only a child signed: blocked" 3 "$rc"
"${TGI[@]}" sign "$R/acme/multi:v1" --key "$TT_TMP/release.pem" >/dev/null
verify out rc --output json "$R/acme/multi:v1"
tt_eq "signed index: allowed" 0 "$rc"
plat=$(python3 -c 'import json,sys; v=json.load(sys.stdin)["verdicts"][0]; print(v["digest"], v["verdict"], " ".join(p["platform"] for p in v["platforms"]))' <<<"$out")
tt_eq "signed index: digest and platforms" "$d_idx allowed linux/amd64 linux/arm64" "$plat"

# Threshold 2 of (release P-256, ci P-384 with SHA-384).
verify out rc "$R/acme/both:v1"
tt_eq "threshold 2, one authority: blocked" 3 "$rc"
tt_contains "threshold 2, one authority: reason" "$out" \
	'signed by 1 of the 2 authorities required (authorities "release", "ci")'
"${TGI[@]}" sign "$R/acme/both:v1" --key "$TT_TMP/ci.pem" >/dev/null
verify out rc "$R/acme/both:v1"
tt_eq "threshold 2, both authorities: allowed" 0 "$rc"
tt_contains "threshold 2: names both signers" "$out" 'signed by "ci" (sha256:'

# A registry outside registries.allowed is blocked without being asked.
verify out rc "otherregistry.example:5000/acme/api:v1"
tt_eq "registry not allowed: exit 3" 3 "$rc"
tt_contains "registry not allowed: reason" "$out" \
	"registry: registry not allowed: otherregistry.example:5000/acme/api is not under registries.allowed"
sleep 0.2
before=$(wc -l <"$TT_REGISTRY_LOG")
verify out rc "$R/evil/api:v1"
tt_eq "repository outside the allowed prefix: exit 3" 3 "$rc"
sleep 0.2
if tail -n +"$((before + 1))" "$TT_REGISTRY_LOG" | grep -q '/v2/evil/'; then
	tt_fail "repository outside the allowed prefix: the registry was asked"
else
	tt_pass "repository outside the allowed prefix: no request made"
fi
# A missing image is blocked with the registry's answer.
verify out rc "$R/acme/nothere:v1"
tt_eq "missing image: exit 3" 3 "$rc"
tt_contains "missing image: reason" "$out" "registry: cannot resolve $R/acme/nothere:v1"

# Several images at once: one verdict each, exit 3 when any is blocked;
# the same image twice is verified once.
verify out rc --output json "$R/acme/api:v1" "$R/acme/unsigned:v1" "$R/acme/api:v1" "$R/acme/api@$d_api"
tt_eq "batch: exit 3" 3 "$rc"
got=$(python3 -c 'import json,sys; print(" ".join(v["verdict"] for v in json.load(sys.stdin)["verdicts"]))' <<<"$out")
tt_eq "batch: verdicts in order" "allowed blocked allowed allowed" "$got"

# Usage and own errors.
tt_run out rc "$TG_BIN" verify "$R/acme/api:v1"
tt_eq "no --policy: usage (2)" 2 "$rc"
tt_contains "no --policy: message" "$out" "--policy is required"
tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/nope.yaml" "$R/acme/api:v1"
tt_eq "missing policy file: exit 1" 1 "$rc"
tt_contains "missing policy file: names it" "$out" "nope.yaml"
sed 's/release.pub}/missing.pub}/' "$TT_TMP/policy.yaml" >"$TT_TMP/badkey.yaml"
tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/badkey.yaml" --insecure-registry "$R" "$R/acme/api:v1"
tt_eq "unreadable key: exit 1" 1 "$rc"
tt_contains "unreadable key: names it" "$out" "missing.pub"

tt_done
