/*
 * What the files of the status document share (private to
 * reconciler/report/): verdict helpers, text cleaning, and the units in
 * the order every rendering lists them. statusdoc.c holds them, with the
 * schema check, the comparison in substance and the note; statusmsg.c the
 * commit message; statusmd.c STATUS.md.
 */
#ifndef TOLLGATE_STATUSDOC_INT_H
#define TOLLGATE_STATUSDOC_INT_H

#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"

static inline const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* What the status is about: the source commit, or an OCI source's
 * artifact digest (sourceDigest). NULL when neither. */
static inline const char *source_id(const json_t *doc)
{
	const char *c = str_of(doc, "sourceCommit");

	return c ? c : str_of(doc, "sourceDigest");
}

/* Where verdict v sorts: blocked, failed, applied, unchanged, removed,
 * anything else. */
static inline int verdict_rank(const char *v)
{
	static const char *const verdict_order[] = { "blocked", "failed",
		                                     "applied", "unchanged",
		                                     "removed", NULL };
	int i;

	for (i = 0; v && verdict_order[i]; i++)
		if (!strcmp(v, verdict_order[i]))
			return i;
	return i;
}

static inline bool image_fails(const json_t *img)
{
	const char *v = str_of(img, "verdict");

	return !v || (strcmp(v, "allowed") && strcmp(v, "warned"));
}

/* One unit of the document, or one that left it ("removed"). */
typedef struct tg_statusdoc_unit {
	const char *name;
	const char *verdict;
	const json_t *u; /* NULL for removed */
	bool changed;
} tg_statusdoc_unit;

/* Append s on one line, unsafe characters as U+FFFD (a newline as a
 * space), at most max bytes (cut on a character boundary, "..." added). */
TG_WUR int tg_statusdoc_put_line(tg_buf *b, const char *s, size_t max);

/* Append s escaped for Markdown, on one line. */
TG_WUR int tg_statusdoc_put_md(tg_buf *b, const char *s);

/* The reasons of a failing image, one per line, each after indent. */
TG_WUR int
tg_statusdoc_put_reasons(tg_buf *b, const json_t *img, const char *indent);

/*
 * The units of doc, blocked first then by name, with those only in prev
 * as "removed"; *n_out entries, owned by the caller (free()).
 */
tg_statusdoc_unit *
tg_statusdoc_units(size_t *n_out, const json_t *prev, const json_t *doc);

/* Add u's images to *total and the failing ones to *failing. */
void tg_statusdoc_count_images(const json_t *u, size_t *failing, size_t *total);

/* "(1 of 2 images failed verification)" and the like, for units
 * r[from..to) sharing one verdict. */
TG_WUR int tg_statusdoc_put_detail(tg_buf *b,
                                   const tg_statusdoc_unit *r,
                                   size_t from,
                                   size_t to);

/* The source commit's verdict (statussrc.c): whether the policy's
 * commits: section blocked it, the subject saying so, and its part of the
 * commit body, trailers, note and STATUS.md (nothing when the document
 * has no "commit" entry). */
bool tg_statusdoc_source_blocked(const json_t *doc);
TG_WUR int tg_statusdoc_put_source_subject(tg_buf *b, const json_t *doc);
TG_WUR int tg_statusdoc_put_source_body(tg_buf *b, const json_t *doc);
TG_WUR int tg_statusdoc_put_source_trailers(tg_buf *b, const json_t *doc);
TG_WUR int tg_statusdoc_put_source_note(tg_buf *b, const json_t *doc);
TG_WUR int tg_statusdoc_put_source_md(tg_buf *b, const json_t *doc);

/*
 * Hand b's text to *out (caller frees), or, when error (the result of
 * writing it) failed, free b, set *out to NULL and return the error with a
 * detail saying what did not fit: a status text is never cut short.
 */
TG_WUR int
tg_statusdoc_finish(char **out, tg_buf *b, int error, const char *what);

#endif
