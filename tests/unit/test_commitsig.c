/* Tests of commit signatures against the policy's signers
 * (verify/sig/commitsig.c), with ssh-keygen signatures of
 * tests/data/sshsig/ and the signers of a policy loaded from text. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/commitsig.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"

#define WHEN 1700000000

static tg_policy *policy(void)
{
	const char *yaml =
	        "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nrules:\n"
	        "- name: r\n  images: ['**']\n  signatures:\n"
	        "    authorities: [{name: k, key: ../policy/good/keys/"
	        "release.pub}]\n"
	        "commits:\n  signers:\n"
	        "  - {name: bob, allowedSigners: allowed_signers}\n"
	        "  - {name: alice, ssh: key-ed25519.pub}\n";
	char *dir = tt_src_path("tests/data/sshsig");
	tg_policy *p = NULL;

	if (tg_policy_parse(&p, "inline.yaml", yaml, strlen(yaml), dir) < 0)
		fail_msg("%s", tg_error_last());
	free(dir);
	return p;
}

static int verify(tg_commitsig_result *r, const tg_policy *p, const char *sig)
{
	size_t sl = 0, ml;
	char *sd = sig ? tt_read_src(sig, &sl) : NULL;
	char *md = tt_read_src("tests/data/sshsig/payload", &ml);
	int error = tg_commitsig_verify(r, tg_policy_commits_get(p), sd, sl, md,
	                                ml, WHEN);

	free(sd);
	free(md);
	return error;
}

static void test_commitsig_names_the_first_signer_that_accepts(void **state)
{
	tg_policy *p = policy();
	tg_commitsig_result r;

	(void)state;
	/* alice's key is in both files: bob's allowed_signers comes first */
	assert_int_equal(verify(&r, p, "tests/data/sshsig/sig-ed25519"), 0);
	assert_string_equal(r.signer, "bob");
	assert_true(tg_str_has_prefix(r.signed_by, "bob (ssh ed25519 SHA256:"));
	assert_string_equal(r.info.principal, "alice@example.com");
	tg_policy_free(p);
}

static void test_commitsig_refusals_say_why(void **state)
{
	tg_policy *p = policy();
	tg_commitsig_result r;
	const char *pgp = "-----BEGIN PGP SIGNATURE-----\nAAAA\n"
	                  "-----END PGP SIGNATURE-----\n";

	(void)state;
	assert_int_equal(verify(&r, p, NULL), TG_ENOTFOUND);
	assert_string_equal(tg_error_last(), "not signed");
	assert_int_equal(verify(&r, p, "tests/data/sshsig/sig-other"),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "which no signer of the policy lists");
	assert_true(tg_str_has_prefix(r.info.key, "ed25519 SHA256:"));
	assert_null(r.signer);
	/* a listed key's own refusal wins over "not listed" elsewhere */
	assert_int_equal(verify(&r, p, "tests/data/sshsig/sig-ecdsa256"),
	                 TG_EEXPIRED);
	assert_contains(tg_error_last(), "valid only before");
	assert_int_equal(tg_commitsig_verify(&r, tg_policy_commits_get(p), pgp,
	                                     strlen(pgp), "x", 1, WHEN),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "the policy lists no OpenPGP signer");
	assert_int_equal(tg_commitsig_verify(&r, tg_policy_commits_get(p),
	                                     "hello", 5, "x", 1, WHEN),
	                 TG_EPARSE);
	assert_contains(tg_error_last(), "unknown format");
	tg_policy_free(p);
}

/* OpenPGP signers: the gpg signature of tests/data/openpgp/ names its
 * signer with the key's algorithm and fingerprint; another key is
 * refused even when the policy lists OpenPGP keys. */
static void test_commitsig_openpgp_signer(void **state)
{
	const char *yaml =
	        "apiVersion: tollgate.dev/v1alpha1\nkind: Policy\nrules:\n"
	        "- name: r\n  images: ['**']\n  signatures:\n"
	        "    authorities: [{name: k, key: ../policy/good/keys/"
	        "release.pub}]\n"
	        "commits:\n  signers:\n"
	        "  - {name: team, openpgp: keys.asc}\n";
	char *dir = tt_src_path("tests/data/openpgp");
	const tg_policy_commits *c;
	tg_commitsig_result r;
	tg_policy *p = NULL;
	char *sig, *other, *msg;
	size_t sl, ol, ml;

	(void)state;
	if (tg_policy_parse(&p, "inline.yaml", yaml, strlen(yaml), dir) < 0)
		fail_msg("%s", tg_error_last());
	c = tg_policy_commits_get(p);
	sig = tt_read_src("tests/data/openpgp/sig-carol", &sl);
	other = tt_read_src("tests/data/openpgp/sig-other", &ol);
	msg = tt_read_src("tests/data/openpgp/payload", &ml);
	assert_int_equal(
	        tg_commitsig_verify(&r, c, sig, sl, msg, ml, 1767229200), 0);
	assert_string_equal(r.signer, "team");
	assert_true(
	        tg_str_has_prefix(r.signed_by, "team (openpgp ecdsa-p256 "));
	assert_string_equal(r.info.principal, "Carol <carol@example.com>");
	assert_int_equal(
	        tg_commitsig_verify(&r, c, other, ol, msg, ml, 1767229200),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "which no signer of the policy lists");
	assert_true(tg_str_has_prefix(r.info.key, "ed25519 "));
	free(sig);
	free(other);
	free(msg);
	free(dir);
	tg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_commitsig_names_the_first_signer_that_accepts),
		cmocka_unit_test(test_commitsig_refusals_say_why),
		cmocka_unit_test(test_commitsig_openpgp_signer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
