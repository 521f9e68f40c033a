/*
 * Units into a manifest set (tg_render_units in tollgate/render.h): each
 * directory under the units' root that a renderer matches is rendered and
 * its output becomes the unit's objects; a refusal or failure fails that
 * unit alone, with the reason, and the others go on.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render_int.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

/* The label prefix tollgate writes itself (DESIGN.md 3.5): a renderer
 * that writes it could pose as another unit's or as the inventory. */
#define TOLLGATE_LABEL_PREFIX "tollgate.dev/"

/* The first object of unit carrying a tollgate.dev/ label, described in
 * *what (caller frees), or false. */
static bool reserved_label(char **what, const tg_manifest_unit *unit)
{
	size_t i;

	for (i = 0; i < tg_manifest_unit_object_count(unit); i++) {
		const tg_manifest_object *o = tg_manifest_unit_object(unit, i);
		json_t *labels = json_object_get(
		        json_object_get(tg_manifest_object_json(o), "metadata"),
		        "labels");
		const char *key;
		json_t *v;

		json_object_foreach(labels, key, v) {
			if (!tg_str_has_prefix(key, TOLLGATE_LABEL_PREFIX))
				continue;
			*what = tg_aprintf(
			        "%s %s%s%s: the label %s is tollgate's own; "
			        "the output is refused",
			        tg_manifest_object_kind(o),
			        tg_manifest_object_namespace(o),
			        *tg_manifest_object_namespace(o) ? "/" : "",
			        tg_manifest_object_name(o), key);
			return true;
		}
	}
	return false;
}

/* Render the unit name (directory dir) with renderer into set. */
static void render_one(tg_manifest_set *set,
                       tg_render *r,
                       const tg_render_fs *fs,
                       const char *name,
                       const char *dir,
                       const char *renderer)
{
	char *out = NULL, *what = NULL;
	size_t len = 0;

	if (tg_render_unit(&out, &len, r, fs, dir, renderer) < 0) {
		tg_log(TG_LOG_WARN, "unit not rendered", "unit", name,
		       "renderer", renderer, "error", tg_error_last(), NULL);
		tg_manifest_set_add_render_error(set, name, renderer,
		                                 tg_error_last());
		tg_error_clear();
		return;
	}
	/* problems of the output are recorded in the unit */
	tg_discard(tg_manifest_set_add_rendered(set, name, renderer, out, len));
	free(out);
	if (reserved_label(&what, tg_manifest_set_unit_by_name(set, name))) {
		tg_manifest_set_add_render_error(set, name, renderer, what);
		free(what);
	}
}

/* The unit name (directory dir): rendered when a renderer matches it. */
static void unit_dir(tg_manifest_set *set,
                     tg_render *r,
                     const tg_render_fs *fs,
                     const char *name,
                     const char *dir)
{
	const char *renderer = NULL;

	if (tg_render_detect(&renderer, r, fs, dir) < 0) {
		tg_manifest_set_skip_unit(set, name);
		tg_manifest_set_add_render_error(set, name, "render",
		                                 tg_error_last());
		tg_error_clear();
	} else if (renderer) {
		tg_manifest_set_skip_unit(set, name);
		render_one(set, r, fs, name, dir, renderer);
	}
}

/* One entry of the root: a unit directory to render, or nothing to do. */
static int unit_entry(tg_manifest_set *set,
                      tg_render *r,
                      const tg_render_fs *fs,
                      const char *root,
                      const char *name)
{
	char *dir = *root ? tg_path_join(root, name) : tg_strdup(name);
	char id[TG_RENDER_ID_HEX];
	tg_render_kind kind = TG_RENDER_MISSING;

	/* a bad entry here is the plain reader's to report */
	if (fs->ops->stat(fs->ctx, dir, &kind, id) < 0 ||
	    kind != TG_RENDER_DIR) {
		tg_error_clear();
		free(dir);
		return 0;
	}
	unit_dir(set, r, fs, name, dir);
	free(dir);
	return 0;
}

int tg_render_units(tg_manifest_set *set,
                    tg_render *r,
                    const tg_render_fs *fs,
                    const char *root)
{
	char **names = NULL;
	size_t n = 0, i;
	int error;

	if ((error = fs->ops->list(fs->ctx, root, &names, &n)) < 0)
		return error;
	/* the files directly in the root are the unit _root: a
	 * kustomization (or a plugin's file) there renders it */
	unit_dir(set, r, fs, TG_MANIFEST_ROOT_UNIT, root);
	for (i = 0; i < n && !error; i++)
		if (names[i][0] != '.' &&
		    strcmp(names[i], TG_MANIFEST_ROOT_UNIT) != 0)
			error = unit_entry(set, r, fs, root, names[i]);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}
