/*
 * The apply engine against tests/testcluster: dependency order, dry-run
 * preflight, batches, inventory, prune, drift correction of parked
 * objects, CRDs, health. The client's own tests are in
 * test_kube_client.c.
 */
#include "kube_test.h"

static json_t *unit_report(tg_apply *a, const char *unit)
{
	json_t *r = tg_apply_report(a);
	json_t *u =
	        json_incref(json_object_get(json_object_get(r, "units"), unit));

	json_decref(r);
	return u;
}

/* Units added as new (tg_apply_add_new_unit: the bodies of their applies
 * made while the objects are trees), or as the cache found them. */
static bool add_new;

static tg_apply *
run_apply_on(tg_kube *k, const char *unit, json_t *objs, double health)
{
	tg_apply_options o = { .source_commit = "0123456789abcdef",
		               .prune = true,
		               .correct_drift = true,
		               .health_timeout_s = health };
	tg_apply *a = NULL;
	json_t **arr = tg_calloc(json_array_size(objs) + 1, sizeof(*arr));
	size_t i;

	for (i = 0; i < json_array_size(objs); i++)
		arr[i] = json_array_get(objs, i);
	assert_int_equal(tg_apply_new(&a, k, &o), 0);
	if (add_new)
		tg_apply_add_new_unit(a, unit, arr, json_array_size(objs));
	else
		tg_apply_add_unit(a, unit, arr, json_array_size(objs));
	free(arr);
	assert_int_equal(tg_apply_run(a), 0);
	return a;
}

static tg_apply *
run_apply(world *w, const char *unit, json_t *objs, double health)
{
	return run_apply_on(w->kube, unit, objs, health);
}

/*
 * A batch that never runs reads as failed, never as passed. With at most
 * one operation per batch, a batch of two is refused before anything is
 * sent: every op of it reads as failed. In an apply, preflight's batch
 * (the unit's two objects) is refused, and preflight must fail the unit:
 * had its ops read as passed, the Namespace (alone in its phase's batch)
 * would have been applied.
 */
static void test_apply_preflight_fails_closed_when_batch_not_run(void **state)
{
	world *w = *state;
	tg_kube_target *t = NULL;
	tg_kube *k = NULL;
	tg_kube_options ko = { .max_batch = 1 };
	json_t *objs = objects("apiVersion: v1\nkind: Namespace\nmetadata: "
	                       "{name: never-applied}\n---\n"
	                       "apiVersion: v1\nkind: ConfigMap\nmetadata: "
	                       "{name: never, namespace: default}\n");
	tg_kube_op two[2] = { { .verb = TG_KUBE_GET },
		              { .verb = TG_KUBE_GET } };
	json_t *u, *live = NULL;
	tg_apply *a;
	char *kc = tg_path_join(w->dir, "kubeconfig");

	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_int_equal(tg_kube_new(&k, t, &ko), 0);
	two[0].obj = two[1].obj = json_array_get(objs, 1);
	assert_int_equal(tg_kube_run(k, two, 2), TG_ETOOBIG);
	assert_int_equal(two[0].result, TG_ERROR);
	assert_int_equal(two[1].result, TG_ERROR);
	assert_contains(two[1].message, "not sent");
	tg_kube_op_clear(&two[0]);
	tg_kube_op_clear(&two[1]);

	a = run_apply_on(k, "closed", objs, 0);
	u = unit_report(a, "closed");
	assert_string_equal(json_string_value(json_object_get(u, "result")),
	                    "failed");
	assert_contains(json_string_value(json_array_get(
	                        json_object_get(u, "errors"), 0)),
	                "not sent");
	assert_int_equal(tg_kube_get(&live, w->kube, "v1", "Namespace", NULL,
	                             "never-applied"),
	                 TG_ENOTFOUND);
	assert_null(live);
	json_decref(u);
	tg_apply_free(a);
	json_decref(objs);
	tg_kube_free(k);
	tg_kube_target_free(t);
	free(kc);
}

static const char *shop_yaml =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, "
        "namespace: shop}\n"
        "spec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: app, image: r/web@sha256:"
        "0000000000000000000000000000000000000000000000000000000000000000}]}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, "
        "namespace: shop}\n"
        "data: {a: b}\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

static void test_apply_orders_records_and_prunes(void **state)
{
	world *w = *state;
	json_t *objs = objects(shop_yaml), *u, *live = NULL;
	tg_apply *a;
	char *inv = tg_apply_inventory_name("shop");

	/* The Namespace comes last in the file but is applied first. */
	a = run_apply(w, "shop", objs, 10);
	u = unit_report(a, "shop");
	assert_string_equal(json_string_value(json_object_get(u, "result")),
	                    "applied");
	assert_int_equal(json_array_size(json_object_get(u, "errors")), 0);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(u, "health"), 0),
	                "state")),
	        "healthy");
	json_decref(u);
	tg_apply_free(a);
	/* Applied as Git has it, with tollgate's label and the commit. */
	assert_int_equal(
	        tg_kube_get(&live, w->kube, "v1", "ConfigMap", "shop", "cfg"),
	        0);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(live, "data"), "a")),
	                    "b");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(live, "metadata"),
	                                "annotations"),
	                "tollgate.dev/source-commit")),
	        "0123456789abcdef");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(live, "metadata"),
	                                "labels"),
	                "app.kubernetes.io/managed-by")),
	        "tollgate");
	json_decref(live);
	live = NULL;
	assert_int_equal(tg_kube_get(&live, w->kube, "v1", "ConfigMap",
	                             "tollgate-system", inv),
	                 0);
	assert_contains(json_string_value(json_object_get(
	                        json_object_get(live, "data"), "objects")),
	                "\"name\":\"cfg\"");
	/* The content hash of these objects, pinned: a change to what is
	 * hashed makes every unit read as changed after an upgrade, and be
	 * applied again. */
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(live, "data"), "hash")),
	                    "sha256:43cad724bc55799e0a24a23b79e02eed"
	                    "31318b57d87943be02f947b4d04bce96");
	json_decref(live);

	/* Same content again: unchanged, nothing re-applied. */
	a = run_apply(w, "shop", objs, 10);
	u = unit_report(a, "shop");
	assert_string_equal(json_string_value(json_object_get(u, "result")),
	                    "unchanged");
	json_decref(u);
	tg_apply_free(a);

	/* The ConfigMap leaves Git: pruned. */
	json_array_remove(objs, 1);
	a = run_apply(w, "shop", objs, 10);
	tg_apply_free(a);
	assert_int_equal(
	        tg_kube_get(&live, w->kube, "v1", "ConfigMap", "shop", "cfg"),
	        TG_ENOTFOUND);
	json_decref(objs);
	free(inv);
}

/* The live ConfigMap default/nsless: data.k; with applied, its commit
 * annotation is checked too. */
static const char *nsless_value(world *w, json_t **live, bool applied)
{
	json_decref(*live);
	*live = NULL;
	assert_int_equal(tg_kube_get(live, w->kube, "v1", "ConfigMap",
	                             "default", "nsless"),
	                 0);
	if (applied)
		assert_string_equal(
		        json_string_value(json_object_get(
		                json_object_get(
		                        json_object_get(*live, "metadata"),
		                        "annotations"),
		                "tollgate.dev/source-commit")),
		        "0123456789abcdef");
	return json_string_value(
	        json_object_get(json_object_get(*live, "data"), "k"));
}

/*
 * The apply keeps desired objects as text and parses them again for each
 * step: what steps added (the namespace a namespaced kind gets when Git
 * has none, the commit annotation) is there when it is applied, and the
 * namespace still when a parked object is applied again to correct
 * drift.
 */
static void test_apply_parked_objects_keep_scope_and_commit(void **state)
{
	world *w = *state;
	json_t *objs = objects("apiVersion: v1\nkind: ConfigMap\n"
	                       "metadata: {name: nsless}\ndata: {k: v}\n");
	json_t *live = NULL, *u;
	tg_apply *a = run_apply(w, "parked", objs, 0);

	tg_apply_free(a);
	assert_string_equal(nsless_value(w, &live, true), "v");
	/* someone else edits it */
	json_object_set_new(json_object_get(live, "data"), "k",
	                    json_string("edited"));
	assert_int_equal(tg_kube_update(NULL, w->kube, live), 0);
	assert_string_equal(nsless_value(w, &live, false), "edited");
	a = run_apply(w, "parked", objs, 0);
	u = unit_report(a, "parked");
	assert_string_equal(json_string_value(json_object_get(u, "result")),
	                    "unchanged");
	assert_int_equal(json_array_size(json_object_get(u, "drift")), 1);
	assert_true(json_is_true(json_object_get(u, "driftCorrected")));
	/* corrected, and still carrying the commit it was applied from */
	assert_string_equal(nsless_value(w, &live, true), "v");
	json_decref(u);
	json_decref(live);
	tg_apply_free(a);
	json_decref(objs);
}

/* A phase with more objects than one batch holds (TG_APPLY_BATCH_MAX) is
 * applied in several batches: every object reaches the cluster and is in
 * the inventory, and the unit reads as applied. */
static void test_apply_phase_in_batches(void **state)
{
	world *w = *state;
	size_t n = 2 * TG_APPLY_BATCH_MAX + 3, i, found;
	json_t *objs = objects("apiVersion: v1\nkind: Namespace\n"
	                       "metadata: {name: big}\n");
	json_t *items = NULL, *u, *live = NULL;
	char *inv = tg_apply_inventory_name("big"), name[64];
	tg_apply *a;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "cm-%zu", i);
		json_array_append_new(
		        objs, json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}",
		                        "apiVersion", "v1", "kind", "ConfigMap",
		                        "metadata", "name", name, "namespace",
		                        "big", "data", "k", name));
	}
	a = run_apply(w, "big", objs, 0);
	u = unit_report(a, "big");
	assert_string_equal(json_string_value(json_object_get(u, "result")),
	                    "applied");
	assert_int_equal(json_array_size(json_object_get(u, "errors")), 0);
	json_decref(u);
	tg_apply_free(a);
	assert_int_equal(
	        tg_kube_list(&items, w->kube, "v1", "ConfigMap", "big", NULL),
	        0);
	assert_int_equal(json_array_size(items), n);
	json_decref(items);
	assert_int_equal(tg_kube_get(&live, w->kube, "v1", "ConfigMap",
	                             "tollgate-system", inv),
	                 0);
	found = 0;
	for (i = 0; i < n; i += TG_APPLY_BATCH_MAX) {
		snprintf(name, sizeof(name), "\"name\":\"cm-%zu\"", i);
		found += strstr(json_string_value(json_object_get(
		                        json_object_get(live, "data"),
		                        "objects")),
		                name) != NULL;
	}
	assert_int_equal(found, 3);
	json_decref(live);
	json_decref(objs);
	free(inv);
}

static void test_apply_refuses_whole_unit_on_server_error(void **state)
{
	world *w = *state;
	json_t *objs =
	        objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok, "
	                "namespace: default}\n"
	                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: "
	                "{name: lost, namespace: nowhere}\n");
	json_t *u, *live = NULL;
	tg_apply *a = run_apply(w, "broken", objs, 0);

	u = unit_report(a, "broken");
	assert_string_equal(json_string_value(json_object_get(u, "result")),
	                    "failed");
	assert_contains(json_string_value(json_array_get(
	                        json_object_get(u, "errors"), 0)),
	                "namespaces \"nowhere\" not found");
	/* The good object of the unit was not applied either. */
	assert_int_equal(
	        tg_kube_get(&live, w->kube, "v1", "ConfigMap", "default", "ok"),
	        TG_ENOTFOUND);
	json_decref(u);
	tg_apply_free(a);
	json_decref(objs);
}

/*
 * Unit "maker" creates Namespace team but is refused (an object in a
 * namespace that exists nowhere); unit "user" has its objects in team and
 * a Namespace of its own. "user" must be refused whole as well: nothing of
 * it, not even its own Namespace, reaches the cluster. Both orders.
 */
static void test_apply_refuses_unit_whose_namespace_is_refused(void **state)
{
	world *w = *state;
	const char *maker_yaml =
	        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"
	        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, "
	        "namespace: nowhere}\n";
	const char *user_yaml =
	        "apiVersion: v1\nkind: Namespace\nmetadata: {name: bside}\n"
	        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: y, "
	        "namespace: team}\n";
	tg_apply_options o = { .source_commit = "0123456789abcdef",
		               .prune = true };
	int order;

	for (order = 0; order < 2; order++) {
		json_t *maker = objects(maker_yaml), *user = objects(user_yaml);
		json_t *mk[2] = { json_array_get(maker, 0),
			          json_array_get(maker, 1) };
		json_t *us[2] = { json_array_get(user, 0),
			          json_array_get(user, 1) };
		json_t *u, *live = NULL;
		tg_apply *a = NULL;

		assert_int_equal(tg_apply_new(&a, w->kube, &o), 0);
		if (order == 0) {
			tg_apply_add_unit(a, "maker", mk, 2);
			tg_apply_add_unit(a, "user", us, 2);
		} else {
			tg_apply_add_unit(a, "user", us, 2);
			tg_apply_add_unit(a, "maker", mk, 2);
		}
		assert_int_equal(tg_apply_run(a), 0);
		u = unit_report(a, "user");
		assert_string_equal(
		        json_string_value(json_object_get(u, "result")),
		        "failed");
		assert_contains(json_string_value(json_array_get(
		                        json_object_get(u, "errors"), 0)),
		                "namespace \"team\" does not exist");
		json_decref(u);
		u = unit_report(a, "maker");
		assert_string_equal(
		        json_string_value(json_object_get(u, "result")),
		        "failed");
		json_decref(u);
		assert_int_equal(tg_kube_get(&live, w->kube, "v1", "Namespace",
		                             NULL, "bside"),
		                 TG_ENOTFOUND);
		assert_int_equal(tg_kube_get(&live, w->kube, "v1", "Namespace",
		                             NULL, "team"),
		                 TG_ENOTFOUND);
		tg_apply_free(a);
		json_decref(maker);
		json_decref(user);
	}
}

static void test_apply_crd_then_custom_resource(void **state)
{
	world *w = *state;
	json_t *objs = objects(
	        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: "
	        "g1, namespace: default}\n"
	        "spec: {size: 2}\n---\n"
	        "apiVersion: apiextensions.k8s.io/v1\nkind: "
	        "CustomResourceDefinition\n"
	        "metadata: {name: gadgets.example.com}\n"
	        "spec:\n  group: example.com\n  scope: Namespaced\n"
	        "  names: {plural: gadgets, singular: gadget, kind: Gadget}\n"
	        "  versions: [{name: v1, served: true, storage: true, schema: "
	        "{openAPIV3Schema: {type: object, "
	        "x-kubernetes-preserve-unknown-fields: true}}}]\n");
	json_t *u, *live = NULL;
	tg_apply *a = run_apply(w, "gadgets", objs, 0);

	u = unit_report(a, "gadgets");
	assert_string_equal(json_string_value(json_object_get(u, "result")),
	                    "applied");
	assert_int_equal(tg_kube_get(&live, w->kube, "example.com/v1", "Gadget",
	                             "default", "g1"),
	                 0);
	json_decref(live);
	json_decref(u);
	tg_apply_free(a);
	json_decref(objs);
}

static void test_apply_reports_failed_rollout(void **state)
{
	world *w = *state;
	json_t *objs =
	        objects("apiVersion: apps/v1\nkind: Deployment\nmetadata: "
	                "{name: bad, namespace: default}\n"
	                "spec:\n  progressDeadlineSeconds: 1\n"
	                "  selector: {matchLabels: {app: bad}}\n"
	                "  template:\n    metadata: {labels: {app: bad}}\n"
	                "    spec: {containers: [{name: app, image: "
	                "r/fail-rollout:1}]}\n");
	json_t *u;
	tg_apply *a = run_apply(w, "rollout", objs, 5.0);

	u = unit_report(a, "rollout");
	assert_string_not_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(u, "health"), 0),
	                "state")),
	        "healthy");
	/* The testcluster's controller sets Progressing=False with reason
	 * ProgressDeadlineExceeded once progressDeadlineSeconds passed. */
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(u, "health"), 0),
	                "state")),
	        "failed");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(u, "health"), 0),
	                "message")),
	        "progress deadline exceeded");
	json_decref(u);
	tg_apply_free(a);
	json_decref(objs);
}

/* More workloads than are read at once for health: each gets its own
 * state, in the order applied, across the batches of reads; the one whose
 * rollout fails (in the second batch) is read again until its deadline
 * passes while the others keep the state read first. */
static void test_apply_health_in_batches(void **state)
{
	world *w = *state;
	size_t n = TG_APPLY_HEALTH_BATCH + 5, bad = TG_APPLY_HEALTH_BATCH + 2;
	size_t i;
	json_t *objs = objects("apiVersion: v1\nkind: Namespace\n"
	                       "metadata: {name: many}\n");
	json_t *u, *health, *h;
	char name[64], label[64];
	tg_apply *a;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d-%zu", i);
		snprintf(label, sizeof(label), "app-%zu", i);
		json_array_append_new(
		        objs,
		        json_pack(
		                "{s:s, s:s, s:{s:s, s:s}, s:{s:i, s:{s:{s:s}},"
		                " s:{s:{s:{s:s}}, s:{s:[{s:s, s:s}]}}}}",
		                "apiVersion", "apps/v1", "kind", "Deployment",
		                "metadata", "name", name, "namespace", "many",
		                "spec", "progressDeadlineSeconds", 1,
		                "selector", "matchLabels", "app", label,
		                "template", "metadata", "labels", "app", label,
		                "spec", "containers", "name", "app", "image",
		                i == bad ? "r/fail-rollout:1" : "r/app:1"));
	}
	a = run_apply(w, "many", objs, 10.0);
	u = unit_report(a, "many");
	health = json_object_get(u, "health");
	assert_int_equal(json_array_size(health), n);
	json_array_foreach(health, i, h) {
		snprintf(name, sizeof(name), "d-%zu", i);
		assert_string_equal(
		        json_string_value(json_object_get(h, "name")), name);
		assert_string_equal(
		        json_string_value(json_object_get(h, "state")),
		        i == bad ? "failed" : "healthy");
	}
	json_decref(u);
	tg_apply_free(a);
	json_decref(objs);
}

/* The same, with the units added as new: each object is sent as the body
 * made from its tree, or, where a step changed what the body holds (the
 * namespace from discovery, a CRD's scope, the commit of a drift fix),
 * serialised from its text as before. */
static void test_new_unit_orders_records_and_prunes(void **state)
{
	add_new = true;
	test_apply_orders_records_and_prunes(state);
	add_new = false;
}

static void test_new_unit_parked_objects_keep_scope_and_commit(void **state)
{
	add_new = true;
	test_apply_parked_objects_keep_scope_and_commit(state);
	add_new = false;
}

static void test_new_unit_phase_in_batches(void **state)
{
	add_new = true;
	test_apply_phase_in_batches(state);
	add_new = false;
}

static void test_new_unit_crd_then_custom_resource(void **state)
{
	add_new = true;
	test_apply_crd_then_custom_resource(state);
	add_new = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_orders_records_and_prunes),
		cmocka_unit_test(test_apply_phase_in_batches),
		cmocka_unit_test(test_apply_refuses_whole_unit_on_server_error),
		cmocka_unit_test(
		        test_apply_parked_objects_keep_scope_and_commit),
		cmocka_unit_test(
		        test_apply_refuses_unit_whose_namespace_is_refused),
		cmocka_unit_test(test_apply_crd_then_custom_resource),
		cmocka_unit_test(test_apply_reports_failed_rollout),
		cmocka_unit_test(test_apply_health_in_batches),
		cmocka_unit_test(test_new_unit_orders_records_and_prunes),
		cmocka_unit_test(
		        test_new_unit_parked_objects_keep_scope_and_commit),
		cmocka_unit_test(test_new_unit_phase_in_batches),
		cmocka_unit_test(test_new_unit_crd_then_custom_resource),
		cmocka_unit_test(
		        test_apply_preflight_fails_closed_when_batch_not_run),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
