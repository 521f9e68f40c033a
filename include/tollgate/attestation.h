/*
 * Attestations as cosign stores them: the layers of the manifest at tag
 * "sha256-<hex>.att", one layer per attestation, media type
 * application/vnd.dsse.envelope.v1+json, the DSSE envelope (dsse.h) as the
 * layer blob, and the predicate type repeated in the layer annotation
 * "predicateType" (a hint only: the statement is authoritative).
 *
 * An attestation counts for an image when one of its signatures verifies
 * over the exact PAE bytes with an authority of the rule, its payload is an
 * in-toto statement (intoto.h), and the statement's subjects include the
 * image digest (matched by digest, whatever the subject name).
 */
#ifndef TOLLGATE_ATTESTATION_H
#define TOLLGATE_ATTESTATION_H

#include <stddef.h>

#include <jansson.h>

#include "tollgate/authority.h"
#include "tollgate/error.h"
#include "tollgate/intoto.h"

#define TG_ATTESTATION_PREDICATE_ANNOTATION "predicateType"

/* One attestation layer as found in the .att manifest; borrowed views. */
typedef struct tg_dsse_layer {
	const char *media_type;
	const char *digest;            /* the layer (envelope) digest */
	const unsigned char *envelope; /* layer blob (digest-checked) */
	size_t envelope_len;
	const char *predicate_type; /* annotation; NULL when absent */
	const char *certificate;    /* annotations; NULL when absent */
	const char *chain;
	const char *bundle;
} tg_dsse_layer;

typedef struct tg_attestation tg_attestation;

/*
 * Verify one attestation layer for image digest: media type, envelope,
 * payloadType application/vnd.in-toto+json, a signature by one of auths,
 * the statement, a subject with this digest. 0 with *out; TG_EPARSE,
 * TG_ETOOBIG, TG_EUNTRUSTED (no authority verifies), TG_EINVALID (wrong
 * media or payload type, digest not among the subjects), with a message.
 */
TG_WUR int tg_attestation_verify(tg_attestation **out,
                                 const tg_dsse_layer *layer,
                                 const char *digest,
                                 const tg_authority *auths,
                                 size_t count);
/*
 * An attestation whose envelope was verified elsewhere (a Sigstore bundle
 * found as an OCI 1.1 referrer, by authority with signer): parse the
 * statement and check that its subjects include digest. source names the
 * carrier for evidence (the referrer manifest digest). 0 with *out;
 * TG_EPARSE, TG_ETOOBIG, TG_EINVALID (digest not among the subjects).
 */
TG_WUR int tg_attestation_from_statement(tg_attestation **out,
                                         const unsigned char *statement,
                                         size_t len,
                                         const char *digest,
                                         const char *authority,
                                         const char *signer,
                                         const char *source);
void tg_attestation_free(tg_attestation *a);
/* Borrowed from a. */
const char *tg_attestation_predicate_type(const tg_attestation *a);
json_t *tg_attestation_predicate(const tg_attestation *a);
const tg_intoto_statement *tg_attestation_statement(const tg_attestation *a);
const char *tg_attestation_authority(const tg_attestation *a);
const char *tg_attestation_signer(const tg_attestation *a);
/* When its signature stops verifying (a certificate checked at the
 * current time: the chain's earliest notAfter); INT64_MAX: never. A check
 * on its predicate holds no longer. The setter is for statements verified
 * elsewhere (referrer bundles). */
int64_t tg_attestation_valid_until(const tg_attestation *a);
void tg_attestation_set_valid_until(tg_attestation *a, int64_t t);
/* The layer (envelope) digest, for evidence; "" when unknown. */
const char *tg_attestation_digest(const tg_attestation *a);

#endif
