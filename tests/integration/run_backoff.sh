#!/usr/bin/env bash
# tollgate run (issue 7): a Git failure does not stop the agent. With the
# git daemon down, cycles fail, are reported (log, metrics, /readyz 503)
# and retried with backoff; once the daemon is back the next retry succeeds.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0
gitd=$TT_LAST_PID # the git daemon: run_world starts no process after it
run_shop
run_web 1.0

kill "$gitd"
wait "$gitd" 2>/dev/null || true
agent_start a --poll-interval 1
port=$AGENT_PORT_a
failed() { [ "$(metric "$port" 'tollgate_cycles_total{result="error"}')" -ge 2 ]; }
if wait_until 40 failed; then
	tt_pass "failed cycles are counted and retried"
else
	tt_fail "no failed cycles: $(tail -3 "$TT_TMP/agent-a.log")"
fi
log=$(cat "$TT_TMP/agent-a.log")
tt_contains "the failure is logged with its cause" "$log" "cycle failed"
tt_contains "the log says when it retries" "$log" "retry_in_s=2"
tt_contains "the backoff doubles" "$log" "retry_in_s=4"
tt_eq "the agent is alive" ok "$(curl -sf "http://127.0.0.1:$port/healthz")"
tt_eq "but not ready" 503 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")"

# The daemon comes back on the same port: the next retry succeeds.
tt_bg "$TT_TMP/git-daemon2.log" git daemon --reuseaddr --listen=127.0.0.1 \
	--port="$TT_GIT_PORT" --base-path="$TT_TMP/git" --export-all \
	--enable=receive-pack --informative-errors "$TT_TMP/git"
tt_wait_port "$TT_GIT_PORT"
if wait_until 45 ready "$port"; then
	tt_pass "the agent recovers once Git is back"
else
	tt_fail "never recovered: $(tail -3 "$TT_TMP/agent-a.log")"
fi
tt_contains "and deploys" "$(kc get deployment web -n shop \
	-o jsonpath='{.spec.template.spec.containers[0].image}')" "shop/web:1.0@sha256:"

agent_stop a
tt_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
tc_stop_check
tt_done
