/*
 * The OCI source (tollgate/oci_source.h): resolve the artifact's tag over
 * the verify library's registry client, check the manifest's shape, and
 * once the caller has verified the digest, fetch the one layer, unpack it
 * in memory (archive.c) and hand over the files below source.path. The
 * last unpacked archive is kept, so an unchanged digest costs one
 * manifest request per cycle.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "source_int.h"
#include "tollgate/archive.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/manifest.h"
#include "tollgate/oci_source.h"
#include "tollgate/util.h"

/* Bytes of the state file (one URL and one digest). */
#define STATE_MAX_BYTES (16u * 1024)

struct tg_oci_source {
	char *url;
	tg_imageref *ref;
	char *layer_type;
	char *path; /* no leading or trailing '/', "" = root */
	char *state_file;
	tg_oci_manifest *manifest; /* resolved last */
	char last[TG_SOURCE_ID_MAX];
	tg_archive *archive; /* unpacked content of archive_digest */
	char archive_digest[TG_SOURCE_ID_MAX];
};

/* ---- Open and state ----------------------------------------------- */

static void load_state(tg_oci_source *s)
{
	char *data = NULL;
	size_t len = 0;
	json_t *j;
	const char *url, *digest;

	if (tg_file_read(&data, &len, s->state_file, STATE_MAX_BYTES) < 0)
		return; /* none yet: no previous artifact */
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	url = json_string_value(json_object_get(j, "url"));
	digest = json_string_value(json_object_get(j, "digest"));
	if (url && digest && !strcmp(url, s->url) && tg_digest_is_valid(digest))
		tg_strlcpy(s->last, digest, sizeof(s->last));
	json_decref(j);
	free(data);
}

/* Remember digest as the last verified artifact, across runs. A failure
 * only costs the fallback after a restart: logged. */
static void save_state(tg_oci_source *s, const char *digest)
{
	json_t *j = json_pack("{s:s,s:s}", "url", s->url, "digest", digest);
	char *text = json_dumps(j, JSON_SORT_KEYS);

	tg_strlcpy(s->last, digest, sizeof(s->last));
	if (tg_file_write_atomic(s->state_file, text, strlen(text)) < 0)
		tg_log(TG_LOG_WARN, "last verified artifact not saved", "error",
		       tg_error_last(), NULL);
	free(text);
	json_decref(j);
}

static char *normalise_path(const char *p)
{
	size_t n;

	if (!p)
		return tg_strdup("");
	while (*p == '/')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 1 && p[0] == '.')
		n = 0;
	return tg_strndup(p, n);
}

int tg_oci_source_open(tg_oci_source **out, const tg_oci_source_opts *o)
{
	tg_oci_source *s = tg_calloc(1, sizeof(*s));
	int error;

	*out = NULL;
	if (!o->url || !tg_str_has_prefix(o->url, TG_OCI_SOURCE_SCHEME) ||
	    !o->state_dir) {
		error = tg_error_set(TG_EINVALID, "source: an oci:// url and "
		                                  "stateDir are required");
		goto out;
	}
	s->url = tg_strdup(o->url);
	if ((error = tg_imageref_parse(
	             &s->ref, o->url + strlen(TG_OCI_SOURCE_SCHEME))) < 0)
		goto out;
	s->layer_type = tg_strdup(o->layer_type ? o->layer_type
	                                        : TG_OCI_SOURCE_FLUX_LAYER);
	s->path = normalise_path(o->path);
	if (*s->path && !tg_path_is_safe_relative(s->path)) {
		error = tg_error_set(TG_EINVALID,
		                     "source.path \"%s\": not a relative path",
		                     s->path);
		goto out;
	}
	s->state_file = tg_path_join(o->state_dir, TG_OCI_SOURCE_STATE_FILE);
	load_state(s);
	*out = s;
	s = NULL;
out:
	tg_oci_source_free(s);
	return error;
}

/* ---- Resolve ------------------------------------------------------ */

/* The media types of m's layers, for a refusal. Caller frees. */
static char *layer_types(const tg_oci_manifest *m)
{
	tg_buf b;
	size_t i;

	tg_buf_init(&b, TG_ERROR_MAX);
	for (i = 0; i < m->layers_count; i++)
		if (tg_buf_printf(&b, "%s%s", i ? ", " : "",
		                  m->layers[i].media_type) < 0)
			break; /* cut short: the message stays readable */
	return tg_buf_detach(NULL, &b);
}

/* An OCI image manifest with exactly one layer of the configured type. */
static int check_shape(const tg_oci_source *s, const tg_oci_manifest *m)
{
	char *types;
	int error;

	if (m->kind != TG_OCI_MANIFEST_IMAGE ||
	    strcmp(m->media_type, TG_MEDIA_OCI_MANIFEST))
		return tg_error_set(
		        TG_EINVALID,
		        "%s: a %s, not an OCI image manifest (%s); "
		        "push the artifact with flux push "
		        "artifact or oras push",
		        m->name,
		        m->kind == TG_OCI_MANIFEST_INDEX ? "index" : "manifest",
		        m->media_type);
	if (m->layers_count == 1 &&
	    !strcmp(m->layers[0].media_type, s->layer_type))
		return 0;
	types = layer_types(m);
	error = tg_error_set(TG_EINVALID,
	                     "%s: expected exactly one layer of type %s, "
	                     "found %zu%s%s%s",
	                     m->name, s->layer_type, m->layers_count,
	                     m->layers_count ? " (" : "", types,
	                     m->layers_count ? ")" : "");
	free(types);
	return error;
}

int tg_oci_source_resolve(tg_oci_source *s,
                          tg_registry *reg,
                          const char *digest)
{
	tg_oci_manifest *m = NULL;
	int error;

	tg_oci_manifest_free(s->manifest);
	s->manifest = NULL;
	if (!digest)
		digest = s->ref->digest ? s->ref->digest : s->ref->tag;
	if ((error = tg_registry_get_manifest(&m, reg, s->ref->registry,
	                                      s->ref->repository, digest)) < 0)
		return error;
	s->manifest = m;
	return check_shape(s, m);
}

const char *tg_oci_source_digest(const tg_oci_source *s)
{
	return s->manifest ? s->manifest->digest : "";
}

char *tg_oci_source_ref(const tg_oci_source *s)
{
	return tg_imageref_pinned(s->ref, tg_oci_source_digest(s));
}

const char *tg_oci_source_url(const tg_oci_source *s)
{
	return s->url;
}

const char *tg_oci_source_annotation(const tg_oci_source *s, const char *key)
{
	return s->manifest ? tg_oci_manifest_annotation(s->manifest, key)
	                   : NULL;
}

const char *tg_oci_source_last(const tg_oci_source *s)
{
	return s->last;
}

/* ---- Read --------------------------------------------------------- */

/* Fetch the layer of the resolved manifest and unpack it. */
static int fetch_archive(tg_oci_source *s, tg_registry *reg)
{
	const tg_descriptor *l = &s->manifest->layers[0];
	char *name = tg_oci_source_ref(s);
	tg_blob *b = NULL;
	int error;

	if (l->size > TG_MAX_ARCHIVE_LAYER_BYTES) {
		error = tg_error_set(
		        TG_ETOOBIG,
		        "%s: layer of %llu bytes, over the limit "
		        "of %llu",
		        name, (unsigned long long)l->size,
		        (unsigned long long)TG_MAX_ARCHIVE_LAYER_BYTES);
		goto out;
	}
	/* The registry client checks the bytes against the layer digest. */
	if ((error = tg_registry_get_blob(&b, reg, s->ref->registry,
	                                  s->ref->repository, l->digest,
	                                  TG_MAX_ARCHIVE_LAYER_BYTES)) < 0)
		goto out;
	if (b->len != l->size) {
		error = tg_error_set(TG_EUNTRUSTED,
		                     "%s: layer %s is %zu bytes, the manifest "
		                     "says %llu",
		                     name, l->digest, b->len,
		                     (unsigned long long)l->size);
		goto out;
	}
	tg_archive_free(s->archive);
	s->archive = NULL;
	s->archive_digest[0] = '\0';
	/* Every file is kept: renderers read more than manifests. */
	if ((error = tg_archive_unpack(&s->archive, name, b->data, b->len,
	                               NULL)) < 0)
		goto out;
	tg_strlcpy(s->archive_digest, s->manifest->digest,
	           sizeof(s->archive_digest));
out:
	tg_blob_free(b);
	free(name);
	return error;
}

/* The files of the archive below source.path, copied into a tree. */
static int select_files(tg_source_tree **out, tg_oci_source *s)
{
	size_t i, n = strlen(s->path);
	tg_source_tree *t;

	if (!tg_archive_has_dir(s->archive, s->path))
		return tg_error_set(TG_ENOTFOUND,
		                    "%s@%s: source.path \"%s\" is not a "
		                    "directory of the artifact",
		                    s->url, s->archive_digest, s->path);
	t = tg_source__tree_new(s->archive_digest);
	for (i = 0; i < tg_archive_count(s->archive); i++) {
		const tg_archive_file *f = tg_archive_get(s->archive, i);
		char *data;

		if ((n &&
		     (strncmp(f->path, s->path, n) || f->path[n] != '/')) ||
		    !tg_manifest_path_wanted(f->path + (n ? n + 1 : 0)))
			continue;
		data = tg_malloc(f->len + 1);
		memcpy(data, f->data, f->len + 1);
		tg_source__tree_add(t, tg_strdup(f->path + (n ? n + 1 : 0)),
		                    data, f->len);
	}
	tg_source__tree_sort(t);
	*out = t;
	return 0;
}

int tg_oci_source_read(tg_source_tree **out, tg_oci_source *s, tg_registry *reg)
{
	int error;

	*out = NULL;
	if (!s->manifest)
		return tg_error_set(TG_ERROR, "%s: nothing resolved yet",
		                    s->url);
	if (strcmp(s->archive_digest, s->manifest->digest) &&
	    (error = fetch_archive(s, reg)) < 0)
		return error;
	if ((error = select_files(out, s)) < 0)
		return error;
	if (strcmp(s->last, s->archive_digest))
		save_state(s, s->archive_digest);
	return 0;
}

int tg_oci_source_render_fs(struct tg_render_fs *out, tg_oci_source *s)
{
	if (!s->archive)
		return tg_error_set(TG_ERROR, "%s: nothing read yet", s->url);
	tg_source__archive_fs(out, s->archive);
	return 0;
}

void tg_oci_source_free(tg_oci_source *s)
{
	if (!s)
		return;
	free(s->url);
	tg_imageref_free(s->ref);
	free(s->layer_type);
	free(s->path);
	free(s->state_file);
	tg_oci_manifest_free(s->manifest);
	tg_archive_free(s->archive);
	free(s);
}
