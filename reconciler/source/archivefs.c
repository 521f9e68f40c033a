/*
 * An OCI source's unpacked artifact as a tg_render_fs (tollgate/render.h),
 * for renderers whose kustomizations reach bases elsewhere in the
 * artifact. The archive holds only regular files and directories (links
 * were refused when it was unpacked), so nothing here follows a link.
 * No object ids: the render cache is not used for artifacts.
 */
#include <stdlib.h>
#include <string.h>

#include "source_int.h"
#include "tollgate/archive.h"
#include "tollgate/error.h"
#include "tollgate/render.h"
#include "tollgate/util.h"

static int afs_stat(void *ctx, const char *path, tg_render_kind *kind, char *id)
{
	const tg_archive *a = ctx;

	id[0] = '\0';
	if (tg_archive_find(a, path))
		*kind = TG_RENDER_FILE;
	else if (tg_archive_has_dir(a, path))
		*kind = TG_RENDER_DIR;
	else
		*kind = TG_RENDER_MISSING;
	return 0;
}

static int afs_read(void *ctx,
                    const char *path,
                    size_t max,
                    char **data_out,
                    size_t *len_out)
{
	const tg_archive_file *f = tg_archive_find(ctx, path);

	*data_out = NULL;
	*len_out = 0;
	if (!f)
		return TG_ENOTFOUND;
	if (f->len > max)
		return tg_error_set(TG_ETOOBIG, "%s: over %zu bytes", path,
		                    max);
	*data_out = tg_malloc(f->len + 1);
	memcpy(*data_out, f->data, f->len + 1);
	*len_out = f->len;
	return 0;
}

static int afs_list(void *ctx, const char *path, char ***names, size_t *n)
{
	if (!tg_archive_has_dir(ctx, path))
		return tg_error_set(TG_ENOTFOUND, "%s: not a directory", path);
	tg_archive_list(names, n, ctx, path);
	return 0;
}

static void afs_free(void *ctx)
{
	(void)ctx; /* borrowed from the OCI source */
}

static const tg_render_fs_ops archive_ops = { afs_stat, afs_read, afs_list,
	                                      afs_free };

void tg_source__archive_fs(tg_render_fs *out, const tg_archive *a)
{
	out->ops = &archive_ops;
	out->ctx = (void *)a;
}
