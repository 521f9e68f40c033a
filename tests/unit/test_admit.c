/* Tests of the admit stage: reserved objects and scopes, offline (the
 * built-in kind table and CRDs of the manifest set tell the scope). */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/admit.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"

#define POLICY_HEAD                                                            \
	"apiVersion: tollgate.dev/v1alpha1\n"                                  \
	"kind: Policy\n"                                                       \
	"rules:\n"                                                             \
	"  - name: all\n"                                                      \
	"    images: [\"**\"]\n"                                               \
	"    signatures:\n"                                                    \
	"      authorities:\n"                                                 \
	"        - name: release\n"                                            \
	"          key: tests/data/policy/good/keys/release.pub\n"

static const char scopes_yaml[] =
        POLICY_HEAD "scopes:\n"
                    "  - name: platform\n"
                    "    units: [platform, \"infra-*\"]\n"
                    "    namespaces: [\"*\"]\n"
                    "    clusterKinds: [\"rbac.authorization.k8s.io/*\", "
                    "\"admissionregistration.k8s.io/*\"]\n"
                    "  - name: teams\n"
                    "    units: [\"*\"]\n"
                    "    namespaces: [\"team-*\"]\n"
                    "    kinds: [ConfigMap, \"apps/*\"]\n";

static tg_admit_options opts(void)
{
	static const char *const extra[] = { "tollgate-extra" };
	tg_admit_options o = { 0 };

	o.inventory_namespace = "tollgate-system";
	o.reserved_namespaces = extra;
	o.nreserved_namespaces = 1;
	return o;
}

static tg_policy *policy(const char *yaml)
{
	tg_policy *p = NULL;

	if (tg_policy_parse(&p, "policy.yaml", yaml, strlen(yaml), NULL) < 0)
		fail_msg("policy: %s", tg_error_last());
	return p;
}

/* Admit unit (the file unit/x.yaml holding yaml) under policy p (may be
 * NULL); the reasons, joined by newlines, into *why (caller frees). */
static size_t
admit(char **why, const tg_policy *p, const char *unit, const char *yaml)
{
	tg_manifest_set *set = NULL;
	tg_admit_options o = opts();
	json_t *reasons = json_array(), *r;
	char *path = tg_aprintf("%s/x.yaml", unit);
	size_t n, i;
	tg_buf b;

	assert_int_equal(tg_manifest_set_new(&set, NULL), 0);
	assert_int_equal(
	        tg_manifest_set_add_file(set, path, yaml, strlen(yaml)), 0);
	assert_true(tg_manifest_unit_is_valid(
	        tg_manifest_set_unit_by_name(set, unit)));
	n = tg_admit_unit(reasons, &o, p, set,
	                  tg_manifest_set_unit_by_name(set, unit));
	assert_int_equal(json_array_size(reasons), n);
	tg_buf_init(&b, 1u << 20);
	json_array_foreach(reasons, i, r)
		assert_int_equal(
		        tg_buf_printf(&b, "%s\n", json_string_value(r)), 0);
	*why = b.data ? tg_buf_detach(NULL, &b) : tg_strdup("");
	tg_buf_free(&b);
	json_decref(reasons);
	tg_manifest_set_free(set);
	free(path);
	return n;
}

static void expect_ok(const tg_policy *p, const char *unit, const char *y)
{
	char *why;

	if (admit(&why, p, unit, y) != 0)
		fail_msg("unit %s refused:\n%s", unit, why);
	free(why);
}

static void expect_refused(const tg_policy *p,
                           const char *unit,
                           const char *y,
                           const char *part)
{
	char *why;

	if (admit(&why, p, unit, y) == 0)
		fail_msg("unit %s admitted, want refusal naming %s", unit,
		         part);
	if (!strstr(why, part))
		fail_msg("unit %s: reasons\n%s\nlack\n%s", unit, why, part);
	free(why);
}

#define CM(ns) "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c" ns "}\n"
#define CRB                                                                    \
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n" \
	"metadata: {name: pwn}\nroleRef: {apiGroup: "                          \
	"rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n" \
	"subjects: [{kind: Group, name: system:authenticated}]\n"
#define MWC                                                                    \
	"apiVersion: admissionregistration.k8s.io/v1\n"                        \
	"kind: MutatingWebhookConfiguration\nmetadata: {name: rewrite}\n"
#define VAP                                                                    \
	"apiVersion: admissionregistration.k8s.io/v1\n"                        \
	"kind: ValidatingAdmissionPolicy\nmetadata: {name: mine}\n"
#define CR                                                                     \
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"        \
	"metadata: {name: r}\n"
#define NS(n) "apiVersion: v1\nkind: Namespace\nmetadata: {name: " n "}\n"
#define CRD                                                                    \
	"apiVersion: apiextensions.k8s.io/v1\nkind: "                          \
	"CustomResourceDefinition\n"                                           \
	"metadata: {name: widgets.shop.example.com}\n"                         \
	"spec: {group: shop.example.com, scope: Namespaced, names: {kind: "    \
	"Widget, plural: widgets}}\n"

/* No scope: namespaced objects anywhere but the reserved namespaces;
 * Namespace and CRD are the only cluster-scoped kinds. */
static void test_admit_default_scope(void **state)
{
	char *why;

	(void)state;
	expect_ok(NULL, "shop",
	          CM("") "---\n" CM(", namespace: shop") "---\n" NS("shop"));
	expect_ok(NULL, "shop",
	          CRD "---\napiVersion: shop.example.com/v1\n"
	              "kind: Widget\nmetadata: {name: w}\n");
	expect_refused(NULL, "x", CRB,
	               "ClusterRoleBinding pwn (x/x.yaml): cluster-scoped kind "
	               "rbac.authorization.k8s.io/ClusterRoleBinding is not in "
	               "clusterKinds of the default scope; a scope for unit "
	               "\"x\" must list it");
	expect_refused(NULL, "x", MWC,
	               "admissionregistration.k8s.io/"
	               "MutatingWebhookConfiguration is not in clusterKinds");
	expect_refused(NULL, "x",
	               "apiVersion: admissionregistration.k8s.io/v1\n"
	               "kind: ValidatingWebhookConfiguration\n"
	               "metadata: {name: v}\n",
	               "ValidatingWebhookConfiguration is not in clusterKinds");
	expect_refused(NULL, "x", VAP,
	               "ValidatingAdmissionPolicy is not in clusterKinds");
	expect_refused(NULL, "x", CR, "ClusterRole is not in clusterKinds");
	/* one refused object: counted once, the honest one not */
	assert_int_equal(admit(&why, NULL, "x", CM("") "---\n" CRB), 1);
	free(why);
}

/* Reserved namespaces, under no scope and under namespaces: ["*"]. */
static void test_admit_reserved_namespace_under_any_scope(void **state)
{
	tg_policy *p = policy(scopes_yaml);

	(void)state;
	expect_refused(NULL, "x", CM(", namespace: tollgate-system"),
	               "ConfigMap tollgate-system/c (x/x.yaml): the namespace "
	               "is reserved for tollgate");
	expect_refused(p, "platform", CM(", namespace: tollgate-system"),
	               "the namespace is reserved for tollgate; no unit may "
	               "write it, under any scope");
	expect_refused(p, "platform", CM(", namespace: tollgate-extra"),
	               "reserved for tollgate");
	expect_refused(p, "platform", NS("tollgate-system"),
	               "Namespace tollgate-system (platform/x.yaml): the "
	               "namespace is reserved");
	expect_refused(NULL, "x", NS("tollgate-extra"), "reserved");
	expect_ok(p, "platform", CM(", namespace: kube-public"));
	tg_policy_free(p);
}

static void test_admit_lease_inventory_and_admission_policy(void **state)
{
	tg_policy *p = policy(scopes_yaml);
	char *why;

	(void)state;
	expect_refused(p, "platform",
	               "apiVersion: coordination.k8s.io/v1\nkind: Lease\n"
	               "metadata: {name: tollgate-leader, namespace: "
	               "tollgate-system}\nspec: {holderIdentity: attacker}\n",
	               "reserved for tollgate");
	/* an inventory label anywhere */
	expect_refused(p, "platform",
	               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
	               "  name: tollgate-inventory-ghost\n  namespace: shop\n"
	               "  labels: {tollgate.dev/inventory: \"true\"}\n",
	               "are tollgate's inventories");
	/* the platform scope grants admissionregistration.k8s.io/ *, not
	 * the sole-writer policy and binding */
	expect_refused(p, "platform",
	               "apiVersion: admissionregistration.k8s.io/v1\n"
	               "kind: ValidatingAdmissionPolicy\n"
	               "metadata: {name: tollgate-sole-writer}\n",
	               "the admission policy that makes tollgate the only "
	               "writer");
	expect_refused(p, "platform",
	               "apiVersion: admissionregistration.k8s.io/v1\n"
	               "kind: ValidatingAdmissionPolicyBinding\n"
	               "metadata: {name: tollgate-sole-writer}\n",
	               "only writer");
	expect_ok(p, "platform", VAP "---\n" MWC);
	assert_int_equal(admit(&why, p, "platform", CRB "---\n" CR), 0);
	free(why);
	tg_policy_free(p);
}

/* A scope grants clusterKinds; kinds and namespaces globs; the first
 * matching scope wins (platform before teams' "*"). */
static void test_admit_scopes(void **state)
{
	tg_policy *p = policy(scopes_yaml);

	(void)state;
	expect_ok(p, "infra-rbac", CRB);
	expect_refused(p, "shop", CRB,
	               "cluster-scoped kind "
	               "rbac.authorization.k8s.io/ClusterRoleBinding is not in "
	               "clusterKinds of scope \"teams\"; the scope must list "
	               "it");
	expect_ok(
	        p, "shop",
	        CM(", namespace: team-a") "---\napiVersion: apps/v1\n"
	                                  "kind: Deployment\nmetadata: {name: "
	                                  "d, namespace: team-b}\n");
	expect_refused(
	        p, "shop", CM(", namespace: shop"),
	        "namespace shop is not in namespaces of scope \"teams\"");
	/* without namespace: in default, which teams does not list */
	expect_refused(p, "shop", CM(""), "ConfigMap default/c");
	expect_refused(p, "shop",
	               "apiVersion: v1\nkind: Secret\nmetadata: {name: s, "
	               "namespace: team-a}\n",
	               "namespaced kind Secret is not in kinds of scope "
	               "\"teams\"");
	/* a Namespace whose name the scope's namespaces match */
	expect_ok(p, "shop", NS("team-new"));
	expect_refused(p, "shop", NS("other"),
	               "cluster-scoped kind Namespace is not in clusterKinds "
	               "of scope \"teams\"");
	tg_policy_free(p);
}

/* A kind no one can place is refused; a CRD of the set places it, but
 * cannot make a Kubernetes kind look namespaced. */
static void test_admit_unknown_kind_fails_closed(void **state)
{
	(void)state;
	expect_refused(NULL, "shop",
	               "apiVersion: shop.example.com/v1\nkind: Widget\n"
	               "metadata: {name: w, namespace: shop}\n",
	               "cannot tell whether kind shop.example.com/Widget is "
	               "namespaced");
	expect_refused(
	        NULL, "x",
	        "apiVersion: apiextensions.k8s.io/v1\n"
	        "kind: CustomResourceDefinition\nmetadata: {name: x}\n"
	        "spec: {group: rbac.authorization.k8s.io, scope: Namespaced, "
	        "names: {kind: ClusterRoleBinding, plural: x}}\n---\n" CRB,
	        "ClusterRoleBinding is not in clusterKinds");
	/* only a CustomResourceDefinition defines a kind: a custom object
	 * shaped like one (spec.group, spec.names.kind, spec.scope) does
	 * not place the kind (issue 20: the others' trees are not read) */
	expect_refused(NULL, "shop",
	               "apiVersion: shop.example.com/v1\nkind: Gadget\n"
	               "metadata: {name: g, namespace: shop}\n"
	               "spec: {group: shop.example.com, scope: Namespaced, "
	               "names: {kind: Widget}}\n---\n"
	               "apiVersion: shop.example.com/v1\nkind: Widget\n"
	               "metadata: {name: w, namespace: shop}\n",
	               "cannot tell whether kind shop.example.com/Widget is "
	               "namespaced");
}

/* tollgate's own ClusterRoles and ClusterRoleBindings (deploy's names by
 * default, or those of the options) are reserved under any scope, even
 * one granting rbac.authorization.k8s.io/ *; other RBAC is not. */
#define RBAC(kind, name)                                                       \
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: " kind "\n"           \
	"metadata: {name: " name "}\n"

static void test_admit_own_rbac_reserved(void **state)
{
	static const char *const roles[] = { "tg-writer" };
	static const char *const bindings[] = { "tg-writer-binding" };
	tg_policy *p = policy(scopes_yaml);
	tg_admit_options o = opts();
	tg_manifest_set *set = NULL;
	json_t *reasons = json_array();
	const char *y = RBAC("ClusterRole", "tg-writer") "---\n" RBAC(
	        "ClusterRoleBinding",
	        "tg-writer-binding") "---\n" RBAC("ClusterRole",
	                                          "tollgate-cluster");

	(void)state;
	expect_refused(p, "platform", RBAC("ClusterRole", "tollgate-cluster"),
	               "ClusterRole tollgate-cluster (platform/x.yaml): "
	               "tollgate's own ClusterRole (cluster.clusterRoles); no "
	               "unit may write it, under any scope");
	expect_refused(p, "infra-rbac",
	               RBAC("ClusterRole", "tollgate-namespaced"),
	               "tollgate's own ClusterRole");
	expect_refused(p, "platform",
	               RBAC("ClusterRoleBinding", "tollgate-cluster"),
	               "ClusterRoleBinding tollgate-cluster (platform/x.yaml): "
	               "tollgate's own ClusterRoleBinding "
	               "(cluster.clusterRoleBindings)");
	expect_refused(NULL, "x",
	               RBAC("ClusterRoleBinding", "tollgate-namespaced"),
	               "tollgate's own ClusterRoleBinding");
	/* Names of a Role in a team namespace are not reserved. */
	expect_ok(p, "platform",
	          RBAC("ClusterRole", "tollgate-viewer") "---\n" RBAC(
	                  "ClusterRoleBinding", "other"));
	/* Configured names replace the defaults. */
	o.cluster_roles = roles;
	o.ncluster_roles = 1;
	o.cluster_role_bindings = bindings;
	o.ncluster_role_bindings = 1;
	assert_int_equal(tg_manifest_set_new(&set, NULL), 0);
	assert_int_equal(
	        tg_manifest_set_add_file(set, "platform/x.yaml", y, strlen(y)),
	        0);
	assert_int_equal(
	        tg_admit_unit(reasons, &o, p, set,
	                      tg_manifest_set_unit_by_name(set, "platform")),
	        2);
	assert_contains(json_string_value(json_array_get(reasons, 0)),
	                "ClusterRole tg-writer");
	assert_contains(json_string_value(json_array_get(reasons, 1)),
	                "ClusterRoleBinding tg-writer-binding");
	json_decref(reasons);
	tg_manifest_set_free(set);
	tg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit_default_scope),
		cmocka_unit_test(test_admit_reserved_namespace_under_any_scope),
		cmocka_unit_test(
		        test_admit_lease_inventory_and_admission_policy),
		cmocka_unit_test(test_admit_scopes),
		cmocka_unit_test(test_admit_unknown_kind_fails_closed),
		cmocka_unit_test(test_admit_own_rbac_reserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
