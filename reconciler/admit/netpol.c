/*
 * The admit stage: a default-deny NetworkPolicy for every namespace in
 * which a unit runs pods, when the namespace's workloads rule asks for one
 * (networkPolicy: required, or {defaultDeny: [Ingress, Egress]}). It must
 * be in Git, in any unit of the cycle whose files are valid: a
 * NetworkPolicy of that namespace whose podSelector is empty (it selects
 * every pod), whose policyTypes include each direction required, and
 * with no rule that allows all traffic in that direction.
 */
#include <stdlib.h>
#include <string.h>

#include "tollgate/util.h"
#include "workloads_int.h"

/* Whether a label selector is empty (selects everything). */
static bool selector_empty(const json_t *sel)
{
	return json_is_object(sel) &&
	       json_object_size(json_object_get(sel, "matchLabels")) == 0 &&
	       json_array_size(json_object_get(sel, "matchExpressions")) == 0;
}

/* A peer that stands for any source or destination: every pod of every
 * namespace, or every address. */
static bool peer_is_everything(const json_t *peer)
{
	const json_t *ns = json_object_get(peer, "namespaceSelector");
	const json_t *pods = json_object_get(peer, "podSelector");
	const char *cidr = json_string_value(
	        json_object_get(json_object_get(peer, "ipBlock"), "cidr"));
	const json_t *except =
	        json_object_get(json_object_get(peer, "ipBlock"), "except");

	if (ns != NULL && selector_empty(ns) &&
	    (pods == NULL || selector_empty(pods)))
		return true;
	return cidr && (!strcmp(cidr, "0.0.0.0/0") || !strcmp(cidr, "::/0")) &&
	       json_array_size(except) == 0;
}

/* A rule with no port restriction whose peers are everyone (none listed,
 * or one that is everything). */
static bool rule_allows_all(const json_t *rule, const char *peers_key)
{
	const json_t *peers = json_object_get(rule, peers_key), *p;
	size_t i;

	if (json_array_size(json_object_get(rule, "ports")) != 0)
		return false;
	if (json_array_size(peers) == 0)
		return true;
	json_array_foreach(peers, i, p) {
		if (peer_is_everything(p))
			return true;
	}
	return false;
}

/* Whether spec's policyTypes hold type; absent: Ingress always, Egress
 * when an egress section is present (the API's defaulting). */
static bool has_type(const json_t *spec, const char *type)
{
	const json_t *types = json_object_get(spec, "policyTypes"), *t;
	size_t i;

	if (types == NULL || json_is_null(types))
		return !strcmp(type, "Ingress") ||
		       json_object_get(spec, "egress") != NULL;
	json_array_foreach(types, i, t) {
		if (json_is_string(t) && !strcmp(json_string_value(t), type))
			return true;
	}
	return false;
}

/* The directions (TG_NETPOL_*) a NetworkPolicy denies by default. */
static unsigned denies(const json_t *np)
{
	const json_t *spec = json_object_get(np, "spec"), *r;
	const json_t *sel = json_object_get(spec, "podSelector");
	unsigned out = 0, d;
	size_t i;
	bool open;

	if (!json_is_object(spec) ||
	    !(sel == NULL || json_is_null(sel) || selector_empty(sel)))
		return 0;
	for (d = 0; d < 2; d++) {
		const char *key = d ? "egress" : "ingress";

		if (!has_type(spec, d ? "Egress" : "Ingress"))
			continue;
		open = false;
		json_array_foreach(json_object_get(spec, key), i, r)
			open = open || rule_allows_all(r, d ? "to" : "from");
		if (!open)
			out |= 1u << d;
	}
	return out;
}

bool tg_admit_is_netpol(const tg_manifest_object *o)
{
	return !strcmp(tg_manifest_object_kind(o), "NetworkPolicy") &&
	       !strcmp(tg_manifest_object_group(o), "networking.k8s.io");
}

void tg_admit_netpol_unit(json_t *covered, const tg_manifest_unit *un)
{
	size_t i;

	for (i = 0; i < tg_manifest_unit_object_count(un); i++) {
		const tg_manifest_object *o = tg_manifest_unit_object(un, i);
		const char *ns = tg_manifest_object_namespace(o);
		json_t *had;

		if (!tg_admit_is_netpol(o))
			continue;
		ns = *ns ? ns : "default";
		had = json_object_get(covered, ns);
		json_object_set_new(
		        covered, ns,
		        json_integer(json_integer_value(had) |
		                     denies(tg_manifest_object_json(o))));
	}
}

void tg_admit_netpol_cover(json_t *covered,
                           const tg_manifest_set *set,
                           const json_t *skip)
{
	size_t u;

	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		const tg_manifest_unit *un = tg_manifest_set_unit(set, u);

		if (tg_manifest_unit_is_valid(un) &&
		    !json_object_get(skip, tg_manifest_unit_name(un)))
			tg_admit_netpol_unit(covered, un);
	}
	json_object_set_new(covered, "", json_true());
}

/* What the pods of namespace ns lack with coverage cov and the unit's
 * own policies. */
static unsigned lacks(const tg_policy *policy,
                      const char *ns,
                      const json_t *cov,
                      const json_t *own)
{
	const tg_policy_workload *rule = tg_policy_workload_for(policy, ns);
	unsigned have =
	        (unsigned)(json_integer_value(json_object_get(cov, ns)) |
	                   json_integer_value(json_object_get(own, ns)));

	return rule ? rule->network_policy & ~have : 0;
}

bool tg_admit_netpol_sees_change(const tg_policy *policy,
                                 const tg_manifest_unit *unit,
                                 const json_t *before,
                                 const json_t *after)
{
	json_t *own = NULL;
	bool change = false;
	const char *done = NULL; /* the namespace last found unchanged */
	size_t i;

	for (i = 0; !change && i < tg_manifest_unit_object_count(unit); i++) {
		const tg_manifest_object *o = tg_manifest_unit_object(unit, i);
		const char *ns = tg_manifest_object_namespace(o);

		ns = *ns ? ns : "default";
		if (tg_manifest_object_pod_spec_count(o) == 0 ||
		    (done && !strcmp(done, ns)))
			continue;
		done = ns;
		if (json_integer_value(json_object_get(before, ns)) ==
		    json_integer_value(json_object_get(after, ns)))
			continue;
		if (own == NULL) {
			own = json_object();
			tg_admit_netpol_unit(own, unit);
		}
		change = lacks(policy, ns, before, own) !=
		         lacks(policy, ns, after, own);
	}
	json_decref(own);
	return change;
}

/* Every namespace's default-denied directions, from the NetworkPolicies
 * of the set's valid units, into covered (once: "" marks it done; the
 * plan may have filled it already, leaving out blocked units). */
static void fill_covered(json_t *covered, const tg_manifest_set *set)
{
	if (!json_object_get(covered, ""))
		tg_admit_netpol_cover(covered, set, NULL);
}

/* The directions default-denied in ns by NetworkPolicies of the set. */
static unsigned covered(wl_ctx *w, const char *ns)
{
	fill_covered(w->covered, w->set);
	/* the unit's own policies are applied with its pods, or neither */
	return (unsigned)(json_integer_value(json_object_get(w->covered, ns)) |
	                  json_integer_value(json_object_get(w->own, ns)));
}

void tg_admit_netpol_need(wl_ctx *w, const wl_obj *o)
{
	json_t *need;

	/* the objects of a unit mostly share a namespace */
	if (w->cov_ns == NULL || strcmp(w->cov_ns, o->ns) != 0) {
		w->cov_ns = o->ns; /* the object's, or a constant */
		w->cov = covered(w, o->ns);
	}
	/* most namespaces have theirs: nothing to remember */
	if ((o->rule->network_policy & ~w->cov) == 0)
		return;
	need = json_object_get(w->netpol_ns, o->ns);

	if (need == NULL) {
		need = json_pack("{s:[]}", "objects");
		json_object_set_new(w->netpol_ns, o->ns, need);
	}
	json_array_append_new(json_object_get(need, "objects"),
	                      json_pack("{s:s,s:s,s:s}", "kind", o->kind,
	                                "name", o->name, "file", o->file));
}

/* "Ingress", "Egress" or "Ingress and Egress" for bits. */
static const char *dir_names(unsigned bits)
{
	if (bits == (TG_NETPOL_INGRESS | TG_NETPOL_EGRESS))
		return "Ingress and Egress";
	return bits == TG_NETPOL_EGRESS ? "Egress" : "Ingress";
}

/* The violation for namespace ns (missing: the directions not denied)
 * unless an exception waives it for every object there. */
static void namespace_violation(wl_ctx *w,
                                const char *ns,
                                const json_t *objects,
                                unsigned missing)
{
	wl_obj o = { 0 };
	const json_t *x;
	const char *expired = NULL, *exp1 = NULL, *first = NULL;
	const tg_policy_exception *e;
	size_t i, open = 0;
	char *found, *allowed;
	wl_violation v = { .control = "networkPolicy",
		           .level = "networkPolicy",
		           .path = "NetworkPolicy",
		           .allowed = "a default-deny NetworkPolicy" };

	o.ns = ns;
	o.rule = tg_policy_workload_for(w->policy, ns);
	json_array_foreach(objects, i, x) {
		o.kind = json_string_value(json_object_get(x, "kind"));
		o.name = json_string_value(json_object_get(x, "name"));
		e = tg_admit_exception_for(w, &o, TG_PSS_NCONTROLS, true,
		                           &exp1);
		if (e) {
			tg_admit_note_exception(w, e);
			continue;
		}
		expired = expired ? expired : exp1;
		first = first ? first
		              : json_string_value(json_object_get(x, "file"));
		open++;
	}
	if (open == 0)
		return;
	o.file = first;
	o.describe = tg_aprintf("Namespace %s", ns);
	found = tg_aprintf("no default-deny %s NetworkPolicy in Git",
	                   dir_names(missing));
	allowed = tg_aprintf("namespace %s runs pods but has %s (a "
	                     "NetworkPolicy there with podSelector {} and "
	                     "policyTypes [%s] allowing no traffic for them "
	                     "is required)",
	                     ns, found, dir_names(missing));
	v.found = found;
	v.message = allowed;
	tg_admit_add_violation(w, &o, &v, NULL, expired);
	tg_admit_wl_obj_done(&o);
	free(found);
	free(allowed);
}

void tg_admit_netpol_check(wl_ctx *w, const tg_manifest_unit *unit)
{
	const char *ns;
	json_t *need;
	unsigned want, missing;

	(void)unit;
	json_object_foreach(w->netpol_ns, ns, need) {
		want = tg_policy_workload_for(w->policy, ns)->network_policy;
		missing = want & ~covered(w, ns);
		if (missing)
			namespace_violation(w, ns,
			                    json_object_get(need, "objects"),
			                    missing);
	}
}
