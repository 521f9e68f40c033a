/*
 * Tests of image reference parsing and normalisation: a table of
 * references as written in manifests, each with every field expected or
 * the error code and part of the message.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D256 "sha256:" HEX64
#define D512 "sha512:" HEX64 HEX64

typedef struct ref_case {
	const char *in;
	int rc;
	const char *registry;
	const char *repository;
	const char *tag;
	const char *digest;
	const char *canonical;
	bool defaulted;
	const char *err; /* part of the message when rc < 0 */
} ref_case;

/* One case per entry reads better than one field per line. */
/* clang-format off */
#define OK(in, reg, repo, tag, dig, canon, def)                                \
	{in, 0, reg, repo, tag, dig, canon, def, NULL}
#define BAD(in, rc, err) {in, rc, NULL, NULL, NULL, NULL, NULL, false, err}

static const ref_case cases[] = {
	/* Docker Hub normalisation */
	OK("nginx", "docker.io", "library/nginx", "latest", NULL,
	   "docker.io/library/nginx:latest", true),
	OK("nginx:1.25", "docker.io", "library/nginx", "1.25", NULL,
	   "docker.io/library/nginx:1.25", false),
	OK("nginx:latest", "docker.io", "library/nginx", "latest", NULL,
	   "docker.io/library/nginx:latest", false),
	OK("acme/api", "docker.io", "acme/api", "latest", NULL,
	   "docker.io/acme/api:latest", true),
	OK("docker.io/nginx", "docker.io", "library/nginx", "latest", NULL,
	   "docker.io/library/nginx:latest", true),
	OK("docker.io/library/nginx:1.25", "docker.io", "library/nginx",
	   "1.25", NULL, "docker.io/library/nginx:1.25", false),
	OK("index.docker.io/nginx", "docker.io", "library/nginx", "latest",
	   NULL, "docker.io/library/nginx:latest", true),
	OK("index.docker.io/acme/api:v2", "docker.io", "acme/api", "v2", NULL,
	   "docker.io/acme/api:v2", false),
	OK("a/b/c/d", "docker.io", "a/b/c/d", "latest", NULL,
	   "docker.io/a/b/c/d:latest", true),
	/* registries */
	OK("ghcr.io/acme/api:v1.2.3", "ghcr.io", "acme/api", "v1.2.3", NULL,
	   "ghcr.io/acme/api:v1.2.3", false),
	OK("registry.example.com/team/sub/app", "registry.example.com",
	   "team/sub/app", "latest", NULL,
	   "registry.example.com/team/sub/app:latest", true),
	OK("quay.io/nginx", "quay.io", "nginx", "latest", NULL,
	   "quay.io/nginx:latest", true),
	OK("127.0.0.1:5000/acme/api:1", "127.0.0.1:5000", "acme/api", "1",
	   NULL, "127.0.0.1:5000/acme/api:1", false),
	OK("localhost/app", "localhost", "app", "latest", NULL,
	   "localhost/app:latest", true),
	OK("localhost:5000/app:dev", "localhost:5000", "app", "dev", NULL,
	   "localhost:5000/app:dev", false),
	OK("myregistry:5000/app", "myregistry:5000", "app", "latest", NULL,
	   "myregistry:5000/app:latest", true),
	OK("[::1]:5000/app:1", "[::1]:5000", "app", "1", NULL,
	   "[::1]:5000/app:1", false),
	OK("[2001:db8::1]/team/app", "[2001:db8::1]", "team/app", "latest",
	   NULL, "[2001:db8::1]/team/app:latest", true),
	/* a first element without '.', ':' or uppercase is a namespace */
	OK("myregistry/app", "docker.io", "myregistry/app", "latest", NULL,
	   "docker.io/myregistry/app:latest", true),
	/* ... with uppercase it can only be a registry, whose case is kept */
	OK("MyRegistry/app", "MyRegistry", "app", "latest", NULL,
	   "MyRegistry/app:latest", true),
	OK("Registry.Example.COM:443/app", "Registry.Example.COM:443", "app",
	   "latest", NULL, "Registry.Example.COM:443/app:latest", true),
	/* "localhost:5000" alone is the repository localhost, tag 5000 */
	OK("localhost:5000", "docker.io", "library/localhost", "5000", NULL,
	   "docker.io/library/localhost:5000", false),
	/* separators */
	OK("x/a.b_c__d-e---f", "docker.io", "x/a.b_c__d-e---f", "latest",
	   NULL, "docker.io/x/a.b_c__d-e---f:latest", true),
	/* with a '.' the first element is a registry, and '_' is not a
	 * host character */
	BAD("a.b_c/x", TG_EPARSE, "invalid registry host \"a.b_c\""),
	OK("my-registry.example.com/a-b/c.d", "my-registry.example.com",
	   "a-b/c.d", "latest", NULL,
	   "my-registry.example.com/a-b/c.d:latest", true),
	/* tags */
	OK("app:_x", "docker.io", "library/app", "_x", NULL,
	   "docker.io/library/app:_x", false),
	OK("app:V1.0-RC_2", "docker.io", "library/app", "V1.0-RC_2", NULL,
	   "docker.io/library/app:V1.0-RC_2", false),
	/* digests, with and without tags */
	OK("nginx@" D256, "docker.io", "library/nginx", NULL, D256,
	   "docker.io/library/nginx@" D256, false),
	OK("ghcr.io/acme/api:v1@" D256, "ghcr.io", "acme/api", "v1", D256,
	   "ghcr.io/acme/api:v1@" D256, false),
	OK("127.0.0.1:5000/x@" D512, "127.0.0.1:5000", "x", NULL, D512,
	   "127.0.0.1:5000/x@" D512, false),
	OK("localhost:5000/app:1.0@" D256, "localhost:5000", "app", "1.0", D256,
	   "localhost:5000/app:1.0@" D256, false),

	/* invalid */
	BAD("", TG_EPARSE, "empty reference"),
	BAD("Nginx", TG_EPARSE, "uppercase letters in repository name"),
	BAD("acme/API", TG_EPARSE, "uppercase letters in repository name"),
	BAD("ghcr.io/Acme/api:v1", TG_EPARSE, "must be lowercase"),
	BAD("nginx:", TG_EPARSE, "empty tag after ':'"),
	BAD("nginx:-x", TG_EPARSE, "must start with a letter, digit or '_'"),
	BAD("nginx:.x", TG_EPARSE, "must start with a letter"),
	BAD("nginx:a+b", TG_EPARSE, "'+' is not allowed"),
	BAD("nginx@", TG_EPARSE, "empty digest after '@'"),
	BAD("nginx@sha256:abc", TG_EPARSE, "fewer than 32 hex digits"),
	BAD("nginx@sha256:" HEX64 "00", TG_EPARSE, "needs 64 hex digits"),
	BAD("nginx@sha512:" HEX64, TG_EPARSE, "sha512 needs 128 hex digits"),
	BAD("nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef",
	    TG_EPARSE, "must be lowercase"),
	BAD("nginx@sha384:" HEX64 "0123456789abcdef0123456789abcdef",
	    TG_EINVALID, "unsupported digest algorithm \"sha384\""),
	BAD("nginx@md5:0123456789abcdef0123456789abcdef", TG_EINVALID,
	    "unsupported digest algorithm \"md5\""),
	BAD("nginx@" HEX64, TG_EPARSE, "expected algorithm:hex"),
	BAD("nginx@sha256:" HEX64 "@sha256:" HEX64, TG_EPARSE,
	    "'@' is not a hex digit"),
	BAD("nginx@sha256:zz" HEX64, TG_EPARSE, "'z' is not a hex digit"),
	BAD(HEX64, TG_EPARSE, "image ID, not a repository name"),
	BAD("nginx ", TG_EPARSE, "contains whitespace"),
	BAD(" nginx", TG_EPARSE, "contains whitespace"),
	BAD("ngi\tnx", TG_EPARSE, "contains whitespace"),
	BAD("ngin\x01x", TG_EPARSE, "control or non-ASCII"),
	BAD("ng\xc3\xa9nx", TG_EPARSE, "control or non-ASCII"),
	BAD("/nginx", TG_EPARSE, "empty path component"),
	BAD("ghcr.io/", TG_EPARSE, "empty repository name"),
	BAD("acme//api", TG_EPARSE, "empty path component"),
	BAD("acme/api/", TG_EPARSE, "empty path component"),
	BAD("acme/-api", TG_EPARSE, "invalid repository path component \"-api\""),
	BAD("acme/api-", TG_EPARSE, "invalid repository path component"),
	BAD("acme/a..b", TG_EPARSE, "component \"a..b\""),
	BAD("acme/a___b", TG_EPARSE, "component \"a___b\""),
	BAD("acme/a_.b", TG_EPARSE, "component \"a_.b\""),
	BAD("-bad.example.com/app", TG_EPARSE, "invalid registry host"),
	BAD("bad-.example.com/app", TG_EPARSE, "invalid registry host"),
	BAD("bad..example.com/app", TG_EPARSE, "invalid registry host"),
	BAD("reg_istry.io/app", TG_EPARSE, "invalid registry host"),
	BAD("example.com:/app", TG_EPARSE, "invalid registry port"),
	BAD("example.com:http/app", TG_EPARSE, "invalid registry port"),
	BAD("example.com:65536/app", TG_EPARSE, "invalid registry port"),
	BAD("[::1/app", TG_EPARSE, "invalid registry host"),
	BAD("[]:5000/app", TG_EPARSE, "invalid registry host"),
	BAD("[fe80::1%eth0]/app", TG_EPARSE, "invalid registry host"),
	BAD("[::1]x/app", TG_EPARSE, "invalid registry host"),
	BAD("ghcr.io/acme/api:v1:v2", TG_EPARSE, "component \"api:v1\""),
};
/* clang-format on */

static void check_case(const ref_case *c)
{
	tg_imageref *r = NULL;
	int rc;

	tg_error_clear();
	rc = tg_imageref_parse(&r, c->in);
	if (rc != c->rc)
		fail_msg("\"%s\": expected %d, got %d (%s)", c->in, c->rc, rc,
		         tg_error_last());
	if (rc < 0) {
		assert_null(r);
		assert_contains(tg_error_last(), "invalid image reference");
		assert_contains(tg_error_last(), c->err);
		return;
	}
	assert_string_equal(r->registry, c->registry);
	assert_string_equal(r->repository, c->repository);
	if (c->tag)
		assert_string_equal(r->tag, c->tag);
	else
		assert_null(r->tag);
	if (c->digest)
		assert_string_equal(r->digest, c->digest);
	else
		assert_null(r->digest);
	assert_string_equal(r->canonical, c->canonical);
	assert_int_equal(r->tag_defaulted, c->defaulted);
	assert_true(tg_str_has_prefix(r->canonical, r->name));
	assert_int_equal(strlen(r->name),
	                 strlen(r->registry) + 1 + strlen(r->repository));
	tg_imageref_free(r);
}

static void test_imageref_table(void **state)
{
	size_t i;

	(void)state;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* The canonical form parses back to itself (normalisation is idempotent). */
static void test_imageref_canonical_round_trips(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tg_imageref *a = NULL, *b = NULL;

		if (cases[i].rc != 0)
			continue;
		assert_int_equal(tg_imageref_parse(&a, cases[i].in), 0);
		assert_int_equal(tg_imageref_parse(&b, a->canonical), 0);
		assert_string_equal(a->canonical, b->canonical);
		assert_string_equal(a->name, b->name);
		tg_imageref_free(a);
		tg_imageref_free(b);
	}
}

static char *repeat(char c, size_t n)
{
	char *s = tg_malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_imageref_length_limits(void **state)
{
	tg_imageref *r = NULL;
	char *tag128 = repeat('t', 128), *tag129 = repeat('t', 129), *ref;
	char *path;

	(void)state;
	ref = tg_aprintf("app:%s", tag128);
	assert_int_equal(tg_imageref_parse(&r, ref), 0);
	assert_string_equal(r->tag, tag128);
	tg_imageref_free(r);
	free(ref);
	ref = tg_aprintf("app:%s", tag129);
	assert_int_equal(tg_imageref_parse(&r, ref), TG_ETOOBIG);
	assert_contains(tg_error_last(), "tag longer than 128 characters");
	free(ref);

	/* "ghcr.io/" is 8: a 247-character path makes exactly 255. */
	path = repeat('a', 247);
	ref = tg_aprintf("ghcr.io/%s", path);
	assert_int_equal(tg_imageref_parse(&r, ref), 0);
	assert_int_equal(strlen(r->name), 255);
	tg_imageref_free(r);
	free(ref);
	ref = tg_aprintf("ghcr.io/%sa", path);
	assert_int_equal(tg_imageref_parse(&r, ref), TG_ETOOBIG);
	assert_contains(tg_error_last(), "longer than 255 characters");
	free(ref);
	free(path);

	/* counted after normalisation: "docker.io/library/" is 18 */
	path = repeat('b', 237);
	assert_int_equal(tg_imageref_parse(&r, path), 0);
	assert_int_equal(strlen(r->name), 255);
	tg_imageref_free(r);
	free(path);
	path = repeat('b', 238);
	assert_int_equal(tg_imageref_parse(&r, path), TG_ETOOBIG);
	free(path);

	path = repeat('c', 100000);
	assert_int_equal(tg_imageref_parse(&r, path), TG_ETOOBIG);
	assert_contains(tg_error_last(), "longer than 512 characters");
	assert_true(strlen(tg_error_last()) < 400);
	assert_null(r);
	free(path);
	free(tag128);
	free(tag129);
}

static void test_imageref_pinned_and_dup(void **state)
{
	tg_imageref *r = NULL, *d;
	char *p;

	(void)state;
	assert_int_equal(tg_imageref_parse(&r, "acme/api:v1"), 0);
	p = tg_imageref_pinned(r, D256);
	assert_string_equal(p, "docker.io/acme/api:v1@" D256);
	free(p);
	p = tg_imageref_pinned(r, NULL);
	assert_string_equal(p, "docker.io/acme/api:v1");
	free(p);
	assert_int_equal(tg_imageref_dup(&d, r), 0);
	tg_imageref_free(r);
	assert_string_equal(d->canonical, "docker.io/acme/api:v1");
	assert_string_equal(d->registry, "docker.io");
	assert_false(d->tag_defaulted);
	tg_imageref_free(d);

	assert_int_equal(tg_imageref_parse(&r, "ghcr.io/x@" D256), 0);
	p = tg_imageref_pinned(r, NULL);
	assert_string_equal(p, "ghcr.io/x@" D256);
	free(p);
	tg_imageref_free(r);
	d = r;
	assert_int_equal(tg_imageref_dup(&d, NULL), 0);
	assert_null(d);
	tg_imageref_free(NULL);
}

/* A reference from a hostile manifest cannot put raw control characters
 * (a forged log line) into the message. */
static void test_imageref_message_hides_control_characters(void **state)
{
	tg_imageref *r = NULL;

	(void)state;
	assert_int_equal(tg_imageref_parse(&r, "nginx\nlevel=error fake"),
	                 TG_EPARSE);
	assert_contains(tg_error_last(),
	                "invalid image reference \"nginx?level=error fake\"");
	assert_null(strchr(tg_error_last(), '\n'));
	assert_int_equal(tg_imageref_parse(&r, "caf\xc3\xa9"), TG_EPARSE);
	assert_contains(tg_error_last(), "\"caf??\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imageref_table),
		cmocka_unit_test(test_imageref_canonical_round_trips),
		cmocka_unit_test(test_imageref_length_limits),
		cmocka_unit_test(test_imageref_pinned_and_dup),
		cmocka_unit_test(
		        test_imageref_message_hides_control_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
