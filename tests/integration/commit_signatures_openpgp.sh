#!/usr/bin/env bash
# OpenPGP-signed commits (policy commits: with an openpgp: signer) end to
# end: commits signed by real git with GnuPG keys made here
# (gpg.format=openpgp), pushed to a git daemon, applied to
# tests/testcluster by tollgate once. A commit signed by a listed key
# deploys and names its signer in once's output and the status; a head
# signed by an unlisted key is blocked (exit 3) while the cluster keeps
# the previous content; in mode history a merge made with git merge -S
# verifies with its branch.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start
. "$TG_SOURCE_DIR/tests/lib/commits.sh"

gpg_start
alice_fp=$(gpg_key alice)
mallory_fp=$(gpg_key mallory)
gpg --batch --armor --export alice@example.com >"$TT_TMP/team.asc"
sign_opts() {
	local fp=${1}_fp
	echo "-c gpg.format=openpgp -c user.signingkey=${!fp}"
}
COMMITS_SIGNERS="    - {name: alice, openpgp: $TT_TMP/team.asc}"
commits_policy head

# 1. signed by a listed key: deployed, the signer named everywhere
content v1
commit_as alice "v1"
tt_contains "git made an OpenPGP signature" \
	"$(git -C "$W_WORK" cat-file -p HEAD)" "gpgsig -----BEGIN PGP SIGNATURE-----"
once
tt_eq "a commit signed by alice's OpenPGP key deploys" 0 "$rc"
tt_contains "once names the signer" "$out" \
	"commit: verified, signed by alice (openpgp ed25519 $alice_fp)"
tt_eq "the cluster runs v1" v1 "$(live)"
tt_contains "status commit trailer names the signer" \
	"$(status_git log -1 --format=%B tollgate/status)" \
	"Signed-By: alice (openpgp ed25519 $alice_fp)"
tt_contains "status.json names the signer" \
	"$(status_git show tollgate/status:status.json)" \
	"\"signedBy\": \"alice (openpgp ed25519 $alice_fp)\""

# 2. signed by a key the policy does not list: blocked, v1 kept
content v2
commit_as mallory "v2 by mallory"
head=$(git -C "$W_WORK" rev-parse HEAD)
once
tt_eq "an unlisted OpenPGP key exits 3" 3 "$rc"
tt_contains "the unlisted key is named" "$out" \
	"signed by openpgp ed25519 $mallory_fp, which no signer of the policy lists"
tt_eq "the cluster keeps v1" v1 "$(live)"
msg=$(status_git log -1 --format=%B tollgate/status)
tt_contains "status subject" "$msg" \
	"blocked: source ${head:0:7} (not signed by a trusted signer)"
tt_contains "status body names the signature found" "$msg" \
	"openpgp ed25519 $mallory_fp"

# 3. mode history: alice's signed branch merged with git merge -S
commits_policy history
# (mallory's commit is dropped: history mode would block on it)
git -C "$W_WORK" reset -q --hard HEAD~1
git -C "$W_WORK" push -q -f origin HEAD 2>/dev/null
git -C "$W_WORK" checkout -q -b feature
content v3
commit_as alice "v3 on a branch"
git -C "$W_WORK" checkout -q main
merge_as alice feature "merge feature"
tt_eq "the head is a merge" 2 \
	"$(git -C "$W_WORK" cat-file -p HEAD | grep -c '^parent')"
once
tt_eq "history: an OpenPGP-signed merge over signed commits deploys" 0 "$rc"
tt_eq "the cluster runs v3" v3 "$(live)"
tt_contains "the merge's signer is named" "$out" \
	"signed by alice (openpgp ed25519 $alice_fp)"

tt_done
