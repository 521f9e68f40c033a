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

/* Append the page's items to items, with apiVersion and kind set. */
static void take_items(json_t *items,
                       json_t *page,
                       const char *api_version,
                       const char *kind)
{
	json_t *arr = json_object_get(page, "items"), *item;
	size_t i;

	json_array_foreach(arr, i, item) {
		if (!json_is_object(item))
			continue;
		json_object_set_new(item, "apiVersion",
		                    json_string(api_version));
		json_object_set_new(item, "kind", json_string(kind));
		json_array_append(items, item);
	}
}

/* One list of tg_kube_list_all(): its pages, one after the other. */
typedef struct list_run {
	tg_kube_list_req *req;
	char *base;     /* collection URL */
	char *selector; /* escaped label selector, or NULL */
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

/* Submit the page after the continue token cont (NULL: the first). */
static void list_next(tg_kube *k, list_run *lr, const char *cont)
{
	char *econt = cont ? curl_easy_escape(NULL, cont, 0) : NULL;
	char *url = tg_aprintf("%s?limit=%u%s%s%s%s", lr->base, k->list_limit,
	                       lr->selector ? "&labelSelector=" : "",
	                       lr->selector ? lr->selector : "",
	                       econt ? "&continue=" : "", econt ? econt : "");

	if (kube_submit(k, "GET", url, NULL, NULL, on_list_page, lr) < 0)
		list_fail(lr, tg_error_code(), tg_error_last());
	free(url);
	curl_free(econt);
}

static void
on_list_page(tg_kube *k, int result, tg_http_response *resp, void *ctx)
{
	list_run *lr = ctx;
	json_t *page = NULL;
	const char *next;
	char *msg = NULL;

	if (result < 0) {
		list_fail(lr, result, tg_error_last());
	} else if (resp->status / 100 != 2) {
		int code = kube_status_error(&msg, resp);
		list_fail(lr, code, msg);
	} else if ((result = kube_parse_body(&page, resp)) < 0) {
		list_fail(lr, result, tg_error_last());
	} else {
		take_items(lr->req->items, page, lr->req->api_version,
		           lr->req->kind);
		next = json_string_value(json_object_get(
		        json_object_get(page, "metadata"), "continue"));
		if (next && *next && ++lr->pages >= TG_KUBE_MAX_LIST_PAGES) {
			char *m = tg_aprintf("more than %d pages",
			                     TG_KUBE_MAX_LIST_PAGES);
			list_fail(lr, TG_ETOOBIG, m);
			free(m);
		} else if (next && *next) {
			list_next(k, lr, next);
		}
	}
	json_decref(page);
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
		q->items = json_array();
		runs[i].req = q;
		if ((q->result = tg_kube_resource_lookup(&r, k, q->api_version,
		                                         q->kind)) < 0) {
			q->message =
			        tg_aprintf("listing %s %s: %s", q->api_version,
			                   q->kind, tg_error_last());
			continue;
		}
		runs[i].base = kube_collection_url(k, r, q->ns);
		if (q->label_selector)
			runs[i].selector =
			        curl_easy_escape(NULL, q->label_selector, 0);
		list_next(k, &runs[i], NULL);
	}
	k->running = true;
	if (tg_http_run(k->http) < 0)
		error = tg_error_code();
	k->running = false;
	for (i = 0; i < n; i++) {
		free(runs[i].base);
		curl_free(runs[i].selector);
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
	tg_kube_list_req q = { api_version, kind, ns,  label_selector,
		               0,           NULL, NULL };
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
