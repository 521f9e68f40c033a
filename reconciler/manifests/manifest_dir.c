/*
 * The directory walker over the manifest loader: see
 * tg_manifest_set_add_dir() in reconciler/include/tollgate/manifest.h.
 *
 * The tree is the user's, but its content may come from anyone who can
 * push to the deploy repository, so symlinks are checked against the
 * resolved root (a link to /etc or to another checkout must not be read),
 * only regular files are opened (a FIFO would block the agent), and sizes
 * are checked before reading.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

typedef struct walk {
	tg_manifest_set *set;
	char *root; /* resolved (realpath) root */
	size_t root_len;
} walk;

static int
walk_dir(walk *w, const char *abs, const char *rel, int depth, bool via_link);

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The visible entries of dir, sorted by byte order (not locale) so the
 * order of objects and errors is the same on every machine. */
static int list_dir(char ***out, size_t *n_out, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (!d)
		return tg_error_set(errno == ENOENT ? TG_ENOTFOUND : TG_EIO,
		                    "cannot open directory: %s",
		                    strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* ".", ".." and hidden entries */
		names = tg_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = tg_strdup(e->d_name);
	}
	closedir(d);
	tg_qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	*n_out = n;
	return 0;
}

static bool inside_root(const walk *w, const char *real)
{
	return strncmp(real, w->root, w->root_len) == 0 &&
	       (real[w->root_len] == '/' || real[w->root_len] == '\0' ||
	        w->root_len == 1);
}

static void
read_file(walk *w, const char *abs, const char *rel, const struct stat *st)
{
	char *data = NULL, *msg;
	size_t len = 0;

	if ((uint64_t)st->st_size > TG_MAX_FILE_BYTES) {
		msg = tg_aprintf("%lld bytes, over the limit of %u bytes per "
		                 "manifest file",
		                 (long long)st->st_size, TG_MAX_FILE_BYTES);
		tg_manifest_set_add_error(w->set, rel, msg);
		free(msg);
		return;
	}
	if (tg_file_read(&data, &len, abs, TG_MAX_FILE_BYTES) < 0) {
		tg_manifest_set_add_error(w->set, rel, tg_error_last());
		return;
	}
	/* The walk goes on: a path over TG_MAX_TREE_FILES is recorded as an
	 * error of the set, and rel comes from a directory listing, so it is
	 * a safe relative path. */
	tg_discard(tg_manifest_set_add_file(w->set, rel, data, len));
	free(data);
}

/* An error about rel, in the unit of its files when it is a directory. */
static void report(walk *w, const char *rel, bool is_dir, const char *msg)
{
	if (is_dir)
		tg_manifest_set_add_dir_error(w->set, rel, msg);
	else
		tg_manifest_set_add_error(w->set, rel, msg);
}

/* A symlink at rel: follow it when it stays in the tree. */
static int
walk_link(walk *w, const char *abs, const char *rel, int depth, bool via_link)
{
	struct stat st;
	char *real = NULL, *msg;
	bool wanted = tg_manifest_path_wanted(rel);
	int error = 0;

	if (stat(abs, &st) < 0) {
		/* A dangling link that is not a manifest is never read. */
		if (wanted)
			tg_manifest_set_add_error(w->set, rel,
			                          "symlink to nothing");
		return 0;
	}
	if (S_ISREG(st.st_mode) && !wanted)
		return 0;
	if (via_link) {
		report(w, rel, S_ISDIR(st.st_mode),
		       "symlink not followed: "
		       "it is inside a directory reached "
		       "through a symlink");
		return 0;
	}
	if (!(real = realpath(abs, NULL)) || !inside_root(w, real)) {
		msg = tg_aprintf("symlink points outside the tree (to %s); "
		                 "refused",
		                 real ? real : "?");
		report(w, rel, S_ISDIR(st.st_mode), msg);
		free(msg);
	} else if (S_ISDIR(st.st_mode)) {
		error = walk_dir(w, abs, rel, depth + 1, true);
	} else if (S_ISREG(st.st_mode)) {
		read_file(w, abs, rel, &st);
	} else {
		tg_manifest_set_add_error(w->set, rel,
		                          "symlink to something "
		                          "that is not a regular file or a "
		                          "directory");
	}
	free(real);
	return error;
}

static int
walk_entry(walk *w, const char *abs, const char *rel, int depth, bool via_link)
{
	struct stat st;
	char *msg;

	if (lstat(abs, &st) < 0) {
		msg = tg_aprintf("cannot stat: %s", strerror(errno));
		tg_manifest_set_add_error(w->set, rel, msg);
		free(msg);
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return walk_link(w, abs, rel, depth, via_link);
	if (S_ISDIR(st.st_mode))
		return walk_dir(w, abs, rel, depth + 1, via_link);
	if (!tg_manifest_path_wanted(rel))
		return 0;
	if (!S_ISREG(st.st_mode))
		tg_manifest_set_add_error(w->set, rel, "not a regular file");
	else
		read_file(w, abs, rel, &st);
	return 0;
}

/* Walk one directory (rel NULL for the root). */
static int
walk_dir(walk *w, const char *abs, const char *rel, int depth, bool via_link)
{
	char **names = NULL;
	size_t n = 0, i;
	int error;

	if (depth > TG_MAX_TREE_DEPTH) {
		tg_manifest_set_add_dir_error(
		        w->set, rel,
		        "directories nested "
		        "too deep (limit "
		        "TG_MAX_TREE_DEPTH = 32); not read");
		return 0;
	}
	if ((error = list_dir(&names, &n, abs)) < 0) {
		if (!rel)
			return tg_error_prefix(error, "%s", abs);
		tg_manifest_set_add_dir_error(w->set, rel, tg_error_last());
		return 0;
	}
	for (i = 0; i < n && !error; i++) {
		char *a = tg_path_join(abs, names[i]);
		char *r =
		        rel ? tg_path_join(rel, names[i]) : tg_strdup(names[i]);

		if (!tg_manifest_set_is_full(w->set))
			error = walk_entry(w, a, r, depth, via_link);
		free(a);
		free(r);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

int tg_manifest_set_add_dir(tg_manifest_set *set, const char *dir)
{
	struct stat st;
	walk w;
	int error;

	if (stat(dir, &st) < 0)
		return tg_error_set(errno == ENOENT ? TG_ENOTFOUND : TG_EIO,
		                    "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return tg_error_set(TG_EIO, "%s: not a directory", dir);
	memset(&w, 0, sizeof(w));
	w.set = set;
	if (!(w.root = realpath(dir, NULL)))
		return tg_error_set(TG_EIO, "%s: %s", dir, strerror(errno));
	w.root_len = strlen(w.root);
	tg_manifest_set_default_prefix(set, dir);
	error = walk_dir(&w, dir, NULL, 0, false);
	free(w.root);
	return error;
}
