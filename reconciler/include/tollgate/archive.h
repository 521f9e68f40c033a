/*
 * The gzip tar layer of an OCI source, unpacked in memory with libarchive
 * (issue 17): nothing is written to disk. The archive is untrusted (it
 * comes from a registry, even when its digest was verified the signer may
 * be careless or hostile), so every entry is checked before its bytes are
 * kept, and the whole archive is refused, naming the entry, for:
 *   - an absolute path, an empty, "." or ".." component, a backslash;
 *   - a symlink, a hard link, a device, a FIFO, a socket, a sparse file,
 *     anything that is not a regular file or a directory;
 *   - a path given twice, or a file that is also another entry's parent;
 *   - more than TG_MAX_ARCHIVE_ENTRIES entries, a path with more than
 *     TG_MAX_ARCHIVE_DEPTH components or TG_MAX_ARCHIVE_PATH_BYTES bytes;
 *   - a file over TG_MAX_ARCHIVE_FILE_BYTES (by its header or by the bytes
 *     that follow it), more than TG_MAX_ARCHIVE_TOTAL_BYTES unpacked in all
 *     (counted while inflating: a gzip bomb stops at the cap);
 *   - a layer that is not gzip, a damaged gzip stream or tar header, or
 *     any warning of libarchive (fail closed).
 * A leading "./" is dropped and a directory's trailing "/" ignored, as
 * tar writes them.
 */
#ifndef TOLLGATE_ARCHIVE_H
#define TOLLGATE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "tollgate/error.h"

/* A regular file kept from the archive; data is NUL-terminated (not
 * counted in len). Borrowed from the archive. */
typedef struct tg_archive_file {
	const char *path;
	const char *data;
	size_t len;
} tg_archive_file;

typedef struct tg_archive tg_archive;

/* Whether the bytes of the regular file at path are kept (every entry is
 * checked and counted either way). */
typedef bool (*tg_archive_keep_fn)(const char *path);

/*
 * Unpack the gzip tar in data[0..len) into memory. name (e.g. the
 * artifact's reference) starts every message: "<name>: entry \"<path>\":
 * <what is wrong>". keep NULL keeps every file. *out is owned by the
 * caller (tg_archive_free). 0; TG_EINVALID (a refused entry), TG_ETOOBIG
 * (a limit), TG_EPARSE (not gzip, damaged gzip or tar).
 */
TG_WUR int tg_archive_unpack(tg_archive **out,
                             const char *name,
                             const void *data,
                             size_t len,
                             tg_archive_keep_fn keep);

/* Entries (files and directories) the archive held. */
size_t tg_archive_entry_count(const tg_archive *a);

/* Files kept, sorted by path. */
size_t tg_archive_count(const tg_archive *a);
const tg_archive_file *tg_archive_get(const tg_archive *a, size_t i);

/* Whether path ("" = the root) is a directory of the archive, listed or
 * implied by an entry below it. */
bool tg_archive_has_dir(const tg_archive *a, const char *path);

/* The kept file at path (borrowed), or NULL. */
const tg_archive_file *tg_archive_find(const tg_archive *a, const char *path);

/* The names of the entries directly in directory dir ("" = the root),
 * sorted, listed or implied (caller frees each and the array); none for
 * a path that is not a directory. */
void tg_archive_list(char ***names_out,
                     size_t *n_out,
                     const tg_archive *a,
                     const char *dir);

void tg_archive_free(tg_archive *a);

#endif
