#!/usr/bin/env bash
# tests/testcluster serves requests side by side: applies racing CRD
# updates and Namespace deletions must answer and store as if run one at a
# time. The checks are in tests/testcluster/race_test.py.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/testcluster.sh"

tc_start
tt_run out rc /usr/bin/python3 "$TG_SOURCE_DIR/tests/testcluster/race_test.py" \
	"$TC_URL" "$TC_TOKEN"
echo "$out"
tt_eq "race checks pass" 0 "$rc"
tt_contains "race checks ran" "$out" "5 passed, 0 failed"

tc_stop_check
tt_done
