/*
 * Resource types: the built-in table and the types that
 * CustomResourceDefinitions register.
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

#define NS TC_T_NAMESPACED
#define ST TC_T_STATUS
#define GEN TC_T_GENERATION
#define LBL TC_T_DNS_LABEL
#define WL TC_T_WORKLOAD
#define ALL TC_T_ALL

/* The built-in types kube-apiserver 1.32 serves that tollgate's tests use.
 * Flags follow the real registry strategies: generation is only set by
 * the strategies that track spec changes. */
static const struct {
	const char *group, *version, *resource, *singular, *kind, *shorts;
	unsigned flags;
} builtin[] = {
	{ "", "v1", "namespaces", "namespace", "Namespace", "ns", ST | LBL },
	{ "", "v1", "configmaps", "configmap", "ConfigMap", "cm", NS },
	{ "", "v1", "secrets", "secret", "Secret", "", NS },
	{ "", "v1", "services", "service", "Service", "svc",
	  NS | ST | LBL | ALL },
	{ "", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", "sa",
	  NS },
	{ "", "v1", "pods", "pod", "Pod", "po", NS | ST | ALL },
	{ "", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
	  "PersistentVolumeClaim", "pvc", NS | ST },
	{ "apps", "v1", "deployments", "deployment", "Deployment", "deploy",
	  NS | ST | GEN | WL | ALL },
	{ "apps", "v1", "statefulsets", "statefulset", "StatefulSet", "sts",
	  NS | ST | GEN | WL | ALL },
	{ "apps", "v1", "daemonsets", "daemonset", "DaemonSet", "ds",
	  NS | ST | GEN | WL | ALL },
	{ "apps", "v1", "replicasets", "replicaset", "ReplicaSet", "rs",
	  NS | ST | GEN | ALL },
	{ "batch", "v1", "jobs", "job", "Job", "", NS | ST | GEN | ALL },
	{ "batch", "v1", "cronjobs", "cronjob", "CronJob", "cj",
	  NS | ST | GEN | ALL },
	{ "rbac.authorization.k8s.io", "v1", "roles", "role", "Role", "", NS },
	{ "rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding",
	  "RoleBinding", "", NS },
	{ "rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole",
	  "ClusterRole", "", 0 },
	{ "rbac.authorization.k8s.io", "v1", "clusterrolebindings",
	  "clusterrolebinding", "ClusterRoleBinding", "", 0 },
	{ "networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", "ing",
	  NS | ST | GEN },
	{ "networking.k8s.io", "v1", "networkpolicies", "networkpolicy",
	  "NetworkPolicy", "netpol", NS | GEN },
	{ "autoscaling", "v2", "horizontalpodautoscalers",
	  "horizontalpodautoscaler", "HorizontalPodAutoscaler", "hpa",
	  NS | ST | ALL },
	{ "policy", "v1", "poddisruptionbudgets", "poddisruptionbudget",
	  "PodDisruptionBudget", "pdb", NS | ST | GEN },
	{ "coordination.k8s.io", "v1", "leases", "lease", "Lease", "", NS },
	{ "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
	  "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", "",
	  GEN },
	{ "admissionregistration.k8s.io", "v1",
	  "validatingwebhookconfigurations", "validatingwebhookconfiguration",
	  "ValidatingWebhookConfiguration", "", GEN },
	{ "admissionregistration.k8s.io", "v1", "validatingadmissionpolicies",
	  "validatingadmissionpolicy", "ValidatingAdmissionPolicy", "",
	  ST | GEN },
	{ "admissionregistration.k8s.io", "v1",
	  "validatingadmissionpolicybindings",
	  "validatingadmissionpolicybinding",
	  "ValidatingAdmissionPolicyBinding", "", GEN },
	{ "apiextensions.k8s.io", "v1", "customresourcedefinitions",
	  "customresourcedefinition", "CustomResourceDefinition", "crd,crds",
	  ST | GEN },
};

static tc_type *type_new(const char *group,
                         const char *version,
                         const char *resource,
                         const char *singular,
                         const char *kind,
                         const char *shorts,
                         unsigned flags)
{
	tc_type *t = tg_calloc(1, sizeof(*t));

	t->group = tg_strdup(group);
	t->version = tg_strdup(version);
	t->resource = tg_strdup(resource);
	t->singular = tg_strdup(singular);
	t->kind = tg_strdup(kind);
	t->short_names = tg_strdup(shorts);
	t->flags = flags;
	return t;
}

void tc_type_free(tc_type *t)
{
	if (t == NULL)
		return;
	free(t->group);
	free(t->version);
	free(t->resource);
	free(t->singular);
	free(t->kind);
	free(t->short_names);
	free(t);
}

tc_type *tc_type_dup(const tc_type *t)
{
	tc_type *copy = type_new(t->group, t->version, t->resource, t->singular,
	                         t->kind, t->short_names, t->flags);

	copy->serial = t->serial;
	return copy;
}

const tc_type *tc_type_again(const tc_state *st, const tc_type *copy)
{
	const tc_type *t =
	        tc_type_find(st, copy->group, copy->version, copy->resource);

	return t != NULL && t->serial == copy->serial ? t : NULL;
}

/* Register the built-in types (drops CRD types first). */
void tc_types_init(tc_state *st)
{
	size_t i;

	tc_types_free(st);
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		st->types[st->ntypes] = type_new(
		        builtin[i].group, builtin[i].version,
		        builtin[i].resource, builtin[i].singular,
		        builtin[i].kind, builtin[i].shorts, builtin[i].flags);
		st->types[st->ntypes++]->serial = ++st->type_serial;
	}
	st->nbuiltin = st->ntypes;
}

void tc_types_free(tc_state *st)
{
	size_t i;

	for (i = 0; i < st->ntypes; i++)
		tc_type_free(st->types[i]);
	st->ntypes = 0;
	st->nbuiltin = 0;
}

const tc_type *tc_type_find(const tc_state *st,
                            const char *group,
                            const char *version,
                            const char *resource)
{
	size_t i;

	for (i = 0; i < st->ntypes; i++) {
		const tc_type *t = st->types[i];

		if (strcmp(t->group, group) == 0 &&
		    strcmp(t->version, version) == 0 &&
		    strcmp(t->resource, resource) == 0)
			return t;
	}
	return NULL;
}

const tc_type *
tc_type_find_kind(const tc_state *st, const char *group, const char *kind)
{
	size_t i;

	for (i = 0; i < st->ntypes; i++) {
		const tc_type *t = st->types[i];

		if (strcmp(t->group, group) == 0 && strcmp(t->kind, kind) == 0)
			return t;
	}
	return NULL;
}

char *tc_type_api_version(const tc_type *t)
{
	if (t->group[0] == '\0')
		return tg_strdup(t->version);
	return tg_aprintf("%s/%s", t->group, t->version);
}

char *tc_type_key(const tc_type *t)
{
	return tg_aprintf("%s/%s", t->group, t->resource);
}

/* The storage version of a CRD: the version with storage: true (the
 * first served one otherwise). Borrowed, or NULL. */
static const char *crd_version(json_t *spec)
{
	json_t *versions = json_object_get(spec, "versions");
	json_t *v;
	size_t i;
	const char *first = NULL;

	json_array_foreach(versions, i, v) {
		const char *name =
		        json_string_value(json_object_get(v, "name"));

		if (name == NULL)
			continue;
		if (json_is_true(json_object_get(v, "storage")))
			return name;
		if (first == NULL && json_is_true(json_object_get(v, "served")))
			first = name;
	}
	return first;
}

/* Comma-separated shortNames of a CRD's names. Caller frees. */
static char *crd_shorts(json_t *names)
{
	tg_buf b;
	json_t *v;
	size_t i;

	tg_buf_init(&b, 4096);
	json_array_foreach(json_object_get(names, "shortNames"), i, v) {
		if (!json_is_string(v))
			continue;
		if (b.len > 0)
			tc_buf_check(tg_buf_puts(&b, ","));
		tc_buf_check(tg_buf_puts(&b, json_string_value(v)));
	}
	return tg_buf_detach(NULL, &b);
}

static void crd_set_status(json_t *crd, json_t *names)
{
	char now[21];
	json_t *status = json_object();
	json_t *conds = json_array();
	const char *cond_types[] = { "NamesAccepted", "Established" };
	const char *reasons[] = { "NoConflicts", "InitialNamesAccepted" };
	const char *msgs[] = { "no conflicts found",
		               "the initial names have been accepted" };
	size_t i;

	tc_now_str(now);
	for (i = 0; i < 2; i++)
		json_array_append_new(
		        conds, json_pack("{s:s,s:s,s:s,s:s,s:s}", "type",
		                         cond_types[i], "status", "True",
		                         "lastTransitionTime", now, "reason",
		                         reasons[i], "message", msgs[i]));
	json_object_set_new(status, "conditions", conds);
	json_object_set(status, "acceptedNames", names);
	json_object_set_new(
	        status, "storedVersions",
	        json_pack("[s]", crd_version(json_object_get(crd, "spec"))));
	json_object_set_new(crd, "status", status);
}

/* Check the parts of a CRD spec the server needs; answers 422. */
static int crd_check(json_t *crd,
                     tc_resp *resp,
                     const char **group,
                     const char **plural,
                     const char **kind)
{
	json_t *spec = json_object_get(crd, "spec");
	json_t *names = json_object_get(spec, "names");
	const char *name = tc_obj_name(crd);
	char *want;
	int ok;

	*group = json_string_value(json_object_get(spec, "group"));
	*plural = json_string_value(json_object_get(names, "plural"));
	*kind = json_string_value(json_object_get(names, "kind"));
	if (*group == NULL || *plural == NULL || *kind == NULL ||
	    crd_version(spec) == NULL) {
		tc_status_error(resp, 422, "Invalid", NULL,
		                "CustomResourceDefinition.apiextensions.k8s.io "
		                "\"%s\" is invalid: spec: Required value: "
		                "group, names.plural, names.kind and a "
		                "served version are required",
		                name);
		return -1;
	}
	want = tg_aprintf("%s.%s", *plural, *group);
	ok = strcmp(want, name) == 0;
	if (!ok)
		tc_status_error(
		        resp, 422, "Invalid", NULL,
		        "CustomResourceDefinition.apiextensions.k8s.io "
		        "\"%s\" is invalid: metadata.name: Invalid "
		        "value: \"%s\": must be spec.names.plural+\".\"+"
		        "spec.group",
		        name, name);
	free(want);
	return ok ? 0 : -1;
}

int tc_crd_register(tc_state *st, json_t *crd, tc_resp *resp)
{
	json_t *spec = json_object_get(crd, "spec");
	json_t *names = json_object_get(spec, "names");
	const char *group, *plural, *kind, *singular, *scope;
	char *shorts, *lower = NULL;
	unsigned flags = TC_T_GENERATION | TC_T_CRD;
	const tc_type *old;
	uint64_t serial;
	size_t i;

	if (crd_check(crd, resp, &group, &plural, &kind) < 0)
		return -1;
	/* An update of the CRD keeps its type's serial, so the requests on
	 * its resources in flight without the lock find it again. */
	old = tc_type_find(st, group, crd_version(spec), plural);
	serial = old != NULL && (old->flags & TC_T_CRD) ? old->serial
	                                                : ++st->type_serial;
	singular = json_string_value(json_object_get(names, "singular"));
	if (singular == NULL) {
		lower = tg_strdup(kind);
		for (i = 0; lower[i]; i++)
			if (lower[i] >= 'A' && lower[i] <= 'Z')
				lower[i] = (char)(lower[i] - 'A' + 'a');
		singular = lower;
	}
	scope = json_string_value(json_object_get(spec, "scope"));
	if (scope == NULL || strcmp(scope, "Namespaced") == 0)
		flags |= TC_T_NAMESPACED;
	if (json_object_get(
	            json_object_get(
	                    json_array_get(json_object_get(spec, "versions"),
	                                   0),
	                    "subresources"),
	            "status") != NULL)
		flags |= TC_T_STATUS;
	tc_crd_unregister(st, crd);
	if (st->ntypes >= TC_MAX_TYPES) {
		free(lower);
		tc_status_error(resp, 507, "InternalError", NULL,
		                "testcluster: more than %d resource types",
		                TC_MAX_TYPES);
		return -1;
	}
	shorts = crd_shorts(names);
	st->types[st->ntypes] = type_new(group, crd_version(spec), plural,
	                                 singular, kind, shorts, flags);
	st->types[st->ntypes++]->serial = serial;
	free(shorts);
	free(lower);
	crd_set_status(crd, names);
	return 0;
}

/* Forget the type a CRD registered (its objects stay until the CRD is
 * deleted: the caller drops them). */
void tc_crd_unregister(tc_state *st, json_t *crd)
{
	json_t *spec = json_object_get(crd, "spec");
	const char *group = json_string_value(json_object_get(spec, "group"));
	const char *plural = json_string_value(
	        json_object_get(json_object_get(spec, "names"), "plural"));
	size_t i;

	if (group == NULL || plural == NULL)
		return;
	for (i = st->nbuiltin; i < st->ntypes; i++) {
		tc_type *t = st->types[i];

		if (strcmp(t->group, group) != 0 ||
		    strcmp(t->resource, plural) != 0)
			continue;
		tc_type_free(t);
		memmove(&st->types[i], &st->types[i + 1],
		        (st->ntypes - i - 1) * sizeof(st->types[0]));
		st->ntypes--;
		return;
	}
}
