/*
 * Canonical JSON as TUF signs it (OLPC canonical JSON, the form
 * securesystemslib's encode_canonical writes): see include/tollgate/tuf.h.
 *
 * - objects: members sorted by the bytes of their keys (UTF-8 byte order
 *   is Unicode code point order), "key":value joined by ',' and no space;
 * - strings: the UTF-8 bytes as they are, only '"' and '\' escaped with a
 *   backslash (control characters are written raw, as OLPC says);
 * - numbers: integers only (OLPC has no floating point);
 * - true, false, null as in JSON.
 * The bytes a signer and tollgate compute must be identical, so nothing
 * here is left to jansson's own encoder.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/tuf.h"
#include "tollgate/util.h"

static int canon_value(tg_buf *b, const json_t *v, unsigned depth);

static int canon_string(tg_buf *b, const char *s, size_t len)
{
	size_t i, start = 0;
	int error;

	if ((error = tg_buf_append(b, "\"", 1)) < 0)
		return error;
	for (i = 0; i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		if ((error = tg_buf_append(b, s + start, i - start)) < 0 ||
		    (error = tg_buf_append(b, "\\", 1)) < 0)
			return error;
		start = i;
	}
	if ((error = tg_buf_append(b, s + start, len - start)) < 0)
		return error;
	return tg_buf_append(b, "\"", 1);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int canon_object(tg_buf *b, const json_t *v, unsigned depth)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys = tg_calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *m;
	int error;

	json_object_foreach((json_t *)v, k, m)
		keys[i++] = k;
	tg_qsort(keys, n, sizeof(*keys), cmp_keys);
	error = tg_buf_append(b, "{", 1);
	for (i = 0; i < n && !error; i++) {
		if (i > 0 && (error = tg_buf_append(b, ",", 1)) < 0)
			break;
		if ((error = canon_string(b, keys[i], strlen(keys[i]))) < 0 ||
		    (error = tg_buf_append(b, ":", 1)) < 0)
			break;
		error = canon_value(b, json_object_get(v, keys[i]), depth + 1);
	}
	if (!error)
		error = tg_buf_append(b, "}", 1);
	free(keys);
	return error;
}

static int canon_array(tg_buf *b, const json_t *v, unsigned depth)
{
	size_t i;
	int error;

	if ((error = tg_buf_append(b, "[", 1)) < 0)
		return error;
	for (i = 0; i < json_array_size(v); i++) {
		if (i > 0 && (error = tg_buf_append(b, ",", 1)) < 0)
			return error;
		if ((error = canon_value(b, json_array_get(v, i), depth + 1)) <
		    0)
			return error;
	}
	return tg_buf_append(b, "]", 1);
}

static int canon_value(tg_buf *b, const json_t *v, unsigned depth)
{
	if (depth > TG_TUF_MAX_DEPTH)
		return tg_error_set(TG_ETOOBIG, "nested deeper than %u levels",
		                    TG_TUF_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return canon_object(b, v, depth);
	case JSON_ARRAY:
		return canon_array(b, v, depth);
	case JSON_STRING:
		return canon_string(b, json_string_value(v),
		                    json_string_length(v));
	case JSON_INTEGER:
		return tg_buf_printf(b, "%" PRId64,
		                     (int64_t)json_integer_value(v));
	case JSON_TRUE:
		return tg_buf_puts(b, "true");
	case JSON_FALSE:
		return tg_buf_puts(b, "false");
	case JSON_NULL:
		return tg_buf_puts(b, "null");
	default:
		return tg_error_set(TG_EINVALID,
		                    "a real number (canonical JSON has "
		                    "integers only)");
	}
}

int tg_tuf_canonical_json(char **out, size_t *len, const json_t *v, size_t max)
{
	tg_buf b;
	int error;

	*out = NULL;
	*len = 0;
	tg_buf_init(&b, max);
	if ((error = canon_value(&b, v, 0)) < 0) {
		tg_buf_free(&b);
		return error;
	}
	*out = tg_buf_detach(len, &b);
	return 0;
}
