/*
 * OCI image manifests and indexes: see include/tollgate/oci_manifest.h.
 *
 * A parser per element of the OCI image spec (descriptor.md, manifest.md,
 * image-index.md): annotations, platform, descriptor, the media type, the
 * image or index body. Every shape is checked before anything is kept.
 */
#include "tollgate/oci_manifest.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci_manifest_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

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

void tg_oci_descriptors_free(tg_descriptor *d, size_t n)
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
	char where[TG_MAX_MANIFEST_WHERE_BYTES];
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
			tg_oci_descriptors_free(*out, i);
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
	tg_oci_descriptors_free(m->layers, m->layers_count);
	tg_oci_descriptors_free(m->manifests, m->manifests_count);
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
	char ctbuf[TG_MAX_CONTENT_TYPE_BYTES];
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
	char digest[TG_DIGEST_STR_LEN + 1];
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
	tg_sha256_digest_str(digest, data, len);
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
