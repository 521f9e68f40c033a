/*
 * Status commits and notes (DESIGN.md 3.6). The status branch is built in
 * the source's cache repository from objects tollgate writes itself (no
 * work tree), on top of the remote's current tip, and pushed together with
 * the notes ref. A push refused because someone else pushed in between is
 * rebuilt on the new tips: the other commit is kept, ours goes on top.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "statusdoc_int.h"
#include "tollgate/gitrepo.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

/* Where the remote's status branch and notes are tracked in the cache,
 * and the refs pushed from. */
#define TRACK_STATUS TG_STATUS_TRACK_BRANCH
#define TRACK_NOTES TG_STATUS_TRACK_NOTES
#define PUSH_STATUS "refs/tollgate/push/status"
#define PUSH_NOTES "refs/tollgate/push/notes"

/* One attempt's state; everything owned is freed by attempt_clear(). */
typedef struct attempt {
	git_commit *tip;       /* status branch tip, NULL if none yet */
	git_commit *notes_tip; /* notes ref tip, NULL if none yet */
	tg_statusprev *prev;   /* status.json at tip, in digests */
	bool prev_from_file;   /* ... read from the digests file */
	git_oid commit;        /* new status commit */
	git_oid notes_commit;  /* new notes commit */
	bool notes_only;       /* status unchanged, only the note is missing */
	bool no_notes;         /* an OCI source: no source commit to annotate */
} attempt;

static void attempt_clear(attempt *a)
{
	git_commit_free(a->tip);
	git_commit_free(a->notes_tip);
	tg_statusprev_free(a->prev);
	memset(a, 0, sizeof(*a));
}

static int git_fail(tg_gitrepo *src, int gerr, const char *what)
{
	return tg_gitrepo_error(src, gerr < 0 ? gerr : -1, what);
}

/* status.json at the tip in digests: from the digests file when it is
 * the one saved for this very commit, else read unit by unit; NULL (not
 * an error) when missing or not JSON, so a damaged status branch is
 * repaired by the next commit. */
static void read_prev(attempt *a, tg_gitrepo *src, const char *digests)
{
	char *data = NULL;
	size_t len = 0;

	if (!a->tip)
		return;
	if (tg_statusprev_load(&a->prev, digests,
	                       git_oid_tostr_s(git_commit_id(a->tip))) == 0 &&
	    a->prev) {
		a->prev_from_file = true;
		return;
	}
	if (tg_gitrepo_commit_file(&data, &len, src, a->tip, "status.json",
	                           TG_MAX_STATUS_BYTES) < 0)
		return;
	a->prev = tg_statusprev_parse(data, len);
	free(data);
}

/* The status branch must never share history with the deploy branch:
 * a merge of the two would put status files into the deploy tree. */
static int
check_unrelated(tg_gitrepo *src, const git_commit *tip, const git_oid *source)
{
	git_oid base;
	int gerr;

	if (!tip || !tg_gitrepo_has(src, source))
		return 0; /* nothing to compare with in this cache */
	gerr = tg_gitrepo_merge_base(&base, src, git_commit_id(tip), source);
	if (gerr == GIT_ENOTFOUND)
		return 0;
	if (gerr < 0)
		return git_fail(src, gerr, "status branch history");
	return tg_error_set(TG_EINVALID,
	                    "%s: the status branch shares history with the "
	                    "deploy branch (common commit %.12s); refusing to "
	                    "write status to it: point status.branch at a new "
	                    "branch",
	                    tg_gitrepo_url(src), git_oid_tostr_s(&base));
}

/* ---- Tree -------------------------------------------------------- */

static int insert_blob(git_treebuilder *tb,
                       tg_gitrepo *src,
                       const char *name,
                       const char *data)
{
	git_oid oid;
	int gerr, error;

	if ((error = tg_gitrepo_blob_write(&oid, src, data, strlen(data),
	                                   name)) < 0)
		return error;
	if ((gerr = git_treebuilder_insert(NULL, tb, name, &oid,
	                                   GIT_FILEMODE_BLOB)) < 0)
		return git_fail(src, gerr, name);
	return 0;
}

/* The text of a JSON value as status files hold it: indented by 2, keys
 * sorted, a newline at the end; written to the blob piece by piece. */
typedef struct json_piece {
	const json_t *v;
	const char *name;
	const tg_status_frags *frags;
} json_piece;

static int fill_json(void *ctx, tg_gitrepo_put_fn put, void *wctx)
{
	const json_piece *jp = ctx;

	if (tg_status_json_write(jp->v, jp->frags, put, wctx) < 0 ||
	    put("\n", 1, wctx) < 0)
		return tg_error_set(TG_ERROR, "status: cannot serialise %s",
		                    jp->name);
	return 0;
}

static int insert_json(git_treebuilder *tb,
                       tg_gitrepo *src,
                       const char *name,
                       const json_t *v,
                       const tg_status_frags *frags)
{
	json_piece jp = { v, name, frags };
	git_oid oid;
	int gerr, error;

	if ((error = tg_gitrepo_blob_write_from(&oid, src, fill_json, &jp,
	                                        name)) < 0)
		return error;
	if ((gerr = git_treebuilder_insert(NULL, tb, name, &oid,
	                                   GIT_FILEMODE_BLOB)) < 0)
		return git_fail(src, gerr, name);
	return 0;
}

/*
 * File name for a unit: the unit name (a directory name from the deploy
 * repository) + ".json"; control characters become '_' and then the
 * first 8 hex of SHA-256(name) are added so two names cannot collide.
 */
static char *unit_file_name(const char *unit)
{
	char *safe = tg_strdup(unit), *p, *name;
	unsigned char d[TG_SHA256_LEN];
	char hex[2 * TG_SHA256_LEN + 1];
	bool changed = false;

	for (p = safe; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/' ||
		    *p == '\\') {
			*p = '_';
			changed = true;
		}
	}
	if (!changed && strcmp(safe, ".") && strcmp(safe, "..")) {
		name = tg_aprintf("%s.json", safe);
	} else {
		tg_sha256(d, unit, strlen(unit));
		tg_hex_encode(hex, d, TG_SHA256_LEN);
		name = tg_aprintf("%s-%.8s.json", safe, hex);
	}
	free(safe);
	return name;
}

/* Entries of list (drift or violations) whose "unit" is name. */
static json_t *filter_unit(const json_t *list, const char *name)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(list, i, v) {
		const char *u = json_string_value(json_object_get(v, "unit"));
		if (u && !strcmp(u, name))
			json_array_append(out, v);
	}
	return out;
}

/* units/<unit>.json: the unit with the document's context. */
static json_t *unit_doc(const json_t *doc, const char *name, json_t *u)
{
	/* Only members of its own are set: a shallow copy serves. */
	json_t *d = json_copy(u);
	const char *keys[] = { "sourceCommit", "sourceUrl", "sourceBranch",
		               "time" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(doc, keys[i]))
			json_object_set(d, keys[i],
			                json_object_get(doc, keys[i]));
	json_object_set_new(d, "unit", json_string(name));
	json_object_set_new(d, "drift",
	                    filter_unit(json_object_get(doc, "drift"), name));
	json_object_set_new(
	        d, "violations",
	        filter_unit(json_object_get(doc, "violations"), name));
	return d;
}

static int build_units_tree(git_oid *out,
                            tg_gitrepo *src,
                            const json_t *doc,
                            const tg_status_frags *frags)
{
	git_treebuilder *tb = NULL;
	const char *name;
	json_t *u;
	int gerr, error = 0;

	if ((error = tg_gitrepo_treebuilder_new(&tb, src, "status tree")) < 0)
		return error;
	json_object_foreach(json_object_get(doc, "units"), name, u) {
		char *file = unit_file_name(name);
		json_t *ud = unit_doc(doc, name, u);

		error = insert_json(tb, src, file, ud, frags);
		json_decref(ud);
		free(file);
		if (error < 0)
			goto out;
	}
	if ((gerr = git_treebuilder_write(out, tb)) < 0)
		error = git_fail(src, gerr, "status tree");
out:
	git_treebuilder_free(tb);
	return error;
}

/* units/ built by another thread, into a handle of its own, while this
 * one writes status.json (about half of the bytes each). Only reads of
 * doc are shared: jansson's counts are atomic and dumping changes
 * nothing. */
typedef struct units_job {
	tg_gitrepo *repo;
	const json_t *doc;
	const tg_status_frags *frags;
	git_oid oid;
	int error;
	char *message; /* of the error, carried over from the thread */
} units_job;

static void *units_work(void *arg)
{
	units_job *j = arg;

	if ((j->error = build_units_tree(&j->oid, j->repo, j->doc, j->frags)) <
	    0)
		j->message = tg_strdup(tg_error_last());
	return NULL;
}

/* Start units_work; false when no thread (or handle) could be had: the
 * caller builds units/ itself. */
static bool units_start(pthread_t *t, units_job *j, tg_gitrepo *src)
{
	if (tg_gitrepo_open_again(&j->repo, src) < 0)
		return false;
	if (tg_thread_start(t, units_work, j)) {
		tg_gitrepo_free(j->repo);
		j->repo = NULL;
		return false;
	}
	return true;
}

/* Join units_work; its result, with its error set in this thread unless
 * keep (this thread's own error stands). */
static int units_join(pthread_t t, units_job *j, git_oid *out, bool keep)
{
	int error;

	pthread_join(t, NULL);
	tg_gitrepo_free(j->repo);
	error = j->error;
	if (error < 0 && !keep)
		error = tg_error_set(error, "%s", j->message);
	else if (error == 0)
		git_oid_cpy(out, &j->oid);
	free(j->message);
	return error;
}

/* The whole status tree: status.json, STATUS.md, units/. */
static int build_tree(git_oid *out, tg_gitrepo *src, const json_t *doc)
{
	git_treebuilder *tb = NULL;
	git_oid units;
	/* the image entries both threads copy: made before either writes */
	tg_status_frags *frags = tg_status_frags_new(doc);
	units_job job = { .doc = doc, .frags = frags };
	pthread_t t;
	bool threaded = units_start(&t, &job, src);
	char *md = NULL;
	int gerr, error, uerror = 0;

	if ((error = tg_status_markdown(&md, doc)) == 0 &&
	    (error = tg_gitrepo_treebuilder_new(&tb, src, "status tree")) ==
	            0 &&
	    (error = insert_json(tb, src, "status.json", doc, frags)) == 0)
		error = insert_blob(tb, src, "STATUS.md", md);
	/* joined on every path: it reads doc */
	if (threaded)
		uerror = units_join(t, &job, &units, error < 0);
	else if (error == 0)
		uerror = build_units_tree(&units, src, doc, frags);
	if (error == 0)
		error = uerror;
	if (error < 0)
		goto out;
	if (json_object_size(json_object_get(doc, "units")) &&
	    (gerr = git_treebuilder_insert(NULL, tb, "units", &units,
	                                   GIT_FILEMODE_TREE)) < 0) {
		error = git_fail(src, gerr, "status tree");
		goto out;
	}
	if ((gerr = git_treebuilder_write(out, tb)) < 0)
		error = git_fail(src, gerr, "status tree");
out:
	git_treebuilder_free(tb);
	tg_status_frags_free(frags);
	free(md);
	return error;
}

/* ---- Commits ----------------------------------------------------- */

/* The note on the source commit, on top of the notes tip. */
static int make_note(attempt *a,
                     tg_gitrepo *src,
                     const json_t *doc,
                     const git_signature *sig,
                     const git_oid *source)
{
	char *note = NULL;
	int error;

	if ((error = tg_status_note(&note, doc)) < 0)
		return error;
	error = tg_gitrepo_note_write(&a->notes_commit, src, a->notes_tip, sig,
	                              source, note, "status note");
	free(note);
	return error;
}

static int make_commits(attempt *a,
                        tg_gitrepo *src,
                        const tg_statusprev *cur,
                        const json_t *doc,
                        const git_signature *sig,
                        const git_oid *source)
{
	git_tree *tree = NULL;
	git_oid tree_oid;
	char *msg = NULL;
	int error = 0;

	if ((error = tg_statusdoc_message(&msg, a->prev, cur, doc)) < 0 ||
	    (error = build_tree(&tree_oid, src, doc)) < 0 ||
	    (error = tg_gitrepo_tree_lookup(&tree, src, &tree_oid,
	                                    "status tree")) < 0)
		goto out;
	/* No parent for the first: the branch starts its own history. */
	if ((error = tg_gitrepo_commit_write(&a->commit, src, tree, a->tip, sig,
	                                     msg, "status commit")) < 0)
		goto out;
	if (!a->no_notes)
		error = make_note(a, src, doc, sig, source);
out:
	git_tree_free(tree);
	free(msg);
	return error;
}

/* Does the notes tip hold a note for the source commit? */
static bool note_exists(attempt *a, tg_gitrepo *src, const git_oid *source)
{
	return tg_gitrepo_note_exists(src, a->notes_tip, source);
}

static int set_ref(tg_gitrepo *src, const char *name, const git_oid *oid)
{
	return tg_gitrepo_ref_set(src, name, oid, NULL);
}

/* Read the current tips: the remote's (fetched now) or, without push,
 * the cache's own branch. */
static int load_tips(attempt *a,
                     tg_gitrepo *src,
                     const tg_status_opts *o,
                     const char *branch_ref,
                     bool fetch)
{
	const char *remote[2] = { branch_ref, o->notes_ref };
	const char *local[2] = { TRACK_STATUS, TRACK_NOTES };
	int error;

	if (o->push && fetch &&
	    (error = tg_gitrepo_fetch_refs(src, remote, local, 2)) < 0)
		return error;
	if ((error = tg_gitrepo_ref_commit(
	             &a->tip, src, o->push ? TRACK_STATUS : branch_ref)) < 0 ||
	    (error = tg_gitrepo_ref_commit(&a->notes_tip, src,
	                                   o->push ? TRACK_NOTES
	                                           : o->notes_ref)) < 0)
		return error;
	read_prev(a, src, o->digests_path);
	return 0;
}

/* Push both refs (only the notes when notes_only); on success the
 * tracking refs follow. */
static int push_commits(bool *rejected,
                        attempt *a,
                        tg_gitrepo *src,
                        const tg_status_opts *o,
                        const char *branch_ref)
{
	char *specs[2];
	size_t n = a->notes_only ? 1 : 2, first = a->no_notes ? 1 : 0;
	int error = 0;

	specs[0] = tg_aprintf(PUSH_NOTES ":%s", o->notes_ref);
	specs[1] = tg_aprintf(PUSH_STATUS ":%s", branch_ref);
	if ((!a->no_notes &&
	     (error = set_ref(src, PUSH_NOTES, &a->notes_commit)) < 0) ||
	    (!a->notes_only &&
	     (error = set_ref(src, PUSH_STATUS, &a->commit)) < 0))
		goto out;
	error = tg_gitrepo_push(rejected, src,
	                        (const char *const *)specs + first, n - first);
	if (error || *rejected)
		goto out;
	if ((a->no_notes ||
	     (error = set_ref(src, TRACK_NOTES, &a->notes_commit)) == 0) &&
	    !a->notes_only)
		error = set_ref(src, TRACK_STATUS, &a->commit);
out:
	free(specs[0]);
	free(specs[1]);
	return error;
}

/* Store the new commits: local refs without push, else push. 1 when done,
 * 0 when the remote moved, or an error. */
static int store(tg_status_result *r,
                 attempt *a,
                 tg_gitrepo *src,
                 const tg_status_opts *o,
                 const char *branch_ref)
{
	bool rejected = false;
	int error;

	if (!o->push) {
		if ((a->no_notes || (error = set_ref(src, o->notes_ref,
		                                     &a->notes_commit)) == 0) &&
		    !a->notes_only)
			error = set_ref(src, branch_ref, &a->commit);
		return error < 0 ? error : 1;
	}
	if (o->before_push)
		o->before_push(o->before_push_ctx, r->attempts);
	r->attempts++;
	if ((error = push_commits(&rejected, a, src, o, branch_ref)) < 0)
		return error;
	r->pushed = !rejected;
	return rejected ? 0 : 1;
}

/* One attempt: 1 when done, 0 to retry (the remote moved), or an error.
 * *docp is NULL after the caller's doc_release (see tg_status_opts). */
static int publish_once(tg_status_result *r,
                        attempt *a,
                        tg_gitrepo *src,
                        const tg_status_opts *o,
                        const tg_statusprev *cur,
                        const json_t **docp,
                        const git_signature *sig)
{
	char *branch_ref = tg_aprintf("refs/heads/%s", o->branch);
	const json_t *doc = *docp;
	git_oid source;
	int error;

	/* An OCI source has no commit: no note, no shared history. */
	a->no_notes = !json_object_get(doc, "sourceCommit");
	memset(&source, 0, sizeof(source));
	if (!a->no_notes)
		git_oid_fromstr(&source, json_string_value(json_object_get(
		                                 doc, "sourceCommit")));
	/* Tips fetched with the source this cycle serve the first attempt;
	 * after a refused push they are fetched again. */
	if ((error = load_tips(a, src, o, branch_ref,
	                       !(o->tips_fetched && r->attempts == 0))) < 0 ||
	    (!a->no_notes &&
	     (error = check_unrelated(src, a->tip, &source)) < 0))
		goto out;
	if (a->tip && tg_statusprev_same(a->prev, cur)) {
		git_oid_tostr(r->commit, sizeof(r->commit),
		              git_commit_id(a->tip));
		/* Nothing new, unless an earlier push stored the status
		 * but not its note (two refs are not pushed atomically). */
		error = 1;
		if (a->no_notes || note_exists(a, src, &source))
			goto out;
		a->notes_only = true;
		error = make_note(a, src, doc, sig, &source);
	} else {
		error = make_commits(a, src, cur, doc, sig, &source);
	}
	if (error == 0 && o->doc_release) {
		o->doc_release(o->doc_ctx);
		*docp = NULL;
	}
	if (error < 0 || (error = store(r, a, src, o, branch_ref)) != 1)
		goto out;
	if (!a->notes_only) {
		r->committed = true;
		git_oid_tostr(r->commit, sizeof(r->commit), &a->commit);
	}
out:
	free(branch_ref);
	return error;
}

/* Remember the digests of the status now at the tip, unless the file
 * already holds them; a failure only costs the next publish a read. */
static void save_digests(const tg_status_result *r,
                         const tg_status_opts *o,
                         const tg_statusprev *cur,
                         bool file_current)
{
	if (!o->digests_path || !r->commit[0] ||
	    (file_current && !r->committed))
		return;
	if (tg_statusprev_save(cur, o->digests_path, r->commit) < 0)
		tg_log(TG_LOG_WARN, "status digests not saved", "error",
		       tg_error_last(), NULL);
}

int tg_status_publish(tg_status_result *out,
                      tg_gitrepo *src,
                      const tg_status_opts *opts,
                      const json_t *doc)
{
	git_signature *sig = NULL;
	tg_statusprev *cur;
	attempt a = { 0 };
	bool file_current = false;
	int i, error;

	memset(out, 0, sizeof(*out));
	if ((error = tg_status_validate(doc)) < 0)
		return error;
	if (git_signature_new(&sig, opts->author_name, opts->author_email,
	                      (git_time_t)tg_now(), 0) < 0)
		return git_fail(src, -1, "status.author");
	cur = tg_statusprev_of(doc);
	for (i = 0; i < TG_STATUS_PUSH_ATTEMPTS; i++) {
		if (!doc && !(doc = opts->doc_reload(opts->doc_ctx))) {
			error = tg_error_set(
			        TG_ERROR,
			        "%s: the status document cannot be "
			        "read back to publish again",
			        tg_gitrepo_url(src));
			break;
		}
		error = publish_once(out, &a, src, opts, cur, &doc, sig);
		file_current = a.prev_from_file;
		attempt_clear(&a);
		if (error != 0)
			break;
	}
	if (error == 0)
		error = tg_error_set(TG_ECONFLICT,
		                     "%s: status push refused %d times (the "
		                     "remote kept moving); will retry next "
		                     "cycle",
		                     tg_gitrepo_url(src),
		                     TG_STATUS_PUSH_ATTEMPTS);
	else if (error == 1)
		error = 0;
	if (!error)
		save_digests(out, opts, cur, file_current);
	if (!error && out->committed)
		tg_log(TG_LOG_INFO, "status committed", "commit", out->commit,
		       "branch", opts->branch, NULL);
	tg_statusprev_free(cur);
	git_signature_free(sig);
	return error;
}
