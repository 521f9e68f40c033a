#!/usr/bin/env bash
# The README's first command, ./examples/quickstart/run.sh, run as a user
# would (with the binaries already built): a unit blocked for a critical
# CVE, the other applied and pinned, the status commit with the reason,
# and the fix applied on the second run. Everything it started is stopped.
. "$TG_SOURCE_DIR/tests/lib/common.sh"

tt_run OUT RC env QUICKSTART_SKIP_BUILD=1 TG_BUILD_DIR="$TG_BUILD_DIR" \
	TG_BIN="$TG_BIN" TMPDIR="$TT_TMP" \
	"$TG_SOURCE_DIR/examples/quickstart/run.sh"
printf '%s\n' "$OUT" >"$TT_TMP/quickstart.out"
tt_eq "the quickstart exits 0" 0 "$RC"
[ "$RC" = 0 ] || printf '%s\n' "$OUT" >&2
tt_contains "the first once reports the blocked unit" "$OUT" \
	"unit payments: blocked"
tt_contains "the first once exits 3 (a unit blocked)" "$OUT" "(exit 3:"
tt_contains "the applied Deployment is shown pinned to its digest" "$OUT" \
	"==> applied: deploy/web in shop runs 127.0.0.1:"
line=$(grep -m1 '^==> applied: deploy/web in shop runs ' <<<"$OUT" || true)
[[ "$line" =~ /shop/web:1\.0@sha256:[0-9a-f]{64}$ ]] &&
	tt_pass "the pinned image is repo:tag@sha256:<64 hex>" ||
	tt_fail "the pinned image is repo:tag@sha256:<64 hex>: [$line]"
tt_contains "the blocked unit is not in the cluster" "$OUT" \
	"==> blocked: deploy/api in payments is not in the cluster"
status=$(sed -n '/^==> status branch/,/^==> pushed the fix/p' <<<"$OUT")
tt_contains "the status commit says payments was blocked" "$status" \
	"blocked: payments at "
tt_contains "the status reason names the CVE" "$status" "CVE-2024-6387"
tt_contains "the status reason gives the severity" "${status,,}" "critical"
tt_contains "the second once applies payments" "$OUT" "unit payments: applied"
line=$(grep -m1 '^==> applied after the fix: deploy/api in payments runs ' \
	<<<"$OUT" || true)
[[ "$line" =~ /pay/api:2\.1@sha256:[0-9a-f]{64}$ ]] &&
	tt_pass "after the fix the Deployment runs the pinned 2.1 image" ||
	tt_fail "after the fix the Deployment runs the pinned 2.1 image: [$line]"
tt_contains "it ends with what to try next" "$OUT" "What to try next:"
# Its scratch directory (under our TMPDIR) is gone: everything was cleaned.
left=$(find "$TT_TMP" -mindepth 1 -maxdepth 1 -name 'tollgate-it-*' | wc -l)
tt_eq "the quickstart removed its scratch directory" 0 "$left"
running=$(pgrep -f "$TT_TMP/tollgate-it-" || true)
tt_eq "no server it started is still running" "" "$running"
tt_done
