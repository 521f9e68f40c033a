/*
 * Leader election with a Lease against tests/testcluster: acquire, renew,
 * lose to another holder, take over after the holder stops renewing
 * (expiry), and release.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "testlib.h"
#include "tollgate/error.h"
#include "tollgate/kube.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/lease.h"
#include "tollgate/util.h"

/* Short times so that expiry is seen within a test. */
#define LEASE_DURATION_S 1.0
#define LEASE_RENEW_DEADLINE_S 0.6
#define LEASE_RETRY_S 0.1

typedef struct world {
	char *dir;
	char *url;
	int pid;
	tg_kube *kube;
} world;

static int setup(void **state)
{
	world *w = tg_calloc(1, sizeof(*w));
	tg_kube_target *t = NULL;
	char *kc;

	w->dir = tt_mkdtemp();
	w->pid = tt_testcluster_start(w->dir, 0, &w->url);
	kc = tg_path_join(w->dir, "kubeconfig");
	assert_int_equal(tg_kube_target_from_kubeconfig(&t, kc, NULL, false),
	                 0);
	assert_int_equal(tg_kube_new(&w->kube, t, NULL), 0);
	tg_kube_target_free(t);
	free(kc);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;

	tg_kube_free(w->kube);
	assert_int_equal(tt_process_stop(w->pid), 0);
	tt_rmtree(w->dir);
	free(w->dir);
	free(w->url);
	free(w);
	return 0;
}

static tg_lease *candidate(world *w, const char *name, const char *identity)
{
	tg_lease_options o = { .namespace_ = "lease-test",
		               .name = name,
		               .identity = identity,
		               .duration_s = LEASE_DURATION_S,
		               .renew_deadline_s = LEASE_RENEW_DEADLINE_S,
		               .retry_period_s = LEASE_RETRY_S };
	tg_lease *l = NULL;

	assert_int_equal(tg_lease_new(&l, w->kube, &o), 0);
	return l;
}

/* One tg_lease_try that must reach the cluster: whether l holds. */
static bool try_once(tg_lease *l)
{
	bool held = true;

	assert_int_equal(tg_lease_try(l, &held), 0);
	return held;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s,
		               (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* The Lease's spec in the cluster, a new reference. */
static json_t *lease_spec(world *w, const char *name)
{
	json_t *live = NULL, *spec;

	assert_int_equal(tg_kube_get(&live, w->kube, "coordination.k8s.io/v1",
	                             "Lease", "lease-test", name),
	                 0);
	spec = json_incref(json_object_get(live, "spec"));
	json_decref(live);
	return spec;
}

static void test_lease_acquires_and_renews(void **state)
{
	world *w = *state;
	tg_lease *a = candidate(w, "renew", "a");
	json_t *first, *second;

	assert_false(tg_lease_held(a));
	assert_true(try_once(a));
	assert_true(tg_lease_held(a));
	assert_string_equal(tg_lease_holder(a), "a");
	first = lease_spec(w, "renew");
	assert_string_equal(
	        json_string_value(json_object_get(first, "holderIdentity")),
	        "a");
	sleep_s(0.05);
	assert_true(try_once(a));
	assert_true(tg_lease_since_renew(a) < LEASE_RENEW_DEADLINE_S);
	second = lease_spec(w, "renew");
	/* A renewal moves renewTime, keeps acquireTime and transitions. */
	assert_string_not_equal(
	        json_string_value(json_object_get(first, "renewTime")),
	        json_string_value(json_object_get(second, "renewTime")));
	assert_true(json_equal(json_object_get(first, "acquireTime"),
	                       json_object_get(second, "acquireTime")));
	assert_int_equal(
	        json_integer_value(json_object_get(second, "leaseTransitions")),
	        0);
	json_decref(first);
	json_decref(second);
	tg_lease_free(a);
}

static void test_lease_lost_to_another_holder(void **state)
{
	world *w = *state;
	tg_lease *a = candidate(w, "contended", "a");
	tg_lease *b = candidate(w, "contended", "b");

	assert_true(try_once(a));
	assert_false(try_once(b));
	assert_false(tg_lease_held(b));
	assert_string_equal(tg_lease_holder(b), "a");
	/* While a renews, b never takes it. */
	sleep_s(LEASE_DURATION_S / 2);
	assert_true(try_once(a));
	sleep_s(LEASE_DURATION_S / 2 + 0.1);
	assert_false(try_once(b));
	assert_true(try_once(a));
	tg_lease_free(a);
	tg_lease_free(b);
}

static void test_lease_expires_and_is_taken_over(void **state)
{
	world *w = *state;
	tg_lease *a = candidate(w, "expiry", "a");
	tg_lease *b = candidate(w, "expiry", "b");
	json_t *spec;

	assert_true(try_once(a));
	assert_false(try_once(b));
	/* a stops renewing: past its renew deadline it is no leader. */
	sleep_s(LEASE_RENEW_DEADLINE_S + 0.1);
	assert_false(tg_lease_held(a));
	/* b has seen the same record for the lease duration: it takes it. */
	sleep_s(LEASE_DURATION_S - LEASE_RENEW_DEADLINE_S + 0.1);
	assert_true(try_once(b));
	assert_string_equal(tg_lease_holder(b), "b");
	spec = lease_spec(w, "expiry");
	assert_string_equal(
	        json_string_value(json_object_get(spec, "holderIdentity")),
	        "b");
	assert_int_equal(
	        json_integer_value(json_object_get(spec, "leaseTransitions")),
	        1);
	json_decref(spec);
	/* a comes back: the record changed, so it waits. */
	assert_false(try_once(a));
	assert_string_equal(tg_lease_holder(a), "b");
	tg_lease_free(a);
	tg_lease_free(b);
}

static void test_lease_release_hands_over_at_once(void **state)
{
	world *w = *state;
	tg_lease *a = candidate(w, "release", "a");
	tg_lease *b = candidate(w, "release", "b");

	assert_true(try_once(a));
	assert_false(try_once(b));
	assert_int_equal(tg_lease_release(a), 0);
	assert_false(tg_lease_held(a));
	assert_true(try_once(b));
	assert_string_equal(tg_lease_holder(b), "b");
	/* Releasing a Lease not held is a no-op. */
	assert_int_equal(tg_lease_release(a), 0);
	tg_lease_free(a);
	tg_lease_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_acquires_and_renews),
		cmocka_unit_test(test_lease_lost_to_another_holder),
		cmocka_unit_test(test_lease_expires_and_is_taken_over),
		cmocka_unit_test(test_lease_release_hands_over_at_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
