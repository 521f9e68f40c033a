/*
 * Internals of the HTTP client (include/tollgate/http.h): http.c keeps
 * the client, its URL rules and the queue of transfers (start, retry,
 * redirect, completion order); http_xfer.c runs one transfer on the wire
 * (the easy handle's options, the body and header callbacks, the response
 * handed to the caller).
 */
#ifndef TOLLGATE_HTTP_INT_H
#define TOLLGATE_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <poll.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/http.h"

struct xfer {
	struct xfer *next;
	tg_http *http;
	CURL *easy;
	struct curl_slist *slist;
	char *method;
	char *url;
	char *origin; /* scheme://host:port of the first URL */
	char **headers;
	size_t headers_count;
	unsigned char *body;
	size_t body_len;
	size_t max_bytes;
	bool no_redirects;
	tg_http_done_fn done;
	void *ctx;
	unsigned attempts;
	unsigned redirects;
	double not_before; /* tg_monotonic() time the next attempt may start */
	tg_buf resp_body;
	tg_http_header *resp_headers;
	size_t resp_headers_count;
	size_t resp_header_bytes;
	bool too_big;
	bool headers_too_big;
	char errbuf[CURL_ERROR_SIZE];
};

struct tg_http {
	CURLM *multi;
	char *ca_file;
	/* PEM bytes from a kubeconfig; the key is a secret, wiped on free. */
	struct curl_blob ca_pem, cert_pem, key_pem;
	bool skip_verify;
	char **insecure;
	size_t insecure_count;
	unsigned parallel;
	long timeout_s;
	long connect_timeout_s;
	unsigned max_retries;
	long retry_base_ms;
	char *user_agent;
	struct xfer *queue; /* waiting to start, in submit order */
	struct xfer *queue_tail;
	struct xfer *running_list; /* transfers on the multi handle */
	unsigned active;
	bool running;
	tg_http_stats stats;
	/* curl's socket API (http.c): the sockets curl wants watched, and
	 * when it wants to be called for its timeouts (< 0: never). */
	struct pollfd *fds;
	size_t nfds, fds_cap;
	double timer_at;
};

/* Close x's easy handle (taken off the multi handle) and its header list. */
void tg_http__xfer_release_easy(struct xfer *x);
/* Free x, wiping its request headers (they may hold credentials). */
void tg_http__xfer_free(struct xfer *x);
/* Create and configure the easy handle for the next attempt of x and add
 * it to the multi handle. 0 or TG_ERROR. */
TG_WUR int tg_http__xfer_start(struct xfer *x);
/* Hand the outcome to the callback and free x. The detail of a negative
 * result is already recorded with tg_error_set(). */
void tg_http__xfer_complete(struct xfer *x, int result, long status);
/* A header of x's current response, or NULL. */
const char *tg_http__xfer_header(const struct xfer *x, const char *name);

#endif
