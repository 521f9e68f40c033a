/*
 * Kubernetes API client: discovery, server-side apply, get, list, delete,
 * over tg_http (one curl multi handle: operations submitted together run
 * in parallel, bounded, on reused connections).
 *
 * Errors from the server are reported with its Status message and the
 * object they concern: "apps/v1 Deployment shop/web: 422 Invalid:
 * Deployment.apps \"web\" is invalid: ...".
 */
#ifndef TOLLGATE_KUBE_H
#define TOLLGATE_KUBE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/watch.h"

typedef struct tg_kube tg_kube;

typedef struct tg_kube_options {
	unsigned parallel;         /* requests at once; 0: 16 */
	long timeout_s;            /* per request; 0: 30 */
	const char *field_manager; /* NULL: "tollgate" */
	unsigned list_limit;       /* objects per LIST page; 0: 500 */
	size_t max_batch; /* operations per tg_kube_run; 0: the limit */
} tg_kube_options;

/* A resource type found by discovery. Borrowed from the client. */
typedef struct tg_kube_resource {
	const char *group;   /* "" for the core group */
	const char *version; /* "v1" */
	const char *kind;    /* "Deployment" */
	const char *name;    /* plural: "deployments" */
	bool namespaced;
} tg_kube_resource;

TG_WUR int tg_kube_new(tg_kube **out,
                       const tg_kube_target *target,
                       const tg_kube_options *opts);
void tg_kube_free(tg_kube *k);

/* The server URL, for messages. Borrowed. */
const char *tg_kube_server(const tg_kube *k);

/*
 * Load (or reload, e.g. after CRDs were applied) the resource types the
 * server offers, all API groups in parallel. 0 or TG_ENET / TG_EAUTH /
 * TG_EPARSE.
 */
TG_WUR int tg_kube_discover(tg_kube *k);

/* Whether the resource types are loaded: then tg_kube_resource_lookup
 * only reads them, and threads may look up at once. */
bool tg_kube_discovered(const tg_kube *k);

/*
 * The resource for apiVersion ("v1", "apps/v1") and kind. Discovers on
 * first use. TG_ENOTFOUND with a message that names the kind when the
 * server does not serve it ("is its CustomResourceDefinition applied?").
 */
TG_WUR int tg_kube_resource_lookup(const tg_kube_resource **out,
                                   tg_kube *k,
                                   const char *api_version,
                                   const char *kind);

/* Operations -------------------------------------------------------------- */

typedef enum {
	TG_KUBE_APPLY,  /* server-side apply of obj (force) */
	TG_KUBE_GET,    /* GET the object named by obj's identity */
	TG_KUBE_DELETE, /* DELETE it (propagationPolicy=Background); with
	                   metadata.uid / resourceVersion set, only if the
	                   live object still has them (DeleteOptions
	                   preconditions: 409, TG_ECONFLICT, when not) */
	TG_KUBE_CREATE, /* POST obj to its collection (409 if it exists) */
	TG_KUBE_UPDATE, /* PUT obj; with metadata.resourceVersion set the
	                   server refuses (409, TG_ECONFLICT) a stale one */
} tg_kube_verb;

/* Flags for operations:
 * TG_KUBE_DRY_RUN  dryRun=All: the server checks and keeps nothing;
 * TG_KUBE_NO_FORCE apply without force=true (conflicts fail);
 * TG_KUBE_DISCARD  leave live NULL: the answer is not read. */
#define TG_KUBE_DRY_RUN 0x1u
#define TG_KUBE_NO_FORCE 0x2u
#define TG_KUBE_DISCARD 0x4u

/*
 * One operation of a batch. The caller fills verb and obj (apiVersion,
 * kind, metadata.name and, for namespaced kinds, metadata.namespace are
 * read from it; for APPLY the whole object is sent), or, for APPLY,
 * CREATE and UPDATE, obj with the identity only and body with the object
 * as JSON text, sent as it is (the caller made it from the same object).
 * After the batch:
 * result is 0, TG_ENOTFOUND (404: for GET the object does not exist, for
 * DELETE it was already gone), or another negative code with message (a
 * malloc'd string naming the object and the server's Status message);
 * live is the object the server returned (APPLY, GET), owned by the op.
 */
typedef struct tg_kube_op {
	tg_kube_verb verb;
	json_t *obj;      /* borrowed */
	const char *body; /* borrowed, or NULL: obj serialised */
	unsigned flags;
	/* Optional, for an APPLY with TG_KUBE_DISCARD and without
	 * TG_KUBE_DRY_RUN (a dry run's answer was never stored) while
	 * watches run:
	 * called with the server's answer (borrowed) as it arrives, when
	 * the write went through. True when the caller vouches for that
	 * answer as it is (it compared it with what it sent and found it
	 * so, and remembers that): the watches then keep no text of the
	 * object's event at the answer's resourceVersion. */
	bool (*answered)(void *ctx, const struct tg_kube_op *op, json_t *live);
	void *answered_ctx;
	/* results */
	int result;
	long status;
	char *message;
	json_t *live;
} tg_kube_op;

/*
 * Run every operation in parallel and wait for all. Returns 0 when every
 * operation ran (check each op's result), or a negative code when the
 * batch itself could not run (started while another batch of k runs, or
 * more than max_batch operations). An operation that did not run reads
 * as failed (result TG_ERROR, message "...: not sent: ..."), never as
 * passed. Free results with tg_kube_op_clear().
 */
TG_WUR int tg_kube_run(tg_kube *k, tg_kube_op *ops, size_t n);
void tg_kube_op_clear(tg_kube_op *op);

/* One-operation conveniences over tg_kube_run. *live_out may be NULL. */
TG_WUR int
tg_kube_apply(json_t **live_out, tg_kube *k, json_t *obj, unsigned flags);
TG_WUR int tg_kube_get(json_t **live_out,
                       tg_kube *k,
                       const char *api_version,
                       const char *kind,
                       const char *ns,
                       const char *name);
TG_WUR int tg_kube_delete(tg_kube *k,
                          const char *api_version,
                          const char *kind,
                          const char *ns,
                          const char *name,
                          unsigned flags);
/* Delete only the object of that uid (preconditions.uid, as Kubernetes
 * does): TG_ECONFLICT when the live object is another one (deleted and
 * created again since it was read); uid NULL: tg_kube_delete. */
TG_WUR int tg_kube_delete_uid(tg_kube *k,
                              const char *api_version,
                              const char *kind,
                              const char *ns,
                              const char *name,
                              const char *uid,
                              unsigned flags);

/* CREATE and UPDATE of one object (see tg_kube_verb): 0, TG_ECONFLICT
 * (exists / resourceVersion is stale), or another error. */
TG_WUR int tg_kube_create(json_t **live_out, tg_kube *k, json_t *obj);
TG_WUR int tg_kube_update(json_t **live_out, tg_kube *k, json_t *obj);

/*
 * Every object of a kind (in namespace ns, or all namespaces when NULL)
 * matching label_selector (NULL for all), following "continue" pages.
 * *items_out is a new JSON array (with apiVersion and kind set on each
 * item, which list responses leave out).
 */
TG_WUR int tg_kube_list(json_t **items_out,
                        tg_kube *k,
                        const char *api_version,
                        const char *kind,
                        const char *ns,
                        const char *label_selector);

/*
 * A listed object handed to tg_kube_list_req.on_item: item (apiVersion
 * and kind set) is borrowed, freed once on_item returns.
 */
typedef void (*tg_kube_list_item_fn)(void *ctx, json_t *item);

/* What a streamed list reads of an item before parsing it: its identity
 * and resourceVersion (ns empty for a cluster-scoped object); apiVersion
 * and kind are the list's (borrowed). */
typedef struct tg_kube_list_peek {
	const char *api_version, *kind;
	char ns[64];    /* a namespace name is at most 63 bytes */
	char name[254]; /* an object name at most 253 */
	char uid[64];
	char resource_version[64];
} tg_kube_list_peek;

/* Whether the item peeked need not be parsed (nor handed to on_item):
 * the caller has seen that object at that resourceVersion already. */
typedef bool (*tg_kube_list_skip_fn)(void *ctx, const tg_kube_list_peek *p);

/* Reduce a listed object in place to what the caller reads of it. */
typedef void (*tg_kube_list_reduce_fn)(json_t *item);

/*
 * Several lists at once, each like tg_kube_list(), their pages fetched in
 * parallel. The caller fills the first four fields; after the call each
 * request has result 0 and items, or a negative code and message (naming
 * the kind). Returns 0 when the batch ran, or a negative code.
 *
 * Streaming: with on_item set, items stay NULL and each listed object
 * is parsed alone and goes to on_item(ctx, item), so a list holds one
 * page's text and one object at a time. With skip set too, an item whose
 * identity and resourceVersion can be read without parsing it (see
 * tg_kube_list_peek) is first offered to skip, and neither parsed nor
 * handed on when skip says so. With reduce set, each item is reduced
 * before it is handed on, and a watch serving the list (tollgate run)
 * keeps its objects reduced. Items of a list that fails on a later
 * page have been handed out already: the caller treats the list as
 * failed (result < 0) all the same.
 */
typedef struct tg_kube_list_req {
	const char *api_version;
	const char *kind;
	const char *ns;             /* NULL: all namespaces */
	const char *label_selector; /* NULL: every object */
	/* results */
	int result;
	char *message;
	json_t *items;
	/* streaming (optional) */
	tg_kube_list_item_fn on_item;
	tg_kube_list_skip_fn skip;
	tg_kube_list_reduce_fn reduce;
	void *ctx;
} tg_kube_list_req;

TG_WUR int tg_kube_list_all(tg_kube *k, tg_kube_list_req *reqs, size_t n);
void tg_kube_list_req_clear(tg_kube_list_req *r);

/*
 * tollgate run: answer lists from watches from now on (reconciler/
 * cluster/watch.c; wake_fd gets a byte on each relevant event). A list
 * whose watch is not in sync is still sent to the server. 0.
 */
TG_WUR int tg_kube_watch_enable(tg_kube *k, int wake_fd);

/* The watches of k, or NULL when not enabled. Borrowed. */
tg_watch_set *tg_kube_watches(tg_kube *k);

#endif
