/*
 * in-toto statements (v0.1 and v1), the payload of an attestation's DSSE
 * envelope: subjects (artifacts by digest), a predicate type and a
 * predicate.
 */
#ifndef TOLLGATE_INTOTO_H
#define TOLLGATE_INTOTO_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tollgate/error.h"

#define TG_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define TG_INTOTO_STATEMENT_V01 "https://in-toto.io/Statement/v0.1"
#define TG_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"

typedef struct tg_intoto_statement tg_intoto_statement;

/*
 * Parse a statement: _type v0.1 or v1, 1..TG_MAX_INTOTO_SUBJECTS subjects
 * each with a digest object of string values, predicateType a non-empty
 * string, predicate an object when present. 0, TG_EPARSE, TG_ETOOBIG.
 */
TG_WUR int tg_intoto_statement_parse(tg_intoto_statement **out,
                                     const unsigned char *data,
                                     size_t len);
void tg_intoto_statement_free(tg_intoto_statement *s);
const char *tg_intoto_statement_type(const tg_intoto_statement *s);
const char *tg_intoto_statement_predicate_type(const tg_intoto_statement *s);
/* The predicate (borrowed; an empty object when the statement has none). */
json_t *tg_intoto_statement_predicate(const tg_intoto_statement *s);
size_t tg_intoto_statement_subject_count(const tg_intoto_statement *s);
/* True when a subject's digest map holds digest ("sha256:<hex>" matches
 * {"sha256": "<hex>"}; hex compared case-insensitively). */
bool tg_intoto_statement_has_subject(const tg_intoto_statement *s,
                                     const char *digest);

/* The name of the first subject whose digest is digest (borrowed); NULL
 * when none has it or it has no name. */
const char *tg_intoto_statement_subject_name(const tg_intoto_statement *s,
                                             const char *digest);

#endif
