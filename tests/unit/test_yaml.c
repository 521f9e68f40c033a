/* Tests of the YAML reader: scalar resolution as kubectl does it, anchors
 * and merges, positions (hostile input and the comparison with python3-yaml
 * are in test_yaml_hostile.c). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "yaml_test.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* tg_yaml_docs_line_at's line, for assertions. */
static unsigned
line_at(const tg_yaml_docs *docs, size_t i, const char *path, unsigned *col_out)
{
	unsigned line;

	tg_yaml_docs_line_at(&line, col_out, docs, i, path);
	return line;
}

static tg_yaml_docs *parse_file_ok(const char *rel, unsigned flags)
{
	tg_yaml_docs *docs = NULL;
	char *path = tt_src_path(rel);
	int error = tg_yaml_parse_file(&docs, path, flags);

	if (error)
		fail_msg("parse of %s failed: %d %s", rel, error,
		         tg_error_last());
	free(path);
	return docs;
}

/* The single document of text, compact JSON; caller frees. */
static char *one_doc_json(const char *text)
{
	tg_yaml_docs *docs = parse_ok(text, 0);
	char *s;

	assert_int_equal(tg_yaml_docs_count(docs), 1);
	s = json_dumps(tg_yaml_docs_get(docs, 0),
	               JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	tg_yaml_docs_free(docs);
	return s;
}

#define assert_yaml_json(yaml, json)                                           \
	do {                                                                   \
		char *got_ = one_doc_json(yaml);                               \
		assert_string_equal(got_, json);                               \
		free(got_);                                                    \
	} while (0)

static void test_yaml_resolves_booleans_and_nulls(void **state)
{
	(void)state;
	assert_yaml_json("[yes, Yes, YES, on, On, ON, true, True, TRUE, y, Y]",
	                 "[true,true,true,true,true,true,true,true,true,true,"
	                 "true]");
	assert_yaml_json("[no, No, NO, off, Off, OFF, false, False, FALSE, n, "
	                 "N]",
	                 "[false,false,false,false,false,false,false,false,"
	                 "false,false,false]");
	assert_yaml_json("[yEs, tRUE, oN, nO, yes please]",
	                 "[\"yEs\",\"tRUE\",\"oN\",\"nO\",\"yes please\"]");
	assert_yaml_json("[~, null, Null, NULL, nUll]",
	                 "[null,null,null,null,\"nUll\"]");
	assert_yaml_json("a:\nb: ~\n", "{\"a\":null,\"b\":null}");
}

static void test_yaml_resolves_integers(void **state)
{
	(void)state;
	assert_yaml_json("[0, 12, +12, -12, -0, 0x1F, 0X1f, -0x1F, 0o17, 017, "
	                 "0b101, 1_000, 0x_1F]",
	                 "[0,12,12,-12,0,31,31,-31,15,15,5,1000,31]");
	assert_yaml_json("[9223372036854775807, -9223372036854775808]",
	                 "[9223372036854775807,-9223372036854775808]");
	/* Beyond int64: a real, as the header says. */
	assert_yaml_json("[9223372036854775808, 99999999999999999999]",
	                 "[9.2233720368547758e18,1e20]");
	/* 08 is no octal: go-yaml reads it as the float 8. */
	assert_yaml_json("[08, 0x, 0xZZ, 0x1FFFFFFFFFFFFFFFFF, 1__2]",
	                 "[8,\"0x\",\"0xZZ\",\"0x1FFFFFFFFFFFFFFFFF\",12]");
}

static void test_yaml_resolves_floats(void **state)
{
	(void)state;
	assert_yaml_json("[1.5, -1.5, .5, +.5, -.5, 6.8523015e+5, 1.25e-1]",
	                 "[1.5,-1.5,0.5,0.5,-0.5,685230.15000000002,0.125]");
	/* Integral floats are written as integers, as Go's encoder does. */
	assert_yaml_json("[1e3, 3.0, 1., 1E+2, 2.5e1]", "[1000,3,1,100,25]");
	/* No sexagesimal numbers; overflow stays a string as in go-yaml. */
	assert_yaml_json("[190:20:30, 1e400, 1.2.3, ., -, +, 1e, .e3]",
	                 "[\"190:20:30\",\"1e400\",\"1.2.3\",\".\",\"-\",\"+\","
	                 "\"1e\",\".e3\"]");
	assert_yaml_json("2001-12-14t21:59:43.10-05:00",
	                 "\"2001-12-14t21:59:43.10-05:00\"");
}

static void test_yaml_quoted_scalars_are_strings(void **state)
{
	(void)state;
	assert_yaml_json("[\"yes\", 'no', \"12\", '0x1F', \"null\", '~', \"\", "
	                 "\"1e3\"]",
	                 "[\"yes\",\"no\",\"12\",\"0x1F\",\"null\",\"~\",\"\","
	                 "\"1e3\"]");
	assert_yaml_json("a: |\n  12\nb: >-\n  yes\n",
	                 "{\"a\":\"12\\n\",\"b\":\"yes\"}");
	assert_yaml_json("[\"a\\tb\\u00e9\", 'it''s']",
	                 "[\"a\\tbé\",\"it's\"]");
}

static void test_yaml_block_scalars(void **state)
{
	tg_yaml_docs *docs =
	        parse_file_ok("tests/data/yaml/good/block.yaml", 0);
	json_t *d = tg_yaml_docs_get(docs, 0);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(d, "literal")),
	                    "line one\n  indented\nline three\n");
	assert_string_equal(
	        json_string_value(json_object_get(d, "literal_strip")),
	        "no trailing newline");
	assert_string_equal(
	        json_string_value(json_object_get(d, "literal_keep")),
	        "keeps trailing\n\n");
	assert_string_equal(json_string_value(json_object_get(d, "folded")),
	                    "folded text\nnew paragraph\n");
	assert_string_equal(
	        json_string_value(json_object_get(d, "folded_strip")), "a b");
	assert_string_equal(
	        json_string_value(json_object_get(d, "indent_indicator")),
	        "  two extra spaces\n");
	tg_yaml_docs_free(docs);
}

static void test_yaml_multi_document(void **state)
{
	tg_yaml_docs *docs =
	        parse_file_ok("tests/data/yaml/good/multidoc.yaml", 0);

	(void)state;
	assert_int_equal(tg_yaml_docs_count(docs), 5);
	assert_int_equal(json_integer_value(json_object_get(
	                         tg_yaml_docs_get(docs, 0), "first")),
	                 1);
	assert_int_equal(tg_yaml_docs_line(docs, 0), 2);
	assert_int_equal(tg_yaml_docs_line(docs, 1), 4);
	/* "---" followed by "---": an empty document kept as null. */
	assert_true(json_is_null(tg_yaml_docs_get(docs, 2)));
	assert_true(json_is_array(tg_yaml_docs_get(docs, 3)));
	assert_string_equal(json_string_value(json_object_get(
	                            tg_yaml_docs_get(docs, 4), "fourth")),
	                    "text\n");
	assert_null(tg_yaml_docs_get(docs, 5));
	tg_yaml_docs_free(docs);

	/* An empty document's line is that of its "---". */
	docs = parse_ok("a: 1\n---\n# empty\n\n--- \n", 0);
	assert_int_equal(tg_yaml_docs_count(docs), 3);
	assert_int_equal(tg_yaml_docs_line(docs, 1), 2);
	assert_int_equal(tg_yaml_docs_line(docs, 2), 5);
	tg_yaml_docs_free(docs);

	/* Comments only: no document at all. */
	docs = parse_ok("# nothing\n", 0);
	assert_int_equal(tg_yaml_docs_count(docs), 0);
	tg_yaml_docs_free(docs);
	docs = parse_ok("", 0);
	assert_int_equal(tg_yaml_docs_count(docs), 0);
	tg_yaml_docs_free(docs);
	assert_int_equal(tg_yaml_parse(&docs, NULL, NULL, 0, 0), 0);
	assert_int_equal(tg_yaml_docs_count(docs), 0);
	tg_yaml_docs_free(docs);
}

static void test_yaml_anchors_aliases_and_merge_keys(void **state)
{
	tg_yaml_docs *docs =
	        parse_file_ok("tests/data/yaml/good/anchors.yaml", 0);
	json_t *d = tg_yaml_docs_get(docs, 0), *t, *copies;

	(void)state;
	t = json_object_get(d, "development");
	assert_string_equal(json_string_value(json_object_get(t, "adapter")),
	                    "postgres");
	assert_string_equal(json_string_value(json_object_get(t, "database")),
	                    "dev");
	/* A list of merges: the earlier mapping wins. */
	t = json_object_get(d, "test");
	assert_string_equal(json_string_value(json_object_get(t, "host")),
	                    "extrahost");
	assert_int_equal(json_integer_value(json_object_get(t, "port")), 5432);
	assert_int_equal(json_object_size(t), 5);
	/* A key of the mapping wins over "<<" even when written before. */
	t = json_object_get(d, "override_first");
	assert_string_equal(json_string_value(json_object_get(t, "host")),
	                    "mine");
	assert_int_equal(json_object_size(t), 3);
	/* An inline mapping as the merge value. */
	t = json_object_get(d, "inline_merge");
	assert_string_equal(json_string_value(json_object_get(t, "k")), "v");
	/* Aliases are copies: changing one leaves the others alone. */
	copies = json_object_get(d, "copies");
	assert_true(json_equal(json_array_get(copies, 0),
	                       json_object_get(d, "list")));
	json_array_set_new(json_array_get(copies, 0), 0, json_string("X"));
	assert_string_equal(
	        json_string_value(json_array_get(json_array_get(copies, 1), 0)),
	        "a");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(d, "list"), 0)),
	                    "a");
	assert_string_equal(json_string_value(json_array_get(copies, 2)),
	                    "hello");
	/* Merged members are not shared with the anchored mapping. */
	json_object_set_new(json_object_get(d, "development"), "host",
	                    json_string("changed"));
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(d, "defaults"), "host")),
	                    "localhost");
	tg_yaml_docs_free(docs);
	/* "<<" as a value is only a string. */
	assert_yaml_json("[<<]", "[\"<<\"]");
	/* An anchor may be redefined; later aliases see the new value. */
	assert_yaml_json("[&a 1, *a, &a 2, *a]", "[1,1,2,2]");
}

static void test_yaml_keys_become_strings(void **state)
{
	const char *msg;

	(void)state;
	assert_yaml_json(
	        "{7: a, 0x10: b, y: c, off: d, 1.5: f, "
	        "2.0: g, 1e6: h, 1e-5: i, '': j, \"null\": k}",
	        "{\"\":\"j\",\"1.5\":\"f\",\"16\":\"b\",\"1e+06\":\"h\","
	        "\"1e-05\":\"i\",\"2\":\"g\",\"7\":\"a\",\"false\":"
	        "\"d\",\"null\":\"k\",\"true\":\"c\"}");
	/* kubectl's famous surprise: the key y is the boolean true. */
	msg = parse_bad("true: 1\ny: 2\n", 12, TG_EPARSE);
	assert_contains(msg, "x.yaml:2:1: duplicate key \"true\"");
	/* An alias as a key takes the anchored scalar's string form. */
	assert_yaml_json("[&k 12, {*k : v}]", "[12,{\"12\":\"v\"}]");
}

/* Regression (issue 13, found by fuzzing): a float key past float32's
 * range (1e39 fits a double, not a float) crashed the formatter; it is
 * an infinity, as sigs.k8s.io/yaml writes it, also through an alias. */
static void test_yaml_float_key_past_float32_is_infinity(void **state)
{
	const char *msg;

	(void)state;
	assert_yaml_json("{1e39: a, -1e39: b, 3.4e38: d}",
	                 "{\"-.inf\":\"b\",\".inf\":\"a\","
	                 "\"3.4e+38\":\"d\"}");
	assert_yaml_json("{&k 1e39: a, b: {*k : v}}",
	                 "{\".inf\":\"a\",\"b\":{\".inf\":\"v\"}}");
	assert_yaml_json("1e39:\n  1e39: x\n", "{\".inf\":{\".inf\":\"x\"}}");
	msg = parse_bad("1e39: 1\n3.5e38: 2\n", 17, TG_EPARSE);
	assert_contains(msg, "x.yaml:2:1: duplicate key \".inf\"");
}

static void test_yaml_explicit_tags(void **state)
{
	tg_yaml_docs *docs = parse_file_ok("tests/data/yaml/good/tags.yaml", 0);
	json_t *d = tg_yaml_docs_get(docs, 0);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(d, "str_int")),
	                    "12");
	assert_string_equal(json_string_value(json_object_get(d, "str_bool")),
	                    "yes");
	assert_int_equal(json_integer_value(json_object_get(d, "int")), 42);
	assert_true(json_is_number(json_object_get(d, "float")));
	assert_true(json_is_true(json_object_get(d, "bool")));
	assert_true(json_is_null(json_object_get(d, "nothing")));
	assert_string_equal(
	        json_string_value(json_object_get(d, "nonspecific")), "12");
	assert_string_equal(json_string_value(json_object_get(d, "binary")),
	                    "aGVsbG8gd29ybGQ=");
	assert_int_equal(json_array_size(json_object_get(d, "seq")), 2);
	tg_yaml_docs_free(docs);
}

static void test_yaml_reads_json(void **state)
{
	tg_yaml_docs *docs = parse_file_ok("tests/data/yaml/good/json.json", 0);
	json_t *d = tg_yaml_docs_get(docs, 0), *data;

	(void)state;
	assert_int_equal(tg_yaml_docs_count(docs), 1);
	data = json_object_get(d, "data");
	/* JSON strings are quoted: never booleans. */
	assert_string_equal(json_string_value(json_object_get(data, "yes")),
	                    "no");
	assert_string_equal(json_string_value(json_object_get(data, "escaped")),
	                    "a\"b\\c/d\xc3\xa9\n");
	assert_int_equal(json_array_size(json_object_get(d, "list")), 8);
	assert_true(
	        json_is_null(json_array_get(json_object_get(d, "list"), 5)));
	tg_yaml_docs_free(docs);
}

static void test_yaml_reads_kubernetes_manifests(void **state)
{
	tg_yaml_docs *docs =
	        parse_file_ok("tests/data/yaml/good/deployment.yaml", 0);
	json_t *d = tg_yaml_docs_get(docs, 0), *c;

	(void)state;
	assert_int_equal(tg_yaml_docs_count(docs), 2);
	assert_string_equal(json_string_value(json_object_get(d, "kind")),
	                    "Deployment");
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(d, "spec"), "replicas")),
	                 3);
	c = json_array_get(
	        json_object_get(
	                json_object_get(
	                        json_object_get(json_object_get(d, "spec"),
	                                        "template"),
	                        "spec"),
	                "containers"),
	        0);
	assert_string_equal(json_string_value(json_object_get(c, "image")),
	                    "ghcr.io/acme/web@sha256:9f86d081884c7d659a2feaa0"
	                    "c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	/* A quoted "on" stays a string. */
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(c, "env"), 0), "value")),
	        "on");
	assert_string_equal(json_string_value(json_object_get(
	                            tg_yaml_docs_get(docs, 1), "kind")),
	                    "Service");
	assert_int_equal(tg_yaml_docs_line(docs, 1), 59);
	tg_yaml_docs_free(docs);
}

static void test_yaml_positions(void **state)
{
	const char *text = "apiVersion: v1\n"
	                   "rules:\n"
	                   "  - name: a\n"
	                   "    signatures: {threshold: 2}\n"
	                   "  - name: b\n"
	                   "    \"a/b~c\": 1\n"
	                   "base: &b\n"
	                   "  key: 1\n"
	                   "use:\n"
	                   "  <<: *b\n"
	                   "---\n"
	                   "- x\n"
	                   "- [y, z]\n";
	tg_yaml_docs *docs = parse_ok(text, TG_YAML_POSITIONS);
	unsigned col = 99;

	(void)state;
	assert_int_equal(line_at(docs, 0, "", &col), 1);
	assert_int_equal(col, 1);
	assert_int_equal(line_at(docs, 0, "/rules", &col), 2);
	assert_int_equal(col, 1);
	assert_int_equal(line_at(docs, 0, "/rules/0", &col), 3);
	assert_int_equal(col, 5);
	assert_int_equal(line_at(docs, 0, "/rules/1/name", &col), 5);
	assert_int_equal(col, 5);
	assert_int_equal(
	        line_at(docs, 0, "/rules/0/signatures/threshold", &col), 4);
	assert_int_equal(col, 18);
	assert_int_equal(line_at(docs, 0, "/rules/1/a~1b~0c", &col), 6);
	/* A merged member is found where it was written. */
	assert_int_equal(line_at(docs, 0, "/use/key", &col), 8);
	assert_int_equal(col, 3);
	assert_int_equal(line_at(docs, 1, "/1/1", &col), 13);
	assert_int_equal(col, 7);
	/* Unknown paths. */
	assert_int_equal(line_at(docs, 0, "/rules/2", &col), 0);
	assert_int_equal(col, 0);
	assert_int_equal(line_at(docs, 0, "/rules/01", NULL), 0);
	assert_int_equal(line_at(docs, 0, "/nope", NULL), 0);
	assert_int_equal(line_at(docs, 0, "/apiVersion/x", NULL), 0);
	assert_int_equal(line_at(docs, 0, "rules", NULL), 0);
	assert_int_equal(line_at(docs, 2, "", NULL), 0);
	tg_yaml_docs_free(docs);

	/* Without the flag only document lines are known. */
	docs = parse_ok(text, 0);
	assert_int_equal(tg_yaml_docs_line(docs, 1), 12);
	assert_int_equal(line_at(docs, 0, "/rules", NULL), 0);
	tg_yaml_docs_free(docs);
}

static void test_yaml_real_digits_write_reals_as_kubectl(void **state)
{
	tg_yaml_docs *docs = parse_ok("[0.1, 0.25, 1.5e-7, 6.8523015e+5, 2, "
	                              "{a: [0.3]}]",
	                              0);
	json_t *v = tg_yaml_docs_get(docs, 0);
	char *s;

	(void)state;
	assert_int_equal(tg_json_real_digits(v), 8);
	s = json_dumps(v, JSON_COMPACT |
	                          JSON_REAL_PRECISION(tg_json_real_digits(v)));
	assert_string_equal(s, "[0.1,0.25,1.5e-7,685230.15,2,{\"a\":[0.3]}]");
	free(s);
	/* 17 digits where a value needs them, so nothing is lost. */
	json_array_append_new(v, json_real(0.1 + 0.2));
	assert_int_equal(tg_json_real_digits(v), 17);
	s = json_dumps(json_array_get(v, 6),
	               JSON_ENCODE_ANY |
	                       JSON_REAL_PRECISION(tg_json_real_digits(v)));
	assert_true(strtod(s, NULL) == 0.1 + 0.2);
	free(s);
	assert_int_equal(tg_json_real_digits(
	                         json_object_get(json_array_get(v, 5), "nope")),
	                 0);
	tg_yaml_docs_free(docs);
}

/* Hostile and broken input -------------------------------------------- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_resolves_booleans_and_nulls),
		cmocka_unit_test(test_yaml_resolves_integers),
		cmocka_unit_test(test_yaml_resolves_floats),
		cmocka_unit_test(test_yaml_quoted_scalars_are_strings),
		cmocka_unit_test(test_yaml_block_scalars),
		cmocka_unit_test(test_yaml_multi_document),
		cmocka_unit_test(test_yaml_anchors_aliases_and_merge_keys),
		cmocka_unit_test(test_yaml_keys_become_strings),
		cmocka_unit_test(test_yaml_float_key_past_float32_is_infinity),
		cmocka_unit_test(test_yaml_explicit_tags),
		cmocka_unit_test(test_yaml_reads_json),
		cmocka_unit_test(test_yaml_reads_kubernetes_manifests),
		cmocka_unit_test(test_yaml_positions),
		cmocka_unit_test(test_yaml_real_digits_write_reals_as_kubectl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
