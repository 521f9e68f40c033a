/*
 * An OCI source's layer (a gzip tar): tg_archive_unpack, keeping every
 * file, then every lookup the source makes of the result.
 */
#include "fuzz.h"
#include "tollgate/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_archive *a = NULL;
	size_t i;

	if (tg_archive_unpack(&a, "fuzz", data, size, NULL) < 0)
		return 0;
	(void)tg_archive_entry_count(a);
	for (i = 0; i < tg_archive_count(a); i++)
		(void)tg_archive_find(a, tg_archive_get(a, i)->path);
	(void)tg_archive_has_dir(a, "");
	tg_archive_free(a);
	return 0;
}
