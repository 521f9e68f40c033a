/* Tests of the YAML reader: scalar resolution as kubectl does it, anchors
 * and merges, positions, hostile input, and a comparison with
 * python3-yaml on every file of tests/data/yaml/good/. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/* Parse a string that must be good; returns the docs. */
static tg_yaml_docs *parse_ok(const char *text, unsigned flags)
{
	tg_yaml_docs *docs = NULL;
	int error = tg_yaml_parse(&docs, "t.yaml", text, strlen(text), flags);

	if (error)
		fail_msg("parse failed: %d %s", error, tg_error_last());
	return docs;
}

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

/* Parse text that must fail with code; returns the message. */
static const char *parse_bad(const char *text, size_t len, int code)
{
	tg_yaml_docs *docs = (tg_yaml_docs *)1;

	assert_int_equal(tg_yaml_parse(&docs, "x.yaml", text, len, 0), code);
	assert_null(docs);
	return tg_error_last();
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

/* One file of tests/data/yaml/bad/: the whole file (its "# error:" first
 * line is a YAML comment) fails with the error its first line states. */
static void check_bad_yaml(const tt_bad_case *c, void *ctx)
{
	tg_yaml_docs *docs = NULL;
	int want = strstr(c->name, "laughs") ? TG_ETOOBIG : TG_EPARSE;
	int error = tg_yaml_parse_file(&docs, c->path, 0);

	(void)ctx;
	if (error != want)
		fail_msg("%s: got %d (%s), want %d", c->name, error,
		         tg_error_last(), want);
	assert_null(docs);
	assert_contains(tg_error_last(), c->name);
	assert_contains(tg_error_last(), c->expected);
}

static void test_yaml_rejects_bad_files(void **state)
{
	(void)state;
	tt_each_bad_case("tests/data/yaml/bad", ".yaml", check_bad_yaml, NULL);
}

/* Refused by counting the nodes alias expansion would create, before any
 * is created; how fast is for tests/bench/, not for a unit test. */
static void test_yaml_rejects_billion_laughs(void **state)
{
	char *path = tt_src_path("tests/data/yaml/bad/billion_laughs.yaml");
	tg_yaml_docs *docs = NULL;

	(void)state;
	assert_int_equal(tg_yaml_parse_file(&docs, path, TG_YAML_POSITIONS),
	                 TG_ETOOBIG);
	assert_contains(tg_error_last(), "billion laughs");
	assert_null(docs);
	free(path);
}

static void test_yaml_rejects_deep_nesting(void **state)
{
	tg_buf b;
	const char *msg;
	int i;

	(void)state;
	tg_buf_init(&b, 1u << 20);
	for (i = 0; i < 10000; i++)
		assert_int_equal(tg_buf_puts(&b, "["), 0);
	msg = parse_bad(b.data, b.len, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:1:129: nesting deeper than 128 levels");
	tg_buf_free(&b);

	/* Exactly at the limit is fine. */
	tg_buf_init(&b, 1u << 20);
	for (i = 0; i < TG_MAX_YAML_DEPTH; i++)
		assert_int_equal(tg_buf_puts(&b, "["), 0);
	for (i = 0; i < TG_MAX_YAML_DEPTH; i++)
		assert_int_equal(tg_buf_puts(&b, "]"), 0);
	tg_yaml_docs_free(parse_ok(b.data, 0));
	tg_buf_free(&b);

	/* An alias counts the depth of what it copies. */
	tg_buf_init(&b, 1u << 20);
	assert_int_equal(tg_buf_puts(&b, "a: &a "), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(tg_buf_puts(&b, "["), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(tg_buf_puts(&b, "]"), 0);
	assert_int_equal(tg_buf_puts(&b, "\nb: "), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(tg_buf_puts(&b, "["), 0);
	assert_int_equal(tg_buf_puts(&b, "*a"), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(tg_buf_puts(&b, "]"), 0);
	assert_int_equal(tg_buf_puts(&b, "\n"), 0);
	msg = parse_bad(b.data, b.len, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:2:44: alias \"*a\" makes nesting deeper "
	                     "than 128 levels");
	tg_buf_free(&b);
}

static void test_yaml_rejects_too_many_documents(void **state)
{
	tg_buf b;
	const char *msg;
	int i;

	(void)state;
	tg_buf_init(&b, 1u << 20);
	for (i = 0; i < 20000; i++)
		assert_int_equal(tg_buf_puts(&b, "---\na: 1\n"), 0);
	msg = parse_bad(b.data, b.len, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:20001:1: more than 10000 documents");
	tg_buf_free(&b);
}

static void test_yaml_rejects_huge_scalar_and_file(void **state)
{
	size_t n = TG_MAX_YAML_SCALAR_BYTES + 10;
	char *text = tg_malloc(n + 1);
	const char *msg;

	(void)state;
	memcpy(text, "k: ", 3);
	memset(text + 3, 'a', n - 3);
	text[n] = '\0';
	msg = parse_bad(text, n, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:1:4: scalar of 4194311 bytes is over the "
	                     "limit of 4194304 bytes");
	free(text);

	text = tg_malloc(TG_MAX_FILE_BYTES + 1);
	memset(text, '#', TG_MAX_FILE_BYTES + 1);
	msg = parse_bad(text, TG_MAX_FILE_BYTES + 1, TG_ETOOBIG);
	assert_contains(msg, "x.yaml: 8388609 bytes is over the limit");
	free(text);
}

static void test_yaml_rejects_aliases_of_huge_scalars(void **state)
{
	size_t n = 3u * 1024 * 1024;
	tg_buf b;
	const char *msg;
	int i;

	(void)state;
	/* Five copies of a 3 MiB scalar: 15 MiB, fine. */
	tg_buf_init(&b, TG_MAX_FILE_BYTES);
	assert_int_equal(tg_buf_puts(&b, "a: &a "), 0);
	for (i = 0; i < (int)n / 64; i++)
		assert_int_equal(
		        tg_buf_puts(
		                &b,
		                "0123456789abcdef0123456789abcdef0123456789abcd"
		                "ef0123456789abcdef"),
		        0);
	assert_int_equal(tg_buf_puts(&b, "\nb: [*a, *a, *a, *a, *a]\n"), 0);
	tg_yaml_docs_free(parse_ok(b.data, 0));
	/* A sixth passes 16 MiB of copied text. */
	b.len -= 2;
	assert_int_equal(tg_buf_puts(&b, ", *a]\n"), 0);
	msg = parse_bad(b.data, b.len, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:2:25: alias expansion would copy more "
	                     "than 16777216 bytes of text");
	/* Keys count too. */
	b.len -= 25;
	assert_int_equal(
	        tg_buf_puts(
	                &b,
	                "[{*a : 1}, {*a : 2}, {*a : 3}, {*a : 4}, {*a : 5}, "
	                "{*a : 6}]\n"),
	        0);
	msg = parse_bad(b.data, b.len, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:2:56: alias expansion would copy more");
	tg_buf_free(&b);
}

static void test_yaml_rejects_too_many_nodes(void **state)
{
	tg_buf b;
	const char *msg;
	int i;

	(void)state;
	/* The sequence and 999999 items: at the limit. */
	tg_buf_init(&b, TG_MAX_FILE_BYTES);
	for (i = 0; i < TG_MAX_YAML_NODES - 1; i++)
		assert_int_equal(tg_buf_puts(&b, "- a\n"), 0);
	tg_yaml_docs_free(parse_ok(b.data, 0));
	assert_int_equal(tg_buf_puts(&b, "- a\n"), 0);
	msg = parse_bad(b.data, b.len, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:1000000:3: more than 1000000 nodes in "
	                     "one file");
	tg_buf_free(&b);
}

static void test_yaml_rejects_too_many_anchors(void **state)
{
	tg_buf b;
	const char *msg;
	int i;

	(void)state;
	tg_buf_init(&b, 1u << 20);
	for (i = 0; i <= TG_MAX_YAML_ANCHORS; i++)
		assert_int_equal(tg_buf_printf(&b, "- &a%d x\n", i), 0);
	msg = parse_bad(b.data, b.len, TG_ETOOBIG);
	assert_contains(msg, "x.yaml:10001:3: more than 10000 anchors");
	tg_buf_free(&b);
}

static void test_yaml_rejects_bad_scalars(void **state)
{
	const char *msg;

	(void)state;
	/* a tagged value is never quoted (it may be a Secret's; issue 13):
	 * the message gives its size, the tag and the key */
	msg = parse_bad("a: !!bool maybe\n", 16, TG_EPARSE);
	assert_contains(msg, "x.yaml:1:4: a value of 5 bytes is not a valid "
	                     "!!bool (the value is not shown); key \"a\"");
	assert_null(strstr(msg, "maybe"));
	msg = parse_bad("password: !!binary \"hunter2 not base64!\"\n", 41,
	                TG_EPARSE);
	assert_contains(msg, "x.yaml:1:11: a value of 19 bytes is not a valid "
	                     "!!binary (base64) (the value is not shown); key "
	                     "\"password\"");
	assert_null(strstr(msg, "hunter2"));
	msg = parse_bad("[!!null x]\n", 11, TG_EPARSE);
	assert_contains(msg, "a value of 1 bytes is not a valid !!null (the "
	                     "value is not shown)");
	assert_null(strstr(msg, "key"));
	msg = parse_bad("{? {a: 1} : b}", 14, TG_EPARSE);
	assert_contains(msg, "mapping key is a mapping");
	msg = parse_bad("a: !!merge <<\n", 14, TG_EPARSE);
	assert_contains(msg, "x.yaml:1:4: !!merge belongs only on the key");
	msg = parse_bad("!!map [1]", 9, TG_EPARSE);
	assert_contains(msg, "x.yaml:1:1: tag \"!!map\" on a sequence");
}

/* Deterministic pseudo-random numbers (a 64-bit LCG), so a failure can be
 * replayed. */
static uint64_t rng_state = 88172645463325252ull;

static unsigned rng(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(rng_state >> 33) % n;
}

/* One random edit of buf: replace, insert or cut, with YAML's
 * punctuation favoured. */
static void mutate(tg_buf *b)
{
	static const char special[] = "[]{}:-&*!|>'\"#\t\n ,?<%@`\\~0\xff";
	char c = rng(4) ? special[rng(sizeof(special) - 1)] : (char)rng(256);
	size_t at = b->len ? rng((unsigned)b->len) : 0;

	switch (rng(3)) {
	case 0:
		if (b->len)
			b->data[at] = c;
		break;
	case 1:
		assert_int_equal(tg_buf_append(b, "", 1),
		                 0); /* room for one more */
		memmove(b->data + at + 1, b->data + at, b->len - at - 1);
		b->data[at] = c;
		break;
	default:
		b->len = at;
		break;
	}
}

/* Parse one mutated text: it must parse, or fail with a located message. */
static void parse_mutant(const tg_buf *b)
{
	tg_yaml_docs *docs = NULL;
	int error = tg_yaml_parse(&docs, "m.yaml", b->data ? b->data : "",
	                          b->len, TG_YAML_POSITIONS);
	unsigned line;
	size_t i;

	if (error == 0) {
		for (i = 0; i < tg_yaml_docs_count(docs); i++) {
			tg_yaml_docs_line_at(&line, NULL, docs, i, "/0");
			tg_yaml_docs_line_at(&line, NULL, docs, i,
			                     "/spec/template/0");
			tg_yaml_docs_line_at(&line, NULL, docs, i, "/a~1b/~0");
		}
		tg_yaml_docs_free(docs);
		return;
	}
	assert_null(docs);
	if (error != TG_EPARSE && error != TG_ETOOBIG)
		fail_msg("unexpected code %d: %s", error, tg_error_last());
	assert_true(tg_str_has_prefix(tg_error_last(), "m.yaml:"));
}

/* Random edits of every good and bad file never crash, leak or give an
 * error without a position (run under ASan by tests/run.sh). */
static void test_yaml_survives_mutated_input(void **state)
{
	static const char *const files[] = {
		"good/anchors.yaml",    "good/block.yaml",
		"good/deployment.yaml", "good/json.json",
		"good/multidoc.yaml",   "good/scalars.yaml",
		"good/tags.yaml",       "bad/merge_laughs.yaml",
	};
	size_t f;
	int i, j;

	(void)state;
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char *rel = tg_aprintf("tests/data/yaml/%s", files[f]);
		size_t len;
		char *text = tt_read_src(rel, &len);

		for (i = 0; i < 250; i++) {
			tg_buf b;

			tg_buf_init(&b, 1u << 20);
			assert_int_equal(tg_buf_append(&b, text, len), 0);
			for (j = rng(4); j >= 0; j--)
				mutate(&b);
			parse_mutant(&b);
			tg_buf_free(&b);
		}
		free(text);
		free(rel);
	}
}

/* Comparison with python3-yaml ------------------------------------------ */

/*
 * Where we differ from python3-yaml's safe_load_all on purpose: the value
 * python gives, the value we give, and why. Every other node must be equal.
 */
struct py_diff {
	const char *file;
	const char *pointer; /* into the array of documents */
	const char *python;
	const char *ours;
	const char *reason;
};

static const struct py_diff py_diffs[] = {
	{ "scalars.yaml", "/0/bools/18", "\"y\"", "true",
	  "go-yaml v2 (kubectl) and the YAML 1.1 bool type include y/n" },
	{ "scalars.yaml", "/0/bools/19", "\"Y\"", "true", "same" },
	{ "scalars.yaml", "/0/bools/20", "\"n\"", "false", "same" },
	{ "scalars.yaml", "/0/bools/21", "\"N\"", "false", "same" },
	{ "scalars.yaml", "/0/ints/6", "\"0X1f\"", "31",
	  "Go's ParseInt takes 0X as well as 0x" },
	{ "scalars.yaml", "/0/ints/8", "\"0o17\"", "15",
	  "Go's ParseInt takes the 0o octal prefix" },
	{ "scalars.yaml", "/0/floats/3", "\"+.5\"", "0.5",
	  "go-yaml's float pattern allows a sign before '.'" },
	{ "scalars.yaml", "/0/floats/6", "\"1e3\"", "1000",
	  "go-yaml's float pattern needs no '.' and no exponent sign" },
	{ "scalars.yaml", "/0/floats/10", "\"1e20\"", "1e20", "same" },
	{ "scalars.yaml", "/0/strings/3", "685230", "\"190:20:30\"",
	  "go-yaml has no sexagesimal numbers" },
	{ "scalars.yaml", "/0/octal_decimal/0", "\"08\"", "8",
	  "not octal, so go-yaml's float pattern reads it as 8" },
	{ "tags.yaml", "/0/nonspecific", "12", "\"12\"",
	  "the non-specific tag \"!\" makes a string (YAML spec, go-yaml)" },
	{ "tags.yaml", "/0/timestamp", "\"2001-12-14T21:59:43.100000-05:00\"",
	  "\"2001-12-14t21:59:43.10-05:00\"",
	  "go-yaml keeps timestamps as the text written" },
	{ "json.json", "/0/list/2", "\"3e2\"", "300",
	  "go-yaml's float pattern, as for 1e3" },
	{ "float_keys.yaml", "/0",
	  "{\"2.0\": \"two\", \"1.5\": \"one and a half\"}",
	  "{\"2\": \"two\", \"1.5\": \"one and a half\"}",
	  "sigs.k8s.io/yaml writes float keys with Go's %g" },
};

/* Node at an RFC 6901 pointer (no escapes needed in the table). */
static json_t *pointer_get(json_t *v, const char *ptr)
{
	char seg[256];

	while (v && *ptr == '/') {
		size_t n = strcspn(ptr + 1, "/");

		assert_true(n < sizeof(seg));
		memcpy(seg, ptr + 1, n);
		seg[n] = '\0';
		ptr += 1 + n;
		if (json_is_array(v))
			v = json_array_get(v, strtoul(seg, NULL, 10));
		else
			v = json_object_get(v, seg);
	}
	return v;
}

/* Replace the node at ptr in root (a container) with a copy of with. */
static void pointer_set(json_t *root, const char *ptr, json_t *with)
{
	const char *last = strrchr(ptr, '/');
	char *parent_ptr = tg_strndup(ptr, (size_t)(last - ptr));
	json_t *parent = pointer_get(root, parent_ptr);

	assert_non_null(parent);
	if (json_is_array(parent))
		json_array_set(parent, strtoul(last + 1, NULL, 10), with);
	else
		json_object_set(parent, last + 1, with);
	free(parent_ptr);
}

/* Equal, with 1 and 1.0 the same number (Go and Python write floats
 * differently) but true and 1 different. */
static bool same_json(json_t *a, json_t *b)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (i = 0; i < json_array_size(a); i++)
			if (!same_json(json_array_get(a, i),
			               json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach(a, key, v) {
			json_t *w = json_object_get(b, key);

			if (!w || !same_json(v, w))
				return false;
		}
		return true;
	}
	return json_equal(a, b);
}

static json_t *python_load(const char *path)
{
	char *script = tt_src_path("tests/tools/yaml_pyload.py");
	/* Debian's python3 and python3-yaml (tests/run.sh installs them),
	 * whatever python3 comes first on PATH. */
	const char *py = access("/usr/bin/python3", X_OK) == 0
	                         ? "/usr/bin/python3"
	                         : "python3";
	char *cmd = tg_aprintf("%s '%s' '%s'", py, script, path);
	FILE *f = popen(cmd, "r");
	tg_buf out;
	char chunk[4096];
	size_t n;
	json_t *v;
	json_error_t jerr;

	assert_non_null(f);
	tg_buf_init(&out, 16u << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(tg_buf_append(&out, chunk, n), 0);
	if (pclose(f) != 0)
		fail_msg("python3-yaml failed on %s", path);
	v = json_loadb(out.data ? out.data : "", out.len, 0, &jerr);
	if (!v)
		fail_msg("python output for %s: %s", path, jerr.text);
	tg_buf_free(&out);
	free(cmd);
	free(script);
	return v;
}

static json_t *ours_load(const char *path)
{
	tg_yaml_docs *docs = NULL;
	json_t *all = json_array();
	size_t i;

	if (tg_yaml_parse_file(&docs, path, 0) < 0)
		fail_msg("%s", tg_error_last());
	for (i = 0; i < tg_yaml_docs_count(docs); i++)
		json_array_append(all, tg_yaml_docs_get(docs, i));
	tg_yaml_docs_free(docs);
	return all;
}

static void compare_with_python(const char *dir, const char *name, size_t *used)
{
	char *path = tg_path_join(dir, name);
	json_t *py = python_load(path), *ours = ours_load(path);
	size_t i;

	for (i = 0; i < sizeof(py_diffs) / sizeof(py_diffs[0]); i++) {
		const struct py_diff *d = &py_diffs[i];
		json_t *want_py, *want_ours;

		if (strcmp(d->file, name) != 0)
			continue;
		want_py = json_loads(d->python, JSON_DECODE_ANY, NULL);
		want_ours = json_loads(d->ours, JSON_DECODE_ANY, NULL);
		if (!same_json(pointer_get(py, d->pointer), want_py) ||
		    !same_json(pointer_get(ours, d->pointer), want_ours))
			fail_msg("%s %s: listed difference not seen", name,
			         d->pointer);
		pointer_set(py, d->pointer, want_ours);
		json_decref(want_py);
		json_decref(want_ours);
		(*used)++;
	}
	if (!same_json(py, ours)) {
		char *a = json_dumps(py, JSON_SORT_KEYS | JSON_COMPACT);
		char *b = json_dumps(ours, JSON_SORT_KEYS | JSON_COMPACT);

		fail_msg("%s differs from python3-yaml:\npython: %s\nours:   "
		         "%s",
		         name, a, b);
	}
	json_decref(py);
	json_decref(ours);
	free(path);
}

static void test_yaml_matches_python_yaml(void **state)
{
	char *dir = tt_src_path("tests/data/yaml/good");
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t files = 0, used = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		compare_with_python(dir, e->d_name, &used);
		files++;
	}
	closedir(d);
	assert_true(files >= 10);
	/* Every listed difference belongs to a file that exists. */
	assert_int_equal(used, sizeof(py_diffs) / sizeof(py_diffs[0]));
	free(dir);
}

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
		cmocka_unit_test(test_yaml_rejects_bad_files),
		cmocka_unit_test(test_yaml_rejects_billion_laughs),
		cmocka_unit_test(test_yaml_rejects_deep_nesting),
		cmocka_unit_test(test_yaml_rejects_too_many_documents),
		cmocka_unit_test(test_yaml_rejects_huge_scalar_and_file),
		cmocka_unit_test(test_yaml_rejects_aliases_of_huge_scalars),
		cmocka_unit_test(test_yaml_rejects_too_many_nodes),
		cmocka_unit_test(test_yaml_rejects_too_many_anchors),
		cmocka_unit_test(test_yaml_rejects_bad_scalars),
		cmocka_unit_test(test_yaml_survives_mutated_input),
		cmocka_unit_test(test_yaml_matches_python_yaml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
