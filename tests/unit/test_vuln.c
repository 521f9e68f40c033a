/* Tests of the vulnerability-scan predicate check on Trivy- and
 * Grype-shaped cosign vuln/v1 predicates. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/predicate.h"
#include "tollgate/vuln.h"
#include "tollgate/util.h"

/* 2026-11-21T12:00:00Z: a day after the Trivy scan, 4h after Grype's. */
#define NOW 1795262400

/* The statement's predicate; *type_out (may be NULL) gets a copy of its
 * predicateType for the caller to free. */
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

static json_t *load_predicate(const char *rel, char **type_out)
{
	json_error_t err;
	json_t *st = parse_test_json(rel, &err);
	json_t *pred;

	if (st == NULL)
		fail_msg("%s: %s", rel, err.text);
	if (type_out != NULL)
		*type_out = strdup(json_string_value(
		        json_object_get(st, "predicateType")));
	pred = json_incref(json_object_get(st, "predicate"));
	json_decref(st);
	return pred;
}

static tg_policy_vulns settings(tg_severity max)
{
	tg_policy_vulns s;

	memset(&s, 0, sizeof(s));
	s.present = true;
	s.required = true;
	s.max_severity = max;
	return s;
}

static tg_check *run(const char *rel,
                     const tg_policy_vulns *s,
                     const char *const *waived,
                     size_t nwaived,
                     int64_t now)
{
	json_t *pred = load_predicate(rel, NULL);
	tg_check *c = NULL;

	assert_int_equal(tg_vuln_check(&c, pred, s, waived, nwaived, now), 0);
	json_decref(pred);
	return c;
}

static json_int_t count(const tg_check *c, const char *bucket)
{
	return json_integer_value(json_object_get(
	        json_object_get(tg_check_evidence(c), "counts"), bucket));
}

static void test_vuln_now_constant_is_right(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(tg_parse_rfc3339(&t, "2026-11-21T12:00:00Z"), 0);
	assert_int_equal(t, NOW);
}

static void test_vuln_trivy_counts_and_threshold(void **state)
{
	tg_policy_vulns s = settings(TG_SEVERITY_HIGH);
	tg_check *c;
	json_t *ev, *above;

	(void)state;
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0, NOW);
	ev = tg_check_evidence(c);
	assert_string_equal(json_string_value(json_object_get(ev, "format")),
	                    "trivy");
	assert_int_equal(count(c, "critical"), 1);
	assert_int_equal(count(c, "high"), 2);
	assert_int_equal(count(c, "medium"), 1); /* two packages, one id */
	assert_int_equal(count(c, "low"), 1);
	assert_int_equal(count(c, "unknown"), 1);
	assert_false(tg_check_passed(c));
	assert_int_equal(tg_check_reason_count(c), 1);
	assert_contains(tg_check_reason(c, 0), "1 vulnerability above "
	                                       "maxSeverity high: "
	                                       "CVE-2024-45490 (critical)");
	above = json_object_get(ev, "aboveThreshold");
	assert_int_equal(json_array_size(above), 1);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(ev, "scanner"), "uri")),
	                    "pkg:github/aquasecurity/trivy@v0.57.1");
	assert_string_equal(
	        json_string_value(json_object_get(ev, "scanFinishedOn")),
	        "2026-11-20T09:12:44.517Z");
	tg_check_free(c);

	/* critical allows everything */
	s = settings(TG_SEVERITY_CRITICAL);
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0, NOW);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
}

static void test_vuln_unknown_severity_counts_as_high(void **state)
{
	tg_policy_vulns s = settings(TG_SEVERITY_MEDIUM);
	const char *ignore[] = { "CVE-2024-45490", "CVE-2023-44487",
		                 "CVE-2023-4911" };
	tg_check *c;

	(void)state;
	s.ignore = ignore;
	s.nignore = 3;
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0, NOW);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "CVE-2018-6829 (unknown)");
	assert_int_equal(json_array_size(json_object_get(tg_check_evidence(c),
	                                                 "ignored")),
	                 3);
	tg_check_free(c);
}

static void test_vuln_ignore_and_exception_waivers(void **state)
{
	tg_policy_vulns s = settings(TG_SEVERITY_MEDIUM);
	const char *ignore[] = { "cve-2024-45490" }; /* case-insensitive */
	const char *waived[] = { "CVE-2023-44487", "CVE-2023-4911",
		                 "CVE-2018-6829" };
	tg_check *c;
	json_t *ev;

	(void)state;
	s.ignore = ignore;
	s.nignore = 1;
	c = run("tests/data/vuln/good/trivy-debian.json", &s, waived, 3, NOW);
	if (!tg_check_passed(c))
		fail_msg("%s", tg_check_reason(c, 0));
	ev = tg_check_evidence(c);
	assert_int_equal(json_array_size(json_object_get(ev, "waived")), 3);
	assert_int_equal(json_array_size(json_object_get(ev, "ignored")), 1);
	assert_int_equal(tg_check_note_count(c), 4);
	tg_check_free(c);

	/* without the exception, the three come back */
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0, NOW);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "3 vulnerabilities above "
	                                       "maxSeverity medium");
	tg_check_free(c);
}

static void test_vuln_none_allows_nothing(void **state)
{
	tg_policy_vulns s = settings(TG_SEVERITY_NONE);
	tg_check *c;

	(void)state;
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0, NOW);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "6 vulnerabilities above "
	                                       "maxSeverity none");
	tg_check_free(c);
	c = run("tests/data/vuln/good/trivy-clean.json", &s, NULL, 0, NOW);
	assert_true(tg_check_passed(c));
	assert_int_equal(count(c, "critical"), 0);
	tg_check_free(c);
}

static void test_vuln_grype_with_related_cves(void **state)
{
	tg_policy_vulns s = settings(TG_SEVERITY_LOW);
	/* ignoring the CVE covers the GHSAs that name it as related */
	const char *ignore[] = { "CVE-2023-44487" };
	tg_check *c;
	json_t *ev;

	(void)state;
	s.ignore = ignore;
	s.nignore = 1;
	c = run("tests/data/vuln/good/grype-go-debian.json", &s, NULL, 0, NOW);
	ev = tg_check_evidence(c);
	assert_string_equal(json_string_value(json_object_get(ev, "format")),
	                    "grype");
	assert_int_equal(count(c, "critical"), 1);
	assert_int_equal(count(c, "high"), 1);
	assert_int_equal(count(c, "medium"), 1);
	assert_int_equal(count(c, "low"), 1);
	assert_int_equal(count(c, "negligible"), 1);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "1 vulnerability above "
	                                       "maxSeverity low: "
	                                       "CVE-2024-45491 (critical)");
	assert_int_equal(json_array_size(json_object_get(ev, "ignored")), 2);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(ev, "scanner"), "version")),
	                    "0.82.2");
	tg_check_free(c);
}

static void test_vuln_scan_age(void **state)
{
	tg_policy_vulns s = settings(TG_SEVERITY_CRITICAL);
	const char *why = NULL;
	int64_t t;
	tg_check *c;

	(void)state;
	assert_int_equal(tg_parse_rfc3339(&t, "2026-11-20T09:12:44Z"), 0);
	s.max_scan_age = 7 * 86400;
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0, NOW);
	assert_true(tg_check_passed(c));
	/* It holds until the scan is maxScanAge old (issue 13: a cached
	 * verdict must not outlive that): 2026-11-20T09:12:44Z + 7d. */
	assert_int_equal(tg_check_valid_until(c, &why), t + 7 * 86400);
	assert_contains(why, "maxScanAge");
	tg_check_free(c);
	/* Without maxScanAge nothing bounds it. */
	s.max_scan_age = 0;
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0, NOW);
	assert_true(tg_check_valid_until(c, NULL) == TG_TIME_NEVER);
	tg_check_free(c);
	s.max_scan_age = 7 * 86400;
	/* eight days later */
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0,
	        NOW + 7 * 86400);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "older than maxScanAge");
	tg_check_free(c);
	/* a scan from the future */
	c = run("tests/data/vuln/good/trivy-debian.json", &s, NULL, 0,
	        NOW - 3 * 86400);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "in the future");
	tg_check_free(c);
	/* no scan time at all */
	c = run("tests/data/vuln/bad/no-scan-time.json", &s, NULL, 0, NOW);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "no valid "
	                                       "metadata.scanFinishedOn");
	tg_check_free(c);
}

static void test_vuln_unknown_format_fails(void **state)
{
	tg_policy_vulns s = settings(TG_SEVERITY_CRITICAL);
	tg_check *c;

	(void)state;
	c = run("tests/data/vuln/bad/sarif-result.json", &s, NULL, 0, NOW);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "unknown scanner result "
	                                       "format");
	tg_check_free(c);
	c = run("tests/data/vuln/bad/no-scanner.json", &s, NULL, 0, NOW);
	assert_false(tg_check_passed(c));
	assert_contains(tg_check_reason(c, 0), "has no scanner");
	tg_check_free(c);
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

/* A bad/ file: a statement whose scan fails under maxSeverity critical
 * and maxScanAge 7d. */
static void vuln_bad_case(const tt_bad_case *bc, void *ctx)
{
	tg_policy_vulns s = settings(TG_SEVERITY_CRITICAL);
	json_error_t err;
	json_t *doc = json_loadb(bc->input, bc->input_len,
	                         JSON_REJECT_DUPLICATES, &err);
	tg_check *c = NULL;

	(void)ctx;
	if (doc == NULL)
		fail_msg("%s: %s", bc->name, err.text);
	s.max_scan_age = 7 * 86400;
	assert_int_equal(tg_vuln_check(&c, json_object_get(doc, "predicate"),
	                               &s, NULL, 0, NOW),
	                 0);
	assert_failed_with(c, bc->expected, bc->name);
	tg_check_free(c);
	json_decref(doc);
}

static void test_vuln_bad_folder(void **state)
{
	(void)state;
	tt_each_bad_case("tests/data/vuln/bad", ".json", vuln_bad_case, NULL);
}

static void test_vuln_predicate_time_picks_finish(void **state)
{
	char *type;
	json_t *pred = load_predicate(
	        "tests/data/vuln/good/grype-go-debian.json", &type);
	int64_t t, want;

	(void)state;
	assert_int_equal(tg_predicate_kind_of(type), TG_PREDICATE_VULN);
	assert_int_equal(
	        tg_predicate_kind_of("cosign.sigstore.dev/attestation/vuln/v1"),
	        TG_PREDICATE_VULN);
	assert_int_equal(tg_predicate_time(&t, TG_PREDICATE_VULN, pred), 0);
	assert_int_equal(tg_parse_rfc3339(&want, "2026-11-21T08:02:11Z"), 0);
	assert_int_equal(t, want);
	json_decref(pred);
	free(type);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vuln_now_constant_is_right),
		cmocka_unit_test(test_vuln_trivy_counts_and_threshold),
		cmocka_unit_test(test_vuln_unknown_severity_counts_as_high),
		cmocka_unit_test(test_vuln_ignore_and_exception_waivers),
		cmocka_unit_test(test_vuln_none_allows_nothing),
		cmocka_unit_test(test_vuln_grype_with_related_cves),
		cmocka_unit_test(test_vuln_scan_age),
		cmocka_unit_test(test_vuln_unknown_format_fails),
		cmocka_unit_test(test_vuln_bad_folder),
		cmocka_unit_test(test_vuln_predicate_time_picks_finish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
