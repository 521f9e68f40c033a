/*
 * OCI sources (DESIGN.md 1 step 1, 3.2): the deploy manifests shipped as a
 * signed OCI artifact, "oci://HOST[:PORT]/REPO:TAG" or
 * "oci://HOST[:PORT]/REPO@sha256:...", as `flux push artifact` and
 * `oras push` make them: an OCI image manifest with exactly one gzip tar
 * layer (Flux's media type, or the one configured).
 */
#ifndef TOLLGATE_OCI_SOURCE_H
#define TOLLGATE_OCI_SOURCE_H

/* The scheme of an OCI source URL. */
#define TG_OCI_SOURCE_SCHEME "oci://"

/* The layer media type of `flux push artifact`. */
#define TG_OCI_SOURCE_FLUX_LAYER "application/vnd.cncf.flux.content.v1.tar+gzip"

/* Annotations recorded in the status (flux push --source / --revision). */
#define TG_OCI_ANNOTATION_SOURCE "org.opencontainers.image.source"
#define TG_OCI_ANNOTATION_REVISION "org.opencontainers.image.revision"

#endif
