/*
 * Leader election with a Lease: see reconciler/include/tollgate/lease.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/lease.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

struct tg_lease {
	tg_kube *kube;
	char *ns, *name, *identity;
	double duration_s, renew_deadline_s, retry_period_s;
	bool held;
	double renewed_at; /* monotonic time of the last successful write */
	bool renewed_ever;
	json_t *observed;   /* the spec seen last */
	double observed_at; /* monotonic time it was first seen */
	char *holder;       /* holderIdentity seen last */
};

int tg_lease_new(tg_lease **out, tg_kube *k, const tg_lease_options *o)
{
	tg_lease *l;

	*out = NULL;
	if (!o->namespace_ || !*o->namespace_ || !o->identity || !*o->identity)
		return tg_error_set(TG_EINVALID, "lease: namespace and "
		                                 "identity are required");
	l = tg_calloc(1, sizeof(*l));
	l->kube = k;
	l->ns = tg_strdup(o->namespace_);
	l->name = tg_strdup(o->name ? o->name : TG_LEASE_NAME);
	l->identity = tg_strdup(o->identity);
	l->duration_s = o->duration_s > 0 ? o->duration_s : TG_LEASE_DURATION_S;
	l->renew_deadline_s = o->renew_deadline_s > 0
	                              ? o->renew_deadline_s
	                              : TG_LEASE_RENEW_DEADLINE_S;
	l->retry_period_s = o->retry_period_s > 0 ? o->retry_period_s
	                                          : TG_LEASE_RETRY_PERIOD_S;
	l->holder = tg_strdup("");
	*out = l;
	return 0;
}

void tg_lease_free(tg_lease *l)
{
	if (!l)
		return;
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l->holder);
	json_decref(l->observed);
	free(l);
}

/* MicroTime: "2026-11-23T06:10:36.123456Z". */
static json_t *micro_time_now(void)
{
	struct timespec ts;
	char base[21], out[48];

	clock_gettime(CLOCK_REALTIME, &ts);
	tg_format_rfc3339(base, tg_now());
	/* base ends in 'Z': put the microseconds before it. */
	base[19] = '\0';
	snprintf(out, sizeof(out), "%s.%06ldZ", base,
	         (long)(ts.tv_nsec / 1000) % 1000000);
	return json_string(out);
}

static void set_holder(tg_lease *l, const char *h)
{
	free(l->holder);
	l->holder = tg_strdup(h ? h : "");
}

static void renewed(tg_lease *l)
{
	l->held = true;
	l->renewed_ever = true;
	l->renewed_at = tg_monotonic();
	set_holder(l, l->identity);
}

static json_t *lease_object(const tg_lease *l)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion",
	                 "coordination.k8s.io/v1", "kind", "Lease", "metadata",
	                 "name", l->name, "namespace", l->ns);
}

/* A fresh spec naming this candidate; acquire: taken from another holder
 * (or a released Lease), which counts a transition when there was one. */
static void fill_spec(tg_lease *l, json_t *spec, bool acquire)
{
	const char *prev =
	        json_string_value(json_object_get(spec, "holderIdentity"));
	json_int_t t =
	        json_integer_value(json_object_get(spec, "leaseTransitions"));

	if (acquire) {
		json_object_set_new(spec, "acquireTime", micro_time_now());
		json_object_set_new(spec, "leaseTransitions",
		                    json_integer(prev && *prev ? t + 1 : t));
	}
	json_object_set_new(spec, "holderIdentity", json_string(l->identity));
	json_object_set_new(spec, "leaseDurationSeconds",
	                    json_integer((json_int_t)l->duration_s));
	json_object_set_new(spec, "renewTime", micro_time_now());
}

static int create_namespace(tg_lease *l)
{
	json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind",
	                       "Namespace", "metadata", "name", l->ns);
	int error = tg_kube_apply(NULL, l->kube, ns, 0);

	json_decref(ns);
	return error;
}

static int create_lease(tg_lease *l, bool *held)
{
	json_t *obj = lease_object(l), *spec = json_object();
	int error;

	fill_spec(l, spec, false);
	json_object_set_new(spec, "acquireTime", micro_time_now());
	json_object_set_new(spec, "leaseTransitions", json_integer(0));
	json_object_set_new(obj, "spec", spec);
	error = tg_kube_create(NULL, l->kube, obj);
	if (error == TG_ENOTFOUND && create_namespace(l) == 0)
		error = tg_kube_create(NULL, l->kube, obj);
	json_decref(obj);
	if (error == TG_ECONFLICT) /* another candidate created it first */
		return 0;
	if (error < 0)
		return error;
	renewed(l);
	*held = true;
	return 0;
}

/* Remember the record; a change restarts the observation clock. */
static void observe(tg_lease *l, const json_t *spec)
{
	if (l->observed && json_equal(l->observed, spec))
		return;
	json_decref(l->observed);
	l->observed = json_deep_copy(spec);
	l->observed_at = tg_monotonic();
}

static int lose(tg_lease *l, int error)
{
	if (l->held && !tg_lease_held(l))
		l->held = false;
	return error;
}

int tg_lease_try(tg_lease *l, bool *held)
{
	json_t *live = NULL, *spec;
	const char *holder;
	bool mine;
	int error;

	*held = false;
	error = tg_kube_get(&live, l->kube, "coordination.k8s.io/v1", "Lease",
	                    l->ns, l->name);
	if (error == TG_ENOTFOUND) {
		l->held = false;
		return lose(l, create_lease(l, held));
	}
	if (error < 0)
		return lose(l, error);
	spec = json_object_get(live, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(live, "spec", spec);
	}
	observe(l, spec);
	holder = json_string_value(json_object_get(spec, "holderIdentity"));
	set_holder(l, holder);
	mine = holder && !strcmp(holder, l->identity);
	if (!mine && holder && *holder &&
	    tg_monotonic() - l->observed_at < l->duration_s) {
		l->held = false;
		json_decref(live);
		return 0;
	}
	/* Ours to renew, or free to take: PUT with the resourceVersion read. */
	fill_spec(l, spec, !mine);
	json_object_del(live, "status");
	error = tg_kube_update(NULL, l->kube, live);
	json_decref(live);
	if (error == TG_ECONFLICT) {
		l->held = false;
		return 0;
	}
	if (error < 0)
		return lose(l, error);
	if (!mine)
		tg_log(TG_LOG_INFO, "lease acquired", "lease", l->name,
		       "identity", l->identity, NULL);
	renewed(l);
	*held = true;
	return 0;
}

bool tg_lease_held(const tg_lease *l)
{
	return l->held && l->renewed_ever &&
	       tg_monotonic() - l->renewed_at < l->renew_deadline_s;
}

double tg_lease_since_renew(const tg_lease *l)
{
	return l->renewed_ever ? tg_monotonic() - l->renewed_at : 1e9;
}

const char *tg_lease_holder(const tg_lease *l)
{
	return l->holder;
}

int tg_lease_release(tg_lease *l)
{
	json_t *live = NULL, *spec;
	const char *holder;
	int error;

	if (!l->held)
		return 0;
	l->held = false;
	error = tg_kube_get(&live, l->kube, "coordination.k8s.io/v1", "Lease",
	                    l->ns, l->name);
	if (error < 0)
		return error;
	spec = json_object_get(live, "spec");
	holder = json_string_value(json_object_get(spec, "holderIdentity"));
	if (!holder || strcmp(holder, l->identity)) {
		json_decref(live);
		return 0;
	}
	json_object_set_new(spec, "holderIdentity", json_string(""));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
	json_object_set_new(spec, "renewTime", micro_time_now());
	json_object_del(live, "status");
	error = tg_kube_update(NULL, l->kube, live);
	json_decref(live);
	if (error == 0)
		tg_log(TG_LOG_INFO, "lease released", "lease", l->name,
		       "identity", l->identity, NULL);
	return error;
}
