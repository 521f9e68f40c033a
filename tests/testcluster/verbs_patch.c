/*
 * PATCH: merge, JSON and strategic merge patches, and server-side apply
 * (application/apply-patch+yaml). Called with st->lock held; an apply
 * lets go of it while it merges (apply_merge_unlocked).
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

#define CT_APPLY "application/apply-patch+yaml"
#define CT_MERGE "application/merge-patch+json"
#define CT_JSON "application/json-patch+json"
#define CT_STRATEGIC "application/strategic-merge-patch+json"

/* PatchOptions validation answers, worded like ValidatePatchOptions. */
static void patch_options_invalid(tc_resp *resp,
                                  const char *field,
                                  const char *reason,
                                  const char *detail)
{
	json_t *d =
	        json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}", "group", "meta.k8s.io",
	                  "kind", "PatchOptions", "causes", "reason", reason,
	                  "message", detail, "field", field);

	tc_status_error(resp, 422, "Invalid", d,
	                "PatchOptions.meta.k8s.io \"\" is invalid: %s: %s",
	                field, detail);
}

static void unsupported(tc_resp *resp, const tc_type *t, const char *ct)
{
	tc_status_error(resp, 415, "UnsupportedMediaType", NULL,
	                "the body of the request was in an unknown format - "
	                "accepted media types include: %s, %s, %s%s%s "
	                "(got \"%s\")",
	                CT_JSON, CT_MERGE, CT_APPLY,
	                (t->flags & TC_T_CRD) ? "" : ", ",
	                (t->flags & TC_T_CRD) ? "" : CT_STRATEGIC, ct);
}

/* The patch document: a JSON array for JSON patch, an object otherwise. */
static json_t *patch_body(const tc_req *req, bool want_array, tc_resp *resp)
{
	json_error_t jerr;
	json_t *v = tc_req_json(req, &jerr);

	if (v == NULL) {
		tc_status_bad_request(resp,
		                      "error decoding patch: line %d column "
		                      "%d: %s",
		                      jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (want_array ? !json_is_array(v) : !json_is_object(v)) {
		json_decref(v);
		tc_status_bad_request(resp, "the patch must be a JSON %s",
		                      want_array ? "array" : "object");
		return NULL;
	}
	return v;
}

/* Apply the patch of content type ct to old; new reference or NULL
 * after answering. */
static json_t *
patched(const tc_req *req, const char *ct, json_t *old, tc_resp *resp)
{
	bool is_json = strcmp(ct, CT_JSON) == 0;
	json_t *p = patch_body(req, is_json, resp);
	json_t *obj = NULL;
	char *err = NULL;

	if (p == NULL)
		return NULL;
	if (is_json) {
		if (tc_json_patch(&obj, old, p, &err) < 0) {
			tc_status_error(resp, 422, "Invalid", NULL, "%s", err);
			free(err);
		}
	} else if (strcmp(ct, CT_MERGE) == 0) {
		obj = tc_merge_patch(old, p);
	} else {
		obj = tc_strategic_patch(old, p);
	}
	json_decref(p);
	return obj;
}

static void patch_regular(tc_state *st,
                          const tc_req *req,
                          const tc_target *tg,
                          const char *ct,
                          tc_resp *resp)
{
	json_t *old = tc_store_get(st, tg->type, tg->ns, tg->name);
	json_t *obj = NULL, *sub;

	if (old == NULL) {
		tc_status_not_found(resp, tg->type, tg->name);
		return;
	}
	obj = patched(req, ct, old, resp);
	if (obj == NULL)
		return;
	if (tg->sub != NULL) {
		sub = json_deep_copy(old);
		json_object_set(sub, "status", json_object_get(obj, "status"));
		json_decref(obj);
		obj = sub;
	}
	if (!json_is_object(json_object_get(obj, "metadata")) ||
	    tc_obj_validate(tg->type, tg, obj, resp) < 0 ||
	    tc_rv_precondition(tg->type, old, obj, resp) < 0) {
		if (!tc_resp_set(resp))
			tc_status_bad_request(resp, "metadata was removed");
		json_decref(obj);
		return;
	}
	tc_write_finish(st, req, tg, old, obj, resp);
	json_decref(obj);
}

/* The applied configuration from YAML (one document, a mapping). */
static json_t *apply_yaml(const tc_req *req, tc_resp *resp)
{
	tg_yaml_docs *docs = NULL;
	json_t *v = NULL;

	if (tg_yaml_parse(&docs, "body", req->body, req->body_len, 0) < 0) {
		tc_status_bad_request(resp, "error decoding YAML: %s",
		                      tg_error_last());
		return NULL;
	}
	if (tg_yaml_docs_count(docs) != 1 ||
	    !json_is_object(tg_yaml_docs_get(docs, 0)))
		tc_status_bad_request(resp, "error decoding YAML: the applied "
		                            "configuration must be one object");
	else
		v = json_incref(tg_yaml_docs_get(docs, 0));
	tg_yaml_docs_free(docs);
	return v;
}

/* The applied configuration: JSON first (kubectl and client-go send JSON
 * even for apply-patch+yaml), else YAML. */
static json_t *apply_body(const tc_req *req, tc_resp *resp)
{
	json_error_t jerr;
	json_t *v = tc_req_json(req, &jerr);

	if (v == NULL)
		return apply_yaml(req, resp);
	if (!json_is_object(v)) {
		json_decref(v);
		tc_status_bad_request(resp, "error decoding YAML: the applied "
		                            "configuration must be an object");
		return NULL;
	}
	return v;
}

/* The object an apply of applied over live (NULL: none) would store, in
 * *out; *same when that is live unchanged. 0, or -1 after answering. */
static int apply_merge(json_t **out,
                       bool *same,
                       const tc_type *t,
                       json_t *live,
                       json_t *applied,
                       const char *manager,
                       bool force,
                       tc_resp *resp)
{
	*same = false;
	if (tc_ssa_apply(out, t, live, applied, manager, force, resp) < 0)
		return -1;
	tc_defaults_apply(t, *out);
	if (live != NULL) {
		tc_obj_carry_meta(t, live, *out);
		*same = json_equal(live, *out);
	}
	return 0;
}

/* Merges tried without the lock before one under it: each is tried
 * again when another write replaced the object meanwhile. */
#define TC_APPLY_UNLOCKED_TRIES 3

/*
 * The merge of an apply, without the lock when it can: the merge is most
 * of the work of an apply, and a real API server runs many at once. It
 * reads live, a stored object, which is never changed, and a copy of the
 * type. Back under the lock, tg->type is found again by its serial (a
 * CRD may have been updated, deleted, or the cluster reset meanwhile:
 * then 404), and the merge is kept only if live is still the stored
 * object and, for a new object, its namespace still exists; otherwise it
 * is merged again. *live_out is the live object merged over (borrowed
 * from the store). Called and returns with the lock held.
 */
static int apply_merge_unlocked(tc_state *st,
                                tc_target *tg,
                                json_t **out,
                                json_t **live_out,
                                bool *same,
                                json_t *applied,
                                const char *manager,
                                bool force,
                                tc_resp *resp)
{
	unsigned tries;
	json_t *live;
	int rc;

	for (tries = 0;; tries++) {
		tc_type *t;

		live = tc_store_get(st, tg->type, tg->ns, tg->name);
		if (live == NULL && tc_namespace_check(st, tg, resp) < 0)
			return -1;
		*live_out = live;
		if (tries == TC_APPLY_UNLOCKED_TRIES)
			return apply_merge(out, same, tg->type, live, applied,
			                   manager, force, resp);
		t = tc_type_dup(tg->type);
		json_incref(live);
		pthread_mutex_unlock(&st->lock);
		rc = apply_merge(out, same, t, live, applied, manager, force,
		                 resp);
		pthread_mutex_lock(&st->lock);
		json_decref(live); /* the store still holds it if unchanged */
		tg->type = tc_type_again(st, t);
		tc_type_free(t);
		if (tg->type == NULL) {
			json_decref(*out);
			*out = NULL;
			tc_resp_clear(resp);
			tc_status_error(resp, 404, "NotFound", NULL,
			                "the server could not find the "
			                "requested resource");
			return -1;
		}
		if (tc_store_get(st, tg->type, tg->ns, tg->name) == live &&
		    (live != NULL || tc_namespace_check(st, tg, resp) == 0))
			return rc;
		json_decref(*out);
		*out = NULL;
		tc_resp_clear(resp);
	}
}

static void
patch_apply(tc_state *st, const tc_req *req, const tc_target *tg, tc_resp *resp)
{
	const char *manager = tc_req_arg(req, "fieldManager");
	json_t *applied, *live, *obj = NULL;
	tc_target named = *tg;
	bool same;

	if (manager == NULL || manager[0] == '\0') {
		patch_options_invalid(resp, "fieldManager",
		                      "FieldValueRequired",
		                      "Required value: is required for apply "
		                      "patch");
		return;
	}
	applied = apply_body(req, resp);
	if (applied == NULL)
		return;
	if (tc_obj_validate(tg->type, tg, applied, resp) < 0)
		goto out;
	/* named.type: the type may be registered anew while the lock is
	 * let go (a CRD updated); tg->type is not used after. */
	if (apply_merge_unlocked(st, &named, &obj, &live, &same, applied,
	                         manager, tc_req_flag(req, "force"), resp) < 0)
		goto out;
	if (live == NULL) {
		named.name = tc_obj_name(obj);
		tc_obj_init_meta(st, named.type, &named, obj);
		if (tc_crd_hook(st, req, named.type, obj, resp) < 0)
			goto out;
		tc_obj_commit(st, req, named.type, obj, true, resp);
		goto out;
	}
	if (same) {
		tc_resp_json(resp, 200, live);
		goto out;
	}
	if (tc_crd_hook(st, req, named.type, obj, resp) < 0)
		goto out;
	tc_obj_commit(st, req, named.type, obj, false, resp);
out:
	json_decref(obj);
	json_decref(applied);
}

void tc_verb_patch(tc_state *st,
                   const tc_req *req,
                   const tc_target *tg,
                   tc_resp *resp)
{
	const char *ct = req->content_type;
	bool apply = strcmp(ct, CT_APPLY) == 0;

	if (!apply && tc_req_arg(req, "force") != NULL) {
		patch_options_invalid(resp, "force", "FieldValueForbidden",
		                      "Forbidden: may not be specified for "
		                      "non-apply patch");
		return;
	}
	if (apply) {
		patch_apply(st, req, tg, resp);
		return;
	}
	if (strcmp(ct, CT_MERGE) == 0 || strcmp(ct, CT_JSON) == 0 ||
	    (strcmp(ct, CT_STRATEGIC) == 0 && !(tg->type->flags & TC_T_CRD))) {
		patch_regular(st, req, tg, ct, resp);
		return;
	}
	unsupported(resp, tg->type, ct);
}
