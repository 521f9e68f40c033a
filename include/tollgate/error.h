/*
 * Error codes and the per-thread error detail.
 *
 * Functions return 0 on success or one of the negative codes below; the
 * human-readable detail (which input, what failed, what to do) is recorded
 * where the failure happens with tg_error_set() and read with
 * tg_error_last(). The detail is per thread, like errno.
 */
#ifndef TOLLGATE_ERROR_H
#define TOLLGATE_ERROR_H

#include <stdarg.h>

enum {
	TG_OK = 0,
	TG_ERROR = -1,      /* generic failure; the detail says what */
	TG_ENOTFOUND = -2,  /* the thing asked for does not exist */
	TG_EPARSE = -3,     /* input does not follow its grammar */
	TG_ETOOBIG = -4,    /* input is over a named limit */
	TG_EUNTRUSTED = -5, /* a signature or proof does not verify */
	TG_EEXPIRED = -6,   /* valid once, not now (certificate, exception) */
	TG_EINVALID = -7,   /* well-formed but not allowed (bad value) */
	TG_ENET = -8,       /* network or remote server failure */
	TG_EAUTH = -9,      /* credentials refused or missing */
	TG_ECONFLICT = -10, /* the remote state moved under us */
	TG_EIO = -11,       /* local file or system call failure */
};

/*
 * TG_WUR marks every public function that returns an int result (STYLE.md
 * 10): the caller must handle it. GCC does not accept a (void) cast as
 * handling, so a result dropped on purpose goes through tg_discard(), with
 * a comment at the call site saying why.
 */
#define TG_WUR __attribute__((warn_unused_result))

static inline void tg_discard(int result)
{
	(void)result;
}

/* Longest detail kept; longer messages are truncated with "...". */
#define TG_ERROR_MAX 2048

/*
 * Record a detail for the calling thread and return code, so a failure site
 * can write `return tg_error_set(TG_EPARSE, "%s:%d: ...", ...)`.
 */
TG_WUR int tg_error_set(int code, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
TG_WUR int tg_error_setv(int code, const char *fmt, va_list ap);

/*
 * Put "prefix: " in front of the current detail (for callers that add the
 * name of the input) and return code.
 */
TG_WUR int tg_error_prefix(int code, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The calling thread's last detail; "" when none. Borrowed until next set. */
const char *tg_error_last(void);

/* The code recorded with the last detail (TG_OK when none). */
TG_WUR int tg_error_code(void);

void tg_error_clear(void);

/* A short name for a code: "parse error", "not found", ... */
const char *tg_error_name(int code);

/*
 * Append OpenSSL's error queue (and clear it) to the current detail, so the
 * library's reason reaches the user.
 */
TG_WUR int tg_error_add_openssl(int code);

#endif
