/*
 * Policy file: workloads[] (include/tollgate/policy.h), the rules on what
 * runs in each namespace (Pod Security Standards level and version, a
 * required default-deny NetworkPolicy, mode), the workload entries of
 * exceptions[] (objects, waive podSecurity/<control> and networkPolicy),
 * and the names of the Pod Security Standards' controls. Checked by the
 * admit stage (reconciler/admit/).
 */
#include <string.h>

#include "policy_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"

const tg_policy__section tg_policy__s_workload = {
	"workloads[]",
	(const char *const[]){ "name", "namespaces", "podSecurity",
	                       "podSecurityVersion", "networkPolicy", "mode",
	                       NULL }
};
const tg_policy__section tg_policy__s_netpol = {
	"workloads[].networkPolicy",
	(const char *const[]){ "defaultDeny", NULL }
};

static const tg_policy__loc root_loc = { "", "" };

/* Controls ----------------------------------------------------------------- */

/* Names as the Pod Security Admission library's check ids, titles as
 * the standard's table rows. */
static const struct {
	const char *name, *title;
} controls[TG_PSS_NCONTROLS] = {
	{ "hostProcess", "HostProcess" },
	{ "hostNamespaces", "Host Namespaces" },
	{ "privileged", "Privileged Containers" },
	{ "capabilities_baseline", "Capabilities" },
	{ "hostPathVolumes", "HostPath Volumes" },
	{ "hostPorts", "Host Ports" },
	{ "appArmorProfile", "AppArmor" },
	{ "seLinuxOptions", "SELinux" },
	{ "procMount", "/proc Mount Type" },
	{ "seccompProfile_baseline", "Seccomp" },
	{ "sysctls", "Sysctls" },
	{ "hostProbesAndHostLifecycle", "Host Probes / Lifecycle Hooks" },
	{ "restrictedVolumes", "Volume Types" },
	{ "allowPrivilegeEscalation", "Privilege Escalation" },
	{ "runAsNonRoot", "Running as Non-root" },
	{ "runAsUser", "Running as Non-root user" },
	{ "seccompProfile_restricted", "Seccomp" },
	{ "capabilities_restricted", "Capabilities" },
	{ "procMount_restricted", "/proc Mount Type" },
};

const char *tg_pss_control_name(tg_pss_control c)
{
	return (unsigned)c < TG_PSS_NCONTROLS ? controls[c].name : NULL;
}

const char *tg_pss_control_title(tg_pss_control c)
{
	return (unsigned)c < TG_PSS_NCONTROLS ? controls[c].title : NULL;
}

int tg_pss_control_parse(tg_pss_control *out, const char *name)
{
	unsigned i;

	for (i = 0; i < TG_PSS_NCONTROLS; i++) {
		if (strcmp(controls[i].name, name) == 0) {
			*out = (tg_pss_control)i;
			return 0;
		}
	}
	return TG_ENOTFOUND;
}

static const char *const level_names[] = { "privileged", "baseline",
	                                   "restricted", NULL };

const char *tg_pss_level_name(tg_pss_level l)
{
	return (unsigned)l <= TG_PSS_LEVEL_RESTRICTED ? level_names[l] : "?";
}

/* Exceptions --------------------------------------------------------------- */

#define PSS_PREFIX "podSecurity/"

int tg_policy__parse_workload_waive(tg_policy__ctx *c,
                                    const char *item,
                                    tg_policy__loc at,
                                    tg_policy_exception *e)
{
	tg_pss_control ctl;
	const char *names[TG_PSS_NCONTROLS + 1], *hint;
	unsigned i;

	if (strcmp(item, "networkPolicy") == 0) {
		e->waive_network_policy = true;
		return 0;
	}
	if (strncmp(item, PSS_PREFIX, strlen(PSS_PREFIX)) != 0)
		return 1;
	if (tg_pss_control_parse(&ctl, item + strlen(PSS_PREFIX)) == 0) {
		e->pss_waive |= 1u << ctl;
		return 0;
	}
	for (i = 0; i < TG_PSS_NCONTROLS; i++)
		names[i] = controls[i].name;
	names[i] = NULL;
	hint = tg_schema_suggest(item + strlen(PSS_PREFIX), names);
	return tg_policy__perr(c, at,
	                       "unknown Pod Security Standards control "
	                       "\"%.100s\"%s%s%s (controls: hostProcess, "
	                       "hostNamespaces, privileged, "
	                       "capabilities_baseline, hostPathVolumes, "
	                       "hostPorts, appArmorProfile, seLinuxOptions, "
	                       "procMount, seccompProfile_baseline, sysctls, "
	                       "hostProbesAndHostLifecycle, "
	                       "restrictedVolumes, allowPrivilegeEscalation, "
	                       "runAsNonRoot, runAsUser, "
	                       "seccompProfile_restricted, "
	                       "capabilities_restricted, procMount_restricted)",
	                       item + strlen(PSS_PREFIX),
	                       hint ? " (did you mean \"" : "",
	                       hint ? hint : "", hint ? "\"?)" : "");
}

/* Kind: letters and digits; namespace and name: DNS names. Each part a
 * glob. */
int tg_policy__check_object_glob(const char *s)
{
	const char *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;
	size_t i;

	if (strlen(s) > TG_MAX_SCOPE_GLOB || a == NULL || b == NULL ||
	    strchr(b + 1, '/') != NULL || a == s || b[1] == '\0')
		return tg_error_set(TG_EINVALID,
		                    "write Kind/namespace/name (each part a "
		                    "glob; \"Kind//name\" for a cluster-scoped "
		                    "object), e.g. "
		                    "\"DaemonSet/monitoring/node-agent\"");
	for (i = 0; s[i]; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("-.*?/", ch)))
			return tg_error_set(TG_EINVALID,
			                    "an objects glob uses letters, "
			                    "digits, '-', '.', '*', '?' and "
			                    "'/' only");
	}
	return 0;
}

/* Whether part i (0 kind, 1 namespace, 2 name) of the objects glob g
 * matches s. */
static bool part_matches(const char *g, int i, const char *s)
{
	char part[TG_MAX_SCOPE_GLOB + 1];
	const char *start = g, *end;
	size_t n;

	for (; i > 0; i--)
		start = strchr(start, '/') + 1; /* checked at load: 3 parts */
	end = strchr(start, '/');
	n = end ? (size_t)(end - start) : strlen(start);
	memcpy(part, start, n);
	part[n] = '\0';
	return tg_policy_name_glob_match(part, s);
}

bool tg_policy_exception_matches_object(const tg_policy_exception *exc,
                                        const char *kind,
                                        const char *ns,
                                        const char *name)
{
	size_t i;

	for (i = 0; i < exc->nobjects; i++)
		if (part_matches(exc->objects[i], 0, kind) &&
		    part_matches(exc->objects[i], 1, ns) &&
		    part_matches(exc->objects[i], 2, name))
			return true;
	return false;
}

/* Parsing ------------------------------------------------------------------ */

/* A namespaces glob: lowercase DNS label characters and globs. */
static int check_namespace_glob(const char *s)
{
	size_t i;

	if (strlen(s) > TG_MAX_SCOPE_GLOB)
		return tg_error_set(TG_EINVALID, "longer than %d characters",
		                    TG_MAX_SCOPE_GLOB);
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-*?", s[i])))
			return tg_error_set(TG_EINVALID,
			                    "a namespaces glob uses lowercase "
			                    "letters, digits, '-', '*' and '?' "
			                    "only");
	return 0;
}

/* podSecurityVersion: "latest" or "v1.N"; later than the newest known
 * version reads as it (as the Pod Security Admission library does). */
static int parse_version(tg_policy__ctx *c,
                         const json_t *v,
                         tg_policy__loc at,
                         tg_policy_workload *w)
{
	const char *s;
	uint64_t minor;
	int error;

	w->pss_version = "latest";
	w->pss_minor = TG_PSS_LATEST_MINOR;
	if ((error = tg_policy__get_str(c, v, at, "podSecurityVersion", false,
	                                &s)) < 0 ||
	    s == NULL)
		return error;
	w->pss_version = s;
	if (strcmp(s, "latest") == 0)
		return 0;
	if (strncmp(s, "v1.", 3) != 0 || s[3] == '\0' ||
	    (s[3] == '0' && s[4] != '\0') ||
	    tg_parse_u64(&minor, s + 3, strlen(s + 3), 999) < 0)
		return tg_policy__perr(
		        c, tg_policy__loc_key(c, at, "podSecurityVersion"),
		        "\"%.40s\" is not a version: write \"latest\" or "
		        "\"v1.N\" (e.g. \"v1.29\")",
		        s);
	w->pss_minor = minor > TG_PSS_LATEST_MINOR ? TG_PSS_LATEST_MINOR
	                                           : (unsigned)minor;
	return 0;
}

/* networkPolicy: "required" (Ingress) or {defaultDeny: [Ingress,
 * Egress]}. */
static int parse_netpol(tg_policy__ctx *c,
                        const json_t *v,
                        tg_policy__loc at,
                        tg_policy_workload *w)
{
	static const char *const req[] = { "required", NULL };
	static const char *const dirs[] = { "Ingress", "Egress", NULL };
	tg_policy__loc kl, ll;
	json_t *m = tg_policy__member(c, v, at, "networkPolicy", &kl), *list;
	json_t *item;
	unsigned idx;
	size_t i;
	int error;

	if (m == NULL)
		return 0;
	if (!json_is_object(m)) {
		if ((error = tg_policy__parse_enum(c, m, kl, req, &idx)) < 0)
			return error;
		w->network_policy = TG_NETPOL_INGRESS;
		return 0;
	}
	if ((error = tg_policy__check_keys(c, m, kl, &tg_policy__s_netpol)) <
	            0 ||
	    (error = tg_policy__get_list(c, m, kl, "defaultDeny", true, &list,
	                                 &ll)) < 0)
		return error;
	json_array_foreach(list, i, item) {
		if ((error = tg_policy__parse_enum(
		             c, item, tg_policy__loc_index(c, ll, i), dirs,
		             &idx)) < 0)
			return error;
		w->network_policy |= 1u << idx;
	}
	return 0;
}

static int parse_workload(tg_policy__ctx *c,
                          const json_t *v,
                          tg_policy__loc at,
                          tg_policy_workload *w)
{
	static const char *const modes[] = { "enforce", "warn", NULL };
	unsigned level = 0, mode = 0;
	int error;

	if (!json_is_object(v))
		return tg_policy__perr(c, at,
		                       "a workloads rule must be a mapping");
	tg_yaml_docs_line_at(&w->line, NULL, c->docs, 0, at.ptr);
	if ((error = tg_policy__check_keys(c, v, at, &tg_policy__s_workload)) <
	            0 ||
	    (error = tg_policy__get_str(c, v, at, "name", true, &w->name)) < 0)
		return error;
	if (tg_policy__check_name(w->name) < 0)
		return tg_policy__perr(c, tg_policy__loc_key(c, at, "name"),
		                       "%s", tg_error_last());
	if ((error = tg_policy__get_str_list(
	             c, v, at, "namespaces", true, check_namespace_glob,
	             &w->namespaces, &w->nnamespaces)) < 0 ||
	    (error = tg_policy__get_enum(c, v, at, "podSecurity", level_names,
	                                 &level)) < 0 ||
	    (error = parse_version(c, v, at, w)) < 0 ||
	    (error = parse_netpol(c, v, at, w)) < 0 ||
	    (error = tg_policy__get_enum(c, v, at, "mode", modes, &mode)) < 0)
		return error;
	w->pod_security = (tg_pss_level)level;
	w->mode = (tg_policy_mode)mode;
	if (json_object_get(v, "podSecurity") == NULL && w->network_policy == 0)
		return tg_policy__perr(c, at,
		                       "workloads rule \"%s\" checks nothing: "
		                       "give podSecurity or networkPolicy",
		                       w->name);
	return 0;
}

int tg_policy__parse_workloads(tg_policy__ctx *c, const json_t *doc)
{
	json_t *list, *v;
	size_t i, j;
	tg_policy__loc ll;
	int error;
	tg_policy *p = c->p;

	if ((error = tg_policy__get_list(c, doc, root_loc, "workloads", false,
	                                 &list, &ll)) < 0 ||
	    list == NULL)
		return error;
	p->workloads = tg_policy__arena_calloc(&p->mem, json_array_size(list),
	                                       sizeof(*p->workloads));
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, ll, i);
		tg_policy_workload *w = &p->workloads[i];

		if ((error = parse_workload(c, v, il, w)) < 0)
			return error;
		for (j = 0; j < i; j++) {
			if (strcmp(p->workloads[j].name, w->name) == 0)
				return tg_policy__perr(
				        c, tg_policy__loc_key(c, il, "name"),
				        "duplicate workloads rule name \"%s\" "
				        "(also at line %u)",
				        w->name, p->workloads[j].line);
		}
		p->nworkloads = i + 1;
	}
	return 0;
}

/* Lookups ------------------------------------------------------------------ */

size_t tg_policy_workload_count(const tg_policy *policy)
{
	return policy->nworkloads;
}

const tg_policy_workload *tg_policy_workload_at(const tg_policy *policy,
                                                size_t i)
{
	return i < policy->nworkloads ? &policy->workloads[i] : NULL;
}

const tg_policy_workload *tg_policy_workload_for(const tg_policy *policy,
                                                 const char *ns)
{
	size_t i, j;

	for (i = 0; policy != NULL && i < policy->nworkloads; i++) {
		const tg_policy_workload *w = &policy->workloads[i];

		for (j = 0; j < w->nnamespaces; j++)
			if (tg_policy_name_glob_match(w->namespaces[j], ns))
				return w;
	}
	return NULL;
}
