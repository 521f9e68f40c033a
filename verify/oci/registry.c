/*
 * OCI distribution client: see include/tollgate/registry.h.
 *
 * Layout of this file: header parsers (WWW-Authenticate, Link), docker
 * config.json credentials, manifest shape checks, then the client: hosts,
 * tokens, the digest cache, and "operations" (one per public call) that
 * move through send -> response -> (auth -> resend) -> deliver as HTTP
 * completion callbacks, so everything runs on one curl multi handle.
 */
#include "tollgate/registry.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "registry_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

/* Header parsers ----------------------------------------------------------- */

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A token at *p: returns a copy and advances, or NULL when none. */
static char *parse_token(const char **p)
{
	const char *s = *p;

	while (is_tchar(**p))
		(*p)++;
	return *p > s ? tg_strndup(s, (size_t)(*p - s)) : NULL;
}

/* A quoted-string at *p (starting at '"'), unescaped; NULL when
 * unterminated. RFC 9110 5.6.4: quoted-pair is '\' + any char. */
static char *parse_quoted(const char **p)
{
	tg_buf b;
	const char *s = *p + 1;
	char *out;

	tg_buf_init(&b, TG_MAX_HTTP_HEADER_BYTES);
	for (; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		if (tg_buf_append(&b, s, 1) < 0)
			break;
	}
	if (*s != '"') {
		tg_buf_free(&b);
		return NULL;
	}
	*p = s + 1;
	out = tg_buf_detach(&b, NULL);
	return out;
}

/* token or quoted-string. */
static char *parse_param_value(const char **p)
{
	if (**p == '"')
		return parse_quoted(p);
	return parse_token(p);
}

void tg_auth_challenge_clear(tg_auth_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* Keep the auth-params we use; others are ignored. */
static void challenge_set(tg_auth_challenge *c, const char *name, char *value)
{
	char **slot = NULL;

	if (!strcasecmp(name, "realm"))
		slot = &c->realm;
	else if (!strcasecmp(name, "service"))
		slot = &c->service;
	else if (!strcasecmp(name, "scope"))
		slot = &c->scope;
	if (slot && !*slot) {
		*slot = value;
		return;
	}
	free(value);
}

/*
 * The auth-params after a scheme, up to the next challenge or the end.
 * A token not followed by '=' starts the next challenge: *p is left on it.
 */
static int parse_auth_params(tg_auth_challenge *c, const char **p)
{
	const char *save;
	char *name, *value;

	for (;;) {
		*p = skip_ows(*p);
		while (**p == ',')
			*p = skip_ows(*p + 1);
		if (!**p)
			return 0;
		save = *p;
		if (!(name = parse_token(p)))
			return TG_EPARSE;
		*p = skip_ows(*p);
		if (**p != '=') {
			free(name);
			*p = save;
			return 0;
		}
		*p = skip_ows(*p + 1);
		/* token68 ("Basic dXNlcg==") has no value after '='. */
		if (!**p || **p == ',' || **p == '=') {
			free(name);
			while (**p == '=')
				(*p)++;
			continue;
		}
		if (!(value = parse_param_value(p))) {
			free(name);
			return TG_EPARSE;
		}
		challenge_set(c, name, value);
		free(name);
		*p = skip_ows(*p);
		if (**p && **p != ',')
			return TG_EPARSE;
	}
}

int tg_www_authenticate_parse(tg_auth_challenge *out, const char *value)
{
	tg_auth_challenge c = { 0 }, first = { 0 };
	const char *p = value;
	bool have_first = false;

	memset(out, 0, sizeof(*out));
	for (;;) {
		p = skip_ows(p);
		while (*p == ',')
			p = skip_ows(p + 1);
		if (!*p)
			break;
		if (!(c.scheme = parse_token(&p)) ||
		    parse_auth_params(&c, &p) < 0) {
			tg_auth_challenge_clear(&c);
			tg_auth_challenge_clear(&first);
			return tg_error_set(
			        TG_EPARSE, "malformed WWW-Authenticate header");
		}
		if (!strcasecmp(c.scheme, "Bearer")) {
			tg_auth_challenge_clear(&first);
			*out = c;
			return 0;
		}
		if (!have_first) {
			first = c;
			have_first = true;
		} else {
			tg_auth_challenge_clear(&c);
		}
		memset(&c, 0, sizeof(c));
	}
	if (!have_first)
		return tg_error_set(TG_EPARSE, "empty WWW-Authenticate header");
	*out = first;
	return 0;
}

/* Does a rel value (space-separated relation types) include "next"? */
static bool rel_has_next(const char *rel)
{
	const char *p = rel, *s;

	while (*p) {
		while (*p == ' ')
			p++;
		s = p;
		while (*p && *p != ' ')
			p++;
		if (p - s == 4 && !strncasecmp(s, "next", 4))
			return true;
	}
	return false;
}

/* One link-value's params after "<uri>"; sets *is_next. */
static int parse_link_params(const char **p, bool *is_next)
{
	char *name, *value;

	*is_next = false;
	for (;;) {
		*p = skip_ows(*p);
		if (**p != ';')
			return 0;
		*p = skip_ows(*p + 1);
		if (!(name = parse_token(p)))
			return TG_EPARSE;
		*p = skip_ows(*p);
		value = NULL;
		if (**p == '=') {
			*p = skip_ows(*p + 1);
			if (!(value = parse_param_value(p))) {
				free(name);
				return TG_EPARSE;
			}
		}
		if (value && !strcasecmp(name, "rel") && rel_has_next(value))
			*is_next = true;
		free(name);
		free(value);
	}
}

int tg_link_next_parse(char **out, const char *value)
{
	const char *p = value, *end, *q;
	bool is_next;

	*out = NULL;
	for (;;) {
		p = skip_ows(p);
		while (*p == ',')
			p = skip_ows(p + 1);
		if (!*p)
			return 0;
		if (*p != '<' || !(end = strchr(p, '>')))
			return tg_error_set(TG_EPARSE,
			                    "malformed Link header: expected "
			                    "<URI>");
		q = end + 1;
		if (parse_link_params(&q, &is_next) < 0)
			return tg_error_set(TG_EPARSE,
			                    "malformed Link header parameters");
		if (is_next) {
			*out = tg_strndup(p + 1, (size_t)(end - p - 1));
			return 0;
		}
		p = skip_ows(q);
		if (*p && *p != ',')
			return tg_error_set(
			        TG_EPARSE, "malformed Link header after <URI>");
	}
}

/* Docker config.json credentials ------------------------------------------ */

static void cred_wipe(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void tg_docker_creds_free(tg_docker_cred *creds, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(creds[i].host);
		cred_wipe(creds[i].username);
		cred_wipe(creds[i].password);
	}
	free(creds);
}

/* "https://index.docker.io/v1/" -> "index.docker.io"; "host:5000" kept. */
static char *auth_key_host(const char *key)
{
	const char *s = key, *end;

	if (tg_str_has_prefix(s, "https://"))
		s += 8;
	else if (tg_str_has_prefix(s, "http://"))
		s += 7;
	end = strchr(s, '/');
	return end ? tg_strndup(s, (size_t)(end - s)) : tg_strdup(s);
}

/* The user and password of one auths entry; 0 with both NULL for an entry
 * without credentials (credential helpers), TG_EPARSE otherwise. */
static int
cred_decode(tg_docker_cred *c, const char *name, const char *key, json_t *entry)
{
	json_t *auth = json_object_get(entry, "auth");
	json_t *user = json_object_get(entry, "username");
	json_t *pass = json_object_get(entry, "password");
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	char *colon;

	if (!json_is_object(entry))
		return tg_error_set(TG_EPARSE,
		                    "%s: auths.\"%s\" is not an object", name,
		                    key);
	if (auth && json_is_string(auth) && json_string_length(auth) > 0) {
		if (tg_base64_decode(&raw, &raw_len, json_string_value(auth),
		                     json_string_length(auth)) < 0 ||
		    memchr(raw, '\0', raw_len) ||
		    !(colon = strchr((char *)raw, ':'))) {
			if (raw)
				OPENSSL_cleanse(raw, raw_len);
			free(raw);
			return tg_error_set(TG_EPARSE,
			                    "%s: auths.\"%s\".auth is not "
			                    "base64 of \"user:password\"",
			                    name, key);
		}
		c->username =
		        tg_strndup((char *)raw, (size_t)(colon - (char *)raw));
		c->password = tg_strdup(colon + 1);
		OPENSSL_cleanse(raw, raw_len);
		free(raw);
		return 0;
	}
	if (auth && !json_is_string(auth))
		return tg_error_set(TG_EPARSE,
		                    "%s: auths.\"%s\".auth is not a "
		                    "string",
		                    name, key);
	if (json_is_string(user) && json_is_string(pass)) {
		c->username = tg_strdup(json_string_value(user));
		c->password = tg_strdup(json_string_value(pass));
		return 0;
	}
	if (user || pass)
		return tg_error_set(TG_EPARSE,
		                    "%s: auths.\"%s\": username and password "
		                    "must both be strings",
		                    name, key);
	return 0;
}

int tg_docker_config_parse(tg_docker_cred **out,
                           size_t *count_out,
                           const char *name,
                           const char *json,
                           size_t len)
{
	json_t *root, *auths, *entry;
	json_error_t jerr;
	const char *key;
	tg_docker_cred *creds = NULL;
	size_t n = 0;
	int error = 0;

	*out = NULL;
	*count_out = 0;
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return tg_error_set(TG_EPARSE, "%s:%d:%d: %s", name, jerr.line,
		                    jerr.column, jerr.text);
	if (!json_is_object(root)) {
		error = tg_error_set(TG_EPARSE, "%s: not a JSON object", name);
		goto out;
	}
	auths = json_object_get(root, "auths");
	if (auths && !json_is_object(auths)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: \"auths\" is not an object", name);
		goto out;
	}
	if (json_object_size(auths) > TG_MAX_AUTH_ENTRIES) {
		error = tg_error_set(TG_ETOOBIG,
		                     "%s: more than %d auths entries", name,
		                     TG_MAX_AUTH_ENTRIES);
		goto out;
	}
	creds = tg_calloc(json_object_size(auths) + 1, sizeof(*creds));
	json_object_foreach(auths, key, entry) {
		tg_docker_cred c = { 0 };

		if ((error = cred_decode(&c, name, key, entry)) < 0)
			goto out;
		if (!c.username)
			continue;
		c.host = auth_key_host(key);
		creds[n++] = c;
	}
out:
	json_decref(root);
	if (error < 0) {
		tg_docker_creds_free(creds, n);
		return error;
	}
	*out = creds;
	*count_out = n;
	return 0;
}

/* Docker Hub is known under several names in config files. */
static bool is_docker_hub(const char *host)
{
	return !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	       !strcmp(host, "registry-1.docker.io");
}

const tg_docker_cred *tg_docker_cred_find(const tg_docker_cred *creds,
                                          size_t count,
                                          const char *registry)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!strcmp(creds[i].host, registry))
			return &creds[i];
	if (!is_docker_hub(registry))
		return NULL;
	for (i = 0; i < count; i++)
		if (is_docker_hub(creds[i].host))
			return &creds[i];
	return NULL;
}

/* Manifests ------------------------------------------------------------------
 */

/* Longest digest string we produce: "sha512:" + 128 hex. */
#define DIGEST_MAX 135

/*
 * Digest of data with the algorithm of `like` ("sha512:..." gives sha512,
 * anything else sha256), so bytes can be compared with any valid digest.
 */
static void digest_compute(char out[DIGEST_MAX + 1],
                           const char *like,
                           const void *data,
                           size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!like || !tg_str_has_prefix(like, "sha512:")) {
		tg_sha256_digest_str(out, data, len);
		return;
	}
	EVP_Digest(data, len, md, &mdlen, EVP_sha512(), NULL);
	memcpy(out, "sha512:", 7);
	tg_hex_encode(out + 7, md, mdlen);
}

static bool digest_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

static void annotations_free(tg_annotation *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].key);
		free(a[i].value);
	}
	free(a);
}

static void platform_free(tg_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	free(p);
}

static void descriptor_clear(tg_descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->artifact_type);
	annotations_free(d->annotations, d->annotations_count);
	platform_free(d->platform);
	memset(d, 0, sizeof(*d));
}

static void descriptors_free(tg_descriptor *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		descriptor_clear(&d[i]);
	free(d);
}

/* "annotations": an object of strings. where names it in messages. */
static int annotations_parse(tg_annotation **out,
                             size_t *n_out,
                             json_t *obj,
                             const char *name,
                             const char *where)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return tg_error_set(TG_EPARSE,
		                    "%s: %s.annotations is not an "
		                    "object",
		                    name, where);
	if (json_object_size(obj) > TG_MAX_ANNOTATIONS)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: %s has more than %d "
		                    "annotations",
		                    name, where, TG_MAX_ANNOTATIONS);
	json_object_foreach(obj, key, v) {
		if (!json_is_string(v)) {
			annotations_free(*out, n);
			*out = NULL;
			return tg_error_set(TG_EPARSE,
			                    "%s: %s.annotations.\"%s\" "
			                    "is not a string",
			                    name, where, key);
		}
	}
	*out = tg_calloc(json_object_size(obj) + 1, sizeof(**out));
	json_object_foreach(obj, key, v) {
		(*out)[n].key = tg_strdup(key);
		(*out)[n].value = tg_strdup(json_string_value(v));
		n++;
	}
	*n_out = n;
	return 0;
}

/* Optional string member: NULL when absent, TG_EPARSE when not a string. */
static int opt_string(char **out,
                      json_t *obj,
                      const char *key,
                      const char *name,
                      const char *where)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return tg_error_set(TG_EPARSE, "%s: %s.%s is not a string",
		                    name, where, key);
	*out = tg_strdup(json_string_value(v));
	return 0;
}

static int platform_parse(tg_platform **out,
                          json_t *obj,
                          const char *name,
                          const char *where)
{
	tg_platform *p;
	int error;

	*out = NULL;
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return tg_error_set(TG_EPARSE,
		                    "%s: %s.platform is not an object", name,
		                    where);
	p = tg_calloc(1, sizeof(*p));
	if ((error = opt_string(&p->os, obj, "os", name, where)) < 0 ||
	    (error = opt_string(&p->architecture, obj, "architecture", name,
	                        where)) < 0 ||
	    (error = opt_string(&p->variant, obj, "variant", name, where)) <
	            0 ||
	    (error = opt_string(&p->os_version, obj, "os.version", name,
	                        where)) < 0)
		goto out;
	if (!p->os || !p->architecture)
		error = tg_error_set(TG_EPARSE,
		                     "%s: %s.platform needs \"os\" "
		                     "and \"architecture\"",
		                     name, where);
out:
	if (error < 0) {
		platform_free(p);
		return error;
	}
	*out = p;
	return 0;
}

/* One descriptor (OCI image-spec descriptor.md): mediaType, digest, size
 * required; artifactType, annotations, platform optional. */
static int descriptor_parse(tg_descriptor *d,
                            json_t *obj,
                            const char *name,
                            const char *where)
{
	json_t *mt, *dg, *sz;
	int error;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(obj))
		return tg_error_set(TG_EPARSE, "%s: %s is not an object", name,
		                    where);
	mt = json_object_get(obj, "mediaType");
	dg = json_object_get(obj, "digest");
	sz = json_object_get(obj, "size");
	if (!json_is_string(mt) || !json_string_length(mt))
		return tg_error_set(TG_EPARSE,
		                    "%s: %s.mediaType missing or not "
		                    "a string",
		                    name, where);
	if (!json_is_string(dg) || !tg_digest_is_valid(json_string_value(dg)))
		return tg_error_set(TG_EPARSE,
		                    "%s: %s.digest missing or not a "
		                    "valid digest",
		                    name, where);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return tg_error_set(TG_EPARSE,
		                    "%s: %s.size missing or not a "
		                    "non-negative integer",
		                    name, where);
	d->media_type = tg_strdup(json_string_value(mt));
	d->digest = tg_strdup(json_string_value(dg));
	d->size = (uint64_t)json_integer_value(sz);
	if ((error = opt_string(&d->artifact_type, obj, "artifactType", name,
	                        where)) < 0 ||
	    (error = annotations_parse(&d->annotations, &d->annotations_count,
	                               json_object_get(obj, "annotations"),
	                               name, where)) < 0 ||
	    (error = platform_parse(&d->platform,
	                            json_object_get(obj, "platform"), name,
	                            where)) < 0) {
		descriptor_clear(d);
		return error;
	}
	return 0;
}

/* An array of descriptors under key (required when `required`). */
static int descriptors_parse(tg_descriptor **out,
                             size_t *n_out,
                             json_t *doc,
                             const char *key,
                             bool required,
                             const char *name)
{
	json_t *arr = json_object_get(doc, key);
	char where[64];
	size_t i, n;
	int error;

	*out = NULL;
	*n_out = 0;
	if (!arr && !required)
		return 0;
	if (!json_is_array(arr))
		return tg_error_set(TG_EPARSE,
		                    "%s: \"%s\" missing or not an "
		                    "array",
		                    name, key);
	n = json_array_size(arr);
	if (n > TG_MAX_MANIFEST_DESCRIPTORS)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: more than %d entries in "
		                    "\"%s\"",
		                    name, TG_MAX_MANIFEST_DESCRIPTORS, key);
	*out = tg_calloc(n + 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "%s[%zu]", key, i);
		if ((error = descriptor_parse(&(*out)[i],
		                              json_array_get(arr, i), name,
		                              where)) < 0) {
			descriptors_free(*out, i);
			*out = NULL;
			return error;
		}
	}
	*n_out = n;
	return 0;
}

void tg_oci_manifest_free(tg_oci_manifest *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->digest);
	free(m->media_type);
	free(m->artifact_type);
	if (m->config)
		descriptor_clear(m->config);
	free(m->config);
	descriptors_free(m->layers, m->layers_count);
	descriptors_free(m->manifests, m->manifests_count);
	if (m->subject)
		descriptor_clear(m->subject);
	free(m->subject);
	annotations_free(m->annotations, m->annotations_count);
	free(m->data);
	free(m);
}

static bool media_is_index(const char *mt)
{
	return !strcmp(mt, TG_MEDIA_OCI_INDEX) ||
	       !strcmp(mt, TG_MEDIA_DOCKER_LIST);
}

static bool media_is_image(const char *mt)
{
	return !strcmp(mt, TG_MEDIA_OCI_MANIFEST) ||
	       !strcmp(mt, TG_MEDIA_DOCKER_MANIFEST);
}

/* Content-Type without parameters ("; charset=..."), into buf. */
static const char *content_type_base(char *buf, size_t size, const char *ct)
{
	size_t n;

	if (!ct)
		return NULL;
	n = strcspn(ct, "; \t");
	if (n >= size)
		n = size - 1;
	memcpy(buf, ct, n);
	buf[n] = '\0';
	return buf;
}

/*
 * The manifest's media type: its "mediaType" (must be one we know), else
 * the Content-Type when known, else inferred from the shape ("manifests"
 * means an index). They must agree (OCI image-spec: mediaType, when
 * present, matches the descriptor and Content-Type).
 */
static int manifest_media_type(char **out,
                               json_t *doc,
                               const char *name,
                               const char *content_type)
{
	json_t *mt = json_object_get(doc, "mediaType");
	char ctbuf[128];
	const char *ct = content_type_base(ctbuf, sizeof(ctbuf), content_type);
	const char *type;

	if (mt && !json_is_string(mt))
		return tg_error_set(TG_EPARSE, "%s: mediaType is not a string",
		                    name);
	type = mt ? json_string_value(mt) : NULL;
	if (ct && !media_is_index(ct) && !media_is_image(ct))
		ct = NULL;
	if (type && !media_is_index(type) && !media_is_image(type))
		return tg_error_set(TG_EPARSE,
		                    "%s: unsupported manifest "
		                    "mediaType \"%.100s\"",
		                    name, type);
	if (type && ct && strcmp(type, ct))
		return tg_error_set(TG_EPARSE,
		                    "%s: mediaType \"%s\" does not "
		                    "match Content-Type \"%s\"",
		                    name, type, ct);
	if (!type)
		type = ct;
	if (!type)
		type = json_object_get(doc, "manifests")
		               ? TG_MEDIA_OCI_INDEX
		               : TG_MEDIA_OCI_MANIFEST;
	*out = tg_strdup(type);
	return 0;
}

/* The parts specific to an image manifest or an index. */
static int manifest_parse_body(tg_oci_manifest *m, json_t *doc)
{
	json_t *cfg;
	int error;

	if (m->kind == TG_OCI_MANIFEST_INDEX)
		return descriptors_parse(&m->manifests, &m->manifests_count,
		                         doc, "manifests", true, m->name);
	if (json_object_get(doc, "manifests"))
		return tg_error_set(TG_EPARSE,
		                    "%s: image manifest has "
		                    "\"manifests\"",
		                    m->name);
	cfg = json_object_get(doc, "config");
	if (!cfg)
		return tg_error_set(TG_EPARSE,
		                    "%s: image manifest has no "
		                    "\"config\"",
		                    m->name);
	m->config = tg_calloc(1, sizeof(*m->config));
	if ((error = descriptor_parse(m->config, cfg, m->name, "config")) < 0) {
		free(m->config);
		m->config = NULL;
		return error;
	}
	return descriptors_parse(&m->layers, &m->layers_count, doc, "layers",
	                         true, m->name);
}

static int
manifest_parse_common(tg_oci_manifest *m, json_t *doc, const char *content_type)
{
	json_t *sv = json_object_get(doc, "schemaVersion");
	json_t *subj = json_object_get(doc, "subject");
	int error;

	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return tg_error_set(TG_EPARSE,
		                    "%s: schemaVersion must be 2 "
		                    "(schema 1 manifests are not supported)",
		                    m->name);
	if ((error = manifest_media_type(&m->media_type, doc, m->name,
	                                 content_type)) < 0)
		return error;
	m->kind = media_is_index(m->media_type) ? TG_OCI_MANIFEST_INDEX
	                                        : TG_OCI_MANIFEST_IMAGE;
	if ((error = opt_string(&m->artifact_type, doc, "artifactType", m->name,
	                        "manifest")) < 0 ||
	    (error = annotations_parse(&m->annotations, &m->annotations_count,
	                               json_object_get(doc, "annotations"),
	                               m->name, "manifest")) < 0)
		return error;
	if (subj) {
		m->subject = tg_calloc(1, sizeof(*m->subject));
		if ((error = descriptor_parse(m->subject, subj, m->name,
		                              "subject")) < 0) {
			free(m->subject);
			m->subject = NULL;
			return error;
		}
	}
	return manifest_parse_body(m, doc);
}

int tg_oci_manifest_parse(tg_oci_manifest **out,
                          const char *name,
                          const char *content_type,
                          const char *data,
                          size_t len)
{
	tg_oci_manifest *m = NULL;
	json_t *doc = NULL;
	json_error_t jerr;
	char digest[DIGEST_MAX + 1];
	int error;

	*out = NULL;
	if (len > TG_MAX_MANIFEST_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: manifest of %zu bytes is "
		                    "over the limit of %u",
		                    name, len, TG_MAX_MANIFEST_BYTES);
	if (!(doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)))
		return tg_error_set(TG_EPARSE,
		                    "%s: manifest is not valid JSON "
		                    "(line %d, column %d: %s)",
		                    name, jerr.line, jerr.column, jerr.text);
	m = tg_calloc(1, sizeof(*m));
	m->name = tg_strdup(name);
	if (!json_is_object(doc)) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: manifest is not a JSON "
		                     "object",
		                     name);
		goto out;
	}
	if ((error = manifest_parse_common(m, doc, content_type)) < 0)
		goto out;
	digest_compute(digest, NULL, data, len);
	m->digest = tg_strdup(digest);
	m->data = tg_strndup(data, len);
	m->len = len;
out:
	json_decref(doc);
	if (error < 0) {
		tg_oci_manifest_free(m);
		return error;
	}
	*out = m;
	return 0;
}

static const char *
annotation_find(const tg_annotation *a, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(a[i].key, key))
			return a[i].value;
	return NULL;
}

const char *tg_descriptor_annotation(const tg_descriptor *d, const char *key)
{
	return annotation_find(d->annotations, d->annotations_count, key);
}

const char *tg_oci_manifest_annotation(const tg_oci_manifest *m,
                                       const char *key)
{
	return annotation_find(m->annotations, m->annotations_count, key);
}

void tg_blob_free(tg_blob *b)
{
	if (!b)
		return;
	free(b->digest);
	free(b->data);
	free(b);
}

void tg_referrers_free(tg_referrers *r)
{
	if (!r)
		return;
	free(r->subject);
	descriptors_free(r->items, r->count);
	free(r);
}

char *tg_registry_digest_tag(const char *digest, const char *suffix)
{
	const char *colon;

	if (!digest || !tg_digest_is_valid(digest))
		return NULL;
	colon = strchr(digest, ':');
	return tg_aprintf("%.*s-%s%s", (int)(colon - digest), digest, colon + 1,
	                  suffix ? suffix : "");
}

const char *tg_registry_api_host(const char *registry)
{
	if (!strcmp(registry, "docker.io") ||
	    !strcmp(registry, "index.docker.io"))
		return "registry-1.docker.io";
	return registry;
}

/* The client ----------------------------------------------------------------
 */

enum op_kind { OP_PING, OP_MANIFEST, OP_BLOB, OP_REFERRERS };

/* What a registry host asked for last time (its 401 challenge). */
enum host_auth { AUTH_UNKNOWN, AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct host {
	struct host *next;
	char *host; /* API host[:port] */
	enum host_auth auth;
	char *realm;
	char *service;
	/* Until the first answer says how this host authenticates, one
	 * request goes out and the others wait here: a batch of N requests
	 * then costs one 401, not N. */
	bool probing;
	struct op *waiters;
};

struct token {
	struct token *next;
	tg_registry *reg;
	char *registry; /* as in image references: for credentials */
	bool fetching;
	char *host;
	char *scope;    /* "" when none */
	char *value;    /* NULL while being fetched */
	double expires; /* tg_monotonic() time */
	struct op *waiters;
};

struct cache_entry {
	struct cache_entry *next;
	char *key; /* "host digest" */
	char *content_type;
	char *data;
	size_t len;
};

/* Requests for the same host, repository and digest share one fetch. */
struct inflight {
	struct inflight *next;
	char *key; /* "host repo digest" */
	struct op *owner;
	struct op *waiters;
};

struct op {
	struct op *next;                /* in a waiter or ready list */
	struct op *all_prev, *all_next; /* every live op of the client */
	tg_registry *reg;
	enum op_kind kind;
	char *registry;
	char *host;
	char *repo;
	char *reference;
	char *artifact_type;
	char *name;  /* for messages */
	char *scope; /* NULL for the ping */
	char *path;  /* path and query of the next request */
	size_t max_bytes;
	bool auth_done;
	bool probe; /* the request that learns the host's auth scheme */
	unsigned pages;
	tg_descriptor *items; /* referrers collected so far */
	size_t items_count;
	char *ready_ct; /* cache hit waiting for delivery */
	char *ready_data;
	size_t ready_len;
	union {
		tg_registry_manifest_fn manifest;
		tg_registry_blob_fn blob;
		tg_registry_referrers_fn referrers;
		void (*ping)(int result, void *ctx);
	} done;
	void *ctx;
};

struct tg_registry {
	tg_http *http;
	tg_docker_cred *creds;
	size_t creds_count;
	struct host *hosts;
	struct token *tokens;
	struct cache_entry *cache; /* newest first */
	size_t cache_bytes;
	size_t cache_max;
	struct inflight *inflight;
	struct op *ready; /* cache hits, delivered by tg_registry_run */
	struct op *ready_tail;
	struct op *ops; /* every op not yet delivered, for tg_registry_free */
};

static void op_free(struct op *op)
{
	if (!op)
		return;
	if (op->all_prev)
		op->all_prev->all_next = op->all_next;
	else
		op->reg->ops = op->all_next;
	if (op->all_next)
		op->all_next->all_prev = op->all_prev;
	free(op->registry);
	free(op->host);
	free(op->repo);
	free(op->reference);
	free(op->artifact_type);
	free(op->name);
	free(op->scope);
	free(op->path);
	descriptors_free(op->items, op->items_count);
	free(op->ready_ct);
	free(op->ready_data);
	free(op);
}

/* Fail op: the detail is already recorded; the callback gets NULL. */
static void op_fail(struct op *op, int code)
{
	switch (op->kind) {
	case OP_PING:
		op->done.ping(code, op->ctx);
		break;
	case OP_MANIFEST:
		op->done.manifest(code, NULL, op->ctx);
		break;
	case OP_BLOB:
		op->done.blob(code, NULL, op->ctx);
		break;
	case OP_REFERRERS:
		op->done.referrers(code, NULL, op->ctx);
		break;
	}
	op_free(op);
}

/* Fail a list of ops with the same code and detail. */
static void ops_fail_all(struct op *list, int code, const char *detail)
{
	struct op *op;

	while ((op = list)) {
		list = op->next;
		op->next = NULL;
		tg_error_set(code, "%s", detail);
		op_fail(op, code);
	}
}

/* Hosts, tokens and the cache ------------------------------------------------
 */

static struct host *host_get(tg_registry *reg, const char *name)
{
	struct host *h;

	for (h = reg->hosts; h; h = h->next)
		if (!strcmp(h->host, name))
			return h;
	h = tg_calloc(1, sizeof(*h));
	h->host = tg_strdup(name);
	h->next = reg->hosts;
	reg->hosts = h;
	return h;
}

static struct token *
token_find(tg_registry *reg, const char *host, const char *scope)
{
	struct token *t;

	for (t = reg->tokens; t; t = t->next)
		if (!strcmp(t->host, host) &&
		    !strcmp(t->scope, scope ? scope : ""))
			return t;
	return NULL;
}

static void token_wipe_value(struct token *t)
{
	cred_wipe(t->value);
	t->value = NULL;
}

static void cache_evict(tg_registry *reg, size_t need)
{
	struct cache_entry **p, *e;

	while (reg->cache && reg->cache_bytes + need > reg->cache_max) {
		/* Drop the oldest (the list's last entry). */
		for (p = &reg->cache; (*p)->next; p = &(*p)->next)
			;
		e = *p;
		*p = NULL;
		reg->cache_bytes -= e->len;
		free(e->key);
		free(e->content_type);
		free(e->data);
		free(e);
	}
}

/* Keep verified bytes under "host digest". One entry may use at most an
 * eighth of the cache, so one large SBOM does not flush everything else. */
static void cache_put(tg_registry *reg,
                      const char *host,
                      const char *digest,
                      const char *ct,
                      const char *data,
                      size_t len)
{
	struct cache_entry *e;
	char *key = tg_aprintf("%s %s", host, digest);

	for (e = reg->cache; e; e = e->next) {
		if (!strcmp(e->key, key)) {
			free(key);
			return;
		}
	}
	if (len > reg->cache_max / 8) {
		free(key);
		return;
	}
	cache_evict(reg, len);
	e = tg_calloc(1, sizeof(*e));
	e->key = key;
	e->content_type = ct ? tg_strdup(ct) : NULL;
	e->data = tg_malloc(len + 1);
	memcpy(e->data, data, len);
	e->data[len] = '\0';
	e->len = len;
	e->next = reg->cache;
	reg->cache = e;
	reg->cache_bytes += len;
}

static const struct cache_entry *
cache_get(tg_registry *reg, const char *host, const char *digest)
{
	struct cache_entry *e;
	char *key = tg_aprintf("%s %s", host, digest);

	for (e = reg->cache; e; e = e->next)
		if (!strcmp(e->key, key))
			break;
	free(key);
	return e;
}

/* Construction
 * ----------------------------------------------------------------- */

static int load_creds(tg_registry *reg, const char *path)
{
	char *json = NULL;
	size_t len = 0;
	int error;

	if ((error = tg_file_read(&json, &len, path,
	                          TG_MAX_SMALL_RESPONSE_BYTES)) < 0)
		return tg_error_prefix(error, "registry auth file");
	error = tg_docker_config_parse(&reg->creds, &reg->creds_count, path,
	                               json, len);
	OPENSSL_cleanse(json, len);
	free(json);
	return error;
}

int tg_registry_new(tg_registry **out, const tg_registry_options *opts)
{
	tg_registry_options none = { 0 };
	tg_http_options hopts = { 0 };
	tg_registry *reg;
	int error;

	*out = NULL;
	if (!opts)
		opts = &none;
	reg = tg_calloc(1, sizeof(*reg));
	reg->cache_max = opts->cache_max_bytes ? opts->cache_max_bytes
	                                       : TG_MAX_REGISTRY_CACHE_BYTES;
	hopts.ca_file = opts->ca_file;
	hopts.insecure_hosts = opts->insecure;
	hopts.insecure_hosts_count = opts->insecure_count;
	hopts.parallel = opts->parallel;
	hopts.max_retries = opts->max_retries;
	hopts.retry_base_ms = opts->retry_base_ms;
	if ((error = tg_http_new(&reg->http, &hopts)) < 0 ||
	    (opts->auth_file &&
	     (error = load_creds(reg, opts->auth_file)) < 0)) {
		tg_registry_free(reg);
		return error;
	}
	*out = reg;
	return 0;
}

void tg_registry_free(tg_registry *reg)
{
	struct host *h;
	struct token *t;
	struct cache_entry *e;
	struct inflight *f;
	struct op *op;

	if (!reg)
		return;
	tg_http_free(reg->http);
	while ((h = reg->hosts)) {
		reg->hosts = h->next;
		free(h->host);
		free(h->realm);
		free(h->service);
		free(h);
	}
	while ((t = reg->tokens)) {
		reg->tokens = t->next;
		token_wipe_value(t);
		free(t->registry);
		free(t->host);
		free(t->scope);
		free(t);
	}
	while ((e = reg->cache)) {
		reg->cache = e->next;
		free(e->key);
		free(e->content_type);
		free(e->data);
		free(e);
	}
	while ((f = reg->inflight)) {
		reg->inflight = f->next;
		free(f->key);
		free(f);
	}
	/* Work dropped before tg_registry_run finished it (the waiter,
	 * ready and in-flight lists only point into this list). */
	while ((op = reg->ops))
		op_free(op);
	tg_docker_creds_free(reg->creds, reg->creds_count);
	free(reg);
}

tg_http *tg_registry_http(tg_registry *reg)
{
	return reg->http;
}

/* Requests
 * --------------------------------------------------------------------- */

static int op_send(struct op *op);
static void op_error(struct op *op, int code);

/* Percent-encode everything but RFC 3986 unreserved characters. */
static char *url_encode(const char *s)
{
	tg_buf b;
	char *out;

	tg_buf_init(&b, strlen(s) * 3 + 1);
	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			tg_buf_append(&b, s, 1);
		else
			tg_buf_printf(&b, "%%%02X", (unsigned char)*s);
	}
	out = tg_buf_detach(&b, NULL);
	return out;
}

/* "http" for registries listed as insecure, "https" for every other. */
static const char *op_scheme(const struct op *op)
{
	if (tg_http_host_is_insecure(op->reg->http, op->registry) ||
	    tg_http_host_is_insecure(op->reg->http, op->host))
		return "http";
	return "https";
}

/*
 * The registry's own words from an OCI error body ({"errors":[{"code":
 * "MANIFEST_UNKNOWN","message":"..."}]}) as ": CODE: message", reduced to
 * printable ASCII and bounded, into buf; "" when there are none.
 */
static void
registry_error_detail(char *buf, size_t size, const tg_http_response *r)
{
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
	json_t *e = json_array_get(json_object_get(doc, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	size_t i;

	buf[0] = '\0';
	if (code)
		snprintf(buf, size, ": %.64s: %.160s", code, msg ? msg : "");
	json_decref(doc);
	for (i = 0; buf[i]; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			buf[i] = '?';
}

/* Record the error for an unexpected HTTP status and return its code. */
static int status_error(const struct op *op, const tg_http_response *r)
{
	char detail[256];

	registry_error_detail(detail, sizeof(detail), r);
	if (r->status == 404)
		return tg_error_set(TG_ENOTFOUND, "%s: not found (HTTP 404%s)",
		                    op->name, detail);
	if (r->status == 401 || r->status == 403)
		return tg_error_set(TG_EAUTH,
		                    "%s: access denied (HTTP %ld%s); check the "
		                    "credentials for %s in the registry auth "
		                    "file",
		                    op->name, r->status, detail, op->registry);
	return tg_error_set(TG_ENET,
	                    "%s: unexpected answer from %s (HTTP %ld%s)",
	                    op->name, r->url, r->status, detail);
}

/* "Authorization: Basic base64(user:password)" for the op's registry, or
 * NULL without credentials. The caller wipes and frees it. */
static char *basic_header(const tg_registry *reg, const char *registry)
{
	const tg_docker_cred *c =
	        tg_docker_cred_find(reg->creds, reg->creds_count, registry);
	char *pair, *b64, *header;

	if (!c)
		return NULL;
	pair = tg_aprintf("%s:%s", c->username, c->password);
	b64 = tg_base64_encode((unsigned char *)pair, strlen(pair));
	header = tg_aprintf("Authorization: Basic %s", b64);
	cred_wipe(pair);
	cred_wipe(b64);
	return header;
}

static void on_token(tg_http *http, int result, tg_http_response *r, void *ctx);

/* Ask the realm of host h for a token for t->scope; op waits on t. */
static int token_fetch(tg_registry *reg,
                       struct host *h,
                       struct token *t,
                       const char *registry)
{
	tg_http_request req = { 0 };
	char *service = h->service ? url_encode(h->service) : NULL;
	char *scope = t->scope[0] ? url_encode(t->scope) : NULL;
	char *basic = basic_header(reg, registry);
	const char *hdrs[1];
	tg_buf url;
	char sep = strchr(h->realm, '?') ? '&' : '?';
	int error;

	tg_buf_init(&url, 8192);
	tg_buf_puts(&url, h->realm);
	if (service) {
		tg_buf_printf(&url, "%cservice=%s", sep, service);
		sep = '&';
	}
	if (scope)
		tg_buf_printf(&url, "%cscope=%s", sep, scope);
	req.url = url.data;
	if (basic) {
		hdrs[0] = basic;
		req.headers = hdrs;
		req.headers_count = 1;
	}
	tg_log(TG_LOG_DEBUG, "registry token request", "registry", registry,
	       "realm", h->realm, "scope", t->scope, NULL);
	error = tg_http_submit(reg->http, &req, on_token, t);
	if (error < 0)
		tg_error_prefix(error, "%s: token realm", registry);
	tg_buf_free(&url);
	free(service);
	free(scope);
	cred_wipe(basic);
	return error;
}

/* A token value goes into a header: visible ASCII only, so a hostile
 * token server cannot inject header lines. */
static bool token_value_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 16384)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/*
 * The token response (distribution token spec): "token" or "access_token",
 * optional "expires_in" seconds. Sets t->value and t->expires; 0, TG_EPARSE.
 */
static int token_parse(struct token *t, const tg_http_response *r)
{
	json_t *doc =
	        json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *tok = json_object_get(doc, "token");
	json_t *exp = json_object_get(doc, "expires_in");
	json_int_t ttl = TG_REGISTRY_TOKEN_DEFAULT_TTL_S;
	int error = 0;

	if (!json_is_string(tok) || !json_string_length(tok))
		tok = json_object_get(doc, "access_token");
	if (!json_is_object(doc) || !json_is_string(tok) ||
	    !token_value_ok(json_string_value(tok), json_string_length(tok))) {
		error = tg_error_set(TG_EPARSE,
		                     "%s: token response from %s has "
		                     "no usable \"token\" or \"access_token\"",
		                     t->registry, r->url);
		goto out;
	}
	if (json_is_integer(exp) && json_integer_value(exp) > 0)
		ttl = json_integer_value(exp);
	token_wipe_value(t);
	t->value = tg_strdup(json_string_value(tok));
	/* Renew a little early so a token does not expire in flight. */
	t->expires =
	        tg_monotonic() + (double)ttl - (ttl > 20 ? 10.0 : ttl / 2.0);
out:
	json_decref(doc);
	return error;
}

static void on_token(tg_http *http, int result, tg_http_response *r, void *ctx)
{
	struct token *t = ctx;
	struct op *waiters = t->waiters, *op;
	char *detail = NULL;
	int code = result;

	(void)http;
	t->waiters = NULL;
	t->fetching = false;
	if (result < 0) {
		tg_error_prefix(result, "%s: token", t->registry);
	} else if (r->status == 401 || r->status == 403) {
		code = tg_error_set(
		        TG_EAUTH,
		        "%s: the token server %s refused %s "
		        "(HTTP %ld); check the credentials for %s in "
		        "the registry auth file",
		        t->registry, r->url,
		        tg_docker_cred_find(t->reg->creds, t->reg->creds_count,
		                            t->registry)
		                ? "the credentials"
		                : "anonymous access",
		        r->status, t->registry);
	} else if (r->status != 200) {
		code = tg_error_set(TG_ENET,
		                    "%s: token server %s answered HTTP "
		                    "%ld",
		                    t->registry, r->url, r->status);
	} else {
		code = token_parse(t, r);
	}
	tg_http_response_free(r);
	if (code < 0) {
		detail = tg_strdup(tg_error_last());
		ops_fail_all(waiters, code, detail);
		free(detail);
		return;
	}
	while ((op = waiters)) {
		waiters = op->next;
		op->next = NULL;
		if ((code = op_send(op)) < 0)
			op_error(op, code);
	}
}

/* Queue op behind the token for its scope, fetching it when needed. */
static int token_wait(struct op *op, struct host *h)
{
	tg_registry *reg = op->reg;
	struct token *t = token_find(reg, op->host, op->scope);

	if (!t) {
		t = tg_calloc(1, sizeof(*t));
		t->reg = reg;
		t->registry = tg_strdup(op->registry);
		t->host = tg_strdup(op->host);
		t->scope = tg_strdup(op->scope ? op->scope : "");
		t->next = reg->tokens;
		reg->tokens = t;
	}
	op->next = t->waiters;
	t->waiters = op;
	if (t->fetching)
		return 0;
	t->fetching = true;
	if (token_fetch(reg, h, t, op->registry) < 0) {
		/* Nothing was submitted: the waiters are ours to fail, op
		 * included (it is failed by the caller through the return). */
		t->fetching = false;
		t->waiters = op->next;
		op->next = NULL;
		return tg_error_code();
	}
	return 0;
}

static void
on_response(tg_http *http, int result, tg_http_response *r, void *ctx);

static const char *const manifest_accept =
        "Accept: " TG_MEDIA_OCI_MANIFEST ", " TG_MEDIA_OCI_INDEX
        ", " TG_MEDIA_DOCKER_MANIFEST ", " TG_MEDIA_DOCKER_LIST;

/* The Authorization header op can send now; *wait set when op was queued
 * behind a token fetch instead. The caller wipes and frees the header. */
static int op_authorization(char **out, bool *wait, struct op *op)
{
	struct host *h = host_get(op->reg, op->host);
	struct token *t;
	int error;

	*out = NULL;
	*wait = false;
	if (h->auth == AUTH_UNKNOWN && h->probing) {
		op->next = h->waiters;
		h->waiters = op;
		*wait = true;
		return 0;
	}
	if (h->auth == AUTH_UNKNOWN) {
		h->probing = true;
		op->probe = true;
		return 0;
	}
	if (h->auth == AUTH_BASIC) {
		*out = basic_header(op->reg, op->registry);
		return 0;
	}
	if (h->auth != AUTH_BEARER)
		return 0;
	t = token_find(op->reg, op->host, op->scope);
	if (t && t->value && !t->fetching && t->expires > tg_monotonic()) {
		*out = tg_aprintf("Authorization: Bearer %s", t->value);
		return 0;
	}
	if ((error = token_wait(op, h)) < 0)
		return error;
	*wait = true;
	return 0;
}

/* Send op's next request (op->path), authenticated as far as known. */
static int op_send(struct op *op)
{
	tg_http_request req = { 0 };
	const char *hdrs[2];
	char *auth = NULL, *url;
	bool wait;
	int error;

	if ((error = op_authorization(&auth, &wait, op)) < 0 || wait)
		return error;
	url = tg_aprintf("%s://%s%s", op_scheme(op), op->host, op->path);
	req.url = url;
	req.method = "GET";
	req.headers = hdrs;
	if (op->kind == OP_MANIFEST)
		hdrs[req.headers_count++] = manifest_accept;
	else if (op->kind == OP_REFERRERS)
		hdrs[req.headers_count++] = "Accept: " TG_MEDIA_OCI_INDEX;
	if (auth)
		hdrs[req.headers_count++] = auth;
	req.max_bytes = op->max_bytes;
	error = tg_http_submit(op->reg->http, &req, on_response, op);
	if (error < 0)
		tg_error_prefix(error, "%s", op->name);
	free(url);
	cred_wipe(auth);
	return error;
}

/* A 401: learn the host's challenge and send again once, authenticated. */
static int op_handle_401(struct op *op, const tg_http_response *r)
{
	const char *value = tg_http_response_header(r, "WWW-Authenticate");
	tg_auth_challenge ch = { 0 };
	struct host *h = host_get(op->reg, op->host);
	struct token *t;

	if (op->auth_done)
		return status_error(op, r);
	if (!value || tg_www_authenticate_parse(&ch, value) < 0)
		return tg_error_set(TG_EAUTH,
		                    "%s: HTTP 401 without a usable "
		                    "WWW-Authenticate challenge",
		                    op->name);
	op->auth_done = true;
	if (!strcasecmp(ch.scheme, "Bearer") && ch.realm) {
		h->auth = AUTH_BEARER;
		free(h->realm);
		free(h->service);
		h->realm = ch.realm;
		h->service = ch.service;
		ch.realm = ch.service = NULL;
		if (!op->scope && ch.scope)
			op->scope = tg_strdup(ch.scope);
		/* The token we sent (if any) was refused: get a new one. */
		if ((t = token_find(op->reg, op->host, op->scope)) &&
		    !t->fetching)
			token_wipe_value(t);
	} else if (!strcasecmp(ch.scheme, "Basic")) {
		/* Known now even without credentials, so requests waiting on
		 * this host fail at once rather than one after the other. */
		h->auth = AUTH_BASIC;
		if (!tg_docker_cred_find(op->reg->creds, op->reg->creds_count,
		                         op->registry)) {
			tg_auth_challenge_clear(&ch);
			return tg_error_set(
			        TG_EAUTH,
			        "%s: the registry requires "
			        "credentials (HTTP 401) and the "
			        "registry auth file has none for %s",
			        op->name, op->registry);
		}
	} else {
		tg_auth_challenge_clear(&ch);
		return tg_error_set(TG_EAUTH,
		                    "%s: unsupported authentication "
		                    "scheme in HTTP 401 challenge",
		                    op->name);
	}
	tg_auth_challenge_clear(&ch);
	return op_send(op);
}

/* Hand verified bytes to op as a manifest or blob and free op. */
static void op_deliver(struct op *op,
                       const char *digest,
                       const char *ct,
                       const char *data,
                       size_t len)
{
	tg_oci_manifest *m = NULL;
	tg_blob *b;
	char *name;
	int error;

	if (op->kind == OP_BLOB) {
		if (len > op->max_bytes) {
			tg_error_set(TG_ETOOBIG,
			             "%s: blob of %zu bytes is over "
			             "the limit of %zu",
			             op->name, len, op->max_bytes);
			op_fail(op, TG_ETOOBIG);
			return;
		}
		b = tg_calloc(1, sizeof(*b));
		b->digest = tg_strdup(digest);
		b->data = tg_malloc(len + 1);
		memcpy(b->data, data, len);
		b->data[len] = '\0';
		b->len = len;
		op->done.blob(0, b, op->ctx);
		op_free(op);
		return;
	}
	name = tg_aprintf("%s/%s@%s", op->registry, op->repo, digest);
	error = tg_oci_manifest_parse(&m, name, ct, data, len);
	free(name);
	if (error < 0) {
		op_fail(op, error);
		return;
	}
	free(m->digest);
	m->digest = tg_strdup(digest);
	op->done.manifest(0, m, op->ctx);
	op_free(op);
}

static struct inflight *inflight_take(tg_registry *reg, const struct op *owner)
{
	struct inflight **p, *f;

	for (p = &reg->inflight; (f = *p); p = &f->next) {
		if (f->owner == owner) {
			*p = f->next;
			return f;
		}
	}
	return NULL;
}

/* op failed (detail recorded): fail it and everything waiting on it. */
static void op_error(struct op *op, int code)
{
	struct inflight *f = inflight_take(op->reg, op);
	char *detail;

	if (!f) {
		op_fail(op, code);
		return;
	}
	detail = tg_strdup(tg_error_last());
	op_fail(op, code);
	ops_fail_all(f->waiters, code, detail);
	free(detail);
	free(f->key);
	free(f);
}

/* op fetched verified bytes: cache them, deliver to it and its waiters. */
static void op_success(struct op *op,
                       const char *digest,
                       const char *ct,
                       const char *data,
                       size_t len)
{
	struct inflight *f = inflight_take(op->reg, op);
	struct op *w;

	cache_put(op->reg, op->host, digest, ct, data, len);
	op_deliver(op, digest, ct, data, len);
	if (!f)
		return;
	while ((w = f->waiters)) {
		f->waiters = w->next;
		w->next = NULL;
		op_deliver(w, digest, ct, data, len);
	}
	free(f->key);
	free(f);
}

/* Bytes received for a manifest or blob must hash to the digest asked for
 * (for a tag: to Docker-Content-Digest when sent). 0 or TG_EUNTRUSTED. */
static int verify_bytes(char digest[DIGEST_MAX + 1],
                        const struct op *op,
                        const tg_http_response *r)
{
	const char *expected = NULL, *what;
	char got[DIGEST_MAX + 1];

	if (tg_digest_is_valid(op->reference)) {
		expected = op->reference;
		what = "the digest asked for";
	} else if ((expected = tg_http_response_header(
	                    r, "Docker-Content-Digest"))) {
		what = "the Docker-Content-Digest header";
		if (!tg_digest_is_valid(expected))
			return tg_error_set(TG_EUNTRUSTED,
			                    "%s: invalid Docker-Content-Digest "
			                    "header; refusing the manifest",
			                    op->name);
	}
	digest_compute(got, expected, r->body, r->body_len);
	if (expected && !digest_equal(expected, got))
		return tg_error_set(TG_EUNTRUSTED,
		                    "%s: digest mismatch: the %s received hash "
		                    "to %s, not %s (%s); the registry or "
		                    "something on the way altered them, "
		                    "refusing them",
		                    op->name,
		                    op->kind == OP_BLOB ? "blob bytes"
		                                        : "manifest bytes",
		                    got, expected, what);
	tg_strlcpy(digest, expected ? expected : got, DIGEST_MAX + 1);
	return 0;
}

static void content_response(struct op *op, tg_http_response *r)
{
	char digest[DIGEST_MAX + 1];
	int error;

	if (r->status != 200)
		error = status_error(op, r);
	else
		error = verify_bytes(digest, op, r);
	if (error < 0)
		op_error(op, error);
	else
		op_success(op, digest,
		           tg_http_response_header(r, "Content-Type"), r->body,
		           r->body_len);
	tg_http_response_free(r);
}

/* Deliver the collected referrers and free op. */
static void referrers_deliver(struct op *op, bool from_tag)
{
	tg_referrers *res = tg_calloc(1, sizeof(*res));

	res->subject = tg_strdup(op->reference);
	res->items = op->items;
	res->count = op->items_count;
	res->from_tag_schema = from_tag;
	op->items = NULL;
	op->items_count = 0;
	op->done.referrers(0, res, op->ctx);
	op_free(op);
}

/* Move the index entries matching the artifactType filter into op. */
static int referrers_take(struct op *op, tg_oci_manifest *m)
{
	size_t i;

	if (m->kind != TG_OCI_MANIFEST_INDEX)
		return tg_error_set(TG_EPARSE,
		                    "%s: referrers answer is not an "
		                    "image index",
		                    op->name);
	for (i = 0; i < m->manifests_count; i++) {
		tg_descriptor *d = &m->manifests[i];

		if (op->artifact_type &&
		    (!d->artifact_type ||
		     strcmp(d->artifact_type, op->artifact_type)))
			continue;
		if (op->items_count >= TG_MAX_MANIFEST_DESCRIPTORS)
			return tg_error_set(TG_ETOOBIG,
			                    "%s: more than %d "
			                    "referrers",
			                    op->name,
			                    TG_MAX_MANIFEST_DESCRIPTORS);
		op->items = tg_realloc(op->items, (op->items_count + 1) *
		                                          sizeof(*op->items));
		op->items[op->items_count++] = *d;
		memset(d, 0, sizeof(*d));
	}
	return 0;
}

static void referrers_fallback_done(int result, tg_oci_manifest *m, void *ctx)
{
	struct op *op = ctx;
	int error = result;

	if (result == TG_ENOTFOUND) {
		referrers_deliver(op, true);
		return;
	}
	if (result == 0)
		error = referrers_take(op, m);
	tg_oci_manifest_free(m);
	if (error < 0) {
		op_fail(op, error);
		return;
	}
	referrers_deliver(op, true);
}

/* Where a Link rel="next" points: a path on the same registry, or an
 * absolute URL of the same origin (anything else would get our token). */
static int
referrers_next_path(char **out, const struct op *op, const char *next)
{
	char *origin = tg_aprintf("%s://%s/", op_scheme(op), op->host);
	int error = 0;

	*out = NULL;
	if (next[0] == '/' && next[1] != '/')
		*out = tg_strdup(next);
	else if (tg_str_has_prefix(next, origin))
		*out = tg_strdup(next + strlen(origin) - 1);
	else
		error = tg_error_set(TG_EUNTRUSTED,
		                     "%s: referrers Link points "
		                     "outside the registry: \"%.200s\"",
		                     op->name, next);
	free(origin);
	return error;
}

static int referrers_page(struct op *op, tg_http_response *r)
{
	tg_oci_manifest *m = NULL;
	const char *link;
	char *next = NULL, *path = NULL;
	int error;

	if ((error = tg_oci_manifest_parse(
	             &m, op->name, tg_http_response_header(r, "Content-Type"),
	             r->body, r->body_len)) < 0 ||
	    (error = referrers_take(op, m)) < 0)
		goto out;
	if (!(link = tg_http_response_header(r, "Link"))) {
		referrers_deliver(op, false);
		goto out;
	}
	if ((error = tg_link_next_parse(&next, link)) < 0) {
		tg_error_prefix(error, "%s", op->name);
		goto out;
	}
	if (!next) {
		referrers_deliver(op, false);
		goto out;
	}
	if (++op->pages >= TG_MAX_REFERRER_PAGES) {
		error = tg_error_set(TG_ETOOBIG,
		                     "%s: more than %d pages of "
		                     "referrers",
		                     op->name, TG_MAX_REFERRER_PAGES);
		goto out;
	}
	if ((error = referrers_next_path(&path, op, next)) < 0)
		goto out;
	free(op->path);
	op->path = path;
	error = op_send(op);
out:
	free(next);
	tg_oci_manifest_free(m);
	return error;
}

static void referrers_response(struct op *op, tg_http_response *r)
{
	char *tag;
	int error;

	if (r->status == 404 && op->pages == 0) {
		/* No referrers API (distribution 2.8): the OCI 1.1 fallback
		 * is an index at tag "sha256-<hex>". */
		tag = tg_registry_digest_tag(op->reference, "");
		error = tg_registry_get_manifest_async(
		        op->reg, op->registry, op->repo, tag,
		        referrers_fallback_done, op);
		free(tag);
	} else if (r->status != 200) {
		error = status_error(op, r);
	} else {
		error = referrers_page(op, r);
	}
	tg_http_response_free(r);
	if (error < 0)
		op_fail(op, error);
}

/*
 * Name the op in a transfer failure and, when a TLS handshake met a
 * plain-HTTP server (OpenSSL: "wrong version number"), say what to do.
 */
static int network_error(const struct op *op, int code)
{
	char *detail;

	if (code != TG_ENET || strcmp(op_scheme(op), "https") ||
	    !strstr(tg_error_last(), "wrong version number"))
		return tg_error_prefix(code, "%s", op->name);
	detail = tg_strdup(tg_error_last());
	tg_error_set(code,
	             "%s: %s; if %s serves plain HTTP, list it as an insecure "
	             "registry",
	             op->name, detail, op->registry);
	free(detail);
	return code;
}

/*
 * The probe request of a host got its answer (auth learned, or none
 * needed, or a failure): send the requests that waited for it. A failed
 * probe leaves the host unknown, so the first of them probes again.
 */
static void host_release(struct host *h)
{
	struct op *op, *list = h->waiters;
	int error;

	h->probing = false;
	h->waiters = NULL;
	while ((op = list)) {
		list = op->next;
		op->next = NULL;
		if ((error = op_send(op)) < 0)
			op_error(op, error);
	}
}

static void
on_response(tg_http *http, int result, tg_http_response *r, void *ctx)
{
	struct op *op = ctx;
	tg_registry *reg = op->reg;
	struct host *h = NULL;
	int error;

	(void)http;
	if (op->probe) {
		op->probe = false;
		h = host_get(reg, op->host);
	}
	if (result < 0) {
		tg_http_response_free(r);
		op_error(op, network_error(op, result));
		if (h)
			host_release(h);
		return;
	}
	if (r->status == 401) {
		error = op_handle_401(op, r);
		tg_http_response_free(r);
		if (error < 0)
			op_error(op, error);
		if (h)
			host_release(h);
		return;
	}
	if (h) {
		if (h->auth == AUTH_UNKNOWN)
			h->auth = AUTH_NONE;
		host_release(h);
	}
	switch (op->kind) {
	case OP_PING:
		error = r->status == 200 ? 0 : status_error(op, r);
		tg_http_response_free(r);
		op->done.ping(error, op->ctx);
		op_free(op);
		break;
	case OP_MANIFEST:
	case OP_BLOB:
		content_response(op, r);
		break;
	case OP_REFERRERS:
		referrers_response(op, r);
		break;
	}
}

/* Operations
 * ------------------------------------------------------------------- */

/* "host", "host:port", "[v6]:port": no '/', '@', spaces or controls. */
static bool registry_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(".-:[]_", s[i]))
			return false;
	return true;
}

/* Distribution spec path components: [a-z0-9]+ joined by '.', '_', '__',
 * '-'+ and '/'; we check the character set and the path shape, which is
 * what keeps the URL ours. */
static bool repository_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255 || !tg_path_is_safe_relative(s))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && !strchr("._-/", s[i]))
			return false;
	return true;
}

/* A tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) or a valid digest. */
static bool reference_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (tg_digest_is_valid(s))
		return true;
	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int op_new(struct op **out,
                  tg_registry *reg,
                  enum op_kind kind,
                  const char *registry,
                  const char *repo,
                  const char *ref)
{
	struct op *op;

	*out = NULL;
	if (!registry || !registry_name_ok(registry))
		return tg_error_set(TG_EINVALID,
		                    "invalid registry name \"%.100s\"",
		                    registry ? registry : "");
	if (kind != OP_PING && (!repo || !repository_ok(repo)))
		return tg_error_set(TG_EINVALID,
		                    "%s: invalid repository name "
		                    "\"%.300s\"",
		                    registry, repo ? repo : "");
	if (kind != OP_PING && (!ref || !reference_ok(ref)))
		return tg_error_set(
		        TG_EINVALID, "%s/%s: invalid %s \"%.200s\"", registry,
		        repo, kind == OP_MANIFEST ? "tag or digest" : "digest",
		        ref ? ref : "");
	if ((kind == OP_BLOB || kind == OP_REFERRERS) &&
	    !tg_digest_is_valid(ref))
		return tg_error_set(TG_EINVALID, "%s/%s: invalid digest \"%s\"",
		                    registry, repo, ref);
	op = tg_calloc(1, sizeof(*op));
	op->reg = reg;
	op->all_next = reg->ops;
	if (reg->ops)
		reg->ops->all_prev = op;
	reg->ops = op;
	op->kind = kind;
	op->registry = tg_strdup(registry);
	op->host = tg_strdup(tg_registry_api_host(registry));
	if (kind == OP_PING) {
		op->name = tg_strdup(registry);
		op->path = tg_strdup("/v2/");
		op->max_bytes = TG_MAX_SMALL_RESPONSE_BYTES;
		*out = op;
		return 0;
	}
	op->repo = tg_strdup(repo);
	op->reference = tg_strdup(ref);
	op->scope = tg_aprintf("repository:%s:pull", repo);
	op->name = tg_aprintf("%s/%s%c%s", registry, repo,
	                      tg_digest_is_valid(ref) ? '@' : ':', ref);
	*out = op;
	return 0;
}

static void ready_push(tg_registry *reg, struct op *op)
{
	op->next = NULL;
	if (reg->ready_tail)
		reg->ready_tail->next = op;
	else
		reg->ready = op;
	reg->ready_tail = op;
}

/*
 * Start a manifest-by-digest or blob op: from the cache (delivered by
 * tg_registry_run), behind an identical fetch in flight, or by sending.
 */
static int op_start_content(struct op *op)
{
	tg_registry *reg = op->reg;
	const struct cache_entry *e;
	struct inflight *f;
	char *key;
	int error;

	if (!tg_digest_is_valid(op->reference))
		return op_send(op);
	if ((e = cache_get(reg, op->host, op->reference))) {
		op->ready_ct =
		        e->content_type ? tg_strdup(e->content_type) : NULL;
		op->ready_data = tg_malloc(e->len + 1);
		memcpy(op->ready_data, e->data, e->len + 1);
		op->ready_len = e->len;
		ready_push(reg, op);
		return 0;
	}
	key = tg_aprintf("%s %s %s", op->host, op->repo, op->reference);
	for (f = reg->inflight; f; f = f->next) {
		if (!strcmp(f->key, key)) {
			free(key);
			op->next = f->waiters;
			f->waiters = op;
			return 0;
		}
	}
	f = tg_calloc(1, sizeof(*f));
	f->key = key;
	f->owner = op;
	f->next = reg->inflight;
	reg->inflight = f;
	if ((error = op_send(op)) < 0) {
		f = inflight_take(reg, op);
		free(f->key);
		free(f);
	}
	return error;
}

/* Queue op; on failure op is freed and its callback is NOT called. */
static int op_start(struct op *op)
{
	int error;

	if (op->kind == OP_MANIFEST || op->kind == OP_BLOB)
		error = op_start_content(op);
	else
		error = op_send(op);
	if (error < 0)
		op_free(op);
	return error;
}

int tg_registry_get_manifest_async(tg_registry *reg,
                                   const char *registry,
                                   const char *repository,
                                   const char *reference,
                                   tg_registry_manifest_fn done,
                                   void *ctx)
{
	struct op *op;
	int error;

	if ((error = op_new(&op, reg, OP_MANIFEST, registry, repository,
	                    reference)) < 0)
		return error;
	op->path = tg_aprintf("/v2/%s/manifests/%s", repository, reference);
	op->max_bytes = TG_MAX_MANIFEST_BYTES;
	op->done.manifest = done;
	op->ctx = ctx;
	return op_start(op);
}

int tg_registry_get_blob_async(tg_registry *reg,
                               const char *registry,
                               const char *repository,
                               const char *digest,
                               size_t max_bytes,
                               tg_registry_blob_fn done,
                               void *ctx)
{
	struct op *op;
	int error;

	if ((error = op_new(&op, reg, OP_BLOB, registry, repository, digest)) <
	    0)
		return error;
	op->path = tg_aprintf("/v2/%s/blobs/%s", repository, digest);
	op->max_bytes = max_bytes && max_bytes < TG_MAX_BLOB_BYTES
	                        ? max_bytes
	                        : TG_MAX_BLOB_BYTES;
	op->done.blob = done;
	op->ctx = ctx;
	return op_start(op);
}

int tg_registry_get_referrers_async(tg_registry *reg,
                                    const char *registry,
                                    const char *repository,
                                    const char *digest,
                                    const char *artifact_type,
                                    tg_registry_referrers_fn done,
                                    void *ctx)
{
	struct op *op;
	char *enc;
	int error;

	if ((error = op_new(&op, reg, OP_REFERRERS, registry, repository,
	                    digest)) < 0)
		return error;
	if (artifact_type) {
		enc = url_encode(artifact_type);
		op->path = tg_aprintf("/v2/%s/referrers/%s?artifactType=%s",
		                      repository, digest, enc);
		free(enc);
		op->artifact_type = tg_strdup(artifact_type);
	} else {
		op->path =
		        tg_aprintf("/v2/%s/referrers/%s", repository, digest);
	}
	op->max_bytes = TG_MAX_MANIFEST_BYTES;
	op->done.referrers = done;
	op->ctx = ctx;
	return op_start(op);
}

int tg_registry_run(tg_registry *reg)
{
	struct op *op;
	int error;

	for (;;) {
		while ((op = reg->ready)) {
			reg->ready = op->next;
			if (!reg->ready)
				reg->ready_tail = NULL;
			op->next = NULL;
			op_deliver(op, op->reference, op->ready_ct,
			           op->ready_data, op->ready_len);
		}
		if ((error = tg_http_run(reg->http)) < 0)
			return error;
		if (!reg->ready)
			return 0;
	}
}

/* Synchronous calls
 * ------------------------------------------------------------ */

struct sync_result {
	int result;
	void *obj;
	char *detail;
};

static void sync_record(struct sync_result *s, int result, void *obj)
{
	s->result = result;
	s->obj = obj;
	if (result < 0)
		s->detail = tg_strdup(tg_error_last());
}

static void sync_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	sync_record(ctx, result, m);
}

static void sync_blob(int result, tg_blob *b, void *ctx)
{
	sync_record(ctx, result, b);
}

static void sync_referrers(int result, tg_referrers *r, void *ctx)
{
	sync_record(ctx, result, r);
}

static void sync_ping(int result, void *ctx)
{
	sync_record(ctx, result, NULL);
}

/* Run the queued work; return the op's result with its own detail. */
static int sync_finish(void **out, tg_registry *reg, struct sync_result *s)
{
	int error = tg_registry_run(reg);

	if (s->result < 0 || error < 0) {
		if (s->result < 0)
			error = tg_error_set(s->result, "%s", s->detail);
		free(s->detail);
		return error;
	}
	*out = s->obj;
	return 0;
}

int tg_registry_get_manifest(tg_oci_manifest **out,
                             tg_registry *reg,
                             const char *registry,
                             const char *repository,
                             const char *reference)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	int error;

	*out = NULL;
	if ((error = tg_registry_get_manifest_async(reg, registry, repository,
	                                            reference, sync_manifest,
	                                            &s)) < 0)
		return error;
	return sync_finish((void **)out, reg, &s);
}

int tg_registry_get_blob(tg_blob **out,
                         tg_registry *reg,
                         const char *registry,
                         const char *repository,
                         const char *digest,
                         size_t max_bytes)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	int error;

	*out = NULL;
	if ((error = tg_registry_get_blob_async(reg, registry, repository,
	                                        digest, max_bytes, sync_blob,
	                                        &s)) < 0)
		return error;
	return sync_finish((void **)out, reg, &s);
}

int tg_registry_get_referrers(tg_referrers **out,
                              tg_registry *reg,
                              const char *registry,
                              const char *repository,
                              const char *digest,
                              const char *artifact_type)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	int error;

	*out = NULL;
	if ((error = tg_registry_get_referrers_async(reg, registry, repository,
	                                             digest, artifact_type,
	                                             sync_referrers, &s)) < 0)
		return error;
	return sync_finish((void **)out, reg, &s);
}

int tg_registry_ping(tg_registry *reg, const char *registry)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	struct op *op;
	void *unused = NULL;
	int error;

	if ((error = op_new(&op, reg, OP_PING, registry, NULL, NULL)) < 0)
		return error;
	op->done.ping = sync_ping;
	op->ctx = &s;
	if ((error = op_start(op)) < 0)
		return error;
	return sync_finish(&unused, reg, &s);
}
