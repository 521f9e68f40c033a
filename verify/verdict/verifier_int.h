/*
 * Internals of the verifier shared by its files: verifier.c (construction,
 * fetching, resolution), signatures.c (referrer bundles and the signature
 * check) and checks.c (exceptions, attestations, predicates, image age and
 * the evaluation of a job).
 */
#ifndef TOLLGATE_VERIFIER_INT_H
#define TOLLGATE_VERIFIER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "tollgate/check.h"
#include "tollgate/cosign.h"
#include "tollgate/imageref.h"
#include "tollgate/referrer.h"
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
	/* The cached verdict not used because it was past its validUntil
	 * (the new verdict says so), or NULL. */
	tg_verdict *expired;
	int pending; /* requests in flight */
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
/* A new, passing check named name (out of memory aborts). */
tg_check *tg_verifier__check_new(const char *name);

/* Whether rule r asks for any attestation (SBOM, vulnerabilities,
 * provenance). */
bool tg_verifier__wants_attestations(const tg_policy_rule *r);

/* One request of j is done: evaluate j when none is left in flight. */
void tg_verifier__job_done_one(struct job *j);

/* Start reading the Sigstore bundles among the referrers of j. */
void tg_verifier__fetch_referrers(struct job *j);

/* Verify each fetched referrer bundle of j and file it by kind. */
void tg_verifier__refbs_verify(struct job *j);

/* The signature check of j (.sig layers and referrer signatures). */
tg_check *tg_verifier__signature_check(struct job *j);

/* Nothing of j is in flight: run the rule's checks and finish the
 * verdict. */
void tg_verifier__evaluate(struct job *j);

#endif
