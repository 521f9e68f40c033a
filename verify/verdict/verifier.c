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

struct subject_map;

struct rule_auths {
	tg_authority *auths;
	size_t count;
};

struct tg_verifier {
	const tg_policy *policy;
	tg_registry *registry;
	tg_verdict_cache *cache;
	tg_authority_verify_fn keyless_verify;
	struct rule_auths *rules; /* per policy rule, built once */
	size_t nrules;
	tg_verifier_stats stats;
	struct subject_map *map; /* during tg_verifier_verify() */
};

/* One fetched layer blob (signature or attestation). */
struct fetch {
	struct job *job;
	const tg_descriptor *desc;
	tg_blob *blob;
	char *error;
};

/* One Sigstore bundle referrer: its manifest, then its bundle layer. */
struct refb {
	struct job *job;
	const tg_descriptor *desc; /* in job->referrers */
	char *source;              /* "referrer sha256:..." */
	tg_oci_manifest *manifest;
	const tg_descriptor *layer; /* in manifest */
	tg_blob *blob;
	char *error;
	tg_referrer_kind kind;
	tg_referrer_bundle *verified;
};

struct job {
	tg_verifier *vf;
	const char *input;
	tg_imageref *ref;
	tg_verdict *verdict;
	const tg_policy_rule *rule;
	const struct rule_auths *auths;
	char *digest;
	char *subject;
	struct job *leader; /* verdict copied from this job at the end */
	bool finished;      /* verdict final (or leader set) */
	bool transient;     /* a registry error: do not cache */
	int pending;        /* requests in flight */
	tg_oci_manifest *manifest;
	tg_oci_manifest *sig_manifest;
	int sig_result;
	char *sig_error;
	struct fetch *sigs;
	size_t nsigs;
	tg_oci_manifest *att_manifest;
	int att_result;
	char *att_error;
	struct fetch *atts;
	size_t natts;
	int ref_result;
	char *ref_error;
	/* The rule asks for no attestations: the referrers are read only
	 * when the .sig signatures alone do not satisfy it. */
	bool refs_deferred;
	tg_referrers *referrers;
	struct refb *refbs;
	size_t nrefbs;
	tg_oci_manifest
	        *platform_manifest; /* index: the one whose config dates it */
	tg_blob *config;
	char *config_error;
};

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
}

/* Small helpers ------------------------------------------------------------ */

/* A new, passing check named name: tg_check_new returns 0 always (out of
 * memory aborts), so there is no failure to hand on. */
static tg_check *check_new(const char *name)
{
	tg_check *c = NULL;

	tg_discard(tg_check_new(&c, name));
	return c;
}

static const char *mode_name(const tg_policy_rule *r)
{
	return r->mode == TG_POLICY_WARN ? "warn" : "enforce";
}

static bool wants_attestations(const tg_policy_rule *r)
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

static void evaluate(struct job *j);

static void job_done_one(struct job *j)
{
	if (--j->pending == 0)
		evaluate(j);
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
	job_done_one(f->job);
}

/* Queue the blob of every layer (up to TG_MAX_SIGNATURES) of m. Layers
 * whose declared size is over max are not fetched. */
static struct fetch *
fetch_layers(struct job *j, const tg_oci_manifest *m, size_t max, size_t *n_out)
{
	size_t n = m->layers_count < TG_MAX_SIGNATURES ? m->layers_count
	                                               : TG_MAX_SIGNATURES,
	       i;
	struct fetch *f = tg_calloc(n, sizeof(*f));

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
		j->pending++;
		if (tg_registry_get_blob_async(
		            j->vf->registry, j->ref->registry,
		            j->ref->repository, m->layers[i].digest, max,
		            on_layer_blob, &f[i]) < 0) {
			j->pending--;
			f[i].error = tg_strdup(tg_error_last());
		}
	}
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
		                       &j->nsigs);
	}
	job_done_one(j);
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
		j->atts = fetch_layers(j, m, TG_MAX_DSSE_ENVELOPE_BYTES,
		                       &j->natts);
	}
	job_done_one(j);
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
	job_done_one(j);
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
	job_done_one(j);
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
	job_done_one(f->job);
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
	job_done_one(f->job);
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
		job_done_one(j);
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
	job_done_one(j);
}

static void fetch_referrers(struct job *j)
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
	if (wants_attestations(j->rule)) {
		fetch_referrers(j);
		fetch_tag(j, ".att", on_att_manifest, &j->att_result,
		          &j->att_error);
	} else {
		j->refs_deferred = true;
	}
	if (j->rule->max_image_age > 0)
		fetch_age_source(j);
	job_done_one(j);
}

/* Evaluation --------------------------------------------------------------- */

/* Exceptions matching this image, for waivers and their notes. */
struct waivers {
	const tg_policy_exception *exc[TG_VERIFIER_MAX_EXCEPTIONS];
	size_t n;
	int64_t now;
};

static void waivers_init(struct waivers *w, const struct job *j, int64_t now)
{
	size_t n = tg_policy_exceptions_for(w->exc, TG_VERIFIER_MAX_EXCEPTIONS,
	                                    j->vf->policy, j->ref->name,
	                                    j->digest);

	w->n = n < TG_VERIFIER_MAX_EXCEPTIONS ? n : TG_VERIFIER_MAX_EXCEPTIONS;
	w->now = now;
}

/* Active exceptions' waived CVE ids, borrowed from the policy. */
static const char **waived_cves(const struct waivers *w, size_t *n_out)
{
	const char **ids = NULL;
	size_t n = 0, i, k;

	for (i = 0; i < w->n; i++) {
		if (!tg_policy_exception_active(w->exc[i], w->now))
			continue;
		for (k = 0; k < w->exc[i]->ncves; k++) {
			ids = tg_realloc(ids, (n + 1) * sizeof(*ids));
			ids[n++] = w->exc[i]->cves[k];
		}
	}
	*n_out = n;
	return ids;
}

/* Whether an active exception waives bit; notes name each exception that
 * does, and each expired one that would have. */
static bool waive(tg_check *c, const struct waivers *w, unsigned bit)
{
	bool waived = false;
	size_t i;

	for (i = 0; i < w->n; i++) {
		const tg_policy_exception *e = w->exc[i];

		if (!(e->waive & bit))
			continue;
		if (!tg_policy_exception_active(e, w->now)) {
			tg_check_note(c, "exception \"%s\" expired on %s",
			              e->name, e->expires ? e->expires : "?");
			continue;
		}
		waived = true;
		tg_check_note(c,
		              "waived by exception \"%s\": %s (approved by %s, "
		              "expires %s)",
		              e->name, e->reason ? e->reason : "",
		              e->approved_by ? e->approved_by : "?",
		              e->expires ? e->expires : "never");
	}
	return waived;
}

/* Add check c to the verdict with its result under exceptions and mode. */
static void add_check(struct job *j,
                      tg_check *c,
                      unsigned bit,
                      bool skipped,
                      const struct waivers *w)
{
	tg_check_result r;

	if (skipped)
		r = TG_CHECK_SKIPPED;
	else if (tg_check_passed(c))
		r = TG_CHECK_PASS;
	else if (bit && waive(c, w, bit))
		r = TG_CHECK_WAIVED;
	else if (j->rule->mode == TG_POLICY_WARN)
		r = TG_CHECK_WARN;
	else
		r = TG_CHECK_FAIL;
	tg_verdict_add_check(j->verdict, c, r);
}

static tg_cosign_layer layer_view(const struct fetch *f)
{
	tg_cosign_layer l = { 0 };

	l.media_type = f->desc->media_type;
	l.signature = tg_descriptor_annotation(f->desc,
	                                       TG_COSIGN_SIGNATURE_ANNOTATION);
	l.certificate = tg_descriptor_annotation(
	        f->desc, TG_COSIGN_CERTIFICATE_ANNOTATION);
	l.chain = tg_descriptor_annotation(f->desc, TG_COSIGN_CHAIN_ANNOTATION);
	l.bundle =
	        tg_descriptor_annotation(f->desc, TG_COSIGN_BUNDLE_ANNOTATION);
	l.error = f->error;
	if (f->blob) {
		l.payload = f->blob->data;
		l.payload_len = f->blob->len;
	} else if (!f->error) {
		l.error = "not fetched";
	}
	return l;
}

/* Referrer bundles: verification ------------------------------------------ */

/* Verify each fetched bundle under the rule's authorities and file it as
 * a signature or an attestation (by its annotation when it does not
 * verify). */
static void refbs_verify(struct job *j)
{
	const char *pt;
	size_t i;

	for (i = 0; i < j->nrefbs; i++) {
		struct refb *f = &j->refbs[i];

		pt = f->manifest
		             ? tg_oci_manifest_annotation(
		                       f->manifest,
		                       TG_BUNDLE_PREDICATE_ANNOTATION)
		             : tg_descriptor_annotation(
		                       f->desc, TG_BUNDLE_PREDICATE_ANNOTATION);
		f->kind = tg_referrer_kind_hint(pt);
		if (!f->blob) {
			if (!f->error)
				f->error = tg_strdup("not fetched");
			continue;
		}
		if (tg_referrer_verify(&f->verified, f->desc->digest,
		                       f->blob->data, f->blob->len, j->digest,
		                       &j->rule->signatures) < 0) {
			f->error = tg_strdup(tg_error_last());
			continue;
		}
		f->kind = f->verified->kind;
	}
}

static tg_identity_rule identity_rule(const tg_policy_signatures *s)
{
	tg_identity_rule id = { 0 };

	id.mode = s->signed_identity;
	id.remap_prefix = s->remap_prefix;
	id.remap_signed_prefix = s->remap_signed_prefix;
	return id;
}

/* signedIdentity for a referrer signature: the statement's subject name
 * stands for the signed reference (it has no tag). False with f->error. */
static bool refb_identity_ok(struct refb *f,
                             const struct job *j,
                             const tg_identity_rule *id)
{
	if (id->mode == TG_IDENTITY_ANY)
		return true;
	if (!f->verified->subject_name)
		f->error = tg_strdup("the bundle names no image, and the "
		                     "rule's signedIdentity needs one");
	else if (tg_cosign_check_reference(f->verified->subject_name, j->ref,
	                                   id) < 0)
		f->error = tg_strdup(tg_error_last());
	return f->error == NULL;
}

/* The referrer signatures, as extras of the signature check. */
static tg_cosign_extra *signature_extras(struct job *j, size_t *n_out)
{
	tg_identity_rule id = identity_rule(&j->rule->signatures);
	tg_cosign_extra *x = tg_calloc(j->nrefbs ? j->nrefbs : 1, sizeof(*x));
	size_t i, n = 0;

	for (i = 0; i < j->nrefbs; i++) {
		struct refb *f = &j->refbs[i];

		if (f->kind != TG_REFERRER_SIGNATURE)
			continue;
		x[n].source = f->source;
		if (f->verified && refb_identity_ok(f, j, &id)) {
			x[n].authority = f->verified->authority;
			x[n].signer = f->verified->signer;
		} else {
			x[n].rejected = f->error;
		}
		n++;
	}
	*n_out = n;
	return x;
}

/* Evidence of each referrer signature that counted: who signed, and the
 * transparency log entry when the bundle has one. */
static void bundle_evidence(tg_check *c, const struct job *j)
{
	const tg_policy_signatures *s = &j->rule->signatures;
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < j->nrefbs; i++) {
		const struct refb *f = &j->refbs[i];
		const tg_referrer_bundle *ev = f->verified;

		if (f->kind != TG_REFERRER_SIGNATURE || !ev || f->error)
			continue;
		o = json_pack("{s:s, s:s, s:s}", "referrer", f->desc->digest,
		              "authority", s->authorities[ev->authority]->name,
		              "signer", ev->signer);
		if (ev->issuer)
			json_object_set_new(o, "issuer",
			                    json_string(ev->issuer));
		if (ev->log_index >= 0)
			json_object_set_new(o, "logIndex",
			                    json_integer(ev->log_index));
		if (ev->integrated_time >= 0)
			json_object_set_new(o, "integratedTime",
			                    json_integer(ev->integrated_time));
		json_array_append_new(arr, o);
	}
	if (json_array_size(arr))
		json_object_set_new(tg_check_evidence(c), "bundles", arr);
	else
		json_decref(arr);
}

/* A reason that does not decide the check: a note when it passed. */
static void side_reason(tg_check *c,
                        const char *what,
                        const char *where,
                        const char *detail)
{
	if (tg_check_passed(c))
		tg_check_note(c, "cannot read %s %s: %s", what, where, detail);
	else
		tg_check_fail(c, "cannot read %s %s: %s", what, where, detail);
}

/* Neither a .sig tag nor a referrer signature. */
static tg_check *no_signatures(struct job *j, const char *tag)
{
	tg_check *c = check_new(TG_CHECK_SIGNATURE);

	if (j->sig_result != TG_ENOTFOUND)
		tg_check_fail(c, "cannot read the signatures at %s: %s", tag,
		              j->sig_error);
	else if (j->ref_result < 0)
		tg_check_fail(c,
		              "no signatures found (no tag %s in %s), and "
		              "the referrers cannot be read: %s",
		              tag, j->ref->name, j->ref_error);
	else
		tg_check_fail(c,
		              "no signatures found (no tag %s in %s, and no "
		              "Sigstore bundle among its referrers); sign "
		              "the image with cosign",
		              tag, j->ref->name);
	return c;
}

static tg_check *signature_check(struct job *j)
{
	const tg_policy_signatures *s = &j->rule->signatures;
	char *tag = tg_registry_digest_tag(j->digest, ".sig");
	tg_cosign_options o = { 0 };
	tg_cosign_layer *layers = NULL;
	tg_cosign_extra *extra;
	tg_check *c = NULL;
	size_t i, total = 0, nextra;

	extra = signature_extras(j, &nextra);
	if (j->sig_result < 0 && nextra == 0) {
		c = no_signatures(j, tag);
		goto out;
	}
	if (j->sig_result >= 0) {
		total = j->sig_manifest->layers_count;
		layers = tg_calloc(total ? total : 1, sizeof(*layers));
		for (i = 0; i < j->nsigs; i++)
			layers[i] = layer_view(&j->sigs[i]);
	}
	o.digest = j->digest;
	o.image = j->ref;
	o.identity = identity_rule(s);
	o.authorities = j->auths->auths;
	o.authorities_count = j->auths->count;
	o.threshold = s->threshold;
	o.extra = extra;
	o.extra_count = nextra;
	if (tg_cosign_verify(&c, layers, total, &o) < 0) {
		c = check_new(TG_CHECK_SIGNATURE);
		tg_check_fail(c, "%s", tg_error_last());
	}
	free(layers);
	if (j->sig_result < 0 && j->sig_result != TG_ENOTFOUND)
		side_reason(c, "the signatures at", tag, j->sig_error);
	if (j->ref_result < 0)
		side_reason(c, "the referrers of", j->ref->name, j->ref_error);
	if (j->referrers && j->referrers->count > j->nrefbs)
		tg_check_note(c,
		              "%zu Sigstore bundle referrers beyond the limit "
		              "of %d were not looked at",
		              j->referrers->count - j->nrefbs,
		              TG_MAX_REFERRER_BUNDLES);
	bundle_evidence(c, j);
out:
	free(extra);
	json_object_set_new(tg_check_evidence(c), "tag", json_string(tag));
	free(tag);
	return c;
}

/* The verified attestations of a job, and why the others did not count. */
struct atts {
	tg_attestation **items;
	size_t n;
	char **rejected;
	size_t nrejected;
	char *unreadable; /* the .att tag or the referrers could not be read */
};

static void atts_reject_msg(struct atts *a, char *msg)
{
	a->rejected = tg_realloc(a->rejected,
	                         (a->nrejected + 1) * sizeof(*a->rejected));
	a->rejected[a->nrejected++] = msg;
}

static void atts_reject(struct atts *a, size_t i, const char *why)
{
	atts_reject_msg(a, tg_aprintf("attestation %zu: %s", i + 1, why));
}

static void atts_add(struct atts *a, tg_attestation *att)
{
	a->items = tg_realloc(a->items, (a->n + 1) * sizeof(*a->items));
	a->items[a->n++] = att;
}

static void atts_verify_one(struct atts *a, const struct job *j, size_t i)
{
	const struct fetch *f = &j->atts[i];
	tg_dsse_layer l = { 0 };
	tg_attestation *att = NULL;

	if (!f->blob) {
		atts_reject(a, i, f->error ? f->error : "not fetched");
		return;
	}
	l.media_type = f->desc->media_type;
	l.digest = f->desc->digest;
	l.envelope = f->blob->data;
	l.envelope_len = f->blob->len;
	l.predicate_type = tg_descriptor_annotation(
	        f->desc, TG_ATTESTATION_PREDICATE_ANNOTATION);
	l.certificate = tg_descriptor_annotation(
	        f->desc, TG_COSIGN_CERTIFICATE_ANNOTATION);
	l.chain = tg_descriptor_annotation(f->desc, TG_COSIGN_CHAIN_ANNOTATION);
	l.bundle =
	        tg_descriptor_annotation(f->desc, TG_COSIGN_BUNDLE_ANNOTATION);
	if (tg_attestation_verify(&att, &l, j->digest, j->auths->auths,
	                          j->auths->count) < 0) {
		atts_reject(a, i, tg_error_last());
		return;
	}
	atts_add(a, att);
}

/* The attestations among the referrer bundles (ownership moves to a). */
static void atts_from_referrers(struct atts *a, struct job *j)
{
	size_t i;

	if (j->ref_result < 0) {
		a->unreadable =
		        tg_aprintf("cannot read the referrers of %s: %s",
		                   j->ref->name, j->ref_error);
		return;
	}
	for (i = 0; i < j->nrefbs; i++) {
		struct refb *f = &j->refbs[i];

		if (f->kind != TG_REFERRER_ATTESTATION)
			continue;
		if (!f->verified) {
			atts_reject_msg(a,
			                tg_aprintf("%s: %s", f->source,
			                           f->error ? f->error
			                                    : "not verified"));
			continue;
		}
		atts_add(a, f->verified->attestation);
		f->verified->attestation = NULL;
	}
	if (j->referrers && j->referrers->count > j->nrefbs)
		atts_reject_msg(a, tg_aprintf("%zu Sigstore bundle referrers "
		                              "beyond the limit of %d were "
		                              "not looked at",
		                              j->referrers->count - j->nrefbs,
		                              TG_MAX_REFERRER_BUNDLES));
}

static void atts_collect(struct atts *a, struct job *j)
{
	char *tag;
	size_t i;

	memset(a, 0, sizeof(*a));
	atts_from_referrers(a, j);
	if (j->att_result == TG_ENOTFOUND || a->unreadable)
		return;
	if (j->att_result < 0) {
		tag = tg_registry_digest_tag(j->digest, ".att");
		a->unreadable = tg_aprintf("cannot read the attestations at "
		                           "%s: %s",
		                           tag, j->att_error);
		free(tag);
		return;
	}
	for (i = 0; i < j->natts; i++)
		atts_verify_one(a, j, i);
	if (j->att_manifest->layers_count > j->natts)
		atts_reject(a, j->natts,
		            "and later layers: over the limit of "
		            "layers per image");
}

static void atts_free(struct atts *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		tg_attestation_free(a->items[i]);
	free(a->items);
	for (i = 0; i < a->nrejected; i++)
		free(a->rejected[i]);
	free(a->rejected);
	free(a->unreadable);
}

/* The newest verified attestation whose predicate is of one of kinds
 * (by the predicate's own time; the later layer on a tie). */
static const tg_attestation *atts_newest(const struct atts *a,
                                         const tg_predicate_kind *kinds,
                                         size_t nkinds,
                                         tg_predicate_kind *kind_out)
{
	const tg_attestation *best = NULL;
	int64_t best_t = INT64_MIN, t;
	size_t i, k;

	for (i = 0; i < a->n; i++) {
		tg_predicate_kind kind = tg_predicate_kind_of(
		        tg_attestation_predicate_type(a->items[i]));

		for (k = 0; k < nkinds && kinds[k] != kind; k++)
			;
		if (k == nkinds)
			continue;
		if (tg_predicate_time(&t, kind,
		                      tg_attestation_predicate(a->items[i])) <
		    0)
			t = 0;
		if (t >= best_t) {
			best = a->items[i];
			best_t = t;
			*kind_out = kind;
		}
	}
	return best;
}

/* The referrer bundle an attestation came from, or NULL (.att layer). */
static const tg_referrer_bundle *attestation_referrer(const struct job *j,
                                                      const tg_attestation *a)
{
	size_t i;

	for (i = 0; i < j->nrefbs; i++)
		if (j->refbs[i].verified &&
		    !strcmp(j->refbs[i].desc->digest, tg_attestation_digest(a)))
			return j->refbs[i].verified;
	return NULL;
}

static void
attestation_evidence(tg_check *c, const struct job *j, const tg_attestation *a)
{
	const tg_referrer_bundle *rb = attestation_referrer(j, a);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "digest",
	                      tg_attestation_digest(a), "predicateType",
	                      tg_attestation_predicate_type(a), "authority",
	                      tg_attestation_authority(a), "signer",
	                      tg_attestation_signer(a));

	/* From a referrer bundle: "digest" is the referrer's, and the
	 * bundle may name an OIDC issuer and a log entry. */
	if (rb) {
		json_object_set_new(o, "referrer", json_true());
		if (rb->issuer)
			json_object_set_new(o, "issuer",
			                    json_string(rb->issuer));
		if (rb->log_index >= 0)
			json_object_set_new(o, "logIndex",
			                    json_integer(rb->log_index));
		if (rb->integrated_time >= 0)
			json_object_set_new(o, "integratedTime",
			                    json_integer(rb->integrated_time));
	}
	json_object_set_new(tg_check_evidence(c), "attestation", o);
}

/* A check for a missing attestation: required -> fail with every
 * rejected one as a reason; else skipped. */
static tg_check *missing_attestation(const struct job *j,
                                     const struct atts *a,
                                     const char *name,
                                     const char *what,
                                     bool required,
                                     bool *skipped)
{
	tg_check *c = check_new(name);
	char *tag = tg_registry_digest_tag(j->digest, ".att");
	size_t i;

	*skipped = false;
	if (a->unreadable) {
		/* Fail closed: an attestation we cannot read might be one
		 * that fails. */
		tg_check_fail(c, "%s", a->unreadable);
	} else if (required) {
		tg_check_fail(c,
		              "no %s attestation signed by the rule's "
		              "authorities (tag %s); attach one with cosign "
		              "attest",
		              what, tag);
		for (i = 0; i < a->nrejected; i++)
			tg_check_fail(c, "%s", a->rejected[i]);
	} else {
		tg_check_note(c, "no %s attestation; not required", what);
		*skipped = true;
	}
	free(tag);
	return c;
}

/* The predicate check run on the newest attestation of its kinds. 0 with
 * *out set, or an error (no check made). */
typedef int (*predicate_run_fn)(tg_check **out,
                                const struct job *j,
                                const tg_attestation *att,
                                tg_predicate_kind kind,
                                const struct waivers *w);

static int run_sbom(tg_check **out,
                    const struct job *j,
                    const tg_attestation *att,
                    tg_predicate_kind kind,
                    const struct waivers *w)
{
	(void)w;
	return tg_sbom_check(out, kind, tg_attestation_predicate(att),
	                     &j->rule->sbom);
}

static int run_vuln(tg_check **out,
                    const struct job *j,
                    const tg_attestation *att,
                    tg_predicate_kind kind,
                    const struct waivers *w)
{
	const char **ids;
	size_t nids;
	int error;

	(void)kind;
	ids = waived_cves(w, &nids);
	error = tg_vuln_check(out, tg_attestation_predicate(att),
	                      &j->rule->vulnerabilities, ids, nids, w->now);
	free(ids);
	return error;
}

static int run_provenance(tg_check **out,
                          const struct job *j,
                          const tg_attestation *att,
                          tg_predicate_kind kind,
                          const struct waivers *w)
{
	(void)w;
	return tg_provenance_check(out, kind, tg_attestation_predicate(att),
	                           &j->rule->provenance);
}

/* One attestation check of a rule: which predicate kinds serve it, where
 * the rule says whether it is configured and required, and how it runs. */
struct predicate_check {
	const char *name; /* TG_CHECK_* */
	const char *what; /* for "no <what> attestation" */
	tg_predicate_kind kinds[2];
	size_t nkinds;
	size_t present_at;  /* offsetof a bool in tg_policy_rule */
	size_t required_at; /* likewise */
	unsigned waive;     /* TG_WAIVE_* bit */
	predicate_run_fn run;
};

static const struct predicate_check predicate_checks[] = {
	{ TG_CHECK_SBOM,
	  "SBOM (SPDX or CycloneDX)",
	  { TG_PREDICATE_SPDX, TG_PREDICATE_CYCLONEDX },
	  2,
	  offsetof(tg_policy_rule, sbom.present),
	  offsetof(tg_policy_rule, sbom.required),
	  TG_WAIVE_SBOM,
	  run_sbom },
	{ TG_CHECK_VULNERABILITIES,
	  "vulnerability scan (" TG_PREDICATE_TYPE_VULN ")",
	  { TG_PREDICATE_VULN },
	  1,
	  offsetof(tg_policy_rule, vulnerabilities.present),
	  offsetof(tg_policy_rule, vulnerabilities.required),
	  TG_WAIVE_VULNERABILITIES,
	  run_vuln },
	{ TG_CHECK_PROVENANCE,
	  "SLSA provenance",
	  { TG_PREDICATE_SLSA_V02, TG_PREDICATE_SLSA_V1 },
	  2,
	  offsetof(tg_policy_rule, provenance.present),
	  offsetof(tg_policy_rule, provenance.required),
	  TG_WAIVE_PROVENANCE,
	  run_provenance },
};

static bool rule_flag(const tg_policy_rule *r, size_t at)
{
	return *(const bool *)((const char *)r + at);
}

/*
 * One attestation check: the predicate check on the newest attestation of
 * its kinds, or, when there is none (or the attestations cannot be read),
 * a check for the missing attestation. Nothing when the rule does not
 * configure it.
 */
static void predicate_check(struct job *j,
                            const struct predicate_check *pc,
                            const struct atts *a,
                            const struct waivers *w)
{
	tg_predicate_kind kind = TG_PREDICATE_UNKNOWN;
	const tg_attestation *att =
	        atts_newest(a, pc->kinds, pc->nkinds, &kind);
	bool skipped = false;
	tg_check *c = NULL;

	if (!rule_flag(j->rule, pc->present_at))
		return;
	if (!att || a->unreadable) {
		c = missing_attestation(j, a, pc->name, pc->what,
		                        rule_flag(j->rule, pc->required_at),
		                        &skipped);
	} else if (pc->run(&c, j, att, kind, w) < 0) {
		/* Fail closed: a check that could not run fails. */
		c = check_new(pc->name);
		tg_check_fail(c, "%s", tg_error_last());
	} else {
		attestation_evidence(c, j, att);
	}
	add_check(j, c, pc->waive, skipped, w);
}

static void age_check(struct job *j, const struct waivers *w)
{
	json_t *config = NULL;
	json_error_t jerr;
	tg_check *c;

	if (j->rule->max_image_age <= 0)
		return;
	if (j->config)
		config = json_loadb((const char *)j->config->data,
		                    j->config->len, JSON_REJECT_DUPLICATES,
		                    &jerr);
	if (config) {
		if (tg_image_age_check(&c, config, j->rule->max_image_age,
		                       w->now) < 0) {
			c = check_new(TG_CHECK_AGE);
			tg_check_fail(c, "%s", tg_error_last());
		}
		json_decref(config);
	} else {
		c = check_new(TG_CHECK_AGE);
		tg_check_fail(c, "cannot read the image config: %s",
		              j->config_error ? j->config_error : jerr.text);
	}
	add_check(j, c, TG_WAIVE_AGE, false, w);
}

/*
 * Whether the referrers are still to be read: the rule wants no
 * attestations and the .sig signatures alone do not satisfy it, so cosign
 * v3 bundles may. Starts that read (the job is evaluated again when it is
 * done) and returns true. An image signed the legacy way costs no
 * referrers request.
 */
static bool referrers_needed(struct job *j)
{
	tg_check *c;
	bool enough;

	if (!j->refs_deferred)
		return false;
	j->refs_deferred = false;
	c = signature_check(j);
	enough = tg_check_passed(c);
	tg_check_free(c);
	if (enough)
		return false;
	j->pending++; /* held while queueing */
	fetch_referrers(j);
	job_done_one(j);
	return true;
}

static void evaluate(struct job *j)
{
	int64_t now = tg_now();
	struct waivers w;
	struct atts a;
	size_t k;

	if (referrers_needed(j))
		return;
	waivers_init(&w, j, now);
	refbs_verify(j);
	add_check(j, signature_check(j), TG_WAIVE_SIGNATURE, false, &w);
	if (wants_attestations(j->rule)) {
		atts_collect(&a, j);
		for (k = 0; k < TG_ARRAY_LEN(predicate_checks); k++)
			predicate_check(j, &predicate_checks[k], &a, &w);
		atts_free(&a);
	}
	age_check(j, &w);
	tg_verdict_set_time(j->verdict, now);
	tg_verdict_finish(j->verdict);
	j->finished = true;
	/* Only verdicts that let an image run are cached: a blocked image is
	 * verified again every time, so signing it or publishing its scan
	 * takes effect on the next cycle, not after the cache TTL. */
	if (j->vf->cache && !j->transient &&
	    tg_verdict_get(j->verdict) != TG_VERDICT_BLOCKED)
		tg_verdict_cache_put(j->vf->cache,
		                     tg_policy_hash(j->vf->policy), j->subject,
		                     j->verdict, now);
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
		cached = tg_verdict_cache_get(vf->cache,
		                              tg_policy_hash(vf->policy),
		                              j->subject, tg_now());
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
	tg_verdict_add_check(j->verdict, check_new(TG_CHECK_REGISTRY),
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
		jobs[i].verdict = tg_verdict_new(images[i]);
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
