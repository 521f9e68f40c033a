/*
 * OCI distribution client (https://github.com/opencontainers/distribution-spec)
 * over tg_http: /v2/ ping, anonymous, Basic (docker config.json) and Bearer
 * token auth, manifests by tag or digest, blobs by digest, the referrers API
 * with the "sha256-<hex>" tag fallback, and an in-memory cache by digest.
 *
 * One tg_registry serves every registry host of a run. Registry names are
 * given as in image references ("docker.io", "ghcr.io", "127.0.0.1:5000");
 * "docker.io" is mapped to registry-1.docker.io for API calls. Repository
 * names are given without the registry ("library/nginx").
 *
 * Everything received is untrusted: manifest and blob bytes are hashed and
 * compared with the digest asked for (for a tag, with Docker-Content-Digest
 * when the registry sends it); a mismatch is TG_EUNTRUSTED. JSON shapes,
 * digests and sizes are checked, with limits from limits.h. Messages name
 * registry/repo@reference and the HTTP status.
 *
 * Error codes used throughout:
 *   TG_ENOTFOUND   404 / MANIFEST_UNKNOWN / BLOB_UNKNOWN (e.g. no .sig tag)
 *   TG_EAUTH       401/403 after authenticating (wrong or missing credentials)
 *   TG_EUNTRUSTED  bytes do not hash to the expected digest
 *   TG_EPARSE      manifest/index/token JSON of the wrong shape
 *   TG_ETOOBIG     over a size or count limit
 *   TG_ENET        network/TLS failure or 5xx/429 after retries
 *   TG_EINVALID    bad argument (invalid digest, plain HTTP not allowed)
 *
 * Asynchronous use: the *_async calls queue work and return at once; their
 * callbacks run from inside tg_registry_run(), once each, and may queue more
 * work (it joins the same batch). The synchronous calls are the async ones
 * plus tg_registry_run(). Not thread-safe: one tg_registry per thread.
 */
#ifndef TOLLGATE_REGISTRY_H
#define TOLLGATE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/oci_manifest.h"

typedef struct tg_registry tg_registry;

typedef struct tg_registry_options {
	/* Docker config.json with "auths": {"<host>": {"auth": base64
	 * "user:pass"} or {"username", "password"}}; NULL for anonymous
	 * only. Read once by tg_registry_new(). Hosts are matched as written
	 * in image references ("docker.io" also matches the keys
	 * "https://index.docker.io/v1/" and "index.docker.io"). */
	const char *auth_file;
	/* Registries ("host" or "host:port") reached over plain HTTP. */
	const char *const *insecure;
	size_t insecure_count;
	/* CA bundle (PEM) replacing the system store; NULL for the system. */
	const char *ca_file;
	/* Parallel transfers; 0 means TG_HTTP_DEFAULT_PARALLEL. */
	unsigned parallel;
	/* Bytes of manifests and blobs kept in the digest cache; 0 means
	 * TG_MAX_REGISTRY_CACHE_BYTES. */
	size_t cache_max_bytes;
	/* HTTP retries (see tg_http_options.max_retries) and first backoff
	 * in ms; tests set them low. 0 means the defaults. */
	int max_retries;
	long retry_base_ms;
} tg_registry_options;

/* A blob, verified against its digest. data is NUL-terminated (not counted). */
typedef struct tg_blob {
	char *digest;
	unsigned char *data;
	size_t len;
} tg_blob;

/* Referrers of a subject digest, all pages merged. */
typedef struct tg_referrers {
	char *subject;        /* the digest asked about */
	tg_descriptor *items; /* artifactType filter already applied */
	size_t count;
	bool from_tag_schema; /* true when the registry has no referrers API
	                         and the "sha256-<hex>" tag was used */
} tg_referrers;

/*
 * A client. Reads opts->auth_file (TG_ENOTFOUND / TG_EPARSE naming the file
 * when it is missing or malformed; credentials are never put in messages).
 */
TG_WUR int tg_registry_new(tg_registry **out, const tg_registry_options *opts);
/* Frees the client; async work not yet run is dropped without callbacks. */
void tg_registry_free(tg_registry *reg);

/* The HTTP client used (borrowed), e.g. for tg_http_get_stats(). */
tg_http *tg_registry_http(tg_registry *reg);

/*
 * GET /v2/ with authentication as needed. 0 when the registry answers 200
 * (after a token exchange if asked), TG_EAUTH, TG_ENET, TG_EINVALID.
 */
TG_WUR int tg_registry_ping(tg_registry *reg, const char *registry);

/* Callbacks of the async calls. On result < 0 the object is NULL and
 * tg_error_last() holds the detail; on 0 the object belongs to the callback. */
typedef void (*tg_registry_manifest_fn)(int result,
                                        tg_oci_manifest *m,
                                        void *ctx);
typedef void (*tg_registry_blob_fn)(int result, tg_blob *b, void *ctx);
typedef void (*tg_registry_referrers_fn)(int result,
                                         tg_referrers *r,
                                         void *ctx);

/*
 * Fetch a manifest or index by tag or by digest ("sha256:..."), with Accept
 * listing OCI manifest and index and Docker v2 manifest and list. The bytes
 * are verified against the digest asked for, or for a tag against
 * Docker-Content-Digest when present (else the digest is computed).
 * TG_ENOTFOUND for a missing tag or digest (e.g. "sha256-<hex>.sig" when an
 * image has no signatures). Results by digest come from the cache when
 * already fetched in this client.
 */
TG_WUR int tg_registry_get_manifest(tg_oci_manifest **out,
                                    tg_registry *reg,
                                    const char *registry,
                                    const char *repository,
                                    const char *reference);
TG_WUR int tg_registry_get_manifest_async(tg_registry *reg,
                                          const char *registry,
                                          const char *repository,
                                          const char *reference,
                                          tg_registry_manifest_fn done,
                                          void *ctx);

/*
 * Fetch a blob by digest into memory, verified against the digest.
 * max_bytes 0 means TG_MAX_BLOB_BYTES (larger values are clamped to it);
 * a bigger blob is TG_ETOOBIG. Redirects to storage are followed without
 * the registry's Authorization header.
 */
TG_WUR int tg_registry_get_blob(tg_blob **out,
                                tg_registry *reg,
                                const char *registry,
                                const char *repository,
                                const char *digest,
                                size_t max_bytes);
TG_WUR int tg_registry_get_blob_async(tg_registry *reg,
                                      const char *registry,
                                      const char *repository,
                                      const char *digest,
                                      size_t max_bytes,
                                      tg_registry_blob_fn done,
                                      void *ctx);

/*
 * The referrers of digest: GET /v2/<repo>/referrers/<digest>
 * (?artifactType= when artifact_type is not NULL, filtered again locally
 * since registries may ignore it), following Link: rel="next" up to
 * TG_MAX_REFERRER_PAGES. When the registry answers 404 (no referrers API),
 * falls back to the OCI index at tag "sha256-<hex>"; no such tag gives an
 * empty list (0, count 0), not TG_ENOTFOUND.
 */
TG_WUR int tg_registry_get_referrers(tg_referrers **out,
                                     tg_registry *reg,
                                     const char *registry,
                                     const char *repository,
                                     const char *digest,
                                     const char *artifact_type);
TG_WUR int tg_registry_get_referrers_async(tg_registry *reg,
                                           const char *registry,
                                           const char *repository,
                                           const char *digest,
                                           const char *artifact_type,
                                           tg_registry_referrers_fn done,
                                           void *ctx);

/* Run queued async work to completion (see tg_http_run). */
TG_WUR int tg_registry_run(tg_registry *reg);

void tg_blob_free(tg_blob *b);
void tg_referrers_free(tg_referrers *r);

/*
 * The cosign/OCI fallback tag for a digest: "sha256:<hex>" + ".sig" ->
 * "sha256-<hex>.sig" (suffix may be "" for the referrers fallback tag).
 * NULL when digest is invalid. Caller frees.
 */
char *tg_registry_digest_tag(const char *digest, const char *suffix);

/* The host used for API calls: "docker.io" -> "registry-1.docker.io". */
const char *tg_registry_api_host(const char *registry);

#endif
