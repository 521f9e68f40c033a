#!/usr/bin/env bash
# The Git source over git:// (git daemon), file:// and a local path:
# fetch, incremental fetch after a new commit, "has the branch moved?",
# missing branch and path, symlink and submodule refusals.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/git.sh"

TOOL=$TG_BUILD_DIR/tests/tools/tg_git
base=$TT_TMP/srv
mkdir -p "$base"
tt_git_bare "$base/deploy.git"
work=$TT_TMP/work
git clone -q "$base/deploy.git" "$work" 2>/dev/null
mkdir -p "$work/clusters/prod/payments" "$work/clusters/prod/web"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' \
	>"$work/clusters/prod/payments/cm.yaml"
printf '{"apiVersion":"v1","kind":"Service"}' >"$work/clusters/prod/web/svc.json"
echo 'not a manifest' >"$work/clusters/prod/README.md"
tt_git_commit "$work" "first"

tt_start_git_daemon "$base"
url=$TT_GIT_URL/deploy.git
state=$TT_TMP/state
common=(--url "$url" --branch main --path clusters/prod --state "$state")

tt_run out rc "$TOOL" fetch "${common[@]}"
tt_eq "fetch over git:// succeeds" 0 "$rc"
tt_contains "fetch reports the branch's commit" "$out" \
	"commit $(git -C "$base/deploy.git" rev-parse main)"
tt_contains "payments manifest read" "$out" "file payments/cm.yaml 51"
tt_contains "web manifest read" "$out" "file web/svc.json"
tt_not_contains "non-manifest files skipped" "$out" "README.md"

tt_run out rc "$TOOL" head "${common[@]}"
tt_eq "head: branch has not moved" "$(git -C "$base/deploy.git" rev-parse main) same" "$out"

printf 'kind: ConfigMap\n' >"$work/clusters/prod/web/extra.yaml"
tt_git_commit "$work" "second"
new=$(git -C "$base/deploy.git" rev-parse main)
tt_run out rc "$TOOL" head "${common[@]}"
tt_eq "head: branch moved after a push" "$new moved" "$out"

objects_before=$(git -C "$state"/git/*.git count-objects -v | awk '/^(count|in-pack):/ {n += $2} END {print n}')
tt_run out rc "$TOOL" fetch "${common[@]}"
tt_contains "incremental fetch sees the new commit" "$out" "commit $new"
tt_contains "incremental fetch sees the new file" "$out" "file web/extra.yaml 16"
objects_after=$(git -C "$state"/git/*.git count-objects -v | awk '/^(count|in-pack):/ {n += $2} END {print n}')
# The second commit adds 6 objects (commit, 4 trees, blob; libgit2 may
# append a delta base to complete a thin pack); a full re-fetch would store
# all 9 objects of the first commit again.
added=$((objects_after - objects_before))
if [ "$added" -ge 6 ] && [ "$added" -lt "$objects_before" ]; then
	tt_pass "incremental fetch stores only the new objects ($added)"
else
	tt_fail "incremental fetch stored $added objects (had $objects_before)"
fi

tt_run out rc "$TOOL" fetch --url "$url" --branch nope --path clusters/prod --state "$state"
tt_eq "missing branch: exit 1" 1 "$rc"
tt_contains "missing branch: names URL and branch" "$out" \
	"$url: branch \"nope\" does not exist on the remote"

tt_run out rc "$TOOL" fetch --url "$url" --branch main --path clusters/staging --state "$state"
tt_eq "missing path: exit 1" 1 "$rc"
tt_contains "missing path: names URL, branch and path" "$out" \
	"$url branch main at ${new:0:12}: source.path \"clusters/staging\" does not exist"

tt_run out rc "$TOOL" fetch --url "$TT_GIT_URL/nothere.git" --branch main --state "$state"
tt_eq "missing repository: exit 1" 1 "$rc"
tt_contains "missing repository: names the URL" "$out" "$TT_GIT_URL/nothere.git"

dead=$(tt_free_port)
tt_run out rc "$TOOL" fetch --url "git://127.0.0.1:$dead/deploy.git" --branch main --state "$state"
tt_eq "server down: exit 1" 1 "$rc"
tt_contains "server down: a network error naming the URL" "$out" \
	"git://127.0.0.1:$dead/deploy.git: cannot connect: failed to connect to 127.0.0.1"
tt_contains "server down: classed as network" "$out" "(network error)"

# The same repository through file:// and a plain path.
tt_run out rc "$TOOL" fetch --url "file://$base/deploy.git" --branch main --path clusters/prod --state "$state"
tt_contains "file:// URL" "$out" "commit $new"
tt_run out rc "$TOOL" fetch --url "$base/deploy.git" --branch main --path clusters/prod --state "$state"
tt_contains "local path URL" "$out" "file web/extra.yaml"

# A symlink climbing out of source.path is refused, naming it; it fails
# only its own unit, the rest of the tree is read.
ln -s ../../../secrets.yaml "$work/clusters/prod/web/leak.yaml"
echo 'password: x' >"$work/secrets.yaml"
tt_git_commit "$work" "symlink out"
tt_run out rc "$TOOL" fetch "${common[@]}"
tt_eq "symlink outside: read goes on" 0 "$rc"
tt_contains "symlink outside: a problem of its path" "$out" \
	"problem web/leak.yaml: symlink points outside source.path"
tt_contains "symlink outside: other files still read" "$out" "file payments/cm.yaml"
tt_not_contains "symlink outside: secret not read" "$out" "file web/leak.yaml"
git -C "$work" rm -q clusters/prod/web/leak.yaml
tt_git_commit "$work" "no symlink"

# A submodule is refused, naming its path.
sub=$TT_TMP/sub
git init -q "$sub" && git -C "$sub" commit -q --allow-empty -m sub
git -C "$work" -c protocol.file.allow=always submodule -q add "$sub" clusters/prod/vendor 2>/dev/null
tt_git_commit "$work" "submodule"
tt_run out rc "$TOOL" fetch "${common[@]}"
tt_contains "submodule: a problem of its path" "$out" "problem vendor: is a submodule"

tt_done
