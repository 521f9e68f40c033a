/*
 * Internal to the Pod Security Standards checks of the admit stage
 * (pss.c, pss_baseline.c, pss_restricted.c): one pod spec being checked,
 * its containers, and how a violation is recorded. The members the
 * controls read are found in one pass over each object (the pod spec,
 * every container, every securityContext) rather than one lookup each:
 * a cycle checks every container of thousands of pod specs.
 */
#ifndef TOLLGATE_PSS_INT_H
#define TOLLGATE_PSS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/policy.h"

/* The members of a securityContext the controls read. */
enum {
	PSS_SC_PRIVILEGED,
	PSS_SC_ALLOW_PRIVILEGE_ESCALATION,
	PSS_SC_CAPABILITIES,
	PSS_SC_RUN_AS_NON_ROOT,
	PSS_SC_RUN_AS_USER,
	PSS_SC_SECCOMP_PROFILE,
	PSS_SC_SELINUX_OPTIONS,
	PSS_SC_APPARMOR_PROFILE,
	PSS_SC_PROC_MOUNT,
	PSS_SC_WINDOWS_OPTIONS,
	PSS_SC_SYSCTLS,
	PSS_SC_N
};

/* A securityContext's members by PSS_SC_* (NULL when absent). */
typedef struct pss_sc {
	const json_t *f[PSS_SC_N];
} pss_sc;

/* Fill s from sc (a securityContext, or NULL or not an object: none). */
void pss_sc_read(pss_sc *s, const json_t *sc);

/* Bytes of a container's path ("spec.template.spec.containers[0]"; cut
 * when longer). */
#define PSS_PATH_MAX 1024

/* One violation as a check finds it. */
typedef struct pss_found {
	tg_pss_control control;
	tg_pss_level level;
	const char *container; /* its name; NULL for the pod */
	const char *path;      /* dotted field path */
	const char *found;     /* the value found, as shown */
	const char *allowed;   /* what is allowed */
} pss_found;

/* Where the violations go: called once for each, in the order found (f
 * and its strings live only during the call). */
typedef void (*pss_sink)(void *arg, const pss_found *f);

/* The lists of containers of a pod spec. */
enum { PSS_L_CONTAINERS, PSS_L_INIT, PSS_L_EPHEMERAL, PSS_L_N };

/* The handlers of a container whose hosts baseline checks (v1.34). */
enum {
	PSS_H_LIVENESS,
	PSS_H_READINESS,
	PSS_H_STARTUP,
	PSS_H_LIFECYCLE,
	PSS_H_N
};

/* One container of the pod spec (containers, initContainers or
 * ephemeralContainers) and the members the controls read. */
typedef struct pss_ctr {
	const json_t *c;
	const json_t *sc;                /* its securityContext, or NULL */
	pss_sc s;                        /* its members */
	const json_t *ports;             /* or NULL */
	const json_t *caps_add;          /* capabilities.add, or NULL */
	const json_t *caps_drop;         /* capabilities.drop, or NULL */
	const json_t *handlers[PSS_H_N]; /* probes, lifecycle; or NULL */
	const char *name;                /* "" when it has none */
	const char *list;                /* "containers", ... */
	size_t index;                    /* in list */
	struct pss_pod *pod;
} pss_ctr;

/* Containers of a pod spec read once for both levels' walks; those past
 * them are read again by each walk (nothing is allocated per
 * container). */
#define PSS_CTR_CACHE 16

/* One pod spec under check. */
typedef struct pss_pod {
	pss_ctr ctrs[PSS_CTR_CACHE]; /* the first containers, read */
	size_t nctrs;
	const json_t *spec;
	const json_t *sc;             /* spec.securityContext, or NULL */
	pss_sc s;                     /* its members */
	const json_t *seccomp_type;   /* its seccompProfile.type, or NULL */
	const json_t *lists[PSS_L_N]; /* containers, ..., or NULL */
	const json_t *host[3];        /* hostNetwork, hostPID, hostIPC */
	const json_t *volumes;        /* spec.volumes, or NULL */
	const json_t *meta;    /* the metadata beside the spec, or NULL */
	const char *base;      /* dotted path of spec */
	const char *meta_base; /* dotted path of meta */
	unsigned minor;        /* the standard as of v1.<minor> */
	bool windows;          /* spec.os.name is "windows" */
	bool userns;           /* spec.hostUsers is false: a user namespace */
	tg_pss_level want;  /* the level checked (restricted: baseline too) */
	tg_pss_level level; /* of the control being checked */
	const char *path_list; /* path holds the dotted path of this list's */
	size_t path_index;     /* container at this index (NULL: none) */
	char path[PSS_PATH_MAX];
	pss_sink sink;
	void *sink_arg;
	size_t count; /* violations so far */
} pss_pod;

/* The container's dotted path, made when a violation first needs it. */
const char *pss_ctr_path(const pss_ctr *c);

/* Where a check of the pod (c NULL) or of container c reports: the
 * dotted path and the container's name (NULL for the pod). */
static inline const char *pss_where(const pss_pod *p, const pss_ctr *c)
{
	return c ? pss_ctr_path(c) : p->base;
}
static inline const char *pss_who(const pss_ctr *c)
{
	return c ? c->name : NULL;
}

typedef void (*pss_ctr_fn)(pss_pod *p, const pss_ctr *c);

/* Call fn for every container of every list of the pod spec. */
void pss_each_container(pss_pod *p, pss_ctr_fn fn);

/* The Pod Security Standards on spec, as tg_pss_check, each violation
 * handed to sink. Returns how many. */
size_t pss_check_to(pss_sink sink,
                    void *arg,
                    const json_t *spec,
                    const json_t *meta,
                    const char *base,
                    const char *meta_base,
                    tg_pss_level level,
                    unsigned minor);

/*
 * Record a violation of control: the container's name (NULL for the
 * pod), the field path (where, then what: ".securityContext.privileged"),
 * the value found (NULL: "unset") and what is allowed.
 */
void pss_violation(pss_pod *p,
                   tg_pss_control control,
                   const char *container,
                   const char *where,
                   const char *what,
                   const char *found,
                   const char *allowed);

/* The same, the value found shown as pss_show shows it. */
void pss_violation_j(pss_pod *p,
                     tg_pss_control control,
                     const char *container,
                     const char *where,
                     const char *what,
                     const json_t *found,
                     const char *allowed);

/* The same, what made by a printf format. */
void pss_violation_f(pss_pod *p,
                     tg_pss_control control,
                     const char *container,
                     const char *where,
                     const json_t *found,
                     const char *allowed,
                     const char *fmt,
                     ...) __attribute__((format(printf, 7, 8)));

/* v as it reads in YAML/JSON (strings unquoted), at most 120 bytes;
 * caller frees. */
char *pss_show(const json_t *v);

/* Whether v is JSON true. */
static inline bool pss_true(const json_t *v)
{
	return json_is_true(v);
}

/* The /proc mount type of container c: unset or Default; reported as
 * ctl (procMount, or procMount_restricted from v1.35). */
void pss_proc_mount(pss_pod *p, const pss_ctr *c, tg_pss_control ctl);

/* The checks of each level (pss_baseline.c, pss_restricted.c). */
void tg_pss_baseline(pss_pod *p);
void tg_pss_restricted(pss_pod *p);

#endif
