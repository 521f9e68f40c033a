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

static void md_summary(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i;

	tg_buf_puts(b, "| unit | verdict | images | failing |\n"
	               "|---|---|---|---|\n");
	for (i = 0; i < n; i++) {
		size_t failing = 0, total = 0;

		tg_statusdoc_count_images(r[i].u, &failing, &total);
		tg_buf_puts(b, "| ");
		tg_statusdoc_put_md(b, r[i].name);
		tg_buf_printf(b, " | %s%s%s | %zu | %zu |\n",
		              verdict_rank(r[i].verdict) < 2 ? "**" : "",
		              r[i].verdict,
		              verdict_rank(r[i].verdict) < 2 ? "**" : "", total,
		              failing);
	}
	tg_buf_puts(b, "\n");
}

static void md_reasons(tg_buf *b, const json_t *img)
{
	tg_buf plain;
	const char *p, *line;

	tg_buf_init(&plain, TG_STATUS_TEXT_MAX);
	tg_statusdoc_put_reasons(&plain, img, "");
	for (p = line = plain.data ? plain.data : ""; *p; p++) {
		if (*p != '\n')
			continue;
		if (line != plain.data)
			tg_buf_puts(b, "<br>");
		plain.data[p - plain.data] = '\0';
		tg_statusdoc_put_md(b, line);
		line = p + 1;
	}
	tg_buf_free(&plain);
}

static void md_unit(tg_buf *b, const tg_statusdoc_unit *r)
{
	const json_t *img;
	size_t i;

	tg_buf_puts(b, "## ");
	tg_statusdoc_put_md(b, r->name);
	tg_buf_printf(b, ": %s\n\n", r->verdict);
	if (str_of(r->u, "message")) {
		tg_statusdoc_put_md(b, str_of(r->u, "message"));
		tg_buf_puts(b, "\n\n");
	}
	if (!json_array_size(json_object_get(r->u, "images")))
		return;
	tg_buf_puts(b, "| image | digest | verdict | reasons |\n"
	               "|---|---|---|---|\n");
	json_array_foreach(json_object_get(r->u, "images"), i, img) {
		const char *d = str_of(img, "digest");

		tg_buf_puts(b, "| ");
		tg_statusdoc_put_md(b, str_of(img, "ref"));
		tg_buf_puts(b, " | ");
		if (d && tg_digest_is_valid(d))
			tg_buf_printf(b, "`%s`", d);
		tg_buf_puts(b, " | ");
		tg_statusdoc_put_md(b, str_of(img, "verdict"));
		tg_buf_puts(b, " | ");
		if (image_fails(img))
			md_reasons(b, img);
		tg_buf_puts(b, " |\n");
	}
	tg_buf_puts(b, "\n");
}

static void md_drift(tg_buf *b, const json_t *doc)
{
	const json_t *d, *f;
	size_t i, k;

	if (!json_array_size(json_object_get(doc, "drift")))
		return;
	tg_buf_puts(b, "## Drift\n\n| unit | object | field | changed by |\n"
	               "|---|---|---|---|\n");
	json_array_foreach(json_object_get(doc, "drift"), i, d) {
		json_array_foreach(json_object_get(d, "fields"), k, f) {
			tg_buf_puts(b, "| ");
			tg_statusdoc_put_md(b, str_of(d, "unit"));
			tg_buf_puts(b, " | ");
			tg_statusdoc_put_md(b, str_of(d, "kind"));
			tg_buf_puts(b, " ");
			if (str_of(d, "namespace")) {
				tg_statusdoc_put_md(b, str_of(d, "namespace"));
				tg_buf_puts(b, "/");
			}
			tg_statusdoc_put_md(b, str_of(d, "name"));
			tg_buf_puts(b, " | ");
			tg_statusdoc_put_md(b, str_of(f, "path"));
			tg_buf_puts(b, " | ");
			tg_statusdoc_put_md(b, str_of(f, "manager"));
			tg_buf_puts(b, " |\n");
		}
	}
	tg_buf_puts(b, "\n");
}

static void md_violations(tg_buf *b, const json_t *doc)
{
	const json_t *v;
	size_t i;

	if (!json_array_size(json_object_get(doc, "violations")))
		return;
	tg_buf_puts(b, "## Violations found on re-verification\n\n"
	               "| unit | image | reasons |\n|---|---|---|\n");
	json_array_foreach(json_object_get(doc, "violations"), i, v) {
		tg_buf_puts(b, "| ");
		tg_statusdoc_put_md(b, str_of(v, "unit"));
		tg_buf_puts(b, " | ");
		tg_statusdoc_put_md(b, str_of(v, "ref"));
		tg_buf_puts(b, " | ");
		md_reasons(b, v);
		tg_buf_puts(b, " |\n");
	}
	tg_buf_puts(b, "\n");
}

char *tg_status_markdown(const json_t *doc)
{
	tg_buf b;
	size_t i, n;
	tg_statusdoc_unit *r = tg_statusdoc_units(&n, NULL, doc);
	char *s;

	tg_buf_init(&b, TG_STATUS_TEXT_MAX);
	tg_buf_printf(&b, "# tollgate status\n\nSource commit `%s`",
	              str_of(doc, "sourceCommit"));
	if (str_of(doc, "sourceBranch")) {
		tg_buf_puts(&b, " on branch ");
		tg_statusdoc_put_md(&b, str_of(doc, "sourceBranch"));
	}
	if (str_of(doc, "time")) {
		tg_buf_puts(&b, ", ");
		tg_statusdoc_put_md(&b, str_of(doc, "time"));
	}
	tg_buf_puts(&b, ".\n\n");
	md_summary(&b, r, n);
	for (i = 0; i < n; i++)
		md_unit(&b, &r[i]);
	md_drift(&b, doc);
	md_violations(&b, doc);
	s = tg_buf_detach(NULL, &b);
	free(r);
	return s;
}
