#!/usr/bin/env bash
# Benchmark of the Git side: a deploy repository of 5,000 manifest files
# (50 units of 100 files, ~1 KiB each, 100 commits of history) served by
# git daemon on loopback; measures with tests/tools/tg_git the first fetch
# + tree read, a no-op fetch, an incremental fetch after one changed file,
# and a status commit + note + push, and prints a table of wall times (the
# median of three runs) and peak RSS.
#
#   tests/bench/git.sh            uses build/tests/tools/tg_git
#
# Not run by ctest. Build without sanitizers first.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOL=${TG_GIT_TOOL:-build/tests/tools/tg_git}
if [ ! -x "$TOOL" ]; then
	echo "git.sh: $TOOL not found; build first" >&2
	exit 1
fi
TG_SOURCE_DIR=$PWD
. tests/lib/common.sh
. tests/lib/git.sh

base=$TT_TMP/srv
tt_git_bare "$base/deploy.git"
work=$TT_TMP/work
git clone -q "$base/deploy.git" "$work" 2>/dev/null
python3 - "$work/clusters/prod" <<'PY'
import os, sys
root = sys.argv[1]
for u in range(50):
    d = os.path.join(root, "unit%02d" % u)
    os.makedirs(d)
    for f in range(100):
        with open(os.path.join(d, "cm%03d.yaml" % f), "w") as fh:
            fh.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                     "  name: cm%03d\n  namespace: unit%02d\ndata:\n" % (f, u))
            for k in range(20):
                fh.write("  key%02d: value-%02d-%03d-%02d-padding-padding\n"
                         % (k, u, f, k))
PY
git -C "$work" add -A && git -C "$work" commit -q -m "initial"
for i in $(seq 1 99); do
	echo "rev: $i" >"$work/clusters/prod/unit00/rev.yaml"
	git -C "$work" add -A && git -C "$work" commit -q -m "rev $i"
done
git -C "$work" push -q origin HEAD 2>/dev/null
tt_start_git_daemon "$base"
url=$TT_GIT_URL/deploy.git

# run NAME SETUP COMMAND...: median wall seconds and max RSS (KiB) of three
# runs, SETUP (a shell snippet) run before each.
results=()
run() {
	local name=$1 setup=$2 i t rss times=() peak=0
	shift 2
	for i in 1 2 3; do
		eval "$setup"
		t=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1)
		times+=("${t% *}")
		rss=${t#* }
		[ "$rss" -gt "$peak" ] && peak=$rss
	done
	t=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
	results+=("$(printf '| %-42s | %8s | %8s |' "$name" "$t" "$((peak / 1024))")")
}

state=$TT_TMP/state
common=(--url "$url" --branch main --path clusters/prod --state "$state")
run "first fetch + read (5000 files, 100 commits)" 'rm -rf "$state"' "$TOOL" fetch "${common[@]}"
run "no-op fetch + read" ':' "$TOOL" fetch "${common[@]}"
n=0
run "incremental fetch + read (1 file changed)" \
	'n=$((n + 1)); echo "bench: $n" >"$work/clusters/prod/unit01/bench.yaml"; git -C "$work" add -A; git -C "$work" commit -q -m "bench $n"; git -C "$work" push -q origin HEAD 2>/dev/null' \
	"$TOOL" fetch "${common[@]}"
doc=$TT_TMP/doc.json
run "status commit + note + push (50 units)" \
	'n=$((n + 1)); python3 -c "import json,sys; print(json.dumps({\"sourceCommit\": sys.argv[1], \"units\": {\"unit%02d\" % u: {\"verdict\": \"applied\", \"images\": [{\"ref\": \"r/x:%d\" % int(sys.argv[2]), \"verdict\": \"allowed\"}]} for u in range(50)}}))" "$(git -C "$work" rev-parse HEAD)" "$n" >"$doc"' \
	"$TOOL" status --url "$url" --branch main --state "$state" --doc "$doc"

echo "| operation                                  | median s | peak MiB |"
echo "|---|---|---|"
printf '%s\n' "${results[@]}"
