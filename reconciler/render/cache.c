/*
 * The render cache (tollgate/render.h): a unit's output, or the message
 * of a failure the same inputs would give again, kept under
 * state_dir/render/ by a key over the renderer's argv and the Git ids of
 * every tree and file the unit reaches. Each use touches the entry, so
 * its mtime says when it was last used; at the end of a cycle entries
 * not used in the last cache_cycles cycles go, then the least recently
 * used beyond cache_max_bytes. Every removal is one unlink() of a file
 * written whole by rename(), so a prune killed halfway leaves only
 * whole entries; the next one goes on.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "render_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

bool tg_render__cache_key(char out[65],
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

int tg_render__state_dir(char **out, const tg_render *r)
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

int tg_render__cache_get(
        char **out, size_t *len, char **msg, tg_render *r, const char *key)
{
	char *path = cache_path(r, key, "yaml");
	size_t n = 0;
	int hit = 0;

	*msg = NULL;
	if (tg_file_read(out, len, path, TG_MAX_RENDER_OUTPUT) == 0) {
		hit = 1;
	} else {
		free(path);
		path = cache_path(r, key, "err");
		if (tg_file_read(msg, &n, path, TG_ERROR_MAX) == 0)
			hit = 2;
	}
	tg_error_clear(); /* a miss is no error */
	if (hit)          /* used now: its mtime keeps it in the cache */
		(void)utimensat(AT_FDCWD, path, NULL, 0);
	r->hits += hit != 0;
	free(path);
	return hit;
}

void tg_render__cache_put(const tg_render *r,
                          const char *key,
                          const tg_render__run *run,
                          const char *msg,
                          const char *out,
                          size_t len)
{
	char *path;
	int werr;

	/* run->err is set once the renderer was started and reaped */
	if (msg && (run->timed_out || run->too_big || !run->err ||
	            !WIFEXITED(run->status)))
		return;
	path = cache_path(r, key, msg ? "err" : "yaml");
	werr = msg ? tg_file_write_atomic(path, msg, strlen(msg))
	           : tg_file_write_atomic(path, out, len);
	/* a cache that cannot be written costs a render next cycle only */
	if (werr < 0) {
		tg_log(TG_LOG_WARN, "render cache not written", "path", path,
		       NULL);
		tg_error_clear();
	}
	free(path);
}

/* Pruning ----------------------------------------------------------- */

#define CYCLES_FILE "cycles"

/* The coarse wall clock in ns: the clock file times are taken from, so
 * an entry used after the cycle began never looks older than it. */
static int64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) < 0)
		(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* The starts of the last cycles from the cycles file (oldest first), at
 * most max; anything unreadable is no history (nothing is pruned by
 * age until the file has max lines again). */
static size_t read_cycles(int64_t *v, size_t max, const char *path)
{
	char *data = NULL, *line, *save = NULL, *end;
	size_t len = 0, n = 0;
	long long x;

	if (tg_file_read(&data, &len, path, 64 * (max + 1)) < 0) {
		tg_error_clear();
		return 0;
	}
	for (line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		errno = 0;
		x = strtoll(line, &end, 10);
		if (errno || *end || x <= 0 || (n && x < v[n - 1])) {
			n = 0; /* not ours: start again */
			break;
		}
		if (n == max)
			memmove(v, v + 1, --n * sizeof(*v));
		v[n++] = x;
	}
	free(data);
	return n;
}

void tg_render__cycle_begin(tg_render *r)
{
	size_t max = r->cache_cycles, n, i;
	int64_t *v;
	char *dir = NULL, *path;
	tg_buf b;

	r->cycle_ns = now_ns();
	r->oldest_ns = 0;
	if (!r->state_dir || tg_render__state_dir(&dir, r) < 0) {
		tg_error_clear();
		return;
	}
	path = tg_path_join(dir, CYCLES_FILE);
	v = tg_calloc(max + 1, sizeof(*v));
	n = read_cycles(v, max, path);
	if (n == max)
		memmove(v, v + 1, --n * sizeof(*v));
	v[n++] = r->cycle_ns;
	if (n == max)
		r->oldest_ns = v[0];
	tg_buf_init(&b, 64 * (max + 1));
	for (i = 0; i < n; i++)
		tg_discard(tg_buf_printf(&b, "%lld\n", (long long)v[i]));
	if (tg_file_write_atomic(path, b.data, b.len) < 0) {
		tg_log(TG_LOG_WARN, "render cache: cycles not recorded",
		       "error", tg_error_last(), NULL);
		tg_error_clear();
	}
	tg_buf_free(&b);
	free(v);
	free(path);
	free(dir);
}

/* A cache entry kept after the first pass, for the size cap. */
typedef struct kept {
	char *path;
	int64_t mtime;
	uint64_t size;
} kept;

typedef struct prune {
	tg_render *r;
	kept *v;
	size_t n, cap, removed;
	uint64_t total;
} prune;

static bool is_entry(const char *name)
{
	size_t n = strlen(name);

	return n == 64 + 5 && strspn(name, "0123456789abcdef") == 64 &&
	       !strcmp(name + 64, ".yaml");
}

static bool is_err_entry(const char *name)
{
	return strlen(name) == 64 + 4 &&
	       strspn(name, "0123456789abcdef") == 64 &&
	       !strcmp(name + 64, ".err");
}

/* One name of the render directory: removed, kept for the cap, or not
 * the cache's. */
static void prune_one(prune *p, const char *path, const char *name)
{
	struct stat st;
	int64_t stale = p->r->cycle_ns - p->r->stale_s * 1000000000;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode) &&
	    tg_str_has_prefix(name, "tollgate-render-")) {
		/* left by a run that was killed */
		if (mtime_ns(&st) < stale)
			tg_render__rm_tree(path);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	if (strstr(name, ".tmp.")) {
		/* a write that never reached its rename() */
		if (mtime_ns(&st) < stale && unlink(path) == 0)
			p->removed++;
		return;
	}
	if (!is_entry(name) && !is_err_entry(name))
		return;
	if (p->r->oldest_ns && mtime_ns(&st) < p->r->oldest_ns) {
		if (unlink(path) == 0)
			p->removed++;
		return;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->v = tg_realloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n].path = tg_strdup(path);
	p->v[p->n].mtime = mtime_ns(&st);
	p->v[p->n++].size = (uint64_t)st.st_size;
	p->total += (uint64_t)st.st_size;
}

static int oldest_first(const void *a, const void *b)
{
	const kept *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Beyond the cap: the least recently used first, none of this cycle. */
static void prune_cap(prune *p)
{
	size_t i;

	if (p->n == 0)
		return;
	tg_qsort(p->v, p->n, sizeof(*p->v), oldest_first);
	for (i = 0; i < p->n && p->total > p->r->cache_max_bytes; i++) {
		if (p->v[i].mtime >= p->r->cycle_ns)
			break;
		if (unlink(p->v[i].path) == 0) {
			p->total -= p->v[i].size;
			p->removed++;
		}
	}
}

void tg_render__cache_prune(tg_render *r)
{
	prune p = { r, NULL, 0, 0, 0, 0 };
	char *dir = NULL, *path;
	struct dirent *e;
	DIR *d;
	size_t i;

	if (!r->state_dir || tg_render__state_dir(&dir, r) < 0 ||
	    !(d = opendir(dir))) {
		tg_error_clear();
		free(dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, CYCLES_FILE))
			continue;
		path = tg_path_join(dir, e->d_name);
		prune_one(&p, path, e->d_name);
		free(path);
	}
	closedir(d);
	prune_cap(&p);
	if (p.removed) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", p.removed);
		tg_log(TG_LOG_INFO, "render cache pruned", "removed", n, NULL);
	}
	for (i = 0; i < p.n; i++)
		free(p.v[i].path);
	free(p.v);
	free(dir);
}
