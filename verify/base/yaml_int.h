/*
 * Internal interface between the YAML event parser (verify/base/yaml.c)
 * and the scalar resolution (verify/base/yaml_scalar.c).
 */
#ifndef TOLLGATE_YAML_INT_H
#define TOLLGATE_YAML_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <yaml.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/yaml.h"

/* Documents and positions (verify/base/yaml_docs.c) ---------------------- */

struct pos;

struct pos_kid {
	const char *key; /* arena copy; NULL in a sequence */
	size_t keylen;
	unsigned line, col; /* of the key, or of the element in a sequence */
	struct pos *node;   /* NULL for scalars */
};

struct pos {
	bool is_map;
	size_t n, cap;
	struct pos_kid *kids;
};

struct arena {
	struct arena *next;
	size_t used, cap;
	max_align_t data[];
};

struct doc {
	json_t *val;
	unsigned line, col;
	struct pos *pos;
};

/* The parsed stream behind the opaque tg_yaml_docs. */
struct tg_yaml_docs {
	size_t n, cap;
	struct doc *v;
	struct arena *arena;
};

/* A new position node for a mapping (is_map) or sequence, in docs' arena
 * (freed with docs). */
struct pos *tg_yaml_pos_new(tg_yaml_docs *docs, bool is_map);

/* Append a child position to ps (key copied into the arena; NULL in a
 * sequence); node is the child's own position node, NULL for a scalar. */
void tg_yaml_pos_add(tg_yaml_docs *docs,
                     struct pos *ps,
                     const char *key,
                     size_t keylen,
                     unsigned line,
                     unsigned col,
                     struct pos *node);

/* The child of the mapping position ps under key; NULL when absent. */
const struct pos_kid *
tg_yaml_pos_find_key(const struct pos *ps, const char *key, size_t keylen);

/* Append a document (v owned by docs; NULL is kept as JSON null). */
void tg_yaml_docs_push(tg_yaml_docs *docs,
                       json_t *v,
                       unsigned line,
                       unsigned col,
                       struct pos *ps);

/* Scalars (verify/base/yaml_scalar.c) ------------------------------------ */

/* The YAML type a plain scalar resolves to. */
enum {
	TG_YS_NULL,
	TG_YS_BOOL,
	TG_YS_INT,
	TG_YS_UINT, /* above INT64_MAX, as Go's ParseUint reads it */
	TG_YS_FLOAT,
	TG_YS_STR
};

/* A resolved scalar: kind and the value of that kind. */
struct tg_yaml_scalar {
	int kind;
	bool b;
	int64_t i;
	uint64_t u;
	double d;
};

/* Resolve the untagged plain scalar s[0..n) into *out (go-yaml v2 rules;
 * see include/tollgate/yaml.h). Anything that is no other type is
 * TG_YS_STR. */
void tg_yaml_resolve_plain(struct tg_yaml_scalar *out, const char *s, size_t n);

/*
 * Go's strconv.FormatFloat(d, 'g', -1, 32), which sigs.k8s.io/yaml uses
 * for float mapping keys: the shortest digits that survive a round trip
 * through float32, in exponent form below 1e-4 and from 1e6 up; a value
 * float32 cannot hold (1e39) is an infinity, written ".inf" or "-.inf" as
 * sigs.k8s.io/yaml does, NaN ".nan". Writes at most size bytes to out,
 * NUL included.
 */
void tg_yaml_format_key_float(char *out, size_t size, double d);

/* Record "name:line:col: <fmt...>" as the error and return code. */
int tg_yaml_error_at(const char *name,
                     int code,
                     unsigned line,
                     unsigned col,
                     const char *fmt,
                     ...) TG_WUR __attribute__((format(printf, 5, 6)));

/* Whether tag is the standard tag !!name (tag:yaml.org,2002:name). */
bool tg_yaml_tag_is(const char *tag, const char *name);

/* tag as the user wrote it, for messages: "!!int" rather than the URI. */
void tg_yaml_tag_display(char *out, size_t size, const char *tag);

/*
 * The JSON value of the scalar event ev at line:col of the file name:
 * explicit tags honoured, plain scalars resolved, quoted and block
 * scalars strings. NULL with *error set (TG_EPARSE, message recorded) when
 * the text does not fit its tag, the tag is unknown, the number is not
 * finite or a string holds a NUL.
 */
json_t *tg_yaml_scalar_json(const char *name,
                            const yaml_event_t *ev,
                            unsigned line,
                            unsigned col,
                            int *error);

/* The string form of the scalar JSON value v as a mapping key into key
 * (integers in decimal, booleans true/false, floats as Go's %g). Returns
 * 0, a tg_buf error, or TG_EPARSE for a null or collection key. */
int tg_yaml_key_from_json(tg_buf *key,
                          const char *name,
                          const json_t *v,
                          unsigned line,
                          unsigned col) TG_WUR;

/* Same for the plain scalar s[0..n), keeping uint64 and float text exact.
 */
int tg_yaml_key_from_plain(tg_buf *key,
                           const char *name,
                           const char *s,
                           size_t n,
                           unsigned line,
                           unsigned col) TG_WUR;

#endif
