#!/usr/bin/env bash
# The Git source and status over https:// (git http-backend behind a TLS
# server with Basic auth): the CA file, a password file, refusals of an
# untrusted certificate and of wrong or missing credentials, and a status
# push over HTTPS.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/git.sh"

TOOL=$TG_BUILD_DIR/tests/tools/tg_git
base=$TT_TMP/srv
tt_git_bare "$base/deploy.git"
git -C "$base/deploy.git" config http.receivepack true
work=$TT_TMP/work
git clone -q "$base/deploy.git" "$work" 2>/dev/null
mkdir -p "$work/apps/web"
printf 'kind: Service\n' >"$work/apps/web/svc.yaml"
tt_git_commit "$work" "deploy web"
head=$(git -C "$work" rev-parse HEAD)

tt_start_git_https "$base" "deployer:s3cret-token"
url=$TT_HTTPS_URL/deploy.git
state=$TT_TMP/state
printf 's3cret-token\n' >"$TT_TMP/token"
printf 'wrong\n' >"$TT_TMP/wrong"
auth=(--ca-file "$TT_HTTPS_CA" --username deployer --password-file "$TT_TMP/token")

tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$state" "${auth[@]}"
tt_eq "https fetch with CA file and token: exit 0" 0 "$rc"
tt_contains "https fetch reads the commit" "$out" "commit $head"
tt_contains "https fetch reads the files" "$out" "file apps/web/svc.yaml 14"

tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$TT_TMP/s2" \
	--username deployer --password-file "$TT_TMP/token"
tt_eq "certificate from an unknown CA: exit 1" 1 "$rc"
tt_contains "certificate from an unknown CA: untrusted" "$out" "(untrusted"
tt_contains "certificate from an unknown CA: names the URL" "$out" "$url"

tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$TT_TMP/s3" \
	--ca-file "$TT_HTTPS_CA" --username deployer --password-file "$TT_TMP/wrong"
tt_eq "wrong token: exit 1" 1 "$rc"
tt_contains "wrong token: refused" "$out" "refused the configured credentials"
tt_not_contains "wrong token: the secret is not shown" "$out" "wrong"

tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$TT_TMP/s4" \
	--ca-file "$TT_HTTPS_CA"
tt_eq "no credentials: exit 1" 1 "$rc"
tt_contains "no credentials: says none are configured" "$out" \
	"asks for credentials and none are configured"

A=sha256:$(printf 'a%.0s' {1..64})
cat >"$TT_TMP/doc.json" <<JSON
{"sourceCommit": "$head", "units": {"web": {"verdict": "blocked",
 "images": [{"ref": "registry.example.com/web:1", "digest": "$A", "verdict": "blocked",
             "reasons": ["no signature"]}]}}}
JSON
tt_run out rc "$TOOL" status --url "$url" --branch main --state "$state" "${auth[@]}" --doc "$TT_TMP/doc.json"
tt_eq "status over https: exit 0" 0 "$rc"
tt_contains "status over https: pushed" "$out" "committed yes pushed yes"
tt_eq "status over https: on the server" "blocked: web at ${head:0:7} (1 of 1 image failed verification)" \
	"$(git -C "$base/deploy.git" log -1 --format=%s tollgate/status)"
tt_not_contains "the token never reaches the status branch" \
	"$(git -C "$base/deploy.git" log -p tollgate/status)" "s3cret"

tt_done
