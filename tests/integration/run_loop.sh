#!/usr/bin/env bash
# tollgate run (issue 7): cycles at the interval, an early cycle when the
# branch moves (remote ref check) and on POST /reconcile, /healthz,
# /readyz, /metrics, and a clean stop on SIGTERM.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
# run_world sets an interval long enough that only an early cycle can
# explain a change.
run_world 1.0 2.0
world_image pay/api:1.0 >/dev/null # never signed
run_shop
run_web 1.0
c1=$(git -C "$W_WORK" rev-parse HEAD)

agent_start a --poll-interval 1
port=$AGENT_PORT_a
tt_eq "the agent took the lease" "leader" \
	"$(wait_until 20 grep -q 'leader: this agent holds the lease' "$TT_TMP/agent-a.log" && echo leader)"
tt_eq "/healthz answers ok" ok "$(curl -sf "http://127.0.0.1:$port/healthz")"
if wait_until 40 ready "$port"; then
	tt_pass "/readyz turns 200 after the first successful cycle"
else
	tt_fail "/readyz never turned 200"
fi
tt_contains "the first cycle applied web 1.0, pinned" "$(web_image)" \
	"shop/web:1.0@sha256:"
tt_eq "one successful cycle" 1 \
	"$(metric "$port" 'tollgate_cycles_total{result="success"}')"
tt_eq "source_info names the commit" 1 \
	"$(metric "$port" "tollgate_source_info{url=\"$TT_GIT_URL/deploy.git\",branch=\"main\",commit=\"$c1\"}")"
tt_eq "units by verdict" 1 \
	"$(metric "$port" 'tollgate_units{verdict="applied"}')"
tt_eq "images verified by verdict" 1 \
	"$(metric "$port" 'tollgate_images_verified_total{verdict="allowed"}')"
tt_eq "the histogram counted the cycle" 1 \
	"$(metric "$port" 'tollgate_cycle_duration_seconds_count')"
tt_eq "the +Inf bucket equals the count" 1 \
	"$(metric "$port" 'tollgate_cycle_duration_seconds_bucket{le="+Inf"}')"
last=$(metric "$port" tollgate_last_success_timestamp_seconds)
now=$(date +%s)
if [ "$last" -gt $((now - 120)) ] && [ "$last" -le "$now" ]; then
	tt_pass "last successful cycle time is recent"
else
	tt_fail "last successful cycle time: $last (now $now)"
fi

# 1. A new commit: the ref check starts a cycle long before the 1h interval.
run_web 2.0
c2=$(git -C "$W_WORK" rev-parse HEAD)
web_is_2() { [[ "$(web_image)" == *"shop/web:2.0@sha256:"* ]]; }
if wait_until 40 web_is_2; then
	tt_pass "a pushed commit is applied by an early cycle"
else
	tt_fail "web 2.0 never applied: $(web_image)"
fi
has_c2() { [ "$(metric "$port" "tollgate_source_info{url=\"$TT_GIT_URL/deploy.git\",branch=\"main\",commit=\"$c2\"}")" = 1 ]; }
wait_until 10 has_c2 || true
tt_eq "source_info follows the new commit" 1 \
	"$(metric "$port" "tollgate_source_info{url=\"$TT_GIT_URL/deploy.git\",branch=\"main\",commit=\"$c2\"}")"
tt_contains "the log has one line per unit with unit, commit and image" \
	"$(cat "$TT_TMP/agent-a.log")" "unit=shop verdict=applied commit=$c2"

# 2. A blocked unit is counted; POST /reconcile starts a cycle.
mkdir -p "$P/payments"
world_deployment shop api "$REGISTRY/pay/api:1.0" >"$P/payments/api.yaml"
world_commit "unsigned payments"
blocked_1() { [ "$(metric "$port" 'tollgate_units{verdict="blocked"}')" = 1 ]; }
if wait_until 40 blocked_1; then
	tt_pass "a blocked unit shows in tollgate_units"
else
	tt_fail "blocked unit never counted"
fi
tt_eq "a blocked image is counted" 1 \
	"$(metric "$port" 'tollgate_images_verified_total{verdict="blocked"}')"
before=$(metric "$port" 'tollgate_cycles_total{result="success"}')
tt_eq "GET /reconcile is refused" 405 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/reconcile")"
tt_eq "POST /reconcile is accepted" 202 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/reconcile")"
more_cycles() { [ "$(metric "$port" 'tollgate_cycles_total{result="success"}')" -gt "$before" ]; }
if wait_until 40 more_cycles; then
	tt_pass "POST /reconcile runs a cycle"
else
	tt_fail "no cycle after POST /reconcile"
fi
tt_eq "unknown paths are 404" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")"

# 3. SIGTERM: exit 0, nothing printed as an error.
agent_stop a
tt_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
tt_eq "the lease is released on SIGTERM" "" \
	"$(kc get lease tollgate-leader -n tollgate-system -o jsonpath='{.spec.holderIdentity}')"
tt_contains "the stop is logged" "$(cat "$TT_TMP/agent-a.log")" \
	"tollgate run stopping"
tt_not_contains "the token of the cluster is in no log line" \
	"$(cat "$TT_TMP/agent-a.log")" "$TC_TOKEN"

# 4. Bad flags and a bad listen address.
tt_run OUT RC "$TG_BIN" run --config "$W_CONFIG" --poll-interval x
tt_eq "bad --poll-interval: usage exit 2" 2 "$RC"
tt_contains "the message names the flag" "$OUT" "--poll-interval"
tt_run OUT RC "$TG_BIN" run --config "$W_CONFIG" --listen-addr nohost:x
tt_eq "bad --listen-addr: exit 1" 1 "$RC"
tt_contains "the message names the address" "$OUT" '"nohost:x"'

tc_stop_check
tt_done
