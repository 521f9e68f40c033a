/*
 * The verifier: image references in, one verdict per image out, with every
 * reason (DESIGN.md 1, step 3).
 *
 * For each image: parse the reference; the registry must be allowed by the
 * policy (registries.allowed) before anything is fetched from it; resolve
 * the tag to a manifest digest; pick the first policy rule that matches;
 * fetch the cosign signatures (tag sha256-<hex>.sig) and check them against
 * the rule's authorities and identity, together with the Sigstore bundles
 * stored as OCI 1.1 referrers of the digest (cosign v3, referrer.h); when
 * the rule asks for attestations, fetch them (tag sha256-<hex>.att, and the
 * attestation bundles among the referrers), verify each DSSE
 * envelope and hand the predicates to the predicate checks; check the
 * image age; apply the policy's exceptions and the rule's mode.
 *
 * Fail closed: a check the rule asks for and that could not be evaluated
 * (missing attestation, registry error, keyless authority without the
 * keyless module) fails. A verdict is "allowed" only when every check
 * passed or was waived.
 *
 * Many images are verified at once over the registry client's async API
 * (one curl multi handle); an image named twice in one call, or two
 * references to the same repository and digest, are verified once.
 * Verdicts can be kept in a tg_verdict_cache across calls and runs.
 */
#ifndef TOLLGATE_VERIFIER_H
#define TOLLGATE_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/authority.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/registry.h"
#include "tollgate/verdict.h"
#include "tollgate/verdict_cache.h"

/* Verifier ----------------------------------------------------------------- */

typedef struct tg_verifier tg_verifier;

typedef struct tg_verifier_options {
	const tg_policy *policy; /* borrowed; must outlive the verifier */
	tg_registry *registry;   /* borrowed */
	tg_verdict_cache *cache; /* borrowed; NULL for none */
	/*
	 * Keyless authorities: verify hook called with ctx = the
	 * const tg_policy_authority * of the authority. NULL: keyless
	 * authorities verify nothing (fail closed).
	 */
	tg_authority_verify_fn keyless_verify;
} tg_verifier_options;

TG_WUR int tg_verifier_new(tg_verifier **out, const tg_verifier_options *opts);
void tg_verifier_free(tg_verifier *v);

/*
 * Verify images[0..count) (references as written). out[i] gets the verdict
 * of images[i] (caller frees each with tg_verdict_free); every image gets
 * one, blocked with its reasons when anything went wrong for it. Returns 0,
 * or TG_ETOOBIG when count is over TG_MAX_VERIFY_IMAGES (nothing done).
 */
TG_WUR int tg_verifier_verify(tg_verdict **out,
                              tg_verifier *v,
                              const char *const *images,
                              size_t count);

/* Counters of the last tg_verifier_verify() call. */
typedef struct tg_verifier_stats {
	size_t images;       /* references given */
	size_t verified;     /* distinct subjects verified over the network */
	size_t deduplicated; /* references answered by another's verdict */
	size_t cached;       /* answered from the verdict cache */
} tg_verifier_stats;

void tg_verifier_get_stats(tg_verifier_stats *out, const tg_verifier *v);

#endif
