/*
 * Kubernetes API answers as the cluster client reads them. The first byte
 * picks the HTTP status: a failure goes through kube_status_error (the
 * Status object's reason and message); a success through kube_parse_body,
 * and when it is a list its items are taken as live objects and compared
 * with a desired Deployment (tg_drift_compare, managedFields owners), as
 * drift detection does with every listed object. The same page also goes
 * through the streaming scanner (listscan.c): every item it peeks must
 * carry, once jansson parses it, the name, namespace, uid and
 * resourceVersion peeked, and it must find as many items as jansson.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "kube_int.h"
#include "tollgate/drift.h"
#include "tollgate/http.h"

static const long statuses[] = { 200, 201, 401, 403, 404, 409, 422, 500 };

static json_t *desired;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	desired = json_pack(
	        "{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:i, s:{s:{s:[{s:s, "
	        "s:s, s:[{s:i}], s:[{s:s, s:s}]}]}}}, s:{s:s}}",
	        "apiVersion", "apps/v1", "kind", "Deployment", "metadata",
	        "name", "web", "namespace", "prod", "labels", "app", "web",
	        "spec", "replicas", 3, "template", "spec", "containers", "name",
	        "web", "image", "ghcr.io/acme/web@sha256:00", "ports",
	        "containerPort", 8080, "env", "name", "MODE", "value", "prod",
	        "data", "key", "value");
	return desired == NULL;
}

static void compare_items(json_t *page)
{
	json_t *items = json_object_get(page, "items"), *item, *drift;
	size_t i;

	if (!json_is_array(items))
		items = NULL;
	json_array_foreach(items, i, item) {
		if (!json_is_object(item))
			continue;
		tg_drift_compare(&drift, desired, item, "tollgate");
		json_decref(drift);
		json_decref(
		        tg_drift_owners(item, "/spec/replicas", "tollgate"));
	}
	if (!items && json_is_object(page)) {
		tg_drift_compare(&drift, desired, page, "tollgate");
		json_decref(drift);
	}
}

/* Peeked identity against the parsed item: a mismatch would let a
 * streamed list skip an object it has not seen. */
static int check_item(void *ctx, const char *text, size_t len)
{
	size_t *count = ctx;
	tg_kube_list_peek p;
	json_t *item = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *m = json_object_get(item, "metadata");
	const char *ns;

	(*count)++;
	if (item && kube_scan_peek(&p, text, len)) {
		ns = json_string_value(json_object_get(m, "namespace"));
		if (strcmp(p.name,
		           json_string_value(json_object_get(m, "name"))) ||
		    strcmp(p.uid,
		           json_string_value(json_object_get(m, "uid"))) ||
		    strcmp(p.resource_version,
		           json_string_value(
		                   json_object_get(m, "resourceVersion"))) ||
		    strcmp(p.ns, ns ? ns : ""))
			abort();
	}
	json_decref(item);
	return 0;
}

/* The one-pass scan gives each item the peek kube_scan_peek() gives it
 * (NULL where that says false), and walks the same items. */
static int check_peeked(void *ctx,
                        const char *text,
                        size_t len,
                        const tg_kube_list_peek *peek)
{
	size_t *count = ctx;
	tg_kube_list_peek p;
	bool ok = kube_scan_peek(&p, text, len);

	(*count)++;
	if (ok != (peek != NULL) || (ok && memcmp(&p, peek, sizeof(p))))
		abort();
	return 0;
}

static void scan_page(const tg_http_response *resp, json_t *page)
{
	const char *meta, *meta2;
	size_t meta_len, meta_len2, count = 0, count2 = 0;
	int r = kube_scan_page(&meta, &meta_len, resp->body, resp->body_len,
	                       check_item, &count);

	if (kube_scan_page_peeked(&meta2, &meta_len2, resp->body,
	                          resp->body_len, check_peeked, &count2) != r ||
	    count2 != count || meta2 != meta || meta_len2 != meta_len)
		abort();
	if (r < 0)
		return;
	if (page && json_is_array(json_object_get(page, "items")) &&
	    count != json_array_size(json_object_get(page, "items")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_http_response resp = { 0 };
	json_t *page = NULL;
	char *msg = NULL;

	if (size < 1)
		return 0;
	resp.status =
	        statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	resp.url = "https://127.0.0.1:6443/apis/apps/v1/deployments";
	/* The HTTP client NUL-terminates every body. */
	resp.body = fuzz_cstr(data + 1, size - 1);
	resp.body_len = size - 1;
	if (resp.status / 100 != 2) {
		tg_discard(kube_status_error(&msg, &resp));
		free(msg);
	} else {
		if (kube_parse_body(&page, &resp) == 0)
			compare_items(page);
		scan_page(&resp, page);
		json_decref(page);
	}
	free(resp.body);
	return 0;
}
