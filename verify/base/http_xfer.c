/*
 * One transfer of the HTTP client on the wire: its easy handle's options,
 * the body and header callbacks (each bounded), and the response handed
 * to the caller. The queue around it is in http.c; see http_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "tollgate/limits.h"
#include "tollgate/util.h"

#include "http_int.h"

static void xfer_reset_response(struct xfer *x)
{
	size_t i;

	tg_buf_free(&x->resp_body);
	tg_buf_init(&x->resp_body, x->max_bytes);
	for (i = 0; i < x->resp_headers_count; i++) {
		free(x->resp_headers[i].name);
		free(x->resp_headers[i].value);
	}
	free(x->resp_headers);
	x->resp_headers = NULL;
	x->resp_headers_count = 0;
	x->resp_header_bytes = 0;
	x->too_big = false;
	x->headers_too_big = false;
	x->errbuf[0] = '\0';
}

void tg_http__xfer_release_easy(struct xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(x->http->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->slist);
	x->slist = NULL;
}

void tg_http__xfer_free(struct xfer *x)
{
	size_t i;

	if (!x)
		return;
	tg_http__xfer_release_easy(x);
	xfer_reset_response(x);
	tg_buf_free(&x->resp_body);
	for (i = 0; i < x->headers_count; i++) {
		/* Headers may carry credentials: wipe before free. */
		OPENSSL_cleanse(x->headers[i], strlen(x->headers[i]));
		free(x->headers[i]);
	}
	free(x->headers);
	free(x->method);
	free(x->url);
	free(x->origin);
	free(x->body);
	free(x);
}

/* curl write callback: keep the body, refusing anything past max_bytes
 * (returning a short count makes curl abort with CURLE_WRITE_ERROR). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;

	if (tg_buf_append(&x->resp_body, data, n) < 0) {
		x->too_big = true;
		return 0;
	}
	return n;
}

/* Trim spaces and tabs on both ends of s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
	while (*len && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t' ||
	                s[*len - 1] == '\r' || s[*len - 1] == '\n'))
		(*len)--;
	return s;
}

/* curl header callback: one call per header line, status line included. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb, namelen, vlen;
	const char *colon, *value;
	tg_http_header *h;

	x->resp_header_bytes += n;
	if (x->resp_header_bytes > TG_MAX_HTTP_HEADER_BYTES) {
		x->headers_too_big = true;
		return 0;
	}
	if (n >= 5 && !memcmp(data, "HTTP/", 5)) {
		/* A new response (after 100 Continue): forget the old one. */
		size_t keep = x->resp_header_bytes;

		xfer_reset_response(x);
		x->resp_header_bytes = keep;
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	namelen = (size_t)(colon - data);
	vlen = n - namelen - 1;
	value = trim(colon + 1, &vlen);
	x->resp_headers = tg_realloc(x->resp_headers,
	                             (x->resp_headers_count + 1) * sizeof(*h));
	h = &x->resp_headers[x->resp_headers_count++];
	h->name = tg_strndup(data, namelen);
	h->value = tg_strndup(value, vlen);
	return n;
}

/* Method and body options for one attempt. */
static void easy_set_method(struct xfer *x)
{
	CURL *e = x->easy;

	if (!strcmp(x->method, "GET") && !x->body) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (!strcmp(x->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		return;
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? (char *)x->body : "");
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)x->body_len);
}

/* Create and configure the easy handle for the next attempt of x. */
int tg_http__xfer_start(struct xfer *x)
{
	tg_http *http = x->http;
	CURL *e;
	size_t i;

	xfer_reset_response(x);
	if (!(e = x->easy = curl_easy_init()))
		return tg_error_set(TG_ERROR, "curl_easy_init failed");
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, http->timeout_s);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, http->connect_timeout_s);
	curl_easy_setopt(e, CURLOPT_USERAGENT, http->user_agent);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	                 (curl_off_t)x->max_bytes);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	if (http->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, http->ca_file);
	if (http->ca_pem.data)
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &http->ca_pem);
	if (http->cert_pem.data && http->key_pem.data) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &http->cert_pem);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &http->key_pem);
	}
	if (http->skip_verify) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* No "Expect: 100-continue" round trip for uploads. */
	x->slist = curl_slist_append(x->slist, "Expect:");
	for (i = 0; i < x->headers_count; i++)
		x->slist = curl_slist_append(x->slist, x->headers[i]);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist);
	easy_set_method(x);
	if (curl_multi_add_handle(http->multi, e) != CURLM_OK)
		return tg_error_set(TG_ERROR, "curl_multi_add_handle failed");
	x->attempts++;
	http->stats.attempts++;
	if (http->active > http->stats.max_in_flight)
		http->stats.max_in_flight = http->active;
	return 0;
}

const char *tg_http_response_header(const tg_http_response *resp,
                                    const char *name)
{
	size_t i;

	for (i = 0; i < resp->headers_count; i++)
		if (!strcasecmp(resp->headers[i].name, name))
			return resp->headers[i].value;
	return NULL;
}

void tg_http_response_free(tg_http_response *resp)
{
	size_t i;

	if (!resp)
		return;
	for (i = 0; i < resp->headers_count; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	free(resp->url);
	free(resp->body);
	free(resp);
}

/* Move what x received into a response the callback will own. */
static tg_http_response *xfer_take_response(struct xfer *x, long status)
{
	tg_http_response *r = tg_calloc(1, sizeof(*r));

	r->status = status;
	r->url = tg_strdup(x->url);
	r->body = tg_buf_detach(&r->body_len, &x->resp_body);
	if (!r->body)
		r->body = tg_strdup("");
	r->headers = x->resp_headers;
	r->headers_count = x->resp_headers_count;
	x->resp_headers = NULL;
	x->resp_headers_count = 0;
	r->attempts = x->attempts;
	r->redirects = x->redirects;
	return r;
}

/* Hand the outcome to the callback and free the transfer. The detail of a
 * negative result is already recorded with tg_error_set(). */
void tg_http__xfer_complete(struct xfer *x, int result, long status)
{
	tg_http_response *r;

	tg_http__xfer_release_easy(x);
	r = xfer_take_response(x, status);
	x->http->stats.requests++;
	if (x->done)
		x->done(x->http, result, r, x->ctx);
	else
		tg_http_response_free(r);
	tg_http__xfer_free(x);
}

/* Header value in the transfer's current response; NULL. */
const char *tg_http__xfer_header(const struct xfer *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->resp_headers_count; i++)
		if (!strcasecmp(x->resp_headers[i].name, name))
			return x->resp_headers[i].value;
	return NULL;
}
