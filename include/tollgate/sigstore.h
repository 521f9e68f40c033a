/*
 * Sigstore verification for policy authorities: the bridge between
 * policy.yaml authorities (policy.h) and the Sigstore checks (bundle.h),
 * for the image verifier.
 *
 * - tg_sigstore_verify_material() is the keyless verify hook of
 *   tg_verifier_options.keyless_verify (authority.h): it checks the
 *   certificate, chain and Rekor bundle annotations of a cosign .sig or
 *   .att layer (key authorities with rekor.required, keyless authorities).
 * - tg_sigstore_verify_bundle() checks a Sigstore bundle found as an OCI
 *   1.1 referrer (cosign v3, artifactType TG_BUNDLE_MEDIA_TYPE_V03) for an
 *   image digest.
 *
 * Trust: a keyless authority's trustedRoot, or its fulcioCerts (with the
 * public-good Rekor and CT log keys), or the built-in public-good root;
 * rekor.publicKey and ctlog.publicKey replace the logs' keys.
 */
#ifndef TOLLGATE_SIGSTORE_H
#define TOLLGATE_SIGSTORE_H

#include <stddef.h>

#include "tollgate/authority.h"
#include "tollgate/bundle.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"

/*
 * tg_authority_verify_fn for keyless and Rekor-checked authorities: ctx is
 * the const tg_policy_authority *. When m->msg is a DSSE PAE the material
 * is an attestation (Rekor entry of kind intoto or dsse). 0 with
 * *signer_out (heap: the certificate SAN, or the key id) and *until_out
 * (a certificate checked at the current time: its chain's earliest
 * notAfter; else INT64_MAX), TG_EUNTRUSTED, TG_EINVALID (the authority's
 * trust material does not load).
 */
TG_WUR int tg_sigstore_verify_material(char **signer_out,
                                       int64_t *until_out,
                                       void *ctx,
                                       const tg_sig_material *m);

/*
 * Verify a Sigstore bundle (JSON) for the image digest ("sha256:<hex>") under
 * authority a. name is used in messages. See tg_bundle_verify().
 */
TG_WUR int tg_sigstore_verify_bundle(tg_sigstore_evidence **out,
                                     const tg_policy_authority *a,
                                     const char *name,
                                     const char *json,
                                     size_t len,
                                     const char *digest);

#endif
