/*
 * Metrics of tollgate run, rendered in the Prometheus text format (0.0.4)
 * for GET /metrics. The run loop records; the HTTP endpoint serves the
 * rendered text (README.md "tollgate run" lists every series).
 */
#ifndef TOLLGATE_METRICS_H
#define TOLLGATE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "tollgate/plan.h"
#include "tollgate/watch.h"

typedef struct tg_metrics tg_metrics;

tg_metrics *tg_metrics_new(void);
void tg_metrics_free(tg_metrics *m);

/*
 * One cycle ended: result is "success", "error" or "stopped"; r (NULL for
 * an error before anything was decided) gives the units, images and drift
 * of the cycle; now is the wall clock for the last-success time.
 */
void tg_metrics_cycle(tg_metrics *m,
                      const char *result,
                      double seconds,
                      const tg_cycle_result *r,
                      int64_t now);
void tg_metrics_set_violations(tg_metrics *m, int n);
void tg_metrics_set_leader(tg_metrics *m, bool leader);
/* A notification: delivered or given up after retries. */
void tg_metrics_notification(tg_metrics *m, bool delivered);
/* The source the agent follows, for tollgate_source_info. */
void tg_metrics_set_source(tg_metrics *m, const char *url, const char *branch);

/* Policy reload (tollgate run): a changed policy that did not load
 * (failed), and whether the policy in force is stale (the file on disk
 * does not load). */
void tg_metrics_policy(tg_metrics *m, bool failed, bool stale);

/* Watches (tollgate run): streams open, events, restarts. */
void tg_metrics_set_watches(tg_metrics *m, const tg_watch_stats *st);

/* sigstore.tuf: the age of the trust root in force (seconds since it was
 * verified through TUF) and whether the last refresh failed. Without a
 * call the series are not rendered. */
void tg_metrics_trust_root(tg_metrics *m, int64_t age, bool stale);

/* The whole exposition, caller frees. */
char *tg_metrics_render(const tg_metrics *m);

#endif
