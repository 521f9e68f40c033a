/*
 * The positioned schema walker shared by tollgate.yaml and the policy
 * file: see include/tollgate/schema.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/limits.h"
#include "tollgate/schema.h"
#include "tollgate/yaml.h"

const char *tg_schema_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "a mapping";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "empty (null)";
	}
}

/* Append key to ptr as one RFC 6901 reference token. */
static int ptr_append(tg_buf *ptr, const char *key)
{
	int error = tg_buf_puts(ptr, "/");

	for (; error == 0 && *key; key++) {
		if (*key == '~')
			error = tg_buf_puts(ptr, "~0");
		else if (*key == '/')
			error = tg_buf_puts(ptr, "~1");
		else
			error = tg_buf_append(ptr, key, 1);
	}
	return error;
}

int tg_schema_child(tg_buf *ptr_out,
                    tg_buf *path_out,
                    const char *parent_ptr,
                    const char *parent_path,
                    const char *key,
                    size_t index)
{
	char idx[TG_SCHEMA_INDEX_TEXT_MAX];
	int error;

	tg_buf_clear(ptr_out);
	tg_buf_clear(path_out);
	snprintf(idx, sizeof(idx), "%zu", index);
	if ((error = tg_buf_puts(ptr_out, parent_ptr)) < 0 ||
	    (error = ptr_append(ptr_out, key ? key : idx)) < 0)
		return error;
	if (!key)
		return tg_buf_printf(path_out, "%s[%s]", parent_path, idx);
	if (*parent_path)
		return tg_buf_printf(path_out, "%s.%s", parent_path, key);
	return tg_buf_puts(path_out, key);
}

int tg_schema_where(tg_buf *out,
                    const tg_yaml_docs *docs,
                    const char *file,
                    const char *ptr,
                    const char *path)
{
	unsigned line, col;
	int error;

	tg_yaml_docs_line_at(&line, &col, docs, 0, ptr);
	if (line == 0)
		line = tg_yaml_docs_line(docs, 0);
	if (line == 0)
		line = 1;
	if (col == 0)
		col = 1;
	error = tg_buf_printf(out, "%s:%u:%u: ", file, line, col);
	if (error == 0 && path && *path)
		error = tg_buf_printf(out, "%s: ", path);
	return error;
}

/* Members -------------------------------------------------------------- */

static bool type_matches(const json_t *v, tg_schema_type type)
{
	switch (type) {
	case TG_SCHEMA_STRING:
		return json_is_string(v);
	case TG_SCHEMA_INTEGER:
		return json_is_integer(v);
	case TG_SCHEMA_NUMBER:
		return json_is_number(v);
	case TG_SCHEMA_BOOL:
		return json_is_boolean(v);
	case TG_SCHEMA_MAPPING:
		return json_is_object(v);
	default:
		return json_is_array(v);
	}
}

/* How the wanted type is named after "expected" or "must be". */
static const char *want_name(tg_schema_type type, tg_schema_words words)
{
	switch (type) {
	case TG_SCHEMA_STRING:
		return "a string";
	case TG_SCHEMA_INTEGER:
		return "an integer";
	case TG_SCHEMA_NUMBER:
		return "a number";
	case TG_SCHEMA_BOOL:
		return words == TG_SCHEMA_EXPECTED ? "a boolean (true or false)"
		                                   : "true or false";
	case TG_SCHEMA_MAPPING:
		return "a mapping";
	default:
		return "a list";
	}
}

static int wrong_type(tg_buf *msg_out, const json_t *v, tg_schema_want want)
{
	const char *quote =
	        want.type == TG_SCHEMA_STRING &&
	                        (json_is_number(v) || json_is_boolean(v))
	                ? " (quote the value)"
	                : "";
	const char *wanted = want_name(want.type, want.words);
	int error;

	if (want.words == TG_SCHEMA_EXPECTED)
		error = tg_buf_printf(msg_out, "expected %s, got %s%s", wanted,
		                      tg_schema_type_name(v), quote);
	else
		error = tg_buf_printf(msg_out, "must be %s, not %s%s", wanted,
		                      tg_schema_type_name(v), quote);
	return error < 0 ? error : TG_SCHEMA_WRONG_TYPE;
}

int tg_schema_check(tg_buf *msg_out,
                    const json_t *v,
                    const tg_schema_want *want)
{
	return type_matches(v, want->type) ? 0 : wrong_type(msg_out, v, *want);
}

int tg_schema_get(json_t **out,
                  tg_buf *msg_out,
                  const json_t *obj,
                  const char *key,
                  const tg_schema_want *want)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;
	int error;

	*out = NULL;
	if (!v) {
		if (!want->required)
			return 0;
		error = tg_buf_printf(msg_out, "missing required key \"%s\"",
		                      key);
		return error < 0 ? error : TG_SCHEMA_MISSING;
	}
	if (json_is_null(v) && want->null_is_absent)
		return 0;
	if ((error = tg_schema_check(msg_out, v, want)) != 0)
		return error;
	*out = v;
	return 0;
}

/* Keys ----------------------------------------------------------------- */

static char tolower_ascii(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* One row of the edit distance table: row holds the row of a[0..i-1]. */
static void
distance_row(size_t *row, size_t i, char ach, const char *b, size_t lb)
{
	size_t j, prev_diag = row[0], tmp;

	row[0] = i;
	for (j = 1; j <= lb; j++) {
		size_t cost =
		        tolower_ascii(ach) == tolower_ascii(b[j - 1]) ? 0 : 1;
		tmp = row[j];
		row[j] = prev_diag + cost;
		if (row[j - 1] + 1 < row[j])
			row[j] = row[j - 1] + 1;
		if (tmp + 1 < row[j])
			row[j] = tmp + 1;
		prev_diag = tmp;
	}
}

/* Levenshtein distance, case-insensitive, of two short strings (longer
 * ones count as far apart). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[TG_SCHEMA_SUGGEST_MAX_CHARS + 1];

	if (la > TG_SCHEMA_SUGGEST_MAX_CHARS ||
	    lb > TG_SCHEMA_SUGGEST_MAX_CHARS)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++)
		distance_row(row, i, a[i - 1], b, lb);
	return row[lb];
}

const char *tg_schema_suggest(const char *word, const char *const *names)
{
	const char *best = NULL;
	size_t d, best_d = TG_SCHEMA_SUGGEST_MAX_DISTANCE + 1, i;

	for (i = 0; names[i] != NULL; i++) {
		d = edit_distance(word, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best;
}

bool tg_schema_known(const char *word, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(word, names[i]) == 0)
			return true;
	return false;
}

int tg_schema_list(tg_buf *out, const char *const *names)
{
	int error = 0;
	size_t i;

	for (i = 0; error == 0 && names[i] != NULL; i++)
		error = tg_buf_printf(out, "%s%s", i ? ", " : "", names[i]);
	return error;
}

/* 'unknown key "x" (did you mean "y"? known here: a, b)' into out. */
static int
unknown_key_message(tg_buf *out, const char *key, const char *const *known)
{
	const char *hint = tg_schema_suggest(key, known);
	int error;

	tg_buf_clear(out);
	if (hint)
		error = tg_buf_printf(
		        out,
		        "unknown key \"%s\" (did you mean \"%s\"? "
		        "known here: ",
		        key, hint);
	else
		error = tg_buf_printf(out,
		                      "unknown key \"%s\" (known here: ", key);
	if (error == 0)
		error = tg_schema_list(out, known);
	if (error == 0)
		error = tg_buf_puts(out, ")");
	return error;
}

int tg_schema_check_keys(const json_t *obj,
                         const char *const *known,
                         tg_schema_unknown_fn fn,
                         void *arg)
{
	const char *key;
	json_t *v;
	tg_buf msg;
	int error = 0;

	tg_buf_init(&msg, TG_SCHEMA_MESSAGE_MAX);
	json_object_foreach((json_t *)obj, key, v) {
		if (tg_schema_known(key, known))
			continue;
		if ((error = unknown_key_message(&msg, key, known)) != 0 ||
		    (error = fn(arg, key, msg.data)) != 0)
			break;
	}
	tg_buf_free(&msg);
	return error;
}
