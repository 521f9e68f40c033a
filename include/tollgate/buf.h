/*
 * Growable byte buffer that cannot be created without a maximum size.
 * The data is always NUL-terminated (not counted in len) so text can be
 * passed to C string functions.
 */
#ifndef TOLLGATE_BUF_H
#define TOLLGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "tollgate/error.h"

typedef struct tg_buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* appends that would pass it fail with TG_ETOOBIG */
} tg_buf;

void tg_buf_init(tg_buf *b, size_t max);

/* 0, or TG_ETOOBIG (buffer unchanged) when len would pass max. */
TG_WUR int tg_buf_append(tg_buf *b, const void *data, size_t len);
TG_WUR int tg_buf_puts(tg_buf *b, const char *s);
TG_WUR int tg_buf_printf(tg_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
TG_WUR int tg_buf_vprintf(tg_buf *b, const char *fmt, va_list ap);

/* Hand the bytes to the caller (free()) and reset the buffer; the length
 * into *len_out unless it is NULL. Never NULL (an empty buffer yields "");
 * out of memory aborts (tg_oom). */
char *tg_buf_detach(size_t *len_out, tg_buf *b);

void tg_buf_clear(tg_buf *b);
/* Releases the bytes; the buffer may be reused. NULL is a no-op. */
void tg_buf_free(tg_buf *b);

#endif
