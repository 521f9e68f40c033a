#!/usr/bin/env bash
# Crash consistency (issue 19): tollgate once is killed with SIGKILL at N
# random moments on a changing deploy repository, against the real
# components (Debian's docker-registry with signed and unsigned images, a
# git daemon, tests/testcluster). After each kill the cluster must hold
# nothing unverified; then one clean cycle must converge:
#   - the cluster holds exactly the last commit's verified content (the
#     shop unit's ConfigMap round and extra objects, its Deployment pinned
#     to the verified digest of the tag committed; pruned objects gone);
#   - nothing of the blocked unit (an unsigned image), no unpinned image,
#     no digest that was not verified;
#   - the inventory lists exactly the unit's objects in the cluster;
#   - the status branch passes git fsck and its last commit names the
#     last source commit; the Git cache and stateDir need no repair (the
#     clean cycle runs and exits 3: payments stays blocked).
# The moment of each kill is spread over a clean cycle's duration (measured
# first) and classified afterwards from the testcluster request log and
# the status branch: before any cluster write (fetch, verify), during
# apply, during inventory writes, after the inventory (status commit and
# push).
#
#   tests/chaos/kill9.sh [N]     (default 20)
#   FAULTS=1 tests/chaos/kill9.sh [N]   also inject a server-side fault
#       into every killed cycle, the kinds in turn: testcluster 500s/503s and a hang
#       mid-apply or on the inventory, the registry (behind
#       tests/tools/tg-flaky-proxy) resetting connections at accept or
#       mid-answer, the git daemon vanishing (killed with its children, a
#       push in progress included) at a random moment of the cycle and
#       coming back only for the clean cycle
# Prints "N kills, N converged, 0 unverified applied" and exits 0 only
# then. Needs a build in build/ (TG_BUILD_DIR).
. "$(cd "$(dirname "$0")/.." && pwd)/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"

N=${1:-20}
world_start
if [ "${FAULTS:-0}" = 1 ]; then
	# The registry is reached through a proxy that drops connections on
	# demand; every image reference, the policy and the config name it.
	PROXY_CONTROL=$TT_TMP/proxy.drop
	echo 0 >"$PROXY_CONTROL"
	pport=$(tt_free_port)
	tt_bg "$TT_TMP/proxy.out" python3 "$TG_SOURCE_DIR/tests/tools/tg-flaky-proxy" \
		--port "$pport" --target "$REGISTRY" --control "$PROXY_CONTROL" \
		--log "$TT_TMP/proxy.log"
	tt_wait_port "$pport"
	sed -i "s#$REGISTRY#127.0.0.1:$pport#g" "$W_POLICY" "$W_CONFIG"
	REGISTRY=127.0.0.1:$pport
fi
P=$W_WORK/clusters/prod
mkdir -p "$P/shop" "$P/payments"
d1=$(world_image shop/web:1.0)
world_sign shop/web:1.0
d2=$(world_image shop/web:2.0)
world_sign shop/web:2.0
world_image pay/api:6.6 >/dev/null # never signed
verified="$d1 $d2"
world_deployment pay api "$REGISTRY/pay/api:6.6" >"$P/payments/api.yaml"

# The repository at round I: the web tag alternates, a ConfigMap carries
# the round, and an extra ConfigMap exists on odd rounds (pruned on even).
# write_round I [TAG DIGEST]: the web image is TAG (pushed and signed as
# DIGEST) instead.
write_round() {
	local i=$1 tag=1.0
	if [ $((i % 2)) -eq 1 ]; then
		tag=2.0
	fi
	if [ $# -gt 1 ]; then
		tag=$2
	fi
	{
		world_namespace shop
		printf 'apiVersion: v1\nkind: ConfigMap\n'
		printf 'metadata: {name: round, namespace: shop}\n'
		printf 'data: {round: "%s"}\n---\n' "$i"
		if [ $((i % 2)) -eq 1 ]; then
			printf 'apiVersion: v1\nkind: ConfigMap\n'
			printf 'metadata: {name: extra, namespace: shop}\n'
			printf 'data: {a: b}\n---\n'
		fi
		world_deployment shop web "$REGISTRY/shop/web:$tag"
	} >"$P/shop/all.yaml"
	world_commit "round $i" >/dev/null
	EXPECT_TAG=$tag
	EXPECT_DIGEST=$d1
	if [ "$tag" = 2.0 ]; then
		EXPECT_DIGEST=$d2
	elif [ $# -gt 1 ]; then
		EXPECT_DIGEST=$3
	fi
}

once() {
	"$TG_BIN" once --config "$W_CONFIG" --health-timeout 5 \
		>>"$TT_TMP/once.log" 2>&1
}

# Images of every Deployment in the cluster, one per line.
live_images() {
	kc get deployments -A -o \
		jsonpath='{range .items[*]}{.spec.template.spec.containers[*].image}{"\n"}{end}'
}

# Count what must never be in the cluster: the blocked unit's objects,
# images not pinned, digests never verified. Prints the problems.
unverified() {
	local img bad=0
	if kc get deployment api -n pay >/dev/null 2>&1; then
		echo "the blocked unit's Deployment pay/api is in the cluster"
		bad=$((bad + 1))
	fi
	while read -r img; do
		[ -z "$img" ] && continue
		case " $verified " in
		*" ${img##*@} "*) [[ $img == *@sha256:* ]] && continue ;;
		esac
		echo "unverified image in the cluster: $img"
		bad=$((bad + 1))
	done < <(live_images)
	return $bad
}

# The convergence checks after a clean cycle at round I; prints problems.
converged() {
	local i=$1 ok=0 img inv objs want head
	img=$(kc get deployment web -n shop -o \
		jsonpath='{.spec.template.spec.containers[0].image}' 2>&1)
	[ "$img" = "$REGISTRY/shop/web:$EXPECT_TAG@$EXPECT_DIGEST" ] ||
		{ echo "web image is $img"; ok=1; }
	[ "$(kc get configmap round -n shop -o jsonpath='{.data.round}' 2>&1)" = "$i" ] ||
		{ echo "ConfigMap round is not $i"; ok=1; }
	if [ $((i % 2)) -eq 1 ]; then
		kc get configmap extra -n shop >/dev/null 2>&1 ||
			{ echo "ConfigMap extra missing"; ok=1; }
	elif kc get configmap extra -n shop >/dev/null 2>&1; then
		echo "ConfigMap extra not pruned"
		ok=1
	fi
	unverified || ok=1
	# The inventory of unit shop names exactly its objects.
	inv=$(kc get configmap -n tollgate-system -o json |
		python3 -c 'import json,sys
for cm in json.load(sys.stdin)["items"]:
    if cm["metadata"]["name"].startswith("tollgate-inventory-shop-"):
        print(json.dumps(cm.get("data", {}), sort_keys=True))')
	objs="ConfigMap/shop/round Deployment/shop/web Namespace//shop"
	if [ $((i % 2)) -eq 1 ]; then
		objs="$objs ConfigMap/shop/extra"
	fi
	for want in $objs; do
		local kind=${want%%/*} rest=${want#*/} name=${want##*/}
		[[ $inv == *"$name"* && $inv == *"$kind"* ]] ||
			{ echo "inventory lacks $want"; ok=1; }
	done
	if [ $((i % 2)) -eq 0 ] && [[ $inv == *'"extra'* || $inv == *'/extra'* ]]; then
		echo "inventory still lists the pruned ConfigMap extra"
		ok=1
	fi
	git --git-dir="$TT_TMP/git/deploy.git" fsck --no-progress >/dev/null 2>&1 ||
		{ echo "git fsck fails on the deploy repository"; ok=1; }
	head=$(git -C "$W_WORK" rev-parse HEAD)
	git --git-dir="$TT_TMP/git/deploy.git" log -1 --format=%B tollgate/status |
		grep -q "Source-Commit: $head" ||
		{ echo "the last status commit does not describe $head"; ok=1; }
	return $ok
}

# Where the killed cycle was: from the cluster's request log and the
# status branch.
stage_of_kill() {
	local before_status=$1 log
	log=$(tc_curl GET /testcluster/requests)
	if [ "$(git --git-dir="$TT_TMP/git/deploy.git" rev-parse -q --verify tollgate/status || true)" != "$before_status" ]; then
		echo "after-push"
	else
		# the last kind of request the killed cycle made: a write of an
		# inventory ConfigMap, another write, or reads only
		python3 -c '
import json, sys
log = json.load(sys.stdin)["requests"]
writes = [r["path"] for r in log if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]
if any("/tollgate-system/configmaps" in p for p in writes):
    print("inventory-or-status")
elif writes:
    print("apply")
elif log:
    print("plan-or-drift")
else:
    print("fetch-or-verify")' <<<"$log"
	fi
}

# A fault for a cycle (FAULTS=1): a 500 or a hang on apply or inventory,
# registry connections reset, or the git daemon killed (GIT_FAULT: done
# by the loop at a random moment of the cycle).
GIT_FAULT=0
FAULT_NAMES=(apply-500 configmap-503 inventory-500 apply-hang registry-drop git-vanish)
declare -A faults
inject_fault() {
	local r=$(($1 % 6)) body=""
	case $r in
	0) body='{"method":"PATCH","path":"/apis/apps/v1/","count":1,"status":500}' ;;
	1) body='{"method":"PATCH","path":"/api/v1/namespaces/shop/configmaps","count":1,"status":503}' ;;
	2) body='{"method":"PATCH","path":"/api/v1/namespaces/tollgate-system/","count":1,"status":500}' ;;
	3) body='{"path":"/apis/apps/v1/","count":1,"hangSeconds":3}' ;;
	4) echo $((1 + RANDOM % 4)) >"$PROXY_CONTROL" ;;
	5) GIT_FAULT=1 ;;
	esac
	if [ -n "$body" ]; then
		tc_curl POST /testcluster/faults -H 'Content-Type: application/json' \
			-d "$body" >/dev/null
	fi
	faults[${FAULT_NAMES[$r]}]=$((${faults[${FAULT_NAMES[$r]}]:-0} + 1))
	echo "fault ${FAULT_NAMES[$r]}" >>"$TT_TMP/once.log"
}

# A clean cycle first, to measure how long one takes.
write_round 0
t0=$(date +%s%N)
once || true
t1=$(date +%s%N)
cycle_ms=$(((t1 - t0) / 1000000))
[ "$cycle_ms" -lt 200 ] && cycle_ms=200
echo "kill9: a clean cycle takes ${cycle_ms} ms; kills are spread over the length of recent clean cycles"
if ! converged 0; then
	echo "kill9: the clean start does not converge" >&2
	exit 1
fi

kills=0 conv=0 bad=0 finished=0 i=0
declare -A stages
while [ "$kills" -lt "$N" ]; do
	i=$((i + 1))
	if [ "${FAULTS:-0}" = 1 ] && [ $(((i - 1) % 6)) -eq 4 ]; then
		# Verdicts of known digests are cached: the registry fault
		# bites on a tag never verified, pushed and signed now.
		fresh=$(world_image "shop/web:r$i")
		world_sign "shop/web:r$i"
		verified="$verified $fresh"
		write_round "$i" "r$i" "$fresh"
	else
		write_round "$i"
	fi
	if [ "${FAULTS:-0}" = 1 ]; then
		inject_fault $((i - 1))
	fi
	tc_curl DELETE /testcluster/requests >/dev/null
	before=$(git --git-dir="$TT_TMP/git/deploy.git" rev-parse -q --verify tollgate/status || true)
	delay=$(((RANDOM * 32768 + RANDOM) % cycle_ms))
	"$TG_BIN" once --config "$W_CONFIG" --health-timeout 5 \
		>>"$TT_TMP/once.log" 2>&1 &
	pid=$!
	gitkill=""
	if [ "$GIT_FAULT" = 1 ]; then
		gdelay=$(((RANDOM * 32768 + RANDOM) % cycle_ms))
		(
			sleep "$(printf '%d.%03d' $((gdelay / 1000)) $((gdelay % 1000)))"
			tt_kill_git_daemon
		) &
		gitkill=$!
	fi
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	# A cycle that ended before its moment is not a kill: the round is
	# still checked, and another is run.
	if kill -KILL "$pid" 2>/dev/null; then
		stage=$(stage_of_kill "$before")
		kills=$((kills + 1))
		stages[$stage]=$((${stages[$stage]:-0} + 1))
	else
		stage="finished-first"
		finished=$((finished + 1))
	fi
	wait "$pid" 2>/dev/null || true
	if ! problems=$(unverified); then
		bad=$((bad + 1))
		echo "round $i ($stage, ${delay} ms): $problems"
	fi
	tc_curl DELETE /testcluster/faults >/dev/null
	if [ "${FAULTS:-0}" = 1 ]; then
		echo 0 >"$PROXY_CONTROL"
	fi
	if [ -n "$gitkill" ]; then
		wait "$gitkill" 2>/dev/null || true
		tt_restart_git_daemon
		GIT_FAULT=0
	fi
	t0=$(date +%s%N)
	set +e
	once
	rc=$?
	set -e
	t1=$(date +%s%N)
	# Kills follow the length of recent clean cycles.
	cycle_ms=$(((cycle_ms * 3 + (t1 - t0) / 1000000) / 4))
	if [ "$cycle_ms" -lt 200 ]; then
		cycle_ms=200
	fi
	if [ "$rc" -ne 3 ]; then
		echo "round $i ($stage, ${delay} ms): the clean cycle exits $rc, not 3"
		tail -5 "$TT_TMP/once.log"
	elif problems=$(converged "$i"); then
		[ "$stage" = finished-first ] || conv=$((conv + 1))
		# Progress, so a run stopped early still tells how far it got.
		echo "kill9: round $i ($stage, ${delay} ms): converged; $kills kills, $conv converged, $bad unverified applied"
	else
		echo "round $i ($stage, ${delay} ms): not converged: $problems"
	fi
done

for s in "${!stages[@]}"; do
	printf 'kill9: %-20s %d kills\n' "$s" "${stages[$s]}"
done
for s in "${!faults[@]}"; do
	printf 'kill9: fault %-14s %d cycles\n' "$s" "${faults[$s]}"
done
echo "kill9: $i rounds; $finished cycles ended before their kill moment (checked, not counted)"
echo "$kills kills, $conv converged, $bad unverified applied"
[ "$kills" -eq "$N" ] && [ "$conv" -eq "$N" ] && [ "$bad" -eq 0 ]
