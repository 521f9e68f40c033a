/*
 * Tests of the desired objects kept as text (reconciler/apply/desired.c):
 * the body an apply sends without parsing the text back is the object the
 * parked text and its steps make (namespace, commit annotation), and it
 * is not used once a step has made it stale.
 */
#include <stdlib.h>
#include <string.h>

#include "../../reconciler/apply/apply_int.h"
#include "testlib.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

/* As tg_apply_add_unit makes it: parked after init, so that the steps
 * change the object's own tree, never tree. */
static void init(obj *o, json_t *tree, const char *commit)
{
	apply_obj_init(o, tree, commit);
	apply_park(o);
}

/* A decorated Deployment in namespace ns (NULL: none) with a real. */
static json_t *deployment(const char *ns)
{
	json_t *t = json_pack("{s:s,s:s,s:{s:s,s:{s:s},s:{s:s}},s:{s:i,s:f}}",
	                      "apiVersion", "apps/v1", "kind", "Deployment",
	                      "metadata", "name", "web", "labels",
	                      "app.kubernetes.io/managed-by", "tollgate",
	                      "annotations", "tollgate.dev/unit", "web", "spec",
	                      "replicas", 2, "weight", 0.1);

	if (ns)
		json_object_set_new(json_object_get(t, "metadata"), "namespace",
		                    json_string(ns));
	return t;
}

/* The tree the apply would have serialised: parsed back from the text,
 * with the steps' namespace and commit. */
static json_t *tree_of(obj *o)
{
	json_t *t;

	apply_park(o);
	t = json_deep_copy(apply_desired(o));
	apply_park(o);
	return t;
}

static void assert_body_is_tree(obj *o)
{
	const char *body = apply_obj_body(o);
	json_t *sent, *want = tree_of(o);
	json_error_t err;

	assert_non_null(body);
	/* a member twice (the annotation written in beside one already
	 * there) is no tree */
	sent = json_loads(body, JSON_REJECT_DUPLICATES, &err);
	assert_non_null(sent);
	if (!json_equal(sent, want)) {
		char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);

		fail_msg("body %s is not the tree %s", body, w);
	}
	json_decref(sent);
	json_decref(want);
}

static void test_body_is_the_stamped_tree(void **state)
{
	json_t *t = deployment("prod");
	obj o;

	(void)state;
	init(&o, t, COMMIT);
	/* Neither the tree nor the text (the content hash) has the
	 * commit: it changes with every commit. */
	assert_null(json_object_get(
	        json_object_get(json_object_get(t, "metadata"), "annotations"),
	        TG_ANN_COMMIT));
	assert_null(strstr(o.text, "source-commit"));
	/* Not stamped yet (a dry run before the stamp): the tree is sent. */
	assert_null(apply_obj_body(&o));
	apply_obj_stamp(&o, COMMIT);
	apply_obj_set_namespace(&o, "prod"); /* scope resolved, the same */
	assert_body_is_tree(&o);
	assert_non_null(strstr(apply_obj_body(&o),
	                       "\"tollgate.dev/"
	                       "source-commit\":\"" COMMIT "\""));
	/* Reals as the kube client writes them: the server reads
	 * quantities from the text. */
	assert_non_null(strstr(apply_obj_body(&o), "\"weight\":0.1"));
	apply_obj_clear(&o);
	json_decref(t);
}

static void test_stale_body_is_not_sent(void **state)
{
	json_t *t = deployment("prod"), *bare = deployment(NULL);
	obj o;

	(void)state;
	/* Another commit (a drift fix stamps the inventory's). */
	init(&o, t, COMMIT);
	apply_obj_stamp(&o, "fedcba9876543210fedcba9876543210fedcba98");
	assert_null(apply_obj_body(&o));
	apply_obj_clear(&o);

	/* The kind turned out cluster-scoped: the namespace goes. */
	init(&o, t, COMMIT);
	apply_obj_stamp(&o, COMMIT);
	apply_obj_set_namespace(&o, NULL);
	assert_null(apply_obj_body(&o));
	apply_obj_clear(&o);

	/* Another namespace. */
	init(&o, t, COMMIT);
	apply_obj_stamp(&o, COMMIT);
	apply_obj_set_namespace(&o, "staging");
	assert_null(apply_obj_body(&o));
	apply_obj_clear(&o);

	/* None given, "default" from discovery. */
	init(&o, bare, COMMIT);
	apply_obj_stamp(&o, COMMIT);
	assert_body_is_tree(&o);
	apply_obj_set_namespace(&o, "default");
	assert_null(apply_obj_body(&o));
	apply_obj_clear(&o);

	/* Cluster-scoped and none given: still what the tree says. */
	init(&o, bare, COMMIT);
	apply_obj_stamp(&o, COMMIT);
	apply_obj_set_namespace(&o, NULL);
	assert_body_is_tree(&o);
	apply_obj_drop_body(&o);
	assert_null(apply_obj_body(&o));
	apply_obj_clear(&o);
	json_decref(t);
	json_decref(bare);
}

static void test_odd_namespace_has_no_body(void **state)
{
	json_t *t = deployment(NULL);
	obj o;

	(void)state;
	/* A namespace that is no string: the steps replace it, so the
	 * tree is serialised after them. */
	json_object_set_new(json_object_get(t, "metadata"), "namespace",
	                    json_integer(5));
	init(&o, t, COMMIT);
	apply_obj_stamp(&o, COMMIT);
	assert_null(apply_obj_body(&o));
	apply_obj_clear(&o);
	json_decref(t);
}

/* Without a real the body is the text with the annotation written in:
 * members that sort before metadata, with strings that look like JSON and
 * objects named metadata of their own, are passed over; the annotation
 * goes into the object's own metadata.annotations, empty or not. */
static void test_body_written_into_the_text(void **state)
{
	const char *const docs[] = {
		"{\"apiVersion\":\"example.com/v1\",\"kind\":\"Thing\","
		"\"aaa\":{\"metadata\":{\"annotations\":{\"x\":\"}\"}},"
		"\"s\":\"\\\"metadata\\\":{\\\"annotations\\\":{\","
		"\"b\\\\\":[1,{\"c\":[]},true,null,-25],\"e\":{},\"f\":[]},"
		"\"metadata\":{\"name\":\"t\",\"namespace\":\"prod\","
		"\"annotations\":{\"a\":\"]\\\\\"}},"
		"\"spec\":{\"template\":{\"metadata\":{\"annotations\":{}}}}}",
		/* members of metadata before its annotations; its source
		 * order unsorted, so that serialising the tree again would
		 * not give the text's order */
		"{\"metadata\":{\"name\":\"c\",\"annotations\":{},"
		"\"Z\":[\"}\"],\"a\":{\"annotations\":{\"q\":\"r\"}},"
		"\"namespace\":\"prod\"},\"kind\":\"ConfigMap\","
		"\"apiVersion\":\"v1\",\"data\":{\"k\":\"{\\\"\\u00e9\"}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < TG_ARRAY_LEN(docs); i++) {
		json_error_t err;
		json_t *t = json_loads(docs[i], 0, &err);
		const char *body, *at;
		obj o;

		assert_non_null(t);
		init(&o, t, COMMIT);
		apply_obj_stamp(&o, COMMIT);
		assert_body_is_tree(&o);
		/* written in once, not serialised again: the keys keep the
		 * text's order */
		body = apply_obj_body(&o);
		assert_non_null(at = strstr(body, "\"" TG_ANN_COMMIT "\""));
		assert_null(strstr(at + sizeof(TG_ANN_COMMIT), TG_ANN_COMMIT));
		assert_int_equal(strncmp(body, o.text, (size_t)(at - body) - 1),
		                 0);
		apply_obj_clear(&o);
		json_decref(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_is_the_stamped_tree),
		cmocka_unit_test(test_stale_body_is_not_sent),
		cmocka_unit_test(test_odd_namespace_has_no_body),
		cmocka_unit_test(test_body_written_into_the_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
