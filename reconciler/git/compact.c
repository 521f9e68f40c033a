/*
 * Compacting the Git cache (see tg_gitrepo_compact in tollgate/gitrepo.h).
 * Every fetch that brings objects adds a pack file, and libgit2 keeps
 * every pack's index mapped and its bookkeeping allocated while the
 * repository is open: a long-running agent grew by a few kB per change
 * and looked objects up in ever more packs (found by tests/bench/soak.sh).
 * Past TG_MAX_GIT_PACKS packs, every pack but the largest is rewritten
 * into one, and the repository is reopened.
 *
 * A kill at any point leaves a usable cache: the new pack is complete
 * (libgit2 writes it under a temporary name and renames it) before any old
 * one is removed, and an old pack loses its index first, so libgit2 never
 * sees an index without its pack; an old pack left behind only holds
 * objects the new one holds too.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "gitrepo_int.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

typedef struct {
	char **v; /* "<dir>/pack-<hash>" without suffix */
	size_t n;
	size_t largest; /* index of the pack with the most bytes */
} pack_list;

static void packs_free(pack_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static off_t pack_size(const char *base)
{
	char *p = tg_aprintf("%s.pack", base);
	struct stat st;
	off_t size = stat(p, &st) == 0 ? st.st_size : -1;

	free(p);
	return size;
}

/* The packs of dir with both an index and a pack file. */
static void packs_list(pack_list *l, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	off_t big = -1;

	memset(l, 0, sizeof(*l));
	while (d && (e = readdir(d)) && l->n < TG_MAX_GIT_PACKS * 64) {
		size_t len = strlen(e->d_name);
		char *base;
		off_t size;

		if (len < 5 || !tg_str_has_suffix(e->d_name, ".idx"))
			continue;
		base = tg_aprintf("%s/%.*s", dir, (int)(len - 4), e->d_name);
		if ((size = pack_size(base)) < 0) {
			free(base);
			continue;
		}
		l->v = tg_realloc(l->v, (l->n + 1) * sizeof(char *));
		if (size > big) {
			big = size;
			l->largest = l->n;
		}
		l->v[l->n++] = base;
	}
	if (d)
		closedir(d);
}

static int insert_cb(const git_oid *id, void *payload)
{
	return git_packbuilder_insert(payload, id, NULL);
}

/* Add every object of the pack at base to pb. */
static int insert_pack(git_packbuilder *pb, const char *base)
{
	char *idx = tg_aprintf("%s.idx", base);
	git_odb_backend *be = NULL;
	git_odb *odb = NULL;
	int gerr;

	if ((gerr = git_odb_new(&odb)) == 0 &&
	    (gerr = git_odb_backend_one_pack(&be, idx)) == 0 &&
	    (gerr = git_odb_add_backend(odb, be, 1)) < 0)
		be->free(be);
	if (gerr == 0)
		gerr = git_odb_foreach(odb, insert_cb, pb);
	git_odb_free(odb);
	free(idx);
	return gerr;
}

/* Remove an old pack: its index first. */
static void remove_pack(const char *base)
{
	static const char *const suffix[] = { ".idx", ".pack", ".rev" };
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p = tg_aprintf("%s%s", base, suffix[i]);

		(void)unlink(p);
		free(p);
	}
}

/* Write every pack of l but the largest into one; remove them. */
static int rewrite(tg_gitrepo *r, const pack_list *l, const char *dir)
{
	git_packbuilder *pb = NULL;
	char *fresh = NULL;
	size_t i;
	int gerr;

	if ((gerr = git_packbuilder_new(&pb, r->repo)) < 0)
		goto out;
	git_packbuilder_set_threads(pb, 1);
	for (i = 0; i < l->n && gerr == 0; i++)
		if (i != l->largest)
			gerr = insert_pack(pb, l->v[i]);
	if (gerr == 0 &&
	    (gerr = git_packbuilder_write(pb, NULL, 0, NULL, NULL)) == 0)
		fresh = tg_aprintf("%s/pack-%s", dir, git_packbuilder_name(pb));
	for (i = 0; i < l->n && fresh; i++)
		if (i != l->largest && strcmp(l->v[i], fresh) != 0)
			remove_pack(l->v[i]);
out:
	git_packbuilder_free(pb);
	free(fresh);
	return gerr;
}

int tg_gitrepo_compact(tg_gitrepo *r)
{
	char *dir = tg_aprintf("%s/objects/pack", r->cache_dir);
	pack_list l;
	size_t before;
	char nb[24], na[24];
	int gerr, error = 0;

	packs_list(&l, dir);
	before = l.n;
	if (l.n <= TG_MAX_GIT_PACKS)
		goto out;
	if ((gerr = rewrite(r, &l, dir)) < 0) {
		error = tg_gitrepo_error(r, gerr,
		                         "cannot compact the Git cache");
		goto out;
	}
	/* The open repository still maps the removed packs. */
	git_repository_free(r->repo);
	r->repo = NULL;
	if ((gerr = git_repository_open_bare(&r->repo, r->cache_dir)) < 0) {
		error = tg_gitrepo_error(r, gerr,
		                         "cannot reopen the Git cache");
		goto out;
	}
	packs_free(&l);
	packs_list(&l, dir);
	snprintf(nb, sizeof(nb), "%zu", before);
	snprintf(na, sizeof(na), "%zu", l.n);
	tg_log(TG_LOG_INFO, "compacted the Git cache", "dir", r->cache_dir,
	       "packs_before", nb, "packs_after", na, NULL);
out:
	packs_free(&l);
	free(dir);
	return error;
}
