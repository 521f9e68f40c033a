/*
 * tg_check: the result of one verification check (pass/fail, reasons,
 * notes, evidence JSON), shared by the predicate checks and the verifier.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/check.h"
#include "tollgate/limits.h"
#include "tollgate/util.h"

struct tg_check {
	char *name;
	bool passed;
	char **reasons;
	size_t nreasons;
	char **notes;
	size_t nnotes;
	json_t *evidence;
	int64_t until; /* TG_TIME_NEVER: unbounded */
	char *until_why;
};

int tg_check_new(tg_check **out, const char *name)
{
	tg_check *c = tg_calloc(1, sizeof(*c));

	c->name = tg_strdup(name);
	c->passed = true;
	c->until = TG_TIME_NEVER;
	c->evidence = json_object();
	/* jansson's NULL means its allocator failed. */
	if (c->evidence == NULL)
		tg_oom(sizeof(json_t));
	*out = c;
	return 0;
}

static void str_list_free(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void tg_check_free(tg_check *check)
{
	if (check == NULL)
		return;
	free(check->name);
	str_list_free(check->reasons, check->nreasons);
	str_list_free(check->notes, check->nnotes);
	json_decref(check->evidence);
	free(check->until_why);
	free(check);
}

/* Append a formatted line to a list; the text is truncated at
 * TG_CHECK_TEXT_MAX so a hostile document cannot make one reason huge. */
static void list_addv(char ***list, size_t *n, const char *fmt, va_list ap)
{
	char text[TG_CHECK_TEXT_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	*list = tg_realloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = tg_strdup(text);
}

void tg_check_fail(tg_check *check, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	list_addv(&check->reasons, &check->nreasons, fmt, ap);
	va_end(ap);
	check->passed = false;
}

void tg_check_note(tg_check *check, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	list_addv(&check->notes, &check->nnotes, fmt, ap);
	va_end(ap);
}

void tg_check_bound(tg_check *check, int64_t until, const char *fmt, ...)
{
	char text[TG_CHECK_TEXT_MAX];
	va_list ap;

	if (until >= check->until || until > TG_TIME_TEXT_MAX_S)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	free(check->until_why);
	check->until_why = tg_strdup(text);
	check->until = until;
}

int64_t tg_check_valid_until(const tg_check *check, const char **why_out)
{
	if (why_out)
		*why_out = check->until_why;
	return check->until;
}

const char *tg_check_name(const tg_check *check)
{
	return check->name;
}

bool tg_check_passed(const tg_check *check)
{
	return check->passed;
}

size_t tg_check_reason_count(const tg_check *check)
{
	return check->nreasons;
}

const char *tg_check_reason(const tg_check *check, size_t i)
{
	return i < check->nreasons ? check->reasons[i] : NULL;
}

size_t tg_check_note_count(const tg_check *check)
{
	return check->nnotes;
}

const char *tg_check_note_at(const tg_check *check, size_t i)
{
	return i < check->nnotes ? check->notes[i] : NULL;
}

json_t *tg_check_evidence(const tg_check *check)
{
	return check->evidence;
}

static json_t *str_list_json(char **list, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

json_t *tg_check_to_json(const tg_check *check)
{
	json_t *o = json_object();

	json_object_set_new(o, "check", json_string(check->name));
	json_object_set_new(o, "passed", json_boolean(check->passed));
	json_object_set_new(o, "reasons",
	                    str_list_json(check->reasons, check->nreasons));
	json_object_set_new(o, "notes",
	                    str_list_json(check->notes, check->nnotes));
	json_object_set(o, "evidence", check->evidence);
	return o;
}
