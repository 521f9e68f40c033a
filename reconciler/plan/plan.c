/*
 * The plan stage: see reconciler/include/tollgate/plan.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plan_int.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/kube.h"
#include "tollgate/log.h"
#include "tollgate/plan.h"
#include "tollgate/util.h"

/* Verdicts ----------------------------------------------------------------- */

void tg_plan_verdicts_init(tg_plan_verdicts *vs)
{
	memset(vs, 0, sizeof(*vs));
	vs->index = json_object();
	vs->entries = json_object();
}

void tg_plan_verdicts_add(tg_plan_verdicts *vs, const char *ref)
{
	if (json_object_get(vs->index, ref))
		return;
	json_object_set_new(vs->index, ref, json_integer((json_int_t)vs->n));
	vs->refs = tg_realloc(vs->refs, (vs->n + 1) * sizeof(*vs->refs));
	vs->refs[vs->n++] = ref;
}

void tg_plan_verdicts_alloc(tg_plan_verdicts *vs)
{
	vs->v = tg_calloc(vs->n ? vs->n : 1, sizeof(*vs->v));
}

void tg_plan_verdicts_free(tg_plan_verdicts *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		tg_verdict_free(vs->v ? vs->v[i] : NULL);
	free(vs->refs);
	free(vs->v);
	json_decref(vs->index);
	json_decref(vs->entries);
}

const tg_verdict *tg_plan_verdict_for(const tg_plan_verdicts *vs,
                                      const char *ref)
{
	json_t *i = json_object_get(vs->index, ref);

	return i ? vs->v[json_integer_value(i)] : NULL;
}

json_t *tg_plan_image_entry(const char *ref, const tg_verdict *v)
{
	json_t *e = tg_verdict_to_json(v), *reasons = json_array(), *c;
	json_t *checks = json_object_get(e, "checks");
	size_t i, j;

	json_object_set_new(e, "ref", json_string(ref));
	json_array_foreach(checks, i, c) {
		json_t *r;
		const char *res =
		        json_string_value(json_object_get(c, "result"));
		if (res && (!strcmp(res, "pass") || !strcmp(res, "skipped")))
			continue;
		json_array_foreach(json_object_get(c, "reasons"), j, r)
			json_array_append(reasons, r);
	}
	json_object_set_new(e, "reasons", reasons);
	return e;
}

/* The status entry of ref (new reference): the one made for an earlier
 * unit when vs keeps them. An image named in many units (a base image)
 * is then held once, not once per unit (10 MiB at 100 units naming the
 * same 100 images); nothing writes to an image entry once made. */
json_t *tg_plan__shared_image_entry(const tg_plan_verdicts *vs,
                                    const char *ref,
                                    const tg_verdict *v)
{
	json_t *e = vs->entries ? json_object_get(vs->entries, ref) : NULL;

	if (e)
		return json_incref(e);
	e = tg_plan_image_entry(ref, v);
	if (vs->entries)
		json_object_set(vs->entries, ref, e);
	return e;
}

/* Units -------------------------------------------------------------------- */

/* A unit with invalid files: its errors into its status entry. */
static const char *fail_unit(json_t *entry, const tg_manifest_unit *unit)
{
	json_t *errs = json_array();
	size_t i;

	for (i = 0; i < tg_manifest_unit_error_count(unit); i++)
		json_array_append_new(
		        errs, json_string(tg_manifest_unit_error(unit, i)));
	json_object_set_new(entry, "errors", errs);
	json_object_set_new(entry, "message", json_string("invalid manifests"));
	return "failed";
}

/* Was the i-th image's reference written earlier in the unit? */
static bool seen_before(const tg_manifest_unit *unit, size_t i)
{
	const char *ref =
	        tg_manifest_image_written(tg_manifest_unit_image(unit, i));
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(ref, tg_manifest_image_written(
		                         tg_manifest_unit_image(unit, j))))
			return true;
	return false;
}

/* Decide one unit: "failed" (invalid files), "blocked" (an image blocked)
 * or NULL (allowed: apply). Fills the unit's status entry. */
static const char *decide_unit(json_t *entry,
                               const tg_manifest_unit *unit,
                               const tg_plan_verdicts *vs)
{
	json_t *images = json_array();
	size_t i, blocked = 0, n = tg_manifest_unit_image_count(unit);
	char *m;

	json_object_set_new(entry, "images", images);
	if (!tg_manifest_unit_is_valid(unit))
		return fail_unit(entry, unit);
	for (i = 0; vs != NULL && i < n; i++) {
		const char *ref = tg_manifest_image_written(
		        tg_manifest_unit_image(unit, i));
		const tg_verdict *v = tg_plan_verdict_for(vs, ref);

		if (seen_before(unit, i))
			continue;
		if (!v || tg_verdict_get(v) == TG_VERDICT_BLOCKED)
			blocked++;
		if (v)
			json_array_append_new(
			        images,
			        tg_plan__shared_image_entry(vs, ref, v));
	}
	if (!blocked)
		return NULL;
	m = tg_aprintf("%zu of %zu images failed verification", blocked,
	               json_array_size(images));
	json_object_set_new(entry, "message", json_string(m));
	free(m);
	return "blocked";
}

/* Add "<what>" to the unit's message, after what is there. */
static void add_message(json_t *entry, const char *what)
{
	const char *prev = json_string_value(json_object_get(entry, "message"));
	char *m =
	        tg_aprintf("%s%s%s", prev ? prev : "", prev ? "; " : "", what);

	json_object_set_new(entry, "message", json_string(m));
	free(m);
}

/* Workload rules: violations (blocking in enforce mode, reported in warn
 * mode or when waived) in "workloads", the exceptions used in
 * "workloadExceptions". True when the unit is blocked. */
/* Count the violations of vs that are not waived into r, by mode and
 * control. */
void tg_plan__count_violations(tg_cycle_result *r, const json_t *vs)
{
	const json_t *v, *ctl, *last = NULL;
	tg_pss_control c = TG_PSS_NCONTROLS;
	size_t i;

	json_array_foreach(vs, i, v) {
		const char *mode =
		        json_string_value(json_object_get(v, "mode"));

		if (json_object_get(v, "waivedBy"))
			continue;
		/* the violations of a unit share the strings of their
		 * controls: parse each once */
		if ((ctl = json_object_get(v, "control")) != last) {
			last = ctl;
			/* networkPolicy is no Pod Security control: it
			 * stays at TG_PSS_NCONTROLS */
			if (tg_pss_control_parse(&c, json_string_value(ctl)) <
			    0)
				c = TG_PSS_NCONTROLS;
		}
		r->workload_violations[mode && !strcmp(mode, "warn")][c]++;
	}
}

static bool admit_workloads(json_t *entry,
                            tg_cycle_result *r,
                            const tg_manifest_set *set,
                            const tg_manifest_unit *unit,
                            const tg_plan_admission *adm)
{
	json_t *vs = json_array(), *used = json_array();
	size_t warned, n = tg_admit_workloads(vs, used, &warned, adm->opts,
	                                      adm->policy, set, unit);
	char *m;

	if (r)
		tg_plan__count_violations(r, vs);

	if (json_array_size(vs))
		json_object_set(entry, "workloads", vs);
	if (json_array_size(used))
		json_object_set(entry, "workloadExceptions", used);
	json_decref(vs);
	json_decref(used);
	if (n == 0)
		return false;
	m = tg_aprintf("%zu workload violation%s", n, n == 1 ? "" : "s");
	add_message(entry, m);
	free(m);
	return true;
}

/* Admission: a unit with a refused object is blocked whole, its reasons
 * in "admission" (and its message added to that of blocked images); so
 * is a unit with a workload violation in enforce mode. */
static const char *admit_unit(json_t *entry,
                              tg_cycle_result *r,
                              const tg_manifest_set *set,
                              const tg_manifest_unit *unit,
                              const tg_plan_admission *adm)
{
	json_t *reasons = json_array();
	size_t n = tg_admit_unit(reasons, adm->opts, adm->policy, set, unit);
	bool blocked = admit_workloads(entry, r, set, unit, adm);
	char *m;

	if (n == 0) {
		json_decref(reasons);
		return blocked ? "blocked" : NULL;
	}
	json_object_set_new(entry, "admission", reasons);
	m = tg_aprintf("%zu of %zu objects not admitted", n,
	               tg_manifest_unit_object_count(unit));
	add_message(entry, m);
	free(m);
	return "blocked";
}

/* The verified digest of img, or NULL (TG_EUNTRUSTED recorded). */
static const char *verified_digest(const tg_manifest_image *img,
                                   const tg_plan_verdicts *vs)
{
	const tg_verdict *v =
	        tg_plan_verdict_for(vs, tg_manifest_image_written(img));
	const char *digest = v ? tg_verdict_digest(v) : NULL;

	if (!digest || !tg_digest_is_valid(digest)) {
		tg_discard(tg_error_set(TG_EUNTRUSTED, "%s: no verified digest",
		                        tg_manifest_image_written(img)));
		return NULL;
	}
	return digest;
}

/* Pin one image to the digest verified for it, or TG_EUNTRUSTED. */
static int pin_image(tg_manifest_image *img, const tg_plan_verdicts *vs)
{
	const char *digest = verified_digest(img, vs);
	char *pinned;
	int error;

	if (!digest)
		return TG_EUNTRUSTED;
	pinned = tg_imageref_pinned(tg_manifest_image_ref(img), digest);
	error = tg_manifest_object_set_image(
	        (tg_manifest_object *)tg_manifest_image_object(img),
	        tg_manifest_image_pointer(img), pinned);
	free(pinned);
	return error;
}

/* Whether every image of unit has a verified digest to be pinned to
 * (TG_EUNTRUSTED recorded when not): the digest applied is the digest
 * verified. */
bool tg_plan__unit_pinnable(const tg_manifest_unit *unit,
                            const tg_plan_verdicts *vs)
{
	size_t i;

	for (i = 0; i < tg_manifest_unit_image_count(unit); i++)
		if (!verified_digest(tg_manifest_unit_image(unit, i), vs))
			return false;
	return true;
}

/*
 * Pin every image of an allowed unit to its verified digest and hand the
 * objects to apply (their trees, parsed again from the objects' text).
 * A negative code (unit blocked, message recorded) when an image cannot
 * be pinned.
 */
int tg_plan__pin_unit(json_t ***objs_out,
                      size_t *n_out,
                      tg_manifest_unit *unit,
                      const tg_plan_verdicts *vs)
{
	size_t i, n = tg_manifest_unit_object_count(unit);
	json_t **objs;
	int error;

	for (i = 0; i < tg_manifest_unit_image_count(unit); i++)
		if ((error = pin_image(tg_manifest_unit_image(unit, i), vs)) <
		    0)
			return error;
	objs = tg_calloc(n ? n : 1, sizeof(*objs));
	for (i = 0; i < n; i++)
		objs[i] = tg_manifest_object_json(
		        tg_manifest_unit_object(unit, i));
	*objs_out = objs;
	*n_out = n;
	return 0;
}

/* A unit not applied this cycle: its verdict, counted; apply keeps what
 * the cluster has of it. */
void tg_plan__hold_unit(tg_apply *ap,
                        json_t *entry,
                        tg_cycle_result *r,
                        const char *name,
                        const char *verdict)
{
	json_object_set_new(entry, "verdict", json_string(verdict));
	if (!strcmp(verdict, "blocked"))
		r->blocked++;
	else
		r->failed++;
	tg_apply_keep_unit(ap, name);
	tg_log(TG_LOG_WARN, "unit not applied", "unit", name, "verdict",
	       verdict, "reason",
	       json_string_value(json_object_get(entry, "message")), NULL);
}

const char *tg_plan_decide_unit(json_t *entry,
                                tg_cycle_result *r,
                                const tg_manifest_set *set,
                                tg_manifest_unit *unit,
                                const tg_plan_verdicts *vs,
                                const tg_plan_admission *adm)
{
	const char *verdict = decide_unit(entry, unit, vs);

	if (adm && (!verdict || !strcmp(verdict, "blocked")) &&
	    admit_unit(entry, r, set, unit, adm))
		verdict = "blocked";
	return verdict;
}

bool tg_plan__policy_needs_netpol(const tg_policy *policy)
{
	size_t i;

	for (i = 0; policy && i < tg_policy_workload_count(policy); i++)
		if (tg_policy_workload_at(policy, i)->network_policy)
			return true;
	return false;
}

static bool unit_has_netpol(const tg_manifest_unit *unit)
{
	size_t i;

	for (i = 0; i < tg_manifest_unit_object_count(unit); i++)
		if (tg_admit_is_netpol(tg_manifest_unit_object(unit, i)))
			return true;
	return false;
}

/* Decide unit u into d, replacing what it held; the trees the checks
 * read stay loaded. */
void tg_plan__decide_keep(tg_plan_decisions *d,
                          size_t u,
                          const tg_manifest_set *set,
                          const tg_plan_verdicts *vs,
                          const tg_plan_admission *adm)
{
	json_decref(d->entries[u]);
	d->entries[u] = json_object();
	d->verdicts[u] =
	        tg_plan_decide_unit(d->entries[u], NULL, set,
	                            tg_manifest_set_unit(set, u), vs, adm);
}

/* Decide unit u into d and drop its trees (parsed again to pin). */
static void decide_into(tg_plan_decisions *d,
                        size_t u,
                        const tg_manifest_set *set,
                        const tg_plan_verdicts *vs,
                        const tg_plan_admission *adm)
{
	tg_plan__decide_keep(d, u, set, vs, adm);
	tg_manifest_unit_drop_trees(tg_manifest_set_unit(set, u));
}

/* Add to skip the units decided not applied that it does not name yet.
 * True when one of them held a NetworkPolicy (coverage shrinks). */
static bool
skip_more(json_t *skip, const tg_plan_decisions *d, const tg_manifest_set *set)
{
	bool more = false;
	size_t u;

	for (u = 0; u < d->n; u++) {
		const tg_manifest_unit *unit = tg_manifest_set_unit(set, u);
		const char *name = tg_manifest_unit_name(unit);

		if (!d->verdicts[u] || json_object_get(skip, name))
			continue;
		json_object_set_new(skip, name, json_true());
		more = more || unit_has_netpol(unit);
	}
	return more;
}

/* Leave out the NetworkPolicies of the units not applied and decide
 * again the units whose pods lack other policies because of it, until no
 * more are left out. Blocking a unit only takes policies away, so this ends;
 * the units not decided again would be decided as they were. */
static void settle_netpol(tg_plan_decisions *d,
                          const tg_manifest_set *set,
                          const tg_plan_verdicts *vs,
                          const tg_plan_admission *adm)
{
	json_t *skip = json_object(), *cache = adm->opts->netpol_cache;
	size_t u;

	while (skip_more(skip, d, set)) {
		json_t *before = json_copy(cache);

		json_object_clear(cache);
		tg_admit_netpol_cover(cache, set, skip);
		for (u = 0; u < d->n; u++)
			if (tg_admit_netpol_sees_change(
			            adm->policy, tg_manifest_set_unit(set, u),
			            before, cache))
				decide_into(d, u, set, vs, adm);
		json_decref(before);
	}
	json_decref(skip);
}

/* Whether one unit's decision can change another's: a NetworkPolicy
 * required by the policy covers namespaces whatever unit holds it. */
static bool decisions_settle(const tg_plan_admission *adm)
{
	return adm && adm->opts && adm->opts->netpol_cache &&
	       tg_plan__policy_needs_netpol(adm->policy);
}

void tg_plan__decisions_alloc(tg_plan_decisions *d, const tg_manifest_set *set)
{
	d->n = tg_manifest_set_unit_count(set);
	d->entries = tg_calloc(d->n ? d->n : 1, sizeof(*d->entries));
	d->verdicts = tg_calloc(d->n ? d->n : 1, sizeof(*d->verdicts));
}

void tg_plan_decide_all(tg_plan_decisions *d,
                        tg_cycle_result *r,
                        const tg_manifest_set *set,
                        const tg_plan_verdicts *vs,
                        const tg_plan_admission *adm)
{
	bool settle = decisions_settle(adm);
	size_t u;

	tg_plan__decisions_alloc(d, set);
	if (settle) {
		/* every valid unit's policies, until some are left out */
		json_object_clear(adm->opts->netpol_cache);
		tg_admit_netpol_cover(adm->opts->netpol_cache, set, NULL);
	}
	for (u = 0; u < d->n; u++)
		decide_into(d, u, set, vs, adm);
	if (settle)
		settle_netpol(d, set, vs, adm);
	for (u = 0; r != NULL && u < d->n; u++)
		tg_plan__count_violations(
		        r, json_object_get(d->entries[u], "workloads"));
}

void tg_plan_decisions_free(tg_plan_decisions *d)
{
	size_t u;

	for (u = 0; u < d->n; u++)
		json_decref(d->entries[u]);
	free(d->entries);
	free(d->verdicts);
	memset(d, 0, sizeof(*d));
}

/* Pin the images of a unit decided "planned" and hand it to the apply,
 * then drop its trees (the apply keeps its objects as text): one unit's
 * trees at a time. */
static void apply_unit(tg_apply *ap,
                       json_t *entry,
                       tg_cycle_result *r,
                       tg_manifest_unit *unit,
                       const tg_plan_verdicts *vs)
{
	const char *name = tg_manifest_unit_name(unit);
	json_t **objs = NULL;
	size_t n = 0;

	if (tg_plan__pin_unit(&objs, &n, unit, vs) < 0) {
		json_object_set_new(entry, "message",
		                    json_string(tg_error_last()));
		tg_plan__hold_unit(ap, entry, r, name, "blocked");
	} else {
		if (tg_manifest_unit_parsed(unit))
			tg_apply_add_new_unit(ap, name, objs, n);
		else
			tg_apply_add_unit(ap, name, objs, n);
	}
	free(objs);
	tg_manifest_unit_drop_trees(unit);
}

/* Unit u decided in d: its entry into units, held (not applied) or
 * marked planned. True when planned. */
static bool place_unit(tg_apply *ap,
                       json_t *units,
                       tg_cycle_result *r,
                       tg_plan_decisions *d,
                       size_t u,
                       const tg_manifest_set *set,
                       const tg_plan_verdicts *vs)
{
	tg_manifest_unit *unit = tg_manifest_set_unit(set, u);
	const char *name = tg_manifest_unit_name(unit);
	json_t *entry = d->entries[u];
	const char *verdict = d->verdicts[u];

	json_object_set(units, name, entry);
	r->units++;
	if (!verdict && !tg_plan__unit_pinnable(unit, vs)) {
		json_object_set_new(entry, "message",
		                    json_string(tg_error_last()));
		verdict = "blocked";
	}
	if (verdict) {
		tg_plan__hold_unit(ap, entry, r, name, verdict);
		d->verdicts[u] = verdict;
		return false;
	}
	json_object_set_new(entry, "verdict", json_string("planned"));
	return true;
}

void tg_plan_units(tg_apply *ap,
                   json_t *doc,
                   tg_cycle_result *r,
                   tg_manifest_set *set,
                   const tg_plan_verdicts *vs,
                   const tg_plan_admission *adm)
{
	json_t *units = json_object_get(doc, "units");
	tg_plan_decisions d;
	size_t u;

	if (!decisions_settle(adm)) {
		tg_plan__one_pass(ap, units, r, set, vs, adm,
		                  tg_plan__ready_for_threads(set, vs, adm));
		return;
	}
	tg_plan_decide_all(&d, r, set, vs, adm);
	for (u = 0; u < d.n; u++)
		if (!place_unit(ap, units, r, &d, u, set, vs))
			continue; /* held; the planned ones go below */
	/* Apply changes the objects it is given in place (labels, scope):
	 * only once every unit was decided on the objects as in Git. */
	for (u = 0; u < d.n; u++)
		if (!d.verdicts[u])
			apply_unit(ap, d.entries[u], r,
			           tg_manifest_set_unit(set, u), vs);
	tg_plan_decisions_free(&d);
}

/* The apply report ----------------------------------------------------------
 */

/* "the cluster refused the unit: <first error> (and N more)". */
static json_t *first_error(json_t *errors)
{
	size_t n = json_array_size(errors);
	const char *e = json_string_value(json_array_get(errors, 0));
	char *m;
	json_t *j;

	if (!e)
		return json_string("the cluster refused the unit");
	if (n > 1)
		m = tg_aprintf("the cluster refused the unit: %s (and %zu "
		               "more)",
		               e, n - 1);
	else
		m = tg_aprintf("the cluster refused the unit: %s", e);
	j = json_string(m);
	free(m);
	return j;
}

/* A unit removed from Git: its objects were pruned. */
static void merge_pruned_unit(json_t *doc,
                              tg_cycle_result *r,
                              const char *name,
                              json_t *ur,
                              const char *res)
{
	json_t *p = json_pack("{s:s,s:O,s:O}", "unit", name, "pruned",
	                      json_object_get(ur, "pruned"), "errors",
	                      json_object_get(ur, "errors"));

	json_array_append_new(json_object_get(doc, "prunedUnits"), p);
	if (!strcmp(res, "failed"))
		r->failed++;
}

/* The drift apply found in one unit, into the document's drift list. */
static void
merge_drift(json_t *drift, tg_cycle_result *r, const char *name, json_t *ur)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(ur, "drift"), i, d) {
		json_t *c = json_deep_copy(d);
		json_object_set_new(c, "unit", json_string(name));
		json_object_set(c, "corrected",
		                json_object_get(ur, "driftCorrected"));
		json_array_append_new(drift, c);
		r->drifted++;
	}
}

/* One unit's verdict from apply: failed, or (not for plan) applied or
 * unchanged. */
static void merge_verdict(json_t *entry,
                          tg_cycle_result *r,
                          json_t *ur,
                          const char *res,
                          bool plan)
{
	if (!strcmp(res, "failed")) {
		json_object_set_new(entry, "verdict", json_string("failed"));
		json_object_set(entry, "errors", json_object_get(ur, "errors"));
		json_object_set_new(entry, "message",
		                    first_error(json_object_get(ur, "errors")));
		r->failed++;
	} else if (!plan) {
		json_object_set_new(entry, "verdict", json_string(res));
		r->applied += !strcmp(res, "applied");
		r->unchanged += !strcmp(res, "unchanged");
	}
}

void tg_plan_merge_apply_report(json_t *doc,
                                tg_cycle_result *r,
                                json_t *report,
                                bool plan)
{
	json_t *units = json_object_get(doc, "units");
	json_t *drift = json_object_get(doc, "drift"), *ur;
	const char *name;

	json_object_foreach(json_object_get(report, "units"), name, ur) {
		json_t *entry = json_object_get(units, name);
		const char *res =
		        json_string_value(json_object_get(ur, "result"));

		if (!entry) {
			merge_pruned_unit(doc, r, name, ur, res);
			continue;
		}
		merge_verdict(entry, r, ur, res, plan);
		json_object_set(entry, "objects",
		                json_object_get(ur, "objects"));
		if (json_array_size(json_object_get(ur, "pruned")))
			json_object_set(entry, "pruned",
			                json_object_get(ur, "pruned"));
		if (json_array_size(json_object_get(ur, "health")))
			json_object_set(entry, "health",
			                json_object_get(ur, "health"));
		merge_drift(drift, r, name, ur);
	}
	/* Inventories apply ignored (not written by tollgate, ...). */
	if (json_array_size(json_object_get(report, "warnings")))
		json_object_set(doc, "warnings",
		                json_object_get(report, "warnings"));
}
