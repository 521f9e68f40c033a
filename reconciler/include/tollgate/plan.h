/*
 * The plan stage (DESIGN.md section 1, step 5): from the verdicts of one
 * cycle's images, decide each unit. A unit is applied only if every image
 * in it is allowed (or warned) and every file of it is valid; otherwise it
 * is blocked whole and the cluster keeps what it had. The image fields of
 * an allowed unit are pinned to the verified digest before apply sees
 * them. After apply, its report is folded into the status document.
 */
#ifndef TOLLGATE_PLAN_H
#define TOLLGATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/admit.h"
#include "tollgate/apply.h"
#include "tollgate/manifest.h"
#include "tollgate/verdict.h"

/* What one cycle did, counted by the plan and the stages after it. */
typedef struct tg_cycle_result {
	int units;
	int blocked; /* units blocked by policy or invalid manifests */
	int failed;  /* units the cluster refused */
	int applied; /* units written this cycle */
	int unchanged;
	int drifted;        /* objects found drifted */
	int images_allowed; /* distinct image references, by verdict */
	int images_warned;
	int images_blocked; /* blocked or could not be verified */
	/* workload violations not waived, by mode (0 enforce, 1 warn) and
	 * control (tg_pss_control; TG_PSS_NCONTROLS: networkPolicy) */
	int workload_violations[2][TG_PSS_NCONTROLS + 1];
	bool stopped; /* the cycle stopped early (signal, lease) */
	bool status_committed;
	bool status_pushed;
	/* The source's new content was refused: an OCI artifact, or a Git
	 * head by the policy's commits: section (commit is then the last
	 * verified one). */
	bool source_blocked;
	char commit[72]; /* the source commit or artifact digest used */
	char head[72];   /* a Git source: the branch's commit fetched */
} tg_cycle_result;

/*
 * The verdicts of a set of image references, each distinct reference
 * once. Initialise with tg_plan_verdicts_init(), add references, let the
 * verifier fill v[0..n) (allocated by tg_plan_verdicts_alloc()), and free
 * with tg_plan_verdicts_free().
 */
typedef struct tg_plan_verdicts {
	const char **refs; /* borrowed from their owner (a manifest set) */
	tg_verdict **v;
	size_t n;
	json_t *index; /* ref -> position */
	/* ref -> its status entry (tg_plan_image_entry), made once and
	 * shared by every unit that names ref: read-only once made. NULL
	 * (a verdicts not from tg_plan_verdicts_init): made per unit. */
	json_t *entries;
} tg_plan_verdicts;

void tg_plan_verdicts_init(tg_plan_verdicts *vs);
/* Add ref (borrowed) unless it is there already. */
void tg_plan_verdicts_add(tg_plan_verdicts *vs, const char *ref);
/* Allocate v for the n references added (all NULL). */
void tg_plan_verdicts_alloc(tg_plan_verdicts *vs);
void tg_plan_verdicts_free(tg_plan_verdicts *vs);
/* The verdict of ref (borrowed), or NULL when ref was not verified. */
const tg_verdict *tg_plan_verdict_for(const tg_plan_verdicts *vs,
                                      const char *ref);

/* The status entry of one image (new reference): the verifier's verdict,
 * plus the reference as written and the reasons gathered from its
 * checks. */
json_t *tg_plan_image_entry(const char *ref, const tg_verdict *v);

/* What the admit stage needs: the reserved objects and the policy's
 * scopes. */
typedef struct tg_plan_admission {
	const tg_admit_options *opts;
	const tg_policy *policy; /* NULL: no scopes */
} tg_plan_admission;

/*
 * Decide one unit into its status entry (images, errors, "admission",
 * "workloads", message) without applying anything: "failed" (invalid
 * files), "blocked" (an image blocked, an object not admitted, a
 * workload violation in enforce mode) or NULL (it would be applied).
 * vs NULL: images are not looked at (tollgate check without --images).
 * r (may be NULL) counts the workload violations.
 */
const char *tg_plan_decide_unit(json_t *entry,
                                tg_cycle_result *r,
                                const tg_manifest_set *set,
                                tg_manifest_unit *unit,
                                const tg_plan_verdicts *vs,
                                const tg_plan_admission *adm);

/* Every unit's decision, in the set's order. */
typedef struct tg_plan_decisions {
	json_t **entries;      /* each unit's status entry (owned) */
	const char **verdicts; /* "failed", "blocked" or NULL (apply) */
	size_t n;
} tg_plan_decisions;

/*
 * Decide every unit of set into d (tg_plan_decide_unit), counting the
 * workload violations of the final decisions into r (may be NULL).
 * A default-deny NetworkPolicy protects its namespace only when its unit
 * is applied: the NetworkPolicies of the units not applied are left out
 * of the coverage (adm's netpol_cache), and the units whose pods run in
 * a namespace whose coverage that changed are decided again, until no
 * more policies are left out. Free d with tg_plan_decisions_free().
 */
void tg_plan_decide_all(tg_plan_decisions *d,
                        tg_cycle_result *r,
                        const tg_manifest_set *set,
                        const tg_plan_verdicts *vs,
                        const tg_plan_admission *adm);
void tg_plan_decisions_free(tg_plan_decisions *d);

/*
 * Decide every unit of set into doc's "units" (verdict "failed",
 * "blocked" or "planned", images, "admission" reasons, message),
 * counting units into r; pin the images of the planned units and hand
 * them to ap; tell ap to keep the objects of the others. A unit with an
 * object the admit stage refuses is blocked whole. The decisions are
 * tg_plan_decide_all's.
 */
void tg_plan_units(tg_apply *ap,
                   json_t *doc,
                   tg_cycle_result *r,
                   tg_manifest_set *set,
                   const tg_plan_verdicts *vs,
                   const tg_plan_admission *adm);

/*
 * Fold apply's report into the status document doc: unit verdicts (not
 * for a dry run, plan), objects, pruned units, health, the drift list;
 * count the outcomes into r.
 */
void tg_plan_merge_apply_report(json_t *doc,
                                tg_cycle_result *r,
                                json_t *report,
                                bool plan);

#endif
