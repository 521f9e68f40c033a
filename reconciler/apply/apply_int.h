/*
 * Internals shared by the files of reconciler/apply/: the units and
 * objects of one run, batches of Kubernetes operations, and the iterator
 * over the objects of the units a step works on.
 */
#ifndef TOLLGATE_APPLY_INT_H
#define TOLLGATE_APPLY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/apply.h"
#include "tollgate/drift.h"
#include "tollgate/kube.h"
#include "tollgate/util.h"

#define TG_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define TG_LABEL_UNIT "tollgate.dev/unit"
#define TG_LABEL_INVENTORY "tollgate.dev/inventory"
#define TG_ANN_COMMIT "tollgate.dev/source-commit"
#define TG_ANN_PRUNE "tollgate.dev/prune"
#define TG_FIELD_MANAGER "tollgate"

enum phase {
	PHASE_CRD,
	PHASE_NAMESPACE,
	PHASE_CLUSTER,
	PHASE_FOUNDATION,
	PHASE_WORKLOAD,
	PHASE_OTHER,
	PHASE_CUSTOM,
	PHASE_COUNT
};

/*
 * A desired object. Between the steps that need its tree it is kept only
 * as compact JSON text (a tree of jansson objects is about ten times its
 * text): apply_desired() parses it when a step needs it and
 * apply_park() drops the tree again, so that the cycle never holds every
 * object of the cluster as trees at once (reconciler/apply/desired.c).
 */
typedef struct obj {
	json_t *desired; /* the decorated tree while loaded, or NULL */
	char *text;      /* compact JSON, keys sorted (owned), or NULL */
	size_t text_len;
	/* The body an apply sends, made with the text while the tree was
	 * loaded (owned), or NULL: what restore() and the kube client's
	 * serialisation would make of the text, for the namespace ns had
	 * then and body_commit (borrowed from the apply); valid while the
	 * object carries that commit (apply_obj_body). */
	char *body;
	const char *body_commit;
	char *api_version, *kind, *ns, *name; /* owned; ns may be NULL */
	bool scoped;        /* scope resolved: metadata.namespace is ns */
	const char *commit; /* its source-commit annotation (borrowed from
	                       the apply), or NULL */
	enum phase phase;
	const char *action;
	json_t *changed; /* paths (plan) */
} obj;

typedef struct unit {
	char *name;
	obj *objs;
	size_t n;
	bool keep;    /* blocked or invalid: leave alone */
	bool changed; /* content differs from the inventory */
	bool failed;
	char hash[TG_DIGEST_STR_LEN + 1];
	/* It has an inventory whose list is readable: read again for the
	 * prune (apply_old_objects), not held while the objects are applied
	 * (a cycle that changes every unit would hold every identity). */
	bool old_readable;
	json_t *errors, *objects, *health, *drift;
	json_t *pruned; /* prune events of this cycle */
	bool drift_corrected;
} unit;

struct tg_apply {
	tg_kube *kube;
	tg_apply_options opts;
	char *inventory_ns;
	char *commit;
	char *drift_memo;
	unit *units;
	size_t nunits;
	json_t *inventories; /* unit name -> live inventory ConfigMap */
	json_t *pruned_units;
	json_t *warnings; /* strings: inventories ignored, ... */
	/* The drift memo of the last cycle (read) and of this one (written
	 * at the end of the run: the drift check's clean compares and the
	 * answers to applies found as sent), or NULL without a path. */
	tg_drift_memo *memo_old, *memo_next;
	int64_t memo_now;
};

/* Desired objects as text (apply/desired.c) -------------------------------- */

/* o from the decorated tree (a reference is taken; o keeps it loaded
 * until apply_park): its identity copied and its text made, and, with
 * commit, the body of its apply stamped with commit. */
void apply_obj_init(obj *o, json_t *tree, const char *commit);
void apply_obj_clear(obj *o);

/* The body of o's apply as it stands (borrowed), or NULL when o has none
 * that tells its tree: then the tree is serialised. */
const char *apply_obj_body(const obj *o);

/* Free o's body: it was sent, or o is not applied this cycle. */
void apply_obj_drop_body(obj *o);

/* o's tree (borrowed: valid until apply_park(o)), parsed from its text
 * when parked, with the namespace and annotation steps gave it since. */
json_t *apply_desired(obj *o);

/* Drop o's tree (a batch that holds a reference keeps it alive). */
void apply_park(obj *o);

/* o's namespace is ns (NULL: none, a cluster-scoped kind). */
void apply_obj_set_namespace(obj *o, const char *ns);

/* o carries tollgate.dev/source-commit: commit (borrowed, outlives o)
 * from now on. */
void apply_obj_stamp(obj *o, const char *commit);

/* Units and scope (apply/scope.c) ------------------------------------------ */

/* A new unit appended to a's units (the pointer lives until the next). */
unit *apply_new_unit(tg_apply *a, const char *name);
/* u empty, named name (no apply holds it yet). */
void apply_unit_init(unit *u, const char *name);

/* Fail u as a whole with msg (logged, kept in its errors). */
void apply_unit_error(unit *u, const char *msg);

/* Units applied this cycle: allowed, changed, not failed. */
bool apply_eligible(const unit *u);

/* Units left alone by apply whose live objects are checked for drift. */
bool apply_unchanged(const unit *u);

/* Units allowed this cycle (not kept), failed or not. */
bool apply_allowed(const unit *u);

/* Units allowed this cycle and not failed (yet). */
bool apply_pending(const unit *u);

/*
 * Set the namespace of o from discovery ("default" for a namespaced kind
 * without one, none for a cluster-scoped kind) and its phase. 0, or
 * TG_ENOTFOUND when the server does not serve the kind (yet: its CRD may
 * come this cycle).
 */
int apply_resolve_scope(tg_apply *a, obj *o);

/* Whether a CRD among the units to apply defines kind in api_version's
 * group / a Namespace named ns is among the units to apply. */
bool apply_crd_pending(tg_apply *a, const char *api_version, const char *kind);
bool apply_namespace_pending(tg_apply *a, const char *ns);

/*
 * Resolve o's scope for a step that may run before the CRD of its kind is
 * applied: 0 resolved, 1 unresolved but its CRD comes this cycle, or -1
 * when the kind is not served (the unit is failed with the reason).
 */
int apply_scope_or_fail(tg_apply *a, unit *u, obj *o);

/* Is this dry-run failure expected because of something applied earlier in
 * the same cycle (the CRD of a kind, the Namespace of an object)? */
bool apply_failure_is_pending(tg_apply *a, const obj *o, const tg_kube_op *op);

/* Each object of each unit that passes a filter ---------------------------- */

/*
 * Usage: obj_iter it = apply_objects(a, apply_eligible);
 *        while (apply_next(&it)) use it.u, it.o;
 * The filter is asked once per unit, before its first object, so a unit
 * failed while its objects are visited keeps being visited to its end.
 */
typedef struct obj_iter {
	tg_apply *a;
	bool (*want)(const unit *u);
	size_t i, j;
	unit *u;
	obj *o;
} obj_iter;

obj_iter apply_objects(tg_apply *a, bool (*want)(const unit *u));
bool apply_next(obj_iter *it);

/* Batches of operations (apply/scope.c) ------------------------------------ */

typedef struct batch {
	tg_kube_op *ops;
	obj **objs;
	unit **units;
	size_t n, cap;
} batch;

void apply_batch_add(
        batch *b, unit *u, obj *o, tg_kube_verb verb, unsigned flags);
/*
 * Run the batch. When it could not run as a whole, every op not run
 * already reads as failed (tg_kube_run guarantees it); the error is logged
 * here and the caller reads each op's result.
 */
void apply_batch_run(tg_apply *a, batch *b);
void apply_batch_free(batch *b);

/* Sleep s seconds (polls of CRD and rollout status). */
void apply_sleep_s(double s);

/* JSON object member key of parent, created empty when missing. */
json_t *apply_object_member(json_t *parent, const char *key);

/* Inventories (apply/inventory.c) ------------------------------------------ */

json_t *apply_identity_of(const obj *o);
int apply_ensure_inventory_namespace(tg_apply *a);
int apply_load_inventories(tg_apply *a);
void apply_diff_inventories(tg_apply *a);
void apply_write_inventories(tg_apply *a);

/* Trust (apply/ownership.c) ------------------------------------------------ */

/* Whether s is a valid label value (tollgate.dev/unit is a label then). */
bool apply_valid_label_value(const char *s);

/*
 * Why the live ConfigMap cm (labelled as an inventory) is not trusted, as
 * a new string "inventory <ns>/<name> ignored: <why>", or NULL when it is:
 * tollgate's server-side apply wrote its data.unit and data.objects, its
 * name is tg_apply_inventory_name(data.unit), and it is not an object a
 * unit applied.
 */
char *apply_inventory_distrust(const tg_apply *a, json_t *cm);

/*
 * The identities listed in the data.objects of inventory cm, a new array,
 * or NULL with *why (a new string) when the list cannot be read: not JSON,
 * a duplicate key, not a list, or an entry that is not exactly
 * {apiVersion, kind, name[, namespace]} as non-empty strings. An
 * unreadable inventory prunes nothing.
 */
json_t *apply_inventory_objects(json_t *cm, char **why);

/* The identities of u's inventory (see old_readable), a new array, or NULL
 * when it has none that can be read. */
json_t *apply_old_objects(tg_apply *a, const unit *u);

/*
 * The identities of u's inventory list old that u no longer has (to be
 * pruned), a new array of references in the order of old.
 */
json_t *apply_prune_gone(const unit *u, json_t *old);

/*
 * Why prune must leave the live object alone for unit, as a new string
 * "left alone: not applied by tollgate for unit <unit> (<why>)", or NULL
 * when it may be deleted: it carries app.kubernetes.io/managed-by:
 * tollgate and tollgate.dev/unit: <unit> (the annotation for a unit name
 * that is no label value), and tollgate's Apply entry in its managedFields
 * owns both.
 */
char *apply_not_applied_by_tollgate(json_t *live, const char *unit);

/* Steps -------------------------------------------------------------------- */

void apply_preflight(tg_apply *a);           /* apply/preflight.c */
void apply_prune_unit(tg_apply *a, unit *u); /* apply/prune.c */
void apply_prune_removed_units(tg_apply *a);
bool apply_is_workload(const obj *o); /* apply/health.c */
/* Record the health of workload o from live; its health code (1-4, kept
 * in the drift memo). */
int apply_record_health(unit *u, const obj *o, json_t *live);
/* Record the health of a code from apply_record_health(); false for a
 * code that is none. */
bool apply_record_health_code(unit *u, const obj *o, int code);
void apply_check_health(tg_apply *a);
void apply_check_drift(tg_apply *a); /* apply/drift_check.c */
/* The drift memos opened before the drift check and the memo written
 * after the last apply (apply/drift_check.c). */
void apply_memo_open(tg_apply *a);
void apply_memo_close(tg_apply *a);
/* Asks for the answers of a batch of applies when watches run: an
 * answer found as sent is remembered in the memo, and the watches keep
 * no text of its event (tg_kube_op.answered). ctx outlives the run. */
typedef struct apply_vouch_ctx {
	tg_apply *a;
	batch *b;
} apply_vouch_ctx;
void apply_vouch_answers(apply_vouch_ctx *ctx, tg_apply *a, batch *b);
void apply_diff_units(tg_apply *a); /* apply/diff.c */

#endif
