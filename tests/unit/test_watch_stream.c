/*
 * Tests of a watch stream's reader (reconciler/cluster/watch_stream.c):
 * events are lines of at most TG_WATCH_MAX_EVENT_BYTES, however the
 * server's bytes are split into reads; a longer one ends the stream
 * (the watcher lists again) instead of growing without bound; ERROR
 * events and lines that are not events end it with their reason. The
 * fuzz target fuzz_watch_stream explores the rest; events this long are
 * past its input size.
 *
 * And what a watcher keeps and serves (watch.c, watch_cache.c): a lean
 * watcher (its reader vouches for objects by uid and resourceVersion, as
 * drift does with its memo) keeps no text of listed objects and drops
 * the text an event brought once the reader vouched for it; an object
 * it has no text of that the reader does not vouch for is reported
 * missing, never skipped.
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
	watch_cache_init(&f->w.objs);
	tg_strlcpy(f->w.rv, "1", sizeof(f->w.rv));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	watch_cache_clear(&f->w.objs);
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
		watch_cache_clear(&f->w.objs);
		assert_int_equal(feed(f, text, strlen(text), step), 0);
		assert_int_equal(f->w.objs.n, 1);
		assert_non_null(watch_cache_get(&f->w.objs, "prod/b"));
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
	assert_non_null(watch_cache_get(&f->w.objs, "prod/big"));
	assert_string_equal(f->w.rv, "9");
	assert_int_equal(feed(f, over, TG_WATCH_MAX_EVENT_BYTES + 2,
	                      TG_WATCH_MAX_EVENT_BYTES + 2),
	                 WATCH_FAILED);
	assert_non_null(strstr(f->w.why, "an event longer than"));
	f->w.why[0] = '\0';
	assert_int_equal(feed(f, over, TG_WATCH_MAX_EVENT_BYTES + 2, 16384),
	                 WATCH_FAILED);
	assert_non_null(strstr(f->w.why, "an event longer than"));
	assert_null(watch_cache_get(&f->w.objs, "prod/bigger"));
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
	assert_int_equal(f->w.objs.n, 0);
}

/* A list page of ConfigMaps in prod: a (uid ua, rv 5), b (ub, 6), and
 * c without a uid (it cannot be vouched for by its identity). */
static const char g_page[] =
        "{\"kind\":\"ConfigMapList\",\"metadata\":{\"resourceVersion\":"
        "\"10\"},\"items\":["
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"prod\",\"uid\":"
        "\"ua\",\"resourceVersion\":\"5\"},\"data\":{\"k\":\"1\"}},"
        "{\"metadata\":{\"name\":\"b\",\"namespace\":\"prod\",\"uid\":"
        "\"ub\",\"resourceVersion\":\"6\"},\"data\":{\"k\":\"2\"}},"
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"prod\","
        "\"resourceVersion\":\"7\"},\"data\":{\"k\":\"3\"}}]}";

/* A reader: vouches for "name@rv" in vouch, records what it is handed
 * ("name" of items, "name?" of missing ones), space-separated. */
typedef struct reader {
	const char *vouch;
	char got[256];
} reader;

static void got(reader *r, const char *name, const char *tail)
{
	size_t n = strlen(r->got);

	snprintf(r->got + n, sizeof(r->got) - n, "%s%s%s", n ? " " : "", name,
	         tail);
}

static bool r_skip(void *ctx,
                   const char *ns,
                   const char *name,
                   const char *uid,
                   const char *rv)
{
	reader *r = ctx;
	char *want = tg_aprintf("%s@%s", name, rv);
	bool yes = strstr(r->vouch, want) != NULL;

	assert_string_equal(ns, "prod");
	assert_true(*uid == 'u');
	free(want);
	return yes;
}

static void r_item(void *ctx, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL);

	assert_non_null(o);
	got(ctx,
	    json_string_value(
	            json_object_get(json_object_get(o, "metadata"), "name")),
	    "");
	json_decref(o);
}

static void r_missing(void *ctx, const char *ns, const char *name)
{
	assert_string_equal(ns, "prod");
	got(ctx, name, "?");
}

/* Serve f's watcher (lean or not) to a reader vouching for vouch; what
 * it was handed, in name order. */
static char *serve(fixture *f, bool lean, const char *vouch)
{
	reader r = { vouch, "" };
	tg_watch_reader rd = { NULL, r_skip, r_item, r_missing, &r };
	char *names[8], *save = NULL, *t, *out;
	size_t n = 0, i, j;

	if (!lean)
		rd.missing = NULL;
	assert_int_equal(tg_watch_set_serve(f->ws, "v1", "ConfigMap", "prod",
	                                    "tollgate.dev/unit=shop", "unused",
	                                    &rd),
	                 1);
	for (t = strtok_r(r.got, " ", &save); t && n < 8;
	     t = strtok_r(NULL, " ", &save))
		names[n++] = t;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	out = tg_strdup("");
	for (i = 0; i < n; i++) {
		t = tg_aprintf("%s%s%s", out, i ? " " : "", names[i]);
		free(out);
		out = t;
	}
	return out;
}

/* Make f's watcher the set's, listed and open, lean or not, holding
 * g_page. */
static void listed(fixture *f, bool lean, char *key)
{
	char *cont = (char *)"x";

	f->w.key = key;
	f->w.lean = lean;
	f->w.listed = f->w.open = true;
	assert_int_equal(watch_take_page(&f->w, g_page, strlen(g_page),
	                                 &f->w.objs, &cont),
	                 0);
	assert_null(cont);
	assert_string_equal(f->w.rv, "10");
	f->ws->w = tg_calloc(1, sizeof(*f->ws->w));
	f->ws->w[0] = &f->w;
	f->ws->n = 1;
}

static int teardown_listed(void **state)
{
	fixture *f = *state;

	free(f->ws->w);
	f->ws->w = NULL;
	f->ws->n = 0;
	return teardown(state);
}

static const char *text_of(fixture *f, const char *key)
{
	watch_obj *o = watch_cache_get(&f->w.objs, key);

	assert_non_null(o);
	return o->text;
}

static void check(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

/* Lean: listed objects are kept without text (but c, which only its text
 * can vouch for); what the reader does not vouch for and has no text is
 * missing; an event's text is served until the reader vouches for the
 * object at its new resourceVersion, then dropped. */
static void test_watch_serve_lean(void **state)
{
	static char key[] = "v1 ConfigMap prod tollgate.dev/unit=shop (lean)";
	fixture *f = *state;
	const char *ev = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{"
	                 "\"name\":\"a\",\"namespace\":\"prod\",\"uid\":"
	                 "\"ua\",\"resourceVersion\":\"11\"},\"data\":{\"k\":"
	                 "\"9\"}}}\n";

	listed(f, true, key);
	assert_int_equal(f->w.objs.n, 3);
	assert_null(text_of(f, "prod/a"));
	assert_null(text_of(f, "prod/b"));
	assert_non_null(text_of(f, "prod/c"));
	/* Nothing vouched for: a and b must be read from the server. */
	check(serve(f, true, ""), "a? b? c");
	/* A reader vouching for an older resourceVersion gets nothing
	 * skipped. */
	check(serve(f, true, "a@4 b@5"), "a? b? c");
	check(serve(f, true, "a@5 b@6"), "c");
	/* An edit: a's text comes with its event, and is handed on while
	 * the reader has not seen a at 11. */
	assert_int_equal(feed(f, ev, strlen(ev), 5), 0);
	assert_non_null(strstr(text_of(f, "prod/a"), "\"9\""));
	check(serve(f, true, "a@5 b@6"), "a c");
	assert_non_null(text_of(f, "prod/a"));
	/* Vouched for at 11: its text is dropped. */
	check(serve(f, true, "a@11 b@6"), "c");
	assert_null(text_of(f, "prod/a"));
	check(serve(f, true, "b@6"), "a? c");
	/* Deleted: neither served nor missing. */
	ev = "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":"
	     "\"b\",\"namespace\":\"prod\",\"uid\":\"ub\","
	     "\"resourceVersion\":\"12\"}}}\n";
	assert_int_equal(feed(f, ev, strlen(ev), 64), 0);
	check(serve(f, true, ""), "a? c");
}

/* Keep: the text of an object read from the server because the lean
 * watch had none is kept at the same uid and resourceVersion, so the
 * next serve hands it on from the watch (an object whose drift is only
 * reported is never vouched for, and was listed from the server in every
 * cycle); another version, another uid or another list's watcher keeps
 * nothing. */
static void test_watch_keep_missing_text(void **state)
{
	static char key[] = "v1 ConfigMap prod tollgate.dev/unit=shop (lean)";
	fixture *f = *state;
	reader r = { "", "" };
	tg_watch_reader rd = { NULL, r_skip, r_item, r_missing, &r };
	const char *text = "{\"metadata\":{\"name\":\"a\"},\"data\":"
	                   "{\"k\":\"drifted\"}}";
	tg_watch_object a = { "prod", "a", "ua", "5", text, strlen(text) };
	tg_watch_object b_newer = { "prod", "b", "ub", "7", text, 4 };
	tg_watch_object b_other = { "prod", "b", "ux", "6", text, 4 };

	listed(f, true, key);
	check(serve(f, true, ""), "a? b? c");
	tg_watch_set_keep(f->ws, "v1", "ConfigMap", "prod",
	                  "tollgate.dev/unit=shop", &rd, &a);
	tg_watch_set_keep(f->ws, "v1", "ConfigMap", "prod",
	                  "tollgate.dev/unit=shop", &rd, &b_newer);
	tg_watch_set_keep(f->ws, "v1", "ConfigMap", "prod",
	                  "tollgate.dev/unit=shop", &rd, &b_other);
	/* another list (no selector): another watcher, nothing kept */
	tg_watch_set_keep(f->ws, "v1", "ConfigMap", "prod", NULL, &rd, &a);
	assert_string_equal(text_of(f, "prod/a"), text);
	assert_null(text_of(f, "prod/b"));
	check(serve(f, true, ""), "a b? c");
	check(serve(f, true, "b@6"), "a c");
	/* Vouched for at last: dropped again, as an event's text is. */
	check(serve(f, true, "a@5 b@6"), "c");
	assert_null(text_of(f, "prod/a"));
}

/* A watcher whose reader does not vouch (no skip) keeps every text, and
 * one that is not lean keeps them even when skip spares an object. */
static void test_watch_serve_whole(void **state)
{
	static char key[] = "v1 ConfigMap prod tollgate.dev/unit=shop (lean)";
	fixture *f = *state;

	/* The key a lean reader asks for, on a watcher that keeps texts
	 * (as one made for a reader without skip does). */
	listed(f, false, key);
	assert_non_null(text_of(f, "prod/a"));
	assert_non_null(text_of(f, "prod/b"));
	check(serve(f, true, ""), "a b c");
	check(serve(f, true, "a@5 b@6"), "c");
	assert_non_null(text_of(f, "prod/a"));
	check(serve(f, true, ""), "a b c");
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
		cmocka_unit_test_setup_teardown(test_watch_serve_lean, setup,
		                                teardown_listed),
		cmocka_unit_test_setup_teardown(test_watch_serve_whole, setup,
		                                teardown_listed),
		cmocka_unit_test_setup_teardown(test_watch_keep_missing_text,
		                                setup, teardown_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
