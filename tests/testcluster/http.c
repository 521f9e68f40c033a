/*
 * HTTP with libmicrohttpd: one thread per connection (so a watch or an
 * injected hang blocks only its own client), request bodies gathered up
 * to TC_MAX_BODY_BYTES, bearer-token authentication, fault injection,
 * the request log, and routing of API paths to the verbs.
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "tc.h"
#include "tollgate/util.h"

/* Threads MHD may run at once (one per connection). */
#define TC_MAX_CONNECTIONS 512
/* Seconds an idle keep-alive connection stays open. */
#define TC_CONNECTION_TIMEOUT_S 120

struct tc_server {
	struct MHD_Daemon *daemon;
	tc_state *st;
	unsigned port;
};

typedef struct conn_ctx {
	tg_buf body;
	bool too_big;
} conn_ctx;

const char *tc_req_arg(const tc_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
	                                   name);
}

json_t *tc_req_json(const tc_req *req, json_error_t *err)
{
	if (!req->json_parsed)
		return json_loadb(req->body, req->body_len,
		                  JSON_REJECT_DUPLICATES, err);
	if (req->json == NULL)
		*err = req->json_err;
	return json_incref(req->json);
}

int tc_req_socket(const tc_req *req)
{
	const union MHD_ConnectionInfo *ci =
	        req->conn
	                ? MHD_get_connection_info(
	                          req->conn, MHD_CONNECTION_INFO_CONNECTION_FD)
	                : NULL;

	return ci ? (int)ci->connect_fd : -1;
}

/* Parse the JSON body of a write before the lock is taken: the parse of
 * one client then runs beside the locked work of another. */
static void parse_body(tc_req *req)
{
	const char *m = req->method;

	if (req->body_len == 0 ||
	    tg_str_has_prefix(req->path, "/testcluster/") ||
	    (strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 &&
	     strcmp(m, "PATCH") != 0))
		return;
	req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
	                       &req->json_err);
	req->json_parsed = true;
}

static enum MHD_Result
arg_add(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	json_object_set_new(cls, key, json_string(value ? value : ""));
	return MHD_YES;
}

void tc_req_each_arg(const tc_req *req, json_t *obj)
{
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, arg_add,
	                          obj);
}

bool tc_req_flag(const tc_req *req, const char *name)
{
	const char *v = tc_req_arg(req, name);

	/* The spellings Go's strconv.ParseBool takes as true (python's
	 * client sends "True"). */
	static const char *const yes[] = {
		"1", "t", "T", "true", "TRUE", "True"
	};
	size_t i;

	for (i = 0; v != NULL && i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(v, yes[i]) == 0)
			return true;
	return false;
}

bool tc_req_dry_run(const tc_req *req)
{
	const char *v = tc_req_arg(req, "dryRun");

	return v != NULL && strcmp(v, "All") == 0;
}

/* kube-apiserver's default manager: the User-Agent up to the first '/'
 * (prefixFromUserAgent), at most 128 bytes. */
char *tc_req_manager(const tc_req *req)
{
	const char *fm = tc_req_arg(req, "fieldManager");
	const char *ua = req->user_agent;
	size_t n;

	if (fm != NULL && fm[0] != '\0')
		return tg_strdup(fm);
	if (ua == NULL || ua[0] == '\0')
		return tg_strdup("unknown");
	n = strcspn(ua, "/");
	return tg_strndup(ua, n > 128 ? 128 : n);
}

/* Split path into at most max segments (borrowed from copy, which is
 * modified). Returns the count, or max + 1 when there are more. */
static size_t split_path(char *copy, char **segs, size_t max)
{
	size_t n = 0;
	char *p = copy, *slash;

	while (*p == '/')
		p++;
	while (*p) {
		if (n == max)
			return max + 1;
		segs[n++] = p;
		slash = strchr(p, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

static void not_found_path(tc_resp *resp)
{
	tc_status_error(resp, 404, "NotFound", NULL,
	                "the server could not find the requested resource");
}

/* Resolve rest (after the group version) into a target; false when the
 * path names nothing. */
static bool resolve(tc_state *st,
                    const char *group,
                    const char *version,
                    char **rest,
                    size_t n,
                    tc_target *tg)
{
	const tc_type *t;

	memset(tg, 0, sizeof(*tg));
	if (n >= 3 && strcmp(rest[0], "namespaces") == 0 &&
	    (t = tc_type_find(st, group, version, rest[2])) != NULL &&
	    (t->flags & TC_T_NAMESPACED) && n <= 5) {
		tg->type = t;
		tg->ns = rest[1];
		tg->name = n >= 4 ? rest[3] : NULL;
		tg->sub = n == 5 ? rest[4] : NULL;
	} else if (n >= 1 && n <= 3 &&
	           (t = tc_type_find(st, group, version, rest[0])) != NULL) {
		if ((t->flags & TC_T_NAMESPACED) && n > 1)
			return false;
		tg->type = t;
		tg->name = n >= 2 ? rest[1] : NULL;
		tg->sub = n == 3 ? rest[2] : NULL;
	} else {
		return false;
	}
	if (tg->sub != NULL && (strcmp(tg->sub, "status") != 0 ||
	                        !(tg->type->flags & TC_T_STATUS)))
		return false;
	return true;
}

static void route_api(tc_state *st, const tc_req *req, tc_resp *resp)
{
	char *copy = tg_strdup(req->path);
	char *segs[8];
	size_t n = split_path(copy, segs, 8);
	tc_target tg;
	bool ok = false;

	if (n <= 8 && n >= 3 && strcmp(segs[0], "api") == 0 &&
	    strcmp(segs[1], "v1") == 0)
		ok = resolve(st, "", "v1", segs + 2, n - 2, &tg);
	else if (n <= 8 && n >= 4 && strcmp(segs[0], "apis") == 0)
		ok = resolve(st, segs[1], segs[2], segs + 3, n - 3, &tg);
	if (ok)
		tc_verb_dispatch(st, req, &tg, resp);
	else
		not_found_path(resp);
	free(copy);
}

static bool is_public(const char *path)
{
	return strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
	       strcmp(path, "/livez") == 0 || strcmp(path, "/version") == 0;
}

static bool authorized(tc_state *st, const tc_req *req)
{
	const char *h = MHD_lookup_connection_value(
	        req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	if (is_public(req->path))
		return true;
	/* kubectl 1.32 sends no token over plain HTTP: without TLS a
	 * request with no Authorization is let in; a wrong one never. */
	if (h == NULL && !st->tls)
		return true;
	return h != NULL && tg_str_has_prefix(h, "Bearer ") &&
	       strcmp(h + 7, st->token) == 0;
}

/* Sleep up to seconds, waking early when the server stops. */
static void hang(tc_state *st, int seconds)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&st->lock);
	while (!st->stopping && pthread_cond_timedwait(&st->changed, &st->lock,
	                                               &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&st->lock);
}

static const char *reason_for(int code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 409:
		return "Conflict";
	case 429:
		return "TooManyRequests";
	case 503:
		return "ServiceUnavailable";
	case 504:
		return "Timeout";
	default:
		return "InternalError";
	}
}

/* The whole handling of one request, into resp. */
static void handle(tc_state *st, const tc_req *req, tc_resp *resp)
{
	int fault_status = 0, hang_s = 0;

	if (!tg_str_has_prefix(req->path, "/testcluster/") &&
	    tc_fault_take(st, req->method, req->path, &fault_status, &hang_s)) {
		if (hang_s > 0)
			hang(st, hang_s);
		if (fault_status != 0) {
			tc_status_error(resp, fault_status,
			                reason_for(fault_status), NULL,
			                "testcluster: injected fault (%d)",
			                fault_status);
			return;
		}
	}
	if (!authorized(st, req)) {
		tc_status_error(resp, 401, "Unauthorized", NULL,
		                "Unauthorized");
		return;
	}
	pthread_mutex_lock(&st->lock);
	if (!tc_control_handle(st, req, resp) &&
	    !tc_discovery_handle(st, req, resp) &&
	    !tc_openapi_handle(st, req, resp))
		route_api(st, req, resp);
	pthread_mutex_unlock(&st->lock);
}

static ssize_t watch_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	long n = tc_watch_read(cls, buf, max);

	(void)pos;
	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void watch_free(void *cls)
{
	tc_watch_release(cls);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, tc_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->watch != NULL) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536,
		                                      watch_reader, resp->watch,
		                                      watch_free);
	} else {
		char *body = resp->body ? resp->body : tg_strdup("");

		r = MHD_create_response_from_buffer(strlen(body), body,
		                                    MHD_RESPMEM_MUST_FREE);
		resp->body = NULL;
	}
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        resp->content_type ? resp->content_type
	                                           : "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-cache, private");
	ret = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Content-Type without parameters ("application/json; charset=utf-8"). */
static char *media_type(const char *ct)
{
	if (ct == NULL)
		return tg_strdup("");
	return tg_strndup(ct, strcspn(ct, "; "));
}

static enum MHD_Result on_request(void *cls,
                                  struct MHD_Connection *c,
                                  const char *url,
                                  const char *method,
                                  const char *version,
                                  const char *upload,
                                  size_t *upload_size,
                                  void **con_cls)
{
	tc_server *srv = cls;
	conn_ctx *cc = *con_cls;
	tc_req req;
	tc_resp resp;
	char *ct;
	enum MHD_Result ret;

	(void)version;
	if (cc == NULL) {
		cc = tg_calloc(1, sizeof(*cc));
		tg_buf_init(&cc->body, TC_MAX_BODY_BYTES);
		*con_cls = cc;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (tg_buf_append(&cc->body, upload, *upload_size) < 0)
			cc->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	ct = media_type(MHD_lookup_connection_value(
	        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
	req.method = method;
	req.path = url;
	req.content_type = ct;
	req.accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                         MHD_HTTP_HEADER_ACCEPT);
	req.user_agent = MHD_lookup_connection_value(
	        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	req.body = cc->body.data ? cc->body.data : "";
	req.body_len = cc->body.len;
	req.conn = c;
	if (cc->too_big)
		tc_status_error(&resp, 413, "RequestEntityTooLarge", NULL,
		                "the request body is over %u bytes",
		                TC_MAX_BODY_BYTES);
	else {
		parse_body(&req);
		handle(srv->st, &req, &resp);
	}
	tc_resp_partial_metadata(&req, &resp);
	if (resp.json != NULL) {
		/* Outside the lock: see tc_resp_json. */
		free(resp.body);
		resp.body = tc_dumps(resp.json);
		json_decref(resp.json);
	}
	if (!tg_str_has_prefix(url, "/testcluster/"))
		tc_log_request(srv->st, &req, resp.status);
	ret = send_resp(c, &resp);
	free(resp.body);
	json_decref(req.json);
	free(ct);
	return ret;
}

static void on_completed(void *cls,
                         struct MHD_Connection *c,
                         void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	conn_ctx *cc = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cc == NULL)
		return;
	tg_buf_free(&cc->body);
	free(cc);
	*con_cls = NULL;
}

int tc_server_start(tc_server **out,
                    tc_state *st,
                    const char *host,
                    unsigned port,
                    const char *cert_pem,
                    const char *key_pem)
{
	tc_server *srv = tg_calloc(1, sizeof(*srv));
	struct sockaddr_in addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
	                 MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		free(srv);
		return tg_error_set(TG_EINVALID,
		                    "--listen %s: not an IPv4 address", host);
	}
	srv->st = st;
	if (cert_pem != NULL)
		flags |= MHD_USE_TLS;
	srv->daemon = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, srv, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned)TC_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)TC_CONNECTION_TIMEOUT_S,
	        cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert_pem,
	        MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		free(srv);
		return tg_error_set(
		        TG_EIO,
		        "cannot listen on %s:%u (libmicrohttpd "
		        "refused to start%s)",
		        host, port,
		        cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) !=
		                                MHD_YES
		                ? ": built without TLS"
		                : "");
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : port;
	*out = srv;
	return 0;
}

unsigned tc_server_port(const tc_server *srv)
{
	return srv->port;
}

void tc_server_stop(tc_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
