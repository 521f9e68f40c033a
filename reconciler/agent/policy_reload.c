/*
 * Policy reload (tollgate run): see tg_agent_policy_refresh() in
 * reconciler/include/tollgate/agent.h.
 *
 * The watch keeps, for the policy file and every key and trust file the
 * policy in force names, the file's identity (device, inode, size, mtime,
 * ctime) and the SHA-256 of its content. Each cycle hashes every file
 * again (they are small) and reloads when a hash differs or a file
 * appeared or went away. Between cycles, tg_agent_policy_changed() looks
 * at the identity first: a file whose identity is unchanged and whose
 * last change is more than TG_POLICY_RACY_S older than its hash is taken
 * as unchanged (a write in the same timestamp tick as the hash keeps the
 * identity, so such a file is hashed again).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/policy.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

typedef struct file_stamp {
	char *path;
	bool present; /* stat and read worked */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	time_t hashed_at; /* wall clock (never the test clock) */
	unsigned char sha[TG_SHA256_LEN];
} file_stamp;

struct tg_policy_watch {
	file_stamp *files;
	size_t n;
	char *stale; /* why the policy on disk is not in force, or NULL */
};

static bool same_stat(const file_stamp *s, const struct stat *st)
{
	return s->present && s->dev == st->st_dev && s->ino == st->st_ino &&
	       s->size == st->st_size &&
	       s->mtime.tv_sec == st->st_mtim.tv_sec &&
	       s->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       s->ctime.tv_sec == st->st_ctim.tv_sec &&
	       s->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* The SHA-256 of the file at path. false when it cannot be read. */
static bool hash_file(unsigned char sha[TG_SHA256_LEN], const char *path)
{
	char *data = NULL;
	size_t len = 0;

	if (tg_file_read(&data, &len, path, TG_MAX_FILE_BYTES) < 0)
		return false;
	tg_sha256(sha, data, len);
	free(data);
	return true;
}

/* Stat and hash the file again. true when its content differs from the
 * stamp (a file that cannot be read differs from one that could). */
static bool stamp_update(file_stamp *s)
{
	unsigned char sha[TG_SHA256_LEN];
	bool was = s->present, changed;
	struct stat st;

	if (stat(s->path, &st) < 0 || !hash_file(sha, s->path)) {
		s->present = false;
		return was;
	}
	changed = !was || memcmp(sha, s->sha, sizeof(sha)) != 0;
	memcpy(s->sha, sha, sizeof(sha));
	s->present = true;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
	s->hashed_at = time(NULL);
	return changed;
}

/* Does the file differ from its stamp? The stamp is left as it is. */
static bool stamp_differs(const file_stamp *s)
{
	unsigned char sha[TG_SHA256_LEN];
	struct stat st;

	if (stat(s->path, &st) < 0)
		return s->present;
	if (same_stat(s, &st) &&
	    st.st_ctim.tv_sec + TG_POLICY_RACY_S < s->hashed_at)
		return false;
	if (!hash_file(sha, s->path))
		return s->present;
	return !s->present || memcmp(sha, s->sha, sizeof(sha)) != 0;
}

static void watch_clear(tg_policy_watch *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->files[i].path);
	free(w->files);
	w->files = NULL;
	w->n = 0;
}

void tg_policy_watch_free(tg_policy_watch *w)
{
	if (!w)
		return;
	watch_clear(w);
	free(w->stale);
	free(w);
}

/* Add path (not yet there) to the watch, stamped now. */
static void watch_add(tg_policy_watch *w, const char *path)
{
	size_t i;

	if (!path)
		return;
	for (i = 0; i < w->n; i++)
		if (!strcmp(w->files[i].path, path))
			return;
	w->files = tg_realloc(w->files, (w->n + 1) * sizeof(w->files[0]));
	memset(&w->files[w->n], 0, sizeof(w->files[0]));
	w->files[w->n].path = tg_strdup(path);
	(void)stamp_update(&w->files[w->n]);
	w->n++;
}

/* The key and trust files of one authority. */
static void watch_authority(tg_policy_watch *w, const tg_policy_authority *a)
{
	watch_add(w, a->key_path);
	watch_add(w, a->rekor.key_path);
	if (!a->keyless)
		return;
	watch_add(w, a->keyless->trusted_root_path);
	watch_add(w, a->keyless->fulcio_certs_path);
	watch_add(w, a->keyless->ctlog.key_path);
}

/* Watch the files policy p names (the policy file itself is the first
 * entry and stays). */
static void watch_named_files(tg_policy_watch *w, const tg_policy *p)
{
	const tg_policy_commits *c = tg_policy_commits_get(p);
	size_t i, j;

	for (i = 0; i < tg_policy_rule_count(p); i++) {
		const tg_policy_signatures *sig =
		        &tg_policy_rule_at(p, i)->signatures;

		for (j = 0; j < sig->nauthorities; j++)
			watch_authority(w, sig->authorities[j]);
	}
	/* the key files of the commit signers (commits:) */
	for (i = 0; c && i < c->nsigners; i++)
		watch_add(w, c->signers[i].path);
}

tg_policy_watch *tg_policy_watch_new(const char *policy_path)
{
	tg_policy_watch *w = tg_calloc(1, sizeof(*w));

	watch_add(w, policy_path);
	return w;
}

void tg_policy_watch_loaded(tg_policy_watch *w, const tg_policy *p)
{
	size_t i;

	/* The policy file's stamp (taken before the load) stays; the files
	 * of the policy now in force are stamped now. */
	for (i = 1; i < w->n; i++)
		free(w->files[i].path);
	w->n = w->n > 0 ? 1 : 0;
	watch_named_files(w, p);
}

/* Did the content of any watched file change? Every stamp is taken
 * again. */
static bool watch_update(tg_policy_watch *w)
{
	bool changed = false;
	size_t i;

	for (i = 0; i < w->n; i++)
		if (stamp_update(&w->files[i]))
			changed = true;
	return changed;
}

bool tg_agent_policy_changed(const tg_agent *a)
{
	size_t i;

	for (i = 0; i < a->watch->n; i++)
		if (stamp_differs(&a->watch->files[i]))
			return true;
	return false;
}

/* Load the policy file again and put it in force with new verifiers. 0,
 * or the load's error (nothing changed then). */
static int reload(tg_agent *a)
{
	tg_verifier *v = NULL, *rv = NULL;
	tg_policy *p = NULL;
	int error;

	if ((error = tg_policy_load(&p, a->cfg->policy)) < 0)
		return error;
	if ((error = tg_agent_open_verifiers(&v, &rv, a, p)) < 0) {
		tg_policy_free(p);
		return error;
	}
	tg_verifier_free(a->verifier);
	tg_verifier_free(a->reverifier);
	tg_policy_free(a->policy);
	a->policy = p;
	a->verifier = v;
	a->reverifier = rv;
	tg_policy_watch_loaded(a->watch, p);
	return 0;
}

void tg_agent_policy_refresh(tg_agent_policy_state *out, tg_agent *a)
{
	tg_policy_watch *w = a->watch;
	bool changed = watch_update(w);

	memset(out, 0, sizeof(*out));
	out->path = a->cfg->policy;
	/* While stale, every check tries again: a key file the new policy
	 * names may have appeared. Only a change counts as a new failure. */
	if (changed || w->stale) {
		if (reload(a) == 0) {
			out->reloaded = true;
			free(w->stale);
			w->stale = NULL;
		} else {
			out->failed = changed;
			free(w->stale);
			w->stale = tg_strdup(tg_error_last());
		}
	}
	out->stale = w->stale;
	out->hash = tg_policy_hash(a->policy);
}
