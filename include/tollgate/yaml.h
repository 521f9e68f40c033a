/*
 * YAML (and JSON) to jansson values, resolving scalars the way kubectl
 * does (sigs.k8s.io/yaml, YAML 1.1 rules): unquoted yes/no/on/off/true/false
 * (any case variant YAML 1.1 lists) are booleans, ~ and null are null,
 * integers (decimal, 0x hex, 0o/leading-0 octal, with '_' separators) and
 * floats by YAML 1.1, quoted scalars always strings; anchors, aliases and
 * merge keys "<<". Mapping keys become strings. Duplicate keys are an error.
 *
 * Hostile input is refused with TG_ETOOBIG or TG_EPARSE and a message
 * "<name>:<line>:<column>: <what is wrong>": limits in limits.h
 * (TG_MAX_YAML_*): file size, depth, alias expansion, anchors, documents,
 * scalar size.
 */
#ifndef TOLLGATE_YAML_H
#define TOLLGATE_YAML_H

#include <stddef.h>

#include <jansson.h>

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
int tg_yaml_parse(tg_yaml_docs **out, const char *name, const char *data,
		  size_t len, unsigned flags);

size_t tg_yaml_docs_count(const tg_yaml_docs *docs);

/* Document i (borrowed from docs). */
json_t *tg_yaml_docs_get(const tg_yaml_docs *docs, size_t i);

/* 1-based line where document i starts (its first node). */
unsigned tg_yaml_docs_line(const tg_yaml_docs *docs, size_t i);

/*
 * Line (and column through col_out, may be NULL) of the node at the JSON
 * pointer path (RFC 6901, e.g. "/rules/0/signatures/threshold"; "" is the
 * document) in document i. For a mapping member the position is that of
 * its key. Needs TG_YAML_POSITIONS; returns 0 when unknown.
 */
unsigned tg_yaml_docs_line_at(const tg_yaml_docs *docs, size_t i,
			      const char *path, unsigned *col_out);

void tg_yaml_docs_free(tg_yaml_docs *docs);

#endif
