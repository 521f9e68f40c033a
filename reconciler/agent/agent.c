/*
 * The agent's reconcile cycle: see reconciler/include/tollgate/agent.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_int.h"
#include "tollgate/agent.h"
#include "tollgate/apply.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/kube.h"
#include "tollgate/kubeconfig.h"
#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/manifest.h"
#include "tollgate/plan.h"
#include "tollgate/policy.h"
#include "tollgate/registry.h"
#include "tollgate/sigstore.h"
#include "tollgate/source.h"
#include "tollgate/status.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

#define TG_VERDICT_CACHE_FILE "verdict-cache.json"
#define TG_DRIFT_MEMO_FILE "drift-memo"
#define TG_STATUS_DIGESTS_FILE "status-digests"
#define TG_MANIFEST_CACHE_FILE "manifest-cache"
#define TG_LAST_STATUS_FILE "last-status"

void tg_agent_free(tg_agent *a)
{
	if (!a)
		return;
	tg_verifier_free(a->verifier);
	tg_verifier_free(a->reverifier);
	json_decref(a->deployed);
	json_decref(a->violations);
	free(a->last_doc_path);
	tg_verdict_cache_free(a->cache);
	tg_registry_free(a->registry);
	tg_policy_free(a->policy);
	tg_policy_watch_free(a->watch);
	tg_source_free(a->source);
	tg_render_free(a->render);
	tg_oci_source_free(a->oci);
	tg_source_free(a->status_repo);
	json_decref(a->artifact);
	tg_kube_free(a->kube);
	tg_agent__trust_free(a->trust);
	free(a->cache_path);
	free(a->drift_memo_path);
	free(a->status_digests_path);
	free(a->manifest_cache_path);
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

int tg_agent_open_verifiers(tg_verifier **v,
                            tg_verifier **rv,
                            tg_agent *a,
                            const tg_policy *p)
{
	tg_verifier_options vo = { 0 };
	int error;

	*v = *rv = NULL;
	vo.policy = p;
	vo.registry = a->registry;
	vo.cache = a->cache;
	vo.keyless_verify = tg_sigstore_verify_material;
	if ((error = tg_verifier_new(v, &vo)) < 0)
		return error;
	vo.cache = NULL;
	if ((error = tg_verifier_new(rv, &vo)) < 0) {
		tg_verifier_free(*v);
		*v = NULL;
	}
	return error;
}

/* The source (Git or OCI) and, with status.url, the status repository. */
static int open_sources(tg_agent *a)
{
	tg_source_opts so;
	int error;

	if (a->cfg->source.oci)
		error = tg_agent__oci_open(a);
	else {
		tg_config_source_opts(&so, a->cfg);
		error = tg_source_open(&a->source, &so);
	}
	if (error < 0 || !a->cfg->status.url)
		return error;
	tg_config_status_repo_opts(&so, a->cfg);
	return tg_source_open(&a->status_repo, &so);
}

int tg_agent_new(tg_agent **out,
                 const tg_config *cfg,
                 const tg_agent_options *opts)
{
	tg_agent *a = tg_calloc(1, sizeof(*a));
	int error;

	*out = NULL;
	a->cfg = cfg;
	if (opts)
		a->opts = *opts;
	if (a->opts.health_timeout_s == 0)
		a->opts.health_timeout_s = TG_AGENT_HEALTH_TIMEOUT_S;
	a->watch = tg_policy_watch_new(cfg->policy);
	if ((error = tg_policy_load(&a->policy, cfg->policy)) < 0)
		goto out;
	tg_policy_watch_loaded(a->watch, a->policy);
	if ((error = open_registry(a)) < 0)
		goto out;
	if ((error = tg_verdict_cache_new(&a->cache, 0)) < 0)
		goto out;
	a->cache_path = tg_path_join(cfg->state_dir, TG_VERDICT_CACHE_FILE);
	a->drift_memo_path = tg_path_join(cfg->state_dir, TG_DRIFT_MEMO_FILE);
	a->status_digests_path =
	        tg_path_join(cfg->state_dir, TG_STATUS_DIGESTS_FILE);
	a->manifest_cache_path =
	        tg_path_join(cfg->state_dir, TG_MANIFEST_CACHE_FILE);
	a->last_doc_path = tg_path_join(cfg->state_dir, TG_LAST_STATUS_FILE);
	if (tg_verdict_cache_load(a->cache, a->cache_path, tg_now()) < 0)
		tg_log(TG_LOG_WARN, "verdict cache unreadable, starting empty",
		       "error", tg_error_last(), NULL);
	if ((error = tg_agent_open_verifiers(&a->verifier, &a->reverifier, a,
	                                     a->policy)) < 0 ||
	    (error = tg_agent__trust_open(a)) < 0)
		goto out;
	a->deployed = json_object();
	a->violations = json_array();
	if ((error = open_sources(a)) < 0)
		goto out;
	if ((error = tg_agent_open_render(&a->render, cfg)) < 0)
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

int tg_agent_open_render(tg_render **out, const tg_config *cfg)
{
	tg_render_options ro = { 0 };

	ro.kustomize_command =
	        (const char *const *)cfg->render.kustomize_command;
	ro.nkustomize_command = cfg->render.nkustomize_command;
	ro.kustomize_timeout = cfg->render.kustomize_timeout;
	ro.plugins = cfg->render.plugins;
	ro.nplugins = cfg->render.nplugins;
	ro.parallel = cfg->render.parallel;
	ro.state_dir = cfg->state_dir;
	return tg_render_new(out, &ro);
}

static bool stop_requested(const tg_agent *a)
{
	return a->opts.stop && *a->opts.stop;
}

/* Units that need a renderer, rendered from the tree of commit, the one
 * whose content the cycle uses (DESIGN.md 1 step 2), into set, before the
 * plain files are added. */
static int render_units(tg_manifest_set *set, tg_agent *a, const char *commit)
{
	tg_render_fs fs;
	int error;

	if ((error = a->oci ? tg_oci_source_render_fs(&fs, a->oci)
	                    : tg_source_render_fs(&fs, a->source, commit)) < 0)
		return error;
	error = tg_render_units(set, a->render, &fs,
	                        a->cfg->source.path ? a->cfg->source.path : "");
	tg_render_fs_free(&fs);
	return error;
}

/* The rendered units and then the tree's manifest files into set, each
 * parsed unless the parse cache (stateDir/manifest-cache) holds what its
 * bytes gave. */
static int read_units(tg_manifest_set *set,
                      tg_agent *a,
                      const tg_source_tree *tree,
                      tg_preverify *pre,
                      bool plan)
{
	tg_manifest_cache *mc = tg_manifest_cache_load(a->manifest_cache_path);
	size_t i;
	int error;

	tg_manifest_set_use_cache(set, mc);
	error = render_units(set, a, tg_source_tree_commit(tree));
	/* Rendering runs kustomize and plugins in child processes: the
	 * worker starts after it, and verifies what rendering found and
	 * then what the files give while they are read. */
	if (error == 0)
		tg_agent__preverify_start(pre);
	for (i = 0; i < tg_source_tree_count(tree) && error == 0; i++) {
		const tg_source_file *f = tg_source_tree_get(tree, i);

		if (tg_manifest_path_wanted(f->path))
			error = tg_manifest_set_add_file(set, f->path, f->data,
			                                 f->len);
	}
	tg_manifest_set_use_cache(set, NULL);
	a->files_cached = tg_manifest_cache_hits(mc);
	a->files_parsed = tg_manifest_cache_misses(mc);
	/* tollgate plan writes nothing, not even its cache */
	if (error == 0 && !plan && tg_manifest_cache_save(mc) < 0)
		tg_log(TG_LOG_WARN, "manifest cache not saved", "error",
		       tg_error_last(), NULL);
	tg_manifest_cache_free(mc);
	return error;
}

static int load_manifests(tg_manifest_set **out,
                          tg_agent *a,
                          const tg_source_tree *tree,
                          tg_preverify *pre,
                          bool plan)
{
	const tg_config *cfg = a->cfg;
	tg_manifest_image_path *ip = tg_config_manifest_image_paths(cfg);
	tg_manifest_options mo = { 0 };
	size_t i;
	int error;

	*out = NULL;
	mo.image_paths = ip;
	mo.nimage_paths = cfg->nimage_paths;
	mo.path_prefix =
	        cfg->source.path && *cfg->source.path ? cfg->source.path : NULL;
	error = tg_manifest_set_new(out, &mo);
	free(ip);
	if (error < 0)
		return error;
	tg_manifest_set_on_image(*out, tg_agent__preverify_add, pre);
	error = read_units(*out, a, tree, pre, plan);
	/* After a failed read or when asked to stop, the worker only ends
	 * the batch in hand. */
	tg_agent__preverify_finish(pre, error < 0 || stop_requested(a));
	tg_manifest_set_on_image(*out, NULL, NULL);
	if (error < 0) {
		tg_manifest_set_free(*out);
		*out = NULL;
		return error;
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

static void count_verdicts(tg_cycle_result *r, const tg_plan_verdicts *vs)
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

/* The cycle ---------------------------------------------------------------- */

static json_t *new_status_doc(tg_agent *a, const char *commit)
{
	char now[21];

	if (a->oci)
		return tg_agent__oci_doc(a, commit);
	tg_format_rfc3339(now, tg_now());
	return json_pack("{s:s,s:s,s:s,s:s,s:{},s:[],s:[]}", "sourceCommit",
	                 commit, "sourceUrl", a->cfg->source.url,
	                 "sourceBranch", a->cfg->source.branch, "time", now,
	                 "units", "drift", "prunedUnits");
}

/* The status document of the cycle: for a Git source it names the head
 * fetched and carries the commit check (policy commits:). */
static json_t *cycle_doc(tg_agent *a,
                         const tg_cycle_result *r,
                         const tg_commit_check *cc,
                         bool loaded)
{
	json_t *doc, *trust = tg_agent__trust_doc(a);

	if (a->oci)
		doc = new_status_doc(a, loaded ? r->commit : NULL);
	else
		doc = new_status_doc(a, r->head);
	if (!a->oci && cc->doc)
		json_object_set(doc, "commit", cc->doc);
	if (trust)
		json_object_set_new(doc, "trustRoot", trust);
	return doc;
}

/* The head's commit check, then the tree of the commit the cycle uses:
 * the head, or while it is blocked the last verified commit (*tree NULL
 * when there is none). */
static int read_checked(tg_source_tree **tree,
                        tg_commit_check *cc,
                        tg_cycle_result *r,
                        tg_agent *a,
                        bool plan)
{
	int error;

	tg_strlcpy(r->head, tg_source_commit(a->source), sizeof(r->head));
	if ((error = tg_agent_check_commit(cc, a, r->head, plan)) < 0)
		return error;
	if (!cc->deploy[0])
		return 0;
	return tg_source_read_at(tree, a->source, cc->deploy);
}

static int fetch_tree(tg_source_tree **tree,
                      tg_commit_check *cc,
                      tg_cycle_result *r,
                      tg_agent *a,
                      bool plan)
{
	int error;

	/* plan still fetches: it must show what the next cycle would do. */
	a->status_fetched = false;
	if (a->oci)
		return tg_agent__oci_tree(tree, a);
	if (!plan && a->cfg->status.push && !a->status_repo) {
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
	return read_checked(tree, cc, r, a, plan);
}

int tg_agent_check_may_write(tg_cycle_result *r, tg_agent *a, const char *what)
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

/* The entry {ref, digest, pinned} of a status image entry (borrowed
 * from shared, where it is made once per ref and digest), or NULL. */
static json_t *deployed_entry(json_t *shared, json_t *img)
{
	const char *ref = json_string_value(json_object_get(img, "ref"));
	const char *digest = json_string_value(json_object_get(img, "digest"));
	tg_imageref *ir = NULL;
	json_t *e;
	char *key, *pinned;

	if (!ref || !digest)
		return NULL;
	key = tg_aprintf("%s\n%s", ref, digest);
	if (!(e = json_object_get(shared, key)) &&
	    tg_imageref_parse(&ir, ref) == 0) {
		pinned = tg_imageref_pinned(ir, digest);
		e = json_pack("{s:s,s:s,s:s}", "ref", ref, "digest", digest,
		              "pinned", pinned);
		json_object_set_new(shared, key, e);
		free(pinned);
		tg_imageref_free(ir);
	}
	free(key);
	return e;
}

/* Remember what the cluster now runs, unit by unit: the images of applied
 * and unchanged units; a blocked or failed unit keeps what ran before; a
 * pruned unit runs nothing. */
static void update_deployed(tg_agent *a, const json_t *doc)
{
	/* One entry per image, shared by the units that run it: 10,000
	 * objects name 100 images 3,300 times (2 MiB). */
	json_t *u, *p, *shared = json_object();
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
		json_array_foreach(json_object_get(u, "images"), i, img)
			json_array_append(imgs, deployed_entry(shared, img));
		json_object_set_new(a->deployed, name, imgs);
	}
	json_decref(shared);
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

/* When each phase of a cycle ended (tg_monotonic()), for the log. */
typedef struct cycle_times {
	double start, fetch, load, verify, apply;
} cycle_times;

/* One log line per cycle with what it did and where the time went. */
static void log_cycle(const tg_cycle_result *r,
                      const cycle_times *t,
                      const tg_agent *a,
                      size_t images)
{
	char f[24], l[24], v[24], ap[24], st[24], total[24], n[24], u[24];
	char fc[24], fp[24], ie[24];
	double end = tg_monotonic();

	snprintf(f, sizeof(f), "%.3f", t->fetch - t->start);
	snprintf(l, sizeof(l), "%.3f", t->load - t->fetch);
	snprintf(v, sizeof(v), "%.3f", t->verify - t->load);
	snprintf(ap, sizeof(ap), "%.3f", t->apply - t->verify);
	snprintf(st, sizeof(st), "%.3f", end - t->apply);
	snprintf(total, sizeof(total), "%.3f", end - t->start);
	snprintf(n, sizeof(n), "%zu", images);
	snprintf(u, sizeof(u), "%d", r->units);
	/* files whose parse came from stateDir/manifest-cache */
	snprintf(fc, sizeof(fc), "%zu", a->files_cached);
	snprintf(fp, sizeof(fp), "%zu", a->files_parsed);
	/* references verified while the manifests were read */
	snprintf(ie, sizeof(ie), "%zu", a->images_early);
	tg_log(TG_LOG_INFO, "cycle done", "commit", r->commit, "units", u,
	       "images", n, "seconds", total, "fetch", f, "manifests", l,
	       "verify", v, "apply", ap, "status", st, "filesCached", fc,
	       "filesParsed", fp, "imagesEarly", ie, NULL);
}

/* Fetch, check the commit (policy commits:), read the tree and load its
 * manifests; stop here when asked to (nothing verified yet). 1 (and no
 * tree) when an OCI source's artifact or a Git source's head was refused
 * and no verified one stands in. */
static int load_cycle(tg_manifest_set **set_out,
                      tg_source_tree **tree_out,
                      tg_commit_check *cc,
                      tg_cycle_result *r,
                      cycle_times *t,
                      tg_agent *a,
                      tg_preverify *pre,
                      bool plan)
{
	int error;

	/* sigstore.tuf: the trust root this cycle verifies with */
	tg_agent__trust_refresh(a);
	if ((error = fetch_tree(tree_out, cc, r, a, plan)) < 0)
		return error;
	t->fetch = tg_monotonic();
	r->source_blocked = a->artifact_blocked || cc->blocked;
	if (!*tree_out)
		return 1; /* a refused artifact and none to stand in */
	tg_strlcpy(r->commit, tg_source_tree_commit(*tree_out),
	           sizeof(r->commit));
	if ((error = load_manifests(set_out, a, *tree_out, pre, plan)) < 0)
		return error;
	/* Parsed: the files' bytes are not read again. */
	tg_source_tree_free(*tree_out);
	*tree_out = NULL;
	t->load = tg_monotonic();
	if (stop_requested(a)) {
		r->stopped = true;
		return tg_error_set(TG_ERROR, "stopped before verifying %s",
		                    r->commit);
	}
	return 0;
}

/* The plan, with the admit stage's reserved objects from the config and
 * scopes from the policy. */
static void plan_units(tg_apply *ap,
                       json_t *doc,
                       tg_cycle_result *r,
                       tg_agent *a,
                       tg_manifest_set *set,
                       const tg_plan_verdicts *vs)
{
	tg_admit_options ao = { 0 };
	tg_plan_admission adm = { &ao, a->policy };

	ao.inventory_namespace = a->cfg->cluster.inventory_namespace;
	ao.reserved_namespaces =
	        (const char *const *)a->cfg->cluster.reserved_namespaces;
	ao.nreserved_namespaces = a->cfg->cluster.nreserved_namespaces;
	ao.admission_policy = a->cfg->cluster.admission_policy;
	ao.admission_policy_binding = a->cfg->cluster.admission_policy_binding;
	ao.cluster_roles = (const char *const *)a->cfg->cluster.cluster_roles;
	ao.ncluster_roles = a->cfg->cluster.ncluster_roles;
	ao.cluster_role_bindings =
	        (const char *const *)a->cfg->cluster.cluster_role_bindings;
	ao.ncluster_role_bindings = a->cfg->cluster.ncluster_role_bindings;
	ao.kube = a->kube;
	ao.netpol_cache = json_object();
	tg_plan_units(ap, doc, r, set, vs, &adm);
	json_decref(ao.netpol_cache);
}

/* An apply of this cycle's units (a dry run for plan). */
static int
new_apply(tg_apply **out, tg_agent *a, const tg_cycle_result *r, bool plan)
{
	tg_apply_options ao = { 0 };

	ao.inventory_namespace = a->cfg->cluster.inventory_namespace;
	ao.source_commit = r->commit;
	ao.prune = a->cfg->cluster.prune;
	ao.correct_drift = a->cfg->cluster.drift == TG_DRIFT_CORRECT;
	ao.plan = plan;
	ao.drift_memo = a->drift_memo_path;
	ao.health_timeout_s = plan || a->opts.health_timeout_s < 0
	                              ? 0
	                              : a->opts.health_timeout_s;
	return tg_apply_new(out, a->kube, &ao);
}

/* After apply (not for plan): remember what runs, carry the violations,
 * publish the status and keep the verdict cache. */
static int finish_cycle(tg_cycle_result *r, tg_agent *a, json_t **docp)
{
	int error;

	update_deployed(a, *docp);
	drop_stale_violations(a);
	if (json_array_size(a->violations))
		json_object_set(*docp, "violations", a->violations);
	if ((error = tg_agent_check_may_write(r, a, "status")) < 0)
		return error;
	a->last_doc =
	        a->opts.reverify && tg_agent__save_last_doc(a, *docp) == 0;
	if (a->opts.on_doc)
		a->opts.on_doc(a->opts.on_doc_ctx, *docp, r->commit);
	/* Kept on disk and read by the caller, the document need not stay
	 * in memory while the status is pushed (the push reads status.json
	 * whole, 6 MB at 10,000 objects). */
	tg_agent_publish(r, a, docp, a->last_doc && a->opts.on_doc);
	/* Saved only when something was verified over the network: a cycle
	 * answered from the cache has nothing new to keep. */
	if (a->verify_stats.verified > 0 &&
	    tg_verdict_cache_save(a->cache, a->cache_path) < 0)
		tg_log(TG_LOG_WARN, "verdict cache not saved", "error",
		       tg_error_last(), NULL);
	return 0;
}

/* Once planned, the apply keeps its objects as text: the parsed
 * manifests and the files go before it talks to the cluster, so their
 * memory and that of the cluster's answers do not add (the verdicts'
 * refs borrowed from the set are not read after). */
static void drop_manifests(tg_manifest_set **set, tg_source_tree **tree)
{
	tg_manifest_set_free(*set);
	*set = NULL;
	tg_source_tree_free(*tree);
	*tree = NULL;
}

/* The apply's report merged into doc (the report is returned, for the
 * caller to free). The status needs only the cycle's document: the
 * apply and its objects go before it is built, so their memory and the
 * status's do not add. */
static json_t *
merge_report(tg_apply **ap, json_t *doc, tg_cycle_result *r, bool plan)
{
	json_t *report = tg_apply_report(*ap);

	tg_plan_merge_apply_report(doc, r, report, plan);
	tg_apply_free(*ap);
	*ap = NULL;
	return report;
}

int tg_agent_cycle(tg_cycle_result *r,
                   json_t **report_out,
                   tg_agent *a,
                   bool plan)
{
	tg_source_tree *tree = NULL;
	tg_manifest_set *set = NULL;
	tg_apply *ap = NULL;
	tg_plan_verdicts vs = { 0 };
	tg_commit_check cc = { 0 };
	tg_preverify *pre = tg_agent__preverify_new(a->verifier);
	json_t *doc = NULL, *report = NULL;
	cycle_times t = { .start = tg_monotonic() };
	int error;

	memset(r, 0, sizeof(*r));
	memset(&a->verify_stats, 0, sizeof(a->verify_stats));
	a->images_early = 0;
	if (report_out)
		*report_out = NULL;
	if ((error = load_cycle(&set, &tree, &cc, r, &t, a, pre, plan)) < 0)
		goto out;
	if (error == 1) {
		/* Nothing verified to apply: the cluster keeps what it has
		 * (no apply, no prune); the status says why. */
		doc = cycle_doc(a, r, &cc, false);
		error = plan ? 0 : finish_cycle(r, a, &doc);
		goto report;
	}
	error = tg_agent__verify_images(&vs, &a->verify_stats, a, set, pre);
	/* what the worker verified and no valid unit holds */
	tg_agent__preverify_free(pre);
	pre = NULL;
	if (error < 0)
		goto out;
	t.verify = tg_monotonic();
	count_verdicts(r, &vs);
	if ((error = new_apply(&ap, a, r, plan)) < 0)
		goto out;
	doc = cycle_doc(a, r, &cc, true);
	plan_units(ap, doc, r, a, set, &vs);
	drop_manifests(&set, &tree);
	if (!plan && (error = tg_agent_check_may_write(r, a, "apply")) < 0)
		goto out;
	if ((error = tg_apply_run(ap)) < 0)
		goto out;
	t.apply = tg_monotonic();
	report = merge_report(&ap, doc, r, plan);
	/* Its lists are the document's now: freed with it. */
	json_decref(report);
	report = NULL;
	if (!plan && (error = finish_cycle(r, a, &doc)) < 0)
		goto out;
	log_cycle(r, &t, a, vs.n);
report:
	if (error == 0 && report_out) {
		*report_out = doc;
		doc = NULL;
	}
out:
	json_decref(doc);
	json_decref(report);
	json_decref(cc.doc);
	tg_apply_free(ap);
	tg_plan_verdicts_free(&vs);
	tg_agent__preverify_free(pre);
	tg_manifest_set_free(set);
	tg_source_tree_free(tree);
	return error;
}

tg_kube *tg_agent_kube(tg_agent *a)
{
	return a->kube;
}

int tg_agent_remote_moved(bool *moved, tg_agent *a)
{
	char oid[TG_SOURCE_OID_HEX];

	*moved = false;
	if (a->oci)
		return tg_agent__oci_moved(moved, a);
	return tg_source_remote_head(oid, moved, a->source);
}

const json_t *tg_agent_violations(const tg_agent *a)
{
	return a->violations;
}
