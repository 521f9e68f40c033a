/* Tests of X.509 CMS detached signatures over bytes (verify/sig/cmssig.c)
 * made by `openssl cms -sign` from test CAs (tests/tools/gen_cms.sh), and
 * of x509 signers in a policy (verify/sig/commitsig.c). */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/cmssig.h"
#include "tollgate/commitsig.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"

#define D "tests/data/cmssig/"
/* 2027-01-15: inside the test certificates' validity */
#define WHEN 1800000000

/* x509 signer with roots ROOTS and subject SUBJECT (or a regexp). */
static tg_policy *
policy(const char *roots, const char *subject_key, const char *subject)
{
	char *yaml = tg_aprintf(
	        "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nrules:\n"
	        "- name: r\n  images: ['**']\n  signatures:\n"
	        "    authorities: [{name: k, key: ../policy/good/keys/"
	        "release.pub}]\n"
	        "commits:\n  signers:\n"
	        "  - {name: ci, x509: {roots: %s, %s: '%s'}}\n",
	        roots, subject_key, subject);
	char *dir = tt_src_path("tests/data/cmssig");
	tg_policy *p = NULL;

	if (tg_policy_parse(&p, "inline.yaml", yaml, strlen(yaml), dir) < 0)
		fail_msg("%s", tg_error_last());
	free(dir);
	free(yaml);
	return p;
}

static int verify(tg_commitsig_result *r,
                  const tg_policy *p,
                  const char *sig,
                  const char *msg,
                  int64_t when)
{
	size_t sl, ml;
	char *sd = tt_read_src(sig, &sl), *md = tt_read_src(msg, &ml);
	int error = tg_commitsig_verify(r, tg_policy_commits_get(p), sd, sl, md,
	                                ml, when);

	free(sd);
	free(md);
	return error;
}

static void test_cmssig_right_subject_verifies(void **state)
{
	tg_policy *p = policy("ca1.pem", "subject", "ci@acme.example");
	tg_policy *re = policy("ca1.pem", "subjectRegExp", "^ci@acme[.]");
	tg_commitsig_result r;

	(void)state;
	if (verify(&r, p, D "sig-ci", D "payload", WHEN) != 0)
		fail_msg("%s", tg_error_last());
	assert_string_equal(r.signer, "ci");
	assert_string_equal(r.info.format, "x509");
	assert_string_equal(r.info.principal, "ci@acme.example");
	assert_string_equal(r.signed_by, "ci (x509 /CN=ci)");
	assert_int_equal(verify(&r, re, D "sig-ci", D "payload", WHEN), 0);
	tg_policy_free(re);
	tg_policy_free(p);
}

static void test_cmssig_other_subject_ca_payload_or_time_fail(void **state)
{
	tg_policy *p = policy("ca1.pem", "subject", "ci@acme.example");
	tg_policy *p2 = policy("ca2.pem", "subject", "ci@acme.example");
	tg_commitsig_result r;

	(void)state;
	assert_int_equal(verify(&r, p, D "sig-other", D "payload", WHEN),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(),
	                "signer is \"other@acme.example\", not "
	                "\"ci@acme.example\"");
	/* the right identity from another CA */
	assert_int_equal(verify(&r, p, D "sig-rogue", D "payload", WHEN),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(),
	                "does not chain to the policy's roots");
	/* and the same policy with that CA trusts it */
	assert_int_equal(verify(&r, p2, D "sig-rogue", D "payload", WHEN), 0);
	assert_int_equal(verify(&r, p, D "sig-ci", D "payload-other", WHEN),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not verify");
	/* before the certificates were made */
	assert_int_equal(verify(&r, p, D "sig-ci", D "payload", 1600000000),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "at the signing time");
	tg_policy_free(p2);
	tg_policy_free(p);
}

static void test_cmssig_hostile_input(void **state)
{
	tg_policy *p = policy("ca1.pem", "subject", "ci@acme.example");
	const tg_policy_x509 *x = tg_policy_commits_get(p)->signers[0].x509;
	size_t n;
	char *sig = tt_read_src(D "sig-ci", &n);
	char *att = tt_read_src(D "sig-attached", &n);
	const char *junk = "-----BEGIN SIGNED MESSAGE-----\nAAAA\n"
	                   "-----END SIGNED MESSAGE-----\n";
	char *cut = tg_strndup(sig, strlen(sig) / 2);

	(void)state;
	assert_int_equal(
	        tg_cmssig_verify(NULL, x, cut, strlen(cut), "x", 1, WHEN),
	        TG_EPARSE);
	assert_contains(tg_error_last(), "truncated");
	assert_int_equal(
	        tg_cmssig_verify(NULL, x, junk, strlen(junk), "x", 1, WHEN),
	        TG_EPARSE);
	assert_int_equal(
	        tg_cmssig_verify(NULL, x, att, strlen(att), "x", 1, WHEN),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "not detached");
	/* a digest algorithm OpenSSL cannot set up (found by fuzz_cmssig:
	 * CMS_verify leaked its copy of the content; ASan checks) */
	free(att);
	att = tt_read_src(D "sig-bad-digest", &n);
	assert_int_equal(tg_cmssig_verify(NULL, x, att, n, "x", 1, WHEN),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not verify");
	free(cut);
	free(att);
	/* cut before its END line, in a buffer of exactly its length with
	 * no NUL after it (found by fuzz_cmssig: the END line was searched
	 * past the end; ASan checks) */
	n = (size_t)(strstr(sig, "-----END") - sig);
	cut = tg_malloc(n);
	memcpy(cut, sig, n);
	assert_int_equal(tg_cmssig_verify(NULL, x, cut, n, "x", 1, WHEN),
	                 TG_EPARSE);
	assert_contains(tg_error_last(), "truncated");
	free(cut);
	free(sig);
	tg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmssig_right_subject_verifies),
		cmocka_unit_test(
		        test_cmssig_other_subject_ca_payload_or_time_fail),
		cmocka_unit_test(test_cmssig_hostile_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
