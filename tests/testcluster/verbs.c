/*
 * The verbs on one resource: get, list, create, update, delete. Patch and
 * apply are in verbs_patch.c, watch in watch.c. Called with st->lock held.
 * Stored objects are never changed in place: a write builds a new object
 * and replaces the stored one.
 */
#include <stdio.h>
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

json_t *tc_body_object(const tc_req *req, tc_resp *resp)
{
	json_error_t jerr;
	json_t *v;

	if (req->body_len == 0) {
		tc_status_bad_request(resp, "the request body is empty");
		return NULL;
	}
	v = tc_req_json(req, &jerr);
	if (v == NULL) {
		tc_status_bad_request(resp,
		                      "the request body is not valid JSON: "
		                      "line %d column %d: %s",
		                      jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		tc_status_bad_request(resp,
		                      "the request body must be a JSON object");
		return NULL;
	}
	return v;
}

/* 404 like kube-apiserver's NamespaceLifecycle admission plugin. */
int tc_namespace_check(tc_state *st, const tc_target *tg, tc_resp *resp)
{
	const tc_type *nst;

	if (!(tg->type->flags & TC_T_NAMESPACED))
		return 0;
	nst = tc_type_find(st, "", "v1", "namespaces");
	if (tc_store_get(st, nst, NULL, tg->ns) != NULL)
		return 0;
	tc_status_not_found(resp, nst, tg->ns);
	return -1;
}

void tc_verb_get(tc_state *st,
                 const tc_req *req,
                 const tc_target *tg,
                 tc_resp *resp)
{
	json_t *obj = tc_store_get(st, tg->type, tg->ns, tg->name);

	(void)req;
	if (obj == NULL) {
		tc_status_not_found(resp, tg->type, tg->name);
		return;
	}
	if (tc_req_wants_table(req))
		tc_resp_table(resp, req, tg->type, obj);
	else
		tc_resp_json(resp, 200, obj);
}

/* The key to start after, from a continue token (base64 of the last key
 * returned). NULL when absent; answers 400 when bad. */
static int continue_key(char **out, const tc_req *req, tc_resp *resp)
{
	const char *tok = tc_req_arg(req, "continue");
	unsigned char *key = NULL;
	size_t len;

	*out = NULL;
	if (tok == NULL || tok[0] == '\0')
		return 0;
	if (tg_base64_decode(&key, &len, tok, strlen(tok)) < 0) {
		tc_status_bad_request(resp, "continue key is not valid: "
		                            "illegal base64 data");
		return -1;
	}
	*out = (char *)key;
	return 0;
}

static int list_limit(size_t *out, const tc_req *req, tc_resp *resp)
{
	const char *s = tc_req_arg(req, "limit");
	uint64_t v;

	*out = 0;
	if (s == NULL || s[0] == '\0')
		return 0;
	if (tg_parse_u64(&v, s, strlen(s), UINT64_MAX) < 0) {
		tc_status_bad_request(resp, "limit: invalid value \"%s\"", s);
		return -1;
	}
	*out = v > TC_MAX_LIMIT ? TC_MAX_LIMIT : (size_t)v;
	return 0;
}

/* A list item as kube-apiserver encodes it: built-in types drop kind and
 * apiVersion inside lists, custom resources keep them. */
static json_t *list_item(const tc_type *t, json_t *obj)
{
	json_t *c;

	if (t->flags & TC_T_CRD)
		return json_incref(obj);
	c = json_copy(obj);
	json_object_del(c, "kind");
	json_object_del(c, "apiVersion");
	return c;
}

static json_t *list_doc(tc_state *st,
                        const tc_type *t,
                        json_t *items,
                        const char *cont,
                        json_int_t remaining)
{
	char rv[24], *kind = tg_aprintf("%sList", t->kind);
	char *av = tc_type_api_version(t);
	json_t *meta, *doc;

	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)st->rv);
	meta = json_pack("{s:s}", "resourceVersion", rv);
	if (cont != NULL)
		json_object_set_new(meta, "continue", json_string(cont));
	if (cont != NULL && remaining >= 0)
		json_object_set_new(meta, "remainingItemCount",
		                    json_integer(remaining));
	doc = json_pack("{s:s,s:s,s:o,s:o}", "kind", kind, "apiVersion", av,
	                "metadata", meta, "items", items);
	free(kind);
	free(av);
	return doc;
}

/* A label or field selector was given (an empty one selects all). */
static bool has_selector(const tc_req *req)
{
	const char *l = tc_req_arg(req, "labelSelector"),
	           *f = tc_req_arg(req, "fieldSelector");

	return (l != NULL && *l != '\0') || (f != NULL && *f != '\0');
}

/*
 * One page of the objects of s (those in ns when it is not NULL) that sel
 * matches, from the first key after `after`: a range of the sorted keys,
 * as kube-apiserver reads it, not a pass over every object. *cont_out is
 * the token when another matching object follows (malloc'd). As
 * kube-apiserver, the page says how many objects remain only when no
 * selector was given (*remaining, else -1).
 */
static json_t *list_page(const tc_sorted *s,
                         const tc_type *t,
                         const char *ns,
                         const tc_selector *sel,
                         bool selective,
                         const char *after,
                         size_t limit,
                         char **cont_out,
                         json_int_t *remaining)
{
	json_t *items = json_array();
	char *lo = ns ? tg_aprintf("%s/", ns) : NULL,
	     *hi = ns ? tg_aprintf("%s0", ns) : NULL; /* '0' follows '/' */
	size_t i = lo ? tc_sorted_bound(s, lo, true) : 0,
	       end = hi ? tc_sorted_bound(s, hi, true) : s->n;
	const char *last = NULL;

	*cont_out = NULL;
	*remaining = -1;
	if (after != NULL) {
		size_t from = tc_sorted_bound(s, after, false);

		if (from > i)
			i = from;
	}
	for (; i < end; i++) {
		if (!tc_selector_match(sel, s->objs[i]))
			continue;
		if (limit > 0 && json_array_size(items) == limit) {
			*cont_out = tg_base64_encode((unsigned char *)last,
			                             strlen(last));
			if (!selective)
				*remaining = (json_int_t)(end - i);
			break;
		}
		last = s->keys[i];
		json_array_append_new(items, list_item(t, s->objs[i]));
	}
	free(lo);
	free(hi);
	return items;
}

void tc_verb_list(tc_state *st,
                  const tc_req *req,
                  const tc_target *tg,
                  tc_resp *resp)
{
	tc_selector *sel = NULL;
	char *err = NULL, *after = NULL, *cont = NULL;
	json_t *items, *doc;
	json_int_t remaining;
	size_t limit;

	if (tc_req_flag(req, "watch")) {
		tc_verb_watch(st, req, tg, resp);
		return;
	}
	if (tc_selector_parse(&sel, tc_req_arg(req, "labelSelector"),
	                      tc_req_arg(req, "fieldSelector"), &err) < 0) {
		tc_status_bad_request(resp, "%s", err);
		goto out;
	}
	if (continue_key(&after, req, resp) < 0 ||
	    list_limit(&limit, req, resp) < 0)
		goto out;
	items = list_page(tc_store_sorted(st, tg->type), tg->type, tg->ns, sel,
	                  has_selector(req), after, limit, &cont, &remaining);
	doc = list_doc(st, tg->type, items, cont, remaining);
	if (tc_req_wants_table(req))
		tc_resp_table(resp, req, tg->type, doc);
	else
		tc_resp_json(resp, 200, doc);
	json_decref(doc);
out:
	free(err);
	free(after);
	free(cont);
	tc_selector_free(sel);
}

/* After a write of a CRD, keep its registered type in step. */
int tc_crd_hook(tc_state *st,
                const tc_req *req,
                const tc_type *t,
                json_t *obj,
                tc_resp *resp)
{
	if (strcmp(t->resource, "customresourcedefinitions") != 0 ||
	    tc_req_dry_run(req))
		return 0;
	return tc_crd_register(st, obj, resp);
}

void tc_verb_create(tc_state *st,
                    const tc_req *req,
                    const tc_target *tg,
                    tc_resp *resp)
{
	json_t *obj = tc_body_object(req, resp);
	char *manager = NULL;
	tc_target named = *tg;

	if (obj == NULL)
		return;
	if (tc_obj_validate(tg->type, tg, obj, resp) < 0)
		goto out;
	named.name = tc_obj_name(obj);
	if (tc_namespace_check(st, tg, resp) < 0)
		goto out;
	if (tc_store_get(st, tg->type, tg->ns, named.name) != NULL) {
		tc_status_already_exists(resp, tg->type, named.name);
		goto out;
	}
	tc_obj_init_meta(st, tg->type, &named, obj);
	json_object_del(json_object_get(obj, "metadata"), "managedFields");
	if (tg->type->flags & TC_T_STATUS &&
	    strcmp(tg->type->resource, "namespaces") != 0)
		json_object_del(obj, "status");
	tc_defaults_apply(tg->type, obj);
	manager = tc_req_manager(req);
	tc_ssa_update(tg->type, NULL, obj, manager, NULL);
	if (tc_crd_hook(st, req, tg->type, obj, resp) < 0)
		goto out;
	tc_obj_commit(st, req, tg->type, obj, true, resp);
out:
	free(manager);
	json_decref(obj);
}

/* The object a PUT would store: the body, or for /status the stored
 * object with the body's status. New reference. */
static json_t *update_target(const tc_target *tg, json_t *old, json_t *body)
{
	json_t *obj;

	if (tg->sub == NULL)
		return json_incref(body);
	obj = json_deep_copy(old);
	json_object_set(obj, "status", json_object_get(body, "status"));
	json_object_set(json_object_get(obj, "metadata"), "resourceVersion",
	                json_object_get(json_object_get(body, "metadata"),
	                                "resourceVersion"));
	return obj;
}

/* The resourceVersion precondition of update and patch: 0, or 409. */
int tc_rv_precondition(const tc_type *t,
                       json_t *old,
                       json_t *obj,
                       tc_resp *resp)
{
	json_t *want = json_object_get(json_object_get(obj, "metadata"),
	                               "resourceVersion");
	json_t *have = json_object_get(json_object_get(old, "metadata"),
	                               "resourceVersion");

	if (want == NULL || json_equal(want, have) ||
	    (json_is_string(want) && json_string_length(want) == 0))
		return 0;
	tc_status_conflict(resp, t, tc_obj_name(old),
	                   "the object has been modified; please apply your "
	                   "changes to the latest version and try again");
	return -1;
}

/* Finish a write of old into obj (a reference the caller keeps): carry
 * server metadata, track managedFields, store. */
void tc_write_finish(tc_state *st,
                     const tc_req *req,
                     const tc_target *tg,
                     json_t *old,
                     json_t *obj,
                     tc_resp *resp)
{
	json_t *meta = json_object_get(obj, "metadata");
	char *manager;

	if (tg->sub == NULL) {
		tc_defaults_apply(tg->type, obj);
		tc_obj_carry_meta(tg->type, old, obj);
	}
	json_object_set(meta, "managedFields",
	                json_object_get(json_object_get(old, "metadata"),
	                                "managedFields"));
	if (json_array_size(json_object_get(meta, "managedFields")) == 0)
		json_object_del(meta, "managedFields");
	manager = tc_req_manager(req);
	tc_ssa_update(tg->type, old, obj, manager, tg->sub);
	free(manager);
	if (json_equal(old, obj)) {
		/* kube-apiserver skips no-op writes: same resourceVersion. */
		tc_resp_json(resp, 200, old);
		return;
	}
	if (tc_crd_hook(st, req, tg->type, obj, resp) < 0)
		return;
	tc_obj_commit(st, req, tg->type, obj, false, resp);
}

void tc_verb_update(tc_state *st,
                    const tc_req *req,
                    const tc_target *tg,
                    tc_resp *resp)
{
	json_t *body = tc_body_object(req, resp);
	json_t *old, *obj = NULL;

	if (body == NULL)
		return;
	if (tc_obj_validate(tg->type, tg, body, resp) < 0)
		goto out;
	old = tc_store_get(st, tg->type, tg->ns, tg->name);
	if (old == NULL) {
		tc_status_not_found(resp, tg->type, tg->name);
		goto out;
	}
	obj = update_target(tg, old, body);
	if (tc_rv_precondition(tg->type, old, obj, resp) < 0)
		goto out;
	tc_write_finish(st, req, tg, old, obj, resp);
out:
	json_decref(obj);
	json_decref(body);
}

/* What DELETE answers for a namespace: the object, Terminating. */
static void namespace_deleted(tc_resp *resp, json_t *old)
{
	json_t *o = json_deep_copy(old);
	char now[21];

	tc_now_str(now);
	json_object_set_new(json_object_get(o, "metadata"), "deletionTimestamp",
	                    json_string(now));
	json_object_set_new(o, "status",
	                    json_pack("{s:s}", "phase", "Terminating"));
	tc_resp_json_new(resp, 200, o);
}

/*
 * DeleteOptions.preconditions of a DELETE body, as kube-apiserver checks
 * them: a uid or resourceVersion that is not the live object's is 409
 * Conflict, "Precondition failed: UID in precondition: x, UID in object
 * meta: y". 1 when it answered (refused), 0 to go on.
 */
static int delete_preconditions(const tc_req *req,
                                const tc_target *tg,
                                json_t *old,
                                tc_resp *resp)
{
	json_t *body, *pre, *meta = json_object_get(old, "metadata");
	static const struct {
		const char *key, *label;
	} fields[] = { { "uid", "UID" },
		       { "resourceVersion", "ResourceVersion" } };
	char why[512];
	size_t i;

	if (req->body_len == 0)
		return 0;
	body = json_loadb(req->body, req->body_len, 0, NULL);
	pre = json_object_get(body, "preconditions");
	for (i = 0; i < 2; i++) {
		const char *want =
		        json_string_value(json_object_get(pre, fields[i].key));
		const char *have =
		        json_string_value(json_object_get(meta, fields[i].key));

		if (!want || (have && !strcmp(want, have)))
			continue;
		snprintf(why, sizeof(why),
		         "Precondition failed: %s in precondition: %.100s, %s "
		         "in object meta: %.100s",
		         fields[i].label, want, fields[i].label,
		         have ? have : "");
		tc_status_conflict(resp, tg->type, tg->name, why);
		json_decref(body);
		return 1;
	}
	json_decref(body);
	return 0;
}

void tc_verb_delete(tc_state *st,
                    const tc_req *req,
                    const tc_target *tg,
                    tc_resp *resp)
{
	json_t *old = tc_store_get(st, tg->type, tg->ns, tg->name);
	const char *res = tg->type->resource;

	if (old == NULL) {
		tc_status_not_found(resp, tg->type, tg->name);
		return;
	}
	if (delete_preconditions(req, tg, old, resp))
		return;
	json_incref(old);
	if (strcmp(res, "namespaces") == 0)
		namespace_deleted(resp, old);
	else
		tc_status_deleted(resp, tg->type, old);
	if (tc_req_dry_run(req))
		goto out;
	if (strcmp(res, "namespaces") == 0)
		tc_store_delete_namespace(st, tg->name);
	if (strcmp(res, "customresourcedefinitions") == 0) {
		json_t *spec = json_object_get(old, "spec");
		const tc_type *crt = tc_type_find_kind(
		        st, json_string_value(json_object_get(spec, "group")),
		        json_string_value(json_object_get(
		                json_object_get(spec, "names"), "kind")));

		if (crt != NULL)
			tc_store_drop_type(st, crt);
		tc_crd_unregister(st, old);
	}
	tc_store_delete(st, tg->type, tg->ns, tg->name);
out:
	json_decref(old);
}

/* DELETE on a collection: every object matching the selectors; answers
 * the list of what was deleted, as kube-apiserver does. */
static void delete_collection(tc_state *st,
                              const tc_req *req,
                              const tc_target *tg,
                              tc_resp *resp)
{
	tc_selector *sel = NULL;
	char *err = NULL;
	json_t *all, *gone, *o;
	size_t i;

	if (tc_selector_parse(&sel, tc_req_arg(req, "labelSelector"),
	                      tc_req_arg(req, "fieldSelector"), &err) < 0) {
		tc_status_bad_request(resp, "%s", err);
		free(err);
		return;
	}
	all = tc_store_list(st, tg->type, tg->ns);
	gone = json_array();
	json_array_foreach(all, i, o) {
		if (!tc_selector_match(sel, o))
			continue;
		json_array_append_new(gone, list_item(tg->type, o));
		if (!tc_req_dry_run(req))
			tc_store_delete(st, tg->type, tc_obj_ns(o),
			                tc_obj_name(o));
	}
	tc_resp_json_new(resp, 200, list_doc(st, tg->type, gone, NULL, -1));
	json_decref(all);
	tc_selector_free(sel);
}

void tc_verb_dispatch(tc_state *st,
                      const tc_req *req,
                      const tc_target *tg,
                      tc_resp *resp)
{
	const char *m = req->method;
	bool item = tg->name != NULL;

	if (strcmp(m, "GET") == 0)
		(item ? tc_verb_get : tc_verb_list)(st, req, tg, resp);
	else if (strcmp(m, "POST") == 0 && !item && tg->sub == NULL)
		tc_verb_create(st, req, tg, resp);
	else if (strcmp(m, "PUT") == 0 && item)
		tc_verb_update(st, req, tg, resp);
	else if (strcmp(m, "PATCH") == 0 && item)
		tc_verb_patch(st, req, tg, resp);
	else if (strcmp(m, "DELETE") == 0 && item && tg->sub == NULL)
		tc_verb_delete(st, req, tg, resp);
	else if (strcmp(m, "DELETE") == 0 && !item &&
	         strcmp(tg->type->resource, "namespaces") != 0 &&
	         strcmp(tg->type->resource, "customresourcedefinitions") != 0 &&
	         (tg->ns != NULL || !(tg->type->flags & TC_T_NAMESPACED)))
		delete_collection(st, req, tg, resp);
	else
		tc_status_error(resp, 405, "MethodNotAllowed", NULL,
		                "the server does not allow this method on "
		                "the requested resource");
}
