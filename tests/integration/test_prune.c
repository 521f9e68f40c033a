/*
 * Prune and inventories against tests/testcluster, with hostile objects
 * written as someone else would: a second client with field manager
 * "kubectl" (server-side apply, as `kubectl apply --server-side`, or a
 * plain create). An inventory counts only when tollgate wrote it under the
 * name of its unit; prune deletes only what tollgate applied for the unit
 * (labels and managedFields of the live object) and reports anything else
 * as left alone. Every case checks the live state afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/apply.h"
#include "tollgate/error.h"
#include "tollgate/kube.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/util.h"

typedef struct world {
	char *dir;
	int pid;
	tg_kube *kube;    /* field manager "tollgate" */
	tg_kube *kubectl; /* field manager "kubectl": someone else */
} world;

static tg_kube *client(const char *dir, const char *manager)
{
	tg_kube_target *t = NULL;
	tg_kube_options o = { .field_manager = manager };
	tg_kube *k = NULL;
	char *kc = tg_path_join(dir, "kubeconfig");

	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_int_equal(tg_kube_new(&k, t, &o), 0);
	assert_int_equal(tg_kube_discover(k), 0);
	tg_kube_target_free(t);
	free(kc);
	return k;
}

static int setup(void **state)
{
	world *w = tg_calloc(1, sizeof(*w));
	char *url = NULL;

	w->dir = tt_mkdtemp();
	w->pid = tt_testcluster_start(w->dir, 1, &url);
	free(url);
	w->kube = client(w->dir, NULL);
	w->kubectl = client(w->dir, "kubectl");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;

	tg_kube_free(w->kube);
	tg_kube_free(w->kubectl);
	assert_int_equal(tt_process_stop(w->pid), 0);
	tt_rmtree(w->dir);
	free(w->dir);
	free(w);
	return 0;
}

/* A ConfigMap in ns with labels (a JSON object text, may be "{}"). */
static json_t *configmap(const char *ns, const char *name, const char *labels)
{
	json_t *l = json_loads(labels, 0, NULL);

	assert_non_null(l);
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:{s:s}}", "apiVersion",
	                 "v1", "kind", "ConfigMap", "metadata", "name", name,
	                 "namespace", ns, "labels", l, "data", "k", "v");
}

static bool exists(world *w, const char *kind, const char *ns, const char *n)
{
	json_t *live = NULL;
	int error = tg_kube_get(&live, w->kube, "v1", kind, ns, n);

	json_decref(live);
	assert_true(error == 0 || error == TG_ENOTFOUND);
	return error == 0;
}

/* Run one apply of unit (objects: a JSON array text; NULL: no unit at
 * all) with prune on; the report, a new reference. */
static json_t *cycle(world *w, const char *unit, const char *objects)
{
	tg_apply_options o = { .source_commit = "0123456789abcdef",
		               .prune = true };
	json_t *objs = json_loads(objects ? objects : "[]", 0, NULL), *r;
	json_t *arr[8];
	tg_apply *a = NULL;
	size_t i;

	assert_true(json_array_size(objs) <= 8);
	for (i = 0; i < json_array_size(objs); i++)
		arr[i] = json_array_get(objs, i);
	assert_int_equal(tg_apply_new(&a, w->kube, &o), 0);
	if (unit)
		tg_apply_add_unit(a, unit, arr, json_array_size(objs));
	assert_int_equal(tg_apply_run(a), 0);
	r = tg_apply_report(a);
	tg_apply_free(a);
	json_decref(objs);
	return r;
}

/* The prune record of name in unit's report, or NULL. */
static json_t *prune_record(json_t *report, const char *unit, const char *n)
{
	json_t *recs = json_object_get(
	               json_object_get(json_object_get(report, "units"), unit),
	               "pruned"),
	       *rec;
	size_t i;

	json_array_foreach(recs, i, rec) {
		if (!strcmp(json_string_value(json_object_get(rec, "name")), n))
			return rec;
	}
	return NULL;
}

static bool has_warning(json_t *report, const char *sub)
{
	json_t *wa = json_object_get(report, "warnings"), *x;
	size_t i;

	json_array_foreach(wa, i, x) {
		if (strstr(json_string_value(x), sub))
			return true;
	}
	return false;
}

static bool pruned_unit(json_t *report, const char *unit)
{
	json_t *x;
	size_t i;

	json_array_foreach(json_object_get(report, "pruned"), i, x) {
		if (!strcmp(json_string_value(x), unit))
			return true;
	}
	return false;
}

/* An inventory ConfigMap for unit listing objects (a JSON text), as
 * tollgate writes it, under name. */
static json_t *inventory(const char *name, const char *unit, const char *ids)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s},s:{s:s}},"
	                 "s:{s:s,s:s,s:s,s:s}}",
	                 "apiVersion", "v1", "kind", "ConfigMap", "metadata",
	                 "name", name, "namespace", "tollgate-system", "labels",
	                 "app.kubernetes.io/managed-by", "tollgate",
	                 "tollgate.dev/inventory", "true", "annotations",
	                 "tollgate.dev/unit", unit, "data", "unit", unit,
	                 "hash", "sha256:0", "commit", "0", "objects", ids);
}

static const char *labels_of_ghost = "{\"app.kubernetes.io/managed-by\": "
                                     "\"tollgate\", \"tollgate.dev/unit\": "
                                     "\"ghost\"}";

/*
 * Attack 1 of issue 13: another team's Namespace, even labelled as if
 * tollgate had applied it for unit "ghost", and an inventory of "ghost"
 * under the right name, listing it, written by someone else. The next
 * cycle ignores the inventory (with a warning), prunes no unit "ghost",
 * and the Namespace and the forged inventory stay.
 */
static void test_forged_inventory_is_ignored(void **state)
{
	world *w = *state;
	json_t *ns =
	        json_pack("{s:s,s:s,s:{s:s,s:o}}", "apiVersion", "v1", "kind",
	                  "Namespace", "metadata", "name", "team-b", "labels",
	                  json_loads(labels_of_ghost, 0, NULL));
	char *inv = tg_apply_inventory_name("ghost");
	json_t *forged = inventory(inv, "ghost",
	                           "[{\"apiVersion\":\"v1\",\"kind\":"
	                           "\"Namespace\",\"name\":\"team-b\"}]");
	json_t *r;

	json_decref(cycle(w, "honest", NULL)); /* tollgate-system exists */
	assert_int_equal(tg_kube_create(NULL, w->kubectl, ns), 0);
	assert_int_equal(tg_kube_apply(NULL, w->kubectl, forged, 0), 0);
	r = cycle(w, "honest", NULL);
	assert_true(exists(w, "Namespace", NULL, "team-b"));
	assert_true(exists(w, "ConfigMap", "tollgate-system", inv));
	assert_null(json_object_get(json_object_get(r, "units"), "ghost"));
	assert_false(pruned_unit(r, "ghost"));
	assert_true(has_warning(r, "not written by tollgate"));
	assert_true(has_warning(r, "inventory tollgate-system/"));
	assert_true(has_warning(r, inv));
	json_decref(r);
	json_decref(ns);
	json_decref(forged);
	free(inv);
}

/*
 * An inventory written with tollgate's own field manager, but under a
 * name that is not its unit's: ignored, and the object it lists (which
 * would otherwise pass as tollgate's object of that unit) stays.
 */
static void test_inventory_with_wrong_name_is_ignored(void **state)
{
	world *w = *state;
	json_t *victim = configmap("default", "victim2",
	                           "{\"app.kubernetes.io/managed-by\": "
	                           "\"tollgate\", \"tollgate.dev/unit\": "
	                           "\"ghost2\"}");
	json_t *forged = inventory("tollgate-inventory-ghost2", "ghost2",
	                           "[{\"apiVersion\":\"v1\",\"kind\":"
	                           "\"ConfigMap\",\"namespace\":\"default\","
	                           "\"name\":\"victim2\"}]");
	json_t *r;

	json_decref(cycle(w, "honest", NULL));
	assert_int_equal(tg_kube_apply(NULL, w->kube, victim, 0), 0);
	assert_int_equal(tg_kube_apply(NULL, w->kube, forged, 0), 0);
	r = cycle(w, "honest", NULL);
	assert_true(exists(w, "ConfigMap", "default", "victim2"));
	assert_null(json_object_get(json_object_get(r, "units"), "ghost2"));
	assert_true(has_warning(r, "inventory tollgate-system/"
	                           "tollgate-inventory-ghost2 ignored: name "
	                           "does not match unit \"ghost2\""));
	json_decref(r);
	json_decref(victim);
	json_decref(forged);
}

/*
 * Attack 1 as a committer runs it: a unit's own object in the inventory
 * namespace, shaped as the inventory of "ghost3" under its right name.
 * tollgate's field manager wrote it, but as an object of unit "attacker"
 * (its labels and annotation say so): ignored, and the object it lists,
 * though tollgate applied it for "ghost3", stays.
 */
static void test_inventory_applied_by_a_unit_is_ignored(void **state)
{
	world *w = *state;
	json_t *victim = configmap("default", "victim3",
	                           "{\"app.kubernetes.io/managed-by\": "
	                           "\"tollgate\", \"tollgate.dev/unit\": "
	                           "\"ghost3\"}");
	char *inv = tg_apply_inventory_name("ghost3");
	json_t *forged = inventory(inv, "ghost3",
	                           "[{\"apiVersion\":\"v1\",\"kind\":"
	                           "\"ConfigMap\",\"namespace\":\"default\","
	                           "\"name\":\"victim3\"}]");
	json_t *meta = json_object_get(forged, "metadata"), *r;

	/* What tollgate's apply adds to an object of unit "attacker". */
	json_object_set_new(json_object_get(meta, "labels"),
	                    "tollgate.dev/unit", json_string("attacker"));
	json_object_set_new(json_object_get(meta, "annotations"),
	                    "tollgate.dev/unit", json_string("attacker"));
	json_decref(cycle(w, "honest", NULL));
	assert_int_equal(tg_kube_apply(NULL, w->kube, victim, 0), 0);
	assert_int_equal(tg_kube_apply(NULL, w->kube, forged, 0), 0);
	r = cycle(w, "honest", NULL);
	assert_true(exists(w, "ConfigMap", "default", "victim3"));
	assert_false(pruned_unit(r, "ghost3"));
	assert_true(has_warning(r, "applied as an object of unit "
	                           "\"attacker\", not written as the "
	                           "inventory of \"ghost3\""));
	json_decref(r);
	json_decref(victim);
	json_decref(forged);
	free(inv);
}

static const char *own_objects =
        "[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
        "{\"name\":\"keep\",\"namespace\":\"default\"}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
        "{\"name\":\"relabelled\",\"namespace\":\"default\"}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
        "{\"name\":\"unlabelled\",\"namespace\":\"default\"}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
        "{\"name\":\"recreated\",\"namespace\":\"default\"}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
        "{\"name\":\"ours\",\"namespace\":\"default\"}}]";

static const char *own_keep =
        "[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
        "{\"name\":\"keep\",\"namespace\":\"default\"}}]";

/* Someone else takes over three of unit own's objects: "relabelled"
 * gets tollgate.dev/unit: other (server-side apply, forced, as kubectl
 * would), "unlabelled" is created anew without tollgate's labels,
 * "recreated" is created anew with them, by kubectl. */
static void take_over(world *w)
{
	json_t *relabel = configmap("default", "relabelled",
	                            "{\"tollgate.dev/unit\": \"other\"}");
	json_t *bare = configmap("default", "unlabelled", "{}");
	json_t *copy = configmap("default", "recreated",
	                         "{\"app.kubernetes.io/managed-by\": "
	                         "\"tollgate\", \"tollgate.dev/unit\": "
	                         "\"own\"}");

	assert_int_equal(tg_kube_apply(NULL, w->kubectl, relabel, 0), 0);
	assert_int_equal(tg_kube_delete(w->kube, "v1", "ConfigMap", "default",
	                                "unlabelled", 0),
	                 0);
	assert_int_equal(tg_kube_create(NULL, w->kubectl, bare), 0);
	assert_int_equal(tg_kube_delete(w->kube, "v1", "ConfigMap", "default",
	                                "recreated", 0),
	                 0);
	assert_int_equal(tg_kube_create(NULL, w->kubectl, copy), 0);
	json_decref(relabel);
	json_decref(bare);
	json_decref(copy);
}

static void assert_left_alone(json_t *r,
                              const char *unit,
                              const char *name,
                              const char *why)
{
	json_t *rec = prune_record(r, unit, name);
	char *want = tg_aprintf("left alone: not applied by tollgate for "
	                        "unit %s (",
	                        unit);

	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(rec, "action")),
	                    "left-alone");
	assert_contains(json_string_value(json_object_get(rec, "reason")),
	                want);
	assert_contains(json_string_value(json_object_get(rec, "reason")), why);
	free(want);
}

/*
 * Prune within a unit: of four objects that left Git, the one tollgate
 * still owns is deleted; the three someone else took over stay, each
 * reported as left alone with its reason.
 */
static void test_prune_leaves_foreign_objects_alone(void **state)
{
	world *w = *state;
	json_t *r = cycle(w, "own", own_objects), *rec;

	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(r, "units"), "own"),
	                "result")),
	        "applied");
	json_decref(r);
	take_over(w);
	r = cycle(w, "own", own_keep);
	assert_true(exists(w, "ConfigMap", "default", "relabelled"));
	assert_true(exists(w, "ConfigMap", "default", "unlabelled"));
	assert_true(exists(w, "ConfigMap", "default", "recreated"));
	assert_false(exists(w, "ConfigMap", "default", "ours"));
	assert_true(exists(w, "ConfigMap", "default", "keep"));
	assert_left_alone(r, "own", "relabelled",
	                  "label tollgate.dev/unit is \"other\"");
	assert_left_alone(r, "own", "unlabelled",
	                  "no label app.kubernetes.io/managed-by");
	assert_left_alone(r, "own", "recreated",
	                  "managedFields do not show manager tollgate");
	rec = prune_record(r, "own", "ours");
	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(rec, "action")),
	                    "pruned");
	assert_int_equal(
	        json_array_size(json_object_get(
	                json_object_get(json_object_get(r, "units"), "own"),
	                "errors")),
	        0);
	json_decref(r);
}

/*
 * A unit removed from Git: its own object goes, the one another unit's
 * label now names stays (left alone, reported), and its inventory goes.
 */
static void test_removed_unit_prunes_only_its_objects(void **state)
{
	world *w = *state;
	const char *objs =
	        "[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
	        "{\"name\":\"old-a\",\"namespace\":\"default\"}},"
	        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
	        "{\"name\":\"old-b\",\"namespace\":\"default\"}}]";
	json_t *relabel = configmap("default", "old-b",
	                            "{\"tollgate.dev/unit\": \"other\"}");
	char *inv = tg_apply_inventory_name("old");
	json_t *r;

	json_decref(cycle(w, "old", objs));
	assert_true(exists(w, "ConfigMap", "tollgate-system", inv));
	assert_int_equal(tg_kube_apply(NULL, w->kubectl, relabel, 0), 0);
	r = cycle(w, "honest", NULL);
	assert_false(exists(w, "ConfigMap", "default", "old-a"));
	assert_true(exists(w, "ConfigMap", "default", "old-b"));
	assert_false(exists(w, "ConfigMap", "tollgate-system", inv));
	assert_true(pruned_unit(r, "old"));
	assert_left_alone(r, "old", "old-b",
	                  "label tollgate.dev/unit is \"other\"");
	json_decref(r);
	json_decref(relabel);
	free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_inventory_is_ignored),
		cmocka_unit_test(test_inventory_with_wrong_name_is_ignored),
		cmocka_unit_test(test_inventory_applied_by_a_unit_is_ignored),
		cmocka_unit_test(test_prune_leaves_foreign_objects_alone),
		cmocka_unit_test(test_removed_unit_prunes_only_its_objects),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
