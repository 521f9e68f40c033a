/* Tests of the SBOM predicate checks and version constraints, on SBOMs
 * made by real generators (cyclonedx-npm, npm sbom). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/predicate.h"
#include "tollgate/sbom.h"
#include "tollgate/util.h"

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

static json_t *load_json(const char *rel)
{
	json_error_t err;
	json_t *v = parse_test_json(rel, &err);

	if (v == NULL)
		fail_msg("%s: %s", rel, err.text);
	return v;
}

static tg_policy_sbom base_settings(void)
{
	tg_policy_sbom s;

	memset(&s, 0, sizeof(s));
	s.present = true;
	s.required = true;
	s.formats = TG_SBOM_FORMAT_SPDX | TG_SBOM_FORMAT_CYCLONEDX;
	return s;
}

/* The check of a bare SBOM document (as the predicate). */
static tg_check *
check_doc(const char *rel, tg_predicate_kind kind, const tg_policy_sbom *s)
{
	json_t *doc = load_json(rel);
	tg_check *c = NULL;

	assert_int_equal(tg_sbom_check(&c, kind, doc, s), 0);
	assert_non_null(c);
	json_decref(doc);
	return c;
}

/* Every reason joined, for substring checks. */
static char *reasons(const tg_check *c)
{
	size_t i, n = 1;
	char *all;

	for (i = 0; i < tg_check_reason_count(c); i++)
		n += strlen(tg_check_reason(c, i)) + 1;
	all = calloc(1, n);
	for (i = 0; i < tg_check_reason_count(c); i++) {
		strcat(all, tg_check_reason(c, i));
		strcat(all, "\n");
	}
	return all;
}

static void test_sbom_predicate_types(void **state)
{
	(void)state;
	assert_int_equal(tg_predicate_kind_of("https://spdx.dev/Document"),
	                 TG_PREDICATE_SPDX);
	assert_int_equal(tg_predicate_kind_of("https://spdx.dev/Document/v2.3"),
	                 TG_PREDICATE_SPDX);
	assert_int_equal(tg_predicate_kind_of("https://cyclonedx.org/bom"),
	                 TG_PREDICATE_CYCLONEDX);
	assert_int_equal(tg_predicate_kind_of("https://cyclonedx.org/bom/v1.5"),
	                 TG_PREDICATE_CYCLONEDX);
	assert_int_equal(tg_predicate_kind_of("https://cyclonedx.org/bom/x"),
	                 TG_PREDICATE_UNKNOWN);
	assert_int_equal(tg_predicate_kind_of("https://spdx.dev/Documents"),
	                 TG_PREDICATE_UNKNOWN);
	assert_int_equal(tg_predicate_kind_of(NULL), TG_PREDICATE_UNKNOWN);
}

static void test_sbom_cyclonedx_real_passes_with_evidence(void **state)
{
	tg_policy_sbom s = base_settings();
	tg_check *c;
	json_t *ev;

	(void)state;
	c = check_doc("tests/data/sbom/good/npm-cyclonedx-1.5.json",
	              TG_PREDICATE_CYCLONEDX, &s);
	assert_true(tg_check_passed(c));
	ev = tg_check_evidence(c);
	assert_string_equal(json_string_value(json_object_get(ev, "format")),
	                    "cyclonedx");
	assert_string_equal(
	        json_string_value(json_object_get(ev, "specVersion")), "1.5");
	/* 5 direct components and ms 2.1.2 nested under debug */
	assert_int_equal(json_integer_value(json_object_get(ev, "packages")),
	                 6);
	tg_check_free(c);
}

static void test_sbom_all_cyclonedx_versions_accepted(void **state)
{
	tg_policy_sbom s = base_settings();
	const char *files[] = {
		"tests/data/sbom/good/npm-cyclonedx-1.4.json",
		"tests/data/sbom/good/npm-cyclonedx-1.6.json",
		"tests/data/sbom/good/cyclonedx-1.6-maven.json"
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		tg_check *c = check_doc(files[i], TG_PREDICATE_CYCLONEDX, &s);

		if (!tg_check_passed(c))
			fail_msg("%s: %s", files[i], tg_check_reason(c, 0));
		tg_check_free(c);
	}
}

static void test_sbom_denied_license_in_or_expression(void **state)
{
	tg_policy_sbom s = base_settings();
	const char *denied[] = { "GPL-2.0", "WTFPL" };
	tg_check *c;
	json_t *found;
	char *r;

	(void)state;
	s.denied_licenses = denied;
	s.ndenied_licenses = 2;
	c = check_doc("tests/data/sbom/good/npm-cyclonedx-1.5.json",
	              TG_PREDICATE_CYCLONEDX, &s);
	assert_false(tg_check_passed(c));
	r = reasons(c);
	/* node-forge is "(BSD-3-Clause OR GPL-2.0)": a denied id anywhere
	 * in the expression counts */
	assert_contains(r, "node-forge 1.3.1 carries denied license GPL-2.0");
	assert_contains(r, "left-pad 1.3.0 carries denied license WTFPL");
	found = json_object_get(tg_check_evidence(c), "deniedLicenses");
	assert_int_equal(json_array_size(found), 2);
	free(r);
	tg_check_free(c);
}

static void test_sbom_spdx_real_licenses_and_packages(void **state)
{
	tg_policy_sbom s = base_settings();
	const char *denied[] = { "wtfpl" }; /* ids are case-insensitive */
	tg_policy_denied_package pkgs[] = { { "semver", "<5.7.2" },
		                            { "ms", ">=2.1.3" } };
	tg_check *c;
	char *r;
	json_t *ev;

	(void)state;
	s.denied_licenses = denied;
	s.ndenied_licenses = 1;
	s.denied_packages = pkgs;
	s.ndenied_packages = 2;
	c = check_doc("tests/data/sbom/good/npm-spdx-2.3.json",
	              TG_PREDICATE_SPDX, &s);
	assert_false(tg_check_passed(c));
	r = reasons(c);
	assert_contains(r, "left-pad 1.3.0 carries denied license wtfpl");
	assert_contains(r, "semver 5.7.1 is denied by version constraint "
	                   "<5.7.2");
	assert_contains(r, "ms 2.1.3 is denied");
	/* ms 2.1.2 (under debug) is outside >=2.1.3 */
	assert_null(strstr(r, "ms 2.1.2"));
	ev = tg_check_evidence(c);
	assert_string_equal(json_string_value(json_object_get(ev, "format")),
	                    "spdx");
	assert_string_equal(
	        json_string_value(json_object_get(ev, "specVersion")),
	        "SPDX-2.3");
	assert_int_equal(json_integer_value(json_object_get(ev, "packages")),
	                 7);
	assert_int_equal(json_array_size(json_object_get(ev, "deniedPackages")),
	                 2);
	free(r);
	tg_check_free(c);
}

static void test_sbom_maven_group_with_and_names(void **state)
{
	tg_policy_sbom s = base_settings();
	/* GPL-2.0-only under WITH is a license; the exception id is not */
	const char *denied[] = { "GPL-2.0-only", "Universal-FOSS-exception-1.0",
		                 "LGPL-2.1-or-later" };
	tg_policy_denied_package pkgs[] = {
		{ "org.apache.logging.log4j:log4j-core", ">=2.0, <2.17.1" },
		{ "org.apache.logging.log4j/log4j-api", "<2.0" }
	};
	tg_check *c;
	char *r;

	(void)state;
	s.denied_licenses = denied;
	s.ndenied_licenses = 3;
	s.denied_packages = pkgs;
	s.ndenied_packages = 2;
	c = check_doc("tests/data/sbom/good/cyclonedx-1.6-maven.json",
	              TG_PREDICATE_CYCLONEDX, &s);
	assert_false(tg_check_passed(c));
	r = reasons(c);
	assert_contains(r, "log4j-core 2.14.1 is denied by version "
	                   "constraint >=2.0, <2.17.1");
	assert_null(strstr(r, "log4j-api"));
	assert_contains(r, "mysql-connector-java 8.0.28 carries denied "
	                   "license GPL-2.0-only");
	assert_null(strstr(r, "Universal-FOSS"));
	assert_contains(r, "hibernate-core 5.6.15.Final carries denied "
	                   "license LGPL-2.1-or-later");
	assert_int_equal(tg_check_reason_count(c), 3);
	free(r);
	tg_check_free(c);
}

static void test_sbom_format_not_allowed(void **state)
{
	tg_policy_sbom s = base_settings();
	tg_check *c;

	(void)state;
	s.formats = TG_SBOM_FORMAT_CYCLONEDX;
	c = check_doc("tests/data/sbom/good/npm-spdx-2.3.json",
	              TG_PREDICATE_SPDX, &s);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0),
	                "SBOM format spdx is not allowed");
	tg_check_free(c);
}

static void test_sbom_bad_documents_fail(void **state)
{
	tg_policy_sbom s = base_settings();
	tg_check *c;
	json_t *st;

	(void)state;
	c = check_doc("tests/data/sbom/bad/spdx-3.0.json", TG_PREDICATE_SPDX,
	              &s);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "no spdxVersion");
	tg_check_free(c);
	c = check_doc("tests/data/sbom/bad/cyclonedx-1.2.json",
	              TG_PREDICATE_CYCLONEDX, &s);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "specVersion \"1.2\" is not "
	                                       "supported");
	tg_check_free(c);
	/* SPDX tag-value that cosign wrapped in a JSON string */
	st = load_json("tests/data/sbom/bad/spdx-tag-value-string.json");
	assert_int_equal(tg_sbom_check(&c, TG_PREDICATE_SPDX,
	                               json_object_get(st, "predicate"), &s),
	                 0);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "not a JSON document");
	tg_check_free(c);
	/* a provenance predicate handed to the SBOM check */
	assert_int_equal(tg_sbom_check(&c, TG_PREDICATE_SLSA_V1, st, &s), 0);
	assert_false(tg_check_passed(c));
	tg_check_free(c);
	json_decref(st);
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

/* A bad/ file: a bare SBOM document (kind by its name, "spdx-" or
 * "cyclonedx-") or an in-toto statement carrying one. */
static void sbom_bad_case(const tt_bad_case *bc, void *ctx)
{
	tg_policy_sbom s = base_settings();
	tg_predicate_kind kind = tg_str_has_prefix(bc->name, "cyclonedx-")
	                                 ? TG_PREDICATE_CYCLONEDX
	                                 : TG_PREDICATE_SPDX;
	const json_t *pred;
	json_error_t err;
	json_t *doc = json_loadb(bc->input, bc->input_len,
	                         JSON_REJECT_DUPLICATES, &err);
	tg_check *c = NULL;

	(void)ctx;
	if (doc == NULL)
		fail_msg("%s: %s", bc->name, err.text);
	pred = json_object_get(doc, "predicateType") != NULL
	               ? json_object_get(doc, "predicate")
	               : doc;
	assert_int_equal(tg_sbom_check(&c, kind, pred, &s), 0);
	assert_failed_with(c, bc->expected, bc->name);
	tg_check_free(c);
	json_decref(doc);
}

static void test_sbom_bad_folder(void **state)
{
	(void)state;
	tt_each_bad_case("tests/data/sbom/bad", ".json", sbom_bad_case, NULL);
}

static void test_sbom_json_string_predicate_is_unwrapped(void **state)
{
	tg_policy_sbom s = base_settings();
	const char *denied[] = { "ISC" };
	size_t len;
	char *data =
	        tt_read_src("tests/data/sbom/good/npm-spdx-2.3.json", &len);
	json_t *str = json_stringn(data, len);
	tg_check *c;

	(void)state;
	s.denied_licenses = denied;
	s.ndenied_licenses = 1;
	assert_int_equal(tg_sbom_check(&c, TG_PREDICATE_SPDX, str, &s), 0);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "semver 5.7.1 carries denied "
	                                       "license ISC");
	tg_check_free(c);
	json_decref(str);
	free(data);
}

static void test_sbom_version_compare_table(void **state)
{
	static const struct {
		const char *a, *b;
		int sign;
	} cases[] = {
		{ "1.2.3", "1.2.3", 0 },
		{ "1.2.3", "1.2.10", -1 },
		{ "1.10.0", "1.9.9", 1 },
		{ "v1.2.3", "1.2.3", 0 },
		{ "1.2", "1.2.0", 0 },
		{ "1.2.3-rc1", "1.2.3", -1 },
		{ "1.2.3-alpha", "1.2.3-beta", -1 },
		{ "1.2.3-rc.2", "1.2.3-rc.10", -1 },
		{ "1.2.3+build5", "1.2.3", 0 },
		{ "2.0.0", "10.0.0", -1 },
		{ "007", "7", 0 },
		{ "1.2.3a", "1.2.3", 1 },
		{ "5.6.15.Final", "5.6.15", 1 },
		{ "99999999999999999999999", "1", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = tg_version_compare(cases[i].a, cases[i].b);
		int sign = r < 0 ? -1 : (r > 0 ? 1 : 0);

		if (sign != cases[i].sign)
			fail_msg("compare(%s, %s) = %d, want %d", cases[i].a,
			         cases[i].b, sign, cases[i].sign);
	}
}

static void test_sbom_version_constraints(void **state)
{
	(void)state;
	assert_true(tg_version_satisfies("1.2.2", "<1.2.3"));
	assert_false(tg_version_satisfies("1.2.3", "<1.2.3"));
	assert_true(tg_version_satisfies("1.2.3", "<=1.2.3"));
	assert_true(tg_version_satisfies("1.3.0", ">=1.0, <1.4"));
	assert_false(tg_version_satisfies("1.4.0", ">=1.0, <1.4"));
	assert_true(tg_version_satisfies("1.2.3", "1.2.3"));
	assert_true(tg_version_satisfies("1.2.3", "= 1.2.3"));
	assert_false(tg_version_satisfies("2.0", "!=2.0.0"));
	assert_int_equal(tg_version_constraint_check("<1.2.3"), 0);
	assert_int_equal(tg_version_constraint_check(">=1.0,<2"), 0);
	assert_int_equal(tg_version_constraint_check("<"), TG_EINVALID);
	assert_int_equal(tg_version_constraint_check("1.0,"), TG_EINVALID);
	assert_int_equal(tg_version_constraint_check("~>1.2"), TG_EINVALID);
	assert_contains(tg_error_last(), "bad version constraint \"~>1.2\"");
	assert_false(tg_version_satisfies("1.0", "<<1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbom_predicate_types),
		cmocka_unit_test(test_sbom_cyclonedx_real_passes_with_evidence),
		cmocka_unit_test(test_sbom_all_cyclonedx_versions_accepted),
		cmocka_unit_test(test_sbom_denied_license_in_or_expression),
		cmocka_unit_test(test_sbom_spdx_real_licenses_and_packages),
		cmocka_unit_test(test_sbom_maven_group_with_and_names),
		cmocka_unit_test(test_sbom_format_not_allowed),
		cmocka_unit_test(test_sbom_bad_documents_fail),
		cmocka_unit_test(test_sbom_bad_folder),
		cmocka_unit_test(test_sbom_json_string_predicate_is_unwrapped),
		cmocka_unit_test(test_sbom_version_compare_table),
		cmocka_unit_test(test_sbom_version_constraints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
