#!/usr/bin/env bash
# tests/testcluster at the HTTP level: server-side apply with the exact
# objects and managedFields expected, patch formats, dry run, faults,
# request log, reset. The checks are in tests/testcluster/api_test.py.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/testcluster.sh"

tc_start
tt_run out rc /usr/bin/python3 "$TG_SOURCE_DIR/tests/testcluster/api_test.py" \
	"$TC_URL" "$TC_TOKEN"
echo "$out"
tt_eq "API checks pass" 0 "$rc"
tt_contains "API checks ran" "$out" " passed, 0 failed"

tc_stop_check
tt_done
