/*
 * The agent's reconcile cycle: see reconciler/include/tollgate/agent.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/agent.h"
#include "tollgate/apply.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/kube.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/manifest.h"
#include "tollgate/policy.h"
#include "tollgate/registry.h"
#include "tollgate/sigstore.h"
#include "tollgate/source.h"
#include "tollgate/status.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

/* Seconds to wait for rollouts when the caller does not say. */
#define TG_DEFAULT_HEALTH_TIMEOUT_S 60.0
#define TG_VERDICT_CACHE_FILE "verdict-cache.json"

struct tg_agent {
	const tg_config *cfg;
	tg_agent_options opts;
	tg_policy *policy;
	tg_registry *registry;
	tg_verdict_cache *cache;
	tg_verifier *verifier;
	tg_source *source;
	tg_kube *kube;
	char *cache_path;
	/* tollgate run: re-verification bypasses the verdict cache. */
	tg_verifier *reverifier;
	/* unit -> [{ref, digest, pinned}] of what the cluster runs (kept for
	 * a unit blocked later: its last applied images still run). */
	json_t *deployed;
	json_t *violations;  /* [{unit, ref, digest, reasons}] */
	json_t *last_doc;    /* the last published status document */
	bool status_fetched; /* this cycle's fetch brought the status refs */
	double status_fetched_at; /* tg_monotonic() of that fetch */
};

void tg_agent_free(tg_agent *a)
{
	if (!a)
		return;
	tg_verifier_free(a->verifier);
	tg_verifier_free(a->reverifier);
	json_decref(a->deployed);
	json_decref(a->violations);
	json_decref(a->last_doc);
	tg_verdict_cache_free(a->cache);
	tg_registry_free(a->registry);
	tg_policy_free(a->policy);
	tg_source_free(a->source);
	tg_kube_free(a->kube);
	free(a->cache_path);
	free(a);
}

static int open_registry(tg_agent *a)
{
	tg_registry_options ro = { 0 };

	ro.auth_file = a->cfg->registries.auth;
	ro.insecure = (const char *const *)a->cfg->registries.insecure;
	ro.insecure_count = a->cfg->registries.ninsecure;
	ro.ca_file = a->cfg->registries.ca_file;
	return tg_registry_new(&a->registry, &ro);
}

static int open_kube(tg_agent *a)
{
	tg_kube_target *t = NULL;
	int error;

	if (a->cfg->cluster.kubeconfig)
		error = tg_kube_target_from_kubeconfig(
		        &t, a->cfg->cluster.kubeconfig, NULL,
		        a->opts.allow_insecure_kubeconfig);
	else
		error = tg_kube_target_in_cluster(&t, NULL);
	if (error == 0)
		error = tg_kube_new(&a->kube, t, NULL);
	tg_kube_target_free(t);
	return error;
}

int tg_agent_new(tg_agent **out,
                 const tg_config *cfg,
                 const tg_agent_options *opts)
{
	tg_agent *a = tg_calloc(1, sizeof(*a));
	tg_verifier_options vo = { 0 };
	tg_source_opts so;
	int error;

	*out = NULL;
	a->cfg = cfg;
	if (opts)
		a->opts = *opts;
	if (a->opts.health_timeout_s == 0)
		a->opts.health_timeout_s = TG_DEFAULT_HEALTH_TIMEOUT_S;
	if ((error = tg_policy_load(&a->policy, cfg->policy)) < 0)
		goto out;
	if ((error = open_registry(a)) < 0)
		goto out;
	if ((error = tg_verdict_cache_new(&a->cache, 0)) < 0)
		goto out;
	a->cache_path = tg_path_join(cfg->state_dir, TG_VERDICT_CACHE_FILE);
	if (tg_verdict_cache_load(a->cache, a->cache_path, tg_now()) < 0)
		tg_log(TG_LOG_WARN, "verdict cache unreadable, starting empty",
		       "error", tg_error_last(), NULL);
	vo.policy = a->policy;
	vo.registry = a->registry;
	vo.cache = a->cache;
	vo.keyless_verify = tg_sigstore_verify_material;
	if ((error = tg_verifier_new(&a->verifier, &vo)) < 0)
		goto out;
	vo.cache = NULL;
	if ((error = tg_verifier_new(&a->reverifier, &vo)) < 0)
		goto out;
	a->deployed = json_object();
	a->violations = json_array();
	tg_config_source_opts(&so, cfg);
	if ((error = tg_source_open(&a->source, &so)) < 0)
		goto out;
	if ((error = open_kube(a)) < 0)
		goto out;
	*out = a;
	a = NULL;
out:
	tg_agent_free(a);
	return error;
}

/* Manifests ---------------------------------------------------------------- */

static int
load_manifests(tg_manifest_set **out, tg_agent *a, const tg_source_tree *tree)
{
	const tg_config *cfg = a->cfg;
	tg_manifest_image_path *ip = NULL;
	tg_manifest_options mo = { 0 };
	size_t i;
	int error;

	*out = NULL;
	if (cfg->nimage_paths) {
		ip = tg_calloc(cfg->nimage_paths, sizeof(*ip));
		for (i = 0; i < cfg->nimage_paths; i++) {
			ip[i].group = cfg->image_paths[i].group;
			ip[i].kind = cfg->image_paths[i].kind;
			ip[i].paths =
			        (const char *const *)cfg->image_paths[i].paths;
			ip[i].npaths = cfg->image_paths[i].npaths;
		}
	}
	mo.image_paths = ip;
	mo.nimage_paths = cfg->nimage_paths;
	mo.path_prefix =
	        cfg->source.path && *cfg->source.path ? cfg->source.path : NULL;
	error = tg_manifest_set_new(out, &mo);
	free(ip);
	if (error < 0)
		return error;
	for (i = 0; i < tg_source_tree_count(tree); i++) {
		const tg_source_file *f = tg_source_tree_get(tree, i);
		if (!tg_manifest_path_wanted(f->path))
			continue;
		if ((error = tg_manifest_set_add_file(*out, f->path, f->data,
		                                      f->len)) < 0) {
			tg_manifest_set_free(*out);
			*out = NULL;
			return error;
		}
	}
	/* Files the source refused (too big, a submodule, a symlink out of
	 * source.path) fail their own unit. */
	for (i = 0; i < tg_source_tree_problem_count(tree); i++)
		tg_manifest_set_add_error(
		        *out, tg_source_tree_problem(tree, i)->path,
		        tg_source_tree_problem(tree, i)->message);
	return 0;
}

/* Verification ------------------------------------------------------------- */

typedef struct verdicts {
	const char **refs; /* borrowed from the manifest set */
	tg_verdict **v;
	size_t n;
	json_t *index; /* ref -> position */
} verdicts;

static void verdicts_free(verdicts *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		tg_verdict_free(vs->v ? vs->v[i] : NULL);
	free(vs->refs);
	free(vs->v);
	json_decref(vs->index);
}

static const tg_verdict *verdict_for(const verdicts *vs, const char *ref)
{
	json_t *i = json_object_get(vs->index, ref);

	return i ? vs->v[json_integer_value(i)] : NULL;
}

/* Verify every image of every valid unit, each distinct reference once. */
static int verify_images(verdicts *vs, tg_agent *a, tg_manifest_set *set)
{
	size_t u, i;

	memset(vs, 0, sizeof(*vs));
	vs->index = json_object();
	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		tg_manifest_unit *unit = tg_manifest_set_unit(set, u);
		if (!tg_manifest_unit_is_valid(unit))
			continue;
		for (i = 0; i < tg_manifest_unit_image_count(unit); i++) {
			const char *ref = tg_manifest_image_written(
			        tg_manifest_unit_image(unit, i));
			if (json_object_get(vs->index, ref))
				continue;
			json_object_set_new(vs->index, ref,
			                    json_integer((json_int_t)vs->n));
			vs->refs = tg_realloc(vs->refs,
			                      (vs->n + 1) * sizeof(*vs->refs));
			vs->refs[vs->n++] = ref;
		}
	}
	vs->v = tg_calloc(vs->n ? vs->n : 1, sizeof(*vs->v));
	if (vs->n == 0)
		return 0;
	return tg_verifier_verify(vs->v, a->verifier, vs->refs, vs->n);
}

static void count_verdicts(const verdicts *vs, tg_cycle_result *r)
{
	size_t i;

	for (i = 0; i < vs->n; i++) {
		switch (tg_verdict_get(vs->v[i])) {
		case TG_VERDICT_ALLOWED:
			r->images_allowed++;
			break;
		case TG_VERDICT_WARNED:
			r->images_warned++;
			break;
		default:
			r->images_blocked++;
			break;
		}
	}
}

/* The status entry of one image: the verifier's verdict, plus the
 * reference as written and the reasons gathered from its checks. */
static json_t *image_entry(const char *ref, const tg_verdict *v)
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

/* Units -------------------------------------------------------------------- */

/* Decide one unit: "failed" (invalid files), "blocked" (an image blocked)
 * or NULL (allowed: apply). Fills the unit's status entry. */
static const char *
decide_unit(json_t *entry, const tg_manifest_unit *unit, const verdicts *vs)
{
	json_t *images = json_array();
	size_t i, blocked = 0, n = tg_manifest_unit_image_count(unit);
	const char *verdict = NULL;

	json_object_set_new(entry, "images", images);
	if (!tg_manifest_unit_is_valid(unit)) {
		json_t *errs = json_array();
		for (i = 0; i < tg_manifest_unit_error_count(unit); i++)
			json_array_append_new(
			        errs,
			        json_string(tg_manifest_unit_error(unit, i)));
		json_object_set_new(entry, "errors", errs);
		json_object_set_new(entry, "message",
		                    json_string("invalid manifests"));
		return "failed";
	}
	for (i = 0; i < n; i++) {
		const char *ref = tg_manifest_image_written(
		        tg_manifest_unit_image(unit, i));
		const tg_verdict *v = verdict_for(vs, ref);
		size_t j;
		bool seen = false;

		for (j = 0; j < i; j++)
			seen |= !strcmp(
			        ref, tg_manifest_image_written(
			                     tg_manifest_unit_image(unit, j)));
		if (seen)
			continue;
		if (!v || tg_verdict_get(v) == TG_VERDICT_BLOCKED)
			blocked++;
		if (v)
			json_array_append_new(images, image_entry(ref, v));
	}
	if (blocked) {
		char *m = tg_aprintf("%zu of %zu images failed verification",
		                     blocked, json_array_size(images));
		json_object_set_new(entry, "message", json_string(m));
		free(m);
		verdict = "blocked";
	}
	return verdict;
}

/*
 * Pin every image of an allowed unit to its verified digest and hand the
 * objects to apply. Returns -1 (unit blocked, message in entry) when an
 * image has no verified digest: the digest applied is the digest verified.
 */
static int pin_unit(json_t ***objs_out,
                    size_t *n_out,
                    tg_manifest_unit *unit,
                    const verdicts *vs)
{
	size_t i, n = tg_manifest_unit_object_count(unit);
	json_t **objs = tg_calloc(n ? n : 1, sizeof(*objs));

	for (i = 0; i < tg_manifest_unit_image_count(unit); i++) {
		tg_manifest_image *img = tg_manifest_unit_image(unit, i);
		const tg_verdict *v =
		        verdict_for(vs, tg_manifest_image_written(img));
		const char *digest = v ? tg_verdict_digest(v) : NULL;
		char *pinned;
		int error;

		if (!digest || !tg_digest_is_valid(digest)) {
			free(objs);
			return tg_error_set(TG_EUNTRUSTED,
			                    "%s: no verified "
			                    "digest",
			                    tg_manifest_image_written(img));
		}
		pinned = tg_imageref_pinned(tg_manifest_image_ref(img), digest);
		error = tg_manifest_object_set_image(
		        (tg_manifest_object *)tg_manifest_image_object(img),
		        tg_manifest_image_pointer(img), pinned);
		free(pinned);
		if (error < 0) {
			free(objs);
			return error;
		}
	}
	for (i = 0; i < n; i++)
		objs[i] = tg_manifest_object_json(
		        tg_manifest_unit_object(unit, i));
	*objs_out = objs;
	*n_out = n;
	return 0;
}

/* The cycle ---------------------------------------------------------------- */

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

/* Fold the apply report into the status document: unit verdicts, objects,
 * health, the drift list; count outcomes. */
static void
merge_apply_report(json_t *doc, json_t *report, tg_cycle_result *r, bool plan)
{
	json_t *units = json_object_get(doc, "units");
	json_t *drift = json_object_get(doc, "drift"), *ur;
	const char *name;

	json_object_foreach(json_object_get(report, "units"), name, ur) {
		json_t *entry = json_object_get(units, name), *d;
		const char *res =
		        json_string_value(json_object_get(ur, "result"));
		size_t i;

		if (!entry) {
			/* A unit removed from Git: its objects were pruned. */
			json_t *p = json_pack(
			        "{s:s,s:O,s:O}", "unit", name, "pruned",
			        json_object_get(ur, "pruned"), "errors",
			        json_object_get(ur, "errors"));
			json_array_append_new(
			        json_object_get(doc, "prunedUnits"), p);
			if (!strcmp(res, "failed"))
				r->failed++;
			continue;
		}
		if (!strcmp(res, "failed")) {
			json_object_set_new(entry, "verdict",
			                    json_string("failed"));
			json_object_set(entry, "errors",
			                json_object_get(ur, "errors"));
			json_object_set_new(
			        entry, "message",
			        first_error(json_object_get(ur, "errors")));
			r->failed++;
		} else if (!plan) {
			json_object_set_new(entry, "verdict", json_string(res));
			r->applied += !strcmp(res, "applied");
			r->unchanged += !strcmp(res, "unchanged");
		}
		json_object_set(entry, "objects",
		                json_object_get(ur, "objects"));
		if (json_array_size(json_object_get(ur, "pruned")))
			json_object_set(entry, "pruned",
			                json_object_get(ur, "pruned"));
		if (json_array_size(json_object_get(ur, "health")))
			json_object_set(entry, "health",
			                json_object_get(ur, "health"));
		json_array_foreach(json_object_get(ur, "drift"), i, d) {
			json_t *c = json_deep_copy(d);
			json_object_set_new(c, "unit", json_string(name));
			json_object_set(c, "corrected",
			                json_object_get(ur, "driftCorrected"));
			json_array_append_new(drift, c);
			r->drifted++;
		}
	}
}

static json_t *new_status_doc(tg_agent *a, const char *commit)
{
	char now[21];

	tg_format_rfc3339(now, tg_now());
	return json_pack("{s:s,s:s,s:s,s:s,s:{},s:[],s:[]}", "sourceCommit",
	                 commit, "sourceUrl", a->cfg->source.url,
	                 "sourceBranch", a->cfg->source.branch, "time", now,
	                 "units", "drift", "prunedUnits");
}

/* Decide every unit, pin the allowed ones and give them to apply. */
static void plan_units(tg_apply *ap,
                       json_t *doc,
                       tg_manifest_set *set,
                       const verdicts *vs,
                       tg_cycle_result *r)
{
	json_t *units = json_object_get(doc, "units");
	size_t u;

	for (u = 0; u < tg_manifest_set_unit_count(set); u++) {
		tg_manifest_unit *unit = tg_manifest_set_unit(set, u);
		const char *name = tg_manifest_unit_name(unit);
		json_t *entry = json_object(), **objs = NULL;
		const char *verdict = decide_unit(entry, unit, vs);
		size_t n = 0;

		json_object_set_new(units, name, entry);
		r->units++;
		if (!verdict && pin_unit(&objs, &n, unit, vs) < 0) {
			json_object_set_new(entry, "message",
			                    json_string(tg_error_last()));
			verdict = "blocked";
		}
		if (verdict) {
			json_object_set_new(entry, "verdict",
			                    json_string(verdict));
			if (!strcmp(verdict, "blocked"))
				r->blocked++;
			else
				r->failed++;
			tg_apply_keep_unit(ap, name);
			tg_log(TG_LOG_WARN, "unit not applied", "unit", name,
			       "verdict", verdict, "reason",
			       json_string_value(
			               json_object_get(entry, "message")),
			       NULL);
			continue;
		}
		json_object_set_new(entry, "verdict", json_string("planned"));
		tg_apply_add_unit(ap, name, objs, n);
		free(objs);
	}
}

static int fetch_tree(tg_source_tree **tree, tg_agent *a, bool plan)
{
	int error;

	/* plan still fetches: it must show what the next cycle would do. */
	a->status_fetched = false;
	if (!plan && a->cfg->status.push) {
		/* The status refs come over the same connection. */
		char *branch =
		        tg_aprintf("refs/heads/%s", a->cfg->status.branch);
		const char *remote[2] = { branch, a->cfg->status.notes };
		const char *local[2] = { TG_STATUS_TRACK_BRANCH,
			                 TG_STATUS_TRACK_NOTES };

		bool stored = false;

		error = tg_source_fetch_with(a->source, remote, local, 2,
		                             &stored);
		free(branch);
		a->status_fetched = error == 0 && stored;
		a->status_fetched_at = tg_monotonic();
	} else {
		error = tg_source_fetch(a->source);
	}
	if (error < 0)
		return error;
	return tg_source_read(tree, a->source);
}

static void publish(tg_agent *a, json_t *doc, tg_cycle_result *r)
{
	tg_status_opts so = { 0 };
	tg_status_result sr;

	so.branch = a->cfg->status.branch;
	so.notes_ref = a->cfg->status.notes;
	so.author_name = a->cfg->status.author_name;
	so.author_email = a->cfg->status.author_email;
	so.push = a->cfg->status.push;
	so.tips_fetched =
	        a->status_fetched && tg_monotonic() - a->status_fetched_at <
	                                     TG_STATUS_TIPS_MAX_AGE_S;
	/* Used once: a later publish (re-verification) fetches anew. */
	a->status_fetched = false;
	memset(&sr, 0, sizeof(sr));
	if (tg_status_publish(&sr, tg_source_gitrepo(a->source), &so, doc) <
	    0) {
		/* Never blocks applying: logged, tried again next cycle. */
		tg_log(TG_LOG_ERROR, "status not published", "error",
		       tg_error_last(), NULL);
		return;
	}
	r->status_committed = sr.committed;
	r->status_pushed = sr.pushed;
}

/* Before a write phase: may this agent still write? */
static int check_may_write(tg_agent *a, tg_cycle_result *r, const char *what)
{
	if (!a->opts.may_write || a->opts.may_write(a->opts.may_write_ctx))
		return 0;
	if (r)
		r->stopped = true;
	return tg_error_set(TG_ECONFLICT,
	                    "not the leader: %s skipped (the "
	                    "lease is held by another agent or could not be "
	                    "renewed)",
	                    what);
}

static bool stop_requested(const tg_agent *a)
{
	return a->opts.stop && *a->opts.stop;
}

/* Remember what the cluster now runs, unit by unit: the images of applied
 * and unchanged units; a blocked or failed unit keeps what ran before; a
 * pruned unit runs nothing. */
static void update_deployed(tg_agent *a, const json_t *doc)
{
	json_t *u, *p;
	const char *name;
	size_t i;

	json_object_foreach(json_object_get(doc, "units"), name, u) {
		const char *v =
		        json_string_value(json_object_get(u, "verdict"));
		json_t *imgs = json_array(), *img;

		if (!v || (strcmp(v, "applied") && strcmp(v, "unchanged"))) {
			json_decref(imgs);
			continue;
		}
		json_array_foreach(json_object_get(u, "images"), i, img) {
			const char *ref =
			        json_string_value(json_object_get(img, "ref"));
			const char *digest = json_string_value(
			        json_object_get(img, "digest"));
			tg_imageref *ir = NULL;
			char *pinned;

			if (!ref || !digest || tg_imageref_parse(&ir, ref) < 0)
				continue;
			pinned = tg_imageref_pinned(ir, digest);
			json_array_append_new(imgs,
			                      json_pack("{s:s,s:s,s:s}", "ref",
			                                ref, "digest", digest,
			                                "pinned", pinned));
			free(pinned);
			tg_imageref_free(ir);
		}
		json_object_set_new(a->deployed, name, imgs);
	}
	json_array_foreach(json_object_get(doc, "prunedUnits"), i, p) {
		const char *unit =
		        json_string_value(json_object_get(p, "unit"));
		if (unit)
			json_object_del(a->deployed, unit);
	}
}

/* Is the violation v about an image the cluster still runs? */
static bool still_deployed(const tg_agent *a, const json_t *v)
{
	json_t *imgs = json_object_get(
	        a->deployed, json_string_value(json_object_get(v, "unit")));
	json_t *img;
	size_t i;

	json_array_foreach(imgs, i, img) {
		if (json_equal(json_object_get(img, "ref"),
		               json_object_get(v, "ref")) &&
		    json_equal(json_object_get(img, "digest"),
		               json_object_get(v, "digest")))
			return true;
	}
	return false;
}

static void drop_stale_violations(tg_agent *a)
{
	json_t *kept = json_array(), *v;
	size_t i;

	json_array_foreach(a->violations, i, v)
		if (still_deployed(a, v))
			json_array_append(kept, v);
	json_decref(a->violations);
	a->violations = kept;
}

/* One log line per cycle with what it did and where the time went. */
static void log_cycle(const tg_cycle_result *r,
                      double t0,
                      double t_fetch,
                      double t_load,
                      double t_verify,
                      double t_apply,
                      size_t images)
{
	char f[24], l[24], v[24], ap[24], st[24], total[24], n[24], u[24];
	double end = tg_monotonic();

	snprintf(f, sizeof(f), "%.3f", t_fetch - t0);
	snprintf(l, sizeof(l), "%.3f", t_load - t_fetch);
	snprintf(v, sizeof(v), "%.3f", t_verify - t_load);
	snprintf(ap, sizeof(ap), "%.3f", t_apply - t_verify);
	snprintf(st, sizeof(st), "%.3f", end - t_apply);
	snprintf(total, sizeof(total), "%.3f", end - t0);
	snprintf(n, sizeof(n), "%zu", images);
	snprintf(u, sizeof(u), "%d", r->units);
	tg_log(TG_LOG_INFO, "cycle done", "commit", r->commit, "units", u,
	       "images", n, "seconds", total, "fetch", f, "manifests", l,
	       "verify", v, "apply", ap, "status", st, NULL);
}

int tg_agent_cycle(tg_agent *a,
                   bool plan,
                   tg_cycle_result *r,
                   json_t **report_out)
{
	tg_source_tree *tree = NULL;
	tg_manifest_set *set = NULL;
	tg_apply *ap = NULL;
	tg_apply_options ao = { 0 };
	verdicts vs = { 0 };
	json_t *doc = NULL, *report = NULL;
	int error;
	double t0 = tg_monotonic(), t_fetch, t_load, t_verify, t_apply;

	memset(r, 0, sizeof(*r));
	if (report_out)
		*report_out = NULL;
	if ((error = fetch_tree(&tree, a, plan)) < 0)
		goto out;
	t_fetch = tg_monotonic();
	tg_strlcpy(r->commit, tg_source_tree_commit(tree), sizeof(r->commit));
	if ((error = load_manifests(&set, a, tree)) < 0)
		goto out;
	t_load = tg_monotonic();
	if (stop_requested(a)) {
		r->stopped = true;
		error = tg_error_set(TG_ERROR, "stopped before verifying %s",
		                     r->commit);
		goto out;
	}
	if ((error = verify_images(&vs, a, set)) < 0)
		goto out;
	t_verify = tg_monotonic();
	count_verdicts(&vs, r);
	ao.inventory_namespace = a->cfg->cluster.inventory_namespace;
	ao.source_commit = r->commit;
	ao.prune = a->cfg->cluster.prune;
	ao.correct_drift = a->cfg->cluster.drift == TG_DRIFT_CORRECT;
	ao.plan = plan;
	ao.health_timeout_s = plan || a->opts.health_timeout_s < 0
	                              ? 0
	                              : a->opts.health_timeout_s;
	if ((error = tg_apply_new(&ap, a->kube, &ao)) < 0)
		goto out;
	doc = new_status_doc(a, r->commit);
	plan_units(ap, doc, set, &vs, r);
	if (!plan && (error = check_may_write(a, r, "apply")) < 0)
		goto out;
	if ((error = tg_apply_run(ap)) < 0)
		goto out;
	t_apply = tg_monotonic();
	report = tg_apply_report(ap);
	merge_apply_report(doc, report, r, plan);
	if (!plan) {
		tg_verifier_stats vst;

		update_deployed(a, doc);
		drop_stale_violations(a);
		if (json_array_size(a->violations))
			json_object_set(doc, "violations", a->violations);
		if ((error = check_may_write(a, r, "status")) < 0)
			goto out;
		publish(a, doc, r);
		json_decref(a->last_doc);
		a->last_doc = json_incref(doc);
		/* Saved only when something was verified over the network:
		 * a cycle answered from the cache has nothing new to keep. */
		tg_verifier_get_stats(&vst, a->verifier);
		if (vst.verified > 0 &&
		    tg_verdict_cache_save(a->cache, a->cache_path) < 0)
			tg_log(TG_LOG_WARN, "verdict cache not saved", "error",
			       tg_error_last(), NULL);
	}
	log_cycle(r, t0, t_fetch, t_load, t_verify, t_apply, vs.n);
	if (report_out) {
		*report_out = doc;
		doc = NULL;
	}
out:
	json_decref(doc);
	json_decref(report);
	tg_apply_free(ap);
	verdicts_free(&vs);
	tg_manifest_set_free(set);
	tg_source_tree_free(tree);
	return error;
}

tg_kube *tg_agent_kube(tg_agent *a)
{
	return a->kube;
}

int tg_agent_remote_moved(tg_agent *a, bool *moved)
{
	char oid[TG_SOURCE_OID_HEX];

	*moved = false;
	return tg_source_remote_head(oid, moved, a->source);
}

const json_t *tg_agent_violations(const tg_agent *a)
{
	return a->violations;
}

/* Re-verification ---------------------------------------------------------- */

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

/* Violations of the deployed images given their new verdicts. */
static json_t *find_violations(const tg_agent *a, const verdicts *vs)
{
	json_t *out = json_array(), *imgs, *img;
	const char *unit;
	size_t i;

	json_object_foreach(a->deployed, unit, imgs) {
		json_array_foreach(imgs, i, img) {
			const char *pinned = json_string_value(
			        json_object_get(img, "pinned"));
			const tg_verdict *v = verdict_for(vs, pinned);
			json_t *e;

			if (v && tg_verdict_get(v) != TG_VERDICT_BLOCKED)
				continue;
			e = json_pack("{s:s,s:O,s:O}", "unit", unit, "ref",
			              json_object_get(img, "ref"), "digest",
			              json_object_get(img, "digest"));
			if (v) {
				json_t *ie = image_entry(pinned, v);
				json_object_set(e, "reasons",
				                json_object_get(ie, "reasons"));
				json_decref(ie);
			} else {
				json_object_set_new(
				        e, "reasons",
				        json_pack("[s]", "not verified"));
			}
			json_array_append_new(out, e);
		}
	}
	return out;
}

int tg_agent_reverify(tg_agent *a, json_t **violations_out)
{
	verdicts vs = { 0 };
	json_t *found = NULL, *fresh = json_array(), *imgs, *img, *doc = NULL;
	const char *unit;
	tg_cycle_result r;
	char now[21];
	size_t i;
	int error = 0;

	if (violations_out)
		*violations_out = NULL;
	vs.index = json_object();
	json_object_foreach(a->deployed, unit, imgs) {
		json_array_foreach(imgs, i, img) {
			const char *pinned = json_string_value(
			        json_object_get(img, "pinned"));
			if (json_object_get(vs.index, pinned))
				continue;
			json_object_set_new(vs.index, pinned,
			                    json_integer((json_int_t)vs.n));
			vs.refs = tg_realloc(vs.refs,
			                     (vs.n + 1) * sizeof(*vs.refs));
			vs.refs[vs.n++] = pinned;
		}
	}
	if (vs.n == 0 || !a->last_doc)
		goto out;
	vs.v = tg_calloc(vs.n, sizeof(*vs.v));
	if ((error = tg_verifier_verify(vs.v, a->reverifier, vs.refs, vs.n)) <
	    0)
		goto out;
	found = find_violations(a, &vs);
	json_array_foreach(found, i, img) {
		if (!has_violation(a->violations, img))
			json_array_append(fresh, img);
		tg_log(TG_LOG_WARN,
		       "violation: a deployed image fails "
		       "verification",
		       "unit", json_string_value(json_object_get(img, "unit")),
		       "image", json_string_value(json_object_get(img, "ref")),
		       "digest",
		       json_string_value(json_object_get(img, "digest")),
		       "reason",
		       json_string_value(json_array_get(
		               json_object_get(img, "reasons"), 0)),
		       NULL);
	}
	if (json_equal(found, a->violations))
		goto out;
	json_decref(a->violations);
	a->violations = json_incref(found);
	doc = json_deep_copy(a->last_doc);
	tg_format_rfc3339(now, tg_now());
	json_object_set_new(doc, "time", json_string(now));
	if (json_array_size(found))
		json_object_set(doc, "violations", found);
	else
		json_object_del(doc, "violations");
	memset(&r, 0, sizeof(r));
	if ((error = check_may_write(a, NULL, "status")) < 0)
		goto out;
	publish(a, doc, &r);
	json_decref(a->last_doc);
	a->last_doc = json_incref(doc);
out:
	if (error == 0 && violations_out) {
		*violations_out = fresh;
		fresh = NULL;
	}
	json_decref(fresh);
	json_decref(found);
	json_decref(doc);
	verdicts_free(&vs);
	return error;
}
