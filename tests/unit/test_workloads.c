/* Tests of the admit stage's workload rules (reconciler/admit/
 * workloads.c, netpol.c) over realistic workloads: a Deployment that
 * passes restricted, a DaemonSet that needs hostPath with an exception,
 * an init container that escalates, an ephemeral container, a CronJob's
 * nested template, a custom kind's pod spec; default-deny NetworkPolicies;
 * warn mode; expired exceptions. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/admit.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"

#define NOW 1767225600 /* 2026-01-01 */

static const char policy_yaml[] =
        "apiVersion: tollgate.dev/v1alpha1\n"
        "kind: Policy\n"
        "rules:\n"
        "  - name: all\n"
        "    images: [\"**\"]\n"
        "    signatures:\n"
        "      authorities:\n"
        "        - name: release\n"
        "          key: tests/data/policy/good/keys/release.pub\n"
        "exceptions:\n"
        "  - name: node-agent\n"
        "    objects: [\"DaemonSet/monitoring/node-agent\"]\n"
        "    waive: [podSecurity/hostPathVolumes, "
        "podSecurity/restrictedVolumes]\n"
        "    reason: vendor agent reads /var/log\n"
        "    approvedBy: security@example.com\n"
        "    expires: 2027-03-31\n"
        "  - name: old-agent\n"
        "    objects: [\"DaemonSet/monitoring/old-agent\"]\n"
        "    waive: [podSecurity/hostPathVolumes, "
        "podSecurity/restrictedVolumes]\n"
        "    reason: gone\n"
        "    approvedBy: security@example.com\n"
        "    expires: 2025-01-31\n"
        "  - name: legacy-netpol\n"
        "    objects: [\"*/legacy/*\"]\n"
        "    waive: [networkPolicy]\n"
        "    reason: moving out\n"
        "    approvedBy: security@example.com\n"
        "    expires: 2027-03-31\n"
        "workloads:\n"
        "  - name: trial\n"
        "    namespaces: [trial]\n"
        "    podSecurity: restricted\n"
        "    mode: warn\n"
        "  - name: legacy\n"
        "    namespaces: [legacy]\n"
        "    podSecurity: baseline\n"
        "    networkPolicy: required\n"
        "  - name: all\n"
        "    namespaces: [\"*\"]\n"
        "    podSecurity: restricted\n"
        "    networkPolicy: {defaultDeny: [Ingress, Egress]}\n";

#define SC                                                                     \
	"      securityContext:\n"                                             \
	"        runAsNonRoot: true\n"                                         \
	"        seccompProfile: {type: RuntimeDefault}\n"
#define CSC                                                                    \
	"        securityContext:\n"                                           \
	"          allowPrivilegeEscalation: false\n"                          \
	"          capabilities: {drop: [ALL]}\n"

#define DENY_ALL(ns)                                                           \
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"         \
	"metadata: {name: deny, namespace: " ns "}\n"                          \
	"spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"

#define DEPLOYMENT                                                             \
	"apiVersion: apps/v1\nkind: Deployment\n"                              \
	"metadata: {name: web, namespace: shop}\n"                             \
	"spec:\n  template:\n    spec:\n" SC "      containers:\n"             \
	"      - name: web\n        image: registry.example.com/web:1\n" CSC

#define DAEMONSET(name)                                                        \
	"apiVersion: apps/v1\nkind: DaemonSet\n"                               \
	"metadata: {name: " name ", namespace: monitoring}\n"                  \
	"spec:\n  template:\n    spec:\n" SC "      containers:\n"             \
	"      - name: agent\n        image: "                                 \
	"registry.example.com/agent:1\n" CSC                                   \
	"      volumes:\n      - name: logs\n"                                 \
	"        hostPath: {path: /var/log}\n"

#define INIT_ESCALATES                                                         \
	"apiVersion: apps/v1\nkind: StatefulSet\n"                             \
	"metadata: {name: db, namespace: shop}\n"                              \
	"spec:\n  template:\n    spec:\n" SC "      initContainers:\n"         \
	"      - name: chown\n        image: registry.example.com/busybox:1\n" \
	"        securityContext:\n"                                           \
	"          allowPrivilegeEscalation: true\n"                           \
	"          capabilities: {drop: [ALL]}\n"                              \
	"      containers:\n"                                                  \
	"      - name: db\n        image: registry.example.com/db:1\n" CSC

#define EPHEMERAL                                                              \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: debug, namespace: "       \
	"shop}\n"                                                              \
	"spec:\n" SC "      containers:\n"                                     \
	"      - name: app\n        image: registry.example.com/app:1\n" CSC   \
	"      ephemeralContainers:\n"                                         \
	"      - name: dbg\n        image: registry.example.com/busybox:1\n"   \
	"        securityContext: {privileged: true}\n"

/* Run the workload rules on unit "u" holding yaml; the messages of the
 * violations (one per line) into *msgs, the names of the exceptions used
 * into *used. Returns the blocking count; *warned the others. */
static size_t
run(char **msgs, char **used, size_t *warned, const char *yaml, int64_t now)
{
	tg_policy *p = NULL;
	tg_manifest_set *set = NULL;
	tg_admit_options o = { 0 };
	json_t *vs = json_array(), *us = json_array(), *x;
	tg_buf b, u;
	size_t n, i;

	o.inventory_namespace = "tollgate-system";
	o.now = now;
	if (tg_policy_parse(&p, "policy.yaml", policy_yaml, strlen(policy_yaml),
	                    NULL) < 0)
		fail_msg("policy: %s", tg_error_last());
	assert_int_equal(tg_manifest_set_new(&set, NULL), 0);
	assert_int_equal(
	        tg_manifest_set_add_file(set, "u/x.yaml", yaml, strlen(yaml)),
	        0);
	if (!tg_manifest_unit_is_valid(tg_manifest_set_unit_by_name(set, "u")))
		fail_msg("invalid: %s", tg_manifest_set_error(set, 0));
	n = tg_admit_workloads(vs, us, warned, &o, p, set,
	                       tg_manifest_set_unit_by_name(set, "u"));
	tg_buf_init(&b, 1u << 20);
	tg_buf_init(&u, 1u << 20);
	json_array_foreach(vs, i, x)
		assert_int_equal(
		        tg_buf_printf(&b, "%s\n",
		                      json_string_value(
		                              json_object_get(x, "message"))),
		        0);
	json_array_foreach(us, i, x)
		assert_int_equal(
		        tg_buf_printf(
		                &u, "%s\n",
		                json_string_value(json_object_get(x, "name"))),
		        0);
	*msgs = b.data ? tg_buf_detach(NULL, &b) : tg_strdup("");
	*used = u.data ? tg_buf_detach(NULL, &u) : tg_strdup("");
	tg_buf_free(&b);
	tg_buf_free(&u);
	json_decref(vs);
	json_decref(us);
	tg_manifest_set_free(set);
	tg_policy_free(p);
	return n;
}

typedef struct wl_case {
	const char *name;
	const char *yaml;
	size_t blocking, warned;
	const char *want; /* substrings of the messages, '|' separated */
	const char *used; /* exceptions used, as run() lists them */
} wl_case;

static void check_case(const wl_case *c)
{
	char *msgs, *used, *want = tg_strdup(c->want), *part, *next;
	size_t warned, n = run(&msgs, &used, &warned, c->yaml, NOW);

	if (n != c->blocking || warned != c->warned)
		fail_msg("%s: %zu blocking, %zu warned, want %zu, %zu:\n%s",
		         c->name, n, warned, c->blocking, c->warned, msgs);
	for (part = want; part && *part; part = next) {
		next = strchr(part, '|');
		if (next)
			*next++ = '\0';
		if (!strstr(msgs, part))
			fail_msg("%s: messages\n%s\nlack\n%s", c->name, msgs,
			         part);
	}
	if (strcmp(used, c->used))
		fail_msg("%s: exceptions used\n%s\nwant\n%s", c->name, used,
		         c->used);
	free(msgs);
	free(used);
	free(want);
}

static const wl_case cases[] = {
	{ "deployment passes", DEPLOYMENT DENY_ALL("shop"), 0, 0, "", "" },
	{ "daemonset with exception",
	  DAEMONSET("node-agent") DENY_ALL("monitoring"), 0, 0,
	  "DaemonSet monitoring/node-agent: spec.template.spec."
	  "volumes[0].hostPath: /var/log; allowed: unset (no hostPath "
	  "volume) (baseline: hostPathVolumes); waived by exception "
	  "node-agent",
	  "node-agent\n" },
	{ "expired exception is void",
	  DAEMONSET("old-agent") DENY_ALL("monitoring"), 2, 0,
	  "DaemonSet monitoring/old-agent: spec.template.spec."
	  "volumes[0].hostPath: /var/log; allowed: unset (no hostPath "
	  "volume) (baseline: hostPathVolumes); exception old-agent "
	  "expired|(restricted: restrictedVolumes)",
	  "" },
	{ "init container escalates", INIT_ESCALATES DENY_ALL("shop"), 1, 0,
	  "StatefulSet shop/db: container chown: spec.template.spec."
	  "initContainers[0].securityContext.allowPrivilegeEscalation:"
	  " true; allowed: false (restricted: "
	  "allowPrivilegeEscalation)",
	  "" },
	{ "ephemeral container", EPHEMERAL DENY_ALL("shop"), 3, 0,
	  "Pod shop/debug: container dbg: spec.ephemeralContainers[0]."
	  "securityContext.privileged: true; allowed: false or unset "
	  "(baseline: privileged)|spec.ephemeralContainers[0]."
	  "securityContext.allowPrivilegeEscalation: unset; allowed: "
	  "false|spec.ephemeralContainers[0].securityContext."
	  "capabilities.drop",
	  "" },
	{ "no network policy", DEPLOYMENT, 1, 0,
	  "namespace shop runs pods but has no default-deny Ingress "
	  "and "
	  "Egress NetworkPolicy in Git",
	  "" },
	{ "ingress only",
	  DEPLOYMENT DENY_ALL(
	          "other") "---\napiVersion: networking.k8s.io/v1\n"
	                   "kind: NetworkPolicy\nmetadata: {name: in, "
	                   "namespace: "
	                   "shop}\nspec: {podSelector: {}}\n",
	  1, 0, "no default-deny Egress NetworkPolicy", "" },
	{ "allow-all rule is no default deny",
	  DEPLOYMENT "---\napiVersion: networking.k8s.io/v1\n"
	             "kind: NetworkPolicy\nmetadata: {name: open, namespace: "
	             "shop}\nspec:\n  podSelector: {}\n"
	             "  policyTypes: [Ingress, Egress]\n"
	             "  ingress: [{}]\n"
	             "  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]\n",
	  1, 0, "no default-deny Ingress and Egress NetworkPolicy", "" },
	{ "selector is no default deny",
	  DEPLOYMENT "---\napiVersion: networking.k8s.io/v1\n"
	             "kind: NetworkPolicy\nmetadata: {name: some, namespace: "
	             "shop}\nspec:\n  podSelector: {matchLabels: {a: b}}\n"
	             "  policyTypes: [Ingress, Egress]\n",
	  1, 0, "namespace shop runs pods", "" },
	{ "rules with peers still deny by default",
	  DEPLOYMENT "---\napiVersion: networking.k8s.io/v1\n"
	             "kind: NetworkPolicy\nmetadata: {name: d, namespace: "
	             "shop}\nspec:\n  podSelector: {}\n"
	             "  policyTypes: [Ingress, Egress]\n"
	             "  ingress: [{from: [{podSelector: {}}]}]\n"
	             "  egress: [{ports: [{port: 53, protocol: UDP}]}]\n",
	  0, 0, "", "" },
	{ "netpol exception",
	  "apiVersion: v1\nkind: Pod\n"
	  "metadata: {name: p, namespace: legacy}\n"
	  "spec:\n  containers:\n"
	  "  - {name: a, image: x.example.com/a:1}\n",
	  0, 0, "", "legacy-netpol\n" },
	{ "warn mode",
	  "apiVersion: batch/v1\nkind: CronJob\n"
	  "metadata: {name: nightly, namespace: trial}\n"
	  "spec:\n  schedule: '@daily'\n  jobTemplate:\n"
	  "    spec:\n      template:\n        spec:\n"
	  "          containers:\n"
	  "          - {name: job, image: x.example.com/j:1}\n",
	  0, 4,
	  "CronJob trial/nightly: container job: spec.jobTemplate.spec."
	  "template.spec.containers[0].securityContext.runAsNonRoot",
	  "" },
	{ "custom kind pod spec",
	  "apiVersion: argoproj.io/v1alpha1\n"
	  "kind: Rollout\n"
	  "metadata: {name: r, namespace: trial}\n"
	  "spec:\n  template:\n    spec:\n"
	  "      hostNetwork: true\n"
	  "      containers:\n"
	  "      - {name: a, image: x.example.com/"
	  "a:1}\n",
	  0, 5, "Rollout trial/r: spec.template.spec.hostNetwork: true", "" },
};

static void test_workloads_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* No workloads rule, no check; a namespace no rule matches, none. */
static void test_workloads_without_rules(void **state)
{
	tg_policy *p = NULL;
	tg_manifest_set *set = NULL;
	tg_admit_options o = { 0 };
	json_t *vs = json_array(), *us = json_array();
	const char *pol = "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n"
	                  "rules:\n- name: all\n  images: ['**']\n"
	                  "  signatures:\n    authorities:\n"
	                  "    - {name: k, key: tests/data/policy/good/keys/"
	                  "release.pub}\n"
	                  "workloads:\n- name: shop\n  namespaces: [shop]\n"
	                  "  podSecurity: restricted\n";
	size_t warned;

	(void)state;
	assert_int_equal(tg_policy_parse(&p, "p.yaml", pol, strlen(pol), NULL),
	                 0);
	assert_int_equal(tg_manifest_set_new(&set, NULL), 0);
	assert_int_equal(tg_manifest_set_add_file(set, "u/x.yaml", EPHEMERAL,
	                                          strlen(EPHEMERAL)),
	                 0);
	/* the Pod is in shop: checked */
	assert_int_equal(tg_admit_workloads(vs, us, &warned, &o, p, set,
	                                    tg_manifest_set_unit(set, 0)),
	                 3);
	tg_policy_free(p);
	pol = "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n"
	      "rules:\n- name: all\n  images: ['**']\n"
	      "  signatures:\n    authorities:\n"
	      "    - {name: k, key: tests/data/policy/good/keys/release.pub}\n"
	      "workloads:\n- name: other\n  namespaces: [other]\n"
	      "  podSecurity: restricted\n";
	assert_int_equal(tg_policy_parse(&p, "p.yaml", pol, strlen(pol), NULL),
	                 0);
	json_array_clear(vs);
	assert_int_equal(tg_admit_workloads(vs, us, &warned, &o, p, set,
	                                    tg_manifest_set_unit(set, 0)),
	                 0);
	assert_int_equal(json_array_size(vs), 0);
	tg_policy_free(p);
	json_decref(vs);
	json_decref(us);
	tg_manifest_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workloads_table),
		cmocka_unit_test(test_workloads_without_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
