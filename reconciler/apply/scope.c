/*
 * Units, scope and phase of objects, the object iterator and batches:
 * the pieces every step of reconciler/apply/ shares (apply_int.h).
 */
#include <string.h>
#include <time.h>

#include "apply_int.h"
#include "tollgate/error.h"
#include "tollgate/log.h"

/* Kinds by phase; anything not listed is PHASE_OTHER (built-in group) or
 * PHASE_CUSTOM (a group served by a CRD). */
static const struct {
	const char *kind;
	enum phase phase;
} kind_phase[] = {
	{ "CustomResourceDefinition", PHASE_CRD },
	{ "Namespace", PHASE_NAMESPACE },
	{ "ServiceAccount", PHASE_FOUNDATION },
	{ "Secret", PHASE_FOUNDATION },
	{ "ConfigMap", PHASE_FOUNDATION },
	{ "Role", PHASE_FOUNDATION },
	{ "RoleBinding", PHASE_FOUNDATION },
	{ "PersistentVolumeClaim", PHASE_FOUNDATION },
	{ "LimitRange", PHASE_FOUNDATION },
	{ "ResourceQuota", PHASE_FOUNDATION },
	{ "Service", PHASE_FOUNDATION },
	{ "Deployment", PHASE_WORKLOAD },
	{ "StatefulSet", PHASE_WORKLOAD },
	{ "DaemonSet", PHASE_WORKLOAD },
	{ "ReplicaSet", PHASE_WORKLOAD },
	{ "Job", PHASE_WORKLOAD },
	{ "CronJob", PHASE_WORKLOAD },
	{ "Pod", PHASE_WORKLOAD },
};

/* API groups of Kubernetes itself: a kind in any other group comes from
 * a CRD and is applied last. */
static bool builtin_group(const char *api_version)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;

	if (!slash)
		return true; /* core "v1" */
	return (n > 8 && !strncmp(api_version + n - 8, ".k8s.io", 7)) ||
	       !strncmp(api_version, "apps/", 5) ||
	       !strncmp(api_version, "batch/", 6) ||
	       !strncmp(api_version, "policy/", 7) ||
	       !strncmp(api_version, "autoscaling/", 12) ||
	       strstr(api_version, ".k8s.io/") != NULL;
}

static enum phase
phase_of(const char *api_version, const char *kind, bool namespaced)
{
	size_t i;

	for (i = 0; i < sizeof(kind_phase) / sizeof(kind_phase[0]); i++)
		if (!strcmp(kind_phase[i].kind, kind))
			return kind_phase[i].phase;
	if (!builtin_group(api_version))
		return PHASE_CUSTOM;
	return namespaced ? PHASE_OTHER : PHASE_CLUSTER;
}

/* Units -------------------------------------------------------------------- */

unit *apply_new_unit(tg_apply *a, const char *name)
{
	unit *u;

	a->units = tg_realloc(a->units, (a->nunits + 1) * sizeof(*a->units));
	u = &a->units[a->nunits++];
	apply_unit_init(u, name);
	return u;
}

void apply_unit_init(unit *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	u->name = tg_strdup(name);
	u->errors = json_array();
	u->objects = json_array();
	u->health = json_array();
	u->drift = json_array();
	u->pruned = json_array();
}

void apply_unit_error(unit *u, const char *msg)
{
	u->failed = true;
	json_array_append_new(u->errors, json_string(msg));
	tg_log(TG_LOG_ERROR, "unit failed", "unit", u->name, "error", msg,
	       NULL);
}

bool apply_eligible(const unit *u)
{
	return !u->keep && u->changed && !u->failed;
}

bool apply_unchanged(const unit *u)
{
	return !u->keep && !u->changed;
}

bool apply_allowed(const unit *u)
{
	return !u->keep;
}

bool apply_pending(const unit *u)
{
	return !u->keep && !u->failed;
}

/* Iterator ----------------------------------------------------------------- */

obj_iter apply_objects(tg_apply *a, bool (*want)(const unit *u))
{
	obj_iter it = { a, want, 0, 0, NULL, NULL };

	return it;
}

bool apply_next(obj_iter *it)
{
	for (;;) {
		if (it->u && it->j < it->u->n) {
			it->o = &it->u->objs[it->j++];
			return true;
		}
		if (it->i >= it->a->nunits)
			return false;
		it->u = &it->a->units[it->i++];
		it->j = 0;
		if (!it->want(it->u))
			it->u = NULL;
	}
}

/* Scope -------------------------------------------------------------------- */

int apply_resolve_scope(tg_apply *a, obj *o)
{
	const tg_kube_resource *r;
	int error;

	if ((error = tg_kube_resource_lookup(&r, a->kube, o->api_version,
	                                     o->kind)) < 0) {
		o->phase = phase_of(o->api_version, o->kind, true);
		return error;
	}
	if (r->namespaced && (!o->ns || !*o->ns))
		apply_obj_set_namespace(o, "default");
	else if (!r->namespaced)
		apply_obj_set_namespace(o, NULL);
	else
		apply_obj_set_namespace(o, o->ns);
	o->phase = phase_of(o->api_version, o->kind, r->namespaced);
	return 0;
}

/* Whether o is a CRD that defines kind in the group of glen bytes. */
static bool
defines_kind(obj *o, const char *group, size_t glen, const char *kind)
{
	json_t *spec;
	const char *g, *k;
	bool found, loaded = o->desired != NULL;

	if (o->phase != PHASE_CRD)
		return false;
	spec = json_object_get(apply_desired(o), "spec");
	g = json_string_value(json_object_get(spec, "group"));
	k = json_string_value(
	        json_object_get(json_object_get(spec, "names"), "kind"));
	found = g && k && strlen(g) == glen && !strncmp(g, group, glen) &&
	        !strcmp(k, kind);
	if (!loaded)
		apply_park(o);
	return found;
}

bool apply_crd_pending(tg_apply *a, const char *api_version, const char *kind)
{
	const char *slash = strchr(api_version, '/');
	size_t glen = slash ? (size_t)(slash - api_version) : 0;
	obj_iter it = apply_objects(a, apply_pending);

	while (apply_next(&it))
		if (defines_kind(it.o, api_version, glen, kind))
			return true;
	return false;
}

bool apply_namespace_pending(tg_apply *a, const char *ns)
{
	obj_iter it = apply_objects(a, apply_pending);

	while (apply_next(&it))
		if (it.o->phase == PHASE_NAMESPACE && !strcmp(it.o->name, ns))
			return true;
	return false;
}

int apply_scope_or_fail(tg_apply *a, unit *u, obj *o)
{
	if (apply_resolve_scope(a, o) == 0)
		return 0;
	if (apply_crd_pending(a, o->api_version, o->kind))
		return 1;
	apply_unit_error(u, tg_error_last());
	return -1;
}

bool apply_failure_is_pending(tg_apply *a, const obj *o, const tg_kube_op *op)
{
	if (op->result == TG_ENOTFOUND && op->status == 0)
		return apply_crd_pending(a, o->api_version, o->kind);
	if (op->status == 404 && o->ns &&
	    strstr(op->message ? op->message : "", "namespaces"))
		return apply_namespace_pending(a, o->ns);
	return false;
}

/* Batches ------------------------------------------------------------------ */

/* What a GET or DELETE of o needs: apiVersion, kind, metadata.name and
 * .namespace (new reference). */
static json_t *kube_ref(const obj *o)
{
	return json_pack("{s:s,s:s,s:{s:s?,s:s*}}", "apiVersion",
	                 o->api_version, "kind", o->kind, "metadata", "name",
	                 o->name, "namespace", o->ns);
}

void apply_batch_add(
        batch *b, unit *u, obj *o, tg_kube_verb verb, unsigned flags)
{
	/* Grown by doubling: a batch of a cold cycle holds every object. */
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->ops = tg_realloc(b->ops, b->cap * sizeof(*b->ops));
		b->objs = tg_realloc(b->objs, b->cap * sizeof(*b->objs));
		b->units = tg_realloc(b->units, b->cap * sizeof(*b->units));
	}
	memset(&b->ops[b->n], 0, sizeof(b->ops[b->n]));
	b->ops[b->n].verb = verb;
	/* The batch holds its own reference: the tree lives until the
	 * batch is freed, whatever a step parks meanwhile. A read or a
	 * delete needs only the identity, not the whole tree. */
	if (verb == TG_KUBE_GET || verb == TG_KUBE_DELETE) {
		b->ops[b->n].obj = kube_ref(o);
	} else if (apply_obj_body(o)) {
		/* Made while the tree was loaded: no parse, no serialising.
		 * The identity gives the URL, with the same namespace. */
		b->ops[b->n].obj = kube_ref(o);
		b->ops[b->n].body = apply_obj_body(o);
	} else {
		bool loaded = o->desired != NULL;

		b->ops[b->n].obj = json_incref(apply_desired(o));
		if (!loaded)
			apply_park(o);
	}
	b->ops[b->n].flags = flags;
	b->objs[b->n] = o;
	b->units[b->n] = u;
	b->n++;
}

void apply_batch_run(tg_apply *a, batch *b)
{
	if (b->n == 0)
		return;
	/* Each op that did not run reads as failed with its own message,
	 * which the caller reports for the op's unit. */
	if (tg_kube_run(a->kube, b->ops, b->n) < 0)
		tg_log(TG_LOG_WARN, "a batch of operations did not run",
		       "error", tg_error_last(), NULL);
}

void apply_batch_free(batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		tg_kube_op_clear(&b->ops[i]);
		json_decref(b->ops[i].obj);
	}
	free(b->ops);
	free(b->objs);
	free(b->units);
	memset(b, 0, sizeof(*b));
}

/* Helpers ------------------------------------------------------------------ */

void apply_sleep_s(double s)
{
	struct timespec ts = { (time_t)s,
		               (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

json_t *apply_object_member(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}
