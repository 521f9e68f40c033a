/*
 * Policy file: scopes[] (include/tollgate/policy.h), which namespaces and
 * kinds the units matching a scope may write. Parsed here with the
 * building blocks of policy_parse.c; matched by the admit stage
 * (reconciler/admit/) through the lookups at the end of this file.
 */
#include <string.h>

#include "policy_int.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"

const tg_policy__section tg_policy__s_scope = {
	"scopes[]", (const char *const[]){ "name", "units", "namespaces",
	                                   "kinds", "clusterKinds", NULL }
};

static const tg_policy__loc root_loc = { "", "" };

/* Globs -------------------------------------------------------------------- */

/*
 * Whether pattern (p..pe) matches the whole of s (s..se); `*` any run
 * without '/', `?` one character but '/'. Backtracks to the last star
 * only, so the work is O(len(p) * len(s)).
 */
static bool
glob_match(const char *p, const char *pe, const char *s, const char *se)
{
	const char *star = NULL, *resume = NULL;

	while (s < se) {
		if (p < pe && *p == '*') {
			star = ++p;
			resume = s;
			continue;
		}
		if (p < pe && *s != '/' && (*p == '?' || *p == *s)) {
			p++;
			s++;
			continue;
		}
		if (star == NULL || *resume == '/')
			return false;
		p = star;
		s = ++resume;
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

bool tg_policy_name_glob_match(const char *pattern, const char *s)
{
	return glob_match(pattern, pattern + strlen(pattern), s, s + strlen(s));
}

bool tg_policy_kind_glob_match(const char *pattern,
                               const char *group,
                               const char *kind)
{
	const char *slash = strchr(pattern, '/');
	const char *pe = pattern + strlen(pattern);

	if (strcmp(pattern, "*") == 0)
		return true;
	if (slash == NULL)
		return group[0] == '\0' &&
		       glob_match(pattern, pe, kind, kind + strlen(kind));
	/* "group/Kind": a core kind has no group, so only a pattern whose
	 * group part is empty-able ("*") could name it; it does not: core
	 * kinds are written without a '/'. */
	if (group[0] == '\0')
		return false;
	return glob_match(pattern, slash, group, group + strlen(group)) &&
	       glob_match(slash + 1, pe, kind, kind + strlen(kind));
}

/* Checks ------------------------------------------------------------------- */

/* Characters of each part besides letters and digits. */
static int check_part(const char *s, size_t n, const char *extra)
{
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr(extra, ch)))
			return -1;
	}
	return 0;
}

/* A units glob: a unit is a directory name (or "_root"). */
static int check_unit_glob(const char *s)
{
	if (strlen(s) > TG_MAX_SCOPE_GLOB ||
	    check_part(s, strlen(s), "-_.*?") < 0)
		return tg_error_set(TG_EINVALID,
		                    "a units glob uses letters, digits, '-', "
		                    "'_', '.', '*' and '?' only");
	return 0;
}

/* A namespaces glob: DNS-1123 labels are lowercase. */
static int check_namespace_glob(const char *s)
{
	if (strlen(s) > TG_MAX_SCOPE_GLOB ||
	    check_part(s, strlen(s), "-*?") < 0)
		return tg_error_set(TG_EINVALID,
		                    "a namespaces glob uses lowercase letters, "
		                    "digits, '-', '*' and '?' only");
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return tg_error_set(TG_EINVALID,
			                    "namespaces are lowercase");
	return 0;
}

/* A kind glob: "Kind" (core) or "group/Kind", each part a glob. */
static int check_kind_glob(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n = strlen(s);

	if (n <= TG_MAX_SCOPE_GLOB && slash == NULL &&
	    check_part(s, n, "*?") == 0)
		return 0;
	if (n <= TG_MAX_SCOPE_GLOB && slash != NULL &&
	    strchr(slash + 1, '/') == NULL &&
	    check_part(s, (size_t)(slash - s), ".-*?") == 0 &&
	    check_part(slash + 1, strlen(slash + 1), "*?") == 0)
		return 0;
	return tg_error_set(TG_EINVALID,
	                    "not a kind glob: write group/Kind "
	                    "(\"apps/Deployment\", "
	                    "\"rbac.authorization.k8s.io/*\"), a core kind "
	                    "without a group (\"ConfigMap\"), or \"*\" for "
	                    "every kind");
}

/* Parsing ------------------------------------------------------------------ */

static int parse_scope(tg_policy__ctx *c,
                       const json_t *v,
                       tg_policy__loc at,
                       tg_policy_scope *s)
{
	int error;

	if (!json_is_object(v))
		return tg_policy__perr(c, at, "a scope must be a mapping");
	tg_yaml_docs_line_at(&s->line, NULL, c->docs, 0, at.ptr);
	if ((error = tg_policy__check_keys(c, v, at, &tg_policy__s_scope)) <
	            0 ||
	    (error = tg_policy__get_str(c, v, at, "name", true, &s->name)) < 0)
		return error;
	if (tg_policy__check_name(s->name) < 0)
		return tg_policy__perr(c, tg_policy__loc_key(c, at, "name"),
		                       "%s", tg_error_last());
	if ((error = tg_policy__get_str_list(c, v, at, "units", true,
	                                     check_unit_glob, &s->units,
	                                     &s->nunits)) < 0 ||
	    (error = tg_policy__get_str_list(
	             c, v, at, "namespaces", false, check_namespace_glob,
	             &s->namespaces, &s->nnamespaces)) < 0 ||
	    (error = tg_policy__get_str_list(c, v, at, "kinds", false,
	                                     check_kind_glob, &s->kinds,
	                                     &s->nkinds)) < 0)
		return error;
	return tg_policy__get_str_list(c, v, at, "clusterKinds", false,
	                               check_kind_glob, &s->cluster_kinds,
	                               &s->ncluster_kinds);
}

int tg_policy__parse_scopes(tg_policy__ctx *c, const json_t *doc)
{
	json_t *list, *v;
	size_t i, j;
	tg_policy__loc ll;
	int error;
	tg_policy *p = c->p;

	if ((error = tg_policy__get_list(c, doc, root_loc, "scopes", false,
	                                 &list, &ll)) < 0 ||
	    list == NULL)
		return error;
	p->scopes = tg_policy__arena_calloc(&p->mem, json_array_size(list),
	                                    sizeof(*p->scopes));
	json_array_foreach(list, i, v) {
		tg_policy__loc il = tg_policy__loc_index(c, ll, i);
		tg_policy_scope *s = &p->scopes[i];

		if ((error = parse_scope(c, v, il, s)) < 0)
			return error;
		for (j = 0; j < i; j++) {
			if (strcmp(p->scopes[j].name, s->name) == 0)
				return tg_policy__perr(
				        c, tg_policy__loc_key(c, il, "name"),
				        "duplicate scope name \"%s\" (also at "
				        "line %u)",
				        s->name, p->scopes[j].line);
		}
		p->nscopes = i + 1;
	}
	return 0;
}

/* Lookups ------------------------------------------------------------------ */

size_t tg_policy_scope_count(const tg_policy *policy)
{
	return policy->nscopes;
}

const tg_policy_scope *tg_policy_scope_at(const tg_policy *policy, size_t i)
{
	return i < policy->nscopes ? &policy->scopes[i] : NULL;
}

static bool any_name(const char *const *globs, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tg_policy_name_glob_match(globs[i], s))
			return true;
	return false;
}

const tg_policy_scope *tg_policy_scope_for(const tg_policy *policy,
                                           const char *unit)
{
	size_t i;

	for (i = 0; policy != NULL && i < policy->nscopes; i++)
		if (any_name(policy->scopes[i].units, policy->scopes[i].nunits,
		             unit))
			return &policy->scopes[i];
	return NULL;
}

bool tg_policy_scope_allows_namespace(const tg_policy_scope *scope,
                                      const char *ns)
{
	return any_name(scope->namespaces, scope->nnamespaces, ns);
}

bool tg_policy_scope_allows_kind(const tg_policy_scope *scope,
                                 const char *group,
                                 const char *kind,
                                 bool namespaced)
{
	const char *const *globs =
	        namespaced ? scope->kinds : scope->cluster_kinds;
	size_t i, n = namespaced ? scope->nkinds : scope->ncluster_kinds;

	if (namespaced && globs == NULL)
		return true;
	for (i = 0; i < n; i++)
		if (tg_policy_kind_glob_match(globs[i], group, kind))
			return true;
	return false;
}
