/*
 * What tollgate may trust in the cluster before it deletes anything: an
 * inventory only when tollgate wrote it under the name derived from its
 * unit, an object only when tollgate applied it for the unit that prunes
 * it. Anyone who can write to the cluster or get an object applied (a
 * committer, through a unit) could otherwise point prune at objects that
 * are not tollgate's. Both answers come from the live object: its labels,
 * its annotations and the fieldsV1 of tollgate's Apply entry in
 * metadata.managedFields (which the API server keeps per field manager).
 */
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "tollgate/util.h"

/* The fieldsV1 of the server-side apply entry of manager "tollgate" in
 * live's managedFields, or NULL when tollgate never applied it. */
static json_t *tollgate_fields(json_t *live)
{
	json_t *mf = json_object_get(json_object_get(live, "metadata"),
	                             "managedFields"),
	       *e;
	size_t i;

	json_array_foreach(mf, i, e) {
		const char *m =
		        json_string_value(json_object_get(e, "manager"));
		const char *op =
		        json_string_value(json_object_get(e, "operation"));
		json_t *fields = json_object_get(e, "fieldsV1");

		if (m && op && !strcmp(m, TG_FIELD_MANAGER) &&
		    !strcmp(op, "Apply") && json_is_object(fields))
			return fields;
	}
	return NULL;
}

/* Whether fields owns the member key of the map section/sub (sub may be
 * NULL: the member key of section). */
static bool
owns(json_t *fields, const char *section, const char *sub, const char *key)
{
	char *f = tg_aprintf("f:%s", section);
	json_t *at = json_object_get(fields, f);

	free(f);
	if (sub) {
		f = tg_aprintf("f:%s", sub);
		at = json_object_get(at, f);
		free(f);
	}
	f = tg_aprintf("f:%s", key);
	at = json_object_get(at, f);
	free(f);
	return at != NULL;
}

static const char *meta_string(json_t *live, const char *map, const char *key)
{
	return json_string_value(json_object_get(
	        json_object_get(json_object_get(live, "metadata"), map), key));
}

/* Why cm cannot be trusted as an inventory (a new string), or NULL. */
static char *inventory_problem(json_t *cm, const char *name, const char *uname)
{
	json_t *fields = tollgate_fields(cm);
	const char *label = meta_string(cm, "labels", TG_LABEL_UNIT);
	const char *ann = meta_string(cm, "annotations", TG_LABEL_UNIT);
	char *want;

	if (!uname)
		return tg_strdup("it has no data.unit");
	if (!fields || !owns(fields, "data", NULL, "unit") ||
	    !owns(fields, "data", NULL, "objects"))
		return tg_strdup("not written by tollgate (its managedFields "
		                 "do not show manager tollgate applying "
		                 "data.unit and data.objects)");
	want = tg_apply_inventory_name(uname);
	if (strcmp(want, name)) {
		char *m = tg_aprintf("name does not match unit \"%s\" (its "
		                     "inventory is %s)",
		                     uname, want);
		free(want);
		return m;
	}
	free(want);
	/* tollgate writes inventories without the unit label and with the
	 * unit annotation of their own unit; an object a unit applied
	 * carries the label and the annotation of that unit. */
	if (label || !ann || strcmp(ann, uname))
		return tg_aprintf("it was applied as an object of unit \"%s\", "
		                  "not written as the inventory of \"%s\"",
		                  label ? label
		                  : ann ? ann
		                        : "?",
		                  uname);
	return NULL;
}

char *apply_inventory_distrust(const tg_apply *a, json_t *cm)
{
	const char *name = json_string_value(
	        json_object_get(json_object_get(cm, "metadata"), "name"));
	const char *uname = json_string_value(
	        json_object_get(json_object_get(cm, "data"), "unit"));
	char *why, *m;

	if (!name)
		name = "?";
	why = inventory_problem(cm, name, uname);
	if (!why)
		return NULL;
	m = tg_aprintf("inventory %s/%s ignored: %s", a->inventory_ns, name,
	               why);
	free(why);
	return m;
}

/* The label (or, for a unit name that is no label value, the annotation)
 * that names the unit: map and key in live's metadata. */
static const char *unit_map(const char *uname)
{
	return apply_valid_label_value(uname) ? "labels" : "annotations";
}

/* Why live is not tollgate's object of unit (a new string), or NULL. */
static char *object_problem(json_t *live, const char *uname)
{
	const char *map = unit_map(uname);
	const char *by = meta_string(live, "labels", TG_LABEL_MANAGED_BY);
	const char *of = meta_string(live, map, TG_LABEL_UNIT);
	json_t *fields = tollgate_fields(live);

	if (!by || strcmp(by, "tollgate"))
		return by ? tg_aprintf("label %s is \"%s\"",
		                       TG_LABEL_MANAGED_BY, by)
		          : tg_aprintf("no label %s", TG_LABEL_MANAGED_BY);
	if (!of || strcmp(of, uname))
		return of ? tg_aprintf("%s %s is \"%s\"",
		                       map[0] == 'l' ? "label" : "annotation",
		                       TG_LABEL_UNIT, of)
		          : tg_aprintf("no %s %s",
		                       map[0] == 'l' ? "label" : "annotation",
		                       TG_LABEL_UNIT);
	if (!fields ||
	    !owns(fields, "metadata", "labels", TG_LABEL_MANAGED_BY) ||
	    !owns(fields, "metadata", map, TG_LABEL_UNIT))
		return tg_strdup("its managedFields do not show manager "
		                 "tollgate applying these labels");
	return NULL;
}

char *apply_not_applied_by_tollgate(json_t *live, const char *uname)
{
	char *why = object_problem(live, uname), *m;

	if (!why)
		return NULL;
	m = tg_aprintf("left alone: not applied by tollgate for unit %s (%s)",
	               uname, why);
	free(why);
	return m;
}
