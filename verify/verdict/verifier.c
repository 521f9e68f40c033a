/*
 * The verifier: image references to verdicts (include/tollgate/verifier.h).
 *
 * Every image is a job driven by registry callbacks inside one
 * tg_registry_run(): manifest (tag -> digest), then in parallel the .sig
 * manifest and its layer blobs, the .att manifest and its blobs (when the
 * rule asks for attestations), the Sigstore bundles among the image's
 * referrers (cosign v3: each referrer manifest and its bundle layer), and
 * the image config (when the rule has maxImageAge). When a job has nothing
 * left in flight it is evaluated.
 * Jobs whose subject (repository, digest and, for exact identity, tag) was
 * already taken by another job wait for that one's verdict.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/cosign.h"
#include "tollgate/attestation.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/limits.h"
#include "tollgate/image_age.h"
#include "tollgate/predicate.h"
#include "tollgate/provenance.h"
#include "tollgate/sbom.h"
#include "tollgate/vuln.h"
#include "tollgate/referrer.h"
#include "tollgate/util.h"
#include "tollgate/verifier.h"

#include "verifier_int.h"

/* Construction ----------------------------------------------------------- */

static void build_rule_auths(struct rule_auths *ra,
                             const tg_policy_rule *r,
                             tg_authority_verify_fn keyless)
{
	const tg_policy_signatures *s = &r->signatures;
	size_t i;

	ra->count = s->nauthorities;
	ra->auths = tg_calloc(s->nauthorities, sizeof(*ra->auths));
	for (i = 0; i < s->nauthorities; i++) {
		const tg_policy_authority *pa = s->authorities[i];
		tg_authority *a = &ra->auths[i];

		a->name = pa->name;
		a->ctx = (void *)pa;
		if (pa->kind == TG_AUTHORITY_KEY) {
			a->key = pa->key;
			a->needs_tlog = pa->rekor.required;
			a->verify = pa->rekor.required ? keyless : NULL;
		} else {
			a->verify = keyless;
		}
	}
}

int tg_verifier_new(tg_verifier **out, const tg_verifier_options *opts)
{
	tg_verifier *v;
	size_t i;

	*out = NULL;
	if (!opts->policy || !opts->registry)
		return tg_error_set(TG_EINVALID,
		                    "verifier needs a policy and a registry "
		                    "client");
	v = tg_calloc(1, sizeof(*v));
	v->policy = opts->policy;
	v->registry = opts->registry;
	v->cache = opts->cache;
	v->keyless_verify = opts->keyless_verify;
	v->nrules = tg_policy_rule_count(v->policy);
	v->rules = tg_calloc(v->nrules, sizeof(*v->rules));
	for (i = 0; i < v->nrules; i++)
		build_rule_auths(&v->rules[i], tg_policy_rule_at(v->policy, i),
		                 v->keyless_verify);
	*out = v;
	return 0;
}

void tg_verifier_free(tg_verifier *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->nrules; i++)
		free(v->rules[i].auths);
	free(v->rules);
	free(v);
}

void tg_verifier_get_stats(tg_verifier_stats *out, const tg_verifier *v)
{
	*out = v->stats;
}

static void fetches_free(struct fetch *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		tg_blob_free(f[i].blob);
		free(f[i].error);
	}
	free(f);
}

static void refbs_free(struct refb *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].source);
		tg_oci_manifest_free(f[i].manifest);
		tg_blob_free(f[i].blob);
		free(f[i].error);
		tg_referrer_bundle_free(f[i].verified);
	}
	free(f);
}

static void job_release(struct job *j)
{
	tg_imageref_free(j->ref);
	free(j->digest);
	free(j->subject);
	tg_oci_manifest_free(j->manifest);
	tg_oci_manifest_free(j->sig_manifest);
	free(j->sig_error);
	fetches_free(j->sigs, j->nsigs);
	tg_oci_manifest_free(j->att_manifest);
	free(j->att_error);
	fetches_free(j->atts, j->natts);
	free(j->ref_error);
	refbs_free(j->refbs, j->nrefbs);
	tg_referrers_free(j->referrers);
	tg_oci_manifest_free(j->platform_manifest);
	tg_blob_free(j->config);
	free(j->config_error);
	tg_verdict_free(j->verdict);
	tg_verdict_free(j->expired);
}

/* Small helpers ------------------------------------------------------------ */

/* A new, passing check named name: tg_check_new returns 0 always (out of
 * memory aborts), so there is no failure to hand on. */
tg_check *tg_verifier__check_new(const char *name)
{
	tg_check *c = NULL;

	tg_discard(tg_check_new(&c, name));
	return c;
}

static const char *mode_name(const tg_policy_rule *r)
{
	return r->mode == TG_POLICY_WARN ? "warn" : "enforce";
}

bool tg_verifier__wants_attestations(const tg_policy_rule *r)
{
	return r->sbom.present || r->vulnerabilities.present ||
	       r->provenance.present;
}

/* A registry error is transient unless it says the thing is not there or
 * not what it claims: those are facts about the image, worth caching. */
static void note_registry_error(struct job *j, int code)
{
	if (code != TG_ENOTFOUND && code != TG_EUNTRUSTED &&
	    code != TG_EPARSE && code != TG_ETOOBIG)
		j->transient = true;
}

void tg_verifier__job_done_one(struct job *j)
{
	if (--j->pending == 0)
		tg_verifier__evaluate(j);
}

/* Signatures and attestations: fetching ------------------------------------ */

static void on_layer_blob(int result, tg_blob *b, void *ctx)
{
	struct fetch *f = ctx;

	if (result < 0) {
		f->error = tg_strdup(tg_error_last());
		note_registry_error(f->job, result);
	} else {
		f->blob = b;
	}
	tg_verifier__job_done_one(f->job);
}

/*
 * The payloads cosign writes for this image (no annotations), under the
 * name it signs: the repository's, and on Docker Hub also
 * "index.docker.io/..."; each NULL when the name cannot be written so.
 */
static void made_payloads(char *out[2], const struct job *j)
{
	char *hub = NULL;

	out[0] = tg_cosign_payload_canonical(j->ref->name, j->digest);
	out[1] = NULL;
	if (!strcmp(j->ref->registry, "docker.io")) {
		hub = tg_aprintf("index.docker.io/%s", j->ref->repository);
		out[1] = tg_cosign_payload_canonical(hub, j->digest);
		free(hub);
	}
}

/*
 * A .sig layer that is one of made (made_payloads), taken instead of
 * fetched: a text whose size and SHA-256 are the layer's is the layer's
 * content, so the signature is checked over the same bytes a fetch would
 * have brought (one request fewer per signed image). False: fetch it.
 */
static bool known_payload(struct fetch *f, char *const made[2])
{
	char digest[TG_DIGEST_STR_LEN + 1];
	size_t i, len;

	for (i = 0; i < 2; i++) {
		if (!made[i] || (len = strlen(made[i])) != f->desc->size)
			continue;
		tg_sha256_digest_str(digest, (const unsigned char *)made[i],
		                     len);
		if (strcmp(digest, f->desc->digest))
			continue;
		f->blob = tg_calloc(1, sizeof(*f->blob));
		f->blob->digest = tg_strdup(digest);
		f->blob->data = (unsigned char *)tg_strdup(made[i]);
		f->blob->len = len;
		return true;
	}
	return false;
}

/* Queue the blob of every layer (up to TG_MAX_SIGNATURES) of m. Layers
 * whose declared size is over max are not fetched, nor (signatures)
 * those known_payload makes. */
static struct fetch *fetch_layers(struct job *j,
                                  const tg_oci_manifest *m,
                                  size_t max,
                                  bool signatures,
                                  size_t *n_out)
{
	size_t n = m->layers_count < TG_MAX_SIGNATURES ? m->layers_count
	                                               : TG_MAX_SIGNATURES,
	       i;
	struct fetch *f = tg_calloc(n, sizeof(*f));
	char *made[2] = { NULL, NULL };

	if (signatures)
		made_payloads(made, j);
	for (i = 0; i < n; i++) {
		f[i].job = j;
		f[i].desc = &m->layers[i];
		if (m->layers[i].size > max) {
			f[i].error = tg_aprintf(
			        "layer of %llu bytes is over "
			        "the limit of %zu bytes",
			        (unsigned long long)m->layers[i].size, max);
			continue;
		}
		if (signatures && known_payload(&f[i], made))
			continue;
		j->pending++;
		if (tg_registry_get_blob_async(
		            j->vf->registry, j->ref->registry,
		            j->ref->repository, m->layers[i].digest, max,
		            on_layer_blob, &f[i]) < 0) {
			j->pending--;
			f[i].error = tg_strdup(tg_error_last());
		}
	}
	free(made[0]);
	free(made[1]);
	*n_out = n;
	return f;
}

static void on_sig_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	struct job *j = ctx;

	j->sig_result = result;
	if (result < 0) {
		j->sig_error = tg_strdup(tg_error_last());
		note_registry_error(j, result);
	} else {
		j->sig_manifest = m;
		j->sigs = fetch_layers(j, m, TG_MAX_SIGNATURE_PAYLOAD_BYTES,
		                       true, &j->nsigs);
	}
	tg_verifier__job_done_one(j);
}

static void on_att_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	struct job *j = ctx;

	j->att_result = result;
	if (result < 0) {
		j->att_error = tg_strdup(tg_error_last());
		note_registry_error(j, result);
	} else {
		j->att_manifest = m;
		j->atts = fetch_layers(j, m, TG_MAX_DSSE_ENVELOPE_BYTES, false,
		                       &j->natts);
	}
	tg_verifier__job_done_one(j);
}

static void on_config(int result, tg_blob *b, void *ctx)
{
	struct job *j = ctx;

	if (result < 0) {
		j->config_error = tg_strdup(tg_error_last());
		note_registry_error(j, result);
	} else {
		j->config = b;
	}
	tg_verifier__job_done_one(j);
}

static void fetch_config(struct job *j, const tg_oci_manifest *m)
{
	if (!m->config) {
		j->config_error = tg_strdup("the image manifest has no config");
		return;
	}
	j->pending++;
	if (tg_registry_get_blob_async(j->vf->registry, j->ref->registry,
	                               j->ref->repository, m->config->digest,
	                               TG_VERIFIER_MAX_CONFIG_BYTES, on_config,
	                               j) < 0) {
		j->pending--;
		j->config_error = tg_strdup(tg_error_last());
	}
}

static void on_platform_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	struct job *j = ctx;

	if (result < 0) {
		j->config_error = tg_strdup(tg_error_last());
		note_registry_error(j, result);
	} else {
		j->platform_manifest = m;
		fetch_config(j, m);
	}
	tg_verifier__job_done_one(j);
}

/* An index has no config: its age is the age of its first platform image
 * (the platforms of one index are built together). */
static void fetch_age_source(struct job *j)
{
	const tg_oci_manifest *m = j->manifest;

	if (m->kind != TG_OCI_MANIFEST_INDEX) {
		fetch_config(j, m);
		return;
	}
	if (m->manifests_count == 0) {
		j->config_error = tg_strdup("the index lists no manifests");
		return;
	}
	j->pending++;
	if (tg_registry_get_manifest_async(
	            j->vf->registry, j->ref->registry, j->ref->repository,
	            m->manifests[0].digest, on_platform_manifest, j) < 0) {
		j->pending--;
		j->config_error = tg_strdup(tg_error_last());
	}
}

static void fetch_tag(struct job *j,
                      const char *suffix,
                      tg_registry_manifest_fn done,
                      int *result,
                      char **err)
{
	char *tag = tg_registry_digest_tag(j->digest, suffix);

	j->pending++;
	if (tg_registry_get_manifest_async(j->vf->registry, j->ref->registry,
	                                   j->ref->repository, tag, done,
	                                   j) < 0) {
		j->pending--;
		*result = tg_error_code() ? tg_error_code() : TG_ERROR;
		*err = tg_strdup(tg_error_last());
	}
	free(tag);
}

/* Referrer bundles: fetching --------------------------------------------- */

static void on_ref_blob(int result, tg_blob *b, void *ctx)
{
	struct refb *f = ctx;

	if (result < 0) {
		f->error = tg_strdup(tg_error_last());
		note_registry_error(f->job, result);
	} else {
		f->blob = b;
	}
	tg_verifier__job_done_one(f->job);
}

static void fetch_ref_blob(struct refb *f)
{
	struct job *j = f->job;

	if (f->layer->size > TG_MAX_DSSE_ENVELOPE_BYTES) {
		f->error = tg_aprintf("bundle of %llu bytes is over the limit "
		                      "of %u bytes",
		                      (unsigned long long)f->layer->size,
		                      TG_MAX_DSSE_ENVELOPE_BYTES);
		return;
	}
	j->pending++;
	if (tg_registry_get_blob_async(j->vf->registry, j->ref->registry,
	                               j->ref->repository, f->layer->digest,
	                               TG_MAX_DSSE_ENVELOPE_BYTES, on_ref_blob,
	                               f) < 0) {
		j->pending--;
		f->error = tg_strdup(tg_error_last());
	}
}

static void on_ref_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	struct refb *f = ctx;

	if (result < 0) {
		f->error = tg_strdup(tg_error_last());
		note_registry_error(f->job, result);
	} else {
		f->manifest = m;
		if (tg_referrer_bundle_layer(&f->layer, m, f->job->digest) < 0)
			f->error = tg_strdup(tg_error_last());
		else
			fetch_ref_blob(f);
	}
	tg_verifier__job_done_one(f->job);
}

/* Fetch the manifest of every bundle referrer, up to
 * TG_MAX_REFERRER_BUNDLES; the rest are only counted. */
static void on_referrers(int result, tg_referrers *r, void *ctx)
{
	struct job *j = ctx;
	size_t i;

	j->ref_result = result;
	if (result < 0) {
		j->ref_error = tg_strdup(tg_error_last());
		note_registry_error(j, result);
		tg_verifier__job_done_one(j);
		return;
	}
	j->referrers = r;
	j->nrefbs = r->count < TG_MAX_REFERRER_BUNDLES
	                    ? r->count
	                    : TG_MAX_REFERRER_BUNDLES;
	j->refbs = tg_calloc(j->nrefbs ? j->nrefbs : 1, sizeof(*j->refbs));
	for (i = 0; i < j->nrefbs; i++) {
		struct refb *f = &j->refbs[i];

		f->job = j;
		f->desc = &r->items[i];
		f->source = tg_aprintf("referrer %s", f->desc->digest);
		j->pending++;
		if (tg_registry_get_manifest_async(
		            j->vf->registry, j->ref->registry,
		            j->ref->repository, f->desc->digest,
		            on_ref_manifest, f) < 0) {
			j->pending--;
			f->error = tg_strdup(tg_error_last());
		}
	}
	tg_verifier__job_done_one(j);
}

void tg_verifier__fetch_referrers(struct job *j)
{
	j->pending++;
	if (tg_registry_get_referrers_async(
	            j->vf->registry, j->ref->registry, j->ref->repository,
	            j->digest, TG_REFERRER_BUNDLE_TYPE, on_referrers, j) < 0) {
		j->pending--;
		j->ref_result = tg_error_code() ? tg_error_code() : TG_ERROR;
		j->ref_error = tg_strdup(tg_error_last());
	}
}

/* Manifest resolved: pick the rule, consult cache and other jobs, then
 * fetch what the rule needs. */
static void start_checks(struct job *j)
{
	j->pending++; /* held while queueing, so evaluate runs once */
	fetch_tag(j, ".sig", on_sig_manifest, &j->sig_result, &j->sig_error);
	if (tg_verifier__wants_attestations(j->rule)) {
		tg_verifier__fetch_referrers(j);
		fetch_tag(j, ".att", on_att_manifest, &j->att_result,
		          &j->att_error);
	} else {
		j->refs_deferred = true;
	}
	if (j->rule->max_image_age > 0)
		fetch_age_source(j);
	tg_verifier__job_done_one(j);
}

/* Resolution --------------------------------------------------------------- */

/* Jobs by subject for one tg_verifier_verify() call (open addressing). */
struct subject_map {
	struct job **slots;
	size_t cap;
};

static size_t str_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* The job already verifying subject, or NULL after registering j. */
static struct job *subject_claim(struct subject_map *m, struct job *j)
{
	size_t i = str_hash(j->subject) & (m->cap - 1);

	while (m->slots[i]) {
		if (!strcmp(m->slots[i]->subject, j->subject))
			return m->slots[i];
		i = (i + 1) & (m->cap - 1);
	}
	m->slots[i] = j;
	return NULL;
}

static void finish_early(struct job *j)
{
	tg_verdict_set_time(j->verdict, tg_now());
	tg_verdict_finish(j->verdict);
	j->finished = true;
}

static void record_platforms(struct job *j)
{
	const tg_oci_manifest *m = j->manifest;
	size_t i;

	if (m->kind != TG_OCI_MANIFEST_INDEX)
		return;
	for (i = 0; i < m->manifests_count; i++) {
		const tg_platform *p = m->manifests[i].platform;
		char *name = p ? tg_aprintf("%s/%s%s%s", p->os, p->architecture,
		                            p->variant ? "/" : "",
		                            p->variant ? p->variant : "")
		               : tg_strdup("");

		tg_verdict_add_platform(j->verdict, m->manifests[i].digest,
		                        name);
		free(name);
	}
}

static void make_subject(struct job *j)
{
	bool exact = j->rule->signatures.signed_identity == TG_IDENTITY_EXACT;

	j->subject = tg_aprintf(
	        "%s%s%s@%s", j->ref->name, exact && j->ref->tag ? ":" : "",
	        exact && j->ref->tag ? j->ref->tag : "", j->digest);
}

/* The cache, or another job of this call, may already know the verdict. */
static bool answered_elsewhere(struct job *j, struct subject_map *map)
{
	tg_verifier *vf = j->vf;
	tg_verdict *cached = NULL;

	if (vf->cache)
		cached = tg_verdict_cache_get(
		        vf->cache, tg_policy_hash(vf->policy), j->subject,
		        tg_now(), &j->expired);
	if (cached) {
		tg_verdict_set_image(cached, j->input);
		tg_verdict_free(j->verdict);
		j->verdict = cached;
		j->finished = true;
		vf->stats.cached++;
		return true;
	}
	j->leader = subject_claim(map, j);
	if (j->leader) {
		j->finished = true;
		vf->stats.deduplicated++;
		return true;
	}
	return false;
}

static void on_manifest(int result, tg_oci_manifest *m, void *ctx)
{
	struct job *j = ctx;
	const tg_policy *p = j->vf->policy;
	size_t i;

	j->pending = 0;
	if (result < 0) {
		note_registry_error(j, result);
		tg_verdict_fail(j->verdict, TG_CHECK_REGISTRY,
		                "cannot resolve %s: %s", j->input,
		                tg_error_last());
		finish_early(j);
		return;
	}
	j->manifest = m;
	j->digest = tg_strdup(m->digest);
	tg_verdict_set_digest(j->verdict, j->digest);
	record_platforms(j);
	tg_verdict_add_check(j->verdict,
	                     tg_verifier__check_new(TG_CHECK_REGISTRY),
	                     TG_CHECK_PASS);
	if (tg_policy_select(&j->rule, p, j->ref->name, j->digest) < 0) {
		tg_verdict_fail(j->verdict, TG_CHECK_SIGNATURE,
		                "%s; add a rule for this image to the policy",
		                tg_error_last());
		finish_early(j);
		return;
	}
	for (i = 0; i < j->vf->nrules; i++)
		if (tg_policy_rule_at(p, i) == j->rule)
			j->auths = &j->vf->rules[i];
	tg_verdict_set_rule(j->verdict, j->rule->name, mode_name(j->rule));
	make_subject(j);
	if (answered_elsewhere(j, j->vf->map))
		return;
	j->vf->stats.verified++;
	start_checks(j);
}

static void job_start(struct job *j)
{
	const char *reference;

	if (tg_imageref_parse(&j->ref, j->input) < 0) {
		tg_verdict_fail(j->verdict, TG_CHECK_REGISTRY,
		                "invalid image reference: %s", tg_error_last());
		finish_early(j);
		return;
	}
	tg_verdict_set_name(j->verdict, j->ref->name);
	if (!tg_policy_registry_allowed(j->vf->policy, j->ref->name)) {
		/* Checked before any request: a registry the policy does
		 * not allow is never contacted. */
		tg_verdict_fail(j->verdict, TG_CHECK_REGISTRY,
		                "registry not allowed: %s is not under "
		                "registries.allowed of the policy; pull from "
		                "an allowed registry or add it to the policy",
		                j->ref->name);
		finish_early(j);
		return;
	}
	reference = j->ref->digest ? j->ref->digest : j->ref->tag;
	j->pending = 1;
	if (tg_registry_get_manifest_async(j->vf->registry, j->ref->registry,
	                                   j->ref->repository, reference,
	                                   on_manifest, j) < 0) {
		j->pending = 0;
		note_registry_error(j, tg_error_code());
		tg_verdict_fail(j->verdict, TG_CHECK_REGISTRY,
		                "cannot resolve %s: %s", j->input,
		                tg_error_last());
		finish_early(j);
	}
}

/* A job that never finished (a callback never came: the registry client
 * failed as a whole) is blocked, never left allowed. */
static tg_verdict *job_take_verdict(struct job *j)
{
	tg_verdict *v;

	if (j->leader) {
		if (tg_verdict_dup(&v, j->leader->verdict) < 0) {
			/* Fail closed: the follower gets its own blocked
			 * verdict naming why. */
			tg_verdict_fail(j->verdict, TG_CHECK_REGISTRY, "%s",
			                tg_error_last());
			tg_verdict_finish(j->verdict);
			v = j->verdict;
			j->verdict = NULL;
			return v;
		}
		tg_verdict_set_image(v, j->input);
		return v;
	}
	if (!j->finished) {
		tg_verdict_fail(j->verdict, TG_CHECK_REGISTRY,
		                "verification did not complete (registry "
		                "client failure); try again");
		finish_early(j);
	}
	v = j->verdict;
	j->verdict = NULL;
	return v;
}

int tg_verifier_verify(tg_verdict **out,
                       tg_verifier *v,
                       const char *const *images,
                       size_t count)
{
	struct subject_map map = { 0 };
	struct job *jobs;
	size_t i;

	if (count > TG_MAX_VERIFY_IMAGES)
		return tg_error_set(TG_ETOOBIG,
		                    "%zu images to verify, over the limit of "
		                    "%d",
		                    count, TG_MAX_VERIFY_IMAGES);
	memset(&v->stats, 0, sizeof(v->stats));
	v->stats.images = count;
	for (map.cap = 16; map.cap < 2 * count; map.cap *= 2)
		;
	map.slots = tg_calloc(map.cap, sizeof(*map.slots));
	jobs = tg_calloc(count ? count : 1, sizeof(*jobs));
	v->map = &map;
	for (i = 0; i < count; i++) {
		jobs[i].vf = v;
		jobs[i].input = images[i];
		/* tg_verdict_new returns 0 always (out of memory aborts). */
		tg_discard(tg_verdict_new(&jobs[i].verdict, images[i]));
		job_start(&jobs[i]);
	}
	/* A failed run leaves its jobs unfinished, and job_take_verdict()
	 * fails an unfinished job closed, so the result adds nothing. */
	tg_discard(tg_registry_run(v->registry));
	v->map = NULL;
	/* Leaders first, so a follower copies a final verdict. */
	for (i = 0; i < count; i++)
		if (!jobs[i].leader)
			out[i] = job_take_verdict(&jobs[i]);
	for (i = 0; i < count; i++)
		if (jobs[i].leader) {
			jobs[i].leader->verdict = out[jobs[i].leader - jobs];
			out[i] = job_take_verdict(&jobs[i]);
			jobs[i].leader->verdict = NULL;
		}
	for (i = 0; i < count; i++)
		job_release(&jobs[i]);
	free(jobs);
	free(map.slots);
	return 0;
}
