/*
 * Health: the rollout state of the workloads just applied (Deployment,
 * StatefulSet, DaemonSet), polled until none is progressing or the health
 * timeout passes: "healthy", "progressing" or "failed".
 */
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "tollgate/limits.h"

bool apply_is_workload(const obj *o)
{
	return !strcmp(o->kind, "Deployment") ||
	       !strcmp(o->kind, "StatefulSet") || !strcmp(o->kind, "DaemonSet");
}

static json_int_t
int_at(json_t *o, const char *a, const char *b, json_int_t def)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* Whether a condition of the live object gives reason: the controller
 * gave up on the rollout (a Deployment's progressDeadlineSeconds
 * passed: Progressing is False with reason ProgressDeadlineExceeded). */
static bool deadline_exceeded(json_t *status)
{
	json_t *conds = json_object_get(status, "conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *r = json_string_value(json_object_get(c, "reason"));
		if (r && !strcmp(r, "ProgressDeadlineExceeded"))
			return true;
	}
	return false;
}

/* Health codes (kept in the drift memo): 0 is none. */
static const struct {
	const char *state, *why;
} health_codes[] = {
	{ NULL, NULL },
	{ "healthy", NULL },
	{ "progressing", "the controller has not seen the new spec yet" },
	{ "progressing", "not all replicas are updated and available" },
	{ "failed", "progress deadline exceeded" },
};

/* The health code of a live workload, without waiting. */
static int rollout_code(json_t *live)
{
	json_int_t gen = int_at(live, "metadata", "generation", 0);
	json_int_t observed = int_at(live, "status", "observedGeneration", -1);
	json_int_t want = int_at(live, "spec", "replicas", 1);
	json_int_t updated, available;
	json_t *status = json_object_get(live, "status");

	if (json_object_get(status, "desiredNumberScheduled")) {
		want = int_at(live, "status", "desiredNumberScheduled", 0);
		updated = int_at(live, "status", "updatedNumberScheduled", 0);
		available = int_at(live, "status", "numberAvailable", 0);
	} else {
		updated = int_at(live, "status", "updatedReplicas", 0);
		available = int_at(live, "status", "availableReplicas",
		                   int_at(live, "status", "readyReplicas", 0));
	}
	if (observed < gen)
		return 2;
	if (deadline_exceeded(status))
		return 4;
	if (updated >= want && available >= want)
		return 1;
	return 3;
}

/* "healthy", "failed" or "progressing" for a live workload, with a reason
 * in *msg (static text or NULL). */
static const char *rollout_state(json_t *live, const char **msg)
{
	int code = rollout_code(live);

	*msg = health_codes[code].why;
	return health_codes[code].state;
}

static void
record_health_state(unit *u, const obj *o, const char *state, const char *why)
{
	json_t *h = apply_identity_of(o);

	json_object_del(h, "apiVersion");
	json_object_set_new(h, "state", json_string(state));
	if (why)
		json_object_set_new(h, "message", json_string(why));
	json_array_append_new(u->health, h);
}

int apply_record_health(unit *u, const obj *o, json_t *live)
{
	int code = rollout_code(live);

	record_health_state(u, o, health_codes[code].state,
	                    health_codes[code].why);
	return code;
}

bool apply_record_health_code(unit *u, const obj *o, int code)
{
	if (code <= 0 ||
	    (size_t)code >= sizeof(health_codes) / sizeof(health_codes[0]))
		return false;
	record_health_state(u, o, health_codes[code].state,
	                    health_codes[code].why);
	return true;
}

/*
 * Read the workloads of b not yet seen healthy, at most
 * TG_APPLY_HEALTH_BATCH at a time: an answer is the whole object (spec,
 * status and managedFields), and a cycle can have thousands of workloads,
 * so each answer is reduced to its state and freed before the next ones
 * are read. A healthy one is not read again; a failed one is (its read may
 * have failed for a moment, or its condition cleared), while others are
 * still progressing. The number still progressing.
 */
static size_t
poll_pending(tg_apply *a, batch *b, const char **state, const char **why)
{
	tg_kube_op ops[TG_APPLY_HEALTH_BATCH];
	size_t at[TG_APPLY_HEALTH_BATCH];
	size_t i = 0, k, n, pending = 0;

	while (i < b->n) {
		for (n = 0; i < b->n && n < TG_APPLY_HEALTH_BATCH; i++) {
			if (state[i] && !strcmp(state[i], "healthy"))
				continue;
			memset(&ops[n], 0, sizeof(ops[n]));
			ops[n].verb = TG_KUBE_GET;
			ops[n].obj = b->ops[i].obj;
			at[n++] = i;
		}
		if (n == 0)
			break;
		apply_batch_run(a, &(batch){ .ops = ops, .n = n });
		for (k = 0; k < n; k++) {
			if (ops[k].result < 0) {
				state[at[k]] = "failed";
				why[at[k]] = "cannot read its status";
			} else {
				state[at[k]] =
				        rollout_state(ops[k].live, &why[at[k]]);
				pending += !strcmp(state[at[k]], "progressing");
			}
			tg_kube_op_clear(&ops[k]);
		}
	}
	return pending;
}

/* Poll the rollout state of every workload applied, re-reading those not
 * seen healthy, until none is progressing or the health timeout passes;
 * record each one's last state in its unit, in the order applied. */
void apply_check_health(tg_apply *a)
{
	double deadline = tg_monotonic() + a->opts.health_timeout_s;
	obj_iter it = apply_objects(a, apply_eligible);
	batch b = { 0 };
	const char **state, **why;
	size_t i;

	/* The batch only holds the identities: the ops are run from
	 * poll_pending's own array. */
	while (apply_next(&it))
		if (apply_is_workload(it.o))
			apply_batch_add(&b, it.u, it.o, TG_KUBE_GET, 0);
	if (b.n == 0)
		return;
	state = tg_calloc(b.n, sizeof(*state));
	why = tg_calloc(b.n, sizeof(*why));
	while (poll_pending(a, &b, state, why) && tg_monotonic() < deadline)
		apply_sleep_s(TG_APPLY_POLL_INTERVAL_S);
	for (i = 0; i < b.n; i++)
		record_health_state(b.units[i], b.objs[i], state[i], why[i]);
	free(state);
	free(why);
	apply_batch_free(&b);
}
