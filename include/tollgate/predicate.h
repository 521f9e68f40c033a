/*
 * Attestation predicate checks (DESIGN.md 3.3, issue 5): SBOM (SPDX 2.x,
 * CycloneDX 1.4-1.6), vulnerability scans (cosign vuln/v1 carrying Trivy
 * or Grype JSON), SLSA provenance (v0.2, v1), and the image age.
 *
 * Each check is a pure function of the predicate JSON (the in-toto
 * statement's "predicate" member, already verified and decoded by the
 * caller), the rule's settings from policy.h and, where time matters, now.
 * It never fails for a bad document: a malformed or unrecognised
 * predicate is a failed check with a reason, never a pass. The result
 * (tg_check) holds pass/fail, every reason, and evidence JSON for the
 * status documents.
 *
 * Implemented in verify/predicates/check.c, sbom.c, vuln.c, provenance.c.
 */
#ifndef TOLLGATE_PREDICATE_H
#define TOLLGATE_PREDICATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/policy.h"

/* Result of one check --------------------------------------------------- */

typedef struct tg_check tg_check;

/* A new check named name ("sbom", "vulnerabilities", "provenance",
 * "age", "signature", ...), passing, with empty evidence {}. */
tg_check *tg_check_new(const char *name);
void tg_check_free(tg_check *check);

/* Record a reason and mark the check failed. */
void tg_check_fail(tg_check *check, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Record a note that does not fail the check (e.g. "CVE-x ignored by
 * policy", "waived by exception X"). */
void tg_check_note(tg_check *check, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

const char *tg_check_name(const tg_check *check);
bool tg_check_passed(const tg_check *check);
size_t tg_check_reason_count(const tg_check *check);
const char *tg_check_reason(const tg_check *check, size_t i);
size_t tg_check_note_count(const tg_check *check);
const char *tg_check_note_at(const tg_check *check, size_t i);
/* Evidence object: borrowed; json_incref() to keep it, or add members. */
json_t *tg_check_evidence(const tg_check *check);
/* {"check": name, "passed": bool, "reasons": [...], "notes": [...],
 *  "evidence": {...}}: a new reference. */
json_t *tg_check_to_json(const tg_check *check);

/* Predicate types --------------------------------------------------------- */

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
int tg_predicate_time(int64_t *out,
                      tg_predicate_kind kind,
                      const json_t *predicate);

/* SBOM ------------------------------------------------------------------- */

/*
 * Check an SBOM predicate against attestations.sbom: the format must be in
 * formats, no package may carry a denied license, no package may match a
 * denied package. Licenses: SPDX packages' licenseConcluded and
 * licenseDeclared, CycloneDX components' licenses[].license.id and
 * licenses[].expression (components nested in components are included).
 * An expression is split into its license ids ("MIT OR GPL-3.0-only" has
 * MIT and GPL-3.0-only; WITH exceptions and "+" are dropped from the id);
 * a denied id ANYWHERE in an expression fails, even under OR, because the
 * SBOM does not say which branch the product uses. Ids compare
 * case-insensitively (SPDX ids are case-insensitive).
 * Evidence: {"format", "specVersion", "packages": N,
 * "deniedLicenses": [{"package", "version", "license"}],
 * "deniedPackages": [{"package", "version", "constraint"}]}.
 * *out is always set; returns 0.
 */
int tg_sbom_check(tg_check **out,
                  tg_predicate_kind kind,
                  const json_t *predicate,
                  const tg_policy_sbom *settings);

/*
 * Versions as in deniedPackages: compared component by component, split on
 * '.', '-' and '+' after an optional leading 'v'; numeric components
 * numerically, others by byte order; a numeric component sorts before a
 * non-numeric one; a version with a pre-release ("1.2.3-rc1") sorts before
 * the release ("1.2.3"); build metadata after '+' is ignored. Returns <0,
 * 0, >0.
 */
int tg_version_compare(const char *a, const char *b);

/*
 * A constraint is one or more comparisons separated by commas, all of which
 * must hold: "<1.2.3", "<=1.2.3", ">1.0", ">=1.0, <1.4", "=1.2.3", "!=2.0",
 * or a bare version meaning "=". 0, or TG_EINVALID with a message.
 */
int tg_version_constraint_check(const char *constraint);
/* Whether version satisfies constraint (false for an invalid one). */
bool tg_version_satisfies(const char *version, const char *constraint);

/* Vulnerabilities --------------------------------------------------------- */

/*
 * Check a cosign vuln/v1 predicate: scanner.result holds Trivy JSON
 * (Results[].Vulnerabilities[] with VulnerabilityID, Severity) or Grype
 * JSON (matches[].vulnerability with id, severity); anything else fails
 * ("unknown scanner result format"). A finding fails when its severity is
 * above max_severity and its id is in neither settings->ignore nor
 * waived_cves (ids from active exceptions; compared case-insensitively).
 * The scan fails when metadata.scanFinishedOn is older than max_scan_age
 * at now, or missing while max_scan_age is set. The same id found in
 * several packages counts once.
 * Evidence: {"scanner": {"uri", "version", "db"}, "scanFinishedOn",
 * "format": "trivy"|"grype", "counts": {"critical": N, "high": N,
 * "medium": N, "low": N, "negligible": N, "unknown": N}, "aboveThreshold":
 * [ids], "ignored": [ids], "waived": [ids]}.
 * *out is always set; returns 0.
 */
int tg_vuln_check(tg_check **out,
                  const json_t *predicate,
                  const tg_policy_vulns *settings,
                  const char *const *waived_cves,
                  size_t nwaived,
                  int64_t now);

/* Provenance -------------------------------------------------------------- */

/*
 * Check SLSA provenance against attestations.provenance: builder id
 * (v0.2 builder.id; v1 runDetails.builder.id) and source repository
 * (v0.2 invocation.configSource.uri, else materials[0].uri; v1
 * buildDefinition.externalParameters.workflow.repository, else
 * externalParameters.source / .repository (string, or object with
 * "uri"), else the first resolvedDependencies[].uri). A condition that is
 * set and cannot be read fails. URIs are compared as written, and also
 * without a "git+" scheme prefix and without a trailing "@ref" so
 * "git+https://github.com/acme/api@refs/heads/main" satisfies
 * sourceRepository "https://github.com/acme/api".
 * Evidence: {"slsaVersion", "builderId", "sourceRepository",
 * "buildType"}.
 * *out is always set; returns 0.
 */
int tg_provenance_check(tg_check **out,
                        tg_predicate_kind kind,
                        const json_t *predicate,
                        const tg_policy_provenance *settings);

/* Image age --------------------------------------------------------------- */

/*
 * maxImageAge: the image config's "created" (RFC 3339) must be at most
 * max_age seconds before now. A missing or bad "created" fails (fail
 * closed: the image's age cannot be shown). max_age 0: always passes,
 * with evidence still filled. Evidence: {"created", "ageSeconds",
 * "maxAgeSeconds"}. *out is always set; returns 0.
 */
int tg_image_age_check(tg_check **out,
                       const json_t *config,
                       int64_t max_age,
                       int64_t now);

#endif
