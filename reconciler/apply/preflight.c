/*
 * Preflight: before anything is written, every object of the changed
 * units is sent with dryRun=All; a unit with an object the server refuses
 * is failed as a whole, so a bad object never leaves its unit
 * half-applied.
 */
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"

/* Whether o is a Namespace. */
static bool is_namespace(const obj *o)
{
	return !strcmp(o->api_version, "v1") && !strcmp(o->kind, "Namespace");
}

/*
 * The Namespaces of the units to apply that do not exist yet, as a set
 * {name: true}. Empty when the units create no Namespace or the
 * namespaces cannot be listed (every object then gets its dry run).
 */
static json_t *namespaces_created(tg_apply *a)
{
	json_t *set = json_object(), *live = NULL, *it;
	obj_iter oi = apply_objects(a, apply_eligible);
	size_t i;

	while (apply_next(&oi))
		if (is_namespace(oi.o))
			json_object_set_new(set, oi.o->name, json_true());
	if (json_object_size(set) == 0)
		return set;
	if (tg_kube_list(&live, a->kube, "v1", "Namespace", NULL, NULL) < 0) {
		json_object_clear(set);
		return set;
	}
	json_array_foreach(live, i, it) {
		const char *name = json_string_value(json_object_get(
		        json_object_get(it, "metadata"), "name"));
		if (name)
			json_object_del(set, name);
	}
	json_decref(live);
	return set;
}

/* An object let through preflight because it depends on another unit's
 * Namespace or CustomResourceDefinition of this cycle. */
typedef struct excused {
	unit *u;
	obj *o;
	bool crd; /* waits for a CRD, else for its Namespace */
} excused;

typedef struct excused_list {
	excused *items;
	size_t n, cap;
} excused_list;

static void excuse(excused_list *l, unit *u, obj *o, bool crd)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->items = tg_realloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n++] = (excused){ u, o, crd };
}

/* The Namespaces among the objects of units still pending, as a set:
 * one walk for all the excused objects (not one each). */
static json_t *pending_namespaces(tg_apply *a)
{
	obj_iter it = apply_objects(a, apply_pending);
	json_t *set = json_object();

	while (apply_next(&it))
		if (it.o->phase == PHASE_NAMESPACE)
			json_object_set_new(set, it.o->name, json_true());
	return set;
}

/* Whether what the excused object waits for is still to be applied. */
static bool still_pending(tg_apply *a, json_t *namespaces, const excused *e)
{
	return e->crd ? apply_crd_pending(a, e->o->api_version, e->o->kind)
	              : e->o->ns && json_object_get(namespaces, e->o->ns);
}

/* Fail the unit of e: what it waited for is not applied after all. */
static void refuse_orphan(const excused *e)
{
	const obj *o = e->o;
	char *msg = e->crd ? tg_aprintf("%s %s %s: no "
	                                "CustomResourceDefinition "
	                                "serves the kind (the unit "
	                                "that defines it is not "
	                                "applied)",
	                                o->api_version, o->kind, o->name)
	                   : tg_aprintf("%s %s %s/%s: namespace \"%s\" "
	                                "does not exist (the unit that "
	                                "defines it is not applied)",
	                                o->api_version, o->kind, o->ns, o->name,
	                                o->ns);

	apply_unit_error(e->u, msg);
	free(msg);
}

/*
 * A unit refused in preflight takes its Namespaces and CRDs with it, so an
 * object of another unit that waited for them cannot be applied either:
 * refuse that unit too, and again until nothing changes (one refusal can
 * take the dependency of a third unit).
 */
static void refuse_orphans(tg_apply *a, excused *ex, size_t n)
{
	bool changed = true;
	json_t *namespaces;
	size_t i;

	/* Units are only ever refused, never taken back: a refusal seen in
	 * the next pass reaches the same end as one seen at once. */
	while (changed) {
		changed = false;
		namespaces = pending_namespaces(a);
		for (i = 0; i < n; i++) {
			if (ex[i].u->failed ||
			    still_pending(a, namespaces, &ex[i]))
				continue;
			refuse_orphan(&ex[i]);
			changed = true;
		}
		json_decref(namespaces);
	}
}

/* Run the dry runs queued in b and read their answers; b is emptied. */
static void run_dry_runs(tg_apply *a, batch *b, excused_list *ex)
{
	size_t i;

	apply_batch_run(a, b);
	for (i = 0; i < b->n; i++) {
		tg_kube_op *op = &b->ops[i];
		if (op->result >= 0)
			continue;
		if (!apply_failure_is_pending(a, b->objs[i], op))
			apply_unit_error(b->units[i], op->message);
		else if (op->status == 404)
			/* The namespace's 404 (when they could not be
			 * listed): it waits for its Namespace too. */
			excuse(ex, b->units[i], b->objs[i], false);
	}
	apply_batch_free(b);
}

/*
 * Dry-run the eligible units' objects, TG_APPLY_BATCH_MAX at a time (a
 * batch holds each object's parsed tree, and a cycle that changes every
 * unit sends all of them); excuse those that wait for a CRD or a
 * Namespace of this cycle.
 */
static void dry_run_all(tg_apply *a, excused_list *ex)
{
	json_t *created = namespaces_created(a);
	obj_iter it = apply_objects(a, apply_eligible);
	batch b = { 0 };
	int scope;

	while (apply_next(&it)) {
		if ((scope = apply_scope_or_fail(a, it.u, it.o)) < 0)
			continue;
		/* In a namespace this cycle creates, the server could only
		 * answer that the namespace does not exist. */
		if (scope == 0 && it.o->ns &&
		    json_object_get(created, it.o->ns)) {
			excuse(ex, it.u, it.o, false);
			continue;
		}
		if (scope == 1)
			excuse(ex, it.u, it.o, true);
		apply_batch_add(&b, it.u, it.o, TG_KUBE_APPLY,
		                TG_KUBE_DRY_RUN | TG_KUBE_DISCARD);
		if (b.n == TG_APPLY_BATCH_MAX)
			run_dry_runs(a, &b, ex);
	}
	run_dry_runs(a, &b, ex);
	json_decref(created);
}

void apply_preflight(tg_apply *a)
{
	excused_list ex = { 0 };

	dry_run_all(a, &ex);
	refuse_orphans(a, ex.items, ex.n);
	free(ex.items);
}
