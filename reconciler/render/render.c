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

struct tg_render {
	char **kcmd; /* NULL-terminated */
	size_t nkcmd;
	int64_t ktimeout;
	tg_config_render_plugin *plugins; /* copies */
	size_t nplugins;
	char *state_dir;
	size_t runs, hits;
};

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

/* Cache -------------------------------------------------------------- */

/*
 * The cache key: the renderer's argv and every tree and file the unit
 * reaches with its Git id (a tree id covers everything below it). false
 * when there is no cache (no state_dir, or an fs without ids).
 */
static bool cache_key(char out[65],
                      const tg_render *r,
                      char **argv,
                      const tg_render__reach *reach)
{
	tg_buf b;
	unsigned char md[TG_SHA256_LEN];
	size_t i;
	bool ok = r->state_dir != NULL;

	tg_buf_init(&b, (size_t)64 * 1024 * 1024);
	for (i = 0; argv[i] && ok; i++)
		ok = tg_buf_printf(&b, "arg %s\n", argv[i]) == 0;
	for (i = 0; i < reach->n && ok; i++)
		ok = reach->v[i].id[0] &&
		     tg_buf_printf(&b, "%s %s %s\n",
		                   reach->v[i].kind == TG_RENDER_DIR ? "tree"
		                                                     : "blob",
		                   reach->v[i].id, reach->v[i].path) == 0;
	if (ok) {
		tg_sha256(md, b.data ? b.data : "", b.len);
		tg_hex_encode(out, md, sizeof(md));
	}
	tg_buf_free(&b);
	return ok;
}

static char *cache_path(const tg_render *r, const char *key, const char *ext)
{
	return tg_aprintf("%s/render/%s.%s", r->state_dir, key, ext);
}

/* Create state_dir/render (0700: rendered Secrets may be in it). */
static int render_dir(char **out, const tg_render *r)
{
	const char *base = r->state_dir;

	if (!base) {
		base = getenv("TMPDIR");
		*out = tg_strdup(base && *base ? base : "/tmp");
		return 0;
	}
	*out = tg_aprintf("%s/render", base);
	if ((mkdir(base, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(*out, 0700) < 0 && errno != EEXIST)) {
		int error = tg_error_set(TG_EIO, "%s: cannot create: %s", *out,
		                         strerror(errno));

		free(*out);
		*out = NULL;
		return error;
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

static void rm_tree(const char *dir)
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

/* Write the private tree under a fresh directory of base and run. */
static int run_in_tree(tg_render__run *run,
                       tg_render *r,
                       const tg_render_fs *fs,
                       const tg_render__reach *reach,
                       const char *base,
                       const char *renderer,
                       const char *dir)
{
	char *tmp = tg_aprintf("%s/tollgate-render-XXXXXX", base);
	char *top = NULL, *cwd = NULL;
	int error;

	if (!mkdtemp(tmp)) {
		error = tg_error_set(TG_EIO, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return error;
	}
	top = tg_path_join(tmp, "tree");
	run->home = tg_path_join(tmp, "home");
	if (mkdir(top, 0700) < 0 || mkdir(run->home, 0700) < 0) {
		error = tg_error_set(TG_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((error = write_tree(fs, reach, top)) < 0)
		goto out;
	run->argv = make_argv(&cwd, r, renderer, dir, top, &run->timeout_s);
	run->cwd = cwd;
	r->runs++;
	if ((error = tg_render__exec(run)) == 0 && failed(run)) {
		/* its stderr goes into messages: no Secret value */
		char *safe = tg_render__redact(run->err, STDERR_SHOWN, top,
		                               run->out, run->out_len);

		free(run->err);
		run->err = safe;
	}
	if (error == 0)
		error = judge(run, renderer);
out:
	rm_tree(tmp);
	free((char *)run->home);
	run->home = NULL;
	free(cwd);
	free(top);
	free(tmp);
	return error;
}

/*
 * The cached result of key: 1 with the output in *out, 2 with the
 * failure recorded (as the error), 0 when there is none.
 */
static int cache_get(char **out, size_t *len, tg_render *r, const char *key)
{
	char *path = cache_path(r, key, "yaml"), *msg = NULL;
	size_t n = 0;
	int hit = 0;

	if (tg_file_read(out, len, path, TG_MAX_RENDER_OUTPUT) == 0) {
		hit = 1;
	} else {
		free(path);
		path = cache_path(r, key, "err");
		if (tg_file_read(&msg, &n, path, TG_ERROR_MAX) == 0) {
			hit = 2;
			tg_discard(tg_error_set(TG_ERROR, "%s", msg));
		}
	}
	if (hit != 2)
		tg_error_clear(); /* a miss is no error */
	r->hits += hit != 0;
	free(msg);
	free(path);
	return hit;
}

/* Keep a result: the output, or the message of a failure the same
 * inputs would give again (the renderer ran and refused them; not a
 * timeout, a signal or too much output). */
static void cache_put(const tg_render *r,
                      const char *key,
                      const tg_render__run *run,
                      int error,
                      const char *out,
                      size_t len)
{
	char *path;
	int werr;

	/* run->err is set once the renderer was started and reaped */
	if (error < 0 && (run->timed_out || run->too_big || !run->err ||
	                  !WIFEXITED(run->status)))
		return;
	path = cache_path(r, key, error < 0 ? "err" : "yaml");
	if (error < 0) {
		char *msg = tg_strdup(tg_error_last());

		werr = tg_file_write_atomic(path, msg, strlen(msg));
		tg_discard(tg_error_set(error, "%s", msg));
		free(msg);
	} else {
		werr = tg_file_write_atomic(path, out, len);
	}
	/* a cache that cannot be written costs a render next cycle only */
	if (werr < 0)
		tg_log(TG_LOG_WARN, "render cache not written", "path", path,
		       NULL);
	free(path);
}

int tg_render_unit(char **out,
                   size_t *len,
                   tg_render *r,
                   const tg_render_fs *fs,
                   const char *dir,
                   const char *renderer)
{
	tg_render__reach reach = { 0 };
	tg_render__run run;
	char key[65], *base = NULL, *tmp_cwd = NULL, **argv = NULL;
	int64_t timeout;
	bool cached;
	int error, hit = 0;

	*out = NULL;
	*len = 0;
	memset(&run, 0, sizeof(run));
	if ((error = reach_of(&reach, fs, dir, renderer)) < 0)
		goto out;
	argv = make_argv(&tmp_cwd, r, renderer, dir, "", &timeout);
	cached = cache_key(key, r, argv, &reach);
	if (cached && (hit = cache_get(out, len, r, key)) != 0) {
		error = hit == 2 ? TG_ERROR : 0;
		goto out;
	}
	if ((error = render_dir(&base, r)) < 0)
		goto out;
	error = run_in_tree(&run, r, fs, &reach, base, renderer, dir);
	if (error == 0) {
		*out = run.out;
		*len = run.out_len;
		run.out = NULL;
	}
	if (cached)
		cache_put(r, key, &run, error, *out, *len);
out:
	strv_free(run.argv);
	tg_render__run_clear(&run);
	tg_render__reach_free(&reach);
	strv_free(argv);
	free(tmp_cwd);
	free(base);
	return error;
}
