/*
 * Unpacking an OCI source's gzip tar layer in memory with libarchive: see
 * reconciler/include/tollgate/archive.h for the rules. Entries are checked
 * as they come (type, path, size, count, total); duplicates and files that
 * are parents of other entries once all paths are known.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "tollgate/archive.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* Bytes inflated per read: libarchive hands data over in blocks. */
#define READ_CHUNK (64u * 1024)

#define STR_(x) #x
#define STR(x) STR_(x)

/* Bytes of an entry's path quoted in a message (the rest is elided). */
#define QUOTE_MAX 160

typedef struct entry {
	char *path;
	bool dir;
} entry;

struct tg_archive {
	entry *entries;
	size_t nentries, ecap;
	tg_archive_file *files;
	size_t nfiles, fcap;
};

/* One unpacking. */
typedef struct unpack {
	struct archive *ar;
	const char *name;
	tg_archive_keep_fn keep;
	tg_archive *a;
	unsigned long long total; /* bytes inflated from file data */
	unsigned char *chunk;
} unpack;

/* ---- Messages ---------------------------------------------------- */

/* raw, printable and cut to QUOTE_MAX bytes: entry names are untrusted
 * and end up in logs and the status. */
static void quote_path(char out[QUOTE_MAX + 4], const char *raw)
{
	size_t i, n = 0;

	for (i = 0; raw[i] && n < QUOTE_MAX; i++)
		out[n++] = (raw[i] >= 0x20 && raw[i] < 0x7f) ? raw[i] : '?';
	if (raw[i])
		memcpy(out + n, "...", 3), n += 3;
	out[n] = '\0';
}

/* "<name>: entry "<path>": <what>" with code. */
static int refuse(unpack *u, int code, const char *raw, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int refuse(unpack *u, int code, const char *raw, const char *fmt, ...)
{
	char q[QUOTE_MAX + 4], what[512];
	va_list ap;

	quote_path(q, raw ? raw : "");
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return tg_error_set(code,
	                    "%s: entry \"%s\": %s; the artifact is "
	                    "refused whole",
	                    u->name, q, what);
}

/* libarchive's own words for a damaged stream. */
static int damaged(unpack *u, const char *after)
{
	const char *why = archive_error_string(u->ar);

	return tg_error_set(TG_EPARSE,
	                    "%s: damaged gzip tar layer%s%s: %s; the "
	                    "artifact is refused whole",
	                    u->name, after ? " after entry " : "",
	                    after ? after : "", why ? why : "unreadable");
}

/* ---- Paths ------------------------------------------------------- */

/* Check the components of p (no leading "/", no "./"): "" when fine,
 * else why not. */
static const char *check_components(const char *p)
{
	size_t depth = 0, n;

	if (strchr(p, '\\'))
		return "backslash in the path";
	for (;;) {
		n = strcspn(p, "/");
		if (n == 0)
			return "empty path component";
		if ((n == 1 && p[0] == '.'))
			return "\".\" component";
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "\"..\" component (the path leaves the "
			       "artifact)";
		if (++depth > TG_MAX_ARCHIVE_DEPTH)
			return "more than " STR(
			        TG_MAX_ARCHIVE_DEPTH) " path components";
		if (!p[n])
			return "";
		p += n + 1;
	}
}

/*
 * The entry's path without a leading "./" and (directories) a trailing
 * "/", into *out; *out NULL for the root "./". 0 or the refusal.
 */
static int entry_path(char **out, unpack *u, const char *raw, bool dir)
{
	const char *p = raw, *why;
	size_t n;

	*out = NULL;
	if (strlen(raw) > TG_MAX_ARCHIVE_PATH_BYTES)
		return refuse(u, TG_ETOOBIG, raw, "path longer than %u bytes",
		              TG_MAX_ARCHIVE_PATH_BYTES);
	if (raw[0] == '/')
		return refuse(u, TG_EINVALID, raw, "absolute path");
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	n = strlen(p);
	if (dir)
		while (n > 0 && p[n - 1] == '/')
			n--;
	if ((n == 0 && p != raw) || (dir && n == 1 && p[0] == '.'))
		return 0; /* "./" or ".": the root itself */
	*out = tg_strndup(p, n);
	why = n ? check_components(*out) : "empty path";
	if (*why) {
		free(*out);
		*out = NULL;
		return refuse(u, TG_EINVALID, raw, "%s", why);
	}
	return 0;
}

/* ---- Entries ----------------------------------------------------- */

/* Why the entry's type is refused, or NULL for a file or directory. */
static const char *refused_type(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return "hard link (links are not followed)";
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		return archive_entry_sparse_count(e) > 0
		               ? "sparse file (not a plain regular file)"
		               : NULL;
	case AE_IFDIR:
		return NULL;
	case AE_IFLNK:
		return "symlink (links are not followed)";
	case AE_IFCHR:
		return "character device";
	case AE_IFBLK:
		return "block device";
	case AE_IFIFO:
		return "FIFO";
	case AE_IFSOCK:
		return "socket";
	default:
		return "neither a regular file nor a directory";
	}
}

static void add_entry(tg_archive *a, char *path, bool dir)
{
	if (a->nentries == a->ecap) {
		a->ecap = a->ecap ? 2 * a->ecap : 64;
		a->entries =
		        tg_realloc(a->entries, a->ecap * sizeof(*a->entries));
	}
	a->entries[a->nentries].path = path;
	a->entries[a->nentries].dir = dir;
	a->nentries++;
}

static void add_file(tg_archive *a, const char *path, char *data, size_t len)
{
	if (a->nfiles == a->fcap) {
		a->fcap = a->fcap ? 2 * a->fcap : 64;
		a->files = tg_realloc(a->files, a->fcap * sizeof(*a->files));
	}
	a->files[a->nfiles].path = path;
	a->files[a->nfiles].data = data;
	a->files[a->nfiles].len = len;
	a->nfiles++;
}

/*
 * Inflate the data of the file at path (raw: its name in the archive),
 * counting every byte against the file and total caps as it comes, and
 * keep it when asked. 0 or the refusal.
 */
static int read_data(unpack *u, const char *raw, const char *path)
{
	bool keep = !u->keep || u->keep(path);
	tg_buf b;
	la_ssize_t n;
	size_t flen = 0;
	int error = 0;

	tg_buf_init(&b, TG_MAX_ARCHIVE_FILE_BYTES);
	while ((n = archive_read_data(u->ar, u->chunk, READ_CHUNK)) > 0) {
		flen += (size_t)n;
		u->total += (unsigned long long)n;
		if (flen > TG_MAX_ARCHIVE_FILE_BYTES) {
			error = refuse(u, TG_ETOOBIG, raw,
			               "file larger than %u bytes",
			               TG_MAX_ARCHIVE_FILE_BYTES);
			break;
		}
		if (u->total > TG_MAX_ARCHIVE_TOTAL_BYTES) {
			error = refuse(u, TG_ETOOBIG, raw,
			               "more than %u bytes unpacked in all "
			               "(a gzip bomb?)",
			               TG_MAX_ARCHIVE_TOTAL_BYTES);
			break;
		}
		if (keep &&
		    (error = tg_buf_append(&b, u->chunk, (size_t)n)) < 0)
			break;
	}
	if (!error && n < 0)
		error = damaged(u, raw);
	if (!error && keep)
		add_file(u->a, path, tg_buf_detach(&flen, &b), flen);
	tg_buf_free(&b);
	return error;
}

/* Check one entry and take its path and data. */
static int take_entry(unpack *u, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e), *why;
	bool dir = archive_entry_filetype(e) == AE_IFDIR;
	char *path = NULL;
	int error;

	if (!raw)
		return refuse(u, TG_EINVALID, "", "entry without a path");
	if ((why = refused_type(e)))
		return refuse(u, TG_EINVALID, raw, "%s", why);
	if (u->a->nentries >= TG_MAX_ARCHIVE_ENTRIES)
		return refuse(u, TG_ETOOBIG, raw,
		              "more than %u entries in the archive",
		              TG_MAX_ARCHIVE_ENTRIES);
	if (!dir && archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > (la_int64_t)TG_MAX_ARCHIVE_FILE_BYTES)
		return refuse(u, TG_ETOOBIG, raw,
		              "file of %lld bytes, over the limit of %u",
		              (long long)archive_entry_size(e),
		              TG_MAX_ARCHIVE_FILE_BYTES);
	if ((error = entry_path(&path, u, raw, dir)) < 0 || !path)
		return error;
	add_entry(u->a, path, dir);
	return dir ? 0 : read_data(u, raw, path);
}

/* ---- Whole archive ----------------------------------------------- */

static int entry_cmp(const void *x, const void *y)
{
	return strcmp(((const entry *)x)->path, ((const entry *)y)->path);
}

static int file_cmp(const void *x, const void *y)
{
	return strcmp(((const tg_archive_file *)x)->path,
	              ((const tg_archive_file *)y)->path);
}

static const entry *find_entry(const tg_archive *a, const char *path)
{
	entry key = { (char *)path, false };

	return tg_bsearch(&key, a->entries, a->nentries, sizeof(entry),
	                  entry_cmp);
}

/* With the entries sorted: no path twice, and no entry below a file
 * (the same name as a file and a directory). */
static int check_paths(unpack *u)
{
	tg_archive *a = u->a;
	size_t i;
	char *p, *slash;
	const entry *parent;

	for (i = 1; i < a->nentries; i++)
		if (!strcmp(a->entries[i - 1].path, a->entries[i].path))
			return refuse(u, TG_EINVALID, a->entries[i].path,
			              "the path is in the archive twice");
	for (i = 0; i < a->nentries; i++) {
		p = tg_strdup(a->entries[i].path);
		parent = NULL;
		while (!parent && (slash = strrchr(p, '/'))) {
			*slash = '\0';
			parent = find_entry(a, p);
			if (parent && parent->dir)
				parent = NULL;
		}
		free(p);
		if (parent)
			return refuse(u, TG_EINVALID, a->entries[i].path,
			              "below \"%s\", which is a file",
			              parent->path);
	}
	return 0;
}

/* Read every header and its data; the layer must be gzip. */
static int read_entries(unpack *u)
{
	struct archive_entry *e;
	const char *last = NULL;
	int r, error;

	while ((r = archive_read_next_header(u->ar, &e)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK)
			return damaged(u, last);
		if (archive_filter_code(u->ar, 0) != ARCHIVE_FILTER_GZIP)
			return tg_error_set(TG_EPARSE,
			                    "%s: the layer is not gzip "
			                    "compressed (%s)",
			                    u->name,
			                    archive_filter_name(u->ar, 0));
		if ((error = take_entry(u, e)) < 0)
			return error;
		last = u->a->nentries ? u->a->entries[u->a->nentries - 1].path
		                      : NULL;
	}
	return 0;
}

int tg_archive_unpack(tg_archive **out,
                      const char *name,
                      const void *data,
                      size_t len,
                      tg_archive_keep_fn keep)
{
	unpack u = { 0 };
	int error;

	*out = NULL;
	u.name = name;
	u.keep = keep;
	u.a = tg_calloc(1, sizeof(*u.a));
	u.chunk = tg_malloc(READ_CHUNK);
	if (!(u.ar = archive_read_new())) {
		error = tg_error_set(TG_ERROR, "%s: out of memory", name);
		goto out;
	}
	if (archive_read_support_filter_gzip(u.ar) != ARCHIVE_OK ||
	    archive_read_support_format_tar(u.ar) != ARCHIVE_OK ||
	    archive_read_open_memory(u.ar, data, len) != ARCHIVE_OK) {
		error = damaged(&u, NULL);
		goto out;
	}
	if ((error = read_entries(&u)) < 0)
		goto out;
	tg_qsort(u.a->entries, u.a->nentries, sizeof(entry), entry_cmp);
	if ((error = check_paths(&u)) < 0)
		goto out;
	tg_qsort(u.a->files, u.a->nfiles, sizeof(tg_archive_file), file_cmp);
	*out = u.a;
	u.a = NULL;
out:
	archive_read_free(u.ar);
	free(u.chunk);
	tg_archive_free(u.a);
	return error;
}

size_t tg_archive_entry_count(const tg_archive *a)
{
	return a->nentries;
}

size_t tg_archive_count(const tg_archive *a)
{
	return a->nfiles;
}

const tg_archive_file *tg_archive_get(const tg_archive *a, size_t i)
{
	return i < a->nfiles ? &a->files[i] : NULL;
}

bool tg_archive_has_dir(const tg_archive *a, const char *path)
{
	const entry *e;
	size_t lo = 0, hi = a->nentries, mid, n = strlen(path);

	if (!*path)
		return true;
	if ((e = find_entry(a, path)))
		return e->dir;
	/* the first entry not below path + "/" in sort order */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		const char *p = a->entries[mid].path;
		if (strncmp(p, path, n) < 0 ||
		    (!strncmp(p, path, n) && (unsigned char)p[n] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->nentries && !strncmp(a->entries[lo].path, path, n) &&
	       a->entries[lo].path[n] == '/';
}

const tg_archive_file *tg_archive_find(const tg_archive *a, const char *path)
{
	tg_archive_file key = { path, NULL, 0 };

	return tg_bsearch(&key, a->files, a->nfiles, sizeof(tg_archive_file),
	                  file_cmp);
}

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The component of path right below dir (n bytes of it), or NULL. */
static const char *child_of(const char *path, const char *dir, size_t n)
{
	if (!n)
		return path;
	if (strncmp(path, dir, n) || path[n] != '/')
		return NULL;
	return path + n + 1;
}

void tg_archive_list(char ***names_out,
                     size_t *n_out,
                     const tg_archive *a,
                     const char *dir)
{
	size_t i, k = 0, n = strlen(dir);
	char **names = tg_calloc(a->nentries + 1, sizeof(char *));
	const char *c;

	for (i = 0; i < a->nentries; i++)
		if ((c = child_of(a->entries[i].path, dir, n)))
			names[k++] = tg_strndup(c, strcspn(c, "/"));
	tg_qsort(names, k, sizeof(char *), name_cmp);
	/* an entry and its parent's listing name one child twice */
	for (i = 0, n = 0; i < k; i++) {
		if (n && !strcmp(names[n - 1], names[i]))
			free(names[i]);
		else
			names[n++] = names[i];
	}
	*names_out = names;
	*n_out = n;
}

void tg_archive_free(tg_archive *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nentries; i++)
		free(a->entries[i].path);
	for (i = 0; i < a->nfiles; i++)
		free((char *)a->files[i].data);
	free(a->entries);
	free(a->files);
	free(a);
}
