/*
 * A tiny controller: after every change to a Deployment, StatefulSet or
 * DaemonSet it writes the status kube-controller-manager would once the
 * pods are up (observedGeneration, replica counts, conditions), so that
 * rollout health checks (kubectl rollout status, tollgate's) work. A pod
 * template whose image reference contains "fail-rollout" never becomes
 * available, for negative tests; once such a Deployment has been
 * progressing for spec.progressDeadlineSeconds (default 600), its
 * Progressing condition turns False with reason ProgressDeadlineExceeded,
 * as kube-controller-manager does.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tc.h"
#include "tollgate/util.h"

#define TC_CONTROLLER_MANAGER "kube-controller-manager"
#define TC_FAIL_MARK "fail-rollout"
/* Kubernetes' default spec.progressDeadlineSeconds. */
#define TC_PROGRESS_DEADLINE_S 600

static bool template_fails(json_t *obj)
{
	json_t *spec = json_object_get(
	        json_object_get(json_object_get(obj, "spec"), "template"),
	        "spec");
	const char *lists[] = { "containers", "initContainers" };
	json_t *c;
	size_t i, j;

	for (j = 0; j < 2; j++)
		json_array_foreach(json_object_get(spec, lists[j]), i, c) {
			const char *img =
			        json_string_value(json_object_get(c, "image"));

			if (img != NULL && strstr(img, TC_FAIL_MARK) != NULL)
				return true;
		}
	return false;
}

/* Ten hex characters naming the pod template, like a ReplicaSet's
 * pod-template-hash. Into out[11]. */
static void template_hash(char out[11], json_t *obj)
{
	char *s = json_dumps(
	        json_object_get(json_object_get(obj, "spec"), "template"),
	        JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char d[32];
	char hex[65];

	tg_sha256(d, s ? s : "", s ? strlen(s) : 0);
	free(s);
	tg_hex_encode(hex, d, sizeof(d));
	memcpy(out, hex, 10);
	out[10] = '\0';
}

static void set_count(json_t *status, const char *k, json_int_t v)
{
	/* The API omits zero counts (omitempty). */
	if (v > 0)
		json_object_set_new(status, k, json_integer(v));
}

static json_t *condition(const char *type,
                         bool ok,
                         const char *reason,
                         const char *msg,
                         const char *now)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status",
	                 ok ? "True" : "False", "lastUpdateTime", now,
	                 "lastTransitionTime", now, "reason", reason, "message",
	                 msg);
}

static json_t *
deployment_status(json_t *obj, json_int_t r, bool ok, json_t *gen)
{
	json_t *st = json_pack("{s:O}", "observedGeneration", gen);
	char now[21], hash[11], *msg;
	json_t *conds = json_array();

	tc_now_str(now);
	template_hash(hash, obj);
	set_count(st, "replicas", r);
	set_count(st, "updatedReplicas", r);
	set_count(st, "readyReplicas", ok ? r : 0);
	set_count(st, "availableReplicas", ok ? r : 0);
	set_count(st, "unavailableReplicas", ok ? 0 : r);
	json_array_append_new(
	        conds, condition("Available", ok || r == 0,
	                         ok || r == 0 ? "MinimumReplicasAvailable"
	                                      : "MinimumReplicasUnavailable",
	                         ok || r == 0 ? "Deployment has minimum "
	                                        "availability."
	                                      : "Deployment does not have "
	                                        "minimum availability.",
	                         now));
	msg = tg_aprintf(ok ? "ReplicaSet \"%s-%s\" has successfully "
	                      "progressed."
	                    : "ReplicaSet \"%s-%s\" is progressing.",
	                 tc_obj_name(obj), hash);
	json_array_append_new(conds, condition("Progressing", true,
	                                       ok ? "NewReplicaSetAvailable"
	                                          : "ReplicaSetUpdated",
	                                       msg, now));
	free(msg);
	json_object_set_new(st, "conditions", conds);
	return st;
}

static json_t *
statefulset_status(json_t *obj, json_int_t r, bool ok, json_t *gen)
{
	json_t *st = json_pack("{s:O,s:I}", "observedGeneration", gen,
	                       "replicas", r);
	char hash[11], *rev;

	template_hash(hash, obj);
	rev = tg_aprintf("%s-%s", tc_obj_name(obj), hash);
	set_count(st, "readyReplicas", ok ? r : 0);
	set_count(st, "currentReplicas", r);
	set_count(st, "updatedReplicas", r);
	set_count(st, "availableReplicas", ok ? r : 0);
	json_object_set_new(st, "currentRevision", json_string(rev));
	json_object_set_new(st, "updateRevision", json_string(rev));
	json_object_set_new(st, "collisionCount", json_integer(0));
	free(rev);
	return st;
}

/* One node: a DaemonSet schedules one pod. */
static json_t *daemonset_status(bool ok, json_t *gen)
{
	json_t *st = json_pack(
	        "{s:O,s:i,s:i,s:i,s:i}", "observedGeneration", gen,
	        "currentNumberScheduled", 1, "desiredNumberScheduled", 1,
	        "numberMisscheduled", 0, "updatedNumberScheduled", 1);

	json_object_set_new(st, "numberReady", json_integer(ok ? 1 : 0));
	set_count(st, "numberAvailable", ok ? 1 : 0);
	set_count(st, "numberUnavailable", ok ? 0 : 1);
	return st;
}

/* The workload obj with the status its controller would write, or NULL
 * when its status is current. Needs no lock: obj is a stored object,
 * which is never changed. New reference. */
static json_t *controller_next(const tc_type *t, json_t *obj)
{
	json_t *gen =
	        json_object_get(json_object_get(obj, "metadata"), "generation");
	json_t *spec = json_object_get(obj, "spec"), *status, *next;
	json_t *rep = json_object_get(spec, "replicas");
	json_int_t r = json_is_integer(rep) ? json_integer_value(rep) : 1;
	bool ok = !template_fails(obj);

	if (gen == NULL ||
	    json_equal(gen, json_object_get(json_object_get(obj, "status"),
	                                    "observedGeneration")))
		return NULL;
	if (strcmp(t->resource, "deployments") == 0)
		status = deployment_status(obj, r, ok, gen);
	else if (strcmp(t->resource, "statefulsets") == 0)
		status = statefulset_status(obj, r, ok, gen);
	else
		status = daemonset_status(ok, gen);
	next = tc_obj_next(obj);
	json_object_set_new(next, "status", status);
	tc_ssa_update(t, obj, next, TC_CONTROLLER_MANAGER, "status");
	return next;
}

/*
 * Write the status of the stored workload obj (lock held on entry and
 * exit). The status is made without the lock, as kube-controller-manager
 * works beside the API server, not inside it; it is stored only if obj is
 * still the stored object (a later version has its own event, synced
 * next; a reset empties the store), with its type found again by serial.
 */
static void controller_sync(tc_state *st, const tc_type *t, json_t *obj)
{
	tc_type *copy = tc_type_dup(t);
	json_t *next;

	json_incref(obj);
	pthread_mutex_unlock(&st->lock);
	next = controller_next(copy, obj);
	pthread_mutex_lock(&st->lock);
	t = tc_type_again(st, copy);
	tc_type_free(copy);
	if (next != NULL && t != NULL &&
	    tc_store_get(st, t, tc_obj_ns(obj), tc_obj_name(obj)) == obj)
		tc_store_put(st, t, next, "MODIFIED");
	json_decref(next);
	json_decref(obj);
}

/* The Progressing condition of a Deployment's status, or NULL. */
static json_t *progressing_condition(json_t *obj)
{
	json_t *conds = json_object_get(json_object_get(obj, "status"),
	                                "conditions"),
	       *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && strcmp(t, "Progressing") == 0)
			return c;
	}
	return NULL;
}

/* Whether the failing rollout of obj has passed its progress deadline
 * and still reads as progressing. */
static bool deadline_passed(json_t *obj)
{
	json_t *c = progressing_condition(obj);
	json_t *pds = json_object_get(json_object_get(obj, "spec"),
	                              "progressDeadlineSeconds");
	json_int_t limit = json_is_integer(pds) ? json_integer_value(pds)
	                                        : TC_PROGRESS_DEADLINE_S;
	const char *reason = json_string_value(json_object_get(c, "reason"));
	int64_t since;

	if (!c || !reason || strcmp(reason, "ReplicaSetUpdated") != 0 ||
	    tg_parse_rfc3339(&since, json_string_value(json_object_get(
	                                     c, "lastTransitionTime"))) < 0)
		return false;
	return tg_now() - since >= limit;
}

/* Turn Progressing False (ProgressDeadlineExceeded) on obj. */
static void exceed_deadline(tc_state *st, const tc_type *t, json_t *obj)
{
	json_t *next = json_deep_copy(obj), *c = progressing_condition(next);
	char now[21], *msg;

	tc_now_str(now);
	msg = tg_aprintf("ReplicaSet \"%s\" has timed out progressing.",
	                 tc_obj_name(obj));
	json_object_set_new(c, "status", json_string("False"));
	json_object_set_new(c, "reason",
	                    json_string("ProgressDeadlineExceeded"));
	json_object_set_new(c, "message", json_string(msg));
	json_object_set_new(c, "lastUpdateTime", json_string(now));
	json_object_set_new(c, "lastTransitionTime", json_string(now));
	free(msg);
	tc_ssa_update(t, obj, next, TC_CONTROLLER_MANAGER, "status");
	tc_store_put(st, t, next, "MODIFIED");
	json_decref(next);
}

/* Failing Deployments past their progress deadline (lock held). Deadlines
 * are whole seconds, so this runs at most once in each second of the
 * clock (*last is the second it last ran): it goes through every
 * Deployment, and running it after each of thousands of writes made a
 * large apply quadratic. */
static void expire_rollouts(tc_state *st, int64_t *last)
{
	const tc_type *t = tc_type_find(st, "apps", "v1", "deployments");
	int64_t now = tg_now();
	json_t *all, *obj;
	size_t i;

	if (t == NULL || now == *last)
		return;
	*last = now;
	all = tc_store_list(st, t, NULL);
	json_array_foreach(all, i, obj) {
		if (template_fails(obj) && deadline_passed(obj))
			exceed_deadline(st, t, obj);
	}
	json_decref(all);
}

/* Sync the workloads named by events after *seen (lock held). */
static void sync_pending(tc_state *st, uint64_t *seen)
{
	size_t i, n = st->ev_count;
	json_t *todo = json_array(), *e;

	for (i = tc_events_after(st, *seen); i < n; i++) {
		tc_event *ev = &st->events[(st->ev_start + i) % TC_MAX_EVENTS];

		*seen = ev->seq;
		if (strcmp(ev->type_name, "DELETED") != 0 &&
		    tg_str_has_prefix(ev->rkey, "apps/"))
			json_array_append_new(
			        todo,
			        json_pack("{s:s,s:s*,s:s}", "rkey", ev->rkey,
			                  "ns", tc_obj_ns(ev->object), "name",
			                  tc_obj_name(ev->object)));
	}
	json_array_foreach(todo, i, e) {
		const char *rkey =
		        json_string_value(json_object_get(e, "rkey"));
		const char *slash = strchr(rkey, '/');
		const tc_type *t;
		json_t *obj;

		if (strcmp(rkey, "apps/deployments") != 0 &&
		    strcmp(rkey, "apps/statefulsets") != 0 &&
		    strcmp(rkey, "apps/daemonsets") != 0)
			continue;
		if (st->stopping)
			break;
		t = tc_type_find(st, "apps", "v1", slash + 1);
		obj = tc_store_get(
		        st, t, json_string_value(json_object_get(e, "ns")),
		        json_string_value(json_object_get(e, "name")));
		if (obj != NULL)
			controller_sync(st, t, obj);
	}
	json_decref(todo);
}

static void *controller_main(void *arg)
{
	tc_state *st = arg;
	uint64_t seen = 0;
	int64_t last_expiry = 0;
	struct timespec until;

	pthread_mutex_lock(&st->lock);
	while (!st->stopping) {
		sync_pending(st, &seen);
		expire_rollouts(st, &last_expiry);
		/* Writes made while a status was built without the lock
		 * signalled no one: look at their events before waiting. */
		if (tc_events_after(st, seen) < st->ev_count)
			continue;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&st->workload_changed, &st->lock,
		                       &until);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

int tc_controller_start(tc_state *st)
{
	if (pthread_create(&st->controller, NULL, controller_main, st) != 0)
		return tg_error_set(TG_ERROR, "cannot start the controller "
		                              "thread");
	st->controller_started = true;
	return 0;
}

void tc_controller_stop(tc_state *st)
{
	pthread_mutex_lock(&st->lock);
	st->stopping = true;
	pthread_cond_broadcast(&st->changed);
	pthread_cond_broadcast(&st->workload_changed);
	pthread_mutex_unlock(&st->lock);
	if (!st->controller_started)
		return;
	pthread_join(st->controller, NULL);
	st->controller_started = false;
}
