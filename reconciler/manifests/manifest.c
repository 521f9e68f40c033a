/*
 * Manifests: objects, units, image extraction and digest pinning. See
 * reconciler/include/tollgate/manifest.h for the rules; the directory walker is
 * in manifest_dir.c.
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

/* A growable array of pointers. */
typedef struct ptrvec {
	void **v;
	size_t n, cap;
} ptrvec;

/* String keys to pointers, open addressing; the keys are owned. */
typedef struct strmap {
	char **keys;
	void **vals;
	size_t n, cap; /* cap is 0 or a power of two */
} strmap;

/* An image location: parsed JSON pointer segments; "*" is a wildcard. */
typedef struct image_path {
	char *group; /* NULL: any */
	char *kind;
	char **segs;
	size_t nsegs;
} image_path;

struct tg_manifest_image {
	tg_manifest_object *obj;
	char *pointer;
	char *written;
	tg_imageref *ref;
};

struct tg_manifest_object {
	tg_manifest_unit *unit;
	char *file;
	unsigned line;
	json_t *json;
	/* borrowed from json */
	const char *api_version, *kind, *ns, *name;
	char *group;
	ptrvec images;
};

struct tg_manifest_unit {
	char *name;
	ptrvec objects;
	ptrvec images; /* borrowed from the objects */
	ptrvec errors; /* borrowed from the set */
};

struct tg_manifest_set {
	ptrvec units;
	bool sorted;
	strmap unit_map;
	strmap object_map; /* identity key -> object */
	ptrvec errors;     /* owned strings */
	image_path *paths;
	size_t npaths;
	char *prefix;
	size_t nfiles, nobjects;
};

/* What the loader knows about the file being added. */
typedef struct file_ctx {
	tg_manifest_set *set;
	tg_manifest_unit *unit;
	const char *path; /* tree-relative */
	char *display;    /* prefix + path, for messages */
	const char *data;
	size_t len;
	tg_yaml_docs *docs_pos; /* the file with positions, for lists */
	bool own_pos;           /* docs_pos is a second parse */
	int pos_failed;
} file_ctx;

/* Pointer vectors ------------------------------------------------------ */

static void ptrvec_push(ptrvec *pv, void *p)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap ? pv->cap * 2 : 8;
		pv->v = tg_realloc(pv->v, pv->cap * sizeof(*pv->v));
	}
	pv->v[pv->n++] = p;
}

/* String map -------------------------------------------------------------- */

/* FNV-1a: fast, and collisions only cost probes (keys are compared). */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static size_t strmap_slot(const strmap *m, const char *key)
{
	size_t i = (size_t)hash_str(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void *strmap_get(const strmap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = strmap_slot(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

static void strmap_grow(strmap *m)
{
	strmap old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->keys = tg_calloc(m->cap, sizeof(*m->keys));
	m->vals = tg_calloc(m->cap, sizeof(*m->vals));
	for (i = 0; i < old.cap; i++) {
		size_t j;

		if (!old.keys[i])
			continue;
		j = strmap_slot(m, old.keys[i]);
		m->keys[j] = old.keys[i];
		m->vals[j] = old.vals[i];
	}
	free(old.keys);
	free(old.vals);
}

/* Insert key (copied); the key must not be present. */
static void strmap_put(strmap *m, const char *key, void *val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		strmap_grow(m);
	i = strmap_slot(m, key);
	m->keys[i] = tg_strdup(key);
	m->vals[i] = val;
	m->n++;
}

static void strmap_free(strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
}

/* Options -------------------------------------------------------------------
 */

/* Split an RFC 6901 pointer into unescaped segments. 0 or TG_EINVALID. */
static int parse_pointer(image_path *ip, const char *ptr)
{
	const char *p = ptr;

	if (ptr[0] != '/')
		return tg_error_set(TG_EINVALID,
		                    "image path \"%s\": a JSON "
		                    "pointer must start with '/'",
		                    ptr);
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1), i;
		tg_buf b;

		tg_buf_init(&b, n + 1);
		for (i = 0; i < n; i++) {
			char c = p[1 + i];

			if (c == '~') {
				char e = i + 1 < n ? p[2 + i] : '\0';
				if (e != '0' && e != '1') {
					tg_buf_free(&b);
					return tg_error_set(
					        TG_EINVALID,
					        "image path \"%s\": "
					        "'~' must be followed by 0 or "
					        "1",
					        ptr);
				}
				c = e == '0' ? '~' : '/';
				i++;
			}
			tg_buf_append(&b, &c, 1);
		}
		ip->segs = tg_realloc(ip->segs,
		                      (ip->nsegs + 1) * sizeof(*ip->segs));
		ip->segs[ip->nsegs++] = tg_buf_detach(NULL, &b);
		p += n + 1;
	}
	return 0;
}

static void image_path_clear(image_path *ip)
{
	size_t i;

	free(ip->group);
	free(ip->kind);
	for (i = 0; i < ip->nsegs; i++)
		free(ip->segs[i]);
	free(ip->segs);
}

static int add_image_path(tg_manifest_set *set,
                          const char *group,
                          const char *kind,
                          const char *ptr)
{
	image_path *ip;
	int error;

	set->paths =
	        tg_realloc(set->paths, (set->npaths + 1) * sizeof(*set->paths));
	ip = &set->paths[set->npaths];
	memset(ip, 0, sizeof(*ip));
	if ((error = parse_pointer(ip, ptr)) < 0) {
		image_path_clear(ip);
		return error;
	}
	ip->group = group ? tg_strdup(group) : NULL;
	ip->kind = tg_strdup(kind);
	set->npaths++;
	return 0;
}

/* The built-in pod spec locations (DESIGN.md 3.4), by API group; the
 * "extensions" group held the workloads before "apps". */
static const struct {
	const char *group, *kind, *pointer;
} builtin_paths[] = {
	{ "", "Pod", "/spec" },
	{ "", "PodTemplate", "/template/spec" },
	{ "", "ReplicationController", "/spec/template/spec" },
	{ "apps", "Deployment", "/spec/template/spec" },
	{ "apps", "StatefulSet", "/spec/template/spec" },
	{ "apps", "DaemonSet", "/spec/template/spec" },
	{ "apps", "ReplicaSet", "/spec/template/spec" },
	{ "extensions", "Deployment", "/spec/template/spec" },
	{ "extensions", "DaemonSet", "/spec/template/spec" },
	{ "extensions", "ReplicaSet", "/spec/template/spec" },
	{ "batch", "Job", "/spec/template/spec" },
	{ "batch", "CronJob", "/spec/jobTemplate/spec/template/spec" },
};

static int add_options(tg_manifest_set *set, const tg_manifest_options *opts)
{
	size_t i, j;
	int error;

	for (i = 0; i < sizeof(builtin_paths) / sizeof(builtin_paths[0]); i++)
		if ((error = add_image_path(set, builtin_paths[i].group,
		                            builtin_paths[i].kind,
		                            builtin_paths[i].pointer)) < 0)
			return error;
	if (!opts)
		return 0;
	tg_manifest_set_default_prefix(set, opts->path_prefix);
	for (i = 0; i < opts->nimage_paths; i++) {
		const tg_manifest_image_path *p = &opts->image_paths[i];

		if (!p->kind || !*p->kind)
			return tg_error_set(TG_EINVALID,
			                    "image path %zu: "
			                    "kind is missing",
			                    i);
		for (j = 0; j < p->npaths; j++)
			if ((error = add_image_path(set, p->group, p->kind,
			                            p->paths[j])) < 0)
				return tg_error_prefix(error, "kind %s",
				                       p->kind);
	}
	return 0;
}

int tg_manifest_set_new(tg_manifest_set **out, const tg_manifest_options *opts)
{
	tg_manifest_set *set = tg_calloc(1, sizeof(*set));
	int error;

	*out = NULL;
	if ((error = add_options(set, opts)) < 0) {
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
	for (i = 0; i < set->npaths; i++)
		image_path_clear(&set->paths[i]);
	free(set->paths);
	strmap_free(&set->unit_map);
	strmap_free(&set->object_map);
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

/* The unit a tree-relative path belongs to (created when new). */
static tg_manifest_unit *unit_for_path(tg_manifest_set *set, const char *path)
{
	const char *slash = strchr(path, '/');
	char *name = slash ? tg_strndup(path, (size_t)(slash - path))
	                   : tg_strdup(TG_MANIFEST_ROOT_UNIT);
	tg_manifest_unit *unit = strmap_get(&set->unit_map, name);

	if (!unit) {
		unit = tg_calloc(1, sizeof(*unit));
		unit->name = name;
		name = NULL;
		strmap_put(&set->unit_map, unit->name, unit);
		ptrvec_push(&set->units, unit);
		set->sorted = false;
	}
	free(name);
	return unit;
}

static void
unit_error(tg_manifest_set *set, tg_manifest_unit *unit, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
unit_error(tg_manifest_set *set, tg_manifest_unit *unit, const char *fmt, ...)
{
	va_list ap;
	tg_buf b;
	char *msg;

	tg_buf_init(&b, 8192);
	va_start(ap, fmt);
	/* Over the cap the message is cut; it stays a useful start. */
	if (tg_buf_vprintf(&b, fmt, ap) < 0)
		tg_buf_puts(&b, "... (message cut)");
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
	if (set->prefix)
		unit_error(set, unit, "%s/%s: %s", set->prefix, path, message);
	else
		unit_error(set, unit, "%s: %s", path, message);
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

/* "Kind ns/name" or "Kind name", for messages. */
static char *describe(const tg_manifest_object *obj)
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

/* Record obj under its identity; on a duplicate, an error in both units. */
static void object_register(file_ctx *ctx, tg_manifest_object *obj)
{
	char *key = tg_aprintf("%zu:%s%zu:%s%zu:%s%zu:%s", strlen(obj->group),
	                       obj->group, strlen(obj->kind), obj->kind,
	                       strlen(obj->ns), obj->ns, strlen(obj->name),
	                       obj->name);
	tg_manifest_object *first = strmap_get(&ctx->set->object_map, key);
	char *what, *who;

	if (!first) {
		strmap_put(&ctx->set->object_map, key, obj);
		free(key);
		return;
	}
	free(key);
	/* the group is part of the identity, so say it */
	who = describe(obj);
	what = obj->group[0] ? tg_aprintf("%s (group %s)", who, obj->group)
	                     : tg_strdup(who);
	free(who);
	unit_error(ctx->set, obj->unit,
	           "%s:%u: %s is defined twice: also at %s%s%s:%u",
	           ctx->display, obj->line, what,
	           ctx->set->prefix ? ctx->set->prefix : "",
	           ctx->set->prefix ? "/" : "", first->file, first->line);
	if (first->unit != obj->unit)
		unit_error(ctx->set, first->unit,
		           "%s%s%s:%u: %s is defined twice: also at %s:%u",
		           ctx->set->prefix ? ctx->set->prefix : "",
		           ctx->set->prefix ? "/" : "", first->file,
		           first->line, what, ctx->display, obj->line);
	free(what);
}

/* Images
 * ----------------------------------------------------------------------- */

/* Append a pointer segment with RFC 6901 escaping. */
static void pointer_append(tg_buf *b, const char *seg)
{
	tg_buf_puts(b, "/");
	for (; *seg; seg++) {
		if (*seg == '~')
			tg_buf_puts(b, "~0");
		else if (*seg == '/')
			tg_buf_puts(b, "~1");
		else
			tg_buf_append(b, seg, 1);
	}
}

static bool object_has_image_at(const tg_manifest_object *obj,
                                const char *pointer)
{
	size_t i;

	for (i = 0; i < obj->images.n; i++)
		if (!strcmp(((tg_manifest_image *)obj->images.v[i])->pointer,
		            pointer))
			return true;
	return false;
}

static void image_error(file_ctx *ctx,
                        tg_manifest_object *obj,
                        const char *pointer,
                        const char *detail)
{
	char *what = describe(obj);

	unit_error(ctx->set, obj->unit, "%s:%u: %s: %s: %s", ctx->display,
	           obj->line, what, pointer, detail);
	free(what);
}

/* The string value at pointer is an image reference. */
static void add_image(file_ctx *ctx,
                      tg_manifest_object *obj,
                      const char *pointer,
                      json_t *value)
{
	tg_manifest_image *img;
	tg_imageref *ref = NULL;

	if (!json_is_string(value)) {
		image_error(ctx, obj, pointer, "image is not a string");
		return;
	}
	if (object_has_image_at(obj, pointer))
		return; /* named by a built-in and a configured path */
	if (tg_imageref_parse(&ref, json_string_value(value)) < 0) {
		image_error(ctx, obj, pointer, tg_error_last());
		return;
	}
	img = tg_calloc(1, sizeof(*img));
	img->obj = obj;
	img->pointer = tg_strdup(pointer);
	img->written = tg_strdup(json_string_value(value));
	img->ref = ref;
	ptrvec_push(&obj->images, img);
	ptrvec_push(&obj->unit->images, img);
}

/* containers, initContainers or ephemeralContainers of a pod spec. */
static void add_container_list(file_ctx *ctx,
                               tg_manifest_object *obj,
                               json_t *spec,
                               const char *base,
                               const char *key)
{
	json_t *list = json_object_get(spec, key), *c;
	size_t i;

	if (!list || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		char *p = tg_aprintf("%s/%s", base, key);
		image_error(ctx, obj, p, "not a list of containers");
		free(p);
		return;
	}
	json_array_foreach(list, i, c) {
		char *p = tg_aprintf("%s/%s/%zu", base, key, i);
		json_t *image = json_object_get(c, "image");

		if (!json_is_object(c)) {
			image_error(ctx, obj, p, "container is not a mapping");
		} else if (image && !json_is_null(image)) {
			char *ip = tg_aprintf("%s/image", p);
			add_image(ctx, obj, ip, image);
			free(ip);
		}
		free(p);
	}
}

/* A value found at an image path: a pod spec or an image string. */
static void add_found(file_ctx *ctx,
                      tg_manifest_object *obj,
                      json_t *v,
                      const char *pointer)
{
	if (json_is_null(v))
		return;
	if (json_is_string(v)) {
		add_image(ctx, obj, pointer, v);
	} else if (json_is_object(v)) {
		add_container_list(ctx, obj, v, pointer, "containers");
		add_container_list(ctx, obj, v, pointer, "initContainers");
		add_container_list(ctx, obj, v, pointer, "ephemeralContainers");
	} else {
		image_error(ctx, obj, pointer,
		            "expected a pod spec or an image string here");
	}
}

/* Cut b back to len bytes (a pointer prefix). */
static void buf_truncate(tg_buf *b, size_t len)
{
	if (b->data) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* The member or element seg of v, or NULL. Array indexes are decimal
 * without leading zeros (RFC 6901 section 4). */
static json_t *pointer_child(json_t *v, const char *seg)
{
	uint64_t idx;

	if (json_is_object(v))
		return json_object_get(v, seg);
	if (!json_is_array(v) || (seg[0] == '0' && seg[1]) ||
	    tg_parse_u64(&idx, seg, strlen(seg), SIZE_MAX) < 0)
		return NULL;
	return json_array_get(v, (size_t)idx);
}

/* Follow segs[i..] from v, branching on "*"; b holds the pointer so far. */
static void walk_path(file_ctx *ctx,
                      tg_manifest_object *obj,
                      json_t *v,
                      const image_path *ip,
                      size_t i,
                      tg_buf *b)
{
	size_t mark = b->len, k;
	const char *key;
	json_t *child;

	if (i == ip->nsegs) {
		add_found(ctx, obj, v, b->data ? b->data : "");
		return;
	}
	if (!strcmp(ip->segs[i], "*") && json_is_array(v)) {
		json_array_foreach(v, k, child) {
			tg_buf_printf(b, "/%zu", k);
			walk_path(ctx, obj, child, ip, i + 1, b);
			buf_truncate(b, mark);
		}
		return;
	}
	if (!strcmp(ip->segs[i], "*") && json_is_object(v)) {
		json_object_foreach(v, key, child) {
			pointer_append(b, key);
			walk_path(ctx, obj, child, ip, i + 1, b);
			buf_truncate(b, mark);
		}
		return;
	}
	if (!(child = pointer_child(v, ip->segs[i])))
		return;
	pointer_append(b, ip->segs[i]);
	walk_path(ctx, obj, child, ip, i + 1, b);
}

/* The kind matches and the group does (or the whole apiVersion, when the
 * configured group has a '/'). */
static bool image_path_matches(const image_path *ip,
                               const tg_manifest_object *obj)
{
	if (strcmp(ip->kind, obj->kind) != 0)
		return false;
	if (!ip->group)
		return true;
	if (strchr(ip->group, '/'))
		return strcmp(ip->group, obj->api_version) == 0;
	return strcmp(ip->group, obj->group) == 0;
}

static void extract_images(file_ctx *ctx, tg_manifest_object *obj)
{
	size_t i;

	for (i = 0; i < ctx->set->npaths; i++) {
		const image_path *ip = &ctx->set->paths[i];
		tg_buf b;

		if (!image_path_matches(ip, obj))
			continue;
		tg_buf_init(&b, 2 * (size_t)TG_MAX_FILE_BYTES);
		walk_path(ctx, obj, obj->json, ip, 0, &b);
		tg_buf_free(&b);
	}
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
		unit_error(ctx->set, ctx->unit, "%s:%u: %s %s", ctx->display,
		           line, field, why);
		object_free(obj);
		return;
	}
	ptrvec_push(&ctx->unit->objects, obj);
	ctx->set->nobjects++;
	object_register(ctx, obj);
	extract_images(ctx, obj);
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
		unit_error(ctx->set, ctx->unit,
		           "%s:%u: lists nested more "
		           "than %d deep",
		           ctx->display, line, TG_MAX_MANIFEST_LIST_DEPTH);
		return;
	}
	json_array_foreach(items, i, item) {
		char *p = tg_aprintf("%s/items/%zu", pointer, i);
		unsigned l = line_at(ctx, doc, p, line);

		if (json_is_null(item))
			;
		else if (!json_is_object(item))
			unit_error(ctx->set, ctx->unit,
			           "%s:%u: list item %zu "
			           "is not a mapping",
			           ctx->display, l, i);
		else if (is_list(item))
			add_list(ctx, item, doc, p, l, depth + 1);
		else
			add_object(ctx, item, l);
		free(p);
	}
}

static void add_docs(file_ctx *ctx, const tg_yaml_docs *docs)
{
	size_t i, n = tg_yaml_docs_count(docs);

	for (i = 0; i < n; i++) {
		json_t *doc = tg_yaml_docs_get(docs, i);
		unsigned line = tg_yaml_docs_line(docs, i);

		if (!doc || json_is_null(doc))
			continue; /* empty document */
		if (!json_is_object(doc))
			unit_error(ctx->set, ctx->unit,
			           "%s:%u: document %zu "
			           "is not a mapping",
			           ctx->display, line, i + 1);
		else if (is_list(doc))
			add_list(ctx, doc, i, "", line, 0);
		else
			add_object(ctx, doc, line);
	}
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
		unit_error(set, ctx.unit, "%s", tg_error_last());
	} else {
		ctx.docs_pos = flags ? docs : NULL;
		add_docs(&ctx, docs);
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
	return strmap_get(&set->unit_map, name);
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

/* Pinning
 * ------------------------------------------------------------------------ */

/* The parent container of the value at pointer and the last segment
 * (unescaped, caller frees), or NULL. Pointers here are ones this module
 * wrote, so they are well-formed. */
static json_t *pointer_parent(json_t *root, const char *pointer, char **last)
{
	image_path ip;
	json_t *v = root;
	size_t i;

	memset(&ip, 0, sizeof(ip));
	*last = NULL;
	if (parse_pointer(&ip, pointer) < 0 || ip.nsegs == 0)
		goto out;
	for (i = 0; v && i + 1 < ip.nsegs; i++)
		v = pointer_child(v, ip.segs[i]);
	if (v) {
		*last = ip.segs[ip.nsegs - 1];
		ip.segs[ip.nsegs - 1] = NULL;
	}
out:
	image_path_clear(&ip);
	return *last ? v : NULL;
}

int tg_manifest_object_set_image(tg_manifest_object *obj,
                                 const char *pointer,
                                 const char *ref)
{
	tg_imageref *parsed = NULL;
	json_t *parent;
	char *last = NULL;
	uint64_t idx;
	int error;

	if (!object_has_image_at(obj, pointer))
		return tg_error_set(TG_ENOTFOUND,
		                    "%s:%u: %s %s: no image at "
		                    "%s",
		                    obj->file, obj->line, obj->kind, obj->name,
		                    pointer);
	if ((error = tg_imageref_parse(&parsed, ref)) < 0)
		return error;
	tg_imageref_free(parsed);
	parent = pointer_parent(obj->json, pointer, &last);
	if (json_is_object(parent))
		error = json_object_set_new(parent, last, json_string(ref));
	else if (json_is_array(parent) &&
	         tg_parse_u64(&idx, last, strlen(last), SIZE_MAX) == 0)
		error = json_array_set_new(parent, (size_t)idx,
		                           json_string(ref));
	else
		error = -1;
	free(last);
	if (error)
		return tg_error_set(TG_ENOTFOUND,
		                    "%s:%u: %s %s: cannot set "
		                    "the image at %s",
		                    obj->file, obj->line, obj->kind, obj->name,
		                    pointer);
	return 0;
}
