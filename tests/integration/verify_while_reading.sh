#!/usr/bin/env bash
# Images are verified while the manifests are read (issue 20): a worker
# thread verifies each reference as the reader finds it, beside the rest of
# the reading. What a user sees must not change: each reference is
# verified once in a cycle (one request for its tag), a unsigned image
# still blocks its unit, a unit that fails to load gets no verdicts (its
# images were verified, but nothing of it is applied or reported), and the
# verdict cache is kept for the next cycle.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

web=$(world_image shop/web:1.0)
world_sign shop/web:1.0
world_image pay/api:2.0 >/dev/null # pushed, never signed
world_image lost/x:3.0 >/dev/null
world_sign lost/x:3.0

P=$W_WORK/clusters/prod
mkdir -p "$P/shop" "$P/payments" "$P/broken"
world_namespace shop | head -3 >"$P/shop/00-ns.yaml"
# Enough files that the reading goes on while the first images are
# verified; every one names the same image, verified once.
for i in $(seq -w 1 60); do
	world_deployment shop "web$i" "$REGISTRY/shop/web:1.0" >"$P/shop/web$i.yaml"
done
world_deployment shop api "$REGISTRY/pay/api:2.0" >"$P/payments/api.yaml"
world_deployment shop x "$REGISTRY/lost/x:3.0" >"$P/broken/x.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n' >"$P/broken/zz-bad.yaml"
world_commit "shop, payments and a unit that does not parse"

tag_gets() { # REPO TAG: GETs of the tag since line $from of the log
	tail -n +"$((from + 1))" "$TT_REGISTRY_LOG" |
		grep -c "\"GET /v2/$1/manifests/$2 " || true
}
status_json() {
	git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json
}

from=$(wc -l <"$TT_REGISTRY_LOG")
tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
tt_eq "once exits 1: a unit failed (and one is blocked)" 1 "$RC"
tt_contains "the three references were verified while reading" "$OUT" \
	"imagesEarly=3"
tt_eq "the tag of shop/web, named by 60 files, is resolved once" 1 \
	"$(tag_gets shop/web 1.0)"
tt_eq "the unsigned image's tag is resolved once" 1 \
	"$(tag_gets pay/api 2.0)"
tt_contains "the unsigned image still blocks its unit" "$OUT" \
	"unit payments: blocked"
tt_contains "the unit that does not parse fails" "$OUT" "unit broken: failed"
tt_eq "shop's Deployments are applied, pinned to the verified digest" \
	"$REGISTRY/shop/web:1.0@$web" \
	"$(kc get deployment web60 -n shop -o jsonpath='{.spec.template.spec.containers[0].image}')"
tt_run X RC2 kc get deployment api -n shop
tt_eq "nothing of the blocked unit is applied" 1 "$RC2"
tt_run X RC2 kc get deployment x -n shop
tt_eq "nothing of the unit that does not parse is applied" 1 "$RC2"
doc=$(status_json)
tt_contains "the status has shop's verdict" "$doc" "$REGISTRY/shop/web:1.0"
tt_contains "and the blocked image's" "$doc" "$REGISTRY/pay/api:2.0"
tt_not_contains "no verdict for the image of the unit that did not load" \
	"$doc" "lost/x"
tt_contains "the verdict cache is kept though every verdict came early" \
	"$(cat "$W_STATE/verdict-cache.json" 2>/dev/null)" "${web#sha256:}"

# Nothing changed: the files come from the parse cache (but the one that
# does not parse), their images are still verified early, from the verdict
# cache (the tags resolved again).
from=$(wc -l <"$TT_REGISTRY_LOG")
tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
tt_eq "the second once exits 1 too" 1 "$RC"
tt_contains "the good files from the parse cache, the bad one parsed again" \
	"$OUT" "filesCached=63 filesParsed=1"
tt_contains "their references verified early as well" "$OUT" "imagesEarly=3"
tt_eq "shop/web's tag resolved once again" 1 "$(tag_gets shop/web 1.0)"
tt_eq "its signature not fetched again (verdict cache)" 0 \
	"$(tail -n +"$((from + 1))" "$TT_REGISTRY_LOG" |
		grep -c "GET /v2/shop/web/manifests/sha256-${web#sha256:}.sig " || true)"
tt_contains "shop is unchanged" "$OUT" "unit shop: unchanged"

tt_done
