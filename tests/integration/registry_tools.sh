#!/usr/bin/env bash
# The test tools other tests rely on make what cosign makes: tg-image sign
# and attest (checked with openssl, for P-256, P-384, RSA and Ed25519
# keys), appending signatures, and seed-fixture putting the containers/image
# fixtures into a registry with their digests and signatures intact (the
# real cosign signature verifies with the fixture's cosign.pub).
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

P=$TG_BUILD_DIR/tests/tools/tg-registry-probe
T=$TG_SOURCE_DIR/tests/tools/tg-image
tt_start_registry
I=(--insecure "$REGISTRY")
K=$TT_TMP/keys
mkdir -p "$K"
openssl ecparam -genkey -name prime256v1 -noout -out "$K/p256.pem"
openssl ecparam -genkey -name secp384r1 -noout -out "$K/p384.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/rsa.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$K/ed.pem"
for k in p256 p384 rsa ed; do
	openssl pkey -in "$K/$k.pem" -pubout -out "$K/$k.pub"
done

blob() { curl -sf "http://$REGISTRY/v2/$1/blobs/$2"; }

# verify KEYNAME HASH DATAFILE SIGFILE
verify() {
	if [ "$2" = ed25519 ]; then
		openssl pkeyutl -verify -pubin -inkey "$K/$1.pub" -rawin \
			-in "$3" -sigfile "$4" >/dev/null 2>&1
	else
		openssl dgst "-$2" -verify "$K/$1.pub" -signature "$4" "$3" >/dev/null 2>&1
	fi
}

D=$($T push "$REGISTRY/app:v1")
n=0
for spec in p256:sha256 p384:sha384 rsa:sha256 ed:ed25519; do
	key=${spec%%:*} hash=${spec#*:}
	$T sign "$REGISTRY/app:v1" --key "$K/$key.pem" >/dev/null
	n=$((n + 1))
	out=$("$P" "${I[@]}" manifest "$REGISTRY" app "sha256-${D#sha256:}.sig")
	tt_eq "$key: signatures appended ($n layers)" "$n" "$(grep -c '^layer ' <<<"$out")"
	line=$(grep '^layer ' <<<"$out" | tail -1)
	tt_contains "$key: simple-signing layer" "$line" "application/vnd.dev.cosign.simplesigning.v1+json"
	ldigest=$(awk '{print $2}' <<<"$line")
	blob app "$ldigest" >"$TT_TMP/payload"
	sed -E 's/.*dev.cosignproject.cosign\/signature=([^ ]*).*/\1/' <<<"$line" | base64 -d >"$TT_TMP/sig"
	tt_contains "$key: payload names the image digest" "$(cat "$TT_TMP/payload")" "\"docker-manifest-digest\":\"$D\""
	tt_contains "$key: payload names the repository" "$(cat "$TT_TMP/payload")" "\"docker-reference\":\"$REGISTRY/app\""
	if verify "$key" "$hash" "$TT_TMP/payload" "$TT_TMP/sig"; then
		tt_pass "$key: signature verifies with openssl ($hash)"
	else
		tt_fail "$key: signature does not verify with openssl ($hash)"
	fi
done

# Attestation: DSSE envelope, PAE signature, in-toto statement subject.
echo '{"scanner":{"result":{}}}' >"$TT_TMP/pred.json"
$T attest "$REGISTRY/app:v1" --key "$K/p256.pem" --statement v0.1 \
	--predicate-type https://cosign.sigstore.dev/attestation/vuln/v1 \
	--predicate "$TT_TMP/pred.json" >/dev/null
out=$("$P" "${I[@]}" manifest "$REGISTRY" app "sha256-${D#sha256:}.att")
line=$(grep '^layer ' <<<"$out")
tt_contains "attestation: DSSE layer" "$line" "application/vnd.dsse.envelope.v1+json"
tt_contains "attestation: predicateType annotation" "$line" "predicateType=https://cosign.sigstore.dev/attestation/vuln/v1"
blob app "$(awk '{print $2}' <<<"$line")" >"$TT_TMP/env.json"
/usr/bin/python3 - "$TT_TMP" <<'PY'
import base64, json, sys
d = sys.argv[1]
env = json.load(open(d + "/env.json"))
body = base64.b64decode(env["payload"])
t = env["payloadType"].encode()
open(d + "/pae", "wb").write(b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body))
open(d + "/envsig", "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
open(d + "/statement.json", "wb").write(body)
open(d + "/ptype", "w").write(env["payloadType"])
PY
tt_eq "attestation: payloadType" "application/vnd.in-toto+json" "$(cat "$TT_TMP/ptype")"
stmt=$(cat "$TT_TMP/statement.json")
tt_contains "statement v0.1" "$stmt" '"_type":"https://in-toto.io/Statement/v0.1"'
tt_contains "statement subject is the image" "$stmt" "\"sha256\":\"${D#sha256:}\""
if verify p256 sha256 "$TT_TMP/pae" "$TT_TMP/envsig"; then
	tt_pass "attestation: PAE signature verifies"
else
	tt_fail "attestation: PAE signature does not verify"
fi

# Fixtures: digest and real cosign signatures preserved.
FX=$TG_FIXTURES/containers-image
out=$($T seed-fixture "$FX/dir-img-cosign-valid" "$REGISTRY/fx/valid" --storage "$TT_REGISTRY_DATA")
FD=sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00
tt_eq "fixture digest is the signed one" "$FD" "$out"
tt_run out rc "$P" "${I[@]}" manifest "$REGISTRY" fx/valid "$FD"
tt_eq "fixture manifest fetched and verified by digest" 0 "$rc"
tt_contains "fixture is a Docker v2 manifest" "$out" "application/vnd.docker.distribution.manifest.v2+json"
out=$("$P" "${I[@]}" manifest "$REGISTRY" fx/valid "sha256-${FD#sha256:}.sig")
line=$(grep '^layer ' <<<"$out")
blob fx/valid "$(awk '{print $2}' <<<"$line")" >"$TT_TMP/fpayload"
sed -E 's/.*dev.cosignproject.cosign\/signature=([^ ]*).*/\1/' <<<"$line" | base64 -d >"$TT_TMP/fsig"
if openssl dgst -sha256 -verify "$FX/cosign.pub" -signature "$TT_TMP/fsig" "$TT_TMP/fpayload" >/dev/null 2>&1; then
	tt_pass "fixture signature (made by cosign) verifies with cosign.pub"
else
	tt_fail "fixture signature does not verify with cosign.pub"
fi
$T seed-fixture "$FX/dir-img-cosign-valid-2" "$REGISTRY/fx/valid2" --storage "$TT_REGISTRY_DATA" >/dev/null
out=$("$P" "${I[@]}" manifest "$REGISTRY" fx/valid2 "sha256-${FD#sha256:}.sig")
tt_eq "fixture with two signatures: two layers" 2 "$(grep -c '^layer ' <<<"$out")"
out=$($T seed-fixture "$FX/dir-img-cosign-fulcio-rekor-valid" "$REGISTRY/fx/fulcio" --storage "$TT_REGISTRY_DATA")
out=$("$P" "${I[@]}" manifest "$REGISTRY" fx/fulcio "sha256-${out#sha256:}.sig")
tt_contains "keyless fixture keeps its certificate annotation" "$out" "dev.sigstore.cosign/certificate="
tt_contains "keyless fixture keeps its bundle annotation" "$out" "dev.sigstore.cosign/bundle="

tt_done
