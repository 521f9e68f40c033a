#!/usr/bin/env bash
# The trust root through TUF (issue 18) in the agent: tollgate run with
# sigstore.tuf (a repository made by tests/tools/make-tuf-repo.py, served by
# Python's http.server on loopback, rotated to root version 2) puts the
# root it verified through TUF in force: status.json trustRoot, the
# STATUS.md line and tollgate_trust_root_age_seconds say so. When the
# mirror goes down it keeps that root, warns each cycle, and says so in the
# status (trustRoot.stale, "Trust root stale:") and the metrics
# (tollgate_trust_root_stale 1, a growing age). A bad sigstore.tuf value
# is refused naming the key.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"

GEN=$TG_SOURCE_DIR/tests/tools/make-tuf-repo.py
SRV=$TT_TMP/srv
mkdir -p "$SRV"
python3 "$GEN" init "$SRV/rot"
python3 "$GEN" publish "$SRV/rot" "$TG_SOURCE_DIR/tests/data/bundles/rekor2/trusted_root.json"
python3 "$GEN" rotate-root "$SRV/rot"
python3 "$GEN" publish "$SRV/rot" "$TG_SOURCE_DIR/verify/sigstore/data/trusted_root_public_good.json"
PORT=$(tt_free_port)

tt_bg "$TT_TMP/http2.log" python3 -m http.server --bind 127.0.0.1 \
	--directory "$SRV" "$PORT"
HTTP_PID=$TT_LAST_PID
tt_wait_port "$PORT"
run_world 1.0
sed -i 's/interval: 1h/interval: 1s/' "$W_CONFIG"
cat >>"$W_CONFIG" <<CONFIG
sigstore:
  tuf:
    mirror: http://127.0.0.1:$PORT/rot/repo
    root: $SRV/rot/repo/1.root.json
    refresh: 1s
CONFIG
run_shop
run_web 1.0
status_json() {
	git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json 2>/dev/null
}
trust_field() { # FIELD: status.json trustRoot.FIELD ("" when absent)
	status_json | python3 -c 'import json, sys
try:
    print(json.load(sys.stdin).get("trustRoot", {}).get(sys.argv[1], ""))
except ValueError:
    print("")' "$1"
}
field_is() { [ "$(trust_field "$1")" = "$2" ]; }
field_set() { [ -n "$(trust_field "$1")" ]; }
metric_is() { [ "$(metric "$port" "$1")" = "$2" ]; }
agent_start a
port=$AGENT_PORT_a
wait_until 30 field_is rootVersion 2 ||
	tt_fail "status.json never named root version 2"
tt_eq "run: the trust root in force came through TUF" tuf "$(trust_field source)"
tt_eq "run: ... targets version 2" 2 "$(trust_field targetsVersion)"
tt_contains "run: STATUS.md names it" \
	"$(git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:STATUS.md)" \
	"Trust root: TUF, root version 2, targets version 2, verified"
tt_eq "run: the unit is applied" "$REGISTRY/shop/web:1.0@${RUN_DIGEST[1.0]}" "$(web_image)"
wait_until 10 metric_is tollgate_trust_root_stale 0 ||
	tt_fail "tollgate_trust_root_stale never 0"
age=$(metric "$port" tollgate_trust_root_age_seconds)
tt_eq "run: tollgate_trust_root_age_seconds is small" yes \
	"$([ "$age" != absent ] && [ "$age" -le 30 ] && echo yes || echo "no ($age)")"

kill "$HTTP_PID"
wait "$HTTP_PID" 2>/dev/null || true
wait_until 30 field_set stale ||
	tt_fail "status.json never said the trust root is stale"
tt_contains "mirror down: status.json says why" "$(trust_field stale)" \
	"TUF mirror"
tt_eq "mirror down: ... the last verified root stays in force" 2 \
	"$(trust_field rootVersion)"
tt_contains "mirror down: STATUS.md says so" \
	"$(git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:STATUS.md)" \
	"Trust root stale:"
wait_until 10 metric_is tollgate_trust_root_stale 1 ||
	tt_fail "tollgate_trust_root_stale never 1"
sleep 2
age=$(metric "$port" tollgate_trust_root_age_seconds)
tt_eq "mirror down: the age grows" yes \
	"$([ "$age" != absent ] && [ "$age" -ge 2 ] && echo yes || echo "no ($age)")"
warn_count() { grep -c "trust root refresh through TUF failed" "$TT_TMP/agent-a.log" || true; }
two_warns() { [ "$(warn_count)" -ge 2 ]; }
wait_until 20 two_warns || true
warns=$(warn_count)
tt_eq "mirror down: a warning each cycle (at least 2)" yes \
	"$([ "$warns" -ge 2 ] && echo yes || echo "no ($warns)")"
tt_eq "mirror down: the unit stays applied" "$REGISTRY/shop/web:1.0@${RUN_DIGEST[1.0]}" \
	"$(web_image)"
agent_stop a
tt_eq "run: clean exit" 0 "$AGENT_RC"

# A bad sigstore.tuf value is refused with the key named.
sed -i "s|mirror: http://127.0.0.1:$PORT/rot/repo|mirror: ftp://mirror.example|" "$W_CONFIG"
tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG"
tt_eq "a bad mirror URL: exit 1" 1 "$RC"
tt_contains "... naming the key" "$OUT" "sigstore.tuf.mirror"

tt_done
