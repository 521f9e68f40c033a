/*
 * The verdict cache: verdicts kept across tg_verifier_verify() calls and
 * runs, keyed by policy hash and subject, each valid for a TTL.
 *
 * Implemented in verify/verdict/verdict_cache.c.
 */
#ifndef TOLLGATE_VERDICT_CACHE_H
#define TOLLGATE_VERDICT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tollgate/error.h"
#include "tollgate/verdict.h"

typedef struct tg_verdict_cache tg_verdict_cache;

/* An empty cache into *out (caller frees with tg_verdict_cache_free);
 * ttl_seconds 0 means TG_VERDICT_CACHE_DEFAULT_TTL_S (limits.h). 0; out of
 * memory aborts (tg_oom). */
TG_WUR int tg_verdict_cache_new(tg_verdict_cache **out, int64_t ttl_seconds);
void tg_verdict_cache_free(tg_verdict_cache *c);
/* Forget every verdict (the trust root they were reached with changed). */
void tg_verdict_cache_clear(tg_verdict_cache *c);

/*
 * Cache keys are (policy hash, subject); the subject is what a verdict
 * depends on besides the policy: "<name>@<digest>", plus ":<tag>" before
 * the "@" when the rule's signedIdentity is exact. Entries older than the
 * TTL at now, or past the time their verdict depended on
 * (tg_verdict_valid_until: an exception's expiry, maxScanAge, maxImageAge,
 * a certificate checked at the current time), are not returned. The
 * lookup returns a copy (caller frees) or NULL; on NULL, when the entry
 * was there and within the TTL but past its validUntil, *expired_out (may
 * be NULL) gets a copy of it (caller frees), so the caller can say why it
 * verified again.
 */
tg_verdict *tg_verdict_cache_get(tg_verdict_cache *c,
                                 const char *policy_hash,
                                 const char *subject,
                                 int64_t now,
                                 tg_verdict **expired_out);
/* Store a copy of v, stamped with now and served up to
 * tg_verdict_valid_until(v). */
void tg_verdict_cache_put(tg_verdict_cache *c,
                          const char *policy_hash,
                          const char *subject,
                          const tg_verdict *v,
                          int64_t now);
size_t tg_verdict_cache_count(const tg_verdict_cache *c);
/* Drop entries older than the TTL at now (one past its validUntil is
 * never served, and kept until then only to say why). */
void tg_verdict_cache_expire(tg_verdict_cache *c, int64_t now);

/*
 * Persist to / read from a JSON file (atomic write). Each entry keeps its
 * "validUntil" (Unix seconds, null for none). Loading merges into c and
 * drops entries past the TTL and entries without "validUntil" (an older
 * format: what they depended on is unknown); a missing file is 0 (empty
 * cache); a corrupt one is TG_EPARSE naming the path (the caller may start
 * empty).
 */
TG_WUR int tg_verdict_cache_save(const tg_verdict_cache *c, const char *path);
TG_WUR int
tg_verdict_cache_load(tg_verdict_cache *c, const char *path, int64_t now);

#endif
