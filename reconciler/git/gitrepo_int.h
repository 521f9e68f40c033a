/*
 * What the files of the Git repository module share: the repository
 * object, with its remote URL and auth hooks.
 */
#ifndef TOLLGATE_GITREPO_INT_H
#define TOLLGATE_GITREPO_INT_H

#include "tollgate/gitrepo.h"

struct tg_gitrepo {
	char *url;
	char *cache_dir;
	char *ca_file;
	tg_gitrepo_auth auth;
	git_repository *repo;
	char *push_error; /* first ref the remote refused, with its reason */
	int owner_fd;     /* the flock on tollgate.owner, or -1 */
};

#endif
