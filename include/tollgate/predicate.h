/*
 * Attestation predicates (DESIGN.md 3.3, issue 5): the in-toto
 * predicateTypes tollgate knows and the time a predicate speaks for.
 *
 * The checks on predicates are in sbom.h (SPDX 2.x, CycloneDX 1.4-1.6),
 * vuln.h (cosign vuln/v1 carrying Trivy or Grype JSON) and provenance.h
 * (SLSA v0.2, v1). Each is a pure function of the predicate JSON (the
 * in-toto statement's "predicate" member, already verified and decoded by
 * the caller), the rule's settings from policy.h and, where time matters,
 * now. It never fails for a bad document: a malformed or unrecognised
 * predicate is a failed check (check.h) with a reason, never a pass.
 *
 * Implemented in verify/predicates/predicate.c.
 */
#ifndef TOLLGATE_PREDICATE_H
#define TOLLGATE_PREDICATE_H

#include <stdint.h>

#include <jansson.h>

#include "tollgate/error.h"

#define TG_PREDICATE_TYPE_VULN "https://cosign.sigstore.dev/attestation/vuln/v1"
#define TG_PREDICATE_TYPE_SLSA_V02 "https://slsa.dev/provenance/v0.2"
#define TG_PREDICATE_TYPE_SLSA_V1 "https://slsa.dev/provenance/v1"

typedef enum {
	TG_PREDICATE_UNKNOWN = 0,
	TG_PREDICATE_SPDX,      /* https://spdx.dev/Document[/vX.Y] */
	TG_PREDICATE_CYCLONEDX, /* https://cyclonedx.org/bom[/vX.Y] */
	TG_PREDICATE_VULN,      /* cosign vuln/v1 */
	TG_PREDICATE_SLSA_V02,  /* https://slsa.dev/provenance/v0.2 */
	TG_PREDICATE_SLSA_V1,   /* https://slsa.dev/provenance/v1 */
} tg_predicate_kind;

/* Classify an in-toto predicateType (NULL is unknown). */
tg_predicate_kind tg_predicate_kind_of(const char *predicate_type);

/* "spdx", "cyclonedx", "vulnerabilities", "slsa-v0.2", "slsa-v1". */
const char *tg_predicate_kind_name(tg_predicate_kind kind);

/*
 * The time a predicate speaks for, to pick the newest of several
 * attestations of one type: vuln metadata.scanFinishedOn (else
 * scanStartedOn); SPDX creationInfo.created; CycloneDX metadata.timestamp;
 * SLSA v0.2 metadata.buildFinishedOn (else buildStartedOn); SLSA v1
 * runDetails.metadata.finishedOn (else startedOn). 0 with Unix time, or
 * TG_ENOTFOUND (no such field, or not RFC 3339).
 */
TG_WUR int tg_predicate_time(int64_t *out,
                             tg_predicate_kind kind,
                             const json_t *predicate);

#endif
