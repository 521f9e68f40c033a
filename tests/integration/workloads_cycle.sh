#!/usr/bin/env bash
# Issue 14, "Done when": workload rules in the cycle, against the real
# registry, git daemon and testcluster. A unit whose Deployment violates
# restricted is blocked with every violation in the status commit while
# the other units apply; a namespace without a default-deny NetworkPolicy
# blocks its unit, and adding one in Git unblocks it; an exception for one
# control lets a DaemonSet through and is named in the status; a warn rule
# applies and reports. `tollgate check --images` gives the same verdicts
# offline.
. "$TG_SOURCE_DIR/tests/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/world.sh"
world_start

world_policy "exceptions:
  - name: node-agent-logs
    objects: [\"DaemonSet/monitoring/node-agent\"]
    waive: [podSecurity/hostPathVolumes, podSecurity/restrictedVolumes]
    reason: vendor agent reads /var/log, ticket SEC-207
    approvedBy: security@example.com
    expires: 2099-12-31
workloads:
  - name: trial
    namespaces: [trial]
    podSecurity: restricted
    mode: warn
  - name: everything
    namespaces: [\"*\"]
    podSecurity: restricted
    networkPolicy: required"

once() {
	tt_run OUT RC "$TG_BIN" once --config "$W_CONFIG" --health-timeout 0
	echo "$OUT" >>"$TT_TMP/once.log"
}
last_commit() {
	git --git-dir="$TT_TMP/git/deploy.git" log -1 --format='%s%n%b' tollgate/status
}
status_file() {
	git --git-dir="$TT_TMP/git/deploy.git" show "tollgate/status:$1"
}
# After a cycle: status.json's unit fields ("unit.field value" lines, one
# python run) and the cluster's workload objects (one kubectl run), so the
# checks below read variables rather than start a process each.
snapshot() {
	FIELDS=$(status_file status.json | python3 -c 'import json, sys
for n, u in json.load(sys.stdin)["units"].items():
    for k in ("verdict", "workloads", "workloadExceptions"):
        print(n + "." + k, json.dumps(u.get(k, "")))')
	LIVE=$(kc get deployments,daemonsets,jobs,networkpolicies -A \
		-o jsonpath='{range .items[*]}{.kind} {.metadata.namespace}/{.metadata.name}{"\n"}{end}')
}
unit_field() { # UNIT FIELD
	grep "^$1\.$2 " <<<"$FIELDS" | cut -d' ' -f2-
}

world_image shop/web:1.0 >/dev/null
world_sign shop/web:1.0
IMG=$REGISTRY/shop/web:1.0
P=$W_WORK/clusters/prod

deny() { # NAMESPACE: a default-deny Ingress NetworkPolicy
	printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: %s}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n' "$1"
}
good_pod() { # restricted: pod and container security contexts
	printf '    spec:\n'
	printf '      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n'
	printf '      containers:\n      - name: app\n        image: %s\n' "$IMG"
	printf '        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n'
}
deployment() { # NAMESPACE NAME: a Deployment that passes restricted
	printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s, namespace: %s}\nspec:\n  selector: {matchLabels: {app: %s}}\n  template:\n    metadata: {labels: {app: %s}}\n' "$2" "$1" "$2" "$2"
	good_pod
}

mkdir -p "$P/shop" "$P/payments" "$P/billing" "$P/monitoring" "$P/trial"
{ world_namespace shop; deployment shop web; deny shop; } >"$P/shop/app.yaml"
{
	world_namespace payments
	deny payments
	cat <<EOF
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: payments}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      hostNetwork: true
      initContainers:
      - name: migrate
        image: $IMG
        securityContext: {allowPrivilegeEscalation: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}
      containers:
      - name: api
        image: $IMG
        securityContext: {privileged: true}
EOF
} >"$P/payments/app.yaml"
{ world_namespace billing; deployment billing invoices; } >"$P/billing/app.yaml"
{
	world_namespace monitoring
	deny monitoring
	printf -- '---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: node-agent, namespace: monitoring}\n'
	printf 'spec:\n  selector: {matchLabels: {app: node-agent}}\n  template:\n    metadata: {labels: {app: node-agent}}\n'
	good_pod
	printf '      volumes:\n      - {name: logs, hostPath: {path: /var/log}}\n'
} >"$P/monitoring/agent.yaml"
{
	world_namespace trial
	printf -- '---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: try, namespace: trial}\n'
	printf 'spec:\n  template:\n    spec:\n      restartPolicy: Never\n'
	printf '      containers:\n      - {name: try, image: %s}\n' "$IMG"
} >"$P/trial/job.yaml"
world_commit "five units under workload rules"

# --- tollgate check --images: the verdicts CI gets -----------------------------
tt_run out rc "$TG_BIN" check --policy "$W_POLICY" --images \
	--insecure-registry "$REGISTRY" "$P"
tt_eq "check --images: exit 3" 3 "$rc"
tt_contains "check --images: the image verified" "$out" "image $IMG: allowed"
tt_contains "check --images: payments blocked" "$out" "unit payments: blocked (8 workload violations)"
tt_contains "check --images: shop passes" "$out" "unit shop: pass"

# --- first cycle ------------------------------------------------------------------
once
tt_eq "cycle 1: exit 3 (units blocked)" 3 "$RC"
msg=$(last_commit)
snapshot
tt_contains "payments blocked in status.json" "$(unit_field payments verdict)" '"blocked"'
for part in \
	"Deployment payments/api: spec.template.spec.hostNetwork: true; allowed: false or unset (baseline: hostNamespaces)" \
	"Deployment payments/api: container api: spec.template.spec.containers[0].securityContext.privileged: true; allowed: false or unset (baseline: privileged)" \
	"Deployment payments/api: container migrate: spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation: true; allowed: false (restricted: allowPrivilegeEscalation)" \
	"Deployment payments/api: container api: spec.template.spec.containers[0].securityContext.runAsNonRoot: unset" \
	"Deployment payments/api: container api: spec.template.spec.containers[0].securityContext.capabilities.drop: unset"; do
	tt_contains "status commit: $part" "$msg" "- payments: $part"
done
tt_not_contains "payments' Deployment is not in the cluster" "$LIVE" "Deployment payments/api"
tt_not_contains "payments is blocked whole (its NetworkPolicy is not applied)" \
	"$LIVE" "NetworkPolicy payments/default-deny"

tt_contains "shop applied" "$(unit_field shop verdict)" '"applied"'
tt_contains "shop's Deployment is in the cluster" "$LIVE" "Deployment shop/web"

tt_contains "billing blocked" "$(unit_field billing verdict)" '"blocked"'
tt_contains "status commit: billing's missing NetworkPolicy" "$msg" \
	"- billing: namespace billing runs pods but has no default-deny Ingress NetworkPolicy in Git"
tt_not_contains "billing's Deployment is not in the cluster" "$LIVE" "Deployment billing/invoices"

tt_contains "monitoring applied with the exception" "$(unit_field monitoring verdict)" '"applied"'
tt_contains "the DaemonSet is in the cluster" "$LIVE" "DaemonSet monitoring/node-agent"
tt_contains "status.json names the exception" "$(unit_field monitoring workloadExceptions)" \
	'"name": "node-agent-logs"'
tt_contains "status.json: the waived violation says by what" "$(unit_field monitoring workloads)" \
	'"waivedBy": "node-agent-logs"'
tt_contains "status commit: exception used" "$msg" \
	"Workload exceptions used:
- monitoring: node-agent-logs (vendor agent reads /var/log, ticket SEC-207; approved by security@example.com; expires 2099-12-31)"

tt_contains "trial applied (warn)" "$(unit_field trial verdict)" '"applied"'
tt_contains "trial's Job is in the cluster" "$LIVE" "Job trial/try"
tt_contains "status commit: warnings of the applied unit" "$msg" \
	"Workload warnings (applied):
- trial: Job trial/try: container try: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: unset; allowed: false (restricted: allowPrivilegeEscalation)"

tt_contains "units/payments.json carries the violations" \
	"$(status_file units/payments.json)" '"control": "privileged"'
tt_contains "STATUS.md lists the violations" "$(status_file STATUS.md)" \
	"| workload violation | mode |"
note=$(git --git-dir="$TT_TMP/git/deploy.git" notes --ref=tollgate show \
	"$(git --git-dir="$TT_TMP/git/deploy.git" rev-parse main)")
tt_contains "the note: payments blocked" "$note" "payments: blocked"
tt_contains "the note names a violation" "$note" "  workload (enforce): Deployment payments/api"
tt_contains "the note names the exception" "$note" "  exception used: node-agent-logs"

# --- second cycle: a default-deny policy for billing, added in another unit -------
mkdir -p "$P/netpols"
deny billing >"$P/netpols/billing.yaml"
world_commit "billing: default-deny ingress"
once
tt_eq "cycle 2: exit 3 (payments still blocked)" 3 "$RC"
snapshot
tt_contains "billing applied now" "$(unit_field billing verdict)" '"applied"'
tt_contains "billing's Deployment is in the cluster" "$LIVE" "Deployment billing/invoices"
tt_contains "payments still blocked" "$(unit_field payments verdict)" '"blocked"'

tt_done
