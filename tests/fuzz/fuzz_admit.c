/* The admit stage's workload rules over parsed manifests, as the plan
 * runs them: two units (the input split at its first NUL byte, each part
 * a YAML file of its own unit) decided by tg_plan_decide_all, so the Pod
 * Security Standards run on every pod spec the manifests stage found and
 * the NetworkPolicy coverage is settled across the units. The first byte
 * picks the policy (examples/policies/workloads.yaml: restricted latest,
 * default-deny Ingress; tests/fuzz/material/admit-policy.yaml: baseline
 * v1.18 in warn mode, restricted v1.34 with default-deny both ways,
 * exceptions). Every decision is serialised, as the status is. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "tollgate/admit.h"
#include "tollgate/error.h"
#include "tollgate/manifest.h"
#include "tollgate/plan.h"
#include "tollgate/policy.h"

static tg_policy *policies[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[] = {
		TG_FUZZ_SOURCE_DIR "/examples/policies/workloads.yaml",
		TG_FUZZ_SOURCE_DIR "/tests/fuzz/material/admit-policy.yaml"
	};
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < 2; i++)
		if (tg_policy_load(&policies[i], files[i]) < 0)
			abort(); /* a target without its policy fuzzes nothing
			          */
	return 0;
}

/* Decide every unit of set under policy p, as the cycle does. */
static void decide(const tg_manifest_set *set, const tg_policy *p)
{
	tg_admit_options ao = { 0 };
	tg_plan_admission adm = { &ao, p };
	tg_plan_decisions d;
	tg_cycle_result r;
	size_t u;

	memset(&r, 0, sizeof(r));
	ao.inventory_namespace = "tollgate-system";
	ao.now = 1767225600; /* 2026-01-01: one exception active, one not */
	ao.netpol_cache = json_object();
	tg_plan_decide_all(&d, &r, set, NULL, &adm);
	for (u = 0; u < d.n; u++)
		free(json_dumps(d.entries[u], JSON_COMPACT));
	tg_plan_decisions_free(&d);
	json_decref(ao.netpol_cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_manifest_set *set = NULL;
	const uint8_t *b;
	size_t a_len, b_len;

	if (size < 1)
		return 0;
	fuzz_split(&a_len, &b, &b_len, data + 1, size - 1, 0);
	if (tg_manifest_set_new(&set, NULL) < 0)
		return 0;
	/* invalid files make their unit invalid, not the set */
	tg_discard(tg_manifest_set_add_file(set, "shop/a.yaml",
	                                    (const char *)data + 1, a_len));
	tg_discard(tg_manifest_set_add_file(set, "net/b.yaml", (const char *)b,
	                                    b_len));
	decide(set, policies[data[0] % 2]);
	tg_manifest_set_free(set);
	return 0;
}
