#!/usr/bin/env bash
# tollgate run (issue 13): the policy is read again when it changes, without
# a restart. A policy that trusts a second key lets a unit signed with it
# through; a broken policy keeps the previous one in force and is reported
# on /readyz, in the metrics and in the log each cycle until it loads
# again; a key file the policy names is watched too (rotating it blocks
# what only the old key signed: allowed becomes blocked).
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0

# A second signer, the payments team: pay/api images are signed by it only.
mkdir -p "$TT_TMP/keys"
TEAM_KEY=$TT_TMP/team.key
openssl ecparam -name prime256v1 -genkey -noout -out "$TEAM_KEY" 2>/dev/null
openssl ec -in "$TEAM_KEY" -pubout -out "$TT_TMP/keys/team.pub" 2>/dev/null
team_image() { # TAG: push pay/api:TAG signed by the team; prints the digest
	world_image "pay/api:$1"
	python3 "$TG_IMAGE" sign "$REGISTRY/pay/api:$1" --key "$TEAM_KEY" >/dev/null
}
api1=$(team_image 1.0)
api2=$(team_image 2.0)

cp "$W_POLICY" "$TT_TMP/policy-release-only.yaml"
# put_policy FILE: replace the policy the way a ConfigMap volume does (a
# new file renamed over the old one).
put_policy() {
	cp "$1" "$W_POLICY.new"
	mv "$W_POLICY.new" "$W_POLICY"
}
cat >"$TT_TMP/policy-team.yaml" <<POLICY
apiVersion: tollgate.dev/v1alpha1
kind: Policy
registries:
  allowed: [$REGISTRY/]
rules:
  - name: local
    images: ["$REGISTRY/**"]
    mode: enforce
    signatures:
      authorities:
        - name: release-key
          key: $W_PUB
        - name: team-key
          key: keys/team.pub
POLICY
# Relative key paths resolve against the policy's directory.
[ "$(dirname "$W_POLICY")" = "$TT_TMP" ] || tt_fail "W_POLICY is not in TT_TMP"
sed 's/mode: enforce$/mode: enforcing/' "$TT_TMP/policy-team.yaml" \
	>"$TT_TMP/policy-broken.yaml"

run_shop
mkdir -p "$P/payments"
world_deployment shop web "$REGISTRY/shop/web:1.0" >"$P/shop/web.yaml"
world_deployment shop api "$REGISTRY/pay/api:1.0" >"$P/payments/api.yaml"
world_commit "web and api"

agent_start a --poll-interval 1
port=$AGENT_PORT_a
pid=$AGENT_PID_a
log() { cat "$TT_TMP/agent-a.log"; }
status_json() {
	git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json 2>/dev/null
}
verdict_of() { # UNIT: its verdict in the last status commit
	status_json | python3 -c 'import json, sys
print(json.load(sys.stdin)["units"][sys.argv[1]]["verdict"])' "$1" 2>/dev/null
}
image_of() {
	kc get deployment "$1" -n shop \
		-o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null
}
readyz() { curl -s "http://127.0.0.1:$port/readyz"; }
readyz_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz"; }
cycle_now() {
	agent_cycle_now "$port" 40 || tt_fail "no cycle after POST /reconcile"
}

if wait_until 40 ready "$port"; then
	tt_pass "first cycle done"
else
	tt_fail "the agent never became ready: $(tail -5 "$TT_TMP/agent-a.log")"
fi
tt_eq "web (release key) is applied" "$REGISTRY/shop/web:1.0@${RUN_DIGEST[1.0]}" "$(image_of web)"
tt_eq "api (team key, not trusted yet) is not applied" "" "$(image_of api)"
tt_eq "payments is blocked" blocked "$(verdict_of payments)"
tt_eq "no reload error yet" 0 "$(metric "$port" tollgate_policy_reload_errors_total)"
tt_eq "the policy is not stale" 0 "$(metric "$port" tollgate_policy_stale)"

# 1. The policy trusts the team's key: api is applied without a restart
# and without a new commit (the poll sees the change and starts a cycle).
put_policy "$TT_TMP/policy-team.yaml"
api_is() { [ "$(image_of api)" = "$REGISTRY/pay/api:$1@$2" ]; }
if wait_until 40 api_is 1.0 "$api1"; then
	tt_pass "the changed policy is applied by the running agent"
else
	tt_fail "api never applied: $(image_of api); $(log | grep -i policy | tail -3)"
fi
tt_eq "same process (no restart)" "running 1" \
	"$(kill -0 "$pid" && echo running) $(log | grep -c 'tollgate run started')"
tt_contains "the reload is logged with the policy file" "$(log)" \
	"policy reloaded policy=$W_POLICY hash=sha256:"
tt_contains "the poll started the cycle" "$(log)" "policy changed: cycle now"
tt_eq "a good reload is no error" 0 "$(metric "$port" tollgate_policy_reload_errors_total)"
# The status commit follows the apply: wait for it, not just the cluster.
payments_ok() { case "$(verdict_of payments)" in applied|unchanged) return 0 ;; esac; return 1; }
if wait_until 40 payments_ok; then
	tt_pass "payments is applied"
else
	tt_fail "payments is applied: verdict $(verdict_of payments)"
fi

# 2. A broken policy: the previous one (trusting the team key) stays in
# force, and the problem is reported until it is fixed.
put_policy "$TT_TMP/policy-broken.yaml"
stale() { [ "$(metric "$port" tollgate_policy_stale)" = 1 ]; }
if wait_until 40 stale; then
	tt_pass "a broken policy is reported stale in the metrics"
else
	tt_fail "tollgate_policy_stale never 1: $(log | tail -3)"
fi
tt_eq "the failed reload is counted" 1 "$(metric "$port" tollgate_policy_reload_errors_total)"
tt_eq "/readyz turns 503 while the policy is stale" 503 "$(readyz_code)"
body=$(readyz)
tt_contains "/readyz names the file" "$body" "policy stale: $W_POLICY does not load"
tt_contains "/readyz gives the error with its line" "$body" "$W_POLICY:8:"
tt_contains "/readyz gives the error" "$body" "enforcing"
tt_contains "/readyz says the previous policy stays" "$body" "stays in force"
tt_eq "/healthz stays ok (a restart would not load the policy)" ok \
	"$(curl -sf "http://127.0.0.1:$port/healthz")"
tt_contains "the log says so" "$(log)" \
	"policy stale: it does not load, the previous policy stays in force policy=$W_POLICY error=\"$W_POLICY:8:5: rules[0].mode: unknown value"

# The previous policy is still in force: a new api signed by the team key
# is applied.
world_deployment shop api "$REGISTRY/pay/api:2.0" >"$P/payments/api.yaml"
world_commit "api 2.0"
if wait_until 40 api_is 2.0 "$api2"; then
	tt_pass "with a stale policy the previous policy stays in force"
else
	tt_fail "api 2.0 never applied: $(image_of api)"
fi
n1=$(log | grep -c "policy stale: it does not load")
cycle_now
cycle_now
n2=$(log | grep -c "policy stale: it does not load")
if [ "$n2" -ge $((n1 + 2)) ]; then
	tt_pass "the stale policy is logged each cycle"
else
	tt_fail "stale log lines: $n1 then $n2"
fi
tt_eq "the same broken policy is counted once" 1 \
	"$(metric "$port" tollgate_policy_reload_errors_total)"
tt_eq "still stale" 1 "$(metric "$port" tollgate_policy_stale)"

# 3. Fixed: the stale state clears at the next cycle.
put_policy "$TT_TMP/policy-team.yaml"
not_stale() { [ "$(metric "$port" tollgate_policy_stale)" = 0 ]; }
if wait_until 40 not_stale; then
	tt_pass "a policy that loads again clears the stale state"
else
	tt_fail "still stale: $(readyz)"
fi
tt_eq "/readyz 200 again" 200 "$(readyz_code)"
tt_eq "/readyz body" ready "$(readyz)"

# 4. A key file the policy names is watched: the team key is rotated (the
# policy file is untouched), so api 2.0, signed by the old key, is blocked
# now (the running deployment stays as it is).
reloads=$(log | grep -c "policy reloaded")
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
	openssl ec -pubout -out "$TT_TMP/keys/team.pub.new" 2>/dev/null
mv "$TT_TMP/keys/team.pub.new" "$TT_TMP/keys/team.pub"
reloaded_again() { [ "$(log | grep -c "policy reloaded")" -gt "$reloads" ]; }
if wait_until 40 reloaded_again; then
	tt_pass "a changed key file reloads the policy"
else
	tt_fail "no reload after the key file changed"
fi
cycle_now
tt_eq "payments is blocked with the rotated key" blocked "$(verdict_of payments)"
tt_eq "the deployed api is left running" "$REGISTRY/pay/api:2.0@$api2" "$(image_of api)"

tt_eq "one failed reload in all" 1 "$(metric "$port" tollgate_policy_reload_errors_total)"

agent_stop a
tt_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
tc_stop_check
tt_done
