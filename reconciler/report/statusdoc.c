/*
 * The status document as text: schema check, comparison "in substance",
 * the commit message, the note and STATUS.md (DESIGN.md 3.6).
 *
 * Every string inside the document may come from outside (unit names are
 * directory names of the deploy repository, image references come from
 * manifests, reasons quote registry answers), so text is cleaned before it
 * reaches a commit header or Markdown: control characters would forge
 * trailers or lines, bidirectional overrides would make a reviewer read
 * something else than what is there, and Markdown would render links.
 */
#include <stdlib.h>
#include <string.h>

#include "statusdoc_int.h"
#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/status.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

/* ---- Clean text -------------------------------------------------- */

/*
 * Length of a UTF-8 character that must not be shown as is: C0/C1
 * controls, DEL, U+2028/2029 (line breaks), and the bidirectional
 * formatting characters U+200E/F, U+202A-202E, U+2066-2069. 0 otherwise.
 */
static size_t unsafe_char(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae)))
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		return 3;
	return 0;
}

/* Append s on one line, unsafe characters as U+FFFD (a newline as a
 * space), at most max bytes (cut on a character boundary, "..." added). */
int tg_statusdoc_put_line(tg_buf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t used = 0, n;
	int error;

	for (; *p; p += n) {
		n = unsafe_char(p);
		if (used >= max)
			return tg_buf_puts(b, "...");
		if (n) {
			error = tg_buf_puts(b, *p == '\n' || *p == '\t'
			                               ? " "
			                               : "\xef\xbf\xbd");
			if (error < 0)
				return error;
			used++;
			continue;
		}
		n = 1;
		while ((p[n] & 0xc0) == 0x80)
			n++;
		if ((error = tg_buf_append(b, p, n)) < 0)
			return error;
		used += n;
	}
	return 0;
}

/*
 * Append s for Markdown: one line; the characters that open emphasis,
 * code, links, HTML, entities or break a table cell are backslash-escaped
 * (CommonMark 2.4), and "://" is broken so no autolink is made. Nothing in
 * a status string can then render as anything but its text.
 */
int tg_statusdoc_put_md(tg_buf *b, const char *s)
{
	tg_buf line;
	const char *p;
	int error;

	tg_buf_init(&line, TG_STATUS_TEXT_MAX);
	error = tg_statusdoc_put_line(&line, s, TG_STATUS_TEXT_MAX);
	for (p = line.data ? line.data : ""; error >= 0 && *p; p++) {
		if (strchr("\\`*_{}[]()<>#|~&!", *p) ||
		    (*p == ':' && p[1] == '/' && p[2] == '/'))
			error = tg_buf_puts(b, "\\");
		if (error >= 0)
			error = tg_buf_append(b, p, 1);
	}
	tg_buf_free(&line);
	return error;
}

/* The reasons of a failing image: its "reasons", else the failing
 * entries of its "checks" (their message, detail or name). */
static int put_reason(tg_buf *b, const char *indent, const char *text)
{
	int error;

	if ((error = tg_buf_puts(b, indent)) < 0 ||
	    (error = tg_statusdoc_put_line(b, text, TG_STATUS_REASON_BYTES)) <
	            0)
		return error;
	return tg_buf_puts(b, "\n");
}

int tg_statusdoc_put_reasons(tg_buf *b, const json_t *img, const char *indent)
{
	const json_t *rs = json_object_get(img, "reasons"), *c;
	size_t i, shown = 0;
	int error;

	json_array_foreach(rs, i, c) {
		if (!json_is_string(c) || shown++ >= TG_STATUS_REASONS_MAX)
			continue;
		if ((error = put_reason(b, indent, json_string_value(c))) < 0)
			return error;
	}
	if (shown)
		return 0;
	json_array_foreach(json_object_get(img, "checks"), i, c) {
		const char *text = str_of(c, "message")  ? str_of(c, "message")
		                   : str_of(c, "detail") ? str_of(c, "detail")
		                                         : str_of(c, "name");
		bool failed = json_is_false(json_object_get(c, "passed")) ||
		              json_is_false(json_object_get(c, "ok"));
		if (!failed || !text || shown++ >= TG_STATUS_REASONS_MAX)
			continue;
		if ((error = put_reason(b, indent, text)) < 0)
			return error;
	}
	return 0;
}

/* ---- Schema ------------------------------------------------------ */

static int check_image(const char *unit, size_t i, const json_t *img)
{
	const char *digest = str_of(img, "digest");

	if (!json_is_object(img) || !str_of(img, "ref") ||
	    !str_of(img, "verdict"))
		return tg_error_set(TG_EINVALID,
		                    "status: units.%s.images[%zu]: expected "
		                    "an object with string ref and verdict",
		                    unit, i);
	if (digest && !tg_digest_is_valid(digest))
		return tg_error_set(TG_EINVALID,
		                    "status: units.%s.images[%zu].digest: not "
		                    "a digest",
		                    unit, i);
	return 0;
}

static int check_unit(const char *name, const json_t *u)
{
	const json_t *imgs = json_object_get(u, "images"), *img;
	size_t i;
	int error;

	if (!*name)
		return tg_error_set(TG_EINVALID, "status: empty unit name");
	if (!json_is_object(u) || verdict_rank(str_of(u, "verdict")) > 3)
		return tg_error_set(TG_EINVALID,
		                    "status: units.%s.verdict: expected "
		                    "applied, blocked, failed or unchanged",
		                    name);
	if (imgs && !json_is_array(imgs))
		return tg_error_set(TG_EINVALID,
		                    "status: units.%s.images: expected a list",
		                    name);
	json_array_foreach(imgs, i, img)
		if ((error = check_image(name, i, img)) < 0)
			return error;
	return 0;
}

static bool is_commit_hex(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

int tg_status_validate(const json_t *doc)
{
	const json_t *units = json_object_get(doc, "units"), *u;
	const char *name, *opt[] = { "drift", "violations" };
	size_t i;
	int error;

	if (!json_is_object(doc))
		return tg_error_set(TG_EINVALID, "status: not an object");
	if (str_of(doc, "sourceDigest") &&
	    !json_object_get(doc, "sourceCommit")) {
		if (!tg_digest_is_valid(str_of(doc, "sourceDigest")))
			return tg_error_set(TG_EINVALID,
			                    "status: sourceDigest: "
			                    "expected a digest");
	} else if (!is_commit_hex(str_of(doc, "sourceCommit"))) {
		return tg_error_set(TG_EINVALID, "status: sourceCommit: "
		                                 "expected a commit id");
	}
	if (!json_is_object(units))
		return tg_error_set(TG_EINVALID,
		                    "status: units: expected an object");
	if (json_object_get(doc, "trustRoot") &&
	    !json_is_object(json_object_get(doc, "trustRoot")))
		return tg_error_set(TG_EINVALID,
		                    "status: trustRoot: expected an object");
	json_object_foreach((json_t *)units, name, u)
		if ((error = check_unit(name, u)) < 0)
			return error;
	for (i = 0; i < 2; i++) {
		const json_t *v = json_object_get(doc, opt[i]);
		if (v && !json_is_array(v))
			return tg_error_set(TG_EINVALID,
			                    "status: %s: expected a list",
			                    opt[i]);
	}
	return 0;
}

/* ---- Substance --------------------------------------------------- */

/* Compared by digests (statusprev.c): the same code serves the previous
 * document read unit by unit or from the digests file. */
bool tg_status_same(const json_t *a, const json_t *b)
{
	tg_statusprev *pa, *pb;
	bool same;

	if (!a || !b)
		return a == b;
	if (!json_is_object(a) || !json_is_object(b))
		return json_equal((json_t *)a, (json_t *)b);
	pa = tg_statusprev_of(a);
	pb = tg_statusprev_of(b);
	same = tg_statusprev_same(pa, pb);
	tg_statusprev_free(pa);
	tg_statusprev_free(pb);
	return same;
}

/* ---- Units in order ---------------------------------------------- */

static int unit_cmp(const void *a, const void *b)
{
	const tg_statusdoc_unit *x = a, *y = b;
	int rx = verdict_rank(x->verdict), ry = verdict_rank(y->verdict);

	if (rx != ry)
		return rx - ry;
	return strcmp(x->name, y->name);
}

/* Is unit name (u in doc) new or different in substance from prev? */
static bool unit_changed(const tg_statusprev *prev,
                         const tg_statusprev *cur,
                         const char *name)
{
	const unsigned char *pd = tg_statusprev_unit(prev, name);
	const unsigned char *cd = tg_statusprev_unit(cur, name);

	return !pd || !cd || memcmp(pd, cd, TG_SHA256_LEN);
}

/*
 * The units of doc, blocked first then by name, each marked changed when
 * it is new, differs from prev in substance, or was applied at a new
 * source commit; units only in prev are added as "removed".
 */
tg_statusdoc_unit *tg_statusdoc_units(size_t *n_out,
                                      const tg_statusprev *prev,
                                      const tg_statusprev *cur,
                                      const json_t *doc)
{
	const json_t *units = json_object_get(doc, "units"), *u;
	const char *name, *pc = tg_statusprev_source(prev);
	bool new_commit = !pc || strcmp(pc, source_id(doc));
	size_t n = 0, np = prev ? prev->nunits : 0, i;
	tg_statusdoc_unit *r =
	        tg_calloc(json_object_size(units) + np + 1, sizeof(*r));

	json_object_foreach((json_t *)units, name, u) {
		const char *v = str_of(u, "verdict");

		r[n].name = name;
		r[n].verdict = v;
		r[n].u = u;
		r[n].changed = unit_changed(prev, cur, name) ||
		               (new_commit && !strcmp(v, "applied"));
		n++;
	}
	for (i = 0; i < np; i++) {
		if (json_object_get(units, prev->units[i].name))
			continue;
		r[n].name = prev->units[i].name;
		r[n].verdict = "removed";
		r[n++].changed = true;
	}
	tg_qsort(r, n, sizeof(*r), unit_cmp);
	*n_out = n;
	return r;
}

void tg_statusdoc_count_images(const json_t *u, size_t *failing, size_t *total)
{
	const json_t *imgs = json_object_get(u, "images"), *img;
	size_t i;

	json_array_foreach(imgs, i, img) {
		(*total)++;
		if (image_fails(img))
			(*failing)++;
	}
}

/* "(1 of 2 images failed verification)" and the like, for units
 * r[from..to) sharing one verdict. */
int tg_statusdoc_put_detail(tg_buf *b,
                            const tg_statusdoc_unit *r,
                            size_t from,
                            size_t to)
{
	size_t i, failing = 0, total = 0;
	const char *v = r[from].verdict, *msg;
	int error;

	for (i = from; i < to; i++)
		if (r[i].u)
			tg_statusdoc_count_images(r[i].u, &failing, &total);
	if (!strcmp(v, "blocked") && total &&
	    (failing || to - from > 1 || !r[from].u ||
	     !str_of(r[from].u, "message")))
		return tg_buf_printf(
		        b, " (%zu of %zu image%s failed verification)", failing,
		        total, total == 1 ? "" : "s");
	if ((msg = r[from].u ? str_of(r[from].u, "message") : NULL) &&
	    to - from == 1 && strcmp(v, "applied")) {
		if ((error = tg_buf_puts(b, " (")) < 0 ||
		    (error = tg_statusdoc_put_line(b, msg,
		                                   TG_STATUS_DETAIL_BYTES)) < 0)
			return error;
		return tg_buf_puts(b, ")");
	}
	if (!strcmp(v, "applied") && total)
		return tg_buf_printf(b, " (%zu image%s verified)", total,
		                     total == 1 ? "" : "s");
	return 0;
}

/* "  workload (mode): <violation>" under a unit's verdict line for each
 * violation not waived, "  exception used: name" for each exception. */
static int put_note_workloads(tg_buf *b, const json_t *u)
{
	const json_t *x;
	size_t i;
	int error;

	json_array_foreach(json_object_get(u, "workloads"), i, x) {
		if (json_object_get(x, "waivedBy"))
			continue;
		if ((error = tg_buf_printf(
		             b, "  workload (%s): ", str_of(x, "mode"))) < 0 ||
		    (error = tg_statusdoc_put_line(b, str_of(x, "message"),
		                                   TG_STATUS_REASON_BYTES)) <
		            0 ||
		    (error = tg_buf_puts(b, "\n")) < 0)
			return error;
	}
	json_array_foreach(json_object_get(u, "workloadExceptions"), i, x) {
		if ((error = tg_buf_puts(b, "  exception used: ")) < 0 ||
		    (error = tg_statusdoc_put_line(b, str_of(x, "name"),
		                                   TG_STATUS_REASON_BYTES)) <
		            0 ||
		    (error = tg_buf_puts(b, "\n")) < 0)
			return error;
	}
	return 0;
}

static int put_note(tg_buf *b, const tg_statusdoc_unit *r, size_t n)
{
	size_t i;
	int error;

	for (i = 0; i < n; i++) {
		if ((error = tg_statusdoc_put_line(
		             b, r[i].name, TG_STATUS_NOTE_NAME_BYTES)) < 0 ||
		    (error = tg_buf_printf(b, ": %s", r[i].verdict)) < 0 ||
		    (error = tg_statusdoc_put_detail(b, r, i, i + 1)) < 0 ||
		    (error = tg_buf_puts(b, "\n")) < 0 ||
		    (error = put_note_workloads(b, r[i].u)) < 0)
			return error;
	}
	return n ? 0 : tg_buf_puts(b, "no units\n");
}

int tg_statusdoc_finish(char **out, tg_buf *b, int error, const char *what)
{
	*out = NULL;
	if (error < 0) {
		tg_buf_free(b);
		return tg_error_prefix(error, "%s", what);
	}
	*out = tg_buf_detach(NULL, b);
	return 0;
}

int tg_status_note(char **out, const json_t *doc)
{
	tg_buf b;
	size_t n;
	tg_statusdoc_unit *r = tg_statusdoc_units(&n, NULL, NULL, doc);
	int error;

	tg_buf_init(&b, TG_STATUS_TEXT_MAX);
	if ((error = tg_statusdoc_put_source_note(&b, doc)) == 0)
		error = put_note(&b, r, n);
	free(r);
	return tg_statusdoc_finish(out, &b, error, "status note");
}
