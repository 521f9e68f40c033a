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
	TT_GIT_BASE=$base
	TT_GIT_PID=$TT_LAST_PID
}

# tt_kill_git_daemon: the git daemon vanishes: SIGKILL to it and to every
# process it started (connections being served, receive-pack of a push in
# progress), by PID.
tt_kill_git_daemon() {
	local pids=("$TT_GIT_PID") i=0 c
	while [ "$i" -lt "${#pids[@]}" ]; do
		for c in $(ps -o pid= --ppid "${pids[$i]}" 2>/dev/null); do
			pids+=("$c")
		done
		i=$((i + 1))
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
	wait "$TT_GIT_PID" 2>/dev/null || true
}

# tt_restart_git_daemon: a new git daemon on the same port and base.
tt_restart_git_daemon() {
	tt_bg "$TT_TMP/git-daemon.log" git daemon --reuseaddr \
		--listen=127.0.0.1 --port="$TT_GIT_PORT" --base-path="$TT_GIT_BASE" \
		--export-all --enable=receive-pack --informative-errors "$TT_GIT_BASE"
	TT_GIT_PID=$TT_LAST_PID
	tt_wait_port "$TT_GIT_PORT"
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

# tt_start_sshd REPO_USER_KEY_PUB: an OpenSSH server on a free loopback
# port for the current user, accepting only the given public key, with a
# fresh ed25519 host key. Sets TT_SSH_PORT, TT_SSH_HOST_PUB (the host key
# line "ssh-ed25519 AAAA...") and TT_SSH_USER.
tt_start_sshd() {
	local pub=$1 dir=$TT_TMP/sshd
	mkdir -p "$dir"
	ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519"
	cp "$pub" "$dir/authorized_keys"
	chmod 600 "$dir/authorized_keys"
	TT_SSH_PORT=$(tt_free_port)
	TT_SSH_USER=$(id -un)
	TT_SSH_HOST_PUB=$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")
	cat >"$dir/sshd_config" <<CONF
Port $TT_SSH_PORT
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
SetEnv HOME=$HOME GIT_CONFIG_NOSYSTEM=1
CONF
	# sshd run as root wants its privilege separation directory.
	if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; fi
	tt_bg "$dir/sshd.log" /usr/sbin/sshd -D -e -f "$dir/sshd_config"
	tt_wait_port "$TT_SSH_PORT"
}

# tt_start_git_https BASE_DIR [USER:PASSWORD]: serve the repositories under
# BASE_DIR over smart HTTPS (git http-backend behind
# tests/tools/git_https_server.py) on a free loopback port, with a server
# certificate for 127.0.0.1 signed by a fresh test CA, and Basic auth when
# USER:PASSWORD is given. Sets TT_HTTPS_URL (https://127.0.0.1:PORT) and
# TT_HTTPS_CA (the CA's PEM file).
tt_start_git_https() {
	local base=$1 user=${2:-} dir=$TT_TMP/https port
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -subj /CN=tollgate-test-ca -keyout "$dir/ca.key" \
		-out "$dir/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=127.0.0.1 -keyout "$dir/server.key" \
		-out "$dir/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n' \
		>"$dir/ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" \
		-CAkey "$dir/ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/ext" -out "$dir/server.pem" 2>/dev/null
	port=$(tt_free_port)
	tt_bg "$dir/server.log" python3 "$TG_SOURCE_DIR/tests/tools/git_https_server.py" \
		--root "$base" --port "$port" --cert "$dir/server.pem" \
		--key "$dir/server.key" ${user:+--user "$user"}
	tt_wait_port "$port"
	TT_HTTPS_URL="https://127.0.0.1:$port"
	TT_HTTPS_CA=$dir/ca.pem
}
