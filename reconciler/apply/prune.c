/*
 * Prune: delete the objects that left Git, only those tollgate itself
 * applied for the unit (listed in its trusted inventory, and live with
 * tollgate's labels for that unit and tollgate's managedFields entry: see
 * apply/ownership.c), in reverse order, skipping those annotated
 * tollgate.dev/prune: disabled. Any other is left alone, with the reason
 * in the unit's prune records. A unit removed from Git loses all its
 * objects, then its inventory.
 */
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "tollgate/error.h"
#include "tollgate/log.h"

static bool same_identity(json_t *id, const obj *o)
{
	const char *ns = json_string_value(json_object_get(id, "namespace"));
	const char *av = json_string_value(json_object_get(id, "apiVersion"));
	const char *sa = strchr(av ? av : "", '/'),
	           *sb = strchr(o->api_version, '/');
	size_t ga = sa ? (size_t)(sa - av) : 0,
	       gb = sb ? (size_t)(sb - o->api_version) : 0;

	const char *kind = json_string_value(json_object_get(id, "kind"));
	const char *name = json_string_value(json_object_get(id, "name"));

	/* Same API group (any version), kind, namespace and name. */
	return av && kind && name && ga == gb &&
	       !strncmp(av, o->api_version, ga) && !strcmp(kind, o->kind) &&
	       !strcmp(name, o->name) &&
	       !strcmp(ns ? ns : "", o->ns ? o->ns : "");
}

static bool still_desired(const unit *u, json_t *id)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (same_identity(id, &u->objs[i]))
			return true;
	return false;
}

static bool prune_disabled(json_t *live)
{
	const char *v = json_string_value(json_object_get(
	        json_object_get(json_object_get(live, "metadata"),
	                        "annotations"),
	        TG_ANN_PRUNE));

	return v && !strcmp(v, "disabled");
}

/* Delete the object checked as live, and no other: the DELETE carries its
 * uid as a precondition. TG_ECONFLICT (with *why) when the object of that
 * name is now another one. */
static int delete_checked(tg_apply *a,
                          json_t *live,
                          const char *av,
                          const char *kind,
                          const char *ns,
                          const char *name,
                          char **why)
{
	const char *uid = json_string_value(
	        json_object_get(json_object_get(live, "metadata"), "uid"));
	int error = tg_kube_delete_uid(a->kube, av, kind, ns, name, uid, 0);

	if (error == TG_ECONFLICT)
		*why = tg_aprintf("left alone: %s %s%s%s was replaced after "
		                  "tollgate checked it (uid %s is gone); the "
		                  "new object was not checked",
		                  kind, ns ? ns : "", ns && *ns ? "/" : "",
		                  name, uid ? uid : "?");
	return error;
}

/* Prune the object of identity id, recording in rec the action taken
 * ("gone", "pruned", "prune", "prune-skipped", "prune-failed",
 * "left-alone" with its "reason"). Only an object tollgate applied for u
 * is deleted. */
static void prune_one(tg_apply *a, unit *u, json_t *id, json_t *rec)
{
	const char *av = json_string_value(json_object_get(id, "apiVersion"));
	const char *kind = json_string_value(json_object_get(id, "kind"));
	const char *ns = json_string_value(json_object_get(id, "namespace"));
	const char *name = json_string_value(json_object_get(id, "name"));
	json_t *live = NULL;
	const char *action = "pruned";
	char *why = NULL;
	int error;

	error = tg_kube_get(&live, a->kube, av, kind, ns, name);
	if (error == TG_ENOTFOUND)
		action = "gone";
	else if (error == 0 && prune_disabled(live))
		action = "prune-skipped";
	else if (error == 0 &&
	         (why = apply_not_applied_by_tollgate(live, u->name)))
		action = "left-alone";
	else if (error == 0 && a->opts.plan)
		action = "prune";
	else if (error == 0)
		error = delete_checked(a, live, av, kind, ns, name, &why);
	if (error == TG_ECONFLICT) {
		/* Replaced between the check and the delete: the new object
		 * was not checked, so it stays. */
		action = "left-alone";
		error = 0;
	}
	if (error < 0 && error != TG_ENOTFOUND) {
		apply_unit_error(u, tg_error_last());
		action = "prune-failed";
	}
	json_object_set_new(rec, "action", json_string(action));
	if (why) {
		tg_log(TG_LOG_WARN, "prune left an object alone", "unit",
		       u->name, "reason", why, NULL);
		json_object_set_new(rec, "reason", json_string(why));
	}
	free(why);
	json_decref(live);
}

/* Delete the identities in ids (objects that left Git), in reverse order,
 * skipping those annotated tollgate.dev/prune: disabled. */
static void prune_objects(tg_apply *a, unit *u, json_t *ids)
{
	size_t i = json_array_size(ids);

	while (i-- > 0) {
		json_t *id = json_array_get(ids, i), *rec;

		if (!json_string_value(json_object_get(id, "apiVersion")) ||
		    !json_string_value(json_object_get(id, "kind")) ||
		    !json_string_value(json_object_get(id, "name")))
			continue;
		rec = json_deep_copy(id);
		prune_one(a, u, id, rec);
		json_array_append_new(u->pruned, rec);
	}
}

json_t *apply_prune_gone(const unit *u, json_t *old)
{
	json_t *gone = json_array(), *id;
	size_t i;

	json_array_foreach(old, i, id) {
		if (!still_desired(u, id))
			json_array_append(gone, id);
	}
	return gone;
}

void apply_prune_unit(tg_apply *a, unit *u)
{
	json_t *old = apply_old_objects(a, u);
	json_t *gone = apply_prune_gone(u, old);

	json_decref(old);
	prune_objects(a, u, gone);
	json_decref(gone);
}

static bool unit_present(const tg_apply *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nunits; i++)
		if (!strcmp(a->units[i].name, name))
			return true;
	return false;
}

/* Prune every object of the removed unit name of inventory cm, then drop
 * the inventory. */
static void prune_removed(tg_apply *a, const char *name, json_t *cm)
{
	unit *u = apply_new_unit(a, name);
	char *why = NULL, *inv;
	json_t *objs = apply_inventory_objects(cm, &why);

	u->keep = true; /* no apply, no health */
	if (!objs) {
		/* Fail closed: nothing is deleted, and the inventory stays
		 * for the next cycle to report. */
		inv = tg_aprintf("inventory of removed unit \"%s\" unreadable, "
		                 "nothing pruned: %s",
		                 name, why);
		apply_unit_error(u, inv);
		free(inv);
		free(why);
	}
	prune_objects(a, u, objs);
	json_decref(objs);
	if (!u->failed && !a->opts.plan) {
		inv = tg_apply_inventory_name(name);
		if (tg_kube_delete(a->kube, "v1", "ConfigMap", a->inventory_ns,
		                   inv, 0) < 0)
			apply_unit_error(u, tg_error_last());
		free(inv);
	}
	json_array_append_new(a->pruned_units, json_string(name));
}

/* Units with an inventory but no directory in Git any more. */
void apply_prune_removed_units(tg_apply *a)
{
	const char *name;
	json_t *cm;

	json_object_foreach(a->inventories, name, cm) {
		if (!unit_present(a, name))
			prune_removed(a, name, cm);
	}
}
