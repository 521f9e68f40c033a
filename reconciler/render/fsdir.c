/*
 * A directory as a tg_render_fs (tollgate/render.h), for `tollgate
 * manifests DIR --root ROOT` and `tollgate check`: the files of a
 * checkout, under the same symlink rules as the commit's tree. Every
 * path is checked against the resolved root after realpath(), so a
 * symlink (or a directory replaced by one) cannot lead outside it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tollgate/limits.h"
#include "tollgate/render.h"
#include "tollgate/util.h"

typedef struct fsdir {
	char *root; /* realpath */
	size_t root_len;
} fsdir;

/* The real path of rel below the root, or NULL (errno set) when it does
 * not exist; *outside set when it resolves outside the root. */
static char *resolve(const fsdir *d, const char *rel, bool *outside)
{
	char *abs = *rel ? tg_path_join(d->root, rel) : tg_strdup(d->root);
	char *real = realpath(abs, NULL);

	free(abs);
	*outside = false;
	if (real && !(strncmp(real, d->root, d->root_len) == 0 &&
	              (real[d->root_len] == '/' || !real[d->root_len] ||
	               d->root_len == 1)))
		*outside = true;
	return real;
}

/* Whether rel passes through a symlink to a directory (refused, as the
 * commit's tree refuses them). */
static bool dir_link_on_path(const fsdir *d, const char *rel)
{
	char *p = tg_path_join(d->root, rel), *s;
	struct stat st;
	bool found = false;

	for (s = p + d->root_len + 1; s && *s && !found;) {
		char *slash = strchr(s, '/');

		if (slash)
			*slash = '\0';
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) &&
		    stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			found = true;
		if (slash)
			*slash = '/';
		s = slash ? slash + 1 : NULL;
	}
	free(p);
	return found;
}

static int dir_stat(void *ctx,
                    const char *path,
                    tg_render_kind *kind,
                    char id[TG_RENDER_ID_HEX])
{
	fsdir *d = ctx;
	bool outside;
	char *real = resolve(d, path, &outside);
	struct stat st;
	int error = 0;

	*kind = TG_RENDER_MISSING;
	id[0] = '\0';
	if (!real)
		return errno == ENOENT || errno == ENOTDIR
		               ? 0
		               : tg_error_set(TG_EIO, "%s: %s", path,
		                              strerror(errno));
	if (outside)
		error = tg_error_set(TG_EINVALID,
		                     "%s: symlink points outside the "
		                     "repository; refused",
		                     path);
	else if (*path && dir_link_on_path(d, path))
		error = tg_error_set(TG_EINVALID,
		                     "%s: a symlink to a directory; refused",
		                     path);
	else if (stat(real, &st) == 0 && S_ISDIR(st.st_mode))
		*kind = TG_RENDER_DIR;
	else if (S_ISREG(st.st_mode))
		*kind = TG_RENDER_FILE;
	else
		error = tg_error_set(TG_EINVALID,
		                     "%s: not a regular file or directory",
		                     path);
	free(real);
	return error;
}

static int
dir_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
	tg_render_kind kind;
	char id[TG_RENDER_ID_HEX];
	char *abs;
	int error;

	if ((error = dir_stat(ctx, path, &kind, id)) < 0)
		return error;
	if (kind != TG_RENDER_FILE)
		return tg_error_set(TG_ENOTFOUND, "%s: no such file", path);
	abs = tg_path_join(((fsdir *)ctx)->root, path);
	error = tg_file_read(data, len, abs, max);
	free(abs);
	return error;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dir_list(void *ctx, const char *path, char ***names, size_t *n)
{
	fsdir *d = ctx;
	char *abs = *path ? tg_path_join(d->root, path) : tg_strdup(d->root);
	DIR *dh = opendir(abs);
	struct dirent *e;

	*names = NULL;
	*n = 0;
	free(abs);
	if (!dh)
		return tg_error_set(TG_EIO, "%s: %s", *path ? path : ".",
		                    strerror(errno));
	while ((e = readdir(dh)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		*names = tg_realloc(*names, (*n + 1) * sizeof(char *));
		(*names)[(*n)++] = tg_strdup(e->d_name);
	}
	closedir(dh);
	if (*n) /* qsort wants an array, even of none */
		tg_qsort(*names, *n, sizeof(char *), name_cmp);
	return 0;
}

static void dir_free(void *ctx)
{
	fsdir *d = ctx;

	if (!d)
		return;
	free(d->root);
	free(d);
}

static const tg_render_fs_ops dir_ops = { dir_stat, dir_read, dir_list,
	                                  dir_free };

int tg_render_fs_dir(tg_render_fs *out, const char *root)
{
	fsdir *d;
	char *real = realpath(root, NULL);

	memset(out, 0, sizeof(*out));
	if (!real)
		return tg_error_set(TG_EIO, "%s: %s", root, strerror(errno));
	d = tg_calloc(1, sizeof(*d));
	d->root = real;
	d->root_len = strlen(real);
	out->ops = &dir_ops;
	out->ctx = d;
	return 0;
}

void tg_render_fs_free(tg_render_fs *fs)
{
	if (fs && fs->ops && fs->ops->free)
		fs->ops->free(fs->ctx);
	if (fs)
		fs->ctx = NULL;
}

/* The top of the Git work tree holding dir (a parent with ".git"), or
 * dir itself; realpath'd, caller frees. NULL when dir does not exist. */
static char *default_root(const char *dir)
{
	char *real = realpath(dir, NULL), *p, *git;
	struct stat st;

	if (!real)
		return NULL;
	p = tg_strdup(real);
	for (;;) {
		git = tg_path_join(p, ".git");
		if (lstat(git, &st) == 0) {
			free(git);
			free(real);
			return p;
		}
		free(git);
		if (!strcmp(p, "/"))
			break;
		*(strrchr(p, '/') == p ? p + 1 : strrchr(p, '/')) = '\0';
	}
	free(p);
	return real;
}

int tg_render_units_in_dir(tg_manifest_set *set,
                           tg_render *r,
                           const char *dir,
                           const char *root)
{
	char *rdir = realpath(dir, NULL);
	char *rroot = root ? realpath(root, NULL) : default_root(dir);
	size_t n = rroot ? strlen(rroot) : 0;
	tg_render_fs fs = { NULL, NULL };
	int error;

	if (!rdir || !rroot) {
		error = tg_error_set(TG_EIO, "%s: %s", rdir ? root : dir,
		                     strerror(errno));
		goto out;
	}
	if (strncmp(rdir, rroot, n) ||
	    (rdir[n] != '/' && rdir[n] != '\0' && n > 1)) {
		error = tg_error_set(TG_EINVALID,
		                     "%s is not inside the root %s (--root)",
		                     dir, rroot);
		goto out;
	}
	if ((error = tg_render_fs_dir(&fs, rroot)) == 0)
		error = tg_render_units(
		        set, r, &fs, rdir[n] == '/' ? rdir + n + 1 : rdir + n);
	tg_render_fs_free(&fs);
out:
	free(rdir);
	free(rroot);
	return error;
}
