/*
 * testcluster: a Kubernetes-API-compatible server for tollgate's tests.
 * Internal declarations shared by the files of this directory.
 *
 * All state lives in one tc_state guarded by one mutex (st->lock). Objects
 * are jansson values in a two-level hash map: resource key
 * ("<group>/<resource>") -> object key ("<namespace>/<name>") -> object.
 * Every request runs with the lock held from routing to its answer, except
 * the parse of a JSON body before it, the serialisation of the answer
 * after it (answers hold only stored objects, which are never changed,
 * and values of their own), the streaming part of a watch and injected
 * hangs.
 */
#ifndef TESTCLUSTER_TC_H
#define TESTCLUSTER_TC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"

/*
 * The test cluster's buffers are sized far above anything a test sends:
 * text that does not fit is a bug in the test, so it stops the server
 * loudly instead of answering with a cut document.
 */
static inline void tc_buf_check(int result)
{
	if (result < 0) {
		fprintf(stderr, "testcluster: %s\n", tg_error_last());
		abort();
	}
}

/* Limits -------------------------------------------------------------- */

/* Bytes in one request body: kube-apiserver refuses ~3 MiB; our tests
 * never send more than a large CRD. */
#define TC_MAX_BODY_BYTES (8u * 1024 * 1024)
/* Watch events kept for watches that resume from a resourceVersion;
 * older ones answer 410 Gone like a compacted etcd. */
#define TC_MAX_EVENTS 20000
/* Request log entries kept (oldest dropped first). */
#define TC_MAX_LOG 200000
/* Fault rules active at once. */
#define TC_MAX_FAULTS 64
/* Longest injected hang, seconds. */
#define TC_MAX_HANG_S 600
/* Resource types (built-in plus CRDs). */
#define TC_MAX_TYPES 256
/* Objects per list page when the client asks for more. */
#define TC_MAX_LIMIT 100000
/* Longest URL path we route. */
#define TC_MAX_PATH 2048
/* Seconds a watch lasts when the client gives no timeoutSeconds. */
#define TC_WATCH_DEFAULT_S 1800
/* Seconds between BOOKMARK events on a quiet watch that asked for them
 * (kube-apiserver: about a minute); --bookmark-seconds changes it. */
#define TC_WATCH_BOOKMARK_S 60

/* Resource types -------------------------------------------------------- */

enum {
	TC_T_NAMESPACED = 1 << 0, /* lives in a namespace */
	TC_T_STATUS = 1 << 1,     /* has a /status subresource */
	TC_T_GENERATION = 1 << 2, /* metadata.generation tracks spec */
	TC_T_DNS_LABEL = 1 << 3,  /* name is an RFC 1123 label, not subdomain */
	TC_T_WORKLOAD = 1 << 4,   /* the controller writes its status */
	TC_T_CRD = 1 << 5,        /* registered by a CustomResourceDefinition */
	TC_T_ALL = 1 << 6,        /* in the "all" category */
};

typedef struct tc_type {
	char *group;   /* "" for the core group */
	char *version; /* "v1" */
	char *resource;
	char *singular;
	char *kind;
	char *short_names; /* comma-separated, "" when none */
	unsigned flags;
	/* Unique to each registration (st->type_serial): a request that let
	 * go of the lock finds its type again by name and knows it is the
	 * same one by this (a copy keeps it). */
	uint64_t serial;
} tc_type;

/* Watch events ----------------------------------------------------------- */

typedef struct tc_event {
	uint64_t seq;    /* resourceVersion of the change */
	char *rkey;      /* resource key of the object's type */
	char *type_name; /* "ADDED", "MODIFIED", "DELETED" */
	json_t *object;  /* the object after (or, for DELETED, before) */
} tc_event;

/* Faults and the request log ------------------------------------------- */

typedef struct tc_fault {
	char *method; /* "" matches every method */
	char *prefix; /* path prefix */
	long remaining;
	int status; /* 0: answer normally after the hang */
	int hang_s;
} tc_fault;

/* Server state --------------------------------------------------------- */

typedef struct tc_state {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* signalled on every write and on stop */
	pthread_cond_t workload_changed; /* wakes the controller */
	bool stopping;

	char *token;
	bool tls; /* served over HTTPS: every request needs the token */
	char *server_url;

	uint64_t rv; /* last resourceVersion handed out */
	json_t *db;  /* resource key -> object key -> object */
	/* Bumped on every change of db; the sorted lists (store.c) made at
	 * an earlier count are made again. */
	uint64_t db_gen;
	struct tc_sorted *sorted;
	size_t nsorted;

	tc_type *types[TC_MAX_TYPES];
	size_t ntypes;
	size_t nbuiltin;
	uint64_t type_serial; /* last tc_type.serial handed out */

	tc_event *events; /* ring of TC_MAX_EVENTS */
	size_t ev_start;  /* index of the oldest */
	size_t ev_count;
	uint64_t compacted; /* resume from before this: 410 (compaction) */

	/* Open watch streams; POST /testcluster/watches ends every stream
	 * started before the epoch it bumps, with an ERROR 410 event first
	 * when watch_end_gone. */
	size_t watches_open;
	uint64_t watch_epoch;
	bool watch_end_gone;
	unsigned bookmark_s;

	tc_fault faults[TC_MAX_FAULTS];
	size_t nfaults;
	/* nfaults, read without the lock: a request skips the fault rules
	 * (and the lock) when there are none. */
	size_t faults_armed;

	/* The request log has a lock of its own, taken after st->lock
	 * when both are held. */
	pthread_mutex_t log_lock;
	json_t *log; /* array of request log entries */
	uint64_t log_dropped;

	pthread_t controller;
	bool controller_started;
} tc_state;

int tc_state_init(tc_state *st, const char *token);
void tc_state_reset(tc_state *st);
void tc_state_destroy(tc_state *st);

/* Requests and responses ------------------------------------------------- */

typedef struct tc_req {
	const char *method;
	const char *path;
	const char *content_type; /* "" when absent, parameters stripped */
	const char *accept;
	const char *user_agent;
	const char *body;
	size_t body_len;
	/* query parameters, looked up with tc_req_arg() */
	void *conn;
	/* The body of a POST, PUT or PATCH parsed as JSON (duplicate keys
	 * refused) before the lock is taken; NULL with json_err when it is
	 * not JSON. Read it with tc_req_json(). */
	json_t *json;
	json_error_t json_err;
	bool json_parsed;
} tc_req;

typedef struct tc_resp {
	int status;
	char *body;   /* malloc'd */
	json_t *json; /* the answer, serialised into body without the lock */
	const char *content_type;
	/* Set by a watch: the server streams events instead of body. */
	struct tc_watch *watch;
} tc_resp;

const char *tc_req_arg(const tc_req *req, const char *name);
/* Every query parameter into obj (name -> value). */
void tc_req_each_arg(const tc_req *req, json_t *obj);
bool tc_req_flag(const tc_req *req, const char *name);
bool tc_req_dry_run(const tc_req *req);
/* The field manager: fieldManager, else the User-Agent before '/'. */
char *tc_req_manager(const tc_req *req);

/* The body as JSON (a new reference the caller may change), or NULL with
 * *err set; parsed once, with JSON_REJECT_DUPLICATES. */
json_t *tc_req_json(const tc_req *req, json_error_t *err);
/* The socket of req's connection, or -1 (not known). */
int tc_req_socket(const tc_req *req);
/* Whether an answer has been set; forget it. */
bool tc_resp_set(const tc_resp *resp);
void tc_resp_clear(tc_resp *resp);

/* Take a reference to v and answer it as JSON with status. v must not
 * change afterwards: it is serialised after the lock is released. */
void tc_resp_json(tc_resp *resp, int status, json_t *v);
void tc_resp_json_new(tc_resp *resp, int status, json_t *v);

/* Errors as kind: Status (status.c) ---------------------------------- */

void tc_status_error(tc_resp *resp,
                     int code,
                     const char *reason,
                     json_t *details,
                     const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));
void tc_status_not_found(tc_resp *resp, const tc_type *t, const char *name);
void tc_status_already_exists(tc_resp *resp,
                              const tc_type *t,
                              const char *name);
void tc_status_conflict(tc_resp *resp,
                        const tc_type *t,
                        const char *name,
                        const char *why);
/* 422 Invalid with one cause. */
void tc_status_invalid(tc_resp *resp,
                       const tc_type *t,
                       const char *name,
                       const char *field,
                       const char *cause_reason,
                       const char *detail);
void tc_status_bad_request(tc_resp *resp, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* 200 Status Success for a delete. */
void tc_status_deleted(tc_resp *resp, const tc_type *t, json_t *obj);

/* Types and discovery (types.c, discovery.c) ----------------------------- */

void tc_types_init(tc_state *st);
void tc_types_free(tc_state *st);
const tc_type *tc_type_find(const tc_state *st,
                            const char *group,
                            const char *version,
                            const char *resource);
const tc_type *
tc_type_find_kind(const tc_state *st, const char *group, const char *kind);
/* "apps/v1" or "v1". Caller frees. */
char *tc_type_api_version(const tc_type *t);
/* The resource key of the db: "<group>/<resource>". Caller frees. */
char *tc_type_key(const tc_type *t);
/* Register or update the type a CRD object describes; set its status. */
int tc_crd_register(tc_state *st, json_t *crd, tc_resp *resp);
void tc_crd_unregister(tc_state *st, json_t *crd);

/* Answers /openapi/v3 paths; false for other paths. */
bool tc_openapi_handle(tc_state *st, const tc_req *req, tc_resp *resp);
/* Answers the discovery path if it is one; false otherwise. */
bool tc_discovery_handle(tc_state *st, const tc_req *req, tc_resp *resp);

/* Store (store.c) -------------------------------------------------------- */

char *tc_obj_key(const char *ns, const char *name);
json_t *
tc_store_get(tc_state *st, const tc_type *t, const char *ns, const char *name);
/* Store obj (reference taken), assign a new resourceVersion, record an
 * event of type ev. */
void tc_store_put(tc_state *st, const tc_type *t, json_t *obj, const char *ev);
void tc_store_delete(tc_state *st,
                     const tc_type *t,
                     const char *ns,
                     const char *name);
/* Objects of t (in ns when not NULL), sorted by key; new array. */
json_t *tc_store_list(tc_state *st, const tc_type *t, const char *ns);
/* The objects of one type sorted by key, as of db_gen: keys[i] is the
 * key of objs[i]. Owned by the store (tc_store_sorted). */
typedef struct tc_sorted {
	char *rkey;
	uint64_t gen;
	size_t n;
	char **keys;
	json_t **objs;
} tc_sorted;
/* The objects of t sorted by key, made again only after the store has
 * changed: the pages of a LIST then cost their own objects, not every
 * object of the type each (kube-apiserver reads a page as a range of
 * keys). Valid until the store changes. */
const tc_sorted *tc_store_sorted(tc_state *st, const tc_type *t);
/* Index of the first key of s not less than key (with_equal) or greater
 * than key (!with_equal). */
size_t tc_sorted_bound(const tc_sorted *s, const char *key, bool with_equal);
void tc_store_sorted_free(tc_state *st);
/* Remove every object of every namespaced type in ns. */
void tc_store_delete_namespace(tc_state *st, const char *ns);
/* Remove every object of t (its CRD went away). */
void tc_store_drop_type(tc_state *st, const tc_type *t);
void tc_events_clear(tc_state *st);
/* Offset in the ring (0..ev_count) of the first event after seq. */
size_t tc_events_after(const tc_state *st, uint64_t seq);

/* Objects and verbs (objects.c, verbs.c) ------------------------------ */

typedef struct tc_target {
	const tc_type *type;
	const char *ns;   /* NULL for cluster scope or all namespaces */
	const char *name; /* NULL for a collection */
	const char *sub;  /* "status" or NULL */
} tc_target;

void tc_verb_dispatch(tc_state *st,
                      const tc_req *req,
                      const tc_target *tg,
                      tc_resp *resp);
void tc_verb_list(tc_state *st,
                  const tc_req *req,
                  const tc_target *tg,
                  tc_resp *resp);
void tc_verb_get(tc_state *st,
                 const tc_req *req,
                 const tc_target *tg,
                 tc_resp *resp);
void tc_verb_create(tc_state *st,
                    const tc_req *req,
                    const tc_target *tg,
                    tc_resp *resp);
void tc_verb_update(tc_state *st,
                    const tc_req *req,
                    const tc_target *tg,
                    tc_resp *resp);
void tc_verb_delete(tc_state *st,
                    const tc_req *req,
                    const tc_target *tg,
                    tc_resp *resp);
void tc_verb_patch(tc_state *st,
                   const tc_req *req,
                   const tc_target *tg,
                   tc_resp *resp);
void tc_verb_watch(tc_state *st,
                   const tc_req *req,
                   const tc_target *tg,
                   tc_resp *resp);

/* The resourceVersion precondition of update and patch: 0, or 409. */
int tc_rv_precondition(const tc_type *t,
                       json_t *old,
                       json_t *obj,
                       tc_resp *resp);
/* Finish a write of old into obj (a reference the caller keeps): carry
 * server metadata, track managedFields, store or answer a dry run. */
void tc_write_finish(tc_state *st,
                     const tc_req *req,
                     const tc_target *tg,
                     json_t *old,
                     json_t *obj,
                     tc_resp *resp);
/* Namespaced writes need their namespace: 0, or answers 404. */
int tc_namespace_check(tc_state *st, const tc_target *tg, tc_resp *resp);
/* Register the type of a written CRD (not on dry runs): 0 or answers. */
int tc_crd_hook(tc_state *st,
                const tc_req *req,
                const tc_type *t,
                json_t *obj,
                tc_resp *resp);

/* Parse the request body as one JSON object; answers 400 when it is not. */
json_t *tc_body_object(const tc_req *req, tc_resp *resp);
/* Check a body against the URL and the name rules; 0 or answers. */
int tc_obj_validate(const tc_type *t,
                    const tc_target *tg,
                    json_t *obj,
                    tc_resp *resp);
/* Fill uid, creationTimestamp, generation, namespace on a new object. */
void tc_obj_init_meta(tc_state *st,
                      const tc_type *t,
                      const tc_target *tg,
                      json_t *obj);
/* A new version of the stored obj to change before storing it: a new
 * top-level object and a new metadata object, sharing every other value
 * with obj. The caller may set and delete keys of both, and must replace
 * (never change in place) anything deeper. New reference. */
json_t *tc_obj_next(json_t *obj);
/* Carry server-owned metadata from old to obj and bump generation when
 * the spec changed. */
void tc_obj_carry_meta(const tc_type *t, json_t *old, json_t *obj);
/* Write the object after a change (or only answer for dryRun). */
void tc_obj_commit(tc_state *st,
                   const tc_req *req,
                   const tc_type *t,
                   json_t *obj,
                   bool created,
                   tc_resp *resp);
const char *tc_obj_name(json_t *obj);
const char *tc_obj_ns(json_t *obj);
/* RFC 3339 "now". */
void tc_now_str(char out[21]);

/* Defaulting (defaults.c): fill the fields kube-apiserver defaults on the
 * workload types, Pods and Services; only absent fields are set. */
void tc_defaults_apply(const tc_type *t, json_t *obj);

/* Tables (table.c) ------------------------------------------------------ */

/* Does the Accept header ask for a meta.k8s.io Table (kubectl get)? */
bool tc_req_wants_table(const tc_req *req);
/* A Table of objs (rows carry PartialObjectMetadata, or the objects when
 * full); list_meta may be NULL. New reference. */
json_t *tc_table(const tc_type *t, json_t *objs, json_t *list_meta, bool full);
/* Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1
 * first (client-go's metadata client): a 2xx answer of one object becomes
 * its metadata alone, and with as=PartialObjectMetadataList a list's
 * items do; as kube-apiserver answers get, list, create, update and
 * patch. Called after the lock is released (the stored object's metadata
 * is shared, never changed). */
void tc_resp_partial_metadata(const tc_req *req, tc_resp *resp);
/* Answer doc (an object or a list) as a Table. */
void tc_resp_table(tc_resp *resp,
                   const tc_req *req,
                   const tc_type *t,
                   json_t *doc);
/* A copy of t that outlives CRD changes; free with tc_type_free(). */
tc_type *tc_type_dup(const tc_type *t);
/* The registered type that copy (a tc_type_dup) was made of, or NULL
 * when it was dropped or replaced since (lock held). */
const tc_type *tc_type_again(const tc_state *st, const tc_type *copy);
void tc_type_free(tc_type *t);

/* Selectors (select.c) --------------------------------------------------- */

typedef struct tc_selector tc_selector;
int tc_selector_parse(tc_selector **out,
                      const char *label_sel,
                      const char *field_sel,
                      char **err);
bool tc_selector_match(const tc_selector *sel, json_t *obj);
void tc_selector_free(tc_selector *sel);

/* Patches (patch.c) ----------------------------------------------------- */

/* RFC 7386 merge patch applied to a copy of target; new reference. */
json_t *tc_merge_patch(json_t *target, json_t *patch);
/* RFC 6902; 0, or -1 with *err (malloc'd). */
int tc_json_patch(json_t **out, json_t *target, json_t *patch, char **err);
/* Strategic merge patch (maps merge, keyed lists merge by key). */
json_t *tc_strategic_patch(json_t *target, json_t *patch);
/* The merge key of list field `field` whose items look like `item`;
 * NULL when the list is atomic. */
const char *tc_list_merge_key(const char *field, json_t *item);

/* Server-side apply and managedFields (ssa.c, fieldset.c) ----------------- */

/* Apply `applied` for manager over live (NULL when absent). On success
 * *out is the new object (new reference) with managedFields updated;
 * on a conflict answers 409 and returns -1. */
int tc_ssa_apply(json_t **out,
                 const tc_type *t,
                 json_t *live,
                 json_t *applied,
                 const char *manager,
                 bool force,
                 tc_resp *resp);
/* Record an Update by manager that changed old into obj (old may be NULL
 * for a create). subresource is "status" or NULL. */
void tc_ssa_update(const tc_type *t,
                   json_t *old,
                   json_t *obj,
                   const char *manager,
                   const char *subresource);

/* Field sets in the fieldsV1 format: a tree whose keys are "f:<field>",
 * "k:<key json>", "v:<value json>" and "."; a node is owned when it is a
 * leaf ({}) or holds ".". */
json_t *tc_fieldset_from_object(json_t *obj, bool with_map_dots);
bool tc_fieldset_has(json_t *set, json_t *path);
/* The set holds path, anything below it, or an owned leaf above it. */
bool tc_fieldset_touches(json_t *set, json_t *path);
/* Owned paths of set as an array of arrays of path elements. */
json_t *tc_fieldset_paths(json_t *set);
void tc_fieldset_add(json_t *set, json_t *path);
/* Remove path (and everything below it) from set; prune empty nodes. */
void tc_fieldset_remove(json_t *set, json_t *path);
bool tc_fieldset_empty(json_t *set);
/* A set as stored: its JSON text in a tagged string (new reference). */
json_t *tc_fieldset_pack(json_t *set);
/* The set v holds, packed or a tree, as a new tree; {} for anything
 * else. */
json_t *tc_fieldset_unpack(json_t *v);
/* Can the set v holds touch path? False only when v is packed and its
 * text shows it cannot; a tree is not looked at. */
bool tc_fieldset_may_touch(json_t *v, json_t *path);
/* json_dumps(v, JSON_COMPACT) with every packed set written as the
 * object it holds. Caller frees. */
char *tc_dumps(json_t *v);
/* The value at path in obj (borrowed) or NULL. */
json_t *tc_path_lookup(json_t *obj, json_t *path);
/* Remove what path names from obj. */
void tc_path_remove(json_t *obj, json_t *path);
/* ".spec.replicas" style text for messages. Caller frees. */
char *tc_path_text(json_t *path);

/* Controller (controller.c) ---------------------------------------------- */

int tc_controller_start(tc_state *st);
void tc_controller_stop(tc_state *st);

/* Test controls (control.c) ---------------------------------------------- */

bool tc_control_handle(tc_state *st, const tc_req *req, tc_resp *resp);
/* The fault matching this request, consumed; false when none. */
bool tc_fault_take(tc_state *st,
                   const char *method,
                   const char *path,
                   int *status_out,
                   int *hang_out);
void tc_log_request(tc_state *st, const tc_req *req, int status);
void tc_faults_free(tc_state *st);

/* HTTP (http.c) and TLS/kubeconfig (tls.c) -------------------------------- */

typedef struct tc_server tc_server;
int tc_server_start(tc_server **out,
                    tc_state *st,
                    const char *host,
                    unsigned port,
                    const char *cert_pem,
                    const char *key_pem);
unsigned tc_server_port(const tc_server *srv);
void tc_server_stop(tc_server *srv);

/* Watch streams (watch.c) ------------------------------------------------ */

struct tc_watch;
/* Produce up to max bytes of the stream into buf; blocks until there is
 * something. Returns bytes written, 0 never, -1 at the end. */
long tc_watch_read(struct tc_watch *w, char *buf, size_t max);
void tc_watch_free(struct tc_watch *w);
/* The stream's end (lock not held): no longer counted as open, freed. */
void tc_watch_release(struct tc_watch *w);

int tc_tls_make(char **cert_out, char **key_out, char **ca_out);
int tc_kubeconfig_write(const char *path,
                        const char *url,
                        const char *token,
                        const char *ca_pem);

#endif
