/*
 * Tests of a watch stream's reader (reconciler/cluster/watch_stream.c):
 * events are lines of at most TG_WATCH_MAX_EVENT_BYTES, however the
 * server's bytes are split into reads; a longer one ends the stream
 * (the watcher lists again) instead of growing without bound; ERROR
 * events and lines that are not events end it with their reason. The
 * fuzz target fuzz_watch_stream explores the rest; events this long are
 * past its input size.
 */
#include <stdlib.h>
#include <string.h>

#include "../../reconciler/cluster/watch_int.h"
#include "testlib.h"
#include "tollgate/buf.h"
#include "tollgate/util.h"

static char g_key[] = "v1 ConfigMap prod tollgate.dev/unit=shop";
static char g_api[] = "v1", g_kind[] = "ConfigMap";

typedef struct fixture {
	tg_watch_set *ws;
	watcher w;
} fixture;

static int setup(void **state)
{
	tg_watch_conn conn = { 0 };
	fixture *f = tg_calloc(1, sizeof(*f));

	assert_int_equal(tg_watch_set_new(&f->ws, &conn, -1), 0);
	f->w.ws = f->ws;
	f->w.key = g_key;
	f->w.api_version = g_api;
	f->w.kind = g_kind;
	f->w.relevant = true;
	f->w.objs = json_object();
	f->w.hashes = json_object();
	tg_strlcpy(f->w.rv, "1", sizeof(f->w.rv));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	json_decref(f->w.objs);
	json_decref(f->w.hashes);
	tg_watch_set_free(f->ws);
	free(f);
	return 0;
}

/* Feed text to a new reader in reads of step bytes; the stream's end. */
static int feed(fixture *f, const char *text, size_t len, size_t step)
{
	watch_reader r;
	size_t off = 0, n;
	int end = 0;

	watch_reader_init(&r, &f->w);
	while (!end && off < len) {
		n = len - off > step ? step : len - off;
		end = watch_reader_feed(&r, text + off, n);
		off += n;
	}
	watch_reader_clear(&r);
	return end;
}

/* An ADDED event of the ConfigMap name whose line is exactly len bytes
 * long (the data value pads it), newline not counted. */
static char *event_of_len(const char *name, size_t len)
{
	char *head = tg_aprintf("{\"type\":\"ADDED\",\"object\":{\"metadata\":"
	                        "{\"name\":\"%s\",\"namespace\":\"prod\","
	                        "\"resourceVersion\":\"9\"},\"data\":{\"k\":\"",
	                        name);
	size_t hl = strlen(head), tail = 4; /* "}}}" and the newline */
	char *ev = tg_malloc(len + 2);

	assert_true(len > hl + tail);
	memcpy(ev, head, hl);
	memset(ev + hl, 'x', len - hl - 4);
	memcpy(ev + len - 4, "\"}}}\n", 6);
	free(head);
	return ev;
}

/* Events split at every byte are applied once each, in order. */
static void test_watch_stream_any_split(void **state)
{
	fixture *f = *state;
	const char *text =
	        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
	        "\"namespace\":\"prod\",\"resourceVersion\":\"5\"}}}\n\n"
	        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\","
	        "\"namespace\":\"prod\",\"resourceVersion\":\"6\"}}}\r\n"
	        "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":"
	        "\"a\",\"namespace\":\"prod\",\"resourceVersion\":\"7\"}}}\n"
	        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{"
	        "\"resourceVersion\":\"8\"}}}\n";
	size_t step;

	for (step = 1; step <= strlen(text); step += 7) {
		json_object_clear(f->w.objs);
		json_object_clear(f->w.hashes);
		assert_int_equal(feed(f, text, strlen(text), step), 0);
		assert_int_equal(json_object_size(f->w.objs), 1);
		assert_non_null(json_object_get(f->w.objs, "prod/b"));
		assert_string_equal(f->w.rv, "8");
	}
	assert_true(tg_watch_set_take_dirty(f->ws));
}

/* An event of TG_WATCH_MAX_EVENT_BYTES is read; one byte more ends the
 * stream, whether it comes in one read or many. */
static void test_watch_stream_event_limit(void **state)
{
	fixture *f = *state;
	char *ok = event_of_len("big", TG_WATCH_MAX_EVENT_BYTES);
	char *over = event_of_len("bigger", TG_WATCH_MAX_EVENT_BYTES + 1);

	assert_int_equal(feed(f, ok, TG_WATCH_MAX_EVENT_BYTES + 1, 65536), 0);
	assert_non_null(json_object_get(f->w.objs, "prod/big"));
	assert_string_equal(f->w.rv, "9");
	assert_int_equal(feed(f, over, TG_WATCH_MAX_EVENT_BYTES + 2,
	                      TG_WATCH_MAX_EVENT_BYTES + 2),
	                 WATCH_FAILED);
	assert_non_null(strstr(f->w.why, "an event longer than"));
	f->w.why[0] = '\0';
	assert_int_equal(feed(f, over, TG_WATCH_MAX_EVENT_BYTES + 2, 16384),
	                 WATCH_FAILED);
	assert_non_null(strstr(f->w.why, "an event longer than"));
	assert_null(json_object_get(f->w.objs, "prod/bigger"));
	free(ok);
	free(over);
}

/* ERROR 410 lists again as Gone, any other ERROR or a line that is not
 * an event fails the stream with its reason; the events before count. */
static void test_watch_stream_errors(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *text;
		int end;
		const char *why;
	} cases[] = {
		{ "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
		  "\"code\":"
		  "410,\"reason\":\"Expired\",\"message\":\"too old\"}}\n",
		  WATCH_GONE, "ERROR event: 410 Expired: too old" },
		{ "{\"type\":\"ERROR\",\"object\":{\"code\":500,\"message\":"
		  "\"etcd\"}}\n",
		  WATCH_FAILED, "ERROR event: 500 : etcd" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\"\n",
		  WATCH_FAILED, "event 1 is not a watch event: " },
		{ "{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{}}\n",
		  WATCH_FAILED, "event 1 is not a watch event: " },
		{ "{\"type\":\"HACKED\",\"object\":{}}\n", WATCH_FAILED,
		  "event 1: unknown type HACKED" },
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
		  "\"x\","
		  "\"resourceVersion\":\"1 2\"}}}\n",
		  WATCH_FAILED,
		  "ADDED event without a name or a valid resourceVersion" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->w.why[0] = '\0';
		assert_int_equal(
		        feed(f, cases[i].text, strlen(cases[i].text), 3),
		        cases[i].end);
		assert_non_null(strstr(f->w.why, cases[i].why));
	}
	assert_int_equal(json_object_size(f->w.objs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watch_stream_any_split,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_stream_event_limit,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_stream_errors, setup,
		                                teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
