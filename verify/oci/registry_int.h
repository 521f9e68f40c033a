/*
 * What the files of the registry client share: registry.c (the client,
 * its digest cache and the public calls), registry_op.c (requests and
 * responses of an operation), registry_auth.c (docker config.json
 * credentials, the 401 challenge of each host and the Bearer token
 * cache). The docker config.json parser is also exposed for the unit tests
 * (tests/unit/test_registry.c). Not part of the public API.
 *
 * An operation ("op", one per public call) moves through send -> response
 * -> (auth -> resend) -> deliver as HTTP completion callbacks, so
 * everything runs on one curl multi handle.
 */
#ifndef TOLLGATE_REGISTRY_INT_H
#define TOLLGATE_REGISTRY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/limits.h"
#include "tollgate/registry.h"

/* Credentials for one registry from a docker config.json. */
typedef struct tg_docker_cred {
	char *host; /* normalised: no scheme, no path */
	char *username;
	char *password;
} tg_docker_cred;

/*
 * Parse a docker config.json: "auths" entries with "auth" (base64 of
 * "user:password") or "username" and "password". name is the file name
 * for messages; secrets never appear in them. 0 or TG_EPARSE / TG_ETOOBIG.
 */
TG_WUR int tg_docker_config_parse(tg_docker_cred **out,
                                  size_t *count_out,
                                  const char *name,
                                  const char *json,
                                  size_t len);
/* Entry for a registry as written in image references; NULL. Borrowed. */
const tg_docker_cred *tg_docker_cred_find(const tg_docker_cred *creds,
                                          size_t count,
                                          const char *registry);
/* Wipes and frees. */
void tg_docker_creds_free(tg_docker_cred *creds, size_t count);

/* The client ------------------------------------------------------------- */

enum op_kind { OP_PING, OP_MANIFEST, OP_BLOB, OP_REFERRERS };

/* What a registry host asked for last time (its 401 challenge). */
enum host_auth { AUTH_UNKNOWN, AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct host {
	struct host *next;
	char *host; /* API host[:port] */
	enum host_auth auth;
	char *realm;
	char *service;
	/* Until the first answer says how this host authenticates, one
	 * request goes out and the others wait here: a batch of N requests
	 * then costs one 401, not N. */
	bool probing;
	struct op *waiters;
};

struct token {
	struct token *next;
	tg_registry *reg;
	char *registry; /* as in image references: for credentials */
	bool fetching;
	char *host;
	char *scope;    /* "" when none */
	char *value;    /* NULL while being fetched */
	double expires; /* tg_monotonic() time */
	struct op *waiters;
};

struct cache_entry {
	struct cache_entry *next;
	char *key; /* "host digest" */
	char *content_type;
	char *data;
	size_t len;
};

/* Requests for the same host, repository and digest share one fetch. */
struct inflight {
	struct inflight *next;
	char *key; /* "host repo digest" */
	struct op *owner;
	struct op *waiters;
};

struct op {
	struct op *next;                /* in a waiter or ready list */
	struct op *all_prev, *all_next; /* every live op of the client */
	tg_registry *reg;
	enum op_kind kind;
	char *registry;
	char *host;
	char *repo;
	char *reference;
	char *artifact_type;
	char *name;  /* for messages */
	char *scope; /* NULL for the ping */
	char *path;  /* path and query of the next request */
	size_t max_bytes;
	bool auth_done;
	bool probe; /* the request that learns the host's auth scheme */
	unsigned pages;
	tg_descriptor *items; /* referrers collected so far */
	size_t items_count;
	char *ready_ct; /* cache hit waiting for delivery */
	char *ready_data;
	size_t ready_len;
	union {
		tg_registry_manifest_fn manifest;
		tg_registry_blob_fn blob;
		tg_registry_referrers_fn referrers;
		void (*ping)(int result, void *ctx);
	} done;
	void *ctx;
};

struct tg_registry {
	tg_http *http;
	tg_docker_cred *creds;
	size_t creds_count;
	struct host *hosts;
	struct token *tokens;
	struct cache_entry *cache; /* newest first */
	size_t cache_bytes;
	size_t cache_max;
	struct inflight *inflight;
	struct op *ready; /* cache hits, delivered by tg_registry_run */
	struct op *ready_tail;
	struct op *ops; /* every op not yet delivered, for tg_registry_free */
};

/* registry.c */

/* Keep verified bytes under "host digest" (see the cache's limits). */
void tg_registry__cache_put(tg_registry *reg,
                            const char *host,
                            const char *digest,
                            const char *ct,
                            const char *data,
                            size_t len);

/* registry_op.c */

/* Unlinks op from the client and frees it; no callback is called. */
void tg_registry__op_free(struct op *op);
/* Fail each op of list with code and detail (recorded for each). */
void tg_registry__ops_fail_all(struct op *list, int code, const char *detail);
/* Percent-encode everything but RFC 3986 unreserved characters. */
char *tg_registry__url_encode(const char *s);
/* Record the error for an unexpected HTTP status and return its code. */
TG_WUR int tg_registry__status_error(const struct op *op,
                                     const tg_http_response *r);
/* Send op's next request (op->path), authenticated as far as known.
 * 0 (sent or queued behind a token or the host's probe) or a code with
 * the detail recorded; op is then the caller's to fail. */
TG_WUR int tg_registry__op_send(struct op *op);
/* Hand verified bytes to op as a manifest or blob and free op. */
void tg_registry__op_deliver(struct op *op,
                             const char *digest,
                             const char *ct,
                             const char *data,
                             size_t len);
/* The in-flight entry owned by owner, unlinked; NULL when none. */
struct inflight *tg_registry__inflight_take(tg_registry *reg,
                                            const struct op *owner);
/* op failed (detail recorded): fail it and everything waiting on it. */
void tg_registry__op_error(struct op *op, int code);

/* registry_auth.c */

/* Wipes a secret string and frees it; NULL is a no-op. */
void tg_registry__wipe(char *s);
/* The host entry for an API host, created when new. */
struct host *tg_registry__host_get(tg_registry *reg, const char *name);
/* The token entry for host and scope; NULL when none. */
struct token *
tg_registry__token_find(tg_registry *reg, const char *host, const char *scope);
/* Wipes and drops t's value. */
void tg_registry__token_wipe(struct token *t);
/* Read the docker config.json at path into reg->creds. */
TG_WUR int tg_registry__load_creds(tg_registry *reg, const char *path);
/* The Authorization header op can send now; *wait set when op was queued
 * behind a token fetch or the host's probe instead. The caller wipes and
 * frees the header. */
TG_WUR int tg_registry__op_authorization(char **out, bool *wait, struct op *op);
/* A 401: learn the host's challenge and send again once, authenticated. */
TG_WUR int tg_registry__op_handle_401(struct op *op, const tg_http_response *r);

#endif
