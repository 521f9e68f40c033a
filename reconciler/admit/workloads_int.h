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

/* The dotted paths of a pod spec pointer and of its metadata's. */
typedef struct wl_paths {
	char *ptr, *base, *meta_ptr, *meta_base;
} wl_paths;

/* Pod spec pointers whose paths a unit keeps (Deployments, CronJobs
 * and Pods have theirs at three places). */
#define WL_PATHS 4

/* Slots of a wl_strs. */
#define WL_STRS 32

/* JSON strings shared by the violations of a unit (wl_str): thousands
 * of violations name a few controls, levels, rules and containers. */
typedef struct wl_strs {
	const char *key[WL_STRS]; /* the string each was made of */
	json_t *v[WL_STRS];
	size_t n, next; /* slots used; the one to reuse when all are */
} wl_strs;

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
	wl_strs fixed;      /* controls, levels, allowed values, rules, modes */
	wl_strs names;      /* container names */
	wl_strs values;     /* paths and values found (the same in many
	                       objects made from one template) */
	/* what the objects of a unit mostly share, kept from one to the
	 * next: the rule of the last namespace looked up, the dotted paths
	 * of the last pod spec pointers, the NetworkPolicies of the last
	 * namespace, the exception last noted */
	const char *rule_ns;
	const tg_policy_workload *rule;
	wl_paths paths[WL_PATHS];
	size_t next_paths; /* the slot to reuse */
	const char *cov_ns;
	unsigned cov;
	const tg_policy_exception *noted;
} wl_ctx;

/* One object with pod specs and the rule of its namespace. */
typedef struct wl_obj {
	const json_t *json;
	const char *kind, *ns, *name, *file;
	char *describe; /* "Deployment shop/web", owned; NULL until needed */
	json_t *jdescribe, *jfile; /* the same as JSON, owned; or NULL */
	const tg_policy_workload *rule;
} wl_obj;

/* Free what o made. */
void tg_admit_wl_obj_done(wl_obj *o);

/* One violation's fields (strings that live during the call). */
typedef struct wl_violation {
	const char *control, *level, *path, *found, *allowed;
	const char *container; /* NULL: the pod's */
	const char *message;   /* NULL: made of the others */
} wl_violation;

/* Fill o for obj: its namespace ("default" when none) and the rule for
 * it. -1 when no rule applies there. */
int tg_admit_wl_obj(wl_obj *o, wl_ctx *w, const tg_manifest_object *obj);

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

/* Add violation v of o with its message, waived by e (or not, naming an
 * expired exception), and count it. */
void tg_admit_add_violation(wl_ctx *w,
                            wl_obj *o,
                            const wl_violation *v,
                            const tg_policy_exception *e,
                            const char *expired);

/* netpol.c: o runs pods in its namespace, whose rule asks for a
 * default-deny NetworkPolicy. */
void tg_admit_netpol_need(wl_ctx *w, const wl_obj *o);

/* netpol.c: a violation for each namespace of the unit whose pods need a
 * default-deny NetworkPolicy the set does not have. */
void tg_admit_netpol_check(wl_ctx *w, const tg_manifest_unit *unit);

#endif
