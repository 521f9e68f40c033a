#!/usr/bin/env bash
# tollgate run (issue 7): SIGTERM in the middle of a cycle. The cluster
# holds the apply requests for a few seconds; SIGTERM arrives meanwhile.
# The cycle that already verified goes on through apply and status (no
# half-done cycle), then the agent releases the Lease and exits 0. A
# SIGTERM while idle stops at once; so does SIGINT.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0 2.0
d2=${RUN_DIGEST[2.0]}
run_shop
run_web 1.0

agent_start a --identity agent-a --poll-interval 1
if wait_until 40 ready "$AGENT_PORT_a"; then
	tt_pass "first cycle done"
else
	tt_fail "never ready"
fi

# The next Deployment writes hang 4 s each (dry run and apply).
tc_curl POST /testcluster/faults \
	-d '{"method":"PATCH","path":"/apis/apps/v1/","count":2,"hangSeconds":4}' \
	>/dev/null
run_web 2.0
c2=$(git -C "$W_WORK" rev-parse HEAD)
in_cycle() { grep -q "branch moved: cycle now" "$TT_TMP/agent-a.log"; }
wait_until 30 in_cycle || tt_fail "the agent did not start a cycle"
sleep 2 # inside the held apply
agent_stop a
tt_eq "SIGTERM mid-cycle: exit 0" 0 "$AGENT_RC"
log=$(cat "$TT_TMP/agent-a.log")
tt_contains "the started cycle was finished" "$log" \
	"cycle result commit=$c2 applied=1"
tt_contains "SIGTERM arrived during that cycle" "$log" \
	"stop requested during the cycle commit=$c2 cycle=finished"
tt_eq "the verified digest was applied" "$REGISTRY/shop/web:2.0@$d2" "$(web_image)"
tt_eq "the lease was released" "" "$(holder)"
after=$(sed -n '/cycle result commit='"$c2"'/,$p' "$TT_TMP/agent-a.log")
tt_contains "the agent stopped right after that cycle" "$after" \
	"tollgate run stopping"

# SIGINT while idle; POST /reconcile with a shared secret.
printf 'hook-secret-5521\n' >"$TT_TMP/reconcile-secret"
agent_start b --identity agent-b --poll-interval 1 \
	--reconcile-secret-file "$TT_TMP/reconcile-secret"
wait_until 40 ready "$AGENT_PORT_b" || tt_fail "b never ready"
rec() { curl -s -o /dev/null -w '%{http_code}' -X POST "$@" \
	"http://127.0.0.1:$AGENT_PORT_b/reconcile"; }
tt_eq "POST /reconcile without the secret: 401" 401 "$(rec)"
tt_eq "a wrong bearer token: 401" 401 \
	"$(rec -H 'Authorization: Bearer hook-secret-5520')"
tt_eq "the right bearer token: 202" 202 \
	"$(rec -H 'Authorization: Bearer hook-secret-5521')"
tt_eq "GitLab's X-Gitlab-Token: 202" 202 \
	"$(rec -H 'X-Gitlab-Token: hook-secret-5521')"
body='{"ref":"refs/heads/main"}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac hook-secret-5521 | sed 's/.*= //')
tt_eq "GitHub's X-Hub-Signature-256 over the body: 202" 202 \
	"$(rec -H "X-Hub-Signature-256: sha256=$sig" -d "$body")"
tt_eq "a signature of another body: 401" 401 \
	"$(rec -H "X-Hub-Signature-256: sha256=$sig" -d '{"ref":"x"}')"
tt_not_contains "the secret is in no log" "$(cat "$TT_TMP/agent-b.log")" \
	"hook-secret-5521"
kill -INT "$AGENT_PID_b"
set +e
wait "$AGENT_PID_b"
rc=$?
set -e
tt_eq "SIGINT: exit 0" 0 "$rc"
tt_eq "b released the lease" "" "$(holder)"

tc_stop_check
tt_done
