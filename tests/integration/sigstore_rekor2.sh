#!/usr/bin/env bash
# Rekor v2 bundles (tests/data/bundles/rekor2, made by
# tests/tools/make-rekor2-bundles.py) through `tollgate sigstore
# verify-bundle` with their trusted root: a DSSE attestation and cosign v3
# signatures logged as dsse 0.0.2 entries in logs whose checkpoints are
# signed by Ed25519, P-256, P-384 and RSA keys verify (the keyless one with
# the artifact as a path and as sha256:<hex>) and print their RFC 3161 time;
# every tampered variant is rejected for its reason.
. "$TG_SOURCE_DIR/tests/lib/common.sh"

D=$TG_SOURCE_DIR/tests/data/bundles/rekor2
ID='https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0'
ISSUER=https://token.actions.githubusercontent.com
IMAGE=$(cat "$D/image-digest")
ART_DIGEST="sha256:$(sha256sum "$D/artifact.txt" | cut -d' ' -f1)"

# start KEY NAME ART: verify in the background, output and exit code into
# $TT_TMP/KEY.{out,rc}; keyless bundles are for the artifact, the others
# for the image, with keys/release.pub.
start() {
	local key=$1 f=$D/$2 art=$3 args
	args=(--bundle "$f" --trusted-root "$D/trusted_root.json")
	if grep -q '"certificate"' "$f"; then
		args+=(--certificate-identity "$ID" --certificate-oidc-issuer "$ISSUER" "$art")
	else
		args+=(--key "$D/keys/release.pub" "$IMAGE")
	fi
	(
		set +e
		"$TG_BIN" sigstore verify-bundle "${args[@]}" >"$TT_TMP/$key.out" 2>&1
		echo $? >"$TT_TMP/$key.rc"
	) &
	while [ "$(jobs -rp | wc -l)" -ge 8 ]; do
		wait -n || true
	done
}

declare -A REASON=(
	[payload-hash-mismatch]="log entry's payload hash does not match"
	[entry-signature-mismatch]="log entry's signature does not match"
	[entry-other-certificate]="log entry's certificate is not the bundle's"
	[entry-other-key]="log entry's public key is not the given key"
	[entry-two-signatures]="does not hold exactly the envelope's one signature"
	[entry-sha384-payload-hash]='payload hash algorithm "SHA2_384" is not SHA2_256'
	[statement-tampered]='DSSE envelope signature: signature does not verify'
	[no-timestamp]='no verified signing time: a Rekor v2 log entry carries none'
	[key-no-timestamp]='no verified signing time: a Rekor v2 log entry carries none'
	[timestamp-other-signature]='does not verify over this signature'
	[checkpoint-corrupt-log-signature]='signature of log2026-ed.tollgate.test does not verify'
	[checkpoint-wrong-name]='none of its 1 signatures is by log'
	[checkpoint-p256-wrong-name]='none of its 1 signatures is by log'
	[checkpoint-ed25519-spki-key-id]='none of its 1 signatures is by log'
	[checkpoint-p256-ed25519-key-id]='none of its 1 signatures is by log'
	[checkpoint-only-witness]='none of its 1 signatures is by log'
)

for f in "$D"/good/*.json "$D"/bad/*.json; do
	base=$(basename "$(dirname "$f")")-$(basename "$f" .json)
	start "$base.path" "${f#"$D"/}" "$D/artifact.txt"
	# The artifact as a digest too, for good bundles made for it.
	case $base in good-*)
		grep -q '"certificate"' "$f" && start "$base.digest" "${f#"$D"/}" "$ART_DIGEST" ;;
	esac
done
wait

for f in "$D"/good/*.json; do
	base=good-$(basename "$f" .json)
	for mode in path digest; do
		[ -f "$TT_TMP/$base.$mode.rc" ] || continue
		out=$(cat "$TT_TMP/$base.$mode.out")
		tt_eq "$base ($mode): verified" 0 "$(cat "$TT_TMP/$base.$mode.rc")"
		tt_contains "$base ($mode): names the signer" "$out" "signer: "
		tt_contains "$base ($mode): time from the timestamp" "$out" "timestamp: 20"
	done
done
n=0
for f in "$D"/bad/*.json; do
	name=$(basename "$f" .json)
	n=$((n + 1))
	for mode in path digest; do
		[ -f "$TT_TMP/bad-$name.$mode.rc" ] || continue
		out=$(cat "$TT_TMP/bad-$name.$mode.out")
		tt_eq "bad/$name ($mode): rejected" 3 "$(cat "$TT_TMP/bad-$name.$mode.rc")"
		if [ -z "${REASON[$name]:-}" ]; then
			tt_fail "bad/$name: no expected reason in this test"
		else
			tt_contains "bad/$name ($mode): says why" "$out" "${REASON[$name]}"
		fi
	done
done
tt_eq "every tampered bundle ran" "${#REASON[@]}" "$n"

# The good bundles under the public-good root: their logs are unknown.
tt_run out rc "$TG_BIN" sigstore verify-bundle --bundle "$D/good/cosign-sign-p256.json" \
	--key "$D/keys/release.pub" "$IMAGE"
tt_eq "unknown log: rejected" 3 "$rc"
tt_contains "unknown log: says why" "$out" "from a transparency log that is not in the trust root"
tt_done
