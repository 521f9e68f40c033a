/*
 * The plan in one pass, on one thread or two: see plan_int.h.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plan_int.h"
#include "tollgate/error.h"
#include "tollgate/kube.h"
#include "tollgate/log.h"
#include "tollgate/plan.h"
#include "tollgate/util.h"

/*
 * Planning units on two threads, for a set of many units: each thread
 * takes the next unit, decides it, pins its images and prepares its objects for
 * the apply (parsing, checks and serialising: nearly all the work), then drops
 * its trees; afterwards this thread places the units in order, as
 * place_unit and apply_unit of plan.c do (the status entries, the counts, the
 * "unit not applied" log lines and the apply's order are the same; a unit that
 * fails while its objects are made ready logs "unit failed" from the
 * thread that made it). A unit's work reads other units only through the
 * set's identities, the verdicts and the policy, with these made ready
 * first: the set's order, the verdicts' shared status entries and the
 * cluster's resource types. The checks of a unit read the tree of another
 * unit's CustomResourceDefinition (the scope of its kinds) and, under a
 * rule that requires NetworkPolicies, other units' policies: such a set
 * is planned on one thread.
 */
typedef struct unit_work {
	const char *verdict; /* not applied: why */
	char *message;       /* of an image that cannot be pinned */
	bool pin_failed;     /* planned, then blocked by pinning */
	tg_apply_prepared *prepared;
} unit_work;

typedef struct plan_par {
	const tg_apply *ap;
	tg_plan_decisions *d;
	const tg_manifest_set *set;
	const tg_plan_verdicts *vs;
	const tg_plan_admission *adm;
	unit_work *w;
	atomic_size_t next;
} plan_par;

static void work_unit(plan_par *p, size_t u)
{
	tg_manifest_unit *unit = tg_manifest_set_unit(p->set, u);
	unit_work *w = &p->w[u];
	json_t **objs = NULL;
	size_t n = 0;

	tg_plan__decide_keep(p->d, u, p->set, p->vs, p->adm);
	w->verdict = p->d->verdicts[u];
	if (!w->verdict && !tg_plan__unit_pinnable(unit, p->vs)) {
		w->message = tg_strdup(tg_error_last());
		w->verdict = "blocked";
	} else if (!w->verdict) {
		if (tg_plan__pin_unit(&objs, &n, unit, p->vs) < 0) {
			w->message = tg_strdup(tg_error_last());
			w->pin_failed = true;
		} else {
			w->prepared = tg_apply_prepare_unit(
			        p->ap, tg_manifest_unit_name(unit), objs, n,
			        tg_manifest_unit_parsed(unit));
		}
		free(objs);
	}
	tg_manifest_unit_drop_trees(unit);
}

static void *plan_work(void *arg)
{
	plan_par *p = arg;
	size_t u;

	while ((u = atomic_fetch_add(&p->next, 1)) < p->d->n)
		work_unit(p, u);
	return NULL;
}

/* Unit u worked: placed as place_unit and apply_unit would. */
static void place_worked(tg_apply *ap,
                         json_t *units,
                         tg_cycle_result *r,
                         tg_plan_decisions *d,
                         size_t u,
                         const tg_manifest_set *set,
                         unit_work *w)
{
	const char *name = tg_manifest_unit_name(tg_manifest_set_unit(set, u));
	json_t *entry = d->entries[u];

	tg_plan__count_violations(r, json_object_get(entry, "workloads"));
	json_object_set(units, name, entry);
	r->units++;
	if (w->verdict) {
		if (w->message)
			json_object_set_new(entry, "message",
			                    json_string(w->message));
		tg_plan__hold_unit(ap, entry, r, name, w->verdict);
		d->verdicts[u] = w->verdict;
		return;
	}
	json_object_set_new(entry, "verdict", json_string("planned"));
	if (w->pin_failed) {
		json_object_set_new(entry, "message", json_string(w->message));
		tg_plan__hold_unit(ap, entry, r, name, "blocked");
		return;
	}
	tg_apply_add_prepared(ap, w->prepared);
	w->prepared = NULL;
}

/* Whether set can be planned on two threads (see above); makes ready
 * what the threads would otherwise make on first use. */
bool tg_plan__ready_for_threads(const tg_manifest_set *set,
                                const tg_plan_verdicts *vs,
                                const tg_plan_admission *adm)
{
	size_t u, i, n = tg_manifest_set_unit_count(set);

	/* NetworkPolicies: a unit's checks read other units' trees */
	if (n < 2 || (adm && tg_plan__policy_needs_netpol(adm->policy)))
		return false;
	for (u = 0; u < n; u++) {
		const tg_manifest_unit *un = tg_manifest_set_unit(set, u);

		for (i = 0; i < tg_manifest_unit_object_count(un); i++) {
			const tg_manifest_object *o =
			        tg_manifest_unit_object(un, i);

			if (!strcmp(tg_manifest_object_kind(o),
			            "CustomResourceDefinition") &&
			    !strcmp(tg_manifest_object_group(o),
			            "apiextensions.k8s.io"))
				return false;
		}
	}
	if (adm && adm->opts && adm->opts->kube) {
		const tg_kube_resource *r;

		/* discovered once here, or the lookups would try again */
		tg_discard(tg_kube_resource_lookup(&r, adm->opts->kube, "v1",
		                                   "Namespace"));
		if (!tg_kube_discovered(adm->opts->kube))
			return false;
	}
	for (i = 0; vs && vs->entries && i < vs->n; i++)
		if (vs->v[i])
			json_decref(tg_plan__shared_image_entry(vs, vs->refs[i],
			                                        vs->v[i]));
	return true;
}

/* Without NetworkPolicy rules no decision depends on another unit's: each
 * unit is decided, pinned and made ready in one pass, on two threads when
 * threads (see above), and its trees dropped as soon as it is done. */
void tg_plan__one_pass(tg_apply *ap,
                       json_t *units,
                       tg_cycle_result *r,
                       tg_manifest_set *set,
                       const tg_plan_verdicts *vs,
                       const tg_plan_admission *adm,
                       bool threads)
{
	tg_plan_decisions d;
	plan_par p = { .ap = ap, .d = &d, .set = set, .vs = vs, .adm = adm };
	pthread_t t;
	bool threaded;
	char n[24];
	size_t u;

	tg_plan__decisions_alloc(&d, set);
	p.w = tg_calloc(d.n ? d.n : 1, sizeof(*p.w));
	atomic_init(&p.next, 0);
	threaded = threads && tg_thread_start(&t, plan_work, &p) == 0;
	if (threaded) {
		snprintf(n, sizeof(n), "%zu", d.n);
		tg_log(TG_LOG_DEBUG, "plan on two threads", "units", n, NULL);
	}
	plan_work(&p);
	if (threaded)
		pthread_join(t, NULL);
	for (u = 0; u < d.n; u++) {
		place_worked(ap, units, r, &d, u, set, &p.w[u]);
		free(p.w[u].message);
		tg_apply_prepared_free(p.w[u].prepared);
	}
	free(p.w);
	tg_plan_decisions_free(&d);
}
