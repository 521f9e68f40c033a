/*
 * Vulnerability-scan predicate checks: cosign's vuln/v1 predicate
 * carrying Trivy or Grype JSON in scanner.result
 * (include/tollgate/vuln.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/vuln.h"
#include "tollgate/util.h"

/* Report buckets, in the order the evidence lists them. */
static const char *const buckets[] = { "critical", "high",       "medium",
	                               "low",      "negligible", "unknown" };

/*
 * A scanner's severity label to a policy rank and a bucket. Trivy writes
 * UNKNOWN LOW MEDIUM HIGH CRITICAL; Grype Negligible Low Medium High
 * Critical Unknown; GitHub advisories say "moderate". Negligible counts as
 * low; unknown (or an unrecognised label) counts as high, so an unrated
 * finding is not waved through by maxSeverity: medium.
 */
static tg_severity severity_of(const char *label, const char **bucket)
{
	static const struct {
		const char *label;
		tg_severity sev;
		const char *bucket;
	} map[] = { { "critical", TG_SEVERITY_CRITICAL, "critical" },
		    { "high", TG_SEVERITY_HIGH, "high" },
		    { "medium", TG_SEVERITY_MEDIUM, "medium" },
		    { "moderate", TG_SEVERITY_MEDIUM, "medium" },
		    { "low", TG_SEVERITY_LOW, "low" },
		    { "negligible", TG_SEVERITY_LOW, "negligible" } };
	size_t i;

	for (i = 0; label != NULL && i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcasecmp(label, map[i].label) == 0) {
			*bucket = map[i].bucket;
			return map[i].sev;
		}
	}
	*bucket = "unknown";
	return TG_SEVERITY_HIGH;
}

static const char *str_or_null(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * Add one finding to the set (id -> {"rank", "bucket", "aliases"}),
 * keeping the highest severity when an id repeats (one CVE in several
 * packages counts once).
 */
static void add_finding(json_t *set,
                        const char *id,
                        const char *label,
                        const json_t *aliases)
{
	const char *bucket;
	tg_severity sev = severity_of(label, &bucket);
	json_t *f = json_object_get(set, id);

	if (f != NULL &&
	    json_integer_value(json_object_get(f, "rank")) >= (json_int_t)sev)
		return;
	f = json_pack("{s:I, s:s, s:O}", "rank", (json_int_t)sev, "bucket",
	              bucket, "aliases",
	              aliases ? (json_t *)aliases : json_null());
	json_object_set_new(set, id, f);
}

/* Trivy: Results[].Vulnerabilities[] {VulnerabilityID, Severity}. */
static void trivy_findings(json_t *set, const json_t *result)
{
	json_t *r, *v;
	size_t i, j;

	json_array_foreach(json_object_get(result, "Results"), i, r) {
		json_array_foreach(json_object_get(r, "Vulnerabilities"), j,
		                   v) {
			const char *id = str_or_null(v, "VulnerabilityID");

			if (id != NULL)
				add_finding(set, id, str_or_null(v, "Severity"),
				            NULL);
		}
	}
}

/* Grype: matches[].vulnerability {id, severity}; relatedVulnerabilities
 * give the CVE ids of a GHSA, so ignore/cves lists naming the CVE cover
 * it. */
static void grype_findings(json_t *set, const json_t *result)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(result, "matches"), i, m) {
		json_t *v = json_object_get(m, "vulnerability");
		const char *id = str_or_null(v, "id");

		if (id != NULL)
			add_finding(
			        set, id, str_or_null(v, "severity"),
			        json_object_get(m, "relatedVulnerabilities"));
	}
}

/* "trivy", "grype", or NULL for a shape we do not know. */
static const char *result_format(const json_t *result)
{
	if (!json_is_object(result))
		return NULL;
	if (json_is_array(json_object_get(result, "matches")))
		return "grype";
	if (json_is_array(json_object_get(result, "Results")) ||
	    (json_is_integer(json_object_get(result, "SchemaVersion")) &&
	     json_object_get(result, "ArtifactName") != NULL &&
	     json_object_get(result, "Results") == NULL))
		return "trivy";
	return NULL;
}

static bool id_listed(const char *id, const char *const *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcasecmp(id, ids[i]) == 0)
			return true;
	}
	return false;
}

/* Whether the finding id (or one of its aliases) is in ids. */
static bool finding_listed(const char *id,
                           const json_t *f,
                           const char *const *ids,
                           size_t n)
{
	json_t *a;
	size_t i;

	if (id_listed(id, ids, n))
		return true;
	json_array_foreach(json_object_get(f, "aliases"), i, a) {
		const char *alias = str_or_null(a, "id");

		if (alias != NULL && id_listed(alias, ids, n))
			return true;
	}
	return false;
}

typedef struct vuln_state {
	tg_check *check;
	const tg_policy_vulns *settings;
	const char *const *waived;
	size_t nwaived;
	json_t *above; /* evidence arrays, borrowed from the check */
	json_t *ignored;
	json_t *waived_ids;
	size_t nabove;
	tg_buf reason; /* "CVE-1 (critical), CVE-2 (high), ..." */
} vuln_state;

/* Append id to an evidence list, capped. */
static void list_add(json_t *list, const char *id)
{
	if (json_array_size(list) < TG_MAX_CHECK_FINDINGS)
		json_array_append_new(list, json_string(id));
}

/* Sort one finding: below the threshold, ignored, waived, or above. */
static void classify(vuln_state *st, const char *id, const json_t *f)
{
	const tg_policy_vulns *s = st->settings;
	json_int_t rank = json_integer_value(json_object_get(f, "rank"));

	if (rank <= (json_int_t)s->max_severity)
		return;
	if (finding_listed(id, f, s->ignore, s->nignore)) {
		list_add(st->ignored, id);
		tg_check_note(st->check, "%.100s ignored by the policy", id);
		return;
	}
	if (finding_listed(id, f, st->waived, st->nwaived)) {
		list_add(st->waived_ids, id);
		tg_check_note(st->check, "%.100s waived by an exception", id);
		return;
	}
	list_add(st->above, id);
	/* Cannot pass the buffer's TG_ERROR_MAX: at most
	 * TG_VULN_IDS_IN_REASON ids of at most 100 bytes. Were it cut, the
	 * check still fails and the evidence lists every id. */
	if (st->nabove < TG_VULN_IDS_IN_REASON)
		tg_discard(tg_buf_printf(
		        &st->reason, "%s%.100s (%s)", st->nabove ? ", " : "",
		        id, json_string_value(json_object_get(f, "bucket"))));
	st->nabove++;
}

/* Count by bucket and classify every finding of the set. */
static void evaluate_findings(vuln_state *st, const json_t *set)
{
	json_t *counts = json_object(), *f;
	const char *id;
	size_t i;

	for (i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
		json_object_set_new(counts, buckets[i], json_integer(0));
	json_object_foreach((json_t *)set, id, f) {
		const char *b = json_string_value(json_object_get(f, "bucket"));

		json_object_set_new(
		        counts, b,
		        json_integer(
		                json_integer_value(json_object_get(counts, b)) +
		                1));
		classify(st, id, f);
	}
	json_object_set_new(tg_check_evidence(st->check), "counts", counts);
	if (st->nabove == 0)
		return;
	tg_check_fail(st->check, "%zu %s above maxSeverity %s: %s%s",
	              st->nabove,
	              st->nabove == 1 ? "vulnerability" : "vulnerabilities",
	              tg_severity_name(st->settings->max_severity),
	              st->reason.data ? st->reason.data : "",
	              st->nabove > TG_VULN_IDS_IN_REASON ? ", ..." : "");
}

/* scanFinishedOn against maxScanAge and the clock. */
static void
check_scan_time(vuln_state *st, const json_t *predicate, int64_t now)
{
	int64_t t;
	const char *when = str_or_null(json_object_get(predicate, "metadata"),
	                               "scanFinishedOn");
	int64_t max_age = st->settings->max_scan_age;

	if (when == NULL || tg_parse_rfc3339(&t, when) < 0) {
		if (max_age > 0)
			tg_check_fail(st->check,
			              "scan has no valid "
			              "metadata.scanFinishedOn, so its age "
			              "cannot be checked against maxScanAge");
		return;
	}
	json_object_set_new(tg_check_evidence(st->check), "scanFinishedOn",
	                    json_string(when));
	if (t > now + TG_VULN_MAX_CLOCK_SKEW_S)
		tg_check_fail(st->check,
		              "scan finished at %.40s, in the "
		              "future",
		              when);
	else if (max_age > 0 && now - t > max_age)
		tg_check_fail(st->check,
		              "scan finished at %.40s is older than "
		              "maxScanAge (%lld hours ago, limit %lld hours); "
		              "scan the image again",
		              when, (long long)((now - t) / 3600),
		              (long long)(max_age / 3600));
	else if (max_age > 0 && t >= 0 && max_age <= TG_TIME_NEVER - t)
		/* It passes now, and stops passing when the scan gets too
		 * old: a cached verdict must not outlive that. */
		tg_check_bound(st->check, t + max_age,
		               "maxScanAge: the scan finished at %.40s, limit "
		               "%lld hours",
		               when, (long long)(max_age / 3600));
}

/* Evidence "scanner": {uri, version, db}. */
static void scanner_evidence(tg_check *c, const json_t *scanner)
{
	json_t *sc = json_object();
	json_t *db = json_object_get(scanner, "db");
	const char *s;

	if ((s = str_or_null(scanner, "uri")) != NULL)
		json_object_set_new(sc, "uri", json_string(s));
	if ((s = str_or_null(scanner, "version")) != NULL)
		json_object_set_new(sc, "version", json_string(s));
	if (json_is_object(db))
		json_object_set(sc, "db", db);
	json_object_set_new(tg_check_evidence(c), "scanner", sc);
}

/* scanner.result, unwrapped from a string when a tool wrote it so. New
 * reference or NULL. */
static json_t *scan_result(const json_t *scanner)
{
	json_t *r = json_object_get(scanner, "result");

	if (json_is_string(r))
		return json_loadb(json_string_value(r), json_string_length(r),
		                  JSON_REJECT_DUPLICATES, NULL);
	return json_incref(r);
}

static void vuln_evaluate(vuln_state *st, const json_t *predicate, int64_t now)
{
	json_t *scanner = json_object_get(predicate, "scanner");
	json_t *result, *set;
	const char *format;

	if (!json_is_object(scanner)) {
		tg_check_fail(st->check, "vulnerability predicate has no "
		                         "scanner");
		return;
	}
	scanner_evidence(st->check, scanner);
	check_scan_time(st, predicate, now);
	result = scan_result(scanner);
	format = result_format(result);
	if (format == NULL) {
		tg_check_fail(st->check, "unknown scanner result format "
		                         "(expected Trivy or Grype JSON in "
		                         "scanner.result)");
		json_decref(result);
		return;
	}
	json_object_set_new(tg_check_evidence(st->check), "format",
	                    json_string(format));
	set = json_object();
	if (strcmp(format, "grype") == 0)
		grype_findings(set, result);
	else
		trivy_findings(set, result);
	evaluate_findings(st, set);
	json_decref(set);
	json_decref(result);
}

int tg_vuln_check(tg_check **out,
                  const json_t *predicate,
                  const tg_policy_vulns *settings,
                  const char *const *waived_cves,
                  size_t nwaived,
                  int64_t now)
{
	vuln_state st;
	json_t *ev;
	int error;

	memset(&st, 0, sizeof(st));
	if ((error = tg_check_new(&st.check, "vulnerabilities")) < 0)
		return error;
	st.settings = settings;
	st.waived = waived_cves;
	st.nwaived = nwaived;
	*out = st.check;
	tg_buf_init(&st.reason, TG_ERROR_MAX);
	ev = tg_check_evidence(st.check);
	st.above = json_array();
	st.ignored = json_array();
	st.waived_ids = json_array();
	json_object_set_new(
	        ev, "maxSeverity",
	        json_string(tg_severity_name(settings->max_severity)));
	json_object_set_new(ev, "aboveThreshold", st.above);
	json_object_set_new(ev, "ignored", st.ignored);
	json_object_set_new(ev, "waived", st.waived_ids);
	if (!json_is_object(predicate))
		tg_check_fail(st.check, "vulnerability predicate is not a JSON "
		                        "object");
	else
		vuln_evaluate(&st, predicate, now);
	tg_buf_free(&st.reason);
	return 0;
}
