/*
 * The Git source: fetch one branch of the deploy repository into a bare
 * cache repository under the state directory, and read the files below
 * source.path straight from the object database (no checkout).
 *
 * URLs: a local path, file://, git://, http://, https:// (optional CA file,
 * optional user name + password file) and ssh:// or scp-like user@host:path
 * (private key file; the server's host key must match an entry of the
 * known_hosts file: libgit2 1.5 does not check host keys, tollgate does it
 * in the certificate callback and refuses unknown or changed keys).
 *
 * Tree rules (DESIGN.md 3.4, 5): only files the manifest loader wants are
 * read (tg_manifest_path_wanted: *.yaml, *.yml, *.json; hidden files and
 * directories are skipped). A file the tree cannot give safely is a
 * problem of its own unit, recorded with its path, and the rest is read:
 * a blob over TG_MAX_FILE_BYTES, a submodule, a manifest-named symlink
 * whose target is absolute, leaves source.path, is missing or is a
 * directory. A manifest-named symlink whose target stays inside
 * source.path is read as its target's bytes; symlinks with other names are
 * ignored, as their targets are never read. More than TG_MAX_TREE_FILES
 * entries, nesting deeper than TG_MAX_TREE_DEPTH, or an entry name that
 * is not a plain path component fail the whole read, with an error naming
 * the URL, branch, commit and path.
 */
#ifndef TOLLGATE_SOURCE_H
#define TOLLGATE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"

/* 40 hex digits of a SHA-1 commit id plus NUL. */
#define TG_SOURCE_OID_HEX 41

/* What names a source's content: a commit id, or an OCI artifact's digest
 * ("sha256:" and 64 hex digits), plus NUL. */
#define TG_SOURCE_ID_MAX 72

typedef struct tg_source tg_source;

/* The cache repository (tollgate/gitrepo.h). */
typedef struct tg_gitrepo tg_gitrepo;

typedef struct tg_source_opts {
	const char *url;    /* required */
	const char *branch; /* required, e.g. "main" */
	const char *path;   /* below the repository root; NULL or "" = root */
	const char *state_dir; /* required; the cache lives in state_dir/git/ */
	const char *ssh_key;   /* private key file for ssh:// */
	const char *known_hosts;   /* required for ssh:// */
	const char *username;      /* http(s) user; ssh user when not in URL */
	const char *password_file; /* http(s) password or token, read per use */
	const char *ca_file;       /* extra CA bundle for https:// */
} tg_source_opts;

/* One manifest file: path relative to source.path ("payments/deploy.yaml"),
 * bytes (NUL-terminated, not counted in len). */
typedef struct tg_source_file {
	const char *path;
	const char *data;
	size_t len;
} tg_source_file;

/* A file refused from the tree: path relative to source.path, and why
 * (for tg_manifest_set_add_error, which fails the file's unit). */
typedef struct tg_source_problem {
	const char *path;
	const char *message;
} tg_source_problem;

typedef struct tg_source_tree tg_source_tree;

/*
 * Open (or create) the cache repository for opts->url under
 * opts->state_dir. The strings are copied. Nothing goes over the network.
 * 0, TG_EINVALID (missing option, SSH without known_hosts) or TG_EIO.
 */
TG_WUR int tg_source_open(tg_source **out, const tg_source_opts *opts);

/*
 * Fetch the branch (incrementally: what the cache holds is not sent again)
 * and remember its commit. 0; TG_ENOTFOUND when the remote has no such
 * branch; TG_EUNTRUSTED for an unknown or changed SSH host key or a bad TLS
 * certificate; TG_EAUTH; TG_ENET. The message names the URL and branch.
 */
TG_WUR int tg_source_fetch(tg_source *s);

/*
 * tg_source_fetch(), and over the same connection the remote refs
 * remote_refs[i] into the local refs local_refs[i] (forced; a ref the
 * remote lacks deletes its local ref), downloading only what the cache
 * lacks. One connection instead of two when status refs live on the same
 * remote. The extra refs never fail the fetch: *extra_ok is false (and a
 * warning logged) when they could not be stored.
 */
TG_WUR int tg_source_fetch_with(tg_source *s,
                                const char *const *remote_refs,
                                const char *const *local_refs,
                                size_t n,
                                bool *extra_ok);

/* The commit fetched last (40 hex; after tg_source_open, the one a
 * previous run fetched into the cache), or "" when none. */
const char *tg_source_commit(const tg_source *s);

/*
 * Cheap check for a moved branch: ask the remote for the branch's commit
 * without downloading anything. oid_out receives 40 hex digits; *moved is
 * true when it differs from tg_source_commit(). 0, TG_ENOTFOUND (no such
 * branch), or the errors of tg_source_fetch().
 */
TG_WUR int tg_source_remote_head(char oid_out[TG_SOURCE_OID_HEX],
                                 bool *moved,
                                 tg_source *s);

/*
 * Read the manifest files below source.path at tg_source_commit(). *out is
 * owned by the caller (tg_source_tree_free). 0 (refused files are listed
 * as problems of the tree); TG_ENOTFOUND (source.path missing at that
 * commit), TG_ETOOBIG (too many entries, too deep), TG_EINVALID (a bad
 * entry name) with a message naming URL, branch, commit and path.
 */
TG_WUR int tg_source_read(tg_source_tree **out, tg_source *s);

/* The same at another commit of the cache (40 hex), e.g. the last
 * verified one while the head is blocked. */
TG_WUR int
tg_source_read_at(tg_source_tree **out, tg_source *s, const char *commit);

/* Commits and their signatures (commits.c) ------------------------------ */

/* One commit as its signature check needs it. */
typedef struct tg_source_commit {
	char id[TG_SOURCE_OID_HEX];
	char *author;    /* "Name <email>" */
	char *committer; /* "Name <email>" */
	int64_t time;    /* committer time, Unix seconds */
	size_t nparents;
	/* The gpgsig header (SSH, OpenPGP or X.509 signature), unfolded,
	 * or NULL for an unsigned commit. */
	char *signature;
	size_t signature_len;
	/* The commit object without its gpgsig header: what was signed.
	 * NULL for an unsigned commit. */
	char *payload;
	size_t payload_len;
} tg_source_commit_info;

/*
 * Read commit id (40 hex) of the cache with its signature, through
 * libgit2's git_commit_extract_signature. 0, TG_ENOTFOUND, TG_ETOOBIG
 * (a signature or commit over the limits of tollgate/limits.h).
 * tg_source_commit_info_clear() frees it.
 */
TG_WUR int tg_source_commit_info_read(tg_source_commit_info *out,
                                      tg_source *s,
                                      const char *id);
void tg_source_commit_info_clear(tg_source_commit_info *c);

/*
 * The commits reachable from head and not from since (since NULL or "":
 * head alone), newest first, merges included: what commits.mode history
 * checks. *ids_out is an array of *n_out ids (free()). 0, TG_ETOOBIG
 * (more than max), TG_ENOTFOUND.
 */
TG_WUR int tg_source_commits_since(char (**ids_out)[TG_SOURCE_OID_HEX],
                                   size_t *n_out,
                                   tg_source *s,
                                   const char *since,
                                   const char *head,
                                   size_t max);

/* The commit last recorded by tg_source_set_verified() (kept in the
 * cache across runs), or "" when none. */
const char *tg_source_verified(const tg_source *s);

/* Record commit as the last one whose signature verified. 0 or TG_EIO. */
TG_WUR int tg_source_set_verified(tg_source *s, const char *commit);

size_t tg_source_tree_count(const tg_source_tree *t);
/* File i, sorted by path; borrowed from t. */
const tg_source_file *tg_source_tree_get(const tg_source_tree *t, size_t i);
size_t tg_source_tree_problem_count(const tg_source_tree *t);
/* Problem i, in tree order; borrowed from t. */
const tg_source_problem *tg_source_tree_problem(const tg_source_tree *t,
                                                size_t i);
/* The commit the files were read from (40 hex), or for an OCI source the
 * artifact's digest. */
const char *tg_source_tree_commit(const tg_source_tree *t);
void tg_source_tree_free(tg_source_tree *t);

/* The URL as configured, for messages (no credentials are ever in it:
 * tg_source_open refuses URLs with a password). */
const char *tg_source_url(const tg_source *s);

/* The cache repository the source fetches into, with the source's
 * credentials and host-key checks, for the status commits (the report
 * writes there without calling into the source). Borrowed from s. */
tg_gitrepo *tg_source_gitrepo(tg_source *s);

/*
 * The whole tree of commit (40 hex: the commit whose content the cycle
 * uses, tg_source_commit() or, while the head is blocked by the policy's
 * commits: section, the last verified one) (the repository root, not only
 * source.path) as a tg_render_fs for renderers (tollgate/render.h), read
 * from the object database with the symlink rules above, the repository
 * being the boundary. Release with tg_render_fs_free() before s is freed.
 * 0 or TG_ERROR (nothing fetched, unreadable commit).
 */
struct tg_render_fs;
TG_WUR int
tg_source_render_fs(struct tg_render_fs *out, tg_source *s, const char *commit);

void tg_source_free(tg_source *s);

#endif
