/* Tests of the YAML reader on hostile input (bad files, billion laughs,
 * deep nesting, too many documents, nodes or anchors, huge scalars,
 * mutated input), and a comparison with python3-yaml on every file of
 * tests/data/yaml/good/. */
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
#include "yaml_test.h"

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
