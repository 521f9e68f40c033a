/*
 * Tests of the HTTP client (verify/base/http.c) against a libmicrohttpd server
 * started in the test on 127.0.0.1 (the network is replaced by a local
 * server, as STYLE.md allows where a test says so): retries on 503 and 429
 * with Retry-After, no retry on success, size caps with and without
 * Content-Length, redirects (same origin keeps Authorization, another
 * origin drops it, loops stop at TG_MAX_REDIRECTS, plain HTTP to a host not
 * listed is refused), bounded parallelism with connection reuse, and
 * follow-up requests submitted from a completion callback.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

static struct MHD_Daemon *daemon_;
static unsigned short port_;
static pthread_mutex_t lock_ = PTHREAD_MUTEX_INITIALIZER;
static int flaky_count_, limited_count_;

static enum MHD_Result reply(struct MHD_Connection *c,
                             unsigned status,
                             const char *body,
                             const char *hname,
                             const char *hvalue)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (hname)
		MHD_add_response_header(r, hname, hvalue);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static ssize_t chunked_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos >= 50000)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > 1000)
		max = 1000;
	memset(buf, 'x', max);
	return (ssize_t)max;
}

static int bump(int *counter)
{
	int n;

	pthread_mutex_lock(&lock_);
	n = ++*counter;
	pthread_mutex_unlock(&lock_);
	return n;
}

static enum MHD_Result handler(void *cls,
                               struct MHD_Connection *c,
                               const char *url,
                               const char *method,
                               const char *version,
                               const char *upload,
                               size_t *upload_size,
                               void **con_cls)
{
	const char *auth;
	char loc[128];
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)method, (void)version, (void)upload, (void)upload_size;
	/* Answer on the second call: a response queued on the first makes
	 * libmicrohttpd close the connection, and reuse is under test. */
	if (!*con_cls) {
		*con_cls = &lock_;
		return MHD_YES;
	}
	if (!strcmp(url, "/ok"))
		return reply(c, 200, "hello", NULL, NULL);
	if (!strcmp(url, "/flaky"))
		return bump(&flaky_count_) <= 2
		               ? reply(c, 503, "busy", "Retry-After", "0")
		               : reply(c, 200, "recovered", NULL, NULL);
	if (!strcmp(url, "/limited"))
		return bump(&limited_count_) == 1
		               ? reply(c, 429, "slow down", "Retry-After", "1")
		               : reply(c, 200, "thanks", NULL, NULL);
	if (!strcmp(url, "/down"))
		return reply(c, 500, "broken", NULL, NULL);
	if (!strcmp(url, "/notfound"))
		return reply(c, 404, "no", NULL, NULL);
	if (!strcmp(url, "/big")) {
		static char big[5001];

		memset(big, 'b', 5000);
		return reply(c, 200, big, NULL, NULL);
	}
	if (!strcmp(url, "/big-chunked")) {
		r = MHD_create_response_from_callback(
		        MHD_SIZE_UNKNOWN, 1000, chunked_reader, NULL, NULL);
		ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strcmp(url, "/echo-auth")) {
		auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                   "Authorization");
		return reply(c, 200, auth ? auth : "none", NULL, NULL);
	}
	if (!strcmp(url, "/redir-same"))
		return reply(c, 302, "", "Location", "/echo-auth");
	if (!strcmp(url, "/redir-other")) {
		snprintf(loc, sizeof(loc), "http://localhost:%u/echo-auth",
		         port_);
		return reply(c, 307, "", "Location", loc);
	}
	if (!strcmp(url, "/redir-plain")) {
		snprintf(loc, sizeof(loc), "http://127.0.0.2:%u/ok", port_);
		return reply(c, 302, "", "Location", loc);
	}
	if (!strcmp(url, "/loop"))
		return reply(c, 302, "", "Location", "/loop");
	if (!strcmp(url, "/hang")) {
		sleep(2);
		return reply(c, 200, "late", NULL, NULL);
	}
	if (!strcmp(url, "/slow")) {
		usleep(100 * 1000);
		return reply(c, 200, "slow", NULL, NULL);
	}
	return reply(c, 404, "unknown", NULL, NULL);
}

static int server_start(void **state)
{
	const union MHD_DaemonInfo *info;

	(void)state;
	daemon_ = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
	        0, NULL, NULL, handler, NULL, MHD_OPTION_END);
	if (!daemon_)
		return -1;
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	port_ = info->port;
	return 0;
}

static int server_stop(void **state)
{
	(void)state;
	MHD_stop_daemon(daemon_);
	return 0;
}

static tg_http *client(unsigned parallel, int retries)
{
	static const char *insecure[] = { "127.0.0.1", "localhost" };
	tg_http_options o = { 0 };
	tg_http *h = NULL;

	o.insecure_hosts = insecure;
	o.insecure_hosts_count = 2;
	o.parallel = parallel;
	o.max_retries = retries;
	o.retry_base_ms = 10;
	assert_int_equal(tg_http_new(&h, &o), 0);
	return h;
}

/* GET path on the test server; returns the result code. */
static int get(tg_http_response **out,
               tg_http *h,
               const char *path,
               size_t max,
               const char *auth)
{
	tg_http_request req = { 0 };
	const char *hdrs[1] = { auth };
	char *url = tg_aprintf("http://127.0.0.1:%u%s", port_, path);
	int error;

	req.url = url;
	req.max_bytes = max;
	if (auth) {
		req.headers = hdrs;
		req.headers_count = 1;
	}
	error = tg_http_request_sync(out, h, &req);
	free(url);
	return error;
}

static void test_http_get_and_headers(void **state)
{
	tg_http *h = client(0, 0);
	tg_http_response *r;
	tg_http_stats st;

	(void)state;
	assert_int_equal(get(&r, h, "/ok", 0, NULL), 0);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "hello");
	assert_int_equal(r->body_len, 5);
	assert_int_equal(r->attempts, 1);
	assert_non_null(tg_http_response_header(r, "content-length"));
	assert_null(tg_http_response_header(r, "X-None"));
	tg_http_response_free(r);
	assert_int_equal(get(&r, h, "/ok", 0, NULL), 0);
	tg_http_response_free(r);

	/* A 404 is an answer, not a failure: the caller decides. */
	assert_int_equal(get(&r, h, "/notfound", 0, NULL), 0);
	assert_int_equal(r->status, 404);
	assert_int_equal(r->attempts, 1);
	tg_http_response_free(r);
	/* Three requests, one after the other: one connection. */
	tg_http_get_stats(&st, h);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.connections, 1);
	tg_http_free(h);
}

static void test_http_retries_503_then_succeeds(void **state)
{
	tg_http *h = client(0, 3);
	tg_http_response *r;
	tg_http_stats st;

	(void)state;
	flaky_count_ = 0;
	assert_int_equal(get(&r, h, "/flaky", 0, NULL), 0);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "recovered");
	assert_int_equal(r->attempts, 3);
	tg_http_get_stats(&st, h);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.requests, 1);
	tg_http_response_free(r);

	/* Retries exhausted: the last 5xx reaches the caller. */
	assert_int_equal(get(&r, h, "/down", 0, NULL), 0);
	assert_int_equal(r->status, 500);
	assert_int_equal(r->attempts, 4);
	tg_http_response_free(r);
	tg_http_free(h);
}

static void test_http_honours_retry_after(void **state)
{
	tg_http *h = client(0, 2);
	tg_http_response *r;
	double t0 = tg_monotonic();

	(void)state;
	limited_count_ = 0;
	assert_int_equal(get(&r, h, "/limited", 0, NULL), 0);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->attempts, 2);
	/* Backoff base is 10 ms; Retry-After: 1 makes it a second. */
	assert_true(tg_monotonic() - t0 >= 0.9);
	tg_http_response_free(r);
	tg_http_free(h);
}

static void test_http_caps_response_size(void **state)
{
	tg_http *h = client(0, 0);
	tg_http_response *r = NULL;

	(void)state;
	assert_int_equal(get(&r, h, "/big", 1000, NULL), TG_ETOOBIG);
	assert_null(r);
	assert_contains(tg_error_last(), "/big: response body larger than the "
	                                 "limit of 1000 bytes");
	/* No Content-Length: the write callback stops it. */
	assert_int_equal(get(&r, h, "/big-chunked", 1000, NULL), TG_ETOOBIG);
	assert_contains(tg_error_last(), "limit of 1000 bytes");
	assert_int_equal(get(&r, h, "/big", 5000, NULL), 0);
	assert_int_equal(r->body_len, 5000);
	tg_http_response_free(r);
	tg_http_free(h);
}

static void test_http_redirects_and_authorization(void **state)
{
	tg_http *h = client(0, 0);
	tg_http_response *r;

	(void)state;
	assert_int_equal(
	        get(&r, h, "/redir-same", 0, "Authorization: Bearer t0k"), 0);
	assert_int_equal(r->redirects, 1);
	assert_string_equal(r->body, "Bearer t0k");
	tg_http_response_free(r);

	/* Another origin (localhost vs 127.0.0.1): credentials stay home. */
	assert_int_equal(
	        get(&r, h, "/redir-other", 0, "Authorization: Bearer t0k"), 0);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "none");
	assert_true(tg_str_has_prefix(r->url, "http://localhost:"));
	tg_http_response_free(r);

	assert_int_equal(get(&r, h, "/loop", 0, NULL), TG_EINVALID);
	assert_contains(tg_error_last(), "more than 5 redirects");

	assert_int_equal(get(&r, h, "/redir-plain", 0, NULL), TG_EINVALID);
	assert_contains(tg_error_last(), "plain HTTP refused: 127.0.0.2:");
	tg_http_free(h);
}

static void test_http_refuses_plain_http_and_reports_network(void **state)
{
	tg_http *h = client(0, 1);
	tg_http_request req = { 0 };
	tg_http_response *r = NULL;

	(void)state;
	req.url = "http://example.invalid/x";
	assert_int_equal(tg_http_request_sync(&r, h, &req), TG_EINVALID);
	assert_contains(tg_error_last(), "plain HTTP refused: example.invalid "
	                                 "is not listed");
	req.url = "ftp://127.0.0.1/x";
	assert_int_equal(tg_http_request_sync(&r, h, &req), TG_EINVALID);
	assert_contains(tg_error_last(), "unsupported URL scheme");
	assert_false(tg_http_host_is_insecure(h, "127.0.0.2:80"));
	assert_true(tg_http_host_is_insecure(h, "127.0.0.1:5000"));

	/* Port 1 on loopback: refused at once, retried once. */
	req.url = "http://127.0.0.1:1/x";
	assert_int_equal(tg_http_request_sync(&r, h, &req), TG_ENET);
	assert_null(r);
	assert_contains(tg_error_last(), "GET http://127.0.0.1:1/x: ");
	assert_contains(tg_error_last(), "2 attempts");
	tg_http_free(h);
}

struct batch {
	tg_http *h;
	int done;
	int ok;
	char *url2;
};

static void on_second(tg_http *h, int result, tg_http_response *r, void *ctx)
{
	struct batch *b = ctx;

	(void)h;
	b->done++;
	if (result == 0 && r->status == 200 && !strcmp(r->body, "hello"))
		b->ok++;
	tg_http_response_free(r);
}

static void on_first(tg_http *h, int result, tg_http_response *r, void *ctx)
{
	struct batch *b = ctx;
	tg_http_request req = { 0 };

	b->done++;
	if (result == 0 && r->status == 200)
		b->ok++;
	tg_http_response_free(r);
	req.url = b->url2;
	assert_int_equal(tg_http_submit(h, &req, on_second, b), 0);
}

static void test_http_parallel_bounded_with_followups(void **state)
{
	tg_http *h = client(3, 0);
	tg_http_request req = { 0 };
	struct batch b = { 0 };
	tg_http_stats st;
	char *url = tg_aprintf("http://127.0.0.1:%u/slow", port_);
	int i;

	(void)state;
	b.h = h;
	b.url2 = tg_aprintf("http://127.0.0.1:%u/ok", port_);
	req.url = url;
	for (i = 0; i < 12; i++)
		assert_int_equal(tg_http_submit(h, &req, on_first, &b), 0);
	assert_int_equal(tg_http_run(h), 0);
	assert_int_equal(b.done, 24);
	assert_int_equal(b.ok, 24);
	tg_http_get_stats(&st, h);
	assert_int_equal(st.requests, 24);
	assert_int_equal(st.max_in_flight, 3);
	/* Connection reuse: never more than the parallel bound opened. */
	assert_true(st.connections <= 3);
	assert_true(st.connections >= 1);
	free(url);
	free(b.url2);
	tg_http_free(h);
}

struct timed {
	double start, at;
	int result;
	long status;
	char *message;
};

static void on_timed(tg_http *h, int result, tg_http_response *r, void *ctx)
{
	struct timed *t = ctx;

	(void)h;
	t->at = tg_monotonic() - t->start;
	t->result = result;
	t->status = r ? r->status : 0;
	if (result < 0)
		t->message = tg_strdup(tg_error_last());
	tg_http_response_free(r);
}

/*
 * curl's timeout comes through its timer (the socket API): a request the
 * server never answers in time fails after timeout_s, and the requests
 * beside it are answered meanwhile, as their sockets become ready.
 */
static void test_http_timeout_ends_a_hung_request_only(void **state)
{
	static const char *insecure[] = { "127.0.0.1" };
	tg_http_options o = { 0 };
	tg_http_request req = { 0 };
	struct timed t[6] = { { 0 } };
	char *hang = tg_aprintf("http://127.0.0.1:%u/hang", port_),
	     *ok = tg_aprintf("http://127.0.0.1:%u/ok", port_);
	double start = tg_monotonic();
	tg_http *h = NULL;
	int i;

	(void)state;
	o.insecure_hosts = insecure;
	o.insecure_hosts_count = 1;
	o.parallel = 6;
	o.max_retries = -1; /* no retry: the timeout itself is under test */
	o.timeout_s = 1;
	assert_int_equal(tg_http_new(&h, &o), 0);
	for (i = 0; i < 6; i++) {
		t[i].start = start;
		req.url = i == 0 ? hang : ok;
		assert_int_equal(tg_http_submit(h, &req, on_timed, &t[i]), 0);
	}
	assert_int_equal(tg_http_run(h), 0);
	assert_int_equal(t[0].result, TG_ENET);
	assert_non_null(t[0].message);
	assert_contains(t[0].message, "/hang");
	assert_contains(t[0].message, "imed out");
	assert_true(t[0].at >= 0.9);
	assert_true(t[0].at < 1.9);
	for (i = 1; i < 6; i++) {
		assert_int_equal(t[i].result, 0);
		assert_int_equal(t[i].status, 200);
		assert_true(t[i].at < 0.8);
	}
	free(t[0].message);
	free(hang);
	free(ok);
	tg_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_get_and_headers),
		cmocka_unit_test(test_http_retries_503_then_succeeds),
		cmocka_unit_test(test_http_honours_retry_after),
		cmocka_unit_test(test_http_caps_response_size),
		cmocka_unit_test(test_http_redirects_and_authorization),
		cmocka_unit_test(
		        test_http_refuses_plain_http_and_reports_network),
		cmocka_unit_test(test_http_parallel_bounded_with_followups),
		cmocka_unit_test(test_http_timeout_ends_a_hung_request_only),
	};

	return cmocka_run_group_tests(tests, server_start, server_stop);
}
