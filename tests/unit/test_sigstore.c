/*
 * Tests of Sigstore verification for policy authorities
 * (verify/sigstore/sigstore.c): the keyless verify hook on real cosign layers,
 * key authorities that require Rekor, trust from fulcioCerts, trustedRoot and
 * the built-in root, and referrer bundles.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/buf.h"
#include "tollgate/dsse.h"
#include "tollgate/sigstore.h"
#include "tollgate/util.h"

typedef struct layer_fixture {
	json_t *doc;
	unsigned char *payload;
	unsigned char *sig;
	tg_sig_material m;
} layer_fixture;

static const char *annotation(const json_t *doc, const char *key)
{
	return json_string_value(
	        json_object_get(json_object_get(doc, "annotations"), key));
}

/* A containers/image signature-N file as the verifier hands it over. */
static void load_material(layer_fixture *f, const char *rel)
{
	size_t len, plen, slen;
	char *data = tt_read_fixture(rel, &len);
	const char *p, *s;

	memset(f, 0, sizeof(*f));
	f->doc = json_loadb(data + 15, len - 15, 0, NULL);
	free(data);
	assert_non_null(f->doc);
	p = json_string_value(json_object_get(f->doc, "payload"));
	s = annotation(f->doc, "dev.cosignproject.cosign/signature");
	assert_int_equal(tg_base64_decode(&f->payload, &plen, p, strlen(p)), 0);
	assert_int_equal(tg_base64_decode(&f->sig, &slen, s, strlen(s)), 0);
	f->m.msg = f->payload;
	f->m.msg_len = plen;
	f->m.sig = f->sig;
	f->m.sig_len = slen;
	f->m.certificate =
	        annotation(f->doc, "dev.sigstore.cosign/certificate");
	f->m.chain = annotation(f->doc, "dev.sigstore.cosign/chain");
	f->m.bundle = annotation(f->doc, "dev.sigstore.cosign/bundle");
}

static void free_material(layer_fixture *f)
{
	json_decref(f->doc);
	free(f->payload);
	free(f->sig);
}

/* Authority "fulcio": keyless, the fixture's Fulcio CA (returned, to be
 * freed), its issuer and subject, Rekor required; f the signed layer of
 * containers-image's fulcio-rekor image. */
static char *
fulcio_authority(tg_policy_authority *a, tg_policy_keyless *k, layer_fixture *f)
{
	size_t len;
	char *ca = tt_read_fixture("containers-image/fulcio_v1.crt.pem", &len);

	k->issuer = "https://github.com/login/oauth";
	k->subject = "mitr@redhat.com";
	k->fulcio_certs = ca;
	k->fulcio_certs_len = len;
	a->name = "fulcio";
	a->kind = TG_AUTHORITY_KEYLESS;
	a->keyless = k;
	a->rekor.required = true;
	load_material(f, "containers-image/dir-img-cosign-fulcio-rekor-valid/"
	                 "signature-1");
	return ca;
}

static void test_sigstore_keyless_hook_fulcio_rekor(void **state)
{
	tg_policy_keyless k = { 0 };
	tg_policy_authority a = { 0 };
	layer_fixture f;
	char *signer = NULL, *ca;
	int64_t until;

	(void)state;
	ca = fulcio_authority(&a, &k, &f);
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 0);
	assert_string_equal(signer, "mitr@redhat.com");
	/* Checked at the log's integrated time: it holds for good. */
	assert_true(until == INT64_MAX);
	free(signer);
	/* The same against the built-in public-good root, SCT required. */
	k.fulcio_certs = NULL;
	k.ctlog.required = true;
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 0);
	free(signer);
	/* Another subject: refused, and the message names the authority. */
	k.subject = "someone@example.com";
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 TG_EUNTRUSTED);
	assert_null(signer);
	assert_contains(tg_error_last(), "authority \"fulcio\"");
	assert_contains(tg_error_last(), "mitr@redhat.com");
	/* Without the certificate annotation there is nothing to trust. */
	k.subject = "mitr@redhat.com";
	f.m.certificate = NULL;
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 TG_EUNTRUSTED);
	free(ca);
	free_material(&f);
}

static void test_sigstore_key_authority_requires_rekor(void **state)
{
	tg_policy_authority a = { 0 };
	layer_fixture f;
	tg_key *key;
	char *signer = NULL,
	     *kp = tt_fixture_path("containers-image/cosign2.pub");
	const char *bundle;
	int64_t until;

	(void)state;
	assert_int_equal(tg_key_load_file(&key, kp), 0);
	a.name = "release";
	a.kind = TG_AUTHORITY_KEY;
	a.key = key;
	a.rekor.required = true;
	load_material(&f, "containers-image/dir-img-cosign-key-rekor-valid/"
	                  "signature-1");
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 0);
	assert_string_equal(signer, tg_key_id(key));
	free(signer);
	/* No Rekor bundle: rejected. */
	bundle = f.m.bundle;
	f.m.bundle = NULL;
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "0 transparency log entries verified");
	/* A Rekor key of the policy's that did not sign the SET. */
	f.m.bundle = bundle;
	a.rekor.key = key;
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "not in the trust root");
	free_material(&f);
	tg_key_free(key);
	free(kp);
}

/* A private PKI without Rekor: the certificate is checked now. */
static void test_sigstore_private_pki(void **state)
{
	tg_policy_keyless k = { 0 };
	tg_policy_authority a = { 0 };
	layer_fixture f;
	char *signer = NULL, *roots, *inter;
	size_t rl, il;
	int64_t until;
	tg_buf pem;

	(void)state;
	roots = tt_read_fixture("containers-image/pki_root_crts.pem", &rl);
	inter = tt_read_fixture("containers-image/pki_intermediate_crts.pem",
	                        &il);
	tg_buf_init(&pem, 1 << 20);
	assert_int_equal(tg_buf_append(&pem, roots, rl), 0);
	assert_int_equal(tg_buf_append(&pem, inter, il), 0);
	k.subject = "qiwan@redhat.com";
	k.fulcio_certs = pem.data;
	k.fulcio_certs_len = pem.len;
	a.name = "pki";
	a.kind = TG_AUTHORITY_KEYLESS;
	a.keyless = &k;
	load_material(&f, "containers-image/dir-img-cosign-pki-valid/"
	                  "signature-1");
	/* The policy always names an issuer; this certificate has none. */
	k.issuer = "https://issuer.example";
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "certificate has no issuer");
	free_material(&f);
	tg_buf_free(&pem);
	free(roots);
	free(inter);
}

static int subject_only(void *ctx, const tg_cert_identity *id)
{
	return strcmp(id->subject, ctx) ? tg_error_set(TG_EUNTRUSTED, "no") : 0;
}

static void test_sigstore_private_pki_at_current_time(void **state)
{
	tg_keyless_policy kp = { .match = subject_only,
		                 .match_ctx = "qiwan@redhat.com",
		                 .allow_missing_eku = true };
	tg_sigstore_policy pol = { 0 };
	tg_sigstore_evidence *ev = NULL;
	tg_cosign_layer layer = { 0 };
	tg_trustroot *root;
	layer_fixture f;
	char *roots, *inter;
	size_t rl, il;

	(void)state;
	roots = tt_read_fixture("containers-image/pki_root_crts.pem", &rl);
	inter = tt_read_fixture("containers-image/pki_intermediate_crts.pem",
	                        &il);
	assert_int_equal(tg_trustroot_new(&root), 0);
	assert_int_equal(tg_trustroot_add_ca_pem(root, "roots", roots, rl), 0);
	assert_int_equal(tg_trustroot_add_ca_pem(root, "inter", inter, il), 0);
	load_material(&f, "containers-image/dir-img-cosign-pki-valid/"
	                  "signature-1");
	layer.payload = f.m.msg;
	layer.payload_len = f.m.msg_len;
	layer.signature = f.m.sig;
	layer.signature_len = f.m.sig_len;
	layer.certificate_pem = f.m.certificate;
	layer.chain_pem = f.m.chain;
	pol.root = root;
	pol.keyless = &kp;
	pol.tlog_threshold = TG_TLOG_NONE;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "pki", &layer, &pol),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "no verified signing time");
	pol.allow_current_time = true;
	kp.allow_missing_eku = false;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "pki", &layer, &pol),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "code-signing");
	kp.allow_missing_eku = true;
	assert_int_equal(tg_cosign_legacy_verify(&ev, "pki", &layer, &pol), 0);
	assert_string_equal(ev->signer, "qiwan@redhat.com");
	/* Checked at the current time, it holds only while the chain does:
	 * the earliest notAfter is the root's, 2052-02-16T14:28:40Z (leaf
	 * 14:28:43, intermediate 14:28:41). Issue 13. */
	assert_true(ev->valid_until == 2591706520);
	tg_sigstore_evidence_free(ev);
	tg_trustroot_free(root);
	free_material(&f);
	free(roots);
	free(inter);
}

/* A cosign v3 referrer bundle (here: a Rekor v2 conformance bundle) for an
 * artifact digest, with the authority's trustedRoot. */
static void test_sigstore_bundle_for_authority(void **state)
{
	tg_policy_keyless k = { 0 };
	tg_policy_authority a = { 0 };
	tg_sigstore_evidence *ev = NULL;
	char digest[TG_DIGEST_STR_LEN + 1], *json, *art;
	size_t len, alen, rlen;

	(void)state;
	k.issuer = "https://token.actions.githubusercontent.com";
	k.subject = "https://github.com/sigstore-conformance/extremely-"
	            "dangerous-public-oidc-beacon/.github/workflows/"
	            "extremely-dangerous-oidc-beacon.yml@refs/heads/main";
	k.trusted_root = tt_read_fixture("sigstore-conformance/bundle-verify/"
	                                 "rekor2-happy-path/trusted_root.json",
	                                 &rlen);
	k.trusted_root_len = rlen;
	k.ctlog.required = true;
	a.name = "ci";
	a.kind = TG_AUTHORITY_KEYLESS;
	a.keyless = &k;
	a.rekor.required = true;
	json = tt_read_fixture("sigstore-conformance/bundle-verify/"
	                       "rekor2-happy-path/bundle.sigstore.json",
	                       &len);
	art = tt_read_fixture("sigstore-conformance/bundle-verify/a.txt",
	                      &alen);
	tg_sha256_digest_str(digest, art, alen);
	assert_int_equal(tg_sigstore_verify_bundle(&ev, &a, "referrer", json,
	                                           len, digest),
	                 0);
	assert_string_equal(ev->signer, k.subject);
	assert_true(ev->timestamp > 0);
	tg_sigstore_evidence_free(ev);
	/* The built-in root does not trust the staging instance. */
	free((char *)k.trusted_root);
	k.trusted_root = NULL;
	assert_int_equal(tg_sigstore_verify_bundle(&ev, &a, "referrer", json,
	                                           len, digest),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "authority \"ci\"");
	free(json);
	free(art);
}

/* A legacy .att layer: the hook gets the DSSE PAE and verifies the
 * envelope's payload against the layer's certificate; a signature that is
 * not over it is refused. The PAE built for that check was not freed (one
 * leak per .att layer and cycle, found by fuzz_cosign_legacy): the
 * sanitizer pass fails this test without the fix. */
static void test_sigstore_attestation_layer_frees_its_pae(void **state)
{
	tg_policy_keyless k = { 0 };
	tg_policy_authority a = { 0 };
	layer_fixture f;
	unsigned char *pae;
	char *signer = NULL, *ca;
	int64_t until;
	size_t len;

	(void)state;
	ca = fulcio_authority(&a, &k, &f);
	assert_int_equal(tg_dsse_pae(&pae, &len, "application/vnd.in-toto+json",
	                             f.m.msg, f.m.msg_len),
	                 0);
	f.m.msg = pae;
	f.m.msg_len = len;
	assert_int_equal(tg_sigstore_verify_material(&signer, &until, &a, &f.m),
	                 TG_EUNTRUSTED);
	assert_null(signer);
	assert_contains(tg_error_last(), "authority \"fulcio\"");
	assert_contains(tg_error_last(), "DSSE envelope signature");
	free(pae);
	free(ca);
	free_material(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigstore_keyless_hook_fulcio_rekor),
		cmocka_unit_test(test_sigstore_key_authority_requires_rekor),
		cmocka_unit_test(test_sigstore_private_pki),
		cmocka_unit_test(test_sigstore_private_pki_at_current_time),
		cmocka_unit_test(test_sigstore_bundle_for_authority),
		cmocka_unit_test(test_sigstore_attestation_layer_frees_its_pae),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
