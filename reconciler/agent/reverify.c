/*
 * Re-verification of what the cluster runs (tollgate run): see
 * tg_agent_reverify() in reconciler/include/tollgate/agent.h.
 */
#include <string.h>

#include <jansson.h>

#include "agent_int.h"
#include "tollgate/agent.h"
#include "tollgate/error.h"
#include "tollgate/log.h"
#include "tollgate/plan.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

/* Is there a violation like v (same unit, ref, digest) in list? */
static bool has_violation(const json_t *list, const json_t *v)
{
	json_t *x;
	size_t i;

	json_array_foreach(list, i, x) {
		if (json_equal(json_object_get(x, "unit"),
		               json_object_get(v, "unit")) &&
		    json_equal(json_object_get(x, "ref"),
		               json_object_get(v, "ref")) &&
		    json_equal(json_object_get(x, "digest"),
		               json_object_get(v, "digest")))
			return true;
	}
	return false;
}

/* The violation of one deployed image img of unit, given its new verdict
 * v (NULL: not verified). */
static json_t *violation(const char *unit,
                         json_t *img,
                         const char *pinned,
                         const tg_verdict *v)
{
	json_t *e = json_pack("{s:s,s:O,s:O}", "unit", unit, "ref",
	                      json_object_get(img, "ref"), "digest",
	                      json_object_get(img, "digest"));
	json_t *ie;

	if (!v) {
		json_object_set_new(e, "reasons",
		                    json_pack("[s]", "not verified"));
		return e;
	}
	ie = tg_plan_image_entry(pinned, v);
	json_object_set(e, "reasons", json_object_get(ie, "reasons"));
	json_decref(ie);
	return e;
}

/* Violations of the deployed images given their new verdicts. */
static json_t *find_violations(const tg_agent *a, const tg_plan_verdicts *vs)
{
	json_t *out = json_array(), *imgs, *img;
	const char *unit;
	size_t i;

	json_object_foreach(a->deployed, unit, imgs) {
		json_array_foreach(imgs, i, img) {
			const char *pinned = json_string_value(
			        json_object_get(img, "pinned"));
			const tg_verdict *v = tg_plan_verdict_for(vs, pinned);

			if (v && tg_verdict_get(v) != TG_VERDICT_BLOCKED)
				continue;
			json_array_append_new(out,
			                      violation(unit, img, pinned, v));
		}
	}
	return out;
}

/* Every deployed image, by its pinned reference (borrowed from
 * a->deployed), each once. */
static void collect_deployed(tg_plan_verdicts *vs, const tg_agent *a)
{
	json_t *imgs, *img;
	const char *unit;
	size_t i;

	tg_plan_verdicts_init(vs);
	json_object_foreach(a->deployed, unit, imgs) {
		json_array_foreach(imgs, i, img)
			tg_plan_verdicts_add(
			        vs, json_string_value(
			                    json_object_get(img, "pinned")));
	}
}

/* Log every violation found; those not known before, for notifications
 * (new JSON array). */
static json_t *log_violations(const tg_agent *a, json_t *found)
{
	json_t *fresh = json_array(), *v;
	size_t i;

	json_array_foreach(found, i, v) {
		if (!has_violation(a->violations, v))
			json_array_append(fresh, v);
		tg_log(TG_LOG_WARN,
		       "violation: a deployed image fails "
		       "verification",
		       "unit", json_string_value(json_object_get(v, "unit")),
		       "image", json_string_value(json_object_get(v, "ref")),
		       "digest",
		       json_string_value(json_object_get(v, "digest")),
		       "reason",
		       json_string_value(json_array_get(
		               json_object_get(v, "reasons"), 0)),
		       NULL);
	}
	return fresh;
}

/* The violations changed to found: publish the last status document with
 * them at once. */
static int publish_violations(tg_agent *a, json_t *found)
{
	json_t *doc;
	tg_cycle_result r;
	char now[21];
	int error;

	json_decref(a->violations);
	a->violations = json_incref(found);
	if ((error = tg_agent__load_last_doc(&doc, a)) < 0)
		return error;
	tg_format_rfc3339(now, tg_now());
	json_object_set_new(doc, "time", json_string(now));
	if (json_array_size(found))
		json_object_set(doc, "violations", found);
	else
		json_object_del(doc, "violations");
	memset(&r, 0, sizeof(r));
	if ((error = tg_agent_check_may_write(NULL, a, "status")) < 0)
		goto out;
	tg_agent_publish(&r, a, &doc, false);
	a->last_doc = tg_agent__save_last_doc(a, doc) == 0;
out:
	json_decref(doc);
	return error;
}

int tg_agent_reverify(json_t **violations_out, tg_agent *a)
{
	tg_plan_verdicts vs = { 0 };
	json_t *found = NULL, *fresh = NULL;
	int error = 0;

	if (violations_out)
		*violations_out = NULL;
	collect_deployed(&vs, a);
	if (vs.n == 0 || !a->last_doc)
		goto out;
	tg_plan_verdicts_alloc(&vs);
	if ((error = tg_verifier_verify(vs.v, a->reverifier, vs.refs, vs.n)) <
	    0)
		goto out;
	found = find_violations(a, &vs);
	fresh = log_violations(a, found);
	if (!json_equal(found, a->violations))
		error = publish_violations(a, found);
out:
	if (error == 0 && violations_out) {
		*violations_out = fresh ? fresh : json_array();
		fresh = NULL;
	}
	json_decref(fresh);
	json_decref(found);
	tg_plan_verdicts_free(&vs);
	return error;
}
