/*
 * tollgate.yaml: the walk's building blocks, shared by the sections
 * (config_source.c, config_cluster.c) and config.c through config_int.h:
 * errors with the position of their key, key paths, and members read
 * through the schema walker (include/tollgate/schema.h) with their
 * presence, type and value checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config_int.h"
#include "tollgate/buf.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/util.h"
#include "tollgate/yaml.h"

/*
 * Record one error at the position of k ("" = the document). The list is
 * bounded by TG_ERROR_MAX: a message that does not fit is cut short, and
 * the load fails with x->code all the same, so dropped tg_buf results below
 * lose text, never an error.
 */
void tg_config__error(tg_config__ctx *x,
                      const tg_config__key *k,
                      int code,
                      const char *fmt,
                      ...)
{
	va_list ap;

	if (x->nerrors++ >= TG_CONFIG_MAX_ERRORS)
		return;
	if (!x->code)
		x->code = code;
	if (x->errors.len)
		tg_discard(tg_buf_puts(&x->errors, "\n"));
	tg_discard(tg_schema_where(&x->errors, x->docs, x->name,
	                           k ? k->ptr : "", k ? k->path : ""));
	va_start(ap, fmt);
	tg_discard(tg_buf_vprintf(&x->errors, fmt, ap));
	va_end(ap);
}

/* The key of member name (or array index when name is NULL) under parent;
 * on a pointer or path longer than TG_CONFIG_KEY_PATH_MAX, the parent's. */
void tg_config__key_child(tg_config__key *out,
                          const tg_config__key *parent,
                          const char *name,
                          size_t index)
{
	tg_buf ptr, path;

	tg_buf_init(&ptr, sizeof(out->ptr) - 1);
	tg_buf_init(&path, sizeof(out->path) - 1);
	if (tg_schema_child(&ptr, &path, parent ? parent->ptr : "",
	                    parent ? parent->path : "", name, index) == 0) {
		tg_strlcpy(out->ptr, ptr.data ? ptr.data : "",
		           sizeof(out->ptr));
		tg_strlcpy(out->path, path.data ? path.data : "",
		           sizeof(out->path));
	} else if (parent) {
		*out = *parent;
	} else {
		out->ptr[0] = out->path[0] = '\0';
	}
	tg_buf_free(&ptr);
	tg_buf_free(&path);
}

/* A check of a mapping's keys under way. */
typedef struct cfg_keys {
	tg_config__ctx *x;
	const tg_config__key *k;
} cfg_keys;

static int record_unknown(void *arg, const char *key, const char *msg)
{
	cfg_keys *w = arg;
	tg_config__key ck;

	tg_config__key_child(&ck, w->k, key, 0);
	tg_config__error(w->x, &ck, TG_EINVALID, "%s", msg);
	return 0;
}

void tg_config__check_keys(tg_config__ctx *x,
                           const json_t *obj,
                           const tg_config__key *k,
                           const char *const *known)
{
	cfg_keys w = { x, k };

	if (tg_schema_check_keys(obj, known, record_unknown, &w) < 0)
		tg_config__error(x, k, TG_EINVALID,
		                 "unknown key"); /* did not fit */
}

/*
 * Member name of obj when it has type t; NULL otherwise, with the error
 * recorded unless it is absent (or null) and not required. A missing
 * required key is reported at the parent.
 */
json_t *tg_config__member(tg_config__ctx *x,
                          const json_t *obj,
                          const tg_config__key *parent,
                          const char *name,
                          tg_schema_type t,
                          bool required,
                          tg_config__key *k)
{
	tg_schema_want want = { t, required, true, TG_SCHEMA_EXPECTED };
	tg_buf msg;
	json_t *v;
	int r;

	tg_config__key_child(k, parent, name, 0);
	tg_buf_init(&msg, TG_SCHEMA_MESSAGE_MAX);
	r = tg_schema_get(&v, &msg, obj, name, &want);
	if (r != 0)
		tg_config__error(x, r == TG_SCHEMA_MISSING ? parent : k,
		                 TG_EINVALID, "%s", msg.data ? msg.data : "");
	tg_buf_free(&msg);
	return v;
}

/* Strings: no control characters (they would reach logs and commits). */
bool tg_config__str_is_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A string member copied into *out (left as is when absent). */
const char *tg_config__get_str(tg_config__ctx *x,
                               const json_t *obj,
                               const tg_config__key *parent,
                               const char *name,
                               bool required,
                               char **out,
                               tg_config__key *k)
{
	json_t *v = tg_config__member(x, obj, parent, name, TG_SCHEMA_STRING,
	                              required, k);
	const char *s;

	if (!v)
		return NULL;
	s = json_string_value(v);
	if (!*s || !tg_config__str_is_clean(s)) {
		tg_config__error(x, k, TG_EINVALID,
		                 !*s ? "must not be empty"
		                     : "must not contain control characters");
		return NULL;
	}
	free(*out);
	*out = tg_strdup(s);
	return *out;
}

/* A path member, resolved against the configuration's directory. */
void tg_config__get_path(tg_config__ctx *x,
                         const json_t *obj,
                         const tg_config__key *parent,
                         const char *name,
                         bool required,
                         char **out)
{
	tg_config__key k;
	char *p = NULL;

	if (!tg_config__get_str(x, obj, parent, name, required, &p, &k))
		return;
	free(*out);
	*out = p[0] == '/' ? p : tg_path_join(x->base_dir, p);
	if (*out != p)
		free(p);
}

void tg_config__get_bool(tg_config__ctx *x,
                         const json_t *obj,
                         const tg_config__key *parent,
                         const char *name,
                         bool *out)
{
	tg_config__key k;
	json_t *v = tg_config__member(x, obj, parent, name, TG_SCHEMA_BOOL,
	                              false, &k);

	if (v)
		*out = json_is_true(v);
}

/* A duration ("30s", "5m", "1h30m") of at least min seconds. */
void tg_config__get_duration(tg_config__ctx *x,
                             const json_t *obj,
                             const tg_config__key *parent,
                             const char *name,
                             int64_t min,
                             int64_t *out)
{
	tg_config__key k;
	json_t *v = json_object_get(obj, name);
	int64_t secs;

	tg_config__key_child(&k, parent, name, 0);
	if (!v || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		tg_config__error(
		        x, &k, TG_EINVALID,
		        "expected a duration such as 30s, 5m or 1h, got %s",
		        tg_schema_type_name(v));
		return;
	}
	if (tg_parse_duration(&secs, json_string_value(v)) < 0) {
		tg_config__error(
		        x, &k, TG_EINVALID,
		        "\"%s\" is not a duration (use e.g. 30s, 5m, 1h)",
		        json_string_value(v));
		tg_error_clear();
		return;
	}
	if (secs < min) {
		tg_config__error(x, &k, TG_EINVALID,
		                 "\"%s\" is below the minimum %llds",
		                 json_string_value(v), (long long)min);
		return;
	}
	*out = secs;
}

/* A mapping member; NULL when absent or of another type (recorded). */
json_t *tg_config__get_map(tg_config__ctx *x,
                           const json_t *obj,
                           const tg_config__key *parent,
                           const char *name,
                           tg_config__key *k,
                           const char *const *known)
{
	json_t *v = tg_config__member(x, obj, parent, name, TG_SCHEMA_MAPPING,
	                              false, k);

	if (v)
		tg_config__check_keys(x, v, k, known);
	return v;
}
