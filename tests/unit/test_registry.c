/*
 * Unit tests of the registry client's parsers: WWW-Authenticate
 * challenges, Link headers, docker config.json credentials, manifest shape
 * checks (tests/data/registry/{good,bad}), and small helpers. The network
 * parts are tested against a real registry in tests/integration/registry_*.
 */
#include <microhttpd.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../verify/oci/http_header_int.h"
#include "../../verify/oci/registry_int.h"
#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/registry.h"
#include "tollgate/util.h"

#define H1                                                                     \
	"sha256:"                                                              \
	"ea0b117a306f2dce3133d9df3790c3e028a11fb96efe7ebb30928ba66be657d4"

static void test_registry_challenge_bearer_with_quoted_commas(void **state)
{
	tg_auth_challenge c;

	(void)state;
	assert_int_equal(
	        tg_www_authenticate_parse(
	                &c, "Bearer realm=\"https://auth.docker.io/token\","
	                    "service=\"registry.docker.io\","
	                    "scope=\"repository:samalba/my-app:pull,push\""),
	        0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:samalba/my-app:pull,push");
	tg_auth_challenge_clear(&c);
}

static void test_registry_challenge_escapes_and_tokens(void **state)
{
	tg_auth_challenge c;

	(void)state;
	assert_int_equal(
	        tg_www_authenticate_parse(
	                &c, "bearer  realm = \"https://a/t\\\"x\" , "
	                    "service=svc.example,error=insufficient_scope"),
	        0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "https://a/t\"x");
	assert_string_equal(c.service, "svc.example");
	assert_null(c.scope);
	tg_auth_challenge_clear(&c);
}

static void test_registry_challenge_prefers_bearer(void **state)
{
	tg_auth_challenge c;

	(void)state;
	assert_int_equal(tg_www_authenticate_parse(
	                         &c,
	                         "Basic realm=\"basic, with comma\", "
	                         "Bearer realm=\"https://t/\",service=\"s\""),
	                 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://t/");
	tg_auth_challenge_clear(&c);

	assert_int_equal(
	        tg_www_authenticate_parse(&c, "Basic realm=\"registry\""), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_string_equal(c.realm, "registry");
	tg_auth_challenge_clear(&c);

	/* token68 form is skipped, not mistaken for a parameter. */
	assert_int_equal(tg_www_authenticate_parse(
	                         &c, "Negotiate abc==, Bearer realm=\"r\""),
	                 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "r");
	tg_auth_challenge_clear(&c);
}

static void test_registry_challenge_rejects_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"   ",
		"Bearer realm=\"unterminated",
		"=realm",
		"Bearer realm=\"a\" junk\"",
		"Bearer realm=\"a\";x",
	};
	tg_auth_challenge c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tg_www_authenticate_parse(&c, bad[i]),
		                 TG_EPARSE);
		assert_contains(tg_error_last(), "WWW-Authenticate");
		assert_null(c.scheme);
	}
}

static void test_registry_link_next(void **state)
{
	char *next;

	(void)state;
	assert_int_equal(tg_link_next_parse(&next, "</v2/r/referrers/" H1
	                                           "?n=2&last=ab>; "
	                                           "rel=\"next\""),
	                 0);
	assert_string_equal(next, "/v2/r/referrers/" H1 "?n=2&last=ab");
	free(next);

	assert_int_equal(
	        tg_link_next_parse(&next,
	                           "<https://x/a>; rel=\"prev\"; "
	                           "title=\"a, b; c\", <https://x/b>;rel=next"),
	        0);
	assert_string_equal(next, "https://x/b");
	free(next);

	assert_int_equal(tg_link_next_parse(&next, "</c>; rel=\"last NEXT\""),
	                 0);
	assert_string_equal(next, "/c");
	free(next);

	assert_int_equal(tg_link_next_parse(&next, "</a>; rel=\"prev\""), 0);
	assert_null(next);
	assert_int_equal(tg_link_next_parse(&next, ""), 0);
	assert_null(next);
}

static void test_registry_link_rejects_malformed(void **state)
{
	static const char *bad[] = {
		"/v2/x; rel=next", "</v2/x; rel=next", "</a>; rel=\"next",
		"</a> junk",       "</a>; =x",
	};
	char *next;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tg_link_next_parse(&next, bad[i]), TG_EPARSE);
		assert_null(next);
		assert_contains(tg_error_last(), "Link header");
	}
}

static void test_registry_docker_config_auths(void **state)
{
	/* "alice:s3:cret" and "bob:pw" in base64. */
	const char *json =
	        "{\"auths\":{"
	        "\"registry.example.com\":{\"auth\":\"YWxpY2U6czM6Y3JldA==\"},"
	        "\"https://index.docker.io/v1/\":{\"auth\":\"Ym9iOnB3\"},"
	        "\"http://127.0.0.1:5000/"
	        "\":{\"username\":\"u\",\"password\":\"p\"},"
	        "\"helper.example.com\":{}},"
	        "\"credsStore\":\"desktop\"}";
	const tg_docker_cred *c;
	tg_docker_cred *creds;
	size_t n;

	(void)state;
	assert_int_equal(tg_docker_config_parse(&creds, &n, "config.json", json,
	                                        strlen(json)),
	                 0);
	assert_int_equal(n, 3);
	c = tg_docker_cred_find(creds, n, "registry.example.com");
	assert_non_null(c);
	assert_string_equal(c->username, "alice");
	assert_string_equal(c->password, "s3:cret");
	c = tg_docker_cred_find(creds, n, "docker.io");
	assert_non_null(c);
	assert_string_equal(c->username, "bob");
	c = tg_docker_cred_find(creds, n, "127.0.0.1:5000");
	assert_non_null(c);
	assert_string_equal(c->password, "p");
	assert_null(tg_docker_cred_find(creds, n, "helper.example.com"));
	assert_null(tg_docker_cred_find(creds, n, "ghcr.io"));
	tg_docker_creds_free(creds, n);
}

static void test_registry_docker_config_rejects_bad(void **state)
{
	static const struct {
		const char *json;
		const char *msg;
	} bad[] = {
		/* "secretpw" without a colon: the secret must not leak. */
		{ "{\"auths\":{\"r\":{\"auth\":\"c2VjcmV0cHc=\"}}}",
		  "auths.\"r\".auth is not base64" },
		{ "{\"auths\":{\"r\":{\"auth\":\"!!notbase64\"}}}",
		  "is not base64" },
		{ "{\"auths\":{\"r\":{\"auth\":5}}}", "auth is not a string" },
		{ "{\"auths\":{\"r\":{\"username\":\"u\"}}}",
		  "username and password must both be strings" },
		{ "{\"auths\":[]}", "\"auths\" is not an object" },
		{ "{\"auths\":{\"r\":\"x\"}}", "is not an object" },
		{ "[]", "not a JSON object" },
		{ "{\"auths\":{\"r\":{},\"r\":{}}}", "duplicate" },
		{ "{\"auths\":", "config.json:" },
	};
	tg_docker_cred *creds;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tg_docker_config_parse(
		                         &creds, &n, "config.json", bad[i].json,
		                         strlen(bad[i].json)),
		                 TG_EPARSE);
		assert_null(creds);
		assert_contains(tg_error_last(), bad[i].msg);
		assert_null(strstr(tg_error_last(), "secretpw"));
	}
}

static tg_oci_manifest *parse_file(const char *rel, const char *ct, int expect)
{
	tg_oci_manifest *m = NULL;
	size_t len;
	char *data = tt_read_src(rel, &len);

	assert_int_equal(tg_oci_manifest_parse(&m, rel, ct, data, len), expect);
	if (expect == 0) {
		char digest[TG_DIGEST_STR_LEN + 1];

		tg_sha256_digest_str(digest, data, len);
		assert_string_equal(m->digest, digest);
		assert_int_equal(m->len, len);
		assert_memory_equal(m->data, data, len);
	} else {
		assert_null(m);
	}
	free(data);
	return m;
}

static void test_registry_manifest_good(void **state)
{
	tg_oci_manifest *m;

	(void)state;
	m = parse_file("tests/data/registry/good/oci-manifest.json", NULL, 0);
	assert_int_equal(m->kind, TG_OCI_MANIFEST_IMAGE);
	assert_string_equal(m->media_type, TG_MEDIA_OCI_MANIFEST);
	assert_string_equal(m->config->digest, H1);
	assert_int_equal(m->config->size, 290);
	assert_int_equal(m->layers_count, 1);
	assert_string_equal(tg_oci_manifest_annotation(
	                            m, "org.opencontainers.image.created"),
	                    "2026-01-01T00:00:00Z");
	tg_oci_manifest_free(m);

	m = parse_file("tests/data/registry/good/docker-manifest.json",
	               TG_MEDIA_DOCKER_MANIFEST, 0);
	assert_int_equal(m->kind, TG_OCI_MANIFEST_IMAGE);
	/* The fixture's digest is the one its cosign signatures name. */
	assert_string_equal(m->digest, "sha256:634a8f35b5f16dcf4aaa0822adc0b196"
	                               "4bb786fca12f6831de8ddc45e5986a00");
	tg_oci_manifest_free(m);

	m = parse_file("tests/data/registry/good/oci-index.json",
	               TG_MEDIA_OCI_INDEX "; charset=utf-8", 0);
	assert_int_equal(m->kind, TG_OCI_MANIFEST_INDEX);
	assert_null(m->config);
	assert_int_equal(m->manifests_count, 2);
	assert_string_equal(m->manifests[0].platform->os, "linux");
	assert_string_equal(m->manifests[0].platform->architecture, "amd64");
	assert_null(m->manifests[0].platform->variant);
	assert_string_equal(m->manifests[1].platform->variant, "v8");
	tg_oci_manifest_free(m);

	m = parse_file("tests/data/registry/good/cosign-sig.json", NULL, 0);
	assert_string_equal(tg_descriptor_annotation(&m->layers[0],
	                                             "dev.cosignproject.cosign/"
	                                             "signature"),
	                    "MEUCIQDx");
	assert_null(tg_descriptor_annotation(&m->layers[0], "nope"));
	tg_oci_manifest_free(m);

	/* Referrers answers may omit mediaType: the shape decides. */
	m = parse_file("tests/data/registry/good/referrers-no-mediatype.json",
	               NULL, 0);
	assert_int_equal(m->kind, TG_OCI_MANIFEST_INDEX);
	assert_string_equal(m->manifests[0].artifact_type,
	                    "application/vnd.dev.sigstore.bundle.v0.3+json");
	tg_oci_manifest_free(m);
}

/* Every file of tests/data/registry/bad states its message on its
 * "# error:" line (tt_each_bad_case cuts the line off). */
static void manifest_bad_case(const tt_bad_case *c, void *ctx)
{
	tg_oci_manifest *m = NULL;

	(void)ctx;
	assert_int_equal(tg_oci_manifest_parse(&m, c->path, NULL, c->input,
	                                       c->input_len),
	                 TG_EPARSE);
	assert_null(m);
	assert_contains(tg_error_last(), c->expected);
	assert_contains(tg_error_last(), c->name);
}

static void test_registry_manifest_rejects_hostile(void **state)
{
	(void)state;
	tt_each_bad_case("tests/data/registry/bad", ".json", manifest_bad_case,
	                 NULL);
	/* Content-Type says index, document says image manifest. */
	parse_file("tests/data/registry/bad/../good/oci-manifest.json",
	           TG_MEDIA_OCI_INDEX, TG_EPARSE);
	assert_contains(tg_error_last(), "does not match Content-Type");
	assert_contains(tg_error_last(), "../good/oci-manifest.json");
}

static void test_registry_manifest_limits(void **state)
{
	tg_buf b;
	tg_oci_manifest *m = NULL;
	size_t i;

	(void)state;
	tg_buf_init(&b, 16u * 1024 * 1024);
	assert_int_equal(
	        tg_buf_puts(
	                &b,
	                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\","
	                "\"digest\":\"" H1 "\",\"size\":1},\"layers\":["),
	        0);
	for (i = 0; i <= TG_MAX_MANIFEST_DESCRIPTORS; i++)
		assert_int_equal(
		        tg_buf_printf(&b,
		                      "%s{\"mediaType\":\"b\",\"digest\":\"" H1
		                      "\",\"size\":1}",
		                      i ? "," : ""),
		        0);
	assert_int_equal(tg_buf_puts(&b, "]}"), 0);
	assert_int_equal(tg_oci_manifest_parse(&m, "many", NULL, b.data, b.len),
	                 TG_ETOOBIG);
	assert_contains(tg_error_last(),
	                "more than 1024 entries in \"layers\"");

	/* Over TG_MAX_MANIFEST_BYTES: refused before parsing. */
	while (b.len <= TG_MAX_MANIFEST_BYTES)
		assert_int_equal(
		        tg_buf_puts(&b,
		                    "                                        "),
		        0);
	assert_int_equal(tg_oci_manifest_parse(&m, "huge", NULL, b.data, b.len),
	                 TG_ETOOBIG);
	assert_contains(tg_error_last(), "huge: manifest of");
	assert_null(m);
	tg_buf_free(&b);
}

static void test_registry_digest_tag_and_host(void **state)
{
	char *tag;

	(void)state;
	tag = tg_registry_digest_tag(H1, ".sig");
	assert_string_equal(tag,
	                    "sha256-ea0b117a306f2dce3133d9df3790c3e028a11fb9"
	                    "6efe7ebb30928ba66be657d4.sig");
	free(tag);
	tag = tg_registry_digest_tag(H1, "");
	assert_true(tg_str_has_prefix(tag, "sha256-ea0b"));
	assert_false(tg_str_has_suffix(tag, ".sig"));
	free(tag);
	assert_null(tg_registry_digest_tag("sha256:abc", ".sig"));
	assert_null(tg_registry_digest_tag("latest", ".att"));
	assert_string_equal(tg_registry_api_host("docker.io"),
	                    "registry-1.docker.io");
	assert_string_equal(tg_registry_api_host("ghcr.io"), "ghcr.io");
	assert_string_equal(tg_registry_api_host("127.0.0.1:5000"),
	                    "127.0.0.1:5000");
}

/* Arguments that would change the URL are refused before any request. */
static void test_registry_rejects_bad_arguments(void **state)
{
	tg_registry *reg = NULL;
	tg_oci_manifest *m = NULL;
	tg_blob *b = NULL;

	(void)state;
	assert_int_equal(tg_registry_new(&reg, NULL), 0);
	assert_int_equal(tg_registry_get_manifest(&m, reg, "r.example", "../x",
	                                          "latest"),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "invalid repository name");
	assert_int_equal(tg_registry_get_manifest(&m, reg, "r.example", "app",
	                                          "v1/../../x"),
	                 TG_EINVALID);
	assert_contains(tg_error_last(), "invalid tag or digest");
	assert_int_equal(
	        tg_registry_get_manifest(&m, reg, "r.example/x", "app", "v1"),
	        TG_EINVALID);
	assert_int_equal(
	        tg_registry_get_blob(&b, reg, "r.example", "app", "latest", 0),
	        TG_EINVALID);
	assert_contains(tg_error_last(), "invalid");
	assert_int_equal(
	        tg_registry_get_manifest(&m, reg, "r.example", "App", "v1"),
	        TG_EINVALID);
	assert_null(m);
	assert_null(b);
	tg_registry_free(reg);
}

static void test_registry_auth_file_errors(void **state)
{
	tg_registry_options opts = { 0 };
	tg_registry *reg = NULL;

	(void)state;
	opts.auth_file = "/nonexistent/tollgate/config.json";
	assert_int_equal(tg_registry_new(&reg, &opts), TG_ENOTFOUND);
	assert_contains(tg_error_last(), "/nonexistent/tollgate/config.json");
	assert_null(reg);
}

/* A fake registry with the referrers API -------------------------------------
 * docker-registry 2.8 has no referrers API, so paging is tested against
 * this libmicrohttpd server (the network replaced, as this test says):
 *   /v2/app/referrers/<d>     two pages joined by a relative Link
 *   /v2/evil/referrers/<d>    Link to another host (must be refused)
 *   /v2/loop/referrers/<d>    Link to itself forever (page limit)
 *   /v2/busy/referrers/<d>    503 once, then an empty index
 */
static struct MHD_Daemon *fake_;
static unsigned short fake_port_;
static int busy_count_;

static enum MHD_Result fake_reply(struct MHD_Connection *c,
                                  unsigned status,
                                  const char *body,
                                  const char *link)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", TG_MEDIA_OCI_INDEX);
	if (link)
		MHD_add_response_header(r, "Link", link);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define REF_ITEM(type)                                                         \
	"{\"mediaType\":\"" TG_MEDIA_OCI_MANIFEST "\",\"digest\":\"" H1        \
	"\",\"size\":10,\"artifactType\":\"" type "\"}"
#define REF_INDEX(items)                                                       \
	"{\"schemaVersion\":2,\"mediaType\":\"" TG_MEDIA_OCI_INDEX             \
	"\",\"manifests\":[" items "]}"

/* Blobs "blob-0" .. "blob-9", by sha256 digest; "blob-0" by sha512 too. */
#define FAKE_BLOBS 10
static char fake_digests[FAKE_BLOBS][TG_DIGEST_STR_LEN + 1];
static char fake_sha512[7 + 128 + 1];

static void fake_blobs_init(void)
{
	unsigned char md[64];
	unsigned int mdlen = 0;
	char content[16];
	int i;

	for (i = 0; i < FAKE_BLOBS; i++) {
		snprintf(content, sizeof(content), "blob-%d", i);
		tg_sha256_digest_str(fake_digests[i], content, strlen(content));
	}
	EVP_Digest("blob-0", 6, md, &mdlen, EVP_sha512(), NULL);
	memcpy(fake_sha512, "sha512:", 7);
	tg_hex_encode(fake_sha512 + 7, md, mdlen);
}

static enum MHD_Result fake_blob(struct MHD_Connection *c, const char *digest)
{
	char content[16];
	int i;

	if (!strcmp(digest, fake_sha512))
		return fake_reply(c, 200, "blob-0", NULL);
	for (i = 0; i < FAKE_BLOBS; i++) {
		if (!strcmp(digest, fake_digests[i])) {
			snprintf(content, sizeof(content), "blob-%d", i);
			return fake_reply(c, 200, content, NULL);
		}
	}
	return fake_reply(c, 404, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}",
	                  NULL);
}

static enum MHD_Result fake_handler(void *cls,
                                    struct MHD_Connection *c,
                                    const char *url,
                                    const char *method,
                                    const char *version,
                                    const char *upload,
                                    size_t *upload_size,
                                    void **con_cls)
{
	const char *last;
	char link[256];

	(void)cls, (void)method, (void)version, (void)upload;
	(void)upload_size;
	if (!*con_cls) {
		*con_cls = &fake_port_;
		return MHD_YES;
	}
	if (tg_str_has_prefix(url, "/v2/app/blobs/"))
		return fake_blob(c, url + strlen("/v2/app/blobs/"));
	last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last");
	if (!strcmp(url, "/v2/app/referrers/" H1) && !last)
		return fake_reply(c, 200, REF_INDEX(REF_ITEM("application/a")),
		                  "</v2/app/referrers/" H1
		                  "?last=1>; rel=\"next\"");
	if (!strcmp(url, "/v2/app/referrers/" H1))
		return fake_reply(
		        c, 200,
		        REF_INDEX(REF_ITEM("application/b") "," REF_ITEM(
		                "application/a")),
		        NULL);
	if (!strcmp(url, "/v2/evil/referrers/" H1))
		return fake_reply(
		        c, 200, REF_INDEX(REF_ITEM("application/a")),
		        "<http://attacker.example/v2/x>; rel=\"next\"");
	if (!strcmp(url, "/v2/loop/referrers/" H1)) {
		snprintf(link, sizeof(link),
		         "<http://127.0.0.1:%u/v2/loop/referrers/" H1
		         "?last=x>; rel=\"next\"",
		         fake_port_);
		return fake_reply(c, 200, REF_INDEX(REF_ITEM("application/a")),
		                  link);
	}
	if (!strcmp(url, "/v2/busy/referrers/" H1))
		return ++busy_count_ == 1
		               ? fake_reply(c, 503, "{}", NULL)
		               : fake_reply(c, 200, REF_INDEX(""), NULL);
	return fake_reply(c, 404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}",
	                  NULL);
}

static tg_registry *fake_client(char *name, size_t size)
{
	static const char *insecure[] = { "127.0.0.1" };
	tg_registry_options o = { 0 };
	tg_registry *reg = NULL;

	o.insecure = insecure;
	o.insecure_count = 1;
	o.retry_base_ms = 10;
	snprintf(name, size, "127.0.0.1:%u", fake_port_);
	assert_int_equal(tg_registry_new(&reg, &o), 0);
	return reg;
}

static void test_registry_referrers_follow_link_pages(void **state)
{
	char host[64];
	tg_registry *reg = fake_client(host, sizeof(host));
	tg_referrers *r = NULL;

	(void)state;
	assert_int_equal(
	        tg_registry_get_referrers(&r, reg, host, "app", H1, NULL), 0);
	assert_int_equal(r->count, 3);
	assert_false(r->from_tag_schema);
	assert_string_equal(r->subject, H1);
	assert_string_equal(r->items[0].artifact_type, "application/a");
	assert_string_equal(r->items[1].artifact_type, "application/b");
	tg_referrers_free(r);

	/* The server ignores artifactType: the client filters anyway. */
	assert_int_equal(tg_registry_get_referrers(&r, reg, host, "app", H1,
	                                           "application/b"),
	                 0);
	assert_int_equal(r->count, 1);
	assert_string_equal(r->items[0].artifact_type, "application/b");
	tg_referrers_free(r);

	/* 503 is retried; the registry's index is then empty. */
	assert_int_equal(
	        tg_registry_get_referrers(&r, reg, host, "busy", H1, NULL), 0);
	assert_int_equal(r->count, 0);
	tg_referrers_free(r);
	tg_registry_free(reg);
}

static void test_registry_referrers_refuse_bad_links(void **state)
{
	char host[64];
	tg_registry *reg = fake_client(host, sizeof(host));
	tg_referrers *r = NULL;

	(void)state;
	assert_int_equal(
	        tg_registry_get_referrers(&r, reg, host, "evil", H1, NULL),
	        TG_EUNTRUSTED);
	assert_null(r);
	assert_contains(tg_error_last(), "referrers Link points outside the "
	                                 "registry: \"http://attacker.example");
	assert_int_equal(
	        tg_registry_get_referrers(&r, reg, host, "loop", H1, NULL),
	        TG_ETOOBIG);
	assert_contains(tg_error_last(), "more than 16 pages of referrers");
	assert_contains(tg_error_last(), "/loop@" H1);
	tg_registry_free(reg);
}

/* Requests made so far by reg's HTTP client. */
static uint64_t fake_requests(tg_registry *reg)
{
	tg_http_stats st;

	tg_http_get_stats(&st, tg_registry_http(reg));
	return st.requests;
}

static void
fetch_fake_blob(tg_registry *reg, const char *host, const char *digest)
{
	tg_blob *b = NULL;

	assert_int_equal(tg_registry_get_blob(&b, reg, host, "app", digest, 0),
	                 0);
	assert_int_equal(b->len, 6);
	assert_true(tg_str_has_prefix((char *)b->data, "blob-"));
	tg_blob_free(b);
}

/* The digest cache is bounded: the oldest entry goes first. */
static void test_registry_cache_is_bounded(void **state)
{
	static const char *insecure[] = { "127.0.0.1" };
	tg_registry_options o = { 0 };
	tg_registry *reg = NULL;
	char host[64];
	int i;

	(void)state;
	o.insecure = insecure;
	o.insecure_count = 1;
	/* 48 bytes: eight 6-byte blobs (one entry may use an eighth). */
	o.cache_max_bytes = 48;
	snprintf(host, sizeof(host), "127.0.0.1:%u", fake_port_);
	assert_int_equal(tg_registry_new(&reg, &o), 0);
	for (i = 0; i < 8; i++)
		fetch_fake_blob(reg, host, fake_digests[i]);
	assert_int_equal(fake_requests(reg), 8);
	fetch_fake_blob(reg, host, fake_digests[0]);
	fetch_fake_blob(reg, host, fake_digests[7]);
	assert_int_equal(fake_requests(reg), 8);     /* both cached */
	fetch_fake_blob(reg, host, fake_digests[8]); /* evicts blob-0 */
	assert_int_equal(fake_requests(reg), 9);
	fetch_fake_blob(reg, host, fake_digests[8]);
	fetch_fake_blob(reg, host, fake_digests[1]);
	assert_int_equal(fake_requests(reg), 9);
	fetch_fake_blob(reg, host, fake_digests[0]);
	assert_int_equal(fake_requests(reg), 10);
	tg_registry_free(reg);
}

/* sha512 digests are verified with sha512. */
static void test_registry_blob_sha512(void **state)
{
	char host[64];
	tg_registry *reg = fake_client(host, sizeof(host));
	tg_blob *b = NULL;
	char bad[sizeof(fake_sha512)];

	(void)state;
	assert_int_equal(
	        tg_registry_get_blob(&b, reg, host, "app", fake_sha512, 0), 0);
	assert_string_equal(b->digest, fake_sha512);
	tg_blob_free(b);
	/* Another sha512 digest for which the fake has no blob. */
	memcpy(bad, fake_sha512, sizeof(bad));
	bad[7] = bad[7] == 'a' ? 'b' : 'a';
	assert_int_equal(tg_registry_get_blob(&b, reg, host, "app", bad, 0),
	                 TG_ENOTFOUND);
	assert_contains(tg_error_last(), "BLOB_UNKNOWN");
	tg_registry_free(reg);
}

static void never_called_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	(void)result, (void)m, (void)ctx;
	fail_msg("callback of dropped work was called");
}

static void never_called_blob(int result, tg_blob *b, void *ctx)
{
	(void)result, (void)b, (void)ctx;
	fail_msg("callback of dropped work was called");
}

static void never_called_referrers(int result, tg_referrers *r, void *ctx)
{
	(void)result, (void)r, (void)ctx;
	fail_msg("callback of dropped work was called");
}

/* Freeing a client with queued work (sent, cached, deduplicated) frees it
 * all without callbacks; the sanitizer pass checks for leaks. */
static void test_registry_free_drops_queued_work(void **state)
{
	char host[64];
	tg_registry *reg = fake_client(host, sizeof(host));

	(void)state;
	fetch_fake_blob(reg, host, fake_digests[2]);
	assert_int_equal(tg_registry_get_blob_async(reg, host, "app",
	                                            fake_digests[2], 0,
	                                            never_called_blob, NULL),
	                 0);
	assert_int_equal(tg_registry_get_blob_async(reg, host, "app",
	                                            fake_digests[3], 0,
	                                            never_called_blob, NULL),
	                 0);
	assert_int_equal(tg_registry_get_blob_async(reg, host, "app",
	                                            fake_digests[3], 0,
	                                            never_called_blob, NULL),
	                 0);
	assert_int_equal(tg_registry_get_manifest_async(reg, host, "app", "v1",
	                                                never_called_manifest,
	                                                NULL),
	                 0);
	assert_int_equal(
	        tg_registry_get_referrers_async(reg, host, "app", H1, NULL,
	                                        never_called_referrers, NULL),
	        0);
	tg_registry_free(reg);
}

static int fake_start(void **state)
{
	(void)state;
	fake_blobs_init();
	fake_ = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
	        0, NULL, NULL, fake_handler, NULL, MHD_OPTION_END);
	if (!fake_)
		return -1;
	fake_port_ =
	        MHD_get_daemon_info(fake_, MHD_DAEMON_INFO_BIND_PORT)->port;
	return 0;
}

static int fake_stop(void **state)
{
	(void)state;
	MHD_stop_daemon(fake_);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_registry_challenge_bearer_with_quoted_commas),
		cmocka_unit_test(test_registry_challenge_escapes_and_tokens),
		cmocka_unit_test(test_registry_challenge_prefers_bearer),
		cmocka_unit_test(test_registry_challenge_rejects_malformed),
		cmocka_unit_test(test_registry_link_next),
		cmocka_unit_test(test_registry_link_rejects_malformed),
		cmocka_unit_test(test_registry_docker_config_auths),
		cmocka_unit_test(test_registry_docker_config_rejects_bad),
		cmocka_unit_test(test_registry_manifest_good),
		cmocka_unit_test(test_registry_manifest_rejects_hostile),
		cmocka_unit_test(test_registry_manifest_limits),
		cmocka_unit_test(test_registry_digest_tag_and_host),
		cmocka_unit_test(test_registry_rejects_bad_arguments),
		cmocka_unit_test(test_registry_auth_file_errors),
		cmocka_unit_test(test_registry_referrers_follow_link_pages),
		cmocka_unit_test(test_registry_referrers_refuse_bad_links),
		cmocka_unit_test(test_registry_cache_is_bounded),
		cmocka_unit_test(test_registry_blob_sha512),
		cmocka_unit_test(test_registry_free_drops_queued_work),
	};

	return cmocka_run_group_tests(tests, fake_start, fake_stop);
}
