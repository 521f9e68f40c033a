/*
 * The verified commit's whole tree as a tg_render_fs (tollgate/render.h),
 * read straight from the object database of the cache, for renderers
 * whose kustomizations reach bases elsewhere in the repository. The
 * rules are those of the manifest reader (tollgate/source.h), with the
 * repository as the boundary: a symlink is followed only to a file of the
 * commit (not absolute, not climbing out of the repository, at most
 * TG_MAX_SYMLINK_HOPS links); a symlink to a directory, a dangling one
 * and a submodule are refused, naming the path.
 */
#include <stdlib.h>
#include <string.h>

#include "source_int.h"
#include "tollgate/limits.h"
#include "tollgate/render.h"
#include "tollgate/util.h"

typedef struct commitfs {
	git_repository *repo; /* borrowed from the source */
	git_tree *root;
	char commit[TG_SOURCE_OID_HEX];
} commitfs;

static int
cfs_error(const commitfs *c, int code, const char *path, const char *what)
{
	return tg_error_set(code, "%s (commit %.12s): %s", *path ? path : ".",
	                    c->commit, what);
}

/* The target path of the symlink at path (blob oid), resolved against
 * its directory; NULL after recording the refusal. */
static char *
link_target(const commitfs *c, const char *path, const git_oid *oid)
{
	git_blob *blob = NULL;
	char *target = NULL, *dir = NULL, *out = NULL, *slash;
	size_t len;

	if (git_blob_lookup(&blob, c->repo, oid) < 0) {
		tg_discard(cfs_error(c, TG_EIO, path, "cannot read symlink"));
		return NULL;
	}
	len = (size_t)git_blob_rawsize(blob);
	if (len == 0 || len > TG_MAX_SYMLINK_TARGET ||
	    memchr(git_blob_rawcontent(blob), '\0', len)) {
		tg_discard(
		        cfs_error(c, TG_EINVALID, path, "bad symlink target"));
		goto out;
	}
	target = tg_strndup(git_blob_rawcontent(blob), len);
	if (target[0] == '/') {
		tg_discard(cfs_error(c, TG_EINVALID, path,
		                     "symlink to an absolute path; refused"));
		goto out;
	}
	dir = tg_strdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		dir[0] = '\0';
	if (!(out = tg_render_path_join(dir, target)) || !*out) {
		free(out);
		out = NULL;
		tg_discard(cfs_error(c, TG_EINVALID, path,
		                     "symlink points outside the repository; "
		                     "refused"));
	}
out:
	free(dir);
	free(target);
	git_blob_free(blob);
	return out;
}

/* The entry at path (a copy the caller frees), or NULL when missing. */
static git_tree_entry *entry_at(const commitfs *c, const char *path)
{
	git_tree_entry *e = NULL;

	if (git_tree_entry_bypath(&e, c->root, path) < 0)
		return NULL;
	return e;
}

/* Follow the symlink entry e at path to a blob of the commit. */
static int follow(tg_render_kind *kind,
                  git_oid *oid,
                  const commitfs *c,
                  const char *path,
                  git_tree_entry *e)
{
	char *cur = tg_strdup(path), *next;
	int hops, error = 0;

	for (hops = 0; hops < TG_MAX_SYMLINK_HOPS; hops++) {
		if (!(next = link_target(c, cur, git_tree_entry_id(e)))) {
			error = TG_EINVALID;
			break;
		}
		free(cur);
		cur = next;
		git_tree_entry_free(e);
		if (!(e = entry_at(c, cur))) {
			error = cfs_error(c, TG_EINVALID, path,
			                  "symlink to nothing in the commit");
			break;
		}
		if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK)
			continue;
		if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
			error = cfs_error(
			        c, TG_EINVALID, path,
			        "symlink to a directory or submodule; "
			        "refused");
			break;
		}
		*kind = TG_RENDER_FILE;
		git_oid_cpy(oid, git_tree_entry_id(e));
		break;
	}
	if (hops == TG_MAX_SYMLINK_HOPS)
		error = cfs_error(c, TG_EINVALID, path,
		                  "too many levels of symlinks");
	git_tree_entry_free(e);
	free(cur);
	return error;
}

/* Kind and object id of path ("" is the root). */
static int
resolve(tg_render_kind *kind, git_oid *oid, const commitfs *c, const char *path)
{
	git_tree_entry *e;

	*kind = TG_RENDER_MISSING;
	if (!*path) {
		*kind = TG_RENDER_DIR;
		git_oid_cpy(oid, git_tree_id(c->root));
		return 0;
	}
	if (!tg_path_is_safe_relative(path))
		return cfs_error(c, TG_EINVALID, path, "not a plain path");
	if (!(e = entry_at(c, path)))
		return 0;
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		*kind = TG_RENDER_DIR;
		break;
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		*kind = TG_RENDER_FILE;
		break;
	case GIT_FILEMODE_LINK:
		return follow(kind, oid, c, path, e);
	default:
		git_tree_entry_free(e);
		return cfs_error(c, TG_EINVALID, path,
		                 "a submodule; tollgate reads only files "
		                 "stored in the deploy repository itself");
	}
	git_oid_cpy(oid, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return 0;
}

static int cfs_stat(void *ctx,
                    const char *path,
                    tg_render_kind *kind,
                    char id[TG_RENDER_ID_HEX])
{
	git_oid oid;
	int error = resolve(kind, &oid, ctx, path);

	id[0] = '\0';
	if (error == 0 && *kind != TG_RENDER_MISSING)
		git_oid_tostr(id, TG_RENDER_ID_HEX, &oid);
	return error;
}

static int
cfs_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
	commitfs *c = ctx;
	tg_render_kind kind;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	git_oid oid;
	size_t size = 0;
	int error;

	*data = NULL;
	if ((error = resolve(&kind, &oid, c, path)) < 0)
		return error;
	if (kind != TG_RENDER_FILE)
		return cfs_error(c, TG_ENOTFOUND, path, "no such file");
	if (git_repository_odb(&odb, c->repo) < 0 ||
	    git_odb_read_header(&size, &type, odb, &oid) < 0)
		error = cfs_error(c, TG_EIO, path, "cannot read the object");
	else if (size > max)
		error = cfs_error(c, TG_ETOOBIG, path,
		                  "file over the size limit");
	else if (git_odb_read(&obj, odb, &oid) < 0)
		error = cfs_error(c, TG_EIO, path, "cannot read the blob");
	if (error == 0) {
		*len = git_odb_object_size(obj);
		*data = tg_malloc(*len + 1);
		memcpy(*data, git_odb_object_data(obj), *len);
		(*data)[*len] = '\0';
	}
	git_odb_object_free(obj);
	git_odb_free(odb);
	return error;
}

static int cfs_list(void *ctx, const char *path, char ***names, size_t *n)
{
	commitfs *c = ctx;
	git_tree *tree = NULL;
	tg_render_kind kind;
	git_oid oid;
	size_t i, count;
	int error;

	*names = NULL;
	*n = 0;
	if ((error = resolve(&kind, &oid, c, path)) < 0)
		return error;
	if (kind != TG_RENDER_DIR || git_tree_lookup(&tree, c->repo, &oid) < 0)
		return cfs_error(c, TG_ENOTFOUND, path, "not a directory");
	count = git_tree_entrycount(tree);
	*names = tg_calloc(count + 1, sizeof(char *));
	for (i = 0; i < count; i++) {
		const char *name =
		        git_tree_entry_name(git_tree_entry_byindex(tree, i));

		/* names come from the remote: only plain components */
		if (!*name || !strcmp(name, ".") || !strcmp(name, "..") ||
		    strchr(name, '/') || strchr(name, '\\')) {
			error = cfs_error(c, TG_EINVALID, path,
			                  "an entry name that is not a plain "
			                  "file name");
			break;
		}
		(*names)[(*n)++] = tg_strdup(name);
	}
	git_tree_free(tree);
	return error;
}

static void cfs_free(void *ctx)
{
	commitfs *c = ctx;

	if (!c)
		return;
	git_tree_free(c->root);
	free(c);
}

static const tg_render_fs_ops commit_ops = { cfs_stat, cfs_read, cfs_list,
	                                     cfs_free };

int tg_source_render_fs(tg_render_fs *out, tg_source *s, const char *commit)
{
	git_commit *cm = NULL;
	commitfs *c = tg_calloc(1, sizeof(*c));
	git_oid oid;
	int error = 0;

	memset(out, 0, sizeof(*out));
	c->repo = tg_gitrepo_raw(s->repo);
	tg_strlcpy(c->commit, commit, sizeof(c->commit));
	if (!commit[0] || git_oid_fromstr(&oid, commit) < 0 ||
	    git_commit_lookup(&cm, c->repo, &oid) < 0 ||
	    git_commit_tree(&c->root, cm) < 0) {
		error = tg_error_set(TG_ERROR, "%s: cannot read commit %.12s",
		                     s->url, commit);
		cfs_free(c);
	} else {
		out->ops = &commit_ops;
		out->ctx = c;
	}
	git_commit_free(cm);
	return error;
}
