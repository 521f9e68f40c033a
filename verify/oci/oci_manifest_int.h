/*
 * What oci_manifest.c shares with the registry client (registry.c), which
 * hands descriptors on in tg_referrers. Not part of the public API.
 */
#ifndef TOLLGATE_OCI_MANIFEST_INT_H
#define TOLLGATE_OCI_MANIFEST_INT_H

#include <stddef.h>

#include "tollgate/oci_manifest.h"

/* Frees the n descriptors of d (their strings, annotations, platform) and
 * d itself; d may be NULL when n is 0. */
void tg_oci_descriptors_free(tg_descriptor *d, size_t n);

#endif
