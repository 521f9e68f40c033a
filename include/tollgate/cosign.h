/*
 * cosign signatures in the tag scheme (cosign v1/v2): the signatures of
 * image digest sha256:<hex> are the layers of the manifest at tag
 * "sha256-<hex>.sig", one layer per signature. Each layer's blob is a
 * "simple signing" payload
 *   {"critical": {"identity": {"docker-reference": "..."},
 *                 "image": {"docker-manifest-digest": "sha256:..."},
 *                 "type": "cosign container image signature"},
 *    "optional": {...} | null}
 * and the base64 signature over the blob's exact bytes is the layer
 * annotation "dev.cosignproject.cosign/signature".
 *
 * A signature counts when it verifies with an authority of the rule AND its
 * payload names the digest being verified (and the reference, if the rule's
 * signedIdentity asks). Invalid signatures are reasons, not the end: one
 * valid signature among invalid ones is enough, as in cosign.
 */
#ifndef TOLLGATE_COSIGN_H
#define TOLLGATE_COSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/authority.h"
#include "tollgate/error.h"
#include "tollgate/imageref.h"
#include "tollgate/policy.h"
#include "tollgate/check.h"

#define TG_COSIGN_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define TG_COSIGN_SIGNATURE_ANNOTATION "dev.cosignproject.cosign/signature"
#define TG_COSIGN_CERTIFICATE_ANNOTATION "dev.sigstore.cosign/certificate"
#define TG_COSIGN_CHAIN_ANNOTATION "dev.sigstore.cosign/chain"
#define TG_COSIGN_BUNDLE_ANNOTATION "dev.sigstore.cosign/bundle"
#define TG_COSIGN_PAYLOAD_TYPE "cosign container image signature"

typedef struct tg_cosign_payload tg_cosign_payload;

/*
 * Parse a simple-signing payload (at most TG_MAX_SIGNATURE_PAYLOAD_BYTES,
 * duplicate keys rejected, critical.* fields present with the right types,
 * no unknown critical fields, type exactly TG_COSIGN_PAYLOAD_TYPE, digest
 * well-formed). 0, TG_EPARSE, TG_ETOOBIG, TG_EINVALID (wrong type).
 */
TG_WUR int tg_cosign_payload_parse(tg_cosign_payload **out,
                                   const unsigned char *data,
                                   size_t len);
void tg_cosign_payload_free(tg_cosign_payload *p);
/*
 * The payload `cosign sign` writes for digest under docker_reference
 * (registry "/" repository) without annotations, byte for byte: compact,
 * members in cosign's order, "optional": null. NULL when reference holds
 * a character cosign would escape, or digest is not a valid digest. A
 * signature layer whose digest and size are those of this text is this
 * text (SHA-256), so it need not be fetched.
 */
char *tg_cosign_payload_canonical(const char *docker_reference,
                                  const char *digest);
/* Borrowed from p. */
const char *tg_cosign_payload_digest(const tg_cosign_payload *p);
const char *tg_cosign_payload_reference(const tg_cosign_payload *p);

/* The identity part of a rule (policy signedIdentity, remapIdentity). */
typedef struct tg_identity_rule {
	tg_policy_identity mode;
	/* remapIdentity: an image whose name starts with remap_prefix is
	 * compared as if it started with remap_signed_prefix (mirrors).
	 * Both NULL when not set. */
	const char *remap_prefix;
	const char *remap_signed_prefix;
} tg_identity_rule;

/*
 * Check the payload's docker-reference against image under rule. 0 when it
 * matches, TG_EINVALID with a message ("signed for 'x', not 'y'") when not.
 */
TG_WUR int tg_cosign_check_identity(const tg_cosign_payload *p,
                                    const tg_imageref *image,
                                    const tg_identity_rule *rule);

/* The same check for a signed reference given as a string (a Sigstore
 * bundle's in-toto subject name). */
TG_WUR int tg_cosign_check_reference(const char *reference,
                                     const tg_imageref *image,
                                     const tg_identity_rule *rule);

/* One signature layer as found in the .sig manifest; borrowed views. */
typedef struct tg_cosign_layer {
	const char *media_type;
	const unsigned char *payload; /* layer blob (digest-checked) */
	size_t payload_len;
	const char *signature;   /* base64 annotation; NULL when absent */
	const char *certificate; /* annotations; NULL when absent */
	const char *chain;
	const char *bundle;
	/* When set, the layer could not be fetched (the registry's message):
	 * it is rejected with this reason. */
	const char *error;
} tg_cosign_layer;

/*
 * A signature checked elsewhere that counts with the layers: a Sigstore
 * bundle found as an OCI 1.1 referrer (cosign v3, referrer.h). Either
 * signer is set (verified by authorities[authority], identity checked) or
 * rejected says why it does not count. Borrowed views.
 */
typedef struct tg_cosign_extra {
	const char *source; /* "referrer sha256:...", for messages */
	size_t authority;
	const char *signer;
	const char *rejected;
	/* When it stops verifying (its certificate was checked at the
	 * current time: the chain's earliest notAfter); 0 or INT64_MAX:
	 * never. */
	int64_t valid_until;
} tg_cosign_extra;

typedef struct tg_cosign_options {
	const char *digest;       /* the manifest digest verified */
	const tg_imageref *image; /* the reference verified (for identity) */
	tg_identity_rule identity;
	const tg_authority *authorities;
	size_t authorities_count;
	unsigned threshold; /* authorities met by distinct signers; 0 means 1 */
	const tg_cosign_extra *extra; /* counted after the layers */
	size_t extra_count;
} tg_cosign_options;

/*
 * Evaluate the signature layers of one image into a new check named
 * "signature" (*out, always set on 0): passed when at least threshold
 * authorities verified a signature whose payload is valid for this image,
 * each by a signer of its own (a key id or certificate identity that several
 * authorities accept counts for one of them: one signer counts once);
 * failed otherwise, with a summary ("0 of 3 signatures verify with key
 * \"release\"; re-sign or add the signer to the policy") and one reason per
 * rejected signature (notes when the check passes). Extras count as
 * signatures too. Evidence: {"seen", "valid", "threshold",
 * "authorities": [{"name", "signer"}], "rejected": [...]}. At most
 * TG_MAX_SIGNATURES layers are looked at. Returns 0 (the outcome is in
 * *out) or TG_EINVALID for unusable options (*out NULL).
 */
TG_WUR int tg_cosign_verify(tg_check **out,
                            const tg_cosign_layer *layers,
                            size_t count,
                            const tg_cosign_options *opts);

#endif
