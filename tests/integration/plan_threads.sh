#!/usr/bin/env bash
# Issue 20: the plan of a cycle runs on two threads (reconciler/plan/plan.c,
# plan_two_threads) unless a unit holds a CustomResourceDefinition, whose
# tree the checks of other units may read; then it runs on one, as before.
# Both must decide alike. One deploy repository with units of every
# outcome (applied, an unsigned image, an object in tollgate's own
# namespace, a privileged pod under a baseline rule, a file that does not
# parse) goes through a cold `tollgate once` on two threads; then, on an
# emptied cluster and state, the same units plus one with a CRD go through
# one on one thread. Each unit's status entry and the objects applied must
# be the same, and each outcome must be the one expected.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

world_policy "workloads:
  - name: everything
    namespaces: [\"*\"]
    podSecurity: baseline"

web=$(world_image shop/web:1.0)
world_sign shop/web:1.0
world_image evil/app:1.0 >/dev/null # pushed, never signed
P=$W_WORK/clusters/prod

unit() { # unit NAME: the unit's one file from stdin
	mkdir -p "$P/$1"
	cat >"$P/$1/all.yaml"
}
for i in 0 1 2 3 4 5 6 7; do
	{
		world_namespace "team$i"
		world_deployment "team$i" web "$REGISTRY/shop/web:1.0"
		printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: team%s}\ndata: {n: "%s"}\n' "$i" "$i"
	} | unit "team$i"
done
{
	world_namespace unsigned
	world_deployment unsigned app "$REGISTRY/evil/app:1.0"
} | unit unsigned
unit reserved <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: takeover, namespace: tollgate-system}
data: {x: "1"}
EOF
{
	world_namespace privileged
	world_deployment privileged root "$REGISTRY/shop/web:1.0" |
		sed 's/^          image: .*/&\n          securityContext: {privileged: true}/'
} | unit privileged
unit broken <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: broken, namespace: default
data: [
EOF
world_commit "units of every outcome"

once() {
	tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0 \
		--log-level debug
	echo "$OUT" >>"$TT_TMP/once.log"
}
# Each unit's entry in the last status commit, without the times, one line
# per unit (the CRD's unit left out).
entries() {
	git --git-dir="$TT_TMP/git/deploy.git" show tollgate/status:status.json |
		python3 -c 'import json, sys
units = json.load(sys.stdin)["units"]
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if k != "verifiedAt"}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
for name in sorted(units):
    if name != "crd":
        print(name, json.dumps(clean(units[name]), sort_keys=True))'
}
verdicts() {
	entries | python3 -c 'import json, sys
for line in sys.stdin:
    n, e = line.split(" ", 1)
    print(n, json.loads(e)["verdict"])'
}
applied() {
	kc get namespaces,deployments,configmaps -A -l app.kubernetes.io/managed-by=tollgate \
		-o jsonpath='{range .items[*]}{.kind} {.metadata.namespace}/{.metadata.name} {.metadata.annotations.tollgate\.dev/unit}{"\n"}{end}' |
		grep -v -e '^CustomResourceDefinition' -e ' crd$' | sort
}

once
# exit 1: a unit with invalid manifests (and units blocked)
tt_eq "cycle on two threads: exit 1 (the broken unit)" 1 "$RC"
tt_contains "the plan ran on two threads" "$OUT" "plan on two threads"
first_entries=$(entries)
first_applied=$(applied)
first_verdicts=$(verdicts)
expected="broken failed
privileged blocked
reserved blocked
team0 applied
team1 applied
team2 applied
team3 applied
team4 applied
team5 applied
team6 applied
team7 applied
unsigned blocked"
tt_eq "each unit's outcome on two threads" "$expected" "$first_verdicts"
tt_contains "the privileged pod is refused by the baseline rule" \
	"$(entries | grep '^privileged ')" "privileged"
tt_contains "the object in tollgate's namespace is not admitted" \
	"$(entries | grep '^reserved ')" "not admitted"
tt_eq "the honest units' objects are applied (3 each)" 24 \
	"$(grep -v ' tollgate-system/' <<<"$first_applied" | grep -c ' team[0-7]$')"
tt_eq "and each honest unit's inventory" 8 \
	"$(grep -c '^ConfigMap tollgate-system/tollgate-inventory-team[0-7]-' <<<"$first_applied")"
tt_eq "nothing of the blocked units is applied" "" \
	"$(grep -E ' (unsigned|reserved|privileged|broken)$' <<<"$first_applied")"

# The same units on an emptied cluster and state, with a CRD in the set.
tc_curl POST /testcluster/reset >/dev/null
rm -rf "${W_STATE:?}"/*
git --git-dir="$TT_TMP/git/deploy.git" update-ref -d refs/heads/tollgate/status
git --git-dir="$TT_TMP/git/deploy.git" update-ref -d refs/notes/tollgate 2>/dev/null || :
unit crd <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF
world_commit "a unit with a CRD"
once
tt_eq "cycle on one thread: exit 1 (the broken unit)" 1 "$RC"
tt_not_contains "a set with a CRD is planned on one thread" "$OUT" \
	"plan on two threads"
tt_eq "every unit's status entry is the same on one thread" \
	"$first_entries" "$(entries)"
tt_eq "the same objects are applied on one thread" "$first_applied" \
	"$(applied)"

tc_stop_check
tt_done
