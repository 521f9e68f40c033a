/*
 * Vulnerability-scan predicates (cosign vuln/v1 carrying Trivy or Grype
 * JSON) checked against attestations.vulnerabilities.
 *
 * Implemented in verify/predicates/vuln.c.
 */
#ifndef TOLLGATE_VULN_H
#define TOLLGATE_VULN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/check.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"

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
TG_WUR int tg_vuln_check(tg_check **out,
                         const json_t *predicate,
                         const tg_policy_vulns *settings,
                         const char *const *waived_cves,
                         size_t nwaived,
                         int64_t now);

#endif
