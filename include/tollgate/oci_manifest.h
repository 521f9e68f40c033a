/*
 * OCI image manifests and indexes (the OCI image spec's manifest.md and
 * image-index.md, and Docker's v2 manifest and manifest list), parsed and
 * shape-checked: the documents a registry (registry.h) hands back and the
 * referrers (referrer.h) are read from. Everything parsed is untrusted
 * input, checked against the limits of limits.h.
 */
#ifndef TOLLGATE_OCI_MANIFEST_H
#define TOLLGATE_OCI_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"

/* Media types accepted and recognised. */
#define TG_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define TG_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define TG_MEDIA_DOCKER_MANIFEST                                               \
	"application/vnd.docker.distribution.manifest.v2+json"
#define TG_MEDIA_DOCKER_LIST                                                   \
	"application/vnd.docker.distribution.manifest.list.v2+json"

typedef struct tg_annotation {
	char *key;
	char *value;
} tg_annotation;

typedef struct tg_platform {
	char *os;           /* "linux" */
	char *architecture; /* "amd64" */
	char *variant;      /* "v8" or NULL */
	char *os_version;   /* NULL when absent */
} tg_platform;

/* An OCI content descriptor. Strings owned by the parent object. */
typedef struct tg_descriptor {
	char *media_type;
	char *digest; /* checked with tg_digest_is_valid() */
	uint64_t size;
	char *artifact_type; /* NULL when absent */
	tg_annotation *annotations;
	size_t annotations_count;
	tg_platform *platform; /* index entries only; NULL when absent */
} tg_descriptor;

typedef enum {
	/* OCI image manifest or Docker v2 manifest */
	TG_OCI_MANIFEST_IMAGE = 1,
	/* OCI image index or Docker manifest list */
	TG_OCI_MANIFEST_INDEX = 2,
} tg_oci_manifest_kind;

/*
 * A manifest or index, parsed and shape-checked. Everything is owned by the
 * struct; free with tg_oci_manifest_free().
 */
typedef struct tg_oci_manifest {
	char *name;       /* "registry/repo@sha256:..." for messages */
	char *digest;     /* digest of data (verified) */
	char *media_type; /* from the document, else the Content-Type */
	tg_oci_manifest_kind kind;
	char *artifact_type;   /* NULL when absent */
	tg_descriptor *config; /* images only; NULL for an index */
	tg_descriptor *layers; /* images */
	size_t layers_count;
	tg_descriptor *manifests; /* indexes: the platform manifests */
	size_t manifests_count;
	tg_descriptor *subject; /* NULL when absent */
	tg_annotation *annotations;
	size_t annotations_count;
	char *data; /* the bytes exactly as received, NUL-terminated */
	size_t len;
} tg_oci_manifest;

/*
 * Parse and shape-check manifest bytes (also used on fetched manifests).
 * name is used in messages; content_type is the HTTP Content-Type or NULL.
 * Checks: JSON object (duplicate keys rejected), schemaVersion 2, a known
 * mediaType when present (and consistent with the Content-Type), every
 * descriptor's mediaType string, valid digest and non-negative size,
 * counts under TG_MAX_MANIFEST_DESCRIPTORS. digest is computed over data.
 * 0, TG_EPARSE, TG_ETOOBIG.
 */
TG_WUR int tg_oci_manifest_parse(tg_oci_manifest **out,
                                 const char *name,
                                 const char *content_type,
                                 const char *data,
                                 size_t len);
void tg_oci_manifest_free(tg_oci_manifest *m);

/* Value of an annotation, borrowed; NULL when absent. */
const char *tg_descriptor_annotation(const tg_descriptor *d, const char *key);
const char *tg_oci_manifest_annotation(const tg_oci_manifest *m,
                                       const char *key);

#endif
