/*
 * Manifests: image extraction (the image fields of pod specs wherever the
 * built-in and configured image paths place them) and digest pinning. See
 * reconciler/include/tollgate/manifest.h for the rules; objects and units
 * are in manifest.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* Image paths ---------------------------------------------------------------
 */

/* Unescape one pointer segment seg[0..n) into *out (~0 is '~', ~1 is
 * '/'). 0 or TG_EINVALID; ptr is the whole pointer, for the message. */
static int parse_segment(char **out, const char *seg, size_t n, const char *ptr)
{
	tg_buf b;
	size_t i;

	tg_buf_init(&b, n + 1);
	for (i = 0; i < n; i++) {
		char c = seg[i], e = i + 1 < n ? seg[i + 1] : '\0';

		if (c == '~' && e != '0' && e != '1') {
			tg_buf_free(&b);
			return tg_error_set(TG_EINVALID,
			                    "image path \"%s\": "
			                    "'~' must be followed by 0 or "
			                    "1",
			                    ptr);
		}
		if (c == '~') {
			c = e == '0' ? '~' : '/';
			i++;
		}
		/* Cannot fail: the segment is at most n bytes. */
		tg_discard(tg_buf_append(&b, &c, 1));
	}
	*out = tg_buf_detach(NULL, &b);
	return 0;
}

/* Split an RFC 6901 pointer into unescaped segments. 0 or TG_EINVALID. */
static int parse_pointer(image_path *ip, const char *ptr)
{
	const char *p = ptr;
	int error;

	if (ptr[0] != '/')
		return tg_error_set(TG_EINVALID,
		                    "image path \"%s\": a JSON "
		                    "pointer must start with '/'",
		                    ptr);
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
		char *seg = NULL;

		if ((error = parse_segment(&seg, p + 1, n, ptr)) < 0)
			return error;
		ip->segs = tg_realloc(ip->segs,
		                      (ip->nsegs + 1) * sizeof(*ip->segs));
		ip->segs[ip->nsegs++] = seg;
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
	ip->declared_only = ptr == NULL;
	if (ptr && (error = parse_pointer(ip, ptr)) < 0) {
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

int tg_manifest_image_paths_add(tg_manifest_set *set,
                                const tg_manifest_options *opts)
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
	for (i = 0; i < opts->nimage_paths; i++) {
		const tg_manifest_image_path *p = &opts->image_paths[i];

		if (!p->kind || !*p->kind)
			return tg_error_set(TG_EINVALID,
			                    "image path %zu: "
			                    "kind is missing",
			                    i);
		/* paths: [] declares the kind: its image-like fields are
		 * not images (the waiver of tg_manifest_scan_image_fields) */
		if (p->npaths == 0 &&
		    (error = add_image_path(set, p->group, p->kind, NULL)) < 0)
			return error;
		for (j = 0; j < p->npaths; j++)
			if ((error = add_image_path(set, p->group, p->kind,
			                            p->paths[j])) < 0)
				return tg_error_prefix(error, "kind %s",
				                       p->kind);
	}
	return 0;
}

/* Images
 * ----------------------------------------------------------------------- */

/* Append a pointer segment with RFC 6901 escaping. 0 or TG_ETOOBIG. */
static int pointer_append(tg_buf *b, const char *seg)
{
	int error = tg_buf_puts(b, "/");

	for (; *seg && error == 0; seg++) {
		if (*seg == '~')
			error = tg_buf_puts(b, "~0");
		else if (*seg == '/')
			error = tg_buf_puts(b, "~1");
		else
			error = tg_buf_append(b, seg, 1);
	}
	return error;
}

tg_manifest_image *tg_manifest_image_at(const tg_manifest_object *obj,
                                        const char *pointer)
{
	return tg_manifest_strmap_get(&obj->image_at, pointer);
}

void tg_manifest_image_error(file_ctx *ctx,
                             tg_manifest_object *obj,
                             const char *where,
                             const char *detail)
{
	char *what = tg_manifest_object_describe(obj);
	char *loc = tg_manifest_loc(ctx->set, ctx->path, obj->line);

	tg_manifest_unit_errorf(ctx->set, obj->unit, "%s: %s: %s: %s", loc,
	                        what, where, detail);
	free(what);
	free(loc);
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
		tg_manifest_image_error(ctx, obj, pointer,
		                        "image is not a string");
		return;
	}
	if (tg_manifest_image_at(obj, pointer))
		return; /* found by a path and by the pod spec walk */
	if (tg_imageref_parse(&ref, json_string_value(value)) < 0) {
		tg_manifest_image_error(ctx, obj, pointer, tg_error_last());
		return;
	}
	img = tg_calloc(1, sizeof(*img));
	img->obj = obj;
	img->pointer = tg_strdup(pointer);
	img->written = tg_strdup(json_string_value(value));
	img->ref = ref;
	ptrvec_push(&obj->images, img);
	tg_manifest_unit_add_image(ctx->set, obj, img);
	tg_manifest_strmap_put(&obj->image_at, pointer, img);
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
		tg_manifest_image_error(ctx, obj, p,
		                        "not a list of containers");
		free(p);
		return;
	}
	json_array_foreach(list, i, c) {
		char *p = tg_aprintf("%s/%s/%zu", base, key, i);
		json_t *image = json_object_get(c, "image");

		if (!json_is_object(c)) {
			tg_manifest_image_error(ctx, obj, p,
			                        "container is not a mapping");
		} else if (image && !json_is_null(image)) {
			char *ip = tg_aprintf("%s/image", p);
			add_image(ctx, obj, ip, image);
			free(ip);
		}
		free(p);
	}
}

/* The image volumes of a pod spec: volumes[].image.reference (an OCI
 * image or artifact mounted read-only; the kubelet pulls it like a
 * container's image, so it is verified and pinned like one). */
static void add_image_volumes(file_ctx *ctx,
                              tg_manifest_object *obj,
                              json_t *spec,
                              const char *base)
{
	json_t *list = json_object_get(spec, "volumes"), *v, *image, *ref;
	size_t i;

	if (!json_is_array(list))
		return; /* absent, or no list the API server would accept */
	json_array_foreach(list, i, v) {
		char *p;

		image = json_object_get(v, "image");
		if (!image || json_is_null(image))
			continue;
		p = tg_aprintf("%s/volumes/%zu/image", base, i);
		ref = json_object_get(image, "reference");
		if (!json_is_object(image)) {
			tg_manifest_image_error(
			        ctx, obj, p, "image volume is not a mapping");
		} else if (ref && !json_is_null(ref)) {
			char *rp = tg_aprintf("%s/reference", p);
			add_image(ctx, obj, rp, ref);
			free(rp);
		}
		free(p);
	}
}

/* The images of the pod spec at pointer: its containers of every list
 * and its image volumes. */
static void add_pod_spec(file_ctx *ctx,
                         tg_manifest_object *obj,
                         json_t *spec,
                         const char *pointer)
{
	/* a pod spec named by a path and found by the walk counts once,
	 * and so do its errors */
	if (tg_manifest_strmap_get(&obj->pod_specs, pointer))
		return;
	/* the value is only a mark: the tree it is in may be dropped */
	tg_manifest_strmap_put(&obj->pod_specs, pointer, obj);
	ptrvec_push(&obj->pod_spec_ptrs, tg_strdup(pointer));
	ptrvec_push(&obj->pod_spec_vals, spec);
	add_container_list(ctx, obj, spec, pointer, "containers");
	add_container_list(ctx, obj, spec, pointer, "initContainers");
	add_container_list(ctx, obj, spec, pointer, "ephemeralContainers");
	add_image_volumes(ctx, obj, spec, pointer);
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
		add_pod_spec(ctx, obj, v, pointer);
	} else {
		tg_manifest_image_error(
		        ctx, obj, pointer,
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
			if (tg_buf_printf(b, "/%zu", k) == 0)
				walk_path(ctx, obj, child, ip, i + 1, b);
			buf_truncate(b, mark);
		}
		return;
	}
	if (!strcmp(ip->segs[i], "*") && json_is_object(v)) {
		json_object_foreach(v, key, child) {
			if (pointer_append(b, key) == 0)
				walk_path(ctx, obj, child, ip, i + 1, b);
			buf_truncate(b, mark);
		}
		return;
	}
	/* A pointer never outgrows its buffer (TG_MAX_IMAGE_POINTER_BYTES);
	 * should it, the branch is not followed. */
	if (!(child = pointer_child(v, ip->segs[i])) ||
	    pointer_append(b, ip->segs[i]) < 0)
		return;
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

/* Whether v is a pod spec wherever it sits: a mapping with a list of
 * containers (or initContainers or ephemeralContainers) of which one is
 * a mapping with an image. Operators nest pod templates anywhere (Argo
 * Rollouts, Knative, Tekton, ...), so shape, not place, decides. */
static bool looks_like_pod_spec(json_t *v)
{
	static const char *const lists[] = { "containers", "initContainers",
		                             "ephemeralContainers" };
	json_t *list, *c;
	size_t i, k;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		list = json_object_get(v, lists[i]);
		json_array_foreach(list, k, c) {
			if (json_object_get(c, "image"))
				return true;
		}
	}
	return false;
}

/* Every pod spec at or below v (b holds v's pointer). A pointer too long
 * to build would hide what is below it: an error, not a skip. */
static void
walk_pod_specs(file_ctx *ctx, tg_manifest_object *obj, json_t *v, tg_buf *b)
{
	size_t mark = b->len, k;
	const char *key;
	json_t *child;
	bool too_long = false;

	if (json_is_object(v) && looks_like_pod_spec(v))
		add_pod_spec(ctx, obj, v, b->data ? b->data : "");
	json_object_foreach(v, key, child) {
		if (!json_is_object(child) && !json_is_array(child))
			continue;
		if (pointer_append(b, key) == 0)
			walk_pod_specs(ctx, obj, child, b);
		else
			too_long = true;
		buf_truncate(b, mark);
	}
	json_array_foreach(v, k, child) {
		if (!json_is_object(child) && !json_is_array(child))
			continue;
		if (tg_buf_printf(b, "/%zu", k) == 0)
			walk_pod_specs(ctx, obj, child, b);
		else
			too_long = true;
		buf_truncate(b, mark);
	}
	if (too_long)
		tg_manifest_image_error(ctx, obj, b->data ? b->data : "",
		                        "path too long to look for images "
		                        "below it");
}

/* API groups of Kubernetes itself, by name (a suffix such as ".k8s.io"
 * would admit any CRD group that ends in it). Their kinds hold images
 * only in pod specs and image volumes, which the walk finds wherever
 * they sit, so their other fields are not scanned. */
static const char *const builtin_groups[] = {
	"",
	"admissionregistration.k8s.io",
	"apiextensions.k8s.io",
	"apiregistration.k8s.io",
	"apps",
	"authentication.k8s.io",
	"authorization.k8s.io",
	"autoscaling",
	"batch",
	"certificates.k8s.io",
	"coordination.k8s.io",
	"discovery.k8s.io",
	"events.k8s.io",
	"extensions",
	"flowcontrol.apiserver.k8s.io",
	"internal.apiserver.k8s.io",
	"networking.k8s.io",
	"node.k8s.io",
	"policy",
	"rbac.authorization.k8s.io",
	"resource.k8s.io",
	"scheduling.k8s.io",
	"storage.k8s.io",
	"storagemigration.k8s.io",
};

bool tg_manifest_kind_is_known(const tg_manifest_set *set,
                               const tg_manifest_object *obj)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_groups) / sizeof(builtin_groups[0]); i++)
		if (!strcmp(builtin_groups[i], obj->group))
			return true;
	for (i = 0; i < set->npaths; i++)
		if (image_path_matches(&set->paths[i], obj))
			return true;
	return false;
}

void tg_manifest_extract_images(file_ctx *ctx, tg_manifest_object *obj)
{
	size_t i;
	tg_buf b;

	for (i = 0; i < ctx->set->npaths; i++) {
		const image_path *ip = &ctx->set->paths[i];

		if (ip->declared_only || !image_path_matches(ip, obj))
			continue;
		tg_buf_init(&b, TG_MAX_IMAGE_POINTER_BYTES);
		walk_path(ctx, obj, obj->json, ip, 0, &b);
		tg_buf_free(&b);
	}
	tg_buf_init(&b, TG_MAX_IMAGE_POINTER_BYTES);
	walk_pod_specs(ctx, obj, obj->json, &b);
	tg_buf_free(&b);
	if (!tg_manifest_kind_is_known(ctx->set, obj))
		tg_manifest_scan_image_fields(ctx, obj);
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

json_t *tg_manifest_pointer_get(json_t *root, const char *pointer)
{
	image_path ip;
	json_t *v = root;
	size_t i;

	memset(&ip, 0, sizeof(ip));
	if (!*pointer)
		return root; /* the whole object is the pod spec */
	if (parse_pointer(&ip, pointer) < 0) {
		tg_error_clear();
		v = NULL;
	}
	for (i = 0; v && i < ip.nsegs; i++)
		v = pointer_child(v, ip.segs[i]);
	image_path_clear(&ip);
	return v;
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

	if (!tg_manifest_image_at(obj, pointer))
		return tg_error_set(TG_ENOTFOUND,
		                    "%s:%u: %s %s: no image at "
		                    "%s",
		                    obj->file, obj->line, obj->kind, obj->name,
		                    pointer);
	if ((error = tg_imageref_parse(&parsed, ref)) < 0)
		return error;
	tg_imageref_free(parsed);
	parent = pointer_parent(tg_manifest_object_load(obj), pointer, &last);
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

void tg_manifest_image_paths_free(tg_manifest_set *set)
{
	size_t i;

	for (i = 0; i < set->npaths; i++)
		image_path_clear(&set->paths[i]);
	free(set->paths);
}
