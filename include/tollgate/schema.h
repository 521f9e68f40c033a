/*
 * The positioned schema walker shared by every YAML-configured file
 * (tollgate.yaml in reconciler/config/config.c, the policy file in
 * verify/policy/): where a member is (its RFC 6901 JSON pointer, for
 * tg_yaml_docs_line_at, and its dotted key path for people,
 * "rules[0].signatures.threshold"), how a value's type is named in
 * messages, and the "FILE:LINE:COL: key.path: " prefix of every message.
 */
#ifndef TOLLGATE_SCHEMA_H
#define TOLLGATE_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/yaml.h"

/*
 * How a value's type is named in messages: "a mapping", "a list",
 * "a string", "an integer", "a number" (a real), "a boolean" or
 * "empty (null)". Static string.
 */
const char *tg_schema_type_name(const json_t *v);

/*
 * The location of member key (or, when key is NULL, of element index) of
 * the value at parent_ptr/parent_path: ptr_out gets parent_ptr + "/" + the
 * key escaped as RFC 6901 says ('~' as "~0", '/' as "~1"), path_out gets
 * "parent.key" or "parent[index]" (just the key at the top). Both buffers
 * are cleared first. 0, or the tg_buf error when a buffer is full.
 */
int tg_schema_child(tg_buf *ptr_out,
                    tg_buf *path_out,
                    const char *parent_ptr,
                    const char *parent_path,
                    const char *key,
                    size_t index) TG_WUR;

/*
 * Append the prefix of a message about the value at ptr of document 0 of
 * docs to out: "FILE:LINE:COL: " and, when path is not empty,
 * "PATH: ". The position is that of the member's key; an unknown one
 * falls back to the document's first line and column 1. 0 or the tg_buf
 * error.
 */
int tg_schema_where(tg_buf *out,
                    const tg_yaml_docs *docs,
                    const char *file,
                    const char *ptr,
                    const char *path) TG_WUR;

#endif
