/*
 * Manifests: one object. Its tree exists while a stage reads it; in
 * between, the object is kept as the compact JSON text its tree was
 * written to when the file was parsed (about a tenth of the tree's
 * memory), with its identity, images and pod spec pointers beside it.
 * Every stage, the image walk included, reads the tree parsed back from
 * that text, so all of them see the very same object; see
 * reconciler/include/tollgate/manifest.h.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

void tg_manifest_object_destroy(tg_manifest_object *obj)
{
	size_t i;

	if (!obj)
		return;
	for (i = 0; i < obj->images.n; i++) {
		tg_manifest_image *img = obj->images.v[i];

		free(img->pointer);
		free(img->written);
		tg_imageref_free(img->ref);
		free(img);
	}
	free(obj->images.v);
	tg_manifest_strmap_free(&obj->image_at);
	tg_manifest_strmap_free(&obj->pod_specs);
	for (i = 0; i < obj->pod_spec_ptrs.n; i++)
		free(obj->pod_spec_ptrs.v[i]);
	free(obj->pod_spec_ptrs.v);
	free(obj->pod_spec_vals.v);
	json_decref(obj->json);
	free(obj->text);
	free(obj->file);
	free(obj->api_version);
	free(obj->kind);
	free(obj->ns);
	free(obj->name);
	free(obj->group);
	free(obj);
}

/* Text and tree ------------------------------------------------------------ */

int tg_manifest_object_make_text(tg_manifest_object *obj,
                                 json_t *tree,
                                 const char **why)
{
	json_error_t err;

	/* Compact, in the order written (jansson keeps insertion order). */
	obj->text = json_dumps(tree, JSON_COMPACT);
	if (!obj->text) {
		*why = "cannot be written as JSON (a key or string that JSON "
		       "cannot carry)";
		return -1;
	}
	obj->text_len = strlen(obj->text);
	obj->json = json_loadb(obj->text, obj->text_len, JSON_ALLOW_NUL, &err);
	if (!obj->json) {
		/* e.g. a key holding a NUL byte: JSON can write it, jansson
		 * cannot read it back, and neither could the apply */
		*why = "cannot be read back as JSON (a key holding a NUL "
		       "byte?)";
		return -1;
	}
	return 0;
}

void tg_manifest_object_park(tg_manifest_object *obj)
{
	if (!obj->text)
		return;
	json_decref(obj->json);
	obj->json = NULL;
	obj->pod_spec_vals.n = 0;
}

/* The pod specs' values in the tree just loaded, from their pointers. */
static void find_pod_specs(tg_manifest_object *obj)
{
	size_t i;

	obj->pod_spec_vals.n = 0;
	for (i = 0; i < obj->pod_spec_ptrs.n; i++) {
		json_t *v = tg_manifest_pointer_get(obj->json,
		                                    obj->pod_spec_ptrs.v[i]);

		/* The pointers were found in a tree parsed from this very
		 * text; a check must never see fewer pod specs than the
		 * image walk did. */
		if (!json_is_object(v)) {
			tg_log(TG_LOG_ERROR, "pod spec not found again", "file",
			       obj->file, "kind", obj->kind, "name", obj->name,
			       "pointer", (const char *)obj->pod_spec_ptrs.v[i],
			       NULL);
			abort();
		}
		ptrvec_push(&obj->pod_spec_vals, v);
	}
}

json_t *tg_manifest_object_load(tg_manifest_object *obj)
{
	json_error_t err;

	if (obj->json || !obj->text)
		return obj->json;
	/* Text that parsed back when it was made: only memory can fail. */
	obj->json = json_loadb(obj->text, obj->text_len, JSON_ALLOW_NUL, &err);
	if (!obj->json) {
		tg_log(TG_LOG_ERROR, "manifest object not readable back",
		       "file", obj->file, "kind", obj->kind, "name", obj->name,
		       "error", err.text, NULL);
		tg_oom(obj->text_len);
	}
	find_pod_specs(obj);
	return obj->json;
}

void tg_manifest_unit_drop_trees(tg_manifest_unit *unit)
{
	size_t i;

	for (i = 0; i < unit->objects.n; i++)
		tg_manifest_object_park(unit->objects.v[i]);
}

/* Identity ------------------------------------------------------------------
 */

char *tg_manifest_object_describe(const tg_manifest_object *obj)
{
	if (obj->ns[0])
		return tg_aprintf("%s %s/%s", obj->kind, obj->ns, obj->name);
	return tg_aprintf("%s %s", obj->kind, obj->name);
}

/*
 * A name or namespace goes into an API URL path: the API server refuses
 * "." and "..", and '/' or '%' would change the path; control characters
 * would garble messages and logs.
 */
static const char *path_segment_problem(const char *s)
{
	const unsigned char *p;

	if (!*s)
		return "is empty";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "may not be \".\" or \"..\"";
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '/' || *p == '%')
			return "may not contain '/' or '%'";
		if (*p < 0x20 || *p == 0x7f)
			return "may not contain control characters";
	}
	return NULL;
}

/* A required non-empty string member; NULL with *why set otherwise. */
static const char *member_string(json_t *o, const char *key, const char **why)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*why = "is missing";
		return NULL;
	}
	if (!json_is_string(v)) {
		*why = "is not a string";
		return NULL;
	}
	if (!json_string_value(v)[0]) {
		*why = "is empty";
		return NULL;
	}
	return json_string_value(v);
}

/* Group of apiVersion: "apps/v1" -> "apps", "v1" -> "". NULL when it has
 * more than one '/' or an empty part. */
char *tg_manifest_api_group(const char *api_version)
{
	const char *slash = strchr(api_version, '/');

	if (!slash)
		return tg_strdup("");
	if (slash == api_version || !slash[1] || strchr(slash + 1, '/'))
		return NULL;
	return tg_strndup(api_version, (size_t)(slash - api_version));
}

/* Check the identity fields of the tree and keep copies of them; the
 * message on failure says which field is wrong. */
int tg_manifest_object_check_identity(tg_manifest_object *obj,
                                      const char **field,
                                      const char **why)
{
	const char *api_version, *kind, *name, *ns = "";
	json_t *meta, *nsv;

	*field = "apiVersion";
	if (!(api_version = member_string(obj->json, "apiVersion", why)))
		return -1;
	if (!(obj->group = tg_manifest_api_group(api_version))) {
		*why = "is not \"group/version\" or \"version\"";
		return -1;
	}
	*field = "kind";
	if (!(kind = member_string(obj->json, "kind", why)))
		return -1;
	*field = "metadata";
	meta = json_object_get(obj->json, "metadata");
	*why = meta ? "is not a mapping" : "is missing";
	if (!json_is_object(meta))
		return -1;
	*field = "metadata.name";
	if (!(name = member_string(meta, "name", why))) {
		/* Server-side apply needs a name; say why generateName
		 * (fine with kubectl create) cannot work. */
		if (json_object_get(meta, "generateName"))
			*why = "is missing (generateName cannot be used with "
			       "apply: give the object a name)";
		return -1;
	}
	if ((*why = path_segment_problem(name)))
		return -1;
	*field = "metadata.namespace";
	nsv = json_object_get(meta, "namespace");
	if (nsv && !json_is_null(nsv)) {
		*why = "is not a string";
		if (!json_is_string(nsv))
			return -1;
		ns = json_string_value(nsv);
		if (ns[0] && (*why = path_segment_problem(ns)))
			return -1;
	}
	obj->api_version = tg_strdup(api_version);
	obj->kind = tg_strdup(kind);
	obj->name = tg_strdup(name);
	obj->ns = tg_strdup(ns);
	return 0;
}

/* Accessors ------------------------------------------------------------------
 */

const tg_manifest_unit *tg_manifest_object_unit(const tg_manifest_object *obj)
{
	return obj->unit;
}

const char *tg_manifest_object_file(const tg_manifest_object *obj)
{
	return obj->file;
}

unsigned tg_manifest_object_line(const tg_manifest_object *obj)
{
	return obj->line;
}

const char *tg_manifest_object_api_version(const tg_manifest_object *obj)
{
	return obj->api_version;
}

const char *tg_manifest_object_group(const tg_manifest_object *obj)
{
	return obj->group;
}

const char *tg_manifest_object_kind(const tg_manifest_object *obj)
{
	return obj->kind;
}

const char *tg_manifest_object_namespace(const tg_manifest_object *obj)
{
	return obj->ns;
}

const char *tg_manifest_object_name(const tg_manifest_object *obj)
{
	return obj->name;
}

json_t *tg_manifest_object_json(const tg_manifest_object *obj)
{
	/* Loading the tree does not change the object a caller sees: the
	 * set stays logically const, as ensure_sorted() in manifest.c. */
	return tg_manifest_object_load((tg_manifest_object *)obj);
}

size_t tg_manifest_object_pod_spec_count(const tg_manifest_object *obj)
{
	return obj->pod_spec_ptrs.n;
}

json_t *tg_manifest_object_pod_spec(const tg_manifest_object *obj,
                                    size_t i,
                                    const char **pointer)
{
	if (i >= obj->pod_spec_ptrs.n)
		return NULL;
	if (!obj->json)
		tg_manifest_object_load((tg_manifest_object *)obj);
	if (pointer)
		*pointer = obj->pod_spec_ptrs.v[i];
	return obj->pod_spec_vals.v[i];
}

size_t tg_manifest_object_image_count(const tg_manifest_object *obj)
{
	return obj->images.n;
}

tg_manifest_image *tg_manifest_object_image(const tg_manifest_object *obj,
                                            size_t i)
{
	return i < obj->images.n ? obj->images.v[i] : NULL;
}

const tg_manifest_object *tg_manifest_image_object(const tg_manifest_image *img)
{
	return img->obj;
}

const char *tg_manifest_image_pointer(const tg_manifest_image *img)
{
	return img->pointer;
}

const char *tg_manifest_image_written(const tg_manifest_image *img)
{
	return img->written;
}

const tg_imageref *tg_manifest_image_ref(const tg_manifest_image *img)
{
	return img->ref;
}
