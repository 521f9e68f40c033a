#!/usr/bin/env bash
# OCI sources (issue 17): hostile archives as the layer of signed artifacts
# in Debian's docker-registry. Each of tests/data/archive/bad/ named below
# (made by tests/tools/make-archives.py) is refused by `tollgate once`
# naming the entry, with nothing of it applied: the cluster keeps what the
# verified artifact deployed first. oci_source.sh covers signatures and
# layer digests. Last, status.url with a Git source.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

BAD=$TG_SOURCE_DIR/tests/data/archive/bad
tt_git_bare "$TT_TMP/git/status.git"
config() { # TAG
	cat >"$TT_TMP/oci.yaml" <<CONFIG
source:
  url: oci://$REGISTRY/deploy/prod:$1
  path: clusters/prod
status:
  url: $TT_GIT_URL/status.git
cluster:
  kubeconfig: $TC_KUBECONFIG
policy: $W_POLICY
registries:
  insecure: [$REGISTRY]
stateDir: $W_STATE
CONFIG
}
once() {
	tt_run OUT RC "$TG_BIN" once --config "$TT_TMP/oci.yaml" --health-timeout 0
	echo "$OUT" >>"$TT_TMP/once.log"
}
color() {
	kc get configmap web-config -n shop -o jsonpath='{.data.color}'
}

mkdir -p "$TT_TMP/a/clusters/prod/shop"
{ world_namespace shop
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config, namespace: shop}\ndata: {color: blue}\n'
} >"$TT_TMP/a/clusters/prod/shop/web.yaml"
CASES="dotdot absolute symlink hardlink chardev duplicate bomb"
{
	echo "push-artifact $REGISTRY/deploy/prod:good --dir $TT_TMP/a"
	echo "sign $REGISTRY/deploy/prod:good --key $W_KEY"
	for c in $CASES; do
		echo "push-artifact $REGISTRY/deploy/prod:$c --layer $BAD/$c.tar.gz"
		echo "sign $REGISTRY/deploy/prod:$c --key $W_KEY"
	done
} | python3 "$TG_SOURCE_DIR/tests/tools/tg-image-batch" >/dev/null

config good
once
tt_eq "the verified artifact deploys" 0 "$RC"
tt_eq "its ConfigMap is applied" blue "$(color)"

hostile() { # CASE WANT
	config "$1"
	once
	tt_eq "$1: once exits 3" 3 "$RC"
	tt_contains "$1: the entry is named" "$OUT" "$2"
	tt_contains "$1: the artifact is refused whole" "$OUT" "the artifact is refused whole"
	tt_eq "$1: the cluster keeps what it had" blue "$(color)"
}
hostile dotdot 'entry "../x.yaml": ".." component'
hostile absolute 'entry "/etc/x.yaml": absolute path'
hostile symlink 'entry "x.yaml": symlink'
hostile hardlink 'entry "x.yaml": hard link'
hostile chardev 'entry "dev/null": character device'
hostile duplicate 'entry "app/x.yaml": the path is in the archive twice'
hostile bomb 'entry "bomb/32.yaml": more than 268435456 bytes unpacked'
tt_contains "the status commit names the refused artifact and entry" \
	"$(git --git-dir="$TT_TMP/git/status.git" log -1 --format=%B tollgate/status)" \
	'entry "bomb/32.yaml"'

# status.url serves Git sources too: the status of the deploy repository
# goes to another repository (with its notes), the deploy one is untouched.
tt_git_bare "$TT_TMP/git/status2.git"
sed "s|^status:|status:\n  url: $TT_GIT_URL/status2.git|" "$W_CONFIG" >"$TT_TMP/git.yaml"
mkdir -p "$W_WORK/clusters/prod/shop"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: git-config, namespace: shop}\n' \
	>"$W_WORK/clusters/prod/shop/cm.yaml"
world_commit "a unit"
head=$(git -C "$W_WORK" rev-parse HEAD)
tt_run OUT RC "$TG_BIN" once --config "$TT_TMP/git.yaml" --health-timeout 0
tt_eq "a Git source with status.url: once exits 0" 0 "$RC"
tt_eq "its status commit is in status.url's repository" "$head" \
	"$(git --git-dir="$TT_TMP/git/status2.git" log -1 --format='%(trailers:key=Source-Commit,valueonly)' tollgate/status)"
tt_contains "with its note" \
	"$(git --git-dir="$TT_TMP/git/status2.git" for-each-ref refs/notes)" refs/notes/tollgate
tt_eq "nothing written to the deploy repository" "" \
	"$(git --git-dir="$TT_TMP/git/deploy.git" for-each-ref refs/heads/tollgate refs/notes)"
tt_done
