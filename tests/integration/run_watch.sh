#!/usr/bin/env bash
# tollgate run with watches (issue 20): with an interval of 1h, a
# `kubectl patch` of a managed Deployment is corrected within seconds from
# its watch event; tollgate's own writes start no cycle; a cycle with
# nothing changed sends no LIST (testcluster's request log); a watch the
# server closes is resumed, one answered 410 Gone is listed again, and a
# later edit is still corrected. A watch no list asked for in three
# cycles (the one of all Namespaces, which only a cycle creating a
# namespace reads) is stopped. The watches of drift keep no copy of an
# object the drift memo vouches for: without the memo, a cycle reads
# such objects from the server, and the watch keeps what it read until
# the memo vouches for it again.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0
run_shop
run_web 1.0

# A Namespace with tollgate's label that no unit holds, as the inventory
# namespace tollgate makes is: the drift list of Namespaces gets it, and
# no idle cycle may need the server for it.
kc create -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: stray, labels: {app.kubernetes.io/managed-by: tollgate}}
YAML

agent_start a
port=$AGENT_PORT_a
log=$TT_TMP/agent-a.log
wait_until 40 ready "$port" || true
success() { metric "$port" 'tollgate_cycles_total{result="success"}'; }
tt_eq "the first cycle applied web" 1 "$(success)"
lists() {
	tc_curl GET /testcluster/requests |
		jq '[.requests[] | select(.method == "GET" and .query.limit != null and .query.watch == null)] | length'
}
sleep 1.5
tt_eq "tollgate's own writes (apply, inventory) start no cycle" 1 "$(success)"

# A cycle that checks drift lists each kind once from the server, which
# starts its watch: four, one per list (Deployments and Namespaces by
# tollgate's label, the inventories, all Namespaces for preflight).
n=$(success)
curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
more() { [ "$(success)" -gt "$n" ]; }
wait_until 20 more || true
open4() { [ "$(tc_curl GET /testcluster/watches | jq .open)" = 4 ]; }
wait_until 10 open4 || true
tt_eq "four watch streams open on the server" 4 \
	"$(tc_curl GET /testcluster/watches | jq .open)"
tt_contains "they ask for bookmarks and resume from a resourceVersion" \
	"$(tc_curl GET /testcluster/requests | jq -c '.requests[] | select(.query.watch == "1") | .query')" \
	'"allowWatchBookmarks":"true","resourceVersion"'
tt_eq "metric: four streams open" 4 "$(metric "$port" tollgate_watches_open)"

# An idle cycle: nothing changed in Git or in the cluster.
tc_curl DELETE /testcluster/requests >/dev/null
curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
three() { [ "$(success)" -ge 3 ]; }
wait_until 20 three || true
tt_eq "POST /reconcile ran an idle cycle" 3 "$(success)"
tt_eq "the idle cycle sent no LIST" 0 "$(lists)"
tt_contains "... but did talk to the server (the log is not empty)" \
	"$(tc_curl GET /testcluster/requests | jq -r '.requests[].path')" \
	"/api/v1/namespaces/tollgate-system"

# correct REPLICAS: kubectl patch web to REPLICAS, wait for tollgate to
# set it back; the milliseconds from the patch's answer to the correction
# in $took (polled every 0.2 s).
replicas() {
	tc_curl GET /apis/apps/v1/namespaces/shop/deployments/web | jq .spec.replicas
}
want=$(replicas)
back() { [ "$(replicas)" = "$want" ]; }
correct() {
	local start end before
	before=$(success)
	kc patch deployment web -n shop -p "{\"spec\":{\"replicas\":$1}}" >/dev/null
	# From the moment the edit is in the cluster.
	start=$(date +%s%N)
	wait_until 15 back || true
	end=$(date +%s%N)
	took=$(((end - start) / 1000000))
	echo "# corrected in $took ms"
	# The correcting cycle goes on after the object is back (inventory,
	# status): wait for its end before counting cycles.
	ended() { [ "$(success)" -gt "$before" ]; }
	wait_until 15 ended || true
}
correct 5
tt_eq "a kubectl patch is corrected" "$want" "$(replicas)"
if [ "$took" -lt 3000 ]; then
	tt_pass "within 3 s of the patch (interval 1h): $took ms"
else
	tt_fail "corrected only after $took ms"
fi
tt_contains "the watch event started the cycle" "$(cat "$log")" \
	"watch: a managed object changed: cycle now"
n=$(success)
sleep 1.5
tt_eq "the correction (tollgate's own write) starts no further cycle" \
	"$n" "$(success)"

# Four cycles ran; the last list of all Namespaces was in the first. (The
# server notices a closed stream only when it next writes to it.)
tt_contains "the watch no list asked for in three cycles is stopped" \
	"$(cat "$log")" "watch: stopped, no list asked for it"
tt_eq "metric: three streams open" 3 "$(metric "$port" tollgate_watches_open)"

# The server ends every stream: resumed from the last resourceVersion.
tc_curl DELETE /testcluster/requests >/dev/null
tt_run out rc tc_curl POST /testcluster/watches -d '{"end":"close"}'
tt_contains "the server closed the streams" "$out" '"ended":'
open3() { [ "$(tc_curl GET /testcluster/watches | jq .open)" = 3 ]; }
wait_until 10 open3 || true
tt_eq "the three streams are open again" 3 "$(tc_curl GET /testcluster/watches | jq .open)"
tt_eq "... and no stream of the stopped watch" 3 \
	"$(tc_curl GET /testcluster/requests | jq '[.requests[] | select(.query.watch == "1")] | length')"
resumed() { [ "$(metric "$port" 'tollgate_watch_restarts_total{reason="resumed"}')" -ge 3 ]; }
wait_until 5 resumed || true
tt_eq "counted as resumed" 3 \
	"$(metric "$port" 'tollgate_watch_restarts_total{reason="resumed"}')"
correct 6
tt_eq "an edit after the streams were closed is corrected" "$want" "$(replicas)"
if [ "$took" -lt 3000 ]; then
	tt_pass "within 3 s: $took ms"
else
	tt_fail "corrected only after $took ms"
fi

# 410 Gone: an ERROR event on the open streams and a compacted history, so
# resuming fails too: listed again, then watched again.
tc_curl DELETE /testcluster/requests >/dev/null
tt_run out rc tc_curl POST /testcluster/watches -d '{"end":"gone","compact":true}'
tt_eq "the server sent 410 on the three streams" '{"ended":3}' "$out"
gone() { [ "$(metric "$port" 'tollgate_watch_restarts_total{reason="gone"}')" -ge 3 ]; }
wait_until 10 gone || true
wait_until 10 open3 || true
tt_eq "the streams are open again after 410" 3 \
	"$(tc_curl GET /testcluster/watches | jq .open)"
tt_eq "counted as gone" 3 \
	"$(metric "$port" 'tollgate_watch_restarts_total{reason="gone"}')"
tt_eq "each watch listed again" 3 "$(lists)"
tt_contains "the log says why" "$(cat "$log")" "410 Expired: too old resource version"
correct 7
tt_eq "an edit after 410 is corrected" "$want" "$(replicas)"
if [ "$took" -lt 3000 ]; then
	tt_pass "within 3 s: $took ms"
else
	tt_fail "corrected only after $took ms"
fi
tt_eq "changes counted" 3 \
	"$(metric "$port" 'tollgate_watch_events_total{changed="true"}')"

# Again idle after all that: no LIST.
sleep 1
tc_curl DELETE /testcluster/requests >/dev/null
n=$(success)
curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
more() { [ "$(success)" -gt "$n" ]; }
wait_until 20 more || true
tt_eq "an idle cycle after the breaks sends no LIST either" 0 "$(lists)"

# The memo gone, the Namespace shop (whose text the watch dropped once the
# memo vouched for it) is read from the server; then remembered again.
nslists() {
	tc_curl GET /testcluster/requests |
		jq '[.requests[] | select(.method == "GET" and .query.limit != null and .query.watch == null and .path == "/api/v1/namespaces")] | length'
}
# A directory in its place: the memo can be neither read nor written, so
# it vouches for nothing in the next cycles either (as for an object whose
# drift is only reported): the objects read from the server are kept by
# the watch, and the next cycle needs no LIST.
rm "$TT_TMP/state-a/drift-memo"
mkdir "$TT_TMP/state-a/drift-memo"
tc_curl DELETE /testcluster/requests >/dev/null
n=$(success)
curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
wait_until 20 more || true
tt_eq "without the drift memo, the Namespaces are listed from the server" \
	1 "$(nslists)"
tc_curl DELETE /testcluster/requests >/dev/null
n=$(success)
curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
wait_until 20 more || true
tt_eq "... and kept by the watch: the next cycle, still without a memo, sends no LIST" \
	0 "$(lists)"
rmdir "$TT_TMP/state-a/drift-memo"
tc_curl DELETE /testcluster/requests >/dev/null
n=$(success)
curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
wait_until 20 more || true
tt_eq "... nor the next one, with the memo back" 0 "$(lists)"

agent_stop a
tt_eq "SIGTERM: exit 0 with the watches open" 0 "$AGENT_RC"
tc_stop_check
tt_done
