/*
 * The Kubernetes client against tests/testcluster: discovery, get, list
 * (streamed, paged, in parallel), delete with preconditions, Status
 * errors. The apply engine's tests are in test_kube_apply.c.
 */
#include "kube_test.h"

static void test_kube_discovery_and_crud(void **state)
{
	world *w = *state;
	const tg_kube_resource *r;
	json_t *cm = objects("apiVersion: v1\nkind: ConfigMap\nmetadata: "
	                     "{name: c1, namespace: default, labels: {a: b}}\n"
	                     "data: {k: v}\n"),
	       *live = NULL, *items = NULL;
	json_t *obj = json_array_get(cm, 0);

	assert_int_equal(
	        tg_kube_resource_lookup(&r, w->kube, "apps/v1", "Deployment"),
	        0);
	assert_string_equal(r->name, "deployments");
	assert_true(r->namespaced);
	assert_int_equal(
	        tg_kube_resource_lookup(&r, w->kube, "v1", "Namespace"), 0);
	assert_false(r->namespaced);
	assert_int_equal(tg_kube_resource_lookup(&r, w->kube, "example.com/v1",
	                                         "Widget"),
	                 TG_ENOTFOUND);
	assert_contains(tg_error_last(), "CustomResourceDefinition");

	assert_int_equal(tg_kube_apply(&live, w->kube, obj, 0), 0);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(live, "data"), "k")),
	                    "v");
	json_decref(live);
	assert_int_equal(tg_kube_list(&items, w->kube, "v1", "ConfigMap",
	                              "default", "a=b"),
	                 0);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(items, 0), "kind")),
	                    "ConfigMap");
	json_decref(items);
	assert_int_equal(
	        tg_kube_delete(w->kube, "v1", "ConfigMap", "default", "c1", 0),
	        0);
	assert_int_equal(
	        tg_kube_get(&live, w->kube, "v1", "ConfigMap", "default", "c1"),
	        TG_ENOTFOUND);
	assert_null(live);
	json_decref(cm);
}

/* Issue 13: a DELETE carrying the uid of the object that was checked
 * (DeleteOptions preconditions) deletes that object and no other: after
 * the object was deleted and created again under the same name, it is
 * 409 Conflict (TG_ECONFLICT) naming both uids, and the new object stays.
 * A stale resourceVersion is refused the same way. */
static void test_kube_delete_with_uid_precondition(void **state)
{
	world *w = *state;
	json_t *cm = objects("apiVersion: v1\nkind: ConfigMap\nmetadata: "
	                     "{name: c9, namespace: default}\ndata: {k: v}\n"),
	       *live = NULL;
	json_t *obj = json_array_get(cm, 0), *meta, *del;
	char *old_uid, *new_uid;
	tg_kube_op op = { 0 };

	assert_int_equal(tg_kube_apply(&live, w->kube, obj, 0), 0);
	old_uid = tg_strdup(json_string_value(
	        json_object_get(json_object_get(live, "metadata"), "uid")));
	json_decref(live);
	/* replaced: deleted and created again */
	assert_int_equal(
	        tg_kube_delete(w->kube, "v1", "ConfigMap", "default", "c9", 0),
	        0);
	assert_int_equal(tg_kube_apply(&live, w->kube, obj, 0), 0);
	new_uid = tg_strdup(json_string_value(
	        json_object_get(json_object_get(live, "metadata"), "uid")));
	assert_string_not_equal(old_uid, new_uid);
	assert_int_equal(tg_kube_delete_uid(w->kube, "v1", "ConfigMap",
	                                    "default", "c9", old_uid, 0),
	                 TG_ECONFLICT);
	assert_contains(tg_error_last(), "Precondition failed: UID in "
	                                 "precondition: ");
	assert_contains(tg_error_last(), old_uid);
	assert_contains(tg_error_last(), new_uid);
	json_decref(live);
	assert_int_equal(
	        tg_kube_get(&live, w->kube, "v1", "ConfigMap", "default", "c9"),
	        0);
	json_decref(live);
	/* a stale resourceVersion (with the right uid) is refused too */
	del = json_deep_copy(obj);
	meta = json_object_get(del, "metadata");
	json_object_set_new(meta, "uid", json_string(new_uid));
	json_object_set_new(meta, "resourceVersion", json_string("1"));
	op.verb = TG_KUBE_DELETE;
	op.obj = del;
	assert_int_equal(tg_kube_run(w->kube, &op, 1), 0);
	assert_int_equal(op.result, TG_ECONFLICT);
	assert_contains(op.message, "ResourceVersion in precondition: 1");
	tg_kube_op_clear(&op);
	json_decref(del);
	/* the right uid deletes it */
	assert_int_equal(tg_kube_delete_uid(w->kube, "v1", "ConfigMap",
	                                    "default", "c9", new_uid, 0),
	                 0);
	assert_int_equal(
	        tg_kube_get(&live, w->kube, "v1", "ConfigMap", "default", "c9"),
	        TG_ENOTFOUND);
	free(old_uid);
	free(new_uid);
	json_decref(cm);
}

/* What a streamed list handed on, and which item it was told to skip. */
typedef struct streamed {
	json_t *names;
	size_t peeked;
	const char *skip_name;
} streamed;

static void stream_item(void *ctx, json_t *item)
{
	streamed *s = ctx;

	assert_string_equal(json_string_value(json_object_get(item, "kind")),
	                    "ConfigMap");
	json_array_append(
	        s->names,
	        json_object_get(json_object_get(item, "metadata"), "name"));
}

static bool stream_skip(void *ctx, const tg_kube_list_peek *p)
{
	streamed *s = ctx;

	s->peeked++;
	assert_string_equal(p->ns, "default");
	assert_true(p->uid[0] && p->resource_version[0]);
	return !strcmp(p->name, s->skip_name);
}

/* A streamed list: every item of every page (3 a page) handed on one at a
 * time, none kept; the one the caller has seen is skipped unparsed; a
 * kind the server does not serve fails the list, naming it. */
static void test_kube_list_streams_pages(void **state)
{
	world *w = *state;
	tg_kube_target *t = NULL;
	tg_kube_options o = { .list_limit = 3 };
	tg_kube *k = NULL;
	streamed s = { json_array(), 0, "stream-4" };
	tg_kube_list_req q[2] = {
		{ .api_version = "v1",
		  .kind = "ConfigMap",
		  .ns = "default",
		  .label_selector = "stream=test",
		  .on_item = stream_item,
		  .skip = stream_skip,
		  .ctx = &s },
		{ .api_version = "example.com/v1",
		  .kind = "Nothing",
		  .on_item = stream_item,
		  .ctx = &s },
	};
	char *kc = tg_path_join(w->dir, "kubeconfig");
	size_t i;

	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_int_equal(tg_kube_new(&k, t, &o), 0);
	assert_int_equal(tg_kube_discover(k), 0);
	for (i = 0; i < 8; i++) {
		char *name = tg_aprintf("stream-%zu", i);
		json_t *cm = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}}}",
		                       "apiVersion", "v1", "kind", "ConfigMap",
		                       "metadata", "name", name, "namespace",
		                       "default", "labels", "stream", "test");
		assert_int_equal(tg_kube_apply(NULL, k, cm, 0), 0);
		json_decref(cm);
		free(name);
	}
	assert_int_equal(tg_kube_list_all(k, q, 2), 0);
	assert_int_equal(q[0].result, 0);
	assert_null(q[0].items);
	assert_int_equal(s.peeked, 8);
	assert_int_equal(json_array_size(s.names), 7);
	for (i = 0; i < 7; i++)
		assert_string_not_equal(
		        json_string_value(json_array_get(s.names, i)),
		        "stream-4");
	assert_int_equal(q[1].result, TG_ENOTFOUND);
	assert_contains(q[1].message, "Nothing");
	for (i = 0; i < 2; i++)
		tg_kube_list_req_clear(&q[i]);
	json_decref(s.names);
	tg_kube_free(k);
	tg_kube_target_free(t);
	free(kc);
}

/* Lists of two kinds at once, each over several pages (3 objects a
 * page), with a label selector; a kind the server does not serve fails
 * alone. */
static void test_kube_lists_in_parallel_over_pages(void **state)
{
	world *w = *state;
	tg_kube_target *t = NULL;
	tg_kube_options o = { .list_limit = 3 };
	tg_kube *k = NULL;
	tg_kube_list_req q[3] = {
		{ .api_version = "v1",
		  .kind = "ConfigMap",
		  .ns = "default",
		  .label_selector = "page=test" },
		{ .api_version = "v1",
		  .kind = "Secret",
		  .ns = "default",
		  .label_selector = "page=test" },
		{ .api_version = "example.com/v1", .kind = "Nothing" },
	};
	char *kc = tg_path_join(w->dir, "kubeconfig");
	size_t i;

	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_int_equal(tg_kube_new(&k, t, &o), 0);
	assert_int_equal(tg_kube_discover(k), 0);
	for (i = 0; i < 8; i++) {
		char *name = tg_aprintf("paged-%zu", i);
		json_t *cm = json_pack(
		        "{s:s,s:s,s:{s:s,s:s,s:{s:s}}}", "apiVersion", "v1",
		        "kind", i < 7 ? "ConfigMap" : "Secret", "metadata",
		        "name", name, "namespace", "default", "labels", "page",
		        i == 6 ? "other" : "test");
		assert_int_equal(tg_kube_apply(NULL, k, cm, 0), 0);
		json_decref(cm);
		free(name);
	}
	assert_int_equal(tg_kube_list_all(k, q, 3), 0);
	assert_int_equal(q[0].result, 0);
	assert_int_equal(json_array_size(q[0].items), 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(
		        json_string_value(json_object_get(
		                json_array_get(q[0].items, i), "kind")),
		        "ConfigMap");
	assert_int_equal(q[1].result, 0);
	assert_int_equal(json_array_size(q[1].items), 1);
	assert_int_equal(q[2].result, TG_ENOTFOUND);
	assert_null(q[2].items);
	assert_contains(q[2].message, "Nothing");
	for (i = 0; i < 3; i++)
		tg_kube_list_req_clear(&q[i]);
	tg_kube_free(k);
	tg_kube_target_free(t);
	free(kc);
}

static void test_kube_reports_server_status_message(void **state)
{
	world *w = *state;
	json_t *bad = objects("apiVersion: v1\nkind: ConfigMap\nmetadata: "
	                      "{name: Bad_Name, namespace: default}\n");

	assert_int_equal(
	        tg_kube_apply(NULL, w->kube, json_array_get(bad, 0), 0),
	        TG_ERROR);
	assert_contains(tg_error_last(),
	                "v1 ConfigMap default/Bad_Name: 422 Invalid");
	json_decref(bad);
}

/*
 * A group version whose discovery URL is refused (a space in a CRD's
 * version name, which the test cluster does not check)
 * fails discovery partway, after the GETs of the groups before it were
 * queued. Those must have run before discovery returns: a later
 * discovery on the same client would otherwise run them into freed
 * memory (caught by the sanitizer build).
 */
static void test_kube_discovery_refused_url_drains_queue(void **state)
{
	world *w = *state;
	tg_kube_target *t = NULL;
	tg_kube *k = NULL;
	json_t *objs = objects(
	        "apiVersion: apiextensions.k8s.io/v1\nkind: "
	        "CustomResourceDefinition\n"
	        "metadata: {name: widgets.bad.example}\n"
	        "spec:\n  group: bad.example\n  scope: Namespaced\n"
	        "  names: {plural: widgets, singular: widget, kind: Widget}\n"
	        "  versions: [{name: v 1, served: true, storage: true, "
	        "schema: {openAPIV3Schema: {type: object, "
	        "x-kubernetes-preserve-unknown-fields: true}}}]\n");
	json_t *live = NULL;
	char *kc = tg_path_join(w->dir, "kubeconfig");

	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_int_equal(tg_kube_new(&k, t, NULL), 0);
	assert_int_equal(
	        tg_kube_create(&live, w->kube, json_array_get(objs, 0)), 0);
	json_decref(live);
	assert_int_equal(tg_kube_discover(k), TG_EINVALID);
	assert_contains(tg_error_last(), "invalid URL");
	assert_int_equal(tg_kube_delete(w->kube, "apiextensions.k8s.io/v1",
	                                "CustomResourceDefinition", NULL,
	                                "widgets.bad.example", 0),
	                 0);
	assert_int_equal(tg_kube_discover(k), 0);
	json_decref(objs);
	tg_kube_free(k);
	tg_kube_target_free(t);
	free(kc);
}

/*
 * A batch of many more operations than the client makes ahead (four per
 * parallel request) runs every one of them, each with its own result:
 * applies of objects given as text (sent as they are, whatever the
 * identity tree holds besides), applies of trees, an op that fails before
 * it is sent, and one the server refuses, among them.
 */
static void test_kube_batch_over_window_runs_every_op(void **state)
{
	world *w = *state;
	tg_kube_target *t = NULL;
	tg_kube *k = NULL;
	tg_kube_options ko = { .parallel = 2 };
	enum { N = 41 };
	tg_kube_op ops[N];
	char *texts[N] = { 0 };
	json_t *ids[N], *live = NULL;
	char *kc = tg_path_join(w->dir, "kubeconfig");
	size_t i;

	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_int_equal(tg_kube_new(&k, t, &ko), 0);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < N; i++) {
		char name[32];

		snprintf(name, sizeof(name), "feed-%02zu", i);
		ops[i].verb = TG_KUBE_APPLY;
		if (i == 17) /* no name: fails before it is sent */
			ids[i] = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion",
			                   "v1", "kind", "ConfigMap",
			                   "metadata", "namespace", "default");
		else if (i == 23) /* refused by the server: 422 */
			ids[i] = json_pack("{s:s,s:s,s:{s:s,s:s}}",
			                   "apiVersion", "v1", "kind",
			                   "ConfigMap", "metadata", "name",
			                   "Bad_Name", "namespace", "default");
		else if (i % 2)
			ids[i] = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}",
			                   "apiVersion", "v1", "kind",
			                   "ConfigMap", "metadata", "name",
			                   name, "namespace", "default", "data",
			                   "from", "tree");
		else {
			/* The identity only, and the object as text. */
			ids[i] =
			        json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion",
			                  "v1", "kind", "ConfigMap", "metadata",
			                  "name", name, "namespace", "default");
			texts[i] = tg_aprintf(
			        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
			        "\"metadata\":{\"name\":\"%s\",\"namespace\":"
			        "\"default\"},\"data\":{\"from\":\"text\"}}",
			        name);
			ops[i].body = texts[i];
		}
		ops[i].obj = ids[i];
	}
	assert_int_equal(tg_kube_run(k, ops, N), 0);
	for (i = 0; i < N; i++) {
		char name[32];

		snprintf(name, sizeof(name), "feed-%02zu", i);
		if (i == 17) {
			assert_int_equal(ops[i].result, TG_EINVALID);
			assert_contains(ops[i].message, "metadata.name");
		} else if (i == 23) {
			assert_int_equal(ops[i].result, TG_ERROR);
			assert_contains(ops[i].message, "422");
		} else {
			if (ops[i].result != 0)
				fail_msg("op %zu: %s", i, ops[i].message);
			assert_non_null(ops[i].live);
			assert_int_equal(tg_kube_get(&live, k, "v1",
			                             "ConfigMap", "default",
			                             name),
			                 0);
			assert_string_equal(
			        json_string_value(json_object_get(
			                json_object_get(live, "data"), "from")),
			        i % 2 ? "tree" : "text");
			json_decref(live);
			live = NULL;
		}
		tg_kube_op_clear(&ops[i]);
		json_decref(ids[i]);
		free(texts[i]);
	}
	tg_kube_free(k);
	tg_kube_target_free(t);
	free(kc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_discovery_and_crud),
		cmocka_unit_test(test_kube_delete_with_uid_precondition),
		cmocka_unit_test(test_kube_lists_in_parallel_over_pages),
		cmocka_unit_test(test_kube_list_streams_pages),
		cmocka_unit_test(test_kube_reports_server_status_message),
		cmocka_unit_test(test_kube_discovery_refused_url_drains_queue),
		cmocka_unit_test(test_kube_batch_over_window_runs_every_op),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
