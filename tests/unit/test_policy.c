/* Tests of the policy loader (every key validated, with file:line:col),
 * glob and registry matching, rule selection, exceptions and the policy
 * hash. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"

#define DIGEST_A                                                               \
	"sha256:"                                                              \
	"9b1c2f0e2a8d6f4b1c3e5a7d9f0b2c4e6a8d0f1b3c5e7a9d1f3b5c7e9a1d3f5b"
#define DIGEST_B                                                               \
	"sha256:"                                                              \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static tg_policy *load_ok(const char *rel)
{
	char *path = tt_src_path(rel);
	tg_policy *p = NULL;
	int error = tg_policy_load(&p, path);

	if (error < 0)
		fail_msg("%s: %s", rel, tg_error_last());
	free(path);
	return p;
}

static void test_policy_full_example_loads_every_key(void **state)
{
	tg_policy *p = load_ok("tests/data/policy/good/full.yaml");
	const tg_policy_rule *r;
	const tg_policy_authority *a;
	const tg_policy_exception *e;

	(void)state;
	assert_int_equal(tg_policy_rule_count(p), 2);
	r = tg_policy_rule_at(p, 0);
	assert_string_equal(r->name, "acme");
	assert_int_equal(r->line, 7);
	assert_int_equal(r->nimages, 2);
	assert_int_equal(r->mode, TG_POLICY_ENFORCE);
	assert_int_equal(r->signatures.threshold, 2);
	assert_int_equal(r->signatures.signed_identity, TG_IDENTITY_REPOSITORY);
	assert_string_equal(r->signatures.remap_prefix,
	                    "mirror.example.com/acme/");
	assert_string_equal(r->signatures.remap_signed_prefix,
	                    "registry.example.com/acme/");
	assert_int_equal(r->signatures.nauthorities, 3);
	a = r->signatures.authorities[0];
	assert_string_equal(a->name, "release-key");
	assert_int_equal(a->kind, TG_AUTHORITY_KEY);
	assert_non_null(a->key);
	assert_true(tg_str_has_suffix(
	        a->key_path, "tests/data/policy/good/keys/release.pub"));
	assert_true(a->rekor.required);
	assert_non_null(a->rekor.key);
	a = r->signatures.authorities[1];
	assert_int_equal(a->kind, TG_AUTHORITY_KEYLESS);
	assert_true(a->rekor.required); /* keyless default */
	assert_false(a->keyless->ctlog.required);
	assert_string_equal(a->keyless->issuer,
	                    "https://token.actions.githubusercontent.com");
	assert_null(a->keyless->subject);
	assert_non_null(a->keyless->subject_regexp);
	assert_non_null(a->keyless->trusted_root);
	assert_true(a->keyless->trusted_root_len > 1000);
	a = r->signatures.authorities[2];
	assert_true(a->keyless->ctlog.required); /* default */
	assert_non_null(a->keyless->fulcio_certs);
	assert_null(a->keyless->trusted_root);

	assert_true(r->sbom.present && r->sbom.required);
	assert_int_equal(r->sbom.formats,
	                 TG_SBOM_FORMAT_SPDX | TG_SBOM_FORMAT_CYCLONEDX);
	assert_int_equal(r->sbom.ndenied_licenses, 2);
	assert_int_equal(r->sbom.ndenied_packages, 2);
	assert_string_equal(r->sbom.denied_packages[0].version,
	                    ">=2.0, <2.17.1");
	assert_null(r->sbom.denied_packages[1].version);
	assert_int_equal(r->vulnerabilities.max_severity, TG_SEVERITY_HIGH);
	assert_int_equal(r->vulnerabilities.max_scan_age, 7 * 86400);
	assert_int_equal(r->vulnerabilities.nignore, 1);
	assert_true(r->provenance.present);
	assert_false(r->provenance.required);
	assert_string_equal(r->provenance.builder_id,
	                    "https://github.com/actions/runner/github-hosted");
	assert_true(tg_regexp_match(r->provenance.source_repository_regexp,
	                            "https://github.com/acme/api"));
	assert_int_equal(r->max_image_age, 90 * 86400);

	r = tg_policy_rule_at(p, 1);
	assert_int_equal(r->mode, TG_POLICY_WARN);
	assert_int_equal(r->signatures.threshold, 1);
	assert_int_equal(r->signatures.signed_identity, TG_IDENTITY_ANY);
	assert_null(r->signatures.authorities[0]->key_path); /* inline PEM */
	assert_false(r->sbom.present);
	assert_false(r->vulnerabilities.present);

	assert_int_equal(tg_policy_exception_count(p), 2);
	e = tg_policy_exception_at(p, 1);
	assert_string_equal(e->name, "legacy-cves");
	assert_int_equal(e->waive, TG_WAIVE_AGE | TG_WAIVE_PROVENANCE);
	assert_int_equal(e->ncves, 2);
	assert_string_equal(e->approved_by, "ciso@example.com");
	assert_string_equal(e->expires, "2026-10-31");
	assert_null(tg_policy_rule_at(p, 2));
	tg_policy_free(p);
}

static void test_policy_defaults_of_a_present_block(void **state)
{
	const char *yaml =
	        "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nrules:\n"
	        "- name: r\n  images: ['**']\n  signatures:\n"
	        "    authorities: [{name: k, key: keys/release.pub}]\n"
	        "  attestations:\n    sbom: {}\n    vulnerabilities: {}\n"
	        "    provenance: {}\n";
	char *dir = tt_src_path("tests/data/policy/good");
	tg_policy *p;
	const tg_policy_rule *r;

	(void)state;
	assert_int_equal(
	        tg_policy_parse(&p, "inline.yaml", yaml, strlen(yaml), dir), 0);
	r = tg_policy_rule_at(p, 0);
	/* a block that is present is required unless it says otherwise */
	assert_true(r->sbom.required);
	assert_true(r->vulnerabilities.required);
	assert_true(r->provenance.required);
	assert_int_equal(r->vulnerabilities.max_severity, TG_SEVERITY_CRITICAL);
	assert_int_equal(r->vulnerabilities.max_scan_age, 0);
	assert_false(r->signatures.authorities[0]->rekor.required);
	assert_string_equal(tg_policy_name(p), "inline.yaml");
	tg_policy_free(p);
	free(dir);
}

static void test_policy_commits_section(void **state)
{
	tg_policy *p = load_ok("tests/data/policy/good/commits.yaml");
	const tg_policy_commits *c = tg_policy_commits_get(p);
	tg_policy *m = load_ok("tests/data/policy/good/minimal.yaml");

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->mode, TG_COMMITS_HISTORY);
	assert_int_equal(c->nsigners, 3);
	assert_string_equal(c->signers[0].name, "alice");
	assert_int_equal(c->signers[0].kind, TG_SIGNER_SSH);
	assert_non_null(c->signers[0].ssh);
	assert_true(tg_str_has_suffix(c->signers[0].path, "keys/alice.pub"));
	assert_string_equal(c->signers[1].name, "team");
	assert_int_equal(c->signers[1].kind, TG_SIGNER_ALLOWED_SIGNERS);
	assert_int_equal(c->signers[1].line, 14);
	assert_int_equal(c->signers[2].kind, TG_SIGNER_X509);
	assert_string_equal(c->signers[2].x509->issuer,
	                    "https://token.actions.githubusercontent.com");
	assert_non_null(c->signers[2].x509->subject_regexp);
	/* no commits: section, no commit check */
	assert_null(tg_policy_commits_get(m));
	tg_policy_free(m);
	tg_policy_free(p);
}

/* The error code of a bad policy file: TG_EINVALID (content) but for
 * these. */
static int bad_policy_code(const char *name)
{
	static const struct {
		const char *file;
		int code;
	} codes[] = {
		{ "duplicate-key.yaml", TG_EPARSE },
		{ "commits-not-a-key.yaml", TG_EPARSE },
		{ "commits-openpgp.yaml", TG_EUNTRUSTED },
		{ "commits-x509-roots-not-pem.yaml", TG_EPARSE },
		{ "key-missing-file.yaml", TG_ENOTFOUND },
		{ "key-not-a-key.yaml", TG_EPARSE },
		{ "yaml-syntax.yaml", TG_EPARSE },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(codes[i].file, name))
			return codes[i].code;
	return TG_EINVALID;
}

/* One file of tests/data/policy/bad/: loading it fails with its code and
 * the message its "# error:" first line states (file:line:col: key path:
 * what is wrong). */
static void check_bad_policy(const tt_bad_case *c, void *ctx)
{
	tg_policy *p = (tg_policy *)1;
	int want = bad_policy_code(c->name);
	int error = tg_policy_load(&p, c->path);

	(void)ctx;
	if (error != want)
		fail_msg("%s: code %d, want %d (%s)", c->name, error, want,
		         tg_error_last());
	assert_null(p);
	if (strstr(tg_error_last(), c->expected) == NULL)
		fail_msg("%s: message\n  %s\nlacks\n  %s", c->name,
		         tg_error_last(), c->expected);
	/* the message starts with the path the caller gave */
	assert_true(tg_str_has_prefix(tg_error_last(), c->path));
}

/* Every file under bad/ states its error (tt_each_bad_case fails on a
 * file without one, so a new bad file is not forgotten). */
static void test_policy_bad_files_name_line_and_key(void **state)
{
	(void)state;
	tt_each_bad_case("tests/data/policy/bad", ".yaml", check_bad_policy,
	                 NULL);
}

static void test_policy_missing_file(void **state)
{
	tg_policy *p;

	(void)state;
	assert_int_equal(tg_policy_load(&p, "/nonexistent/policy.yaml"),
	                 TG_ENOTFOUND);
	assert_contains(tg_error_last(), "/nonexistent/policy.yaml");
	assert_null(p);
}

static const struct glob_case {
	const char *pattern;
	const char *name;
	const char *digest;
	bool match;
} glob_cases[] = {
	{ "registry.example.com/**", "registry.example.com/acme/api", NULL, 1 },
	{ "registry.example.com/**", "registry.example.com/api", NULL, 1 },
	{ "registry.example.com/**", "registry.example.com.evil/api", NULL, 0 },
	{ "registry.example.com/*", "registry.example.com/api", NULL, 1 },
	{ "registry.example.com/*", "registry.example.com/acme/api", NULL, 0 },
	{ "registry.example.com/*/api", "registry.example.com/acme/api", NULL,
	  1 },
	{ "registry.example.com/*/api", "registry.example.com/a/b/api", NULL,
	  0 },
	{ "registry.example.com/**/api", "registry.example.com/a/b/api", NULL,
	  1 },
	{ "registry.example.com/**/api", "registry.example.com/api", NULL, 1 },
	{ "registry.example.com/**/api", "registry.example.com/xapi", NULL, 0 },
	{ "ghcr.io/acme/app-?", "ghcr.io/acme/app-1", NULL, 1 },
	{ "ghcr.io/acme/app-?", "ghcr.io/acme/app-12", NULL, 0 },
	{ "ghcr.io/acme/*-svc", "ghcr.io/acme/billing-svc", NULL, 1 },
	{ "docker.io/library/nginx", "docker.io/library/nginx", NULL, 1 },
	{ "docker.io/library/nginx", "docker.io/library/nginx2", NULL, 0 },
	{ "127.0.0.1:5000/**", "127.0.0.1:5000/demo/app", NULL, 1 },
	{ "**", "quay.io/x/y", NULL, 1 },
	{ "registry.example.com/billing@" DIGEST_A,
	  "registry.example.com/billing", DIGEST_A, 1 },
	{ "registry.example.com/billing@" DIGEST_A,
	  "registry.example.com/billing", DIGEST_B, 0 },
	{ "registry.example.com/billing@" DIGEST_A,
	  "registry.example.com/billing", NULL, 0 },
	{ "registry.example.com/*@" DIGEST_A, "registry.example.com/other",
	  DIGEST_A, 1 },
	/* many stars cannot make matching slow: it is linear DP */
	{ "**a**a**a**a**a**a**a**a**a**a**a**a**b",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
	  NULL, 0 },
};

static void test_policy_glob_table(void **state)
{
	size_t i;
	const char *yaml_fmt =
	        "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nrules:\n"
	        "- name: r\n  images: ['%s']\n  signatures:\n"
	        "    authorities: [{name: k, key: keys/release.pub}]\n";
	char *dir = tt_src_path("tests/data/policy/good");

	(void)state;
	for (i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); i++) {
		const struct glob_case *g = &glob_cases[i];
		char *yaml = tg_aprintf(yaml_fmt, g->pattern);
		tg_policy *p;
		const tg_policy_rule *r;
		int error;

		if (tg_policy_parse(&p, "globs.yaml", yaml, strlen(yaml), dir) <
		    0)
			fail_msg("%s: %s", g->pattern, tg_error_last());
		error = tg_policy_select(&r, p, g->name, g->digest);
		if ((error == 0) != g->match)
			fail_msg("%s vs %s: got %s", g->pattern, g->name,
			         error == 0 ? "match" : "no match");
		if (!g->match)
			assert_contains(tg_error_last(),
			                "no policy rule matches");
		tg_policy_free(p);
		free(yaml);
	}
	free(dir);
}

static void test_policy_registries_and_first_rule_wins(void **state)
{
	tg_policy *p = load_ok("tests/data/policy/good/full.yaml");
	const tg_policy_rule *r;

	(void)state;
	assert_true(tg_policy_registry_allowed(p, "registry.example.com/x"));
	assert_true(tg_policy_registry_allowed(p, "ghcr.io/acme/api"));
	assert_false(tg_policy_registry_allowed(p, "ghcr.io/acmex/api"));
	assert_false(tg_policy_registry_allowed(p, "ghcr.io/other/api"));
	assert_false(
	        tg_policy_registry_allowed(p, "registry.example.com.evil/x"));
	assert_true(tg_policy_registry_allowed(p, "127.0.0.1:5000/demo/app-1"));
	assert_false(tg_policy_registry_allowed(p, "127.0.0.1:50000/demo"));
	assert_false(tg_policy_registry_allowed(p, "docker.io/library/nginx"));

	assert_int_equal(
	        tg_policy_select(&r, p, "docker.io/library/nginx", NULL),
	        TG_EINVALID);
	assert_null(r);
	assert_contains(tg_error_last(),
	                "docker.io/library/nginx: registry not allowed by the "
	                "policy (registries.allowed: registry.example.com/, "
	                "ghcr.io/acme/, 127.0.0.1:5000)");
	assert_int_equal(tg_policy_select(&r, p, "ghcr.io/acme/api", NULL), 0);
	assert_string_equal(r->name, "acme");
	assert_int_equal(
	        tg_policy_select(&r, p, "127.0.0.1:5000/demo/app-1", NULL), 0);
	assert_string_equal(r->name, "local");
	/* allowed registry but no rule for it */
	assert_int_equal(
	        tg_policy_select(&r, p, "127.0.0.1:5000/demo/db", NULL),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "127.0.0.1:5000/demo/db: no policy "
	                                 "rule matches");
	assert_int_equal(
	        tg_policy_select(&r, p, "127.0.0.1:5000/base", DIGEST_B), 0);
	assert_string_equal(r->name, "local");
	tg_policy_free(p);
}

static void test_policy_exceptions_active_then_expired(void **state)
{
	tg_policy *p = load_ok("tests/data/policy/good/full.yaml");
	const tg_policy_exception *found[4];
	int64_t before, last_second, after;
	size_t n;

	(void)state;
	assert_int_equal(tg_parse_rfc3339(&before, "2026-12-01T00:00:00Z"), 0);
	assert_int_equal(tg_parse_rfc3339(&last_second, "2026-12-31T23:59:59Z"),
	                 0);
	after = last_second + 1;

	n = tg_policy_exceptions_for(found, 4, p,
	                             "registry.example.com/billing", DIGEST_A);
	assert_int_equal(n, 1);
	assert_string_equal(found[0]->name, "billing-openssl");
	/* another digest of the same repository is not covered */
	assert_int_equal(
	        tg_policy_exceptions_for(
	                found, 4, p, "registry.example.com/billing", DIGEST_B),
	        0);

	tg_clock_set(before);
	assert_true(tg_policy_exception_active(found[0], tg_now()));
	assert_int_equal(tg_policy_waivers(p, "registry.example.com/billing",
	                                   DIGEST_A, tg_now()),
	                 TG_WAIVE_VULNERABILITIES);
	tg_clock_set(last_second); /* valid the whole expires day */
	assert_true(tg_policy_exception_active(found[0], tg_now()));
	tg_clock_set(after);
	assert_false(tg_policy_exception_active(found[0], tg_now()));
	assert_int_equal(tg_policy_waivers(p, "registry.example.com/billing",
	                                   DIGEST_A, tg_now()),
	                 0);
	tg_clock_set(0);

	/* legacy-cves expired on 2026-10-31 */
	n = tg_policy_exceptions_for(
	        found, 4, p, "registry.example.com/legacy/app", DIGEST_B);
	assert_int_equal(n, 1);
	assert_false(tg_policy_exception_active(found[0], before));
	assert_true(tg_policy_exception_active(found[0], before - 40 * 86400));
	assert_int_equal(tg_policy_waivers(p, "registry.example.com/legacy/app",
	                                   DIGEST_B, before - 40 * 86400),
	                 TG_WAIVE_AGE | TG_WAIVE_PROVENANCE);
	tg_policy_free(p);
}

static void test_policy_keyless_identity(void **state)
{
	tg_policy *p = load_ok("tests/data/policy/good/full.yaml");
	const tg_policy_rule *r = tg_policy_rule_at(p, 0);
	const tg_policy_keyless *ci = r->signatures.authorities[1]->keyless;
	const tg_policy_keyless *legacy = r->signatures.authorities[2]->keyless;
	const char *gha = "https://token.actions.githubusercontent.com";

	(void)state;
	assert_int_equal(
	        tg_policy_keyless_match(
	                ci, gha,
	                "https://github.com/acme/api/.github/workflows/"
	                "release.yml@refs/tags/v1.2.0"),
	        0);
	assert_int_equal(
	        tg_policy_keyless_match(
	                ci, gha,
	                "https://github.com/evil/api/.github/workflows/"
	                "release.yml@refs/tags/v1.2.0"),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not match");
	assert_int_equal(
	        tg_policy_keyless_match(ci, "https://accounts.google.com", "x"),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate issuer "
	                                 "\"https://accounts.google.com\" is "
	                                 "not");
	assert_int_equal(tg_policy_keyless_match(
	                         legacy, "https://github.com/login/oauth",
	                         "mitr@redhat.com"),
	                 0);
	assert_int_equal(tg_policy_keyless_match(
	                         legacy, "https://github.com/login/oauthx",
	                         "mitr@redhat.com"),
	                 TG_EUNTRUSTED);
	assert_int_equal(
	        tg_policy_keyless_match(legacy,
	                                "https://github.com/login/oauth", NULL),
	        TG_EUNTRUSTED);
	tg_policy_free(p);
}

/* Write a policy and its key under dir. */
static void write_policy(const char *dir, const char *key_src)
{
	char *key = tt_read_src(key_src, NULL);
	char *kpath = tg_aprintf("%s/keys/release.pub", dir);
	char *ppath = tg_aprintf("%s/policy.yaml", dir);

	tt_write_file(kpath, key);
	tt_write_file(ppath,
	              "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\n"
	              "rules:\n- name: r\n  images: ['**']\n  signatures:\n"
	              "    authorities: [{name: k, key: keys/release.pub}]\n");
	free(key);
	free(kpath);
	free(ppath);
}

static void test_policy_hash_follows_content_and_keys(void **state)
{
	char *dir = tt_mkdtemp();
	char *ppath = tg_aprintf("%s/policy.yaml", dir);
	tg_policy *a, *b, *c;

	(void)state;
	/* keys resolve against the policy's directory, not the cwd */
	write_policy(dir, "tests/data/policy/good/keys/release.pub");
	assert_int_equal(tg_policy_load(&a, ppath), 0);
	assert_int_equal(tg_policy_load(&b, ppath), 0);
	assert_true(tg_str_has_prefix(tg_policy_hash(a), "sha256:"));
	assert_int_equal(strlen(tg_policy_hash(a)), 71);
	assert_string_equal(tg_policy_hash(a), tg_policy_hash(b));
	/* same policy text, another key: another hash */
	write_policy(dir, "tests/data/policy/good/keys/ci.pub");
	assert_int_equal(tg_policy_load(&c, ppath), 0);
	assert_string_not_equal(tg_policy_hash(a), tg_policy_hash(c));
	tg_policy_free(a);
	tg_policy_free(b);
	tg_policy_free(c);
	tt_rmtree(dir);
	free(ppath);
	free(dir);
}

/* Number of files matching a shell glob under the source tree. */
static unsigned count_files(const char *glob)
{
	char *path = tt_src_path(glob);
	char *cmd = tg_aprintf("ls %s | wc -l", path);
	FILE *f = popen(cmd, "r");
	unsigned n = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%u", &n), 1);
	pclose(f);
	free(cmd);
	free(path);
	return n;
}

static void test_policy_examples_load_and_select(void **state)
{
	static const char *const examples[] = {
		"examples/policies/basic.yaml",
		"examples/policies/github-keyless.yaml",
		"examples/policies/mirror-and-exceptions.yaml",
		"examples/policies/workloads.yaml",
	};
	tg_policy *p;
	const tg_policy_rule *r;
	size_t i;

	(void)state;
	assert_int_equal(count_files("examples/policies/*.yaml"), 4);
	for (i = 0; i < 4; i++) {
		p = load_ok(examples[i]);
		tg_policy_free(p);
	}
	p = load_ok("examples/policies/mirror-and-exceptions.yaml");
	assert_int_equal(
	        tg_policy_select(&r, p, "mirror.internal:5000/acme/staging/web",
	                         NULL),
	        0);
	assert_string_equal(r->name, "staging");
	assert_int_equal(r->mode, TG_POLICY_WARN);
	assert_int_equal(
	        tg_policy_select(&r, p, "mirror.internal:5000/acme/api", NULL),
	        0);
	assert_string_equal(r->name, "production");
	assert_int_equal(r->signatures.threshold, 2);
	assert_int_equal(
	        tg_policy_select(&r, p, "registry.example.com/acme/api", NULL),
	        TG_EINVALID);
	tg_policy_free(p);
}

/* workloads[]: first rule per namespace, level, version (capped at the
 * newest known, "latest" by default), networkPolicy directions, mode;
 * exceptions with objects and workload waivers. */
static void test_policy_workloads_load_and_match(void **state)
{
	tg_policy *p = load_ok("tests/data/policy/good/workloads.yaml");
	const tg_policy_workload *w;
	const tg_policy_exception *e;
	tg_pss_control ctl;

	(void)state;
	assert_int_equal(tg_policy_workload_count(p), 3);
	w = tg_policy_workload_for(p, "kube-system");
	assert_string_equal(w->name, "system");
	assert_int_equal(w->pod_security, TG_PSS_LEVEL_BASELINE);
	assert_int_equal(w->pss_minor, 28);
	assert_string_equal(w->pss_version, "v1.28");
	assert_int_equal(w->network_policy, 0);
	assert_int_equal(w->mode, TG_POLICY_WARN);
	assert_string_equal(tg_policy_workload_for(p, "monitoring")->name,
	                    "system");
	w = tg_policy_workload_for(p, "old");
	assert_int_equal(w->pss_minor, TG_PSS_LATEST_MINOR);
	assert_int_equal(w->network_policy,
	                 TG_NETPOL_INGRESS | TG_NETPOL_EGRESS);
	w = tg_policy_workload_for(p, "shop");
	assert_string_equal(w->name, "everything-else");
	assert_int_equal(w->pod_security, TG_PSS_LEVEL_RESTRICTED);
	assert_string_equal(w->pss_version, "latest");
	assert_int_equal(w->network_policy, TG_NETPOL_INGRESS);
	assert_int_equal(w->mode, TG_POLICY_ENFORCE);

	e = tg_policy_exception_at(p, 0);
	assert_int_equal(e->nimages, 0);
	assert_int_equal(e->waive, 0);
	assert_int_equal(e->pss_waive,
	                 (1u << TG_PSS_HOST_PATH_VOLUMES) |
	                         (1u << TG_PSS_RESTRICTED_VOLUMES));
	assert_true(tg_policy_exception_matches_object(
	        e, "DaemonSet", "monitoring", "node-agent"));
	assert_false(tg_policy_exception_matches_object(
	        e, "Deployment", "monitoring", "node-agent"));
	assert_false(tg_policy_exception_matches_object(
	        e, "DaemonSet", "monitoring", "node-agent2"));
	/* an object-only exception matches no image */
	assert_false(
	        tg_policy_exception_matches(e, "registry.example.com/x", NULL));
	e = tg_policy_exception_at(p, 1);
	assert_true(e->waive_network_policy);
	assert_true(tg_policy_exception_matches_object(e, "Deployment",
	                                               "legacy", "web"));
	/* a part matches a part */
	assert_false(tg_policy_exception_matches_object(e, "Deployment",
	                                                "legacy", "web/x"));
	assert_false(tg_policy_exception_active(e, 1700000000 + 400 * 86400));
	e = tg_policy_exception_at(p, 2);
	assert_int_equal(e->waive, TG_WAIVE_SBOM);
	assert_int_equal(e->pss_waive, 1u << TG_PSS_HOST_PORTS);

	assert_int_equal(tg_pss_control_parse(&ctl, "runAsUser"), 0);
	assert_int_equal(ctl, TG_PSS_RUN_AS_USER);
	assert_string_equal(tg_pss_control_name(ctl), "runAsUser");
	assert_int_equal(tg_pss_control_parse(&ctl, "runasuser"), TG_ENOTFOUND);
	assert_null(tg_pss_control_name(TG_PSS_NCONTROLS));
	tg_policy_free(p);
}

/* scopes[]: every key read, first matching scope wins, globs of names and
 * of group/Kind (core kinds without a group, `*` alone for every kind). */
static void test_policy_scopes_load_and_match(void **state)
{
	tg_policy *p = load_ok("tests/data/policy/good/scopes.yaml");
	const tg_policy_scope *s;

	(void)state;
	assert_int_equal(tg_policy_scope_count(p), 3);
	s = tg_policy_scope_for(p, "infra-dns");
	assert_non_null(s);
	assert_string_equal(s->name, "platform");
	assert_int_equal(s->line, 11);
	assert_int_equal(s->ncluster_kinds, 3);
	assert_null(s->kinds); /* absent: every namespaced kind */
	assert_true(tg_policy_scope_allows_kind(s, "apps", "Deployment", true));
	assert_true(tg_policy_scope_allows_kind(s, "rbac.authorization.k8s.io",
	                                        "ClusterRoleBinding", false));
	assert_true(tg_policy_scope_allows_kind(s, "", "Namespace", false));
	assert_false(tg_policy_scope_allows_kind(
	        s, "admissionregistration.k8s.io",
	        "MutatingWebhookConfiguration", false));
	assert_true(tg_policy_scope_allows_namespace(s, "tollgate-system"));
	/* operators: no namespaces key grants no namespace */
	s = tg_policy_scope_for(p, "operators");
	assert_string_equal(s->name, "crds-only");
	assert_false(tg_policy_scope_allows_namespace(s, "default"));
	assert_false(tg_policy_scope_allows_kind(s, "", "Namespace", false));
	/* "platform" matches platform first, "*" of teams does not win */
	assert_string_equal(tg_policy_scope_for(p, "platform")->name,
	                    "platform");
	s = tg_policy_scope_for(p, "shop");
	assert_string_equal(s->name, "teams");
	assert_true(tg_policy_scope_allows_namespace(s, "team-a"));
	assert_true(tg_policy_scope_allows_namespace(s, "shop"));
	assert_false(tg_policy_scope_allows_namespace(s, "shop2"));
	assert_false(tg_policy_scope_allows_namespace(s, "default"));
	assert_true(tg_policy_scope_allows_kind(s, "", "ConfigMap", true));
	assert_false(tg_policy_scope_allows_kind(s, "", "Secret", true));
	assert_true(
	        tg_policy_scope_allows_kind(s, "apps", "StatefulSet", true));
	assert_true(tg_policy_scope_allows_kind(s, "shop.example.com", "Widget",
	                                        true));
	assert_false(
	        tg_policy_scope_allows_kind(s, "example.com", "Widget", true));
	/* no clusterKinds: no cluster-scoped kind */
	assert_false(tg_policy_scope_allows_kind(s, "", "Namespace", false));
	tg_policy_free(p);
	p = load_ok("tests/data/policy/good/minimal.yaml");
	assert_int_equal(tg_policy_scope_count(p), 0);
	assert_null(tg_policy_scope_for(p, "shop"));
	tg_policy_free(p);
}

static void test_policy_kind_glob_table(void **state)
{
	static const struct {
		const char *pattern, *group, *kind;
		bool match;
	} cases[] = {
		{ "*", "", "ConfigMap", true },
		{ "*", "rbac.authorization.k8s.io", "ClusterRole", true },
		{ "ConfigMap", "", "ConfigMap", true },
		{ "ConfigMap", "example.com", "ConfigMap", false },
		{ "Config*", "", "ConfigMap", true },
		{ "configmap", "", "ConfigMap", false },
		{ "apps/*", "apps", "Deployment", true },
		{ "apps/*", "", "Deployment", false },
		{ "apps/*", "apps.example.com", "Deployment", false },
		{ "*/*", "", "ConfigMap", false },
		{ "*/*", "apps", "Deployment", true },
		{ "*.k8s.io/*", "rbac.authorization.k8s.io", "Role", true },
		{ "*.k8s.io/*", "k8s.io.evil.com", "Role", false },
		{ "rbac.authorization.k8s.io/Cluster*",
		  "rbac.authorization.k8s.io", "ClusterRoleBinding", true },
		{ "rbac.authorization.k8s.io/Cluster*",
		  "rbac.authorization.k8s.io", "RoleBinding", false },
		{ "?pps/Deployment", "apps", "Deployment", true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tg_policy_kind_glob_match(cases[i].pattern, cases[i].group,
		                              cases[i].kind) != cases[i].match)
			fail_msg("%s vs %s/%s: want %d", cases[i].pattern,
			         cases[i].group, cases[i].kind, cases[i].match);
	assert_true(tg_policy_name_glob_match("team-*", "team-"));
	assert_true(tg_policy_name_glob_match("*", ""));
	assert_true(tg_policy_name_glob_match("t?am-*x", "team-abcx"));
	assert_false(tg_policy_name_glob_match("team-*", "xteam-a"));
	assert_false(tg_policy_name_glob_match("team", "team-a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_full_example_loads_every_key),
		cmocka_unit_test(test_policy_defaults_of_a_present_block),
		cmocka_unit_test(test_policy_commits_section),
		cmocka_unit_test(test_policy_bad_files_name_line_and_key),
		cmocka_unit_test(test_policy_missing_file),
		cmocka_unit_test(test_policy_glob_table),
		cmocka_unit_test(test_policy_registries_and_first_rule_wins),
		cmocka_unit_test(test_policy_exceptions_active_then_expired),
		cmocka_unit_test(test_policy_keyless_identity),
		cmocka_unit_test(test_policy_hash_follows_content_and_keys),
		cmocka_unit_test(test_policy_examples_load_and_select),
		cmocka_unit_test(test_policy_scopes_load_and_match),
		cmocka_unit_test(test_policy_workloads_load_and_match),
		cmocka_unit_test(test_policy_kind_glob_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
