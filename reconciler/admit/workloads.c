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
#include "pss_int.h"
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

/* The pointer of the metadata beside a pod spec at pointer ".../spec":
 * the template's (".../metadata"), the object's own for a Pod; NULL for
 * a pod spec at any other place. Caller frees. */
static char *meta_pointer(const char *pointer)
{
	size_t n = strlen(pointer);
	char *mp;

	if (n < 5 || strcmp(pointer + n - 5, "/spec") != 0)
		return NULL;
	mp = tg_malloc(n + 5); /* "/spec" -> "/metadata" */
	memcpy(mp, pointer, n - 5);
	memcpy(mp + n - 5, "/metadata", sizeof("/metadata"));
	return mp;
}

static void paths_free(wl_paths *p)
{
	free(p->ptr);
	free(p->base);
	free(p->meta_ptr);
	free(p->meta_base);
	memset(p, 0, sizeof(*p));
}

/* The dotted paths of the pod spec at pointer and of its metadata's
 * pointer, kept in w for the next pod specs at the same place. */
static const wl_paths *pod_paths(wl_ctx *w, const char *pointer)
{
	wl_paths *p;
	size_t i;

	for (i = 0; i < WL_PATHS; i++)
		if (w->paths[i].ptr && !strcmp(w->paths[i].ptr, pointer))
			return &w->paths[i];
	p = &w->paths[w->next_paths];
	w->next_paths = (w->next_paths + 1) % WL_PATHS;
	paths_free(p);
	p->ptr = tg_strdup(pointer);
	p->base = tg_admit_dotted_path(pointer);
	p->meta_ptr = meta_pointer(pointer);
	if (p->meta_ptr)
		p->meta_base = tg_admit_dotted_path(p->meta_ptr);
	return p;
}

int tg_admit_wl_obj(wl_obj *o, wl_ctx *w, const tg_manifest_object *obj)
{
	const char *ns = tg_manifest_object_namespace(obj);

	o->json = tg_manifest_object_json(obj);
	o->kind = tg_manifest_object_kind(obj);
	o->ns = *ns ? ns : "default";
	o->name = tg_manifest_object_name(obj);
	o->file = tg_manifest_object_file(obj);
	if (w->rule_ns == NULL || strcmp(w->rule_ns, o->ns) != 0) {
		w->rule_ns = o->ns; /* the object's, or a constant */
		w->rule = tg_policy_workload_for(w->policy, o->ns);
	}
	o->rule = w->rule;
	o->describe = NULL; /* made when a violation needs it */
	o->jdescribe = o->jfile = NULL;
	return o->rule == NULL ? -1 : 0;
}

void tg_admit_wl_obj_done(wl_obj *o)
{
	free(o->describe);
	json_decref(o->jdescribe);
	json_decref(o->jfile);
	o->describe = NULL;
	o->jdescribe = o->jfile = NULL;
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

	if (w->noted == e)
		return;
	w->noted = e;
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

/* A JSON string of s (valid UTF-8), shared through c: a new reference. A
 * slot matches when it was made of the same pointer and still reads the
 * same (a pointer may be freed and reused between violations). */
static json_t *wl_str(wl_strs *c, const char *s)
{
	size_t i;
	json_t *v;

	for (i = 0; i < c->n; i++)
		if (c->key[i] == s && !strcmp(json_string_value(c->v[i]), s))
			return json_incref(c->v[i]);
	v = json_string_nocheck(s);
	if (c->n < WL_STRS)
		i = c->n++;
	else {
		i = c->next;
		c->next = (c->next + 1) % WL_STRS;
		json_decref(c->v[i]);
	}
	c->key[i] = s;
	c->v[i] = json_incref(v);
	return v;
}

static void wl_strs_free(wl_strs *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		json_decref(c->v[i]);
	c->n = c->next = 0;
}

/* The strings of parts (NULL-terminated) one after the other; cheaper
 * than a printf for the thousands of violations of a big tree. */
static char *concat(const char *const *parts)
{
	size_t n = 1, i, len[24];
	char *out, *o;

	for (i = 0; parts[i]; i++)
		n += len[i] = strlen(parts[i]);
	out = o = tg_malloc(n);
	for (i = 0; parts[i]; i++) {
		memcpy(o, parts[i], len[i]);
		o += len[i];
	}
	*o = '\0';
	return out;
}

/* The message of v: "<object>: container <c>: <path>: <found>; allowed:
 * <allowed> (<level>: <control>)" unless v has one; then whether an
 * exception waives it or expired. */
static char *violation_message(const wl_obj *o,
                               const wl_violation *v,
                               const tg_policy_exception *e,
                               const char *expired)
{
	const char *ctr = v->container;
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
		                v->path,
		                ": ",
		                v->found,
		                "; allowed: ",
		                v->allowed,
		                " (",
		                v->level,
		                ": ",
		                v->control,
		                ")",
		                tail[0],
		                tail[1],
		                tail[2],
		                NULL };

	if (v->message) {
		const char *g[] = { v->message, tail[0], tail[1], tail[2],
			            NULL };
		return concat(g);
	}
	return concat(parts);
}

/* Set key of x to the new reference s (when there is one). */
static void put(json_t *x, const char *key, json_t *s)
{
	if (s)
		json_object_set_new_nocheck(x, key, s);
}

void tg_admit_add_violation(wl_ctx *w,
                            wl_obj *o,
                            const wl_violation *v,
                            const tg_policy_exception *e,
                            const char *expired)
{
	json_t *x = json_object();
	char *m;

	if (o->describe == NULL) {
		const char *d[] = { o->kind, " ", o->ns, "/", o->name, NULL };
		o->describe = concat(d);
	}
	/* JSON strings of the manifest, names of the policy (YAML is
	 * UTF-8), constants, and the message made of them: valid UTF-8. The
	 * file name comes from the file system: checked. */
	if (o->jdescribe == NULL) {
		o->jdescribe = json_string_nocheck(o->describe);
		o->jfile = json_string(o->file);
	}
	m = violation_message(o, v, e, expired);
	put(x, "control", wl_str(&w->fixed, v->control));
	put(x, "level", wl_str(&w->fixed, v->level));
	put(x, "path", wl_str(&w->values, v->path));
	put(x, "found", wl_str(&w->values, v->found));
	put(x, "allowed", wl_str(&w->fixed, v->allowed));
	if (v->message) /* where the NetworkPolicy's has always had it */
		put(x, "message", json_string_nocheck(m));
	if (v->container)
		put(x, "container", wl_str(&w->names, v->container));
	put(x, "object", json_incref(o->jdescribe));
	put(x, "file", json_incref(o->jfile));
	put(x, "rule", wl_str(&w->fixed, o->rule->name));
	put(x, "mode",
	    wl_str(&w->fixed,
	           o->rule->mode == TG_POLICY_WARN ? "warn" : "enforce"));
	if (!v->message)
		put(x, "message", json_string_nocheck(m));
	free(m);
	if (e) {
		put(x, "waivedBy", wl_str(&w->fixed, e->name));
		tg_admit_note_exception(w, e);
	} else if (o->rule->mode == TG_POLICY_ENFORCE) {
		w->enforced++;
	} else {
		w->warned++;
	}
	json_array_append_new(w->violations, x);
}

/* Pod specs ---------------------------------------------------------------- */

/* Where the Pod Security Standards of one pod spec of o report. */
typedef struct wl_pod {
	wl_ctx *w;
	wl_obj *o;
} wl_pod;

static void on_found(void *arg, const pss_found *f)
{
	wl_pod *wp = arg;
	const char *expired;
	const tg_policy_exception *e = tg_admit_exception_for(
	        wp->w, wp->o, f->control, false, &expired);
	wl_violation v = { tg_pss_control_name(f->control),
		           tg_pss_level_name(f->level),
		           f->path,
		           f->found,
		           f->allowed,
		           f->container,
		           NULL };

	tg_admit_add_violation(wp->w, wp->o, &v, e, expired);
}

/* The Pod Security Standards on one pod spec of o. */
static void
check_pod_spec(wl_ctx *w, wl_obj *o, const json_t *spec, const char *pointer)
{
	wl_pod wp = { w, o };
	const wl_paths *paths = pod_paths(w, pointer);
	const json_t *meta =
	        paths->meta_ptr ? at_pointer(o->json, paths->meta_ptr) : NULL;

	(void)pss_check_to(on_found, &wp, spec, meta, paths->base,
	                   paths->meta_base, o->rule->pod_security,
	                   o->rule->pss_minor);
}

size_t tg_admit_workloads(json_t *violations,
                          json_t *exceptions_used,
                          size_t *warned,
                          const tg_admit_options *opts,
                          const tg_policy *policy,
                          const tg_manifest_set *set,
                          const tg_manifest_unit *unit)
{
	wl_ctx w = { .policy = policy,
		     .set = set,
		     .now = opts && opts->now ? opts->now : tg_now(),
		     .violations = violations,
		     .used = exceptions_used };
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
		    tg_admit_wl_obj(&o, &w, obj) < 0)
			continue;
		for (k = 0; (spec = tg_manifest_object_pod_spec(obj, k, &ptr));
		     k++)
			if (o.rule->pod_security > TG_PSS_LEVEL_PRIVILEGED)
				check_pod_spec(&w, &o, spec, ptr);
		if (o.rule->network_policy)
			tg_admit_netpol_need(&w, &o);
		tg_admit_wl_obj_done(&o);
	}
	tg_admit_netpol_check(&w, unit);
	json_decref(w.covered);
	json_decref(w.own);
	json_decref(w.netpol_ns);
	wl_strs_free(&w.fixed);
	wl_strs_free(&w.names);
	wl_strs_free(&w.values);
	for (i = 0; i < WL_PATHS; i++)
		paths_free(&w.paths[i]);
	*warned = w.warned;
	return w.enforced;
}
