/* Logging hooks: see include/tollgate/log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tollgate/limits.h"
#include "tollgate/log.h"
#include "tollgate/util.h"

static tg_log_handler handler;
static void *handler_ctx;
static tg_log_level min_level = TG_LOG_INFO;

void tg_log_set_handler(tg_log_handler fn, void *ctx)
{
	handler = fn;
	handler_ctx = ctx;
}

void tg_log_set_level(tg_log_level min)
{
	min_level = min;
}

static const char *const level_names[] = { "debug", "info", "warn", "error" };

const char *tg_log_level_name(tg_log_level level)
{
	return level <= TG_LOG_ERROR ? level_names[level] : "error";
}

int tg_log_parse_level(tg_log_level *out, const char *s)
{
	int i;

	for (i = 0; i <= TG_LOG_ERROR; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (tg_log_level)i;
			return 0;
		}
	}
	return -1;
}

void tg_log(tg_log_level level, const char *msg, ...)
{
	tg_log_field fields[TG_LOG_MAX_FIELDS];
	size_t n = 0;
	va_list ap;
	const char *key;

	if (!handler || level < min_level)
		return;
	va_start(ap, msg);
	while (n < TG_LOG_MAX_FIELDS && (key = va_arg(ap, const char *))) {
		fields[n].key = key;
		fields[n].value = va_arg(ap, const char *);
		if (!fields[n].value)
			fields[n].value = "";
		n++;
	}
	va_end(ap);
	handler(level, msg, fields, n, handler_ctx);
}

/* A value needs quotes in logfmt when it is empty or holds a space, quote,
 * '=' or control character. */
static int needs_quotes(const char *v)
{
	if (!*v)
		return 1;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || *v == '"' || *v == '=')
			return 1;
	return 0;
}

static void put_text_value(FILE *f, const char *v)
{
	if (!needs_quotes(v)) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else if ((unsigned char)*v < ' ')
			fprintf(f, "\\x%02x", (unsigned char)*v);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

void tg_log_text_handler(tg_log_level level,
                         const char *msg,
                         const tg_log_field *fields,
                         size_t nfields,
                         void *ctx)
{
	char ts[21];
	size_t i;

	(void)ctx;
	tg_format_rfc3339(ts, tg_now());
	flockfile(stderr);
	fprintf(stderr, "%s %-5s %s", ts, tg_log_level_name(level), msg);
	for (i = 0; i < nfields; i++) {
		fprintf(stderr, " %s=", fields[i].key);
		put_text_value(stderr, fields[i].value);
	}
	fputc('\n', stderr);
	funlockfile(stderr);
}

void tg_log_json_handler(tg_log_level level,
                         const char *msg,
                         const tg_log_field *fields,
                         size_t nfields,
                         void *ctx)
{
	char ts[21];
	json_t *o = json_object();
	char *line;
	size_t i;

	(void)ctx;
	tg_format_rfc3339(ts, tg_now());
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "level", json_string(tg_log_level_name(level)));
	json_object_set_new(o, "msg", json_string(msg));
	for (i = 0; i < nfields; i++)
		json_object_set_new(o, fields[i].key,
		                    json_string(fields[i].value));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	json_decref(o);
}
