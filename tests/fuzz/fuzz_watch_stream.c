/*
 * A watch stream as the API server sends it: one JSON event per line
 * (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR), read by the watcher's
 * reader (watch_reader_feed, what the stream's libcurl callback calls)
 * into the watcher's objects, hashes and resourceVersion.
 *
 * The first byte picks how the bytes arrive: in reads of 1..63 bytes
 * (the low six bits; 0: all at once), and whether the watcher follows
 * one of tollgate's labels (its changes are noted for a cycle); the rest
 * is the stream. Events near TG_WATCH_MAX_EVENT_BYTES (4 MiB, past
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

static void watcher_init(watcher *w, tg_watch_set *ws, bool relevant)
{
	memset(w, 0, sizeof(*w));
	w->ws = ws;
	w->key = key;
	w->api_version = api_version;
	w->kind = kind;
	w->relevant = relevant;
	w->objs = json_object();
	w->hashes = json_object();
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

/* Every object kept has its hash, and the other way round; the
 * resourceVersion is one a URL can carry. */
static void check_watcher(const watcher *w)
{
	const char *k;
	json_t *v;
	size_t i, n = strlen(w->rv);

	if (json_object_size(w->objs) != json_object_size(w->hashes))
		abort();
	json_object_foreach(w->objs, k, v) {
		if (!json_is_string(v) || !json_object_get(w->hashes, k))
			abort();
	}
	if (n == 0 || n > TG_WATCH_MAX_RV_BYTES)
		abort();
	for (i = 0; i < n; i++)
		if (w->rv[i] <= ' ' || w->rv[i] > '~')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_watch_conn conn = { 0 };
	tg_watch_set *ws;
	watcher split, whole;
	size_t step;
	bool relevant;
	int end_split, end_whole;

	if (size < 1 || tg_watch_set_new(&ws, &conn, -1) < 0)
		return 0;
	step = data[0] & 63u;
	relevant = data[0] & 64u;
	watcher_init(&split, ws, relevant);
	watcher_init(&whole, ws, relevant);
	end_split = read_stream(&split, data + 1, size - 1, step);
	end_whole = read_stream(&whole, data + 1, size - 1, 0);
	check_watcher(&split);
	check_watcher(&whole);
	if (end_split != end_whole || strcmp(split.rv, whole.rv) ||
	    !json_equal(split.objs, whole.objs) ||
	    !json_equal(split.hashes, whole.hashes))
		abort();
	(void)tg_watch_set_take_dirty(ws);
	json_decref(split.objs);
	json_decref(split.hashes);
	json_decref(whole.objs);
	json_decref(whole.hashes);
	tg_watch_set_free(ws);
	return 0;
}
