/*
 * Discovery: the resource types the API server offers, every API group
 * read in parallel. See reconciler/include/tollgate/kube.h.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/kube.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

#include "kube_int.h"

/* Discovery --------------------------------------------------------------- */

typedef struct disco {
	char *group_version;
	int result;
	char *message;
} disco;

static void add_resources(tg_kube *k, const char *group_version, json_t *list)
{
	const char *slash = strchr(group_version, '/');
	json_t *arr = json_object_get(list, "resources"), *r;
	size_t i;

	json_array_foreach(arr, i, r) {
		const char *name =
		        json_string_value(json_object_get(r, "name"));
		const char *kind =
		        json_string_value(json_object_get(r, "kind"));
		resource *e;

		/* Subresources ("deployments/status") are not types. */
		if (!name || !kind || strchr(name, '/') ||
		    k->nres >= TG_KUBE_MAX_RESOURCES)
			continue;
		k->res = tg_realloc(k->res, (k->nres + 1) * sizeof(*k->res));
		e = &k->res[k->nres++];
		e->group = slash ? tg_strndup(group_version,
		                              (size_t)(slash - group_version))
		                 : tg_strdup("");
		e->version = tg_strdup(slash ? slash + 1 : group_version);
		e->kind = tg_strdup(kind);
		e->name = tg_strdup(name);
		e->pub.group = e->group;
		e->pub.version = e->version;
		e->pub.kind = e->kind;
		e->pub.name = e->name;
		e->pub.namespaced =
		        json_is_true(json_object_get(r, "namespaced"));
	}
}

static void
on_group_version(tg_kube *k, int result, tg_http_response *resp, void *ctx)
{
	disco *d = ctx;
	json_t *body = NULL;

	if (result < 0) {
		d->result = result;
		d->message = tg_strdup(tg_error_last());
	} else if (resp->status / 100 != 2) {
		d->result = kube_status_error(&d->message, resp);
	} else if ((d->result = kube_parse_body(&body, resp)) < 0) {
		d->message = tg_strdup(tg_error_last());
	} else {
		add_resources(k, d->group_version, body);
	}
	json_decref(body);
	tg_http_response_free(resp);
}

/* GET url synchronously as JSON. */
static int get_json(json_t **out, tg_kube *k, const char *path)
{
	tg_http_response *resp = NULL;
	tg_http_request req = { 0 };
	const char *headers[2] = { "Accept: application/json", k->auth };
	char *url = tg_aprintf("%s%s", k->server, path), *msg = NULL;
	int error;

	*out = NULL;
	req.url = url;
	req.headers = headers;
	req.headers_count = k->auth ? 2 : 1;
	req.max_bytes = TG_MAX_KUBE_RESPONSE_BYTES;
	if ((error = tg_http_request_sync(&resp, k->http, &req)) < 0)
		goto out;
	if (resp->status / 100 != 2) {
		error = kube_status_error(&msg, resp);
		error = tg_error_set(error, "%s: GET %s: %s", k->server, path,
		                     msg);
		goto out;
	}
	error = kube_parse_body(out, resp);
out:
	free(msg);
	free(url);
	tg_http_response_free(resp);
	return error;
}

/* The group versions under /apis: every served version of every group. */
static int list_group_versions(json_t **out, tg_kube *k)
{
	json_t *apis = NULL, *groups, *g, *v, *list = json_array();
	size_t i, j;
	int error;

	json_array_append_new(list, json_string("v1"));
	if ((error = get_json(&apis, k, "/apis")) < 0) {
		json_decref(list);
		return error;
	}
	groups = json_object_get(apis, "groups");
	json_array_foreach(groups, i, g) {
		json_array_foreach(json_object_get(g, "versions"), j, v) {
			json_t *gv = json_object_get(v, "groupVersion");
			if (json_is_string(gv))
				json_array_append(list, gv);
		}
	}
	json_decref(apis);
	*out = list;
	return 0;
}

/*
 * Queue the GET of each group version, its answer into d[i]. Stops at the
 * first request refused (its error and detail are returned); those queued
 * before it stay queued.
 */
static int submit_group_versions(tg_kube *k, disco *d, const json_t *gvs)
{
	const json_t *gv;
	size_t i;
	int error;

	json_array_foreach(gvs, i, gv) {
		const char *s = json_string_value(gv);
		char *url = !strcmp(s, "v1")
		                    ? tg_aprintf("%s/api/v1", k->server)
		                    : tg_aprintf("%s/apis/%s", k->server, s);
		d[i].group_version = tg_strdup(s);
		error = kube_submit(k, "GET", url, NULL, NULL, false,
		                    on_group_version, &d[i]);
		free(url);
		if (error < 0)
			return error;
	}
	return 0;
}

/*
 * Run the queued requests to completion: their callbacks write into d,
 * so none may outlive it, even when a submit failed partway (then that
 * failure, with its detail, is the result).
 */
static int run_submitted(tg_kube *k, int submit_error)
{
	char *detail;
	int error;

	if (submit_error >= 0)
		return tg_http_run(k->http);
	detail = tg_strdup(tg_error_last());
	/* The submit failure is the result; a failure of this run only
	 * concerns requests whose answers are thrown away. */
	tg_discard(tg_http_run(k->http));
	error = tg_error_set(submit_error, "%s", detail);
	free(detail);
	return error;
}

int tg_kube_discover(tg_kube *k)
{
	json_t *gvs = NULL;
	disco *d = NULL;
	size_t i, n;
	int error;

	kube_resources_clear(k);
	if ((error = list_group_versions(&gvs, k)) < 0)
		return error;
	n = json_array_size(gvs);
	d = tg_calloc(n, sizeof(*d));
	error = submit_group_versions(k, d, gvs);
	if ((error = run_submitted(k, error)) < 0)
		goto out;
	for (i = 0; i < n && !error; i++) {
		/* A group that fails discovery (an aggregated API that is
		 * down) does not stop the others, as in kubectl; the core
		 * group must answer. */
		if (d[i].result < 0 && !strcmp(d[i].group_version, "v1"))
			error = tg_error_set(d[i].result,
			                     "%s: discovery of "
			                     "/api/v1 failed: %s",
			                     k->server, d[i].message);
	}
	if (!error)
		k->discovered = true;
out:
	for (i = 0; i < n; i++) {
		free(d[i].group_version);
		free(d[i].message);
	}
	free(d);
	json_decref(gvs);
	return error;
}

bool tg_kube_discovered(const tg_kube *k)
{
	return k->discovered;
}

int tg_kube_resource_lookup(const tg_kube_resource **out,
                            tg_kube *k,
                            const char *api_version,
                            const char *kind)
{
	const char *slash = strchr(api_version, '/');
	size_t glen = slash ? (size_t)(slash - api_version) : 0;
	const char *version = slash ? slash + 1 : api_version;
	size_t i;
	int error;

	*out = NULL;
	if (!k->discovered && (error = tg_kube_discover(k)) < 0)
		return error;
	for (i = 0; i < k->nres; i++) {
		resource *r = &k->res[i];
		if (strlen(r->group) == glen &&
		    !strncmp(r->group, api_version, glen) &&
		    !strcmp(r->version, version) && !strcmp(r->kind, kind)) {
			*out = &r->pub;
			return 0;
		}
	}
	return tg_error_set(TG_ENOTFOUND,
	                    "%s: the server does not serve kind "
	                    "%s in %s (is its CustomResourceDefinition "
	                    "applied?)",
	                    k->server, kind, api_version);
}
