/*
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1)
 * and the in-toto statements they carry (v0.1 and v1), as cosign stores
 * attestations: the layers of the manifest at tag "sha256-<hex>.att", one
 * layer per attestation, media type application/vnd.dsse.envelope.v1+json,
 * the envelope as the layer blob, and the predicate type repeated in the
 * layer annotation "predicateType" (a hint only: the statement is
 * authoritative).
 *
 * An attestation counts for an image when one of its signatures verifies
 * over the exact PAE bytes with an authority of the rule, its payload is an
 * in-toto statement, and the statement's subjects include the image digest
 * (matched by digest, whatever the subject name).
 */
#ifndef TOLLGATE_DSSE_H
#define TOLLGATE_DSSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/authority.h"

#define TG_DSSE_MEDIA_TYPE "application/vnd.dsse.envelope.v1+json"
#define TG_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define TG_INTOTO_STATEMENT_V01 "https://in-toto.io/Statement/v0.1"
#define TG_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define TG_ATTESTATION_PREDICATE_ANNOTATION "predicateType"

/* Envelopes ---------------------------------------------------------------- */

typedef struct tg_dsse_envelope tg_dsse_envelope;

/*
 * Parse an envelope {payloadType, payload (base64), signatures: [{keyid,
 * sig (base64)}]}: at most TG_MAX_DSSE_ENVELOPE_BYTES, duplicate keys
 * rejected, 1..TG_MAX_DSSE_SIGNATURES signatures. Standard and URL-safe
 * base64 are both accepted, as the DSSE spec asks. 0, TG_EPARSE, TG_ETOOBIG.
 */
int tg_dsse_envelope_parse(tg_dsse_envelope **out,
                           const unsigned char *data,
                           size_t len);
void tg_dsse_envelope_free(tg_dsse_envelope *e);
const char *tg_dsse_envelope_payload_type(const tg_dsse_envelope *e);
/* The decoded payload, borrowed. */
const unsigned char *tg_dsse_envelope_payload(const tg_dsse_envelope *e,
                                              size_t *len_out);
size_t tg_dsse_envelope_signature_count(const tg_dsse_envelope *e);
/* keyid of signature i ("" when absent), borrowed. */
const char *tg_dsse_envelope_keyid(const tg_dsse_envelope *e, size_t i);
/* Decoded signature i, borrowed. */
const unsigned char *tg_dsse_envelope_signature(const tg_dsse_envelope *e,
                                                size_t i,
                                                size_t *len_out);

/*
 * The pre-authentication encoding the signatures cover:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII
 * decimal. *out is malloc'd. Always 0.
 */
int tg_dsse_pae(unsigned char **out,
                size_t *out_len,
                const char *type,
                const unsigned char *body,
                size_t body_len);

/*
 * Does any signature of e verify over the PAE with any of the authorities?
 * 0 with *authority_out (index into auths) and *signer_out (heap) of the
 * first that does; TG_EUNTRUSTED with every failure in the message.
 * certificate, chain and bundle come from the layer annotations (keyless).
 */
int tg_dsse_envelope_verify(size_t *authority_out,
                            char **signer_out,
                            const tg_dsse_envelope *e,
                            const tg_authority *auths,
                            size_t count,
                            const char *certificate,
                            const char *chain,
                            const char *bundle);

/* in-toto statements ------------------------------------------------------- */

typedef struct tg_intoto_statement tg_intoto_statement;

/*
 * Parse a statement: _type v0.1 or v1, 1..TG_MAX_INTOTO_SUBJECTS subjects
 * each with a digest object of string values, predicateType a non-empty
 * string, predicate an object when present. 0, TG_EPARSE, TG_ETOOBIG.
 */
int tg_intoto_statement_parse(tg_intoto_statement **out,
                              const unsigned char *data,
                              size_t len);
void tg_intoto_statement_free(tg_intoto_statement *s);
const char *tg_intoto_statement_type(const tg_intoto_statement *s);
const char *tg_intoto_statement_predicate_type(const tg_intoto_statement *s);
/* The predicate (borrowed; an empty object when the statement has none). */
json_t *tg_intoto_statement_predicate(const tg_intoto_statement *s);
size_t tg_intoto_statement_subject_count(const tg_intoto_statement *s);
/* True when a subject's digest map holds digest ("sha256:<hex>" matches
 * {"sha256": "<hex>"}; hex compared case-insensitively). */
bool tg_intoto_statement_has_subject(const tg_intoto_statement *s,
                                     const char *digest);

/* The name of the first subject whose digest is digest (borrowed); NULL
 * when none has it or it has no name. */
const char *tg_intoto_statement_subject_name(const tg_intoto_statement *s,
                                             const char *digest);

/* Attestations ------------------------------------------------------------- */

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
int tg_attestation_verify(tg_attestation **out,
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
int tg_attestation_from_statement(tg_attestation **out,
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
/* The layer (envelope) digest, for evidence; "" when unknown. */
const char *tg_attestation_digest(const tg_attestation *a);

#endif
