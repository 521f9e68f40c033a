/*
 * SBOM predicates (SPDX 2.x, CycloneDX 1.4-1.6) checked against
 * attestations.sbom, and the package versions of deniedPackages.
 *
 * Implemented in verify/predicates/sbom.c.
 */
#ifndef TOLLGATE_SBOM_H
#define TOLLGATE_SBOM_H

#include <stdbool.h>

#include <jansson.h>

#include "tollgate/check.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/predicate.h"

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
TG_WUR int tg_sbom_check(tg_check **out,
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
TG_WUR int tg_version_compare(const char *a, const char *b);

/*
 * A constraint is one or more comparisons separated by commas, all of which
 * must hold: "<1.2.3", "<=1.2.3", ">1.0", ">=1.0, <1.4", "=1.2.3", "!=2.0",
 * or a bare version meaning "=". 0, or TG_EINVALID with a message.
 */
TG_WUR int tg_version_constraint_check(const char *constraint);
/* Whether version satisfies constraint (false for an invalid one). */
bool tg_version_satisfies(const char *version, const char *constraint);

#endif
