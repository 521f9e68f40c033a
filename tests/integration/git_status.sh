#!/usr/bin/env bash
# Status commits over git:// (git daemon): the first status commit and its
# note seen from a fresh clone with git log, no commit when nothing
# changed, a push racing another writer (rebuilt on the new tip, both
# commits kept), and no history shared with the deploy branch.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/git.sh"

TOOL=$TG_BUILD_DIR/tests/tools/tg_git
base=$TT_TMP/srv
tt_git_bare "$base/deploy.git"
work=$TT_TMP/work
git clone -q "$base/deploy.git" "$work" 2>/dev/null
mkdir -p "$work/apps/payments"
printf 'kind: ConfigMap\n' >"$work/apps/payments/cm.yaml"
tt_git_commit "$work" "deploy payments"
head=$(git -C "$work" rev-parse HEAD)
tt_start_git_daemon "$base"
url=$TT_GIT_URL/deploy.git
state=$TT_TMP/state
A=sha256:$(printf 'a%.0s' {1..64})
B=sha256:$(printf 'b%.0s' {1..64})

# status_doc FILE TIME WEB_VERDICT: payments blocked (1 of 2), web as given.
status_doc() {
	cat >"$1" <<JSON
{"sourceCommit": "$head", "sourceBranch": "main", "time": "$2",
 "units": {
  "payments": {"verdict": "blocked", "images": [
    {"ref": "registry.example.com/pay:1.2", "digest": "$A", "verdict": "blocked",
     "checks": [{"name": "signature", "passed": false,
                 "message": "signature: 0 of 1 signatures verify with key \"release\""},
                {"name": "sbom", "passed": true, "message": "spdx"}]},
    {"ref": "registry.example.com/side:1", "digest": "$B", "verdict": "allowed"}]},
  "web": {"verdict": "$3", "images": [
    {"ref": "registry.example.com/web:2", "digest": "$B", "verdict": "allowed"}]}}}
JSON
}

status_doc "$TT_TMP/s1.json" 2026-11-23T04:50:00Z applied
tt_run out rc "$TOOL" status --url "$url" --branch main --state "$state" --doc "$TT_TMP/s1.json"
tt_eq "first status published" 0 "$rc"
tt_contains "first status committed and pushed" "$out" "committed yes pushed yes attempts 1"

check=$TT_TMP/check
git clone -q "$url" "$check" 2>/dev/null
git -C "$check" fetch -q origin 'refs/notes/*:refs/notes/*' 'refs/heads/tollgate/status:refs/remotes/origin/tollgate/status'
tt_eq "subject" \
	"blocked: payments at ${head:0:7} (1 of 2 images failed verification); applied: web (1 image verified)" \
	"$(git -C "$check" log -1 --format=%s origin/tollgate/status)"
body=$(git -C "$check" log -1 --format=%b origin/tollgate/status)
tt_contains "body lists the blocked image" "$body" \
	"- payments: registry.example.com/pay:1.2@$A (blocked)"
tt_contains "body gives its reason" "$body" \
	'    signature: 0 of 1 signatures verify with key "release"'
tt_not_contains "passing checks are not reasons" "$body" "spdx"
tt_eq "Source-Commit trailer" "$head" \
	"$(git -C "$check" log -1 --format='%(trailers:key=Source-Commit,valueonly)' origin/tollgate/status)"
tt_eq "Tollgate-Unit trailers" "payments
web" "$(git -C "$check" log -1 --format='%(trailers:key=Tollgate-Unit,valueonly)' origin/tollgate/status)"
tt_eq "Tollgate-Verdict trailers" "blocked
applied" "$(git -C "$check" log -1 --format='%(trailers:key=Tollgate-Verdict,valueonly)' origin/tollgate/status)"
notes=$(git -C "$check" log -1 --notes=tollgate main)
tt_contains "git log --notes=tollgate shows the verdicts" "$notes" "Notes (tollgate):
    payments: blocked (1 of 2 images failed verification)
    web: applied (1 image verified)"
tt_contains "STATUS.md in the status tree" \
	"$(git -C "$check" show origin/tollgate/status:STATUS.md)" "| payments | **blocked** | 2 | 1 |"
tt_contains "units/payments.json in the status tree" \
	"$(git -C "$check" show origin/tollgate/status:units/payments.json)" '"unit": "payments"'
tt_eq "status.json names the source commit" "$head" \
	"$(git -C "$check" show origin/tollgate/status:status.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sourceCommit"])')"
set +e
git -C "$check" merge-base main origin/tollgate/status >/dev/null 2>&1
mb=$?
set -e
tt_eq "status branch shares no history with main (merge-base fails)" 1 "$mb"
tt_eq "status branch starts with a root commit" 1 \
	"$(git -C "$check" rev-list --max-parents=0 origin/tollgate/status | wc -l)"

# Same status later: nothing of substance changed, no commit.
status_doc "$TT_TMP/s2.json" 2026-11-23T05:50:00Z unchanged
tt_run out rc "$TOOL" status --url "$url" --branch main --state "$state" --doc "$TT_TMP/s2.json"
tt_contains "no commit when only the time changed" "$out" "committed no"
tt_eq "still one status commit" 1 "$(git -C "$base/deploy.git" rev-list --count tollgate/status)"

# Another clone pushes to the status branch just before tollgate does.
other=$TT_TMP/other
race="git clone -q -b tollgate/status $url $other 2>/dev/null && echo hi >$other/NOTE.txt && git -C $other add NOTE.txt && git -C $other commit -q -m 'reviewer note' && git -C $other push -q origin tollgate/status 2>/dev/null"
status_doc "$TT_TMP/s3.json" 2026-11-23T06:00:00Z failed
tt_run out rc "$TOOL" status --url "$url" --branch main --state "$state" --doc "$TT_TMP/s3.json" --race-cmd "$race"
tt_eq "racing push: succeeds" 0 "$rc"
tt_contains "racing push: rebuilt and pushed on the second attempt" "$out" "committed yes pushed yes attempts 2"
tt_eq "racing push: both commits kept, ours on top" "failed: web at ${head:0:7}
reviewer note
blocked: payments at ${head:0:7} (1 of 2 images failed verification); applied: web (1 image verified)" \
	"$(git -C "$base/deploy.git" log --format=%s tollgate/status)"
tt_eq "racing push: linear history" "" \
	"$(git -C "$base/deploy.git" rev-list --min-parents=2 tollgate/status)"
tt_contains "racing push: note updated" \
	"$(git -C "$base/deploy.git" notes --ref=tollgate show main)" "web: failed"

tt_done
