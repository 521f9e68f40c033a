/*
 * The remote side of the Git repository module (see tollgate/gitrepo.h):
 * connections with the opener's auth hooks and the transfer limit,
 * downloads, fetching refs into the cache, and pushes.
 */
#include <stdlib.h>
#include <string.h>

#include "gitrepo_int.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

struct tg_gitrepo_conn {
	tg_gitrepo *r;
	git_remote *remote;
	git_remote_callbacks cb;
	const git_remote_head **heads; /* borrowed from remote */
	size_t nheads;
};

/* Stop a remote that sends more than a repository of manifests needs. */
static int transfer_cb(const git_indexer_progress *stats, void *payload)
{
	(void)payload;
	if (stats->received_bytes > TG_MAX_GIT_FETCH_BYTES) {
		git_error_set(GIT_ERROR_NET,
		              "the remote sent more than %llu bytes "
		              "(TG_MAX_GIT_FETCH_BYTES)",
		              (unsigned long long)TG_MAX_GIT_FETCH_BYTES);
		return -1;
	}
	return 0;
}

/* The opener's credential hook, with its own payload. */
static int credentials_cb(git_credential **out,
                          const char *url,
                          const char *username_from_url,
                          unsigned int allowed_types,
                          void *payload)
{
	tg_gitrepo *r = payload;

	if (!r->auth.credentials) {
		git_error_set_str(
		        GIT_ERROR_NET,
		        "the server asks for credentials and none are "
		        "configured (source.auth)");
		return GIT_EAUTH;
	}
	return r->auth.credentials(out, url, username_from_url, allowed_types,
	                           r->auth.payload);
}

/* The opener's certificate hook; without one, libgit2's TLS verdict and
 * no SSH host key at all (the opener must check them). */
static int
certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	tg_gitrepo *r = payload;

	if (!r->auth.certificate_check)
		return valid ? 0 : GIT_PASSTHROUGH;
	return r->auth.certificate_check(cert, valid, host, r->auth.payload);
}

/* The auth hooks and transfer limit, for fetch and push alike. */
static void init_callbacks(git_remote_callbacks *cb, tg_gitrepo *r)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials_cb;
	cb->certificate_check = certificate_cb;
	cb->transfer_progress = transfer_cb;
	cb->payload = r;
	if (r->auth.reset)
		r->auth.reset(r->auth.payload);
}

/* An anonymous remote for the URL, owned by the caller. */
static int remote_new(git_remote **out, tg_gitrepo *r)
{
	git_remote_create_options o;
	int gerr;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = r->repo;
	/* No url.<base>.insteadOf rewriting: the URL fetched is the URL
	 * configured. (It also avoids libgit2 1.5's config regex lookup,
	 * which leaks PCRE2 match data.) */
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	          GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if ((gerr = git_remote_create_with_opts(out, r->url, &o)) < 0)
		return tg_gitrepo_error(r, gerr, "bad remote URL");
	return 0;
}

/* Connect c->remote for fetching, with the CA file applied for https. */
static int connect_fetch(tg_gitrepo_conn *c)
{
	tg_gitrepo *r = c->r;
	int gerr, error;

	if (r->ca_file && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS,
	                                   r->ca_file, NULL) < 0)
		return tg_gitrepo_error(r, -1, "source.auth.caFile");
	if ((error = remote_new(&c->remote, r)) < 0)
		return error;
	init_callbacks(&c->cb, r);
	if ((gerr = git_remote_connect(c->remote, GIT_DIRECTION_FETCH, &c->cb,
	                               NULL, NULL)) < 0) {
		error = tg_gitrepo_error(r, gerr, "cannot connect");
		if (error == TG_ERROR) {
			/* libgit2 reports refused or unreachable hosts as OS
			 * errors: for tollgate they are network failures. */
			char *msg = tg_strdup(tg_error_last());
			error = tg_error_set(TG_ENET, "%s", msg);
			free(msg);
		}
		git_remote_free(c->remote);
		c->remote = NULL;
		return error;
	}
	return 0;
}

int tg_gitrepo_connect(tg_gitrepo_conn **out, tg_gitrepo *r)
{
	tg_gitrepo_conn *c = tg_calloc(1, sizeof(*c));
	int gerr, error;

	*out = NULL;
	c->r = r;
	if ((error = connect_fetch(c)) < 0)
		goto out;
	if ((gerr = git_remote_ls(&c->heads, &c->nheads, c->remote)) < 0) {
		error = tg_gitrepo_error(r, gerr, "cannot list refs");
		goto out;
	}
	*out = c;
	c = NULL;
out:
	tg_gitrepo_conn_free(c);
	return error;
}

const git_oid *tg_gitrepo_conn_lookup(const tg_gitrepo_conn *c,
                                      const char *name)
{
	size_t i;

	for (i = 0; i < c->nheads; i++)
		if (!strcmp(c->heads[i]->name, name))
			return &c->heads[i]->oid;
	return NULL;
}

int tg_gitrepo_conn_download(tg_gitrepo_conn *c,
                             const char *const *remote_refs,
                             const char *const *local_refs,
                             size_t n)
{
	git_fetch_options fo;
	char **specs = tg_calloc(n + 1, sizeof(char *));
	git_strarray arr = { specs, 0 };
	size_t i;
	int gerr, error = 0;

	for (i = 0; i < n; i++) {
		const git_oid *o = tg_gitrepo_conn_lookup(c, remote_refs[i]);
		if (o && !tg_gitrepo_has(c->r, o))
			specs[arr.count++] = tg_aprintf(
			        "+%s:%s", remote_refs[i], local_refs[i]);
	}
	/* Already have every object (a no-op cycle): nothing to download. */
	if (arr.count) {
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks = c->cb;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		if ((gerr = git_remote_download(c->remote, &arr, &fo)) < 0)
			error = tg_gitrepo_error(c->r, gerr, "fetch failed");
	}
	for (i = 0; i < arr.count; i++)
		free(specs[i]);
	free(specs);
	return error;
}

void tg_gitrepo_conn_free(tg_gitrepo_conn *c)
{
	if (!c)
		return;
	if (c->remote)
		git_remote_disconnect(c->remote);
	git_remote_free(c->remote);
	free(c);
}

int tg_gitrepo_fetch_refs(tg_gitrepo *r,
                          const char *const *remote_refs,
                          const char *const *local_refs,
                          size_t n)
{
	tg_gitrepo_conn *c = NULL;
	size_t i;
	int error;

	if ((error = tg_gitrepo_connect(&c, r)) < 0)
		return error;
	error = tg_gitrepo_conn_download(c, remote_refs, local_refs, n);
	for (i = 0; i < n && !error; i++)
		error = tg_gitrepo_ref_set(
		        r, local_refs[i],
		        tg_gitrepo_conn_lookup(c, remote_refs[i]), NULL);
	tg_gitrepo_conn_free(c);
	return error;
}

/* Remember the first ref the remote refused (status is its reason). */
static int push_ref_cb(const char *refname, const char *status, void *data)
{
	tg_gitrepo *r = data;

	if (status && !r->push_error)
		r->push_error = tg_aprintf("%s: %s", refname, status);
	return 0;
}

/*
 * The delta search of a push: libgit2 reads pack.windowMemory from the
 * repository's configuration (and no window or depth setting), so the
 * cache says it, written once. A status commit's files are tens of kB
 * each; with the limit each is compared with the one before it only
 * (files of similar size sit side by side), not with ten. At 10,000
 * objects that made the pack of a first status commit 20% larger (448
 * kB against 368) and the status stage 0.05 s shorter. Without the
 * setting the push goes on with libgit2's default.
 */
static void limit_push_window(tg_gitrepo *r)
{
	git_config *cfg = NULL;
	int64_t v = 0;

	if (git_repository_config(&cfg, r->repo) < 0)
		return;
	if ((git_config_get_int64(&v, cfg, "pack.windowMemory") < 0 ||
	     v != (int64_t)TG_GIT_PUSH_WINDOW_MEMORY) &&
	    git_config_set_int64(cfg, "pack.windowMemory",
	                         (int64_t)TG_GIT_PUSH_WINDOW_MEMORY) < 0)
		tg_log(TG_LOG_DEBUG, "pack.windowMemory not set", "error",
		       git_error_last() ? git_error_last()->message : "?",
		       NULL);
	git_config_free(cfg);
	/* "not found" on a new cache: not to be read as the push's error */
	git_error_clear();
}

int tg_gitrepo_push(bool *rejected,
                    tg_gitrepo *r,
                    const char *const *specs,
                    size_t n)
{
	git_remote *remote = NULL;
	git_push_options po;
	git_strarray arr = { (char **)specs, n };
	int gerr, error = 0;

	*rejected = false;
	free(r->push_error);
	r->push_error = NULL;
	if ((error = remote_new(&remote, r)) < 0)
		return error;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	init_callbacks(&po.callbacks, r);
	po.callbacks.push_update_reference = push_ref_cb;
	/* The pack of a status commit at 10,000 objects holds ~11 MB of
	 * JSON: its delta search and compression use every core. */
	po.pb_parallelism = 0;
	limit_push_window(r);
	gerr = git_remote_push(remote, &arr, &po);
	if (gerr == GIT_ENONFASTFORWARD || (gerr == 0 && r->push_error)) {
		*rejected = true;
		tg_log(TG_LOG_INFO, "status push refused, remote moved", "url",
		       r->url, "detail",
		       r->push_error ? r->push_error : "non-fast-forward",
		       NULL);
	} else if (gerr < 0) {
		error = tg_gitrepo_error(r, gerr, "push failed");
	}
	git_remote_free(remote);
	return error;
}
