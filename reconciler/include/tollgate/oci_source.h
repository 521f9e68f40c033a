/*
 * OCI sources (DESIGN.md 1 step 1, 3.2): the deploy manifests shipped as a
 * signed OCI artifact, "oci://HOST[:PORT]/REPO:TAG" or
 * "oci://HOST[:PORT]/REPO@sha256:...", as `flux push artifact` and
 * `oras push` make them: an OCI image manifest with exactly one gzip tar
 * layer (Flux's media type, or the one configured).
 */
#ifndef TOLLGATE_OCI_SOURCE_H
#define TOLLGATE_OCI_SOURCE_H

#include "tollgate/error.h"
#include "tollgate/registry.h"
#include "tollgate/source.h"

/* The scheme of an OCI source URL. */
#define TG_OCI_SOURCE_SCHEME "oci://"

/* The layer media type of `flux push artifact`. */
#define TG_OCI_SOURCE_FLUX_LAYER "application/vnd.cncf.flux.content.v1.tar+gzip"

/* Annotations recorded in the status (flux push --source / --revision). */
#define TG_OCI_ANNOTATION_SOURCE "org.opencontainers.image.source"
#define TG_OCI_ANNOTATION_REVISION "org.opencontainers.image.revision"

/* The file under stateDir keeping the last verified artifact's digest. */
#define TG_OCI_SOURCE_STATE_FILE "oci-source.json"

typedef struct tg_oci_source tg_oci_source;

typedef struct tg_oci_source_opts {
	const char *url;        /* required: oci://... (checked by config) */
	const char *layer_type; /* NULL: TG_OCI_SOURCE_FLUX_LAYER */
	const char *path;       /* source.path; NULL or "" = the root */
	const char *state_dir;  /* required */
} tg_oci_source_opts;

/*
 * Parse the URL and read the last verified digest from the state
 * directory. Nothing goes over the network. 0 or TG_EINVALID.
 */
TG_WUR int tg_oci_source_open(tg_oci_source **out,
                              const tg_oci_source_opts *opts);

/*
 * Fetch the manifest of the configured tag (once per cycle), or of digest
 * when it is not NULL (the last verified one), and check its shape: an
 * OCI image manifest with exactly one layer of the configured media type,
 * else TG_EINVALID naming the types found. Then tg_oci_source_digest()
 * names it. Registry errors as tg_registry_get_manifest().
 */
TG_WUR int
tg_oci_source_resolve(tg_oci_source *s, tg_registry *reg, const char *digest);

/* The digest resolved last ("" before), borrowed. */
const char *tg_oci_source_digest(const tg_oci_source *s);

/* The reference the policy verifies: "HOST/REPO[:TAG]@<digest>". Caller
 * frees. */
char *tg_oci_source_ref(const tg_oci_source *s);

/* The URL as configured. */
const char *tg_oci_source_url(const tg_oci_source *s);

/* An annotation of the resolved manifest (borrowed), or NULL. */
const char *tg_oci_source_annotation(const tg_oci_source *s, const char *key);

/* The digest last read after verification (kept across runs), or "". */
const char *tg_oci_source_last(const tg_oci_source *s);

/*
 * Only after the resolved digest was verified: fetch its layer (checked
 * against the layer's digest and size), unpack it in memory
 * (tollgate/archive.h) and hand the manifest files below source.path to
 * *out (tg_source_tree_free; tg_source_tree_commit() is the digest). An
 * unchanged digest is not fetched again. The digest then becomes the last
 * verified one. 0; TG_EUNTRUSTED (layer bytes do not match), the
 * refusals of tg_archive_unpack(), TG_ENOTFOUND (source.path is not in
 * the artifact), registry errors.
 */
TG_WUR int
tg_oci_source_read(tg_source_tree **out, tg_oci_source *s, tg_registry *reg);

/*
 * The whole artifact read last (the root, not only source.path) as a
 * tg_render_fs for renderers (tollgate/render.h). Release with
 * tg_render_fs_free() before the next read or s is freed. 0 or TG_ERROR
 * (nothing read).
 */
struct tg_render_fs;
TG_WUR int tg_oci_source_render_fs(struct tg_render_fs *out, tg_oci_source *s);

void tg_oci_source_free(tg_oci_source *s);

#endif
