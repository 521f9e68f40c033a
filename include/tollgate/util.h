/*
 * Small bounded helpers shared by both sides: strings, numbers, encodings,
 * digests, durations and times, files. Every parser here takes a maximum
 * and reports bad input through tg_error_set().
 */
#ifndef TOLLGATE_UTIL_H
#define TOLLGATE_UTIL_H

#include <stdbool.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tollgate/error.h"
#include "tollgate/limits.h"

/* Allocation that aborts on OOM: tollgate cannot do anything useful when
 * malloc fails, and a NULL check at every call site hides real errors. */

/* The one place the library aborts: writes "tollgate: out of memory
 * allocating N bytes" to stderr, then abort(). For every allocation that
 * failed, ours or a dependency's (jansson, OpenSSL), with its size. */
__attribute__((noreturn)) void tg_oom(size_t n);
void *tg_malloc(size_t n);
void *tg_calloc(size_t n, size_t size);
void *tg_realloc(void *p, size_t n);
char *tg_strdup(const char *s);
/* pthread_create with every signal blocked in the new thread, so that
 * signals keep reaching the thread that was there before it. 0 or the
 * errno of pthread_create. */
int tg_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
char *tg_strndup(const char *s, size_t n);
/* Heap copy of the printf result. */
char *tg_aprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Elements in an array (not a pointer). */
#define TG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

bool tg_str_has_prefix(const char *s, const char *prefix);
bool tg_str_has_suffix(const char *s, const char *suffix);
/* Copy with truncation; always terminates; returns strlen(src). */
size_t tg_strlcpy(char *dst, const char *src, size_t size);

/* qsort and bsearch that take an empty array as NULL (C leaves passing a
 * NULL base undefined even for zero elements, and an empty list's array
 * is often NULL); bsearch of none finds nothing. */
void tg_qsort(void *base,
              size_t n,
              size_t size,
              int (*cmp)(const void *, const void *));
void *tg_bsearch(const void *key,
                 const void *base,
                 size_t n,
                 size_t size,
                 int (*cmp)(const void *, const void *));

/*
 * Parse a decimal unsigned integer from exactly s[0..len) with no sign,
 * spaces or leading '+', not above max. 0, or TG_EPARSE / TG_ETOOBIG
 * (then *out is 0).
 */
TG_WUR int tg_parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max);

/* Lowercase hex of data into out (2*len+1 bytes). */
void tg_hex_encode(char *out, const unsigned char *data, size_t len);
/* Decode exactly 2*out_len hex characters. 0 or TG_EPARSE. */
TG_WUR int tg_hex_decode(unsigned char *out,
                         size_t out_len,
                         const char *hex,
                         size_t hex_len);

/*
 * Standard base64 (RFC 4648 section 4, padding required, no whitespace
 * except that decode skips '\n' and '\r'). Decode output is malloc'd and
 * NUL-terminated (not counted). 0 or TG_EPARSE.
 */
TG_WUR int tg_base64_decode(unsigned char **out,
                            size_t *out_len,
                            const char *in,
                            size_t in_len);
char *tg_base64_encode(const unsigned char *data, size_t len);

/* "sha256:<64 lowercase hex>" of data, into out[72]. */
#define TG_DIGEST_STR_LEN 71
void tg_sha256_digest_str(char out[TG_DIGEST_STR_LEN + 1],
                          const void *data,
                          size_t len);
void tg_sha256(unsigned char out[TG_SHA256_LEN], const void *data, size_t len);

/*
 * SHA-256 of pieces added one after another: the digest of their
 * concatenation, without making it (tg_sha256_end frees the stream).
 * Only out of memory can fail, and that aborts as tg_malloc does.
 */
typedef struct tg_sha256_stream tg_sha256_stream;
tg_sha256_stream *tg_sha256_begin(void);
void tg_sha256_add(tg_sha256_stream *s, const void *data, size_t len);
void tg_sha256_end(unsigned char out[TG_SHA256_LEN], tg_sha256_stream *s);

/* True for "sha256:" + 64 lowercase hex, or "sha512:" + 128 lowercase hex. */
bool tg_digest_is_valid(const char *s);

/*
 * Durations as in the policy and config: a sequence of <number><unit> with
 * units d, h, m, s (e.g. "30s", "7d", "1h30m"). Seconds out; 0 or
 * TG_EPARSE with a message naming the value.
 */
TG_WUR int tg_parse_duration(int64_t *seconds_out, const char *s);

/*
 * RFC 3339 timestamps ("2026-01-02T03:04:05Z", fractional seconds and
 * numeric offsets accepted) to Unix time. 0 or TG_EPARSE.
 */
TG_WUR int tg_parse_rfc3339(int64_t *out, const char *s);
/* Calendar date "YYYY-MM-DD" to the Unix time of its end (23:59:59Z), so a
 * date given as "expires" is valid during that whole day. */
TG_WUR int tg_parse_date_end(int64_t *out, const char *s);
/* Format Unix time as "2026-01-02T03:04:05Z" into out[21]. */
void tg_format_rfc3339(char out[21], int64_t t);

/*
 * The clock. Tests replace it with tg_clock_set(); 0 restores the system
 * clock. Everything that compares with "now" calls tg_now().
 */
int64_t tg_now(void);
void tg_clock_set(int64_t fixed_unix_time);
/* A clock that runs, shifted by seconds (tests of a running agent: only
 * reconciler/cli/main.c sets it, from TOLLGATE_TEST_CLOCK_OFFSET). */
void tg_clock_set_offset(int64_t seconds);
/* The same, the offset read from the file path (decimal seconds) now and
 * again at most once a second while the clock is read, so that a test
 * can move a running agent's clock (path must stay valid). */
void tg_clock_set_offset_file(const char *path);
/* Monotonic seconds, for measuring durations. */
double tg_monotonic(void);

/*
 * Read a whole regular file of at most max bytes. The data is malloc'd and
 * NUL-terminated (not counted). 0, TG_ENOTFOUND, TG_ETOOBIG or TG_EIO, with
 * a message naming the path.
 */
TG_WUR int
tg_file_read(char **out, size_t *len_out, const char *path, size_t max);
/* Write atomically (temp file in the same directory, fsync, rename). */
TG_WUR int tg_file_write_atomic(const char *path, const void *data, size_t len);

/* Join two path parts with one '/'. */
char *tg_path_join(const char *a, const char *b);

/*
 * A relative path that stays inside its root: not empty, no leading '/',
 * no "." or ".." component, no empty component. Used for paths taken from
 * untrusted input (Git trees, policy key paths).
 */
bool tg_path_is_safe_relative(const char *p);

#endif
