/*
 * A watch stream as the API server sends it: one JSON event per line
 * (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR), read by the watcher's
 * reader (watch_reader_feed, what the stream's libcurl callback calls)
 * into the watcher's objects (identity, uid, resourceVersion, content
 * hash and text) and resourceVersion.
 *
 * The first byte picks how the bytes arrive: in reads of 1..63 bytes
 * (the low six bits; 0: all at once), and whether the watcher follows
 * one of tollgate's labels (its changes are noted for a cycle), and
 * whether it is lean (the high bit: it keeps no text of what its reader
 * vouched for, but an event's text all the same); the rest is the
 * stream. Events near TG_WATCH_MAX_EVENT_BYTES (4 MiB, past
 * libFuzzer's input size) are tested in tests/unit/test_watch_stream.c.
 * The same stream is read a second time all at once: the end, the
 * objects kept and the resourceVersion must not depend on how the reads
 * split it (an event cut at a read boundary applied twice, or half).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "tollgate/util.h"
#include "watch_int.h"

static char key[] = "v1 ConfigMap prod app.kubernetes.io/managed-by=tollgate";
static char api_version[] = "v1", kind[] = "ConfigMap";

static void watcher_init(watcher *w, tg_watch_set *ws, bool relevant, bool lean)
{
	memset(w, 0, sizeof(*w));
	w->ws = ws;
	w->key = key;
	w->api_version = api_version;
	w->kind = kind;
	w->relevant = relevant;
	w->lean = lean;
	watch_cache_init(&w->objs);
	tg_strlcpy(w->rv, "1", sizeof(w->rv));
}

/* The stream's end as read in reads of at most step bytes (0: one). */
static int
read_stream(watcher *w, const uint8_t *data, size_t size, size_t step)
{
	watch_reader r;
	size_t off = 0, n;
	int end = 0;

	watch_reader_init(&r, w);
	while (!end && off < size) {
		n = step && size - off > step ? step : size - off;
		end = watch_reader_feed(&r, (const char *)data + off, n);
		off += n;
	}
	watch_reader_clear(&r);
	return end;
}

/* Every object kept is found by its key and has its text (an event
 * brought each: the reader vouched for none), text that parses as an
 * object of that name; the resourceVersion is one a URL can carry. */
static void check_watcher(const watcher *w)
{
	watch_obj *o = NULL;
	size_t i = 0, n = strlen(w->rv), count = 0;
	json_t *obj;

	while ((o = watch_cache_next(&w->objs, &i, o))) {
		count++;
		if (watch_cache_get(&w->objs, o->s) != o || !o->text ||
		    strlen(o->text) != o->len)
			abort();
		obj = json_loadb(o->text, o->len, 0, NULL);
		if (!json_is_object(obj) ||
		    strcmp(json_string_value(json_object_get(
		                   json_object_get(obj, "metadata"), "name")),
		           o->s + o->name))
			abort();
		json_decref(obj);
	}
	if (count != w->objs.n)
		abort();
	if (n == 0 || n > TG_WATCH_MAX_RV_BYTES)
		abort();
	for (i = 0; i < n; i++)
		if (w->rv[i] <= ' ' || w->rv[i] > '~')
			abort();
}

/* Whether a and b keep the same objects, texts and identities. */
static bool same(const watcher *a, const watcher *b)
{
	watch_obj *o = NULL, *p;
	size_t i = 0;

	if (watch_cache_differ(&a->objs, &b->objs))
		return false;
	while ((o = watch_cache_next(&a->objs, &i, o))) {
		p = watch_cache_get(&b->objs, o->s);
		if (o->len != p->len || memcmp(o->text, p->text, o->len) ||
		    o->peekable != p->peekable ||
		    strcmp(o->s + o->uid, p->s + p->uid) ||
		    strcmp(o->s + o->rv, p->s + p->rv))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_watch_conn conn = { 0 };
	tg_watch_set *ws;
	watcher split, whole;
	size_t step;
	bool relevant, lean;
	int end_split, end_whole;

	if (size < 1 || tg_watch_set_new(&ws, &conn, -1) < 0)
		return 0;
	step = data[0] & 63u;
	relevant = data[0] & 64u;
	lean = data[0] & 128u;
	watcher_init(&split, ws, relevant, lean);
	watcher_init(&whole, ws, relevant, lean);
	end_split = read_stream(&split, data + 1, size - 1, step);
	end_whole = read_stream(&whole, data + 1, size - 1, 0);
	check_watcher(&split);
	check_watcher(&whole);
	if (end_split != end_whole || strcmp(split.rv, whole.rv) ||
	    !same(&split, &whole))
		abort();
	(void)tg_watch_set_take_dirty(ws);
	watch_cache_clear(&split.objs);
	watch_cache_clear(&whole.objs);
	tg_watch_set_free(ws);
	return 0;
}
