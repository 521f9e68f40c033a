/*
 * Webhook notifications of tollgate run (config notify.webhooks[]): each
 * event (a unit blocked, a violation, a drift correction) is POSTed as one
 * JSON object to every webhook, with the configured header whose value is
 * read from its file at delivery (never logged).
 *
 * Events are queued during a cycle and delivered after it, all at once
 * over tg_http's async requests; 429, 5xx and network errors are retried
 * (TG_NOTIFY_RETRIES, exponential backoff); an event still undelivered
 * after that is dropped and counted. Delivery never fails a cycle.
 *
 * Event bodies:
 *   {"event": "blocked", "unit", "commit", "message", "images": [...],
 *    "source": {"url", "branch"}, "time"}
 *   {"event": "violation", "unit", "ref", "digest", "reasons": [...], ...}
 *   {"event": "driftCorrected", "unit", "kind", "namespace", "name",
 *    "fields": [...], ...}
 */
#ifndef TOLLGATE_NOTIFY_H
#define TOLLGATE_NOTIFY_H

#include <stddef.h>

#include <jansson.h>

#include "tollgate/config.h"
#include "tollgate/error.h"

typedef struct tg_notifier tg_notifier;

/* The webhooks of cfg (borrowed, must outlive n). 0 or TG_EINVALID. */
TG_WUR int tg_notifier_new(tg_notifier **out, const tg_config *cfg);
void tg_notifier_free(tg_notifier *n);

/* Queue a copy of event, with "source" and "time" added.
 * Beyond TG_MAX_PENDING_NOTIFICATIONS the oldest is dropped. */
void tg_notifier_add(tg_notifier *n, json_t *event);

/* Events waiting. */
size_t tg_notifier_pending(const tg_notifier *n);

/*
 * Deliver every queued event to every webhook and wait for the answers
 * (bounded by the retries and timeouts above). Counts of deliveries
 * (event x webhook) that succeeded (2xx) and that were given up.
 */
void tg_notifier_flush(tg_notifier *n, size_t *delivered, size_t *failed);

#endif
