# Start tests/testcluster for an integration test. Source after common.sh:
#   . "$TG_SOURCE_DIR/tests/lib/testcluster.sh"
#   tc_start [--tls]
# sets TC_URL, TC_TOKEN, TC_KUBECONFIG (a kubeconfig kubectl and tollgate
# use as is) and TC_PID; the EXIT trap of common.sh stops the server.
TC_BIN=${TC_BIN:-$TG_BUILD_DIR/tests/testcluster/testcluster}

tc_start() {
	local n=${#TT_PIDS[@]} log i
	TC_TOKEN=token-$RANDOM$RANDOM
	TC_KUBECONFIG=$TT_TMP/kubeconfig-$n
	log=$TT_TMP/testcluster-$n.log
	tt_bg "$log" "$TC_BIN" --listen 127.0.0.1:0 --token "$TC_TOKEN" \
		--kubeconfig-out "$TC_KUBECONFIG" "$@"
	TC_PID=$TT_LAST_PID
	TC_URL=
	for ((i = 0; i < 200; i++)); do
		TC_URL=$(grep -m1 -E '^https?://' "$log" 2>/dev/null || true)
		[ -n "$TC_URL" ] && break
		sleep 0.05
	done
	if [ -z "$TC_URL" ]; then
		echo "testcluster did not start:" >&2
		cat "$log" >&2
		return 1
	fi
}

# curl against the test cluster with the token: tc_curl METHOD PATH [args]
tc_curl() {
	local method=$1 path=$2
	shift 2
	curl -sS -k -X "$method" -H "Authorization: Bearer $TC_TOKEN" \
		"$@" "$TC_URL$path"
}
