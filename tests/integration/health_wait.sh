#!/usr/bin/env bash
# The health wait of `tollgate once` reads the workloads it applied until
# none is progressing: one whose read failed for a moment is read again
# while another still progresses, and reads healthy; one seen healthy is
# not read again; one whose rollout fails is read until its progress
# deadline passes and reads failed. (The reads go in batches of 128 to
# bound memory: integration.test_kube_apply has more workloads than that.)
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start
P=$W_WORK/clusters/prod
mkdir -p "$P/shop"
for t in web:1 fail-rollout:1; do
	world_image "shop/$t" >/dev/null
	world_sign "shop/$t"
done
{
	world_namespace shop
	world_deployment shop web "$REGISTRY/shop/web:1"
	printf -- '---\n'
	# testcluster never makes an image named fail-rollout available: the
	# rollout progresses for 8 s, then its deadline passes.
	world_deployment shop slow "$REGISTRY/shop/fail-rollout:1" |
		sed 's/^spec:$/spec:\n  progressDeadlineSeconds: 8/'
} >"$P/shop/app.yaml"
world_commit "web and slow"

# The first read of web's status fails: 503 to it and to each of the HTTP
# client's 3 retries (about 3.5 s), while slow still progresses.
tc_curl POST /testcluster/faults -d '{"method":"GET","path":"/apis/apps/v1/namespaces/shop/deployments/web","count":4,"status":503}' >/dev/null
tc_curl DELETE /testcluster/requests >/dev/null
tt_run out rc "$TG_BIN" once --config "$W_CONFIG" --health-timeout 20
tt_eq "exit 0" 0 "$rc"
tt_contains "web: read again after its read failed, healthy" "$out" \
	"health Deployment web: healthy"
tt_contains "slow: failed when its deadline passed" "$out" \
	"health Deployment slow: failed"
gets=$(tc_curl GET /testcluster/requests | python3 -c '
import json, sys
reqs = json.load(sys.stdin)["requests"]
def n(name):
    return sum(1 for r in reqs if r["method"] == "GET" and
               r["path"].startswith("/apis/apps/v1/namespaces/shop/deployments/" + name))
print(n("web"), n("slow"))')
read -r web_gets slow_gets <<<"$gets"
tt_eq "web: read twice (the failed read with its 3 retries, then healthy), not after" 5 "$web_gets"
[ "$slow_gets" -ge 3 ] && tt_pass "slow: read until its deadline passed ($slow_gets reads)" ||
	tt_fail "slow: read until its deadline passed" "$slow_gets reads"
tt_contains "status: web healthy" \
	"$(git --git-dir "$TT_TMP/git/deploy.git" show tollgate/status:units/shop.json)" \
	'"state": "healthy"'
tt_done
