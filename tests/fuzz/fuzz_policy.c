/* The policy file: tg_policy_parse, the bytes form of tg_policy_load, with
 * its keys and trust roots resolved against tests/data/policy/good (so
 * the keys the corpus names load), then the hash the verdict cache uses. */
#include "fuzz.h"
#include "tollgate/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_policy *policy = NULL;

	if (tg_policy_parse(&policy, "policy.yaml", (const char *)data, size,
	                    TG_FUZZ_SOURCE_DIR "/tests/data/policy/good") < 0)
		return 0;
	(void)tg_policy_hash(policy);
	(void)tg_policy_registry_allowed(policy, "ghcr.io");
	tg_policy_free(policy);
	return 0;
}
