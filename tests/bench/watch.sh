#!/usr/bin/env bash
# tollgate run with watches (issue 20): how long a `kubectl patch` of a
# managed Deployment stays before tollgate corrects it (interval 1h, so
# only the watch event can explain the correction), and what one idle
# cycle asks of the API server (testcluster's request log), before the
# watches are in sync and after.
#
#   SAMPLES=10 OBJECTS=100 tests/bench/watch.sh
#
# SAMPLES patches (default 10), one at a time; OBJECTS ConfigMaps (default
# 100) beside the Deployment, so that the lists have something in them.
# Prints a table:
#   idle cycle, before watches | LIST n | watch n | other GET n | writes n
#   idle cycle, watches in sync | ...
#   patch -> corrected (ms)     | median m | min | max | samples
# The time runs from the patch's answer to the first poll (every 50 ms,
# curl) that reads the corrected value.
. "$(cd "$(dirname "$0")/.." && pwd)/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"

samples=${SAMPLES:-10}
objects=${OBJECTS:-100}
run_world 1.0
run_shop
for ((i = 1; i <= objects; i++)); do
	printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: shop}\ndata: {n: "%d"}\n' "$i" "$i"
done >"$P/shop/configmaps.yaml"
run_web 1.0 >/dev/null
agent_start a
port=$AGENT_PORT_a
wait_until 60 ready "$port" || {
	echo "watch.sh: the agent never became ready" >&2
	tail -20 "$TT_TMP/agent-a.log" >&2
	exit 1
}
success() { metric "$port" 'tollgate_cycles_total{result="success"}'; }

# idle_cycle LABEL: POST /reconcile, wait for the cycle, print one row of
# what it asked of the server.
idle_cycle() {
	local n
	sleep 1
	n=$(success)
	tc_curl DELETE /testcluster/requests >/dev/null
	curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
	more() { [ "$(success)" -gt "$n" ]; }
	wait_until 60 more || true
	sleep 0.3
	tc_curl GET /testcluster/requests | jq -r --arg l "$1" '
		[.requests[] | select(.path | startswith("/api"))] as $r |
		[$r[] | select(.method == "GET" and .query.watch == null and .query.limit != null)] as $lists |
		[$r[] | select(.query.watch == "1")] as $watches |
		[$r[] | select(.method == "GET" and .query.watch == null and .query.limit == null)] as $gets |
		[$r[] | select(.method != "GET")] as $writes |
		"| \($l) | \($lists | length) | \($watches | length) | \($gets | length) | \($writes | length) |"'
}

echo "| idle cycle | LIST | watch | other GET | writes |"
echo "|---|---|---|---|---|"
idle_cycle "before the watches are in sync"
open5() { [ "$(tc_curl GET /testcluster/watches | jq .open)" -ge 5 ]; }
wait_until 20 open5 || true
idle_cycle "watches in sync ($(tc_curl GET /testcluster/watches | jq .open) streams)"

replicas() {
	tc_curl GET /apis/apps/v1/namespaces/shop/deployments/web | jq .spec.replicas
}
want=$(replicas)
times=()
for ((s = 1; s <= samples; s++)); do
	sleep 1
	kc patch deployment web -n shop -p "{\"spec\":{\"replicas\":$((s + 10))}}" >/dev/null
	start=$(date +%s%N)
	for ((i = 0; i < 400; i++)); do
		[ "$(replicas)" = "$want" ] && break
		sleep 0.05
	done
	end=$(date +%s%N)
	if [ "$(replicas)" != "$want" ]; then
		echo "watch.sh: patch $s not corrected after 20 s" >&2
		exit 1
	fi
	times+=($(((end - start) / 1000000)))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}' <<<"$sorted")
echo
echo "| patch -> corrected | median | min | max | samples |"
echo "|---|---|---|---|---|"
echo "| ms | $median | $(head -1 <<<"$sorted") | $(tail -1 <<<"$sorted") | ${#times[@]} |"
echo
echo "watch metrics: $(curl -s "http://127.0.0.1:$port/metrics" | grep -E '^tollgate_watch' | tr '\n' ' ')"
agent_stop a
tc_stop_check >/dev/null
