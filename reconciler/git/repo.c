/*
 * The Git repository module (see tollgate/gitrepo.h): opening the bare
 * cache repository, translating libgit2 errors, and the objects and refs
 * tollgate reads and writes in it. The remote side is in remote.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gitrepo_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

/* ---- Errors ------------------------------------------------------ */

/* The tollgate code for a libgit2 error. */
static int code_for(int gerr, const git_error *e)
{
	switch (gerr) {
	case GIT_ENOTFOUND:
		return TG_ENOTFOUND;
	case GIT_ECERTIFICATE:
		return TG_EUNTRUSTED;
	case GIT_EAUTH:
		return TG_EAUTH;
	case GIT_ENONFASTFORWARD:
	case GIT_EMODIFIED:
		return TG_ECONFLICT;
	default:
		return e && (e->klass == GIT_ERROR_NET ||
		             e->klass == GIT_ERROR_SSH ||
		             e->klass == GIT_ERROR_HTTP ||
		             e->klass == GIT_ERROR_SSL)
		               ? TG_ENET
		               : TG_ERROR;
	}
}

int tg_gitrepo_error(tg_gitrepo *r, int gerr, const char *what)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "unknown error";
	const char *detail = NULL;
	int code = 0;

	if (r->auth.refusal)
		code = r->auth.refusal(&detail, r->auth.payload);
	if (code)
		return tg_error_set(code, "%s: %s: %s", r->url, what, detail);
	return tg_error_set(code_for(gerr, e), "%s: %s: %s", r->url, what, msg);
}

/* ---- Open -------------------------------------------------------- */

/* The cache for a URL: state_dir/git/<first 16 hex of SHA-256(url)>.git,
 * so a changed URL never mixes objects of two repositories. */
static char *cache_path(const char *state_dir, const char *url)
{
	unsigned char d[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1], *dir, *path;

	tg_sha256(d, url, strlen(url));
	tg_hex_encode(hex, d, TG_SHA256_LEN);
	hex[16] = '\0';
	dir = tg_path_join(state_dir, "git");
	path = tg_aprintf("%s/%s.git", dir, hex);
	free(dir);
	return path;
}

/* Remove path when it is a "*.lock" file last changed before cutoff. */
static void remove_if_stale(const char *path, time_t cutoff)
{
	struct stat st;

	if (!tg_str_has_suffix(path, ".lock") || lstat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_mtime >= cutoff)
		return;
	if (unlink(path) == 0)
		tg_log(TG_LOG_WARN, "removed a stale lock from the Git cache",
		       "file", path, NULL);
}

static void remove_stale_in(const char *dir, time_t cutoff, int depth)
{
	DIR *d;
	struct dirent *e;

	if (depth > TG_GIT_MAX_REF_DEPTH || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		char *path;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = tg_path_join(dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_stale_in(path, cutoff, depth + 1);
		else
			remove_if_stale(path, cutoff);
		free(path);
	}
	closedir(d);
}

/*
 * A process killed while updating a ref leaves "<ref>.lock" behind, and
 * libgit2 then refuses every later update of that ref: remove the lock
 * files in refs/ and beside HEAD, packed-refs and config. When no other
 * tollgate has the cache open (owner), every one of them was left by a
 * dead process; otherwise only those older than TG_GIT_STALE_LOCK_S (a
 * live writer holds its lock for milliseconds).
 */
static void remove_stale_locks(const char *cache_dir, bool owner)
{
	static const char *const top[] = { "HEAD.lock", "packed-refs.lock",
		                           "config.lock", "index.lock" };
	time_t cutoff =
	        owner ? time(NULL) + 1 : time(NULL) - TG_GIT_STALE_LOCK_S;
	char *refs = tg_path_join(cache_dir, "refs");
	size_t i;

	remove_stale_in(refs, cutoff, 0);
	free(refs);
	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		char *p = tg_path_join(cache_dir, top[i]);
		remove_if_stale(p, cutoff);
		free(p);
	}
}

/*
 * Whether no other tollgate has the cache open: an advisory lock on
 * <cache>/tollgate.owner, held while r lives; the kernel lets it go when
 * the process ends, however it ends. Without it (another process holds
 * it, or the file cannot be made) the cache is still used, as before.
 */
static bool own_cache(tg_gitrepo *r)
{
	char *path = tg_path_join(r->cache_dir, "tollgate.owner");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	free(path);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return false;
	}
	r->owner_fd = fd;
	return true;
}

/* libgit2's process-wide memory and descriptor limits (limits.h). */
static int limit_libgit2(void)
{
	if (git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT,
	                     (size_t)TG_MAX_GIT_OPEN_PACKS) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT,
	                     (size_t)TG_MAX_GIT_MAPPED) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE,
	                     (ssize_t)TG_MAX_GIT_OBJECT_CACHE) < 0)
		return tg_error_set(TG_ERROR, "libgit2: cannot limit open "
		                              "pack files and caches");
	return 0;
}

int tg_gitrepo_open(tg_gitrepo **out, const tg_gitrepo_opts *opts)
{
	tg_gitrepo *r = tg_calloc(1, sizeof(*r));
	int gerr, error = 0;

	*out = NULL;
	r->owner_fd = -1;
	git_libgit2_init();
	if ((error = limit_libgit2()) < 0)
		goto out;
	r->url = tg_strdup(opts->url);
	r->ca_file = opts->ca_file ? tg_strdup(opts->ca_file) : NULL;
	r->auth = opts->auth;
	r->cache_dir = cache_path(opts->state_dir, opts->url);
	gerr = git_repository_open_bare(&r->repo, r->cache_dir);
	if (gerr == GIT_ENOTFOUND)
		gerr = git_repository_init(&r->repo, r->cache_dir, 1);
	if (gerr < 0) {
		const git_error *e = git_error_last();
		error = tg_error_set(TG_EIO,
		                     "%s: cannot open the Git cache: %s",
		                     r->cache_dir, e ? e->message : "?");
		goto out;
	}
	remove_stale_locks(r->cache_dir, own_cache(r));
	*out = r;
	r = NULL;
out:
	tg_gitrepo_free(r);
	return error;
}

int tg_gitrepo_open_again(tg_gitrepo **out, const tg_gitrepo *r)
{
	tg_gitrepo *o = tg_calloc(1, sizeof(*o));
	int gerr;

	*out = NULL;
	o->owner_fd = -1;
	git_libgit2_init();
	o->url = tg_strdup(r->url);
	o->cache_dir = tg_strdup(r->cache_dir);
	if ((gerr = git_repository_open_bare(&o->repo, o->cache_dir)) < 0) {
		const git_error *e = git_error_last();
		int error = tg_error_set(TG_EIO,
		                         "%s: cannot open the Git cache: %s",
		                         o->cache_dir, e ? e->message : "?");

		tg_gitrepo_free(o);
		return error;
	}
	*out = o;
	return 0;
}

void tg_gitrepo_free(tg_gitrepo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	if (r->owner_fd >= 0)
		close(r->owner_fd);
	free(r->url);
	free(r->cache_dir);
	free(r->ca_file);
	free(r->push_error);
	free(r);
	git_libgit2_shutdown();
}

const char *tg_gitrepo_url(const tg_gitrepo *r)
{
	return r->url;
}

git_repository *tg_gitrepo_raw(tg_gitrepo *r)
{
	return r->repo;
}

/* ---- Refs -------------------------------------------------------- */

int tg_gitrepo_ref_set(tg_gitrepo *r,
                       const char *name,
                       const git_oid *oid,
                       const char *what)
{
	git_reference *ref = NULL;
	int gerr;

	if (!what)
		what = name;
	if (!oid) {
		gerr = git_reference_remove(r->repo, name);
		return gerr == GIT_ENOTFOUND || gerr == 0
		               ? 0
		               : tg_gitrepo_error(r, gerr, what);
	}
	gerr = git_reference_create(&ref, r->repo, name, oid, 1, "tollgate");
	git_reference_free(ref);
	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

int tg_gitrepo_ref_id(git_oid *out, tg_gitrepo *r, const char *name)
{
	return git_reference_name_to_id(out, r->repo, name);
}

int tg_gitrepo_ref_commit(git_commit **out, tg_gitrepo *r, const char *name)
{
	git_oid oid;
	int gerr;

	*out = NULL;
	gerr = git_reference_name_to_id(&oid, r->repo, name);
	if (gerr == GIT_ENOTFOUND)
		return 0;
	if (gerr < 0 || (gerr = git_commit_lookup(out, r->repo, &oid)) < 0)
		return tg_gitrepo_error(r, gerr, name);
	return 0;
}

/* ---- Objects ----------------------------------------------------- */

bool tg_gitrepo_has(tg_gitrepo *r, const git_oid *id)
{
	git_odb *odb = NULL;
	bool have;

	if (git_repository_odb(&odb, r->repo) < 0)
		return false;
	have = git_odb_exists(odb, id);
	git_odb_free(odb);
	return have;
}

int tg_gitrepo_commit_lookup(git_commit **out,
                             tg_gitrepo *r,
                             const git_oid *id,
                             const char *what)
{
	int gerr = git_commit_lookup(out, r->repo, id);

	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

int tg_gitrepo_tree_lookup(git_tree **out,
                           tg_gitrepo *r,
                           const git_oid *id,
                           const char *what)
{
	int gerr = git_tree_lookup(out, r->repo, id);

	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

int tg_gitrepo_commit_file(char **data_out,
                           size_t *len_out,
                           tg_gitrepo *r,
                           git_commit *commit,
                           const char *path,
                           size_t max)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	size_t len;
	int error = TG_ENOTFOUND;

	*data_out = NULL;
	if (git_commit_tree(&tree, commit) < 0 ||
	    git_tree_entry_bypath(&e, tree, path) < 0 ||
	    git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, r->repo, git_tree_entry_id(e)) < 0)
		goto out;
	error = TG_ETOOBIG;
	if (git_blob_rawsize(blob) > max)
		goto out;
	len = (size_t)git_blob_rawsize(blob);
	*data_out = tg_malloc(len + 1);
	memcpy(*data_out, git_blob_rawcontent(blob), len);
	(*data_out)[len] = '\0';
	*len_out = len;
	error = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return error;
}

int tg_gitrepo_merge_base(git_oid *out,
                          tg_gitrepo *r,
                          const git_oid *a,
                          const git_oid *b)
{
	return git_merge_base(out, r->repo, a, b);
}

int tg_gitrepo_treebuilder_new(git_treebuilder **out,
                               tg_gitrepo *r,
                               const char *what)
{
	int gerr = git_treebuilder_new(out, r->repo, NULL);

	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

int tg_gitrepo_blob_write(git_oid *out,
                          tg_gitrepo *r,
                          const char *data,
                          size_t len,
                          const char *what)
{
	int gerr = git_blob_create_from_buffer(out, r->repo, data, len);

	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

/*
 * A blob from pieces: kept in memory while it is small, and made with
 * git_blob_create_from_buffer; once it passes TG_BLOB_BUFFERED_MAX, what
 * was kept goes into libgit2's stream and the rest follows it. The
 * stream writes a temporary file, reads it back and reads the
 * repository's configuration again for each blob, such as each of the
 * hundred unit files of a status commit at 10,000 objects.
 */
#define TG_BLOB_BUFFERED_MAX (1024 * 1024)

typedef struct blob_sink {
	tg_gitrepo *r;
	tg_buf buf;
	git_writestream *ws;
	int gerr;
} blob_sink;

/* put for tg_gitrepo_blob_write_from: one piece into the blob. */
static int put_piece(const char *piece, size_t len, void *wctx)
{
	blob_sink *s = wctx;

	if (!s->ws && len <= TG_BLOB_BUFFERED_MAX - s->buf.len)
		return tg_buf_append(&s->buf, piece, len) < 0 ? -1 : 0;
	if (!s->ws) {
		if ((s->gerr = git_blob_create_from_stream(&s->ws, s->r->repo,
		                                           NULL)) < 0) {
			s->ws = NULL;
			return -1;
		}
		if (s->buf.len &&
		    s->ws->write(s->ws, s->buf.data, s->buf.len) < 0)
			return -1;
		tg_buf_free(&s->buf);
	}
	return s->ws->write(s->ws, piece, len) < 0 ? -1 : 0;
}

int tg_gitrepo_blob_write_from(git_oid *out,
                               tg_gitrepo *r,
                               int (*fill)(void *ctx,
                                           tg_gitrepo_put_fn put,
                                           void *wctx),
                               void *ctx,
                               const char *what)
{
	blob_sink s = { 0 };
	int gerr, error;

	s.r = r;
	tg_buf_init(&s.buf, TG_BLOB_BUFFERED_MAX);
	error = fill(ctx, put_piece, &s);
	if (s.gerr < 0) /* the stream could not be made */
		error = tg_gitrepo_error(r, s.gerr, what);
	if (error < 0) {
		if (s.ws)
			s.ws->free(s.ws);
		tg_buf_free(&s.buf);
		return error;
	}
	if (s.ws) /* the commit frees the stream */
		gerr = git_blob_create_from_stream_commit(out, s.ws);
	else
		gerr = git_blob_create_from_buffer(
		        out, r->repo, s.buf.data ? s.buf.data : "", s.buf.len);
	tg_buf_free(&s.buf);
	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

int tg_gitrepo_commit_write(git_oid *out,
                            tg_gitrepo *r,
                            const git_tree *tree,
                            const git_commit *parent,
                            const git_signature *sig,
                            const char *message,
                            const char *what)
{
	const git_commit *parents[1] = { parent };
	int gerr = git_commit_create(out, r->repo, NULL, sig, sig, NULL,
	                             message, tree, parent ? 1 : 0, parents);

	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

int tg_gitrepo_note_write(git_oid *out,
                          tg_gitrepo *r,
                          git_commit *notes_tip,
                          const git_signature *sig,
                          const git_oid *target,
                          const char *note,
                          const char *what)
{
	git_oid blob;
	int gerr = git_note_commit_create(out, &blob, r->repo, notes_tip, sig,
	                                  sig, target, note, 1);

	return gerr < 0 ? tg_gitrepo_error(r, gerr, what) : 0;
}

bool tg_gitrepo_note_exists(tg_gitrepo *r,
                            git_commit *notes_tip,
                            const git_oid *target)
{
	git_note *note = NULL;

	if (!notes_tip ||
	    git_note_commit_read(&note, r->repo, notes_tip, target) < 0)
		return false;
	git_note_free(note);
	return true;
}
