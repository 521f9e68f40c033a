/*
 * Predicate types, the time a predicate speaks for, and the image age
 * check (include/tollgate/predicate.h).
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

/* "90d", "12h", "1d6h", "45s": a duration as the policy writes it. */
static void format_duration(char *buf, size_t size, int64_t secs)
{
	static const struct {
		char unit;
		int64_t len;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < 4 && n + 1 < size; i++) {
		int w;

		if (secs < units[i].len && !(secs == 0 && n == 0 && i == 3))
			continue;
		w = snprintf(buf + n, size - n, "%lld%c",
		             (long long)(secs / units[i].len), units[i].unit);
		if (w < 0)
			break;
		n += (size_t)w;
		secs %= units[i].len;
	}
}

int tg_image_age_check(tg_check **out,
                       const json_t *config,
                       int64_t max_age,
                       int64_t now)
{
	tg_check *c = tg_check_new("age");
	json_t *ev = tg_check_evidence(c);
	json_t *created = json_object_get(config, "created");
	int64_t t;
	char when[21], dur[64];

	*out = c;
	json_object_set_new(ev, "maxAgeSeconds", json_integer(max_age));
	if (!json_is_string(created) ||
	    tg_parse_rfc3339(&t, json_string_value(created)) < 0) {
		if (max_age > 0)
			tg_check_fail(c, "image config has no valid "
			                 "\"created\" time, so its age cannot "
			                 "be checked against maxImageAge");
		return 0;
	}
	json_object_set_new(ev, "created",
	                    json_string(json_string_value(created)));
	json_object_set_new(ev, "ageSeconds", json_integer(now - t));
	if (max_age > 0 && now - t > max_age) {
		tg_format_rfc3339(when, t);
		format_duration(dur, sizeof(dur), max_age);
		tg_check_fail(c,
		              "image created %s is older than maxImageAge "
		              "%s; rebuild it or waive age by exception",
		              when, dur);
	}
	return 0;
}
