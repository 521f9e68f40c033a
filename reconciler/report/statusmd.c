/*
 * STATUS.md on the status branch (DESIGN.md 3.6): a summary table, then
 * a table per unit, blocked first. Every string is escaped for Markdown
 * (statusdoc.c) so nothing from outside renders as a link or HTML.
 */
#include <stdlib.h>
#include <string.h>

#include "statusdoc_int.h"
#include "tollgate/buf.h"
#include "tollgate/limits.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

/* ---- STATUS.md --------------------------------------------------- */

static int md_summary(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i;
	int error;

	if ((error = tg_buf_puts(b, "| unit | verdict | images | failing |\n"
	                            "|---|---|---|---|\n")) < 0)
		return error;
	for (i = 0; i < n; i++) {
		size_t failing = 0, total = 0;
		const char *em = verdict_rank(r[i].verdict) < 2 ? "**" : "";

		tg_statusdoc_count_images(r[i].u, &failing, &total);
		if ((error = tg_buf_puts(b, "| ")) < 0 ||
		    (error = tg_statusdoc_put_md(b, r[i].name)) < 0 ||
		    (error = tg_buf_printf(b, " | %s%s%s | %zu | %zu |\n", em,
		                           r[i].verdict, em, total, failing)) <
		            0)
			return error;
	}
	return tg_buf_puts(b, "\n");
}

static int md_reasons(tg_buf *b, const json_t *img)
{
	tg_buf plain;
	const char *p, *line;
	int error;

	tg_buf_init(&plain, TG_STATUS_TEXT_MAX);
	error = tg_statusdoc_put_reasons(&plain, img, "");
	for (p = line = plain.data ? plain.data : ""; error >= 0 && *p; p++) {
		if (*p != '\n')
			continue;
		if (line != plain.data)
			error = tg_buf_puts(b, "<br>");
		plain.data[p - plain.data] = '\0';
		if (error >= 0)
			error = tg_statusdoc_put_md(b, line);
		line = p + 1;
	}
	tg_buf_free(&plain);
	return error;
}

/* "| ref | `digest` | verdict | reasons |" */
static int md_image(tg_buf *b, const json_t *img)
{
	const char *d = str_of(img, "digest");
	int error;

	if ((error = tg_buf_puts(b, "| ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(img, "ref"))) < 0 ||
	    (error = tg_buf_puts(b, " | ")) < 0 ||
	    (d && tg_digest_is_valid(d) &&
	     (error = tg_buf_printf(b, "`%s`", d)) < 0) ||
	    (error = tg_buf_puts(b, " | ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(img, "verdict"))) < 0 ||
	    (error = tg_buf_puts(b, " | ")) < 0 ||
	    (image_fails(img) && (error = md_reasons(b, img)) < 0))
		return error;
	return tg_buf_puts(b, " |\n");
}

/* "| violation | mode |" for the unit's workload violations (waived
 * ones say by which exception), then the exceptions used. */
static int md_workloads(tg_buf *b, const json_t *u)
{
	const json_t *x;
	size_t i;
	int error;

	if (json_array_size(json_object_get(u, "workloads")) &&
	    (error = tg_buf_puts(b, "| workload violation | mode |\n"
	                            "|---|---|\n")) < 0)
		return error;
	json_array_foreach(json_object_get(u, "workloads"), i, x) {
		if ((error = tg_buf_puts(b, "| ")) < 0 ||
		    (error = tg_statusdoc_put_md(b, str_of(x, "message"))) <
		            0 ||
		    (error = tg_buf_puts(b, " | ")) < 0 ||
		    (error = tg_statusdoc_put_md(
		             b, json_object_get(x, "waivedBy")
		                        ? "waived"
		                        : str_of(x, "mode"))) < 0 ||
		    (error = tg_buf_puts(b, " |\n")) < 0)
			return error;
	}
	json_array_foreach(json_object_get(u, "workloadExceptions"), i, x) {
		if ((error = tg_buf_puts(b, i ? ", " : "\nExceptions used: ")) <
		            0 ||
		    (error = tg_statusdoc_put_md(b, str_of(x, "name"))) < 0)
			return error;
	}
	return json_array_size(json_object_get(u, "workloads"))
	               ? tg_buf_puts(b, "\n\n")
	               : 0;
}

static int md_unit(tg_buf *b, const tg_statusdoc_unit *r)
{
	const json_t *img;
	size_t i;
	int error;

	if ((error = tg_buf_puts(b, "## ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, r->name)) < 0 ||
	    (error = tg_buf_printf(b, ": %s\n\n", r->verdict)) < 0)
		return error;
	if (str_of(r->u, "message") &&
	    ((error = tg_statusdoc_put_md(b, str_of(r->u, "message"))) < 0 ||
	     (error = tg_buf_puts(b, "\n\n")) < 0))
		return error;
	if ((error = md_workloads(b, r->u)) < 0)
		return error;
	if (!json_array_size(json_object_get(r->u, "images")))
		return 0;
	if ((error = tg_buf_puts(b, "| image | digest | verdict | reasons |\n"
	                            "|---|---|---|---|\n")) < 0)
		return error;
	json_array_foreach(json_object_get(r->u, "images"), i, img)
		if ((error = md_image(b, img)) < 0)
			return error;
	return tg_buf_puts(b, "\n");
}

/* "| unit | Kind ns/name | path | manager |" */
static int md_drift_field(tg_buf *b, const json_t *d, const json_t *f)
{
	int error;

	if ((error = tg_buf_puts(b, "| ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(d, "unit"))) < 0 ||
	    (error = tg_buf_puts(b, " | ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(d, "kind"))) < 0 ||
	    (error = tg_buf_puts(b, " ")) < 0)
		return error;
	if (str_of(d, "namespace") &&
	    ((error = tg_statusdoc_put_md(b, str_of(d, "namespace"))) < 0 ||
	     (error = tg_buf_puts(b, "/")) < 0))
		return error;
	if ((error = tg_statusdoc_put_md(b, str_of(d, "name"))) < 0 ||
	    (error = tg_buf_puts(b, " | ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(f, "path"))) < 0 ||
	    (error = tg_buf_puts(b, " | ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(f, "manager"))) < 0)
		return error;
	return tg_buf_puts(b, " |\n");
}

static int md_drift(tg_buf *b, const json_t *doc)
{
	const json_t *d, *f;
	size_t i, k;
	int error;

	if (!json_array_size(json_object_get(doc, "drift")))
		return 0;
	if ((error = tg_buf_puts(b, "## Drift\n\n"
	                            "| unit | object | field | changed by |\n"
	                            "|---|---|---|---|\n")) < 0)
		return error;
	json_array_foreach(json_object_get(doc, "drift"), i, d) {
		json_array_foreach(json_object_get(d, "fields"), k, f) {
			if ((error = md_drift_field(b, d, f)) < 0)
				return error;
		}
	}
	return tg_buf_puts(b, "\n");
}

static int md_violations(tg_buf *b, const json_t *doc)
{
	const json_t *v;
	size_t i;
	int error;

	if (!json_array_size(json_object_get(doc, "violations")))
		return 0;
	if ((error = tg_buf_puts(b, "## Violations found on re-verification\n\n"
	                            "| unit | image | reasons |\n"
	                            "|---|---|---|\n")) < 0)
		return error;
	json_array_foreach(json_object_get(doc, "violations"), i, v) {
		if ((error = tg_buf_puts(b, "| ")) < 0 ||
		    (error = tg_statusdoc_put_md(b, str_of(v, "unit"))) < 0 ||
		    (error = tg_buf_puts(b, " | ")) < 0 ||
		    (error = tg_statusdoc_put_md(b, str_of(v, "ref"))) < 0 ||
		    (error = tg_buf_puts(b, " | ")) < 0 ||
		    (error = md_reasons(b, v)) < 0 ||
		    (error = tg_buf_puts(b, " |\n")) < 0)
			return error;
	}
	return tg_buf_puts(b, "\n");
}

/* "# tollgate status", the source commit, branch and time. */
static int md_title(tg_buf *b, const json_t *doc)
{
	int error;

	if (str_of(doc, "sourceCommit"))
		error = tg_buf_printf(b,
		                      "# tollgate status\n\nSource commit `%s`",
		                      str_of(doc, "sourceCommit"));
	else
		error = tg_buf_printf(b,
		                      "# tollgate status\n\nSource artifact "
		                      "`%s`",
		                      source_id(doc));
	if (error < 0)
		return error;
	if (str_of(doc, "sourceBranch") &&
	    ((error = tg_buf_puts(b, " on branch ")) < 0 ||
	     (error = tg_statusdoc_put_md(b, str_of(doc, "sourceBranch"))) < 0))
		return error;
	if (str_of(doc, "time") &&
	    ((error = tg_buf_puts(b, ", ")) < 0 ||
	     (error = tg_statusdoc_put_md(b, str_of(doc, "time"))) < 0))
		return error;
	return tg_buf_puts(b, ".\n\n");
}

/* sigstore.tuf: one line on the trust root in force, loud when stale. */
static int md_trust(tg_buf *b, const json_t *doc)
{
	const json_t *t = json_object_get(doc, "trustRoot");
	int error;

	if (!json_is_object(t))
		return 0;
	if (str_of(t, "verifiedAt"))
		error = tg_buf_printf(
		        b,
		        "Trust root: TUF, root version %lld, targets version "
		        "%lld, verified ",
		        (long long)json_integer_value(
		                json_object_get(t, "rootVersion")),
		        (long long)json_integer_value(
		                json_object_get(t, "targetsVersion")));
	else
		error = tg_buf_puts(b, "Trust root: the built-in one (never "
		                       "verified through TUF yet)");
	if (error < 0 ||
	    (str_of(t, "verifiedAt") &&
	     (error = tg_statusdoc_put_md(b, str_of(t, "verifiedAt"))) < 0) ||
	    (error = tg_buf_puts(b, ", mirror ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(t, "mirror"))) < 0 ||
	    (error = tg_buf_puts(b, ".\n\n")) < 0 || !str_of(t, "stale"))
		return error;
	if ((error = tg_buf_puts(b, "**Trust root stale:** the last refresh "
	                            "failed, verification uses the root "
	                            "above: ")) < 0 ||
	    (error = tg_statusdoc_put_md(b, str_of(t, "stale"))) < 0)
		return error;
	return tg_buf_puts(b, "\n\n");
}

static int
md_document(tg_buf *b, const tg_statusdoc_unit *r, size_t n, const json_t *doc)
{
	size_t i;
	int error;

	if ((error = md_title(b, doc)) < 0 || (error = md_trust(b, doc)) < 0 ||
	    (error = tg_statusdoc_put_source_md(b, doc)) < 0 ||
	    (error = md_summary(b, r, n)) < 0)
		return error;
	for (i = 0; i < n; i++)
		if ((error = md_unit(b, &r[i])) < 0)
			return error;
	if ((error = md_drift(b, doc)) < 0)
		return error;
	return md_violations(b, doc);
}

int tg_status_markdown(char **out, const json_t *doc)
{
	tg_buf b;
	size_t n;
	tg_statusdoc_unit *r = tg_statusdoc_units(&n, NULL, NULL, doc);
	int error;

	tg_buf_init(&b, TG_STATUS_TEXT_MAX);
	error = md_document(&b, r, n, doc);
	free(r);
	return tg_statusdoc_finish(out, &b, error, "STATUS.md");
}
