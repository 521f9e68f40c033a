/*
 * Reading the tree of the fetched commit (DESIGN.md 3.4): the manifests
 * below source.path, straight from the object database of the cache.
 * Everything read is untrusted: names, sizes, symlink targets and the
 * number of entries are checked before use (rules in tollgate/source.h).
 */
#include <stdlib.h>
#include <string.h>

#include "source_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/manifest.h"
#include "tollgate/util.h"

struct tg_source_tree {
	tg_source_file *files;
	size_t nfiles;
	size_t cap;
	tg_source_problem *problems;
	size_t nproblems;
	size_t pcap;
	char commit[TG_SOURCE_ID_MAX];
};

/* Context of one tree walk. */
typedef struct walk_ctx {
	tg_source *s;
	tg_source_tree *t;
	git_tree *root; /* the tree at source.path */
	size_t entries;
	char *what; /* the last tree_error's detail without its context */
	bool fatal; /* the last error concerns the whole tree */
} walk_ctx;

/* ---- Reading the tree -------------------------------------------- */

/* Error detail naming everything a user needs to find the entry. */
static int tree_error(walk_ctx *w, int code, const char *rel, const char *what)
{
	free(w->what);
	w->what = tg_strdup(what);
	return tg_error_set(code, "%s branch %s at %.12s: %s%s%s: %s",
	                    w->s->url, w->s->branch, w->t->commit, w->s->path,
	                    *w->s->path ? "/" : "", rel, what);
}

/* The manifest loader's rule: *.yaml, *.yml, *.json, nothing hidden. */
static bool is_manifest_name(const char *rel)
{
	return tg_manifest_path_wanted(rel);
}

/* Tree entry names come from the remote: only plain path components. */
static bool name_is_plain(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/') && !strchr(name, '\\');
}

/* Read a blob by id into a NUL-terminated heap copy, checking its size
 * from the object header before inflating it. */
static int read_blob(char **data_out,
                     size_t *len_out,
                     walk_ctx *w,
                     const git_oid *oid,
                     const char *rel,
                     size_t max)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	size_t len = 0;
	int error = 0;

	*data_out = NULL;
	if (git_repository_odb(&odb, tg_gitrepo_raw(w->s->repo)) < 0 ||
	    git_odb_read_header(&len, &type, odb, oid) < 0) {
		error = tree_error(w, TG_ERROR, rel, "cannot read the object");
		goto out;
	}
	if (type != GIT_OBJECT_BLOB) {
		error = tree_error(w, TG_EINVALID, rel, "not a blob");
		goto out;
	}
	if (len > max) {
		char *msg = tg_aprintf("%zu bytes, over the limit of %zu "
		                       "(TG_MAX_FILE_BYTES)",
		                       len, max);
		error = tree_error(w, TG_ETOOBIG, rel, msg);
		free(msg);
		goto out;
	}
	if (git_odb_read(&obj, odb, oid) < 0) {
		error = tree_error(w, TG_ERROR, rel, "cannot read the blob");
		goto out;
	}
	len = git_odb_object_size(obj);
	*data_out = tg_malloc(len + 1);
	memcpy(*data_out, git_odb_object_data(obj), len);
	(*data_out)[len] = '\0';
	*len_out = len;
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return error;
}

static void tree_add(tg_source_tree *t, char *path, char *data, size_t len)
{
	if (t->nfiles == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->files = tg_realloc(t->files, t->cap * sizeof(*t->files));
	}
	t->files[t->nfiles].path = path;
	t->files[t->nfiles].data = data;
	t->files[t->nfiles].len = len;
	t->nfiles++;
}

/* Apply one component of a symlink target to the path in b. */
static int link_step(tg_buf *b, const char *c, size_t n)
{
	char *last;

	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		if (!b->len)
			return TG_EINVALID;
		last = strrchr(b->data, '/');
		b->len = last ? (size_t)(last - b->data) : 0;
		b->data[b->len] = '\0';
		return 0;
	}
	if (b->len && tg_buf_puts(b, "/") < 0)
		return TG_ETOOBIG;
	return tg_buf_append(b, c, n);
}

/*
 * Resolve a symlink target against the link's directory, inside the tree
 * at source.path: absolute targets and anything that climbs above
 * source.path are refused, because the target would be read from outside
 * what the deploy configuration owns. *out is the path below source.path.
 */
static int
resolve_link_path(char **out, walk_ctx *w, const char *rel, const char *target)
{
	tg_buf b;
	const char *c, *slash = strrchr(rel, '/');
	int error = 0;

	*out = NULL;
	if (target[0] == '/')
		return tree_error(w, TG_EINVALID, rel,
		                  "symlink to an absolute path is not allowed");
	tg_buf_init(&b, strlen(rel) + strlen(target) + 2);
	/* Sized for rel and target: an append cannot fail, and if it did
	 * the link would be refused below. */
	if (slash)
		error = tg_buf_append(&b, rel, (size_t)(slash - rel));
	for (c = target; *c && !error;) {
		size_t n = strcspn(c, "/");

		error = link_step(&b, c, n);
		c += n + (c[n] == '/');
	}
	if (error || !b.len) {
		error = tree_error(w, TG_EINVALID, rel,
		                   error ? "symlink points outside source.path"
		                         : "symlink points to source.path");
		goto out;
	}
	*out = tg_buf_detach(NULL, &b);
out:
	tg_buf_free(&b);
	return error;
}

/* The path below source.path that the symlink at cur (blob oid) names. */
static int
next_link_path(char **out, walk_ctx *w, const char *cur, const git_oid *oid)
{
	char *target = NULL;
	size_t tlen = 0;
	int error;

	*out = NULL;
	if ((error = read_blob(&target, &tlen, w, oid, cur,
	                       TG_MAX_SYMLINK_TARGET)) < 0)
		return error;
	if (strlen(target) != tlen || tlen == 0)
		error = tree_error(w, TG_EINVALID, cur, "bad symlink target");
	else
		error = resolve_link_path(out, w, cur, target);
	free(target);
	return error;
}

/* Follow a symlink (and symlinks it points to) to a blob within the tree. */
static int read_link(char **data_out,
                     size_t *len_out,
                     walk_ctx *w,
                     const char *rel,
                     const git_oid *link_oid)
{
	git_tree_entry *e = NULL;
	git_oid oid;
	char *cur = tg_strdup(rel), *next = NULL;
	int hops, error = 0;

	git_oid_cpy(&oid, link_oid);
	for (hops = 0; hops < TG_MAX_SYMLINK_HOPS; hops++) {
		if ((error = next_link_path(&next, w, cur, &oid)) < 0)
			goto out;
		git_tree_entry_free(e);
		e = NULL;
		if (git_tree_entry_bypath(&e, w->root, next) < 0) {
			error = tree_error(w, TG_EINVALID, rel,
			                   "symlink target does not exist in "
			                   "source.path");
			goto out;
		}
		free(cur);
		cur = next;
		next = NULL;
		git_oid_cpy(&oid, git_tree_entry_id(e));
		switch (git_tree_entry_filemode(e)) {
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
			error = read_blob(data_out, len_out, w, &oid, cur,
			                  TG_MAX_FILE_BYTES);
			goto out;
		case GIT_FILEMODE_LINK:
			continue;
		default:
			error = tree_error(w, TG_EINVALID, rel,
			                   "symlink points to a directory or "
			                   "submodule");
			goto out;
		}
	}
	error = tree_error(w, TG_EINVALID, rel,
	                   "too many levels of symlinks (TG_MAX_SYMLINK_HOPS)");
out:
	git_tree_entry_free(e);
	free(cur);
	free(next);
	return error;
}

static int
walk_tree(walk_ctx *w, git_tree *tree, const char *prefix, int depth);
static int walk_entry_checked(walk_ctx *w,
                              const git_tree_entry *e,
                              const char *rel,
                              int depth);

/* One entry of a tree: recurse, read, or refuse. */
static int
walk_entry(walk_ctx *w, const git_tree_entry *e, const char *rel, int depth)
{
	git_tree *sub = NULL;
	char *data = NULL;
	size_t len = 0;
	int error = 0;

	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		if (git_tree_lookup(&sub, tg_gitrepo_raw(w->s->repo),
		                    git_tree_entry_id(e)) < 0)
			return tree_error(w, TG_ERROR, rel,
			                  "cannot read the tree");
		error = walk_tree(w, sub, rel, depth + 1);
		git_tree_free(sub);
		/* a refusal inside was already recorded by the inner walk;
		 * what comes back from it concerns the whole tree */
		if (error)
			w->fatal = true;
		return error;
	case GIT_FILEMODE_COMMIT:
		return tree_error(w, TG_EINVALID, rel,
		                  "is a submodule; tollgate reads only files "
		                  "stored in the deploy repository itself");
	case GIT_FILEMODE_LINK:
		if (!is_manifest_name(rel))
			return 0;
		error = read_link(&data, &len, w, rel, git_tree_entry_id(e));
		break;
	default:
		if (!is_manifest_name(rel))
			return 0;
		error = read_blob(&data, &len, w, git_tree_entry_id(e), rel,
		                  TG_MAX_FILE_BYTES);
	}
	if (error == 0)
		tree_add(w->t, tg_strdup(rel), data, len);
	return error;
}

static void
problem_add(tg_source_tree *t, const char *path, const char *message)
{
	if (t->nproblems == t->pcap) {
		t->pcap = t->pcap ? t->pcap * 2 : 8;
		t->problems =
		        tg_realloc(t->problems, t->pcap * sizeof(*t->problems));
	}
	t->problems[t->nproblems].path = tg_strdup(path);
	t->problems[t->nproblems].message = tg_strdup(message);
	t->nproblems++;
}

/*
 * An entry whose content is refused (too big, a submodule, a bad symlink)
 * fails only its own unit (STYLE 13): it becomes a problem of the tree
 * and the walk goes on. Limits on the whole tree and read failures stop
 * the walk.
 */
static int walk_entry_checked(walk_ctx *w,
                              const git_tree_entry *e,
                              const char *rel,
                              int depth)
{
	int error = walk_entry(w, e, rel, depth);

	if ((error == TG_EINVALID || error == TG_ETOOBIG) && !w->fatal) {
		tg_log(TG_LOG_WARN, "source file refused", "path", rel,
		       "reason", w->what, NULL);
		problem_add(w->t, rel, w->what);
		tg_error_clear();
		return 0;
	}
	return error;
}

static int walk_tree(walk_ctx *w, git_tree *tree, const char *prefix, int depth)
{
	size_t i, n = git_tree_entrycount(tree);
	int error = 0;

	if (depth > TG_MAX_TREE_DEPTH) {
		w->fatal = true;
		return tree_error(w, TG_ETOOBIG, prefix,
		                  "directories nest deeper than "
		                  "TG_MAX_TREE_DEPTH");
	}
	for (i = 0; i < n && !error; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		char *rel;

		w->fatal = true;
		if (++w->entries > TG_MAX_TREE_FILES)
			return tree_error(
			        w, TG_ETOOBIG, prefix,
			        "more entries than TG_MAX_TREE_FILES");
		if (!name_is_plain(name))
			return tree_error(w, TG_EINVALID, prefix,
			                  "tree entry with a name that is not "
			                  "a plain file name");
		w->fatal = false;
		/* Hidden files and directories are never manifests. */
		if (name[0] == '.')
			continue;
		rel = *prefix ? tg_aprintf("%s/%s", prefix, name)
		              : tg_strdup(name);
		error = walk_entry_checked(w, e, rel, depth);
		free(rel);
	}
	return error;
}

/* The tree at source.path in the fetched commit. */
static int subtree(git_tree **out, walk_ctx *w)
{
	git_commit *commit = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	git_oid oid;
	int error = 0;

	*out = NULL;
	if (git_oid_fromstr(&oid, w->t->commit) < 0 ||
	    git_commit_lookup(&commit, tg_gitrepo_raw(w->s->repo), &oid) < 0 ||
	    git_commit_tree(&root, commit) < 0) {
		error = tg_gitrepo_error(w->s->repo, -1,
		                         "cannot read the commit");
		goto out;
	}
	if (!*w->s->path) {
		*out = root;
		root = NULL;
		goto out;
	}
	if (git_tree_entry_bypath(&e, root, w->s->path) < 0) {
		error = tg_error_set(TG_ENOTFOUND,
		                     "%s branch %s at %.12s: source.path "
		                     "\"%s\" does not exist",
		                     w->s->url, w->s->branch, w->t->commit,
		                     w->s->path);
		goto out;
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		error = tg_error_set(TG_EINVALID,
		                     "%s branch %s at %.12s: source.path "
		                     "\"%s\" is not a directory",
		                     w->s->url, w->s->branch, w->t->commit,
		                     w->s->path);
		goto out;
	}
	if (git_tree_lookup(out, tg_gitrepo_raw(w->s->repo),
	                    git_tree_entry_id(e)) < 0)
		error = tg_gitrepo_error(w->s->repo, -1,
		                         "cannot read the tree");
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(commit);
	return error;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const tg_source_file *)a)->path,
	              ((const tg_source_file *)b)->path);
}

int tg_source_read(tg_source_tree **out, tg_source *s)
{
	return tg_source_read_at(out, s, s->commit);
}

int tg_source_read_at(tg_source_tree **out, tg_source *s, const char *commit)
{
	walk_ctx w = { s, NULL, NULL, 0, NULL, false };
	int error;

	*out = NULL;
	if (!commit[0])
		return tg_error_set(TG_ERROR, "%s: nothing fetched yet",
		                    s->url);
	w.t = tg_calloc(1, sizeof(*w.t));
	tg_strlcpy(w.t->commit, commit, sizeof(w.t->commit));
	if ((error = subtree(&w.root, &w)) < 0)
		goto out;
	if ((error = walk_tree(&w, w.root, "", 0)) < 0)
		goto out;
	tg_qsort(w.t->files, w.t->nfiles, sizeof(*w.t->files), file_cmp);
	*out = w.t;
	w.t = NULL;
out:
	git_tree_free(w.root);
	tg_source_tree_free(w.t);
	free(w.what);
	return error;
}

tg_source_tree *tg_source__tree_new(const char *id)
{
	tg_source_tree *t = tg_calloc(1, sizeof(*t));

	tg_strlcpy(t->commit, id, sizeof(t->commit));
	return t;
}

void tg_source__tree_add(tg_source_tree *t, char *path, char *data, size_t len)
{
	tree_add(t, path, data, len);
}

void tg_source__tree_sort(tg_source_tree *t)
{
	tg_qsort(t->files, t->nfiles, sizeof(*t->files), file_cmp);
}

size_t tg_source_tree_count(const tg_source_tree *t)
{
	return t->nfiles;
}

const tg_source_file *tg_source_tree_get(const tg_source_tree *t, size_t i)
{
	return i < t->nfiles ? &t->files[i] : NULL;
}

size_t tg_source_tree_problem_count(const tg_source_tree *t)
{
	return t->nproblems;
}

const tg_source_problem *tg_source_tree_problem(const tg_source_tree *t,
                                                size_t i)
{
	return i < t->nproblems ? &t->problems[i] : NULL;
}

const char *tg_source_tree_commit(const tg_source_tree *t)
{
	return t->commit;
}

void tg_source_tree_free(tg_source_tree *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nfiles; i++) {
		free((char *)t->files[i].path);
		free((char *)t->files[i].data);
	}
	free(t->files);
	for (i = 0; i < t->nproblems; i++) {
		free((char *)t->problems[i].path);
		free((char *)t->problems[i].message);
	}
	free(t->problems);
	free(t);
}
