#!/usr/bin/env bash
# A tollgate killed while updating a ref of its Git cache leaves a
# "<ref>.lock" file behind. When no other tollgate has the cache open (the
# flock on <cache>/tollgate.owner is free), every such file is removed when
# the cache is opened, however fresh: its writer is dead. While another
# process holds the cache, an old one is removed and a fresh one (that
# process writing now) on a status ref only costs the status of that
# cycle: the manifests are still fetched and applied.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start
P=$W_WORK/clusters/prod
mkdir -p "$P/shop"
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' >"$P/shop/ns.yaml"
for t in 1 2 2b 3; do
	world_image "shop/web:$t" >/dev/null
	world_sign "shop/web:$t"
done
web() { # TAG: commit Deployment web with image shop/web:TAG
	world_deployment shop web "$REGISTRY/shop/web:$1" >"$P/shop/web.yaml"
	world_commit "web $1"
}
web_image() {
	kc get deployment web -n shop \
		-o jsonpath='{.spec.template.spec.containers[0].image}'
}
once() {
	tt_run out rc "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
}

web 1
once
tt_eq "first cycle: exit 0" 0 "$rc"
cache=$(ls -d "$W_STATE"/git/*.git)
tt_eq "one Git cache" 1 "$(printf '%s\n' "$cache" | wc -l)"

# Locks left by a process killed five minutes ago, on the source ref, a
# status tracking ref and packed-refs.
src_ref=$(find "$cache/refs/tollgate/source" -type f | head -1)
for f in "$src_ref.lock" "$cache/refs/tollgate/remote/status.lock" \
	"$cache/packed-refs.lock"; do
	: >"$f"
	touch -d '5 minutes ago' "$f"
done
web 2
once
tt_eq "stale locks: exit 0" 0 "$rc"
tt_contains "stale locks: removed and named" "$out" \
	"removed a stale lock from the Git cache"
tt_contains "stale locks: the source ref lock is named" "$out" "$src_ref.lock"
tt_contains "stale locks: web 2 applied" "$(web_image)" "shop/web:2@sha256:"
tt_eq "stale locks: none left" "" "$(find "$cache" -name '*.lock')"
tt_contains "stale locks: status committed for web 2" \
	"$(git --git-dir "$TT_TMP/git/deploy.git" log -1 --format=%s tollgate/status)" \
	"applied: shop"

# A fresh lock left by a tollgate killed a moment ago, with no one else on
# the cache: removed at once, and the status published in the same cycle
# (before, it waited TG_GIT_STALE_LOCK_S, and kill9.sh saw status commits
# stop for that long).
: >"$cache/refs/tollgate/push/status.lock"
: >"$cache/refs/tollgate/remote/status.lock"
web 2b
once
tt_eq "fresh locks, owner gone: exit 0" 0 "$rc"
tt_contains "fresh locks, owner gone: removed and named" "$out" \
	"refs/tollgate/push/status.lock"
tt_eq "fresh locks, owner gone: none left" "" "$(find "$cache" -name '*.lock')"
tt_contains "fresh locks, owner gone: status committed in the same cycle" \
	"$(git --git-dir "$TT_TMP/git/deploy.git" show tollgate/status:status.json)" \
	"shop/web:2b\""

# A fresh lock on the status tracking ref while another process holds the
# cache (flock on tollgate.owner): someone is writing it now. The lock
# stays, the cycle still applies web 3, and the status is reported as not
# published (tried again next cycle).
exec 9<>"$cache/tollgate.owner"
flock 9
: >"$cache/refs/tollgate/remote/status.lock"
web 3
once
tt_contains "fresh lock: web 3 applied" "$(web_image)" "shop/web:3@sha256:"
tt_contains "fresh lock: the fetch went on without the status refs" "$out" \
	"refs fetched with the branch not stored"
tt_contains "fresh lock: status not published, said so" "$out" \
	"status not published"
tt_eq "fresh lock: kept" 1 "$(find "$cache" -name 'status.lock' | wc -l)"
flock -u 9
exec 9>&-
rm -f "$cache/refs/tollgate/remote/status.lock"
once
tt_eq "lock gone: exit 0" 0 "$rc"
tt_contains "lock gone: the status catches up" \
	"$(git --git-dir "$TT_TMP/git/deploy.git" show tollgate/status:status.json)" \
	"shop/web:3\""
tt_done
