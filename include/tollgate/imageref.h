/*
 * Image references, parsed and normalised the way Docker and containerd do
 * (the distribution/reference grammar): default registry "docker.io",
 * "library/" for single-component names on docker.io, default tag "latest"
 * when neither tag nor digest is given, host[:port] and "localhost" as a
 * registry, tag and digest together ("name:tag@sha256:...").
 */
#ifndef TOLLGATE_IMAGEREF_H
#define TOLLGATE_IMAGEREF_H

#include <stdbool.h>

#include "tollgate/error.h"

/* A parsed reference. All strings are owned by the struct. */
typedef struct tg_imageref {
	char *registry;     /* "docker.io", "ghcr.io", "127.0.0.1:5000" */
	char *repository;   /* "library/nginx", "acme/api" */
	char *tag;          /* "1.25", "latest" (defaulted), or NULL when only
	                       a digest was given */
	char *digest;       /* "sha256:<hex>" or NULL */
	char *name;         /* registry "/" repository */
	char *canonical;    /* name[:tag][@digest], fully normalised */
	bool tag_defaulted; /* true when "latest" was filled in */
} tg_imageref;

/*
 * Parse ref. 0, or TG_EPARSE / TG_ETOOBIG with a message that quotes the
 * reference and says why it is invalid ("uppercase letters in repository
 * name", "tag longer than 128 characters", "invalid digest", ...);
 * TG_EINVALID for a well-formed digest whose algorithm tollgate cannot
 * verify (anything but sha256 and sha512, e.g. sha384).
 *
 * Normalisation follows distribution/reference ParseNormalizedNamed: the
 * first path element is a registry only when it is "localhost", contains
 * '.' or ':', or has uppercase letters; "index.docker.io" becomes
 * "docker.io"; a registry host keeps its case (only repository paths must
 * be lowercase). The name (registry "/" repository, after adding
 * "docker.io/library/") is at most TG_MAX_IMAGE_NAME_BYTES, a tag at most
 * TG_MAX_IMAGE_TAG_BYTES. A registry port must be 0-65535.
 */
TG_WUR int tg_imageref_parse(tg_imageref **out, const char *ref);

/* A deep copy of ref into *out (tg_imageref_free()); NULL for a NULL ref.
 * Always 0 (out of memory aborts). */
TG_WUR int tg_imageref_dup(tg_imageref **out, const tg_imageref *ref);

/* "name:tag@digest" (tag omitted when NULL): the pinned form written into
 * manifests after verification. digest NULL means ref->digest (and with
 * neither, "name:tag"). Caller frees. */
char *tg_imageref_pinned(const tg_imageref *ref, const char *digest);

void tg_imageref_free(tg_imageref *ref);

#endif
