/*
 * What status.c shares with source.c: the cache repository, a connected
 * remote with tollgate's credential and host-key callbacks, and the
 * translation of libgit2 errors into tollgate codes.
 */
#ifndef TOLLGATE_SOURCE_INT_H
#define TOLLGATE_SOURCE_INT_H

#include <git2.h>

#include "tollgate/source.h"

/* The bare cache repository (borrowed from s). */
git_repository *tg_source_repo(tg_source *s);

/*
 * Fill callbacks with tollgate's credential, certificate and transfer-limit
 * callbacks for s (payload = s). Used for fetch and push alike.
 */
void tg_source_callbacks(git_remote_callbacks *cb, tg_source *s);

/* An anonymous remote for the source URL, owned by the caller. */
int tg_source_remote_new(git_remote **out, tg_source *s);

/*
 * Record a detail "<url>: <what>: <libgit2's message>" (or the host-key
 * detail recorded by the certificate callback) and return the tollgate code
 * for the libgit2 error gerr.
 */
int tg_source_git_error(tg_source *s, int gerr, const char *what);

/*
 * Fetch remote refs (full names) into local refs of the cache, pairwise.
 * A ref the remote lacks has its local ref deleted. 0 or the errors of
 * tg_source_fetch().
 */
int tg_source_fetch_refs(tg_source *s,
                         const char *const *remote_refs,
                         const char *const *local_refs,
                         size_t n);

/*
 * Push refspecs ("refs/local:refs/remote", never forced). *rejected is set
 * when the remote refused an update because it moved (the caller fetches,
 * rebuilds and tries again); other failures return an error.
 */
int tg_source_push(tg_source *s,
                   const char *const *specs,
                   size_t n,
                   bool *rejected);

#endif
