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

/* The units to render, in the order of the root's entries. */
typedef struct todo {
	tg_render_job *jobs;
	char **names;
	size_t n, cap;
} todo;

/* The result of the unit name (its job) into set. */
static void
add_result(tg_manifest_set *set, const char *name, const tg_render_job *job)
{
	char *what = NULL;

	if (job->error < 0) {
		tg_log(TG_LOG_WARN, "unit not rendered", "unit", name,
		       "renderer", job->renderer, "error", job->message, NULL);
		tg_manifest_set_add_render_error(set, name, job->renderer,
		                                 job->message);
		return;
	}
	/* problems of the output are recorded in the unit */
	tg_discard(tg_manifest_set_add_rendered(set, name, job->renderer,
	                                        job->out, job->len));
	if (reserved_label(&what, tg_manifest_set_unit_by_name(set, name))) {
		tg_manifest_set_add_render_error(set, name, job->renderer,
		                                 what);
		free(what);
	}
	/* the labels were read from the trees: the objects stay as text */
	tg_manifest_unit_drop_trees(tg_manifest_set_unit_by_name(set, name));
}

/* The unit name (directory dir, taken): to render when a renderer
 * matches it (its plain files skipped from now). */
static void unit_dir(todo *t,
                     tg_manifest_set *set,
                     const tg_render *r,
                     const tg_render_fs *fs,
                     const char *name,
                     char *dir)
{
	const char *renderer = NULL;

	if (tg_render_detect(&renderer, r, fs, dir) < 0) {
		tg_manifest_set_skip_unit(set, name);
		tg_manifest_set_add_render_error(set, name, "render",
		                                 tg_error_last());
		tg_error_clear();
	}
	if (!renderer) {
		free(dir);
		return;
	}
	tg_manifest_set_skip_unit(set, name);
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->jobs = tg_realloc(t->jobs, t->cap * sizeof(*t->jobs));
		t->names = tg_realloc(t->names, t->cap * sizeof(char *));
	}
	memset(&t->jobs[t->n], 0, sizeof(t->jobs[t->n]));
	t->jobs[t->n].dir = dir;
	t->jobs[t->n].renderer = renderer;
	t->names[t->n++] = tg_strdup(name);
}

/* One entry of the root: a unit directory to render, or nothing to do. */
static void unit_entry(todo *t,
                       tg_manifest_set *set,
                       const tg_render *r,
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
		return;
	}
	unit_dir(t, set, r, fs, name, dir);
}

int tg_render_units(tg_manifest_set *set,
                    tg_render *r,
                    const tg_render_fs *fs,
                    const char *root)
{
	todo t = { NULL, NULL, 0, 0 };
	char **names = NULL;
	size_t n = 0, i;
	int error;

	if ((error = fs->ops->list(fs->ctx, root, &names, &n)) < 0)
		return error;
	tg_render__cycle_begin(r);
	/* the files directly in the root are the unit _root: a
	 * kustomization (or a plugin's file) there renders it */
	unit_dir(&t, set, r, fs, TG_MANIFEST_ROOT_UNIT, tg_strdup(root));
	for (i = 0; i < n; i++)
		if (names[i][0] != '.' &&
		    strcmp(names[i], TG_MANIFEST_ROOT_UNIT) != 0)
			unit_entry(&t, set, r, fs, root, names[i]);
	/* renderers run at once; results go in the order above */
	tg_render_many(r, fs, t.jobs, t.n);
	for (i = 0; i < t.n; i++) {
		add_result(set, t.names[i], &t.jobs[i]);
		tg_render_job_clear(&t.jobs[i]);
		free((char *)t.jobs[i].dir);
		free(t.names[i]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(t.jobs);
	free(t.names);
	tg_render__cache_prune(r);
	return 0;
}
