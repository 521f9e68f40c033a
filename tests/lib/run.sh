# The setup the tests of `tollgate run` (tests/integration/run_*.sh) share:
# a world (world.sh) whose cycle interval is 1h, so that only an early
# cycle can explain a change, signed shop/web images, and a Deployment web
# in Namespace shop. Source after common.sh (it sources world.sh and
# agent.sh):
#   . "$TG_SOURCE_DIR/tests/lib/common.sh"
#   . "$TG_SOURCE_DIR/tests/lib/run.sh"
#   run_world TAG...   world_start, interval 1h, then push and sign
#                      shop/web:TAG for each TAG; sets P (clusters/prod in
#                      W_WORK) and RUN_DIGEST[TAG] (each image's digest).
#                      Starts no process after the git daemon, so
#                      TT_LAST_PID stays the daemon's.
#   run_shop           write Namespace shop under $P/shop (no commit)
#   run_web TAG        write Deployment web (image shop/web:TAG) and commit
#                      it as "web TAG"
#   holder             the holderIdentity of the agents' Lease ("" if none)
#   web_image          the image of Deployment shop/web ("" if none)
. "$TG_SOURCE_DIR/tests/lib/world.sh"
. "$TG_SOURCE_DIR/tests/lib/agent.sh"

declare -A RUN_DIGEST=()

run_world() {
	local tag
	world_start
	sed -i 's/interval: 30s/interval: 1h/' "$W_CONFIG"
	for tag in "$@"; do
		RUN_DIGEST[$tag]=$(world_image "shop/web:$tag")
		world_sign "shop/web:$tag"
	done
	P=$W_WORK/clusters/prod
}

run_shop() {
	mkdir -p "$P/shop"
	cat >"$P/shop/ns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
YAML
}

run_web() {
	world_deployment shop web "$REGISTRY/shop/web:$1" >"$P/shop/web.yaml"
	world_commit "web $1"
}

holder() {
	kc get lease tollgate-leader -n tollgate-system \
		-o jsonpath='{.spec.holderIdentity}' 2>/dev/null
}

web_image() {
	kc get deployment web -n shop \
		-o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null
}
