/*
 * The Git source (DESIGN.md 1 step 1): fetch one branch into the bare
 * cache repository (tollgate/gitrepo.h) and remember its commit. The
 * credentials and host-key checks are in auth.c, reading the manifests
 * below source.path from the object database in tree.c.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "source_int.h"
#include "tollgate/error.h"
#include "tollgate/log.h"
#include "tollgate/source.h"
#include "tollgate/util.h"

/* Local ref the fetched branch is kept under in the cache. */
#define SOURCE_REF_PREFIX "refs/tollgate/source/"

/* ---- Open -------------------------------------------------------- */

/* A password in the URL would end up in logs and status: refuse it. */
static bool url_has_password(const char *url)
{
	const char *h = strstr(url, "://"), *end, *at, *colon;

	if (!h)
		return false;
	h += 3;
	end = h + strcspn(h, "/");
	if (!(at = memchr(h, '@', (size_t)(end - h))))
		return false;
	colon = memchr(h, ':', (size_t)(at - h));
	return colon != NULL;
}

/* "clusters/prod/" -> "clusters/prod"; "" and "." -> "". */
static int normalise_path(char **out, const char *p)
{
	size_t n;

	*out = NULL;
	if (!p)
		p = "";
	while (*p == '/')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && p[0] == '.')) {
		*out = tg_strdup("");
		return 0;
	}
	*out = tg_strndup(p, n);
	if (!tg_path_is_safe_relative(*out)) {
		free(*out);
		*out = NULL;
		return tg_error_set(TG_EINVALID,
		                    "source.path \"%s\": not a relative path "
		                    "inside the repository",
		                    p);
	}
	return 0;
}

/* Check and copy the options into s. */
static int source_init_opts(tg_source *s, const tg_source_opts *o)
{
	char *ref;
	int valid = 0, error;

	if (!o->url || !*o->url || !o->branch || !*o->branch || !o->state_dir)
		return tg_error_set(TG_EINVALID, "source: url, branch and "
		                                 "stateDir are required");
	if (url_has_password(o->url))
		return tg_error_set(TG_EINVALID,
		                    "source.url: contains a password; put it "
		                    "in source.auth.passwordFile instead");
	ref = tg_aprintf("refs/heads/%s", o->branch);
	git_reference_name_is_valid(&valid, ref);
	free(ref);
	if (!valid)
		return tg_error_set(TG_EINVALID,
		                    "source.branch \"%s\": not a valid branch "
		                    "name",
		                    o->branch);
	s->url = tg_strdup(o->url);
	s->branch = tg_strdup(o->branch);
	if ((error = normalise_path(&s->path, o->path)) < 0)
		return error;
	return tg_source_auth_init(&s->auth, o);
}

/* The commit a previous run fetched, so "has it moved?" works after a
 * restart; a cache without it leaves commit empty. */
static void load_cached_commit(tg_source *s)
{
	char *name = tg_aprintf(SOURCE_REF_PREFIX "%s", s->branch);
	git_oid oid;

	if (tg_gitrepo_ref_id(&oid, s->repo, name) == 0)
		git_oid_tostr(s->commit, sizeof(s->commit), &oid);
	free(name);
}

int tg_source_open(tg_source **out, const tg_source_opts *opts)
{
	tg_source *s = tg_calloc(1, sizeof(*s));
	tg_gitrepo_opts ro = { 0 };
	int error = 0;

	*out = NULL;
	git_libgit2_init();
	if ((error = source_init_opts(s, opts)) < 0)
		goto out;
	ro.url = s->url;
	ro.state_dir = opts->state_dir;
	ro.ca_file = opts->ca_file && *opts->ca_file ? opts->ca_file : NULL;
	ro.auth = tg_source_auth_hooks(&s->auth);
	if ((error = tg_gitrepo_open(&s->repo, &ro)) < 0)
		goto out;
	load_cached_commit(s);
	tg_source_load_verified(s);
	*out = s;
	s = NULL;
out:
	tg_source_free(s);
	return error;
}

/* ---- Fetch ------------------------------------------------------- */

/* The remote's commit for refs/heads/<branch>. */
static int
find_remote_branch(git_oid *oid, tg_source *s, const tg_gitrepo_conn *c)
{
	char *want = tg_aprintf("refs/heads/%s", s->branch);
	const git_oid *listed = tg_gitrepo_conn_lookup(c, want);

	free(want);
	if (listed) {
		git_oid_cpy(oid, listed);
		return 0;
	}
	return tg_error_set(TG_ENOTFOUND,
	                    "%s: branch \"%s\" does not exist on the remote; "
	                    "check source.url and source.branch",
	                    s->url, s->branch);
}

/* Point the cache's ref at the fetched commit, which must be a commit. */
static int record_commit(tg_source *s, const git_oid *oid)
{
	git_commit *commit = NULL;
	char *name = tg_aprintf(SOURCE_REF_PREFIX "%s", s->branch);
	int error;

	if ((error = tg_gitrepo_commit_lookup(
	             &commit, s->repo, oid,
	             "the branch does not point to a commit")) < 0 ||
	    (error = tg_gitrepo_ref_set(s->repo, name, oid,
	                                "cannot update the cache")) < 0)
		goto out;
	git_oid_tostr(s->commit, sizeof(s->commit), oid);
	tg_log(TG_LOG_DEBUG, "fetched", "url", s->url, "branch", s->branch,
	       "commit", s->commit, NULL);
out:
	git_commit_free(commit);
	free(name);
	return error;
}

/*
 * Download the branch and remote_refs in one negotiation. The branch's
 * refspec comes first; the cache's own ref name is its local side.
 */
static int download(tg_gitrepo_conn *c,
                    tg_source *s,
                    const char *const *remote_refs,
                    const char *const *local_refs,
                    size_t n)
{
	const char **remote = tg_calloc(n + 1, sizeof(char *));
	const char **local = tg_calloc(n + 1, sizeof(char *));
	char *branch = tg_aprintf("refs/heads/%s", s->branch);
	char *track = tg_aprintf(SOURCE_REF_PREFIX "%s", s->branch);
	int error;

	remote[0] = branch;
	local[0] = track;
	if (n) {
		memcpy(remote + 1, remote_refs, n * sizeof(char *));
		memcpy(local + 1, local_refs, n * sizeof(char *));
	}
	error = tg_gitrepo_conn_download(c, remote, local, n + 1);
	free(branch);
	free(track);
	free(remote);
	free(local);
	return error;
}

/*
 * Point local_refs[i] at what the remote lists for remote_refs[i]
 * (deleting it when the remote lists none). With extra_ok, failing to
 * store them is not an error of the fetch: *extra_ok says whether they
 * were stored. Without it, the failure is returned.
 */
static int store_extra(bool *extra_ok,
                       tg_source *s,
                       const tg_gitrepo_conn *c,
                       const char *const *remote_refs,
                       const char *const *local_refs,
                       size_t n)
{
	size_t i;
	int error = 0;

	for (i = 0; i < n && !error; i++)
		error = tg_gitrepo_ref_set(
		        s->repo, local_refs[i],
		        tg_gitrepo_conn_lookup(c, remote_refs[i]), NULL);
	if (!extra_ok)
		return error;
	*extra_ok = error == 0;
	if (error < 0)
		tg_log(TG_LOG_WARN, "refs fetched with the branch not stored",
		       "error", tg_error_last(), NULL);
	return 0;
}

/*
 * Connect to s's remote and download in one negotiation the branch's tip
 * and each remote_refs[i] the remote lists that the cache lacks; then make
 * the tip s's commit and point local_refs[i] at what the remote lists.
 * 0 or a negative TG_E* code with the detail recorded.
 */
static int fetch(tg_source *s,
                 const char *const *remote_refs,
                 const char *const *local_refs,
                 size_t n,
                 bool *extra_ok)
{
	tg_gitrepo_conn *c = NULL;
	git_oid oid;
	int error;

	/* Nothing of the cache is held between fetches: compact it here. */
	if (tg_gitrepo_compact(s->repo) < 0)
		tg_log(TG_LOG_WARN, "Git cache not compacted", "error",
		       tg_error_last(), NULL);
	if ((error = tg_gitrepo_connect(&c, s->repo)) < 0 ||
	    (error = find_remote_branch(&oid, s, c)) < 0 ||
	    (error = download(c, s, remote_refs, local_refs, n)) < 0 ||
	    (error = record_commit(s, &oid)) < 0)
		goto out;
	error = store_extra(extra_ok, s, c, remote_refs, local_refs, n);
out:
	tg_gitrepo_conn_free(c);
	return error;
}

int tg_source_fetch_with(tg_source *s,
                         const char *const *remote_refs,
                         const char *const *local_refs,
                         size_t n,
                         bool *extra_ok)
{
	return fetch(s, remote_refs, local_refs, n, extra_ok);
}

int tg_source_fetch(tg_source *s)
{
	return fetch(s, NULL, NULL, 0, NULL);
}

int tg_source_remote_head(char oid_out[TG_SOURCE_OID_HEX],
                          bool *moved,
                          tg_source *s)
{
	tg_gitrepo_conn *c = NULL;
	git_oid oid;
	int error;

	oid_out[0] = '\0';
	*moved = false;
	if ((error = tg_gitrepo_connect(&c, s->repo)) < 0 ||
	    (error = find_remote_branch(&oid, s, c)) < 0)
		goto out;
	git_oid_tostr(oid_out, TG_SOURCE_OID_HEX, &oid);
	*moved = strcmp(oid_out, s->commit) != 0;
out:
	tg_gitrepo_conn_free(c);
	return error;
}

/* ---- Accessors --------------------------------------------------- */

const char *tg_source_commit(const tg_source *s)
{
	return s->commit;
}

const char *tg_source_url(const tg_source *s)
{
	return s->url;
}

tg_gitrepo *tg_source_gitrepo(tg_source *s)
{
	return s->repo;
}

void tg_source_free(tg_source *s)
{
	if (!s)
		return;
	tg_gitrepo_free(s->repo);
	free(s->url);
	free(s->branch);
	free(s->path);
	tg_source_auth_clear(&s->auth);
	free(s);
	git_libgit2_shutdown();
}
