#!/usr/bin/env bash
# The key-based rows of the containers/image verdict table
# (../shared/fixtures/README.md), signatures made by real cosign, put
# unchanged into Debian's docker-registry and verified with tollgate verify
# under signedIdentity any, repository and exact.
#
# Each fixture goes under its own namespace of the local registry
# ($R/<ns>/<repository as signed, minus its registry>), and each rule maps
# its namespace back to the signed registry with remapIdentity (the mirror
# case), so the signed docker-reference can match.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

TGB=("python3" "$TG_SOURCE_DIR/tests/tools/tg-image-batch")
FX=$TG_FIXTURES/containers-image
SIGNED=192.168.64.2:5000
tt_start_registry
R=$REGISTRY

# unknown-cosign-key.signature is a loose signature: give it the valid
# fixture's manifest.
mkdir -p "$TT_TMP/unknown"
cp "$FX/dir-img-cosign-valid/manifest.json" "$TT_TMP/unknown/"
cp "$FX/unknown-cosign-key.signature" "$TT_TMP/unknown/signature-1"
while read -r dir repo tag; do
	echo "seed-fixture $dir $R/$repo --storage $TT_REGISTRY_DATA --tag $tag"
done >"$TT_TMP/seed.txt" <<EOF
$FX/dir-img-cosign-valid valid/cosign-signed-single-sample latest
$FX/dir-img-cosign-valid valid/testing/manifest notlatest
$FX/dir-img-cosign-valid-2 valid2/cosign-signed-single-sample latest
$FX/dir-img-cosign-valid-2 valid2/this/does-not match
$FX/dir-img-cosign-mixed mixed/cosign-signed-single-sample latest
$FX/dir-img-cosign-valid-with-tag withtag/skopeo-signed tag
$FX/dir-img-cosign-valid-with-tag withtag/skopeo-signed othertag
$FX/dir-img-cosign-other-attachment other/cosign-signed-single-sample latest
$FX/dir-img-cosign-modified-manifest modified/cosign-signed-single-sample latest
$FX/dir-img-cosign-manifest-digest-error digesterr/cosign-signed-single-sample latest
$FX/dir-img-cosign-no-manifest nomanifest/cosign-signed-single-sample latest
$FX/dir-img-cosign-key-rekor-valid keyrekor/cosign-signed/key-1 latest
$TT_TMP/unknown unknown/cosign-signed-single-sample latest
EOF
"${TGB[@]}" <"$TT_TMP/seed.txt" >/dev/null

policy() { # MODE
	local ns key
	printf 'apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n'
	printf 'registries:\n  allowed: ["%s/"]\nrules:\n' "$R"
	for ns in valid valid2 mixed withtag other modified digesterr nomanifest \
		keyrekor unknown; do
		key=$FX/cosign.pub
		[ "$ns" = keyrekor ] && key=$FX/cosign2.pub
		cat <<-EOF
		  - name: $ns
		    images: ["$R/$ns/**"]
		    signatures:
		      signedIdentity: $1
		      remapIdentity: {prefix: "$R/$ns/", signedPrefix: "$SIGNED/"}
		      authorities:
		        - {name: containers-image, key: "$key"}
		EOF
	done
}

# reference (under $R/) and the expected verdict under any, repository, exact
rows=(
	"valid/cosign-signed-single-sample:latest allowed allowed blocked"
	"valid/testing/manifest:notlatest allowed blocked blocked"
	"valid2/cosign-signed-single-sample:latest allowed allowed blocked"
	"valid2/this/does-not:match allowed blocked blocked"
	"mixed/cosign-signed-single-sample:latest allowed allowed blocked"
	"withtag/skopeo-signed:tag allowed allowed allowed"
	"withtag/skopeo-signed:othertag allowed allowed blocked"
	"other/cosign-signed-single-sample:latest blocked blocked blocked"
	"modified/cosign-signed-single-sample:latest blocked blocked blocked"
	"digesterr/cosign-signed-single-sample:latest blocked blocked blocked"
	"nomanifest/cosign-signed-single-sample:latest blocked blocked blocked"
	"keyrekor/cosign-signed/key-1:latest allowed allowed blocked"
	"unknown/cosign-signed-single-sample:latest blocked blocked blocked"
)
refs=()
for row in "${rows[@]}"; do
	read -r ref _ <<<"$row"
	refs+=("$R/$ref")
done

col=1
for mode in any repository exact; do
	col=$((col + 1))
	policy "$mode" >"$TT_TMP/policy-$mode.yaml"
	tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/policy-$mode.yaml" \
		--insecure-registry "$R" --output json "${refs[@]}"
	tt_eq "$mode: exit 3 (some rows are rejections)" 3 "$rc"
	printf '%s' "$out" >"$TT_TMP/out-$mode.json"
	# One verdict per line, in the order of the references.
	mapfile -t got < <(python3 -c 'import json,sys
for v in json.load(open(sys.argv[1]))["verdicts"]: print(v["verdict"])' \
		"$TT_TMP/out-$mode.json")
	i=0
	for row in "${rows[@]}"; do
		read -r -a f <<<"$row"
		tt_eq "$mode: ${f[0]}" "${f[$((col - 1))]}" "${got[$i]:-missing}"
		i=$((i + 1))
	done
done

# The reasons users read, for the rejections.
reasons() { # MODE INDEX -> every reason of every check, one per line
	python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))["verdicts"][int(sys.argv[2])]
for c in v["checks"]:
    for r in c["reasons"]: print(c["name"] + ": " + r)' "$TT_TMP/out-$1.json" "$2"
}
tt_contains "repository: identity reason" "$(reasons repository 1)" \
	"signature: signature 1: signed for \"$SIGNED/cosign-signed-single-sample\", not \"$SIGNED/testing/manifest:notlatest\" (signedIdentity repository)"
tt_contains "exact: other tag reason" "$(reasons exact 6)" \
	"signed for \"$SIGNED/skopeo-signed:tag\", not \"$SIGNED/skopeo-signed:othertag\" (signedIdentity exact)"
tt_contains "other attachment: not a signature" "$(reasons any 7)" \
	'layer media type "text/plain" is not application/vnd.dev.cosign.simplesigning.v1+json'
tt_contains "modified manifest: digest mismatch" "$(reasons any 8)" \
	"payload is for sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00, not this image"
tt_contains "manifest digest error: cannot resolve" "$(reasons any 9)" \
	"registry: cannot resolve $R/digesterr/cosign-signed-single-sample:latest"
tt_contains "no manifest: cannot resolve" "$(reasons any 10)" \
	"registry: cannot resolve $R/nomanifest/cosign-signed-single-sample:latest"
tt_contains "unknown key: does not verify" "$(reasons any 12)" \
	'0 of 1 signatures verify with key "containers-image"'
mixed=$(python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))["verdicts"][4]
c=[c for c in v["checks"] if c["name"]=="signature"][0]
print(c["evidence"]["seen"], c["evidence"]["valid"], len(c["notes"]))' "$TT_TMP/out-repository.json")
tt_eq "mixed: 2 seen, 1 valid, the invalid one noted" "2 1 1" "$mixed"

tt_done
