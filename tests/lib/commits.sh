# Helpers of the signed-commit tests (tests/integration/commit_signatures*.sh),
# sourced after world.sh's world_start. A test defines sign_opts KEY: the
# git options that make git sign with KEY (gpg.format and the key).
#   content VERSION        the unit clusters/prod/app at VERSION (kustomize)
#   commit_as KEY|none MSG commit everything, signed with KEY, and push
#   merge_as KEY BRANCH MSG merge BRANCH with git merge -S --no-ff, push
#   commits_policy MODE    the world policy plus commits: with mode MODE and
#                          the signers listed in $COMMITS_SIGNERS (YAML)
#   live                   the version the cluster runs
#   status_git ARGS...     git on the deploy repository (status branch)
#   once                   tollgate once; sets out and rc, logs to once.log
#   gpg_start              a GnuPG home and agent for this test (stopped
#                          by PID at exit); gpg_key NAME makes a key

P=$W_WORK/clusters/prod/app
mkdir -p "$P"

content() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: default}\ndata: {version: "%s"}\n' \
		"$1" >"$P/cm.yaml"
	printf 'resources: [cm.yaml]\n' >"$P/kustomization.yaml"
}

commit_as() {
	git -C "$W_WORK" add -A
	if [ "$1" = none ]; then
		git -C "$W_WORK" commit -q -m "$2"
	else
		# The signer (gpg or gpgsm through gpg-agent) is outside
		# tollgate; under a loaded CI run it once refused a signature
		# ("gpg failed to sign the data") that succeeds when asked
		# again: three tries before the test fails.
		local try
		for try in 1 2 3; do
			# shellcheck disable=SC2046 # sign_opts gives several words
			git -C "$W_WORK" $(sign_opts "$1") commit -q -S -m "$2" &&
				break
			if [ "$try" = 3 ]; then
				echo "commit_as: $1 could not sign" >&2
				return 1
			fi
			sleep 1
		done
	fi
	git -C "$W_WORK" push -q origin HEAD 2>/dev/null
}

merge_as() {
	# shellcheck disable=SC2046
	git -C "$W_WORK" $(sign_opts "$1") merge -q -S --no-ff -m "$3" "$2"
	git -C "$W_WORK" push -q origin HEAD 2>/dev/null
}

commits_policy() {
	world_policy
	printf 'commits:\n  mode: %s\n  signers:\n%s\n' "$1" "$COMMITS_SIGNERS" \
		>>"$W_POLICY"
}

live() {
	kc get configmap app -n default -o jsonpath='{.data.version}'
}

status_git() {
	git --git-dir="$TT_TMP/git/deploy.git" "$@"
}

once() {
	tt_run out rc "$TG_BIN" once --config "$W_CONFIG" --health-timeout 1
	echo "$out" >>"$TT_TMP/once.log"
}

gpg_start() {
	export GNUPGHOME=$TT_TMP/gnupg
	mkdir -m 700 -p "$GNUPGHOME"
	tt_bg "$TT_TMP/gpg-agent.log" gpg-agent --homedir "$GNUPGHOME" \
		--daemon --no-detach --allow-loopback-pinentry
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$GNUPGHOME/S.gpg-agent" ] && return 0
		sleep 0.1
	done
	echo "gpg-agent did not start" >&2
	return 1
}

# gpg_key NAME: an Ed25519 signing key for NAME@example.com; prints its
# fingerprint.
gpg_key() {
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
		--quick-gen-key "$1 <$1@example.com>" ed25519 sign never 2>/dev/null
	gpg --batch --list-keys --with-colons "$1@example.com" 2>/dev/null |
		awk -F: '/^fpr/{print $10; exit}'
}
