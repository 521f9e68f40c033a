/*
 * For the predicate targets (fuzz_sbom, fuzz_vuln, fuzz_provenance): the
 * input is an in-toto statement, whose predicate is checked, or a bare
 * predicate document; parsed as the attestation code parses statements
 * (JSON, duplicate keys rejected).
 */
#ifndef TOLLGATE_FUZZ_PREDICATE_DOC_H
#define TOLLGATE_FUZZ_PREDICATE_DOC_H

#include <jansson.h>

#include "fuzz.h"

/* The parsed input (json_decref it) with *predicate borrowed from it and
 * *type its predicateType (NULL when absent); NULL when not JSON. */
static inline json_t *fuzz_predicate_doc(const json_t **predicate,
                                         const char **type,
                                         const uint8_t *data,
                                         size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, size,
	                         JSON_REJECT_DUPLICATES, &jerr);
	const json_t *p = json_object_get(doc, "predicate");

	*type = json_string_value(json_object_get(doc, "predicateType"));
	*predicate = p ? p : doc;
	return doc;
}

#endif
