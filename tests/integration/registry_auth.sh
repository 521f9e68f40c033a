#!/usr/bin/env bash
# Registry authentication against a real docker-registry: htpasswd Basic
# auth (right, wrong and missing credentials), token auth (anonymous and
# with credentials, tokens reused per scope), and a token realm over plain
# HTTP refused unless its host is listed as insecure.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

P=$TG_BUILD_DIR/tests/tools/tg-registry-probe
T=$TG_SOURCE_DIR/tests/tools/tg-image

# --- htpasswd (Basic) -------------------------------------------------------
tt_start_registry --htpasswd alice:s3cret-pass
D=$($T push "$REGISTRY/app:v1" --user alice:s3cret-pass)
tt_registry_auth_file "$TT_TMP/good.json" "$REGISTRY" alice:s3cret-pass
tt_registry_auth_file "$TT_TMP/bad.json" "$REGISTRY" alice:wrong-pass
tt_run out rc "$P" --auth "$TT_TMP/good.json" --insecure "$REGISTRY" manifest "$REGISTRY" app v1
tt_eq "Basic auth: right password" 0 "$rc"
tt_contains "Basic auth: manifest digest" "$out" "digest $D"
tt_run out rc "$P" --auth "$TT_TMP/good.json" --insecure "$REGISTRY" ping "$REGISTRY"
tt_eq "Basic auth: ping" 0 "$rc"

tt_run out rc "$P" --auth "$TT_TMP/bad.json" --insecure "$REGISTRY" manifest "$REGISTRY" app v1
tt_eq "Basic auth: wrong password is TG_EAUTH" 9 "$rc"
tt_contains "wrong password: clear message" "$out" "$REGISTRY/app:v1: access denied (HTTP 401"
tt_contains "wrong password: what to do" "$out" "check the credentials for $REGISTRY"
tt_not_contains "password never printed" "$out" "wrong-pass"

tt_run out rc "$P" --insecure "$REGISTRY" manifest "$REGISTRY" app v1
tt_eq "Basic auth: no credentials is TG_EAUTH" 9 "$rc"
tt_contains "no credentials: message" "$out" "requires credentials (HTTP 401) and the registry auth file has none for $REGISTRY"

echo '{"auths":{"x":{"auth":"bm9jb2xvbg=="}}}' >"$TT_TMP/broken.json"
tt_run out rc "$P" --auth "$TT_TMP/broken.json" --insecure "$REGISTRY" ping "$REGISTRY"
tt_eq "malformed auth file: parse error" 3 "$rc"
tt_contains "malformed auth file named" "$out" "$TT_TMP/broken.json: auths.\"x\".auth is not base64"

# --- token auth, anonymous ----------------------------------------------------
tt_start_registry --token
D=$($T push "$REGISTRY/team/app:v1" --content tok)
D2=$($T push "$REGISTRY/team/app:v2" --content tok2)
: >"$TOKEN_LOG"
tt_run out rc "$P" --insecure 127.0.0.1 --stats --twice many "$REGISTRY" team/app v1 v2 "$D" "$D2"
tt_eq "token auth: four manifests, twice" 0 "$rc"
tt_contains "token auth: v1" "$out" "v1 $D"
tt_contains "token auth: v2" "$out" "v2 $D2"
tt_eq "one token for the scope, reused by every request" 1 "$(grep -c 'scope=repository:team/app:pull' "$TOKEN_LOG")"
tt_eq "the token request was anonymous" 1 "$(grep -c 'auth=no' "$TOKEN_LOG")"
# First run: one request learns the challenge while the others wait (1),
# one token (1), four manifests (4); second run: the two tags again (2),
# the two digests from the cache (0).
tt_contains "one 401 for the whole batch, cache on the second run" "$out" "stats requests=8 "

# The realm is plain HTTP on another port: listing only the registry's
# host:port must not let the token request go out in clear text.
tt_run out rc "$P" --insecure "$REGISTRY" manifest "$REGISTRY" team/app v1
tt_eq "plain-HTTP token realm refused" 7 "$rc"
tt_contains "realm refusal message" "$out" "plain HTTP refused: $TOKEN_SERVER is not listed as an insecure registry"
tt_run out rc "$P" --insecure "$REGISTRY" --insecure "$TOKEN_SERVER" manifest "$REGISTRY" team/app v1
tt_eq "token realm listed as insecure: allowed" 0 "$rc"

# Token lifetime: expires_in is honoured. A 2-second token is renewed after
# a 1.5-second pause (the client renews early); a 300-second one is not.
tt_start_registry --token --token-expires-in 2
$T push "$REGISTRY/app:v1" >/dev/null
: >"$TOKEN_LOG"
tt_run out rc "$P" --insecure 127.0.0.1 --twice --pause 1500 manifest "$REGISTRY" app v1
tt_eq "short-lived token: both fetches" 0 "$rc"
tt_eq "short-lived token renewed" 2 "$(grep -c 'scope=repository:app:pull' "$TOKEN_LOG")"
tt_start_registry --token
$T push "$REGISTRY/app:v1" >/dev/null
: >"$TOKEN_LOG"
tt_run out rc "$P" --insecure 127.0.0.1 --twice --pause 1500 manifest "$REGISTRY" app v1
tt_eq "long-lived token reused after the pause" 1 "$(grep -c 'scope=repository:app:pull' "$TOKEN_LOG")"

# --- token auth with credentials ------------------------------------------------
tt_start_registry --token --token-user bob:tok-pass
D=$($T push "$REGISTRY/app:v1" --user bob:tok-pass)
tt_registry_auth_file "$TT_TMP/bob.json" "$REGISTRY" bob:tok-pass
tt_registry_auth_file "$TT_TMP/bobbad.json" "$REGISTRY" bob:nope-pass
: >"$TOKEN_LOG"
tt_run out rc "$P" --auth "$TT_TMP/bob.json" --insecure 127.0.0.1 manifest "$REGISTRY" app v1
tt_eq "token with credentials" 0 "$rc"
tt_contains "token with credentials: digest" "$out" "digest $D"
tt_eq "credentials sent to the token server" 1 "$(grep -c 'auth=yes' "$TOKEN_LOG")"
tt_run out rc "$P" --auth "$TT_TMP/bobbad.json" --insecure 127.0.0.1 manifest "$REGISTRY" app v1
tt_eq "token server refuses wrong credentials: TG_EAUTH" 9 "$rc"
tt_contains "token refusal message" "$out" "the token server http://$TOKEN_SERVER/token"
tt_contains "token refusal says credentials" "$out" "refused the credentials (HTTP 401)"
tt_not_contains "token password never printed" "$out" "nope-pass"
tt_run out rc "$P" --insecure 127.0.0.1 manifest "$REGISTRY" app v1
tt_eq "token server refuses anonymous: TG_EAUTH" 9 "$rc"
tt_contains "anonymous refusal message" "$out" "refused anonymous access"

tt_done
