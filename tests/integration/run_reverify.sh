#!/usr/bin/env bash
# tollgate run (issue 7): re-verification of deployed digests. A newer scan
# attestation with a critical CVE turns an allowed, deployed digest into a
# violation (status branch, metric, log); an exception that expires in the
# running agent (its clock moved by TOLLGATE_TEST_CLOCK_FILE once it is
# ready) does the same. Nothing is removed from the cluster.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0
web=${RUN_DIGEST[1.0]}

# scan FILE SEVERITY|none FINISHED: a Trivy-style vuln/v1 predicate.
scan() {
	python3 - "$@" <<'PY'
import json, sys
path, sev, finished = sys.argv[1:4]
vulns = [] if sev == "none" else [{
    "VulnerabilityID": "CVE-2026-0001", "PkgName": "openssl",
    "InstalledVersion": "3.0.1", "FixedVersion": "3.0.2",
    "Severity": sev, "Title": "a test vulnerability"}]
pred = {
    "invocation": {"parameters": None, "uri": "", "event_id": "",
                   "builder.id": ""},
    "scanner": {"uri": "pkg:github/aquasecurity/trivy@v0.57.1",
                "version": "0.57.1", "db": {"uri": "", "version": ""},
                "result": {"SchemaVersion": 2, "ArtifactType": "container_image",
                           "Results": [{"Target": "app", "Class": "os-pkgs",
                                        "Type": "debian",
                                        "Vulnerabilities": vulns}]}},
    "metadata": {"scanStartedOn": finished, "scanFinishedOn": finished}}
json.dump(pred, open(path, "w"))
PY
}
attest() { # REPO:TAG FILE
	python3 "$TG_IMAGE" attest "$REGISTRY/$1" --key "$W_KEY" \
		--predicate-type https://cosign.sigstore.dev/attestation/vuln/v1 \
		--predicate "$2" >/dev/null
}

# The exception ends at the end of today (UTC). The agent's clock starts
# an hour before that (the exception in force however long its first
# cycle takes on a loaded machine); once the agent is ready and has
# applied api, the test moves its clock to 3 s before the end, so the
# exception expires while the agent runs. fake_now is the agent's time.
today=$(date -u +%Y-%m-%d)
end=$(date -u -d "$today 23:59:59" +%s)
clock=$TT_TMP/agent-clock
set_clock() { # SECONDS before the end of today, on the agent's clock
	echo $((end - $1 - $(date +%s))) >"$clock.new"
	mv "$clock.new" "$clock"
}
set_clock 3600
fake_now() { date -u -d "@$(($(date +%s) + $(cat "$clock")))" +%Y-%m-%dT%H:%M:%SZ; }

cat >>"$W_POLICY" <<POLICY
    attestations:
      vulnerabilities:
        required: true
        maxSeverity: high
exceptions:
  - name: api-cve
    images: ["$REGISTRY/pay/api*"]
    waive: [vulnerabilities]
    reason: "vendor fix due, ticket SEC-7"
    approvedBy: security@example.com
    expires: "$today"
POLICY
cat >>"$W_CONFIG" <<CONFIG
reverifyInterval: 2s
CONFIG

scan "$TT_TMP/clean.json" none "$(fake_now)"
attest shop/web:1.0 "$TT_TMP/clean.json"
api=$(world_image pay/api:1.0)
world_sign pay/api:1.0
scan "$TT_TMP/api.json" CRITICAL "$(fake_now)"
attest pay/api:1.0 "$TT_TMP/api.json"

run_shop
mkdir -p "$P/payments"
world_deployment shop web "$REGISTRY/shop/web:1.0" >"$P/shop/web.yaml"
world_deployment shop api "$REGISTRY/pay/api:1.0" >"$P/payments/api.yaml"
world_commit "web and api"

export TOLLGATE_TEST_CLOCK_FILE=$clock
agent_start a --poll-interval 1
port=$AGENT_PORT_a
status_json() {
	git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json 2>/dev/null
}
image_of() {
	kc get deployment "$1" -n shop \
		-o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null
}
if wait_until 40 ready "$port"; then
	tt_pass "first cycle done"
else
	tt_fail "the agent never became ready: $(tail -5 "$TT_TMP/agent-a.log")"
fi
tt_eq "web (clean scan) is applied" "$REGISTRY/shop/web:1.0@$web" "$(image_of web)"
tt_eq "api (critical CVE, exception in force) is applied" \
	"$REGISTRY/pay/api:1.0@$api" "$(image_of api)"
tt_eq "no violation yet" 0 "$(metric "$port" tollgate_violations)"

# 1. The exception expires in the running agent: api becomes a violation.
set_clock 3
api_violation() { status_json | grep -q '"unit": "payments"'; }
if wait_until 45 api_violation; then
	tt_pass "the expired exception makes api a violation on the status branch"
else
	tt_fail "no violation for api: $(status_json | head -c 600)"
fi
sj=$(status_json)
tt_contains "the violation names the digest" "$sj" "$api"
tt_contains "the violation gives the reason" "$sj" "CVE-2026-0001"
subject=$(git --git-dir="$TT_TMP/git/deploy.git" log -1 --format=%s tollgate/status)
tt_contains "the violation has its own status commit" "$subject" "violation"
# The document is the last cycle's, read back from stateDir/last-status.
tt_eq "the violation's status keeps every unit, deployed" \
	"payments=deployed shop=deployed" \
	"$(status_json | python3 -c 'import json,sys; u=json.load(sys.stdin)["units"]; print(" ".join("%s=%s" % (k, "deployed" if u[k]["verdict"] in ("applied", "unchanged") else u[k]["verdict"]) for k in sorted(u)))')"
tt_eq "the violation is counted" 1 "$(metric "$port" tollgate_violations)"
tt_contains "the violation is logged with unit and image" \
	"$(cat "$TT_TMP/agent-a.log")" "unit=payments image=$REGISTRY/pay/api:1.0"
tt_eq "the violating deployment is not removed" \
	"$REGISTRY/pay/api:1.0@$api" "$(image_of api)"

# 2. A newer scan of web with a critical CVE: web becomes a violation too.
scan "$TT_TMP/web-bad.json" CRITICAL "$(fake_now)"
sleep 1
attest shop/web:1.0 "$TT_TMP/web-bad.json"
two() { [ "$(metric "$port" tollgate_violations)" = 2 ]; }
if wait_until 30 two; then
	tt_pass "a new critical scan turns the deployed web digest into a violation"
else
	tt_fail "web never became a violation: $(metric "$port" tollgate_violations)"
fi
web_violation() { status_json | grep -q "$web"; }
wait_until 10 web_violation || true
tt_contains "status.json lists web's digest as a violation" \
	"$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["violations"])')" \
	"$web"
tt_eq "web keeps running" "$REGISTRY/shop/web:1.0@$web" "$(image_of web)"

agent_stop a
tt_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
tc_stop_check
tt_done
