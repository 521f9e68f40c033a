/*
 * Kubernetes API client over tg_http: see reconciler/include/tollgate/kube.h.
 * Conventions followed: API paths /api/v1 and /apis/<group>/<version>,
 * server-side apply as PATCH with application/apply-patch+yaml (a JSON
 * body is valid YAML), errors as metav1.Status.
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

typedef struct resource {
	tg_kube_resource pub;
	char *group, *version, *kind, *name;
} resource;

struct tg_kube {
	tg_http *http;
	char *server;
	char *auth; /* "Authorization: ..." header, secret */
	char *manager;
	resource *res;
	size_t nres;
	bool discovered;
	bool running; /* a batch runs: a nested one must not start */
	unsigned list_limit;
	size_t max_batch;
};

static void resources_clear(tg_kube *k)
{
	size_t i;

	for (i = 0; i < k->nres; i++) {
		free(k->res[i].group);
		free(k->res[i].version);
		free(k->res[i].kind);
		free(k->res[i].name);
	}
	free(k->res);
	k->res = NULL;
	k->nres = 0;
	k->discovered = false;
}

void tg_kube_free(tg_kube *k)
{
	if (!k)
		return;
	resources_clear(k);
	tg_http_free(k->http);
	free(k->server);
	if (k->auth) {
		OPENSSL_cleanse(k->auth, strlen(k->auth));
		free(k->auth);
	}
	free(k->manager);
	free(k);
}

const char *tg_kube_server(const tg_kube *k)
{
	return k->server;
}

/* "host:port" of an http:// server URL, for the insecure-host list. */
static char *server_hostport(const char *server)
{
	const char *p = strstr(server, "://");
	const char *end;

	p = p ? p + 3 : server;
	end = strchr(p, '/');
	return end ? tg_strndup(p, (size_t)(end - p)) : tg_strdup(p);
}

int tg_kube_new(tg_kube **out,
                const tg_kube_target *t,
                const tg_kube_options *opts)
{
	tg_http_options ho = { 0 };
	tg_kube *k = tg_calloc(1, sizeof(*k));
	char *hostport = NULL;
	const char *insecure[1];
	int error;

	*out = NULL;
	k->server = tg_strdup(t->server);
	k->manager = tg_strdup(opts && opts->field_manager ? opts->field_manager
	                                                   : "tollgate");
	if (t->token)
		k->auth = tg_aprintf("Authorization: Bearer %s", t->token);
	else if (t->basic_auth) {
		char *b64 =
		        tg_base64_encode((const unsigned char *)t->basic_auth,
		                         strlen(t->basic_auth));
		k->auth = tg_aprintf("Authorization: Basic %s", b64);
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	k->list_limit = opts && opts->list_limit ? opts->list_limit
	                                         : TG_KUBE_LIST_LIMIT;
	k->max_batch = opts && opts->max_batch ? opts->max_batch
	                                       : TG_KUBE_MAX_BATCH_OPS;
	ho.parallel = opts ? opts->parallel : 0;
	ho.timeout_s = opts ? opts->timeout_s : 0;
	ho.ca_pem = t->ca_pem;
	ho.ca_pem_len = t->ca_pem_len;
	ho.client_cert_pem = t->client_cert_pem;
	ho.client_cert_pem_len = t->client_cert_pem_len;
	ho.client_key_pem = t->client_key_pem;
	ho.client_key_pem_len = t->client_key_pem_len;
	ho.insecure_skip_verify = t->insecure_skip_tls_verify;
	if (tg_str_has_prefix(t->server, "http://")) {
		hostport = server_hostport(t->server);
		insecure[0] = hostport;
		ho.insecure_hosts = insecure;
		ho.insecure_hosts_count = 1;
	}
	error = tg_http_new(&k->http, &ho);
	free(hostport);
	if (error < 0) {
		tg_kube_free(k);
		return error;
	}
	*out = k;
	return 0;
}

/* Requests ---------------------------------------------------------------- */

typedef void (*reply_fn)(tg_kube *k,
                         int result,
                         tg_http_response *resp,
                         void *ctx);

typedef struct pending {
	tg_kube *k;
	reply_fn fn;
	void *ctx;
} pending;

static void
on_done(tg_http *http, int result, tg_http_response *resp, void *ctx)
{
	pending *p = ctx;

	(void)http;
	p->fn(p->k, result, resp, p->ctx);
	free(p);
}

/* Submit method url with an optional JSON body of content_type. */
static int submit(tg_kube *k,
                  const char *method,
                  const char *url,
                  const char *content_type,
                  const char *body,
                  reply_fn fn,
                  void *ctx)
{
	const char *headers[3];
	char *ct = NULL;
	size_t nh = 0;
	tg_http_request req = { 0 };
	pending *p = tg_malloc(sizeof(*p));
	int error;

	headers[nh++] = "Accept: application/json";
	if (k->auth)
		headers[nh++] = k->auth;
	if (content_type) {
		ct = tg_aprintf("Content-Type: %s", content_type);
		headers[nh++] = ct;
	}
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.headers_count = nh;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.max_bytes = TG_MAX_KUBE_RESPONSE_BYTES;
	p->k = k;
	p->fn = fn;
	p->ctx = ctx;
	error = tg_http_submit(k->http, &req, on_done, p);
	free(ct);
	if (error < 0)
		free(p);
	return error;
}

/*
 * The message of a failed response: the Status message when the server
 * sent one, else the HTTP status and a piece of the body. 401/403 become
 * TG_EAUTH, 404 TG_ENOTFOUND, 409 TG_ECONFLICT, others TG_ERROR.
 */
static int status_error(char **msg_out, const tg_http_response *resp)
{
	json_t *st = json_loadb(resp->body, resp->body_len, 0, NULL);
	const char *m = json_string_value(json_object_get(st, "message"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	int code;

	if (m && reason && *reason)
		*msg_out = tg_aprintf("%ld %s: %s", resp->status, reason, m);
	else if (m)
		*msg_out = tg_aprintf("%ld: %s", resp->status, m);
	else
		*msg_out = tg_aprintf("HTTP %ld: %.200s", resp->status,
		                      resp->body);
	json_decref(st);
	switch (resp->status) {
	case 401:
	case 403:
		code = TG_EAUTH;
		break;
	case 404:
		code = TG_ENOTFOUND;
		break;
	case 409:
		code = TG_ECONFLICT;
		break;
	default:
		code = TG_ERROR;
	}
	return code;
}

/* Parse a 2xx JSON body; TG_EPARSE naming url when it is not JSON. */
static int parse_body(json_t **out, const tg_http_response *resp)
{
	json_error_t jerr;

	*out = json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES,
	                  &jerr);
	if (!*out)
		return tg_error_set(TG_EPARSE,
		                    "%s: response is not JSON: %s "
		                    "(line %d)",
		                    resp->url, jerr.text, jerr.line);
	return 0;
}

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
		d->result = status_error(&d->message, resp);
	} else if ((d->result = parse_body(&body, resp)) < 0) {
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
		error = status_error(&msg, resp);
		tg_error_set(error, "%s: GET %s: %s", k->server, path, msg);
		goto out;
	}
	error = parse_body(out, resp);
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

int tg_kube_discover(tg_kube *k)
{
	json_t *gvs = NULL, *gv;
	disco *d = NULL;
	size_t i, n;
	int error;

	resources_clear(k);
	if ((error = list_group_versions(&gvs, k)) < 0)
		return error;
	n = json_array_size(gvs);
	d = tg_calloc(n, sizeof(*d));
	json_array_foreach(gvs, i, gv) {
		const char *s = json_string_value(gv);
		char *url = !strcmp(s, "v1")
		                    ? tg_aprintf("%s/api/v1", k->server)
		                    : tg_aprintf("%s/apis/%s", k->server, s);
		d[i].group_version = tg_strdup(s);
		error = submit(k, "GET", url, NULL, NULL, on_group_version,
		               &d[i]);
		free(url);
		if (error < 0)
			goto out;
	}
	if ((error = tg_http_run(k->http)) < 0)
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

/* Operations -------------------------------------------------------------- */

/* Percent-encode a path segment: names come from Git, and a '/' or '?'
 * in one must not change which URL is called. */
static char *escape_segment(const char *s)
{
	tg_buf b;
	const char *p;
	int error = 0;

	/* Three bytes per input byte at most: the buffer cannot fill. */
	tg_buf_init(&b, 4 * strlen(s) + 1);
	for (p = s; *p && error == 0; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == ':')
			error = tg_buf_append(&b, p, 1);
		else
			error = tg_buf_printf(&b, "%%%02X", c);
	}
	if (error == 0)
		error = tg_buf_puts(&b, "");
	if (error < 0) {
		tg_buf_free(&b);
		return NULL;
	}
	return tg_buf_detach(&b, NULL);
}

/* The collection URL of resource r in namespace ns (ignored for
 * cluster-scoped kinds; NULL for all namespaces). */
static char *
collection_url(tg_kube *k, const tg_kube_resource *r, const char *ns)
{
	char *prefix = r->group[0]
	                       ? tg_aprintf("%s/apis/%s/%s", k->server,
	                                    r->group, r->version)
	                       : tg_aprintf("%s/api/%s", k->server, r->version);
	char *url, *ens;

	if (!r->namespaced || !ns) {
		url = tg_aprintf("%s/%s", prefix, r->name);
	} else {
		ens = escape_segment(ns);
		url = tg_aprintf("%s/namespaces/%s/%s", prefix, ens, r->name);
		free(ens);
	}
	free(prefix);
	return url;
}

/* A readable identity for messages: "apps/v1 Deployment shop/web". */
static char *describe(const char *api_version,
                      const char *kind,
                      const char *ns,
                      const char *name)
{
	if (ns && *ns)
		return tg_aprintf("%s %s %s/%s", api_version, kind, ns, name);
	return tg_aprintf("%s %s %s", api_version, kind, name);
}

typedef struct op_ctx {
	tg_kube_op *op;
	char *what; /* describe() of the object */
	bool done;  /* its reply (or failure) came back */
} op_ctx;

static void on_op(tg_kube *k, int result, tg_http_response *resp, void *ctx)
{
	op_ctx *c = ctx;
	tg_kube_op *op = c->op;
	char *msg = NULL;

	(void)k;
	c->done = true;
	op->result = 0;
	op->status = resp->status;
	if (result < 0) {
		op->result = result;
		op->message = tg_aprintf("%s: %s", c->what, tg_error_last());
	} else if (resp->status / 100 != 2) {
		op->result = status_error(&msg, resp);
		op->message = tg_aprintf("%s: %s", c->what, msg);
	} else if (op->verb != TG_KUBE_DELETE &&
	           !(op->flags & TG_KUBE_DISCARD)) {
		if ((op->result = parse_body(&op->live, resp)) < 0)
			op->message =
			        tg_aprintf("%s: %s", c->what, tg_error_last());
	}
	free(msg);
	tg_http_response_free(resp);
}

/* Read the identity of obj; message in op on failure. */
static int op_identity(tg_kube_op *op,
                       const char **av,
                       const char **kind,
                       const char **ns,
                       const char **name)
{
	json_t *meta = json_object_get(op->obj, "metadata");

	*av = json_string_value(json_object_get(op->obj, "apiVersion"));
	*kind = json_string_value(json_object_get(op->obj, "kind"));
	*name = json_string_value(json_object_get(meta, "name"));
	*ns = json_string_value(json_object_get(meta, "namespace"));
	if (!*av || !*kind || !*name || !**name) {
		op->result = TG_EINVALID;
		op->message = tg_strdup("object without apiVersion, kind or "
		                        "metadata.name");
		return TG_EINVALID;
	}
	return 0;
}

/* The query string of op's verb into q, its method into *method. */
static int
op_query(tg_buf *q, const char **method, tg_kube *k, const tg_kube_op *op)
{
	if (op->verb == TG_KUBE_CREATE || op->verb == TG_KUBE_UPDATE) {
		*method = op->verb == TG_KUBE_CREATE ? "POST" : "PUT";
		return tg_buf_printf(q, "?fieldManager=%s", k->manager);
	}
	if (op->verb == TG_KUBE_APPLY) {
		*method = "PATCH";
		return tg_buf_printf(
		        q, "?fieldManager=%s%s", k->manager,
		        op->flags & TG_KUBE_NO_FORCE ? "" : "&force=true");
	}
	if (op->verb == TG_KUBE_DELETE) {
		*method = "DELETE";
		return tg_buf_puts(q, "?propagationPolicy=Background");
	}
	*method = "GET";
	return 0;
}

/* The URL of op into q from the collection URL base and the escaped name
 * (NULL when it could not be escaped). 0 or a negative code. */
static int op_url(tg_buf *q,
                  const char **method,
                  tg_kube *k,
                  const tg_kube_op *op,
                  const char *base,
                  const char *ename)
{
	int error;

	if (!ename)
		return tg_error_set(TG_EINVALID, "cannot escape the name");
	if (op->verb == TG_KUBE_CREATE)
		error = tg_buf_puts(q, base);
	else
		error = tg_buf_printf(q, "%s/%s", base, ename);
	if (error == 0)
		error = op_query(q, method, k, op);
	if (error == 0 && (op->flags & TG_KUBE_DRY_RUN) &&
	    op->verb != TG_KUBE_GET)
		error = tg_buf_puts(q, "&dryRun=All");
	return error;
}

/* The URL and method for op; 0, or a negative code set in op. */
static int op_request(char **url_out,
                      const char **method,
                      tg_kube *k,
                      tg_kube_op *op,
                      char **what)
{
	const char *av, *kind, *ns, *name;
	const tg_kube_resource *r;
	char *base, *ename;
	tg_buf q;
	int error;

	*url_out = NULL;
	if (op_identity(op, &av, &kind, &ns, &name) < 0)
		return op->result;
	*what = describe(av, kind, ns, name);
	if ((error = tg_kube_resource_lookup(&r, k, av, kind)) < 0) {
		op->result = error;
		op->message = tg_aprintf("%s: %s", *what, tg_error_last());
		return error;
	}
	if (r->namespaced && (!ns || !*ns)) {
		op->result = TG_EINVALID;
		op->message = tg_aprintf("%s: %s is namespaced but the object "
		                         "has no metadata.namespace",
		                         *what, kind);
		return op->result;
	}
	base = collection_url(k, r, ns);
	ename = escape_segment(name);
	tg_buf_init(&q, TG_KUBE_MAX_URL_BYTES);
	if ((error = op_url(&q, method, k, op, base, ename)) < 0) {
		op->result = error;
		op->message = tg_aprintf("%s: %s", *what, tg_error_last());
		tg_buf_free(&q);
	} else {
		*url_out = tg_buf_detach(&q, NULL);
	}
	free(base);
	free(ename);
	return error;
}

void tg_kube_op_clear(tg_kube_op *op)
{
	free(op->message);
	json_decref(op->live);
	op->message = NULL;
	op->live = NULL;
	op->result = 0;
	op->status = 0;
}

/*
 * Mark op as not run: it reads as failed, never as passed, with why in its
 * message (a batch that never ran, or a request that never came back).
 */
static void op_not_run(tg_kube_op *op, const char *what, const char *why)
{
	const char *av, *kind, *ns, *name;
	char *desc = NULL;

	op->result = TG_ERROR;
	if (!what && op_identity(op, &av, &kind, &ns, &name) == 0)
		what = desc = describe(av, kind, ns, name);
	free(op->message);
	op->message =
	        tg_aprintf("%s: not sent: %s", what ? what : "object", why);
	free(desc);
}

/* Start every op of the batch: the request, or the op's failure. */
static void
submit_ops(tg_kube *k, tg_kube_op *ops, op_ctx *ctx, char **bodies, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *method = NULL;
		char *url = NULL;

		ctx[i].op = &ops[i];
		if (op_request(&url, &method, k, &ops[i], &ctx[i].what) < 0) {
			ctx[i].done = true; /* failed, with its message */
			continue;
		}
		if (ops[i].verb == TG_KUBE_APPLY ||
		    ops[i].verb == TG_KUBE_CREATE ||
		    ops[i].verb == TG_KUBE_UPDATE)
			/* Reals with the fewest digits that read back the
			 * same (0.1, not 0.10000000000000001): the server
			 * parses quantities from the text. */
			bodies[i] = json_dumps(
			        ops[i].obj,
			        JSON_COMPACT |
			                JSON_REAL_PRECISION(tg_json_real_digits(
			                        ops[i].obj)));
		if (submit(k, method, url,
		           !bodies[i] ? NULL
		           : ops[i].verb == TG_KUBE_APPLY
		                   ? "application/apply-patch+yaml"
		                   : "application/json",
		           bodies[i], on_op, &ctx[i]) < 0) {
			ops[i].result = tg_error_code();
			ops[i].message = tg_aprintf("%s: %s", ctx[i].what,
			                            tg_error_last());
			ctx[i].done = true;
		}
		free(url);
	}
}

/* Refuse a batch that cannot run at all: nested in a running one, or
 * over the size limit. 0 or the error, every op then marked not run. */
static int batch_refused(tg_kube *k, tg_kube_op *ops, size_t n)
{
	size_t i;
	int error = 0;

	if (k->running)
		error = tg_error_set(TG_ERROR, "a batch was started while "
		                               "another one runs");
	else if (n > k->max_batch)
		error = tg_error_set(TG_ETOOBIG,
		                     "a batch of %zu operations is over the "
		                     "limit of %zu",
		                     n, k->max_batch);
	for (i = 0; error < 0 && i < n; i++)
		op_not_run(&ops[i], NULL, tg_error_last());
	return error;
}

int tg_kube_run(tg_kube *k, tg_kube_op *ops, size_t n)
{
	op_ctx *ctx;
	char **bodies;
	size_t i;
	int error = 0;

	/* Not run reads as failed until the reply says otherwise. */
	for (i = 0; i < n; i++) {
		ops[i].result = TG_ERROR;
		ops[i].status = 0;
		ops[i].message = NULL;
		ops[i].live = NULL;
	}
	if ((error = batch_refused(k, ops, n)) < 0)
		return error;
	ctx = tg_calloc(n ? n : 1, sizeof(*ctx));
	bodies = tg_calloc(n ? n : 1, sizeof(*bodies));
	submit_ops(k, ops, ctx, bodies, n);
	k->running = true;
	if (tg_http_run(k->http) < 0)
		error = tg_error_code();
	k->running = false;
	for (i = 0; i < n; i++) {
		if (!ctx[i].done)
			op_not_run(&ops[i], ctx[i].what,
			           "the batch did not run");
		free(ctx[i].what);
		free(bodies[i]);
	}
	free(ctx);
	free(bodies);
	return error;
}

/* Run one op and turn its result into the return code and error detail. */
static int run_one(tg_kube *k, tg_kube_op *op)
{
	int error;

	if ((error = tg_kube_run(k, op, 1)) < 0)
		return error;
	if (op->result < 0)
		tg_error_set(op->result, "%s", op->message);
	return op->result;
}

int tg_kube_apply(json_t **live_out, tg_kube *k, json_t *obj, unsigned flags)
{
	tg_kube_op op = { .verb = TG_KUBE_APPLY, .obj = obj, .flags = flags };
	int error = run_one(k, &op);

	if (live_out) {
		*live_out = op.live;
		op.live = NULL;
	}
	tg_kube_op_clear(&op);
	return error;
}

int tg_kube_create(json_t **live_out, tg_kube *k, json_t *obj)
{
	tg_kube_op op = { .verb = TG_KUBE_CREATE, .obj = obj };
	int error = run_one(k, &op);

	if (live_out) {
		*live_out = op.live;
		op.live = NULL;
	}
	tg_kube_op_clear(&op);
	return error;
}

int tg_kube_update(json_t **live_out, tg_kube *k, json_t *obj)
{
	tg_kube_op op = { .verb = TG_KUBE_UPDATE, .obj = obj };
	int error = run_one(k, &op);

	if (live_out) {
		*live_out = op.live;
		op.live = NULL;
	}
	tg_kube_op_clear(&op);
	return error;
}

/* A stub object carrying only the identity, for GET and DELETE. */
static json_t *identity(const char *api_version,
                        const char *kind,
                        const char *ns,
                        const char *name)
{
	json_t *meta = json_pack("{s:s}", "name", name);

	if (ns && *ns)
		json_object_set_new(meta, "namespace", json_string(ns));
	return json_pack("{s:s,s:s,s:o}", "apiVersion", api_version, "kind",
	                 kind, "metadata", meta);
}

int tg_kube_get(json_t **live_out,
                tg_kube *k,
                const char *api_version,
                const char *kind,
                const char *ns,
                const char *name)
{
	json_t *id = identity(api_version, kind, ns, name);
	tg_kube_op op = { .verb = TG_KUBE_GET, .obj = id };
	int error = run_one(k, &op);

	*live_out = op.live;
	op.live = NULL;
	tg_kube_op_clear(&op);
	json_decref(id);
	return error;
}

int tg_kube_delete(tg_kube *k,
                   const char *api_version,
                   const char *kind,
                   const char *ns,
                   const char *name,
                   unsigned flags)
{
	json_t *id = identity(api_version, kind, ns, name);
	tg_kube_op op = { .verb = TG_KUBE_DELETE, .obj = id, .flags = flags };
	int error = run_one(k, &op);

	tg_kube_op_clear(&op);
	json_decref(id);
	return error;
}

/* Append the page's items to items, with apiVersion and kind set. */
static void take_items(json_t *items,
                       json_t *page,
                       const char *api_version,
                       const char *kind)
{
	json_t *arr = json_object_get(page, "items"), *item;
	size_t i;

	json_array_foreach(arr, i, item) {
		if (!json_is_object(item))
			continue;
		json_object_set_new(item, "apiVersion",
		                    json_string(api_version));
		json_object_set_new(item, "kind", json_string(kind));
		json_array_append(items, item);
	}
}

/* One list of tg_kube_list_all(): its pages, one after the other. */
typedef struct list_run {
	tg_kube_list_req *req;
	char *base;     /* collection URL */
	char *selector; /* escaped label selector, or NULL */
	unsigned pages;
} list_run;

static void
on_list_page(tg_kube *k, int result, tg_http_response *resp, void *ctx);

static void list_fail(list_run *lr, int code, const char *msg)
{
	lr->req->result = code;
	lr->req->message = tg_aprintf("listing %s %s: %s", lr->req->api_version,
	                              lr->req->kind, msg);
}

/* Submit the page after the continue token cont (NULL: the first). */
static void list_next(tg_kube *k, list_run *lr, const char *cont)
{
	char *econt = cont ? curl_easy_escape(NULL, cont, 0) : NULL;
	char *url = tg_aprintf("%s?limit=%u%s%s%s%s", lr->base, k->list_limit,
	                       lr->selector ? "&labelSelector=" : "",
	                       lr->selector ? lr->selector : "",
	                       econt ? "&continue=" : "", econt ? econt : "");

	if (submit(k, "GET", url, NULL, NULL, on_list_page, lr) < 0)
		list_fail(lr, tg_error_code(), tg_error_last());
	free(url);
	curl_free(econt);
}

static void
on_list_page(tg_kube *k, int result, tg_http_response *resp, void *ctx)
{
	list_run *lr = ctx;
	json_t *page = NULL;
	const char *next;
	char *msg = NULL;

	if (result < 0) {
		list_fail(lr, result, tg_error_last());
	} else if (resp->status / 100 != 2) {
		int code = status_error(&msg, resp);
		list_fail(lr, code, msg);
	} else if ((result = parse_body(&page, resp)) < 0) {
		list_fail(lr, result, tg_error_last());
	} else {
		take_items(lr->req->items, page, lr->req->api_version,
		           lr->req->kind);
		next = json_string_value(json_object_get(
		        json_object_get(page, "metadata"), "continue"));
		if (next && *next && ++lr->pages >= TG_KUBE_MAX_LIST_PAGES) {
			char *m = tg_aprintf("more than %d pages",
			                     TG_KUBE_MAX_LIST_PAGES);
			list_fail(lr, TG_ETOOBIG, m);
			free(m);
		} else if (next && *next) {
			list_next(k, lr, next);
		}
	}
	json_decref(page);
	free(msg);
	tg_http_response_free(resp);
}

/* Refuse lists started while a batch runs: each reads as failed. */
static int lists_refused(tg_kube *k, tg_kube_list_req *reqs, size_t n)
{
	size_t i;
	int error;

	if (!k->running)
		return 0;
	error = tg_error_set(TG_ERROR, "a list was started while a batch runs");
	for (i = 0; i < n; i++) {
		reqs[i].result = error;
		reqs[i].items = NULL;
		reqs[i].message = tg_aprintf("listing %s %s: not sent: %s",
		                             reqs[i].api_version, reqs[i].kind,
		                             tg_error_last());
	}
	return error;
}

int tg_kube_list_all(tg_kube *k, tg_kube_list_req *reqs, size_t n)
{
	list_run *runs = tg_calloc(n ? n : 1, sizeof(*runs));
	size_t i;
	int error = 0;

	if ((error = lists_refused(k, reqs, n)) < 0) {
		free(runs);
		return error;
	}
	for (i = 0; i < n; i++) {
		const tg_kube_resource *r;
		tg_kube_list_req *q = &reqs[i];

		q->result = 0;
		q->message = NULL;
		q->items = json_array();
		runs[i].req = q;
		if ((q->result = tg_kube_resource_lookup(&r, k, q->api_version,
		                                         q->kind)) < 0) {
			q->message =
			        tg_aprintf("listing %s %s: %s", q->api_version,
			                   q->kind, tg_error_last());
			continue;
		}
		runs[i].base = collection_url(k, r, q->ns);
		if (q->label_selector)
			runs[i].selector =
			        curl_easy_escape(NULL, q->label_selector, 0);
		list_next(k, &runs[i], NULL);
	}
	k->running = true;
	if (tg_http_run(k->http) < 0)
		error = tg_error_code();
	k->running = false;
	for (i = 0; i < n; i++) {
		free(runs[i].base);
		curl_free(runs[i].selector);
		/* A list that did not run reads as failed, never as empty. */
		if (error < 0 && reqs[i].result == 0)
			list_fail(&runs[i], error, tg_error_last());
		if (reqs[i].result < 0) {
			json_decref(reqs[i].items);
			reqs[i].items = NULL;
		}
	}
	free(runs);
	return error;
}

void tg_kube_list_req_clear(tg_kube_list_req *r)
{
	free(r->message);
	json_decref(r->items);
	r->message = NULL;
	r->items = NULL;
	r->result = 0;
}

int tg_kube_list(json_t **items_out,
                 tg_kube *k,
                 const char *api_version,
                 const char *kind,
                 const char *ns,
                 const char *label_selector)
{
	tg_kube_list_req q = { api_version, kind, ns,  label_selector,
		               0,           NULL, NULL };
	int error;

	*items_out = NULL;
	if ((error = tg_kube_list_all(k, &q, 1)) < 0)
		goto out;
	if ((error = q.result) < 0) {
		tg_error_set(error, "%s: %s", k->server, q.message);
		goto out;
	}
	*items_out = q.items;
	q.items = NULL;
out:
	tg_kube_list_req_clear(&q);
	return error;
}
