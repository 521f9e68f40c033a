/*
 * Apply: put the desired objects of allowed units into the cluster, in
 * dependency order, prune what left Git, keep each unit's inventory, check
 * rollout health, and find drift (DESIGN.md sections 1 and 3.5).
 *
 * Usage: tg_apply_new(), tg_apply_add_unit() for each unit allowed this
 * cycle (objects already pinned to verified digests), tg_apply_keep_unit()
 * for each unit that exists in Git but is blocked or invalid (so its
 * objects are neither pruned nor its inventory dropped), then
 * tg_apply_run(), then read tg_apply_report().
 *
 * Every applied object gets the label app.kubernetes.io/managed-by:
 * tollgate, the label tollgate.dev/unit: <unit> (when the unit name is a
 * valid label value; the annotation tollgate.dev/unit always carries it)
 * and the annotation tollgate.dev/source-commit: <sha>.
 *
 * Order: CustomResourceDefinitions (then wait until Established and
 * rediscover), Namespaces, other cluster-scoped kinds, namespaced
 * foundations (ServiceAccount, Secret, ConfigMap, RBAC, storage, Service),
 * workloads, everything else; custom resources last. Objects of one phase
 * are applied in parallel. Pruning runs in the reverse order.
 *
 * Before anything is written, every object of a unit is sent with
 * dryRun=All; a unit with any object the server rejects is not applied at
 * all (verdict "failed" with the server's messages), so a bad object
 * never leaves its unit half-applied.
 */
#ifndef TOLLGATE_APPLY_H
#define TOLLGATE_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/kube.h"
#include "tollgate/error.h"

typedef struct tg_apply tg_apply;

typedef struct tg_apply_options {
	const char *inventory_namespace; /* NULL: "tollgate-system" */
	const char *source_commit;       /* full sha, for the annotation */
	bool prune;
	bool correct_drift; /* re-apply drifted objects (drift: correct) */
	bool plan;          /* write nothing: dry-run everything and diff */
	double health_timeout_s; /* wait for rollouts; 0: do not wait */
	const char *drift_memo;  /* path of the drift memo; NULL: none */
} tg_apply_options;

TG_WUR int
tg_apply_new(tg_apply **out, tg_kube *kube, const tg_apply_options *opts);
void tg_apply_free(tg_apply *a);

/*
 * Add an allowed unit and its desired objects. The objects are shared,
 * not copied (one copy of each desired object in a cycle): a reference is
 * taken and they are changed in place: tollgate's labels and annotations
 * added, the namespace set from discovery (namespaced objects without
 * metadata.namespace go to "default", as with kubectl), the source commit
 * annotated when applied. Add each unit after every decision that reads
 * its objects as they came from Git.
 */
void tg_apply_add_unit(tg_apply *a,
                       const char *unit,
                       json_t *const *objects,
                       size_t n);

/* The same for a unit whose content is likely new to the cluster (its
 * files were parsed this cycle): the bodies of its applies are made now,
 * while the objects are parsed trees, so that the apply neither parses
 * them back from text nor serialises them again. Where the unit turns
 * out unchanged, that was work for nothing (and memory until the apply):
 * an unchanged unit is added with tg_apply_add_unit. */
void tg_apply_add_new_unit(tg_apply *a,
                           const char *unit,
                           json_t *const *objects,
                           size_t n);

/*
 * The same in two steps, for a plan that makes units on several threads:
 * tg_apply_prepare_unit does the work of tg_apply_add_new_unit (new_unit)
 * or tg_apply_add_unit on the objects without adding the unit; it reads
 * only a's options and commit, so threads may prepare units of one apply
 * at once. tg_apply_add_prepared adds it (and takes it), in the order the
 * units are to be applied; tg_apply_prepared_free drops one not added.
 */
typedef struct tg_apply_prepared tg_apply_prepared;
tg_apply_prepared *tg_apply_prepare_unit(const tg_apply *a,
                                         const char *unit,
                                         json_t *const *objects,
                                         size_t n,
                                         bool new_unit);
void tg_apply_add_prepared(tg_apply *a, tg_apply_prepared *p);
void tg_apply_prepared_free(tg_apply_prepared *p);

/* A unit present in Git but not applied this cycle (blocked, invalid):
 * its inventory and objects are left alone. */
void tg_apply_keep_unit(tg_apply *a, const char *unit);

/*
 * Do it. Returns 0 when the cycle ran (units may still have failed: see
 * the report), or a negative code when nothing could be done (cluster
 * unreachable, inventory namespace cannot be created).
 */
TG_WUR int tg_apply_run(tg_apply *a);

/*
 * The outcome, a new reference:
 * {"units": {"<unit>": {"result": "applied|unchanged|failed",
 *     "errors": [...], "objects": [{"apiVersion", "kind", "namespace",
 *     "name", "action": "create|update|unchanged|prune|prune-skipped",
 *     "changed": ["/spec/replicas", ...]}],
 *     "pruned": [{"apiVersion", "kind", "namespace", "name", "action":
 *       "pruned|prune|gone|prune-skipped|prune-failed|left-alone",
 *       "reason": "left alone: not applied by tollgate for unit X (...)"}],
 *     "health": [{"kind", "namespace", "name", "state":
 *       "healthy|progressing|failed", "message"}],
 *     "drift": [{"kind", "namespace", "name", "fields": [{path,
 *       managers, desired, live}]}], "driftCorrected": true|false}},
 *  "pruned": [...units removed from Git whose objects were pruned...],
 *  "warnings": ["inventory tollgate-system/x ignored: not written by
 *     tollgate ...", ...]}
 *
 * Prune trusts only inventories tollgate wrote (its field manager's
 * server-side apply owns data.unit and data.objects) under the name of
 * their unit (tg_apply_inventory_name), and deletes only live objects
 * labelled app.kubernetes.io/managed-by: tollgate and tollgate.dev/unit:
 * <unit> whose managedFields show tollgate applied those labels; any other
 * inventory is a warning, any other object is left alone with its reason.
 */
json_t *tg_apply_report(const tg_apply *a);

/* "tollgate-inventory-<sanitised unit>-<first 8 hex of sha256(unit)>". */
char *tg_apply_inventory_name(const char *unit);

#endif
