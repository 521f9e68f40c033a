/*
 * Evaluation of a verifier job (verify/verdict/verifier.c) once nothing is
 * in flight: the exceptions that apply, the signature check
 * (verify/verdict/signatures.c), the attestation checks (SBOM,
 * vulnerabilities, provenance) on the newest verified attestation of each
 * kind, and the image age.
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
 * does, and each expired one that would have. A waived check holds until
 * the last of the exceptions that waive it expires. */
static bool waive(tg_check *c, const struct waivers *w, unsigned bit)
{
	const tg_policy_exception *last = NULL;
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
		if (!last || e->expires_at > last->expires_at)
			last = e;
		tg_check_note(c,
		              "waived by exception \"%s\": %s (approved by %s, "
		              "expires %s)",
		              e->name, e->reason ? e->reason : "",
		              e->approved_by ? e->approved_by : "?",
		              e->expires ? e->expires : "never");
	}
	if (last)
		tg_check_bound(c, last->expires_at,
		               "exception \"%s\" expires %s", last->name,
		               last->expires ? last->expires : "?");
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
	tg_check *c = tg_verifier__check_new(name);
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

/* A scan whose findings an exception's cves waived holds only while
 * those exceptions do: bounded by the earliest expiry among the active
 * exceptions that list CVE ids (which of them a finding needed is not
 * kept, so the earliest is the safe bound). */
static void bound_by_cve_waivers(tg_check *c, const struct waivers *w)
{
	const tg_policy_exception *first = NULL;
	size_t i;

	if (json_array_size(json_object_get(tg_check_evidence(c), "waived")) ==
	    0)
		return;
	for (i = 0; i < w->n; i++) {
		const tg_policy_exception *e = w->exc[i];

		if (e->ncves == 0 || !tg_policy_exception_active(e, w->now))
			continue;
		if (!first || e->expires_at < first->expires_at)
			first = e;
	}
	if (first)
		tg_check_bound(c, first->expires_at,
		               "exception \"%s\" (cves) expires %s",
		               first->name,
		               first->expires ? first->expires : "?");
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
	if (error == 0)
		bound_by_cve_waivers(*out, w);
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
		c = tg_verifier__check_new(pc->name);
		tg_check_fail(c, "%s", tg_error_last());
	} else {
		attestation_evidence(c, j, att);
		if (tg_attestation_valid_until(att) != INT64_MAX)
			tg_check_bound(c, tg_attestation_valid_until(att),
			               "the signing certificate of the "
			               "attestation (%s), checked at the "
			               "current time, expires",
			               tg_attestation_signer(att));
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
			c = tg_verifier__check_new(TG_CHECK_AGE);
			tg_check_fail(c, "%s", tg_error_last());
		}
		json_decref(config);
	} else {
		c = tg_verifier__check_new(TG_CHECK_AGE);
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
	c = tg_verifier__signature_check(j);
	enough = tg_check_passed(c);
	tg_check_free(c);
	if (enough)
		return false;
	j->pending++; /* held while queueing */
	tg_verifier__fetch_referrers(j);
	tg_verifier__job_done_one(j);
	return true;
}

/* The cache held a verdict for this subject that was past what it
 * depended on: the check it came from says so. */
static void note_expired(struct job *j)
{
	char at[TG_RFC3339_BYTES], until[TG_RFC3339_BYTES];
	const char *check = NULL, *why = NULL;
	int64_t t;

	if (!j->expired)
		return;
	t = tg_verdict_valid_until(j->expired, &check, &why);
	if (!check)
		return;
	tg_format_rfc3339(at, tg_verdict_time(j->expired));
	tg_format_rfc3339(until, t);
	tg_verdict_note(j->verdict, check,
	                "the cached verdict of %s was not used: it held "
	                "until %s (%s); verified again",
	                at, until, why ? why : "");
}

void tg_verifier__evaluate(struct job *j)
{
	int64_t now = tg_now();
	struct waivers w;
	struct atts a;
	size_t k;

	if (referrers_needed(j))
		return;
	waivers_init(&w, j, now);
	tg_verifier__refbs_verify(j);
	add_check(j, tg_verifier__signature_check(j), TG_WAIVE_SIGNATURE, false,
	          &w);
	if (tg_verifier__wants_attestations(j->rule)) {
		atts_collect(&a, j);
		for (k = 0; k < TG_ARRAY_LEN(predicate_checks); k++)
			predicate_check(j, &predicate_checks[k], &a, &w);
		atts_free(&a);
	}
	age_check(j, &w);
	note_expired(j);
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
