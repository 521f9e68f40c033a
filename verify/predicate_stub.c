/* Temporary stubs of predicate.h until sbom.c, vuln.c, provenance.c land:
 * every check fails closed. */
#include "tollgate/error.h"
#include "tollgate/predicate.h"

tg_predicate_kind tg_predicate_kind_of(const char *predicate_type)
{
	(void)predicate_type;
	return TG_PREDICATE_UNKNOWN;
}

const char *tg_predicate_kind_name(tg_predicate_kind kind)
{
	(void)kind;
	return "unknown";
}

int tg_predicate_time(int64_t *out, tg_predicate_kind kind,
		      const json_t *predicate)
{
	(void)kind;
	(void)predicate;
	*out = 0;
	return TG_ENOTFOUND;
}

int tg_sbom_check(tg_check **out, tg_predicate_kind kind,
		  const json_t *predicate, const tg_policy_sbom *settings)
{
	(void)kind;
	(void)predicate;
	(void)settings;
	*out = tg_check_new("sbom");
	tg_check_fail(*out, "SBOM checks not implemented yet");
	return 0;
}

int tg_version_compare(const char *a, const char *b)
{
	(void)a;
	(void)b;
	return 0;
}

int tg_version_constraint_check(const char *constraint)
{
	(void)constraint;
	return TG_EINVALID;
}

bool tg_version_satisfies(const char *version, const char *constraint)
{
	(void)version;
	(void)constraint;
	return false;
}

int tg_vuln_check(tg_check **out, const json_t *predicate,
		  const tg_policy_vulns *settings,
		  const char *const *waived_cves, size_t nwaived, int64_t now)
{
	(void)predicate;
	(void)settings;
	(void)waived_cves;
	(void)nwaived;
	(void)now;
	*out = tg_check_new("vulnerabilities");
	tg_check_fail(*out, "vulnerability checks not implemented yet");
	return 0;
}

int tg_provenance_check(tg_check **out, tg_predicate_kind kind,
			const json_t *predicate,
			const tg_policy_provenance *settings)
{
	(void)kind;
	(void)predicate;
	(void)settings;
	*out = tg_check_new("provenance");
	tg_check_fail(*out, "provenance checks not implemented yet");
	return 0;
}

int tg_image_age_check(tg_check **out, const json_t *config, int64_t max_age,
		       int64_t now)
{
	(void)config;
	(void)max_age;
	(void)now;
	*out = tg_check_new("age");
	tg_check_fail(*out, "image age checks not implemented yet");
	return 0;
}
