/*
 * Answers of kind Status, worded like kube-apiserver's
 * (k8s.io/apimachinery/pkg/api/errors), because clients print the message
 * as is and some match on reason and code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

void tc_resp_json(tc_resp *resp, int status, json_t *v)
{
	free(resp->body);
	resp->body = NULL;
	json_decref(resp->json);
	resp->status = status;
	resp->json = json_incref(v);
	resp->content_type = "application/json";
}

bool tc_resp_set(const tc_resp *resp)
{
	return resp->body != NULL || resp->json != NULL;
}

void tc_resp_clear(tc_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	json_decref(resp->json);
	resp->json = NULL;
	resp->status = 0;
}

void tc_resp_json_new(tc_resp *resp, int status, json_t *v)
{
	tc_resp_json(resp, status, v);
	json_decref(v);
}

static void status_answer(tc_resp *resp,
                          int code,
                          const char *reason,
                          json_t *details,
                          const char *msg)
{
	json_t *s = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:i}", "kind",
	                      "Status", "apiVersion", "v1", "metadata",
	                      "status", code < 400 ? "Success" : "Failure",
	                      "message", msg, "reason", reason, "code", code);

	if (details != NULL)
		json_object_set_new(s, "details", details);
	tc_resp_json_new(resp, code, s);
}

void tc_status_error(tc_resp *resp,
                     int code,
                     const char *reason,
                     json_t *details,
                     const char *fmt,
                     ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	status_answer(resp, code, reason, details, msg);
}

void tc_status_bad_request(tc_resp *resp, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	status_answer(resp, 400, "BadRequest", NULL, msg);
}

/* details {name, group, kind} with kind the resource, as the API does. */
static json_t *details_for(const tc_type *t, const char *name)
{
	json_t *d = json_pack("{s:s,s:s}", "name", name ? name : "", "kind",
	                      t->resource);

	if (t->group[0])
		json_object_set_new(d, "group", json_string(t->group));
	return d;
}

/* "deployments.apps" or "configmaps": the qualified resource. */
static char *qualified(const tc_type *t)
{
	if (t->group[0])
		return tg_aprintf("%s.%s", t->resource, t->group);
	return tg_strdup(t->resource);
}

void tc_status_not_found(tc_resp *resp, const tc_type *t, const char *name)
{
	char *q = qualified(t);

	tc_status_error(resp, 404, "NotFound", details_for(t, name),
	                "%s \"%s\" not found", q, name);
	free(q);
}

void tc_status_already_exists(tc_resp *resp, const tc_type *t, const char *name)
{
	char *q = qualified(t);

	tc_status_error(resp, 409, "AlreadyExists", details_for(t, name),
	                "%s \"%s\" already exists", q, name);
	free(q);
}

void tc_status_conflict(tc_resp *resp,
                        const tc_type *t,
                        const char *name,
                        const char *why)
{
	char *q = qualified(t);

	tc_status_error(resp, 409, "Conflict", details_for(t, name),
	                "Operation cannot be fulfilled on %s \"%s\": %s", q,
	                name, why);
	free(q);
}

/* Kind.group as Invalid messages spell it: "Deployment.apps". */
static char *kind_group(const tc_type *t)
{
	if (t->group[0])
		return tg_aprintf("%s.%s", t->kind, t->group);
	return tg_strdup(t->kind);
}

void tc_status_invalid(tc_resp *resp,
                       const tc_type *t,
                       const char *name,
                       const char *field,
                       const char *cause_reason,
                       const char *detail)
{
	char *kg = kind_group(t);
	json_t *d =
	        json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}", "name",
	                  name ? name : "", "kind", t->kind, "causes", "reason",
	                  cause_reason, "message", detail, "field", field);

	if (t->group[0])
		json_object_set_new(d, "group", json_string(t->group));
	tc_status_error(resp, 422, "Invalid", d, "%s \"%s\" is invalid: %s: %s",
	                kg, name ? name : "", field, detail);
	free(kg);
}

void tc_status_deleted(tc_resp *resp, const tc_type *t, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *d = details_for(t, tc_obj_name(obj));
	json_t *s;

	json_object_set(d, "uid", json_object_get(meta, "uid"));
	s = json_pack("{s:s,s:s,s:{},s:s,s:o}", "kind", "Status", "apiVersion",
	              "v1", "metadata", "status", "Success", "details", d);
	tc_resp_json_new(resp, 200, s);
}
