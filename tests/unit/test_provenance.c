/* Tests of the SLSA provenance check on real v0.2 and v1 predicates, and
 * of the image age check. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/image_age.h"
#include "tollgate/predicate.h"
#include "tollgate/provenance.h"
#include "tollgate/util.h"

typedef struct loaded {
	json_t *statement;
	json_t *predicate; /* borrowed from statement */
	tg_predicate_kind kind;
} loaded;

/* The JSON of a test file: a bad/ file's "# error:" first line is cut. */
static json_t *parse_test_json(const char *rel, json_error_t *err)
{
	size_t len, skip = 0;
	char *data = tt_read_src(rel, &len);
	json_t *v;

	if (strncmp(data, "# error:", 8) == 0)
		while (skip < len && data[skip++] != '\n')
			;
	v = json_loadb(data + skip, len - skip, JSON_REJECT_DUPLICATES, err);
	free(data);
	return v;
}

static loaded load(const char *rel)
{
	json_error_t err;
	loaded l;

	l.statement = parse_test_json(rel, &err);
	if (l.statement == NULL)
		fail_msg("%s: %s", rel, err.text);
	l.predicate = json_object_get(l.statement, "predicate");
	l.kind = tg_predicate_kind_of(json_string_value(
	        json_object_get(l.statement, "predicateType")));
	return l;
}

/* Settings with the given conditions; regexps compiled (freed by
 * free_settings). */
static tg_policy_provenance settings(const char *builder,
                                     const char *builder_re,
                                     const char *source,
                                     const char *source_re)
{
	tg_policy_provenance s;
	tg_regexp *re;

	memset(&s, 0, sizeof(s));
	s.present = s.required = true;
	s.builder_id = builder;
	s.source_repository = source;
	if (builder_re != NULL) {
		assert_int_equal(tg_regexp_compile(&re, builder_re), 0);
		s.builder_id_regexp = re;
	}
	if (source_re != NULL) {
		assert_int_equal(tg_regexp_compile(&re, source_re), 0);
		s.source_repository_regexp = re;
	}
	return s;
}

static void free_settings(tg_policy_provenance *s)
{
	tg_regexp_free((tg_regexp *)s->builder_id_regexp);
	tg_regexp_free((tg_regexp *)s->source_repository_regexp);
}

static tg_check *run(const char *rel, const tg_policy_provenance *s)
{
	loaded l = load(rel);
	tg_check *c = NULL;

	assert_int_equal(tg_provenance_check(&c, l.kind, l.predicate, s), 0);
	json_decref(l.statement);
	return c;
}

static const char *ev(const tg_check *c, const char *key)
{
	return json_string_value(json_object_get(tg_check_evidence(c), key));
}

static void test_provenance_v02_real(void **state)
{
	tg_policy_provenance s =
	        settings("https://github.com/actions/runner", NULL,
	                 "https://github.com/sigstore/sigstore-js", NULL);
	tg_check *c;

	(void)state;
	c = run("tests/data/provenance/good/sigstore-js-1.3.0-slsa-v0.2.json",
	        &s);
	if (!tg_check_passed(c))
		fail_msg("%s", tg_check_reason(c, 0));
	assert_string_equal(ev(c, "slsaVersion"), "v0.2");
	assert_string_equal(ev(c, "builderId"),
	                    "https://github.com/actions/runner");
	assert_string_equal(
	        ev(c, "sourceRepository"),
	        "git+https://github.com/sigstore/sigstore-js@refs/heads/main");
	assert_string_equal(ev(c, "buildType"),
	                    "https://github.com/npm/cli/gha/v2");
	tg_check_free(c);
}

static void test_provenance_v1_real(void **state)
{
	tg_policy_provenance s = settings(
	        NULL, "^https://github\\.com/actions/runner/github-hosted$",
	        NULL, "^https://github\\.com/sigstore/");
	tg_check *c;

	(void)state;
	c = run("tests/data/provenance/good/sigstore-js-2.0.0-slsa-v1.json",
	        &s);
	if (!tg_check_passed(c))
		fail_msg("%s", tg_check_reason(c, 0));
	assert_string_equal(ev(c, "slsaVersion"), "v1");
	assert_string_equal(ev(c, "sourceRepository"),
	                    "https://github.com/sigstore/sigstore-js");
	tg_check_free(c);
	free_settings(&s);
}

static void test_provenance_wrong_builder_and_source(void **state)
{
	tg_policy_provenance s =
	        settings("https://github.com/actions/runner/github-hosted",
	                 NULL, "https://github.com/acme/api", NULL);
	tg_check *c;

	(void)state;
	c = run("tests/data/provenance/good/conformance-aa-test-slsa-v1.json",
	        &s);
	assert_false(tg_check_passed(c));
	assert_int_equal(tg_check_reason_count(c), 2);
	assert_contains(tg_check_reason(c, 0),
	                "builder \"https://github.com/loosebazooka/aa-test/"
	                ".github/workflows/provenance.yaml@refs/heads/main\" "
	                "is not \"https://github.com/actions/runner/"
	                "github-hosted\"");
	assert_contains(tg_check_reason(c, 1),
	                "source repository "
	                "\"https://github.com/loosebazooka/aa-test\" is not "
	                "\"https://github.com/acme/api\"");
	tg_check_free(c);
}

static void test_provenance_v1_source_descriptor_normalised(void **state)
{
	/* "git+https://gitlab.example.com/acme/api.git@refs/tags/v2.4.1"
	 * is the repository https://gitlab.example.com/acme/api */
	tg_policy_provenance s =
	        settings("https://tekton.example.com/chains/v2", NULL,
	                 "https://gitlab.example.com/acme/api", NULL);
	tg_policy_provenance bad = settings(
	        NULL, NULL, "https://gitlab.example.com/acme/ap", NULL);
	tg_check *c;
	loaded l;
	int64_t t, want;

	(void)state;
	c = run("tests/data/provenance/good/tekton-chains-slsa-v1.json", &s);
	if (!tg_check_passed(c))
		fail_msg("%s", tg_check_reason(c, 0));
	tg_check_free(c);
	c = run("tests/data/provenance/good/tekton-chains-slsa-v1.json", &bad);
	assert_false(tg_check_passed(c));
	tg_check_free(c);
	l = load("tests/data/provenance/good/tekton-chains-slsa-v1.json");
	assert_int_equal(tg_predicate_time(&t, l.kind, l.predicate), 0);
	assert_int_equal(tg_parse_rfc3339(&want, "2026-11-19T22:03:47Z"), 0);
	assert_int_equal(t, want);
	json_decref(l.statement);
}

static void test_provenance_missing_fields_fail_only_when_asked(void **state)
{
	tg_policy_provenance none = settings(NULL, NULL, NULL, NULL);
	tg_policy_provenance s = settings("https://x", NULL, NULL, "acme");
	tg_check *c;

	(void)state;
	c = run("tests/data/provenance/bad/no-builder-no-source.json", &none);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
	c = run("tests/data/provenance/bad/no-builder-no-source.json", &s);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "no builder id");
	assert_contains(tg_check_reason(c, 1), "names no source repository");
	tg_check_free(c);
	free_settings(&s);
}

/* The check failed, with a reason holding expected. */
static void
assert_failed_with(const tg_check *c, const char *expected, const char *name)
{
	size_t i;

	assert_false(tg_check_passed(c));
	for (i = 0; i < tg_check_reason_count(c); i++)
		if (strstr(tg_check_reason(c, i), expected) != NULL)
			return;
	fail_msg("%s: no reason holds \"%s\"", name, expected);
}

/* A bad/ file: a statement whose provenance fails when a builder id and
 * a source repository are required. */
static void provenance_bad_case(const tt_bad_case *bc, void *ctx)
{
	tg_policy_provenance s = settings("https://x", NULL, NULL, "acme");
	json_error_t err;
	json_t *doc = json_loadb(bc->input, bc->input_len,
	                         JSON_REJECT_DUPLICATES, &err);
	tg_check *c = NULL;

	(void)ctx;
	if (doc == NULL)
		fail_msg("%s: %s", bc->name, err.text);
	assert_int_equal(
	        tg_provenance_check(
	                &c,
	                tg_predicate_kind_of(json_string_value(
	                        json_object_get(doc, "predicateType"))),
	                json_object_get(doc, "predicate"), &s),
	        0);
	assert_failed_with(c, bc->expected, bc->name);
	tg_check_free(c);
	json_decref(doc);
	free_settings(&s);
}

static void test_provenance_bad_folder(void **state)
{
	(void)state;
	tt_each_bad_case("tests/data/provenance/bad", ".json",
	                 provenance_bad_case, NULL);
}

static void test_provenance_not_slsa(void **state)
{
	tg_policy_provenance s = settings(NULL, NULL, NULL, NULL);
	json_t *o = json_object();
	tg_check *c;

	(void)state;
	assert_int_equal(tg_provenance_check(&c, TG_PREDICATE_SPDX, o, &s), 0);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "not SLSA provenance");
	tg_check_free(c);
	json_decref(o);
}

static void test_provenance_image_age(void **state)
{
	json_t *cfg = json_pack("{s:s}", "created", "2026-08-01T00:00:00Z");
	json_t *nocfg = json_object();
	const char *why = NULL;
	int64_t now;
	tg_check *c;

	(void)state;
	assert_int_equal(tg_parse_rfc3339(&now, "2026-11-21T00:00:00Z"), 0);
	assert_int_equal(tg_image_age_check(&c, cfg, 120 * 86400, now), 0);
	assert_true(tg_check_passed(c));
	assert_int_equal(json_integer_value(json_object_get(
	                         tg_check_evidence(c), "ageSeconds")),
	                 112 * 86400);
	/* It holds until the image is maxImageAge old (issue 13). */
	assert_int_equal(tg_check_valid_until(c, &why), now + 8 * 86400);
	assert_contains(why, "maxImageAge: image created 2026-08-01");
	tg_check_free(c);
	assert_int_equal(tg_image_age_check(&c, cfg, 30 * 86400, now), 0);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "image created "
	                                       "2026-08-01T00:00:00Z is older "
	                                       "than maxImageAge 30d");
	tg_check_free(c);
	assert_int_equal(tg_image_age_check(&c, nocfg, 30 * 86400, now), 0);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "no valid \"created\"");
	tg_check_free(c);
	assert_int_equal(tg_image_age_check(&c, nocfg, 0, now), 0);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
	json_decref(cfg);
	json_decref(nocfg);
}

static void test_provenance_regexp_refuses_re2_syntax(void **state)
{
	tg_regexp *re;

	(void)state;
	assert_int_equal(tg_regexp_compile(&re, "^v\\d+$"), TG_EINVALID);
	assert_contains(tg_error_last(), "\\d is RE2/Perl syntax");
	assert_int_equal(tg_regexp_compile(&re, "(?i)acme"), TG_EINVALID);
	assert_int_equal(tg_regexp_compile(&re, "a.*?b"), TG_EINVALID);
	assert_contains(tg_error_last(), "lazy quantifier");
	assert_int_equal(tg_regexp_compile(&re, "[\\d]"), TG_EINVALID);
	assert_int_equal(tg_regexp_compile(&re, "a(b"), TG_EINVALID);
	assert_contains(tg_error_last(), "bad regular expression");
	assert_int_equal(tg_regexp_compile(&re, "^v[0-9]+\\.[0-9]+$"), 0);
	assert_true(tg_regexp_match(re, "v1.22"));
	assert_false(tg_regexp_match(re, "v1x22"));
	tg_regexp_free(re);
	/* brackets with '*?' inside are literals, not lazy quantifiers */
	assert_int_equal(tg_regexp_compile(&re, "x[*?]y"), 0);
	assert_true(tg_regexp_match(re, "ax?yb"));
	tg_regexp_free(re);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provenance_v02_real),
		cmocka_unit_test(test_provenance_v1_real),
		cmocka_unit_test(test_provenance_wrong_builder_and_source),
		cmocka_unit_test(
		        test_provenance_v1_source_descriptor_normalised),
		cmocka_unit_test(
		        test_provenance_missing_fields_fail_only_when_asked),
		cmocka_unit_test(test_provenance_bad_folder),
		cmocka_unit_test(test_provenance_not_slsa),
		cmocka_unit_test(test_provenance_image_age),
		cmocka_unit_test(test_provenance_regexp_refuses_re2_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
