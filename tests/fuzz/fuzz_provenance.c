/* SLSA provenance predicates (v0.2, v1): tg_provenance_check with builder
 * and source repository conditions (exact and regexp), and the
 * predicate's time. */
#include <stdlib.h>

#include "fuzz.h"
#include "predicate_doc.h"
#include "tollgate/check.h"
#include "tollgate/policy.h"
#include "tollgate/predicate.h"
#include "tollgate/provenance.h"

static tg_regexp *builder_re;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return tg_regexp_compile(&builder_re,
	                         "^https://github\\.com/slsa-framework/.*") < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_policy_provenance p[2] = {
		{ .present = true,
		  .required = true,
		  .builder_id = "https://tekton.dev/chains/v2",
		  .source_repository = "https://github.com/acme/api" },
		{ .present = true,
		  .required = true,
		  .builder_id_regexp = builder_re,
		  .source_repository_regexp = builder_re },
	};
	tg_predicate_kind kinds[2] = { TG_PREDICATE_SLSA_V02,
		                       TG_PREDICATE_SLSA_V1 };
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
		if (tg_provenance_check(&check, kinds[i], pred, &p[i]) == 0)
			(void)tg_check_passed(check);
		tg_check_free(check);
		check = NULL;
	}
	json_decref(doc);
	return 0;
}
