/*
 * Webhook notifications: see reconciler/include/tollgate/notify.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tollgate/error.h"
#include "tollgate/http.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/notify.h"
#include "tollgate/util.h"

struct tg_notifier {
	const tg_config *cfg;
	tg_http *http;
	char **insecure; /* host:port of http:// webhooks */
	size_t ninsecure;
	json_t *queue; /* events waiting */
};

/* One delivery in flight. */
typedef struct delivery {
	const char *url;
	const char *event;
	size_t *delivered, *failed;
} delivery;

/* "host[:port]" of an http(s) URL, caller frees. */
static char *url_hostport(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	return tg_strndup(p, (size_t)(end - p));
}

void tg_notifier_free(tg_notifier *n)
{
	size_t i;

	if (!n)
		return;
	tg_http_free(n->http);
	for (i = 0; i < n->ninsecure; i++)
		free(n->insecure[i]);
	free(n->insecure);
	json_decref(n->queue);
	free(n);
}

int tg_notifier_new(tg_notifier **out, const tg_config *cfg)
{
	tg_notifier *n = tg_calloc(1, sizeof(*n));
	tg_http_options ho = { 0 };
	size_t i;
	int error;

	*out = NULL;
	n->cfg = cfg;
	n->queue = json_array();
	n->insecure = tg_calloc(cfg->notify.nwebhooks + 1, sizeof(char *));
	for (i = 0; i < cfg->notify.nwebhooks; i++)
		if (tg_str_has_prefix(cfg->notify.webhooks[i].url, "http://"))
			n->insecure[n->ninsecure++] =
			        url_hostport(cfg->notify.webhooks[i].url);
	ho.insecure_hosts = (const char *const *)n->insecure;
	ho.insecure_hosts_count = n->ninsecure;
	ho.timeout_s = TG_NOTIFY_TIMEOUT_S;
	ho.max_retries = TG_NOTIFY_RETRIES;
	ho.retry_base_ms = TG_NOTIFY_RETRY_BASE_MS;
	if ((error = tg_http_new(&n->http, &ho)) < 0) {
		tg_notifier_free(n);
		return error;
	}
	*out = n;
	return 0;
}

void tg_notifier_add(tg_notifier *n, json_t *event)
{
	char now[21];

	if (!n || !n->cfg->notify.nwebhooks)
		return;
	event = json_deep_copy(event);
	tg_format_rfc3339(now, tg_now());
	json_object_set_new(event, "time", json_string(now));
	json_object_set_new(event, "source",
	                    json_pack("{s:s,s:s}", "url", n->cfg->source.url,
	                              "branch", n->cfg->source.branch));
	if (json_array_size(n->queue) >= TG_MAX_PENDING_NOTIFICATIONS) {
		json_array_remove(n->queue, 0);
		tg_log(TG_LOG_WARN, "notification dropped: too many waiting",
		       NULL);
	}
	json_array_append_new(n->queue, event);
}

size_t tg_notifier_pending(const tg_notifier *n)
{
	return n ? json_array_size(n->queue) : 0;
}

static void
on_delivered(tg_http *http, int result, tg_http_response *resp, void *ctx)
{
	delivery *d = ctx;

	(void)http;
	if (result == 0 && resp->status / 100 == 2) {
		(*d->delivered)++;
		tg_log(TG_LOG_DEBUG, "notification delivered", "event",
		       d->event, "url", d->url, NULL);
	} else {
		char status[16];
		snprintf(status, sizeof(status), "%ld", resp->status);
		(*d->failed)++;
		tg_log(TG_LOG_ERROR, "notification not delivered", "event",
		       d->event, "url", d->url, "status", status, "error",
		       result < 0 ? tg_error_last() : "", NULL);
	}
	tg_http_response_free(resp);
	free(d);
}

/* "Name: value" of a webhook's header (value from its file), or NULL. */
static char *header_line(const tg_config_webhook *w, int *error)
{
	char *value = NULL, *line;
	size_t len = 0;

	*error = 0;
	if (!w->header)
		return NULL;
	if ((*error = tg_file_read(&value, &len, w->header_value_file,
	                           TG_MAX_SECRET_BYTES)) < 0)
		return NULL;
	while (len && (value[len - 1] == '\n' || value[len - 1] == '\r'))
		value[--len] = '\0';
	if (strpbrk(value, "\r\n")) {
		OPENSSL_cleanse(value, len);
		free(value);
		*error = tg_error_set(TG_EINVALID,
		                      "%s: a header value must be "
		                      "one line",
		                      w->header_value_file);
		return NULL;
	}
	line = tg_aprintf("%s: %s", w->header, value);
	OPENSSL_cleanse(value, len);
	free(value);
	return line;
}

/* Queue one POST of body to hook; a request not even submitted counts
 * as failed. */
static void submit(tg_notifier *n,
                   const tg_config_webhook *hook,
                   const char *const *headers,
                   size_t nheaders,
                   const json_t *ev,
                   const char *body,
                   size_t *delivered,
                   size_t *failed)
{
	tg_http_request req = { 0 };
	delivery *d = tg_calloc(1, sizeof(*d));

	d->url = hook->url;
	d->event = json_string_value(json_object_get(ev, "event"));
	d->delivered = delivered;
	d->failed = failed;
	req.method = "POST";
	req.url = hook->url;
	req.headers = headers;
	req.headers_count = nheaders;
	req.body = body;
	req.body_len = strlen(body);
	if (tg_http_submit(n->http, &req, on_delivered, d) < 0) {
		tg_log(TG_LOG_ERROR, "notification not sent", "url", hook->url,
		       "error", tg_error_last(), NULL);
		(*failed)++;
		free(d);
	}
}

/* Queue every event (bodies[i]) to one webhook, with its header. */
static void submit_hook(tg_notifier *n,
                        const tg_config_webhook *hook,
                        char *const *bodies,
                        size_t *delivered,
                        size_t *failed)
{
	const char *headers[2];
	size_t i;
	json_t *ev;
	int error;
	char *auth = header_line(hook, &error);

	if (error < 0) {
		tg_log(TG_LOG_ERROR, "notification not sent", "url", hook->url,
		       "error", tg_error_last(), NULL);
		*failed += json_array_size(n->queue);
		return;
	}
	headers[0] = "Content-Type: application/json";
	headers[1] = auth;
	json_array_foreach(n->queue, i, ev)
		submit(n, hook, headers, auth ? 2 : 1, ev, bodies[i], delivered,
		       failed);
	if (auth) {
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
}

void tg_notifier_flush(tg_notifier *n, size_t *delivered, size_t *failed)
{
	char **bodies;
	size_t i, w, nev;
	json_t *ev;

	*delivered = *failed = 0;
	if (!n || !(nev = json_array_size(n->queue)))
		return;
	bodies = tg_calloc(nev, sizeof(*bodies));
	json_array_foreach(n->queue, i, ev)
		bodies[i] = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	for (w = 0; w < n->cfg->notify.nwebhooks; w++)
		submit_hook(n, &n->cfg->notify.webhooks[w], bodies, delivered,
		            failed);
	if (tg_http_run(n->http) < 0)
		tg_log(TG_LOG_ERROR, "notifications: HTTP client failed",
		       "error", tg_error_last(), NULL);
	for (i = 0; i < nev; i++)
		free(bodies[i]);
	free(bodies);
	json_array_clear(n->queue);
}
