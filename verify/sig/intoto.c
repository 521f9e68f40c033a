/* in-toto statements: see include/tollgate/intoto.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "tollgate/buf.h"
#include "tollgate/error.h"
#include "tollgate/intoto.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

struct tg_intoto_statement {
	json_t *root;
	const char *type;
	const char *predicate_type;
	json_t *predicate;
	json_t *subjects;
};

void tg_intoto_statement_free(tg_intoto_statement *s)
{
	if (!s)
		return;
	json_decref(s->root);
	json_decref(s->predicate);
	free(s);
}

static int check_subject(const json_t *subj, size_t i)
{
	json_t *digest, *name, *v;
	const char *alg;

	if (!json_is_object(subj))
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: subject %zu is not an "
		                    "object",
		                    i + 1);
	name = json_object_get(subj, "name");
	digest = json_object_get(subj, "digest");
	if ((name && !json_is_string(name)) || !json_is_object(digest))
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: subject %zu needs a "
		                    "digest object (and a string name)",
		                    i + 1);
	json_object_foreach(digest, alg, v) {
		if (!json_is_string(v))
			return tg_error_set(TG_EPARSE,
			                    "in-toto statement: subject %zu: "
			                    "digest %s is not a string",
			                    i + 1, alg);
	}
	return 0;
}

static int check_subjects(const json_t *arr)
{
	size_t i, n;
	int error;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: \"subject\" must be a "
		                    "non-empty array");
	n = json_array_size(arr);
	if (n > TG_MAX_INTOTO_SUBJECTS)
		return tg_error_set(TG_ETOOBIG,
		                    "in-toto statement: %zu subjects, over the "
		                    "limit of %d",
		                    n, TG_MAX_INTOTO_SUBJECTS);
	for (i = 0; i < n; i++)
		if ((error = check_subject(json_array_get(arr, i), i)) < 0)
			return error;
	return 0;
}

static int statement_fields(tg_intoto_statement *s)
{
	json_t *type = json_object_get(s->root, "_type"),
	       *pt = json_object_get(s->root, "predicateType"),
	       *pred = json_object_get(s->root, "predicate");
	int error;

	if (!json_is_string(type) ||
	    (strcmp(json_string_value(type), TG_INTOTO_STATEMENT_V01) &&
	     strcmp(json_string_value(type), TG_INTOTO_STATEMENT_V1)))
		return tg_error_set(
		        TG_EPARSE,
		        "in-toto statement: _type \"%.80s\" is "
		        "neither %s nor %s",
		        json_is_string(type) ? json_string_value(type) : "",
		        TG_INTOTO_STATEMENT_V01, TG_INTOTO_STATEMENT_V1);
	if (!json_is_string(pt) || json_string_length(pt) == 0)
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: predicateType is "
		                    "missing or not a string");
	if (pred && !json_is_object(pred) && !json_is_null(pred))
		return tg_error_set(TG_EPARSE,
		                    "in-toto statement: predicate is not an "
		                    "object");
	s->subjects = json_object_get(s->root, "subject");
	if ((error = check_subjects(s->subjects)) < 0)
		return error;
	s->type = json_string_value(type);
	s->predicate_type = json_string_value(pt);
	s->predicate = json_is_object(pred) ? json_incref(pred) : json_object();
	return 0;
}

int tg_intoto_statement_parse(tg_intoto_statement **out,
                              const unsigned char *data,
                              size_t len)
{
	tg_intoto_statement *s = NULL;
	json_error_t jerr;
	int error;

	*out = NULL;
	if (len > TG_MAX_DSSE_ENVELOPE_BYTES)
		return tg_error_set(TG_ETOOBIG,
		                    "in-toto statement of %zu bytes is over "
		                    "the limit",
		                    len);
	s = tg_calloc(1, sizeof(*s));
	s->root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
	                     &jerr);
	if (!s->root) {
		error = tg_error_set(TG_EPARSE,
		                     "in-toto statement: line %d column %d: "
		                     "%s",
		                     jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(s->root)) {
		error = tg_error_set(TG_EPARSE,
		                     "in-toto statement is not an object");
		goto out;
	}
	if ((error = statement_fields(s)) < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	tg_intoto_statement_free(s);
	return error;
}

const char *tg_intoto_statement_type(const tg_intoto_statement *s)
{
	return s->type;
}

const char *tg_intoto_statement_predicate_type(const tg_intoto_statement *s)
{
	return s->predicate_type;
}

json_t *tg_intoto_statement_predicate(const tg_intoto_statement *s)
{
	return s->predicate;
}

size_t tg_intoto_statement_subject_count(const tg_intoto_statement *s)
{
	return json_array_size(s->subjects);
}

/* The first subject whose digest map holds digest, or NULL. */
static const json_t *find_subject(const tg_intoto_statement *s,
                                  const char *digest)
{
	const char *colon = strchr(digest, ':');
	char alg[TG_INTOTO_ALG_BYTES];
	json_t *subj, *v;
	size_t i, alen;

	if (!colon || (alen = (size_t)(colon - digest)) >= sizeof(alg))
		return NULL;
	memcpy(alg, digest, alen);
	alg[alen] = '\0';
	json_array_foreach(s->subjects, i, subj) {
		v = json_object_get(json_object_get(subj, "digest"), alg);
		if (json_is_string(v) &&
		    strlen(colon + 1) == json_string_length(v) &&
		    !strcasecmp(json_string_value(v), colon + 1))
			return subj;
	}
	return NULL;
}

bool tg_intoto_statement_has_subject(const tg_intoto_statement *s,
                                     const char *digest)
{
	return find_subject(s, digest) != NULL;
}

const char *tg_intoto_statement_subject_name(const tg_intoto_statement *s,
                                             const char *digest)
{
	const json_t *subj = find_subject(s, digest);

	return subj ? json_string_value(json_object_get(subj, "name")) : NULL;
}
