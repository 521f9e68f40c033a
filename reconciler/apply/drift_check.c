/*
 * Drift of the units left unchanged this cycle: compare their live
 * objects (reconciler/drift/live.c) with what was applied
 * (tg_drift_compare); with drift: correct, apply the drifted ones again.
 */
#include "apply_int.h"
#include "tollgate/drift.h"
#include "tollgate/error.h"
#include "tollgate/log.h"

static void record_drift(unit *u, obj *o, json_t *fields, bool deleted)
{
	json_t *d = apply_identity_of(o);

	json_object_del(d, "apiVersion");
	if (deleted)
		json_object_set_new(d, "deleted", json_true());
	json_object_set_new(d, "fields", fields);
	json_array_append_new(u->drift, d);
	tg_log(TG_LOG_WARN, deleted ? "drift: object deleted" : "drift", "unit",
	       u->name, "kind", o->kind, "namespace", o->ns ? o->ns : "",
	       "name", o->name, NULL);
}

/* Drift of one object against its live state (NULL: deleted). */
static void drift_one(tg_apply *a, batch *fix, unit *u, obj *o, json_t *live)
{
	json_t *fields = NULL;

	if (!live) {
		fields = json_array();
	} else {
		tg_drift_compare(&fields, o->desired, live, TG_FIELD_MANAGER);
		if (apply_is_workload(o))
			apply_record_health(u, o, live);
		if (json_array_size(fields) == 0) {
			json_decref(fields);
			return;
		}
	}
	record_drift(u, o, fields, live == NULL);
	if (a->opts.correct_drift && !a->opts.plan)
		apply_batch_add(fix, u, o, TG_KUBE_APPLY, TG_KUBE_DISCARD);
}

/*
 * The live objects of every kind among the unchanged units, listed by
 * the label app.kubernetes.io/managed-by=tollgate. NULL only when
 * nothing could be allocated; kinds that could not be listed find nothing.
 */
static tg_drift_live *list_live(tg_apply *a)
{
	obj_iter it = apply_objects(a, apply_unchanged);
	tg_drift_live *live = NULL;

	if (tg_drift_live_new(&live) < 0)
		return NULL;
	while (apply_next(&it))
		tg_drift_live_want(live, it.o->api_version, it.o->kind);
	/* Objects of kinds not listed are read one by one below. */
	if (tg_drift_live_list(live, a->kube, TG_LABEL_MANAGED_BY "=tollgate") <
	    0)
		tg_log(TG_LOG_WARN, "listing live objects for drift failed",
		       "error", tg_error_last(), NULL);
	return live;
}

/* Not listed: deleted, or its label was changed; a GET tells which. */
static void read_unlisted(tg_apply *a, batch *fix, tg_drift_live *live)
{
	obj_iter it = apply_objects(a, apply_unchanged);
	batch b = { 0 };
	json_t *l;
	size_t i;

	while (apply_next(&it)) {
		l = live ? tg_drift_live_find(live, it.o->api_version,
		                              it.o->kind, it.o->ns, it.o->name)
		         : NULL;
		if (l)
			drift_one(a, fix, it.u, it.o, l);
		else
			apply_batch_add(&b, it.u, it.o, TG_KUBE_GET, 0);
	}
	apply_batch_run(a, &b);
	for (i = 0; i < b.n; i++) {
		if (b.ops[i].result < 0 && b.ops[i].result != TG_ENOTFOUND)
			apply_unit_error(b.units[i], b.ops[i].message);
		else
			drift_one(a, fix, b.units[i], b.objs[i],
			          b.ops[i].result < 0 ? NULL : b.ops[i].live);
	}
	apply_batch_free(&b);
}

void apply_check_drift(tg_apply *a)
{
	obj_iter it = apply_objects(a, apply_unchanged);
	batch fix = { 0 };
	tg_drift_live *live;
	size_t i;

	while (apply_next(&it))
		if (apply_resolve_scope(a, it.o) < 0)
			apply_unit_error(it.u, tg_error_last());
	live = list_live(a);
	read_unlisted(a, &fix, live);
	apply_batch_run(a, &fix);
	for (i = 0; i < fix.n; i++) {
		if (fix.ops[i].result < 0)
			apply_unit_error(fix.units[i], fix.ops[i].message);
		else
			fix.units[i]->drift_corrected = true;
	}
	tg_drift_live_free(live);
	apply_batch_free(&fix);
}
