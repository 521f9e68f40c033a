/*
 * The dry-run diff of `tollgate plan`: what applying would do to each
 * object (create, update with the fields that change, or unchanged),
 * checked by the server with dryRun=All. Nothing is written.
 */
#include "apply_int.h"
#include "tollgate/drift.h"
#include "tollgate/error.h"

static void record_object(unit *u, obj *o, const char *action)
{
	json_t *id = apply_identity_of(o);

	json_object_set_new(id, "action", json_string(action));
	if (o->changed)
		json_object_set(id, "changed", o->changed);
	json_array_append_new(u->objects, id);
}

/* The action for the object of dry[i] from its dry run and its GET. */
static void diff_one(tg_apply *a, batch *dry, batch *get, size_t i)
{
	obj *o = dry->objs[i];

	if (dry->ops[i].result < 0 &&
	    !apply_failure_is_pending(a, o, &dry->ops[i])) {
		apply_unit_error(dry->units[i], dry->ops[i].message);
		return;
	}
	if (get->ops[i].result == TG_ENOTFOUND) {
		record_object(dry->units[i], o, "create");
		return;
	}
	/* The tree the dry run sent, held by its batch (never a body made
	 * ahead: plan makes none, and compares the whole tree). */
	if (dry->ops[i].body) {
		apply_unit_error(dry->units[i], "internal: a plan's dry run "
		                                "sent a body, not its tree");
		return;
	}
	tg_drift_compare(&o->changed, dry->ops[i].obj, get->ops[i].live,
	                 TG_FIELD_MANAGER);
	record_object(dry->units[i], o,
	              json_array_size(o->changed) ? "update" : "unchanged");
}

void apply_diff_units(tg_apply *a)
{
	obj_iter it = apply_objects(a, apply_allowed);
	batch dry = { 0 }, get = { 0 };
	size_t i;

	while (apply_next(&it)) {
		if (apply_scope_or_fail(a, it.u, it.o) < 0)
			continue;
		apply_batch_add(&dry, it.u, it.o, TG_KUBE_APPLY,
		                TG_KUBE_DRY_RUN | TG_KUBE_DISCARD);
		apply_batch_add(&get, it.u, it.o, TG_KUBE_GET, 0);
	}
	apply_batch_run(a, &dry);
	apply_batch_run(a, &get);
	for (i = 0; i < dry.n; i++)
		diff_one(a, &dry, &get, i);
	apply_batch_free(&dry);
	apply_batch_free(&get);
}
