#!/usr/bin/env bash
# tollgate once with files the Git source refuses: a symlink out of
# source.path and a submodule fail their own units only (nothing of them
# reaches the cluster, the status names the path), the other unit is
# applied.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

world_image shop/web:1.0 >/dev/null
world_sign shop/web:1.0
P=$W_WORK/clusters/prod
mkdir -p "$P/shop" "$P/evil" "$W_WORK/private"
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' >"$P/shop/ns.yaml"
world_deployment shop web "$REGISTRY/shop/web:1.0" >"$P/shop/web.yaml"
cat >"$P/evil/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: evil-config, namespace: default}
data: {a: b}
YAML
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen, namespace: default}\ndata: {key: PRIVATE-VALUE-7}\n' \
	>"$W_WORK/private/secret.yaml"
ln -s ../../../private/secret.yaml "$P/evil/steal.yaml"
sub=$TT_TMP/sub
git init -q "$sub" && git -C "$sub" commit -q --allow-empty -m sub
mkdir -p "$P/vendor"
git -C "$W_WORK" -c protocol.file.allow=always submodule -q add "$sub" \
	clusters/prod/vendor/charts 2>/dev/null
world_commit "shop, a unit with a symlink out of the tree, a submodule"
commit=$(git -C "$W_WORK" rev-parse HEAD)

tt_run out rc "$TG_BIN" once --config "$W_CONFIG" --health-timeout 10
echo "$out" >"$TT_TMP/once.log"
tt_contains "the evil unit is not applied" "$out" "unit evil:"
tt_not_contains "the evil unit is not reported applied" "$out" "unit evil: applied"
tt_contains "the shop unit is applied" "$out" "unit shop: applied"
tt_contains "the submodule fails its unit" "$out" "unit vendor: failed"
tt_contains "the submodule is named" "$out" \
	"clusters/prod/vendor/charts: is a submodule"
tt_run x rc2 kc get configmap evil-config -n default
tt_eq "nothing of the refused unit reaches the cluster" 1 "$rc2"
tt_run x rc3 kc get configmap stolen -n default
tt_eq "the symlinked file outside source.path is never applied" 1 "$rc3"
tt_eq "the good unit is in the cluster" web \
	"$(kc get deployment web -n shop -o jsonpath='{.metadata.name}')"
status=$(git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json)
tt_contains "status names the refused path" "$status" \
	"evil/steal.yaml: symlink points outside source.path"
tt_not_contains "status never shows the file behind the symlink" "$status" "PRIVATE-VALUE-7"

tt_done
