/* Internal to the manifest module (manifest.c, manifest_dir.c). */
#ifndef TOLLGATE_MANIFEST_INT_H
#define TOLLGATE_MANIFEST_INT_H

#include "tollgate/manifest.h"

/* Set the prefix shown before file names in messages when none was given
 * in the options. */
void tg_manifest_set_default_prefix(tg_manifest_set *set, const char *prefix);

/* Record a problem with a directory (or a link to one) at path: it
 * belongs to the unit the directory's files would be in. */
void tg_manifest_set_add_dir_error(tg_manifest_set *set,
                                   const char *path,
                                   const char *message);

/* True once TG_MAX_TREE_FILES files were added: walkers stop. */
bool tg_manifest_set_is_full(const tg_manifest_set *set);

#endif
