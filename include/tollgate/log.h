/*
 * Logging hooks. The verify library never prints: it reports through the
 * handler installed here (none by default). The CLI installs a handler that
 * writes text or JSON lines to stderr.
 *
 * An event is a message plus optional fields given as NULL-terminated
 * key/value string pairs: tg_log(TG_LOG_INFO, "unit applied", "unit", name,
 * "commit", sha, NULL). Never pass a secret as a value.
 */
#ifndef TOLLGATE_LOG_H
#define TOLLGATE_LOG_H

#include <stddef.h>

#include "tollgate/error.h"

typedef enum {
	TG_LOG_DEBUG = 0,
	TG_LOG_INFO = 1,
	TG_LOG_WARN = 2,
	TG_LOG_ERROR = 3,
} tg_log_level;

typedef struct tg_log_field {
	const char *key;
	const char *value;
} tg_log_field;

typedef void (*tg_log_handler)(tg_log_level level,
                               const char *msg,
                               const tg_log_field *fields,
                               size_t nfields,
                               void *ctx);

void tg_log_set_handler(tg_log_handler fn, void *ctx);
void tg_log_set_level(tg_log_level min);
TG_WUR int tg_log_parse_level(tg_log_level *out, const char *s);
const char *tg_log_level_name(tg_log_level level);

/* Message, then key, value, key, value, ..., NULL. At most 16 fields. */
void tg_log(tg_log_level level, const char *msg, ...);

/* Ready-made handlers writing one line per event to stderr. */
void tg_log_text_handler(tg_log_level level,
                         const char *msg,
                         const tg_log_field *fields,
                         size_t nfields,
                         void *ctx);
void tg_log_json_handler(tg_log_level level,
                         const char *msg,
                         const tg_log_field *fields,
                         size_t nfields,
                         void *ctx);

#endif
