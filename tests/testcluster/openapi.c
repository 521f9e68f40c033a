/*
 * A minimal OpenAPI v3 (/openapi/v3 and /openapi/v3/<group version>).
 * kubectl reads it only to learn that the server validates fields itself:
 * it looks for a PATCH operation tagged with the object's
 * x-kubernetes-group-version-kind that takes the fieldValidation query
 * parameter, then sends fieldValidation=Strict instead of validating
 * against schemas. /openapi/v2 stays 404: kubectl then needs no schema.
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

/* "api/v1" or "apis/<group>/<version>". Caller frees. */
static char *gv_path(const tc_type *t)
{
	if (t->group[0] == '\0')
		return tg_aprintf("api/%s", t->version);
	return tg_aprintf("apis/%s/%s", t->group, t->version);
}

/* A hash of the resource names of one group version, so clients that
 * cache documents by hash see CRD changes. Into out[17]. */
static void gv_hash(char out[17], tc_state *st, const char *gvp)
{
	tg_buf b;
	unsigned char d[32];
	char hex[65];
	size_t i;

	tg_buf_init(&b, 1u << 20);
	for (i = 0; i < st->ntypes; i++) {
		char *p = gv_path(st->types[i]);

		if (strcmp(p, gvp) == 0)
			tc_buf_check(tg_buf_printf(
			        &b, "%s/%s/%u;", st->types[i]->resource,
			        st->types[i]->kind, st->types[i]->flags));
		free(p);
	}
	tg_sha256(d, b.data ? b.data : "", b.len);
	tg_hex_encode(hex, d, sizeof(d));
	memcpy(out, hex, 16);
	out[16] = '\0';
	tg_buf_free(&b);
}

static json_t *root_doc(tc_state *st)
{
	json_t *paths = json_object();
	size_t i;

	for (i = 0; i < st->ntypes; i++) {
		char *p = gv_path(st->types[i]), *url;
		char hash[17];

		if (json_object_get(paths, p) == NULL) {
			gv_hash(hash, st, p);
			url = tg_aprintf("/openapi/v3/%s?hash=%s", p, hash);
			json_object_set_new(
			        paths, p,
			        json_pack("{s:s}", "serverRelativeURL", url));
			free(url);
		}
		free(p);
	}
	return json_pack("{s:o}", "paths", paths);
}

static json_t *patch_operation(const tc_type *t)
{
	return json_pack(
	        "{s:{s:s,s:s,s:s},s:[{s:s,s:s,s:{s:s}},{s:s,s:s,s:{s:s}},"
	        "{s:s,s:s,s:{s:s}},{s:s,s:s,s:{s:s}}],s:{s:{s:s}}}",
	        "x-kubernetes-group-version-kind", "group", t->group, "version",
	        t->version, "kind", t->kind, "parameters", "name", "dryRun",
	        "in", "query", "schema", "type", "string", "name",
	        "fieldManager", "in", "query", "schema", "type", "string",
	        "name", "fieldValidation", "in", "query", "schema", "type",
	        "string", "name", "force", "in", "query", "schema", "type",
	        "boolean", "responses", "200", "description", "OK");
}

static json_t *gv_doc(tc_state *st, const char *gvp)
{
	json_t *paths = json_object();
	size_t i;

	for (i = 0; i < st->ntypes; i++) {
		const tc_type *t = st->types[i];
		char *p = gv_path(t), *item;

		if (strcmp(p, gvp) != 0) {
			free(p);
			continue;
		}
		item = tg_aprintf("/%s%s/%s/{name}", p,
		                  (t->flags & TC_T_NAMESPACED)
		                          ? "/namespaces/{namespace}"
		                          : "",
		                  t->resource);
		json_object_set_new(
		        paths, item,
		        json_pack("{s:o}", "patch", patch_operation(t)));
		free(item);
		free(p);
	}
	if (json_object_size(paths) == 0) {
		json_decref(paths);
		return NULL;
	}
	return json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:{}}}", "openapi", "3.0.0",
	                 "info", "title", "Kubernetes", "version",
	                 "v1.32.0-testcluster", "paths", paths, "components",
	                 "schemas");
}

bool tc_openapi_handle(tc_state *st, const tc_req *req, tc_resp *resp)
{
	json_t *doc;

	if (strcmp(req->path, "/openapi/v3") == 0 ||
	    strcmp(req->path, "/openapi/v3/") == 0) {
		tc_resp_json_new(resp, 200, root_doc(st));
		return true;
	}
	if (!tg_str_has_prefix(req->path, "/openapi/v3/"))
		return false;
	doc = gv_doc(st, req->path + strlen("/openapi/v3/"));
	if (doc == NULL) {
		tc_status_error(resp, 404, "NotFound", NULL,
		                "the server could not find the requested "
		                "resource");
		return true;
	}
	tc_resp_json_new(resp, 200, doc);
	return true;
}
