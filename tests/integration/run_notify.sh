#!/usr/bin/env bash
# tollgate run (issue 7): webhook notifications. A local receiver (python3
# http.server) answers the first request with 500: delivery is retried. A
# blocked unit and a drift correction each give one JSON event, with the
# configured header read from its file; the secret is in no log.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"
run_world 1.0

hook_port=$(tt_free_port)
cat >"$TT_TMP/receiver.py" <<'PY'
import http.server, json, sys
port, log = int(sys.argv[1]), sys.argv[2]
seen = {"n": 0}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen["n"] += 1
        status = 500 if seen["n"] == 1 else 200
        with open(log, "a") as f:
            f.write(json.dumps({"attempt": seen["n"], "status": status,
                                "auth": self.headers.get("X-Hook-Token"),
                                "type": self.headers.get("Content-Type"),
                                "body": json.loads(body)}) + "\n")
        self.send_response(status)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
tt_bg "$TT_TMP/receiver.out" python3 "$TT_TMP/receiver.py" "$hook_port" \
	"$TT_TMP/hooks.jsonl"
tt_wait_port "$hook_port"
printf 'HOOK-SECRET-9271\n' >"$TT_TMP/hook-token"
cat >>"$W_CONFIG" <<CONFIG
notify:
  webhooks:
    - url: http://127.0.0.1:$hook_port/hook
      header: X-Hook-Token
      headerValueFile: $TT_TMP/hook-token
CONFIG

world_image pay/api:1.0 >/dev/null # never signed
run_shop
mkdir -p "$P/payments"
world_deployment shop web "$REGISTRY/shop/web:1.0" >"$P/shop/web.yaml"
world_deployment shop api "$REGISTRY/pay/api:1.0" >"$P/payments/api.yaml"
world_commit "web and an unsigned api"
commit=$(git -C "$W_WORK" rev-parse HEAD)

agent_start a --poll-interval 1
port=$AGENT_PORT_a
events() { cat "$TT_TMP/hooks.jsonl" 2>/dev/null; }
delivered() { # EVENT UNIT: a 200 answer for it
	events | python3 -c '
import json, sys
ev, unit = sys.argv[1:3]
ok = [l for l in map(json.loads, sys.stdin)
      if l["status"] == 200 and l["body"]["event"] == ev and l["body"]["unit"] == unit]
sys.exit(0 if ok else 1)' "$1" "$2"
}
if wait_until 40 delivered blocked payments; then
	tt_pass "the blocked unit is notified"
else
	tt_fail "no blocked event delivered: $(events)"
fi
first=$(events | head -1)
tt_contains "the first attempt got 500" "$first" '"status": 500'
tt_contains "it was retried with the same event" "$(events | sed -n 2p)" \
	'"event": "blocked"'
tt_contains "the event names the commit" "$(events)" "\"commit\": \"$commit\""
tt_contains "the event gives the reason" "$(events)" "images failed verification"
tt_contains "the header value comes from its file" "$(events)" \
	'"auth": "HOOK-SECRET-9271"'
tt_contains "the body is JSON" "$first" '"type": "application/json"'
tt_eq "one event per blocked unit" 1 \
	"$(events | grep -c '"status": 200.*"event": "blocked"' || true)"

# A cycle with the unit still blocked does not notify again; a drift
# correction does.
kc patch deployment web -n shop --type merge -p '{"spec":{"replicas":5}}' >/dev/null
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/reconcile"
if wait_until 40 delivered driftCorrected shop; then
	tt_pass "a drift correction is notified"
else
	tt_fail "no drift event: $(events)"
fi
tt_contains "the drift event names the object" "$(events | tail -1)" '"name": "web"'
tt_eq "the blocked unit was not notified twice" 1 \
	"$(events | grep -c '"status": 200.*"event": "blocked"' || true)"
tt_eq "deliveries are counted" 2 \
	"$(metric "$port" 'tollgate_notifications_total{result="delivered"}')"
tt_eq "no delivery failed (the 500 was retried)" 0 \
	"$(metric "$port" 'tollgate_notifications_total{result="failed"}')"

agent_stop a
tt_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
tt_not_contains "the webhook secret is in no log" \
	"$(cat "$TT_TMP/agent-a.log")" "HOOK-SECRET-9271"
tc_stop_check
tt_done
