/*
 * The render cache (tollgate/render.h): a unit's output, or the message
 * of a failure the same inputs would give again, kept under
 * state_dir/render/ by a key over the renderer's argv and the Git ids of
 * every tree and file the unit reaches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

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
