/*
 * Tests of Rekor v2 bundles (verify/sigstore/rekor.c, bundle.c, tlog.c):
 * the bundles of tests/data/bundles/rekor2, made by
 * tests/tools/make-rekor2-bundles.py with logs, a certificate authority and
 * a timestamp authority of its own. A DSSE attestation (keyless) and cosign
 * v3 signatures (a key) logged as dsse 0.0.2 entries in logs whose
 * checkpoints are signed by Ed25519, ECDSA P-256/P-384 and RSA keys must
 * verify; entries that do not match the envelope, bundles without a trusted
 * timestamp and checkpoints without a valid signature of the log must not.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/bundle.h"
#include "tollgate/error.h"
#include "tollgate/keys.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

#define DIR "tests/data/bundles/rekor2/"
#define IDENTITY                                                               \
	"https://github.com/acme/app/.github/workflows/release.yml@refs/"      \
	"tags/v1.0.0"
#define ISSUER "https://token.actions.githubusercontent.com"

static const tg_keyless_policy acme = {
	.subject = IDENTITY,
	.issuer = ISSUER,
};

/* One bundle: keyless ones are for artifact.txt, key ones for the image. */
typedef struct rcase {
	const char *file;
	bool keyless;
	const char *error; /* NULL: must verify */
} rcase;

static const rcase cases[] = {
	{ "good/attestation-ed25519.json", true, NULL },
	{ "good/cosign-sign-ed25519.json", false, NULL },
	{ "good/cosign-sign-p256.json", false, NULL },
	{ "good/cosign-sign-p384.json", false, NULL },
	{ "good/cosign-sign-rsa.json", false, NULL },
	{ "good/checkpoint-witness-first.json", false, NULL },
	{ "good/checkpoint-extra-key-same-name.json", true, NULL },
	{ "bad/payload-hash-mismatch.json", true,
	  "log entry's payload hash does not match" },
	{ "bad/entry-signature-mismatch.json", true,
	  "log entry's signature does not match" },
	{ "bad/entry-other-certificate.json", true,
	  "log entry's certificate is not the bundle's" },
	{ "bad/entry-other-key.json", false,
	  "log entry's public key is not the given key" },
	{ "bad/entry-two-signatures.json", true,
	  "does not hold exactly the envelope's one signature" },
	{ "bad/entry-sha384-payload-hash.json", true,
	  "payload hash algorithm \"SHA2_384\" is not SHA2_256" },
	{ "bad/statement-tampered.json", true,
	  "DSSE envelope signature: signature does not verify" },
	{ "bad/no-timestamp.json", true,
	  "no verified signing time: a Rekor v2 log entry carries none" },
	{ "bad/key-no-timestamp.json", false,
	  "no verified signing time: a Rekor v2 log entry carries none" },
	{ "bad/timestamp-other-signature.json", true,
	  "does not verify over this signature" },
	{ "bad/checkpoint-corrupt-log-signature.json", true,
	  "signature of log2026-ed.tollgate.test does not verify" },
	{ "bad/checkpoint-wrong-name.json", true,
	  "none of its 1 signatures is by log" },
	{ "bad/checkpoint-p256-wrong-name.json", false,
	  "none of its 1 signatures is by log" },
	{ "bad/checkpoint-ed25519-spki-key-id.json", true,
	  "none of its 1 signatures is by log" },
	{ "bad/checkpoint-p256-ed25519-key-id.json", false,
	  "none of its 1 signatures is by log" },
	{ "bad/checkpoint-only-witness.json", false,
	  "none of its 1 signatures is by log" },
};

typedef struct env {
	tg_trustroot *root;
	tg_key *key;
	char *artifact;
	size_t artifact_len;
	char image[TG_DIGEST_STR_LEN + 2];
} env;

static void env_load(env *e)
{
	size_t len;
	char *s;

	memset(e, 0, sizeof(*e));
	s = tt_read_src(DIR "trusted_root.json", &len);
	assert_int_equal(tg_trustroot_parse(&e->root, "rekor2 root", s, len),
	                 0);
	free(s);
	s = tt_read_src(DIR "keys/release.pub", &len);
	assert_int_equal(tg_key_from_pem(&e->key, "release", s, len), 0);
	free(s);
	e->artifact = tt_read_src(DIR "artifact.txt", &e->artifact_len);
	s = tt_read_src(DIR "image-digest", &len);
	assert_true(len == TG_DIGEST_STR_LEN + 1);
	memcpy(e->image, s, TG_DIGEST_STR_LEN);
	e->image[TG_DIGEST_STR_LEN] = '\0';
	free(s);
}

static void env_free(env *e)
{
	tg_trustroot_free(e->root);
	tg_key_free(e->key);
	free(e->artifact);
}

/* Verify one case; as_digest gives a keyless case's artifact as a digest. */
static int run_case(env *e, const rcase *c, bool as_digest)
{
	tg_sigstore_evidence *ev = NULL;
	tg_sigstore_policy pol = { 0 };
	tg_artifact art = { 0 };
	char rel[256], digest[TG_DIGEST_STR_LEN + 1];
	size_t len;
	char *json;
	int error;

	snprintf(rel, sizeof(rel), DIR "%s", c->file);
	json = tt_read_src(rel, &len);
	pol.root = e->root;
	if (c->keyless) {
		pol.keyless = &acme;
		art.data = (const unsigned char *)e->artifact;
		art.len = e->artifact_len;
		if (as_digest) {
			tg_sha256_digest_str(digest, e->artifact,
			                     e->artifact_len);
			art.data = NULL;
			art.digest = digest;
		}
	} else {
		pol.key = e->key;
		art.digest = e->image;
	}
	error = tg_bundle_verify(&ev, c->file, json, len, &art, &pol);
	if (error == 0) {
		/* Rekor v2: the time comes from the timestamp alone. */
		assert_true(ev->timestamp > 0);
		assert_int_equal(ev->integrated_time, -1);
		assert_string_equal(ev->signer,
		                    c->keyless ? IDENTITY : tg_key_id(e->key));
	}
	tg_sigstore_evidence_free(ev);
	free(json);
	return error;
}

static void test_rekor2_cases(void **state)
{
	env e;
	size_t i;
	int error;

	(void)state;
	env_load(&e);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const rcase *c = &cases[i];

		print_message("%s\n", c->file);
		error = run_case(&e, c, false);
		if (!c->error) {
			if (error != 0)
				fail_msg("%s: %s", c->file, tg_error_last());
			if (c->keyless)
				assert_int_equal(run_case(&e, c, true), 0);
			continue;
		}
		assert_true(error < 0);
		assert_contains(tg_error_last(), c->error);
	}
	env_free(&e);
}

/* The same good bundle under a trust root without its log fails. */
static void test_rekor2_rejects_unknown_log(void **state)
{
	static const rcase c = { "good/cosign-sign-p384.json", false, NULL };
	tg_trustroot *empty = NULL;
	env e;

	(void)state;
	env_load(&e);
	assert_int_equal(tg_trustroot_new(&empty), 0);
	tg_trustroot_free(e.root);
	e.root = empty;
	assert_true(run_case(&e, &c, false) < 0);
	assert_contains(tg_error_last(), "not in the trust root");
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rekor2_cases),
		cmocka_unit_test(test_rekor2_rejects_unknown_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
