#!/usr/bin/env bash
# The Git source and status over ssh:// against a real OpenSSH server:
# fetch with a key file when the host key is in known_hosts (plain and
# hashed entries), refusal of an unknown host and of a changed host key,
# and a status push over SSH.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/git.sh"

# Debian's libgit2 1.5.1 leaks a little on every SSH connect (see the file).
# Full stacks through libgit2 (built without frame pointers) so the
# suppressions can match.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$TG_SOURCE_DIR/tests/lib/lsan-libgit2-ssh.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

TOOL=$TG_BUILD_DIR/tests/tools/tg_git
repo=$TT_TMP/srv/deploy.git
tt_git_bare "$repo"
work=$TT_TMP/work
git clone -q "$repo" "$work" 2>/dev/null
mkdir -p "$work/apps/web"
printf 'kind: Service\n' >"$work/apps/web/svc.yaml"
tt_git_commit "$work" "deploy web"
head=$(git -C "$work" rev-parse HEAD)

ssh-keygen -q -t ed25519 -N '' -f "$TT_TMP/client_key"
tt_start_sshd "$TT_TMP/client_key.pub"
url="ssh://$TT_SSH_USER@127.0.0.1:$TT_SSH_PORT$repo"
kh=$TT_TMP/known_hosts
state=$TT_TMP/state
auth=(--ssh-key "$TT_TMP/client_key" --known-hosts "$kh")

echo "[127.0.0.1]:$TT_SSH_PORT $TT_SSH_HOST_PUB" >"$kh"
tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$state" "${auth[@]}"
tt_eq "ssh fetch with a known host key" 0 "$rc"
tt_contains "ssh fetch reads the commit" "$out" "commit $head"
tt_contains "ssh fetch reads the files" "$out" "file apps/web/svc.yaml 14"

ssh-keygen -q -H -f "$kh" >/dev/null 2>&1
tt_contains "known_hosts entry is hashed" "$(cat "$kh")" "|1|"
rm -rf "$state"
tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$state" "${auth[@]}"
tt_eq "ssh fetch with a hashed known_hosts entry" 0 "$rc"

# Host not listed (the entry is for port 22): refused, and nothing fetched.
echo "127.0.0.1 $TT_SSH_HOST_PUB" >"$kh"
rm -rf "$state"
tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$state" "${auth[@]}"
tt_eq "unknown host: exit 1" 1 "$rc"
tt_contains "unknown host: says so" "$out" \
	"ssh host [127.0.0.1]:$TT_SSH_PORT is not in known_hosts $kh"
tt_contains "unknown host: tells how to add it" "$out" "ssh-keyscan -p $TT_SSH_PORT 127.0.0.1"
tt_contains "unknown host: untrusted" "$out" "(untrusted"

# Another key for the host: a changed key is refused as a possible attack.
ssh-keygen -q -t ed25519 -N '' -f "$TT_TMP/other_host"
echo "[127.0.0.1]:$TT_SSH_PORT $(cut -d' ' -f1,2 "$TT_TMP/other_host.pub")" >"$kh"
tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$state" "${auth[@]}"
tt_eq "changed host key: exit 1" 1 "$rc"
tt_contains "changed host key: says so" "$out" \
	"ssh host key for [127.0.0.1]:$TT_SSH_PORT does not match $kh:1"
tt_contains "changed host key: warns" "$out" "man-in-the-middle"
tt_not_contains "changed host key: the refs were never read" "$out" "commit $head"

# The wrong client key: refused by the server.
echo "[127.0.0.1]:$TT_SSH_PORT $TT_SSH_HOST_PUB" >"$kh"
ssh-keygen -q -t ed25519 -N '' -f "$TT_TMP/stranger_key"
tt_run out rc "$TOOL" fetch --url "$url" --branch main --state "$state" \
	--ssh-key "$TT_TMP/stranger_key" --known-hosts "$kh"
tt_eq "unauthorised client key: exit 1" 1 "$rc"
tt_contains "unauthorised client key: names the URL" "$out" "$url"
tt_contains "unauthorised client key: says why" "$out" "refused the configured credentials"

# A status commit pushed over SSH.
A=sha256:$(printf 'a%.0s' {1..64})
cat >"$TT_TMP/doc.json" <<JSON
{"sourceCommit": "$head", "units": {"web": {"verdict": "applied",
 "images": [{"ref": "registry.example.com/web:1", "digest": "$A", "verdict": "allowed"}]}}}
JSON
tt_run out rc "$TOOL" status --url "$url" --branch main --state "$state" "${auth[@]}" --doc "$TT_TMP/doc.json"
tt_eq "status over ssh: exit 0" 0 "$rc"
tt_contains "status over ssh: pushed" "$out" "committed yes pushed yes"
tt_eq "status over ssh: on the server" "applied: web at ${head:0:7} (1 image verified)" \
	"$(git -C "$repo" log -1 --format=%s tollgate/status)"

tt_done
