/* Tests of public key loading and signature checks (verify/sig/keys.c). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/keys.h"
#include "tollgate/util.h"

/* The payload and signature of a real cosign signature: the fixture file is
 * 15 bytes "\0sigstore-json\n" then JSON with payload and annotations. */
static void load_cosign_fixture(const char *rel,
                                unsigned char **payload,
                                size_t *payload_len,
                                unsigned char **sig,
                                size_t *sig_len)
{
	size_t len;
	char *data = tt_read_fixture(rel, &len);
	json_t *doc = json_loadb(data + 15, len - 15, 0, NULL);
	const char *p, *s;

	assert_non_null(doc);
	p = json_string_value(json_object_get(doc, "payload"));
	s = json_string_value(
	        json_object_get(json_object_get(doc, "annotations"),
	                        "dev.cosignproject.cosign/signature"));
	assert_non_null(p);
	assert_non_null(s);
	assert_int_equal(tg_base64_decode(payload, payload_len, p, strlen(p)),
	                 0);
	assert_int_equal(tg_base64_decode(sig, sig_len, s, strlen(s)), 0);
	json_decref(doc);
	free(data);
}

static void test_keys_verifies_real_cosign_signature(void **state)
{
	unsigned char *payload, *sig;
	size_t payload_len, sig_len;
	tg_key *key;
	char *path = tt_fixture_path("containers-image/cosign.pub");

	(void)state;
	assert_int_equal(tg_key_load_file(&key, path), 0);
	assert_int_equal(tg_key_type(key), TG_KEY_ECDSA_P256);
	assert_string_equal(tg_key_type_name(key), "ecdsa-p256");
	assert_true(tg_digest_is_valid(tg_key_id(key)));
	load_cosign_fixture("containers-image/dir-img-cosign-valid/signature-1",
	                    &payload, &payload_len, &sig, &sig_len);
	assert_int_equal(tg_key_verify(key, TG_HASH_DEFAULT, payload,
	                               payload_len, sig, sig_len),
	                 0);
	/* One changed byte of the payload must break it. */
	payload[10] ^= 1;
	assert_int_equal(tg_key_verify(key, TG_HASH_DEFAULT, payload,
	                               payload_len, sig, sig_len),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not verify with ecdsa-p256 key");
	free(payload);
	free(sig);
	tg_key_free(key);
	free(path);
}

static void test_keys_rejects_signature_by_other_key(void **state)
{
	unsigned char *payload, *sig;
	size_t payload_len, sig_len;
	tg_key *key;
	char *path = tt_fixture_path("containers-image/cosign2.pub");

	(void)state;
	assert_int_equal(tg_key_load_file(&key, path), 0);
	load_cosign_fixture("containers-image/dir-img-cosign-valid/signature-1",
	                    &payload, &payload_len, &sig, &sig_len);
	assert_int_equal(tg_key_verify(key, TG_HASH_DEFAULT, payload,
	                               payload_len, sig, sig_len),
	                 TG_EUNTRUSTED);
	free(payload);
	free(sig);
	tg_key_free(key);
	free(path);
}

/* Generate a key, sign msg with it, and load its public half as PEM. */
static void sign_with_fresh_key(EVP_PKEY *priv,
                                const EVP_MD *md,
                                int pss,
                                const char *msg,
                                tg_key **pub,
                                unsigned char *sig,
                                size_t *sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long pem_len;

	assert_non_null(priv);
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, priv), 1);
	if (pss)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(
		                         pctx, RSA_PKCS1_PSS_PADDING),
		                 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, sig_len,
	                                (const unsigned char *)msg,
	                                strlen(msg)),
	                 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, priv), 1);
	pem_len = BIO_get_mem_data(bio, &pem);
	assert_int_equal(tg_key_from_pem(pub, "fresh", pem, (size_t)pem_len),
	                 0);
	BIO_free(bio);
}

static void
check_roundtrip(EVP_PKEY *priv, const EVP_MD *md, int pss, tg_key_kind type)
{
	const char *msg = "DSSEv1 28 application/vnd.in-toto+json 2 {}";
	unsigned char sig[1024];
	size_t sig_len = sizeof(sig);
	tg_key *pub = NULL;

	sign_with_fresh_key(priv, md, pss, msg, &pub, sig, &sig_len);
	assert_int_equal(tg_key_type(pub), type);
	assert_int_equal(tg_key_verify(pub, TG_HASH_DEFAULT,
	                               (const unsigned char *)msg, strlen(msg),
	                               sig, sig_len),
	                 0);
	sig[sig_len / 2] ^= 0x40;
	assert_int_equal(tg_key_verify(pub, TG_HASH_DEFAULT,
	                               (const unsigned char *)msg, strlen(msg),
	                               sig, sig_len),
	                 TG_EUNTRUSTED);
	tg_key_free(pub);
	EVP_PKEY_free(priv);
}

static void test_keys_every_supported_type_roundtrips(void **state)
{
	(void)state;
	check_roundtrip(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"),
	                EVP_sha256(), 0, TG_KEY_ECDSA_P256);
	check_roundtrip(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"),
	                EVP_sha384(), 0, TG_KEY_ECDSA_P384);
	check_roundtrip(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
	                EVP_sha256(), 0, TG_KEY_RSA);
	check_roundtrip(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
	                EVP_sha256(), 1, TG_KEY_RSA);
	check_roundtrip(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), NULL, 0,
	                TG_KEY_ED25519);
}

static void test_keys_verify_digest_matches_message_form(void **state)
{
	const char *msg = "artifact bytes";
	unsigned char sig[256], md[32];
	size_t sig_len = sizeof(sig);
	tg_key *pub = NULL;
	EVP_PKEY *priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	(void)state;
	sign_with_fresh_key(priv, EVP_sha256(), 0, msg, &pub, sig, &sig_len);
	tg_sha256(md, msg, strlen(msg));
	assert_int_equal(
	        tg_key_verify_digest(pub, TG_HASH_SHA256, md, 32, sig, sig_len),
	        0);
	assert_int_equal(
	        tg_key_verify_digest(pub, TG_HASH_SHA256, md, 31, sig, sig_len),
	        TG_EINVALID);
	md[0] ^= 1;
	assert_int_equal(
	        tg_key_verify_digest(pub, TG_HASH_SHA256, md, 32, sig, sig_len),
	        TG_EUNTRUSTED);
	tg_key_free(pub);
	EVP_PKEY_free(priv);
}

static void test_keys_rejects_bad_and_weak_keys(void **state)
{
	tg_key *key = NULL;
	EVP_PKEY *weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	const char *junk = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC "
	                   "KEY-----\n";

	(void)state;
	assert_int_equal(tg_key_from_pem(&key, "junk.pub", junk, strlen(junk)),
	                 TG_EPARSE);
	assert_null(key);
	assert_contains(tg_error_last(), "junk.pub: not a PEM public key");
	assert_int_equal(tg_key_from_pem(&key, "empty.pub", "", 0), TG_EPARSE);
	assert_int_equal(tg_key_from_evp(&key, "weak.pub", weak), TG_EINVALID);
	assert_contains(tg_error_last(), "RSA key of 1024 bits");
	assert_int_equal(tg_key_from_evp(&key, "k1.pub", k1), TG_EINVALID);
	assert_contains(tg_error_last(), "unsupported elliptic curve");
	/* What X509_get0_pubkey() gives for a key it cannot decode. */
	assert_int_equal(tg_key_from_evp(&key, "cert", NULL), TG_EPARSE);
	assert_contains(tg_error_last(), "cert: the public key cannot be");
	assert_null(key);
	assert_int_equal(tg_key_load_file(&key, "/nonexistent/key.pub"),
	                 TG_ENOTFOUND);
	assert_contains(tg_error_last(), "/nonexistent/key.pub");
	EVP_PKEY_free(weak);
	EVP_PKEY_free(k1);
}

static void test_keys_ed25519_refuses_prehashed(void **state)
{
	EVP_PKEY *priv = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	unsigned char md[32] = { 0 }, sig[64] = { 0 };
	tg_key *pub = NULL;

	(void)state;
	assert_int_equal(tg_key_from_evp(&pub, "ed", priv), 0);
	assert_int_equal(
	        tg_key_verify_digest(pub, TG_HASH_SHA256, md, 32, sig, 64),
	        TG_EINVALID);
	tg_key_free(pub);
	EVP_PKEY_free(priv);
}

/* The key of a certificate (tg_key_from_x509) is the key tg_key_from_evp
 * makes of the same EVP_PKEY: same id, same DER SubjectPublicKeyInfo. */
static void test_keys_from_x509_matches_evp(void **state)
{
	size_t len, l1, l2;
	char *pem = tt_read_src("tests/data/bundles/rekor2/good/"
	                        "attestation-ed25519.json",
	                        &len);
	json_t *doc = json_loadb(pem, len, 0, NULL);
	const char *b64 = json_string_value(json_object_get(
	        json_object_get(json_object_get(doc, "verificationMaterial"),
	                        "certificate"),
	        "rawBytes"));
	unsigned char *der = NULL;
	const unsigned char *p;
	const unsigned char *s1, *s2;
	tg_key *a = NULL, *b = NULL;
	size_t der_len;
	X509 *cert;

	(void)state;
	assert_non_null(b64);
	assert_int_equal(tg_base64_decode(&der, &der_len, b64, strlen(b64)), 0);
	p = der;
	cert = d2i_X509(NULL, &p, (long)der_len);
	assert_non_null(cert);
	assert_int_equal(tg_key_from_x509(&a, "cert", cert), 0);
	assert_int_equal(tg_key_from_evp(&b, "evp", X509_get0_pubkey(cert)), 0);
	assert_string_equal(tg_key_id(a), tg_key_id(b));
	s1 = tg_key_spki(a, &l1);
	s2 = tg_key_spki(b, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	assert_int_equal(tg_key_type(a), TG_KEY_ECDSA_P256);
	tg_key_free(a);
	tg_key_free(b);
	X509_free(cert);
	free(der);
	json_decref(doc);
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_verifies_real_cosign_signature),
		cmocka_unit_test(test_keys_rejects_signature_by_other_key),
		cmocka_unit_test(test_keys_every_supported_type_roundtrips),
		cmocka_unit_test(test_keys_verify_digest_matches_message_form),
		cmocka_unit_test(test_keys_rejects_bad_and_weak_keys),
		cmocka_unit_test(test_keys_ed25519_refuses_prehashed),
		cmocka_unit_test(test_keys_from_x509_matches_evp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
