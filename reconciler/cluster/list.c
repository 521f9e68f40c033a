/*
 * Lists: every object of a kind, following "continue" pages, several
 * kinds in parallel. See reconciler/include/tollgate/kube.h.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/kube.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

#include "kube_int.h"

/* Append the page's items to q's items, with apiVersion and kind set. */
static void take_items(tg_kube_list_req *q, json_t *page)
{
	json_t *arr = json_object_get(page, "items"), *item;
	size_t i;

	json_array_foreach(arr, i, item) {
		if (!json_is_object(item))
			continue;
		json_object_set_new(item, "apiVersion",
		                    json_string(q->api_version));
		json_object_set_new(item, "kind", json_string(q->kind));
		json_array_append(q->items, item);
	}
}

/* One list of tg_kube_list_all(): its pages, one after the other. */
typedef struct list_run {
	tg_kube *k;
	tg_kube_list_req *req;
	char *base;           /* collection URL */
	const char *selector; /* label selector, or NULL */
	unsigned pages;
	/* Served by a lean watch, which keeps no text of these objects
	 * ("ns/name" -> true): the list from the server hands on only
	 * them, each once, and gives their texts back to the watch
	 * (watch_ns: the namespace it watches). NULL: every object. */
	json_t *only;
	const char *watch_ns;
} list_run;

/* Whether the object ns/name is one lr still wants; it is wanted no
 * more. */
static bool wanted(list_run *lr, const char *ns, const char *name)
{
	char *key;
	bool want;

	if (!lr->only)
		return true;
	key = tg_aprintf("%s/%s", ns ? ns : "", name ? name : "");
	want = json_object_get(lr->only, key) != NULL;
	if (want)
		json_object_del(lr->only, key);
	free(key);
	return want;
}

static const char *meta_of(json_t *item, const char *member)
{
	return json_string_value(
	        json_object_get(json_object_get(item, "metadata"), member));
}

static void watched_item(void *ctx, const char *text, size_t len);
static bool watched_skip(void *ctx,
                         const char *ns,
                         const char *name,
                         const char *uid,
                         const char *rv);
static void watched_missing(void *ctx, const char *ns, const char *name);

/* An object a lean watch reported missing, read from the server: its
 * text to the watch, so the next cycle is served from there. */
static void keep_in_watch(list_run *lr, json_t *item)
{
	tg_kube_list_req *q = lr->req;
	tg_watch_reader rd = { q->reduce, watched_skip, watched_item,
		               watched_missing, lr };
	tg_watch_object o = { meta_of(item, "namespace"),
		              meta_of(item, "name"),
		              meta_of(item, "uid"),
		              meta_of(item, "resourceVersion"),
		              NULL,
		              0 };
	char *text;

	if (!o.name || !o.uid || !o.rv ||
	    !(text = json_dumps(item, JSON_COMPACT)))
		return;
	if (!o.ns)
		o.ns = "";
	o.text = text;
	o.len = strlen(text);
	tg_watch_set_keep(lr->k->watches, q->api_version, q->kind, lr->watch_ns,
	                  q->label_selector, &rd, &o);
	free(text);
}

/* One item of a streamed page (with its identity peeked by the page's
 * scan, or NULL), or of a watch (watched: reduced, and offered to skip
 * by the watch already): skipped when the caller has seen it, else
 * parsed alone, reduced when it was not already, and handed to
 * on_item. */
static int hand_on(list_run *lr,
                   const char *text,
                   size_t len,
                   const tg_kube_list_peek *scanned,
                   bool watched)
{
	tg_kube_list_req *q = lr->req;
	tg_kube_list_peek peek;
	bool peeked = !watched && (q->skip || lr->only) && scanned;
	json_error_t jerr;
	json_t *item;

	if (peeked)
		peek = *scanned;
	if (peeked && !wanted(lr, peek.ns, peek.name))
		return 0;
	if (peeked && q->skip) {
		peek.api_version = q->api_version;
		peek.kind = q->kind;
		if (q->skip(q->ctx, &peek))
			return 0;
	}
	item = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!item)
		return tg_error_set(TG_EPARSE, "list item: %s", jerr.text);
	if (json_is_object(item) &&
	    (peeked || watched ||
	     wanted(lr, meta_of(item, "namespace"), meta_of(item, "name")))) {
		json_object_set_new(item, "apiVersion",
		                    json_string(q->api_version));
		json_object_set_new(item, "kind", json_string(q->kind));
		if (q->reduce && !watched)
			q->reduce(item);
		if (lr->only && !watched)
			keep_in_watch(lr, item);
		q->on_item(q->ctx, item);
	}
	json_decref(item);
	return 0;
}

static int stream_item(void *ctx,
                       const char *text,
                       size_t len,
                       const tg_kube_list_peek *peek)
{
	return hand_on(ctx, text, len, peek, false);
}

/* The page's items to the caller; *next the continue token (new string,
 * NULL on the last page). */
static int read_page(char **next, list_run *lr, tg_http_response *resp)
{
	tg_kube_list_req *q = lr->req;
	const char *meta_text;
	size_t meta_len;
	json_t *page = NULL, *meta = NULL;
	int error;

	*next = NULL;
	if (!q->on_item) {
		if ((error = kube_parse_body(&page, resp)) < 0)
			return error;
		take_items(q, page);
		meta = json_incref(json_object_get(page, "metadata"));
	} else {
		if ((error = kube_scan_page_peeked(&meta_text, &meta_len,
		                                   resp->body, resp->body_len,
		                                   stream_item, lr)) < 0)
			return tg_error_prefix(error, "%s", resp->url);
		if (meta_text &&
		    !(meta = json_loadb(meta_text, meta_len,
		                        JSON_REJECT_DUPLICATES, NULL)))
			return tg_error_set(TG_EPARSE,
			                    "%s: list metadata "
			                    "is not JSON",
			                    resp->url);
	}
	if (json_string_value(json_object_get(meta, "continue")))
		*next = tg_strdup(
		        json_string_value(json_object_get(meta, "continue")));
	json_decref(meta);
	json_decref(page);
	return 0;
}

static void
on_list_page(tg_kube *k, int result, tg_http_response *resp, void *ctx);

static void list_fail(list_run *lr, int code, const char *msg)
{
	lr->req->result = code;
	lr->req->message = tg_aprintf("listing %s %s: %s", lr->req->api_version,
	                              lr->req->kind, msg);
}

/* base?query, with the label selector and the continue token escaped. */
char *kube_query_url(const char *base,
                     const char *query,
                     const char *selector,
                     const char *cont)
{
	char *sel = selector ? curl_easy_escape(NULL, selector, 0) : NULL;
	char *c = cont ? curl_easy_escape(NULL, cont, 0) : NULL;
	char *url = tg_aprintf("%s?%s%s%s%s%s", base, query,
	                       sel ? "&labelSelector=" : "", sel ? sel : "",
	                       c ? "&continue=" : "", c ? c : "");

	curl_free(sel);
	curl_free(c);
	return url;
}

/* Submit the page after the continue token cont (NULL: the first). */
static void list_next(tg_kube *k, list_run *lr, const char *cont)
{
	char *limit = tg_aprintf("limit=%u", k->list_limit);
	char *url = kube_query_url(lr->base, limit, lr->selector, cont);

	if (kube_submit(k, "GET", url, NULL, NULL, false, on_list_page, lr) < 0)
		list_fail(lr, tg_error_code(), tg_error_last());
	free(url);
	free(limit);
}

static void
on_list_page(tg_kube *k, int result, tg_http_response *resp, void *ctx)
{
	list_run *lr = ctx;
	char *msg = NULL, *next = NULL;

	if (result < 0) {
		list_fail(lr, result, tg_error_last());
	} else if (resp->status / 100 != 2) {
		int code = kube_status_error(&msg, resp);
		list_fail(lr, code, msg);
	} else if ((result = read_page(&next, lr, resp)) < 0) {
		list_fail(lr, result, tg_error_last());
	} else if (next && *next && ++lr->pages >= TG_KUBE_MAX_LIST_PAGES) {
		char *m = tg_aprintf("more than %d pages",
		                     TG_KUBE_MAX_LIST_PAGES);
		list_fail(lr, TG_ETOOBIG, m);
		free(m);
	} else if (next && *next) {
		list_next(k, lr, next);
	}
	free(next);
	free(msg);
	tg_http_response_free(resp);
}

/* Refuse lists started while a batch runs: each reads as failed. */
static int lists_refused(tg_kube *k, tg_kube_list_req *reqs, size_t n)
{
	size_t i;
	int error;

	if (!k->running)
		return 0;
	error = tg_error_set(TG_ERROR, "a list was started while a batch runs");
	for (i = 0; i < n; i++) {
		reqs[i].result = error;
		reqs[i].items = NULL;
		reqs[i].message = tg_aprintf("listing %s %s: not sent: %s",
		                             reqs[i].api_version, reqs[i].kind,
		                             tg_error_last());
	}
	return error;
}

/* An object served by a watch: handed on as a listed one would be. */
static void watched_item(void *ctx, const char *text, size_t len)
{
	list_run *lr = ctx;
	tg_kube_list_req *q = lr->req;
	json_t *item;

	if (q->on_item) {
		/* Text this process wrote (reduced already): it parses. */
		if (hand_on(lr, text, len, NULL, true) < 0)
			q->result = tg_error_code();
		return;
	}
	if ((item = json_loadb(text, len, 0, NULL)))
		json_array_append_new(q->items, item);
}

/* The watch asks whether the caller has seen an object (its fields fit
 * the peek's: the watch checked). */
static bool watched_skip(void *ctx,
                         const char *ns,
                         const char *name,
                         const char *uid,
                         const char *rv)
{
	list_run *lr = ctx;
	tg_kube_list_peek peek;

	memset(&peek, 0, sizeof(peek));
	peek.api_version = lr->req->api_version;
	peek.kind = lr->req->kind;
	tg_strlcpy(peek.ns, ns, sizeof(peek.ns));
	tg_strlcpy(peek.name, name, sizeof(peek.name));
	tg_strlcpy(peek.uid, uid, sizeof(peek.uid));
	tg_strlcpy(peek.resource_version, rv, sizeof(peek.resource_version));
	return lr->req->skip(lr->req->ctx, &peek);
}

/* An object the watch keeps no text of: read from the server. */
static void watched_missing(void *ctx, const char *ns, const char *name)
{
	list_run *lr = ctx;
	char *key = tg_aprintf("%s/%s", ns, name);

	if (!lr->only)
		lr->only = json_object();
	json_object_set_new(lr->only, key, json_true());
	free(key);
}

/*
 * tollgate run: the list answered by its watch (watch.c) when that is in
 * sync; true then. A lean watch (a caller that skips what it has seen)
 * may lack some objects: false then, with lr->only naming them, and the
 * list from the server hands on only those.
 */
static bool list_watched(tg_kube *k, list_run *lr, const tg_kube_resource *r)
{
	tg_kube_list_req *q = lr->req;
	tg_watch_reader rd = { q->reduce,
		               q->on_item && q->skip ? watched_skip : NULL,
		               watched_item, watched_missing, lr };
	char n[32];

	if (!k->watches ||
	    tg_watch_set_serve(k->watches, q->api_version, q->kind,
	                       r->namespaced ? q->ns : NULL, q->label_selector,
	                       lr->base, &rd) != 1)
		return false;
	if (!lr->only)
		return true;
	lr->k = k;
	lr->watch_ns = r->namespaced ? q->ns : NULL;
	snprintf(n, sizeof(n), "%zu", json_object_size(lr->only));
	tg_log(TG_LOG_DEBUG, "watch: objects not kept, listed from the server",
	       "kind", q->kind, "objects", n, NULL);
	return false;
}

int tg_kube_list_all(tg_kube *k, tg_kube_list_req *reqs, size_t n)
{
	list_run *runs = tg_calloc(n ? n : 1, sizeof(*runs));
	size_t i;
	int error = 0;

	if ((error = lists_refused(k, reqs, n)) < 0) {
		free(runs);
		return error;
	}
	for (i = 0; i < n; i++) {
		const tg_kube_resource *r;
		tg_kube_list_req *q = &reqs[i];

		q->result = 0;
		q->message = NULL;
		q->items = q->on_item ? NULL : json_array();
		runs[i].req = q;
		if ((q->result = tg_kube_resource_lookup(&r, k, q->api_version,
		                                         q->kind)) < 0) {
			q->message =
			        tg_aprintf("listing %s %s: %s", q->api_version,
			                   q->kind, tg_error_last());
			continue;
		}
		runs[i].base = kube_collection_url(k, r, q->ns);
		if (list_watched(k, &runs[i], r))
			continue;
		runs[i].selector = q->label_selector;
		list_next(k, &runs[i], NULL);
	}
	k->running = true;
	if (tg_http_run(k->http) < 0)
		error = tg_error_code();
	k->running = false;
	for (i = 0; i < n; i++) {
		free(runs[i].base);
		json_decref(runs[i].only);
		/* A list that did not run reads as failed, never as empty. */
		if (error < 0 && reqs[i].result == 0)
			list_fail(&runs[i], error, tg_error_last());
		if (reqs[i].result < 0) {
			json_decref(reqs[i].items);
			reqs[i].items = NULL;
		}
	}
	free(runs);
	return error;
}

void tg_kube_list_req_clear(tg_kube_list_req *r)
{
	free(r->message);
	json_decref(r->items);
	r->message = NULL;
	r->items = NULL;
	r->result = 0;
}

int tg_kube_list(json_t **items_out,
                 tg_kube *k,
                 const char *api_version,
                 const char *kind,
                 const char *ns,
                 const char *label_selector)
{
	tg_kube_list_req q = { .api_version = api_version,
		               .kind = kind,
		               .ns = ns,
		               .label_selector = label_selector };
	int error;

	*items_out = NULL;
	if ((error = tg_kube_list_all(k, &q, 1)) < 0)
		goto out;
	if ((error = q.result) < 0) {
		error = tg_error_set(error, "%s: %s", k->server, q.message);
		goto out;
	}
	*items_out = q.items;
	q.items = NULL;
out:
	tg_kube_list_req_clear(&q);
	return error;
}
