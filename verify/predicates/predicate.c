/*
 * Predicate types and the time a predicate speaks for
 * (include/tollgate/predicate.h).
 */
#include <string.h>

#include "tollgate/error.h"
#include "tollgate/predicate.h"
#include "tollgate/util.h"

/* Whether t is base itself or base + "/v" + a version ("/v2.3"). */
static bool type_is(const char *t, const char *base)
{
	size_t n = strlen(base);
	const char *v;

	if (strncmp(t, base, n) != 0)
		return false;
	if (t[n] == '\0')
		return true;
	if (t[n] != '/' || t[n + 1] != 'v' || t[n + 2] == '\0')
		return false;
	for (v = t + n + 2; *v; v++) {
		if (!((*v >= '0' && *v <= '9') || *v == '.'))
			return false;
	}
	return true;
}

tg_predicate_kind tg_predicate_kind_of(const char *predicate_type)
{
	const char *t = predicate_type;

	if (t == NULL)
		return TG_PREDICATE_UNKNOWN;
	if (type_is(t, "https://spdx.dev/Document"))
		return TG_PREDICATE_SPDX;
	if (type_is(t, "https://cyclonedx.org/bom"))
		return TG_PREDICATE_CYCLONEDX;
	/* cosign's own constant omits the scheme; what "cosign attest
	 * --type vuln" writes has it. Both are in use. */
	if (strcmp(t, TG_PREDICATE_TYPE_VULN) == 0 ||
	    strcmp(t, "cosign.sigstore.dev/attestation/vuln/v1") == 0)
		return TG_PREDICATE_VULN;
	if (strcmp(t, TG_PREDICATE_TYPE_SLSA_V02) == 0)
		return TG_PREDICATE_SLSA_V02;
	if (strcmp(t, TG_PREDICATE_TYPE_SLSA_V1) == 0)
		return TG_PREDICATE_SLSA_V1;
	return TG_PREDICATE_UNKNOWN;
}

const char *tg_predicate_kind_name(tg_predicate_kind kind)
{
	switch (kind) {
	case TG_PREDICATE_SPDX:
		return "spdx";
	case TG_PREDICATE_CYCLONEDX:
		return "cyclonedx";
	case TG_PREDICATE_VULN:
		return "vulnerabilities";
	case TG_PREDICATE_SLSA_V02:
		return "slsa-v0.2";
	case TG_PREDICATE_SLSA_V1:
		return "slsa-v1";
	default:
		return "unknown";
	}
}

/* RFC 3339 time at obj.a.b (b may be NULL); TG_ENOTFOUND otherwise. */
static int
time_at(int64_t *out, const json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);

	if (b != NULL)
		v = json_object_get(v, b);
	if (!json_is_string(v) || tg_parse_rfc3339(out, json_string_value(v)))
		return TG_ENOTFOUND;
	return 0;
}

int tg_predicate_time(int64_t *out,
                      tg_predicate_kind kind,
                      const json_t *predicate)
{
	json_t *md;

	*out = 0;
	switch (kind) {
	case TG_PREDICATE_VULN:
		if (time_at(out, predicate, "metadata", "scanFinishedOn") == 0)
			return 0;
		return time_at(out, predicate, "metadata", "scanStartedOn");
	case TG_PREDICATE_SPDX:
		return time_at(out, predicate, "creationInfo", "created");
	case TG_PREDICATE_CYCLONEDX:
		return time_at(out, predicate, "metadata", "timestamp");
	case TG_PREDICATE_SLSA_V02:
		if (time_at(out, predicate, "metadata", "buildFinishedOn") == 0)
			return 0;
		return time_at(out, predicate, "metadata", "buildStartedOn");
	case TG_PREDICATE_SLSA_V1:
		md = json_object_get(json_object_get(predicate, "runDetails"),
		                     "metadata");
		if (time_at(out, md, "finishedOn", NULL) == 0)
			return 0;
		return time_at(out, md, "startedOn", NULL);
	default:
		return TG_ENOTFOUND;
	}
}
