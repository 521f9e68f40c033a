/*
 * The Git repository module: the bare cache repository a remote is
 * fetched into, and the operations both the source (fetch, read) and the
 * report (status commits and notes, push) need on it. It knows the
 * remote's URL and a transfer limit, nothing of branches, trees of
 * manifests or status documents; credentials and host-key checks come
 * from whoever opens it (tg_gitrepo_auth), so the source's auth rules
 * serve status pushes too without the report calling into the source.
 *
 * Errors carry "<url>: <what>: <libgit2's message>" (or the detail the
 * auth hooks recorded, e.g. a refused SSH host key).
 */
#ifndef TOLLGATE_GITREPO_H
#define TOLLGATE_GITREPO_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "tollgate/error.h"

/* 40 hex digits of a SHA-1 object id plus NUL. */
#define TG_GITREPO_OID_HEX 41

typedef struct tg_gitrepo tg_gitrepo;

/* One connection to the remote, with the refs it lists. */
typedef struct tg_gitrepo_conn tg_gitrepo_conn;

/*
 * Credentials and certificate checks for every connection (fetch and
 * push). reset is called before each connection; refusal returns the
 * tollgate code and detail a certificate check recorded since (0 when
 * none), so the error names the host key rather than libgit2's words.
 */
typedef struct tg_gitrepo_auth {
	git_credential_acquire_cb credentials;
	git_transport_certificate_check_cb certificate_check;
	void (*reset)(void *payload);
	int (*refusal)(const char **detail, void *payload);
	void *payload;
} tg_gitrepo_auth;

typedef struct tg_gitrepo_opts {
	const char *url;       /* required; the remote */
	const char *state_dir; /* required; the cache lives in state_dir/git/ */
	const char *ca_file;   /* extra CA bundle for https://, or NULL */
	tg_gitrepo_auth auth;  /* hooks may be NULL: no credentials */
} tg_gitrepo_opts;

/*
 * Open (or create) the bare cache repository for opts->url:
 * state_dir/git/<first 16 hex of SHA-256(url)>.git, after removing lock
 * files a killed process left there. Strings are copied; the auth payload
 * is borrowed and must outlive the repository. 0 or TG_EIO.
 */
TG_WUR int tg_gitrepo_open(tg_gitrepo **out, const tg_gitrepo_opts *opts);

void tg_gitrepo_free(tg_gitrepo *r);

/*
 * A second handle on r's cache repository, for another thread to write
 * objects into while r is used (libgit2 objects are not shared between
 * threads; the object store is). No remote use: it has no auth. 0 or
 * TG_EIO.
 */
TG_WUR int tg_gitrepo_open_again(tg_gitrepo **out, const tg_gitrepo *r);

/*
 * With more than TG_MAX_GIT_PACKS pack files in the cache (each fetch
 * adds one), rewrite every pack but the largest into one and reopen the
 * repository. Call it only while no object, walker or connection of r is
 * held: the repository behind them is replaced. 0 or TG_EIO; the cache
 * stays usable after a failure or a kill at any point.
 */
TG_WUR int tg_gitrepo_compact(tg_gitrepo *r);

/* The URL as configured, for messages. */
const char *tg_gitrepo_url(const tg_gitrepo *r);

/*
 * Record "<url>: <what>: <detail>" and return the tollgate code for the
 * libgit2 error gerr (TG_ENOTFOUND, TG_EUNTRUSTED, TG_EAUTH, TG_ECONFLICT,
 * TG_ENET or TG_ERROR).
 */
TG_WUR int tg_gitrepo_error(tg_gitrepo *r, int gerr, const char *what);

/* ---- Remote ------------------------------------------------------- */

/*
 * Connect for fetching (the CA file applied for https) and list the
 * remote's refs. 0 or TG_ENET, TG_EUNTRUSTED, TG_EAUTH, ...
 */
TG_WUR int tg_gitrepo_connect(tg_gitrepo_conn **out, tg_gitrepo *r);

/* The id the remote lists for ref name (full name), or NULL. Borrowed. */
const git_oid *tg_gitrepo_conn_lookup(const tg_gitrepo_conn *c,
                                      const char *name);

/*
 * Download in one negotiation each remote_refs[i] the remote lists whose
 * object the cache lacks (refspec "+remote_refs[i]:local_refs[i]");
 * nothing when the cache has them all. Refs are not updated.
 */
TG_WUR int tg_gitrepo_conn_download(tg_gitrepo_conn *c,
                                    const char *const *remote_refs,
                                    const char *const *local_refs,
                                    size_t n);

/* Disconnect and free; NULL is a no-op. */
void tg_gitrepo_conn_free(tg_gitrepo_conn *c);

/*
 * Fetch remote refs (full names) into local refs of the cache, pairwise,
 * over one connection. A ref the remote lacks has its local ref deleted.
 */
TG_WUR int tg_gitrepo_fetch_refs(tg_gitrepo *r,
                                 const char *const *remote_refs,
                                 const char *const *local_refs,
                                 size_t n);

/*
 * Push refspecs ("refs/local:refs/remote", never forced). *rejected is set
 * when the remote refused an update because it moved (the caller fetches,
 * rebuilds and tries again); other failures return an error.
 */
TG_WUR int tg_gitrepo_push(bool *rejected,
                           tg_gitrepo *r,
                           const char *const *specs,
                           size_t n);

/* ---- Objects and refs --------------------------------------------- */

/* Point ref name at oid (forced), or delete it when oid is NULL. A
 * failure names what (or the ref when what is NULL). */
TG_WUR int tg_gitrepo_ref_set(tg_gitrepo *r,
                              const char *name,
                              const git_oid *oid,
                              const char *what);

/* The commit ref name points to; *out NULL (and 0) when there is none. */
TG_WUR int
tg_gitrepo_ref_commit(git_commit **out, tg_gitrepo *r, const char *name);

/* The id ref name points to. 0 or a libgit2 code (GIT_ENOTFOUND), with
 * nothing recorded: a missing ref is often no error. */
TG_WUR int tg_gitrepo_ref_id(git_oid *out, tg_gitrepo *r, const char *name);

/* The cache repository, for reading objects (the source's tree walk).
 * Borrowed from r. */
git_repository *tg_gitrepo_raw(tg_gitrepo *r);

/* Whether the cache holds object id. */
bool tg_gitrepo_has(tg_gitrepo *r, const git_oid *id);

TG_WUR int tg_gitrepo_commit_lookup(git_commit **out,
                                    tg_gitrepo *r,
                                    const git_oid *id,
                                    const char *what);

TG_WUR int tg_gitrepo_tree_lookup(git_tree **out,
                                  tg_gitrepo *r,
                                  const git_oid *id,
                                  const char *what);

/*
 * The blob at path in commit's tree, no larger than max bytes, as a heap
 * copy (*len_out bytes, NUL-terminated). TG_ENOTFOUND when there is no
 * such blob, TG_ETOOBIG when larger; nothing recorded for either.
 */
TG_WUR int tg_gitrepo_commit_file(char **data_out,
                                  size_t *len_out,
                                  tg_gitrepo *r,
                                  git_commit *commit,
                                  const char *path,
                                  size_t max);

/* The merge base of a and b; GIT_ENOTFOUND (nothing recorded) when they
 * share no history. */
TG_WUR int tg_gitrepo_merge_base(git_oid *out,
                                 tg_gitrepo *r,
                                 const git_oid *a,
                                 const git_oid *b);

/* A new tree builder on the cache (empty tree); a failure names what. */
TG_WUR int tg_gitrepo_treebuilder_new(git_treebuilder **out,
                                      tg_gitrepo *r,
                                      const char *what);

/* Store len bytes of data as a blob. */
TG_WUR int tg_gitrepo_blob_write(git_oid *out,
                                 tg_gitrepo *r,
                                 const char *data,
                                 size_t len,
                                 const char *what);

/* Store a blob written piece by piece: fill(ctx, put, wctx) calls
 * put(piece, len, wctx) (0, or -1 to stop) for each piece in order and
 * returns 0 or an error; content over 1 MiB is never held whole in
 * memory. */
typedef int (*tg_gitrepo_put_fn)(const char *piece, size_t len, void *wctx);
TG_WUR int tg_gitrepo_blob_write_from(git_oid *out,
                                      tg_gitrepo *r,
                                      int (*fill)(void *ctx,
                                                  tg_gitrepo_put_fn put,
                                                  void *wctx),
                                      void *ctx,
                                      const char *what);

/* Write a commit of tree with parent (NULL: a root commit); no ref
 * moves. A failure names what. */
TG_WUR int tg_gitrepo_commit_write(git_oid *out,
                                   tg_gitrepo *r,
                                   const git_tree *tree,
                                   const git_commit *parent,
                                   const git_signature *sig,
                                   const char *message,
                                   const char *what);

/*
 * Write a notes commit on top of notes_tip (NULL: the first) with note
 * text for commit target; no ref moves. A failure names what.
 */
TG_WUR int tg_gitrepo_note_write(git_oid *out,
                                 tg_gitrepo *r,
                                 git_commit *notes_tip,
                                 const git_signature *sig,
                                 const git_oid *target,
                                 const char *note,
                                 const char *what);

/* Whether notes_tip holds a note for target. */
bool tg_gitrepo_note_exists(tg_gitrepo *r,
                            git_commit *notes_tip,
                            const git_oid *target);

#endif
