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

#include "kube_int.h"

void kube_resources_clear(tg_kube *k)
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
	kube_resources_clear(k);
	tg_watch_set_free(k->watches);
	tg_http_free(k->http);
	free(k->ca_pem);
	free(k->cert_pem);
	if (k->key_pem)
		OPENSSL_cleanse(k->key_pem, k->key_len);
	free(k->key_pem);
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

/* What watches need to connect as the client does. */
static void keep_tls(tg_kube *k, const tg_kube_target *t)
{
	k->ca_pem = kube_blob_dup(t->ca_pem, t->ca_pem_len);
	k->ca_len = t->ca_pem_len;
	k->cert_pem = kube_blob_dup(t->client_cert_pem, t->client_cert_pem_len);
	k->cert_len = t->client_cert_pem_len;
	k->key_pem = kube_blob_dup(t->client_key_pem, t->client_key_pem_len);
	k->key_len = t->client_key_pem_len;
	k->insecure = t->insecure_skip_tls_verify;
}

int tg_kube_watch_enable(tg_kube *k, int wake_fd)
{
	tg_watch_conn c = { 0 };

	if (k->watches)
		return 0;
	c.auth_header = k->auth;
	c.ca_pem = k->ca_pem;
	c.ca_pem_len = k->ca_len;
	c.client_cert_pem = k->cert_pem;
	c.client_cert_pem_len = k->cert_len;
	c.client_key_pem = k->key_pem;
	c.client_key_pem_len = k->key_len;
	c.insecure_skip_verify = k->insecure;
	c.list_limit = k->list_limit;
	return tg_watch_set_new(&k->watches, &c, wake_fd);
}

tg_watch_set *tg_kube_watches(tg_kube *k)
{
	return k->watches;
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
	/* Enough made ahead that a free slot never waits for one. Requests
	 * waiting out a retry's backoff hold their place: a server that
	 * throttles every request of the window slows the batch down. */
	k->feed_window = 4 * (size_t)(ho.parallel ? ho.parallel
	                                          : TG_HTTP_DEFAULT_PARALLEL);
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
	keep_tls(k, t);
	if (error < 0) {
		tg_kube_free(k);
		return error;
	}
	*out = k;
	return 0;
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

/*
 * A batch being run (tg_kube_run). Its requests are made a window ahead
 * of the replies, each reply making the next, rather than all before the
 * first is sent: making one (its URL, its body copied for sending)
 * overlaps with those in flight, and at most the window of bodies waits
 * in the queue.
 */
typedef struct batch_run batch_run;

typedef struct op_ctx {
	tg_kube_op *op;
	batch_run *run;
	char *what; /* describe() of the object */
	bool done;  /* its reply (or failure) came back */
} op_ctx;

struct batch_run {
	op_ctx *ctx;
	size_t n;
	size_t next; /* the next op to make */
	size_t open; /* made and not yet answered */
};

static void feed(tg_kube *k, batch_run *run);

/* tollgate run: tell the watches about a write of ours that went
 * through, so that its event does not count as someone else's change,
 * and, vouched, that they need keep no text of it (tg_kube_op.answered).
 */
static void note_own_write(tg_kube *k,
                           const tg_kube_op *op,
                           const tg_http_response *resp,
                           bool vouched)
{
	json_t *m = json_object_get(op->obj, "metadata"), *body = op->live;
	const char *av, *kind, *name, *rv = NULL;
	tg_kube_list_peek peek;

	if (!k->watches || op->verb == TG_KUBE_GET ||
	    (op->flags & TG_KUBE_DRY_RUN))
		return;
	av = json_string_value(json_object_get(op->obj, "apiVersion"));
	kind = json_string_value(json_object_get(op->obj, "kind"));
	name = json_string_value(json_object_get(m, "name"));
	if (!av || !kind || !name)
		return;
	if (op->verb != TG_KUBE_DELETE && !body &&
	    kube_scan_peek(&peek, resp->body ? resp->body : "",
	                   resp->body_len)) {
		/* An answer not read otherwise: its resourceVersion without
		 * a tree of it (every object of a cold cycle). */
		rv = peek.resource_version;
	} else if (op->verb != TG_KUBE_DELETE) {
		if (!body)
			body = json_loadb(resp->body, resp->body_len, 0, NULL);
		rv = json_string_value(json_object_get(
		        json_object_get(body, "metadata"), "resourceVersion"));
	}
	if (op->verb == TG_KUBE_DELETE || rv)
		tg_watch_set_own_write(
		        k->watches, av, kind,
		        json_string_value(json_object_get(m, "namespace")),
		        name, rv);
	if (vouched && rv)
		tg_watch_set_vouch(
		        k->watches, av, kind,
		        json_string_value(json_object_get(m, "namespace")),
		        name, rv);
	if (body != op->live)
		json_decref(body);
}

/* Whether op's caller reads its answer (tg_kube_op.answered): then it
 * is asked for whole. */
static bool wants_answer(const tg_kube *k, const tg_kube_op *op)
{
	return op->answered && k->watches && op->verb == TG_KUBE_APPLY &&
	       (op->flags & TG_KUBE_DISCARD) && !(op->flags & TG_KUBE_DRY_RUN);
}

/* An answer its caller reads: parsed once, for the caller and for the
 * watches, then dropped. A write whose answer cannot be parsed is still
 * a write: noted by its peeked resourceVersion, and not vouched for. */
static void answered(tg_kube *k, tg_kube_op *op, tg_http_response *resp)
{
	json_t *live = json_loadb(resp->body ? resp->body : "", resp->body_len,
	                          0, NULL);

	if (!json_is_object(live)) {
		json_decref(live);
		note_own_write(k, op, resp, false);
		return;
	}
	op->live = live;
	note_own_write(k, op, resp, op->answered(op->answered_ctx, op, live));
	op->live = NULL;
	json_decref(live);
}

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
		op->result = kube_status_error(&msg, resp);
		op->message = tg_aprintf("%s: %s", c->what, msg);
	} else if (op->verb != TG_KUBE_DELETE &&
	           !(op->flags & TG_KUBE_DISCARD)) {
		if ((op->result = kube_parse_body(&op->live, resp)) < 0)
			op->message =
			        tg_aprintf("%s: %s", c->what, tg_error_last());
	}
	if (op->result == 0 && wants_answer(k, op))
		answered(k, op, resp);
	else if (op->result == 0)
		note_own_write(k, op, resp, false);
	free(msg);
	tg_http_response_free(resp);
	c->run->open--;
	feed(k, c->run);
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
	base = kube_collection_url(k, r, ns);
	ename = kube_escape_segment(name);
	tg_buf_init(&q, TG_KUBE_MAX_URL_BYTES);
	if ((error = op_url(&q, method, k, op, base, ename)) < 0) {
		op->result = error;
		op->message = tg_aprintf("%s: %s", *what, tg_error_last());
		tg_buf_free(&q);
	} else {
		*url_out = tg_buf_detach(NULL, &q);
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

/*
 * The DeleteOptions body of a DELETE whose object names metadata.uid
 * and/or metadata.resourceVersion: preconditions the API server checks
 * (409 Conflict when the live object is another one, replaced since it
 * was read). NULL (no body) when it names neither.
 */
static char *delete_options(const json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata"), *pre = json_object(),
	       *v, *o;
	char *s;

	if ((v = json_object_get(meta, "uid")) && json_is_string(v))
		json_object_set(pre, "uid", v);
	if ((v = json_object_get(meta, "resourceVersion")) && json_is_string(v))
		json_object_set(pre, "resourceVersion", v);
	if (json_object_size(pre) == 0) {
		json_decref(pre);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:s, s:o}", "kind", "DeleteOptions",
	              "apiVersion", "v1", "propagationPolicy", "Background",
	              "preconditions", pre);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Make op i's request: true when it is in flight; false when it failed
 * at once (ctx done, the op carries the message). Called from a reply's
 * callback too, where op_request must not run discovery (a nested
 * tg_http_run): an op in flight means discovery was done, and nothing
 * drops it while a batch runs; should that change, the op fails. */
static bool submit_one(tg_kube *k, op_ctx *ctx)
{
	tg_kube_op *op = ctx->op;
	const char *method = NULL, *body;
	char *url = NULL, *made = NULL;
	bool sends = op->verb == TG_KUBE_APPLY || op->verb == TG_KUBE_CREATE ||
	             op->verb == TG_KUBE_UPDATE;
	int error;

	if (k->running && !k->discovered) {
		op_not_run(op, NULL,
		           "discovery was dropped while the batch ran");
		ctx->done = true;
		return false;
	}
	if (op_request(&url, &method, k, op, &ctx->what) < 0) {
		ctx->done = true; /* failed, with its message */
		return false;
	}
	if (op->verb == TG_KUBE_DELETE)
		made = delete_options(op->obj);
	else if (sends && !op->body)
		/* Reals with the fewest digits that read back the same (0.1,
		 * not 0.10000000000000001): the server parses quantities
		 * from the text. */
		made = json_dumps(
		        op->obj,
		        JSON_COMPACT | JSON_REAL_PRECISION(
		                               tg_json_real_digits(op->obj)));
	/* The caller's text is sent as it is. */
	body = sends && op->body ? op->body : made;
	/* tg_http keeps a copy of the body. */
	/* An answer not read needs no more than its metadata (the
	 * resourceVersion of a write, for the watches): far fewer bytes for
	 * the server to write and send. */
	error = kube_submit(
	        k, method, url,
	        !body                       ? NULL
	        : op->verb == TG_KUBE_APPLY ? "application/apply-patch+yaml"
	                                    : "application/json",
	        body,
	        /* an answer the caller reads (answered) comes whole */
	        sends && (op->flags & TG_KUBE_DISCARD) && !wants_answer(k, op),
	        on_op, ctx);
	if (error < 0) {
		op->result = tg_error_code();
		op->message = tg_aprintf("%s: %s", ctx->what, tg_error_last());
		ctx->done = true;
	}
	free(made);
	free(url);
	return error == 0;
}

/* Make requests until the window is full or every op is made. */
static void feed(tg_kube *k, batch_run *run)
{
	while (run->next < run->n && run->open < k->feed_window)
		if (submit_one(k, &run->ctx[run->next++]))
			run->open++;
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
	batch_run run = { 0 };
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
	run.ctx = tg_calloc(n ? n : 1, sizeof(*run.ctx));
	run.n = n;
	for (i = 0; i < n; i++) {
		run.ctx[i].op = &ops[i];
		run.ctx[i].run = &run;
	}
	feed(k, &run);
	k->running = true;
	if (tg_http_run(k->http) < 0)
		error = tg_error_code();
	k->running = false;
	/* An op never made or never answered (the run failed) reads as
	 * not run. */
	for (i = 0; i < n; i++) {
		if (!run.ctx[i].done)
			op_not_run(&ops[i], run.ctx[i].what,
			           "the batch did not run");
		free(run.ctx[i].what);
	}
	free(run.ctx);
	return error;
}

/* Run one op and turn its result into the return code and error detail. */
static int run_one(tg_kube *k, tg_kube_op *op)
{
	int error;

	if ((error = tg_kube_run(k, op, 1)) < 0)
		return error;
	if (op->result < 0)
		return tg_error_set(op->result, "%s", op->message);
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
	return tg_kube_delete_uid(k, api_version, kind, ns, name, NULL, flags);
}

int tg_kube_delete_uid(tg_kube *k,
                       const char *api_version,
                       const char *kind,
                       const char *ns,
                       const char *name,
                       const char *uid,
                       unsigned flags)
{
	json_t *id = identity(api_version, kind, ns, name);
	tg_kube_op op = { .verb = TG_KUBE_DELETE, .obj = id, .flags = flags };

	if (uid)
		json_object_set_new(json_object_get(id, "metadata"), "uid",
		                    json_string(uid));
	int error = run_one(k, &op);

	tg_kube_op_clear(&op);
	json_decref(id);
	return error;
}
