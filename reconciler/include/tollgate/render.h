/*
 * Rendering (DESIGN.md 1 step 2, 3.4; README.md "Rendering"): a unit
 * directory holding a kustomization (kustomization.yaml, .yml or
 * Kustomization) is rendered with kustomize, one matched by a render
 * plugin's detect files by that plugin; other units are plain YAML.
 *
 * Only the commit's files: the renderer reads a private copy of the files
 * the unit reaches, written from a tg_render_fs (the verified commit's
 * object database, or a directory for `tollgate manifests`). Before
 * kustomize runs, every kustomization the unit reaches is read and
 * refused, naming the file, line, field and value, when it names a URL or
 * Git reference, an absolute path or one leaving the repository, a path
 * missing from the commit, helmCharts, or a generator, transformer or
 * validator that is not one of kustomize's built-in plugins (they run
 * programs or KRM functions). The renderer runs with a clean environment
 * (PATH, HOME and TMPDIR in its private directory, nothing else), in a new
 * network namespace where the system allows it, within its timeout (the
 * process group is killed), TG_MAX_RENDER_OUTPUT bytes of output and
 * TG_MAX_RENDER_MEMORY of address space. Output that is not YAML, too big,
 * or holding an object with a tollgate.dev/ label is refused.
 *
 * The output is cached under state_dir/render/ keyed by the renderer's
 * argv and the ids of the trees and files the unit reaches, so a cycle
 * with nothing changed runs no renderer.
 */
#ifndef TOLLGATE_RENDER_H
#define TOLLGATE_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"

/* What is at a path of a tg_render_fs. */
typedef enum {
	TG_RENDER_MISSING = 0,
	TG_RENDER_FILE = 1,
	TG_RENDER_DIR = 2,
} tg_render_kind;

/* Hex id of a Git object plus NUL ("" when the fs has no ids). */
#define TG_RENDER_ID_HEX 65

/*
 * A read-only tree of files, paths relative to its top ("" is the top,
 * components separated by '/', never "." or ".."). Symlinks are followed
 * only to regular files inside the tree, as the manifest reader does; a
 * symlink that is absolute, leaves the tree, dangles, loops or names a
 * directory is refused (TG_EINVALID with a message naming it).
 */
typedef struct tg_render_fs_ops {
	/* What is at path, with its object id when the fs has ids. 0
	 * (TG_RENDER_MISSING when nothing is there) or TG_EINVALID / TG_EIO. */
	int (*stat)(void *ctx,
	            const char *path,
	            tg_render_kind *kind_out,
	            char id_out[TG_RENDER_ID_HEX]);
	/* The bytes of the file at path (NUL-terminated, not counted), at
	 * most max. 0, TG_ENOTFOUND, TG_ETOOBIG, TG_EINVALID or TG_EIO. */
	int (*read)(void *ctx,
	            const char *path,
	            size_t max,
	            char **data_out,
	            size_t *len_out);
	/* Names of the entries of the directory at path (sorted, the
	 * caller frees each and the array). 0 or a negative code. */
	int (*list)(void *ctx, const char *path, char ***names_out, size_t *n);
	void (*free)(void *ctx);
} tg_render_fs_ops;

typedef struct tg_render_fs {
	const tg_render_fs_ops *ops;
	void *ctx;
} tg_render_fs;

/* A directory as a tg_render_fs (symlinks must resolve inside root, which
 * is resolved with realpath). No ids: nothing is cached. 0 or TG_EIO. */
TG_WUR int tg_render_fs_dir(tg_render_fs *out, const char *root);

/* Release fs's context (fs itself is the caller's). */
void tg_render_fs_free(tg_render_fs *fs);

typedef struct tg_render_options {
	/* render.kustomize.command; NULL: [kustomize, build], or [kubectl,
	 * kustomize] when kustomize is not on PATH */
	const char *const *kustomize_command;
	size_t nkustomize_command;
	int64_t kustomize_timeout; /* seconds; 0: 60 */
	const tg_config_render_plugin *plugins;
	size_t nplugins;
	/* renderers run at once; 0: one per online CPU (at most
	 * TG_MAX_RENDER_PARALLEL) */
	unsigned parallel;
	/* cache pruning: entries unused this many cycles (0:
	 * TG_RENDER_CACHE_CYCLES), size cap (0: TG_MAX_RENDER_CACHE_BYTES) */
	size_t cache_cycles;
	uint64_t cache_max_bytes;
	/* cache and private trees live in state_dir/render/; NULL: no
	 * cache, private trees under $TMPDIR (or /tmp) */
	const char *state_dir;
} tg_render_options;

typedef struct tg_render tg_render;

/* A renderer for one or more cycles; the strings of o are copied. */
TG_WUR int tg_render_new(tg_render **out, const tg_render_options *o);
void tg_render_free(tg_render *r);

/*
 * Which renderer the directory dir of fs needs: *name_out is "kustomize",
 * a plugin's name, or NULL for plain YAML (borrowed from r). TG_EINVALID
 * when two match (message naming both), or the fs's errors.
 */
TG_WUR int tg_render_detect(const char **name_out,
                            const tg_render *r,
                            const tg_render_fs *fs,
                            const char *dir);

/*
 * Render the unit directory dir of fs with the renderer detect chose:
 * the YAML stream into *out (NUL-terminated, length *len; the caller
 * frees it). 0, or a negative code with the reason in tg_error_last():
 * a refusal of the pre-check, the renderer's failure with its stderr
 * trimmed, its timeout, too much or bad output.
 */
TG_WUR int tg_render_unit(char **out,
                          size_t *len,
                          tg_render *r,
                          const tg_render_fs *fs,
                          const char *dir,
                          const char *renderer);

/* One unit to render with tg_render_many(). */
typedef struct tg_render_job {
	const char *dir;      /* the unit directory of fs */
	const char *renderer; /* what tg_render_detect() chose */
	/* the result: the YAML stream (NUL-terminated) and 0, or no output,
	 * a negative code and the reason (as tg_render_unit() gives) */
	char *out;
	size_t len;
	int error;
	char *message;
} tg_render_job;

/*
 * Render the n jobs as tg_render_unit() would each, running up to the
 * renderer's `parallel` renderers at once; each job's result is its own,
 * whatever order the renderers end in. fs is read by the caller's thread
 * only (private trees are written one at a time).
 */
void tg_render_many(tg_render *r,
                    const tg_render_fs *fs,
                    tg_render_job *jobs,
                    size_t n);

/* Free a job's results. */
void tg_render_job_clear(tg_render_job *job);

/* Renderer processes started and cache hits since tg_render_new. */
size_t tg_render_runs(const tg_render *r);
size_t tg_render_cache_hits(const tg_render *r);

/*
 * Every unit under root (a directory of fs, "" for the top): units that a
 * renderer matches are rendered, added to set with
 * tg_manifest_set_add_rendered() (or failed with the reason), and marked
 * skipped so their plain files are not read as manifests. Call before
 * adding the plain files. 0 or a negative code for the fs itself.
 */
TG_WUR int tg_render_units(tg_manifest_set *set,
                           tg_render *r,
                           const tg_render_fs *fs,
                           const char *root);

/*
 * tg_render_units() over a checkout: dir holds the units, root is the top
 * kustomizations may read (NULL: the top of the Git work tree holding
 * dir, else dir). 0, TG_EIO (a missing directory) or TG_EINVALID (dir
 * not inside root).
 */
TG_WUR int tg_render_units_in_dir(tg_manifest_set *set,
                                  tg_render *r,
                                  const char *dir,
                                  const char *root);

/* Join a tree-relative dir and a relative path, resolving "." and "..";
 * NULL when the result leaves the top of the tree. Caller frees. */
char *tg_render_path_join(const char *dir, const char *rel);

/* The kustomization file names kustomize looks for, in its order. */
extern const char *const tg_render_kustomization_names[];

#endif
