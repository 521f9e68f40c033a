/*
 * Watches: live state kept by the API server's watch streams, for
 * `tollgate run` (an informer in client-go's words).
 *
 * Each list tollgate makes (apiVersion, kind, namespace, label selector)
 * gets a watcher the first time it is asked for: a thread that lists the
 * objects once, then follows GET ...?watch=1&allowWatchBookmarks=true
 * from the list's resourceVersion, one JSON event per line, and keeps the
 * objects as compact JSON text; a lean watcher (for a reader that can
 * vouch for an object by its uid and resourceVersion: drift and its
 * memo) keeps only their identities and the text of what changed since
 * the reader last vouched for it, and the reader lists the rest from the
 * server. A stream the server ends is resumed from
 * the last resourceVersion seen (bookmarks move it on); 410 Gone (HTTP or
 * an ERROR event), any other ERROR event, a bad line or a broken
 * connection makes it list again, after a backoff with jitter.
 *
 * While a watcher's stream is open and its list done, the lists of a cycle
 * are answered from it (tg_watch_set_serve) and nothing is read from the
 * API server but what a lean watcher lacks; otherwise the cycle lists as
 * before. An event that changes an object beyond its status and server-kept
 * metadata (resourceVersion, managedFields, generation), on a list by one of
 * tollgate's labels, writes a byte to the wake descriptor; unless the change
 * was tollgate's own write, the run loop starts a drift cycle early.
 *
 * Thread-safe: the watcher threads and the caller share one mutex.
 */
#ifndef TOLLGATE_WATCH_H
#define TOLLGATE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/error.h"

typedef struct tg_watch_set tg_watch_set;

/* How watchers reach the API server: the kube client's settings. The
 * strings are copied. */
typedef struct tg_watch_conn {
	const char *auth_header; /* "Authorization: ...", secret, or NULL */
	const char *ca_pem;      /* NULL: the system store */
	size_t ca_pem_len;
	const char *client_cert_pem;
	size_t client_cert_pem_len;
	const char *client_key_pem; /* secret */
	size_t client_key_pem_len;
	bool insecure_skip_verify;
	unsigned list_limit; /* objects per LIST page */
} tg_watch_conn;

/* A set with no watchers; wake_fd (or -1) gets a byte on each relevant
 * event. 0. */
TG_WUR int
tg_watch_set_new(tg_watch_set **out, const tg_watch_conn *conn, int wake_fd);

/* Stop every watcher (each ends within about a second) and free. */
void tg_watch_set_free(tg_watch_set *ws);

/* One object served: its compact JSON text (apiVersion and kind set),
 * borrowed for the call. Called with the set's lock held: it must not
 * call into the set. */
typedef void (*tg_watch_item_fn)(void *ctx, const char *text, size_t len);

/* Reduces an object in place to what the list's reader needs. */
typedef void (*tg_watch_reduce_fn)(json_t *obj);

/* Whether the reader has this object at this resourceVersion already
 * (ns "" for a cluster-scoped object; uid and rv not empty; each fits
 * tg_kube_list_peek): then it is not handed on. Lock held, as above. */
typedef bool (*tg_watch_skip_fn)(void *ctx,
                                 const char *ns,
                                 const char *name,
                                 const char *uid,
                                 const char *rv);

/* An object the watch follows but keeps no text of, which skip did not
 * vouch for: the reader must read it from the API server. Lock held. */
typedef void (*tg_watch_missing_fn)(void *ctx,
                                    const char *ns,
                                    const char *name);

/*
 * Who reads a list from its watcher. With reduce, the watcher keeps each
 * object as reduce leaves it (reduced as its list page or event is
 * parsed; its content hash is of the whole object). With skip (and then
 * missing), the watcher is lean: it keeps the text of no listed object,
 * only its identity, uid, resourceVersion and content hash, and the text
 * an event brings until skip vouches for that object; each object is
 * offered to skip first, then handed to item when its text is kept, or
 * to missing. Lists with different reduce or leanness have a watcher
 * each.
 */
typedef struct tg_watch_reader {
	tg_watch_reduce_fn reduce; /* or NULL */
	tg_watch_skip_fn skip;     /* or NULL */
	tg_watch_item_fn item;
	tg_watch_missing_fn missing; /* required with skip */
	void *ctx;
} tg_watch_reader;

/*
 * The objects of a list, from its watcher: 1 after offering each to rd
 * when the watcher is in sync; 0 when it is not (yet): list from the
 * server. A watcher for the list is started (from collection_url, the
 * list URL without query) when there is none.
 */
int tg_watch_set_serve(tg_watch_set *ws,
                       const char *api_version,
                       const char *kind,
                       const char *ns,
                       const char *label_selector,
                       const char *collection_url,
                       const tg_watch_reader *rd);

/* An object a lean watcher reported missing, as the reader then got it
 * from the API server (reduced as the reader reduces, apiVersion and
 * kind set): ns "" for a cluster-scoped object. */
typedef struct tg_watch_object {
	const char *ns, *name, *uid, *rv;
	const char *text;
	size_t len;
} tg_watch_object;

/*
 * Give the text of an object read from the server because the list's
 * watcher (found as tg_watch_set_serve finds it) had none back to that
 * watcher: kept when the watcher still follows the object at the same
 * uid and resourceVersion, so it is served from the watch until the
 * reader vouches for it or an event replaces it (an object the reader
 * never vouches for, as one whose drift is only reported, is then not
 * read from the server again in every cycle). Otherwise ignored.
 */
void tg_watch_set_keep(tg_watch_set *ws,
                       const char *api_version,
                       const char *kind,
                       const char *ns,
                       const char *label_selector,
                       const tg_watch_reader *rd,
                       const tg_watch_object *obj);

/*
 * Whether an object changed since the last call by a write that is not
 * tollgate's own (an event whose resourceVersion is not one a write of
 * tollgate got back, see tg_watch_set_own_write); clears it. Call it
 * between cycles, when the writes of the last one are recorded: an event
 * may come before the answer to the write that caused it.
 */
bool tg_watch_set_take_dirty(tg_watch_set *ws);

/* tollgate wrote the object and got resourceVersion rv back (NULL: it
 * deleted it): its event is not a change by someone else. */
void tg_watch_set_own_write(tg_watch_set *ws,
                            const char *api_version,
                            const char *kind,
                            const char *ns,
                            const char *name,
                            const char *rv);

/*
 * tollgate's write of the object came back at resourceVersion rv and the
 * writer vouches for that answer (it found it as it meant it, and its
 * drift memo says so): a lean watcher keeps no text of the object at rv,
 * whether its event came already or comes later. A later change comes as
 * an event at another resourceVersion, whose text is kept.
 */
void tg_watch_set_vouch(tg_watch_set *ws,
                        const char *api_version,
                        const char *kind,
                        const char *ns,
                        const char *name,
                        const char *rv);

/*
 * A cycle ended: watchers that no list asked for in the last
 * TG_WATCH_IDLE_CYCLES cycles (their kind left the desired state) are
 * stopped and their objects freed; a later list starts one again.
 */
void tg_watch_set_sweep(tg_watch_set *ws);

/* Whether every watcher is in sync (true with none). */
bool tg_watch_set_synced(tg_watch_set *ws);

typedef struct tg_watch_stats {
	unsigned watchers; /* lists followed */
	unsigned open;     /* streams open now */
	uint64_t events;   /* ADDED, MODIFIED, DELETED received */
	uint64_t relevant; /* ... that marked the set dirty */
	uint64_t bookmarks;
	uint64_t resumed; /* streams resumed after the server ended one */
	uint64_t relists; /* lists again after 410, ERROR or a failure */
	uint64_t gone;    /* 410 Gone among them */
} tg_watch_stats;

void tg_watch_set_stats(tg_watch_stats *out, tg_watch_set *ws);

#endif
