/*
 * The Kubernetes client's requests: submitting one over tg_http, reading
 * a Status error or a JSON answer, and the URLs of collections; shared by
 * kube.c, discovery.c and list.c through kube_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/kube.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

#include "kube_int.h"

/* Requests ---------------------------------------------------------------- */

typedef struct pending {
	tg_kube *k;
	reply_fn fn;
	void *ctx;
} pending;

static void
on_done(tg_http *http, int result, tg_http_response *resp, void *ctx)
{
	pending *p = ctx;

	(void)http;
	p->fn(p->k, result, resp, p->ctx);
	free(p);
}

/* Submit method url with an optional JSON body of content_type. */
int kube_submit(tg_kube *k,
                const char *method,
                const char *url,
                const char *content_type,
                const char *body,
                bool metadata_only,
                reply_fn fn,
                void *ctx)
{
	const char *headers[3];
	char *ct = NULL;
	size_t nh = 0;
	tg_http_request req = { 0 };
	pending *p = tg_malloc(sizeof(*p));
	int error;

	/* metadata_only: the object's metadata alone, as client-go's
	 * metadata client asks for it; a server that cannot convert sends
	 * the object (the second type). */
	headers[nh++] = metadata_only ? "Accept: application/json;"
	                                "as=PartialObjectMetadata;"
	                                "g=meta.k8s.io;v=v1,application/json"
	                              : "Accept: application/json";
	if (k->auth)
		headers[nh++] = k->auth;
	if (content_type) {
		ct = tg_aprintf("Content-Type: %s", content_type);
		headers[nh++] = ct;
	}
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.headers_count = nh;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.max_bytes = TG_MAX_KUBE_RESPONSE_BYTES;
	p->k = k;
	p->fn = fn;
	p->ctx = ctx;
	error = tg_http_submit(k->http, &req, on_done, p);
	free(ct);
	if (error < 0)
		free(p);
	return error;
}

/*
 * The message of a failed response: the Status message when the server
 * sent one, else the HTTP status and a piece of the body. 401/403 become
 * TG_EAUTH, 404 TG_ENOTFOUND, 409 TG_ECONFLICT, others TG_ERROR.
 */
int kube_status_error(char **msg_out, const tg_http_response *resp)
{
	json_t *st = json_loadb(resp->body, resp->body_len, 0, NULL);
	const char *m = json_string_value(json_object_get(st, "message"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	int code;

	if (m && reason && *reason)
		*msg_out = tg_aprintf("%ld %s: %s", resp->status, reason, m);
	else if (m)
		*msg_out = tg_aprintf("%ld: %s", resp->status, m);
	else
		*msg_out = tg_aprintf("HTTP %ld: %.200s", resp->status,
		                      resp->body);
	json_decref(st);
	switch (resp->status) {
	case 401:
	case 403:
		code = TG_EAUTH;
		break;
	case 404:
		code = TG_ENOTFOUND;
		break;
	case 409:
		code = TG_ECONFLICT;
		break;
	default:
		code = TG_ERROR;
	}
	return code;
}

/* Parse a 2xx JSON body; TG_EPARSE naming url when it is not JSON. */
int kube_parse_body(json_t **out, const tg_http_response *resp)
{
	json_error_t jerr;

	*out = json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES,
	                  &jerr);
	if (!*out)
		return tg_error_set(TG_EPARSE,
		                    "%s: response is not JSON: %s "
		                    "(line %d)",
		                    resp->url, jerr.text, jerr.line);
	return 0;
}

/* URLs -------------------------------------------------------------------- */

/* Percent-encode a path segment: names come from Git, and a '/' or '?'
 * in one must not change which URL is called. */
char *kube_escape_segment(const char *s)
{
	tg_buf b;
	const char *p;
	int error = 0;

	/* Three bytes per input byte at most: the buffer cannot fill. */
	tg_buf_init(&b, 4 * strlen(s) + 1);
	for (p = s; *p && error == 0; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == ':')
			error = tg_buf_append(&b, p, 1);
		else
			error = tg_buf_printf(&b, "%%%02X", c);
	}
	if (error == 0)
		error = tg_buf_puts(&b, "");
	if (error < 0) {
		tg_buf_free(&b);
		return NULL;
	}
	return tg_buf_detach(NULL, &b);
}

/* The collection URL of resource r in namespace ns (ignored for
 * cluster-scoped kinds; NULL for all namespaces). */
char *kube_collection_url(tg_kube *k, const tg_kube_resource *r, const char *ns)
{
	char *prefix = r->group[0]
	                       ? tg_aprintf("%s/apis/%s/%s", k->server,
	                                    r->group, r->version)
	                       : tg_aprintf("%s/api/%s", k->server, r->version);
	char *url, *ens;

	if (!r->namespaced || !ns) {
		url = tg_aprintf("%s/%s", prefix, r->name);
	} else {
		ens = kube_escape_segment(ns);
		url = tg_aprintf("%s/namespaces/%s/%s", prefix, ens, r->name);
		free(ens);
	}
	free(prefix);
	return url;
}

char *kube_blob_dup(const char *s, size_t len)
{
	return s ? tg_strndup(s, len) : NULL;
}
