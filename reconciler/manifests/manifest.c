/*
 * Manifests: objects and units. See reconciler/include/tollgate/manifest.h
 * for the rules; image extraction and digest pinning are in images.c, the
 * directory walker in manifest_dir.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

int tg_manifest_set_new(tg_manifest_set **out, const tg_manifest_options *opts)
{
	tg_manifest_set *set = tg_calloc(1, sizeof(*set));
	int error;

	*out = NULL;
	if (opts)
		tg_manifest_set_default_prefix(set, opts->path_prefix);
	if ((error = tg_manifest_image_paths_add(set, opts)) < 0) {
		tg_manifest_set_free(set);
		return error;
	}
	set->sorted = true;
	*out = set;
	return 0;
}

/* Freeing -------------------------------------------------------------------
 */

static void object_free(tg_manifest_object *obj)
{
	size_t i;

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
	free(obj->file);
	free(obj->group);
	free(obj);
}

static void unit_free(tg_manifest_unit *unit)
{
	size_t i;

	for (i = 0; i < unit->objects.n; i++)
		object_free(unit->objects.v[i]);
	free(unit->objects.v);
	free(unit->images.v);
	free(unit->errors.v);
	free(unit->name);
	free(unit);
}

void tg_manifest_unit_drop_trees(tg_manifest_unit *unit)
{
	size_t i;

	for (i = 0; i < unit->objects.n; i++) {
		tg_manifest_object *obj = unit->objects.v[i];

		/* what was borrowed from the tree goes with it */
		obj->api_version = obj->kind = obj->ns = obj->name = NULL;
		obj->pod_spec_vals.n = 0;
		json_decref(obj->json);
		obj->json = NULL;
	}
}

void tg_manifest_set_free(tg_manifest_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->units.n; i++)
		unit_free(set->units.v[i]);
	free(set->units.v);
	for (i = 0; i < set->errors.n; i++)
		free(set->errors.v[i]);
	free(set->errors.v);
	tg_manifest_image_paths_free(set);
	tg_manifest_strmap_free(&set->unit_map);
	tg_manifest_strmap_free(&set->object_map);
	tg_manifest_strmap_free(&set->cluster_crds);
	tg_manifest_strmap_free(&set->skipped);
	free(set->prefix);
	free(set);
}

/* Units and errors ----------------------------------------------------------
 */

void tg_manifest_set_default_prefix(tg_manifest_set *set, const char *prefix)
{
	size_t n;

	if (set->prefix || !prefix || !*prefix)
		return;
	/* "dir/" and "dir" give the same messages ("/" stays "/"). */
	n = strlen(prefix);
	while (n > 1 && prefix[n - 1] == '/')
		n--;
	set->prefix = n == 1 && prefix[0] == '/' ? tg_strdup("")
	                                         : tg_strndup(prefix, n);
}

bool tg_manifest_set_is_full(const tg_manifest_set *set)
{
	return set->nfiles >= TG_MAX_TREE_FILES;
}

static bool skipped_path(const tg_manifest_set *set, const char *path);

/* The unit a tree-relative path belongs to (created when new). */
static tg_manifest_unit *unit_for_path(tg_manifest_set *set, const char *path)
{
	const char *slash = strchr(path, '/');

	if (!slash)
		return tg_manifest_unit_named(set, TG_MANIFEST_ROOT_UNIT);
	return tg_manifest_unit_named_n(set, path, (size_t)(slash - path));
}

tg_manifest_unit *tg_manifest_unit_named(tg_manifest_set *set, const char *name)
{
	return tg_manifest_unit_named_n(set, name, strlen(name));
}

tg_manifest_unit *
tg_manifest_unit_named_n(tg_manifest_set *set, const char *s, size_t n)
{
	char *name = tg_strndup(s, n);
	tg_manifest_unit *unit = tg_manifest_strmap_get(&set->unit_map, name);

	if (!unit) {
		unit = tg_calloc(1, sizeof(*unit));
		unit->name = name;
		name = NULL;
		tg_manifest_strmap_put(&set->unit_map, unit->name, unit);
		ptrvec_push(&set->units, unit);
		set->sorted = false;
	}
	free(name);
	return unit;
}

void tg_manifest_unit_errorf(tg_manifest_set *set,
                             tg_manifest_unit *unit,
                             const char *fmt,
                             ...)
{
	va_list ap;
	tg_buf b;
	char *msg;

	tg_buf_init(&b, TG_MAX_MANIFEST_MESSAGE_BYTES);
	va_start(ap, fmt);
	/* Over the cap the message is cut; it stays a useful start. */
	if (tg_buf_vprintf(&b, fmt, ap) < 0)
		/* Cannot fail: a failed printf leaves b empty. */
		tg_discard(tg_buf_puts(&b, "... (message cut)"));
	va_end(ap);
	msg = tg_buf_detach(NULL, &b);
	ptrvec_push(&set->errors, msg);
	ptrvec_push(&unit->errors, msg);
}

static void add_error(tg_manifest_set *set,
                      tg_manifest_unit *unit,
                      const char *path,
                      const char *message)
{
	/* A rendered unit's files are its renderer's to read, under the
	 * renderer's rules (tollgate/render.h). */
	if (set->skipped.n && skipped_path(set, path))
		return;
	if (set->prefix)
		tg_manifest_unit_errorf(set, unit, "%s/%s: %s", set->prefix,
		                        path, message);
	else
		tg_manifest_unit_errorf(set, unit, "%s: %s", path, message);
}

void tg_manifest_set_add_dir_error(tg_manifest_set *set,
                                   const char *path,
                                   const char *message)
{
	char *as_file = tg_aprintf("%s/x", path);

	add_error(set, unit_for_path(set, as_file), path, message);
	free(as_file);
}

void tg_manifest_set_add_error(tg_manifest_set *set,
                               const char *path,
                               const char *message)
{
	add_error(set, unit_for_path(set, path), path, message);
}

bool tg_manifest_path_wanted(const char *path)
{
	const char *p = path;

	if (!(tg_str_has_suffix(path, ".yaml") ||
	      tg_str_has_suffix(path, ".yml") ||
	      tg_str_has_suffix(path, ".json")))
		return false;
	while (p) {
		if (*p == '.')
			return false;
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return true;
}

/* Object identity and validation
 * ------------------------------------------------ */

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
static char *api_group(const char *api_version)
{
	const char *slash = strchr(api_version, '/');

	if (!slash)
		return tg_strdup("");
	if (slash == api_version || !slash[1] || strchr(slash + 1, '/'))
		return NULL;
	return tg_strndup(api_version, (size_t)(slash - api_version));
}

/* Fill the identity fields of obj from its JSON; the message on failure
 * says which field is wrong. */
static int
object_identity(tg_manifest_object *obj, const char **field, const char **why)
{
	json_t *meta, *ns;

	*field = "apiVersion";
	if (!(obj->api_version = member_string(obj->json, "apiVersion", why)))
		return -1;
	if (!(obj->group = api_group(obj->api_version))) {
		*why = "is not \"group/version\" or \"version\"";
		return -1;
	}
	*field = "kind";
	if (!(obj->kind = member_string(obj->json, "kind", why)))
		return -1;
	*field = "metadata";
	meta = json_object_get(obj->json, "metadata");
	*why = meta ? "is not a mapping" : "is missing";
	if (!json_is_object(meta))
		return -1;
	*field = "metadata.name";
	if (!(obj->name = member_string(meta, "name", why))) {
		/* Server-side apply needs a name; say why generateName
		 * (fine with kubectl create) cannot work. */
		if (json_object_get(meta, "generateName"))
			*why = "is missing (generateName cannot be used with "
			       "apply: give the object a name)";
		return -1;
	}
	if ((*why = path_segment_problem(obj->name)))
		return -1;
	*field = "metadata.namespace";
	ns = json_object_get(meta, "namespace");
	obj->ns = "";
	if (!ns || json_is_null(ns))
		return 0;
	*why = "is not a string";
	if (!json_is_string(ns))
		return -1;
	obj->ns = json_string_value(ns);
	if (obj->ns[0] && (*why = path_segment_problem(obj->ns)))
		return -1;
	return 0;
}

/* Objects and files ----------------------------------------------------------
 */

/* Add one object (a document or a list item) found at line. */
static void add_object(file_ctx *ctx, json_t *json, unsigned line)
{
	tg_manifest_object *obj = tg_calloc(1, sizeof(*obj));
	const char *field = NULL, *why = NULL;

	obj->unit = ctx->unit;
	obj->file = tg_strdup(ctx->path);
	obj->line = line;
	obj->json = json_incref(json);
	if (object_identity(obj, &field, &why) < 0) {
		char *loc = tg_manifest_loc(ctx->set, ctx->path, line);

		tg_manifest_unit_errorf(ctx->set, ctx->unit, "%s: %s %s", loc,
		                        field, why);
		free(loc);
		object_free(obj);
		return;
	}
	ptrvec_push(&ctx->unit->objects, obj);
	ctx->set->nobjects++;
	tg_manifest_object_register(ctx, obj);
	tg_manifest_extract_images(ctx, obj);
}

static bool is_list(json_t *doc)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));

	return kind && tg_str_has_suffix(kind, "List") &&
	       json_is_array(json_object_get(doc, "items"));
}

/* Whether "List" occurs in the bytes. */
static bool mentions_list(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (end - p >= 4 && (p = memchr(p, 'L', (size_t)(end - p - 3)))) {
		if (!memcmp(p, "List", 4))
			return true;
		p++;
	}
	return false;
}

/*
 * Line of the node at pointer in document doc, from the file parsed with
 * positions (parsed again here when the first parse had none).
 */
static unsigned
line_at(file_ctx *ctx, size_t doc, const char *pointer, unsigned fallback)
{
	unsigned line;

	if (!ctx->docs_pos && !ctx->pos_failed) {
		if (tg_yaml_parse(&ctx->docs_pos, ctx->display, ctx->data,
		                  ctx->len, TG_YAML_POSITIONS) < 0)
			ctx->pos_failed = 1;
		else
			ctx->own_pos = true;
	}
	if (!ctx->docs_pos)
		return fallback;
	tg_yaml_docs_line_at(&line, NULL, ctx->docs_pos, doc, pointer);
	return line ? line : fallback;
}

static void
not_mapping(file_ctx *ctx, unsigned line, const char *what, size_t i)
{
	char *loc = tg_manifest_loc(ctx->set, ctx->path, line);

	tg_manifest_unit_errorf(ctx->set, ctx->unit,
	                        "%s: %s %zu is not a mapping", loc, what, i);
	free(loc);
}

/* Add the items of a list (document doc, at pointer), lists flattened. */
static void add_list(file_ctx *ctx,
                     json_t *list,
                     size_t doc,
                     const char *pointer,
                     unsigned line,
                     int depth)
{
	json_t *items = json_object_get(list, "items"), *item;
	size_t i;

	if (depth >= TG_MAX_MANIFEST_LIST_DEPTH) {
		char *loc = tg_manifest_loc(ctx->set, ctx->path, line);

		tg_manifest_unit_errorf(ctx->set, ctx->unit,
		                        "%s: lists nested more than %d deep",
		                        loc, TG_MAX_MANIFEST_LIST_DEPTH);
		free(loc);
		return;
	}
	json_array_foreach(items, i, item) {
		char *p = tg_aprintf("%s/items/%zu", pointer, i);
		unsigned l = line_at(ctx, doc, p, line);

		if (json_is_null(item))
			;
		else if (!json_is_object(item))
			not_mapping(ctx, l, "list item", i);
		else if (is_list(item))
			add_list(ctx, item, doc, p, l, depth + 1);
		else
			add_object(ctx, item, l);
		free(p);
	}
}

void tg_manifest_add_docs(file_ctx *ctx, const tg_yaml_docs *docs)
{
	size_t i, n = tg_yaml_docs_count(docs);

	for (i = 0; i < n; i++) {
		json_t *doc = tg_yaml_docs_get(docs, i);
		unsigned line = ctx->no_lines ? 0 : tg_yaml_docs_line(docs, i);

		if (!doc || json_is_null(doc))
			continue; /* empty document */
		if (!json_is_object(doc))
			not_mapping(ctx, line, "document", i + 1);
		else if (is_list(doc))
			add_list(ctx, doc, i, "", line, 0);
		else
			add_object(ctx, doc, line);
	}
}

/* Whether path belongs to a unit marked rendered. */
static bool skipped_path(const tg_manifest_set *set, const char *path)
{
	const char *slash = strchr(path, '/');
	char *name = slash ? tg_strndup(path, (size_t)(slash - path))
	                   : tg_strdup(TG_MANIFEST_ROOT_UNIT);
	bool skip = tg_manifest_strmap_get(&set->skipped, name) != NULL;

	free(name);
	return skip;
}

char *
tg_manifest_loc(const tg_manifest_set *set, const char *file, unsigned line)
{
	const char *p = set->prefix ? set->prefix : "";
	const char *sep = set->prefix ? "/" : "";

	return line ? tg_aprintf("%s%s%s:%u", p, sep, file, line)
	            : tg_aprintf("%s%s%s", p, sep, file);
}

/*
 * Whether path may be added: 0 yes, 1 no (an error was recorded in its
 * unit), or a negative code for the caller.
 */
static int admit_path(tg_manifest_set *set, const char *path)
{
	char *msg;

	if (!tg_path_is_safe_relative(path))
		return tg_error_set(TG_EINVALID,
		                    "manifest path \"%.200s\" is "
		                    "not a safe relative path",
		                    path);
	if (set->nfiles >= TG_MAX_TREE_FILES) {
		if (set->nfiles++ == TG_MAX_TREE_FILES) {
			msg = tg_aprintf("more than %d manifest files in the "
			                 "tree; the rest is ignored",
			                 TG_MAX_TREE_FILES);
			tg_manifest_set_add_error(set, path, msg);
			free(msg);
		}
		return tg_error_set(TG_ETOOBIG, "more than %d manifest files",
		                    TG_MAX_TREE_FILES);
	}
	set->nfiles++;
	if (tg_str_has_prefix(path, TG_MANIFEST_ROOT_UNIT "/")) {
		/* It would merge with the files of the root. */
		tg_manifest_set_add_error(
		        set, path,
		        "the directory name \"" TG_MANIFEST_ROOT_UNIT "\" is "
		        "reserved for the files directly in "
		        "the root; rename it");
		return 1;
	}
	return 0;
}

int tg_manifest_set_add_file(tg_manifest_set *set,
                             const char *path,
                             const char *data,
                             size_t len)
{
	tg_yaml_docs *docs = NULL;
	unsigned flags;
	file_ctx ctx;
	int r;

	if ((r = admit_path(set, path)) != 0)
		return r < 0 ? r : 0;
	if (set->skipped.n && skipped_path(set, path))
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.set = set;
	ctx.unit = unit_for_path(set, path);
	ctx.path = path;
	ctx.display = set->prefix ? tg_aprintf("%s/%s", set->prefix, path)
	                          : tg_strdup(path);
	ctx.data = data;
	ctx.len = len;
	/* Lines of list items need positions, which cost memory: only a file
	 * whose text says "List" pays for them up front (line_at() parses
	 * again for a list spelled with escapes). */
	flags = mentions_list(data, len) ? TG_YAML_POSITIONS : 0;
	if (tg_yaml_parse(&docs, ctx.display, data, len, flags) < 0) {
		tg_manifest_unit_errorf(set, ctx.unit, "%s", tg_error_last());
	} else {
		ctx.docs_pos = flags ? docs : NULL;
		tg_manifest_add_docs(&ctx, docs);
	}
	tg_yaml_docs_free(docs);
	if (ctx.own_pos)
		tg_yaml_docs_free(ctx.docs_pos);
	free(ctx.display);
	return 0;
}

/* Accessors ------------------------------------------------------------------
 */

static int unit_cmp(const void *a, const void *b)
{
	const tg_manifest_unit *ua = *(tg_manifest_unit *const *)a;
	const tg_manifest_unit *ub = *(tg_manifest_unit *const *)b;

	return strcmp(ua->name, ub->name);
}

/* Units are sorted on first read after a change; the set is logically
 * const for callers, so the cast only touches the order. */
static void ensure_sorted(const tg_manifest_set *cset)
{
	tg_manifest_set *set = (tg_manifest_set *)cset;

	if (set->sorted)
		return;
	qsort(set->units.v, set->units.n, sizeof(*set->units.v), unit_cmp);
	set->sorted = true;
}

size_t tg_manifest_set_unit_count(const tg_manifest_set *set)
{
	return set->units.n;
}

tg_manifest_unit *tg_manifest_set_unit(const tg_manifest_set *set, size_t i)
{
	ensure_sorted(set);
	return i < set->units.n ? set->units.v[i] : NULL;
}

tg_manifest_unit *tg_manifest_set_unit_by_name(const tg_manifest_set *set,
                                               const char *name)
{
	return tg_manifest_strmap_get(&set->unit_map, name);
}

size_t tg_manifest_set_error_count(const tg_manifest_set *set)
{
	return set->errors.n;
}

const char *tg_manifest_set_error(const tg_manifest_set *set, size_t i)
{
	return i < set->errors.n ? set->errors.v[i] : NULL;
}

size_t tg_manifest_set_object_count(const tg_manifest_set *set)
{
	return set->nobjects;
}

size_t tg_manifest_set_image_count(const tg_manifest_set *set)
{
	size_t i, n = 0;

	for (i = 0; i < set->units.n; i++)
		n += ((tg_manifest_unit *)set->units.v[i])->images.n;
	return n;
}

size_t tg_manifest_set_invalid_unit_count(const tg_manifest_set *set)
{
	size_t i, n = 0;

	for (i = 0; i < set->units.n; i++)
		n += ((tg_manifest_unit *)set->units.v[i])->errors.n > 0;
	return n;
}

const char *tg_manifest_unit_name(const tg_manifest_unit *unit)
{
	return unit->name;
}

bool tg_manifest_unit_is_valid(const tg_manifest_unit *unit)
{
	return unit->errors.n == 0;
}

size_t tg_manifest_unit_error_count(const tg_manifest_unit *unit)
{
	return unit->errors.n;
}

const char *tg_manifest_unit_error(const tg_manifest_unit *unit, size_t i)
{
	return i < unit->errors.n ? unit->errors.v[i] : NULL;
}

size_t tg_manifest_unit_object_count(const tg_manifest_unit *unit)
{
	return unit->objects.n;
}

tg_manifest_object *tg_manifest_unit_object(const tg_manifest_unit *unit,
                                            size_t i)
{
	return i < unit->objects.n ? unit->objects.v[i] : NULL;
}

size_t tg_manifest_unit_image_count(const tg_manifest_unit *unit)
{
	return unit->images.n;
}

tg_manifest_image *tg_manifest_unit_image(const tg_manifest_unit *unit,
                                          size_t i)
{
	return i < unit->images.n ? unit->images.v[i] : NULL;
}

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
	return obj->json;
}

size_t tg_manifest_object_pod_spec_count(const tg_manifest_object *obj)
{
	return obj->pod_spec_vals.n;
}

json_t *tg_manifest_object_pod_spec(const tg_manifest_object *obj,
                                    size_t i,
                                    const char **pointer)
{
	if (i >= obj->pod_spec_vals.n)
		return NULL;
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
