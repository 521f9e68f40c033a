/*
 * Label selectors (=, ==, !=, in, notin, exists, !exists) and field
 * selectors (metadata.name, metadata.namespace with =, ==, !=), parsed
 * like k8s.io/apimachinery/pkg/labels and .../fields.
 */
#include <string.h>

#include "tc.h"
#include "tollgate/util.h"

/* Requirements in one selector: more is a client bug, not a query. */
#define TC_MAX_REQUIREMENTS 64
/* Values in one in/notin set. */
#define TC_MAX_SET_VALUES 64

typedef enum {
	OP_EQ,
	OP_NE,
	OP_IN,
	OP_NOTIN,
	OP_EXISTS,
	OP_NOT_EXISTS,
} sel_op;

typedef struct requirement {
	bool field; /* a field selector term */
	char *key;
	sel_op op;
	char *values[TC_MAX_SET_VALUES];
	size_t nvalues;
} requirement;

struct tc_selector {
	requirement reqs[TC_MAX_REQUIREMENTS];
	size_t n;
};

static void skip_spaces(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '/';
}

/* A key or value token; malloc'd (may be empty). */
static char *token(const char **p)
{
	const char *s = *p;

	while (key_char(**p))
		(*p)++;
	return tg_strndup(s, (size_t)(*p - s));
}

/* "(a, b, c)" into r->values. */
static int parse_set(requirement *r, const char **p, char **err)
{
	skip_spaces(p);
	if (**p != '(') {
		*err = tg_aprintf("unable to parse requirement: found '%c', "
		                  "expected: '('",
		                  **p ? **p : ' ');
		return -1;
	}
	(*p)++;
	for (;;) {
		skip_spaces(p);
		if (r->nvalues == TC_MAX_SET_VALUES) {
			*err = tg_strdup("too many values in set");
			return -1;
		}
		r->values[r->nvalues++] = token(p);
		skip_spaces(p);
		if (**p == ')') {
			(*p)++;
			return 0;
		}
		if (**p != ',') {
			*err = tg_aprintf("unexpected character '%c' in set",
			                  **p ? **p : ' ');
			return -1;
		}
		(*p)++;
	}
}

/* The operator after a key; false when none follows. */
static bool parse_op(requirement *r, const char **p)
{
	skip_spaces(p);
	if (strncmp(*p, "==", 2) == 0 || strncmp(*p, "!=", 2) == 0) {
		r->op = **p == '=' ? OP_EQ : OP_NE;
		*p += 2;
	} else if (**p == '=') {
		r->op = OP_EQ;
		(*p)++;
	} else if (strncmp(*p, "in ", 3) == 0 || strncmp(*p, "in(", 3) == 0) {
		r->op = OP_IN;
		*p += 2;
	} else if (strncmp(*p, "notin ", 6) == 0 ||
	           strncmp(*p, "notin(", 6) == 0) {
		r->op = OP_NOTIN;
		*p += 5;
	} else {
		return false;
	}
	return true;
}

static int
parse_requirement(requirement *r, const char **p, bool field, char **err)
{
	bool negate;

	skip_spaces(p);
	r->field = field;
	negate = **p == '!';
	if (negate)
		(*p)++;
	r->key = token(p);
	if (r->key[0] == '\0') {
		*err = tg_aprintf("unable to parse requirement: found '%c', "
		                  "expected: identifier",
		                  **p ? **p : ' ');
		return -1;
	}
	if (negate || !parse_op(r, p)) {
		r->op = negate ? OP_NOT_EXISTS : OP_EXISTS;
		return 0;
	}
	if (r->op == OP_IN || r->op == OP_NOTIN)
		return parse_set(r, p, err);
	skip_spaces(p);
	r->values[r->nvalues++] = token(p);
	return 0;
}

static int parse_all(tc_selector *sel, const char *s, bool field, char **err)
{
	const char *p = s;

	if (s == NULL)
		return 0;
	skip_spaces(&p);
	while (*p) {
		if (sel->n == TC_MAX_REQUIREMENTS) {
			*err = tg_strdup("too many requirements in selector");
			return -1;
		}
		if (parse_requirement(&sel->reqs[sel->n++], &p, field, err) < 0)
			return -1;
		skip_spaces(&p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '\0') {
			*err = tg_aprintf("unable to parse requirement: "
			                  "unexpected '%c' in \"%s\"",
			                  *p, s);
			return -1;
		}
	}
	return 0;
}

static int check_fields(const tc_selector *sel, char **err)
{
	size_t i;

	for (i = 0; i < sel->n; i++) {
		const requirement *r = &sel->reqs[i];

		if (!r->field)
			continue;
		if (strcmp(r->key, "metadata.name") != 0 &&
		    strcmp(r->key, "metadata.namespace") != 0) {
			*err = tg_aprintf("field label not supported: %s",
			                  r->key);
			return -1;
		}
		if (r->op != OP_EQ && r->op != OP_NE) {
			*err = tg_aprintf("invalid selector: '%s'; can't "
			                  "understand '%s'",
			                  r->key, r->key);
			return -1;
		}
	}
	return 0;
}

int tc_selector_parse(tc_selector **out,
                      const char *label_sel,
                      const char *field_sel,
                      char **err)
{
	tc_selector *sel = tg_calloc(1, sizeof(*sel));

	*err = NULL;
	if (parse_all(sel, label_sel, false, err) < 0 ||
	    parse_all(sel, field_sel, true, err) < 0 ||
	    check_fields(sel, err) < 0) {
		tc_selector_free(sel);
		*out = NULL;
		return -1;
	}
	*out = sel;
	return 0;
}

static bool in_values(const requirement *r, const char *v)
{
	size_t i;

	for (i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static const char *field_value(json_t *obj, const char *key)
{
	const char *v = NULL;

	if (strcmp(key, "metadata.name") == 0)
		v = tc_obj_name(obj);
	else if (strcmp(key, "metadata.namespace") == 0)
		v = tc_obj_ns(obj);
	return v ? v : "";
}

static bool req_match(const requirement *r, json_t *obj)
{
	json_t *labels =
	        json_object_get(json_object_get(obj, "metadata"), "labels");
	const char *v;

	if (r->field)
		v = field_value(obj, r->key);
	else
		v = json_string_value(json_object_get(labels, r->key));
	switch (r->op) {
	case OP_EXISTS:
		return v != NULL;
	case OP_NOT_EXISTS:
		return v == NULL;
	case OP_EQ:
	case OP_IN:
		return v != NULL && in_values(r, v);
	case OP_NE:
	case OP_NOTIN:
		return v == NULL || !in_values(r, v);
	}
	return false;
}

bool tc_selector_match(const tc_selector *sel, json_t *obj)
{
	size_t i;

	if (sel == NULL)
		return true;
	for (i = 0; i < sel->n; i++)
		if (!req_match(&sel->reqs[i], obj))
			return false;
	return true;
}

void tc_selector_free(tc_selector *sel)
{
	size_t i, j;

	if (sel == NULL)
		return;
	for (i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		for (j = 0; j < sel->reqs[i].nvalues; j++)
			free(sel->reqs[i].values[j]);
	}
	free(sel);
}
