/*
 * Manifests: object identity. Two objects are the same when the cluster
 * would see one object: same API group, kind and name, and the same
 * namespace after defaulting as kubectl applies it (a namespaced object
 * without metadata.namespace is in "default"; a cluster-scoped one has no
 * namespace, whatever it says). See reconciler/include/tollgate/manifest.h.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/util.h"

/* Kubernetes' own cluster-scoped kinds, by API group. Any other kind is
 * namespaced unless a CRD of the set says spec.scope: Cluster. */
static const struct {
	const char *group, *kind;
} cluster_kinds[] = {
	{ "", "Namespace" },
	{ "", "Node" },
	{ "", "PersistentVolume" },
	{ "", "ComponentStatus" },
	{ "admissionregistration.k8s.io", "MutatingWebhookConfiguration" },
	{ "admissionregistration.k8s.io", "ValidatingWebhookConfiguration" },
	{ "admissionregistration.k8s.io", "ValidatingAdmissionPolicy" },
	{ "admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding" },
	{ "admissionregistration.k8s.io", "MutatingAdmissionPolicy" },
	{ "admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding" },
	{ "apiextensions.k8s.io", "CustomResourceDefinition" },
	{ "apiregistration.k8s.io", "APIService" },
	{ "certificates.k8s.io", "CertificateSigningRequest" },
	{ "certificates.k8s.io", "ClusterTrustBundle" },
	{ "flowcontrol.apiserver.k8s.io", "FlowSchema" },
	{ "flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration" },
	{ "networking.k8s.io", "IngressClass" },
	{ "networking.k8s.io", "IPAddress" },
	{ "networking.k8s.io", "ServiceCIDR" },
	{ "node.k8s.io", "RuntimeClass" },
	{ "policy", "PodSecurityPolicy" },
	{ "rbac.authorization.k8s.io", "ClusterRole" },
	{ "rbac.authorization.k8s.io", "ClusterRoleBinding" },
	{ "resource.k8s.io", "DeviceClass" },
	{ "resource.k8s.io", "ResourceSlice" },
	{ "scheduling.k8s.io", "PriorityClass" },
	{ "storage.k8s.io", "CSIDriver" },
	{ "storage.k8s.io", "CSINode" },
	{ "storage.k8s.io", "StorageClass" },
	{ "storage.k8s.io", "VolumeAttachment" },
	{ "storage.k8s.io", "VolumeAttributesClass" },
	{ "storagemigration.k8s.io", "StorageVersionMigration" },
};

static char *crd_key(const char *group, const char *kind)
{
	return tg_aprintf("%zu:%s%s", strlen(group), group, kind);
}

static bool is_cluster_scoped(const tg_manifest_set *set,
                              const tg_manifest_object *obj)
{
	size_t i;
	char *key;
	bool found;

	for (i = 0; i < sizeof(cluster_kinds) / sizeof(cluster_kinds[0]); i++)
		if (!strcmp(cluster_kinds[i].group, obj->group) &&
		    !strcmp(cluster_kinds[i].kind, obj->kind))
			return true;
	key = crd_key(obj->group, obj->kind);
	found = tg_manifest_strmap_get(&set->cluster_crds, key) != NULL;
	free(key);
	return found;
}

/* The namespace the cluster would put obj in: "" for a cluster-scoped
 * kind, "default" for a namespaced (or unknown) one written without. */
static const char *effective_namespace(const tg_manifest_set *set,
                                       const tg_manifest_object *obj)
{
	if (is_cluster_scoped(set, obj))
		return "";
	return obj->ns[0] ? obj->ns : "default";
}

/* A CRD with spec.scope Cluster makes its kind cluster-scoped. Returns
 * true when obj is the first such CRD of its kind. */
static bool note_cluster_crd(tg_manifest_set *set,
                             const tg_manifest_object *obj)
{
	const char *group, *kind, *scope;
	json_t *spec;
	char *key;

	bool added = false;

	if (strcmp(obj->group, "apiextensions.k8s.io") != 0 ||
	    strcmp(obj->kind, "CustomResourceDefinition") != 0)
		return false;
	/* loaded when the object came from the cache */
	spec = json_object_get(
	        tg_manifest_object_load((tg_manifest_object *)obj), "spec");
	group = json_string_value(json_object_get(spec, "group"));
	kind = json_string_value(
	        json_object_get(json_object_get(spec, "names"), "kind"));
	scope = json_string_value(json_object_get(spec, "scope"));
	if (!group || !kind || !scope || strcmp(scope, "Cluster") != 0)
		return false;
	key = crd_key(group, kind);
	if (!tg_manifest_strmap_get(&set->cluster_crds, key)) {
		tg_manifest_strmap_put(&set->cluster_crds, key, (void *)obj);
		added = true;
	}
	free(key);
	return added;
}

static char *identity_key(const tg_manifest_object *obj, const char *ns)
{
	return tg_aprintf("%zu:%s%zu:%s%zu:%s%zu:%s", strlen(obj->group),
	                  obj->group, strlen(obj->kind), obj->kind, strlen(ns),
	                  ns, strlen(obj->name), obj->name);
}

/* obj is first again: an error in both units naming both places. */
static void report_duplicate(tg_manifest_set *set,
                             const tg_manifest_object *obj,
                             const tg_manifest_object *first)
{
	char *what, *who, *here, *there;

	/* the group is part of the identity, so say it */
	who = tg_manifest_object_describe(obj);
	what = obj->group[0] ? tg_aprintf("%s (group %s)", who, obj->group)
	                     : tg_strdup(who);
	free(who);
	here = tg_manifest_loc(set, obj->file, obj->line);
	there = tg_manifest_loc(set, first->file, first->line);
	tg_manifest_unit_errorf(set, obj->unit,
	                        "%s: %s is defined twice: also at %s", here,
	                        what, there);
	if (first->unit != obj->unit)
		tg_manifest_unit_errorf(set, first->unit,
		                        "%s: %s is defined twice: also at %s",
		                        there, what, here);
	free(what);
	free(here);
	free(there);
}

/* Put obj under key; a duplicate when another object holds it (reported
 * unless the two already shared a key before, so once only). */
static void put_identity(tg_manifest_set *set,
                         tg_manifest_object *obj,
                         char *key,
                         bool (*reported)(const tg_manifest_object *,
                                          const tg_manifest_object *))
{
	tg_manifest_object *first =
	        tg_manifest_strmap_get(&set->object_map, key);

	if (!first)
		tg_manifest_strmap_put(&set->object_map, key, obj);
	else if (first != obj && !(reported && reported(first, obj)))
		report_duplicate(set, obj, first);
	free(key);
}

/* Before their CRD was seen, objects of a kind were keyed as namespaced
 * (no namespace: default); two with the same one were reported then. */
static bool same_namespaced_key(const tg_manifest_object *a,
                                const tg_manifest_object *b)
{
	return !strcmp(a->ns[0] ? a->ns : "default",
	               b->ns[0] ? b->ns : "default");
}

/*
 * The CRD crd makes its kind cluster-scoped, and objects of that kind may
 * have come earlier in the tree (another file, an earlier document): key
 * them again without namespace, so the duplicate check does not depend on
 * the order of files. The old keys stay, unused: later objects of the
 * kind use the new one.
 */
static void rekey_kind(tg_manifest_set *set, const tg_manifest_object *crd)
{
	json_t *spec = json_object_get(
	        tg_manifest_object_load((tg_manifest_object *)crd), "spec");
	const char *group = json_string_value(json_object_get(spec, "group"));
	const char *kind = json_string_value(
	        json_object_get(json_object_get(spec, "names"), "kind"));
	size_t u, i;

	for (u = 0; u < set->units.n; u++) {
		tg_manifest_unit *unit = set->units.v[u];

		for (i = 0; i < unit->objects.n; i++) {
			tg_manifest_object *o = unit->objects.v[i];

			if (strcmp(o->group, group) || strcmp(o->kind, kind))
				continue;
			put_identity(set, o, identity_key(o, ""),
			             same_namespaced_key);
		}
	}
}

/* Record obj under its identity; on a duplicate, an error in both units. */
void tg_manifest_object_register(file_ctx *ctx, tg_manifest_object *obj)
{
	/* a duplicate is the set's problem, not the file's (cache.c) */
	ctx->set->registering = true;
	put_identity(ctx->set, obj,
	             identity_key(obj, effective_namespace(ctx->set, obj)),
	             NULL);
	if (note_cluster_crd(ctx->set, obj))
		rekey_kind(ctx->set, obj);
	ctx->set->registering = false;
}
