/*
 * Watches: the set, what it serves, and each watcher's thread (list, then
 * follow the stream, again after a failure). The HTTP side and the events
 * are in watch_stream.c. See reconciler/include/tollgate/watch.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

#include "kube_int.h"
#include "watch_int.h"

/* The set ----------------------------------------------------------------- */

int tg_watch_set_new(tg_watch_set **out, const tg_watch_conn *conn, int wake_fd)
{
	tg_watch_set *ws = tg_calloc(1, sizeof(*ws));

	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->cond, NULL);
	ws->wake_fd = wake_fd;
	tg_buf_init(&ws->pending, SIZE_MAX);
	tg_buf_init(&ws->own_used, SIZE_MAX);
	ws->own = json_object();
	ws->vouched = json_object();
	ws->auth = conn->auth_header ? tg_strdup(conn->auth_header) : NULL;
	ws->ca = kube_blob_dup(conn->ca_pem, conn->ca_pem_len);
	ws->ca_len = conn->ca_pem_len;
	ws->cert =
	        kube_blob_dup(conn->client_cert_pem, conn->client_cert_pem_len);
	ws->cert_len = conn->client_cert_pem_len;
	ws->key = kube_blob_dup(conn->client_key_pem, conn->client_key_pem_len);
	ws->key_len = conn->client_key_pem_len;
	ws->insecure = conn->insecure_skip_verify;
	ws->list_limit =
	        conn->list_limit ? conn->list_limit : TG_KUBE_LIST_LIMIT;
	*out = ws;
	return 0;
}

static void watcher_free(watcher *w)
{
	free(w->key);
	free(w->api_version);
	free(w->kind);
	free(w->url);
	free(w->selector);
	watch_cache_clear(&w->objs);
	free(w);
}

static void wipe_free(char *s, size_t len)
{
	if (s)
		OPENSSL_cleanse(s, len);
	free(s);
}

void tg_watch_set_free(tg_watch_set *ws)
{
	size_t i;

	if (!ws)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->stop = true;
	pthread_cond_broadcast(&ws->cond);
	pthread_mutex_unlock(&ws->lock);
	/* Each thread sees stop within a second: its transfer's progress
	 * callback or its backoff wait. */
	for (i = 0; i < ws->n; i++)
		if (ws->w[i]->started)
			pthread_join(ws->w[i]->thread, NULL);
	for (i = 0; i < ws->n; i++)
		watcher_free(ws->w[i]);
	free(ws->w);
	for (i = 0; i < ws->nretired; i++) {
		if (ws->retired[i]->started)
			pthread_join(ws->retired[i]->thread, NULL);
		watcher_free(ws->retired[i]);
	}
	free(ws->retired);
	tg_buf_free(&ws->pending);
	tg_buf_free(&ws->own_used);
	json_decref(ws->own);
	json_decref(ws->vouched);
	if (ws->auth)
		wipe_free(ws->auth, strlen(ws->auth));
	free(ws->ca);
	free(ws->cert);
	wipe_free(ws->key, ws->key_len);
	pthread_cond_destroy(&ws->cond);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}

bool watch_stopping(watcher *w)
{
	bool stop;

	pthread_mutex_lock(&w->ws->lock);
	stop = w->ws->stop || w->retired;
	pthread_mutex_unlock(&w->ws->lock);
	return stop;
}

void watch_wake(tg_watch_set *ws)
{
	char one = 1;

	/* The run loop's wake pipe is non-blocking: a full pipe already
	 * wakes it. */
	if (ws->wake_fd >= 0 && write(ws->wake_fd, &one, 1) < 0 &&
	    errno != EAGAIN)
		tg_log(TG_LOG_DEBUG, "watch: wake failed", "error",
		       strerror(errno), NULL);
}

/* Append the change of key to rv (NULL: deleted) to b as "key\0" then
 * "+rv\0" or "-\0"; nothing appended when it does not fit. 0 or -1. */
static int put_change(tg_buf *b, const char *key, const char *rv)
{
	size_t len = b->len;

	if (tg_buf_append(b, key, strlen(key) + 1) < 0 ||
	    tg_buf_puts(b, rv ? "+" : "-") < 0 ||
	    tg_buf_append(b, rv ? rv : "", strlen(rv ? rv : "") + 1) < 0) {
		b->len = len;
		return -1;
	}
	return 0;
}

/* The record of put_change at *p (rv NULL for a delete), moving *p past
 * it. */
static void next_change(const char **p, const char **key, const char **rv)
{
	*key = *p;
	*p += strlen(*p) + 1;
	*rv = **p == '+' ? *p + 1 : NULL;
	*p += strlen(*p) + 1;
}

void watch_note_change(tg_watch_set *ws, const char *key, const char *rv)
{
	/* Unknown (key NULL) or too many to judge: a cycle, which is
	 * never wrong (and so is one whose record cannot be kept). */
	if (!key || ws->npending >= TG_WATCH_MAX_PENDING ||
	    put_change(&ws->pending, key, rv) < 0)
		ws->dirty = true;
	else
		ws->npending++;
	watch_wake(ws);
}

void tg_watch_set_own_write(tg_watch_set *ws,
                            const char *api_version,
                            const char *kind,
                            const char *ns,
                            const char *name,
                            const char *rv)
{
	char *key = tg_aprintf("%s %s %s/%s", api_version, kind, ns ? ns : "",
	                       name);

	pthread_mutex_lock(&ws->lock);
	/* No-op applies leave entries no event will ever match: forget them
	 * all now and then (their events, if any came, are long judged). */
	if (json_object_size(ws->own) >= TG_WATCH_MAX_OWN)
		json_object_clear(ws->own);
	json_object_set_new(ws->own, key, json_string(rv ? rv : ""));
	pthread_mutex_unlock(&ws->lock);
	free(key);
}

void tg_watch_set_vouch(tg_watch_set *ws,
                        const char *api_version,
                        const char *kind,
                        const char *ns,
                        const char *name,
                        const char *rv)
{
	char *key, *okey;
	bool found = false, watched = false;
	watch_obj *o;
	size_t i;

	if (!api_version || !kind || !name || !rv || !*rv)
		return;
	key = tg_aprintf("%s/%s", ns ? ns : "", name);
	okey = tg_aprintf("%s %s %s", api_version, kind, key);
	pthread_mutex_lock(&ws->lock);
	for (i = 0; i < ws->n; i++) {
		watcher *w = ws->w[i];

		if (!w->lean || w->retired ||
		    strcmp(w->api_version, api_version) ||
		    strcmp(w->kind, kind))
			continue;
		watched = true;
		o = watch_cache_get(&w->objs, key);
		if (!o || strcmp(o->s + o->rv, rv))
			continue;
		/* Its event came first: the text goes now. */
		found = true;
		if (o->peekable && o->text) {
			free(o->text);
			o->text = NULL;
			o->len = 0;
		}
	}
	/* No watch of the kind, no event to wait for: a watch started
	 * later lists the object and keeps no text of it. */
	if (watched && !found) {
		/* Answers whose events never come (a no-op apply keeps the
		 * resourceVersion the watch has already) are forgotten now
		 * and then. */
		if (json_object_size(ws->vouched) >= TG_WATCH_MAX_OWN)
			json_object_clear(ws->vouched);
		json_object_set_new(ws->vouched, okey, json_string(rv));
	}
	pthread_mutex_unlock(&ws->lock);
	free(okey);
	free(key);
}

bool watch_vouched(tg_watch_set *ws, const char *okey, const char *rv)
{
	const char *v = json_string_value(json_object_get(ws->vouched, okey));

	if (!v || strcmp(v, rv))
		return false;
	json_object_del(ws->vouched, okey);
	return true;
}

/* Whether the change of key to rv (NULL: deleted) is tollgate's own
 * write (lock held). */
static bool own_change(tg_watch_set *ws, const char *key, const char *rv)
{
	const char *mine = json_string_value(json_object_get(ws->own, key));

	if (!mine)
		return false;
	return rv ? !strcmp(mine, rv) : !*mine;
}

/* The own writes judged before the last cycle go (lock held), unless
 * written again since (another resourceVersion). */
static void forget_used(tg_watch_set *ws)
{
	const char *p = ws->own_used.data, *end, *key, *rv;

	for (end = p ? p + ws->own_used.len : NULL; p && p < end;) {
		next_change(&p, &key, &rv);
		if (own_change(ws, key, rv))
			json_object_del(ws->own, key);
	}
	tg_buf_free(&ws->own_used);
	tg_buf_init(&ws->own_used, SIZE_MAX);
}

bool tg_watch_set_take_dirty(tg_watch_set *ws)
{
	const char *p, *end, *key, *rv;
	bool d;

	pthread_mutex_lock(&ws->lock);
	d = ws->dirty;
	/* Without a sweep (cycles that keep failing), at most this much. */
	if (ws->own_used.len > TG_WATCH_MAX_OWN_USED_BYTES)
		forget_used(ws);
	p = ws->pending.data;
	end = p ? p + ws->pending.len : NULL;
	while (p && p < end) {
		next_change(&p, &key, &rv);
		if (!own_change(ws, key, rv)) {
			d = true;
			ws->stats.relevant++;
		} else {
			/* Used up only at the next sweep: one object's
			 * event comes from every watch that lists it (an
			 * inventory ConfigMap is in the list of inventories
			 * and in that of tollgate's label), and the two may
			 * be judged at two wakes. Unrecorded, it is used up
			 * never: forgotten with the own writes at their
			 * limit. */
			(void)put_change(&ws->own_used, key, rv);
		}
	}
	/* The next cycle's changes start from an empty buffer: one that
	 * held 10,000 of them does not stay. */
	tg_buf_free(&ws->pending);
	tg_buf_init(&ws->pending, SIZE_MAX);
	ws->npending = 0;
	ws->dirty = false;
	pthread_mutex_unlock(&ws->lock);
	return d;
}

/* Join and free the retired watchers whose thread ended (lock held:
 * those threads no longer take it). */
static void reap_retired(tg_watch_set *ws)
{
	size_t i, kept = 0;
	watcher *w;

	for (i = 0; i < ws->nretired; i++) {
		w = ws->retired[i];
		if (w->started && !w->done) {
			ws->retired[kept++] = w;
			continue;
		}
		if (w->started)
			pthread_join(w->thread, NULL);
		watcher_free(w);
	}
	ws->nretired = kept;
}

/* Move w (number i of ws->w) to the retired ones (lock held). */
static void retire(tg_watch_set *ws, size_t i)
{
	watcher *w = ws->w[i];

	tg_log(TG_LOG_INFO, "watch: stopped, no list asked for it", "watch",
	       w->key, NULL);
	w->retired = true;
	watch_cache_clear(&w->objs);
	ws->retired = tg_realloc(ws->retired,
	                         (ws->nretired + 1) * sizeof(*ws->retired));
	ws->retired[ws->nretired++] = w;
	ws->w[i] = ws->w[--ws->n];
}

void tg_watch_set_sweep(tg_watch_set *ws)
{
	size_t i;

	pthread_mutex_lock(&ws->lock);
	forget_used(ws);
	json_object_clear(ws->vouched);
	ws->cycle++;
	for (i = ws->n; i-- > 0;)
		if (ws->cycle - ws->w[i]->used > TG_WATCH_IDLE_CYCLES)
			retire(ws, i);
	/* Threads waiting out a backoff see it now. */
	pthread_cond_broadcast(&ws->cond);
	reap_retired(ws);
	pthread_mutex_unlock(&ws->lock);
}

bool tg_watch_set_synced(tg_watch_set *ws)
{
	bool ok = true;
	size_t i;

	pthread_mutex_lock(&ws->lock);
	for (i = 0; i < ws->n && ok; i++)
		ok = ws->w[i]->listed && ws->w[i]->open;
	pthread_mutex_unlock(&ws->lock);
	return ok;
}

void tg_watch_set_stats(tg_watch_stats *out, tg_watch_set *ws)
{
	size_t i;

	pthread_mutex_lock(&ws->lock);
	*out = ws->stats;
	out->watchers = (unsigned)ws->n;
	out->open = 0;
	for (i = 0; i < ws->n; i++)
		out->open += ws->w[i]->open ? 1 : 0;
	pthread_mutex_unlock(&ws->lock);
}

/* Serving ----------------------------------------------------------------- */

static char *list_key(const char *api_version,
                      const char *kind,
                      const char *ns,
                      const char *selector,
                      const tg_watch_reader *rd)
{
	return tg_aprintf("%s %s %s %s%s%s", api_version, kind, ns ? ns : "",
	                  selector ? selector : "",
	                  rd->reduce ? " (reduced)" : "",
	                  rd->skip ? " (lean)" : "");
}

static watcher *find_watcher(tg_watch_set *ws, const char *key)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (!strcmp(ws->w[i]->key, key))
			return ws->w[i];
	return NULL;
}

static void *watcher_main(void *arg);

/* A new watcher for key, its thread started (lock held). */
static void start_watcher(tg_watch_set *ws,
                          char *key,
                          const char *api_version,
                          const char *kind,
                          const char *selector,
                          const tg_watch_reader *rd,
                          const char *url)
{
	watcher *w = tg_calloc(1, sizeof(*w));

	w->reduce = rd->reduce;
	w->lean = rd->skip != NULL;
	w->ws = ws;
	w->key = key;
	w->api_version = tg_strdup(api_version);
	w->kind = tg_strdup(kind);
	w->url = tg_strdup(url);
	w->selector = selector ? tg_strdup(selector) : NULL;
	w->relevant = selector && *selector;
	watch_cache_init(&w->objs);
	w->used = ws->cycle;
	w->seed = (unsigned)time(NULL) ^ (unsigned)(ws->n * 7919u);
	ws->w = tg_realloc(ws->w, (ws->n + 1) * sizeof(*ws->w));
	ws->w[ws->n++] = w;
	if (pthread_create(&w->thread, NULL, watcher_main, w) != 0) {
		tg_log(TG_LOG_WARN,
		       "watch: thread not started: lists go to "
		       "the API server",
		       "watch", key, NULL);
		return;
	}
	w->started = true;
}

/* Offer o to rd (lock held). */
static void serve_object(watcher *w, watch_obj *o, const tg_watch_reader *rd)
{
	char ns[64]; /* peekable: the namespace is shorter */
	const char *name = o->s + o->name;

	if (!o->peekable) {
		/* Its text is kept: the reader looks at it whole. */
		rd->item(rd->ctx, o->text, o->len);
		return;
	}
	memcpy(ns, o->s, o->name - 1);
	ns[o->name - 1] = '\0';
	if (rd->skip &&
	    rd->skip(rd->ctx, ns, name, o->s + o->uid, o->s + o->rv)) {
		/* Vouched for: a lean watcher needs its text no more (an
		 * event brings the next). */
		if (w->lean) {
			free(o->text);
			o->text = NULL;
			o->len = 0;
		}
	} else if (o->text) {
		rd->item(rd->ctx, o->text, o->len);
	} else {
		/* Only a lean watcher keeps no text (so its reader has
		 * missing). */
		rd->missing(rd->ctx, ns, name);
	}
}

int tg_watch_set_serve(tg_watch_set *ws,
                       const char *api_version,
                       const char *kind,
                       const char *ns,
                       const char *label_selector,
                       const char *collection_url,
                       const tg_watch_reader *rd)
{
	char *key = list_key(api_version, kind, ns, label_selector, rd);
	watcher *w;
	int served = 0;

	pthread_mutex_lock(&ws->lock);
	w = find_watcher(ws, key);
	if (!w && ws->n < TG_WATCH_MAX_WATCHERS && !ws->stop) {
		start_watcher(ws, key, api_version, kind, label_selector, rd,
		              collection_url);
		key = NULL;
	} else if (w) {
		w->used = ws->cycle;
	}
	if (w && w->listed && w->open) {
		watch_obj *o = NULL;
		size_t i = 0;

		while ((o = watch_cache_next(&w->objs, &i, o)))
			serve_object(w, o, rd);
		served = 1;
	}
	pthread_mutex_unlock(&ws->lock);
	free(key);
	return served;
}

void tg_watch_set_keep(tg_watch_set *ws,
                       const char *api_version,
                       const char *kind,
                       const char *ns,
                       const char *label_selector,
                       const tg_watch_reader *rd,
                       const tg_watch_object *obj)
{
	char *key = list_key(api_version, kind, ns, label_selector, rd);
	char *okey = tg_aprintf("%s/%s", obj->ns, obj->name);
	watcher *w;
	watch_obj *o;

	pthread_mutex_lock(&ws->lock);
	w = find_watcher(ws, key);
	/* The same version only: an event may have come since the read. */
	if (w && w->lean && (o = watch_cache_get(&w->objs, okey)) && !o->text &&
	    o->peekable && !strcmp(o->s + o->uid, obj->uid) &&
	    !strcmp(o->s + o->rv, obj->rv)) {
		o->text = tg_malloc(obj->len + 1);
		memcpy(o->text, obj->text, obj->len);
		o->text[obj->len] = '\0';
		o->len = obj->len;
	}
	pthread_mutex_unlock(&ws->lock);
	free(okey);
	free(key);
}

/* The thread of a watcher -------------------------------------------------- */

/* Wait s seconds unless w stops first; true when it stops. */
static bool pause_unless_stopped(watcher *w, double s)
{
	tg_watch_set *ws = w->ws;
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)s;
	until.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ws->lock);
	while (!ws->stop && !w->retired &&
	       pthread_cond_timedwait(&ws->cond, &ws->lock, &until) == 0) {
	}
	stop = ws->stop || w->retired;
	pthread_mutex_unlock(&ws->lock);
	return stop;
}

/* Exponential backoff with jitter: base * 2^(failures-1), at most the
 * cap, then between 75% and 125% of it so that many agents (or watchers)
 * that failed together do not come back together. */
static double backoff(watcher *w, int failures)
{
	double d = TG_WATCH_BACKOFF_BASE_S;
	double j = (double)(rand_r(&w->seed) % 1000) / 1000.0;

	while (--failures > 0 && d < TG_WATCH_BACKOFF_MAX_S)
		d *= 2;
	if (d > TG_WATCH_BACKOFF_MAX_S)
		d = TG_WATCH_BACKOFF_MAX_S;
	return d * (0.75 + 0.5 * j);
}

/* Count the end of a stream and say whether to list again. */
static bool stream_ended(watcher *w, watch_end end)
{
	tg_watch_set *ws = w->ws;
	bool relist = end == WATCH_GONE || end == WATCH_FAILED;

	pthread_mutex_lock(&ws->lock);
	w->open = false;
	watch_wake(ws); /* metrics */
	if (relist) {
		w->listed = false;
		ws->stats.relists++;
		if (end == WATCH_GONE)
			ws->stats.gone++;
	} else if (end == WATCH_CLOSED) {
		ws->stats.resumed++;
	}
	pthread_mutex_unlock(&ws->lock);
	if (end != WATCH_STOPPED)
		tg_log(relist ? TG_LOG_WARN : TG_LOG_DEBUG,
		       relist ? "watch: listing again" : "watch: resuming",
		       "watch", w->key, "reason", w->why[0] ? w->why : "closed",
		       NULL);
	return relist;
}

static void *watcher_main(void *arg)
{
	watcher *w = arg;
	tg_watch_set *ws = w->ws;
	int failures = 0;
	double delay = 0, started;
	watch_end end;

	while (!(delay > 0 ? pause_unless_stopped(w, delay)
	                   : watch_stopping(w))) {
		delay = 0;
		w->why[0] = '\0';
		if (!w->listed && watch_list(w) < 0) {
			tg_log(TG_LOG_WARN, "watch: list failed", "watch",
			       w->key, "error", w->why, NULL);
			delay = backoff(w, ++failures);
			continue;
		}
		started = tg_monotonic();
		end = watch_stream(w);
		if (end == WATCH_STOPPED)
			break;
		stream_ended(w, end);
		/* A stream that ended at once, or failed, waits before the
		 * next try; one that lasted starts again now. */
		if (end == WATCH_CLOSED &&
		    tg_monotonic() - started >= TG_WATCH_MIN_STREAM_S)
			failures = 0;
		else
			delay = backoff(w, ++failures);
	}
	pthread_mutex_lock(&ws->lock);
	w->done = true;
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}
