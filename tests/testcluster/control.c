/*
 * Test controls under /testcluster/ (documented in README.md): fault
 * injection, the request log, and reset. Called with st->lock held,
 * except tc_fault_take and tc_log_request which lock themselves.
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

static void fault_clear(tc_fault *f)
{
	free(f->method);
	free(f->prefix);
	memset(f, 0, sizeof(*f));
}

static void faults_clear(tc_state *st)
{
	size_t i;

	for (i = 0; i < st->nfaults; i++)
		fault_clear(&st->faults[i]);
	st->nfaults = 0;
	__atomic_store_n(&st->faults_armed, 0, __ATOMIC_RELEASE);
}

bool tc_fault_take(tc_state *st,
                   const char *method,
                   const char *path,
                   int *status_out,
                   int *hang_out)
{
	size_t i;
	bool hit = false;

	if (__atomic_load_n(&st->faults_armed, __ATOMIC_ACQUIRE) == 0)
		return false;
	pthread_mutex_lock(&st->lock);
	for (i = 0; i < st->nfaults && !hit; i++) {
		tc_fault *f = &st->faults[i];

		if ((f->method[0] && strcmp(f->method, method) != 0) ||
		    !tg_str_has_prefix(path, f->prefix))
			continue;
		hit = true;
		*status_out = f->status;
		*hang_out = f->hang_s;
		if (--f->remaining > 0)
			continue;
		fault_clear(f);
		memmove(&st->faults[i], &st->faults[i + 1],
		        (st->nfaults - i - 1) * sizeof(st->faults[0]));
		st->nfaults--;
	}
	__atomic_store_n(&st->faults_armed, st->nfaults, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&st->lock);
	return hit;
}

/* Drop the older half of a full log at once: removing one entry per
 * request would move the whole array every time. */
static void log_drop_half(tc_state *st)
{
	size_t n = json_array_size(st->log), i;
	json_t *keep = json_array();

	for (i = n / 2; i < n; i++)
		json_array_append(keep, json_array_get(st->log, i));
	st->log_dropped += n / 2;
	json_decref(st->log);
	st->log = keep;
}

void tc_log_request(tc_state *st, const tc_req *req, int status)
{
	const char *fm = tc_req_arg(req, "fieldManager");
	char *derived = NULL;
	json_t *e;

	if (fm == NULL && strcmp(req->method, "GET") != 0)
		fm = derived = tc_req_manager(req);
	e = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:i}", "method", req->method,
	              "path", req->path, "contentType", req->content_type,
	              "accept", req->accept, "fieldManager", fm, "status",
	              status);
	json_object_set_new(e, "query", json_object());
	tc_req_each_arg(req, json_object_get(e, "query"));
	free(derived);
	pthread_mutex_lock(&st->log_lock);
	if (json_array_size(st->log) >= TC_MAX_LOG)
		log_drop_half(st);
	json_array_append_new(st->log, e);
	pthread_mutex_unlock(&st->log_lock);
}

/* POST /testcluster/faults {"method","path","count","status","hangSeconds"} */
static void fault_add(tc_state *st, const tc_req *req, tc_resp *resp)
{
	json_t *b = tc_body_object(req, resp);
	json_int_t count, status, hang_s;
	const char *method, *path;
	tc_fault *f;

	if (b == NULL)
		return;
	method = json_string_value(json_object_get(b, "method"));
	path = json_string_value(json_object_get(b, "path"));
	count = json_integer_value(json_object_get(b, "count"));
	status = json_integer_value(json_object_get(b, "status"));
	hang_s = json_integer_value(json_object_get(b, "hangSeconds"));
	if (path == NULL || path[0] != '/' || count < 1 ||
	    (status != 0 && (status < 100 || status > 599)) || hang_s < 0 ||
	    hang_s > TC_MAX_HANG_S || (status == 0 && hang_s == 0)) {
		tc_status_bad_request(resp,
		                      "fault: need path (\"/...\"), count >= "
		                      "1, and status (100-599) or hangSeconds "
		                      "(1-%d)",
		                      TC_MAX_HANG_S);
	} else if (st->nfaults == TC_MAX_FAULTS) {
		tc_status_bad_request(resp, "fault: at most %d at once",
		                      TC_MAX_FAULTS);
	} else {
		f = &st->faults[st->nfaults++];
		__atomic_store_n(&st->faults_armed, st->nfaults,
		                 __ATOMIC_RELEASE);
		f->method = tg_strdup(method ? method : "");
		f->prefix = tg_strdup(path);
		f->remaining = (long)count;
		f->status = (int)status;
		f->hang_s = (int)hang_s;
		tc_resp_json_new(
		        resp, 201,
		        json_pack("{s:i}", "faults", (int)st->nfaults));
	}
	json_decref(b);
}

static void fault_list(tc_state *st, tc_resp *resp)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < st->nfaults; i++) {
		tc_fault *f = &st->faults[i];

		json_array_append_new(
		        a, json_pack("{s:s,s:s,s:I,s:i,s:i}", "method",
		                     f->method, "path", f->prefix, "count",
		                     (json_int_t)f->remaining, "status",
		                     f->status, "hangSeconds", f->hang_s));
	}
	tc_resp_json_new(resp, 200, json_pack("{s:o}", "faults", a));
}

static void requests_get(tc_state *st, tc_resp *resp)
{
	pthread_mutex_lock(&st->log_lock);
	tc_resp_json_new(resp, 200,
	                 json_pack("{s:o,s:I}", "requests", json_copy(st->log),
	                           "dropped", (json_int_t)st->log_dropped));
	pthread_mutex_unlock(&st->log_lock);
}

static void requests_clear(tc_state *st)
{
	pthread_mutex_lock(&st->log_lock);
	json_array_clear(st->log);
	st->log_dropped = 0;
	pthread_mutex_unlock(&st->log_lock);
}

/* POST /testcluster/watches {"end":"close"|"gone","compact":bool} */
static void watches_post(tc_state *st, const tc_req *req, tc_resp *resp)
{
	json_t *b = tc_body_object(req, resp);
	const char *end;
	json_t *compact;
	size_t open;

	if (b == NULL)
		return;
	end = json_string_value(json_object_get(b, "end"));
	compact = json_object_get(b, "compact");
	if ((end && strcmp(end, "close") && strcmp(end, "gone")) ||
	    (compact && !json_is_boolean(compact)) || (!end && !compact)) {
		tc_status_bad_request(resp, "watches: need \"end\" (\"close\" "
		                            "or \"gone\") and/or \"compact\" "
		                            "(boolean)");
		json_decref(b);
		return;
	}
	open = st->watches_open;
	/* Compaction: a watch resuming from before now gets 410, as after
	 * etcd compacted its history. */
	if (json_is_true(compact))
		st->compacted = st->rv;
	if (end) {
		st->watch_epoch++;
		st->watch_end_gone = strcmp(end, "gone") == 0;
		pthread_cond_broadcast(&st->changed);
	}
	tc_resp_json_new(
	        resp, 200,
	        json_pack("{s:I}", "ended", (json_int_t)(end ? open : 0)));
	json_decref(b);
}

static void ok(tc_resp *resp)
{
	tc_resp_json_new(resp, 200, json_pack("{s:s}", "status", "ok"));
}

bool tc_control_handle(tc_state *st, const tc_req *req, tc_resp *resp)
{
	const char *p = req->path, *m = req->method;

	if (!tg_str_has_prefix(p, "/testcluster/"))
		return false;
	p += strlen("/testcluster/");
	if (strcmp(p, "faults") == 0 && strcmp(m, "POST") == 0) {
		fault_add(st, req, resp);
	} else if (strcmp(p, "faults") == 0 && strcmp(m, "GET") == 0) {
		fault_list(st, resp);
	} else if (strcmp(p, "faults") == 0 && strcmp(m, "DELETE") == 0) {
		faults_clear(st);
		ok(resp);
	} else if (strcmp(p, "requests") == 0 && strcmp(m, "GET") == 0) {
		requests_get(st, resp);
	} else if (strcmp(p, "requests") == 0 && strcmp(m, "DELETE") == 0) {
		requests_clear(st);
		ok(resp);
	} else if (strcmp(p, "watches") == 0 && strcmp(m, "POST") == 0) {
		watches_post(st, req, resp);
	} else if (strcmp(p, "watches") == 0 && strcmp(m, "GET") == 0) {
		tc_resp_json_new(resp, 200,
		                 json_pack("{s:I}", "open",
		                           (json_int_t)st->watches_open));
	} else if (strcmp(p, "reset") == 0 && strcmp(m, "POST") == 0) {
		tc_state_reset(st);
		faults_clear(st);
		requests_clear(st);
		ok(resp);
	} else {
		tc_status_error(resp, 404, "NotFound", NULL,
		                "testcluster: no control %s %s", m, req->path);
	}
	return true;
}

void tc_faults_free(tc_state *st)
{
	faults_clear(st);
}
