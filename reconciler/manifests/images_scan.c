/*
 * Manifests: image-like fields of kinds tollgate does not know. A custom
 * kind can carry an image in any field its operator reads (spec.image,
 * spec.sidecarImage, spec.images[]); tollgate cannot verify or pin what it
 * cannot place, so such a field blocks its unit until imagePaths
 * describes the kind (see reconciler/include/tollgate/manifest.h).
 */
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* Where the walk is: the JSON pointer (to compare with the images found)
 * and the field path shown to people ("spec.images[0]"). */
typedef struct scan_pos {
	tg_buf pointer, field;
	bool too_long;
} scan_pos;

static bool is_image_key(const char *key)
{
	return !strcmp(key, "image") || !strcmp(key, "images") ||
	       tg_str_has_suffix(key, "Image");
}

/* Append member key (or, when key is NULL, element idx) to pos. 0 or
 * TG_ETOOBIG. */
static int pos_push(scan_pos *pos, const char *key, size_t idx)
{
	const char *s;
	int error;

	if (!key) {
		if ((error = tg_buf_printf(&pos->pointer, "/%zu", idx)) < 0)
			return error;
		return tg_buf_printf(&pos->field, "[%zu]", idx);
	}
	error = tg_buf_puts(&pos->pointer, "/");
	for (s = key; *s && error == 0; s++)
		error = tg_buf_puts(&pos->pointer,
		                    *s == '~'   ? "~0"
		                    : *s == '/' ? "~1"
		                                : (char[2]){ *s, 0 });
	if (error == 0 && pos->field.len)
		error = tg_buf_puts(&pos->field, ".");
	return error ? error : tg_buf_puts(&pos->field, key);
}

static void pos_cut(scan_pos *pos, size_t plen, size_t flen)
{
	if (pos->pointer.data) {
		pos->pointer.len = plen;
		pos->pointer.data[plen] = '\0';
	}
	if (pos->field.data) {
		pos->field.len = flen;
		pos->field.data[flen] = '\0';
	}
}

/* The string v at pos, in a field named like an image: an error unless
 * it was extracted as an image or is no image reference at all. */
static void check_string(file_ctx *ctx,
                         tg_manifest_object *obj,
                         const scan_pos *pos,
                         json_t *v)
{
	tg_imageref *ref = NULL;
	char *what, *loc;

	if (!json_is_string(v) ||
	    tg_manifest_image_at(obj,
	                         pos->pointer.data ? pos->pointer.data : ""))
		return;
	if (tg_imageref_parse(&ref, json_string_value(v)) < 0)
		return; /* not an image reference: nothing to place */
	tg_imageref_free(ref);
	what = tg_manifest_object_describe(obj);
	loc = tg_manifest_loc(ctx->set, ctx->path, obj->line);
	tg_manifest_unit_errorf(ctx->set, obj->unit,
	                        "%s: %s: %s looks like an image that "
	                        "tollgate cannot place; declare the kind in "
	                        "imagePaths (or waive it)",
	                        loc, what,
	                        pos->field.data ? pos->field.data : "");
	free(what);
	free(loc);
}

/* The value of an image-named member: a string, or a list of strings. */
static void check_image_field(file_ctx *ctx,
                              tg_manifest_object *obj,
                              scan_pos *pos,
                              json_t *v)
{
	size_t plen = pos->pointer.len, flen = pos->field.len, i;
	json_t *e;

	check_string(ctx, obj, pos, v);
	json_array_foreach(v, i, e) {
		if (pos_push(pos, NULL, i) == 0)
			check_string(ctx, obj, pos, e);
		else
			pos->too_long = true;
		pos_cut(pos, plen, flen);
	}
}

static void
scan(file_ctx *ctx, tg_manifest_object *obj, scan_pos *pos, json_t *v)
{
	size_t plen = pos->pointer.len, flen = pos->field.len, i;
	const char *key;
	json_t *child;

	json_object_foreach(v, key, child) {
		if (pos_push(pos, key, 0) < 0) {
			pos->too_long = true;
		} else {
			if (is_image_key(key))
				check_image_field(ctx, obj, pos, child);
			scan(ctx, obj, pos, child);
		}
		pos_cut(pos, plen, flen);
	}
	json_array_foreach(v, i, child) {
		if (pos_push(pos, NULL, i) < 0)
			pos->too_long = true;
		else
			scan(ctx, obj, pos, child);
		pos_cut(pos, plen, flen);
	}
}

void tg_manifest_scan_image_fields(file_ctx *ctx, tg_manifest_object *obj)
{
	scan_pos pos;

	tg_buf_init(&pos.pointer, TG_MAX_IMAGE_POINTER_BYTES);
	tg_buf_init(&pos.field, TG_MAX_IMAGE_POINTER_BYTES);
	pos.too_long = false;
	scan(ctx, obj, &pos, obj->json);
	/* a field too deep to name could hold an image: fail closed */
	if (pos.too_long)
		tg_manifest_image_error(
		        ctx, obj, "(a field)",
		        "path too long to look for images in it");
	tg_buf_free(&pos.pointer);
	tg_buf_free(&pos.field);
}
