/*
 * The private tree a renderer reads (tollgate/render.h): the files a unit
 * reaches, copied out of a tg_render_fs into a fresh directory that only
 * tollgate's user can read. Files are written as plain files (never
 * symlinks: the fs already resolved them under its rules), created with
 * O_EXCL so nothing already there is followed, within
 * TG_MAX_RENDER_TREE_FILES files, TG_MAX_RENDER_TREE_BYTES bytes and
 * TG_MAX_TREE_DEPTH levels.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render_int.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

static int write_file(const char *dest, const char *data, size_t len)
{
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t off = 0;
	ssize_t n;
	int error = 0;

	if (fd < 0)
		return tg_error_set(TG_EIO, "%s: %s", dest, strerror(errno));
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = tg_error_set(TG_EIO, "%s: %s", dest,
			                     strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	return error;
}

static int export_file(const tg_render_fs *fs,
                       const char *path,
                       const char *dest,
                       tg_render__budget *b)
{
	char *data = NULL;
	size_t len = 0;
	int error;

	if (++b->files > TG_MAX_RENDER_TREE_FILES)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: more than %d files to render "
		                    "(TG_MAX_RENDER_TREE_FILES)",
		                    path, TG_MAX_RENDER_TREE_FILES);
	if ((error = fs->ops->read(fs->ctx, path, TG_MAX_FILE_BYTES, &data,
	                           &len)) < 0)
		return error;
	b->bytes += len;
	if (b->bytes > TG_MAX_RENDER_TREE_BYTES)
		error = tg_error_set(
		        TG_ETOOBIG,
		        "%s: more than %llu bytes to render "
		        "(TG_MAX_RENDER_TREE_BYTES)",
		        path, (unsigned long long)TG_MAX_RENDER_TREE_BYTES);
	else
		error = write_file(dest, data, len);
	free(data);
	return error;
}

static int export_at(const tg_render_fs *fs,
                     const char *path,
                     const char *dest,
                     tg_render__budget *b,
                     int depth);

static int export_dir(const tg_render_fs *fs,
                      const char *path,
                      const char *dest,
                      tg_render__budget *b,
                      int depth)
{
	char **names = NULL;
	size_t n = 0, i;
	int error;

	if (depth > TG_MAX_TREE_DEPTH)
		return tg_error_set(TG_ETOOBIG,
		                    "%s: directories nest deeper than %d", path,
		                    TG_MAX_TREE_DEPTH);
	if (mkdir(dest, 0700) < 0 && errno != EEXIST)
		return tg_error_set(TG_EIO, "%s: %s", dest, strerror(errno));
	if ((error = fs->ops->list(fs->ctx, path, &names, &n)) < 0)
		return error;
	for (i = 0; i < n && !error; i++) {
		char *sub, *sdest;

		if (!strcmp(names[i], ".git"))
			continue; /* a checkout's repository, never content */
		sub = *path ? tg_path_join(path, names[i])
		            : tg_strdup(names[i]);
		sdest = tg_path_join(dest, names[i]);
		error = export_at(fs, sub, sdest, b, depth + 1);
		free(sub);
		free(sdest);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

static int export_at(const tg_render_fs *fs,
                     const char *path,
                     const char *dest,
                     tg_render__budget *b,
                     int depth)
{
	tg_render_kind kind = TG_RENDER_MISSING;
	char id[TG_RENDER_ID_HEX];
	int error;

	if ((error = fs->ops->stat(fs->ctx, path, &kind, id)) < 0)
		return error;
	if (kind == TG_RENDER_DIR)
		return export_dir(fs, path, dest, b, depth);
	if (kind == TG_RENDER_FILE)
		return export_file(fs, path, dest, b);
	return tg_error_set(TG_EINVALID, "%s: does not exist", path);
}

int tg_render__export(const tg_render_fs *fs,
                      const char *path,
                      const char *dest,
                      tg_render__budget *budget)
{
	return export_at(fs, path, dest, budget, 0);
}
