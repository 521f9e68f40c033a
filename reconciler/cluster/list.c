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

/* One item of a streamed page: skipped when the caller has seen it,
 * else parsed alone, reduced when it was not already, and handed to
 * on_item. */
static int
hand_on(tg_kube_list_req *q, const char *text, size_t len, bool fresh)
{
	tg_kube_list_peek peek;
	json_error_t jerr;
	json_t *item;

	if (q->skip && kube_scan_peek(&peek, text, len)) {
		peek.api_version = q->api_version;
		peek.kind = q->kind;
		if (q->skip(q->ctx, &peek))
			return 0;
	}
	item = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!item)
		return tg_error_set(TG_EPARSE, "list item: %s", jerr.text);
	if (json_is_object(item)) {
		json_object_set_new(item, "apiVersion",
		                    json_string(q->api_version));
		json_object_set_new(item, "kind", json_string(q->kind));
		if (q->reduce && fresh)
			q->reduce(item);
		q->on_item(q->ctx, item);
	}
	json_decref(item);
	return 0;
}

static int stream_item(void *ctx, const char *text, size_t len)
{
	return hand_on(ctx, text, len, true);
}

/* The page's items to the caller; *next the continue token (new string,
 * NULL on the last page). */
static int read_page(char **next, tg_kube_list_req *q, tg_http_response *resp)
{
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
		if ((error = kube_scan_page(&meta_text, &meta_len, resp->body,
		                            resp->body_len, stream_item, q)) <
		    0)
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

/* One list of tg_kube_list_all(): its pages, one after the other. */
typedef struct list_run {
	tg_kube_list_req *req;
	char *base;           /* collection URL */
	const char *selector; /* label selector, or NULL */
	unsigned pages;
} list_run;

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

	if (kube_submit(k, "GET", url, NULL, NULL, on_list_page, lr) < 0)
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
	} else if ((result = read_page(&next, lr->req, resp)) < 0) {
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
	tg_kube_list_req *q = ctx;
	json_t *item;

	if (q->on_item) {
		/* Text this process wrote (reduced already): it parses. */
		if (hand_on(q, text, len, false) < 0)
			q->result = tg_error_code();
		return;
	}
	if ((item = json_loadb(text, len, 0, NULL)))
		json_array_append_new(q->items, item);
}

/* tollgate run: the list answered by its watch (watch.c) when that is in
 * sync; true then. */
static bool list_watched(tg_kube *k,
                         tg_kube_list_req *q,
                         const tg_kube_resource *r,
                         const char *base)
{
	return k->watches &&
	       tg_watch_set_serve(k->watches, q->api_version, q->kind,
	                          r->namespaced ? q->ns : NULL,
	                          q->label_selector, q->reduce, base,
	                          watched_item, q) == 1;
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
		if (list_watched(k, q, r, runs[i].base))
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
