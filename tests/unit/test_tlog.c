/*
 * Tests of transparency log proofs (verify/sigstore/tlog.c): RFC 6962 inclusion
 * proofs against an independent reference tree and the RFC 6962 test
 * vectors, a real Rekor proof, RFC 8785 canonical JSON, and checkpoints.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/tlog.h"
#include "tollgate/util.h"

/* The eight leaves of the RFC 6962 / certificate-transparency test tree. */
static const struct {
	const char *data;
	size_t len;
} leaves[] = {
	{ "", 0 },
	{ "\x00", 1 },
	{ "\x10", 1 },
	{ "\x20\x21", 2 },
	{ "\x30\x31", 2 },
	{ "\x40\x41\x42\x43", 4 },
	{ "\x50\x51\x52\x53\x54\x55\x56\x57", 8 },
	{ "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
	  16 },
};

/* Published roots of the trees of the first n leaves, n = 1..8. */
static const char *const roots[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Reference Merkle tree hash MTH(D[lo:hi]) straight from RFC 6962 2.1. */
static void mth(unsigned char out[32], size_t lo, size_t hi)
{
	unsigned char buf[65];
	size_t k = 1;

	if (hi - lo == 1) {
		tg_tlog_leaf_hash(out, leaves[lo].data, leaves[lo].len);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	buf[0] = 1;
	mth(buf + 1, lo, lo + k);
	mth(buf + 33, lo + k, hi);
	tg_sha256(out, buf, sizeof(buf));
}

/* Reference audit path PATH(m, D[lo:hi]) (RFC 6962 2.1.1), appended. */
static void path(unsigned char *out, size_t *n, size_t m, size_t lo, size_t hi)
{
	size_t k = 1;

	if (hi - lo == 1)
		return;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		path(out, n, m, lo, lo + k);
		mth(out + 32 * (*n)++, lo + k, hi);
	} else {
		path(out, n, m - k, lo + k, hi);
		mth(out + 32 * (*n)++, lo, lo + k);
	}
}

static void test_tlog_reference_tree_matches_rfc6962_vectors(void **state)
{
	unsigned char root[32];
	char hex[65];
	size_t n;

	(void)state;
	for (n = 1; n <= 8; n++) {
		mth(root, 0, n);
		tg_hex_encode(hex, root, 32);
		assert_string_equal(hex, roots[n - 1]);
	}
}

static void test_tlog_inclusion_every_leaf_of_every_tree(void **state)
{
	unsigned char root[32], leaf[32], proof[32 * 8];
	size_t n, m, np, i;

	(void)state;
	for (n = 1; n <= 8; n++) {
		mth(root, 0, n);
		for (m = 0; m < n; m++) {
			np = 0;
			path(proof, &np, m, 0, n);
			tg_tlog_leaf_hash(leaf, leaves[m].data, leaves[m].len);
			assert_int_equal(tg_tlog_verify_inclusion(
			                         leaf, m, n, proof, np, root),
			                 0);
			/* Every flipped bit of the path breaks it. */
			for (i = 0; i < np; i++) {
				proof[32 * i + 7] ^= 0x10;
				assert_int_equal(
				        tg_tlog_verify_inclusion(
				                leaf, m, n, proof, np, root),
				        TG_EUNTRUSTED);
				proof[32 * i + 7] ^= 0x10;
			}
			/* Another index or leaf does not verify. (Another
			 * tree size may: the size is bound by the signed
			 * checkpoint, not by the path.) */
			if (n > 1)
				assert_int_equal(tg_tlog_verify_inclusion(
				                         leaf, (m + 1) % n, n,
				                         proof, np, root),
				                 TG_EUNTRUSTED);
			leaf[0] ^= 1;
			assert_int_equal(tg_tlog_verify_inclusion(
			                         leaf, m, n, proof, np, root),
			                 TG_EUNTRUSTED);
		}
	}
}

static void test_tlog_inclusion_rejects_bad_shapes(void **state)
{
	unsigned char root[32], leaf[32], proof[32 * 9];
	size_t np = 0;

	(void)state;
	mth(root, 0, 8);
	path(proof, &np, 5, 0, 8);
	tg_tlog_leaf_hash(leaf, leaves[5].data, leaves[5].len);
	assert_int_equal(tg_tlog_verify_inclusion(leaf, 8, 8, proof, np, root),
	                 TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "outside a tree of 8 leaves");
	assert_int_equal(
	        tg_tlog_verify_inclusion(leaf, 5, 8, proof, np - 1, root),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "shorter than the path");
	memcpy(proof + 32 * np, root, 32);
	assert_int_equal(
	        tg_tlog_verify_inclusion(leaf, 5, 8, proof, np + 1, root),
	        TG_EUNTRUSTED);
	assert_contains(tg_error_last(), "longer than the path");
	assert_int_equal(tg_tlog_verify_inclusion(leaf, 0, 0, proof, 0, root),
	                 TG_EUNTRUSTED);
	assert_int_equal(tg_tlog_verify_inclusion(leaf, 0, 1, proof, 65, root),
	                 TG_EUNTRUSTED);
}

/* The inclusion proof of a real Rekor entry (tree-local index). */
static void test_tlog_inclusion_real_rekor_entry(void **state)
{
	size_t len, i, n, blen, rlen, hlen;
	char *data = tt_read_fixture("sigstore-conformance/bundle-verify/"
	                             "happy-path-v0.3/bundle.sigstore.json",
	                             &len);
	json_t *doc = json_loadb(data, len, 0, NULL);
	json_t *e = json_array_get(
	        json_object_get(json_object_get(doc, "verificationMaterial"),
	                        "tlogEntries"),
	        0);
	json_t *p = json_object_get(e, "inclusionProof");
	json_t *hashes = json_object_get(p, "hashes");
	unsigned char *body, *root, *h, leaf[32], proof[32 * 64];
	uint64_t index, size;
	const char *s;

	(void)state;
	assert_non_null(p);
	s = json_string_value(json_object_get(e, "canonicalizedBody"));
	assert_int_equal(tg_base64_decode(&body, &blen, s, strlen(s)), 0);
	s = json_string_value(json_object_get(p, "rootHash"));
	assert_int_equal(tg_base64_decode(&root, &rlen, s, strlen(s)), 0);
	s = json_string_value(json_object_get(p, "logIndex"));
	assert_int_equal(tg_parse_u64(&index, s, strlen(s), UINT64_MAX), 0);
	s = json_string_value(json_object_get(p, "treeSize"));
	assert_int_equal(tg_parse_u64(&size, s, strlen(s), UINT64_MAX), 0);
	n = json_array_size(hashes);
	for (i = 0; i < n; i++) {
		s = json_string_value(json_array_get(hashes, i));
		assert_int_equal(tg_base64_decode(&h, &hlen, s, strlen(s)), 0);
		assert_int_equal(hlen, 32);
		memcpy(proof + 32 * i, h, 32);
		free(h);
	}
	tg_tlog_leaf_hash(leaf, body, blen);
	assert_int_equal(
	        tg_tlog_verify_inclusion(leaf, index, size, proof, n, root), 0);
	/* The global log index is not the tree-local one. */
	assert_int_equal(
	        tg_tlog_verify_inclusion(leaf, 79571823, size, proof, n, root),
	        TG_EUNTRUSTED);
	free(body);
	free(root);
	json_decref(doc);
	free(data);
}

static char *canon(const char *json)
{
	json_t *v = json_loads(json, 0, NULL);
	tg_buf b;
	char *s;

	assert_non_null(v);
	tg_buf_init(&b, 1 << 16);
	assert_int_equal(tg_tlog_canonical_json(&b, v), 0);
	json_decref(v);
	s = tg_buf_detach(NULL, &b);
	return s;
}

static void test_tlog_canonical_json(void **state)
{
	char *s;
	json_t *v;
	tg_buf b;

	(void)state;
	s = canon("{ \"b\": 1, \"a\": [true, false, null, \"x\\n\\\"\\\\\\u0001"
	          "\\u001f/\"], \"c\": {\"z\": \"\\u00e9\", \"y\": -5} }");
	assert_string_equal(s, "{\"a\":[true,false,null,\"x\\n\\\"\\\\\\u0001"
	                       "\\u001f/\"],\"b\":1,\"c\":{\"y\":-5,\"z\":"
	                       "\"\xc3\xa9\"}}");
	free(s);
	/* RFC 8785 3.2.3: keys sort by UTF-16 code units, so U+1F600
	 * (surrogates D83D DE00) comes before U+FB33. */
	s = canon("{\"\\u20ac\": 1, \"\\r\": 2, \"\\ufb33\": 3, \"1\": 4, "
	          "\"\\ud83d\\ude00\": 5, \"\\u0080\": 6, \"\\u00f6\": 7}");
	assert_string_equal(s, "{\"\\r\":2,\"1\":4,\"\xc2\x80\":6,"
	                       "\"\xc3\xb6\":7,\"\xe2\x82\xac\":1,"
	                       "\"\xf0\x9f\x98\x80\":5,\"\xef\xac\xb3\":3}");
	free(s);
	s = canon("[]");
	assert_string_equal(s, "[]");
	free(s);
	v = json_real(1.5);
	tg_buf_init(&b, 64);
	assert_int_equal(tg_tlog_canonical_json(&b, v), TG_EINVALID);
	assert_contains(tg_error_last(), "floating point");
	tg_buf_free(&b);
	json_decref(v);
	/* Output over the buffer's limit is refused, not truncated. */
	v = json_string("0123456789");
	tg_buf_init(&b, 4);
	assert_int_equal(tg_tlog_canonical_json(&b, v), TG_ETOOBIG);
	tg_buf_free(&b);
	json_decref(v);
}

#define CP_V1                                                                  \
	"rekor.sigstore.dev - 2605736670972794746\n23083062\n"                 \
	"dauhleYK4YyAdxwwDtR0l0KnSOWZdG2bwqHftlanvcI=\n"                       \
	"Timestamp: 1689177396617352539\n\n"                                   \
	"\xe2\x80\x94 rekor.sigstore.dev wNI9ajBFAiBxaGyEtxkzFLkaCSEJqFuSS3dJ" \
	"jEZCNiyByVs1CNVQ8gIhAOoNnXtmMtTctV2oRnSRUZAo4EWUYPK/vBsqOzAU6TMs\n"

static void test_tlog_checkpoint_parses_real_notes(void **state)
{
	static const char v2[] =
	        "log2025-alpha1.rekor.sigstage.dev\n736\n"
	        "rs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
	        "\xe2\x80\x94 witness.example "
	        "O8PH5AAAAABopO8+4O9uzScQrNEnGdKLYXSP"
	        "oUjH1Se4n92W+wT/j5Kel/4J2XWE4bEe9bpIVUD6EGOeUDFkSWz/rbDhvVcJ/"
	        "2OrDw==\n"
	        "\xe2\x80\x94 log2025-alpha1.rekor.sigstage.dev "
	        "8w1amdbj1mjNN674dHAk"
	        "D92+QZoEgBC7o0mXYSTRluDjQrOPjrps3zQB9ut+"
	        "ShLepyZPsWBDi5IB3yXyjgj"
	        "QT6OG9A8=\n";
	tg_checkpoint *cp;
	char hex[65];

	(void)state;
	assert_int_equal(tg_checkpoint_parse(&cp, CP_V1, strlen(CP_V1)), 0);
	assert_string_equal(tg_checkpoint_origin(cp),
	                    "rekor.sigstore.dev - 2605736670972794746");
	assert_int_equal(tg_checkpoint_size(cp), 23083062);
	tg_hex_encode(hex, tg_checkpoint_root(cp), 32);
	assert_string_equal(hex, "75aba195e60ae18c80771c300ed4749742a748e5"
	                         "99746d9bc2a1dfb656a7bdc2");
	assert_int_equal(tg_checkpoint_signature_count(cp), 1);
	tg_checkpoint_free(cp);
	assert_int_equal(tg_checkpoint_parse(&cp, v2, strlen(v2)), 0);
	assert_int_equal(tg_checkpoint_size(cp), 736);
	assert_int_equal(tg_checkpoint_signature_count(cp), 2);
	tg_checkpoint_free(cp);
}

static void test_tlog_checkpoint_rejects_malformed_notes(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} cases[] = {
		{ "736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
		  "\xe2\x80\x94 a AAAAAAAA\n",
		  TG_EPARSE, "needs an origin, a tree size and a root hash" },
		{ "o\n736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n",
		  TG_EPARSE, "no blank line" },
		{ "o\n736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n",
		  TG_EPARSE, "no signature" },
		{ "o\n73x\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
		  "\xe2\x80\x94 a AAAAAAAA\n",
		  TG_EPARSE, "not a tree size" },
		{ "o\n-1\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
		  "\xe2\x80\x94 a AAAAAAAA\n",
		  TG_EPARSE, "not a tree size" },
		{ "o\n736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3sy\n\n"
		  "\xe2\x80\x94 a AAAAAAAA\n",
		  TG_EPARSE, "root hash" },
		{ "o\n736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
		  "- a AAAAAAAA\n",
		  TG_EPARSE, "em dash" },
		{ "o\n736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
		  "\xe2\x80\x94 a !!!!\n",
		  TG_EPARSE, "not base64" },
		{ "o\n736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
		  "\xe2\x80\x94 a AAAA\n",
		  TG_EPARSE, "key hint and a signature" },
		{ "o\n736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n"
		  "\xe2\x80\x94 a AAAAAAAA",
		  TG_EPARSE, "no newline" },
	};
	tg_checkpoint *cp = NULL;
	tg_buf big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(tg_checkpoint_parse(&cp, cases[i].text,
		                                     strlen(cases[i].text)),
		                 cases[i].code);
		assert_null(cp);
		assert_contains(tg_error_last(), cases[i].msg);
	}
	assert_int_equal(tg_checkpoint_parse(&cp, "o\n1\0x\n\n", 8), TG_EPARSE);
	assert_contains(tg_error_last(), "NUL");
	/* 65 signature lines: over the limit. */
	tg_buf_init(&big, 1 << 20);
	assert_int_equal(
	        tg_buf_puts(&big,
	                    "o\n1\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI="
	                    "\n\n"),
	        0);
	for (i = 0; i < 65; i++)
		assert_int_equal(tg_buf_puts(&big, "\xe2\x80\x94 w AAAAAAAA\n"),
		                 0);
	assert_int_equal(tg_checkpoint_parse(&cp, big.data, big.len),
	                 TG_ETOOBIG);
	tg_buf_clear(&big);
	for (i = 0; i < 70000; i++)
		assert_int_equal(tg_buf_puts(&big, "x"), 0);
	assert_int_equal(tg_checkpoint_parse(&cp, big.data, big.len),
	                 TG_ETOOBIG);
	tg_buf_free(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_tlog_reference_tree_matches_rfc6962_vectors),
		cmocka_unit_test(test_tlog_inclusion_every_leaf_of_every_tree),
		cmocka_unit_test(test_tlog_inclusion_rejects_bad_shapes),
		cmocka_unit_test(test_tlog_inclusion_real_rekor_entry),
		cmocka_unit_test(test_tlog_canonical_json),
		cmocka_unit_test(test_tlog_checkpoint_parses_real_notes),
		cmocka_unit_test(test_tlog_checkpoint_rejects_malformed_notes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
