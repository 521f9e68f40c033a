#!/usr/bin/env bash
# Parallel fetches over one curl multi handle: many manifests at once are
# bounded by the parallel setting and reuse connections; the same digest
# asked for many times is fetched once.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/registry.sh"

P=$TG_BUILD_DIR/tests/tools/tg-registry-probe
T=$TG_SOURCE_DIR/tests/tools/tg-image
tt_start_registry
I=(--insecure "$REGISTRY")

N=24
tags=()
while read -r tag digest; do
	echo "$digest" >"$TT_TMP/d${tag#t}"
	tags+=("$tag")
done < <($T push-many "$REGISTRY/app" --count "$N" --prefix t)
tt_eq "$N images pushed" "$N" "${#tags[@]}"

start=$(grep -c 'GET /v2/app/manifests/' "$TT_REGISTRY_LOG" || true)
tt_run out rc "$P" "${I[@]}" --parallel 4 --stats many "$REGISTRY" app "${tags[@]}"
tt_eq "$N manifests fetched" 0 "$rc"
for i in 0 11 23; do
	tt_contains "t$i resolved to its digest" "$out" "t$i $(cat "$TT_TMP/d$i")"
done
stats=$(grep '^stats' <<<"$out")
tt_contains "one request per manifest" "$stats" "requests=$N "
tt_contains "at most 4 transfers at once, and 4 reached" "$stats" "max_in_flight=4"
conns=$(sed -E 's/.*connections=([0-9]+).*/\1/' <<<"$stats")
if [ "$conns" -le 4 ]; then
	tt_pass "connections reused: $conns for $N requests"
else
	tt_fail "expected at most 4 connections for $N requests, got $conns"
fi
end=$(grep -c 'GET /v2/app/manifests/' "$TT_REGISTRY_LOG" || true)
tt_eq "the registry saw $N manifest requests" "$N" "$((end - start))"

# Default parallelism (16).
tt_run out rc "$P" "${I[@]}" --stats many "$REGISTRY" app "${tags[@]}"
tt_eq "default parallel: fetched" 0 "$rc"
mif=$(grep '^stats' <<<"$out" | sed -E 's/.*max_in_flight=([0-9]+).*/\1/')
if [ "$mif" -gt 4 ] && [ "$mif" -le 16 ]; then
	tt_pass "default parallel ran $mif transfers at once (4 < n <= 16)"
else
	tt_fail "default parallel: max_in_flight $mif not in (4, 16]"
fi

# The same digest ten times: one fetch, ten answers.
D=$(cat "$TT_TMP/d0")
tt_run out rc "$P" "${I[@]}" --stats many "$REGISTRY" app "$D" "$D" "$D" "$D" "$D" "$D" "$D" "$D" "$D" "$D"
tt_eq "same digest ten times" 0 "$rc"
tt_eq "ten answers" 10 "$(grep -c "^$D $D" <<<"$out")"
tt_contains "one request for the ten" "$out" "stats requests=1 "

tt_done
