/*
 * Inventories: one ConfigMap per unit in the inventory namespace holding
 * the identities of the objects tollgate applied for it, the content hash
 * and the commit (DESIGN.md 3.5). What prune may delete comes from here.
 */
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"

char *tg_apply_inventory_name(const char *unit_name)
{
	unsigned char md[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1], *clean = tg_strdup(unit_name), *p,
	                                 *name;

	tg_sha256(md, unit_name, strlen(unit_name));
	tg_hex_encode(hex, md, 4);
	for (p = clean; *p; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		*p = c;
	}
	if (strlen(clean) > TG_INVENTORY_UNIT_NAME_MAX)
		clean[TG_INVENTORY_UNIT_NAME_MAX] = '\0';
	name = tg_aprintf("tollgate-inventory-%s-%s", clean, hex);
	free(clean);
	return name;
}

json_t *apply_identity_of(const obj *o)
{
	json_t *id = json_pack("{s:s,s:s,s:s}", "apiVersion", o->api_version,
	                       "kind", o->kind, "name", o->name);

	if (o->ns && *o->ns)
		json_object_set_new(id, "namespace", json_string(o->ns));
	return id;
}

/* Read every inventory ConfigMap in the inventory namespace. A missing
 * namespace means no inventories yet. Only those tollgate wrote under the
 * name of their unit count: any other is ignored, with a warning, so that
 * nothing it lists is ever pruned. */
int apply_load_inventories(tg_apply *a)
{
	json_t *items = NULL, *cm;
	size_t i;
	int error;

	error = tg_kube_list(&items, a->kube, "v1", "ConfigMap",
	                     a->inventory_ns, TG_LABEL_INVENTORY "=true");
	if (error == TG_ENOTFOUND)
		return 0;
	if (error < 0)
		return error;
	json_array_foreach(items, i, cm) {
		char *why = apply_inventory_distrust(a, cm);

		if (why) {
			tg_log(TG_LOG_WARN, "inventory ignored", "reason", why,
			       NULL);
			json_array_append_new(a->warnings, json_string(why));
			free(why);
			continue;
		}
		json_object_set(a->inventories,
		                json_string_value(json_object_get(
		                        json_object_get(cm, "data"), "unit")),
		                cm);
	}
	json_decref(items);
	return 0;
}

/* Whether id is an identity as apply_identity_of writes it: members
 * apiVersion, kind, name and (namespaced) namespace, each a non-empty
 * string, and no other. */
static bool valid_identity(json_t *id)
{
	const char *key;
	json_t *v;

	if (!json_is_object(id))
		return false;
	json_object_foreach(id, key, v) {
		if (strcmp(key, "apiVersion") && strcmp(key, "kind") &&
		    strcmp(key, "name") && strcmp(key, "namespace"))
			return false;
		if (!json_is_string(v) || json_string_length(v) == 0)
			return false;
	}
	return json_object_get(id, "apiVersion") &&
	       json_object_get(id, "kind") && json_object_get(id, "name");
}

json_t *apply_inventory_objects(json_t *cm, char **why)
{
	const char *text = json_string_value(
	        json_object_get(json_object_get(cm, "data"), "objects"));
	json_error_t jerr;
	json_t *ids, *id;
	size_t i;

	*why = NULL;
	if (!text) {
		*why = tg_strdup("its data.objects is not a string");
		return NULL;
	}
	ids = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!ids) {
		*why = tg_aprintf("its data.objects is not JSON without "
		                  "duplicate keys (%d:%d: %s)",
		                  jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_array(ids)) {
		*why = tg_strdup("its data.objects is not a list");
		json_decref(ids);
		return NULL;
	}
	json_array_foreach(ids, i, id) {
		if (!valid_identity(id)) {
			*why = tg_aprintf(
			        "entry %zu of its data.objects is not "
			        "{apiVersion, kind, name[, namespace]} "
			        "as non-empty strings",
			        i + 1);
			json_decref(ids);
			return NULL;
		}
	}
	return ids;
}

/* The identities of inventory cm of a unit still in Git, or NULL (with a
 * warning) when they cannot be read: then nothing of the unit is pruned
 * this cycle, and the inventory is rewritten when the unit is applied. */
static json_t *inventory_list(tg_apply *a, json_t *cm)
{
	const char *name = json_string_value(
	        json_object_get(json_object_get(cm, "metadata"), "name"));
	char *why = NULL, *m;
	json_t *ids = apply_inventory_objects(cm, &why);

	if (ids)
		return ids;
	m = tg_aprintf("inventory %s/%s unreadable, nothing of its unit is "
	               "pruned: %s",
	               a->inventory_ns, name ? name : "?", why);
	tg_log(TG_LOG_WARN, "inventory unreadable", "reason", m, NULL);
	json_array_append_new(a->warnings, json_string(m));
	free(m);
	free(why);
	return NULL;
}

json_t *apply_old_objects(tg_apply *a, const unit *u)
{
	if (!u->old_readable)
		return NULL;
	return inventory_list(a, json_object_get(a->inventories, u->name));
}

/* Compare each unit with its inventory: changed content, and whether its
 * list of old objects can be read (for the prune, which reads it again). */
void apply_diff_inventories(tg_apply *a)
{
	size_t i;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		json_t *cm = json_object_get(a->inventories, u->name);
		const char *hash = json_string_value(
		        json_object_get(json_object_get(cm, "data"), "hash"));
		json_t *old = NULL;

		/* Read once here to warn about it and to know whether the
		 * unit changed; read again for its prune. */
		if (json_object_get(cm, "data"))
			old = inventory_list(a, cm);
		u->old_readable = old != NULL;
		u->changed =
		        !hash || strcmp(hash, u->hash) != 0 || !u->old_readable;
		json_decref(old);
	}
}

static json_t *inventory_object(tg_apply *a, unit *u)
{
	json_t *ids = json_array(), *cm;
	char *name = tg_apply_inventory_name(u->name), *ids_text;
	size_t i;

	for (i = 0; i < u->n; i++)
		json_array_append_new(ids, apply_identity_of(&u->objs[i]));
	ids_text = json_dumps(ids, JSON_COMPACT);
	cm = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s},s:{s:s}},"
	               "s:{s:s,s:s,s:s,s:s}}",
	               "apiVersion", "v1", "kind", "ConfigMap", "metadata",
	               "name", name, "namespace", a->inventory_ns, "labels",
	               TG_LABEL_MANAGED_BY, "tollgate", TG_LABEL_INVENTORY,
	               "true", "annotations", TG_LABEL_UNIT, u->name, "data",
	               "unit", u->name, "hash", u->hash, "commit", a->commit,
	               "objects", ids_text);
	free(ids_text);
	free(name);
	json_decref(ids);
	return cm;
}

int apply_ensure_inventory_namespace(tg_apply *a)
{
	json_t *ns = json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "apiVersion", "v1",
	                       "kind", "Namespace", "metadata", "name",
	                       a->inventory_ns, "labels", TG_LABEL_MANAGED_BY,
	                       "tollgate");
	json_t *live = NULL;
	int error;

	error = tg_kube_get(&live, a->kube, "v1", "Namespace", NULL,
	                    a->inventory_ns);
	if (error == TG_ENOTFOUND)
		error = tg_kube_apply(NULL, a->kube, ns, 0);
	if (error < 0)
		error = tg_error_prefix(error,
		                        "cannot create the inventory namespace "
		                        "\"%s\"",
		                        a->inventory_ns);
	json_decref(live);
	json_decref(ns);
	return error;
}

/* Write the inventory of every unit applied whole, in parallel. */
void apply_write_inventories(tg_apply *a)
{
	tg_kube_op *ops = tg_calloc(a->nunits, sizeof(*ops));
	unit **units = tg_calloc(a->nunits, sizeof(*units));
	size_t i, n = 0;

	for (i = 0; i < a->nunits; i++) {
		unit *u = &a->units[i];
		if (!apply_eligible(u))
			continue;
		units[n] = u;
		ops[n].verb = TG_KUBE_APPLY;
		ops[n].flags = TG_KUBE_DISCARD;
		ops[n++].obj = inventory_object(a, u);
	}
	/* A batch that did not run leaves each op failed: reported below. */
	if (n && tg_kube_run(a->kube, ops, n) < 0)
		tg_log(TG_LOG_WARN, "writing the inventories did not run",
		       "error", tg_error_last(), NULL);
	for (i = 0; i < n; i++) {
		if (ops[i].result < 0)
			apply_unit_error(units[i], ops[i].message);
		json_decref(ops[i].obj);
		tg_kube_op_clear(&ops[i]);
	}
	free(ops);
	free(units);
}
