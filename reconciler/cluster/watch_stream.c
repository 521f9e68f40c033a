/*
 * Watches over libcurl: a watcher's list (pages, limit/continue) and its
 * stream (GET ?watch=1, one JSON event per line, each line bounded), and
 * what each event does to the objects kept. See watch.h.
 *
 * These run on the watcher's thread with their own curl handle: tg_http
 * buffers whole bodies and is driven by one thread, a watch never ends.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

#include "kube_int.h"
#include "watch_int.h"

/* Objects ------------------------------------------------------------------ */

/* "ns/name" of obj, or NULL without a name. */
static char *object_key(json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(m, "namespace"));
	const char *name = json_string_value(json_object_get(m, "name"));

	if (!name || !*name)
		return NULL;
	return tg_aprintf("%s/%s", ns ? ns : "", name);
}

/*
 * The content hash of obj: all but status and what the server keeps in
 * metadata on every write (resourceVersion, managedFields, generation),
 * so a status update by a controller is not a change worth a cycle,
 * while any change of spec, data, labels or annotations is.
 */
static void content_hash(unsigned char out[TG_SHA256_LEN], json_t *obj)
{
	json_t *c = json_copy(obj);
	json_t *m = json_copy(json_object_get(obj, "metadata"));
	char *s;

	json_object_del(m, "resourceVersion");
	json_object_del(m, "managedFields");
	json_object_del(m, "generation");
	json_object_set_new(c, "metadata", m ? m : json_object());
	json_object_del(c, "status");
	s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	tg_sha256(out, s ? s : "", s ? strlen(s) : 0);
	free(s);
	json_decref(c);
}

/* A resourceVersion we can carry: 1..TG_WATCH_MAX_RV_BYTES printable
 * characters (it is opaque, and escaped when it goes into a URL). */
static bool rv_ok(const char *rv)
{
	size_t n = rv ? strlen(rv) : 0, i;

	if (n == 0 || n > TG_WATCH_MAX_RV_BYTES)
		return false;
	for (i = 0; i < n; i++)
		if (rv[i] <= ' ' || rv[i] > '~')
			return false;
	return true;
}

static const char *object_rv(json_t *obj)
{
	return json_string_value(json_object_get(
	        json_object_get(obj, "metadata"), "resourceVersion"));
}

static const char *meta_string(json_t *obj, const char *member)
{
	const char *v = json_string_value(
	        json_object_get(json_object_get(obj, "metadata"), member));

	return v ? v : "";
}

/*
 * Keep obj (apiVersion and kind set to w's) in objs; *changed when its
 * content differs from what was kept. A lean watcher keeps the text of
 * an object from an event (unless its writer vouched for it at this
 * resourceVersion: tg_watch_set_vouch), not from a list (unless the
 * object cannot be vouched for by its identity alone). 0, or -1 with
 * w->why.
 */
static int keep_object(watcher *w,
                       watch_cache *objs,
                       json_t *obj,
                       bool from_event,
                       bool vouched,
                       bool *changed)
{
	unsigned char hash[TG_SHA256_LEN];
	const char *name = meta_string(obj, "name");
	watch_obj *o, *old;
	char *text;

	if (!*name) {
		snprintf(w->why, sizeof(w->why), "an object without a name");
		return -1;
	}
	json_object_set_new(obj, "apiVersion", json_string(w->api_version));
	json_object_set_new(obj, "kind", json_string(w->kind));
	content_hash(hash, obj);
	o = watch_obj_new(meta_string(obj, "namespace"), name,
	                  meta_string(obj, "uid"),
	                  meta_string(obj, "resourceVersion"), hash);
	old = watch_cache_get(objs, o->s);
	*changed = !old || memcmp(old->hash, hash, sizeof(hash)) != 0;
	if (!w->lean || (from_event && !vouched) || !o->peekable) {
		if (w->reduce)
			w->reduce(obj);
		if (!(text = json_dumps(obj, JSON_COMPACT))) {
			snprintf(w->why, sizeof(w->why), "out of memory");
			watch_obj_free(o);
			return -1;
		}
		o->text = text;
		o->len = strlen(text);
	}
	watch_cache_put(objs, o);
	return 0;
}

/* HTTP --------------------------------------------------------------------- */

typedef struct xfer {
	watcher *w;
	CURL *e;
	struct curl_slist *headers;
	tg_buf body;         /* list page, or an error answer */
	watch_reader reader; /* stream: lines to events */
	bool stream;         /* a watch */
	watch_end end;       /* stream: why it was cut by us */
	bool cut;            /* we ended the transfer */
	bool marked;         /* the stream was counted open */
	char errbuf[CURL_ERROR_SIZE];
} xfer;

static int on_progress(void *p,
                       curl_off_t dlt,
                       curl_off_t dln,
                       curl_off_t ult,
                       curl_off_t uln);
static size_t on_data(char *data, size_t size, size_t nmemb, void *p);

/* A GET of url with the set's connection settings. 0 or -1. */
static int xfer_init(xfer *x, watcher *w, const char *url, bool stream)
{
	tg_watch_set *ws = w->ws;
	struct curl_blob ca = { ws->ca, ws->ca_len, CURL_BLOB_NOCOPY };
	struct curl_blob cert = { ws->cert, ws->cert_len, CURL_BLOB_NOCOPY };
	struct curl_blob key = { ws->key, ws->key_len, CURL_BLOB_NOCOPY };
	CURL *e;

	memset(x, 0, sizeof(*x));
	x->w = w;
	x->stream = stream;
	tg_buf_init(&x->body, TG_MAX_KUBE_RESPONSE_BYTES);
	watch_reader_init(&x->reader, w);
	if (!(e = x->e = curl_easy_init()))
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, TG_HTTP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "tollgate");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	/* A stream quiet for longer than bookmarks allow is broken. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)TG_WATCH_IDLE_S);
	curl_easy_setopt(e, CURLOPT_TIMEOUT,
	                 stream ? (long)TG_WATCH_TIMEOUT_MAX_S + 60L
	                        : (long)TG_HTTP_TIMEOUT_S);
	if (ws->ca)
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
	if (ws->cert && ws->key) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
	}
	if (ws->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	x->headers = curl_slist_append(NULL, "Accept: application/json");
	if (ws->auth)
		x->headers = curl_slist_append(x->headers, ws->auth);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

static void xfer_clear(xfer *x)
{
	curl_easy_cleanup(x->e);
	curl_slist_free_all(x->headers);
	tg_buf_free(&x->body);
	watch_reader_clear(&x->reader);
}

/* Run x; its HTTP status, or 0 with w->why on a transfer failure. */
static long xfer_perform(xfer *x)
{
	CURLcode rc = curl_easy_perform(x->e);
	long status = 0;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && !x->cut) {
		snprintf(x->w->why, sizeof(x->w->why), "%s",
		         x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		return 0;
	}
	return status;
}

/* The message of a failed answer: its Status, or the HTTP code. */
static void answer_why(xfer *x, long status)
{
	json_t *st = json_loadb(x->body.data ? x->body.data : "", x->body.len,
	                        0, NULL);
	const char *m = json_string_value(json_object_get(st, "message"));

	snprintf(x->w->why, sizeof(x->w->why), "HTTP %ld: %.200s", status,
	         m ? m : "");
	json_decref(st);
}

/* Mark the stream open once the server answered 200 (lock taken). */
static void mark_open(xfer *x)
{
	tg_watch_set *ws = x->w->ws;
	long status = 0;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return;
	x->marked = true;
	pthread_mutex_lock(&ws->lock);
	x->w->open = true;
	watch_wake(ws); /* metrics */
	pthread_mutex_unlock(&ws->lock);
	tg_log(TG_LOG_DEBUG, "watch: stream open", "watch", x->w->key, "rv",
	       x->w->rv, NULL);
}

static int on_progress(
        void *p, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	xfer *x = p;

	(void)dlt;
	(void)dln;
	(void)ult;
	(void)uln;
	if (x->stream && !x->marked)
		mark_open(x);
	if (watch_stopping(x->w)) {
		x->cut = true;
		x->end = WATCH_STOPPED;
		return 1;
	}
	return 0;
}

/* Lists -------------------------------------------------------------------- */

/* Where a page's items go, one at a time. */
typedef struct page_sink {
	watcher *w;
	watch_cache *objs;
} page_sink;

/* One item of a page, parsed alone (the page is never a tree: a page of
 * 500 objects would be ten times its text) and kept. */
static int take_item(void *ctx, const char *text, size_t len)
{
	page_sink *ps = ctx;
	json_t *it = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	bool changed;
	int error = -1;

	if (!json_is_object(it))
		snprintf(ps->w->why, sizeof(ps->w->why),
		         "a listed object is not a JSON object");
	else if (keep_object(ps->w, ps->objs, it, false, false, &changed) == 0)
		error = 0;
	json_decref(it);
	if (error == 0 && ps->objs->n > TG_WATCH_MAX_OBJECTS) {
		snprintf(ps->w->why, sizeof(ps->w->why), "more than %d objects",
		         TG_WATCH_MAX_OBJECTS);
		error = -1;
	}
	return error < 0 ? TG_EPARSE : 0;
}

int watch_take_page(watcher *w,
                    const char *body,
                    size_t len,
                    watch_cache *objs,
                    char **cont)
{
	page_sink ps = { w, objs };
	const char *mtext, *next, *rv;
	size_t mlen;
	json_t *meta = NULL;
	int error = -1;

	if (kube_scan_page(&mtext, &mlen, body ? body : "", len, take_item,
	                   &ps) < 0) {
		if (!w->why[0])
			snprintf(w->why, sizeof(w->why),
			         "the list is not JSON");
		return -1;
	}
	if (mtext)
		meta = json_loadb(mtext, mlen, JSON_REJECT_DUPLICATES, NULL);
	next = json_string_value(json_object_get(meta, "continue"));
	rv = json_string_value(json_object_get(meta, "resourceVersion"));
	if (!rv_ok(rv)) {
		snprintf(w->why, sizeof(w->why),
		         "the list has no valid resourceVersion");
	} else {
		*cont = next && *next ? tg_strdup(next) : NULL;
		if (!*cont)
			tg_strlcpy(w->rv, rv, sizeof(w->rv));
		error = 0;
	}
	json_decref(meta);
	return error;
}

/* Fetch the page after cont (NULL: the first) and take it. */
static int list_page(watcher *w, watch_cache *objs, char **cont)
{
	char *q = tg_aprintf("limit=%u", w->ws->list_limit);
	char *url = kube_query_url(w->url, q, w->selector, *cont);
	xfer x;
	long status;
	int error = -1;

	free(*cont);
	*cont = NULL;
	if (xfer_init(&x, w, url, false) < 0)
		goto out;
	status = xfer_perform(&x);
	if (status != 200) {
		if (status)
			answer_why(&x, status);
		goto out;
	}
	error = watch_take_page(w, x.body.data, x.body.len, objs, cont);
out:
	xfer_clear(&x);
	free(url);
	free(q);
	return error;
}

int watch_list(watcher *w)
{
	tg_watch_set *ws = w->ws;
	watch_cache objs;
	char *cont = NULL;
	unsigned pages = 0;
	int error;

	watch_cache_init(&objs);
	do {
		error = list_page(w, &objs, &cont);
	} while (error == 0 && cont && ++pages < TG_KUBE_MAX_LIST_PAGES);
	if (error == 0 && cont) {
		snprintf(w->why, sizeof(w->why), "more than %d pages",
		         TG_KUBE_MAX_LIST_PAGES);
		error = -1;
	}
	free(cont);
	if (error == 0) {
		pthread_mutex_lock(&ws->lock);
		/* Listed again after a break: what changed meanwhile was
		 * never seen as an event. */
		if (w->relevant && w->listed_once && !w->retired &&
		    watch_cache_differ(&w->objs, &objs))
			watch_note_change(ws, NULL, NULL);
		w->listed_once = true;
		watch_cache_clear(&w->objs);
		w->objs = objs;
		watch_cache_init(&objs);
		w->listed = true;
		pthread_mutex_unlock(&ws->lock);
	}
	watch_cache_clear(&objs);
	return error;
}

/* Streams ------------------------------------------------------------------ */

/* The end an ERROR event asks for: 410 lists again as Gone, any other
 * Status too (the stream cannot be trusted to have everything). */
static watch_end error_event(watcher *w, json_t *st)
{
	json_int_t code = json_integer_value(json_object_get(st, "code"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	const char *msg = json_string_value(json_object_get(st, "message"));

	snprintf(w->why, sizeof(w->why), "ERROR event: %lld %s: %.200s",
	         (long long)code, reason ? reason : "", msg ? msg : "");
	return code == 410 ? WATCH_GONE : WATCH_FAILED;
}

/* ADDED, MODIFIED or DELETED of obj. */
static int object_event(watcher *w, const char *type, json_t *obj)
{
	tg_watch_set *ws = w->ws;
	const char *rv = object_rv(obj);
	bool changed = false, deleted = !strcmp(type, "DELETED");
	char *key = object_key(obj), *okey;
	int error = 0;

	if (!key || !rv_ok(rv)) {
		snprintf(w->why, sizeof(w->why),
		         "%s event without a name or a valid resourceVersion",
		         type);
		free(key);
		return -1;
	}
	okey = tg_aprintf("%s %s %s", w->api_version, w->kind, key);
	pthread_mutex_lock(&ws->lock);
	ws->stats.events++;
	if (deleted) {
		changed = watch_cache_del(&w->objs, key);
	} else if (w->objs.n >= TG_WATCH_MAX_OBJECTS &&
	           !watch_cache_get(&w->objs, key)) {
		snprintf(w->why, sizeof(w->why), "more than %d objects",
		         TG_WATCH_MAX_OBJECTS);
		error = -1;
	} else {
		error = keep_object(w, &w->objs, obj, true,
		                    w->lean && watch_vouched(ws, okey, rv),
		                    &changed);
	}
	if (error == 0)
		tg_strlcpy(w->rv, rv, sizeof(w->rv));
	if (error == 0 && changed && w->relevant && !w->retired)
		watch_note_change(ws, okey, deleted ? NULL : rv);
	pthread_mutex_unlock(&ws->lock);
	if (changed && w->relevant)
		tg_log(TG_LOG_DEBUG, "watch: change", "watch", w->key, "event",
		       type, "object", key, "rv", rv, NULL);
	free(okey);
	free(key);
	return error;
}

static void bookmark(watcher *w, json_t *obj)
{
	const char *rv = object_rv(obj);

	if (!rv_ok(rv))
		return;
	pthread_mutex_lock(&w->ws->lock);
	tg_strlcpy(w->rv, rv, sizeof(w->rv));
	w->ws->stats.bookmarks++;
	pthread_mutex_unlock(&w->ws->lock);
}

/* One line of the stream: 0 to go on, or how the stream must end. */
static int on_line(watch_reader *r, const char *line, size_t len)
{
	watcher *w = r->w;
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	int end = 0;

	r->events++;
	if (!type || !json_is_object(obj)) {
		snprintf(w->why, sizeof(w->why),
		         "event %u is not a watch event%s%s", r->events,
		         ev ? "" : ": ", ev ? "" : jerr.text);
		end = WATCH_FAILED;
	} else if (!strcmp(type, "BOOKMARK")) {
		bookmark(w, obj);
	} else if (!strcmp(type, "ERROR")) {
		end = error_event(w, obj);
	} else if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") &&
	           strcmp(type, "DELETED")) {
		snprintf(w->why, sizeof(w->why), "event %u: unknown type %.32s",
		         r->events, type);
		end = WATCH_FAILED;
	} else if (object_event(w, type, obj) < 0) {
		end = WATCH_FAILED;
	}
	json_decref(ev);
	return end;
}

void watch_reader_init(watch_reader *r, watcher *w)
{
	r->w = w;
	r->events = 0;
	tg_buf_init(&r->line, TG_WATCH_MAX_EVENT_BYTES);
}

void watch_reader_clear(watch_reader *r)
{
	tg_buf_free(&r->line);
}

/* Split the stream into lines, each at most TG_WATCH_MAX_EVENT_BYTES. */
int watch_reader_feed(watch_reader *r, const char *data, size_t n)
{
	const char *nl;
	int end;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		if (tg_buf_append(&r->line, data,
		                  nl ? (size_t)(nl - data) : n) < 0) {
			snprintf(r->w->why, sizeof(r->w->why),
			         "an event longer than %u bytes",
			         TG_WATCH_MAX_EVENT_BYTES);
			return WATCH_FAILED;
		}
		if (!nl)
			return 0;
		if (r->line.len > 0 &&
		    (end = on_line(r, r->line.data, r->line.len)) != 0)
			return end;
		tg_buf_clear(&r->line);
		n -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *p)
{
	xfer *x = p;
	size_t n = size * nmemb;
	long status = 0;
	int end;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	if (!x->stream || status != 200) {
		if (tg_buf_append(&x->body, data, n) < 0)
			return 0;
		return n;
	}
	if (!x->marked)
		mark_open(x);
	if ((end = watch_reader_feed(&x->reader, data, n)) != 0) {
		x->cut = true;
		x->end = (watch_end)end;
		return 0;
	}
	return n;
}

/* The stream's URL from w->rv (taken under the lock). */
static char *stream_url(watcher *w)
{
	unsigned timeout =
	        TG_WATCH_TIMEOUT_MIN_S +
	        (unsigned)rand_r(&w->seed) %
	                (TG_WATCH_TIMEOUT_MAX_S - TG_WATCH_TIMEOUT_MIN_S + 1);
	char rv[TG_WATCH_MAX_RV_BYTES + 1];
	char *erv, *q, *url;

	pthread_mutex_lock(&w->ws->lock);
	tg_strlcpy(rv, w->rv, sizeof(rv));
	pthread_mutex_unlock(&w->ws->lock);
	erv = curl_easy_escape(NULL, rv, 0);
	q = tg_aprintf("watch=1&allowWatchBookmarks=true&resourceVersion=%s&"
	               "timeoutSeconds=%u",
	               erv ? erv : "", timeout);
	url = kube_query_url(w->url, q, w->selector, NULL);
	curl_free(erv);
	free(q);
	return url;
}

watch_end watch_stream(watcher *w)
{
	char *url = stream_url(w);
	watch_end end = WATCH_FAILED;
	xfer x;
	long status;

	if (xfer_init(&x, w, url, true) < 0)
		goto out;
	status = xfer_perform(&x);
	if (x.cut)
		end = x.end;
	else if (status == 200)
		end = WATCH_CLOSED;
	else if (status == 410)
		end = WATCH_GONE;
	else if (status == 0 && x.marked)
		end = WATCH_CLOSED; /* cut after it was open: resume */
	if (!x.cut && status != 200 && status != 0)
		answer_why(&x, status);
out:
	xfer_clear(&x);
	free(url);
	return end;
}
