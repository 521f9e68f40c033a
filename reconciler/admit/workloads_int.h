/*
 * Internal to the admit stage's workload rules (workloads.c, netpol.c).
 */
#ifndef TOLLGATE_WORKLOADS_INT_H
#define TOLLGATE_WORKLOADS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/admit.h"
#include "tollgate/manifest.h"
#include "tollgate/policy.h"

/* The workload rules of one unit being checked. */
typedef struct wl_ctx {
	const tg_policy *policy;
	const tg_manifest_set *set;
	int64_t now;
	json_t *violations; /* out */
	json_t *used;       /* exceptions used, out */
	size_t enforced;    /* violations that block */
	size_t warned;      /* violations reported only (warn mode) */
	json_t *netpol_ns;  /* namespace -> what its pods need */
	json_t *covered;    /* namespace -> TG_NETPOL_* denied by default
	                       (the options' cache, or one of this unit) */
	json_t *own;        /* the same, of this unit's own NetworkPolicies */
} wl_ctx;

/* One object with pod specs and the rule of its namespace. */
typedef struct wl_obj {
	const json_t *json;
	const char *kind, *ns, *name, *file;
	char *describe; /* "Deployment shop/web", owned; NULL until needed */
	const tg_policy_workload *rule;
} wl_obj;

/* Fill o for obj: its namespace ("default" when none) and the rule for
 * it. -1 when no rule applies there. */
int tg_admit_wl_obj(wl_obj *o,
                    const tg_policy *policy,
                    const tg_manifest_object *obj);

/* The active exception that waives ctl (or, with netpol, the
 * NetworkPolicy requirement) for o, or NULL; *expired then names an
 * expired one that would have. */
const tg_policy_exception *tg_admit_exception_for(wl_ctx *w,
                                                  const wl_obj *o,
                                                  tg_pss_control ctl,
                                                  bool netpol,
                                                  const char **expired);

/* Record e among the exceptions used (once). */
void tg_admit_note_exception(wl_ctx *w, const tg_policy_exception *e);

/* Add violation v (reference stolen) of o with its message, waived by e
 * (or not, naming an expired exception), and count it. */
void tg_admit_add_violation(wl_ctx *w,
                            wl_obj *o,
                            json_t *v,
                            const tg_policy_exception *e,
                            const char *expired);

/* netpol.c: o runs pods in its namespace, whose rule asks for a
 * default-deny NetworkPolicy. */
void tg_admit_netpol_need(wl_ctx *w, const wl_obj *o);

/* netpol.c: a violation for each namespace of the unit whose pods need a
 * default-deny NetworkPolicy the set does not have. */
void tg_admit_netpol_check(wl_ctx *w, const tg_manifest_unit *unit);

#endif
