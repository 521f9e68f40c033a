/*
 * Tests of Fulcio certificate checks (verify/sigstore/keyless.c): identity
 * extraction from real certificates, chains at the signing time, SCTs, and
 * hostile certificates made here with OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/keyless.h"
#include "tollgate/limits.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

#define BEACON_ID                                                              \
	"https://github.com/sigstore-conformance/extremely-dangerous-public-"  \
	"oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@"   \
	"refs/heads/main"
#define GHA_ISSUER "https://token.actions.githubusercontent.com"
/* The Rekor integrated time of that certificate's signature. */
#define BEACON_TIME 1710869186

/* The leaf of a conformance bundle (verificationMaterial.certificate). */
static X509 *bundle_leaf(const char *rel)
{
	size_t len, dlen;
	char *data = tt_read_fixture(rel, &len);
	json_t *doc = json_loadb(data, len, 0, NULL);
	const char *b64 = json_string_value(json_object_get(
	        json_object_get(json_object_get(doc, "verificationMaterial"),
	                        "certificate"),
	        "rawBytes"));
	unsigned char *der;
	const unsigned char *p;
	X509 *x;

	assert_non_null(b64);
	assert_int_equal(tg_base64_decode(&der, &dlen, b64, strlen(b64)), 0);
	p = der;
	x = d2i_X509(NULL, &p, (long)dlen);
	assert_non_null(x);
	free(der);
	json_decref(doc);
	free(data);
	return x;
}

static X509 *pem_cert(const char *rel)
{
	size_t len;
	char *data = tt_read_fixture(rel, &len);
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	assert_non_null(x);
	BIO_free(bio);
	free(data);
	return x;
}

static void test_keyless_identity_of_real_fulcio_cert(void **state)
{
	X509 *x = bundle_leaf("sigstore-conformance/bundle-verify/"
	                      "happy-path-v0.3/bundle.sigstore.json");
	tg_cert_identity *id;

	(void)state;
	assert_int_equal(tg_keyless_identity(&id, x), 0);
	assert_string_equal(id->subject, BEACON_ID);
	assert_string_equal(id->issuer, GHA_ISSUER);
	assert_string_equal(id->github_repository,
	                    "https://github.com/sigstore-conformance/"
	                    "extremely-dangerous-public-oidc-beacon");
	assert_string_equal(id->github_ref, "refs/heads/main");
	assert_string_equal(id->github_trigger, "workflow_dispatch");
	assert_string_equal(id->github_sha,
	                    "c7b3dfb335f051e1c86bda4c716fac97df62ad81");
	tg_cert_identity_free(id);
	X509_free(x);
}

/* A 2023 certificate with only the deprecated raw issuer extension. */
static void test_keyless_identity_deprecated_issuer(void **state)
{
	X509 *x = pem_cert("containers-image/fulcio-cert");
	tg_cert_identity *id;

	(void)state;
	assert_int_equal(tg_keyless_identity(&id, x), 0);
	assert_string_equal(id->subject, "mitr@redhat.com");
	assert_string_equal(id->issuer, "https://github.com/login/oauth");
	assert_null(id->github_repository);
	tg_cert_identity_free(id);
	X509_free(x);
}

static void test_keyless_match(void **state)
{
	tg_cert_identity id = {
		.subject = BEACON_ID,
		.issuer = GHA_ISSUER,
		.github_repository = "https://github.com/acme/api",
		.github_ref = "refs/tags/v1.2.0",
		.github_trigger = "push",
	};
	tg_keyless_policy p = { .subject = BEACON_ID, .issuer = GHA_ISSUER };

	(void)state;
	assert_int_equal(tg_keyless_match(&id, &p), 0);
	p.subject = NULL;
	p.subject_regexp = "^https://github\\.com/sigstore-conformance/.+@refs/"
	                   "heads/main$";
	assert_int_equal(tg_keyless_match(&id, &p), 0);
	p.subject_regexp = "^https://github\\.com/acme/";
	assert_int_equal(tg_keyless_match(&id, &p), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not match");
	p.subject_regexp = "([unclosed";
	assert_int_equal(tg_keyless_match(&id, &p), TG_EINVALID);
	assert_contains(tg_error_last(), "does not compile");
	p.subject_regexp = NULL;
	assert_int_equal(tg_keyless_match(&id, &p), TG_EINVALID);
	p.subject = BEACON_ID;
	p.issuer = "https://token.actions.githubusercontent.com/";
	assert_int_equal(tg_keyless_match(&id, &p), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "OIDC issuer");
	p.issuer = GHA_ISSUER;
	/* GitHub conditions: the repository as URL or as owner/name. */
	p.github_repository = "acme/api";
	p.github_ref = "refs/tags/v1.2.0";
	p.github_trigger = "push";
	assert_int_equal(tg_keyless_match(&id, &p), 0);
	p.github_repository = "https://github.com/acme/api";
	assert_int_equal(tg_keyless_match(&id, &p), 0);
	p.github_repository = "acme/other";
	assert_int_equal(tg_keyless_match(&id, &p), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "GitHub repository");
	p.github_repository = NULL;
	p.github_trigger = "pull_request_target";
	assert_int_equal(tg_keyless_match(&id, &p), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "\"push\" is not \"pull_request_"
	                                 "target\"");
	id.github_ref = NULL;
	p.github_trigger = NULL;
	assert_int_equal(tg_keyless_match(&id, &p), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate has no GitHub ref");
}

/* The real leaf chains to the public-good Fulcio at its signing time, and
 * is expired now; its SCT verifies with the public-good CT log. */
static void test_keyless_chain_at_signing_time(void **state)
{
	X509 *x = bundle_leaf("sigstore-conformance/bundle-verify/"
	                      "happy-path-v0.3/bundle.sigstore.json");
	X509 *issuer = NULL;
	tg_trustroot *root, *bad_ct;
	char *path = tt_fixture_path("sigstore-conformance/bundle-verify/"
	                             "invalid-ct-key_fail/trusted_root.json");

	(void)state;
	assert_int_equal(tg_trustroot_default(&root), 0);
	assert_int_equal(tg_keyless_verify_cert(&issuer, x, root, BEACON_TIME),
	                 0);
	assert_non_null(issuer);
	assert_int_equal(tg_keyless_verify_sct(x, issuer, root), 0);
	assert_int_equal(tg_trustroot_load_file(&bad_ct, path), 0);
	assert_int_equal(tg_keyless_verify_sct(x, issuer, bad_ct),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "trusted CT log");
	X509_free(issuer);
	assert_int_equal(
	        tg_keyless_verify_cert(NULL, x, root, BEACON_TIME + 3600),
	        TG_EEXPIRED);
	assert_contains(tg_error_last(), "outside the signing certificate's");
	assert_int_equal(
	        tg_keyless_verify_cert(NULL, x, root, BEACON_TIME - 3600),
	        TG_EEXPIRED);
	tg_trustroot_free(root);
	tg_trustroot_free(bad_ct);
	X509_free(x);
	free(path);
}

/* ---- Certificates made here ------------------------------------------- */

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* Extension oid with the raw value bytes (not DER-wrapped). */
static void add_raw_ext(X509 *x, const char *oid, const char *value, size_t len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;

	ASN1_OCTET_STRING_set(os, (const unsigned char *)value, (int)len);
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

/* A certificate for key, signed by ikey (issuer NULL: self-signed), valid
 * from nb to na (Unix seconds). */
static X509 *make_cert(EVP_PKEY *key,
                       X509 *issuer,
                       EVP_PKEY *ikey,
                       const char *cn,
                       int64_t nb,
                       int64_t na)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	static long serial = 1;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
	X509_set_pubkey(x, key);
	(void)ikey;
	return x;
}

static void sign_cert(X509 *x, EVP_PKEY *ikey)
{
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
}

typedef struct pki {
	EVP_PKEY *ca_key;
	X509 *ca;
	tg_trustroot *root;
} pki;

static void make_pki(pki *p)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long len;

	p->ca_key = new_key();
	p->ca = make_cert(p->ca_key, NULL, p->ca_key, "test root", 1000000000,
	                  2000000000);
	add_ext(p->ca, NULL, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(p->ca, NULL, NID_key_usage, "critical,keyCertSign");
	add_ext(p->ca, NULL, NID_subject_key_identifier, "hash");
	sign_cert(p->ca, p->ca_key);
	PEM_write_bio_X509(bio, p->ca);
	len = BIO_get_mem_data(bio, &pem);
	assert_int_equal(tg_trustroot_new(&p->root), 0);
	assert_int_equal(
	        tg_trustroot_add_ca_pem(p->root, "test root", pem, (size_t)len),
	        0);
	BIO_free(bio);
}

static void free_pki(pki *p)
{
	EVP_PKEY_free(p->ca_key);
	X509_free(p->ca);
	tg_trustroot_free(p->root);
}

/* A Fulcio-like leaf; flags leave parts out or add hostile ones. */
enum {
	LEAF_CA = 1,
	LEAF_NO_EKU = 2,
	LEAF_EMAIL_EKU = 4,
	LEAF_NO_SAN = 8,
	LEAF_BAD_ISSUER = 16,
};

static X509 *make_leaf(const pki *p, EVP_PKEY *key, int flags)
{
	X509 *x = make_cert(key, p->ca, p->ca_key, "leaf", 1500000000,
	                    1500000600);

	add_ext(x, p->ca, NID_basic_constraints,
	        flags & LEAF_CA ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, p->ca, NID_key_usage, "critical,digitalSignature");
	if (!(flags & LEAF_NO_EKU))
		add_ext(x, p->ca, NID_ext_key_usage,
		        flags & LEAF_EMAIL_EKU ? "emailProtection"
		                               : "codeSigning");
	if (!(flags & LEAF_NO_SAN))
		add_ext(x, p->ca, NID_subject_alt_name,
		        "critical,email:dev@example.com");
	if (flags & LEAF_BAD_ISSUER)
		add_raw_ext(x, "1.3.6.1.4.1.57264.1.8", "https://not-der", 15);
	else
		/* UTF8String "https://issuer.example" */
		add_raw_ext(x, "1.3.6.1.4.1.57264.1.8",
		            "\x0c\x16https://issuer.example", 24);
	sign_cert(x, p->ca_key);
	return x;
}

static void test_keyless_made_leaf_verifies(void **state)
{
	pki p;
	EVP_PKEY *k = new_key();
	X509 *x, *issuer = NULL;
	tg_cert_identity *id;

	(void)state;
	make_pki(&p);
	x = make_leaf(&p, k, 0);
	assert_int_equal(tg_keyless_verify_cert(&issuer, x, p.root, 1500000300),
	                 0);
	assert_int_equal(X509_cmp(issuer, p.ca), 0);
	assert_int_equal(tg_keyless_identity(&id, x), 0);
	assert_string_equal(id->subject, "dev@example.com");
	assert_string_equal(id->issuer, "https://issuer.example");
	/* No SCT in it. */
	assert_int_equal(tg_keyless_verify_sct(x, issuer, p.root),
	                 TG_ENOTFOUND);
	tg_cert_identity_free(id);
	X509_free(issuer);
	X509_free(x);
	/* The CA's own validity matters too: at 2100 the root has expired,
	 * even for a leaf that would be valid then. */
	x = make_cert(k, p.ca, p.ca_key, "late", 2050000000, 2150000000);
	add_ext(x, p.ca, NID_ext_key_usage, "codeSigning");
	sign_cert(x, p.ca_key);
	assert_int_equal(tg_keyless_verify_cert(NULL, x, p.root, 2100000000),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "expired");
	X509_free(x);
	EVP_PKEY_free(k);
	free_pki(&p);
}

static void test_keyless_rejects_hostile_certificates(void **state)
{
	pki p, other;
	EVP_PKEY *k = new_key();
	X509 *x;
	tg_cert_identity *id = NULL;

	(void)state;
	make_pki(&p);
	make_pki(&other);
	x = make_leaf(&p, k, LEAF_CA);
	assert_int_equal(tg_keyless_verify_cert(NULL, x, p.root, 1500000300),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "is a CA certificate");
	X509_free(x);
	x = make_leaf(&p, k, LEAF_NO_EKU);
	assert_int_equal(tg_keyless_verify_cert(NULL, x, p.root, 1500000300),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "code-signing");
	X509_free(x);
	x = make_leaf(&p, k, LEAF_EMAIL_EKU);
	assert_int_equal(tg_keyless_verify_cert(NULL, x, p.root, 1500000300),
	                 TG_EINVALID);
	X509_free(x);
	/* Signed by another CA: not trusted by this root. */
	x = make_leaf(&other, k, 0);
	assert_int_equal(tg_keyless_verify_cert(NULL, x, p.root, 1500000300),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "does not chain");
	X509_free(x);
	/* Outside its validity. */
	x = make_leaf(&p, k, 0);
	assert_int_equal(tg_keyless_verify_cert(NULL, x, p.root, 1500000601),
	                 TG_EEXPIRED);
	X509_free(x);
	/* No SAN; issuer extension that is not a DER UTF8String. */
	x = make_leaf(&p, k, LEAF_NO_SAN);
	assert_int_equal(tg_keyless_identity(&id, x), TG_EPARSE);
	assert_contains(tg_error_last(), "no URI, email or username");
	X509_free(x);
	x = make_leaf(&p, k, LEAF_BAD_ISSUER);
	assert_int_equal(tg_keyless_identity(&id, x), TG_EPARSE);
	assert_contains(tg_error_last(), "not a DER UTF8String");
	assert_null(id);
	X509_free(x);
	EVP_PKEY_free(k);
	free_pki(&p);
	free_pki(&other);
}

/* A SAN with an embedded NUL must not pass as its prefix. */
static void test_keyless_rejects_nul_in_san(void **state)
{
	pki p;
	EVP_PKEY *k = new_key();
	X509 *x;
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	tg_cert_identity *id = NULL;

	(void)state;
	make_pki(&p);
	x = make_cert(k, p.ca, p.ca_key, "nul", 1500000000, 1500000600);
	ASN1_STRING_set(s, "good@example.com\0.evil", 22);
	GENERAL_NAME_set0_value(gn, GEN_EMAIL, s);
	sk_GENERAL_NAME_push(names, gn);
	X509_add1_ext_i2d(x, NID_subject_alt_name, names, 1, 0);
	GENERAL_NAMES_free(names);
	add_ext(x, p.ca, NID_ext_key_usage, "codeSigning");
	sign_cert(x, p.ca_key);
	assert_int_equal(tg_keyless_identity(&id, x), TG_EPARSE);
	assert_contains(tg_error_last(), "not a usable string");
	assert_null(id);
	X509_free(x);
	EVP_PKEY_free(k);
	free_pki(&p);
}

/* A TrustedRoot whose one certificate authority holds der (len bytes). */
static int parse_root_with_ca(const unsigned char *der, size_t len)
{
	char *b64 = tg_base64_encode(der, len);
	char *json = tg_aprintf(
	        "{\"mediaType\": \"application/vnd.dev.sigstore.trustedroot"
	        "+json;version=0.1\", \"certificateAuthorities\": "
	        "[{\"certChain\": {\"certificates\": [{\"rawBytes\": "
	        "\"%s\"}]}, \"validFor\": {\"start\": "
	        "\"2020-01-01T00:00:00Z\"}}]}",
	        b64);
	tg_trustroot *root = NULL;
	int error = tg_trustroot_parse(&root, "root.json", json, strlen(json));

	tg_trustroot_free(root);
	free(json);
	free(b64);
	return error;
}

/* DER of a self-signed certificate carrying extra bytes in an extension. */
static unsigned char *make_der(size_t extra, size_t *len_out)
{
	EVP_PKEY *k = new_key();
	X509 *x = make_cert(k, NULL, k, "ca", 1000000000, 2000000000);
	char *pad = tg_calloc(extra + 1, 1);
	unsigned char *der = NULL;
	int n;

	if (extra)
		add_raw_ext(x, "1.3.6.1.4.1.57264.1.99", pad, extra);
	sign_cert(x, k);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	*len_out = (size_t)n;
	free(pad);
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

/* Trust roots share the bundles' certificate parser: a certificate with
 * bytes after its DER, or over TG_MAX_PEM_BYTES, is refused there too. */
static void test_keyless_trustroot_refuses_hostile_certificates(void **state)
{
	size_t len;
	unsigned char *der = make_der(0, &len), *longer;

	(void)state;
	assert_int_equal(parse_root_with_ca(der, len), 0);
	longer = tg_malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(parse_root_with_ca(longer, len + 1), TG_EPARSE);
	assert_contains(tg_error_last(),
	                "root.json: certificateAuthorities[0]: rawBytes is "
	                "not a DER certificate");
	free(longer);
	OPENSSL_free(der);

	der = make_der(TG_MAX_PEM_BYTES, &len);
	assert_true(len > TG_MAX_PEM_BYTES);
	assert_int_equal(parse_root_with_ca(der, len), TG_EPARSE);
	assert_contains(tg_error_last(), "rawBytes is not a DER certificate");
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyless_identity_of_real_fulcio_cert),
		cmocka_unit_test(test_keyless_identity_deprecated_issuer),
		cmocka_unit_test(test_keyless_match),
		cmocka_unit_test(test_keyless_chain_at_signing_time),
		cmocka_unit_test(test_keyless_made_leaf_verifies),
		cmocka_unit_test(test_keyless_rejects_hostile_certificates),
		cmocka_unit_test(test_keyless_rejects_nul_in_san),
		cmocka_unit_test(
		        test_keyless_trustroot_refuses_hostile_certificates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
