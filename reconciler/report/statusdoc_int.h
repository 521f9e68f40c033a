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
#include "tollgate/gitrepo.h"
#include "tollgate/util.h"

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

/*
 * The previous status document in digests (statusprev.c): SHA-256 of each
 * unit and of each other member "in substance" (status.h), plain digests
 * of what the commit message compares exactly, and the source it was
 * about. Built from a tree, from status.json text read unit by unit, or
 * from the digests file in stateDir (statusprev_file.c).
 */
typedef struct tg_statusprev_entry {
	char *name;
	unsigned char d[TG_SHA256_LEN];
} tg_statusprev_entry;

typedef struct tg_statusprev_plain {
	bool has; /* the member is there */
	unsigned char d[TG_SHA256_LEN];
} tg_statusprev_plain;

enum {
	TG_STATUSPREV_DRIFT,
	TG_STATUSPREV_VIOLATIONS,
	TG_STATUSPREV_ARTIFACT,
	TG_STATUSPREV_PLAIN_N
};

typedef struct tg_statusprev {
	char *commit, *digest; /* sourceCommit, sourceDigest; NULL if none */
	bool has_units;        /* "units" is an object */
	tg_statusprev_entry *units, *top; /* sorted by name */
	size_t nunits, ntop;
	tg_statusprev_plain plain[TG_STATUSPREV_PLAIN_N];
	tg_statusprev_plain art_digest, art_verdict; /* artifact members */
} tg_statusprev;

/* NULL when doc is no object. */
tg_statusprev *tg_statusprev_of(const json_t *doc);
/* NULL when text is not a JSON object or has a key twice. */
tg_statusprev *tg_statusprev_parse(const char *text, size_t len);
void tg_statusprev_free(tg_statusprev *p);
/* Append an entry (name copied); sort the lists, false on a name twice. */
void tg_statusprev_push(tg_statusprev_entry **e,
                        size_t *n,
                        const char *name,
                        const unsigned char d[TG_SHA256_LEN]);
bool tg_statusprev_finish(tg_statusprev *p);
/* sourceCommit, else sourceDigest; NULL when neither (or p NULL). */
const char *tg_statusprev_source(const tg_statusprev *p);
/* The digest of unit name; NULL when p has no such unit. */
const unsigned char *tg_statusprev_unit(const tg_statusprev *p,
                                        const char *name);
/* The same in substance (status.h); NULL only equals NULL. */
bool tg_statusprev_same(const tg_statusprev *a, const tg_statusprev *b);
/* json_equal of a plain member (TG_STATUSPREV_*): false when missing. */
bool tg_statusprev_plain_equal(const tg_statusprev *a,
                               const tg_statusprev *b,
                               int which);
/* cur has an artifact whose digest or verdict is not prev's. */
bool tg_statusprev_artifact_changed(const tg_statusprev *prev,
                                    const tg_statusprev *cur);

/*
 * The digests file (stateDir): the summary of the status committed as
 * commit (hex). Load gives *out NULL (0) when the file is missing, names
 * another commit, or is torn or tampered with (warned); save writes it
 * atomically.
 */
TG_WUR int
tg_statusprev_load(tg_statusprev **out, const char *path, const char *commit);
TG_WUR int tg_statusprev_save(const tg_statusprev *p,
                              const char *path,
                              const char *commit);

/* The commit message from prev (NULL for the first status) to doc, whose
 * summary is cur. */
TG_WUR int tg_statusdoc_message(char **out,
                                const tg_statusprev *prev,
                                const tg_statusprev *cur,
                                const json_t *doc);

/* Append s on one line, unsafe characters as U+FFFD (a newline as a
 * space), at most max bytes (cut on a character boundary, "..." added). */
TG_WUR int tg_statusdoc_put_line(tg_buf *b, const char *s, size_t max);

/* Append s escaped for Markdown, on one line. */
TG_WUR int tg_statusdoc_put_md(tg_buf *b, const char *s);

/* The reasons of a failing image, one per line, each after indent. */
TG_WUR int
tg_statusdoc_put_reasons(tg_buf *b, const json_t *img, const char *indent);

/*
 * The units of doc (summary cur), blocked first then by name, with those
 * only in prev as "removed"; *n_out entries, owned by the caller (free()).
 * prev and cur may be NULL (every unit then counts as changed).
 */
tg_statusdoc_unit *tg_statusdoc_units(size_t *n_out,
                                      const tg_statusprev *prev,
                                      const tg_statusprev *cur,
                                      const json_t *doc);

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

/* statusjson.c: status.json and units/<unit>.json written as
 * json_dump_callback(JSON_INDENT(2) | JSON_SORT_KEYS) writes them, byte
 * for byte, with each image entry the units share written once. The
 * entries of doc's units are taken when the set is made: made before any
 * thread writes, read only after. */
typedef struct tg_status_frags tg_status_frags;
tg_status_frags *tg_status_frags_new(const json_t *doc);
void tg_status_frags_free(tg_status_frags *f);
/* v (an object or an array) to put, in pieces; -1 when jansson could not
 * write it either (a string that is not UTF-8). frags may be NULL. */
int tg_status_json_write(const json_t *v,
                         const tg_status_frags *frags,
                         tg_gitrepo_put_fn put,
                         void *wctx);

#endif
