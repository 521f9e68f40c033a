#!/usr/bin/env bash
# tollgate once with an image signed the cosign v3 way only: a Sigstore
# bundle stored as an OCI 1.1 referrer (tests/data/bundles, made with
# sigstore-js), no .sig tag. Its unit is applied, pinned to the digest the
# bundle names; the same image without the bundle, in another unit, is
# blocked and stays out of the cluster.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

DATA=$TG_SOURCE_DIR/tests/data/bundles
# The world's policy, trusting the key that made the committed bundles.
sed -i "s|key: $W_PUB|key: $DATA/keys/release.pub|" "$W_POLICY"
grep -q "key: $DATA/keys/release.pub" "$W_POLICY" || {
	echo "policy rewrite failed" >&2
	exit 1
}
python3 "$TG_IMAGE" push-dir "$DATA/image" "$REGISTRY/shop/web:3.0" >"$TT_TMP/d"
python3 "$TG_IMAGE" push-dir "$DATA/image" "$REGISTRY/pay/api:3.0" >/dev/null
python3 "$TG_IMAGE" push-referrer "$REGISTRY/shop/web:3.0" \
	"$DATA/good/sign.sigstore.json" \
	--predicate-type https://sigstore.dev/cosign/sign/v1 >/dev/null
digest=$(cat "$TT_TMP/d")

P=$W_WORK/clusters/prod
mkdir -p "$P/shop" "$P/pay"
for ns in shop pay; do
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' \
		"$ns" >"$P/$ns/ns.yaml"
done
world_deployment shop web "$REGISTRY/shop/web:3.0" >"$P/shop/web.yaml"
world_deployment pay api "$REGISTRY/pay/api:3.0" >"$P/pay/api.yaml"
world_commit "shop signed by a referrer bundle, pay unsigned"

tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 10
tt_eq "once exits 3 (pay is blocked)" 3 "$RC"
tt_contains "the unit signed by a referrer bundle is applied" "$OUT" \
	"unit shop: applied"
tt_contains "the unit without signatures is blocked" "$OUT" \
	"unit pay: blocked"
tt_eq "the applied image is pinned to the digest the bundle signs" \
	"$REGISTRY/shop/web:3.0@$digest" \
	"$(kc get deployment web -n shop -o jsonpath='{.spec.template.spec.containers[0].image}')"
tt_run X RC2 kc get deployment api -n pay
tt_eq "nothing of the blocked unit reaches the cluster" 1 "$RC2"
status=$(git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json)
tt_contains "status.json records the referrer as evidence" "$status" \
	'"referrer": "sha256:'

tt_done
