# Git helpers for integration tests (bash). Source after common.sh:
#   . "$TG_SOURCE_DIR/tests/lib/common.sh"
#   . "$TG_SOURCE_DIR/tests/lib/git.sh"
# Commits are made with a fixed identity so tests do not depend on the
# user's Git configuration.
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.com
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME=${TT_TMP}/home
mkdir -p "$HOME"
git config --global init.defaultBranch main
git config --global advice.detachedHead false

# tt_start_git_daemon BASE_DIR: serve every repository under BASE_DIR over
# git:// on a free loopback port, with pushes allowed. Sets TT_GIT_PORT and
# TT_GIT_URL (git://127.0.0.1:PORT); the daemon is stopped by PID at exit.
tt_start_git_daemon() {
	local base=$1
	TT_GIT_PORT=$(tt_free_port)
	tt_bg "$TT_TMP/git-daemon.log" git daemon --reuseaddr \
		--listen=127.0.0.1 --port="$TT_GIT_PORT" --base-path="$base" \
		--export-all --enable=receive-pack --informative-errors "$base"
	tt_wait_port "$TT_GIT_PORT"
	TT_GIT_URL="git://127.0.0.1:$TT_GIT_PORT"
}

# tt_git_bare DIR: an empty bare repository whose HEAD is main.
tt_git_bare() {
	git init -q --bare -b main "$1"
}

# tt_git_commit WORKDIR MESSAGE: commit everything in WORKDIR and push the
# current branch to origin (same name).
tt_git_commit() {
	local work=$1 msg=$2
	git -C "$work" add -A
	git -C "$work" commit -q -m "$msg"
	git -C "$work" push -q origin HEAD 2>/dev/null
}
