/*
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1):
 * a payload, its type, and signatures over the pre-authentication encoding
 * (PAE) of both. cosign stores attestations in them (attestation.h); the
 * payload is then an in-toto statement (intoto.h).
 */
#ifndef TOLLGATE_DSSE_H
#define TOLLGATE_DSSE_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/authority.h"
#include "tollgate/error.h"

#define TG_DSSE_MEDIA_TYPE "application/vnd.dsse.envelope.v1+json"

typedef struct tg_dsse_envelope tg_dsse_envelope;

/*
 * Parse an envelope {payloadType, payload (base64), signatures: [{keyid,
 * sig (base64)}]}: at most TG_MAX_DSSE_ENVELOPE_BYTES, duplicate keys
 * rejected, 1..TG_MAX_DSSE_SIGNATURES signatures. Standard and URL-safe
 * base64 are both accepted, as the DSSE spec asks. 0, TG_EPARSE, TG_ETOOBIG.
 */
TG_WUR int tg_dsse_envelope_parse(tg_dsse_envelope **out,
                                  const unsigned char *data,
                                  size_t len);
void tg_dsse_envelope_free(tg_dsse_envelope *e);
const char *tg_dsse_envelope_payload_type(const tg_dsse_envelope *e);
/* The decoded payload, borrowed. */
const unsigned char *tg_dsse_envelope_payload(size_t *len_out,
                                              const tg_dsse_envelope *e);
size_t tg_dsse_envelope_signature_count(const tg_dsse_envelope *e);
/* keyid of signature i ("" when absent), borrowed. */
const char *tg_dsse_envelope_keyid(const tg_dsse_envelope *e, size_t i);
/* Decoded signature i, borrowed. */
const unsigned char *tg_dsse_envelope_signature(size_t *len_out,
                                                const tg_dsse_envelope *e,
                                                size_t i);

/*
 * The pre-authentication encoding the signatures cover:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII
 * decimal. *out is malloc'd. Always 0.
 */
TG_WUR int tg_dsse_pae(unsigned char **out,
                       size_t *out_len,
                       const char *type,
                       const unsigned char *body,
                       size_t body_len);

/*
 * Does any signature of e verify over the PAE with any of the authorities?
 * 0 with *authority_out (index into auths), *signer_out (heap) and
 * *until_out (when that verification stops holding: tg_authority_verify)
 * of the first that does; TG_EUNTRUSTED with every failure in the message.
 * certificate, chain and bundle come from the layer annotations (keyless).
 */
TG_WUR int tg_dsse_envelope_verify(size_t *authority_out,
                                   char **signer_out,
                                   int64_t *until_out,
                                   const tg_dsse_envelope *e,
                                   const tg_authority *auths,
                                   size_t count,
                                   const char *certificate,
                                   const char *chain,
                                   const char *bundle);

#endif
