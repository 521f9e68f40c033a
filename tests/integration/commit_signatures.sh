#!/usr/bin/env bash
# Signed commits (policy commits:) end to end: commits signed by real git
# with ssh-keygen keys (gpg.format=ssh), pushed to a git daemon, applied
# to tests/testcluster by tollgate once. A commit signed by a listed key
# deploys and names its signer; an unsigned head, a head signed by an
# unlisted key and one signed by a listed key outside its valid-before
# window are blocked (exit 3) while the cluster keeps, and drift
# correction restores, the last verified content; in mode history a
# signed head over an unsigned commit is blocked, and a merge made with
# git merge -S verifies.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

for k in alice bob carol mallory; do
	ssh-keygen -q -t ed25519 -N '' -C "$k@example.com" -f "$TT_TMP/$k"
done
{
	echo "bob@example.com namespaces=\"git\" $(cat "$TT_TMP/bob.pub")"
	echo "carol@example.com valid-before=\"20200101Z\" $(cat "$TT_TMP/carol.pub")"
} >"$TT_TMP/allowed_signers"
. "$TG_SOURCE_DIR/tests/lib/commits.sh"
sign_opts() {
	echo "-c gpg.format=ssh -c user.signingkey=$TT_TMP/$1"
}
COMMITS_SIGNERS="    - {name: alice, ssh: $TT_TMP/alice.pub}
    - {name: team, allowedSigners: $TT_TMP/allowed_signers}"
commits_policy head
alice_fp=$(ssh-keygen -lf "$TT_TMP/alice.pub" | cut -d' ' -f2)

# 1. signed by a listed key: deployed, the signer named everywhere
content v1
commit_as alice "v1"
once
tt_eq "a commit signed by alice deploys" 0 "$rc"
tt_contains "once names the signer" "$out" \
	"commit: verified, signed by alice (ssh ed25519 $alice_fp)"
tt_eq "the cluster runs v1" v1 "$(live)"
tt_contains "status commit trailer names the signer" \
	"$(status_git log -1 --format=%B tollgate/status)" \
	"Signed-By: alice (ssh ed25519 $alice_fp)"
tt_contains "status.json names the signer" \
	"$(status_git show tollgate/status:status.json)" \
	"\"signedBy\": \"alice (ssh ed25519 $alice_fp)\""
tt_contains "STATUS.md names the signer" \
	"$(status_git show tollgate/status:STATUS.md)" 'Signed by alice \(ssh ed25519'

v1=$(git -C "$W_WORK" rev-parse HEAD)

# 2. unsigned head: blocked, the cluster keeps v1
content v2
commit_as none "v2 unsigned"
head=$(git -C "$W_WORK" rev-parse HEAD)
once
tt_eq "an unsigned head exits 3" 3 "$rc"
tt_contains "once says why" "$out" "commit: blocked (not signed by a trusted signer): not signed"
tt_eq "the cluster keeps v1" v1 "$(live)"
msg=$(status_git log -1 --format=%B tollgate/status)
tt_contains "status subject" "$msg" \
	"blocked: source ${head:0:7} (not signed by a trusted signer)"
tt_contains "status body names the author" "$msg" "Author: "
tt_contains "status body says the signature found" "$msg" "Signature: none found"
tt_contains "status body names the content kept" "$msg" \
	"The cluster keeps the content of $v1"
tt_contains "Source-Commit trailer" "$msg" "Source-Commit: $head"
tt_contains "verdict trailer" "$msg" "Tollgate-Verdict: blocked"
tt_contains "a note on the blocked commit" \
	"$(status_git notes --ref=tollgate show "$head" 2>&1)" "source: blocked"

# 3. signed by a key no signer lists
content v3
commit_as mallory "v3 by mallory"
once
tt_eq "an unlisted key exits 3" 3 "$rc"
tt_contains "the unlisted key is named" "$out" "which no signer of the policy lists"
tt_eq "the cluster still runs v1" v1 "$(live)"

# 4. a listed key outside its valid-before window; drift is still
# corrected against the last verified commit
content v4
commit_as carol "v4 by carol"
kc patch configmap app -n default --type merge -p '{"data":{"version":"hacked"}}' >/dev/null
once
tt_eq "an expired signer exits 3" 3 "$rc"
tt_contains "the window is named" "$out" "valid only before 2020-01-01"
tt_eq "drift is corrected to the last verified content" v1 "$(live)"

# 5. allowedSigners (bob): deployed; plan shows the verdict first
content v5
commit_as bob "v5 by bob"
tt_run pout prc "$TG_BIN" plan --config "$W_CONFIG"
tt_eq "plan's second line is the commit verdict" \
	"commit: verified, signed by team (ssh ed25519 $(ssh-keygen -lf "$TT_TMP/bob.pub" | cut -d' ' -f2))" \
	"$(echo "$pout" | grep -A1 '^source ' | sed -n 2p)"
once
tt_eq "a commit signed by bob (allowed signers) deploys" 0 "$rc"
tt_eq "the cluster runs v5" v5 "$(live)"

# 6. mode history: a merge made with git merge -S verifies with its
# branch; then a signed head over an unsigned commit is blocked
commits_policy history
git -C "$W_WORK" checkout -q -b feature
content v6
commit_as alice "v6 on a branch"
git -C "$W_WORK" checkout -q main
printf 'x: 1\n' >"$W_WORK/README.yaml"
commit_as alice "readme"
merge_as alice feature "merge feature"
tt_eq "the head is a merge" 2 \
	"$(git -C "$W_WORK" cat-file -p HEAD | grep -c '^parent')"
once
tt_eq "a signed merge over signed commits deploys" 0 "$rc"
tt_eq "the cluster runs v6" v6 "$(live)"
content v7
commit_as none "v7 unsigned"
bad=$(git -C "$W_WORK" rev-parse HEAD)
content v8
commit_as alice "v8 signed over v7"
once
tt_eq "history: a signed head over an unsigned commit exits 3" 3 "$rc"
tt_contains "history: the unsigned commit is named" "$out" "commit ${bad:0:7} since the last deployed one"
tt_eq "history: the cluster keeps v6" v6 "$(live)"

tt_done
