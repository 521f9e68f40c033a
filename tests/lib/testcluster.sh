# Start tests/testcluster for an integration test. Source after common.sh:
#   . "$TG_SOURCE_DIR/tests/lib/testcluster.sh"
#   tc_start [--tls]
# sets TC_URL, TC_TOKEN, TC_KUBECONFIG (a kubeconfig kubectl and tollgate
# use as is) and TC_PID; the EXIT trap of common.sh stops the server.
TC_BIN=${TC_BIN:-$TG_BUILD_DIR/tests/testcluster/testcluster}
TC_PIDS=()
TC_LOGS=()

tc_start() {
	local n=${#TT_PIDS[@]} log i
	TC_TOKEN=token-$RANDOM$RANDOM
	TC_KUBECONFIG=$TT_TMP/kubeconfig-$n
	log=$TT_TMP/testcluster-$n.log
	# glibc's malloc is asked for transparent huge pages and to grow each
	# heap 16 MiB at a time: at 10,000 objects the server's heap reaches
	# 250 MB of jansson trees, and touching it 4 KiB at a time cost a
	# fresh server 60,000 page faults and 0.8 s of CPU in one cycle
	# (15,000 this way). Ignored by the sanitizers' allocator.
	tt_bg "$log" env GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1:glibc.malloc.top_pad=16777216" \
		"$TC_BIN" --listen 127.0.0.1:0 --token "$TC_TOKEN" \
		--kubeconfig-out "$TC_KUBECONFIG" "$@"
	TC_PID=$TT_LAST_PID
	TC_PIDS+=("$TC_PID")
	TC_LOGS+=("$log")
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

# Stop every test cluster started so far with SIGTERM and check that each
# exits 0 with no sanitizer report (leaks show only at exit). Call before
# tt_done.
tc_stop_check() {
	local i pid rc
	for i in "${!TC_PIDS[@]}"; do
		pid=${TC_PIDS[$i]}
		kill "$pid" 2>/dev/null || true
		set +e
		wait "$pid" 2>/dev/null
		rc=$?
		set -e
		tt_eq "testcluster $pid exits 0 on SIGTERM" 0 "$rc"
		tt_not_contains "testcluster $pid: no sanitizer report" \
			"$(cat "${TC_LOGS[$i]}")" "Sanitizer"
	done
	TC_PIDS=()
	TC_LOGS=()
}
