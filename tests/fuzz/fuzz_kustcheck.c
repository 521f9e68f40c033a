/*
 * The pre-check of kustomizations (tg_render__kust_check, as a unit with
 * a kustomization is rendered): a committer controls every kustomization
 * and plugin configuration it reaches. The input is a tree of files: the
 * bytes up to the first line "@@ PATH" are units/web/kustomization.yaml,
 * each such line starts the file PATH (tree-relative; "@@! PATH" is an
 * entry the fs refuses, as a symlink leaving the tree). Directories are
 * the prefixes of the paths.
 *
 * When the check passes, everything it says the unit reaches must be a
 * relative path inside the tree, with no "." or ".." component, that the
 * tree holds with that kind: kustomize would read nothing else.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "render_int.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

#define MAX_FILES 64

typedef struct mfile {
	char *path;
	const char *data;
	size_t len;
	bool refused;
} mfile;

typedef struct mtree {
	mfile f[MAX_FILES];
	size_t n;
} mtree;

static void add_file(mtree *t, char *path, const char *data, size_t len)
{
	bool refused = path[0] == '!';

	if (t->n == MAX_FILES) {
		free(path);
		return;
	}
	if (refused)
		memmove(path, path + 1, strlen(path));
	t->f[t->n].path = path;
	t->f[t->n].data = data;
	t->f[t->n].len = len;
	t->f[t->n].refused = refused;
	t->n++;
}

/* The input's files into t (data borrowed from in, a NUL-terminated copy
 * of the input). */
static void parse_tree(mtree *t, const char *in, size_t size)
{
	const char *end = in + size, *p = in, *start = in, *eol;
	char *name = tg_strdup("units/web/kustomization.yaml");

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol ? eol : end;
		if (eol - p >= 3 && !memcmp(p, "@@ ", 3)) {
			add_file(t, name, start, (size_t)(p - start));
			name = tg_strndup(p + 3, (size_t)(eol - p - 3));
			start = eol < end ? eol + 1 : end;
		} else if (eol - p >= 4 && !memcmp(p, "@@! ", 4)) {
			add_file(t, name, start, (size_t)(p - start));
			name = tg_aprintf("!%.*s", (int)(eol - p - 4), p + 4);
			start = eol < end ? eol + 1 : end;
		}
		p = eol < end ? eol + 1 : end;
	}
	add_file(t, name, start, (size_t)(end - start));
}

/* The file at path, or NULL; *dir when path is a directory. */
static const mfile *lookup(const mtree *t, const char *path, bool *dir)
{
	size_t i, n = strlen(path);

	*dir = n == 0;
	for (i = 0; i < t->n; i++) {
		if (!strcmp(t->f[i].path, path))
			return &t->f[i];
		if (n && !strncmp(t->f[i].path, path, n) &&
		    t->f[i].path[n] == '/')
			*dir = true;
	}
	return NULL;
}

static int
m_stat(void *ctx, const char *path, tg_render_kind *kind, char id[65])
{
	bool dir;
	const mfile *f = lookup(ctx, path, &dir);

	if (f && f->refused)
		return tg_error_set(TG_EINVALID,
		                    "%s: a symlink out of the tree", path);
	*kind = f ? TG_RENDER_FILE : dir ? TG_RENDER_DIR : TG_RENDER_MISSING;
	snprintf(id, 65, "%08zx", f ? f->len : 0);
	return 0;
}

static int
m_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
	bool dir;
	const mfile *f = lookup(ctx, path, &dir);

	if (!f)
		return tg_error_set(TG_ENOTFOUND, "%s: not found", path);
	if (f->refused)
		return tg_error_set(TG_EINVALID,
		                    "%s: a symlink out of the tree", path);
	if (f->len > max)
		return tg_error_set(TG_ETOOBIG, "%s: too big", path);
	*data = tg_malloc(f->len + 1);
	memcpy(*data, f->data, f->len);
	(*data)[f->len] = '\0';
	*len = f->len;
	return 0;
}

static int m_list(void *ctx, const char *path, char ***names, size_t *n)
{
	(void)ctx;
	(void)path;
	*names = NULL;
	*n = 0;
	return 0;
}

static void m_free(void *ctx)
{
	(void)ctx;
}

static const tg_render_fs_ops mem_ops = { m_stat, m_read, m_list, m_free };

/* A path kustomize may read: relative, clean, and in the tree. */
static void check_reached(const mtree *t, const tg_render__reached *r)
{
	const char *c = r->path;
	bool dir;
	const mfile *f = lookup(t, r->path, &dir);

	if (r->path[0] == '/' || strstr(r->path, "//"))
		abort();
	while (*c) {
		size_t n = strcspn(c, "/");

		if ((n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			abort();
		c += n + (c[n] == '/');
	}
	if (r->kind == TG_RENDER_FILE ? !f || f->refused
	                              : r->kind != TG_RENDER_DIR || !dir)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	mtree t = { 0 };
	tg_render_fs fs = { &mem_ops, &t };
	tg_render__reach reach = { 0 };
	size_t i;

	parse_tree(&t, in, size);
	if (tg_render__kust_check(&reach, &fs, "units/web") == 0) {
		if (reach.n == 0 || strcmp(reach.v[0].path, "units/web"))
			abort();
		for (i = 0; i < reach.n; i++)
			check_reached(&t, &reach.v[i]);
	} else if (!*tg_error_last()) {
		abort();
	}
	tg_render__reach_free(&reach);
	for (i = 0; i < t.n; i++)
		free(t.f[i].path);
	free(in);
	return 0;
}
