# Registry helpers for integration tests (bash). Source after common.sh:
#   . "$TG_SOURCE_DIR/tests/lib/common.sh"
#   . "$TG_SOURCE_DIR/tests/lib/registry.sh"
#
# tt_start_registry [--htpasswd USER:PASS] [--token [--token-user USER:PASS]]
#                   [--token-expires-in SECONDS] [--tls]
#   Starts Debian's docker-registry (distribution 2.8) on a free 127.0.0.1
#   port, filesystem storage under $TT_TMP, deletes enabled, and waits until
#   it answers. Exports:
#     REGISTRY          127.0.0.1:PORT
#     TT_REGISTRY_DATA     storage root (docker/registry/v2/... lives below it)
#     TT_REGISTRY_LOG      the registry's log (one access line per request)
#     TT_REGISTRY_PID      its PID (stopped by common.sh's EXIT trap)
#   --htpasswd: Basic auth against an htpasswd file made with `htpasswd -Bbn`.
#   --token: the registry's own `auth: token` mode, with tests/tools/
#     tg-token-server issuing RS256 JWTs (key and certificate made here with
#     openssl; the certificate is the registry's rootcertbundle). Also
#     exports TOKEN_SERVER (127.0.0.1:PORT), TOKEN_LOG (one line per token
#     issued: "scope=... auth=yes|no"). --token-user makes the token server
#     require Basic USER:PASS.
#   --tls: HTTPS with a certificate for IP 127.0.0.1 issued by a CA made
#     here; exports TT_REGISTRY_CA (the CA's PEM) for clients.
#   Each call starts a new registry; the variables name the latest.
#   Do not export variables named REGISTRY_*: docker-registry would read
#   them as configuration (they are removed from its environment here).
#
# tt_registry_auth_file FILE HOST USER:PASS
#   Writes a docker config.json with one "auths" entry (base64 "auth").

TT_REGISTRY_N=${TT_REGISTRY_N:-0}

tt_start_registry() {
	local htpasswd="" token=0 token_user="" expires=300 tls=0
	while [ $# -gt 0 ]; do
		case $1 in
		--htpasswd) htpasswd=$2; shift 2 ;;
		--token) token=1; shift ;;
		--token-user) token_user=$2; shift 2 ;;
		--token-expires-in) expires=$2; shift 2 ;;
		--tls) tls=1; shift ;;
		*) echo "tt_start_registry: unknown option $1" >&2; return 2 ;;
		esac
	done
	TT_REGISTRY_N=$((TT_REGISTRY_N + 1))
	local dir=$TT_TMP/registry-$TT_REGISTRY_N port auth="" tlsconf="" scheme=http
	local curlca=()
	mkdir -p "$dir/data"
	port=$(tt_free_port)
	if [ -n "$htpasswd" ]; then
		htpasswd -Bbn "${htpasswd%%:*}" "${htpasswd#*:}" >"$dir/htpasswd"
		auth="auth:
  htpasswd:
    realm: tollgate-test
    path: $dir/htpasswd"
	elif [ "$token" = 1 ]; then
		local tport
		tport=$(tt_free_port)
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
			-subj /CN=tollgate-test-token -keyout "$dir/token.key" \
			-out "$dir/token.crt" >/dev/null 2>&1
		TOKEN_SERVER=127.0.0.1:$tport
		TOKEN_LOG=$dir/token.log
		: >"$TOKEN_LOG"
		local targs=(--port "$tport" --key "$dir/token.key"
			--cert "$dir/token.crt" --issuer tollgate-test-issuer
			--service tollgate-test-registry --expires-in "$expires"
			--log "$TOKEN_LOG")
		[ -n "$token_user" ] && targs+=(--user "$token_user")
		tt_bg "$dir/token-server.out" \
			"$TG_SOURCE_DIR/tests/tools/tg-token-server" "${targs[@]}"
		tt_wait_port "$tport"
		export TOKEN_SERVER TOKEN_LOG
		auth="auth:
  token:
    realm: http://$TOKEN_SERVER/token
    service: tollgate-test-registry
    issuer: tollgate-test-issuer
    rootcertbundle: $dir/token.crt"
	fi
	if [ "$tls" = 1 ]; then
		tt_registry_make_tls "$dir"
		TT_REGISTRY_CA=$dir/ca.crt
		export TT_REGISTRY_CA
		scheme=https
		curlca=(--cacert "$TT_REGISTRY_CA")
		tlsconf="  tls:
    certificate: $dir/server.crt
    key: $dir/server.key"
	fi
	cat >"$dir/config.yml" <<-YML
	version: 0.1
	log:
	  level: info
	  accesslog:
	    disabled: false
	storage:
	  filesystem:
	    rootdirectory: $dir/data
	  delete:
	    enabled: true
	  maintenance:
	    uploadpurging:
	      enabled: false
	http:
	  addr: 127.0.0.1:$port
	  secret: tollgate-test-secret
	$tlsconf
	$auth
	YML
	# docker-registry reads REGISTRY_* environment variables as config
	# overrides (REGISTRY_LOG would replace the log section): drop them.
	local unset=() v
	for v in $(compgen -e); do
		case $v in REGISTRY_*) unset+=(-u "$v") ;; esac
	done
	tt_bg "$dir/registry.log" env ${unset[@]+"${unset[@]}"} \
		docker-registry serve "$dir/config.yml"
	TT_REGISTRY_PID=$TT_LAST_PID
	REGISTRY=127.0.0.1:$port
	TT_REGISTRY_DATA=$dir/data
	TT_REGISTRY_LOG=$dir/registry.log
	export REGISTRY TT_REGISTRY_DATA TT_REGISTRY_LOG TT_REGISTRY_PID
	tt_wait_port "$port" || { cat "$TT_REGISTRY_LOG" >&2; return 1; }
	local i code
	for ((i = 0; i < 100; i++)); do
		code=$(curl -s ${curlca[@]+"${curlca[@]}"} -o /dev/null \
			-w '%{http_code}' "$scheme://$REGISTRY/v2/" || true)
		case $code in 200 | 401) return 0 ;; esac
		sleep 0.1
	done
	echo "registry on $REGISTRY does not answer /v2/ (last HTTP $code)" >&2
	cat "$TT_REGISTRY_LOG" >&2
	return 1
}

# A CA and a server certificate for IP 127.0.0.1 (ECDSA P-256), in DIR.
tt_registry_make_tls() {
	local dir=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=tollgate-test-ca -keyout "$dir/ca.key" \
		-out "$dir/ca.crt" >/dev/null 2>&1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=127.0.0.1 -keyout "$dir/server.key" \
		-out "$dir/server.csr" >/dev/null 2>&1
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' \
		>"$dir/server.ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" \
		-CAkey "$dir/ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1
}

tt_registry_auth_file() {
	local file=$1 host=$2 cred=$3
	/usr/bin/python3 - "$file" "$host" "$cred" <<-'PY'
	import base64, json, sys
	path, host, cred = sys.argv[1:4]
	auth = base64.b64encode(cred.encode()).decode()
	with open(path, "w") as f:
	    json.dump({"auths": {host: {"auth": auth}}}, f)
	PY
}
