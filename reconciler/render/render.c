/*
 * Rendering a unit (tollgate/render.h): which renderer, the pre-check,
 * the cache, the private tree of the files the unit reaches, and the
 * renderer's run judged into the unit's output or error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "render_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

#define DEFAULT_TIMEOUT_S 60
#define KUSTOMIZE "kustomize"
/* Bytes of a failed renderer's stderr in its message: the message
 * (TG_ERROR_MAX) has room for them, the unit and renderer's names. */
#define STDERR_SHOWN (TG_MAX_RENDER_STDERR - 512)

static char **strv_dup(const char *const *v, size_t n)
{
	char **out = tg_calloc(n + 1, sizeof(char *));
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = tg_strdup(v[i]);
	return out;
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* One renderer per online CPU, within TG_MAX_RENDER_PARALLEL. */
static size_t default_parallel(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1                        ? 1
	       : n > TG_MAX_RENDER_PARALLEL ? TG_MAX_RENDER_PARALLEL
	                                    : (size_t)n;
}

int tg_render_new(tg_render **out, const tg_render_options *o)
{
	static const char *const kbuild[] = { "kustomize", "build" };
	static const char *const kubectl[] = { "kubectl", "kustomize" };
	tg_render *r = tg_calloc(1, sizeof(*r));
	char *found;
	size_t i;

	if (o->kustomize_command && o->nkustomize_command) {
		r->kcmd = strv_dup(o->kustomize_command, o->nkustomize_command);
		r->nkcmd = o->nkustomize_command;
	} else {
		/* kubectl embeds kustomize v5 (`kubectl kustomize DIR`) */
		found = tg_render__which("kustomize");
		r->kcmd = strv_dup(found ? kbuild : kubectl, 2);
		r->nkcmd = 2;
		free(found);
	}
	r->ktimeout = o->kustomize_timeout > 0 ? o->kustomize_timeout
	                                       : DEFAULT_TIMEOUT_S;
	r->plugins = tg_calloc(o->nplugins + 1, sizeof(*r->plugins));
	for (i = 0; i < o->nplugins; i++) {
		const tg_config_render_plugin *p = &o->plugins[i];

		r->plugins[i].name = tg_strdup(p->name);
		r->plugins[i].detect =
		        strv_dup((const char *const *)p->detect, p->ndetect);
		r->plugins[i].ndetect = p->ndetect;
		r->plugins[i].command =
		        strv_dup((const char *const *)p->command, p->ncommand);
		r->plugins[i].ncommand = p->ncommand;
		r->plugins[i].timeout =
		        p->timeout > 0 ? p->timeout : DEFAULT_TIMEOUT_S;
	}
	r->nplugins = o->nplugins;
	r->state_dir = o->state_dir ? tg_strdup(o->state_dir) : NULL;
	r->parallel = o->parallel ? o->parallel : default_parallel();
	r->cache_cycles =
	        o->cache_cycles ? o->cache_cycles : TG_RENDER_CACHE_CYCLES;
	r->cache_max_bytes = o->cache_max_bytes ? o->cache_max_bytes
	                                        : TG_MAX_RENDER_CACHE_BYTES;
	r->stale_s = r->ktimeout;
	for (i = 0; i < o->nplugins; i++)
		if (r->plugins[i].timeout > r->stale_s)
			r->stale_s = r->plugins[i].timeout;
	r->stale_s += 300;
	*out = r;
	return 0;
}

void tg_render_free(tg_render *r)
{
	if (!r)
		return;
	strv_free(r->kcmd);
	for (size_t i = 0; i < r->nplugins; i++) {
		free(r->plugins[i].name);
		strv_free(r->plugins[i].detect);
		strv_free(r->plugins[i].command);
	}
	free(r->plugins);
	free(r->state_dir);
	free(r);
}

size_t tg_render_runs(const tg_render *r)
{
	return r->runs;
}

size_t tg_render_cache_hits(const tg_render *r)
{
	return r->hits;
}

/* Detection ----------------------------------------------------------- */

/* Whether the file name exists in dir (a file, symlinks followed). */
static int
has_file(bool *out, const tg_render_fs *fs, const char *dir, const char *name)
{
	char *p = *dir ? tg_aprintf("%s/%s", dir, name) : tg_strdup(name);
	char id[TG_RENDER_ID_HEX];
	tg_render_kind kind = TG_RENDER_MISSING;
	int error = fs->ops->stat(fs->ctx, p, &kind, id);

	free(p);
	*out = error == 0 && kind == TG_RENDER_FILE;
	return error;
}

/* The first detect file of plugin p present in dir, or NULL. */
static int plugin_match(const char **file_out,
                        const tg_render_fs *fs,
                        const char *dir,
                        const tg_config_render_plugin *p)
{
	size_t i;
	bool has;
	int error;

	*file_out = NULL;
	for (i = 0; i < p->ndetect; i++) {
		if ((error = has_file(&has, fs, dir, p->detect[i])) < 0)
			return error;
		if (has) {
			*file_out = p->detect[i];
			return 0;
		}
	}
	return 0;
}

int tg_render_detect(const char **name_out,
                     const tg_render *r,
                     const tg_render_fs *fs,
                     const char *dir)
{
	const char *kfile = NULL, *file, *first_file = NULL;
	size_t i;
	int error;

	*name_out = NULL;
	if ((error = tg_render__kust_file(&kfile, fs, dir)) < 0)
		return error;
	if (kfile) {
		*name_out = KUSTOMIZE;
		first_file = kfile;
	}
	for (i = 0; i < r->nplugins; i++) {
		if ((error = plugin_match(&file, fs, dir, &r->plugins[i])) < 0)
			return error;
		if (!file)
			continue;
		if (*name_out) {
			const char *first = *name_out;

			*name_out = NULL;
			return tg_error_set(
			        TG_EINVALID,
			        "matched by two renderers: %s%s (%s) and "
			        "plugin %s (%s); keep one of them",
			        strcmp(first, KUSTOMIZE) ? "plugin " : "",
			        first, first_file, r->plugins[i].name, file);
		}
		*name_out = r->plugins[i].name;
		first_file = file;
	}
	return 0;
}

/* Private trees ------------------------------------------------------ */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

void tg_render__rm_tree(const char *dir)
{
	if (dir)
		(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of the directories of a tree-relative path below top. */
static int make_parents(const char *top, const char *rel)
{
	char *p = tg_path_join(top, rel), *s;
	int error = 0;

	for (s = p + strlen(top) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			error = tg_error_set(TG_EIO, "%s: %s", p,
			                     strerror(errno));
		*s = '/';
		if (error)
			break;
	}
	free(p);
	return error;
}

/* Whether path lies below a directory of reach other than itself. */
static bool covered(const tg_render__reach *reach, const char *path)
{
	size_t i, n;

	for (i = 0; i < reach->n; i++) {
		if (reach->v[i].kind != TG_RENDER_DIR)
			continue;
		n = strlen(reach->v[i].path);
		if (!strcmp(reach->v[i].path, path))
			continue;
		if (n == 0 ||
		    (!strncmp(path, reach->v[i].path, n) && path[n] == '/'))
			return true;
	}
	return false;
}

/* Write every reached tree and file into top. */
static int write_tree(const tg_render_fs *fs,
                      const tg_render__reach *reach,
                      const char *top)
{
	tg_render__budget budget = { 0, 0 };
	size_t i;
	int error = 0;

	for (i = 0; i < reach->n && !error; i++) {
		const char *p = reach->v[i].path;
		char *dest;

		if (covered(reach, p))
			continue;
		if (!*p) {
			error = tg_render__export(fs, "", top, &budget);
			continue;
		}
		if ((error = make_parents(top, p)) < 0)
			break;
		dest = tg_path_join(top, p);
		error = tg_render__export(fs, p, dest, &budget);
		free(dest);
	}
	return error;
}

/* Running ------------------------------------------------------------ */

/* stderr as one trimmed line for the unit's message. */
static char *trim_stderr(const char *err)
{
	char *s = tg_strdup(err ? err : ""), *p;
	size_t n;

	for (p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (p = s; *p == ' '; p++)
		;
	memmove(s, p, strlen(p) + 1);
	n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}

/* Whether a finished run failed in a way whose message quotes stderr. */
static bool failed(const tg_render__run *run)
{
	return !run->timed_out && !run->too_big &&
	       (WIFSIGNALED(run->status) || WEXITSTATUS(run->status) != 0);
}

/* The verdict on a finished run: 0, or the reason as an error. */
static int judge(const tg_render__run *run, const char *renderer)
{
	char *err;
	int error = 0;

	if (run->timed_out)
		return tg_error_set(TG_ERROR,
		                    "%s did not finish within %llds (its "
		                    "timeout); killed",
		                    renderer, (long long)run->timeout_s);
	if (run->too_big)
		return tg_error_set(TG_ETOOBIG,
		                    "%s wrote more than %u bytes "
		                    "(TG_MAX_RENDER_OUTPUT); refused",
		                    renderer, TG_MAX_RENDER_OUTPUT);
	err = trim_stderr(run->err);
	if (WIFSIGNALED(run->status))
		error = tg_error_set(TG_ERROR, "%s was killed by signal %d%s%s",
		                     renderer, WTERMSIG(run->status),
		                     *err ? ": " : "", err);
	else if (WEXITSTATUS(run->status) != 0)
		error = tg_error_set(TG_ERROR, "%s failed (exit status %d)%s%s",
		                     renderer, WEXITSTATUS(run->status),
		                     *err ? ": " : "", err);
	free(err);
	return error;
}

/* The argv of the renderer and the directory it runs in (below top). */
static char **make_argv(char **cwd_out,
                        const tg_render *r,
                        const char *renderer,
                        const char *dir,
                        const char *top,
                        int64_t *timeout)
{
	size_t i;
	char **argv;

	if (!strcmp(renderer, KUSTOMIZE)) {
		argv = tg_calloc(r->nkcmd + 4, sizeof(char *));
		for (i = 0; i < r->nkcmd; i++)
			argv[i] = tg_strdup(r->kcmd[i]);
		argv[i++] = tg_strdup(*dir ? dir : ".");
		/* bases and files elsewhere in the repository: the
		 * pre-check kept every path inside it */
		argv[i++] = tg_strdup("--load-restrictor");
		argv[i++] = tg_strdup("LoadRestrictionsNone");
		*cwd_out = tg_strdup(top);
		*timeout = r->ktimeout;
		return argv;
	}
	for (i = 0; i < r->nplugins; i++)
		if (!strcmp(r->plugins[i].name, renderer))
			break;
	argv = strv_dup((const char *const *)r->plugins[i].command,
	                r->plugins[i].ncommand);
	*cwd_out = *dir ? tg_path_join(top, dir) : tg_strdup(top);
	*timeout = r->plugins[i].timeout;
	return argv;
}

/* What the unit reaches: its kustomizations, or its own directory. */
static int reach_of(tg_render__reach *reach,
                    const tg_render_fs *fs,
                    const char *dir,
                    const char *renderer)
{
	tg_render_kind kind;
	char id[TG_RENDER_ID_HEX] = "";
	int error;

	if (!strcmp(renderer, KUSTOMIZE))
		return tg_render__kust_check(reach, fs, dir);
	if ((error = fs->ops->stat(fs->ctx, dir, &kind, id)) < 0)
		return error;
	tg_render__reach_add(reach, dir, TG_RENDER_DIR, id);
	return 0;
}

/* Jobs -------------------------------------------------------------- */

/* One job in the hands of the scheduler. */
typedef struct slot {
	tg_render_job *job;
	tg_render__reach reach;
	char key[65];
	bool cached, busy;
	char *tmp, *top, *cwd;
	tg_render__run run;
} slot;

/* The job failed with error and the message in tg_error_last(). */
static void job_fail(tg_render_job *job, int error)
{
	job->error = error;
	job->message = tg_strdup(tg_error_last());
	tg_error_clear();
}

/* The result of job from the cache: true when there was one. */
static bool from_cache(slot *sl, tg_render *r, const tg_render_fs *fs)
{
	tg_render_job *job = sl->job;
	char *cwd = NULL, **argv;
	int error, hit = 0;

	if ((error = reach_of(&sl->reach, fs, job->dir, job->renderer)) < 0) {
		job_fail(job, error);
		return true;
	}
	argv = make_argv(&cwd, r, job->renderer, job->dir, "",
	                 &sl->run.timeout_s);
	sl->cached = tg_render__cache_key(sl->key, r, argv, &sl->reach);
	strv_free(argv);
	free(cwd);
	if (sl->cached)
		hit = tg_render__cache_get(&job->out, &job->len, &job->message,
		                           r, sl->key);
	if (hit == 2)
		job->error = TG_ERROR;
	return hit != 0;
}

/* The private tree of job under a fresh directory of state_dir/render. */
static int make_tree(slot *sl, tg_render *r, const tg_render_fs *fs)
{
	char *base = NULL;
	int error;

	if ((error = tg_render__state_dir(&base, r)) < 0)
		return error;
	sl->tmp = tg_aprintf("%s/tollgate-render-XXXXXX", base);
	free(base);
	if (!mkdtemp(sl->tmp)) {
		error = tg_error_set(TG_EIO, "%s: %s", sl->tmp,
		                     strerror(errno));
		free(sl->tmp);
		sl->tmp = NULL;
		return error;
	}
	sl->top = tg_path_join(sl->tmp, "tree");
	sl->run.home = tg_path_join(sl->tmp, "home");
	if (mkdir(sl->top, 0700) < 0 || mkdir(sl->run.home, 0700) < 0)
		return tg_error_set(TG_EIO, "%s: %s", sl->tmp, strerror(errno));
	return write_tree(fs, &sl->reach, sl->top);
}

/* Release what the slot holds (the job's results stay). */
static void slot_clear(slot *sl)
{
	tg_render__rm_tree(sl->tmp);
	free((char *)sl->run.home);
	strv_free(sl->run.argv);
	tg_render__run_clear(&sl->run);
	tg_render__reach_free(&sl->reach);
	free(sl->cwd);
	free(sl->top);
	free(sl->tmp);
	memset(sl, 0, sizeof(*sl));
}

/* Take job into sl: done at once (cached, refused, cannot start), or its
 * renderer started (sl->busy). */
static void
slot_start(slot *sl, tg_render *r, const tg_render_fs *fs, tg_render_job *job)
{
	int error;

	memset(sl, 0, sizeof(*sl));
	sl->job = job;
	if (from_cache(sl, r, fs)) {
		slot_clear(sl);
		return;
	}
	if ((error = make_tree(sl, r, fs)) == 0) {
		sl->run.argv = make_argv(&sl->cwd, r, job->renderer, job->dir,
		                         sl->top, &sl->run.timeout_s);
		sl->run.cwd = sl->cwd;
		r->runs++;
		error = tg_render__start(&sl->run);
	}
	if (error < 0) {
		job_fail(job, error);
		slot_clear(sl);
		return;
	}
	sl->busy = true;
}

/* The renderer of sl has ended: judge it, keep the result, clear sl. */
static void slot_end(slot *sl, tg_render *r)
{
	tg_render_job *job = sl->job;
	tg_render__run *run = &sl->run;
	int error;

	if (failed(run)) {
		/* its stderr goes into messages: no Secret value */
		char *safe = tg_render__redact(run->err, STDERR_SHOWN, sl->top,
		                               run->out, run->out_len);

		free(run->err);
		run->err = safe;
	}
	if ((error = judge(run, job->renderer)) == 0) {
		job->out = run->out;
		job->len = run->out_len;
		run->out = NULL;
	} else {
		job_fail(job, error);
	}
	if (sl->cached)
		tg_render__cache_put(r, sl->key, run, job->message, job->out,
		                     job->len);
	slot_clear(sl);
}

/* Wait for the busy slots until one or more ended, and end those. */
static void slots_wait(slot *slots, size_t n, tg_render *r)
{
	tg_render__run **runs = tg_calloc(n, sizeof(*runs));
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (slots[i].busy)
			runs[k++] = &slots[i].run;
	tg_render__wait_any(runs, k);
	for (i = 0; i < n; i++)
		if (slots[i].busy && !slots[i].run.running)
			slot_end(&slots[i], r);
	free(runs);
}

void tg_render_many(tg_render *r,
                    const tg_render_fs *fs,
                    tg_render_job *jobs,
                    size_t n)
{
	size_t nslots = r->parallel < n ? r->parallel : n, next = 0, i;
	slot *slots = tg_calloc(nslots + 1, sizeof(*slots));
	bool busy = true;

	/* the trees are written and the results judged here, one at a
	 * time; only the renderers run at once */
	while (next < n || busy) {
		busy = false;
		for (i = 0; i < nslots; i++) {
			while (!slots[i].busy && next < n)
				slot_start(&slots[i], r, fs, &jobs[next++]);
			busy |= slots[i].busy;
		}
		if (busy)
			slots_wait(slots, nslots, r);
	}
	free(slots);
}

void tg_render_job_clear(tg_render_job *job)
{
	free(job->out);
	free(job->message);
	job->out = job->message = NULL;
	job->len = 0;
	job->error = 0;
}

int tg_render_unit(char **out,
                   size_t *len,
                   tg_render *r,
                   const tg_render_fs *fs,
                   const char *dir,
                   const char *renderer)
{
	tg_render_job job = { dir, renderer, NULL, 0, 0, NULL };
	int error;

	tg_render_many(r, fs, &job, 1);
	*out = job.out;
	*len = job.len;
	job.out = NULL;
	error = job.error;
	if (error < 0)
		tg_discard(tg_error_set(error, "%s", job.message));
	tg_render_job_clear(&job);
	return error;
}
