/*
 * Sigstore bundles stored as OCI 1.1 referrers of an image (cosign v3 and
 * its new bundle format): each is an image manifest with artifactType
 * TG_REFERRER_BUNDLE_TYPE, subject the image manifest, one layer holding
 * the bundle JSON (media type TG_REFERRER_BUNDLE_TYPE) and the annotation
 * TG_BUNDLE_PREDICATE_ANNOTATION naming the in-toto predicate type. They
 * are listed by the referrers API or, on registries without it, by the
 * OCI index at tag "sha256-<hex>" (registry.h).
 *
 * A bundle is a signature of the image when it is a DSSE envelope whose
 * in-toto statement has predicate type TG_COSIGN_SIGN_PREDICATE (bundle.h:
 * https://sigstore.dev/cosign/sign/v1), or a
 * message signature over the image digest; any other predicate type is an
 * attestation (SBOM, vulnerability scan, provenance) checked like a .att
 * layer. Either way it counts only when an authority of the rule verifies
 * it (sigstore.h: key, or keyless with Rekor as the policy asks) and the
 * statement's subjects (or the message digest) name the image digest.
 */
#ifndef TOLLGATE_REFERRER_H
#define TOLLGATE_REFERRER_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/attestation.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/registry.h"

/* The artifactType of bundle referrers (TG_BUNDLE_MEDIA_TYPE_V03 of
 * bundle.h, which this header does not include: its tg_cosign_layer is
 * not cosign.h's). */
#define TG_REFERRER_BUNDLE_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
#define TG_BUNDLE_PREDICATE_ANNOTATION "dev.sigstore.bundle.predicateType"

typedef enum {
	TG_REFERRER_SIGNATURE = 1,
	TG_REFERRER_ATTESTATION = 2,
} tg_referrer_kind;

/*
 * What a referrer says it is, by the value of its predicate type
 * annotation (NULL or the cosign sign predicate: a signature). Only a hint,
 * used to file the reason of a bundle that does not verify: the verified
 * statement decides for the others.
 */
tg_referrer_kind tg_referrer_kind_hint(const char *predicate_type);

/*
 * The bundle layer of referrer manifest m, listed as a referrer of image
 * digest: m must be an image manifest whose subject is digest, with
 * exactly one layer of a Sigstore bundle media type. 0 with *out borrowed
 * from m; TG_EINVALID with a message.
 */
TG_WUR int tg_referrer_bundle_layer(const tg_descriptor **out,
                                    const tg_oci_manifest *m,
                                    const char *digest);

/* A verified referrer bundle. */
typedef struct tg_referrer_bundle {
	tg_referrer_kind kind;
	size_t authority;  /* index into the rule's authorities */
	char *signer;      /* key id "sha256:..." or certificate identity */
	char *issuer;      /* OIDC issuer; NULL for a key */
	int64_t log_index; /* Rekor log index; -1 when none */
	int64_t integrated_time; /* Rekor integrated time; -1 when none */
	/* A certificate checked at the current time: when the chain
	 * expires (tg_sigstore_evidence); INT64_MAX otherwise. */
	int64_t valid_until;
	/* The statement's subject name for the digest (a DSSE bundle that
	 * names one), for signedIdentity; NULL otherwise. */
	char *subject_name;
	/* kind TG_REFERRER_ATTESTATION: the statement, for the predicate
	 * checks (attestation.h). */
	tg_attestation *attestation;
} tg_referrer_bundle;

/*
 * Verify bundle JSON json[0..len) found as a referrer of image digest
 * under the authorities of sigs (the first that verifies it wins). source
 * names it in evidence (the referrer manifest digest). 0 with *out;
 * TG_EUNTRUSTED when no authority verifies it, with each authority's
 * reason in the message; TG_EPARSE / TG_EINVALID for a statement of the
 * wrong shape or for another image.
 */
TG_WUR int tg_referrer_verify(tg_referrer_bundle **out,
                              const char *source,
                              const unsigned char *json,
                              size_t len,
                              const char *digest,
                              const tg_policy_signatures *sigs);
void tg_referrer_bundle_free(tg_referrer_bundle *b);

#endif
