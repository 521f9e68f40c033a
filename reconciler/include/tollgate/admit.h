/*
 * The admit stage (DESIGN.md section 1, step 4): may a unit write these
 * objects? Runs before the plan; a unit with one refused object is
 * blocked whole.
 *
 * Reserved objects first, under any scope (no scope can grant them): any
 * object in a reserved namespace (cluster.reservedNamespaces, always with
 * the inventory namespace), a Namespace named like one, tollgate's Lease,
 * any object labelled as an inventory (tollgate.dev/inventory), and the
 * ValidatingAdmissionPolicy and binding named in the config.
 *
 * Then the unit's scope (the policy's first scope whose units match):
 * - none: namespaced objects in any namespace; of the cluster-scoped
 *   kinds only Namespace and apiextensions.k8s.io/CustomResourceDefinition;
 * - a scope: namespaced objects whose namespace is in its namespaces and
 *   kind in its kinds; cluster-scoped objects whose kind is in its
 *   clusterKinds, or a Namespace whose name is in its namespaces (a team
 *   may create the namespaces it may write).
 *
 * Whether a kind is namespaced: discovery (when a cluster client is
 * given), else a built-in table of Kubernetes' own kinds, else a
 * CustomResourceDefinition of the same manifest set. A kind none of these
 * can place is refused (fail closed). A namespaced object without a
 * namespace is in "default", as kubectl applies it.
 */
#ifndef TOLLGATE_ADMIT_H
#define TOLLGATE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/kube.h"
#include "tollgate/manifest.h"
#include "tollgate/policy.h"

typedef struct tg_admit_options {
	const char *inventory_namespace;        /* required */
	const char *const *reserved_namespaces; /* more reserved ones */
	size_t nreserved_namespaces;
	const char *lease_name;       /* NULL: TG_LEASE_NAME */
	const char *lease_namespace;  /* NULL: the inventory namespace */
	const char *admission_policy; /* NULL: "tollgate-sole-writer" */
	const char *admission_policy_binding; /* NULL: the same */
	tg_kube *kube; /* discovery; NULL offline (built-in table only) */
} tg_admit_options;

/*
 * Check every object of unit against the reserved objects and the scope
 * policy gives it (policy may be NULL: no scopes). set supplies the CRDs
 * of the cycle. Each refused object's reason is appended to reasons
 * (strings, "Kind namespace/name (file): what is wrong; what it would
 * need"); returns how many objects were refused.
 */
size_t tg_admit_unit(json_t *reasons,
                     const tg_admit_options *opts,
                     const tg_policy *policy,
                     const tg_manifest_set *set,
                     const tg_manifest_unit *unit);

#endif
