/*
 * Tests of cosign simple-signing payloads and signature verification
 * (verify/sig/cosign.c), including the key-based rows of the containers/image
 * verdict table (../shared/fixtures/README.md) checked offline.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/authority.h"
#include "tollgate/cosign.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/keys.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#define VALID_DIGEST                                                           \
	"sha256:"                                                              \
	"634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"
#define SAMPLE "192.168.64.2:5000/cosign-signed-single-sample"

/*
 * The fixtures come from a Git tree with symbolic links stored as small
 * files holding the target path ("../dir-img-cosign-valid/signature-1").
 * Follow such a file to its target; NULL when the target does not exist
 * (dir-img-cosign-no-manifest, -manifest-digest-error).
 */
static char *read_fixture_follow(const char *rel, size_t *len_out)
{
	char *path = tt_fixture_path(rel), *data = NULL, *dir, *slash;
	size_t len = 0;
	int hops;

	for (hops = 0; hops < 4; hops++) {
		if (tg_file_read(&data, &len, path, 1u << 20) < 0)
			break;
		if (len == 0 || len > 256 || strncmp(data, "../", 3) != 0) {
			free(path);
			*len_out = len;
			return data;
		}
		dir = tg_strdup(path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		free(path);
		path = tg_path_join(dir, data);
		free(dir);
		free(data);
		data = NULL;
	}
	free(data);
	free(path);
	return NULL;
}

/* One signature-N file turned into a registry layer's view. */
struct fixture_sig {
	char *media_type;
	unsigned char *payload;
	size_t payload_len;
	char *signature;
	tg_cosign_layer layer;
};

static void fixture_sig_load(struct fixture_sig *s, const char *rel)
{
	size_t len;
	char *data = read_fixture_follow(rel, &len);
	json_t *doc, *ann;
	const char *p;

	assert_non_null(data);
	assert_true(len > 15);
	assert_memory_equal(data, "\0sigstore-json\n", 15);
	doc = json_loadb(data + 15, len - 15, 0, NULL);
	assert_non_null(doc);
	p = json_string_value(json_object_get(doc, "payload"));
	assert_int_equal(
	        tg_base64_decode(&s->payload, &s->payload_len, p, strlen(p)),
	        0);
	s->media_type =
	        tg_strdup(json_string_value(json_object_get(doc, "mimeType")));
	ann = json_object_get(doc, "annotations");
	p = json_string_value(
	        json_object_get(ann, TG_COSIGN_SIGNATURE_ANNOTATION));
	s->signature = p ? tg_strdup(p) : NULL;
	memset(&s->layer, 0, sizeof(s->layer));
	s->layer.media_type = s->media_type;
	s->layer.payload = s->payload;
	s->layer.payload_len = s->payload_len;
	s->layer.signature = s->signature;
	json_decref(doc);
	free(data);
}

static void fixture_sig_free(struct fixture_sig *s)
{
	free(s->media_type);
	free(s->payload);
	free(s->signature);
}

/* The digest of a fixture image: sha256 of its manifest.json; NULL when
 * the manifest is missing. */
static char *fixture_digest(const char *dir)
{
	char *rel = tg_aprintf("containers-image/%s/manifest.json", dir);
	char out[TG_DIGEST_STR_LEN + 1];
	size_t len;
	char *data = read_fixture_follow(rel, &len);

	free(rel);
	if (!data)
		return NULL;
	tg_sha256_digest_str(out, data, len);
	free(data);
	return tg_strdup(out);
}

static tg_key *fixture_key(const char *name)
{
	char *rel = tg_aprintf("containers-image/%s", name);
	char *path = tt_fixture_path(rel);
	tg_key *key;

	assert_int_equal(tg_key_load_file(&key, path), 0);
	free(path);
	free(rel);
	return key;
}

/*
 * Verify the signature files of one fixture directory (or the loose
 * signature file when dir is NULL) for image with key, under identity
 * mode. Returns the check (caller frees).
 */
static tg_check *verify_fixture(const char *dir,
                                const char *const *sigs,
                                size_t nsigs,
                                const char *keyname,
                                const char *image,
                                const char *digest,
                                tg_policy_identity mode)
{
	struct fixture_sig fs[4];
	tg_cosign_layer layers[4];
	tg_key *key = fixture_key(keyname);
	tg_authority auth = { .name = "release", .key = key };
	tg_cosign_options o = { 0 };
	tg_imageref *ref;
	tg_check *check = NULL;
	size_t i;

	assert_int_equal(tg_imageref_parse(&ref, image), 0);
	for (i = 0; i < nsigs; i++) {
		char *rel =
		        dir ? tg_aprintf("containers-image/%s/%s", dir, sigs[i])
		            : tg_aprintf("containers-image/%s", sigs[i]);
		fixture_sig_load(&fs[i], rel);
		layers[i] = fs[i].layer;
		free(rel);
	}
	o.digest = digest;
	o.image = ref;
	o.identity.mode = mode;
	o.authorities = &auth;
	o.authorities_count = 1;
	o.threshold = 1;
	assert_int_equal(tg_cosign_verify(&check, layers, nsigs, &o), 0);
	assert_non_null(check);
	for (i = 0; i < nsigs; i++)
		fixture_sig_free(&fs[i]);
	tg_imageref_free(ref);
	tg_key_free(key);
	return check;
}

static const char *const sig1[] = { "signature-1" };
static const char *const sig12[] = { "signature-1", "signature-2" };

static json_int_t evidence_int(const tg_check *c, const char *key)
{
	return json_integer_value(json_object_get(tg_check_evidence(c), key));
}

static void assert_reason(const tg_check *c, const char *sub)
{
	size_t i;

	for (i = 0; i < tg_check_reason_count(c); i++)
		if (strstr(tg_check_reason(c, i), sub))
			return;
	print_error("no reason contains \"%s\"; reasons:\n", sub);
	for (i = 0; i < tg_check_reason_count(c); i++)
		print_error("  %s\n", tg_check_reason(c, i));
	fail();
}

/* Payload parsing ---------------------------------------------------------- */

static void test_cosign_payload_parses_real_and_good(void **state)
{
	struct fixture_sig s;
	tg_cosign_payload *p;
	size_t len;
	char *data;

	(void)state;
	fixture_sig_load(&s, "containers-image/dir-img-cosign-valid/"
	                     "signature-1");
	assert_int_equal(tg_cosign_payload_parse(&p, s.payload, s.payload_len),
	                 0);
	assert_string_equal(tg_cosign_payload_digest(p), VALID_DIGEST);
	assert_string_equal(tg_cosign_payload_reference(p), SAMPLE);
	tg_cosign_payload_free(p);
	fixture_sig_free(&s);

	data = tt_read_src("tests/data/cosign/good/with-optional.json", &len);
	assert_int_equal(
	        tg_cosign_payload_parse(&p, (unsigned char *)data, len), 0);
	assert_string_equal(tg_cosign_payload_reference(p),
	                    "registry.example.com/acme/api:v1");
	tg_cosign_payload_free(p);
	free(data);
}

/* The error code each file of tests/data/cosign/bad must give; the text it
 * must say is on its "# error:" line. */
static const struct {
	const char *file;
	int code;
} bad_codes[] = {
	{ "duplicate-key.json", TG_EPARSE },
	{ "wrong-type.json", TG_EINVALID },
	{ "unknown-critical-member.json", TG_EPARSE },
	{ "identity-extra.json", TG_EPARSE },
	{ "bad-digest.json", TG_EPARSE },
	{ "digest-not-string.json", TG_EPARSE },
	{ "no-critical.json", TG_EPARSE },
	{ "truncated.json", TG_EPARSE },
	{ "not-object.json", TG_EPARSE },
	{ "optional-string.json", TG_EPARSE },
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

static void check_bad_payload(const tt_bad_case *c, void *ctx)
{
	tg_cosign_payload *p = (tg_cosign_payload *)1;
	int r = tg_cosign_payload_parse(&p, (const unsigned char *)c->input,
	                                c->input_len);

	(void)ctx;
	if (r != bad_code(c->name)) {
		print_error("%s: expected %d, got %d: %s\n", c->name,
		            bad_code(c->name), r, tg_error_last());
		fail();
	}
	assert_null(p);
	assert_contains(tg_error_last(), c->expected);
}

static void test_cosign_payload_rejects_hostile(void **state)
{
	unsigned char *big;
	tg_cosign_payload *p;

	(void)state;
	assert_int_equal(tt_each_bad_case("tests/data/cosign/bad", ".json",
	                                  check_bad_payload, NULL),
	                 (int)(sizeof(bad_codes) / sizeof(bad_codes[0])));
	big = tg_calloc(1, TG_MAX_SIGNATURE_PAYLOAD_BYTES + 1);
	memset(big, ' ', TG_MAX_SIGNATURE_PAYLOAD_BYTES + 1);
	assert_int_equal(tg_cosign_payload_parse(
	                         &p, big, TG_MAX_SIGNATURE_PAYLOAD_BYTES + 1),
	                 TG_ETOOBIG);
	assert_contains(tg_error_last(), "over the limit");
	free(big);
}

/* Identity ----------------------------------------------------------------- */

static int identity(const char *signed_ref,
                    const char *image,
                    tg_policy_identity mode,
                    const char *pre,
                    const char *signed_pre)
{
	char *json = tg_aprintf(
	        "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},"
	        "\"image\":{\"docker-manifest-digest\":\"%s\"},\"type\":"
	        "\"cosign container image signature\"},\"optional\":null}",
	        signed_ref, VALID_DIGEST);
	tg_identity_rule rule = { mode, pre, signed_pre };
	tg_cosign_payload *p;
	tg_imageref *ref;
	int r;

	assert_int_equal(tg_cosign_payload_parse(&p, (unsigned char *)json,
	                                         strlen(json)),
	                 0);
	assert_int_equal(tg_imageref_parse(&ref, image), 0);
	r = tg_cosign_check_identity(p, ref, &rule);
	tg_imageref_free(ref);
	tg_cosign_payload_free(p);
	free(json);
	return r;
}

static void test_cosign_identity_modes(void **state)
{
	(void)state;
	/* any: as cosign, the reference is not looked at. */
	assert_int_equal(identity("a.example/x", "b.example/y:1",
	                          TG_IDENTITY_ANY, NULL, NULL),
	                 0);
	/* repository: same repository after normalisation, any tag. */
	assert_int_equal(identity("docker.io/library/nginx", "nginx:1.25",
	                          TG_IDENTITY_REPOSITORY, NULL, NULL),
	                 0);
	assert_int_equal(identity("registry.example.com/acme/api:v1",
	                          "registry.example.com/acme/api:v2",
	                          TG_IDENTITY_REPOSITORY, NULL, NULL),
	                 0);
	assert_int_equal(identity("registry.example.com/acme/api",
	                          "registry.example.com/acme/web:v1",
	                          TG_IDENTITY_REPOSITORY, NULL, NULL),
	                 TG_EINVALID);
	assert_contains(tg_error_last(),
	                "signed for \"registry.example.com/acme/api\"");
	/* A longer name is not the same repository. */
	assert_int_equal(identity("registry.example.com/acme/api",
	                          "registry.example.com/acme/api2",
	                          TG_IDENTITY_REPOSITORY, NULL, NULL),
	                 TG_EINVALID);
	/* exact: the tag too. */
	assert_int_equal(identity("registry.example.com/acme/api:v1",
	                          "registry.example.com/acme/api:v1",
	                          TG_IDENTITY_EXACT, NULL, NULL),
	                 0);
	assert_int_equal(identity("registry.example.com/acme/api:v1",
	                          "registry.example.com/acme/api:v2",
	                          TG_IDENTITY_EXACT, NULL, NULL),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "signedIdentity exact");
	/* A signed reference without a tag cannot match exactly. */
	assert_int_equal(identity("registry.example.com/acme/api",
	                          "registry.example.com/acme/api:latest",
	                          TG_IDENTITY_EXACT, NULL, NULL),
	                 TG_EINVALID);
	/* An unparsable signed reference never matches. */
	assert_int_equal(identity("Not A Reference", "a.example/x",
	                          TG_IDENTITY_REPOSITORY, NULL, NULL),
	                 TG_EINVALID);
}

static void test_cosign_identity_remap(void **state)
{
	(void)state;
	/* A mirror's name is compared as the signed registry's. */
	assert_int_equal(identity("registry.example.com/acme/api",
	                          "mirror.example.com/acme/api:v1",
	                          TG_IDENTITY_REPOSITORY,
	                          "mirror.example.com/acme/",
	                          "registry.example.com/acme/"),
	                 0);
	assert_int_equal(identity("registry.example.com/acme/api:v1",
	                          "mirror.example.com/acme/api:v1",
	                          TG_IDENTITY_EXACT, "mirror.example.com/acme",
	                          "registry.example.com/acme"),
	                 0);
	/* Without the remap the mirror does not match. */
	assert_int_equal(identity("registry.example.com/acme/api",
	                          "mirror.example.com/acme/api:v1",
	                          TG_IDENTITY_REPOSITORY, NULL, NULL),
	                 TG_EINVALID);
	/* The prefix matches on path components only. */
	assert_int_equal(identity("registry.example.com/acme/api",
	                          "mirror.example.com/acmex/api:v1",
	                          TG_IDENTITY_REPOSITORY,
	                          "mirror.example.com/acme",
	                          "registry.example.com/acme"),
	                 TG_EINVALID);
}

/* The containers/image verdict table, key-based rows ---------------------- */

static void test_cosign_fixture_valid_accepts(void **state)
{
	char *d = fixture_digest("dir-img-cosign-valid");
	tg_check *c;

	(void)state;
	assert_string_equal(d, VALID_DIGEST);
	c = verify_fixture("dir-img-cosign-valid", sig1, 1, "cosign.pub",
	                   SAMPLE, d, TG_IDENTITY_REPOSITORY);
	assert_true(tg_check_passed(c));
	assert_int_equal(evidence_int(c, "seen"), 1);
	assert_int_equal(evidence_int(c, "valid"), 1);
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_valid_identity_mismatch(void **state)
{
	char *d = fixture_digest("dir-img-cosign-valid");
	tg_check *c;

	(void)state;
	c = verify_fixture("dir-img-cosign-valid", sig1, 1, "cosign.pub",
	                   "testing/manifest:notlatest", d,
	                   TG_IDENTITY_REPOSITORY);
	assert_false(tg_check_passed(c));
	assert_reason(c, "0 of 1 signatures verify with key \"release\"; "
	                 "re-sign or add the signer to the policy");
	assert_reason(c, "signature 1: signed for \"" SAMPLE "\"");
	tg_check_free(c);
	/* cosign checks only the digest: under "any" it is accepted. */
	c = verify_fixture("dir-img-cosign-valid", sig1, 1, "cosign.pub",
	                   "testing/manifest:notlatest", d, TG_IDENTITY_ANY);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_valid_2(void **state)
{
	char *d = fixture_digest("dir-img-cosign-valid-2");
	tg_check *c;

	(void)state;
	c = verify_fixture("dir-img-cosign-valid-2", sig12, 2, "cosign.pub",
	                   SAMPLE, d, TG_IDENTITY_REPOSITORY);
	assert_true(tg_check_passed(c));
	assert_int_equal(evidence_int(c, "seen"), 2);
	assert_int_equal(evidence_int(c, "valid"), 2);
	tg_check_free(c);
	c = verify_fixture("dir-img-cosign-valid-2", sig12, 2, "cosign.pub",
	                   "this/does-not:match", d, TG_IDENTITY_REPOSITORY);
	assert_false(tg_check_passed(c));
	assert_reason(c, "0 of 2 signatures verify");
	tg_check_free(c);
	c = verify_fixture("dir-img-cosign-valid-2", sig12, 2, "cosign.pub",
	                   "this/does-not:match", d, TG_IDENTITY_ANY);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_mixed_accepts(void **state)
{
	char *d = fixture_digest("dir-img-cosign-mixed");
	tg_check *c;

	(void)state;
	/* The first signature is by an unknown key: a note, not the end. */
	c = verify_fixture("dir-img-cosign-mixed", sig12, 2, "cosign.pub",
	                   SAMPLE, d, TG_IDENTITY_REPOSITORY);
	assert_true(tg_check_passed(c));
	assert_int_equal(evidence_int(c, "seen"), 2);
	assert_int_equal(evidence_int(c, "valid"), 1);
	assert_int_equal(tg_check_note_count(c), 1);
	assert_contains(tg_check_note_at(c, 0),
	                "signature 1: does not verify (key \"release\"");
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_exact_tag(void **state)
{
	char *d = fixture_digest("dir-img-cosign-valid-with-tag");
	tg_check *c;

	(void)state;
	c = verify_fixture("dir-img-cosign-valid-with-tag", sig1, 1,
	                   "cosign.pub", "192.168.64.2:5000/skopeo-signed:tag",
	                   d, TG_IDENTITY_EXACT);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
	c = verify_fixture("dir-img-cosign-valid-with-tag", sig1, 1,
	                   "cosign.pub",
	                   "192.168.64.2:5000/skopeo-signed:othertag", d,
	                   TG_IDENTITY_EXACT);
	assert_false(tg_check_passed(c));
	assert_reason(c, "signed for \"192.168.64.2:5000/skopeo-signed:tag\"");
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_other_attachment_rejects(void **state)
{
	char *d = fixture_digest("dir-img-cosign-other-attachment");
	tg_check *c;

	(void)state;
	c = verify_fixture("dir-img-cosign-other-attachment", sig1, 1,
	                   "cosign.pub", SAMPLE, d, TG_IDENTITY_ANY);
	assert_false(tg_check_passed(c));
	assert_reason(c, "layer media type \"text/plain\" is not "
	                 "application/vnd.dev.cosign.simplesigning.v1+json");
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_modified_manifest_rejects(void **state)
{
	char *d = fixture_digest("dir-img-cosign-modified-manifest");
	tg_check *c;

	(void)state;
	assert_string_not_equal(d, VALID_DIGEST);
	c = verify_fixture("dir-img-cosign-modified-manifest", sig1, 1,
	                   "cosign.pub", SAMPLE, d, TG_IDENTITY_ANY);
	assert_false(tg_check_passed(c));
	assert_reason(c, "payload is for " VALID_DIGEST ", not this image");
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_missing_manifests(void **state)
{
	char *d;

	(void)state;
	/* No manifest, or one that cannot be read: there is no digest to
	 * verify, so the registry path blocks them before signatures. */
	d = fixture_digest("dir-img-cosign-no-manifest");
	assert_null(d);
	d = fixture_digest("dir-img-cosign-manifest-digest-error");
	assert_null(d);
}

static void test_cosign_fixture_key_rekor_accepts_with_key(void **state)
{
	char *d = fixture_digest("dir-img-cosign-key-rekor-valid");
	tg_check *c;

	(void)state;
	c = verify_fixture("dir-img-cosign-key-rekor-valid", sig1, 1,
	                   "cosign2.pub",
	                   "192.168.64.2:5000/cosign-signed/key-1", d,
	                   TG_IDENTITY_REPOSITORY);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
	/* The same signature is not by cosign.pub. */
	c = verify_fixture(
	        "dir-img-cosign-key-rekor-valid", sig1, 1, "cosign.pub",
	        "192.168.64.2:5000/cosign-signed/key-1", d, TG_IDENTITY_ANY);
	assert_false(tg_check_passed(c));
	assert_reason(c, "0 of 1 signatures verify with key \"release\"");
	tg_check_free(c);
	free(d);
}

static void test_cosign_fixture_unknown_key_rejects(void **state)
{
	static const char *const loose[] = { "unknown-cosign-key.signature" };
	tg_check *c;

	(void)state;
	c = verify_fixture(NULL, loose, 1, "cosign.pub", SAMPLE, VALID_DIGEST,
	                   TG_IDENTITY_ANY);
	assert_false(tg_check_passed(c));
	assert_reason(c, "signature 1: does not verify");
	tg_check_free(c);
}

/* Threshold and options ---------------------------------------------------- */

static void test_cosign_threshold_counts_distinct_authorities(void **state)
{
	struct fixture_sig s;
	tg_key *k1 = fixture_key("cosign.pub"),
	       *k2 = fixture_key("cosign2.pub");
	tg_authority auths[2] = { { .name = "release", .key = k1 },
		                  { .name = "ci", .key = k2 } };
	tg_cosign_layer layers[2];
	tg_cosign_options o = { 0 };
	tg_check *c;

	(void)state;
	fixture_sig_load(&s, "containers-image/dir-img-cosign-valid/"
	                     "signature-1");
	/* The same signature twice still counts one authority. */
	layers[0] = layers[1] = s.layer;
	o.digest = VALID_DIGEST;
	o.authorities = auths;
	o.authorities_count = 2;
	o.threshold = 2;
	assert_int_equal(tg_cosign_verify(&c, layers, 2, &o), 0);
	assert_false(tg_check_passed(c));
	assert_reason(c, "signed by 1 of the 2 authorities required "
	                 "(authorities \"release\", \"ci\")");
	assert_int_equal(evidence_int(c, "valid"), 2);
	tg_check_free(c);
	o.threshold = 1;
	assert_int_equal(tg_cosign_verify(&c, layers, 2, &o), 0);
	assert_true(tg_check_passed(c));
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(tg_check_evidence(c),
	                                               "authorities"),
	                               0),
	                "signer")),
	        tg_key_id(k1));
	tg_check_free(c);
	/* A threshold above the authorities is unusable. */
	o.threshold = 3;
	assert_int_equal(tg_cosign_verify(&c, layers, 2, &o), TG_EINVALID);
	assert_null(c);
	fixture_sig_free(&s);
	tg_key_free(k1);
	tg_key_free(k2);
}

/* One key listed under two authority names is one signer: two signatures
 * by it (dir-img-cosign-valid-2) meet threshold 1, not threshold 2. */
static void test_cosign_threshold_counts_one_key_once(void **state)
{
	struct fixture_sig s1, s2;
	tg_key *k1 = fixture_key("cosign.pub"),
	       *k1b = fixture_key("cosign.pub");
	tg_authority auths[2] = { { .name = "release", .key = k1 },
		                  { .name = "release-again", .key = k1b } };
	tg_cosign_layer layers[2];
	tg_cosign_options o = { 0 };
	char *d = fixture_digest("dir-img-cosign-valid-2");
	tg_check *c;

	(void)state;
	fixture_sig_load(&s1, "containers-image/dir-img-cosign-valid-2/"
	                      "signature-1");
	fixture_sig_load(&s2, "containers-image/dir-img-cosign-valid-2/"
	                      "signature-2");
	layers[0] = s1.layer;
	layers[1] = s2.layer;
	o.digest = d;
	o.authorities = auths;
	o.authorities_count = 2;
	o.threshold = 2;
	assert_int_equal(tg_cosign_verify(&c, layers, 2, &o), 0);
	assert_int_equal(evidence_int(c, "valid"), 2);
	assert_false(tg_check_passed(c));
	assert_reason(c, "signed by 1 of the 2 authorities required");
	assert_reason(c, "already counts for another authority");
	assert_int_equal(json_array_size(json_object_get(tg_check_evidence(c),
	                                                 "authorities")),
	                 1);
	tg_check_free(c);
	o.threshold = 1;
	assert_int_equal(tg_cosign_verify(&c, layers, 2, &o), 0);
	assert_true(tg_check_passed(c));
	tg_check_free(c);
	fixture_sig_free(&s1);
	fixture_sig_free(&s2);
	tg_key_free(k1);
	tg_key_free(k1b);
	free(d);
}

/* Signatures verified elsewhere (referrer bundles) count with the layers
 * towards the threshold; rejected ones are reasons. */
static void test_cosign_counts_extra_signatures(void **state)
{
	struct fixture_sig s;
	tg_key *k1 = fixture_key("cosign.pub"),
	       *k2 = fixture_key("cosign2.pub");
	tg_authority auths[2] = { { .name = "release", .key = k1 },
		                  { .name = "ci", .key = k2 } };
	tg_cosign_extra extra[2] = {
		{ .source = "referrer sha256:aa", .rejected = "bad bundle" },
		{ .source = "referrer sha256:bb",
		  .authority = 1,
		  .signer = "sha256:ci-key" },
	};
	tg_cosign_options o = { 0 };
	tg_check *c;

	(void)state;
	fixture_sig_load(&s, "containers-image/dir-img-cosign-valid/"
	                     "signature-1");
	o.digest = VALID_DIGEST;
	o.authorities = auths;
	o.authorities_count = 2;
	o.threshold = 2;
	o.extra = extra;
	o.extra_count = 2;
	assert_int_equal(tg_cosign_verify(&c, &s.layer, 1, &o), 0);
	assert_true(tg_check_passed(c));
	assert_int_equal(evidence_int(c, "seen"), 3);
	assert_int_equal(evidence_int(c, "valid"), 2);
	tg_check_free(c);
	/* Without the layer, one authority of two: the bad bundle is named. */
	assert_int_equal(tg_cosign_verify(&c, NULL, 0, &o), 0);
	assert_false(tg_check_passed(c));
	assert_reason(c, "signed by 1 of the 2 authorities required");
	assert_reason(c, "signature 1: referrer sha256:aa: bad bundle");
	tg_check_free(c);
	/* Only the rejected bundle: nothing verifies. */
	o.threshold = 1;
	o.extra_count = 1;
	assert_int_equal(tg_cosign_verify(&c, NULL, 0, &o), 0);
	assert_false(tg_check_passed(c));
	assert_reason(c, "0 of 1 signatures verify");
	tg_check_free(c);
	fixture_sig_free(&s);
	tg_key_free(k1);
	tg_key_free(k2);
}

static void test_cosign_rejects_unsigned_and_tampered(void **state)
{
	struct fixture_sig s;
	tg_key *k = fixture_key("cosign.pub");
	tg_authority auth = { .name = "release", .key = k };
	tg_cosign_options o = { 0 };
	tg_cosign_layer l;
	tg_check *c;

	(void)state;
	o.digest = VALID_DIGEST;
	o.authorities = &auth;
	o.authorities_count = 1;
	/* No layers at all. */
	assert_int_equal(tg_cosign_verify(&c, NULL, 0, &o), 0);
	assert_false(tg_check_passed(c));
	assert_reason(c, "no signatures found");
	tg_check_free(c);
	fixture_sig_load(&s, "containers-image/dir-img-cosign-valid/"
	                     "signature-1");
	/* A layer without the signature annotation. */
	l = s.layer;
	l.signature = NULL;
	assert_int_equal(tg_cosign_verify(&c, &l, 1, &o), 0);
	assert_false(tg_check_passed(c));
	assert_reason(c, "no dev.cosignproject.cosign/signature annotation");
	tg_check_free(c);
	/* Not base64. */
	l.signature = "***";
	assert_int_equal(tg_cosign_verify(&c, &l, 1, &o), 0);
	assert_reason(c, "not base64");
	tg_check_free(c);
	/* One byte of the payload changed. */
	l = s.layer;
	s.payload[20] ^= 0x20;
	assert_int_equal(tg_cosign_verify(&c, &l, 1, &o), 0);
	assert_false(tg_check_passed(c));
	assert_reason(c, "signature 1: does not verify");
	tg_check_free(c);
	fixture_sig_free(&s);
	tg_key_free(k);
}

static void test_cosign_caps_layers(void **state)
{
	struct fixture_sig s;
	tg_key *k = fixture_key("cosign.pub");
	tg_authority auth = { .name = "release", .key = k };
	tg_cosign_options o = { 0 };
	tg_cosign_layer *l = tg_calloc(TG_MAX_SIGNATURES + 5, sizeof(*l));
	tg_check *c;
	size_t i;

	(void)state;
	fixture_sig_load(&s, "containers-image/dir-img-cosign-valid/"
	                     "signature-1");
	/* The only valid signature sits past the cap: never looked at. */
	for (i = 0; i < TG_MAX_SIGNATURES + 5; i++) {
		l[i] = s.layer;
		l[i].signature =
		        i == TG_MAX_SIGNATURES + 4 ? s.signature : "MEUCIQ==";
	}
	o.digest = VALID_DIGEST;
	o.authorities = &auth;
	o.authorities_count = 1;
	assert_int_equal(tg_cosign_verify(&c, l, TG_MAX_SIGNATURES + 5, &o), 0);
	assert_false(tg_check_passed(c));
	assert_int_equal(evidence_int(c, "seen"), TG_MAX_SIGNATURES);
	assert_reason(c, "5 signatures beyond the limit of 64");
	tg_check_free(c);
	free(l);
	fixture_sig_free(&s);
	tg_key_free(k);
}

/* The payload real cosign wrote, remade from its reference and digest
 * byte for byte (the verifier then need not fetch it); one with
 * annotations (containers/image's "optional") is not remade. */
static void test_cosign_payload_canonical_matches_cosign(void **state)
{
	static const char *const dirs[] = { "dir-img-cosign-valid",
		                            "dir-img-cosign-key-rekor-valid",
		                            "dir-img-cosign-fulcio-rekor-valid",
		                            "dir-img-cosign-pki-valid",
		                            "dir-img-cosign-valid-with-tag" };
	size_t i;

	(void)state;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *rel =
		        tg_aprintf("containers-image/%s/signature-1", dirs[i]);
		struct fixture_sig s;
		tg_cosign_payload *p;
		char *text;

		fixture_sig_load(&s, rel);
		assert_int_equal(
		        tg_cosign_payload_parse(&p, s.payload, s.payload_len),
		        0);
		text = tg_cosign_payload_canonical(
		        tg_cosign_payload_reference(p),
		        tg_cosign_payload_digest(p));
		assert_non_null(text);
		/* the last one carries "optional": {"creator": ...} */
		assert_int_equal(
		        strlen(text) == s.payload_len &&
		                !memcmp(text, s.payload, s.payload_len),
		        i < 4);
		free(text);
		tg_cosign_payload_free(p);
		fixture_sig_free(&s);
		free(rel);
	}
	assert_null(tg_cosign_payload_canonical("r/a\"b", VALID_DIGEST));
	assert_null(tg_cosign_payload_canonical("r/a<b", VALID_DIGEST));
	assert_null(tg_cosign_payload_canonical(SAMPLE, "sha256:abc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cosign_payload_parses_real_and_good),
		cmocka_unit_test(test_cosign_payload_rejects_hostile),
		cmocka_unit_test(test_cosign_identity_modes),
		cmocka_unit_test(test_cosign_identity_remap),
		cmocka_unit_test(test_cosign_fixture_valid_accepts),
		cmocka_unit_test(test_cosign_fixture_valid_identity_mismatch),
		cmocka_unit_test(test_cosign_fixture_valid_2),
		cmocka_unit_test(test_cosign_fixture_mixed_accepts),
		cmocka_unit_test(test_cosign_fixture_exact_tag),
		cmocka_unit_test(test_cosign_fixture_other_attachment_rejects),
		cmocka_unit_test(test_cosign_fixture_modified_manifest_rejects),
		cmocka_unit_test(test_cosign_fixture_missing_manifests),
		cmocka_unit_test(
		        test_cosign_fixture_key_rekor_accepts_with_key),
		cmocka_unit_test(test_cosign_fixture_unknown_key_rejects),
		cmocka_unit_test(
		        test_cosign_threshold_counts_distinct_authorities),
		cmocka_unit_test(test_cosign_threshold_counts_one_key_once),
		cmocka_unit_test(test_cosign_counts_extra_signatures),
		cmocka_unit_test(test_cosign_rejects_unsigned_and_tampered),
		cmocka_unit_test(test_cosign_caps_layers),
		cmocka_unit_test(test_cosign_payload_canonical_matches_cosign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
