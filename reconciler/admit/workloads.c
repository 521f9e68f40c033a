/*
 * The admit stage's workload rules (policy workloads[]): the Pod Security
 * Standards on every pod spec of a unit (the pod specs the image walk of
 * reconciler/manifests/ found: Pods, the templates of every workload and
 * any pod spec nested in any kind), exceptions that waive a control for
 * named objects, and the namespaces' default-deny NetworkPolicies
 * (netpol.c). See reconciler/include/tollgate/admit.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/admit.h"
#include "tollgate/util.h"
#include "workloads_int.h"

/* Paths -------------------------------------------------------------------- */

/* Whether seg is a decimal array index. */
static bool is_index(const char *seg, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (seg[i] < '0' || seg[i] > '9')
			return false;
	return n > 0;
}

char *tg_admit_dotted_path(const char *pointer)
{
	/* "/0" (2 bytes) becomes "[0]" (3): at most half as long again */
	size_t n = strlen(pointer);
	char *out = tg_malloc(n + n / 2 + 2), *o = out;
	const char *p = pointer;

	while (*p == '/') {
		const char *seg = p + 1, *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (is_index(seg, len)) {
			*o++ = '[';
			memcpy(o, seg, len);
			o += len;
			*o++ = ']';
		} else {
			if (o != out)
				*o++ = '.';
			memcpy(o, seg, len);
			o += len;
		}
		p = seg + len;
	}
	*o = '\0';
	return out;
}

/* The value at the RFC 6901 pointer (as the manifest module writes
 * them), or NULL. */
static const json_t *at_pointer(const json_t *root, const char *pointer)
{
	char seg[256];
	const char *p = pointer;

	while (root != NULL && *p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1), i, k;

		if (n >= sizeof(seg))
			return NULL;
		for (i = 0, k = 0; i < n; i++, k++) {
			seg[k] = p[1 + i];
			if (seg[k] == '~' && i + 1 < n)
				seg[k] = p[1 + ++i] == '1' ? '/' : '~';
		}
		seg[k] = '\0';
		root = json_is_array(root)
		               ? json_array_get(root, strtoul(seg, NULL, 10))
		               : json_object_get(root, seg);
		p += n + 1;
	}
	return root;
}

/* The metadata beside a pod spec at pointer ".../spec": the template's
 * (".../metadata"), the object's own for a Pod; NULL for a pod spec at
 * any other place. *meta_pointer: its pointer (caller frees). */
static const json_t *
pod_meta(char **meta_pointer, const json_t *obj, const char *pointer)
{
	size_t n = strlen(pointer);

	*meta_pointer = NULL;
	if (n < 5 || strcmp(pointer + n - 5, "/spec") != 0)
		return NULL;
	*meta_pointer = tg_malloc(n + 5); /* "/spec" -> "/metadata" */
	memcpy(*meta_pointer, pointer, n - 5);
	memcpy(*meta_pointer + n - 5, "/metadata", sizeof("/metadata"));
	return at_pointer(obj, *meta_pointer);
}

int tg_admit_wl_obj(wl_obj *o,
                    const tg_policy *policy,
                    const tg_manifest_object *obj)
{
	const char *ns = tg_manifest_object_namespace(obj);

	o->json = tg_manifest_object_json(obj);
	o->kind = tg_manifest_object_kind(obj);
	o->ns = *ns ? ns : "default";
	o->name = tg_manifest_object_name(obj);
	o->file = tg_manifest_object_file(obj);
	o->rule = tg_policy_workload_for(policy, o->ns);
	o->describe = NULL; /* made when a violation needs it */
	return o->rule == NULL ? -1 : 0;
}

/* Exceptions --------------------------------------------------------------- */

const tg_policy_exception *tg_admit_exception_for(wl_ctx *w,
                                                  const wl_obj *o,
                                                  tg_pss_control ctl,
                                                  bool netpol,
                                                  const char **expired)
{
	size_t i;

	*expired = NULL;
	for (i = 0; i < tg_policy_exception_count(w->policy); i++) {
		const tg_policy_exception *e =
		        tg_policy_exception_at(w->policy, i);

		if (!(netpol ? e->waive_network_policy
		             : (e->pss_waive & (1u << ctl)) != 0) ||
		    !tg_policy_exception_matches_object(e, o->kind, o->ns,
		                                        o->name))
			continue;
		if (tg_policy_exception_active(e, w->now))
			return e;
		*expired = e->name;
	}
	return NULL;
}

void tg_admit_note_exception(wl_ctx *w, const tg_policy_exception *e)
{
	json_t *x;
	size_t i;

	json_array_foreach(w->used, i, x) {
		if (!strcmp(json_string_value(json_object_get(x, "name")),
		            e->name))
			return;
	}
	json_array_append_new(w->used,
	                      json_pack("{s:s,s:s,s:s,s:s}", "name", e->name,
	                                "reason", e->reason, "approvedBy",
	                                e->approved_by, "expires", e->expires));
}

/* Violations --------------------------------------------------------------- */

/* The strings of parts (NULL-terminated) one after the other; cheaper
 * than a printf for the thousands of violations of a big tree. */
static char *concat(const char *const *parts)
{
	size_t n = 1, i;
	char *out, *o;

	for (i = 0; parts[i]; i++)
		n += strlen(parts[i]);
	out = o = tg_malloc(n);
	for (i = 0; parts[i]; i++) {
		size_t len = strlen(parts[i]);

		memcpy(o, parts[i], len);
		o += len;
	}
	*o = '\0';
	return out;
}

static const char *member(const json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? s : "";
}

/* The message of v: "<object>: container <c>: <path>: <found>; allowed:
 * <allowed> (<level>: <control>)" unless v has one; then whether an
 * exception waives it or expired. */
static char *violation_message(const wl_obj *o,
                               const json_t *v,
                               const tg_policy_exception *e,
                               const char *expired)
{
	const char *ctr = json_string_value(json_object_get(v, "container"));
	const char *given = json_string_value(json_object_get(v, "message"));
	const char *tail[] = { e         ? "; waived by exception "
		               : expired ? "; exception "
		                         : "",
		               e         ? e->name
		               : expired ? expired
		                         : "",
		               !e && expired ? " expired" : "", NULL };
	const char *parts[] = { o->describe,
		                ": ",
		                ctr ? "container " : "",
		                ctr ? ctr : "",
		                ctr ? ": " : "",
		                member(v, "path"),
		                ": ",
		                member(v, "found"),
		                "; allowed: ",
		                member(v, "allowed"),
		                " (",
		                member(v, "level"),
		                ": ",
		                member(v, "control"),
		                ")",
		                tail[0],
		                tail[1],
		                tail[2],
		                NULL };

	if (given) {
		const char *g[] = { given, tail[0], tail[1], tail[2], NULL };
		return concat(g);
	}
	return concat(parts);
}

void tg_admit_add_violation(wl_ctx *w,
                            wl_obj *o,
                            json_t *v,
                            const tg_policy_exception *e,
                            const char *expired)
{
	char *m;

	if (o->describe == NULL) {
		const char *d[] = { o->kind, " ", o->ns, "/", o->name, NULL };
		o->describe = concat(d);
	}
	m = violation_message(o, v, e, expired);
	/* JSON strings of the manifest, names of the policy (YAML is
	 * UTF-8), constants, and the message made of them: valid UTF-8. The
	 * file name comes from the file system: checked. */
	json_object_set_new_nocheck(v, "object",
	                            json_string_nocheck(o->describe));
	json_object_set_new_nocheck(v, "file", json_string(o->file));
	json_object_set_new_nocheck(v, "rule",
	                            json_string_nocheck(o->rule->name));
	json_object_set_new_nocheck(
	        v, "mode",
	        json_string_nocheck(
	                o->rule->mode == TG_POLICY_WARN ? "warn" : "enforce"));
	json_object_set_new_nocheck(v, "message", json_string_nocheck(m));
	free(m);
	if (e) {
		json_object_set_new(v, "waivedBy", json_string(e->name));
		tg_admit_note_exception(w, e);
	} else if (o->rule->mode == TG_POLICY_ENFORCE) {
		w->enforced++;
	} else {
		w->warned++;
	}
	json_array_append_new(w->violations, v);
}

/* Pod specs ---------------------------------------------------------------- */

/* The Pod Security Standards on one pod spec of o. */
static void
check_pod_spec(wl_ctx *w, wl_obj *o, const json_t *spec, const char *pointer)
{
	json_t *found = json_array(), *v;
	char *base = tg_admit_dotted_path(pointer), *mp = NULL, *mbase = NULL;
	const json_t *meta = pod_meta(&mp, o->json, pointer);
	size_t i;

	if (mp)
		mbase = tg_admit_dotted_path(mp);
	tg_pss_check(found, spec, meta, base, mbase, o->rule->pod_security,
	             o->rule->pss_minor);
	json_array_foreach(found, i, v) {
		const char *expired;
		tg_pss_control ctl = TG_PSS_NCONTROLS;
		const tg_policy_exception *e;

		/* names come from tg_pss_control_name: they parse */
		tg_discard(tg_pss_control_parse(
		        &ctl,
		        json_string_value(json_object_get(v, "control"))));
		e = tg_admit_exception_for(w, o, ctl, false, &expired);
		tg_admit_add_violation(w, o, json_incref(v), e, expired);
	}
	json_decref(found);
	free(base);
	free(mp);
	free(mbase);
}

size_t tg_admit_workloads(json_t *violations,
                          json_t *exceptions_used,
                          size_t *warned,
                          const tg_admit_options *opts,
                          const tg_policy *policy,
                          const tg_manifest_set *set,
                          const tg_manifest_unit *unit)
{
	wl_ctx w = { policy,
		     set,
		     opts && opts->now ? opts->now : tg_now(),
		     violations,
		     exceptions_used,
		     0,
		     0,
		     NULL,
		     NULL,
		     NULL };
	size_t i, k;

	*warned = 0;
	if (policy == NULL || tg_policy_workload_count(policy) == 0)
		return 0;
	w.netpol_ns = json_object();
	w.covered = opts && opts->netpol_cache ? json_incref(opts->netpol_cache)
	                                       : json_object();
	w.own = json_object();
	tg_admit_netpol_unit(w.own, unit);
	for (i = 0; i < tg_manifest_unit_object_count(unit); i++) {
		const tg_manifest_object *obj =
		        tg_manifest_unit_object(unit, i);
		wl_obj o;
		const char *ptr;
		json_t *spec;

		if (tg_manifest_object_pod_spec_count(obj) == 0 ||
		    tg_admit_wl_obj(&o, policy, obj) < 0)
			continue;
		for (k = 0; (spec = tg_manifest_object_pod_spec(obj, k, &ptr));
		     k++)
			if (o.rule->pod_security > TG_PSS_LEVEL_PRIVILEGED)
				check_pod_spec(&w, &o, spec, ptr);
		if (o.rule->network_policy)
			tg_admit_netpol_need(&w, &o);
		free(o.describe);
	}
	tg_admit_netpol_check(&w, unit);
	json_decref(w.covered);
	json_decref(w.own);
	json_decref(w.netpol_ns);
	*warned = w.warned;
	return w.enforced;
}
