/*
 * Image references: see include/tollgate/imageref.h.
 *
 * The grammar is distribution/reference's (reference.go, regexp.go):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path
 *   domain    := host [":" port]
 *   host      := domain-name | "[" IPv6 "]"
 *   path      := component ("/" component)*
 *   component := [a-z0-9]+ (separator [a-z0-9]+)*
 *   separator := "." | "_" | "__" | "-"+
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := algorithm ":" hex
 *
 * and the normalisation is ParseNormalizedNamed's (normalize.go): the first
 * path element is a registry only if it is "localhost", contains '.' or
 * ':', or has uppercase letters (a namespace never may); "index.docker.io"
 * becomes "docker.io"; a single element on docker.io gets "library/".
 * Each grammar element has its own function below; each failure names the
 * reference and the rule broken.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#define DEFAULT_REGISTRY "docker.io"
#define LEGACY_REGISTRY "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define DEFAULT_TAG "latest"

/* A view into the reference being parsed. */
typedef struct span {
	const char *p;
	size_t n;
} span;

/* Record "invalid image reference "REF": WHY" and return code. */
static int bad(int code, const char *ref, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int bad(int code, const char *ref, const char *fmt, ...)
{
	char why[TG_MAX_IMAGEREF_ERROR_BYTES],
	        shown[TG_MAX_IMAGEREF_QUOTED_BYTES + 1];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Quote at most 200 characters (the length error quotes a start
	 * only), with control and non-ASCII bytes shown as '?' so a hostile
	 * reference cannot forge lines in logs and status. */
	for (i = 0; ref[i] && i < sizeof(shown) - 1; i++)
		shown[i] = ref[i] < 0x20 || ref[i] > 0x7e ? '?' : ref[i];
	shown[i] = '\0';
	return tg_error_set(code, "invalid image reference \"%s%s\": %s", shown,
	                    ref[i] ? "..." : "", why);
}

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Only printable ASCII without spaces can appear anywhere in the grammar;
 * say so plainly, since a stray space or tab in YAML is the usual cause.
 */
static int check_chars(const char *ref)
{
	const unsigned char *p;

	for (p = (const unsigned char *)ref; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			return bad(TG_EPARSE, ref, "contains whitespace");
		if (*p < 0x21 || *p > 0x7e)
			return bad(TG_EPARSE, ref,
			           "contains a control or "
			           "non-ASCII character");
	}
	return 0;
}

/* digest-algorithm := component ([-_+.] component)*, component :=
 * [A-Za-z][A-Za-z0-9]*. Returns the length of the algorithm or 0. */
static size_t algorithm_len(span s)
{
	size_t i = 0;

	for (;;) {
		if (i >= s.n || !((s.p[i] >= 'a' && s.p[i] <= 'z') ||
		                  (s.p[i] >= 'A' && s.p[i] <= 'Z')))
			return 0;
		while (i < s.n && is_alnum(s.p[i]))
			i++;
		if (i < s.n && strchr("-_+.", s.p[i]) && s.p[i] != '\0') {
			i++;
			continue;
		}
		return i;
	}
}

/*
 * The digest after '@'. The grammar allows any algorithm with 32+ hex
 * digits; tollgate can only check what it can compute, so anything but
 * sha256 (64) and sha512 (128) lowercase hex is refused with the reason
 * (go-digest, which Docker uses, also refuses uppercase hex).
 */
static int parse_digest(const char *ref, span s)
{
	size_t alen = algorithm_len(s), i;

	if (s.n == 0)
		return bad(TG_EPARSE, ref, "empty digest after '@'");
	if (alen == 0 || alen >= s.n || s.p[alen] != ':')
		return bad(TG_EPARSE, ref,
		           "invalid digest \"%.*s\": expected "
		           "algorithm:hex, like sha256:<64 hex digits>",
		           (int)(s.n > 80 ? 80 : s.n), s.p);
	for (i = alen + 1; i < s.n; i++)
		if (!is_hex(s.p[i]))
			return bad(TG_EPARSE, ref,
			           "invalid digest: '%c' is "
			           "not a hex digit",
			           s.p[i]);
	if (s.n - alen - 1 < TG_MIN_DIGEST_HEX)
		return bad(TG_EPARSE, ref,
		           "invalid digest: fewer than %d "
		           "hex digits",
		           TG_MIN_DIGEST_HEX);
	if (!(alen == 6 &&
	      (!memcmp(s.p, "sha256", 6) || !memcmp(s.p, "sha512", 6))))
		return bad(TG_EINVALID, ref,
		           "unsupported digest algorithm "
		           "\"%.*s\": tollgate verifies sha256 and sha512 "
		           "digests only",
		           (int)(alen > 40 ? 40 : alen), s.p);
	for (i = alen + 1; i < s.n; i++)
		if (s.p[i] >= 'A' && s.p[i] <= 'F')
			return bad(TG_EPARSE, ref,
			           "invalid digest: hex "
			           "digits must be lowercase");
	if (s.n - alen - 1 != (s.p[5] == '6' ? 64u : 128u))
		return bad(TG_EPARSE, ref,
		           "invalid digest: %.6s needs %u hex "
		           "digits, got %zu",
		           s.p, s.p[5] == '6' ? 64u : 128u, s.n - alen - 1);
	return 0;
}

/* tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static int parse_tag(const char *ref, span s)
{
	size_t i;

	if (s.n == 0)
		return bad(TG_EPARSE, ref, "empty tag after ':'");
	if (s.n > TG_MAX_IMAGE_TAG_BYTES)
		return bad(TG_ETOOBIG, ref, "tag longer than %u characters",
		           (unsigned)TG_MAX_IMAGE_TAG_BYTES);
	if (!is_alnum(s.p[0]) && s.p[0] != '_')
		return bad(TG_EPARSE, ref,
		           "invalid tag \"%.*s\": it must "
		           "start with a letter, digit or '_'",
		           (int)s.n, s.p);
	for (i = 1; i < s.n; i++)
		if (!is_alnum(s.p[i]) && !strchr("_.-", s.p[i]))
			return bad(TG_EPARSE, ref,
			           "invalid tag \"%.*s\": '%c' "
			           "is not allowed (letters, digits, '_', '.' "
			           "and '-' are)",
			           (int)s.n, s.p, s.p[i]);
	return 0;
}

/* port := [0-9]+; also refuse what no TCP port can be. */
static int parse_port(const char *ref, span s)
{
	uint64_t port;

	if (s.n == 0 || tg_parse_u64(&port, s.p, s.n, 65535) < 0)
		return bad(TG_EPARSE, ref,
		           "invalid registry port \"%.*s\": "
		           "expected a number from 0 to 65535",
		           (int)(s.n > 20 ? 20 : s.n), s.p);
	return 0;
}

/* "[" [0-9A-Fa-f:]+ "]" at the start of s; returns its length or 0. */
static size_t ipv6_len(span s)
{
	size_t i = 1;

	if (s.n < 3 || s.p[0] != '[')
		return 0;
	while (i < s.n && (is_hex(s.p[i]) || s.p[i] == ':'))
		i++;
	if (i == 1 || i >= s.n || s.p[i] != ']')
		return 0;
	return i + 1;
}

/* domain-name := label ("." label)*, label := [A-Za-z0-9] or
 * [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]. Returns its length or 0. */
static size_t domain_name_len(span s)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < s.n && (is_alnum(s.p[i]) || s.p[i] == '-'))
			i++;
		if (i == start || s.p[start] == '-' || s.p[i - 1] == '-')
			return 0;
		if (i < s.n && s.p[i] == '.') {
			i++;
			continue;
		}
		return i;
	}
}

/* domain := host [":" port], host := domain-name | "[" IPv6 "]" */
static int parse_registry(const char *ref, span s)
{
	size_t hl = s.n && s.p[0] == '[' ? ipv6_len(s) : domain_name_len(s);
	span port;

	if (hl == 0)
		return bad(TG_EPARSE, ref, "invalid registry host \"%.*s\"",
		           (int)s.n, s.p);
	if (hl == s.n)
		return 0;
	if (s.p[hl] != ':')
		return bad(TG_EPARSE, ref, "invalid registry host \"%.*s\"",
		           (int)s.n, s.p);
	port.p = s.p + hl + 1;
	port.n = s.n - hl - 1;
	return parse_port(ref, port);
}

/* component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := "." | "_" |
 * "__" | "-"+. Returns 0 or -1. */
static int path_component_ok(span c)
{
	size_t i = 0;

	for (;;) {
		if (i >= c.n || !is_lower_alnum(c.p[i]))
			return -1;
		while (i < c.n && is_lower_alnum(c.p[i]))
			i++;
		if (i == c.n)
			return 0;
		if (c.p[i] == '.') {
			i++;
		} else if (c.p[i] == '_') {
			i += i + 1 < c.n && c.p[i + 1] == '_' ? 2 : 1;
		} else if (c.p[i] == '-') {
			while (i < c.n && c.p[i] == '-')
				i++;
		} else {
			return -1;
		}
	}
}

/* path := component ("/" component)* */
static int parse_path(const char *ref, span s)
{
	size_t i = 0;

	for (i = 0; i < s.n; i++)
		if (s.p[i] >= 'A' && s.p[i] <= 'Z')
			return bad(TG_EPARSE, ref,
			           "uppercase letters in "
			           "repository name \"%.*s\" (repository "
			           "names must be lowercase)",
			           (int)s.n, s.p);
	i = 0;
	do {
		span c;
		const char *slash = memchr(s.p + i, '/', s.n - i);

		c.p = s.p + i;
		c.n = slash ? (size_t)(slash - c.p) : s.n - i;
		if (c.n == 0)
			return bad(TG_EPARSE, ref,
			           "empty path component in "
			           "repository name \"%.*s\"",
			           (int)s.n, s.p);
		if (path_component_ok(c) < 0)
			return bad(TG_EPARSE, ref,
			           "invalid repository path "
			           "component \"%.*s\": expected lowercase "
			           "letters and digits separated by one '.', "
			           "one or two '_' or '-'s",
			           (int)c.n, c.p);
		i += c.n + 1;
	} while (i <= s.n);
	return 0;
}

/*
 * Split name into registry and path the way docker does
 * (splitDockerDomain): see the comment at the top of the file.
 */
static void split_registry(span *reg, span *path, span name)
{
	const char *slash = memchr(name.p, '/', name.n);
	size_t i;
	int is_reg = 0;

	reg->p = NULL;
	reg->n = 0;
	*path = name;
	if (!slash)
		return;
	reg->p = name.p;
	reg->n = (size_t)(slash - name.p);
	if ((reg->n == 9 && !memcmp(reg->p, "localhost", 9)) ||
	    memchr(reg->p, '.', reg->n) || memchr(reg->p, ':', reg->n))
		is_reg = 1;
	for (i = 0; i < reg->n; i++)
		if (reg->p[i] >= 'A' && reg->p[i] <= 'Z')
			is_reg = 1;
	if (!is_reg) {
		reg->p = NULL;
		reg->n = 0;
		return;
	}
	path->p = slash + 1;
	path->n = name.n - reg->n - 1;
}

/* Fill the owned strings of r from the validated parts. */
static void build(tg_imageref *r, span reg, span path, span tag, span dig)
{
	int hub = reg.n == 0 ||
	          (reg.n == 15 && !memcmp(reg.p, LEGACY_REGISTRY, 15)) ||
	          (reg.n == 9 && !memcmp(reg.p, DEFAULT_REGISTRY, 9));

	r->registry =
	        hub ? tg_strdup(DEFAULT_REGISTRY) : tg_strndup(reg.p, reg.n);
	if (hub && !memchr(path.p, '/', path.n))
		r->repository =
		        tg_aprintf(OFFICIAL_PREFIX "%.*s", (int)path.n, path.p);
	else
		r->repository = tg_strndup(path.p, path.n);
	r->digest = dig.p ? tg_strndup(dig.p, dig.n) : NULL;
	if (tag.p) {
		r->tag = tg_strndup(tag.p, tag.n);
	} else if (!dig.p) {
		r->tag = tg_strdup(DEFAULT_TAG);
		r->tag_defaulted = true;
	}
	r->name = tg_aprintf("%s/%s", r->registry, r->repository);
	r->canonical = tg_imageref_pinned(r, NULL);
}

/*
 * Cut ref into name, tag and digest. The first '@' starts the digest
 * (no other part may hold one); a ':' after the last '/' of what remains
 * starts the tag ("host:port/repo" has its ':' before a '/').
 */
static void split_parts(span *name, span *tag, span *dig, const char *ref)
{
	const char *at = strchr(ref, '@'), *colon, *slash;
	size_t n = at ? (size_t)(at - ref) : strlen(ref), i;

	dig->p = at ? at + 1 : NULL;
	dig->n = at ? strlen(at + 1) : 0;
	colon = NULL;
	slash = NULL;
	for (i = 0; i < n; i++) {
		if (ref[i] == '/')
			slash = ref + i;
		else if (ref[i] == ':')
			colon = ref + i;
	}
	if (colon && slash && colon < slash)
		colon = NULL;
	name->p = ref;
	name->n = colon ? (size_t)(colon - ref) : n;
	tag->p = colon ? colon + 1 : NULL;
	tag->n = colon ? n - name->n - 1 : 0;
}

/* 64 lowercase hex digits and nothing else: an image ID, which docker
 * refuses as a name because it would be ambiguous. */
static int is_identifier(const char *ref)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((ref[i] >= '0' && ref[i] <= '9') ||
		      (ref[i] >= 'a' && ref[i] <= 'f')))
			return 0;
	return ref[64] == '\0';
}

static int check_name(const char *ref, span reg, span path)
{
	int error;
	size_t total;

	if (path.n == 0)
		return bad(TG_EPARSE, ref, "empty repository name");
	if (reg.p && (error = parse_registry(ref, reg)) < 0)
		return error;
	if ((error = parse_path(ref, path)) < 0)
		return error;
	/* Counted after normalisation, as distribution does it. */
	total = (reg.p ? reg.n : strlen(DEFAULT_REGISTRY)) + 1 + path.n;
	if (!reg.p && !memchr(path.p, '/', path.n))
		total += strlen(OFFICIAL_PREFIX);
	if (total > TG_MAX_IMAGE_NAME_BYTES)
		return bad(TG_ETOOBIG, ref,
		           "repository name longer than %u "
		           "characters",
		           (unsigned)TG_MAX_IMAGE_NAME_BYTES);
	return 0;
}

int tg_imageref_parse(tg_imageref **out, const char *ref)
{
	span name, tag, dig, reg, path;
	tg_imageref *r = NULL;
	int error;

	*out = NULL;
	if (!ref || !*ref)
		return tg_error_set(TG_EPARSE, "invalid image reference \"\": "
		                               "empty reference");
	if (strlen(ref) > TG_MAX_IMAGEREF_BYTES)
		return bad(TG_ETOOBIG, ref, "longer than %u characters",
		           (unsigned)TG_MAX_IMAGEREF_BYTES);
	if ((error = check_chars(ref)) < 0)
		return error;
	if (is_identifier(ref))
		return bad(TG_EPARSE, ref,
		           "a 64-digit hex string is an "
		           "image ID, not a repository name");
	split_parts(&name, &tag, &dig, ref);
	if (dig.p && (error = parse_digest(ref, dig)) < 0)
		return error;
	if (tag.p && (error = parse_tag(ref, tag)) < 0)
		return error;
	split_registry(&reg, &path, name);
	if ((error = check_name(ref, reg, path)) < 0)
		return error;
	r = tg_calloc(1, sizeof(*r));
	build(r, reg, path, tag, dig);
	*out = r;
	return 0;
}

int tg_imageref_dup(tg_imageref **out, const tg_imageref *ref)
{
	tg_imageref *r;

	*out = NULL;
	if (!ref)
		return 0;
	r = tg_calloc(1, sizeof(*r));
	r->registry = tg_strdup(ref->registry);
	r->repository = tg_strdup(ref->repository);
	r->tag = ref->tag ? tg_strdup(ref->tag) : NULL;
	r->digest = ref->digest ? tg_strdup(ref->digest) : NULL;
	r->name = tg_strdup(ref->name);
	r->canonical = tg_strdup(ref->canonical);
	r->tag_defaulted = ref->tag_defaulted;
	*out = r;
	return 0;
}

char *tg_imageref_pinned(const tg_imageref *ref, const char *digest)
{
	const char *d = digest ? digest : ref->digest;

	return tg_aprintf("%s%s%s%s%s", ref->name, ref->tag ? ":" : "",
	                  ref->tag ? ref->tag : "", d ? "@" : "", d ? d : "");
}

void tg_imageref_free(tg_imageref *ref)
{
	if (!ref)
		return;
	free(ref->registry);
	free(ref->repository);
	free(ref->tag);
	free(ref->digest);
	free(ref->name);
	free(ref->canonical);
	free(ref);
}
