/*
 * Tests of webhook notifications (reconciler/report/notify.c) delivered to
 * a libmicrohttpd receiver started in the test on 127.0.0.1 (the network
 * is replaced by a local server, as STYLE.md allows where a test says so):
 * the JSON body with "source" and "time" added, the Content-Type and the
 * configured header read from its file, retries on 5xx until delivered,
 * giving up after TG_NOTIFY_RETRIES, a header value that is not one line,
 * every event to every webhook, and the bound on waiting events.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/notify.h"
#include "tollgate/util.h"

#define MAX_SEEN 64

/* One request the receiver saw. */
typedef struct seen {
	char path[64];
	char *body;
	char *content_type;
	char *token; /* X-Token header, NULL when absent */
} seen;

static struct MHD_Daemon *daemon_;
static unsigned short port_;
static pthread_mutex_t lock_ = PTHREAD_MUTEX_INITIALIZER;
static seen seen_[MAX_SEEN];
static size_t nseen_;

static char *dup_or_null(const char *s)
{
	return s ? tg_strdup(s) : NULL;
}

/* Record a finished request; the number of requests seen on path. */
static size_t record(struct MHD_Connection *c, const char *url, tg_buf *body)
{
	size_t i, n = 0;
	seen *s;

	pthread_mutex_lock(&lock_);
	if (nseen_ < MAX_SEEN) {
		s = &seen_[nseen_++];
		snprintf(s->path, sizeof(s->path), "%s", url);
		s->body = tg_strdup(body->data ? body->data : "");
		s->content_type = dup_or_null(MHD_lookup_connection_value(
		        c, MHD_HEADER_KIND, "Content-Type"));
		s->token = dup_or_null(MHD_lookup_connection_value(
		        c, MHD_HEADER_KIND, "X-Token"));
	}
	for (i = 0; i < nseen_; i++)
		n += !strcmp(seen_[i].path, url);
	pthread_mutex_unlock(&lock_);
	return n;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, status, r);

	MHD_destroy_response(r);
	return ret;
}

/* /ok answers 200, /flaky 503 twice then 200, /down always 500. */
static enum MHD_Result handler(void *cls,
                               struct MHD_Connection *c,
                               const char *url,
                               const char *method,
                               const char *version,
                               const char *upload,
                               size_t *upload_size,
                               void **con_cls)
{
	tg_buf *body = *con_cls;
	size_t n;

	(void)cls, (void)method, (void)version;
	if (!body) {
		body = tg_calloc(1, sizeof(*body));
		tg_buf_init(body, 1024 * 1024);
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_size) {
		if (tg_buf_append(body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	n = record(c, url, body);
	tg_buf_free(body);
	free(body);
	*con_cls = NULL;
	if (!strcmp(url, "/ok"))
		return reply(c, 200);
	if (!strcmp(url, "/flaky"))
		return reply(c, n <= 2 ? 503 : 200);
	return reply(c, 500);
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

/* Forget what the receiver saw (before each test). */
static int seen_reset(void **state)
{
	size_t i;

	(void)state;
	pthread_mutex_lock(&lock_);
	for (i = 0; i < nseen_; i++) {
		free(seen_[i].body);
		free(seen_[i].content_type);
		free(seen_[i].token);
	}
	memset(seen_, 0, sizeof(seen_));
	nseen_ = 0;
	pthread_mutex_unlock(&lock_);
	return 0;
}

/* A configuration with webhooks at paths of the receiver; the header
 * X-Token, when token is not NULL, from a file holding token. */
typedef struct fixture {
	tg_config cfg;
	tg_config_webhook hooks[2];
	char *dir;
	char *token_file;
} fixture;

static void
fixture_init(fixture *f, const char *const *paths, size_t n, const char *token)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->cfg.source.url = "git://example.test/deploy.git";
	f->cfg.source.branch = "main";
	if (token) {
		f->dir = tt_mkdtemp();
		f->token_file = tg_path_join(f->dir, "token");
		tt_write_file(f->token_file, token);
	}
	for (i = 0; i < n; i++) {
		f->hooks[i].url =
		        tg_aprintf("http://127.0.0.1:%u%s", port_, paths[i]);
		f->hooks[i].header = token ? "X-Token" : NULL;
		f->hooks[i].header_value_file = f->token_file;
	}
	f->cfg.notify.webhooks = f->hooks;
	f->cfg.notify.nwebhooks = n;
}

static void fixture_free(fixture *f)
{
	size_t i;

	for (i = 0; i < f->cfg.notify.nwebhooks; i++)
		free(f->hooks[i].url);
	if (f->dir)
		tt_rmtree(f->dir);
	free(f->dir);
	free(f->token_file);
}

/* Queue {"event": name, "unit": unit}. */
static void add_event(tg_notifier *n, const char *name, const char *unit)
{
	json_t *ev = json_pack("{s:s,s:s}", "event", name, "unit", unit);

	tg_notifier_add(n, ev);
	json_decref(ev);
}

static void test_notify_delivers_body_and_headers(void **state)
{
	const char *paths[] = { "/ok" };
	fixture f;
	tg_notifier *n = NULL;
	size_t ok = 9, failed = 9;
	json_t *body;
	json_error_t jerr;

	(void)state;
	fixture_init(&f, paths, 1, "s3cret\n");
	assert_int_equal(tg_notifier_new(&n, &f.cfg), 0);
	add_event(n, "blocked", "web");
	assert_int_equal(tg_notifier_pending(n), 1);
	tg_notifier_flush(n, &ok, &failed);
	assert_int_equal(ok, 1);
	assert_int_equal(failed, 0);
	assert_int_equal(tg_notifier_pending(n), 0);
	assert_int_equal(nseen_, 1);
	assert_string_equal(seen_[0].path, "/ok");
	assert_non_null(seen_[0].content_type);
	assert_string_equal(seen_[0].content_type, "application/json");
	/* The header's value comes from its file, without the newline. */
	assert_non_null(seen_[0].token);
	assert_string_equal(seen_[0].token, "s3cret");
	body = json_loads(seen_[0].body, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "event")),
	                    "blocked");
	assert_string_equal(json_string_value(json_object_get(body, "unit")),
	                    "web");
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(body, "source"), "url")),
	                    "git://example.test/deploy.git");
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(body, "source"), "branch")),
	                    "main");
	assert_true(json_is_string(json_object_get(body, "time")));
	json_decref(body);
	tg_notifier_free(n);
	fixture_free(&f);
}

static void test_notify_retries_5xx_until_delivered(void **state)
{
	const char *paths[] = { "/flaky" };
	fixture f;
	tg_notifier *n = NULL;
	size_t ok = 0, failed = 0;

	(void)state;
	fixture_init(&f, paths, 1, NULL);
	assert_int_equal(tg_notifier_new(&n, &f.cfg), 0);
	add_event(n, "violation", "api");
	tg_notifier_flush(n, &ok, &failed);
	assert_int_equal(ok, 1);
	assert_int_equal(failed, 0);
	/* Two 503 answers, then the 200. No header configured: none sent. */
	assert_int_equal(nseen_, 3);
	assert_null(seen_[2].token);
	tg_notifier_free(n);
	fixture_free(&f);
}

static void test_notify_gives_up_after_retries(void **state)
{
	const char *paths[] = { "/down" };
	fixture f;
	tg_notifier *n = NULL;
	size_t ok = 0, failed = 0;

	(void)state;
	fixture_init(&f, paths, 1, NULL);
	assert_int_equal(tg_notifier_new(&n, &f.cfg), 0);
	add_event(n, "driftCorrected", "shop");
	tg_notifier_flush(n, &ok, &failed);
	assert_int_equal(ok, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(nseen_, 1 + TG_NOTIFY_RETRIES);
	/* Dropped, not kept for the next flush. */
	assert_int_equal(tg_notifier_pending(n), 0);
	tg_notifier_free(n);
	fixture_free(&f);
}

static void test_notify_refuses_multiline_header_value(void **state)
{
	const char *paths[] = { "/ok" };
	fixture f;
	tg_notifier *n = NULL;
	size_t ok = 0, failed = 0;

	(void)state;
	fixture_init(&f, paths, 1, "one\nInjected: two\n");
	assert_int_equal(tg_notifier_new(&n, &f.cfg), 0);
	add_event(n, "blocked", "web");
	add_event(n, "blocked", "api");
	tg_notifier_flush(n, &ok, &failed);
	assert_int_equal(ok, 0);
	assert_int_equal(failed, 2);
	assert_int_equal(nseen_, 0);
	tg_notifier_free(n);
	fixture_free(&f);
}

static void test_notify_every_event_to_every_webhook(void **state)
{
	const char *paths[] = { "/ok", "/down" };
	fixture f;
	tg_notifier *n = NULL;
	size_t i, ok = 0, failed = 0, to_ok = 0;

	(void)state;
	fixture_init(&f, paths, 2, "t");
	assert_int_equal(tg_notifier_new(&n, &f.cfg), 0);
	add_event(n, "blocked", "web");
	add_event(n, "violation", "api");
	tg_notifier_flush(n, &ok, &failed);
	/* Each of the two events once to each of the two webhooks. */
	assert_int_equal(ok, 2);
	assert_int_equal(failed, 2);
	for (i = 0; i < nseen_; i++)
		to_ok += !strcmp(seen_[i].path, "/ok");
	assert_int_equal(to_ok, 2);
	assert_int_equal(nseen_, 2 + 2 * (1 + TG_NOTIFY_RETRIES));
	tg_notifier_free(n);
	fixture_free(&f);
}

static void test_notify_bounds_waiting_events(void **state)
{
	const char *paths[] = { "/ok" };
	fixture f, none;
	tg_notifier *n = NULL, *quiet = NULL;
	size_t i;

	(void)state;
	fixture_init(&f, paths, 1, NULL);
	fixture_init(&none, paths, 0, NULL);
	assert_int_equal(tg_notifier_new(&n, &f.cfg), 0);
	assert_int_equal(tg_notifier_new(&quiet, &none.cfg), 0);
	for (i = 0; i < TG_MAX_PENDING_NOTIFICATIONS + 5; i++) {
		add_event(n, "blocked", "web");
		add_event(quiet, "blocked", "web");
	}
	assert_int_equal(tg_notifier_pending(n), TG_MAX_PENDING_NOTIFICATIONS);
	/* Without webhooks nothing is queued at all. */
	assert_int_equal(tg_notifier_pending(quiet), 0);
	tg_notifier_free(n);
	tg_notifier_free(quiet);
	fixture_free(&f);
	fixture_free(&none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_notify_delivers_body_and_headers,
		                       seen_reset),
		cmocka_unit_test_setup(test_notify_retries_5xx_until_delivered,
		                       seen_reset),
		cmocka_unit_test_setup(test_notify_gives_up_after_retries,
		                       seen_reset),
		cmocka_unit_test_setup(
		        test_notify_refuses_multiline_header_value, seen_reset),
		cmocka_unit_test_setup(test_notify_every_event_to_every_webhook,
		                       seen_reset),
		cmocka_unit_test_setup(test_notify_bounds_waiting_events,
		                       seen_reset),
	};
	int rc = cmocka_run_group_tests(tests, server_start, server_stop);

	seen_reset(NULL);
	return rc;
}
