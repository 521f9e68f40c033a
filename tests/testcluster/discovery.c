/*
 * Discovery: /version, health endpoints, /api, /apis and the resource
 * lists of each group version, in the unaggregated format. Clients that
 * ask for aggregated discovery (apidiscovery.k8s.io/v2) get the plain
 * documents with Content-Type application/json and fall back, as they do
 * with kube-apiserver before 1.26.
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

/* Verbs of every resource; namespaces have no deletecollection. */
static json_t *type_verbs(const tc_type *t)
{
	if (strcmp(t->resource, "namespaces") == 0)
		return json_pack("[s,s,s,s,s,s,s]", "create", "delete", "get",
		                 "list", "patch", "update", "watch");
	return json_pack("[s,s,s,s,s,s,s,s]", "create", "delete",
	                 "deletecollection", "get", "list", "patch", "update",
	                 "watch");
}

static json_t *split_commas(const char *s)
{
	json_t *a = json_array();
	const char *p = s, *c;

	while (*p) {
		c = strchr(p, ',');
		if (c == NULL)
			c = p + strlen(p);
		json_array_append_new(a, json_stringn(p, (size_t)(c - p)));
		p = *c ? c + 1 : c;
	}
	return a;
}

static json_t *resource_entry(const tc_type *t)
{
	json_t *r = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", t->resource,
	                      "singularName", t->singular, "namespaced",
	                      (t->flags & TC_T_NAMESPACED) != 0, "kind",
	                      t->kind, "verbs", type_verbs(t));

	if (t->short_names[0])
		json_object_set_new(r, "shortNames",
		                    split_commas(t->short_names));
	if (t->flags & TC_T_ALL)
		json_object_set_new(r, "categories", json_pack("[s]", "all"));
	return r;
}

static json_t *status_entry(const tc_type *t)
{
	char *name = tg_aprintf("%s/status", t->resource);
	json_t *r = json_pack("{s:s,s:s,s:b,s:s,s:[s,s,s]}", "name", name,
	                      "singularName", "", "namespaced",
	                      (t->flags & TC_T_NAMESPACED) != 0, "kind",
	                      t->kind, "verbs", "get", "patch", "update");

	free(name);
	return r;
}

static json_t *
resource_list(tc_state *st, const char *group, const char *version)
{
	json_t *list = json_array();
	char *gv;
	json_t *doc;
	size_t i;

	for (i = 0; i < st->ntypes; i++) {
		const tc_type *t = st->types[i];

		if (strcmp(t->group, group) != 0 ||
		    strcmp(t->version, version) != 0)
			continue;
		json_array_append_new(list, resource_entry(t));
		if (t->flags & TC_T_STATUS)
			json_array_append_new(list, status_entry(t));
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return NULL;
	}
	gv = group[0] ? tg_aprintf("%s/%s", group, version)
	              : tg_strdup(version);
	doc = json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList",
	                "apiVersion", "v1", "groupVersion", gv, "resources",
	                list);
	free(gv);
	return doc;
}

static json_t *group_entry(const char *group, const char *version)
{
	char *gv = tg_aprintf("%s/%s", group, version);
	json_t *g = json_pack("{s:s,s:[{s:s,s:s}],s:{s:s,s:s}}", "name", group,
	                      "versions", "groupVersion", gv, "version",
	                      version, "preferredVersion", "groupVersion", gv,
	                      "version", version);

	free(gv);
	return g;
}

/* APIGroupList of every non-core group, in registration order. */
static json_t *group_list(tc_state *st)
{
	json_t *groups = json_array();
	json_t *seen = json_object();
	size_t i;

	for (i = 0; i < st->ntypes; i++) {
		const tc_type *t = st->types[i];

		if (t->group[0] == '\0' || json_object_get(seen, t->group))
			continue;
		json_object_set_new(seen, t->group, json_true());
		json_array_append_new(groups,
		                      group_entry(t->group, t->version));
	}
	json_decref(seen);
	return json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList", "apiVersion",
	                 "v1", "groups", groups);
}

static json_t *one_group(tc_state *st, const char *group)
{
	size_t i;
	json_t *g;

	for (i = 0; i < st->ntypes; i++) {
		if (strcmp(st->types[i]->group, group) != 0)
			continue;
		g = group_entry(group, st->types[i]->version);
		json_object_set_new(g, "kind", json_string("APIGroup"));
		json_object_set_new(g, "apiVersion", json_string("v1"));
		return g;
	}
	return NULL;
}

static json_t *version_doc(void)
{
	return json_pack(
	        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1",
	        "minor", "32", "gitVersion", "v1.32.0-testcluster", "gitCommit",
	        "testcluster", "gitTreeState", "clean", "buildDate",
	        "2026-01-01T00:00:00Z", "goVersion", "go1.23", "compiler", "gc",
	        "platform", "linux/amd64", "emulationMajor", "1");
}

static void text_ok(tc_resp *resp)
{
	resp->status = 200;
	resp->body = tg_strdup("ok");
	resp->content_type = "text/plain; charset=utf-8";
}

/* Paths under /apis/: "<group>" or "<group>/<version>". */
static json_t *apis_path(tc_state *st, const char *rest)
{
	const char *slash = strchr(rest, '/');
	char *group;
	json_t *doc;

	if (slash == NULL)
		return one_group(st, rest);
	if (strchr(slash + 1, '/') != NULL || slash[1] == '\0')
		return NULL;
	group = tg_strndup(rest, (size_t)(slash - rest));
	doc = resource_list(st, group, slash + 1);
	free(group);
	return doc;
}

bool tc_discovery_handle(tc_state *st, const tc_req *req, tc_resp *resp)
{
	const char *p = req->path;
	json_t *doc = NULL;

	if (strcmp(p, "/healthz") == 0 || strcmp(p, "/readyz") == 0 ||
	    strcmp(p, "/livez") == 0) {
		text_ok(resp);
		return true;
	}
	if (strcmp(p, "/version") == 0)
		doc = version_doc();
	else if (strcmp(p, "/api") == 0 || strcmp(p, "/api/") == 0)
		doc = json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind",
		                "APIVersions", "versions", "v1",
		                "serverAddressByClientCIDRs", "clientCIDR",
		                "0.0.0.0/0", "serverAddress", "127.0.0.1");
	else if (strcmp(p, "/api/v1") == 0)
		doc = resource_list(st, "", "v1");
	else if (strcmp(p, "/apis") == 0 || strcmp(p, "/apis/") == 0)
		doc = group_list(st);
	else if (tg_str_has_prefix(p, "/apis/") && strchr(p + 6, '/') == NULL)
		doc = apis_path(st, p + 6);
	else if (tg_str_has_prefix(p, "/apis/") &&
	         strchr(strchr(p + 6, '/') + 1, '/') == NULL)
		doc = apis_path(st, p + 6);
	else
		return false;
	if (doc == NULL) {
		tc_status_error(resp, 404, "NotFound", NULL,
		                "the server could not find the requested "
		                "resource");
		return true;
	}
	tc_resp_json_new(resp, 200, doc);
	return true;
}
