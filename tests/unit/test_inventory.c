/*
 * Tests of reading an inventory ConfigMap's list (reconciler/apply/
 * inventory.c, apply_inventory_objects) and of what prune takes from it
 * (apply_prune_gone). Whoever can write ConfigMaps in the inventory
 * namespace controls the list: an entry that is not an identity as
 * tollgate writes one, or a duplicate key, makes the whole inventory
 * unreadable, and an unreadable inventory prunes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "../../reconciler/apply/apply_int.h"
#include "testlib.h"

static json_t *inventory(const char *objects)
{
	return json_pack("{s:{s:s},s:{s:s,s:s}}", "metadata", "name",
	                 "tollgate-inventory-web-4b5e57f6", "data", "unit",
	                 "web", "objects", objects);
}

/* The list read from objects, or NULL; *why is checked against that. */
static json_t *read_list(const char *objects, const char *why_part)
{
	json_t *cm = inventory(objects), *ids;
	char *why = NULL;

	ids = apply_inventory_objects(cm, &why);
	if (why_part) {
		assert_null(ids);
		assert_non_null(why);
		if (!strstr(why, why_part))
			fail_msg("\"%s\" does not say \"%s\"", why, why_part);
	} else {
		assert_null(why);
		assert_non_null(ids);
	}
	free(why);
	json_decref(cm);
	return ids;
}

static void test_written_list_is_read(void **state)
{
	json_t *ids = read_list(
	        "[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
	        "\"name\":\"web\",\"namespace\":\"prod\"},{\"apiVersion\":"
	        "\"v1\",\"kind\":\"Namespace\",\"name\":\"prod\"}]",
	        NULL);

	(void)state;
	assert_int_equal(json_array_size(ids), 2);
	json_decref(ids);
	json_decref(read_list("[]", NULL));
}

static void test_hostile_lists_are_unreadable(void **state)
{
	(void)state;
	/* The last "name" would win in a lenient parse. */
	assert_null(read_list("[{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	                      "\"name\":\"a\",\"namespace\":\"prod\","
	                      "\"name\":\"db-password\"}]",
	                      "duplicate"));
	/* A namespace that is no string would be read as cluster-scoped. */
	assert_null(read_list("[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	                      "\"name\":\"prod\",\"namespace\":5}]",
	                      "entry 1"));
	assert_null(read_list("[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	                      "\"name\":\"prod\",\"namespace\":\"\"}]",
	                      "entry 1"));
	assert_null(read_list("[{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	                      "\"name\":\"a\"},{\"apiVersion\":\"v1\","
	                      "\"name\":\"web\"}]",
	                      "entry 2"));
	assert_null(read_list("[{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	                      "\"name\":\"a\",\"extra\":\"x\"}]",
	                      "entry 1"));
	assert_null(read_list("[\"v1/Service/a\"]", "entry 1"));
	assert_null(read_list("{\"apiVersion\":\"v1\"}", "not a list"));
	assert_null(read_list("[{", "not JSON"));
}

/* A unit of one Service prod/web. */
static void one_service(unit *u, obj *o)
{
	json_t *t = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1",
	                      "kind", "Service", "metadata", "name", "web",
	                      "namespace", "prod");

	memset(u, 0, sizeof(*u));
	apply_obj_init(o, t, NULL);
	json_decref(t);
	u->name = "web";
	u->objs = o;
	u->n = 1;
}

static void test_gone_is_what_left_the_unit(void **state)
{
	json_t *ids = read_list(
	        "[{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"name\":"
	        "\"web\",\"namespace\":\"prod\"},{\"apiVersion\":\"v1\","
	        "\"kind\":\"Service\",\"name\":\"web\"},{\"apiVersion\":"
	        "\"v1\",\"kind\":\"Service\",\"name\":\"old\",\"namespace\":"
	        "\"prod\"}]",
	        NULL);
	json_t *gone;
	unit u;
	obj o;

	(void)state;
	one_service(&u, &o);
	gone = apply_prune_gone(&u, ids);
	assert_int_equal(json_array_size(gone), 2);
	assert_ptr_equal(json_array_get(gone, 0), json_array_get(ids, 1));
	assert_ptr_equal(json_array_get(gone, 1), json_array_get(ids, 2));
	json_decref(gone);
	json_decref(ids);
	apply_obj_clear(&o);
}

/* An entry without a kind (a list not read by apply_inventory_objects)
 * is no object of the unit: it crashed the comparison before. */
static void test_gone_survives_partial_identity(void **state)
{
	json_t *ids = json_pack("[{s:s,s:s,s:s},{s:s,s:s}]", "apiVersion", "v1",
	                        "name", "web", "namespace", "prod",
	                        "apiVersion", "v1", "kind", "Service");
	json_t *gone;
	unit u;
	obj o;

	(void)state;
	one_service(&u, &o);
	gone = apply_prune_gone(&u, ids);
	assert_int_equal(json_array_size(gone), 2);
	json_decref(gone);
	json_decref(ids);
	apply_obj_clear(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_list_is_read),
		cmocka_unit_test(test_hostile_lists_are_unreadable),
		cmocka_unit_test(test_gone_is_what_left_the_unit),
		cmocka_unit_test(test_gone_survives_partial_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
