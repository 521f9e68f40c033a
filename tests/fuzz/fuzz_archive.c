/*
 * An OCI source's layer (a gzip tar): tg_archive_unpack, keeping every
 * file, then every lookup the source makes of the result, the directory
 * ones as the renderers' view of it does (reconciler/source/archivefs.c:
 * has_dir, then list). Each kept file's directory must exist and list
 * the file's name.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tollgate/archive.h"
#include "tollgate/util.h"

/* Whether dir lists name; every name listed is freed. */
static bool lists(const tg_archive *a, const char *dir, const char *name)
{
	char **names = NULL;
	size_t n = 0, i;
	bool found = false;

	tg_archive_list(&names, &n, a, dir);
	for (i = 0; i < n; i++) {
		found = found || !strcmp(names[i], name);
		free(names[i]);
	}
	free(names);
	return found;
}

static void check_file(const tg_archive *a, const char *path)
{
	char *dir = tg_strdup(path), *slash = strrchr(dir, '/');
	const char *name = slash ? slash + 1 : path;

	if (tg_archive_find(a, path) == NULL)
		abort();
	if (slash)
		*slash = '\0';
	else
		dir[0] = '\0';
	if (!tg_archive_has_dir(a, dir) || !lists(a, dir, name))
		abort();
	free(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_archive *a = NULL;
	size_t i;

	if (tg_archive_unpack(&a, "fuzz", data, size, NULL) < 0)
		return 0;
	(void)tg_archive_entry_count(a);
	for (i = 0; i < tg_archive_count(a); i++)
		check_file(a, tg_archive_get(a, i)->path);
	(void)tg_archive_has_dir(a, "");
	(void)lists(a, "", "");
	tg_archive_free(a);
	return 0;
}
