/*
 * What the workload rules add to a cycle: loads a deploy tree and two
 * policies once (POLICY with workload rules, BASE the same without
 * them), then times, ROUNDS times, in CPU time of this process:
 *  - the admit stage's workload rules alone (tg_admit_workloads: Pod
 *    Security Standards on every pod spec, the NetworkPolicy
 *    requirement, exceptions) over every unit;
 *  - the plan's decision of every unit as the cycle makes it (the
 *    NetworkPolicy coverage settled, then every unit decided:
 *    tg_plan_decide_all), with POLICY and with BASE; the difference is
 *    what the workload rules add to a cycle;
 * and prints the median and the worst round of each. Loading the tree
 * and the policies (the manifests stage, which a cycle runs with or
 * without workload rules) is done once, before any round, and not
 * counted.
 *   workloads_bench POLICY BASE DIR [ROUNDS [ONLY]]
 * With ONLY ("with" or "without") it makes one plan decision of every
 * unit, with POLICY or with BASE, and nothing else: run under callgrind
 * (--toggle-collect=tg_plan_decide_all) the two give the instructions
 * the workload rules add, a figure the machine's load does not change.
 * Built and run by tests/bench/workloads.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tollgate/admit.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/plan.h"
#include "tollgate/policy.h"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One round over every unit: workloads (or scopes); the violations
 * found into *nviol. Returns the CPU seconds. */
static double round_once(const tg_admit_options *o,
                         const tg_policy *p,
                         const tg_manifest_set *set,
                         int scopes,
                         size_t *nviol)
{
	double t0 = cpu_now();
	size_t u, warned;
	tg_admit_options oc = *o;

	/* one cache per cycle, as the agent keeps it */
	oc.netpol_cache = json_object();
	o = &oc;
	*nviol = 0;
	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		json_t *vs = json_array(), *used = json_array();
		const tg_manifest_unit *unit = tg_manifest_set_unit(set, u);

		if (scopes)
			(void)tg_admit_unit(vs, o, p, set, unit);
		else
			(void)tg_admit_workloads(vs, used, &warned, o, p, set,
			                         unit);
		*nviol += json_array_size(vs);
		json_decref(vs);
		json_decref(used);
	}
	json_decref(oc.netpol_cache);
	return cpu_now() - t0;
}

/* The plan's decision of every unit, as a cycle makes it; the units
 * not applied into *nblocked. Returns the CPU seconds. */
static double round_plan(const tg_admit_options *o,
                         const tg_policy *p,
                         const tg_manifest_set *set,
                         size_t *nblocked)
{
	double t0 = cpu_now();
	tg_admit_options oc = *o;
	tg_plan_admission adm = { &oc, p };
	tg_plan_decisions d;
	tg_cycle_result r;
	size_t u;

	memset(&r, 0, sizeof(r));
	oc.netpol_cache = json_object();
	tg_plan_decide_all(&d, &r, set, NULL, &adm);
	*nblocked = 0;
	for (u = 0; u < d.n; u++)
		*nblocked += d.verdicts[u] != NULL;
	tg_plan_decisions_free(&d);
	json_decref(oc.netpol_cache);
	return cpu_now() - t0;
}

/* Sorts t; returns the median. */
static double report(const char *what, double *t, int rounds, size_t n)
{
	qsort(t, (size_t)rounds, sizeof(*t), cmp_d);
	printf("| %-40s | %8.2f | %8.2f | %10zu |\n", what, t[rounds / 2] * 1e3,
	       t[rounds - 1] * 1e3, n);
	return t[rounds / 2];
}

int main(int argc, char **argv)
{
	tg_policy *p = NULL, *base = NULL;
	tg_manifest_set *set = NULL;
	tg_admit_options o = { 0 };
	int rounds = argc > 4 ? atoi(argv[4]) : 21, r;
	double *tw, *ts, *tp, *tb, t0, load, with, without;
	size_t nw = 0, ns = 0, np = 0, nb = 0;

	if (argc < 4 || rounds < 1 ||
	    (argc > 5 && strcmp(argv[5], "with") &&
	     strcmp(argv[5], "without"))) {
		fprintf(stderr, "usage: workloads_bench POLICY BASE DIR "
		                "[ROUNDS [with|without]]\n");
		return 2;
	}
	o.inventory_namespace = "tollgate-system";
	t0 = cpu_now();
	if (tg_policy_load(&p, argv[1]) < 0 ||
	    tg_policy_load(&base, argv[2]) < 0 ||
	    tg_manifest_set_new(&set, NULL) < 0 ||
	    tg_manifest_set_add_dir(set, argv[3]) < 0) {
		fprintf(stderr, "workloads_bench: %s\n", tg_error_last());
		return 1;
	}
	load = cpu_now() - t0;
	if (argc > 5) {
		t0 = round_plan(&o, strcmp(argv[5], "with") ? base : p, set,
		                &np);
		printf("one plan decision %s workload rules: %.2f ms CPU, "
		       "%zu units held\n",
		       argv[5], t0 * 1e3, np);
		tg_manifest_set_free(set);
		tg_policy_free(base);
		tg_policy_free(p);
		return 0;
	}
	tw = calloc((size_t)rounds, sizeof(*tw));
	ts = calloc((size_t)rounds, sizeof(*ts));
	tp = calloc((size_t)rounds, sizeof(*tp));
	tb = calloc((size_t)rounds, sizeof(*tb));
	for (r = 0; r < rounds; r++) {
		tw[r] = round_once(&o, p, set, 0, &nw);
		ts[r] = round_once(&o, p, set, 1, &ns);
		tp[r] = round_plan(&o, p, set, &np);
		tb[r] = round_plan(&o, base, set, &nb);
	}
	printf("%zu objects in %zu units (%zu invalid); loading them took "
	       "%.0f ms CPU\n\n",
	       tg_manifest_set_object_count(set),
	       tg_manifest_set_unit_count(set),
	       tg_manifest_set_invalid_unit_count(set), load * 1e3);
	printf("| %-40s | %8s | %8s | %10s |\n",
	       "every unit, one round (ms CPU)", "median", "worst", "found");
	printf("|%s|%s|%s|%s|\n", "------------------------------------------",
	       "----------", "----------", "------------");
	report("workload rules alone (violations)", tw, rounds, nw);
	report("scopes alone (reasons)", ts, rounds, ns);
	with = report("plan decision, workloads (units held)", tp, rounds, np);
	without = report("plan decision, no workloads (held)", tb, rounds, nb);
	printf("\nadded to a cycle by the workload rules (median difference): "
	       "%.2f ms\n",
	       (with - without) * 1e3);
	free(tw);
	free(ts);
	free(tp);
	free(tb);
	tg_manifest_set_free(set);
	tg_policy_free(base);
	tg_policy_free(p);
	return 0;
}
