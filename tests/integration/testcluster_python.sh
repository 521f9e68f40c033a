#!/usr/bin/env bash
# tests/testcluster driven by python3-kubernetes (Debian's, run with the
# system interpreter): typed and dynamic clients, apply from YAML, CRDs,
# watch; the checks are in tests/testcluster/client_test.py.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/testcluster.sh"

for mode in "" --tls; do
	tc_start $mode
	tt_run out rc /usr/bin/python3 "$TG_SOURCE_DIR/tests/testcluster/client_test.py" \
		"$TC_KUBECONFIG"
	echo "$out"
	tt_eq "python3-kubernetes checks pass (${mode:-http})" 0 "$rc"
	tt_contains "python3-kubernetes ran its checks (${mode:-http})" "$out" \
		" passed, 0 failed"
done

tc_stop_check
tt_done
