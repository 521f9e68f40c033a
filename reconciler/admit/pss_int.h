/*
 * Internal to the Pod Security Standards checks of the admit stage
 * (pss.c, pss_baseline.c, pss_restricted.c): one pod spec being checked,
 * its containers, and how a violation is recorded.
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

/* A securityContext's members by PSS_SC_* (NULL when absent), found in
 * one pass over it rather than one lookup each: every container is read
 * by every control. */
typedef struct pss_sc {
	const json_t *f[PSS_SC_N];
} pss_sc;

/* Fill s from sc (a securityContext, or NULL or not an object: none). */
void pss_sc_read(pss_sc *s, const json_t *sc);

/* One pod spec under check. */
typedef struct pss_pod {
	const json_t *spec;
	const json_t *sc;      /* spec.securityContext, or NULL */
	pss_sc s;              /* its members */
	const json_t *meta;    /* the metadata beside the spec, or NULL */
	const char *base;      /* dotted path of spec */
	const char *meta_base; /* dotted path of meta */
	unsigned minor;        /* the standard as of v1.<minor> */
	bool windows;          /* spec.os.name is "windows" */
	bool userns;           /* spec.hostUsers is false: a user namespace */
	tg_pss_level want;  /* the level checked (restricted: baseline too) */
	tg_pss_level level; /* of the control being checked */
	json_t *out;        /* violations */
} pss_pod;

/* Bytes of a container's path ("spec.template.spec.containers[0]"; cut
 * when longer). */
#define PSS_PATH_MAX 1024

/* One container of the pod spec (containers, initContainers or
 * ephemeralContainers). */
typedef struct pss_ctr {
	const json_t *c;
	const json_t *sc; /* its securityContext, or NULL */
	pss_sc s;         /* its members */
	const char *name; /* "" when it has none */
	const char *base; /* the pod spec's dotted path */
	const char *list; /* "containers", ... */
	size_t index;     /* in list */
	char *path;       /* PSS_PATH_MAX bytes, "" until pss_ctr_path */
} pss_ctr;

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

/*
 * Record a violation of control: the container's name (NULL for the pod),
 * the field path (printf format after the container's or pod's path), the
 * value found (NULL: "unset") and what is allowed.
 */
void pss_violation(pss_pod *p,
                   tg_pss_control control,
                   const char *container,
                   const char *path,
                   const char *found,
                   const char *allowed);

/* v as it reads in YAML/JSON (strings unquoted), at most 120 bytes;
 * caller frees. */
char *pss_show(const json_t *v);

/* obj.a.b..., NULL at the first member missing (keys NULL-terminated). */
const json_t *pss_get(const json_t *obj, ...);

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
