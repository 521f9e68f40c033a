/*
 * Status in Git (DESIGN.md 3.6): the status branch, with its own history,
 * holds status.json, units/<unit>.json and STATUS.md; a commit is written
 * only when something of substance changed; a note on the source commit
 * under refs/notes/tollgate carries the verdict lines. Both refs are pushed
 * to the source remote; a push refused because the remote moved is rebuilt
 * on the new tip and retried (TG_STATUS_PUSH_ATTEMPTS).
 *
 * The status document (a jansson object; README.md "Status in Git"):
 *
 *   {
 *     "sourceCommit": "<40 hex>",                      required
 *     "sourceUrl": "...", "sourceBranch": "main",      optional
 *     "time": "2026-11-23T04:50:00Z",                  optional
 *     "units": {                                       required
 *       "<unit>": {
 *         "verdict": "applied|blocked|failed|unchanged",   required
 *         "message": "why it failed",                      optional
 *         "images": [ {                                    optional
 *             "ref": "registry.example.com/api:1.2",       required
 *             "digest": "sha256:...",                      optional
 *             "verdict": "allowed|warned|blocked|error",   required
 *             "reasons": ["..."],                          optional
 *             "checks": [ ... ], ...   the verifier's verdict, kept as is
 *         } ],
 *         "objects": [ ... ], "health": ...            optional, kept as is
 *       } },
 *     "drift": [ {"unit", "kind", "namespace", "name",
 *                 "fields": [{"path", "manager"}]} ],  optional
 *     "violations": [ {"unit", "ref", "digest",
 *                      "reasons": ["..."]} ]            optional
 *   }
 *
 * An image counts as failing verification unless its verdict is "allowed"
 * or "warned". Substance: two documents are the same when they are equal
 * after removing every member named "time", "timestamp" or "durationMs" or
 * ending in "At" (at any depth), and reading unit verdict "unchanged" as
 * "applied" (a unit applied earlier and left alone is not news).
 */
#ifndef TOLLGATE_STATUS_H
#define TOLLGATE_STATUS_H

#include <stdbool.h>

#include <jansson.h>

#include "tollgate/error.h"
#include "tollgate/gitrepo.h"

/* Where the cache tracks the remote's status branch and notes ref. */
#define TG_STATUS_TRACK_BRANCH "refs/tollgate/remote/status"
#define TG_STATUS_TRACK_NOTES "refs/tollgate/remote/notes"

typedef struct tg_status_opts {
	const char *branch;      /* e.g. "tollgate/status" */
	const char *notes_ref;   /* e.g. "refs/notes/tollgate" */
	const char *author_name; /* commit author and committer */
	const char *author_email;
	bool push; /* false: commit in the local cache only */
	/* The caller fetched the status branch and notes into
	 * TG_STATUS_TRACK_BRANCH / TG_STATUS_TRACK_NOTES this cycle (with
	 * tg_source_fetch_with): the first attempt uses them as they are; a
	 * refused push fetches again. */
	bool tips_fetched;
	/* The status digests file (stateDir/status-digests), NULL for none:
	 * the digests of the status last committed, so that an unchanged
	 * tip's status.json need not be read back (reconciler/report/
	 * statusprev_file.c). */
	const char *digests_path;
	/* Test seam, NULL in production: called before each push attempt
	 * (0, 1, ...) so a test can move the remote in between. */
	void (*before_push)(void *ctx, int attempt);
	void *before_push_ctx;
	/* Optional, for a caller that can read the document back: once an
	 * attempt's commits are written, doc_release(doc_ctx) is called
	 * before the push and the document is not read again, so that its
	 * memory and the push's (libgit2 reads each object whole) do not
	 * add; an attempt after a refused push gets it from
	 * doc_reload(doc_ctx) (NULL: the publish fails). */
	void (*doc_release)(void *ctx);
	const json_t *(*doc_reload)(void *ctx);
	void *doc_ctx;
} tg_status_opts;

typedef struct tg_status_result {
	bool committed;                  /* a new status commit was written */
	bool pushed;                     /* ... and pushed with its note */
	int attempts;                    /* pushes tried */
	char commit[TG_GITREPO_OID_HEX]; /* the status branch tip now ("" if
	                                   none) */
} tg_status_result;

/*
 * Write the status document doc for the source commit it names: fetch the
 * status branch and notes ref, compare with the status.json at the tip,
 * and when something of substance changed commit (parent: the tip; no
 * parent for the first), add the note, and push both. 0 (also when nothing
 * changed); TG_EINVALID (doc does not follow the schema, or the status
 * branch shares history with the deploy branch); TG_ECONFLICT (the remote
 * kept moving for TG_STATUS_PUSH_ATTEMPTS tries); the network errors of
 * tg_source_fetch(). A failure never touches the deploy branch; the caller
 * logs it and tries again next cycle.
 */
TG_WUR int tg_status_publish(tg_status_result *out,
                             tg_gitrepo *repo,
                             const tg_status_opts *opts,
                             const json_t *doc);

/* Check doc against the schema above. 0 or TG_EINVALID naming the member. */
TG_WUR int tg_status_validate(const json_t *doc);

/* True when a and b are the same in substance (see above). */
bool tg_status_same(const json_t *a, const json_t *b);

/*
 * The commit message for going from prev (NULL for the first status) to
 * doc: subject, blank line, body, blank line, trailers, into *out (caller
 * frees). TG_ETOOBIG, *out NULL, when it would pass TG_STATUS_TEXT_MAX.
 */
TG_WUR int tg_status_message(char **out, const json_t *prev, const json_t *doc);

/* The note for the source commit: one "unit: verdict (detail)" line per
 * unit, into *out (caller frees); TG_ETOOBIG as tg_status_message. */
TG_WUR int tg_status_note(char **out, const json_t *doc);

/* STATUS.md: a table per unit, blocked first; untrusted text escaped;
 * into *out (caller frees); TG_ETOOBIG as tg_status_message. */
TG_WUR int tg_status_markdown(char **out, const json_t *doc);

#endif
