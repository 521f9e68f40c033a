/*
 * Server-side printing: the meta.k8s.io/v1 Table kubectl asks for
 * (Accept: application/json;as=Table;v=v1;g=meta.k8s.io) on get, list and
 * watch, with the columns kube-apiserver's printers give the common types
 * and Name/Age for the rest. Rows carry the object's metadata
 * (PartialObjectMetadata) unless includeObject=Object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

bool tc_req_wants_table(const tc_req *req)
{
	const char *a = req->accept;

	return a != NULL && strstr(a, "as=Table") != NULL &&
	       strstr(a, "g=meta.k8s.io") != NULL;
}

/* duration.HumanDuration of k8s.io/apimachinery, into out[32]. */
static void human_age(char out[32], int64_t s)
{
	int64_t m = s / 60, h = s / 3600, d = s / 86400;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, 32, "%llds", (long long)s);
	else if (m < 10 && s % 60 != 0)
		snprintf(out, 32, "%lldm%llds", (long long)m,
		         (long long)(s % 60));
	else if (m < 180)
		snprintf(out, 32, "%lldm", (long long)m);
	else if (h < 8 && m % 60 != 0)
		snprintf(out, 32, "%lldh%lldm", (long long)h,
		         (long long)(m % 60));
	else if (h < 48)
		snprintf(out, 32, "%lldh", (long long)h);
	else if (h < 192 && h % 24 != 0)
		snprintf(out, 32, "%lldd%lldh", (long long)d,
		         (long long)(h % 24));
	else if (d < 730)
		snprintf(out, 32, "%lldd", (long long)d);
	else
		snprintf(out, 32, "%lldy", (long long)(d / 365));
}

static json_t *age_cell(json_t *obj)
{
	const char *ts = json_string_value(json_object_get(
	        json_object_get(obj, "metadata"), "creationTimestamp"));
	int64_t t;
	char out[32];

	if (ts == NULL || tg_parse_rfc3339(&t, ts) < 0)
		return json_string("<unknown>");
	human_age(out, tg_now() - t);
	return json_string(out);
}

static json_t *
column(const char *name, const char *type, const char *format, int priority)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", name, "type", type,
	                 "format", format, "description", name, "priority",
	                 priority);
}

static json_int_t int_at(json_t *obj, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(obj, a), b));
}

static const char *str_or(json_t *v, const char *dflt)
{
	const char *s = json_string_value(v);

	return s && s[0] ? s : dflt;
}

/* Columns between Name and Age, and their cells for obj. */
typedef void (*cells_fn)(json_t *cells, json_t *obj);

static void deployment_cells(json_t *cells, json_t *obj)
{
	json_t *rep = json_object_get(json_object_get(obj, "spec"), "replicas");
	char ready[64];

	snprintf(ready, sizeof(ready), "%lld/%lld",
	         (long long)int_at(obj, "status", "readyReplicas"),
	         (long long)(json_is_integer(rep) ? json_integer_value(rep)
	                                          : 1));
	json_array_append_new(cells, json_string(ready));
	json_array_append_new(
	        cells, json_integer(int_at(obj, "status", "updatedReplicas")));
	json_array_append_new(cells, json_integer(int_at(obj, "status",
	                                                 "availableReplicas")));
}

static void statefulset_cells(json_t *cells, json_t *obj)
{
	json_t *rep = json_object_get(json_object_get(obj, "spec"), "replicas");
	char ready[64];

	snprintf(ready, sizeof(ready), "%lld/%lld",
	         (long long)int_at(obj, "status", "readyReplicas"),
	         (long long)(json_is_integer(rep) ? json_integer_value(rep)
	                                          : 1));
	json_array_append_new(cells, json_string(ready));
}

static void daemonset_cells(json_t *cells, json_t *obj)
{
	static const char *const keys[] = {
		"desiredNumberScheduled", "currentNumberScheduled",
		"numberReady", "updatedNumberScheduled", "numberAvailable"
	};
	size_t i;

	for (i = 0; i < 5; i++)
		json_array_append_new(
		        cells, json_integer(int_at(obj, "status", keys[i])));
}

static void configmap_cells(json_t *cells, json_t *obj)
{
	json_array_append_new(
	        cells,
	        json_integer((json_int_t)(json_object_size(json_object_get(
	                                          obj, "data")) +
	                                  json_object_size(json_object_get(
	                                          obj, "binaryData")))));
}

static void secret_cells(json_t *cells, json_t *obj)
{
	json_array_append_new(
	        cells,
	        json_string(str_or(json_object_get(obj, "type"), "Opaque")));
	json_array_append_new(cells, json_integer((json_int_t)json_object_size(
	                                     json_object_get(obj, "data"))));
}

static void namespace_cells(json_t *cells, json_t *obj)
{
	json_array_append_new(
	        cells, json_string(str_or(
	                       json_object_get(json_object_get(obj, "status"),
	                                       "phase"),
	                       "Active")));
}

static void pod_cells(json_t *cells, json_t *obj)
{
	size_t n = json_array_size(
	        json_object_get(json_object_get(obj, "spec"), "containers"));
	char ready[64];

	snprintf(ready, sizeof(ready), "0/%zu", n);
	json_array_append_new(cells, json_string(ready));
	json_array_append_new(
	        cells, json_string(str_or(
	                       json_object_get(json_object_get(obj, "status"),
	                                       "phase"),
	                       "Pending")));
	json_array_append_new(cells, json_integer(0));
}

static void ports_text(tg_buf *b, json_t *ports)
{
	json_t *p;
	size_t i;

	json_array_foreach(ports, i, p) {
		tc_buf_check(tg_buf_printf(
		        b, "%s%lld/%s", i ? "," : "",
		        (long long)json_integer_value(
		                json_object_get(p, "port")),
		        str_or(json_object_get(p, "protocol"), "TCP")));
	}
	if (b->len == 0)
		tc_buf_check(tg_buf_puts(b, "<none>"));
}

static void service_cells(json_t *cells, json_t *obj)
{
	json_t *spec = json_object_get(obj, "spec");
	tg_buf b;

	tg_buf_init(&b, 65536);
	ports_text(&b, json_object_get(spec, "ports"));
	json_array_append_new(cells,
	                      json_string(str_or(json_object_get(spec, "type"),
	                                         "ClusterIP")));
	json_array_append_new(
	        cells, json_string(str_or(json_object_get(spec, "clusterIP"),
	                                  "<none>")));
	json_array_append_new(cells, json_string("<none>"));
	json_array_append_new(cells, json_string(b.data));
	tg_buf_free(&b);
}

static const struct printer {
	const char *resource;
	const char *columns[6]; /* between Name and Age; NULL-terminated */
	const char *types[6];
	cells_fn cells;
} printers[] = {
	{ "deployments",
	  { "Ready", "Up-to-date", "Available" },
	  { "string", "integer", "integer" },
	  deployment_cells },
	{ "statefulsets", { "Ready" }, { "string" }, statefulset_cells },
	{ "daemonsets",
	  { "Desired", "Current", "Ready", "Up-to-date", "Available" },
	  { "integer", "integer", "integer", "integer", "integer" },
	  daemonset_cells },
	{ "configmaps", { "Data" }, { "integer" }, configmap_cells },
	{ "secrets",
	  { "Type", "Data" },
	  { "string", "integer" },
	  secret_cells },
	{ "namespaces", { "Status" }, { "string" }, namespace_cells },
	{ "pods",
	  { "Ready", "Status", "Restarts" },
	  { "string", "string", "integer" },
	  pod_cells },
	{ "services",
	  { "Type", "Cluster-IP", "External-IP", "Port(s)" },
	  { "string", "string", "string", "string" },
	  service_cells },
};

static const struct printer *printer_for(const tc_type *t)
{
	size_t i;

	if (t->flags & TC_T_CRD)
		return NULL;
	for (i = 0; i < sizeof(printers) / sizeof(printers[0]); i++)
		if (strcmp(printers[i].resource, t->resource) == 0)
			return &printers[i];
	return NULL;
}

static bool is_crd_type(const tc_type *t)
{
	return strcmp(t->resource, "customresourcedefinitions") == 0;
}

static json_t *columns(const tc_type *t)
{
	const struct printer *p = printer_for(t);
	json_t *cols = json_array();
	size_t i;

	json_array_append_new(cols, column("Name", "string", "name", 0));
	for (i = 0; p != NULL && i < 6 && p->columns[i]; i++)
		json_array_append_new(
		        cols, column(p->columns[i], p->types[i], "", 0));
	if (is_crd_type(t))
		json_array_append_new(cols,
		                      column("Created At", "date", "", 0));
	else
		json_array_append_new(cols, column("Age", "string", "", 0));
	return cols;
}

static json_t *row(const tc_type *t, json_t *obj, bool full)
{
	const struct printer *p = printer_for(t);
	json_t *cells = json_array(), *o;

	json_array_append_new(cells, json_string(tc_obj_name(obj)));
	if (p != NULL)
		p->cells(cells, obj);
	if (is_crd_type(t))
		json_array_append(
		        cells, json_object_get(json_object_get(obj, "metadata"),
		                               "creationTimestamp"));
	else
		json_array_append_new(cells, age_cell(obj));
	if (full)
		o = json_incref(obj);
	else
		o = json_pack("{s:s,s:s,s:O}", "kind", "PartialObjectMetadata",
		              "apiVersion", "meta.k8s.io/v1", "metadata",
		              json_object_get(obj, "metadata"));
	return json_pack("{s:o,s:o}", "cells", cells, "object", o);
}

json_t *tc_table(const tc_type *t, json_t *objs, json_t *list_meta, bool full)
{
	json_t *rows = json_array(), *o;
	json_t *meta = list_meta ? json_incref(list_meta) : json_object();
	size_t i;

	json_array_foreach(objs, i, o)
		json_array_append_new(rows, row(t, o, full));
	return json_pack("{s:s,s:s,s:o,s:o,s:o}", "kind", "Table", "apiVersion",
	                 "meta.k8s.io/v1", "metadata", meta,
	                 "columnDefinitions", columns(t), "rows", rows);
}

void tc_resp_table(tc_resp *resp,
                   const tc_req *req,
                   const tc_type *t,
                   json_t *doc)
{
	const char *inc = tc_req_arg(req, "includeObject");
	bool full = inc != NULL && strcmp(inc, "Object") == 0;
	json_t *items = json_object_get(doc, "items");
	json_t *objs = items ? json_incref(items) : json_pack("[O]", doc);
	json_t *table;

	table = tc_table(t, objs,
	                 items ? json_object_get(doc, "metadata") : NULL, full);
	tc_resp_json_new(resp, 200, table);
	resp->content_type = "application/json;as=Table;v=v1;g=meta.k8s.io";
	json_decref(objs);
}

/* Whether the first media type of Accept is application/json with
 * as=<as>;g=meta.k8s.io;v=v1 (parameters in any order). */
static bool first_accept_is(const char *accept, const char *as)
{
	size_t len = strcspn(accept, ",");
	char *first = tg_strndup(accept, len), *p, *save = NULL;
	bool json = false, as_ok = false, g_ok = false, v_ok = false;
	size_t i = 0;

	for (p = strtok_r(first, ";", &save); p;
	     p = strtok_r(NULL, ";", &save)) {
		p += strspn(p, " ");
		p[strcspn(p, " ")] = '\0';
		if (i++ == 0)
			json = strcmp(p, "application/json") == 0;
		else if (tg_str_has_prefix(p, "as="))
			as_ok = strcmp(p + 3, as) == 0;
		else if (tg_str_has_prefix(p, "g="))
			g_ok = strcmp(p + 2, "meta.k8s.io") == 0;
		else if (tg_str_has_prefix(p, "v="))
			v_ok = strcmp(p + 2, "v1") == 0;
	}
	free(first);
	return json && as_ok && g_ok && v_ok;
}

static json_t *partial_of(json_t *obj)
{
	/* s:O*: an item without metadata keeps its place, without it */
	return json_pack("{s:s,s:s,s:O*}", "kind", "PartialObjectMetadata",
	                 "apiVersion", "meta.k8s.io/v1", "metadata",
	                 json_object_get(obj, "metadata"));
}

void tc_resp_partial_metadata(const tc_req *req, tc_resp *resp)
{
	json_t *v = resp->json, *items, *list, *o;
	const char *kind;
	size_t i;

	if (req->accept == NULL || v == NULL || resp->status / 100 != 2 ||
	    !json_is_object(json_object_get(v, "metadata")))
		return;
	kind = json_string_value(json_object_get(v, "kind"));
	if (kind == NULL || strcmp(kind, "Status") == 0 ||
	    strcmp(kind, "Table") == 0)
		return;
	items = json_object_get(v, "items");
	if (json_is_array(items) &&
	    first_accept_is(req->accept, "PartialObjectMetadataList")) {
		list = json_array();
		json_array_foreach(items, i, o)
			json_array_append_new(list, partial_of(o));
		tc_resp_json_new(resp, resp->status,
		                 json_pack("{s:s,s:s,s:O,s:o}", "kind",
		                           "PartialObjectMetadataList",
		                           "apiVersion", "meta.k8s.io/v1",
		                           "metadata",
		                           json_object_get(v, "metadata"),
		                           "items", list));
		resp->content_type = "application/json;as="
		                     "PartialObjectMetadataList;g=meta.k8s.io;"
		                     "v=v1";
	} else if (!items &&
	           first_accept_is(req->accept, "PartialObjectMetadata")) {
		tc_resp_json_new(resp, resp->status, partial_of(v));
		resp->content_type =
		        "application/json;as=PartialObjectMetadata;"
		        "g=meta.k8s.io;v=v1";
	}
}
