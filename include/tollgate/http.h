/*
 * HTTP client over libcurl: TLS on by default, plain HTTP only for hosts the
 * caller lists as insecure, timeouts, bounded retries with backoff, limited
 * redirects, capped response sizes, and parallel transfers over ONE curl
 * multi handle (connection reuse, bounded parallelism).
 *
 * Shape: a tg_http client holds the multi handle. Requests are submitted
 * with tg_http_submit(), each with its own completion callback; tg_http_run()
 * drives every submitted request to completion. A callback may submit
 * follow-up requests (401 -> token -> retry, manifest -> blob), which join
 * the same running batch, so multi-step work needs no threads.
 * tg_http_request_sync() is the one-request convenience built on the same
 * machinery.
 *
 * Retries: a request that ends with a network error, HTTP 429 or HTTP 5xx is
 * retried up to max_retries times with exponential backoff (honouring
 * Retry-After up to a cap). Only the last attempt reaches the callback.
 *
 * Redirects are followed by this module (not by curl), at most
 * TG_MAX_REDIRECTS per request: the target must be https, or http on an
 * insecure host; an "Authorization" header given by the caller is dropped
 * when the redirect leaves the original scheme://host:port (registries
 * redirect blobs to storage, which must not see registry credentials).
 *
 * Nothing here logs header values: callers put credentials in headers.
 * Not thread-safe: one tg_http per thread.
 */
#ifndef TOLLGATE_HTTP_H
#define TOLLGATE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"

typedef struct tg_http tg_http;

typedef struct tg_http_options {
	/* PEM bundle of CAs to trust instead of the system store; NULL for
	 * the system store. */
	const char *ca_file;
	/* "host" or "host:port" entries allowed over plain HTTP (and with
	 * TLS certificate checks still ON when https is used). */
	const char *const *insecure_hosts;
	size_t insecure_hosts_count;
	/* Transfers running at once; 0 means TG_HTTP_DEFAULT_PARALLEL. */
	unsigned parallel;
	/* Whole-request and connect timeouts in seconds; 0 means
	 * TG_HTTP_TIMEOUT_S / TG_HTTP_CONNECT_TIMEOUT_S. */
	long timeout_s;
	long connect_timeout_s;
	/* Retries after the first attempt: 0 means TG_HTTP_MAX_RETRIES,
	 * negative means none. */
	int max_retries;
	/* First backoff delay in milliseconds, doubled each retry; 0 means
	 * TG_HTTP_RETRY_BASE_MS. Retry-After is honoured up to
	 * TG_HTTP_RETRY_AFTER_MAX_S. */
	long retry_base_ms;
	/* NULL means "tollgate/<version>". */
	const char *user_agent;
	/* CA bundle given as PEM bytes (a kubeconfig's
	 * certificate-authority-data) instead of ca_file; NULL for none. */
	const char *ca_pem;
	size_t ca_pem_len;
	/* TLS client certificate and key as PEM bytes (kubeconfig
	 * client-certificate-data / client-key-data); NULL for none. */
	const char *client_cert_pem;
	size_t client_cert_pem_len;
	const char *client_key_pem;
	size_t client_key_pem_len;
	/* Skip TLS certificate checks for every host. Only ever set from an
	 * explicit user choice (kubeconfig insecure-skip-tls-verify that
	 * tollgate's config allows); never for registries. */
	bool insecure_skip_verify;
} tg_http_options;

typedef struct tg_http_header {
	char *name;  /* as received */
	char *value; /* trimmed */
} tg_http_header;

/*
 * A completed exchange. All fields are owned by the struct; free it with
 * tg_http_response_free(). status is 0 when no HTTP response arrived (then
 * the request's result is negative and error says why).
 */
typedef struct tg_http_response {
	long status;
	char *url;  /* the URL that answered (after redirects) */
	char *body; /* NUL-terminated (not counted), never NULL */
	size_t body_len;
	tg_http_header *headers; /* of the final response only */
	size_t headers_count;
	unsigned attempts;  /* 1 + retries made */
	unsigned redirects; /* redirects followed */
} tg_http_response;

typedef struct tg_http_request {
	const char *method; /* "GET" (default when NULL), "HEAD", "PUT", ... */
	const char *url;    /* http:// (insecure hosts only) or https:// */
	/* Extra request headers as "Name: value" lines. Copied at submit. */
	const char *const *headers;
	size_t headers_count;
	/* Request body for PUT/POST (copied at submit); NULL for none. */
	const void *body;
	size_t body_len;
	/* Response body cap in bytes; 0 means TG_MAX_SMALL_RESPONSE_BYTES.
	 * A larger response fails the request with TG_ETOOBIG. */
	size_t max_bytes;
	/* Do not follow redirects: a 3xx is handed to the callback. */
	bool no_redirects;
} tg_http_request;

/*
 * Completion callback. result is 0 when an HTTP response arrived (ANY
 * status: the callback decides what 404 or 401 means), or a negative code
 * (TG_ENET network or TLS failure after retries, TG_ETOOBIG body over
 * max_bytes, TG_EINVALID redirect refused) with the detail in
 * tg_error_last() (curl's error buffer, the URL, the HTTP status).
 * resp is never NULL and belongs to the callback (tg_http_response_free).
 * The callback may call tg_http_submit() on the same client.
 */
typedef void (*tg_http_done_fn)(tg_http *http,
                                int result,
                                tg_http_response *resp,
                                void *ctx);

/* A client. 0, or TG_ERROR (curl init failed) / TG_EINVALID (option). */
TG_WUR int tg_http_new(tg_http **out, const tg_http_options *opts);

/* Frees the client; pending requests are dropped without callbacks. */
void tg_http_free(tg_http *http);

/*
 * Queue a request. It starts when tg_http_run() runs (or at once when a
 * batch is already running). 0, or TG_EINVALID for a URL that is not
 * https:// or http:// on an insecure host (then done is NOT called).
 */
TG_WUR int tg_http_submit(tg_http *http,
                          const tg_http_request *req,
                          tg_http_done_fn done,
                          void *ctx);

/*
 * Run until no request is pending or in flight, calling each completion
 * callback once. Returns 0, or TG_ERROR when curl's multi interface fails
 * (pending callbacks are then called with TG_ENET).
 */
TG_WUR int tg_http_run(tg_http *http);

/*
 * Submit one request and run the client until it (and anything else
 * pending) completes. *out gets the response for any HTTP status; on a
 * negative return *out is NULL and tg_error_last() has the detail.
 */
TG_WUR int tg_http_request_sync(tg_http_response **out,
                                tg_http *http,
                                const tg_http_request *req);

/* First header value with this name (case-insensitive), borrowed; NULL. */
const char *tg_http_response_header(const tg_http_response *resp,
                                    const char *name);

void tg_http_response_free(tg_http_response *resp);

/* True when plain HTTP is allowed for this "host" or "host:port". */
bool tg_http_host_is_insecure(const tg_http *http, const char *hostport);

/* Counters since tg_http_new, for tests and metrics. */
typedef struct tg_http_stats {
	uint64_t requests; /* completed requests (callbacks called) */
	uint64_t attempts; /* transfers started, retries and redirects
	                      included */
	uint64_t retries;
	uint64_t connections; /* new connections opened (CURLINFO_NUM_CONNECTS)
	                       */
	uint64_t bytes;       /* response body bytes received */
	unsigned max_in_flight; /* highest number of transfers at once */
} tg_http_stats;

void tg_http_get_stats(tg_http_stats *out, const tg_http *http);

#endif
