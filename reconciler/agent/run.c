/*
 * tollgate run: see reconciler/include/tollgate/run.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "tollgate/agent.h"
#include "tollgate/error.h"
#include "tollgate/httpd.h"
#include "tollgate/kube.h"
#include "tollgate/lease.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/metrics.h"
#include "tollgate/notify.h"
#include "tollgate/run.h"
#include "tollgate/util.h"

typedef struct runner {
	const tg_config *cfg;
	const tg_run_options *opts;
	tg_agent *agent;
	tg_httpd *httpd;
	tg_metrics *metrics;
	tg_lease *lease; /* NULL without leader election */
	tg_notifier *notifier;
	tg_watch_set *watches;     /* the agent's kube client's, borrowed */
	tg_watch_stats watch_seen; /* as last published */
	json_t *blocked; /* unit -> commit it was last notified blocked at */
	bool leader;     /* as last logged */
	double next_lease;
	double poll_s;
	double next_cycle, next_poll, next_reverify;
	int failures; /* failed cycles in a row, for the backoff */
	const char *identity;
	bool waiting_logged;
	bool ready;
} runner;

static bool stopping(const runner *r)
{
	return r->opts->stop && *r->opts->stop;
}

static void publish_metrics(runner *r)
{
	char *text;
	tg_watch_stats ws;

	if (r->watches) {
		tg_watch_set_stats(&ws, r->watches);
		tg_metrics_set_watches(r->metrics, &ws);
	}
	text = tg_metrics_render(r->metrics);

	tg_httpd_set_metrics(r->httpd, text);
	free(text);
}

static double backoff(int failures)
{
	double d = TG_RUN_BACKOFF_BASE_S;

	while (--failures > 0 && d < TG_RUN_BACKOFF_MAX_S)
		d *= 2;
	return d < TG_RUN_BACKOFF_MAX_S ? d : TG_RUN_BACKOFF_MAX_S;
}

/* One event line per unit: verdict, commit, images. */
static void log_units(const json_t *doc, const char *commit)
{
	json_t *u, *img;
	const char *name;
	size_t i;

	json_object_foreach(json_object_get(doc, "units"), name, u) {
		const char *v =
		        json_string_value(json_object_get(u, "verdict"));
		char *images = tg_strdup("");

		json_array_foreach(json_object_get(u, "images"), i, img) {
			char *n = tg_aprintf(
			        "%s%s%s@%s", images, *images ? "," : "",
			        json_string_value(json_object_get(img, "ref")),
			        json_string_value(
			                json_object_get(img, "digest"))
			                ? json_string_value(json_object_get(
			                          img, "digest"))
			                : "-");
			free(images);
			images = n;
		}
		tg_log(v && (!strcmp(v, "blocked") || !strcmp(v, "failed"))
		               ? TG_LOG_WARN
		               : TG_LOG_INFO,
		       "unit", "unit", name, "verdict", v ? v : "", "commit",
		       commit, "image", images, NULL);
		free(images);
	}
}

/* Deliver what the cycle queued; count it. */
static void notify_flush(runner *r)
{
	size_t ok, failed, i;

	if (!tg_notifier_pending(r->notifier))
		return;
	tg_notifier_flush(r->notifier, &ok, &failed);
	for (i = 0; i < ok; i++)
		tg_metrics_notification(r->metrics, true);
	for (i = 0; i < failed; i++)
		tg_metrics_notification(r->metrics, false);
}

/* Events of a cycle: units newly blocked, drift corrected. */
static void notify_cycle(runner *r, const json_t *doc, const char *commit)
{
	json_t *now_blocked = json_object(), *u, *d;
	const char *name;
	size_t i;

	json_object_foreach(json_object_get(doc, "units"), name, u) {
		const char *v =
		        json_string_value(json_object_get(u, "verdict"));
		json_t *ev;

		if (!v || strcmp(v, "blocked"))
			continue;
		json_object_set_new(now_blocked, name, json_string(commit));
		if (json_equal(json_object_get(r->blocked, name),
		               json_object_get(now_blocked, name)))
			continue;
		ev = json_pack("{s:s,s:s,s:s,s:O*,s:O*}", "event", "blocked",
		               "unit", name, "commit", commit, "message",
		               json_object_get(u, "message"), "images",
		               json_object_get(u, "images"));
		tg_notifier_add(r->notifier, ev);
		json_decref(ev);
	}
	json_decref(r->blocked);
	r->blocked = now_blocked;
	json_array_foreach(json_object_get(doc, "drift"), i, d) {
		json_t *ev;

		if (!json_is_true(json_object_get(d, "corrected")))
			continue;
		ev = json_deep_copy(d);
		json_object_del(ev, "corrected");
		json_object_set_new(ev, "event", json_string("driftCorrected"));
		json_object_set_new(ev, "commit", json_string(commit));
		tg_notifier_add(r->notifier, ev);
		json_decref(ev);
	}
}

/* The cycle's document, before its status is pushed (it is freed then):
 * the unit lines and the events to notify. */
static void cycle_doc(void *ctx, const json_t *doc, const char *commit)
{
	runner *r = ctx;

	log_units(doc, commit);
	notify_cycle(r, doc, commit);
}

/* A cycle that stopped (signal, lost lease) or failed: when to try
 * again. */
static void cycle_failed(runner *r, const tg_cycle_result *res)
{
	char n[16];

	if (res->stopped) {
		tg_log(TG_LOG_INFO, "cycle stopped", "commit", res->commit,
		       "reason", tg_error_last(), NULL);
		r->next_cycle = tg_monotonic();
		if (r->lease && !tg_lease_held(r->lease)) {
			/* Lost the lease: only lease_step() runs until it is
			 * held again, every retry period. */
			r->leader = false;
			r->next_lease =
			        tg_monotonic() + TG_LEASE_RETRY_PERIOD_S;
			tg_metrics_set_leader(r->metrics, false);
		}
		return;
	}
	r->failures++;
	r->next_cycle = tg_monotonic() + backoff(r->failures);
	snprintf(n, sizeof(n), "%.0f", backoff(r->failures));
	tg_log(TG_LOG_ERROR, "cycle failed", "commit", res->commit, "error",
	       tg_error_last(), "retry_in_s", n, NULL);
}

/* One line with the counts of a cycle that ran. */
static void log_result(const tg_cycle_result *res)
{
	char n[4][16];

	snprintf(n[0], sizeof(n[0]), "%d", res->applied);
	snprintf(n[1], sizeof(n[1]), "%d", res->blocked);
	snprintf(n[2], sizeof(n[2]), "%d", res->failed);
	snprintf(n[3], sizeof(n[3]), "%d", res->drifted);
	tg_log(TG_LOG_INFO, "cycle result", "commit", res->commit, "applied",
	       n[0], "blocked", n[1], "failed", n[2], "drifted", n[3], "status",
	       res->status_pushed      ? "pushed"
	       : res->status_committed ? "committed"
	                               : "unchanged",
	       NULL);
}

/* Reload the policy when it changed; a policy that does not load is
 * reported (log, metrics, /readyz) each cycle until it does. */
static void check_policy(runner *r)
{
	tg_agent_policy_state ps;
	char *problem;

	tg_agent_policy_refresh(&ps, r->agent);
	tg_metrics_policy(r->metrics, ps.failed, ps.stale != NULL);
	if (ps.reloaded)
		tg_log(TG_LOG_INFO, "policy reloaded", "policy", ps.path,
		       "hash", ps.hash, NULL);
	if (!ps.stale) {
		tg_httpd_set_not_ready(r->httpd, NULL);
		return;
	}
	tg_log(TG_LOG_ERROR,
	       "policy stale: it does not load, the previous policy stays "
	       "in force",
	       "policy", ps.path, "error", ps.stale, "hash", ps.hash, NULL);
	problem = tg_aprintf("policy stale: %s does not load: %s; the "
	                     "previous policy (%s) stays in force",
	                     ps.path, ps.stale, ps.hash);
	tg_httpd_set_not_ready(r->httpd, problem);
	free(problem);
}

/* sigstore.tuf: the age of the trust root in force, after each cycle. */
static void trust_metrics(runner *r)
{
	int64_t age;
	bool stale;

	if (tg_agent_trust_state(r->agent, &age, &stale))
		tg_metrics_trust_root(r->metrics, age, stale);
}

static void run_cycle(runner *r)
{
	tg_cycle_result res;
	json_t *doc = NULL;
	double start = tg_monotonic(), took;
	int error;

	check_policy(r);
	error = tg_agent_cycle(&res, &doc, r->agent, false);
	took = tg_monotonic() - start;
	trust_metrics(r);
	if (error < 0) {
		tg_metrics_cycle(r->metrics, res.stopped ? "stopped" : "error",
		                 took, res.units ? &res : NULL, tg_now());
		cycle_failed(r, &res);
		goto out;
	}
	r->failures = 0;
	r->next_cycle = tg_monotonic() + (double)r->cfg->source.interval;
	/* Watchers of kinds the last cycles did not list any more stop. */
	if (r->watches)
		tg_watch_set_sweep(r->watches);
	tg_metrics_cycle(r->metrics, "success", took, &res, tg_now());
	/* log_units and notify_cycle ran from on_doc */
	notify_flush(r);
	log_result(&res);
	if (!r->ready) {
		r->ready = true;
		tg_httpd_set_ready(r->httpd, true);
	}
out:
	if (stopping(r))
		tg_log(TG_LOG_INFO, "stop requested during the cycle", "commit",
		       res.commit, "cycle",
		       res.stopped ? "abandoned before verifying" : "finished",
		       NULL);
	json_decref(doc);
	publish_metrics(r);
#if defined(__GLIBC__)
	/* What the cycle freed goes back to the system, not only the top of
	 * the heap: between cycles `tollgate run` at 10,000 objects holds 9
	 * MiB of heap but kept 32, and the next cycle's peak came on top of
	 * it (tests/bench/once.sh; a few ms). */
	malloc_trim(0);
#endif
}

static void run_reverify(runner *r)
{
	json_t *fresh = NULL, *v;
	char n[16];
	size_t i;

	r->next_reverify = tg_monotonic() + (double)r->cfg->reverify_interval;
	if (tg_agent_reverify(&fresh, r->agent) < 0) {
		tg_log(TG_LOG_ERROR, "re-verification failed", "error",
		       tg_error_last(), NULL);
		return;
	}
	snprintf(n, sizeof(n), "%zu",
	         json_array_size(tg_agent_violations(r->agent)));
	tg_log(TG_LOG_INFO, "re-verification done", "violations", n, NULL);
	tg_metrics_set_violations(
	        r->metrics,
	        (int)json_array_size(tg_agent_violations(r->agent)));
	json_array_foreach(fresh, i, v) {
		json_t *ev = json_deep_copy(v);
		json_object_set_new(ev, "event", json_string("violation"));
		tg_notifier_add(r->notifier, ev);
		json_decref(ev);
	}
	json_decref(fresh);
	notify_flush(r);
	publish_metrics(r);
}

/* The branch moved on the remote, or the policy changed on disk? Then a
 * cycle now. Errors are logged, the cycle will report them properly. */
static void poll_remote(runner *r)
{
	bool moved = false;

	r->next_poll = tg_monotonic() + r->poll_s;
	if (tg_agent_policy_changed(r->agent) && r->failures == 0) {
		tg_log(TG_LOG_INFO, "policy changed: cycle now", "policy",
		       r->cfg->policy, NULL);
		r->next_cycle = tg_monotonic();
	}
	if (tg_agent_remote_moved(&moved, r->agent) < 0) {
		tg_log(TG_LOG_DEBUG, "remote ref check failed", "error",
		       tg_error_last(), NULL);
		return;
	}
	if (moved && r->failures == 0) {
		tg_log(TG_LOG_INFO, "branch moved: cycle now", NULL);
		r->next_cycle = tg_monotonic();
	}
}

/* Acquire or renew the Lease; log when leadership changes. */
static void lease_step(runner *r)
{
	bool held = false;
	int error = tg_lease_try(r->lease, &held);

	r->next_lease = tg_monotonic() + TG_LEASE_RETRY_PERIOD_S;
	if (error < 0)
		tg_log(TG_LOG_WARN, "lease not renewed", "error",
		       tg_error_last(), NULL);
	held = tg_lease_held(r->lease);
	if (held && !r->leader) {
		tg_log(TG_LOG_INFO, "leader: this agent holds the lease",
		       "identity", r->identity, NULL);
		r->next_cycle = tg_monotonic();
	} else if (!held && r->leader) {
		tg_log(TG_LOG_WARN, "not the leader any more: writes stop",
		       "identity", r->identity, "holder",
		       tg_lease_holder(r->lease), NULL);
	} else if (!held && !r->waiting_logged) {
		tg_log(TG_LOG_INFO, "waiting for the lease", "identity",
		       r->identity, "holder", tg_lease_holder(r->lease), NULL);
		r->waiting_logged = true;
	}
	if (held)
		r->waiting_logged = false;
	r->leader = held;
	tg_metrics_set_leader(r->metrics, held);
	publish_metrics(r);
}

/* The agent's write check: renew when due, then ask the Lease. */
static bool may_write(void *ctx)
{
	runner *r = ctx;
	bool held;

	if (!r->lease)
		return true;
	if (tg_lease_since_renew(r->lease) >= TG_LEASE_RETRY_PERIOD_S &&
	    tg_lease_try(r->lease, &held) < 0)
		tg_log(TG_LOG_WARN, "lease not renewed", "error",
		       tg_error_last(), NULL);
	return tg_lease_held(r->lease);
}

/* Sleep until the earliest deadline, a signal or POST /reconcile. */
static void wait_for_work(runner *r)
{
	double until = r->next_cycle, now;
	struct pollfd p;
	char drain[64];
	int ms;

	if (r->poll_s > 0 && r->next_poll < until)
		until = r->next_poll;
	if (r->next_reverify < until)
		until = r->next_reverify;
	if (r->lease && r->next_lease < until)
		until = r->next_lease;
	if (r->lease && !r->leader)
		until = r->next_lease;
	now = tg_monotonic();
	if (until <= now || stopping(r))
		return;
	ms = until - now > 3600 ? 3600 * 1000 : (int)((until - now) * 1000) + 1;
	p.fd = r->opts->wake_rfd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, ms) > 0 && (p.revents & POLLIN)) {
		while (read(r->opts->wake_rfd, drain, sizeof(drain)) ==
		       (ssize_t)sizeof(drain)) {
		}
	}
}

/* "<hostname>-<pid>" when no identity is given. */
static char *default_identity(void)
{
	char host[TG_MAX_HOST_BYTES];

	if (gethostname(host, sizeof(host)) < 0)
		tg_strlcpy(host, "tollgate", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	return tg_aprintf("%s-%ld", host, (long)getpid());
}

static int start_lease(runner *r)
{
	tg_lease_options lo = { 0 };

	lo.namespace_ = r->cfg->cluster.inventory_namespace;
	lo.identity = r->identity;
	r->next_lease = tg_monotonic();
	return tg_lease_new(&r->lease, tg_agent_kube(r->agent), &lo);
}

/* An object tollgate manages changed (watch event): a drift cycle soon,
 * after a short debounce (an edit often brings several events), unless a
 * failed cycle's backoff runs. */
static void watch_step(runner *r, double now)
{
	double at = now + TG_WATCH_DEBOUNCE_S;
	tg_watch_stats st;

	if (!r->watches)
		return;
	/* Streams opened or ended, events: publish them. */
	tg_watch_set_stats(&st, r->watches);
	if (memcmp(&st, &r->watch_seen, sizeof(st)) != 0) {
		r->watch_seen = st;
		publish_metrics(r);
	}
	if (!tg_watch_set_take_dirty(r->watches) || r->failures > 0 ||
	    r->next_cycle <= at)
		return;
	tg_log(TG_LOG_INFO, "watch: a managed object changed: cycle now", NULL);
	r->next_cycle = at;
}

static void loop(runner *r)
{
	while (!stopping(r)) {
		double now = tg_monotonic();

		watch_step(r, now);

		if (tg_httpd_take_reconcile(r->httpd)) {
			tg_log(TG_LOG_INFO, "reconcile requested", NULL);
			if (r->next_cycle > now)
				r->next_cycle = now;
		}
		if (r->lease && now >= r->next_lease) {
			lease_step(r);
			continue;
		}
		if (r->lease && !r->leader) {
			wait_for_work(r);
			continue;
		}
		if (now >= r->next_cycle) {
			run_cycle(r);
			continue;
		}
		if (now >= r->next_reverify) {
			run_reverify(r);
			continue;
		}
		if (r->poll_s > 0 && now >= r->next_poll) {
			poll_remote(r);
			continue;
		}
		wait_for_work(r);
	}
}

/* The agent of r, with the run's options and the lease as write check. */
static int start_agent(runner *r)
{
	tg_agent_options ao = { 0 };

	ao.health_timeout_s = r->opts->health_timeout_s;
	/* A leader waits for rollouts less than the renew deadline. */
	if (r->opts->leader_election && ao.health_timeout_s == 0)
		ao.health_timeout_s = TG_RUN_LEADER_HEALTH_TIMEOUT_S;
	ao.allow_insecure_kubeconfig = r->opts->allow_insecure_kubeconfig;
	ao.stop = r->opts->stop;
	ao.may_write = may_write;
	ao.may_write_ctx = r;
	ao.reverify = true;
	ao.on_doc = cycle_doc;
	ao.on_doc_ctx = r;
	return tg_agent_new(&r->agent, r->cfg, &ao);
}

/* The HTTP endpoint on addr (health, metrics, /reconcile). */
static int start_httpd(runner *r, const char *addr)
{
	tg_httpd_options ho = { 0 };
	int error;

	ho.addr = addr;
	ho.secret = r->opts->secret;
	ho.secret_len = r->opts->secret_len;
	ho.wake_fd = r->opts->wake_wfd;
	if ((error = tg_httpd_start(&r->httpd, &ho)) < 0)
		return error;
	publish_metrics(r);
	return 0;
}

static void log_started(const runner *r, const char *addr)
{
	char interval[32];

	snprintf(interval, sizeof(interval), "%lld",
	         (long long)r->cfg->source.interval);
	tg_log(TG_LOG_INFO, "tollgate run started", "source",
	       r->cfg->source.url, "branch", r->cfg->source.branch,
	       "interval_s", interval, "listen", addr ? addr : "off",
	       "identity", r->identity, NULL);
}

int tg_run(const tg_config *cfg, const tg_run_options *opts)
{
	const char *addr =
	        opts->listen_addr ? opts->listen_addr : cfg->listen_addr;
	char *identity = NULL;
	runner r;
	int error;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.opts = opts;
	r.poll_s = opts->poll_s == 0 ? TG_RUN_DEFAULT_POLL_S : opts->poll_s;
	if (!opts->identity)
		identity = default_identity();
	r.identity = opts->identity ? opts->identity : identity;
	if ((error = start_agent(&r)) < 0)
		goto out;
	/* Live state from watches: lists answered from them, and a change
	 * to a managed object wakes the loop through the wake pipe. */
	if ((error = tg_kube_watch_enable(tg_agent_kube(r.agent),
	                                  opts->wake_wfd)) < 0)
		goto out;
	r.watches = tg_kube_watches(tg_agent_kube(r.agent));
	r.metrics = tg_metrics_new();
	tg_metrics_set_source(r.metrics, cfg->source.url, cfg->source.branch);
	if (opts->leader_election && (error = start_lease(&r)) < 0)
		goto out;
	if ((error = tg_notifier_new(&r.notifier, cfg)) < 0)
		goto out;
	r.blocked = json_object();
	if (addr && (error = start_httpd(&r, addr)) < 0)
		goto out;
	log_started(&r, addr);
	r.next_cycle = tg_monotonic();
	r.next_poll = r.next_cycle + r.poll_s;
	r.next_reverify = r.next_cycle + (double)cfg->reverify_interval;
	loop(&r);
	tg_log(TG_LOG_INFO, "tollgate run stopping", "identity", r.identity,
	       NULL);
	if (r.lease && tg_lease_release(r.lease) < 0)
		tg_log(TG_LOG_WARN, "lease not released", "error",
		       tg_error_last(), NULL);
	error = 0;
out:
	tg_httpd_stop(r.httpd);
	tg_lease_free(r.lease);
	tg_notifier_free(r.notifier);
	json_decref(r.blocked);
	tg_metrics_free(r.metrics);
	tg_agent_free(r.agent);
	free(identity);
	return error;
}

/* The /reconcile secret ------------------------------------------------- */

int tg_run_secret_read(char **out, size_t *len, const char *path)
{
	int error = tg_file_read(out, len, path, TG_MAX_SECRET_BYTES);

	if (error < 0)
		return error;
	while (*len && ((*out)[*len - 1] == '\n' || (*out)[*len - 1] == '\r'))
		(*out)[--*len] = '\0';
	if (*len == 0) {
		free(*out);
		*out = NULL;
		return tg_error_set(TG_EINVALID, "%s: the secret file is empty",
		                    path);
	}
	return 0;
}
