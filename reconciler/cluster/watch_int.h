/*
 * Internals of reconciler/cluster/watch.c (the set, its threads) and
 * watch_stream.c (lists and streams over libcurl, events).
 */
#ifndef TOLLGATE_WATCH_INT_H
#define TOLLGATE_WATCH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/watch.h"

/* One object a watcher keeps (watch_cache.c). */
typedef struct watch_obj {
	struct watch_obj *next; /* in its chain */
	uint64_t hash_key;      /* of the key */
	/* Its compact JSON (reduced as the reader asked), or NULL: a lean
	 * watcher keeps no text of listed objects nor of objects a reader
	 * vouched for since they last changed. */
	char *text;
	size_t len;
	unsigned char hash[TG_SHA256_LEN]; /* content hash */
	/* ns, name, uid, rv fit tg_kube_list_peek's sizes, name, uid and
	 * rv are not empty: a reader may vouch for it by those alone.
	 * Otherwise its text is always kept. */
	bool peekable;
	unsigned name, uid, rv; /* offsets in s */
	char s[];               /* "ns/name\0uid\0rv\0" (the key first) */
} watch_obj;

typedef struct watch_cache {
	watch_obj **slot;
	size_t cap, n;
} watch_cache;

void watch_cache_init(watch_cache *c);
void watch_cache_clear(watch_cache *c);
watch_obj *watch_obj_new(const char *ns,
                         const char *name,
                         const char *uid,
                         const char *rv,
                         const unsigned char hash[TG_SHA256_LEN]);
void watch_obj_free(watch_obj *o);
watch_obj *watch_cache_get(const watch_cache *c, const char *key);
/* Insert o, replacing (and freeing) the entry of the same key. */
void watch_cache_put(watch_cache *c, watch_obj *o);
/* Remove and free the entry of key; whether there was one. */
bool watch_cache_del(watch_cache *c, const char *key);
/* Iterate: o NULL for the first entry (i set), then the last one. */
watch_obj *watch_cache_next(const watch_cache *c, size_t *i, watch_obj *o);
/* Whether a and b differ in their keys or content hashes. */
bool watch_cache_differ(const watch_cache *a, const watch_cache *b);

typedef struct watcher {
	tg_watch_set *ws;
	char *key; /* "apiVersion kind namespace selector" */
	char *api_version, *kind;
	char *url;      /* collection URL */
	char *selector; /* label selector or NULL */
	/* Its changes start cycles: a list by one of tollgate's labels (its
	 * objects, its inventories); a list of everything (the namespaces
	 * preflight reads) only answers lists. */
	bool relevant;
	tg_watch_reduce_fn reduce; /* or NULL: objects kept whole */
	/* Its reader vouches for objects by identity, uid and
	 * resourceVersion (tg_watch_reader's skip): the text of an object
	 * is kept only from an event until the reader vouched for it. */
	bool lean;
	pthread_t thread;
	bool started;
	unsigned seed; /* rand_r, for the jitter */
	/* Guarded by ws->lock: */
	watch_cache objs;
	char rv[TG_WATCH_MAX_RV_BYTES + 1];
	bool listed; /* objs hold a list, followed since by the stream */
	bool listed_once;
	bool open;     /* the stream answered 200 and is open */
	unsigned used; /* the set's cycle when a list last asked for it */
	bool retired;  /* stopped by tg_watch_set_sweep: its thread ends */
	bool done;     /* its thread ended */
	/* The thread's own: */
	char why[256]; /* why the last list or stream failed */
} watcher;

struct tg_watch_set {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled on stop */
	bool stop;
	bool dirty;
	int wake_fd;
	watcher **w;
	size_t n;
	watcher **retired; /* stopped, their threads not joined yet */
	size_t nretired;
	unsigned cycle; /* cycles swept */
	tg_watch_stats stats;
	/* Changes seen, judged by tg_watch_set_take_dirty (on the caller's
	 * thread, after the writes of its cycle were recorded): npending
	 * records "key\0" then "+rv\0", or "-\0" for DELETED, with key
	 * "apiVersion kind ns/name" (as text: a cycle that changes 10,000
	 * objects sees 10,000 of them before they are judged). */
	tg_buf pending;
	size_t npending;
	/* tollgate's own writes: key -> resourceVersion it got back ("" for
	 * a delete). */
	json_t *own;
	/* Own writes whose events were judged, as records of pending, whose
	 * entries in own go at the next sweep, so that an event of the same
	 * write from another watch judged at a later wake is still known as
	 * tollgate's own. */
	tg_buf own_used;
	/* Answers the writer vouched for whose event has not come yet:
	 * key -> resourceVersion (tg_watch_set_vouch); emptied at each
	 * sweep (an event comes within moments, or never). */
	json_t *vouched;
	/* Connection settings (read-only after new). */
	char *auth, *ca, *cert, *key;
	size_t ca_len, cert_len, key_len;
	bool insecure;
	unsigned list_limit;
};

typedef enum watch_end {
	WATCH_CLOSED,  /* the server ended the stream: resume */
	WATCH_GONE,    /* 410: list again */
	WATCH_FAILED,  /* ERROR event, bad event, HTTP or network error */
	WATCH_STOPPED, /* the set is being freed */
} watch_end;

/* Whether w's thread must end: the set is freed, or w retired. */
bool watch_stopping(watcher *w);
/* A byte to the wake descriptor: something to look at (metrics). */
void watch_wake(tg_watch_set *ws);
/* Note a change of the object key (rv NULL: deleted) to be judged (key
 * NULL: changes that need a cycle), and wake the run loop (lock held). */
void watch_note_change(tg_watch_set *ws, const char *key, const char *rv);
/* Whether the writer vouched for the object okey ("apiVersion kind
 * ns/name") at rv, its event now come: the entry is used up (lock
 * held). */
bool watch_vouched(tg_watch_set *ws, const char *okey, const char *rv);

/* One list page (body, len bytes) into objs, item by item; *cont the
 * next continue token (a new string, or NULL), the list's
 * resourceVersion into w->rv at the last page. 0, or -1 with w->why. */
TG_WUR int watch_take_page(watcher *w,
                           const char *body,
                           size_t len,
                           watch_cache *objs,
                           char **cont);

/* List w's objects into its maps and resourceVersion (a change since the
 * previous list marks the set dirty). 0, or -1 with w->why set. */
int watch_list(watcher *w);

/*
 * The reading side of a stream: the bytes the server sends, cut into
 * lines of at most TG_WATCH_MAX_EVENT_BYTES, each one watch event applied
 * to w's objects (ADDED, MODIFIED, DELETED), its resourceVersion
 * (BOOKMARK) or ending the stream (ERROR, or a line that is not a valid
 * event).
 */
typedef struct watch_reader {
	watcher *w;
	tg_buf line;     /* the event being read */
	unsigned events; /* events read */
} watch_reader;

void watch_reader_init(watch_reader *r, watcher *w);
void watch_reader_clear(watch_reader *r);
/* n more bytes of the stream (any split): 0 to go on, or how the stream
 * must end (a watch_end, with w->why set). */
int watch_reader_feed(watch_reader *r, const char *data, size_t n);

/* Follow w's stream from w->rv until it ends; how it ended (why in
 * w->why). */
watch_end watch_stream(watcher *w);

#endif
