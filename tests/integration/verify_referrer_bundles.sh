#!/usr/bin/env bash
# tollgate verify with cosign v3 signatures and attestations: Sigstore
# bundles stored as OCI 1.1 referrers of the image, found through the
# referrers fallback tag (Debian's docker-registry 2.8 has no referrers
# API). The bundles were made once with sigstore-js (tests/tools/
# make-referrer-bundles.js) for the committed image of tests/data/bundles;
# the same image is pushed to one repository per case.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

DATA=$TG_SOURCE_DIR/tests/data/bundles
TGB=("python3" "$TG_SOURCE_DIR/tests/tools/tg-image-batch")
tt_start_registry
R=$REGISTRY
SIGN=https://sigstore.dev/cosign/sign/v1
SPDX=https://spdx.dev/Document
VULN=https://cosign.sigstore.dev/attestation/vuln/v1
G=$DATA/good
B=$DATA/untrusted
openssl ecparam -name prime256v1 -genkey -noout -out "$TT_TMP/ci.pem" 2>/dev/null
openssl ec -in "$TT_TMP/ci.pem" -pubout -out "$TT_TMP/ci.pub" 2>/dev/null
cp "$DATA/keys/release.pub" "$DATA/keys/stranger.pub" "$TT_TMP/"
# The key id tollgate names a key by: sha256 of its DER SubjectPublicKeyInfo.
release_id=sha256:$(openssl pkey -pubin -in "$DATA/keys/release.pub" \
	-outform DER | sha256sum | cut -d' ' -f1)

repos=(none app sign message both other stranger tampered att atts-bad)
"${TGB[@]}" >"$TT_TMP/setup.out" <<EOF
$(for r in "${repos[@]}"; do echo "push-dir $DATA/image $R/bundles/$r:v1"; done)
push-referrer $R/bundles/app:v1 $G/sign.sigstore.json --predicate-type $SIGN
push-referrer $R/bundles/sign:v1 $G/sign.sigstore.json --predicate-type $SIGN
push-referrer $R/bundles/message:v1 $G/message.sigstore.json
push-referrer $R/bundles/both:v1 $G/sign.sigstore.json --predicate-type $SIGN
sign $R/bundles/both:v1 --key $TT_TMP/ci.pem
push-referrer $R/bundles/other:v1 $B/other-digest.sigstore.json --predicate-type $SIGN
push-referrer $R/bundles/stranger:v1 $B/stranger.sigstore.json --predicate-type $SIGN
push-referrer $R/bundles/tampered:v1 $B/tampered.sigstore.json --predicate-type $SIGN
push-referrer $R/bundles/att:v1 $G/sign.sigstore.json --predicate-type $SIGN
push-referrer $R/bundles/att:v1 $G/sbom.sigstore.json --predicate-type $SPDX
push-referrer $R/bundles/att:v1 $G/vuln.sigstore.json --predicate-type $VULN
push-referrer $R/bundles/atts-bad:v1 $G/sign.sigstore.json --predicate-type $SIGN
push-referrer $R/bundles/atts-bad:v1 $B/stranger.sigstore.json --predicate-type $SPDX
EOF
D=$(head -1 "$TT_TMP/setup.out")
tt_eq "the committed image has the digest the bundles name" \
	sha256:a8a89ddac563a6c7d1d02a9f0a0b4f9d6e0b7cc4ad881f3551ab633da2192a29 "$D"

policy() { # FILE AUTHORITIES [EXTRA-RULE-LINES]
	cat >"$1" <<-EOF
	apiVersion: tollgate.dev/v1alpha1
	kind: Policy
	registries:
	  allowed: [$R/]
	rules:
	  - name: bundles
	    images: ["$R/bundles/**"]
	    signatures:
	      authorities: $2
	${3:-}
	EOF
}
RELEASE='[{name: release, key: release.pub}]'
policy "$TT_TMP/release.yaml" "$RELEASE"
policy "$TT_TMP/p-stranger.yaml" '[{name: other-team, key: stranger.pub}]'
policy "$TT_TMP/p-rekor.yaml" '[{name: release, key: release.pub, rekor: {required: true}}]'
policy "$TT_TMP/p-two.yaml" '[{name: release, key: release.pub}, {name: ci, key: ci.pub}]
      threshold: 2'
policy "$TT_TMP/p-identity.yaml" "$RELEASE
      signedIdentity: repository
      remapIdentity: {prefix: $R/bundles/, signedPrefix: tollgate.test/bundles/}"
policy "$TT_TMP/p-att.yaml" "$RELEASE" "    attestations:
      sbom: {required: true, deniedLicenses: [GPL-3.0-only]}
      vulnerabilities: {required: true, maxSeverity: high}"
policy "$TT_TMP/p-att-strict.yaml" "$RELEASE" "    attestations:
      sbom: {required: true, deniedLicenses: [Apache-2.0]}
      vulnerabilities: {required: true, maxSeverity: medium}"

verify() { # OUT RC POLICY images...
	tt_run "$1" "$2" "$TG_BIN" verify --policy "$TT_TMP/$3.yaml" \
		--insecure-registry "$R" "${@:4}"
}
# JSON-FILE CHECK PYTHON-EXPRESSION-OVER-c: a value of one check.
check() {
	python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))["verdicts"][0]
c=[c for c in v["checks"] if c["name"]==sys.argv[2]][0]
print(eval(sys.argv[3]))' "$@"
}

# 1. Signed only by a referrer bundle (DSSE, cosign sign/v1): allowed, and
# the evidence names the key and the referrer.
verify out rc release --output json "$R/bundles/sign:v1"
tt_eq "referrer bundle only: allowed" 0 "$rc"
printf '%s' "$out" >"$TT_TMP/sign.json"
tt_eq "referrer bundle only: the evidence names the key" \
	"release $release_id" \
	"$(check "$TT_TMP/sign.json" signature 'c["evidence"]["authorities"][0]["name"]+" "+c["evidence"]["authorities"][0]["signer"]')"
tt_eq "referrer bundle only: the evidence names the referrer" \
	"release $release_id True" \
	"$(check "$TT_TMP/sign.json" signature '" ".join(str(x) for x in (c["evidence"]["bundles"][0]["authority"], c["evidence"]["bundles"][0]["signer"], c["evidence"]["bundles"][0]["referrer"].startswith("sha256:")))')"
tt_eq "referrer bundle only: no .sig tag is no reason" "[]" \
	"$(check "$TT_TMP/sign.json" signature 'c.get("notes", [])')"

# 2. A message-signature bundle over the image digest: allowed.
verify out rc release "$R/bundles/message:v1"
tt_eq "message-signature bundle: allowed" 0 "$rc"

# 3. Neither a .sig tag nor a bundle: blocked, both named.
verify out rc release "$R/bundles/none:v1"
tt_eq "no signature at all: blocked" 3 "$rc"
tt_contains "no signature at all: says where it looked" "$out" \
	"no signatures found (no tag sha256-${D#sha256:}.sig in $R/bundles/none, and no Sigstore bundle among its referrers)"

# 4. The right bundle, but the policy trusts another key.
verify out rc p-stranger "$R/bundles/sign:v1"
tt_eq "wrong key: blocked" 3 "$rc"
tt_contains "wrong key: the referrer and the key are named" "$out" \
	"referrer sha256:"
tt_contains "wrong key: says the signature does not verify" "$out" \
	"no authority of the rule verifies the bundle (authority \"other-team\": bundle: DSSE envelope signature: signature does not verify"

# 5. A bundle signed by another key than the policy's.
verify out rc release "$R/bundles/stranger:v1"
tt_eq "bundle by another key: blocked" 3 "$rc"
tt_contains "bundle by another key: reason" "$out" \
	"signature does not verify with ecdsa-p256 key"

# 6. A bundle for another digest, attached to this image.
verify out rc release "$R/bundles/other:v1"
tt_eq "bundle for another digest: blocked" 3 "$rc"
tt_contains "bundle for another digest: reason" "$out" \
	"the artifact's digest is not among the 1 subjects of the in-toto statement"

# 7. A bundle whose statement was changed after signing.
verify out rc release "$R/bundles/tampered:v1"
tt_eq "tampered bundle: blocked" 3 "$rc"
tt_contains "tampered bundle: reason" "$out" "DSSE envelope signature: signature does not verify"

# 8. A policy that requires Rekor: a bundle without log entries fails.
verify out rc p-rekor "$R/bundles/sign:v1"
tt_eq "rekor required, bundle without log entry: blocked" 3 "$rc"
tt_contains "rekor required: reason" "$out" \
	"0 transparency log entries verified; 1 required"

# 9. A .sig signature (ci key) and a referrer bundle (release key) count
# together towards a threshold of two authorities.
verify out rc p-two "$R/bundles/both:v1"
tt_eq ".sig and bundle together reach threshold 2: allowed" 0 "$rc"
verify out rc p-two "$R/bundles/sign:v1"
tt_eq "the bundle alone under threshold 2: blocked" 3 "$rc"
tt_contains "the bundle alone under threshold 2: reason" "$out" \
	"signed by 1 of the 2 authorities required"
verify out rc release "$R/bundles/both:v1"
tt_eq ".sig by an unknown key beside a good bundle: allowed" 0 "$rc"

# 10. signedIdentity repository: the statement's subject name
# (tollgate.test/bundles/app) must name the image after remapIdentity.
verify out rc p-identity "$R/bundles/app:v1"
tt_eq "identity: subject names the repository: allowed" 0 "$rc"
verify out rc p-identity "$R/bundles/sign:v1"
tt_eq "identity: subject names another repository: blocked" 3 "$rc"
tt_contains "identity: reason" "$out" \
	"signed for \"tollgate.test/bundles/app\", not \"tollgate.test/bundles/sign:v1\" (signedIdentity repository)"
verify out rc p-identity "$R/bundles/message:v1"
tt_eq "identity: a message signature names no image: blocked" 3 "$rc"

# 11. Attestations as referrer bundles: an SPDX SBOM and a Trivy scan.
verify out rc p-att --output json "$R/bundles/att:v1"
tt_eq "sbom and scan bundles satisfy the policy: allowed" 0 "$rc"
printf '%s' "$out" >"$TT_TMP/att.json"
tt_eq "sbom bundle: evidence" "pass release $SPDX $release_id True" \
	"$(check "$TT_TMP/att.json" sbom '" ".join((c["result"], c["evidence"]["attestation"]["authority"], c["evidence"]["attestation"]["predicateType"], c["evidence"]["attestation"]["signer"], str(c["evidence"]["attestation"].get("referrer"))))')"
tt_eq "scan bundle: passes" pass \
	"$(check "$TT_TMP/att.json" vulnerabilities 'c["result"]')"
verify out rc p-att-strict "$R/bundles/att:v1"
tt_eq "stricter policy: blocked" 3 "$rc"
tt_contains "stricter policy: the scan finding is named" "$out" "CVE-2023-0002"
tt_contains "stricter policy: the denied license is named" "$out" "Apache-2.0"
verify out rc p-att "$R/bundles/sign:v1"
tt_eq "no attestation bundles: blocked" 3 "$rc"
verify out rc p-att "$R/bundles/atts-bad:v1"
tt_eq "sbom bundle by another key: blocked" 3 "$rc"
tt_contains "sbom bundle by another key: reason" "$out" \
	"sbom: referrer sha256:"

# 12. At most 32 bundle referrers are looked at: 33 copies of the
# signature (distinct manifests by their creation time) still verify, and
# the one left over is noted.
for i in $(seq 10 42); do
	echo "push-referrer $R/bundles/many:v1 $G/sign.sigstore.json --predicate-type $SIGN --created 2026-01-01T00:00:${i}Z"
done | { echo "push-dir $DATA/image $R/bundles/many:v1"; cat; } |
	"${TGB[@]}" >/dev/null
verify out rc release --output json "$R/bundles/many:v1"
tt_eq "33 bundle referrers: allowed" 0 "$rc"
printf '%s' "$out" >"$TT_TMP/many.json"
tt_eq "33 bundle referrers: 32 looked at" "32 32" \
	"$(check "$TT_TMP/many.json" signature '"%d %d" % (c["evidence"]["seen"], c["evidence"]["valid"])')"
tt_contains "33 bundle referrers: the one beyond the limit is noted" \
	"$(check "$TT_TMP/many.json" signature 'c["notes"]')" \
	"1 Sigstore bundle referrers beyond the limit of 32 were not looked at"

# 13. The referrers are read only when they can change the verdict: a rule
# without attestations that the .sig signatures already satisfy costs no
# referrers request; when they do not, the bundles are read and count.
policy "$TT_TMP/p-ci.yaml" '[{name: ci, key: ci.pub}]'
referrer_requests() { # REPO: referrers API or fallback-tag requests so far
	grep -cE "\"(GET|HEAD) /v2/bundles/$1/(referrers/|manifests/sha256-[0-9a-f]{64} )" \
		"$TT_REGISTRY_LOG" || true
}
before=$(referrer_requests both)
verify out rc p-ci "$R/bundles/both:v1"
tt_eq ".sig satisfies the rule: allowed" 0 "$rc"
tt_eq ".sig satisfies the rule: no referrers request" "$before" \
	"$(referrer_requests both)"
verify out rc release "$R/bundles/both:v1"
tt_eq ".sig by another key, bundle by the rule's: allowed" 0 "$rc"
tt_eq ".sig by another key: the referrers were read" 1 \
	"$(($(referrer_requests both) - before > 0))"

tt_done
