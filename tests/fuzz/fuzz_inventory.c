/*
 * Inventory ConfigMaps as the apply stage reads them from the API server
 * (reconciler/apply/inventory.c): what they list decides what prune
 * deletes. An input whose first byte is odd is the ConfigMap answer as it
 * is (parsed as the list reader does, then apply_inventory_distrust);
 * otherwise the rest is the data.objects text of an inventory. The list
 * apply_inventory_objects gives is then split by apply_prune_gone against
 * a unit of four objects, as prune does.
 *
 * Invariants: every identity read is {apiVersion, kind, name[, namespace]}
 * as non-empty strings (no cluster-scoped object made from a namespaced
 * entry, nothing without a kind or name); what is to be pruned is exactly
 * the entries of the list that the unit no longer has, in their order.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apply_int.h"
#include "fuzz.h"

#define NOBJS 4

static obj objs[NOBJS];
static unit u;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const ids[NOBJS][4] = {
		{ "apps/v1", "Deployment", "prod", "web" },
		{ "v1", "Service", "prod", "web" },
		{ "v1", "Namespace", NULL, "prod" },
		{ "rbac.authorization.k8s.io/v1", "ClusterRole", NULL,
		  "reader" },
	};
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < NOBJS; i++) {
		json_t *t = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion",
		                      ids[i][0], "kind", ids[i][1], "metadata",
		                      "name", ids[i][3]);

		if (ids[i][2])
			json_object_set_new(json_object_get(t, "metadata"),
			                    "namespace",
			                    json_string(ids[i][2]));
		apply_obj_init(&objs[i], t, NULL);
		json_decref(t);
	}
	u.name = "web";
	u.objs = objs;
	u.n = NOBJS;
	return 0;
}

static bool identity_ok(json_t *id)
{
	json_t *ns = json_object_get(id, "namespace");
	const char *k[] = { "apiVersion", "kind", "name" };
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *v = json_string_value(json_object_get(id, k[i]));
		if (!v || !*v)
			return false;
	}
	return !ns || (json_is_string(ns) && *json_string_value(ns));
}

static bool desired(json_t *id)
{
	json_t *one = json_array(), *gone;
	bool d;

	json_array_append(one, id);
	gone = apply_prune_gone(&u, one);
	d = json_array_size(gone) == 0;
	json_decref(gone);
	json_decref(one);
	return d;
}

static void check(json_t *ids)
{
	json_t *gone = apply_prune_gone(&u, ids), *id;
	size_t i, g = 0;

	json_array_foreach(ids, i, id) {
		if (!identity_ok(id))
			abort();
		if (g < json_array_size(gone) &&
		    json_array_get(gone, g) == id) {
			if (desired(id))
				abort();
			g++;
		} else if (!desired(id)) {
			abort();
		}
	}
	if (g != json_array_size(gone))
		abort();
	json_decref(gone);
}

/* An inventory as tollgate writes it for unit web, without its list. */
#define TRUSTED                                                                \
	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"         \
	"\"name\":\"tollgate-inventory-web-4b5e57f6\",\"namespace\":"          \
	"\"tollgate-system\",\"annotations\":{\"tollgate.dev/unit\":\"web\"}," \
	"\"managedFields\":[{\"manager\":\"tollgate\",\"operation\":"          \
	"\"Apply\",\"fieldsV1\":{\"f:data\":{\"f:unit\":{},\"f:objects\":{}}}" \
	"}"                                                                    \
	"]},\"data\":{\"unit\":\"web\"}}"

static json_t *configmap(const uint8_t *data, size_t size)
{
	char *text;
	json_t *cm;

	if (size && (data[0] & 1))
		return json_loadb((const char *)data + 1, size - 1,
		                  JSON_REJECT_DUPLICATES, NULL);
	text = fuzz_cstr(size ? data + 1 : data, size ? size - 1 : 0);
	cm = json_loads(TRUSTED, 0, NULL);
	if (!cm)
		abort();
	json_object_set_new(json_object_get(cm, "data"), "objects",
	                    json_string(text));
	free(text);
	return cm;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_apply a;
	json_t *cm = configmap(data, size), *ids;
	char *why = NULL;

	if (!cm)
		return 0;
	memset(&a, 0, sizeof(a));
	a.inventory_ns = "tollgate-system";
	why = apply_inventory_distrust(&a, cm);
	if (size && !(data[0] & 1) && why)
		abort(); /* the trusted inventory must be trusted */
	free(why);
	why = NULL;
	ids = apply_inventory_objects(cm, &why);
	if (!ids == !why)
		abort();
	if (ids)
		check(ids);
	free(why);
	json_decref(ids);
	json_decref(cm);
	return 0;
}
