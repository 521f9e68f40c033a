#!/usr/bin/env bash
# tollgate run (issue 7): two agents against one cluster share one Lease.
# Only the holder cycles and writes; killing it (SIGKILL: no release)
# hands over after the lease duration; SIGTERM releases the Lease.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0 2.0 3.0
run_shop
run_web 1.0

cycles() { metric "$1" 'tollgate_cycles_total{result="success"}'; }

agent_start a --identity agent-a --poll-interval 1
agent_start b --identity agent-b --poll-interval 1
someone_ready() { ready "$AGENT_PORT_a" || ready "$AGENT_PORT_b"; }
if wait_until 40 someone_ready; then
	tt_pass "one agent completed a cycle"
else
	tt_fail "no agent became ready"
fi
leader=$(holder)
case $leader in
agent-a) follower=b lead=a ;;
agent-b) follower=a lead=b ;;
*) tt_fail "lease holder is [$leader]"; follower=b lead=a ;;
esac
lport_var=AGENT_PORT_$lead
fport_var=AGENT_PORT_$follower
lport=${!lport_var}
fport=${!fport_var}
tt_eq "the holder reports itself leader" 1 "$(metric "$lport" tollgate_leader)"
tt_eq "the other one does not" 0 "$(metric "$fport" tollgate_leader)"

# A new commit: only the leader cycles; the standby writes nothing.
run_web 2.0
web2() { [[ "$(web_image)" == *shop/web:2.0@* ]]; }
if wait_until 40 web2; then
	tt_pass "the leader applied the new commit"
else
	tt_fail "web 2.0 not applied: $(web_image)"
fi
tt_eq "the standby ran no cycle" 0 "$(cycles "$fport")"
tt_not_contains "the standby logged no cycle" \
	"$(cat "$TT_TMP/agent-$follower.log")" "cycle done"
tt_contains "the standby waits for the lease" \
	"$(cat "$TT_TMP/agent-$follower.log")" "waiting for the lease"
tt_eq "the standby is not ready" 503 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fport/readyz")"

# Kill the leader without a chance to release: the standby takes over once
# the Lease has not been renewed for its duration, and deploys.
lpid_var=AGENT_PID_$lead
kill -KILL "${!lpid_var}"
run_web 3.0
took_over() { [ "$(holder)" = "agent-$follower" ]; }
if wait_until 45 took_over; then
	tt_pass "the standby took the lease after the leader died"
else
	tt_fail "lease holder still [$(holder)]"
fi
web3() { [[ "$(web_image)" == *shop/web:3.0@* ]]; }
if wait_until 30 web3; then
	tt_pass "the new leader applied the next commit"
else
	tt_fail "web 3.0 not applied: $(web_image)"
fi
tt_eq "the new leader reports it" 1 "$(metric "$fport" tollgate_leader)"
tt_eq "leaseTransitions counts the handover" 1 \
	"$(kc get lease tollgate-leader -n tollgate-system -o jsonpath='{.spec.leaseTransitions}')"

agent_stop "$follower"
tt_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
tt_eq "SIGTERM released the lease" "" "$(holder)"
tc_stop_check
tt_done
