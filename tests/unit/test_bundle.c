/*
 * Tests of Sigstore bundle verification (verify/sigstore/bundle.c) on real
 * bundles from the conformance suite and sigstore-go, hostile bundles from
 * tests/data/bundles/bad, and legacy cosign signature layers from
 * containers/image.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "testlib.h"
#include "tollgate/bundle.h"
#include "tollgate/error.h"
#include "tollgate/trustroot.h"
#include "tollgate/util.h"

#define CONF "sigstore-conformance/bundle-verify/"
#define BEACON_ID                                                              \
	"https://github.com/sigstore-conformance/extremely-dangerous-public-"  \
	"oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@"   \
	"refs/heads/main"
#define GHA_ISSUER "https://token.actions.githubusercontent.com"

static const tg_keyless_policy beacon = {
	.subject = BEACON_ID,
	.issuer = GHA_ISSUER,
	.require_sct = true,
};

/* Verify fixture bundle rel against the artifact a.txt (or digest). */
static int verify_fixture(tg_sigstore_evidence **ev,
                          const char *rel,
                          const tg_sigstore_policy *pol,
                          bool as_digest)
{
	size_t len, alen;
	char *json = tt_read_fixture(rel, &len);
	char *a = tt_read_fixture(CONF "../a.txt", &alen);
	char digest[TG_DIGEST_STR_LEN + 1];
	tg_artifact art = { 0 };
	int error;

	if (as_digest) {
		tg_sha256_digest_str(digest, a, alen);
		art.digest = digest;
	} else {
		art.data = (const unsigned char *)a;
		art.len = alen;
	}
	error = tg_bundle_verify(ev, rel, json, len, &art, pol);
	free(json);
	free(a);
	return error;
}

static void test_bundle_verifies_keyless_v03(void **state)
{
	tg_sigstore_evidence *ev = NULL;
	tg_trustroot *root;
	tg_sigstore_policy pol = { 0 };

	(void)state;
	assert_int_equal(tg_trustroot_default(&root), 0);
	pol.root = root;
	pol.keyless = &beacon;
	assert_int_equal(verify_fixture(&ev,
	                                CONF "happy-path-v0.3/"
	                                     "bundle.sigstore.json",
	                                &pol, false),
	                 0);
	assert_string_equal(ev->signer, BEACON_ID);
	assert_string_equal(ev->issuer, GHA_ISSUER);
	assert_int_equal(ev->log_index, 79571823);
	assert_int_equal(ev->integrated_time, 1710869186);
	assert_null(ev->payload);
	tg_sigstore_evidence_free(ev);
	/* The same with only the artifact's digest. */
	assert_int_equal(verify_fixture(&ev,
	                                CONF "happy-path-v0.3/"
	                                     "bundle.sigstore.json",
	                                &pol, true),
	                 0);
	tg_sigstore_evidence_free(ev);
	tg_trustroot_free(root);
}

static void test_bundle_rejects_wrong_identity(void **state)
{
	tg_sigstore_evidence *ev = NULL;
	tg_keyless_policy kp = beacon;
	tg_sigstore_policy pol = { 0 };
	tg_trustroot *root;

	(void)state;
	assert_int_equal(tg_trustroot_default(&root), 0);
	pol.root = root;
	pol.keyless = &kp;
	kp.subject = NULL;
	kp.subject_regexp = "^https://github\\.com/acme/";
	assert_int_equal(verify_fixture(&ev,
	                                CONF "happy-path-v0.3/"
	                                     "bundle.sigstore.json",
	                                &pol, false),
	                 TG_EUNTRUSTED);
	assert_null(ev);
	assert_contains(tg_error_last(), "does not match \"^https://github");
	kp.subject = BEACON_ID;
	kp.subject_regexp = NULL;
	kp.issuer = "https://accounts.google.com";
	assert_int_equal(verify_fixture(&ev,
	                                CONF "happy-path-v0.3/"
	                                     "bundle.sigstore.json",
	                                &pol, false),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "OIDC issuer");
	tg_trustroot_free(root);
}

static void test_bundle_rejects_tampered_artifact(void **state)
{
	tg_sigstore_evidence *ev = NULL;
	tg_sigstore_policy pol = { 0 };
	tg_artifact art = { 0 };
	tg_trustroot *root;
	size_t len;
	char *json = tt_read_fixture(
	        CONF "happy-path-v0.3/bundle.sigstore.json", &len);

	(void)state;
	assert_int_equal(tg_trustroot_default(&root), 0);
	pol.root = root;
	pol.keyless = &beacon;
	art.data = (const unsigned char *)"not the artifact\n";
	art.len = strlen((const char *)art.data);
	assert_int_equal(tg_bundle_verify(&ev, "b", json, len, &art, &pol),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "messageDigest does not match");
	art.data = NULL;
	art.digest = "sha256:0000000000000000000000000000000000000000000000"
	             "000000000000000000";
	assert_int_equal(tg_bundle_verify(&ev, "b", json, len, &art, &pol),
	                 TG_EUNTRUSTED);
	art.digest = "sha256:abc";
	assert_int_equal(tg_bundle_verify(&ev, "b", json, len, &art, &pol),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "is not sha256:<64 hex>");
	free(json);
	tg_trustroot_free(root);
}

static void test_bundle_verifies_managed_key(void **state)
{
	tg_sigstore_evidence *ev = NULL;
	tg_sigstore_policy pol = { 0 };
	tg_trustroot *root;
	tg_key *key;
	char *path = tt_fixture_path(CONF "managed-key-happy-path/key.pub");

	(void)state;
	assert_int_equal(tg_trustroot_default(&root), 0);
	assert_int_equal(tg_key_load_file(&key, path), 0);
	pol.root = root;
	pol.key = key;
	assert_int_equal(verify_fixture(&ev,
	                                CONF "managed-key-happy-path/"
	                                     "bundle.sigstore.json",
	                                &pol, false),
	                 0);
	assert_string_equal(ev->signer, tg_key_id(key));
	assert_null(ev->issuer);
	assert_int_equal(ev->log_index, 771488337);
	tg_sigstore_evidence_free(ev);
	/* A certificate bundle is not accepted for a key. */
	assert_int_equal(verify_fixture(&ev,
	                                CONF "happy-path-v0.3/"
	                                     "bundle.sigstore.json",
	                                &pol, false),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "a public key was expected");
	tg_key_free(key);
	tg_trustroot_free(root);
	free(path);
}

static void test_bundle_dsse_evidence_carries_statement(void **state)
{
	tg_sigstore_evidence *ev = NULL;
	tg_sigstore_policy pol = { 0 };
	tg_trustroot *root;

	(void)state;
	assert_int_equal(tg_trustroot_default(&root), 0);
	pol.root = root;
	pol.keyless = &beacon;
	assert_int_equal(verify_fixture(&ev,
	                                CONF "happy-path-intoto-in-dsse-"
	                                     "v3/bundle.sigstore.json",
	                                &pol, false),
	                 0);
	assert_string_equal(ev->payload_type, "application/vnd.in-toto+json");
	assert_string_equal(ev->predicate_type,
	                    "https://slsa.dev/provenance/v1");
	assert_non_null(ev->payload);
	assert_true(ev->payload_len > 0);
	tg_sigstore_evidence_free(ev);
	tg_trustroot_free(root);
}

/* A key bundle kept out of Rekor: only an RFC 3161 timestamp. */
static void test_bundle_tlog_threshold_none(void **state)
{
	tg_sigstore_evidence *ev = NULL;
	tg_sigstore_policy pol = { 0 };
	tg_trustroot *root;
	tg_key *key;
	tg_artifact art = { 0 };
	char *json,
	        *kp = tt_fixture_path("sigstore-go/pkg/testing/data/"
	                              "public-keys/public-key-validity.pem");
	char *rp = tt_fixture_path("sigstore-go/pkg/testing/data/trusted-roots/"
	                           "public-key-validity.json");
	size_t len;

	(void)state;
	json = tt_read_fixture("sigstore-go/pkg/testing/data/bundles/"
	                       "public-key-validity.sigstore.json",
	                       &len);
	assert_int_equal(tg_trustroot_load_file(&root, rp), 0);
	assert_int_equal(tg_key_load_file(&key, kp), 0);
	pol.root = root;
	pol.key = key;
	art.digest = "sha256:6ae8a75555209fd6c44157c0aed8016e763ff435a19cf1"
	             "86f76863140143ff72";
	assert_int_equal(tg_bundle_verify(&ev, "b", json, len, &art, &pol),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "0 transparency log entries verified");
	pol.tlog_threshold = TG_TLOG_NONE;
	assert_int_equal(tg_bundle_verify(&ev, "b", json, len, &art, &pol), 0);
	assert_true(ev->timestamp > 0);
	assert_int_equal(ev->log_index, -1);
	tg_sigstore_evidence_free(ev);
	tg_key_free(key);
	tg_trustroot_free(root);
	free(json);
	free(kp);
	free(rp);
}

/* The error code each hostile bundle of tests/data/bundles/bad must give;
 * the text it must say is on the file's "# error:" line. */
static const struct {
	const char *file;
	int code;
} bad_codes[] = {
	{ "truncated.json", TG_EPARSE },
	{ "empty.json", TG_EPARSE },
	{ "array.json", TG_EPARSE },
	{ "not-json.json", TG_EPARSE },
	{ "duplicate-key.json", TG_EPARSE },
	{ "media-type-number.json", TG_EPARSE },
	{ "media-type-missing.json", TG_EPARSE },
	{ "tlog-entries-object.json", TG_EPARSE },
	{ "log-index-overflow.json", TG_EPARSE },
	{ "log-index-garbage.json", TG_EPARSE },
	{ "certificate-not-der.json", TG_EPARSE },
	{ "certificate-number.json", TG_EPARSE },
	{ "two-materials.json", TG_EPARSE },
	{ "no-material.json", TG_EPARSE },
	{ "no-content.json", TG_EPARSE },
	{ "two-contents.json", TG_EPARSE },
	{ "proof-hash-short.json", TG_EPARSE },
	{ "proof-too-long.json", TG_ETOOBIG },
	{ "too-many-entries.json", TG_ETOOBIG },
	{ "digest-md5.json", TG_EINVALID },
	{ "kind-mismatch.json", TG_EUNTRUSTED },
	{ "dsse-two-signatures.json", TG_EINVALID },
	{ "dsse-no-signature.json", TG_EINVALID },
	/* Made by tests/tools/make-bad-leaf-bundles.py: keys OpenSSL cannot
	 * decode used to crash pick_signer(). */
	{ "leaf-key-off-curve.json", TG_EPARSE },
	{ "leaf-key-unknown-curve.json", TG_EPARSE },
	{ "leaf-key-unknown-algorithm.json", TG_EPARSE },
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

typedef struct bad_ctx {
	tg_artifact art;
	tg_sigstore_policy pol;
} bad_ctx;

static void check_bad_bundle(const tt_bad_case *c, void *ctx)
{
	const bad_ctx *b = ctx;
	tg_sigstore_evidence *ev = NULL;

	print_message("%s\n", c->name);
	assert_int_equal(tg_bundle_verify(&ev, c->path, c->input, c->input_len,
	                                  &b->art, &b->pol),
	                 bad_code(c->name));
	assert_null(ev);
	assert_contains(tg_error_last(), c->expected);
	assert_contains(tg_error_last(), c->name);
}

/* Hostile and malformed bundles: each must fail with its code and say
 * why, never crash or pass. */
static void test_bundle_rejects_hostile_inputs(void **state)
{
	bad_ctx b = { 0 };
	tg_trustroot *root;
	size_t len;
	char *a;

	(void)state;
	a = tt_read_fixture(CONF "../a.txt", &len);
	b.art.data = (const unsigned char *)a;
	b.art.len = len;
	assert_int_equal(tg_trustroot_default(&root), 0);
	b.pol.root = root;
	b.pol.keyless = &beacon;
	assert_int_equal(tt_each_bad_case("tests/data/bundles/bad", ".json",
	                                  check_bad_bundle, &b),
	                 (int)(sizeof(bad_codes) / sizeof(bad_codes[0])));
	tg_trustroot_free(root);
	free(a);
}

static void test_bundle_rejects_bad_policy(void **state)
{
	tg_sigstore_evidence *ev = NULL;
	tg_sigstore_policy pol = { 0 };
	tg_artifact art = { (const unsigned char *)"x", 1, NULL };

	(void)state;
	assert_int_equal(tg_bundle_verify(&ev, "b", "{}", 2, &art, &pol),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "no trust root");
}

/* ---- Legacy cosign layers (containers/image fixtures) ------------------- */

typedef struct layer_fixture {
	json_t *doc;
	unsigned char *payload;
	tg_cosign_layer layer;
} layer_fixture;

/* A signature-N file: "\0sigstore-json\n" then {payload, annotations}. */
static void load_layer(layer_fixture *f, const char *rel)
{
	size_t len, plen;
	char *data = tt_read_fixture(rel, &len);
	const json_t *ann;
	const char *p;

	memset(f, 0, sizeof(*f));
	f->doc = json_loadb(data + 15, len - 15, 0, NULL);
	free(data);
	assert_non_null(f->doc);
	p = json_string_value(json_object_get(f->doc, "payload"));
	assert_int_equal(tg_base64_decode(&f->payload, &plen, p, strlen(p)), 0);
	ann = json_object_get(f->doc, "annotations");
	f->layer.payload = f->payload;
	f->layer.payload_len = plen;
	f->layer.signature_b64 = json_string_value(
	        json_object_get(ann, "dev.cosignproject.cosign/signature"));
	f->layer.certificate_pem = json_string_value(
	        json_object_get(ann, "dev.sigstore.cosign/certificate"));
	f->layer.chain_pem = json_string_value(
	        json_object_get(ann, "dev.sigstore.cosign/chain"));
	f->layer.bundle_json = json_string_value(
	        json_object_get(ann, "dev.sigstore.cosign/bundle"));
}

static void free_layer(layer_fixture *f)
{
	json_decref(f->doc);
	free(f->payload);
}

/*
 * A trust root from PEM files. The fixtures' rekor.pub did not survive
 * the copy (it was a symbolic link); it is the production Rekor key, which
 * the built-in public-good root holds: public_good starts from that root.
 */
static tg_trustroot *
pem_root(bool public_good, const char *ca_rel, const char *rekor_rel)
{
	tg_trustroot *root;
	size_t len;
	char *pem;

	if (public_good)
		assert_int_equal(tg_trustroot_default(&root), 0);
	else
		assert_int_equal(tg_trustroot_new(&root), 0);
	if (ca_rel) {
		pem = tt_read_fixture(ca_rel, &len);
		assert_int_equal(
		        tg_trustroot_add_ca_pem(root, ca_rel, pem, len), 0);
		free(pem);
	}
	if (rekor_rel) {
		pem = tt_read_fixture(rekor_rel, &len);
		assert_int_equal(
		        tg_trustroot_add_tlog_pem(root, rekor_rel, pem, len),
		        0);
		free(pem);
	}
	return root;
}

static void test_bundle_legacy_fulcio_rekor(void **state)
{
	tg_keyless_policy kp = {
		.subject = "mitr@redhat.com",
		.issuer = "https://github.com/login/oauth",
	};
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev = NULL;
	layer_fixture f;
	tg_trustroot *root;

	(void)state;
	root = pem_root(true, "containers-image/fulcio_v1.crt.pem", NULL);
	load_layer(&f, "containers-image/dir-img-cosign-fulcio-rekor-valid/"
	               "signature-1");
	pol.root = root;
	pol.keyless = &kp;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 0);
	assert_string_equal(ev->signer, "mitr@redhat.com");
	assert_string_equal(ev->issuer, "https://github.com/login/oauth");
	assert_true(ev->log_index > 0);
	assert_true(ev->integrated_time > 1600000000);
	tg_sigstore_evidence_free(ev);
	/* Another identity is refused. */
	kp.subject = "someone@example.com";
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "mitr@redhat.com");
	kp.subject = "mitr@redhat.com";
	/* Without the Rekor bundle there is no signing time. */
	f.layer.bundle_json = NULL;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "transparency log entries verified");
	free_layer(&f);
	tg_trustroot_free(root);
}

static void test_bundle_legacy_key_rekor(void **state)
{
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev = NULL;
	layer_fixture f;
	tg_trustroot *root, *other;
	tg_key *key;
	char *kp = tt_fixture_path("containers-image/cosign2.pub");

	(void)state;
	root = pem_root(true, NULL, NULL);
	assert_int_equal(tg_key_load_file(&key, kp), 0);
	load_layer(&f, "containers-image/dir-img-cosign-key-rekor-valid/"
	               "signature-1");
	pol.root = root;
	pol.key = key;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 0);
	assert_string_equal(ev->signer, tg_key_id(key));
	assert_true(ev->log_index > 0);
	tg_sigstore_evidence_free(ev);
	/* A Rekor key we do not trust: the SET's log is unknown. */
	other = pem_root(false, NULL, "containers-image/cosign.pub");
	pol.root = other;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "not in the trust root");
	pol.root = root;
	/* A payload changed after signing. */
	f.payload[20] ^= 1;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "message signature");
	free_layer(&f);
	tg_key_free(key);
	tg_trustroot_free(root);
	tg_trustroot_free(other);
	free(kp);
}

static void test_bundle_legacy_key_without_rekor(void **state)
{
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev = NULL;
	layer_fixture f;
	tg_trustroot *root;
	tg_key *key;
	char *kp = tt_fixture_path("containers-image/cosign.pub");

	(void)state;
	assert_int_equal(tg_trustroot_new(&root), 0);
	assert_int_equal(tg_key_load_file(&key, kp), 0);
	load_layer(&f, "containers-image/dir-img-cosign-valid/signature-1");
	pol.root = root;
	pol.key = key;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 TG_EUNTRUSTED);
	pol.tlog_threshold = TG_TLOG_NONE;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 0);
	assert_int_equal(ev->log_index, -1);
	tg_sigstore_evidence_free(ev);
	free_layer(&f);
	tg_key_free(key);
	tg_trustroot_free(root);
	free(kp);
}

/* pem's certificate with the last byte of its key's point flipped: it
 * still parses, but its key no longer decodes. Freed by the caller. */
static char *spoil_cert_key(const char *pem)
{
	BIO *in = BIO_new_mem_buf(pem, -1), *out = BIO_new(BIO_s_mem());
	X509 *c = PEM_read_bio_X509(in, NULL, NULL, NULL);
	unsigned char *der = NULL, *spki = NULL, *at;
	int len, spki_len;
	const unsigned char *p;
	char *data, *res;
	long n;

	assert_non_null(c);
	len = i2d_X509(c, &der);
	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &spki);
	assert_true(len > 0 && spki_len > 0);
	for (at = der; at + spki_len <= der + len; at++)
		if (!memcmp(at, spki, (size_t)spki_len))
			break;
	assert_true(at + spki_len <= der + len);
	at[spki_len - 1] ^= 1;
	X509_free(c);
	p = der;
	c = d2i_X509(NULL, &p, len);
	assert_non_null(c);
	assert_null(X509_get0_pubkey(c));
	assert_true(PEM_write_bio(out, "CERTIFICATE", "", der, len) > 0);
	n = BIO_get_mem_data(out, &data);
	res = tg_strndup(data, (size_t)n);
	X509_free(c);
	OPENSSL_free(der);
	OPENSSL_free(spki);
	BIO_free(in);
	BIO_free(out);
	return res;
}

/* A certificate annotation whose key OpenSSL cannot decode is refused
 * (it used to crash the signer's key lookup). */
static void test_bundle_legacy_undecodable_cert_key(void **state)
{
	tg_keyless_policy kp = {
		.subject = "mitr@redhat.com",
		.issuer = "https://github.com/login/oauth",
	};
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev = NULL;
	layer_fixture f;
	tg_trustroot *root;
	char *bad;

	(void)state;
	root = pem_root(true, "containers-image/fulcio_v1.crt.pem", NULL);
	load_layer(&f, "containers-image/dir-img-cosign-fulcio-rekor-valid/"
	               "signature-1");
	pol.root = root;
	pol.keyless = &kp;
	bad = spoil_cert_key(f.layer.certificate_pem);
	f.layer.certificate_pem = bad;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "sig", &f.layer, &pol),
	                 TG_EPARSE);
	assert_null(ev);
	assert_contains(tg_error_last(),
	                "sig: signing certificate's public key cannot be "
	                "decoded");
	free(bad);
	free_layer(&f);
	tg_trustroot_free(root);
}

/*
 * Found by fuzz_rekor_body: a Rekor v2 entry body without
 * data.algorithm crashed the agent (a NULL into strcmp). The body is not
 * covered by the bundle's signature and is checked before the identity,
 * so anyone with a Fulcio certificate could send it. Now refused, naming
 * the field; the unchanged bundle still verifies.
 */
static void test_bundle_rekor_v2_body_without_algorithm(void **state)
{
	tg_keyless_policy kp = { .subject_regexp = ".*",
		                 .issuer_regexp = ".*" };
	tg_sigstore_evidence *ev = NULL;
	tg_sigstore_policy pol = { 0 };
	tg_trustroot *root;
	json_t *doc, *entry, *body, *data;
	char *json, *b64, *bodytxt, *out, *a;
	unsigned char *raw;
	size_t len, rawlen, alen;
	char *rp = tt_fixture_path(CONF "rekor2-happy-path/trusted_root.json");
	tg_artifact art = { 0 };

	(void)state;
	json = tt_read_fixture(CONF "rekor2-happy-path/bundle.sigstore.json",
	                       &len);
	a = tt_read_fixture(CONF "../a.txt", &alen);
	art.data = (const unsigned char *)a;
	art.len = alen;
	assert_int_equal(tg_trustroot_load_file(&root, rp), 0);
	pol.root = root;
	pol.keyless = &kp;
	assert_int_equal(tg_bundle_verify(&ev, "b", json, len, &art, &pol), 0);
	tg_sigstore_evidence_free(ev);
	doc = json_loads(json, 0, NULL);
	entry = json_array_get(
	        json_object_get(json_object_get(doc, "verificationMaterial"),
	                        "tlogEntries"),
	        0);
	b64 = (char *)json_string_value(
	        json_object_get(entry, "canonicalizedBody"));
	assert_int_equal(tg_base64_decode(&raw, &rawlen, b64, strlen(b64)), 0);
	body = json_loadb((const char *)raw, rawlen, 0, NULL);
	data = json_object_get(json_object_get(json_object_get(body, "spec"),
	                                       "hashedRekordV002"),
	                       "data");
	assert_int_equal(json_object_del(data, "algorithm"), 0);
	bodytxt = json_dumps(body, JSON_COMPACT);
	b64 = tg_base64_encode((const unsigned char *)bodytxt, strlen(bodytxt));
	json_object_set_new(entry, "canonicalizedBody", json_string(b64));
	out = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(
	        tg_bundle_verify(&ev, "b", out, strlen(out), &art, &pol),
	        TG_EPARSE);
	assert_contains(tg_error_last(), "\"algorithm\" is missing");
	free(out);
	free(b64);
	free(bodytxt);
	json_decref(body);
	free(raw);
	json_decref(doc);
	tg_trustroot_free(root);
	free(json);
	free(a);
	free(rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_verifies_keyless_v03),
		cmocka_unit_test(test_bundle_rejects_wrong_identity),
		cmocka_unit_test(test_bundle_rejects_tampered_artifact),
		cmocka_unit_test(test_bundle_verifies_managed_key),
		cmocka_unit_test(test_bundle_dsse_evidence_carries_statement),
		cmocka_unit_test(test_bundle_tlog_threshold_none),
		cmocka_unit_test(test_bundle_rejects_hostile_inputs),
		cmocka_unit_test(test_bundle_rejects_bad_policy),
		cmocka_unit_test(test_bundle_legacy_fulcio_rekor),
		cmocka_unit_test(test_bundle_legacy_key_rekor),
		cmocka_unit_test(test_bundle_legacy_key_without_rekor),
		cmocka_unit_test(test_bundle_legacy_undecodable_cert_key),
		cmocka_unit_test(test_bundle_rekor_v2_body_without_algorithm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
