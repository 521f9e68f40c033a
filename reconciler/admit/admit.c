/*
 * The admit stage: reserved objects and scopes. See
 * reconciler/include/tollgate/admit.h.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/admit.h"
#include "tollgate/error.h"
#include "tollgate/lease.h"
#include "tollgate/util.h"

#define DEFAULT_ADMISSION_POLICY "tollgate-sole-writer"
#define ADMISSION_GROUP "admissionregistration.k8s.io"
#define RBAC_GROUP "rbac.authorization.k8s.io"
#define CRD_GROUP "apiextensions.k8s.io"
#define INVENTORY_LABEL "tollgate.dev/inventory"

/* Scope of Kubernetes' own kinds, for when discovery cannot answer (no
 * cluster: tollgate check; a kind the cluster does not serve). These win
 * over a CRD of the manifest set, so a forged CRD cannot make
 * ClusterRoleBinding look namespaced. */
static const struct {
	const char *group, *kind;
	bool namespaced;
} builtin_kinds[] = {
	{ "", "ConfigMap", true },
	{ "", "Secret", true },
	{ "", "Service", true },
	{ "", "ServiceAccount", true },
	{ "", "Pod", true },
	{ "", "PersistentVolumeClaim", true },
	{ "", "LimitRange", true },
	{ "", "ResourceQuota", true },
	{ "", "Endpoints", true },
	{ "", "Event", true },
	{ "", "ReplicationController", true },
	{ "", "Namespace", false },
	{ "", "Node", false },
	{ "", "PersistentVolume", false },
	{ "apps", "Deployment", true },
	{ "apps", "StatefulSet", true },
	{ "apps", "DaemonSet", true },
	{ "apps", "ReplicaSet", true },
	{ "apps", "ControllerRevision", true },
	{ "batch", "Job", true },
	{ "batch", "CronJob", true },
	{ "autoscaling", "HorizontalPodAutoscaler", true },
	{ "policy", "PodDisruptionBudget", true },
	{ "networking.k8s.io", "NetworkPolicy", true },
	{ "networking.k8s.io", "Ingress", true },
	{ "networking.k8s.io", "IngressClass", false },
	{ "discovery.k8s.io", "EndpointSlice", true },
	{ "coordination.k8s.io", "Lease", true },
	{ "events.k8s.io", "Event", true },
	{ "rbac.authorization.k8s.io", "Role", true },
	{ "rbac.authorization.k8s.io", "RoleBinding", true },
	{ "rbac.authorization.k8s.io", "ClusterRole", false },
	{ "rbac.authorization.k8s.io", "ClusterRoleBinding", false },
	{ CRD_GROUP, "CustomResourceDefinition", false },
	{ ADMISSION_GROUP, "MutatingWebhookConfiguration", false },
	{ ADMISSION_GROUP, "ValidatingWebhookConfiguration", false },
	{ ADMISSION_GROUP, "ValidatingAdmissionPolicy", false },
	{ ADMISSION_GROUP, "ValidatingAdmissionPolicyBinding", false },
	{ ADMISSION_GROUP, "MutatingAdmissionPolicy", false },
	{ ADMISSION_GROUP, "MutatingAdmissionPolicyBinding", false },
	{ "apiregistration.k8s.io", "APIService", false },
	{ "scheduling.k8s.io", "PriorityClass", false },
	{ "storage.k8s.io", "StorageClass", false },
	{ "storage.k8s.io", "CSIDriver", false },
	{ "storage.k8s.io", "VolumeAttachment", false },
	{ "node.k8s.io", "RuntimeClass", false },
	{ "certificates.k8s.io", "CertificateSigningRequest", false },
	{ "flowcontrol.apiserver.k8s.io", "FlowSchema", false },
	{ "flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", false },
};

/* One object being checked. */
typedef struct adm_obj {
	const tg_manifest_object *o;
	const char *group, *kind, *name;
	const char *ns; /* after defaulting; NULL when cluster-scoped */
	bool namespaced;
} adm_obj;

/* Resolving scope ---------------------------------------------------------- */

static int builtin_scope(bool *namespaced, const char *group, const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_kinds) / sizeof(builtin_kinds[0]); i++)
		if (!strcmp(builtin_kinds[i].group, group) &&
		    !strcmp(builtin_kinds[i].kind, kind)) {
			*namespaced = builtin_kinds[i].namespaced;
			return 0;
		}
	return TG_ENOTFOUND;
}

/* Whether the CRD o defines group/kind; *namespaced from its scope. */
static bool crd_defines(bool *namespaced,
                        const tg_manifest_object *o,
                        const char *group,
                        const char *kind)
{
	json_t *spec = json_object_get(tg_manifest_object_json(o), "spec");
	const char *g = json_string_value(json_object_get(spec, "group"));
	const char *k = json_string_value(
	        json_object_get(json_object_get(spec, "names"), "kind"));
	const char *sc = json_string_value(json_object_get(spec, "scope"));

	if (!g || !k || !sc || strcmp(g, group) || strcmp(k, kind))
		return false;
	*namespaced = strcmp(sc, "Cluster") != 0;
	return true;
}

/* A CRD of the set that defines group/kind: its spec.scope. */
static int crd_scope(bool *namespaced,
                     const tg_manifest_set *set,
                     const char *group,
                     const char *kind)
{
	size_t u, i;

	for (u = 0; set && u < tg_manifest_set_unit_count(set); u++) {
		const tg_manifest_unit *un = tg_manifest_set_unit(set, u);

		for (i = 0; i < tg_manifest_unit_object_count(un); i++) {
			const tg_manifest_object *o =
			        tg_manifest_unit_object(un, i);

			/* only a CRD defines a kind (and only its tree is
			 * read: the others may be parked as text) */
			if (strcmp(tg_manifest_object_group(o), CRD_GROUP) ||
			    strcmp(tg_manifest_object_kind(o),
			           "CustomResourceDefinition"))
				continue;
			if (crd_defines(namespaced, o, group, kind))
				return 0;
		}
	}
	return TG_ENOTFOUND;
}

/* Whether kind of o is namespaced: discovery, built-in table, CRDs of the
 * set, in that order; TG_ENOTFOUND when none can tell. */
static int resolve(bool *namespaced,
                   const tg_admit_options *opts,
                   const tg_manifest_set *set,
                   const adm_obj *a)
{
	const tg_kube_resource *r;

	if (opts->kube &&
	    tg_kube_resource_lookup(&r, opts->kube,
	                            tg_manifest_object_api_version(a->o),
	                            a->kind) == 0) {
		*namespaced = r->namespaced;
		return 0;
	}
	if (builtin_scope(namespaced, a->group, a->kind) == 0)
		return 0;
	return crd_scope(namespaced, set, a->group, a->kind);
}

/* Reasons ------------------------------------------------------------------ */

/* "group/Kind", or "Kind" for the core group. Caller frees. */
static char *kind_name(const adm_obj *a)
{
	return *a->group ? tg_aprintf("%s/%s", a->group, a->kind)
	                 : tg_strdup(a->kind);
}

/* Append "Kind ns/name (file): <why>" (a cluster-scoped object: "Kind
 * name", as tg_manifest_object_describe writes it) to reasons. */
static void refuse(json_t *reasons, const adm_obj *a, const char *why)
{
	char *m = tg_aprintf("%s %s%s%s (%s): %s", a->kind, a->ns ? a->ns : "",
	                     a->ns ? "/" : "", a->name,
	                     tg_manifest_object_file(a->o), why);

	json_array_append_new(reasons, json_string(m));
	free(m);
}

/* Reserved objects --------------------------------------------------------- */

static bool ns_reserved(const tg_admit_options *opts, const char *ns)
{
	size_t i;

	if (!strcmp(ns, opts->inventory_namespace))
		return true;
	for (i = 0; i < opts->nreserved_namespaces; i++)
		if (!strcmp(ns, opts->reserved_namespaces[i]))
			return true;
	return false;
}

static bool is(const adm_obj *a, const char *group, const char *kind)
{
	return !strcmp(a->group, group) && !strcmp(a->kind, kind);
}

/* The names of tollgate's own ClusterRoles and ClusterRoleBindings in
 * deploy/kubernetes/rbac.yaml, reserved when the options name none. */
static const char *const default_rbac[] = { "tollgate-cluster",
	                                    "tollgate-namespaced" };

/* Whether name is in list (default_rbac when list is NULL). */
static bool named_in(const char *const *list, size_t n, const char *name)
{
	size_t i;

	if (!list) {
		list = default_rbac;
		n = TG_ARRAY_LEN(default_rbac);
	}
	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/* Why a is tollgate's own RBAC (its ClusterRoles and their bindings:
 * whoever changes them changes what tollgate may do), or NULL. */
static const char *rbac_why(const tg_admit_options *opts, const adm_obj *a)
{
	if (is(a, RBAC_GROUP, "ClusterRole") &&
	    named_in(opts->cluster_roles, opts->ncluster_roles, a->name))
		return "tollgate's own ClusterRole (cluster.clusterRoles)";
	if (is(a, RBAC_GROUP, "ClusterRoleBinding") &&
	    named_in(opts->cluster_role_bindings, opts->ncluster_role_bindings,
	             a->name))
		return "tollgate's own ClusterRoleBinding "
		       "(cluster.clusterRoleBindings)";
	return NULL;
}

/* Why a is one of tollgate's reserved objects, or NULL. Static text. */
static const char *reserved_why(const tg_admit_options *opts, const adm_obj *a)
{
	const char *vap = opts->admission_policy ? opts->admission_policy
	                                         : DEFAULT_ADMISSION_POLICY;
	const char *vapb = opts->admission_policy_binding
	                           ? opts->admission_policy_binding
	                           : vap;
	const char *lease = opts->lease_name ? opts->lease_name : TG_LEASE_NAME;
	const char *lease_ns = opts->lease_namespace
	                               ? opts->lease_namespace
	                               : opts->inventory_namespace;
	json_t *labels = json_object_get(
	        json_object_get(tg_manifest_object_json(a->o), "metadata"),
	        "labels");

	if (a->ns && ns_reserved(opts, a->ns))
		return "the namespace is reserved for tollgate";
	if (is(a, "", "Namespace") && ns_reserved(opts, a->name))
		return "the namespace is reserved for tollgate";
	if (is(a, "coordination.k8s.io", "Lease") && a->ns &&
	    !strcmp(a->ns, lease_ns) && !strcmp(a->name, lease))
		return "tollgate's leader election Lease";
	if (json_object_get(labels, INVENTORY_LABEL))
		return "objects labelled " INVENTORY_LABEL " are tollgate's "
		       "inventories";
	if ((is(a, ADMISSION_GROUP, "ValidatingAdmissionPolicy") &&
	     !strcmp(a->name, vap)) ||
	    (is(a, ADMISSION_GROUP, "ValidatingAdmissionPolicyBinding") &&
	     !strcmp(a->name, vapb)))
		return "the admission policy that makes tollgate the only "
		       "writer";
	return rbac_why(opts, a);
}

/* Scopes ------------------------------------------------------------------- */

/* Why the default scope (no scope matches unit) refuses a, or NULL. */
static char *default_scope_why(const adm_obj *a, const char *unit)
{
	char *k, *m;

	if (a->namespaced || is(a, "", "Namespace") ||
	    is(a, CRD_GROUP, "CustomResourceDefinition"))
		return NULL;
	k = kind_name(a);
	m = tg_aprintf("cluster-scoped kind %s is not in clusterKinds of the "
	               "default scope; a scope for unit \"%s\" must list it",
	               k, unit);
	free(k);
	return m;
}

/* Why scope s refuses a, or NULL. */
static char *scope_why(const tg_policy_scope *s, const adm_obj *a)
{
	char *k = kind_name(a), *m = NULL;

	if (a->namespaced && !tg_policy_scope_allows_namespace(s, a->ns))
		m = tg_aprintf("namespace %s is not in namespaces of scope "
		               "\"%s\"; the scope must list it",
		               a->ns, s->name);
	else if (a->namespaced &&
	         !tg_policy_scope_allows_kind(s, a->group, a->kind, true))
		m = tg_aprintf("namespaced kind %s is not in kinds of scope "
		               "\"%s\"; the scope must list it",
		               k, s->name);
	else if (!a->namespaced &&
	         !tg_policy_scope_allows_kind(s, a->group, a->kind, false) &&
	         !(is(a, "", "Namespace") &&
	           tg_policy_scope_allows_namespace(s, a->name)))
		m = tg_aprintf("cluster-scoped kind %s is not in clusterKinds "
		               "of scope \"%s\"; the scope must list it",
		               k, s->name);
	free(k);
	return m;
}

/* Objects ------------------------------------------------------------------ */

/* Check one object; true when admitted, else its reason into reasons. */
static bool admit_object(json_t *reasons,
                         const tg_admit_options *opts,
                         const tg_policy_scope *scope,
                         const tg_manifest_set *set,
                         const tg_manifest_object *o,
                         const char *unit)
{
	adm_obj a = { o,
		      tg_manifest_object_group(o),
		      tg_manifest_object_kind(o),
		      tg_manifest_object_name(o),
		      NULL,
		      false };
	const char *ns = tg_manifest_object_namespace(o);
	const char *why;
	char *m, *k;

	if (resolve(&a.namespaced, opts, set, &a) < 0) {
		a.ns = *ns ? ns : NULL;
		k = kind_name(&a);
		m = tg_aprintf(
		        "cannot tell whether kind %s is namespaced (the "
		        "cluster does not serve it, it is not a "
		        "Kubernetes kind and no CustomResourceDefinition "
		        "here defines it); add its CRD",
		        k);
		refuse(reasons, &a, m);
		free(k);
		free(m);
		return false;
	}
	if (a.namespaced)
		a.ns = *ns ? ns : "default";
	if ((why = reserved_why(opts, &a)) != NULL) {
		m = tg_aprintf("%s; no unit may write it, under any scope",
		               why);
		refuse(reasons, &a, m);
		free(m);
		return false;
	}
	m = scope ? scope_why(scope, &a) : default_scope_why(&a, unit);
	if (m)
		refuse(reasons, &a, m);
	free(m);
	return m == NULL;
}

size_t tg_admit_unit(json_t *reasons,
                     const tg_admit_options *opts,
                     const tg_policy *policy,
                     const tg_manifest_set *set,
                     const tg_manifest_unit *unit)
{
	const char *name = tg_manifest_unit_name(unit);
	const tg_policy_scope *scope =
	        policy ? tg_policy_scope_for(policy, name) : NULL;
	size_t i, refused = 0;

	for (i = 0; i < tg_manifest_unit_object_count(unit); i++)
		if (!admit_object(reasons, opts, scope, set,
		                  tg_manifest_unit_object(unit, i), name))
			refused++;
	return refused;
}
