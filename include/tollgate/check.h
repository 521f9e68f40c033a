/*
 * The result of one verification check (tg_check): pass/fail, every
 * reason, notes that do not fail it, and evidence JSON for the status
 * documents. Made by the predicate checks (sbom.h, vuln.h, provenance.h,
 * image_age.h), cosign.h and the verifier.
 *
 * Implemented in verify/predicates/check.c.
 */
#ifndef TOLLGATE_CHECK_H
#define TOLLGATE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tollgate/error.h"

typedef struct tg_check tg_check;

/* A validity that nothing bounds (tg_check_valid_until). */
#define TG_TIME_NEVER INT64_MAX

/* A new check named name ("sbom", "vulnerabilities", "provenance",
 * "age", "signature", ...), passing, with empty evidence {}, into *out
 * (caller frees with tg_check_free). 0; out of memory aborts (tg_oom). */
TG_WUR int tg_check_new(tg_check **out, const char *name);
void tg_check_free(tg_check *check);

/* Record a reason and mark the check failed. */
void tg_check_fail(tg_check *check, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Record a note that does not fail the check (e.g. "CVE-x ignored by
 * policy", "waived by exception X"). */
void tg_check_note(tg_check *check, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

const char *tg_check_name(const tg_check *check);
bool tg_check_passed(const tg_check *check);
size_t tg_check_reason_count(const tg_check *check);
const char *tg_check_reason(const tg_check *check, size_t i);
size_t tg_check_note_count(const tg_check *check);
const char *tg_check_note_at(const tg_check *check, size_t i);
/*
 * The time up to which (inclusive, Unix seconds) the check's outcome holds
 * when nothing else changes: an exception's expiry, a scan or image time
 * plus its maximum age, a signing certificate's notAfter when it was
 * checked at the current time. Each call keeps the earliest; why (printf
 * format) says what ends it ("exception \"x\" expires 2026-12-31"). A
 * verdict built from the check is never served from the cache past it.
 */
void tg_check_bound(tg_check *check, int64_t until, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* TG_TIME_NEVER when nothing bounds it; *why_out (may be NULL) borrowed,
 * NULL then. */
int64_t tg_check_valid_until(const tg_check *check, const char **why_out);

/* Evidence object: borrowed; json_incref() to keep it, or add members. */
json_t *tg_check_evidence(const tg_check *check);
/* {"check": name, "passed": bool, "reasons": [...], "notes": [...],
 *  "evidence": {...}}: a new reference. */
json_t *tg_check_to_json(const tg_check *check);

#endif
