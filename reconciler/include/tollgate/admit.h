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
#include <stdint.h>

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
	/* tollgate's own ClusterRoles and ClusterRoleBindings; NULL: those
	 * of deploy/kubernetes/rbac.yaml (tollgate-cluster,
	 * tollgate-namespaced) */
	const char *const *cluster_roles;
	size_t ncluster_roles;
	const char *const *cluster_role_bindings;
	size_t ncluster_role_bindings;
	tg_kube *kube; /* discovery; NULL offline (built-in table only) */
	int64_t now;   /* for exception expiry; 0: tg_now() */
	/* NULL, or an empty JSON object the caller owns and keeps for one
	 * manifest set: the namespaces' default-deny NetworkPolicies are
	 * then found in one pass over the set, not one per unit */
	json_t *netpol_cache;
} tg_admit_options;

/* Whether o is a networking.k8s.io NetworkPolicy. */
bool tg_admit_is_netpol(const tg_manifest_object *o);

/* Add the directions unit's NetworkPolicies default-deny, by namespace,
 * to covered. */
void tg_admit_netpol_unit(json_t *covered, const tg_manifest_unit *unit);

/*
 * Fill covered (an empty JSON object) with each namespace's directions
 * default-denied by the NetworkPolicies of the set's valid units that
 * skip (unit name -> anything; NULL: none) does not name, and mark it
 * filled, for tg_admit_options.netpol_cache: a NetworkPolicy of a unit
 * that is not applied protects nothing.
 */
void tg_admit_netpol_cover(json_t *covered,
                           const tg_manifest_set *set,
                           const json_t *skip);

/*
 * Whether what unit's pods lack of the default-deny NetworkPolicies their
 * namespaces' workload rules require differs between the coverage
 * before and after (both as tg_admit_netpol_cover fills them; the unit's
 * own policies count in both): when it does not, the unit's workload
 * rules decide the same with either.
 */
bool tg_admit_netpol_sees_change(const tg_policy *policy,
                                 const tg_manifest_unit *unit,
                                 const json_t *before,
                                 const json_t *after);

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

/*
 * Workload rules (policy workloads[], DESIGN.md 3.3): for every pod spec
 * of the unit's objects (tg_manifest_object_pod_spec) in a namespace
 * that a workloads rule matches, the Pod Security Standards at the
 * rule's level and version (tg_pss_check); for every such namespace
 * whose rule asks for it, a default-deny NetworkPolicy in the set.
 * Every violation is appended to violations as an object: object
 * ("Deployment shop/web", or "Namespace shop" for a NetworkPolicy),
 * file, container (when it is a container's), path (dotted field path
 * "spec.template.spec.containers[0].securityContext.privileged"),
 * control, level, found, allowed, rule, mode ("enforce" | "warn"),
 * message, and waivedBy when an active exception waives it (its name;
 * each exception used also goes once into exceptions_used with its
 * reason, approvedBy and expires). Returns the violations that block
 * (enforce, not waived); *warned gets those only reported.
 */
size_t tg_admit_workloads(json_t *violations,
                          json_t *exceptions_used,
                          size_t *warned,
                          const tg_admit_options *opts,
                          const tg_policy *policy,
                          const tg_manifest_set *set,
                          const tg_manifest_unit *unit);

/*
 * The Pod Security Standards (kubernetes.io "Pod Security Standards", as
 * the Pod Security Admission library applies them) on one pod spec, at
 * level as of Kubernetes v1.<minor>: one object per violation appended
 * to out ({control, level, container?, path, found, allowed}). meta is
 * the metadata beside the spec (the template's, or the Pod's; its
 * annotations carry AppArmor and old seccomp profiles), or NULL; base
 * and meta_base their dotted paths. Returns how many were appended.
 */
size_t tg_pss_check(json_t *out,
                    const json_t *spec,
                    const json_t *meta,
                    const char *base,
                    const char *meta_base,
                    tg_pss_level level,
                    unsigned minor);

/* "/spec/template/spec/containers/0" as "spec.template.spec.containers[0]".
 * Caller frees. */
char *tg_admit_dotted_path(const char *pointer);

#endif
