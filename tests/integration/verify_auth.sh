#!/usr/bin/env bash
# tollgate verify against registries that require credentials: Basic
# (htpasswd) and Bearer tokens from a token server, with credentials from
# --registry-config (docker config.json).
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

TGI=("python3" "$TG_SOURCE_DIR/tests/tools/tg-image")
openssl ecparam -name prime256v1 -genkey -noout -out "$TT_TMP/k.pem" 2>/dev/null
openssl ec -in "$TT_TMP/k.pem" -pubout -out "$TT_TMP/k.pub" 2>/dev/null

check_registry() { # LABEL [--insecure-registry TOKEN-SERVER]
	local label=$1 R=$REGISTRY d out rc extra=("${@:2}")
	cat >"$TT_TMP/policy-$label.yaml" <<-EOF
	apiVersion: tollgate.dev/v1alpha1
	kind: Policy
	registries:
	  allowed: [$R/]
	rules:
	  - name: all
	    images: ["$R/**"]
	    signatures:
	      authorities:
	        - {name: release, key: $TT_TMP/k.pub}
	EOF
	d=$("${TGI[@]}" push "$R/team/app:v1" --user alice:s3cret --content "$label")
	"${TGI[@]}" sign "$R/team/app:v1" --user alice:s3cret --key "$TT_TMP/k.pem" >/dev/null
	"${TGI[@]}" push "$R/team/unsigned:v1" --user alice:s3cret --content "u$label" >/dev/null

	tt_registry_auth_file "$TT_TMP/auth-$label.json" "$R" alice:s3cret
	tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/policy-$label.yaml" \
		--insecure-registry "$R" ${extra[@]+"${extra[@]}"} --registry-config "$TT_TMP/auth-$label.json" \
		"$R/team/app:v1"
	tt_eq "$label: with credentials, signed image allowed" 0 "$rc"
	tt_contains "$label: digest" "$out" "$R/team/app:v1: allowed $d"
	tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/policy-$label.yaml" \
		--insecure-registry "$R" ${extra[@]+"${extra[@]}"} --registry-config "$TT_TMP/auth-$label.json" \
		"$R/team/unsigned:v1"
	tt_eq "$label: with credentials, unsigned image blocked" 3 "$rc"
	tt_contains "$label: unsigned reason" "$out" "signature: no signatures found"

	tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/policy-$label.yaml" \
		--insecure-registry "$R" ${extra[@]+"${extra[@]}"} "$R/team/app:v1"
	tt_eq "$label: without credentials, blocked" 3 "$rc"
	tt_contains "$label: without credentials, a registry reason" "$out" \
		"registry: cannot resolve $R/team/app:v1"

	tt_registry_auth_file "$TT_TMP/bad-$label.json" "$R" alice:wrong
	tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/policy-$label.yaml" \
		--insecure-registry "$R" ${extra[@]+"${extra[@]}"} --registry-config "$TT_TMP/bad-$label.json" \
		"$R/team/app:v1"
	tt_eq "$label: wrong password, blocked" 3 "$rc"
	tt_not_contains "$label: the password never appears" "$out" "wrong"
}

tt_start_registry --htpasswd alice:s3cret
check_registry basic

tt_start_registry --token --token-user alice:s3cret
# The token realm is plain HTTP on loopback: it must be listed too.
check_registry token --insecure-registry "$TOKEN_SERVER"
# tollgate asked the token server for pull tokens with the credentials.
before=$(wc -l <"$TOKEN_LOG")
tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/policy-token.yaml" \
	--insecure-registry "$REGISTRY" --insecure-registry "$TOKEN_SERVER" \
	--registry-config "$TT_TMP/auth-token.json" "$REGISTRY/team/app:v1"
tt_eq "token: allowed again" 0 "$rc"
new=$(tail -n +"$((before + 1))" "$TOKEN_LOG")
tt_contains "token: tollgate got an authenticated pull token" "$new" \
	"repository:team/app:pull"
tt_contains "token: with the credentials" "$new" "auth=yes"

tt_run out rc "$TG_BIN" verify --policy "$TT_TMP/policy-basic.yaml" \
	--registry-config "$TT_TMP/missing.json" "$REGISTRY/team/app:v1"
tt_eq "missing registry config: exit 1" 1 "$rc"
tt_contains "missing registry config: names it" "$out" "missing.json"

tt_done
