/*
 * A live object reduced to what drift and health read (tg_drift_slim, see
 * reconciler/include/tollgate/drift.h), so that `tollgate run` keeps no
 * more of each watched object than a cycle will look at.
 *
 * The compare (drift.c) reads the live value at each path the desired
 * object sets, and the owners of a field from metadata.managedFields. A
 * field tollgate set is owned by tollgate, or by whoever changed it since
 * (an update moves the field to its writer; an apply shares it); a field
 * no manager owns was filled in by the server. So the object keeps every
 * field some manager's fieldsV1 covers (a covered leaf with all below
 * it), the key fields of the list items it keeps, every list item (the
 * compare names items by their index), and its metadata; it drops the
 * rest: server defaults, and status but the fields health reads. An
 * object whose managedFields cannot be read keeps everything but status.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/drift.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#include "drift_int.h"

/* status fields health reads (apply/health.c), and of each condition. */
static const char *const health_fields[] = {
	"observedGeneration",     "replicas",          "updatedReplicas",
	"readyReplicas",          "availableReplicas", "desiredNumberScheduled",
	"updatedNumberScheduled", "numberAvailable",
};
static const char *const condition_fields[] = { "type", "status", "reason" };

static void
copy_members(json_t *to, json_t *from, const char *const *names, size_t n)
{
	size_t i;
	json_t *v;

	for (i = 0; i < n; i++)
		if ((v = json_object_get(from, names[i])))
			json_object_set(to, names[i], v);
}

static void slim_status(json_t *obj)
{
	json_t *st = json_object_get(obj, "status"), *keep, *conds, *c, *kc;
	size_t i;

	if (!st)
		return;
	keep = json_object();
	copy_members(keep, st, health_fields,
	             sizeof(health_fields) / sizeof(health_fields[0]));
	conds = json_object_get(st, "conditions");
	if (json_is_array(conds)) {
		json_t *arr = json_array();
		json_array_foreach(conds, i, c) {
			kc = json_object();
			copy_members(kc, c, condition_fields,
			             sizeof(condition_fields) /
			                     sizeof(condition_fields[0]));
			json_array_append_new(arr, kc);
		}
		json_object_set_new(keep, "conditions", arr);
	}
	if (json_object_size(keep))
		json_object_set_new(obj, "status", keep);
	else {
		json_decref(keep);
		json_object_del(obj, "status");
	}
}

/*
 * One managedFields entry reduced to what ownership reads (manager,
 * operation, subresource, fieldsV1 without status): its fieldsV1, or NULL
 * when it owns nothing left. *bad when it cannot be read as FieldsV1.
 */
static json_t *slim_entry(json_t *e, bool *bad)
{
	const char *type = json_string_value(json_object_get(e, "fieldsType"));
	json_t *f = json_object_get(e, "fieldsV1");

	if (!json_is_object(e) || !json_is_object(f) ||
	    (json_object_get(e, "fieldsType") &&
	     (!type || strcmp(type, "FieldsV1")))) {
		*bad = true;
		return NULL;
	}
	json_object_del(e, "time");
	json_object_del(e, "apiVersion");
	json_object_del(e, "fieldsType");
	json_object_del(f, "f:status");
	return json_object_size(f) ? f : NULL;
}

/* The field sets of live's managers (borrowed, *n of them), its
 * managedFields slimmed; NULL when they cannot all be read. */
static json_t **field_sets(json_t *live, size_t *n)
{
	json_t *meta = json_object_get(live, "metadata");
	json_t *mf = json_object_get(meta, "managedFields"), *e, *kept, *f;
	json_t **sets;
	size_t i;
	bool bad = false;

	*n = 0;
	if (!json_is_array(mf) || json_array_size(mf) == 0 ||
	    json_array_size(mf) > TG_DRIFT_SLIM_MAX_MANAGERS)
		return NULL;
	sets = tg_calloc(json_array_size(mf), sizeof(*sets));
	kept = json_array();
	json_array_foreach(mf, i, e) {
		if ((f = slim_entry(e, &bad))) {
			sets[(*n)++] = f;
			json_array_append(kept, e);
		}
		if (bad)
			break;
	}
	if (bad) {
		free(sets);
		json_decref(kept);
		*n = 0;
		return NULL;
	}
	/* kept holds references: the sets outlive the old array. */
	json_object_set_new(meta, "managedFields", kept);
	return sets;
}

static void slim_value(json_t *v, json_t **sets, size_t n, unsigned depth);

/* Members of object v that no set names ("f:<key>") are dropped; those
 * in keep (the key fields of the list item v is) are left as they are. */
static void
slim_members(json_t *v, json_t *keep, json_t **sets, size_t n, unsigned depth)
{
	json_t **sub = tg_calloc(n, sizeof(*sub)), *m, *s;
	const char *key;
	void *tmp;
	size_t i, k;

	json_object_foreach_safe(v, tmp, key, m) {
		char *f;

		if (json_object_get(keep, key))
			continue;
		f = tg_aprintf("f:%s", key);
		for (i = k = 0; i < n; i++)
			if ((s = json_object_get(sets[i], f)))
				sub[k++] = s;
		free(f);
		if (k)
			slim_value(m, sub, k, depth + 1);
		else
			json_object_del(v, key);
	}
	free(sub);
}

/* Every item stays (the compare and "i:" entries count by index); an item
 * some set covers is slimmed as the union of those sets, keeping its key
 * fields. */
static void slim_items(json_t *v, json_t **sets, size_t n, unsigned depth)
{
	json_t **sub = tg_calloc(n, sizeof(*sub)), *item, *key, *s;
	json_t *keys = json_object();
	size_t i, j, k;

	json_array_foreach(v, i, item) {
		json_object_clear(keys);
		for (j = k = 0; j < n; j++) {
			if (!(s = drift_item_fields(sets[j], v, i, &key)))
				continue;
			sub[k++] = s;
			if (json_is_object(key))
				json_object_update(keys, key);
			json_decref(key);
		}
		if (k && json_is_object(item))
			slim_members(item, keys, sub, k, depth + 1);
		else if (k)
			slim_value(item, sub, k, depth + 1);
	}
	json_decref(keys);
	free(sub);
}

static void slim_value(json_t *v, json_t **sets, size_t n, unsigned depth)
{
	size_t i;

	/* A leaf of any set owns the value whole (an atomic list or map,
	 * a scalar); so does any value deeper than the cap. */
	for (i = 0; i < n; i++)
		if (json_object_size(sets[i]) == 0)
			return;
	if (depth >= TG_DRIFT_SLIM_MAX_DEPTH)
		return;
	if (json_is_object(v))
		slim_members(v, NULL, sets, n, depth);
	else if (json_is_array(v))
		slim_items(v, sets, n, depth);
}

/* Health reads spec.replicas whoever set it (1 when absent). */
static void keep_replicas(json_t *live, json_t *replicas)
{
	json_t *spec = json_object_get(live, "spec");

	if (!replicas)
		return;
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(live, "spec", spec);
	}
	json_object_set(spec, "replicas", replicas);
}

void tg_drift_slim(json_t *live)
{
	json_t *keep, *replicas, **sets;
	size_t n;

	if (!json_is_object(live))
		return;
	slim_status(live);
	if (!(sets = field_sets(live, &n)))
		return;
	replicas = json_incref(
	        json_object_get(json_object_get(live, "spec"), "replicas"));
	/* What the compare never walks (metadata is compared whole), and
	 * status, slimmed already. */
	keep = json_pack("{s:b,s:b,s:b,s:b}", "apiVersion", 1, "kind", 1,
	                 "metadata", 1, "status", 1);
	slim_members(live, keep, sets, n, 0);
	keep_replicas(live, replicas);
	json_decref(replicas);
	json_decref(keep);
	free(sets);
}
