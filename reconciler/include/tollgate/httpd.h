/*
 * The agent's HTTP endpoint (tollgate run): /healthz, /readyz, /metrics and
 * POST /reconcile, served by libmicrohttpd on its own thread.
 *
 * The server only reads state the run loop hands it (the metrics text, the
 * ready flag) and raises a flag for POST /reconcile, waking the loop by
 * writing one byte to wake_fd. All of it is guarded by one mutex.
 *
 * POST /reconcile is open unless a secret is set; then it needs one of
 *   Authorization: Bearer <secret>       (any client)
 *   X-Gitlab-Token: <secret>             (GitLab webhooks)
 *   X-Hub-Signature-256: sha256=<hex>    (GitHub webhooks: HMAC-SHA256 of
 *                                         the body with the secret)
 * and answers 401 otherwise. Request bodies are read up to
 * TG_HTTPD_MAX_BODY_BYTES (413 beyond) and otherwise ignored.
 */
#ifndef TOLLGATE_HTTPD_H
#define TOLLGATE_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "tollgate/error.h"

typedef struct tg_httpd tg_httpd;

typedef struct tg_httpd_options {
	const char *addr;   /* "host:port", ":port" (all interfaces) */
	const char *secret; /* POST /reconcile secret; NULL: none */
	size_t secret_len;
	int wake_fd; /* written to on POST /reconcile; -1 for none */
} tg_httpd_options;

/* Start serving. 0, TG_EINVALID (bad address), TG_EIO (cannot listen). */
TG_WUR int tg_httpd_start(tg_httpd **out, const tg_httpd_options *opts);
/* Stop the server thread and free everything. NULL is fine. */
void tg_httpd_stop(tg_httpd *h);

/* /readyz answers 200 once ready is set, 503 before. */
void tg_httpd_set_ready(tg_httpd *h, bool ready);
/* A problem (copied) that makes /readyz answer 503 "not ready: <problem>"
 * even when ready is set; NULL clears it. */
void tg_httpd_set_not_ready(tg_httpd *h, const char *problem);
/* The /metrics body (Prometheus text format), copied. */
void tg_httpd_set_metrics(tg_httpd *h, const char *text);
/* True (and cleared) when POST /reconcile was called since the last call. */
bool tg_httpd_take_reconcile(tg_httpd *h);

#endif
