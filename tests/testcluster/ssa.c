/*
 * Server-side apply and managedFields, following the semantics of
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/:
 * the fields an applier sets are its owned set; a field it set before and
 * leaves out is removed unless another manager owns it; setting a field
 * another manager owns to a different value is a conflict unless forced,
 * which moves ownership. Other verbs record an Update entry that takes
 * the fields they change from every other manager.
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

/* Metadata fields a manager can own; the rest are the server's. */
static const char *const owned_meta[] = { "labels", "annotations",
	                                  "ownerReferences", "finalizers" };

/* The part of obj field sets are computed on (new reference): no
 * apiVersion/kind, only user-owned metadata, and the status only for the
 * status subresource (or for types without one). */
static json_t *set_view(const tc_type *t, json_t *obj, const char *sub)
{
	json_t *v = json_object(), *meta = json_object(), *m;
	const char *k;
	json_t *x;
	size_t i;

	if (sub != NULL) {
		x = json_object_get(obj, "status");
		if (x != NULL)
			json_object_set(v, "status", x);
		json_decref(meta);
		return v;
	}
	json_object_foreach(obj, k, x) {
		if (strcmp(k, "apiVersion") == 0 || strcmp(k, "kind") == 0 ||
		    strcmp(k, "metadata") == 0)
			continue;
		if (strcmp(k, "status") == 0 && (t->flags & TC_T_STATUS))
			continue;
		json_object_set(v, k, x);
	}
	m = json_object_get(obj, "metadata");
	for (i = 0; i < sizeof(owned_meta) / sizeof(owned_meta[0]); i++) {
		x = json_object_get(m, owned_meta[i]);
		if (x != NULL && !json_is_null(x))
			json_object_set(meta, owned_meta[i], x);
	}
	if (json_object_size(meta) > 0)
		json_object_set(v, "metadata", meta);
	json_decref(meta);
	return v;
}

static bool
entry_is(json_t *e, const char *manager, const char *op, const char *sub)
{
	const char *es = json_string_value(json_object_get(e, "subresource"));

	return strcmp(json_string_value(json_object_get(e, "manager")),
	              manager) == 0 &&
	       strcmp(json_string_value(json_object_get(e, "operation")), op) ==
	               0 &&
	       ((sub == NULL && es == NULL) ||
	        (sub != NULL && es != NULL && strcmp(sub, es) == 0));
}

/* The entry of (manager, op, sub) in mf, created when absent (borrowed). */
static json_t *entry_get(json_t *mf,
                         const tc_type *t,
                         const char *manager,
                         const char *op,
                         const char *sub)
{
	json_t *e;
	size_t i;
	char *av;

	json_array_foreach(mf, i, e) {
		if (entry_is(e, manager, op, sub))
			return e;
	}
	av = tc_type_api_version(t);
	e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{}}", "manager", manager,
	              "operation", op, "apiVersion", av, "time", "",
	              "fieldsType", "FieldsV1", "fieldsV1");
	if (sub != NULL)
		json_object_set_new(e, "subresource", json_string(sub));
	free(av);
	json_array_append_new(mf, e);
	return e;
}

static void entry_touch(json_t *e)
{
	char now[21];

	tc_now_str(now);
	json_object_set_new(e, "time", json_string(now));
}

/*
 * The managedFields of obj to work on (new reference): an array of copies
 * of its entries, whose sets stay packed (fieldset.c) until entry_set
 * needs one. A set the store holds as a tree is copied: stored objects
 * are never changed.
 */
static json_t *entries_load(json_t *obj)
{
	json_t *mf = json_object_get(json_object_get(obj, "metadata"),
	                             "managedFields");
	json_t *out = json_array(), *e, *c, *set;
	size_t i;

	json_array_foreach(mf, i, e) {
		if (!json_is_object(e))
			continue;
		c = json_copy(e);
		set = json_object_get(c, "fieldsV1");
		if (json_is_object(set))
			json_object_set_new(c, "fieldsV1", json_deep_copy(set));
		json_array_append_new(out, c);
	}
	return out;
}

/* The set of entry e as a tree, unpacked on first use (borrowed). */
static json_t *entry_set(json_t *e)
{
	json_t *set = json_object_get(e, "fieldsV1");

	if (!json_is_object(set)) {
		set = tc_fieldset_unpack(set);
		json_object_set_new(e, "fieldsV1", set);
	}
	return set;
}

/* Drop entries that own nothing, pack the sets that were unpacked; store
 * mf in obj (or remove it). */
static void entries_store(json_t *obj, json_t *mf)
{
	json_t *e, *set;
	size_t i;

	for (i = json_array_size(mf); i > 0; i--) {
		e = json_array_get(mf, i - 1);
		set = json_object_get(e, "fieldsV1");
		if (!json_is_object(set))
			continue;
		if (tc_fieldset_empty(set))
			json_array_remove(mf, i - 1);
		else
			json_object_set_new(e, "fieldsV1",
			                    tc_fieldset_pack(set));
	}
	if (json_array_size(mf) == 0)
		json_object_del(json_object_get(obj, "metadata"),
		                "managedFields");
	else
		json_object_set(json_object_get(obj, "metadata"),
		                "managedFields", mf);
}

/* Merge -------------------------------------------------------------- */

static json_t *merge_value(json_t *live, json_t *applied, const char *field);

static json_t *merge_list(json_t *live, json_t *applied, const char *key)
{
	json_t *out = json_is_array(live) ? json_deep_copy(live) : json_array();
	json_t *item, *cur;
	size_t i, j;

	json_array_foreach(applied, i, item) {
		json_t *want = json_object_get(item, key);
		bool found = false;

		json_array_foreach(out, j, cur) {
			if (json_equal(json_object_get(cur, key), want)) {
				json_array_set_new(
				        out, j, merge_value(cur, item, NULL));
				found = true;
				break;
			}
		}
		if (!found)
			json_array_append_new(out,
			                      merge_value(NULL, item, NULL));
	}
	return out;
}

/* The applied value over the live one: maps merge, keyed lists merge by
 * key, everything else is replaced; nulls in the applied value are
 * "not set". New reference. */
static json_t *merge_value(json_t *live, json_t *applied, const char *field)
{
	json_t *out;
	const char *k, *key;
	json_t *v;

	if (json_is_array(applied)) {
		key = tc_list_merge_key(field, json_array_get(applied, 0));
		if (key != NULL)
			return merge_list(live, applied, key);
		return json_deep_copy(applied);
	}
	if (!json_is_object(applied))
		return json_deep_copy(applied);
	out = json_is_object(live) ? json_deep_copy(live) : json_object();
	json_object_foreach(applied, k, v) {
		if (json_is_null(v))
			continue;
		json_object_set_new(out, k,
		                    merge_value(json_object_get(out, k), v, k));
	}
	return out;
}

/* Conflicts ------------------------------------------------------------ */

/* The node of set at path (exact keys), or NULL. */
static json_t *set_node(json_t *set, json_t *path)
{
	json_t *node = set, *el;
	size_t i;

	json_array_foreach(path, i, el) {
		node = json_object_get(node, json_string_value(el));
		if (node == NULL)
			return NULL;
	}
	return node;
}

/* Add to conflicts every path of the applied set that entry e owns with a
 * different value in live. */
static void entry_conflicts(json_t *conflicts,
                            json_t *e,
                            json_t *paths,
                            json_t *aset,
                            json_t *live,
                            json_t *applied)
{
	json_t *p;
	size_t i;

	json_array_foreach(paths, i, p) {
		if (!tc_fieldset_may_touch(json_object_get(e, "fieldsV1"), p) ||
		    !tc_fieldset_has(entry_set(e), p))
			continue;
		/* A keyed item itself ("."): having the same key is
		 * agreement; its fields are compared one by one. */
		if (json_object_get(set_node(aset, p), "."))
			continue;
		if (json_equal(tc_path_lookup(live, p),
		               tc_path_lookup(applied, p)))
			continue;
		json_array_append_new(conflicts, json_pack("{s:O,s:O}", "entry",
		                                           e, "path", p));
	}
}

/* How kube-apiserver names a manager in conflicts (printManager over the
 * manager identifier, which has no time): "name", plus the subresource,
 * plus "using <apiVersion>" for Update managers. Caller frees. */
static char *manager_text(json_t *e)
{
	const char *m = json_string_value(json_object_get(e, "manager"));
	const char *op = json_string_value(json_object_get(e, "operation"));
	const char *av = json_string_value(json_object_get(e, "apiVersion"));
	const char *sub = json_string_value(json_object_get(e, "subresource"));
	char *s = tg_aprintf("\"%s\"", m), *t;

	if (sub != NULL) {
		t = tg_aprintf("%s with subresource \"%s\"", s, sub);
		free(s);
		s = t;
	}
	if (strcmp(op, "Update") == 0) {
		t = tg_aprintf("%s using %s", s, av ? av : "");
		free(s);
		s = t;
	}
	return s;
}

/* The message: one conflict inline, several grouped by manager. */
static void conflict_message(tg_buf *msg, json_t *conflicts)
{
	size_t n = json_array_size(conflicts), i, j;
	json_t *c, *d;

	if (n == 1) {
		char *mt = manager_text(
		        json_object_get(json_array_get(conflicts, 0), "entry"));
		char *f = tc_path_text(
		        json_object_get(json_array_get(conflicts, 0), "path"));

		tc_buf_check(
		        tg_buf_printf(msg,
		                      "Apply failed with 1 conflict: conflict "
		                      "with %s: %s",
		                      mt, f));
		free(mt);
		free(f);
		return;
	}
	tc_buf_check(
	        tg_buf_printf(msg, "Apply failed with %zu conflicts: ", n));
	json_array_foreach(conflicts, i, c) {
		json_t *e = json_object_get(c, "entry");
		char *mt;
		bool seen = false;

		for (j = 0; j < i && !seen; j++)
			seen = json_object_get(json_array_get(conflicts, j),
			                       "entry") == e;
		if (seen)
			continue;
		mt = manager_text(e);
		tc_buf_check(tg_buf_printf(
		        msg, "%sconflicts with %s:", i ? "\n" : "", mt));
		free(mt);
		json_array_foreach(conflicts, j, d) {
			char *f;

			if (json_object_get(d, "entry") != e)
				continue;
			f = tc_path_text(json_object_get(d, "path"));
			tc_buf_check(tg_buf_printf(msg, "\n- %s", f));
			free(f);
		}
	}
}

/* 409 with the causes kube-apiserver lists for apply conflicts. */
static void conflict_answer(tc_resp *resp,
                            const tc_type *t,
                            const char *name,
                            json_t *conflicts)
{
	json_t *causes = json_array(), *c, *d;
	tg_buf msg;
	size_t i;

	tg_buf_init(&msg, 1u << 20);
	conflict_message(&msg, conflicts);
	json_array_foreach(conflicts, i, c) {
		char *mt = manager_text(json_object_get(c, "entry"));
		char *field = tc_path_text(json_object_get(c, "path"));
		char *m = tg_aprintf("conflict with %s", mt);

		json_array_append_new(causes,
		                      json_pack("{s:s,s:s,s:s}", "reason",
		                                "FieldManagerConflict",
		                                "message", m, "field", field));
		free(m);
		free(mt);
		free(field);
	}
	d = json_pack("{s:s,s:s,s:o}", "name", name ? name : "", "kind",
	              t->resource, "causes", causes);
	if (t->group[0])
		json_object_set_new(d, "group", json_string(t->group));
	tc_status_error(resp, 409, "Conflict", d, "%s", msg.data);
	tg_buf_free(&msg);
}

/* Apply ------------------------------------------------------------------ */

/* Does any entry but skip own (or reach into) path? */
static bool others_touch(json_t *mf, json_t *skip, json_t *path)
{
	json_t *e;
	size_t i;

	json_array_foreach(mf, i, e) {
		if (e != skip &&
		    tc_fieldset_may_touch(json_object_get(e, "fieldsV1"),
		                          path) &&
		    tc_fieldset_touches(entry_set(e), path))
			return true;
	}
	return false;
}

/* Remove from obj what the applier owned before and no longer sets,
 * unless another manager owns it. */
static void remove_dropped(
        json_t *obj, json_t *mf, json_t *mine, json_t *old_set, json_t *aset)
{
	json_t *paths, *p;
	size_t i;

	if (old_set == NULL)
		return;
	paths = tc_fieldset_paths(old_set);
	json_array_foreach(paths, i, p) {
		if (tc_fieldset_touches(aset, p) || others_touch(mf, mine, p))
			continue;
		tc_path_remove(obj, p);
	}
	json_decref(paths);
}

static int find_conflicts(json_t **out,
                          json_t *mf,
                          const char *manager,
                          json_t *aset,
                          json_t *live,
                          json_t *view)
{
	json_t *paths = NULL, *conflicts = json_array(), *e;
	size_t i;

	json_array_foreach(mf, i, e) {
		if (entry_is(e, manager, "Apply", NULL))
			continue;
		/* Only when another manager has an entry: an object's first
		 * apply (every object of a cold cycle) has none. */
		if (paths == NULL)
			paths = tc_fieldset_paths(aset);
		entry_conflicts(conflicts, e, paths, aset, live, view);
	}
	json_decref(paths);
	*out = conflicts;
	return (int)json_array_size(conflicts);
}

static void force_transfer(json_t *conflicts)
{
	json_t *c;
	size_t i;

	json_array_foreach(conflicts, i, c)
		tc_fieldset_remove(entry_set(json_object_get(c, "entry")),
		                   json_object_get(c, "path"));
}

int tc_ssa_apply(json_t **out,
                 const tc_type *t,
                 json_t *live,
                 json_t *applied,
                 const char *manager,
                 bool force,
                 tc_resp *resp)
{
	json_t *view = set_view(t, applied, NULL);
	json_t *aset = tc_fieldset_from_object(view, false);
	json_t *lview = live ? set_view(t, live, NULL) : json_object();
	json_t *mf, *conflicts = NULL, *mine, *old_set = NULL, *obj;
	int rc = -1;

	mf = entries_load(live);
	if (find_conflicts(&conflicts, mf, manager, aset, lview, view) > 0) {
		if (!force) {
			conflict_answer(resp, t, tc_obj_name(applied),
			                conflicts);
			goto out;
		}
		force_transfer(conflicts);
	}
	mine = entry_get(mf, t, manager, "Apply", NULL);
	old_set = json_incref(entry_set(mine));
	obj = merge_value(live, applied, NULL);
	json_object_del(json_object_get(obj, "metadata"), "managedFields");
	remove_dropped(obj, mf, mine, old_set, aset);
	json_object_set(mine, "fieldsV1", aset);
	entry_touch(mine);
	entries_store(obj, mf);
	*out = obj;
	rc = 0;
out:
	json_decref(old_set);
	json_decref(conflicts);
	json_decref(mf);
	json_decref(lview);
	json_decref(aset);
	json_decref(view);
	return rc;
}

/* Update ----------------------------------------------------------------- */

/* Paths of nset that are new or hold a different value than in old. */
static json_t *
changed_paths(json_t *nset, json_t *oset, json_t *nview, json_t *oview)
{
	json_t *paths = tc_fieldset_paths(nset), *out = json_array(), *p;
	size_t i;

	json_array_foreach(paths, i, p) {
		json_t *node = set_node(nset, p);
		bool item = json_object_size(node) > 0;

		/* Interior nodes are recorded only when they stand for
		 * something themselves: a list item or a map. */
		if (item && !json_object_get(node, "."))
			continue;
		if (!tc_fieldset_has(oset, p) ||
		    (!item && !json_equal(tc_path_lookup(nview, p),
		                          tc_path_lookup(oview, p))))
			json_array_append(out, p);
	}
	json_decref(paths);
	return out;
}

static json_t *removed_paths(json_t *nset, json_t *oset)
{
	json_t *paths = tc_fieldset_paths(oset), *out = json_array(), *p;
	size_t i;

	json_array_foreach(paths, i, p) {
		if (!tc_fieldset_touches(nset, p))
			json_array_append(out, p);
	}
	json_decref(paths);
	return out;
}

static void
take_ownership(json_t *mf, json_t *mine, json_t *changed, json_t *removed)
{
	json_t *e, *p;
	size_t i, j;

	json_array_foreach(mf, i, e) {
		json_array_foreach(changed, j, p) {
			if (e == mine)
				tc_fieldset_add(entry_set(e), p);
			else if (tc_fieldset_may_touch(
			                 json_object_get(e, "fieldsV1"), p))
				tc_fieldset_remove(entry_set(e), p);
		}
		json_array_foreach(removed, j, p) {
			if (tc_fieldset_may_touch(
			            json_object_get(e, "fieldsV1"), p))
				tc_fieldset_remove(entry_set(e), p);
		}
	}
}

void tc_ssa_update(const tc_type *t,
                   json_t *old,
                   json_t *obj,
                   const char *manager,
                   const char *subresource)
{
	json_t *nview = set_view(t, obj, subresource);
	json_t *oview = old ? set_view(t, old, subresource) : json_object();
	json_t *nset = tc_fieldset_from_object(nview, true);
	json_t *oset = tc_fieldset_from_object(oview, true);
	json_t *changed = changed_paths(nset, oset, nview, oview);
	json_t *removed = removed_paths(nset, oset);
	json_t *mf, *mine;

	if (json_array_size(changed) == 0 && json_array_size(removed) == 0)
		goto out;
	mf = entries_load(obj);
	mine = entry_get(mf, t, manager, "Update", subresource);
	take_ownership(mf, mine, changed, removed);
	entry_touch(mine);
	entries_store(obj, mf);
	json_decref(mf);
out:
	json_decref(changed);
	json_decref(removed);
	json_decref(nset);
	json_decref(oset);
	json_decref(nview);
	json_decref(oview);
}
