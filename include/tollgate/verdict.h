/*
 * Verdicts: what tollgate decided about one image and why.
 *
 * A verdict names the image as written, its normalised name and resolved
 * digest, the policy rule and mode that applied, and a list of checks
 * (registry, signature, sbom, vulnerabilities, provenance, age). Each check
 * has a result, the reasons for anything but a pass, and evidence (which
 * key signed, how many signatures were seen, ...). The JSON form is stable:
 * it is written into status commits and the verdict cache.
 *
 * {"image": "...", "name": "...", "digest": "sha256:...",
 *  "verdict": "allowed|blocked|warned", "rule": "...", "mode": "enforce|warn",
 *  "checks": [{"name": "signature", "result": "pass|fail|warn|waived|skipped",
 *              "reasons": ["..."], "notes": ["..."], "evidence": {...}}],
 *  "platforms": [{"digest": "sha256:...", "platform": "linux/amd64"}],
 *  "verifiedAt": "2026-01-02T03:04:05Z", "validUntil": "..."}
 * A check whose outcome holds only until some time (an exception's
 * expiry, maxScanAge, maxImageAge, a certificate checked at the current
 * time) carries "validUntil": {"time": "...", "reason": "..."}; the
 * verdict's "validUntil" is the earliest of them (absent when none).
 */
#ifndef TOLLGATE_VERDICT_H
#define TOLLGATE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/check.h"
#include "tollgate/error.h"

typedef enum {
	TG_VERDICT_ALLOWED = 0,
	TG_VERDICT_WARNED,
	TG_VERDICT_BLOCKED,
} tg_verdict_kind;

/* How a check counts in a verdict. */
typedef enum {
	TG_CHECK_PASS = 0,
	TG_CHECK_FAIL,
	TG_CHECK_WARN,    /* failed under a rule in warn mode */
	TG_CHECK_WAIVED,  /* failed, but an active exception waives it */
	TG_CHECK_SKIPPED, /* not required by the rule and nothing to check */
} tg_check_result;

/* Check names used in verdicts. */
#define TG_CHECK_REGISTRY "registry"
#define TG_CHECK_SIGNATURE "signature"
#define TG_CHECK_SBOM "sbom"
#define TG_CHECK_VULNERABILITIES "vulnerabilities"
#define TG_CHECK_PROVENANCE "provenance"
#define TG_CHECK_AGE "age"

typedef struct tg_verdict tg_verdict;

/* A new verdict for image (as written) into *out (caller frees with
 * tg_verdict_free). Blocked until tg_verdict_finish() says otherwise, so a
 * verdict left half-built never allows anything. 0; out of memory aborts
 * (tg_oom). */
TG_WUR int tg_verdict_new(tg_verdict **out, const char *image);
void tg_verdict_free(tg_verdict *v);
/* A copy of v into *out (caller frees). 0, or TG_EPARSE when v's JSON form
 * does not read back (a bug: it always should). */
TG_WUR int tg_verdict_dup(tg_verdict **out, const tg_verdict *v);

void tg_verdict_set_image(tg_verdict *v, const char *image);
void tg_verdict_set_name(tg_verdict *v, const char *name);
void tg_verdict_set_digest(tg_verdict *v, const char *digest);
/* mode is "enforce" or "warn". */
void tg_verdict_set_rule(tg_verdict *v, const char *rule, const char *mode);
void tg_verdict_set_time(tg_verdict *v, int64_t unix_time);
/* One platform manifest of an index image. */
void tg_verdict_add_platform(tg_verdict *v,
                             const char *digest,
                             const char *platform);

/*
 * Add a check (check.h) with how it counts; v takes ownership of
 * check. A result of TG_CHECK_PASS for a check that did not pass is turned
 * into TG_CHECK_FAIL: nothing passes that its own check failed.
 */
void tg_verdict_add_check(tg_verdict *v,
                          tg_check *check,
                          tg_check_result result);

/*
 * A failed check made on the spot: name, one reason (printf format), result
 * TG_CHECK_FAIL. For the registry check and registry errors.
 */
void tg_verdict_fail(tg_verdict *v, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * The earliest time (inclusive) up to which every check of v holds
 * (tg_check_valid_until), TG_TIME_NEVER when none is bounded; *check_out
 * and *why_out (either may be NULL) borrow the name of the check that
 * ends first and what ends it. The verdict cache never serves v past it.
 */
int64_t tg_verdict_valid_until(const tg_verdict *v,
                               const char **check_out,
                               const char **why_out);

/* A note on the check named name (nothing when v has none). */
void tg_verdict_note(tg_verdict *v, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Index of the check named name, or -1. */
long tg_verdict_find_check(const tg_verdict *v, const char *name);

/*
 * Compute the verdict from the checks: any TG_CHECK_FAIL blocks; any
 * TG_CHECK_WARN warns; otherwise allowed. A verdict with no checks at all
 * is blocked.
 */
void tg_verdict_finish(tg_verdict *v);

const char *tg_verdict_image(const tg_verdict *v);
const char *tg_verdict_name(const tg_verdict *v);   /* NULL if unset */
const char *tg_verdict_digest(const tg_verdict *v); /* NULL if unset */
const char *tg_verdict_rule(const tg_verdict *v);   /* NULL if unset */
const char *tg_verdict_mode(const tg_verdict *v);   /* NULL if unset */
int64_t tg_verdict_time(const tg_verdict *v);
tg_verdict_kind tg_verdict_get(const tg_verdict *v);
size_t tg_verdict_check_count(const tg_verdict *v);
/* Borrowed; NULL past the end. */
const tg_check *tg_verdict_check(const tg_verdict *v, size_t i);
tg_check_result tg_verdict_check_result(const tg_verdict *v, size_t i);
size_t tg_verdict_platform_count(const tg_verdict *v);
/* Borrowed; either out pointer may be NULL. */
void tg_verdict_platform(const tg_verdict *v,
                         size_t i,
                         const char **digest,
                         const char **platform);

const char *tg_verdict_kind_name(tg_verdict_kind k); /* "allowed" ... */
const char *tg_check_result_name(tg_check_result r); /* "pass" ... */
TG_WUR int tg_verdict_kind_parse(tg_verdict_kind *out, const char *s);
TG_WUR int tg_check_result_parse(tg_check_result *out, const char *s);

/* The stable JSON form (a new reference). Checks are
 * {"name", "result", "reasons": [...], "notes": [...], "evidence": {...}}. */
json_t *tg_verdict_to_json(const tg_verdict *v);
/* Read the JSON form back (the cache). 0 or TG_EPARSE with a message. */
TG_WUR int tg_verdict_from_json(tg_verdict **out, const json_t *j);

/*
 * Text for people: one line with the verdict, then one line per reason in
 * the form "<name>@<digest>: <check>: <reason>" (STYLE.md rule 11).
 * Appends to b.
 */
TG_WUR int tg_verdict_format_text(tg_buf *b, const tg_verdict *v);

#endif
