#!/usr/bin/env bash
# Every case of the Sigstore conformance suite (shared/fixtures/
# sigstore-conformance/bundle-verify) through `tollgate sigstore
# verify-bundle`, with the artifact given as a path and as sha256:<hex>:
# cases named *_fail must be rejected for the reason their README gives
# (checked by a fragment of the message), every other case must verify and
# name its signer. Then the sigstore-go bundles of shared/fixtures.
. "$TG_SOURCE_DIR/tests/lib/common.sh"

SUITE=$TG_FIXTURES/sigstore-conformance/bundle-verify
GO=$TG_FIXTURES/sigstore-go
DEFAULT_ID='https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main'
DEFAULT_ISSUER='https://token.actions.githubusercontent.com'

# Why each failing case must be rejected: a fragment of tollgate's message.
declare -A REASON=(
	[bundle-empty-certificate-chain_fail]='x509CertificateChain has no certificate'
	[bundle-from-wrong-instance_fail]='transparency log that is not in the trust root'
	[bundle-invalid-base64-signature_fail]='"signature" is not valid base64'
	[bundle-malformed-json_fail]='malformed JSON'
	[bundle-negative-log-index_fail]='"logIndex" is "-1"'
	[bundle-unknown-version_fail]='unsupported bundle media type'
	[bundle-with-root-cert_fail]='root certificate that is not in the trust root'
	[checkpoint-bad-keyhint_fail]='none of its 1 signatures is by log'
	[checkpoint-wrong-roothash_fail]='with another root than the inclusion proof'
	[dsse-invalid-sig_fail]='DSSE envelope signature: signature does not verify'
	[dsse-mismatch-envelope_fail]="log entry's payload hash does not match"
	[dsse-mismatch-sig_fail]="log entry's signature does not match"
	[inclusion-proof-corrupted-hash_fail]='inclusion proof: computed root hash does not match'
	[incorrect-public-key_fail]="log entry's certificate is not the bundle's"
	[integrated-time-in-future_fail]="outside the signing certificate's validity"
	[intoto-expired-certificate_fail]="outside the signing certificate's validity"
	[intoto-log-entry-mismatch_fail]="log entry's signature does not match"
	[intoto-missing-inclusion-proof_fail]='no inclusion proof; a v0.2 bundle must carry one'
	[intoto-set-outside-signing-cert-validity_fail]="outside the signing certificate's validity"
	[intoto-tsa-timestamp-outside-cert-validity_fail]="outside the signing certificate's validity"
	[invalid-checkpoint-signature_fail]='the signature of rekor.sigstore.dev does not verify with the key of log'
	[invalid-ct-key_fail]='SCTs of the signing certificate verifies with a trusted CT log'
	[invalid-inclusion-proof_fail]='inclusion proof: computed root hash does not match'
	[managed-key-no-key_fail]='signed with a public key, but no key was given'
	[managed-key-wrong-key_fail]='key.pub: not a PEM public key'
	[message-digest-mismatch_fail]="messageDigest does not match the artifact's digest"
	[rekor2-checkpoint-missing-log-signature_fail]='checkpoint: no signature'
	[rekor2-checkpoint-missing-origin_fail]='checkpoint: needs an origin, a tree size and a root hash'
	[rekor2-checkpoint-missing-root-hash_fail]='checkpoint: needs an origin, a tree size and a root hash'
	[rekor2-checkpoint-missing-size_fail]='checkpoint: needs an origin, a tree size and a root hash'
	[rekor2-checkpoint-no-matching-signature_fail]='none of its 1 signatures is by log'
	[rekor2-dsse-invalid-sig_fail]='DSSE envelope signature: signature does not verify'
	[rekor2-dsse-mismatch-envelope_fail]="log entry's envelope digest does not match"
	[rekor2-dsse-mismatch-sig_fail]="log entry's signature does not match"
	[rekor2-no-inclusion-proof_fail]='no inclusion proof; a v0.3 bundle must carry one'
	[rekor2-no-timestamp_fail]='no verified signing time'
	[rekor2-timestamp-outside-trust-root-tsa-validity_fail]='no trusted timestamp authority was valid at that time'
	[rekor2-timestamp-outside-tsa-cert-validity_fail]='does not verify over this signature with a trusted timestamp authority: certificate verify error'
	[rekor2-timestamp-payload-mismatch_fail]='message imprint mismatch'
	[rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail]='does not verify over this signature with a trusted timestamp authority: certificate verify error'
	[rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail]='signer certificate not found'
	[rekor2-timestamp-with-incorrect-time_fail]="outside the signing certificate's validity"
	[set-invalid-signature_fail]='signed entry timestamp of log index 27246492 does not verify'
	[signature-mismatch_fail]='message signature: signature does not verify'
	[trust-root-tlog-missing-validity-start_fail]='validFor has no start'
	[wrong-hashedrekord-artifact_fail]="log entry's hash does not match the artifact"
	[wrong-hashedrekord-cert-and-sig_fail]="log entry's signature does not match"
	[wrong-hashedrekord-entry_fail]="log entry's hash does not match the artifact"
	[wrong-material_fail]="messageDigest does not match the artifact's digest"
)

# start_case DIR MODE (path|digest): run one verification in the
# background, its output and exit code into $TT_TMP/<case>.<mode>.{out,rc}.
start_case() {
	local dir=$1 mode=$2 name art id issuer args
	name=$(basename "$dir")
	art=$SUITE/a.txt
	[ -f "$dir/artifact" ] && art=$dir/artifact
	if [ "$mode" = digest ]; then
		art="sha256:$(sha256sum "$art" | cut -d' ' -f1)"
	fi
	args=(--bundle "$dir/bundle.sigstore.json")
	[ -f "$dir/trusted_root.json" ] && args+=(--trusted-root "$dir/trusted_root.json")
	if [ -f "$dir/key.pub" ]; then
		args+=(--key "$dir/key.pub")
	else
		id=$DEFAULT_ID
		issuer=$DEFAULT_ISSUER
		[ -f "$dir/identity" ] && id=$(cat "$dir/identity")
		[ -f "$dir/issuer" ] && issuer=$(cat "$dir/issuer")
		args+=(--certificate-identity "$id" --certificate-oidc-issuer "$issuer")
	fi
	(
		set +e
		"$TG_BIN" sigstore verify-bundle "${args[@]}" "$art" \
			>"$TT_TMP/$name.$mode.out" 2>&1
		echo $? >"$TT_TMP/$name.$mode.rc"
	) &
}

# check_case NAME MODE: the verdict and, for *_fail, the reason.
check_case() {
	local name=$1 mode=$2 out rc
	out=$(cat "$TT_TMP/$name.$mode.out")
	rc=$(cat "$TT_TMP/$name.$mode.rc")
	if [[ $name == *_fail ]]; then
		if [ "$rc" = 0 ]; then
			tt_fail "$name ($mode): verified, must be rejected"
		elif [ -z "${REASON[$name]:-}" ]; then
			tt_fail "$name ($mode): no expected reason in this test"
		else
			tt_contains "$name ($mode): rejected (exit $rc)" "$out" "${REASON[$name]}"
		fi
	else
		tt_eq "$name ($mode): verified" 0 "$rc"
		tt_contains "$name ($mode): names the signer" "$out" "signer: "
	fi
}

# The cases are independent, short and mostly waiting on the loader: run
# eight at a time.
names=()
for dir in "$SUITE"/*/; do
	[ -f "$dir/bundle.sigstore.json" ] || continue
	names+=("$(basename "$dir")")
	start_case "${dir%/}" path
	start_case "${dir%/}" digest
	while [ "$(jobs -rp | wc -l)" -ge 8 ]; do
		wait -n || true
	done
done
wait
n=0
for name in "${names[@]}"; do
	n=$((n + 1))
	check_case "$name" path
	check_case "$name" digest
done
tt_eq "every conformance case ran" 70 "$n"

# Evidence: identity, issuer, log index, integrated time, in JSON too.
tt_run out rc "$TG_BIN" sigstore verify-bundle --output json \
	--bundle "$SUITE/happy-path-v0.3/bundle.sigstore.json" \
	--certificate-identity "$DEFAULT_ID" --certificate-oidc-issuer "$DEFAULT_ISSUER" "$SUITE/a.txt"
tt_eq "json evidence: exit" 0 "$rc"
tt_contains "json evidence: signer" "$out" "\"signer\":\"$DEFAULT_ID\""
tt_contains "json evidence: issuer" "$out" "\"issuer\":\"$DEFAULT_ISSUER\""
tt_contains "json evidence: log index" "$out" '"logIndex":79571823'
tt_contains "json evidence: integrated time" "$out" '"integratedTime":"2024-03-19T17:26:26Z"'

# Identity policy: the right bundle with the wrong identity is rejected.
tt_run out rc "$TG_BIN" sigstore verify-bundle \
	--bundle "$SUITE/happy-path-v0.3/bundle.sigstore.json" \
	--certificate-identity https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main \
	--certificate-oidc-issuer "$DEFAULT_ISSUER" "$SUITE/a.txt"
tt_eq "wrong identity: rejected" 3 "$rc"
tt_contains "wrong identity: says why" "$out" 'certificate identity "https://github.com/sigstore-conformance'
tt_run out rc "$TG_BIN" sigstore verify-bundle \
	--bundle "$SUITE/happy-path-v0.3/bundle.sigstore.json" \
	--certificate-identity-regexp '^https://github\.com/sigstore-conformance/' \
	--certificate-oidc-issuer https://accounts.google.com "$SUITE/a.txt"
tt_eq "wrong issuer: rejected" 3 "$rc"
tt_contains "wrong issuer: says why" "$out" 'OIDC issuer "https://token.actions.githubusercontent.com" is not "https://accounts.google.com"'
tt_run out rc "$TG_BIN" sigstore verify-bundle \
	--bundle "$SUITE/happy-path-v0.3/bundle.sigstore.json" \
	--certificate-identity-regexp '^https://github\.com/sigstore-conformance/' \
	--certificate-oidc-issuer "$DEFAULT_ISSUER" "$SUITE/a.txt"
tt_eq "identity regexp: verified" 0 "$rc"

# sigstore-go bundles (shared/fixtures/README.md).
SJS=https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main
SUBJ=sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751
tt_run out rc "$TG_BIN" sigstore verify-bundle --bundle "$GO/examples/bundle-provenance.json" \
	--certificate-identity "$SJS" --certificate-oidc-issuer "$DEFAULT_ISSUER" "$SUBJ"
tt_eq "sigstore-go bundle-provenance: verified" 0 "$rc"
tt_contains "sigstore-go bundle-provenance: log index" "$out" "rekor log index: 18300934"
tt_run out rc "$TG_BIN" sigstore verify-bundle --bundle "$GO/examples/bundle-publish.json" \
	--key "$GO/examples/publish_key.pub" "$SUBJ"
tt_eq "sigstore-go bundle-publish: verified" 0 "$rc"
tt_run out rc "$TG_BIN" sigstore verify-bundle --bundle "$GO/examples/bundle-publish.json" \
	--key "$SUITE/managed-key-happy-path/key.pub" "$SUBJ"
tt_eq "sigstore-go bundle-publish, other key: rejected" 3 "$rc"
tt_run out rc "$TG_BIN" sigstore verify-bundle \
	--bundle "$GO/pkg/testing/data/bundles/dsse-2sigs.sigstore.json" \
	--certificate-identity brian@dehamer.com --certificate-oidc-issuer https://github.com/login/oauth \
	sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f
tt_eq "sigstore-go dsse-2sigs: rejected" 3 "$rc"
tt_contains "sigstore-go dsse-2sigs: says why" "$out" "exactly one signature, not 2"
tt_run out rc "$TG_BIN" sigstore verify-bundle \
	--bundle "$GO/pkg/testing/data/bundles/dsse.sigstore.json" \
	--certificate-identity brian@dehamer.com --certificate-oidc-issuer https://github.com/login/oauth \
	sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f
tt_eq "sigstore-go dsse: verified" 0 "$rc"
tt_run out rc "$TG_BIN" sigstore verify-bundle \
	--bundle "$GO/pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json" \
	--certificate-identity "$SJS" --certificate-oidc-issuer "$DEFAULT_ISSUER" \
	sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c
tt_eq "sigstore-go sigstore.js provenance: verified" 0 "$rc"
tt_run out rc "$TG_BIN" sigstore verify-bundle \
	--bundle "$GO/pkg/testing/data/bundles/othername.sigstore.json" \
	--trusted-root "$GO/pkg/testing/data/trusted-roots/scaffolding.json" \
	--certificate-identity 'foo!oidc.local' --certificate-oidc-issuer http://oidc.local:8080 \
	sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b
tt_eq "sigstore-go othername SAN: verified" 0 "$rc"
tt_contains "sigstore-go othername SAN: signer" "$out" "signer: foo!oidc.local"

# Usage and input errors.
tt_run out rc "$TG_BIN" sigstore verify-bundle --bundle "$SUITE/happy-path-v0.3/bundle.sigstore.json" "$SUITE/a.txt"
tt_eq "no identity nor key: usage error" 2 "$rc"
tt_run out rc "$TG_BIN" sigstore verify-bundle --bundle "$TT_TMP/missing.json" --key "$SUITE/managed-key-happy-path/key.pub" "$SUITE/a.txt"
tt_eq "missing bundle file: I/O error" 1 "$rc"
tt_contains "missing bundle file: names it" "$out" "missing.json"
tt_done
