/*
 * Tests of cosign v3 referrer bundles (verify/oci/referrer.c) on the bundles of
 * tests/data/bundles, made by sigstore-js for the committed image there:
 * signatures and attestations told apart by the verified statement, key
 * authorities with and without rekor.required, bundles for another image,
 * by another key or changed after signing, and referrer manifests of the
 * wrong shape.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/referrer.h"
#include "tollgate/util.h"

#include <jansson.h>

/* sha256 of tests/data/bundles/image/manifest.json: what the bundles sign. */
#define IMAGE                                                                  \
	"sha256:"                                                              \
	"a8a89ddac563a6c7d1d02a9f0a0b4f9d6e0b7cc4ad881f3551ab633da2192a29"
#define OTHER                                                                  \
	"sha256:"                                                              \
	"1111111111111111111111111111111111111111111111111111111111111111"

typedef struct fixture {
	tg_key *key;
	tg_policy_authority auth;
	const tg_policy_authority *auths[1];
	tg_policy_signatures sigs;
} fixture;

static int setup(void **state)
{
	fixture *f = tg_calloc(1, sizeof(*f));
	char *path = tt_src_path("tests/data/bundles/keys/release.pub");

	assert_int_equal(tg_key_load_file(&f->key, path), 0);
	free(path);
	f->auth.name = "release";
	f->auth.kind = TG_AUTHORITY_KEY;
	f->auth.key = f->key;
	f->auths[0] = &f->auth;
	f->sigs.threshold = 1;
	f->sigs.authorities = f->auths;
	f->sigs.nauthorities = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tg_key_free(f->key);
	free(f);
	return 0;
}

/* Verify the bundle file rel under f's authorities for digest. */
static int verify_file(tg_referrer_bundle **out,
                       const fixture *f,
                       const char *rel,
                       const char *digest)
{
	size_t len;
	char *json = tt_read_src(rel, &len);
	int error;

	error = tg_referrer_verify(out, "referrer sha256:ab",
	                           (unsigned char *)json, len, digest,
	                           &f->sigs);
	free(json);
	return error;
}

static void test_referrer_sign_bundle_is_a_signature(void **state)
{
	fixture *f = *state;
	tg_referrer_bundle *b = NULL;

	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/good/"
	                             "sign.sigstore.json",
	                             IMAGE),
	                 0);
	assert_int_equal(b->kind, TG_REFERRER_SIGNATURE);
	assert_int_equal(b->authority, 0);
	assert_string_equal(b->signer, tg_key_id(f->key));
	assert_null(b->issuer);
	assert_int_equal(b->log_index, -1);
	assert_string_equal(b->subject_name, "tollgate.test/bundles/app");
	assert_null(b->attestation);
	tg_referrer_bundle_free(b);
}

static void test_referrer_message_bundle_is_a_signature(void **state)
{
	fixture *f = *state;
	tg_referrer_bundle *b = NULL;

	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/good/"
	                             "message.sigstore.json",
	                             IMAGE),
	                 0);
	assert_int_equal(b->kind, TG_REFERRER_SIGNATURE);
	assert_null(b->subject_name);
	tg_referrer_bundle_free(b);
	/* The message signature is over the image digest: another digest
	 * does not verify. */
	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/good/"
	                             "message.sigstore.json",
	                             OTHER),
	                 TG_EUNTRUSTED);
	assert_null(b);
}

static void test_referrer_sbom_bundle_is_an_attestation(void **state)
{
	fixture *f = *state;
	tg_referrer_bundle *b = NULL;

	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/good/"
	                             "sbom.sigstore.json",
	                             IMAGE),
	                 0);
	assert_int_equal(b->kind, TG_REFERRER_ATTESTATION);
	assert_non_null(b->attestation);
	assert_string_equal(tg_attestation_predicate_type(b->attestation),
	                    "https://spdx.dev/Document");
	assert_string_equal(tg_attestation_authority(b->attestation),
	                    "release");
	assert_string_equal(tg_attestation_digest(b->attestation),
	                    "referrer sha256:ab");
	assert_string_equal(json_string_value(json_object_get(
	                            tg_attestation_predicate(b->attestation),
	                            "spdxVersion")),
	                    "SPDX-2.3");
	tg_referrer_bundle_free(b);
}

static void test_referrer_rejects_bad_bundles(void **state)
{
	fixture *f = *state;
	tg_referrer_bundle *b = NULL;

	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/untrusted/"
	                             "other-digest.sigstore.json",
	                             IMAGE),
	                 TG_EUNTRUSTED);
	assert_null(b);
	assert_contains(tg_error_last(), "authority \"release\"");
	assert_contains(tg_error_last(), "digest is not among the 1 subjects");
	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/untrusted/"
	                             "stranger.sigstore.json",
	                             IMAGE),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "signature does not verify");
	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/untrusted/"
	                             "tampered.sigstore.json",
	                             IMAGE),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "DSSE envelope signature");
}

/* A key authority: no log entry needed unless the policy says so. */
static void test_referrer_key_with_rekor_required(void **state)
{
	fixture *f = *state;
	tg_referrer_bundle *b = NULL;

	f->auth.rekor.required = true;
	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/good/"
	                             "sign.sigstore.json",
	                             IMAGE),
	                 TG_EUNTRUSTED);
	f->auth.rekor.required = false;
	assert_null(b);
	assert_contains(tg_error_last(),
	                "0 transparency log entries verified; 1 required");
}

/* The second authority verifies: its index is reported. */
static void test_referrer_second_authority(void **state)
{
	fixture *f = *state;
	const tg_policy_authority *two[2];
	tg_policy_authority other = { 0 };
	tg_key *k = NULL;
	tg_referrer_bundle *b = NULL;
	char *path = tt_src_path("tests/data/bundles/keys/stranger.pub");

	assert_int_equal(tg_key_load_file(&k, path), 0);
	other.name = "stranger";
	other.kind = TG_AUTHORITY_KEY;
	other.key = k;
	two[0] = &other;
	two[1] = &f->auth;
	f->sigs.authorities = two;
	f->sigs.nauthorities = 2;
	assert_int_equal(verify_file(&b, f,
	                             "tests/data/bundles/good/"
	                             "sign.sigstore.json",
	                             IMAGE),
	                 0);
	f->sigs.authorities = f->auths;
	f->sigs.nauthorities = 1;
	assert_int_equal(b->authority, 1);
	tg_referrer_bundle_free(b);
	tg_key_free(k);
	free(path);
}

static void test_referrer_rejects_truncated_bundle(void **state)
{
	fixture *f = *state;
	tg_referrer_bundle *b = NULL;
	size_t len;
	char *json =
	        tt_read_src("tests/data/bundles/good/sign.sigstore.json", &len);

	assert_true(tg_referrer_verify(&b, "r", (unsigned char *)json, len / 2,
	                               IMAGE, &f->sigs) < 0);
	assert_null(b);
	assert_contains(tg_error_last(), "malformed JSON");
	free(json);
}

/* The subject digest ("sha512:<hex>") of the statement in a DSSE bundle. */
static char *statement_digest(const char *json, size_t len)
{
	json_t *doc = json_loadb(json, len, 0, NULL), *st;
	const char *p;
	unsigned char *raw = NULL;
	size_t rlen;
	char *out;

	assert_non_null(doc);
	p = json_string_value(json_object_get(
	        json_object_get(doc, "dsseEnvelope"), "payload"));
	assert_non_null(p);
	assert_int_equal(tg_base64_decode(&raw, &rlen, p, strlen(p)), 0);
	st = json_loadb((const char *)raw, rlen, 0, NULL);
	assert_non_null(st);
	out = tg_aprintf(
	        "sha512:%s",
	        json_string_value(json_object_get(
	                json_object_get(
	                        json_array_get(json_object_get(st, "subject"),
	                                       0),
	                        "digest"),
	                "sha512")));
	json_decref(st);
	json_decref(doc);
	free(raw);
	return out;
}

/* A keyless bundle (sigstore-js's own release provenance, logged in
 * Rekor): the evidence names the identity, the issuer and the log entry. */
static void test_referrer_keyless_provenance(void **state)
{
	tg_policy_keyless k = { 0 };
	tg_policy_authority a = { 0 };
	const tg_policy_authority *auths[1] = { &a };
	tg_policy_signatures sigs = { 0 };
	tg_referrer_bundle *b = NULL;
	size_t len;
	char *json = tt_read_fixture("sigstore-go/examples/"
	                             "bundle-provenance.json",
	                             &len);
	char *digest = statement_digest(json, len);

	(void)state;
	k.issuer = "https://token.actions.githubusercontent.com";
	k.subject = "https://github.com/sigstore/sigstore-js/.github/"
	            "workflows/release.yml@refs/heads/main";
	k.ctlog.required = true;
	a.name = "sigstore-js";
	a.kind = TG_AUTHORITY_KEYLESS;
	a.keyless = &k;
	a.rekor.required = true;
	sigs.threshold = 1;
	sigs.authorities = auths;
	sigs.nauthorities = 1;
	assert_int_equal(tg_referrer_verify(&b, "referrer sha256:cd",
	                                    (unsigned char *)json, len, digest,
	                                    &sigs),
	                 0);
	assert_int_equal(b->kind, TG_REFERRER_ATTESTATION);
	assert_string_equal(b->signer, k.subject);
	assert_string_equal(b->issuer, k.issuer);
	assert_true(b->log_index > 0);
	assert_true(b->integrated_time > 1600000000);
	assert_string_equal(tg_attestation_signer(b->attestation), k.subject);
	tg_referrer_bundle_free(b);
	/* Another identity: rejected, and the reason names it. */
	k.subject = "https://github.com/acme/api/.github/workflows/"
	            "release.yml@refs/heads/main";
	assert_int_equal(tg_referrer_verify(&b, "referrer sha256:cd",
	                                    (unsigned char *)json, len, digest,
	                                    &sigs),
	                 TG_EUNTRUSTED);
	assert_null(b);
	assert_contains(tg_error_last(), "authority \"sigstore-js\"");
	free(digest);
	free(json);
}

static tg_oci_manifest *parse(const char *json)
{
	tg_oci_manifest *m = NULL;

	assert_int_equal(
	        tg_oci_manifest_parse(&m, "referrer", NULL, json, strlen(json)),
	        0);
	return m;
}

#define LAYER(mt)                                                              \
	"{\"mediaType\":\"" mt "\",\"size\":10,\"digest\":\"sha256:"           \
	"2222222222222222222222222222222222222222222222222222222222222222\"}"
#define REFERRER(subject, layers)                                              \
	"{\"schemaVersion\":2,\"mediaType\":"                                  \
	"\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":"     \
	"\"" TG_REFERRER_BUNDLE_TYPE "\",\"config\":{\"mediaType\":"           \
	"\"application/vnd.oci.empty.v1+json\",\"size\":2,\"digest\":"         \
	"\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61c"  \
	"aaff8a\"},\"layers\":[" layers "],\"subject\":{\"mediaType\":"        \
	"\"application/vnd.oci.image.manifest.v1+json\",\"size\":5,"           \
	"\"digest\":\"" subject "\"}}"

static void test_referrer_bundle_layer(void **state)
{
	tg_oci_manifest *m;
	const tg_descriptor *d = NULL;

	(void)state;
	m = parse(REFERRER(IMAGE, LAYER(TG_REFERRER_BUNDLE_TYPE)));
	assert_int_equal(tg_referrer_bundle_layer(&d, m, IMAGE), 0);
	assert_ptr_equal(d, &m->layers[0]);
	/* Listed for one image, the manifest names another. */
	assert_int_equal(tg_referrer_bundle_layer(&d, m, OTHER), TG_EINVALID);
	assert_null(d);
	assert_contains(tg_error_last(),
	                "subject is " IMAGE ", not this image");
	tg_oci_manifest_free(m);

	m = parse(REFERRER(IMAGE, LAYER("application/spdx+json")));
	assert_int_equal(tg_referrer_bundle_layer(&d, m, IMAGE), TG_EINVALID);
	assert_contains(tg_error_last(), "no layer of media type");
	tg_oci_manifest_free(m);

	m = parse(REFERRER(IMAGE, LAYER(TG_REFERRER_BUNDLE_TYPE) "," LAYER(
	                                  TG_REFERRER_BUNDLE_TYPE)));
	assert_int_equal(tg_referrer_bundle_layer(&d, m, IMAGE), TG_EINVALID);
	assert_contains(tg_error_last(), "more than one bundle layer");
	tg_oci_manifest_free(m);
}

static void test_referrer_kind_hint(void **state)
{
	(void)state;
	assert_int_equal(tg_referrer_kind_hint(NULL), TG_REFERRER_SIGNATURE);
	assert_int_equal(
	        tg_referrer_kind_hint("https://sigstore.dev/cosign/sign/v1"),
	        TG_REFERRER_SIGNATURE);
	assert_int_equal(tg_referrer_kind_hint("https://spdx.dev/Document"),
	                 TG_REFERRER_ATTESTATION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_referrer_sign_bundle_is_a_signature),
		cmocka_unit_test(test_referrer_message_bundle_is_a_signature),
		cmocka_unit_test(test_referrer_sbom_bundle_is_an_attestation),
		cmocka_unit_test(test_referrer_rejects_bad_bundles),
		cmocka_unit_test(test_referrer_key_with_rekor_required),
		cmocka_unit_test(test_referrer_second_authority),
		cmocka_unit_test(test_referrer_rejects_truncated_bundle),
		cmocka_unit_test(test_referrer_keyless_provenance),
		cmocka_unit_test(test_referrer_bundle_layer),
		cmocka_unit_test(test_referrer_kind_hint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
