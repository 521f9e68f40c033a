/*
 * Internals of reconciler/render/ shared by render.c (detection, private
 * trees, cache), kustcheck.c (the pre-check of kustomizations),
 * sandbox.c (running a renderer) and units.c (units into a manifest set).
 */
#ifndef TOLLGATE_RENDER_INT_H
#define TOLLGATE_RENDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/buf.h"
#include "tollgate/render.h"

/* One path a unit reaches: a kustomization's directory or a file. */
typedef struct tg_render__reached {
	char *path;
	tg_render_kind kind;
	char id[TG_RENDER_ID_HEX];
} tg_render__reached;

typedef struct tg_render__reach {
	tg_render__reached *v;
	size_t n, cap;
} tg_render__reach;

void tg_render__reach_free(tg_render__reach *r);

/* Record path (kind, id) in r unless it is there already. */
void tg_render__reach_add(tg_render__reach *r,
                          const char *path,
                          tg_render_kind kind,
                          const char *id);

/*
 * The pre-check: every kustomization reachable from the directory dir of
 * fs, with every path it names, into *out (dir first). 0, or TG_EINVALID
 * with "<file>:<line>: <field>: \"<value>\": <why>" (the first refusal),
 * or the fs's errors.
 */
TG_WUR int tg_render__kust_check(tg_render__reach *out,
                                 const tg_render_fs *fs,
                                 const char *dir);

/* The kustomization file of dir (borrowed name) or NULL; fs errors. */
TG_WUR int tg_render__kust_file(const char **name_out,
                                const tg_render_fs *fs,
                                const char *dir);

/* What a renderer run produced. */
typedef struct tg_render__run {
	char **argv;      /* NULL-terminated */
	const char *cwd;  /* absolute */
	const char *home; /* absolute: HOME and TMPDIR */
	int64_t timeout_s;
	char *out; /* stdout, NUL-terminated */
	size_t out_len;
	char *err;  /* stderr, trimmed to TG_MAX_RENDER_STDERR */
	int status; /* waitpid status */
	bool timed_out;
	bool too_big;
	/* while it runs (sandbox.c) */
	bool running;
	int pid, out_fd, err_fd;
	bool out_open, err_open, err_over, reaped;
	double deadline;
	tg_buf outb, errb;
} tg_render__run;

/*
 * Start r->argv in r->cwd with the clean environment, limits and network
 * isolation of tollgate/render.h. 0 (r->running), or TG_EIO when it
 * could not start.
 */
TG_WUR int tg_render__start(tg_render__run *r);

/*
 * Wait until at least one of the n runs that are running has ended (to
 * its end, its timeout or the output cap; then r->running is false and
 * out, err, status and the flags are set), reading their pipes
 * meanwhile. Runs not running are skipped.
 */
void tg_render__wait_any(tg_render__run **runs, size_t n);

/* Start r and wait for its end: 0 when it ran (whatever its exit status;
 * the caller judges), or TG_EIO when it could not start. */
TG_WUR int tg_render__exec(tg_render__run *r);
void tg_render__run_clear(tg_render__run *r);

/*
 * err (a failed renderer's stderr) cut to max bytes, with every Secret
 * value the private tree top (absolute; NULL: none) or the output out
 * holds masked as "[redacted]" (redact.c says which values). A new
 * string.
 */
char *tg_render__redact(const char *err,
                        size_t max,
                        const char *top,
                        const char *out,
                        size_t out_len);

/* The absolute path of the program cmd (searched in PATH unless it holds
 * a '/'), or NULL when there is none (caller frees). */
char *tg_render__which(const char *cmd);

/* Counts of what one private tree holds, against TG_MAX_RENDER_TREE_*. */
typedef struct tg_render__budget {
	size_t files;
	uint64_t bytes;
} tg_render__budget;

/*
 * Copy the file or directory at path of fs (recursively) to dest, files
 * as the bytes the fs gives (symlinks written as the files they name,
 * under the fs's rules). A directory dest may exist. 0, or TG_EINVALID /
 * TG_ETOOBIG / TG_EIO naming the entry.
 */
TG_WUR int tg_render__export(const tg_render_fs *fs,
                             const char *path,
                             const char *dest,
                             tg_render__budget *budget);

/* A renderer (tollgate/render.h). */
struct tg_render {
	char **kcmd; /* NULL-terminated */
	size_t nkcmd;
	int64_t ktimeout;
	tg_config_render_plugin *plugins; /* copies */
	size_t nplugins;
	char *state_dir;
	size_t parallel;          /* renderers at once, >= 1 */
	size_t cache_cycles;      /* prune entries unused this many cycles */
	uint64_t cache_max_bytes; /* and the oldest beyond this size */
	int64_t stale_s;   /* a private tree older than this is left over */
	int64_t cycle_ns;  /* start of this cycle (coarse wall clock) */
	int64_t oldest_ns; /* start of the oldest of the last cycles, or 0 */
	size_t runs, hits;
};

/*
 * The cache key of a unit (its renderer's argv and everything it
 * reaches, with Git ids) into out; false when there is no cache (no
 * state_dir, or an fs without ids).
 */
bool tg_render__cache_key(char out[65],
                          const tg_render *r,
                          char **argv,
                          const tg_render__reach *reach);

/*
 * The cached result of key: 1 with the output in *out, 2 with the
 * message of the failure in *msg (caller frees), 0 when there is none.
 */
int tg_render__cache_get(
        char **out, size_t *len, char **msg, tg_render *r, const char *key);

/* Keep a result: the output, or (msg not NULL) the message of a failure
 * the same inputs would give again (the renderer ran and refused them;
 * not a timeout, a signal or too much output). */
void tg_render__cache_put(const tg_render *r,
                          const char *key,
                          const struct tg_render__run *run,
                          const char *msg,
                          const char *out,
                          size_t len);

/* Remove the directory dir and everything below it (best effort). */
void tg_render__rm_tree(const char *dir);

/* A cycle begins: its start is recorded in state_dir/render/cycles (the
 * last cache_cycles starts, written atomically). */
void tg_render__cycle_begin(tg_render *r);

/* The cycle ends: remove cache entries not used in the last
 * cache_cycles cycles, then the least recently used beyond
 * cache_max_bytes (never one used this cycle), and what a killed run
 * left behind (temporary files, private trees) older than stale_s. */
void tg_render__cache_prune(tg_render *r);

/* state_dir/render, created (0700: rendered Secrets may be in it), or
 * $TMPDIR (/tmp) without a state_dir, into *out. 0 or TG_EIO. */
TG_WUR int tg_render__state_dir(char **out, const tg_render *r);

#endif
