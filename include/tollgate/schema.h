/*
 * The positioned schema walker shared by every YAML-configured file
 * (tollgate.yaml in reconciler/config/, the policy file in
 * verify/policy/): where a member is (its RFC 6901 JSON pointer, for
 * tg_yaml_docs_line_at, and its dotted key path for people,
 * "rules[0].signatures.threshold"), how a value's type is named in
 * messages, the "FILE:LINE:COL: key.path: " prefix of every message, members
 * read with presence and type checks, and the unknown-key check.
 */
#ifndef TOLLGATE_SCHEMA_H
#define TOLLGATE_SCHEMA_H

#include <stdbool.h>
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

/* The type a member must have. */
typedef enum {
	TG_SCHEMA_STRING,
	TG_SCHEMA_INTEGER,
	TG_SCHEMA_NUMBER, /* an integer or a real */
	TG_SCHEMA_BOOL,
	TG_SCHEMA_MAPPING,
	TG_SCHEMA_LIST
} tg_schema_type;

/*
 * How a wrong type is worded; each file keeps its own wording:
 * TG_SCHEMA_EXPECTED "expected a string, got an integer" (tollgate.yaml),
 * TG_SCHEMA_MUST_BE "must be a string, not an integer" (the policy file).
 * A scalar where a string was meant adds " (quote the value)".
 */
typedef enum { TG_SCHEMA_EXPECTED, TG_SCHEMA_MUST_BE } tg_schema_words;

/* What a member must be. null_is_absent: a null value ("key:" with
 * nothing after it) is read as absent instead of as the wrong type. */
typedef struct tg_schema_want {
	tg_schema_type type;
	bool required;
	bool null_is_absent;
	tg_schema_words words;
} tg_schema_want;

/* Results of tg_schema_get besides 0 and tg_buf errors. */
#define TG_SCHEMA_MISSING 1 /* required and absent: message is the parent's */
#define TG_SCHEMA_WRONG_TYPE 2 /* message is the member's */

/*
 * Member key of obj (obj may be NULL) checked against want: 0 with *out
 * the value, or NULL when it is absent and not required (a present null
 * with want->null_is_absent is absent even when required). Otherwise
 * *out is NULL and msg_out gets the message without its prefix:
 * TG_SCHEMA_MISSING ("missing required key \"key\"", about the parent) or
 * TG_SCHEMA_WRONG_TYPE (about the member); a tg_buf error when msg_out
 * is full.
 */
int tg_schema_get(json_t **out,
                  tg_buf *msg_out,
                  const json_t *obj,
                  const char *key,
                  const tg_schema_want *want) TG_WUR;

/*
 * Value v (not NULL) checked against want->type: 0, or
 * TG_SCHEMA_WRONG_TYPE with the message in msg_out (a tg_buf error when
 * it is full). For list elements and values that are not members.
 */
int tg_schema_check(tg_buf *msg_out,
                    const json_t *v,
                    const tg_schema_want *want) TG_WUR;

/* Whether word is one of names (NULL-terminated). */
bool tg_schema_known(const char *word, const char *const *names);

/* The closest of names to word when it is a near miss (a typo or a case
 * slip, case-insensitive edit distance under 3), else NULL. */
const char *tg_schema_suggest(const char *word, const char *const *names);

/* Append "a, b, c" of names to out. 0 or the tg_buf error. */
int tg_schema_list(tg_buf *out, const char *const *names) TG_WUR;

/*
 * Called by tg_schema_check_keys for each unknown key of a mapping with
 * the message 'unknown key "x" (did you mean "y"? known here: a, b)'
 * (without the hint when no known key is near). A result other than 0
 * stops the check and is returned.
 */
typedef int (*tg_schema_unknown_fn)(void *arg,
                                    const char *key,
                                    const char *msg);

/*
 * Check every key of mapping obj against known (NULL-terminated), calling
 * fn for each unknown one in document order. 0, fn's first result other
 * than 0, or the tg_buf error when a message does not fit.
 */
int tg_schema_check_keys(const json_t *obj,
                         const char *const *known,
                         tg_schema_unknown_fn fn,
                         void *arg) TG_WUR;

#endif
