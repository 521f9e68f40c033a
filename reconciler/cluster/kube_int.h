/*
 * Internals of the Kubernetes client shared by reconciler/cluster/kube.c
 * (client, requests, operations), discovery.c and list.c.
 */
#ifndef TOLLGATE_KUBE_INT_H
#define TOLLGATE_KUBE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/http.h"
#include "tollgate/kube.h"
#include "tollgate/watch.h"

typedef struct resource {
	tg_kube_resource pub;
	char *group, *version, *kind, *name;
} resource;

struct tg_kube {
	tg_http *http;
	char *server;
	char *auth; /* "Authorization: ..." header, secret */
	char *manager;
	resource *res;
	size_t nres;
	bool discovered;
	bool running; /* a batch runs: a nested one must not start */
	unsigned list_limit;
	size_t max_batch;
	size_t feed_window; /* requests of a batch made ahead (kube.c) */
	/* tollgate run: lists answered by watches (NULL: off), and the TLS
	 * settings they connect with (the key is secret). */
	tg_watch_set *watches;
	char *ca_pem, *cert_pem, *key_pem;
	size_t ca_len, cert_len, key_len;
	bool insecure;
};

typedef void (*reply_fn)(tg_kube *k,
                         int result,
                         tg_http_response *resp,
                         void *ctx);

/* Drop the resource types discovered (kube.c). */
void kube_resources_clear(tg_kube *k);

/* Submit method url with an optional JSON body of content_type; fn is
 * called with ctx when the reply (or failure) comes. 0 or an error.
 * metadata_only: the answer is read no further than its metadata, so it
 * is asked for as PartialObjectMetadata (a server that cannot convert
 * sends the whole object). */
int kube_submit(tg_kube *k,
                const char *method,
                const char *url,
                const char *content_type,
                const char *body,
                bool metadata_only,
                reply_fn fn,
                void *ctx);

/*
 * The message of a failed response: the Status message when the server
 * sent one, else the HTTP status and a piece of the body. 401/403 become
 * TG_EAUTH, 404 TG_ENOTFOUND, 409 TG_ECONFLICT, others TG_ERROR.
 */
int kube_status_error(char **msg_out, const tg_http_response *resp);

/* The JSON body of a response. 0 or TG_EPARSE. */
int kube_parse_body(json_t **out, const tg_http_response *resp);

/* s percent-encoded as one path segment (names come from Git: a '/' or
 * '?' in one must not change which URL is called); NULL when memory ran
 * out. New string. */
char *kube_escape_segment(const char *s);
/* The collection URL of resource r in namespace ns (ignored for
 * cluster-scoped kinds; NULL for all namespaces). New string. */
char *
kube_collection_url(tg_kube *k, const tg_kube_resource *r, const char *ns);

/* A list or watch URL: base?query, then &labelSelector= and &continue=
 * with selector and cont escaped, when they are not NULL. New string. */
char *kube_query_url(const char *base,
                     const char *query,
                     const char *selector,
                     const char *cont);

/* A NUL-terminated copy of the len bytes at s (PEM from a kubeconfig),
 * or NULL when s is NULL. */
char *kube_blob_dup(const char *s, size_t len);

/* LIST pages (listscan.c) ------------------------------------------------- */

/* An element of a page's "items": its JSON text. 0 or a negative code,
 * which stops the scan. */
typedef int (*kube_scan_item_fn)(void *ctx, const char *item, size_t len);

/*
 * Scan a LIST page (a JSON object): fn for each element of its "items"
 * in order; *meta and *meta_len the JSON text of its "metadata" (NULL when
 * absent), borrowed from body. 0, fn's error, or TG_EPARSE when the page
 * is malformed or names "items" or "metadata" twice.
 */
int kube_scan_page(const char **meta,
                   size_t *meta_len,
                   const char *body,
                   size_t len,
                   kube_scan_item_fn fn,
                   void *ctx);

/*
 * kube_scan_page() with each item's identity peeked in the same pass:
 * fn gets what kube_scan_peek() would give for the item, or NULL where
 * it would give false (the item must be parsed to be known).
 */
typedef int (*kube_scan_peeked_fn)(void *ctx,
                                   const char *item,
                                   size_t len,
                                   const tg_kube_list_peek *peek);
int kube_scan_page_peeked(const char **meta,
                          size_t *meta_len,
                          const char *body,
                          size_t len,
                          kube_scan_peeked_fn fn,
                          void *ctx);

/*
 * The identity and resourceVersion of a listed item (JSON text), read
 * without parsing it: true when metadata.name, .uid and .resourceVersion
 * (and .namespace when present) are plain strings (no escapes), each
 * present once and within its buffer, and no key in the item or its
 * metadata is escaped (one could decode to a peeked name); false when
 * the item must be parsed to be known.
 */
bool kube_scan_peek(tg_kube_list_peek *out, const char *item, size_t len);

#endif
