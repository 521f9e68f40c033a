/* SBOM predicates (SPDX, CycloneDX): tg_sbom_check with denied licenses
 * and packages (version constraints) set, and the predicate's time, as
 * the verifier checks an SBOM attestation. */
#include "fuzz.h"
#include "predicate_doc.h"
#include "tollgate/check.h"
#include "tollgate/predicate.h"
#include "tollgate/sbom.h"

static const char *const licenses[] = { "GPL-3.0-only", "AGPL-3.0-or-later",
	                                "SSPL-1.0" };
static const tg_policy_denied_package packages[] = {
	{ "openssl", ">=3.0.0, <3.0.12" },
	{ "log4j-core", "<2.17.1" },
	{ "left-pad", NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_policy_sbom s = { .present = true,
		             .required = true,
		             .formats = TG_SBOM_FORMAT_SPDX |
		                        TG_SBOM_FORMAT_CYCLONEDX,
		             .denied_licenses = licenses,
		             .ndenied_licenses = 3,
		             .denied_packages = packages,
		             .ndenied_packages = 3 };
	tg_predicate_kind kinds[2] = { TG_PREDICATE_SPDX,
		                       TG_PREDICATE_CYCLONEDX };
	const json_t *pred;
	const char *type;
	json_t *doc = fuzz_predicate_doc(&pred, &type, data, size);
	tg_check *check = NULL;
	int64_t t;
	size_t i;

	if (!doc)
		return 0;
	if (type && tg_predicate_kind_of(type) != TG_PREDICATE_UNKNOWN)
		kinds[0] = kinds[1] = tg_predicate_kind_of(type);
	for (i = 0; i < 2; i++) {
		tg_discard(tg_predicate_time(&t, kinds[i], pred));
		if (tg_sbom_check(&check, kinds[i], pred, &s) == 0)
			(void)tg_check_passed(check);
		tg_check_free(check);
		check = NULL;
	}
	json_decref(doc);
	return 0;
}
