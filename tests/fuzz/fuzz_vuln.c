/* Vulnerability scan predicates (cosign vuln/v1 with a Trivy or Grype
 * result): tg_vuln_check with a severity threshold, ignored and waived
 * ids and a scan age, and the predicate's time. */
#include "fuzz.h"
#include "predicate_doc.h"
#include "tollgate/check.h"
#include "tollgate/predicate.h"
#include "tollgate/vuln.h"

static const char *const ignored[] = { "CVE-2023-0002", "GHSA-xxxx-yyyy-zzzz" };
static const char *const waived[] = { "cve-2024-0001" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_policy_vulns v = { .present = true,
		              .required = true,
		              .max_severity = TG_SEVERITY_MEDIUM,
		              .max_scan_age = 7 * 86400,
		              .ignore = ignored,
		              .nignore = 2 };
	const json_t *pred;
	const char *type;
	json_t *doc = fuzz_predicate_doc(&pred, &type, data, size);
	tg_check *check = NULL;
	int64_t t;

	if (!doc)
		return 0;
	tg_discard(tg_predicate_time(&t, TG_PREDICATE_VULN, pred));
	if (tg_vuln_check(&check, pred, &v, waived, 1, 1767225600) == 0)
		(void)tg_check_passed(check);
	tg_check_free(check);
	json_decref(doc);
	return 0;
}
