/*
 * Metrics of tollgate run: see reconciler/include/tollgate/metrics.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/metrics.h"
#include "tollgate/util.h"

/* Upper bounds (seconds) of the cycle duration histogram buckets. */
static const double buckets[] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct tg_metrics {
	uint64_t cycles_success, cycles_error, cycles_stopped;
	uint64_t bucket_counts[NBUCKETS]; /* cumulative at render */
	uint64_t duration_count;
	double duration_sum;
	int units_applied, units_unchanged, units_blocked, units_failed;
	uint64_t images_allowed, images_warned, images_blocked;
	int drifted;
	int violations;
	int workload_violations[2][TG_PSS_NCONTROLS + 1];
	bool leader;
	int64_t last_success;
	uint64_t notify_ok, notify_failed;
	uint64_t policy_reload_errors;
	bool policy_stale;
	bool trust_set, trust_stale; /* sigstore.tuf */
	int64_t trust_age;
	char commit[72]; /* commit or artifact digest */
	char *url, *branch;
	tg_watch_stats watch;
};

tg_metrics *tg_metrics_new(void)
{
	return tg_calloc(1, sizeof(tg_metrics));
}

void tg_metrics_free(tg_metrics *m)
{
	if (!m)
		return;
	free(m->url);
	free(m->branch);
	free(m);
}

void tg_metrics_cycle(tg_metrics *m,
                      const char *result,
                      double seconds,
                      const tg_cycle_result *r,
                      int64_t now)
{
	size_t i;

	if (!strcmp(result, "success")) {
		m->cycles_success++;
		m->last_success = now;
	} else if (!strcmp(result, "stopped")) {
		m->cycles_stopped++;
	} else {
		m->cycles_error++;
	}
	for (i = 0; i < NBUCKETS; i++)
		if (seconds <= buckets[i])
			m->bucket_counts[i]++;
	m->duration_count++;
	m->duration_sum += seconds;
	if (!r || !r->units)
		return;
	m->units_applied = r->applied;
	m->units_unchanged = r->unchanged;
	m->units_blocked = r->blocked;
	m->units_failed = r->failed;
	m->images_allowed += (uint64_t)r->images_allowed;
	m->images_warned += (uint64_t)r->images_warned;
	m->images_blocked += (uint64_t)r->images_blocked;
	m->drifted = r->drifted;
	memcpy(m->workload_violations, r->workload_violations,
	       sizeof(m->workload_violations));
	if (r->commit[0])
		tg_strlcpy(m->commit, r->commit, sizeof(m->commit));
}

void tg_metrics_set_violations(tg_metrics *m, int n)
{
	m->violations = n;
}

void tg_metrics_set_leader(tg_metrics *m, bool leader)
{
	m->leader = leader;
}

void tg_metrics_notification(tg_metrics *m, bool delivered)
{
	if (delivered)
		m->notify_ok++;
	else
		m->notify_failed++;
}

void tg_metrics_set_source(tg_metrics *m, const char *url, const char *branch)
{
	free(m->url);
	free(m->branch);
	m->url = tg_strdup(url ? url : "");
	m->branch = tg_strdup(branch ? branch : "");
}

void tg_metrics_policy(tg_metrics *m, bool failed, bool stale)
{
	if (failed)
		m->policy_reload_errors++;
	m->policy_stale = stale;
}

void tg_metrics_trust_root(tg_metrics *m, int64_t age, bool stale)
{
	m->trust_set = true;
	m->trust_age = age;
	m->trust_stale = stale;
}

/* A label value with \, " and newline escaped. */
void tg_metrics_set_watches(tg_metrics *m, const tg_watch_stats *st)
{
	m->watch = *st;
}

static int put_label(tg_buf *b, const char *s)
{
	int error = 0;

	for (; *s && !error; s++) {
		if (*s == '\\')
			error = tg_buf_puts(b, "\\\\");
		else if (*s == '"')
			error = tg_buf_puts(b, "\\\"");
		else if (*s == '\n')
			error = tg_buf_puts(b, "\\n");
		else
			error = tg_buf_append(b, s, 1);
	}
	return error;
}

static int head(tg_buf *b, const char *name, const char *type, const char *help)
{
	return tg_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	                     name, type);
}

/* Cycles by result and the histogram of their durations. */
static int render_cycles(tg_buf *b, const tg_metrics *m)
{
	size_t i;
	int error;

	if ((error = head(b, "tollgate_cycles_total", "counter",
	                  "Reconcile cycles by result.")) < 0 ||
	    (error = tg_buf_printf(
	             b,
	             "tollgate_cycles_total{result=\"success\"} %llu\n"
	             "tollgate_cycles_total{result=\"error\"} %llu\n"
	             "tollgate_cycles_total{result=\"stopped\"} %llu\n",
	             (unsigned long long)m->cycles_success,
	             (unsigned long long)m->cycles_error,
	             (unsigned long long)m->cycles_stopped)) < 0 ||
	    (error = head(b, "tollgate_cycle_duration_seconds", "histogram",
	                  "Duration of reconcile cycles.")) < 0)
		return error;
	for (i = 0; i < NBUCKETS && !error; i++)
		error = tg_buf_printf(
		        b,
		        "tollgate_cycle_duration_seconds_bucket{le=\"%g\"} "
		        "%llu\n",
		        buckets[i], (unsigned long long)m->bucket_counts[i]);
	if (error < 0)
		return error;
	return tg_buf_printf(
	        b,
	        "tollgate_cycle_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	        "tollgate_cycle_duration_seconds_sum %.6f\n"
	        "tollgate_cycle_duration_seconds_count %llu\n",
	        (unsigned long long)m->duration_count, m->duration_sum,
	        (unsigned long long)m->duration_count);
}

/* What the last cycles decided: units, images verified, drift. */
static int render_verdicts(tg_buf *b, const tg_metrics *m)
{
	int error;

	if ((error = head(b, "tollgate_units", "gauge",
	                  "Units by verdict in the last cycle that decided "
	                  "them.")) < 0 ||
	    (error = tg_buf_printf(b,
	                           "tollgate_units{verdict=\"applied\"} %d\n"
	                           "tollgate_units{verdict=\"unchanged\"} %d\n"
	                           "tollgate_units{verdict=\"blocked\"} %d\n"
	                           "tollgate_units{verdict=\"failed\"} %d\n",
	                           m->units_applied, m->units_unchanged,
	                           m->units_blocked, m->units_failed)) < 0 ||
	    (error = head(b, "tollgate_images_verified_total", "counter",
	                  "Image references verified, by verdict.")) < 0 ||
	    (error = tg_buf_printf(
	             b,
	             "tollgate_images_verified_total{verdict=\"allowed\"} "
	             "%llu\n"
	             "tollgate_images_verified_total{verdict=\"warned\"} "
	             "%llu\n"
	             "tollgate_images_verified_total{verdict=\"blocked\"} "
	             "%llu\n",
	             (unsigned long long)m->images_allowed,
	             (unsigned long long)m->images_warned,
	             (unsigned long long)m->images_blocked)) < 0 ||
	    (error = head(b, "tollgate_drifted_objects", "gauge",
	                  "Objects found drifted in the last cycle.")) < 0)
		return error;
	return tg_buf_printf(b, "tollgate_drifted_objects %d\n", m->drifted);
}

/* The agent's state: violations, leadership, notifications, last
 * success. */
static int render_state(tg_buf *b, const tg_metrics *m)
{
	int error;

	if ((error = head(b, "tollgate_violations", "gauge",
	                  "Deployed images that fail re-verification.")) < 0 ||
	    (error = tg_buf_printf(b, "tollgate_violations %d\n",
	                           m->violations)) < 0 ||
	    (error = head(b, "tollgate_leader", "gauge",
	                  "1 while this agent holds the lease.")) < 0 ||
	    (error = tg_buf_printf(b, "tollgate_leader %d\n",
	                           m->leader ? 1 : 0)) < 0 ||
	    (error = head(b, "tollgate_notifications_total", "counter",
	                  "Webhook notifications by result.")) < 0 ||
	    (error = tg_buf_printf(
	             b,
	             "tollgate_notifications_total{result=\"delivered\"} "
	             "%llu\n"
	             "tollgate_notifications_total{result=\"failed\"} %llu\n",
	             (unsigned long long)m->notify_ok,
	             (unsigned long long)m->notify_failed)) < 0 ||
	    (error = head(b, "tollgate_last_success_timestamp_seconds", "gauge",
	                  "Unix time of the last successful cycle (0: none "
	                  "yet).")) < 0)
		return error;
	return tg_buf_printf(b,
	                     "tollgate_last_success_timestamp_seconds %lld\n",
	                     (long long)m->last_success);
}

/* Policy reload: errors and whether the policy in force is stale. */
static int render_policy(tg_buf *b, const tg_metrics *m)
{
	int error;

	if ((error = head(b, "tollgate_policy_reload_errors_total", "counter",
	                  "Changes to the policy (or a file it names) that "
	                  "did not load.")) < 0 ||
	    (error = tg_buf_printf(
	             b, "tollgate_policy_reload_errors_total %llu\n",
	             (unsigned long long)m->policy_reload_errors)) < 0 ||
	    (error = head(b, "tollgate_policy_stale", "gauge",
	                  "1 while the policy on disk does not load and the "
	                  "previous one stays in force.")) < 0)
		return error;
	return tg_buf_printf(b, "tollgate_policy_stale %d\n",
	                     m->policy_stale ? 1 : 0);
}

/* Workload violations of the last cycle (not waived) by control and
 * mode; every control is listed, 0 included, so a rule that clears reads
 * as 0 and not as a missing series. */
static int render_workloads(tg_buf *b, const tg_metrics *m)
{
	static const char *const modes[] = { "enforce", "warn" };
	unsigned c, k;
	int error;

	if ((error = head(b, "tollgate_workload_violations", "gauge",
	                  "Workload rule violations in the last cycle (not "
	                  "waived), by control and mode.")) < 0)
		return error;
	for (k = 0; k < 2; k++) {
		for (c = 0; c <= TG_PSS_NCONTROLS; c++) {
			const char *name =
			        c < TG_PSS_NCONTROLS
			                ? tg_pss_control_name((tg_pss_control)c)
			                : "networkPolicy";

			if ((error = tg_buf_printf(
			             b,
			             "tollgate_workload_violations{control="
			             "\"%s\",mode=\"%s\"} %d\n",
			             name, modes[k],
			             m->workload_violations[k][c])) < 0)
				return error;
		}
	}
	return 0;
}

/* sigstore.tuf: the trust root's age and whether it is stale. */
static int render_trust(tg_buf *b, const tg_metrics *m)
{
	int error;

	if (!m->trust_set)
		return 0;
	if ((error = head(b, "tollgate_trust_root_age_seconds", "gauge",
	                  "Seconds since the Sigstore trust root in force was "
	                  "verified through TUF (since the start while none "
	                  "was).")) < 0 ||
	    (error = tg_buf_printf(b, "tollgate_trust_root_age_seconds %lld\n",
	                           (long long)m->trust_age)) < 0 ||
	    (error = head(b, "tollgate_trust_root_stale", "gauge",
	                  "1 while the last TUF refresh of the trust root "
	                  "failed.")) < 0)
		return error;
	return tg_buf_printf(b, "tollgate_trust_root_stale %d\n",
	                     m->trust_stale ? 1 : 0);
}

/* tollgate_source_info, once a cycle named a commit. */
static int render_source(tg_buf *b, const tg_metrics *m)
{
	int error;

	if (!m->commit[0])
		return 0;
	if ((error = head(b, "tollgate_source_info", "gauge",
	                  "The source commit of the last cycle.")) < 0 ||
	    (error = tg_buf_puts(b, "tollgate_source_info{url=\"")) < 0 ||
	    (error = put_label(b, m->url ? m->url : "")) < 0 ||
	    (error = tg_buf_puts(b, "\",branch=\"")) < 0 ||
	    (error = put_label(b, m->branch ? m->branch : "")) < 0)
		return error;
	return tg_buf_printf(b, "\",commit=\"%s\"} 1\n", m->commit);
}

/* Watches: open streams, events, what restarted them. */
static int render_watches(tg_buf *b, const tg_metrics *m)
{
	const tg_watch_stats *w = &m->watch;
	int error;

	if ((error = head(b, "tollgate_watches_open", "gauge",
	                  "Watch streams open (one per list followed).")) < 0 ||
	    (error = tg_buf_printf(b, "tollgate_watches_open %u\n", w->open)) <
	            0 ||
	    (error = head(b, "tollgate_watch_events_total", "counter",
	                  "Watch events by whether they changed an object "
	                  "(and so started a cycle).")) < 0 ||
	    (error = tg_buf_printf(
	             b,
	             "tollgate_watch_events_total{changed=\"true\"} %llu\n"
	             "tollgate_watch_events_total{changed=\"false\"} %llu\n",
	             (unsigned long long)w->relevant,
	             (unsigned long long)(w->events > w->relevant
	                                          ? w->events - w->relevant
	                                          : 0))) < 0 ||
	    (error = head(b, "tollgate_watch_restarts_total", "counter",
	                  "Watch streams started again: resumed after the "
	                  "server ended one, listed again after 410 Gone or "
	                  "an error.")) < 0)
		return error;
	return tg_buf_printf(
	        b,
	        "tollgate_watch_restarts_total{reason=\"resumed\"} %llu\n"
	        "tollgate_watch_restarts_total{reason=\"gone\"} %llu\n"
	        "tollgate_watch_restarts_total{reason=\"error\"} %llu\n",
	        (unsigned long long)w->resumed, (unsigned long long)w->gone,
	        (unsigned long long)(w->relists - w->gone));
}

char *tg_metrics_render(const tg_metrics *m)
{
	tg_buf b;
	int error;

	tg_buf_init(&b, TG_MAX_METRICS_BYTES);
	if ((error = render_cycles(&b, m)) < 0 ||
	    (error = render_verdicts(&b, m)) < 0 ||
	    (error = render_state(&b, m)) < 0 ||
	    (error = render_policy(&b, m)) < 0 ||
	    (error = render_workloads(&b, m)) < 0 ||
	    (error = render_trust(&b, m)) < 0 ||
	    (error = render_source(&b, m)) < 0 ||
	    (error = render_watches(&b, m)) < 0)
		/* The series are bounded far below the limit; should it be
		 * reached, what was rendered is served and the cause logged. */
		tg_log(TG_LOG_ERROR, "metrics cut short", "error",
		       tg_error_last(), NULL);
	return tg_buf_detach(NULL, &b);
}
