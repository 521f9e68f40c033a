/*
 * The commit message of a status commit (DESIGN.md 3.6): a subject naming
 * what changed, a body with the reasons of blocked and failed units,
 * drift and violations, and trailers. Text from the document is cleaned
 * by statusdoc.c before it reaches a header line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statusdoc_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

/* ---- Commit message ---------------------------------------------- */

/* "payments, web and 3 more" for changed units r[from..to). */
static int put_unit_list(tg_buf *b,
                         const tg_statusdoc_unit *r,
                         size_t from,
                         size_t to,
                         size_t budget)
{
	size_t i, shown = 0, start = b->len;
	int error;

	for (i = from; i < to; i++) {
		if (!r[i].changed)
			continue;
		if (shown && b->len - start > budget) {
			size_t rest = 0;
			for (; i < to; i++)
				rest += r[i].changed;
			return tg_buf_printf(b, " and %zu more", rest);
		}
		if ((shown && (error = tg_buf_puts(b, ", ")) < 0) ||
		    (error = tg_statusdoc_put_line(
		             b, r[i].name, TG_STATUS_SUBJECT_NAME_BYTES)) < 0)
			return error;
		shown++;
	}
	return 0;
}

/* Did a drift entry before the i-th name the same unit u? */
static bool unit_seen(const json_t *drift, size_t i, const char *u)
{
	size_t j;
	bool seen = false;

	for (j = 0; j < i; j++)
		seen |= !strcmp(
		        str_of(json_array_get(drift, j), "unit")
		                ? str_of(json_array_get(drift, j), "unit")
		                : "",
		        u ? u : "");
	return seen;
}

/* "drift corrected: 2 objects in shop, web at 3f2c1a9" (or "reported"
 * when any of them was left as it is, under drift: report). */
static int put_drift_subject(tg_buf *b, const json_t *drift, const char *commit)
{
	size_t i, n = json_array_size(drift);
	bool corrected = true;
	const json_t *d;
	int error;

	json_array_foreach(drift, i, d)
		corrected &= json_is_true(json_object_get(d, "corrected"));
	if ((error = tg_buf_printf(b, "drift %s: %zu object%s in ",
	                           corrected ? "corrected" : "reported", n,
	                           n == 1 ? "" : "s")) < 0)
		return error;
	json_array_foreach(drift, i, d) {
		const char *u = str_of(d, "unit");

		if (!unit_seen(drift, i, u) &&
		    (error = tg_buf_printf(b, "%s%s", i ? ", " : "",
		                           u ? u : "?")) < 0)
			return error;
	}
	return tg_buf_printf(b, " at %s", commit);
}

/* "blocked: payments at 3f2c1a9 (1 of 2 images failed verification)"
 * for the units r[from..to) sharing one verdict; groups told before it. */
static int put_group(tg_buf *b,
                     const tg_statusdoc_unit *r,
                     size_t from,
                     size_t to,
                     size_t groups,
                     const char *commit)
{
	int error;

	if ((error = tg_buf_printf(b, "%s%s: ", groups ? "; " : "",
	                           r[from].verdict)) < 0 ||
	    (error = put_unit_list(b, r, from, to, TG_STATUS_SUBJECT_MAX / 3)) <
	            0 ||
	    (!groups && (error = tg_buf_printf(b, " at %s", commit)) < 0))
		return error;
	return tg_statusdoc_put_detail(b, r, from, to);
}

/* "artifact blocked: sha256:1a2b3c4d5e6f (deployed: sha256:...)". */
static int put_artifact_subject(tg_buf *b, const json_t *doc)
{
	const json_t *a = json_object_get(doc, "artifact");
	const char *d = str_of(a, "digest");
	int error;

	if ((error = tg_buf_printf(b, "artifact %s: ",
	                           str_of(a, "verdict") ? str_of(a, "verdict")
	                                                : "?")) < 0 ||
	    (error = tg_statusdoc_put_line(b, d ? d : "(no digest)", 19)) < 0)
		return error;
	return tg_buf_printf(b, " (deployed: %.19s)", source_id(doc));
}

/* The short name of what the status is about: 7 hex digits of a commit,
 * "sha256:" and 12 hex digits of a digest. */
static void short_id(char out[24], const json_t *doc)
{
	const char *id = source_id(doc);

	snprintf(out, 24, "%.*s", tg_str_has_prefix(id, "sha256:") ? 19 : 7,
	         id);
}

/* The subject when no unit changed: drift, violations or nothing. */
static int put_other_subject(tg_buf *b,
                             bool drift_changed,
                             const tg_statusprev *prev,
                             const tg_statusprev *cur,
                             const json_t *doc,
                             const char *commit)
{
	if (drift_changed && json_array_size(json_object_get(doc, "drift")))
		return put_drift_subject(b, json_object_get(doc, "drift"),
		                         commit);
	if (drift_changed)
		return tg_buf_printf(b, "drift: none at %s", commit);
	if (!tg_statusprev_plain_equal(prev, cur, TG_STATUSPREV_VIOLATIONS))
		return tg_buf_printf(
		        b, "violations: %zu at %s",
		        json_array_size(json_object_get(doc, "violations")),
		        commit);
	if (tg_statusprev_artifact_changed(prev, cur))
		return put_artifact_subject(b, doc);
	return tg_buf_printf(b, "status: %s (no unit changed)", commit);
}

static int put_subject(tg_buf *b,
                       const tg_statusdoc_unit *r,
                       size_t n,
                       const tg_statusprev *prev,
                       const tg_statusprev *cur,
                       const json_t *doc)
{
	char commit[24];
	size_t i = 0, j, groups = 0;
	bool drift_changed =
	        !tg_statusprev_plain_equal(prev, cur, TG_STATUSPREV_DRIFT);
	int error;

	short_id(commit, doc);
	if (tg_statusdoc_source_blocked(doc))
		return tg_statusdoc_put_source_subject(b, doc);
	while (i < n) {
		size_t changed = 0;

		for (j = i; j < n && !strcmp(r[j].verdict, r[i].verdict); j++)
			changed += r[j].changed;
		/* An unchanged unit that differs only by its drift is told
		 * by the drift subject below. */
		if (changed &&
		    !(drift_changed && !strcmp(r[i].verdict, "unchanged"))) {
			if ((error = put_group(b, r, i, j, groups, commit)) < 0)
				return error;
			groups++;
		}
		i = j;
	}
	if (groups)
		return 0;
	return put_other_subject(b, drift_changed, prev, cur, doc, commit);
}

static int put_image_name(tg_buf *b, const json_t *img)
{
	const char *ref = str_of(img, "ref"), *digest = str_of(img, "digest");
	int error;

	if ((error = tg_statusdoc_put_line(b, ref, TG_STATUS_IMAGE_REF_BYTES)) <
	    0)
		return error;
	if (digest && !strstr(ref, "@"))
		return tg_buf_printf(b, "@%s", digest);
	return 0;
}

/* "- payments: registry/app@sha256:... (blocked)" and its reasons. */
static int put_blocked_image(tg_buf *b, const char *unit, const json_t *img)
{
	int error;

	if ((error = tg_buf_puts(b, "- ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, unit,
	                                   TG_STATUS_SUBJECT_NAME_BYTES)) < 0 ||
	    (error = tg_buf_puts(b, ": ")) < 0 ||
	    (error = put_image_name(b, img)) < 0 ||
	    (error = tg_buf_puts(b, " (")) < 0 ||
	    (error = tg_statusdoc_put_line(b, str_of(img, "verdict"),
	                                   TG_STATUS_VERDICT_BYTES)) < 0 ||
	    (error = tg_buf_puts(b, ")\n")) < 0)
		return error;
	return tg_statusdoc_put_reasons(b, img, "    ");
}

static int put_body_blocked(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i, k;
	const json_t *img;
	bool header = false;
	int error;

	for (i = 0; i < n; i++) {
		if (!r[i].u || strcmp(r[i].verdict, "blocked"))
			continue;
		json_array_foreach(json_object_get(r[i].u, "images"), k, img) {
			if (!image_fails(img))
				continue;
			if ((!header &&
			     (error = tg_buf_puts(b, "Blocked images:\n")) <
			             0) ||
			    (error = put_blocked_image(b, r[i].name, img)) < 0)
				return error;
			header = true;
		}
	}
	return header ? tg_buf_puts(b, "\n") : 0;
}

/* "- unit: Kind ns/name (file): reason" for each object the admit stage
 * refused. */
static int put_body_admission(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i, k;
	const json_t *x;
	bool header = false;
	int error;

	for (i = 0; i < n; i++) {
		if (!r[i].u || strcmp(r[i].verdict, "blocked"))
			continue;
		json_array_foreach(json_object_get(r[i].u, "admission"), k, x) {
			if ((!header &&
			     (error = tg_buf_puts(
			              b, "Objects not admitted:\n")) < 0) ||
			    (error = tg_buf_puts(b, "- ")) < 0 ||
			    (error = tg_statusdoc_put_line(
			             b, r[i].name,
			             TG_STATUS_SUBJECT_NAME_BYTES)) < 0 ||
			    (error = tg_buf_puts(b, ": ")) < 0 ||
			    (error = tg_statusdoc_put_line(
			             b, json_string_value(x),
			             TG_STATUS_REASON_BYTES)) < 0 ||
			    (error = tg_buf_puts(b, "\n")) < 0)
				return error;
			header = true;
		}
	}
	return header ? tg_buf_puts(b, "\n") : 0;
}

/* "- unit: text" under title (written before the first item). */
static int put_item(tg_buf *b,
                    bool *header,
                    const char *title,
                    const char *unit,
                    const char *text)
{
	int error;

	if ((!*header && (error = tg_buf_puts(b, title)) < 0) ||
	    (error = tg_buf_puts(b, "- ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, unit,
	                                   TG_STATUS_SUBJECT_NAME_BYTES)) < 0 ||
	    (error = tg_buf_puts(b, ": ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, text ? text : "",
	                                   TG_STATUS_REASON_BYTES)) < 0 ||
	    (error = tg_buf_puts(b, "\n")) < 0)
		return error;
	*header = true;
	return 0;
}

/* "- unit: <violation>" for each workload violation not waived: those
 * that block (enforce), or with warn those only reported. */
static int
put_body_workloads(tg_buf *b, const tg_statusdoc_unit *r, size_t n, bool warn)
{
	const char *title = warn ? "Workload warnings (applied):\n"
	                         : "Workload violations:\n";
	size_t i, k;
	const json_t *x;
	bool header = false;
	int error;

	for (i = 0; i < n; i++) {
		json_array_foreach(json_object_get(r[i].u, "workloads"), k, x) {
			const char *mode = str_of(x, "mode");

			if (json_object_get(x, "waivedBy") ||
			    (mode && !strcmp(mode, "warn")) != warn)
				continue;
			if ((error = put_item(b, &header, title, r[i].name,
			                      str_of(x, "message"))) < 0)
				return error;
		}
	}
	return header ? tg_buf_puts(b, "\n") : 0;
}

/* "- unit: name (reason; approved by X; expires D)" for each exception a
 * unit's workloads used. */
static int put_body_exceptions(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i, k;
	const json_t *x;
	bool header = false;
	int error = 0;

	for (i = 0; i < n && error == 0; i++) {
		json_array_foreach(
		        json_object_get(r[i].u, "workloadExceptions"), k, x) {
			char *line = tg_aprintf(
			        "%s (%s; approved by %s; expires %s)",
			        str_of(x, "name"), str_of(x, "reason"),
			        str_of(x, "approvedBy"), str_of(x, "expires"));

			error = put_item(b, &header,
			                 "Workload exceptions used:\n",
			                 r[i].name, line);
			free(line);
			if (error < 0)
				return error;
		}
	}
	return header ? tg_buf_puts(b, "\n") : 0;
}

/* The errors of a failed unit (why its files or its render failed),
 * indented under its line, at most TG_STATUS_REASONS_MAX. */
static int put_unit_errors(tg_buf *b, const json_t *u)
{
	const json_t *errs = json_object_get(u, "errors"), *e;
	size_t i;
	int error;

	json_array_foreach(errs, i, e) {
		if (i == TG_STATUS_REASONS_MAX)
			return tg_buf_printf(b, "  ... and %zu more\n",
			                     json_array_size(errs) - i);
		if (!json_is_string(e))
			continue;
		if ((error = tg_buf_puts(b, "  ")) < 0 ||
		    (error = tg_statusdoc_put_line(b, json_string_value(e),
		                                   TG_STATUS_REASON_BYTES)) <
		            0 ||
		    (error = tg_buf_puts(b, "\n")) < 0)
			return error;
	}
	return 0;
}

static int put_body_failed(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i;
	bool header = false;
	int error;

	for (i = 0; i < n; i++) {
		if (!r[i].u || strcmp(r[i].verdict, "failed"))
			continue;
		if ((!header &&
		     (error = tg_buf_puts(b, "Failed units:\n")) < 0) ||
		    (error = tg_buf_puts(b, "- ")) < 0 ||
		    (error = tg_statusdoc_put_line(
		             b, r[i].name, TG_STATUS_SUBJECT_NAME_BYTES)) < 0 ||
		    (error = tg_buf_puts(b, ": ")) < 0 ||
		    (error = tg_statusdoc_put_line(b, str_of(r[i].u, "message"),
		                                   TG_STATUS_REASON_BYTES)) <
		            0 ||
		    (error = tg_buf_puts(b, "\n")) < 0 ||
		    (error = put_unit_errors(b, r[i].u)) < 0)
			return error;
		header = true;
	}
	return header ? tg_buf_puts(b, "\n") : 0;
}

/* ": /spec/replicas (by kubectl), /spec/template" */
static int put_drift_fields(tg_buf *b, const json_t *d)
{
	const json_t *f;
	size_t k;
	int error;

	json_array_foreach(json_object_get(d, "fields"), k, f) {
		if ((error = tg_buf_puts(b, k ? ", " : ": ")) < 0 ||
		    (error = tg_statusdoc_put_line(
		             b, str_of(f, "path"),
		             TG_STATUS_DRIFT_PATH_BYTES)) < 0)
			return error;
		if (!str_of(f, "manager"))
			continue;
		if ((error = tg_buf_puts(b, " (by ")) < 0 ||
		    (error = tg_statusdoc_put_line(
		             b, str_of(f, "manager"),
		             TG_STATUS_DRIFT_MANAGER_BYTES)) < 0 ||
		    (error = tg_buf_puts(b, ")")) < 0)
			return error;
	}
	return 0;
}

/* "- payments: Deployment default/api: /spec/replicas (by kubectl)" */
static int put_drift_object(tg_buf *b, const json_t *d)
{
	int error;

	if ((error = tg_buf_puts(b, "- ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, str_of(d, "unit"),
	                                   TG_STATUS_DRIFT_UNIT_BYTES)) < 0 ||
	    (error = tg_buf_puts(b, ": ")) < 0 ||
	    (error = tg_statusdoc_put_line(b, str_of(d, "kind"),
	                                   TG_STATUS_DRIFT_KIND_BYTES)) < 0 ||
	    (error = tg_buf_puts(b, " ")) < 0)
		return error;
	if (str_of(d, "namespace") &&
	    ((error = tg_statusdoc_put_line(b, str_of(d, "namespace"),
	                                    TG_STATUS_DRIFT_NAMESPACE_BYTES)) <
	             0 ||
	     (error = tg_buf_puts(b, "/")) < 0))
		return error;
	if ((error = tg_statusdoc_put_line(b, str_of(d, "name"),
	                                   TG_STATUS_DRIFT_NAME_BYTES)) < 0 ||
	    (error = put_drift_fields(b, d)) < 0)
		return error;
	return tg_buf_puts(b, "\n");
}

static int put_body_drift(tg_buf *b, const json_t *doc)
{
	const json_t *d;
	size_t i;
	int error;

	if (!json_array_size(json_object_get(doc, "drift")))
		return 0;
	if ((error = tg_buf_puts(b, "Drifted objects:\n")) < 0)
		return error;
	json_array_foreach(json_object_get(doc, "drift"), i, d)
		if ((error = put_drift_object(b, d)) < 0)
			return error;
	return tg_buf_puts(b, "\n");
}

static int put_body_violations(tg_buf *b, const json_t *doc)
{
	const json_t *v;
	size_t i;
	int error;

	if (!json_array_size(json_object_get(doc, "violations")))
		return 0;
	if ((error = tg_buf_puts(b, "Violations found on re-verification:\n")) <
	    0)
		return error;
	json_array_foreach(json_object_get(doc, "violations"), i, v) {
		if ((error = tg_buf_puts(b, "- ")) < 0 ||
		    (error = tg_statusdoc_put_line(
		             b, str_of(v, "unit"),
		             TG_STATUS_DRIFT_UNIT_BYTES)) < 0 ||
		    (error = tg_buf_puts(b, ": ")) < 0 ||
		    (error = put_image_name(b, v)) < 0 ||
		    (error = tg_buf_puts(b, "\n")) < 0 ||
		    (error = tg_statusdoc_put_reasons(b, v, "    ")) < 0)
			return error;
	}
	return tg_buf_puts(b, "\n");
}

/* An OCI source's artifact that was not allowed: its reference and
 * reasons (as an image's). */
static int put_body_artifact(tg_buf *b, const json_t *doc)
{
	const json_t *a = json_object_get(doc, "artifact");
	const char *v = str_of(a, "verdict");
	int error;

	if (!a || (v && (!strcmp(v, "allowed") || !strcmp(v, "warned"))))
		return 0;
	if ((error = tg_buf_puts(b, "Artifact not deployed: ")) < 0 ||
	    (error = tg_statusdoc_put_line(
	             b, str_of(a, "ref") ? str_of(a, "ref") : "?",
	             TG_STATUS_NOTE_NAME_BYTES)) < 0 ||
	    (error = tg_buf_puts(b, "\n")) < 0 ||
	    (error = tg_statusdoc_put_reasons(b, a, "    ")) < 0)
		return error;
	return tg_buf_puts(b, "\n");
}

static int
put_trailers(tg_buf *b, const tg_statusdoc_unit *r, size_t n, const json_t *doc)
{
	size_t i;
	int error;

	if (str_of(doc, "sourceCommit"))
		error = tg_buf_printf(b, "Source-Commit: %s\n",
		                      str_of(doc, "sourceCommit"));
	else
		error = tg_buf_printf(b, "Source-Digest: %s\nSource-Ref: %s\n",
		                      str_of(doc, "sourceDigest"),
		                      str_of(doc, "sourceRef"));
	if (error < 0 || (error = tg_statusdoc_put_source_trailers(b, doc)) < 0)
		return error;
	if (tg_statusdoc_source_blocked(doc))
		return 0;
	for (i = 0; i < n; i++) {
		if (!r[i].changed)
			continue;
		if ((error = tg_buf_puts(b, "Tollgate-Unit: ")) < 0 ||
		    (error = tg_statusdoc_put_line(
		             b, r[i].name, TG_STATUS_NOTE_NAME_BYTES)) < 0 ||
		    (error = tg_buf_printf(b, "\nTollgate-Verdict: %s\n",
		                           r[i].verdict)) < 0)
			return error;
	}
	return 0;
}

int tg_statusdoc_message(char **out,
                         const tg_statusprev *prev,
                         const tg_statusprev *cur,
                         const json_t *doc)
{
	tg_buf b;
	size_t n;
	tg_statusdoc_unit *r = tg_statusdoc_units(&n, prev, cur, doc);
	int error;

	tg_buf_init(&b, TG_STATUS_TEXT_MAX);
	if ((error = put_subject(&b, r, n, prev, cur, doc)) >= 0 &&
	    (error = tg_buf_puts(&b, "\n\n")) >= 0 &&
	    (error = put_body_artifact(&b, doc)) >= 0 &&
	    (error = tg_statusdoc_put_source_body(&b, doc)) >= 0 &&
	    (error = put_body_blocked(&b, r, n)) >= 0 &&
	    (error = put_body_admission(&b, r, n)) >= 0 &&
	    (error = put_body_workloads(&b, r, n, false)) >= 0 &&
	    (error = put_body_workloads(&b, r, n, true)) >= 0 &&
	    (error = put_body_exceptions(&b, r, n)) >= 0 &&
	    (error = put_body_failed(&b, r, n)) >= 0 &&
	    (error = put_body_drift(&b, doc)) >= 0 &&
	    (error = put_body_violations(&b, doc)) >= 0)
		error = put_trailers(&b, r, n, doc);
	free(r);
	return tg_statusdoc_finish(out, &b, error, "status commit message");
}

int tg_status_message(char **out, const json_t *prev, const json_t *doc)
{
	tg_statusprev *p = tg_statusprev_of(prev), *c = tg_statusprev_of(doc);
	int error = tg_statusdoc_message(out, p, c, doc);

	tg_statusprev_free(p);
	tg_statusprev_free(c);
	return error;
}
