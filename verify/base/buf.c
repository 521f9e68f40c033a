/* Bounded growable buffer: see include/tollgate/buf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/util.h"

void tg_buf_init(tg_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int buf_reserve(tg_buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > b->max || b->len > b->max - extra)
		return tg_error_set(TG_ETOOBIG,
		                    "more than the limit of %zu bytes", b->max);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = tg_realloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int tg_buf_append(tg_buf *b, const void *data, size_t len)
{
	int error;

	if ((error = buf_reserve(b, len)) < 0)
		return error;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int tg_buf_puts(tg_buf *b, const char *s)
{
	return tg_buf_append(b, s, strlen(s));
}

int tg_buf_vprintf(tg_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n, error;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return tg_error_set(TG_ERROR, "bad format string");
	if ((error = buf_reserve(b, (size_t)n)) < 0)
		return error;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int tg_buf_printf(tg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int error;

	va_start(ap, fmt);
	error = tg_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return error;
}

char *tg_buf_detach(size_t *len_out, tg_buf *b)
{
	char *data = b->data ? b->data : tg_strdup("");

	if (len_out)
		*len_out = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return data;
}

void tg_buf_clear(tg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void tg_buf_free(tg_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
