/*
 * HTTP client over libcurl: see include/tollgate/http.h.
 *
 * Every request is a "transfer" (struct xfer). Transfers wait in a queue
 * until a slot is free (at most `parallel` run at once) and their backoff
 * time has passed; they then get a fresh easy handle on the client's one
 * multi handle, whose connection cache is what gives connection reuse.
 * Retries and redirects re-queue the same transfer; only the final outcome
 * reaches the completion callback. This file keeps the client, its URL
 * rules and the queue; one transfer on the wire (options, callbacks, the
 * response) is in http_xfer.c.
 */
#include "tollgate/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#include "http_int.h"

/* Keep a copy of PEM bytes for every handle (curl copies them again with
 * CURL_BLOB_COPY when a handle is configured). */
static void blob_copy(struct curl_blob *b, const char *data, size_t len)
{
	b->data = NULL;
	b->len = 0;
	b->flags = CURL_BLOB_COPY;
	if (!data || !len)
		return;
	b->data = tg_malloc(len);
	memcpy(b->data, data, len);
	b->len = len;
}

static void blob_free(struct curl_blob *b)
{
	if (b->data) {
		OPENSSL_cleanse(b->data, b->len);
		free(b->data);
	}
	b->data = NULL;
}

/*
 * Split url into its scheme, "host" or "host:port" as written (for the
 * insecure list) and origin "scheme://host:port" (port always filled in,
 * for the same-origin check on redirects). 0 or TG_EINVALID.
 */
static int url_split(char **scheme_out,
                     char **hostport_out,
                     char **origin_out,
                     const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *dport = NULL;
	int error = 0;

	if (!u)
		return tg_error_set(TG_ERROR, "curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &dport, CURLU_DEFAULT_PORT) !=
	            CURLUE_OK) {
		error = tg_error_set(TG_EINVALID, "invalid URL \"%s\"", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (scheme_out)
		*scheme_out = tg_strdup(scheme);
	if (hostport_out)
		*hostport_out = port ? tg_aprintf("%s:%s", host, port)
		                     : tg_strdup(host);
	if (origin_out)
		*origin_out = tg_aprintf("%s://%s:%s", scheme, host, dport);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(dport);
	curl_url_cleanup(u);
	return error;
}

bool tg_http_host_is_insecure(const tg_http *http, const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	size_t hostlen, i;

	/* "[::1]:5000" has its port after the last ']'. */
	if (colon && strchr(colon, ']'))
		colon = NULL;
	hostlen = colon ? (size_t)(colon - hostport) : strlen(hostport);
	for (i = 0; i < http->insecure_count; i++) {
		const char *e = http->insecure[i];

		if (!strcmp(e, hostport))
			return true;
		/* An entry without a port covers every port of that host. */
		if (!strchr(e, ':') && strlen(e) == hostlen &&
		    !strncmp(e, hostport, hostlen))
			return true;
	}
	return false;
}

/*
 * May this URL be fetched at all? https always; http only for insecure
 * hosts, so a registry listed nowhere can never be read in clear text.
 * 0 or TG_EINVALID.
 */
static int url_check(const tg_http *http, const char *url)
{
	char *scheme = NULL, *hostport = NULL;
	int error;

	if ((error = url_split(&scheme, &hostport, NULL, url)) < 0)
		return error;
	if (!strcmp(scheme, "https"))
		error = 0;
	else if (!strcmp(scheme, "http") &&
	         tg_http_host_is_insecure(http, hostport))
		error = 0;
	else if (!strcmp(scheme, "http"))
		error = tg_error_set(TG_EINVALID,
		                     "%s: plain HTTP refused: %s is not listed "
		                     "as an insecure registry",
		                     url, hostport);
	else
		error = tg_error_set(TG_EINVALID,
		                     "%s: unsupported URL scheme \"%s\"", url,
		                     scheme);
	free(scheme);
	free(hostport);
	return error;
}

static char **strv_dup(const char *const *v, size_t n)
{
	char **copy = n ? tg_calloc(n, sizeof(*copy)) : NULL;
	size_t i;

	for (i = 0; i < n; i++)
		copy[i] = tg_strdup(v[i]);
	return copy;
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * curl's socket API. curl_multi_perform goes through every transfer on
 * each turn and checks each one's socket with a poll of its own; at
 * thousands of requests to one API server those polls were a tenth of a
 * cold cycle's CPU. Here curl names the sockets it waits on and the time
 * it wants to be called at; tg_http_run polls them all at once and tells
 * curl which are ready.
 */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	tg_http *http = userp;
	size_t i;

	(void)easy;
	(void)socketp;
	for (i = 0; i < http->nfds && http->fds[i].fd != s; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < http->nfds)
			http->fds[i] = http->fds[--http->nfds];
		return 0;
	}
	if (i == http->nfds) {
		if (http->nfds == http->fds_cap) {
			http->fds_cap = http->fds_cap ? 2 * http->fds_cap : 16;
			http->fds = tg_realloc(
			        http->fds, http->fds_cap * sizeof(*http->fds));
		}
		http->fds[http->nfds++].fd = s;
	}
	http->fds[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) |
	                              (what & CURL_POLL_OUT ? POLLOUT : 0));
	http->fds[i].revents = 0;
	return 0;
}

static int on_timer(CURLM *multi, long ms, void *userp)
{
	tg_http *http = userp;

	(void)multi;
	http->timer_at = ms < 0 ? -1.0 : tg_monotonic() + (double)ms / 1000.0;
	return 0;
}

int tg_http_new(tg_http **out, const tg_http_options *opts)
{
	static bool curl_ready;
	tg_http_options none = { 0 };
	tg_http *http;

	*out = NULL;
	if (!opts)
		opts = &none;
	/* Not thread-safe, like curl_global_init itself; the CLI creates its
	 * clients from the main thread. Never cleaned up: other modules
	 * (the Kubernetes client) share libcurl's global state. */
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return tg_error_set(TG_ERROR,
			                    "curl_global_init failed");
		curl_ready = true;
	}
	http = tg_calloc(1, sizeof(*http));
	if (!(http->multi = curl_multi_init())) {
		free(http);
		return tg_error_set(TG_ERROR, "curl_multi_init failed");
	}
	http->ca_file = opts->ca_file ? tg_strdup(opts->ca_file) : NULL;
	blob_copy(&http->ca_pem, opts->ca_pem, opts->ca_pem_len);
	blob_copy(&http->cert_pem, opts->client_cert_pem,
	          opts->client_cert_pem_len);
	blob_copy(&http->key_pem, opts->client_key_pem,
	          opts->client_key_pem_len);
	http->skip_verify = opts->insecure_skip_verify;
	http->insecure =
	        strv_dup(opts->insecure_hosts, opts->insecure_hosts_count);
	http->insecure_count = opts->insecure_hosts_count;
	http->parallel =
	        opts->parallel ? opts->parallel : TG_HTTP_DEFAULT_PARALLEL;
	http->timeout_s =
	        opts->timeout_s > 0 ? opts->timeout_s : TG_HTTP_TIMEOUT_S;
	http->connect_timeout_s = opts->connect_timeout_s > 0
	                                  ? opts->connect_timeout_s
	                                  : TG_HTTP_CONNECT_TIMEOUT_S;
	http->max_retries = opts->max_retries < 0 ? 0
	                    : opts->max_retries == 0
	                            ? TG_HTTP_MAX_RETRIES
	                            : (unsigned)opts->max_retries;
	http->retry_base_ms = opts->retry_base_ms > 0 ? opts->retry_base_ms
	                                              : TG_HTTP_RETRY_BASE_MS;
	http->user_agent =
	        tg_strdup(opts->user_agent ? opts->user_agent
	                                   : "tollgate/" TOLLGATE_VERSION);
	/* Connection reuse: every transfer shares this multi handle's cache,
	 * bounded so a run over many registries does not hoard sockets. */
	curl_multi_setopt(http->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	                  (long)http->parallel);
	curl_multi_setopt(http->multi, CURLMOPT_MAXCONNECTS,
	                  (long)http->parallel);
	http->timer_at = -1.0;
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
	*out = http;
	return 0;
}

void tg_http_free(tg_http *http)
{
	struct xfer *x, *next;

	if (!http)
		return;
	for (x = http->queue; x; x = next) {
		next = x->next;
		tg_http__xfer_free(x);
	}
	for (x = http->running_list; x; x = next) {
		next = x->next;
		tg_http__xfer_free(x);
	}
	curl_multi_cleanup(http->multi);
	free(http->fds); /* after the cleanup: it calls on_socket */
	free(http->ca_file);
	blob_free(&http->ca_pem);
	blob_free(&http->cert_pem);
	blob_free(&http->key_pem);
	strv_free(http->insecure, http->insecure_count);
	free(http->user_agent);
	free(http);
}

static void queue_push(tg_http *http, struct xfer *x)
{
	x->next = NULL;
	if (http->queue_tail)
		http->queue_tail->next = x;
	else
		http->queue = x;
	http->queue_tail = x;
}

int tg_http_submit(tg_http *http,
                   const tg_http_request *req,
                   tg_http_done_fn done,
                   void *ctx)
{
	struct xfer *x;
	int error;

	if ((error = url_check(http, req->url)) < 0)
		return error;
	x = tg_calloc(1, sizeof(*x));
	x->http = http;
	x->method = tg_strdup(req->method ? req->method : "GET");
	x->url = tg_strdup(req->url);
	if ((error = url_split(NULL, NULL, &x->origin, req->url)) < 0) {
		tg_http__xfer_free(x);
		return error;
	}
	x->headers = strv_dup(req->headers, req->headers_count);
	x->headers_count = req->headers_count;
	if (req->body) {
		x->body = tg_malloc(req->body_len ? req->body_len : 1);
		memcpy(x->body, req->body, req->body_len);
		x->body_len = req->body_len;
	}
	x->max_bytes =
	        req->max_bytes ? req->max_bytes : TG_MAX_SMALL_RESPONSE_BYTES;
	x->no_redirects = req->no_redirects;
	x->done = done;
	x->ctx = ctx;
	tg_buf_init(&x->resp_body, x->max_bytes);
	queue_push(http, x);
	return 0;
}

/*
 * Delay in seconds before retry number x->attempts: the exponential
 * backoff, or Retry-After (delta-seconds form) when larger, capped at
 * TG_HTTP_RETRY_AFTER_MAX_S.
 */
static double retry_delay(const struct xfer *x)
{
	double delay = (double)x->http->retry_base_ms / 1000.0;
	const char *ra = tg_http__xfer_header(x, "Retry-After");
	uint64_t secs;
	unsigned i;

	for (i = 1; i < x->attempts; i++)
		delay *= 2;
	/* Only the delta-seconds form; an HTTP-date falls back to backoff. */
	if (ra && tg_parse_u64(&secs, ra, strlen(ra), UINT64_MAX) == 0) {
		if (secs > TG_HTTP_RETRY_AFTER_MAX_S)
			secs = TG_HTTP_RETRY_AFTER_MAX_S;
		if ((double)secs > delay)
			delay = (double)secs;
	}
	return delay;
}

/* Failures that may pass on their own. TLS and certificate errors, bad
 * URLs and refused protocols will fail the same way again. */
static bool curl_is_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool status_is_retryable(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

/* Re-queue x for another attempt after delay seconds. */
static void xfer_requeue(struct xfer *x, double delay)
{
	tg_http__xfer_release_easy(x);
	x->not_before = tg_monotonic() + delay;
	queue_push(x->http, x);
}

/* Remove every "Authorization" header: the redirect leaves the origin the
 * caller meant the credentials for (e.g. registry -> blob storage). */
static void xfer_drop_authorization(struct xfer *x)
{
	size_t i, j = 0;

	for (i = 0; i < x->headers_count; i++) {
		if (!strncasecmp(x->headers[i], "Authorization:", 14)) {
			OPENSSL_cleanse(x->headers[i], strlen(x->headers[i]));
			free(x->headers[i]);
			continue;
		}
		x->headers[j++] = x->headers[i];
	}
	x->headers_count = j;
}

/*
 * Point x at the Location of its 3xx response. 0, or TG_EINVALID when the
 * limit is reached or the target is not allowed (plain HTTP to a host not
 * listed as insecure, another scheme).
 */
static int xfer_redirect(struct xfer *x, long status, const char *target)
{
	char *origin = NULL;
	int error;

	if (x->redirects >= TG_MAX_REDIRECTS)
		return tg_error_set(TG_EINVALID,
		                    "%s %s: more than %d redirects", x->method,
		                    x->url, TG_MAX_REDIRECTS);
	if ((error = url_check(x->http, target)) < 0)
		return tg_error_prefix(error, "%s %s: redirect (HTTP %ld)",
		                       x->method, x->url, status);
	if ((error = url_split(NULL, NULL, &origin, target)) < 0)
		return error;
	if (strcmp(origin, x->origin))
		xfer_drop_authorization(x);
	free(origin);
	/* RFC 9110 15.4: 303 always, and 301/302 in practice, turn a
	 * request with a body into a GET. */
	if (status == 303 || ((status == 301 || status == 302) && x->body)) {
		free(x->method);
		x->method = tg_strdup("GET");
		free(x->body);
		x->body = NULL;
		x->body_len = 0;
	}
	free(x->url);
	x->url = tg_strdup(target);
	x->redirects++;
	return 0;
}

static void running_remove(tg_http *http, struct xfer *x)
{
	struct xfer **p;

	for (p = &http->running_list; *p; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
			x->next = NULL;
			http->active--;
			return;
		}
	}
}

/* A transfer is over: complete it, retry it or follow its redirect. */
static void xfer_finished(tg_http *http, struct xfer *x, CURLcode rc)
{
	long status = 0, nconn = 0;
	char *location = NULL;
	int error;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconn);
	running_remove(http, x);
	http->stats.connections += (uint64_t)nconn;
	http->stats.bytes += x->resp_body.len;
	if (x->too_big || x->headers_too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		error = tg_error_set(
		        TG_ETOOBIG,
		        "%s %s: response %s larger than the limit of %zu "
		        "bytes (HTTP %ld)",
		        x->method, x->url,
		        x->headers_too_big ? "headers" : "body",
		        x->headers_too_big ? (size_t)TG_MAX_HTTP_HEADER_BYTES
		                           : x->max_bytes,
		        status);
		tg_http__xfer_complete(x, error, status);
		return;
	}
	if ((rc != CURLE_OK && curl_is_retryable(rc)) ||
	    (rc == CURLE_OK && status_is_retryable(status))) {
		if (x->attempts <= http->max_retries) {
			http->stats.retries++;
			xfer_requeue(x, retry_delay(x));
			return;
		}
	}
	if (rc != CURLE_OK) {
		error = tg_error_set(TG_ENET, "%s %s: %s (%s; %u attempt%s)",
		                     x->method, x->url,
		                     x->errbuf[0] ? x->errbuf
		                                  : curl_easy_strerror(rc),
		                     curl_easy_strerror(rc), x->attempts,
		                     x->attempts == 1 ? "" : "s");
		tg_http__xfer_complete(x, error, 0);
		return;
	}
	if (status >= 300 && status < 400 && !x->no_redirects) {
		curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &location);
		if (location) {
			location = tg_strdup(location);
			error = xfer_redirect(x, status, location);
			free(location);
			if (error < 0) {
				tg_http__xfer_complete(x, error, status);
				return;
			}
			xfer_requeue(x, 0);
			return;
		}
	}
	tg_http__xfer_complete(x, 0, status);
}

/* Start queued transfers whose time has come, up to the parallel limit. */
static void start_ready(tg_http *http)
{
	struct xfer **p = &http->queue, *x, *tail, *ready = NULL,
	            **ready_tail = &ready;
	double now = tg_monotonic();
	unsigned slots = http->active < http->parallel
	                         ? http->parallel - http->active
	                         : 0;
	int error;

	/* Detach first, start after: a failing start calls its callback,
	 * which may queue more work, so the queue must be whole by then.
	 * The walk stops when the slots are taken (a queue of thousands is
	 * not walked once per finished transfer); the tail stays the old
	 * one unless the walk reached it. */
	tail = http->queue_tail;
	http->queue_tail = NULL;
	while (slots && (x = *p)) {
		if (x->not_before <= now) {
			*p = x->next;
			x->next = NULL;
			*ready_tail = x;
			ready_tail = &x->next;
			slots--;
			continue;
		}
		http->queue_tail = x;
		p = &x->next;
	}
	if (*p)
		http->queue_tail = tail;
	while ((x = ready)) {
		ready = x->next;
		x->next = http->running_list;
		http->running_list = x;
		http->active++;
		if ((error = tg_http__xfer_start(x)) < 0) {
			running_remove(http, x);
			tg_http__xfer_complete(x, error, 0);
		}
	}
}

/* Drain curl's completion messages. */
static void collect_done(tg_http *http)
{
	CURLMsg *msg;
	int left;
	struct xfer *x;

	while ((msg = curl_multi_info_read(http->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		                  (char **)&x);
		if (x)
			xfer_finished(http, x, msg->data.result);
	}
}

/* The multi handle broke: fail every transfer, running or queued. */
static void fail_all(tg_http *http, CURLMcode mc)
{
	struct xfer *x;

	while ((x = http->running_list) || (x = http->queue)) {
		if (x == http->running_list) {
			running_remove(http, x);
		} else {
			http->queue = x->next;
			if (!http->queue)
				http->queue_tail = NULL;
		}
		tg_http__xfer_complete(x,
		                       tg_error_set(TG_ENET,
		                                    "%s %s: curl multi: %s",
		                                    x->method, x->url,
		                                    curl_multi_strerror(mc)),
		                       0);
	}
}

/* Seconds until a queued transfer may start: 0 when one can start now,
 * 1 (a poll tick) when none is queued or every slot is busy. */
static double queue_wait(const tg_http *http)
{
	const struct xfer *x;
	double now = tg_monotonic(), wait = 1.0;

	if (http->active >= http->parallel)
		return wait;
	for (x = http->queue; x; x = x->next) {
		if (x->not_before <= now)
			return 0;
		if (x->not_before - now < wait)
			wait = x->not_before - now;
	}
	return wait;
}

/* Tell curl its timeout has come, when it has. */
static CURLMcode run_timer(tg_http *http)
{
	int still;

	if (http->timer_at < 0 || http->timer_at > tg_monotonic())
		return CURLM_OK;
	http->timer_at = -1.0; /* curl sets the next one */
	return curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0,
	                                &still);
}

/* Wait up to timeout_ms for curl's sockets, and tell curl which are
 * ready. on_socket may change the set meanwhile: the ready ones are
 * copied first. */
static CURLMcode wait_sockets(tg_http *http, int timeout_ms, int *err)
{
	struct pollfd *ready;
	size_t i, n = 0;
	CURLMcode mc = CURLM_OK;
	int still, r;

	*err = 0;
	r = poll(http->fds, (nfds_t)http->nfds, timeout_ms);
	if (r < 0) {
		*err = errno == EINTR ? 0 : errno;
		return CURLM_OK;
	}
	if (r == 0)
		return CURLM_OK;
	ready = tg_calloc(http->nfds, sizeof(*ready));
	for (i = 0; i < http->nfds; i++)
		if (http->fds[i].revents)
			ready[n++] = http->fds[i];
	for (i = 0; i < n && mc == CURLM_OK; i++) {
		short re = ready[i].revents;
		int ev = (re & (POLLIN | POLLHUP) ? CURL_CSELECT_IN : 0) |
		         (re & POLLOUT ? CURL_CSELECT_OUT : 0) |
		         (re & (POLLERR | POLLNVAL) ? CURL_CSELECT_ERR : 0);

		mc = curl_multi_socket_action(http->multi, ready[i].fd, ev,
		                              &still);
	}
	free(ready);
	return mc;
}

int tg_http_run(tg_http *http)
{
	CURLMcode mc = CURLM_OK;
	int timeout_ms, err = 0;
	double wait;

	if (http->running)
		return tg_error_set(TG_ERROR, "tg_http_run called while "
		                              "running (from a callback?)");
	http->running = true;
	while (http->queue || http->running_list) {
		start_ready(http);
		if ((mc = run_timer(http)) != CURLM_OK)
			break;
		collect_done(http);
		if (!http->running_list && !http->queue)
			break;
		/* Callbacks and retries may have queued work: when some of
		 * it can start now, loop at once instead of polling. */
		if ((wait = queue_wait(http)) <= 0)
			continue;
		timeout_ms = (int)(wait * 1000) + 1;
		if (http->running_list && http->timer_at >= 0) {
			double ms = (http->timer_at - tg_monotonic()) * 1000;

			/* rounded up: a wait cut short would spin */
			if (ms < timeout_ms)
				timeout_ms =
				        ms > 0 ? (int)ms + ((int)ms < ms) : 0;
		}
		if ((mc = wait_sockets(http, timeout_ms, &err)) != CURLM_OK ||
		    err)
			break;
		collect_done(http);
	}
	if (err)
		mc = CURLM_INTERNAL_ERROR;
	if (mc != CURLM_OK)
		fail_all(http, mc);
	http->running = false;
	if (err)
		return tg_error_set(TG_ERROR, "waiting for HTTP sockets: %s",
		                    strerror(err));
	if (mc != CURLM_OK)
		return tg_error_set(TG_ERROR, "curl multi: %s",
		                    curl_multi_strerror(mc));
	return 0;
}

struct sync_result {
	int result;
	tg_http_response *resp;
	char *detail;
};

static void
sync_done(tg_http *http, int result, tg_http_response *resp, void *ctx)
{
	struct sync_result *s = ctx;

	(void)http;
	s->result = result;
	s->resp = resp;
	if (result < 0)
		s->detail = tg_strdup(tg_error_last());
}

int tg_http_request_sync(tg_http_response **out,
                         tg_http *http,
                         const tg_http_request *req)
{
	struct sync_result s = { TG_ERROR, NULL, NULL };
	int error;

	*out = NULL;
	if ((error = tg_http_submit(http, req, sync_done, &s)) < 0)
		return error;
	if ((error = tg_http_run(http)) < 0 && !s.resp)
		return error;
	if (s.result < 0) {
		/* Later callbacks in the same run may have overwritten the
		 * thread's detail: restore this request's. */
		error = tg_error_set(s.result, "%s", s.detail ? s.detail : "");
		free(s.detail);
		tg_http_response_free(s.resp);
		return error;
	}
	*out = s.resp;
	return 0;
}

void tg_http_get_stats(tg_http_stats *out, const tg_http *http)
{
	*out = http->stats;
}
