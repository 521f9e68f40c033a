/*
 * SLSA provenance predicates (v0.2, v1) checked against
 * attestations.provenance.
 *
 * Implemented in verify/predicates/provenance.c.
 */
#ifndef TOLLGATE_PROVENANCE_H
#define TOLLGATE_PROVENANCE_H

#include <jansson.h>

#include "tollgate/check.h"
#include "tollgate/error.h"
#include "tollgate/policy.h"
#include "tollgate/predicate.h"

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
TG_WUR int tg_provenance_check(tg_check **out,
                               tg_predicate_kind kind,
                               const json_t *predicate,
                               const tg_policy_provenance *settings);

#endif
