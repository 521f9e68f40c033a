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

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/status.h"
#include "tollgate/util.h"

/* Bytes of rendered text (message, note, STATUS.md). */
#define STATUS_TEXT_MAX (16u * 1024 * 1024)
/* Reasons listed per image in a commit body, and bytes per reason. */
#define STATUS_REASONS_MAX 20
#define STATUS_REASON_BYTES 300
/* Bytes of a unit's failure message in a subject. */
#define STATUS_DETAIL_BYTES 80

static const char *const verdict_order[] = { "blocked",   "failed",  "applied",
	                                     "unchanged", "removed", NULL };

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int verdict_rank(const char *v)
{
	int i;

	for (i = 0; v && verdict_order[i]; i++)
		if (!strcmp(v, verdict_order[i]))
			return i;
	return i;
}

static bool image_fails(const json_t *img)
{
	const char *v = str_of(img, "verdict");

	return !v || (strcmp(v, "allowed") && strcmp(v, "warned"));
}

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
static void put_line(tg_buf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t used = 0, n;

	for (; *p; p += n) {
		n = unsafe_char(p);
		if (used >= max) {
			tg_buf_puts(b, "...");
			return;
		}
		if (n) {
			tg_buf_puts(b, *p == '\n' || *p == '\t'
			                       ? " "
			                       : "\xef\xbf\xbd");
			used++;
			continue;
		}
		n = 1;
		while ((p[n] & 0xc0) == 0x80)
			n++;
		tg_buf_append(b, p, n);
		used += n;
	}
}

/*
 * Append s for Markdown: one line; the characters that open emphasis,
 * code, links, HTML, entities or break a table cell are backslash-escaped
 * (CommonMark 2.4), and "://" is broken so no autolink is made. Nothing in
 * a status string can then render as anything but its text.
 */
static void put_md(tg_buf *b, const char *s)
{
	tg_buf line;
	const char *p;

	tg_buf_init(&line, STATUS_TEXT_MAX);
	put_line(&line, s, STATUS_TEXT_MAX);
	for (p = line.data ? line.data : ""; *p; p++) {
		if (strchr("\\`*_{}[]()<>#|~&!", *p) ||
		    (*p == ':' && p[1] == '/' && p[2] == '/'))
			tg_buf_puts(b, "\\");
		tg_buf_append(b, p, 1);
	}
	tg_buf_free(&line);
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
	if (!is_commit_hex(str_of(doc, "sourceCommit")))
		return tg_error_set(TG_EINVALID, "status: sourceCommit: "
		                                 "expected a commit id");
	if (!json_is_object(units))
		return tg_error_set(TG_EINVALID,
		                    "status: units: expected an object");
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

static bool is_volatile_key(const char *k)
{
	return !strcmp(k, "time") || !strcmp(k, "timestamp") ||
	       !strcmp(k, "durationMs") || tg_str_has_suffix(k, "At");
}

/* Where a value sits in a status document, for comparing in substance. */
enum sub_level {
	SUB_DOC,   /* a document: its "units" member holds units */
	SUB_UNITS, /* the units map */
	SUB_UNIT,  /* one unit: "unchanged" is the same verdict as "applied" */
	SUB_PLAIN,
};

static const char *verdict_in_substance(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && !strcmp(s, "unchanged") ? "applied" : s;
}

static size_t stable_members(const json_t *o)
{
	const char *k;
	json_t *m;
	size_t n = 0;

	json_object_foreach((json_t *)o, k, m) {
		(void)m;
		n += !is_volatile_key(k);
	}
	return n;
}

/*
 * Whether a and b say the same, ignoring volatile members (times,
 * durations) at every depth: compared in place, because the documents of
 * a large cluster are big and this runs every cycle.
 */
static bool
same_in_substance(const json_t *a, const json_t *b, enum sub_level level)
{
	const char *k;
	json_t *am;
	size_t i;

	if (json_is_object(a) && json_is_object(b)) {
		if (stable_members(a) != stable_members(b))
			return false;
		json_object_foreach((json_t *)a, k, am) {
			const json_t *bm = json_object_get(b, k);
			enum sub_level next = SUB_PLAIN;

			if (is_volatile_key(k))
				continue;
			if (!bm)
				return false;
			if (level == SUB_UNIT && !strcmp(k, "verdict")) {
				const char *x = verdict_in_substance(am);
				const char *y = verdict_in_substance(bm);
				if (!x || !y || strcmp(x, y))
					return false;
				continue;
			}
			if (level == SUB_DOC && !strcmp(k, "units"))
				next = SUB_UNITS;
			else if (level == SUB_UNITS)
				next = SUB_UNIT;
			if (!same_in_substance(am, bm, next))
				return false;
		}
		return true;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (i = 0; i < json_array_size(a); i++)
			if (!same_in_substance(json_array_get(a, i),
			                       json_array_get(b, i), SUB_PLAIN))
				return false;
		return true;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

bool tg_status_same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return same_in_substance(a, b, SUB_DOC);
}

/* Unit u of doc compared with the same unit in prev. */
static bool unit_same(const json_t *pu, const json_t *u)
{
	return same_in_substance(pu, u, SUB_UNIT);
}

/* ---- Units in order ---------------------------------------------- */

/* One unit of the document, or one that left it ("removed"). */
typedef struct unit_ref {
	const char *name;
	const char *verdict;
	const json_t *u; /* NULL for removed */
	bool changed;
} unit_ref;

static int unit_cmp(const void *a, const void *b)
{
	const unit_ref *x = a, *y = b;
	int rx = verdict_rank(x->verdict), ry = verdict_rank(y->verdict);

	if (rx != ry)
		return rx - ry;
	return strcmp(x->name, y->name);
}

/*
 * The units of doc, blocked first then by name, each marked changed when
 * it is new, differs from prev in substance, or was applied at a new
 * source commit; units only in prev are added as "removed".
 */
static unit_ref *
units_sorted(size_t *n_out, const json_t *prev, const json_t *doc)
{
	const json_t *units = json_object_get(doc, "units"), *u, *pu;
	const json_t *punits = json_object_get(prev, "units");
	const char *name, *pc = str_of(prev, "sourceCommit");
	bool new_commit = !pc || strcmp(pc, str_of(doc, "sourceCommit"));
	unit_ref *r = tg_calloc(json_object_size(units) +
	                                json_object_size(punits) + 1,
	                        sizeof(*r));
	size_t n = 0;

	json_object_foreach((json_t *)units, name, u) {
		const char *v = str_of(u, "verdict");

		pu = json_object_get(punits, name);
		r[n].name = name;
		r[n].verdict = v;
		r[n].u = u;
		r[n].changed = !pu || !unit_same(pu, u) ||
		               (new_commit && !strcmp(v, "applied"));
		n++;
	}
	json_object_foreach((json_t *)punits, name, pu) {
		if (json_object_get(units, name))
			continue;
		r[n].name = name;
		r[n].verdict = "removed";
		r[n++].changed = true;
	}
	qsort(r, n, sizeof(*r), unit_cmp);
	*n_out = n;
	return r;
}

static void count_images(const json_t *u, size_t *failing, size_t *total)
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
static void put_detail(tg_buf *b, const unit_ref *r, size_t from, size_t to)
{
	size_t i, failing = 0, total = 0;
	const char *v = r[from].verdict, *msg;

	for (i = from; i < to; i++)
		if (r[i].u)
			count_images(r[i].u, &failing, &total);
	if (!strcmp(v, "blocked") && total) {
		tg_buf_printf(b, " (%zu of %zu image%s failed verification)",
		              failing, total, total == 1 ? "" : "s");
	} else if ((msg = r[from].u ? str_of(r[from].u, "message") : NULL) &&
	           to - from == 1 && strcmp(v, "applied")) {
		tg_buf_puts(b, " (");
		put_line(b, msg, STATUS_DETAIL_BYTES);
		tg_buf_puts(b, ")");
	} else if (!strcmp(v, "applied") && total) {
		tg_buf_printf(b, " (%zu image%s verified)", total,
		              total == 1 ? "" : "s");
	}
}

/* ---- Commit message ---------------------------------------------- */

/* "payments, web and 3 more" for changed units r[from..to). */
static void put_unit_list(
        tg_buf *b, const unit_ref *r, size_t from, size_t to, size_t budget)
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
		put_line(b, r[i].name, 64);
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
                        const unit_ref *r,
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
			put_detail(b, r, i, j);
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

/* The reasons of a failing image: its "reasons", else the failing
 * entries of its "checks" (their message, detail or name). */
static void put_reasons(tg_buf *b, const json_t *img, const char *indent)
{
	const json_t *rs = json_object_get(img, "reasons"), *c;
	size_t i, shown = 0;

	json_array_foreach(rs, i, c) {
		if (!json_is_string(c) || shown++ >= STATUS_REASONS_MAX)
			continue;
		tg_buf_puts(b, indent);
		put_line(b, json_string_value(c), STATUS_REASON_BYTES);
		tg_buf_puts(b, "\n");
	}
	if (shown)
		return;
	json_array_foreach(json_object_get(img, "checks"), i, c) {
		const char *text = str_of(c, "message")  ? str_of(c, "message")
		                   : str_of(c, "detail") ? str_of(c, "detail")
		                                         : str_of(c, "name");
		bool failed = json_is_false(json_object_get(c, "passed")) ||
		              json_is_false(json_object_get(c, "ok"));
		if (!failed || !text || shown++ >= STATUS_REASONS_MAX)
			continue;
		tg_buf_puts(b, indent);
		put_line(b, text, STATUS_REASON_BYTES);
		tg_buf_puts(b, "\n");
	}
}

static void put_image_name(tg_buf *b, const json_t *img)
{
	const char *ref = str_of(img, "ref"), *digest = str_of(img, "digest");

	put_line(b, ref, 512);
	if (digest && !strstr(ref, "@"))
		tg_buf_printf(b, "@%s", digest);
}

static void put_body_blocked(tg_buf *b, const unit_ref *r, size_t n)
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
			put_line(b, r[i].name, 64);
			tg_buf_puts(b, ": ");
			put_image_name(b, img);
			tg_buf_puts(b, " (");
			put_line(b, str_of(img, "verdict"), 32);
			tg_buf_puts(b, ")\n");
			put_reasons(b, img, "    ");
		}
	}
	if (header)
		tg_buf_puts(b, "\n");
}

static void put_body_failed(tg_buf *b, const unit_ref *r, size_t n)
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
		put_line(b, r[i].name, 64);
		tg_buf_puts(b, ": ");
		put_line(b, str_of(r[i].u, "message"), STATUS_REASON_BYTES);
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
		put_line(b, str_of(d, "unit"), 64);
		tg_buf_puts(b, ": ");
		put_line(b, str_of(d, "kind"), 64);
		tg_buf_puts(b, " ");
		if (str_of(d, "namespace")) {
			put_line(b, str_of(d, "namespace"), 64);
			tg_buf_puts(b, "/");
		}
		put_line(b, str_of(d, "name"), 256);
		json_array_foreach(json_object_get(d, "fields"), k, f) {
			tg_buf_puts(b, k ? ", " : ": ");
			put_line(b, str_of(f, "path"), 256);
			if (str_of(f, "manager")) {
				tg_buf_puts(b, " (by ");
				put_line(b, str_of(f, "manager"), 128);
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
		put_line(b, str_of(v, "unit"), 64);
		tg_buf_puts(b, ": ");
		put_image_name(b, v);
		tg_buf_puts(b, "\n");
		put_reasons(b, v, "    ");
	}
	tg_buf_puts(b, "\n");
}

static void
put_trailers(tg_buf *b, const unit_ref *r, size_t n, const json_t *doc)
{
	size_t i;

	tg_buf_printf(b, "Source-Commit: %s\n", str_of(doc, "sourceCommit"));
	for (i = 0; i < n; i++) {
		if (!r[i].changed)
			continue;
		tg_buf_puts(b, "Tollgate-Unit: ");
		put_line(b, r[i].name, 256);
		tg_buf_printf(b, "\nTollgate-Verdict: %s\n", r[i].verdict);
	}
}

char *tg_status_message(const json_t *prev, const json_t *doc)
{
	tg_buf b;
	size_t n;
	unit_ref *r = units_sorted(&n, prev, doc);
	char *s;

	tg_buf_init(&b, STATUS_TEXT_MAX);
	put_subject(&b, r, n, prev, doc);
	tg_buf_puts(&b, "\n\n");
	put_body_blocked(&b, r, n);
	put_body_failed(&b, r, n);
	put_body_drift(&b, doc);
	put_body_violations(&b, doc);
	put_trailers(&b, r, n, doc);
	s = tg_buf_detach(&b, NULL);
	free(r);
	return s;
}

char *tg_status_note(const json_t *doc)
{
	tg_buf b;
	size_t i, n;
	unit_ref *r = units_sorted(&n, NULL, doc);
	char *s;

	tg_buf_init(&b, STATUS_TEXT_MAX);
	for (i = 0; i < n; i++) {
		put_line(&b, r[i].name, 256);
		tg_buf_printf(&b, ": %s", r[i].verdict);
		put_detail(&b, r, i, i + 1);
		tg_buf_puts(&b, "\n");
	}
	if (!n)
		tg_buf_puts(&b, "no units\n");
	s = tg_buf_detach(&b, NULL);
	free(r);
	return s;
}

/* ---- STATUS.md --------------------------------------------------- */

static void md_summary(tg_buf *b, const unit_ref *r, size_t n)
{
	size_t i;

	tg_buf_puts(b, "| unit | verdict | images | failing |\n"
	               "|---|---|---|---|\n");
	for (i = 0; i < n; i++) {
		size_t failing = 0, total = 0;

		count_images(r[i].u, &failing, &total);
		tg_buf_puts(b, "| ");
		put_md(b, r[i].name);
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

	tg_buf_init(&plain, STATUS_TEXT_MAX);
	put_reasons(&plain, img, "");
	for (p = line = plain.data ? plain.data : ""; *p; p++) {
		if (*p != '\n')
			continue;
		if (line != plain.data)
			tg_buf_puts(b, "<br>");
		plain.data[p - plain.data] = '\0';
		put_md(b, line);
		line = p + 1;
	}
	tg_buf_free(&plain);
}

static void md_unit(tg_buf *b, const unit_ref *r)
{
	const json_t *img;
	size_t i;

	tg_buf_puts(b, "## ");
	put_md(b, r->name);
	tg_buf_printf(b, ": %s\n\n", r->verdict);
	if (str_of(r->u, "message")) {
		put_md(b, str_of(r->u, "message"));
		tg_buf_puts(b, "\n\n");
	}
	if (!json_array_size(json_object_get(r->u, "images")))
		return;
	tg_buf_puts(b, "| image | digest | verdict | reasons |\n"
	               "|---|---|---|---|\n");
	json_array_foreach(json_object_get(r->u, "images"), i, img) {
		const char *d = str_of(img, "digest");

		tg_buf_puts(b, "| ");
		put_md(b, str_of(img, "ref"));
		tg_buf_puts(b, " | ");
		if (d && tg_digest_is_valid(d))
			tg_buf_printf(b, "`%s`", d);
		tg_buf_puts(b, " | ");
		put_md(b, str_of(img, "verdict"));
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
			put_md(b, str_of(d, "unit"));
			tg_buf_puts(b, " | ");
			put_md(b, str_of(d, "kind"));
			tg_buf_puts(b, " ");
			if (str_of(d, "namespace")) {
				put_md(b, str_of(d, "namespace"));
				tg_buf_puts(b, "/");
			}
			put_md(b, str_of(d, "name"));
			tg_buf_puts(b, " | ");
			put_md(b, str_of(f, "path"));
			tg_buf_puts(b, " | ");
			put_md(b, str_of(f, "manager"));
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
		put_md(b, str_of(v, "unit"));
		tg_buf_puts(b, " | ");
		put_md(b, str_of(v, "ref"));
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
	unit_ref *r = units_sorted(&n, NULL, doc);
	char *s;

	tg_buf_init(&b, STATUS_TEXT_MAX);
	tg_buf_printf(&b, "# tollgate status\n\nSource commit `%s`",
	              str_of(doc, "sourceCommit"));
	if (str_of(doc, "sourceBranch")) {
		tg_buf_puts(&b, " on branch ");
		put_md(&b, str_of(doc, "sourceBranch"));
	}
	if (str_of(doc, "time")) {
		tg_buf_puts(&b, ", ");
		put_md(&b, str_of(doc, "time"));
	}
	tg_buf_puts(&b, ".\n\n");
	md_summary(&b, r, n);
	for (i = 0; i < n; i++)
		md_unit(&b, &r[i]);
	md_drift(&b, doc);
	md_violations(&b, doc);
	s = tg_buf_detach(&b, NULL);
	free(r);
	return s;
}
