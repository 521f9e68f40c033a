#!/usr/bin/env bash
# tollgate run (issue 7): an agent that loses its Lease stops writing at
# once. Another holder is written into the Lease (as a second agent would);
# a new commit is not applied while that holder's Lease is fresh; once it
# expires the agent takes the Lease back and only then writes (checked in
# the test cluster's request log).
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0 2.0
run_shop
run_web 1.0

agent_start a --identity agent-a --poll-interval 1
wait_until 40 ready "$AGENT_PORT_a" || tt_fail "never ready"
tt_eq "agent-a holds the lease" agent-a "$(holder)"

# Another holder takes the Lease.
tc_curl DELETE /testcluster/requests >/dev/null
kc patch lease tollgate-leader -n tollgate-system --type merge \
	-p '{"spec":{"holderIdentity":"intruder"}}' >/dev/null
lost() { grep -q "not the leader any more" "$TT_TMP/agent-a.log"; }
if wait_until 20 lost; then
	tt_pass "the agent notices it lost the lease"
else
	tt_fail "no loss logged"
fi
tt_eq "it reports it is not the leader" 0 "$(metric "$AGENT_PORT_a" tollgate_leader)"
run_web 2.0

# The intruder never renews: after the lease duration agent-a takes over.
back() { [ "$(holder)" = agent-a ]; }
if wait_until 45 back; then
	tt_pass "the agent takes the lease back once it expired"
else
	tt_fail "lease holder: $(holder)"
fi
web2() { [[ "$(web_image)" == *shop/web:2.0@* ]]; }
if wait_until 30 web2; then
	tt_pass "then it applies the new commit"
else
	tt_fail "web 2.0 not applied: $(web_image)"
fi
tt_contains "it logged taking the lease again" "$(cat "$TT_TMP/agent-a.log")" \
	"lease acquired lease=tollgate-leader identity=agent-a"
# In the request log: no write but the Lease's before agent-a's PUT that
# took it back.
order=$(tc_curl GET /testcluster/requests | python3 -c '
import json, sys
reqs = json.load(sys.stdin)["requests"]
writes = [(i, r) for i, r in enumerate(reqs)
          if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]
lease = [i for i, r in writes if "/leases" in r["path"]]
# the first lease write after the intruder patch is the intruder (PATCH);
# agent-a takes it back with a successful PUT
takeback = next(i for i, r in writes if "/leases" in r["path"]
                and r["method"] == "PUT" and r["status"] == 200)
early = [r["method"] + " " + r["path"] for i, r in writes
         if i < takeback and "/leases" not in r["path"]]
late = [r for i, r in writes if i > takeback and "/deployments" in r["path"]]
print("early=%d late=%s" % (len(early), "yes" if late else "no"))')
tt_eq "no write before the lease was taken back; the apply after" \
	"early=0 late=yes" "$order"

agent_stop a
tt_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
tc_stop_check
tt_done
