/* Tests of DSSE envelopes, PAE, in-toto statements and attestation
 * verification (verify/sig/dsse.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "testlib.h"
#include "tollgate/authority.h"
#include "tollgate/attestation.h"
#include "tollgate/dsse.h"
#include "tollgate/intoto.h"
#include "tollgate/error.h"
#include "tollgate/keys.h"
#include "tollgate/util.h"

/* The image's digest, and its hex part alone (a statement's subject). */
#define IMAGE_HEX                                                              \
	"634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"
#define IMAGE_DIGEST "sha256:" IMAGE_HEX

/* A signer made for the test: a fresh P-256 key. */
struct signer {
	EVP_PKEY *priv;
	tg_key *pub;
};

static void signer_init(struct signer *s, const char *name)
{
	s->priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(s->priv);
	assert_int_equal(tg_key_from_evp(&s->pub, name, s->priv), 0);
}

static void signer_free(struct signer *s)
{
	tg_key_free(s->pub);
	EVP_PKEY_free(s->priv);
}

static char *sign_b64(struct signer *s, const unsigned char *msg, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[256];
	size_t sig_len = sizeof(sig);
	char *out;

	assert_int_equal(
	        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->priv), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, msg, len), 1);
	EVP_MD_CTX_free(md);
	out = tg_base64_encode(sig, sig_len);
	return out;
}

/* An envelope of payload_type/statement signed by s (or by nobody when
 * s is NULL: a signature of garbage). Caller frees. */
static char *
make_envelope(struct signer *s, const char *payload_type, const char *statement)
{
	unsigned char *pae;
	size_t pae_len;
	char *b64 = tg_base64_encode((const unsigned char *)statement,
	                             strlen(statement));
	char *sig, *env;

	assert_int_equal(tg_dsse_pae(&pae, &pae_len, payload_type,
	                             (const unsigned char *)statement,
	                             strlen(statement)),
	                 0);
	sig = s ? sign_b64(s, pae, pae_len) : tg_strdup("MEUCIQ==");
	env = tg_aprintf("{\"payloadType\":\"%s\",\"payload\":\"%s\","
	                 "\"signatures\":[{\"keyid\":\"k\",\"sig\":\"%s\"}]}",
	                 payload_type, b64, sig);
	free(pae);
	free(b64);
	free(sig);
	return env;
}

static char *statement_for(const char *digest_hex, const char *ptype)
{
	return tg_aprintf("{\"_type\":\"https://in-toto.io/Statement/v1\","
	                  "\"subject\":[{\"name\":\"registry.example.com/"
	                  "acme/api\",\"digest\":{\"sha256\":\"%s\"}}],"
	                  "\"predicateType\":\"%s\",\"predicate\":{\"k\":1}}",
	                  digest_hex, ptype);
}

static void test_dsse_pae_matches_spec_vector(void **state)
{
	unsigned char *pae;
	size_t len;
	const char *want =
	        "DSSEv1 29 http://example.com/HelloWorld 11 hello world";

	(void)state;
	/* The example of the DSSE protocol document. */
	assert_int_equal(tg_dsse_pae(&pae, &len,
	                             "http://example.com/HelloWorld",
	                             (const unsigned char *)"hello world", 11),
	                 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(pae, want, len);
	free(pae);
	assert_int_equal(
	        tg_dsse_pae(&pae, &len, "", (const unsigned char *)"", 0), 0);
	assert_int_equal(len, strlen("DSSEv1 0  0 "));
	assert_memory_equal(pae, "DSSEv1 0  0 ", len);
	free(pae);
}

/* A real key-based DSSE envelope from sigstore-go (npm publish
 * attestation), verified with its published key. */
static void test_dsse_verifies_real_envelope(void **state)
{
	char *bundle = tt_read_fixture(
	        "sigstore-go/examples/bundle-publish.json", NULL);
	char *kpath = tt_fixture_path("sigstore-go/examples/publish_key.pub");
	json_t *doc = json_loads(bundle, 0, NULL);
	char *env_text;
	tg_dsse_envelope *e;
	tg_intoto_statement *st;
	tg_authority auth = { .name = "npm" };
	tg_key *key;
	const unsigned char *payload;
	size_t which = 9, plen;
	char *signer;
	int64_t until;

	(void)state;
	assert_non_null(doc);
	env_text = json_dumps(json_object_get(doc, "dsseEnvelope"), 0);
	assert_int_equal(tg_key_load_file(&key, kpath), 0);
	auth.key = key;
	assert_int_equal(tg_dsse_envelope_parse(&e, (unsigned char *)env_text,
	                                        strlen(env_text)),
	                 0);
	assert_string_equal(tg_dsse_envelope_payload_type(e),
	                    TG_INTOTO_PAYLOAD_TYPE);
	assert_int_equal(tg_dsse_envelope_signature_count(e), 1);
	assert_string_equal(
	        tg_dsse_envelope_keyid(e, 0),
	        "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA");
	assert_int_equal(tg_dsse_envelope_verify(&which, &signer, &until, e,
	                                         &auth, 1, NULL, NULL, NULL),
	                 0);
	assert_int_equal(which, 0);
	assert_string_equal(signer, tg_key_id(key));
	free(signer);
	payload = tg_dsse_envelope_payload(&plen, e);
	assert_int_equal(tg_intoto_statement_parse(&st, payload, plen), 0);
	assert_string_equal(tg_intoto_statement_type(st),
	                    TG_INTOTO_STATEMENT_V01);
	assert_string_equal(
	        tg_intoto_statement_predicate_type(st),
	        "https://github.com/npm/attestation/tree/main/specs/publish/"
	        "v0.1");
	assert_true(tg_intoto_statement_has_subject(
	        st, "sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50"
	            "ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a"
	            "2c6f3dcf3b329b10751"));
	assert_false(tg_intoto_statement_has_subject(st, IMAGE_DIGEST));
	tg_intoto_statement_free(st);
	tg_dsse_envelope_free(e);
	tg_key_free(key);
	free(env_text);
	json_decref(doc);
	free(kpath);
	free(bundle);
}

static void test_dsse_rejects_real_envelope_with_other_key(void **state)
{
	char *bundle = tt_read_fixture(
	        "sigstore-go/examples/bundle-publish.json", NULL);
	char *kpath = tt_fixture_path("containers-image/cosign.pub");
	json_t *doc = json_loads(bundle, 0, NULL);
	char *env_text = json_dumps(json_object_get(doc, "dsseEnvelope"), 0);
	tg_authority auth = { .name = "release" };
	tg_dsse_envelope *e;
	tg_key *key;
	size_t which;
	char *signer;
	int64_t until;

	(void)state;
	assert_int_equal(tg_key_load_file(&key, kpath), 0);
	auth.key = key;
	assert_int_equal(tg_dsse_envelope_parse(&e, (unsigned char *)env_text,
	                                        strlen(env_text)),
	                 0);
	assert_int_equal(tg_dsse_envelope_verify(&which, &signer, &until, e,
	                                         &auth, 1, NULL, NULL, NULL),
	                 TG_EUNTRUSTED);
	assert_null(signer);
	assert_contains(tg_error_last(), "key \"release\"");
	tg_dsse_envelope_free(e);
	tg_key_free(key);
	free(env_text);
	json_decref(doc);
	free(kpath);
	free(bundle);
}

/* The error code each file of tests/data/dsse/bad must give; the text it
 * must say is on its "# error:" line. */
static const struct {
	const char *file;
	int code;
} bad_codes[] = {
	{ "envelope-duplicate-key.json", TG_EPARSE },
	{ "envelope-no-signatures.json", TG_EPARSE },
	{ "envelope-sig-not-base64.json", TG_EPARSE },
	{ "envelope-payload-not-base64.json", TG_EPARSE },
	{ "envelope-no-payload-type.json", TG_EPARSE },
	{ "envelope-signatures-not-array.json", TG_EPARSE },
	{ "envelope-keyid-not-string.json", TG_EPARSE },
	{ "envelope-truncated.json", TG_EPARSE },
	{ "envelope-too-many-signatures.json", TG_ETOOBIG },
	{ "statement-wrong-type.json", TG_EPARSE },
	{ "statement-no-subject.json", TG_EPARSE },
	{ "statement-empty-subject.json", TG_EPARSE },
	{ "statement-subject-digest-not-object.json", TG_EPARSE },
	{ "statement-digest-value-not-string.json", TG_EPARSE },
	{ "statement-no-predicate-type.json", TG_EPARSE },
	{ "statement-predicate-string.json", TG_EPARSE },
	{ "statement-duplicate-key.json", TG_EPARSE },
};

static int bad_code(const char *file)
{
	size_t i;

	for (i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++)
		if (!strcmp(bad_codes[i].file, file))
			return bad_codes[i].code;
	fail_msg("%s: no error code in bad_codes", file);
	return 0;
}

/* envelope-*.json are envelopes, statement-*.json in-toto statements. */
static void check_bad_input(const tt_bad_case *c, void *ctx)
{
	const unsigned char *in = (const unsigned char *)c->input;
	tg_dsse_envelope *e = (tg_dsse_envelope *)1;
	tg_intoto_statement *s = (tg_intoto_statement *)1;
	int r;

	(void)ctx;
	if (!strncmp(c->name, "envelope-", 9)) {
		r = tg_dsse_envelope_parse(&e, in, c->input_len);
		assert_null(e);
	} else {
		r = tg_intoto_statement_parse(&s, in, c->input_len);
		assert_null(s);
	}
	if (r != bad_code(c->name)) {
		print_error("%s: expected %d, got: %s\n", c->name,
		            bad_code(c->name), tg_error_last());
		fail();
	}
	assert_contains(tg_error_last(), c->expected);
}

static void test_dsse_rejects_hostile_inputs(void **state)
{
	(void)state;
	assert_int_equal(tt_each_bad_case("tests/data/dsse/bad", ".json",
	                                  check_bad_input, NULL),
	                 (int)(sizeof(bad_codes) / sizeof(bad_codes[0])));
}

static void test_dsse_accepts_url_safe_base64(void **state)
{
	/* "{}?" in URL-safe base64 without padding is "e30_". */
	const char *env = "{\"payloadType\":\"t\",\"payload\":\"e30_\","
	                  "\"signatures\":[{\"sig\":\"-_8\"}]}";
	tg_dsse_envelope *e;
	const unsigned char *p;
	size_t len;

	(void)state;
	assert_int_equal(tg_dsse_envelope_parse(&e, (const unsigned char *)env,
	                                        strlen(env)),
	                 0);
	p = tg_dsse_envelope_payload(&len, e);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "{}?", 3);
	p = tg_dsse_envelope_signature(&len, e, 0);
	assert_int_equal(len, 2);
	assert_int_equal(p[0], 0xfb);
	assert_int_equal(p[1], 0xff);
	assert_string_equal(tg_dsse_envelope_keyid(e, 0), "");
	tg_dsse_envelope_free(e);
}

static void test_dsse_rejects_hostile_statements(void **state)
{
	json_t *st, *subj, *one;
	char *text;
	tg_intoto_statement *s;
	int i;

	(void)state;
	/* Over the subject limit. */
	st = json_pack("{s:s, s:[], s:s}", "_type", TG_INTOTO_STATEMENT_V1,
	               "subject", "predicateType", "x");
	subj = json_object_get(st, "subject");
	one = json_pack("{s:s, s:{s:s}}", "name", "n", "digest", "sha256",
	                "00");
	for (i = 0; i <= 4096; i++)
		json_array_append(subj, one);
	text = json_dumps(st, 0);
	assert_int_equal(tg_intoto_statement_parse(&s, (unsigned char *)text,
	                                           strlen(text)),
	                 TG_ETOOBIG);
	assert_contains(tg_error_last(), "4097 subjects");
	free(text);
	json_decref(one);
	json_decref(st);
}

/* An in-toto v1 statement: its type, predicate type and the name of the
 * subject with the image's digest. */
static void test_dsse_statement_v1(void **state)
{
	size_t len;
	char *data =
	        tt_read_src("tests/data/dsse/good/statement-v1.json", &len);
	tg_intoto_statement *s;

	(void)state;
	assert_int_equal(
	        tg_intoto_statement_parse(&s, (unsigned char *)data, len), 0);
	assert_string_equal(tg_intoto_statement_type(s),
	                    TG_INTOTO_STATEMENT_V1);
	assert_string_equal(tg_intoto_statement_predicate_type(s),
	                    "https://spdx.dev/Document");
	assert_int_equal(tg_intoto_statement_subject_count(s), 1);
	assert_string_equal(tg_intoto_statement_subject_name(s, IMAGE_DIGEST),
	                    "x");
	tg_intoto_statement_free(s);
	free(data);
}

static void test_dsse_statement_subject_matching(void **state)
{
	size_t len;
	char *data = tt_read_src("tests/data/dsse/good/statement-v01-no-"
	                         "predicate.json",
	                         &len);
	tg_intoto_statement *s;

	(void)state;
	assert_int_equal(
	        tg_intoto_statement_parse(&s, (unsigned char *)data, len), 0);
	assert_int_equal(tg_intoto_statement_subject_count(s), 2);
	/* Matched by digest whatever the subject name; hex case-blind. */
	assert_true(tg_intoto_statement_has_subject(s, IMAGE_DIGEST));
	assert_false(tg_intoto_statement_has_subject(
	        s, "sha256:0000000000000000000000000000000000000000000000000000"
	           "000000000000"));
	/* A prefix of the digest is not the digest. */
	assert_false(tg_intoto_statement_has_subject(s, "sha256:634a8f35"));
	assert_true(json_is_object(tg_intoto_statement_predicate(s)));
	assert_int_equal(json_object_size(tg_intoto_statement_predicate(s)), 0);
	tg_intoto_statement_free(s);
	free(data);
}

static void test_dsse_attestation_verifies_and_checks_subject(void **state)
{
	struct signer good, other;
	tg_authority auths[2];
	char *st = statement_for(IMAGE_HEX, "https://spdx.dev/Document");
	char *env;
	tg_dsse_layer layer = { .media_type = TG_DSSE_MEDIA_TYPE,
		                .digest = "sha256:ab" };
	tg_attestation *a;

	(void)state;
	signer_init(&good, "sbom-key");
	signer_init(&other, "other");
	auths[0] = (tg_authority){ .name = "other", .key = other.pub };
	auths[1] = (tg_authority){ .name = "release", .key = good.pub };
	env = make_envelope(&good, TG_INTOTO_PAYLOAD_TYPE, st);
	layer.envelope = (unsigned char *)env;
	layer.envelope_len = strlen(env);
	assert_int_equal(
	        tg_attestation_verify(&a, &layer, IMAGE_DIGEST, auths, 2), 0);
	assert_string_equal(tg_attestation_authority(a), "release");
	assert_string_equal(tg_attestation_signer(a), tg_key_id(good.pub));
	assert_string_equal(tg_attestation_predicate_type(a),
	                    "https://spdx.dev/Document");
	assert_int_equal(json_integer_value(json_object_get(
	                         tg_attestation_predicate(a), "k")),
	                 1);
	assert_string_equal(tg_attestation_digest(a), "sha256:ab");
	tg_attestation_free(a);

	/* The same envelope for another image: subject mismatch. */
	assert_int_equal(tg_attestation_verify(
	                         &a, &layer,
	                         "sha256:1111111111111111111111111111111111"
	                         "111111111111111111111111111111",
	                         auths, 2),
	                 TG_EINVALID);
	assert_null(a);
	assert_contains(tg_error_last(), "subjects do not include");

	/* Only the other key is trusted: untrusted. */
	assert_int_equal(
	        tg_attestation_verify(&a, &layer, IMAGE_DIGEST, auths, 1),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "no signature of the DSSE envelope");
	free(env);

	/* Signed, but the payloadType is not in-toto. */
	env = make_envelope(&good, "application/json", st);
	layer.envelope = (unsigned char *)env;
	layer.envelope_len = strlen(env);
	assert_int_equal(
	        tg_attestation_verify(&a, &layer, IMAGE_DIGEST, auths, 2),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "payloadType \"application/json\"");
	free(env);

	/* Wrong layer media type. */
	layer.media_type = "application/json";
	assert_int_equal(
	        tg_attestation_verify(&a, &layer, IMAGE_DIGEST, auths, 2),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "layer media type");
	free(st);
	signer_free(&good);
	signer_free(&other);
}

/* A signature over the payload (not the PAE) must not verify: PAE binds
 * the payload type, so a signed blob cannot be replayed as a statement. */
static void test_dsse_signature_must_cover_pae(void **state)
{
	struct signer s;
	tg_authority auth;
	char *st = statement_for(IMAGE_HEX, "https://spdx.dev/Document");
	char *b64 = tg_base64_encode((unsigned char *)st, strlen(st));
	char *sig, *env;
	tg_dsse_layer layer = { .media_type = TG_DSSE_MEDIA_TYPE };
	tg_attestation *a;

	(void)state;
	signer_init(&s, "k");
	auth = (tg_authority){ .name = "release", .key = s.pub };
	sig = sign_b64(&s, (unsigned char *)st, strlen(st));
	env = tg_aprintf("{\"payloadType\":\"%s\",\"payload\":\"%s\","
	                 "\"signatures\":[{\"sig\":\"%s\"}]}",
	                 TG_INTOTO_PAYLOAD_TYPE, b64, sig);
	layer.envelope = (unsigned char *)env;
	layer.envelope_len = strlen(env);
	assert_int_equal(
	        tg_attestation_verify(&a, &layer, IMAGE_DIGEST, &auth, 1),
	        TG_EUNTRUSTED);
	free(env);
	free(sig);
	free(b64);
	free(st);
	signer_free(&s);
}

static void test_dsse_keyless_authority_fails_closed(void **state)
{
	char *st = statement_for(IMAGE_HEX, "https://spdx.dev/Document");
	char *env = make_envelope(NULL, TG_INTOTO_PAYLOAD_TYPE, st);
	tg_authority auth = { .name = "ci" };
	tg_dsse_layer layer = { .media_type = TG_DSSE_MEDIA_TYPE };
	tg_attestation *a;

	(void)state;
	layer.envelope = (unsigned char *)env;
	layer.envelope_len = strlen(env);
	assert_int_equal(
	        tg_attestation_verify(&a, &layer, IMAGE_DIGEST, &auth, 1),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "keyless verification is not");
	free(env);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsse_pae_matches_spec_vector),
		cmocka_unit_test(test_dsse_verifies_real_envelope),
		cmocka_unit_test(
		        test_dsse_rejects_real_envelope_with_other_key),
		cmocka_unit_test(test_dsse_rejects_hostile_inputs),
		cmocka_unit_test(test_dsse_accepts_url_safe_base64),
		cmocka_unit_test(test_dsse_rejects_hostile_statements),
		cmocka_unit_test(test_dsse_statement_v1),
		cmocka_unit_test(test_dsse_statement_subject_matching),
		cmocka_unit_test(
		        test_dsse_attestation_verifies_and_checks_subject),
		cmocka_unit_test(test_dsse_signature_must_cover_pae),
		cmocka_unit_test(test_dsse_keyless_authority_fails_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
