/*
 * The commit message of a status commit (DESIGN.md 3.6): a subject naming
 * what changed, a body with the reasons of blocked and failed units,
 * drift and violations, and trailers. Text from the document is cleaned
 * by statusdoc.c before it reaches a header line.
 */
#include <stdlib.h>
#include <string.h>

#include "statusdoc_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

/* ---- Commit message ---------------------------------------------- */

/* "payments, web and 3 more" for changed units r[from..to). */
static void put_unit_list(tg_buf *b,
                          const tg_statusdoc_unit *r,
                          size_t from,
                          size_t to,
                          size_t budget)
{
	size_t i, shown = 0, start = b->len;

	for (i = from; i < to; i++) {
		if (!r[i].changed)
			continue;
		if (shown && b->len - start > budget) {
			size_t rest = 0;
			for (; i < to; i++)
				rest += r[i].changed;
			tg_buf_printf(b, " and %zu more", rest);
			return;
		}
		if (shown)
			tg_buf_puts(b, ", ");
		tg_statusdoc_put_line(b, r[i].name,
		                      TG_STATUS_SUBJECT_NAME_BYTES);
		shown++;
	}
}

/* "drift corrected: 2 objects in shop, web at 3f2c1a9" (or "reported"
 * when any of them was left as it is, under drift: report). */
static void
put_drift_subject(tg_buf *b, const json_t *drift, const char *commit)
{
	size_t i, j, n = json_array_size(drift);
	bool corrected = true;
	const json_t *d;

	json_array_foreach(drift, i, d)
		corrected &= json_is_true(json_object_get(d, "corrected"));
	tg_buf_printf(b, "drift %s: %zu object%s in ",
	              corrected ? "corrected" : "reported", n,
	              n == 1 ? "" : "s");
	json_array_foreach(drift, i, d) {
		const char *u = str_of(d, "unit");
		bool seen = false;

		for (j = 0; j < i; j++)
			seen |= !strcmp(
			        str_of(json_array_get(drift, j), "unit")
			                ? str_of(json_array_get(drift, j),
			                         "unit")
			                : "",
			        u ? u : "");
		if (!seen)
			tg_buf_printf(b, "%s%s", i ? ", " : "", u ? u : "?");
	}
	tg_buf_printf(b, " at %.7s", commit);
}

static void put_subject(tg_buf *b,
                        const tg_statusdoc_unit *r,
                        size_t n,
                        const json_t *prev,
                        const json_t *doc)
{
	const char *commit = str_of(doc, "sourceCommit");
	size_t i = 0, j, groups = 0;
	bool drift_changed = !json_equal(json_object_get(prev, "drift"),
	                                 json_object_get(doc, "drift"));

	while (i < n) {
		size_t changed = 0;

		for (j = i; j < n && !strcmp(r[j].verdict, r[i].verdict); j++)
			changed += r[j].changed;
		/* An unchanged unit that differs only by its drift is told
		 * by the drift subject below. */
		if (changed &&
		    !(drift_changed && !strcmp(r[i].verdict, "unchanged"))) {
			tg_buf_printf(b, "%s%s: ", groups ? "; " : "",
			              r[i].verdict);
			put_unit_list(b, r, i, j, TG_STATUS_SUBJECT_MAX / 3);
			if (!groups)
				tg_buf_printf(b, " at %.7s", commit);
			tg_statusdoc_put_detail(b, r, i, j);
			groups++;
		}
		i = j;
	}
	if (groups)
		return;
	if (drift_changed && json_array_size(json_object_get(doc, "drift")))
		put_drift_subject(b, json_object_get(doc, "drift"), commit);
	else if (drift_changed)
		tg_buf_printf(b, "drift: none at %.7s", commit);
	else if (!json_equal(json_object_get(prev, "violations"),
	                     json_object_get(doc, "violations")))
		tg_buf_printf(
		        b, "violations: %zu at %.7s",
		        json_array_size(json_object_get(doc, "violations")),
		        commit);
	else
		tg_buf_printf(b, "status: %.7s (no unit changed)", commit);
}

static void put_image_name(tg_buf *b, const json_t *img)
{
	const char *ref = str_of(img, "ref"), *digest = str_of(img, "digest");

	tg_statusdoc_put_line(b, ref, TG_STATUS_IMAGE_REF_BYTES);
	if (digest && !strstr(ref, "@"))
		tg_buf_printf(b, "@%s", digest);
}

static void put_body_blocked(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i, k;
	const json_t *img;
	bool header = false;

	for (i = 0; i < n; i++) {
		if (!r[i].u || strcmp(r[i].verdict, "blocked"))
			continue;
		json_array_foreach(json_object_get(r[i].u, "images"), k, img) {
			if (!image_fails(img))
				continue;
			if (!header)
				tg_buf_puts(b, "Blocked images:\n");
			header = true;
			tg_buf_puts(b, "- ");
			tg_statusdoc_put_line(b, r[i].name,
			                      TG_STATUS_SUBJECT_NAME_BYTES);
			tg_buf_puts(b, ": ");
			put_image_name(b, img);
			tg_buf_puts(b, " (");
			tg_statusdoc_put_line(b, str_of(img, "verdict"),
			                      TG_STATUS_VERDICT_BYTES);
			tg_buf_puts(b, ")\n");
			tg_statusdoc_put_reasons(b, img, "    ");
		}
	}
	if (header)
		tg_buf_puts(b, "\n");
}

static void put_body_failed(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i;
	bool header = false;

	for (i = 0; i < n; i++) {
		if (!r[i].u || strcmp(r[i].verdict, "failed"))
			continue;
		if (!header)
			tg_buf_puts(b, "Failed units:\n");
		header = true;
		tg_buf_puts(b, "- ");
		tg_statusdoc_put_line(b, r[i].name,
		                      TG_STATUS_SUBJECT_NAME_BYTES);
		tg_buf_puts(b, ": ");
		tg_statusdoc_put_line(b, str_of(r[i].u, "message"),
		                      TG_STATUS_REASON_BYTES);
		tg_buf_puts(b, "\n");
	}
	if (header)
		tg_buf_puts(b, "\n");
}

/* "- payments: Deployment default/api: /spec/replicas (by kubectl)" */
static void put_body_drift(tg_buf *b, const json_t *doc)
{
	const json_t *d, *f;
	size_t i, k;

	if (!json_array_size(json_object_get(doc, "drift")))
		return;
	tg_buf_puts(b, "Drifted objects:\n");
	json_array_foreach(json_object_get(doc, "drift"), i, d) {
		tg_buf_puts(b, "- ");
		tg_statusdoc_put_line(b, str_of(d, "unit"), 64);
		tg_buf_puts(b, ": ");
		tg_statusdoc_put_line(b, str_of(d, "kind"), 64);
		tg_buf_puts(b, " ");
		if (str_of(d, "namespace")) {
			tg_statusdoc_put_line(b, str_of(d, "namespace"), 64);
			tg_buf_puts(b, "/");
		}
		tg_statusdoc_put_line(b, str_of(d, "name"), 256);
		json_array_foreach(json_object_get(d, "fields"), k, f) {
			tg_buf_puts(b, k ? ", " : ": ");
			tg_statusdoc_put_line(b, str_of(f, "path"), 256);
			if (str_of(f, "manager")) {
				tg_buf_puts(b, " (by ");
				tg_statusdoc_put_line(b, str_of(f, "manager"),
				                      128);
				tg_buf_puts(b, ")");
			}
		}
		tg_buf_puts(b, "\n");
	}
	tg_buf_puts(b, "\n");
}

static void put_body_violations(tg_buf *b, const json_t *doc)
{
	const json_t *v;
	size_t i;

	if (!json_array_size(json_object_get(doc, "violations")))
		return;
	tg_buf_puts(b, "Violations found on re-verification:\n");
	json_array_foreach(json_object_get(doc, "violations"), i, v) {
		tg_buf_puts(b, "- ");
		tg_statusdoc_put_line(b, str_of(v, "unit"), 64);
		tg_buf_puts(b, ": ");
		put_image_name(b, v);
		tg_buf_puts(b, "\n");
		tg_statusdoc_put_reasons(b, v, "    ");
	}
	tg_buf_puts(b, "\n");
}

static void
put_trailers(tg_buf *b, const tg_statusdoc_unit *r, size_t n, const json_t *doc)
{
	size_t i;

	tg_buf_printf(b, "Source-Commit: %s\n", str_of(doc, "sourceCommit"));
	for (i = 0; i < n; i++) {
		if (!r[i].changed)
			continue;
		tg_buf_puts(b, "Tollgate-Unit: ");
		tg_statusdoc_put_line(b, r[i].name, TG_STATUS_NOTE_NAME_BYTES);
		tg_buf_printf(b, "\nTollgate-Verdict: %s\n", r[i].verdict);
	}
}

char *tg_status_message(const json_t *prev, const json_t *doc)
{
	tg_buf b;
	size_t n;
	tg_statusdoc_unit *r = tg_statusdoc_units(&n, prev, doc);
	char *s;

	tg_buf_init(&b, TG_STATUS_TEXT_MAX);
	put_subject(&b, r, n, prev, doc);
	tg_buf_puts(&b, "\n\n");
	put_body_blocked(&b, r, n);
	put_body_failed(&b, r, n);
	put_body_drift(&b, doc);
	put_body_violations(&b, doc);
	put_trailers(&b, r, n, doc);
	s = tg_buf_detach(NULL, &b);
	free(r);
	return s;
}
