/*
 * The positioned schema walker shared by tollgate.yaml and the policy
 * file: see include/tollgate/schema.h.
 */
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
