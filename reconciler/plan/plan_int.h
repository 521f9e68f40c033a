/*
 * Internals shared by the files of reconciler/plan/: the steps of
 * deciding and placing one unit (plan.c), used by the one-pass plan on
 * one or two threads (plan_threads.c).
 */
#ifndef TOLLGATE_PLAN_INT_H
#define TOLLGATE_PLAN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/plan.h"

/* The status entry of ref (new reference), shared between units when vs
 * keeps them. */
json_t *tg_plan__shared_image_entry(const tg_plan_verdicts *vs,
                                    const char *ref,
                                    const tg_verdict *v);
/* Count the violations of vs that are not waived into r. */
void tg_plan__count_violations(tg_cycle_result *r, const json_t *vs);
/* Whether every image of unit has a verified digest (TG_EUNTRUSTED
 * recorded when not). */
bool tg_plan__unit_pinnable(const tg_manifest_unit *unit,
                            const tg_plan_verdicts *vs);
/* Pin the images of unit to their verified digests; its objects' trees
 * into *objs_out (an array to free). A negative code when one cannot. */
int tg_plan__pin_unit(json_t ***objs_out,
                      size_t *n_out,
                      tg_manifest_unit *unit,
                      const tg_plan_verdicts *vs);
/* A unit not applied this cycle: its verdict, counted, logged; apply
 * keeps what the cluster has of it. */
void tg_plan__hold_unit(tg_apply *ap,
                        json_t *entry,
                        tg_cycle_result *r,
                        const char *name,
                        const char *verdict);
/* Whether a rule of policy requires NetworkPolicies. */
bool tg_plan__policy_needs_netpol(const tg_policy *policy);
/* Decide unit u into d, its trees kept loaded. */
void tg_plan__decide_keep(tg_plan_decisions *d,
                          size_t u,
                          const tg_manifest_set *set,
                          const tg_plan_verdicts *vs,
                          const tg_plan_admission *adm);
/* d sized for every unit of set, empty. */
void tg_plan__decisions_alloc(tg_plan_decisions *d, const tg_manifest_set *set);

/* plan_threads.c ----------------------------------------------------------- */

/* Whether set can be planned on two threads; makes ready what the
 * threads would otherwise make on first use. */
bool tg_plan__ready_for_threads(const tg_manifest_set *set,
                                const tg_plan_verdicts *vs,
                                const tg_plan_admission *adm);
/* Decide, pin and prepare every unit in one pass (on two threads when
 * threads), then place them in order into units, r and ap. */
void tg_plan__one_pass(tg_apply *ap,
                       json_t *units,
                       tg_cycle_result *r,
                       tg_manifest_set *set,
                       const tg_plan_verdicts *vs,
                       const tg_plan_admission *adm,
                       bool threads);

#endif
