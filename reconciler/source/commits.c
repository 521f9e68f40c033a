/*
 * Commits of the source and their signatures (tollgate/source.h): the
 * signed payload and the gpgsig header extracted with libgit2, the
 * commits between the last verified one and a new head, and the record
 * of the last verified commit in the cache. What a signature is worth is
 * decided in verify/sig/ (tollgate/commitsig.h), which knows nothing of
 * Git.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "source_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/source.h"
#include "tollgate/util.h"

/* Local ref of the last commit whose signature verified. */
#define VERIFIED_REF_PREFIX "refs/tollgate/verified/"

static char *person(const git_signature *sig)
{
	return tg_aprintf("%s <%s>", sig && sig->name ? sig->name : "",
	                  sig && sig->email ? sig->email : "");
}

/* Copy a libgit2 buffer, refusing more than max bytes. */
static int take_buf(char **out,
                    size_t *len,
                    const git_buf *b,
                    size_t max,
                    const char *what,
                    const char *id)
{
	if (b->size > max)
		return tg_error_set(TG_ETOOBIG,
		                    "commit %.12s: %s of %zu bytes is over the "
		                    "limit of %zu",
		                    id, what, b->size, max);
	*out = tg_strndup(b->ptr, b->size);
	*len = b->size;
	return 0;
}

static int
extract_signature(tg_source_commit_info *out, tg_source *s, git_oid *oid)
{
	git_buf sig = { 0 }, data = { 0 };
	int gerr, error;

	gerr = git_commit_extract_signature(&sig, &data,
	                                    tg_gitrepo_raw(s->repo), oid, NULL);
	if (gerr == GIT_ENOTFOUND) {
		error = 0; /* unsigned: the caller says what that means */
		goto out;
	}
	if (gerr < 0) {
		error = tg_gitrepo_error(s->repo, gerr,
		                         "cannot read the commit's signature");
		goto out;
	}
	if ((error = take_buf(&out->signature, &out->signature_len, &sig,
	                      TG_MAX_COMMIT_SIGNATURE_BYTES, "signature",
	                      out->id)) < 0 ||
	    (error = take_buf(&out->payload, &out->payload_len, &data,
	                      TG_MAX_COMMIT_PAYLOAD_BYTES, "commit object",
	                      out->id)) < 0)
		goto out;
out:
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return error;
}

int tg_source_commit_info_read(tg_source_commit_info *out,
                               tg_source *s,
                               const char *id)
{
	git_commit *c = NULL;
	git_oid oid;
	int error;

	memset(out, 0, sizeof(*out));
	if (git_oid_fromstr(&oid, id) < 0 ||
	    git_commit_lookup(&c, tg_gitrepo_raw(s->repo), &oid) < 0)
		return tg_error_set(TG_ENOTFOUND, "%s: commit %.12s not found",
		                    s->url, id);
	git_oid_tostr(out->id, sizeof(out->id), &oid);
	out->author = person(git_commit_author(c));
	out->committer = person(git_commit_committer(c));
	out->time = (int64_t)git_commit_time(c);
	out->nparents = git_commit_parentcount(c);
	git_commit_free(c);
	if ((error = extract_signature(out, s, &oid)) < 0)
		tg_source_commit_info_clear(out);
	return error;
}

void tg_source_commit_info_clear(tg_source_commit_info *c)
{
	free(c->author);
	free(c->committer);
	free(c->signature);
	free(c->payload);
	memset(c, 0, sizeof(*c));
}

/* Walk from head, hiding since when the cache has it. */
static int walk_setup(git_revwalk **w,
                      tg_source *s,
                      const char *since,
                      const git_oid *head)
{
	git_oid so;

	if (git_revwalk_new(w, tg_gitrepo_raw(s->repo)) < 0 ||
	    git_revwalk_sorting(*w, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(*w, head) < 0)
		return tg_gitrepo_error(s->repo, -1, "cannot walk the history");
	/* A since the cache lost (a wiped state directory) leaves the whole
	 * history to check: more work, never less checking. */
	if (since && *since && git_oid_fromstr(&so, since) == 0 &&
	    tg_gitrepo_has(s->repo, &so) && git_revwalk_hide(*w, &so) < 0)
		return tg_gitrepo_error(s->repo, -1, "cannot walk the history");
	return 0;
}

int tg_source_commits_since(char (**ids_out)[TG_SOURCE_OID_HEX],
                            size_t *n_out,
                            tg_source *s,
                            const char *since,
                            const char *head,
                            size_t max)
{
	git_revwalk *w = NULL;
	git_oid ho, oid;
	char(*ids)[TG_SOURCE_OID_HEX] = NULL;
	size_t n = 0;
	int error;

	*ids_out = NULL;
	*n_out = 0;
	if (git_oid_fromstr(&ho, head) < 0)
		return tg_error_set(TG_ENOTFOUND, "commit %s not found", head);
	if ((error = walk_setup(&w, s, since, &ho)) < 0)
		goto out;
	while (git_revwalk_next(&oid, w) == 0) {
		if (n == max) {
			error = tg_error_set(TG_ETOOBIG,
			                     "more than %zu commits since the "
			                     "last deployed one %.12s",
			                     max, since && *since ? since : "");
			goto out;
		}
		ids = tg_realloc(ids, (n + 1) * sizeof(*ids));
		git_oid_tostr(ids[n++], TG_SOURCE_OID_HEX, &oid);
	}
	*ids_out = ids;
	*n_out = n;
	ids = NULL;
out:
	free(ids);
	git_revwalk_free(w);
	return error;
}

static char *verified_ref(const tg_source *s)
{
	return tg_aprintf(VERIFIED_REF_PREFIX "%s", s->branch);
}

void tg_source_load_verified(tg_source *s)
{
	char *name = verified_ref(s);
	git_oid oid;

	s->verified[0] = '\0';
	if (tg_gitrepo_ref_id(&oid, s->repo, name) == 0)
		git_oid_tostr(s->verified, sizeof(s->verified), &oid);
	free(name);
}

const char *tg_source_verified(const tg_source *s)
{
	return s->verified;
}

int tg_source_set_verified(tg_source *s, const char *commit)
{
	char *name = verified_ref(s);
	git_oid oid;
	int error;

	if (git_oid_fromstr(&oid, commit) < 0)
		error = tg_error_set(TG_EINVALID, "not a commit id: %.64s",
		                     commit);
	else
		error = tg_gitrepo_ref_set(s->repo, name, &oid,
		                           "cannot record the verified commit");
	if (error == 0)
		tg_strlcpy(s->verified, commit, sizeof(s->verified));
	free(name);
	return error;
}
