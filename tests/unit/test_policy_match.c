/*
 * Tests of verify/policy/policy_match.c: image globs, registries.allowed
 * prefixes, regular expressions, rule selection (the first match wins),
 * exceptions (by image and digest, expiry) and keyless identities. Each
 * policy is written inline and loaded with tg_policy_parse(), keys
 * resolved against tests/data/policy/good.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"

#define HEADER "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n"
#define KEY_SIGS                                                               \
	"  signatures:\n"                                                      \
	"    authorities: [{name: k, key: keys/release.pub}]\n"
#define DIGEST_A                                                               \
	"sha256:"                                                              \
	"1111111111111111111111111111111111111111111111111111111111111111"
#define DIGEST_B                                                               \
	"sha256:"                                                              \
	"2222222222222222222222222222222222222222222222222222222222222222"

static tg_policy *parse_ok(const char *yaml)
{
	char *dir = tt_src_path("tests/data/policy/good");
	tg_policy *p = NULL;

	if (tg_policy_parse(&p, "match.yaml", yaml, strlen(yaml), dir) < 0)
		fail_msg("policy: %s\n%s", tg_error_last(), yaml);
	free(dir);
	return p;
}

/* The name of the rule selected for name@digest, or NULL (no rule). */
static const char *
selected(const tg_policy *p, const char *name, const char *digest)
{
	const tg_policy_rule *r = NULL;

	if (tg_policy_select(&r, p, name, digest) < 0) {
		assert_null(r);
		return NULL;
	}
	assert_non_null(r);
	return r->name;
}

/* Globs ------------------------------------------------------------------- */

static const struct {
	const char *pattern, *name, *digest;
	int match;
} globs[] = {
	/* '*' stays inside one path component, '**' crosses them */
	{ "ghcr.io/acme/*", "ghcr.io/acme/api", NULL, 1 },
	{ "ghcr.io/acme/*", "ghcr.io/acme/team/api", NULL, 0 },
	{ "ghcr.io/acme/**", "ghcr.io/acme/team/api", NULL, 1 },
	{ "ghcr.io/acme/**", "ghcr.io/acmex/api", NULL, 0 },
	{ "ghcr.io/*/api", "ghcr.io/acme/api", NULL, 1 },
	{ "ghcr.io/*/api", "ghcr.io/acme/web", NULL, 0 },
	{ "ghcr.io/acme/api-*", "ghcr.io/acme/api-v2", NULL, 1 },
	{ "ghcr.io/acme/api-*", "ghcr.io/acme/web-v2", NULL, 0 },
	/* a glob matches the whole name, not a prefix of it */
	{ "ghcr.io/acme/api", "ghcr.io/acme/api/sub", NULL, 0 },
	{ "ghcr.io/acme/api", "ghcr.io/acme/ap", NULL, 0 },
	/* a digest pattern needs that digest */
	{ "ghcr.io/acme/api@" DIGEST_A, "ghcr.io/acme/api", DIGEST_A, 1 },
	{ "ghcr.io/acme/api@" DIGEST_A, "ghcr.io/acme/api", DIGEST_B, 0 },
	{ "ghcr.io/acme/api@" DIGEST_A, "ghcr.io/acme/api", NULL, 0 },
	{ "ghcr.io/acme/*@" DIGEST_A, "ghcr.io/acme/web", DIGEST_A, 1 },
};

static void test_policy_match_globs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(globs) / sizeof(globs[0]); i++) {
		char *yaml = tg_aprintf(HEADER "rules:\n- name: r\n"
		                               "  images: ['%s']\n" KEY_SIGS,
		                        globs[i].pattern);
		tg_policy *p = parse_ok(yaml);
		const tg_policy_rule *r = tg_policy_rule_at(p, 0);
		bool m = tg_policy_rule_matches(r, globs[i].name,
		                                globs[i].digest);

		if (m != (globs[i].match != 0))
			fail_msg("%s vs %s: got %s", globs[i].pattern,
			         globs[i].name, m ? "match" : "no match");
		tg_policy_free(p);
		free(yaml);
	}
}

/* registries.allowed ------------------------------------------------------ */

static void test_policy_match_registry_prefixes(void **state)
{
	tg_policy *p = parse_ok(
	        HEADER "registries:\n"
	               "  allowed: [registry.example.com, ghcr.io/acme/, "
	               "'127.0.0.1:5000']\n"
	               "rules:\n- name: r\n  images: ['**']\n" KEY_SIGS);

	(void)state;
	/* a host entry with or without '/' allows what lies under it */
	assert_true(tg_policy_registry_allowed(p, "registry.example.com/a"));
	assert_true(tg_policy_registry_allowed(p, "registry.example.com/a/b"));
	/* prefixes end on a component boundary */
	assert_false(tg_policy_registry_allowed(p, "registry.example.comx/a"));
	assert_false(
	        tg_policy_registry_allowed(p, "registry.example.com.evil/a"));
	assert_true(tg_policy_registry_allowed(p, "ghcr.io/acme/api"));
	assert_false(tg_policy_registry_allowed(p, "ghcr.io/acmex/api"));
	assert_false(tg_policy_registry_allowed(p, "ghcr.io/other/api"));
	/* a port is part of the host */
	assert_true(tg_policy_registry_allowed(p, "127.0.0.1:5000/demo"));
	assert_false(tg_policy_registry_allowed(p, "127.0.0.1:50001/demo"));
	assert_false(tg_policy_registry_allowed(p, "docker.io/library/x"));
	/* an image of a registry not allowed is refused before the rules */
	assert_null(selected(p, "docker.io/library/x", NULL));
	assert_contains(tg_error_last(), "docker.io/library/x: registry not "
	                                 "allowed by the policy");
	tg_policy_free(p);

	/* without registries every registry is allowed */
	p = parse_ok(HEADER "rules:\n- name: r\n  images: ['**']\n" KEY_SIGS);
	assert_true(tg_policy_registry_allowed(p, "docker.io/library/x"));
	assert_string_equal(selected(p, "docker.io/library/x", NULL), "r");
	tg_policy_free(p);
}

/* Regular expressions ----------------------------------------------------- */

static void test_policy_match_regexps(void **state)
{
	tg_regexp *re = NULL;

	(void)state;
	assert_int_equal(tg_regexp_compile(&re, "^https://github\\.com/acme/"),
	                 0);
	assert_string_equal(tg_regexp_source(re),
	                    "^https://github\\.com/acme/");
	assert_true(tg_regexp_match(re, "https://github.com/acme/api"));
	/* the dot is escaped: any other character does not do */
	assert_false(tg_regexp_match(re, "https://githubxcom/acme/api"));
	/* anchored at the start */
	assert_false(tg_regexp_match(re, "x https://github.com/acme/api"));
	tg_regexp_free(re);

	/* unanchored: found anywhere */
	assert_int_equal(tg_regexp_compile(&re, "release\\.yml"), 0);
	assert_true(tg_regexp_match(re, "a/.github/workflows/release.yml@x"));
	assert_false(tg_regexp_match(re, "a/.github/workflows/build.yml@x"));
	tg_regexp_free(re);

	/* ERE alternation and end anchor */
	assert_int_equal(tg_regexp_compile(&re, "^(a|b)c$"), 0);
	assert_true(tg_regexp_match(re, "bc"));
	assert_false(tg_regexp_match(re, "bcd"));
	tg_regexp_free(re);

	/* refused: syntax errors and RE2/Perl classes ERE reads otherwise */
	re = (tg_regexp *)1;
	assert_int_equal(tg_regexp_compile(&re, "^(unclosed"), TG_EINVALID);
	assert_null(re);
	assert_int_equal(tg_regexp_compile(&re, "^v\\d+$"), TG_EINVALID);
	assert_null(re);
	assert_contains(tg_error_last(), "\\d");
}

/* glibc's regcomp copies a repeated expression for each count it may
 * take, and repeats of repeats multiply: a policy with stacked or nested
 * repeats took gigabytes to compile (found by fuzz_policy). Refused
 * before regcomp, as RE2 refuses them; ordinary repeats still compile. */
static void test_policy_regexp_repeats_bounded(void **state)
{
	static const char *const ok[] = {
		("^https://github\\.com/acme/.+/\\.github/workflows/"
		 "release\\.yml@refs/tags/v[0-9]+(\\.[0-9]+){2}$"),
		"^a{1000}$",
		"^((ab){10}c){100}$",
		"^(a+|b*)+$",     /* 2 x 2 copies */
		"[+*]{2,3}x{3,}", /* a bracket is one atom */
		"\\+\\+\\*",      /* escaped: literals */
		"a{,5}",          /* glibc: "{0,5}" */
	};
	static const struct {
		const char *re, *why;
	} bad[] = {
		{ "^https://github\\++++++++++++++++++++.com/",
		  "quantifier right after another (\"+\" at character 19)" },
		{ "a**", "quantifier right after another" },
		{ "a{2}{3}", "quantifier right after another" },
		{ "a+*", "quantifier right after another" },
		{ "a{1001}", "more than 1000 copies" },
		{ "a{1,1001}", "more than 1000 copies" },
		{ "a{1000,}", "more than 1000 copies" },
		{ "((a{10}){10}){11}", "more than 1000 copies (\"{11}\" at "
		                       "character 14" },
		{ "((((((((((a+)+)+)+)+)+)+)+)+)+)+", "more than 1000 copies" },
		{ "a{99999999999999999999}", "more than 1000 copies" },
		{ "((a{,40}){,40})", "more than 1000 copies" },
		{ "a{,5}{,5}", "quantifier right after another" },
	};
	tg_regexp *re = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		if (tg_regexp_compile(&re, ok[i]) < 0)
			fail_msg("\"%s\": %s", ok[i], tg_error_last());
		tg_regexp_free(re);
		re = NULL;
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (tg_regexp_compile(&re, bad[i].re) != TG_EINVALID)
			fail_msg("\"%s\" was not refused", bad[i].re);
		assert_null(re);
		assert_contains(tg_error_last(), bad[i].why);
	}
}

/* Rule selection ---------------------------------------------------------- */

static void test_policy_match_first_rule_wins(void **state)
{
	tg_policy *p = parse_ok(
	        HEADER
	        "rules:\n"
	        "- name: pinned\n"
	        "  images: ['ghcr.io/acme/api@" DIGEST_A "']\n" KEY_SIGS
	        "- name: api\n"
	        "  images: ['ghcr.io/acme/api']\n" KEY_SIGS "- name: acme\n"
	        "  images: ['ghcr.io/acme/**']\n" KEY_SIGS "- name: all\n"
	        "  images: ['**']\n" KEY_SIGS);

	(void)state;
	assert_int_equal(tg_policy_rule_count(p), 4);
	/* every later rule matches too: file order decides */
	assert_string_equal(selected(p, "ghcr.io/acme/api", DIGEST_A),
	                    "pinned");
	assert_string_equal(selected(p, "ghcr.io/acme/api", DIGEST_B), "api");
	assert_string_equal(selected(p, "ghcr.io/acme/api", NULL), "api");
	assert_string_equal(selected(p, "ghcr.io/acme/web", NULL), "acme");
	assert_string_equal(selected(p, "quay.io/x/y", NULL), "all");
	tg_policy_free(p);

	/* no rule matches: refused, naming the image */
	p = parse_ok(HEADER "rules:\n- name: acme\n"
	                    "  images: ['ghcr.io/acme/**']\n" KEY_SIGS);
	assert_null(selected(p, "quay.io/x/y", NULL));
	assert_contains(tg_error_last(), "quay.io/x/y: no policy rule matches");
	tg_policy_free(p);
}

/* Exceptions -------------------------------------------------------------- */

#define EXCEPTIONS                                                             \
	HEADER "rules:\n- name: r\n  images: ['**']\n" KEY_SIGS                \
	       "exceptions:\n"                                                 \
	       "- name: one-digest\n"                                          \
	       "  images: ['ghcr.io/acme/api@" DIGEST_A "']\n"                 \
	       "  waive: [vulnerabilities]\n"                                  \
	       "  reason: r\n  approvedBy: a@example.com\n"                    \
	       "  expires: 2026-06-30\n"                                       \
	       "- name: team\n"                                                \
	       "  images: ['ghcr.io/acme/team/**']\n"                          \
	       "  waive: [provenance]\n"                                       \
	       "  reason: r\n  approvedBy: a@example.com\n"                    \
	       "  expires: 2026-01-31\n"                                       \
	       "- name: api-age\n"                                             \
	       "  images: ['ghcr.io/acme/api']\n"                              \
	       "  waive: [age]\n"                                              \
	       "  reason: r\n  approvedBy: a@example.com\n"                    \
	       "  expires: 2026-12-31\n"

static int64_t at(const char *rfc3339)
{
	int64_t t;

	assert_int_equal(tg_parse_rfc3339(&t, rfc3339), 0);
	return t;
}

static void test_policy_match_exceptions_by_image(void **state)
{
	tg_policy *p = parse_ok(EXCEPTIONS);
	const tg_policy_exception *found[4];
	size_t n;

	(void)state;
	assert_int_equal(tg_policy_exception_count(p), 3);
	/* a digest pattern covers that digest only; file order is kept */
	n = tg_policy_exceptions_for(found, 4, p, "ghcr.io/acme/api", DIGEST_A);
	assert_int_equal(n, 2);
	assert_string_equal(found[0]->name, "one-digest");
	assert_string_equal(found[1]->name, "api-age");
	n = tg_policy_exceptions_for(found, 4, p, "ghcr.io/acme/api", DIGEST_B);
	assert_int_equal(n, 1);
	assert_string_equal(found[0]->name, "api-age");
	n = tg_policy_exceptions_for(found, 4, p, "ghcr.io/acme/team/x/y",
	                             DIGEST_B);
	assert_int_equal(n, 1);
	assert_string_equal(found[0]->name, "team");
	assert_int_equal(tg_policy_exceptions_for(found, 4, p,
	                                          "ghcr.io/acme/web", DIGEST_A),
	                 0);
	/* more matches than room: the count is still the whole number */
	assert_int_equal(tg_policy_exceptions_for(found, 1, p,
	                                          "ghcr.io/acme/api", DIGEST_A),
	                 2);
	assert_string_equal(found[0]->name, "one-digest");
	assert_true(tg_policy_exception_matches(tg_policy_exception_at(p, 1),
	                                        "ghcr.io/acme/team/a", NULL));
	assert_false(tg_policy_exception_matches(tg_policy_exception_at(p, 0),
	                                         "ghcr.io/acme/api", NULL));
	tg_policy_free(p);
}

static void test_policy_match_exceptions_expire(void **state)
{
	tg_policy *p = parse_ok(EXCEPTIONS);
	const tg_policy_exception *digest = tg_policy_exception_at(p, 0);

	(void)state;
	/* in force until the end of its expires day, UTC */
	assert_true(
	        tg_policy_exception_active(digest, at("2026-06-30T23:59:59Z")));
	assert_false(
	        tg_policy_exception_active(digest, at("2026-07-01T00:00:00Z")));
	/* the waivers are the OR of the active matching exceptions */
	assert_int_equal(tg_policy_waivers(p, "ghcr.io/acme/api", DIGEST_A,
	                                   at("2026-01-15T12:00:00Z")),
	                 TG_WAIVE_VULNERABILITIES | TG_WAIVE_AGE);
	assert_int_equal(tg_policy_waivers(p, "ghcr.io/acme/api", DIGEST_A,
	                                   at("2026-08-01T00:00:00Z")),
	                 TG_WAIVE_AGE);
	assert_int_equal(tg_policy_waivers(p, "ghcr.io/acme/api", DIGEST_A,
	                                   at("2027-01-01T00:00:00Z")),
	                 0);
	assert_int_equal(tg_policy_waivers(p, "ghcr.io/acme/team/a", DIGEST_A,
	                                   at("2026-01-31T10:00:00Z")),
	                 TG_WAIVE_PROVENANCE);
	assert_int_equal(tg_policy_waivers(p, "ghcr.io/acme/team/a", DIGEST_A,
	                                   at("2026-02-01T00:00:00Z")),
	                 0);
	/* an image no exception names has no waiver */
	assert_int_equal(tg_policy_waivers(p, "ghcr.io/acme/web", DIGEST_A,
	                                   at("2026-01-15T12:00:00Z")),
	                 0);
	tg_policy_free(p);
}

/* Keyless identities ------------------------------------------------------ */

static void test_policy_match_keyless_identity(void **state)
{
	tg_policy *p = parse_ok(
	        HEADER "rules:\n- name: r\n  images: ['**']\n"
	               "  signatures:\n    threshold: 1\n    authorities:\n"
	               "    - name: exact\n      keyless:\n"
	               "        issuer: https://issuer.example\n"
	               "        subject: ci@example.com\n"
	               "        trustedRoot: trust/trusted_root.json\n"
	               "    - name: pattern\n      keyless:\n"
	               "        issuerRegExp: ^https://(a|b)\\.example$\n"
	               "        subjectRegExp: ^https://github\\.com/acme/\n"
	               "        trustedRoot: trust/trusted_root.json\n");
	const tg_policy_rule *r = tg_policy_rule_at(p, 0);
	const tg_policy_keyless *exact = r->signatures.authorities[0]->keyless;
	const tg_policy_keyless *pattern =
	        r->signatures.authorities[1]->keyless;

	(void)state;
	assert_int_equal(tg_policy_keyless_match(exact,
	                                         "https://issuer.example",
	                                         "ci@example.com"),
	                 0);
	/* exact values are exact: no prefix, no case folding */
	assert_int_equal(tg_policy_keyless_match(exact,
	                                         "https://issuer.example/",
	                                         "ci@example.com"),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate issuer");
	assert_int_equal(tg_policy_keyless_match(exact,
	                                         "https://issuer.example",
	                                         "CI@example.com"),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate subject "
	                                 "\"CI@example.com\" is not");
	/* a missing field never matches */
	assert_int_equal(tg_policy_keyless_match(exact, NULL, "ci@example.com"),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate has no issuer");
	assert_int_equal(
	        tg_policy_keyless_match(exact, "https://issuer.example", NULL),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate has no subject");

	assert_int_equal(tg_policy_keyless_match(
	                         pattern, "https://b.example",
	                         "https://github.com/acme/api/.github/w.yml"),
	                 0);
	assert_int_equal(tg_policy_keyless_match(
	                         pattern, "https://c.example",
	                         "https://github.com/acme/api/.github/w.yml"),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not match");
	assert_int_equal(tg_policy_keyless_match(
	                         pattern, "https://a.example",
	                         "https://github.com/evil/api/.github/w.yml"),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate subject");
	tg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_match_globs),
		cmocka_unit_test(test_policy_match_registry_prefixes),
		cmocka_unit_test(test_policy_match_regexps),
		cmocka_unit_test(test_policy_regexp_repeats_bounded),
		cmocka_unit_test(test_policy_match_first_rule_wins),
		cmocka_unit_test(test_policy_match_exceptions_by_image),
		cmocka_unit_test(test_policy_match_exceptions_expire),
		cmocka_unit_test(test_policy_match_keyless_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
