/*
 * TUF metadata (include/tollgate/tuf.h): canonical JSON, parsing and the
 * signature threshold rules, with Sigstore's real root.json and with keys
 * made here (Ed25519, ECDSA P-256, RSA-PSS). The client workflow against a
 * mirror is tested by tests/integration/tuf_client.sh and tuf_run.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/trustroot.h"
#include "tollgate/tuf.h"
#include "tollgate/util.h"

static char *canon(const char *json)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	char *out = NULL;
	size_t len;

	assert_non_null(v);
	assert_int_equal(tg_tuf_canonical_json(&out, &len, v, 4096), 0);
	assert_int_equal(strlen(out), len);
	json_decref(v);
	return out;
}

static void test_tuf_canonical_json(void **state)
{
	char *s;

	(void)state;
	s = canon("{ \"b\": [1, -2, true, false, null],\n \"a\": {\"z\": "
	          "\"x\", \"Z\": \"\"}, \"\\u00e9\": 0, \"aa\": \"q\\\"\\\\"
	          "\\n\\u0001/\" }");
	/* keys by byte order ("Z" < "a" < "aa" < "b" < UTF-8 e-acute);
	 * only '"' and '\' escaped, other bytes raw */
	assert_string_equal(s,
	                    "{\"a\":{\"Z\":\"\",\"z\":\"x\"},\"aa\":\"q\\\"\\\\"
	                    "\n\x01/\",\"b\":[1,-2,true,false,null],"
	                    "\"\xc3\xa9\":0}");
	free(s);
}

static void test_tuf_canonical_json_limits(void **state)
{
	json_t *v = json_loads("{\"a\": 1.5}", 0, NULL), *deep;
	char *out = (char *)"x";
	size_t len, i;

	(void)state;
	assert_int_equal(tg_tuf_canonical_json(&out, &len, v, 4096),
	                 TG_EINVALID);
	assert_null(out);
	assert_contains(tg_error_last(), "real number");
	json_decref(v);
	v = json_loads("{\"a\": \"0123456789\"}", 0, NULL);
	assert_int_equal(tg_tuf_canonical_json(&out, &len, v, 10), TG_ETOOBIG);
	json_decref(v);
	deep = v = json_array();
	for (i = 0; i < 40; i++) {
		json_t *n = json_array();

		assert_int_equal(json_array_append_new(v, n), 0);
		v = n;
	}
	assert_int_equal(tg_tuf_canonical_json(&out, &len, deep, 1 << 20),
	                 TG_ETOOBIG);
	assert_contains(tg_error_last(), "deeper");
	json_decref(deep);
}

/* Sigstore's root.json v14 (shipped as the bootstrap): 3 of its 5 ECDSA
 * keys signed it, one signature is empty. */
static void test_tuf_sigstore_root_verifies_itself(void **state)
{
	size_t len;
	char *data = tt_read_src(
	             "verify/sigstore/data/tuf_root_public_good.json", &len),
	     *p;
	tg_tuf_metadata *root = NULL, *bad = NULL;

	(void)state;
	assert_int_equal(
	        tg_tuf_metadata_parse(&root, "root.json", "root", data, len),
	        0);
	assert_int_equal(tg_tuf_metadata_version(root), 14);
	assert_int_equal(tg_tuf_verify_role(root, "root", root), 0);
	/* one byte of the signed part changed: no signature verifies */
	p = strstr(data, "2026-06-22T13:27:01Z");
	assert_non_null(p);
	p[3] = '7';
	assert_int_equal(
	        tg_tuf_metadata_parse(&bad, "root.json", "root", data, len), 0);
	assert_int_equal(tg_tuf_verify_role(root, "root", bad), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "signed by 0 of the 3 keys of role "
	                                 "root");
	tg_tuf_metadata_free(bad);
	assert_int_equal(tg_tuf_metadata_parse(&bad, "root.json", "timestamp",
	                                       data, len),
	                 TG_EINVALID);
	tg_tuf_metadata_free(root);
	free(data);
}

/* A key of each scheme, made for the test. */
static EVP_PKEY *keygen(const char *scheme)
{
	if (!strcmp(scheme, "ed25519"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!strcmp(scheme, "ecdsa-sha2-nistp256"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static json_t *key_json(EVP_PKEY *pk, const char *scheme)
{
	char pub[8192] = "";
	const char *type = !strcmp(scheme, "ed25519")               ? "ed25519"
	                   : !strcmp(scheme, "ecdsa-sha2-nistp256") ? "ecdsa"
	                                                            : "rsa";

	if (!strcmp(type, "ed25519")) {
		unsigned char raw[32];
		size_t n = sizeof(raw);

		assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &n), 1);
		tg_hex_encode(pub, raw, n);
	} else {
		BIO *b = BIO_new(BIO_s_mem());
		char *mem;
		long n;

		assert_int_equal(PEM_write_bio_PUBKEY(b, pk), 1);
		n = BIO_get_mem_data(b, &mem);
		memcpy(pub, mem, (size_t)n);
		BIO_free(b);
	}
	return json_pack("{s:s, s:s, s:{s:s}}", "keytype", type, "scheme",
	                 scheme, "keyval", "public", pub);
}

static json_t *sign(EVP_PKEY *pk, const char *keyid, const char *msg)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	char hex[2049];
	size_t n = sizeof(sig);
	int ed = EVP_PKEY_is_a(pk, "ED25519");

	assert_int_equal(EVP_DigestSignInit(ctx, &pctx,
	                                    ed ? NULL : EVP_sha256(), NULL, pk),
	                 1);
	if (EVP_PKEY_is_a(pk, "RSA"))
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(
		                         pctx, RSA_PKCS1_PSS_PADDING),
		                 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &n,
	                                (const unsigned char *)msg,
	                                strlen(msg)),
	                 1);
	EVP_MD_CTX_free(ctx);
	tg_hex_encode(hex, sig, n);
	return json_pack("{s:s, s:s}", "keyid", keyid, "sig", hex);
}

/* A root whose role "root" lists ids with threshold t; keys maps ids to
 * key objects. Signed by signers[i] under sigids[i]. */
static char *make_root(json_t *keys,
                       json_t *ids,
                       json_int_t t,
                       EVP_PKEY **signers,
                       const char **sigids,
                       size_t nsigners)
{
	json_t *role = json_pack("{s:o, s:I}", "keyids", ids, "threshold", t);
	json_t *roles =
	        json_pack("{s:O, s:O, s:O, s:O}", "root", role, "timestamp",
	                  role, "snapshot", role, "targets", role);
	json_t *sig = json_pack("{s:s, s:s, s:i, s:s, s:b, s:o, s:o}", "_type",
	                        "root", "spec_version", "1.0.31", "version", 1,
	                        "expires", "2099-01-01T00:00:00Z",
	                        "consistent_snapshot", 1, "keys", keys, "roles",
	                        roles);
	json_t *sigs = json_array(), *doc;
	char *c, *out;
	size_t len, i;

	json_decref(role);
	assert_int_equal(tg_tuf_canonical_json(&c, &len, sig, 1 << 20), 0);
	for (i = 0; i < nsigners; i++)
		json_array_append_new(sigs, sign(signers[i], sigids[i], c));
	doc = json_pack("{s:o, s:o}", "signed", sig, "signatures", sigs);
	out = json_dumps(doc, JSON_INDENT(1));
	json_decref(doc);
	free(c);
	return out;
}

static int check_root(const char *json, int expect_parse)
{
	tg_tuf_metadata *md = NULL;
	int error;

	error = tg_tuf_metadata_parse(&md, "root.json", "root", json,
	                              strlen(json));
	assert_int_equal(error, expect_parse);
	if (error < 0)
		return error;
	error = tg_tuf_verify_role(md, "root", md);
	tg_tuf_metadata_free(md);
	return error;
}

static void test_tuf_threshold_each_scheme(void **state)
{
	static const char *const schemes[] = { "ed25519", "ecdsa-sha2-nistp256",
		                               "rsassa-pss-sha256" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		EVP_PKEY *a = keygen(schemes[i]), *b = keygen(schemes[i]);
		EVP_PKEY *both[] = { a, b };
		const char *ids[] = { "A", "B" };
		char *r;

		r = make_root(json_pack("{s:o, s:o}", "A",
		                        key_json(a, schemes[i]), "B",
		                        key_json(b, schemes[i])),
		              json_pack("[s, s]", "A", "B"), 2, both, ids, 2);
		assert_int_equal(check_root(r, 0), 0);
		free(r);
		/* one signature only: 1 of 2 */
		r = make_root(json_pack("{s:o, s:o}", "A",
		                        key_json(a, schemes[i]), "B",
		                        key_json(b, schemes[i])),
		              json_pack("[s, s]", "A", "B"), 2, both, ids, 1);
		assert_int_equal(check_root(r, 0), TG_EUNTRUSTED);
		assert_contains(tg_error_last(), "signed by 1 of the 2 keys");
		free(r);
		EVP_PKEY_free(a);
		EVP_PKEY_free(b);
	}
}

static void test_tuf_threshold_counts_keys_once(void **state)
{
	EVP_PKEY *a = keygen("ed25519"), *b = keygen("ed25519");
	EVP_PKEY *twice[] = { a, a };
	const char *same_id[] = { "A", "A" }, *two_ids[] = { "A", "A2" };
	char *r;

	(void)state;
	/* the same signature twice under one key ID */
	r = make_root(json_pack("{s:o, s:o}", "A", key_json(a, "ed25519"), "B",
	                        key_json(b, "ed25519")),
	              json_pack("[s, s, s]", "A", "A", "B"), 2, twice, same_id,
	              2);
	assert_int_equal(check_root(r, 0), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "signed by 1 of the 2 keys");
	free(r);
	/* one key listed under two key IDs, signing under both */
	r = make_root(json_pack("{s:o, s:o}", "A", key_json(a, "ed25519"), "A2",
	                        key_json(a, "ed25519")),
	              json_pack("[s, s]", "A", "A2"), 2, twice, two_ids, 2);
	assert_int_equal(check_root(r, 0), TG_EUNTRUSTED);
	free(r);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void test_tuf_threshold_ignores_unknown_and_outsiders(void **state)
{
	EVP_PKEY *a = keygen("ed25519"), *x = keygen("ed25519");
	EVP_PKEY *signers[] = { a, x };
	const char *ids[] = { "A", "X" };
	json_t *odd =
	        json_pack("{s:s, s:s, s:{s:s}}", "keytype", "sphincs", "scheme",
	                  "sphincs-shake", "keyval", "public", "00");
	char *r;

	(void)state;
	/* an unknown key type parses, never counts; X signs but is not in
	 * the role */
	r = make_root(json_pack("{s:o, s:o, s:o}", "A", key_json(a, "ed25519"),
	                        "X", key_json(x, "ed25519"), "Q", odd),
	              json_pack("[s, s]", "A", "Q"), 2, signers, ids, 2);
	assert_int_equal(check_root(r, 0), TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "signed by 1 of the 2 keys");
	free(r);
	/* a key whose scheme does not match its type never counts */
	r = make_root(
	        json_pack("{s:o}", "A", key_json(a, "ecdsa-sha2-nistp256")),
	        json_pack("[s]", "A"), 1, signers, ids, 1);
	assert_int_equal(check_root(r, 0), TG_EUNTRUSTED);
	free(r);
	EVP_PKEY_free(a);
	EVP_PKEY_free(x);
}

static void test_tuf_threshold_zero_refused(void **state)
{
	EVP_PKEY *a = keygen("ed25519");
	EVP_PKEY *signers[] = { a };
	const char *ids[] = { "A" };
	char *r;

	(void)state;
	r = make_root(json_pack("{s:o}", "A", key_json(a, "ed25519")),
	              json_pack("[s]", "A"), 0, signers, ids, 0);
	assert_int_equal(check_root(r, TG_EINVALID), TG_EINVALID);
	assert_contains(tg_error_last(), "\"threshold\" is 0; at least 1");
	free(r);
	EVP_PKEY_free(a);
}

/* Hostile shapes: each gives its error, never a crash. */
static void test_tuf_metadata_rejects_bad_shapes(void **state)
{
	static const struct {
		const char *json;
		int code;
		const char *msg;
	} cases[] = {
		{ "[]", TG_EPARSE, "not a JSON object" },
		{ "{\"signed\": {}, \"signatures\": []}", TG_EPARSE,
		  "\"_type\" is missing" },
		{ "{\"signed\": {\"_type\": \"timestamp\", \"spec_version\": "
		  "\"2.0\", \"version\": 1, \"expires\": "
		  "\"2030-01-01T00:00:00Z\", \"meta\": {}}, \"signatures\": "
		  "[]}",
		  TG_EINVALID, "spec_version \"2.0\" is not 1.x" },
		{ "{\"signed\": {\"_type\": \"timestamp\", \"spec_version\": "
		  "\"1.0\", \"version\": 0, \"expires\": "
		  "\"2030-01-01T00:00:00Z\", \"meta\": {}}, \"signatures\": "
		  "[]}",
		  TG_EINVALID, "\"version\" is 0" },
		{ "{\"signed\": {\"_type\": \"timestamp\", \"spec_version\": "
		  "\"1.0\", \"version\": 1, \"expires\": "
		  "\"2030-01-01T00:00:00Z\", \"meta\": {}}, \"signatures\": "
		  "[]}",
		  TG_EPARSE, "meta does not name snapshot.json" },
		{ "{\"signed\": {\"_type\": \"timestamp\", \"spec_version\": "
		  "\"1.0\", \"version\": 1, \"expires\": \"soon\", \"meta\": "
		  "{}}, \"signatures\": []}",
		  TG_EPARSE, "not an RFC 3339 time" },
		{ "{\"signed\": {\"_type\": \"timestamp\", \"spec_version\": "
		  "\"1.0\", \"version\": 1, \"expires\": "
		  "\"2030-01-01T00:00:00Z\", \"meta\": {\"snapshot.json\": "
		  "{\"version\": 1, \"hashes\": {\"sha256\": \"zz\"}}}}, "
		  "\"signatures\": []}",
		  TG_EINVALID, "hash sha256 is not 64 hex digits" },
		{ "{\"signed\": {\"_type\": \"timestamp\", \"spec_version\": "
		  "\"1.0\", \"version\": 1.5, \"expires\": "
		  "\"2030-01-01T00:00:00Z\", \"meta\": {}}, \"signatures\": "
		  "[]}",
		  TG_EPARSE, "\"version\" is of another type" },
		{ "{\"signed\": {}, \"signed\": {}, \"signatures\": []}",
		  TG_EPARSE, "duplicate" },
	};
	tg_tuf_metadata *md = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int error = tg_tuf_metadata_parse(&md, "timestamp.json",
		                                  "timestamp", cases[i].json,
		                                  strlen(cases[i].json));

		if (error != cases[i].code)
			fail_msg("case %zu: %d %s", i, error, tg_error_last());
		assert_null(md);
		assert_contains(tg_error_last(), cases[i].msg);
	}
}

/* The default root: built in, replaced by a verified one, never by a
 * document that does not parse, and restored. */
static void test_tuf_default_trust_root_replaced(void **state)
{
	size_t len, builtin;
	char *other = tt_read_src("tests/data/bundles/rekor2/trusted_root.json",
	                          &len);
	tg_trustroot *r = NULL;

	(void)state;
	assert_int_equal(tg_trustroot_default(&r), 0);
	builtin = tg_trustroot_tlog_count(r);
	tg_trustroot_free(r);
	assert_int_equal(tg_trustroot_set_default("tuf", other, len), 0);
	assert_int_equal(tg_trustroot_default(&r), 0);
	assert_int_equal(tg_trustroot_tlog_count(r), 4);
	assert_int_not_equal(builtin, 4);
	tg_trustroot_free(r);
	assert_int_equal(tg_trustroot_set_default("bad", "{}", 2), TG_EPARSE);
	assert_int_equal(tg_trustroot_default(&r), 0);
	assert_int_equal(tg_trustroot_tlog_count(r), 4);
	tg_trustroot_free(r);
	assert_int_equal(tg_trustroot_set_default(NULL, NULL, 0), 0);
	assert_int_equal(tg_trustroot_default(&r), 0);
	assert_int_equal(tg_trustroot_tlog_count(r), builtin);
	tg_trustroot_free(r);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tuf_canonical_json),
		cmocka_unit_test(test_tuf_canonical_json_limits),
		cmocka_unit_test(test_tuf_sigstore_root_verifies_itself),
		cmocka_unit_test(test_tuf_threshold_each_scheme),
		cmocka_unit_test(test_tuf_threshold_counts_keys_once),
		cmocka_unit_test(
		        test_tuf_threshold_ignores_unknown_and_outsiders),
		cmocka_unit_test(test_tuf_threshold_zero_refused),
		cmocka_unit_test(test_tuf_metadata_rejects_bad_shapes),
		cmocka_unit_test(test_tuf_default_trust_root_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
