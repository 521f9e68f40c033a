/*
 * Drift: how a live object differs from what tollgate applied.
 *
 * Only the fields tollgate sets are compared (server defaults and fields
 * other managers added are not drift). Lists of objects whose items have
 * a "name" (containers, ports, env, volumes) are matched by name, other
 * lists compared whole. A drifted field is reported with its JSON pointer
 * and the field managers other than tollgate that own it according to the
 * live object's managedFields (fieldsV1). For Secrets the values are never
 * reported, only which keys differ.
 */
#ifndef TOLLGATE_DRIFT_H
#define TOLLGATE_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/kube.h"
#include "tollgate/limits.h"

/*
 * Compare desired (what tollgate applies) with live (what the server
 * returned). *out is a new JSON array of
 *   {"path": "/spec/replicas", "managers": ["kubectl-patch"],
 *    "desired": 3, "live": 5}
 * ("desired"/"live" are left out for Secret data, and for values over a
 * small size). An empty array means no drift. self is tollgate's field
 * manager name, excluded from "managers".
 */
void tg_drift_compare(json_t **out,
                      json_t *desired,
                      json_t *live,
                      const char *self);

/*
 * Reduce a live object (in place) to what tg_drift_compare and health
 * read, for the objects `tollgate run` keeps between cycles: the fields
 * some manager in its managedFields owns (with all below an owned leaf),
 * every list item with its key fields, metadata with each managedFields
 * entry's manager, operation, subresource and fieldsV1 (status left out),
 * spec.replicas, and of status only what health reads. A field another
 * manager set or took over is owned by it, so it is kept: the compare
 * finds the same drift in the reduced object as in the whole one. Without
 * readable managedFields all but status is kept.
 */
void tg_drift_slim(json_t *live);

/*
 * The managers (other than self) whose fieldsV1 in live's managedFields
 * own the field at pointer (or anything below it). New array of strings.
 */
json_t *tg_drift_owners(json_t *live, const char *pointer, const char *self);

/*
 * Live state: the live objects of several kinds, read with one LIST per
 * kind across all namespaces instead of one GET per object, streamed to
 * the caller one object at a time (never the whole cluster in memory).
 *
 * Usage: tg_drift_live_new(), tg_drift_live_want() for the kind of each
 * object to compare (strings borrowed until the list), then
 * tg_drift_live_list() with a sink.
 */
typedef struct tg_drift_live tg_drift_live;

/* Where listed objects go: on_item(ctx, obj) for each (obj borrowed,
 * freed once it returns); skip (optional) is asked first with the
 * object's identity and resourceVersion, see tg_kube_list_req; and
 * on_failed (optional) names each kind whose list failed: its objects
 * not handed on must be looked up one by one. */
typedef struct tg_drift_live_sink {
	tg_kube_list_item_fn on_item;
	tg_kube_list_skip_fn skip;
	void (*on_failed)(void *ctx,
	                  const char *api_version,
	                  const char *kind,
	                  const char *message);
	void *ctx;
} tg_drift_live_sink;

/* An empty set of kinds. 0. */
TG_WUR int tg_drift_live_new(tg_drift_live **out);
void tg_drift_live_free(tg_drift_live *l);

/* Add the kind of api_version to the kinds to list (once each). */
void tg_drift_live_want(tg_drift_live *l,
                        const char *api_version,
                        const char *kind);

/*
 * List every wanted kind, objects matching label_selector, in parallel,
 * into sink; the set of kinds is empty again after. 0, or a negative code
 * when the lists could not run.
 */
TG_WUR int tg_drift_live_list(tg_drift_live *l,
                              tg_kube *k,
                              const char *label_selector,
                              const tg_drift_live_sink *sink);

/*
 * The drift memo (stateDir/drift-memo): the live objects that a full
 * compare found without drift, each with its uid and resourceVersion,
 * the SHA-256 of the desired object it was compared with, its health code
 * and when. A later cycle skips parsing and comparing a listed object
 * only when all four match and the memo is under TG_DRIFT_MEMO_MAX_AGE_S
 * old: any write to the object (by anyone) gives it a new
 * resourceVersion, any change in Git a new desired hash, so both are
 * compared in full. Keys are "<apiVersion> <kind> <namespace>/<name>".
 */
typedef struct tg_drift_memo tg_drift_memo;

/* The memo in path (NULL: an empty one). A missing, unreadable or
 * malformed file (a torn write included: the end line carries the
 * digest of the rest) gives an empty memo (with a warning unless the
 * file is missing). 0. */
TG_WUR int tg_drift_memo_load(tg_drift_memo **out, const char *path);
void tg_drift_memo_free(tg_drift_memo *m);

/* Whether the memo says key at uid and rv was compared with desired and
 * had no drift, at most TG_DRIFT_MEMO_MAX_AGE_S before now; its health
 * code and time then go to *health_out and *when_out. */
bool tg_drift_memo_clean(int *health_out,
                         int64_t *when_out,
                         const tg_drift_memo *m,
                         const char *key,
                         const char *uid,
                         const char *rv,
                         const unsigned char desired[TG_SHA256_LEN],
                         int64_t now);

/* Remember a clean compare (ignored when a field could not be written
 * back unambiguously: the object is then compared in full next time). */
void tg_drift_memo_add(tg_drift_memo *m,
                       const char *key,
                       const char *uid,
                       const char *rv,
                       const unsigned char desired[TG_SHA256_LEN],
                       int health,
                       int64_t when);

/* Write m to path atomically. 0 or a negative code. */
TG_WUR int tg_drift_memo_save(tg_drift_memo *m, const char *path);

#endif
