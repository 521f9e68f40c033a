/* Per-thread error detail: see include/tollgate/error.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "tollgate/error.h"
#include "tollgate/limits.h"

static _Thread_local struct {
	int code;
	char msg[TG_ERROR_MAX];
} last;

int tg_error_setv(int code, const char *fmt, va_list ap)
{
	int n;

	last.code = code;
	n = vsnprintf(last.msg, sizeof(last.msg), fmt, ap);
	if (n >= (int)sizeof(last.msg))
		memcpy(last.msg + sizeof(last.msg) - 4, "...", 4);
	return code;
}

int tg_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = tg_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

int tg_error_prefix(int code, const char *fmt, ...)
{
	char prefix[TG_ERROR_MAX], old[TG_ERROR_MAX];
	va_list ap;

	memcpy(old, last.msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (old[0])
		return tg_error_set(code, "%s: %s", prefix, old);
	return tg_error_set(code, "%s", prefix);
}

const char *tg_error_last(void)
{
	return last.msg;
}

int tg_error_code(void)
{
	return last.code;
}

void tg_error_clear(void)
{
	last.code = TG_OK;
	last.msg[0] = '\0';
}

const char *tg_error_name(int code)
{
	switch (code) {
	case TG_OK:
		return "ok";
	case TG_ENOTFOUND:
		return "not found";
	case TG_EPARSE:
		return "parse error";
	case TG_ETOOBIG:
		return "too big";
	case TG_EUNTRUSTED:
		return "untrusted";
	case TG_EEXPIRED:
		return "expired";
	case TG_EINVALID:
		return "invalid";
	case TG_ENET:
		return "network error";
	case TG_EAUTH:
		return "authentication failed";
	case TG_ECONFLICT:
		return "conflict";
	case TG_EIO:
		return "I/O error";
	default:
		return "error";
	}
}

int tg_error_add_openssl(int code)
{
	char detail[TG_ERROR_OPENSSL_MAX];
	unsigned long e;
	size_t used = strlen(last.msg);

	/* Report the oldest error (the root cause) and drop the rest so a
	 * later check does not inherit a stale queue. */
	e = ERR_get_error();
	if (e != 0) {
		ERR_error_string_n(e, detail, sizeof(detail));
		snprintf(last.msg + used, sizeof(last.msg) - used,
		         " (openssl: %s)", detail);
	}
	ERR_clear_error();
	last.code = code;
	return code;
}
