#!/usr/bin/env bash
# tests/testcluster's watches, driven by the real kubectl -w and by curl:
# events of a change, resume from a resourceVersion, bookmarks, and the
# test controls that break streams: POST /testcluster/watches ends every
# open stream ("close"), or sends ERROR 410 Expired first ("gone") after
# compacting the history, so resuming from before answers 410 as well.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/testcluster.sh"

tc_start --bookmark-seconds 1
export KUBECONFIG=$TC_KUBECONFIG
D=$TT_TMP/manifests
mkdir -p "$D"
cat >"$D/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example/web:1.0
EOF
kubectl create -f "$D/web.yaml" >/dev/null

# Wait until FILE contains TEXT (5 s at most).
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

DEPLOY=/apis/apps/v1/namespaces/default/deployments

# The resourceVersion of the object at PATH.
rv() {
	tc_curl GET "$1" | jq -r .metadata.resourceVersion
}

# A watch on Deployments in default with QUERY (which should end it).
raw_watch() {
	tc_curl GET "$DEPLOY?watch=1&$1" --max-time 5
}

open_watches() {
	tc_curl GET /testcluster/watches | jq -r .open
}

# Start `kubectl get deployments -w` writing to FILE; its exit code goes
# to FILE.rc when it ends.
watch_start() {
	(
		set +e
		timeout 15 kubectl get deployments -w --output-watch-events \
			>"$1" 2>&1
		echo $? >"$1.rc"
	) >/dev/null 2>&1 &
	WATCH_PID=$!
	wait_for "$1" "ADDED"
}

# 1. A stream shows the change; "close" ends it, kubectl exits 0. ----------
w1=$TT_TMP/w1.out
watch_start "$w1"
tt_eq "one watch open while kubectl -w runs" 1 "$(open_watches)"
kubectl patch deployment web -p '{"spec":{"replicas":3}}' >/dev/null
wait_for "$w1" "MODIFIED" || true
tt_contains "kubectl -w shows the patch" "$(cat "$w1")" "MODIFIED"
tt_run out rc tc_curl POST /testcluster/watches -d '{"end":"close"}'
tt_eq "close answers the streams it ended" '{"ended":1}' "$out"
wait_for "$w1.rc" "" || true
tt_eq "kubectl -w ends normally when the server closes the stream" \
	0 "$(cat "$w1.rc" 2>/dev/null)"
tt_eq "no watch open after close" 0 "$(open_watches)"

# 2. Resume from a resourceVersion replays what came after it. -------------
v=$(rv $DEPLOY/web)
kubectl label deployment web tier=front >/dev/null
tt_run out rc raw_watch "resourceVersion=$v&timeoutSeconds=1"
tt_eq "resumed watch exits 0" 0 "$rc"
tt_eq "resume replays the label change as MODIFIED" "MODIFIED front" \
	"$(head -1 <<<"$out" | jq -r '.type + " " + .object.metadata.labels.tier')"

# 3. Bookmarks when asked, with the current resourceVersion. ---------------
v=$(rv $DEPLOY/web)
now=$(tc_curl POST /api/v1/namespaces -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}}' |
	jq -r .metadata.resourceVersion)
raw_watch "resourceVersion=$v&timeoutSeconds=2" >"$TT_TMP/plain.out" &
plain=$!
tt_run out rc raw_watch "allowWatchBookmarks=true&resourceVersion=$v&timeoutSeconds=3"
tt_eq "bookmark watch exits 0" 0 "$rc"
tt_eq "a quiet watch gets a BOOKMARK: current resourceVersion (other kinds count), its kind" \
	"BOOKMARK $now apps/v1 Deployment" \
	"$(head -1 <<<"$out" | jq -r '.type + " " + .object.metadata.resourceVersion + " " + .object.apiVersion + " " + .object.kind')"
wait "$plain"
tt_eq "no bookmark unless asked" "" "$(cat "$TT_TMP/plain.out")"

# 4. "gone": ERROR 410 Expired on the open stream, and compaction. ---------
w2=$TT_TMP/w2.out
watch_start "$w2"
old=$(rv $DEPLOY/web)
kubectl patch deployment web -p '{"spec":{"replicas":4}}' >/dev/null
tt_run out rc tc_curl POST /testcluster/watches \
	-d '{"end":"gone","compact":true}'
tt_eq "gone answers the streams it ended" '{"ended":1}' "$out"
wait_for "$w2" "Expired" || true
tt_contains "kubectl -w shows the ERROR event" "$(cat "$w2")" \
	"Expired   too old resource version"
wait_for "$w2.rc" "" || true
tt_eq "no watch open after gone" 0 "$(open_watches)"
tt_run out rc raw_watch "resourceVersion=$old"
tt_eq "resume from before the compaction: one ERROR event, 410 Expired, then the end" \
	"1 ERROR 410 Expired" \
	"$(wc -l <<<"$out") $(jq -r '"\(.type) \(.object.code) \(.object.reason)"' <<<"$out")"
now=$(rv $DEPLOY/web)
tc_curl PATCH $DEPLOY/web -H 'Content-Type: application/merge-patch+json' \
	-d '{"spec":{"replicas":5}}' >/dev/null
tt_run out rc raw_watch "resourceVersion=$now&timeoutSeconds=1"
tt_eq "resume from after the compaction works" 5 \
	"$(head -1 <<<"$out" | jq -r .object.spec.replicas)"
w3=$TT_TMP/w3.out
watch_start "$w3"
tt_eq "a new kubectl -w after gone lists again" 1 "$(open_watches)"
tt_contains "and shows the object" "$(cat "$w3")" "ADDED"

tt_run out rc tc_curl POST /testcluster/watches -d '{"end":"never"}'
tt_contains "a bad control is refused" "$out" '"code":400'

# 5. A watch whose client went away ends within a second or two, though
# no event comes for it: kube-apiserver ends it when its request is
# cancelled. (libmicrohttpd sees a closed socket only when it writes.)
tc_curl POST /testcluster/watches -d '{"end":"close"}' >/dev/null
wait_for "$w3.rc" "" || true
# curl itself in the background (not a subshell), so that kill ends it
curl -sS -H "Authorization: Bearer $TC_TOKEN" --max-time 60 -o /dev/null \
	"$TC_URL$DEPLOY?watch=1&labelSelector=app%3Dnone&timeoutSeconds=60" &
quiet=$!
for ((i = 0; i < 100; i++)); do
	[ "$(open_watches)" = 1 ] && break
	sleep 0.05
done
tt_eq "a watch with nothing to send is open" 1 "$(open_watches)"
kill "$quiet"
wait "$quiet" 2>/dev/null || true
for ((i = 0; i < 60; i++)); do
	[ "$(open_watches)" = 0 ] && break
	sleep 0.05
done
tt_eq "its client gone, the server ends it within 3 s" 0 "$(open_watches)"

tc_stop_check
tt_done
