/*
 * What the files of the source share (private to reconciler/source/):
 * the source object, its auth state (auth.c) and the tree reader
 * (tree.c). Nothing outside this folder includes it; the report reaches
 * the cache repository through tollgate/gitrepo.h.
 */
#ifndef TOLLGATE_SOURCE_INT_H
#define TOLLGATE_SOURCE_INT_H

#include <git2.h>

#include "tollgate/gitrepo.h"
#include "tollgate/source.h"

/* Credentials and host-key state for the source's remote (auth.c). */
typedef struct tg_source_auth {
	char *ssh_key;
	char *known_hosts;
	char *username;
	char *password_file;
	char *ssh_host; /* host and port parsed from an SSH URL */
	unsigned ssh_port;
	bool is_ssh;
	int cred_attempts;
	char *hostkey_error; /* detail from the certificate callback */
	int hostkey_code;
} tg_source_auth;

struct tg_source {
	char *url;
	char *branch;
	char *path; /* normalised: no leading/trailing '/', "" = root */
	tg_source_auth auth;
	tg_gitrepo *repo;
	char commit[TG_SOURCE_OID_HEX];
	char verified[TG_SOURCE_OID_HEX]; /* commits.c */
};

/* Load the last verified commit from the cache (commits.c). */
void tg_source_load_verified(tg_source *s);

/*
 * Copy the auth options of o into a (URL parsed for the SSH host and
 * port). 0 or TG_EINVALID for an SSH URL without known_hosts.
 */
TG_WUR int tg_source_auth_init(tg_source_auth *a, const tg_source_opts *o);

/* The hooks that hand a's credentials and host-key checks to the cache
 * repository (payload = a). */
tg_gitrepo_auth tg_source_auth_hooks(tg_source_auth *a);

void tg_source_auth_clear(tg_source_auth *a);

/* A tree built by another reader (the OCI source): files are added with
 * their heap path and bytes (NUL-terminated, owned by the tree from then
 * on), then sorted. id names the content (commit or artifact digest). */
tg_source_tree *tg_source__tree_new(const char *id);
void tg_source__tree_add(tg_source_tree *t, char *path, char *data, size_t len);
void tg_source__tree_sort(tg_source_tree *t);

/* The unpacked archive a as a tg_render_fs (archivefs.c); a is borrowed
 * and must outlive it. */
struct tg_render_fs;
struct tg_archive;
void tg_source__archive_fs(struct tg_render_fs *out,
                           const struct tg_archive *a);

#endif
