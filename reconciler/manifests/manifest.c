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

static void unit_free(tg_manifest_unit *unit)
{
	size_t i;

	for (i = 0; i < unit->objects.n; i++)
		tg_manifest_object_destroy(unit->objects.v[i]);
	free(unit->objects.v);
	free(unit->images.v);
	free(unit->errors.v);
	free(unit->name);
	free(unit);
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
	if (!set->registering)
		set->parse_errors++;
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

/* Objects and files ----------------------------------------------------------
 */

/* Add one object (a document or a list item) found at line. Its tree is
 * made from its text, walked for images and dropped: the text stays. */
static void add_object(file_ctx *ctx, json_t *json, unsigned line)
{
	tg_manifest_object *obj = tg_calloc(1, sizeof(*obj));
	const char *field = "the object", *why = NULL;

	obj->unit = ctx->unit;
	obj->file = tg_strdup(ctx->path);
	obj->line = line;
	if (tg_manifest_object_make_text(obj, json, &why) < 0 ||
	    tg_manifest_object_check_identity(obj, &field, &why) < 0) {
		char *loc = tg_manifest_loc(ctx->set, ctx->path, line);

		tg_manifest_unit_errorf(ctx->set, ctx->unit, "%s: %s %s", loc,
		                        field, why);
		free(loc);
		tg_manifest_object_destroy(obj);
		return;
	}
	ptrvec_push(&ctx->unit->objects, obj);
	ctx->set->nobjects++;
	tg_manifest_object_register(ctx, obj);
	tg_manifest_extract_images(ctx, obj);
	tg_manifest_object_park(obj);
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

/* Parse data into ctx's unit (or take its objects from the cache). */
static void add_parsed(file_ctx *ctx, const char *data, size_t len)
{
	tg_manifest_set *set = ctx->set;
	unsigned char key[TG_SHA256_LEN];
	size_t errors = set->parse_errors, first = ctx->unit->objects.n;
	tg_yaml_docs *docs = NULL;
	unsigned flags;

	if (set->cache) {
		tg_manifest_cache_key(key, set->cache, false, ctx->path, data,
		                      len);
		if (tg_manifest_cache_restore(ctx, key))
			return;
	}
	ctx->unit->parsed = true;
	/* Lines of list items need positions, which cost memory: only a file
	 * whose text says "List" pays for them up front (line_at() parses
	 * again for a list spelled with escapes). */
	flags = mentions_list(data, len) ? TG_YAML_POSITIONS : 0;
	if (tg_yaml_parse(&docs, ctx->display, data, len, flags) < 0) {
		tg_manifest_unit_errorf(set, ctx->unit, "%s", tg_error_last());
	} else {
		ctx->docs_pos = flags ? docs : NULL;
		tg_manifest_add_docs(ctx, docs);
	}
	tg_yaml_docs_free(docs);
	if (ctx->own_pos)
		tg_yaml_docs_free(ctx->docs_pos);
	/* only what parsed without a problem is kept */
	if (set->cache && set->parse_errors == errors)
		tg_manifest_cache_record(set->cache, key, ctx->unit, first);
}

int tg_manifest_set_add_file(tg_manifest_set *set,
                             const char *path,
                             const char *data,
                             size_t len)
{
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
	add_parsed(&ctx, data, len);
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
	tg_qsort(set->units.v, set->units.n, sizeof(*set->units.v), unit_cmp);
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

void tg_manifest_set_on_image(tg_manifest_set *set,
                              void (*fn)(void *ctx, const char *written),
                              void *ctx)
{
	set->on_image = fn;
	set->on_image_ctx = ctx;
}

void tg_manifest_unit_add_image(tg_manifest_set *set,
                                tg_manifest_object *obj,
                                tg_manifest_image *img)
{
	ptrvec_push(&obj->unit->images, img);
	if (set->on_image)
		set->on_image(set->on_image_ctx, img->written);
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

bool tg_manifest_unit_parsed(const tg_manifest_unit *unit)
{
	return unit->parsed;
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
