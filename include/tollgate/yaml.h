/*
 * YAML (and JSON) to jansson values, resolving scalars the way kubectl
 * does (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 rules), because the
 * JSON we produce must be the JSON kubectl would send:
 *
 * - unquoted y/Y/yes/Yes/YES/true/True/TRUE/on/On/ON are true, and
 *   n/N/no/No/NO/false/False/FALSE/off/Off/OFF false (go-yaml and the
 *   YAML 1.1 bool type include y and n; python3-yaml does not);
 * - "", ~, null, Null, NULL are null;
 * - integers after removing '_': decimal with optional sign, 0x/0o/0b
 *   prefixes (either case) and a leading 0 for octal (Go's ParseInt with
 *   base 0); beyond int64 a JSON real (precision is lost above 2^53; no
 *   Kubernetes field takes such a number);
 * - floats: [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)? ("1e3" is a
 *   number, unlike python3-yaml). A float with an integral value below
 *   2^63 becomes a JSON integer, as Go's JSON encoder writes it ("3.0"
 *   -> 3, accepted by integer fields); .inf/.nan are refused, as kubectl
 *   refuses them (JSON has no such numbers);
 * - no sexagesimal numbers (190:20:30 is a string) and timestamps stay
 *   strings, as in go-yaml;
 * - quoted and block scalars are always strings;
 * - explicit tags !!str !!int !!float !!bool !!null !!timestamp (string)
 *   !!binary (the base64 text, checked, whitespace removed; kubectl would
 *   decode it) !!map !!seq and the non-specific "!" (string) are honoured;
 *   any other tag is an error naming it;
 * - anchors, aliases (deep copies: no value is shared by two parents, so
 *   callers may modify the tree) and merge keys "<<" (a mapping or a list
 *   of mappings; keys written in the mapping win, then earlier mappings
 *   of the list, as the YAML merge spec and python3-yaml say; go-yaml v2
 *   lets a "<<" written after a key override it);
 * - mapping keys become strings: integers in decimal ("0x1F" -> "31"),
 *   booleans as "true"/"false" ("y" -> "true"), floats in Go's %g; null
 *   keys and mapping/sequence keys are errors; duplicate keys (after that
 *   conversion) are errors; strings and keys containing NUL are errors.
 *
 * Hostile input is refused with TG_ETOOBIG or TG_EPARSE and a message
 * "<name>:<line>:<column>: <what is wrong>": limits in limits.h
 * (TG_MAX_YAML_*): file size, depth (aliases included), nodes in the
 * file, nodes and text copied by alias expansion, anchors, documents,
 * scalar size.
 */
#ifndef TOLLGATE_YAML_H
#define TOLLGATE_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "tollgate/error.h"

typedef struct tg_yaml_docs tg_yaml_docs;

/* Record the line and column of every node, for tg_yaml_docs_line_at()
 * (used by the policy and config loaders; costs memory, so the manifest
 * loader leaves it off). */
#define TG_YAML_POSITIONS 0x1u

/*
 * Parse every document of a YAML stream (a JSON file is a YAML stream of
 * one document). name is used only in messages (a path). An empty document
 * ("---" with nothing after it) is kept as JSON null so document indexes
 * match the file. *out owns the values; free with tg_yaml_docs_free().
 * Returns 0, TG_EPARSE or TG_ETOOBIG.
 */
int tg_yaml_parse(tg_yaml_docs **out,
                  const char *name,
                  const char *data,
                  size_t len,
                  unsigned flags) TG_WUR;

/* Read path (at most TG_MAX_FILE_BYTES) and parse it as above, naming it
 * by path in messages. Also TG_ENOTFOUND or TG_EIO from reading. */
int tg_yaml_parse_file(tg_yaml_docs **out,
                       const char *path,
                       unsigned flags) TG_WUR;

size_t tg_yaml_docs_count(const tg_yaml_docs *docs);

/* Document i (borrowed from docs; NULL when i is out of range). Callers
 * may modify it in place, or json_incref it to keep it past
 * tg_yaml_docs_free(). */
json_t *tg_yaml_docs_get(const tg_yaml_docs *docs, size_t i);

/* 1-based line where document i starts (its first node). */
unsigned tg_yaml_docs_line(const tg_yaml_docs *docs, size_t i);

/*
 * Line (through line_out) and column (through col_out, may be NULL) of the
 * node at the JSON pointer path (RFC 6901, e.g.
 * "/rules/0/signatures/threshold"; "" is the document) in document i. For
 * a mapping member the position is that of its key. A node copied by an
 * alias or a merge key has the position of the text it was copied from.
 * Needs TG_YAML_POSITIONS; both are 0 when unknown or when path names no
 * node.
 */
void tg_yaml_docs_line_at(unsigned *line_out,
                          unsigned *col_out,
                          const tg_yaml_docs *docs,
                          size_t i,
                          const char *path);

void tg_yaml_docs_free(tg_yaml_docs *docs);

/*
 * The smallest number of significant digits (1..17; 0 when v holds no
 * real) that writes every real in v back to the same double. jansson
 * writes reals with 17 digits, so 0.1 becomes "0.10000000000000001",
 * where kubectl (Go) writes "0.1", and the API server parses some fields
 * (resource quantities) from the digits. Dump manifests with
 *     json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(tg_json_real_digits(v)))
 * to send what kubectl would.
 */
int tg_json_real_digits(const json_t *v) TG_WUR;

#endif
