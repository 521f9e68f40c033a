/*
 * The status files' writer (reconciler/report/statusjson.c) against
 * jansson: every document, shaped like a status or made at random with
 * shared entries, must come out byte for byte as json_dump_callback with
 * JSON_INDENT(2) | JSON_SORT_KEYS writes it, and fail where jansson fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../reconciler/report/statusdoc_int.h"
#include "testlib.h"
#include "tollgate/buf.h"

#define FLAGS (JSON_INDENT(2) | JSON_SORT_KEYS)

static int put_buf(const char *p, size_t n, void *ctx)
{
	return tg_buf_append(ctx, p, n) < 0 ? -1 : 0;
}

/* Written by the writer: its text in *out (caller frees), or -1. */
static int written(char **out, const json_t *v, const tg_status_frags *f)
{
	tg_buf b;
	int rc;

	tg_buf_init(&b, 64u * 1024 * 1024);
	rc = tg_status_json_write(v, f, put_buf, &b);
	*out = tg_buf_detach(NULL, &b);
	return rc;
}

/* The writer, with and without frags, writes what jansson writes, and
 * fails where jansson fails. */
static void assert_as_jansson(const json_t *v, const tg_status_frags *f)
{
	char *want = json_dumps(v, FLAGS), *got = NULL;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		int rc = written(&got, v, pass ? NULL : f);

		if (want) {
			assert_int_equal(rc, 0);
			assert_string_equal(got, want);
		} else {
			assert_int_equal(rc, -1);
		}
		free(got);
	}
	free(want);
}

static json_t *image_entry(const char *ref, double score)
{
	return json_pack("{s:s,s:s,s:[{s:s,s:{s:[{s:s,s:s}],s:i},s:[],s:[]}],"
	                 "s:f,s:{},s:[]}",
	                 "ref", ref, "verdict", "allowed", "checks", "name",
	                 "signature", "evidence", "authorities", "name",
	                 "release-key", "signer", "sha256:ab\"c\\d\n", "seen",
	                 1, "notes", "reasons", "score", score, "empty",
	                 "none");
}

/* A status document: units sharing image entries, a unit's file made
 * from it as status.c makes it. */
static void test_status_shaped(void **state)
{
	json_t *e1 = image_entry("127.0.0.1:5000/app:v1", 0.1);
	json_t *e2 = image_entry("reg.example/\xc3\xa9t\xc3\xa9:v2", 1e300);
	json_t *doc = json_pack(
	        "{s:s,s:i,s:[],s:{s:{s:[O,O,O],s:[{s:s,s:s,s:s}],s:s},"
	        "s:{s:[O],s:[],s:s,s:{s:{s:{s:{s:{s:[i,i,{}]}}}}}},s:{}}}",
	        "sourceCommit", "0123abcd", "count", -42, "drift", "units",
	        "team-a", "images", e1, e2, e1, "objects", "apiVersion", "v1",
	        "kind", "ConfigMap", "name", "a\tb", "verdict", "applied",
	        "team \"b\"", "images", e2, "objects", "verdict", "blocked",
	        "deep", "a", "b", "c", "d", "e", 1, 2, "empty-unit");
	tg_status_frags *f = tg_status_frags_new(doc);
	const char *name;
	json_t *u;

	(void)state;
	assert_non_null(doc);
	assert_as_jansson(doc, f);
	json_object_foreach(json_object_get(doc, "units"), name, u) {
		json_t *d = json_copy(u);

		json_object_set_new(d, "unit", json_string(name));
		json_object_set(d, "sourceCommit",
		                json_object_get(doc, "sourceCommit"));
		assert_as_jansson(d, f);
		json_decref(d);
	}
	tg_status_frags_free(f);
	json_decref(e1);
	json_decref(e2);
	json_decref(doc);
}

/* The entries are taken as text when the set is made: a change after it
 * is not seen (status.c makes the set once the document is done). That
 * the stale text shows proves the copies are used. */
static void test_frags_are_copied(void **state)
{
	json_t *e = image_entry("r:1", 2.5);
	json_t *doc =
	        json_pack("{s:{s:{s:[O,O]}}}", "units", "u", "images", e, e);
	tg_status_frags *f = tg_status_frags_new(doc);
	char *got = NULL, *before = json_dumps(doc, FLAGS);

	(void)state;
	json_object_set_new(e, "late", json_true());
	assert_int_equal(written(&got, doc, f), 0);
	assert_string_equal(got, before);
	assert_null(strstr(got, "late"));
	free(got);
	assert_int_equal(written(&got, doc, NULL), 0);
	assert_non_null(strstr(got, "late"));
	free(got);
	free(before);
	tg_status_frags_free(f);
	json_decref(e);
	json_decref(doc);
}

/* Strings that are not UTF-8 (values and keys, at every depth) come out
 * as jansson writes them, or fail as it fails; a scalar is no document;
 * a cycle fails instead of recursing. */
static void test_odd_input(void **state)
{
	json_t *bad = json_stringn_nocheck("a\xff", 2), *doc, *deep;
	char *got = NULL;
	int depth;

	(void)state;
	deep = json_object();
	json_object_set(deep, "s", bad);
	json_object_setn_nocheck(deep, "k\xfe", 2, json_true());
	for (depth = 0; depth < 7; depth++) {
		json_t *up = json_object();

		json_object_set(up, depth % 2 ? "k" : "j", deep);
		json_object_setn_nocheck(up, "\xc3", 1, bad);
		json_decref(deep);
		deep = up;
		assert_as_jansson(deep, NULL);
	}
	json_decref(deep);
	assert_int_equal(written(&got, bad, NULL), -1);
	free(got);
	json_decref(bad);
	doc = json_object();
	deep = json_array();
	json_object_set(doc, "a", deep);
	json_array_append(deep, doc);
	assert_null(json_dumps(doc, FLAGS));
	assert_int_equal(written(&got, doc, NULL), -1);
	free(got);
	json_array_clear(deep);
	json_decref(deep);
	json_decref(doc);
}

/* Random documents ---------------------------------------------------------
 */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const words[] = {
	"",       "a",           "aa",   "b",
	"a\"b",   "back\\slash", "\n",   "tab\there",
	"\x01",   "\xc3\xa9",    "z",    "Z",
	"a b",    "/",           "~",    "\xe2\x80\xa8",
	"images", "units",       "\x7f", "ab",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static json_t *shared[8];

static json_t *random_value(int depth)
{
	unsigned k = rnd(depth > 6 ? 9 : 13);
	json_t *v;
	unsigned i, n;

	switch (k) {
	case 0:
		return json_integer((json_int_t)rnd(1000) - 500);
	case 1:
		return json_integer(rnd(2) ? INT64_MAX : INT64_MIN);
	case 2:
		return json_real((double)rnd(100000) / 7.0 - 3.0);
	case 3:
		return json_real(rnd(2) ? 1e-300 : -0.0);
	case 4:
		return json_true();
	case 5:
		return json_null();
	case 6:
		return json_false();
	case 7:
	case 8:
		return json_string(words[rnd(NWORDS)]);
	case 9:
	case 10:
		v = json_object();
		n = rnd(5);
		for (i = 0; i < n; i++)
			json_object_set_new(v, words[rnd(NWORDS)],
			                    random_value(depth + 1));
		if (rnd(4) == 0)
			json_object_setn_new_nocheck(v, "k\0nul", 5,
			                             random_value(depth + 1));
		return v;
	case 11:
		v = json_array();
		n = rnd(5);
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = shared[rnd(8)];
		return v ? json_incref(v) : json_null();
	}
}

/* A key for the doc's other members: never "units", which would free
 * the units object the test goes on to walk (inside jansson, where
 * AddressSanitizer does not look). */
static const char *doc_word(void)
{
	const char *w;

	do
		w = words[rnd(NWORDS)];
	while (strcmp(w, "units") == 0);
	return w;
}

/* Documents shaped as a status at the top, random below, with entries
 * shared between units and at other depths. */
static void test_random_documents(void **state)
{
	int round;
	size_t i;

	(void)state;
	for (round = 0; round < 20000; round++) {
		json_t *doc = json_object(), *units = json_object();
		tg_status_frags *f;
		unsigned n = rnd(4), j;
		const char *name;
		json_t *u;

		memset(shared, 0, sizeof(shared));
		for (i = 0; i < 8; i++)
			shared[i] = random_value(4);
		for (j = 0; j < n; j++) {
			json_t *unit = rnd(6) ? json_object() : json_array();
			json_t *imgs = json_array();
			unsigned m = rnd(5), k;

			for (k = 0; k < m; k++)
				json_array_append_new(
				        imgs,
				        rnd(3) ? json_incref(shared[rnd(8)])
				               : random_value(3));
			if (json_is_object(unit)) {
				json_object_set_new(unit, "images", imgs);
				json_object_set_new(unit, words[rnd(NWORDS)],
				                    random_value(3));
			} else {
				json_array_append_new(unit, imgs);
			}
			json_object_set_new(units, words[rnd(NWORDS)], unit);
		}
		json_object_set_new(doc, "units", units);
		json_object_set_new(doc, doc_word(), random_value(1));
		json_object_set_new(doc, doc_word(),
		                    json_incref(shared[rnd(8)]));
		/* The walk below reads units: the doc must still hold it. */
		assert_ptr_equal(json_object_get(doc, "units"), units);
		f = tg_status_frags_new(doc);
		assert_as_jansson(doc, f);
		json_object_foreach(units, name, u)
			if (json_is_object(u) || json_is_array(u))
				assert_as_jansson(u, f);
		tg_status_frags_free(f);
		json_decref(doc);
		for (i = 0; i < 8; i++)
			json_decref(shared[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_shaped),
		cmocka_unit_test(test_frags_are_copied),
		cmocka_unit_test(test_odd_input),
		cmocka_unit_test(test_random_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
